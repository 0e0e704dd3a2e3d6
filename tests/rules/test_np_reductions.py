"""Table-driven checks of the NumPy reduction adjoint rules over every axis/keepdims combination."""
import inspect
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler.rules import np_reductions, registry
from adjoint_compiler.testing import check_rule
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)
KEEPDIMS = (False, True)

# (shape, axis): every axis form on a 3-d array (ints, negatives, tuples, mixed signs,
# all axes, no axes) plus 0-, 1- and 2-d inputs.
AXES_3D = [None, 0, 1, 2, -1, -3, (0, 1), (0, 2), (1, 2), (-1, 0), (2, 0), (0, 1, 2), (0, -2, 2), ()]
CASES = ([((), None), ((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 1), ((3, 4), (0, 1))]
         + [((2, 3, 4), axis) for axis in AXES_3D])
# np.linalg.norm (ord=None) takes an int (vector norms) or a pair of axes (Frobenius norms).
NORM_CASES = ([((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 0), ((3, 4), 1),
               ((3, 4), (0, 1)), ((3, 4), (1, 0)), ((3, 4), (-2, -1))]
              + [((2, 3, 4), axis) for axis in [None, 0, 2, -1, (1, 2), (0, 2), (2, 0), (-1, -3)]])


def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, size=shape)


def away(lo, hi):
    """|x| in [lo, hi] with a random sign: a product of such values stays well scaled."""
    return lambda rng, shape: rng.choice((-1.0, 1.0), size=shape) * rng.uniform(lo, hi, size=shape)


def _count(shape, axis):
    """How many elements each output reduces."""
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


class Row(NamedTuple):
    fn: object
    domain: object
    extra: dict  # further keyword arguments of the call and of the rule
    name: str
    min_count: int = 1  # fewest elements per slice for a gradient to exist (std needs two)


TABLE = [
    Row(np.sum, uniform(-3, 3), {}, "sum"),
    Row(np.mean, uniform(-3, 3), {}, "mean"),
    Row(np.prod, away(0.5, 1.5), {}, "prod"),
    Row(np.max, uniform(-3, 3), {}, "max"),
    Row(np.amax, uniform(-3, 3), {}, "amax"),
    Row(np.min, uniform(-3, 3), {}, "min"),
    Row(np.amin, uniform(-3, 3), {}, "amin"),
    Row(np.var, uniform(-3, 3), {}, "var"),
    Row(np.var, uniform(-3, 3), {"ddof": 1}, "var-ddof1", min_count=2),
    Row(np.std, uniform(-3, 3), {}, "std", min_count=2),
    Row(np.std, uniform(-3, 3), {"ddof": 1}, "std-ddof1", min_count=2),
]


def _check(fn, domain, extra, shape, axis, keepdims, seed):
    rng = np.random.default_rng(seed)
    x = domain(rng, shape)
    x = float(x) if shape == () else x
    kwargs = dict(extra, axis=axis, keepdims=keepdims)
    rule = registry.lookup(fn).rule
    n_params = len(registry.lookup(fn).params)

    def call(x):
        return fn(x, **kwargs)

    def rule_x(g, ans, x):
        cots = rule(g, ans, x, **kwargs)
        assert len(cots) == n_params and all(c is None for c in cots[1:])
        return cots[0]

    check_rule(call, rule_x, [x], diff=[0], seed=seed)


# Every row on every case where it is differentiable (std, and var with ddof=1, need two elements per slice).
ROW_CASES = [(row, shape, axis) for row in TABLE for shape, axis in CASES if _count(shape, axis) >= row.min_count]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("row, shape, axis", ROW_CASES, ids=["%s-%s-%s" % (r.name, s, a) for r, s, a in ROW_CASES])
def test_rule_matches_finite_differences(row, shape, axis, keepdims, seed):
    _check(row.fn, row.domain, row.extra, shape, axis, keepdims, seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("shape, axis", NORM_CASES, ids=["%s-%s" % c for c in NORM_CASES])
def test_norm_matches_finite_differences(shape, axis, keepdims, seed):
    _check(np.linalg.norm, uniform(-3, 3), {}, shape, axis, keepdims, seed)


def test_mean_divides_by_the_reduced_count():
    x = np.ones((2, 3, 4))
    gx = np_reductions.mean_adjoint(np.ones(3), np.mean(x, axis=(0, 2)), x, (0, 2))[0]
    assert gx.shape == x.shape and np.all(gx == 1 / 8)


# ---- prod with zeros ---------------------------------------------------------------

ZERO_CASES = [
    # x, axis, d prod / dx by hand (g = 1): the product of the other elements of each slice
    (np.array([2.0, 0.0, 3.0, 4.0]), None, np.array([0.0, 24.0, 0.0, 0.0])),
    (np.array([0.0, 0.0, 3.0]), None, np.zeros(3)),
    (np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]]), 1,
     np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])),
    (np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]]), 0,
     np.array([[0.0, 0.0, 15.0], [2.0, 0.0, 9.0], [0.0, 0.0, 15.0]])),
    (np.array([[[0.0, 2.0], [3.0, 4.0]], [[5.0, 0.0], [0.0, 1.0]]]), (0, -1),
     np.array([[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [12.0, 0.0]]])),
    (np.array(0.0), None, np.array(1.0)),
]


