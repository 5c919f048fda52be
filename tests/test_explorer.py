"""The explorer (gdviz/explorer/), driven without a browser: move its widgets in Python and
check what it draws against closed forms and independent runs.

Runs under ipywidgets 8 and 7.7.1 (Colab's) alike.
"""
import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

import gdviz  # noqa: E402
from gdviz.explorer import LOSS_FLOOR, explore  # noqa: E402


@pytest.fixture
def explorers():
    """Make explorers through this, so each test closes its widgets."""
    made = []

    def make(*args, **kwargs):
        made.append(explore(*args, **kwargs))
        return made[-1]
    yield make
    for explorer in made:
        explorer.close()


def sgd_on_elongated_bowl(lr, start, steps):
    """Closed form on f = x²/20 + y²: each step multiplies x by (1 − η/10) and y by (1 − 2η)."""
    k = np.arange(steps + 1)
    return np.column_stack([start[0] * (1 - lr / 10) ** k, start[1] * (1 - 2 * lr) ** k])


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- the drawn path follows the sliders --------------------------------------------------
def test_sgd_path_is_the_closed_form_after_moving_the_slider(explorers):
    explorer = explorers("SGD", steps=25)
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.3
    drawn = explorer.path_lines["SGD"].get_xydata()
    np.testing.assert_allclose(drawn, sgd_on_elongated_bowl(0.3, (-7.0, 2.0), 25), rtol=1e-12)


def test_loss_line_is_the_gap_to_the_minimum(explorers):
    explorer = explorers("SGD", steps=20, lr=0.2)
    points = sgd_on_elongated_bowl(0.2, (-7.0, 2.0), 20)
    expected = points[:, 0] ** 2 / 20 + points[:, 1] ** 2          # f_min = 0
    np.testing.assert_allclose(explorer.loss_lines["SGD"].get_ydata(), expected, rtol=1e-12)


def test_every_slider_of_adam_reaches_the_run(explorers):
    explorer = explorers("Adam", "rosenbrock", steps=40)
    settings = {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}
    for name, value in settings.items():
        explorer.hyperparameter_sliders["Adam"][name].value = value
    expected = gdviz.run("Adam", "rosenbrock", steps=40, **settings).points
    np.testing.assert_allclose(explorer.path_lines["Adam"].get_xydata(), expected, rtol=1e-12)


def test_start_sliders_move_the_start(explorers):
    explorer = explorers("SGD", steps=10, lr=0.1)
    explorer.start_sliders[0].value = 3.0
    explorer.start_sliders[1].value = -1.5
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.1, (3.0, -1.5), 10), rtol=1e-12)


def test_noise_is_reproducible_and_seeded(explorers):
    explorer = explorers("SGD", steps=15, seed=3)
    explorer.noise_slider.value = 0.5
    first = explorer.path_lines["SGD"].get_xydata().copy()
    # independent: the same noise, drawn here, added to each gradient of f = x²/20 + y²
    rng = np.random.default_rng(3)
    theta, expected = np.array([-7.0, 2.0]), [np.array([-7.0, 2.0])]
    for _ in range(15):
        gradient = np.array([theta[0] / 10, 2 * theta[1]]) + 0.5 * rng.standard_normal(2)
        theta = theta - 0.1 * gradient
        expected.append(theta)
    np.testing.assert_allclose(first, expected, rtol=1e-12)
    explorer.noise_slider.value = 0.0
    explorer.noise_slider.value = 0.5
    np.testing.assert_array_equal(explorer.path_lines["SGD"].get_xydata(), first)


def test_several_optimizers_each_have_their_own_sliders(explorers):
    explorer = explorers(["SGD", "Momentum"], steps=30, lr=0.05)
    assert explorer.hyperparameter_sliders["Momentum"]["lr"].description == "η · Momentum"
    assert explorer.hyperparameter_sliders["Momentum"]["momentum"].description == "α · Momentum"
    explorer.hyperparameter_sliders["Momentum"]["momentum"].value = 0.5
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.05, (-7.0, 2.0), 30), rtol=1e-12)
    # heavy ball, written out here: v ← αv − η∇f, θ ← θ + v
    theta, velocity, expected = np.array([-7.0, 2.0]), np.zeros(2), [np.array([-7.0, 2.0])]
    for _ in range(30):
        velocity = 0.5 * velocity - 0.05 * np.array([theta[0] / 10, 2 * theta[1]])
        theta = theta + velocity
        expected.append(theta)
    np.testing.assert_allclose(explorer.path_lines["Momentum"].get_xydata(), expected,
                               rtol=1e-12, atol=1e-15)


# --- divergence is shown, not hidden -----------------------------------------------------
def drawn_in(data: bytes, colour) -> int:
    """How many pixels of a PNG are (within 30/255 per channel) `colour`."""
    from matplotlib.colors import to_rgb
    rgb = np.asarray(image_of(data).convert("RGB"), dtype=int)
    return int((np.abs(rgb - np.array(to_rgb(colour)) * 255).max(axis=2) < 30).sum())


