"""The self-checking exercises: worked solutions, answers, notebook stubs and feedback.

* every worked solution in ``gdviz.solutions`` passes ``check_update``; a registered optimizer
  needs one only when an exercise asks students to write it (an implement exercise, or a
  notebook's ``check_update(MyX)``);
* every registered question's answer equals a closed form (or a loop) written here,
  independently of gdviz, and ``check_answer`` accepts it and rejects a wrong one;
* every notebook's exercise cells (tagged ``exercise``), run as a student first sees them,
  end in a ``Feedback`` whose status is "not finished": no crash, no false "passed";
* a wrong hand-written class is told the first step, parameter, index and both values, and a
  textbook variant is recognised by name.

Convention the notebook test relies on: an exercise cell is self-contained given the setup
cell (it may use np, plt, gdviz and what the setup cell imports) and its **last line** is the
check, ``check_update(MyX)`` or ``check_answer("key", my_answer)``.
"""
import ast
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import gdviz
from gdviz import solutions
from gdviz.exercises import QUESTIONS, Feedback, check_answer, check_update, solution

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


# --- worked solutions -------------------------------------------------------------------------
WORKED = [name for name, obj in vars(solutions).items()
          if isinstance(obj, type) and obj.__module__ == solutions.__name__]


def asked_for() -> dict[str, str]:
    """Every rule an exercise asks students to write, and where: an implement exercise's
    reference, or a notebook's ``check_update(MyX)`` (read now: the registry may have grown)."""
    from gdviz.exercises import IMPLEMENTATIONS
    asked = {ex.reference.__name__: f"exercise {ex.key!r}" for ex in IMPLEMENTATIONS.values()}
    for path in NOTEBOOKS:
        for name in re.findall(r"check_update\(My(\w+)", path.read_text(encoding="utf-8")):
            asked.setdefault(name, path.name)
    return asked


@pytest.mark.parametrize("name", WORKED)
def test_every_worked_solution_passes_its_check(name):
    feedback = check_update(getattr(solutions, name), name)
    assert feedback.passed and feedback.status == "passed", feedback.message


@pytest.mark.parametrize("name", list(gdviz.OPTIMIZERS))
def test_an_optimizer_has_a_worked_solution_where_an_exercise_asks_for_it(name):
    """A worked solution is optional: required when an exercise asks for the rule; a solution
    that exists passes; without one, solution(name) points at the class's own step."""
    solved, asked = getattr(solutions, name, None), asked_for()
    assert solved is not None or name not in asked, \
        f"{asked.get(name)} asks students to write {name}: gdviz/solutions.py needs its worked solution"
    shown = str(solution(name.lower()))
    if solved is None:
        assert f"gdviz.{name}.step" in shown, shown
    else:
        feedback = check_update(solved, name)
        assert feedback.passed and feedback.status == "passed", feedback.message
        assert f"class {name}" in shown


def test_the_rules_exercises_ask_for_are_found():
    """asked_for reads the registry and the notebooks (so the test above cannot pass vacuously)."""
    asked = asked_for()
    assert {"Nesterov", "RMSprop", "SGDStepDecay"} <= set(asked), asked
    assert not {"NAdam", "RAdam", "Adamax", "Lion"} & set(asked), asked


# --- questions: each answer against a closed form written here -------------------------------
def _gd_loop(grad, start, lr, steps):
    x, y = start
    for _ in range(steps):
        gx, gy = grad(x, y)
        x, y = x - lr * gx, y - lr * gy
    return x, y


def _classic_fastest():
    """The classic figure's runs, written out here: which has the lowest loss after 30 steps?"""
    f = lambda x, y: x * x / 20 + y * y                              # noqa: E731
    grad = lambda x, y: np.array([x / 10, 2 * y])                    # noqa: E731
    finals = {}
    theta = np.array([-7.0, 2.0])
    for _ in range(30):
        theta = theta - 0.95 * grad(*theta)
    finals["SGD"] = f(*theta)
    theta, v = np.array([-7.0, 2.0]), np.zeros(2)
    for _ in range(30):
        v = 0.9 * v - 0.1 * grad(*theta)
        theta = theta + v
    finals["Momentum"] = f(*theta)
    theta, h = np.array([-7.0, 2.0]), np.zeros(2)
    for _ in range(30):
        g = grad(*theta)
        h = h + g * g
        theta = theta - 1.5 * g / (np.sqrt(h) + 1e-10)
    finals["AdaGrad"] = f(*theta)
    theta, m, s = np.array([-7.0, 2.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 31):
        g = grad(*theta)
        m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g * g
        theta = theta - 0.3 * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.999 ** t)) + 1e-8)
    finals["Adam"] = f(*theta)
    return min(finals, key=finals.get)


