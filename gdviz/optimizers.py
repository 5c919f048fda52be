r"""The eight optimizers, each written the way its formula reads.

Every optimizer keeps the classic face ``opt.update(params, grads)``: ``params`` and ``grads``
are dicts of name → float ndarray, and the parameters are updated **in place**. What the
optimizer remembers lives in ``opt.state[name]``, a plain dict of arrays (``v``, ``h``, ``m``, …)
plus the step count ``"step"``, so it can be plotted and tested.

The base class :class:`Optimizer` owns what they all share: checking the hyperparameters and
the inputs (before anything changes), creating the state lazily, counting steps, broadcasting
and the in-place write. Each subclass is only its maths: :meth:`~Optimizer.init_state` and
:meth:`~Optimizer.step`, one statement per line of the formula in its docstring.

Every rule follows the algorithm documented by ``torch.optim`` (in float64, to round-off);
where the textbook ("Deep Learning from Scratch") writes it differently, the class says so and
:mod:`gdviz.variants` holds the textbook form for comparison.

Hyperparameters are checked when assigned, too (``opt.lr = -1`` raises the constructor's error).
ε = 0 is allowed and means the limit ε → 0⁺ where a gradient component has always been 0
(see :mod:`gdviz.hyperparams`). Two parameters that share memory are refused.

Hyperparameters may be arrays that broadcast against the parameters, so one ``update`` can
advance thousands of configurations at once (see :func:`gdviz.sweep`).
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from .hyperparams import (BETA1, BETA2, DECAY_RATE, EPS, LR, MOMENTUM, MOMENTUM_DECAY, RHO,
                          WEIGHT_DECAY, Hyperparameter)
from .theory import gd_lr_limit, momentum_lr_limit, momentum_optimal, nesterov_lr_limit

__all__ = ["Optimizer", "OPTIMIZERS", "get_optimizer", "optimizer_class",
           "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adadelta", "Adam", "AdamW",
           "NAdam", "RAdam", "Adamax", "Lion"]

#: Every registered optimizer class by name, in teaching order. Defining a subclass of
#: :class:`Optimizer` adds it here (pass ``register=False`` to keep a variant out).
OPTIMIZERS: dict[str, type["Optimizer"]] = {}


class _Record:
    """On the class, a hyperparameter's name gives its record: ``SGD.lr`` is the
    :class:`~gdviz.hyperparams.Hyperparameter` (name, symbol, range, default). An instance's
    value lives in its ``__dict__`` and is read from there at plain-attribute speed (this is a
    non-data descriptor); assignment is checked by :meth:`Optimizer.__setattr__`."""

    def __init__(self, record: Hyperparameter):
        self.record = record

    def __get__(self, instance, owner=None):
        if instance is None:
            return self.record
        raise AttributeError(f"{type(instance).__name__} has no {self.record.name} yet")


class Optimizer:
    """Base class: validation, lazy per-parameter state, step counting, the in-place write.

    Subclasses declare ``hyperparameters`` (records from :mod:`gdviz.hyperparams` with their
    defaults), ``state_names`` and ``notebook``, and implement ``init_state`` and ``step``.
    Beside ``step`` a class may also declare what the figures and exercises need to know about
    it; each has a default: ``color``, ``step_terms`` (the anatomy figure), ``lr_limit`` and
    ``fastest`` (stability theory), ``effective_lr`` with ``effective_lr_formula``,
    ``check_settings`` (the exercise checker) and, from :mod:`gdviz.variants`, ``variants``.
    """

    hyperparameters: ClassVar[tuple[Hyperparameter, ...]] = ()
    _records: ClassVar[dict[str, Hyperparameter]] = {}      # by name, for checked assignment
    #: Names of the arrays this optimizer keeps per parameter (besides ``"step"``).
    state_names: ClassVar[tuple[str, ...]] = ()
    #: The notebook that teaches this optimizer.
    notebook: ClassVar[str] = ""
    #: A one-line description for menus and legends.
    summary: ClassVar[str] = ""

    # --- what gdviz knows about it besides its step (each optional) ----------------------------
    #: Its colour in every figure (a hex string from ``gdviz.plotting.PALETTE``). ``None``: a
    #: registered class gets the first palette colour no registered optimizer declares, and an
    #: unregistered variant its parent's (see ``gdviz.plotting.optimizer_color``).
    color: ClassVar[str | None] = None
    #: LaTeX of what :meth:`effective_lr` computes, and of what it multiplies in the step.
    effective_lr_formula: ClassVar[str] = r"\eta"
    effective_lr_multiplies: ClassVar[str] = "g"
    #: Whether the anatomy figure draws the plain gradient step −ηg beside this one's terms.
    compare_with_gradient_step: ClassVar[bool] = True
    #: LaTeX of the stability limit :meth:`lr_limit` computes (empty: no theory).
    lr_limit_formula: ClassVar[str] = ""
    #: Hyperparameters for ``gdviz.exercises.check_update``, merged over the base classes'
    #: and completed from the defaults (moved off them, so a hard-coded default is caught).
    check_settings: ClassVar[dict[str, float]] = {}
    #: The textbook forms of this optimizer: unregistered classes declared with
    #: ``variant_of=`` (in :mod:`gdviz.variants`), which the exercise checker recognises.
    variants: ClassVar[tuple[type, ...]] = ()

    def __init_subclass__(cls, register: bool = True, variant_of: type | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.check_settings = _check_settings(cls)
        cls.variants = ()
        if variant_of is not None:                 # a textbook form: listed there, not registered
            variant_of.variants += (cls,)
            register = False
        if "lr_limit" not in vars(cls):            # theory holds for one rule: never inherited
            cls.lr_limit, cls.lr_limit_formula = Optimizer.__dict__["lr_limit"], ""
        if "fastest" not in vars(cls):
            cls.fastest = Optimizer.__dict__["fastest"]
        cls._records = {hp.name: hp for hp in cls.hyperparameters}
        for hp in cls.hyperparameters:
            setattr(cls, hp.name, _Record(hp))
        cls.__signature__ = inspect.Signature([
            inspect.Parameter(hp.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=hp.default)
            for hp in cls.hyperparameters])
        if register:
            OPTIMIZERS[cls.__name__] = cls

    def __init__(self, *args, **kwargs):
        try:
            bound = self.__signature__.bind(*args, **kwargs)
        except TypeError as exc:
            valid = ", ".join(hp.name for hp in self.hyperparameters)
            raise TypeError(f"{type(self).__name__}(): {exc}; its hyperparameters are: {valid}") from None
        bound.apply_defaults()
        values = {hp.name: hp.validate(bound.arguments[hp.name], owner=type(self).__name__)
                  for hp in self.hyperparameters}        # all checked before any is set
        self.__dict__.update(values)             # already checked, as the descriptors would
        self.state: dict[str, dict] = {}

    def __setattr__(self, name, value) -> None:
        """Every hyperparameter is checked when assigned, with the constructor's message, before
        anything changes: ``opt.lr = -1`` raises ``ValueError``. Numbers are stored as floats,
        arrays as read-only float64 copies."""
        record = self._records.get(name)
        if record is not None:
            value = record.validate(value, owner=type(self).__name__)
        object.__setattr__(self, name, value)

    # --- what each subclass writes -------------------------------------------------------
    def init_state(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """The state a new parameter starts with (all zeros, as in torch.optim)."""
        return {name: np.zeros(np.broadcast_shapes(theta.shape, self._hyper_shape()))
                for name in self.state_names}

    def step(self, theta: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        """Return the new θ from θ, the gradient g and this parameter's state (updated here)."""
        raise NotImplementedError

    # --- the classic face ------------------------------------------------------------------
    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Take one step: update every array in ``params`` in place, using ``grads``.

        Raises ``TypeError``/``ValueError`` naming the problem before anything changes.
        Overflow is not an error here: a diverging run is detected and reported by
        :func:`gdviz.run`, so numpy's warnings are silenced inside the step.
        """
        self._apply(params, self._check_inputs(params, grads))

    def _apply(self, params, grads) -> None:
        """The step itself, on inputs already checked: :func:`gdviz.run` checks its first step
        through :meth:`update` and then calls this directly, as its inputs cannot change kind."""
        new_theta, new_state = {}, {}
        with np.errstate(all="ignore"):
            for key, theta in params.items():
                theta = np.asarray(theta, dtype=np.float64)
                new_theta[key], new_state[key] = self._step_from(key, theta, grads[key])
                if self._eps_is_zero() and not np.isfinite(new_theta[key]).all():
                    self._take_the_limit_of_eps_to_zero(key, theta, grads[key], new_theta, new_state)
        for key, theta in params.items():      # commit only when every parameter has its step
            theta[...] = new_theta[key]
            self.state[key] = new_state[key]

    def _step_from(self, key, theta, g) -> tuple[np.ndarray, dict]:
        """One step of parameter ``key`` from its stored state (which is left as it was)."""
        old = self.state.get(key)
        state = ({"step": 0, **self.init_state(theta)} if old is None else dict(old))
        state["step"] += 1
        new = self.step(theta, g, state)
        for name in self.state_names:        # 0-d parameters give numpy scalars: keep arrays
            state[name] = np.asarray(state[name])
        return new, state

    def _eps_is_zero(self) -> bool:
        eps = vars(self).get("eps")                 # a float or an array (checked values)
        if eps is None:
            return False
        return eps == 0 if isinstance(eps, float) else bool((eps == 0).any())

    def _take_the_limit_of_eps_to_zero(self, key, theta, g, new_theta, new_state) -> None:
        """ε = 0 is allowed, and means the limit ε → 0⁺. Where a coordinate's gradient has been 0
        at every step, its step divides 0 by 0; for every ε > 0 that step is exactly what it is
        for the smallest ε, so those coordinates (and only those) are taken from a step with ε
        the smallest positive float. Elsewhere ε = 0 is used as given."""
        eps = self.eps
        vars(self)["eps"] = np.where(eps == 0, np.finfo(float).smallest_subnormal, eps) \
            if isinstance(eps, np.ndarray) else np.finfo(float).smallest_subnormal
        try:
            limit_theta, limit_state = self._step_from(key, theta, g)
        finally:
            vars(self)["eps"] = eps
        undefined = np.isnan(new_theta[key]) & np.isfinite(theta) & np.isfinite(g)
        for name in self.state_names:
            undefined = undefined | np.isnan(new_state[key][name])
        new_theta[key] = np.where(undefined, limit_theta, new_theta[key])
        for name in self.state_names:
            new_state[key][name] = np.where(undefined, limit_state[name], new_state[key][name])

    def reset(self) -> None:
        """Forget everything: the next update starts from zero state and step 1."""
        self.state = {}

    def clone(self) -> "Optimizer":
        """A new optimizer of the same kind with the same hyperparameters and empty state."""
        return type(self)(**self.hyperparameter_values)

    @property
    def hyperparameter_values(self) -> dict[str, float | np.ndarray]:
        """The hyperparameters as ``{name: value}``, e.g. ``{"lr": 0.1, "momentum": 0.9}``."""
        return {hp.name: getattr(self, hp.name) for hp in self.hyperparameters}

    def effective_lr(self, state: dict) -> np.ndarray:
        """The factor that multiplies the gradient (or m̂) in a step, per coordinate."""
        return np.asarray(self.lr, dtype=float)

    def step_terms(self, theta, g, before: dict, after: dict) -> list[tuple[str, np.ndarray]] | None:
        """How the step from θ splits into the terms of the formula, for the anatomy figure.

        ``before`` and ``after`` are the state before and after the step (with ``"step"``);
        return ``[(LaTeX label, vector), …]`` whose sum is the step, or ``None`` (the figure
        then shows the step whole). A decomposition that does not add up is not drawn.
        """
        return None

    @classmethod
    def lr_limit(cls, surface, **hyperparameters):
        """The largest stable η on a quadratic ``surface`` given the other hyperparameters
        (numbers or arrays), where theory knows it exactly; ``None`` otherwise."""
        return None

    @classmethod
    def fastest(cls, surface) -> dict[str, float] | None:
        """The hyperparameters that converge fastest on a quadratic ``surface``, where known."""
        return None

    def __repr__(self) -> str:
        def show(v):
            return f"{v:g}" if isinstance(v, float) else f"array{np.shape(v)}"
        args = ", ".join(f"{k}={show(v)}" for k, v in self.hyperparameter_values.items())
        return f"{type(self).__name__}({args})"

    # --- checks ----------------------------------------------------------------------------
    def _hyper_shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(*(np.shape(v) for v in self.hyperparameter_values.values()))

    def _check_inputs(self, params, grads) -> dict[str, np.ndarray]:
        who = f"{type(self).__name__}.update"
        if not isinstance(params, Mapping):
            raise TypeError(f"{who}: params must be a dict of name -> NumPy array, got {type(params).__name__}")
        if not isinstance(grads, Mapping):
            raise TypeError(f"{who}: grads must be a dict of name -> NumPy array, got {type(grads).__name__}")
        if set(params) != set(grads):
            missing = sorted(map(str, set(params) - set(grads)))
            extra = sorted(map(str, set(grads) - set(params)))
            raise ValueError(f"{who}: params and grads must have the same keys; "
                             f"missing from grads: {missing}, not in params: {extra}")
        _check_no_shared_memory(params, who)
        hyper_shape = self._hyper_shape()
        checked = {}
        for key, theta in params.items():
            if not isinstance(theta, np.ndarray):
                raise TypeError(
                    f"{who}: params[{key!r}] must be a float NumPy array (it is updated in place), "
                    f"got {type(theta).__name__} {theta!r}; wrap it as np.array({theta!r}, dtype=float)")
            if not np.issubdtype(theta.dtype, np.floating):
                raise TypeError(
                    f"{who}: params[{key!r}] has dtype {theta.dtype}, but must be a float array: "
                    f"an in-place update would truncate it; use .astype(float)")
            if not theta.flags.writeable:
                raise ValueError(f"{who}: params[{key!r}] is read-only, but parameters are updated "
                                 f"in place; pass a writable copy (np.array(...))")
            g = grads[key]
            if isinstance(g, (str, bytes)) or np.asarray(g).dtype.kind not in "iuf":
                raise TypeError(f"{who}: grads[{key!r}] must be a numeric array, got {g!r}")
            g = np.asarray(g, dtype=np.float64)
            if g.shape != theta.shape:
                raise ValueError(f"{who}: grads[{key!r}] has shape {g.shape}, but params[{key!r}] "
                                 f"has shape {theta.shape}; they must match")
            try:
                full = np.broadcast_shapes(theta.shape, hyper_shape)
            except ValueError:
                full = None
            if full != theta.shape:
                raise ValueError(f"{who}: the hyperparameter arrays (shape {hyper_shape}) must "
                                 f"broadcast against params[{key!r}] (shape {theta.shape})")
            old = self.state.get(key)
            if old is not None:
                shapes = {np.shape(v) for k, v in old.items() if k != "step"}
                if shapes and shapes != {theta.shape}:
                    raise ValueError(f"{who}: params[{key!r}] changed shape to {theta.shape} since "
                                     f"the last update; call reset() to start over")
            checked[key] = g
        return checked


def _check_no_shared_memory(params, who: str) -> None:
    """Two parameters that are one array (or overlapping views of one) would each be updated
    from the same old values and the second write would undo the first: refuse them."""
    arrays = [(key, theta) for key, theta in params.items() if isinstance(theta, np.ndarray)]
    for i, (first, a) in enumerate(arrays):
        for second, b in arrays[i + 1:]:
            if np.may_share_memory(a, b) and np.shares_memory(a, b):
                raise ValueError(f"{who}: params[{first!r}] and params[{second!r}] share the same memory "
                                 f"(one array, or overlapping views of one), so one update would "
                                 f"overwrite the other; pass separate arrays (np.array(...) copies)")


def _check_settings(cls) -> dict[str, float]:
    """The base classes' ``check_settings`` merged with this class's own, completed for every
    other hyperparameter with a valid value off its default (0.8 times it, or a tenth of its
    slider when the default is 0)."""
    declared = {}
    for base in reversed(cls.__mro__):
        declared.update(vars(base).get("check_settings", {}))
    settings = {}
    for hp in cls.hyperparameters:
        moved = float(f"{hp.default * 0.8 if hp.default else hp.slider[1] * 0.1:.3g}")
        settings[hp.name] = declared.get(hp.name, moved if hp.contains(moved) else hp.default)
    return settings


def optimizer_class(name: str | type[Optimizer]) -> type[Optimizer]:
    """The registered optimizer class called ``name`` (case does not matter)."""
    if isinstance(name, type) and issubclass(name, Optimizer):
        return name
    if isinstance(name, str):
        for key, cls in OPTIMIZERS.items():
            if key.lower() == name.lower():
                return cls
    raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")


def get_optimizer(name: str | type[Optimizer] | Optimizer, **hyperparameters) -> Optimizer:
    """An optimizer by name, e.g. ``get_optimizer("adam", lr=0.3)``.

    An :class:`Optimizer` instance is returned as a fresh clone (hyperparameters given here
    replace its own).
    """
    if isinstance(name, Optimizer):
        return type(name)(**{**name.hyperparameter_values, **hyperparameters})
    return optimizer_class(name)(**hyperparameters)


# ---------------------------------------------------------------------------------------------
class SGD(Optimizer):
    r"""Gradient descent: step downhill, in proportion to the slope.

    .. math::
        \theta \leftarrow \theta - \eta g

    With noisy gradients (``noise`` in :func:`gdviz.run`) this is stochastic gradient descent.
    Taught in ``notebooks/01_gradient_descent.ipynb``.
    """

    hyperparameters = (LR.given(0.1),)
    notebook = "01_gradient_descent.ipynb"
    summary = "plain gradient descent"
    color = "#0072B2"                                                # Okabe–Ito blue
    compare_with_gradient_step = False
    check_settings = {"lr": 0.05}
    lr_limit_formula = r"\eta = 2/\lambda_{\max}"

    def step(self, theta, g, state):
        return theta - self.lr * g                                   # θ ← θ − ηg

    def step_terms(self, theta, g, before, after):
        return [(r"gradient term $-\eta g$", -self.lr * g)]

    @classmethod
    def lr_limit(cls, surface, **hyperparameters):
        return gd_lr_limit(surface)


class Momentum(Optimizer):
    r"""Heavy-ball momentum: a ball rolling down the valley keeps its velocity.

    .. math::
        v \leftarrow \alpha v - \eta g \\
        \theta \leftarrow \theta + v

    This is the textbook's (and the seed notebook's) form. torch.optim writes
    b ← μb + g, θ ← θ − ηb: the same method for a constant η, with v = −ηb.
    Taught in ``notebooks/02_momentum_nesterov.ipynb``.
    """

    hyperparameters = (LR.given(0.1), MOMENTUM.given(0.9))
    state_names = ("v",)
    notebook = "02_momentum_nesterov.ipynb"
    summary = "gradient descent with a velocity"
    color = "#D55E00"                                                # Okabe–Ito vermillion
    compare_with_gradient_step = False
    check_settings = {"lr": 0.05, "momentum": 0.8}
    lr_limit_formula = r"\eta = 2(1+\alpha)/\lambda_{\max}"

    def step(self, theta, g, state):
        state["v"] = self.momentum * state["v"] - self.lr * g       # v ← αv − ηg
        return theta + state["v"]                                    # θ ← θ + v

    def step_terms(self, theta, g, before, after):
        return [(r"velocity kept $\alpha v_{k-1}$", self.momentum * before["v"]),
                (r"gradient term $-\eta g$", -self.lr * g)]

    @classmethod
    def lr_limit(cls, surface, *, momentum=None, **others):
        return momentum_lr_limit(cls.momentum.default if momentum is None else momentum, surface)

    @classmethod
    def fastest(cls, surface):
        lr, momentum = momentum_optimal(surface)
        return {"lr": lr, "momentum": momentum}


class Nesterov(Momentum):
    r"""Nesterov's accelerated gradient (NAG), as torch.optim.SGD(nesterov=True) computes it.

    .. math::
        v \leftarrow \alpha v - \eta g \\
        \theta \leftarrow \theta + \alpha v - \eta g

    The step looks ahead along the new velocity. Updating θ with the *old* velocity first
    (an older textbook order) is a different method: see :class:`gdviz.variants.NesterovOldOrder`.
    Taught in ``notebooks/02_momentum_nesterov.ipynb``.
    """

    summary = "momentum with a look-ahead"
    color = "#CC79A7"                                                        # Okabe–Ito reddish purple
    lr_limit_formula = r"\eta = 2(1+\alpha)/((1+2\alpha)\lambda_{\max})"

    def step(self, theta, g, state):
        state["v"] = self.momentum * state["v"] - self.lr * g               # v ← αv − ηg
        return theta + self.momentum * state["v"] - self.lr * g              # θ ← θ + αv − ηg

    def step_terms(self, theta, g, before, after):
        # θ ← θ + αv − ηg with the new v = αv_{k−1} − ηg
        return [(r"velocity kept $\alpha^2 v_{k-1}$", self.momentum ** 2 * before["v"]),
                (r"gradient term $-(1+\alpha)\eta g$", -(1 + self.momentum) * self.lr * g)]

    @classmethod
    def lr_limit(cls, surface, *, momentum=None, **others):
        return nesterov_lr_limit(cls.momentum.default if momentum is None else momentum, surface)


class AdaGrad(Optimizer):
    r"""AdaGrad: each coordinate's step shrinks with the sum of its squared gradients.

    .. math::
        h \leftarrow h + g \odot g \\
        \theta \leftarrow \theta - \eta \, g / (\sqrt{h} + \epsilon)

    ε sits **outside** the square root, in torch.optim and in the textbook's code alike
    (many slides write √(h + ε)). torch's default ε is 1e-10; the textbook hard-codes 1e-7.
    Taught in ``notebooks/03_adagrad.ipynb``.
    """

    hyperparameters = (LR.given(1.0), EPS.given(1e-10))
    state_names = ("h",)
    notebook = "03_adagrad.ipynb"
    summary = "per-coordinate steps that shrink with the gradient history"
    color = "#009E73"                                                        # Okabe–Ito bluish green
    check_settings = {"lr": 0.5, "eps": 1e-7}
    effective_lr_formula = r"\eta/(\sqrt{h}+\epsilon)"

    def step(self, theta, g, state):
        state["h"] = state["h"] + g * g                                      # h ← h + g⊙g
        return theta - self.lr * g / (np.sqrt(state["h"]) + self.eps)        # θ ← θ − ηg/(√h + ε)

    def effective_lr(self, state):
        """η/(√h + ε): the step per unit of gradient, per coordinate."""
        return self.lr / (np.sqrt(state["h"]) + self.eps)

    def step_terms(self, theta, g, before, after):
        return [(r"rescaled step $-\eta g/(\sqrt{h}+\epsilon)$", -self.effective_lr(after) * g)]


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad that forgets, with a running mean of g² instead of a sum.

    .. math::
        h \leftarrow \rho h + (1 - \rho) \, g \odot g \\
        \theta \leftarrow \theta - \eta \, g / (\sqrt{h} + \epsilon)

    ``decay_rate`` is ρ (torch calls it ``alpha``). Taught in ``notebooks/04_rmsprop_adadelta.ipynb``.
    """

    hyperparameters = (LR.given(0.1), DECAY_RATE.given(0.99), EPS.given(1e-8))
    state_names = ("h",)
    notebook = "04_rmsprop_adadelta.ipynb"
    summary = "AdaGrad with a forgetting running mean"
    color = "#E69F00"                                                        # Okabe–Ito orange
    check_settings = {"lr": 0.05, "decay_rate": 0.9, "eps": 1e-7}
    # AdaGrad's step per unit of gradient, η/(√h + ε), and its terms: only h is made differently
    effective_lr_formula = AdaGrad.effective_lr_formula
    effective_lr = AdaGrad.effective_lr
    step_terms = AdaGrad.step_terms

    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + (1 - self.decay_rate) * g * g   # h ← ρh + (1−ρ)g⊙g
        return theta - self.lr * g / (np.sqrt(state["h"]) + self.eps)               # θ ← θ − ηg/(√h + ε)