def test_too_large_a_learning_rate_says_where_it_diverged(explorers):
    from gdviz.plotting import optimizer_color
    explorer = explorers("SGD", steps=40)
    before = explorer.image.value
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 1.2
    points = sgd_on_elongated_bowl(1.2, (-7.0, 2.0), 40)
    bound = 100 * 10.0                      # a run diverges when it leaves 100× the view
    diverged_at = int(np.argmax(np.abs(points).max(axis=1) > bound))
    assert diverged_at == 19                # |y_k| = 2·1.4^k first exceeds 1000 at k = 19
    assert f"diverged at step {diverged_at}" in explorer.readout.value
    assert len(explorer.path_lines["SGD"].get_xydata()) == diverged_at   # points 0 … k−1
    # Still a picture, not a blank: not one colour, the diverging path drawn in SGD's colour
    # (the zig-zag covers far more pixels than the converging path did), and not the old picture.
    after = explorer.image.value
    rgb = np.asarray(image_of(after).convert("RGB"))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20
    assert drawn_in(after, optimizer_color("SGD")) > 2 * drawn_in(before, optimizer_color("SGD")) > 0
    assert (rgb != np.asarray(image_of(before).convert("RGB"))).any(axis=2).mean() > 0.01



def test_the_loss_panel_names_the_optimizer_that_diverged_in_dark_text(explorers):
    from matplotlib import colors

    from gdviz import plotting
    explorer = explorers(["SGD", "Momentum"], steps=30, lr=1.2, momentum=0.9)
    notes = [t for t in explorer.loss_axes.texts if t.get_gid() == "diverged-note"]
    lines = [a for a in explorer.loss_axes.lines if a.get_gid() == "diverged-step"]
    assert [n.get_text().strip() for n in notes] == ["SGD diverged at step 19"]
    assert colors.to_hex(notes[0].get_color()) == colors.to_hex(plotting.TEXT_COLOR)
    assert [line.get_xdata()[0] for line in lines] == [19]
    used = {colors.to_hex(plotting.optimizer_color(name)) for name in gdviz.OPTIMIZERS}
    assert colors.to_hex(lines[0].get_color()) not in used     # no optimizer's colour
    assert "<b>✕ SGD diverged at step 19" in explorer.readout.value


# --- the registry's ranges bound the sliders ---------------------------------------------
@pytest.mark.parametrize("name", list(gdviz.OPTIMIZERS))
def test_slider_ranges_are_the_registry_ranges(explorers, name):
    explorer = explorers(name, steps=5)
    for hp in gdviz.OPTIMIZERS[name].hyperparameters:
        slider = explorer.hyperparameter_sliders[name][hp.name]
        grid = np.array(slider.grid)
        assert (slider.min, slider.max) == (grid[0], grid[-1]) == hp.slider
        steps = np.diff(np.log(grid) if hp.log else grid)
        assert steps.min() > 0                                   # ascending, no repeats
        if hp.log:              # 2 significant digits: 1.0 → 1.1 is the widest step (10 %)
            assert steps.max() <= math.log(1.1) + 1e-12
            assert 80 <= len(grid) / math.log10(hp.slider[1] / hp.slider[0]) <= 95
        else:                   # even steps of a power of ten, ≤ 1/100 of the range
            step = np.median(steps)
            assert step <= (hp.slider[1] - hp.slider[0]) / 100 * (1 + 1e-9)
            assert math.log10(step) == pytest.approx(round(math.log10(step)), abs=1e-9)
        assert slider.value == hp.default                       # exactly
        assert hp.symbol in slider.description
        tip = slider.tooltip if slider.has_trait("tooltip") else slider.description_tooltip
        assert hp.meaning in tip
        slider.value = hp.slider[1] * 10 + 1        # beyond the end: clamped, still valid
        assert slider.value == pytest.approx(hp.slider[1])
        assert hp.contains(slider.value)


def test_a_given_value_beyond_the_slider_is_clipped_with_a_note(explorers):
    explorer = explorers("SGD", lr=5.0)
    assert explorer.hyperparameter_sliders["SGD"]["lr"].value == pytest.approx(3.0)
    assert "beyond its slider" in explorer.readout.value


def test_a_start_beyond_the_view_is_clipped_with_a_note(explorers):
    explorer = explorers("SGD", steps=5, start=(50.0, 1.0))
    assert [slider.value for slider in explorer.start_sliders] == [10.0, 1.0]
    assert "x₀ = 50 is beyond its slider" in explorer.readout.value
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.1, (10.0, 1.0), 5), rtol=1e-12)


