"""constants.py: ints and truth values known when compiling are read as literals and the branches they decide
removed (a recursion inlined with a literal depth becomes straight-line code). Gradients against hand-derived
values and central differences; the emitted code has no test of a number known when compiling."""

import math
import re

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def ping(x, n):
    return x if n == 0 else pong(x * 1.1, n - 1)


def pong(x, n):
    return math.sin(x) if n == 0 else ping(x + 0.5, n - 1)


def literal_depths(x):
    return ping(x, 5) + 2.0 * ping(x * x, 2)


def known_numbers(x, y):
    n = 3
    k = n * 2 - 1  # 5
    flag = k % 2 == 1 and not n > 4
    z = x * k if flag else y
    while k < 0:  # never entered: its else runs
        z = z * y
    else:
        z = z + y * (k // 2)
    if n - 3:
        z = z / y
    return z * x


def leaves_what_may_raise(x, n):
    k = 0
    if n > 0:
        k = 7 // n  # n is an argument: not known
    m = 1
    if m > 1:
        x = x / (m - 1)  # (dead: 1 // 0 would raise; folded away with its branch)
    return x * k + x * x


def returns_in_the_first_trip(x, y):
    # (fuzzer: jumps makes the return inside the while `_break2 = True; if _break2: break`, whose test this pass
    # knows; a bare break left in its place gave the gradient 0.0 for -0.997)
    for t0 in (x * x, y):
        k2 = 0
        while k2 < 2 and y <= 1.2:
            k2 = k2 + 1
            y = math.cos(t0 + 2.0)
            return math.cos(0.5 if k2 == 0 else x)
    return t0 + y


def test_a_loop_left_by_a_known_flag_keeps_its_guarded_jump():
    x, y = 1.5, 0.4
    gx, gy = ac.grad(returns_in_the_first_trip, (0, 1))(x, y)
    assert gx == pytest.approx(-math.sin(x), rel=1e-12) and gy == 0.0
    check_grads(returns_in_the_first_trip, (x, y), wrt=(0, 1), rtol=1e-7)


def _code(source):
    """The emitted statements, without the docstring, the comments quoting the user's lines and the test of
    the output's type before ``check_scalar`` (``emit.inline_scalar_checks``: not a branch of the user's)."""
    lines = source.split('"""')[-1].splitlines()
    return "\n".join(
        line
        for line in lines
        if not line.strip().startswith("#") and not re.fullmatch(r"\s*if type\(\w+\) is not float:", line)
    )


def test_a_recursion_of_literal_depth_is_straight_line_code():
    code = _code(ac.adjoint_source(literal_depths))
    assert "if " not in code and "== 0" not in code
    x = 0.7
    # sin(((1.1 x + 0.5) 1.1 + 0.5) 1.1) + 2 (1.1 x^2 + 0.5)
    inner = ((x * 1.1 + 0.5) * 1.1 + 0.5) * 1.1
    first = math.cos(inner) * 1.1**3 + 4.4 * x
    assert ac.grad(literal_depths)(x) == pytest.approx(first, rel=1e-12)
    _, tangent = ac.jvp(literal_depths)(x, 1.0)
    assert tangent == pytest.approx(first, rel=1e-12)
    second = -math.sin(inner) * 1.1**6 + 4.4
    assert ac.hvp(literal_depths)(x, 1.0) == pytest.approx(second, rel=1e-10)
    check_grads(literal_depths, (x,), rtol=1e-7)


def test_known_numbers_fold_and_their_branches_go():
    code = _code(ac.adjoint_source(known_numbers, (0, 1)))
    assert "while" not in code and "if" not in code
    x, y = 1.3, 0.4
    gx, gy = ac.grad(known_numbers, (0, 1))(x, y)
    # z = 5 x + 2 y; value z x
    assert gx == pytest.approx(10 * x + 2 * y, rel=1e-12)
    assert gy == pytest.approx(2 * x, rel=1e-12)
    assert known_numbers(x, y) == pytest.approx(ac.value_and_grad(known_numbers)(x, y)[0], rel=1e-15)


@pytest.mark.parametrize("n", [0, 2, 3])
def test_what_depends_on_arguments_stays(n):
    check_grads(leaves_what_may_raise, (0.8, n), wrt=0, rtol=1e-7)
    assert "7 // n" in ac.adjoint_source(leaves_what_may_raise).replace("_1", "")


def test_arrays_and_floats_are_not_folded():
    def scaled(x):
        c = 2.5
        n = 2
        return np.sum(x * c) * n

    x = np.array([1.0, 2.0])
    assert np.allclose(ac.grad(scaled)(x), [5.0, 5.0])
