"""run and sweep: closed forms, hand-run optimizers, clean divergence, seeded noise, and
sweeps that equal the same configurations run one by one."""
import copy
import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_theory import curvatures      # (λ_min, λ_max) by finite differences, independent of .hessian

import gdviz
from gdviz import OPTIMIZERS, SURFACES

ROOT = Path(__file__).resolve().parents[1]


def assert_close(actual, expected, rtol=1e-13, what=""):
    """Relative error ≤ rtol against max(1, |expected|): absolute where values are O(1), since
    a vectorized and a scalar evaluation of, e.g., y³ − y near y = 1 differ by an ulp of 1."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))
    assert np.all(err <= rtol), f"{what}: worst error {np.nanmax(err):.3g} > {rtol:g}"


def bound_of(surface):
    """The documented divergence box: 100 times the largest coordinate of the view."""
    return 100.0 * max(abs(v) for v in (*surface.xlim, *surface.ylim))


def gd_closed_form(lr, k):
    """Gradient descent on x²/20 + y² from (−7, 2): x_k = (1 − η/10)^k (−7), y_k = (1 − 2η)^k 2."""
    k = np.asarray(k, dtype=float)
    return (1 - lr / 10) ** k * -7.0, (1 - 2 * lr) ** k * 2.0


# --- run ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [0.05, 0.3, 0.7, 0.95])
def test_gradient_descent_follows_the_closed_form(lr):
    traj = gdviz.run("SGD", "elongated_bowl", steps=50, lr=lr)
    x, y = gd_closed_form(lr, np.arange(51))
    assert not traj.diverged and traj.n_steps == 50
    np.testing.assert_allclose(traj.points[:, 0], x, rtol=1e-12, atol=0)
    np.testing.assert_allclose(traj.points[:, 1], y, rtol=1e-12, atol=0)
    np.testing.assert_allclose(traj.losses, x * x / 20 + y * y, rtol=1e-12, atol=0)
    np.testing.assert_allclose(traj.grads, np.column_stack([x / 10, 2 * y]), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(traj.used_grads, traj.grads[:-1])


def hand_run(cls, surface, steps, bound):
    """The loop a student would write: the optimizer's face, the surface's gradient, the box."""
    opt = cls()
    params = {"x": np.array(float(surface.start[0])), "y": np.array(float(surface.start[1]))}
    start = {c: opt.init_state(params[c]) for c in params}     # the state at k = 0 (NAdam's Π is 1)
    points, diverged_at = [tuple(surface.start)], None
    states = {n: [(float(start["x"][n]), float(start["y"][n]))] for n in cls.state_names}
    for k in range(1, steps + 1):
        gx, gy = surface.grad(float(params["x"]), float(params["y"]))
        opt.update(params, {"x": np.array(gx), "y": np.array(gy)})
        x, y = float(params["x"]), float(params["y"])
        finite = all(math.isfinite(v) for v in (x, y, surface.f(x, y), *surface.grad(x, y)))
        if not finite or max(abs(x), abs(y)) > bound:
            diverged_at = k
            break
        points.append((x, y))
        for name in cls.state_names:
            states[name].append((float(opt.state["x"][name]), float(opt.state["y"][name])))
    return np.array(points), {n: np.array(v) for n, v in states.items()}, diverged_at


@pytest.mark.parametrize("surface_name", list(SURFACES))
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_recorded_run_matches_a_hand_run_optimizer(name, surface_name):
    surface = gdviz.get_surface(surface_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = gdviz.run(name, surface, steps=25)
        points, states, diverged_at = hand_run(OPTIMIZERS[name], surface, 25, bound_of(surface))
    assert traj.diverged_at == diverged_at
    assert_close(traj.points, points, what="points")
    x, y = points.T
    assert_close(traj.losses, surface.f(x, y), what="losses")
    assert_close(traj.grads, np.column_stack(np.broadcast_arrays(*surface.grad(x, y))), what="grads")
    np.testing.assert_array_equal(traj.used_grads, traj.grads[:-1])
    assert set(traj.states) == set(OPTIMIZERS[name].state_names)
    for state_name, values in states.items():
        assert_close(traj.states[state_name], values, what=state_name)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_the_state_at_step_zero_is_what_init_state_gives(name):
    """k = 0 is the state before any step, as run records it and as the figures and the
    explorer read it: init_state's arrays (not zeros: NAdam's product of μ's starts at 1)."""
    from gdviz.explorer.wiring import _up_to
    from gdviz.plotting._common import _state_at

    opt = OPTIMIZERS[name]()
    traj = gdviz.run(opt, "elongated_bowl", steps=5)
    start = {c: opt.init_state(np.array(v)) for c, v in zip("xy", traj.points[0])}
    expected = {n: np.array([start["x"][n], start["y"][n]]) for n in opt.state_names}
    for state in ({n: v[0] for n, v in traj.states.items()}, {n: v[0] for n, v in _up_to(traj, 0).states.items()},
                  _state_at(traj, 0)):
        assert set(state) - {"step"} == set(expected), name
        for n, values in expected.items():
            np.testing.assert_array_equal(state[n], values, err_msg=f"{name}: {n} at k = 0")
    assert _state_at(traj, 0)["step"] == 0


