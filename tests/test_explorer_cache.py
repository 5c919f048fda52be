"""The explorer's picture cache and its drawing ahead (gdviz/explorer/cache.py, ahead.py), without a
browser: a kept picture is byte for byte the picture a fresh drawing gives, the cache's key
changes with every control, and drawing ahead starts only after a move from the browser,
goes nearest first, starts over on a change, stops on close and never lets an error out.

Runs under ipywidgets 8 and 7.7.1 (Colab's) alike.
"""
import asyncio
import logging
import threading

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import pytest  # noqa: E402

from gdviz.explorer import wiring  # noqa: E402
from gdviz.explorer.controls import GridSlider  # noqa: E402
import test_explorer  # noqa: E402

explorers = test_explorer.explorers     # the fixture: each test closes the explorers it made


class FakeHandle:
    def __init__(self, callback, args):
        self.callback, self.args, self.cancelled = callback, args, False

    def cancel(self):
        self.cancelled = True

    def run(self):
        self.callback(*self.args)       # an exception here fails the test (no loop to log it)


class FakeLoop:
    """The kernel's event loop as the explorer uses it: call_soon / call_later, run by hand."""

    def __init__(self):
        self.ready = []

    def call_soon(self, callback, *args):
        self.ready.append(FakeHandle(callback, args))
        return self.ready[-1]

    def call_later(self, delay, callback, *args):
        return self.call_soon(callback, *args)

    call_soon_threadsafe = call_soon

    def run(self, limit=10_000) -> int:
        """Run the callbacks (and those they add) until none is left; how many ran."""
        ran = 0
        while self.ready and ran < limit:
            handle = self.ready.pop(0)
            if not handle.cancelled:
                handle.run()
                ran += 1
        return ran


@pytest.fixture
def loop(monkeypatch):
    fake = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: fake)
    return fake


def ahead(explorer, loop, pictures: int) -> int:
    """Run the loop's turns until ``pictures`` more are kept (or nothing is left to run)."""
    goal = len(explorer.cache) + pictures
    while len(explorer.cache) < goal and loop.run(limit=1):
        pass
    return len(explorer.cache) - goal + pictures


def from_browser(control, value) -> None:
    """What a comm message from the browser does: set the value under the property lock."""
    if isinstance(control, widgets.SelectionSlider):
        control.set_state({"index": list(control.grid).index(value)})
    elif isinstance(control, widgets.Dropdown):
        control.set_state({"index": [key for _, key in control.options].index(value)})
    else:
        control.set_state({"value": value})


def shown(explorer) -> tuple[bytes, str]:
    return bytes(explorer.image.value), explorer.readout.value


def fresh(explorer) -> tuple[bytes, str]:
    """The picture of the current settings drawn now, not taken from the cache."""
    explorer.cache.clear()
    explorer.update()
    return shown(explorer)


def controls_of(explorer) -> list:
    """Every control the explorer reacts to (its own list, so a new control is covered)."""
    return [control for control, _ in explorer._observers]


def another_value(control):
    """A valid value of the control other than its own."""
    if isinstance(control, GridSlider):
        grid, i = control.grid, control.index
        return grid[i - 1] if i > 0 else grid[i + 1]
    if isinstance(control, widgets.Dropdown):
        keys = [key for _, key in control.options]
        return keys[(keys.index(control.value) + 1) % len(keys)]
    return control.value - 1 if control.value > control.min else control.value + 1


EXPLORERS = [
    (("SGD",), {"steps": 40, "lr": 0.95}),
    ((["Momentum", "Nesterov"],), {"steps": 60, "lr": 0.1, "momentum": 0.9}),
    ((["Adam", "AdamW"], "himmelblau"), {"steps": 200, "lr": 0.1}),
    (("Momentum",), {"steps": 30, "stability_map": True}),
]
IDS = ["sgd", "momentum-nesterov", "adam-adamw", "momentum-map"]


