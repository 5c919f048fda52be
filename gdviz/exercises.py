"""Exercises that check themselves, with feedback that names the first thing that differs.

Two kinds:

* **Write the update yourself** — :func:`check_update` runs your class (the classic
  ``update(params, grads)`` face) and gdviz's optimizer side by side on the same random
  gradients and reports the first step, parameter, index and values that differ. An
  unfinished class gets "not finished yet", never a crash, so the notebook still runs to the end.
* **Questions with a number (or a name) for an answer** — :func:`check_answer` compares with
  the value theory (or a gdviz run) gives, and says "too large"/"too small" without revealing it.

:func:`solution` shows a worked solution on demand. Used in every notebook's "Exercises".
This module needs numpy only; the feedback displays as HTML in Jupyter and as text elsewhere.
"""
from __future__ import annotations

import html
import inspect
import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import solutions, theory
from .optimizers import OPTIMIZERS, get_optimizer, optimizer_class
from .trajectory import run
from .variants import VARIANTS

__all__ = ["Feedback", "check_update", "check_answer", "solution", "QUESTIONS", "Question"]


@dataclass
class Feedback:
    """The verdict of a check: ``passed`` and a plain-language ``message``.

    Truthy when passed, so a test (or the notebook's own assert on a solution) can write
    ``assert check_update(...)``.
    """

    passed: bool
    message: str
    status: str = ""            # "passed", "not finished", "different", "error"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return ("✔ " if self.passed else "✘ ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#117733" if self.passed else ("#996600" if self.status == "not finished" else "#aa3377")
        mark = "✔" if self.passed else ("…" if self.status == "not finished" else "✘")
        body = html.escape(self.message).replace("\n", "<br>")
        return (f'<div class="gdviz-feedback" style="border-left:4px solid {colour};padding:4px 10px;'
                f'font-family:sans-serif"><b style="color:{colour}">{mark}</b> {body}</div>')


# ---------------------------------------------------------------------------------------------
# "Write the update yourself"

#: Hyperparameters used by the checks: not the defaults, so a hard-coded default is caught.
CHECK_SETTINGS = {
    "SGD": {"lr": 0.05},
    "Momentum": {"lr": 0.05, "momentum": 0.8},
    "Nesterov": {"lr": 0.05, "momentum": 0.8},
    "AdaGrad": {"lr": 0.5, "eps": 1e-7},
    "RMSprop": {"lr": 0.05, "decay_rate": 0.9, "eps": 1e-7},
    "Adadelta": {"lr": 0.5, "rho": 0.8, "eps": 1e-5},
    "Adam": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7},
    "AdamW": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7, "weight_decay": 0.1},
}


def _problem(seed: int, steps: int):
    """Two parameters of different shapes and a sequence of random gradients for them."""
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=3)}
    grads = [{"W": rng.normal(size=(2, 3)) * 10.0 ** rng.uniform(-3, 1),
              "b": rng.normal(size=3) * 10.0 ** rng.uniform(-3, 1)} for _ in range(steps)]
    return params, grads


def _copy(d):
    return {key: np.array(value, dtype=float) for key, value in d.items()}


def _run_reference(optimizer, params, grads):
    """The parameter values after each step, for a gdviz (or variant) optimizer."""
    params, history = _copy(params), []
    for g in grads:
        optimizer.update(params, _copy(g))
        history.append(_copy(params))
    return history


def _close(a, b, rtol=1e-9, atol=1e-12) -> np.ndarray:
    return np.isclose(a, b, rtol=rtol, atol=atol)


