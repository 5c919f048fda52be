r"""A multilayer perceptron in numpy, written the way "Deep Learning from Scratch" writes it.

``net.params`` is a dict ``W1, b1, W2, b2, …``; layer k computes ``a @ Wk + bk``, ReLU sits
between the layers, and the last layer's scores go through softmax into the cross-entropy,
averaged over the batch. :meth:`MLP.gradient` is backpropagation, and returns a dict with the
same keys as ``params``, so every optimizer trains it through its usual face::

    net = MLP([64, 32, 10], seed=0)
    opt = gdviz.Adam(lr=0.01)
    opt.update(net.params, net.gradient(X_batch, y_batch))

**Stacked networks.** ``MLP(sizes, seed=[0, 1, 2])`` holds K = 3 networks at once, network k
initialised exactly as ``MLP(sizes, seed=k)``: every parameter gets a leading axis of length K
(``W1`` has shape (K, 64, 32), ``b1`` shape (K, 1, 32)), and ``loss``/``accuracy`` return one
value per network. Hyperparameter arrays of shape (K, 1, 1) then broadcast against every
parameter, so one optimizer trains K networks with K learning rates in one ``update``, as
:func:`gdviz.sweep` does on the 2-D surfaces.

The backward pass, one line per equation (n samples, δ the error at a layer's output):

.. math::
    \delta_L = (\mathrm{softmax}(z_L) - \mathrm{onehot}(y)) / n \\
    \partial W_k = a_{k-1}^\top \delta_k, \quad \partial b_k = \textstyle\sum_i \delta_{k,i} \\
    \delta_{k-1} = (\delta_k W_k^\top) \odot [z_{k-1} > 0]
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["MLP", "flatten", "unflatten", "relu", "log_softmax", "softmax_cross_entropy"]


#: Evaluations (loss, accuracy, predict) run over this many samples at a time. The matrix
#: products then stay small enough that OpenBLAS runs them on one thread: on two cores shared
#: with other work, its threads wait for each other, and evaluating 36 stacked networks on the
#: training set took 570 ms instead of 24 ms (measured); on an idle machine chunks cost nothing.
ROWS = 128


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a whole number >= 0 (or a list of them), got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a whole number >= 0 (or a list of them), got {seed!r}")
    return int(seed)


def _check_sizes(sizes) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of layer widths such as [64, 32, 10], got {sizes!r}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"sizes must hold whole numbers (layer widths), got {size!r} in {list(sizes)!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, e.g. [64, 10]; "
                         f"got {list(sizes)!r}")
    if min(sizes) < 1:
        raise ValueError(f"every layer width in sizes must be >= 1, got {list(sizes)!r}")
    if sizes[-1] < 2:
        raise ValueError(f"the last width in sizes is the number of classes and must be >= 2, "
                         f"got {list(sizes)!r}")
    return tuple(int(size) for size in sizes)


def relu(z):
    return np.maximum(z, 0.0)


def row_max(z):
    """The largest entry along the last axis (keepdims), found through argmax: numpy's max over
    a short last axis runs one inner loop per row and took 61 µs on 24 × 64 scores of 10 classes,
    argmax and one gather 20 µs (measured). A NaN is the maximum, as for ``max``."""
    flat = np.ascontiguousarray(z).reshape(-1)
    starts = np.arange(0, flat.size, z.shape[-1])           # where each row starts in flat
    return flat[starts + z.argmax(axis=-1).reshape(-1)].reshape(z.shape[:-1] + (1,))


def log_softmax(z, also_softmax: bool = False):
    """log softmax(z) along the last axis, shifted by the maximum so exp cannot overflow;
    with ``also_softmax``, (log softmax(z), softmax(z)) from the same exponentials."""
    shifted = z - row_max(z)
    e = np.exp(shifted)
    total = np.einsum("...k->...", e)[..., None]       # Σ_k e^z_k (sum() is slow on a short last axis)
    log_p = shifted - np.log(total)
    if not also_softmax:
        return log_p
    e /= total
    return log_p, e


def softmax_cross_entropy(z, y, gradient: bool = True):
    r"""(mean cross-entropy, δ_L) from the last layer's scores z and the labels y, in one pass of
    exponentials and in place: ``z`` becomes δ_L (when C-contiguous; else a copy does). With
    ``gradient=False`` only the loss, and z holds the exponentials.

    With s = z − max z (row by row, so exp cannot overflow), −log softmax(z)_y = log Σ_k e^{s_k} − s_y
    and δ_L = (softmax(z) − onehot(y))/n. The same numbers as ``log_softmax(z, also_softmax=True)``
    gives, to round-off, with a third of the array passes: in a stack of networks these passes,
    not the matrix products, were the softmax's cost.
    """
    z = np.ascontiguousarray(z)                             # (a no-op for a matrix product's z)
    n = z.shape[-2]
    flat = z.reshape(-1)                                    # a view of z
    at_label = (np.arange(0, flat.size, z.shape[-1])        # each row's start in flat, plus its label
                + np.broadcast_to(y, z.shape[:-1]).reshape(-1))
    z -= row_max(z)                                         # s = z − max z
    s_y = flat[at_label].reshape(z.shape[:-1])
    np.exp(z, out=z)                                        # e^s
    total = np.einsum("...k->...", z)                       # Σ_k e^{s_k}
    loss = (np.log(total) - s_y).mean(axis=-1)              # mean of log Σ_k e^{s_k} − s_y
    if not gradient:
        return loss
    z /= (total * n)[..., None]                             # softmax(z)/n
    flat[at_label] -= 1.0 / n                               # δ_L = (softmax(z) − onehot(y))/n
    return loss, z


def transpose(a):
    """Swap the last two axes (the matrix transpose, for a stack of matrices too)."""
    return np.swapaxes(a, -1, -2)


def _like_bias(g, b):
    """A bias gradient summed over the samples, shaped like the bias: (n_out,) for one network,
    (K, 1, n_out) for a stack. With one network and X of shape (m, B, d) (m separate batches),
    it stays (m, n_out): one gradient per batch, e.g. per image."""
    return g[..., None, :] if b.ndim == 3 else g


class MLP:
    """A multilayer perceptron: ``sizes`` = [inputs, hidden…, classes], ReLU, softmax cross-entropy.

    Parameters
    ----------
    sizes : layer widths, e.g. ``[64, 32, 10]`` (64 inputs, one hidden layer of 32, 10 classes).
    seed : the He initialisation's seed (W ~ N(0, 2/fan_in), b = 0); a list of seeds makes a
        stack of ``len(seed)`` networks, network k initialised as ``MLP(sizes, seed=seed[k])``.
    """

    def __init__(self, sizes, seed=0):
        self.sizes = _check_sizes(sizes)
        if isinstance(seed, Sequence) and not isinstance(seed, (str, bytes)):
            if len(seed) == 0:
                raise ValueError("seed: a stack needs at least one seed, got an empty list")
            self.seeds = tuple(_check_seed(s) for s in seed)
            nets = [self._he_init(s) for s in self.seeds]
            self.params = {key: np.stack([net[key] if key[0] == "W" else net[key][None, :]
                                          for net in nets])
                           for key in nets[0]}
        else:
            self.seeds = None
            self.params = self._he_init(_check_seed(seed))

    def _he_init(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        params = {}
        for k, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            params[f"W{k}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            params[f"b{k}"] = np.zeros(n_out)
        return params

    # --- shape of the thing ----------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]

    @property
    def stack_size(self) -> int | None:
        """K, the number of stacked networks, or None for a single network."""
        return None if self.seeds is None else len(self.seeds)

    @property
    def n_params(self) -> int:
        """The number of parameters of one network."""
        return sum(n_in * n_out + n_out for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]))

    def copy(self) -> "MLP":
        """An independent copy (same sizes, seeds and current parameters)."""
        twin = object.__new__(MLP)
        twin.sizes, twin.seeds = self.sizes, self.seeds
        twin.params = {key: value.copy() for key, value in self.params.items()}
        return twin

    def __repr__(self) -> str:
        stack = "" if self.seeds is None else f", stack of {len(self.seeds)}"
        return f"MLP({list(self.sizes)}{stack}, {self.n_params} parameters each)"

    # --- the book's four methods -------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """The predicted class of every row of X: shape (n,), or (K, n) for a stack."""
        X = self.check_inputs(X)
        return self.scores(self.params, X).argmax(axis=-1)

    def loss(self, X, y):
        """The mean softmax cross-entropy on (X, y): a float, or shape (K,) for a stack."""
        X, y = self.check_data(X, y)
        loss = self.loss_of(self.params, X, y)
        return float(loss) if loss.ndim == 0 else loss

    def accuracy(self, X, y):
        """The fraction of rows classified correctly: a float, or shape (K,) for a stack."""
        X, y = self.check_data(X, y)
        accuracy = (self.scores(self.params, X).argmax(axis=-1) == y).mean(axis=-1)
        return float(accuracy) if np.ndim(accuracy) == 0 else accuracy

    def gradient(self, X, y) -> dict[str, np.ndarray]:
        """∂loss/∂params by backpropagation: a dict with the same keys and shapes as ``params``."""
        X, y = self.check_data(X, y)
        return self.loss_and_gradient(self.params, X, y)[1]

    # --- the maths, on checked inputs and any parameters -------------------------------------
    def scores(self, params, X) -> np.ndarray:
        """The last layer's outputs z_L (before softmax), ``ROWS`` samples at a time."""
        if X.shape[-2] > ROWS:
            return np.concatenate([self.scores(params, X[..., i:i + ROWS, :])
                                   for i in range(0, X.shape[-2], ROWS)], axis=-2)
        a = X
        for k in range(1, self.n_layers + 1):
            a = a @ params[f"W{k}"]
            a += params[f"b{k}"]                            # z_k = a_{k−1} W_k + b_k, in place
            if k < self.n_layers:
                np.maximum(a, 0.0, out=a)                   # a_k = relu(z_k), in place
        return a

    def loss_of(self, params, X, y) -> np.ndarray:
        """The mean cross-entropy of the network with these parameters (no input checks)."""
        return softmax_cross_entropy(self.scores(params, X), y, gradient=False)

    def loss_and_gradient(self, params, X, y) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One forward and one backward pass: (loss, gradient dict), no input checks.

        For a stack, X may be shared (n, d) or one batch per network (K, n, d), y (n,) or (K, n).
        For one network, X of shape (m, B, d) and y (m, B) give m separate losses and gradients
        (every array with a leading axis m): B = 1 gives each image's own gradient.
        """
        L = self.n_layers
        a = [X]                                             # forward, keeping what backward needs
        for k in range(1, L + 1):
            z = a[-1] @ params[f"W{k}"]
            z += params[f"b{k}"]                            # z_k = a_{k−1} W_k + b_k, in place
            if k < L:
                a.append(np.maximum(z, 0.0, out=z))         # a_k = relu(z_k), in place
        loss, delta = softmax_cross_entropy(z, y)           # δ_L = (softmax − onehot)/n, in z
        grads = {}
        for k in range(L, 0, -1):
            grads[f"W{k}"] = transpose(a[k - 1]) @ delta                    # ∂W_k = a_{k−1}ᵀ δ_k
            grads[f"b{k}"] = _like_bias(np.einsum("...ij->...j", delta), params[f"b{k}"])  # ∂b_k = Σ_i δ_k
            if k > 1:
                delta = delta @ transpose(params[f"W{k}"])                  # δ_{k−1} = δ_k W_kᵀ
                delta *= a[k - 1] > 0                                       #   ⊙ [z_{k−1} > 0]
        return loss, {key: grads[key] for key in params}

    def hessian_vector_product(self, params, V, X, y) -> dict[str, np.ndarray]:
        r"""H·V, the Hessian of the mean loss at ``params`` times the direction ``V`` (a dict like
        ``params``), exactly: the backward pass differentiated along V (Pearlmutter's R-operator,
        R{·} = d/dε (·)(params + εV) at ε = 0). ReLU's derivative is a step, so its own derivative
        is 0 wherever it exists (a finite difference of gradients would jump across the kinks).
        No input checks; works for a stack like :meth:`loss_and_gradient`.
        """
        L = self.n_layers
        a, Ra, zs, Rzs = [X], [0.0], [], []              # R{X} = 0: the data do not move
        for k in range(1, L + 1):
            W, b = params[f"W{k}"], params[f"b{k}"]
            zs.append(a[-1] @ W + b)
            Rzs.append(a[-1] @ V[f"W{k}"] + V[f"b{k}"]
                       + (Ra[-1] @ W if k > 1 else 0.0))           # R{z} = R{a}W + aV_W + V_b
            if k < L:
                mask = zs[-1] > 0
                a.append(zs[-1] * mask)
                Ra.append(Rzs[-1] * mask)                              # R{a} = R{z} ⊙ [z > 0]
        log_p = log_softmax(zs[-1])
        p = np.exp(log_p)
        n = np.shape(y)[-1]
        onehot = np.zeros_like(log_p)
        np.put_along_axis(onehot, np.broadcast_to(y, log_p.shape[:-1])[..., None], 1.0, axis=-1)
        delta = (p - onehot) / n                                         # δ_L
        R_delta = p * (Rzs[-1] - (p * Rzs[-1]).sum(axis=-1, keepdims=True)) / n   # R{softmax}/n
        hv = {}
        for k in range(L, 0, -1):
            hv[f"W{k}"] = transpose(a[k - 1]) @ R_delta + (transpose(Ra[k - 1]) @ delta if k > 1 else 0.0)
            hv[f"b{k}"] = _like_bias(R_delta.sum(axis=-2), params[f"b{k}"])
            if k > 1:
                mask = zs[k - 2] > 0
                W = params[f"W{k}"]
                R_delta = (R_delta @ transpose(W) + delta @ transpose(V[f"W{k}"])) * mask
                delta = (delta @ transpose(W)) * mask
        return {key: hv[key] for key in params}

    # --- input checks ------------------------------------------------------------------------
    def check_inputs(self, X) -> np.ndarray:
        """X as a float array of shape (n, sizes[0]), or a clear error naming what is wrong."""
        if isinstance(X, (str, bytes)) or np.asarray(X).dtype.kind not in "biuf":
            raise TypeError(f"X must be a numeric array of shape (n, {self.sizes[0]}), "
                            f"got {type(X).__name__}")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (n, {self.sizes[0]}) to match sizes[0] = "
                             f"{self.sizes[0]} (sizes = {list(self.sizes)}), got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X has no rows; give at least one sample")
        if not np.isfinite(X).all():
            bad = int(np.count_nonzero(~np.isfinite(X)))
            raise ValueError(f"X holds {bad} NaN or infinite value(s); every input must be finite")
        return X

    def check_labels(self, y, n: int) -> np.ndarray:
        """y as an int array of n labels in 0 … n_classes − 1, or a clear error."""
        if isinstance(y, (str, bytes)):
            raise TypeError(f"y must be an array of integer class labels, got {y!r}")
        y = np.asarray(y)
        if y.dtype.kind not in "iu":
            raise TypeError(f"y must hold integer class labels 0 … {self.n_classes - 1}, "
                            f"got dtype {y.dtype}")
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), one label per row of X, got shape {y.shape}")
        if y.min() < 0 or y.max() >= self.n_classes:
            bad = y[(y < 0) | (y >= self.n_classes)]
            raise ValueError(f"y holds labels outside 0 … {self.n_classes - 1} (the network has "
                             f"{self.n_classes} classes): {np.unique(bad)[:5].tolist()}")
        return y.astype(np.int64)

    def check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X = self.check_inputs(X)
        return X, self.check_labels(y, X.shape[0])


def flatten(params: dict[str, np.ndarray], stacked: bool = False) -> np.ndarray:
    """All parameters as one vector θ (keys in order), or one row per network of a stack."""
    if stacked:
        return np.concatenate([value.reshape(len(value), -1) for value in params.values()], axis=1)
    return np.concatenate([value.ravel() for value in params.values()])


def unflatten(theta: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inverse of :func:`flatten` for one network shaped like ``like``; with θ of shape
    (M, D) it gives a stack of M networks (W of shape (M, n_in, n_out), b of shape (M, 1, n_out))."""
    theta = np.asarray(theta, dtype=np.float64)
    lead = theta.shape[:-1]
    total = sum(value.size for value in like.values())
    if theta.shape[-1:] != (total,):
        raise ValueError(f"theta has {theta.shape[-1] if theta.ndim else 0} entries, but the parameters hold {total}")
    params, start = {}, 0
    for key, value in like.items():
        stop = start + value.size
        shape = value.shape if not lead or value.ndim == 2 else (1,) + value.shape
        params[key] = theta[..., start:stop].reshape(lead + shape)
        start = stop
    return params
