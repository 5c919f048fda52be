"""The explorer's pictures kept in the page (gdviz/explorer/browser.py), in JupyterLab in
headless Chromium: a value seen before shows its picture without the kernel.

The notebook's explorer is moved with the keyboard over a few η values, as a student would;
each picture is recorded (its bytes, its readout). Then the kernel's updates are switched off
with a button in the notebook, and the same values are visited again: the pictures that come
now can only come from the page, and they must be byte for byte the kernel's pictures of those
values, readout included. A value never drawn gets nothing from the page (the picture stays).
The same holds while the handle is dragged with the mouse, before it is released: the picture
follows the handle over the values kept, and a release where nothing is kept (the kernel
stopped) shows again what was shown before the drag.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jlab_harness as h  # noqa: E402

pytestmark = pytest.mark.browser

NOTEBOOK = "_gdviz_harness_/browser_cache.ipynb"

SETUP = """
from gdviz.explorer import explore
explorer = explore("SGD", steps=40, lr=0.95)
explorer.prefetch = lambda moved=None: None    # no drawing ahead: the page keeps what is visited
explorer
"""

# a button that switches the kernel's pictures off: from then on only the page can change them
FREEZE = """
import ipywidgets as widgets
freeze = widgets.Button(description="kernel: stop drawing")
freeze.add_class("gdviz-test-freeze")
def stop(_):
    explorer.update = lambda: None
    explorer.browser.on_want = None     # nor the pictures a held handle asks for
    freeze.description = "kernel stopped"
freeze.on_click(stop)
freeze
"""


@pytest.fixture
def session(jupyterlab, notebook_session):
    jupyterlab.add_notebook_json(h.code_notebook(SETUP, FREEZE), NOTEBOOK)
    session = notebook_session(NOTEBOOK)
    session.run_all()
    return session


def shown(session, explorer) -> dict:
    img = session.explorer_image(explorer)
    return {"digest": img.evaluate(h.JS_IMAGE_DIGEST),
            "readout": session.explorer_state(explorer)["readout"]}


def press(session, slider, key: str, *, expect_change: bool, timeout_ms: float = 8000) -> None:
    """Press a key on the slider's handle; wait for the picture to change (or for a moment)."""
    img = session.explorer_image(session.explorer(0))
    before = img.get_attribute("src")
    session.slider_handle(slider).focus()
    session.page.keyboard.press(key)
    if expect_change:
        session.page.wait_for_function("([el, src]) => el.src !== src && el.complete",
                                       arg=[img.element_handle(), before], timeout=timeout_ms)
    session.page.wait_for_timeout(400)      # and let anything later arrive


def test_values_seen_before_show_their_pictures_from_the_page(session):
    explorer = session.explorer(0)
    slider, label = session.eta_slider(explorer)
    assert slider is not None, "no η slider"
    session.explorer_image(explorer).scroll_into_view_if_needed()
    seen = {session.slider_value(slider): shown(session, explorer)}
    for _ in range(2):                               # two values to the right, drawn by the kernel
        press(session, slider, "ArrowRight", expect_change=True)
        seen[session.slider_value(slider)] = shown(session, explorer)
    assert len({s["digest"] for s in seen.values()}) == 3, "each η value should have its own picture"

    freeze_kernel(session)

    for _ in range(2):                               # back over the values seen: from the page
        press(session, slider, "ArrowLeft", expect_change=True)
        value = session.slider_value(slider)
        assert value in seen, f"slider at {value}, not a value visited before"
        assert shown(session, explorer) == seen[value], \
            f"η {value.split('|')[-1]}: the page showed another picture or readout than the kernel drew"

    before = shown(session, explorer)                # a value never drawn: nothing to show
    press(session, slider, "ArrowLeft", expect_change=False)
    assert shown(session, explorer) == before
    errors = session.inspect()
    assert not errors["pageErrors"] and not errors["consoleErrors"], errors


def freeze_kernel(session) -> None:
    session.page.locator(".gdviz-test-freeze").first.click()
    session.page.wait_for_function(
        "() => [...document.querySelectorAll('.gdviz-test-freeze')].some(b => b.textContent.includes('stopped'))",
        timeout=10_000)


def index_of(value: str) -> int:
    return int(round(float(value.split("|")[0])))