def test_nadam_starts_with_the_empty_product_of_momentum_coefficients():
    traj = gdviz.run("NAdam", "elongated_bowl", steps=3)
    np.testing.assert_array_equal(traj.states["mu_product"][0], (1.0, 1.0))      # Π of no μ's
    np.testing.assert_array_equal(traj.states["m"][0], (0.0, 0.0))


@pytest.mark.parametrize("lr", [1.05, 1.2, 3.0, 50.0])
def test_divergence_stops_at_the_first_bad_step_without_warnings(lr, recwarn):
    bound = bound_of(gdviz.get_surface("elongated_bowl"))
    x, y = gd_closed_form(lr, np.arange(1, 100))
    expected = 1 + int(np.argmax(np.maximum(np.abs(x), np.abs(y)) > bound))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = gdviz.run("SGD", "elongated_bowl", steps=100, lr=lr)
    assert len(recwarn) == 0
    assert traj.diverged and traj.diverged_at == expected
    assert traj.n_steps == expected - 1 and len(traj.points) == len(traj.losses) == len(traj.grads) == expected
    assert len(traj.used_grads) == expected - 1
    cx, cy = gd_closed_form(lr, np.arange(expected))
    np.testing.assert_allclose(traj.points, np.column_stack([cx, cy]), rtol=1e-12)
    assert np.all(np.abs(traj.points) <= bound)
    assert f"step {expected}" in traj.message


@pytest.mark.parametrize("k, margin", [(30, 0.999), (30, 1.001), (5, 0.9999)])
def test_divergence_box_is_exact(k, margin):
    """A box just inside |y_k| stops the run at step k; just outside it, at step k + 1."""
    lr = 1.2
    bound = margin * abs(gd_closed_form(lr, k)[1])
    traj = gdviz.run("SGD", "elongated_bowl", steps=100, lr=lr, bound=bound)
    assert traj.diverged_at == (k if margin < 1 else k + 1)
    assert f"{bound:g}" in traj.divergence_reason


@pytest.mark.parametrize("k", [4, 10, 20])
def test_divergence_box_is_exact_at_the_bound_itself(k):
    """|y_k| equal to the bound is still inside the box (|x|, |y| ≤ bound); the run leaves it
    at step k + 1. With η = 1.25 every step is exact in binary (y_k = 2·(−1.5)^k), so the point
    lands on the bound to the last bit."""
    lr = 1.25
    bound = 2 * 1.5 ** k
    traj = gdviz.run("SGD", "elongated_bowl", steps=100, lr=lr, bound=bound)
    assert abs(traj.points[k][1]) == bound                       # exactly on it
    assert traj.diverged_at == k + 1


