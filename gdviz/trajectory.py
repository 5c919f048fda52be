"""Run an optimizer on a surface, one trajectory at a time or a whole grid of settings at once.

:func:`run` records everything a picture or a test needs: the points, losses, gradients and
the optimizer's state after every step. A diverging run stops cleanly at the first point that
is not finite or leaves the surface's bounding box, and says so ("diverged at step 7").

:func:`sweep` advances every combination of a grid of hyperparameters in one vectorized run
(the optimizers accept hyperparameter arrays), for stability maps; :func:`stacked_runs`
runs a list of learning rates the same way but records each as the :class:`Trajectory` that
:func:`run` gives (the replay of :mod:`gdviz.replay`).

Both take a learning-rate ``schedule`` (:mod:`gdviz.schedules`): step t uses η·factor(t).
"""
from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass, field

import numpy as np

from .optimizers import Optimizer, get_optimizer, optimizer_class
from .schedules import Schedule
from .surfaces import Surface, get_surface

__all__ = ["Trajectory", "run", "stacked_runs", "SweepResult", "sweep"]


@dataclass
class Trajectory:
    """What one run produced. Index k is "after k steps"; index 0 is the start.

    Attributes
    ----------
    points : (n+1, 2) array of θ_0 … θ_n.
    losses : (n+1,) array of f(θ_k).
    grads : (n+1, 2) array of the true gradient at each point.
    used_grads : (n, 2) array of the gradient the optimizer was given at step k+1
        (the true gradient plus noise, when ``noise`` > 0).
    states : state name → (n+1, 2) array: the optimizer's state after k steps (at k = 0: ``init_state``'s).
    learning_rates : (n,) array of the η used at step k+1 (η·factor(k+1) with a ``schedule``;
        ``optimizer.lr`` is the base η).
    schedule : the :class:`~gdviz.schedules.Schedule` the run used, or None.
    diverged_at : the step whose result was not finite or left the bounding box, else None.
    """

    optimizer: Optimizer
    surface: Surface
    points: np.ndarray
    losses: np.ndarray
    grads: np.ndarray
    used_grads: np.ndarray
    states: dict[str, np.ndarray]
    steps: int
    noise: float = 0.0
    seed: int | None = None
    diverged_at: int | None = None
    divergence_reason: str = ""
    learning_rates: np.ndarray = field(default=None, repr=False)
    schedule: Schedule | None = None

    @property
    def name(self) -> str:
        return type(self.optimizer).__name__

    @property
    def n_steps(self) -> int:
        """How many steps were taken (fewer than ``steps`` if the run diverged)."""
        return len(self.points) - 1

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_point(self) -> np.ndarray:
        return self.points[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def label(self) -> str:
        """A legend label such as ``"Momentum (η=0.1, α=0.9)"`` (with σ when gradients are noisy)."""
        parts = []
        for hp in self.optimizer.hyperparameters:
            value = getattr(self.optimizer, hp.name)
            if np.ndim(value) == 0:
                parts.append(f"{hp.symbol}={float(value):.3g}")
        if self.noise:
            parts.append(f"σ={self.noise:.3g}")
        if self.schedule is not None and not self.schedule.is_constant:
            parts.append(self.schedule.label)
        return f"{self.name} ({', '.join(parts)})"

    @property
    def message(self) -> str:
        """A plain-language summary: the final loss, or where and why the run diverged."""
        if self.diverged:
            return (f"{self.name} diverged at step {self.diverged_at} ({self.divergence_reason}); "
                    f"lower the learning rate η")
        return f"{self.name}: loss {self.final_loss:.3g} after {self.n_steps} steps"

    def __repr__(self) -> str:
        return f"<Trajectory {self.label} on {self.surface.name}: {self.message}>"


def _check_steps(steps, maximum=1_000_000) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"steps must be a whole number, got {steps!r}")
    if not 0 <= steps <= maximum:
        raise ValueError(f"steps must be in [0, {maximum}], got {steps!r}")
    return int(steps)


