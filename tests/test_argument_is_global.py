"""A function that changes its argument in place and reads a global or closure array, called with that array as
the argument (``f(G)`` where ``f`` does ``x *= 2`` or ``x[0] = v`` and reads ``G``): Python shows the change
through ``G``, the compiled code changes its own copy and would read ``G`` unchanged, a silently wrong number.
Refused at run time, located (``desugar.containers_read``, ``runtime.check_unshared`` / ``check_apart``); any
other argument works as before.

References: central differences of the original function run on copies, and the hand-derived gradient."""

import numpy as np
import pytest

import adjoint_compiler as ac

G = np.array([1.0, 2.0, 3.0])
ROWS = [1.0, 2.0]


def doubled(x):
    x *= 2.0
    return np.sum(G * x)


def first_tripled(x):
    x[0] = x[0] * 3.0
    return np.sum(G * x)


def appended(xs):
    xs.append(xs[0] * 2.0)
    return sum(ROWS) * xs[-1]


def make_closure():
    W = np.array([0.5, -1.0, 2.0])

    def scaled(x):
        x[1:] *= 3.0
        return np.sum(W * x**2)

    return scaled, W


def _central(f, x, h=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("f", [doubled, first_tripled])
def test_the_global_itself_as_argument_is_refused_located(f):
    given = G.copy()
    with pytest.raises(
        ac.UnsupportedError,
        match=r"global variable.*test_argument_is_global\.py:\d+:\d+|"
        r"test_argument_is_global\.py:\d+:\d+.*global variable",
    ):
        ac.grad(f)(G)
    np.testing.assert_array_equal(G, given)  # refused before any change


@pytest.mark.parametrize("f", [doubled, first_tripled])
def test_a_view_of_the_global_is_refused(f):
    with pytest.raises(ac.UnsupportedError, match="global variable"):
        ac.grad(f)(G[::-1])
    np.testing.assert_array_equal(G, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("f, expected", [(doubled, lambda x: 2.0 * G), (first_tripled, lambda x: G * [3.0, 1, 1])])
def test_another_argument_gets_its_gradient_and_changes_as_python_changes_it(f, expected):
    x = np.array([0.3, -0.7, 1.1])
    ours = x.copy()
    g = ac.grad(f)(ours)
    np.testing.assert_allclose(g, expected(x), rtol=1e-12)
    np.testing.assert_allclose(g, _central(lambda v: f(v.copy()), x), rtol=1e-6)
    python = x.copy()
    f(python)
    np.testing.assert_array_equal(ours, python)
    np.testing.assert_array_equal(G, [1.0, 2.0, 3.0])


def test_a_global_list_passed_to_a_function_appending_to_its_argument_is_refused():
    with pytest.raises(ac.UnsupportedError, match="global variable"):
        ac.grad(appended)(ROWS)
    assert ROWS == [1.0, 2.0]
    xs = [0.5, 1.5]
    assert ac.grad(appended)(xs) == [2.0 * sum(ROWS), 0.0]
    assert xs == [0.5, 1.5, 1.0]


def test_a_closure_array_as_argument_is_refused_and_a_copy_works():
    f, W = make_closure()
    with pytest.raises(ac.UnsupportedError, match="global variable"):
        ac.grad(f)(W)
    x = W.copy()
    g = ac.grad(f)(x)
    np.testing.assert_allclose(g, _central(lambda v: f(v.copy()), W), rtol=1e-6)
