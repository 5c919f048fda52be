r"""The interactive explorer: move a slider, see the optimizer's path and loss change at once.

::

    import gdviz
    gdviz.explorer.explore("Momentum")                      # η and α sliders, Play, readout
    gdviz.explorer.explore(["SGD", "Momentum", "Adam"])     # overlaid, each with its own sliders

First used in ``notebooks/01_gradient_descent.ipynb``, then in every notebook after it.

Only core ipywidgets (the API common to 7.7, which Colab ships, and 8) and no interactive
matplotlib backend: the explorer owns one figure, made with :class:`matplotlib.figure.Figure`
and the Agg canvas directly (never pyplot, so the inline backend never shows or keeps it), and
pushes its pixels as image bytes into a ``widgets.Image``. A slider move re-runs the optimizer
and redraws only the moving artists (paths, loss lines, markers) over a cached picture of
everything else (blitting), which takes a few milliseconds; the cached picture is redrawn
only when the surface, the number of steps or the loss axis' range changes.

:meth:`Explorer.update` and :meth:`Explorer.render_png` are plain methods, so everything here
runs and is tested without a browser.
"""
from __future__ import annotations

import contextlib
import dataclasses
import html
import io
import math
import numbers
import weakref
from collections.abc import Sequence

import ipywidgets as widgets
import traitlets
import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from . import plotting
from .optimizers import optimizer_class
from .surfaces import SURFACES, Surface, get_surface
from .trajectory import Trajectory, run, sweep

__all__ = ["explore", "stability_explorer", "Explorer", "MAX_STEPS", "LOSS_FLOOR"]

#: The most steps the explorer's slider offers (runs stay well under a frame's time).
MAX_STEPS = 1000
#: The bottom of the loss panel's log axis: gaps f − f_min below it run off the bottom.
LOSS_FLOOR = 1e-8
#: Noise σ the slider offers by default (it grows to fit a larger ``noise=``).
NOISE_MAX = 1.0

_FIGSIZE = {False: (9.6, 4.0), True: (13.0, 5.4)}
_FIGSIZE_WITH_MAP = {False: (12.0, 4.2), True: (16.0, 5.6)}
#: Points per swept hyperparameter in the stability map.
MAP_RESOLUTION = 100
_DIVERGED_COLOR = plotting.OKABE_ITO["vermillion"]
# Larger widget text when projecting; scoped to this explorer's class.
_PROJECTOR_CSS = """<style>
.gdviz-projector .widget-label, .gdviz-projector .widget-readout,
.gdviz-projector .widget-dropdown select, .gdviz-projector .gdviz-readout { font-size: 18px; }
</style>"""


def explore(optimizer: str | Sequence[str] = "SGD", surface: str | Surface = "elongated_bowl", *,
            steps: int = 30, start=None, noise: float = 0.0, seed: int | None = 0,
            projector: bool = False, stability_map=False, **hyperparameters) -> "Explorer":
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
    taken = {hp.name for name in names for hp in optimizer_class(name).hyperparameters}
    unknown = sorted(set(hyperparameters) - taken)
    if unknown:
        raise TypeError(f"{' and '.join(names)} take(s) no hyperparameter(s) {unknown}; "
                        f"valid: {', '.join(sorted(taken))}")
    per_optimizer = {name: {hp.name: hyperparameters[hp.name]
                            for hp in optimizer_class(name).hyperparameters
                            if hp.name in hyperparameters} for name in names}
    for name in names:      # the core checks every value (and start, noise, seed) here
        run(name, surface_obj, start, 0, noise=noise, seed=seed, **per_optimizer[name])
    if seed is None:        # one random seed for this explorer's life: moves stay reproducible
        seed = int(np.random.SeedSequence().entropy % 2**32)
    explorer = Explorer(names, surface_obj, steps=int(steps), start=start, noise=float(noise),
                        seed=seed, projector=projector, hyperparameters=per_optimizer,
                        stability_map=map_axes)
    _replace_in_cell(explorer, _current_cell())
    return explorer


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


