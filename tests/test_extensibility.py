"""The README's promise: adding an optimizer or a surface is one class in one place.

The two example classes are taken from README.md's "Adding an optimizer or a surface" section
and executed as written; the registries, the sweep, the explorer's sliders and dropdown, and the
table-driven tests' reference lookup then pick them up with nothing else changed.
"""
import re
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
def registered():
    """Run both README examples inside the modules they name, then unregister them."""
    before_opt, before_surf = dict(gdviz.OPTIMIZERS), dict(gdviz.SURFACES)
    namespace_opt, namespace_surf = dict(vars(optimizers)), dict(vars(surfaces))
    exec(readme_example("class HeavyBallWithFriction"), namespace_opt)
    exec(readme_example("class Booth"), namespace_surf)
    yield namespace_opt["HeavyBallWithFriction"], namespace_surf["Booth"]
    gdviz.OPTIMIZERS.clear(); gdviz.OPTIMIZERS.update(before_opt)
    gdviz.SURFACES.clear(); gdviz.SURFACES.update(before_surf)


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


def test_reference_lookup_names_the_missing_implementation(registered):
    import reference_optimizers

    with pytest.raises(Exception, match="no reference implementation for HeavyBallWithFriction"):
        reference_optimizers.reference_for("HeavyBallWithFriction")
