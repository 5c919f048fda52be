"""notebook_calls.py, without a browser: the expectations read from each notebook's code, and
the comparison of an explorer's first state with what its call asked for."""
import gdviz
import notebook_calls
from jlab_harness import NOTEBOOKS_DIR


def test_every_notebook_calls_for_an_explorer_and_a_player():
    paths = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    assert paths
    for path in paths:
        calls = notebook_calls.calls_in_file(path)
        assert calls.explorers and calls.players, path.name


def test_calls_are_read_in_page_order_with_their_literal_settings():
    notebook = {"cells": [
        {"cell_type": "markdown", "source": "explore('SGD') in prose is no call"},
        {"cell_type": "code", "source": "p = animate(runs)\np"},
        {"cell_type": "code", "source": ["gdviz.explore(['SGD', 'Adam'], 'himmelblau', steps=20,\n",
                                         "              lr=0.1, projector=PROJECTOR)"]},
        {"cell_type": "code", "source": "stability_explorer(steps=n, lr=0.2)"},
    ]}
    calls = notebook_calls.calls_in(notebook)
    assert calls.players == 1 and len(calls.explorers) == 2
    first, second = calls.explorers
    assert (first.cell, first.optimizers, first.surface) == (2, ["SGD", "Adam"], "himmelblau")
    assert first.settings == {"steps": 20, "lr": 0.1} and first.unknown == ["projector"]
    assert first.hyperparameters("SGD") == {"lr": 0.1}
    assert first.run_settings() == {"steps": 20, "start": None, "noise": 0.0, "seed": 0}
    assert (second.function, second.optimizers, second.surface) == ("stability_explorer", ["Momentum"],
                                                                     "elongated_bowl")
    assert second.run_settings() is None            # steps=n: the run cannot be known here


def test_start_value_check_sees_a_snapped_slider():
    """Notebook 01's case in issue 10 #10: η = 0.95 asked, 0.959 shown and the loss of
    η = 0.958587 in the readout; then the page as it should be."""
    call = notebook_calls.calls_in({"cells": [{"cell_type": "code", "source":
                                               "explore('SGD', 'elongated_bowl', steps=40, lr=0.95, projector=P)"}]})
    good = gdviz.run("SGD", "elongated_bowl", steps=40, lr=0.95).final_loss
    bad = gdviz.run("SGD", "elongated_bowl", steps=40, lr=0.958587).final_loss
    snapped = [{"sliders": {"η": "0.959", "steps": "40"}, "readout": f"■ SGD: loss {bad:.3g} after 40 steps"}]
    problems = notebook_calls.start_value_problems(call, snapped)
    assert len(problems) == 2 and "shows 0.959" in problems[0] and "readout says" in problems[1], problems
    right = [{"sliders": {"η": "0.95", "steps": "40"}, "readout": f"■ SGD: loss {good:.3g} after 40 steps"}]
    assert notebook_calls.start_value_problems(call, right) == []
    source = "explore(['Momentum', 'Nesterov'], steps=60, lr=0.1, momentum=0.9)"
    several = notebook_calls.calls_in({"cells": [{"cell_type": "code", "source": source}]})
    state = [{"sliders": {"η · Momentum": "0.0998", "α · Momentum": "0.90", "η · Nesterov": "0.1",
                          "α · Nesterov": "0.9000000000000001"}, "readout": ""}]
    problems = [p for p in notebook_calls.start_value_problems(several, state) if "slider" in p]
    assert [p.split(": ")[1].split(" shows")[0] for p in problems] == ["slider 'η · Momentum'",
                                                                       "slider 'α · Nesterov'"], problems


def test_a_missing_explorer_or_player_fails_the_page_check():
    """Every notebook's page must show as many explorers and players as its code makes."""
    import pytest
    import test_jupyterlab as t

    page = {"errors": [], "stderr": [], "widgetErrors": [], "dialogs": [], "unexecuted": [],
            "brokenFigures": 0, "pageErrors": [], "kernel": "idle", "figures": 5, "widgets": 3}
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        expect = t.expectations(path.name)
        full = {**page, "explorers": expect["explorers"], "players": expect["players"]}
        t.check_page(full, expect, path.name)
        for missing in ("explorers", "players"):
            with pytest.raises(AssertionError, match="its code calls"):
                t.check_page({**full, missing: full[missing] - 1}, expect, path.name)
