"""Exercises that make students think, with hints on demand and feedback that names the mistake.

This module is the one exercise framework of every notebook; the exercises themselves are
registered in :mod:`gdviz.exercise_bank`, one section per notebook. Three kinds, each
recognised by the call its notebook cell ends with:

* **Predict, then run** — the student commits to a prediction *before* the experiment::

      # Before you run the next cell: ...question in words...
      my_prediction = ...        # "half", "quarter" or "same"
      predict("sgd_noise_half_eta", my_prediction)            # ✔ recorded (or … not made yet)

  The next cell runs the experiment and ends with ``reveal(key, measured)``: it compares the
  measured value with the prediction and explains, naming the usual wrong guess
  ("most people expect a quarter: ..."). ``measured`` must agree with the answer registered
  for ``key`` (to 1e-6 relative, or exactly for a choice), else ``reveal`` raises
  :class:`~gdviz.checks.ClaimFailed`: the notebook's numbers and the registry cannot drift apart.
  ``reveal(key)`` without ``measured`` uses the registered answer.
* **Implement a rule that is not on the page** — a class in the seed's classic face,
  checked step by step against a reference by :func:`check_update`. The stub is the same in
  every notebook: ``__init__`` stores the hyperparameters (and sets the state to ``None``),
  ``update`` makes the state arrays at the first call and then raises
  ``NotImplementedError("your turn")`` inside its loop; the cell's last line is
  ``check_update(MyName)``, which answers "not finished" until the student writes the lines.
  The notebook shows that rule's code (``show_rule``) only *after* the exercise.
* **Questions whose answer is printed nowhere** — ``check_answer(key, my_answer)`` with a
  number, a name (a string) or a point ``(x, y)``. A wrong answer hears "too large"/"too small",
  or, if it is a registered common mistake, what the mistake probably was ("that is 2/λ_min:
  the flat direction does not limit the step"); it never hears the answer.

For every question and every implement exercise, ``hint(key)`` gives the idea, ``hint(key, 2)``
the formula, and ``solution(key)`` the worked solution (for implement exercises: the class in
:mod:`gdviz.solutions`). Notebooks offer them as commented-out lines below the exercise::

    # hint("bowl_lr_limit")        # the idea;  hint("bowl_lr_limit", 2): the formula
    # solution("bowl_lr_limit")    # the worked solution

Registering an exercise (in :mod:`gdviz.exercise_bank`, in its notebook's section)::

    @question("key", "the question", "the explanation shown once it is right", NB1,
              hints=("the idea", "the formula"),
              mistakes=((wrong_value, "what that wrong value probably means"), ...))
    def _key():
        return ...            # computed by gdviz (a run, gdviz.theory); tests compare with a closed form

    @prediction("key", "the question", "why the answer is what it is", NB1,
                choices=("a", "b"), mistakes=(("a", "why people guess a, and why it is wrong"),))
    def _key():
        return "b"            # or a number; then rtol says how close counts as a good prediction

    implement("key", ReferenceOptimizer, "what to write", NB1, hints=("idea", "formula"),
              settings={...}, mistakes=((VariantClass, "what that class got wrong"),))

Values in ``mistakes`` may be callables (computed when first needed). The tests in
``tests/test_exercises.py`` and ``tests/test_notebook_teaching.py`` run every hint and
solution through its own checker, check that no explanation, hint or mistake text gives the
answer away, that every notebook has at least three exercises of two kinds, and that no
notebook prints a numeric answer (at the precision its checker accepts) anywhere.

Checklist for a notebook (``tests/test_notebook_teaching.py`` enforces it once the notebook is
removed from that file's ``NOT_YET``): claims are ``gdviz.checks.check(condition, sentence)``, never a
bare ``assert``; at least three cells tagged ``exercise`` of at least two kinds, each ending in
``predict(...)``, ``check_update(MyX)`` or ``check_answer(...)``, one per exercise registered for the
notebook; every ``predict("key", ...)`` is followed by a cell that calls ``reveal("key", ...)``;
questions and implement exercises have two hints; no output or markdown cell shows a number the
checker of one of the notebook's questions would accept; ``show_rule`` of a rule asked for comes after
its exercise.

Feedback displays as HTML in Jupyter and as text elsewhere. Needs numpy only.
"""
from __future__ import annotations

import html
import inspect
import math
import numbers
from dataclasses import dataclass, field
from typing import Callable, ClassVar

import numpy as np

from . import solutions
from .checks import ClaimFailed
from .optimizers import OPTIMIZERS, Optimizer, get_optimizer, optimizer_class
from . import variants  # noqa: F401  (lists the textbook forms in each optimizer's .variants)

