r"""A scene: one picture of optimizer paths as data, and Pillow's drawing of it.

matplotlib draws what does not move (contours, axes, labels, legend, the stability map) once,
into a background picture. What moves (each run's path and loss curve, the marker where it
is, the ✕ where it diverged, the ▼ where its loss reached the minimum, the notes that say
when) is described here as data: pixel coordinates computed from each artist's own
``transData``, marker shapes as polygons, notes as small pictures. :func:`describe` makes that
description from the artists ``gdviz.plotting`` draws; three things draw it:

* JavaScript (``static/scene_draw.js``) on a canvas over the background: the animation
  player's, in the notebook and in a saved page (:mod:`gdviz.animation`, :mod:`gdviz.replay`,
  and the explorer for a reader without a kernel), and the live explorer's page, which draws
  an η's picture itself until the kernel's comes (:mod:`gdviz.explorer.page_drawing`);
* :class:`Compositor` with Pillow, on copies of the background: each frame of a GIF
  (:func:`gdviz.animation.save_gif`), and each picture of the live explorer
  (:mod:`gdviz.explorer.figure`).

A scene is a dict (it goes to the page as JSON): ``width``, ``height``; ``steps`` (the step
each frame shows) and ``last_step``; ``panels`` (each one's clip box); ``paths``, ``marks``,
``stamps``, ``sprites`` and ``shapes`` (below); ``counter`` (where "step k / n" goes, or
None); ``on_top`` (boxes of the background drawn again over the paths: a legend inside a
panel). Pixel boxes are ``[left, top, right, bottom]``, y down.
"""
from __future__ import annotations

import base64
import io
import itertools
import json
import math
import threading

import numpy as np

from . import plotting
from .plotting import artist_ids as ids

__all__ = ["describe", "sprite", "Compositor", "STILL_GIDS", "MOVING_GIDS"]

SUPERSAMPLE = 3                  # Pillow draws the moving parts 3× larger, then reduces them


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


def _sprite_png(artist, width: int, height: int, dpi: float) -> tuple[str, float, float]:
    """Render one artist alone on a transparent canvas: (base64 PNG, left, top) in pixels."""
    from matplotlib.backends.backend_agg import RendererAgg
    key = (width, height, dpi)
    # one canvas per thread, cleared for each artist (the live explorer draws a few per
    # picture; explorers may draw on the kernel's main thread and a widget thread at once)
    if getattr(_RENDERER, "key", None) != key:
        _RENDERER.key, _RENDERER.canvas = key, RendererAgg(width, height, dpi)
    else:
        _RENDERER.canvas.clear()
    renderer = _RENDERER.canvas
    artist.set_visible(True)
    artist.draw(renderer)
    artist.set_visible(False)
    png, left, top = _drawn_part(renderer)
    return png, float(left), float(top)


_RENDERER = threading.local()


def _drawn_part(renderer) -> tuple[str, int, int]:
    """What was drawn on a transparent Agg canvas, cropped: (base64 PNG, left, top)."""
    from PIL import Image
    rgba = np.asarray(renderer.buffer_rgba())
    drawn = rgba[..., 3] != 0
    (rows,), (cols,) = np.nonzero(drawn.any(axis=1)), np.nonzero(drawn.any(axis=0))
    if not len(rows):
        return "", 0, 0
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
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


