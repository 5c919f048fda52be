"""The MLP, its trainer and the landscape tools, against independent computations.

Expected values come from central differences of the loss, a per-sample loop written from
the definition of softmax cross-entropy, numpy's SVD and eigvalsh, and torch when installed;
never from the code under test.
"""
import math

import numpy as np
import pytest

import gdviz
from gdviz import schedules
from gdviz.landscape import hessian_vector_product, loss_on_plane, pca_plane, top_eigenvalue
from gdviz.network import MLP, flatten, unflatten
from gdviz.training import DIVERGENCE_LOSS, loss_shape, train

SIZES = [[4, 3], [5, 6, 3], [6, 5, 4, 3]]


def toy_data(sizes, n=7, seed=0):
    rng = np.random.default_rng(100 + seed)
    return rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], n)


def loss_by_loops(params, X, y):
    """The definition, one sample at a time: −log softmax(z)_y of the network's scores, averaged."""
    n_layers = len(params) // 2
    total = 0.0
    for x, label in zip(X, y):
        a = list(x)
        for k in range(1, n_layers + 1):
            W, b = params[f"W{k}"], params[f"b{k}"]
            z = [sum(a[i] * W[i][j] for i in range(len(a))) + b[j] for j in range(len(b))]
            a = [max(v, 0.0) for v in z] if k < n_layers else z
        total += -math.log(math.exp(a[label]) / sum(math.exp(v) for v in a))
    return total / len(y)


def numerical_gradient(f, params, h=1e-6):
    grads = {}
    for key, value in params.items():
        g = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            old = value[index]
            value[index] = old + h
            plus = f()
            value[index] = old - h
            minus = f()
            value[index] = old
            g[index] = (plus - minus) / (2 * h)
        grads[key] = g
    return grads


def net_with_biases(sizes, seed):
    """A network with non-zero biases, so they are tested too, and no unit sitting exactly on
    ReLU's kink (a sample whose hidden layer is all zero would put z = b = 0 there)."""
    net = MLP(sizes, seed=seed)
    for key in net.params:
        if key.startswith("b"):
            net.params[key] += np.random.default_rng(seed).normal(0, 0.3, net.params[key].shape)
    return net


# --- the network ------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_equals_the_per_sample_definition(sizes, seed):
    net = net_with_biases(sizes, seed)
    X, y = toy_data(sizes, seed=seed)
    assert net.loss(X, y) == pytest.approx(loss_by_loops(net.params, X, y), rel=1e-12)


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backpropagation_matches_central_differences(sizes, seed):
    net = net_with_biases(sizes, seed)
    X, y = toy_data(sizes, seed=seed)
    grads = net.gradient(X, y)
    assert list(grads) == list(net.params)
    expected = numerical_gradient(lambda: net.loss(X, y), net.params)
    for key in grads:
        assert grads[key].shape == net.params[key].shape
        np.testing.assert_allclose(grads[key], expected[key], atol=1e-8, err_msg=key)


def cross_entropy_by_loops(z, y):
    """Mean −log softmax(z)_y and δ_L = (softmax(z) − onehot(y))/n, one row at a time in plain
    Python (each row shifted by its own max(), so exp cannot overflow)."""
    n = len(y)
    loss, delta = 0.0, []
    for row, label in zip(z.tolist(), y.tolist()):
        top = max(row)
        e = [math.exp(v - top) for v in row]
        total = math.fsum(e)
        loss += (math.log(total) - (row[label] - top)) / n
        delta.append([(v / total - (k == label)) / n for k, v in enumerate(e)])
    return loss, np.array(delta)


def test_fused_softmax_cross_entropy_matches_the_definition():
    """One network (n, C); a stack (K, n, C) with shared or per-network labels; one batch per
    image (m, 1, C); scores far from 0 (exp(1000) overflows unless shifted); a transposed
    (not contiguous) input. The loss and δ_L agree with the row-by-row definition."""
    from gdviz.network import softmax_cross_entropy
    rng = np.random.default_rng(7)
    z = rng.normal(0, 3, (4, 6, 5)) + np.array([0, 1000, -1000, 0])[:, None, None]
    y_each = rng.integers(0, 5, (4, 6))
    for scores, labels in [(z[0], y_each[0]), (z, y_each), (z, y_each[1]),
                           (z[1][:, None, :], y_each[1][:, None]),
                           (np.swapaxes(np.swapaxes(z, 1, 2).copy(), 1, 2), y_each)]:
        given = scores.copy()
        loss, delta = softmax_cross_entropy(given, labels)
        only_loss = softmax_cross_entropy(scores.copy(), labels, gradient=False)
        rows = scores.reshape(-1, scores.shape[-2], 5)
        row_labels = np.broadcast_to(labels, scores.shape[:-1]).reshape(len(rows), -1)
        for k in range(len(rows)):
            expected_loss, expected_delta = cross_entropy_by_loops(rows[k], row_labels[k])
            assert loss.reshape(-1)[k] == pytest.approx(expected_loss, rel=1e-13, abs=1e-15)
            assert only_loss.reshape(-1)[k] == loss.reshape(-1)[k]
            np.testing.assert_allclose(delta.reshape(rows.shape)[k], expected_delta, rtol=1e-12, atol=1e-17)
        assert delta.shape == scores.shape and np.isfinite(delta).all()
        if scores.flags.c_contiguous:
            assert delta is given              # in place: the scores' array becomes δ_L


