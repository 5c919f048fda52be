"""Tests of gdviz.plotting: assert what was drawn, on the Agg backend.

Each test reads the artists back (line data, quiver vectors, mesh arrays, titles, legend texts)
and compares them with runs and theory computed independently here.
"""
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

import gdviz  # noqa: E402
from gdviz import plotting as gp  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


def _by_gid(ax, gid):
    return [artist for artist in ax.get_children() if artist.get_gid() == gid]


def _legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _classic_runs(steps=29):
    """The book's four runs; its figure shows the 30 positions θ₀ … θ₂₉ (29 steps)."""
    return [gdviz.run("SGD", "elongated_bowl", start=(-7, 2), steps=steps, lr=0.95),
            gdviz.run("Momentum", "elongated_bowl", start=(-7, 2), steps=steps, lr=0.1, momentum=0.9),
            gdviz.run("AdaGrad", "elongated_bowl", start=(-7, 2), steps=steps, lr=1.5, eps=1e-7),
            gdviz.run("Adam", "elongated_bowl", start=(-7, 2), steps=steps, lr=0.3, beta1=0.9,
                      beta2=0.999, eps=1e-7)]


# --- colours and styles ------------------------------------------------------------------------
# Colour vision, simulated independently of gdviz: Machado, Oliveira & Fernandes (2009),
# severity 1, on linear RGB; distances in CIELAB (D65).
_CVD = {"normal": np.eye(3),
        "protan": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
        "deutan": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                            [-0.011820, 0.042940, 0.968881]]),
        "tritan": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]])}


def _linear(hex_color):
    c = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _worst_difference(a, b):
    """The CIELAB ΔE between two colours as the least-favoured of the four visions sees them."""
    return min(np.linalg.norm(_lab(m @ _linear(a)) - _lab(m @ _linear(b))) for m in _CVD.values())


def _contrast(foreground, background="#FFFFFF"):
    """WCAG 2 contrast ratio (L1 + 0.05)/(L2 + 0.05) of relative luminances."""
    lum = [float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(matplotlib.colors.to_hex(c)))
           for c in (foreground, background)]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


def test_palette_is_okabe_ito_then_paul_tol():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    tol = {"#332288", "#882255", "#117733", "#999933", "#88CCEE", "#AA3377", "#EE6677", "#CCBB44"}
    assert set(gp.PALETTE[:8]) == okabe_ito == set(gp.OKABE_ITO.values())
    assert set(gp.PALETTE[8:]) == tol == set(gp.PAUL_TOL.values())


def test_twelve_palette_colours_stay_apart_in_every_colour_vision():
    """Protan-, deutan- and tritanopia simulated: the first 12 colours (one per optimizer today)
    stay ≥ 13 ΔE apart (Okabe–Ito's own eight are 16 apart); all sixteen stay ≥ 8 apart."""
    import itertools
    first12 = min(_worst_difference(a, b) for a, b in itertools.combinations(gp.PALETTE[:12], 2))
    okabe = min(_worst_difference(a, b) for a, b in itertools.combinations(gp.PALETTE[:8], 2))
    every = min(_worst_difference(a, b) for a, b in itertools.combinations(gp.PALETTE, 2))
    assert okabe > 16 and first12 > 13 and every > 8, (okabe, first12, every)


@pytest.mark.parametrize("name", list(gdviz.OPTIMIZERS))
def test_every_optimizer_has_its_own_palette_colour(name):
    color = gp.optimizer_color(name)
    assert color in gp.PALETTE
    others = {gp.optimizer_color(other) for other in gdviz.OPTIMIZERS if other != name}
    assert color not in others
    assert gp.optimizer_color(name.lower()) == color
    assert gp.optimizer_color(gdviz.get_optimizer(name)) == color
    assert gp.optimizer_color(gdviz.run(name, steps=1)) == color
    declared = vars(gdviz.OPTIMIZERS[name]).get("color")            # on its class, or a free one
    assert color == declared or (declared is None and color not in
                                 {vars(c).get("color") for c in gdviz.OPTIMIZERS.values()})


def test_variant_takes_its_parents_colour_and_bad_names_fail():
    from gdviz.variants import TextbookAdam
    assert gp.optimizer_color(TextbookAdam) == gp.optimizer_color("Adam")
    with pytest.raises(ValueError, match="choose one of: SGD"):
        gp.optimizer_color("Adamm")
    with pytest.raises(TypeError):
        gp.optimizer_color(3.0)


def test_styles_scale_fonts_and_lines_and_reject_unknown_names():
    with gp.style("notebook"):
        small = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"])
    with gp.style("projector"):
        big = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"])
        line = gp.plot_trajectory(gdviz.run("SGD", steps=3))
        assert line.get_linewidth() == big[1]
    assert big[0] > small[0] and big[1] > small[1]
    with matplotlib.rc_context():
        gp.use_style("projector")
        assert plt.rcParams["font.size"] == big[0]
    with pytest.raises(ValueError, match="notebook, projector"):
        gp.style("seaborn-whitegrid")


