"""Colours and styles: the colour-blind-safe palette, one colour per optimizer, and the
``"notebook"`` and ``"projector"`` rcParams."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import colors as mcolors
from matplotlib import patheffects

from ..optimizers import OPTIMIZERS, Optimizer, optimizer_class
from ..trajectory import Trajectory

# --- colours ---------------------------------------------------------------------------------
#: The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
#: deficiency, by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
#: The line colours in the order plots use them (yellow last: it is faint on white).
PALETTE: tuple[str, ...] = tuple(OKABE_ITO[name] for name in (
    "blue", "vermillion", "bluish_green", "orange", "reddish_purple", "sky_blue", "black", "yellow"))

#: One fixed colour per registered optimizer, so SGD is the same blue in every figure.
OPTIMIZER_COLORS: dict[str, str] = {
    "SGD": OKABE_ITO["blue"], "Momentum": OKABE_ITO["vermillion"],
    "Nesterov": OKABE_ITO["reddish_purple"], "AdaGrad": OKABE_ITO["bluish_green"],
    "RMSprop": OKABE_ITO["orange"], "Adadelta": OKABE_ITO["sky_blue"],
    "Adam": OKABE_ITO["black"], "AdamW": OKABE_ITO["yellow"],
}
_DIVERGED_COLOR = OKABE_ITO["vermillion"]


def optimizer_color(optimizer) -> str:
    """The colour of an optimizer, given its name, class, instance or a :class:`Trajectory`.

    Registered optimizers have fixed colours (:data:`OPTIMIZER_COLORS`); a variant that is not
    registered (e.g. ``gdviz.variants.TextbookAdam``) takes the colour of the registered class
    it derives from; anything else gets the first palette colour.
    """
    if isinstance(optimizer, Trajectory):
        optimizer = optimizer.optimizer
    if isinstance(optimizer, Optimizer):
        optimizer = type(optimizer)
    if isinstance(optimizer, str):
        optimizer = optimizer_class(optimizer)        # ValueError listing the valid names
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        for cls in optimizer.__mro__:
            if cls.__name__ in OPTIMIZER_COLORS and OPTIMIZERS.get(cls.__name__) is cls:
                return OPTIMIZER_COLORS[cls.__name__]
        return PALETTE[0]
    raise TypeError(f"optimizer_color needs an optimizer name, class, instance or Trajectory, "
                    f"got {optimizer!r}")


def _is_light(color) -> bool:
    r, g, b = mcolors.to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.7


def _outline(color):
    """A thin dark outline for light colours (the Okabe–Ito yellow), nothing for the rest."""
    if _is_light(color):
        return [patheffects.Stroke(linewidth=mpl.rcParams["lines.linewidth"] + 1.6,
                                   foreground="#333333"), patheffects.Normal()]
    return None


# --- styles ----------------------------------------------------------------------------------
_COMMON = {
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.framealpha": 0.9,
    "image.cmap": "viridis",
    "savefig.bbox": "tight",
}
#: rcParams of the two styles: ``"notebook"`` (6–10 in wide figures, 10 pt text) and
#: ``"projector"`` (the same figures with 16 pt text and thicker lines, for a lecture hall).
STYLES: dict[str, dict] = {
    "notebook": {**_COMMON, "figure.figsize": (7.0, 4.5), "figure.dpi": 100,
                 "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
                 "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
                 "lines.linewidth": 1.8, "lines.markersize": 4.5},
    "projector": {**_COMMON, "figure.figsize": (10.0, 6.5), "figure.dpi": 100,
                  "font.size": 16, "axes.titlesize": 17, "axes.labelsize": 16,
                  "xtick.labelsize": 14, "ytick.labelsize": 14, "legend.fontsize": 13,
                  "lines.linewidth": 3.0, "lines.markersize": 7.5,
                  "axes.linewidth": 1.4, "xtick.major.width": 1.4, "ytick.major.width": 1.4},
}


def _style_params(name: str) -> dict:
    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}; choose one of: {', '.join(STYLES)}")
    return STYLES[name]


def style(name: str = "notebook"):
    """A context manager that applies a gdviz style inside a ``with`` block only.

    >>> with style("projector"):
    ...     fig, axes = classic_figure()
    """
    return plt.style.context(_style_params(name))


def use_style(name: str = "notebook") -> None:
    """Apply a gdviz style (``"notebook"`` or ``"projector"``) to every later figure."""
    mpl.rcParams.update(_style_params(name))