# --- the key: every control --------------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs", EXPLORERS, ids=IDS)
def test_every_control_changes_the_key_and_the_picture_is_the_fresh_one(explorers, args, kwargs):
    """Move each control in turn (with the cache warm): the settings change, and what is shown
    is what a fresh drawing shows. A control missing from the key would be answered by the
    kept picture of the settings before it moved."""
    explorer = explorers(*args, **kwargs)
    controls = controls_of(explorer)
    assert len(controls) >= 8
    missed = []
    for control in controls:
        before = explorer.settings()
        value = another_value(control)
        control.value = value
        if explorer.settings() == before:
            missed.append(control.description)
            continue
        after = shown(explorer)
        assert after == fresh(explorer), control.description
    assert missed == [], f"controls missing from the cache's key: {missed}"


@pytest.mark.parametrize("args, kwargs", EXPLORERS, ids=IDS)
def test_a_kept_picture_is_the_fresh_picture_after_other_moves_and_back(explorers, args, kwargs):
    """η to a value, every other control away and back (the background redrawn on the way):
    the picture comes from the cache (nothing drawn) and has the bytes of a fresh drawing."""
    explorer = explorers(*args, **kwargs)
    eta = explorer.hyperparameter_sliders[explorer.optimizers[0]]["lr"]
    eta.value = eta.grid[eta.index - 7]
    kept = shown(explorer)
    others = [c for c in controls_of(explorer) if c is not eta and c is not explorer.surface_dropdown]
    for control in others:
        old = control.value
        control.value = another_value(control)
        control.value = old
    draws = []
    real_draw = explorer.view.draw
    explorer.view.draw = lambda *a, **k: (draws.append(1), real_draw(*a, **k))
    eta.value = eta.grid[eta.index + 3]
    eta.value = eta.grid[eta.index - 3]
    assert len(draws) == 1                              # the first move drew, the way back not
    assert shown(explorer) == kept
    assert fresh(explorer) == kept
    assert len(draws) == 2


def test_the_surface_menu_away_and_back_keeps_the_picture_and_its_bytes(explorers):
    explorer = explorers(["SGD", "Momentum"], steps=30)
    kept = shown(explorer)
    explorer.surface_dropdown.value = "beale"
    assert shown(explorer) != kept
    explorer.surface_dropdown.value = "elongated_bowl"
    assert shown(explorer) == kept == fresh(explorer)


def test_a_picture_encoded_with_a_palette_let_go_is_drawn_again(explorers):
    explorer = explorers("SGD", steps=20)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    first = slider.value
    slider.value = 0.5
    explorer.view._palettes.clear()         # as if 64 other backgrounds came since
    draws = explorer.n_background_draws
    explorer.steps_slider.value = 21        # a new background, a new palette ...
    explorer.steps_slider.value = 20        # ... and this one again, with a palette chosen anew
    slider.value = first
    assert shown(explorer) == fresh(explorer)
    assert explorer.n_background_draws == draws + 2


def test_the_trajectories_and_the_figure_follow_a_picture_from_the_cache(explorers):
    explorer = explorers("SGD", steps=10)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    slider.value = 0.3
    slider.value = 0.1                      # from the cache: nothing run, nothing drawn
    (trajectory,) = explorer.trajectories
    assert trajectory.optimizer.lr == 0.1
    assert explorer.path_lines["SGD"].get_xydata()[1, 0] == pytest.approx(-7.0 * (1 - 0.1 / 10))


def test_the_cache_keeps_at_most_its_bytes_and_close_empties_it(explorers):
    explorer = explorers("SGD", steps=20)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    one = explorer.cache.nbytes
    explorer.cache.max_bytes = int(5.5 * one)
    for value in slider.grid[100:120]:
        slider.value = value
    assert 4 <= len(explorer.cache) <= 6 and explorer.cache.nbytes <= 5.5 * one
    assert slider.grid[119] in [s.values("SGD")["lr"] for s in explorer.cache._pictures]
    explorer.close()
    assert len(explorer.cache) == 0 and explorer.cache.nbytes == 0