def _check_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise (σ, the standard deviation of the gradient noise) must be a number, got {noise!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise (σ, the standard deviation of the gradient noise) must be in [0, inf), got {noise!r}")
    return float(noise)


def _check_start(start, surface: Surface) -> tuple[float, float]:
    if start is None:
        return surface.start
    try:
        x0, y0 = start
    except (TypeError, ValueError):
        raise TypeError(f"start must be a point (x, y) of two numbers, got {start!r}") from None
    for value in (x0, y0):          # not True, np.True_, "1" or b"1", which float() would take
        if isinstance(value, (bool, str, bytes)) or np.asarray(value).dtype.kind not in "iuf" \
                or np.ndim(value) != 0:
            raise TypeError(f"start must be a point (x, y) of two numbers, got {start!r}")
    point = (float(x0), float(y0))
    if not np.all(np.isfinite(point)):
        raise ValueError(f"start must be a finite point (x, y), got {start!r}")
    return point


def _check_bound(bound, surface: Surface) -> float:
    if bound is None:
        return surface.divergence_bound
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
        raise TypeError(f"bound (the box |x|, |y| <= bound that counts as diverged) must be a number, got {bound!r}")
    if not bound > 0:
        raise ValueError(f"bound (the box |x|, |y| <= bound that counts as diverged) must be in (0, inf], "
                         f"got {bound!r}")
    return float(bound)


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None or a whole number >= 0, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be None or a whole number >= 0, got {seed!r}")
    return int(seed)


def _check_schedule(schedule, cls) -> Schedule | None:
    if schedule is None:
        return None
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be None or a learning-rate schedule from gdviz.schedules "
                        f"(e.g. schedules.cosine(100)), got {schedule!r}")
    if "lr" not in {hp.name for hp in cls.hyperparameters}:
        raise TypeError(f"{cls.__name__} has no learning rate (lr) for the schedule to scale")
    return schedule


def _settings(surface, steps, noise, seed, start, bound):
    """The checked settings shared by run and sweep (a clear error before anything runs)."""
    surface = get_surface(surface)
    start, bound = _check_start(start, surface), _check_bound(bound, surface)
    if max(map(abs, start)) > bound:
        raise ValueError(f"start {start} lies outside the box |x|, |y| <= bound = {bound:g} beyond which "
                         f"a run counts as diverged; start inside it or pass a larger bound")
    return surface, _check_steps(steps), _check_noise(noise), _check_seed(seed), start, bound


def _scheduled(schedule: Schedule | None, steps: int) -> np.ndarray:
    """factor(t) for t = 1 … steps (ones without a schedule)."""
    return np.ones(steps) if schedule is None else schedule.factor(np.arange(1, steps + 1))


def _set_lr(opt: Optimizer, lr) -> None:
    """Set η for one step without the assignment check: η·factor(t) comes from a checked η and a
    checked schedule, and may be 0 (a cosine's floor), which a user-given η may not."""
    vars(opt)["lr"] = lr


def _optimizer(optimizer, hyperparameters) -> Optimizer:
    if isinstance(optimizer, Optimizer) and not hyperparameters:
        return optimizer.clone()
    return get_optimizer(optimizer, **hyperparameters)


