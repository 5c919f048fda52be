"""Learning-rate schedules: their factors from the closed forms, runs that follow
x_k = Π(1 − η_t λ) x_0, every optimizer stepping with η·factor(t), sweeps equal to runs
configuration by configuration, and clear errors for bad parameters."""
import math

import numpy as np
import pytest

import gdviz
from gdviz import OPTIMIZERS, schedules

NAN, INF = float("nan"), float("inf")


# --- the factors, from their formulas -------------------------------------------------------
def cosine_by_hand(t, total, floor):
    """floor + (1 − floor)(1 + cos(π·min(t − 1, T)/T))/2, one step at a time."""
    done = min(t - 1, total) / total
    return floor + (1 - floor) * (1 + math.cos(math.pi * done)) / 2


@pytest.mark.parametrize("schedule, expected", [
    (schedules.constant(), [1, 1, 1, 1, 1, 1, 1]),
    (schedules.step(every=3, factor=0.5), [1, 1, 1, 0.5, 0.5, 0.5, 0.25]),
    (schedules.step(every=1, factor=0.1), [1, 0.1, 0.01, 1e-3, 1e-4, 1e-5, 1e-6]),
    (schedules.exponential(0.9), [0.9 ** k for k in range(7)]),
    (schedules.cosine(4), [1, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 - math.cos(math.pi / 4)) / 2, 0, 0, 0]),
    (schedules.cosine(4, floor=0.2), [cosine_by_hand(t, 4, 0.2) for t in range(1, 8)]),
    (schedules.warmup(4), [0.25, 0.5, 0.75, 1, 1, 1, 1]),
    (schedules.warmup(2, then=schedules.exponential(0.5)), [0.5, 1, 1, 0.5, 0.25, 0.125, 0.0625]),
    (schedules.warmup(3, then=schedules.step(2, 0.1)), [1 / 3, 2 / 3, 1, 1, 1, 0.1, 0.1]),
])
def test_factors_follow_the_formulas(schedule, expected):
    t = np.arange(1, 8)
    np.testing.assert_allclose(schedule.factor(t), expected, rtol=1e-14, atol=1e-17)
    for k, value in zip(t, expected):                 # one int at a time gives a float
        got = schedule.factor(int(k))
        assert type(got) is float and got == pytest.approx(value, rel=1e-14, abs=1e-17)


