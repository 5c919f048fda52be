"""Tests that kill bugs which once survived the whole suite (issue 12's surviving mutants).

Each test names the planted bug it catches. Expected values come from closed forms, from the
sweep's own measured divergence, or from the registry's answer functions, never from the
code path under test.
"""
import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import gdviz
from gdviz import exercises

matplotlib.use("Agg")
import gdviz.plotting as gp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --- stability maps over η alone draw each optimizer's own limit -------------------------------------
# Mutant: in the one-hyperparameter (η only) branch, Nesterov's map drew Momentum's limit
# 2(1 + α)/λ_max instead of Nesterov's 2(1 + α)/((1 + 2α)λ_max); nothing drew a 1-D Nesterov map.
def _closed_form_limit(name: str, alpha: float, lam_max: float) -> float:
    return {"SGD": 2 / lam_max,
            "Momentum": 2 * (1 + alpha) / lam_max,
            "Nesterov": 2 * (1 + alpha) / ((1 + 2 * alpha) * lam_max)}[name]


@pytest.mark.parametrize("name, alpha", [("SGD", None), ("Momentum", 0.9), ("Nesterov", 0.9),
                                         ("Nesterov", 0.5)])
def test_learning_rate_only_map_draws_the_optimizers_own_limit(name, alpha):
    lam_max = float(np.linalg.eigvalsh(gdviz.get_surface("elongated_bowl").hessian).max())
    lrs = np.geomspace(0.05, 3, 60)
    fixed = {} if alpha is None else {"momentum": alpha}
    result = gdviz.sweep(name, "elongated_bowl", lr=lrs, steps=300, **fixed)
    line = gp.plot_stability_map(result)
    theory = [artist for artist in line.axes.get_lines() if artist.get_gid() == "theory"]
    assert len(theory) == 1, f"{name}: expected one theory line on the η-only map"
    drawn = float(np.unique(theory[0].get_xdata())[0])
    np.testing.assert_allclose(drawn, _closed_form_limit(name, alpha or 0.0, lam_max), rtol=1e-12)
    # and the sweep itself agrees: every η below the line converged, the first one above diverged
    largest_stable, smallest_diverged = lrs[~result.diverged].max(), lrs[result.diverged].min()
    assert largest_stable < drawn <= smallest_diverged, (name, largest_stable, drawn, smallest_diverged)
    matplotlib.pyplot.close("all")


# --- check_answer's tolerance is the question's ------------------------------------------------------
# Mutants: rtol 1e-3 -> 1e-2 (the default for questions), or rel_tol=10 * rtol in the comparison:
# only a +10 % wrong answer was ever tried. Here every registered numeric (and point) question is
# answered at ±0.5·rtol (accepted) and ±2·rtol (rejected), where rtol is the tolerance the bank
# *declares* (read from its source; the documented default 1e-3 where it declares none).
DOCUMENTED_DEFAULT_RTOL = 1e-3      # gdviz/exercises.py: "rtol is how close counts as right"


