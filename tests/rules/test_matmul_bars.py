"""np.matmul's adjoint in one call per side (runtime.matmul_bar1/matmul_bar2, task emit14): the fast forms
for matrices and vectors and the general one for stacks and lists against np.matmul's own derivative (the
adjoint of a linear map: <h, bar1(g)> = <h @ x2, g>), their adjoint and tangent rules against central
differences, and second order through a matrix product (hvp, grad of a gradient's dot product)."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.rules import registry, runtime_rules  # noqa: F401
from adjoint_compiler.testing import check_grads, check_rule

SHAPES = [
    ((3, 4), (4, 2)),  # matrix @ matrix: g @ x2.T, x1.T @ g
    ((3, 4), (4,)),  # matrix @ vector: np.outer(g, x2), x1.T @ g
    ((4,), (4, 2)),  # vector @ matrix: x2 @ g, np.outer(x1, g)
    ((4,), (4,)),  # vector @ vector: a number (the general form)
    ((2, 3, 4), (4, 2)),  # a stack against a matrix: summed over the batch (the general form)
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((1, 3, 4), (2, 4, 2)),
]


@pytest.mark.parametrize("s1, s2", SHAPES)
def test_bars_are_the_adjoints_of_the_product(s1, s2):
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal(s1), rng.standard_normal(s2)
    g = rng.standard_normal(np.shape(x1 @ x2))
    h1, h2 = rng.standard_normal(s1), rng.standard_normal(s2)
    bar1, bar2 = runtime.matmul_bar1(g, x1, x2), runtime.matmul_bar2(g, x1, x2)
    assert np.shape(bar1) == s1 and np.shape(bar2) == s2
    assert np.sum(bar1 * h1) == pytest.approx(np.sum((h1 @ x2) * g), rel=1e-12)
    assert np.sum(bar2 * h2) == pytest.approx(np.sum((x1 @ h2) * g), rel=1e-12)


@pytest.mark.parametrize("g_shape", [(2, 3, 2), (3, 2), (1, 3, 2)])
def test_two_matrices_with_a_broadcast_cotangent(g_shape):
    """Two matrices take np.dot first; a g larger than the product (an element-wise operation broadcast it:
    x1 @ x2 + c, c of shape (2, 3, 2)) is summed back to the product's shape first: the textbook forms of g
    summed to (3, 2)."""
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    g = rng.standard_normal(g_shape)
    fit = np.sum(np.broadcast_to(g, np.broadcast_shapes(g_shape, (3, 2))).reshape(-1, 3, 2), axis=0)
    bar1, bar2 = runtime.matmul_bar1(g, x1, x2), runtime.matmul_bar2(g, x1, x2)
    assert bar1.shape == x1.shape and bar2.shape == x2.shape
    np.testing.assert_allclose(bar1, fit @ x2.T, rtol=1e-12)
    np.testing.assert_allclose(bar2, x1.T @ fit, rtol=1e-12)


def test_add_into_adds_in_place_only_into_the_same_array():
    total = np.ones((2, 2))
    assert runtime.add_into(total, np.full((2, 2), 2.0)) is total and total[0, 0] == 3.0
    narrow = np.ones((2, 2), np.float32)  # (a float64 term: a new float64 sum, as + gives)
    out = runtime.add_into(narrow, np.full((2, 2), 0.1))
    assert out is not narrow and out.dtype == np.float64 and narrow[0, 0] == 1.0
    frozen = np.ones(2)
    frozen.flags.writeable = False
    out = runtime.add_into(frozen, np.ones(2))
    assert out is not frozen and out[0] == 2.0 and frozen[0] == 1.0
    wide = runtime.add_into(np.ones(2), np.ones((3, 2)))  # (another shape: broadcast, as + does)
    assert wide.shape == (3, 2)


def test_lists_take_the_general_form():
    x1, x2, g = [[1.0, 2.0], [3.0, 4.0]], np.array([0.5, -1.0]), np.array([1.0, 2.0])
    np.testing.assert_allclose(runtime.matmul_bar1(g, x1, x2), np.outer(g, x2))
    np.testing.assert_allclose(runtime.matmul_bar2(g, x1, x2), np.asarray(x1).T @ g)


@pytest.mark.parametrize("s1, s2", SHAPES[:3] + SHAPES[4:6])
@pytest.mark.parametrize("side", [1, 2])
def test_adjoint_and_tangent_rules(s1, s2, side):
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal(s1), rng.standard_normal(s2)
    g = rng.standard_normal(np.shape(x1 @ x2))
    fn = runtime.matmul_bar1 if side == 1 else runtime.matmul_bar2
    shape_only = 1 if side == 1 else 2  # the operand whose cotangent it is gives a shape only
    diff = [i for i in (0, 1, 2) if i != shape_only]
    check_rule(fn, registry.lookup(fn).rule, [g, x1, x2], diff=diff)
    # forward mode through a call of the helper (its tangent rule), against central differences
    f = bar1_sum if side == 1 else bar2_sum
    args = [g, x1, x2, rng.standard_normal(np.shape(fn(g, x1, x2)))]
    tangents = tuple(rng.standard_normal(np.shape(args[i])) for i in diff)
    _, dot = ac.jvp(f, tuple(diff))(*args, tangents)
    eps = 1e-6
    moved = [a + eps * t for a, t in zip([args[i] for i in diff], tangents)]
    back = [a - eps * t for a, t in zip([args[i] for i in diff], tangents)]
    at = lambda vals: f(*[vals[diff.index(k)] if k in diff else args[k] for k in range(4)])  # noqa: E731
    assert dot == pytest.approx((at(moved) - at(back)) / (2 * eps), rel=1e-6, abs=1e-9)


def bar1_sum(g, x1, x2, w):
    return np.sum(runtime.matmul_bar1(g, x1, x2) * w)


def bar2_sum(g, x1, x2, w):
    return np.sum(runtime.matmul_bar2(g, x1, x2) * w)


def mlp(W, v, X):
    return np.sum(np.tanh(X @ W) @ v)


def test_second_order_through_matrix_products():
    rng = np.random.default_rng(2)
    W, v, X = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((5, 3))
    check_grads(mlp, [W, v, X], wrt=(0, 1, 2))
    t = rng.standard_normal((3, 4))
    hv = ac.hvp(mlp, 0)(W, v, X, t)
    gw = ac.grad(mlp, 0)
    eps = 1e-6
    fd = (gw(W + eps * t, v, X) - gw(W - eps * t, v, X)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)
