r"""Other ways the same optimizers are written: the textbook's forms and common mistakes.

None of these is registered (the explorer and the comparison use the torch.optim rules in
:mod:`gdviz.optimizers`); the notebooks run them side by side to show how much the
difference matters, and the exercise checker recognises them to give a precise hint. Each
declares the optimizer it is a form of (``variant_of=``), which lists it in its ``variants``.
"""
from __future__ import annotations

import numpy as np

from .optimizers import AdaGrad, Adam, Momentum, Nesterov

__all__ = ["TextbookAdam", "AdamWithoutBiasCorrection", "NesterovOldOrder",
           "AdaGradEpsInsideRoot", "CLASSIC_SETTINGS", "CLASSIC_START", "CLASSIC_POSITIONS"]


class TextbookAdam(Adam, variant_of=Adam):
    r"""Adam as "Deep Learning from Scratch" writes it: bias correction folded into η.

    .. math::
        \eta_t \leftarrow \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t) \\
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        \theta \leftarrow \theta - \eta_t \, m / (\sqrt{v} + \epsilon)

    With ε = 0 it is exactly torch's Adam; otherwise its ε acts as ε/√(1 − β₂ᵗ) in torch's
    form (3.2e-6 at t = 1 for ε = 1e-7). Shown in ``notebooks/05_adam_adamw.ipynb``.
    """

    summary = "the textbook's Adam: bias correction folded into η"

    def step(self, theta, g, state):
        t = state["step"]
        lr_t = self.lr * np.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)   # ηₜ ← η√(1−β₂ᵗ)/(1−β₁ᵗ)
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g             # m ← β₁m + (1−β₁)g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g         # v ← β₂v + (1−β₂)g⊙g
        return theta - lr_t * state["m"] / (np.sqrt(state["v"]) + self.eps)      # θ ← θ − ηₜm/(√v + ε)


class AdamWithoutBiasCorrection(Adam, variant_of=Adam):
    r"""Adam with the bias corrections left out: m and v start at 0, so early steps are off.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        \theta \leftarrow \theta - \eta \, m / (\sqrt{v} + \epsilon)

    Its first step is (1 − β₁)/√(1 − β₂) ≈ 3.16 times Adam's with the default betas.
    Shown in ``notebooks/05_adam_adamw.ipynb``.
    """

    summary = "Adam without bias correction"

    def step(self, theta, g, state):
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g         # m ← β₁m + (1−β₁)g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g     # v ← β₂v + (1−β₂)g⊙g
        return theta - self.lr * state["m"] / (np.sqrt(state["v"]) + self.eps)   # θ ← θ − ηm/(√v + ε)


class NesterovOldOrder(Momentum, variant_of=Nesterov):
    r"""An older textbook Nesterov that updates v *before* using it: not NAG.

    .. math::
        v \leftarrow \alpha v - \eta g \\
        \theta \leftarrow \theta + \alpha^2 v - (1 + \alpha) \eta g

    The second line is NAG written with the old v; with the new v, in terms of the old one the
    step is α³v − (1 + α + α²)ηg instead of NAG's α²v − (1 + α)ηg, and the first step is
    (1 + α + α²)/(1 + α) ≈ 1.43 times NAG's at α = 0.9.
    Shown in ``notebooks/02_momentum_nesterov.ipynb``.
    """

    summary = "an older Nesterov order that is not NAG"

    def step(self, theta, g, state):
        state["v"] = self.momentum * state["v"] - self.lr * g                                   # v ← αv − ηg
        return theta + self.momentum ** 2 * state["v"] - (1 + self.momentum) * self.lr * g      # θ ← θ + α²v − (1+α)ηg


class AdaGradEpsInsideRoot(AdaGrad, variant_of=AdaGrad):
    r"""AdaGrad as many slides write it, with ε inside the square root.

    .. math::
        h \leftarrow h + g \odot g \\
        \theta \leftarrow \theta - \eta \, g / \sqrt{h + \epsilon}

    With ε = 1e-7 and tiny gradients this caps the first step at η|g|/√ε instead of ≈ η.
    Shown in ``notebooks/03_adagrad.ipynb``.
    """

    summary = "AdaGrad with ε inside the square root"

    def step(self, theta, g, state):
        state["h"] = state["h"] + g * g                                   # h ← h + g⊙g
        return theta - self.lr * g / np.sqrt(state["h"] + self.eps)       # θ ← θ − ηg/√(h + ε)



#: The settings of the figure in "Deep Learning from Scratch", ch. 6 (``ch06/optimizer_compare_naive.py``):
#: f = x²/20 + y² from (−7, 2), the book's learning rates and its hard-coded ε = 1e-7; its
#: loop records 30 positions θ₀ … θ₂₉, one before each update.
CLASSIC_SETTINGS: dict[str, dict[str, float]] = {
    "SGD": {"lr": 0.95},
    "Momentum": {"lr": 0.1, "momentum": 0.9},
    "AdaGrad": {"lr": 1.5, "eps": 1e-7},
    "Adam": {"lr": 0.3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7},
}
CLASSIC_START: tuple[float, float] = (-7.0, 2.0)
CLASSIC_POSITIONS = 30
