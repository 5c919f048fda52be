r"""What theory predicts on a quadratic f(θ) = ½ θᵀHθ, to compare with what the runs do.

With λ_min ≤ λ_max the Hessian's eigenvalues and κ = λ_max/λ_min:

* gradient descent multiplies the error along each eigen-direction by (1 − ηλ) per step, so it
  converges iff 0 < η < 2/λ_max; the best fixed η = 2/(λ_min + λ_max) gives the rate (κ−1)/(κ+1);
* heavy-ball momentum converges iff 0 ≤ α < 1 and 0 < ηλ < 2(1 + α) for every λ; the best
  α = ((√κ − 1)/(√κ + 1))² and η = (2/(√λ_min + √λ_max))² give the rate (√κ − 1)/(√κ + 1);
* Nesterov's method (NAG) converges iff 0 ≤ α < 1 and 0 < ηλ < 2(1 + α)/(1 + 2α): its
  look-ahead makes it less tolerant of a large η than heavy ball (Jury's criterion on its
  characteristic polynomial z² − (1 − ηλ)(1 + α)z + (1 − ηλ)α).

Taught in ``notebooks/01_gradient_descent.ipynb`` and ``notebooks/02_momentum_nesterov.ipynb``.
Every function accepts a quadratic surface (or its name) and works elementwise on arrays.
"""
from __future__ import annotations

import numpy as np

from .surfaces import Quadratic, get_surface

__all__ = ["eigenvalues", "condition_number", "gd_lr_limit", "gd_optimal_lr", "gd_rate",
           "gd_optimal_rate", "momentum_lr_limit", "momentum_optimal", "momentum_rate",
           "momentum_optimal_rate", "nesterov_lr_limit", "nesterov_rate", "measured_rate"]


def _quadratic(surface) -> Quadratic:
    surface = get_surface(surface)
    if not isinstance(surface, Quadratic):
        raise TypeError(f"the theory here is exact only on quadratic surfaces "
                        f"(elongated_bowl, bowl, rotated_bowl), not on {surface.name!r}")
    return surface


def eigenvalues(surface="elongated_bowl") -> tuple[float, float]:
    """(λ_min, λ_max): the curvatures along the valley and across it."""
    return _quadratic(surface).eigenvalues


def condition_number(surface="elongated_bowl") -> float:
    """κ = λ_max / λ_min: how much steeper the steepest direction is than the flattest."""
    low, high = eigenvalues(surface)
    return high / low


def gd_lr_limit(surface="elongated_bowl") -> float:
    """2/λ_max: gradient descent converges for η below it and diverges above."""
    return 2.0 / eigenvalues(surface)[1]


def gd_optimal_lr(surface="elongated_bowl") -> float:
    """2/(λ_min + λ_max): the fixed η with the fastest worst-case convergence."""
    low, high = eigenvalues(surface)
    return 2.0 / (low + high)


def gd_rate(lr, surface="elongated_bowl"):
    """max over λ of |1 − ηλ|: the error shrinks at least this much per step (grows if > 1)."""
    low, high = eigenvalues(surface)
    lr = np.asarray(lr, dtype=float)
    return np.maximum(np.abs(1 - lr * low), np.abs(1 - lr * high))


def gd_optimal_rate(surface="elongated_bowl") -> float:
    """(κ − 1)/(κ + 1): the rate of gradient descent at its best fixed η."""
    kappa = condition_number(surface)
    return (kappa - 1) / (kappa + 1)


def momentum_lr_limit(momentum, surface="elongated_bowl"):
    """2(1 + α)/λ_max: heavy-ball momentum converges for η below it (with 0 ≤ α < 1)."""
    return 2.0 * (1 + np.asarray(momentum, dtype=float)) / eigenvalues(surface)[1]


def momentum_optimal(surface="elongated_bowl") -> tuple[float, float]:
    """(η, α) = ((2/(√λ_min + √λ_max))², ((√κ − 1)/(√κ + 1))²): the fastest heavy ball."""
    low, high = eigenvalues(surface)
    lr = (2.0 / (np.sqrt(low) + np.sqrt(high))) ** 2
    momentum = momentum_optimal_rate(surface) ** 2
    return float(lr), float(momentum)


def momentum_optimal_rate(surface="elongated_bowl") -> float:
    """(√κ − 1)/(√κ + 1): the rate of heavy-ball momentum at its optimal (η, α)."""
    root = np.sqrt(condition_number(surface))
    return float((root - 1) / (root + 1))


def momentum_rate(lr, momentum, surface="elongated_bowl"):
    """The spectral radius of heavy-ball momentum's step: the error's shrink factor per step.

    Along an eigen-direction with curvature λ the pair (θ_k, θ_{k−1}) evolves by the matrix
    [[1 + α − ηλ, −α], [1, 0]], whose eigenvalues are the roots of z² − (1 + α − ηλ)z + α.
    """
    lr = np.asarray(lr, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    worst = np.zeros(np.broadcast_shapes(lr.shape, momentum.shape))
    for lam in eigenvalues(surface):
        b = 1 + momentum - lr * lam
        disc = np.sqrt((b * b - 4 * momentum).astype(complex))
        radius = np.maximum(np.abs((b + disc) / 2), np.abs((b - disc) / 2))
        worst = np.maximum(worst, radius)
    return worst


def nesterov_lr_limit(momentum, surface="elongated_bowl"):
    """2(1 + α)/((1 + 2α)λ_max): Nesterov's method converges for η below it (with 0 ≤ α < 1)."""
    momentum = np.asarray(momentum, dtype=float)
    return 2.0 * (1 + momentum) / ((1 + 2 * momentum) * eigenvalues(surface)[1])


def nesterov_rate(lr, momentum, surface="elongated_bowl"):
    """The spectral radius of Nesterov's step: the roots of z² − (1 − ηλ)(1 + α)z + (1 − ηλ)α."""
    lr = np.asarray(lr, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    worst = np.zeros(np.broadcast_shapes(lr.shape, momentum.shape))
    for lam in eigenvalues(surface):
        shrink = 1 - lr * lam
        b, c = shrink * (1 + momentum), shrink * momentum
        disc = np.sqrt((b * b - 4 * c).astype(complex))
        worst = np.maximum(worst, np.maximum(np.abs((b + disc) / 2), np.abs((b - disc) / 2)))
    return worst


def measured_rate(trajectory, first: int | None = None, last: int | None = None) -> float:
    """The observed shrink factor per step of the distance to the nearest minimum.

    (‖θ_last − θ*‖ / ‖θ_first − θ*‖)^(1/(last − first)), by default over the second half of
    the run, where the slowest direction dominates.
    """
    points = trajectory.points
    minima = np.array(trajectory.surface.minima, dtype=float)
    last = len(points) - 1 if last is None else last
    first = last // 2 if first is None else first
    if not 0 <= first < last < len(points):
        raise ValueError(f"need 0 <= first < last <= {len(points) - 1}, got first={first}, last={last}")
    target = minima[np.argmin(np.linalg.norm(minima - points[last], axis=1))]
    d_first = np.hypot(*(points[first] - target))      # hypot: no underflow for tiny distances
    d_last = np.hypot(*(points[last] - target))
    if d_first == 0:
        raise ValueError(f"the run is exactly at the minimum at step {first}; measure over earlier steps")
    return float((d_last / d_first) ** (1.0 / (last - first)))
