"""gdviz.theory against independent computations, and against what the runs actually do.

Curvatures come from central differences of each surface's gradient (not from its
``hessian`` attribute); rates are measured from real runs; the momentum iteration matrix's
spectral radius comes from ``np.linalg.eigvals``.
"""
import numpy as np
import pytest

import gdviz
from gdviz import SURFACES, theory

QUADRATICS = [name for name in SURFACES if issubclass(SURFACES[name], gdviz.Quadratic)]
EXTRA = [gdviz.get_surface("rotated_bowl", angle=30, condition=50),
         gdviz.get_surface("rotated_bowl", angle=-70, condition=4)]
SURFACE_CASES = [gdviz.get_surface(name) for name in QUADRATICS] + EXTRA
IDS = [repr(s) if s.parameters else s.name for s in SURFACE_CASES]


def curvatures(surface):
    """(λ_min, λ_max) from central differences of the gradient at the origin."""
    h = 1e-4
    columns = [(np.array(surface.grad(*(e * h))) - np.array(surface.grad(*(-e * h)))) / (2 * h)
               for e in np.eye(2)]
    hessian = np.column_stack(columns)
    low, high = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    return float(low), float(high)


def distance_rate(points, first, last, target=(0.0, 0.0)):
    """(‖θ_last − θ*‖/‖θ_first − θ*‖)^(1/(last − first)); hypot, as squares of 1e-160 underflow."""
    d = np.hypot(*(np.asarray(points) - np.asarray(target)).T)
    return (d[last] / d[first]) ** (1.0 / (last - first))


@pytest.mark.parametrize("surface", SURFACE_CASES, ids=IDS)
def test_closed_forms_match_an_independent_computation(surface):
    low, high = curvatures(surface)
    kappa = high / low
    rtol = 1e-7                                     # the finite differences' accuracy
    assert theory.eigenvalues(surface) == pytest.approx((low, high), rel=rtol)
    assert theory.condition_number(surface) == pytest.approx(kappa, rel=rtol)
    assert theory.gd_lr_limit(surface) == pytest.approx(2 / high, rel=rtol)
    assert theory.gd_optimal_lr(surface) == pytest.approx(2 / (low + high), rel=rtol)
    assert theory.gd_optimal_rate(surface) == pytest.approx((kappa - 1) / (kappa + 1), rel=rtol)
    lr = np.geomspace(1e-3, 3, 50)
    np.testing.assert_allclose(theory.gd_rate(lr, surface),
                               np.maximum(abs(1 - lr * low), abs(1 - lr * high)), rtol=rtol)
    alpha = np.linspace(0, 0.99, 7)
    np.testing.assert_allclose(theory.momentum_lr_limit(alpha, surface), 2 * (1 + alpha) / high, rtol=rtol)
    root = np.sqrt(kappa)
    eta, momentum = theory.momentum_optimal(surface)
    assert eta == pytest.approx((2 / (np.sqrt(low) + np.sqrt(high))) ** 2, rel=rtol)
    assert momentum == pytest.approx(((root - 1) / (root + 1)) ** 2, rel=rtol)
    assert theory.momentum_optimal_rate(surface) == pytest.approx((root - 1) / (root + 1), rel=rtol)


def test_the_elongated_bowl_facts():
    assert theory.condition_number("elongated_bowl") == pytest.approx(20)
    assert theory.gd_lr_limit("elongated_bowl") == pytest.approx(1.0)
    assert theory.gd_lr_limit("bowl") == pytest.approx(0.5)


@pytest.mark.parametrize("surface", SURFACE_CASES, ids=IDS)
def test_momentum_rate_is_the_spectral_radius_of_the_iteration_matrix(surface):
    """max over λ of the spectral radius of [[1 + α − ηλ, −α], [1, 0]], by np.linalg.eigvals."""
    low, high = curvatures(surface)
    lr = np.geomspace(1e-3, 2.5 * 2 / high, 40)[:, None]
    alpha = np.linspace(0, 0.99, 25)[None, :]
    got = theory.momentum_rate(lr, alpha, surface)
    assert got.shape == (40, 25)
    for i, j in np.ndindex(got.shape):
        eta, a = lr[i, 0], alpha[0, j]
        radius = max(np.abs(np.linalg.eigvals([[1 + a - eta * lam, -a], [1.0, 0.0]])).max()
                     for lam in (low, high))
        # a double root (the matrix is a Jordan block) is computed only to about √ε
        assert got[i, j] == pytest.approx(radius, rel=1e-6), f"η = {eta}, α = {a}"