def check_update(student_class, optimizer: str | None = None, *, steps: int = 10, seed: int = 0,
                 **hyperparameters) -> Feedback:
    """Check a hand-written optimizer class against gdviz's, step by step.

    ``student_class`` is a class with ``__init__(self, lr=..., ...)`` (the same keyword names as
    gdviz's optimizer) and ``update(self, params, grads)`` that changes ``params`` in place.
    ``optimizer`` names the gdviz optimizer to match (by default the class's own name).
    Both run ``steps`` steps from the same start on the same random gradients, with two
    parameters of different shapes; the feedback names the first step, parameter, index and
    the two values that differ, and recognises common textbook variants.
    """
    if not inspect.isclass(student_class):
        return Feedback(False, f"check_update needs your class itself (e.g. MyMomentum), not "
                               f"{type(student_class).__name__} {student_class!r}.", "error")
    name = optimizer or student_class.__name__.removeprefix("My")
    try:
        cls = optimizer_class(name)
    except ValueError as exc:
        return Feedback(False, f"{exc}. Pass the optimizer to match, e.g. "
                               f"check_update({student_class.__name__}, \"Momentum\").", "error")
    settings = {**CHECK_SETTINGS.get(cls.__name__, {}), **hyperparameters}
    reference = get_optimizer(cls, **settings)
    start, grads = _problem(seed, steps)
    expected = _run_reference(reference, start, grads)

    try:
        student = student_class(**settings)
    except TypeError as exc:
        keywords = ", ".join(f"{k}={v!r}" for k, v in settings.items())
        return Feedback(False, f"Could not create {student_class.__name__}({keywords}): {exc}. "
                               f"Its __init__ should accept these keywords.", "error")
    except NotImplementedError:
        return Feedback(False, f"{student_class.__name__}.__init__ is not finished yet "
                               f"(it raises NotImplementedError).", "not finished")

    params = _copy(start)
    for k, g in enumerate(grads, start=1):
        before = _copy(params)
        try:
            with np.errstate(all="ignore"):
                returned = student.update(params, _copy(g))
        except NotImplementedError:
            return Feedback(False, f"Not finished yet: {student_class.__name__}.update raises "
                                   f"NotImplementedError. Replace it with the update lines.", "not finished")
        except Exception as exc:           # a student's bug: report it plainly, no traceback
            return Feedback(False, f"At step {k}, your update raised {type(exc).__name__}: {exc}",
                            "error")
        if returned is not None and all(np.array_equal(before[key], params[key]) for key in params):
            return Feedback(False, f"At step {k} your update returned a value but did not change "
                                   f"params: update params[key] in place (params[key] -= ...).", "different")
        for key in expected[k - 1]:
            want, got = expected[k - 1][key], np.asarray(params[key], dtype=float)
            if np.array_equal(got, before[key]) and not np.array_equal(want, before[key]):
                status = "not finished" if k == 1 else "different"
                return Feedback(False, f"Step {k}: params[{key!r}] did not change. "
                                       f"Fill in the update lines (they change params[key] in place).", status)
            ok = _close(got, want)
            if not ok.all():
                index = tuple(int(i) for i in np.argwhere(~ok)[0])
                where = f"params[{key!r}][{', '.join(map(str, index))}]"
                message = (f"Step {k}, {where}: expected {want[index]:.10g}, got {got[index]:.10g} "
                           f"(difference {got[index] - want[index]:.3g}). "
                           f"Settings: {', '.join(f'{n}={v}' for n, v in settings.items())}.")
                hint = _recognise_variant(student_class, cls, settings, start, grads)
                return Feedback(False, message + (f"\nHint: {hint}" if hint else ""), "different")
    return Feedback(True, f"Your {student_class.__name__} matches gdviz.{cls.__name__} on all "
                          f"{steps} steps (two parameters, random gradients).", "passed")


def _recognise_variant(student_class, cls, settings, start, grads) -> str:
    """If the student's class matches a known textbook variant, say which."""
    try:
        student = student_class(**settings)
        params, got = _copy(start), []
        for g in grads:
            with np.errstate(all="ignore"):
                student.update(params, _copy(g))
            got.append(_copy(params))
    except Exception:
        return ""
    for variant in VARIANTS.get(cls.__name__, ()):
        want = _run_reference(variant(**settings), start, grads)
        if all(_close(a[key], b[key]).all() for a, b in zip(got, want) for key in a):
            first_line = inspect.getdoc(variant).splitlines()[0]
            return f"your update matches gdviz.variants.{variant.__name__}: {first_line}"
    return ""


# ---------------------------------------------------------------------------------------------
# Questions with a numeric (or named) answer

@dataclass
class Question:
    """A question whose answer gdviz can compute; ``rtol`` is how close counts as right."""

    key: str
    text: str
    answer: Callable[[], object]
    explanation: str
    notebook: str
    rtol: float = 1e-3


QUESTIONS: dict[str, Question] = {}


def question(key: str, text: str, explanation: str, notebook: str, rtol: float = 1e-3):
    """Register a question; the decorated function computes its answer."""
    def register(answer):
        QUESTIONS[key] = Question(key, text, answer, explanation, notebook, rtol)
        return answer
    return register


