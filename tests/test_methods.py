"""ndarray methods and attributes (``x.T``, ``x.reshape(3, 2)``, ``x.sum(0)``, ``x.real``, ``x.shape`` ...),
each differentiated as the NumPy function it stands for, in reverse and forward mode, against central
differences of the original function (or a hand-derived derivative where the function rounds to
float32); ``np.reshape``'s keyword under both its names; keywords a rule does not model are refused
at the user's line."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads, directional_difference, relative_error

X = np.array([[0.3, -0.7, 1.1], [0.45, 0.2, -0.4]])
W = np.array([[0.1, 0.2], [0.3, -0.1], [0.5, 0.7]])
C32 = np.arange(6.0).reshape(3, 2)


def T(x):
    return np.sum(np.sin(x.T) * C32)


def T_of_vector(x):
    return np.sum(x[0].T * x[1])


def dot(x):
    return np.sum(x.dot(W) ** 2)


def dot_both(x):
    return x[0].dot(x[1])


def flatten(x):
    return np.sum(x.flatten() * np.arange(6.0))


def flatten_F(x):
    return np.sum(x.flatten("F") * np.arange(6.0))


def astype_float(x):
    return np.sum(x.astype(float) ** 3)


def astype_float64(x):
    return np.sum(np.tanh(x.astype(np.float64)))


def copy(x):
    y = x.copy()
    y[0, 0] = 5.0  # the copy is not x: x's entry keeps its gradient
    return np.sum(y * x)


def reshape_varargs(x):
    return np.sum(x.reshape(3, 2) * C32)


def reshape_tuple(x):
    return np.sum(x.reshape((3, 2)) * C32)


def reshape_minus_one(x):
    return np.sum(x.reshape(-1) * np.arange(6.0))


def reshape_order(x):
    return np.sum(x.reshape(3, 2, order="F") * C32)


def transpose_varargs(x):
    return np.sum(x.transpose(1, 0) * C32)


def transpose_tuple(x):
    return np.sum(x.transpose((1, 0)) * C32)


def transpose_none(x):
    return np.sum(x.transpose() * C32)


def sum_positional(x):
    return np.sum(x.sum(0) ** 2)


def sum_axis(x):
    return np.sum(x.sum(axis=1, keepdims=True) ** 2)


def sum_all(x):
    return x.sum() ** 2


def mean_axis(x):
    return np.sum(x.mean(axis=0) ** 2)


def mean_positional(x):
    return np.sum(x.mean(1) ** 2)


def max_all(x):
    return x.max()


def max_axis(x):
    return np.sum(x.max(0)) + np.sum(x.min(axis=1))


def prod(x):
    return x.prod(axis=1).sum()


def std_var(x):
    return x.std() + x.var(axis=0).sum()


def clip(x):
    return np.sum(x.clip(0, 1) ** 2)


def clip_negative(x):
    return np.sum(x.clip(-0.5, 0.5) ** 2)


def squeeze(x):
    return np.sum(x[:1].squeeze() ** 2)


def squeeze_axis(x):
    return np.sum(x[:, None, :].squeeze(axis=1) * x)


def ravel(x):
    return np.sum(x.ravel() * np.arange(6.0))


def real(x):
    return np.sum(x.real**2)


def imag(x):
    return np.sum(x.imag) + np.sum(x)


def swapaxes(x):
    return np.sum(x.swapaxes(0, 1) * C32)


def trace(x):
    return x[:, :2].trace()


def attributes(x):
    # ndim, shape, size and dtype carry no derivative: numbers the computation uses
    return np.sum(x) * x.ndim + np.sum(x**2) * x.shape[0] / x.size + np.sum(np.zeros(3, x.dtype) + x[0])


def chained(x):
    return x.T.reshape(2, 3).sum(axis=0).dot(x[0])


def item(x):
    return x[1, 2:].item() * x.sum().item() + float(np.float64(x[0, 0]) ** 2)


def tolist(x):
    rows = x.tolist()
    return sum(r[0] * r[2] - r[1] ** 2 for r in rows)


METHODS = [
    T,
    T_of_vector,
    dot,
    dot_both,
    flatten,
    flatten_F,
    astype_float,
    astype_float64,
    copy,
    reshape_varargs,
    reshape_tuple,
    reshape_minus_one,
    reshape_order,
    transpose_varargs,
    transpose_tuple,
    transpose_none,
    sum_positional,
    sum_axis,
    sum_all,
    mean_axis,
    mean_positional,
    max_all,
    max_axis,
    prod,
    std_var,
    clip,
    clip_negative,
    squeeze,
    squeeze_axis,
    ravel,
    real,
    imag,
    swapaxes,
    trace,
    attributes,
    chained,
    item,
    tolist,
]


@pytest.mark.parametrize("f", METHODS, ids=lambda f: f.__name__)
def test_method_gradient_and_tangent_match_central_differences(f):
    check_grads(f, [X.copy()], rtol=1e-6)
    d = np.random.default_rng(1).standard_normal(X.shape)
    value, t = ac.jvp(f)(X.copy(), d)
    assert value == f(X.copy())
    assert relative_error(t, directional_difference(f, [X.copy()], 0, d)) < 1e-6


def astype_float32(x):
    return np.sum(x.astype(np.float32) ** 2)


def test_astype_float32_against_the_hand_derived_gradient():
    # d/dx sum(float32(x)^2) = 2 float32(x), in x's float64 (central differences of a function rounded
    # to float32 are noise at the step 1e-6)
    g = ac.grad(astype_float32)(X.copy())
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * X.astype(np.float32), rtol=1e-7)
    _, t = ac.jvp(astype_float32)(X.copy(), np.ones_like(X))
    assert t.dtype == np.float32
    np.testing.assert_allclose(t, np.sum(2 * X.astype(np.float32)), rtol=1e-6)
    g32 = ac.grad(astype_float64)(X.astype(np.float32))  # a float32 argument cast up keeps float32 out
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, 1 - np.tanh(X) ** 2, rtol=1e-5)


# ---- np.reshape's keyword: newshape= before NumPy 2.1, shape= from 2.1, only shape= from 2.4 ---------


def _accepts(**kw):
    try:
        np.reshape(np.zeros(2), **kw)
    except TypeError:
        return False
    return True


def reshape_newshape(x):
    return np.sum(np.reshape(x, newshape=(3, 2)) * C32)


def reshape_newshape_order(x):
    return np.sum(np.reshape(x, newshape=6, order="F") * np.arange(6.0))


def reshape_shape(x):
    return np.sum(np.reshape(x, shape=(3, 2)) * C32)


@pytest.mark.parametrize(
    "f, keyword",
    [(reshape_newshape, "newshape"), (reshape_newshape_order, "newshape"), (reshape_shape, "shape")],
    ids=["newshape", "newshape-order", "shape"],
)
def test_reshape_keyword_works_where_numpy_takes_it(f, keyword):
    if _accepts(**{keyword: (2,)}):
        check_grads(f, [X.copy()], rtol=1e-6)
        d = np.ones_like(X)
        _, t = ac.jvp(f)(X.copy(), d)
        assert relative_error(t, directional_difference(f, [X.copy()], 0, d)) < 1e-6
    else:  # the call runs as written: NumPy's own TypeError, as calling f itself gives
        with pytest.raises(TypeError, match=keyword):
            f(X.copy())
        with pytest.raises(TypeError, match=keyword):
            ac.grad(f)(X.copy())


# ---- keywords a rule does not model: refused at the user's line, never ignored ---------------------


def copy_order(x):
    return np.sum(x.copy(order="F") ** 2)


def astype_copy(x):
    return np.sum(x.astype(np.float32, copy=False) ** 2)


def sum_dtype(x):
    return x.sum(dtype=np.complex64).real  # (a floating dtype since rules20, an integer one rules23: test_rules23)


def sum_complex_dtype(x):
    return np.real(np.sum(x, dtype="complex128"))  # (a floating dtype= since rules20, an integer one since rules23)


def matmul_dtype(x):
    return np.sum(np.matmul(x, x.T, dtype=np.float64))


def mean_out(x):
    return x.mean(axis=0, out=None).sum()


@pytest.mark.parametrize(
    "f, words",
    [
        (copy_order, "copy with an argument its derivative rule does not take, or without one it needs (order)"),
        (astype_copy, "astype with an argument its derivative rule does not take, or without one it needs (copy)"),
        (mean_out, "out="),
        (sum_complex_dtype, "sum: the gradient of a reduction with dtype= is not supported"),
        (matmul_dtype, "matmul with an argument its derivative rule does not take, or without one it needs (dtype)"),
    ],
    ids=["copy-order", "astype-copy", "mean-out", "sum-complex-dtype", "matmul-dtype"],
)
def test_unmodelled_keywords_are_refused_at_the_line(f, words):
    with pytest.raises(
        ac.UnsupportedError,
        match=r"test_methods\.py:%d:\d+: error: .*%s"
        % (
            f.__code__.co_firstlineno + 1,
            re.escape(words),
        ),
    ):
        ac.grad(f)(X.copy())


def test_a_dtype_given_by_a_name_is_refused_when_the_gradient_runs():
    # (a literal dtype is refused at the line; np.float32 is a name the rule's check sees at run time only)
    with pytest.raises(NotImplementedError, match="reduction with dtype="):
        ac.grad(sum_dtype)(X.copy())


# ---- clip's bounds as keywords (rules19): x.clip(min=, max=), np.clip(x, a_min=, a_max=) and NumPy 2.1's min=/max=


CLIPS = {
    "method max": lambda x, low, high: x.clip(max=high),
    "method min": lambda x, low, high: x.clip(min=low),
    "method both": lambda x, low, high: x.clip(min=low, max=high),
    "method positional": lambda x, low, high: x.clip(low, high),
    "a_min a_max": lambda x, low, high: np.clip(x, a_min=low, a_max=high),
    "min max": lambda x, low, high: np.clip(x, min=low, max=high),
}


@pytest.mark.parametrize("name", list(CLIPS))
def test_clip_bounds_as_keywords_against_differences(name):
    if name == "min max" and np.lib.NumpyVersion(np.__version__) < "2.1.0":
        pytest.skip("np.clip takes min= and max= from NumPy 2.1")
    clip = CLIPS[name]

    def f(x, low, high):
        return np.sum(np.sin(clip(x, low, high)) * np.arange(1.0, 7.0).reshape(2, 3))

    # some elements below, some above, some inside; a bound of each kind: an array and a number
    args = (np.array([[-1.0, 0.2, 0.7], [0.5, -0.3, 2.0]]), np.array([-0.5, 0.0, 0.1]), 0.6)
    grads = ac.grad(f, wrt=(0, 1, 2))(*args)
    rng = np.random.default_rng(7)
    for i, a in enumerate(args):
        d = rng.standard_normal(np.shape(a))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = a + 1e-6 * d, a - 1e-6 * d
        difference = (f(*plus) - f(*minus)) / 2e-6
        assert np.sum(grads[i] * d) == pytest.approx(difference, rel=1e-7, abs=1e-9)
        assert ac.jvp(f, wrt=i)(*args, d)[1] == pytest.approx(difference, rel=1e-7, abs=1e-9)
    assert np.any(grads[1] != 0) and grads[2] != 0 or name in ("method max", "method min")
