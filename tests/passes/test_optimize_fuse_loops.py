"""optimize.fuse._fits in a loop's body (loops22): a temporary of one operation on names and numbers (the
adjoint's recomputed ``x_1 * x_1``) goes into its one use whatever that use's size; outside loops the size
bound stands. As text (fuse_temporaries on a block) and by gradients through programs with such temporaries:
while with break/continue/else, nested loops, branches, calls, ints and bools in lists, zero-trip loops, NaN,
second order, against hand derivatives, central differences and autograd."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.optimize.fuse import fuse_temporaries
from adjoint_compiler.optimize.quotes import Quotes
from adjoint_compiler.testing import check_grads
from tests.passes import parse, show, text

try:
    import autograd
except ImportError:  # pragma: no cover
    autograd = None

BIG_USE = """
def f(x, a, b, c):
    _t1 = x * x
    y = a * b + c * a - b * c + a * (b - c) + _t1
    return y
"""


def fused(src, loop):
    fn = parse(src)
    reads, assigns = {"_t1": 1}, {"_t1": 1}
    fn.body = fuse_temporaries(fn.body, reads, assigns, Quotes(fn), loop=loop)
    return show(fn)


def test_one_operation_goes_into_a_large_use_in_a_loop_only():
    assert "_t1 = x * x" in fused(BIG_USE, loop=False)  # (straight-line code: the size bound stands)
    assert fused(BIG_USE, loop=True) == text(
        """
        def f(x, a, b, c):
            y = a * b + c * a - b * c + a * (b - c) + x * x
            return y
        """
    )


def test_more_than_one_operation_keeps_its_name_in_a_loop():
    src = BIG_USE.replace("_t1 = x * x", "_t1 = x * x + a")
    assert "_t1 = x * x + a" in fused(src, loop=True)


def newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def polys(xs, y):
    total = 0.0
    s = y
    for v in xs:
        if v > 3.5:
            break
        if v < -0.5:
            continue
        k = 0.0
        while k < 2.0:
            s = s - (s * s * s - v) / (3.0 * s * s + v * v + 1.0)
            total = total + s * k
            k = k + 1.0
        else:
            total = total * 1.0001
    return total


def with_calls(x, n):
    s = x
    for i in range(n):
        s = s - (s * s * s - x) / (3.0 * s * s + x) + 0.1 * i
        if s > 1.0:
            s = cube(s * 0.5) + s
    return s


def cube(p):
    return p * p * p + 3.0 * p


def kde(samples, bw):
    total = 0.0
    for s in samples:
        u = (0.6 - s) / bw
        total += math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)
    return total / (len(samples) * bw)


def test_newton_adjoint_reads_the_recomputed_products_in_place():
    adjoint = ac.adjoint_source(newton, (0, 1)).split("# adjoint sweep")[1]
    assert "_t1 = " not in adjoint and "_t6 = " not in adjoint
    a, b = 2.0, 5.0
    x = newton(a, b)
    # x^3 + a x - b = 0: dx/da = -x / (3 x^2 + a), dx/db = 1 / (3 x^2 + a)
    got = ac.grad(newton, (0, 1))(a, b)
    assert got == pytest.approx((-x / (3 * x * x + a), 1 / (3 * x * x + a)), rel=1e-12)
    assert ac.grad(ac.grad(newton, 1), 1)(a, b) == pytest.approx(-6.0 * x / (3.0 * x * x + a) ** 3, rel=1e-9)


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (polys, ([0.3, -1.0, 1.7, 2.5, 4.0, 0.9], 0.7), 1),
        (polys, ([1, True, 2.0, -0.7], 1.3), 1),  # (ints and bools in the list)
        (polys, ([], 0.4), 1),  # (zero trips)
        (with_calls, (0.8, 6), 0),
        (with_calls, (0.8, 0), 0),
        (with_calls, (1.6, 5), 0),
        (kde, ([0.1, 0.5, 1, 2.0], 0.7), (0, 1)),
    ],
)
def test_gradients_against_central_differences(f, args, wrt):
    check_grads(f, args, wrt=wrt, rtol=1e-6)


def test_list_gradient_against_autograd_and_second_order():
    xs, y = [0.3, -1.0, 1.7, 2.5, 4.0, 0.9], 0.7
    g = ac.grad(polys, (0, 1))(xs, y)
    if autograd is not None:
        want = autograd.grad(polys, (0, 1))(xs, y)
        np.testing.assert_allclose(np.array(g[0]), np.array(want[0]), rtol=1e-12)
        assert g[1] == pytest.approx(want[1], rel=1e-12)
    h = 1e-5
    d2 = (ac.grad(polys, 1)(xs, y + h) - ac.grad(polys, 1)(xs, y - h)) / (2 * h)
    assert ac.grad(ac.grad(polys, 1), 1)(xs, y) == pytest.approx(d2, rel=1e-6)
    assert ac.grad(ac.grad(with_calls, 0), 0)(0.8, 6) == pytest.approx(
        (ac.grad(with_calls, 0)(0.8 + h, 6) - ac.grad(with_calls, 0)(0.8 - h, 6)) / (2 * h), rel=1e-5
    )


def test_nan_passes_as_before():
    g = ac.grad(polys, 1)([0.3, math.nan], 0.7)
    assert math.isnan(g)
