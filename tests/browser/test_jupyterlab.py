"""Every notebook, run in real JupyterLab in headless Chromium, looks right to a person.

For each notebooks/*.ipynb: open it, Run > Run All Cells, wait for the kernel to go idle,
then assert that no cell shows an error and that the expected figures and widgets are on the
page. Where a notebook has a gdviz explorer, move its η slider with the arrow keys and
assert that the figure and the readout change, timing each move; where it has an animation
player, press Play and assert that the frames advance. A full-notebook screenshot of each
goes to artifacts/screenshots/, the slider timings to artifacts/browser_latency.json.

    .venv/bin/pytest tests/browser -m browser -s

The page contract the notebooks must meet is in tests/browser/README.md; what each
notebook must show is read from its own code (notebook_calls.py: one explorer per
``explore(``/``stability_explorer(`` call, one player per ``animate(``), plus DEFAULTS.
"""
from __future__ import annotations

import fnmatch
import json

import os

import pytest

import jlab_harness as h
import notebook_calls
from jlab_harness import FIXTURE_DIR, NOTEBOOKS_DIR

pytestmark = pytest.mark.browser

# Where the drags take the η handle (fractions of the track): each far from the one before.
DRAG_TARGETS = (0.35, 0.6, 0.45, 0.7, 0.4, 0.55, 0.3, 0.65)

# What each notebook must show, by file-name pattern (first match wins over DEFAULTS).
#   min_figures    inline matplotlib figures (img in .jp-RenderedImage) that loaded
#   min_widgets    displayed ipywidgets (widget-view outputs that rendered)
#   explorers      .gdviz-explorer boxes required; 0 = none required, but any present is
#                  still exercised (η slider moved, figure and readout must change)
#   players        .gdviz-player animations required; 0 = none required (any present is
#                  still pressed and must advance)
#   widget_play    press the explorer's widgets.Play (if it has one) and expect new figures
#   allow_stderr   tolerate text on stderr (warnings) in cell outputs
#   slider_moves   arrow-key presses on the first explorer's η slider (the latency sample)
#   other_moves    arrow-key presses on η of the other explorers, and on one more slider of each
#   surface_menu   require a surface menu in the first explorer and pick another surface once
#   drags          mouse drags of the first explorer's η handle (the drag latency sample)
# The suite checks behaviour with a few moves; benchmarks/bench_browser.py sets
# GDVIZ_BROWSER_SAMPLES=full for latency samples worth a median (12 keys, 8 drags).
FULL_SAMPLES = os.environ.get("GDVIZ_BROWSER_SAMPLES") == "full"
DEFAULTS = dict(min_figures=1, min_widgets=1, explorers=0, players=0, widget_play=True,
                allow_stderr=False, slider_moves=12 if FULL_SAMPLES else 4, other_moves=4,
                drags=8 if FULL_SAMPLES else 3, surface_menu=True, run_timeout_s=180)
# The harness's own notebooks (no gdviz calls to read); real notebooks: see expectations().
EXPECTATIONS = {
    f"{FIXTURE_DIR}/fixture.ipynb": dict(explorers=1, players=1, surface_menu=False),
}


def expectations(nb_path: str) -> dict:
    """DEFAULTS, then what the notebook's own code calls for, then EXPECTATIONS."""
    expect = dict(DEFAULTS)
    source = NOTEBOOKS_DIR / nb_path
    if source.is_file():
        calls = notebook_calls.calls_in_file(source)
        expect.update(explorers=len(calls.explorers), players=calls.players, calls=calls)
    for pattern, values in EXPECTATIONS.items():
        if fnmatch.fnmatch(nb_path, pattern):
            expect.update(values)
    return expect


# What each explorer showed right after "Run all", before anything was moved (by notebook).
START_STATES: dict[str, list[dict]] = {}


def notebook_paths() -> list[str]:
    if not NOTEBOOKS_DIR.is_dir():
        return []
    return sorted(p.relative_to(NOTEBOOKS_DIR).as_posix() for p in NOTEBOOKS_DIR.glob("*.ipynb"))