def _declared_rtols() -> dict[str, float]:
    """{question key: rtol} from every question(...) call in gdviz's sources."""
    declared = {}
    for path in sorted((ROOT / "gdviz").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "question"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            rtol = [kw.value for kw in node.keywords if kw.arg == "rtol"]
            rtol = rtol or node.args[4:5]          # question(key, text, explanation, notebook, rtol)
            declared[node.args[0].value] = (ast.literal_eval(rtol[0]) if rtol
                                            else DOCUMENTED_DEFAULT_RTOL)
    return declared


DECLARED = _declared_rtols()


def test_every_registered_question_is_declared_in_the_source():
    registered = set(exercises.QUESTIONS)
    assert registered and registered <= set(DECLARED), sorted(registered - set(DECLARED))


def _numeric_questions():
    keys = []
    for key, q in exercises.QUESTIONS.items():
        expected = q.answer()
        if not isinstance(expected, str):
            keys.append(key)
    return keys


@pytest.mark.parametrize("key", _numeric_questions())
def test_check_answer_accepts_half_the_tolerance_and_rejects_twice_it(key):
    q = exercises.QUESTIONS[key]
    rtol = DECLARED[key]
    assert q.rtol == rtol, f"{key}: registered rtol {q.rtol}, the bank declares {rtol}"
    expected = q.answer()
    if isinstance(expected, tuple):                  # a point: allclose with rtol and atol = rtol
        e = np.asarray(expected, dtype=float)
        scale = rtol * (1 + np.abs(e))
        near = [tuple(e + s * 0.5 * scale) for s in (1, -1)]
        far = [tuple(e + s * 2 * scale) for s in (1, -1)]
        far += [(e[0] + 2 * scale[0], e[1]), (e[0], e[1] - 2 * scale[1])]
    else:
        e = float(expected)
        assert e != 0, f"{key}: a zero answer has no relative tolerance to test"
        near = [e * (1 + 0.5 * rtol), e * (1 - 0.5 * rtol)]
        far = [e * (1 + 2 * rtol), e * (1 - 2 * rtol)]
        if rtol == 0:                                # an exact answer (a whole number of steps)
            far = [e * (1 + 1e-9), e * (1 - 1e-9), e + 1, e - 1]
    for answer in near:
        assert exercises.check_answer(key, answer).passed, f"{key}: {answer} within rtol/2 of {expected}"
    for answer in far:
        feedback = exercises.check_answer(key, answer)
        assert not feedback.passed, f"{key}: {answer} is 2·rtol from {expected} yet accepted"


def test_the_tolerance_test_covers_numbers_and_points():
    kinds = {type(exercises.QUESTIONS[key].answer()).__name__ for key in _numeric_questions()}
    assert "tuple" in kinds and kinds - {"tuple"}, kinds


# --- tools/notebook_header.py --check looks at every notebook ----------------------------------------
# Mutant: --check skipped the last notebook; it was only ever run on clean notebooks.
def _header_tool_copy(tmp_path: Path) -> Path:
    """A copy of the tool, gdviz/_project.py and notebooks/ laid out as in the repository."""
    for rel in ("tools/notebook_header.py", "gdviz/_project.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints", "__pycache__"))
    return tmp_path


def _check(root: Path, *paths: Path):
    return subprocess.run([sys.executable, str(root / "tools" / "notebook_header.py"), "--check",
                           *map(str, paths)], cwd=root, capture_output=True, text=True)


def test_header_check_fails_on_each_changed_notebook_and_names_it(tmp_path):
    root = _header_tool_copy(tmp_path)
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 2
    clean = _check(root)
    assert clean.returncode == 0, clean.stderr
    for path in notebooks:
        original = path.read_text(encoding="utf-8")
        nb = json.loads(original)
        code = next(cell for cell in nb["cells"][2:] if cell["cell_type"] == "code")
        code["execution_count"] = 7                    # as if saved after running
        path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
        for args in ((), (*notebooks,)):              # every notebook by default, and listed
            result = _check(root, *args)
            assert result.returncode == 1, f"--check passed with {path.name} changed"
            named = {p.name for p in notebooks if p.name in result.stderr}
            assert named == {path.name}, f"{path.name} changed; --check named {sorted(named)}"
        path.write_text(original, encoding="utf-8")
    assert _check(root).returncode == 0


# --- the core's own checks and the anatomy's decompositions (survivors of tools/mutate.py) ----------
def _defines_step_terms(cls) -> bool:
    return any("step_terms" in vars(base) for base in cls.__mro__
               if base is not gdviz.optimizers.Optimizer and issubclass(base, gdviz.optimizers.Optimizer))


@pytest.mark.parametrize("name", [n for n, c in gdviz.OPTIMIZERS.items() if _defines_step_terms(c)])
def test_every_decomposition_a_class_gives_adds_up_to_its_steps(name):
    """A class's step_terms that does not add up is silently replaced by the whole step (with
    a note); so a sign or factor slip in one went unseen. Every class that gives one must add up,
    at every step (the first, with bias corrections, and later ones): at its defaults, with
    every hyperparameter moved off its default (weight decay on), with noisy gradients whose
    signs flip, and from the valley's axis, where one coordinate's gradient is exactly 0."""
    from gdviz.optimizers import _check_settings
    runs = [gdviz.run(name, "rotated_bowl", steps=6),
            gdviz.run(name, "rotated_bowl", steps=6, **_check_settings(gdviz.OPTIMIZERS[name])),
            gdviz.run(name, "elongated_bowl", steps=12, noise=3.0, seed=4),
            gdviz.run(name, "elongated_bowl", start=(-7.0, 0.0), steps=4)]
    for traj in runs:
        for k in range(1, traj.n_steps + 1):
            parts = gp.step_terms(traj, k)
            assert parts.note == "", f"{traj.label}, step {k}: {parts.note}"
            total = np.sum([vector for _, vector in parts.terms], axis=0)
            np.testing.assert_allclose(total, traj.points[k] - traj.points[k - 1], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bad", [np.array([1 + 2j, 0j]), np.array([None, 1.0], dtype=object),
                                 "12", b"12"])
