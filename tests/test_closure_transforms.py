"""ac.grad (and the other transforms) of a nested function or lambda that reads variables of the
enclosing function, called inside a differentiated function: ``ac.grad(lambda y: f(x, y))(y0)``. The
lifted function takes those variables first, ``wrt`` is moved past them and the call passes their
values (lift._transform_called). Every derivative against central differences of the original, or
hand-derived; a transform kept to be called later is refused at the user's line."""

import numpy as np
import pytest

import adjoint_compiler as ac

STEP = 1e-6


def _fd(f, x):
    if isinstance(x, float):
        return (f(x + STEP) - f(x - STEP)) / (2 * STEP)
    return np.array([(f(x + STEP * e) - f(x - STEP * e)) / (2 * STEP) for e in np.eye(len(x))])


def _close(got, want, rtol=1e-6):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=rtol, atol=1e-8), (got, want)


def lambda_grad(x):
    return ac.grad(lambda y: np.sin(y * x))(x) * x


def def_grad_two_frees(x, z):
    def inner(y, w):
        return y * y * x + w * z

    a, b = ac.grad(inner, wrt=(0, "w"))(x, 2.0)
    return a * b


def positional_wrt(x, z):
    def inner(y, w):
        return np.cos(y * w) * x + z * w

    return ac.grad(inner, 1)(z, x) + ac.value_and_grad(lambda q: q * x * z)(z)[0]


def value_and_grad_of_closure(x):
    v, g = ac.value_and_grad(lambda y: y**3 * x)(x)
    return v * g


def jvp_of_closure(x):
    v, t = ac.jvp(lambda y: y**3 * x)(x, 1.0)
    return t + v


def vjp_of_closure(x):
    value, pullback = ac.vjp(lambda y: np.sin(y) * x)(x)
    return value * pullback(1.0)


def hvp_of_closure(x):
    return np.sum(ac.hvp(lambda y: np.sum(y**3) * x[0])(x, np.ones(len(x))) * x)


def hessian_of_closure(x):
    return np.sum(ac.hessian(lambda y: np.sum(y**2 * x) * y[0])(x))


def rebound_before_the_call(x):
    k = x
    f = lambda y: y * k  # noqa: E731
    k = x * x  # the closure reads k when called: x * x
    return ac.grad(lambda y: f(y) * k)(x)


def in_a_loop(x):
    total = 0.0
    for i in range(3):
        s = x * (i + 1)
        total = total + ac.grad(lambda y: np.sin(y * s))(x)
    return total


SCALAR = [
    (lambda_grad, lambda x: (np.cos(x * x) * x) * x),
    (value_and_grad_of_closure, lambda x: x**4 * 3 * x**3),
    (jvp_of_closure, lambda x: 3 * x**3 + x**4),
    (vjp_of_closure, lambda x: np.sin(x) * x * np.cos(x) * x),
    (rebound_before_the_call, lambda x: x**4),
    (in_a_loop, lambda x: sum(np.cos(x * x * i) * x * i for i in (1, 2, 3))),
]


@pytest.mark.parametrize("fn, value", SCALAR, ids=[f.__name__ for f, _ in SCALAR])
def test_scalar(fn, value):
    x = 0.7
    _close(fn(x), value(x), rtol=1e-12)
    _close(ac.grad(fn)(x), _fd(value, x))
    _close(ac.jvp(fn)(x, 1.0)[1], _fd(value, x))
    _close(ac.hvp(fn)(x, 1.0), _fd(lambda t: _fd(value, t), x), rtol=1e-4)


def test_two_variables_and_named_wrt():
    def by_hand(x, z):
        return 2 * x * x * z

    _close(def_grad_two_frees(0.7, 1.3), by_hand(0.7, 1.3), rtol=1e-12)
    got = ac.grad(def_grad_two_frees, wrt=(0, 1))(0.7, 1.3)
    _close(got, [_fd(lambda t: by_hand(t, 1.3), 0.7), _fd(lambda t: by_hand(0.7, t), 1.3)])


def test_positional_wrt():
    def by_hand(x, z):
        return -np.sin(z * x) * z * x + z + x * z * z

    _close(positional_wrt(0.7, 1.3), by_hand(0.7, 1.3), rtol=1e-12)
    got = ac.grad(positional_wrt, wrt=(0, 1))(0.7, 1.3)
    _close(got, [_fd(lambda t: by_hand(t, 1.3), 0.7), _fd(lambda t: by_hand(0.7, t), 1.3)])


@pytest.mark.parametrize("fn", [hvp_of_closure, hessian_of_closure])
def test_arrays(fn):
    x = np.array([0.7, -0.4, 1.1])
    x0 = x.copy()
    _close(ac.grad(fn)(x), _fd(fn, x))
    _close(ac.jvp(fn)(x, np.ones(3))[1], _fd(fn, x) @ np.ones(3))
    assert np.array_equal(x, x0)


def kept_to_call_later(x):
    d = ac.grad(lambda y: y * x)
    return d(x)


def wrt_not_constant(x):
    i = 0
    return ac.grad(lambda y: y * x, wrt=i)(x)


@pytest.mark.parametrize("fn, line", [(kept_to_call_later, 131), (wrt_not_constant, 137)])
def test_refused_at_the_users_line(fn, line):
    with pytest.raises(ac.UnsupportedError) as e:
        ac.grad(fn)(0.7)
    assert "ac.grad of a lambda that reads x of the enclosing function" in str(e.value)
    assert "test_closure_transforms.py:%d:" % line in str(e.value)
