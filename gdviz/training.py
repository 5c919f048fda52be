"""Train an :class:`~gdviz.network.MLP` with any gdviz optimizer, minibatch by minibatch.

:func:`train` is the loop of "Deep Learning from Scratch" §6.1.8: shuffle, cut into batches,
``opt.update(net.params, net.gradient(X_batch, y_batch))``. It records what the pictures need
(:class:`TrainingRecord`): the minibatch loss of every iteration, the loss and accuracy on
the whole training and test sets after every epoch, and flattened parameter snapshots.

The batch order comes from ``seed`` alone, so the same call gives the same run. A stack of
networks (``MLP(sizes, seed=[…])``) trains in one vectorized loop; give ``seed`` as a list of
the same length and network k also gets its own batch order, exactly the run
``train(MLP(sizes, seed=s[k]), …, seed=b[k])`` would make. A learning-rate array of shape
(K, 1, 1) gives every network its own η.

A run that diverges is a result: its iteration is recorded in ``diverged_at``, its later
losses are NaN, and (for a stack) the other networks carry on. A diverged network of a stack
is no longer computed, as a single run stops there: its later measurements, its parameters and
its optimizer state are NaN.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .network import MLP, flatten, softmax_cross_entropy
from .optimizers import Optimizer, get_optimizer
from .trajectory import _check_schedule, _scheduled, _set_lr

__all__ = ["train", "TrainingRecord", "DIVERGENCE_LOSS", "loss_shape"]

#: A minibatch loss above this (or not finite) counts as diverged. A fresh 10-class network
#: starts near ln 10 ≈ 2.3; a loss of 1000 gives its own label a probability of e^-1000.
DIVERGENCE_LOSS = 1e3


@dataclass
class TrainingRecord:
    """What :func:`train` measured. For a stack of K networks every array gets a last axis K
    (``losses`` has shape (iterations, K)), and ``diverged_at`` is a list of K entries.

    Attributes
    ----------
    losses : the minibatch loss at each iteration t = 1 … T (before that iteration's step).
    lr_factors : the schedule's factor at each iteration (η_t = η·factor; all 1 without one).
    epochs_seen : the epochs after which the whole sets were evaluated (0 = before training;
        0, 1, …, epochs by default): the x axis of the per-epoch arrays.
    train_loss, train_accuracy, test_accuracy : on the whole sets, at ``epochs_seen``.
        Test arrays are empty when no test data was given.
    snapshot_steps : the iterations at which ``snapshots`` were taken (0 = the initial point).
    snapshots : the flattened parameters θ at those iterations, shape (n, D) or (n, K, D).
    diverged_at : the iteration whose loss exceeded DIVERGENCE_LOSS or was not finite, else None.
    """

    optimizer: Optimizer
    net: MLP
    batch_size: int
    iterations_per_epoch: int
    losses: np.ndarray
    lr_factors: np.ndarray
    epochs_seen: np.ndarray
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    snapshot_steps: np.ndarray
    snapshots: np.ndarray
    diverged_at: int | None | list = None
    seed: int | tuple = 0
    schedule: object = None
    extra: dict = field(default_factory=dict)

    @property
    def diverged(self):
        """True if the run diverged (for a stack, a boolean array, one per network)."""
        if isinstance(self.diverged_at, list):
            return np.array([d is not None for d in self.diverged_at])
        return self.diverged_at is not None

    @property
    def message(self) -> str:
        name = type(self.optimizer).__name__
        if isinstance(self.diverged_at, list):
            bad = int(np.sum(self.diverged))
            return (f"{name}: {len(self.diverged_at) - bad} of {len(self.diverged_at)} networks "
                    f"trained, {bad} diverged")
        if self.diverged:
            return f"{name} diverged at iteration {self.diverged_at}; lower the learning rate η"
        test = (f", test accuracy {self.test_accuracy[-1]:.1%}" if self.test_accuracy.size else "")
        return f"{name}: training loss {self.train_loss[-1]:.3g}{test}"

    def __repr__(self) -> str:
        return f"<TrainingRecord {self.message}>"


def _whole(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f", at most {high}"
        raise ValueError(f"{name} must be at least {low}{upper}, got {value!r}")
    return int(value)


def _batch_seeds(seed, stack: int | None) -> list[int] | None:
    """One seed per batch order: None means every network shares one order."""
    if isinstance(seed, Sequence) and not isinstance(seed, (str, bytes)):
        if stack is None:
            raise ValueError(f"seed: a list of seeds needs a stack of networks; this is one "
                             f"network, give one seed (got {list(seed)!r})")
        if len(seed) != stack:
            raise ValueError(f"seed: give one seed per network of the stack ({stack}), "
                             f"got {len(seed)}")
        return [_whole(s, "seed", 0) for s in seed]
    _whole(seed, "seed", 0)
    return None


def _unpack_data(net: MLP, data):
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise TypeError("data must be (X_train, y_train) or (X_train, y_train, X_test, y_test), "
                        "as gdviz.data.load_digits() returns")
    X, y = net.check_data(data[0], data[1])
    X_test, y_test = net.check_data(data[2], data[3]) if len(data) == 4 else (None, None)
    return X, y, X_test, y_test


def train(net: MLP, optimizer, data, epochs: int = 10, batch_size: int = 100, seed=0,
          schedule=None, snapshot_every: int | None = None,
          evaluate_every: int = 1, evaluate_before: bool = True) -> TrainingRecord:
    """Train ``net`` in place with ``optimizer`` on ``data``; return a :class:`TrainingRecord`.

    Parameters
    ----------
    net : an :class:`~gdviz.network.MLP` (or a stack of them).
    optimizer : an optimizer (a fresh copy with its hyperparameters is used, so its own state
        stays untouched) or a name such as ``"adam"``.
    data : ``(X_train, y_train)`` or ``(X_train, y_train, X_test, y_test)``.
    epochs : passes over the training set. Each epoch shuffles the training set and takes
        ``n // batch_size`` minibatches (the few samples left over wait for the next shuffle).
    batch_size : samples per minibatch, 1 … n.
    seed : the batch order's seed (a whole number), or one per network of a stack.
    schedule : a learning-rate schedule from :mod:`gdviz.schedules`: iteration t = 1, 2, … uses
        η·schedule.factor(t). The optimizer's η is restored afterwards.
    snapshot_every : take a parameter snapshot every this many iterations (default: once an
        epoch), plus one at the start and one at the end.
    evaluate_every : measure the loss and accuracy on the whole sets every this many epochs
        (and before training and after the last epoch); a sweep that needs only the final
        numbers saves the time with ``evaluate_every=epochs``.
    evaluate_before : also measure them before training (epoch 0); a sweep that needs only
        the final numbers skips it with ``False``.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a gdviz.network.MLP, got {type(net).__name__}")
    opt = get_optimizer(optimizer)
    X, y, X_test, y_test = _unpack_data(net, data)
    n = X.shape[0]
    epochs = _whole(epochs, "epochs", 1)
    batch_size = _whole(batch_size, "batch_size", 1, n)
    stack = net.stack_size
    seeds = _batch_seeds(seed, stack)
    per_epoch = n // batch_size
    T = epochs * per_epoch
    snapshot_every = per_epoch if snapshot_every is None else _whole(snapshot_every, "snapshot_every", 1)
    evaluate_every = _whole(evaluate_every, "evaluate_every", 1)
    if not isinstance(evaluate_before, bool):
        raise TypeError(f"evaluate_before must be True or False, got {evaluate_before!r}")
    schedule = _check_schedule(schedule, type(opt))
    factors = _scheduled(schedule, T)

    rngs = ([np.random.default_rng(s) for s in seeds] if seeds is not None
            else [np.random.default_rng(seed)])
    lead = () if stack is None else (stack,)
    losses = np.full((T,) + lead, np.nan)
    loss_rows = losses.reshape(T, -1)                # one column per network (one for a single one)
    sets = {"train_loss": [], "train_accuracy": [], "test_accuracy": []}
    snapshot_steps, snapshots = [], []
    diverged_at = [None] * (stack or 1)
    # The networks still training (live) are the only ones computed: a stack drops a network
    # when it diverges, as a single run stops there. Until then ``params`` is net.params itself.
    base_lr = opt.lr
    live, params, live_opt, live_lr = np.arange(stack or 1), net.params, opt, base_lr

    def per_network(values):
        """A value of each live network, as one value per network of the stack (NaN if dropped)."""
        if stack is None:
            return values
        every = np.full(stack, np.nan)
        every[live] = values
        return every

    def evaluate():
        scores = net.scores(params, X)
        sets["train_accuracy"].append(per_network((scores.argmax(axis=-1) == y).mean(axis=-1)))
        sets["train_loss"].append(per_network(softmax_cross_entropy(scores, y, gradient=False)))
        if X_test is not None:
            sets["test_accuracy"].append(per_network((net.scores(params, X_test).argmax(axis=-1)
                                                      == y_test).mean(axis=-1)))

    def write_back():
        """Copy the live networks' parameters into net.params (a no-op before any drop)."""
        if params is not net.params:
            for key, value in params.items():
                net.params[key][live] = value

    def snapshot(t):
        write_back()
        snapshot_steps.append(t)
        snapshots.append(flatten(net.params, stacked=stack is not None))

    t = 0
    try:
        with np.errstate(all="ignore"):
            if evaluate_before:
                evaluate()
            snapshot(0)
            for epoch in range(1, epochs + 1):
                orders = np.stack([rng.permutation(n) for rng in rngs])   # (1 or live, n)
                for j in range(per_epoch):
                    t += 1
                    batch = orders[:, j * batch_size:(j + 1) * batch_size]
                    if seeds is None:
                        batch = batch[0]
                    loss, grads = net.loss_and_gradient(params, np.take(X, batch, axis=0), np.take(y, batch))
                    loss_rows[t - 1, live] = loss
                    if schedule is not None:
                        _set_lr(live_opt, live_lr * factors[t - 1])
                    live_opt.update(params, grads)
                    bad = ~(np.abs(np.atleast_1d(loss)) <= DIVERGENCE_LOSS)    # NaN counts as bad
                    if bad.any():
                        for k in live[bad]:
                            diverged_at[k] = t
                        if stack is not None:          # a diverged network of a stack: NaN
                            for value in params.values():
                                value[bad] = np.nan
                        if bad.all():
                            break
                        write_back()
                        live_opt, live_lr = _keep(live_opt, live_lr, ~bad, len(live))
                        live = live[~bad]
                        params = {key: value[~bad] for key, value in params.items()}
                        if seeds is not None:
                            rngs = [rng for rng, keep in zip(rngs, ~bad) if keep]
                            orders = orders[~bad]
                    if t % snapshot_every == 0 and t != T:
                        snapshot(t)
                else:
                    if epoch % evaluate_every == 0 or epoch == epochs:
                        evaluate()
                    continue
                break
    finally:
        _set_lr(opt, base_lr)
        if live_opt is not opt:
            opt.state = {key: {name: _spread(value, live, stack) for name, value in state.items()}
                         for key, state in live_opt.state.items()}
    snapshot(t)
    wanted = sorted({epochs, *range(evaluate_every, epochs + 1, evaluate_every)}
                    | ({0} if evaluate_before else set()))
    for name, values in sets.items():           # a stopped run: NaN for the epochs it never had
        if name != "test_accuracy" or X_test is not None:
            values.extend([np.full(lead, np.nan)] * (len(wanted) - len(values)))
    return TrainingRecord(
        optimizer=opt, net=net, batch_size=batch_size, iterations_per_epoch=per_epoch,
        losses=losses, lr_factors=factors, epochs_seen=np.array(wanted),
        train_loss=np.array(sets["train_loss"]), train_accuracy=np.array(sets["train_accuracy"]),
        test_accuracy=np.array(sets["test_accuracy"]),
        snapshot_steps=np.array(snapshot_steps), snapshots=np.array(snapshots),
        diverged_at=diverged_at if stack is not None else diverged_at[0],
        seed=tuple(seeds) if seeds is not None else seed, schedule=schedule)


def _rows(value, keep, size: int):
    """The rows ``keep`` of a per-network array (leading axis ``size``); anything else as is."""
    return value[keep] if np.ndim(value) >= 1 and np.shape(value)[0] == size else value


def _keep(opt: Optimizer, lr, keep, size: int) -> tuple[Optimizer, object]:
    """The optimizer of the networks ``keep`` of a stack of ``size``, and their base η: every
    per-network hyperparameter (shape (size, 1, 1)) and every state array cut to those rows."""
    hyperparameters = {**opt.hyperparameter_values, "lr": lr}
    kept = type(opt)(**{name: _rows(value, keep, size) for name, value in hyperparameters.items()})
    kept.state = {key: {name: _rows(value, keep, size) for name, value in state.items()}
                  for key, state in opt.state.items()}
    return kept, _rows(lr, keep, size)


def _spread(value, live, size: int):
    """A state array of the live networks back at their rows of the whole stack (NaN elsewhere)."""
    if np.ndim(value) == 0:
        return value
    every = np.full((size,) + np.shape(value)[1:], np.nan)
    every[live] = value
    return every


def loss_shape(losses) -> str:
    """How a run's loss went, in words: ``"diverges"`` (it blew up: not finite or above
    DIVERGENCE_LOSS), ``"does not train"`` (it did not end below half its start), else
    ``"decreases smoothly"`` (it never rose) or ``"spikes, then trains"`` (it rose at least once)."""
    losses = np.asarray(losses, dtype=float)
    if not np.all(np.abs(losses) <= DIVERGENCE_LOSS):
        return "diverges"
    if not losses[-1] < losses[0] / 2:
        return "does not train"
    return "decreases smoothly" if np.all(np.diff(losses) <= 0) else "spikes, then trains"
