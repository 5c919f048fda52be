"""The README's promise: adding an optimizer is one class and its reference (and, in README's
symbol table, its name in the "used by" cells the test prints), and a surface is one class.

The README's examples, in its "Adding an optimizer or a surface" section, are executed as
written, in the files they name (``tests/readme_examples.py``); every registry-driven test of
the suite (run for the new class in a pytest of its own), the explorer's sliders, the
comparison and the stability maps then pick the new optimizer up with nothing else changed.
The four optimizers added through that path (NAdam, RAdam, Adamax, Lion) reach the same places.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import readme_examples

import gdviz


@pytest.fixture
def registered():
    """Run the README examples inside the modules they name, then unregister them."""
    import reference_optimizers

    before_opt, before_surf = dict(gdviz.OPTIMIZERS), dict(gdviz.SURFACES)
    before_ref = dict(reference_optimizers.REFERENCES)
    try:
        yield readme_examples.register()
    finally:
        for registry, before in ((gdviz.OPTIMIZERS, before_opt), (gdviz.SURFACES, before_surf),
                                 (reference_optimizers.REFERENCES, before_ref)):
            registry.clear()
            registry.update(before)


def test_readme_examples_register_themselves(registered):
    opt_cls, surf_cls = registered
    assert gdviz.OPTIMIZERS["HeavyBallWithFriction"] is opt_cls
    assert gdviz.SURFACES["booth"] is surf_cls
    assert list(gdviz.OPTIMIZERS)[-1] == "HeavyBallWithFriction"


def test_new_optimizer_runs_sweeps_and_equals_the_formula(registered):
    opt_cls, _ = registered
    traj = gdviz.run("heavyballwithfriction", "elongated_bowl", steps=20, lr=0.1, momentum=0.9)
    # Independent: the same heavy-ball recursion written out here.
    theta, v = np.array([-7.0, 2.0]), np.zeros(2)
    for _ in range(20):
        g = np.array([theta[0] / 10, 2 * theta[1]])
        v = 0.9 * v - 0.1 * g
        theta = theta + v
    np.testing.assert_allclose(traj.points[-1], theta, rtol=1e-12)
    lrs, alphas = [0.05, 0.1, 1.2], [0.0, 0.5]
    result = gdviz.sweep("HeavyBallWithFriction", steps=50, lr=lrs, momentum=alphas)
    assert result.final_loss.shape == (3, 2)
    for i, lr in enumerate(lrs):                 # every grid point is the same recursion
        for j, alpha in enumerate(alphas):
            theta, v = np.array([-7.0, 2.0]), np.zeros(2)
            for _ in range(50):
                v = alpha * v - lr * np.array([theta[0] / 10, 2 * theta[1]])
                theta = theta + v
            diverges = 2 * (1 + alpha) / 2 < lr   # heavy ball's limit 2(1 + α)/λ_max, λ_max = 2
            assert bool(result.diverged[i, j]) == diverges, (lr, alpha)
            if not diverges:
                np.testing.assert_allclose(result.final_loss[i, j], theta[0] ** 2 / 20 + theta[1] ** 2,
                                           rtol=1e-9, atol=1e-300)
    with pytest.raises(ValueError, match=r"momentum \(α\) must be in \[0, 1\)"):
        opt_cls(momentum=1.5)


def test_new_surface_has_the_gradient_and_minimum_it_claims(registered):
    _, surf_cls = registered
    surface = gdviz.get_surface("booth")
    rng = np.random.default_rng(0)
    for x, y in rng.uniform(-10, 10, size=(20, 2)):
        h = 1e-6
        fd = ((surface.f(x + h, y) - surface.f(x - h, y)) / (2 * h),
              (surface.f(x, y + h) - surface.f(x, y - h)) / (2 * h))
        np.testing.assert_allclose(surface.grad(x, y), fd, rtol=1e-6, atol=1e-6)
    assert surface.f(1.0, 3.0) == 0 and surface.grad(1.0, 3.0) == (0, 0)
    traj = gdviz.run("Adam", "booth", steps=300, lr=0.5)
    np.testing.assert_allclose(traj.final_point, (1, 3), atol=1e-2)


def test_explorer_offers_the_new_optimizer_and_surface(registered):
    pytest.importorskip("ipywidgets")
    from gdviz.explorer import explore

    explorer = explore("HeavyBallWithFriction", surface="booth", steps=10)
    try:
        assert set(explorer.hyperparameter_sliders["HeavyBallWithFriction"]) == {"lr", "momentum"}
        values = [value for _, value in explorer.surface_dropdown.options]
        assert "booth" in values
        # The readout reports the new optimizer's own run (it converges here, so no "diverged").
        readout = re.sub(r"<[^>]*>", "", explorer.readout.value)
        expected = gdviz.run("HeavyBallWithFriction", "booth", steps=10).final_loss
        assert "HeavyBallWithFriction" in readout and "diverged" not in readout, readout
        shown = [float(x) for x in re.findall(r"loss\s*([-+0-9.eE]+)", readout)]
        assert shown and shown[0] == pytest.approx(expected, rel=5e-3), (readout, expected)
    finally:
        explorer.close()


def test_reference_lookup_names_the_missing_implementation():
    import reference_optimizers

    with pytest.raises(LookupError, match="no reference implementation for Brandnew.*tests/reference_optimizers.py"):
        reference_optimizers.reference_for("Brandnew")


#: Registry-driven tests that must be among those run for the README's optimizer (a floor: the
#: test below runs every test parametrized over the registries, whatever its name).
REGISTRY_DRIVEN = {
    "test_follows_torch_algorithm_to_round_off", "test_state_holds_the_documented_arrays_and_the_step",
    "test_an_optimizer_has_a_worked_solution_where_an_exercise_asks_for_it",
    "test_every_optimizer_has_its_own_palette_colour", "test_slider_ranges_are_the_registry_ranges",
    "test_recorded_run_matches_a_hand_run_optimizer", "test_sweep_equals_the_configurations_run_one_by_one",
    "test_the_state_at_step_zero_is_what_init_state_gives",
    "test_every_hyperparameter_rejects_values_outside_its_range",
    "test_every_optimizer_steps_with_eta_times_the_factor",
    "test_show_rule_gives_every_optimizer_its_formula_and_step",
    "test_every_optimizer_takes_its_steps_apart_into_terms_that_add_up",
}

#: Tests that run for Lion and rightly not for the README's class, and why.
ONLY_FOR_SOME = {
    "test_the_new_optimizers_reach_explorer_comparison_and_stability_map",   # the four added in issue 11
    "test_every_decomposition_a_class_gives_adds_up_to_its_steps",          # classes that declare step_terms
}


@pytest.mark.slow
def test_every_registry_driven_test_passes_for_the_readme_example(tmp_path):
    """The suite, with the README's optimizer and surface registered before collection (and
    nothing else: no worked solution, no README edit), runs every test parametrized over the
    registries for them as for Lion, and all pass."""
    report = tmp_path / "report.xml"
    tests = os.path.join(readme_examples.ROOT, "tests")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", tests, "-p", "readme_examples", "-q", "-p", "no:cacheprovider",
         "-m", "not browser and not colab", "--ignore", os.path.join(tests, "browser"),
         "--deselect", os.path.join(tests, "test_readme.py::test_symbol_table_matches_the_hyperparameter_registry"),
         "-k", f"{readme_examples.OPTIMIZER} or {readme_examples.SURFACE} or Lion", f"--junitxml={report}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    cases = [case for case in ET.parse(report).iter("testcase") if case.find("skipped") is None]

    def functions(word):
        return {case.get("name").split("[")[0] for case in cases if word in case.get("name")}

    new, lion = functions(readme_examples.OPTIMIZER), functions("Lion")
    assert REGISTRY_DRIVEN <= new, REGISTRY_DRIVEN - new
    assert lion - ONLY_FOR_SOME <= new, lion - new
    assert functions(readme_examples.SURFACE) >= {"test_recorded_run_matches_a_hand_run_optimizer"}


def test_the_symbol_table_test_prints_the_rows_to_paste(registered):
    """With the README's optimizer registered, tests/test_readme.py names exactly the rows of
    its hyperparameters (η and α) with the optimizer added; pasting them makes it pass."""
    import test_readme

    problems = test_readme.symbol_table_problems()
    assert [p.split("\n")[0] for p in problems] == [f"README.md's symbol table: replace the row for `{name}` with"
                                                    for name in ("lr", "momentum")]
    readme = test_readme.README
    for problem in problems:
        row = problem.split("\n")[1]
        assert row.endswith(f", {readme_examples.OPTIMIZER} |")
        old = next(line for line in readme.splitlines() if line.startswith(row.rsplit("|", 2)[0]))
        readme = readme.replace(old, row)
    assert test_readme.symbol_table_problems(readme) == []


def _reaches_comparison_and_stability_map(name):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gdviz import plotting as gp
    from gdviz.comparison import compare

    table = compare([name, "SGD"], ["elongated_bowl"], steps=20, lr_per_decade=2)
    assert table.optimizers == (name, "SGD") and (name, "elongated_bowl") in table.best
    assert name in table.to_markdown()
    result = gdviz.sweep(name, "elongated_bowl", steps=30, lr=np.geomspace(0.01, 10, 7))
    fig, ax = plt.subplots()
    try:
        line = gp.plot_stability_map(result, ax)
        np.testing.assert_array_equal(line.get_xdata(), result.axes["lr"])
        assert line.get_color() == gp.optimizer_color(name)
        assert name in ax.get_title()
    finally:
        plt.close(fig)


def test_the_readme_example_reaches_comparison_and_stability_map(registered):
    _reaches_comparison_and_stability_map("HeavyBallWithFriction")


NEW = ["NAdam", "RAdam", "Adamax", "Lion"]


@pytest.mark.parametrize("name", NEW)
def test_the_new_optimizers_reach_explorer_comparison_and_stability_map(name):
    pytest.importorskip("ipywidgets")
    from gdviz.explorer import explore

    assert name in gdviz.OPTIMIZERS
    explorer = explore(name, steps=10)
    try:
        expected = {hp.name for hp in gdviz.OPTIMIZERS[name].hyperparameters}
        assert set(explorer.hyperparameter_sliders[name]) == expected
        readout = re.sub(r"<[^>]*>", "", explorer.readout.value)
        assert name in readout, readout
    finally:
        explorer.close()
    _reaches_comparison_and_stability_map(name)


@pytest.mark.parametrize("name", list(gdviz.OPTIMIZERS))
def test_show_rule_gives_every_optimizer_its_formula_and_step(name):
    """show_rule reads the docstring's math block: one row per line ending in \\\\ (a row may
    wrap onto more lines), braces balanced, and the class's own step source beside it."""
    from gdviz.notebook import formula, show_rule

    cls = gdviz.OPTIMIZERS[name]
    text = formula(name)
    assert text.startswith(r"\begin{aligned}") and text.endswith(r"\end{aligned}")
    assert text.count("{") == text.count("}")
    block = cls.__doc__.split(".. math::", 1)[1].split("\n\n", 1)[0]
    rows = block.count("\\\\\n") + 1
    assert text.count(r" \\ ") == rows - 1
    assert "def step" in str(show_rule(name))