# --- contours ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(gdviz.SURFACES))
def test_contour_marks_every_minimum_of_every_surface(name):
    surface = gdviz.get_surface(name)
    contours = gp.plot_contour(name)
    ax = contours.axes
    assert isinstance(contours, ContourSet)
    (star,) = _by_gid(ax, "minimum")
    np.testing.assert_array_equal(np.column_stack(star.get_data()), np.array(surface.minima))
    assert ax.get_xlim() == surface.xlim and ax.get_ylim() == surface.ylim
    levels = contours.levels
    assert np.all(np.diff(levels) > 0)
    assert levels[0] >= surface.min_value - 1e-12   # the floor shows, even below zero (saddle)
    assert levels[0] - surface.min_value < 0.01 * (levels[-1] - surface.min_value)


def test_contour_levels_handle_negative_minimum_and_saturation():
    saddle = gp.contour_levels(np.array([[-0.25, 0.0], [1.0, 3.0]]), min_value=-0.25, n=8)
    assert saddle[0] > -0.25 and np.all(np.diff(saddle) > 0)
    plateau = gdviz.get_surface("plateau")
    X, Y = np.meshgrid(np.linspace(-10, 10, 200), np.linspace(-5, 5, 100))
    levels = gp.contour_levels(plateau.f(X, Y), plateau.min_value, 20)
    assert np.sum(levels > 0.99) >= 3                   # the plateau near 1 still has contours
    assert np.sum(levels < 0.1) >= 3                    # and so does the floor


def test_unknown_surface_lists_the_valid_ones():
    with pytest.raises(ValueError, match="elongated_bowl.*plateau"):
        gp.plot_contour("banana")
    assert plt.get_fignums() == []


# --- paths and loss ----------------------------------------------------------------------------
def test_trajectory_line_is_the_runs_points():
    traj = gdviz.run("Momentum", steps=25, lr=0.1, momentum=0.9)
    fig, ax = plt.subplots()
    line = gp.plot_trajectory(traj, ax)
    assert line.axes is ax
    np.testing.assert_array_equal(np.column_stack(line.get_data()), traj.points)
    (start,) = _by_gid(ax, "start")
    np.testing.assert_array_equal(np.column_stack(start.get_data()), traj.points[:1])
    assert traj.label in _legend_texts(ax)
    assert _by_gid(ax, "contour") and not _by_gid(ax, "diverged")


def test_diverged_run_is_marked_at_its_last_finite_point():
    traj = gdviz.run("SGD", steps=60, lr=1.2)
    assert traj.diverged
    line = gp.plot_trajectory(traj)
    ax = line.axes
    (cross,) = _by_gid(ax, "diverged")
    np.testing.assert_array_equal(np.column_stack(cross.get_data()), traj.points[-1:])
    assert np.all(np.isfinite(traj.points[-1]))
    assert any(f"diverged at step {traj.diverged_at}" in text for text in _legend_texts(ax))
    (note,) = _by_gid(ax, "diverged_note")               # the last point is off the view
    assert note.get_text() == f"SGD diverged at step {traj.diverged_at} ↑"
    assert gdviz.run("SGD", steps=3).diverged is False


def test_a_divergence_is_drawn_in_a_style_no_optimizer_uses_and_names_the_optimizer():
    """Issue 10 #11: SGD's divergence drawn in Momentum's vermillion read as "Momentum diverged"."""
    colours = {gp.optimizer_color(name).upper() for name in gdviz.OPTIMIZERS}
    assert gp.DIVERGED_COLOR.upper() not in colours | {c.upper() for c in gp.PALETTE}
    assert gp.DIVERGED_MARKER["markerfacecolor"] == "white"
    assert gp.diverged_label("SGD", 19) == "SGD diverged at step 19"
    for name, lr in (("SGD", 1.2), ("Momentum", 3.0), ("Nesterov", 2.5)):
        traj = gdviz.run(name, steps=60, lr=lr)
        assert traj.diverged, name
        ax = gp.plot_trajectory(traj).axes
        (cross,) = _by_gid(ax, "diverged")
        assert cross.get_marker() == "X"
        assert matplotlib.colors.to_hex(cross.get_markerfacecolor()) == "#ffffff"
        assert matplotlib.colors.to_hex(cross.get_markeredgecolor()).upper() == gp.DIVERGED_COLOR.upper()
        (note,) = _by_gid(ax, "diverged_note")
        assert note.get_text().startswith(f"{name} diverged at step {traj.diverged_at}")
        assert matplotlib.colors.to_hex(note.get_color()).upper() == gp.TEXT_COLOR.upper()
        frame = note.get_bbox_patch().get_edgecolor()                  # the colour beside the text
        assert matplotlib.colors.to_hex(frame).upper() == gp.optimizer_color(name).upper()
        loss_ax = gp.plot_loss([traj])[0].axes
        (cross,) = _by_gid(loss_ax, "diverged")
        assert matplotlib.colors.to_hex(cross.get_markeredgecolor()).upper() == gp.DIVERGED_COLOR.upper()
        plt.close("all")


