"""A matrix product whose cotangent comes back broadcast (task arrays18, issue #14).

Where an element-wise operation reads a product once (``x @ w + c``), the compiler leaves out
``unbroadcast(g, x @ w)`` and ``matmul_bar1``/``matmul_bar2`` sum a ``g`` larger than the product back to
the product's shape themselves; a loop then keeps no ``shape_of`` of the product on its tape. Checked here:
the helpers against the textbook formulas applied to ``g`` summed by hand; models whose products are
broadcast (a row against a matrix, a column, a number, 1-d @ 2-d, a stack, an empty batch) against central
differences and autograd; float32 kept float32; one compiled gradient called with shapes that broadcast on
one call and not on another; products read twice or across a loop (which keep their ``unbroadcast``); and
the second derivatives through the helpers' own rules."""

import types

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime, testing

from tests.references import central

rng = np.random.default_rng(18)


# ---- the helpers against the textbook formulas on g summed by hand ----


def _summed(g, shape):
    """g summed over the axes broadcasting added to ``shape`` or stretched from length 1 (by hand)."""
    g = np.asarray(g)
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _textbook(g, x1, x2):
    """(x1_bar, x2_bar) of x1 @ x2 for g of the product's shape, by einsum over the promoted operands."""
    a = x1[None, :] if x1.ndim == 1 else x1
    b = x2[:, None] if x2.ndim == 1 else x2
    gg = g
    if x2.ndim == 1:
        gg = gg[..., None]
    if x1.ndim == 1:
        gg = gg[..., None, :]
    a_bar = np.einsum("...ij,...kj->...ik", gg, np.broadcast_to(b, gg.shape[:-2] + b.shape[-2:]))
    b_bar = np.einsum("...ki,...kj->...ij", np.broadcast_to(a, gg.shape[:-2] + a.shape[-2:]), gg)
    return _summed(a_bar, a.shape).reshape(x1.shape), _summed(b_bar, b.shape).reshape(x2.shape)


@pytest.mark.parametrize(
    "s1, s2, g_shape",
    [
        ((3, 4), (4, 5), (3, 5)),  # nothing broadcast
        ((1, 4), (4, 5), (6, 5)),  # a row against a matrix
        ((3, 4), (4, 1), (3, 7)),  # a column against a matrix
        ((1, 4), (4, 1), (3, 2)),  # a 1 x 1 product against a matrix
        ((3, 4), (4, 5), (2, 3, 5)),  # a stack of the product
        ((4,), (4, 5), (3, 5)),  # 1-d @ 2-d, against a matrix
        ((3, 4), (4,), (2, 3)),  # 2-d @ 1-d, against a matrix
        ((4,), (4,), (3,)),  # a number against a vector
        ((4,), (4,), ()),  # a number, not broadcast
        ((2, 3, 4), (4, 5), (2, 3, 5)),  # a stack, not broadcast
        ((2, 3, 4), (4, 5), (7, 2, 3, 5)),  # a stack of stacks
        ((0, 4), (4, 5), (0, 5)),  # empty
        ((1, 4), (4, 5), (0, 5)),  # a row against an empty batch
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matmul_bars_sum_a_broadcast_cotangent(s1, s2, g_shape, dtype):
    x1, x2 = rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype)
    g = rng.standard_normal(g_shape).astype(dtype)
    product = np.shape(x1 @ x2)
    expected = _textbook(_summed(g, product).reshape(product), x1, x2)
    got = runtime.matmul_bar1(g, x1, x2), runtime.matmul_bar2(g, x1, x2)
    tol = 1e-5 if dtype is np.float32 else 1e-12
    for out, want, x in zip(got, expected, (x1, x2)):
        assert np.shape(out) == x.shape
        assert np.asarray(out).dtype == dtype
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol)


# ---- models whose products are broadcast, against central differences and autograd ----


def row_against_matrix(u, W, C):
    return np.sum(np.sin(u @ W + C))


def column_against_matrix(A, w, C):
    return np.sum(np.tanh(A @ w * C))


def vector_matrix(v, W, C):
    return np.sum((v @ W - C) ** 2)


def number_against_vector(a, b, c):
    return np.sum(np.exp(0.1 * (a @ b + c)))


