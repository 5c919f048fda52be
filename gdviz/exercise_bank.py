"""The exercises of every notebook, registered with :mod:`gdviz.exercises` (read its docstring).

One section per notebook. Each answer is computed by gdviz (a run, :mod:`gdviz.theory`); the
tests compare it with a closed form written independently in ``tests/test_exercises.py``.
Hints never contain the answer; a mistake's text says what the wrong value probably means
without saying the right one. Reference rules that are not registered optimizers (e.g. SGD
with a step-decay schedule) are defined here, beside their exercise.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import theory
from .exercises import implement, prediction, question
from .hyperparams import LR, WEIGHT_DECAY, Hyperparameter
from .optimizers import SGD, Adadelta, Adam, AdamW, Momentum, RMSprop
from .trajectory import run, sweep

NB1, NB2, NB3 = "01_gradient_descent.ipynb", "02_momentum_nesterov.ipynb", "03_adagrad.ipynb"
NB4, NB5, NB6 = "04_rmsprop_adadelta.ipynb", "05_adam_adamw.ipynb", "06_comparison.ipynb"
NB7 = "07_real_network.ipynb"


# --- 01 gradient descent ------------------------------------------------------------------------
def _quadratic_limit(a: float, c: float) -> float:
    """2/λ_max for f = a·x² + c·y² (Hessian diag(2a, 2c))."""
    return 2.0 / max(np.linalg.eigvalsh(np.diag([2.0 * a, 2.0 * c])))


@question("quadratic_lr_limit", "What is the largest learning rate η for which gradient descent "
          "converges on f = 1.5x² + 0.05y²?",
          "The Hessian is diag(3, 0.1): λ_max = 3, so η must stay below 2/λ_max = 2/3.", NB1,
          hints=("Which curvature limits the step: the steep direction or the flat one? A step is "
                 "stable when the factor (1 − ηλ) stays between −1 and 1 for every curvature λ.",
                 "η < 2/λ_max, where the curvatures λ are the second derivatives: for a·x² that is 2a."),
          mistakes=((2 / 1.5, "That uses λ = 1.5, the coefficient of x²: the curvature of a·x² is its second "
                     "derivative 2a (the forgotten factor 2)."),
                    (2 / 0.1, "That is 2/λ_min: the flat direction does not limit the step, the steep one does."),
                    (1 / 3.0, "That is 1/λ_max: the factor (1 − ηλ) may go down to −1 before the run "
                              "diverges, which allows twice that.")))
def _quadratic_lr_limit():
    return _quadratic_limit(1.5, 0.05)


@question("gd_x10", "Gradient descent with η = 0.5 on x²/20 + y² starts at (−7, 2). What is x after "
          "10 steps?", "Each step multiplies x by (1 − η/10) = 0.95, so x₁₀ = 0.95¹⁰ · (−7).", NB1,
          hints=("On this surface x and y evolve separately: every step multiplies x by the same "
                 "factor, whatever y does.",
                 "The gradient in x is x/10, so x_{k+1} = (1 − η/10)·x_k and x_k = (1 − η/10)ᵏ·x₀."),
          mistakes=((0.975 ** 10 * -7, "That uses the gradient x/20: the derivative of x²/20 is x/10 "
                                       "(the forgotten factor 2)."),
                    (0.95 ** 9 * -7, "That is x after 9 steps: x₀ is the start, x₁₀ has ten factors."),
                    (0.95 ** 11 * -7, "That is x after 11 steps: x₀ is the start, x₁₀ has ten factors."),
                    (0.0, "That is y's factor (1 − 2η) = 0 applied to x: x has its own factor, 1 − η/10.")))
def _gd_x10():
    return float(run("SGD", "elongated_bowl", steps=10, lr=0.5).points[10, 0])


EVERY = Hyperparameter("every", "T", "T", "the learning rate is multiplied by γ every T steps",
                       low=1.0, slider=(1.0, 100.0))
FACTOR = Hyperparameter("factor", "γ", r"\gamma", "the factor that multiplies the learning rate every T steps",
                        low=0.0, high=1.0, low_closed=False, high_closed=True, slider=(0.1, 1.0))


class SGDStepDecay(SGD, register=False):
    r"""SGD with a step-decay schedule: η is multiplied by γ every T steps (torch's StepLR).

    .. math::
        \eta_t \leftarrow \eta \, \gamma^{\lfloor (t - 1) / T \rfloor} \\
        \theta \leftarrow \theta - \eta_t \, g

    The reference of the exercise "sgd_step_decay" (notebook 1); ``gdviz.run(..., schedule=
    gdviz.schedules.step(T, γ))`` steps the same way with any optimizer.
    """

    hyperparameters = (LR.given(0.1), EVERY.given(10), FACTOR.given(0.5))
    summary = "SGD whose η is multiplied by γ every T steps"

    def step(self, theta, g, state):
        lr_t = self.lr * self.factor ** ((state["step"] - 1) // self.every)    # ηₜ ← η γ^⌊(t−1)/T⌋
        return theta - lr_t * g                                                  # θ ← θ − ηₜ g


class _DecayOneStepEarly(SGDStepDecay, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * self.factor ** (state["step"] // self.every) * g


class _NoDecay(SGDStepDecay, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * g


class _DecayEveryStep(SGDStepDecay, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * self.factor ** (state["step"] - 1) * g


implement("sgd_step_decay", SGDStepDecay,
          "Write SGD with a step-decay schedule: steps 1 … T use η, steps T+1 … 2T use γη, then γ²η, ...",
          NB1, settings={"lr": 0.05, "every": 3, "factor": 0.7},
          hints=("Count the steps yourself (e.g. self.t, starting at 0, plus 1 at every update) and work "
                 "out this step's learning rate from the count before you move θ.",
                 "η_t = η·γ^⌊(t − 1)/T⌋ for t = 1, 2, … (in Python: (t - 1) // T), then θ ← θ − η_t·g."),
          mistakes=((_DecayOneStepEarly, "Your η drops one step too early: step T must still use the "
                                         "undecayed η (count t from 1 and use ⌊(t − 1)/T⌋)."),
                    (_DecayEveryStep, "Your η is multiplied by γ at every step: it should change only "
                                      "every T steps."),
                    (_NoDecay, "Your class never changes η: it is plain SGD. Multiply η by γ every T steps.")))


@prediction("divergence_speed", "η = 1.05 is just above the stability limit η < 1 of x²/20 + y². "
            "When does gdviz report that the run has left the picture?",
            "The factor across the valley is 1 − 2η = −1.1: each bounce is only 10% larger than the "
            "last, so |y| = 2 · 1.1ᵏ needs dozens of steps to pass the edge of gdviz's box, |θ| = 1000.",
            NB1, choices=("within 5 steps", "after dozens of steps", "never"),
            mistakes=(("within 5 steps", "Divergence just above the limit is slow: a factor of 1.1 per "
                                         "step takes a while to add up."),
                      ("never", "Any factor larger than 1 in size makes a geometric sequence grow "
                                "without bound; it only takes time.")))
def _divergence_speed():
    at = run("SGD", "elongated_bowl", steps=200, lr=1.05).diverged_at
    return "never" if at is None else "within 5 steps" if at <= 5 else "after dozens of steps"


def _settled_loss_theory(lr: float, sigma: float = 1.0) -> float:
    """E[f] once settled, for SGD with N(0, σ²) gradient noise on x²/20 + y²."""
    return lr * sigma ** 2 / 2 * sum(1 / (2 - lr * lam) for lam in theory.eigenvalues("elongated_bowl"))


@prediction("noise_half_eta", "SGD with noisy gradients (σ fixed) hovers around the minimum of "
            "x²/20 + y². Halve η from 0.2 to 0.1: the settled average loss becomes about what "
            "fraction of what it was?",
            "Each kick is ησ, so a step adds η²σ² of variance; but the pull back, a factor (1 − ηλ), "
            "also weakens with η and removes only about 2ηλ of it. The balance is a variance "
            "∝ ησ²/λ: the loss is proportional to η, and halving η halves it.", NB1,
            choices=("the same", "half", "a quarter"),
            mistakes=(("a quarter", "A quarter is what you get if the cloud's size were proportional "
                                    "to η (the size of a kick); but a smaller η also pulls back more "
                                    "weakly, so the cloud shrinks less than that."),
                      ("the same", "The noise σ is the same, but its kicks ησ are not.")))
def _noise_half_eta():
    ratio = _settled_loss_theory(0.1) / _settled_loss_theory(0.2)
    return min(("the same", "half", "a quarter"), key=lambda c: abs(ratio - {"the same": 1.0, "half": 0.5,
                                                                            "a quarter": 0.25}[c]))


# --- 02 momentum and Nesterov -----------------------------------------------------------------------
@question("momentum_effective_lr", "With η = 0.03 and α = 0.8, how large is momentum's effective "
          "step size once the velocity has built up along a constant slope?",
          "Along a constant gradient v settles where v = αv − ηg, i.e. v = −ηg/(1 − α) = −0.15g: "
          "five times a plain step.", NB2,
          hints=("On a constant slope the velocity stops changing: the v that comes out of the update "
                 "is the v that went in.",
                 "Solve v = αv − ηg for v; the step is v, so the effective learning rate is η/(1 − α)."),
          mistakes=((0.03 * (1 - 0.8), "That multiplies η by (1 − α); the velocity piles up, so η is "
                                       "divided by (1 − α)."),
                    (0.03 / 0.8, "That divides by α; the friction is 1 − α."),
                    (0.03 * 0.8, "That is one decayed step, αη; the velocity keeps all past steps.")))
def _momentum_effective_lr():
    return 0.03 / (1 - 0.8)


@question("momentum_lr_limit", "Heavy-ball momentum with α = 0.6 on x²/20 + y²: what is the largest "
          "stable η?", "Momentum is stable for ηλ_max < 2(1 + α): η < 2 · 1.6 / 2.", NB2,
          hints=("Momentum raises gradient descent's limit 2/λ_max by a factor that grows with α; the "
                 "steep direction (λ_max = 2) still decides.",
                 "η < 2(1 + α)/λ_max."),
          mistakes=((1.0, "That is gradient descent's limit 2/λ_max: momentum raises it by (1 + α)."),
                    (0.8, "That is (1 + α)/λ_max: the limit has a factor 2, as for gradient descent."),
                    (32.0, "That uses λ_min: the steep direction, λ_max = 2, limits the step."),
                    (2 / 2 / (1 - 0.6), "That divides by (1 − α), the effective step: stability needs "
                                       "(1 + α) instead.")))
def _momentum_lr_limit():
    return float(theory.momentum_lr_limit(0.6, "elongated_bowl"))


implement("nesterov", "Nesterov",
          "Write Nesterov's accelerated gradient in torch's form: update v like momentum, then move "
          "θ by the step momentum would take next.", NB2,
          hints=("The velocity update is momentum's. The move is not θ ← θ + v: it looks one step "
                 "ahead, using the new velocity once more decayed by α, plus the gradient step.",
                 "v ← αv − ηg, then θ ← θ + αv − ηg (with the v you just updated)."),
          mistakes=((Momentum, "Your class is heavy-ball momentum (θ ← θ + v): the look-ahead is "
                               "missing; move by αv − ηg with the new v."),))


@prediction("momentum_slippery", "Momentum with η = 0.1 on x²/20 + y², 100 steps from (−7, 2): with "
            "α = 0.99 instead of 0.9, will the final loss be below or above 0.01?",
            "With α = 0.99 only 1% of the velocity is lost per step: the ball rolls through the minimum "
            "and back for hundreds of steps (its swing shrinks like √α ≈ 0.995 per step).", NB2,
            choices=("below", "above"),
            mistakes=(("below", "More momentum is not always faster: with almost no friction the ball "
                                "overshoots again and again."),))
def _momentum_slippery():
    return "below" if run("Momentum", "elongated_bowl", steps=100, lr=0.1, momentum=0.99).final_loss < 0.01 \
        else "above"


# --- 03 AdaGrad ------------------------------------------------------------------------------------
@question("adagrad_first_point", "AdaGrad with η = 0.7 (ε ≈ 0) starts at (3, −5) on x²/20 + y². "
          "Where is it after the first step? Answer with the point (x, y).",
          "At the first step h = g², so the step is ηg/|g| = η·sign(g) in every coordinate: "
          "(3 − 0.7, −5 + 0.7).", NB3, rtol=1e-3,
          hints=("After one step h holds one squared gradient per coordinate. What is g/√(g²)?",
                 "θ₁ = θ₀ − η·g/√(g²) = θ₀ − η·sign(g), coordinate by coordinate."),
          mistakes=(((3 - 0.7 * 0.3, -5 + 0.7 * 10), "That is gradient descent's step −ηg: AdaGrad "
                                                      "divides each coordinate by √h = |g|."),
                    ((3 + 0.7, -5 - 0.7), "That moves up the slope: the step is −η·sign(g).")))
def _adagrad_first_point():
    x, y = run("AdaGrad", "elongated_bowl", start=(3, -5), steps=1, lr=0.7, eps=1e-10).points[1]
    return (float(x), float(y))


@question("adagrad_step_k", "AdaGrad with η = 0.5 meets the same gradient g at every step. How long "
          "is its step at step 400, in units of sign(g)?",
          "After k equal gradients h = k·g², so the step is ηg/(√k |g|) = η/√k = 0.5/20: it dies away "
          "like 1/√k.", NB3,
          hints=("h adds g² at every step: after k equal gradients, what is h, and what is √h?",
                 "h = k·g², so the step is η·g/√(k·g²) = η/√k."),
          mistakes=((0.5 / 400, "That is η/k: the step divides by √h = √k·|g|, so it falls like "
                                "1/√k, not 1/k."),
                    (0.5, "That is the first step: h keeps growing, so later steps are shorter.")))
def _adagrad_step_k():
    from .optimizers import AdaGrad
    opt, params = AdaGrad(lr=0.5, eps=0.0), {"w": np.zeros(1)}
    for _ in range(400):
        before = float(params["w"][0])
        opt.update(params, {"w": np.ones(1)})
    return before - float(params["w"][0])


class _RMSpropWithoutOneMinusRho(RMSprop, register=False):
    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + g * g
        return theta - self.lr * g / (np.sqrt(state["h"]) + self.eps)


class _RMSpropEpsInsideRoot(RMSprop, register=False):
    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + (1 - self.decay_rate) * g * g
        return theta - self.lr * g / np.sqrt(state["h"] + self.eps)


implement("rmsprop", "RMSprop",
          "Let AdaGrad forget: keep a running mean of g⊙g instead of its sum, h ← ρh + (1 − ρ)g⊙g "
          "(ρ = decay_rate), and step as AdaGrad does. This is RMSprop, notebook 4's subject.", NB3,
          hints=("Only the line that updates h changes: the old h is multiplied by ρ (it fades), and "
                 "the new g⊙g enters with weight 1 − ρ. The step divides by √h + ε, as in AdaGrad.",
                 "h ← ρh + (1 − ρ)·g⊙g, then θ ← θ − ηg/(√h + ε)."),
          mistakes=((_RMSpropWithoutOneMinusRho, "Your h adds the whole g⊙g: the new term has weight "
                                                 "(1 − ρ), so that h is a mean, not a sum."),
                    (_RMSpropEpsInsideRoot, "Your ε sits inside the square root: torch adds it to √h.")))


def _best_final_loss(name: str, angle: float, lrs=np.geomspace(0.01, 10, 80), steps: int = 30) -> float:
    """The lowest loss after ``steps`` steps over a sweep of learning rates on the rotated bowl."""
    from .surfaces import get_surface
    return float(np.min(sweep(name, get_surface("rotated_bowl", angle=angle), steps=steps, lr=lrs).final_loss))


@prediction("rotated_adagrad", "Turn the valley x²/20 + y² by 45°. Give gradient descent and AdaGrad "
            "each its best η (out of 80): which has the lower loss after 30 steps?",
            "AdaGrad rescales the coordinates x and y, not the valley's own directions: turned by 45°, "
            "every coordinate sees the steep and the flat curvature mixed, so there is nothing for "
            "per-coordinate scaling to undo.", NB3, choices=("AdaGrad", "SGD"),
            mistakes=(("AdaGrad", "AdaGrad wins by many orders of magnitude on the aligned valley, "
                                  "but its step sizes are per coordinate, not per direction."),))
def _rotated_adagrad():
    return min(("SGD", "AdaGrad"), key=lambda name: _best_final_loss(name, 45.0))


# --- 04 RMSprop and Adadelta -------------------------------------------------------------------------
@prediction("rmsprop_thrown_out", "RMSprop with η = 0.3 on x²/20 + y² reaches the minimum to round-off "
            "(f − f_min below 10⁻³⁰) and the gradient there is almost zero. Over the rest of its 300 "
            "steps, does it stay at the minimum or is it thrown back out?",
            "RMSprop divides the gradient by √h, the RMS of *recent* gradients. At the minimum the "
            "gradients vanish, h forgets the large ones by a factor ρ per step, and the step per unit "
            "of gradient, η/√h, grows without limit, until it passes gradient descent's stability "
            "limit 2/λ along the steep direction and every bounce grows.", NB4,
            choices=("it stays", "thrown back out"),
            mistakes=(("it stays", "A tiny gradient seems unable to move it; but RMSprop rescales the "
                                   "gradient by its own recent size, so its steps do not shrink with "
                                   "the gradient the way gradient descent's do."),))
def _rmsprop_thrown_out():
    jumpy = run("RMSprop", "elongated_bowl", steps=300, lr=0.3)
    lowest = int(np.argmin(jumpy.losses))
    return "thrown back out" if jumpy.losses[lowest:].max() > 0.1 else "it stays"


class CenteredRMSprop(RMSprop, register=False):
    r"""Centred RMSprop (torch.optim.RMSprop with ``centered=True``): divide by the running
    *standard deviation* of g instead of its RMS.

    .. math::
        h \leftarrow \rho h + (1 - \rho) \, g \odot g \\
        \bar g \leftarrow \rho \bar g + (1 - \rho) \, g \\
        \theta \leftarrow \theta - \eta \, g / (\sqrt{h - \bar g \odot \bar g} + \epsilon)

    The reference of the exercise "centered_rmsprop" (notebook 4).
    """

    state_names = ("h", "g_mean")
    summary = "RMSprop divided by the running standard deviation of g"

    def step(self, theta, g, state):
        rho = self.decay_rate
        state["h"] = rho * state["h"] + (1 - rho) * g * g                    # h ← ρh + (1−ρ)g⊙g
        state["g_mean"] = rho * state["g_mean"] + (1 - rho) * g              # ḡ ← ρḡ + (1−ρ)g
        spread = np.sqrt(state["h"] - state["g_mean"] ** 2)                  # √(h − ḡ⊙ḡ)
        return theta - self.lr * g / (spread + self.eps)                     # θ ← θ − ηg/(√(h − ḡ⊙ḡ) + ε)


class _CenteredWithOldMean(CenteredRMSprop, register=False):
    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + (1 - self.decay_rate) * g * g
        spread = np.sqrt(np.maximum(state["h"] - state["g_mean"] ** 2, 0.0))
        state["g_mean"] = self.decay_rate * state["g_mean"] + (1 - self.decay_rate) * g
        return theta - self.lr * g / (spread + self.eps)


class _CenteredEpsInsideRoot(CenteredRMSprop, register=False):
    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + (1 - self.decay_rate) * g * g
        state["g_mean"] = self.decay_rate * state["g_mean"] + (1 - self.decay_rate) * g
        return theta - self.lr * g / np.sqrt(state["h"] - state["g_mean"] ** 2 + self.eps)


class _CenteredNotCentred(CenteredRMSprop, register=False):
    def step(self, theta, g, state):
        state["h"] = self.decay_rate * state["h"] + (1 - self.decay_rate) * g * g
        state["g_mean"] = self.decay_rate * state["g_mean"] + (1 - self.decay_rate) * g
        return theta - self.lr * g / (np.sqrt(state["h"]) + self.eps)


implement("centered_rmsprop", CenteredRMSprop,
          "Write centred RMSprop (torch's RMSprop(centered=True)): keep RMSprop's h, and also a running "
          "mean ḡ of g itself, with the same ρ. Then divide g by the running standard deviation "
          "√(h − ḡ⊙ḡ) (plus ε) instead of by √h.", NB4,
          settings={"lr": 0.01, "decay_rate": 0.9, "eps": 1e-8},
          hints=("A variance is the mean of the squares minus the square of the mean. h is already the "
                 "(running) mean of g⊙g; keep a running mean ḡ of g the same way, and update both "
                 "before you step.",
                 "h ← ρh + (1 − ρ)g⊙g,  ḡ ← ρḡ + (1 − ρ)g,  θ ← θ − ηg/(√(h − ḡ⊙ḡ) + ε)."),
          mistakes=((_CenteredNotCentred, "Your class divides by √h: that is plain RMSprop. Subtract the "
                                          "square of the running mean ḡ inside the root."),
                    (_CenteredWithOldMean, "Your ḡ is one step old when you subtract it: update ḡ with "
                                           "this step's g first, as torch does."),
                    (_CenteredEpsInsideRoot, "Your ε sits inside the square root: torch adds it to the root.")))


@question("rmsprop_rate_crosses", "RMSprop (ρ = 0.99, η = 0.3, ε ≈ 0) has arrived at the minimum along y "
          "of x²/20 + y², with h_y = 9 (the mean of the large gradients on the way down), and from now on "
          "the gradient along y is 0. At which step k (a whole number) is the effective rate η/√h_y first "
          "above the stability limit 2/λ of that direction, so that the next bounce grows?",
          "With g = 0 the update is h ← ρh, so h_k = ρᵏ·9, and η/√(ρᵏ·9) passes 2/λ = 1 once "
          "ρᵏ < η²/9, at the first whole k above ln(η²/9)/ln ρ.", NB4, rtol=0.0,
          hints=("With a zero gradient, what happens to h at each step? And what is the curvature λ of "
                 "y², and the stability limit of gradient descent along it (notebook 1)?",
                 "h_k = ρᵏh₀, and the run is thrown out once η/√h_k > 2/λ: solve η/√(ρᵏh₀) = 2/λ for k, "
                 "then take the next whole step."),
          mistakes=((math.ceil(math.log(0.3 / 3) / math.log(0.99)),
                     "That lets √h shrink by ρ per step: it is h that is multiplied by ρ, so √h shrinks by √ρ."),
                    (math.ceil(math.log((0.3 / 0.5) ** 2 / 9) / math.log(0.99)),
                     "That uses the limit 1/λ: gradient descent along a curvature λ is stable up to 2/λ."),
                    (math.floor(math.log(0.01) / math.log(0.99)),
                     "At that step the rate is still just below the limit: it passes it one step later."),
                    (100.0, "That is RMSprop's memory 1/(1 − ρ), the time for h to fall to 1/e; here h "
                            "must fall much further than that.")))
def _rmsprop_rate_crosses():
    lr, rho, h0 = 0.3, 0.99, 9.0
    limit = theory.gd_lr_limit("elongated_bowl")           # 2/λ_max, the y direction
    return float(math.ceil(math.log((lr / limit) ** 2 / h0) / math.log(rho)))


@question("adadelta_first_step", "Adadelta (η = 1) with ρ = 0.95 and ε = 10⁻⁴ meets the gradient g = 2 "
          "at its first step. How far does θ move?",
          "u starts at 0, so the step is √(0 + ε)/√(v + ε)·g with v = (1 − ρ)g² = 0.2: "
          "√ε sets the scale, and the gradient nearly cancels out.", NB4, rtol=1e-3,
          hints=("Both running means start at 0. Update v with this g first; u is still 0 when the step "
                 "is computed.",
                 "Δθ = √(u + ε)/√(v + ε)·g with u = 0 and v = (1 − ρ)g²."),
          mistakes=((2 / math.sqrt(0.05 * 4 + 1e-4), "That takes √(u + ε) as 1: u starts at 0, so the "
                                                     "numerator is √ε."),
                    (1e-2 * 2 / math.sqrt(4 + 1e-4), "That leaves out the (1 − ρ) in v: after one step "
                                                    "v = (1 − ρ)g².")))
@functools.cache                      # the leak test asks for it once per number in the outputs
def _adadelta_first_step():
    opt, params = Adadelta(lr=1.0, rho=0.95, eps=1e-4), {"w": np.array([0.0])}
    opt.update(params, {"w": np.array([2.0])})                # one step, from θ = 0
    return float(abs(params["w"][0]))


# --- 05 Adam and AdamW -------------------------------------------------------------------------------
@prediction("adam_without_bias_minimum", "Adam with η = 0.3 on Himmelblau's function, from (0, 0), ends at the "
            "minimum (3, 2). Leave out the bias correction, and change nothing else: where does it end?",
            "Without the correction the early steps are several times too long (the ratio "
            "(1 − β₁ᵗ)/√(1 − β₂ᵗ) stays far above 1 for thousands of steps), and on a surface with four "
            "minima a few oversized steps are enough to land in another basin.", NB5,
            choices=("the same minimum", "a different minimum"),
            mistakes=(("the same minimum", "The correction only matters for the first steps, so it seems "
                                           "harmless to drop; but those first steps decide which basin the "
                                           "run falls into."),))
def _adam_without_bias_minimum():
    from .variants import AdamWithoutBiasCorrection
    end = run(AdamWithoutBiasCorrection(lr=0.3), "himmelblau", steps=200).final_point
    return "the same minimum" if np.allclose(end, (3.0, 2.0), atol=1e-2) else "a different minimum"


class AMSGrad(Adam, register=False):
    r"""AMSGrad (torch.optim.Adam with ``amsgrad=True``; Reddi et al. 2018): Adam that divides by the
    largest v seen so far, so the step per unit of m̂ can never grow.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) \, g \\
        v \leftarrow \beta_2 v + (1 - \beta_2) \, g \odot g \\
        v_{\max} \leftarrow \max(v_{\max}, v) \\
        \theta \leftarrow \theta - \eta \, \frac{m}{1 - \beta_1^t}
            \Big/ \Big(\sqrt{v_{\max} / (1 - \beta_2^t)} + \epsilon\Big)

    The reference of the exercise "amsgrad" (notebook 5).
    """

    state_names = ("m", "v", "v_max")
    summary = "Adam that divides by the largest v so far"

    def step(self, theta, g, state):
        b1, b2, t = self.beta1, self.beta2, state["step"]
        state["m"] = b1 * state["m"] + (1 - b1) * g                          # m ← β₁m + (1−β₁)g
        state["v"] = b2 * state["v"] + (1 - b2) * g * g                      # v ← β₂v + (1−β₂)g⊙g
        state["v_max"] = np.maximum(state["v_max"], state["v"])              # v_max ← max(v_max, v)
        denominator = np.sqrt(state["v_max"] / (1 - b2 ** t)) + self.eps     # √(v_max/(1−β₂ᵗ)) + ε
        return theta - self.lr * state["m"] / (1 - b1 ** t) / denominator    # θ ← θ − ηm̂/(…)


class _AMSGradMaxOfCorrected(AMSGrad, register=False):
    def step(self, theta, g, state):
        t = state["step"]
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * g
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * g * g
        state["v_max"] = np.maximum(state["v_max"], state["v"] / (1 - self.beta2 ** t))
        return theta - self.lr * state["m"] / (1 - self.beta1 ** t) / (np.sqrt(state["v_max"]) + self.eps)


class _AMSGradWithoutMax(AMSGrad, register=False):
    def step(self, theta, g, state):
        state["v_max"] = state["v"]
        return Adam.step(self, theta, g, state)


implement("amsgrad", AMSGrad,
          "Write AMSGrad (torch's Adam(amsgrad=True)): Adam, but keep v_max, the largest v seen so far "
          "(elementwise), and divide m̂ by √(v_max/(1 − β₂ᵗ)) + ε instead of √v̂ + ε.", NB5,
          settings={"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8},
          hints=("Everything is Adam's, except the denominator: remember the largest v so far, per "
                 "coordinate, and use it (bias-corrected, as v is in Adam) where Adam uses v.",
                 "v_max ← max(v_max, v) after v's update; θ ← θ − η·m/(1 − β₁ᵗ) / (√(v_max/(1 − β₂ᵗ)) + ε)."),
          mistakes=((_AMSGradWithoutMax, "Your class is plain Adam: keep the running maximum of v and "
                                         "divide by its root."),
                    (_AMSGradMaxOfCorrected, "You keep the maximum of the bias-corrected v̂: torch keeps the "
                                             "maximum of the raw v and divides it by 1 − β₂ᵗ afterwards.")))


@question("adamw_halving", "AdamW with η = 0.05 and weight decay δ = 0.02 sits where the gradient is 0. At "
          "which step k (a whole number) is θ first less than half of where it started?",
          "Each step multiplies θ by 1 − ηδ = 0.999, so θ_k = 0.999ᵏθ₀, and that first falls below θ₀/2 at "
          "the first whole k above ln 2/(−ln 0.999).", NB5, rtol=0.0,
          hints=("With g = 0 the Adam part of the step is 0: only the decay acts. By which factor does it "
                 "multiply θ each step?",
                 "θ_k = (1 − ηδ)ᵏ·θ₀: solve (1 − ηδ)ᵏ < 1/2 for the first whole k."),
          mistakes=((math.ceil(math.log(0.5) / math.log(1 - 0.02)),
                     "That multiplies θ by 1 − δ each step: the decay is scaled by η as well."),
                    (math.ceil(math.log(0.5) / math.log(1 - 0.05)),
                     "That multiplies θ by 1 − η each step: the decay is η times δ.")))
@functools.cache                      # the leak test asks for it once per number in the outputs
def _adamw_halving():
    opt, params = AdamW(lr=0.05, weight_decay=0.02), {"w": np.array([1.0])}
    for k in range(1, 100_000):
        opt.update(params, {"w": np.zeros(1)})
        if params["w"][0] < 0.5:
            return float(k)
    raise RuntimeError("θ never halved")


# --- 06 comparison -----------------------------------------------------------------------------------
@prediction("adam_bowl_diverges", "Adam runs on the elongated bowl x²/20 + y² for every pair of 100 values of η "
            "(0.001 to 3) and 100 values of β₁ (0 to 0.99), 100 steps each. SGD diverges for every η above 1 "
            "there. Where on the grid does Adam diverge?",
            "Adam divides each coordinate's gradient by its own recent size, so its steps are about η long "
            "whatever the gradient: a large η makes it wander around the minimum, but nothing feeds back "
            "into ever larger steps.", NB6,
            choices=("none of it", "a corner at large η", "about half"),
            mistakes=(("a corner at large η", "SGD and Momentum have a limit on η, set by the curvature, because "
                                              "their steps grow with the gradient; Adam's do not."),
                      ("about half", "SGD's limit η = 1 would cut this grid roughly in half; but Adam's steps "
                                     "do not grow with the gradient, so there is no such limit.")))
def _adam_bowl_diverges():
    """Adam on the elongated bowl over notebook 06's (η, β₁) grid: how much of it diverges?"""
    result = sweep("Adam", "elongated_bowl", steps=100, lr=np.geomspace(1e-3, 3, 100),
                   beta1=np.linspace(0, 0.99, 100))
    share = float(result.diverged.mean())
    return "none of it" if share == 0 else "about half" if share > 0.3 else "a corner at large η"