def test_every_text_drawn_is_dark_enough_to_read(tmp_path):
    """Issue 10 #12: WCAG 2 contrast ≥ 4.5:1 on white for every text in figures with all twelve
    optimizers (their colours are on lines and frames, never on letters); the optimizer colours
    themselves may be lighter (AdamW's yellow is 1.3:1), which is why."""
    assert _contrast(gp.TEXT_COLOR) >= 15 and _contrast(gp.DIVERGED_COLOR) >= 4.5
    assert _contrast("#F0E442") < 1.5                      # what the issue measured, independently
    trajs = [gdviz.run(name, steps=40) for name in gdviz.OPTIMIZERS]
    trajs.append(gdviz.run("SGD", steps=60, lr=1.2))      # a divergence note at the edge
    fig, _ = gp.plot_comparison(trajs)
    figs = [fig, gp.small_multiples(trajs[:4] + trajs[-1:])[0],
            gp.plot_stability_map(gdviz.sweep("Momentum", steps=40, lr=np.geomspace(0.01, 5, 8),
                                              momentum=[0.0, 0.5, 0.9])).figure]
    light = plt.figure().subplots()                       # a note for a run drawn in yellow
    gp.plot_contour("elongated_bowl", light, xlim=(-1, 1), ylim=(-1, 1))
    gp.plot_trajectory(trajs[-1], light, color=gp.optimizer_color("AdamW"))
    figs.append(light.figure)
    texts = []
    for figure in figs:
        figure.savefig(tmp_path / "drawn.png")           # legends and annotations are placed
        texts += [t for t in figure.findobj(matplotlib.text.Text) if t.get_text().strip() and t.get_visible()]
    assert len(texts) > 30
    ratios = {t.get_text(): _contrast(t.get_color()) for t in texts}
    assert min(ratios.values()) >= 4.5, {k: round(v, 2) for k, v in ratios.items() if v < 4.5}


def test_a_broken_mathtext_title_names_its_argument():
    """Issue 10 #9: not a long parser traceback at draw time, but which argument is wrong, now."""
    traj = gdviz.run("SGD", steps=3)
    with pytest.raises(ValueError, match=r"titles\[1\] '\$x\^\$' is not mathtext.*\\\$"):
        gp.small_multiples([traj, traj], titles=["fine", "$x^$"])
    bad = r"$\alph$ run"
    with pytest.raises(ValueError, match="^" + re.escape(f"label {bad!r} is not mathtext")):
        gp.plot_trajectory(traj, label=bad)
    with pytest.raises(ValueError, match=r"^labels\[0\]"):
        gp.plot_loss([traj], labels=[r"$\frac{1}$"])
    with pytest.raises(ValueError, match=r"^labels\[1\]"):
        gp.plot_trajectories([traj, traj], labels=["a", r"$\sqrt$"])
    lines = gp.plot_loss([traj, traj], labels=[r"$\eta$ = 0.1", r"costs \$5 and \$6"])   # fine
    assert [line.get_label() for line in lines] == [r"$\eta$ = 0.1", r"costs \$5 and \$6"]


def test_trajectories_share_one_surface_and_get_distinct_colours():
    trajs = [gdviz.run("SGD", steps=10, lr=lr) for lr in (0.1, 0.5, 0.95)]
    lines = gp.plot_trajectories(trajs)
    assert len(lines) == 3 and len({line.axes for line in lines}) == 1
    for line, traj in zip(lines, trajs):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), traj.points)
    assert len({line.get_color() for line in lines}) == 3
    assert lines[0].get_color() == gp.optimizer_color("SGD")
    with pytest.raises(ValueError, match="one surface"):
        gp.plot_trajectories([trajs[0], gdviz.run("SGD", "rosenbrock", steps=3)])
    with pytest.raises(ValueError, match="no trajectories"):
        gp.plot_trajectories([])


def test_trajectory_on_an_axes_showing_another_surface_fails():
    ax = gp.plot_contour("rosenbrock").axes
    with pytest.raises(ValueError, match="rosenbrock"):
        gp.plot_trajectory(gdviz.run("SGD", steps=3), ax, contour=False)


@pytest.mark.parametrize("surface", ["elongated_bowl", "saddle", "plateau"])
def test_loss_is_gap_to_the_minimum_on_a_log_scale(surface):
    trajs = [gdviz.run("SGD", surface, steps=20, lr=0.1), gdviz.run("Adam", surface, steps=20, lr=0.1)]
    lines = gp.plot_loss(trajs)
    ax = lines[0].axes
    assert ax.get_yscale() == "log"
    for line, traj in zip(lines, trajs):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(traj.n_steps + 1))
        np.testing.assert_array_equal(line.get_ydata(), traj.losses - traj.surface.min_value)


