"""Every optimizer on every surface, each at its best learning rate: the comparison table.

``compare()`` sweeps each optimizer's learning rate over its own slider range (one vectorized
:func:`gdviz.sweep` per optimizer and surface), keeps the best result, and counts how many
learning rates were good enough: a method that wins at one lucky η is less useful than one
that works across a range. Displays as a markdown table. Taught in
``notebooks/06_comparison.ipynb``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .optimizers import OPTIMIZERS, optimizer_class
from .surfaces import get_surface
from .trajectory import sweep

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    """Best f − f_min per (optimizer, surface), the η that gave it, and how many η were good.

    ``gap[name, surface]`` is the lowest f(θ_steps) − f_min over the learning rates tried
    (inf if every one diverged); ``best_lr`` the η that reached it; ``n_good`` how many of the
    ``len(learning_rates[name])`` values got below ``good``. Gaps below ``floor`` count as
    "at the minimum, to round-off" and tie.
    """

    optimizers: tuple[str, ...]
    surfaces: tuple[str, ...]
    steps: int
    good: float
    floor: float
    learning_rates: dict[str, np.ndarray] = field(repr=False)
    gap: dict[tuple[str, str], float] = field(repr=False)
    best_lr: dict[tuple[str, str], float] = field(repr=False)
    n_good: dict[tuple[str, str], int] = field(repr=False)

    def winners(self, surface: str) -> list[str]:
        """The optimizers with the lowest gap on ``surface`` (ties below ``floor`` all win)."""
        lowest = max(self.floor, min(self.gap[name, surface] for name in self.optimizers))
        return [name for name in self.optimizers if self.gap[name, surface] <= lowest]

    def to_markdown(self) -> str:
        def cell(name, surface):
            gap, lr = self.gap[name, surface], self.best_lr[name, surface]
            if not np.isfinite(gap):
                return "diverged at every η"
            value = f"< {self.floor:.0e}" if gap < self.floor else f"{gap:.0e}"
            text = f"{value} (η={lr:.3g}) · {self.n_good[name, surface]}/{len(self.learning_rates[name])}"
            return f"**{text}**" if name in self.winners(surface) else text

        titles = [get_surface(s).title for s in self.surfaces]
        lines = ["| optimizer | " + " | ".join(titles) + " |",
                 "|---" * (len(self.surfaces) + 1) + "|"]
        lines += [f"| {name} | " + " | ".join(cell(name, s) for s in self.surfaces) + " |"
                  for name in self.optimizers]
        lines.append(f"\nEach cell: the lowest f − f_min after {self.steps} steps, the η that gave it, "
                     f"and how many of the η tried got below {self.good:g}. Bold: best on that surface.")
        return "\n".join(lines)

    _repr_markdown_ = to_markdown


def compare(optimizers=None, surfaces=("elongated_bowl", "rotated_bowl", "rosenbrock", "saddle",
                                       "himmelblau", "plateau"),
            *, steps: int = 100, n_lr: int = 25, good: float = 1e-3, floor: float = 1e-12) -> Comparison:
    """Run every optimizer (default: all registered) on every surface at ``n_lr`` learning rates.

    The learning rates are log-spaced over each optimizer's own η slider range; everything
    else stays at the optimizer's defaults and each surface's default start.
    """
    names = tuple(optimizer_class(n).__name__ for n in (optimizers or OPTIMIZERS))
    surfaces = tuple(get_surface(s).name for s in surfaces)
    if isinstance(n_lr, bool) or not isinstance(n_lr, int) or n_lr < 1:
        raise ValueError(f"n_lr (how many learning rates to try) must be a whole number >= 1, got {n_lr!r}")
    learning_rates, gap, best_lr, n_good = {}, {}, {}, {}
    for name in names:
        lr = next(hp for hp in OPTIMIZERS[name].hyperparameters if hp.name == "lr")
        learning_rates[name] = np.geomspace(*lr.slider, n_lr)
        for surface in surfaces:
            result = sweep(name, surface, steps=steps, lr=learning_rates[name])
            gaps = result.final_loss - result.surface.min_value
            best = int(np.argmin(gaps))
            gap[name, surface] = float(gaps[best])
            best_lr[name, surface] = float(learning_rates[name][best])
            n_good[name, surface] = int(np.sum(gaps < good))
    return Comparison(names, surfaces, steps, good, floor, learning_rates, gap, best_lr, n_good)