def test_a_gradient_that_is_not_real_numbers_is_refused(bad):
    opt = gdviz.optimizers.SGD(lr=0.1)
    theta = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"grads\['x'\] must be a numeric array"):
        opt.update({"x": theta}, {"x": bad})
    np.testing.assert_array_equal(theta, [1.0, 2.0])


def test_interleaved_views_of_one_array_are_separate_parameters():
    """x[::2] and x[1::2] may share memory by numpy's quick test but do not overlap: they are
    two parameters, each stepped from its own gradient. Overlapping views are refused."""
    base = np.array([1.0, 10.0, 2.0, 20.0])
    opt = gdviz.optimizers.SGD(lr=0.5)
    opt.update({"even": base[::2], "odd": base[1::2]}, {"even": np.array([2.0, 2.0]),
                                                         "odd": np.array([4.0, 4.0])})
    np.testing.assert_array_equal(base, [0.0, 8.0, 1.0, 18.0])
    with pytest.raises(ValueError, match="share the same memory"):
        opt.update({"a": base[:3], "b": base[2:]}, {"a": np.zeros(3), "b": np.zeros(2)})


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "AdaGrad", "Adadelta"])
def test_eps_zero_limit_holds_for_a_swept_eps_too(name):
    """ε = 0 means the limit ε → 0⁺ (0/0 steps of a coordinate whose gradient has always been 0
    are 0). A sweep holds ε as an array, which takes another branch than a single float: started
    on the valley's axis, y's gradient is 0, and every configuration must match the single run."""
    start = (-7.0, 0.0)
    result = gdviz.sweep(name, "elongated_bowl", start=start, steps=40, lr=[0.05, 0.3], eps=[0.0])
    assert not result.diverged.any()
    for i, lr in enumerate([0.05, 0.3]):
        single = gdviz.run(name, "elongated_bowl", start=start, steps=40, lr=lr, eps=0.0)
        assert single.final_point[1] == 0.0 and np.isfinite(single.final_loss)
        np.testing.assert_allclose(result.final_loss[i, 0], single.final_loss, rtol=1e-12)


# --- schedules -------------------------------------------------------------------------------------
def test_a_warm_up_reaches_full_eta_at_its_last_step_even_before_another_warm_up():
    """factor(t) = t/W up to and including t = W, then the next schedule from its own step 1.
    Every other schedule also starts at 1, so only a second warm-up shows where the first ends."""
    from gdviz import schedules
    np.testing.assert_allclose(schedules.warmup(3, then=schedules.warmup(2)).factor(np.arange(1, 7)),
                               [1 / 3, 2 / 3, 1, 1 / 2, 1, 1], rtol=1e-15)


def test_a_warm_up_label_names_what_follows_only_if_something_does():
    from gdviz import schedules
    assert schedules.warmup(5).label == "warm-up over 5 steps"
    assert schedules.warmup(5, then=schedules.exponential(0.9)).label.endswith(", then η×0.9 per step")


# --- hyperparameter ranges and their messages ---------------------------------------------------------
def test_a_closed_upper_end_is_inside_the_range():
    """No registered hyperparameter has a closed upper end yet; a new optimizer's may."""
    import dataclasses

    from gdviz.hyperparams import LR, MOMENTUM
    closed = dataclasses.replace(MOMENTUM, high_closed=True)
    assert closed.contains(1.0) and not MOMENTUM.contains(1.0)
    assert closed.validate(1.0) == 1.0 and closed.range_text.endswith("1]")
    assert MOMENTUM.contains(0.0) and not LR.contains(0.0)
    assert not closed.contains(np.nextafter(1.0, 2.0))