def stacked(A, B, C):
    return np.mean(np.cos(C + A @ B))


def rnn(Wx, Wh, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
    return np.sum(h * h)


def _models():
    n = rng.standard_normal
    return [
        (row_against_matrix, (n((1, 3)), n((3, 4)), n((5, 4))), (0, 1, 2)),
        (column_against_matrix, (n((5, 3)), n((3, 1)), n((5, 4))), (0, 1, 2)),
        (vector_matrix, (n(3), n((3, 4)), n((2, 4))), (0, 1, 2)),
        (number_against_vector, (n(3), n(3), n(4)), (0, 1, 2)),
        (stacked, (n((3, 4)), n((4, 2)), n((2, 3, 2))), (0, 1, 2)),
        # h0 a vector: the first step's h @ Wh is broadcast against the batch, the later ones are not
        (rnn, (n((3, 4)) * 0.5, n((4, 4)) * 0.5, n((5, 2, 3)), n(4)), (0, 1, 3)),
    ]


MODELS = _models()
IDS = [m[0].__name__ for m in MODELS]


def _parts(g, wrt):
    return g if isinstance(wrt, tuple) else (g,)


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_models_match_central_differences(f, args, wrt):
    copies = [np.array(a) for a in args]
    testing.check_grads(f, args, wrt=wrt, rtol=1e-6)
    grads = ac.grad(f, wrt)(*args)
    for i, g in zip(wrt, _parts(grads, wrt)):  # every component, not only directions
        expected = central(lambda a, i=i: f(*(args[:i] + (a,) + args[i + 1 :])), args[i])
        assert np.shape(g) == np.shape(args[i])
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-7)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_models_match_autograd(f, args, wrt):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    peer = types.FunctionType(f.__code__, dict(f.__globals__, np=anp), f.__name__)
    ours, theirs = ac.grad(f, wrt)(*args), autograd.grad(peer, wrt)(*args)
    for a, b in zip(_parts(ours, wrt), _parts(theirs, wrt)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_float32_stays_float32(f, args, wrt):
    args32 = tuple(np.asarray(a, np.float32) for a in args)
    ours = ac.grad(f, wrt)(*args32)
    exact = ac.grad(f, wrt)(*(np.asarray(a, np.float64) for a in args32))
    for a, b in zip(_parts(ours, wrt), _parts(exact, wrt)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_the_product_is_not_summed_nor_taped():
    src = ac.adjoint_source(rnn, (0, 1))
    assert "shape_of" not in src  # the loop keeps h, h_2 and x, not the products' shapes
    assert "unbroadcast(_t5_bar" not in src
    src = ac.adjoint_source(row_against_matrix, (0, 1, 2))
    assert "u_bar = matmul_bar1(_t2_bar, u, W)" in src and "W_bar = matmul_bar2(_t2_bar, u, W)" in src


def test_one_gradient_for_shapes_that_broadcast_on_one_call_only():
    g = ac.grad(row_against_matrix, (0, 1, 2))
    cases = [
        (rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))),  # not broadcast
        (rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((6, 4))),  # rows
        (rng.standard_normal((2, 3)), rng.standard_normal((3, 1)), rng.standard_normal((2, 5))),  # columns
        (rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((3, 2, 4))),  # a stack
        (rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((0, 4))),  # empty
        (rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))),  # back again
    ]
    for args in cases:
        grads = g(*args)
        for i, got in enumerate(grads):
            expected = central(lambda a, i=i: row_against_matrix(*(args[:i] + (a,) + args[i + 1 :])), args[i])
            assert np.shape(got) == np.shape(args[i])
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def read_twice(A, B, C):
    p = A @ B
    return np.sum(np.sin(p + C)) + np.sum(p * p)


def across_a_loop(A, B, C):
    p = A @ B
    s = 0.0
    for k in range(3):
        s = s + np.sum(np.sin(p + k * C))
    return s


@pytest.mark.parametrize("f", [read_twice, across_a_loop])
def test_a_product_read_twice_or_in_a_loop_keeps_its_sum(f):
    # two contributions broadcast differently cannot be added before the sum: each is summed on its own
    args = (rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4)))
    assert "unbroadcast" in ac.adjoint_source(f, (0, 1, 2))
    grads = ac.grad(f, (0, 1, 2))(*args)
    for i, got in enumerate(grads):
        expected = central(lambda a, i=i: f(*(args[:i] + (a,) + args[i + 1 :])), args[i])
        assert np.shape(got) == np.shape(args[i])
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


