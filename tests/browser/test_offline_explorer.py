"""A saved notebook read without a kernel (nbconvert's HTML, opened offline in headless
Chromium) shows the explorer as its replay (gdviz/explorer/offline.py): the η slider and Play
work, replayed by the animation player's JavaScript from runs computed in advance; without
JavaScript, a still picture with a line saying the sliders need a running kernel.

Both ways a notebook is saved: without the widgets' state (JupyterLab's default; nbconvert
then falls back to the explorer's text/html) and with it ("Save widget state", or nbconvert
--execute with the state; nbconvert then renders the widget view, which needs the widget
scripts from a CDN and stays blank offline). Expected values come from gdviz.run at the η
the page shows, and pixel positions from the axes found in the background image.
"""
from __future__ import annotations

import base64
import io
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import jlab_harness as h  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOT = Path(os.environ.get("GDVIZ_ARTIFACTS", h.ROOT / "artifacts")) / "screenshots"
SOURCE = "from gdviz.explorer import explore\nexplore('SGD', steps=40, lr=0.95)"


@pytest.fixture(scope="module", params=[False, True], ids=["without-widget-state", "with-widget-state"])
def notebook_html(request, tmp_path_factory) -> tuple[Path, bool]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    tmp_path = tmp_path_factory.mktemp("offline")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE)]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=request.param,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert ("widgets" in nb.metadata) == request.param
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "explorer.html"
    path.write_text(page, encoding="utf-8")
    return path, request.param


def offline_page(browser, path: Path, *, javascript: bool = True):
    """The page in a fresh offline context: anything not in the file itself (the widget
    scripts on the CDN, fonts) is refused. Returns (context, page, JS errors)."""
    context = browser.new_context(viewport=h.VIEWPORT, offline=True, java_script_enabled=javascript)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("file:", "data:")) else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    return context, page, errors


def test_without_javascript_a_still_picture_says_why_the_sliders_do_not_move(browser, notebook_html):
    from gdviz.explorer import OFFLINE_NOTE
    path, with_state = notebook_html
    context, page, _ = offline_page(browser, path, javascript=False)
    try:
        assert not page.locator(".gdviz-explorer-replay").is_visible()
        if with_state:          # nbconvert chose the widget view: nothing of the fallback
            assert page.locator(".gdviz-explorer-offline").count() == 0
            return
        still = page.locator(".gdviz-explorer-offline img")
        assert still.count() == 1
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=still.element_handle(), timeout=10_000)
        assert still.is_visible()
        box = still.bounding_box()
        assert box["width"] > 300 and box["height"] > 100
        text = page.locator(".gdviz-explorer-offline").inner_text()
        assert OFFLINE_NOTE in " ".join(text.split())
        assert "η = 0.95" in text and "SGD: loss" in text
        SCREENSHOT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT / "offline_explorer.png"), full_page=True)
    finally:
        context.close()


def drag(page, slider, fraction: float, moves: int = 12) -> None:
    """Press the mouse on the range input's thumb and drag it to ``fraction`` of the track."""
    box = slider.bounding_box()
    value, top = slider.evaluate("s => [Number(s.value), Number(s.max)]")
    thumb = 8                                       # Chromium's thumb is ~16 px wide
    track = box["width"] - 2 * thumb
    x0, y = box["x"] + thumb + track * value / top, box["y"] + box["height"] / 2
    x1 = box["x"] + thumb + track * fraction
    page.mouse.move(x0, y)
    page.mouse.down()
    for k in range(1, moves + 1):
        page.mouse.move(x0 + (x1 - x0) * k / moves, y)
    page.mouse.up()


def canvas_pixels(page) -> np.ndarray:
    data = page.eval_on_selector(".gdviz-explorer-replay canvas", "c => c.toDataURL('image/png')")
    from PIL import Image
    image = Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))).convert("RGBA")
    return np.asarray(image, dtype=int)


def contour_box(page) -> tuple[float, float, float, float]:
    """The contour axes' box in image pixels, found in the replay's background image."""
    from PIL import Image
    from test_animation import axes_box
    src = page.get_attribute(".gdviz-explorer-replay .gdviz-stage img", "src")
    gray = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L"),
                      dtype=float)
    return axes_box(gray, slice(0, int(0.6 * len(gray))))