def test_without_a_seed_one_noise_level_still_gives_one_path(explorers):
    explorer = explorers("SGD", steps=10, noise=0.3, seed=None)
    first = explorer.path_lines["SGD"].get_xydata().copy()
    explorer.noise_slider.value = 0.0
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.1, (-7.0, 2.0), 10), rtol=1e-12)
    explorer.noise_slider.value = 0.3
    np.testing.assert_array_equal(explorer.path_lines["SGD"].get_xydata(), first)


# --- the picture -------------------------------------------------------------------------
def test_image_is_a_png_that_changes_with_the_learning_rate(explorers):
    explorer = explorers("SGD")
    before = explorer.image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    assert explorer.image.format == "png"
    width, height = image_of(before).size
    assert width > 300 and height > 150
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.5
    assert explorer.image.value != before
    assert image_of(explorer.image.value).size == (width, height)
    png = explorer.render_png()
    assert image_of(png).size == (width, height)


def test_hyperparameter_moves_reuse_the_background(explorers):
    explorer = explorers("Momentum")
    draws = explorer.n_background_draws
    for value in (0.01, 0.05, 0.3):
        explorer.hyperparameter_sliders["Momentum"]["lr"].value = value
    explorer.hyperparameter_sliders["Momentum"]["momentum"].value = 0.5
    explorer.step_slider.value = 3
    assert explorer.n_background_draws == draws
    explorer.surface_dropdown.value = "beale"
    assert explorer.n_background_draws == draws + 1


def test_no_pyplot_figure_is_made():
    before = plt.get_fignums()
    explorer = explore(["SGD", "Adam"], "himmelblau")
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.01
    explorer.surface_dropdown.value = "saddle"
    explorer.render_png()
    assert plt.get_fignums() == before
    explorer.close()


# --- surfaces, steps and play ------------------------------------------------------------
def test_surface_dropdown_lists_every_surface_and_resets_the_start(explorers):
    explorer = explorers("SGD", steps=10)
    assert dict(explorer.surface_dropdown.options) == {
        cls.title: name for name, cls in gdviz.SURFACES.items()}
    for name, cls in gdviz.SURFACES.items():
        explorer.surface_dropdown.value = name
        x_slider, y_slider = explorer.start_sliders
        assert (x_slider.min, x_slider.max) == cls.xlim
        assert (y_slider.min, y_slider.max) == cls.ylim
        assert (x_slider.value, y_slider.value) == pytest.approx(cls.start)
        expected = gdviz.run("SGD", name, steps=10, lr=0.1)
        drawn = explorer.path_lines["SGD"].get_xydata()
        np.testing.assert_allclose(drawn, expected.points, rtol=1e-12)
        assert explorer.path_axes.get_title() == cls.title


def test_play_and_step_slider_span_the_steps(explorers):
    explorer = explorers("SGD", steps=12, lr=0.2)
    for control in (explorer.play, explorer.step_slider):
        assert (control.min, control.max, control.value) == (0, 12, 12)
    explorer.steps_slider.value = 30
    for control in (explorer.play, explorer.step_slider):
        assert (control.max, control.value) == (30, 30)
    explorer.step_slider.value = 4
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.2, (-7.0, 2.0), 4), rtol=1e-12)
    assert len(explorer.loss_lines["SGD"].get_xdata()) == 5
    assert "at step 4" in explorer.readout.value


def test_loss_axis_is_fixed_from_the_floor_to_above_the_start(explorers):
    explorer = explorers("SGD")
    low, high = explorer.loss_axes.get_ylim()
    assert low == pytest.approx(LOSS_FLOOR)
    assert high >= 10 * (49 / 20 + 4)              # f(−7, 2) = 6.45, with room to rise


# --- the widget --------------------------------------------------------------------------
def test_css_classes_and_the_layout(explorers):
    explorer = explorers(["SGD", "Adam"], projector=True)
    assert "gdviz-explorer" in explorer.widget._dom_classes
    assert "gdviz-projector" in explorer.widget._dom_classes
    assert "gdviz-readout" in explorer.readout._dom_classes

    def descendants(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from descendants(child)
    inside = list(descendants(explorer.widget))
    for control in (explorer.image, explorer.readout, explorer.play, explorer.step_slider,
                    explorer.surface_dropdown, explorer.steps_slider, explorer.noise_slider,
                    *explorer.start_sliders,
                    *explorer.hyperparameter_sliders["Adam"].values()):
        assert any(control is widget for widget in inside)


def test_projector_mode_makes_a_larger_picture(explorers):
    small = image_of(explorers("SGD").image.value).size
    large = image_of(explorers("SGD", projector=True).image.value).size
    assert large[0] > small[0] and large[1] > small[1]


# --- bad arguments: the core's clear errors, before any widget exists ----------------------
@pytest.mark.parametrize("kwargs, error, words", [
    ({"optimizer": "Adamm"}, ValueError, ["Adamm", "SGD"]),
    ({"optimizer": []}, ValueError, ["optimizer"]),
    ({"optimizer": ["SGD", "sgd"]}, ValueError, ["SGD"]),
    ({"surface": "bananas"}, ValueError, ["bananas", "rosenbrock"]),
    ({"lr": -1.0}, ValueError, ["lr", "-1"]),
    ({"optimizer": "Adam", "beta1": 1.5}, ValueError, ["beta1", "1.5"]),
    ({"momentum": 0.9}, TypeError, ["momentum"]),
    ({"optimizer": ["SGD", "Adam"], "rho": 0.9}, TypeError, ["rho"]),
    ({"steps": 0}, ValueError, ["steps", "0"]),
    ({"steps": 2.5}, TypeError, ["steps", "2.5"]),
    ({"noise": -0.1}, ValueError, ["noise", "-0.1"]),
    ({"start": (1.0,)}, TypeError, ["start"]),
])
def test_bad_arguments_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error) as raised:
        explore(**kwargs)
    for word in words:
        assert word in str(raised.value)


