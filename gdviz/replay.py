r"""A replay: the animation player with an η slider whose positions were computed in advance.

    from gdviz.replay import replay
    replay(["Adam", "AdamW"], "himmelblau", steps=200, lr=0.1)   # plays in a saved notebook too

For every η of a grid (by default the explorer's own η slider grid) each optimizer is run in
**one vectorized run** over the stacked η values (each column follows exactly the arithmetic of
:func:`gdviz.run`, noise included), and the animation's scene (:mod:`gdviz.animation`) gets
*variants*: one background, and per optimizer and η the moving parts (path, loss curve, ▼
marks, the ✕ and "diverged at step k" note of a diverged run) in pixels. The same JavaScript
as the plain player (``gdviz/static/player.js``) draws them; an η range input per optimizer
picks the variant, beside the frame slider and Play, and its readout (η as the explorer shows
it, the final loss or the divergence) is text computed here and shipped as data.

The explorer (:mod:`gdviz.explorer`) shows such a replay of its current settings to a reader
without a kernel (nbconvert HTML, nbviewer, a course page).

Player contract, beyond :mod:`gdviz.animation`'s: one ``input.gdviz-variant`` (``type=range``,
``data-optimizer`` the optimizer) per optimizer, its η in ``.gdviz-variant-value`` and its
result in ``.gdviz-variant-readout`` of the same ``.gdviz-variant-row``; the root's
``data-variants`` lists the chosen indices ("3,17"); ``root.gdvizPlayer.choose(c, i)`` picks
variant ``i`` of optimizer ``c``.
"""
from __future__ import annotations

import dataclasses
import html
import math

import numpy as np

from . import plotting
from .animation import (Player, _check_figsize, _check_flag, _check_fps, _check_gif_path,
                        _write_gif, _frame_steps, _is_wide, _number, _player_html, _render)
from .hyperparams import grid_text, log_grid
from .optimizers import optimizer_class
from .plotting import artist_ids as ids
from .scene import Compositor, _drawn_part, _line_shape
from .schedules import Schedule
from .trajectory import Trajectory, stacked_runs

__all__ = ["replay", "Replay", "stacked_runs", "encode_path", "decode_path"]

_DIGITS = 1            # pixel coordinates are shipped to 0.1 px


# --- one vectorized run over stacked η -------------------------------------------------------
# --- the replay ----------------------------------------------------------------------------------
class Replay(Player):
    """An animation with an η slider per optimizer, replayed in the browser without a kernel.

    Made by :func:`replay`. Besides :class:`~gdviz.animation.Player`'s attributes:
    ``optimizers``; ``lrs`` (optimizer → the η grid); ``chosen`` (optimizer → the index the
    slider starts at); ``variants`` (optimizer → the runs, one per η).
    """

    def __init__(self, scene, png, *, runs: dict[str, list[Trajectory]], chosen: dict[str, int],
                 **options):
        super().__init__(scene, png, **options)
        self.variants = runs
        self.optimizers = list(runs)
        self.lrs = {name: np.array([t.optimizer.lr for t in ts]) for name, ts in runs.items()}
        self.chosen = dict(chosen)

    def to_html(self) -> str:
        if self._html is None:
            self._html = _player_html(self, extra=_variant_rows(self))
        return self._html

    def _compositor(self, chosen):
        picked = {**self.chosen, **(chosen or {})}
        unknown = sorted(set(picked) - set(self.optimizers))
        if unknown:
            raise ValueError(f"chosen: this replay has no optimizer(s) {unknown}; "
                             f"it has {', '.join(self.optimizers)}")
        picks = [_number(f"chosen[{name!r}] (an η index, 0 … {len(self.variants[name]) - 1})",
                         picked[name], 0, len(self.variants[name]) - 1, integer=True)
                 for name in self.optimizers]
        return Compositor(_chosen_scene(self._scene, picks), self._png)

    def frame_image(self, i: int, chosen: dict[str, int] | None = None):
        """Frame ``i`` with the variants ``chosen`` (optimizer → η index; by default the ones
        the sliders start at), drawn by Pillow as the player draws it."""
        i = _number(f"i (a frame index, this replay has {self.n_frames})", i, 0, self.n_frames - 1,
                    integer=True)
        return self._compositor(chosen).frame(i)

    def save_gif(self, path, fps: float | None = None, chosen: dict[str, int] | None = None):
        """The animation at the variants ``chosen`` (default: where the sliders start) as a GIF."""
        fps = self.fps if fps is None else _check_fps(fps)
        compositor = self._compositor(chosen)
        path = _check_gif_path(path)
        _write_gif(compositor, self.n_frames, fps, path)
        return path

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(v)} η" for v in self.lrs.values())
        return f"<Replay {self._description}: {sizes}, {self.n_frames} frames>"


