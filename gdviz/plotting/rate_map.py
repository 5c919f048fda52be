"""Momentum's rate map and the error along each eigen-direction (after Goh, Distill 2017).

:func:`plot_rate_map` colours the (η, α) plane by the convergence rate of heavy-ball momentum
on a quadratic (the largest eigenvalue modulus of its step matrix, :mod:`gdviz.rates`), marks
where each eigen-direction's roots turn complex (it rings) and the optimum, where both are
critically damped. :func:`plot_eigen_errors` draws |θ_k − θ*| along each eigen-direction of a
run against the step, beside what the step matrix predicts.
"""
from __future__ import annotations

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects

from .. import rates, theory
from ..trajectory import Trajectory
from . import artist_ids
from ._common import _check_traj, _figsize, _lw, _ms, _new_axes, _paint_diverged
from .styles import OKABE_ITO

__all__ = ["plot_rate_map", "plot_eigen_errors"]

#: One colour per eigen-direction (λ_min, λ_max), the same in both figures.
DIRECTION_COLORS = (OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"])


def _outlined(line, width=1.8):
    line.set_path_effects([patheffects.Stroke(linewidth=_lw(width), foreground="black"), patheffects.Normal()])
    return line


def plot_rate_map(surface="elongated_bowl", ax=None, *, lrs=None, momentums=None, current=None,
                  colorbar: bool = True, legend: bool = True):
    """The rate of heavy-ball momentum over (η, α) on a quadratic surface; return the ``QuadMesh``.

    Colour: the factor by which the error shrinks per step (the slowest direction's), from the
    best rate on the map (rounded down to a tenth) to 1;
    settings that diverge (rate ≥ 1) are vermillion. White contours at rates 0.7, 0.8, 0.9 and 0.95.
    For each eigen-direction a dashed curve α = (1 − √(ηλ))²: above it that direction's roots
    are complex (it rings), below real. The star is :func:`gdviz.theory.momentum_optimal`, where
    both curves cross; ``current`` = (η, α) adds a point. η is on a log axis.
    """
    lrs = np.geomspace(0.01, 4.0, 200) if lrs is None else np.asarray(lrs, dtype=float)
    momentums = np.linspace(0.0, 0.99, 200) if momentums is None else np.asarray(momentums, dtype=float)
    grid = rates.rate_map(lrs, momentums, surface).T              # rows = α, columns = η
    ax = _new_axes(ax, figsize=_figsize(0.72))
    converging = np.ma.masked_where(grid >= 1, grid)
    low = np.floor(10 * converging.min()) / 10 if converging.count() else 0.0   # spread the colours
    mesh = ax.pcolormesh(lrs, momentums, converging, cmap="viridis", norm=mcolors.Normalize(low, 1),
                         shading="nearest", gid=artist_ids.RATE)
    diverged = _paint_diverged(ax, lrs, momentums, grid >= 1, "diverges (rate ≥ 1)", shading="nearest")
    levels = ax.contour(lrs, momentums, grid, levels=[0.7, 0.8, 0.9, 0.95], colors="white",
                        linewidths=_lw(0.5))
    labels = ax.clabel(levels, fmt="%g", fontsize="small")
    handles = [diverged]
    curvatures, _ = rates.eigen_directions(surface)
    fine = np.geomspace(lrs[0], lrs[-1], 400)
    for lam, color, name in zip(curvatures, DIRECTION_COLORS, ("λ_min", "λ_max")):
        inside = fine * lam < 4
        (line,) = ax.plot(fine[inside], rates.critical_momentum(fine[inside], lam), color=color,
                          linestyle="--", linewidth=_lw(1.2), gid=artist_ids.CRITICAL,
                          label=f"{name} = {lam:g}: complex roots (rings) above, real below")
        handles.append(_outlined(line))
    best_lr, best_momentum = theory.momentum_optimal(surface)
    handles.append(ax.plot([best_lr], [best_momentum], linestyle="none", marker="*", markersize=_ms(3.0),
                           markerfacecolor="white", markeredgecolor="black", gid=artist_ids.OPTIMAL, zorder=6,
                           label=f"fastest: η* = {best_lr:.3g}, α* = {best_momentum:.3g}")[0])
    if current is not None:
        handles.append(ax.plot([current[0]], [current[1]], linestyle="none", marker="o", markersize=_ms(2.0),
                               markerfacecolor=OKABE_ITO["orange"], markeredgecolor="black", zorder=6,
                               gid=artist_ids.SETTING, label=f"η = {current[0]:g}, α = {current[1]:g}")[0])
    ax.set_xscale("log")
    ax.set_xlim(lrs[0], lrs[-1])
    ax.set_ylim(momentums[0], momentums[-1])
    _clear_of(labels, ax, (best_lr, best_momentum))
    ax.set_xlabel("η (lr)")
    ax.set_ylabel("α (momentum)")
    ax.set_title("heavy-ball momentum: rate per step")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="rate (error × this per step; lower is faster)")
    if legend:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=1, frameon=False)
    return mesh


STAR_CLEARANCE = 0.08     # in axes fractions: a contour label nearer the star than this would touch it


def _clear_of(labels, ax, point) -> None:
    """Remove the contour labels that would sit on (or under) the star at ``point``: the
    fastest contour is a small loop around the optimum, and its label lands on the star."""
    to_axes = ax.transData + ax.transAxes.inverted()
    star = to_axes.transform(point)
    for label in labels:
        if np.hypot(*(to_axes.transform(label.get_position()) - star)) < STAR_CLEARANCE:
            label.remove()


def plot_eigen_errors(traj: Trajectory, ax=None, *, prediction: bool = True):
    """|θ_k − θ*| along each eigen-direction of a Momentum (or SGD) run, on a log scale.

    Markers are measured from the run (:func:`gdviz.rates.eigen_errors`); with ``prediction``
    the lines are the step matrix's prediction (:func:`gdviz.rates.predicted_eigen_errors`).
    Returns the measured lines (λ_min first).
    """
    traj = _check_traj(traj, "plot_eigen_errors")
    hp = traj.optimizer.hyperparameter_values
    lr, momentum = float(hp["lr"]), float(hp.get("momentum", 0.0))
    ax = _new_axes(ax, figsize=_figsize(0.6))
    measured = np.abs(rates.eigen_errors(traj))
    steps = np.arange(len(measured))
    curvatures, _ = rates.eigen_directions(traj.surface)
    lines = []
    for i, (lam, color) in enumerate(zip(curvatures, DIRECTION_COLORS)):
        shown = np.where(measured[:, i] > 0, measured[:, i], np.nan)
        lines.append(ax.plot(steps, shown, linestyle="none", marker="o", markersize=_ms(0.7), color=color,
                             label=f"along λ = {lam:g}", gid=artist_ids.MEASURED)[0])
        if prediction:
            predicted = np.abs(rates.predicted_eigen_errors(lr, momentum, traj.surface, traj.points[0],
                                                            len(measured) - 1)[:, i])
            ax.plot(steps, np.where(predicted > 0, predicted, np.nan), color=color, linewidth=_lw(0.8),
                    gid=artist_ids.PREDICTED)
    ax.set_yscale("log")
    ax.set_xlabel("step k")
    ax.set_ylabel("|error| along the direction")
    ax.set_title(f"{traj.label}\nmarkers: measured; lines: step matrix" if prediction else traj.label)
    ax.legend(loc="lower left")
    return lines
