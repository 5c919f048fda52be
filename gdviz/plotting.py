r"""Figures: contours with paths, loss curves, small multiples, the optimizers' inner state,
the anatomy of one step, and stability maps.

Every function takes an optional ``ax`` (or ``axes``) and returns what it drew, so a notebook
can compose figures freely; with ``ax=None`` it makes its own figure with
``plt.subplots(layout="constrained")``. Two styles, both with the colour-blind-safe Okabe–Ito
palette::

    from gdviz import plotting as gp
    gp.use_style("projector")              # larger fonts and lines, for the lecture hall
    with gp.style("notebook"):
        fig, axes = gp.classic_figure()    # "Deep Learning from Scratch", ch. 6, in one call

End a notebook cell with ``;`` (or ``plt.show()``) so the returned artists are not printed.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .optimizers import (OPTIMIZERS, SGD, Adadelta, Adam, AdamW, Momentum, Nesterov, Optimizer,
                         optimizer_class)
from .surfaces import Quadratic, Surface, get_surface
from .trajectory import SweepResult, Trajectory, run

__all__ = ["PALETTE", "OKABE_ITO", "OPTIMIZER_COLORS", "optimizer_color", "STYLES", "style",
           "use_style", "contour_levels", "plot_contour", "mark_minima", "plot_trajectory",
           "plot_trajectories", "plot_loss", "plot_comparison", "small_multiples",
           "classic_figure", "CLASSIC_SETTINGS", "plot_velocity", "plot_effective_lr",
           "plot_adam_moments", "COORDINATE_STYLES", "StepTerms", "step_terms", "plot_step_anatomy",
           "plot_stability_map"]

# --- colours ---------------------------------------------------------------------------------
#: The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
#: deficiency, by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
#: The line colours in the order plots use them (yellow last: it is faint on white).
PALETTE: tuple[str, ...] = tuple(OKABE_ITO[name] for name in (
    "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow"))

#: One fixed colour per registered optimizer, so SGD is the same blue in every figure.
OPTIMIZER_COLORS: dict[str, str] = {
    "SGD": OKABE_ITO["blue"], "Momentum": OKABE_ITO["vermillion"],
    "Nesterov": OKABE_ITO["reddish_purple"], "AdaGrad": OKABE_ITO["bluish_green"],
    "RMSprop": OKABE_ITO["orange"], "Adadelta": OKABE_ITO["sky_blue"],
    "Adam": OKABE_ITO["black"], "AdamW": OKABE_ITO["yellow"],
}
_DIVERGED_COLOR = OKABE_ITO["vermillion"]


def optimizer_color(optimizer) -> str:
    """The colour of an optimizer, given its name, class, instance or a :class:`Trajectory`.

    Registered optimizers have fixed colours (:data:`OPTIMIZER_COLORS`); a variant that is not
    registered (e.g. ``gdviz.variants.TextbookAdam``) takes the colour of the registered class
    it derives from; anything else gets the first palette colour.
    """
    if isinstance(optimizer, Trajectory):
        optimizer = optimizer.optimizer
    if isinstance(optimizer, Optimizer):
        optimizer = type(optimizer)
    if isinstance(optimizer, str):
        optimizer = optimizer_class(optimizer)        # ValueError listing the valid names
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        for cls in optimizer.__mro__:
            if cls.__name__ in OPTIMIZER_COLORS and OPTIMIZERS.get(cls.__name__) is cls:
                return OPTIMIZER_COLORS[cls.__name__]
        return PALETTE[0]
    raise TypeError(f"optimizer_color needs an optimizer name, class, instance or Trajectory, "
                    f"got {optimizer!r}")


def _is_light(color) -> bool:
    r, g, b = mcolors.to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.7


def _outline(color):
    """A thin dark outline for light colours (the Okabe–Ito yellow), nothing for the rest."""
    if _is_light(color):
        return [patheffects.Stroke(linewidth=mpl.rcParams["lines.linewidth"] + 1.6,
                                   foreground="#333333"), patheffects.Normal()]
    return None


# --- styles ----------------------------------------------------------------------------------
_COMMON = {
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.framealpha": 0.9,
    "image.cmap": "viridis",
    "savefig.bbox": "tight",
}
#: rcParams of the two styles: ``"notebook"`` (6–10 in wide figures, 10 pt text) and
#: ``"projector"`` (the same figures with 16 pt text and thicker lines, for a lecture hall).
STYLES: dict[str, dict] = {
    "notebook": {**_COMMON, "figure.figsize": (7.0, 4.5), "figure.dpi": 100,
                 "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
                 "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
                 "lines.linewidth": 1.8, "lines.markersize": 4.5},
    "projector": {**_COMMON, "figure.figsize": (10.0, 6.5), "figure.dpi": 100,
                  "font.size": 16, "axes.titlesize": 17, "axes.labelsize": 16,
                  "xtick.labelsize": 14, "ytick.labelsize": 14, "legend.fontsize": 13,
                  "lines.linewidth": 3.0, "lines.markersize": 7.5,
                  "axes.linewidth": 1.4, "xtick.major.width": 1.4, "ytick.major.width": 1.4},
}


def _style_params(name: str) -> dict:
    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[name]


def style(name: str = "notebook"):
    """A context manager that applies a gdviz style inside a ``with`` block only.

    >>> with style("projector"):
    ...     fig, axes = classic_figure()
    """
    return plt.style.context(_style_params(name))


def use_style(name: str = "notebook") -> None:
    """Apply a gdviz style (``"notebook"`` or ``"projector"``) to every later figure."""
    mpl.rcParams.update(_style_params(name))


# --- small helpers ---------------------------------------------------------------------------
def _new_axes(ax, figsize=None):
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _figsize(height_ratio: float, width_scale: float = 1.0) -> tuple[float, float]:
    """A figure size relative to the style's width (so the projector style scales it)."""
    width = mpl.rcParams["figure.figsize"][0] * width_scale
    return (width, width * height_ratio)


