r"""The picture of every η, for the page to draw itself: a **sketch**.

Drawing ahead (:mod:`.ahead`) sends the page a picture per η, each drawn by the kernel; the
whole of one η slider takes it seconds after "Run all". A drag in those seconds to a value not
sent yet would wait for the kernel's round trip. So before the first picture, the kernel sends
the page a sketch of the explorer at its current settings: each optimizer run over its whole η
slider in **one vectorized run** (:func:`gdviz.trajectory.stacked_runs`), as the replay a
reader without a kernel gets (:mod:`gdviz.replay`), but in the explorer figure's own pixels,
over its own background: per optimizer and η the moving parts (path, loss curve, ▼ marks, the
✕ and note of a divergence), the explorer's own marks (the loss panel's line and words at the
step a run diverged, the sliders' point on the stability map) and the readout's line. The
page (``gdviz/static/browser_cache.js``) draws the picture of any η from it with the
animation player's drawing (``gdviz/static/scene_draw.js``), over the background, on a canvas
in the picture's place, whenever it holds no picture of the kernel's for the values its
controls reach (and at each value a dragged handle passes); the kernel's own picture replaces
it when it comes. It is sent twice: first without the marks of the runs that diverged (their
words are pictures matplotlib draws one by one, most of the time a sketch takes), so that the
page draws every η whose runs converge a few tenths of a second after "Run all"; then whole.

What the page draws is the explorer's picture to a tenth of a pixel: the vectorized run
follows ``gdviz.run``'s arithmetic (where its last bits differ, on the curved surfaces, the
difference is far below that), the points are the figure's own transforms rounded to 0.1 px,
the notes and words the figure's own pictures (``tests/test_explorer_page_drawing.py``).

A sketch holds while every other control stays where it was (its ``key``: the page's values of
the explorer's controls, η's aside); a move of another control makes a new one. None is made
while Play shows part of the runs, nor when η is off the stability map's axes (the map itself
then changes with η).
"""
from __future__ import annotations

import base64
import dataclasses
import io
import math
import time
from collections.abc import Iterator

from .. import plotting
from ..plotting import optimizer_color
from ..replay import _add_variants
from ..scene import _clip, sprite
from ..trajectory import stacked_runs

__all__ = ["sketch", "sketch_pieces", "sketch_key", "sketch_readout", "sketch_sprites", "PIECE"]


#: Seconds of work after which making a sketch lets the kernel's loop take a message (the
#: drawing ahead it is a part of draws a picture a piece, about as long).
PIECE = 0.02


def sketch_key(settings):
    """What a sketch is made for: the settings but every η (a :class:`~.cache.Settings`)."""
    return dataclasses.replace(settings, hyperparameters=tuple(
        (name, tuple((n, v) for n, v in values if n != "lr"))
        for name, values in settings.hyperparameters))


def sketch(explorer) -> tuple[dict, bytes] | None:
    """The explorer's sketch at its current settings, and its background as PNG bytes; None
    where the page cannot draw η's pictures from one (see the module's text)."""
    made = None
    for out in sketch_pieces(explorer):
        if out is not None:
            made = out
    return made if made is not None and made[0]["complete"] else None


