"""Contours with paths, loss curves, small multiples, the classic figure and the comparison."""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..surfaces import Surface, get_surface
from ..trajectory import Trajectory, run
from ..variants import CLASSIC_POSITIONS, CLASSIC_SETTINGS, CLASSIC_START
from . import artist_ids
from ._common import (
    _as_trajectories,
    _checked_text,
    _diverged_note,
    _figsize,
    _given_axes,
    _lw,
    _ms,
    _new_axes,
    _same_surface,
    _two_line_title,
)
from .styles import DIVERGED_MARKER, PALETTE, TEXT_COLOR, _outline, diverged_label, optimizer_color


# --- contours --------------------------------------------------------------------------------
def _grid(surface: Surface, xlim, ylim, resolution: int):
    x = np.linspace(*xlim, resolution)
    y = np.linspace(*ylim, resolution)
    X, Y = np.meshgrid(x, y)
    with np.errstate(all="ignore"):
        Z = np.asarray(surface.f(X, Y), dtype=float) * np.ones_like(X)
    return X, Y, Z


def contour_levels(Z, min_value: float = 0.0, n: int = 20) -> np.ndarray:
    """Contour levels that show the valley floor as well as the walls.

    The levels are f_min + d with d log-spaced from a thousandth of the median height above
    f_min up to the median (the floor, where the paths end), then at evenly spaced quantiles
    of the height above the median (the walls, and plateaus that saturate, such as
    ``plateau`` near 1). Works for surfaces whose minimum is negative (``saddle``).
    """
    Z = np.asarray(Z, dtype=float)
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        raise ValueError("the surface has no finite values in this window")
    base = min(float(min_value), float(finite.min()))
    gap = finite - base
    positive = gap[gap > 0]
    if positive.size == 0:          # a flat window
        return np.array([base, base + 1.0])
    n = max(int(n), 4)
    median = float(np.median(positive))
    low = max(median * 1e-3, float(positive.min()))
    n_log = max(2, int(round(0.6 * n)))
    lower = np.geomspace(low, median, n_log) if median > low else np.array([median])
    upper = np.quantile(positive, np.linspace(0.55, 0.97, n - n_log))
    gaps = np.unique(np.concatenate([lower, upper]))
    keep = np.concatenate([[True], np.diff(gaps) > 1e-9 * gaps[1:]])
    return base + gaps[keep]


def plot_contour(surface="elongated_bowl", ax=None, *, xlim=None, ylim=None, levels=20,
                 resolution: int = 300, filled: bool = False, minima: bool = True,
                 cmap="Greys_r", equal: bool = True, labels: bool = True, **surface_parameters):
    """Draw the contour lines of a surface, with its minima marked; return the contour set.

    ``surface`` is a name (``"rosenbrock"``) or a :class:`~gdviz.surfaces.Surface`; the window
    is the surface's own view unless ``xlim``/``ylim`` are given. ``levels`` is a number of
    levels (chosen by :func:`contour_levels`, log-spaced above f_min) or the levels themselves.
    ``filled=True`` shades between the lines. ``equal=True`` keeps x and y at the same scale,
    so the gradient is drawn perpendicular to the contours.
    """
    surface = get_surface(surface, **surface_parameters)
    ax = _new_axes(ax)
    xlim = tuple(map(float, surface.xlim if xlim is None else xlim))
    ylim = tuple(map(float, surface.ylim if ylim is None else ylim))
    if not (xlim[0] < xlim[1] and ylim[0] < ylim[1]):
        raise ValueError(f"xlim and ylim must be increasing pairs (low, high), got {xlim}, {ylim}")
    X, Y, Z = _grid(surface, xlim, ylim, int(resolution))
    if np.ndim(levels) == 0:
        levels = contour_levels(Z, surface.min_value, int(levels))
    levels = np.asarray(levels, dtype=float)
    color_map = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    # lines from dark (the floor) to light (the walls), never white
    shades = color_map(np.linspace(0.25, 0.75, len(levels)))
    if filled:
        contours = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, alpha=0.35, extend="max")
        ax.contour(X, Y, Z, levels=levels, colors=shades, linewidths=_lw(0.35))
    else:
        contours = ax.contour(X, Y, Z, levels=levels, colors=shades, linewidths=_lw(0.45))
    contours.set_gid(artist_ids.CONTOUR)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    if equal:
        ax.set_aspect("equal", adjustable="box")
    if labels:
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    if minima:
        mark_minima(surface, ax)
    ax._gdviz_surface = surface
    return contours


