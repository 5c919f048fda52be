"""The explorer's figure: matplotlib draws what stays, Pillow draws the runs from a scene.

Made with :class:`matplotlib.figure.Figure` and the Agg canvas directly (never pyplot, so the
inline backend never shows or keeps it). Everything that does not move (contours, axes,
legend, the stability map) is drawn by matplotlib once per background and kept as a
picture. A change describes what moves (paths, loss curves, the marker where each run is,
the ✕ and notes of a divergence, the sliders' point on the map) as a scene
(:func:`gdviz.scene.describe`, from the artists ``gdviz.plotting`` makes) and draws it over
that picture with :class:`gdviz.scene.Compositor`: the same description, and the same
drawing, as the animation player's and the GIF's. The background is redrawn only when its
key (surface, steps, loss-axis range, the map's inputs) changes.

A picture is sent in 256 colours, with one palette per background for the figure's life: the
same runs on the same background always encode to the same bytes, so the explorer can keep
sent pictures and send one again instead of drawing it (see :mod:`.wiring`).
"""
from __future__ import annotations

import io
import math
from collections import OrderedDict

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from .. import plotting
from ..plotting import artist_ids
from ..scene import Compositor, _clip, describe, sprite
from ..surfaces import Surface
from ..trajectory import Trajectory

__all__ = ["ExplorerFigure", "LOSS_FLOOR", "GID_DIVERGED_STEP", "GID_DIVERGED_NOTE",
           "GID_CURRENT_SETTING"]

#: The bottom of the loss panel's log axis: gaps f − f_min below it run off the bottom.
LOSS_FLOOR = 1e-8
# The explorer's own artists, named in gdviz.plotting.artist_ids with plotting's
GID_DIVERGED_STEP = artist_ids.DIVERGED_STEP
GID_DIVERGED_NOTE = artist_ids.DIVERGED_STEP_NOTE
GID_CURRENT_SETTING = artist_ids.CURRENT_SETTING

_FIGSIZE = {False: (9.6, 4.0), True: (13.0, 5.4)}
_FIGSIZE_WITH_MAP = {False: (12.0, 4.2), True: (16.0, 5.6)}
#: Palettes kept (one per background drawn, about 1 kB each); the oldest is let go beyond it.
MAX_PALETTES = 64
#: Notes and marks kept as pictures on one background (a few kB each) before starting afresh.
MAX_SPRITES = 256


