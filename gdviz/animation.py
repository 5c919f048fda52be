r"""Watch optimizers move: a small, self-contained HTML player and one-call GIFs for slides.

    import gdviz
    from gdviz.animation import animate, save_gif
    trajs = [gdviz.run("SGD", lr=0.9), gdviz.run("Momentum", lr=0.1, momentum=0.9)]
    animate(trajs)                      # a player in the notebook (plays in the saved file too)
    save_gif(trajs, "momentum.gif")     # the same animation for slides

Used from ``notebooks/01_gradient_descent.ipynb`` onwards.

How it stays small and fast: matplotlib draws everything that does not move (contours,
axes, labels, legend, the start squares and minima, an empty loss panel) **once**, into one
PNG. The moving parts (the paths, the current-position markers, the loss curves, the ✕ of a
diverged run) are kept as pixel coordinates, computed from each artist's own ``transData``,
and drawn per frame: by a few lines of JavaScript on a ``<canvas>`` over the PNG in the
player, and by Pillow on copies of the PNG in the GIF. 60 frames take ~0.1 MB and ~0.3 s instead
of the ~6 MB and ~10 s of matplotlib's ``FuncAnimation.to_jshtml()`` for the same picture
(``benchmarks/bench_animation.py``).

Player contract (for the browser tests and anyone scripting the page):

* the root is ``div.gdviz-player`` with a unique ``id`` (also in ``data-gdviz-id``);
* ``button.gdviz-play`` plays and pauses; ``input.gdviz-slider`` (``type=range``) seeks;
* the text of ``.gdviz-frame`` is the current **frame index, 0-based** (0 … n_frames − 1),
  also in the root's ``data-frame``; ``.gdviz-step`` is the optimizer step that frame shows
  (the same number unless long runs were subsampled);
* the player opens on the **last** frame (the whole path, like the static plots); Play from
  there starts again at frame 0;
* ``root.gdvizPlayer`` has ``play()``, ``pause()``, ``seek(i)``, ``frame()`` and ``n``.

:mod:`gdviz.replay` builds on the same scene: *variants* (per optimizer, the moving parts for
each η of a grid, run in advance) that the same player.js swaps in from an η range input; the
explorer shows such a replay to a reader without a kernel.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
import os
from importlib import resources
from pathlib import Path

import numpy as np

from . import plotting
from .plotting import artist_ids as ids
from .plotting._common import _as_trajectories
from .trajectory import Trajectory

__all__ = ["animate", "save_gif", "Player", "MAX_DEFAULT_FRAMES"]

#: Runs longer than this many steps are shown in this many frames (+1 for the start), evenly
#: subsampled, unless ``frames`` is given.
MAX_DEFAULT_FRAMES = 120
MAX_FPS = 50                      # browsers slow GIF frames shorter than 20 ms down to 100 ms
_SUPERSAMPLE = 3                  # the GIF's moving parts are drawn 3× larger, then reduced
_CANVAS_SCALE = 2                 # the player's canvas has 2×2 pixels per image pixel (crisp on HiDPI)
_ids = itertools.count(1)


# --- checking the arguments (everything before anything is drawn) ----------------------------
def _last_step(traj: Trajectory) -> int:
    """The last step worth a frame: the final step, or the step at which the run diverged."""
    return traj.diverged_at if traj.diverged else traj.n_steps


def _number(name, value, low, high, *, integer=False, low_open=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be a {'whole number' if integer else 'number'}, got {value!r}")
    ok = (low < value if low_open else low <= value) and value <= high and math.isfinite(value)
    if not ok:
        raise ValueError(f"{name} must be in {'(' if low_open else '['}{low}, {high}], got {value!r}")
    return int(value) if integer else float(value)


def _check_fps(fps) -> float:
    return _number("fps (frames per second)", fps, 0, MAX_FPS, low_open=True)


def _frame_steps(last: int, frames) -> np.ndarray:
    """The step each frame shows: every step, or ``frames`` evenly spread, first and last kept."""
    if frames is None:
        frames = min(last, MAX_DEFAULT_FRAMES) + 1
    frames = _number(f"frames (for runs of {last} steps: 1 … one per step plus the start)",
                     frames, 1, last + 1, integer=True)
    if frames == 1:
        return np.array([last])
    # spacing ≥ 1, so the rounded steps are distinct
    return np.round(np.linspace(0, last, frames)).astype(int)


def _check_figsize(figsize, default):
    if figsize is None:
        return default
    try:
        width, height = figsize
        width, height = float(width), float(height)
    except (TypeError, ValueError):
        raise TypeError(f"figsize must be (width, height) in inches, got {figsize!r}") from None
    if not (0.5 <= width <= 30 and 0.5 <= height <= 30):
        raise ValueError(f"figsize must be (width, height) with both in [0.5, 30] inches, got {figsize!r}")
    return width, height


def _check_flag(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# --- the scene: one background PNG and the pixel coordinates of everything that moves -------
def _color(value) -> str | None:
    from matplotlib import colors as mcolors
    rgba = mcolors.to_rgba(value)
    if rgba[3] == 0:
        return None
    return mcolors.to_hex(rgba, keep_alpha=rgba[3] < 1)


def _shape(marker, size_pt, face, edge, edge_pt, px_per_pt) -> dict:
    """A marker as polygons in pixels around (0, 0), y down, with its fill and edge."""
    from matplotlib.markers import MarkerStyle
    from matplotlib.transforms import Affine2D
    style = MarkerStyle(marker)
    fine = 16        # polygonize curves (the circle) at 16× so they stay round
    transform = style.get_transform() + Affine2D().scale(size_pt * px_per_pt * fine, -size_pt * px_per_pt * fine)
    polys = style.get_path().transformed(transform).to_polygons(closed_only=style.is_filled())
    return {"polys": [np.round(np.asarray(p)[:-1].ravel() / fine, 2).tolist() for p in polys],
            "fill": _color(face) if style.is_filled() else None,
            "edge": _color(edge), "lw": round(edge_pt * px_per_pt, 2)}


def _line_shape(line, px_per_pt, edge=None, edge_pt=None) -> dict:
    """The marker of a Line2D as :func:`_shape` (optionally with another edge)."""
    return _shape(line.get_marker(), line.get_markersize(), line.get_markerfacecolor(),
                  line.get_markeredgecolor() if edge is None else edge,
                  line.get_markeredgewidth() if edge_pt is None else edge_pt, px_per_pt)


def _pixels(line, height) -> list:
    """The line's data points in image pixels (x right, y down); None where not finite."""
    xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    xy[:, 1] = height - xy[:, 1]
    xy = np.round(xy, 2)
    return [float(v) if math.isfinite(v) else None for v in xy.ravel()]