class Adadelta(Optimizer):
    r"""Adadelta: the step's size comes from the running mean of past steps, so it has θ's units.

    .. math::
        v \leftarrow \rho v + (1 - \rho) \, g \odot g \\
        \Delta\theta \leftarrow \sqrt{u + \epsilon} \, / \sqrt{v + \epsilon} \odot g \\
        u \leftarrow \rho u + (1 - \rho) \, \Delta\theta \odot \Delta\theta \\
        \theta \leftarrow \theta - \eta \, \Delta\theta

    ε sits **inside** both roots (torch.optim.Adadelta; its default ε is 1e-6, η = 1).
    Taught in ``notebooks/04_rmsprop_adadelta.ipynb``.
    """

    hyperparameters = (LR.given(1.0, slider=(1e-2, 100.0)), RHO.given(0.9), EPS.given(1e-6))
    state_names = ("v", "u")
    notebook = "04_rmsprop_adadelta.ipynb"
    summary = "steps sized by the running mean of past steps, so η can stay at 1"
    color = "#56B4E9"                                                        # Okabe–Ito sky blue
    check_settings = {"lr": 0.5, "rho": 0.8, "eps": 1e-5}
    effective_lr_formula = r"\eta\,\sqrt{u+\epsilon}\,/\,\sqrt{v+\epsilon}"

    def step(self, theta, g, state):
        state["v"] = self.rho * state["v"] + (1 - self.rho) * g * g                     # v ← ρv + (1−ρ)g⊙g
        delta = np.sqrt(state["u"] + self.eps) / np.sqrt(state["v"] + self.eps) * g     # Δθ ← √(u+ε)/√(v+ε)⊙g
        state["u"] = self.rho * state["u"] + (1 - self.rho) * delta * delta             # u ← ρu + (1−ρ)Δθ⊙Δθ
        return theta - self.lr * delta                                                  # θ ← θ − ηΔθ

    def effective_lr(self, state):
        """η√(u + ε)/√(v + ε) from the current state: the next step per unit of gradient."""
        return self.lr * np.sqrt(state["u"] + self.eps) / np.sqrt(state["v"] + self.eps)

    def step_terms(self, theta, g, before, after):
        rate = self.effective_lr({"u": before["u"], "v": after["v"]})     # the old u, the new v
        return [(r"rescaled step $-\eta\sqrt{u+\epsilon}\,g/\sqrt{v+\epsilon}$", -rate * g)]


