"""Every registered surface: its gradient, its minima, its window, its vectorized calls.

Table-driven over ``gdviz.SURFACES``: a new surface is checked the moment it is registered.
Expected values come from central finite differences of ``f`` (for the gradient) and of
``grad`` (for the Hessian), and, for the rotated bowl, from an independent construction.
"""
import zlib

import numpy as np
import pytest

import gdviz
from gdviz import SURFACES

NAMES = list(SURFACES)


def surface_rng(name, salt=""):
    return np.random.default_rng(zlib.crc32(f"{name}{salt}".encode()))


def window_points(surface, n, rng):
    return (rng.uniform(*surface.xlim, size=n), rng.uniform(*surface.ylim, size=n))


def steps_of(surface):
    """Finite-difference steps: a millionth of the window in each direction."""
    return 1e-6 * np.ptp(surface.xlim), 1e-6 * np.ptp(surface.ylim)


def fd_gradient(surface, x, y):
    hx, hy = steps_of(surface)
    return ((surface.f(x + hx, y) - surface.f(x - hx, y)) / (2 * hx),
            (surface.f(x, y + hy) - surface.f(x, y - hy)) / (2 * hy))


def fd_hessian(surface, x, y):
    """Central differences of the analytic gradient, symmetrized; also returns the asymmetry."""
    hx, hy = steps_of(surface)
    gxp, gxm = np.array(surface.grad(x + hx, y)), np.array(surface.grad(x - hx, y))
    gyp, gym = np.array(surface.grad(x, y + hy)), np.array(surface.grad(x, y - hy))
    raw = np.column_stack([(gxp - gxm) / (2 * hx), (gyp - gym) / (2 * hy)])
    return (raw + raw.T) / 2, abs(raw[0, 1] - raw[1, 0])


def inside(surface, point):
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


@pytest.fixture(params=NAMES)
def surface(request):
    return gdviz.get_surface(request.param)


def test_registry_names_match(surface):
    assert SURFACES[surface.name] is type(surface)
    assert gdviz.get_surface(surface.name.upper()).name == surface.name


def test_description_is_complete(surface):
    for attribute in ("title", "latex", "lesson"):
        assert isinstance(getattr(surface, attribute), str) and getattr(surface, attribute).strip(), attribute
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    assert x0 < x1 and y0 < y1
    assert surface.divergence_bound > max(map(abs, (x0, x1, y0, y1)))


def test_start_and_minima_are_inside_the_view(surface):
    assert inside(surface, surface.start), f"start {surface.start} outside {surface.xlim} × {surface.ylim}"
    assert surface.minima, "a surface lists at least one minimum"
    for point in surface.minima:
        assert inside(surface, point), f"minimum {point} outside {surface.xlim} × {surface.ylim}"


def test_gradient_matches_finite_differences(surface):
    """At 300 random points of the view: |grad − FD| ≤ 1e-6 |grad| + (the FD round-off allowance)."""
    x, y = window_points(surface, 300, surface_rng(surface.name))
    gx, gy = np.broadcast_arrays(*surface.grad(x, y))
    fx, fy = fd_gradient(surface, x, y)
    error = np.hypot(gx - fx, gy - fy)
    scale = np.hypot(gx, gy)
    # round-off of a central difference is about 1e-16 |f| / h; allow 1000 times that
    allowance = 1e-7 * (1 + np.abs(surface.f(x, y))) / min(np.ptp(surface.xlim), np.ptp(surface.ylim))
    worst = np.argmax(error / (1e-6 * scale + allowance))
    assert np.all(error <= 1e-6 * scale + allowance), (
        f"{surface.name}: at ({x[worst]}, {y[worst]}) grad = ({gx[worst]}, {gy[worst]}), "
        f"finite differences give ({fx[worst]}, {fy[worst]})")


def test_vectorized_calls_match_scalar_calls(surface):
    rng = surface_rng(surface.name, "vector")
    xs, ys = np.sort(rng.uniform(*surface.xlim, 7)), np.sort(rng.uniform(*surface.ylim, 9))
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    F = surface.f(X, Y)
    G = np.broadcast_arrays(*surface.grad(X, Y))
    assert F.shape == X.shape and all(g.shape == X.shape for g in G)
    for i, j in np.ndindex(X.shape):
        x, y = float(X[i, j]), float(Y[i, j])
        np.testing.assert_allclose(F[i, j], surface.f(x, y), rtol=1e-14, atol=0)
        np.testing.assert_allclose([G[0][i, j], G[1][i, j]], surface.grad(x, y), rtol=1e-14, atol=1e-300)
    # broadcasting shapes give the same grid
    np.testing.assert_allclose(surface.f(xs[:, None], ys[None, :]), F, rtol=1e-14)
    for component, expected in zip(np.broadcast_arrays(*surface.grad(xs[:, None], ys[None, :])), G):
        np.testing.assert_allclose(np.broadcast_to(component, X.shape), expected, rtol=1e-14)