@pytest.mark.parametrize("total, floor", [(10, 0.0), (100, 0.1), (7, 0.5)])
def test_cosine_starts_at_one_is_halfway_at_half_and_ends_at_the_floor(total, floor):
    """t = 1 is "no decay yet" (torch's epoch 0): 1; halfway (1 + floor)/2; after T: floor."""
    s = schedules.cosine(total, floor=floor)
    assert s.factor(1) == 1.0
    assert s.factor(total + 1) == pytest.approx(floor, abs=1e-15)
    assert s.factor(10 * total) == pytest.approx(floor, abs=1e-15)
    if total % 2 == 0:
        assert s.factor(total // 2 + 1) == pytest.approx((1 + floor) / 2, rel=1e-15)
    values = s.factor(np.arange(1, total + 2))
    assert np.all(np.diff(values) < 0), "the cosine decreases all the way down"


def test_factor_accepts_numpy_integers_and_arrays_of_any_shape():
    s = schedules.exponential(0.5)
    assert s.factor(np.int32(3)) == 0.25
    np.testing.assert_array_equal(s.factor(np.array([[1, 2], [3, 4]])), [[1, 0.5], [0.25, 0.125]])


def test_schedules_are_plain_data_with_a_readable_repr_and_label():
    s = schedules.warmup(5, then=schedules.cosine(100, floor=0.1))
    assert s == schedules.warmup(5, then=schedules.cosine(100, floor=0.1))
    assert s != schedules.warmup(5, then=schedules.cosine(100))
    assert repr(s) == "schedules.warmup(steps=5, then=schedules.cosine(total_steps=100, floor=0.1))"
    assert s.label == "warm-up over 5 steps, then cosine to 0.1η over 100 steps"
    assert schedules.step(10, 0.5).label == "η×0.5 every 10 steps"
    assert schedules.exponential(0.99).label == "η×0.99 per step"
    assert schedules.constant().label == "constant η" and repr(schedules.constant()) == "schedules.constant()"
    assert set(schedules.SCHEDULES) == {"constant", "step", "exponential", "cosine", "warmup"}
    assert gdviz.schedules is schedules


# --- bad parameters: clear errors -----------------------------------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda: schedules.step(0, 0.5), ValueError, ("every", "0", "[1,")),
    (lambda: schedules.step(2.5, 0.5), TypeError, ("every", "2.5")),
    (lambda: schedules.step(True, 0.5), TypeError, ("every", "True")),
    (lambda: schedules.step(10, 0.0), ValueError, ("factor", "0.0", "(0, 1]")),
    (lambda: schedules.step(10, 1.5), ValueError, ("factor", "1.5", "(0, 1]")),
    (lambda: schedules.step(10, "0.5"), TypeError, ("factor", "'0.5'")),
    (lambda: schedules.step(10, [0.5, 0.1]), TypeError, ("factor", "[0.5, 0.1]")),
    (lambda: schedules.exponential(NAN), ValueError, ("gamma", "nan", "(0, 1]")),
    (lambda: schedules.exponential(-0.9), ValueError, ("gamma", "-0.9", "(0, 1]")),
    (lambda: schedules.exponential(None), TypeError, ("gamma", "None")),
    (lambda: schedules.cosine(-5), ValueError, ("total_steps", "-5")),
    (lambda: schedules.cosine("100"), TypeError, ("total_steps", "'100'")),
    (lambda: schedules.cosine(100, floor=1.5), ValueError, ("floor", "1.5", "[0, 1]")),
    (lambda: schedules.cosine(100, floor=True), TypeError, ("floor", "True")),
    (lambda: schedules.warmup(0), ValueError, ("steps", "0")),
    (lambda: schedules.warmup(5, then="cosine"), TypeError, ("then", "'cosine'")),
    (lambda: schedules.constant().factor(0), ValueError, ("t", "0")),
    (lambda: schedules.constant().factor(1.5), TypeError, ("t", "1.5")),
    (lambda: schedules.constant().factor(True), TypeError, ("t", "True")),
    (lambda: schedules.cosine(10).factor(np.array([1, 2, -3])), ValueError, ("t", "-3")),
    (lambda: gdviz.run("SGD", steps=3, schedule="cosine"), TypeError, ("schedule", "'cosine'")),
    (lambda: gdviz.sweep("SGD", steps=3, lr=[0.1], schedule=0.5), TypeError, ("schedule", "0.5")),
])
def test_bad_parameters_raise_a_clear_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    for word in words:
        assert word in str(info.value), str(info.value)


