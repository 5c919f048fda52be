r"""What a reader without a kernel sees of an explorer: its replay, or at least a still picture.

Displaying an :class:`~gdviz.explorer.Explorer` sends two outputs:

1. the display bundle: the widget's view, and as ``text/html`` a still picture of the explorer
   with its readout and :data:`OFFLINE_NOTE` (front ends and exports that cannot show the
   widget fall back to it; with the widgets' state saved, nbconvert and nbviewer choose the
   view instead, which needs the widget scripts from a CDN);
2. a **companion** ``text/html`` output: a :func:`gdviz.replay.replay` of the explorer at its
   current settings (each optimizer's η over the explorer's own η grid, computed in advance by
   one vectorized run, replayed by the animation player's JavaScript), hidden at first and
   kept in a ``<template>`` (inert: nothing of it is set up or on the page until shown). Its
   script (``gdviz/static/offline.js``) shows it unless a live widget rendered next to it:

   * a static page (nbconvert HTML with or without the widgets' state, nbviewer, a course
     page): shown at once, in place of output 1 as the page shows it (the still picture, or the
     widget view embedded from the saved state: blank offline, and online sliders that move a
     frozen picture);
   * a live front end (JupyterLab, Notebook 7, the classic Notebook): stays hidden while the
     widget is there; shown if none rendered within a few seconds (a notebook reopened with a
     new kernel, so the widget's model is gone; widgets not installed); in VS Code, hidden;
   * no JavaScript (an untrusted notebook, GitHub's preview): stays hidden, output 1 shows.

   In Colab (widgets always live, each output in its own frame) it is not sent at all.
"""
from __future__ import annotations

import html
import itertools
import json
import math
import sys

from ..animation import _static
from ..replay import replay

__all__ = ["REPLAY_NOTE", "REPLAY_CLASS", "MAX_REPLAY_POINTS", "replay_grids", "explorer_replay",
           "companion_html", "show"]

#: What a reader without a kernel reads under the explorer's replay.
REPLAY_NOTE = ("A replay of the explorer: the η positions were computed in advance (one "
               "vectorized run per optimizer), so η and Play work here without a kernel; the "
               "other sliders need a running Python kernel. Run the notebook (JupyterLab, "
               "Jupyter Notebook or Colab) to move them.")
#: The companion output's root: ``div.gdviz-explorer-replay``.
REPLAY_CLASS = "gdviz-explorer-replay"
_ids = itertools.count(1)


#: The most path points (steps + 1, per η, per optimizer) a companion ships: notebook 05's
#: 201 × 291 × 2 fits. Beyond it every k-th η of the slider is replayed (the current one kept).
MAX_REPLAY_POINTS = 120_000


def replay_grids(explorer) -> tuple[dict[str, list[float]], int]:
    """Each optimizer's η values to replay: its slider's grid, or every k-th value of it (the
    current one among them) when the whole grid would pass :data:`MAX_REPLAY_POINTS`; and k."""
    grids = {name: list(sliders["lr"].grid) for name, sliders in explorer.hyperparameter_sliders.items()}
    points = (explorer.controls.steps + 1) * sum(map(len, grids.values()))
    every = max(1, math.ceil(points / MAX_REPLAY_POINTS))
    if every > 1:
        for name, grid in grids.items():
            current = grid.index(explorer.hyperparameters(name)["lr"])
            grids[name] = grid[current % every::every]
    return grids, every


def explorer_replay(explorer):
    """The explorer's runs at its current settings, with each optimizer's η over its slider's
    grid (:func:`replay_grids`): a :class:`gdviz.replay.Replay`."""
    c = explorer.controls
    grids, _ = replay_grids(explorer)
    return replay(explorer.optimizers, c.surface, steps=c.steps, start=c.start, noise=c.noise,
                  seed=explorer.seed, schedule=c.schedule, projector=explorer.projector, lrs=grids,
                  hyperparameters={name: explorer.hyperparameters(name) for name in explorer.optimizers})


def companion_html(explorer) -> str:
    """The companion output: the replay and :data:`REPLAY_NOTE`, hidden until its script
    finds no live widget beside it."""
    player = explorer_replay(explorer)
    _, every = replay_grids(explorer)
    thinned = (f" The runs are long: one η in every {every} of the slider's is replayed, to keep "
               f"the page small." if every > 1 else "")
    element_id = f"{player.id}-offline-{next(_ids)}"
    # in a <template>: inert (no player set up, nothing counted as on the page) until shown
    return (f'<div class="{REPLAY_CLASS}" id="{element_id}" style="display:none">'
            f'<template class="gdviz-replay-template">{player.to_html()}'
            f'<p><i>{html.escape(REPLAY_NOTE + thinned, quote=False)}</i></p></template>'
            f'<script>{_static("offline.js")}({json.dumps(element_id)});</script></div>')


def in_colab() -> bool:
    return "google.colab" in sys.modules


def show(explorer) -> None:
    """Display the explorer's bundle, then (outside Colab) its companion replay."""
    from IPython.display import display
    display(explorer.display_bundle(), raw=True)
    if not in_colab():
        display({"text/html": companion_html(explorer)}, raw=True)