TOTAL_STEPS = Hyperparameter("total_steps", "T", "T", "the number of steps over which η falls to 0",
                             low=1.0, slider=(1.0, 1000.0))


class SGDCosine(SGD, register=False):
    r"""SGD with cosine annealing (torch's CosineAnnealingLR with η_min = 0): η falls along half a
    cosine from η to 0 over T steps, and stays at 0 after.

    .. math::
        \eta_t \leftarrow \eta \, (1 + \cos(\pi \min(t - 1, T) / T)) / 2 \\
        \theta \leftarrow \theta - \eta_t \, g

    The reference of the exercise "sgd_cosine" (notebook 6); ``gdviz.run(..., schedule=
    gdviz.schedules.cosine(T))`` steps the same way with any optimizer.
    """

    hyperparameters = (LR.given(0.1), TOTAL_STEPS.given(100))
    summary = "SGD whose η follows half a cosine down to 0 over T steps"

    def step(self, theta, g, state):
        elapsed = np.minimum(state["step"] - 1, self.total_steps)                  # min(t − 1, T)
        lr_t = self.lr * (1 + np.cos(np.pi * elapsed / self.total_steps)) / 2      # ηₜ ← η(1 + cos(π·…/T))/2
        return theta - lr_t * g                                                    # θ ← θ − ηₜ g