def _plain_log_ticks(axis) -> None:
    """Label a log axis that spans less than about two decades with plain numbers (0.4, 2)
    instead of 4×10⁻¹, 2×10⁰; wider ranges keep matplotlib's powers of ten."""
    low, high = axis.get_view_interval()
    if low > 0 and high / low < 150:
        formatter = mpl.ticker.FuncFormatter(lambda value, _: f"{value:.3g}")
        axis.set_major_formatter(formatter)
        axis.set_minor_formatter(formatter if high / low < 12 else mpl.ticker.NullFormatter())


def _lw(scale: float = 1.0) -> float:
    return mpl.rcParams["lines.linewidth"] * scale


def _ms(scale: float = 1.0) -> float:
    return mpl.rcParams["lines.markersize"] * scale


def _as_trajectories(trajectories) -> list[Trajectory]:
    if isinstance(trajectories, Trajectory):
        return [trajectories]
    items = list(trajectories)
    if not items:
        raise ValueError("no trajectories given: pass a Trajectory or a list of them "
                         "(e.g. gdviz.run('SGD', lr=0.1))")
    for item in items:
        if not isinstance(item, Trajectory):
            raise TypeError(f"expected Trajectory objects (from gdviz.run), got {type(item).__name__}")
    return items


def _same_surface(a: Surface, b: Surface) -> bool:
    return a is b or (type(a) is type(b) and a.parameters == b.parameters)


def _name_and_settings(traj: Trajectory) -> tuple[str, str]:
    """("Momentum", "η=0.1, α=0.9"): the label split for two-line titles."""
    label = traj.label
    name, _, rest = label.partition(" (")
    return name, rest[:-1] if rest.endswith(")") else rest


def _two_line_title(traj: Trajectory) -> str:
    name, settings = _name_and_settings(traj)
    return f"{name}\n{settings}" if settings else name


def _diverged_note(traj: Trajectory) -> str:
    return f"diverged at step {traj.diverged_at}"


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
    contours.set_gid("contour")
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
                   markeredgewidth=_lw(0.5), label=label, zorder=2.5, gid="minimum")[0]
    saddles = np.array(getattr(surface, "saddle_points", ()), dtype=float).reshape(-1, 2)
    if len(saddles):
        ax.plot(saddles[:, 0], saddles[:, 1], linestyle="none", marker="X", markersize=_ms(1.8),
                markerfacecolor="white", markeredgecolor="black", markeredgewidth=_lw(0.4),
                label="saddle point", zorder=5, gid="saddle")
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
    label = traj.label if label is None else label
    if traj.diverged:
        label = f"{label}, {_diverged_note(traj)}"
    points = traj.points
    (line,) = ax.plot(points[:, 0], points[:, 1], color=color, label=label, zorder=zorder,
                      marker="o" if markers else None, markersize=_ms(0.8),
                      path_effects=_outline(color), gid="path")
    ax.plot(points[:1, 0], points[:1, 1], linestyle="none", marker="s", markersize=_ms(1.4),
            markerfacecolor="white", markeredgecolor=color, markeredgewidth=_lw(0.6),
            zorder=zorder + 0.1, gid="start")
    if traj.diverged:
        ax.plot(points[-1:, 0], points[-1:, 1], linestyle="none", marker="X", markersize=_ms(2.6),
                color=_DIVERGED_COLOR, markeredgecolor="black", markeredgewidth=_lw(0.3),
                zorder=zorder + 0.2, gid="diverged")
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
    text = f"{traj.name} {_diverged_note(traj)} {arrow}" if ha != "left" else \
        f"{arrow} {traj.name} {_diverged_note(traj)}"
    ax.annotate(text, inside, xytext=(0, 0), textcoords="offset points", ha=ha, va=va,
                fontsize="small", color=color, fontweight="bold", gid="diverged_note",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8,
                      "edgecolor": "none"}, zorder=6)


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
    marked ▼ along the bottom instead, and the label says from which step. A diverged run ends in an × at its last finite loss, and its
    label says "diverged at step k".
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
        label = traj.label if labels is None else labels[i]
        zero = gap <= 0 if log else np.zeros(len(gap), dtype=bool)
        if zero.any():
            after = " and after" if zero[-1] and zero.sum() > 1 else ""
            label = f"{label}, f − f_min ≤ 0 at step {int(steps[zero][0])}{after} (▼, off the log scale)"
        if traj.diverged:
            label = f"{label}, {_diverged_note(traj)}"
        (line,) = ax.plot(steps, gap, color=color, label=label, path_effects=_outline(color),
                          gid="loss")
        if zero.any():
            ax.plot(steps[zero], np.full(int(zero.sum()), 0.015), transform=bottom,
                    linestyle="none", marker="v", markersize=_ms(1.1), color=color,
                    clip_on=False, gid="at_minimum")
        if traj.diverged:
            ax.plot(steps[-1:], gap[-1:], linestyle="none", marker="X", markersize=_ms(2.4),
                    color=_DIVERGED_COLOR, markeredgecolor="black", markeredgewidth=_lw(0.3),
                    gid="diverged", clip_on=False, zorder=4)
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


def _given_axes(axes, n: int) -> np.ndarray:
    flat = np.array(axes, dtype=object).ravel() if not isinstance(axes, mpl.axes.Axes) \
        else np.array([axes], dtype=object)
    if len(flat) < n:
        raise ValueError(f"need {n} axes (one per panel), got {len(flat)}")
    return flat[:n]