def test_loss_marks_divergence_and_notes_exact_zeros():
    diverged = gdviz.run("SGD", steps=60, lr=1.2)
    exact = gdviz.run("SGD", "bowl", start=(0.0, 1.0), steps=5, lr=0.25)   # y ← (1 − 4η) y = 0
    assert exact.losses[-1] == 0.0
    lines = gp.plot_loss([diverged, exact])
    ax = lines[0].axes
    (cross,) = _by_gid(ax, "diverged")
    assert cross.get_xdata()[0] == diverged.n_steps == diverged.diverged_at - 1
    assert cross.get_ydata()[0] == diverged.losses[-1]
    assert any(f"diverged at step {diverged.diverged_at}" in t for t in _legend_texts(ax))
    (at_minimum,) = _by_gid(ax, "at_minimum")               # the zeros, marked along the bottom
    np.testing.assert_array_equal(at_minimum.get_xdata(), np.arange(1, 6))
    assert any("≤ 0" in t and "at step 1 and after" in t for t in _legend_texts(ax))


# --- panels ------------------------------------------------------------------------------------
def test_classic_figure_has_four_panels_with_the_books_runs():
    fig, axes = gp.classic_figure()
    assert len(axes) == 4 and len(fig.axes) == 4
    titles = [ax.get_title() for ax in axes]
    assert titles == ["SGD\nη=0.95", "Momentum\nη=0.1, α=0.9", "AdaGrad\nη=1.5, ε=1e-07",
                      "Adam\nη=0.3, β₁=0.9, β₂=0.999, ε=1e-07"]
    for ax, traj in zip(axes, _classic_runs()):
        (path,) = _by_gid(ax, "path")
        np.testing.assert_array_equal(np.column_stack(path.get_data()), traj.points)
        (star,) = _by_gid(ax, "minimum")
        assert list(zip(*star.get_data())) == [(0.0, 0.0)]
    # the picture is right: SGD's exact iterates zig-zag across the valley (1 − 2η < 0)
    (sgd,) = _by_gid(axes[0], "path")
    k = np.arange(30)                                     # θ₀ … θ₂₉, as the book draws
    np.testing.assert_allclose(sgd.get_xdata(), (1 - 0.95 / 10) ** k * -7, rtol=1e-12)
    np.testing.assert_allclose(sgd.get_ydata(), (1 - 2 * 0.95) ** k * 2, rtol=1e-12, atol=1e-15)
    assert np.all(np.sign(sgd.get_ydata()[1:]) != np.sign(sgd.get_ydata()[:-1]))


def test_classic_figure_draws_the_30_positions_the_books_loop_records():
    """The book's ch06/optimizer_compare_naive.py appends (x, y) and then updates, 30 times.
    Its own rules (tests/reference_optimizers.py's Textbook*) give the same points for SGD,
    Momentum and AdaGrad, and for Adam points within the 9e-6 classic_figure's docstring states."""
    from reference_optimizers import TextbookAdaGrad, TextbookAdam, TextbookMomentum, TextbookSGD

    books = [TextbookSGD(0.95), TextbookMomentum(0.1), TextbookAdaGrad(1.5), TextbookAdam(0.3)]
    _, axes = gp.classic_figure()
    gaps = []
    for ax, book in zip(axes, books):
        params, history = {"x": np.array(-7.0), "y": np.array(2.0)}, []
        for _ in range(30):
            history.append((float(params["x"]), float(params["y"])))
            book.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
        (path,) = _by_gid(ax, "path")
        drawn = np.column_stack(path.get_data())
        assert drawn.shape == (30, 2)
        gaps.append(np.max(np.abs(drawn - np.array(history))))
    assert max(gaps[:3]) < 1e-12
    assert 8e-6 < gaps[3] < 9e-6, gaps[3]                 # Adam: torch's ε placement vs the book's
    assert "8.7e-6" in gp.classic_figure.__doc__
    with pytest.raises(ValueError, match="positions"):
        gp.classic_figure(positions=0)


def test_classic_figure_draws_into_given_axes():
    fig, given = plt.subplots(2, 2)
    fig2, axes = gp.classic_figure(given)
    assert fig2 is fig and list(axes) == list(given.flat)
    with pytest.raises(ValueError, match="need 4 axes"):
        gp.classic_figure(given[0])


def test_small_multiples_one_panel_per_run():
    trajs = [gdviz.run(name, steps=10) for name in ("SGD", "Momentum", "Nesterov")]
    trajs.append(gdviz.run("SGD", steps=60, lr=1.2))
    fig, axes = gp.small_multiples(trajs)
    assert len(axes) == 4 == len(fig.axes)
    for ax, traj in zip(axes, trajs):
        (path,) = _by_gid(ax, "path")
        np.testing.assert_array_equal(np.column_stack(path.get_data()), traj.points)
    assert axes[3].get_title().endswith(f"diverged at step {trajs[3].diverged_at}")
    fig, axes = gp.small_multiples(trajs[:3])
    assert len(fig.axes) == 3


def test_comparison_has_paths_and_loss():
    trajs = _classic_runs()[:2]
    fig, (paths, loss) = gp.plot_comparison(trajs)
    assert len(_by_gid(paths, "path")) == 2 and loss.get_yscale() == "log"
    assert len(fig.legends) == 1