def _variant_rows(player: Replay) -> str:
    rows = []
    for c, variant in enumerate(player._scene["variants"]):
        i, n = variant["start"], len(variant["texts"])
        rows.append(
            f'<div class="gdviz-variant-row"><label>{html.escape(variant["label"])} '
            f'<input type="range" class="gdviz-variant" data-control="{c}" '
            f'data-optimizer="{html.escape(variant["optimizer"])}" min="0" max="{n - 1}" step="1" '
            f'value="{i}" aria-label="{html.escape(variant["label"])}"></label> '
            f'= <b class="gdviz-variant-value">{html.escape(variant["texts"][i])}</b> — '
            f'<span class="gdviz-variant-readout">{html.escape(variant["readouts"][i])}</span></div>')
    return "".join(rows)


def _chosen_scene(scene: dict, picks: list[int]) -> dict:
    """The plain scene (as :mod:`gdviz.animation` draws it) of one choice of variants: what
    player.js's ``choose`` does, in Python (for :meth:`Replay.frame_image` and the tests)."""
    out = dict(scene, paths=[dict(p) for p in scene["paths"]], marks=[], sprites=[])
    for variant, i in zip(scene["variants"], picks):
        option = variant["options"][i]
        for panel, (path_index, text) in enumerate(zip(variant["paths"], option["xy"])):
            if panel == 0:
                xy = decode_path(text, 2)
            else:               # the loss panel: y only, x from the step
                a, b = variant["loss_x"]
                xy = [v for k, y in enumerate(decode_path(text, 1)) for v in (round(a + b * k, 1), y)]
            out["paths"][path_index].update(xy=xy, diverged_at=option["diverged_at"],
                                            note=option["note"])
        if option["marks"]:
            out["marks"].append(dict(variant["mark"], xy=decode_path(option["marks"][0], 2),
                                     steps=option["marks"][1]))
        if option["sprite"]:
            image, x, y = option["sprite"]
            out["sprites"].append({"png": scene["images"][image], "x": x, "y": y,
                                   "from": option["diverged_at"]})
    return out


def _pixels(transform, xy: np.ndarray, height: float) -> np.ndarray:
    """Data points to image pixels (x right, y down), NaN where not finite."""
    px = transform.transform(xy)
    px[:, 1] = height - px[:, 1]
    return px


_NULL = "!"           # a point that is not finite (the pen lifts), in an encoded path
_CHUNKS = 7           # 5 bits each: |values| < 2^34 tenths of a pixel


def encode_path(values) -> str:
    """Pixel coordinates (an (n, 2) array of x, y or a flat one of y; NaN where not finite) as
    text, like Google's polyline encoding: each number is its change, in tenths of a pixel,
    from the last finite number of the same column, zig-zagged and written 5 bits to a
    character from "?" on; NaN is "!". A converging path is mostly one character a number,
    against six for "123.4,". :func:`decode_path` and player.js's ``decode`` read it back."""
    values = np.asarray(values, dtype=float)
    return encode_many([values.reshape(-1, 2 if values.ndim == 2 else 1)])[0]


