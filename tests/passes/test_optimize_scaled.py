"""optimize.fold: a product scaled by two literals, one a power of two, in adjoint code is scaled once (``3.0 * x * 2``,
the adjoint of ``3.0 * x * x``, is ``6.0 * x``): the same float, one multiplication fewer per loop iteration. The
user's own code keeps its arithmetic; an int that the literals would leave alone (``0.5 * i * 2``) stays scaled.
Gradients against hand-derived derivatives, central differences, autograd, second order and the numba backend."""

import math

import gast
import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.optimize import fold
from adjoint_compiler.testing import check_grads
from tests.passes import show


def simplified(src, cotangent=True):
    return show(fold.simplify(gast.parse(src, mode="eval").body, cotangent))


@pytest.mark.parametrize(
    "src,want",
    [
        ("3.0 * x * 2", "6.0 * x"),
        ("2 * (3.0 * x)", "6.0 * x"),
        ("(2 * x) * 3.0", "6.0 * x"),
        ("x * 3 * 2", "x * 6"),
        ("2 * (x * -0.25)", "-(0.5 * x)"),
        ("g_bar * (3.0 * x_1 * 2)", "g_bar * (6.0 * x_1)"),
        ("0.5 * x_bar * 2", "x_bar"),  # (a cotangent: a float, 1.0 * x_bar is x_bar)
        ("0.5 * i * 2", "0.5 * i * 2"),  # (an int i: 1.0 * i is a float, i is not)
        ("3.0 * x * 3", "3.0 * x * 3"),  # (neither a power of two: 9.0 * x could round otherwise)
        ("3.0 * (x * y) * 2", "6.0 * (x * y)"),
    ],
)
def test_two_literal_scalings_in_adjoint_code_are_one(src, want):
    assert simplified(src) == want


def test_the_users_own_code_keeps_its_arithmetic():
    assert simplified("3.0 * x * 2", cotangent=False) == "3.0 * x * 2"


@pytest.mark.parametrize("x", [1.7, -0.3, 1e300, 1e-300, 0.0, -0.0, math.inf, math.nan, 3, -2])
def test_the_folded_product_is_the_same_float(x):
    for c1, c2 in [(3.0, 2), (2, 3.0), (0.1, 4), (-0.25, 7.0), (1.5, 0.5)]:
        before, after = (c1 * x) * c2, (c1 * c2) * x
        assert (math.isnan(before) and math.isnan(after)) or (
            before == after and math.copysign(1.0, before) == math.copysign(1.0, after)
        )
    y = np.array([1.7, -0.3, 1e38, 3.0], dtype=np.float32)
    with np.errstate(over="ignore"):  # (1e38 * 6 is inf in float32: on both sides)
        before, after = (3.0 * y) * 2, 6.0 * y
    assert before.dtype == after.dtype == np.float32
    np.testing.assert_array_equal(after, before)


def newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def cubic_loop(xs, c):
    total = 0.0
    for i, x in enumerate(xs):
        if x > 0.5:
            total = total + 3.0 * x * x * c
        else:
            total = total - 0.5 * x * x / c
        if total > 1e6:
            break
    return total


def poly_while(x, n):
    y = x
    k = 0
    while k < n:
        y = 0.25 * y * y - 3.0 * y + 1.0
        k = k + 1
        if k == 2:
            continue
    return y


def test_newton_emits_one_multiplication_and_keeps_its_derivative():
    text = ac.adjoint_source(newton, (0, 1))
    assert "6.0 * x_1" in text and "3.0 * x_1 * 2" not in text
    # the root x(a, b) of x^3 + a x - b: dx/db = 1 / (3 x^2 + a), dx/da = -x dx/db
    a, b = 2.0, 5.0
    x = newton(a, b)
    da, db = ac.grad(newton, (0, 1))(a, b)
    assert db == pytest.approx(1.0 / (3.0 * x * x + a), rel=1e-12)
    assert da == pytest.approx(-x / (3.0 * x * x + a), rel=1e-12)
    d2 = ac.grad(ac.grad(newton, 1), 1)(a, b)  # d2x/db2 = -6 x (dx/db)^3
    assert d2 == pytest.approx(-6.0 * x / (3.0 * x * x + a) ** 3, rel=1e-9)


@pytest.mark.parametrize(
    "f,args,wrt",
    [
        (newton, (2.0, 5.0), (0, 1)),
        (cubic_loop, ([0.25, 0.75, 1, 0.4, 2.5], 1.5), (0, 1)),
        (cubic_loop, ([], 1.5), 1),
        (poly_while, (0.3, 5), 0),
        (poly_while, (0.3, 0), 0),
    ],
)
def test_the_gradients_are_those_of_central_differences(f, args, wrt):
    check_grads(f, args, wrt=wrt)


def test_ints_and_bools_in_the_list_by_hand():
    # d/dx of 3 c x^2 is 6 c x (x > 0.5), of -x^2 / (2 c) is -x / c; a bool has no derivative (0.0), an int a float one
    xs, c = [0.25, 0.75, 1, 0.4, True, 2.5], 1.5
    gx, gc = ac.grad(cubic_loop, (0, 1))(xs, c)
    want = [-0.25 / c, 6 * c * 0.75, 6 * c * 1.0, -0.4 / c, 0.0, 6 * c * 2.5]
    assert [type(g) for g in gx] == [float] * len(xs)
    assert gx == pytest.approx(want, rel=1e-14)
    big = [x for x in xs[1:] if x > 0.5 and x is not True]
    assert gc == pytest.approx(3.0 * sum(x * x for x in big) + 3.0 + (0.25**2 + 0.4**2) / (2 * c * c), rel=1e-14)


def test_against_autograd_and_in_float32():
    autograd = pytest.importorskip("autograd")  # (a peer for comparison only: CI does not install it)

    def f(x):
        y = x
        for _ in range(3):
            y = 3.0 * y * y * 0.125 + y
        return y

    for x in (0.3, -0.7):
        assert ac.grad(f)(x) == pytest.approx(autograd.grad(f)(x), rel=1e-13)
    x32 = np.float32(0.3)
    g = ac.grad(f)(x32)
    assert type(g) is np.float32
    assert g == pytest.approx(autograd.grad(f)(0.3), rel=1e-5)


def test_hessian_through_the_fold():
    # y = 3 x^3 (its adjoint: 3.0 * x * x * 3 -> folded where a power of two meets it), d2y/dx2 = 18 x
    def f(x):
        s = 0.0
        for _ in range(2):
            s = s + 3.0 * x * x * x
        return s / 2

    for x in (0.7, -1.3):
        assert ac.hessian(f)(x) == pytest.approx(18.0 * x, rel=1e-12)


def test_the_numba_backend_runs_the_folded_code():
    pytest.importorskip("numba")
    g = ac.grad(newton, (0, 1), backend="numba")
    want = ac.grad(newton, (0, 1))(2.0, 5.0)
    assert g(2.0, 5.0) == pytest.approx(want, rel=1e-12)
