"""Table-driven checks of the builtin adjoint rules (abs, two-argument min/max, float, sum)."""

import math
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler.rules import py_builtins, registry
from adjoint_compiler.testing import check_rule
from tests.rules.domains import away, uniform
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)


def array_away(shape, lo, hi):
    return lambda rng: rng.choice((-1.0, 1.0), size=shape) * rng.uniform(lo, hi, size=shape)


def apart(rng):
    """Two values at least 0.1 apart in a random order (no tie within the finite-difference step)."""
    x = float(rng.uniform(-3, 3))
    return [x, x + float(rng.choice((-1.0, 1.0)) * rng.uniform(0.1, 2))]


class Row(NamedTuple):
    fn: object
    make_args: object  # rng -> list of arguments
    name: str
    rtol: float = 1e-5


TABLE = [
    Row(abs, lambda rng: [away(0.1, 3)(rng)], "abs-scalar"),
    Row(abs, lambda rng: [array_away((2, 3), 0.1, 3)(rng)], "abs-array"),
    Row(max, apart, "max"),
    Row(min, apart, "min"),
    Row(float, lambda rng: [uniform(-3, 3)(rng)], "float"),
    Row(float, lambda rng: [np.float64(rng.uniform(-3, 3))], "float-npfloat"),
    Row(sum, lambda rng: [[uniform(-3, 3)(rng) for _ in range(4)]], "sum-list"),
    Row(sum, lambda rng: [rng.uniform(-3, 3, size=(3, 2))], "sum-array-first-axis"),
    Row(sum, lambda rng: [[uniform(-3, 3)(rng) for _ in range(3)], uniform(-3, 3)(rng)], "sum-with-start"),
    Row(list, lambda rng: [rng.uniform(-3, 3, size=3)], "list-array"),
    Row(tuple, lambda rng: [[uniform(-3, 3)(rng) for _ in range(3)]], "tuple-list"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args = row.make_args(rng)
    check_rule(row.fn, registry.lookup(row.fn).rule, args, diff=list(range(len(args))), rtol=row.rtol, seed=seed)


PAIRS = [
    (2.0, 2.0),
    (1.0, 2.0),
    (2.0, 1.0),
    (-0.0, 0.0),
    (0.0, -0.0),
    (math.nan, 1.0),
    (1.0, math.nan),
    (math.inf, math.inf),
    (2, 2.0),
    (2.0, 2),
]


@pytest.mark.parametrize("fn", [max, min], ids=["max", "min"])
@pytest.mark.parametrize("x, y", PAIRS)
def test_cotangent_goes_to_the_argument_python_returns(fn, x, y):
    # Ties and NaNs included: exactly the argument object that fn returns gets g.
    rule = registry.lookup(fn).rule
    ans = fn(x, y)
    gx, gy = rule(3.0, ans, x, y)
    assert (gx, gy) == ((3.0, 0.0) if ans is x else (0.0, 3.0))


def test_abs_at_zero_uses_subgradient_zero():
    assert py_builtins.abs_adjoint(1.0, 0.0, 0.0) == 0.0


@pytest.mark.parametrize("x", [0.0, -0.0, np.array([0.0, -1.5, 0.0, 2.0])], ids=["0", "-0", "array"])
def test_abs_at_zero_both_variants_match_central_differences(x):
    # |x| is even, so a central difference at 0 is 0: the subgradient both variants return
    rules = [py_builtins.abs_adjoint] + ([py_builtins.abs_scalar_adjoint] if type(x) is float else [])
    for rule in rules:
        assert np.array_equal(rule(1.0, abs(x), x), np.sign(x) * 1.0)
        check_rule(abs, rule, [x], diff=[0])


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module([row.fn for row in TABLE], py_builtins)