def _himmelblau_minimum():
    grad = lambda x, y: (4 * x * (x * x + y - 11) + 2 * (x + y * y - 7),   # noqa: E731
                         2 * (x * x + y - 11) + 4 * y * (x + y * y - 7))
    return _gd_loop(grad, (0.0, 0.0), 0.01, 500)


def _rotated_best_losses(angle_degrees=45.0, steps=30):
    """Best loss after 30 steps over 80 learning rates, SGD and AdaGrad, on the turned valley."""
    c, s = math.cos(math.radians(angle_degrees)), math.sin(math.radians(angle_degrees))
    rotation = np.array([[c, -s], [s, c]])
    hessian = rotation @ np.diag([0.1, 2.0]) @ rotation.T
    lrs = np.geomspace(0.01, 10, 80)[:, None]
    best = {}
    for name in ("SGD", "AdaGrad"):
        theta, h = np.tile([-7.0, 2.0], (80, 1)), np.zeros((80, 2))
        for _ in range(steps):
            g = theta @ hessian
            if name == "SGD":
                theta = theta - lrs * g
            else:
                h = h + g * g
                theta = theta - lrs * g / (np.sqrt(h) + 1e-10)
        with np.errstate(all="ignore"):
            loss = 0.5 * np.einsum("ij,jk,ik->i", theta, hessian, theta)
        best[name] = np.nanmin(np.where(np.isfinite(loss), loss, np.nan))
    return best


def _heavy_ball_final_loss(lr, alpha, steps):
    theta, v = np.array([-7.0, 2.0]), np.zeros(2)
    for _ in range(steps):
        v = alpha * v - lr * np.array([theta[0] / 10, 2 * theta[1]])
        theta = theta + v
    return theta[0] ** 2 / 20 + theta[1] ** 2


def _first_exit_step(lr, bound=1000.0):
    """y_k = 2(1 − 2η)^k and x_k shrink or grow geometrically: the first k with a coordinate past the box."""
    for k in range(1, 1000):
        if abs(2 * (1 - 2 * lr) ** k) > bound or abs(-7 * (1 - lr / 10) ** k) > bound:
            return k
    return None


def _settled_loss(lr, sigma=1.0):                  # Var = (1 − ηλ)²Var + η²σ²,  E f = Σ ½λ Var
    return sum(0.5 * lam * lr ** 2 * sigma ** 2 / (1 - (1 - lr * lam) ** 2) for lam in (0.1, 2.0))


CLOSED_FORMS = {
    "quadratic_lr_limit": lambda: 2 / 3.0,                         # H = diag(3, 0.1): 2/λ_max
    "gd_x10": lambda: (1 - 0.5 / 10) ** 10 * -7,                  # x_k = (1 − η/10)^k x_0
    "momentum_effective_lr": lambda: 0.03 / (1 - 0.8),             # η/(1 − α)
    "momentum_lr_limit": lambda: 2 * (1 + 0.6) / 2.0,              # 2(1 + α)/λ_max
    "adagrad_first_point": lambda: (3 - 0.7 * 0.3 / (0.3 + 1e-10), -5 + 0.7 * 10 / (10 + 1e-10)),
    "adagrad_step_k": lambda: 0.5 / math.sqrt(400),                # η/√k
    "rmsprop_rate_crosses": lambda: next(k for k in range(1, 10**4)             # first k: 0.3/√(0.99^k·9) > 1
                                         if 0.3 / math.sqrt(0.99 ** k * 9) > 1),
    "adadelta_first_step": lambda: 1e-2 * 2 / math.sqrt(0.05 * 4 + 1e-4),   # √ε/√((1 − ρ)g² + ε)·g
    "adamw_halving": lambda: next(k for k in range(1, 10**5) if (1 - 0.05 * 0.02) ** k < 0.5),   # (1 − ηδ)^k
    "gd_millionfold": lambda: next(k for k in range(1, 10**4) if (19 / 21) ** k < 1e-6),   # ((κ−1)/(κ+1))^k, κ = 20
    "classic_fastest": _classic_fastest,
    "himmelblau_sgd_minimum": _himmelblau_minimum,
    "net_param_count": lambda: 64 * 100 + 100 + 100 * 10 + 10,     # Σ n_in·n_out + n_out
}

