"""The replay (gdviz/replay.py): runs over stacked η equal gdviz.run's, each variant's pixels
equal the plain animation's for that η, divergence is shown as the player shows it, and the
path encoding reads back to the pixels (to 0.1 px).

Independent checks: every run is compared with :func:`gdviz.run` at that η, the contour
pixels with a plain :func:`gdviz.animation.animate` scene of that one run, and the loss
pixels with a log-axis map fitted on one variant and applied to the others' losses.
"""
import re

import numpy as np
import pytest

import gdviz
from gdviz import schedules
from gdviz.animation import animate
from gdviz.replay import Replay, _chosen_scene, decode_path, encode_path, replay, stacked_runs

from test_animation import scene_of


@pytest.mark.parametrize("name, surface, options", [
    ("SGD", "elongated_bowl", {}),
    ("Momentum", "rosenbrock", {"momentum": 0.8}),
    ("Adam", "himmelblau", {"noise": 0.5, "seed": 3}),
    ("RMSprop", "saddle", {"schedule": schedules.cosine(25)}),
])
def test_stacked_runs_are_gdviz_runs(name, surface, options):
    lrs = [0.001, 0.03, 0.5, 1.2, 3.0]
    runs = stacked_runs(name, surface, None, 25, lrs=lrs, **options)
    for lr, got in zip(lrs, runs):
        want = gdviz.run(name, surface, None, 25, lr=lr, **options)
        assert got.diverged_at == want.diverged_at
        assert got.divergence_reason == want.divergence_reason
        np.testing.assert_allclose(got.points, want.points, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(got.losses, want.losses, rtol=1e-12, atol=1e-300)
        assert got.message == want.message


def test_stacked_runs_refuse_bad_grids():
    with pytest.raises(ValueError, match="lrs"):
        stacked_runs("SGD", lrs=[])
    with pytest.raises(ValueError, match="lr"):
        stacked_runs("SGD", lrs=[0.1, -1.0])


def test_encoding_reads_back_to_a_tenth_of_a_pixel():
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(0, 300, 400), 6)
    values[[3, 4, 100]] = np.nan
    values[50] = 123456.7                       # a diverged point far off the canvas
    for stride in (1, 2):
        table = values.reshape(-1, stride) if stride == 2 else values
        back = np.array([np.nan if v is None else v for v in decode_path(encode_path(table), stride)])
        np.testing.assert_array_equal(np.isnan(back), np.isnan(values))
        ok = ~np.isnan(values)
        np.testing.assert_allclose(back[ok], np.round(values[ok], 1), atol=1e-9)
    assert len(encode_path(np.full(100, 55.5))) < 110      # a still path: ~one character a number


@pytest.fixture(scope="module")
def sgd_replay():
    return replay("SGD", "elongated_bowl", steps=40, lr=0.95)


def xy_pairs(flat):
    return np.array([np.nan if v is None else v for v in flat], dtype=float).reshape(-1, 2)


def in_panel(xy, clip):
    """Pixels as fractions of the panel's box (the replay's loss range, which covers every
    variant, gives its figure other tick labels and so a slightly other layout)."""
    x0, y0, x1, y1 = clip
    return (xy - [x0, y0]) / [x1 - x0, y1 - y0]


def test_each_variant_draws_the_plain_animations_path(sgd_replay):
    lrs = sgd_replay.lrs["SGD"]
    for i in (0, 120, int(np.argmin(abs(lrs - 0.95))), len(lrs) - 3):
        scene = _chosen_scene(sgd_replay._scene, [i])
        plain = scene_of(animate(gdviz.run("SGD", steps=40, lr=float(lrs[i]))).to_html())
        got = in_panel(xy_pairs(scene["paths"][0]["xy"]), scene["panels"][0]["clip"])
        want = in_panel(xy_pairs(plain["paths"][0]["xy"]), plain["panels"][0]["clip"])
        # trailing repeats are dropped: the player holds the last point
        assert len(got) <= len(want)
        tolerance = 0.15 / (scene["panels"][0]["clip"][2] - scene["panels"][0]["clip"][0])
        close = {"atol": tolerance, "rtol": 1e-4}      # the clip boxes are to 0.01 px
        np.testing.assert_allclose(got, want[:len(got)], **close)
        np.testing.assert_allclose(want[len(got) - 1:], np.repeat(got[-1:], len(want) - len(got) + 1, 0),
                                   **close)
        assert scene["paths"][0]["diverged_at"] == plain["paths"][0]["diverged_at"]