def test_the_iteration_matrix_is_what_momentum_does():
    """Along an eigen-direction, heavy-ball momentum's iterates obey
    θ_{k+1} = (1 + α − ηλ) θ_k − α θ_{k−1}, the first row of the matrix above."""
    lr, alpha = 0.7, 0.6
    traj = gdviz.run("Momentum", "elongated_bowl", steps=40, lr=lr, momentum=alpha)
    for column, lam in ((0, 0.1), (1, 2.0)):
        theta = traj.points[:, column]
        predicted = (1 + alpha - lr * lam) * theta[1:-1] - alpha * theta[:-2]
        np.testing.assert_allclose(theta[2:], predicted, rtol=1e-12, atol=1e-12 * abs(theta[0]))


@pytest.mark.parametrize("surface", SURFACE_CASES, ids=IDS)
def test_gradient_descent_at_the_optimal_rate_measures_kappa_minus_one_over_kappa_plus_one(surface):
    low, high = curvatures(surface)
    kappa = high / low
    traj = gdviz.run("SGD", surface, steps=400, lr=2 / (low + high))
    assert distance_rate(traj.points, 200, 400) == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-6)
    assert theory.measured_rate(traj, 200, 400) == pytest.approx(distance_rate(traj.points, 200, 400), rel=1e-12)


@pytest.mark.parametrize("surface", SURFACE_CASES, ids=IDS)
def test_momentum_at_the_optimum_measures_root_kappa_minus_one_over_root_kappa_plus_one(surface):
    """Within 1%: at the optimum both modes are double roots (Jordan blocks), so the error
    decays like k·rᵏ and the rate measured over steps 200→400 exceeds r by (400/200)^(1/200)."""
    low, high = curvatures(surface)
    root = np.sqrt(high / low)
    rate = (root - 1) / (root + 1)
    lr, alpha = (2 / (np.sqrt(low) + np.sqrt(high))) ** 2, rate ** 2
    traj = gdviz.run("Momentum", surface, steps=400, lr=lr, momentum=alpha)
    measured = distance_rate(traj.points, 200, 400)
    assert measured == pytest.approx(rate, rel=0.01)
    assert measured / rate == pytest.approx(2 ** (1 / 200), rel=2e-3)
    # a 5% smaller momentum is measurably slower: the optimum is where theory says
    slower = gdviz.run("Momentum", surface, steps=400, lr=lr, momentum=0.95 * alpha)
    assert distance_rate(slower.points, 200, 400) > 1.01 * rate


def test_measured_rate_defaults_to_the_second_half_and_checks_its_range():
    traj = gdviz.run("Momentum", "elongated_bowl", steps=60, lr=0.1, momentum=0.9)
    assert theory.measured_rate(traj) == pytest.approx(distance_rate(traj.points, 30, 60), rel=1e-12)
    assert abs(distance_rate(traj.points, 20, 60) / distance_rate(traj.points, 30, 60) - 1) > 1e-3
    himmelblau = gdviz.run("SGD", "himmelblau", steps=200, lr=0.01)     # goes to (3, 2)
    assert theory.measured_rate(himmelblau, 100, 200) == pytest.approx(
        distance_rate(himmelblau.points, 100, 200, target=(3.0, 2.0)), rel=1e-12)
    for first, last in ((30, 30), (-1, 10), (0, 61)):
        with pytest.raises(ValueError, match="first"):
            theory.measured_rate(traj, first, last)


def test_measured_rate_does_not_underflow_for_tiny_distances():
    """Fast runs get within 1e-160 of the minimum; squaring such distances underflows to 0,
    so the rate must be measured with hypot (or scaling), not sqrt(x² + y²)."""
    traj = gdviz.run("Momentum", "elongated_bowl", start=(-7e-165, 2e-165), steps=100, lr=0.5, momentum=0.2)
    assert np.all(np.hypot(*traj.points.T) > 0)
    assert theory.measured_rate(traj, 0, 100) == pytest.approx(distance_rate(traj.points, 0, 100), rel=1e-12)


