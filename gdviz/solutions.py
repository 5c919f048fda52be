"""Worked solutions to the "write the update yourself" exercises, in the seed's classic style.

Each class is written the way a student would write it (``self.v`` dicts, a loop over the
keys, ``update(params, grads)`` changing the arrays in place), independently of
:mod:`gdviz.optimizers`; ``gdviz.exercises.check_update`` proves each one matches gdviz.
A student sees one with ``gdviz.exercises.solution("momentum")`` (or the exercise's key,
``solution("sgd_step_decay")``); a class here is named like the reference it must match.
A rule needs one here only when an exercise asks students to write it (an ``implement``
exercise in :mod:`gdviz.exercise_bank`, or a notebook's ``check_update(MyX)``); for any other
optimizer ``solution(name)`` points at its class's ``step``.
"""
import numpy as np


class SGD:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]                  # θ ← θ − ηg


class SGDStepDecay:
    def __init__(self, lr=0.1, every=10, factor=0.5):
        self.lr, self.every, self.factor = lr, every, factor
        self.t = 0

    def update(self, params, grads):
        self.t += 1
        lr_t = self.lr * self.factor ** ((self.t - 1) // self.every)   # ηₜ = η γ^⌊(t−1)/T⌋
        for key in params:
            params[key] -= lr_t * grads[key]                             # θ ← θ − ηₜg


class SGDWeightDecay:
    def __init__(self, lr=0.1, weight_decay=0.01):
        self.lr, self.weight_decay = lr, weight_decay

    def update(self, params, grads):
        for key in params:
            g = grads[key] + self.weight_decay * params[key]    # g ← g + δθ
            params[key] -= self.lr * g                           # θ ← θ − ηg


class SGDCosine:
    def __init__(self, lr=0.1, total_steps=100):
        self.lr, self.total_steps = lr, total_steps
        self.t = 0

    def update(self, params, grads):
        self.t += 1
        elapsed = min(self.t - 1, self.total_steps)                          # the cosine ends at T
        lr_t = self.lr * (1 + np.cos(np.pi * elapsed / self.total_steps)) / 2  # ηₜ = η(1 + cos(π(t−1)/T))/2
        for key in params:
            params[key] -= lr_t * grads[key]                                   # θ ← θ − ηₜg


class Momentum:
    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]   # v ← αv − ηg
            params[key] += self.v[key]                                          # θ ← θ + v


class Nesterov:
    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]          # v ← αv − ηg
            params[key] += self.momentum * self.v[key] - self.lr * grads[key]         # θ ← θ + αv − ηg


class AdaGrad:
    def __init__(self, lr=1.0, eps=1e-10):
        self.lr, self.eps = lr, eps
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]                                    # h ← h + g⊙g
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)  # θ ← θ − ηg/(√h + ε)


class RMSprop:
    def __init__(self, lr=0.1, decay_rate=0.99, eps=1e-8):
        self.lr, self.decay_rate, self.eps = lr, decay_rate, eps
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            self.h[key] = self.decay_rate * self.h[key] + (1 - self.decay_rate) * grads[key] ** 2
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)


class CenteredRMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8):
        self.lr, self.decay_rate, self.eps = lr, decay_rate, eps
        self.h = self.g_mean = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(value) for key, value in params.items()}
            self.g_mean = {key: np.zeros_like(value) for key, value in params.items()}
        rho = self.decay_rate
        for key in params:
            g = grads[key]
            self.h[key] = rho * self.h[key] + (1 - rho) * g ** 2                  # h ← ρh + (1−ρ)g⊙g
            self.g_mean[key] = rho * self.g_mean[key] + (1 - rho) * g             # ḡ ← ρḡ + (1−ρ)g
            spread = np.sqrt(self.h[key] - self.g_mean[key] ** 2)                # the running std of g
            params[key] -= self.lr * g / (spread + self.eps)                     # θ ← θ − ηg/(√(h − ḡ²) + ε)


class Adadelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6):
        self.lr, self.rho, self.eps = lr, rho, eps
        self.v = self.u = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
            self.u = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            g = grads[key]
            self.v[key] = self.rho * self.v[key] + (1 - self.rho) * g ** 2
            delta = np.sqrt(self.u[key] + self.eps) / np.sqrt(self.v[key] + self.eps) * g
            self.u[key] = self.rho * self.u[key] + (1 - self.rho) * delta ** 2
            params[key] -= self.lr * delta


class Adam:
    def __init__(self, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(value) for key, value in params.items()}
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        self.t += 1
        for key in params:
            g = grads[key]
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g ** 2
            m_hat = self.m[key] / (1 - self.beta1 ** self.t)
            v_hat = self.v[key] / (1 - self.beta2 ** self.t)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AMSGrad:
    def __init__(self, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m = self.v = self.v_max = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(value) for key, value in params.items()}
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
            self.v_max = {key: np.zeros_like(value) for key, value in params.items()}
        self.t += 1
        for key in params:
            g = grads[key]
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g ** 2
            self.v_max[key] = np.maximum(self.v_max[key], self.v[key])       # the largest v so far
            m_hat = self.m[key] / (1 - self.beta1 ** self.t)
            v_hat = self.v_max[key] / (1 - self.beta2 ** self.t)              # corrected like Adam's v
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    def __init__(self, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = weight_decay

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * self.weight_decay * params[key]   # θ ← θ − ηδθ, before Adam
        super().update(params, grads)

