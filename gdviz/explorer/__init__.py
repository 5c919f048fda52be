r"""The interactive explorer: move a slider, see the optimizer's path and loss change at once.

::

    import gdviz
    gdviz.explorer.explore("Momentum")                      # η and α sliders, Play, readout
    gdviz.explorer.explore(["SGD", "Momentum", "Adam"])     # overlaid, each with its own sliders

First used in ``notebooks/01_gradient_descent.ipynb``, then in every notebook after it.

Only core ipywidgets (the API common to 7.7, which Colab ships, and 8) and no interactive
matplotlib backend: the explorer owns one figure and pushes its pixels as image bytes into a
``widgets.Image``. Three parts:

* :mod:`.controls` — the sliders (over exact grids of numbers, so the number shown is the
  number used), the surface and schedule menus, Play, the layout;
* :mod:`.figure` — the picture: a background matplotlib draws once, and what moves drawn over
  it from a scene (:mod:`gdviz.scene`), as the animation's GIF frames are;
* :mod:`.wiring` — :func:`explore` and :class:`Explorer`: a change re-runs and redraws;
  with :mod:`.cache` (pictures kept by settings), :mod:`.ahead` (drawn ahead while idle),
  :mod:`.browser` (kept in the page too, with the optional anywidget) and :mod:`.offline`
  (what a reader without a kernel sees).

:meth:`Explorer.update` and :meth:`Explorer.render_png` are plain methods, so everything here
runs and is tested without a browser.
"""
from .controls import NOISE_MAX, SCHEDULE_CHOICES, GridSlider, linear_grid, log_grid
from .figure import LOSS_FLOOR
from .wiring import (MAP_RESOLUTION, MAX_STEPS, OFFLINE_NOTE, Explorer, explore,
                     stability_explorer)

__all__ = ["explore", "stability_explorer", "Explorer", "MAX_STEPS", "LOSS_FLOOR", "NOISE_MAX",
           "MAP_RESOLUTION", "SCHEDULE_CHOICES", "GridSlider", "log_grid", "linear_grid",
           "OFFLINE_NOTE"]
