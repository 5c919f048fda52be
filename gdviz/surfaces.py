r"""Test surfaces: 2-D functions with analytic gradients, their minima, a view and a start.

Each surface is one class; defining it registers it in :data:`SURFACES`, and the tests, the
explorer's dropdown and the comparison notebook pick it up from there. ``f`` and ``grad``
take arrays of any broadcastable shape, so the same code draws a contour grid, runs one
trajectory and advances a 40,000-configuration sweep.
"""
from __future__ import annotations

import inspect
import math
from typing import ClassVar

import numpy as np

__all__ = ["Surface", "Quadratic", "SURFACES", "get_surface", "surface_class",
           "ElongatedBowl", "Bowl", "RotatedBowl", "Rosenbrock", "Beale", "Saddle",
           "Himmelblau", "Plateau"]

#: Every registered surface class by name, the default (``"elongated_bowl"``) first.
SURFACES: dict[str, type["Surface"]] = {}


class Surface:
    """A function f(x, y) to descend, with what a picture and a test need to know about it."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    latex: ClassVar[str] = ""
    xlim: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    ylim: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    start: ClassVar[tuple[float, float]] = (0.5, 0.5)
    #: Every local minimum (x, y); the global ones have the value ``min_value``.
    minima: ClassVar[tuple[tuple[float, float], ...]] = ()
    min_value: ClassVar[float] = 0.0
    #: Why this surface is in the collection (one sentence, shown in menus and notebooks).
    lesson: ClassVar[str] = ""

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register and cls.name:
            SURFACES[cls.name] = cls

    def f(self, x, y):
        """The function value at (x, y)."""
        raise NotImplementedError

    def grad(self, x, y):
        """The analytic gradient (∂f/∂x, ∂f/∂y) at (x, y)."""
        raise NotImplementedError

    def __call__(self, x, y):
        return self.f(x, y)

    @property
    def divergence_bound(self) -> float:
        """A run that leaves the box this far out (100× the view) counts as diverged."""
        return 100.0 * max(map(abs, (*self.xlim, *self.ylim)))

    @property
    def parameters(self) -> dict[str, float]:
        """The values this surface was built with (empty for fixed surfaces)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({args})"


class Quadratic(Surface, register=False):
    r"""f(θ) = ½ θᵀ H θ for a symmetric positive-definite 2×2 matrix H.

    The theory of :mod:`gdviz.theory` (stability limits, optimal step sizes and rates) is
    exact on these surfaces.
    """

    minima = ((0.0, 0.0),)
    hessian: np.ndarray = np.eye(2)

    def f(self, x, y):
        (a, b), (_, c) = self.hessian
        return 0.5 * (a * x * x + 2 * b * x * y + c * y * y)

    def grad(self, x, y):
        (a, b), (_, c) = self.hessian
        return a * x + b * y, b * x + c * y

    @property
    def eigenvalues(self) -> tuple[float, float]:
        """(λ_min, λ_max) of the Hessian."""
        low, high = np.linalg.eigvalsh(self.hessian)
        return float(low), float(high)


class ElongatedBowl(Quadratic):
    r"""The elongated bowl x²/20 + y²: twenty times steeper across the valley than along it.

    The classic picture of "Deep Learning from Scratch", ch. 6: gradient descent zig-zags
    across the valley. H = diag(1/10, 2), κ = 20. Taught in every notebook, first in
    ``notebooks/01_gradient_descent.ipynb``.
    """

    name = "elongated_bowl"
    title = "Elongated bowl"
    latex = r"f(x, y) = \frac{x^2}{20} + y^2"
    xlim, ylim = (-10.0, 10.0), (-5.0, 5.0)
    start = (-7.0, 2.0)
    hessian = np.diag([0.1, 2.0])
    lesson = "a long, narrow valley: plain gradient descent zig-zags across it"

    def f(self, x, y):
        return x * x / 20 + y * y

    def grad(self, x, y):
        return x / 10, 2 * y