def describe(panels, lines, trajs, *, height: int, width: int, dpi: float, add,
             kept: dict | None = None) -> dict:
    """The moving parts ``gdviz.plotting`` drew on ``panels`` as a scene's ``paths``,
    ``marks``, ``stamps`` and ``sprites``.

    ``lines[i]`` are panel i's lines of ``trajs`` (one per run, in order); ``add(shape)``
    stores a marker shape in the scene's ``shapes`` and returns its index; ``kept`` is
    :func:`sprite`'s. Call inside ``plotting.style(...)``, with the figure drawn once (its
    transforms are final).
    """
    px_per_pt = dpi / 72
    paths, stamps, marks, sprites = [], [], [], []
    noted: set[int] = set()                  # the runs whose divergence note is placed
    for index, (panel, panel_lines) in enumerate(zip(panels, lines)):
        crosses = iter(a for a in panel.lines if a.get_gid() == ids.DIVERGED)
        for traj, line in zip(trajs, panel_lines):
            cross = next(crosses) if traj.diverged else None
            paths.append({"panel": index, "xy": _pixels(line, height),
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
                drawn = sprite(artist, width, height, dpi, shown_from=step, kept=kept)
                if drawn is not None:
                    sprites.append(drawn)
    return {"paths": paths, "stamps": stamps, "marks": marks, "sprites": sprites}


def sprite(artist, width: int, height: int, dpi: float, *, shown_from: int = 0,
           kept: dict | None = None) -> dict | None:
    """Any artist as a scene's sprite: its picture alone, where it goes, and the first step
    it shows at (None if it draws nothing). The artist is left hidden.

    ``kept`` (a dict the caller empties whenever its axes change) keeps each picture under
    what the artist draws, so the same note on the same axes is drawn once.
    """
    key = _drawing_of(artist) if kept is not None else None
    if key is not None and key in kept:
        artist.set_visible(False)
        png, left, top = kept[key]
    else:
        png, left, top = _sprite_png(artist, width, height, dpi)
        if key is not None:
            kept[key] = png, left, top
    return {"png": png, "x": left, "y": top, "from": int(shown_from)} if png else None


def _drawing_of(artist):
    """What a text or a line draws, as a key (on axes that stay as they are), else None."""
    from matplotlib.lines import Line2D
    from matplotlib.text import Annotation, Text
    common = (type(artist).__name__, id(artist.get_transform()), str(artist.get_color()),
              artist.get_zorder(), artist.get_clip_on())
    if isinstance(artist, Text):
        # an annotation's position is its text's offset from where it points (the same for
        # every note): where it points is part of what it draws
        anchor = ((tuple(map(float, artist.xy)), str(artist.xycoords), str(artist.anncoords),
                   _box_style(artist)) if isinstance(artist, Annotation) else ())
        return (*common, artist.get_text(), tuple(artist.get_position()), *anchor, artist.get_ha(),
                artist.get_va(), artist.get_rotation(), artist.get_fontsize(),
                artist.get_fontfamily()[0], artist.get_fontweight())
    if isinstance(artist, Line2D):
        return (*common, np.asarray(artist.get_xydata(), dtype=float).tobytes(),
                artist.get_linestyle(), artist.get_linewidth(), artist.get_marker(),
                artist.get_markersize(), str(artist.get_markerfacecolor()),
                str(artist.get_markeredgecolor()), artist.get_markeredgewidth())
    return None


def _box_style(text) -> tuple:
    """The frame drawn around a text, as a key (its colours and line)."""
    patch = text.get_bbox_patch()
    if patch is None:
        return ()
    return (str(patch.get_boxstyle()), str(patch.get_edgecolor()), str(patch.get_facecolor()),
            patch.get_linewidth())


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


# --- a scene drawn by Pillow: a GIF's frames, the live explorer's pictures ----------------------
class Compositor:
    """Draws frame i of a scene onto copies of its background, as the player's JavaScript does.

    The background and its panels (enlarged s×) are prepared once; :meth:`use` swaps in
    another scene over the same background (the live explorer draws a new one per picture),
    and a marker drawn once is kept for every scene after.
    """

    def __init__(self, scene: dict, background, supersample: int = SUPERSAMPLE):
        from PIL import Image
        self.s = supersample
        self.background = (background if isinstance(background, Image.Image)
                           else Image.open(io.BytesIO(background))).convert("RGB")
        # each panel's background, enlarged s× (nearest): drawing on it and box-reducing by s
        # gives back the background pixels exactly wherever nothing was drawn
        self.panels = []
        for panel in scene["panels"]:
            x0, y0, x1, y1 = panel["clip"]
            box = (int(math.floor(x0)), int(math.floor(y0)), int(math.ceil(x1)), int(math.ceil(y1)))
            crop = self.background.crop(box)
            self.panels.append((box, crop.resize((crop.width * supersample, crop.height * supersample),
                                                 _resampling().NEAREST)))
        self._markers: dict[str, tuple] = {}    # a shape (as JSON) -> its sprites, s× and 1×
        self._layers = [large.copy() for _, large in self.panels]   # drawn on, frame after frame
        self._drawn: list = [None] * len(self.panels)   # where on each the last frame drew
        self.use(scene)

    def use(self, scene: dict) -> "Compositor":
        """Draw ``scene`` from now on: the same panels over the same background."""
        from PIL import Image, ImageFont
        if len(scene["panels"]) != len(self.panels):
            raise ValueError("a scene drawn over this background must have its panels")
        self.scene = scene
        self._shape_keys = [json.dumps(shape, sort_keys=True) for shape in scene.get("shapes", ())]
        self.notes = [(Image.open(io.BytesIO(base64.b64decode(n["png"]))).convert("RGBA"),
                       (n["x"], n["y"], n["from"])) for n in scene["sprites"]]
        self.on_top = [tuple(int(v) for v in box) for box in scene.get("on_top", ())]
        counter = scene.get("counter")
        self.font = None
        if counter is not None:
            try:
                self.font = ImageFont.truetype(scene["font_file"], max(1, round(counter["size"])))
            except OSError:             # font moved since the scene was made
                self.font = ImageFont.load_default()
        return self

    def frame(self, i: int):
        from PIL import ImageDraw
        scene, s = self.scene, self.s
        step = scene["steps"][i]
        image = self.background.copy()
        loose = []                       # what matplotlib draws with clip_on=False
        for index, ((box, large), layer) in enumerate(zip(self.panels, self._layers)):
            # the panel's s× layer is the enlarged background again where the last frame drew
            # (copying all of it for each frame takes longer than the drawing)
            if self._drawn[index] is not None:
                layer.paste(large.crop(self._drawn[index]), self._drawn[index][:2])
            left, top = box[:2]
            extent = [math.inf, math.inf, -math.inf, -math.inf]
            loose += self._draw_panel(layer, index, step,
                                      lambda x, y: ((x - left) * s, (y - top) * s), extent)
            drawn = self._drawn[index] = _whole_pixels(extent, s, layer.size)
            if drawn is not None:       # the rest of the panel is the background already
                image.paste(layer.reduce(s, box=drawn), (left + drawn[0] // s, top + drawn[1] // s))
        for shape, x, y in loose:
            small, offset = self._sprite(shape, small=True)
            image.paste(small, (int(round(x - offset)), int(round(y - offset))), small)
        for box in self.on_top:          # the background's own pixels over the paths
            image.paste(self.background.crop(box), box[:2])
        for sprite, (x, y, start) in self.notes:
            if step >= start:
                image.paste(sprite, (int(round(x)), int(round(y))), sprite)
        counter = scene.get("counter")
        if counter is not None:
            ImageDraw.Draw(image).text((counter["x"], counter["y"]),
                                       _counter_text(step, scene["last_step"]),
                                       font=self.font, fill=counter["color"], anchor="rs")
        return image

    def _draw_panel(self, layer, index, step, to_layer, extent) -> list:
        """Draw what panel ``index`` clips, in the player's order: outlines, lines, markers; ▼
        marks; stamps; heads and ✕; widen ``extent`` (left, top, right, bottom on the layer)
        to hold everything drawn. Return the unclipped (shape, x, y) to draw afterwards."""
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
                        _polyline(draw, run, stroke["color"], width)
                        xs, ys = [x for x, _ in run], [y for _, y in run]
                        _widen(extent, min(xs) - width, min(ys) - width,
                               max(xs) + width, max(ys) + width)
                if marker is not None:
                    self._stamp_all(layer, marker, itertools.chain(*runs), extent)
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
                            self._stamp(layer, mark["shape"], to_layer(x, y), extent)
                        else:
                            loose.append((mark["shape"], x, y))
        for stamp in self.scene["stamps"]:
            if stamp["panel"] == index:
                self._stamp(layer, stamp["shape"], to_layer(stamp["x"], stamp["y"]), extent)
        for shape, point in ends:
            self._stamp(layer, shape, point, extent)
        return loose

    def _stamp(self, layer, index, point, extent):
        """Paste marker ``index`` centred on ``point`` of the s× layer."""
        self._stamp_all(layer, index, [point], extent)

    def _stamp_all(self, layer, index, points, extent):
        """Paste marker ``index`` centred on each of ``points``: once per pixel it lands on (a
        run that has settled puts many points on one pixel). Exact: a marker's pixels are
        opaque or clear, so pasting it again where it is changes nothing, in any order."""
        sprite, offset = self._sprite(index)
        for corner in {(int(round(x - offset)), int(round(y - offset))) for x, y in points}:
            layer.paste(sprite, corner, sprite)
            _widen(extent, *corner, corner[0] + sprite.width, corner[1] + sprite.height)

    def _sprite(self, index, small=False):
        """Marker ``index`` of the scene drawn at s× (or that reduced to 1×) and its centre's
        offset; drawn once per shape, whichever scene it comes from."""
        key = self._shape_keys[index]
        if key not in self._markers:
            self._markers[key] = self._draw_marker(self.scene["shapes"][index])
        return self._markers[key][1 if small else 0]

    def _draw_marker(self, shape):
        from PIL import Image, ImageDraw
        s = self.s
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
        return (sprite, centre), (sprite.reduce(s), reach + 0.5)


def _polyline(draw, points, color, width: int) -> None:
    """A polyline with round joins, as the player's canvas draws it: the segments in one call,
    then a disc at each vertex (ImageDraw's own ``joint="curve"`` works out a wedge per
    vertex in Python, ten times slower)."""
    draw.line(points, fill=color, width=width)
    if width > 2:
        r = width / 2 - 1
        for x, y in set(points):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)


def _widen(extent: list, x0, y0, x1, y1) -> None:
    extent[0], extent[1] = min(extent[0], x0), min(extent[1], y0)
    extent[2], extent[3] = max(extent[2], x1), max(extent[3], y1)


def _whole_pixels(extent, s: int, size) -> tuple[int, int, int, int] | None:
    """An extent on an s× layer widened to whole pixels of the picture (multiples of s) and
    cut to the layer; None if nothing was drawn on it."""
    x0, y0 = max(0, math.floor(extent[0] / s) * s), max(0, math.floor(extent[1] / s) * s)
    x1 = min(size[0] // s * s, math.ceil(extent[2] / s) * s)
    y1 = min(size[1] // s * s, math.ceil(extent[3] / s) * s)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _resampling():
    from PIL import Image
    return getattr(Image, "Resampling", Image)


def _counter_text(step: int, last: int) -> str:
    return f"step {step} / {last}"

