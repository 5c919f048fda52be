"""The explorer's drawing ahead: once a student has moved a control, or once the page that
shows the explorer is ready to keep pictures (:mod:`.browser`) and no cell has run for
IDLE_BEFORE seconds (never during "Run all", never in a notebook run without a page), the
kernel draws, while it is idle, the pictures the next move can ask for,
a piece at a time (a long run, or the drawing and encoding with the short runs before it)
per turn of its event loop: first a sketch of every η's picture, from which the page draws
any of them itself (:mod:`.page_drawing`), then the pictures of the values next to the one just
moved, then every value of the η sliders, nearest first (:meth:`DrawingAhead._prefetch_plan`),
so that where a drag ends the picture is already kept. Explorers drawing ahead for their pages
take turns, in the order the pages started.

A part of :class:`gdviz.explorer.wiring.Explorer`, kept apart because it is a topic of its own:
it reads the explorer's settings, runs and drawing only through the methods named there
(``settings``, ``_kept``, ``_run_one``, ``_render``, ``_to_page``, ``_loop``, ``browser``)
and its lock.
What it draws goes to the page too (:mod:`.browser`), where the page can keep pictures.
"""
from __future__ import annotations

import dataclasses
import time
import weakref
from collections.abc import Iterator

import numpy as np

from .cache import Settings
from .page_drawing import sketch_key, sketch_pieces

__all__ = ["DrawingAhead", "NEAR_VALUES", "PREFETCH_PAUSE", "RUN_PIECE", "PREFETCH_DELAY",
           "IDLE_BEFORE", "watch_cells", "cells_idle_for"]

#: Around the value just moved, how many values each way are drawn ahead before the η sliders.
NEAR_VALUES = 10
#: Seconds between two pieces of drawing ahead: the kernel's loop takes a few turns to read a
#: message from the browser, and each turn would otherwise draw one more piece first.
PREFETCH_PAUSE = 0.003
#: Seconds of runs that make a piece of their own (a shorter run is drawn in the same piece).
RUN_PIECE = 0.004
#: Seconds from a picture sent to the first piece drawn ahead: the picture's message goes out
#: from the kernel's IOPub thread, which a drawing holding the GIL (and a core) would delay.
PREFETCH_DELAY = 0.1
#: Seconds between two looks at a handle held in the page (nothing is drawn meanwhile).
HELD_PAUSE = 0.05
#: Seconds between two looks at an explorer drawing ahead for its page before this one.
QUEUE_PAUSE = 0.1
#: Seconds without a cell running before a page's explorer draws ahead untouched: "Run all"
#: runs its cells first.
IDLE_BEFORE = 0.3


class _Cells:
    """Whether IPython is running a cell, and since when none has run: its pre_run_cell and
    post_run_cell events, watched from the first explorer made in a cell on."""

    def __init__(self):
        self.running, self.last_end, self.watched = False, time.monotonic(), False

    def watch(self) -> None:
        """Watch from now on; called while a cell runs (the one making an explorer)."""
        if self.watched:
            return
        try:
            from IPython import get_ipython
        except ImportError:             # pragma: no cover - ipywidgets brings IPython
            return
        shell = get_ipython()
        if shell is None:
            return
        shell.events.register("pre_run_cell", self._started)
        shell.events.register("post_run_cell", self._ended)
        self.watched, self.running = True, True     # this cell's post_run_cell ends it

    def _started(self, *_):
        self.running = True

    def _ended(self, *_):
        self.running, self.last_end = False, time.monotonic()


_CELLS = _Cells()
watch_cells = _CELLS.watch

#: Explorers whose pages started, in that order (weak: a closed or lost explorer drops out).
_FOR_PAGES: list = []


def _drawing_for_a_page_before(explorer) -> bool:
    """Is an explorer whose page started before ``explorer``'s still waiting to draw ahead,
    or drawing ahead?"""
    for ref in list(_FOR_PAGES):
        other = ref()
        if other is explorer:
            return False
        if other is None or other.closed:
            _FOR_PAGES.remove(ref)
        elif other._waiting_for_idle or other._plan is not None:
            return True
    return False