def run(optimizer: str | Optimizer = "SGD", surface: str | Surface = "elongated_bowl",
        start=None, steps: int = 30, *, noise: float = 0.0, seed: int | None = None,
        bound: float | None = None, schedule: Schedule | None = None, **hyperparameters) -> Trajectory:
    """Run ``optimizer`` on ``surface`` from ``start`` for ``steps`` steps.

    ``optimizer`` is a name (``"adam"``) or an :class:`~gdviz.optimizers.Optimizer`; the given
    object is not changed (the run uses a fresh clone). Keyword hyperparameters override, e.g.
    ``run("Momentum", lr=0.1, momentum=0.9)``. ``noise`` = σ adds N(0, σ²) to every gradient
    component (stochastic gradient descent); the same ``seed`` gives the same run.

    The run stops early, without warnings, at the first step whose point or loss is not finite
    or whose point leaves the box ``|x|, |y| ≤ bound`` (by default 100× the surface's view).

    With a ``schedule`` (:mod:`gdviz.schedules`) step t uses η_t = η·``schedule.factor(t)``;
    ``trajectory.learning_rates`` records the η of every step and ``trajectory.optimizer.lr``
    stays the base η.
    """
    opt = _optimizer(optimizer, hyperparameters)
    surface, steps, noise, seed, (x0, y0), bound = _settings(surface, steps, noise, seed, start, bound)
    schedule = _check_schedule(schedule, type(opt))
    rng = np.random.default_rng(seed)
    base_lr = opt.lr
    learning_rates = base_lr * _scheduled(schedule, steps)

    params = {"x": np.array(x0), "y": np.array(y0)}
    points, losses, grads, used = [(x0, y0)], [float(surface.f(x0, y0))], [], []
    start_state = {coordinate: opt.init_state(value) for coordinate, value in params.items()}
    states = {name: [(float(start_state["x"][name]), float(start_state["y"][name]))] for name in opt.state_names}
    diverged_at, reason = None, ""
    with np.errstate(all="ignore"):
        grads.append(tuple(map(float, surface.grad(x0, y0))))
        for k in range(1, steps + 1):
            g = np.array(grads[-1])
            if noise:
                g = g + noise * rng.standard_normal(2)
            if schedule is not None:
                _set_lr(opt, float(learning_rates[k - 1]))
            step = opt.update if k == 1 else opt._apply      # inputs checked once, then trusted
            step(params, {"x": g[0], "y": g[1]})
            x, y = float(params["x"]), float(params["y"])
            loss = float(surface.f(x, y))
            gradient = tuple(map(float, surface.grad(x, y)))
            if not np.all(np.isfinite((x, y, loss, *gradient))):
                diverged_at, reason = k, "the values overflowed to infinity or NaN"
            elif max(abs(x), abs(y)) > bound:
                diverged_at, reason = k, f"|θ| exceeded {bound:g}"
            if diverged_at is not None:
                break
            used.append(tuple(g))
            points.append((x, y))
            losses.append(loss)
            grads.append(gradient)
            for name in opt.state_names:
                states[name].append((float(opt.state["x"][name]), float(opt.state["y"][name])))
    _set_lr(opt, base_lr)
    return Trajectory(
        optimizer=opt, surface=surface, points=np.array(points), losses=np.array(losses),
        grads=np.array(grads), used_grads=np.array(used, dtype=float).reshape(-1, 2),
        states={name: np.array(values) for name, values in states.items()},
        steps=steps, noise=noise, seed=seed, diverged_at=diverged_at, divergence_reason=reason,
        learning_rates=learning_rates[:len(used)], schedule=schedule)


