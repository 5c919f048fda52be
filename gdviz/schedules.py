r"""Learning-rate schedules: η_t = η · factor(t), for every optimizer.

A :class:`Schedule` says how much of the base learning rate η step t = 1, 2, … uses::

    from gdviz import schedules
    s = schedules.warmup(10, then=schedules.cosine(200))
    s.factor(1), s.factor(10), s.factor(110)        # 0.1, 1.0, 0.5
    gdviz.run("SGD", steps=210, lr=0.9, schedule=s)   # the trajectory records η per step

* :func:`constant` — factor 1 (what a run without a schedule does);
* :func:`step` — multiply by ``factor`` every ``every`` steps: factor^⌊(t − 1)/every⌋;
* :func:`exponential` — multiply by γ every step: γ^(t − 1);
* :func:`cosine` — half a cosine from 1 down to ``floor`` over ``total_steps`` steps, then ``floor``:
  floor + (1 − floor)(1 + cos(π (t − 1)/T))/2 for t − 1 ≤ T;
* :func:`warmup` — rise linearly, t/W for t ≤ W, then run ``then`` (default: constant) from its
  own step 1 on: factor(t) = then.factor(t − W).

As in ``torch.optim.lr_scheduler`` (StepLR, ExponentialLR, CosineAnnealingLR), step t uses the
rate after t − 1 decays, so the first step of a decay runs at the base η. The parameters are
checked like hyperparameters: a clear ``TypeError``/``ValueError`` naming the parameter, the
value and the valid range. Anything that trains uses ``factor(t)`` the same way
(:func:`gdviz.run`, :func:`gdviz.sweep`, the network trainer). Needs numpy only.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .hyperparams import Hyperparameter

__all__ = ["Schedule", "SCHEDULES", "constant", "step", "exponential", "cosine", "warmup"]

_FACTOR = Hyperparameter("factor", "γ", r"\gamma", "the multiplier applied to η at each drop",
                         low=0.0, high=1.0, low_closed=False, high_closed=True)
_GAMMA = Hyperparameter("gamma", "γ", r"\gamma", "the multiplier applied to η at every step",
                        low=0.0, high=1.0, low_closed=False, high_closed=True)
_FLOOR = Hyperparameter("floor", "η_min/η", r"\eta_{\min}/\eta",
                        "the fraction of η that the cosine ends at", low=0.0, high=1.0, high_closed=True)
_MAX_STEPS = 1_000_000


def _number(record: Hyperparameter, value, owner: str) -> float:
    if np.ndim(value) != 0 and not isinstance(value, (str, bytes)):
        raise TypeError(f"{owner}: {record.name} ({record.symbol}) must be a single number, got {value!r}")
    return record.validate(value, owner=owner)


def _whole(name: str, value, owner: str, meaning: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} ({meaning}) must be a whole number, got {value!r}")
    if not 1 <= value <= _MAX_STEPS:
        raise ValueError(f"{owner}: {name} ({meaning}) must be in [1, {_MAX_STEPS}], got {value!r}")
    return int(value)


def _steps(t) -> np.ndarray:
    """``t`` as an int64 array of steps ≥ 1, or a clear error."""
    if isinstance(t, (bool, np.bool_, str, bytes)) or t is None:
        raise TypeError(f"factor(t): t (the step, 1, 2, …) must be a whole number or an array of them, got {t!r}")
    array = np.asarray(t)
    if array.dtype.kind not in "iu":
        raise TypeError(f"factor(t): t (the step, 1, 2, …) must be a whole number or an array of them, got {t!r}")
    if array.size and array.min() < 1:
        raise ValueError(f"factor(t): t (the step) must be in [1, inf): steps count from 1, "
                         f"got {int(array.min())}")
    return array.astype(np.int64)


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``factor(t)`` multiplies the base η at step t = 1, 2, ….

    Build one with :func:`constant`, :func:`step`, :func:`exponential`, :func:`cosine` or
    :func:`warmup`; it is plain data (``kind``, ``parameters``, ``then``), so it compares,
    copies and prints as the call that made it.
    """

    kind: str
    parameters: tuple[tuple[str, float | int], ...] = ()
    then: "Schedule | None" = None

    def factor(self, t):
        """The multiplier of η at step ``t`` (an int ≥ 1, or an int array: elementwise)."""
        steps = _steps(t)
        values = _RULES[self.kind](self, steps)
        return float(values) if values.ndim == 0 else values

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant"

    @property
    def label(self) -> str:
        """A short legend text, e.g. ``"cosine to 0.1η over 100 steps"``."""
        p = dict(self.parameters)
        if self.kind == "constant":
            return "constant η"
        if self.kind == "step":
            return f"η×{p['factor']:g} every {p['every']} steps"
        if self.kind == "exponential":
            return f"η×{p['gamma']:g} per step"
        if self.kind == "cosine":
            return f"cosine to {p['floor']:g}η over {p['total_steps']} steps"
        rest = "" if self.then is None or self.then.is_constant else f", then {self.then.label}"
        return f"warm-up over {p['steps']} steps{rest}"

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.parameters]
        if self.then is not None:
            args.append(f"then={self.then!r}")
        return f"schedules.{self.kind}({', '.join(args)})"