class Explorer:
    """One explorer: its widgets (``.widget``), its figure and the runs it shows.

    Made by :func:`explore`. Displaying the object shows ``.widget``, a ``VBox`` with the CSS
    class ``gdviz-explorer``. The controls are attributes, so code and tests can move them:
    ``hyperparameter_sliders[optimizer][name]``, ``surface_dropdown``, ``start_sliders``
    (x₀, y₀), ``steps_slider``, ``noise_slider``, ``step_slider`` (the step shown, driven by
    ``play``); the results are ``trajectories``, ``image`` (the picture's bytes) and
    ``readout`` (an HTML widget with the class ``gdviz-readout``).
    """

    def __init__(self, optimizers: list[str], surface: Surface, *, steps: int, start,
                 noise: float, seed: int, projector: bool, hyperparameters: dict[str, dict],
                 stability_map: tuple[str, ...] = ()):
        self.optimizers = list(optimizers)
        self.stability_map = tuple(stability_map)
        self.sweep_result = None
        self._colorbar = None
        self.seed = seed
        self.projector = projector
        self.trajectories: list[Trajectory] = []
        self.n_background_draws = 0
        self._surfaces = {_surface_key(surface): surface}
        self._notes: list[str] = []
        self._quiet = False
        self._background = None
        self._background_key = None
        self._moving: list = []
        self._on_top: list = []
        self.path_lines: dict[str, Line2D] = {}
        self.loss_lines: dict[str, Line2D] = {}

        self._make_controls(surface, steps, start, noise, hyperparameters)
        self._make_figure()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML()
        self.readout.add_class("gdviz-readout")
        self.widget = self._layout()
        self._connect()
        self.update()

    # --- controls ----------------------------------------------------------------------------
    def _make_controls(self, surface, steps, start, noise, hyperparameters):
        several = len(self.optimizers) > 1
        label_style = {"description_width": "110px" if several else "initial"}
        self.hyperparameter_sliders: dict[str, dict[str, widgets.Widget]] = {}
        for name in self.optimizers:
            cls = optimizer_class(name)
            sliders = {}
            for hp in cls.hyperparameters:
                given = hyperparameters[name].get(hp.name, hp.default)
                value = self._clip(float(given), *hp.slider, f"{hp.symbol} of {name}")
                label = f"{hp.symbol} · {name}" if several else hp.symbol
                sliders[hp.name] = _hyperparameter_slider(hp, value, label, label_style)
            self.hyperparameter_sliders[name] = sliders

        options = [(cls.title or key, key) for key, cls in SURFACES.items()]
        key = _surface_key(surface)
        if key not in SURFACES:             # an unregistered surface object: offer it too
            options.insert(0, (surface.title or key, key))
        self.surface_dropdown = widgets.Dropdown(options=options, value=key,
                                                 description="surface")
        _tooltip(self.surface_dropdown, "the function f(x, y) to descend")
        x0, y0 = surface.start if start is None else (float(start[0]), float(start[1]))
        self.start_sliders = (
            _float_slider("x₀", *surface.xlim, self._clip(x0, *surface.xlim, "x₀"),
                          "the x coordinate of the start θ₀"),
            _float_slider("y₀", *surface.ylim, self._clip(y0, *surface.ylim, "y₀"),
                          "the y coordinate of the start θ₀"))
        self.steps_slider = widgets.IntSlider(value=steps, min=1, max=max(200, steps),
                                              description="steps", continuous_update=False)
        _tooltip(self.steps_slider, "how many steps the optimizer takes")
        self.noise_slider = _float_slider(
            "noise σ", 0.0, max(NOISE_MAX, noise), noise,
            "standard deviation of the noise added to every gradient component (stochastic "
            "gradient descent); the seed is fixed")
        self.step_slider = widgets.IntSlider(value=steps, min=0, max=steps, description="step k")
        _tooltip(self.step_slider, "show the path up to step k")
        self.play = widgets.Play(value=steps, min=0, max=steps, step=1, interval=150,
                                 description="play")
        _tooltip(self.play, "play the run step by step")
        # kept, so that close() can unlink it: a live link keeps both widgets (and this
        # explorer, through their observers) alive
        self._play_link = widgets.jslink((self.play, "value"), (self.step_slider, "value"))

    def _clip(self, value: float, low: float, high: float, what: str) -> float:
        if low <= value <= high:
            return value
        clipped = min(max(value, low), high)
        self._notes.append(f"{what} = {value:g} is beyond its slider; starting at {clipped:g}")
        return clipped

    def _layout(self) -> widgets.VBox:
        columns = []
        for name, sliders in self.hyperparameter_sliders.items():
            cls = optimizer_class(name)
            header = widgets.HTML(
                f'<b style="color:{plotting.optimizer_color(name)}">■ {html.escape(name)}</b>'
                f" — {html.escape(cls.summary)}")
            columns.append(widgets.VBox([header, *sliders.values()]))
        setup = widgets.HBox([widgets.VBox([self.surface_dropdown, self.steps_slider]),
                              widgets.VBox(list(self.start_sliders)),
                              widgets.VBox([self.noise_slider])],
                             layout=widgets.Layout(flex_flow="row wrap"))
        player = widgets.HBox([self.play, self.step_slider])
        children = [widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap")),
                    setup, self.image, player, self.readout]
        if self.projector:
            children.insert(0, widgets.HTML(_PROJECTOR_CSS))
        root = widgets.VBox(children)
        root.add_class("gdviz-explorer")
        if self.projector:
            root.add_class("gdviz-projector")
        return root

    def _connect(self):
        self._observers = [(slider, self._on_change)
                           for sliders in self.hyperparameter_sliders.values()
                           for slider in sliders.values()]
        self._observers += [(control, self._on_change)
                            for control in (*self.start_sliders, self.noise_slider)]
        self._observers += [(self.surface_dropdown, self._on_surface),
                            (self.steps_slider, self._on_steps),
                            (self.step_slider, self._on_step)]
        for control, handler in self._observers:
            control.observe(handler, names="value")

    def _on_change(self, change):
        if not self._quiet:
            self.update()

    def _on_step(self, change):
        if not self._quiet:
            self._draw()

    def _on_steps(self, change):
        steps = change["new"]
        with self._quietly():
            for control in (self.step_slider, self.play):
                with control.hold_sync():
                    control.max = steps
                    control.value = steps
        self.update()

    def _on_surface(self, change):
        surface = self.surface
        with self._quietly():       # move both start sliders, then run once
            for slider, (low, high), value in zip(self.start_sliders, (surface.xlim, surface.ylim),
                                                  surface.start):
                slider.set_grid(linear_grid(low, high, (value,)), value)
        self.update()

    @contextlib.contextmanager
    def _quietly(self):
        """Move several controls without an update for each."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before

    # --- what the controls say ---------------------------------------------------------------
    @property
    def surface(self) -> Surface:
        """The surface the dropdown shows."""
        name = self.surface_dropdown.value
        if name not in self._surfaces:
            self._surfaces[name] = get_surface(name)
        return self._surfaces[name]

    @property
    def start(self) -> tuple[float, float]:
        return float(self.start_sliders[0].value), float(self.start_sliders[1].value)

    def hyperparameters(self, optimizer: str) -> dict[str, float]:
        """The slider values of one optimizer, e.g. ``{"lr": 0.1, "momentum": 0.9}``."""
        return {name: float(slider.value)
                for name, slider in self.hyperparameter_sliders[optimizer].items()}

    # --- update and draw ---------------------------------------------------------------------
    def update(self) -> None:
        """Re-run every optimizer with the controls' values and show the result.

        A value the core refuses leaves the last picture and says why in the readout.
        """
        surface, start = self.surface, self.start
        steps, noise = int(self.steps_slider.value), float(self.noise_slider.value)
        try:
            self.trajectories = [run(name, surface, start, steps, noise=noise, seed=self.seed,
                                     **self.hyperparameters(name)) for name in self.optimizers]
        except (ValueError, TypeError) as exc:
            self.readout.value = (f'<span style="color:{_DIVERGED_COLOR}">Cannot run this: '
                                  f"{html.escape(str(exc))}</span>")
            return
        self._draw()

    def _draw(self) -> None:
        self._compose()
        self.image.value = self._encode()
        self.readout.value = self._readout_html()

    @property
    def shown_step(self) -> int:
        """The step k the path is drawn up to (the step slider's value)."""
        return int(self.step_slider.value)

    def _compose(self) -> None:
        """Draw the moving artists over the cached background, into the canvas' buffer."""
        if not self.trajectories:
            return
        self._ensure_background()
        for artist in self._moving:
            artist.remove()
        self._moving = []
        k = self.shown_step
        shown = [_up_to(traj, k) for traj in self.trajectories]
        ax, lax = self.path_axes, self.loss_axes
        colors = [plotting.optimizer_color(name) for name in self.optimizers]
        with plotting.style(self._style_name):
            before = set(ax.get_children()) | set(lax.get_children())
            for name, traj, color in zip(self.optimizers, shown, colors):
                self.path_lines[name] = plotting.plot_trajectory(
                    traj, ax, color=color, contour=False, legend=False)
                if not traj.diverged:       # the ball: where the optimizer is at step k
                    ax.plot(traj.points[-1:, 0], traj.points[-1:, 1], linestyle="none",
                            marker="o", markersize=mpl.rcParams["lines.markersize"] * 2.2,
                            markerfacecolor=color, markeredgecolor="white", zorder=4,
                            gid="current")
            lines = plotting.plot_loss(shown, lax, colors=colors, legend=False)
            if self.map_axes is not None:
                before |= set(self.map_axes.get_children())
                self._mark_current_setting()
            self.loss_lines = dict(zip(self.optimizers, lines))
            # plot_trajectory marks where a run diverged on the path; the loss panel says when
            for step in sorted({t.diverged_at for t in shown if t.diverged}):
                # the loss has left the axis by then: mark where the run ended
                lax.axvline(step, color=_DIVERGED_COLOR, linestyle="--",
                            linewidth=mpl.rcParams["lines.linewidth"] * 0.6, gid="diverged-step")
                lax.text(step, 0.97, f" diverged\n at step {step}",
                         transform=lax.get_xaxis_transform(), ha="left", va="top",
                         color=_DIVERGED_COLOR, fontsize="small", gid="diverged-note")
        self._moving = [a for a in (*ax.get_children(), *lax.get_children(),
                                    *self._map_children()) if a not in before]
        self.canvas.restore_region(self._background)
        for artist in sorted(self._moving, key=lambda a: a.get_zorder()):
            artist.set_animated(True)
            self.figure.draw_artist(artist)
        for box in self._on_top:    # paste the legend (and the like) back over the paths
            self.canvas.restore_region(self._background, bbox=box, xy=(0, 0))

    def _canvas_image(self) -> Image.Image:
        """The canvas' pixels as an RGB Pillow image (the alpha dropped in C, not numpy)."""
        return Image.frombytes("RGB", self.canvas.get_width_height(),
                               self.canvas.buffer_rgba(), "raw", "RGBX")

    def _encode(self) -> bytes:
        """The canvas as a 256-colour PNG: a third of the bytes of full colour and as sharp
        (flat colours and anti-aliased edges need few colours), so faster over the network."""
        buffer = io.BytesIO()
        self._canvas_image().quantize(256, method=Image.Quantize.FASTOCTREE).save(
            buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def render_png(self) -> bytes:
        """The current picture as a full-colour PNG (e.g. to save or to attach to a report)."""
        self._compose()
        buffer = io.BytesIO()
        self._canvas_image().save(buffer, format="png")
        return buffer.getvalue()

    def _readout_html(self) -> str:
        """One line per optimizer: its slider settings (the sliders' own labels, so the
        numbers read the same), then the result; then any notes."""
        lines = []
        k = self.shown_step
        for name, traj in zip(self.optimizers, self.trajectories):
            color = plotting.optimizer_color(name)
            sliders = self.hyperparameter_sliders[name]
            settings = " · ".join(
                f'<span class="gdviz-setting" data-name="{hp.name}">{hp.symbol} = '
                f"{html.escape(sliders[hp.name].text)}</span>"
                for hp in optimizer_class(name).hyperparameters)
            text = html.escape(traj.message)
            if traj.diverged:
                text = f'<b style="color:{_DIVERGED_COLOR}">{text}</b>'
            if k < traj.n_steps:
                gap = traj.losses[k] - traj.surface.min_value
                text += f" · at step {k}: f − f_min = {gap:.3g}"
            lines.append(f'<span style="color:{color}">■</span> {settings} — {text}')
        lines += [f"<i>{html.escape(note)}</i>" for note in self._notes]
        return "<br>".join(lines)

    # --- the figure --------------------------------------------------------------------------
    @property
    def _style_name(self) -> str:
        return "projector" if self.projector else "notebook"

    def _make_figure(self):
        with plotting.style(self._style_name):
            sizes = _FIGSIZE_WITH_MAP if self.stability_map else _FIGSIZE
            self.figure = Figure(figsize=sizes[self.projector], dpi=100, layout="constrained")
            self.canvas = FigureCanvasAgg(self.figure)
            axes = self.figure.subplots(1, 3 if self.stability_map else 2)
            self.path_axes, self.loss_axes = axes[:2]
            self.map_axes = axes[2] if self.stability_map else None

    def _loss_limits(self) -> tuple[float, float]:
        """From LOSS_FLOOR to ten times the next power of ten above the initial gap.

        Rounded to powers of ten, so dragging the start rarely changes the axis (and so
        rarely forces a redraw of the cached background).
        """
        gap0 = max((t.losses[0] - t.surface.min_value for t in self.trajectories), default=1.0)
        top = 10.0 ** (math.ceil(math.log10(gap0)) + 1) if gap0 > LOSS_FLOOR else 1.0
        return LOSS_FLOOR, top

    def _ensure_background(self):
        key = (self.surface_dropdown.value, int(self.steps_slider.value), self._loss_limits(),
               self._map_key())
        if key == self._background_key:
            return
        surface = self.surface
        ax, lax = self.path_axes, self.loss_axes
        for artist in self._moving:
            artist.remove()
        self._moving = []
        with plotting.style(self._style_name):
            ax.clear()
            lax.clear()
            # a wide view (the elongated bowl) gets a wide panel, a square one less room
            aspect = (surface.xlim[1] - surface.xlim[0]) / (surface.ylim[1] - surface.ylim[0])
            ratios = [0.8 * min(max(aspect, 1.0), 2.0), 1.0] + ([1.1] if self.map_axes else [])
            ax.get_gridspec().set_width_ratios(ratios)
            plotting.plot_contour(surface, ax)
            ax.set_title(surface.title)
            lax.set_yscale("log", nonpositive="mask")
            lax.set_xlim(0, key[1])
            lax.set_ylim(*key[2])
            lax.set_xlabel("step k")
            lax.set_ylabel(r"$f(\theta_k) - f_{\min}$")
            handles = [Line2D([], [], color=plotting.optimizer_color(name), marker="o",
                              label=name) for name in self.optimizers]
            lax.legend(handles=handles, loc="lower left")
            if self.map_axes is not None:
                self._draw_map()
            self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        # static artists drawn above the paths (the legend, saddle points): where they are
        renderer = self.canvas.get_renderer()
        self._on_top = [_agg_box(a.get_window_extent(renderer), renderer.height)
                        for a in (*ax.get_children(), *lax.get_children(), *self._map_children())
                        if a.get_zorder() > 3 and a.get_visible() and a not in self._moving]
        self._background_key = key
        self.n_background_draws += 1

    # --- the stability map ----------------------------------------------------------------
    def _map_children(self) -> list:
        return self.map_axes.get_children() if self.map_axes is not None else []

    def _map_key(self):
        """Everything the map depends on besides its own axes' sliders."""
        if not self.stability_map:
            return None
        name = self.optimizers[0]
        fixed = {k: v for k, v in self.hyperparameters(name).items() if k not in self.stability_map}
        return (self.start, float(self.noise_slider.value), tuple(sorted(fixed.items())))

    def _draw_map(self):
        """Sweep the map's hyperparameters over their sliders' ranges and draw the result."""
        name = self.optimizers[0]
        grid = {}
        for hp in optimizer_class(name).hyperparameters:
            if hp.name in self.stability_map:
                low, high = hp.slider
                grid[hp.name] = (np.geomspace if hp.log else np.linspace)(low, high, MAP_RESOLUTION)
        fixed = {k: v for k, v in self.hyperparameters(name).items() if k not in grid}
        ordered = {n: grid[n] for n in self.stability_map}
        self.sweep_result = sweep(name, self.surface, self.start, int(self.steps_slider.value),
                                  noise=float(self.noise_slider.value), seed=self.seed,
                                  **ordered, **fixed)
        if self._colorbar is not None:
            self._colorbar.remove()
        self.map_axes.clear()
        drawn = plotting.plot_stability_map(self.sweep_result, self.map_axes, colorbar=True)
        self._colorbar = getattr(drawn, "colorbar", None)      # 2-D maps have one

    def _mark_current_setting(self):
        values = self.hyperparameters(self.optimizers[0])
        point = [values[n] for n in self.stability_map]
        style = {"color": plotting.OKABE_ITO["orange"], "gid": "current-setting", "zorder": 6}
        if len(point) == 2:
            self.map_axes.plot(*point, linestyle="none", marker="o",
                               markersize=mpl.rcParams["lines.markersize"] * 2.2,
                               markeredgecolor="black", **style)
        else:
            self.map_axes.axvline(point[0], linestyle=":", **style)

    # --- display and clean-up ----------------------------------------------------------------
    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    def close(self) -> None:
        """Close every widget of this explorer (their layouts and styles too), unlink Play
        from the step slider and let the figure go: a closed explorer is garbage."""
        for control, handler in self._observers:
            control.unobserve(handler, names="value")
        self._observers = []
        self._play_link.close()
        for widget in _widget_tree(self.widget):
            widget.close()
        self.figure = self.canvas = self._background = None
        self._moving, self._on_top = [], []
        self.path_lines, self.loss_lines = {}, {}
        self.sweep_result = self._colorbar = self.map_axes = None
        self.path_axes = self.loss_axes = None

    @property
    def closed(self) -> bool:
        """Has :meth:`close` run (by hand, or because its cell ran again)?"""
        return self.figure is None

    def __repr__(self) -> str:
        return (f"<Explorer {', '.join(self.optimizers)} on {self.surface.name}: "
                f"{'; '.join(t.message for t in self.trajectories)}>")


def _widget_tree(root) -> list:
    """Every widget under ``root`` (itself included), with the Layout and Style widgets each
    one owns: those are widgets too, registered until closed."""
    found, todo = [], [root]
    while todo:
        widget = todo.pop()
        if widget is None or any(widget is seen for seen in found):
            continue
        found.append(widget)
        todo += [*getattr(widget, "children", ()), getattr(widget, "layout", None),
                 getattr(widget, "style", None)]
    return found


def _surface_key(surface: Surface) -> str:
    return surface.name or type(surface).__name__


def _agg_box(extent, height: float) -> tuple[int, int, int, int]:
    """A display bbox as the pixel rectangle Agg's ``restore_region`` takes: rows counted from
    the top, widened to whole pixels."""
    x0, y0, x1, y1 = extent.extents
    return (max(int(x0) - 1, 0), max(int(height - y1) - 1, 0),
            int(math.ceil(x1)) + 1, int(math.ceil(height - y0)) + 1)


def _up_to(traj: Trajectory, k: int) -> Trajectory:
    """The first k steps of a run (all of it when k ≥ its steps), for the Play control."""
    if k >= traj.n_steps:
        return traj
    return dataclasses.replace(traj, points=traj.points[:k + 1], losses=traj.losses[:k + 1],
                               grads=traj.grads[:k + 1], used_grads=traj.used_grads[:k],
                               states={n: s[:k + 1] for n, s in traj.states.items()},
                               diverged_at=None, divergence_reason="")


# --- widget helpers (the API common to ipywidgets 7.7 and 8) ---------------------------------
def _tooltip(widget, text: str) -> None:
    """ipywidgets 8 calls it ``tooltip`` (and deprecates the old name); 7.x ``description_tooltip``."""
    if widget.has_trait("tooltip"):
        widget.tooltip = text
    else:
        widget.description_tooltip = text


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
        super().__init__(options=_options(grid), value=value, **kwargs)

    @property
    def grid(self) -> tuple[float, ...]:
        """The numbers the slider can take, ascending."""
        return tuple(self._options_values)

    @property
    def text(self) -> str:
        """The number as the slider shows it (``label`` can be empty for the first option)."""
        return self._options_labels[self.index]

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


def _label(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (0.95, 1e-08, 0.9999)."""
    text = f"{value:.12g}"
    return text if float(text) == value else repr(value)


def _options(grid) -> list[tuple[str, float]]:
    return [(_label(v), v) for v in grid]


def log_grid(low: float, high: float, keep=()) -> list[float]:
    """Every number with two significant digits (1.0, 1.1, … 9.9 × 10ᵏ) from ``low`` to
    ``high``, both ends and the numbers in ``keep`` included: 90 points a decade."""
    points = {low, high, *keep}
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        points.update(float(f"{mantissa}e{exponent - 1}") for mantissa in range(10, 100))
    return sorted(v for v in points if low <= v <= high)


def linear_grid(low: float, high: float, keep=()) -> list[float]:
    """``low``, ``low`` + h, … ``high`` with h the power of ten nearest below a hundredth of the
    range (at most 1,000 points), as their shortest decimals, plus the numbers in ``keep``."""
    step = 10.0 ** math.floor(math.log10((high - low) / 100))
    count = int(math.floor((high - low) / step + 1e-9))
    points = {float(f"{low + k * step:.12g}") for k in range(count + 1)} | {low, high, *keep}
    return sorted(v for v in points if low <= v <= high)


def _hyperparameter_slider(hp, value: float, label: str, label_style: dict) -> GridSlider:
    """A slider over the registry's slider range: log-scaled for η and ε; ``value`` (and the
    default) are grid points."""
    low, high = hp.slider
    keep = (value,) if hp.default is None else (value, hp.default)
    grid = log_grid(low, high, keep) if hp.log else linear_grid(low, high, keep)
    slider = GridSlider(grid, value, log=hp.log, description=label, style=label_style)
    _tooltip(slider, f"{hp.meaning}; valid range {hp.range_text}")
    return slider


def _float_slider(label: str, low: float, high: float, value: float, tip: str) -> GridSlider:
    slider = GridSlider(linear_grid(low, high, (value,)), value, description=label)
    _tooltip(slider, tip)
    return slider