class ExplorerFigure:
    """The explorer's picture: a path panel, a loss panel and (optionally) a stability map."""

    def __init__(self, optimizers: list[str], *, projector: bool, with_map: bool):
        self.optimizers = list(optimizers)
        self.projector = projector
        self.n_background_draws = 0
        self.sweep_result = None
        self.path_lines: dict[str, Line2D] = {}
        self.loss_lines: dict[str, Line2D] = {}
        self._colorbar = None
        self._background_key = None
        self._compositor: Compositor | None = None     # the background, ready to draw over
        self._panels: list = []         # the path and loss panels' clip boxes, in pixels
        self._picture: Image.Image | None = None
        self.scene: dict | None = None  # what the picture shows, as data (gdviz.scene)
        self._sprites: dict = {}        # notes drawn on this background (scene.sprite's kept)
        self._moving: list = []
        self._on_top: list = []
        self._palette = None        # the encoded pictures' 256 colours (see encode)
        self._palettes: OrderedDict = OrderedDict()     # background key -> its palette
        with plotting.style(self.style_name):
            sizes = _FIGSIZE_WITH_MAP if with_map else _FIGSIZE
            self.figure = Figure(figsize=sizes[projector], dpi=100, layout="constrained")
            self.canvas = FigureCanvasAgg(self.figure)
            axes = self.figure.subplots(1, 3 if with_map else 2)
            self.path_axes, self.loss_axes = axes[:2]
            self.map_axes = axes[2] if with_map else None

    @property
    def style_name(self) -> str:
        return "projector" if self.projector else "notebook"

    # --- drawing --------------------------------------------------------------------------
    def draw(self, shown: list[Trajectory], *, surface: Surface, steps: int, map_key=None,
             sweep=None, setting: list[float] | None = None) -> None:
        """Draw the runs ``shown`` (each up to the step shown) over the cached background.

        ``trajectories`` set the loss axis' range; ``sweep()`` (called only when the map must
        be redrawn, i.e. when ``map_key`` changed) gives the stability map's sweep, and
        ``setting`` is the sliders' point on it.
        """
        self._ensure_background(shown, surface, steps, map_key, sweep)
        for artist in self._moving:
            artist.remove()
        self._moving, self._picture, self.scene = [], None, None
        ax, lax = self.path_axes, self.loss_axes
        colors = [plotting.optimizer_color(name) for name in self.optimizers]
        with plotting.style(self.style_name):
            before = set(ax.get_children()) | set(lax.get_children())
            for i, (name, traj, color) in enumerate(zip(self.optimizers, shown, colors)):
                self.path_lines[name] = plotting.plot_trajectory(
                    traj, ax, color=color, contour=False, legend=False, zorder=3 + 0.01 * i)
            lines = plotting.plot_loss(shown, lax, colors=colors, legend=False)
            self.loss_lines = dict(zip(self.optimizers, lines))
            extras = []         # drawn as they are, over the runs
            if self.map_axes is not None:
                before |= set(self.map_axes.get_children())
                extras.append(self.mark_setting(setting))
            # plot_trajectory marks where a run diverged on the path; the loss panel says when
            # (the loss has left the axis by then): plotting's divergence style, and words
            # that name the optimizer, in dark text
            for row, traj in enumerate(divergence_rows(shown)):
                extras += self.divergence_step(traj, row)
            self._moving = [a for a in (*ax.get_children(), *lax.get_children(),
                                        *self._map_children()) if a not in before]
            scene = self._scene(shown, [[self.path_lines[n] for n in self.optimizers], lines],
                                extras, steps)
        self.scene = scene
        self._picture = self._compositor.use(scene).frame(0)

    def divergence_step(self, traj: Trajectory, row: int) -> list:
        """The loss panel's line at the step a run diverged and the words that say so, in
        ``row`` (0 at the top; see :func:`divergence_rows`). Call inside the figure's style."""
        lax = self.loss_axes
        line = lax.axvline(traj.diverged_at, **plotting.DIVERGED_LINE, gid=GID_DIVERGED_STEP,
                           linewidth=mpl.rcParams["lines.linewidth"] * 0.6)
        late = traj.diverged_at > 0.5 * lax.get_xlim()[1]    # words left of the line
        words = lax.text(traj.diverged_at, 0.97 - 0.08 * row,
                         f" {plotting.diverged_label(traj.name, traj.diverged_at)} ",
                         transform=lax.get_xaxis_transform(), ha="right" if late else "left",
                         va="top", color=plotting.TEXT_COLOR, fontsize="small", gid=GID_DIVERGED_NOTE)
        return [line, words]

    def _scene(self, shown, lines, extras, steps: int) -> dict:
        """What moves, as a scene (gdviz.scene) over this background: the runs as plotting
        drew them, then the ``extras`` as they are."""
        width, height = self.canvas.get_width_height()
        dpi, shapes = self.figure.dpi, []

        def add(shape):
            shapes.append(shape)
            return len(shapes) - 1

        moving = describe([self.path_axes, self.loss_axes], lines, shown, height=height,
                          width=width, dpi=dpi, add=add, kept=self._sprites)
        moving["sprites"] += [drawn for drawn in (sprite(a, width, height, dpi, kept=self._sprites)
                                                  for a in extras) if drawn is not None]
        if len(self._sprites) > MAX_SPRITES:
            self._sprites.clear()
        return {"width": width, "height": height, "steps": [steps], "last_step": steps,
                "panels": self._panels, **moving, "shapes": shapes, "counter": None,
                "on_top": self._on_top}

    def image(self) -> Image.Image:
        """The picture drawn last, as an RGB Pillow image."""
        return self._picture

    @property
    def background(self) -> Image.Image | None:
        """What matplotlib drew and the scene is drawn over, as an RGB Pillow image."""
        return None if self._compositor is None else self._compositor.background

    def encode(self) -> bytes:
        """The picture as a 256-colour PNG: a third of the bytes of full colour and as sharp
        (flat colours and anti-aliased edges need few colours), so faster over the network.

        The palette is chosen once per background (from the first picture drawn on it, which
        holds the background's colours and every optimizer's) and kept with the background's
        key: mapping a picture to a known palette takes a tenth of the time of choosing a new
        one, and a picture drawn again on a background drawn again encodes to the same bytes
        (every picture is mapped to the palette, the first one too).
        """
        image = self.image()
        if self._palette is None:
            chosen = image.quantize(256, method=Image.Quantize.FASTOCTREE)
            self._palette = Image.new("P", (1, 1))      # the colours alone, not the picture
            self._palette.putpalette(chosen.getpalette())
            self._palettes[self._background_key] = self._palette
            while len(self._palettes) > MAX_PALETTES:
                self._palettes.popitem(last=False)
        quantized = image.quantize(palette=self._palette, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        quantized.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def png(self) -> bytes:
        """The picture as a full-colour PNG."""
        buffer = io.BytesIO()
        self.image().save(buffer, format="png")
        return buffer.getvalue()

    # --- the cached background --------------------------------------------------------------
    @staticmethod
    def loss_limits(trajectories: list[Trajectory]) -> tuple[float, float]:
        """From LOSS_FLOOR to ten times the next power of ten above the initial gap.

        Rounded to powers of ten, so dragging the start rarely changes the axis (and so
        rarely forces a redraw of the cached background).
        """
        gap0 = max((t.losses[0] - t.surface.min_value for t in trajectories), default=1.0)
        top = 10.0 ** (math.ceil(math.log10(gap0)) + 1) if gap0 > LOSS_FLOOR else 1.0
        return LOSS_FLOOR, top

    def _ensure_background(self, shown, surface: Surface, steps: int, map_key, sweep):
        key = (id(surface), steps, self.loss_limits(shown), map_key)   # one object per surface
        if key == self._background_key:
            return
        ax, lax = self.path_axes, self.loss_axes
        for artist in self._moving:
            artist.remove()
        self._moving = []
        with plotting.style(self.style_name):
            ax.clear()
            lax.clear()
            # a wide view (the elongated bowl) gets a wide panel, a square one less room
            aspect = (surface.xlim[1] - surface.xlim[0]) / (surface.ylim[1] - surface.ylim[0])
            ratios = [0.8 * min(max(aspect, 1.0), 2.0), 1.0] + ([1.1] if self.map_axes else [])
            ax.get_gridspec().set_width_ratios(ratios)
            # constrained layout starts from where the axes are: from their grid cells, so one
            # key always gives one background (not one shaped by the backgrounds before it)
            for axes in (ax, lax, self.map_axes):
                if axes is not None:
                    axes.set_position(axes.get_subplotspec().get_position(self.figure))
                    axes.set_in_layout(True)    # set_position takes it out of the layout
            plotting.plot_contour(surface, ax)
            ax.set_title(surface.title)
            lax.set_yscale("log", nonpositive="mask")
            lax.set_xlim(0, steps)
            lax.set_ylim(*key[2])
            lax.set_xlabel("step k")
            lax.set_ylabel(r"$f(\theta_k) - f_{\min}$")
            handles = [Line2D([], [], color=plotting.optimizer_color(name), marker="o",
                              label=name) for name in self.optimizers]
            lax.legend(handles=handles, loc="lower left")
            if self.map_axes is not None:
                self._draw_map(sweep())
            self.canvas.draw()
        # static artists drawn above the paths (the legend, saddle points): where they are
        renderer = self.canvas.get_renderer()
        self._on_top = [_box(a.get_window_extent(renderer), renderer.height)
                        for a in (*ax.get_children(), *lax.get_children(), *self._map_children())
                        if a.get_zorder() > 3 and a.get_visible() and a not in self._moving]
        background = Image.frombytes("RGB", self.canvas.get_width_height(),
                                     self.canvas.buffer_rgba(), "raw", "RGBX")
        height = self.canvas.get_width_height()[1]
        self._panels = [{"clip": _clip(axes, height)} for axes in (ax, lax)]
        self._compositor = Compositor({"panels": self._panels, "sprites": []}, background)
        self._sprites.clear()
        self._background_key = key
        # this background's palette, or (first time) the next picture chooses it
        self._palette = self._palettes.get(key)
        if self._palette is not None:
            self._palettes.move_to_end(key)
        self.n_background_draws += 1

    @property
    def palette(self):
        """The palette the next picture is encoded with, by background: ``(key, palette)``.

        A picture encoded earlier was encoded as a fresh drawing would be now while
        :meth:`palette_of` its key still gives the same palette object."""
        return self._background_key, self._palette

    def palette_of(self, key):
        return self._palettes.get(key)

    # --- the stability map ----------------------------------------------------------------
    def _map_children(self) -> list:
        return self.map_axes.get_children() if self.map_axes is not None else []

    def _draw_map(self, result) -> None:
        self.sweep_result = result
        if self._colorbar is not None:
            self._colorbar.remove()
        self.map_axes.clear()
        drawn = plotting.plot_stability_map(result, self.map_axes, colorbar=True)
        self._colorbar = getattr(drawn, "colorbar", None)      # 2-D maps have one

    def mark_setting(self, point):
        style = {"color": plotting.OKABE_ITO["orange"], "gid": GID_CURRENT_SETTING, "zorder": 6}
        if len(point) == 2:
            (mark,) = self.map_axes.plot(*point, linestyle="none", marker="o",
                                         markersize=mpl.rcParams["lines.markersize"] * 2.2,
                                         markeredgecolor="black", **style)
            return mark
        return self.map_axes.axvline(point[0], linestyle=":", **style)

    def close(self) -> None:
        """Let go of the figure and everything drawn (a closed explorer keeps no pixels)."""
        self.figure = self.canvas = self._compositor = self._picture = self._palette = None
        self.scene, self._sprites = None, {}
        self._palettes = OrderedDict()
        self._moving, self._on_top = [], []
        self.path_lines, self.loss_lines = {}, {}
        self.sweep_result = self._colorbar = None
        self.path_axes = self.loss_axes = self.map_axes = None


def divergence_rows(runs: list[Trajectory]) -> list[Trajectory]:
    """The runs that diverged, in the rows of the loss panel's words: the earliest on top
    (a tie in the optimizers' order)."""
    return sorted((t for t in runs if t.diverged), key=lambda t: t.diverged_at)


def _box(extent, height: float) -> list[int]:
    """A display bbox as a scene's pixel box (left, top, right, bottom; rows counted from the
    top), widened to whole pixels."""
    x0, y0, x1, y1 = extent.extents
    return [max(int(x0) - 1, 0), max(int(height - y1) - 1, 0),
            int(math.ceil(x1)) + 1, int(math.ceil(height - y0)) + 1]
