"""Bad input gives a clear error, and nothing changes.

One table of bad calls: each row says which exception it must raise and what the message must
name (the parameter, the value, and the valid range where there is one). Every row runs
against the same optimizer (with state), parameters and gradients, which are compared with
deep copies afterwards: an error must leave everything as it was.

Also here: the numerical core imports nothing but numpy and the standard library, and
``import gdviz`` loads neither matplotlib nor ipywidgets.
"""
import ast
import copy
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pytest

import gdviz
from gdviz import OPTIMIZERS, SURFACES

ROOT = Path(__file__).resolve().parents[1]
CORE = ["hyperparams", "optimizers", "surfaces", "trajectory", "theory", "schedules"]
NAN, INF = float("nan"), float("inf")


@dataclass
class Bad:
    """One bad call: ``call(ctx)``, the exception it must raise, what its message must say.

    ``names`` must all appear in the message; ``value`` must appear outside the text of
    ``valid`` (so the range "(0, inf)" does not count as naming the value inf).
    """

    id: str
    call: Callable
    error: type | tuple
    names: tuple = ()
    value: str | None = None
    valid: str | None = None


def _u(ctx, **changes):
    """ctx.opt.update with params/grads where some entries are replaced."""
    params = {**ctx.params, **changes.pop("params", {})}
    grads = {**ctx.grads, **changes.pop("grads", {})}
    for key in changes.pop("drop_grads", ()):
        del grads[key]
    return ctx.opt.update(params, grads)


def _read_only(shape):
    array = np.ones(shape)
    array.flags.writeable = False
    return array