class Adam(Optimizer):
    r"""Adam: momentum on g (the first moment) scaled by the running RMS of g (the second).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        \hat m \leftarrow m / (1 - \beta_1^t) \\
        \hat v \leftarrow v / (1 - \beta_2^t) \\
        \theta \leftarrow \theta - \eta \, \hat m / (\sqrt{\hat v} + \epsilon)

    t is the step count ``state["step"]``. ε is added outside √v̂, as torch.optim does; the
    textbook folds the bias corrections into η and adds ε to √v instead, which acts like
    ε/√(1 − β₂ᵗ): see :class:`gdviz.variants.TextbookAdam`.
    Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = (LR.given(0.1), BETA1.given(0.9), BETA2.given(0.999), EPS.given(1e-8))
    state_names = ("m", "v")
    notebook = "05_adam_adamw.ipynb"
    summary = "momentum plus per-coordinate scaling, bias-corrected"
    color = "#000000"                                                        # Okabe–Ito black
    check_settings = {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7}
    effective_lr_formula = r"\eta/(\sqrt{\hat v}+\epsilon)"
    effective_lr_multiplies = r"\hat m"

    def step(self, theta, g, state):
        t = state["step"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g          # m ← β₁m + (1−β₁)g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g      # v ← β₂v + (1−β₂)g⊙g
        m_hat = state["m"] / (1 - self.beta1 ** t)                           # m̂ ← m/(1−β₁ᵗ)
        v_hat = state["v"] / (1 - self.beta2 ** t)                           # v̂ ← v/(1−β₂ᵗ)
        return theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)         # θ ← θ − ηm̂/(√v̂ + ε)

    def bias_corrections(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(1 − β₁ᵗ, 1 − β₂ᵗ): what m and v are divided by at step t."""
        t = np.asarray(t, dtype=float)
        return 1 - np.power(self.beta1, t), 1 - np.power(self.beta2, t)

    def moments_hat(self, state) -> tuple[np.ndarray, np.ndarray]:
        """(m̂, v̂) for a state, recomputed from m, v and its step count."""
        c1, c2 = self.bias_corrections(state["step"])
        return state["m"] / c1, state["v"] / c2

    def effective_lr(self, state):
        """η/(√v̂ + ε): the step per unit of m̂, per coordinate."""
        return self.lr / (np.sqrt(self.moments_hat(state)[1]) + self.eps)

    def step_terms(self, theta, g, before, after):
        m_hat, _ = self.moments_hat(after)
        return [(r"rescaled step $-\eta\hat m/(\sqrt{\hat v}+\epsilon)$", -self.effective_lr(after) * m_hat)]


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, a pull of θ toward 0 outside the gradient.

    .. math::
        \theta \leftarrow \theta - \eta \delta \theta \\
        \text{then the Adam step on the raw } g

    Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = Adam.hyperparameters + (WEIGHT_DECAY.given(0.01),)
    summary = "Adam with decoupled weight decay"
    color = "#F0E442"                                                        # Okabe–Ito yellow
    check_settings = {"weight_decay": 0.1}

    def step(self, theta, g, state):
        theta = theta - self.lr * self.weight_decay * theta                 # θ ← θ − ηδθ
        return super().step(theta, g, state)                                 # then Adam

    def step_terms(self, theta, g, before, after):
        return [(r"weight decay $-\eta\delta\theta_{k-1}$", -self.lr * self.weight_decay * theta),
                *super().step_terms(theta, g, before, after)]