# --- drawing ahead ------------------------------------------------------------------------------
def test_no_drawing_ahead_at_creation_or_after_moves_from_python(explorers, loop):
    explorer = explorers(["SGD", "Momentum"], steps=20)
    explorer.hyperparameter_sliders["SGD"]["lr"].value = 0.3
    assert loop.ready == [] and explorer._plan is None
    assert len(explorer.cache) == 2


def test_a_move_from_the_browser_starts_drawing_ahead_nearest_first(explorers, loop):
    explorer = explorers(["SGD", "Momentum"], steps=20)
    alpha = explorer.hyperparameter_sliders["Momentum"]["momentum"]
    from_browser(alpha, 0.5)
    assert loop.run(limit=1) == 1                       # the move itself is shown first
    assert shown(explorer) == fresh(explorer)
    assert explorer.settings().values("Momentum")["momentum"] == 0.5
    kept_before = set(explorer.cache._pictures)
    assert ahead(explorer, loop, 2 * wiring.NEAR_VALUES + 3) == 2 * wiring.NEAR_VALUES + 3
    new = [s for s in explorer.cache._pictures if s not in kept_before]
    # first the values next to the one moved, nearest first ...
    i = alpha.grid.index(0.5)
    near = [alpha.grid[i + d] for d in (-1, 1, -2, 2, -3, 3)]
    assert [s.values("Momentum")["momentum"] for s in new[:6]] == near
    # ... then the η sliders, the other settings as shown
    base = explorer.settings()
    lrs = [s for s in new if s.values("Momentum")["momentum"] == 0.5
           and s.values("SGD")["lr"] != base.values("SGD")["lr"]]
    assert lrs and all(s == base.with_value("SGD", "lr", s.values("SGD")["lr"]) for s in lrs)
    # every kept picture is the fresh one of its settings (the runs of the optimizer whose
    # slider does not move are reused from one picture to the next)
    kept = {settings: explorer.cache.get(settings) for settings in new[::3]}
    explorer.cache.clear()
    for settings, picture in kept.items():
        again = explorer._render(settings, explorer._run(settings))
        assert (again.png, again.readout) == (picture.png, picture.readout), settings
    explorer.close()
    assert loop.run() == 0                              # closed: nothing more is drawn


def test_drawing_ahead_covers_the_eta_sliders_then_stops(explorers, loop):
    explorer = explorers("SGD", steps=10)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(slider, slider.grid[slider.index + 1])
    loop.run()
    assert loop.ready == [] and explorer._plan is None and explorer.prefetch_error is None
    assert len(explorer.cache) == len(slider.grid)          # the first picture is one
    draws = []
    explorer.view.draw = lambda *a, **k: draws.append(1)
    for value in slider.grid[::25]:
        from_browser(slider, value)
        loop.run()
        assert shown(explorer)[0] == explorer.cache.get(explorer.settings()).png
    assert draws == []                                      # every one from the cache


def test_drawing_ahead_after_a_move_of_alpha_covers_its_neighbours_and_all_of_eta_only(explorers, loop):
    # the whole range of η (dragged most), the moved slider's NEAR_VALUES each way, no more:
    # α's whole range would keep a core busy for seconds after each touch
    explorer = explorers("Momentum", steps=10)
    eta = explorer.hyperparameter_sliders["Momentum"]["lr"]
    alpha = explorer.hyperparameter_sliders["Momentum"]["momentum"]
    from_browser(alpha, alpha.grid[alpha.index + 1])
    loop.run()
    assert explorer._plan is None and explorer.prefetch_error is None
    kept = list(explorer.cache._pictures)
    moved = explorer.settings()
    alphas = {s.values("Momentum")["momentum"] for s in kept if s.values("Momentum")["lr"] == eta.value}
    i = alpha.grid.index(alpha.value)
    near = set(alpha.grid[max(i - wiring.NEAR_VALUES, 0):i + wiring.NEAR_VALUES + 1])
    assert alphas == near
    etas = {s.values("Momentum")["lr"] for s in kept if s.values("Momentum")["momentum"] == alpha.value}
    assert etas == set(eta.grid)
    assert moved in kept and len(kept) == len(near) + len(eta.grid) - 1    # the two share one