CASES = [
    # hyperparameters: out of range
    Bad("lr=0", lambda c: gdviz.SGD(lr=0), ValueError, ("lr",), "0", "(0, inf)"),
    Bad("lr<0", lambda c: gdviz.SGD(lr=-0.1), ValueError, ("lr",), "-0.1", "(0, inf)"),
    Bad("lr=nan", lambda c: gdviz.Momentum(lr=NAN), ValueError, ("lr",), "nan", "(0, inf)"),
    Bad("lr=inf", lambda c: gdviz.Adam(lr=INF), ValueError, ("lr",), "inf", "(0, inf)"),
    Bad("Adadelta lr=0", lambda c: gdviz.Adadelta(lr=0.0), ValueError, ("lr",), "0", "(0, inf)"),
    Bad("momentum=1", lambda c: gdviz.Momentum(momentum=1.0), ValueError, ("momentum",), "1.0", "[0, 1)"),
    Bad("momentum<0", lambda c: gdviz.Nesterov(momentum=-0.1), ValueError, ("momentum",), "-0.1", "[0, 1)"),
    Bad("momentum=nan", lambda c: gdviz.Momentum(momentum=NAN), ValueError, ("momentum",), "nan", "[0, 1)"),
    Bad("beta1=1", lambda c: gdviz.Adam(beta1=1.0), ValueError, ("beta1",), "1.0", "[0, 1)"),
    Bad("beta2=1", lambda c: gdviz.AdamW(beta2=1.0), ValueError, ("beta2",), "1.0", "[0, 1)"),
    Bad("beta2<0", lambda c: gdviz.Adam(beta2=-0.1), ValueError, ("beta2",), "-0.1", "[0, 1)"),
    Bad("decay_rate=1", lambda c: gdviz.RMSprop(decay_rate=1.0), ValueError, ("decay_rate",), "1.0", "[0, 1)"),
    Bad("rho>1", lambda c: gdviz.Adadelta(rho=1.5), ValueError, ("rho",), "1.5", "[0, 1)"),
    Bad("rho=nan", lambda c: gdviz.Adadelta(rho=NAN), ValueError, ("rho",), "nan", "[0, 1)"),
    Bad("eps<0", lambda c: gdviz.Adam(eps=-1e-8), ValueError, ("eps",), "-1e-08", "[0, inf)"),
    Bad("AdaGrad eps<0", lambda c: gdviz.AdaGrad(eps=-1.0), ValueError, ("eps",), "-1.0", "[0, inf)"),
    Bad("weight_decay<0", lambda c: gdviz.AdamW(weight_decay=-0.01), ValueError,
        ("weight_decay",), "-0.01", "[0, inf)"),
    Bad("array with 1.0", lambda c: gdviz.Momentum(momentum=np.array([0.5, 1.0])), ValueError,
        ("momentum",), "1.0", "[0, 1)"),
    # hyperparameters: not numbers
    Bad("lr=True", lambda c: gdviz.SGD(lr=True), TypeError, ("lr",), "True"),
    Bad("lr='0.1'", lambda c: gdviz.SGD(lr="0.1"), TypeError, ("lr",), "'0.1'"),
    Bad("momentum=None", lambda c: gdviz.Momentum(momentum=None), TypeError, ("momentum",), "None"),
    Bad("beta1 list with str", lambda c: gdviz.Adam(beta1=[0.9, "x"]), TypeError, ("beta1",), "'x'"),
    Bad("lr=complex", lambda c: gdviz.SGD(lr=1j), TypeError, ("lr",), "1j"),
    Bad("lr=bool array", lambda c: gdviz.SGD(lr=np.array([True, True])), TypeError, ("lr",), "True"),
    Bad("lr=[True, 0.1]", lambda c: gdviz.SGD(lr=[True, 0.1]), TypeError, ("lr",), "True"),
    Bad("momentum=(0.5, np.True_)", lambda c: gdviz.Momentum(momentum=(0.5, np.True_)), TypeError,
        ("momentum",), "True"),
    Bad("lr=[[0.1], [False]]", lambda c: gdviz.SGD(lr=[[0.1], [False]]), TypeError, ("lr",), "False"),
    Bad("lr=[]", lambda c: gdviz.SGD(lr=[]), ValueError, ("lr", "empty")),
    Bad("lr=empty array", lambda c: gdviz.Adam(lr=np.zeros(0)), ValueError, ("lr", "empty")),
    Bad("assign lr=[]", lambda c: setattr(c.opt, "lr", []), ValueError, ("lr", "empty")),
    Bad("unknown keyword", lambda c: gdviz.SGD(learning_rate=0.1), TypeError, ("learning_rate", "lr")),
    # hyperparameters assigned after construction: the constructor's checks, nothing changed
    Bad("assign lr=-1", lambda c: setattr(c.opt, "lr", -1), ValueError, ("lr",), "-1", "(0, inf)"),
    Bad("assign lr='0.1'", lambda c: setattr(c.opt, "lr", "0.1"), TypeError, ("lr",), "'0.1'"),
    Bad("assign lr=True", lambda c: setattr(c.opt, "lr", True), TypeError, ("lr",), "True"),
    Bad("assign lr=None", lambda c: setattr(c.opt, "lr", None), TypeError, ("lr",), "None"),
    Bad("assign momentum=1", lambda c: setattr(c.opt, "momentum", 1.0), ValueError, ("momentum",), "1.0", "[0, 1)"),
    Bad("assign momentum=nan", lambda c: setattr(c.opt, "momentum", NAN), ValueError, ("momentum",), "nan"),
    Bad("assign an array with a bad value", lambda c: setattr(c.array_opt, "lr", np.array([0.1, 0.2, -0.3, 0.4])),
        ValueError, ("lr",), "-0.3", "(0, inf)"),
    Bad("assign an array of strings", lambda c: setattr(c.array_opt, "momentum", np.array(["a", "b"])),
        TypeError, ("momentum",), "'a'"),
    Bad("too many positional", lambda c: gdviz.Momentum(0.1, 0.9, 0.5), TypeError, ("lr", "momentum")),
    # update: params and grads
    Bad("grads missing a key", lambda c: _u(c, drop_grads=["b"]), ValueError, ("'b'", "grads")),
    Bad("grads with an extra key", lambda c: _u(c, grads={"c": np.ones(3)}), ValueError, ("'c'",)),
    Bad("shapes differ", lambda c: _u(c, grads={"b": np.ones((3, 1))}), ValueError, ("'b'", "(3, 1)", "(3,)")),
    Bad("integer params", lambda c: _u(c, params={"b": np.array([1, 2, 3])}), TypeError, ("'b'", "int")),
    Bad("Python float params", lambda c: c.opt.update({"x": 1.5}, {"x": 0.1}), TypeError, ("'x'", "1.5")),
    Bad("params not a mapping", lambda c: c.opt.update([c.params["w"]], [c.grads["w"]]), TypeError,
        ("params", "list")),
    Bad("grads not a mapping", lambda c: c.opt.update(c.params, list(c.grads.values())), TypeError,
        ("grads", "list")),
    Bad("grads are strings", lambda c: _u(c, grads={"b": "abc"}), TypeError, ("'b'", "'abc'")),
    Bad("param changed shape", lambda c: _u(c, params={"b": np.ones(4)}, grads={"b": np.ones(4)}),
        ValueError, ("'b'", "(4,)", "reset()")),
    Bad("hyperparameter arrays do not broadcast", lambda c: c.array_opt.update(c.params, c.grads),
        ValueError, ("(4,)", "(2, 3)")),
    Bad("read-only parameter", lambda c: _u(c, params={"b": _read_only(3)}), ValueError, ("'b'",)),
    Bad("one array as two parameters", lambda c: _u(c, params={"a": c.params["b"]}, grads={"a": np.ones(3)}),
        ValueError, ("'a'", "'b'", "same memory")),
    Bad("overlapping views as two parameters", lambda c: c.opt.update(
        {"u": c.params["w"][0], "whole": c.params["w"]}, {"u": np.ones(3), "whole": np.ones((2, 3))}),
        ValueError, ("'u'", "'whole'", "same memory")),
    # run and sweep
    Bad("unknown optimizer", lambda c: gdviz.run("Adamm"), ValueError, ("'Adamm'", *OPTIMIZERS)),
    Bad("unknown surface", lambda c: gdviz.run(c.opt, "bowll"), ValueError, ("'bowll'", *SURFACES)),
    Bad("sweep: unknown optimizer", lambda c: gdviz.sweep("nope", steps=2), ValueError, ("'nope'", *OPTIMIZERS)),
    Bad("sweep: unknown surface", lambda c: gdviz.sweep(surface=3, steps=2), ValueError, ("3", *SURFACES)),
    Bad("run: start nan", lambda c: gdviz.run(c.opt, start=(NAN, 0.0)), ValueError, ("start", "nan")),
    Bad("run: start inf", lambda c: gdviz.run(c.opt, start=(1.0, -INF)), ValueError, ("start", "inf")),
    Bad("sweep: start inf", lambda c: gdviz.sweep(start=(INF, 0.0), steps=2, lr=[0.1]), ValueError, ("start", "inf")),
    Bad("run: start of 3 numbers", lambda c: gdviz.run(c.opt, start=(1, 2, 3)), TypeError, ("start", "(1, 2, 3)")),
    Bad("run: start not numbers", lambda c: gdviz.run(c.opt, start=("a", 1.0)), TypeError, ("start", "'a'")),
    Bad("run: start np.True_", lambda c: gdviz.run(c.opt, start=(np.True_, 0)), TypeError, ("start", "True")),
    Bad("run: start bytes", lambda c: gdviz.run(c.opt, start=(b"1", 0)), TypeError, ("start", "b'1'")),
    Bad("run: start True", lambda c: gdviz.run(c.opt, start=(True, 0)), TypeError, ("start", "True")),
    Bad("sweep: start np.False_", lambda c: gdviz.sweep(start=(0.5, np.False_), steps=2, lr=[0.1]), TypeError,
        ("start", "False")),
    Bad("run: start outside the divergence box", lambda c: gdviz.run(c.opt, start=(2000.0, 0.0)), ValueError,
        ("start", "2000", "bound", "1000")),
    Bad("run: start outside a given bound", lambda c: gdviz.run(c.opt, start=(3.0, -4.0), bound=3.5), ValueError,
        ("start", "-4", "bound", "3.5")),
    Bad("sweep: start outside the divergence box", lambda c: gdviz.sweep(start=(0.0, -1e4), steps=2, lr=[0.1]),
        ValueError, ("start", "10000", "bound")),
    Bad("steps<0", lambda c: gdviz.run(c.opt, steps=-1), ValueError, ("steps",), "-1"),
    Bad("steps=2.5", lambda c: gdviz.run(c.opt, steps=2.5), TypeError, ("steps",), "2.5"),
    Bad("steps=True", lambda c: gdviz.sweep(steps=True, lr=[0.1]), TypeError, ("steps",), "True"),
    Bad("noise<0", lambda c: gdviz.run(c.opt, noise=-0.1), ValueError, ("noise",), "-0.1", "[0, inf)"),
    Bad("noise=nan", lambda c: gdviz.sweep(noise=NAN, steps=2, lr=[0.1]), ValueError, ("noise",), "nan", "[0, inf)"),
    Bad("noise='x'", lambda c: gdviz.run(c.opt, noise="x"), TypeError, ("noise",), "'x'"),
    Bad("seed<0", lambda c: gdviz.run(c.opt, seed=-1), ValueError, ("seed",), "-1"),
    Bad("seed=1.5", lambda c: gdviz.run(c.opt, noise=0.1, seed=1.5), TypeError, ("seed",), "1.5"),
    Bad("tol<0", lambda c: gdviz.sweep(tol=-1.0, steps=2, lr=[0.1]), ValueError, ("tol",), "-1.0", "[0, inf)"),
    Bad("tol=nan", lambda c: gdviz.sweep(tol=NAN, steps=2, lr=[0.1]), ValueError, ("tol",), "nan", "[0, inf)"),
    Bad("bound=0", lambda c: gdviz.run(c.opt, bound=0), ValueError, ("bound",), "0"),
    Bad("run: hyperparameter it does not have", lambda c: gdviz.run("SGD", momentum=0.9), TypeError,
        ("momentum", "lr")),
    Bad("run: bad hyperparameter", lambda c: gdviz.run(c.opt, lr=-1.0), ValueError, ("lr",), "-1.0", "(0, inf)"),
    Bad("sweep: hyperparameter it does not have", lambda c: gdviz.sweep("SGD", momentum=[0.9]), TypeError,
        ("momentum", "lr")),
    Bad("sweep: a bad value on an axis", lambda c: gdviz.sweep(lr=[0.1, -0.1], steps=2), ValueError,
        ("lr",), "-0.1", "(0, inf)"),
    Bad("sweep: a string on an axis", lambda c: gdviz.sweep(lr=[0.1, "a"], steps=2), TypeError, ("lr",), "'a'"),
    Bad("sweep: None on an axis", lambda c: gdviz.sweep(momentum=[0.5, None], steps=2), TypeError,
        ("momentum",), "None"),
    Bad("sweep: 2-D values", lambda c: gdviz.sweep(lr=[[0.1, 0.2]], steps=2), ValueError, ("lr", "(1, 2)")),
    Bad("sweep: empty axis", lambda c: gdviz.sweep(lr=[], steps=2), ValueError, ("lr",)),
    # surfaces
    Bad("rotated_bowl angle='x'", lambda c: gdviz.get_surface("rotated_bowl", angle="x"), TypeError,
        ("angle",), "'x'"),
    Bad("rotated_bowl angle=nan", lambda c: gdviz.get_surface("rotated_bowl", angle=NAN), ValueError,
        ("angle",), "nan"),
    Bad("rotated_bowl condition<1", lambda c: gdviz.get_surface("rotated_bowl", condition=0.5), ValueError,
        ("condition",), "0.5", "[1, 1e+06]"),
    Bad("rotated_bowl condition=inf", lambda c: gdviz.get_surface("rotated_bowl", condition=INF), ValueError,
        ("condition",), "inf", "[1, 1e+06]"),
    Bad("rotated_bowl condition=1e17", lambda c: gdviz.get_surface("rotated_bowl", condition=1e17), ValueError,
        ("condition",), "1e+17", "[1, 1e+06]"),
    Bad("rotated_bowl condition just above 1e6", lambda c: gdviz.get_surface("rotated_bowl", condition=1.000001e6),
        ValueError, ("condition",), "1000001", "[1, 1e+06]"),
    Bad("surface parameter it does not have", lambda c: gdviz.get_surface("bowl", angle=30), TypeError,
        ("angle", "'bowl'")),
]