def small_multiples(trajectories, axes=None, *, ncols: int | None = None, titles=None,
                    markers: bool = True, legend: bool = False):
    """One panel per run, each its path over the contours; return ``(fig, axes)``.

    ``axes`` is a 1-D array with one Axes per trajectory, in order. Titles are two lines, the
    optimizer and its settings ("Momentum" / "η=0.1, α=0.9"), so long labels are never cut.
    A diverged run's panel says "diverged at step k" under its title.
    """
    trajs = _as_trajectories(trajectories)
    if titles is not None and len(titles) != len(trajs):
        raise ValueError(f"titles must have one entry per trajectory ({len(trajs)}), got {len(titles)}")
    if axes is None:
        fig, axes = _panel_grid(len(trajs), trajs[0].surface, ncols)
    else:
        axes = _given_axes(axes, len(trajs))
        fig = axes[0].figure
    for i, (traj, ax) in enumerate(zip(trajs, axes)):
        plot_trajectory(traj, ax, markers=markers, legend=legend)
        title = _two_line_title(traj) if titles is None else titles[i]
        if traj.diverged:
            title = f"{title}\n{_diverged_note(traj)}"
        ax.set_title(title)
        spec = ax.get_subplotspec()
        if spec is not None and not spec.is_last_row():      # shared axes: label the edges only
            ax.set_xlabel("")
        if spec is not None and not spec.is_first_col():
            ax.set_ylabel("")
    return fig, axes


#: The settings of the figure in "Deep Learning from Scratch", ch. 6: f = x²/20 + y², start
#: (−7, 2), 30 steps, the book's learning rates and its ε = 1e-7.
CLASSIC_SETTINGS: dict[str, dict[str, float]] = {
    "SGD": {"lr": 0.95},
    "Momentum": {"lr": 0.1, "momentum": 0.9},
    "AdaGrad": {"lr": 1.5, "eps": 1e-7},
    "Adam": {"lr": 0.3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
}


def classic_figure(axes=None, *, steps: int = 30, start=(-7.0, 2.0)):
    """The figure of "Deep Learning from Scratch", ch. 6, in one call; return ``(fig, axes)``.

    Four panels (SGD, Momentum, AdaGrad, Adam) on f = x²/20 + y², each the path of 30 steps
    from (−7, 2) over the contours with the minimum marked. The learning rates are the book's
    (:data:`CLASSIC_SETTINGS`: η = 0.95, 0.1, 1.5, 0.3) and everything else its defaults
    (α = 0.9; β₁ = 0.9, β₂ = 0.999; ε = 1e-7). SGD zig-zags across the valley, Momentum
    overshoots and curls in, AdaGrad's steps shrink and its path flattens, Adam curves in.

    The runs are gdviz's (torch.optim's) rules. For Adam the book folds the bias correction
    into η and adds ε to √v instead of √v̂; with gradients of order 1 the two paths differ by
    round-off (see :class:`gdviz.variants.TextbookAdam` to draw the book's own form).
    ``axes`` are 4 Axes to draw into; the returned ``axes`` is a 1-D array in that order.
    """
    trajs = [run(name, "elongated_bowl", start=start, steps=steps, **settings)
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
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 3),
               frameon=False)
    return fig, np.array(axes)


# --- internal state --------------------------------------------------------------------------
#: Colours and line styles of the x and y coordinates in the state plots.
COORDINATE_STYLES = ({"color": OKABE_ITO["blue"], "linestyle": "-", "label": "x"},
                     {"color": OKABE_ITO["orange"], "linestyle": "--", "label": "y"})


def _check_traj(traj, who: str) -> Trajectory:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"{who} needs a Trajectory (from gdviz.run), got {type(traj).__name__}")
    return traj


def _names_of(predicate) -> str:
    names = [name for name, cls in OPTIMIZERS.items() if predicate(cls)]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def plot_velocity(traj: Trajectory, ax=None, *, scale: float = 1.0, contour: bool | None = None):
    """Draw Momentum's (or Nesterov's) velocity v_k as an arrow at each point θ_k.

    The arrows are in the plot's own units (an arrow of v ends at θ_k + v, times ``scale``):
    v_k is the step that brought the ball to θ_k, and α v_k is what it carries into the next
    step. Returns the ``Quiver`` (its X, Y are ``traj.points``, its U, V are
    ``scale * traj.states["v"]``). Raises ``ValueError`` for optimizers without a velocity.
    """
    traj = _check_traj(traj, "plot_velocity")
    if not isinstance(traj.optimizer, Momentum):
        extra = "; for Adam's running mean of g see plot_adam_moments" if isinstance(traj.optimizer, Adam) else ""
        raise ValueError(f"{traj.name} keeps no velocity; plot_velocity needs "
                         f"{_names_of(lambda c: issubclass(c, Momentum))}{extra}")
    ax = _new_axes(ax)
    path = plot_trajectory(traj, ax, contour=contour, legend=False, markers=True, color="0.45")
    path.set_linewidth(_lw(0.5))
    path.set_markersize(_ms(0.6))
    v = np.asarray(traj.states["v"], dtype=float) * float(scale)
    points = traj.points
    color = optimizer_color(traj)
    label = "velocity $v_k$ at $\\theta_k$" + (f" (×{scale:g})" if scale != 1 else "")
    quiver = ax.quiver(points[:, 0], points[:, 1], v[:, 0], v[:, 1], angles="xy",
                       scale_units="xy", scale=1.0, color=color, width=0.006, headwidth=3.5,
                       zorder=4, gid="velocity")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(_arrow_handle(color))
    labels.append(label)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2,
              frameon=False)
    ax.set_title(f"{traj.label}: the velocity it carries")
    return quiver


