"""Hyperparameters, described once: name, symbol, meaning, valid range and slider range.

Optimizers list the hyperparameters they take (``Optimizer.hyperparameters``); validation,
error messages, the explorer's sliders and the README's symbol table all read these records
instead of repeating them. Each is checked when an optimizer is built and whenever it is
assigned later (``opt.lr = 0.05``), with the same message.

ε = 0 is allowed (torch.optim allows it too, and it makes the formulas exact): where a
coordinate's gradient has been 0 at every step, its step would divide 0 by 0, and is taken as
the limit ε → 0⁺ instead, which is the step any ε > 0 gives there (no move from the gradient).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Hyperparameter", "HYPERPARAMETERS", "LR", "MOMENTUM", "EPS", "BETA1", "BETA2",
           "DECAY_RATE", "RHO", "WEIGHT_DECAY", "MOMENTUM_DECAY"]


@dataclass(frozen=True)
class Hyperparameter:
    """One knob of an optimizer.

    ``low``/``high`` bound the valid range; ``low_closed``/``high_closed`` say whether the
    bound itself is allowed. ``slider`` is the (min, max) the explorer offers, on a log scale
    when ``log`` is true. ``default`` is filled in per optimizer with :meth:`given`.
    """

    name: str
    symbol: str
    latex: str
    meaning: str
    low: float
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = False
    slider: tuple[float, float] = (0.0, 1.0)
    log: bool = False
    default: float | None = None

    def given(self, default: float, slider: tuple[float, float] | None = None) -> "Hyperparameter":
        """This hyperparameter with an optimizer's own default (and, optionally, slider range)."""
        return dataclasses.replace(self, default=float(default),
                                   slider=self.slider if slider is None else tuple(slider))

    @property
    def range_text(self) -> str:
        """The valid range in interval notation, e.g. ``[0, 1)`` or ``(0, inf)``."""
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed and math.isfinite(self.high) else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"

    def contains(self, value) -> np.ndarray:
        """Elementwise: is ``value`` inside the valid range (NaN never is)?"""
        v = np.asarray(value, dtype=float)
        above = v >= self.low if self.low_closed else v > self.low
        below = v <= self.high if self.high_closed else v < self.high
        return above & below & ~np.isnan(v)

    def validate(self, value, owner: str = "") -> float | np.ndarray:
        """Return ``value`` as a float (or float64 array), or raise a message that names it.

        Arrays are allowed so that one optimizer can advance many configurations at once
        (a sweep); every element must lie in the valid range.
        """
        where = f"{owner}: " if owner else ""
        label = f"{where}{self.name} ({self.symbol})"
        if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
            raise TypeError(f"{label} must be a number, got {value!r}")
        raw = np.asarray(value)
        # numpy reads [True, 0.1] as [1.0, 0.1]: look at a list's own items, not at its array
        odd = next((v for v in _items(value) if not _is_number(v)), None)
        if odd is not None or raw.dtype.kind not in "iuf":    # bools, strings, None, objects
            odd = odd if odd is not None else next(
                (v for v in raw.ravel().tolist() if not _is_number(v)), value)
            raise TypeError(f"{label} must be a number or an array of numbers, got {odd!r}"
                            + ("" if raw.ndim == 0 else f" in {value!r}"))
        if raw.size == 0:
            raise ValueError(f"{label} must be a number or a non-empty array of numbers, "
                             f"got an empty {type(value).__name__} {value!r}")
        array = np.array(raw, dtype=float)     # a copy: changing the caller's array later changes nothing
        ok = self.contains(array)
        if not np.all(ok):
            bad = float(array[~ok].flat[0]) if array.ndim else float(array)
            shown = f"{bad!r}" if array.ndim == 0 else f"an array containing {bad!r}"
            raise ValueError(f"{label} must be in {self.range_text}, got {shown} ({self.meaning})")
        array.flags.writeable = False
        return float(array) if array.ndim == 0 else array


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _items(value):
    """The scalars inside nested lists and tuples (arrays are judged by their dtype)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _items(item)
    elif not isinstance(value, np.ndarray):
        yield value


def grid_text(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (0.95, 1e-08, 0.9999): how the
    explorer's sliders and the replay's η input show a grid value."""
    text = f"{value:.12g}"
    return text if float(text) == value else repr(value)


def log_grid(low: float, high: float, keep=()) -> list[float]:
    """Every number with two significant digits (1.0, 1.1, … 9.9 × 10ᵏ) from ``low`` to
    ``high``, both ends and the numbers in ``keep`` included: 90 points a decade (the grid of
    the explorer's log sliders)."""
    points = {low, high, *keep}
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        points.update(float(f"{mantissa}e{exponent - 1}") for mantissa in range(10, 100))
    return sorted(v for v in points if low <= v <= high)


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


LR = Hyperparameter(
    "lr", "η", r"\eta", "learning rate: how far each step moves along the gradient",
    low=0.0, low_closed=False, slider=(1e-3, 3.0), log=True)
MOMENTUM = Hyperparameter(
    "momentum", "α", r"\alpha", "momentum: the fraction of the velocity kept from step to step",
    low=0.0, high=1.0, slider=(0.0, 0.99))
EPS = Hyperparameter(
    "eps", "ε", r"\epsilon", "epsilon: a small number that keeps the division finite",
    low=0.0, slider=(1e-10, 1.0), log=True)
BETA1 = Hyperparameter(
    "beta1", "β₁", r"\beta_1", "decay rate of the first moment (the running mean of g)",
    low=0.0, high=1.0, slider=(0.0, 0.99))
BETA2 = Hyperparameter(
    "beta2", "β₂", r"\beta_2", "decay rate of the second moment (the running mean of g²)",
    low=0.0, high=1.0, slider=(0.5, 0.9999))
DECAY_RATE = Hyperparameter(
    "decay_rate", "ρ", r"\rho", "decay rate: how much of the running mean of g² is kept each step",
    low=0.0, high=1.0, slider=(0.0, 0.999))
RHO = Hyperparameter(
    "rho", "ρ", r"\rho", "decay rate of the running means of g² and of the squared steps",
    low=0.0, high=1.0, slider=(0.0, 0.999))
#: δ, not the λ of torch's docs and the AdamW paper: in gdviz λ is always a curvature (λ_max, λ_min).
WEIGHT_DECAY = Hyperparameter(
    "weight_decay", "δ", r"\delta", "weight decay: how strongly θ is pulled toward 0 each step",
    low=0.0, slider=(0.0, 1.0))
MOMENTUM_DECAY = Hyperparameter(
    "momentum_decay", "ψ", r"\psi", "momentum decay: how fast NAdam's momentum coefficient "
    "μ_t = β₁(1 − ½·0.96^(tψ)) warms up toward β₁", low=0.0, slider=(0.0, 0.1))

HYPERPARAMETERS = {hp.name: hp for hp in
                   (LR, MOMENTUM, EPS, BETA1, BETA2, DECAY_RATE, RHO, WEIGHT_DECAY, MOMENTUM_DECAY)}