def problems_of(info: dict, expect: dict) -> list[str]:
    """What a person would call wrong on the page, as readable lines."""
    problems = []
    for err in info["errors"]:
        if isinstance(err, str):
            problems.append(err)
        else:
            problems.append(f"cell {err['cell']} raised {err['ename']}: {err['evalue']}\n"
                            f"{err['traceback']}")
    if not expect["allow_stderr"]:
        problems += [f"cell {s['cell']} wrote to stderr: {s['text'].strip()}" for s in info["stderr"]]
    problems += [f"widget error: {w}" for w in info["widgetErrors"]]
    problems += [f"dialog open: {d}" for d in info["dialogs"]]
    if info["unexecuted"]:
        problems.append(f"code cells never ran (run stopped early?): {info['unexecuted']}")
    if info["brokenFigures"]:
        problems.append(f"{info['brokenFigures']} inline figure(s) failed to load")
    problems += [f"uncaught JavaScript error: {e}" for e in info["pageErrors"]]
    if info["kernel"] != "idle":
        problems.append(f"kernel is {info['kernel']!r}, not idle")
    return problems


def check_page(info: dict, expect: dict, nb_path: str) -> None:
    problems = problems_of(info, expect)
    assert not problems, f"{nb_path}:\n" + "\n".join(problems)
    assert info["figures"] >= expect["min_figures"], (
        f"{nb_path}: {info['figures']} inline figure(s) on the page, expected "
        f">= {expect['min_figures']}")
    assert info["widgets"] >= expect["min_widgets"], (
        f"{nb_path}: {info['widgets']} widget(s) on the page, expected >= {expect['min_widgets']}")
    assert info["explorers"] == expect["explorers"], (
        f"{nb_path}: {info['explorers']} .gdviz-explorer on the page; its code calls "
        f"explore/stability_explorer {expect['explorers']} time(s)")
    assert info["players"] == expect["players"], (
        f"{nb_path}: {info['players']} .gdviz-player on the page; its code calls animate "
        f"{expect['players']} time(s)")


def exercise_explorer(session: h.NotebookSession, expect: dict, nb_path: str,
                      index: int = 0, log=None) -> h.SliderMoves:
    """Move η with the keys (every explorer), one more slider, and on the first explorer: drag
    η with the mouse, drag it fast across its whole range, and pick another surface once."""
    explorer = session.explorer(index)
    where = f"{nb_path}, explorer {index}"
    slider, label = session.eta_slider(explorer)
    assert slider is not None, (
        f"{where}: the .gdviz-explorer has no slider whose description starts with 'η'")
    assert explorer.locator("img").count() >= 1, f"{where}: the explorer has no <img>"
    assert explorer.locator(".gdviz-readout").count() >= 1, (
        f"{where}: the explorer has no .gdviz-readout")
    first = index == 0
    moves = session.move_slider(explorer, slider, label,
                                moves=expect["slider_moves"] if first else expect["other_moves"])
    assert moves.image_changed, (
        f"{nb_path}: the explorer's figure bytes did not change after moving {label!r}")
    assert any(text != moves.readout_before for text in moves.readouts_after), (
        f"{where}: the readout stayed {moves.readout_before!r} while {label!r} moved "
        f"through {moves.values}")
    # one more slider: the first that is not an η, an ε (1e-10 -> 1.1e-10 changes no pixel)
    # or the step shown by Play
    others = [(s, text) for s, text in session.sliders(explorer)
              if text and not text.startswith(("η", "ε", "step k"))]
    assert others, f"{where}: no slider besides η to move"
    other, other_label = others[0]
    more = session.move_slider(explorer, other, other_label, moves=expect["other_moves"])
    assert more.image_changed, f"{where}: moving {other_label!r} did not change the figure"
    if log is not None:
        log.add_check(nb_path, f"explorer {index}: keys on {other_label}", more.summary())
    if first:
        drags = session.drag_slider(explorer, slider, label, targets=DRAG_TARGETS[:expect["drags"]])
        assert len(drags.latency_ms) >= expect["drags"] // 2, (
            f"{where}: dragging {label!r} moved it only {len(drags.latency_ms)} time(s): "
            f"{drags.values}")
        if log is not None:
            log.add_drags(nb_path, drags)
        fast = session.fast_drag_ends_on_final_picture(explorer, slider, label)
        if log is not None:
            log.add_check(nb_path, "fast drag across the range", fast)
        assert fast["dragged"]["value"] == fast["keyed"]["value"], (
            f"{where}: a fast drag of {label!r} to its end left it at {fast['dragged']['value']}, "
            f"the End key at {fast['keyed']['value']}")
        assert fast["dragged"]["readout"] == fast["keyed"]["readout"], (
            f"{where}: after a fast drag of {label!r} to its end the readout says "
            f"{fast['dragged']['readout']!r}, for that value it says {fast['keyed']['readout']!r}")
        assert fast["dragged"]["digest"] == fast["keyed"]["digest"], (
            f"{where}: after a fast drag of {label!r} to its end the figure is not the one drawn "
            "for that value (a late picture of a value passed on the way?)")
        menu = explorer.locator(".widget-dropdown select")
        if expect["surface_menu"]:
            assert menu.count(), f"{where}: no surface menu (.widget-dropdown select)"
            changed = session.change_surface(explorer)
            if log is not None:
                log.add_check(nb_path, "surface menu", changed)
            assert changed["image_changed"], (
                f"{where}: choosing surface {changed['to']!r} did not change the figure")
            assert changed["readout_after"] != changed["readout_before"] or changed["image_changed"]
    if expect["widget_play"] and explorer.locator(".widget-play button").count():
        changes = session.press_widget_play(explorer)
        assert changes >= 2, (
            f"{nb_path}: pressing the explorer's Play changed the figure {changes} time(s) "
            "in 10 s, expected >= 2")
    return moves