# ---- second order: the helpers' own adjoint and tangent rules with a broadcast g ----


def squared_gradient(u, W, C):
    g_u, g_w = ac.grad(row_against_matrix, (0, 1))(u, W, C)
    return np.sum(g_u**2) + np.sum(g_w**2)


@pytest.mark.parametrize("i", [0, 1, 2])
def test_gradient_of_a_gradient_through_a_broadcast_product(i):
    args = (rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4)))
    got = ac.grad(squared_gradient, i)(*args)
    expected = central(lambda a: squared_gradient(*(args[:i] + (a,) + args[i + 1 :])), args[i], h=1e-5)
    assert np.shape(got) == np.shape(args[i])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_hvp_through_a_broadcast_product():
    u, W, C = rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    v = rng.standard_normal((1, 3))
    got = ac.hvp(row_against_matrix, 0)(u, W, C, v)
    grad = ac.grad(row_against_matrix, 0)
    h = 1e-5
    expected = (grad(u + h * v, W, C) - grad(u - h * v, W, C)) / (2 * h)  # central differences of the gradient
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def through_the_helpers(u, W, C):
    # what emitted gradient code computes, written out: matmul_bar1/matmul_bar2 given the broadcast g
    g = np.cos(u @ W) - C  # (C's cotangent is g's, whose shape only the helpers' rules make right)
    return np.sum(runtime.matmul_bar1(g, u, W) ** 2) + np.sum(np.sin(runtime.matmul_bar2(g, u, W)))


@pytest.mark.parametrize("i", [0, 1, 2])
def test_the_helpers_differentiated_with_a_broadcast_g(i):
    # reverse mode through matmul_bar1/matmul_bar2's own adjoint rules (g_in's cotangent fit to g's shape)
    args = (rng.standard_normal((1, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4)))
    got = ac.grad(through_the_helpers, i)(*args)
    expected = central(lambda a: through_the_helpers(*(args[:i] + (a,) + args[i + 1 :])), args[i], h=1e-5)
    assert np.shape(got) == np.shape(args[i])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    direction = rng.standard_normal(np.shape(args[i]))  # and forward mode through their tangent rules
    _, tangent = ac.jvp(through_the_helpers, i)(*args, direction)
    np.testing.assert_allclose(tangent, np.sum(expected * direction), rtol=1e-5, atol=1e-6)


# ---- a Python float broadcast against arrays: its cotangent a Python float (the API's fast path) ----


def logistic(w, b, X, y):
    margin = (X @ w + b) * (2.0 * y - 1.0)
    return np.mean(np.log1p(np.exp(-margin)))


def test_unbroadcast_to_a_python_float_is_a_python_float():
    c = rng.standard_normal((4, 3))
    out = runtime.unbroadcast(c, 0.5)
    assert type(out) is float and out == np.add.reduce(c, axis=None)  # by hand: the sum of all
    c32 = c.astype(np.float32)
    assert runtime.unbroadcast(c32, 0.5).dtype == np.float32  # float32 kept as it is
    assert type(runtime.unbroadcast(c, np.float64(0.5))) is np.float64  # a NumPy number's: a NumPy number
    assert np.iscomplexobj(runtime.unbroadcast(c + 1j, 0.5))


def test_a_float_bias_gradient_is_a_float():
    w, X, y = rng.standard_normal(3), rng.standard_normal((6, 3)), (rng.random(6) > 0.5).astype(float)
    g_w, g_b = ac.grad(logistic, (0, 1))(w, 0.3, X, y)
    assert type(g_b) is float
    assert g_b == pytest.approx(central(lambda b: logistic(w, b, X, y), 0.3), rel=1e-6)
    np.testing.assert_allclose(g_w, central(lambda v: logistic(v, 0.3, X, y), w), rtol=1e-6)
    g_b32 = ac.grad(logistic, 1)(w.astype(np.float32), 0.3, X.astype(np.float32), y.astype(np.float32))
    assert type(g_b32) is float and g_b32 == pytest.approx(g_b, rel=1e-4)
