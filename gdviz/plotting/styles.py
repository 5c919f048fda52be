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
#: Paul Tol's colour-blind-safe schemes (https://personal.sron.nl/~pault/), "muted" and
#: "bright": the ones :data:`PALETTE` adds after Okabe–Ito's eight.
PAUL_TOL: dict[str, str] = {
    "indigo": "#332288", "wine": "#882255", "green": "#117733", "olive": "#999933",
    "cyan": "#88CCEE", "bright_purple": "#AA3377", "bright_red": "#EE6677",
    "bright_yellow": "#CCBB44",
}
#: The line colours in the order plots use them: Okabe–Ito's eight (yellow last of them: it is
#: faint on white), then Paul Tol's, each the one farthest (in CIELAB) from all before it as
#: seen with normal vision and simulated protan-, deutan- and tritanopia (Machado et al. 2009).
#: The first twelve stay at least 13 ΔE apart under all four; tests/test_plotting.py checks it.
PALETTE: tuple[str, ...] = tuple(
    [OKABE_ITO[name] for name in ("blue", "vermillion", "bluish_green", "orange", "reddish_purple",
                                  "sky_blue", "black", "yellow")]
    + [PAUL_TOL[name] for name in ("indigo", "wine", "green", "olive", "bright_purple",
                                   "bright_red", "cyan", "bright_yellow")])

# --- text and divergence ------------------------------------------------------------------------
#: The colour of every text gdviz draws (labels, notes, readouts): dark on white, a contrast of
#: 16:1 (WCAG asks for ≥ 4.5:1). An optimizer's colour goes on a swatch or line beside its name,
#: never on the letters (AdamW's yellow on white is 1.3:1).
TEXT_COLOR = "#222222"
#: How a divergence is drawn, in a style no optimizer uses: a white ✕ edged in dark grey where
#: the run left, a dash-dot line at its step, and cells of that grey (hatched) on a stability
#: map. Its text always names the optimizer (:func:`diverged_label`).
DIVERGED_COLOR = "#4D4D4D"
DIVERGED_MARKER: dict = {"marker": "X", "markerfacecolor": "white", "markeredgecolor": DIVERGED_COLOR,
                         "color": DIVERGED_COLOR, "linestyle": "none"}
DIVERGED_LINE: dict = {"color": DIVERGED_COLOR, "linestyle": "-."}
DIVERGED_HATCH = "xxx"


def diverged_label(name: str, step: int) -> str:
    """"SGD diverged at step 19": what every divergence note says."""
    return f"{name} diverged at step {step}"


def optimizer_color(optimizer) -> str:
    """The colour of an optimizer, given its name, class, instance or a :class:`Trajectory`.

    An optimizer declares its colour on its class (``color = "#0072B2"``). A registered class
    that declares none gets the first :data:`PALETTE` colour no registered class declares (in
    registration order, cycling after sixteen); a variant that is not registered (e.g.
    ``gdviz.variants.TextbookAdam``) takes the colour of the class it derives from.
    """
    if isinstance(optimizer, Trajectory):
        optimizer = optimizer.optimizer
    if isinstance(optimizer, Optimizer):
        optimizer = type(optimizer)
    if isinstance(optimizer, str):
        optimizer = optimizer_class(optimizer)        # ValueError listing the valid names
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        for cls in optimizer.__mro__:
            if vars(cls).get("color"):
                return vars(cls)["color"]
            if OPTIMIZERS.get(cls.__name__) is cls:
                return _free_color(cls)
        return PALETTE[0]
    raise TypeError(f"optimizer_color needs an optimizer name, class, instance or Trajectory, "
                    f"got {optimizer!r}")


def _free_color(cls) -> str:
    """The colour of a registered class that declares none: the next palette colour that no
    registered class declares."""
    taken = {vars(c).get("color") for c in OPTIMIZERS.values()}
    free = [c for c in PALETTE if c not in taken] or list(PALETTE)
    undeclared = [c for c in OPTIMIZERS.values() if not vars(c).get("color")]
    return free[undeclared.index(cls) % len(free)]


def _is_light(color) -> bool:
    r, g, b = mcolors.to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.7


#: The dark outline drawn under lines of a light colour (the Okabe–Ito yellow) so that they
#: show on white: its colour, and how much wider than the line it is, in points.
OUTLINE_COLOR = "#333333"
OUTLINE_EXTRA_WIDTH = 1.6


def outline_style(color, linewidth: float | None = None) -> dict | None:
    """The outline gdviz draws under a line of ``color``, as data: ``{"color": …,
    "linewidth": …}`` (points; the line's width, by default the style's, plus
    :data:`OUTLINE_EXTRA_WIDTH`), or ``None`` for colours dark enough to need none.

    The figures draw it as a path effect; the animation and the explorer draw it themselves
    from this description.
    """
    if not _is_light(color):
        return None
    width = mpl.rcParams["lines.linewidth"] if linewidth is None else float(linewidth)
    return {"color": OUTLINE_COLOR, "linewidth": width + OUTLINE_EXTRA_WIDTH}


def _outline(color):
    """The path effects of :func:`outline_style` (nothing for dark colours)."""
    outline = outline_style(color)
    if outline is None:
        return None
    return [patheffects.Stroke(linewidth=outline["linewidth"], foreground=outline["color"]),
            patheffects.Normal()]


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