def _question(key: str) -> Question:
    if key not in QUESTIONS:
        raise ValueError(f"unknown exercise {key!r}; choose one of: {', '.join(QUESTIONS)}")
    return QUESTIONS[key]


def check_answer(key: str, answer) -> Feedback:
    """Check an answer to the question ``key`` (see :data:`QUESTIONS`) without revealing it."""
    q = _question(key)
    if answer is None or answer is Ellipsis:
        return Feedback(False, f"Not answered yet: {q.text}", "not finished")
    expected = q.answer()
    if isinstance(expected, str):
        if not isinstance(answer, str):
            return Feedback(False, f"Answer with a name (a string), e.g. \"SGD\"; got {answer!r}.", "different")
        if answer.strip().lower() == expected.lower():
            return Feedback(True, f"Right: {expected}. {q.explanation}", "passed")
        return Feedback(False, f"Not {answer!r}. Run the experiment and look again.", "different")
    if isinstance(expected, tuple):
        try:
            got = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return Feedback(False, f"Answer with a point (x, y); got {answer!r}.", "different")
        if got.shape != (2,):
            return Feedback(False, f"Answer with a point (x, y); got {answer!r}.", "different")
        if np.allclose(got, expected, rtol=q.rtol, atol=q.rtol):
            return Feedback(True, f"Right: ({expected[0]:.4g}, {expected[1]:.4g}). {q.explanation}", "passed")
        return Feedback(False, f"Not ({got[0]:.4g}, {got[1]:.4g}). Look at where the path ends.", "different")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real) or not math.isfinite(answer):
        return Feedback(False, f"Answer with a finite number; got {answer!r}.", "different")
    if math.isclose(answer, expected, rel_tol=q.rtol, abs_tol=1e-12):
        return Feedback(True, f"Right: {expected:.6g}. {q.explanation}", "passed")
    direction = "too large" if answer > expected else "too small"
    return Feedback(False, f"Not quite: {answer:.6g} is {direction}.", "different")


def solution(key: str) -> "Solution":
    """The worked solution of an exercise: an optimizer's name (``"momentum"``) or a question key.

    Displays as code (update exercises) or as the answer with its explanation (questions).
    """
    for name in OPTIMIZERS:
        if name.lower() == str(key).lower():
            solved = getattr(solutions, name, None)
            if solved is None:
                return Solution(f"No written solution for {name} yet; read gdviz.{name}.step instead.")
            return Solution(inspect.getsource(solved), code=True)
    q = _question(key)
    expected = q.answer()
    shown = expected if isinstance(expected, str) else (
        f"({expected[0]:.6g}, {expected[1]:.6g})" if isinstance(expected, tuple) else f"{expected:.6g}")
    return Solution(f"{q.text}\nAnswer: {shown}\n{q.explanation}")


@dataclass
class Solution:
    text: str
    code: bool = False

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        tag = "pre" if self.code else "div"
        body = html.escape(self.text) if self.code else html.escape(self.text).replace("\n", "<br>")
        return f'<{tag} class="gdviz-solution" style="padding:4px 10px">{body}</{tag}>'


# --- the questions, by notebook ----------------------------------------------------------------
NB1, NB2, NB3 = "01_gradient_descent.ipynb", "02_momentum_nesterov.ipynb", "03_adagrad.ipynb"
NB4, NB5, NB6 = "04_rmsprop_adadelta.ipynb", "05_adam_adamw.ipynb", "06_comparison.ipynb"


@question("bowl_lr_limit", "What is the largest learning rate η for which gradient descent "
          "converges on the bowl f = 0.1x² + 2y²?",
          "The Hessian is diag(0.2, 4), so λ_max = 4 and η must stay below 2/λ_max = 0.5.", NB1)
def _bowl_lr_limit():
    return theory.gd_lr_limit("bowl")


@question("gd_x10", "Gradient descent with η = 0.5 on x²/20 + y² starts at (−7, 2). What is x after "
          "10 steps?", "Each step multiplies x by (1 − η/10) = 0.95, so x₁₀ = 0.95¹⁰ · (−7).", NB1)
def _gd_x10():
    return float(run("SGD", "elongated_bowl", steps=10, lr=0.5).points[10, 0])


