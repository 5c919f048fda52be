"""Every registered optimizer follows the algorithm torch.optim documents, to round-off.

The expected values come from ``tests/reference_optimizers.py``: implementations written
from torch.optim's documented algorithms and from the textbook's code, which import nothing
from gdviz. The tests run over ``gdviz.OPTIMIZERS``, so a newly registered optimizer is held
to its reference at once (and fails, naming the file to extend, until it has one).
"""
import copy
import zlib

import numpy as np
import pytest

import gdviz
from gdviz import OPTIMIZERS

from reference_optimizers import (TextbookAdaGrad, TextbookAdam, TextbookMomentum,
                                  TextbookNesterov, TextbookNesterovOldOrder, TextbookRMSprop,
                                  TextbookSGD, reference_for)

NAMES = list(OPTIMIZERS)
SHAPES = {"s": (), "v": (3,), "w": (2, 4)}          # several parameters in one dict
STEPS = 100
RTOL = 1e-12

# Nondefault settings worth naming, on top of the defaults, two random draws and the lowest
# valid values that every optimizer gets (see `settings`).
SPECIAL = {
    "Momentum": [dict(lr=2.0, momentum=0.99)],
    "Nesterov": [dict(lr=0.7, momentum=0.5)],
    "AdaGrad": [dict(lr=0.3, eps=1e-7)],
    "RMSprop": [dict(lr=0.01, decay_rate=0.5, eps=1e-3)],
    "Adadelta": [dict(lr=0.5), dict(lr=3.0, rho=0.5, eps=1e-3)],
    "Adam": [dict(beta2=0.9, eps=1e-3), dict(lr=0.001, beta1=0.0, beta2=0.5, eps=0.0)],
    "AdamW": [dict(beta2=0.9, eps=1e-3, weight_decay=0.3)],
    "NAdam": [dict(momentum_decay=0.0), dict(lr=0.01, beta1=0.99, momentum_decay=0.5)],
    "RAdam": [dict(beta2=0.9), dict(beta2=0.6)],      # rectified from step 4; never (ρ_∞ = 4)
    "Adamax": [dict(beta2=0.5, eps=1e-2)],
    "Lion": [dict(weight_decay=0.5), dict(lr=1e-3, beta1=0.0, beta2=0.5)],
}


def _sample(hp, rng):
    """A random valid value of one hyperparameter, from its slider range."""
    low, high = hp.slider
    value = float(np.exp(rng.uniform(np.log(low), np.log(high))) if hp.log else rng.uniform(low, high))
    assert hp.contains(value), f"slider range of {hp.name} holds the invalid value {value}"
    return value


def settings(cls):
    """(label, {name: value}) hyperparameter settings to hold ``cls`` to its reference with."""
    defaults = {hp.name: hp.default for hp in cls.hyperparameters}
    rng = np.random.default_rng(zlib.crc32(cls.__name__.encode()))
    found = [("defaults", defaults)]
    found += [(f"random{i}", {hp.name: _sample(hp, rng) for hp in cls.hyperparameters})
              for i in range(2)]
    lowest = {hp.name: hp.low if hp.low_closed else hp.default for hp in cls.hyperparameters}
    found.append(("lowest", lowest))
    found += [(f"special{i}", {**defaults, **special})
              for i, special in enumerate(SPECIAL.get(cls.__name__, []))]
    return found


def gradient_stream(rng, shapes, steps):
    """Arbitrary gradients: Gaussian, each step at a random scale between 1e-3 and 10."""
    return [{key: rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 1) for key, shape in shapes.items()}
            for _ in range(steps)]


def start_params(rng, shapes):
    return {key: np.asarray(rng.standard_normal(shape), dtype=np.float64) for key, shape in shapes.items()}


