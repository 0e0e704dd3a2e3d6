"""The runtime helpers' fast paths for small arrays (task numpy16b, issue #14): ``matmul_bar1``/``matmul_bar2``
by np.dot and np.multiply.outer, ``unbroadcast`` of an ndarray over added leading axes, ``unreduce`` of a
full reduction's number, ``shape_of`` on a tape. Each against a hand-derived value (the sum over the added
axes, the textbook product adjoints), and models that take these paths against central differences and
autograd: float32 stays float32, complex stays complex, empty and 0-d arrays, arguments never mutated."""

import types

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime, testing

rng = np.random.default_rng(16)


# ---- the helpers against hand-derived values ----


@pytest.mark.parametrize(
    "c_shape, like_shape, axes",
    [
        ((5, 3), (3,), (0,)),  # a bias against a batch of rows
        ((2, 5, 3), (3,), (0, 1)),  # two added axes
        ((2, 5, 3), (5, 3), (0,)),
        ((4, 1), (1,), (0,)),  # a column's bias
        ((0, 3), (3,), (0,)),  # an empty batch: zeros
        ((4, 3), (), None),  # a number's contribution: the sum of all
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_unbroadcast_sums_the_added_leading_axes(c_shape, like_shape, axes, dtype):
    c = rng.standard_normal(c_shape).astype(dtype)
    if dtype is np.complex128:
        c = c + 1j * rng.standard_normal(c_shape)
    like = np.zeros(like_shape, dtype)
    out = runtime.unbroadcast(c, like)
    expected = c.sum(axis=axes)  # by hand: the copies along the added axes summed back
    assert np.shape(out) == like_shape
    assert np.result_type(out) == np.dtype(dtype)
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype is np.float32 else 1e-12)


def test_unbroadcast_length_one_axes_and_lists_keep_the_general_path():
    c = rng.standard_normal((2, 4, 3))
    np.testing.assert_allclose(runtime.unbroadcast(c, np.zeros((4, 1))), c.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(runtime.unbroadcast(c, runtime.shape_of(np.zeros((1, 3)))), c.sum(axis=(0, 1))[None])
    with pytest.raises(TypeError, match="list or tuple"):
        runtime.unbroadcast(np.ones((2, 3)), [1.0, 2.0, 3.0])
    same = np.ones(3)
    assert runtime.unbroadcast(same, np.zeros(3)) is same  # nothing to sum: the same array


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 3), (), (0,), (5000,)])
def test_unreduce_of_a_full_reduction_keeps_the_precision(dtype, shape):
    like = np.zeros(shape, dtype)
    out = runtime.unreduce(0.1, like)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, np.full(shape, dtype(0.1)))  # 0.1 rounded once, to like's precision
    complex_out = runtime.unreduce(0.5 + 1j, np.zeros(3, complex))
    np.testing.assert_array_equal(complex_out, np.full(3, 0.5 + 1j))


OUTER_SHAPES = [
    ((6, 1), (1, 4)),  # a product over one term: an outer product
    ((6, 3), (3, 1)),  # a column out: g @ x2.T over one term
    ((1, 3), (3, 5)),
    ((6, 3), (3,)),
    ((3,), (3, 5)),
]


@pytest.mark.parametrize("s1, s2", OUTER_SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_matmul_bars_are_the_textbook_formulas(s1, s2, dtype):
    def draw(shape):
        x = rng.standard_normal(shape)
        return (x + 1j * rng.standard_normal(shape) if dtype is np.complex128 else x).astype(dtype)

    x1, x2 = draw(s1), draw(s2)
    g = draw(np.shape(x1 @ x2))
    bar1, bar2 = runtime.matmul_bar1(g, x1, x2), runtime.matmul_bar2(g, x1, x2)
    # by hand, from C = A B: A_bar = C_bar B^T, B_bar = A^T C_bar (vectors promoted to a row or a column)
    a = x1.reshape(1, -1) if x1.ndim == 1 else x1
    b = x2.reshape(-1, 1) if x2.ndim == 1 else x2
    gg = g.reshape(a.shape[0], b.shape[1])
    want1 = (gg @ b.T).reshape(s1)
    want2 = (a.T @ gg).reshape(s2)
    assert bar1.dtype == np.dtype(dtype) and bar2.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(bar1, want1, rtol=tol, atol=tol)
    np.testing.assert_allclose(bar2, want2, rtol=tol, atol=tol)


def test_shape_of_in_one_frame():
    s = runtime.shape_of(np.zeros((2, 3), np.float32))
    assert (s.shape, s.dtype, s.ndim) == ((2, 3), np.dtype(np.float32), 2)
    s = runtime.shape_of([1.0, 2.0])
    assert (s.shape, s.dtype) == ((2,), np.dtype(float))
    pair = runtime.shape_of((np.zeros(2), 1.0))
    assert [p.shape for p in pair] == [(2,), ()]


# ---- models through these paths, against central differences and autograd ----


def column_mlp(W1, b1, W2, b2, X, Y):
    # a width-1 output layer: its adjoint's g @ W2.T is an outer product
    hidden = np.tanh(X @ W1 + b1)
    out = hidden @ W2 + b2
    return np.mean((out - Y) ** 2)


def batched_bias(b, X):
    # b is broadcast along two added axes
    return np.mean(np.sin(X + b) * X)


def growing_rnn(Wx, Wh, xs, h0):
    # h0 a vector, then h a (batch, hidden) matrix: the shape that the tape's shape_of keeps changes
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
    return np.sum(h * h)


def vector_products(A, v, w):
    return np.sum((A @ v) ** 2) + np.sum((w @ A) * v)


def _models():
    return [
        (
            column_mlp,
            (
                rng.standard_normal((4, 5)) * 0.5,
                rng.standard_normal(5) * 0.1,
                rng.standard_normal((5, 1)) * 0.5,
                rng.standard_normal(1) * 0.1,
                rng.standard_normal((7, 4)),
                rng.standard_normal((7, 1)),
            ),
            (0, 1, 2, 3),
        ),
        (batched_bias, (rng.standard_normal(3), rng.standard_normal((2, 4, 3))), 0),
        (
            growing_rnn,
            (
                rng.standard_normal((3, 4)) * 0.5,
                rng.standard_normal((4, 4)) * 0.5,
                rng.standard_normal((5, 2, 3)),
                rng.standard_normal(4),
            ),
            (0, 1, 3),
        ),
        (vector_products, (rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)), (0, 1, 2)),
    ]