def test_a_bad_value_is_named_as_a_number_or_as_part_of_an_array():
    with pytest.raises(ValueError, match=r"got -1\.0 \(") as scalar:
        gdviz.optimizers.SGD(lr=-1)
    assert "array" not in str(scalar.value)
    with pytest.raises(ValueError, match=r"got an array containing -1\.0 \("):
        gdviz.optimizers.SGD(lr=np.array([0.1, -1.0]))


def test_measured_rate_refuses_a_run_already_at_the_minimum():
    from gdviz import theory
    at_minimum = gdviz.run("SGD", "elongated_bowl", start=(0.0, 0.0), steps=10)
    with pytest.raises(ValueError, match="exactly at the minimum at step 5"):
        theory.measured_rate(at_minimum)
    one_away = gdviz.run("SGD", "elongated_bowl", start=(0.0, 1.0), steps=2, lr=0.25)  # y: 1, 0.5, 0.25
    assert theory.measured_rate(one_away, first=0, last=2) == pytest.approx(0.5, rel=1e-12)


def test_a_runs_label_names_its_settings_and_only_a_schedule_that_changes_eta():
    from gdviz import schedules
    assert gdviz.run("Momentum", lr=0.1, momentum=0.9, steps=2).label == "Momentum (η=0.1, α=0.9)"
    assert gdviz.run("SGD", lr=0.1, steps=2, schedule=schedules.constant()).label == "SGD (η=0.1)"
    stepped = gdviz.run("SGD", lr=0.1, steps=2, noise=0.5, seed=1, schedule=schedules.step(10, 0.5))
    assert stepped.label == f"SGD (η=0.1, σ=0.5, {schedules.step(10, 0.5).label})"


def test_a_run_may_take_zero_steps_and_at_most_a_million():
    none = gdviz.run("SGD", steps=0)
    assert none.n_steps == 0 and len(none.points) == 1
    with pytest.raises(ValueError, match=r"steps must be in \[0, 1000000\], got 1000001"):
        gdviz.run("SGD", steps=1_000_001)


def test_run_defaults_bounds_seeds_and_noise():
    assert gdviz.run("SGD").n_steps == 30                      # the documented default
    with pytest.raises(ValueError, match=r"must be in \(0, inf\], got 0"):
        gdviz.run("SGD", bound=0)
    assert gdviz.run("SGD", start=(0.1, 0.1), bound=0.5, steps=3).n_steps == 3
    with pytest.raises(ValueError, match="seed must be None or a whole number >= 0, got -1"):
        gdviz.run("SGD", noise=0.1, seed=-1)
    # σ adds N(0, σ²) draws of default_rng(seed) to the true gradient, here written out
    traj = gdviz.run("SGD", "elongated_bowl", steps=3, lr=0.1, noise=0.5, seed=0)
    rng, theta = np.random.default_rng(0), np.array([-7.0, 2.0])
    for _ in range(3):
        theta = theta - 0.1 * (np.array([theta[0] / 10, 2 * theta[1]]) + 0.5 * rng.standard_normal(2))
    np.testing.assert_allclose(traj.final_point, theta, rtol=1e-13)


# --- sweep: where the loss gap counts, the box, the noise, the defaults ------------------------------
def _first_within(traj, tol):
    """The first step k whose loss gap f − f_min is at most tol (0 if the start is), or −1."""
    gaps = np.asarray(traj.losses) - traj.surface.min_value
    hits = np.flatnonzero(gaps <= tol)
    return int(hits[0]) if hits.size else -1


def test_sweep_counts_steps_to_the_gap_to_the_minimum_not_to_zero_loss():
    """On the saddle f_min = −0.25: starting at f = 0 (gap 0.25) nothing is converged yet."""
    lrs = [0.05, 0.1, 0.2]
    result = gdviz.sweep("SGD", "saddle", start=(0.0, 0.5), steps=200, tol=1e-6, lr=lrs)
    for i, lr in enumerate(lrs):
        single = gdviz.run("SGD", "saddle", start=(0.0, 0.5), steps=200, lr=lr)
        assert result.steps_to_tol[i] == _first_within(single, 1e-6) > 0, lr