__all__ = ["Feedback", "check_update", "check_answer", "hint", "solution", "predict", "reveal",
           "question", "prediction", "implement", "Exercise", "Question", "Prediction",
           "Implementation", "EXERCISES", "QUESTIONS", "PREDICTIONS", "IMPLEMENTATIONS",
           "exercises_in", "NOT_YET"]


@dataclass
class Feedback:
    """The verdict of a check: ``passed`` and a plain-language ``message``.

    Truthy when passed, so a test (or the notebook's own assert on a solution) can write
    ``assert check_update(...)``.
    """

    passed: bool
    message: str
    status: str = ""    # "passed", "not finished", "different", "error", "recorded" (a prediction)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return ("✔ " if self.passed else "✘ ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = ("#225588" if self.status == "recorded" else "#117733" if self.passed
                  else "#996600" if self.status == "not finished" else "#aa3377")
        mark = "✔" if self.passed else ("…" if self.status == "not finished" else "✘")
        body = html.escape(self.message).replace("\n", "<br>")
        return (f'<div class="gdviz-feedback" style="border-left:4px solid {colour};padding:4px 10px;'
                f'font-family:sans-serif"><b style="color:{colour}">{mark}</b> {body}</div>')


# ---------------------------------------------------------------------------------------------
# "Write the update yourself"

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
    the two values that differ, and recognises common textbook variants. A class that puts
    new arrays into ``params`` (``params[key] = params[key] - …``) fails even when its numbers
    are right: the caller's arrays (a network's layers) would never change.
    ``steps`` must be a whole number ≥ 1 (a ``TypeError``/``ValueError`` otherwise).
    """
    steps = _check_steps(steps)
    if not inspect.isclass(student_class):
        return Feedback(False, f"check_update needs your class itself (e.g. MyMomentum), not "
                               f"{type(student_class).__name__} {student_class!r}.", "error")
    name = optimizer or student_class.__name__.removeprefix("My")
    try:
        cls, check_settings = _reference(name)
    except ValueError as exc:
        return Feedback(False, f"{exc}. Pass the optimizer to match, e.g. "
                               f"check_update({student_class.__name__}, \"Momentum\").", "error")
    settings = {**check_settings, **hyperparameters}
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
        before, arrays = _copy(params), dict(params)
        try:
            with np.errstate(all="ignore"):
                returned = student.update(params, _copy(g))
        except NotImplementedError:
            return Feedback(False, f"Not finished yet: {student_class.__name__}.update raises "
                                   f"NotImplementedError. Replace it with the update lines.", "not finished")
        except Exception as exc:           # a student's bug: report it plainly, no traceback
            return Feedback(False, f"At step {k}, your update raised {type(exc).__name__}: {exc}",
                            "error")
        rebound = [key for key in arrays if params.get(key) is not arrays[key]]
        if rebound:
            return Feedback(False, _rebinding_message(k, rebound[0]), "different")
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


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"check_update: steps (how many steps to compare) must be a whole number >= 1, "
                        f"got {steps!r}")
    if steps < 1:
        raise ValueError(f"check_update: steps (how many steps to compare) must be in [1, inf), got {steps!r}")
    return int(steps)


def _rebinding_message(k: int, key: str) -> str:
    return (f"At step {k}, params[{key!r}] is a new array: your update wrote "
            f"params[key] = params[key] - ..., which puts a new array into the dict and leaves the "
            f"caller's array as it was. Whoever holds that array (a network's layer, the caller's "
            f"variables) would never see the step, so the model would never train. Update the array "
            f"in place: params[key] -= ... (or params[key][...] = ...).")


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
    known = [(variant, f"your update matches gdviz.variants.{variant.__name__}: "
                       f"{inspect.getdoc(variant).splitlines()[0]}") for variant in cls.variants]
    known += [(wrong, why) for exercise in IMPLEMENTATIONS.values() if exercise.reference is cls
              for wrong, why in exercise.mistakes]
    for variant, why in known:
        try:
            want = _run_reference(variant(**settings), start, grads)
        except TypeError:              # a variant that takes other keywords cannot be this one
            continue
        if all(_close(a[key], b[key]).all() for a, b in zip(got, want) for key in a):
            return why
    return ""


# ---------------------------------------------------------------------------------------------
# The registry: every exercise by its key

#: What a stub leaves in place of an answer: ``...`` (or ``None``).
NOT_YET = (None, Ellipsis)


def _missing(answer) -> bool:
    return answer is None or answer is Ellipsis


def _value(v):
    """A registered value, computed if it is a callable."""
    return v() if callable(v) and not inspect.isclass(v) else v


@dataclass
class Exercise:
    """What every exercise has: its key, the question in words, its notebook and its hints."""

    key: str
    text: str
    notebook: str
    explanation: str = ""
    hints: tuple[str, ...] = ()
    kind: ClassVar[str] = ""
    #: the call a notebook cell uses for this kind of exercise (how tests recognise the kind)
    call: ClassVar[str] = ""


@dataclass
class Question(Exercise):
    """A question whose answer gdviz computes; ``rtol`` is how close counts as right."""

    answer: Callable[[], object] = None
    rtol: float = 1e-3
    mistakes: tuple = ()          # ((wrong value or callable, what it probably means), ...)
    kind: ClassVar[str] = "question"
    call: ClassVar[str] = "check_answer"

    def accepts(self, value) -> bool:
        """Would :func:`check_answer` call ``value`` right?"""
        return _same(self.answer(), value, self.rtol)


@dataclass
class Prediction(Exercise):
    """A prediction the student commits to before an experiment; ``rtol``: a good guess."""

    answer: Callable[[], object] = None
    choices: tuple[str, ...] | None = None
    rtol: float = 0.25
    mistakes: tuple = ()
    kind: ClassVar[str] = "prediction"
    call: ClassVar[str] = "predict"


@dataclass
class Implementation(Exercise):
    """Write a rule as a class; :func:`check_update` compares it with ``reference`` step by step."""

    reference: type[Optimizer] = None
    settings: dict = field(default_factory=dict)     # hyperparameters for the check ({} → the class's check_settings)
    mistakes: tuple = ()          # ((a class with the same keywords, what it got wrong), ...)
    kind: ClassVar[str] = "implement"
    call: ClassVar[str] = "check_update"

    @property
    def solution_class(self):
        """The worked solution in :mod:`gdviz.solutions` (named like the reference)."""
        return getattr(solutions, self.reference.__name__, None)


#: Every exercise by key (keys are unique across kinds), and one registry per kind.
EXERCISES: dict[str, Exercise] = {}
QUESTIONS: dict[str, Question] = {}
PREDICTIONS: dict[str, Prediction] = {}
IMPLEMENTATIONS: dict[str, Implementation] = {}


def _register(exercise: Exercise, registry: dict) -> None:
    if exercise.key in EXERCISES and type(EXERCISES[exercise.key]) is not type(exercise):
        raise ValueError(f"exercise key {exercise.key!r} is already used by a {EXERCISES[exercise.key].kind}")
    EXERCISES[exercise.key] = registry[exercise.key] = exercise


def question(key: str, text: str, explanation: str, notebook: str, rtol: float = 1e-3, *,
             hints: tuple[str, ...] = (), mistakes: tuple = ()):
    """Register a question; the decorated function computes its answer."""
    def register(answer):
        _register(Question(key, text, notebook, explanation, tuple(hints), answer, rtol, tuple(mistakes)),
                  QUESTIONS)
        return answer
    return register


def prediction(key: str, text: str, explanation: str, notebook: str, *, choices=None,
               rtol: float = 0.25, hints: tuple[str, ...] = (), mistakes: tuple = ()):
    """Register a predict-then-run exercise; the decorated function computes the outcome."""
    def register(answer):
        _register(Prediction(key, text, notebook, explanation, tuple(hints), answer,
                             None if choices is None else tuple(choices), rtol, tuple(mistakes)),
                  PREDICTIONS)
        return answer
    return register


def implement(key: str, reference, text: str, notebook: str, *, hints: tuple[str, ...] = (),
              settings: dict | None = None, mistakes: tuple = ()) -> Implementation:
    """Register an implement-it exercise checked against ``reference`` (an optimizer class or name)."""
    exercise = Implementation(key, text, notebook, "", tuple(hints), optimizer_class(reference),
                              dict(settings or {}), tuple(mistakes))
    _register(exercise, IMPLEMENTATIONS)
    return exercise


def exercises_in(notebook: str) -> list[Exercise]:
    """The exercises registered for a notebook (its file name), in registration order."""
    return [ex for ex in EXERCISES.values() if ex.notebook == notebook]


def _exercise(key: str, registry: dict | None = None) -> Exercise:
    registry = EXERCISES if registry is None else registry
    if key in registry:
        return registry[key]
    for name, exercise in registry.items():
        if name.lower() == str(key).lower():
            return exercise
    raise ValueError(f"unknown exercise {key!r}; choose one of: {', '.join(registry)}")


def _question(key: str) -> Question:
    return _exercise(key, QUESTIONS)


def _reference(name):
    """The class :func:`check_update` compares with, and its check settings.

    ``name`` is an implement exercise's key, its reference class's name, or a registered optimizer.
    """
    for exercise in IMPLEMENTATIONS.values():
        if isinstance(name, str) and name.lower() in (exercise.key.lower(), exercise.reference.__name__.lower()):
            return exercise.reference, exercise.settings or exercise.reference.check_settings
    cls = optimizer_class(name)
    return cls, cls.check_settings


# ---------------------------------------------------------------------------------------------
# Comparing answers: a number, a name (or choice), or a point (x, y)

class _Unreadable(ValueError):
    """The answer has the wrong form (a number was expected, got a string, ...)."""


def _kind(expected) -> str:
    return "name" if isinstance(expected, str) else "point" if isinstance(expected, tuple) else "number"


def _read(expected, answer):
    """``answer`` in the form of ``expected``, or :class:`_Unreadable` saying what is wanted."""
    kind = _kind(expected)
    if kind == "name":
        if not isinstance(answer, str):
            raise _Unreadable(f"Answer with a name (a string), e.g. \"SGD\"; got {answer!r}.")
        return answer.strip().lower()
    if kind == "point":
        try:
            got = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            got = None
        if got is None or got.shape != (2,) or not np.all(np.isfinite(got)):
            raise _Unreadable(f"Answer with a point (x, y); got {answer!r}.")
        return got
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Real) or not math.isfinite(answer):
        raise _Unreadable(f"Answer with a finite number; got {answer!r}.")
    return float(answer)


def _same(expected, answer, rtol: float) -> bool:
    """Does ``answer`` count as ``expected`` at relative tolerance ``rtol``?"""
    try:
        got = _read(expected, answer)
    except _Unreadable:
        return False
    kind = _kind(expected)
    if kind == "name":
        return got == expected.strip().lower()
    if kind == "point":
        return bool(np.allclose(got, expected, rtol=rtol, atol=rtol))
    return math.isclose(got, expected, rel_tol=rtol, abs_tol=1e-12)


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return f"({value[0]:.4g}, {value[1]:.4g})"
    return f"{value:.6g}"


def _mistake(exercise, answer) -> str:
    """The explanation of a registered common mistake that ``answer`` matches, or ``""``."""
    for wrong, why in exercise.mistakes:
        if _same(_value(wrong), answer, exercise.rtol):
            return why
    return ""


# ---------------------------------------------------------------------------------------------
# Questions

def check_answer(key: str, answer) -> Feedback:
    """Check an answer to the question ``key`` (see :data:`QUESTIONS`) without revealing it."""
    q = _question(key)
    if _missing(answer):
        return Feedback(False, f"Not answered yet: {q.text}", "not finished")
    expected = q.answer()
    try:
        got = _read(expected, answer)
    except _Unreadable as exc:
        return Feedback(False, str(exc), "different")
    if _same(expected, answer, q.rtol):
        return Feedback(True, f"Right: {_show(expected)}. {q.explanation}", "passed")
    more = f' hint("{q.key}") gives a first hint.' if q.hints else ""
    why = _mistake(q, answer)
    if why:
        return Feedback(False, f"Not quite: {_show(answer)}. {why}{more}", "different")
    if _kind(expected) == "name":
        return Feedback(False, f"Not {answer!r}. Run the experiment and look again.{more}", "different")
    if _kind(expected) == "point":
        return Feedback(False, f"Not ({got[0]:.4g}, {got[1]:.4g}). Look at where the path ends.{more}",
                        "different")
    direction = "too large" if got > expected else "too small"
    return Feedback(False, f"Not quite: {got:.6g} is {direction}.{more}", "different")


# ---------------------------------------------------------------------------------------------
# Predict, then run

_PREDICTED: dict[str, object] = {}         # what the student predicted, by key (this kernel only)


def predict(key: str, value) -> Feedback:
    """Record the student's prediction for the experiment ``key`` (before it runs)."""
    p = _exercise(key, PREDICTIONS)
    if _missing(value):
        _PREDICTED.pop(p.key, None)
        return Feedback(False, f"No prediction yet: {p.text}", "not finished")
    if p.choices is not None:
        if not isinstance(value, str) or value.strip().lower() not in [c.lower() for c in p.choices]:
            options = " or ".join(repr(c) for c in p.choices)
            return Feedback(False, f"Predict one of {options}; got {value!r}.", "different")
        value = next(c for c in p.choices if c.lower() == value.strip().lower())
    else:
        try:
            value = _read(p.answer(), value)
        except _Unreadable as exc:
            return Feedback(False, str(exc), "different")
    _PREDICTED[p.key] = value
    return Feedback(True, f"Prediction recorded: {_show(value)}. Now run the next cell.", "recorded")