def head_is_drawn_at(canvas: np.ndarray, point, color: str, box, surface, scale: int) -> bool:
    """Is there a pixel of ``color`` on the canvas within 2 px of the data point ``point``?"""
    left, top, right, bottom = box
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    px = left + (point[0] - x0) / (x1 - x0) * (right - left)
    py = bottom - (point[1] - y0) / (y1 - y0) * (bottom - top)
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    r = 2 * scale
    patch = canvas[int(py * scale) - r:int(py * scale) + r + 1, int(px * scale) - r:int(px * scale) + r + 1]
    return bool(((np.abs(patch[..., :3] - rgb).max(-1) <= 12) & (patch[..., 3] > 200)).any())


def readout(page) -> tuple[str, str]:
    row = page.locator(".gdviz-explorer-replay .gdviz-variant-row")
    return row.locator(".gdviz-variant-value").inner_text(), row.locator(".gdviz-variant-readout").inner_text()


def test_the_replay_responds_to_a_mouse_drag_on_eta_and_plays(browser, notebook_html):
    import gdviz
    from gdviz.explorer import log_grid
    from gdviz.explorer.offline import REPLAY_NOTE
    from gdviz.plotting import optimizer_color
    path, with_state = notebook_html
    context, page, errors = offline_page(browser, path)
    try:
        replay = page.locator(".gdviz-explorer-replay")
        page.wait_for_function("() => document.querySelector('.gdviz-explorer-replay .gdviz-player.gdviz-ready')",
                               timeout=10_000)
        assert replay.is_visible() and replay.get_attribute("data-shown") == "1"
        assert REPLAY_NOTE in " ".join(replay.inner_text().split())
        # what it stands in for is hidden: the still picture, or (the state saved) the widget
        # view, which has no kernel behind it
        stills = page.locator(".gdviz-explorer-offline")
        assert stills.count() == (0 if with_state else 1)
        assert not (stills.count() and stills.first.is_visible())
        views = page.locator(".jp-OutputArea-child:has(script[type='application/vnd.jupyter.widget-view+json'])")
        assert views.count() == (1 if with_state else 0)
        if with_state:          # (offline it is blank anyway: ask for the style, not the size)
            assert views.first.evaluate("e => getComputedStyle(e).display") == "none"
        assert readout(page) == ("0.95", gdviz.run("SGD", steps=40, lr=0.95).message)

        # the η the explorer offers: its slider's grid, two significant digits over the range
        lr = next(hp for hp in gdviz.optimizer_class("SGD").hyperparameters if hp.name == "lr")
        grid = log_grid(*lr.slider, keep=(0.95, lr.default))
        surface = gdviz.get_surface("elongated_bowl")
        box = contour_box(page)
        scale = json.loads(page.inner_text(".gdviz-explorer-replay script.gdviz-data"))["scale"]
        page.evaluate("""() => {
            const root = document.querySelector('.gdviz-explorer-replay .gdviz-player');
            window.gdvizLatency = [];
            root.addEventListener('input', (event) => {          // capture: before the player
                if (!event.target.classList.contains('gdviz-variant')) return;
                // the player draws in its own listener (after this one, in the capture phase);
                // the frame is painted after the next animation-frame callbacks: a task queued
                // from one runs once that frame is out
                const t0 = performance.now();
                requestAnimationFrame(() => setTimeout(
                    () => window.gdvizLatency.push(performance.now() - t0), 0));
            }, true);
        }""")
        slider = replay.locator("input.gdviz-variant")
        before = canvas_pixels(page)
        for fraction, name in ((0.45, "converging"), (0.97, "diverged")):
            drag(page, slider, fraction)
            page.wait_for_timeout(100)
            text, result = readout(page)
            eta = float(text)
            assert eta in grid and int(slider.input_value()) == grid.index(eta)
            run = gdviz.run("SGD", steps=40, lr=eta)
            assert result == ("✕ " if run.diverged else "") + run.message, name
            after = canvas_pixels(page)
            assert (np.abs(after - before).max(-1) > 60).sum() > 200, f"the canvas did not change ({name})"
            before = after
            if run.diverged:
                assert page.inner_text(".gdviz-explorer-replay .gdviz-status") == \
                    f"✕ SGD diverged at step {run.diverged_at}"
            else:
                assert head_is_drawn_at(after, run.points[-1], optimizer_color("SGD"), box, surface, scale)
            SCREENSHOT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT / f"offline_replay_{'state' if with_state else 'nostate'}_{name}.png"),
                            full_page=True)
        latency = page.evaluate("window.gdvizLatency")
        assert len(latency) >= 10          # every mouse move that changed η was drawn
        print(json.dumps({"with_widget_state": with_state, "drag_to_painted_ms_median":
                          round(statistics.median(latency), 2), "max": round(max(latency), 2),
                          "n": len(latency)}))

        # Play runs the frames from the start
        root = replay.locator(".gdviz-player")
        n = int(root.get_attribute("data-n-frames"))
        assert root.get_attribute("data-frame") == str(n - 1)
        replay.locator("button.gdviz-play").click()
        page.wait_for_function("(r) => Number(r.getAttribute('data-frame')) > 0 && "
                               "Number(r.getAttribute('data-frame')) < " + str(n - 1),
                               arg=root.element_handle(), timeout=5_000)
        replay.locator("button.gdviz-play").click()
        assert not errors, errors
    finally:
        context.close()