# --- inner state -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Momentum", "Nesterov"])
def test_velocity_arrows_are_the_state_v(name):
    traj = gdviz.run(name, steps=15, lr=0.1, momentum=0.9)
    quiver = gp.plot_velocity(traj)
    assert isinstance(quiver, Quiver)
    np.testing.assert_array_equal(quiver.get_offsets(), traj.points)
    np.testing.assert_array_equal(np.column_stack([quiver.U, quiver.V]), traj.states["v"])
    # Momentum's velocity is its step: θ_k = θ_{k−1} + v_k
    if name == "Momentum":
        np.testing.assert_allclose(traj.states["v"][1:], np.diff(traj.points, axis=0), atol=1e-15)


def test_velocity_refuses_optimizers_without_one():
    with pytest.raises(ValueError, match="SGD keeps no velocity; plot_velocity needs Momentum or Nesterov"):
        gp.plot_velocity(gdviz.run("SGD", steps=3))
    with pytest.raises(ValueError, match="plot_adam_moments"):
        gp.plot_velocity(gdviz.run("Adam", steps=3))
    assert plt.get_fignums() == []


def test_effective_lr_of_adagrad_is_eta_over_root_of_summed_squares():
    traj = gdviz.run("AdaGrad", steps=20, lr=1.5, eps=1e-7)
    lines = gp.plot_effective_lr(traj)
    h = np.cumsum(traj.used_grads ** 2, axis=0)
    expected = 1.5 / (np.sqrt(h) + 1e-7)
    for i, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 21))
        np.testing.assert_allclose(line.get_ydata(), expected[:, i], rtol=1e-12)
    assert lines[0].axes.get_yscale() == "log"


@pytest.mark.parametrize("name", ["RMSprop", "Adadelta", "Adam", "AdamW"])
def test_effective_lr_matches_the_optimizer_per_step(name):
    traj = gdviz.run(name, steps=12)
    lines = gp.plot_effective_lr(traj)
    for k in (1, 7, 12):
        state = {key: values[k] for key, values in traj.states.items()}
        state["step"] = k
        expected = np.broadcast_to(traj.optimizer.effective_lr(state), (2,))
        assert [line.get_ydata()[k - 1] for line in lines] == pytest.approx(expected, rel=1e-12)


def test_effective_lr_refuses_fixed_rate_optimizers():
    with pytest.raises(ValueError, match="Momentum uses the same learning rate.*AdaGrad"):
        gp.plot_effective_lr(gdviz.run("Momentum", steps=3))


def test_adam_moments_are_bias_corrected_running_means():
    b1, b2 = 0.8, 0.99
    traj = gdviz.run("Adam", steps=15, lr=0.3, beta1=b1, beta2=b2)
    drawn = gp.plot_adam_moments(traj)
    m = v = np.zeros(2)
    m_hat, v_hat = [], []
    for k, g in enumerate(traj.used_grads, start=1):          # the recurrence, from scratch
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat.append(m / (1 - b1 ** k))
        v_hat.append(v / (1 - b2 ** k))
    for i in range(2):
        np.testing.assert_allclose(drawn["m_hat"][i].get_ydata(), np.array(m_hat)[:, i], rtol=1e-12)
        np.testing.assert_allclose(drawn["v_hat"][i].get_ydata(), np.array(v_hat)[:, i], rtol=1e-12)
    k = np.arange(1, 16)
    np.testing.assert_allclose(drawn["corrections"][0].get_ydata(), 1 - b1 ** k)
    np.testing.assert_allclose(drawn["corrections"][1].get_ydata(), 1 - b2 ** k)
    np.testing.assert_allclose(drawn["m_hat"][0].get_ydata()[0], traj.used_grads[0, 0])  # m̂₁ = g₁
    with pytest.raises(ValueError, match="needs Adam or AdamW"):
        gp.plot_adam_moments(gdviz.run("RMSprop", steps=3))


# --- the anatomy of one step -------------------------------------------------------------------
# (every optimizer's terms add up to its steps: tests/test_extensibility.py)
def test_momentum_and_nesterov_terms_are_their_formulas():
    a, lr, k = 0.9, 0.1, 6
    for name, old, grad in (("Momentum", a, lr), ("Nesterov", a * a, (1 + a) * lr)):
        traj = gdviz.run(name, steps=10, lr=lr, momentum=a)
        v_prev = traj.points[k - 1] - traj.points[k - 2] if name == "Momentum" else traj.states["v"][k - 1]
        g = traj.surface.grad(*traj.points[k - 1])
        (_, kept), (_, gradient) = gp.step_terms(traj, k).terms
        np.testing.assert_allclose(kept, old * np.asarray(v_prev), rtol=1e-12)
        np.testing.assert_allclose(gradient, -grad * np.asarray(g), rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "AdamW", "Adam"])