def _arrow_handle(color, linestyle="-"):
    """A legend handle that looks like an arrow."""
    return Line2D([], [], color=color, linestyle=linestyle, linewidth=_lw(1.0), marker=">",
                  markersize=_ms(1.2), markevery=[-1])


_EFFECTIVE_LR_FORMULAS = {"AdaGrad": r"$\eta/(\sqrt{h}+\epsilon)$",
                          "RMSprop": r"$\eta/(\sqrt{h}+\epsilon)$",
                          "Adadelta": r"$\eta\,\sqrt{u+\epsilon}\,/\,\sqrt{v+\epsilon}$",
                          "Adam": r"$\eta/(\sqrt{\hat v}+\epsilon)$"}


def _adapts(cls) -> bool:
    return cls.effective_lr is not Optimizer.effective_lr


def _state_at(traj: Trajectory, k) -> dict:
    """The optimizer's state after k steps (k may be an array of steps), as ``effective_lr`` reads it."""
    k = np.asarray(k)
    state = {name: values[k] for name, values in traj.states.items()}
    state["step"] = k[..., None] if k.ndim else k
    return state


def plot_effective_lr(traj: Trajectory, ax=None, *, reference: bool = True):
    """Plot each coordinate's effective learning rate over the steps, on a log scale.

    The rate is ``opt.effective_lr(state)`` after step k = 1 … n: η/(√h + ε) for AdaGrad and
    RMSprop, η√(u + ε)/√(v + ε) for Adadelta and η/(√v̂ + ε) for Adam (which multiplies m̂,
    not g). x and y are two lines; a dotted line marks η itself (``reference``). Returns the
    two lines [x, y]. Raises ``ValueError`` for optimizers with one fixed rate (SGD, Momentum).
    """
    traj = _check_traj(traj, "plot_effective_lr")
    opt = traj.optimizer
    if not _adapts(type(opt)):
        raise ValueError(f"{traj.name} uses the same learning rate η for every coordinate and "
                         f"every step; plot_effective_lr needs {_names_of(_adapts)}")
    if traj.n_steps < 1:
        raise ValueError("the run took no steps: there is no effective learning rate to plot")
    ax = _new_axes(ax, figsize=_figsize(0.52))
    steps = np.arange(1, traj.n_steps + 1)
    with np.errstate(all="ignore"):
        rates = np.broadcast_to(opt.effective_lr(_state_at(traj, steps)), (len(steps), 2))
    lines = [ax.plot(steps, rates[:, i], **COORDINATE_STYLES[i], gid="effective_lr")[0]
             for i in range(2)]
    if reference:
        ax.axhline(float(opt.lr), color="0.4", linestyle=":", linewidth=_lw(0.7),
                   label=f"η = {float(opt.lr):.3g}", gid="lr")
    formula = next((_EFFECTIVE_LR_FORMULAS[c.__name__] for c in type(opt).__mro__
                    if c.__name__ in _EFFECTIVE_LR_FORMULAS), "effective η")
    ax.set_yscale("log")
    ax.autoscale_view()
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("step k")
    ax.set_ylabel("effective learning rate")
    ax.set_title(f"{_name_and_settings(traj)[0]}: effective learning rate {formula}\n"
                 f"each coordinate's step per unit of {'m̂' if isinstance(opt, Adam) else 'gradient'}")
    ax.legend(loc="best")
    return lines


def plot_adam_moments(traj: Trajectory, axes=None):
    """Adam's inner state over the steps: m̂ and v̂ per coordinate, and the bias corrections.

    Three panels sharing the step axis: m̂_k = m_k/(1 − β₁ᵏ) (the raw m_k dotted), v̂_k =
    v_k/(1 − β₂ᵏ) on a log scale (raw v_k dotted), and the factors 1 − β₁ᵏ and 1 − β₂ᵏ that
    they are divided by (log scale: 1 − β₂ᵏ starts at 0.001, which is why v̂ ≫ v early on).
    Returns ``{"m_hat": [x, y], "v_hat": [x, y], "corrections": [1−β₁ᵏ, 1−β₂ᵏ]}`` (lines).
    """
    traj = _check_traj(traj, "plot_adam_moments")
    opt = traj.optimizer
    if not isinstance(opt, Adam):
        raise ValueError(f"{traj.name} keeps no moments m and v; plot_adam_moments needs "
                         f"{_names_of(lambda c: issubclass(c, Adam))}")
    if traj.n_steps < 1:
        raise ValueError("the run took no steps: there are no moments to plot")
    if axes is None:
        width = mpl.rcParams["figure.figsize"][0]
        fig, axes = plt.subplots(3, 1, figsize=(width, width * 0.95), sharex=True,
                                 layout="constrained")
    else:
        axes = _given_axes(axes, 3)
    steps = np.arange(1, traj.n_steps + 1)
    state = _state_at(traj, steps)
    m_hat, v_hat = opt.moments_hat(state)
    c1, c2 = opt.bias_corrections(steps)
    drawn = {"m_hat": [], "v_hat": [], "corrections": []}
    for i in range(2):
        style_ = COORDINATE_STYLES[i]
        drawn["m_hat"].append(axes[0].plot(steps, m_hat[:, i], **{**style_, "label": f"m̂ ({style_['label']})"})[0])
        axes[0].plot(steps, state["m"][:, i], color=style_["color"], linestyle=":",
                     linewidth=_lw(0.6), label=f"m ({style_['label']}, uncorrected)")
        drawn["v_hat"].append(axes[1].plot(steps, v_hat[:, i], **{**style_, "label": f"v̂ ({style_['label']})"})[0])
        axes[1].plot(steps, state["v"][:, i], color=style_["color"], linestyle=":",
                     linewidth=_lw(0.6), label=f"v ({style_['label']}, uncorrected)")
    b1, b2 = float(opt.beta1), float(opt.beta2)
    drawn["corrections"].append(axes[2].plot(steps, c1, color=OKABE_ITO["bluish_green"],
                                             label=f"1 − β₁ᵏ (β₁ = {b1:g})")[0])
    drawn["corrections"].append(axes[2].plot(steps, c2, color=OKABE_ITO["reddish_purple"],
                                             linestyle="--", label=f"1 − β₂ᵏ (β₂ = {b2:g})")[0])
    axes[0].axhline(0, color="0.6", linewidth=_lw(0.4))
    axes[0].set_ylabel("first moment")
    axes[1].set_ylabel("second moment")
    axes[2].set_ylabel("bias correction")
    axes[2].set_xlabel("step k")
    if np.all(v_hat[v_hat == v_hat] > 0):
        axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].set_title(f"{_name_and_settings(traj)[0]}: m̂ = m/(1 − β₁ᵏ), v̂ = v/(1 − β₂ᵏ)")
    for ax in axes[:3]:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return drawn


