"""The last refusals of issue 12's audit (benchmarks/conformance/issue12_audit.py): a callable object made
in a call after other arguments that run first, sets of differentiated values, a generator used as a
value or passed to ``list.extend``, ``min(..., key=...)`` over ``zip``, ``*xs`` spread where the length is
known, ``**rest`` in a mapping pattern, forward mode of ``except ZeroDivisionError``, and a nested
function returned by a sibling. Each gradient (and jvp) against central differences of the original
function, or by hand; what stays out of reach is refused at the user's line and column."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

HERE = r"test_py12l.py:%d:%d: error: "


def _line(f, text):
    """The line number in this file of the first line of ``f`` that contains ``text``."""
    import inspect

    lines, start = inspect.getsourcelines(f)
    return start + next(k for k, line in enumerate(lines) if text in line)


def _grad_and_jvp(f, args, wrt=0):
    """The gradient and the jvp (in a random direction) of ``f`` against central differences."""
    testing.check_grads(f, args, wrt, rtol=1e-6)
    direction = np.random.default_rng(3).standard_normal(np.shape(args[wrt]))
    tangent = [float(v) for v in direction] if isinstance(args[wrt], list) else float(direction)
    _, out_dot = ac.jvp(f, wrt=wrt)(*args, tangent)
    expected = testing.directional_difference(f, list(args), wrt, direction)
    assert testing.relative_error(out_dot, expected) < 1e-6


# ---------------------------------------------------------------- 1. a callable object made after a call


class Scale:
    def __init__(self, k):
        self.k = k

    def __call__(self, v):
        return self.k * v


def shift(a, fn):
    return a + fn(a)


def made_after_a_call(x):
    return shift(np.sin(x), Scale(x))


def made_after_two_arguments(x, y):
    return pair(np.sin(x), y * y, Scale(x)) * y


def pair(a, b, fn):
    return fn(a) - fn(b)


def test_a_callable_object_made_after_a_call_in_the_arguments():
    _grad_and_jvp(made_after_a_call, (0.7,))
    x = 0.7  # sin x + x sin x, by hand
    assert ac.grad(made_after_a_call)(x) == pytest.approx(math.cos(x) + math.sin(x) + x * math.cos(x))
    _grad_and_jvp(made_after_two_arguments, (0.7, 1.3), 0)
    _grad_and_jvp(made_after_two_arguments, (0.7, 1.3), 1)


def test_the_earlier_arguments_move_first_in_their_order():
    src = ac.adjoint_source(made_after_two_arguments, wrt=0)
    assert "pair_a = np.sin(x)" in src
    assert src.index("pair_a = np.sin(x)") < src.index("pair_b = y * y")


def not_at_the_start(x):
    return np.sin(x) + shift(x, Scale(x))


def test_an_object_made_where_it_cannot_move_is_refused_at_its_place():
    with pytest.raises(UnsupportedError, match=HERE % (_line(not_at_the_start, "Scale(x)"), 33)):
        ac.grad(not_at_the_start)(0.7)