# --- runs: closed forms, every optimizer ------------------------------------------------------
def rates_by_hand(kind, lr, steps):
    """η_t for t = 1 … steps, written from each schedule's formula (not from gdviz)."""
    t = np.arange(1, steps + 1)
    return lr * {
        "step": 0.5 ** ((t - 1) // 7),
        "exponential": 0.95 ** (t - 1),
        "cosine": np.array([cosine_by_hand(k, 30, 0.0) for k in t]),
        "warmup+cosine": np.where(t <= 5, t / 5, [cosine_by_hand(max(k - 5, 1), 25, 0.1) for k in t]),
    }[kind]


SCHEDULES = {"step": schedules.step(7, 0.5), "exponential": schedules.exponential(0.95),
             "cosine": schedules.cosine(30),
             "warmup+cosine": schedules.warmup(5, then=schedules.cosine(25, floor=0.1))}


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_sgd_with_a_schedule_follows_the_product_of_one_minus_eta_t_lambda(kind):
    """On x²/20 + y² (λ = 1/10 and 2), x_k = Π_{t≤k}(1 − η_t/10)·x_0 and y_k = Π(1 − 2η_t)·y_0."""
    lr, steps = 0.9, 40
    rates = rates_by_hand(kind, lr, steps)
    traj = gdviz.run("SGD", "elongated_bowl", steps=steps, lr=lr, schedule=SCHEDULES[kind])
    x0, y0 = gdviz.get_surface("elongated_bowl").start
    x = x0 * np.concatenate([[1.0], np.cumprod(1 - rates / 10)])
    y = y0 * np.concatenate([[1.0], np.cumprod(1 - 2 * rates)])
    assert not traj.diverged and traj.n_steps == steps
    np.testing.assert_allclose(traj.points[:, 0], x, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(traj.points[:, 1], y, rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(traj.learning_rates, rates, rtol=1e-14, atol=0)
    assert traj.optimizer.lr == lr and traj.schedule == SCHEDULES[kind]
    assert SCHEDULES[kind].label in traj.label


def test_a_run_without_a_schedule_records_its_constant_eta():
    traj = gdviz.run("Momentum", steps=12, lr=0.07)
    np.testing.assert_array_equal(traj.learning_rates, np.full(12, 0.07))
    assert traj.schedule is None
    constant = gdviz.run("Momentum", steps=12, lr=0.07, schedule=schedules.constant())
    np.testing.assert_array_equal(constant.points, traj.points)


def test_a_diverging_scheduled_run_records_the_rates_of_the_steps_it_took():
    traj = gdviz.run("SGD", steps=50, lr=3.0, schedule=schedules.exponential(0.99))
    assert traj.diverged and len(traj.learning_rates) == traj.n_steps == traj.diverged_at - 1
    np.testing.assert_allclose(traj.learning_rates, 3.0 * 0.99 ** np.arange(traj.n_steps), rtol=1e-14)


def test_a_cosine_that_reaches_zero_stops_moving():
    """floor = 0: after T steps η_t = 0, so the point stays where step T left it."""
    traj = gdviz.run("SGD", steps=20, lr=0.5, schedule=schedules.cosine(10))
    assert np.all(traj.learning_rates[10:] == 0)
    np.testing.assert_array_equal(traj.points[11:], np.broadcast_to(traj.points[10], (10, 2)))


def hand_run_with_rates(cls, surface, rates):
    """The student's loop: set opt.lr to η_t (a checked assignment), then update."""
    opt = cls()
    params = {"x": np.array(float(surface.start[0])), "y": np.array(float(surface.start[1]))}
    points = [surface.start]
    for rate in rates:
        opt.lr = rate
        gx, gy = surface.grad(float(params["x"]), float(params["y"]))
        opt.update(params, {"x": np.array(gx), "y": np.array(gy)})
        points.append((float(params["x"]), float(params["y"])))
    return np.array(points)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_steps_with_eta_times_the_factor(name):
    cls, steps = OPTIMIZERS[name], 25
    schedule = schedules.warmup(4, then=schedules.step(6, 0.5))
    base = cls.lr.default
    rates = base * np.array([min(t / 4, 1) * 0.5 ** (max(t - 5, 0) // 6) for t in range(1, steps + 1)])
    surface = gdviz.get_surface("saddle")                  # not a quadratic: g is not linear in θ
    traj = gdviz.run(name, surface, steps=steps, schedule=schedule)
    assert not traj.diverged
    expected = hand_run_with_rates(cls, surface, rates)
    np.testing.assert_allclose(traj.points, expected, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(traj.learning_rates, rates, rtol=1e-15)
    assert traj.optimizer.lr == base
    plain = gdviz.run(name, surface, steps=steps)
    assert not np.array_equal(plain.points, traj.points), "the schedule must change the run"


def test_run_leaves_the_optimizer_it_was_given_alone():
    opt = gdviz.Adam(lr=0.2)
    gdviz.run(opt, steps=10, schedule=schedules.cosine(5))
    assert opt.lr == 0.2 and opt.state == {}


# --- sweeps -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Momentum", "Adam"])
def test_sweep_with_a_schedule_equals_the_runs_one_by_one(name):
    schedule, steps, tol = schedules.warmup(3, then=schedules.cosine(30, floor=0.05)), 40, 1e-3
    cls = OPTIMIZERS[name]
    axes = {"lr": np.geomspace(cls.lr.slider[0] * 10, cls.lr.slider[1], 6)}
    other = next((hp for hp in cls.hyperparameters if hp.name != "lr"), None)
    if other is not None:
        axes[other.name] = np.linspace(*other.slider, 3)
    result = gdviz.sweep(name, "elongated_bowl", steps=steps, tol=tol, schedule=schedule, **axes)
    assert result.schedule == schedule
    plain = gdviz.sweep(name, "elongated_bowl", steps=steps, tol=tol, **axes)
    assert not np.array_equal(plain.final_loss, result.final_loss)
    for index in np.ndindex(result.shape):
        config = {axis: float(values[i]) for (axis, values), i in zip(axes.items(), index)}
        traj = gdviz.run(name, "elongated_bowl", steps=steps, schedule=schedule, **config)
        where = f"{name}{config}"
        assert result.diverged_at[index] == (traj.diverged_at if traj.diverged else -1), where
        if traj.diverged:
            continue
        np.testing.assert_allclose(result.final_points[index], traj.final_point, rtol=1e-12, atol=1e-300,
                                   err_msg=where)
        reached = np.flatnonzero(traj.losses <= tol)
        assert result.steps_to_tol[index] == (reached[0] if reached.size else -1), where
