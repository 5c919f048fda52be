"""Every optimizer on every surface, each at its best settings: the comparison table.

``compare()`` tunes each optimizer on each surface: its learning rate η on a log grid and, if
it has one, its momentum parameter (α for Momentum and Nesterov, β₁ for Adam and its
relatives) on a grid that crowds towards 1, all in one vectorized :func:`gdviz.sweep`. Whenever
the best setting lies on the edge of a grid, the grid grows past that edge (η by one decade at
a time, the momentum parameter closer to 1) and the sweep runs again, so that the best value is
a true optimum of the search and not an artefact of where it stopped. The only edges left are
bounds of the valid range (α = 0, no momentum, cannot be undercut).

"Best" means the lowest f − f_min after ``steps`` steps; gaps below ``floor`` count as "at the
minimum, to round-off" and tie, and a tie goes to the setting that got below ``floor`` in the
fewest steps. Taught in ``notebooks/06_comparison.ipynb``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .optimizers import OPTIMIZERS, optimizer_class
from .surfaces import get_surface
from .trajectory import sweep

__all__ = ["Comparison", "compare", "COMPARED_SURFACES", "MOMENTUM_PARAMETERS", "momentum_grid"]

#: The surfaces :func:`compare` uses by default (notebook 06's table), each testing one thing.
COMPARED_SURFACES = ("elongated_bowl", "rotated_bowl", "rosenbrock", "saddle", "himmelblau", "plateau")

#: The hyperparameters tuned beside η, when an optimizer has one: each sets how much of the
#: past gradient (the velocity, the first moment) a step keeps.
MOMENTUM_PARAMETERS = ("momentum", "beta1")

_GROW_LIMIT = 8          # how many times a grid may grow past an edge before the search gives up


def momentum_grid(closest_to_one: float = 1e-3, per_decade: int = 6) -> np.ndarray:
    """0, then 1 − 10^(−k/per_decade) for k = 1, 2, … down to 1 − ``closest_to_one``.

    Momentum-like parameters matter on the scale of 1/(1 − β) (the memory in steps), so the
    grid is even in log(1 − β): 0, 0.54, 0.78, 0.9, 0.95, 0.98, 0.99, … .
    """
    k = np.arange(1, int(round(-np.log10(closest_to_one) * per_decade)) + 1)
    return np.concatenate([[0.0], 1 - 10.0 ** (-k / per_decade)])


@dataclass
class Comparison:
    """The tuned result per (optimizer, surface).

    ``gap[name, surface]``: the lowest f(θ_steps) − f_min found (inf if every setting
    diverged); ``best[name, surface]``: the settings that gave it ({"lr": η, "momentum": α} or
    {"lr": η, "beta1": β₁}, or just {"lr": η}); ``best_lr`` is η alone.
    ``searched[name, surface]``: every value tried, per hyperparameter (1-D arrays);
    ``steps_to_floor[name, surface]``: the first step with f − f_min ≤ ``floor`` at the best
    settings (−1 if never); ``n_good[name, surface]``: at the best momentum value, how many of
    the η tried got below ``good``, out of ``n_lr[name, surface]``. ``bound[surface]``: a run
    with |x| or |y| beyond it counted as failed (as diverged).
    """

    optimizers: tuple[str, ...]
    surfaces: tuple[str, ...]
    steps: int
    good: float
    floor: float
    lr_per_decade: int
    bound: dict[str, float] = field(repr=False)
    gap: dict[tuple[str, str], float] = field(repr=False)
    best: dict[tuple[str, str], dict[str, float]] = field(repr=False)
    searched: dict[tuple[str, str], dict[str, np.ndarray]] = field(repr=False)
    steps_to_floor: dict[tuple[str, str], int] = field(repr=False)
    n_good: dict[tuple[str, str], int] = field(repr=False)
    n_lr: dict[tuple[str, str], int] = field(repr=False)

    @property
    def best_lr(self) -> dict[tuple[str, str], float]:
        return {key: settings["lr"] for key, settings in self.best.items()}

    def n_settings(self, name: str, surface: str) -> int:
        """How many settings were tried for ``name`` on ``surface``."""
        return int(np.prod([len(v) for v in self.searched[name, surface].values()]))

    def on_edge(self) -> list[tuple[str, str, str]]:
        """(optimizer, surface, hyperparameter) wherever a best value is the first or last value
        searched, except on a closed bound of the valid range (α = 0 cannot be undercut).
        Empty when every optimum lies inside its search range."""
        found = []
        for (name, surface), settings in self.best.items():
            hps = {hp.name: hp for hp in OPTIMIZERS[name].hyperparameters}
            for param, value in settings.items():
                values = self.searched[name, surface][param]
                at_bound = value == hps[param].low and hps[param].low_closed
                if value in (values[0], values[-1]) and not at_bound:
                    found.append((name, surface, param))
        return found

    def _score(self, name: str, surface: str) -> tuple[float, float]:
        gap = self.gap[name, surface]
        reached = self.steps_to_floor[name, surface]
        return (max(gap, self.floor), reached if reached >= 0 else np.inf)

    def winners(self, surface: str) -> list[str]:
        """The optimizers with the best score on ``surface``: the lowest gap (all gaps below
        ``floor`` tie) and, among those at the floor, the fewest steps to reach it."""
        best = min(self._score(name, surface) for name in self.optimizers)
        return [name for name in self.optimizers if self._score(name, surface) == best]

    def ranking(self, surface: str) -> list[str]:
        """All optimizers on ``surface``, best first."""
        return sorted(self.optimizers, key=lambda name: self._score(name, surface))

    def to_markdown(self) -> str:
        def cell(name, surface):
            gap = self.gap[name, surface]
            if not np.isfinite(gap):
                return "diverged everywhere"
            settings = self.best[name, surface]
            hps = {hp.name: hp for hp in OPTIMIZERS[name].hyperparameters}
            shown = ", ".join(f"{hps[k].symbol}={v:.3g}" for k, v in settings.items())
            reached = self.steps_to_floor[name, surface]
            value = f"≤ {self.floor:.0e} at step {reached}" if gap <= self.floor else f"{gap:.0e}"
            text = f"{value} ({shown}) · {self.n_good[name, surface]}/{self.n_lr[name, surface]}"
            return f"**{text}**" if name in self.winners(surface) else text

        titles = [get_surface(s).title for s in self.surfaces]
        lines = ["| optimizer | " + " | ".join(titles) + " |",
                 "|---" * (len(self.surfaces) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(cell(name, s) for s in self.surfaces) + " |"
                  for name in self.optimizers]
        lines.append(f"\nEach cell: the lowest f − f_min after {self.steps} steps (below {self.floor:.0e}: "
                     f"the step that got there), the settings that gave it, and how many of the η tried "
                     f"({self.lr_per_decade} per decade) got below {self.good:g} at that α or β₁. "
                     f"Bold: best on that surface.")
        return "\n".join(lines)

    _repr_markdown_ = to_markdown


def _lr_grid(low: float, high: float, per_decade: int) -> np.ndarray:
    """Log-spaced η from ``low`` to ``high`` (both included), ``per_decade`` values per decade."""
    n = max(2, int(round(np.log10(high / low) * per_decade)) + 1)
    return np.geomspace(low, high, n)


def _best_index(gap: np.ndarray, steps_to_floor: np.ndarray, floor: float) -> tuple[int, ...]:
    """The grid index of the lowest gap; at the floor, the fewest steps; then the middle of a tie."""
    score = np.where(np.isfinite(gap), np.maximum(gap, floor), np.inf)
    steps = np.where(steps_to_floor >= 0, steps_to_floor, np.iinfo(np.int64).max)
    lowest = score.min()
    tied = (score == lowest) & (steps == steps[score == lowest].min())
    candidates = np.argwhere(tied)
    return tuple(candidates[len(candidates) // 2])


def _tune(name: str, surface: str, steps: int, per_decade: int, floor: float, bound: float):
    cls = OPTIMIZERS[name]
    hps = {hp.name: hp for hp in cls.hyperparameters}
    lr_hp = hps["lr"]
    low, high = lr_hp.slider
    lrs = _lr_grid(low, high, per_decade)
    extra = [p for p in MOMENTUM_PARAMETERS if p in hps]
    grids = {"lr": lrs}
    for p in extra:
        grids[p] = momentum_grid()
    for _ in range(_GROW_LIMIT + 1):
        result = sweep(name, surface, steps=steps, tol=floor, bound=bound, **grids)
        gap = result.final_loss - result.surface.min_value
        index = _best_index(gap, result.steps_to_tol, floor)
        grown = False
        i = index[0]
        if i == len(grids["lr"]) - 1:
            grids["lr"] = _lr_grid(grids["lr"][0], grids["lr"][-1] * 10, per_decade)
            grown = True
        elif i == 0 and lr_hp.contains(grids["lr"][0] / 10):
            grids["lr"] = _lr_grid(grids["lr"][0] / 10, grids["lr"][-1], per_decade)
            grown = True
        for axis, p in enumerate(extra, start=1):
            values = grids[p]
            if index[axis] == len(values) - 1:   # crowd closer to 1
                grids[p] = momentum_grid(closest_to_one=(1 - values[-1]) / 10)
                grown = True
        if not grown:
            break
    return grids, result, gap, index


def compare(optimizers=None, surfaces=COMPARED_SURFACES,
            *, steps: int = 100, lr_per_decade: int = 6, good: float = 1e-3,
            floor: float = 1e-12, leave_view: float = 2.0) -> Comparison:
    """Tune every optimizer (default: all registered) on every surface, then tabulate.

    η starts on the optimizer's own slider range, ``lr_per_decade`` log-spaced values per
    decade; the momentum parameter (α or β₁, see :data:`MOMENTUM_PARAMETERS`) on
    :func:`momentum_grid`. Both grids grow past any edge the best setting lands on. All other
    hyperparameters stay at the optimizer's defaults, and every run starts at the surface's
    default start. A run that goes further from the origin than ``leave_view`` times the
    surface's plotted window counts as failed: otherwise a huge η can win by a slingshot
    (a first step hundreds of units out, and a lucky fall back onto the minimum).
    """
    names = tuple(optimizer_class(n).__name__ for n in (optimizers or OPTIMIZERS))
    surfaces = tuple(get_surface(s).name for s in surfaces)
    if isinstance(lr_per_decade, bool) or not isinstance(lr_per_decade, numbers.Integral) or lr_per_decade < 1:
        raise ValueError(f"lr_per_decade (how many learning rates to try per decade) must be a whole "
                         f"number >= 1, got {lr_per_decade!r}")
    if isinstance(leave_view, bool) or not isinstance(leave_view, numbers.Real) or not leave_view >= 1:
        raise ValueError(f"leave_view (how many times the plotted window a run may leave before it "
                         f"counts as failed) must be a number >= 1, got {leave_view!r}")
    gap, best, searched, steps_to_floor, n_good, n_lr, bounds = {}, {}, {}, {}, {}, {}, {}
    for surface in surfaces:
        view = get_surface(surface)
        bounds[surface] = float(leave_view * max(map(abs, (*view.xlim, *view.ylim))))
        for name in names:
            key = (name, surface)
            grids, result, gaps, index = _tune(name, surface, steps, lr_per_decade, floor, bounds[surface])
            searched[key] = grids
            gap[key] = float(gaps[index])
            best[key] = {p: float(values[i]) for (p, values), i in zip(grids.items(), index)}
            steps_to_floor[key] = int(result.steps_to_tol[index])
            along_lr = gaps[(slice(None),) + tuple(index[1:])]
            n_good[key] = int(np.sum(along_lr < good))
            n_lr[key] = len(grids["lr"])
    return Comparison(names, surfaces, steps, good, floor, lr_per_decade, bounds, gap, best,
                      searched, steps_to_floor, n_good, n_lr)