def assert_close(actual, expected, what, rtol=RTOL):
    """Relative error ≤ rtol, measured against max(1, |expected|) (absolute where values are O(1))."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    err = np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))
    assert np.all(err <= rtol), (f"{what}: worst relative error {np.nanmax(err):.3g} > {rtol:g} "
                                 f"(got {actual!r}, expected {expected!r})")


def reference(name):
    try:
        return reference_for(name)
    except LookupError as exc:
        pytest.fail(str(exc))


# --- the algorithms -------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_follows_torch_algorithm_to_round_off(name):
    """100 steps of arbitrary gradients, several shapes and settings: parameters and state
    equal the torch.optim reference after every step, to 1e-12."""
    cls, ref = OPTIMIZERS[name], reference(name)
    assert set(ref.state) == set(cls.state_names), (
        f"tests/reference_optimizers.py maps {name}'s state {sorted(ref.state)}, but {name} "
        f"keeps {sorted(cls.state_names)}")
    for label, hp in settings(cls):
        rng = np.random.default_rng(zlib.crc32(f"{name}/{label}".encode()))
        params = start_params(rng, SHAPES)
        expected = copy.deepcopy(params)
        opt, model = cls(**hp), ref.make(hp)
        for t, grads in enumerate(gradient_stream(rng, SHAPES, STEPS), start=1):
            opt.update(params, grads)
            model.step(expected, grads)
            for key in SHAPES:
                where = f"{name}({hp}) [{label}], {key!r} after step {t}"
                assert_close(params[key], expected[key], f"θ of {where}")
                assert opt.state[key]["step"] == t, where
                for state_name, from_reference in ref.state.items():
                    assert_close(opt.state[key][state_name], from_reference(model.state[key], hp),
                                 f"state {state_name!r} of {where}")


@pytest.mark.parametrize("name", NAMES)
def test_state_holds_the_documented_arrays_and_the_step(name):
    cls = OPTIMIZERS[name]
    opt = cls()
    rng = np.random.default_rng(1)
    params = start_params(rng, SHAPES)
    assert opt.state == {}
    for t, grads in enumerate(gradient_stream(rng, SHAPES, 3), start=1):
        opt.update(params, grads)
        assert set(opt.state) == set(SHAPES)
        for key, shape in SHAPES.items():
            state = opt.state[key]
            assert set(state) == {"step", *cls.state_names}, f"{name}.state[{key!r}] has {sorted(state)}"
            assert state["step"] == t
            for state_name in cls.state_names:
                value = state[state_name]
                assert np.asarray(value).dtype == np.float64, f"{name}.state[{key!r}][{state_name!r}] is {value!r}"
                assert np.shape(value) == shape, f"{name}.state[{key!r}][{state_name!r}] has shape {value.shape}"


@pytest.mark.parametrize("name", NAMES)
def test_reset_starts_over_like_a_fresh_optimizer(name):
    cls = OPTIMIZERS[name]
    rng = np.random.default_rng(2)
    start = start_params(rng, SHAPES)
    warmup, stream = gradient_stream(rng, SHAPES, 7), gradient_stream(rng, SHAPES, 20)

    used = cls()
    scratch = copy.deepcopy(start)
    for grads in warmup:
        used.update(scratch, grads)
    used.reset()
    assert used.state == {}

    fresh = cls()
    a, b = copy.deepcopy(start), copy.deepcopy(start)
    for grads in stream:
        used.update(a, grads)
        fresh.update(b, grads)
    for key in SHAPES:
        np.testing.assert_array_equal(a[key], b[key])
        assert used.state[key]["step"] == fresh.state[key]["step"] == len(stream)
        for state_name in cls.state_names:
            np.testing.assert_array_equal(used.state[key][state_name], fresh.state[key][state_name])


@pytest.mark.parametrize("name", NAMES)
def test_update_writes_in_place(name):
    rng = np.random.default_rng(3)
    params = start_params(rng, SHAPES)
    arrays = dict(params)
    before = copy.deepcopy(params)
    big = np.zeros((3, 5))
    params["row"] = big[1, ::2]                              # a strided view into another array
    grads = {key: rng.standard_normal(np.shape(value)) + 1.0 for key, value in params.items()}
    OPTIMIZERS[name]().update(params, grads)
    for key in SHAPES:
        assert params[key] is arrays[key], f"{name}.update replaced params[{key!r}] instead of writing into it"
        assert not np.array_equal(params[key], before[key]), f"{name}.update did not change params[{key!r}]"
    assert np.all(big[1, ::2] != 0) and np.all(big[1, 1::2] == 0) and np.all(big[[0, 2]] == 0)


@pytest.mark.parametrize("name", NAMES)
def test_hyperparameter_arrays_advance_many_configurations_at_once(name):
    """Hyperparameters as arrays of shapes (), (3, 1), (1, 4), (3, 4) that broadcast against
    (3, 4) parameters: every element follows its own configuration, run alone."""
    cls = OPTIMIZERS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    layouts = [(3, 1), (1, 4), (3, 4), ()]
    hp = {h.name: np.reshape([_sample(h, rng) for _ in range(int(np.prod(layouts[i % 4])))], layouts[i % 4])
          for i, h in enumerate(cls.hyperparameters)}
    shapes = {"a": (3, 4), "b": (3, 4)}
    params = start_params(rng, shapes)
    start = copy.deepcopy(params)
    stream = gradient_stream(rng, shapes, 30)
    opt = cls(**hp)
    for grads in stream:
        opt.update(params, grads)
    for i, j in np.ndindex(3, 4):
        one = {k: float(np.broadcast_to(v, (3, 4))[i, j]) for k, v in hp.items()}
        alone = cls(**one)
        point = {key: np.array(start[key][i, j]) for key in shapes}
        for grads in stream:
            alone.update(point, {key: grads[key][i, j] for key in shapes})
        for key in shapes:
            assert_close(params[key][i, j], point[key], f"{name} config {one}, {key!r}")
            for state_name in cls.state_names:
                assert_close(opt.state[key][state_name][i, j], alone.state[key][state_name],
                             f"{name} config {one}, state {state_name!r}")


def test_hyperparameter_arrays_are_copied():
    """Changing the caller's array afterwards must not change (or invalidate) the optimizer."""
    lr = np.array([0.1, 0.2])
    opt = gdviz.SGD(lr=lr)
    lr[0] = -5.0
    np.testing.assert_array_equal(opt.lr, [0.1, 0.2])