# --- the anatomy of one step -----------------------------------------------------------------
class StepTerms:
    """The pieces of step k, θ_k − θ_{k−1}, as the update rule builds it.

    ``terms`` is a list of (label, vector) whose sum is the step (to round-off): drawn tip to
    tail from θ_{k−1}. ``reference`` is a list of (label, vector) drawn from θ_{k−1} for
    comparison but not part of the sum (the plain gradient step −ηg, for adaptive methods).
    """

    def __init__(self, k, start, step, terms, reference, note=""):
        self.k, self.start, self.step = k, np.asarray(start), np.asarray(step)
        self.terms = [(label, np.asarray(vector, dtype=float)) for label, vector in terms]
        self.reference = [(label, np.asarray(vector, dtype=float)) for label, vector in reference]
        self.note = note

    @property
    def total(self) -> np.ndarray:
        """The sum of the terms (equal to ``step`` to round-off)."""
        return np.sum([vector for _, vector in self.terms], axis=0)

    def __repr__(self):
        parts = ", ".join(f"{label}={np.round(v, 4).tolist()}" for label, v in self.terms)
        return f"<StepTerms k={self.k}: {parts}; step={np.round(self.step, 4).tolist()}>"


def _check_step(traj: Trajectory, step) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be a whole number k (1 … {traj.n_steps}), got {step!r}")
    if not 1 <= step <= traj.n_steps:
        if traj.n_steps == 0:
            raise ValueError("the run took no steps, so there is no step to take apart")
        raise ValueError(f"step must be in 1 … {traj.n_steps} (the run took {traj.n_steps} "
                         f"steps{', then ' + _diverged_note(traj) if traj.diverged else ''}), got {step}")
    return int(step)


def step_terms(traj: Trajectory, step: int) -> StepTerms:
    r"""Take step k of a run apart into the terms of its update rule (see :class:`StepTerms`).

    Reconstructed from ``traj.states`` (state after k steps) and ``traj.used_grads``:

    * SGD: −ηg;
    * Momentum: αv_{k−1} (the velocity kept) + −ηg (the gradient term);
    * Nesterov: α²v_{k−1} + −(1+α)ηg (θ ← θ + αv − ηg with the new v = αv_{k−1} − ηg);
    * AdaGrad, RMSprop, Adadelta, Adam: the rescaled step (e.g. −ηg/(√h + ε)), compared with
      the plain gradient step −ηg (a reference, not a term);
    * AdamW: −ηλθ_{k−1} (weight decay) + the Adam step.

    Any other optimizer (e.g. a variant) gets the step as a single term, with a note.
    """
    traj = _check_traj(traj, "step_terms")
    k = _check_step(traj, step)
    opt, kind = traj.optimizer, type(traj.optimizer)
    start, step_vector = traj.points[k - 1], traj.points[k] - traj.points[k - 1]
    g = traj.used_grads[k - 1]
    lr = float(opt.lr)
    plain = [(r"plain gradient step $-\eta g$", -lr * g)]
    terms, reference = None, []
    if kind is SGD:
        terms = [(r"gradient term $-\eta g$", -lr * g)]
    elif kind is Momentum:
        a, v_prev = float(opt.momentum), traj.states["v"][k - 1]
        terms = [(r"velocity kept $\alpha v_{k-1}$", a * v_prev),
                 (r"gradient term $-\eta g$", -lr * g)]
    elif kind is Nesterov:
        a, v_prev = float(opt.momentum), traj.states["v"][k - 1]
        terms = [(r"velocity kept $\alpha^2 v_{k-1}$", a * a * v_prev),
                 (r"gradient term $-(1+\alpha)\eta g$", -(1 + a) * lr * g)]
    elif kind in (OPTIMIZERS.get("AdaGrad"), OPTIMIZERS.get("RMSprop")):
        rate = opt.effective_lr(_state_at(traj, k))
        terms = [(r"rescaled step $-\eta g/(\sqrt{h}+\epsilon)$", -rate * g)]
        reference = plain
    elif kind is Adadelta:
        state = {"u": traj.states["u"][k - 1], "v": traj.states["v"][k], "step": k}
        rate = opt.effective_lr(state)
        terms = [(r"rescaled step $-\eta\sqrt{u+\epsilon}\,g/\sqrt{v+\epsilon}$", -rate * g)]
        reference = plain
    elif kind in (Adam, AdamW):
        state = _state_at(traj, k)
        m_hat, _ = opt.moments_hat(state)
        terms = [(r"rescaled step $-\eta\hat m/(\sqrt{\hat v}+\epsilon)$",
                  -opt.effective_lr(state) * m_hat)]
        if kind is AdamW:
            terms.insert(0, (r"weight decay $-\eta\lambda\theta_{k-1}$",
                             -lr * float(opt.weight_decay) * start))
        reference = plain
    note = ""
    if terms is not None:
        total = np.sum([v for _, v in terms], axis=0)
        scale = max(np.max(np.abs(step_vector)), np.max(np.abs(start)), 1e-300)
        if not np.allclose(total, step_vector, rtol=1e-9, atol=1e-12 * scale):
            terms = None                     # a subclass with another rule: do not guess
    if terms is None:
        terms, reference = [("step", step_vector)], plain
        note = f"{kind.__name__}: no decomposition known, the step is shown whole"
    return StepTerms(k, start, step_vector, terms, reference, note)