@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("x, axis, expected", ZERO_CASES, ids=[str(i) for i in range(len(ZERO_CASES))])
def test_prod_with_zeros_matches_hand_derived_value(x, axis, expected, keepdims):
    ans = np.prod(x, axis=axis, keepdims=keepdims)
    gx = np_reductions.prod_adjoint(np.ones(np.shape(ans)), ans, x, axis, keepdims)[0]
    assert np.array_equal(gx, expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
def test_prod_with_zeros_matches_finite_differences(axis, keepdims, seed):
    # A product is a polynomial, smooth at zeros too, so central differences stay valid there.
    rng = np.random.default_rng(seed)
    x = away(0.5, 1.5)(rng, (3, 2, 4))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[0, 0, :2] = 0.0  # at least one slice with two zeros, and one zero in others
    x[1, 1, 3] = 0.0
    _check(np.prod, lambda rng, shape: x, {}, x.shape, axis, keepdims, seed)


# ---- max/min ties ----------------------------------------------------------------

TIE_CASES = [
    (np.max, np.array([1.0, 3.0, 3.0]), None, np.array([0.0, 0.5, 0.5])),
    (np.min, np.array([1.0, 3.0, 1.0, 1.0]), None, np.array([1.0, 0.0, 1.0, 1.0]) / 3),
    (np.amax, np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), 1,
     np.array([[0.0, 1 / 2, 1 / 2], [1 / 3, 1 / 3, 1 / 3]])),
    (np.amin, np.array([[1.0, 3.0, 3.0], [1.0, 2.0, 3.0]]), 0, np.array([[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]])),
]


@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("fn, x, axis, expected", TIE_CASES, ids=[c[0].__name__ for c in TIE_CASES])
def test_ties_split_the_cotangent_equally(fn, x, axis, expected, keepdims):
    ans = fn(x, axis=axis, keepdims=keepdims)
    gx = registry.lookup(fn).rule(np.ones(np.shape(ans)), ans, x, axis, keepdims)[0]
    assert np.allclose(gx, expected)


# ---- registration and form ------------------------------------------------------

TABLE_FNS = [r.fn for r in TABLE] + [np.linalg.norm]


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module(TABLE_FNS, np_reductions)


@pytest.mark.parametrize("fn", TABLE_FNS, ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # The compiler binds call-site keywords by name and positions by order.
    params = registry.lookup(fn).params
    numpy_params = [p for p in inspect.signature(fn).parameters if p in params[1:]]
    assert list(params[1:]) == numpy_params