# --- the textbook's forms ("Deep Learning from Scratch", common/optimizer.py) ---------------
def _run_pair(gdviz_opt, textbook, steps=100, seed=4, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    ours = start_params(rng, shapes)
    theirs = copy.deepcopy(ours)
    for grads in gradient_stream(rng, shapes, steps):
        gdviz_opt.update(ours, grads)
        textbook.update(theirs, {k: v.copy() for k, v in grads.items()})
    return ours, theirs


@pytest.mark.parametrize("ours, textbook", [
    (lambda: gdviz.SGD(lr=0.01), lambda: TextbookSGD(0.01)),
    (lambda: gdviz.Momentum(lr=0.01, momentum=0.9), lambda: TextbookMomentum(0.01, 0.9)),
    (lambda: gdviz.Nesterov(lr=0.05, momentum=0.9), lambda: TextbookNesterov(0.05, 0.9)),
    (lambda: gdviz.AdaGrad(lr=0.01, eps=1e-7), lambda: TextbookAdaGrad(0.01)),
    (lambda: gdviz.RMSprop(lr=0.01, decay_rate=0.99, eps=1e-7), lambda: TextbookRMSprop(0.01, 0.99)),
    (lambda: gdviz.RMSprop(lr=0.2, decay_rate=0.5, eps=1e-7), lambda: TextbookRMSprop(0.2, 0.5)),
    (lambda: gdviz.Adam(lr=0.001, eps=0.0), lambda: TextbookAdam(0.001, eps=0.0)),
    (lambda: gdviz.Adam(lr=0.3, beta1=0.5, beta2=0.9, eps=0.0), lambda: TextbookAdam(0.3, 0.5, 0.9, eps=0.0)),
], ids=["SGD", "Momentum", "Nesterov-2021", "AdaGrad-1e-7", "RMSprop-1e-7", "RMSprop-rho0.5",
        "Adam-eps0", "Adam-eps0-nondefault"])
def test_textbook_forms_that_are_identical(ours, textbook):
    a, b = _run_pair(ours(), textbook())
    for key in SHAPES:
        assert_close(a[key], b[key], key)


def test_textbook_nesterov_old_order_is_a_different_method():
    """Updating v first makes the first step (1 + μ + μ²)/(1 + μ) times NAG's."""
    mu, lr, g = 0.9, 0.1, np.array([0.5, -2.0])
    nag, old = {"p": np.zeros(2)}, {"p": np.zeros(2)}
    gdviz.Nesterov(lr=lr, momentum=mu).update(nag, {"p": g})
    TextbookNesterovOldOrder(lr, mu).update(old, {"p": g})
    assert_close(nag["p"], -(1 + mu) * lr * g, "NAG's first step")
    assert_close(old["p"] / nag["p"], np.full(2, (1 + mu + mu * mu) / (1 + mu)), "ratio of first steps")
    a, b = _run_pair(gdviz.Nesterov(lr=0.05, momentum=0.9), TextbookNesterovOldOrder(0.05, 0.9), steps=20)
    assert np.max(np.abs(a["w"] - b["w"])) > 1e-3


@pytest.mark.parametrize("g", [1e-6, 1e-3, 1.0])
def test_textbook_adam_epsilon_acts_as_eps_over_sqrt_bias_correction(g):
    """With a constant gradient g, m̂ = g and v̂ = g², so every step is known in closed form:
    torch's (gdviz's) step is η g/(|g| + ε); the textbook's is η g/(|g| + 1e-7/√(1 − β₂ᵗ))."""
    lr, beta2, eps, steps = 0.01, 0.999, 1e-7, 50
    ours, theirs = {"p": np.array([0.0])}, {"p": np.array([0.0])}
    opt, book = gdviz.Adam(lr=lr, eps=eps), TextbookAdam(lr)
    t = np.arange(1, steps + 1)
    predicted_ours = -np.cumsum(np.full(steps, lr * g / (g + eps)))
    predicted_book = -np.cumsum(lr * g / (g + eps / np.sqrt(1 - beta2 ** t)))
    for k in range(steps):
        opt.update(ours, {"p": np.array([g])})
        book.update(theirs, {"p": np.array([g])})
        assert_close(ours["p"][0], predicted_ours[k], f"gdviz Adam after step {k + 1}", rtol=1e-11)
        assert_close(theirs["p"][0], predicted_book[k], f"textbook Adam after step {k + 1}", rtol=1e-11)
    gap = ours["p"][0] - theirs["p"][0]
    assert_close(gap, predicted_ours[-1] - predicted_book[-1], "the gap", rtol=1e-11)
    moved = abs(ours["p"][0])
    if g == 1.0:
        assert abs(gap) < 1e-5 * moved          # negligible for gradients near 1
    if g == 1e-6:
        assert abs(gap) > 0.3 * moved           # large for gradients near 1e-6


# --- the real torch.optim, when it is installed ---------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_equals_real_torch_optim(name):
    torch = pytest.importorskip("torch", reason="torch is not installed (it is not a gdviz dependency)")
    cls, ref = OPTIMIZERS[name], reference(name)
    if ref.torch is None:
        pytest.skip(f"tests/reference_optimizers.py says torch.optim has no {name}")
    torch_name, kwargs = ref.torch
    # float64 throughout: torch keeps scalar state such as NAdam's Π μ_i in the default dtype
    # (float32 otherwise, which alone makes differences of 1e-9)
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _compare_with_torch(torch, name, cls, ref, torch_name, kwargs)
    finally:
        torch.set_default_dtype(dtype)


def _compare_with_torch(torch, name, cls, ref, torch_name, kwargs):
    for label, hp in settings(cls):
        rng = np.random.default_rng(zlib.crc32(f"torch/{name}/{label}".encode()))
        params = start_params(rng, SHAPES)
        tensors = {key: torch.tensor(value, dtype=torch.float64, requires_grad=True)
                   for key, value in params.items()}
        opt, theirs = cls(**hp), getattr(torch.optim, torch_name)(list(tensors.values()), **kwargs(hp))
        for t, grads in enumerate(gradient_stream(rng, SHAPES, STEPS), start=1):
            opt.update(params, grads)
            for key, tensor in tensors.items():
                tensor.grad = torch.tensor(grads[key], dtype=torch.float64)
            theirs.step()
            for key, tensor in tensors.items():
                where = f"{name}({hp}) vs torch.optim.{torch_name}, {key!r} after step {t}"
                assert_close(params[key], tensor.detach().numpy(), where)
                state = {k: v.numpy() for k, v in theirs.state[tensor].items() if v is not None}
                for state_name, from_torch in ref.state.items():
                    try:
                        expected = from_torch(state, hp)
                    except KeyError:            # torch keeps no momentum buffer when μ = 0
                        assert hp.get("momentum") == 0, f"torch's state lacks what {state_name!r} needs"
                        continue
                    assert_close(opt.state[key][state_name], expected, f"state {state_name!r}, {where}")