def mark_minima(surface, ax=None, *, label: str | None = None):
    """Mark every minimum in ``surface.minima`` with a star (and saddle points with a ×)."""
    surface = get_surface(surface)
    ax = _new_axes(ax)
    minima = np.array(surface.minima, dtype=float).reshape(-1, 2)
    if label is None:
        label = "minimum" if len(minima) == 1 else "minima"
    star = ax.plot(minima[:, 0], minima[:, 1], linestyle="none", marker="*", markersize=_ms(2.6),
                   markerfacecolor="white", markeredgecolor="black",
                   markeredgewidth=_lw(0.5), label=label, zorder=2.5, gid=artist_ids.MINIMUM)[0]
    saddles = np.array(getattr(surface, "saddle_points", ()), dtype=float).reshape(-1, 2)
    if len(saddles):
        ax.plot(saddles[:, 0], saddles[:, 1], linestyle="none", marker="X", markersize=_ms(1.8),
                markerfacecolor="white", markeredgecolor="black", markeredgewidth=_lw(0.4),
                label="saddle point", zorder=5, gid=artist_ids.SADDLE)
    return star


def _ensure_contour(ax, surface, contour):
    """Draw the surface's contours unless this axes already shows that surface."""
    shown = getattr(ax, "_gdviz_surface", None)
    if contour is None:
        contour = shown is None
    if contour:
        plot_contour(surface, ax)
    elif shown is not None and not _same_surface(shown, surface):
        raise ValueError(f"this axes shows the surface {shown.name!r}, but the trajectory ran on "
                         f"{surface.name!r}")


# --- paths -----------------------------------------------------------------------------------
def plot_trajectory(traj: Trajectory, ax=None, *, color=None, label: str | None = None,
                    markers: bool = True, contour: bool | None = None, legend: bool = True,
                    zorder: float = 3):
    """Draw one run's path θ_0 … θ_n over the contours; return the path's ``Line2D``.

    The line's data are exactly ``traj.points``. The start is a square; a diverged run ends in
    an ×, at its last finite point, and its legend label says "diverged at step k". The
    contours of ``traj.surface`` are drawn first when ``contour`` is true, or (``None``) when
    the axes does not show a surface yet.
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"plot_trajectory needs a Trajectory (from gdviz.run), got {type(traj).__name__}")
    ax = _new_axes(ax)
    _ensure_contour(ax, traj.surface, contour)
    color = optimizer_color(traj) if color is None else color
    label = traj.label if label is None else _checked_text(label, "label")
    if traj.diverged:
        label = f"{label}, {_diverged_note(traj)}"
    points = traj.points
    (line,) = ax.plot(points[:, 0], points[:, 1], color=color, label=label, zorder=zorder,
                      marker="o" if markers else None, markersize=_ms(0.8),
                      path_effects=_outline(color), gid=artist_ids.PATH)
    ax.plot(points[:1, 0], points[:1, 1], linestyle="none", marker="s", markersize=_ms(1.4),
            markerfacecolor="white", markeredgecolor=color, markeredgewidth=_lw(0.6),
            zorder=zorder + 0.1, gid=artist_ids.START)
    if traj.diverged:
        ax.plot(points[-1:, 0], points[-1:, 1], **DIVERGED_MARKER, markersize=_ms(2.6),
                markeredgewidth=_lw(0.5), zorder=zorder + 0.2, gid=artist_ids.DIVERGED)
        _note_off_view(ax, traj, color)
    if legend:
        _legend(ax)
    return line


def _note_off_view(ax, traj: Trajectory, color) -> None:
    """If a diverged run's last point is outside the view, say so at the edge it left by."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    x, y = traj.points[-1]
    if x0 <= x <= x1 and y0 <= y <= y1:
        return
    inside = (np.clip(x, x0, x1), np.clip(y, y0, y1))
    ha = "right" if x > x1 else "left" if x < x0 else "center"
    va = "top" if y > y1 else "bottom" if y < y0 else "center"
    arrow = {("right", "center"): "→", ("left", "center"): "←", ("center", "top"): "↑",
             ("center", "bottom"): "↓", ("right", "top"): "↗", ("left", "top"): "↖",
             ("right", "bottom"): "↘", ("left", "bottom"): "↙"}[(ha, va)]
    note = diverged_label(traj.name, traj.diverged_at)
    text = f"{note} {arrow}" if ha != "left" else f"{arrow} {note}"
    # dark text; the optimizer's colour is the frame around it
    ax.annotate(text, inside, xytext=(0, 0), textcoords="offset points", ha=ha, va=va,
                fontsize="small", color=TEXT_COLOR, fontweight="bold", gid=artist_ids.DIVERGED_NOTE,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "alpha": 0.9,
                      "edgecolor": color, "linewidth": _lw(0.8)}, zorder=6)


