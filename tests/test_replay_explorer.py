"""The explorer's replay for readers without a kernel (gdviz/explorer/offline.py): displaying an
explorer sends its bundle and then a companion output with the replay of its current settings
(every η of its own sliders, the other settings fixed); Colab gets no companion.

Expected values come from gdviz.run at each η and from the explorer's own sliders.
"""
import re
import sys

import numpy as np
import pytest

import gdviz
from gdviz.explorer import explore
from gdviz.explorer.offline import REPLAY_CLASS, REPLAY_NOTE, companion_html, explorer_replay

from test_animation import scene_of


@pytest.fixture
def explorer():
    made = explore(["Momentum", "Adam"], "rosenbrock", steps=25, lr=0.003, momentum=0.8, noise=0.1,
                   seed=4)
    yield made
    made.close()


def test_the_replay_is_the_explorer_at_its_settings_with_every_eta_of_its_sliders(explorer):
    explorer.hyperparameter_sliders["Adam"]["lr"].value = 0.05
    explorer.hyperparameter_sliders["Adam"]["beta1"].value = 0.7
    player = explorer_replay(explorer)
    for name in ("Momentum", "Adam"):
        grid = explorer.hyperparameter_sliders[name]["lr"].grid
        assert tuple(player.lrs[name]) == grid
        chosen = player.chosen[name]
        assert grid[chosen] == explorer.hyperparameters(name)["lr"]
        shown = explorer.trajectories[explorer.optimizers.index(name)]
        replayed = player.variants[name][chosen]
        np.testing.assert_allclose(replayed.points, shown.points, rtol=1e-12)
        # another η: gdviz.run with the explorer's other settings (noise and seed too)
        other = player.variants[name][len(grid) // 3]
        settings = {**explorer.hyperparameters(name), "lr": grid[len(grid) // 3]}
        want = gdviz.run(name, "rosenbrock", explorer.start, 25, noise=0.1, seed=4, **settings)
        np.testing.assert_allclose(other.points, want.points, rtol=1e-12)
        assert other.message == want.message


def displayed(explorer, monkeypatch) -> list[dict]:
    """What displaying the explorer sends, output by output."""
    import IPython.display
    sent = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: sent.append(data))
    explorer._ipython_display_()
    return sent


def test_displaying_an_explorer_sends_its_bundle_then_the_companion(explorer, monkeypatch):
    bundle, companion = displayed(explorer, monkeypatch)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert "gdviz-explorer-offline" in bundle["text/html"]            # the still picture, for no JS
    assert set(companion) == {"text/html"}
    page = companion["text/html"]
    assert page.startswith(f'<div class="{REPLAY_CLASS}"') and 'style="display:none"' in page
    assert REPLAY_NOTE in page
    scene = scene_of(page)
    assert [v["optimizer"] for v in scene["variants"]] == ["Momentum", "Adam"]
    assert len(re.findall(r'<input type="range" class="gdviz-variant"', page)) == 2


def test_colab_gets_no_companion(explorer, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", object())
    (bundle,) = displayed(explorer, monkeypatch)
    assert "text/html" in bundle


def test_the_companion_reads_its_replay_note():
    made = explore("SGD", steps=10, lr=0.5)
    try:
        page = companion_html(made)
        assert "the η positions were computed in advance" in page
        assert page.count('class="gdviz-player"') == 1
    finally:
        made.close()


def test_long_runs_replay_every_kth_eta_with_the_current_one():
    from gdviz.explorer.offline import MAX_REPLAY_POINTS, replay_grids
    made = explore("SGD", steps=1000, lr=0.37)
    try:
        slider_grid = made.hyperparameter_sliders["SGD"]["lr"].grid
        grids, every = replay_grids(made)
        assert every == -(-1001 * len(slider_grid) // MAX_REPLAY_POINTS) > 1
        assert grids["SGD"] == list(slider_grid[slider_grid.index(0.37) % every::every])
        assert 0.37 in grids["SGD"]
        page = companion_html(made)
        assert f"one η in every {every} of the slider's is replayed" in page
        assert len(scene_of(page)["variants"][0]["texts"]) == len(grids["SGD"])
    finally:
        made.close()


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs node to parse the JavaScript")
def test_the_companions_script_is_the_package_file_and_parses(tmp_path):
    import subprocess
    from importlib import resources
    made = explore("SGD", steps=5)
    try:
        page = companion_html(made)
    finally:
        made.close()
    script = page.rsplit("<script>", 1)[1].split("</script>")[0]
    assert script.startswith((resources.files("gdviz") / "static" / "offline.js").read_text())
    path = tmp_path / "offline.js"
    path.write_text(script)
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