_TERM_COLORS = (OKABE_ITO["sky_blue"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"])


def plot_step_anatomy(traj: Trajectory, step: int, ax=None, *, zoom: bool = True):
    """Draw step k taken apart: at θ_{k−1}, the arrows of the update's terms and the step.

    The terms (:func:`step_terms`) are drawn tip to tail from θ_{k−1}, so for SGD, Momentum,
    Nesterov and AdamW they visibly add up to the step θ_k − θ_{k−1} (black); for adaptive
    methods the plain gradient step −ηg is drawn dashed beside the rescaled step. ``zoom``
    frames the step (the contours are drawn for that window); otherwise the surface's view.
    Returns ``{"terms": [Quiver…], "reference": [Quiver…], "step": Quiver}``; each Quiver's
    X, Y is its tail and U, V its vector, in data units.
    """
    traj = _check_traj(traj, "plot_step_anatomy")
    parts = step_terms(traj, step)
    k = parts.k
    ax = _new_axes(ax)
    tails, vectors = [], []
    tail = parts.start.copy()
    for _, vector in parts.terms:
        tails.append(tail.copy())
        vectors.append(vector)
        tail = tail + vector
    corners = [parts.start, parts.start + parts.step, *tails, *(t + v for t, v in zip(tails, vectors)),
               *(parts.start + v for _, v in parts.reference)]
    corners = np.array(corners)
    if zoom:
        center = (corners.min(axis=0) + corners.max(axis=0)) / 2
        half = max(np.max(corners.max(axis=0) - corners.min(axis=0)) * 0.75, 1e-9 * (1 + np.abs(center).max()))
        xlim, ylim = (center[0] - 1.6 * half, center[0] + 1.6 * half), (center[1] - half, center[1] + half)
        plot_contour(traj.surface, ax, xlim=xlim, ylim=ylim, levels=25)
    else:
        plot_contour(traj.surface, ax)
    path = plot_trajectory(traj, ax, contour=False, legend=False, color="0.55", label="path")
    path.set_linewidth(_lw(0.5))
    kw = dict(angles="xy", scale_units="xy", scale=1.0, width=0.008, zorder=6)
    handles, labels = [], []
    drawn = {"terms": [], "reference": [], "step": None}
    single = len(parts.terms) == 1             # the term is the step: one arrow, not two
    for (label, vector), t, color in zip(parts.terms, tails, _TERM_COLORS * 3):
        if single:
            label = label + r" $= \theta_k - \theta_{k-1}$"
        drawn["terms"].append(ax.quiver(t[0], t[1], vector[0], vector[1], color=color,
                                        gid="term", **kw))
        handles.append(_arrow_handle(color))
        labels.append(label)
    for label, vector in parts.reference:
        drawn["reference"].append(ax.quiver(parts.start[0], parts.start[1], vector[0], vector[1],
                                            color=OKABE_ITO["orange"], linestyle="--",
                                            facecolor="none", edgecolor=OKABE_ITO["orange"],
                                            linewidth=_lw(0.6), gid="reference", **kw))
        handles.append(_arrow_handle(OKABE_ITO["orange"], "--"))
        labels.append(label + " (for comparison)")
    if single:
        drawn["step"] = drawn["terms"][0]
    else:
        drawn["step"] = ax.quiver(parts.start[0], parts.start[1], parts.step[0], parts.step[1],
                                  color="black", gid="step", **{**kw, "width": 0.005, "zorder": 7})
        handles.append(_arrow_handle("black"))
        labels.append(r"the step $\theta_k - \theta_{k-1}$")
    for point, text, offset in ((parts.start, r"$\theta_{k-1}$", (-8, 6)),
                                (parts.start + parts.step, r"$\theta_k$", (6, 6))):
        ax.annotate(text, point, xytext=offset, textcoords="offset points",
                    ha="right" if offset[0] < 0 else "left", fontsize="large", zorder=8)
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=1,
              frameon=False)
    title = f"{traj.label}\nstep k = {k}"
    if parts.note:
        title += f" ({parts.note})"
    ax.set_title(title)
    return drawn


# --- stability maps --------------------------------------------------------------------------
_QUANTITIES = ("final_loss", "steps_to_tol")
_NOT_CONVERGED_COLOR = "#D9D9D9"


def _axis_label(hp) -> str:
    return f"{hp.symbol} ({hp.name})"


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around grid values (midpoints; geometric midpoints on a log axis)."""
    v = np.log(values) if log else np.asarray(values, dtype=float)
    if len(v) == 1:
        half = 0.1 if log else max(abs(v[0]) * 0.1, 0.5)
        e = np.array([v[0] - half, v[0] + half])
    else:
        mid = (v[1:] + v[:-1]) / 2
        e = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return np.exp(e) if log else e


def _quantity(result: SweepResult, quantity: str):
    """(values with NaN where nothing to show, colour label, log colour scale?)."""
    if quantity == "final_loss":
        with np.errstate(invalid="ignore"):
            values = np.where(result.diverged, np.nan, result.final_loss - result.surface.min_value)
        label = f"$f - f_{{\\min}}$ after {result.steps} steps"
        return values.astype(float), label, True
    values = np.where(result.steps_to_tol >= 0, result.steps_to_tol, np.nan).astype(float)
    return values, f"steps to reach $f - f_{{\\min}} \\leq$ {result.tol:g}", False


def _hyper(result: SweepResult, name: str):
    return {hp.name: hp for hp in optimizer_class(result.optimizer).hyperparameters}[name]


def _theory_lines(result: SweepResult, names: list[str]):
    """[(label, {name: values}), …] of the theoretical stability boundary in hyperparameter
    space, and the optimal point (or None), where the theory is exact."""
    from . import theory
    surface = result.surface
    if not isinstance(surface, Quadratic):
        return [], None
    lines, best = [], None
    cls = optimizer_class(result.optimizer)
    if cls is SGD and names == ["lr"]:
        lines.append((r"theory: $\eta = 2/\lambda_{\max}$", {"lr": np.full(2, theory.gd_lr_limit(surface))}))
    elif cls is Momentum:
        if set(names) == {"lr", "momentum"}:
            alphas = result.axes["momentum"]
            alpha = np.linspace(alphas.min(), min(alphas.max(), 1.0), 200)
            lines.append((r"theory: $\eta = 2(1+\alpha)/\lambda_{\max}$",
                          {"lr": theory.momentum_lr_limit(alpha, surface), "momentum": alpha}))
            lr, momentum = theory.momentum_optimal(surface)
            best = (r"fastest $(\eta^*, \alpha^*)$", {"lr": lr, "momentum": momentum})
        elif names == ["lr"]:
            alpha = result.fixed.get("momentum", _hyper(result, "momentum").default)
            lines.append((r"theory: $\eta = 2(1+\alpha)/\lambda_{\max}$",
                          {"lr": np.full(2, float(theory.momentum_lr_limit(alpha, surface)))}))
    elif cls is Nesterov:
        label = r"theory: $\eta = 2(1+\alpha)/((1+2\alpha)\lambda_{\max})$"
        if set(names) == {"lr", "momentum"}:
            alphas = result.axes["momentum"]
            alpha = np.linspace(alphas.min(), min(alphas.max(), 1.0), 200)
            lines.append((label, {"lr": theory.nesterov_lr_limit(alpha, surface), "momentum": alpha}))
        elif names == ["lr"]:
            alpha = result.fixed.get("momentum", _hyper(result, "momentum").default)
            lines.append((label, {"lr": np.full(2, float(theory.nesterov_lr_limit(alpha, surface)))}))
    return lines, best


def plot_stability_map(result: SweepResult, ax=None, *, quantity: str = "final_loss",
                       theory: bool = True, current=None, x: str | None = None,
                       colorbar: bool = True, legend: bool = True):
    """Where a sweep converged, how fast, and where it diverged, over its hyperparameters.

    ``result`` comes from :func:`gdviz.sweep`. With two swept hyperparameters: a heatmap
    (the first one on x unless ``x`` names the other), log axes for log-scaled ones (η),
    colour = ``quantity``: ``"final_loss"`` (f − f_min after the last step, log colour scale)
    or ``"steps_to_tol"``. Diverged cells are masked out of the colour scale and painted
    vermillion ("diverged" in the legend); with ``"steps_to_tol"``, cells that never reached
    the tolerance are grey. With one swept hyperparameter: the quantity as a line against it,
    diverged settings marked × along the top.

    ``theory`` overlays the exact boundary on a quadratic surface: for SGD over η the line
    η = 2/λ_max, for Momentum over (η, α) the curve η = 2(1 + α)/λ_max with the fastest
    (η*, α*) as a star (over η alone, the line at the fixed α). There is no such line for
    other optimizers. ``current`` — (x, y), or x for one hyperparameter — is drawn as a point
    (a dotted line in 1-D). Returns the ``QuadMesh`` (2-D; its array is the grid transposed to
    rows = y, columns = x) or the ``Line2D`` (1-D).
    """
    if not isinstance(result, SweepResult):
        raise TypeError(f"plot_stability_map needs a SweepResult (from gdviz.sweep), got {type(result).__name__}")
    if quantity not in _QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(map(repr, _QUANTITIES))}, got {quantity!r}")
    names = list(result.axes)
    if len(names) not in (1, 2):
        raise ValueError(f"plot_stability_map draws a sweep over one or two hyperparameters; "
                         f"this one swept {len(names)} ({', '.join(names) or 'none'}): give the "
                         f"others as single numbers")
    if x is not None:
        if x not in names:
            raise ValueError(f"x must be one of the swept hyperparameters ({', '.join(names)}), got {x!r}")
        names = [x] + [n for n in names if n != x]
    values, qlabel, log_color = _quantity(result, quantity)
    order = [list(result.axes).index(n) for n in names]
    values = np.transpose(values, order)            # axes now in (x[, y]) order
    diverged = np.transpose(result.diverged, order)
    hps = [_hyper(result, n) for n in names]
    lines, best = _theory_lines(result, names) if theory else ([], None)
    if len(names) == 1:
        return _stability_line(result, ax, names[0], hps[0], values, diverged, qlabel, log_color,
                               lines, current, legend)

    ax = _new_axes(ax, figsize=_figsize(0.72))
    xs, ys = result.axes[names[0]], result.axes[names[1]]
    grid = values.T                                  # rows = y, columns = x
    shown = np.ma.masked_invalid(grid)
    if log_color:
        positive = grid[np.isfinite(grid) & (grid > 0)]
        vmax = float(positive.max()) if positive.size else 1.0
        vmin = max(float(positive.min()), vmax * 1e-16) if positive.size else vmax * 1e-3
        shown = np.ma.masked_invalid(np.where(~(grid <= 0), grid, vmin))   # NaN stays NaN
        norm = mcolors.LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))
    else:
        norm = mcolors.Normalize(vmin=0, vmax=max(result.steps, 1))
    xe, ye = _edges(xs, hps[0].log), _edges(ys, hps[1].log)
    mesh = ax.pcolormesh(xe, ye, shown, norm=norm, cmap="viridis", shading="flat", gid="quantity")
    handles = []
    div = diverged.T
    if div.any():
        ax.pcolormesh(xe, ye, np.ma.masked_where(~div, np.ones_like(grid)),
                      cmap=mcolors.ListedColormap([_DIVERGED_COLOR]), shading="flat", gid="diverged")
        handles.append(Patch(facecolor=_DIVERGED_COLOR, label="diverged"))
    never = ~div & ~np.isfinite(grid)
    if never.any():
        ax.pcolormesh(xe, ye, np.ma.masked_where(~never, np.ones_like(grid)),
                      cmap=mcolors.ListedColormap([_NOT_CONVERGED_COLOR]), shading="flat",
                      gid="not_converged")
        handles.append(Patch(facecolor=_NOT_CONVERGED_COLOR,
                             label=f"not within {result.tol:g} after {result.steps} steps"))
    if hps[0].log:
        ax.set_xscale("log")
    if hps[1].log:
        ax.set_yscale("log")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    for label, curve in lines:
        (line,) = ax.plot(curve[names[0]], curve[names[1]], color="white", linewidth=_lw(1.0),
                          linestyle="--", label=label, gid="theory")
        line.set_path_effects([patheffects.Stroke(linewidth=_lw(1.8), foreground="black"),
                               patheffects.Normal()])
        handles.append(line)
    if best is not None:
        label, point = best
        handles.append(ax.plot([point[names[0]]], [point[names[1]]], linestyle="none",
                               marker="*", markersize=_ms(3.0), markerfacecolor="white",
                               markeredgecolor="black", label=label, gid="optimal")[0])
    if current is not None:
        cx, cy = _current_point(current, 2)
        handles.append(ax.plot([cx], [cy], linestyle="none", marker="o", markersize=_ms(2.0),
                               markerfacecolor=OKABE_ITO["orange"], markeredgecolor="black",
                               markeredgewidth=_lw(0.5), label="current", gid="current",
                               zorder=5)[0])
    ax.set_xlabel(_axis_label(hps[0]))
    ax.set_ylabel(_axis_label(hps[1]))
    ax.set_title(_map_title(result))
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=qlabel)
    if legend and handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                  ncols=min(len(handles), 2), frameon=False)
    return mesh


def _current_point(current, n: int):
    try:
        point = np.asarray(current, dtype=float).ravel()
    except (TypeError, ValueError):
        point = np.array([])
    if point.size != n or not np.all(np.isfinite(point)):
        shape = "(x, y)" if n == 2 else "a number x"
        raise ValueError(f"current must be {shape} in the map's axes, got {current!r}")
    return tuple(point)


def _map_title(result: SweepResult) -> str:
    fixed = ", ".join(f"{_hyper(result, k).symbol}={v:g}" for k, v in result.fixed.items())
    title = f"{result.optimizer} on {result.surface.title or result.surface.name}, {result.steps} steps"
    return f"{title}\n{fixed}" if fixed else title


def _stability_line(result, ax, name, hp, values, diverged, qlabel, log_color, lines, current,
                    legend):
    ax = _new_axes(ax, figsize=_figsize(0.55))
    xs = result.axes[name]
    (line,) = ax.plot(xs, values, color=optimizer_color(result.optimizer), marker="o",
                      markersize=_ms(0.7), label=qlabel, gid="quantity")
    transform = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    if diverged.any():
        ax.plot(xs[diverged], np.full(int(diverged.sum()), 0.97), transform=transform,
                linestyle="none", marker="x", color=_DIVERGED_COLOR, markersize=_ms(1.2),
                label="diverged", gid="diverged", clip_on=False)
    never = ~diverged & ~np.isfinite(values)
    if never.any():
        ax.plot(xs[never], np.full(int(never.sum()), 0.03), transform=transform,
                linestyle="none", marker="o", markerfacecolor="none", color="0.5",
                markersize=_ms(0.9), label=f"not within {result.tol:g} after {result.steps} steps",
                gid="not_converged", clip_on=False)
    if hp.log:
        ax.set_xscale("log")
    if log_color and np.any(values > 0):
        ax.set_yscale("log", nonpositive="mask")
    for label, curve in lines:
        ax.axvline(curve[name][0], color="black", linestyle="--", linewidth=_lw(0.7),
                   label=label, gid="theory")
    if current is not None:
        (cx,) = _current_point(current, 1)
        ax.axvline(cx, color=OKABE_ITO["orange"], linestyle=":", linewidth=_lw(0.9),
                   label="current", gid="current")
    ax.set_xlabel(_axis_label(hp))
    ax.set_ylabel(qlabel)
    ax.set_title(_map_title(result))
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)
    return line
