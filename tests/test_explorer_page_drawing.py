"""The sketch from which the page draws any η's picture itself (gdviz/explorer/page_drawing.py).

What the page would draw for an η is put together here as browser_cache.js does (the replay's
``_chosen_scene``, then the explorer's own marks and readout) and compared with what the
explorer itself draws when its slider is moved to that η: its own run (``gdviz.run``, not the
vectorized one), its own scene (``gdviz.scene.describe``), its own readout and picture. The
JavaScript half is tested in JupyterLab (tests/browser).
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import test_explorer
from gdviz.explorer.page_drawing import sketch, sketch_readout, sketch_sprites
from gdviz.replay import _chosen_scene
from gdviz.scene import Compositor

explorers = test_explorer.explorers     # the fixture: each test closes the explorers it made

#: The explorers of the notebooks' kinds: one optimizer, two over 200 steps, a 2-D and a 1-D
#: stability map, and two optimizers that both diverge (two rows of words in the loss panel).
KINDS = {
    "one": (("SGD",), {}),
    "two, long": ((["Adam", "AdamW"], "himmelblau"), {"steps": 200, "lr": 0.1}),
    "2-D map": (("Momentum",), {"stability_map": True}),
    "1-D map": (("SGD",), {"stability_map": "lr"}),
    "both diverge": ((["SGD", "Momentum"],), {"lr": 0.9}),
}


def picks_to_try(explorer, made) -> list[list[int]]:
    """η indices: the current ones, the first optimizer's at both ends, in the middle and where
    its runs begin to diverge, and (with two) the second's moved too."""
    now = [made["key"][j] for j in made["eta_controls"]]
    grid = explorer.hyperparameter_sliders[explorer.optimizers[0]]["lr"].grid
    options = made["scene"]["variants"][0]["options"]
    edge = next((i for i, o in enumerate(options) if o["diverged_at"] is not None), len(grid) - 1)
    picks = [now] + [[i, *now[1:]] for i in (0, len(grid) // 2, edge, len(grid) - 1)]
    if len(now) > 1:
        picks += [[now[0] - 5, len(grid) - 1], [len(grid) - 1, len(grid) - 1]]
    return picks


def size_of(png: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(png))).size


def move_to(explorer, picks) -> None:
    for name, i in zip(explorer.optimizers, picks):
        slider = explorer.hyperparameter_sliders[name]["lr"]
        slider.value = slider.grid[i]


def assert_same_points(sketched: list, own: list, tolerance: float = 0.06) -> None:
    """The sketch's pixel coordinates (to 0.1 px; a run that settled ends where it stops
    moving, and the page holds that point) against the explorer's (to 0.01 px)."""
    assert sketched and len(sketched) <= len(own) and len(sketched) % 2 == 0
    held = sketched + sketched[-2:] * ((len(own) - len(sketched)) // 2)
    for a, b in zip(held, own, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert abs(a - b) <= tolerance, (a, b)


@pytest.mark.parametrize("kind", list(KINDS))
def test_what_the_page_draws_from_the_sketch_is_what_the_explorer_draws(explorers, kind):
    args, kwargs = KINDS[kind]
    explorer = explorers(*args, **kwargs)
    made, background = sketch(explorer)
    assert made["key"] == explorer.controls.page_values(explorer.settings())
    controls = [widget for widget, _ in explorer.controls.picture_controls()]
    assert [controls[j] for j in made["eta_controls"]] == [
        explorer.hyperparameter_sliders[name]["lr"] for name in explorer.optimizers]
    two_rows = False
    for picks in picks_to_try(explorer, made):
        scene = _chosen_scene(made["scene"], picks)
        scene["sprites"] += sketch_sprites(made, picks)
        move_to(explorer, picks)
        own = explorer.view.scene
        # the runs: paths and loss curves, where and when they diverged
        assert len(scene["paths"]) == len(own["paths"])
        for path, own_path in zip(scene["paths"], own["paths"]):
            assert path["diverged_at"] == own_path["diverged_at"] and path["note"] == own_path["note"]
            assert_same_points(path["xy"], own_path["xy"])
        # the ▼ marks where a loss reached the minimum
        assert [m["steps"] for m in scene["marks"]] == [m["steps"] for m in own["marks"]]
        for mark, own_mark in zip(scene["marks"], own["marks"]):
            assert_same_points(mark["xy"], own_mark["xy"])
        # the notes, the loss panel's line and words where a run diverged (in their rows):
        # the explorer's own pictures, where it puts them; the sliders' point on the map is
        # moved by whole pixels from where it was drawn (and cut at the map's edge): to a pixel
        assert len(scene["sprites"]) == len(own["sprites"])
        exact = [(o["png"], o["x"], o["y"]) for o in own["sprites"]]
        off = [p for p in scene["sprites"] if (p["png"], p["x"], p["y"]) not in exact]
        assert len(off) <= bool(explorer.stability_map), off
        for sprite in off:
            assert any(abs(sprite["x"] - o["x"]) <= 1 and abs(sprite["y"] - o["y"]) <= 1 and all(
                abs(a - b) <= 1 for a, b in zip(size_of(sprite["png"]), size_of(o["png"])))
                for o in own["sprites"]), sprite
        two_rows |= sum(p["diverged_at"] is not None for p in own["paths"]) > len(explorer.optimizers)
        # the readout, word for word
        assert sketch_readout(made, picks) == explorer.readout.value
        # and the picture: the same but for anti-aliasing where a point moved by < 0.06 px
        drawn = np.asarray(Compositor(scene, background).frame(0), dtype=int)
        own_picture = np.asarray(explorer.view.image(), dtype=int)
        differ = (np.abs(drawn - own_picture).max(axis=2) > 32).mean()
        assert differ < 0.004, f"{differ:.2%} of the pixels differ at η indices {picks}"
    if kind == "both diverge":
        assert two_rows, "no choice had both runs diverge: the rows were not tested"


def test_the_figure_keeps_its_own_artists_and_its_next_picture(explorers):
    explorer = explorers(["SGD", "Momentum"], lr=0.9, stability_map=False)
    axes = (explorer.view.path_axes, explorer.view.loss_axes)
    children = [list(ax.get_children()) for ax in axes]
    picture = explorer.image.value
    sketch(explorer)
    assert [list(ax.get_children()) for ax in axes] == children
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    before = slider.value
    slider.value = slider.grid[slider.index + 1]
    explorer.cache.clear()          # drawn again, not sent from the cache
    slider.value = before
    assert explorer.image.value == picture


def test_no_sketch_where_the_page_could_not_draw_from_one(explorers):
    playing = explorers("SGD", steps=30)
    playing.step_slider.value = 10          # Play shows part of the runs
    assert sketch(playing) is None
    # η off the map's axes: the map itself changes with η
    assert sketch(explorers("Momentum", stability_map="momentum")) is None


def test_a_sketch_goes_to_the_page_once_per_setting_of_the_other_controls(explorers):
    pytest.importorskip("anywidget")
    from test_explorer_browser_cache import Recorder
    explorer = explorers("Momentum", steps=20)
    wire = Recorder(explorer.browser)

    def sketches_sent_by_drawing_ahead(moved=None) -> int:
        """Drive drawing ahead to its first picture sent."""
        before = len(wire.messages)
        explorer.prefetch(moved)
        while explorer.prefetch_step() and not any("key" in c for c, _ in wire.messages[before:]):
            pass
        explorer._plan = None
        sent = [content["sketch"]["complete"] for content, _ in wire.messages[before:] if "sketch" in content]
        assert sent in ([], [False, True]), sent         # a first one, then the whole one
        return len(sent) // 2

    assert sketches_sent_by_drawing_ahead() == 0        # no page listens (nbval, no front end)
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    assert sketches_sent_by_drawing_ahead() == 1
    eta = explorer.hyperparameter_sliders["Momentum"]["lr"]
    eta.value = eta.grid[eta.index + 3]                  # η moved: the page's sketch holds
    assert sketches_sent_by_drawing_ahead(eta) == 0
    alpha = explorer.hyperparameter_sliders["Momentum"]["momentum"]
    alpha.value = 0.5                                    # another control: a new one
    assert sketches_sent_by_drawing_ahead(alpha) == 1
    (content, _), = [m for m in wire.messages if "sketch" in m[0]][-1:]
    assert content["sketch"]["key"] == explorer.controls.page_values(explorer.settings())
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    assert sketches_sent_by_drawing_ahead() == 1        # a new page has none


def test_a_sketch_half_made_goes_on_after_a_move_of_eta_and_stops_after_any_other(explorers):
    """A drag moves η every second or so and drawing ahead starts over each time: the sketch
    (which may take longer) goes on where it was; a move of another control makes it void."""
    pytest.importorskip("anywidget")
    from test_explorer_browser_cache import Recorder
    explorer = explorers(["Momentum", "Nesterov"], steps=60, lr=0.1, momentum=0.9)   # notebook 02
    wire = Recorder(explorer.browser)
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    explorer.prefetch(None)
    for _ in range(3):
        assert explorer.prefetch_step()
    half_made = explorer._sketching[1]
    eta = explorer.hyperparameter_sliders["Momentum"]["lr"]
    eta.value = eta.grid[eta.index + 5]
    explorer.prefetch(eta)                       # drawing ahead starts over
    while explorer.browser.sketch_key is None and explorer.prefetch_step():
        assert explorer._sketching is None or explorer._sketching[1] is half_made
    (first, sent) = [content for content, _ in wire.messages if "sketch" in content]
    assert not first["sketch"]["complete"] and sent["sketch"]["complete"]
    # sent as made for the settings it was begun at: its paths are those runs'
    grid = eta.grid
    made, _ = sketch(explorer)
    assert sent["sketch"]["lines"] == made["lines"] and len(grid) == len(made["lines"][0])
    # another control moved mid-way: that half-made sketch is void, a new one is begun
    explorer.browser.sketch_key = None
    explorer.prefetch(None)
    assert explorer.prefetch_step()
    half_made = explorer._sketching[1]
    alpha = explorer.hyperparameter_sliders["Momentum"]["momentum"]
    alpha.value = 0.5
    explorer.prefetch(alpha)
    assert explorer.prefetch_step()
    assert explorer._sketching[1] is not half_made


def test_a_first_sketch_has_every_run_but_the_marks_of_those_that_diverged(explorers):
    """The marks of the runs that diverged (pictures of words) take most of a sketch's time:
    a first one goes without them, and the page draws every η whose runs all converge."""
    from gdviz.explorer.page_drawing import sketch_pieces
    explorer = explorers(["SGD", "Momentum"], lr=0.9)
    first, whole = [made for made in sketch_pieces(explorer) if made is not None]
    assert not first[0]["complete"] and whole[0]["complete"] and first[1] == whole[1]
    assert first[0]["lines"] == whole[0]["lines"]
    for before, after in zip(first[0]["scene"]["variants"], whole[0]["scene"]["variants"]):
        diverged = [o["diverged_at"] is not None for o in after["options"]]
        assert any(diverged) and not all(diverged)
        for a, b, gone in zip(before["options"], after["options"], diverged):
            if gone:        # no note, no words: the page leaves these to the kernel
                assert a["sprite"] is None and "diverged_step" not in a
                assert b["diverged_step"] and len(b["diverged_step"]) == 2
            else:
                assert a == b


def test_two_notes_with_the_same_words_pointing_elsewhere_are_two_pictures(explorers):
    """A picture kept by what it draws (gdviz.scene.sprite's ``kept``): two runs that diverged
    at the same step leave the view at different points, and their notes say the same words.
    Each is drawn where it points, even when the first note's artist is gone and its
    transform's id taken again by the next (the key once had the words but not the point)."""
    import gc

    from gdviz import plotting
    from gdviz.scene import sprite
    from gdviz.trajectory import run
    explorer = explorers("Momentum")
    ax, (width, height), dpi = explorer.view.path_axes, explorer.view.canvas.get_width_height(), 100.0
    runs = [run("Momentum", "elongated_bowl", None, 30, lr=lr, momentum=0.9) for lr in (2.745, 3.0)]
    assert runs[0].diverged_at == runs[1].diverged_at == 5
    assert abs(runs[0].points[-1][0] - runs[1].points[-1][0]) > 0.4      # 4.02 and 4.50

    def note_of(traj, kept):
        before = list(ax.texts)
        plotting.paths._note_off_view(ax, traj, "#cc79a7")
        (note,) = [t for t in ax.texts if t not in before]
        drawn = sprite(note, width, height, dpi, kept=kept)
        note.remove()
        gc.collect()
        return drawn

    kept: dict = {}
    shared = [note_of(traj, kept) for traj in runs]
    alone = [note_of(traj, None) for traj in runs]
    assert shared == alone and shared[0]["x"] != shared[1]["x"]
    # the key, when the second note's transform is the first's object (as when its id is taken
    # again): still two drawings
    from gdviz.scene import _drawing_of
    notes = []
    for traj in runs:
        before = list(ax.texts)
        plotting.paths._note_off_view(ax, traj, "#cc79a7")
        notes += [t for t in ax.texts if t not in before]
    notes[1].get_transform = notes[0].get_transform
    assert notes[0].get_text() == notes[1].get_text()
    assert _drawing_of(notes[0]) != _drawing_of(notes[1])
    for note in notes:
        note.remove()