@pytest.mark.parametrize("name", [name for name in SURFACES if name not in QUADRATICS])
def test_theory_refuses_surfaces_that_are_not_quadratic(name):
    with pytest.raises(TypeError, match=name):
        theory.gd_lr_limit(name)


def nesterov_step_matrix(lr, momentum, lam):
    """gdviz's Nesterov on f = λθ²/2, as a linear map of (θ, v), read off one step of the optimizer.

    Independent of theory.py: the columns are gdviz.Nesterov applied to the unit states.
    """
    columns = []
    for theta0, v0 in ((1.0, 0.0), (0.0, 1.0)):
        opt = gdviz.Nesterov(lr=lr, momentum=momentum)
        params = {"t": np.array(theta0)}
        opt.state["t"] = {"step": 1, "v": np.array(v0)}
        opt.update(params, {"t": np.array(lam * theta0)})
        columns.append((float(params["t"]), float(opt.state["t"]["v"])))
    return np.array(columns).T


@pytest.mark.parametrize("surface", SURFACE_CASES, ids=IDS)
def test_nesterov_rate_and_limit_match_the_step_matrix_of_gdviz_nesterov(surface):
    _, lam_max = curvatures(surface)
    rng = np.random.default_rng(3)
    for momentum in np.linspace(0, 0.95, 6):
        limit = float(theory.nesterov_lr_limit(momentum, surface))
        for lr in (0.97 * limit, 1.03 * limit, *rng.uniform(0.01, 1.2 * limit, 3)):
            radius = max(np.abs(np.linalg.eigvals(nesterov_step_matrix(lr, momentum, lam))).max()
                         for lam in curvatures(surface))
            assert theory.nesterov_rate(lr, momentum, surface) == pytest.approx(radius, rel=1e-6, abs=1e-9)
            assert (radius < 1) == (lr < limit), (momentum, lr, limit, radius)
        assert limit == pytest.approx(2 * (1 + momentum) / ((1 + 2 * momentum) * lam_max), rel=1e-6)


def test_nesterov_sweep_boundary_matches_the_limit():
    alphas = np.linspace(0, 0.95, 12)
    for alpha in alphas:
        limit = 2 * (1 + alpha) / ((1 + 2 * alpha) * 2.0)         # λ_max = 2 on the elongated bowl
        result = gdviz.sweep("Nesterov", steps=400, lr=[0.98 * limit, 1.02 * limit], momentum=float(alpha))
        assert result.final_loss[0] < result.initial_loss < result.final_loss[1], alpha


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 90.0])
def test_theory_stays_finite_and_right_at_the_largest_condition_number(angle):
    """κ = MAX_CONDITION (1e6): λ_min = 2e-6 survives the rotation, so every closed form is finite
    and equal to its formula in λ_min = 2/κ, λ_max = 2 (an independent construction)."""
    kappa = gdviz.surfaces.RotatedBowl.MAX_CONDITION
    assert kappa == 1e6
    surface = gdviz.get_surface("rotated_bowl", angle=angle, condition=kappa)
    low, high = 2 / kappa, 2.0
    assert theory.eigenvalues(surface) == pytest.approx((low, high), rel=1e-9)
    assert theory.condition_number(surface) == pytest.approx(kappa, rel=1e-9)
    assert theory.gd_lr_limit(surface) == pytest.approx(1.0, rel=1e-12)
    assert theory.gd_optimal_lr(surface) == pytest.approx(2 / (low + high), rel=1e-12)
    assert theory.gd_optimal_rate(surface) == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-12)
    lr, momentum = theory.momentum_optimal(surface)
    assert lr == pytest.approx((2 / (np.sqrt(low) + np.sqrt(high))) ** 2, rel=1e-9)
    root = np.sqrt(kappa)
    assert momentum == pytest.approx(((root - 1) / (root + 1)) ** 2, rel=1e-9)
    assert theory.momentum_optimal_rate(surface) == pytest.approx((root - 1) / (root + 1), rel=1e-9)
    assert np.isfinite(theory.momentum_rate(lr, momentum, surface))
