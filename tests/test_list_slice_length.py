"""A slice store that changes a list's length (``xs[1:] = [v]``, ``xs[i:j] += ys``, ``del``-like ``xs[1:2] =
[]``): forward mode differentiates it (the same store into the tangent list); reverse mode, whose cotangents
and undo are laid out by position, refuses it where it is written, at run time in the forward sweep (the
lengths are known only then). It used to crash inside the adjoint sweep (a ValueError from NumPy, an unlocated
TypeError). A store that keeps the length is differentiated in both modes. References: central differences."""

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central


def extends_a_slice(x):
    a = list(x)
    a[1:] += [x[0] * 4]
    return a[1] * a[0] + a[3] * a[2]


def shortens(x):
    a = list(x)
    a[0:2] = [5.0]
    return a[0] * a[1]


def grows_in_a_loop(x):
    a = list(x)
    for i in range(2):
        a[i : i + 1] = [a[i] * 2, x[2]]
    return a[0] * a[1] + a[-1]


def replaces_all(x):
    a = [x[0], x[1]]
    a[:] = [x[2], x[2], x[0]]
    return a[0] * a[2] + a[1]


def empties_a_slice(x):
    a = [x[0], x[1], x[2]]
    a[1:2] = []
    return a[0] * a[1]


def grows_an_inner_list(x):
    a = [[x[0], x[1]], [x[2]]]
    a[0][1:] = [x[2], x[1]]
    return a[0][0] * a[0][2] + a[1][0]


def keeps_the_length_with_a_step(x):
    a = [x[0], x[1], x[2]]
    a[::2] = [x[1] * x[2], x[1]]
    return a[0] * a[2] + a[1]


def keeps_the_length(x):
    a = list(x)
    a[1:] = [x[0] * 4, x[2] ** 2]
    return a[1] * a[0] + a[2]


CHANGING = [extends_a_slice, shortens, grows_in_a_loop, replaces_all, empties_a_slice, grows_an_inner_list]
KEEPING = [keeps_the_length_with_a_step, keeps_the_length]
X = np.array([0.7, -0.4, 1.3])


@pytest.mark.parametrize("f", CHANGING + KEEPING, ids=lambda f: f.__name__)
def test_forward_mode_differentiates_every_slice_store(f):
    along = np.array([ac.jvp(f)(X.copy(), e)[1] for e in np.eye(3)])
    assert np.allclose(along, central(f, X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", KEEPING, ids=lambda f: f.__name__)
def test_reverse_mode_differentiates_a_store_that_keeps_the_length(f):
    assert np.allclose(ac.grad(f)(X.copy()), central(f, X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", CHANGING, ids=lambda f: f.__name__)
def test_reverse_mode_refuses_a_length_change_where_it_is_written(f):
    line = f.__code__.co_firstlineno + (3 if f is grows_in_a_loop else 2)
    where = r"test_list_slice_length\.py:%d:\d+: error: .*changes the length" % line
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(f)(X.copy())