def exercise_player(session: h.NotebookSession, nb_path: str) -> dict:
    root = session.page.locator(".gdviz-player").first
    assert root.locator("button.gdviz-play").count() >= 1, (
        f"{nb_path}: .gdviz-player has no button.gdviz-play")
    assert root.locator(".gdviz-frame").count() >= 1, (
        f"{nb_path}: .gdviz-player has no .gdviz-frame indicator")
    played = session.press_player(0)
    assert len(set(played["frames"])) >= 3, (
        f"{nb_path}: after pressing Play the frame indicator showed {played['frames']} "
        f"in {played['seconds']} s; expected it to advance at least twice")
    assert played["distinct_visuals"] >= 2, (
        f"{nb_path}: the frame number advanced ({played['frames']}) but the picture "
        "(canvas/img) never changed")
    return played


def run_notebook(notebook_session, latency_log, nb_path: str, expect: dict,
                 is_fixture: bool = False) -> dict:
    session = notebook_session(nb_path)
    shot = h.SCREENSHOTS / (nb_path.replace("/", "__").removesuffix(".ipynb") + ".png")
    try:
        session.run_all(timeout_s=expect["run_timeout_s"])
        info = session.inspect()
        print(f"\n[browser] {nb_path}: {info['figures']} figure(s), {info['widgets']} widget(s), "
              f"{info['explorers']} explorer(s), {info['players']} player(s); "
              f"open {session.timings.get('open_s')} s, run {session.timings.get('run_s')} s")
        for s in info["stderr"]:
            print(f"[browser] {nb_path}: stderr in cell {s['cell']}: {s['text'].strip()[:300]}")
        for e in info["consoleErrors"]:
            if not e.startswith("Failed to load resource"):  # those are in failedRequests
                print(f"[browser] {nb_path}: console error: {e[:300]}")
        for e in info["failedRequests"]:
            print(f"[browser] {nb_path}: request failed (loopback only here): {e}")
        START_STATES[nb_path] = [session.explorer_state(session.explorer(i))
                                 for i in range(info["explorers"])]
        check_page(info, expect, nb_path)
        t = h.time.monotonic()
        for index in range(info["explorers"]):
            moves = exercise_explorer(session, expect, nb_path, index, log=latency_log)
            if index:
                latency_log.add_check(nb_path, f"explorer {index}: keys on η", moves.summary())
                continue
            latency_log.add(nb_path, moves, is_fixture=is_fixture)
            summary = moves.summary()
            print(f"[browser] {nb_path}: η slider: median {summary['median_ms']} ms key->image "
                  f"(src {summary['median_src_ms']}, painted {summary['median_painted_ms']}, "
                  f"readout {summary['median_readout_ms']}) over {summary['moves']} moves; "
                  f"samples {summary['samples_ms']}")
            drag = latency_log.drags.get(nb_path)
            if drag:
                print(f"[browser] {nb_path}: η drag: median {drag['median_ms']} ms mouseup->painted "
                      f"over {drag['drags']} drags; samples {drag['samples_ms']}")
        if info["players"]:
            played = exercise_player(session, nb_path)
            print(f"[browser] {nb_path}: player frames {played['frames']} "
                  f"in {played['seconds']} s")
        session.timings["interact_s"] = round(h.time.monotonic() - t, 2)
        # Pressing keys and buttons must not have broken anything either.
        session.wait_idle(timeout_s=60)
        after = session.inspect()
        problems = problems_of(after, expect)
        assert not problems, f"{nb_path} after interacting:\n" + "\n".join(problems)
        return info
    finally:
        t = h.time.monotonic()
        try:
            shots = session.screenshot(shot)
            print(f"[browser] {nb_path}: screenshot {', '.join(str(s) for s in shots)}")
        except Exception as exc:
            print(f"[browser] {nb_path}: screenshot failed: {exc}")
        session.timings["screenshot_s"] = round(h.time.monotonic() - t, 2)
        latency_log.add_timings(nb_path, dict(session.timings))