def reveal(key: str, measured=None) -> Feedback:
    """Compare the recorded prediction with what the experiment ``key`` measured, and explain.

    ``measured`` (from the notebook's own run) must agree with the registered answer, else
    :class:`~gdviz.checks.ClaimFailed` is raised; without it, the registered answer is used.
    """
    p = _exercise(key, PREDICTIONS)
    expected = p.answer()
    if measured is not None and not _same(expected, measured, 0.0 if isinstance(expected, str) else 1e-6):
        raise ClaimFailed(f"✗ {p.key}: the experiment measured {_show(measured)}, but the exercise "
                          f"expects {_show(expected)}; the notebook and gdviz.exercise_bank disagree")
    outcome = expected if measured is None else measured
    if p.key not in _PREDICTED:
        return Feedback(False, f"Measured: {_show(outcome)}. {p.explanation}\n(You made no prediction: "
                               f"next time commit to one first; that is where the learning happens.)",
                        "not finished")
    guess = _PREDICTED[p.key]
    if _same(expected, guess, p.rtol):
        return Feedback(True, f"You predicted {_show(guess)}; measured {_show(outcome)}. "
                              f"{p.explanation}", "passed")
    why = _mistake(p, guess)
    if _kind(expected) == "number" and guess != 0:
        off = f" (the measured value is {outcome / guess:.3g} times your prediction)"
    else:
        off = ""
    return Feedback(False, f"You predicted {_show(guess)}; measured {_show(outcome)}{off}. "
                           + (f"{why} " if why else "") + p.explanation, "different")