class NAdam(Optimizer):
    r"""NAdam: Adam whose first moment looks ahead, as Nesterov's momentum does.

    .. math::
        \mu_t \leftarrow \beta_1 (1 - \tfrac{1}{2} \, 0.96^{t\psi}) \\
        \mu_{t+1} \leftarrow \beta_1 (1 - \tfrac{1}{2} \, 0.96^{(t+1)\psi}) \\
        \Pi \leftarrow \Pi \, \mu_t \\
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        \hat v \leftarrow v / (1 - \beta_2^t) \\
        \theta \leftarrow \theta - \eta \frac{1 - \mu_t}{1 - \Pi} \frac{g}{\sqrt{\hat v} + \epsilon}
            - \eta \frac{\mu_{t+1}}{1 - \Pi \mu_{t+1}} \frac{m}{\sqrt{\hat v} + \epsilon}

    torch.optim.NAdam's algorithm (Dozat 2016): the momentum coefficient μ_t warms up toward
    β₁ at the pace ψ (``momentum_decay``), and Π = μ₁⋯μ_t (``state["mu_product"]``, starting
    at 1) bias-corrects both terms. The step takes the current gradient plus the momentum it
    is about to have: the look-ahead. Defaults are torch's except η.
    Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = (LR.given(0.1), BETA1.given(0.9), BETA2.given(0.999), EPS.given(1e-8),
                       MOMENTUM_DECAY.given(4e-3))
    state_names = ("m", "v", "mu_product")
    notebook = "05_adam_adamw.ipynb"
    summary = "Adam with Nesterov's look-ahead on the momentum"
    color = "#332288"                                                        # Tol muted indigo

    def init_state(self, theta):
        state = super().init_state(theta)
        state["mu_product"] = np.ones_like(state["mu_product"])            # Π of no μ's is 1
        return state

    def momentum_coefficients(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(μ_t, μ_{t+1}) = β₁(1 − ½·0.96^{tψ}), β₁(1 − ½·0.96^{(t+1)ψ})."""
        return (self.beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay)),
                self.beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay)))

    def step(self, theta, g, state):
        t = state["step"]
        mu, mu_next = self.momentum_coefficients(t)                             # μ_t, μ_{t+1}
        state["mu_product"] = state["mu_product"] * mu                          # Π ← Πμ_t
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g             # m ← β₁m + (1−β₁)g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g         # v ← β₂v + (1−β₂)g⊙g
        v_hat = state["v"] / (1 - self.beta2 ** t)                              # v̂ ← v/(1−β₂ᵗ)
        denom = np.sqrt(v_hat) + self.eps
        # θ ← θ − η(1−μ_t)/(1−Π) g/(√v̂+ε) − ημ_{t+1}/(1−Πμ_{t+1}) m/(√v̂+ε)
        return (theta - self.lr * (1 - mu) / (1 - state["mu_product"]) * g / denom
                - self.lr * mu_next / (1 - state["mu_product"] * mu_next) * state["m"] / denom)

    def step_terms(self, theta, g, before, after):
        t, product = after["step"], after["mu_product"]
        mu, mu_next = self.momentum_coefficients(t)
        denom = np.sqrt(after["v"] / (1 - self.beta2 ** t)) + self.eps
        return [(r"gradient now $-\eta\frac{1-\mu_t}{1-\Pi}\,\frac{g}{\sqrt{\hat v}+\epsilon}$",
                 -self.lr * (1 - mu) / (1 - product) * g / denom),
                (r"momentum ahead $-\eta\frac{\mu_{t+1}}{1-\Pi\mu_{t+1}}\,\frac{m}{\sqrt{\hat v}+\epsilon}$",
                 -self.lr * mu_next / (1 - product * mu_next) * after["m"] / denom)]


