"""rules15 (issue #13, the rule-cost target: within 3x the primal in benchmarks/rule_costs.py): np.linalg.cholesky's
adjoint by Murray's blocked algorithm (runtime.cholesky_bar: SciPy's BLAS and LAPACK from n = 16, else
phi_congruence of the formula). Checked against the formula written out with np.linalg.inv, against central
differences at sizes that take one, several and uneven blocks, float32, a stack, with and without SciPy, and its
second derivatives against central differences of the gradient."""

import sys

import numpy as np
import pytest

from adjoint_compiler import runtime
from tests.rules.numpy_versions import NUMPY2
from tests.rules.test_rule_costs import gradient_error, hvp_error, spd, weights

UPPER = [False, pytest.param(True, marks=pytest.mark.skipif(not NUMPY2, reason="cholesky(upper=) is NumPy 2's"))]


def chol(a, upper):
    return np.linalg.cholesky(a, upper=True) if upper else np.linalg.cholesky(a)


def no_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)


def cholesky_formula(low, g):
    # Murray 2016 with L^-1 written out: tril((M + M^T)(1 - I/2)), M = L^-T Phi(L^T G) L^-1, from the lower triangles
    low, g = np.tril(low), np.tril(g)
    p = np.tril(np.matmul(np.swapaxes(low, -1, -2), g))
    phi = p - 0.5 * p * np.eye(np.shape(p)[-1])
    linv = np.linalg.inv(low)
    m = np.matmul(np.matmul(np.swapaxes(linv, -1, -2), phi), linv)
    return np.tril((m + np.swapaxes(m, -1, -2)) * (1 - 0.5 * np.eye(np.shape(p)[-1])))