def test_a_point_exactly_on_the_bound_is_inside_for_sweep_and_start_too():
    """SGD with η = 1.5 from (0, 2): y₁ = (1 − 2η)·2 = −4 exactly. With bound = 4 step 1 is still
    inside the box (|y| ≤ bound), step 2 (y = 8) is out: run and sweep agree."""
    traj = gdviz.run("SGD", "elongated_bowl", start=(0.0, 2.0), steps=5, lr=1.5, bound=4.0)
    assert traj.points[1].tolist() == [0.0, -4.0]
    assert traj.diverged_at == 2
    result = gdviz.sweep("SGD", "elongated_bowl", start=(0.0, 2.0), steps=1, lr=[1.5], bound=4.0)
    assert not result.diverged[0] and result.final_points[0].tolist() == [0.0, -4.0]
    assert gdviz.sweep("SGD", "elongated_bowl", start=(0.0, 2.0), steps=2, lr=[1.5], bound=4.0).diverged_at[0] == 2
    on_the_edge = gdviz.run("SGD", "elongated_bowl", start=(0.0, 4.0), steps=1, lr=0.5, bound=4.0)
    assert not on_the_edge.diverged, "a start on the bound is inside the box"


def test_a_sweep_that_starts_inside_tol_reached_it_at_step_zero():
    """f(0, 0.001) = 1e-6 ≤ tol: steps_to_tol is 0 (like run's losses[0]), unless the run then
    diverges (η = 1.5 doubles y every step), which makes it −1."""
    tol, start = 1e-5, (0.0, 0.001)
    result = gdviz.sweep("SGD", "elongated_bowl", start=start, steps=30, tol=tol, lr=[0.1, 0.5, 1.5])
    np.testing.assert_array_equal(result.steps_to_tol, [0, 0, -1])
    np.testing.assert_array_equal(result.diverged, [False, False, True])
    for lr in (0.1, 0.5):
        assert gdviz.run("SGD", "elongated_bowl", start=start, steps=30, lr=lr).losses[0] <= tol