# --- what a class declares beside its step, and its defaults ------------------------------------
@pytest.mark.parametrize("name", list(gdviz.OPTIMIZERS))
def test_every_optimizer_takes_its_steps_apart_into_terms_that_add_up(name):
    """Each class's step_terms, at steps 1 … 12 (RAdam: its warm-up and its rectified steps),
    add up to the step the run took, with the optimizer's own labels (no 'shown whole' note);
    a class that declares none (step_terms is optional) has its step drawn whole, and says so."""
    from gdviz import plotting as gp

    declared = gdviz.OPTIMIZERS[name].step_terms is not gdviz.Optimizer.step_terms
    assert declared or name == readme_examples.OPTIMIZER, f"{name} takes its steps apart (step_terms)"
    traj = gdviz.run(name, "elongated_bowl", steps=12)
    for k in range(1, 13):
        parts = gp.step_terms(traj, k)
        assert parts.note == ("" if declared else f"{name}: no decomposition known, the step is shown whole")
        np.testing.assert_allclose(parts.total, traj.points[k] - traj.points[k - 1], rtol=1e-9, atol=1e-14)
        assert all(label.count("$") % 2 == 0 for label, _ in parts.terms)


def test_theory_is_never_inherited_but_colour_and_check_settings_are():
    from gdviz import plotting as gp
    from gdviz.optimizers import Adam, AdamW, Momentum, Optimizer
    from gdviz.variants import NesterovOldOrder, TextbookAdam

    class MomentumWithAnotherRule(Momentum, register=False):
        def step(self, theta, g, state):
            return theta - self.lr * g

    assert MomentumWithAnotherRule.lr_limit("elongated_bowl") is None
    assert MomentumWithAnotherRule.fastest("elongated_bowl") is None
    assert MomentumWithAnotherRule.lr_limit_formula == ""
    assert Momentum.lr_limit("elongated_bowl", momentum=0.5) == pytest.approx(2 * 1.5 / 2)   # λ_max = 2
    assert gp.optimizer_color(MomentumWithAnotherRule) == gp.optimizer_color("Momentum")
    assert MomentumWithAnotherRule.check_settings == Momentum.check_settings == {"lr": 0.05, "momentum": 0.8}
    assert AdamW.check_settings == {**Adam.check_settings, "weight_decay": 0.1}
    # textbook variants: listed on the class they are a form of, not inherited, not registered
    assert TextbookAdam in Adam.variants and AdamW.variants == ()
    assert NesterovOldOrder in gdviz.Nesterov.variants and NesterovOldOrder not in Momentum.variants
    assert "TextbookAdam" not in gdviz.OPTIMIZERS

    class Undeclared(Optimizer, register=False):
        hyperparameters = (gdviz.HYPERPARAMETERS["lr"].given(0.1),
                           gdviz.HYPERPARAMETERS["weight_decay"].given(0.0))

    assert Undeclared.check_settings == {"lr": 0.08, "weight_decay": 0.1}    # off the defaults, valid
