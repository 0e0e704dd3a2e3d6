"""An in-place update through a view of a local array (``v = a[1:]; v *= 3.0``) changes the array it views;
the compiled code would compute a new value instead, so every variant is refused at the user's line, never
differentiated wrongly: augmented assignments, element and slice stores, ``out=`` and NumPy writers, views
made by basic slices, ``.T``, ``reshape``/``ravel``/``view``, a row of a 2-D array and a view of a view.
The rewrite the message suggests, an update through an index of the base array, is differentiated exactly
(checked against central differences)."""

import os

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError
from tests.references import marked_location

HERE = os.path.basename(__file__)
X = np.array([0.3, -0.7, 1.1, 0.5])


def times_through_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v *= 3.0  # <- v
    return np.sum(a * a)


def plus_through_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v += x[:-1]  # <- v
    return np.sum(a * a)


def power_through_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v **= 2.0  # <- v
    return np.sum(a * a)


def divide_through_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v /= x[1:]  # <- v
    return np.sum(a * a)


def ellipsis_store_through_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v[...] = 1.0  # <- v
    return np.sum(a * a)


def element_store_through_a_row(x):
    a = np.outer(x, x)
    v = a[0]
    v[1] = x[0]  # <- v
    return np.sum(a * a)


def out_argument_on_a_slice(x):
    a = x * 2.0
    v = a[1:]
    np.multiply(v, 3.0, out=v)  # <- np
    return np.sum(a * a)


def fill_of_a_slice(x):
    a = x * 2.0
    v = a[1:]
    v.fill(2.0)  # <- v
    return np.sum(a * a)


def times_through_a_transpose(x):
    a = np.outer(x, x)
    v = a.T
    v *= 3.0  # <- v
    return np.sum(a * np.arange(16.0).reshape(4, 4))


def times_through_a_reshape(x):
    a = np.outer(x, x)
    v = a.reshape(-1)
    v *= 3.0  # <- v
    return np.sum(a * a)


def times_through_a_ravel(x):
    a = np.outer(x, x)
    v = a.ravel()
    v *= 3.0  # <- v
    return np.sum(a * a)


def times_through_a_strided_slice(x):
    a = x * 2.0
    v = a[::2]
    v *= 3.0  # <- v
    return np.sum(a * a)


def minus_through_a_row(x):
    a = np.outer(x, x)
    v = a[0]
    v -= x  # <- v
    return np.sum(a * a)


def minus_through_a_column(x):
    a = np.outer(x, x)
    v = a[:, 1]
    v -= x  # <- v
    return np.sum(a * a)


def times_through_a_view_of_a_view(x):
    a = x * 2.0
    v = a[1:3]
    w = v[1:]
    w *= 3.0  # <- w
    return np.sum(a * a)


def times_through_view(x):
    a = x * 2.0
    v = a.view()
    v *= 3.0  # <- v
    return np.sum(a * a)


def times_through_a_second_name(x):
    a = x * 2.0
    b = a
    b *= 3.0  # <- b
    return np.sum(a * a)


# written through since desugar.view_writes: the update is the store into the array viewed (a[1:] *= 3.0)
WRITTEN_THROUGH = [
    times_through_a_slice,
    plus_through_a_slice,
    power_through_a_slice,
    divide_through_a_slice,
    times_through_a_strided_slice,
    minus_through_a_column,
]

REFUSED = [
    ellipsis_store_through_a_slice,
    element_store_through_a_row,
    out_argument_on_a_slice,
    fill_of_a_slice,
    times_through_a_transpose,
    times_through_a_reshape,
    times_through_a_ravel,
    minus_through_a_row,
    times_through_a_view_of_a_view,
    times_through_view,
    times_through_a_second_name,
]


@pytest.mark.parametrize("f", REFUSED, ids=[f.__name__ for f in REFUSED])
def test_an_update_through_a_view_is_refused_at_its_line(f):
    x = X.copy()
    line, _ = marked_location(f)
    for run in (lambda: ac.grad(f)(x), lambda: ac.jvp(f)(x, np.ones(4)), lambda: ac.vjp(f)(x)):
        with pytest.raises(UnsupportedError) as info:
            run()
        assert "%s:%d:" % (HERE, line) in str(info.value), str(info.value)
        assert "; " in str(info.value)  # with a hint
    assert np.array_equal(x, X)  # the argument is untouched


@pytest.mark.parametrize("f", WRITTEN_THROUGH, ids=[f.__name__ for f in WRITTEN_THROUGH])
def test_an_update_through_a_slice_is_the_store_into_its_array(f):
    h = 1e-6
    central = np.array([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(4)])
    x = X.copy()
    np.testing.assert_allclose(ac.grad(f)(x), central, rtol=1e-6, atol=1e-8)
    assert np.array_equal(x, X)  # (f changes its own array, not its argument)
    v = np.linspace(-0.5, 0.9, 4)
    assert ac.jvp(f)(X.copy(), v)[1] == pytest.approx(central @ v, rel=1e-6, abs=1e-8)


def test_the_hint_names_the_view_and_the_rewrite():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(times_through_a_reshape)(X.copy())
    assert "v is a view of another array" in str(info.value)
    assert "(a[1:] *= ...)" in str(info.value) and "v = v * ..." in str(info.value)


def through_the_base(x):
    a = x * 2.0
    a[1:] *= 3.0
    a[::2] += x[:2]
    return np.sum(a * a)


def through_the_base_2d(x):
    a = np.outer(x, x)
    a[0] *= 3.0
    a[:, 1] -= x
    return np.sum(a * np.arange(16.0).reshape(4, 4))


def reference_through_the_base(x):  # the same, with new arrays only
    a = x * 2.0
    a = np.concatenate([a[:1], a[1:] * 3.0])
    a = a + np.array([x[0], 0.0, x[1], 0.0])
    return np.sum(a * a)


@pytest.mark.parametrize("f", [through_the_base, through_the_base_2d])
def test_the_rewrite_through_the_base_is_exact(f):
    h = 1e-6
    central = np.array([(f(X + h * e) - f(X - h * e)) / (2 * h) for e in np.eye(4)])
    g = ac.grad(f)(X.copy())
    assert np.allclose(g, central, rtol=1e-6, atol=1e-8)
    if f is through_the_base:
        assert np.allclose(g, ac.grad(reference_through_the_base)(X.copy()), rtol=1e-13, atol=1e-14)