def test_row_max_is_the_max_of_each_row():
    from gdviz.network import row_max
    z = np.random.default_rng(3).standard_normal((3, 4, 7))
    z[0, 1, 2], z[1, 2, 6], z[2, 0, 0], z[2, 3, :] = np.nan, np.inf, -np.inf, -np.inf
    np.testing.assert_array_equal(row_max(z), z.max(axis=-1, keepdims=True))
    np.testing.assert_array_equal(row_max(z[:, :, ::2]), z[:, :, ::2].max(axis=-1, keepdims=True))


@pytest.mark.parametrize("sizes", [[4, 3], [5, 6, 3], [6, 5, 4, 3]])
def test_the_passes_in_place_leave_the_inputs_alone(sizes):
    """The forward and backward passes work in place on arrays they made; X and the
    parameters (of one network and of a stack) come out unchanged."""
    X, y = toy_data(sizes, n=9, seed=4)
    for net in (net_with_biases(sizes, 1), MLP(sizes, seed=[1, 2])):
        X_before, params_before = X.copy(), {key: value.copy() for key, value in net.params.items()}
        net.loss_and_gradient(net.params, X, y)
        net.loss(X, y), net.accuracy(X, y), net.gradient(X, y)
        np.testing.assert_array_equal(X, X_before)
        for key, value in net.params.items():
            np.testing.assert_array_equal(value, params_before[key])


def test_he_initialisation_and_the_books_layout():
    net = MLP([64, 100, 10], seed=3)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    assert net.params["W1"].shape == (64, 100) and net.params["b2"].shape == (10,)
    assert not net.params["b1"].any()
    # He: W ~ N(0, 2/fan_in); 6400 draws pin the standard deviation to about 1 %.
    assert net.params["W1"].std() == pytest.approx(math.sqrt(2 / 64), rel=0.04)
    assert net.params["W2"].std() == pytest.approx(math.sqrt(2 / 100), rel=0.06)
    np.testing.assert_array_equal(MLP([64, 100, 10], seed=3).params["W1"], net.params["W1"])
    assert not np.array_equal(MLP([64, 100, 10], seed=4).params["W1"], net.params["W1"])
    assert net.n_params == 64 * 100 + 100 + 100 * 10 + 10 == flatten(net.params).size


