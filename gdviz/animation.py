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
player, and by Pillow on copies of the PNG in the GIF (that description and its Pillow
drawing are :mod:`gdviz.scene`; the live explorer draws its pictures with them too). 60
frames take ~0.1 MB and ~0.3 s instead of the ~6 MB and ~10 s of matplotlib's
``FuncAnimation.to_jshtml()`` for the same picture (``benchmarks/bench_animation.py``).

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
from .plotting._common import _as_trajectories
from .scene import MOVING_GIDS, Compositor, _clip, _color, _font_file, describe
from .trajectory import Trajectory

__all__ = ["animate", "save_gif", "Player", "MAX_DEFAULT_FRAMES"]

#: Runs longer than this many steps are shown in this many frames (+1 for the start), evenly
#: subsampled, unless ``frames`` is given.
MAX_DEFAULT_FRAMES = 120
MAX_FPS = 50                      # browsers slow GIF frames shorter than 20 ms down to 100 ms
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
        shapes = []

        def add(shape):
            shapes.append(shape)
            return len(shapes) - 1

        moving = describe(panels, lines, trajs, height=height, width=width, dpi=fig.dpi, add=add)
        x, y = counter.get_transform().transform(counter.get_position())
        rc = matplotlib.rcParams
        scene = {
            "width": width, "height": height, "steps": [int(s) for s in steps], "last_step": last,
            "panels": [{"clip": _clip(p, height)} for p in panels],
            **moving, "shapes": shapes,
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
        return Compositor(self._scene, self._png).frame(i)

    def save_gif(self, path, fps: float | None = None) -> Path:
        """Write the animation as a looping GIF (for slides); return its path.

        ``fps`` defaults to the player's. The last frame is held for a second.
        """
        fps = self.fps if fps is None else _check_fps(fps)
        path = _check_gif_path(path)
        _write_gif(Compositor(self._scene, self._png), self.n_frames, fps, path)
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


def _write_gif(compositor: Compositor, n_frames: int, fps: float, path: Path) -> None:
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
        scene.pop(private, None)
    data = json.dumps(scene, separators=(",", ":"), ensure_ascii=True).replace("<", "\\u003c")
    width, height = scene["width"], scene["height"]
    n = player.n_frames
    sizes = (f"--gdviz-font-size:{17 if player.projector else 13}px;"
             f"--gdviz-max-width:{player._scene.get('css_width', width) + 8}px")
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
        f'<script>{_static("scene_draw.js")}\n{_static("player.js")}({json.dumps(player.id)});</script>'
        f'</div>')
