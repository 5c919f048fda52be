"""The explorer's controls: sliders over exact grids of numbers, the menus, Play, the layout.

Only core ipywidgets, the API common to 7.7 (Colab) and 8 (JupyterLab). Nothing here runs an
optimizer or draws: :mod:`.wiring` reads the controls and tells :mod:`.figure` what to show.
"""
from __future__ import annotations

import html
import math
import numbers

import ipywidgets as widgets
import numpy as np
import traitlets

from .. import plotting, schedules
from ..hyperparams import grid_text as _label
from ..hyperparams import log_grid
from ..optimizers import optimizer_class
from ..surfaces import SURFACES, Surface, get_surface

__all__ = ["GridSlider", "log_grid", "linear_grid", "Controls", "SCHEDULE_CHOICES", "NOISE_MAX"]

#: Noise σ the slider offers by default (it grows to fit a larger ``noise=``).
NOISE_MAX = 1.0

#: The schedule menu: its label, and the schedule it makes for a run of n steps.
SCHEDULE_CHOICES = {
    "constant": ("constant η", lambda n: schedules.constant()),
    "step": ("step: η/2 every n/4 steps", lambda n: schedules.step(max(1, n // 4), 0.5)),
    "exponential": ("exponential: η·0.97ᵗ", lambda n: schedules.exponential(0.97)),
    "cosine": ("cosine: η → 0 over the run", lambda n: schedules.cosine(n)),
    "warmup": ("warm-up (n/10 steps), then cosine",
               lambda n: schedules.warmup(max(1, n // 10), then=schedules.cosine(max(1, n - n // 10)))),
}
_GIVEN = "given"        # the menu key of a Schedule object passed to explore(schedule=…)

# Larger widget text when projecting; scoped to this explorer's class.
_PROJECTOR_CSS = """<style>
.gdviz-projector .widget-label, .gdviz-projector .widget-readout,
.gdviz-projector .widget-dropdown select, .gdviz-projector .gdviz-readout { font-size: 18px; }
</style>"""


# --- a slider whose value is exactly one of its numbers ----------------------------------------
class GridSlider(widgets.SelectionSlider):
    """A slider over an explicit grid of numbers: the value is always one of them, exactly.

    The front end moves an integer index and shows each grid point's label, so the number
    in the kernel, the number beside the slider and the number in the picture are one and
    the same in every front end. (A ``FloatSlider``/``FloatLogSlider`` front end snaps the
    value to its own floating-point grid and sends it back: η = 0.95 became 0.958587 in
    ipywidgets 8, α = 0.9 became 0.9000000000000001.) A number assigned from Python goes to
    the nearest grid point (nearest in log scale for a log grid), ends included.
    """

    def __init__(self, grid, value: float, *, log: bool = False, **kwargs):
        self._log = log
        # a drag sends its value once, at the release: every value it passes would each be
        # run and drawn in turn, and the last picture would come long after the release
        kwargs.setdefault("continuous_update", False)
        super().__init__(options=_options(grid), value=value, **kwargs)

    @property
    def grid(self) -> tuple[float, ...]:
        """The numbers the slider can take, ascending."""
        return tuple(self._options_values)

    @property
    def text(self) -> str:
        """The number as the slider shows it (``label`` can be empty for the first option)."""
        return self._options_labels[self.index]

    def text_of(self, value: float) -> str:
        """How the slider shows ``value``, one of its grid's numbers."""
        return self._options_labels[self._options_values.index(value)]

    @property
    def min(self) -> float:
        return self._options_values[0]

    @property
    def max(self) -> float:
        return self._options_values[-1]

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        value = proposal.value
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise traitlets.TraitError(f"{self.description}: a slider value must be a number, "
                                       f"got {value!r}")
        grid = np.asarray(self._options_values)
        if self._log:
            distance = np.abs(np.log(grid) - math.log(min(max(value, grid[0]), grid[-1])))
        else:
            distance = np.abs(grid - value)
        return self._options_values[int(np.argmin(distance))]

    def set_grid(self, grid, value: float) -> None:
        """New grid points and value in one message (the explorer's surface menu moves x₀, y₀)."""
        with self.hold_sync():
            self.options = _options(grid)
            self.value = value


def _options(grid) -> list[tuple[str, float]]:
    return [(_label(v), v) for v in grid]


def linear_grid(low: float, high: float, keep=()) -> list[float]:
    """``low``, ``low`` + h, … ``high`` with h the power of ten nearest below a hundredth of the
    range (at most 1,000 points), as their shortest decimals, plus the numbers in ``keep``."""
    step = 10.0 ** math.floor(math.log10((high - low) / 100))
    count = int(math.floor((high - low) / step + 1e-9))
    points = {float(f"{low + k * step:.12g}") for k in range(count + 1)} | {low, high, *keep}
    return sorted(v for v in points if low <= v <= high)


def tooltip(widget, text: str) -> None:
    """ipywidgets 8 calls it ``tooltip`` (and deprecates the old name); 7.x ``description_tooltip``."""
    if widget.has_trait("tooltip"):
        widget.tooltip = text
    else:
        widget.description_tooltip = text


def _hyperparameter_slider(hp, value: float, label: str, label_style: dict) -> GridSlider:
    """A slider over the registry's slider range: log-scaled for η and ε; ``value`` (and the
    default) are grid points."""
    low, high = hp.slider
    keep = (value,) if hp.default is None else (value, hp.default)
    grid = log_grid(low, high, keep) if hp.log else linear_grid(low, high, keep)
    slider = GridSlider(grid, value, log=hp.log, description=label, style=label_style)
    tooltip(slider, f"{hp.meaning}; valid range {hp.range_text}")
    return slider


def _float_slider(label: str, low: float, high: float, value: float, tip: str) -> GridSlider:
    slider = GridSlider(linear_grid(low, high, (value,)), value, description=label)
    tooltip(slider, tip)
    return slider


def surface_key(surface: Surface) -> str:
    return surface.name or type(surface).__name__


# --- all the controls of one explorer ---------------------------------------------------------
class Controls:
    """The widgets of one explorer and what they say (surface, start, steps, noise, schedule,
    hyperparameters, the step shown). Values the sliders cannot show are clipped into them,
    with a sentence in :attr:`notes`."""

    def __init__(self, optimizers: list[str], surface: Surface, *, steps: int, start, noise: float,
                 hyperparameters: dict[str, dict], schedule):
        self.optimizers = list(optimizers)
        self.notes: list[str] = []
        self._surfaces = {surface_key(surface): surface}
        several = len(self.optimizers) > 1
        label_style = {"description_width": "110px" if several else "initial"}
        self.hyperparameter_sliders: dict[str, dict[str, GridSlider]] = {}
        for name in self.optimizers:
            sliders = {}
            for hp in optimizer_class(name).hyperparameters:
                given = hyperparameters[name].get(hp.name, hp.default)
                value = self._clip(float(given), *hp.slider, f"{hp.symbol} of {name}")
                label = f"{hp.symbol} · {name}" if several else hp.symbol
                sliders[hp.name] = _hyperparameter_slider(hp, value, label, label_style)
            self.hyperparameter_sliders[name] = sliders

        options = [(cls.title or key, key) for key, cls in SURFACES.items()]
        key = surface_key(surface)
        if key not in SURFACES:             # an unregistered surface object: offer it too
            options.insert(0, (surface.title or key, key))
        self.surface_dropdown = widgets.Dropdown(options=options, value=key, description="surface")
        tooltip(self.surface_dropdown, "the function f(x, y) to descend")
        x0, y0 = surface.start if start is None else (float(start[0]), float(start[1]))
        self.start_sliders = (
            _float_slider("x₀", *surface.xlim, self._clip(x0, *surface.xlim, "x₀"),
                          "the x coordinate of the start θ₀"),
            _float_slider("y₀", *surface.ylim, self._clip(y0, *surface.ylim, "y₀"),
                          "the y coordinate of the start θ₀"))
        self.steps_slider = widgets.IntSlider(value=steps, min=1, max=max(200, steps),
                                              description="steps", continuous_update=False)
        tooltip(self.steps_slider, "how many steps the optimizer takes")
        self.noise_slider = _float_slider(
            "noise σ", 0.0, max(NOISE_MAX, noise), noise,
            "standard deviation of the noise added to every gradient component (stochastic "
            "gradient descent); the seed is fixed")
        self._given_schedule = schedule if isinstance(schedule, schedules.Schedule) else None
        choices = [(label, key) for key, (label, _) in SCHEDULE_CHOICES.items()]
        if self._given_schedule is not None:
            choices.insert(0, (f"given: {self._given_schedule.label}", _GIVEN))
        self.schedule_dropdown = widgets.Dropdown(
            options=choices, value=_GIVEN if self._given_schedule is not None else schedule,
            description="schedule")
        tooltip(self.schedule_dropdown, "how η changes from step to step: η_t = η · factor(t)")
        self.step_slider = widgets.IntSlider(value=steps, min=0, max=steps, description="step k")
        tooltip(self.step_slider, "show the path up to step k")
        self.play = widgets.Play(value=steps, min=0, max=steps, step=1, interval=150,
                                 description="play")
        tooltip(self.play, "play the run step by step")
        # kept, so that close() can unlink it: a live link keeps both widgets (and the
        # explorer, through their observers) alive
        self._play_link = widgets.jslink((self.play, "value"), (self.step_slider, "value"))

    def _clip(self, value: float, low: float, high: float, what: str) -> float:
        if low <= value <= high:
            return value
        clipped = min(max(value, low), high)
        self.notes.append(f"{what} = {value:g} is beyond its slider; starting at {clipped:g}")
        return clipped

    def layout(self, image, readout, projector: bool) -> widgets.VBox:
        """Sliders per optimizer, the setup row, the picture, Play and the readout."""
        columns = []
        for name, sliders in self.hyperparameter_sliders.items():
            header = widgets.HTML(     # dark text; the colour is in the swatch
                f'<span style="color:{plotting.optimizer_color(name)}">■</span> '
                f"<b>{html.escape(name)}</b> — {html.escape(optimizer_class(name).summary)}")
            columns.append(widgets.VBox([header, *sliders.values()]))
        setup = widgets.HBox([widgets.VBox([self.surface_dropdown, self.steps_slider]),
                              widgets.VBox(list(self.start_sliders)),
                              widgets.VBox([self.noise_slider, self.schedule_dropdown])],
                             layout=widgets.Layout(flex_flow="row wrap"))
        player = widgets.HBox([self.play, self.step_slider])
        children = [widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap")),
                    setup, image, player, readout]
        if projector:
            children.insert(0, widgets.HTML(_PROJECTOR_CSS))
        root = widgets.VBox(children)
        root.add_class("gdviz-explorer")
        if projector:
            root.add_class("gdviz-projector")
        return root

    # --- what the controls say ------------------------------------------------------------
    @property
    def surface(self) -> Surface:
        """The surface the menu shows."""
        return self.surface_named(self.surface_dropdown.value)

    def surface_named(self, name: str) -> Surface:
        """The surface behind one of the menu's keys (one object per key)."""
        if name not in self._surfaces:
            self._surfaces[name] = get_surface(name)
        return self._surfaces[name]

    @property
    def start(self) -> tuple[float, float]:
        return float(self.start_sliders[0].value), float(self.start_sliders[1].value)

    @property
    def steps(self) -> int:
        return int(self.steps_slider.value)

    @property
    def noise(self) -> float:
        return float(self.noise_slider.value)

    @property
    def shown_step(self) -> int:
        return int(self.step_slider.value)

    @property
    def schedule(self) -> schedules.Schedule | None:
        """The menu's schedule for the current number of steps; None for a constant η."""
        return self.schedule_for(self.schedule_dropdown.value, self.steps)

    def schedule_for(self, key: str, steps: int) -> schedules.Schedule | None:
        """The schedule of one of the menu's keys for a run of ``steps``; None for a constant η."""
        chosen = self._given_schedule if key == _GIVEN else SCHEDULE_CHOICES[key][1](steps)
        return None if chosen.is_constant else chosen

    def hyperparameters(self, optimizer: str) -> dict[str, float]:
        """The slider values of one optimizer, e.g. ``{"lr": 0.1, "momentum": 0.9}``."""
        return {name: float(slider.value)
                for name, slider in self.hyperparameter_sliders[optimizer].items()}

    def picture_controls(self) -> list[tuple[widgets.Widget, str]]:
        """Every control a picture depends on, with the trait its model in the page moves (a
        grid slider's or a menu's ``index``, an integer slider's ``value``), in the order of
        :meth:`page_values`."""
        return [(widget, trait) for widget, trait, _ in self._in_the_page()]

    def page_values(self, settings) -> list[int] | None:
        """What the models of :meth:`picture_controls` hold in the page when the controls show
        ``settings`` (a :class:`~gdviz.explorer.cache.Settings`); None if a value is not on
        its control (a start off the grid of the surface shown now)."""
        try:
            return [int(value_of(settings)) for _, _, value_of in self._in_the_page()]
        except ValueError:
            return None

    def _in_the_page(self) -> list:
        """(control, the trait its model in the page moves, that trait's value for Settings)."""
        def menu(dropdown, field):
            return dropdown, "index", lambda s: [v for _, v in dropdown.options].index(getattr(s, field))

        def grid(slider, value_of):
            return slider, "index", lambda s: slider.grid.index(value_of(s))
        x0, y0 = self.start_sliders
        return [menu(self.surface_dropdown, "surface"),
                grid(x0, lambda s: s.start[0]), grid(y0, lambda s: s.start[1]),
                (self.steps_slider, "value", lambda s: s.steps),
                grid(self.noise_slider, lambda s: s.noise),
                menu(self.schedule_dropdown, "schedule"),
                *(grid(slider, lambda s, name=name, hp=hp: s.values(name)[hp])
                  for name in self.optimizers
                  for hp, slider in self.hyperparameter_sliders[name].items()),
                (self.step_slider, "value", lambda s: s.shown_step)]

    def observed(self, on_run, on_surface, on_steps, on_step) -> list:
        """(control, handler) pairs: what each control's change should do."""
        pairs = [(slider, on_run) for sliders in self.hyperparameter_sliders.values()
                 for slider in sliders.values()]
        pairs += [(control, on_run) for control in
                  (*self.start_sliders, self.noise_slider, self.schedule_dropdown)]
        return pairs + [(self.surface_dropdown, on_surface), (self.steps_slider, on_steps),
                        (self.step_slider, on_step)]

    # --- moving several controls at once ----------------------------------------------------
    def reset_start(self) -> None:
        """Put the start sliders over the surface's view, at its usual start."""
        surface = self.surface
        for slider, (low, high), value in zip(self.start_sliders, (surface.xlim, surface.ylim),
                                              surface.start):
            slider.set_grid(linear_grid(low, high, (value,)), value)

    def show_all_steps(self, steps: int) -> None:
        for control in (self.step_slider, self.play):
            with control.hold_sync():
                control.max = steps
                control.value = steps

    def close(self, root) -> None:
        """Unlink Play from the step slider and close every widget under ``root``, with the
        Layout and Style widgets each owns (those are registered widgets too)."""
        self._play_link.close()
        found, todo = [], [root]
        while todo:
            widget = todo.pop()
            if widget is None or any(widget is seen for seen in found):
                continue
            found.append(widget)
            todo += [*getattr(widget, "children", ()), getattr(widget, "layout", None),
                     getattr(widget, "style", None)]
        for widget in found:
            widget.close()