def sketch_pieces(explorer) -> Iterator[tuple[dict, bytes] | None]:
    """:func:`sketch` a piece at a time (drawing ahead takes a piece per turn of the kernel's
    loop): yields None after about PIECE seconds of work, with nothing of its own left on the
    figure, and the sketch (with its background) twice: first without the marks of the runs
    that diverged (``"complete": false``: the page draws every choice of η whose runs all
    converge; the marks, pictures of words, take most of the time), then whole. Stops if a
    control other than η moved meanwhile (a move of η changes nothing it holds)."""
    settings = explorer.settings()
    if settings.shown_step < settings.steps:
        return
    if explorer.stability_map and "lr" not in explorer.stability_map:
        return
    key = explorer.controls.page_values(settings)
    if key is None:
        return
    view = explorer._synced()
    if view.scene is None:
        return

    made_for = sketch_key(settings)

    def moved() -> bool:            # another control moved meanwhile (η may: it is all there)
        return explorer.closed or sketch_key(explorer.settings()) != made_for

    controls = [widget for widget, _ in explorer.controls.picture_controls()]
    sliders = [explorer.hyperparameter_sliders[name]["lr"] for name in explorer.optimizers]
    surface = explorer.controls.surface_named(settings.surface)
    schedule = explorer.controls.schedule_for(settings.schedule, settings.steps)
    runs, chosen = {}, {}
    for name, slider in zip(explorer.optimizers, sliders):
        values = settings.values(name)
        chosen[name] = slider.grid.index(values.pop("lr"))
        runs[name] = stacked_runs(name, surface, settings.start, settings.steps, lrs=slider.grid,
                                  noise=settings.noise, seed=explorer.seed, schedule=schedule,
                                  **values)
        yield None
        if moved():
            return
    scene = {**view.scene, "paths": [dict(p) for p in view.scene["paths"]],
             "shapes": list(view.scene["shapes"]), "sprites": [], "marks": []}

    def add(shape):
        scene["shapes"].append(shape)
        return len(scene["shapes"]) - 1

    axes = [a for a in (view.path_axes, view.loss_axes, view.map_axes) if a is not None]
    before = {id(child) for ax in axes for child in ax.get_children()}
    try:
        with plotting.style(view.style_name):
            _add_variants(runs, chosen, [optimizer_color(n) for n in explorer.optimizers], notes=False)(
                scene, view.figure, [view.path_axes, view.loss_axes],
                [[view.path_lines[n] for n in explorer.optimizers],
                 [view.loss_lines[n] for n in explorer.optimizers]], add)
            _map_marks(explorer, view, settings, runs, scene)
    finally:        # the figure keeps only the artists of its picture
        for ax in axes:
            for child in ax.get_children():
                if id(child) not in before:
                    child.remove()
    for variant in scene["variants"]:       # the replay's own texts: the page has the readout
        del variant["texts"], variant["readouts"]
    yield None
    if moved():
        return
    lines = [[explorer.readout_line(settings.with_value(name, "lr", float(slider.grid[i])), name, traj)
              for i, traj in enumerate(runs[name])]
             for name, slider in zip(explorer.optimizers, sliders)]
    yield None
    if moved():
        return
    buffer = io.BytesIO()
    view.background.save(buffer, format="png", compress_level=1)
    made = {"key": key, "eta_controls": [controls.index(s) for s in sliders], "scene": scene,
            "lines": lines, "tail": explorer.readout_tail(settings), "complete": False}
    yield {**made, "scene": {**scene, "variants": [_copied(v) for v in scene["variants"]]}}, buffer.getvalue()
    for _ in _divergence_marks(explorer, view, runs, scene):
        if moved():
            return
        yield None
    if moved():
        return
    yield {**made, "complete": True}, buffer.getvalue()


def _copied(variant: dict) -> dict:
    """A variant with its own options (the first sketch sent keeps them as they were)."""
    return {**variant, "options": [dict(option) for option in variant["options"]]}


def _placing(view, scene):
    """(store, drawn): ``store(png)`` keeps a picture in ``scene["images"]`` (once) and gives
    its index; ``drawn(artists)`` gives [image, x, y] for each artist, drawn alone as the
    figure draws it (kept: drawing ahead then draws it once), and removes them."""
    width, height = view.canvas.get_width_height()
    dpi, images = view.figure.dpi, scene["images"]
    index_of = {png: i for i, png in enumerate(images)}

    def store(png: str) -> int:
        if png not in index_of:
            index_of[png] = len(images)
            images.append(png)
        return index_of[png]

    def drawn(artists):
        try:
            out = [sprite(a, width, height, dpi, kept=view._sprites) for a in artists]
        finally:
            for artist in artists:
                artist.remove()
        return [[store(d["png"]), d["x"], d["y"]] for d in out if d is not None]

    return store, drawn


