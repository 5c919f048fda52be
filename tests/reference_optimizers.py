"""Independent reference implementations that the tests hold gdviz's optimizers to.

Nothing here imports gdviz. Two families, both on dicts of float64 NumPy arrays:

* ``Torch*``: the algorithms of torch.optim, written from its documentation's "Algorithm"
  boxes with torch's own names (``momentum_buffer`` = b, ``sum``, ``square_avg``,
  ``acc_delta``, ``exp_avg``, ``exp_avg_sq``, ``bias_correction1``/``2``) and, where the docs
  and torch's code agree, torch's order of operations (e.g. Adam's
  ``denom = sqrt(exp_avg_sq)/sqrt(bias_correction2) + eps`` and ``step_size = lr/bias_correction1``).
  Options gdviz does not expose (dampening, lr_decay, centered, maximize, ...) stay at torch's
  defaults and are left out.
* ``Paper*``: rules that torch.optim does not have, written from their paper's algorithm box
  (:class:`PaperLion`).
* ``Textbook*``: the rules of "Deep Learning from Scratch" (``common/optimizer.py``), with its
  hard-coded 1e-7 and its folded Adam; :class:`TextbookNesterov` is the 2021 order and
  :class:`TextbookNesterovOldOrder` the earlier one.

:data:`REFERENCES` says, for each gdviz optimizer name, which reference it must equal, how the
reference's state maps onto gdviz's ``opt.state`` names, and which real ``torch.optim`` class
(with which keyword arguments) computes the same thing. A newly registered gdviz optimizer
needs an entry here; the tests fail, naming this file, until it has one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


class _Reference:
    """Per-parameter state kept the way torch keeps it: ``self.state[name]`` is a dict."""

    def __init__(self):
        self.state: dict[str, dict] = {}

    def step(self, params: dict, grads: dict) -> None:
        for key, param in params.items():
            state = self.state.setdefault(key, {"step": 0})
            state["step"] += 1
            param[...] = self._update(np.asarray(param, dtype=np.float64),
                                      np.asarray(grads[key], dtype=np.float64), state)

    def _update(self, param, grad, state):
        raise NotImplementedError


# --- torch.optim, from its documented algorithms --------------------------------------------
class TorchSGD(_Reference):
    """torch.optim.SGD (dampening τ = 0, weight decay 0).

    if μ ≠ 0: b_t = μ b_{t−1} + g_t for t > 1, b_1 = g_t;
              g_t = g_t + μ b_t if nesterov else b_t
    θ_t = θ_{t−1} − γ g_t

    ``momentum=None`` is plain SGD. A momentum of 0 still keeps b (then b_t = g_t, and the
    step is the same), so that gdviz's velocity v = −η b can be checked for every μ.
    """

    def __init__(self, lr, momentum=None, nesterov=False):
        super().__init__()
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov

    def _update(self, param, grad, state):
        if self.momentum is not None:
            if "momentum_buffer" not in state:
                buf = grad.copy()                                   # b_1 = g_1
            else:
                buf = self.momentum * state["momentum_buffer"] + grad
            state["momentum_buffer"] = buf
            grad = grad + self.momentum * buf if self.nesterov else buf
        return param - self.lr * grad


class TorchAdagrad(_Reference):
    """torch.optim.Adagrad (lr_decay 0, so the step's γ̃ is γ; initial_accumulator_value 0).

    state_sum_t = state_sum_{t−1} + g_t²;  θ_t = θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)
    """

    def __init__(self, lr, eps):
        super().__init__()
        self.lr, self.eps = lr, eps

    def _update(self, param, grad, state):
        state["sum"] = state.get("sum", np.zeros_like(param)) + grad * grad
        std = np.sqrt(state["sum"]) + self.eps
        return param - self.lr * grad / std


class TorchRMSprop(_Reference):
    """torch.optim.RMSprop (momentum 0, centered False).

    v_t = α v_{t−1} + (1 − α) g_t²;  θ_t = θ_{t−1} − γ g_t / (√v_t + ε)
    """

    def __init__(self, lr, alpha, eps):
        super().__init__()
        self.lr, self.alpha, self.eps = lr, alpha, eps

    def _update(self, param, grad, state):
        square_avg = state.get("square_avg", np.zeros_like(param))
        state["square_avg"] = self.alpha * square_avg + (1 - self.alpha) * grad * grad
        avg = np.sqrt(state["square_avg"]) + self.eps
        return param - self.lr * grad / avg


class TorchAdadelta(_Reference):
    """torch.optim.Adadelta.

    v_t = ρ v_{t−1} + (1 − ρ) g_t²
    Δx_t = √(u_{t−1} + ε) / √(v_t + ε) · g_t
    u_t = ρ u_{t−1} + (1 − ρ) Δx_t²
    θ_t = θ_{t−1} − γ Δx_t
    """

    def __init__(self, lr, rho, eps):
        super().__init__()
        self.lr, self.rho, self.eps = lr, rho, eps

    def _update(self, param, grad, state):
        square_avg = state.get("square_avg", np.zeros_like(param))
        acc_delta = state.get("acc_delta", np.zeros_like(param))
        square_avg = self.rho * square_avg + (1 - self.rho) * grad * grad
        std = np.sqrt(square_avg + self.eps)
        delta = np.sqrt(acc_delta + self.eps) / std * grad
        acc_delta = self.rho * acc_delta + (1 - self.rho) * delta * delta
        state["square_avg"], state["acc_delta"] = square_avg, acc_delta
        return param - self.lr * delta


class TorchAdam(_Reference):
    """torch.optim.Adam (amsgrad False, weight decay 0).

    m_t = β₁ m_{t−1} + (1 − β₁) g_t;  v_t = β₂ v_{t−1} + (1 − β₂) g_t²
    θ_t = θ_{t−1} − γ m̂_t / (√v̂_t + ε), computed as torch does:
    step_size = γ / bias_correction1, denom = √v_t / √bias_correction2 + ε.
    """

    def __init__(self, lr, betas, eps):
        super().__init__()
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps

    def _decay(self, param):
        return param

    def _update(self, param, grad, state):
        param = self._decay(param)
        exp_avg = state.get("exp_avg", np.zeros_like(param))
        exp_avg_sq = state.get("exp_avg_sq", np.zeros_like(param))
        exp_avg = self.beta1 * exp_avg + (1 - self.beta1) * grad
        exp_avg_sq = self.beta2 * exp_avg_sq + (1 - self.beta2) * grad * grad
        state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
        step = state["step"]
        bias_correction1 = 1 - self.beta1 ** step
        bias_correction2 = 1 - self.beta2 ** step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = np.sqrt(bias_correction2)
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + self.eps
        return param - step_size * exp_avg / denom


class TorchAdamW(TorchAdam):
    """torch.optim.AdamW: θ_t ← θ_{t−1} − γλθ_{t−1} (param.mul_(1 − lr·wd)), then Adam."""

    def __init__(self, lr, betas, eps, weight_decay):
        super().__init__(lr, betas, eps)
        self.weight_decay = weight_decay

    def _decay(self, param):
        return param * (1 - self.lr * self.weight_decay)


class TorchNAdam(_Reference):
    """torch.optim.NAdam (weight decay 0).

    μ_t = β₁(1 − ½·0.96^{tψ}),  μ_{t+1} = β₁(1 − ½·0.96^{(t+1)ψ})
    m_t = β₁ m_{t−1} + (1 − β₁) g_t;  v_t = β₂ v_{t−1} + (1 − β₂) g_t²
    m̂_t = μ_{t+1} m_t / (1 − Π_{i≤t+1} μ_i) + (1 − μ_t) g_t / (1 − Π_{i≤t} μ_i)
    v̂_t = v_t / (1 − β₂ᵗ);  θ_t = θ_{t−1} − γ m̂_t / (√v̂_t + ε)

    computed as torch does: ``mu_product`` (Π μ_i, starting at 1) in the state, two
    ``addcdiv`` steps over ``denom = √(v_t/bias_correction2) + ε``.
    """

    def __init__(self, lr, betas, eps, momentum_decay):
        super().__init__()
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.momentum_decay = momentum_decay

    def _update(self, param, grad, state):
        step = state["step"]
        bias_correction2 = 1 - self.beta2 ** step
        mu = self.beta1 * (1.0 - 0.5 * 0.96 ** (step * self.momentum_decay))
        mu_next = self.beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * self.momentum_decay))
        state["mu_product"] = state.get("mu_product", 1.0) * mu
        exp_avg = self.beta1 * state.get("exp_avg", np.zeros_like(param)) + (1 - self.beta1) * grad
        exp_avg_sq = (self.beta2 * state.get("exp_avg_sq", np.zeros_like(param))
                      + (1 - self.beta2) * grad * grad)
        state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
        denom = np.sqrt(exp_avg_sq / bias_correction2) + self.eps
        mu_product_next = state["mu_product"] * mu_next
        param = param - self.lr * (1.0 - mu) / (1.0 - state["mu_product"]) * grad / denom
        return param - self.lr * mu_next / (1.0 - mu_product_next) * exp_avg / denom


class TorchRAdam(_Reference):
    """torch.optim.RAdam (weight decay 0).

    m_t = β₁ m_{t−1} + (1 − β₁) g_t;  v_t = β₂ v_{t−1} + (1 − β₂) g_t²;  m̂_t = m_t/(1 − β₁ᵗ)
    ρ_∞ = 2/(1 − β₂) − 1;  ρ_t = ρ_∞ − 2t β₂ᵗ/(1 − β₂ᵗ)
    if ρ_t > 5: l_t = √(1 − β₂ᵗ)/(√v_t + ε),
                r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)),
                θ_t = θ_{t−1} − γ m̂_t r_t l_t
    else:       θ_t = θ_{t−1} − γ m̂_t
    """

    def __init__(self, lr, betas, eps):
        super().__init__()
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps

    def _update(self, param, grad, state):
        step = state["step"]
        exp_avg = self.beta1 * state.get("exp_avg", np.zeros_like(param)) + (1 - self.beta1) * grad
        exp_avg_sq = (self.beta2 * state.get("exp_avg_sq", np.zeros_like(param))
                      + (1 - self.beta2) * grad * grad)
        state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
        bias_correction1 = 1 - self.beta1 ** step
        bias_correction2 = 1 - self.beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - self.beta2) - 1
        rho_t = rho_inf - 2 * step * self.beta2 ** step / bias_correction2
        if rho_t > 5.0:
            adaptive_lr = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + self.eps)
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            return param - bias_corrected_exp_avg * self.lr * adaptive_lr * rect
        return param - bias_corrected_exp_avg * self.lr


class TorchAdamax(_Reference):
    """torch.optim.Adamax (weight decay 0).

    m_t = β₁ m_{t−1} + (1 − β₁) g_t;  u_t = max(β₂ u_{t−1}, |g_t| + ε)
    θ_t = θ_{t−1} − γ m_t / ((1 − β₁ᵗ) u_t)
    """

    def __init__(self, lr, betas, eps):
        super().__init__()
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps

    def _update(self, param, grad, state):
        exp_avg = self.beta1 * state.get("exp_avg", np.zeros_like(param)) + (1 - self.beta1) * grad
        exp_inf = np.maximum(self.beta2 * state.get("exp_inf", np.zeros_like(param)),
                             np.abs(grad) + self.eps)
        state["exp_avg"], state["exp_inf"] = exp_avg, exp_inf
        clr = self.lr / (1 - self.beta1 ** state["step"])
        return param - clr * exp_avg / exp_inf


# --- papers -----------------------------------------------------------------------------------
class PaperLion(_Reference):
    """Lion, Chen et al., "Symbolic Discovery of Optimization Algorithms" (2023), Algorithm 2:

    c_t = β₁ m_{t−1} + (1 − β₁) g_t
    θ_t = θ_{t−1} − η_t (sign(c_t) + λ θ_{t−1})
    m_t = β₂ m_{t−1} + (1 − β₂) g_t
    """

    def __init__(self, lr, beta1, beta2, weight_decay):
        super().__init__()
        self.lr, self.beta1, self.beta2, self.weight_decay = lr, beta1, beta2, weight_decay

    def _update(self, param, grad, state):
        m = state.get("exp_avg", np.zeros_like(param))
        c = self.beta1 * m + (1 - self.beta1) * grad
        param = param - self.lr * (np.sign(c) + self.weight_decay * param)
        state["exp_avg"] = self.beta2 * m + (1 - self.beta2) * grad
        return param


# --- "Deep Learning from Scratch", common/optimizer.py ---------------------------------------
class _Textbook:
    """The textbook's face: update(params, grads) in place; the arrays named in ``state_names``
    start as zeros on the first call (``self.v[key]``, ``self.h[key]``, ...)."""

    state_names: tuple = ()

    def __init__(self, lr):
        self.lr = lr
        self.initialized = False

    def update(self, params, grads):
        if not self.initialized:
            for name in self.state_names:
                setattr(self, name, {key: np.zeros_like(value) for key, value in params.items()})
            self.initialized = True
        self.before_all()
        for key in params:
            self.rule(params, grads, key)

    def before_all(self):
        pass


class TextbookSGD(_Textbook):
    def rule(self, params, grads, key):
        params[key] -= self.lr * grads[key]


class TextbookMomentum(_Textbook):
    state_names = ("v",)

    def __init__(self, lr, momentum=0.9):
        super().__init__(lr)
        self.momentum = momentum

    def rule(self, params, grads, key):
        self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
        params[key] += self.v[key]


class TextbookNesterov(TextbookMomentum):
    """The 2021 order: θ moves with the old v, then v is updated (equals NAG)."""

    def rule(self, params, grads, key):
        params[key] += self.momentum * self.momentum * self.v[key]
        params[key] -= (1 + self.momentum) * self.lr * grads[key]
        self.v[key] *= self.momentum
        self.v[key] -= self.lr * grads[key]


class TextbookNesterovOldOrder(TextbookMomentum):
    """The order before 2021: v is updated first, then θ moves with the new v (not NAG)."""

    def rule(self, params, grads, key):
        self.v[key] *= self.momentum
        self.v[key] -= self.lr * grads[key]
        params[key] += self.momentum * self.momentum * self.v[key]
        params[key] -= (1 + self.momentum) * self.lr * grads[key]


class TextbookAdaGrad(_Textbook):
    state_names = ("h",)

    def rule(self, params, grads, key):
        self.h[key] += grads[key] * grads[key]
        params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class TextbookRMSprop(_Textbook):
    state_names = ("h",)

    def __init__(self, lr, decay_rate=0.99):
        super().__init__(lr)
        self.decay_rate = decay_rate

    def rule(self, params, grads, key):
        self.h[key] *= self.decay_rate
        self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
        params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class TextbookAdam(_Textbook):
    """The folded form: lr_t = lr √(1 − β₂ᵗ)/(1 − β₁ᵗ); θ ← θ − lr_t m/(√v + 1e-7).

    The textbook hard-codes the 1e-7; ``eps`` exists so that the folded form itself (ε = 0)
    can be compared with torch's.
    """

    state_names = ("m", "v")

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-7):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.iter = 0

    def before_all(self):
        self.iter += 1
        self.lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)

    def rule(self, params, grads, key):
        self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
        self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
        params[key] -= self.lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


# --- which reference each gdviz optimizer must equal ------------------------------------------
@dataclass(frozen=True)
class Reference:
    """How to hold one gdviz optimizer to its reference.

    ``make(hp)`` builds the reference from gdviz's hyperparameters ``{name: value}``;
    ``state`` maps each of gdviz's state names to a function (reference state, hp) → the
    array gdviz must hold; ``torch`` is ``(class name in torch.optim, hp → keyword arguments)``,
    or ``None`` when torch.optim has no such optimizer (say so explicitly).
    """

    make: Callable[[dict], _Reference]
    state: dict[str, Callable[[dict, dict], np.ndarray]]
    torch: tuple[str, Callable[[dict], dict]] | None


def _velocity(ref_state, hp):
    return -hp["lr"] * ref_state["momentum_buffer"]                 # v = −η b


def _adam_kwargs(hp):
    return dict(lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"])


_ADAM_STATE = {"m": lambda s, hp: s["exp_avg"], "v": lambda s, hp: s["exp_avg_sq"]}

REFERENCES: dict[str, Reference] = {
    "SGD": Reference(
        make=lambda hp: TorchSGD(hp["lr"]), state={},
        torch=("SGD", lambda hp: dict(lr=hp["lr"]))),
    "Momentum": Reference(
        make=lambda hp: TorchSGD(hp["lr"], momentum=hp["momentum"]), state={"v": _velocity},
        torch=("SGD", lambda hp: dict(lr=hp["lr"], momentum=hp["momentum"]))),
    "Nesterov": Reference(
        make=lambda hp: TorchSGD(hp["lr"], momentum=hp["momentum"], nesterov=True),
        state={"v": _velocity},
        # torch refuses nesterov=True with μ = 0, where NAG is plain SGD anyway
        torch=("SGD", lambda hp: dict(lr=hp["lr"], momentum=hp["momentum"], nesterov=hp["momentum"] > 0))),
    "AdaGrad": Reference(
        make=lambda hp: TorchAdagrad(hp["lr"], hp["eps"]),
        state={"h": lambda s, hp: s["sum"]},
        torch=("Adagrad", lambda hp: dict(lr=hp["lr"], eps=hp["eps"]))),
    "RMSprop": Reference(
        make=lambda hp: TorchRMSprop(hp["lr"], hp["decay_rate"], hp["eps"]),
        state={"h": lambda s, hp: s["square_avg"]},
        torch=("RMSprop", lambda hp: dict(lr=hp["lr"], alpha=hp["decay_rate"], eps=hp["eps"]))),
    "Adadelta": Reference(
        make=lambda hp: TorchAdadelta(hp["lr"], hp["rho"], hp["eps"]),
        state={"v": lambda s, hp: s["square_avg"], "u": lambda s, hp: s["acc_delta"]},
        torch=("Adadelta", lambda hp: dict(lr=hp["lr"], rho=hp["rho"], eps=hp["eps"]))),
    "Adam": Reference(
        make=lambda hp: TorchAdam(**_adam_kwargs(hp)), state=_ADAM_STATE,
        torch=("Adam", _adam_kwargs)),
    "AdamW": Reference(
        make=lambda hp: TorchAdamW(**_adam_kwargs(hp), weight_decay=hp["weight_decay"]),
        state=_ADAM_STATE,
        torch=("AdamW", lambda hp: dict(_adam_kwargs(hp), weight_decay=hp["weight_decay"]))),
    "NAdam": Reference(
        make=lambda hp: TorchNAdam(**_adam_kwargs(hp), momentum_decay=hp["momentum_decay"]),
        state={**_ADAM_STATE,
               # torch keeps one Π μ_i per parameter tensor; gdviz one per coordinate
               "mu_product": lambda s, hp: np.broadcast_to(s["mu_product"], np.shape(s["exp_avg"]))},
        torch=("NAdam", lambda hp: dict(_adam_kwargs(hp), momentum_decay=hp["momentum_decay"]))),
    "RAdam": Reference(
        make=lambda hp: TorchRAdam(**_adam_kwargs(hp)), state=_ADAM_STATE,
        torch=("RAdam", _adam_kwargs)),
    "Adamax": Reference(
        make=lambda hp: TorchAdamax(**_adam_kwargs(hp)),
        state={"m": lambda s, hp: s["exp_avg"], "u": lambda s, hp: s["exp_inf"]},
        torch=("Adamax", _adam_kwargs)),
    "Lion": Reference(
        make=lambda hp: PaperLion(hp["lr"], hp["beta1"], hp["beta2"], hp["weight_decay"]),
        state={"m": lambda s, hp: s["exp_avg"]},
        torch=None),                        # torch.optim has no Lion: the paper is the reference
}


def reference_for(name: str) -> Reference:
    """The entry for gdviz optimizer ``name``, or a failure that says what to add, and where."""
    if name not in REFERENCES:
        raise LookupError(
            f"no reference implementation for {name} in tests/reference_optimizers.py: write one "
            f"from torch.optim's documented algorithm (or another independent source) and add "
            f"{name!r} to REFERENCES there")
    return REFERENCES[name]
