"""optimize.reuse: arithmetic a block already assigned to a name is read from it inside a later, larger
expression; in the adjoint sweep a quotient's two cotangents share their division. Left alone where a name
the value reads is rebound, where a statement may change a value in place, where the repeat is a whole
value, and (the reassociation) in the forward sweep. Gradients through the rewritten code against central
differences and derivatives by hand."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline
from adjoint_compiler.optimize.reuse import reuse
from adjoint_compiler.testing import check_grads
from tests.passes import define, load, parse, show, text


def test_operand_read_from_the_name_that_holds_it():
    fn = parse(
        """
        def f(a, b, c):
            q = a / b
            r = (a / b + c) * c
            return (q, r)
        """
    )
    assert reuse(fn)
    assert show(fn) == text(
        """
        def f(a, b, c):
            q = a / b
            r = (q + c) * c
            return (q, r)
        """
    )
    assert define(fn)(3.0, 4.0, 2.0) == (0.75, (0.75 + 2.0) * 2.0)


def test_quotient_shared_in_the_adjoint_sweep_only():
    src = """
        def f(g, y, ans):
            q = g / y
            v = g * ans / y
            __comment__('adjoint sweep')
            y_bar = -(g * ans) / y
            w = ans * g / y
            return (q, v, y_bar, w)
        """
    fn = parse(src)
    assert reuse(fn)
    assert show(fn) == text(
        """
        def f(g, y, ans):
            q = g / y
            v = g * ans / y
            # adjoint sweep
            y_bar = -(q * ans)
            w = q * ans
            return (q, v, y_bar, w)
        """
    )
    got = define(fn)(3.0, 7.0, 5.0)
    want = define(parse(src))(3.0, 7.0, 5.0)
    assert got[:2] == want[:2]  # the forward sweep's values to the bit
    np.testing.assert_allclose(got[2:], want[2:], rtol=1e-15)


@pytest.mark.parametrize(
    "between",
    [
        "a = 2.0",  # a name the value reads, rebound
        "q = c",  # the name that holds it, rebound
        "a[0] = 1.0",  # a store: into what may be a (arrays)
        "a += c",  # in place, for an array
        "g(a)",  # a call that may change a
        "z = h(a)",  # ... its value assigned
        "for i in c:\n        pass",  # a loop (that may rebind anything)
    ],
)
def test_left_alone(between):
    src = "def f(a, b, c):\n    q = a / b\n    %s\n    r = (a / b + c) * c\n    return (q, r)\n" % between
    fn = parse(src)
    before = show(fn)
    assert not reuse(fn)
    assert show(fn) == before


def test_whole_value_not_replaced_by_a_name():
    # r = q would make r and q one array, which an in-place sum into one would write through
    fn = parse("def f(a, b):\n    q = a / b\n    r = a / b\n    s = -(a / b)\n    return (q, r, s)\n")
    assert reuse(fn)
    assert show(fn) == text(
        """
        def f(a, b):
            q = a / b
            r = a / b
            s = -q
            return (q, r, s)
        """
    )


def test_inner_blocks_start_knowing_nothing():
    # the loop's body runs after its own rebinding of a: what the block before it knew does not hold there
    fn = parse(
        """
        def f(a, b, xs):
            q = a / b
            for x in xs:
                r = (a / b + x) * x
                a = r
            return a
        """
    )
    before = show(fn)
    assert not reuse(fn)
    assert show(fn) == before


QUOTIENTS = """
def newton(a, b):
    x = b / a
    step = 1.0
    while abs(step) > 1e-13:
        step = (x * x * x + a * x - b) / (3.0 * x * x + a)
        x = x - step
    return x


def ratio(x, y):
    return (x * x + y) / (y * y + 1.0) + x / y


def ratio_np(x, y):
    return np.sum((x * y) / (y * y + 1.0))
"""


def test_newton_emits_one_division_per_quotient():
    f = load(QUOTIENTS, "newton")
    source = pipeline.compile(f, wrt=(0, 1), mode="grad").source
    # the quotient's two cotangents: x_bar / _t8 once, its product with step for the denominator
    assert "_t5_bar = x_bar / _t8\n" in source and "_t8_bar = _t5_bar * step\n" in source
    check_grads(f, (2.0, 5.0), wrt=(0, 1))
    a_bar, b_bar = ac.grad(f, wrt=(0, 1))(2.0, 5.0)
    # by hand: x(a, b) solves x^3 + a x - b = 0, so dx/da = -x / (3 x^2 + a) and dx/db = 1 / (3 x^2 + a)
    x = f(2.0, 5.0)
    slope = 3.0 * x * x + 2.0
    np.testing.assert_allclose((a_bar, b_bar), (-x / slope, 1.0 / slope), rtol=1e-12)


@pytest.mark.parametrize("name", ["ratio", "ratio_np"])
def test_quotients_against_derivatives_by_hand(name):
    f = load(QUOTIENTS, name)
    rng = np.random.default_rng(3)
    if name == "ratio":
        x, y = args = (1.3, -0.7)
        d = y * y + 1.0
        # (x^2 + y) / (y^2 + 1) + x / y
        want = (2 * x / d + 1 / y, (d - (x * x + y) * 2 * y) / (d * d) - x / (y * y))
    else:
        x, y = args = (rng.normal(size=5), rng.normal(size=5))
        d = y * y + 1.0
        # sum(x y / (y^2 + 1))
        want = (y / d, x * (1.0 - y * y) / (d * d))
    value, grads = ac.value_and_grad(f, wrt=(0, 1))(*args)
    assert np.all(value == f(*args))  # the forward sweep is not reassociated: the value to the bit
    for got, expected in zip(grads, want):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    check_grads(f, args, wrt=(0, 1))