class RAdam(Optimizer):
    r"""RAdam: Adam with a built-in warm-up, plain momentum steps until v̂ can be trusted.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        \hat m \leftarrow m / (1 - \beta_1^t) \\
        \rho_t \leftarrow \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t), \quad
            \rho_\infty = 2/(1 - \beta_2) - 1 \\
        r_t \leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
            {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
        \theta \leftarrow \theta - \eta \, \hat m \, r_t \sqrt{1 - \beta_2^t} / (\sqrt{v} + \epsilon)
            \quad \text{if } \rho_t > 5, \text{ else } \theta - \eta \hat m

    torch.optim.RAdam's algorithm (Liu et al. 2020): ρ_t estimates how many gradients v
    averages; while it is 5 or less (the first 5 steps with β₂ = 0.999) the variance of the
    adaptive rate is too large and the step is SGD with momentum; after that r_t < 1 scales
    the Adam step up gradually. Note ε is added to √v, not √v̂. Defaults are torch's except η.
    Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = (LR.given(0.1), BETA1.given(0.9), BETA2.given(0.999), EPS.given(1e-8))
    state_names = ("m", "v")
    notebook = "05_adam_adamw.ipynb"
    summary = "Adam with a built-in warm-up (rectified)"
    color = "#882255"                                                        # Tol muted wine

    def rectification(self, t) -> np.ndarray:
        """r_t where ρ_t > 5, and 0 before (while the step is plain momentum)."""
        rho_inf = 2 / (1 - self.beta2) - 1
        rho_t = rho_inf - 2 * t * self.beta2 ** t / (1 - self.beta2 ** t)
        on = rho_t > 5
        rho_t, rho_inf = np.where(on, rho_t, 6.0), np.where(on, rho_inf, 6.0)   # keep the root real
        return np.where(on, np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)), 0.0)

    def step(self, theta, g, state):
        t = state["step"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g             # m ← β₁m + (1−β₁)g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g         # v ← β₂v + (1−β₂)g⊙g
        m_hat = state["m"] / (1 - self.beta1 ** t)                              # m̂ ← m/(1−β₁ᵗ)
        r = self.rectification(t)                                               # r_t (0 while ρ_t ≤ 5)
        scaled = m_hat / (np.sqrt(state["v"]) + self.eps)       # first, so that a tiny ε gives 0/ε = 0
        # θ ← θ − ηm̂ r_t √(1−β₂ᵗ)/(√v+ε) once ρ_t > 5, else θ ← θ − ηm̂
        return np.where(r > 0, theta - self.lr * r * np.sqrt(1 - self.beta2 ** t) * scaled,
                        theta - self.lr * m_hat)

    def step_terms(self, theta, g, before, after):
        t = after["step"]
        m_hat = after["m"] / (1 - self.beta1 ** t)
        r = self.rectification(t)
        if np.all(r > 0):
            return [(r"rectified step $-\eta\,r_t\hat m\sqrt{1-\beta_2^t}/(\sqrt{v}+\epsilon)$",
                     -self.lr * r * np.sqrt(1 - self.beta2 ** t) * m_hat / (np.sqrt(after["v"]) + self.eps))]
        if np.all(r == 0):
            return [(r"warm-up: momentum step $-\eta\hat m$ ($\rho_t \leq 5$)", -self.lr * m_hat)]
        return None


class Adamax(Optimizer):
    r"""Adamax: Adam with the running RMS of g replaced by a decaying maximum of |g|.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        u \leftarrow \max(\beta_2 u, |g| + \epsilon) \\
        \theta \leftarrow \theta - \eta \, m / ((1 - \beta_1^t) \, u)

    torch.optim.Adamax's algorithm (Kingma & Ba 2015, section 7.1): the infinity norm needs no
    bias correction, and one large gradient sets the scale until β₂ has decayed it.
    Defaults are torch's except η. Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = (LR.given(0.1), BETA1.given(0.9),
                       dataclasses.replace(BETA2, meaning="decay rate of the infinity norm u "
                                                          "(the decaying maximum of |g|)").given(0.999),
                       EPS.given(1e-8))
    state_names = ("m", "u")
    notebook = "05_adam_adamw.ipynb"
    summary = "Adam with a decaying maximum of |g| instead of the RMS"
    color = "#999933"                                                        # Tol muted olive
    effective_lr_formula = r"\eta/u"
    effective_lr_multiplies = r"\hat m"

    def step(self, theta, g, state):
        t = state["step"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g              # m ← β₁m + (1−β₁)g
        state["u"] = np.maximum(self.beta2 * state["u"], np.abs(g) + self.eps)   # u ← max(β₂u, |g| + ε)
        return theta - self.lr / (1 - self.beta1 ** t) * state["m"] / state["u"]  # θ ← θ − ηm/((1−β₁ᵗ)u)

    def effective_lr(self, state):
        """η/u: the step per unit of m̂ = m/(1 − β₁ᵗ), per coordinate."""
        return self.lr / state["u"]

    def step_terms(self, theta, g, before, after):
        m_hat = after["m"] / (1 - self.beta1 ** after["step"])
        return [(r"rescaled step $-\eta\hat m/u$", -self.effective_lr(after) * m_hat)]


class Lion(Optimizer):
    r"""Lion: every coordinate steps by exactly η, in the direction of an interpolated momentum.

    .. math::
        c \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        \theta \leftarrow \theta - \eta \, (\operatorname{sign}(c) + \delta \theta) \\
        m \leftarrow \beta_2 m + (1 - \beta_2) \, g

    Chen et al., "Symbolic Discovery of Optimization Algorithms" (2023), Algorithm 2, with its
    default betas. torch.optim has no Lion. The sign makes every step the same size (η per
    coordinate, plus weight decay), so Lion wants a smaller η than Adam on a real network.
    Taught in ``notebooks/05_adam_adamw.ipynb``.
    """

    hyperparameters = (
        LR.given(0.1),
        dataclasses.replace(BETA1, meaning="weight of the momentum in c = β₁m + (1 − β₁)g, "
                                           "whose sign is the step").given(0.9),
        dataclasses.replace(BETA2, meaning="decay rate of the momentum m (the running mean of g)").given(0.99),
        WEIGHT_DECAY.given(0.0))
    state_names = ("m",)
    notebook = "05_adam_adamw.ipynb"
    summary = "the sign of an interpolated momentum: every step has size η"
    color = "#117733"                                                        # Tol muted green

    def step(self, theta, g, state):
        c = self.beta1 * state["m"] + (1 - self.beta1) * g                       # c ← β₁m + (1−β₁)g
        theta = theta - self.lr * (np.sign(c) + self.weight_decay * theta)      # θ ← θ − η(sign(c) + δθ)
        state["m"] = self.beta2 * state["m"] + (1 - self.beta2) * g             # m ← β₂m + (1−β₂)g
        return theta

    def step_terms(self, theta, g, before, after):
        c = self.beta1 * before["m"] + (1 - self.beta1) * g
        terms = [(r"sign step $-\eta\,\mathrm{sign}(c)$", -self.lr * np.sign(c))]
        if np.any(self.weight_decay):
            terms.append((r"weight decay $-\eta\delta\theta_{k-1}$", -self.lr * self.weight_decay * theta))
        return terms
