"""The explorer's page draws η's pictures itself from the kernel's sketch
(gdviz/explorer/page_drawing.py, gdviz/static/browser_cache.js), in JupyterLab in headless
Chromium.

The notebook's explorer sends its sketch when "Run all" is done, and no picture ahead. Then the
kernel's pictures are switched off with a button, so that every picture that comes can only
be the page's own: a key press and a mouse drag to values never drawn must show pictures of
those values, with the readout of those values. Then the kernel is switched on again and draws
the same values: its readout must be the page's word for word, and its picture the page's but
for the anti-aliasing of lines that lie a fraction of a pixel apart.
"""
from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jlab_harness as h  # noqa: E402

pytestmark = pytest.mark.browser

NOTEBOOK = "_gdviz_harness_/page_drawing.ipynb"

SETUP = """
from gdviz.explorer import explore
explorer = explore(["SGD", "Momentum"], steps=40, lr=0.95)
explorer._prefetch_plan = lambda moved=None: iter(())   # drawing ahead sends the sketch alone
explorer
"""

# switch the kernel's pictures off (from then on only the page can change them), and on again
SWITCH = """
import ipywidgets as widgets
from gdviz.explorer.wiring import Explorer
switch = widgets.ToggleButton(description="kernel draws")
switch.add_class("gdviz-test-switch")
def flip(change):
    if change["new"]:
        explorer.update = lambda: None
        explorer.browser.on_want = None     # nor the pictures a held handle asks for
        sent = explorer.browser.sketch_key is not None
        switch.description = f"kernel stopped (sketch sent: {sent})"
    else:
        del explorer.update
        explorer.browser.on_want = explorer.draw_for_page
        explorer.update()
        switch.description = "kernel draws again"
switch.observe(flip, names="value")
switch
"""

# The picture shown: the page's own canvas where it is shown in the <img>'s place, else the <img>.
JS_IMAGE_BYTES = """async (img) => {
  const canvas = img.nextElementSibling;
  const drawn = canvas && canvas.classList.contains('gdviz-page-drawn') && canvas.style.display !== 'none';
  const url = drawn ? canvas.toDataURL('image/png') : img.src;
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(text);
}"""


@pytest.fixture
def session(jupyterlab, notebook_session):
    jupyterlab.add_notebook_json(h.code_notebook(SETUP, SWITCH), NOTEBOOK)
    session = notebook_session(NOTEBOOK)
    session.run_all()
    return session


def switch(session, expect: str) -> str:
    button = session.page.locator(".gdviz-test-switch").first
    button.click()
    session.page.wait_for_function(
        "([text]) => [...document.querySelectorAll('.gdviz-test-switch')].some(b => b.textContent.includes(text))",
        arg=[expect], timeout=10_000)
    return (button.text_content() or "").strip()


def shown(session, explorer) -> dict:
    img = session.explorer_image(explorer)
    return {"png": base64.b64decode(img.evaluate(JS_IMAGE_BYTES)),
            "readout": session.explorer_state(explorer)["readout"]}


def wait_for_new_picture(session, explorer, before: bytes, timeout_ms: float = 8000) -> dict:
    img = session.explorer_image(explorer)
    session.page.wait_for_timeout(100)
    for _ in range(int(timeout_ms / 100)):
        now = shown(session, explorer)
        if now["png"] != before and img.evaluate("el => el.complete"):
            session.page.wait_for_timeout(300)       # and let anything later arrive
            return shown(session, explorer)
        session.page.wait_for_timeout(100)
    raise AssertionError("no new picture came")