def stacked_runs(optimizer: str, surface="elongated_bowl", start=None, steps: int = 30, *,
                 lrs, noise: float = 0.0, seed: int | None = None, schedule: Schedule | None = None,
                 **hyperparameters) -> list[Trajectory]:
    """``[gdviz.run(optimizer, …, lr=η) for η in lrs]`` in one vectorized run.

    Every η is one column of the optimizer's arrays; each column follows exactly the arithmetic
    of :func:`gdviz.run` (the same noise draws too: one pair per step, shared by all columns,
    as every run with this ``seed`` draws them) and stops where that run would (the step whose
    point, loss or gradient is not finite, or whose point leaves the box). The trajectories
    carry points, losses and gradients; ``states`` is empty.
    """
    cls = optimizer_class(optimizer)
    surface, steps, noise, seed, (x0, y0), bound = _settings(surface, steps, noise, seed, start, None)
    schedule = _check_schedule(schedule, cls)
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim != 1 or not lrs.size:
        raise ValueError(f"lrs must be a non-empty 1-D list of learning rates, got shape {lrs.shape}")
    opt = cls(**hyperparameters, lr=lrs)            # checks every value, the η too
    factors = _scheduled(schedule, steps)
    n = lrs.size
    rng = np.random.default_rng(seed)
    params = {"x": np.full(n, x0), "y": np.full(n, y0)}
    points = np.empty((steps + 1, n, 2))
    losses = np.empty((steps + 1, n))
    grads = np.empty((steps + 1, n, 2))
    points[0] = x0, y0
    losses[0] = float(surface.f(x0, y0))
    grads[0] = tuple(map(float, surface.grad(x0, y0)))
    used = np.empty((steps, n, 2))
    diverged_at = np.full(n, -1)
    overflowed = np.zeros(n, dtype=bool)
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            g = grads[k - 1]
            if noise:
                g = g + noise * rng.standard_normal(2)
            used[k - 1] = g
            if schedule is not None:
                _set_lr(opt, lrs * factors[k - 1])
            step = opt.update if k == 1 else opt._apply
            step(params, {"x": g[:, 0].copy(), "y": g[:, 1].copy()})
            x, y = params["x"], params["y"]
            points[k, :, 0], points[k, :, 1] = x, y
            losses[k] = surface.f(x, y)
            grads[k, :, 0], grads[k, :, 1] = surface.grad(x, y)
            finite = np.isfinite(points[k]).all(-1) & np.isfinite(losses[k]) & np.isfinite(grads[k]).all(-1)
            new = (~finite | (np.maximum(np.abs(x), np.abs(y)) > bound)) & (diverged_at < 0)
            diverged_at[new] = k
            overflowed[new] = ~finite[new]
            if (diverged_at >= 0).all():
                break
    checked = cls(**hyperparameters, lr=float(lrs[0]))
    runs = []
    for i, lr in enumerate(lrs.tolist()):
        variant = copy.copy(checked)                # every value was checked above
        vars(variant).update(lr=lr, state={})
        last = steps if diverged_at[i] < 0 else int(diverged_at[i]) - 1
        reason = ("" if diverged_at[i] < 0 else "the values overflowed to infinity or NaN"
                  if overflowed[i] else f"|θ| exceeded {bound:g}")
        runs.append(Trajectory(
            optimizer=variant, surface=surface, points=points[:last + 1, i],
            losses=losses[:last + 1, i], grads=grads[:last + 1, i], used_grads=used[:last, i],
            states={}, steps=steps, noise=noise, seed=seed,
            diverged_at=None if diverged_at[i] < 0 else int(diverged_at[i]),
            divergence_reason=reason, learning_rates=lr * factors[:last], schedule=schedule))
    return runs


@dataclass
class SweepResult:
    """Per-configuration outcomes of :func:`sweep`, each an array of the grid's shape.

    ``axes`` maps each swept hyperparameter to its 1-D values, in grid-axis order;
    ``fixed`` holds the ones given as single numbers, and those of an optimizer instance that
    differ from the defaults.
    """

    optimizer: str
    surface: Surface
    axes: dict[str, np.ndarray]
    fixed: dict[str, float]
    steps: int
    tol: float
    start: tuple[float, float]
    initial_loss: float
    final_loss: np.ndarray          # f(θ_steps) − nothing subtracted; inf where diverged
    steps_to_tol: np.ndarray        # first k with f(θ_k) − f_min ≤ tol, −1 if never
    diverged: np.ndarray            # bool
    diverged_at: np.ndarray         # step of divergence, −1 if none
    final_points: np.ndarray = field(repr=False, default=None)   # grid shape + (2,)
    schedule: Schedule | None = None    # every configuration's η was scaled by factor(t)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.final_loss.shape

    @property
    def converged(self) -> np.ndarray:
        """Reached the tolerance within the steps (and did not diverge)."""
        return self.steps_to_tol >= 0

    @property
    def n_configs(self) -> int:
        return int(self.final_loss.size)