def _rmsprop_thrown_out(lr=0.3, rho=0.99, eps=1e-8, steps=300):
    """RMSprop on x²/20 + y² by hand: does the loss climb back above 0.1 after its lowest point?"""
    theta, h, losses = np.array([-7.0, 2.0]), np.zeros(2), []
    for _ in range(steps):
        g = np.array([theta[0] / 10, 2 * theta[1]])
        h = rho * h + (1 - rho) * g * g
        theta = theta - lr * g / (np.sqrt(h) + eps)
        losses.append(theta[0] ** 2 / 20 + theta[1] ** 2)
    lowest = int(np.argmin(losses))
    return "thrown back out" if max(losses[lowest:]) > 0.1 else "it stays"


def _digits_gd_above_limit(multiple=1.5, steps=300):
    """Notebook 07's run, written out here: full-batch gradient descent on [64, 32, 10] and 256
    digits at η = multiple·2/λ_max (λ_max from gdviz, tested against eigvalsh in test_network)."""
    from gdviz.data import load_digits
    from gdviz.landscape import top_eigenvalue
    from gdviz.network import MLP
    X, y = (part[:256] for part in load_digits()[:2])
    lam, _ = top_eigenvalue(MLP([64, 32, 10], seed=0), X, y, iterations=100, tol=1e-6)
    W1, b1, W2, b2 = (v.copy() for v in MLP([64, 32, 10], seed=0).params.values())
    lr, losses = multiple * 2 / lam, []
    for _ in range(steps):
        z1 = X @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        p = np.exp(z2 - z2.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        losses.append(-np.mean(np.log(p[np.arange(256), y])))
        d2 = (p - np.eye(10)[y]) / 256
        d1 = d2 @ W2.T * (z1 > 0)
        W1, b1, W2, b2 = W1 - lr * X.T @ d1, b1 - lr * d1.sum(0), W2 - lr * a1.T @ d2, b2 - lr * d2.sum(0)
    rose = np.any(np.diff(losses) > 0)
    return "spikes, then trains" if rose and losses[-1] < losses[0] / 2 else "?"


def _himmelblau_adam_without_correction(lr=0.3, b1=0.9, b2=0.999, eps=1e-8, steps=200):
    """Adam without bias correction on Himmelblau's function from (0, 0), by hand: where does it end?"""
    theta, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for _ in range(steps):
        x, y = theta
        a, b = x * x + y - 11, x + y * y - 7
        g = np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        theta = theta - lr * m / (np.sqrt(v) + eps)
    return "the same minimum" if np.allclose(theta, (3.0, 2.0), atol=1e-2) else "a different minimum"


def _adam_grid_diverged_share(steps=100):
    """Adam by hand on x²/20 + y² from (−7, 2), 100 × 100 (η, β₁) at once: the share that left |θ| ≤ 1000."""
    lr, b1 = (a.ravel()[:, None] for a in np.meshgrid(np.geomspace(1e-3, 3, 100), np.linspace(0, 0.99, 100)))
    theta, m, v = np.tile([-7.0, 2.0], (lr.size, 1)), np.zeros((lr.size, 2)), np.zeros((lr.size, 2))
    gone = np.zeros(lr.size, dtype=bool)
    for t in range(1, steps + 1):
        g = theta * np.array([0.1, 2.0])
        m, v = b1 * m + (1 - b1) * g, 0.999 * v + 0.001 * g * g
        theta = theta - lr * m / (1 - b1 ** t) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        gone |= ~np.all(np.isfinite(theta) & (np.abs(theta) <= 1000), axis=1)
    return gone.mean()


PREDICTION_CLOSED_FORMS = {
    "divergence_speed": lambda: ("after dozens of steps" if 10 <= _first_exit_step(1.05) < 100 else "?"),
    "noise_half_eta": lambda: {0.5: "half", 0.25: "a quarter", 1.0: "the same"}[
        min((0.25, 0.5, 1.0), key=lambda r: abs(_settled_loss(0.1) / _settled_loss(0.2) - r))],
    "momentum_slippery": lambda: "above" if _heavy_ball_final_loss(0.1, 0.99, 100) > 0.01 else "below",
    "rotated_adagrad": lambda: min(_rotated_best_losses(), key=_rotated_best_losses().get),
    "rmsprop_thrown_out": _rmsprop_thrown_out,
    # σ²/B·(n − B)/(n − 1) with n = 1442 training digits: from B = 16 to 64 the ratio is 0.242
    "net_batch_noise": lambda: "quarter" if abs(16 / 64 * (1442 - 64) / (1442 - 16) - 0.25) < 0.01 else "?",
    "net_above_limit": _digits_gd_above_limit,
    "adam_without_bias_minimum": _himmelblau_adam_without_correction,
    "adam_bowl_diverges": lambda: "none of it" if _adam_grid_diverged_share() == 0 else "?",
}


def test_every_question_has_a_closed_form_here():
    assert set(QUESTIONS) == set(CLOSED_FORMS), \
        "write an independent closed form in CLOSED_FORMS for each registered question"


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_question_answer_matches_closed_form(key):
    question, expected = QUESTIONS[key], CLOSED_FORMS[key]()
    got = question.answer()
    if isinstance(expected, str):
        assert got == expected
        assert check_answer(key, expected.lower()).passed
        assert not check_answer(key, "Nesterov" if expected != "Nesterov" else "SGD").passed
    elif isinstance(expected, tuple):
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-9)
        assert check_answer(key, expected).passed
        assert not check_answer(key, (expected[0] + 1, expected[1])).passed
    else:
        assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-15), (got, expected)
        assert check_answer(key, expected).passed
        wrong = check_answer(key, expected + 0.1 * abs(expected))
        assert not wrong.passed and "too large" in wrong.message
        shown = re.escape(f"{expected:.6g}")                    # feedback never gives it away
        assert not re.search(rf"(?<![\d.]){shown}(?!\d|\.\d)", wrong.message), wrong.message
    unanswered = check_answer(key, ...)
    assert unanswered.status == "not finished" and not unanswered.passed
    assert question.notebook.endswith(".ipynb")


