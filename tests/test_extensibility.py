"""The README's promise: adding an optimizer is one class and its reference (plus its worked
solution and its symbol-table entry), and a surface is one class.

The README's examples, in its "Adding an optimizer or a surface" section, are executed as
written, in the files they name; the registry-driven tests (run here for the new class), the
explorer's sliders, the comparison and the stability maps then pick the new optimizer up with
nothing else changed. The four optimizers added through that path (NAdam, RAdam, Adamax,
Lion) reach the same places.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import gdviz
from gdviz import optimizers, surfaces

ROOT = Path(__file__).resolve().parents[1]


def readme_example(marker: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Adding an optimizer or a surface", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    (block,) = [b for b in blocks if marker in b]
    return block


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """Run the README examples inside the modules they name, then unregister them."""
    import importlib.util

    import reference_optimizers

    from gdviz import solutions
    before_opt, before_surf = dict(gdviz.OPTIMIZERS), dict(gdviz.SURFACES)
    before_ref = dict(reference_optimizers.REFERENCES)
    namespace_opt, namespace_surf = dict(vars(optimizers)), dict(vars(surfaces))
    exec(readme_example("class HeavyBallWithFriction(Optimizer)"), namespace_opt)
    exec(readme_example("class Booth"), namespace_surf)
    exec(readme_example('REFERENCES["HeavyBallWithFriction"]'), vars(reference_optimizers))
    # the worked solution from a file, as gdviz.exercises.solution shows its source
    path = tmp_path / "readme_solution.py"
    path.write_text("import numpy as np\n\n\n" + readme_example("class HeavyBallWithFriction:"))
    spec = importlib.util.spec_from_file_location("readme_solution", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "readme_solution", module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(solutions, "HeavyBallWithFriction", module.HeavyBallWithFriction, raising=False)
    try:
        yield namespace_opt["HeavyBallWithFriction"], namespace_surf["Booth"]
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


def test_registry_driven_tests_pick_up_the_readme_example(registered):
    """The tests that run over gdviz.OPTIMIZERS, run for the new class: its reference (to
    round-off, state too), its worked solution, its colour, and validation of its inputs."""
    import test_exercises
    import test_optimizers
    import test_plotting

    name = "HeavyBallWithFriction"
    test_optimizers.test_follows_torch_algorithm_to_round_off(name)
    test_optimizers.test_state_holds_the_documented_arrays_and_the_step(name)
    test_exercises.test_every_optimizer_has_a_solution_that_passes(name)
    test_plotting.test_every_optimizer_has_its_own_palette_colour(name)


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
    add up to the step the run took, with the optimizer's own labels (no 'shown whole' note)."""
    from gdviz import plotting as gp

    traj = gdviz.run(name, "elongated_bowl", steps=12)
    for k in range(1, 13):
        parts = gp.step_terms(traj, k)
        assert parts.note == "", (name, k, parts.note)
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
