r"""Figures: contours with paths, loss curves, small multiples, the optimizers' inner state,
the anatomy of one step, and stability maps.

Every function takes an optional ``ax`` (or ``axes``) and returns what it drew, so a notebook
can compose figures freely; with ``ax=None`` it makes its own figure with
``plt.subplots(layout="constrained")``. Two styles, both with the colour-blind-safe palette
(Okabe–Ito, then Paul Tol's; each optimizer declares its colour on its class)::

    from gdviz import plotting as gp
    gp.use_style("projector")              # larger fonts and lines, for the lecture hall
    with gp.style("notebook"):
        fig, axes = gp.classic_figure()    # "Deep Learning from Scratch", ch. 6, in one call

The modules by topic: :mod:`~gdviz.plotting.styles` (palette, optimizer colours, styles),
:mod:`~gdviz.plotting.paths` (contours, paths, loss, panels), :mod:`~gdviz.plotting.state`
(velocity, effective rates, Adam's moments), :mod:`~gdviz.plotting.anatomy` (one step taken
apart) and :mod:`~gdviz.plotting.stability` (stability maps); every public name is here.
The artists carry ids (gids) named in :mod:`~gdviz.plotting.artist_ids`, by which the
animation, the explorer and the tests find them.

End a notebook cell with ``;`` (or ``plt.show()``) so the returned artists are not printed.
"""
from __future__ import annotations

from .anatomy import StepTerms, plot_step_anatomy, step_terms
from .paths import (
                    CLASSIC_SETTINGS,
                    classic_figure,
                    contour_levels,
                    mark_minima,
                    plot_comparison,
                    plot_contour,
                    plot_loss,
                    plot_trajectories,
                    plot_trajectory,
                    small_multiples,
)
from .rate_map import plot_eigen_errors, plot_rate_map
from .stability import plot_stability_map, shared_norm
from .state import COORDINATE_STYLES, plot_adam_moments, plot_effective_lr, plot_velocity
from .styles import (DIVERGED_COLOR, DIVERGED_HATCH, DIVERGED_LINE, DIVERGED_MARKER, OKABE_ITO,
                     OUTLINE_COLOR, OUTLINE_EXTRA_WIDTH, PALETTE, PAUL_TOL, STYLES, TEXT_COLOR,
                     diverged_label, optimizer_color, outline_style, style, use_style)

__all__ = ["PALETTE", "OKABE_ITO", "PAUL_TOL", "optimizer_color", "TEXT_COLOR", "DIVERGED_COLOR",
           "DIVERGED_MARKER", "DIVERGED_LINE", "DIVERGED_HATCH", "diverged_label", "OUTLINE_COLOR",
           "OUTLINE_EXTRA_WIDTH", "outline_style", "STYLES", "style",
           "use_style", "contour_levels", "plot_contour", "mark_minima", "plot_trajectory",
           "plot_trajectories", "plot_loss", "plot_comparison", "small_multiples",
           "classic_figure", "CLASSIC_SETTINGS", "plot_velocity", "plot_effective_lr",
           "plot_adam_moments", "COORDINATE_STYLES", "StepTerms", "step_terms", "plot_step_anatomy",
           "plot_stability_map", "shared_norm", "plot_rate_map", "plot_eigen_errors"]