# --- the notebooks' exercise cells, unfinished, as a student opens them ----------------------------
def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _run_cell(code, namespace):
    """Execute a cell; return the value of its last line if that is an expression (as Jupyter shows it)."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    return None


EXERCISE_CELLS = [(path, i) for path in NOTEBOOKS
                  for i, cell in enumerate(_cells(path))
                  if "exercise" in cell.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("path, index", EXERCISE_CELLS,
                         ids=[f"{p.name}-cell{i}" for p, i in EXERCISE_CELLS])
def test_exercise_stub_is_not_finished_but_runs(path, index, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib
    matplotlib.use("Agg")
    cells = _cells(path)
    setup = next(_source(cell) for cell in cells if cell["cell_type"] == "code")
    namespace = {"__name__": "__main__"}
    _run_cell(setup, namespace)
    result = _run_cell(_source(cells[index]), namespace)
    assert isinstance(result, Feedback), \
        f"{path.name} cell {index}: the last line must be check_update(...) or check_answer(...)"
    assert result.status == "not finished" and not result.passed, \
        f"{path.name} cell {index}: an unsolved stub must say 'not finished', got: {result}"


# --- feedback on a wrong answer -------------------------------------------------------------------
class RecordingMomentum:
    """Momentum that forgets its velocity from step 3 on, recording what it was given."""

    calls = []

    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum, self.v, self.t = lr, momentum, None, 0

    def update(self, params, grads):
        type(self).calls.append(({k: np.array(v, dtype=float) for k, v in params.items()},
                                 {k: np.array(g, dtype=float) for k, g in grads.items()}))
        self.t += 1
        if self.v is None:
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        for key in params:
            keep = self.momentum if self.t < 3 else 0.0          # the bug: α dropped at step 3
            self.v[key] = keep * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


def test_wrong_class_is_told_step_parameter_and_both_values():
    RecordingMomentum.calls = []
    feedback = check_update(RecordingMomentum, "Momentum")
    assert not feedback.passed and feedback.status == "different"
    # What the checker gave the class, in order (its first run stops at the first difference;
    # any later calls come from its search for a known variant and are never reached below).
    calls = RecordingMomentum.calls
    lr, alpha = 0.05, 0.8                                   # exercises.CHECK_SETTINGS["Momentum"]
    start, _ = calls[0]
    theta = {k: v.copy() for k, v in start.items()}
    v = {k: np.zeros_like(x) for k, x in theta.items()}
    theta_bug = {k: x.copy() for k, x in theta.items()}
    v_bug = {k: np.zeros_like(x) for k, x in theta.items()}
    for step, (_, grads) in enumerate(calls, start=1):
        for key in theta:
            v[key] = alpha * v[key] - lr * grads[key]
            theta[key] = theta[key] + v[key]
            v_bug[key] = (alpha if step < 3 else 0.0) * v_bug[key] - lr * grads[key]
            theta_bug[key] = theta_bug[key] + v_bug[key]
        differs = [(key, tuple(int(i) for i in np.argwhere(~np.isclose(theta_bug[key], theta[key],
                                                                      rtol=1e-9, atol=1e-12))[0]))
                   for key in theta if not np.allclose(theta_bug[key], theta[key], rtol=1e-9, atol=1e-12)]
        if differs:
            key, index = differs[0]
            break
    assert step == 3
    where = f"params[{key!r}][{', '.join(map(str, index))}]"
    assert f"Step 3, {where}" in feedback.message
    assert f"expected {theta[key][index]:.10g}" in feedback.message
    assert f"got {theta_bug[key][index]:.10g}" in feedback.message
    assert "lr=0.05" in feedback.message and "momentum=0.8" in feedback.message


class TextbookAdam:
    """Adam as 'Deep Learning from Scratch' writes it (bias correction folded into η)."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


