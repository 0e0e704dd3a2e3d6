"""Two compile failures on valid code, found by the control fuzzer once it drew nested functions:

- a helper that returns its parameter (``def identity(t): return t``, ``act = lambda z: z``, a linear activation):
  inline made ``(lambda: t)()`` of ``identity(x)``, the parameter left unbound ("name 't' is not defined"), and anf
  did the same to ``(lambda t: t)(-x)``: the substitution skipped a body that is the parameter itself;
- a comprehension inside a nested function whose variable has the name of a variable of the enclosing function,
  read by the comprehension's first iterable (``[x * x for x in (t, x + x)]``): lift took ``x`` for the nested
  function's own and did not pass it (a NameError at run time, or a refusal).

References: hand-derived derivatives and central differences of the original functions."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac


def identity(t):
    return t


def through_identity(x, y):
    return np.sum(identity(x) * y) + identity(3.0 * x[0])


def linear_activation(x, y):
    act = lambda z: z  # noqa: E731
    return np.sum(act(x * y))


def nested_identity(x, y):
    def g0(t1):
        return t1

    return g0(-x) * y + g0(x * x)


def identity_in_a_loop(x, y):
    acts = 0.0
    for k in range(3):
        acts = acts + identity(math.sin(x * k)) * y
    return acts


def shadowing_comprehension(x):
    def g(t):
        return [x * x for x in (t * 2.0, x + x, t)][-2]

    return g(x * 3.0) + x


def shadowing_generator_in_a_lambda(x):
    h = lambda t: sum(x * t for x in (t, x))  # noqa: E731
    return h(2.0 * x)


def _central(f, args, i, h=1e-6):
    up, down = list(args), list(args)
    up[i], down[i] = args[i] + h, args[i] - h
    return (f(*up) - f(*down)) / (2 * h)


def test_a_helper_returning_its_parameter():
    x, y = np.array([0.7, 1.0]), np.array([-0.4, 2.0])
    gx, gy = ac.grad(through_identity, (0, 1))(x, y)
    np.testing.assert_allclose(gx, y + [3.0, 0.0])
    np.testing.assert_allclose(gy, x)
    gx, gy = ac.grad(linear_activation, (0, 1))(x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)
    _, tangent = ac.jvp(linear_activation, 0)(x, y, np.ones(2))
    assert tangent == pytest.approx(np.sum(y))


@pytest.mark.parametrize("f", [nested_identity, identity_in_a_loop])
def test_identity_helpers_match_central_differences(f):
    args = (0.7, -0.4)
    for i in (0, 1):
        assert ac.grad(f, i)(*args) == pytest.approx(_central(f, args, i), rel=1e-6)
        assert ac.jvp(f, i)(*args, 1.0)[1] == pytest.approx(_central(f, args, i), rel=1e-6)
    h = 1e-5
    second = (ac.grad(f, 0)(0.7 + h, -0.4) - ac.grad(f, 0)(0.7 - h, -0.4)) / (2 * h)
    assert ac.hessian(f, 0)(*args) == pytest.approx(second, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("f", [shadowing_comprehension, shadowing_generator_in_a_lambda])
def test_a_comprehension_variable_shadowing_a_closure_variable(f):
    for x in (0.7, -1.3):
        assert ac.grad(f)(x) == pytest.approx(_central(f, (x,), 0), rel=1e-6)
        assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(_central(f, (x,), 0), rel=1e-6)


def test_the_shadowing_comprehension_by_hand():
    # g(t) = (x + x) ** 2 with the enclosing x: f(x) = 4 x ** 2 + x
    assert ac.grad(shadowing_comprehension)(0.7) == pytest.approx(8 * 0.7 + 1)
