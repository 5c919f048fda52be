"""One description, two renderers: the scene the live explorer draws with Pillow
(gdviz/scene.py's Compositor, the GIF's) is drawn by the animation player's JavaScript
(gdviz/static/player.js) in headless Chromium, and the two pictures agree.

The page is the plain player made from the explorer's scene and background, opened offline
from a file; the canvas (2 × 2 pixels per picture pixel) is put over the background and
reduced, then compared with the explorer's own picture pixel by pixel. The two draw lines
with different anti-aliasing, so the comparison allows that much and no more: where each
optimizer's colour is, and where the background was let through (the legend inside the loss
panel, the scene's ``on_top``).
"""
from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import jlab_harness as h  # noqa: E402

pytestmark = pytest.mark.browser

CASES = {
    "SGD": dict(optimizer="SGD", steps=40, lr=0.95),
    "diverged": dict(optimizer=["SGD", "Momentum"], steps=30, lr=1.2, momentum=0.9),
    "AdamW, outlined": dict(optimizer=["Adam", "AdamW"], surface="himmelblau", steps=60, lr=0.1),
}


def player_page(explorer, path: Path) -> Path:
    from gdviz.animation import Player
    view = explorer.view
    buffer = io.BytesIO()
    view.background.save(buffer, format="png")
    player = Player(view.scene, buffer.getvalue(), fps=10, note="", projector=False,
                    description="the explorer's scene")
    path.write_text(f"<!doctype html><meta charset=utf-8><body>{player.to_html()}</body>",
                    encoding="utf-8")
    return path


def drawn_by_the_page(browser, path: Path, background) -> np.ndarray:
    from PIL import Image
    context = browser.new_context(viewport=h.VIEWPORT, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_function("() => document.querySelector('.gdviz-player').gdvizPlayer",
                               timeout=10_000)
        page.wait_for_timeout(300)           # sprites (notes) decode, then the frame is redrawn
        data = page.eval_on_selector("canvas.gdviz-canvas", "c => c.toDataURL('image/png')")
    finally:
        context.close()
    assert errors == []
    canvas = np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1])))
                        .convert("RGBA"), dtype=float)
    scale = canvas.shape[0] // background.height
    under = np.asarray(background, dtype=float).repeat(scale, 0).repeat(scale, 1)
    alpha = canvas[..., 3:] / 255
    over = canvas[..., :3] * alpha + under * (1 - alpha)
    height, width = background.height, background.width
    return over.reshape(height, scale, width, scale, 3).mean(axis=(1, 3))


def near(rgb: np.ndarray, colour, tolerance: float = 60) -> np.ndarray:
    return np.abs(rgb - np.asarray(colour, dtype=float)).sum(-1) < tolerance


@pytest.mark.parametrize("case", list(CASES))
def test_the_page_draws_the_explorers_scene_as_pillow_does(browser, tmp_path, case):
    from matplotlib import colors

    from gdviz import plotting
    from gdviz.explorer import explore
    explorer = explore(**CASES[case])
    try:
        pillow = np.asarray(explorer.view.image(), dtype=float)
        page = drawn_by_the_page(browser, player_page(explorer, tmp_path / "scene.html"),
                                 explorer.view.background)
        background = np.asarray(explorer.view.background, dtype=float)
        names = explorer.optimizers
    finally:
        explorer.close()
    changed = np.abs(pillow - background).sum(-1) > 30
    assert changed.sum() > 300                          # there is something to compare
    error = np.abs(page - pillow).sum(-1)
    assert np.median(error[changed]) < 60               # the same picture, up to anti-aliasing
    assert (error > 150).mean() < 0.01
    for name in names:                                  # each run's colour, in the same places
        colour = np.array(colors.to_rgb(plotting.optimizer_color(name))) * 255
        a, b = near(pillow, colour), near(page, colour)
        assert a.sum() > 50
        assert (a & b).sum() > 0.6 * min(a.sum(), b.sum()), name