def test_learning_rate_limit_matches_theory(explorers):
    """Just below 2/λ_max SGD converges on the bowl, just above it the readout says diverged."""
    limit = gdviz.theory.gd_lr_limit("elongated_bowl")
    explorer = explorers("SGD", steps=200)
    explorer.hyperparameter_sliders["SGD"]["lr"].value = limit * 0.97
    assert "diverged" not in explorer.readout.value
    explorer.hyperparameter_sliders["SGD"]["lr"].value = limit * 1.05
    assert "diverged at step" in explorer.readout.value
    assert math.isclose(limit, 1.0)


def test_the_picture_shows_the_path_in_the_optimizers_colour(explorers):
    explorer = explorers("Momentum")
    pixels = np.asarray(image_of(explorer.image.value).convert("RGB")).astype(int)
    vermillion = np.array([0xD5, 0x5E, 0x00])             # Momentum's Okabe–Ito colour
    assert (np.abs(pixels - vermillion).sum(axis=-1) < 30).sum() > 500


def test_a_refused_value_is_said_in_the_readout_and_keeps_the_picture(explorers, monkeypatch):
    explorer = explorers("SGD")
    picture = explorer.image.value

    def refuse(*args, **kwargs):
        raise ValueError("lr (η, learning rate) must be in (0, inf), got -1")
    monkeypatch.setattr("gdviz.explorer.wiring.run", refuse)
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.2
    assert "must be in (0, inf), got -1" in explorer.readout.value
    assert "Traceback" not in explorer.readout.value
    assert explorer.image.value == picture


# --- the stability map -------------------------------------------------------------------
def test_stability_map_sweeps_the_slider_ranges_and_marks_the_setting(explorers):
    explorer = explorers("Momentum", steps=40, lr=0.3, momentum=0.5, stability_map=True)
    result = explorer.sweep_result
    assert list(result.axes) == ["lr", "momentum"]
    assert result.axes["lr"][[0, -1]] == pytest.approx([1e-3, 3.0])
    assert result.axes["momentum"][[0, -1]] == pytest.approx([0.0, 0.99])
    draws = explorer.n_background_draws
    explorer.hyperparameter_sliders["Momentum"]["lr"].value = 0.05
    explorer.hyperparameter_sliders["Momentum"]["momentum"].value = 0.8
    assert explorer.n_background_draws == draws          # the map is kept
    marks = [a for a in explorer.map_axes.get_children()
             if a.get_gid() == "current-setting"]
    assert len(marks) == 1
    assert marks[0].get_xydata().tolist() == [[0.05, 0.8]]
    explorer.start_sliders[0].value = -3.0                  # the map depends on it
    assert explorer.n_background_draws == draws + 1
    assert explorer.sweep_result.start == (-3.0, 2.0)
    # one cell of the map, against an independent heavy-ball loop
    i, j = 40, 50
    lr, alpha = result.axes["lr"][i], result.axes["momentum"][j]
    theta, velocity = np.array([-7.0, 2.0]), np.zeros(2)
    for _ in range(40):
        velocity = alpha * velocity - lr * np.array([theta[0] / 10, 2 * theta[1]])
        theta = theta + velocity
    assert result.final_loss[i, j] == pytest.approx(theta[0] ** 2 / 20 + theta[1] ** 2,
                                                    rel=1e-9)


def test_stability_map_needs_one_optimizer_and_its_own_hyperparameters():
    with pytest.raises(ValueError, match="one optimizer"):
        explore(["SGD", "Momentum"], stability_map=True)
    with pytest.raises(ValueError, match="beta1"):
        explore("Momentum", stability_map=("lr", "beta1"))


def test_stability_explorer_over_one_hyperparameter():
    from gdviz.explorer import stability_explorer
    explorer = stability_explorer("SGD", steps=30)
    try:
        assert list(explorer.sweep_result.axes) == ["lr"]
        explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.25
        marks = [a for a in explorer.map_axes.get_children() if a.get_gid() == "current-setting"]
        assert [list(mark.get_xdata()) for mark in marks] == [[0.25, 0.25]]   # a vertical line
    finally:
        explorer.close()


