r"""Heavy-ball momentum on a quadratic, direction by direction: its step matrix, rates and damping.

Along an eigen-direction of the Hessian with curvature λ, the error e_k = θ_k − θ* of heavy-ball
momentum (v ← αv − ηg, θ ← θ + v) obeys e_{k+1} = (1 + α − ηλ) e_k − α e_{k−1}, i.e. the pair
(e_k, e_{k−1}) is multiplied by the **step matrix**

.. math::
    M = \begin{pmatrix} 1 + \alpha - \eta\lambda & -\alpha \\ 1 & 0 \end{pmatrix}

at every step. Its eigenvalues (the roots of z² − (1 + α − ηλ)z + α) decide everything: the
largest modulus is the **rate**, the factor by which that direction's error shrinks per step
(G. Goh, "Why Momentum Really Works", Distill 2017). The roots are complex, so the direction
rings like an under-damped spring, exactly when (1 − √α)² < ηλ < (1 + √α)², i.e. above the curve
α = (1 − √(ηλ))²; on that curve the direction is critically damped. At the optimal (η*, α*) of
:func:`gdviz.theory.momentum_optimal` both directions are critically damped at once.

:func:`eigen_errors` measures the error along each eigen-direction of a run;
:func:`predicted_eigen_errors` computes it from the step matrix alone. Needs numpy only.
"""
from __future__ import annotations

import numpy as np

from .surfaces import Quadratic, get_surface
from .trajectory import Trajectory

__all__ = ["step_matrix", "direction_rates", "rate", "rate_map", "complex_roots", "critical_momentum",
           "eigen_directions", "eigen_errors", "predicted_eigen_errors"]


def _quadratic(surface) -> Quadratic:
    surface = get_surface(surface)
    if not isinstance(surface, Quadratic):
        raise TypeError(f"the rates are exact only on quadratic surfaces, not on {surface.name!r}")
    return surface


def step_matrix(lr, momentum, curvature) -> np.ndarray:
    """M = [[1 + α − ηλ, −α], [1, 0]], broadcast over the inputs: shape (..., 2, 2)."""
    lr, momentum, curvature = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lr, momentum, curvature)))
    matrix = np.zeros(lr.shape + (2, 2))
    matrix[..., 0, 0] = 1 + momentum - lr * curvature
    matrix[..., 0, 1] = -momentum
    matrix[..., 1, 0] = 1.0
    return matrix


def direction_rates(lr, momentum, surface="elongated_bowl") -> np.ndarray:
    """The rate of each eigen-direction (λ_min first): shape (..., 2), the moduli of M's eigenvalues."""
    curvatures = np.linalg.eigvalsh(_quadratic(surface).hessian)
    lr, momentum = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    return np.stack([np.abs(np.linalg.eigvals(step_matrix(lr, momentum, lam))).max(axis=-1)
                     for lam in curvatures], axis=-1)


def rate(lr, momentum, surface="elongated_bowl") -> np.ndarray:
    """The whole run's rate: the slowest direction's (the spectral radius over both directions)."""
    return direction_rates(lr, momentum, surface).max(axis=-1)


def rate_map(lrs, momentums, surface="elongated_bowl") -> np.ndarray:
    """:func:`rate` on the grid lrs × momentums: shape (len(lrs), len(momentums))."""
    grid_lr, grid_momentum = np.meshgrid(np.asarray(lrs, dtype=float), np.asarray(momentums, dtype=float),
                                         indexing="ij")
    return rate(grid_lr, grid_momentum, surface)


def complex_roots(lr, momentum, curvature) -> np.ndarray:
    """True where the direction with this curvature rings (complex roots: under-damped)."""
    lr, momentum, curvature = (np.asarray(v, dtype=float) for v in (lr, momentum, curvature))
    b = 1 + momentum - lr * curvature
    return b * b - 4 * momentum < 0


def critical_momentum(lr, curvature) -> np.ndarray:
    """α = (1 − √(ηλ))²: below it the direction's roots are real, above it complex (for ηλ < 4)."""
    return (1 - np.sqrt(np.asarray(lr, dtype=float) * curvature)) ** 2


def eigen_directions(surface="elongated_bowl") -> tuple[np.ndarray, np.ndarray]:
    """(curvatures λ_min, λ_max; unit eigenvectors as columns) of the surface's Hessian."""
    return np.linalg.eigh(_quadratic(surface).hessian)


def eigen_errors(trajectory: Trajectory) -> np.ndarray:
    """The error θ_k − θ* of a run along each eigen-direction (λ_min first): shape (steps + 1, 2)."""
    _, vectors = eigen_directions(trajectory.surface)
    minimum = np.asarray(trajectory.surface.minima[0], dtype=float)
    return (trajectory.points - minimum) @ vectors


def predicted_eigen_errors(lr, momentum, surface="elongated_bowl", start=None, steps: int = 100) -> np.ndarray:
    """The same errors from the step matrix alone: e_k = (Mᵏ (e_0, e_0))₀ for each direction.

    The run starts at rest (v = 0), so e_{−1} = e_0.
    """
    surface = _quadratic(surface)
    curvatures, vectors = eigen_directions(surface)
    start = np.asarray(surface.start if start is None else start, dtype=float)
    errors = np.empty((steps + 1, 2))
    for i, lam in enumerate(curvatures):
        matrix = step_matrix(lr, momentum, lam)
        state = np.full(2, (start - np.asarray(surface.minima[0], dtype=float)) @ vectors[:, i])
        for k in range(steps + 1):
            errors[k, i] = state[0]
            state = matrix @ state
    return errors