def wait_for_kernel_picture(session, explorer, readout: str, timeout_ms: float = 8000) -> dict:
    """The kernel's picture with this readout, once shown (the page's own may come first)."""
    img = session.explorer_image(explorer)
    for _ in range(int(timeout_ms / 100)):
        session.page.wait_for_timeout(100)
        if img.is_visible() and img.evaluate("el => el.complete"):
            now = shown(session, explorer)
            if now["readout"] == readout:
                return now
    raise AssertionError(f"the kernel's picture of {readout!r} did not come")


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def assert_alike(page_png: bytes, kernel_png: bytes, name: str) -> None:
    """The page's picture is the kernel's but for anti-aliasing (and the kernel's 256 colours:
    every pixel may be a few levels off). Both are kept in artifacts/ to look at."""
    h.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (h.SCREENSHOTS / f"page_drawn_{name}.png").write_bytes(page_png)
    (h.SCREENSHOTS / f"page_drawn_{name}_kernel.png").write_bytes(kernel_png)
    page, own = pixels(page_png), pixels(kernel_png)
    assert page.shape == own.shape
    gap = np.abs(page - own).max(axis=2)
    assert (gap > 32).mean() < 0.01, f"{name}: {(gap > 32).mean():.2%} of the page's pixels differ from the kernel's"
    assert gap.mean() < 2, f"{name}: the page's pixels differ from the kernel's by {gap.mean():.1f} levels on average"


def test_values_never_drawn_by_the_kernel_are_drawn_by_the_page_from_its_sketch(session):
    explorer = session.explorer(0)
    slider, _ = session.eta_slider(explorer)
    slider.evaluate("s => s.scrollIntoView({block: 'center'})")
    session.page.wait_for_timeout(1500)             # "Run all" done: the sketch goes
    said = switch(session, "kernel stopped")
    assert "sketch sent: True" in said, said
    first = shown(session, explorer)
    img = session.explorer_image(explorer)

    def place(element) -> dict:         # where it is in the explorer, and how large
        return element.evaluate("""(el) => {
          const box = el.getBoundingClientRect(), root = el.closest('.gdviz-explorer').getBoundingClientRect();
          return [box.left - root.left, box.top - root.top, box.width, box.height].map(Math.round);
        }""")
    where = place(img)

    # a key: the next η, never drawn, and the kernel is off: only the page can draw it, on a
    # canvas in the picture's place, as large
    session.slider_handle(slider).focus()
    session.page.keyboard.press("ArrowLeft")
    by_key = wait_for_new_picture(session, explorer, first["png"])
    canvas = explorer.locator("canvas.gdviz-page-drawn").first
    assert canvas.is_visible() and not img.is_visible()
    assert place(canvas) == where
    key_value = session.slider_value(slider).split("|")[-1]
    assert f"η = {key_value} " in by_key["readout"], (key_value, by_key["readout"])

    # both η at their far end: both runs diverge, with their notes and the loss panel's words
    # in two rows
    momentum = next(s for s, label in session.sliders(explorer) if label.startswith("η · Momentum"))
    session.page.keyboard.press("End")
    by_end = wait_for_new_picture(session, explorer, by_key["png"])
    assert by_end["readout"].count("diverged") == 1
    session.slider_handle(momentum).focus()
    session.page.keyboard.press("End")
    by_end = wait_for_new_picture(session, explorer, by_end["png"])
    assert by_end["readout"].count("diverged") == 2, by_end["readout"]

    # a drag with the mouse to a value far off, released while moving
    box = session.slider_handle(slider).bounding_box()
    track = session._track(slider).bounding_box()
    session.paced_drag(slider, (box["x"] - track["x"]) / track["width"] - 0.25, rest_ms=0)
    by_drag = wait_for_new_picture(session, explorer, by_end["png"])
    drag_value = session.slider_value(slider).split("|")[-1]
    assert drag_value != key_value
    assert f"η = {drag_value} " in by_drag["readout"], (drag_value, by_drag["readout"])

    # the kernel again: its picture and readout of the value the drag ended on, in the <img>
    switch(session, "kernel draws again")
    kernel = wait_for_new_picture(session, explorer, by_drag["png"])
    assert img.is_visible() and not canvas.is_visible()
    assert kernel["readout"] == by_drag["readout"]
    assert_alike(by_drag["png"], kernel["png"], "drag")
    session.slider_handle(slider).focus()            # and the far end's, where both diverged
    session.page.keyboard.press("End")
    kernel_end = wait_for_kernel_picture(session, explorer, by_end["readout"])
    assert_alike(by_end["png"], kernel_end["png"], "end")
    errors = session.inspect()
    assert not errors["pageErrors"] and not errors["consoleErrors"], errors