def test_sweep_started_inside_tol_took_zero_steps_and_an_exact_hit_counts():
    at_minimum = gdviz.sweep("SGD", "elongated_bowl", start=(0.0, 0.0), steps=5, tol=0.0, lr=[0.1, 0.5])
    assert at_minimum.steps_to_tol.tolist() == [0, 0] and at_minimum.converged.all()
    # from (0, 2) with η = 0.5, y ← (1 − 2η)y = 0: the minimum exactly, at step 1
    exact = gdviz.sweep("SGD", "elongated_bowl", start=(0.0, 2.0), steps=5, tol=0.0, lr=[0.5, 0.25])
    assert exact.steps_to_tol.tolist() == [1, -1]


@pytest.mark.parametrize("k", [4, 10])
def test_sweep_divergence_box_is_exact_at_the_bound_itself(k):
    """As for run: η = 1.25 makes y_k = 2·(−1.5)^k exactly; on the bound is inside."""
    result = gdviz.sweep("SGD", "elongated_bowl", steps=100, lr=[1.25], bound=2 * 1.5 ** k)
    assert result.diverged_at.tolist() == [k + 1]


def test_sweep_noise_and_defaults():
    result = gdviz.sweep("SGD", "elongated_bowl", lr=[0.1], noise=0.5, seed=0, steps=3, tol=1e-9)
    rng, theta = np.random.default_rng(0), np.array([-7.0, 2.0])
    for _ in range(3):                 # per step: one draw for every x, then one for every y
        noise = np.array([rng.standard_normal(1)[0], rng.standard_normal(1)[0]])
        theta = theta - 0.1 * (np.array([theta[0] / 10, 2 * theta[1]]) + 0.5 * noise)
    np.testing.assert_allclose(result.final_points[0], theta, rtol=1e-13)
    defaults = gdviz.sweep("SGD", lr=[0.1])
    assert (defaults.steps, defaults.tol) == (200, 1e-6)


def test_the_rotated_bowl_is_turned_by_45_degrees_by_default():
    """R diag(2/κ, 2) Rᵀ at 45°: (a + b)/2 on the diagonal and (a − b)/2 off it (a = 0.1, b = 2)."""
    bowl = gdviz.get_surface("rotated_bowl")
    np.testing.assert_allclose(bowl.hessian, [[1.05, -0.95], [-0.95, 1.05]], rtol=1e-12)
    assert r"\mathrm{diag}(0.1,\ 2)" in bowl.latex and r"rotation by } 45^\circ" in bowl.latex


# --- survivors of the full `dev.py mutate` run (778 mutants) -------------------------------------
def test_a_sweep_keeps_a_point_exactly_on_the_bound_in_x_inside():
    """SGD with η = 20 on x²/20 + y² from (1000, 0): x₁ = 1000 − 20·(1000/10) = −1000 exactly, on the
    default bound, so inside; the run swings between ±1000 and never leaves. Just above η = 20 it does."""
    on_edge = gdviz.sweep("SGD", "elongated_bowl", start=(1000.0, 0.0), steps=3, lr=[20.0, 20.5])
    np.testing.assert_array_equal(on_edge.diverged, [False, True])
    assert on_edge.final_points[0].tolist() == [-1000.0, 0.0]
    assert not gdviz.run("SGD", "elongated_bowl", start=(1000.0, 0.0), steps=3, lr=20.0).diverged


def test_a_surface_defined_with_register_false_stays_out_of_the_registry():
    class Unlisted(gdviz.Surface, register=False):
        name = "unlisted_test_surface"

        def f(self, x, y):
            return x ** 2 + y ** 2

        def grad(self, x, y):
            return 2 * x, 2 * y

    assert "unlisted_test_surface" not in gdviz.SURFACES


def test_an_unknown_surface_parameter_names_the_ones_it_has():
    with pytest.raises(TypeError) as caught:
        gdviz.get_surface("rotated_bowl", tilt=30)
    message = str(caught.value)
    assert "tilt" in message and "angle" in message and "condition" in message
    with pytest.raises(TypeError, match="its parameters: none"):
        gdviz.get_surface("elongated_bowl", tilt=30)
