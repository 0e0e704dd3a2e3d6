"""Cotangents of tuples are passed as tuples and unpacked as a person would (``a_bar, b_bar = g``).

Every case is also checked against central differences: the readable form must stay exact, including
elements that get no cotangent (a zero of the element's shape), an element read twice, tuples read
in branches, nested tuples, and unpacked arrays (not tuples: the general element-by-element form).
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def _pair(x, y):
    s = x * y
    return s + x, np.sin(s) * y


def _nested(x):
    a = x * 2.0
    return (a, a * a), np.cos(x)


def _as_array(x):
    a = x * 2.0
    return np.stack([a, a * x])


def first_only(x, y):
    p, v = _pair(x, y)  # v reaches nothing: its part is a zero of v's shape
    return p * 3.0


def both(x, y):
    p, v = _pair(x, y)
    return np.sum(p * v)


def same_element_twice(x, y):
    t = _pair(x, y)
    return np.sum(t[0] * t[0]) + np.sum(t[-1])


def in_branches(x, y, flag):
    t = _pair(x, y)
    if flag:
        r = t[0] * 2.0
    else:
        r = t[1] * 3.0
    return np.sum(r + t[1])


def in_loop_first_only(x, y):
    for i in range(3):
        x, v = _pair(x, y)
    return np.sum(x)


def nested(x):
    ab, c = _nested(x)
    a, b = ab
    return np.sum(a * b + c)


def unpacked_array(x):
    a, b = _as_array(x)  # an array, not a tuple: its cotangent is an array
    return np.sum(a * b)


def built_and_indexed(x, y):
    t = (x * y, np.sin(x))
    u = t
    return np.sum(u[0] * u[1])


def returns_pair(x, y):
    a = x * y
    b = np.sin(a)
    return a, b


CASES = [
    (first_only, (0.7, -1.3), (0, 1)),
    (both, (0.7, -1.3), (0, 1)),
    (both, (np.array([0.3, 1.1]), np.array([0.5, -0.2])), (0, 1)),
    (same_element_twice, (0.7, np.array([0.5, -0.2])), (0, 1)),
    (in_branches, (np.array([0.3, 1.1]), 0.4, True), (0, 1)),
    (in_branches, (np.array([0.3, 1.1]), 0.4, False), (0, 1)),
    (in_loop_first_only, (np.array([0.3, 1.1]), 0.4), (0, 1)),
    (nested, (np.array([0.3, 1.1]),), 0),
    (unpacked_array, (np.array([0.3, 1.1]),), 0),
    (built_and_indexed, (0.3, np.array([0.5, -0.2])), (0, 1)),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s-%d" % (c[0].__name__, i) for i, c in enumerate(CASES)])
def test_tuple_cotangents_match_central_differences(f, args, wrt):
    check_grads(f, list(args), wrt=wrt)


def test_pullback_gets_a_tuple_and_its_result_is_unpacked():
    src = ac.adjoint_source(both, wrt=(0, 1))
    assert "zeros_like(_t" not in src  # no array of zeros updated element by element
    assert "_pullback((" in src  # the pair of cotangents, as a tuple
    adjoint = src.split("# adjoint sweep")[1].split("def ")[0]
    assert "[0]" not in adjoint and "[1]" not in adjoint


def test_an_element_that_reaches_nothing_gets_a_zero_of_its_own_shape():
    src = ac.adjoint_source(first_only, wrt=(0, 1))
    assert "_pullback((" in src and "zeros_like(v)" in src


def test_a_tuple_output_unpacks_its_cotangent():
    src = ac.adjoint_source(returns_pair, wrt=(0, 1), mode="vjp")
    assert "_bar, " in src and "_bar[0]" not in src
    value, pullback = ac.vjp(returns_pair, wrt=(0, 1))(0.7, -1.3)
    for g in [(1.0, 2.0), np.array([1.0, 2.0]), [1.0, 2.0]]:
        gx, gy = pullback(g)
        a = 0.7 * -1.3
        assert gx == pytest.approx(-1.3 * (1.0 + 2.0 * np.cos(a)))
        assert gy == pytest.approx(0.7 * (1.0 + 2.0 * np.cos(a)))