def test_step_anatomy_arrows_add_up_to_the_step(name):
    traj = gdviz.run(name, steps=10, **({"weight_decay": 0.1} if name == "AdamW" else {}))
    k = 4
    drawn = gp.plot_step_anatomy(traj, k)
    step = traj.points[k] - traj.points[k - 1]
    terms = drawn["terms"]
    vectors = [np.array([q.U[0], q.V[0]]) for q in terms]
    np.testing.assert_allclose(np.sum(vectors, axis=0), step, rtol=1e-12, atol=1e-14)
    tail = traj.points[k - 1]                               # drawn tip to tail from θ_{k−1}
    for q, vector in zip(terms, vectors):
        np.testing.assert_allclose(q.get_offsets()[0], tail, rtol=1e-12)
        tail = tail + vector
    np.testing.assert_allclose(tail, traj.points[k], rtol=1e-12, atol=1e-14)
    q = drawn["step"]
    np.testing.assert_allclose([q.U[0], q.V[0]], step, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(q.get_offsets()[0], traj.points[k - 1])
    if name in ("Adam", "AdamW"):
        (ref,) = drawn["reference"]
        np.testing.assert_allclose([ref.U[0], ref.V[0]], -traj.optimizer.lr * traj.used_grads[k - 1])


def test_step_anatomy_rejects_steps_out_of_range():
    traj = gdviz.run("Momentum", steps=5)
    for bad in (0, 6, -1):
        with pytest.raises(ValueError, match=r"step must be in 1 … 5"):
            gp.plot_step_anatomy(traj, bad)
    with pytest.raises(TypeError):
        gp.plot_step_anatomy(traj, 2.5)
    assert plt.get_fignums() == []


def test_step_terms_of_an_unknown_variant_fall_back_to_the_whole_step():
    from gdviz.variants import NesterovOldOrder
    traj = gdviz.run(NesterovOldOrder(lr=0.1, momentum=0.9), steps=5)
    parts = gp.step_terms(traj, 3)
    assert parts.note and len(parts.terms) == 1
    np.testing.assert_allclose(parts.total, traj.points[3] - traj.points[2])


# --- stability maps ----------------------------------------------------------------------------
def _lambda_max(surface):
    return np.linalg.eigvalsh(gdviz.get_surface(surface).hessian).max()


def test_momentum_stability_map():
    lrs, alphas = np.geomspace(1e-2, 3, 24), np.linspace(0, 0.95, 11)
    result = gdviz.sweep("Momentum", lr=lrs, momentum=alphas, steps=80)
    mesh = gp.plot_stability_map(result, current=(0.1, 0.9))
    ax = mesh.axes
    assert isinstance(mesh, QuadMesh)
    image = mesh.get_array()
    assert image.shape == result.shape[::-1] == (11, 24)       # rows = α (y), columns = η (x)
    np.testing.assert_array_equal(np.ma.getmaskarray(image), result.diverged.T)
    (diverged,) = _by_gid(ax, "diverged")
    np.testing.assert_array_equal(~np.ma.getmaskarray(diverged.get_array()), result.diverged.T)
    assert "diverged" in _legend_texts(ax)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "η (lr)" and ax.get_ylabel() == "α (momentum)"
    (boundary,) = _by_gid(ax, "theory")
    alpha = boundary.get_ydata()
    np.testing.assert_allclose(boundary.get_xdata(), 2 * (1 + alpha) / _lambda_max("elongated_bowl"))
    (current,) = _by_gid(ax, "current")
    assert list(zip(*current.get_data())) == [(0.1, 0.9)]
    assert len(_by_gid(ax, "optimal")) == 1
    swapped = gp.plot_stability_map(result, x="momentum", theory=False, colorbar=False)
    assert swapped.get_array().shape == result.shape
    assert not _by_gid(swapped.axes, "theory")


@pytest.mark.parametrize("surface", ["elongated_bowl", "rotated_bowl"])
def test_sgd_sweep_draws_the_line_eta_two_over_lambda_max(surface):
    result = gdviz.sweep("SGD", surface, lr=np.linspace(0.05, 1.6, 32), steps=60)
    line = gp.plot_stability_map(result, current=0.5)
    ax = line.axes
    np.testing.assert_array_equal(line.get_xdata(), result.axes["lr"])
    (boundary,) = _by_gid(ax, "theory")
    np.testing.assert_allclose(boundary.get_xdata(), 2 / _lambda_max(surface))
    (cross,) = _by_gid(ax, "diverged")
    np.testing.assert_array_equal(cross.get_xdata(), result.axes["lr"][result.diverged])
    assert np.all(cross.get_xdata() > 2 / _lambda_max(surface))
    (current,) = _by_gid(ax, "current")
    assert list(current.get_xdata()) == [0.5, 0.5]
    assert ax.get_xlabel() == "η (lr)"


def test_steps_to_tol_map_and_no_theory_where_none_exists():
    result = gdviz.sweep("Nesterov", lr=np.geomspace(1e-2, 3, 12), momentum=np.linspace(0, 0.9, 6),
                         steps=60, tol=1e-4)
    mesh = gp.plot_stability_map(result, quantity="steps_to_tol")
    ax = mesh.axes
    assert len(_by_gid(ax, "theory")) == 1                 # NAG's own boundary (see the test below)
    never = (result.steps_to_tol < 0) & ~result.diverged
    assert never.any() and result.diverged.any()
    np.testing.assert_array_equal(np.ma.getmaskarray(mesh.get_array()), (result.steps_to_tol < 0).T)
    assert len(_by_gid(ax, "not_converged")) == 1
    assert not _by_gid(gp.plot_stability_map(gdviz.sweep("SGD", "rosenbrock", lr=[1e-4, 1e-3])).axes,
                       "theory")
    adam = gdviz.sweep("Adam", lr=np.geomspace(1e-2, 3, 4), beta1=[0.0, 0.9], steps=10)
    assert not _by_gid(gp.plot_stability_map(adam).axes, "theory")   # no exact theory for Adam


def test_stability_map_rejects_bad_arguments():
    result = gdviz.sweep("Momentum", lr=[0.1, 0.2], momentum=[0.5, 0.9], steps=5)
    with pytest.raises(ValueError, match="'final_loss', 'steps_to_tol'"):
        gp.plot_stability_map(result, quantity="loss")
    with pytest.raises(ValueError, match="current must be"):
        gp.plot_stability_map(result, current=0.1)
    with pytest.raises(ValueError, match="one or two"):
        gp.plot_stability_map(gdviz.sweep("Adam", lr=[0.1], beta1=[0.9], beta2=[0.99], steps=2))
    with pytest.raises(TypeError, match="SweepResult"):
        gp.plot_stability_map(gdviz.run("SGD", steps=2))


# --- composition: every function draws into a given axes, and leaks no figure ------------------
_TRAJ = dict(momentum=lambda: gdviz.run("Momentum", steps=8), adam=lambda: gdviz.run("Adam", steps=8))
_ONE_AXES = {
    "plot_contour": lambda ax: gp.plot_contour("himmelblau", ax),
    "plot_trajectory": lambda ax: gp.plot_trajectory(_TRAJ["momentum"](), ax),
    "plot_trajectories": lambda ax: gp.plot_trajectories([_TRAJ["momentum"](), _TRAJ["adam"]()], ax),
    "plot_loss": lambda ax: gp.plot_loss(_TRAJ["adam"](), ax),
    "plot_velocity": lambda ax: gp.plot_velocity(_TRAJ["momentum"](), ax),
    "plot_effective_lr": lambda ax: gp.plot_effective_lr(_TRAJ["adam"](), ax),
    "plot_step_anatomy": lambda ax: gp.plot_step_anatomy(_TRAJ["momentum"](), 3, ax),
    "plot_stability_map": lambda ax: gp.plot_stability_map(
        gdviz.sweep("Momentum", lr=[0.1, 1.0], momentum=[0.0, 0.9], steps=5), ax),
}


def _artists(drawn):
    if isinstance(drawn, dict):
        return [a for value in drawn.values() for a in (value if isinstance(value, list) else [value])]
    return drawn if isinstance(drawn, list) else [drawn]


@pytest.mark.parametrize("name", list(_ONE_AXES))
def test_function_draws_into_the_given_axes_and_returns_its_artists(name):
    fig, ax = plt.subplots()
    drawn = _ONE_AXES[name](ax)
    artists = _artists(drawn)
    assert artists and all(artist.axes is ax for artist in artists)
    assert plt.get_fignums() == [fig.number]


@pytest.mark.parametrize("name", list(_ONE_AXES))
def test_function_without_axes_makes_exactly_one_figure(name):
    drawn = _ONE_AXES[name](None)
    assert len(plt.get_fignums()) == 1
    plt.close(_artists(drawn)[0].figure)
    assert plt.get_fignums() == []


def test_figure_sizes_follow_the_style():
    """No hard-coded figure size: every figure gdviz makes is 10/7 as wide in the projector
    style (10 in) as in the notebook style (7 in)."""
    makers = {**{name: (lambda make=make: _artists(make(None))[0].figure) for name, make in _ONE_AXES.items()},
              "classic_figure": lambda: gp.classic_figure()[0],
              "plot_comparison": lambda: gp.plot_comparison(_classic_runs())[0],
              "small_multiples": lambda: gp.small_multiples(_classic_runs()[:3])[0],
              "plot_adam_moments": lambda: next(iter(gp.plot_adam_moments(_TRAJ["adam"]()).values()))[0].figure}
    for name, make in makers.items():
        widths = []
        for style in ("notebook", "projector"):
            with gp.style(style):
                widths.append(make().get_figwidth())
            plt.close("all")
        assert widths[1] == pytest.approx(widths[0] * 10 / 7), (name, widths)


@pytest.mark.parametrize("style", ["notebook", "projector"])
def test_a_comparison_of_all_twelve_keeps_its_legend_inside_the_figure(style, tmp_path):
    with gp.style(style):
        fig, _ = gp.plot_comparison([gdviz.run(name, steps=5) for name in gdviz.OPTIMIZERS])
        fig.savefig(tmp_path / "comparison.png", bbox_inches=None)      # the figure's own size
    (legend,) = fig.legends
    box = legend.get_window_extent(fig.canvas.get_renderer())
    assert len(legend.get_texts()) == len(gdviz.OPTIMIZERS) + 1              # + the minimum
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (box, fig.bbox.width)


def test_multi_panel_functions_make_one_figure_each():
    for make in (gp.classic_figure, lambda: gp.plot_comparison(_classic_runs()),
                 lambda: gp.small_multiples(_classic_runs()[:3])):
        fig, _ = make()
        assert plt.get_fignums() == [fig.number]
        plt.close(fig)
    drawn = gp.plot_adam_moments(_TRAJ["adam"]())
    assert len(plt.get_fignums()) == 1
    fig, axes = plt.subplots(3)
    drawn = gp.plot_adam_moments(_TRAJ["adam"](), axes)
    assert [lines[0].axes for lines in drawn.values()] == list(axes)


@pytest.mark.filterwarnings("error", "ignore::DeprecationWarning:matplotlib",
                            "ignore::DeprecationWarning:pyparsing")
def test_long_titles_are_not_cut_off(tmp_path):
    with gp.style("projector"):
        fig, axes = gp.classic_figure()
        fig.savefig(tmp_path / "classic.png")             # lay out, then check the extents
        renderer = fig.canvas.get_renderer()
        width = fig.bbox.width
        for ax in axes:
            box = ax.title.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= width
        legend = gp.plot_trajectories(_classic_runs()).__getitem__(0).axes.get_legend()
        legend.figure.savefig(tmp_path / "paths.png")
        renderer = legend.figure.canvas.get_renderer()
        for text in legend.get_texts():                    # every label inside the figure
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= legend.figure.bbox.width and box.y0 >= 0
        exact = gdviz.run("SGD", "bowl", start=(0.0, 1.0), steps=5, lr=0.25)
        lines = gp.plot_loss([gdviz.run("SGD", steps=60, lr=1.2), exact, gdviz.run("AdamW", steps=5)])
        lines[0].figure.savefig(tmp_path / "loss.png")     # no "constrained_layout not applied"


def test_nesterov_stability_map_draws_its_own_boundary():
    """NAG's limit 2(1+α)/((1+2α)λ_max), not heavy ball's: derived from NAG's characteristic
    polynomial (Jury's criterion), with λ_max from the Hessian here."""
    result = gdviz.sweep("Nesterov", steps=60, lr=np.geomspace(0.01, 3, 12), momentum=np.linspace(0, 0.9, 7))
    mesh = gp.plot_stability_map(result)
    (boundary,) = _by_gid(mesh.axes, "theory")
    alpha = boundary.get_ydata()
    np.testing.assert_allclose(boundary.get_xdata(),
                               2 * (1 + alpha) / ((1 + 2 * alpha) * _lambda_max("elongated_bowl")))
    assert "1+2" in "".join(_legend_texts(mesh.axes))
    plt.close(mesh.axes.figure)


def test_outline_style_is_the_stroke_plotting_draws():
    """The public description of the outline and the path effect drawn agree (a light colour
    gets a dark stroke OUTLINE_EXTRA_WIDTH points wider than the line; a dark one none)."""
    from matplotlib import patheffects
    with gp.style("notebook"):
        light = gp.plot_trajectory(gdviz.run("AdamW", steps=3, lr=0.1))
        dark = gp.plot_trajectory(gdviz.run("SGD", steps=3, lr=0.1))
        width = gp.STYLES["notebook"]["lines.linewidth"]
        assert gp.outline_style("#F0E442") == {"color": gp.OUTLINE_COLOR,
                                               "linewidth": width + gp.OUTLINE_EXTRA_WIDTH}
    stroke = [e for e in light.get_path_effects() if isinstance(e, patheffects.Stroke)]
    assert len(stroke) == 1 and not dark.get_path_effects()
    assert gp.outline_style("#0072B2") is None
    plt.close("all")


def test_artist_ids_are_named_in_one_place():
    """Every gid the package sets or looks for is a constant of gdviz.plotting.artist_ids (no
    string literal elsewhere), and the constants of one figure's artists are distinct."""
    from pathlib import Path

    from gdviz.plotting import artist_ids
    package = Path(gdviz.__file__).parent
    literal = re.compile(r"""(gid\s*=|set_gid\(|get_gid\(\)\s*(==|!=|in))\s*["'{(]""")
    offenders = [f"{path.relative_to(package)}:{n}" for path in sorted(package.rglob("*.py"))
                 for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if literal.search(line)]
    assert offenders == []
    scene = [artist_ids.CONTOUR, artist_ids.MINIMUM, artist_ids.SADDLE, artist_ids.START,
             artist_ids.PATH, artist_ids.LOSS, artist_ids.DIVERGED, artist_ids.AT_MINIMUM,
             artist_ids.DIVERGED_NOTE, artist_ids.DIVERGED_STEP, artist_ids.DIVERGED_STEP_NOTE,
             artist_ids.CURRENT_SETTING]
    assert len(set(scene)) == len(scene)
