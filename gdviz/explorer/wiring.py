r"""The explorer's wiring: :func:`explore` reads its arguments, :class:`Explorer` joins the
controls (:mod:`.controls`) to the figure (:mod:`.figure`): a control's change re-runs the
optimizers and redraws; and each notebook cell keeps only the explorers of its last run.

A change that comes from the browser (a slider dragged) is drawn once the kernel has taken
every change already waiting: the draw is put on the kernel's event loop, so a fast drag
ends on the picture of its final value instead of working through every value it passed.
Changes made from Python draw at once, so code that moves a slider reads the new runs.

Every picture sent is kept, with its readout, under its :class:`~.cache.Settings` (the value
of every control; :mod:`.cache`), so a setting seen before is sent again without running or
drawing anything; and once a student has moved a control (or the page showing the explorer
can keep pictures, and "Run all" is done), the kernel draws ahead while it is idle
(:mod:`.ahead`), so that where a drag ends the picture is already there. Where the front end
can (anywidget installed; not Colab), every picture drawn is kept in the page too
(:mod:`.browser`), which shows it the moment the controls reach its values, and while a
handle is dragged, without waiting for the kernel.
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import contextlib
import dataclasses
import html
import numbers
import threading
import weakref
from collections.abc import Iterator, Sequence

import ipywidgets as widgets
import numpy as np

from ..optimizers import optimizer_class
from ..plotting import optimizer_color
from ..schedules import Schedule
from ..surfaces import Surface, get_surface
from ..trajectory import Trajectory, run, sweep
from .ahead import NEAR_VALUES, PREFETCH_DELAY, PREFETCH_PAUSE, DrawingAhead, watch_cells  # noqa: F401 (names tests use)
from .browser import BrowserCache, browser_cache_available
from .cache import Picture, PictureCache, Settings
from .controls import SCHEDULE_CHOICES, Controls
from .figure import ExplorerFigure

__all__ = ["explore", "stability_explorer", "Explorer", "Settings", "MAX_STEPS",
           "MAP_RESOLUTION", "OFFLINE_NOTE", "OFFLINE_CLASS", "CACHE_BYTES"]

#: The most steps the explorer's slider offers (runs stay well under a frame's time).
MAX_STEPS = 1000
#: Points per swept hyperparameter in the stability map.
MAP_RESOLUTION = 100
#: What a reader without a kernel sees under the explorer's still picture, in a div of this class.
OFFLINE_NOTE = ("A still picture of the explorer: its sliders need a running Python kernel. "
                "Run the notebook (JupyterLab, Jupyter Notebook or Colab) to move them.")
OFFLINE_CLASS = "gdviz-explorer-offline"
#: benchmarks/bench_explorer_latency.py sets this to a file: each change from the browser then
#: appends when the kernel took it and when its picture was sent (wall clock), and the CPU time.
TIMINGS_ENV = "GDVIZ_EXPLORER_TIMINGS"
#: The most bytes of pictures (PNG and readout) one explorer keeps: every value of two η
#: sliders of notebook 05 (2 × 316 pictures of about 40 kB). Drawing ahead stops when it is
#: full; a picture drawn for the student then lets the least recently used ones go.
CACHE_BYTES = 32_000_000


def explore(optimizer: str | Sequence[str] = "SGD", surface: str | Surface = "elongated_bowl", *,
            steps: int = 30, start=None, noise: float = 0.0, seed: int | None = 0,
            projector: bool = False, stability_map=False, schedule="constant",
            **hyperparameters) -> "Explorer":
    """Build an interactive explorer for one optimizer, or several overlaid on one contour.

    ``optimizer`` is a registered name (``"Adam"``) or a list of names; each optimizer gets
    its own sliders, generated from its hyperparameters (η and ε on a log scale), labelled
    ``"η · Momentum"`` when there are several. Keyword hyperparameters (``lr=0.05``) set the
    starting value of every listed optimizer that has them (a value valid for the optimizer
    but beyond its slider is clipped into the slider, with a note in the readout). The
    surface, the start (x₀, y₀), the number of steps and the gradient noise σ have controls
    too; ``seed`` fixes the noise, so one σ always gives the same path. ``projector=True``
    makes the figure and the text larger for a lecture hall.

    ``stability_map=True`` (one optimizer only) adds a third panel: the final loss of a
    whole grid of settings over the first two hyperparameters (η × α for Momentum, η alone
    for SGD), with the theory's stability boundary where it is exact and the sliders'
    current setting as a point; ``stability_map=("lr", "beta1")`` picks the axes. See also
    :func:`stability_explorer`.

    ``schedule`` picks the learning-rate schedule the runs start with: one of the menu's
    ``"constant"``, ``"step"``, ``"exponential"``, ``"cosine"``, ``"warmup"`` (each fitted to
    the number of steps, see :data:`SCHEDULE_CHOICES`), or a :class:`gdviz.schedules.Schedule`,
    which the menu then offers as "given".

    Bad arguments raise the core's ``ValueError``/``TypeError`` (naming the value) before
    any widget is made. Display the result by ending a cell with it.
    """
    names = _optimizer_names(optimizer)
    surface_obj = get_surface(surface)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"steps must be a whole number, got {steps!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in [1, {MAX_STEPS}] for the explorer, got {steps!r}")
    if not isinstance(projector, bool):
        raise TypeError(f"projector must be True or False, got {projector!r}")
    map_axes = _map_axes(stability_map, names)
    if not isinstance(schedule, Schedule) and schedule not in SCHEDULE_CHOICES:
        raise ValueError(f"schedule must be one of {', '.join(map(repr, SCHEDULE_CHOICES))} "
                         f"or a Schedule from gdviz.schedules, got {schedule!r}")
    taken = {hp.name for name in names for hp in optimizer_class(name).hyperparameters}
    unknown = sorted(set(hyperparameters) - taken)
    if unknown:
        raise TypeError(f"{' and '.join(names)} take(s) no hyperparameter(s) {unknown}; "
                        f"valid: {', '.join(sorted(taken))}")
    per_optimizer = {name: {hp.name: hyperparameters[hp.name]
                            for hp in optimizer_class(name).hyperparameters
                            if hp.name in hyperparameters} for name in names}
    for name in names:      # the core checks every value (and start, noise, seed) here
        run(name, surface_obj, start, 0, noise=noise, seed=seed,
            schedule=schedule if isinstance(schedule, Schedule) else None, **per_optimizer[name])
    if seed is None:        # one random seed for this explorer's life: moves stay reproducible
        seed = int(np.random.SeedSequence().entropy % 2**32)
    explorer = Explorer(names, surface_obj, steps=int(steps), start=start, noise=float(noise),
                        seed=seed, projector=projector, hyperparameters=per_optimizer,
                        stability_map=map_axes, schedule=schedule)
    _replace_in_cell(explorer, _current_cell())
    return explorer


def stability_explorer(optimizer: str = "Momentum", surface: str | Surface = "elongated_bowl",
                       **options) -> "Explorer":
    """:func:`explore` with the stability map: where each (η, α) converges or diverges, and
    where the sliders are on it: the map of ``notebooks/02_momentum_nesterov.ipynb``, live."""
    return explore(optimizer, surface, stability_map=options.pop("stability_map", True), **options)


def _map_axes(stability_map, names: list[str]) -> tuple[str, ...]:
    """The hyperparameters the stability map sweeps: () for none."""
    if stability_map is False or stability_map is None:
        return ()
    if len(names) != 1:
        raise ValueError(f"stability_map needs exactly one optimizer, got {len(names)}: "
                         f"{', '.join(names)}")
    known = [hp.name for hp in optimizer_class(names[0]).hyperparameters]
    if stability_map is True:
        return tuple(known[:2])
    chosen = (stability_map,) if isinstance(stability_map, str) else tuple(stability_map)
    if not 1 <= len(chosen) <= 2 or len(set(chosen)) != len(chosen) or not all(
            isinstance(name, str) and name in known for name in chosen):
        raise ValueError(f"stability_map must be True or one or two different hyperparameters "
                         f"of {names[0]} ({', '.join(known)}), got {stability_map!r}")
    return chosen


def _optimizer_names(optimizer) -> list[str]:
    items = [optimizer] if isinstance(optimizer, (str, type)) else optimizer
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"optimizer must be a name such as 'Adam' or a list of names, "
                        f"got {optimizer!r}") from None
    if not items:
        raise ValueError("optimizer: give at least one optimizer name, e.g. 'SGD'")
    names = [optimizer_class(item).__name__ for item in items]    # ValueError lists the valid
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"optimizer: list each optimizer once, got {repeated} more than once")
    return names


class Explorer(DrawingAhead):
    """One explorer: its controls, its figure and the runs it shows.

    Made by :func:`explore`. Displaying the object shows ``.widget``, a ``VBox`` with the CSS
    class ``gdviz-explorer``. The controls are attributes, so code and tests can move them:
    ``hyperparameter_sliders[optimizer][name]``, ``surface_dropdown``, ``start_sliders``
    (x₀, y₀), ``steps_slider``, ``noise_slider``, ``schedule_dropdown``, ``step_slider`` (the
    step shown, driven by ``play``); the results are ``trajectories``, ``image`` (the
    picture's bytes) and ``readout`` (an HTML widget with the class ``gdviz-readout``).
    """

    def __init__(self, optimizers: list[str], surface: Surface, *, steps: int, start,
                 noise: float, seed: int, projector: bool, hyperparameters: dict[str, dict],
                 stability_map: tuple[str, ...] = (), schedule="constant"):
        self.optimizers = list(optimizers)
        self.stability_map = tuple(stability_map)
        self.seed = seed
        self.projector = projector
        self.cache = PictureCache(CACHE_BYTES)
        self.prefetch_error: BaseException | None = None    # what stopped drawing ahead
        self._shown: Settings | None = None     # what the picture and readout show
        self._drawn: Settings | None = None     # what the figure's canvas holds
        self._runs: tuple[Settings | None, list[Trajectory]] = (None, [])   # the last runs
        self._plan: Iterator[None] | None = None    # drawing ahead, a piece per next()
        self._wanted: list[int] | None = None   # the page's values a held handle is over
        self._prefetching = None                # (event loop, handle, chain) of the next
        self._waiting_for_idle = False          # to draw ahead for its page (ahead.py)
        self._sketching = None                  # (for what, the pieces) of a sketch half made
        self._lock = threading.RLock()          # one picture drawn at a time (see prefetch)
        self.controls = Controls(self.optimizers, surface, steps=steps, start=start, noise=noise,
                                 hyperparameters=hyperparameters, schedule=schedule)
        self.view = ExplorerFigure(self.optimizers, projector=projector,
                                   with_map=bool(self.stability_map))
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML()
        self.readout.add_class("gdviz-readout")
        self.widget = self.controls.layout(self.image, self.readout, projector)
        # every picture drawn is kept in the page too, where the front end can keep it (never
        # displayed: without its front end nothing shows and each move goes to the kernel)
        watch_cells()       # made in a cell: drawing ahead for a page waits for "Run all"
        self.browser = (BrowserCache(image=self.image, readout=self.readout,
                                     controls=self.controls.picture_controls(),
                                     on_started=self.prefetch_when_idle,
                                     on_want=self.draw_for_page)
                        if browser_cache_available() else None)
        self._quiet = False
        self._pending = None        # a change from the browser waits to be shown
        self._moved = None          # the control it came from
        self._received = None       # when the first change from the browser not yet drawn came
        self._observers = self.controls.observed(self._on_run, self._on_surface,
                                                 self._on_steps, self._on_step)
        for control, handler in self._observers:
            control.observe(handler, names="value")
        self.update()

    # the controls and the figure, by the names code and tests use
    hyperparameter_sliders = property(lambda self: self.controls.hyperparameter_sliders)
    surface_dropdown = property(lambda self: self.controls.surface_dropdown)
    start_sliders = property(lambda self: self.controls.start_sliders)
    steps_slider = property(lambda self: self.controls.steps_slider)
    noise_slider = property(lambda self: self.controls.noise_slider)
    schedule_dropdown = property(lambda self: self.controls.schedule_dropdown)
    step_slider = property(lambda self: self.controls.step_slider)
    play = property(lambda self: self.controls.play)
    surface = property(lambda self: self.controls.surface, doc="The surface the menu shows.")
    start = property(lambda self: self.controls.start)
    shown_step = property(lambda self: self.controls.shown_step,
                          doc="The step k the path is drawn up to (the step slider's value).")
    # the figure with the artists of the current picture, which its scene was described from
    # (drawn again first if it holds another: a picture sent from the cache, or drawn ahead,
    # leaves the figure as it was); the picture itself is render_png()
    figure = property(lambda self: self._synced().figure)
    path_axes = property(lambda self: self._synced().path_axes)
    loss_axes = property(lambda self: self._synced().loss_axes)
    map_axes = property(lambda self: self._synced().map_axes)
    path_lines = property(lambda self: self._synced().path_lines)
    loss_lines = property(lambda self: self._synced().loss_lines)
    sweep_result = property(lambda self: self._synced().sweep_result)
    n_background_draws = property(lambda self: self.view.n_background_draws)

    @property
    def trajectories(self) -> list[Trajectory]:
        """The runs the picture shows (run again if the picture came from the cache)."""
        with self._lock:
            return [] if self._shown is None else self._runs_for(self._shown)

    def _synced(self) -> ExplorerFigure:
        with self._lock:
            if not self.closed and self._shown is not None and self._drawn != self._shown:
                self._compose(self._shown, self._runs_for(self._shown))
        return self.view

    def _loop(self):
        return _running_loop()

    def hyperparameters(self, optimizer: str) -> dict[str, float]:
        """The slider values of one optimizer, e.g. ``{"lr": 0.1, "momentum": 0.9}``."""
        return self.controls.hyperparameters(optimizer)

    # --- what a change does ---------------------------------------------------------------
    def _on_run(self, change):
        self._changed(change)

    def _on_step(self, change):
        self._changed(change)

    def _on_steps(self, change):
        with self._quietly():
            self.controls.show_all_steps(change["new"])
        self._changed(change)

    def _on_surface(self, change):
        with self._quietly():       # move both start sliders, then run once
            self.controls.reset_start()
        self._changed(change)

    def _changed(self, change) -> None:
        if self._quiet or self.closed:
            return
        from_browser = bool(change["owner"]._property_lock)
        if from_browser and self._received is None:
            self._received = (time.time(), time.process_time())
        loop = _running_loop()
        if loop is None or not from_browser:                        # from Python: now
            self.update()
            return
        if self._pending is None:   # from the browser: once the waiting changes are in
            loop.call_soon(self._catch_up)
        self._pending, self._moved = True, change["owner"]

    def _catch_up(self) -> None:
        self._pending = None
        if self.closed:
            return
        self.update()
        if self._moved is self.step_slider:     # Play: no drawing ahead for each step passed
            self._plan = None
        else:
            self.prefetch(self._moved)

    @contextlib.contextmanager
    def _quietly(self):
        """Move several controls without an update for each."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before

    # --- update and draw ------------------------------------------------------------------
    def settings(self) -> Settings:
        """What the controls say now: the key of the picture they ask for."""
        c = self.controls
        return Settings(
            surface=c.surface_dropdown.value, start=c.start, steps=c.steps, noise=c.noise,
            schedule=c.schedule_dropdown.value, shown_step=c.shown_step,
            hyperparameters=tuple((name, tuple(c.hyperparameters(name).items()))
                                  for name in self.optimizers))

    def update(self) -> None:
        """Show the picture of the controls' values: the kept one if these settings were
        drawn before, else re-run every optimizer (unless only the step shown changed) and
        draw. A value the core refuses leaves the last picture and says why in the readout.
        """
        with self._lock:
            self._update()

    def _update(self) -> None:
        settings = self.settings()
        picture = self._kept(settings)
        cached = picture is not None
        if not cached:
            try:
                runs = self._runs_for(settings)
            except (ValueError, TypeError) as exc:
                self.readout.value = f"<b>Cannot run this:</b> {html.escape(str(exc))}"
                return
            picture = self._render(settings, runs)
        self.image.value = picture.png
        self.readout.value = picture.readout
        if not cached:
            self._to_page(settings, picture)     # after the picture: it is the one shown now
        self._shown = settings
        received, self._received = self._received, None
        if received is not None and os.environ.get(TIMINGS_ENV):
            with open(os.environ[TIMINGS_ENV], "a") as log:
                log.write(json.dumps({"received": received[0], "sent": time.time(),
                                      "cpu_ms": (time.process_time() - received[1]) * 1000,
                                      "cached": cached}) + "\n")

    def _kept(self, settings: Settings) -> Picture | None:
        """The kept picture of these settings, if a fresh drawing would give the same bytes
        (its background's palette is still the one it was encoded with)."""
        picture = self.cache.get(settings)
        if picture is None:
            return None
        key, palette = picture.palette
        if self.view.palette_of(key) is not palette:
            self.cache.discard(settings)
            return None
        return picture

    def _runs_for(self, settings: Settings) -> list[Trajectory]:
        """Every optimizer run with these settings (the last runs again if they match)."""
        if self._runs[0] != settings.runs():
            self._runs = (settings.runs(), self._run(settings))
        return self._runs[1]

    def _run(self, settings: Settings) -> list[Trajectory]:
        return [self._run_one(settings, name) for name in self.optimizers]

    def _run_one(self, settings: Settings, optimizer: str) -> Trajectory:
        return run(optimizer, self.controls.surface_named(settings.surface), settings.start,
                   settings.steps, noise=settings.noise, seed=self.seed,
                   schedule=self.controls.schedule_for(settings.schedule, settings.steps),
                   **settings.values(optimizer))

    def _render(self, settings: Settings, runs: list[Trajectory]) -> Picture:
        """Draw, encode and keep the picture of these settings."""
        self._compose(settings, runs)
        png = self.view.encode()
        picture = Picture(png, self._readout_html(settings, runs), self.view.palette)
        self.cache.put(settings, picture)
        return picture

    def draw_for_page(self, key: list[int]) -> None:
        """The page's handle is held over the values ``key`` (the page's values of every
        control; its models have not changed yet): draw that picture and send it to the page
        at once, which shows it under the hand. Only one hyperparameter slider away from the
        picture shown; on the kernel's loop after the messages already in (the latest asked
        for wins), or at once without a loop."""
        first = self._wanted is None
        self._wanted = list(key)
        loop = self._loop()
        if loop is None:
            self._draw_wanted()
        elif first:
            loop.call_soon(self._draw_wanted)

    def _draw_wanted(self) -> None:
        key, self._wanted = self._wanted, None
        with self._lock:
            if key is None or self.closed or self.browser is None:
                return
            settings = self.settings()
            now = self.controls.page_values(settings)
            moved = [i for i, (a, b) in enumerate(zip(key, now or ())) if a != b]
            if now is None or len(key) != len(now) or len(moved) != 1:
                return
            slider = self.controls.picture_controls()[moved[0]][0]
            found = [(name, hp) for name, sliders in self.hyperparameter_sliders.items()
                     for hp, other in sliders.items() if other is slider]
            if not found or not 0 <= key[moved[0]] < len(slider.grid):
                return
            (name, hp), value = found[0], slider.grid[key[moved[0]]]
            wanted = settings.with_value(name, hp, value)
            picture = self._kept(wanted)
            if picture is None:
                with np.errstate(all="ignore"):     # warns no one: the release says it again
                    try:
                        runs = self._run(wanted)
                    except (ValueError, TypeError):     # refused by the core: so would a move be
                        return
                    picture = self._render(wanted, runs)
            self.browser.keep(key, picture, now=True)

    def _to_page(self, settings: Settings, picture: Picture) -> None:
        """Keep a picture just drawn in the page too, if it can keep pictures."""
        if self.browser is not None:
            key = self.controls.page_values(settings)
            if key is not None:
                self.browser.keep(key, picture)

    def _compose(self, settings: Settings | None = None, runs=None) -> None:
        """Draw the runs up to the step shown into the figure's canvas (by default those of
        the picture shown)."""
        if settings is None:
            settings, runs = self._shown, self.trajectories
        if not runs:
            return
        setting = None
        if self.stability_map:
            values = settings.values(self.optimizers[0])
            setting = [values[n] for n in self.stability_map]
        self._drawn = None          # until drawn (a failed draw leaves the canvas unknown)
        self.view.draw([_up_to(traj, settings.shown_step) for traj in runs],
                       surface=self.controls.surface_named(settings.surface),
                       steps=settings.steps, map_key=self._map_key(settings),
                       sweep=lambda: self._sweep(settings), setting=setting)
        self._drawn = settings

    def render_png(self) -> bytes:
        """The current picture as a full-colour PNG (e.g. to save or to attach to a report)."""
        with self._lock:
            self._compose()
            return self.view.png()

    def _readout_html(self, settings: Settings, runs: list[Trajectory]) -> str:
        """One line per optimizer: its slider settings (the sliders' own labels, so the
        numbers read the same), then the result; then the schedule and any notes."""
        lines = [self.readout_line(settings, name, traj) for name, traj in zip(self.optimizers, runs)]
        return "<br>".join(lines + self.readout_tail(settings))

    def readout_line(self, settings: Settings, name: str, traj: Trajectory) -> str:
        """The readout's line of one optimizer's run with these settings."""
        k = settings.shown_step
        sliders = self.hyperparameter_sliders[name]
        values = settings.values(name)
        settings_text = " · ".join(
            f'<span class="gdviz-setting" data-name="{hp.name}">{hp.symbol} = '
            f"{html.escape(sliders[hp.name].text_of(values[hp.name]))}</span>"
            for hp in optimizer_class(name).hyperparameters)
        text = html.escape(traj.message)
        if traj.diverged:
            text = f"<b>✕ {text}</b>"
        if k < traj.n_steps:
            gap = traj.losses[k] - traj.surface.min_value
            text += f" · at step {k}: f − f_min = {gap:.3g}"
        return f'<span style="color:{optimizer_color(name)}">■</span> {settings_text} — {text}'

    def readout_tail(self, settings: Settings) -> list[str]:
        """The readout's lines under the optimizers': the schedule, then any notes."""
        lines = []
        schedule = self.controls.schedule_for(settings.schedule, settings.steps)
        if schedule is not None:
            lines.append(f"schedule: {html.escape(schedule.label)} (η_t = η · factor(t))")
        return lines + [f"<i>{html.escape(note)}</i>" for note in self.controls.notes]

    # --- the stability map ----------------------------------------------------------------
    def _map_key(self, settings: Settings):
        """Everything the map depends on besides its own axes' sliders."""
        if not self.stability_map:
            return None
        fixed = {k: v for k, v in settings.values(self.optimizers[0]).items()
                 if k not in self.stability_map}
        schedule = self.controls.schedule_for(settings.schedule, settings.steps)
        return (settings.start, settings.noise, tuple(sorted(fixed.items())),
                None if schedule is None else schedule.label)

    def _sweep(self, settings: Settings):
        """Sweep the map's hyperparameters over their sliders' ranges."""
        name = self.optimizers[0]
        grid = {}
        for hp in optimizer_class(name).hyperparameters:
            if hp.name in self.stability_map:
                low, high = hp.slider
                grid[hp.name] = (np.geomspace if hp.log else np.linspace)(low, high, MAP_RESOLUTION)
        fixed = {k: v for k, v in settings.values(name).items() if k not in grid}
        ordered = {n: grid[n] for n in self.stability_map}
        return sweep(name, self.controls.surface_named(settings.surface), settings.start,
                     settings.steps, noise=settings.noise, seed=self.seed,
                     schedule=self.controls.schedule_for(settings.schedule, settings.steps),
                     **ordered, **fixed)

    # --- display and clean-up -------------------------------------------------------------
    def _ipython_display_(self):
        from .offline import show
        show(self)          # the bundle, then the replay for readers without a kernel

    def display_bundle(self) -> dict:
        """What displaying the explorer sends: the widget's view, and for a reader without a
        kernel or without widget scripts (nbconvert HTML, nbviewer, a course page) a
        ``text/html`` still picture of the explorer as it was, with its readout and a line
        saying the sliders need a running kernel. Front ends with widgets show the view."""
        return {"text/plain": repr(self),
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id},
                "text/html": self.offline_html()}

    def offline_html(self) -> str:
        """A still picture of the explorer, its readout, and why the sliders do not move."""
        picture = base64.b64encode(self.image.value).decode("ascii")
        description = html.escape("; ".join(t.message for t in self.trajectories), quote=True)
        return (f'<div class="{OFFLINE_CLASS}">'
                f'<img src="data:image/png;base64,{picture}" alt="{description}" '
                f'style="max-width:100%">'
                f'<div class="gdviz-readout">{self.readout.value}</div>'
                f"<p><i>{OFFLINE_NOTE}</i></p></div>")

    @property
    def closed(self) -> bool:
        """Has :meth:`close` run (by hand, or because its cell ran again)?"""
        return self.view.figure is None

    def close(self) -> None:
        """Close every widget of this explorer (their layouts and styles too), unlink Play
        from the step slider and let the figure go: a closed explorer is garbage."""
        if self.closed:
            return
        for control, handler in self._observers:
            control.unobserve(handler, names="value")
        self._observers = []
        with self._lock:
            if self._prefetching is not None:
                loop, handle, _ = self._prefetching
                with contextlib.suppress(RuntimeError):     # that loop may be closed
                    handle.cancel() if loop is _running_loop() else loop.call_soon_threadsafe(
                        handle.cancel)
            self._prefetching = self._plan = self._sketching = None
            self.cache.clear()
            self._runs = (None, [])
        self.controls.close(self.widget)
        if self.browser is not None:
            self.browser.close()
        self.view.close()

    def __repr__(self) -> str:
        return (f"<Explorer {', '.join(self.optimizers)} on {self.surface.name}: "
                f"{'; '.join(t.message for t in self.trajectories)}>")


