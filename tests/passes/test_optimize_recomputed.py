"""optimize.recomputed.own_names: a temporary the adjoint recomputes (``_t3 = 2.0 * x`` in the forward loop and
again in the adjoint loop) gets a name of its own in the forward sweep, where every read of it can only read
that copy; then the forward copy, assigned once and read once, fuses into its use. Left alone where a read
could read either copy (before the assignment in its loop, after its loop, in a closure, after both). Gradients
against hand derivations, central differences and autograd, through branches, break/continue, nested loops,
calls, lists and second order."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.optimize.recomputed import own_names
from adjoint_compiler.testing import check_grads
from tests.passes import define, parse, show, text

TWINS = """
def f(xs, a):
    for x in xs:
        _t3 = 2.0 * x
        y = a / _t3
    for x in xs:
        _t3 = 2.0 * x
        a_bar = 1.0 / _t3
    return a_bar
"""


def test_the_first_copy_and_its_reads_take_a_fresh_name():
    fn = parse(TWINS)
    assert own_names(fn)
    assert show(fn) == text("""
        def f(xs, a):
            for x in xs:
                _t1 = 2.0 * x
                y = a / _t1
            for x in xs:
                _t3 = 2.0 * x
                a_bar = 1.0 / _t3
            return a_bar
    """)
    assert define(fn)([1.0, 4.0], 3.0) == define(parse(TWINS))([1.0, 4.0], 3.0)


@pytest.mark.parametrize(
    "read",
    [
        "    return a_bar + _t3",  # after both loops: the adjoint's copy
        "    a_bar = a_bar + _t3\n    return a_bar",
        "    g = lambda: _t3\n    return a_bar",  # a closure reads whichever ran last
    ],
)
def test_a_read_either_copy_could_reach_keeps_the_names(read):
    src = TWINS.replace("    return a_bar\n", read + "\n")
    fn = parse(src)
    assert not own_names(fn)
    assert show(fn) == show(parse(src))


def test_a_read_before_the_assignment_in_its_loop_keeps_the_names():
    src = TWINS.replace("        _t3 = 2.0 * x\n        y = a / _t3", "        y = a / _t3\n        _t3 = 2.0 * x", 1)
    fn = parse("def g():\n    _t3 = 1.0\n" + "\n".join("    " + line for line in src.strip().splitlines()))
    assert not own_names(fn)


def test_one_copy_inside_the_others_reach_keeps_the_names():
    fn = parse("""
        def f(xs):
            _t3 = 1.0
            for x in xs:
                _t3 = 2.0 * x
                y = x / _t3
            return y + _t3
    """)
    assert not own_names(fn)


def newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def test_newtons_forward_sweep_fuses_what_its_adjoint_recomputes():
    src = ac.adjoint_source(newton, (0, 1))
    forward = src.split("# adjoint sweep")[0]
    assert "_t4 = x_1 * x_1 * x_1 + a * x_1" in forward and "_t8 = 3.0 * x_1 * x_1 + a" in forward
    # the adjoint's copy, one operation in a loop's body, goes into its one use (loops22: fuse._fits)
    adjoint = src.split("# adjoint sweep")[1]
    assert "_t1 = " not in adjoint and "x_1 * x_1 * 3 + a" in adjoint
    a, b = 2.0, 5.0
    x = newton(a, b)
    # x^3 + a x - b = 0: dx/da = -x / (3 x^2 + a), dx/db = 1 / (3 x^2 + a)
    assert ac.grad(newton, (0, 1))(a, b) == pytest.approx((-x / (3 * x * x + a), 1 / (3 * x * x + a)), rel=1e-12)
    assert ac.grad(ac.grad(newton, 1), 1)(a, b) == pytest.approx(-6.0 * x / (3.0 * x * x + a) ** 3, rel=1e-9)


def rosen(xs):
    total = 0.0
    for i in range(len(xs) - 1):
        total = total + 100.0 * (xs[i + 1] - xs[i] * xs[i]) ** 2 + (1.0 - xs[i]) ** 2
    return total


def breaks_and_continues(xs, y):
    total = 0.0
    for v in xs:
        if v > 1.5:
            break
        if v < 0.0:
            continue
        k = 0.0
        while k < 2.0:
            total = total + (2.0 * v - y) * (2.0 * v + k)
            k = k + 1.0
    return total


def inner(p, q):
    return (p - 0.5 * q) * (p + 0.5 * q)


def nested_calls(x, n):
    s = x
    for i in range(n):
        for j in range(2):
            s = s + inner(s * 0.1, x) * (0.3 * s - 1.0)
    return s


@pytest.mark.parametrize(
    "f,args,wrt",
    [
        (rosen, ([0.3, -1.1, 2.0, 0.5],), 0),
        (breaks_and_continues, ([0.5, -1.0, 1.0, 2.0, 0.25], 0.7), (0, 1)),
        (breaks_and_continues, ([], 0.7), 1),
        (breaks_and_continues, ([1, 0.5, True], 0.7), 1),
        (nested_calls, (0.4, 3), 0),
    ],
)
def test_gradients_against_central_differences(f, args, wrt):
    check_grads(f, args, wrt=wrt)


def test_rosen_against_autograd_and_second_order():
    check_grads(lambda a, b, c: ac.grad(rosen)([a, b, c])[1], (0.3, -1.1, 2.0), wrt=(0, 1, 2))
    autograd = pytest.importorskip("autograd")  # (a peer for comparison only: CI does not install it)
    anp = pytest.importorskip("autograd.numpy")
    xs = [0.3, -1.1, 2.0, 0.5]
    want = autograd.grad(lambda v: anp.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2))(np.array(xs))
    np.testing.assert_allclose(ac.grad(rosen)(xs), want, rtol=1e-13)


def test_nan_and_inf_pass_as_before():
    g = ac.grad(breaks_and_continues, 1)([0.5, math.nan], 0.7)
    assert math.isnan(g)
    # inf > 1.5 breaks: d/dy is that of 0.5 alone, -(2 * 0.5 + 0) - (2 * 0.5 + 1)
    assert ac.grad(breaks_and_continues, 1)([0.5, math.inf], 0.7) == -3.0
