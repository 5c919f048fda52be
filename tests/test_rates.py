"""Momentum direction by direction (gdviz.rates) and its pictures (gdviz.plotting.rate_map).

Expected values come from the quadratic formula for the roots of z² − (1 + α − ηλ)z + α, from
the scalar recurrence e_{k+1} = (1 + α − ηλ)e_k − αe_{k−1} iterated here, and from the
closed-form optimum (η*, α*) = ((2/(√λ_min + √λ_max))², ((√κ − 1)/(√κ + 1))²).
"""
import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gdviz  # noqa: E402
from gdviz import plotting as gp  # noqa: E402
from gdviz import rates  # noqa: E402

LAMBDAS = (0.1, 2.0)                       # x²/20 + y²


def _roots(lr, alpha, lam):
    b = 1 + alpha - lr * lam
    disc = complex(b * b - 4 * alpha) ** 0.5
    return (b + disc) / 2, (b - disc) / 2


@pytest.mark.parametrize("lr, alpha", [(0.1, 0.9), (0.5, 0.0), (1.0, 0.5), (1.9, 0.2), (2.5, 0.9), (0.01, 0.3)])
def test_rate_is_the_largest_root_modulus(lr, alpha):
    expected = [max(abs(z) for z in _roots(lr, alpha, lam)) for lam in LAMBDAS]
    assert np.allclose(rates.direction_rates(lr, alpha), expected, rtol=1e-12)
    assert math.isclose(rates.rate(lr, alpha), max(expected), rel_tol=1e-12)
    assert np.array_equal(rates.complex_roots(lr, alpha, np.array(LAMBDAS)),
                          [abs(_roots(lr, alpha, lam)[0].imag) > 0 for lam in LAMBDAS])


def test_rate_is_what_the_recurrence_does():
    """Iterate e_{k+1} = (1 + α − ηλ)e_k − αe_{k−1}: the error shrinks by the rate per step."""
    lr, alpha, lam = 0.3, 0.5, 2.0
    prev = e = 1.0
    sizes = []
    for _ in range(400):
        prev, e = e, (1 + alpha - lr * lam) * e - alpha * prev
        sizes.append(math.hypot(e, prev))
    measured = (sizes[-1] / sizes[199]) ** (1 / 200)
    assert math.isclose(measured, rates.direction_rates(lr, alpha)[1], rel_tol=1e-3)


def test_the_optimum_is_where_both_directions_are_critically_damped():
    root_kappa = math.sqrt(20)
    lr_star = (2 / (math.sqrt(0.1) + math.sqrt(2))) ** 2
    alpha_star = ((root_kappa - 1) / (root_kappa + 1)) ** 2
    assert np.allclose(rates.critical_momentum(lr_star, np.array(LAMBDAS)), alpha_star, rtol=1e-12)
    for lam in LAMBDAS:                                      # a double root: critically damped
        z1, z2 = _roots(lr_star, alpha_star, lam)
        assert abs(z1 - z2) < 1e-6
    grid = rates.rate_map(np.geomspace(0.01, 4, 301), np.linspace(0, 0.99, 301))
    assert grid.min() >= (root_kappa - 1) / (root_kappa + 1) - 1e-12   # nowhere faster than the optimum


def test_eigen_errors_follow_the_recurrence():
    run = gdviz.run("Momentum", "elongated_bowl", steps=50, lr=0.1, momentum=0.9)
    expected = np.empty((51, 2))
    for i, (lam, e0) in enumerate(zip(LAMBDAS, (-7.0, 2.0))):   # eigenvectors are the axes here
        prev = e = e0
        for k in range(51):
            expected[k, i] = e
            prev, e = e, (1 + 0.9 - 0.1 * lam) * e - 0.9 * prev
    assert np.allclose(np.abs(rates.eigen_errors(run)), np.abs(expected), rtol=1e-9, atol=1e-12)
    assert np.allclose(rates.predicted_eigen_errors(0.1, 0.9, steps=50), expected, rtol=1e-9, atol=1e-12)


def test_eigen_errors_on_the_turned_valley_project_onto_its_axes():
    surface = gdviz.get_surface("rotated_bowl", angle=30)
    run = gdviz.run("Momentum", surface, steps=20, lr=0.2, momentum=0.5)
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    along, across = np.array([c, s]), np.array([-s, c])       # the long axis points at 30°
    errors = rates.eigen_errors(run)
    assert np.allclose(np.abs(errors[:, 0]), np.abs(run.points @ along), atol=1e-12)
    assert np.allclose(np.abs(errors[:, 1]), np.abs(run.points @ across), atol=1e-12)
    assert np.allclose(np.abs(rates.predicted_eigen_errors(0.2, 0.5, surface, steps=20)), np.abs(errors),
                       rtol=1e-9, atol=1e-12)


def test_rates_need_a_quadratic():
    with pytest.raises(TypeError, match="quadratic"):
        rates.rate(0.1, 0.9, "rosenbrock")


def test_rate_map_figure():
    lrs, alphas = np.geomspace(0.01, 4, 50), np.linspace(0, 0.99, 40)
    fig, ax = plt.subplots()
    mesh = gp.plot_rate_map(ax=ax, lrs=lrs, momentums=alphas, current=(0.1, 0.9))
    shown = np.ma.getdata(mesh.get_array()).reshape(40, 50)
    mask = np.ma.getmaskarray(mesh.get_array()).reshape(40, 50)
    expected = np.array([[max(max(abs(z) for z in _roots(lr, a, lam)) for lam in LAMBDAS) for lr in lrs]
                         for a in alphas])
    assert np.array_equal(mask, expected >= 1)
    assert np.allclose(shown[~mask], expected[~mask], rtol=1e-9)
    star = next(line for line in ax.lines if line.get_gid() == "optimal")
    assert np.allclose([star.get_xdata()[0], star.get_ydata()[0]], gdviz.theory.momentum_optimal())
    assert len([line for line in ax.lines if line.get_gid() == "critical"]) == 2
    fig.savefig(__import__("io").BytesIO(), format="png")
    plt.close(fig)


def test_eigen_error_figure_draws_the_run():
    run = gdviz.run("Momentum", "elongated_bowl", steps=30, lr=0.1, momentum=0.9)
    fig, ax = plt.subplots()
    lines = gp.plot_eigen_errors(run, ax)
    assert np.allclose(lines[0].get_ydata(), np.abs(run.points[:, 0]))
    assert np.allclose(lines[1].get_ydata(), np.abs(run.points[:, 1]))
    plt.close(fig)


@pytest.mark.parametrize("current", [None, (0.1, 0.9)])
def test_no_contour_label_sits_on_the_star(current):
    # the 0.7 contour is a small loop around the optimum; its label used to land under the star
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    gp.plot_rate_map(ax=ax, current=current)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    star = next(line for line in ax.lines if line.get_gid() == "optimal")
    x, y = ax.transData.transform((star.get_xdata()[0], star.get_ydata()[0]))
    r = star.get_markersize() * fig.dpi / 72 / 2          # the star's radius in pixels
    labels = [t for t in ax.texts if t.get_text() in {"0.7", "0.8", "0.9", "0.95"}]
    assert labels, "the contours are labelled"
    for label in labels:
        box = label.get_window_extent(renderer)
        nearest = (min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1))
        assert np.hypot(nearest[0] - x, nearest[1] - y) > r, f"label {label.get_text()} touches the star"
    plt.close(fig)
