"""A saved notebook read without a kernel (nbconvert's HTML, opened offline in headless
Chromium) shows the explorer as a still picture with a line saying the sliders need a
running kernel (the explorer's text/html fallback; gdviz/explorer/wiring.py).

The notebook is saved as JupyterLab saves it by default: without the widgets' state (with
it, nbconvert renders the widget view instead, which needs the widget scripts from a CDN).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import jlab_harness as h  # noqa: E402

pytestmark = pytest.mark.browser

SCREENSHOT = Path(os.environ.get("GDVIZ_ARTIFACTS", h.ROOT / "artifacts")) / "screenshots"


def executed_notebook_html(tmp_path: Path) -> Path:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from gdviz.explorer import explore\n"
                                          "explore('SGD', steps=40, lr=0.95)")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "explorer.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_offline_reader_sees_a_still_picture_and_why_the_sliders_do_not_move(browser, tmp_path):
    from gdviz.explorer import OFFLINE_NOTE
    path = executed_notebook_html(tmp_path)
    context = browser.new_context(viewport=h.VIEWPORT, offline=True)
    page = context.new_page()
    # offline: anything not in the file itself (CDN scripts, fonts) is refused
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("file:", "data:")) else route.abort())
    try:
        page.goto(path.as_uri(), wait_until="load")
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
