"""Three constructs of issue 12: an except clause reading what the try body assigned before the statement
that raised (the body split into one try statement per statement, each in the else clause of the one
before: desugar.try_), a callable object (a class with ``__call__``) made in the function and passed to a
helper that calls it (objects.py follows it into the helper, ``fn(v)`` its ``__call__``), and a nested
recursive function returned by another function and called. Each gradient and jvp against central
differences of the original function; what stays out of reach is refused at its place."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

HERE = r"test_try_reads_and_callables.py:[0-9]+:[0-9]+: error: "


def _both(f, x):
    testing.check_grads(f, (x,), 0, rtol=1e-6)
    _, out_dot = ac.jvp(f)(x, 1.0)
    assert testing.relative_error(out_dot, testing.directional_difference(f, [x], 0, 1.0)) < 1e-6


def g(t):
    if t > 1.0:
        raise ValueError("too big")
    return t * t


def reads_what_the_body_assigned(x):
    a = 2.0 * x
    try:
        u = np.sin(a)
        y = g(x) + u
    except ValueError:
        y = u * 3.0
    return y


def with_else_and_two_clauses(x):
    try:
        u = x * x
        v = np.exp(u)
        w = g(x) * v
    except KeyError:
        w = 0.0
    except ValueError:
        w = u * v
    else:
        w = w + u
    return w


def reads_the_last_statements_target(x):
    y = np.cos(x)
    try:
        y = g(x) * 2.0  # not assigned when g raises: the handler reads the y from before
    except ValueError:
        y = y + x
    return y


@pytest.mark.parametrize("x", [0.3, 1.3])  # (g raises above 1)
@pytest.mark.parametrize(
    "f", [reads_what_the_body_assigned, with_else_and_two_clauses, reads_the_last_statements_target]
)
def test_an_except_clause_reading_what_the_body_assigned(f, x):
    _both(f, x)


def test_the_handler_path_by_hand():
    # x = 1.3: g raises, y = 3 sin(2x), dy/dx = 6 cos(2x); x = 0.3: y = x^2 + sin(2x)
    assert ac.grad(reads_what_the_body_assigned)(1.3) == pytest.approx(6.0 * np.cos(2.6))
    assert ac.grad(reads_what_the_body_assigned)(0.3) == pytest.approx(0.6 + 2.0 * np.cos(0.6))


def assigned_in_a_branch(x):
    try:
        if x > 0.5:
            u = x * x
            y = g(x)
        else:
            u = x
            y = x
    except ValueError:
        y = u * 2.0
    return y


def test_a_read_of_what_a_compound_statement_may_have_assigned_is_refused():
    with pytest.raises(UnsupportedError, match=HERE + "an except clause reading u"):
        ac.grad(assigned_in_a_branch)(1.3)


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, v):
        return self.k * v * v


def apply(fn, v):
    return fn(v) + 1.0


def apply_twice(fn, v):
    return fn(fn(v))


def callable_passed(x):
    s = Scale(x)
    return apply(s, 3.0 * x)


def callable_changed_then_passed(x):
    s = Scale(x)
    s.k = s.k + np.sin(x)
    return apply_twice(s, x)


@pytest.mark.parametrize("f", [callable_passed, callable_changed_then_passed])
def test_a_callable_object_made_inside_and_passed_to_a_helper(f):
    _both(f, 0.7)


def test_a_callable_object_by_hand():
    # x * (3x)^2 + 1: 27 x^2
    assert ac.grad(callable_passed)(0.7) == pytest.approx(27.0 * 0.49)


def made_in_the_call(x):
    return apply(Scale(x * x), 3.0 * x)  # made first (objects._passed_constructions): scale = Scale(x * x)


def constant_made_in_the_call(x):
    y = apply(Scale(2.0), x) * x
    return y


def shift(v, fn):
    return fn(v) - v


def made_after_a_call(x):
    return np.sin(x) + shift(x, Scale(x))  # np.sin(x) runs first: Scale(x) is not moved before it


@pytest.mark.parametrize("f", [made_in_the_call, constant_made_in_the_call])
def test_a_callable_object_made_in_the_call_of_the_helper(f):
    _both(f, 0.7)
    assert ac.grad(made_in_the_call)(0.7) == pytest.approx(36.0 * 0.7**3)  # 9 x^4 + 1, by hand


def test_an_object_made_after_something_else_in_the_call_is_refused():
    with pytest.raises(UnsupportedError, match=r"test_try_reads_and_callables.py:[0-9]+:[0-9]+: error: "):
        ac.grad(made_after_a_call)(0.7)


def make_power(a):
    def power(v, n):
        if n == 0:
            return a
        return v * power(v, n - 1)

    return power


def returned_recursive(x):
    p = make_power(np.sin(x))
    return p(x, 3)


def made_and_called_inside(x):
    def maker(c):
        def fact(v, n):
            return c if n == 0 else v * fact(v, n - 1)

        return fact

    return maker(x * 2.0)(x, 2)


@pytest.mark.parametrize("f", [returned_recursive, made_and_called_inside])
def test_a_nested_recursive_function_returned_and_called(f):
    _both(f, 0.7)


def test_a_nested_recursive_function_by_hand():
    # sin(x) x^3 and 2x * x^2
    x = 0.7
    assert ac.grad(returned_recursive)(x) == pytest.approx(np.cos(x) * x**3 + 3 * np.sin(x) * x**2)
    assert ac.grad(made_and_called_inside)(x) == pytest.approx(6 * x**2)
