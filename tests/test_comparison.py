"""gdviz.comparison.compare: the tuned optimizer-by-surface table, checked run by run."""
import itertools

import numpy as np
import pytest

import gdviz
from gdviz.comparison import COMPARED_SURFACES, MOMENTUM_PARAMETERS, compare, momentum_grid


@pytest.fixture(scope="module")
def notebook_comparison():
    """What notebook 06 computes: every registered optimizer on its six surfaces, 100 steps."""
    return compare(steps=100)


def _independent_best(name, surface, searched, bound, floor):
    """Every searched setting, run one at a time by gdviz.run; the best by the documented rule."""
    f_min = gdviz.get_surface(surface).min_value
    scored = []
    for values in itertools.product(*searched.values()):
        settings = dict(zip(searched, values))
        traj = gdviz.run(name, surface, steps=100, bound=bound, **settings)
        gap = np.inf if traj.diverged else traj.final_loss - f_min
        below = np.nonzero(traj.losses - f_min <= floor)[0]
        reached = int(below[0]) if below.size and not traj.diverged else np.inf
        scored.append((max(gap, floor), reached, settings, gap))
    lowest = min(score[:2] for score in scored)
    return [s for s in scored if s[:2] == lowest], scored


@pytest.mark.parametrize("name, surface", [("SGD", "elongated_bowl"), ("SGD", "saddle"),
                                           ("Momentum", "saddle")])
def test_best_gap_and_count_equal_separate_runs(name, surface):
    result = compare([name], [surface])
    key = (name, surface)
    tied, scored = _independent_best(name, surface, result.searched[key], result.bound[surface],
                                     result.floor)
    assert result.best[key] in [s[2] for s in tied]
    assert result.gap[key] == pytest.approx(tied[0][3] if len(tied) == 1 else
                                            next(s[3] for s in tied if s[2] == result.best[key]),
                                            rel=1e-9, abs=1e-300)
    others = {k: v for k, v in result.best[key].items() if k != "lr"}
    along_lr = [s for s in scored if all(s[2][k] == v for k, v in others.items())]
    assert result.n_good[key] == sum(s[3] < result.good for s in along_lr)
    assert result.n_lr[key] == len(result.searched[key]["lr"]) == len(along_lr)


def test_no_best_value_sits_on_the_edge_of_its_search_range(notebook_comparison):
    """For every registered optimizer on every surface of notebook 06: the best η and the best
    α/β₁ lie strictly inside the values searched, unless they sit on a closed bound of the valid
    range (α = 0: no momentum at all), beyond which nothing can be searched."""
    result = notebook_comparison
    assert result.surfaces == COMPARED_SURFACES and result.optimizers == tuple(gdviz.OPTIMIZERS)
    on_edge = []
    for (name, surface), settings in result.best.items():
        if not np.isfinite(result.gap[name, surface]):
            on_edge.append(f"{name} on {surface}: diverged at every setting")
            continue
        hps = {hp.name: hp for hp in gdviz.OPTIMIZERS[name].hyperparameters}
        for param, value in settings.items():
            searched = result.searched[name, surface][param]
            i = int(np.flatnonzero(searched == value)[0])
            at_valid_bound = (i == 0 and hps[param].low_closed and value == hps[param].low)
            if (i in (0, len(searched) - 1)) and not at_valid_bound:
                on_edge.append(f"{name} on {surface}: {param} = {value:g} is value {i} of "
                               f"{searched[0]:g} … {searched[-1]:g}")
    assert not on_edge, "\n".join(on_edge)


def test_tuned_parameters_are_eta_and_the_momentum_parameter(notebook_comparison):
    for (name, surface), settings in notebook_comparison.best.items():
        hps = {hp.name for hp in gdviz.OPTIMIZERS[name].hyperparameters}
        assert set(settings) == {"lr"} | (hps & set(MOMENTUM_PARAMETERS))


def test_the_search_grows_past_the_slider_when_the_best_eta_is_beyond_it():
    # AdaGrad on the axis-aligned valley: larger η keeps helping past the slider's 3
    # (each coordinate's first step is η·sign(g), and the sum of g² then tames it).
    slider_top = next(hp.slider[1] for hp in gdviz.AdaGrad.hyperparameters if hp.name == "lr")
    capped = gdviz.sweep("AdaGrad", "elongated_bowl", steps=100, tol=1e-12, bound=20.0,
                         lr=np.geomspace(1e-3, slider_top, 22))
    assert capped.steps_to_tol[-1] >= 0
    fastest_capped = capped.steps_to_tol[capped.converged].min()
    assert capped.steps_to_tol[-1] == fastest_capped          # on the slider: best at its edge
    result = compare(["AdaGrad"], ["elongated_bowl"])
    assert result.searched["AdaGrad", "elongated_bowl"]["lr"][-1] > slider_top
    assert result.best_lr["AdaGrad", "elongated_bowl"] > slider_top
    assert result.steps_to_floor["AdaGrad", "elongated_bowl"] < fastest_capped