def test_predict_and_accuracy():
    net = MLP([2, 3], seed=0)
    net.params["W1"][...] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])      # scores pick class 0, 1, 2
    np.testing.assert_array_equal(net.predict(X), [0, 1, 2])
    assert net.accuracy(X, np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_a_stack_is_its_networks_side_by_side():
    sizes, seeds = [5, 6, 3], [4, 0, 4, 7]
    stack = MLP(sizes, seed=seeds)
    assert stack.params["W1"].shape == (4, 5, 6) and stack.params["b1"].shape == (4, 1, 6)
    X, y = toy_data(sizes)
    grads = stack.gradient(X, y)
    losses, accuracies = stack.loss(X, y), stack.accuracy(X, y)
    for k, seed in enumerate(seeds):
        one = MLP(sizes, seed=seed)
        for key in one.params:
            np.testing.assert_array_equal(stack.params[key][k].reshape(one.params[key].shape),
                                          one.params[key])
            np.testing.assert_allclose(grads[key][k].reshape(one.params[key].shape),
                                       one.gradient(X, y)[key], rtol=1e-12, atol=1e-15)
        assert losses[k] == pytest.approx(one.loss(X, y), rel=1e-12)
        assert accuracies[k] == one.accuracy(X, y)


def test_flatten_and_unflatten_round_trip():
    net = MLP([4, 5, 3], seed=1)
    theta = flatten(net.params)
    back = unflatten(theta, net.params)
    for key in net.params:
        np.testing.assert_array_equal(back[key], net.params[key])
    stack = unflatten(np.stack([theta, 2 * theta]), net.params)
    assert stack["W1"].shape == (2, 4, 5) and stack["b1"].shape == (2, 1, 5)
    np.testing.assert_array_equal(flatten(stack, stacked=True)[1], 2 * theta)
    with pytest.raises(ValueError, match="theta has 3 entries"):
        unflatten(np.zeros(3), net.params)


# --- bad input --------------------------------------------------------------------------------
X4, Y4 = toy_data([4, 3])


@pytest.mark.parametrize("call, error, match", [
    (lambda net: net.loss(np.zeros((3, 5)), np.zeros(3, int)), ValueError, r"shape \(n, 4\).*sizes\[0\] = 4"),
    (lambda net: net.loss(X4, np.full(len(X4), 3)), ValueError, r"outside 0 … 2.*\[3\]"),
    (lambda net: net.loss(X4, -np.ones(len(X4), int)), ValueError, r"outside 0 … 2"),
    (lambda net: net.loss(X4, Y4.astype(float)), TypeError, "integer class labels"),
    (lambda net: net.loss(X4, Y4[:-1]), ValueError, r"one label per row"),
    (lambda net: net.loss(np.where(X4 > 1, np.nan, X4), Y4), ValueError, "NaN or infinite"),
    (lambda net: net.predict("pixels"), TypeError, "numeric array"),
    (lambda net: net.gradient(np.zeros((0, 4)), np.zeros(0, int)), ValueError, "no rows"),
])
def test_bad_data_is_named(call, error, match):
    net = MLP([4, 3], seed=0)
    before = flatten(net.params).copy()
    with pytest.raises(error, match=match):
        call(net)
    np.testing.assert_array_equal(flatten(net.params), before)


@pytest.mark.parametrize("sizes, seed, error, match", [
    ([64], 0, ValueError, "at least an input and an output"),
    ([64, 0, 10], 0, ValueError, ">= 1"),
    ([64, 1], 0, ValueError, "number of classes"),
    ("64-10", 0, TypeError, "list of layer widths"),
    ([64, 10.5], 0, TypeError, "whole numbers"),
    ([64, 10], -1, ValueError, "seed"),
    ([64, 10], 1.5, TypeError, "seed"),
    ([64, 10], [], ValueError, "at least one seed"),
])
def test_bad_construction_is_named(sizes, seed, error, match):
    with pytest.raises(error, match=match):
        MLP(sizes, seed=seed)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    ({"batch_size": 8}, ValueError, "at most 7"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"seed": [1, 2]}, ValueError, "needs a stack"),
    ({"schedule": 0.5}, TypeError, "schedule must be None or a learning-rate schedule"),
    ({"data": (X4,)}, TypeError, "data must be"),
    ({"data": (X4[:, :3], Y4)}, ValueError, r"sizes\[0\] = 4"),
])
def test_bad_training_settings_are_named(kwargs, error, match):
    net = MLP([4, 3], seed=0)
    before = flatten(net.params).copy()
    settings = {"data": (X4, Y4), "epochs": 1, "batch_size": 2, **kwargs}
    with pytest.raises(error, match=match):
        train(net, gdviz.SGD(lr=0.1), **settings)
    np.testing.assert_array_equal(flatten(net.params), before)