def cells_idle_for() -> float | None:
    """Seconds since the last cell ended (0 while one runs); None if not watched (outside
    IPython)."""
    if not _CELLS.watched:
        return None
    return 0.0 if _CELLS.running else time.monotonic() - _CELLS.last_end


class DrawingAhead:
    """Drawing ahead, for :class:`~gdviz.explorer.wiring.Explorer`."""

    def prefetch(self, moved=None) -> None:
        """Draw ahead, while the kernel is idle, the pictures the next move can ask for
        (:meth:`_prefetch_plan`), a piece at a time (:meth:`_prefetch_work`) per turn of the
        running event loop, starting PREFETCH_DELAY after the call;
        a later call starts over from the settings then. Without a running loop (a script, a
        test) nothing runs by itself: drive it with :meth:`prefetch_step`."""
        if self.closed or self.prefetch_error is not None:
            return
        loop = self._loop()
        with self._lock:
            self._plan = self._prefetch_work(moved)
            if loop is not None:
                # a chain of turns of this loop; a chain started before ends at its next turn
                # (it may be on another thread's loop: ipykernel 7 takes widget messages on
                # a subshell's thread and loop)
                chain = object()
                self._prefetching = (loop, loop.call_later(PREFETCH_DELAY, self._prefetch_tick,
                                                           chain), chain)

    def prefetch_when_idle(self) -> None:
        """Draw ahead as :meth:`prefetch` does, once no cell has run for IDLE_BEFORE seconds
        (the page showing the explorer is ready: its first drag finds the pictures there
        too), and once the explorers whose pages started before have drawn theirs: one at a
        time, in the notebook's order (two at once would each take twice as long, and a student
        meets the first one first). Nothing if a move started drawing ahead meanwhile, or
        outside a kernel's loop."""
        loop = self._loop()
        if loop is None or cells_idle_for() is None:
            return
        if not any(ref() is self for ref in _FOR_PAGES):
            _FOR_PAGES.append(weakref.ref(self))
        self._waiting_for_idle = True

        def check():
            if self.closed or self._plan is not None or self._prefetching is not None:
                self._waiting_for_idle = False
                return
            idle = cells_idle_for()
            if idle < IDLE_BEFORE:
                loop.call_later(IDLE_BEFORE - idle, check)
            elif _drawing_for_a_page_before(self):
                loop.call_later(QUEUE_PAUSE, check)
            else:
                self._waiting_for_idle = False
                self.prefetch(None)
        loop.call_later(IDLE_BEFORE, check)

    def _prefetch_tick(self, chain) -> None:
        with self._lock:
            if self._prefetching is None or self._prefetching[2] is not chain:
                return
            held = self.browser is not None and self.browser.holding
            if self._pending is not None or not (held or self.prefetch_step()):
                self._prefetching = None    # a change from the browser first (it starts over)
                return
            # a pause: a message that came meanwhile goes first (and while a handle is held in
            # the page, nothing is drawn: the release's picture gets the kernel to itself)
            loop = self._prefetching[0]
            pause = HELD_PAUSE if held else PREFETCH_PAUSE
            self._prefetching = (loop, loop.call_later(pause, self._prefetch_tick, chain), chain)

    def prefetch_step(self) -> bool:
        """Do the next piece of drawing ahead; False when all is done (or there is no room).
        An error stops drawing ahead (kept in :attr:`prefetch_error`), never the explorer: it
        is not shown, and a picture the student asks for is drawn as before."""
        with self._lock:
            if self._plan is None or self.closed:
                return False
            try:
                with np.errstate(all="ignore"):     # a setting never shown warns no one
                    next(self._plan)
                return True
            except StopIteration:
                pass
            except Exception as exc:    # noqa: BLE001 - on the event loop, it would only print
                self.prefetch_error = exc
            self._plan = None
            return False

    def _prefetch_work(self, moved=None) -> Iterator[None]:
        """Draw and keep the pictures of :meth:`_prefetch_plan` not kept yet, yielding after
        each drawing, and after runs that took RUN_PIECE seconds or more, so that a message
        from the browser waits for one drawing (and the short runs before it) at most, never
        for a long run too (a short run goes in one piece with its drawing: each piece costs
        the loop a PREFETCH_PAUSE)."""
        yield from self._send_sketch()
        last = {}       # each optimizer's last run: along another's slider, it is the same
        for settings in self._prefetch_plan(moved):
            if not self.cache.has_room():
                return
            if self._kept(settings) is not None:
                continue
            runs, began = [], time.perf_counter()
            for name in self.optimizers:
                key = (dataclasses.replace(settings, hyperparameters=(), shown_step=-1),
                       settings.values(name))
                if name not in last or last[name][0] != key:
                    try:
                        last[name] = (key, self._run_one(settings, name))
                    except (ValueError, TypeError):     # refused by the core: so is a move
                        break
                    if time.perf_counter() - began >= RUN_PIECE:
                        yield
                        began = time.perf_counter()
                runs.append(last[name][1])
            if len(runs) == len(self.optimizers):
                self._to_page(settings, self._render(settings, runs))
                yield

    def _send_sketch(self) -> Iterator[None]:
        """Send the page the sketch of the current settings (:mod:`.page_drawing`), from which
        it draws any η's picture itself until the kernel's comes, unless it has that one (the
        same settings but η's): made a piece at a time, sent twice (first without the marks of
        the runs that diverged, which take most of the time), each in a piece of its own. Only to a
        page that said it started (none listens under nbval, or without anywidget's front end).
        A sketch half made goes on where it was when drawing ahead starts over after a move of
        η (a drag moves it every second or so; a sketch may take longer)."""
        if self.browser is None or not self.browser.page_started:
            return
        key = sketch_key(self.settings())
        if self.browser.sketch_key == key:
            return
        if self._sketching is None or self._sketching[0] != key:
            self._sketching = (key, sketch_pieces(self))
        pieces = self._sketching[1]
        while True:     # not `yield from`: a plan let go would close the sketch with it
            try:
                made = next(pieces)
            except (StopIteration, ValueError, TypeError):  # done (or refused by the core:
                break                                       # so is a move)
            if made is not None:        # the first without the marks of runs that diverged
                whole = made[0]["complete"]
                self.browser.send_sketch(key if whole else None, *made)
                if whole:
                    self._sketching = None
            yield
        self._sketching = None

    def _prefetch_plan(self, moved=None) -> Iterator[Settings]:
        """The settings of the pictures to draw ahead, from the current ones: first the
        NEAR_VALUES values each way of the slider just ``moved``, then every value of each η
        slider (the one moved first), each nearest to its current value first. Only η's whole
        range: a student drags η most, and the other sliders' ranges would keep a core busy
        for many seconds after each touch (notebook 05's four sliders each) for moves that
        are rarer. A stability map's sweep depends on the hyperparameters off its axes (each
        would draw the map anew), so only the map's axes are drawn ahead."""
        base = self.settings()
        found = [(name, hp, slider) for name, sliders in self.hyperparameter_sliders.items()
                 for hp, slider in sliders.items()
                 if not self.stability_map or hp in self.stability_map]
        near = [item for item in found if item[2] is moved]
        whole = sorted((item for item in found if item[1] == "lr"), key=lambda item: item[2] is not moved)
        for (name, hp, slider), reach in [*((item, NEAR_VALUES) for item in near),
                                          *((item, None) for item in whole)]:
            grid = slider.grid
            i = grid.index(base.values(name)[hp])
            for j in sorted(range(len(grid)), key=lambda j: (abs(j - i), j)):
                if reach is None or abs(j - i) <= reach:
                    yield base.with_value(name, hp, grid[j])