def test_another_change_starts_over_from_the_new_settings(explorers, loop):
    explorer = explorers("SGD", steps=20)
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(eta, eta.grid[eta.index + 1])
    loop.run(limit=5)
    from_browser(explorer.noise_slider, 0.5)
    loop.run(limit=2)                       # the last turn of the chain before, and the move
    assert explorer.settings().noise == 0.5
    kept_before = set(explorer.cache._pictures)
    ahead(explorer, loop, 5)
    new = [s for s in explorer.cache._pictures if s not in kept_before]
    assert len(new) == 5 and all(s.noise == 0.5 for s in new)


def test_a_change_waiting_to_be_shown_goes_before_the_next_picture_ahead(explorers, loop):
    explorer = explorers("SGD", steps=20)
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(eta, eta.grid[eta.index + 1])
    loop.run(limit=3)
    kept = len(explorer.cache)
    from_browser(eta, eta.grid[eta.index - 40])     # queued behind the next picture ahead
    tick = loop.ready[0]
    tick.run()                                     # that picture is not drawn ...
    assert len(explorer.cache) == kept
    loop.ready.pop(0)
    loop.run(limit=1)                               # ... the move is shown
    assert explorer.settings().values("SGD")["lr"] == eta.grid[eta.index]
    assert shown(explorer) == fresh(explorer)


def test_a_short_run_is_drawn_in_the_piece_of_its_picture_a_long_one_in_a_piece_of_its_own(
        explorers, monkeypatch):
    # each piece costs the kernel's loop a pause: a run of a few steps goes with its drawing,
    # a long one (notebook 05's 200 steps of two optimizers) lets a message in before it
    from gdviz.explorer import ahead as drawing_ahead

    def pieces_for_12_pictures(run_piece: float) -> int:
        monkeypatch.setattr(drawing_ahead, "RUN_PIECE", run_piece)
        explorer = explorers(["SGD", "Momentum"], steps=20)
        explorer.prefetch(None)             # no loop: driven piece by piece
        kept, pieces = len(explorer.cache), 0
        while len(explorer.cache) < kept + 12:
            assert explorer.prefetch_step()
            pieces += 1
        explorer.close()
        return pieces

    assert pieces_for_12_pictures(60.0) == 12       # the runs went with the drawing
    # the first picture: both runs, then the drawing; along SGD's η after it: SGD's run
    # (Momentum's is the one before), then the drawing
    assert pieces_for_12_pictures(0.0) == 3 + 11 * 2


def test_play_does_not_draw_ahead(explorers, loop):
    explorer = explorers("SGD", steps=20)
    from_browser(explorer.step_slider, 5)
    loop.run()
    assert explorer._plan is None and len(explorer.cache) == 2


def test_an_error_while_drawing_ahead_stops_it_and_the_explorer_works_on(explorers, loop):
    explorer = explorers("SGD", steps=20)
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(eta, eta.grid[eta.index + 1])
    loop.run(limit=1)
    real_draw = explorer.view.draw

    def broken(*args, **kwargs):
        explorer.view.draw = real_draw
        raise RuntimeError("a bug in drawing")
    explorer.view.draw = broken
    loop.run()                                      # nothing escapes the callback
    assert isinstance(explorer.prefetch_error, RuntimeError)
    assert explorer._plan is None and loop.ready == []
    from_browser(eta, eta.grid[eta.index + 30])     # the live path still draws, nothing ahead
    loop.run()
    assert shown(explorer) == fresh(explorer)
    assert explorer.settings().values("SGD")["lr"] == eta.grid[eta.index]
    assert loop.ready == []