def _running_loop():
    """The kernel's event loop, when this runs inside it (None in a plain script or test)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _up_to(traj: Trajectory, k: int) -> Trajectory:
    """The first k steps of a run (all of it when k ≥ its steps), for the Play control."""
    if k >= traj.n_steps:
        return traj
    return dataclasses.replace(traj, points=traj.points[:k + 1], losses=traj.losses[:k + 1],
                               grads=traj.grads[:k + 1], used_grads=traj.used_grads[:k],
                               states={n: s[:k + 1] for n, s in traj.states.items()},
                               diverged_at=None, divergence_reason="")


# --- one cell, one set of live explorers -----------------------------------------------------
#: The explorers made by each notebook cell: {cell: [(execution count, weak reference)]}.
_LIVE: dict = {}


def _current_cell():
    """(the running cell, its execution count) in IPython, or None outside it.

    JupyterLab names the cell in the request's metadata (``cellId``); elsewhere (the classic
    Notebook, Colab, a terminal) the cell's source stands for it.
    """
    try:
        from IPython import get_ipython
    except ImportError:         # pragma: no cover - ipywidgets brings IPython
        return None
    shell = get_ipython()
    if shell is None:
        return None
    kernel = getattr(shell, "kernel", None)
    header = {}
    if kernel is not None:
        get_parent = getattr(kernel, "get_parent", None)
        header = get_parent("shell") if get_parent else getattr(kernel, "_parent_header", {})
    cell_id = ((header or {}).get("metadata") or {}).get("cellId")
    if cell_id:
        return ("cell", cell_id), shell.execution_count
    inputs = shell.user_ns.get("In") or [""]
    return ("source", inputs[-1]), shell.execution_count


def _replace_in_cell(explorer: "Explorer", cell) -> None:
    """Close the explorers an earlier run of this cell made (their output is gone), so that
    re-running a cell does not pile up figures; explorers of this run stay."""
    if cell is None:
        return
    key, count = cell
    kept = []
    for made_in, ref in _LIVE.get(key, []):
        earlier = ref()
        if earlier is None or earlier.closed:
            continue
        if made_in != count:
            earlier.close()
        else:
            kept.append((made_in, ref))
    _LIVE[key] = [*kept, (count, weakref.ref(explorer))]
    for other in [k for k, refs in _LIVE.items() if all(r() is None for _, r in refs)]:
        del _LIVE[other]