def _legend(ax, *, below: bool = False, ncols: int | None = None):
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if below:
        longest = max(len(label) for label in labels)
        n = ncols or (1 if longest > 45 else min(len(handles), 2))
        return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=n,
                         frameon=False)
    return ax.legend(loc="best")


def plot_trajectories(trajectories, ax=None, *, colors: Sequence | None = None,
                      labels: Sequence[str] | None = None, markers: bool = True,
                      contour: bool | None = None, legend: str | bool = "below"):
    """Overlay several runs on one surface's contours; return their path lines (a list).

    All runs must share a surface. Colours are the optimizers' own (:func:`optimizer_color`);
    when two runs would share one (the same optimizer with different settings, or a variant),
    the later ones take the next unused palette colours. ``legend`` is ``"below"`` (default:
    long labels never cover the paths), ``"best"`` (inside) or ``False``.
    """
    trajs = _as_trajectories(trajectories)
    surface = trajs[0].surface
    for traj in trajs[1:]:
        if not _same_surface(traj.surface, surface):
            raise ValueError(f"plot_trajectories draws runs on one surface, but got "
                             f"{surface.name!r} and {traj.surface.name!r}; use small_multiples")
    for name, given in (("colors", colors), ("labels", labels)):
        if given is not None and len(given) != len(trajs):
            raise ValueError(f"{name} must have one entry per trajectory ({len(trajs)}), got {len(given)}")
    ax = _new_axes(ax)
    _ensure_contour(ax, surface, contour)
    chosen = list(colors) if colors is not None else _distinct_colors(trajs)
    if labels is not None:
        labels = [_checked_text(label, f"labels[{i}]") for i, label in enumerate(labels)]
    lines = [plot_trajectory(traj, ax, color=c, label=None if labels is None else labels[i],
                             markers=markers, contour=False, legend=False, zorder=3 + 0.01 * i)
             for i, (traj, c) in enumerate(zip(trajs, chosen))]
    if legend:
        _legend(ax, below=legend == "below")
    return lines


def _distinct_colors(trajs) -> list[str]:
    chosen, used = [], set()
    for traj in trajs:
        color = optimizer_color(traj)
        if color in used:
            color = next((c for c in PALETTE if c not in used), color)
        used.add(color)
        chosen.append(color)
    return chosen


