"""Table-driven checks of the builtin adjoint rules (abs, two-argument min/max, float, sum)."""

import inspect
import math
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler import runtime
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


def spread(n, lo=-3.0, hi=3.0):
    """n values at least 0.1 apart (and apart in |v|), in a random order: no tie within the finite-difference step."""

    def make(rng):
        while True:
            xs = [float(v) for v in rng.uniform(lo, hi, n)]
            gaps = [abs(a - b) for a in xs for b in xs if a is not b] + [
                abs(abs(a) - abs(b)) for a in xs for b in xs if a is not b
            ]
            if min(gaps) > 0.1:
                return xs

    return make


class Row(NamedTuple):
    fn: object
    make_args: object  # rng -> list of arguments
    name: str
    rtol: float = 1e-5
    static: dict = {}  # keyword arguments that get no derivative (key=, reverse=)
    keywords: dict = {}  # keyword -> sampler: differentiated keyword arguments (default=)


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
    Row(pow, lambda rng: [uniform(0.3, 3)(rng), uniform(-2, 2)(rng)], "pow"),
    Row(py_builtins.max_of, lambda rng: [spread(4)(rng)], "max-of-list"),
    Row(py_builtins.min_of, lambda rng: [spread(4)(rng)], "min-of-list"),
    Row(py_builtins.max_of, lambda rng: [tuple(spread(3)(rng))], "max-of-tuple"),
    Row(py_builtins.max_of, lambda rng: [spread(4)(rng)], "max-of-key", static={"key": abs}),
    Row(py_builtins.min_of, lambda rng: [spread(4)(rng)], "min-of-key", static={"key": abs}),
    Row(py_builtins.max_of, lambda rng: [spread(3)(rng)], "max-of-default", keywords={"default": uniform(-3, 3)}),
    Row(py_builtins.min_of, lambda rng: [[]], "min-of-empty-default", keywords={"default": uniform(-3, 3)}),
    Row(sorted, lambda rng: [spread(5)(rng)], "sorted"),
    Row(sorted, lambda rng: [tuple(spread(4)(rng))], "sorted-tuple-reverse", static={"reverse": True}),
    Row(sorted, lambda rng: [spread(4)(rng)], "sorted-key", static={"key": abs}),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args = row.make_args(rng)
    names = list(row.keywords)
    values = args + [row.keywords[k](rng) for k in names]
    n, rule = len(args), registry.lookup(row.fn).rule
    if not names and not row.static:
        check_rule(row.fn, rule, args, diff=list(range(n)), rtol=row.rtol, seed=seed)
        return

    def fn(*vs):
        return row.fn(*vs[:n], **dict(zip(names, vs[n:])), **row.static)

    def rule_of_all(g, ans, first, *rest):  # the cotangents of the positional, then the differentiated keywords
        cots = rule(g, ans, first, *rest[: n - 1], **dict(zip(names, rest[n - 1 :])), **row.static)
        params = list(inspect.signature(rule).parameters)[2:]
        return tuple(cots[params.index(p)] for p in params[:n] + names)

    check_rule(fn, rule_of_all, values, diff=list(range(len(values))), rtol=row.rtol, seed=seed)


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


def _lists_with_ties_and_nans():
    rng = np.random.default_rng(0)
    out = []
    for _ in range(300):
        pool = [float(v) for v in rng.choice([-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, math.nan], 3)] + [math.nan]
        out.append([pool[k] * 1.0 for k in rng.integers(0, 4, rng.integers(1, 7))])  # distinct objects
    return out


@pytest.mark.parametrize("key", [None, abs, math.floor], ids=["plain", "abs", "floor"])
def test_chosen_and_sort_order_find_the_elements_python_returns(key):
    # ties (-0.0 == 0.0, equal keys) and NaNs included: the very objects max, min and sorted return
    for xs in _lists_with_ties_and_nans():
        for fn in (max, min):
            if key is math.floor and any(math.isnan(x) for x in xs):
                continue  # floor(nan) raises
            ans = fn(xs, key=key)
            assert xs[runtime.chosen(xs, key, ans)] is ans, (fn, xs)
        for reverse in (False, True):
            if key is math.floor and any(math.isnan(x) for x in xs):
                continue
            ys = sorted(xs, key=key, reverse=reverse)
            order = runtime.sort_order(xs, key, reverse)
            assert all(xs[k] is y for k, y in zip(order, ys)), (xs, reverse)
    assert runtime.chosen([], None, 1.5) == -1


def test_chosen_refuses_what_it_cannot_address():
    with pytest.raises(TypeError, match="max/min of a dict"):
        runtime.chosen({1.0: 2.0}, None, 1.0)
    with pytest.raises(TypeError, match="sorted of a set"):
        runtime.sort_order({1.0, 2.0})