def snapshot(ctx):
    return copy.deepcopy({"params": ctx.params, "grads": ctx.grads, "state": ctx.opt.state,
                          "hyper": ctx.opt.hyperparameter_values, "array_state": ctx.array_opt.state,
                          "array_hyper": ctx.array_opt.hyperparameter_values})


def same(a, b, where="") -> None:
    """Deep equality for dicts of arrays, NaN equal to NaN; asserts with the path that differs."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=True), f"{where}: {a!r} != {b!r}"


@pytest.fixture
def ctx():
    """A Momentum optimizer two steps in, its parameters and the next gradients."""
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}
    opt = gdviz.Momentum(lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.update(params, {k: rng.standard_normal(v.shape) for k, v in params.items()})
    array_opt = gdviz.Momentum(lr=np.full(4, 0.1))
    return SimpleNamespace(opt=opt, array_opt=array_opt, params=params,
                           grads={k: rng.standard_normal(v.shape) for k, v in params.items()})


def test_the_table_is_large():
    assert len(CASES) >= 20 and len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_raises_a_clear_error_and_changes_nothing(case, ctx):
    before = snapshot(ctx)
    with pytest.raises(case.error) as info:
        case.call(ctx)
    message = str(info.value)
    for name in case.names:
        assert name in message, f"the message should name {name!r}: {message}"
    if case.valid is not None:
        assert case.valid in message, f"the message should give the valid range {case.valid}: {message}"
    if case.value is not None:
        rest = message.replace(case.valid, "") if case.valid else message
        assert case.value in rest, f"the message should show the value {case.value}: {message}"
    same(snapshot(ctx), before, "after the error")


def test_out_of_range_array_message_shows_the_plain_value():
    """Students read these: "got an array containing 1.0", not "'…np.float64(1.0)'"."""
    with pytest.raises(ValueError) as info:
        gdviz.Momentum(momentum=np.array([0.5, 1.0]))
    assert "np.float64" not in str(info.value) and "'an array" not in str(info.value), str(info.value)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_hyperparameter_rejects_values_outside_its_range(name):
    """Table-driven over each optimizer's own hyperparameter records: just outside each bound,
    NaN and bool are refused, each with the name; the bounds that are allowed are accepted."""
    for hp in OPTIMIZERS[name].hyperparameters:
        outside = [NAN, hp.low - 1e-9 if hp.low_closed else hp.low]
        if math.isfinite(hp.high):
            outside.append(hp.high if not hp.high_closed else hp.high + 1e-9)
        for value in outside:
            with pytest.raises(ValueError, match=hp.name):
                OPTIMIZERS[name](**{hp.name: value})
        with pytest.raises(TypeError, match=hp.name):
            OPTIMIZERS[name](**{hp.name: False})
        if hp.low_closed:
            assert getattr(OPTIMIZERS[name](**{hp.name: hp.low}), hp.name) == hp.low
        assert hp.contains(hp.default) and hp.low <= hp.slider[0] <= hp.slider[1] <= hp.high


# --- hyperparameters assigned after construction ------------------------------------------
def _bad_values(hp):
    """Values each hyperparameter must refuse: outside each bound, NaN, bool, text, None."""
    values = [NAN, hp.low - 1e-9 if hp.low_closed else hp.low, True, "0.1", None, [0.1, "x"]]
    if math.isfinite(hp.high):
        values.append(hp.high if not hp.high_closed else hp.high + 1e-9)
    return values


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_assignment_raises_exactly_what_the_constructor_raises_and_changes_nothing(name):
    cls = OPTIMIZERS[name]
    for hp in cls.hyperparameters:
        for value in _bad_values(hp):
            with pytest.raises((TypeError, ValueError)) as constructed:
                cls(**{hp.name: value})
            opt = cls()
            before = opt.hyperparameter_values
            with pytest.raises(constructed.type) as assigned:
                setattr(opt, hp.name, value)
            assert str(assigned.value) == str(constructed.value), f"{name}.{hp.name} = {value!r}"
            assert opt.hyperparameter_values == before


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_assigned_values_are_stored_like_the_constructor_stores_them(name):
    """A number becomes a float, an array a read-only float copy; clone and repr follow."""
    cls = OPTIMIZERS[name]
    for hp in cls.hyperparameters:
        inside = hp.slider[1] if hp.contains(hp.slider[1]) else hp.slider[0]
        opt = cls()
        setattr(opt, hp.name, int(inside) if float(inside).is_integer() else inside)
        assert type(getattr(opt, hp.name)) is float and getattr(opt, hp.name) == float(inside)
        assert opt.hyperparameter_values[hp.name] == float(inside)
        assert f"{hp.name}={float(inside):g}" in repr(opt)
        assert getattr(opt.clone(), hp.name) == float(inside)
        values = [hp.slider[0], inside]
        setattr(opt, hp.name, values)
        values[0] = NAN                          # the caller's list changing later changes nothing
        stored = getattr(opt, hp.name)
        assert isinstance(stored, np.ndarray) and stored.dtype == np.float64 and not stored.flags.writeable
        np.testing.assert_array_equal(stored, [hp.slider[0], inside])
        assert f"{hp.name}=array{stored.shape}" in repr(opt) and stored.shape == (2,)
        np.testing.assert_array_equal(getattr(opt.clone(), hp.name), stored)


def test_an_assigned_learning_rate_is_the_one_used():
    """After opt.lr = 0.5 the next SGD step is θ − 0.5 g (and a refused value leaves η alone)."""
    opt = gdviz.SGD(lr=0.1)
    params = {"x": np.array([2.0, -4.0])}
    opt.lr = 0.5
    with pytest.raises(ValueError):
        opt.lr = -1
    opt.update(params, {"x": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(params["x"], [1.5, -5.0])


def test_the_class_attribute_is_the_hyperparameter_record():
    """``SGD.lr`` documents the knob (name, symbol, range, default) instead of hiding it."""
    assert gdviz.SGD.lr.name == "lr" and gdviz.SGD.lr.default == 0.1
    assert gdviz.Adadelta.lr.default == 1.0 and gdviz.Adadelta.lr.slider == (1e-2, 100.0)


# --- what the core depends on ---------------------------------------------------------------
def test_import_gdviz_loads_neither_matplotlib_nor_ipywidgets():
    code = ("import gdviz, sys; bad = [m for m in ('matplotlib', 'ipywidgets') if m in sys.modules]; "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_only_numpy_and_the_standard_library(module):
    tree = ast.parse((ROOT / "gdviz" / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:                       # a relative import: only another core module
                assert (node.module or "") in CORE, f"gdviz/{module}.py imports .{node.module}"
                continue
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top == "numpy" or top in sys.stdlib_module_names, f"gdviz/{module}.py imports {name}"


@pytest.mark.parametrize("call, error, words", [
    (lambda: gdviz.run("SGD", noise=0.1, seed="a"), TypeError, ("seed", "'a'")),
    (lambda: gdviz.run("SGD", noise=0.1, seed=-1), ValueError, ("seed", "-1")),
    (lambda: gdviz.run("SGD", bound="x"), TypeError, ("bound", "'x'")),
    (lambda: gdviz.run("SGD", bound=-1.0), ValueError, ("bound", "-1.0", "(0, inf]")),
    (lambda: gdviz.sweep("SGD", steps=2, tol=True), TypeError, ("tol", "True")),
    (lambda: gdviz.sweep("SGD", steps=2, tol=-1.0), ValueError, ("tol", "-1.0", "[0, inf)")),
])
def test_wrong_type_is_a_type_error_and_wrong_value_a_value_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_state_of_a_zero_dimensional_parameter_is_arrays(name):
    """A 0-d parameter (one coordinate) keeps its state as 0-d arrays, like any other shape."""
    opt = gdviz.get_optimizer(name)
    params = {"x": np.array(1.5)}
    opt.update(params, {"x": np.array(0.3)})
    for key in opt.state_names:
        assert type(opt.state["x"][key]) is np.ndarray and opt.state["x"][key].shape == ()


def test_lambda_is_the_curvature_and_weight_decay_is_delta():
    """λ means a curvature everywhere (λ_min, λ_max); no hyperparameter takes its symbol, and
    AdamW's rule writes its weight decay as δ."""
    assert gdviz.HYPERPARAMETERS["weight_decay"].symbol == "δ"
    assert gdviz.HYPERPARAMETERS["weight_decay"].latex == r"\delta"
    for hp in gdviz.HYPERPARAMETERS.values():
        assert "λ" not in hp.symbol and "lambda" not in hp.latex, hp.name
    for cls in OPTIMIZERS.values():
        assert r"\lambda" not in (cls.__doc__ or ""), f"{cls.__name__}'s rule writes λ"