def encode_many(tables: list) -> list[str]:
    """:func:`encode_path` of several tables with the same number of columns, in one go."""
    table = np.concatenate(tables)
    starts = np.repeat(np.cumsum([0, *map(len, tables[:-1])]), list(map(len, tables)))
    finite = np.isfinite(table)
    tenths = np.where(finite, np.round(np.clip(np.where(finite, table, 0), -1e9, 1e9) * 10 ** _DIGITS), 0)
    tenths = tenths.astype(np.int64)
    # the last finite value of each column before each row of its own table (0 before the first)
    rows = np.where(finite, np.arange(len(table))[:, None], -1)
    previous = np.vstack([np.full((1, table.shape[1]), -1), np.maximum.accumulate(rows, axis=0)[:-1]])
    previous = np.where(previous >= starts[:, None], previous, -1)
    before = np.where(previous >= 0, np.take_along_axis(tenths, np.maximum(previous, 0), axis=0), 0)
    change = (tenths - before).ravel()
    zig = (change << 1) ^ (change >> 63)
    shifts = 5 * np.arange(_CHUNKS)
    more = (zig[:, None] >> (shifts + 5)) > 0
    chars = (((zig[:, None] >> shifts) & 31) | np.where(more, 32, 0)) + 63
    first = np.arange(_CHUNKS) == 0
    finite = finite.ravel()[:, None]
    chars = np.where(finite, chars, np.where(first, ord(_NULL), 0))
    keep = np.concatenate([np.ones((len(zig), 1), bool), more[:, :-1]], 1) & (finite | first)
    text = chars[keep].astype(np.uint8).tobytes().decode("ascii")
    ends = np.cumsum(keep.sum(1).reshape(-1, table.shape[1]).sum(1))[np.cumsum(list(map(len, tables))) - 1]
    return [text[i:j] for i, j in zip([0, *ends[:-1]], ends)]


def decode_path(text: str, stride: int) -> list:
    """:func:`encode_path`'s numbers back (pixels to 0.1 px; None where not finite)."""
    out, last, column, i = [], [0] * stride, 0, 0
    while i < len(text):
        if text[i] == _NULL:
            out.append(None)
            i += 1
        else:
            value, shift = 0, 0
            while True:
                bits = ord(text[i]) - 63
                i += 1
                value |= (bits & 31) << shift
                shift += 5
                if bits < 32:
                    break
            last[column] += -(value + 1) // 2 if value & 1 else value // 2
            out.append(last[column] / 10 ** _DIGITS)
        column = (column + 1) % stride
    return out


def _probe(traj: Trajectory, surface) -> Trajectory:
    """A made-up run that shows every moving part a variant can have (✕ beyond the view with
    its note, a loss gap of 0 with its ▼), so plotting draws them once in its own style."""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    far = (x1 + (x1 - x0), y1 + (y1 - y0))
    return dataclasses.replace(traj, points=np.array([traj.points[0], far]),
                               losses=np.array([traj.losses[0], surface.min_value]),
                               diverged_at=1, divergence_reason="probe")


