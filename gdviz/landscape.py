r"""Looking at a network's loss: the plane of a trajectory, and the sharpest curvature λ_max.

* :func:`pca_plane` finds the two directions along which a training trajectory (a list of
  flattened parameter vectors θ_0 … θ_n) varies most, as Li et al. do in "Visualizing the Loss
  Landscape of Neural Nets" (2018): the plane goes through the final point θ_n, and
  :meth:`Plane.explained` says how much of the trajectory's variance it holds.
  :func:`loss_on_plane` evaluates the loss on a grid of that plane in one stacked forward pass.
* :func:`hessian_vector_product` is H v by a central difference of gradients, and
  :func:`top_eigenvalue` runs power iteration on it: λ_max, the number behind η < 2/λ_max.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import MLP, flatten, unflatten

__all__ = ["Plane", "pca_plane", "loss_on_plane", "hessian_vector_product", "top_eigenvalue"]


@dataclass
class Plane:
    """A 2-D plane in parameter space: θ(a, b) = origin + a·directions[0] + b·directions[1].

    ``directions`` are orthonormal; ``variances`` are the trajectory's variances along them and
    ``total_variance`` its total variance, so ``explained`` is the fraction the plane holds.
    """

    origin: np.ndarray
    directions: np.ndarray
    variances: np.ndarray
    total_variance: float

    @property
    def explained(self) -> float:
        """The fraction of the trajectory's variance that lies in this plane."""
        return float(self.variances.sum() / self.total_variance)

    def coordinates(self, thetas) -> np.ndarray:
        """(a, b) of each θ projected onto the plane: shape (..., 2)."""
        return (np.asarray(thetas) - self.origin) @ self.directions.T

    def point(self, a, b) -> np.ndarray:
        """θ at plane coordinates (a, b); a and b may be arrays (the result gets a last axis D)."""
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return self.origin + a[..., None] * self.directions[0] + b[..., None] * self.directions[1]


def pca_plane(thetas, origin=None) -> Plane:
    """The plane of the first two principal directions of a trajectory ``thetas`` (shape (n, D)).

    The directions are those of the trajectory's covariance (rows centred on their mean),
    computed from the small n×n Gram matrix, since D (thousands of weights) ≫ n (snapshots).
    The plane passes through ``origin``, by default the last point (where training ended).
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    if thetas.ndim != 2 or thetas.shape[0] < 3:
        raise ValueError(f"thetas must be a trajectory of shape (n, D) with n >= 3 points, "
                         f"got shape {thetas.shape}")
    centred = thetas - thetas.mean(axis=0)
    gram = centred @ centred.T                              # n×n, same non-zero eigenvalues as the covariance
    eigenvalues, eigenvectors = np.linalg.eigh(gram)        # ascending
    top = eigenvalues[::-1][:2]
    directions = (centred.T @ eigenvectors[:, ::-1][:, :2] / np.sqrt(top)).T   # unit vectors in θ-space
    n = thetas.shape[0]
    origin = thetas[-1] if origin is None else np.asarray(origin, dtype=np.float64)
    return Plane(origin=origin, directions=directions, variances=top / n,
                 total_variance=float(np.clip(eigenvalues, 0, None).sum() / n))


def loss_on_plane(net: MLP, plane: Plane, a, b, X, y, chunk: int = 256) -> np.ndarray:
    """The loss of ``net``'s architecture at θ(a, b) for every (a, b) of a grid.

    ``a`` and ``b`` are arrays of the same shape (e.g. from ``np.meshgrid``); the points are
    evaluated as a stack of networks, ``chunk`` at a time.
    """
    X, y = net.check_data(X, y)
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    like = _single(net)
    points = plane.point(a.ravel(), b.ravel())
    losses = np.concatenate([net.loss_of(unflatten(points[i:i + chunk], like), X, y)
                             for i in range(0, len(points), chunk)])
    return losses.reshape(a.shape)


def _single(net: MLP) -> dict[str, np.ndarray]:
    if net.stack_size is not None:
        raise ValueError("this works on a single network; take one out of the stack first")
    return net.params


def hessian_vector_product(net: MLP, v, X, y, theta=None, eps: float = 1e-4) -> np.ndarray:
    """H v, the Hessian of the mean loss times v, by a central difference of gradients:
    (∇L(θ + εv̂) − ∇L(θ − εv̂)) / (2ε) · |v|, with v̂ = v/|v|. θ defaults to the network's own."""
    X, y = net.check_data(X, y)
    like = _single(net)
    theta = flatten(like) if theta is None else np.asarray(theta, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    if norm == 0:
        return np.zeros_like(v)
    both = np.stack([theta + eps * v / norm, theta - eps * v / norm])    # the two points, as a stack of 2
    _, grads = net.loss_and_gradient(unflatten(both, like), X, y)
    g = flatten(grads, stacked=True)
    return (g[0] - g[1]) / (2 * eps) * norm


def top_eigenvalue(net: MLP, X, y, theta=None, iterations: int = 20, seed: int = 0,
                   start=None, tol: float = 1e-4) -> tuple[float, np.ndarray]:
    """λ_max of the loss's Hessian at θ by power iteration on Hessian-vector products.

    Returns (λ, v): the Rayleigh quotient vᵀHv of the unit vector v the iteration settles on
    (the eigenvalue of largest magnitude, which for a network's loss is the largest positive
    one). Stops early once λ changes by less than ``tol`` relative. ``start`` (e.g. the v of a
    previous call at a nearby θ) makes it converge in a few iterations.
    """
    X, y = net.check_data(X, y)
    like = _single(net)
    theta = flatten(like) if theta is None else np.asarray(theta, dtype=np.float64)
    v = (np.random.default_rng(seed).standard_normal(theta.size) if start is None
         else np.asarray(start, dtype=np.float64).copy())
    v /= np.linalg.norm(v)
    eigenvalue = np.inf
    for _ in range(iterations):
        hv = hessian_vector_product(net, v, X, y, theta)
        new = float(v @ hv)                                  # Rayleigh quotient vᵀHv
        v = hv / np.linalg.norm(hv)
        if abs(new - eigenvalue) <= tol * abs(new):
            return new, v
        eigenvalue = new
    return eigenvalue, v