def test_a_surface_object_is_used_as_given(explorers):
    turned = gdviz.get_surface("rotated_bowl", angle=30, condition=50)
    explorer = explorers("SGD", turned, steps=10)
    assert explorer.surface is turned
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               gdviz.run("SGD", turned, steps=10).points, rtol=1e-12)

    class Tilted(gdviz.Quadratic, register=False):
        hessian = np.array([[1.0, 0.5], [0.5, 2.0]])
    explorer = explorers("SGD", Tilted(), steps=10)
    assert explorer.surface_dropdown.value == "Tilted"
    # by hand: θ ← (I − ηH) θ
    theta, expected = np.array([0.5, 0.5]), [np.array([0.5, 0.5])]
    for _ in range(10):
        theta = theta - 0.1 * Tilted.hessian @ theta
        expected.append(theta)
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(), expected, rtol=1e-12)


# --- closing: nothing of a closed explorer stays alive ----------------------------------------
def registered_widgets() -> dict:
    """ipywidgets' registry of open widgets (a module dict in 8, ``Widget.widgets`` in 7)."""
    from ipywidgets.widgets import widget
    return widget._instances if hasattr(widget, "_instances") else widget.Widget.widgets


def test_a_closed_explorer_is_garbage_and_leaves_no_widget_open():
    import gc
    import weakref
    before = set(registered_widgets())
    explorer = explore(["SGD", "Momentum"], steps=10)
    explorer.step_slider.value = 5          # Play and the step slider are linked
    gone = weakref.ref(explorer)
    figure = weakref.ref(explorer.figure)
    explorer.close()
    assert explorer.closed
    del explorer
    gc.collect()
    assert gone() is None, "something still holds the closed explorer"
    assert figure() is None, "something still holds the closed explorer's figure"
    assert set(registered_widgets()) <= before, "widgets (or their layouts/styles) left open"


def test_rerunning_a_cell_closes_the_explorer_its_last_run_made(monkeypatch):
    from gdviz.explorer import wiring as module
    cell = {"now": (("cell", "abc"), 1)}
    monkeypatch.setattr(module, "_current_cell", lambda: cell["now"])
    first, second = explore("SGD", steps=5), explore("SGD", steps=5)   # one run, two explorers
    assert not first.closed and not second.closed
    cell["now"] = (("cell", "other"), 2)
    elsewhere = explore("SGD", steps=5)
    cell["now"] = (("cell", "abc"), 3)                                   # the cell runs again
    third = explore("SGD", steps=5)
    assert first.closed and second.closed
    assert not third.closed and not elsewhere.closed
    for explorer in (third, elsewhere):
        explorer.close()


class FakeShell:
    """What _current_cell reads from IPython: the kernel's request header, In, the count."""

    def __init__(self, metadata, source, count):
        self.kernel = type("Kernel", (), {"get_parent": lambda _, channel: {"metadata": metadata}})()
        self.user_ns = {"In": ["", source]}
        self.execution_count = count


def test_the_cell_is_jupyterlabs_cell_id_or_else_its_source(monkeypatch):
    import IPython

    from gdviz.explorer.wiring import _current_cell
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell({"cellId": "c-1"}, "x", 4))
    assert _current_cell() == (("cell", "c-1"), 4)
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell({}, "explore('SGD')", 5))
    assert _current_cell() == (("source", "explore('SGD')"), 5)
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert _current_cell() is None


# --- the number on the slider is the number in the picture -------------------------------------
# The front ends' snapping, written out from their sources, to show what the browser would send
# back right after drawing a slider. noUiSlider 15 (ipywidgets 8) works in percent of the range:
# toStepping, then getStep's closest(), then fromStepping; ipywidgets' views then apply their own
# `format.to` (Math.round for SelectionSliderView, none for FloatLogSliderView, which returns
# Math.pow(base, x) of the snapped exponent x after Math.log(value) / Math.log(base)).
def js_round(x: float) -> float:
    """JavaScript's Math.round: halves go up."""
    return math.floor(x + 0.5)


def nouislider_snap(value: float, low: float, high: float, step: float) -> float:
    percent = (value - low) * 100 / (high - low)
    step_percent = step * 100 / (high - low)
    percent = js_round(percent / step_percent) * step_percent
    return percent * (high - low) / 100 + low


def lab_selection_slider_index(index: int, n: int) -> int:
    """ipywidgets 8 SelectionSliderView: noUiSlider over [0, n − 1], step 1, then Math.round."""
    return int(js_round(nouislider_snap(index, 0, n - 1, 1)))


def classic_selection_slider_index(index: int) -> int:
    """ipywidgets 7 SelectionSliderView: jQuery UI's _trimAlignValue, step 1, toFixed(5)."""
    remainder = index % 1
    aligned = index - remainder + (1 if abs(remainder) * 2 >= 1 else 0)
    return int(float(f"{aligned:.5f}"))