@question("momentum_effective_lr", "With η = 0.01 and α = 0.9, how large is momentum's effective "
          "step size η/(1 − α) once the velocity has built up along a constant slope?",
          "Along a constant gradient v settles where v = αv − ηg, i.e. v = −ηg/(1 − α): ten times a plain step.",
          NB2)
def _momentum_effective_lr():
    return 0.01 / (1 - 0.9)


@question("momentum_lr_limit", "Heavy-ball momentum with α = 0.5 on x²/20 + y²: what is the largest "
          "stable η?", "Momentum is stable for ηλ_max < 2(1 + α): η < 2 · 1.5 / 2 = 1.5.", NB2)
def _momentum_lr_limit():
    return float(theory.momentum_lr_limit(0.5, "elongated_bowl"))


@question("adagrad_first_step", "AdaGrad with η = 1.5 (ε ≈ 0) starts at (−7, 2) on x²/20 + y². How far "
          "does x move in the first step?",
          "With h = g² after one step, the step is ηg/|g| = η in every coordinate, whatever the gradient.", NB3)
def _adagrad_first_step():
    path = run("AdaGrad", "elongated_bowl", steps=1, lr=1.5, eps=1e-10).points
    return float(abs(path[1, 0] - path[0, 0]))


@question("adagrad_step_100", "AdaGrad with η = 1 meets the same gradient g at every step. How large "
          "is its step at step 100, in units of sign(g)?",
          "After k equal gradients h = k·g², so the step is ηg/(√k |g|) = η/√k = 0.1: it dies away like 1/√k.", NB3)
def _adagrad_step_100():
    return 1 / math.sqrt(100)


@question("rmsprop_memory", "RMSprop with ρ = 0.99: after how many steps has the weight of the "
          "starting value of h decayed to 1/e (about 37%)?",
          "The old h is multiplied by ρ each step: ρᵏ = 1/e at k = −1/ln ρ ≈ 1/(1 − ρ) = 100 steps.", NB4,
          rtol=0.02)
def _rmsprop_memory():
    return -1 / math.log(0.99)


@question("rmsprop_h_limit", "RMSprop meets the constant gradient g = 2 for a long time. What value "
          "does h settle at?", "The running mean of g² of a constant gradient is g² = 4.", NB4)
def _rmsprop_h_limit():
    return 4.0


@question("adam_no_bias_first_step", "Without bias correction (β₁ = 0.9, β₂ = 0.999, ε = 0), how many "
          "times larger than η is Adam's first step?",
          "m = 0.1g and v = 0.001g², so m/√v = 0.1/√0.001 ≈ 3.16: the uncorrected first step is 3.16η.", NB5)
def _adam_no_bias_first_step():
    return (1 - 0.9) / math.sqrt(1 - 0.999)


@question("adamw_decay_factor", "AdamW with η = 0.1 and weight decay λ = 0.01: by which factor does "
          "the decay alone multiply θ each step?", "θ ← θ − ηλθ = (1 − ηλ)θ = 0.999θ.", NB5)
def _adamw_decay_factor():
    return 1 - 0.1 * 0.01


@question("classic_fastest", "In the classic figure (x²/20 + y² from (−7, 2), η: SGD 0.95, Momentum 0.1, "
          "AdaGrad 1.5, Adam 0.3), which optimizer has the lowest loss after 30 steps?",
          "AdaGrad's per-coordinate steps suit this axis-aligned valley.", NB6)
def _classic_fastest():
    settings = {"SGD": {"lr": 0.95}, "Momentum": {"lr": 0.1}, "AdaGrad": {"lr": 1.5}, "Adam": {"lr": 0.3}}
    finals = {name: run(name, "elongated_bowl", steps=30, **hp).final_loss for name, hp in settings.items()}
    return min(finals, key=finals.get)


@question("himmelblau_sgd_minimum", "Gradient descent with η = 0.01 starts at (0, 0) on Himmelblau's "
          "function. At which minimum (x, y) does it end (run 500 steps)?",
          "From the origin the slope leads to the minimum at (3, 2).", NB6, rtol=1e-2)
def _himmelblau_sgd_minimum():
    x, y = run("SGD", "himmelblau", start=(0, 0), steps=500, lr=0.01).final_point
    return (float(x), float(y))