def _outline(line, px_per_pt):
    """The dark outline ``plotting`` draws under a line of a light colour, in pixels, if any."""
    if not line.get_path_effects():
        return None
    outline = plotting.outline_style(line.get_color(), line.get_linewidth())
    if outline is None:
        return None
    return {"color": _color(outline["color"]), "lw": round(outline["linewidth"] * px_per_pt, 2)}


def _clip(ax, height) -> list:
    x0, y0, x1, y1 = ax.bbox.extents
    return [round(x0, 2), round(height - y1, 2), round(x1, 2), round(height - y0, 2)]


#: How the animation treats what ``gdviz.plotting`` draws, by the artists' gids. Anything that
#: changes with the step must be listed in MOVING, or it would show in every frame.
STILL_GIDS = frozenset({ids.CONTOUR, ids.MINIMUM, ids.SADDLE, ids.START})
MOVING_GIDS = frozenset({ids.PATH, ids.LOSS, ids.DIVERGED, ids.AT_MINIMUM, ids.DIVERGED_NOTE})


def _draw_still(trajs, last, *, loss_panel, figsize, dpi, title, labels=None, loss_points=None):
    """The full static figure, then the moving artists hidden and the canvas drawn once.

    ``labels`` replace the runs' legend labels; ``loss_points`` ((k, gap) rows) widen the loss
    panel's range as if they were plotted too (a replay's range covers all its variants).
    Call inside ``plotting.style(...)``. Returns (fig, panels, path lines per panel, counter).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    if _is_wide(trajs[0].surface):          # contour on top, legend below it, loss panel below
        grid = fig.add_gridspec(2 if loss_panel else 1, 1, height_ratios=[2.3, 1] if loss_panel else None)
        ax, legend_ax = fig.add_subplot(grid[0, 0]), None
        loss_ax = fig.add_subplot(grid[1, 0]) if loss_panel else None
    else:                                    # contour and loss panel side by side, legend below
        grid = fig.add_gridspec(2, 2 if loss_panel else 1, height_ratios=[1, 0.01])
        ax, legend_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, :])
        loss_ax = fig.add_subplot(grid[0, 1]) if loss_panel else None
    lines = [plotting.plot_trajectories(trajs, ax, labels=labels,
                                        legend="below" if legend_ax is None else False)]
    if legend_ax is not None:
        legend_ax.axis("off")
        handles, labels = ax.get_legend_handles_labels()
        columns = 2 if max(map(len, labels)) <= (50 if loss_panel else 25) else 1
        legend_ax.legend(handles, labels, loc="upper center", frameon=False, borderaxespad=0,
                         ncols=columns)
    ax.set_title(title, loc="left")
    # keeps room for the step counter, which the player and the GIF draw per frame
    counter = ax.set_title(f"step {last} / {last}", loc="right", color=(0, 0, 0, 0))
    if loss_panel:
        lines.append(plotting.plot_loss(trajs, loss_ax, legend=False))
        if loss_points is not None and len(loss_points):
            loss_ax.update_datalim(loss_points)
            loss_ax.autoscale_view()
    panels = [ax, loss_ax] if loss_panel else [ax]
    for panel in panels:          # freeze the limits the full paths gave
        panel.set_xlim(panel.get_xlim())
        panel.set_ylim(panel.get_ylim())
        for artist in _moving(panel):
            artist.set_visible(False)
    fig.canvas.draw()
    return fig, panels, lines, counter


def _is_wide(surface) -> bool:
    """Is the surface's view (drawn at equal scale) wide, like the elongated bowl's 20 × 10?"""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    return (x1 - x0) / (y1 - y0) >= 1.4


def _moving(panel) -> list:
    return [a for a in (*panel.lines, *panel.texts) if a.get_gid() in MOVING_GIDS]


def _sprite_png(artist, width: int, height: int, dpi: float) -> tuple[str, float, float]:
    """Render one artist alone on a transparent canvas: (base64 PNG, left, top) in pixels."""
    from matplotlib.backends.backend_agg import RendererAgg
    renderer = RendererAgg(width, height, dpi)
    artist.set_visible(True)
    artist.draw(renderer)
    artist.set_visible(False)
    png, left, top = _drawn_part(renderer)
    return png, float(left), float(top)


def _drawn_part(renderer) -> tuple[str, int, int]:
    """What was drawn on a transparent Agg canvas, cropped: (base64 PNG, left, top)."""
    from PIL import Image
    rgba = np.asarray(renderer.buffer_rgba())
    rows, cols = np.nonzero(rgba[..., 3])
    if not len(rows):
        return "", 0, 0
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[top:bottom, left:right])).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii"), int(left), int(top)


def _path_style(line, cross, px_per_pt: float, add) -> dict:
    """How a path is drawn: its line, outline and markers as matplotlib has them, a larger
    marker at the current point, and the ✕ it ends with if it diverged. ``add`` stores a
    marker shape and returns its index."""
    import matplotlib as mpl
    lw = line.get_linewidth()
    has_markers = line.get_marker() not in (None, "None", "none", "", " ")
    head_pt = line.get_markersize() * 2.4 if has_markers else mpl.rcParams["lines.markersize"] * 1.3
    outline = _outline(line, px_per_pt)
    return {
        "color": _color(line.get_color()), "lw": round(lw * px_per_pt, 2), "outline": outline,
        "marker": add(_line_shape(line, px_per_pt)) if has_markers else None,
        "marker_outline": (add(_line_shape(line, px_per_pt, edge=outline["color"],
                                           edge_pt=outline["lw"] / px_per_pt))
                           if has_markers and outline else None),
        "head": add(_shape("o", head_pt, line.get_color(), outline["color"] if outline else "white",
                           lw * 0.6, px_per_pt)),
        "cross": add(_line_shape(cross, px_per_pt)) if cross is not None else None,
        "cross_clip": bool(cross.get_clip_on()) if cross is not None else True,
    }


def _render(trajs, steps, *, loss_panel, projector, figsize, dpi, title, labels=None,
            loss_points=None, extend=None):
    """Draw the still parts with matplotlib; return (background PNG bytes, scene dict).

    ``labels`` and ``loss_points`` go to :func:`_draw_still`; ``extend(scene, fig, panels,
    lines, add)`` (for :mod:`gdviz.replay`) may add to the scene before the figure goes.
    """
    import matplotlib
    from PIL import Image

    last = int(steps[-1])
    with plotting.style("projector" if projector else "notebook"):
        fig, panels, lines, counter = _draw_still(trajs, last, loss_panel=loss_panel,
                                                  figsize=figsize, dpi=dpi, title=title,
                                                  labels=labels, loss_points=loss_points)
        rgba = np.asarray(fig.canvas.buffer_rgba())
        height, width = rgba.shape[:2]
        px_per_pt = fig.dpi / 72
        shapes, paths_out, stamps, marks, sprites = [], [], [], [], []

        def add(shape):
            shapes.append(shape)
            return len(shapes) - 1

        noted: set[int] = set()                  # the runs whose divergence note is placed
        for index, (panel, panel_lines) in enumerate(zip(panels, lines)):
            crosses = iter(a for a in panel.lines if a.get_gid() == ids.DIVERGED)
            for traj, line in zip(trajs, panel_lines):
                cross = next(crosses) if traj.diverged else None
                paths_out.append({"panel": index, "xy": _pixels(line, height),
                                  "diverged_at": traj.diverged_at,
                                  "note": (plotting.diverged_label(traj.name, traj.diverged_at)
                                           if traj.diverged else None),
                                  **_path_style(line, cross, px_per_pt, add)})
            lowest = min((line.get_zorder() for line in panel_lines), default=0)
            for artist in panel.lines:
                gid = artist.get_gid()
                if gid == ids.AT_MINIMUM:          # ▼ marks, each shown from its own step on
                    marks.append({"panel": index, "shape": add(_line_shape(artist, px_per_pt)),
                                  "xy": _pixels(artist, height), "clip": bool(artist.get_clip_on()),
                                  "steps": [int(round(k)) for k in artist.get_xdata()]})
                elif (gid in STILL_GIDS and artist.get_visible()
                        and artist.get_zorder() > lowest):   # still markers above the paths stay above
                    shape = add(_line_shape(artist, px_per_pt))
                    xy = _pixels(artist, height)
                    stamps.extend({"panel": index, "x": x, "y": y, "shape": shape}
                                  for x, y in zip(xy[::2], xy[1::2]) if x is not None and y is not None)
            for artist in panel.texts:           # "SGD diverged at step 7 →" at the view's edge
                step = (_note_step(artist, panel, trajs, noted)
                        if artist.get_gid() == ids.DIVERGED_NOTE else None)
                if step is not None:
                    png, left, top = _sprite_png(artist, width, height, fig.dpi)
                    if png:
                        sprites.append({"png": png, "x": left, "y": top, "from": step})
        x, y = counter.get_transform().transform(counter.get_position())
        rc = matplotlib.rcParams
        scene = {
            "width": width, "height": height, "steps": [int(s) for s in steps], "last_step": last,
            "panels": [{"clip": _clip(p, height)} for p in panels],
            "paths": paths_out, "stamps": stamps, "marks": marks, "sprites": sprites,
            "shapes": shapes,
            "counter": {"x": round(float(x), 2), "y": round(height - float(y), 2),
                        "size": round(counter.get_fontsize() * px_per_pt, 2),
                        "color": _color(rc["axes.titlecolor"] if rc["axes.titlecolor"] != "auto"
                                        else rc["text.color"])},
            "font_file": _font_file(counter),
            "css_width": round(width * 100 / fig.dpi),     # shown at 100 pixels per inch
        }
        if extend is not None:
            extend(scene, fig, panels, lines, add)
    buffer = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue(), scene


def _note_step(note, panel, trajs, noted: set[int]) -> int | None:
    """The step at which the run a divergence note speaks of diverged: the run whose last
    point, brought to the view's edge, is the point the note is anchored at (read from the
    data, never from the note's words)."""
    (x0, x1), (y0, y1) = sorted(panel.get_xlim()), sorted(panel.get_ylim())
    for i, traj in enumerate(trajs):
        if traj.diverged and i not in noted:
            x, y = traj.points[-1]
            if np.allclose(note.xy, (np.clip(x, x0, x1), np.clip(y, y0, y1)), rtol=1e-9, atol=0):
                noted.add(i)            # two runs may leave by the same corner: one note each
                return traj.diverged_at
    return None