def _constant(s, t):
    return np.ones(t.shape)


def _step(s, t):
    p = dict(s.parameters)
    return p["factor"] ** ((t - 1) // p["every"]).astype(float)


def _exponential(s, t):
    return dict(s.parameters)["gamma"] ** (t - 1).astype(float)


def _cosine(s, t):
    p = dict(s.parameters)
    done = np.minimum(t - 1, p["total_steps"]) / p["total_steps"]
    return p["floor"] + (1 - p["floor"]) * (1 + np.cos(math.pi * done)) / 2


def _warmup(s, t):
    w = dict(s.parameters)["steps"]
    after = s.then.factor(np.maximum(t - w, 1))
    return np.where(t <= w, t / w, after)


_RULES = {"constant": _constant, "step": _step, "exponential": _exponential, "cosine": _cosine,
          "warmup": _warmup}


def constant() -> Schedule:
    """η at every step (factor 1)."""
    return Schedule("constant")


def step(every: int, factor: float) -> Schedule:
    """Multiply η by ``factor`` after every ``every`` steps: factor^⌊(t − 1)/every⌋ (torch's StepLR)."""
    owner = "schedules.step"
    return Schedule("step", (("every", _whole("every", every, owner, "steps between drops")),
                             ("factor", _number(_FACTOR, factor, owner))))


def exponential(gamma: float) -> Schedule:
    """Multiply η by γ after every step: γ^(t − 1) (torch's ExponentialLR)."""
    return Schedule("exponential", (("gamma", _number(_GAMMA, gamma, "schedules.exponential")),))


def cosine(total_steps: int, floor: float = 0.0) -> Schedule:
    """Half a cosine from η down to ``floor``·η over ``total_steps`` steps, then ``floor``·η.

    factor(t) = floor + (1 − floor)(1 + cos(π (t − 1)/T))/2 while t − 1 ≤ T (torch's
    CosineAnnealingLR with η_min = floor·η): factor(1) = 1, factor(T/2 + 1) = (1 + floor)/2,
    factor(T + 1) = floor. With floor = 0 the steps from T + 1 on do not move.
    """
    owner = "schedules.cosine"
    return Schedule("cosine", (("total_steps", _whole("total_steps", total_steps, owner, "the length of the decay")),
                               ("floor", _number(_FLOOR, floor, owner))))


def warmup(steps: int, then: Schedule | None = None) -> Schedule:
    """Rise linearly over ``steps`` steps (factor t/W: η/W at step 1, η at step W), then ``then``.

    ``then`` (by default :func:`constant`) starts at its own step 1 right after the warm-up:
    factor(t) = then.factor(t − W) for t > W.
    """
    owner = "schedules.warmup"
    if then is None:
        then = constant()
    if not isinstance(then, Schedule):
        raise TypeError(f"{owner}: then (the schedule after the warm-up) must be a Schedule "
                        f"such as schedules.cosine(100), or None, got {then!r}")
    return Schedule("warmup", (("steps", _whole("steps", steps, owner, "the length of the warm-up")),), then)


#: The schedules by name, for menus (e.g. the explorer's schedule control).
SCHEDULES = {"constant": constant, "step": step, "exponential": exponential, "cosine": cosine,
             "warmup": warmup}