class _CosineOneStepAhead(SGDCosine, register=False):
    def step(self, theta, g, state):
        elapsed = np.minimum(state["step"], self.total_steps)
        return theta - self.lr * (1 + np.cos(np.pi * elapsed / self.total_steps)) / 2 * g


class _CosineComesBack(SGDCosine, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * (1 + np.cos(np.pi * (state["step"] - 1) / self.total_steps)) / 2 * g


class _CosineWithoutHalf(SGDCosine, register=False):
    def step(self, theta, g, state):
        elapsed = np.minimum(state["step"] - 1, self.total_steps)
        return theta - self.lr * np.cos(np.pi * elapsed / self.total_steps) * g


implement("sgd_cosine", SGDCosine,
          "Write SGD with cosine annealing: step t uses η_t = η(1 + cos(π(t − 1)/T))/2 for t − 1 ≤ T, "
          "which falls from η at step 1 to 0 at step T + 1, and η_t = 0 after that.", NB6,
          settings={"lr": 0.1, "total_steps": 6},
          hints=("Count the steps yourself (self.t, plus 1 at every update), work out this step's learning "
                 "rate from the count, then take a plain gradient step with it.",
                 "η_t = η·(1 + cos(π·min(t − 1, T)/T))/2 for t = 1, 2, …; then θ ← θ − η_t·g."),
          mistakes=((_CosineOneStepAhead, "Your η is one step ahead: step 1 must use the full η "
                                          "(use t − 1 in the cosine)."),
                    (_CosineComesBack, "After step T + 1 your cosine comes back up: hold η at 0 once the "
                                       "schedule has ended (use min(t − 1, T))."),
                    (_CosineWithoutHalf, "Your factor cos(…) runs from 1 down to −1: cosine annealing uses "
                                         "(1 + cos(…))/2, from 1 down to 0.")))


@question("gd_millionfold", "SGD at its best fixed η on the elongated bowl (κ = 20) shrinks the distance to the "
          "minimum by the factor (κ − 1)/(κ + 1) at every step. At which step k (a whole number) is the distance "
          "first below a millionth of where it started?",
          "The distance after k steps is ((κ − 1)/(κ + 1))ᵏ times the start; it falls below 10⁻⁶ at the first "
          "whole k above ln 10⁻⁶ / ln((κ − 1)/(κ + 1)).", NB6, rtol=0.0,
          hints=("Each step multiplies the distance by the same factor. How many factors does it take to reach "
                 "10⁻⁶? Take logarithms.",
                 "k > ln(10⁻⁶)/ln((κ − 1)/(κ + 1)); round up to the next whole step."),
          mistakes=((math.ceil(math.log(1e-6) / math.log((math.sqrt(20) - 1) / (math.sqrt(20) + 1))),
                     "That uses momentum's rate (√κ − 1)/(√κ + 1): the question is about plain SGD."),
                    (math.ceil(math.log(1e-3) / math.log(19 / 21)),
                     "That is a thousandfold: a millionfold takes the thousandfold twice.")))
def _gd_millionfold():
    rate = theory.gd_optimal_rate("elongated_bowl")
    return float(math.ceil(math.log(1e-6) / math.log(rate)))


@question("classic_fastest", "In the classic figure (x²/20 + y² from (−7, 2), η: SGD 0.95, Momentum 0.1, "
          "AdaGrad 1.5, Adam 0.3), which optimizer has the lowest loss after 30 steps?",
          "AdaGrad's per-coordinate steps suit this axis-aligned valley.", NB6,
          hints=("Which rule suits a valley that lines up with the axes, and which one zig-zags with an η "
                 "near its stability limit? Then look at the runs themselves.",
                 "The notebook keeps the four runs in `classic`: compare classic[name].final_loss for each name."))
def _classic_fastest():
    settings = {"SGD": {"lr": 0.95}, "Momentum": {"lr": 0.1}, "AdaGrad": {"lr": 1.5}, "Adam": {"lr": 0.3}}
    finals = {name: run(name, "elongated_bowl", steps=30, **hp).final_loss for name, hp in settings.items()}
    return min(finals, key=finals.get)


@question("himmelblau_sgd_minimum", "Gradient descent with η = 0.01 starts at (0, 0) on Himmelblau's "
          "function. At which minimum (x, y) does it end (run 500 steps)?",
          "From the origin the slope leads to the minimum at (3, 2).", NB6, rtol=1e-2,
          hints=("With a small η gradient descent follows the slope downhill from the start: which basin "
                 "does the origin drain into? Run it and look at the end point.",
                 'traj = gdviz.run("SGD", "himmelblau", start=(0, 0), steps=500, lr=0.01); traj.final_point, '
                 'rounded to two decimals.'))
def _himmelblau_sgd_minimum():
    x, y = run("SGD", "himmelblau", start=(0, 0), steps=500, lr=0.01).final_point
    return (float(x), float(y))


# --- 07 a neural network -----------------------------------------------------------------------------
#: The network, data subset and run of notebook 07's curvature section (section 5).
NET_SIZES, NET_CURVATURE_SAMPLES, NET_GD_STEPS = (64, 32, 10), 256, 300


@question("net_param_count", "How many numbers (weights and biases) does training adjust in a network "
          "with sizes [64, 100, 10]?",
          "Each layer has a weight matrix with n_in·n_out entries and one bias per output: "
          "64·100 + 100 + 100·10 + 10.", NB7,
          hints=("Count layer by layer: every layer k has a weight matrix Wk and a bias vector bk.",
                 "A layer from n_in to n_out numbers has n_in·n_out weights and n_out biases; add the layers."),
          mistakes=((64 * 100 + 100 * 10, "That counts the weights only: every layer also has one bias per output."),
                    (64 + 100 + 10, "That counts the units (neurons), not the connections between them."),
                    (64 * 100 * 10,
                     "That multiplies all the widths: the two layers have separate matrices; add them.")))
def _net_param_count():
    from .network import MLP
    return MLP([64, 100, 10]).n_params


_BATCH_RATIOS = {"same": 1.0, "half": 1 / 2, "quarter": 1 / 4, "sixteenth": 1 / 16}


def batch_noise_choice(ratio: float) -> str:
    """The choice of the "net_batch_noise" prediction nearest to a measured variance ratio."""
    return min(_BATCH_RATIOS, key=lambda name: abs(math.log(_BATCH_RATIOS[name] / ratio)))


@prediction("net_batch_noise", "A minibatch gradient g_B (the mean over B random training images) differs "
            "from the full-batch gradient g. From B = 16 to B = 64, how does the mean squared "
            "difference E|g_B − g|² change?",
            "It falls like 1/B: four times the batch, a quarter of the squared noise. (Drawing without "
            "replacement from n images adds the factor (n − B)/(n − 1), a few per cent here.)", NB7,
            choices=tuple(_BATCH_RATIOS),
            mistakes=(("half", "Half is what the typical size |g_B − g| does (it falls like 1/√B); its "
                               "square, the variance, falls like 1/B."),
                      ("sixteenth", "That would be 1/B²: the mean of B independent gradients has variance "
                                    "σ²/B, not σ²/B²."),
                      ("same", "Each image's gradient is different, so averaging more of them cancels more "
                               "of their differences.")))
def _net_batch_noise():
    from .data import load_digits
    n = len(load_digits()[1])
    return batch_noise_choice(16 / 64 * (n - 64) / (n - 16))      # σ²/B · (n − B)/(n − 1)


@prediction("net_above_limit", "Full-batch gradient descent on the digits network (sizes [64, 32, 10], "
            "256 images) with η = 1.5 × 2/λ_max, where λ_max is the Hessian's largest eigenvalue at the "
            "start. On a quadratic this η diverges. What does the network's loss do in 300 steps?",
            "It jumps up for a few steps, then falls and keeps training: a network's curvature changes as "
            "θ moves, and the jump throws θ to a flatter place where λ_max < 2/η, so the same η is stable "
            "there (a \"catapult\").", NB7,
            choices=("diverges", "spikes, then trains", "decreases smoothly"),
            mistakes=(("diverges", "On a quadratic it would, because the curvature is the same everywhere; "
                                   "here λ_max changes as the parameters move."),
                      ("decreases smoothly", "Above 2/λ_max the first steps overshoot along the sharpest "
                                             "direction, so the loss rises before anything else happens.")))
def _net_above_limit():
    from .data import load_digits
    from .landscape import top_eigenvalue
    from .network import MLP
    from .training import loss_shape, train
    X, y = (part[:NET_CURVATURE_SAMPLES] for part in load_digits()[:2])
    lam, _ = top_eigenvalue(MLP(NET_SIZES, seed=0), X, y, iterations=100, tol=1e-6)
    record = train(MLP(NET_SIZES, seed=0), SGD(lr=1.5 * 2 / lam), (X, y), epochs=NET_GD_STEPS,
                   batch_size=NET_CURVATURE_SAMPLES, evaluate_every=NET_GD_STEPS)
    return loss_shape(record.losses)


class SGDWeightDecay(SGD, register=False):
    r"""SGD with L2 weight decay, as ``torch.optim.SGD(weight_decay=...)``: the decay joins the gradient.

    .. math::
        g \leftarrow g + \delta \theta \\
        \theta \leftarrow \theta - \eta \, g

    The reference of the exercise "sgd_weight_decay" (notebook 7). For plain SGD this equals
    AdamW's decoupled form θ ← θ − ηδθ − ηg; for Adam the two differ (notebook 05).
    """

    hyperparameters = (LR.given(0.1), WEIGHT_DECAY.given(0.01))
    summary = "SGD whose gradient gets the pull δθ toward 0 (L2 regularisation)"

    def step(self, theta, g, state):
        g = g + self.weight_decay * theta                 # g ← g + δθ
        return theta - self.lr * g                        # θ ← θ − ηg


class _DecayWithoutLr(SGDWeightDecay, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * g - self.weight_decay * theta


class _DecayAwayFromZero(SGDWeightDecay, register=False):
    def step(self, theta, g, state):
        return theta - self.lr * (g - self.weight_decay * theta)


implement("sgd_weight_decay", SGDWeightDecay,
          "Write SGD with weight decay as torch's SGD(weight_decay=δ) does it: add δθ to the gradient, "
          "then take the SGD step.", NB7, settings={"lr": 0.05, "weight_decay": 0.1},
          hints=("Weight decay is the gradient of the penalty (δ/2)|θ|²: a pull of every weight toward 0, "
                 "proportional to the weight itself. Add it to the gradient before stepping.",
                 "g ← g + δθ, then θ ← θ − ηg (both per parameter array, in place)."),
          mistakes=((_DecayWithoutLr, "Your decay is not scaled by η: in torch's SGD the term δθ joins the "
                                      "gradient, so the step is η(g + δθ)."),
                    (_DecayAwayFromZero, "Your decay pushes the weights away from 0: the penalty's gradient "
                                         "is +δθ, so the step subtracts ηδθ.")))