def test_loss_pixels_follow_one_log_axis_for_every_variant(sgd_replay):
    lrs = sgd_replay.lrs["SGD"]
    surface = gdviz.get_surface("elongated_bowl")

    def loss_pixels(i):
        return xy_pairs(_chosen_scene(sgd_replay._scene, [i])["paths"][1]["xy"])

    fitted = [len(lrs) - 1, 200]          # a diverging and a converging run: the whole range
    gap = np.concatenate([gdviz.run("SGD", steps=40, lr=float(lrs[i])).losses - surface.min_value
                          for i in fitted])
    fit = np.concatenate([loss_pixels(i) for i in fitted])
    slope, offset = np.polyfit(np.log10(gap), fit[:, 1], 1)
    steps = np.concatenate([np.arange(len(loss_pixels(i))) for i in fitted])
    step_slope, step_offset = np.polyfit(steps, fit[:, 0], 1)
    for i in (0, 10, 150, 250, len(lrs) - 2):
        run = gdviz.run("SGD", steps=40, lr=float(lrs[i]))
        px = loss_pixels(i)
        assert len(px) == run.n_steps + 1
        np.testing.assert_allclose(px[:, 1], offset + slope * np.log10(run.losses - surface.min_value),
                                   atol=0.15)
        np.testing.assert_allclose(px[:, 0], step_offset + step_slope * np.arange(run.n_steps + 1),
                                   atol=0.15)


def test_diverged_variants_carry_the_players_divergence(sgd_replay):
    (variant,) = sgd_replay._scene["variants"]
    lrs = sgd_replay.lrs["SGD"]
    diverged = 0
    for i, option in enumerate(variant["options"]):
        run = gdviz.run("SGD", steps=40, lr=float(lrs[i]))
        assert option["diverged_at"] == run.diverged_at
        assert variant["readouts"][i].endswith(run.message)
        assert variant["texts"][i] == f"{lrs[i]:.12g}"
        if run.diverged:
            diverged += 1
            assert option["note"] == f"SGD diverged at step {run.diverged_at}"
            assert variant["readouts"][i].startswith("✕ ")
            # it left the view: the note at the edge is drawn, as plotting draws it
            assert option["sprite"] is not None
        else:
            assert option["note"] is None and option["sprite"] is None
    assert diverged > 10
    path = sgd_replay._scene["paths"][0]
    assert path["cross"] is not None and path["head"] is not None


def test_frame_images_show_the_chosen_variant(sgd_replay, tmp_path):
    n = sgd_replay.n_frames
    calm = np.asarray(sgd_replay.frame_image(n - 1), dtype=int)
    wild = np.asarray(sgd_replay.frame_image(n - 1, {"SGD": len(sgd_replay.lrs["SGD"]) - 1}), dtype=int)
    assert (np.abs(calm - wild).sum(-1) > 60).sum() > 500


def test_the_html_has_one_eta_input_per_optimizer():
    player = replay(["Momentum", "Adam"], "rosenbrock", steps=20, lr=0.01, momentum=0.8)
    assert isinstance(player, Replay)
    html = player.to_html()
    inputs = re.findall(r'<input type="range" class="gdviz-variant"[^>]*>', html)
    assert len(inputs) == 2
    for name, tag in zip(("Momentum", "Adam"), inputs):
        assert f'data-optimizer="{name}"' in tag
        index = player.chosen[name]
        assert f'value="{index}"' in tag and player.lrs[name][index] == 0.01
    assert "η · Momentum" in html and "computed in advance" in html
    scene = scene_of(html)
    assert [v["optimizer"] for v in scene["variants"]] == ["Momentum", "Adam"]
    assert player.nbytes == len(html.encode())