def _add_variants(runs: dict[str, list[Trajectory]], chosen: dict[str, int], colors, notes: bool = True):
    """The ``extend`` hook of :func:`gdviz.animation._render`: each optimizer's variants
    (``notes=False``: without the pictures of the notes of runs that left the view)."""

    def extend(scene, fig, panels, lines, add):
        height, px_per_pt = scene["height"], fig.dpi / 72
        ax, loss_ax = panels[0], panels[1] if len(panels) > 1 else None
        images, variants, sprite_of = [], [], {}
        for c, (name, trajs) in enumerate(runs.items()):
            before = {id(a) for panel in panels for a in (*panel.lines, *panel.texts)}
            probe = _probe(trajs[chosen[name]], trajs[0].surface)
            plotting.plot_trajectory(probe, ax, color=colors[c], contour=False, legend=False,
                                     zorder=3 + 0.01 * c)
            if loss_ax is not None:
                plotting.plot_loss([probe], loss_ax, colors=[colors[c]], legend=False)
            made = [a for panel in panels for a in (*panel.lines, *panel.texts)
                    if id(a) not in before]
            crosses = [a for a in made if a.get_gid() == ids.DIVERGED]
            at_min = next((a for a in made if a.get_gid() == ids.AT_MINIMUM), None)
            path_indices = [c + k * len(runs) for k in range(len(panels))]
            for index, cross in zip(path_indices, crosses):
                scene["paths"][index]["cross"] = add(_line_shape(cross, px_per_pt))
                scene["paths"][index]["cross_clip"] = bool(cross.get_clip_on())
            loss_x = None
            if loss_ax is not None:         # the loss panel's x is the step: k ↦ a + b·k
                a, b = _pixels(lines[1][c].get_transform(), np.array([[0.0, 1.0], [1.0, 1.0]]),
                               height)[:, 0]
                loss_x = [round(float(a), 3), round(float(b - a), 5)]
            # every variant's pixels in one transform per panel, then encoded in one go
            lengths = [len(t.points) for t in trajs]
            bounds = np.cumsum([0, *lengths])
            path_px = _pixels(lines[0][c].get_transform(), np.concatenate([t.points for t in trajs]),
                              height)
            tables = [_trimmed(path_px[i:j]) for i, j in zip(bounds[:-1], bounds[1:])]
            encoded = [encode_many(tables)]
            marks = [None] * len(trajs)
            if loss_ax is not None:
                gap = np.concatenate([t.losses for t in trajs]) - trajs[0].surface.min_value
                k = np.concatenate([np.arange(n, dtype=float) for n in lengths])
                with np.errstate(divide="ignore", invalid="ignore"):
                    ys = _pixels(lines[1][c].get_transform(), np.column_stack([k, gap]), height)[:, 1]
                encoded.append(encode_many([ys[i:j, None] for i, j in zip(bounds[:-1], bounds[1:])]))
                zero = gap <= 0
                if zero.any() and at_min is not None:
                    mark_px = _pixels(at_min.get_transform(),
                                      np.column_stack([k, np.full(len(k), 0.015)]), height)
                    for v, (i, j) in enumerate(zip(bounds[:-1], bounds[1:])):
                        if zero[i:j].any():
                            marks[v] = [encode_path(mark_px[i:j][zero[i:j]]),
                                        [int(s) for s in k[i:j][zero[i:j]]]]
            options = [{"xy": [panel[v] for panel in encoded], "marks": marks[v],
                        "diverged_at": traj.diverged_at,
                        "note": (plotting.diverged_label(traj.name, traj.diverged_at)
                                 if traj.diverged else None),
                        "sprite": (_note_sprite(traj, ax, colors[c], fig, scene, images, sprite_of)
                                   if notes else None)}
                       for v, traj in enumerate(trajs)]
            mark = ({"panel": 1, "shape": add(_line_shape(at_min, px_per_pt)),
                     "clip": bool(at_min.get_clip_on())} if at_min is not None else None)
            for artist in made:
                artist.remove()
            variants.append({
                "optimizer": name, "label": f"η · {name}" if len(runs) > 1 else "η",
                "paths": path_indices, "mark": mark, "start": chosen[name], "loss_x": loss_x,
                "texts": [grid_text(float(t.optimizer.lr)) for t in trajs],
                "readouts": [("✕ " if t.diverged else "") + t.message for t in trajs],
                "options": options})
        scene.update(variants=variants, images=images, marks=[], sprites=[])

    return extend


def _trimmed(xy: np.ndarray) -> np.ndarray:
    """A path's pixels without its trailing repeats (a converged run sits still at 0.1 px): the
    player holds the last point for the steps after it."""
    tenths = np.round(xy * 10 ** _DIGITS)
    moved = ~((tenths == tenths[-1]) | (np.isnan(tenths) & np.isnan(tenths[-1]))).all(axis=1)
    end = int(np.flatnonzero(moved)[-1]) + 2 if moved.any() else 1
    return xy[:end]


#: Note sprites already drawn: (text, alignment, colours, size, dpi) → (PNG, offset from the
#: anchor). A note's picture depends on nothing else, so a re-run cell reuses them.
_NOTE_SPRITES: dict = {}
_NOTE_SPRITES_KEPT = 512