# --- loss ------------------------------------------------------------------------------------
def plot_loss(trajectories, ax=None, *, colors: Sequence | None = None,
              labels: Sequence[str] | None = None, log: bool = True, legend: bool = True):
    """Plot f(θ_k) − f_min against the step k, on a log scale; return the lines (a list).

    Each line's data are exactly ``traj.losses − traj.surface.min_value``. A gap of 0 (the
    minimum reached to round-off) or below cannot be shown on a log scale: those points are
    marked ▼ along the bottom instead, and the label says from which step. A diverged run
    ends in an ✕ at its last finite loss, and its label says "diverged at step k".
    """
    trajs = _as_trajectories(trajectories)
    for name, given in (("colors", colors), ("labels", labels)):
        if given is not None and len(given) != len(trajs):
            raise ValueError(f"{name} must have one entry per trajectory ({len(trajs)}), got {len(given)}")
    ax = _new_axes(ax, figsize=_figsize(0.52))
    chosen = list(colors) if colors is not None else _distinct_colors(trajs)
    lines = []
    bottom = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for i, (traj, color) in enumerate(zip(trajs, chosen)):
        gap = traj.losses - traj.surface.min_value
        steps = np.arange(len(gap))
        label = traj.label if labels is None else _checked_text(labels[i], f"labels[{i}]")
        zero = gap <= 0 if log else np.zeros(len(gap), dtype=bool)
        if zero.any():
            after = " and after" if zero[-1] and zero.sum() > 1 else ""
            label = f"{label}, f − f_min ≤ 0 at step {int(steps[zero][0])}{after} (▼, off the log scale)"
        if traj.diverged:
            label = f"{label}, {_diverged_note(traj)}"
        (line,) = ax.plot(steps, gap, color=color, label=label, path_effects=_outline(color),
                          gid=artist_ids.LOSS)
        if zero.any():
            ax.plot(steps[zero], np.full(int(zero.sum()), 0.015), transform=bottom,
                    linestyle="none", marker="v", markersize=_ms(1.1), color=color,
                    clip_on=False, gid=artist_ids.AT_MINIMUM)
        if traj.diverged:
            ax.plot(steps[-1:], gap[-1:], **DIVERGED_MARKER, markersize=_ms(2.4),
                    markeredgewidth=_lw(0.5), gid=artist_ids.DIVERGED, clip_on=False, zorder=4)
        lines.append(line)
    if log:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xlabel("step k")
    ax.set_ylabel(r"$f(\theta_k) - f_{\min}$")
    if legend:
        _legend(ax, below=len(lines) > 2)
    return lines


# --- several panels --------------------------------------------------------------------------
def _panel_grid(n: int, surface: Surface, ncols: int | None, width: float | None = None):
    ncols = ncols or (2 if n in (2, 4) else min(n, 3))
    nrows = math.ceil(n / ncols)
    width = width or (mpl.rcParams["figure.figsize"][0] * (1.45 if ncols > 2 else 1.3))
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    font = mpl.rcParams["font.size"] / 72                       # inches
    panel = width / ncols - 4.5 * font                            # minus the y tick labels
    # each row: the axes at the surface's aspect, a two-line title and the x tick labels
    height = nrows * (panel * (y1 - y0) / (x1 - x0) + 5.0 * font) + 2.5 * font
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained",
                             sharex=True, sharey=True, squeeze=False)
    for extra in axes.flat[n:]:
        extra.remove()
    return fig, np.array(axes.flat[:n])


def small_multiples(trajectories, axes=None, *, ncols: int | None = None, titles=None,
                    markers: bool = True, legend: bool = False, colors: Sequence | None = None):
    """One panel per run, each its path over the contours; return ``(fig, axes)``.

    ``axes`` is a 1-D array with one Axes per trajectory, in order. Titles are two lines, the
    optimizer and its settings ("Momentum" / "η=0.1, α=0.9"), so long labels are never cut.
    A diverged run's panel says "diverged at step k" under its title. Colours are those
    :func:`plot_trajectories` and :func:`plot_loss` give the same runs (runs of one optimizer
    with different settings get distinct colours), so a run keeps its colour across figures.
    """
    trajs = _as_trajectories(trajectories)
    for name, given in (("titles", titles), ("colors", colors)):
        if given is not None and len(given) != len(trajs):
            raise ValueError(f"{name} must have one entry per trajectory ({len(trajs)}), got {len(given)}")
    chosen = list(colors) if colors is not None else _distinct_colors(trajs)
    if axes is None:
        fig, axes = _panel_grid(len(trajs), trajs[0].surface, ncols)
    else:
        axes = _given_axes(axes, len(trajs))
        fig = axes[0].figure
    for i, (traj, ax) in enumerate(zip(trajs, axes)):
        plot_trajectory(traj, ax, color=chosen[i], markers=markers, legend=legend)
        title = _two_line_title(traj) if titles is None else _checked_text(titles[i], f"titles[{i}]")
        if traj.diverged:
            title = f"{title}\n{_diverged_note(traj)}"
        ax.set_title(title)
        spec = ax.get_subplotspec()
        if spec is not None and not spec.is_last_row():      # shared axes: label the edges only
            ax.set_xlabel("")
        if spec is not None and not spec.is_first_col():
            ax.set_ylabel("")
    return fig, axes