# ---------------------------------------------------------------------------------------------
# Hints and worked solutions

@dataclass
class Shown:
    """Text shown in the notebook: a hint or a worked solution (code shows as a code block)."""

    text: str
    code: bool = False
    answer: object = None          # a solution's answer (a value, or the solution class)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        tag = "pre" if self.code else "div"
        body = html.escape(self.text) if self.code else html.escape(self.text).replace("\n", "<br>")
        return f'<{tag} class="gdviz-solution" style="padding:4px 10px">{body}</{tag}>'


Solution = Hint = Shown
_LEVELS = ("the idea", "the formula")


def hint(key: str, level: int = 1) -> Shown:
    """Hint number ``level`` for exercise ``key``: 1 the idea, 2 the formula; then :func:`solution`."""
    exercise = _exercise(key)
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or level < 1:
        raise ValueError(f"hint level must be 1, 2, ...; got {level!r}")
    if not exercise.hints:
        return Shown(f"No hints for {exercise.key}: {exercise.text}")
    if level > len(exercise.hints):
        return Shown(f"That was the last hint for {exercise.key}. "
                     f'solution("{exercise.key}") shows the worked solution.')
    name = _LEVELS[level - 1] if level <= len(_LEVELS) else f"hint {level}"
    more = (f' hint("{exercise.key}", {level + 1}) gives the next.' if level < len(exercise.hints)
            else f' solution("{exercise.key}") shows the worked solution.')
    return Shown(f"Hint {level} of {len(exercise.hints)} ({name}): {exercise.hints[level - 1]}\n{more.strip()}")


def solution(key: str) -> Shown:
    """The worked solution of an exercise: a key, or an optimizer's name (``"momentum"``).

    Displays as code (implement exercises) or as the answer with its explanation.
    """
    try:
        exercise = _exercise(key)
    except ValueError:
        cls = next((c for name, c in OPTIMIZERS.items() if name.lower() == str(key).lower()), None)
        if cls is None:
            raise
        exercise = Implementation(cls.__name__.lower(), f"write {cls.__name__}", "", reference=cls)
    if isinstance(exercise, Implementation):
        solved = exercise.solution_class
        if solved is None:
            name = exercise.reference.__name__
            return Shown(f"No worked solution for {name}: no exercise asks you to write it. Its rule is "
                         f'gdviz.{name}.step; show_rule("{name}") shows it beside its formula.')
        return Shown(inspect.getsource(solved), code=True, answer=solved)
    expected = exercise.answer()
    return Shown(f"{exercise.text}\nAnswer: {_show(expected).strip(chr(39))}\n{exercise.explanation}",
                 answer=expected)


# The exercises themselves, one section per notebook (imported last: it registers with the above).
from . import exercise_bank  # noqa: E402,F401