def lab_float_log_slider_value(value: float, low_exp: float, high_exp: float, step: float) -> float:
    """ipywidgets 8 FloatLogSliderView (the η sliders before): the value it sends back."""
    exponent = min(max(math.log(value) / math.log(10), low_exp), high_exp)
    return 10 ** nouislider_snap(exponent, low_exp, high_exp, step)


def test_the_replica_of_the_old_log_slider_gives_the_values_the_issue_saw():
    low, high = -3, math.log10(3)
    for asked, seen in ((0.95, 0.958587), (0.1, 0.0998492), (1.0, 0.997739)):
        assert lab_float_log_slider_value(asked, low, high, (high - low) / 400) == \
            pytest.approx(seen, rel=1e-6)


NOTEBOOK_CALLS = [        # the explore(...) calls of notebooks 01–06, their asked-for values
    ("SGD", {"lr": 0.95}),
    (["Momentum", "Nesterov"], {"lr": 0.1, "momentum": 0.9}),
    (["SGD", "AdaGrad"], {}),
    (["AdaGrad", "RMSprop"], {"lr": 0.03}),
    (["Adam", "AdamW"], {"lr": 0.1}),
    (["SGD", "Momentum", "Adam"], {"lr": 0.1}),
    ("Adam", {"lr": 0.0123456, "beta1": 0.85, "beta2": 0.9995, "eps": 3e-7}),
]


@pytest.mark.parametrize("optimizers, asked", NOTEBOOK_CALLS)
def test_asked_values_stay_exact_in_kernel_slider_readout_and_run(explorers, optimizers, asked):
    explorer = explorers(optimizers, steps=5, **asked)
    for trajectory, name in zip(explorer.trajectories, explorer.optimizers):
        for hp in gdviz.OPTIMIZERS[name].hyperparameters:
            slider = explorer.hyperparameter_sliders[name][hp.name]
            wanted = asked.get(hp.name, hp.default)
            assert slider.value == wanted                         # exactly, no float noise
            assert getattr(trajectory.optimizer, hp.name) == wanted   # the run used it
            n = len(slider.grid)
            for front_end_index in (lab_selection_slider_index(slider.index, n),
                                    classic_selection_slider_index(slider.index)):
                assert front_end_index == slider.index            # nothing to send back
                assert slider._options_labels[front_end_index] == slider.text
            assert float(slider.text) == wanted                  # the text shown is the number
            assert f"{hp.symbol} = {slider.text}<" in explorer.readout.value


def test_a_number_set_from_python_goes_to_the_nearest_grid_point(explorers):
    explorer = explorers("Momentum", steps=5)
    lr, momentum = (explorer.hyperparameter_sliders["Momentum"][n] for n in ("lr", "momentum"))
    lr.value = 0.9500000000000001
    assert lr.value == 0.95 and lr.text == "0.95"
    lr.value = 0.0123                       # nearest in log scale among 0.012, 0.013
    assert lr.value == 0.012
    momentum.value = 0.9000000000000001
    assert momentum.value == 0.9 and momentum.text == "0.9"
    momentum.value = 5.0                    # beyond the end: the end
    assert momentum.value == 0.99
    with pytest.raises(Exception, match="must be a number"):
        momentum.value = "0.5"
    x0 = explorer.start_sliders[0]
    x0.value = 3.04
    assert x0.value == 3.0 and explorer.start == (3.0, explorer.start[1])


# --- the schedule menu ---------------------------------------------------------------------------
def test_the_schedule_menu_scales_every_step_of_the_run(explorers):
    explorer = explorers("SGD", steps=40, lr=0.5)
    assert explorer.schedule_dropdown.value == "constant"
    explorer.schedule_dropdown.value = "cosine"
    t = np.arange(1, 41)
    rates = 0.5 * (1 + np.cos(np.pi * (t - 1) / 40)) / 2        # cosine to 0 over 40 steps
    (trajectory,) = explorer.trajectories
    np.testing.assert_allclose(trajectory.learning_rates, rates, rtol=1e-12, atol=1e-15)
    # SGD on x²/20 + y² by hand: each step multiplies x by (1 − η_t/10), y by (1 − 2η_t)
    x0, y0 = explorer.start
    expected = np.column_stack([x0 * np.cumprod(np.r_[1, 1 - rates / 10]),
                                y0 * np.cumprod(np.r_[1, 1 - 2 * rates])])
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(), expected, rtol=1e-12)
    assert "cosine" in explorer.readout.value
    explorer.schedule_dropdown.value = "constant"
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.5, explorer.start, 40), rtol=1e-12)


