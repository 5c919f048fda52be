"""The kernel's half of the explorer's pictures kept in the page (gdviz/explorer/browser.py).

The page keys a picture by what the controls' models hold in the page; those models are kept
in step with the widgets' own synced traits (a selection's ``index``, a slider's ``value``), so
the expected keys here are read from those traits after moving the real widgets, never from
the code under test. The JavaScript half is tested in JupyterLab (tests/browser).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import resources

import pytest

pytest.importorskip("anywidget")

import test_explorer  # noqa: E402
from gdviz.explorer import browser as browser_module  # noqa: E402


explorers = test_explorer.explorers     # the fixture: each test closes the explorers it made


def synced_values(explorer) -> list[int]:
    """What the page's models hold: each control's synced trait, by ipywidgets."""
    return [int(getattr(widget, trait))
            for widget, trait in zip(explorer.browser.controls, explorer.browser.control_traits)]


class Recorder:
    """Stands in for the comm: what BrowserCache.send would put on the wire."""

    def __init__(self, browser):
        self.messages = []
        browser.send = lambda content, buffers=None: self.messages.append((content, buffers))


def test_the_page_keys_a_picture_by_the_values_the_page_models_hold(explorers):
    explorer = explorers(["Adam", "AdamW"], "himmelblau", steps=20, lr=0.1)
    sliders = explorer.hyperparameter_sliders
    moves = [(sliders["Adam"]["lr"], 0.03), (sliders["AdamW"]["beta1"], 0.5),
             (explorer.start_sliders[0], 1.5), (explorer.noise_slider, 0.2),
             (explorer.schedule_dropdown, "cosine"), (explorer.steps_slider, 30),
             (explorer.step_slider, 12), (explorer.surface_dropdown, "rosenbrock")]
    for widget, value in moves:
        widget.value = value
        assert explorer.controls.page_values(explorer.settings()) == synced_values(explorer)
    # a setting drawn ahead (one η moved, nothing else): the key the page will hold there
    lr = sliders["AdamW"]["lr"]
    target = lr.grid[lr.index + 7]
    ahead = explorer.controls.page_values(explorer.settings().with_value("AdamW", "lr", target))
    lr.value = target
    assert ahead == synced_values(explorer)


def test_every_picture_drawn_goes_to_the_page_with_its_key_bytes_and_readout(explorers, monkeypatch):
    monkeypatch.setattr(browser_module, "IN_FLIGHT", 10_000)
    explorer = explorers("SGD", steps=30, lr=0.1)
    wire = Recorder(explorer.browser)
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])     # a page
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    first = slider.index                     # its picture went when the explorer was made
    for value in (0.2, 0.5):
        slider.value = value
    assert len(wire.messages) == 2
    content, buffers = wire.messages[-1]
    assert content["key"] == synced_values(explorer)
    assert buffers == [explorer.image.value] and content["readout"] == explorer.readout.value
    slider.value = 0.2                       # kept in the kernel, and sent before: not again
    assert len(wire.messages) == 2
    # drawing ahead: first the sketch of every η's picture (the page draws them meanwhile),
    # then each picture drawn ahead, with the key of its own settings
    explorer.prefetch(slider)
    while explorer.prefetch_step():
        pass
    (partial, background), (whole, _) = [m for m in wire.messages[2:] if "sketch" in m[0]]
    assert [partial["sketch"]["complete"], whole["sketch"]["complete"]] == [False, True]
    assert partial["sketch"]["key"] == whole["sketch"]["key"] == synced_values(explorer)
    assert background[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert "sketch" in wire.messages[2][0], "the sketch goes before the pictures drawn ahead"
    keys = [tuple(c["key"]) for c, _ in wire.messages if "key" in c]
    assert len(keys) == len(set(keys)), "a picture sent twice"
    index = next(i for i, w in enumerate(explorer.browser.controls) if w is slider)
    assert {k[index] for k in keys} | {first} == set(range(len(slider.grid))), "η's whole range"


def test_no_more_than_a_few_pictures_go_unacknowledged(explorers):
    explorer = explorers("SGD", steps=30, lr=0.1)
    browser = explorer.browser
    wire = Recorder(browser)
    in_flight = browser_module.IN_FLIGHT
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    explorer.prefetch(slider)
    while len(browser._waiting) < 2 * in_flight and explorer.prefetch_step():
        pass                                     # enough drawn ahead to fill two windows
    assert len(wire.messages) == in_flight - 1          # the first went when it was made
    assert browser.n_sent - browser.n_acknowledged == in_flight
    waiting = [key for key, _ in browser._waiting]
    # the page starts (its module loaded): what went before is the old page's
    browser._on_page_message(browser, {"started": True}, [])
    assert len(wire.messages) == 2 * in_flight - 1
    assert [c["key"] for c, _ in wire.messages[in_flight - 1:]] == waiting[:in_flight], \
        "pictures wait in the order drawn"
    # it has kept ACK_EVERY since it started: that many more go
    every = browser_module.ACK_EVERY
    browser._on_page_message(browser, {"kept": every}, [])
    assert len(wire.messages) == 2 * in_flight - 1 + every
    for stale in ({"kept": every}, {"kept": 1}, {"kept": True}, {"other": 1}, "kept"):
        browser._on_page_message(browser, stale, [])     # nothing new acknowledged: nothing sent
    assert len(wire.messages) == 2 * in_flight - 1 + every
    assert browser.n_acknowledged <= browser.n_sent


def test_colab_and_an_install_without_anywidget_go_without_it(explorers, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", object())
    assert explorers("SGD", steps=5).browser is None
    monkeypatch.delitem(sys.modules, "google.colab")
    monkeypatch.setattr(browser_module, "anywidget", None)
    assert explorers("SGD", steps=5).browser is None


def test_it_is_never_displayed_and_closes_with_the_explorer(explorers):
    explorer = explorers("SGD", steps=5)
    found, todo = [], [explorer.widget]
    while todo:
        widget = todo.pop()
        found.append(widget)
        todo += list(getattr(widget, "children", ()))
    assert not any(w is explorer.browser for w in found), \
        "without its front end a displayed widget would show an error; its model alone works"
    browser = explorer.browser
    explorer.close()
    assert browser.comm is None and browser.layout.comm is None


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the JavaScript")
def test_the_front_end_module_parses_as_an_es_module(tmp_path):
    static = resources.files("gdviz") / "static"
    # the scene's drawing (a plain script, shared with the player), then the module
    source = (static / "scene_draw.js").read_text() + "\n" + (static / "browser_cache.js").read_text()
    assert str(browser_module.BrowserCache._esm) == source
    path = tmp_path / "browser_cache.mjs"
    path.write_text(source)
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_page_that_starts_gets_pictures_drawn_ahead_once_no_cell_runs(explorers, monkeypatch):
    """The page's module says it started: the kernel draws η's range ahead for it, but only
    once no cell has run for IDLE_BEFORE seconds ("Run all" first), never while one runs."""
    from test_explorer_cache import FakeLoop

    from gdviz.explorer import ahead, wiring
    loop = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: loop)
    cells = ahead._Cells()
    cells.watched = cells.running = True                     # a cell runs: "Run all"
    monkeypatch.setattr(ahead, "_CELLS", cells)
    explorer = explorers("SGD", steps=30, lr=0.1)
    wire = Recorder(explorer.browser)
    kept = len(explorer.cache)
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    assert loop.run(limit=50) == 50                           # it keeps looking ...
    assert len(explorer.cache) == kept and wire.messages == []     # ... and draws nothing
    cells._ended()                                            # the last cell ended just now
    loop.run(limit=50)
    assert len(explorer.cache) == kept and wire.messages == []
    cells.last_end -= ahead.IDLE_BEFORE                       # and nothing ran since
    loop.run(limit=400)
    slider = explorer.hyperparameter_sliders["SGD"]["lr"]
    at = explorer.browser.controls.index(slider)
    assert "sketch" in wire.messages[0][0]                    # the page's sketch first
    drawn = {content["key"][at] for content, _ in wire.messages if "key" in content}   # η indices
    assert len(drawn) >= 20 and slider.index + 1 in drawn and slider.index - 1 in drawn


def test_explorers_on_one_page_draw_ahead_one_at_a_time_in_the_order_their_pages_started(
        explorers, monkeypatch):
    """Notebook 02 shows two explorers: the first draws all it draws ahead before the second
    starts (both at once would each take twice as long); a closed one does not hold the next."""
    from test_explorer_cache import FakeLoop

    from gdviz.explorer import ahead, wiring
    loop = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: loop)
    cells = ahead._Cells()
    cells.watched = True
    cells.last_end -= 10                                      # no cell ran for a while
    monkeypatch.setattr(ahead, "_CELLS", cells)
    monkeypatch.setattr(ahead, "_FOR_PAGES", [])
    first, second, third = (explorers("SGD", steps=10) for _ in range(3))
    order = []
    for explorer in (first, second, third):
        explorer.browser.send = lambda *a, who=explorer, **k: order.append(who)
        explorer.cache.max_bytes = 30 * explorer.cache.nbytes     # ~30 pictures each
    for explorer in (first, second, third):
        explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    for explorer in (first, second, third):
        explorer.browser.n_acknowledged = 10 ** 6             # the page keeps up
    loop.run(limit=40)
    assert order and set(order) == {first}                    # the first alone, so far
    first.close()                                             # closed mid-way: the next goes
    loop.run()
    after = order[order.index(second):]
    assert second in order and third in order and first not in after
    assert after.index(third) > max(i for i, who in enumerate(after) if who is second)
    assert first._plan is None and second._plan is None and third._plan is None


def test_without_watched_cells_a_page_start_draws_nothing_ahead(explorers, monkeypatch):
    from test_explorer_cache import FakeLoop

    from gdviz.explorer import ahead, wiring
    loop = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: loop)
    monkeypatch.setattr(ahead, "_CELLS", ahead._Cells())      # outside IPython: not watched
    explorer = explorers("SGD", steps=30, lr=0.1)
    kept = len(explorer.cache)
    explorer.browser._on_page_message(explorer.browser, {"started": True}, [])
    assert loop.run() == 0 and len(explorer.cache) == kept


def test_cells_are_watched_through_ipythons_events(monkeypatch):
    """pre_run_cell / post_run_cell of a real IPython shell move the watch (not a shell made
    the process's own: get_ipython is pointed at it for the test)."""
    import IPython
    from IPython.core.interactiveshell import InteractiveShell

    from gdviz.explorer import ahead
    shell = InteractiveShell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    cells = ahead._Cells()
    monkeypatch.setattr(ahead, "_CELLS", cells)
    cells.watch()                                  # from a cell making an explorer
    assert ahead.cells_idle_for() == 0.0
    shell.user_ns["cells"] = cells
    shell.run_cell("running_inside = cells.running")
    assert shell.user_ns["running_inside"] is True
    idle = ahead.cells_idle_for()
    assert idle is not None and 0.0 <= idle < 5.0 and not cells.running
    cells.last_end -= 10
    assert ahead.cells_idle_for() >= 10


def test_while_a_handle_is_held_pictures_drawn_ahead_wait_and_drawing_ahead_pauses(explorers, monkeypatch):
    """The page says a slider's handle is pressed: nothing drawn ahead is sent (it would queue
    ahead of the release's picture) and nothing more is drawn; on release all goes on. A hold
    the page never ends (it closed mid-drag) lapses after HOLD_AT_MOST seconds."""
    from test_explorer_cache import FakeLoop

    from gdviz.explorer import wiring
    loop = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: loop)
    explorer = explorers("SGD", steps=30, lr=0.1)
    browser = explorer.browser
    wire = Recorder(browser)
    browser._on_page_message(browser, {"kept": 1}, [])         # the first picture, kept
    explorer.prefetch(explorer.hyperparameter_sliders["SGD"]["lr"])
    loop.run(limit=6)                                            # a few pieces drawn and sent
    sent, kept = len(wire.messages), len(explorer.cache)
    assert sent >= 1 and kept >= 2
    browser._on_page_message(browser, {"hold": True}, [])
    assert browser.holding
    assert loop.run(limit=30) == 30                              # it keeps looking ...
    assert len(explorer.cache) == kept and len(wire.messages) == sent    # ... and does nothing
    explorer._render(explorer.settings().with_value("SGD", "lr", 0.2), explorer.trajectories)
    explorer._to_page(explorer.settings().with_value("SGD", "lr", 0.2),
                      explorer.cache.get(explorer.settings().with_value("SGD", "lr", 0.2)))
    assert len(wire.messages) == sent and len(browser._waiting) == 1    # a picture waits
    browser._on_page_message(browser, {"hold": False}, [])      # released: not yet, the
    assert not browser.holding and len(wire.messages) == sent   # release's picture goes first
    loop.run(limit=20)
    assert len(explorer.cache) > kept + 1                        # drawing ahead goes on ...
    assert len(wire.messages) > sent + 1                         # ... and what waited went
    browser._on_page_message(browser, {"hold": True}, [])
    browser._held_since -= browser_module.HOLD_AT_MOST          # a page that went mid-drag
    assert not browser.holding
    for bad in ({"hold": 1}, {"hold": "yes"}, {"hold": None}):   # only a true/false holds
        browser._on_page_message(browser, {"hold": False}, [])
        browser._on_page_message(browser, bad, [])
        assert not browser.holding


