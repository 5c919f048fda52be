"""Stability maps: where a sweep over hyperparameters converged, how fast, and where it diverged."""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.patches import Patch

from ..optimizers import optimizer_class
from ..surfaces import Quadratic
from ..trajectory import SweepResult
from . import artist_ids
from ._common import _figsize, _lw, _ms, _new_axes, _paint_diverged
from .styles import DIVERGED_MARKER, OKABE_ITO, optimizer_color

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
    space, and the optimal point (or None), where the optimizer's class knows them exactly
    (its ``lr_limit`` and ``fastest``) and the surface is a quadratic."""
    surface, cls = result.surface, optimizer_class(result.optimizer)
    if not isinstance(surface, Quadratic) or "lr" not in names:
        return [], None
    fixed = {hp.name: result.fixed.get(hp.name, hp.default) for hp in cls.hyperparameters
             if hp.name not in names}
    label = f"theory: ${cls.lr_limit_formula}$"
    if names == ["lr"]:
        limit = cls.lr_limit(surface, **fixed)
        return ([] if limit is None else [(label, {"lr": np.full(2, float(limit))})]), None
    (other,) = [n for n in names if n != "lr"]
    hp = _hyper(result, other)
    values = result.axes[other]
    upper = min(values.max(), hp.high)                 # the curve up to the valid range's end
    curve = np.geomspace(values.min(), upper, 200) if hp.log else np.linspace(values.min(), upper, 200)
    limit = cls.lr_limit(surface, **fixed, **{other: curve})
    lines = [] if limit is None else [(label, {"lr": np.broadcast_to(limit, curve.shape), other: curve})]
    best = cls.fastest(surface)
    if best is not None and set(names) <= set(best):
        best = (r"fastest $(\eta^*, " + hp.latex + "^*)$", {n: best[n] for n in names})
    else:
        best = None
    return lines, best


def plot_stability_map(result: SweepResult, ax=None, *, quantity: str = "final_loss",
                       theory: bool = True, current=None, x: str | None = None,
                       colorbar: bool = True, legend: bool = True, norm=None):
    """Where a sweep converged, how fast, and where it diverged, over its hyperparameters.

    ``result`` comes from :func:`gdviz.sweep`. With two swept hyperparameters: a heatmap
    (the first one on x unless ``x`` names the other), log axes for log-scaled ones (η),
    colour = ``quantity``: ``"final_loss"`` (f − f_min after the last step, log colour scale)
    or ``"steps_to_tol"``. Diverged cells are masked out of the colour scale and drawn in the
    divergence style (:data:`~gdviz.plotting.DIVERGED_COLOR` hatching on white, "diverged" in
    the legend); with ``"steps_to_tol"``, cells that never reached the tolerance are grey. With
    one swept hyperparameter: the quantity as a line against it, diverged settings marked ✕
    along the top.

    ``theory`` overlays the exact boundary on a quadratic surface wherever the optimizer's
    class declares one (its ``lr_limit`` and ``lr_limit_formula``): over η a line at the limit
    for the fixed other hyperparameters, over η and another one the limit as a curve, and the
    class's ``fastest`` setting as a star where it has one. Today SGD (η = 2/λ_max), Momentum
    (η = 2(1 + α)/λ_max, fastest (η*, α*)) and Nesterov (η = 2(1 + α)/((1 + 2α)λ_max)) declare
    a limit; the adaptive methods have none. ``current`` — (x, y), or x for one
    hyperparameter — is drawn as a point (a dotted line in 1-D). ``norm`` (a matplotlib
    ``Normalize``, e.g. from :func:`shared_norm`) fixes the colour scale, so that maps drawn
    side by side share one; a 1-D map then uses its range as the y-limits. Returns the
    ``QuadMesh`` (2-D; its array is the grid transposed to
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
                               lines, current, legend, norm)

    ax = _new_axes(ax, figsize=_figsize(0.72))
    xs, ys = result.axes[names[0]], result.axes[names[1]]
    grid = values.T                                  # rows = y, columns = x
    shown = np.ma.masked_invalid(grid)
    if norm is None:
        norm = _log_norm([grid]) if log_color else mcolors.Normalize(vmin=0, vmax=max(result.steps, 1))
    if log_color:                                    # 0 (the minimum, to round-off) at the bottom
        shown = np.ma.masked_invalid(np.where(~(grid <= 0), grid, norm.vmin))   # NaN stays NaN
    xe, ye = _edges(xs, hps[0].log), _edges(ys, hps[1].log)
    mesh = ax.pcolormesh(xe, ye, shown, norm=norm, cmap="viridis", shading="flat", gid=artist_ids.QUANTITY)
    handles = []
    div = diverged.T
    if div.any():
        handles.append(_paint_diverged(ax, xe, ye, div, shading="flat"))
    never = ~div & ~np.isfinite(grid)
    if never.any():
        ax.pcolormesh(xe, ye, np.ma.masked_where(~never, np.ones_like(grid)),
                      cmap=mcolors.ListedColormap([_NOT_CONVERGED_COLOR]), shading="flat",
                      gid=artist_ids.NOT_CONVERGED)
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
                          linestyle="--", label=label, gid=artist_ids.THEORY)
        line.set_path_effects([patheffects.Stroke(linewidth=_lw(1.8), foreground="black"),
                               patheffects.Normal()])
        handles.append(line)
    if best is not None:
        label, point = best
        handles.append(ax.plot([point[names[0]]], [point[names[1]]], linestyle="none",
                               marker="*", markersize=_ms(3.0), markerfacecolor="white",
                               markeredgecolor="black", label=label, gid=artist_ids.OPTIMAL)[0])
    if current is not None:
        cx, cy = _current_point(current, 2)
        handles.append(ax.plot([cx], [cy], linestyle="none", marker="o", markersize=_ms(2.0),
                               markerfacecolor=OKABE_ITO["orange"], markeredgecolor="black",
                               markeredgewidth=_lw(0.5), label="current", gid=artist_ids.SETTING,
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


def _log_norm(grids) -> mcolors.LogNorm:
    """A log colour scale over the finite positive values of all ``grids`` (≤ 16 decades)."""
    positive = np.concatenate([np.asarray(g, dtype=float)[np.isfinite(g) & (np.asarray(g) > 0)]
                               for g in grids])
    vmax = float(positive.max()) if positive.size else 1.0
    vmin = max(float(positive.min()), vmax * 1e-16) if positive.size else vmax * 1e-3
    return mcolors.LogNorm(vmin=vmin, vmax=max(vmax, vmin * 10))


def shared_norm(results, quantity: str = "final_loss") -> mcolors.Normalize:
    """One colour scale for several stability maps drawn side by side.

    Pass it as ``norm=`` to each :func:`plot_stability_map` (and draw one colorbar), so that
    the same colour means the same value in every panel.
    """
    results = list(results)
    if not results or not all(isinstance(r, SweepResult) for r in results):
        raise TypeError("shared_norm needs a non-empty list of SweepResults (from gdviz.sweep)")
    if quantity not in _QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(map(repr, _QUANTITIES))}, got {quantity!r}")
    if quantity == "final_loss":
        return _log_norm([_quantity(r, quantity)[0] for r in results])
    return mcolors.Normalize(vmin=0, vmax=max(max(r.steps for r in results), 1))


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
                    legend, norm=None):
    ax = _new_axes(ax, figsize=_figsize(0.55))
    xs = result.axes[name]
    (line,) = ax.plot(xs, values, color=optimizer_color(result.optimizer), marker="o",
                      markersize=_ms(0.7), label=qlabel, gid=artist_ids.QUANTITY)
    transform = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
    if diverged.any():
        ax.plot(xs[diverged], np.full(int(diverged.sum()), 0.97), transform=transform,
                **DIVERGED_MARKER, markersize=_ms(1.4),
                label="diverged", gid=artist_ids.DIVERGED, clip_on=False)
    never = ~diverged & ~np.isfinite(values)
    if never.any():
        ax.plot(xs[never], np.full(int(never.sum()), 0.03), transform=transform,
                linestyle="none", marker="o", markerfacecolor="none", color="0.5",
                markersize=_ms(0.9), label=f"not within {result.tol:g} after {result.steps} steps",
                gid=artist_ids.NOT_CONVERGED, clip_on=False)
    if hp.log:
        ax.set_xscale("log")
    if log_color and np.any(values > 0):
        ax.set_yscale("log", nonpositive="mask")
    if norm is not None:
        ax.set_ylim(norm.vmin, norm.vmax)
    for label, curve in lines:
        ax.axvline(curve[name][0], color="black", linestyle="--", linewidth=_lw(0.7),
                   label=label, gid=artist_ids.THEORY)
    if current is not None:
        (cx,) = _current_point(current, 1)
        ax.axvline(cx, color=OKABE_ITO["orange"], linestyle=":", linewidth=_lw(0.9),
                   label="current", gid=artist_ids.SETTING)
    ax.set_xlabel(_axis_label(hp))
    ax.set_ylabel(qlabel)
    ax.set_title(_map_title(result))
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)
    return line