def test_bad_arguments_are_refused_first():
    with pytest.raises(TypeError, match="no hyperparameter"):
        replay("SGD", momentum=0.9)
    with pytest.raises(ValueError, match="lr"):
        replay("SGD", lr=-1)
    with pytest.raises(ValueError, match="once"):
        replay(["SGD", "sgd"])


def test_a_note_drawn_alone_has_the_pixels_it_has_in_the_figure():
    """Each distinct "diverged at step k" note is drawn once on a small canvas and placed by
    its anchor: the same PNG at the same place as drawing it on the whole figure
    (gdviz.scene._sprite_png, the plain player's way)."""
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gdviz import plotting
    from gdviz.scene import _sprite_png
    from gdviz.replay import _note_png
    runs = stacked_runs("SGD", "saddle", None, 60, lrs=np.geomspace(0.05, 3, 60))
    with plotting.style("notebook"):
        fig = Figure(figsize=(8, 4.2), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        plotting.plot_contour(gdviz.get_surface("saddle"), ax)
        fig.canvas.draw()
        width, height = fig.canvas.get_width_height()
        checked = 0
        for run in runs:
            before = list(ax.texts)
            plotting.paths._note_off_view(ax, run, "#0072B2")
            notes = [a for a in ax.texts if a not in before]
            if not notes:
                continue
            anchor = ax.transData.transform(notes[0].xy)
            png, dx, dy = _note_png(notes[0], fig, anchor)
            want = _sprite_png(notes[0], width, height, fig.dpi)
            assert (png, math.floor(anchor[0]) + dx, height - math.floor(anchor[1]) + dy) == want
            notes[0].remove()
            checked += 1
    assert checked > 10


def test_variants_ship_about_one_character_a_number(sgd_replay):
    """Sizes: every step of every variant's path and loss is shipped (trailing repeats of a
    converged path aside), in under two characters a number (JSON's "123.4," is six)."""
    (variant,) = sgd_replay._scene["variants"]
    chars = numbers = 0
    for option in variant["options"]:
        path, loss = option["xy"]
        chars += len(path) + len(loss)
        numbers += len(decode_path(path, 2)) + len(decode_path(loss, 1))
    runs = sgd_replay.variants["SGD"]
    assert sum(len(decode_path(o["xy"][1], 1)) for o in variant["options"]) == sum(
        len(r.losses) for r in runs)
    assert chars / numbers < 2
    # the rest of the page besides the pictures and the paths: script, style, controls, and per
    # η its text, readout, divergence and note's place (~200 bytes an η)
    scene = sgd_replay._scene
    pictures = len(sgd_replay._png) * 4 / 3 + sum(map(len, scene["images"]))
    rest = len(sgd_replay.to_html().encode()) - pictures - chars
    assert rest < 30_000 + 200 * len(variant["options"])


def test_a_gif_of_a_chosen_variant_has_its_frames(sgd_replay, tmp_path):
    from PIL import Image
    last = len(sgd_replay.lrs["SGD"]) - 1
    path = sgd_replay.save_gif(tmp_path / "wild.gif", chosen={"SGD": last})
    gif = Image.open(path)
    assert gif.n_frames == sgd_replay.n_frames
    gif.seek(sgd_replay.n_frames - 1)
    want = np.asarray(sgd_replay.frame_image(sgd_replay.n_frames - 1, {"SGD": last}), dtype=int)
    got = np.asarray(gif.convert("RGB"), dtype=int)
    assert np.abs(got - want).mean() < 3            # the GIF's 255-colour palette
    with pytest.raises(ValueError, match="Adam"):
        sgd_replay.frame_image(0, {"Adam": 3})
    with pytest.raises(ValueError, match="η index"):
        sgd_replay.frame_image(0, {"SGD": last + 1})
