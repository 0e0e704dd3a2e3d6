"""A ``for`` loop (or a comprehension, a generator) over a set of values without derivatives walks the list
of its elements in the order this run's set gives them, made once in the forward sweep (anf.py); set(...),
sorted(set(...)) and len of a set are ordinary values. Gradients and jvps against central differences."""

import os

import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

HERE = os.path.basename(__file__)


def indices_in_a_set(xs):
    idx = {i % 2 for i in range(len(xs))}
    return sum(xs[i] ** 2 for i in idx)


def set_display_of_powers(x, y):
    t = 0.0
    for k in {3, 1, 2}:
        t = t + k * x * y**k
    return t


def order_matters(x):
    t = 0.0
    for k in set([1, 2, 2, 3]):  # Horner's scheme in the set's order (CPython: 1, 2, 3)
        t = t * x + k
    return t


def set_of_strings(p):
    total = 0.0
    for name in frozenset(["a", "b"]):
        total = total + p[name] ** 2
    return total


def static_set_values(x):
    s = set([1, 2, 2, 5])
    return len(s) * x + sum(sorted(s)) * x**2


def set_in_nested_loops(xs):
    total = 0.0
    for i in range(len(xs)):
        for j in {0, i}:
            total = total + xs[i] * xs[j]
    return total


def set_of_differentiated_values(a, b):
    t = 0.0
    for v in {a, b}:
        t = t + v * v
    return t


def set_parameter(x, s):
    t = 0.0
    for k in s:
        t = t + k * x
    return t


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (indices_in_a_set, ([0.5, 1.2, 2.0],), 0),
        (set_display_of_powers, (0.7, 1.3), (0, 1)),
        (order_matters, (0.7,), 0),
        (static_set_values, (0.7,), 0),
        (set_in_nested_loops, ([0.5, -1.2, 2.0, 0.3],), 0),
    ],
)
def test_loops_over_sets_of_constants(f, args, wrt):
    testing.check_grads(f, args, wrt, rtol=1e-6)


def test_known_values():
    assert ac.grad(indices_in_a_set)([0.5, 1.2, 2.0]) == pytest.approx([1.0, 2.4, 0.0])
    assert ac.grad(order_matters)(0.7) == pytest.approx(2 * 0.7 + 2)  # (x + 2) x + 3
    assert ac.grad(set_of_strings)({"a": 1.5, "b": -2.0}) == {"a": 3.0, "b": -4.0}


@pytest.mark.parametrize("f, x", [(order_matters, 0.7), (static_set_values, 0.7)])
def test_jvp_over_sets(f, x):
    _, dot = ac.jvp(f)(x, 1.0)
    assert testing.relative_error(dot, testing.directional_difference(f, [x], 0, 1.0)) < 1e-6


def test_a_set_of_differentiated_values_is_refused():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(set_of_differentiated_values)(0.5, 1.5)
    assert "a set holding differentiated values" in str(info.value)
    assert HERE + ":" in str(info.value)


def test_a_set_argument_is_refused_when_it_runs():
    with pytest.raises(UnsupportedError) as info:
        ac.grad(set_parameter)(0.5, {1, 2})
    assert "a for loop over a set" in str(info.value)
    assert "%s:%d:14" % (HERE, set_parameter.__code__.co_firstlineno + 2) in str(info.value)