@pytest.mark.parametrize("nb_path", notebook_paths())
def test_notebook_in_jupyterlab(nb_path, notebook_session, latency_log):
    run_notebook(notebook_session, latency_log, nb_path, expectations(nb_path))


def test_harness_on_fixture_notebook(notebook_session, latency_log):
    """The harness itself, on a small notebook that meets the page contract."""
    nb_path = f"{FIXTURE_DIR}/fixture.ipynb"
    run_notebook(notebook_session, latency_log, nb_path, expectations(nb_path), is_fixture=True)


def test_harness_sees_errors(notebook_session):
    """A traceback (also in a cell tagged raises-exception) or stderr in a cell, and the cells a
    failed Run All skipped, are caught."""
    nb_path = f"{FIXTURE_DIR}/broken.ipynb"
    session = notebook_session(nb_path)
    session.run_all(timeout_s=120)
    info = session.inspect()
    problems = problems_of(info, dict(DEFAULTS))
    text = "\n".join(problems)
    assert "ZeroDivisionError" in text, json.dumps(info, indent=1)
    assert "something went wrong" in text, json.dumps(info, indent=1)
    assert "a false claim in an excused cell" in text, json.dumps(info, indent=1)  # tag or no tag
    assert info["unexecuted"] == [4], json.dumps(info, indent=1)
    assert info["figures"] == 1


# --- issue 10 #10: the number on the slider is the number in the picture --------------------------
@pytest.mark.parametrize("nb_path", notebook_paths())
def test_explorers_start_at_the_values_the_notebook_asked_for(nb_path, notebook_session):
    """ISSUE 10 #10 (fails until the explorer keeps requested values on its slider grid):
    right after "Run all", each slider shows the value its explore(...) call asked for, and
    the readout's numbers are those of a run at those values. Uses what
    test_notebook_in_jupyterlab saw right after its "Run all" (or runs the notebook itself)."""
    expect = expectations(nb_path)
    if not expect.get("calls") or not expect["calls"].explorers:
        pytest.skip(f"{nb_path} makes no explorer")
    states = START_STATES.get(nb_path)
    if states is None:
        session = notebook_session(nb_path)
        session.run_all(timeout_s=expect["run_timeout_s"])
        states = [session.explorer_state(session.explorer(i))
                  for i in range(len(expect["calls"].explorers))]
    problems = notebook_calls.start_value_problems(expect["calls"], states)
    assert not problems, f"{nb_path} right after Run all:\n" + "\n".join(problems)