def test_drawing_ahead_stops_when_the_cache_is_full(explorers, loop):
    explorer = explorers("SGD", steps=20)
    explorer.cache.max_bytes = 10 * explorer.cache.nbytes
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(eta, eta.grid[eta.index + 1])
    loop.run()
    assert 9 <= len(explorer.cache) <= 12 and explorer._plan is None


def test_on_a_real_event_loop_it_draws_ahead_and_reports_nothing(explorers, caplog):
    """The kernel's loop: after a move from the browser, pictures are drawn ahead between its
    turns, nothing reaches asyncio's error log (a wall of text under the cell), and a fast
    drag that follows ends on the picture of its last value."""
    explorer = explorers("SGD", steps=20)
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]

    async def student():
        from_browser(eta, eta.grid[eta.index + 1])
        await asyncio.sleep(0.5)
        kept = len(explorer.cache)
        assert kept >= 3                            # (a loaded machine draws few)
        for value in eta.grid[:200:40]:             # a fast drag: values passed, then the last
            from_browser(eta, value)
        await asyncio.sleep(0.05)
        explorer.view.draw = None                   # broken: drawing ahead must swallow it
        await asyncio.sleep(0.1)

    failures = []

    def run():
        try:
            asyncio.run(student())
        except BaseException as exc:                # re-raised in the test's own thread
            failures.append(exc)
    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    if failures:
        raise failures[0]
    assert [r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR] == []
    assert isinstance(explorer.prefetch_error, TypeError)
    assert explorer.settings().values("SGD")["lr"] == eta.grid[160]
    picture = shown(explorer)
    del explorer.view.draw                          # the instance attribute: the method again
    assert picture == fresh(explorer)


def test_one_chain_draws_ahead_when_moves_come_on_two_threads_loops(explorers, monkeypatch):
    """ipykernel 7 takes widget messages on a subshell's thread, with a loop of its own, and
    the first on the main thread: the chain started on the other loop must end, else two
    threads draw into one figure at once."""
    first, second = FakeLoop(), FakeLoop()
    current = {"loop": first}
    monkeypatch.setattr(wiring, "_running_loop", lambda: current["loop"])
    explorer = explorers("SGD", steps=20)
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    from_browser(eta, eta.grid[eta.index + 1])
    first.run(limit=3)                                  # the move and two pieces ahead
    assert first.ready
    current["loop"] = second
    from_browser(eta, eta.grid[eta.index + 1])
    second.run(limit=1)                                 # the move, on the other loop
    kept = len(explorer.cache)
    current["loop"] = first
    assert first.run() == 1 and len(explorer.cache) == kept    # its next turn ends the chain
    current["loop"] = second
    assert ahead(explorer, second, 4) == 4


def test_two_threads_never_draw_into_the_figure_at_once(explorers):
    """A move handled on a subshell's thread while another is drawn on the main thread (the
    first widget message of a JupyterLab session comes on the main thread, the next ones on a
    subshell's): without one lock, two drawings interleave in one canvas, a garbled frame
    (tick labels of two layouts, contours cleared by the other drawing)."""
    explorer = explorers("SGD", steps=20)
    inside, most = [0], [0]
    entered, release = threading.Event(), threading.Event()
    real_draw = explorer.view.draw

    def draw(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            if threading.current_thread().name == "first":
                entered.set()
                release.wait(5)
            real_draw(*args, **kwargs)
        finally:
            inside[0] -= 1
    explorer.view.draw = draw
    eta = explorer.hyperparameter_sliders["SGD"]["lr"]
    first = threading.Thread(target=setattr, args=(eta, "value", 0.3), name="first")
    second = threading.Thread(target=setattr, args=(explorer.noise_slider, "value", 0.5),
                              name="second")
    first.start()
    assert entered.wait(5)
    second.start()
    second.join(0.3)                    # it waits for the first drawing, or draws beside it
    release.set()
    first.join(5)
    second.join(5)
    assert most[0] == 1
    del explorer.view.draw
    assert explorer.settings().noise == 0.5 and explorer.settings().values("SGD")["lr"] == 0.3
    assert shown(explorer) == fresh(explorer)