def test_while_the_handle_is_dragged_the_picture_follows_it_from_the_page(session):
    explorer = session.explorer(0)
    slider, _ = session.eta_slider(explorer)
    session.explorer_image(explorer).scroll_into_view_if_needed()
    seen = {index_of(session.slider_value(slider)): shown(session, explorer)}
    for _ in range(6):                               # six values to the left, drawn by the kernel
        press(session, slider, "ArrowLeft", expect_change=True)
        seen[index_of(session.slider_value(slider))] = shown(session, explorer)
    start = index_of(session.slider_value(slider))
    assert sorted(seen) == list(range(start, start + 7))
    freeze_kernel(session)

    slider.evaluate("s => s.scrollIntoView({block: 'center'})")     # not under the toolbar
    session.page.wait_for_timeout(200)
    box = session.slider_handle(slider).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # η's grid has more values than the track has pixels: the mouse reaches most, not all, so
    # the handle is moved a quarter pixel at a time and each value it stops on is checked
    session.page.mouse.move(x, y)
    session.page.mouse.down()
    checked = set()
    while index_of(session.slider_value(slider)) < start + 6 and x < box["x"] + 40:
        x += 0.25
        session.page.mouse.move(x, y)
        index = index_of(session.slider_value(slider))
        if index in seen and index not in checked and index != start:
            session.page.wait_for_timeout(150)
            assert shown(session, explorer) == seen[index], \
                f"while dragged over index {index}, the page did not show that value's picture"
            checked.add(index)
    assert len(checked) >= 3, f"the drag passed only {sorted(checked)} of {sorted(seen)}"
    while index_of(session.slider_value(slider)) <= start + 6:   # on, to values never drawn
        x += 1
        session.page.mouse.move(x, y)
    session.page.wait_for_timeout(300)
    last = shown(session, explorer)                  # the last value passed that is kept
    assert last in seen.values() and last != seen[start]
    session.page.mouse.move(x + 3, y)                # further, over more values never drawn
    session.page.wait_for_timeout(300)
    assert index_of(session.slider_value(slider)) > start + 7
    assert shown(session, explorer) == last, "a value never drawn changed the picture"
    session.page.mouse.up()                          # released there: nothing kept, kernel off
    session.page.wait_for_timeout(400)
    assert index_of(session.slider_value(slider)) > start + 7
    assert shown(session, explorer) == seen[start], "the picture from before the drag should be back"
    errors = session.inspect()
    assert not errors["pageErrors"] and not errors["consoleErrors"], errors


def test_where_the_held_handle_rests_the_kernel_draws_its_picture_before_the_release(session):
    """Over values never drawn, the page asks the kernel for the picture under the hand: when
    the hand rests, it comes while the handle is still held, and the release changes nothing."""
    explorer = session.explorer(0)
    slider, _ = session.eta_slider(explorer)
    slider.evaluate("s => s.scrollIntoView({block: 'center'})")
    session.page.wait_for_timeout(200)
    before = shown(session, explorer)
    box = session.slider_handle(slider).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    session.page.mouse.move(x, y)
    session.page.mouse.down()
    session.page.mouse.move(x - 30, y, steps=10)     # to values never drawn (no drawing ahead)
    label = session.slider_value(slider).split("|")[-1]
    session.page.wait_for_timeout(800)               # the hand rests
    held = shown(session, explorer)
    assert held != before, "no picture came while the handle was held"
    assert f"η = {label}" in held["readout"], (label, held["readout"])
    session.page.mouse.up()
    session.page.wait_for_timeout(600)
    assert shown(session, explorer) == held, "the release changed the picture the hand rested on"
    errors = session.inspect()
    assert not errors["pageErrors"] and not errors["consoleErrors"], errors


@pytest.fixture(scope="module")
def jupyterlab_without_anywidget(tmp_path_factory, browser):
    """A JupyterLab whose server lacks anywidget's front end (as when the kernel's environment
    has gdviz[lab] but the server's has not): its extension disabled in the page config."""
    server = h.JupyterLabServer(tmp_path_factory.mktemp("jupyterlab-no-anywidget"))
    page_config = Path(server.env()["JUPYTER_CONFIG_DIR"]) / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    page_config.write_text('{"disabledExtensions": {"anywidget": true}}')
    server.add_notebook_json(h.code_notebook(SETUP), NOTEBOOK)
    yield from h.serving(server)


def test_without_its_front_end_nothing_shows_and_the_kernel_draws_every_move(
        jupyterlab_without_anywidget, browser_context):
    session = h.NotebookSession(jupyterlab_without_anywidget, browser_context, NOTEBOOK)
    try:
        session.open()
        session.run_all()
        explorer = session.explorer(0)
        slider, _ = session.eta_slider(explorer)
        session.explorer_image(explorer).scroll_into_view_if_needed()
        before = shown(session, explorer)
        press(session, slider, "ArrowRight", expect_change=True)     # drawn by the kernel
        assert shown(session, explorer) != before
        visible = session.page.locator(".jp-OutputArea").first.inner_text()
        assert "Error" not in visible and "anywidget" not in visible, visible
        assert not session.inspect()["pageErrors"]
    finally:
        session.close()