def test_minima_are_stationary_positive_definite_and_global(surface):
    values = []
    for point in surface.minima:
        g = np.array(surface.grad(*point), dtype=float)
        assert np.all(np.abs(g) <= 1e-8), f"{surface.name}: grad at minimum {point} is {g}"
        hessian, asymmetry = fd_hessian(surface, *point)
        eigenvalues = np.linalg.eigvalsh(hessian)
        assert asymmetry <= 1e-5 * np.abs(eigenvalues).max(), f"{surface.name}: Hessian not symmetric at {point}"
        assert eigenvalues[0] > 1e-6 * eigenvalues[1] > 0, (
            f"{surface.name}: Hessian at {point} is not positive-definite: eigenvalues {eigenvalues}")
        values.append(float(surface.f(*point)))
    tolerance = 1e-12 * (1 + abs(surface.min_value))
    assert min(values) == pytest.approx(surface.min_value, abs=tolerance), (
        f"{surface.name}: the lowest listed minimum has f = {min(values)}, min_value = {surface.min_value}")
    assert all(v >= surface.min_value - tolerance for v in values)
    # and nothing in the view is lower than min_value
    X, Y = np.meshgrid(np.linspace(*surface.xlim, 401), np.linspace(*surface.ylim, 401))
    assert surface.f(X, Y).min() >= surface.min_value - tolerance


def test_saddle_points_are_stationary_and_indefinite(surface):
    for point in getattr(surface, "saddle_points", ()):
        assert np.all(np.abs(np.array(surface.grad(*point), dtype=float)) <= 1e-8)
        eigenvalues = np.linalg.eigvalsh(fd_hessian(surface, *point)[0])
        assert eigenvalues[0] < 0 < eigenvalues[1], f"{surface.name}: {point} is not a saddle: {eigenvalues}"


# --- the quadratics -------------------------------------------------------------------------
QUADRATICS = [name for name in NAMES if issubclass(SURFACES[name], gdviz.Quadratic)]


@pytest.mark.parametrize("name", QUADRATICS)
def test_quadratic_hessian_is_the_surfaces_curvature(name):
    surface = gdviz.get_surface(name)
    x, y = window_points(surface, 5, surface_rng(name, "hessian"))
    for point in zip(x, y):
        np.testing.assert_allclose(fd_hessian(surface, *point)[0], surface.hessian, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(surface.eigenvalues, np.linalg.eigvalsh(fd_hessian(surface, 0.3, -0.2)[0]), rtol=1e-7)
    # f is ½ θᵀHθ exactly, not just its curvature
    theta = np.array([x, y])
    np.testing.assert_allclose(surface.f(x, y), 0.5 * np.einsum("in,ij,jn->n", theta, surface.hessian, theta),
                               rtol=1e-13)


@pytest.mark.parametrize("angle, condition", [(45, 20), (30, 50), (-60, 5), (0, 20), (90, 2), (123.4, 1)])
def test_rotated_bowl_matches_an_independent_construction(angle, condition):
    """H = λ_min u uᵀ + λ_max w wᵀ with u = (cos a, sin a) the long axis of the valley,
    w ⟂ u, λ_max = 2 and λ_min = 2/κ."""
    surface = gdviz.get_surface("rotated_bowl", angle=angle, condition=condition)
    a = np.deg2rad(angle)
    u, w = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    expected = (2 / condition) * np.outer(u, u) + 2 * np.outer(w, w)
    np.testing.assert_allclose(surface.hessian, expected, atol=1e-15)
    np.testing.assert_allclose(surface.eigenvalues, (2 / condition, 2), rtol=1e-13)
    np.testing.assert_allclose(fd_hessian(surface, 1.5, -2.5)[0], expected, atol=1e-8)
    assert surface.parameters == {"angle": angle, "condition": condition}
    if condition > 1:              # the flattest direction (the valley's long axis) is at `angle`
        values, vectors = np.linalg.eigh(fd_hessian(surface, 0.0, 0.0)[0])
        long_axis = vectors[:, 0]
        assert abs(abs(long_axis @ u) - 1) < 1e-8
        assert surface.f(*(3 * u)) < surface.f(*(3 * w))


def test_rotated_bowl_at_zero_degrees_is_the_elongated_bowl():
    rotated, elongated = gdviz.get_surface("rotated_bowl", angle=0), gdviz.get_surface("elongated_bowl")
    np.testing.assert_array_equal(rotated.hessian, elongated.hessian)
    x, y = window_points(elongated, 100, surface_rng("zero-degrees"))
    np.testing.assert_allclose(rotated.f(x, y), elongated.f(x, y), rtol=1e-14)
    for a, b in zip(rotated.grad(x, y), elongated.grad(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_get_surface_replaces_parameters_of_an_instance():
    base = gdviz.get_surface("rotated_bowl", angle=30, condition=50)
    assert gdviz.get_surface(base) is base
    changed = gdviz.get_surface(base, angle=10)
    assert changed.parameters == {"angle": 10.0, "condition": 50.0} and base.angle == 30.0