def test_textbook_adam_is_recognised():
    feedback = check_update(TextbookAdam, "Adam")
    assert not feedback.passed and feedback.status == "different"
    assert "TextbookAdam" in feedback.message


class UnfinishedSGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            ...


class RaisingMomentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum

    def update(self, params, grads):
        raise NotImplementedError


@pytest.mark.parametrize("cls, name", [(UnfinishedSGD, "SGD"), (RaisingMomentum, "Momentum")])
def test_unfinished_classes_are_not_finished(cls, name):
    feedback = check_update(cls, name)
    assert feedback.status == "not finished" and not feedback.passed


# --- the framework: hints, mistakes, predictions, implement-it exercises --------------------------
from gdviz import exercises  # noqa: E402
from gdviz.checks import ClaimFailed  # noqa: E402
from gdviz.exercises import (IMPLEMENTATIONS, PREDICTIONS, hint, predict, reveal)  # noqa: E402

GRADED = sorted(key for key, exercise in {**QUESTIONS, **IMPLEMENTATIONS}.items() if exercise.hints)


@pytest.mark.parametrize("key", GRADED)
def test_two_graded_hints_then_the_solution(key):
    first, second, beyond = hint(key), hint(key, 2), hint(key, 3)
    assert str(first).startswith("Hint 1 of 2 (the idea): ") and f'hint("{key}", 2)' in str(first)
    assert str(second).startswith("Hint 2 of 2 (the formula): ") and f'solution("{key}")' in str(second)
    assert f'solution("{key}")' in str(beyond) and "last hint" in str(beyond)
    assert first._repr_html_().startswith("<div")
    with pytest.raises(ValueError, match="hint level"):
        hint(key, 0)


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_the_worked_solution_passes_its_own_checker(key):
    shown = solution(key)
    assert check_answer(key, shown.answer).passed
    assert QUESTIONS[key].text in str(shown)


@pytest.mark.parametrize("key", sorted(k for k, q in QUESTIONS.items() if q.mistakes))
def test_each_common_mistake_is_named_not_answered(key):
    q = QUESTIONS[key]
    for wrong, why in q.mistakes:
        wrong = exercises._value(wrong)
        assert not q.accepts(wrong), f"{key}: the mistake {wrong!r} would be accepted"
        feedback = check_answer(key, wrong)
        assert not feedback.passed and feedback.status == "different"
        assert why in feedback.message