def test_a_picture_the_held_handle_is_over_is_drawn_at_once_and_sent_past_the_hold(explorers, monkeypatch):
    """The page asks for the values under a held handle: the kernel draws that picture on its
    next turn (the latest asked for wins) and sends it at once, hold or not; it is the picture
    a release there gives. Anything else asked for is ignored."""
    from test_explorer_cache import FakeLoop

    from gdviz.explorer import wiring
    loop = FakeLoop()
    monkeypatch.setattr(wiring, "_running_loop", lambda: loop)
    explorer = explorers(["SGD", "Momentum"], steps=30, lr=0.1)
    browser = explorer.browser
    wire = Recorder(browser)
    slider = explorer.hyperparameter_sliders["Momentum"]["lr"]
    at = browser.controls.index(slider)
    here = synced_values(explorer)
    browser._on_page_message(browser, {"hold": True}, [])
    for step in (3, 5):                          # two asks before the kernel's next turn
        want = list(here)
        want[at] += step
        browser._on_page_message(browser, {"want": want}, [])
    assert wire.messages == []                   # not yet: on the kernel's loop
    assert loop.run() == 1                       # one drawing, of the latest
    ((content, buffers),) = wire.messages
    assert content["key"] == want
    # the picture a release there gives: moved for real, drawn by the kernel as a move is
    explorer.cache.clear()
    slider.index = slider.index + 5
    assert synced_values(explorer) == want
    assert bytes(buffers[0]) == explorer.image.value and content["readout"] == explorer.readout.value
    # ignored: two controls away, a control that is not a hyperparameter's, off the grid,
    # and what is not a list of whole numbers one per control
    here = synced_values(explorer)
    steps_at = browser.controls.index(explorer.steps_slider)
    two, steps, off = list(here), list(here), list(here)
    two[at] += 1
    two[browser.controls.index(explorer.hyperparameter_sliders["SGD"]["lr"])] += 1
    steps[steps_at] -= 1
    off[at] = len(slider.grid)
    for ask in (two, steps, off, here[:-1], [True] * len(here), [float(v) for v in here], "x", None):
        browser._on_page_message(browser, {"want": ask}, [])
        loop.run()
    assert len(wire.messages) == 1