# (n: 4 and 15 below LAPACK's path; 16 and 64 one block; 65 two of 33 and 32; 200 four of 50; 129 three of 43)
@pytest.mark.parametrize("n", (4, 15, 16, 64, 65, 129, 200))
@pytest.mark.parametrize("stack", [(), (2,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_bar_is_the_formula(n, stack, dtype):
    rng = np.random.default_rng(n)
    low = np.linalg.cholesky(spd(n, rng, stack)).astype(dtype)
    g = rng.standard_normal(stack + (n, n)).astype(dtype)
    out = runtime.cholesky_bar(low, g)
    assert out.dtype == dtype and out.shape == low.shape
    expected = cholesky_formula(low.astype(np.float64), g.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert np.max(np.abs(out - expected)) <= tol * np.max(np.abs(expected))
    assert np.all(np.triu(out, 1) == 0)
    # the upper triangles are not read
    assert np.array_equal(runtime.cholesky_bar(low + np.triu(low, 1) * 7 + np.triu(g, 1), g - np.triu(g, 1)), out)


@pytest.mark.parametrize("n", (20, 130))
def test_cholesky_bar_without_scipy(monkeypatch, n):
    rng = np.random.default_rng(n)
    low, g = np.linalg.cholesky(spd(n, rng)), rng.standard_normal((n, n))
    with_scipy = runtime.cholesky_bar(low, g)
    no_scipy(monkeypatch)
    assert np.allclose(runtime.cholesky_bar(low, g), cholesky_formula(low, g), rtol=1e-11, atol=1e-12)
    assert np.allclose(runtime.cholesky_bar(low, g), with_scipy, rtol=1e-11, atol=1e-12)


def test_cholesky_bar_of_a_singular_triangle_raises_as_numpy():
    low = np.tril(np.ones((100, 100)))
    low[70, 70] = 0.0
    with pytest.raises(np.linalg.LinAlgError):
        runtime.cholesky_bar(low, np.ones((100, 100)))


@pytest.mark.parametrize("at", [(90, 90), (95, 10), (60, 55)])
def test_cholesky_bar_of_an_infinite_cotangent(at):
    # an inf in G makes every entry it reaches (a nonzero coefficient in the formula) non-finite, as the formula
    # does; an entry it does not reach is finite there, the value it has with that element of G 0
    rng = np.random.default_rng(3)
    low, g = np.linalg.cholesky(spd(100, rng)), rng.standard_normal((100, 100))
    unit = np.zeros((100, 100))
    unit[at] = 1.0
    coefficient = np.abs(cholesky_formula(low, unit))
    reached = coefficient > 1e-12 * np.max(coefficient)  # (not the roundoff of np.linalg.inv's zeros)
    g_inf, g_zero = g.copy(), g.copy()
    g_inf[at], g_zero[at] = np.inf, 0.0
    with np.errstate(invalid="ignore"):
        out = runtime.cholesky_bar(low, g_inf)
    assert not np.any(np.isfinite(out[reached]))
    finite = np.isfinite(out)
    assert np.allclose(out[finite], runtime.cholesky_bar(low, g_zero)[finite], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", (3, 70))
@pytest.mark.parametrize("upper", UPPER)
def test_cholesky_matches_central_differences(n, upper):
    a = spd(n, np.random.default_rng(n))
    w = weights((n, n))
    assert gradient_error(lambda a: np.sum(chol(a, upper) * w), a) < 1e-6


@pytest.mark.parametrize("upper", UPPER)
def test_cholesky_of_a_stack_matches_central_differences(upper):
    a = spd(40, np.random.default_rng(1), stack=(2,))
    w = weights((2, 40, 40))
    assert gradient_error(lambda a: np.sum(np.cos(chol(a, upper)) * w), a) < 1e-6


def test_cholesky_without_scipy_matches_central_differences(monkeypatch):
    no_scipy(monkeypatch)
    a = spd(70, np.random.default_rng(2))
    w = weights((70, 70))
    assert gradient_error(lambda a: np.sum(np.linalg.cholesky(a) * w), a) < 1e-6


def test_cholesky_float32_gradient_is_float32():
    from adjoint_compiler import grad

    a = spd(70, np.random.default_rng(4)).astype(np.float32)
    w = weights((70, 70)).astype(np.float32)
    g = grad(lambda a: np.sum(np.linalg.cholesky(a) * w))(a)
    assert g.dtype == np.float32
    expected = cholesky_formula(np.linalg.cholesky(a.astype(np.float64)), w.astype(np.float64))
    assert np.max(np.abs(g - expected)) <= 1e-4 * np.max(np.abs(expected))


@pytest.mark.parametrize("n", (3, 40))
def test_cholesky_second_derivative_matches_central_differences(n):
    a = spd(n, np.random.default_rng(n + 2))
    w = weights((n, n), seed=5)
    assert hvp_error(lambda a: np.sum(np.sin(np.linalg.cholesky(a)) * w), a) < 1e-5


# ---- np.linalg.norm's Euclidean slope: x times g / norm in the reduced shape (no spread view of it) ----------------


@pytest.mark.parametrize(
    "ord, axis, keepdims",
    [(None, None, False), (None, None, True), ("fro", None, False), (None, 1, False), (2, 0, True), (None, -1, True)]
    + [("fro", (0, 1), False), (None, (1, 2), True)],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_euclidean_norm_adjoint_is_x_over_the_norm(ord, axis, keepdims, dtype):
    # hand-derived: d |x| / dx = x / |x| over each slice, 0 where the slice is 0; float32 stays float32, an int x
    # gets a float64 cotangent
    from adjoint_compiler.rules.np_reductions import norm_adjoint

    shape = (3, 4, 5) if axis in ((1, 2),) else (4, 5)
    x = (np.random.default_rng(5).standard_normal(shape) * 3).astype(dtype)
    x[0] = 0  # a zero slice (along axis 1, -1 and (1, 2)) or element
    ans = np.linalg.norm(x, ord, axis, keepdims)
    g = np.random.default_rng(6).standard_normal(np.shape(ans))  # float64, as a seed times a float64 weight is
    bar = norm_adjoint(g, ans, x, ord, axis, keepdims)[0]
    assert bar.shape == x.shape
    assert bar.dtype == (np.float32 if dtype == np.float32 else np.float64)
    norm = np.linalg.norm(x.astype(np.float64), ord, axis, keepdims=True)
    gk = g if keepdims or axis is None else np.expand_dims(g, axis)
    expected = gk * x / np.where(norm == 0, 1.0, norm)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert np.allclose(bar, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("ord, axis", [(None, None), ("fro", None), (None, 1), (2, 0)])
def test_euclidean_norm_gradients_match_central_differences(ord, axis):
    x = np.random.default_rng(8).standard_normal((6, 7))
    w = weights(np.shape(np.linalg.norm(x, ord, axis)))
    assert gradient_error(lambda x: np.sum(np.linalg.norm(x, ord, axis) * w), x) < 1e-6


def test_euclidean_norm_second_derivative_matches_central_differences():
    x = np.random.default_rng(9).standard_normal((5, 6))
    w = weights(5)
    assert hvp_error(lambda x: np.sum(np.sin(np.linalg.norm(x, axis=1)) * w), x) < 1e-5


# ---- np.sort / np.partition: NumPy's default argsort where nothing ties, the inverse permutation in one pass ---------


def stable_source(a, ans, axis):
    # the positions as the rule took them before (both argsorts stable, the inverse by a third argsort)
    order = np.argsort(np.argsort(ans, axis, kind="stable"), axis, kind="stable")
    return np.take_along_axis(np.argsort(a, axis, kind="stable"), order, axis)


def sort_inputs():
    rng = np.random.default_rng(11)
    distinct = rng.standard_normal((6, 50))
    ties = np.round(rng.standard_normal((6, 50)), 1)
    nans = distinct.copy()
    nans[rng.random((6, 50)) < 0.2] = np.nan
    zeros = np.where(rng.random((6, 50)) < 0.5, 0.0, -0.0) * rng.integers(0, 2, (6, 50))
    ints = rng.integers(0, 10, (6, 50))
    return [distinct, ties, nans, zeros, ints, distinct.astype(np.float32), ties.reshape(3, 2, 50)]


@pytest.mark.parametrize("k", range(7))
@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("partition", [False, True])
def test_sort_source_is_the_stable_positions(k, axis, partition):
    a = sort_inputs()[k]
    ans = np.partition(a, 1, axis) if partition else np.sort(a, axis)
    source = runtime.sort_source(a, ans, axis)
    assert np.array_equal(source, stable_source(a, ans, axis))
    assert np.array_equal(runtime.inverse_order(source, axis), np.argsort(source, axis))
    assert np.array_equal(np.take_along_axis(a, source, axis), ans, equal_nan=True)


@pytest.mark.parametrize("k", range(7))
def test_sort_adjoint_puts_each_cotangent_back_where_its_element_came_from(k):
    from adjoint_compiler.rules.np_shape import sort_adjoint

    a = sort_inputs()[k]
    for axis in (-1, 0, None):
        ans = np.sort(a, axis)
        g = np.random.default_rng(k).standard_normal(np.shape(ans))
        bar = sort_adjoint(g, ans, a, axis)[0]
        flat = np.ravel(a) if axis is None else a
        source = stable_source(flat, np.ravel(ans) if axis is None else ans, -1 if axis is None else axis)
        expected = np.empty(np.shape(flat))
        np.put_along_axis(expected, source, np.ravel(g) if axis is None else g, -1 if axis is None else axis)
        assert np.array_equal(bar, np.reshape(expected, np.shape(a)))


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort_and_partition_gradients_match_central_differences(axis):
    x = np.random.default_rng(12).standard_normal((5, 40))
    w = weights(np.size(x) if axis is None else (5, 40))
    assert gradient_error(lambda x: np.sum(np.sin(np.sort(x, axis)) * w), x) < 1e-6
    assert gradient_error(lambda x: np.sum(np.sin(np.partition(x, 2, axis)) * w), x) < 1e-6


def test_sort_second_derivative_matches_central_differences():
    x = np.random.default_rng(13).standard_normal((4, 30))
    w = weights((4, 30))
    assert hvp_error(lambda x: np.sum(np.sin(np.sort(x, 1)) * w), x) < 1e-5


# ---- standalone export: the LAPACK helpers' own helper (_lapack) is copied in with them --------------------------


def test_exported_cholesky_det_slogdet_gradient_runs_standalone():
    # (runtime.DEPENDS: lu_inverse, phi_congruence, cholesky_bar and cofactors call _lapack, which an exported
    # module defines too; it raised NameError before)
    from adjoint_compiler import grad
    from adjoint_compiler.export import export_source
    from tests.rules import test_rule_costs_rules15 as here

    namespace = {}
    exec(compile(export_source(here.logdet_and_cholesky), "<exported>", "exec"), namespace)
    a = spd(30, np.random.default_rng(14))
    value, bar = namespace["logdet_and_cholesky_grad"](a)
    assert np.isclose(value, logdet_and_cholesky(a))
    assert np.allclose(bar, grad(logdet_and_cholesky)(a), rtol=1e-12, atol=1e-12)
    assert gradient_error(logdet_and_cholesky, a) < 1e-6


def logdet_and_cholesky(a):
    return np.sum(np.linalg.cholesky(a) ** 2) + np.linalg.det(a / 30.0) + np.linalg.slogdet(a)[1]
