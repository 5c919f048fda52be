"""gdviz.comparison.compare: the best η per optimizer and surface, checked run by run."""
import numpy as np
import pytest

import gdviz
from gdviz.comparison import compare


def test_best_gap_and_count_equal_separate_runs():
    result = compare(["SGD", "Momentum"], ["elongated_bowl", "saddle"], steps=40, n_lr=6, good=1e-3)
    for name in ("SGD", "Momentum"):
        lr_record = next(hp for hp in gdviz.OPTIMIZERS[name].hyperparameters if hp.name == "lr")
        lrs = np.exp(np.linspace(np.log(lr_record.slider[0]), np.log(lr_record.slider[1]), 6))
        for surface in ("elongated_bowl", "saddle"):
            runs = [gdviz.run(name, surface, steps=40, lr=lr) for lr in lrs]
            f_min = gdviz.get_surface(surface).min_value
            gaps = [np.inf if t.diverged else t.final_loss - f_min for t in runs]
            best = int(np.argmin(gaps))
            assert result.gap[name, surface] == pytest.approx(gaps[best], rel=1e-9, abs=1e-15)
            assert result.best_lr[name, surface] == pytest.approx(lrs[best], rel=1e-12)
            assert result.n_good[name, surface] == sum(g < 1e-3 for g in gaps)


def test_winners_tie_below_the_floor_and_table_has_a_row_per_optimizer():
    result = compare(["SGD", "AdaGrad", "Adam"], ["elongated_bowl"], steps=100, n_lr=10)
    lowest = min(result.gap[n, "elongated_bowl"] for n in result.optimizers)
    expected = [n for n in result.optimizers
                if result.gap[n, "elongated_bowl"] <= max(result.floor, lowest)]
    assert result.winners("elongated_bowl") == expected
    table = result._repr_markdown_()
    for name in ("SGD", "AdaGrad", "Adam"):
        assert sum(line.startswith(f"| {name} |") for line in table.splitlines()) == 1
    assert "Elongated bowl" in table


def test_defaults_cover_every_registered_optimizer():
    result = compare(surfaces=["bowl"], steps=5, n_lr=2)
    assert result.optimizers == tuple(gdviz.OPTIMIZERS)


@pytest.mark.parametrize("kwargs, error, text", [
    (dict(optimizers=["Adamm"]), ValueError, "unknown optimizer 'Adamm'"),
    (dict(surfaces=["bowll"]), ValueError, "unknown surface 'bowll'"),
    (dict(n_lr=0), ValueError, "n_lr"),
    (dict(steps=-1), ValueError, "steps"),
])
def test_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text):
        compare(**kwargs)
