"""effective_lr, the step per unit of gradient, from each optimizer's formula applied to a state
built from the recurrences here (never from effective_lr itself): Adam's uses the bias-corrected
v̂ = v/(1 − β₂ᵗ), not v."""
import numpy as np
import pytest

import gdviz

G = np.array([[0.5, -2.0], [0.1, 1.0], [-1.5, 0.3], [0.8, -0.05], [2.0, 0.7]])


def moments(b1, b2, k):
    m = v = np.zeros(2)
    for g in G[:k]:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
    return m, v


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_adam_effective_lr_is_eta_over_root_v_hat_plus_eps(name, k):
    lr, b1, b2, eps = 0.3, 0.8, 0.9, 1e-3
    opt = gdviz.get_optimizer(name, lr=lr, beta1=b1, beta2=b2, eps=eps)
    m, v = moments(b1, b2, k)
    expected = lr / (np.sqrt(v / (1 - b2 ** k)) + eps)
    np.testing.assert_allclose(opt.effective_lr({"m": m, "v": v, "step": k}), expected, rtol=1e-14)
    params = {"w": np.zeros(2)}                     # and the state the optimizer builds gives the same
    for g in G[:k]:
        opt.update(params, {"w": g})
    np.testing.assert_allclose(opt.effective_lr(opt.state["w"]), expected, rtol=1e-14)


@pytest.mark.parametrize("name, rho", [("AdaGrad", None), ("RMSprop", 0.7)])
def test_adagrad_and_rmsprop_effective_lr_is_eta_over_root_h_plus_eps(name, rho):
    lr, eps = 0.4, 1e-3
    h = np.zeros(2)
    for g in G:
        h = h + g * g if rho is None else rho * h + (1 - rho) * g * g
    opt = gdviz.get_optimizer(name, lr=lr, eps=eps, **({} if rho is None else {"decay_rate": rho}))
    np.testing.assert_allclose(opt.effective_lr({"h": h, "step": len(G)}), lr / (np.sqrt(h) + eps), rtol=1e-14)


def test_adadelta_effective_lr_is_eta_root_u_plus_eps_over_root_v_plus_eps():
    lr, rho, eps = 2.0, 0.6, 1e-2
    u, v = np.array([0.3, 0.01]), np.array([1.5, 0.2])
    opt = gdviz.Adadelta(lr=lr, rho=rho, eps=eps)
    np.testing.assert_allclose(opt.effective_lr({"u": u, "v": v, "step": 3}),
                               lr * np.sqrt(u + eps) / np.sqrt(v + eps), rtol=1e-14)