def _divergence_marks(explorer, view, runs, scene) -> Iterator[None]:
    """Each variant's marks of a run that diverged, as sprites of ``scene["images"]``: the
    note at the edge it left the view by (``"sprite"``), the loss panel's line and words at
    the step, in each row they can take (``"diverged_step"``: per row, [[image, x, y], …]).
    Yields after about PIECE seconds, with its artists gone."""
    _, drawn = _placing(view, scene)
    began = time.perf_counter()
    rows = range(len(explorer.optimizers))
    step_marks: dict = {}       # (optimizer, step) -> per row
    for variant, (name, trajs) in zip(scene["variants"], runs.items()):
        for option, traj in zip(variant["options"], trajs):
            if not traj.diverged:
                continue
            if time.perf_counter() - began >= PIECE:
                yield               # (a picture drawn meanwhile has the same background)
                began = time.perf_counter()
            with plotting.style(view.style_name):
                # the note at the edge a run left by, if it left the view, as the figure draws
                # it (to its pixel)
                before = list(view.path_axes.texts)
                plotting.paths._note_off_view(view.path_axes, traj, optimizer_color(name))
                note = [t for t in view.path_axes.texts if t not in before]
                option["sprite"] = (drawn(note) or [None])[0]
                if (name, traj.diverged_at) not in step_marks:
                    step_marks[name, traj.diverged_at] = [drawn(view.divergence_step(traj, row))
                                                          for row in rows]
                option["diverged_step"] = step_marks[name, traj.diverged_at]


def _map_marks(explorer, view, settings, runs, scene) -> None:
    """Each variant's point on the stability map (``"setting"``: [image, x, y]): the
    sliders' point drawn once, moved by whole pixels to each η (and cut at the map's edge)."""
    if not explorer.stability_map:
        return
    store, drawn = _placing(view, scene)
    _, height = view.canvas.get_width_height()
    name = explorer.optimizers[0]
    values = settings.values(name)
    point = [values[n] for n in explorer.stability_map]
    (mark,) = drawn([view.mark_setting(point)])
    clip = _clip(view.map_axes, height)
    axis = explorer.stability_map.index("lr")
    # a 1-D map's mark is a line across it: any height will do to find where η puts it
    ref = point if len(point) == 2 else [point[0], sum(view.map_axes.get_ylim()) / 2]
    at = view.map_axes.transData.transform([ref])[0]
    for option, traj in zip(scene["variants"][0]["options"], runs[name]):
        moved = list(ref)
        moved[axis] = float(traj.optimizer.lr)
        shift = view.map_axes.transData.transform([moved])[0] - at
        option["setting"] = _clipped(scene["images"], store, [mark[0], mark[1] + int(round(shift[0])),
                                                             mark[2] - int(round(shift[1]))], clip)


def _clipped(images: list, store, placed: list, clip: list) -> list:
    """A sprite ([image, x, y]) cut to a pixel box (as matplotlib clips an artist to its
    axes): the map's point at either end of η, half outside."""
    from PIL import Image
    i, x, y = placed
    picture = Image.open(io.BytesIO(base64.b64decode(images[i])))
    left, top = max(x, math.floor(clip[0])), max(y, math.floor(clip[1]))
    right = min(x + picture.width, math.ceil(clip[2]))
    bottom = min(y + picture.height, math.ceil(clip[3]))
    if (left, top, right, bottom) == (x, y, x + picture.width, y + picture.height):
        return placed
    buffer = io.BytesIO()
    picture.crop((left - x, top - y, right - x, bottom - y)).save(buffer, format="png")
    return [store(base64.b64encode(buffer.getvalue()).decode("ascii")), left, top]


def sketch_sprites(sketch: dict, picks: list[int]) -> list[dict]:
    """The explorer's own marks of one choice of η indices (one per optimizer), as a scene's
    sprites after the variants' notes: what browser_cache.js adds, in Python (for tests)."""
    scene, sprites = sketch["scene"], []
    options = [v["options"][i] for v, i in zip(scene["variants"], picks)]
    if "setting" in options[0]:
        sprites.append(options[0]["setting"])
    diverged = [o for o in options if o["diverged_at"] is not None]
    # the rows of figure.divergence_rows: the earliest on top, a tie in the optimizers' order
    for row, option in enumerate(sorted(diverged, key=lambda o: o["diverged_at"])):
        sprites += option["diverged_step"][row]
    return [{"png": scene["images"][i], "x": x, "y": y, "from": 0} for i, x, y in sprites]


def sketch_readout(sketch: dict, picks: list[int]) -> str:
    """The readout of one choice of η indices: what browser_cache.js shows, in Python."""
    return "<br>".join([lines[i] for lines, i in zip(sketch["lines"], picks)] + sketch["tail"])

