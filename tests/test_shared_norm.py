"""Stability maps side by side share one colour scale (gdviz.plotting.shared_norm, norm=)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gdviz  # noqa: E402
from gdviz import plotting as gp  # noqa: E402


def _sweeps():
    lr = np.geomspace(1e-3, 3, 12)
    beta = np.linspace(0, 0.99, 7)
    return [gdviz.sweep("Momentum", "elongated_bowl", steps=40, lr=lr, momentum=beta),
            gdviz.sweep("Adam", "elongated_bowl", steps=40, lr=lr, beta1=beta),
            gdviz.sweep("SGD", "elongated_bowl", steps=40, lr=lr)]


def test_shared_norm_spans_every_map_and_each_map_uses_it():
    sweeps = _sweeps()
    gaps = np.concatenate([np.ravel(r.final_loss[~r.diverged]) for r in sweeps])
    positive = gaps[gaps > 0]
    norm = gp.shared_norm(sweeps)
    assert norm.vmax == pytest.approx(positive.max(), rel=1e-12)
    assert norm.vmin == pytest.approx(max(positive.min(), positive.max() * 1e-16), rel=1e-12)
    fig, axes = plt.subplots(1, 3)
    meshes = [gp.plot_stability_map(r, ax, norm=norm, colorbar=False) for r, ax in zip(sweeps, axes)]
    for mesh in meshes[:2]:
        assert mesh.norm is norm
        assert mesh.norm.vmin == norm.vmin and mesh.norm.vmax == norm.vmax
    assert axes[2].get_ylim() == pytest.approx((norm.vmin, norm.vmax))     # 1-D map: same range
    plt.close(fig)


def test_without_a_norm_each_map_keeps_its_own_scale():
    momentum, adam, _ = _sweeps()
    fig, axes = plt.subplots(1, 2)
    own = [gp.plot_stability_map(r, ax) for r, ax in zip((momentum, adam), axes)]
    expected = [np.nanmax(np.where(r.diverged, np.nan, r.final_loss)) for r in (momentum, adam)]
    assert [m.norm.vmax for m in own] == pytest.approx(expected, rel=1e-12)
    plt.close(fig)


def test_shared_norm_rejects_what_is_not_a_sweep():
    with pytest.raises(TypeError, match="SweepResult"):
        gp.shared_norm([])
    with pytest.raises(ValueError, match="quantity"):
        gp.shared_norm(_sweeps()[:1], quantity="loss")