# --- training ---------------------------------------------------------------------------------
def sgd_by_finite_differences(sizes, seed, X, y, lr, epochs, batch_size, batch_seed):
    """An independent trainer: the loss from loss_by_loops, gradients by central differences,
    the documented batch order (one permutation per epoch from default_rng(seed), n // B batches)."""
    params = MLP(sizes, seed=seed).params
    rng = np.random.default_rng(batch_seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for j in range(len(X) // batch_size):
            batch = order[j * batch_size:(j + 1) * batch_size]
            Xb, yb = X[batch], y[batch]
            losses.append(loss_by_loops(params, Xb, yb))
            grads = numerical_gradient(lambda: loss_by_loops(params, Xb, yb), params)
            for key in params:
                params[key] = params[key] - lr * grads[key]
    return params, np.array(losses)


def test_training_matches_an_independent_trainer():
    sizes = [4, 5, 3]
    X, y = toy_data(sizes, n=10, seed=5)
    net = MLP(sizes, seed=2)
    record = train(net, gdviz.SGD(lr=0.3), (X, y), epochs=3, batch_size=4, seed=9)
    params, losses = sgd_by_finite_differences(sizes, 2, X, y, 0.3, 3, 4, 9)
    assert record.iterations_per_epoch == 2 and record.losses.shape == (6,)
    np.testing.assert_allclose(record.losses, losses, rtol=1e-10)
    for key in params:
        np.testing.assert_allclose(net.params[key], params[key], atol=1e-7)
    np.testing.assert_allclose(record.snapshots[-1], flatten(params), atol=1e-7)
    np.testing.assert_allclose(record.train_loss[-1], loss_by_loops(params, X, y), rtol=1e-6)


def test_same_seed_same_run_and_a_stack_equals_its_runs():
    sizes = [6, 5, 3]
    X, y = toy_data(sizes, n=30, seed=1)
    data = (X[:20], y[:20], X[20:], y[20:])
    lrs = np.array([0.05, 0.2, 0.5])
    net_seeds, batch_seeds = [0, 1, 0], [3, 3, 4]
    stack = train(MLP(sizes, seed=net_seeds), gdviz.Adam(lr=lrs[:, None, None]), data,
                  epochs=4, batch_size=6, seed=batch_seeds, snapshot_every=2)
    assert stack.losses.shape == (12, 3) and stack.snapshots.shape == (7, 3, 53)
    assert stack.test_accuracy.shape == (5, 3)
    for k in range(3):
        one = train(MLP(sizes, seed=net_seeds[k]), gdviz.Adam(lr=lrs[k]), data,
                    epochs=4, batch_size=6, seed=batch_seeds[k], snapshot_every=2)
        again = train(MLP(sizes, seed=net_seeds[k]), gdviz.Adam(lr=lrs[k]), data,
                      epochs=4, batch_size=6, seed=batch_seeds[k], snapshot_every=2)
        np.testing.assert_array_equal(one.losses, again.losses)
        np.testing.assert_array_equal(one.snapshots, again.snapshots)
        np.testing.assert_allclose(stack.losses[:, k], one.losses, rtol=1e-12)
        np.testing.assert_allclose(stack.snapshots[:, k], one.snapshots, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(stack.test_accuracy[:, k], one.test_accuracy)
    np.testing.assert_array_equal(one.snapshot_steps, [0, 2, 4, 6, 8, 10, 12])
    other = train(MLP(sizes, seed=0), gdviz.Adam(lr=0.05), data, epochs=4, batch_size=6, seed=4)
    assert not np.array_equal(other.losses, stack.losses[:, 0])     # the batch order matters


def test_a_sweep_whose_networks_share_batch_orders_equals_its_runs():
    """The η sweep's layout (benchmarks/bench_network.py, notebook 07): seeds [0, 1, 2] repeated
    for every η, so networks with one seed see the same minibatches; the largest η diverge and
    are dropped. Every network equals its own run to round-off (1e-12 relative)."""
    sizes = [8, 6, 4]
    X, y = toy_data(sizes, n=40, seed=8)
    data = (X[:30], y[:30], X[30:], y[30:])
    lrs, seeds = np.array([0.003, 0.03, 0.3, 3e3]), [0, 1, 2]
    stack_seeds, stack_lrs = seeds * len(lrs), np.repeat(lrs, len(seeds))
    stack = train(MLP(sizes, seed=stack_seeds), gdviz.Adam(lr=stack_lrs[:, None, None]), data,
                  epochs=3, batch_size=7, seed=stack_seeds, evaluate_every=3, evaluate_before=False)
    assert stack.diverged.tolist() == [False] * 9 + [True] * 3
    for k, (seed, lr) in enumerate(zip(stack_seeds, stack_lrs)):
        one = train(MLP(sizes, seed=seed), gdviz.Adam(lr=lr), data, epochs=3, batch_size=7,
                    seed=seed, evaluate_every=3, evaluate_before=False)
        assert stack.diverged_at[k] == one.diverged_at
        np.testing.assert_allclose(stack.losses[:, k], one.losses, rtol=1e-12)
        np.testing.assert_allclose(stack.train_loss[:, k], one.train_loss, rtol=1e-12)
        np.testing.assert_array_equal(stack.test_accuracy[:, k], one.test_accuracy)
        if not one.diverged:                 # (a single run that diverged stops snapshotting)
            np.testing.assert_allclose(stack.snapshots[:, k], one.snapshots, rtol=1e-12, atol=1e-14)


def test_the_optimizer_passed_in_is_left_alone():
    opt = gdviz.Momentum(lr=0.1)
    record = train(MLP([4, 3]), opt, (X4, Y4), epochs=1, batch_size=2)
    assert opt.state == {} and record.optimizer is not opt and record.optimizer.state


def test_divergence_is_a_result():
    sizes = [4, 8, 3]
    X, y = toy_data(sizes, n=20)
    lrs = np.array([0.1, 1e4])[:, None, None]
    record = train(MLP(sizes, seed=[0, 0]), gdviz.SGD(lr=lrs), (X, y), epochs=3, batch_size=5)
    assert record.diverged_at[0] is None and record.diverged_at[1] is not None
    t = record.diverged_at[1]
    assert not abs(record.losses[t - 1, 1]) <= DIVERGENCE_LOSS
    assert np.isnan(record.losses[t:, 1]).all() and np.isfinite(record.losses[:, 0]).all()
    single = train(MLP(sizes, seed=0), gdviz.SGD(lr=1e4), (X, y), epochs=3, batch_size=5)
    assert single.diverged_at == t and "diverged at iteration" in single.message
    assert np.isnan(single.train_loss[-1]) and len(single.train_loss) == 4


def test_a_stack_drops_a_diverged_network_and_the_rest_train_as_alone():
    """A network that diverges is no longer computed (as a single run stops there); the others,
    with per-network η, a schedule and their own batch orders, still match their single runs."""
    sizes = [4, 8, 3]
    X, y = toy_data(sizes, n=30, seed=3)
    data = (X[:20], y[:20], X[20:], y[20:])
    lrs = np.array([0.1, 1e4, 0.05, 3e3])
    schedule = schedules.step(every=3, factor=0.5)
    record = train(MLP(sizes, seed=[0, 1, 2, 3]), gdviz.Adam(lr=lrs[:, None, None]), data,
                   epochs=3, batch_size=5, seed=[5, 6, 7, 8], schedule=schedule, snapshot_every=2)
    assert record.diverged.tolist() == [False, True, False, True]
    np.testing.assert_array_equal(record.optimizer.lr, lrs[:, None, None])      # restored
    for k in (1, 3):                  # dropped: NaN parameters, state and later measurements
        t = record.diverged_at[k]
        assert t < 12 and np.isnan(record.losses[t:, k]).all()
        assert np.isnan(record.train_accuracy[-1, k]) and np.isnan(record.test_accuracy[-1, k])
        assert np.isnan(record.net.params["W1"][k]).all() and np.isnan(record.snapshots[-1, k]).all()
        assert np.isnan(record.optimizer.state["W2"]["m"][k]).all()
    for k in (0, 2):
        one = train(MLP(sizes, seed=k), gdviz.Adam(lr=lrs[k]), data, epochs=3, batch_size=5,
                    seed=5 + k, schedule=schedule, snapshot_every=2)
        np.testing.assert_allclose(record.losses[:, k], one.losses, rtol=1e-12)
        np.testing.assert_allclose(record.snapshots[:, k], one.snapshots, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(record.train_accuracy[:, k], one.train_accuracy)
        np.testing.assert_allclose(record.optimizer.state["W1"]["v"][k],
                                   one.optimizer.state["W1"]["v"], rtol=1e-10, atol=1e-300)
        assert record.optimizer.state["W1"]["step"] == one.optimizer.state["W1"]["step"] == 12


def test_evaluate_before_false_measures_only_after_training():
    """A sweep needs only the final numbers: evaluate_before=False skips epoch 0 and changes
    nothing else; a run that stops early still gets its (NaN) final entry."""
    sizes = [4, 5, 3]
    X, y = toy_data(sizes, n=20, seed=2)
    data = (X[:15], y[:15], X[15:], y[15:])
    both = train(MLP(sizes, seed=1), gdviz.Adam(lr=0.1), data, epochs=3, batch_size=5, evaluate_every=3)
    last = train(MLP(sizes, seed=1), gdviz.Adam(lr=0.1), data, epochs=3, batch_size=5, evaluate_every=3,
                 evaluate_before=False)
    np.testing.assert_array_equal(both.epochs_seen, [0, 3])
    np.testing.assert_array_equal(last.epochs_seen, [3])
    np.testing.assert_array_equal(last.train_loss, both.train_loss[1:])
    np.testing.assert_array_equal(last.test_accuracy, both.test_accuracy[1:])
    np.testing.assert_array_equal(last.losses, both.losses)
    stopped = train(MLP(sizes, seed=1), gdviz.SGD(lr=1e5), (X, y), epochs=2, batch_size=5,
                    evaluate_before=False)
    assert stopped.diverged and stopped.train_loss.shape == (2,) and np.isnan(stopped.train_loss).all()
    assert stopped.test_accuracy.shape == (0,)
    with pytest.raises(TypeError, match="evaluate_before"):
        train(MLP(sizes), gdviz.SGD(), (X, y), batch_size=5, evaluate_before="no")


def test_a_schedule_scales_eta_per_iteration():
    """step(every=2, factor=0.5): iterations 1-2 at η, 3-4 at η/2; checked against a hand loop."""
    sizes = [4, 5, 3]
    X, y = toy_data(sizes, n=10, seed=5)
    net = MLP(sizes, seed=2)
    record = train(net, gdviz.SGD(lr=0.3), (X, y), epochs=2, batch_size=5, seed=1,
                   schedule=schedules.step(every=2, factor=0.5))
    np.testing.assert_array_equal(record.lr_factors, [1, 1, 0.5, 0.5])
    assert record.optimizer.lr == 0.3                     # restored
    by_hand = MLP(sizes, seed=2)
    rng = np.random.default_rng(1)
    for epoch in range(2):
        order = rng.permutation(10)
        for batch in (order[:5], order[5:]):
            grads = by_hand.gradient(X[batch], y[batch])
            for key in grads:
                by_hand.params[key] -= (0.3 if epoch == 0 else 0.15) * grads[key]
    np.testing.assert_allclose(flatten(net.params), flatten(by_hand.params), rtol=1e-12)


def test_a_cosine_schedule_may_reach_zero():
    """cosine(3) gives factors 1, 0.5, 0 (then 0): a zero η freezes the network, no error."""
    X, y = toy_data([4, 3], n=10)
    net = MLP([4, 3])
    record = train(net, gdviz.Adam(lr=0.2), (X, y), epochs=3, batch_size=5,
                   schedule=schedules.cosine(2), snapshot_every=1)
    np.testing.assert_allclose(record.lr_factors, [1, 0.5, 0, 0, 0, 0], atol=1e-15)
    np.testing.assert_array_equal(record.snapshots[3], record.snapshots[-1])
    assert not np.array_equal(record.snapshots[2], record.snapshots[1])
    assert record.optimizer.lr == 0.2


def test_torch_trains_the_same_network():
    torch = pytest.importorskip("torch")
    sizes = [8, 6, 3]
    X, y = toy_data(sizes, n=24, seed=3)
    net = MLP(sizes, seed=1)
    layers = [torch.tensor(v.copy(), requires_grad=True) for v in net.params.values()]
    record = train(net, gdviz.Adam(lr=0.05), (X, y), epochs=3, batch_size=8, seed=2)
    opt = torch.optim.Adam(layers, lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    rng = np.random.default_rng(2)
    losses = []
    for _ in range(3):
        order = rng.permutation(24)
        for j in range(3):
            batch = order[8 * j:8 * (j + 1)]
            a = torch.tensor(X[batch])
            W1, b1, W2, b2 = layers
            scores = torch.relu(a @ W1 + b1) @ W2 + b2
            loss = torch.nn.functional.cross_entropy(scores, torch.tensor(y[batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(record.losses, losses, rtol=1e-10)
    for value, layer in zip(net.params.values(), layers):
        np.testing.assert_allclose(value, layer.detach().numpy(), rtol=1e-9, atol=1e-12)


# --- landscape --------------------------------------------------------------------------------
def test_pca_plane_matches_numpy_svd():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal((15, 40)) * np.linspace(3, 0.1, 40), axis=0)
    plane = pca_plane(walk)
    centred = walk - walk.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for i in range(2):
        assert abs(plane.directions[i] @ vt[i]) == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    assert plane.explained == pytest.approx((s[:2] ** 2).sum() / (s ** 2).sum(), rel=1e-10)
    np.testing.assert_array_equal(plane.origin, walk[-1])
    np.testing.assert_allclose(plane.coordinates(walk[-1]), [0, 0], atol=1e-12)
    a, b = plane.coordinates(walk[3])
    np.testing.assert_allclose(plane.coordinates(plane.point(a, b)), [a, b], atol=1e-10)


def test_loss_on_plane_equals_loss_at_each_point():
    net = MLP([5, 4, 3], seed=0)
    X, y = toy_data([5, 4, 3], n=9)
    walk = np.stack([flatten(MLP([5, 4, 3], seed=s).params) for s in range(4)])
    plane = pca_plane(walk)
    a, b = np.meshgrid(np.linspace(-1, 1, 3), np.linspace(-2, 2, 4))
    grid = loss_on_plane(net, plane, a, b, X, y, chunk=5)
    assert grid.shape == (4, 3)
    for index in np.ndindex(a.shape):
        params = unflatten(plane.point(a[index], b[index]), net.params)
        assert grid[index] == pytest.approx(loss_by_loops(params, X, y), rel=1e-12)


def full_hessian_by_second_differences(net, X, y, h=1e-4):
    """The Hessian of the loss from the loss alone (four evaluations per entry)."""
    theta = flatten(net.params)
    f = lambda t: loss_by_loops(unflatten(t, net.params), X, y)
    D = theta.size
    H = np.zeros((D, D))
    E = np.eye(D) * h
    for i in range(D):
        for j in range(i, D):
            H[i, j] = H[j, i] = (f(theta + E[i] + E[j]) - f(theta + E[i] - E[j])
                                 - f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])) / (4 * h * h)
    return H


@pytest.mark.parametrize("seed", [0, 1])
def test_power_iteration_finds_the_largest_hessian_eigenvalue(seed):
    sizes = [3, 4, 3]
    net = net_with_biases(sizes, seed)
    X, y = toy_data(sizes, n=8, seed=seed)
    H = full_hessian_by_second_differences(net, X, y)
    eigenvalues = np.linalg.eigvalsh(H)
    lam, v = top_eigenvalue(net, X, y, iterations=500, tol=1e-10)
    assert lam == pytest.approx(eigenvalues[-1], rel=1e-4)
    assert eigenvalues[-1] >= abs(eigenvalues[0])             # the largest is the positive one here
    np.testing.assert_allclose(H @ v, lam * v, atol=1e-3 * lam)
    hv = hessian_vector_product(net, v, X, y)
    np.testing.assert_allclose(hv, H @ v, atol=1e-5 * lam)
    lams, vs = top_eigenvalue(net, X, y, theta=np.stack([flatten(net.params)] * 2),
                              iterations=500, tol=1e-10)
    np.testing.assert_allclose(lams, eigenvalues[-1], rtol=1e-4)


def test_evaluate_every_measures_the_whole_sets_less_often():
    sizes = [4, 5, 3]
    X, y = toy_data(sizes, n=12, seed=2)
    every = train(MLP(sizes), gdviz.SGD(lr=0.2), (X, y, X, y), epochs=5, batch_size=4)
    sparse = train(MLP(sizes), gdviz.SGD(lr=0.2), (X, y, X, y), epochs=5, batch_size=4,
                   evaluate_every=2)
    np.testing.assert_array_equal(sparse.epochs_seen, [0, 2, 4, 5])
    np.testing.assert_array_equal(sparse.train_loss, every.train_loss[[0, 2, 4, 5]])
    np.testing.assert_array_equal(sparse.test_accuracy, every.test_accuracy[[0, 2, 4, 5]])
    np.testing.assert_array_equal(sparse.losses, every.losses)
    for k in (0, 2, 5):    # the whole-set loss is the loss by the definition at that epoch's snapshot
        params = unflatten(every.snapshots[k], MLP(sizes).params)
        assert every.train_loss[k] == pytest.approx(loss_by_loops(params, X, y), rel=1e-10)


def test_exact_hessian_vector_products_match_differences_of_gradients():
    """Away from ReLU's kinks (non-zero biases, a small step) H v is the derivative of the
    gradient along v; a stack gives one product per network."""
    sizes = [5, 6, 4, 3]
    X, y = toy_data(sizes, n=9, seed=4)
    net = net_with_biases(sizes, 4)
    theta = flatten(net.params)
    rng = np.random.default_rng(7)
    vs = rng.standard_normal((3, theta.size))
    for v in vs:
        h = 1e-6
        plus = flatten(MLP.gradient(_at(net, theta + h * v), X, y))
        minus = flatten(MLP.gradient(_at(net, theta - h * v), X, y))
        np.testing.assert_allclose(hessian_vector_product(net, v, X, y), (plus - minus) / (2 * h),
                                   rtol=1e-5, atol=1e-7)
    thetas = theta + 0.01 * rng.standard_normal((3, theta.size))
    stacked = hessian_vector_product(net, vs, X, y, theta=thetas)
    for k in range(3):
        np.testing.assert_allclose(stacked[k], hessian_vector_product(net, vs[k], X, y, theta=thetas[k]),
                                   rtol=1e-12, atol=1e-14)


def _at(net, theta):
    twin = net.copy()
    twin.params = {k: v.copy() for k, v in unflatten(theta, net.params).items()}
    return twin


def test_separate_batches_give_separate_gradients():
    """X of shape (m, 1, d): each image's own loss and gradient, as if passed alone."""
    sizes = [5, 4, 3]
    net = net_with_biases(sizes, 1)
    X, y = toy_data(sizes, n=6, seed=1)
    losses, grads = net.loss_and_gradient(net.params, X[:, None, :], y[:, None])
    assert losses.shape == (6,) and grads["W1"].shape == (6, 5, 4) and grads["b1"].shape == (6, 4)
    for i in range(6):
        alone = net.gradient(X[i:i + 1], y[i:i + 1])
        assert losses[i] == pytest.approx(net.loss(X[i:i + 1], y[i:i + 1]), rel=1e-12)
        for key in alone:
            np.testing.assert_allclose(grads[key][i], alone[key], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(flatten(grads, stacked=True).mean(axis=0), flatten(net.gradient(X, y)),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("losses, shape", [
    ([2.3, 1.0, 0.5], "decreases smoothly"),
    ([2.3, 3.0, 1.0, 0.5], "spikes, then trains"),
    ([2.3, 3.0, 2.30], "does not train"),
    ([2.3, 1.0, 1.0], "decreases smoothly"),
    ([2.3, 2.2, 2.1], "does not train"),
    ([2.3, 5e3, 1.0], "diverges"),
    ([2.3, np.nan], "diverges"),
])
def test_loss_shape_names_what_a_run_did(losses, shape):
    assert loss_shape(losses) == shape


# --- figures (matplotlib, Agg) ----------------------------------------------------------------
def test_the_figures_draw_what_they_are_given():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from gdviz import network_plots as npl
    lrs = np.logspace(-3, 0, 4)
    final = {"SGD": np.array([[2.3, 2.3], [0.5, 0.6], [0.2, 0.3], [np.nan, 2.3]]),
             "Adam": np.array([[1.0, 1.1], [0.1, 0.2], [0.3, 0.3], [2.3, 2.3]])}
    fig, axes = npl.plot_lr_sensitivity(lrs, final, chance=np.log(10))
    assert axes.shape == (1, 2) and axes[0, 0].get_title() == "SGD (best η = 0.1)"
    median = axes[0, 0].lines[0].get_ydata()
    np.testing.assert_allclose(median, [2.3, 0.55, 0.25, np.nan])       # a row with a diverged seed is not drawn
    assert axes[0, 1].get_title() == "Adam (best η = 0.01)"
    plt.close(fig)
    curves = {"SGD": np.ones((10, 3)), "Adam": np.full((10, 3), 0.5)}
    fig, axes = npl.plot_loss_curves(curves, window=3)
    np.testing.assert_allclose(axes[0, 1].lines[-1].get_ydata(), 0.5)
    plt.close(fig)
    B = 2 ** np.arange(4)
    ax = npl.plot_gradient_noise(B, 8.0 / B, 8.0 / B)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 8.0 / B)
    plt.close(ax.figure)


def test_smooth_is_a_centred_moving_average():
    from gdviz.network_plots import smooth
    values = np.array([0.0, 3.0, 6.0, 9.0])
    np.testing.assert_allclose(smooth(values, 3), [1.5, 3.0, 6.0, 7.5])
    np.testing.assert_allclose(smooth(np.stack([values, 2 * values], axis=1), 3)[:, 1], [3, 6, 12, 15])


def test_the_explorer_redraws_from_precomputed_curves():
    pytest.importorskip("ipywidgets")
    from gdviz import network_plots as npl
    lrs = np.array([0.01, 0.1, 1.0])
    curves = {"SGD": np.array([[2.0, 2.0, 2.0], [1.0, 0.5, np.nan]]), "Adam": np.ones((2, 3))}
    viewer = npl.curve_explorer(lrs, curves)
    assert viewer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    viewer.lr.value = 2
    assert "diverged" in viewer.title.get_text()
    np.testing.assert_array_equal(viewer.line.get_ydata(), [2.0, np.nan])
    viewer.optimizer.value = "Adam"
    assert viewer.title.get_text() == "Adam, η = 1: final loss 1"


def test_evaluation_in_chunks_equals_one_pass():
    """Scores are computed ROWS samples at a time (small matrix products); the result is the
    same as the whole batch at once, for one network and for a stack."""
    from gdviz.network import ROWS
    sizes = [5, 4, 3]
    X, y = toy_data(sizes, n=2 * ROWS + 7, seed=3)
    for net in (MLP(sizes, seed=1), MLP(sizes, seed=[1, 2])):
        a = X
        for k in range(1, net.n_layers + 1):
            z = a @ net.params[f"W{k}"] + net.params[f"b{k}"]
            a = np.maximum(z, 0) if k < net.n_layers else z
        np.testing.assert_allclose(net.scores(net.params, X), a, rtol=1e-13, atol=1e-15)
        assert net.scores(net.params, X).shape[-2] == len(X)


def test_torch_agrees_on_hessian_vector_products():
    """torch's double backward (autograd's Hessian-vector product) against the R-operator."""
    torch = pytest.importorskip("torch")
    sizes = [8, 6, 5, 3]
    X, y = toy_data(sizes, n=20, seed=6)
    net = net_with_biases(sizes, 6)
    v = np.random.default_rng(2).standard_normal(net.n_params)
    theta = torch.tensor(flatten(net.params), requires_grad=True)

    def loss(t):
        params = {}
        start = 0
        for key, value in net.params.items():
            params[key] = t[start:start + value.size].reshape(value.shape)
            start += value.size
        a = torch.tensor(X)
        for k in range(1, 4):
            a = a @ params[f"W{k}"] + params[f"b{k}"]
            a = torch.relu(a) if k < 3 else a
        return torch.nn.functional.cross_entropy(a, torch.tensor(y))

    _, hv = torch.autograd.functional.hvp(loss, theta, torch.tensor(v))
    np.testing.assert_allclose(hessian_vector_product(net, v, X, y), hv.numpy(), rtol=1e-9, atol=1e-12)
