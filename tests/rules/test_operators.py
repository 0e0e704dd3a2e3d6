"""Table-driven checks of the arithmetic operator adjoint rules, on Python floats, arrays and broadcasting
shapes, and of ``**`` at its special points (a zero base, a zero exponent) on floats and on arrays."""

import math
import operator
import warnings
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler.rules import operators, registry
from adjoint_compiler.testing import check_rule
from tests.rules.domains import away, uniform
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)


def integral(lo, hi):
    return lambda rng, shape: float(rng.integers(lo, hi)) if shape == () else rng.integers(lo, hi, size=shape) * 1.0


def off_the_jumps(x, y):
    """x % y jumps where x / y is an integer: keep every quotient off it by more than the step."""
    q = np.divide(x, y)
    return np.all(np.abs(q - np.round(q)) > 1e-3)


class Binary(NamedTuple):
    fn: object
    x: object
    y: object
    name: str
    valid: object = None  # (x, y) -> bool; resample until it holds


BINARY = [
    Binary(operator.add, uniform(-3, 3), uniform(-3, 3), "add"),
    Binary(operator.sub, uniform(-3, 3), uniform(-3, 3), "sub"),
    Binary(operator.mul, uniform(-3, 3), uniform(-3, 3), "mul"),
    Binary(operator.truediv, uniform(-3, 3), away(0.3, 3), "truediv"),
    Binary(operator.pow, uniform(0.3, 3), uniform(-2, 2), "pow"),
    Binary(operator.pow, away(0.3, 3), integral(-2, 4), "pow-negative-base"),
    Binary(operator.mod, uniform(-3, 3), away(0.3, 3), "mod", off_the_jumps),
]
SHAPES = [((), ()), ((3,), (3,)), ((2, 3), ()), ((), (2, 3)), ((3, 1), (4,)), ((2, 1, 3), (4, 1))]


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")  # d/dy of a negative base: nan, unchecked
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "%s-%s" % s)
@pytest.mark.parametrize("row", BINARY, ids=[r.name for r in BINARY])
def test_binary_rule_matches_finite_differences(row, shapes, seed):
    rng = np.random.default_rng(seed)
    while True:
        x, y = row.x(rng, shapes[0]), row.y(rng, shapes[1])
        if row.valid is None or row.valid(x, y):
            break
    # the exponent of a negative base is only differentiated where it is real: at integers, x alone
    diff = [0] if row.name == "pow-negative-base" else [0, 1]
    check_rule(row.fn, registry.lookup(row.fn).rule, [x, y], diff=diff, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", [(), (2, 3)], ids=str)
@pytest.mark.parametrize("fn", [operator.neg, operator.pos], ids=lambda f: f.__name__)
def test_unary_rule_matches_finite_differences(fn, shape, seed):
    x = uniform(-3, 3)(np.random.default_rng(seed), shape)
    check_rule(fn, registry.lookup(fn).rule, [x], diff=[0], seed=seed)


# ---- ** at its special points -----------------------------------------------------------
# x ** y at x == 0 and y in {0, 1, 2, 3}, and 0 ** y: d/dx = y x^(y-1) is 0 at y == 0 even at
# x == 0 (where 0 * 0**-1 was nan, or a ZeroDivisionError on floats); d/dy = log(x) x^y is 0 at
# x == 0 for y > 0 (was log(0) * 0 = nan). Each has a central difference to match too. Where
# the derivative is infinite or undefined the rule says so: inf (0 < y < 1 at x == 0, on arrays;
# a float raises ZeroDivisionError, as x ** (y - 1) does), -inf (0 ** y at y == 0, a jump).

POW_POINTS = [
    # x, y, d/dx, d/dy, whether central differences apply (the function is defined around the point)
    (0.0, 0.0, 0.0, -math.inf, False),
    (0.0, 1.0, 1.0, 0.0, True),
    (0.0, 2.0, 0.0, 0.0, True),
    (0.0, 3.0, 0.0, 0.0, True),
    (0.0, 2.5, 0.0, 0.0, False),
    (2.0, 0.0, 0.0, math.log(2.0), True),
    (-2.0, 0.0, 0.0, math.nan, False),
    (-2.0, 3.0, 12.0, math.nan, False),
    (0.0, 0.5, math.inf, 0.0, False),
]
POW_IDS = ["%s**%s" % (x, y) for x, y, *_ in POW_POINTS]


def _pow_rule(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0), log(-2): the values asserted below
        return operators.pow_adjoint(np.ones(np.shape(np.power(x, y))), np.power(x, y), x, y)


def _same(a, b):
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


@pytest.mark.parametrize("x, y, dx, dy, smooth", POW_POINTS, ids=POW_IDS)
def test_pow_special_points_on_arrays(x, y, dx, dy, smooth):
    gx, gy = _pow_rule(np.full(3, x), np.full(3, y))
    assert _same(gx, np.full(3, dx)) and _same(gy, np.full(3, dy))


@pytest.mark.parametrize("x, y, dx, dy, smooth", POW_POINTS, ids=POW_IDS)
def test_pow_special_points_on_floats(x, y, dx, dy, smooth):
    # Python numbers take the scalar variant, which gives float64's inf where the general body's
    # x ** (y - 1) raises ZeroDivisionError (0 < y < 1 at x == 0)
    if x == 0.0 and 0.0 < y < 1.0:
        with pytest.raises(ZeroDivisionError):
            operators.pow_adjoint(1.0, x**y, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gx, gy = operators.pow_scalar_adjoint(1.0, x**y, x, y)
    assert _same(gx, dx) and _same(gy, dy)


@pytest.mark.parametrize(
    "x, y, dx, dy, smooth", [p for p in POW_POINTS if p[4]], ids=[i for i, p in zip(POW_IDS, POW_POINTS) if p[4]]
)
def test_pow_special_points_match_central_differences(x, y, dx, dy, smooth):
    check_rule(operator.pow, registry.lookup(operator.pow).rule, [x, y], diff=[0, 1])


@pytest.mark.parametrize("y", [0, 1, 2, 3, 0.0, 1.0, 2.0], ids=repr)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # d/dy (-inf at y == 0, then summed) is computed too
def test_pow_in_x_at_zero_matches_central_differences(y):
    # x ** y for an integral y is a polynomial in x, smooth at 0 (also for x < 0)
    check_rule(lambda x: x**y, lambda g, ans, x: operators.pow_adjoint(g, ans, x, y)[0], [0.0], diff=[0])
    check_rule(lambda x: x**y, lambda g, ans, x: operators.pow_adjoint(g, ans, x, y)[0], [np.zeros(3)], diff=[0])


def test_pow_of_floats_stays_float():
    gx, gy = operators.pow_adjoint(1.0, 2.0**3.0, 2.0, 3.0)
    assert type(gx) is float and gx == 12.0


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module([r.fn for r in BINARY] + [operator.neg, operator.pos], operators)