def sweep(optimizer: str | Optimizer = "Momentum", surface: str | Surface = "elongated_bowl",
          start=None, steps: int = 200, *, tol: float = 1e-6, noise: float = 0.0,
          seed: int | None = None, bound: float | None = None, schedule: Schedule | None = None,
          **hyperparameters) -> SweepResult:
    """Run every combination of the given hyperparameter values in one vectorized run.

    Each hyperparameter given as a 1-D sequence becomes a grid axis, in the order given;
    single numbers stay fixed; the rest take the optimizer's defaults. For example
    ``sweep("Momentum", lr=np.geomspace(1e-3, 3, 200), momentum=np.linspace(0, 0.99, 200))``
    runs 40,000 configurations. Each configuration follows exactly the arithmetic of
    :func:`run` (same results to round-off, when there is no noise). With a ``schedule``, step t
    multiplies every configuration's η by ``schedule.factor(t)``, as :func:`run` does.
    """
    cls = optimizer_class(type(optimizer) if isinstance(optimizer, Optimizer) else optimizer)
    base = optimizer.hyperparameter_values if isinstance(optimizer, Optimizer) else {}
    surface, steps, noise, seed, (x0, y0), bound = _settings(surface, steps, noise, seed, start, bound)
    schedule = _check_schedule(schedule, cls)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol (the loss gap f − f_min that counts as converged) must be a number, got {tol!r}")
    if not tol >= 0:
        raise ValueError(f"tol (the loss gap f − f_min that counts as converged) must be in [0, inf), got {tol!r}")
    known = {hp.name: hp for hp in cls.hyperparameters}
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise TypeError(f"{cls.__name__} has no hyperparameter(s) {unknown}; "
                        f"its hyperparameters are: {', '.join(known)}")

    axes, fixed = {}, {}
    owner = f"sweep({cls.__name__})"
    for name, value in hyperparameters.items():
        if np.ndim(value) == 0:
            fixed[name] = known[name].validate(value, owner=owner)
            continue
        values = known[name].validate(value, owner=owner)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{owner}: {name}: give a single number or a non-empty 1-D list of "
                             f"values, got shape {values.shape}")
        axes[name] = values
    # an instance's own settings are part of the record (a stability map's theory line and title)
    fixed = {**{name: value for name, value in base.items()
                if name not in axes and name not in fixed and np.ndim(value) == 0
                and value != known[name].default}, **fixed}
    grids = np.meshgrid(*axes.values(), indexing="ij") if axes else []
    shape = grids[0].shape if grids else ()
    opt = cls(**{**base, **fixed, **{name: grid.ravel() for name, grid in zip(axes, grids)}})
    base_lr, factors = opt.lr, _scheduled(schedule, steps)

    n = int(np.prod(shape))
    params = {"x": np.full(n, x0), "y": np.full(n, y0)}
    rng = np.random.default_rng(seed)
    steps_to_tol = np.full(n, -1)
    diverged_at = np.full(n, -1)
    initial_loss = float(surface.f(x0, y0))
    if initial_loss - surface.min_value <= tol:
        steps_to_tol[:] = 0
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            gx, gy = surface.grad(params["x"], params["y"])
            if noise:
                gx = gx + noise * rng.standard_normal(n)
                gy = gy + noise * rng.standard_normal(n)
            if schedule is not None:
                _set_lr(opt, base_lr * factors[k - 1])
            opt.update(params, {"x": gx, "y": gy})
            x, y = params["x"], params["y"]
            loss = surface.f(x, y)
            bad = ~(np.isfinite(loss) & (np.abs(x) <= bound) & (np.abs(y) <= bound))
            diverged_at[bad & (diverged_at < 0)] = k
            steps_to_tol[(loss - surface.min_value <= tol) & (steps_to_tol < 0) & (diverged_at < 0)] = k
        diverged = diverged_at >= 0
        final_loss = np.where(diverged, np.inf, surface.f(params["x"], params["y"]))
    steps_to_tol[diverged] = -1
    return SweepResult(
        optimizer=cls.__name__, surface=surface, axes=axes, fixed={k: float(v) for k, v in fixed.items()},
        steps=steps, tol=float(tol), start=(x0, y0), initial_loss=initial_loss,
        final_loss=final_loss.reshape(shape), steps_to_tol=steps_to_tol.reshape(shape),
        diverged=diverged.reshape(shape), diverged_at=diverged_at.reshape(shape),
        final_points=np.stack([params["x"], params["y"]], axis=-1).reshape(*shape, 2), schedule=schedule)