def test_in_live_jupyterlab_the_replay_hides_beside_the_widget_and_shows_when_reopened_without_it(
        jupyterlab, notebook_session):
    """Live: only the widget (no second picture). Saved, closed and reopened (a new kernel: the
    widget's model is gone): the replay stands in after a few seconds."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE)]
    path = jupyterlab.add_notebook_json(json.loads(nbformat.writes(nb)), "gdviz-offline/live.ipynb")
    session = notebook_session(path)
    session.run_all()
    page = session.page
    explorer = page.locator(".gdviz-explorer")
    explorer.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(3500)                 # past the companion's wait for a widget
    companion = page.locator(".gdviz-explorer-replay")
    assert companion.count() == 1
    assert companion.get_attribute("data-shown") == "0" and not companion.is_visible()
    assert page.locator(".gdviz-explorer-offline").count() == 0     # JupyterLab shows the view
    # the replay stays an inert <template>: no player set up, none counted on the page
    assert page.locator(".gdviz-player").count() == 0
    SCREENSHOT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT / "offline_replay_live_jupyterlab.png"))
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    assert not session.page_errors, session.page_errors
    session.close()

    reopened = notebook_session(path)
    page = reopened.page
    page.wait_for_selector(".gdviz-explorer-replay", state="attached", timeout=30_000)
    page.wait_for_function("() => document.querySelector('.gdviz-explorer-replay')"
                           ".getAttribute('data-shown') === '1'", timeout=15_000)
    replay = page.locator(".gdviz-explorer-replay")
    assert replay.is_visible() and replay.locator(".gdviz-player.gdviz-ready").count() == 1
    assert page.locator(".gdviz-explorer").count() == 0         # no live widget without its model
    page.screenshot(path=str(SCREENSHOT / "offline_replay_reopened_jupyterlab.png"))


def test_in_jupyterlab_an_untrusted_saved_notebook_shows_no_second_picture(jupyterlab, notebook_session,
                                                                          tmp_path):
    """A notebook saved elsewhere with its outputs (not signed here: untrusted, so no script
    runs and the HTML is sanitized), opened in JupyterLab: JupyterLab shows the bundle's
    text/html (the still picture and why the sliders do not move) and the companion, whose
    replay needs its script, stays hidden."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE)]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    name = "gdviz-offline/untrusted.ipynb"
    target = jupyterlab.root_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(nb), encoding="utf-8")
    session = notebook_session(name)
    page = session.page
    page.wait_for_selector(".jp-OutputArea-output", timeout=30_000)
    page.wait_for_timeout(4000)
    shown = page.evaluate("""() => {
        const replay = document.querySelector('.gdviz-explorer-replay');
        const still = document.querySelector('.gdviz-explorer-offline');
        const visible = (e) => !!e && e.getBoundingClientRect().height > 0 &&
                               getComputedStyle(e).display !== 'none';
        return {replay: visible(replay), still: visible(still),
                scripts: document.querySelectorAll('.jp-OutputArea-output script').length};
    }""")
    SCREENSHOT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT / "offline_replay_untrusted_jupyterlab.png"))
    print(json.dumps(shown))
    assert shown["scripts"] == 0 and shown["still"]
    assert not shown["replay"], "the replay (which needs its script) showed without it"