def _font_file(text) -> str:
    from matplotlib import font_manager
    return font_manager.findfont(text.get_fontproperties())


# --- the GIF: the same pixels drawn by Pillow ---------------------------------------------------
class _Compositor:
    """Draws frame i of a scene onto copies of the background, as the player's JavaScript does."""

    def __init__(self, scene: dict, background_png: bytes, supersample: int = _SUPERSAMPLE):
        from PIL import Image, ImageFont
        self.scene, self.s = scene, supersample
        self.background = Image.open(io.BytesIO(background_png)).convert("RGB")
        # each panel's background, enlarged s× (nearest): drawing on it and box-reducing by s
        # gives back the background pixels exactly wherever nothing was drawn
        self.panels = []
        for panel in scene["panels"]:
            x0, y0, x1, y1 = panel["clip"]
            box = (int(math.floor(x0)), int(math.floor(y0)), int(math.ceil(x1)), int(math.ceil(y1)))
            crop = self.background.crop(box)
            self.panels.append((box, crop.resize((crop.width * supersample, crop.height * supersample),
                                                 _resampling().NEAREST)))
        self.sprites = {}
        self.notes = [(Image.open(io.BytesIO(base64.b64decode(n["png"]))).convert("RGBA"),
                       (n["x"], n["y"], n["from"])) for n in scene["sprites"]]
        counter = scene["counter"]
        try:
            self.font = ImageFont.truetype(scene["font_file"], max(1, round(counter["size"])))
        except OSError:             # font moved since the scene was made
            self.font = ImageFont.load_default()

    def frame(self, i: int):
        from PIL import ImageDraw
        scene, s = self.scene, self.s
        step = scene["steps"][i]
        image = self.background.copy()
        loose = []                       # what matplotlib draws with clip_on=False
        for index, (box, large) in enumerate(self.panels):
            layer = large.copy()
            left, top = box[:2]
            loose += self._draw_panel(layer, index, step, lambda x, y: ((x - left) * s, (y - top) * s))
            image.paste(layer.reduce(s), box[:2])
        for shape, x, y in loose:
            small, offset = self._sprite(shape, small=True)
            image.paste(small, (int(round(x - offset)), int(round(y - offset))), small)
        for sprite, (x, y, start) in self.notes:
            if step >= start:
                image.paste(sprite, (int(round(x)), int(round(y))), sprite)
        counter = scene["counter"]
        ImageDraw.Draw(image).text((counter["x"], counter["y"]), _counter_text(step, scene["last_step"]),
                                   font=self.font, fill=counter["color"], anchor="rs")
        return image

    def _draw_panel(self, layer, index, step, to_layer) -> list:
        """Draw what panel ``index`` clips, in the player's order: outlines, lines, markers; ▼
        marks; stamps; heads and ✕. Return the unclipped (shape, x, y) to draw afterwards."""
        from PIL import ImageDraw
        draw, s = ImageDraw.Draw(layer), self.s
        ends, loose = [], []
        for path in (p for p in self.scene["paths"] if p["panel"] == index):
            xy = path["xy"]
            runs, run = [], []           # the visible points, split where one is not finite
            for j in range(min(step, len(xy) // 2 - 1) + 1):
                if xy[2 * j] is None or xy[2 * j + 1] is None:
                    runs, run = runs + [run], []
                else:
                    run.append((xy[2 * j], xy[2 * j + 1]))
            runs = [r for r in runs + [run] if r]
            last = runs[-1][-1] if runs else None
            runs = [[to_layer(*p) for p in r] for r in runs]
            layers = [(path["outline"], path["marker_outline"])] if path["outline"] else []
            for stroke, marker in layers + [(path, path["marker"])]:
                width = max(1, round(stroke["lw"] * s))
                for run in runs:
                    if len(run) > 1:
                        draw.line(run, fill=stroke["color"], width=width, joint="curve")
                if marker is not None:
                    for point in itertools.chain(*runs):
                        self._stamp(layer, marker, point)
            if runs:
                if path["diverged_at"] is not None and step >= path["diverged_at"]:
                    if path["cross_clip"]:
                        ends.append((path["cross"], runs[-1][-1]))
                    else:
                        loose.append((path["cross"], *last))
                else:
                    ends.append((path["head"], runs[-1][-1]))
        for mark in self.scene["marks"]:
            if mark["panel"] == index:
                for k, x, y in zip(mark["steps"], mark["xy"][::2], mark["xy"][1::2]):
                    if k <= step and x is not None and y is not None:
                        if mark["clip"]:
                            self._stamp(layer, mark["shape"], to_layer(x, y))
                        else:
                            loose.append((mark["shape"], x, y))
        for stamp in self.scene["stamps"]:
            if stamp["panel"] == index:
                self._stamp(layer, stamp["shape"], to_layer(stamp["x"], stamp["y"]))
        for shape, point in ends:
            self._stamp(layer, shape, point)
        return loose

    def _stamp(self, layer, index, point):
        """Paste marker ``index`` centred on ``point`` of the s× layer."""
        sprite, offset = self._sprite(index)
        layer.paste(sprite, (int(round(point[0] - offset)), int(round(point[1] - offset))), sprite)

    def _sprite(self, index, small=False):
        """Marker ``index`` drawn once at s× (or that reduced to 1×) and its centre's offset."""
        from PIL import Image, ImageDraw
        key = (index, small)
        if key not in self.sprites:
            shape, s = self.scene["shapes"][index], self.s
            width = max(1, round(shape["lw"] * s)) if shape["edge"] and shape["lw"] > 0 else 0
            coords = np.concatenate([np.asarray(p, dtype=float) for p in shape["polys"]] or [np.zeros(2)])
            reach = int(math.ceil((np.abs(coords).max() * s + width) / s)) + 1   # in 1× pixels
            sprite = Image.new("RGBA", (s * (2 * reach + 1),) * 2, (0, 0, 0, 0))
            centre = s * reach + s / 2
            draw = ImageDraw.Draw(sprite)
            for poly in shape["polys"]:
                corners = [(centre + poly[k] * s, centre + poly[k + 1] * s) for k in range(0, len(poly), 2)]
                if shape["fill"]:
                    draw.polygon(corners, fill=shape["fill"])
                if width:
                    draw.line(corners + corners[:1], fill=shape["edge"], width=width, joint="curve")
            self.sprites[(index, False)] = sprite, centre
            self.sprites[(index, True)] = sprite.reduce(s), reach + 0.5
        return self.sprites[key]


def _resampling():
    from PIL import Image
    return getattr(Image, "Resampling", Image)


def _counter_text(step: int, last: int) -> str:
    return f"step {step} / {last}"


# --- the player ---------------------------------------------------------------------------------
class Player:
    """An animation of optimizer paths that plays in a notebook, without a kernel.

    Made by :func:`animate`. Displaying it (the last line of a cell) shows the player;
    :meth:`to_html` is the same HTML as a string, :meth:`save_gif` writes the frames as a GIF.

    Attributes: ``n_frames``; ``steps`` (the optimizer step each frame shows); ``fps``;
    ``nbytes`` (the size of the HTML); ``note`` (what was subsampled, or "").
    """

    def __init__(self, scene: dict, background_png: bytes, *, fps: float, note: str,
                 projector: bool, description: str):
        self._scene, self._png = scene, background_png
        self.fps, self.note, self.projector = fps, note, projector
        self.steps = np.array(scene["steps"])
        digest = hashlib.sha1(background_png + json.dumps(scene).encode()).hexdigest()[:8]
        self.id = f"gdviz-player-{digest}-{next(_ids)}"     # unique, yet the same in a rerun
        self._description = description
        self._html = None

    @property
    def n_frames(self) -> int:
        return len(self.steps)

    @property
    def nbytes(self) -> int:
        """The size of :meth:`to_html` in bytes (what the notebook stores)."""
        return len(self.to_html().encode())

    def to_html(self) -> str:
        """The player as one self-contained HTML fragment (no external files or scripts)."""
        if self._html is None:
            self._html = _player_html(self)
        return self._html

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"<Player {self._description}: {self.n_frames} frames at {self.fps:g} fps>"

    def frame_image(self, i: int):
        """Frame ``i`` (0-based) as a PIL image: what the player shows, as the GIF stores it
        (before the GIF's 255-colour palette)."""
        i = _number(f"i (a frame index, this player has {self.n_frames})", i, 0, self.n_frames - 1,
                    integer=True)
        return _Compositor(self._scene, self._png).frame(i)

    def save_gif(self, path, fps: float | None = None) -> Path:
        """Write the animation as a looping GIF (for slides); return its path.

        ``fps`` defaults to the player's. The last frame is held for a second.
        """
        fps = self.fps if fps is None else _check_fps(fps)
        path = _check_gif_path(path)
        _write_gif(_Compositor(self._scene, self._png), self.n_frames, fps, path)
        return path


def _check_gif_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or Path), got {type(path).__name__}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must end in .gif, got {str(path)!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"path: the folder {str(path.parent)!r} does not exist")
    return path


def _write_gif(compositor: _Compositor, n_frames: int, fps: float, path: Path) -> None:
    """Map every frame to one palette (from the last frame, which holds every colour) and
    store only what changed: unchanged pixels become the transparent index, which compresses
    to almost nothing (~6× smaller than whole frames).

    The mapping is an exact nearest-colour search done here (Pillow's ``quantize(palette=…)``
    is approximate and turns the white background light grey); only the pixels that differ
    from the background are searched per frame.
    """
    from PIL import Image
    transparent = 255
    last = compositor.frame(n_frames - 1)
    quantize = getattr(Image, "Quantize", Image)
    palette = np.array(last.quantize(colors=transparent, method=quantize.MEDIANCUT)
                       .getpalette()[:3 * transparent], dtype=int).reshape(-1, 3)

    known: dict[int, int] = {}          # colour → palette index, shared by all frames

    def nearest(packed: np.ndarray) -> np.ndarray:
        colors, inverse = np.unique(packed, return_inverse=True)
        new = np.array([c for c in colors.tolist() if c not in known], dtype=np.int64)
        if len(new):
            rgb = np.stack([new >> 16, (new >> 8) & 255, new & 255], axis=-1)
            index = ((rgb[:, None, :] - palette[None, :, :]) ** 2).sum(-1).argmin(-1)
            known.update(zip(new.tolist(), index.tolist()))
        lookup = np.array([known[c] for c in colors.tolist()], dtype=np.uint8)
        return lookup[inverse.ravel()]

    background = _packed(compositor.background)
    background_index = nearest(background.ravel()).reshape(background.shape)
    frames, previous = [], None
    for i in range(n_frames):
        packed = _packed(compositor.frame(i))
        changed = packed != background
        indices = background_index.copy()
        indices[changed] = nearest(packed[changed])
        stored = indices.copy()
        if previous is not None:
            stored[indices == previous] = transparent
        previous = indices
        # frombytes, not fromarray(..., "P"): the mode argument is deprecated since Pillow 11.3
        frame = Image.frombytes("P", stored.shape[::-1], np.ascontiguousarray(stored, dtype=np.uint8).tobytes())
        frame.putpalette(palette.ravel().tolist() + [0] * (3 * (transparent - len(palette))) + [255, 0, 255])
        frames.append(frame)
    period = max(20, round(1000 / fps / 10) * 10)      # GIF delays are in 1/100 s
    durations = [period] * (n_frames - 1) + [max(period, 1000)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   disposal=1, transparency=transparent, optimize=False)


def _packed(image) -> np.ndarray:
    """An RGB image as one int per pixel, 0xRRGGBB."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def animate(trajs, *, frames: int | None = None, fps: float = 10, loss_panel: bool = True,
            projector: bool = False, figsize=None, dpi: float | None = None,
            title: str | None = None) -> Player:
    """Animate one or several runs (and their loss curves) as a player for the notebook.

    ``trajs`` is a :class:`~gdviz.trajectory.Trajectory` from :func:`gdviz.run` or a list of
    them on one surface. By default there is one frame per step, 0 … the last step of the
    longest run (a diverged run counts up to the step where it diverged); runs longer than
    :data:`MAX_DEFAULT_FRAMES` steps are evenly subsampled (the first and last steps always
    shown) and the player says so. ``frames`` picks the number of frames yourself.

    ``projector=True`` uses the large-text style for a lecture hall. The layout follows the
    surface: a wide view (the elongated bowl) has the loss panel below the contours, a
    squarish one (Rosenbrock, the saddle) beside them. ``figsize`` (inches) defaults to 6×5
    (wide) or 8×4.2 (squarish), and 9×7.5 or 11×6 for the projector; ``dpi`` to 100, and the
    player shows the picture at 100 pixels per inch whatever the dpi (a higher dpi is
    sharper, not larger). ``title`` defaults to the surface's title; ``""`` leaves it out.

    Returns a :class:`Player`: the last expression of a cell shows it; ``.save_gif(path)``
    writes a GIF. Taught in ``notebooks/01_gradient_descent.ipynb``.
    """
    trajs = _as_trajectories(trajs, "trajs", one_surface=True)
    last = max(_last_step(t) for t in trajs)
    steps = _frame_steps(last, frames)
    fps = _check_fps(fps)
    loss_panel = _check_flag("loss_panel", loss_panel)
    projector = _check_flag("projector", projector)
    if _is_wide(trajs[0].surface):
        default = (9.0, 7.5 if loss_panel else 5.4) if projector else (6.0, 5.0 if loss_panel else 3.6)
    elif loss_panel:
        default = (11.0, 6.0) if projector else (8.0, 4.2)
    else:
        default = (7.5, 7.0) if projector else (5.0, 4.8)
    figsize = _check_figsize(figsize, default)
    dpi = 100.0 if dpi is None else _number("dpi", dpi, 20, 400)
    if title is None:
        title = trajs[0].surface.title
    if not isinstance(title, str):
        raise TypeError(f"title must be a string (or None for the surface's title), got {title!r}")
    png, scene = _render(trajs, steps, loss_panel=loss_panel, projector=projector,
                         figsize=figsize, dpi=dpi, title=title)
    note = ""
    if len(steps) < last + 1:
        note = (f"{len(steps)} frames show steps 0–{last}: about one frame every "
                f"{last / max(1, len(steps) - 1):.3g} steps (the paths include every step)")
    description = ", ".join(t.label for t in trajs) + f" on {trajs[0].surface.name}"
    return Player(scene, png, fps=fps, note=note, projector=projector, description=description)


def save_gif(trajs, path, *, fps: float = 10, **options) -> Path:
    """Animate ``trajs`` and write the GIF in one call (for slides); return its path.

    ``options`` are those of :func:`animate` (``frames``, ``loss_panel``, ``projector``, …).
    """
    path = _check_gif_path(path)          # before the drawing, which takes a moment
    return animate(trajs, fps=fps, **options).save_gif(path)


# --- the HTML and its JavaScript ----------------------------------------------------------------
def _static(name: str) -> str:
    """A file of gdviz/static/ (package data: the player's JavaScript and CSS)."""
    if name not in _STATIC:
        _STATIC[name] = resources.files("gdviz").joinpath("static/" + name).read_text("utf-8")
    return _STATIC[name]


_STATIC: dict[str, str] = {}


def _player_html(player: Player, extra: str = "") -> str:
    """The player's HTML; ``extra`` (more controls, from :mod:`gdviz.replay`) goes under the
    frame controls."""
    scene = dict(player._scene, fps=player.fps, scale=_CANVAS_SCALE)
    for private in ("font_file", "css_width"):
        scene.pop(private)
    data = json.dumps(scene, separators=(",", ":"), ensure_ascii=True).replace("<", "\\u003c")
    width, height = scene["width"], scene["height"]
    n = player.n_frames
    sizes = (f"--gdviz-font-size:{17 if player.projector else 13}px;"
             f"--gdviz-max-width:{player._scene['css_width'] + 8}px")
    png = base64.b64encode(player._png).decode("ascii")
    note = f'<div class="gdviz-dim">{html.escape(player.note)}</div>' if player.note else ""
    speeds = "".join(f'<option value="{v}"{" selected" if v == "1" else ""}>{v}×</option>'
                     for v in ("0.25", "0.5", "1", "2", "4"))
    buttons = "".join(f'<button type="button" class="{cls}" title="{tip}" aria-label="{tip}">{icon}</button>'
                      for cls, icon, tip in (("gdviz-first", "|◀", "first frame"),
                                             ("gdviz-prev", "‹", "previous frame"),
                                             ("gdviz-play", "▶ Play", "play"),
                                             ("gdviz-next", "›", "next frame"),
                                             ("gdviz-last", "▶|", "last frame")))
    return (
        f'<div class="gdviz-player" id="{player.id}" data-gdviz-id="{player.id}" '
        f'data-n-frames="{n}" data-frame="{n - 1}" style="{sizes}">'
        f'<style>{_static("player.css")}</style>'
        f'<div class="gdviz-stage"><img alt="{html.escape(player._description)}" '
        f'width="{width}" height="{height}" src="data:image/png;base64,{png}">'
        f'<canvas class="gdviz-canvas" width="{width * _CANVAS_SCALE}" '
        f'height="{height * _CANVAS_SCALE}"></canvas></div>'
        f'<div class="gdviz-controls">{buttons}'
        f'<input type="range" class="gdviz-slider" min="0" max="{n - 1}" step="1" value="{n - 1}" '
        f'aria-label="frame">'
        f'<span>step <b class="gdviz-step">{player.steps[-1]}</b> / {scene["last_step"]}'
        f' <span class="gdviz-dim">· frame <span class="gdviz-frame">{n - 1}</span> (0–{n - 1})</span></span>'
        f'<select class="gdviz-speed" aria-label="speed">{speeds}</select>'
        f'<label><input type="checkbox" class="gdviz-loop" checked> loop</label></div>{extra}'
        f'<div class="gdviz-status" aria-live="polite"></div>{note}'
        f'<div class="gdviz-nojs gdviz-dim">The animation needs JavaScript: run the cell, or trust '
        f'the notebook (File ▸ Trust Notebook).</div>'
        f'<script type="application/json" class="gdviz-data">{data}</script>'
        f'<script>{_static("player.js")}({json.dumps(player.id)});</script>'
        f'</div>')