def classic_figure(axes=None, *, positions: int = CLASSIC_POSITIONS, start=CLASSIC_START):
    """The figure of "Deep Learning from Scratch", ch. 6, in one call; return ``(fig, axes)``.

    Four panels (SGD, Momentum, AdaGrad, Adam) on f = x²/20 + y², each the path over the
    contours with the minimum marked, as the book draws it: the 30 positions θ₀ … θ₂₉ its loop
    records before each of its 30 updates (29 steps from (−7, 2); ``positions`` changes the
    count). The learning rates are the book's (:data:`~gdviz.variants.CLASSIC_SETTINGS`:
    η = 0.95, 0.1, 1.5, 0.3) and everything else its defaults (α = 0.9; β₁ = 0.9,
    β₂ = 0.999; ε = 1e-7). SGD zig-zags across the valley, Momentum overshoots and curls in,
    AdaGrad's steps shrink and its path flattens, Adam curves in.

    The runs are gdviz's (torch.optim's) rules; SGD, Momentum and AdaGrad are the book's to
    round-off. For Adam the book folds the bias correction into η and adds ε to √v instead
    of √v̂ (its ε acts as ε/√(1 − β₂ᵗ)): on this path the two differ by up to 8.7e-6 in a
    coordinate (at θ₂₁; measured against :class:`gdviz.variants.TextbookAdam`, which draws
    the book's own form), far below what the figure can show.
    ``axes`` are 4 Axes to draw into; the returned ``axes`` is a 1-D array in that order.
    """
    if isinstance(positions, bool) or not isinstance(positions, int) or positions < 1:
        raise ValueError(f"positions (how many points θ₀, θ₁, … each panel draws) must be a whole "
                         f"number >= 1, got {positions!r}")
    trajs = [run(name, "elongated_bowl", start=start, steps=positions - 1, **settings)
             for name, settings in CLASSIC_SETTINGS.items()]
    return small_multiples(trajs, axes, ncols=2)


def plot_comparison(trajectories, axes=None, *, markers: bool = True):
    """Paths over the contours (left) beside f − f_min on a log scale (right).

    Returns ``(fig, axes)`` with ``axes = [paths, loss]``; ``axes`` may be two Axes to draw into.
    """
    trajs = _as_trajectories(trajectories)
    if axes is None:
        width = mpl.rcParams["figure.figsize"][0] * 1.45
        fig, axes = plt.subplots(1, 2, figsize=(width, width * 0.42), layout="constrained",
                                 width_ratios=[1.35, 1])
    else:
        axes = _given_axes(axes, 2)
        fig = axes[0].figure
    colors = _distinct_colors(trajs)
    plot_trajectories(trajs, axes[0], colors=colors, markers=markers, legend=False)
    plot_loss(trajs, axes[1], colors=colors, legend=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=_fitting_columns(fig, labels),
               frameon=False)
    return fig, np.array(axes)


def _fitting_columns(fig, labels) -> int:
    """As many legend columns (up to 3) as the figure's width holds for the longest label, so
    a legend of long labels (a dozen optimizers with their settings) is not cut off."""
    size = mpl.font_manager.FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    characters = fig.get_figwidth() * 72 / (0.55 * size)          # about this many fit in a line
    longest = max(len(label) for label in labels) + 6              # and the handle beside each
    return max(1, min(len(labels), 3, int(characters // longest)))