def test_overflow_is_divergence_too():
    """With no box (bound = inf) the run stops where the loss first overflows, η = 10."""
    lr = 10.0
    with np.errstate(over="ignore"):
        x, y = gd_closed_form(lr, np.arange(1, 400))
        expected = 1 + int(np.argmax(~np.isfinite(x * x / 20 + y * y)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = gdviz.run("SGD", "elongated_bowl", steps=300, lr=lr, bound=math.inf)
    assert traj.diverged_at == expected and np.all(np.isfinite(traj.losses))
    assert "overflow" in traj.divergence_reason


def test_same_seed_same_run_different_seed_different_run():
    a = gdviz.run("Adam", "rosenbrock", steps=40, noise=0.3, seed=7)
    b = gdviz.run("Adam", "rosenbrock", steps=40, noise=0.3, seed=7)
    c = gdviz.run("Adam", "rosenbrock", steps=40, noise=0.3, seed=8)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.used_grads, b.used_grads)
    assert np.all(a.points[1:] != c.points[1:])
    s1 = gdviz.sweep("Momentum", steps=20, noise=0.3, seed=3, lr=[0.01, 0.1])
    s2 = gdviz.sweep("Momentum", steps=20, noise=0.3, seed=3, lr=[0.01, 0.1])
    s3 = gdviz.sweep("Momentum", steps=20, noise=0.3, seed=4, lr=[0.01, 0.1])
    np.testing.assert_array_equal(s1.final_points, s2.final_points)
    assert np.all(s1.final_points != s3.final_points)


def test_noise_is_gaussian_with_standard_deviation_sigma():
    sigma, steps = 0.5, 4000
    traj = gdviz.run("SGD", "elongated_bowl", steps=steps, lr=0.01, noise=sigma, seed=11)
    noise = traj.used_grads - traj.grads[:-1]
    n = noise.size
    assert abs(noise.mean()) < 4 * sigma / math.sqrt(n)
    assert noise.std() == pytest.approx(sigma, rel=0.03)
    kurtosis = np.mean((noise / noise.std()) ** 4)
    assert kurtosis == pytest.approx(3.0, abs=0.25)          # Gaussian, not uniform (1.8)
    assert abs(np.corrcoef(noise[:, 0], noise[:, 1])[0, 1]) < 4 / math.sqrt(steps)
    assert abs(np.corrcoef(noise[:-1, 0], noise[1:, 0])[0, 1]) < 4 / math.sqrt(steps)


def test_run_does_not_change_the_optimizer_passed_in():
    opt = gdviz.Momentum(lr=0.05, momentum=0.8)
    opt.update({"p": np.ones(2)}, {"p": np.ones(2)})
    before = (copy.deepcopy(opt.state), opt.hyperparameter_values)
    traj = gdviz.run(opt, "elongated_bowl", steps=15)
    other = gdviz.run(opt, "elongated_bowl", steps=15, lr=0.01)
    assert traj.optimizer is not opt and other.optimizer is not opt
    assert set(opt.state) == {"p"} and opt.state["p"]["step"] == before[0]["p"]["step"]
    np.testing.assert_array_equal(opt.state["p"]["v"], before[0]["p"]["v"])
    assert opt.hyperparameter_values == before[1]
    fresh = gdviz.run("Momentum", "elongated_bowl", steps=15, lr=0.05, momentum=0.8)
    np.testing.assert_array_equal(traj.points, fresh.points)
    assert other.optimizer.lr == 0.01 and other.optimizer.momentum == 0.8


@pytest.mark.parametrize("name", [name for name, cls in OPTIMIZERS.items()
                                  if "eps" in {hp.name for hp in cls.hyperparameters}])
def test_eps_zero_is_the_limit_eps_to_zero_not_nan(name):
    """ε = 0 is allowed; where a coordinate's gradient has been 0 at every step, its 0/0 is
    taken as the limit ε → 0⁺. That coordinate then moves exactly as with any ε > 0 (it does not
    move, or only by AdamW's decay), and the others exactly as with ε = 0 alone."""
    rng = np.random.default_rng(5)
    grads = [np.array([0.0, g]) for g in rng.normal(size=6)]
    zero, tiny, alone = (OPTIMIZERS[name](eps=eps) for eps in (0.0, 1e-12, 0.0))
    params, with_tiny, other = np.array([1.5, -0.5]), np.array([1.5, -0.5]), np.array([-0.5])
    for g in grads:
        zero.update({"w": params}, {"w": g})
        tiny.update({"w": with_tiny}, {"w": g})
        alone.update({"w": other}, {"w": g[1:]})
        assert np.all(np.isfinite(params)), f"{name}: {params}"
        assert params[0] == with_tiny[0] and params[1] == other[0]
        for key in zero.state_names:
            assert np.all(np.isfinite(zero.state["w"][key])), f"{name}: state {key}"
            # equal, but for state that holds ε itself (Adamax's u = max(β₂u, |g| + ε))
            assert abs(zero.state["w"][key][0] - tiny.state["w"][key][0]) <= 1e-12


def test_a_run_with_eps_zero_and_a_zero_gradient_component_does_not_diverge():
    """Started on the valley's axis, y's gradient is 0: with ε = 0 that was 0/0 = NaN and the
    message blamed the learning rate. Now y stays 0 and x converges (Adadelta's x stays too:
    with ε = 0 its step √(u + ε)/√(v + ε)·g is 0 while u starts at 0)."""
    for name in ("AdaGrad", "RMSprop", "Adadelta", "Adam", "AdamW"):
        traj = gdviz.run(name, "elongated_bowl", start=(-7.0, 0.0), steps=50, eps=0.0)
        assert not traj.diverged, traj.message
        assert np.all(traj.points[:, 1] == 0)
        if name == "Adadelta":
            assert np.all(traj.points == traj.points[0])
        else:
            assert traj.final_loss < traj.losses[0] / 2, traj.message


# --- sweep ----------------------------------------------------------------------------------
def _axes(cls):
    """A small grid for ``cls``: five learning rates across its slider (some diverge) and,
    if it has another hyperparameter, three values of that one."""
    hps = {hp.name: hp for hp in cls.hyperparameters}
    axes = {"lr": np.geomspace(*hps["lr"].slider, 5)}
    other = next((hp for name, hp in hps.items() if name != "lr"), None)
    if other is not None:
        low, high = other.slider
        axes[other.name] = np.geomspace(low, high, 3) if other.log else np.linspace(low, high, 3)
    return axes


@pytest.mark.parametrize("surface_name", ["elongated_bowl", "rotated_bowl"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_sweep_equals_the_configurations_run_one_by_one(name, surface_name):
    cls, steps, tol = OPTIMIZERS[name], 60, 1e-3
    axes = _axes(cls)
    result = gdviz.sweep(name, surface_name, steps=steps, tol=tol, **axes)
    assert result.shape == tuple(len(v) for v in axes.values()) and list(result.axes) == list(axes)
    surface = gdviz.get_surface(surface_name)
    assert result.initial_loss == surface.f(*surface.start)
    for index in np.ndindex(result.shape):
        config = {axis: float(values[i]) for (axis, values), i in zip(axes.items(), index)}
        traj = gdviz.run(name, surface_name, steps=steps, **config)
        where = f"{name}{config} on {surface_name}"
        assert result.diverged[index] == traj.diverged, where
        assert result.diverged_at[index] == (traj.diverged_at if traj.diverged else -1), where
        if traj.diverged:
            assert result.final_loss[index] == math.inf and result.steps_to_tol[index] == -1, where
            continue
        np.testing.assert_allclose(result.final_points[index], traj.final_point, rtol=1e-12, atol=1e-300,
                                   err_msg=where)
        np.testing.assert_allclose(result.final_loss[index], traj.final_loss, rtol=1e-12, atol=1e-300,
                                   err_msg=where)
        reached = np.flatnonzero(traj.losses - surface.min_value <= tol)
        assert result.steps_to_tol[index] == (reached[0] if reached.size else -1), where
    if name in ("SGD", "Momentum", "Nesterov"):
        assert result.diverged.any(), "the grid should exercise divergence too"


def test_sweep_of_an_instance_records_its_hyperparameters():
    """sweep(Momentum(momentum=0.5), lr=...) ran with α = 0.5: the result says so, so the stability
    map draws the limit 2(1 + 0.5)/λ_max = 1.5 (not the default α's 1.9) and names α."""
    result = gdviz.sweep(gdviz.Momentum(momentum=0.5), steps=5, lr=[0.1, 1.0])
    assert result.fixed == {"momentum": 0.5}
    axis = gdviz.sweep(gdviz.Momentum(lr=0.3, momentum=0.5), steps=5, momentum=[0.1, 0.2])
    assert axis.fixed == {"lr": 0.3} and list(axis.axes) == ["momentum"]
    given = gdviz.sweep(gdviz.Momentum(momentum=0.5), steps=5, lr=[0.1], momentum=0.7)
    assert given.fixed == {"momentum": 0.7}
    assert gdviz.sweep("Momentum", steps=5, lr=[0.1]).fixed == {}


def test_stability_map_of_an_instance_draws_the_limit_of_its_own_alpha():
    """α = 0.5: the theory line at η = 2(1 + 0.5)/λ_max = 1.5 on the elongated bowl, not 1.9."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from gdviz.plotting import plot_stability_map
    fig, ax = plt.subplots()
    try:
        plot_stability_map(gdviz.sweep(gdviz.Momentum(momentum=0.5), steps=20, lr=np.geomspace(0.1, 3, 12)), ax=ax)
        theory = [line for line in ax.lines if "theory" in line.get_label()]
        assert len(theory) == 1 and np.allclose(theory[0].get_xdata(), 1.5, rtol=1e-12)
        assert "α=0.5" in ax.get_title()
    finally:
        plt.close(fig)


def assert_boundary(result, limit, what):
    """η < 0.99·limit converges (final loss below the start's); η > 1.01·limit does not."""
    lr = np.broadcast_to(result.axes["lr"].reshape(-1, *([1] * (result.final_loss.ndim - 1))), result.shape)
    decreased = result.final_loss < result.initial_loss
    below, above = lr < 0.99 * limit, lr > 1.01 * limit
    assert below.any() and above.any()
    assert np.all(decreased[below]), f"{what}: η = {lr[below & ~decreased]} below the limit did not converge"
    assert not np.any(decreased[above]), f"{what}: η = {lr[above & decreased]} above the limit converged"


@pytest.mark.parametrize("surface_name", ["elongated_bowl", "bowl", "rotated_bowl"])
def test_gradient_descent_is_stable_exactly_below_two_over_lambda_max(surface_name):
    surface = gdviz.get_surface(surface_name)
    lam_min, lam_max = curvatures(surface)
    top = np.linalg.eigh(surface.hessian)[1][:, 1]
    assert abs(np.dot(surface.start, top)) > 1.0, "the start must have a component across the valley"
    limit = 2 / lam_max
    lr = limit * np.concatenate([np.linspace(0.3, 0.99, 30), np.linspace(1.01, 1.6, 30)])
    assert_boundary(gdviz.sweep("SGD", surface, steps=300, lr=lr), limit, f"SGD on {surface_name}")


@pytest.mark.parametrize("surface_name", ["elongated_bowl", "rotated_bowl"])
def test_momentum_is_stable_exactly_below_two_times_one_plus_alpha_over_lambda_max(surface_name):
    surface = gdviz.get_surface(surface_name)
    lam_max = curvatures(surface)[1]
    momentum = np.array([0.0, 0.3, 0.6, 0.9])
    lr = np.geomspace(0.2, 4.5, 80) * 2 / lam_max
    result = gdviz.sweep("Momentum", surface, steps=300, lr=lr, momentum=momentum)
    assert_boundary(result, 2 * (1 + momentum[None, :]) / lam_max, f"Momentum on {surface_name}")


# --- the benchmark --------------------------------------------------------------------------
def test_bench_core_runs(monkeypatch):
    """On a clock where a sweep takes 2 s and a run 0.5 s, the report's times and speedup are
    those numbers' (12 configurations: 2/12 s per config swept, 0.5 s looped, 3× faster)."""
    spec = importlib.util.spec_from_file_location("bench_core", ROOT / "benchmarks" / "bench_core.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    clock = [100.0]
    real_sweep, real_run = gdviz.sweep, gdviz.run

    def timed(real, seconds):
        def call(*args, **kwargs):
            clock[0] += seconds
            return real(*args, **kwargs)
        return call
    monkeypatch.setattr(gdviz, "sweep", timed(real_sweep, 2.0))
    monkeypatch.setattr(gdviz, "run", timed(real_run, 0.5))
    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
    report = bench.main(n_lr=4, n_momentum=3, steps=5, loop_sample=3, repeats=2)
    assert report["sweep_configs"] == 12 and report["sweep_steps"] == 5
    assert report["sweep_seconds"] == pytest.approx(2.0)
    assert report["loop_seconds_per_config"] == pytest.approx(0.5)
    assert report["speedup"] == pytest.approx(0.5 / (2.0 / 12))
    assert report["loop_configs_timed"] == 3 and report["meets_targets"] is False
    # the outcome it reports is the grid's: the fraction of configurations that diverge
    lrs, alphas = np.geomspace(1e-3, 3.0, 4), np.linspace(0.0, 0.99, 3)
    diverged = [real_run("Momentum", "elongated_bowl", steps=5, lr=a, momentum=b).diverged
                for a in lrs for b in alphas]
    assert report["sweep_diverged_fraction"] == pytest.approx(np.mean(diverged))
