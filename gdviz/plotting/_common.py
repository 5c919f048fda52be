"""Small helpers the figure modules share: new axes sized by the style, line widths and
marker sizes relative to it, input checks, titles and legend handles."""
from __future__ import annotations

from collections.abc import Iterable

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ..surfaces import Surface
from ..trajectory import Trajectory


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


def _as_trajectories(trajectories, name: str = "trajectories", *,
                     one_surface: bool = False) -> list[Trajectory]:
    """``trajectories`` (one Trajectory or an iterable of them) as a list, checked; ``name`` is
    the argument the messages name. ``one_surface``: the runs must share one surface."""
    if isinstance(trajectories, Trajectory):
        return [trajectories]
    if isinstance(trajectories, (str, bytes)) or not isinstance(trajectories, Iterable):
        raise TypeError(f"{name} must be a Trajectory (from gdviz.run) or a list of them, "
                        f"got {type(trajectories).__name__}")
    items = list(trajectories)
    if not items:
        raise ValueError(f"{name} is empty (no trajectories given): pass a Trajectory or a list "
                         f"of them, e.g. gdviz.run('SGD', lr=0.1)")
    for i, item in enumerate(items):
        if not isinstance(item, Trajectory):
            raise TypeError(f"{name}[{i}] must be a Trajectory (from gdviz.run), got {type(item).__name__}")
    if one_surface:
        for item in items[1:]:
            if not _same_surface(item.surface, items[0].surface):
                raise ValueError(f"{name} must all run on one surface, got {items[0].surface!r} "
                                 f"and {item.surface!r}")
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



def _given_axes(axes, n: int) -> np.ndarray:
    flat = np.array(axes, dtype=object).ravel() if not isinstance(axes, mpl.axes.Axes) \
        else np.array([axes], dtype=object)
    if len(flat) < n:
        raise ValueError(f"need {n} axes (one per panel), got {len(flat)}")
    return flat[:n]



def _check_traj(traj, who: str) -> Trajectory:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"{who} needs a Trajectory (from gdviz.run), got {type(traj).__name__}")
    return traj



def _arrow_handle(color, linestyle="-"):
    """A legend handle that looks like an arrow."""
    return Line2D([], [], color=color, linestyle=linestyle, linewidth=_lw(1.0), marker=">",
                  markersize=_ms(1.2), markevery=[-1])



def _state_at(traj: Trajectory, k) -> dict:
    """The optimizer's state after k steps (k may be an array of steps), as ``effective_lr`` reads it."""
    k = np.asarray(k)
    state = {name: values[k] for name, values in traj.states.items()}
    state["step"] = k[..., None] if k.ndim else k
    return state


def _paint_diverged(ax, x, y, diverged: np.ndarray, label: str = "diverged", *, shading: str = "flat"):
    """Cover the cells where ``diverged`` (rows = y, columns = x) in the divergence style, a
    hatching no optimizer uses; return the legend handle that names it.

    ``x``, ``y`` are the cell edges (``shading="flat"``) or centres (``"nearest"``). The cells
    are a white ``QuadMesh`` (gid ``"diverged"``, masked where not diverged) under one hatched
    compound path (gid ``"diverged_hatch"``): a ``QuadMesh`` draws no hatching.
    """
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path

    from . import artist_ids
    from .styles import DIVERGED_COLOR, DIVERGED_HATCH
    diverged = np.asarray(diverged, dtype=bool)
    ax.pcolormesh(x, y, np.ma.masked_where(~diverged, np.ones(diverged.shape)), shading=shading,
                  cmap=mpl.colors.ListedColormap(["white"]), gid=artist_ids.DIVERGED)
    xe, ye = (_centres_to_edges(x), _centres_to_edges(y)) if shading == "nearest" else (x, y)
    rows, cols = np.nonzero(diverged)
    if len(rows):
        x0, x1, y0, y1 = xe[cols], xe[cols + 1], ye[rows], ye[rows + 1]
        corners = np.stack([np.stack(c, axis=-1) for c in
                            ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))], axis=1)
        codes = np.tile([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], len(rows))
        ax.add_patch(PathPatch(Path(corners.reshape(-1, 2), codes), facecolor="none",
                               edgecolor=DIVERGED_COLOR, linewidth=0, hatch=DIVERGED_HATCH,
                               gid=artist_ids.DIVERGED_HATCH))
    return Patch(facecolor="white", edgecolor=DIVERGED_COLOR, hatch=DIVERGED_HATCH, label=label)


def _centres_to_edges(centres) -> np.ndarray:
    """Cell edges halfway between centres (as matplotlib's ``shading="nearest"`` draws them)."""
    c = np.asarray(centres, dtype=float)
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def _checked_text(text, argument: str) -> str:
    """``text`` for a title or label, after checking any ``$...$`` in it is mathtext that
    matplotlib can draw: otherwise a ``ValueError`` that names ``argument`` and the problem,
    now, instead of a parser traceback when the figure is drawn."""
    text = str(text)
    if mpl.rcParams["text.usetex"] or text.replace(r"\$", "").count("$") < 2:
        return text
    from matplotlib.mathtext import MathTextParser
    try:
        MathTextParser("path").parse(text, 72)
    except ValueError as exc:
        problem = str(exc).strip().splitlines()[-1]
        raise ValueError(f"{argument} {text!r} is not mathtext matplotlib can draw ({problem}); "
                         f"fix the part between $...$, or write a literal dollar sign as \\$") from None
    return text