def _note_sprite(traj, ax, color, fig, scene, images, sprite_of):
    """(image index, x, y) of the "diverged at step k →" note a diverged run that left the view
    gets, drawn by plotting itself; each distinct note is drawn once and placed by its anchor."""
    if not traj.diverged:
        return None
    before = list(ax.texts)
    plotting.paths._note_off_view(ax, traj, color)
    note = next((a for a in ax.texts if a not in before), None)
    if note is None:
        return None
    try:
        anchor = ax.transData.transform(note.xy)
        patch = note.get_bbox_patch()
        key = (note.get_text(), note.get_ha(), note.get_va(), note.get_fontsize(),
               note.get_fontweight(), str(note.get_color()), str(patch.get_edgecolor()),
               patch.get_linewidth(), fig.dpi)
        if key not in _NOTE_SPRITES:
            if len(_NOTE_SPRITES) >= _NOTE_SPRITES_KEPT:
                _NOTE_SPRITES.pop(next(iter(_NOTE_SPRITES)))
            _NOTE_SPRITES[key] = _note_png(note, fig, anchor)
        if key not in sprite_of:
            images.append(_NOTE_SPRITES[key][0])
            sprite_of[key] = len(images) - 1
        _, dx, dy = _NOTE_SPRITES[key]
        # the offset is from the anchor's pixel: the sprite sits a whole number of pixels from
        # where plotting would draw the note, so its pixels are the same
        return [sprite_of[key], math.floor(anchor[0]) + dx, scene["height"] - math.floor(anchor[1]) + dy]
    finally:
        note.remove()


def _note_png(note, fig, anchor) -> tuple[str, int, int]:
    """Draw a note alone on a small transparent canvas with its anchor at the same place within
    a pixel (so the same pixels as in the figure): (base64 PNG, left, top), in pixels from the
    anchor's pixel (column ⌊x⌋, row height − ⌊y⌋)."""
    from matplotlib.backends.backend_agg import RendererAgg
    size = note.get_fontsize() * fig.dpi / 72                # in pixels
    # room for the text on either side of the anchor (no glyph is wider than 1.2 em), its
    # box's padding and edge
    reach_x = int(math.ceil((1.2 * len(note.get_text()) + 4) * size))
    reach_y = int(math.ceil(4 * size))
    xy, coords = note.xy, note.xycoords
    note.xycoords = "figure pixels"              # the anchor at (reach_x, reach_y) + its fraction
    note.xy = (anchor[0] - math.floor(anchor[0]) + reach_x, anchor[1] - math.floor(anchor[1]) + reach_y)
    try:
        small = RendererAgg(2 * reach_x, 2 * reach_y, fig.dpi)
        note.draw(small)
    finally:
        note.xy, note.xycoords = xy, coords
    png, left, top = _drawn_part(small)
    return png, left - reach_x, top - reach_y


def _setting_label(name: str, fixed: dict, noise: float, schedule) -> str:
    """The legend label of a replayed optimizer: its settings but η, which the slider shows."""
    cls = optimizer_class(name)
    parts = [f"{hp.symbol}={float(fixed.get(hp.name, hp.default)):.3g}"
             for hp in cls.hyperparameters if hp.name != "lr"]
    if noise:
        parts.append(f"σ={noise:.3g}")
    if schedule is not None and not schedule.is_constant:
        parts.append(schedule.label)
    return f"{name} ({', '.join(parts)})" if parts else name