@pytest.mark.parametrize("key", sorted(IMPLEMENTATIONS))
def test_implement_exercise_solution_passes_and_mistakes_are_named(key):
    exercise = IMPLEMENTATIONS[key]
    assert exercise.solution_class is not None, f"gdviz.solutions has no {exercise.reference.__name__}"
    assert check_update(exercise.solution_class, key).status == "passed"
    student_name = "My" + exercise.reference.__name__
    assert check_update(type(student_name, (exercise.solution_class,), {})).status == "passed", \
        "check_update(MyX) must find the reference from the class name"
    shown = solution(key)
    assert shown.code and f"class {exercise.reference.__name__}" in str(shown)
    for wrong, why in exercise.mistakes:
        feedback = check_update(wrong, key)
        assert feedback.status == "different" and why in feedback.message, feedback.message


def test_an_unregistered_reference_needs_its_settings():
    """SGD with step decay is checked with T = 3 (so 10 steps see three decays), not its defaults."""
    exercise = IMPLEMENTATIONS["sgd_step_decay"]
    assert exercise.settings["every"] < 10 / 3
    assert "every=3" in check_update(exercises.exercise_bank._NoDecay, "sgd_step_decay").message


@pytest.mark.parametrize("key", sorted(PREDICTIONS))
def test_prediction_answer_matches_closed_form(key):
    assert PREDICTIONS[key].answer() == PREDICTION_CLOSED_FORMS[key]()


def test_every_prediction_has_a_closed_form_here():
    assert set(PREDICTIONS) == set(PREDICTION_CLOSED_FORMS)


@pytest.mark.parametrize("key", sorted(PREDICTIONS))
def test_predict_then_reveal(key):
    p = PREDICTIONS[key]
    answer = p.answer()
    assert predict(key, ...).status == "not finished"
    unpredicted = reveal(key)
    assert unpredicted.status == "not finished" and "no prediction" in unpredicted.message
    assert predict(key, answer.upper() if isinstance(answer, str) else answer).status == "recorded"
    right = reveal(key, answer)
    assert right.passed and p.explanation in right.message
    for wrong, why in p.mistakes:
        assert predict(key, wrong).status == "recorded"
        told = reveal(key)
        assert not told.passed and why in told.message and p.explanation in told.message
    if p.choices:
        assert predict(key, "none of these").status == "different"
        with pytest.raises(ClaimFailed, match="disagree"):
            reveal(key, "none of these")
    predict(key, ...)


def test_numeric_prediction_says_how_far_off():
    exercises.prediction("_test_numeric", "How many?", "Because.", "none.ipynb", rtol=0.1,
                         mistakes=((lambda: 20.0, "You doubled it."),))(lambda: 10.0)
    try:
        predict("_test_numeric", 10.5)
        assert reveal("_test_numeric", 10.0).passed
        predict("_test_numeric", 20)
        told = reveal("_test_numeric", 10.0)
        assert "0.5 times your prediction" in told.message and "You doubled it." in told.message
        with pytest.raises(ClaimFailed):
            reveal("_test_numeric", 10.1)
        assert predict("_test_numeric", "ten").status == "different"
    finally:
        for registry in (exercises.EXERCISES, exercises.PREDICTIONS):
            registry.pop("_test_numeric", None)


def test_keys_are_unique_across_kinds():
    with pytest.raises(ValueError, match="already used"):
        exercises.prediction("gd_x10", "?", "", "none.ipynb")(lambda: 1.0)


def test_the_step_decay_reference_steps_like_gdviz_schedules():
    """The exercise's reference (η γ^⌊(t−1)/T⌋) and run(..., schedule=schedules.step(T, γ)) agree."""
    from gdviz.exercise_bank import SGDStepDecay
    with_schedule = gdviz.run("SGD", "elongated_bowl", steps=12, lr=0.3,
                              schedule=gdviz.schedules.step(4, 0.5))
    reference = gdviz.run(SGDStepDecay(lr=0.3, every=4, factor=0.5), "elongated_bowl", steps=12)
    assert np.allclose(with_schedule.points, reference.points, rtol=1e-12, atol=0)
    x, y = -7.0, 2.0                                     # and both against the loop written here
    for t in range(1, 13):
        lr = 0.3 * 0.5 ** ((t - 1) // 4)
        x, y = x - lr * x / 10, y - lr * 2 * y
    assert np.allclose(reference.points[-1], [x, y], rtol=1e-12)