def test_every_menu_schedule_runs_and_a_given_schedule_is_offered(explorers):
    from gdviz import schedules
    explorer = explorers(["SGD", "Adam"], steps=30)
    for key in gdviz.explorer.SCHEDULE_CHOICES:
        explorer.schedule_dropdown.value = key
        assert all(not t.diverged for t in explorer.trajectories), key
    mine = schedules.step(5, 0.5)
    explorer = explorers("SGD", steps=12, lr=0.4, schedule=mine)
    assert explorer.schedule_dropdown.value == "given"
    np.testing.assert_allclose(explorer.trajectories[0].learning_rates,
                               0.4 * 0.5 ** ((np.arange(1, 13) - 1) // 5), rtol=1e-12)
    with pytest.raises(ValueError, match="schedule must be one of"):
        explore("SGD", schedule="sometimes")


# --- a drag in the browser is drawn once, at its last value -------------------------------------
def _record_failure(failures, action, *args):
    try:
        action(*args)
    except BaseException as exc:        # re-raised in the test's own thread
        failures.append(exc)


def test_changes_from_the_browser_are_drawn_once_the_waiting_ones_are_in(explorers):
    import asyncio
    import threading
    explorer = explorers("SGD", steps=20)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    runs, update = [], explorer.update
    explorer.update = lambda: (runs.append(slider.value), update())

    async def drag():
        for value in (0.1, 0.2, 0.3, 0.4):      # what a comm message from the browser does
            slider.set_state({"index": slider.grid.index(value)})
        assert runs == []                       # nothing drawn while changes are waiting
        await asyncio.sleep(0)
        assert runs == [0.4]                    # one run, of the last value
        slider.value = 0.5                      # from Python: at once
        assert runs == [0.4, 0.5]

    # In a thread of its own: asyncio.run refuses to start inside a running loop, and in the
    # full suite the browser tests' Playwright session keeps one running in this thread.
    failures = []
    worker = threading.Thread(target=lambda: _record_failure(failures, asyncio.run, drag()))
    worker.start()
    worker.join()
    if failures:
        raise failures[0]
    np.testing.assert_allclose(explorer.path_lines["SGD"].get_xydata(),
                               sgd_on_elongated_bowl(0.5, explorer.start, 20), rtol=1e-12)


# --- read without a kernel ------------------------------------------------------------------------
def test_the_display_bundle_has_the_widget_and_a_still_picture_for_readers_without_a_kernel(
        explorers):
    import base64
    import html as html_module
    import re
    explorer = explorers("SGD", steps=40, lr=0.95)
    bundle = explorer.display_bundle()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    page = bundle["text/html"]
    (data,) = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    still = image_of(base64.b64decode(data))
    assert still.size == image_of(explorer.image.value).size
    assert gdviz.explorer.OFFLINE_NOTE in page
    assert "η = 0.95" in page and html_module.escape(explorer.trajectories[0].message) in page


def test_a_drag_sends_its_value_at_the_release(explorers):
    """continuous_update=False: the browser sends a slider's value when the mouse is released
    (or a key pressed), not every value the drag passes, which would each be run and drawn."""
    explorer = explorers(["SGD", "Momentum"], steps=5)
    sliders = [s for group in explorer.hyperparameter_sliders.values() for s in group.values()]
    for slider in (*sliders, *explorer.start_sliders, explorer.noise_slider, explorer.steps_slider):
        assert slider.continuous_update is False, slider.description


def test_the_sent_picture_is_the_drawn_picture_in_256_colours(explorers):
    """The widget's PNG (palette chosen once per background, then reused) matches the
    full-colour picture: the optimizers' colours exactly, everything else within a few levels."""
    from gdviz.plotting import optimizer_color
    explorer = explorers(["SGD", "Momentum"], steps=40)
    for lr in (0.05, 0.3, 0.9):
        explorer.hyperparameter_sliders["SGD"]["lr"].value = lr
        sent = np.asarray(image_of(explorer.image.value).convert("RGB"), dtype=int)
        full = np.asarray(image_of(explorer.render_png()).convert("RGB"), dtype=int)
        assert sent.shape == full.shape
        error = np.abs(sent - full)
        assert error.mean() < 2 and np.percentile(error.max(axis=2), 99) <= 16
        for name in explorer.optimizers:
            assert drawn_in(explorer.image.value, optimizer_color(name)) > 0.5 * drawn_in(
                explorer.render_png(), optimizer_color(name))


def test_a_light_path_is_outlined_as_plotting_describes_it(explorers):
    """AdamW's yellow path keeps plotting's dark outline (outline_style): in the scene the
    explorer draws (the same description the player and the GIF draw), and in its pixels."""
    from gdviz import plotting
    explorer = explorers("AdamW", "himmelblau", steps=60, lr=0.1)
    path = explorer.path_lines["AdamW"]
    expected = plotting.outline_style(plotting.optimizer_color("AdamW"), path.get_linewidth())
    px_per_pt = explorer.figure.dpi / 72
    (drawn, _) = [p for p in explorer.view.scene["paths"]]       # the path panel, the loss panel
    assert drawn["outline"]["color"] == matplotlib.colors.to_hex(plotting.OUTLINE_COLOR)
    assert drawn["outline"]["lw"] == pytest.approx(expected["linewidth"] * px_per_pt, abs=0.01)
    assert drawn["outline"]["lw"] == pytest.approx(
        (path.get_linewidth() + plotting.OUTLINE_EXTRA_WIDTH) * px_per_pt, abs=0.01)
    assert drawn["marker_outline"] is not None
    # and it shows: the pixels just around the yellow are mostly dark (the outline's grey,
    # anti-aliased against the white: a 1-pixel edge of the path is a blend of the two)
    rgb = np.asarray(image_of(explorer.render_png()).convert("RGB"), dtype=int)
    yellow = (np.abs(rgb - [0xF0, 0xE4, 0x42]).sum(-1) < 40)
    yellow[:, rgb.shape[1] // 2:] = False                  # the path panel, not the loss panel
    near = np.zeros_like(yellow)
    for dy in (-2, -1, 0, 1, 2):
        for dx in (-2, -1, 0, 1, 2):
            near |= np.roll(np.roll(yellow, dy, 0), dx, 1)
    ring = near & ~yellow
    dark = (rgb.mean(-1) < 120) & ring
    assert yellow.sum() > 200 and dark.sum() > 0.4 * ring.sum()


def axes_pixel(axes, x, y, height):
    """Where the data point (x, y) of ``axes`` is in the picture (column, row from the top),
    from matplotlib's own transform of the axes the background was drawn with."""
    px, py = axes.transData.transform((x, y))
    return int(round(px)), int(round(height - py))


def test_the_picture_is_a_scene_drawn_over_the_background_as_a_gif_frame_is(explorers, monkeypatch):
    """One renderer: no matplotlib drawing per move (the background is drawn once), each
    picture is gdviz.scene's Compositor drawing the explorer's scene, and that scene puts the
    run where matplotlib's axes put its data."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gdviz import plotting, scene
    explorer = explorers("SGD", steps=20, lr=0.05)
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.1     # the background is drawn
    draws = explorer.n_background_draws

    def refused(*args, **kwargs):
        raise AssertionError("matplotlib drew over the background")
    monkeypatch.setattr(Figure, "draw_artist", refused)
    monkeypatch.setattr(FigureCanvasAgg, "restore_region", refused)
    monkeypatch.setattr(FigureCanvasAgg, "draw", refused)
    frames = []
    real_frame = scene.Compositor.frame
    monkeypatch.setattr(scene.Compositor, "frame",
                        lambda self, i: frames.append(self.scene) or real_frame(self, i))
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.3
    assert explorer.n_background_draws == draws and len(frames) == 1
    assert frames[0] is explorer.view.scene
    # the scene's path is the closed form, through the axes' own transform
    view, height = explorer.view, explorer.view.background.height
    expected = sgd_on_elongated_bowl(0.3, (-7.0, 2.0), 20)
    path = frames[0]["paths"][0]
    assert path["panel"] == 0 and len(path["xy"]) == 2 * 21
    for k in (0, 1, 5, 20):
        column, row = axes_pixel(view.path_axes, *expected[k], height)
        assert path["xy"][2 * k] == pytest.approx(column, abs=0.51)
        assert path["xy"][2 * k + 1] == pytest.approx(row, abs=0.51)
    # and the picture shows it: the head (the run's last point) in SGD's colour, where the
    # axes put (x_20, y_20); the background is the same image as matplotlib's still figure
    rgb = np.asarray(image_of(explorer.image.value).convert("RGB"), dtype=int)
    column, row = axes_pixel(view.path_axes, *expected[20], height)
    colour = np.array(matplotlib.colors.to_rgb(plotting.optimizer_color("SGD"))) * 255
    assert np.abs(rgb[row - 1:row + 2, column - 1:column + 2] - colour).sum(-1).min() < 40
    background = np.asarray(view.background, dtype=int)
    assert (np.abs(rgb - background).sum(-1) > 30).mean() < 0.1     # most pixels untouched


def test_an_explorer_scene_is_drawn_by_the_same_compositor_as_a_gif(explorers):
    """The explorer's scene over its background, drawn by a fresh Compositor (the GIF's),
    gives the explorer's picture exactly: nothing else is drawn on it."""
    from gdviz import scene
    explorer = explorers(["SGD", "Momentum"], steps=30, lr=1.2, momentum=0.9)   # SGD diverges
    view = explorer.view
    assert any(p["diverged_at"] == 19 for p in view.scene["paths"])
    assert len(view.scene["sprites"]) >= 2             # the loss panel's line and words
    fresh = scene.Compositor(view.scene, view.background).frame(0)
    np.testing.assert_array_equal(np.asarray(fresh), np.asarray(view.image()))