def replay(optimizers, surface="elongated_bowl", *, steps: int = 30, lr: float | None = None,
           lrs=None, start=None, noise: float = 0.0, seed: int | None = 0,
           schedule: Schedule | None = None, fps: float = 10, projector: bool = False,
           figsize=None, title: str | None = None, hyperparameters: dict | None = None,
           **shared) -> Replay:
    """A player whose η slider (one per optimizer) replays runs computed in advance.

    ``optimizers`` is a name or a list of names. ``lrs`` is the η grid (a list, or a dict
    optimizer → list); by default the explorer's η slider grid (two significant digits, 90
    values a decade over the slider's range) with ``lr`` (default: the optimizer's) on it;
    the slider starts at ``lr``. The other hyperparameters are fixed: ``**shared`` for every
    optimizer that has them, ``hyperparameters`` = {optimizer: {name: value}} per optimizer
    (an ``"lr"`` there is where that optimizer's slider starts).
    ``steps``, ``start``, ``noise``, ``seed`` and ``schedule`` are :func:`gdviz.run`'s; the
    frames are :func:`gdviz.animation.animate`'s (runs over 120 steps subsampled).

    Displaying the result shows the player; ``nbytes`` is its size.
    """
    names = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not names or not all(isinstance(n, str) for n in names):
        raise TypeError(f"optimizers must be a name such as 'Adam' or a list of names, got {optimizers!r}")
    names = [optimizer_class(n).__name__ for n in names]
    if len(set(names)) != len(names):
        raise ValueError(f"optimizers: list each optimizer once, got {names}")
    fps = _check_fps(fps)
    projector = _check_flag("projector", projector)
    per, current = {}, {}
    for name in names:
        known = {hp.name for hp in optimizer_class(name).hyperparameters}
        per[name] = {k: v for k, v in shared.items() if k in known}
        per[name].update((hyperparameters or {}).get(name, {}))
        current[name] = per[name].pop("lr", lr)
    unknown = sorted(set(shared) - {hp.name for n in names for hp in optimizer_class(n).hyperparameters})
    if unknown:
        raise TypeError(f"{' and '.join(names)} take(s) no hyperparameter(s) {unknown}")
    runs, chosen = {}, {}
    for name in names:
        lr_hp = next(hp for hp in optimizer_class(name).hyperparameters if hp.name == "lr")
        at = (lr_hp.default if current[name] is None
              else lr_hp.validate(current[name], owner=f"replay({name})"))
        grid = lrs.get(name) if isinstance(lrs, dict) else lrs
        grid = log_grid(*lr_hp.slider, keep=(at,)) if grid is None else np.asarray(grid, float)
        runs[name] = stacked_runs(name, surface, start, steps, lrs=grid, noise=noise, seed=seed,
                                  schedule=schedule, **per[name])
        chosen[name] = int(np.argmin(np.abs(np.log(np.asarray(grid)) - math.log(at))))
    first = runs[names[0]][0]
    surface = first.surface
    frames = _frame_steps(first.steps, None)
    wide = _is_wide(surface)
    figsize = _check_figsize(figsize, ((9.0, 7.5) if projector else (6.0, 5.0)) if wide
                             else ((11.0, 6.0) if projector else (8.0, 4.2)))
    title = surface.title if title is None else title
    # the still parts from run-length copies of the starting runs, without their divergence
    # (the ✕ and notes are moving parts); the loss range covers every variant
    templates = [dataclasses.replace(runs[n][chosen[n]], diverged_at=None) for n in names]
    colors = [plotting.optimizer_color(n) for n in names]
    gaps = [np.column_stack([np.arange(len(t.losses)), t.losses - surface.min_value])
            for ts in runs.values() for t in ts]
    gaps = np.concatenate(gaps)
    gaps = gaps[np.isfinite(gaps[:, 1]) & (gaps[:, 1] > 0)]
    png, scene = _render(templates, frames, loss_panel=True, projector=projector, figsize=figsize,
                         dpi=100.0, title=title,
                         labels=[_setting_label(n, per[n], noise, schedule) for n in names],
                         loss_points=np.vstack([gaps, [[first.steps, gaps[0, 1]]]]),
                         extend=_add_variants(runs, chosen, colors))
    scene["last_step"] = first.steps
    count = ", ".join(f"{len(runs[n])}" for n in names)
    note = (f"η values computed in advance ({count} per optimizer, each a vectorized run of "
            f"{first.steps} steps); the other settings are fixed.")
    if len(frames) < first.steps + 1:
        note += f" {len(frames)} frames show steps 0–{first.steps} (the paths include every step)."
    return Replay(scene, png, runs=runs, chosen=chosen, fps=fps, note=note, projector=projector,
                  description=f"{', '.join(names)} on {surface.name}")

