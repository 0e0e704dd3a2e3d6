"""Spreading known-length sequences (``h(*args[1:])``, ``h(*list(xs))``), and the wrong gradient of
an inlined function reading an attribute of a parameter bound to a computed value."""

import numpy as np
import pytest

import adjoint_compiler as ac


def _symmetrize(a):
    return (a + a.T) / 2


def _inner(a, b):
    return np.sum(a * b)


def _fd_grad(f, args, i, eps=1e-6):
    args = [np.array(a, dtype=float) for a in args]
    g = np.zeros_like(args[i])
    for k in np.ndindex(g.shape):
        up = [a.copy() for a in args]
        down = [a.copy() for a in args]
        up[i][k] += eps
        down[i][k] -= eps
        g[k] = (f(*up) - f(*down)) / (2 * eps)
    return g


def _fd_jvp(f, args, tangents, eps=1e-6):
    up = [a + eps * t for a, t in zip(args, tangents)]
    down = [a - eps * t for a, t in zip(args, tangents)]
    return (f(*up) - f(*down)) / (2 * eps)


def _check(f, *args):
    rng = np.random.default_rng(0)
    for i in range(len(args)):
        assert np.allclose(ac.grad(f, wrt=i)(*args), _fd_grad(f, args, i), rtol=1e-5, atol=1e-7)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    wrt = tuple(range(len(args)))
    _, dot = ac.jvp(f, wrt=wrt)(*args, tangents)
    assert np.allclose(dot, _fd_jvp(f, args, tangents), rtol=1e-5, atol=1e-7)


A = np.array([[1.0, 2.0], [0.5, -1.5]])
B = np.array([[0.3, -0.7], [1.1, 0.4]])


def inlined_attribute_of_item(x, y):  # symmetrize is inlined with a = args[0]: a.T must be differentiated
    args = (x, y)
    return np.sum(_symmetrize(args[0]) * y)


def test_inlined_function_reads_attribute_of_computed_argument():
    g = ac.grad(inlined_attribute_of_item)(A, B)
    assert np.allclose(g, (B + B.T) / 2)  # by hand: d/dx sum(sym(x) * y) = sym(y)
    _check(inlined_attribute_of_item, A, B)


def spread_slice_of_own_args(*args):  # autograd's test_linalg pattern
    new_fun = lambda *args: _inner(_symmetrize(args[0]), *args[1:])  # noqa: E731
    return new_fun(*args)


def spread_rebound_list(x, y):
    args = (x, y)
    args = list(args)
    args[0] = _symmetrize(args[0])
    return _inner(*args)


def spread_copies_and_slices(x, y):
    xs = (y, x)
    ys = tuple(xs[0:])
    return _inner(*ys) + _inner(*list(xs)) / 3 + _inner(*xs[-2:])


def lambda_in_varargs_function(*args):
    new_fun = lambda p, q: _inner(_symmetrize(p), q)  # noqa: E731
    return new_fun(*args)


@pytest.mark.parametrize(
    "f", [spread_slice_of_own_args, spread_rebound_list, spread_copies_and_slices, lambda_in_varargs_function]
)
def test_spreads_of_known_length(f):
    _check(f, A, B)


def test_spread_by_hand():
    assert np.allclose(ac.grad(spread_slice_of_own_args)(A, B), (B + B.T) / 2)
    assert np.allclose(ac.grad(spread_rebound_list, wrt=1)(A, B), (A + A.T) / 2)


def spread_of_appended_list(x, y):
    args = [x]
    args.append(y)  # the length changes: not known
    return _inner(*args)


def test_spread_of_changed_list_is_refused():
    with pytest.raises(ac.UnsupportedError, match=r"test_spreading.py:\d+:\d+.*\*args in a call"):
        ac.grad(spread_of_appended_list)(A, B)
