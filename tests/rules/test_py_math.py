"""Table-driven checks of the ``math`` adjoint rules against central differences."""

import math
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler.rules import py_math, registry
from adjoint_compiler.testing import check_rule
from tests.rules.domains import away, uniform
from tests.rules.test_operators import POW_IDS, POW_POINTS, _same
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)


class Row(NamedTuple):
    fn: object
    domains: tuple  # one sampler per argument
    diff: tuple = None  # argument positions checked (default: all)
    rtol: float = 1e-5
    pick: int = None  # the rule returns a tuple but the call has fewer args: check this element


TABLE = [
    Row(math.sin, (uniform(-4, 4),)),
    Row(math.cos, (uniform(-4, 4),)),
    Row(math.tan, (uniform(-1.2, 1.2),)),
    Row(math.asin, (uniform(-0.9, 0.9),)),
    Row(math.acos, (uniform(-0.9, 0.9),)),
    Row(math.atan, (uniform(-3, 3),)),
    Row(math.atan2, (uniform(-2, 2), away(0.3, 2))),
    Row(math.sinh, (uniform(-3, 3),)),
    Row(math.cosh, (uniform(-3, 3),)),
    Row(math.tanh, (uniform(-3, 3),)),
    Row(math.exp, (uniform(-3, 3),)),
    Row(math.expm1, (uniform(-3, 3),)),
    Row(math.log, (uniform(0.1, 5),), pick=0),  # log(x): base takes its default e
    Row(math.log, (uniform(0.1, 5), uniform(1.5, 10))),  # log(x, base)
    Row(math.log, (uniform(0.1, 5), uniform(0.2, 0.8))),  # base < 1
    Row(math.log1p, (uniform(-0.9, 3),)),
    Row(math.log2, (uniform(0.1, 5),)),
    Row(math.log10, (uniform(0.1, 5),)),
    Row(math.sqrt, (uniform(0.1, 5),)),
    Row(math.pow, (uniform(0.3, 3), uniform(-2, 2))),
    Row(math.pow, (away(0.3, 3), lambda rng: float(rng.integers(1, 4))), diff=(0,)),  # negative base, integral exponent
    Row(math.hypot, (away(0.2, 3), away(0.2, 3))),
    Row(math.erf, (uniform(-2.5, 2.5),)),
]


def _rule_for(row):
    rule = registry.lookup(row.fn).rule
    if row.pick is None:
        return rule
    return lambda g, ans, *args: rule(g, ans, *args)[row.pick]


def _row_id(row):
    return "%s/%d" % (row.fn.__name__, len(row.domains))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[_row_id(r) for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args = [sample(rng) for sample in row.domains]
    diff = row.diff if row.diff is not None else range(len(args))
    check_rule(row.fn, _rule_for(row), args, diff=list(diff), rtol=row.rtol, seed=seed)


def test_scalar_results_are_plain_floats():
    # The math rules stay on Python floats (no NumPy scalars creep in).
    for row in TABLE:
        rng = np.random.default_rng(0)
        args = [sample(rng) for sample in row.domains]
        cots = _rule_for(row)(1.0, row.fn(*args), *args)
        for c in cots if isinstance(cots, tuple) else (cots,):
            assert type(c) is float, (row.fn.__name__, type(c))


def test_log_base_e_is_natural_log():
    assert py_math.log_adjoint(1.0, math.log(2.0), 2.0) == (0.5, -math.log(2.0) / math.e)


def test_pow_at_zero_base():
    # d(0^y)/dy is 0 for y > 0; math.log(0) would raise.
    assert py_math.pow_adjoint(1.0, 0.0, 0.0, 2.0) == (0.0, 0.0)
    assert py_math.pow_adjoint(1.0, 0.0, 0.0, 3.0) == (0.0, 0.0)


@pytest.mark.parametrize("x, y, dx, dy, smooth", POW_POINTS, ids=POW_IDS)
def test_pow_special_points(x, y, dx, dy, smooth):
    # the points of operator.pow's table; math.pow raises ValueError where the derivative is infinite
    if x == 0.0 and 0.0 < y < 1.0:
        with pytest.raises(ValueError):
            py_math.pow_adjoint(1.0, math.pow(x, y), x, y)
        return
    gx, gy = py_math.pow_adjoint(1.0, math.pow(x, y), x, y)
    assert type(gx) is float and type(gy) is float
    assert _same(gx, dx) and _same(gy, dy)
    if smooth:
        check_rule(math.pow, py_math.pow_adjoint, [x, y], diff=[0, 1])


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module([row.fn for row in TABLE], py_math)


def test_pow_exponent_cotangent_is_nan_for_negative_base():
    gx, gy = py_math.pow_adjoint(1.0, 4.0, -2.0, 2.0)
    assert gx == -4.0 and math.isnan(gy)