def test_a_run_leaving_the_view_counts_as_failed():
    # RMSprop at η = 65 on the elongated bowl jumps ~650 out and falls back onto the minimum:
    # within the sweep's own bound it "wins"; compare counts it as failed.
    slingshot = gdviz.run("RMSprop", "elongated_bowl", steps=100, lr=65.0)
    assert not slingshot.diverged and np.abs(slingshot.points).max() > 500
    result = compare(["RMSprop"], ["elongated_bowl"])
    assert result.bound["elongated_bowl"] == 2 * 10.0
    best = gdviz.run("RMSprop", "elongated_bowl", steps=100, **result.best["RMSprop", "elongated_bowl"])
    assert np.abs(best.points).max() <= result.bound["elongated_bowl"]


def test_momentum_grid_is_even_in_log_one_minus_beta():
    grid = momentum_grid(1e-3, per_decade=3)
    assert grid[0] == 0.0
    np.testing.assert_allclose(1 - grid[1:], 10.0 ** -(np.arange(1, 10) / 3), rtol=1e-12)
    assert momentum_grid(1e-4)[-1] == pytest.approx(0.9999, rel=1e-12)


def test_winners_and_ranking_follow_gap_then_steps(notebook_comparison):
    result = notebook_comparison
    for surface in result.surfaces:
        scores = {n: (max(result.gap[n, surface], result.floor),
                      result.steps_to_floor[n, surface] if result.steps_to_floor[n, surface] >= 0 else np.inf)
                  for n in result.optimizers}
        best = min(scores.values())
        assert result.winners(surface) == [n for n in result.optimizers if scores[n] == best]
        ranked = result.ranking(surface)
        assert [scores[n] for n in ranked] == sorted(scores.values())


def test_table_has_a_row_per_optimizer_and_a_column_per_surface(notebook_comparison):
    table = notebook_comparison._repr_markdown_()
    for name in notebook_comparison.optimizers:
        assert sum(line.startswith(f"| {name} |") for line in table.splitlines()) == 1
    header = table.splitlines()[0]
    for surface in COMPARED_SURFACES:
        assert gdviz.get_surface(surface).title in header
    assert "after 100 steps" in table


@pytest.mark.parametrize("kwargs, error, text", [
    (dict(optimizers=["Adamm"]), ValueError, "unknown optimizer 'Adamm'"),
    (dict(surfaces=["bowll"]), ValueError, "unknown surface 'bowll'"),
    (dict(lr_per_decade=0), ValueError, "lr_per_decade"),
    (dict(leave_view=0.5), ValueError, "leave_view"),
    (dict(steps=-1), ValueError, "steps"),
])
def test_bad_arguments(kwargs, error, text):
    with pytest.raises(error, match=text):
        compare(**kwargs)


def test_on_edge_names_a_best_value_left_on_the_edge():
    # η searched only up to where AdaGrad's best on the aligned valley is still at the top:
    # a Comparison built from that search must report it.
    result = compare(["AdaGrad"], ["elongated_bowl"])
    assert result.on_edge() == []
    key = ("AdaGrad", "elongated_bowl")
    result.searched[key] = {"lr": result.searched[key]["lr"][result.searched[key]["lr"] <= result.best_lr[key]]}
    assert result.on_edge() == [("AdaGrad", "elongated_bowl", "lr")]


def _hand_made(gaps, steps_to_floor, floor=1e-12):
    """A Comparison on one surface with the given gaps and steps, built by hand."""
    from gdviz.comparison import Comparison
    names = tuple(gaps)
    key = {name: (name, "bowl") for name in names}
    return Comparison(optimizers=names, surfaces=("bowl",), steps=100, good=1e-3, floor=floor,
                      lr_per_decade=5, bound={"bowl": 1e3},
                      gap={key[n]: gaps[n] for n in names}, best={key[n]: {"lr": 0.1} for n in names},
                      searched={key[n]: {"lr": np.array([0.1])} for n in names},
                      steps_to_floor={key[n]: steps_to_floor[n] for n in names},
                      n_good={key[n]: 1 for n in names}, n_lr={key[n]: 1 for n in names})


def test_gaps_below_the_floor_tie_and_the_fewest_steps_win():
    """Below the floor the gap is round-off: 1e-25 does not beat 1e-20; the step count decides,
    and equal step counts share the win. Above the floor the lower gap wins."""
    result = _hand_made({"SGD": 1e-20, "Adam": 1e-25, "Momentum": 3e-11}, {"SGD": 12, "Adam": 30, "Momentum": -1})
    assert result.winners("bowl") == ["SGD"]
    assert result.ranking("bowl") == ["SGD", "Adam", "Momentum"]
    tie = _hand_made({"SGD": 1e-20, "Adam": 1e-25, "Momentum": 1e-3}, {"SGD": 12, "Adam": 12, "Momentum": -1})
    assert tie.winners("bowl") == ["SGD", "Adam"]
    above = _hand_made({"SGD": 1e-6, "Adam": 1e-5}, {"SGD": -1, "Adam": -1})
    assert above.winners("bowl") == ["SGD"]