class Bowl(Quadratic):
    r"""The bowl 0.1x² + 2y² (H = diag(0.2, 4), κ = 20): the same shape, twice as steep."""

    name = "bowl"
    title = "Bowl 0.1x² + 2y²"
    latex = r"f(x, y) = 0.1\,x^2 + 2\,y^2"
    xlim, ylim = (-10.0, 10.0), (-5.0, 5.0)
    start = (-7.0, 2.0)
    hessian = np.diag([0.2, 4.0])
    lesson = "the same valley twice as steep: the stable learning rate halves"

    def f(self, x, y):
        return 0.1 * x * x + 2 * y * y

    def grad(self, x, y):
        return 0.2 * x, 4 * y


class RotatedBowl(Quadratic):
    r"""An ill-conditioned bowl turned by ``angle`` degrees: f = ½ θᵀ R D Rᵀ θ.

    D = diag(λ_max/κ, λ_max) with λ_max = 2 and κ = ``condition``; the long axis of the valley
    points at ``angle`` degrees. At 0° it is the elongated bowl. Per-coordinate methods
    (AdaGrad, RMSprop, Adam) rescale x and y, which helps only when the valley is aligned with
    the axes. Taught in ``notebooks/03_adagrad.ipynb``.
    """

    name = "rotated_bowl"
    title = "Rotated bowl"
    xlim, ylim = (-10.0, 10.0), (-10.0, 10.0)
    start = (-7.0, 2.0)
    lesson = "the valley turned off the axes: per-coordinate step sizes stop helping"
    #: The largest condition number: λ_min = 2/κ must survive the rotation's round-off
    #: (about 1e-16 · λ_max), so that :mod:`gdviz.theory` stays finite and accurate.
    MAX_CONDITION: ClassVar[float] = 1e6

    def __init__(self, angle: float = 45.0, condition: float = 20.0):
        for label, value in (("angle", angle), ("condition", condition)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise TypeError(f"RotatedBowl: {label} must be a number, got {value!r}")
        if not math.isfinite(angle):
            raise ValueError(f"RotatedBowl: angle (degrees) must be finite, got {angle!r}")
        if not 1 <= condition <= self.MAX_CONDITION:
            raise ValueError(f"RotatedBowl: condition (κ = λ_max/λ_min) must be in [1, {self.MAX_CONDITION:g}], "
                             f"got {condition!r} (beyond it λ_min is lost to round-off and theory "
                             f"divides by zero)")
        self.angle, self.condition = float(angle), float(condition)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        rotation = np.array([[c, -s], [s, c]])
        self.hessian = rotation @ np.diag([2.0 / condition, 2.0]) @ rotation.T
        self.hessian = (self.hessian + self.hessian.T) / 2            # exactly symmetric
        self.latex = (r"f(\theta) = \tfrac12\,\theta^\top R\,\mathrm{diag}(%g,\ 2)\,R^\top\theta,"
                      r"\quad R = \text{rotation by } %g^\circ" % (2.0 / condition, angle))

    @property
    def parameters(self):
        return {"angle": self.angle, "condition": self.condition}


class Rosenbrock(Surface):
    r"""Rosenbrock's banana (1 − x)² + 100 (y − x²)²: a curved, flat-bottomed valley to (1, 1)."""

    name = "rosenbrock"
    title = "Rosenbrock"
    latex = r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2"
    xlim, ylim = (-2.0, 2.0), (-1.0, 3.0)
    start = (-1.5, 2.0)
    minima = ((1.0, 1.0),)
    lesson = "a curved valley with a flat floor: easy to find, slow to follow"

    def f(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def grad(self, x, y):
        return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


class Beale(Surface):
    r"""Beale's function: steep walls, flat plateaus and a narrow valley to (3, 0.5)."""

    name = "beale"
    title = "Beale"
    latex = (r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2")
    xlim, ylim = (-4.5, 4.5), (-4.5, 4.5)
    start = (1.0, 1.5)
    minima = ((3.0, 0.5),)
    lesson = "steep walls beside flat plateaus: gradients vary by orders of magnitude"

    def f(self, x, y):
        return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                + (2.625 - x + x * y ** 3) ** 2)

    def grad(self, x, y):
        a = 1.5 - x + x * y
        b = 2.25 - x + x * y ** 2
        c = 2.625 - x + x * y ** 3
        return (2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1),
                2 * a * x + 4 * b * x * y + 6 * c * x * y ** 2)


class Saddle(Surface):
    r"""A saddle at the origin between two minima: x² + y⁴/4 − y²/2.

    Along x the origin is a minimum, along y a maximum; the minima are (0, ±1), f = −¼.
    Started just off the ridge, gradient descent lingers near the saddle before it escapes.
    """

    name = "saddle"
    title = "Saddle"
    latex = r"f(x, y) = x^2 + \frac{y^4}{4} - \frac{y^2}{2}"
    xlim, ylim = (-2.0, 2.0), (-2.0, 2.0)
    start = (-1.5, 0.01)
    minima = ((0.0, 1.0), (0.0, -1.0))
    saddle_points = ((0.0, 0.0),)
    min_value = -0.25
    lesson = "a saddle point: the gradient nearly vanishes, and escaping takes a push"

    def f(self, x, y):
        return x * x + y ** 4 / 4 - y * y / 2

    def grad(self, x, y):
        return 2 * x, y ** 3 - y


class Himmelblau(Surface):
    r"""Himmelblau's function (x² + y − 11)² + (x + y² − 7)²: four minima, all with f = 0.

    Which one a run reaches depends on the start and on the optimizer.
    """

    name = "himmelblau"
    title = "Himmelblau"
    latex = r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    xlim, ylim = (-5.0, 5.0), (-5.0, 5.0)
    start = (0.0, 0.0)
    minima = ((3.0, 2.0),
              (-2.805118086952745, 3.131312518250573),
              (-3.779310253377747, -3.283185991286169),
              (3.5844283403304917, -1.8481265269644034))
    lesson = "four minima: where you end up depends on where you start and how you move"

    def f(self, x, y):
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def grad(self, x, y):
        a = x * x + y - 11
        b = x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


class Plateau(Surface):
    r"""The elongated bowl sunk into a plateau: 1 − exp(−(x²/20 + y²)).

    Far from the minimum the surface is almost flat: gradients are ~10⁻³, so gradient descent
    crawls, while Adam and RMSprop divide the gradient by its own size and move at full speed.
    """

    name = "plateau"
    title = "Plateau"
    latex = r"f(x, y) = 1 - e^{-(x^2/20 + y^2)}"
    xlim, ylim = (-10.0, 10.0), (-5.0, 5.0)
    start = (-7.0, 2.0)
    minima = ((0.0, 0.0),)
    lesson = "a nearly flat plateau: tiny gradients stall plain descent, adaptive methods keep moving"

    def f(self, x, y):
        return 1 - np.exp(-(x * x / 20 + y * y))

    def grad(self, x, y):
        e = np.exp(-(x * x / 20 + y * y))
        return x / 10 * e, 2 * y * e


def surface_class(name: str | type[Surface]) -> type[Surface]:
    """The registered surface class called ``name``."""
    if isinstance(name, type) and issubclass(name, Surface):
        return name
    if isinstance(name, str) and name.lower() in SURFACES:
        return SURFACES[name.lower()]
    raise ValueError(f"unknown surface {name!r}; choose one of: {', '.join(SURFACES)}")


def get_surface(name: str | Surface | type[Surface] = "elongated_bowl", **parameters) -> Surface:
    """A surface by name, e.g. ``get_surface("rotated_bowl", angle=30, condition=50)``."""
    if isinstance(name, Surface):
        if parameters:
            return type(name)(**{**name.parameters, **parameters})
        return name
    cls = surface_class(name)
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(parameters) - set(accepted))
    if unknown:
        valid = ", ".join(accepted) or "none"
        raise TypeError(f"surface {cls.name!r} has no parameter(s) {unknown}; its parameters: {valid}")
    return cls(**parameters)