MODELS = _models()
IDS = [m[0].__name__ for m in MODELS]


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_models_match_central_differences(f, args, wrt):
    copies = [np.array(a) for a in args]
    testing.check_grads(f, args, wrt=wrt, rtol=1e-6)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)  # the arguments are never mutated


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_models_match_autograd(f, args, wrt):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    peer = types.FunctionType(f.__code__, dict(f.__globals__, np=anp), f.__name__)
    ours, theirs = ac.grad(f, wrt)(*args), autograd.grad(peer, wrt)(*args)
    for a, b in zip(ours if isinstance(wrt, tuple) else (ours,), theirs if isinstance(wrt, tuple) else (theirs,)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, args, wrt", MODELS, ids=IDS)
def test_float32_models_keep_float32(f, args, wrt):
    args32 = tuple(np.asarray(a, np.float32) for a in args)
    ours = ac.grad(f, wrt)(*args32)
    exact = ac.grad(f, wrt)(*(np.asarray(a, np.float64) for a in args32))
    for a, b in zip(ours if isinstance(wrt, tuple) else (ours,), exact if isinstance(wrt, tuple) else (exact,)):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def complex_products(A, v):
    return np.real(np.sum((A @ v) * np.conj(A @ v)))


def test_complex_products_match_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    A = rng.standard_normal((3, 1)) + 1j * rng.standard_normal((3, 1))  # a product over one term again
    v = rng.standard_normal((1, 4)) + 1j * rng.standard_normal((1, 4))
    peer = types.FunctionType(complex_products.__code__, dict(globals(), np=anp), "complex_products")
    ours, theirs = ac.grad(complex_products, (0, 1))(A, v), autograd.grad(peer, (0, 1))(A, v)
    for a, b in zip(ours, theirs):
        assert np.iscomplexobj(a)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_empty_batch_and_zero_d():
    def loss(b, X):
        return np.sum(np.tanh(X + b))

    grad = ac.grad(loss, 0)
    np.testing.assert_array_equal(grad(np.ones(3), np.zeros((0, 3))), np.zeros(3))
    b0 = np.array(0.3)
    g0 = grad(b0, rng.standard_normal((2, 3)))
    assert np.shape(g0) == ()
    testing.check_grads(loss, (b0, rng.standard_normal((2, 3))), wrt=0, rtol=1e-6)


# ---- reverse/shapes: operands that certainly share one shape need no unbroadcast ----


def same_shape_chain(x):
    a = np.exp(x)
    b = np.sin(x)
    c = a * b - a / (1.0 + b * b)
    return np.sum(c * c)


def maybe_broadcast(x, y):
    a = np.exp(x)
    b = np.sin(y)  # of y's shape, which may be x's or broadcast against it
    return np.sum(a * b - a)


def list_twice(xs):
    ys = xs + xs  # a list param: a concatenation, never element-wise
    return np.sum(np.tanh(ys) * np.tanh(xs + xs))


def test_operands_of_one_shape_drop_unbroadcast():
    source = ac.adjoint_source(same_shape_chain, wrt=0)
    assert "unbroadcast" not in source
    assert "unbroadcast" in ac.adjoint_source(maybe_broadcast, wrt=(0, 1))


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (same_shape_chain, (rng.standard_normal(5),), 0),
        (same_shape_chain, (rng.standard_normal((2, 3)).astype(np.float32),), 0),
        (maybe_broadcast, (rng.standard_normal(3), rng.standard_normal((2, 3))), (0, 1)),
        (maybe_broadcast, (rng.standard_normal((2, 1)), rng.standard_normal(3)), (0, 1)),
        (maybe_broadcast, (np.array(0.4), rng.standard_normal(0)), (0, 1)),
    ],
)
def test_one_shape_gradients_match_autograd(f, args, wrt):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    peer = types.FunctionType(f.__code__, dict(f.__globals__, np=anp), f.__name__)
    ours, theirs = ac.grad(f, wrt)(*args), autograd.grad(peer, wrt)(*args)
    for a, b, x in zip(*(v if isinstance(wrt, tuple) else (v,) for v in (ours, theirs, [args[0]]))):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, x in zip(ours if isinstance(wrt, tuple) else (ours,), [args[i] for i in np.atleast_1d(wrt)]):
        assert np.shape(a) == np.shape(x) and np.result_type(a) == np.result_type(x)


def test_a_list_added_to_itself_is_still_refused():
    # xs + xs concatenates a list: the element-wise values after it share ys's shape (4 elements), and the
    # concatenation's own adjoint stays refused at run time (as before), never a wrong gradient
    with pytest.raises(TypeError, match="list or tuple met an arithmetic operator"):
        ac.grad(list_twice, 0)([0.3, -0.7])
