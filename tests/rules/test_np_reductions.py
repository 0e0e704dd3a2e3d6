"""Table-driven checks of the NumPy reduction adjoint rules over every axis/keepdims combination."""

import inspect
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.rules import np_reductions, registry
from adjoint_compiler.testing import check_grads, check_rule
from tests.rules.domains import away, uniform
from tests.rules.test_np_linalg import hvp_error
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)
KEEPDIMS = (False, True)

# (shape, axis): every axis form on a 3-d array (ints, negatives, tuples, mixed signs,
# all axes, no axes) plus 0-, 1- and 2-d inputs.
AXES_3D = [None, 0, 1, 2, -1, -3, (0, 1), (0, 2), (1, 2), (-1, 0), (2, 0), (0, 1, 2), (0, -2, 2), ()]
CASES = [((), None), ((5,), None), ((5,), 0), ((5,), -1), ((3, 4), None), ((3, 4), 1), ((3, 4), (0, 1))] + [
    ((2, 3, 4), axis) for axis in AXES_3D
]
# np.linalg.norm (ord=None) takes an int (vector norms) or a pair of axes (Frobenius norms).
NORM_CASES = [
    ((5,), None),
    ((5,), 0),
    ((5,), -1),
    ((3, 4), None),
    ((3, 4), 0),
    ((3, 4), 1),
    ((3, 4), (0, 1)),
    ((3, 4), (1, 0)),
    ((3, 4), (-2, -1)),
] + [((2, 3, 4), axis) for axis in [None, 0, 2, -1, (1, 2), (0, 2), (2, 0), (-1, -3)]]


def _count(shape, axis):
    """How many elements each output reduces."""
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


# every axis form once: none, an int, a negative one, tuples (mixed signs), no axes, a 0-d array
SAMPLE = (
    ((), None),
    ((5,), -1),
    ((3, 4), 1),
    ((2, 3, 4), None),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (-1, 0)),
    ((2, 3, 4), ()),
)


class Row(NamedTuple):
    fn: object
    domain: object
    extra: dict  # further keyword arguments of the call and of the rule
    name: str
    min_count: int = 1  # fewest elements per slice for a finite value (var and std need ddof + 1)
    cases: tuple = None  # the (shape, axis) cases of CASES it runs on (None: all)


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
    Row(np.var, uniform(-3, 3), {"ddof": 2}, "var-ddof2", min_count=3),
    Row(np.std, uniform(-3, 3), {}, "std"),  # one element: std is 0 whatever it is, so its derivative is 0
    Row(np.std, uniform(-3, 3), {"ddof": 1}, "std-ddof1", min_count=2),
    Row(np.std, uniform(-3, 3), {"ddof": 2}, "std-ddof2", min_count=3),
    # issue #13 (NaN positions, ties and constant slices: tests/rules/test_np_reductions_more.py), on a
    # sample of the axis forms (each case costs a compiled program in tests/rules/test_tangents.py)
    Row(np.nansum, uniform(-3, 3), {}, "nansum", cases=SAMPLE),
    Row(np.nanmean, uniform(-3, 3), {}, "nanmean", cases=SAMPLE),
    Row(np.nanmax, uniform(-3, 3), {}, "nanmax", cases=SAMPLE),
    Row(np.nanmin, uniform(-3, 3), {}, "nanmin", cases=SAMPLE),
    Row(np.nanvar, uniform(-3, 3), {}, "nanvar", cases=SAMPLE),  # np13h
    Row(np.nanvar, uniform(-3, 3), {"ddof": 1}, "nanvar-ddof1", min_count=2, cases=SAMPLE),
    Row(np.nanstd, uniform(-3, 3), {}, "nanstd", cases=SAMPLE),
    Row(np.nanstd, uniform(-3, 3), {"ddof": 1}, "nanstd-ddof1", min_count=2, cases=SAMPLE),
    Row(np.ptp, uniform(-3, 3), {}, "ptp", min_count=2, cases=SAMPLE),  # one element: ptp is 0 whatever it is
    Row(np.median, uniform(-3, 3), {}, "median", cases=SAMPLE),
]


def _check(fn, domain, extra, shape, axis, keepdims, seed, rtol=1e-5):
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

    check_rule(call, rule_x, [x], diff=[0], seed=seed, rtol=rtol)


# Every row on every case where its value is finite (var and std need ddof + 1 elements per slice).
ROW_CASES = [
    (row, shape, axis)
    for row in TABLE
    for shape, axis in CASES
    if _count(shape, axis) >= row.min_count and (row.cases is None or (shape, axis) in row.cases)
]


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


# Every ord np.linalg.norm accepts, over every axis form that makes it a vector norm (an int, a
# 1-tuple, None on a 1-d array) or a matrix norm (a pair, None on a 2-d array), stacked or not.
# |x| >= 0.2: away from the kinks of |x|, where central differences straddle two slopes.
VECTOR_ORDS = [None, 2, 1, 3, 4, 1.5, 0.5, -1, -2, -0.5, np.inf, -np.inf, 0]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]
VECTOR_AXES = [
    ((5,), None),
    ((5,), 0),
    ((5,), -1),
    ((5,), (0,)),
    ((1,), None),
    ((3, 4), 0),
    ((3, 4), 1),
    ((3, 4), -1),
    ((3, 4), (1,)),
    ((2, 3, 4), 1),
    ((2, 3, 4), -3),
]
MATRIX_AXES = [
    ((3, 4), None),
    ((4, 3), None),
    ((3, 4), (0, 1)),
    ((3, 4), (1, 0)),
    ((4, 3), (-2, -1)),
    ((1, 1), None),
    ((3, 1), None),
    ((2, 3, 4), (1, 2)),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), (2, 0)),
    ((2, 3, 4), (-1, -3)),
]
NORM_ORD_CASES = [(o, s, a) for o in VECTOR_ORDS for s, a in VECTOR_AXES] + [
    (o, s, a) for o in MATRIX_ORDS for s, a in MATRIX_AXES
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("ord, shape, axis", NORM_ORD_CASES, ids=["%s-%s-%s" % c for c in NORM_ORD_CASES])
def test_norm_of_every_ord_matches_finite_differences(ord, shape, axis, keepdims, seed):
    _check(np.linalg.norm, away(0.2, 3), {"ord": ord}, shape, axis, keepdims, seed)


# ---- the norms at their kinks --------------------------------------------------------
# A norm is even (n(-x) = n(x)), so at its zero a central difference is 0, the subgradient the
# rule returns; at an element that is 0, or a tie of two maxima, a central difference averages the
# two one-sided slopes, which is again the rule's choice (0 for the element, an equal split for
# the tie). So these points are checked against central differences too, and against the
# subgradient written out by hand.

TIED_SV = np.diag([2.0, 2.0, 1.0])  # two equal largest singular values
LOW_RANK = np.diag([3.0, 1.0, 0.0])  # a zero singular value
KINKS = [
    # ord, x, axis, the rule's subgradient (g = 1)
    (None, np.zeros(3), None, np.zeros(3)),
    (2, np.zeros((2, 3)), 1, np.zeros((2, 3))),
    (1, np.zeros(3), None, np.zeros(3)),
    (3, np.zeros(3), None, np.zeros(3)),
    (0.5, np.zeros(3), None, np.zeros(3)),
    (-1, np.zeros(3), None, np.zeros(3)),
    (np.inf, np.zeros(3), None, np.zeros(3)),
    (-np.inf, np.zeros(3), None, np.zeros(3)),
    (0, np.zeros(3), None, np.zeros(3)),
    ("fro", np.zeros((2, 2)), None, np.zeros((2, 2))),
    ("nuc", np.zeros((2, 2)), None, np.zeros((2, 2))),
    (2, np.zeros((2, 2)), None, np.zeros((2, 2))),
    (-2, np.zeros((2, 2)), None, np.zeros((2, 2))),
    (1, np.zeros((2, 2)), None, np.zeros((2, 2))),
    (np.inf, np.zeros((2, 2)), None, np.zeros((2, 2))),
    # an element at 0: exact for p > 1, the kink of |x| (subgradient 0) for p <= 1
    (3, np.array([0.0, 3.0, -4.0]), None, np.array([0.0, 9.0, -16.0]) / 91 ** (2 / 3)),
    (1, np.array([0.0, 3.0, -4.0]), None, np.array([0.0, 1.0, -1.0])),
    # (0 < p < 1: the zero element's |h d|^p term shifts a central difference by O(sqrt(h)); see below)
    (0.5, np.array([0.0, 4.0, -1.0]), None, np.array([0.0, 0.5, -1.0]) * 3.0),
    (-1, np.array([0.0, 3.0, -4.0]), None, np.zeros(3)),  # the norm is 0 there: min-like
    (-np.inf, np.array([0.0, 3.0, -4.0]), None, np.zeros(3)),
    # ties of two maxima (minima) of |x|: split equally, as np.max
    (np.inf, np.array([3.0, -3.0, 1.0]), None, np.array([0.5, -0.5, 0.0])),
    (-np.inf, np.array([1.0, -1.0, 3.0]), None, np.array([0.5, -0.5, 0.0])),
    (np.inf, np.array([[3.0, -3.0], [1.0, 2.0]]), 1, np.array([[0.5, -0.5], [0.0, 1.0]])),
    # matrix 1 / inf: two columns (rows) with the largest absolute sum; a zero in the one picked
    (1, np.array([[1.0, -2.0], [-2.0, 1.0]]), None, np.array([[0.5, -0.5], [-0.5, 0.5]])),
    (np.inf, np.array([[1.0, -2.0], [-2.0, 1.0]]), None, np.array([[0.5, -0.5], [-0.5, 0.5]])),
    (-1, np.array([[1.0, 0.0], [0.0, 3.0]]), None, np.array([[1.0, 0.0], [0.0, 0.0]])),
    (-np.inf, np.array([[1.0, 5.0], [0.0, 2.0]]), None, np.array([[0.0, 0.0], [0.0, 1.0]])),
    # singular values: a tie of the two largest (smallest) shares u v^T; a zero one gets nothing
    (2, TIED_SV, None, np.diag([0.5, 0.5, 0.0])),
    (-2, np.diag([1.0, 1.0, 2.0]), None, np.diag([0.5, 0.5, 0.0])),
    (-2, LOW_RANK, None, np.zeros((3, 3))),
    ("nuc", LOW_RANK, None, np.diag([1.0, 1.0, 0.0])),
    ("nuc", TIED_SV, None, np.eye(3)),
    (2, 2.0 * np.eye(2), None, 0.5 * np.eye(2)),
]
KINK_IDS = ["%s-%d" % (k[0], i) for i, k in enumerate(KINKS)]


def _norm_cotangent(x, ord, axis, keepdims):
    ans = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    return np_reductions.norm_adjoint(np.ones_like(ans), ans, x, ord, axis, keepdims)[0]


FORWARD_AT_ZERO = pytest.mark.filterwarnings("ignore:divide by zero")  # NumPy's own |0| ** p for p < 0


@FORWARD_AT_ZERO
@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("ord, x, axis, expected", KINKS, ids=KINK_IDS)
def test_norm_kinks_get_the_documented_subgradient(ord, x, axis, expected, keepdims):
    assert np.allclose(_norm_cotangent(x, ord, axis, keepdims), expected, rtol=1e-12, atol=1e-12)


@FORWARD_AT_ZERO
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ord, x, axis, expected", KINKS, ids=KINK_IDS)
def test_norm_kinks_match_central_differences(ord, x, axis, expected, seed):
    rtol = 1e-3 if isinstance(ord, float) and 0 < ord < 1 and np.any(x == 0) and np.any(x) else 1e-5
    _check(np.linalg.norm, lambda rng, shape: x, {"ord": ord}, x.shape, axis, False, seed, rtol)


def test_norm_ties_of_three_split_in_three():
    # (three-way ties are where central differences, (max + min) / 2 of the slopes, part from the split)
    x = np.array([2.0, -2.0, 2.0, 1.0])
    assert np.allclose(_norm_cotangent(x, np.inf, None, False), [1 / 3, -1 / 3, 1 / 3, 0.0])
    assert np.allclose(_norm_cotangent(np.eye(3), 2, None, False), np.eye(3) / 3)


@pytest.mark.parametrize("ord", ["nuc", 2, -2, 1, -1, np.inf, -np.inf], ids=str)
def test_matrix_norm_slope_does_not_depend_on_axis_order(ord):
    # norm over (1, 0) is the norm of the transposes: the rule must move the axes back the same way
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    a = _norm_cotangent(x, ord, (1, 2), False)
    b = np.swapaxes(_norm_cotangent(np.swapaxes(x, 1, 2), ord, (2, 1), False), 1, 2)
    assert np.allclose(a, b)


@pytest.mark.parametrize(
    "ord, axis",
    [
        (3, 1),
        (None, None),
        ("fro", None),
        ("nuc", None),
        (2, None),
        (np.inf, None),
        (-np.inf, 1),
        (1, None),
        (-2, None),
        (0.5, 0),
    ],
    ids=str,
)
def test_norm_of_float32_has_a_float32_gradient(ord, axis):
    x = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    g = ac.grad(norm_runtime_ord)(x, ord, axis)
    assert g.dtype == np.float32
    assert np.allclose(g, ac.grad(norm_runtime_ord)(x.astype(float), ord, axis), rtol=1e-4)


def test_unsupported_ord_raises_in_the_forward_call_first():
    # every ord NumPy accepts has an exact rule; any other is refused by NumPy before the adjoint runs
    for ord, x in [("nuc", np.ones(3)), (3, np.ones((2, 2))), ("fro", np.ones(3)), ("max", np.ones((2, 2)))]:
        with pytest.raises(ValueError):
            np.linalg.norm(x, ord=ord)


def test_mean_divides_by_the_reduced_count():
    x = np.ones((2, 3, 4))
    gx = np_reductions.mean_adjoint(np.ones(3), np.mean(x, axis=(0, 2)), x, (0, 2))[0]
    assert gx.shape == x.shape and np.all(gx == 1 / 8)


# ---- size-1 and empty axes -------------------------------------------------------------
# A slice of one element, and arrays with a zero-length axis (reduced or kept). Where NumPy refuses
# the forward call (the max of nothing) there is nothing to differentiate; otherwise the cotangent
# has x's shape (empty for an empty x), the rule warns only where the forward call warned (an
# empty slice), and where the value is finite it matches central differences.

EDGE_CASES = [
    ((1,), None),
    ((1,), 0),
    ((1, 3), 0),
    ((2, 1), 1),
    ((1, 1), None),
    ((2, 1, 3), (1,)),
    ((), None),
    ((0,), None),
    ((0, 3), 0),
    ((0, 3), 1),
    ((3, 0), 0),
    ((3, 0), 1),
    ((2, 0, 3), (0, 2)),
]
EDGE_ROWS = (
    [(r.fn, r.extra, r.name) for r in TABLE]
    + [(np.linalg.norm, {"ord": o}, "norm-%s" % o) for o in [None, 1, 3, -1, np.inf, -np.inf, 0]]
    + [(np.linalg.norm, {"ord": o, "matrix": True}, "norm-%s" % o) for o in ["fro", "nuc", 2, -2, 1, np.inf]]
)
EDGE = [
    (fn, extra, shape, axis, "%s-%s-%s" % (name, shape, axis))
    for fn, extra, name in EDGE_ROWS
    for shape, axis in EDGE_CASES
    if not extra.get("matrix") or len(shape) >= 2 and (axis is None) == (len(shape) == 2)
]


@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("fn, extra, shape, axis", [e[:4] for e in EDGE], ids=[e[4] for e in EDGE])
def test_size_one_and_empty_axes(fn, extra, shape, axis, keepdims):
    extra = {k: v for k, v in extra.items() if k != "matrix"}
    if fn is np.linalg.norm and len(shape) == 3:
        axis = (0, 2)  # the stacked matrices
    x = np.arange(1.0, np.prod(shape) + 1).reshape(shape)
    kwargs = dict(extra, axis=axis, keepdims=keepdims)
    with warnings.catch_warnings(record=True) as forward_warnings:
        warnings.simplefilter("always")
        try:
            ans = fn(x, **kwargs)
        except ValueError:  # e.g. np.max of an empty slice: there is nothing to differentiate
            return
    g = np.ones_like(ans) if np.ndim(ans) else 1.0
    with warnings.catch_warnings(record=True) as rule_warnings:
        warnings.simplefilter("always")
        cot = registry.lookup(fn).rule(g, ans, x, **kwargs)[0]
    assert np.shape(cot) == x.shape
    assert not rule_warnings or forward_warnings, [str(w.message) for w in rule_warnings]
    if x.size and np.all(np.isfinite(ans)):
        _check(fn, lambda rng, shape: x, extra, shape, axis, keepdims, 0)


# ---- prod with zeros ---------------------------------------------------------------

ZERO_CASES = [
    # x, axis, d prod / dx by hand (g = 1): the product of the other elements of each slice
    (np.array([2.0, 0.0, 3.0, 4.0]), None, np.array([0.0, 24.0, 0.0, 0.0])),
    (np.array([0.0, 0.0, 3.0]), None, np.zeros(3)),
    (
        np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]]),
        1,
        np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]),
    ),
    (
        np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]]),
        0,
        np.array([[0.0, 0.0, 15.0], [2.0, 0.0, 9.0], [0.0, 0.0, 15.0]]),
    ),
    (
        np.array([[[0.0, 2.0], [3.0, 4.0]], [[5.0, 0.0], [0.0, 1.0]]]),
        (0, -1),
        np.array([[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [12.0, 0.0]]]),
    ),
    (np.array(0.0), None, np.array(1.0)),
]


@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("x, axis, expected", ZERO_CASES, ids=[str(i) for i in range(len(ZERO_CASES))])
def test_prod_with_zeros_matches_hand_derived_value(x, axis, expected, keepdims):
    ans = np.prod(x, axis=axis, keepdims=keepdims)
    gx = np_reductions.prod_adjoint(np.ones(np.shape(ans)), ans, x, axis, keepdims=keepdims)[0]
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
    (np.amax, np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), 1, np.array([[0.0, 1 / 2, 1 / 2], [1 / 3, 1 / 3, 1 / 3]])),
    (np.amin, np.array([[1.0, 3.0, 3.0], [1.0, 2.0, 3.0]]), 0, np.array([[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]])),
]


@pytest.mark.parametrize("keepdims", KEEPDIMS, ids=["drop", "keep"])
@pytest.mark.parametrize("fn, x, axis, expected", TIE_CASES, ids=[c[0].__name__ for c in TIE_CASES])
def test_ties_split_the_cotangent_equally(fn, x, axis, expected, keepdims):
    ans = fn(x, axis=axis, keepdims=keepdims)
    gx = registry.lookup(fn).rule(np.ones(np.shape(ans)), ans, x, axis, keepdims=keepdims)[0]
    assert np.allclose(gx, expected)


# ---- registration and form ------------------------------------------------------

TABLE_FNS = [r.fn for r in TABLE] + [np.linalg.norm]
# issue #13: rules whose calls do not fit TABLE's rows (their table: tests/rules/test_np_reductions_more.py)
MORE_FNS = [
    np.cumsum,
    np.cumprod,
    np.diff,
    np.quantile,
    np.percentile,
    np.average,
    np.cov,
    np.corrcoef,
    np.gradient,
    *np_reductions._TRAPEZOIDS,  # np.trapezoid and/or np.trapz, as this NumPy has them
    np.bincount,
    np.unique,
    np.full_like,
    np.full,
    np.histogram,  # np13h
    # np13p: the running extrema (bound methods of the ufuncs: the registry's own objects, as assert_table compares ids)
    np.nanprod,
    np.nanmedian,
    registry.lookup(np.maximum.accumulate).fn,
    registry.lookup(np.minimum.accumulate).fn,
    np_reductions.sum_from,  # rules20: np.sum with initial= (registry.form), tests/rules/test_reduction_params.py
]
# rules22 (their rows: tests/rules/test_np_reductions_more.py): NumPy 2.0's norms, 2.1's running sums and products
MORE_FNS += [np.ediff1d, np.nancumsum, np.nancumprod, np.unwrap]
MORE_FNS += [getattr(np.linalg, n) for n in ("vector_norm", "matrix_norm") if hasattr(np.linalg, n)]
MORE_FNS += [getattr(np, n) for n in ("cumulative_sum", "cumulative_prod") if hasattr(np, n)]
# rules23: np.nanquantile, np.nanpercentile; np.mean, np.cumsum, np.cumulative_sum with a dtype= (registry.form
# variants, whose tangent is not the function of the tangent an integer dtype would round): tests/rules/test_rules23.py
MORE_FNS += [np.nanquantile, np.nanpercentile, np_reductions.mean_typed, np_reductions.cumsum_typed]
MORE_FNS += [np_reductions.cumulative_sum_typed] if hasattr(np, "cumulative_sum") else []
# costs25 (their rows: tests/rules/test_np_reductions_more.py): the ufunc methods, the registry's own objects
MORE_FNS += [registry.lookup(f).fn for f in (np.logaddexp.reduce, np.logaddexp2.reduce, np.add.reduceat)]


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module(TABLE_FNS + MORE_FNS, np_reductions)


@pytest.mark.parametrize("fn", TABLE_FNS, ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # The compiler binds call-site keywords by name and positions by order.
    params = registry.lookup(fn).params
    numpy_params = [p for p in inspect.signature(fn).parameters if p in params[1:]]
    # (a keyword a newer NumPy added, last in the rule: np.var's mean= and correction=, NumPy 2)
    assert [p for p in params[1:] if p in inspect.signature(fn).parameters] == numpy_params
    newer = [p for p in params[1:] if p not in numpy_params]
    assert list(params[len(params) - len(newer) :]) == newer


# ---- inlined into compiled gradients ----------------------------------------------
# Through the public API: with a literal ord the compiler keeps one case of the rule, with an ord
# known only at run time all of them; both must agree with central differences.


def norm_literal_ords(v, m):
    return (
        np.linalg.norm(v, 3)
        + np.linalg.norm(v, ord=1)
        + np.linalg.norm(v, np.inf)
        + np.linalg.norm(v, -np.inf)
        + np.linalg.norm(v, 0.5)
        + np.linalg.norm(m, "fro")
        + np.linalg.norm(m, "nuc")
        + np.linalg.norm(m, 2)
        + np.linalg.norm(m, -2)
        + np.linalg.norm(m, 1)
        + np.linalg.norm(m, -1)
        + np.linalg.norm(m, np.inf)
        + np.linalg.norm(m, -np.inf)
        + np.sum(np.linalg.norm(m, 4, axis=1, keepdims=True))
    )


def norm_runtime_ord(m, ord, axis):
    return np.sum(np.linalg.norm(m, ord, axis) ** 2)


def std_var(x):
    return np.std(x[:1]) + np.sum(np.std(x, axis=1, ddof=1)) + np.sum(np.var(x, axis=0, keepdims=True, ddof=1))


@pytest.mark.parametrize("seed", SEEDS)
def test_compiled_norms_of_every_ord(seed):
    rng = np.random.default_rng(seed)
    check_grads(norm_literal_ords, [away(0.2, 3)(rng, (4,)), away(0.2, 3)(rng, (3, 4))], wrt=(0, 1))


@pytest.mark.parametrize(
    "ord, axis",
    [(o, None) for o in MATRIX_ORDS]
    + [(o, 1) for o in VECTOR_ORDS if o != 0]
    + [("nuc", (1, 0)), (np.inf, (0, 1)), (2, (1, 0))],
    ids=str,
)
def test_compiled_norm_with_an_ord_known_at_run_time(ord, axis):
    m = away(0.2, 3)(np.random.default_rng(0), (3, 4))
    check_grads(norm_runtime_ord, [m, ord, axis], wrt=0)


def test_compiled_std_of_one_value_and_of_a_constant_slice():
    x = np.array([[2.0, 2.0, 2.0], [0.1, 0.1, 0.1], [1.0, -1.0, 3.0]])
    g = ac.grad(std_var)(x)
    assert np.all(np.isfinite(g))
    check_grads(std_var, [x])


def test_compiled_norm_at_zero_is_zero_not_nan():
    assert np.array_equal(ac.grad(lambda v: np.linalg.norm(v))(np.zeros(3)), np.zeros(3))
    assert np.array_equal(ac.grad(lambda m: np.linalg.norm(m, "nuc"))(np.zeros((2, 2))), np.zeros((2, 2)))


def f_second_order(x):
    return (
        np.linalg.norm(x, 3)
        + np.linalg.norm(x)
        + np.sum(np.linalg.norm(x.reshape(2, 3), np.inf, axis=1))
        + np.std(x, ddof=1)
        + np.var(x)
        + np.mean(x) ** 2
    )


def test_reduction_gradients_differentiate_again():
    assert hvp_error(f_second_order, away(0.2, 3)(np.random.default_rng(0), (6,))) < 1e-6


def f_spectral(m):
    return np.linalg.norm(m, 2)


def test_second_order_through_the_svd():
    # the rules of the singular-value norms call np.linalg.svd, whose own adjoint (np_linalg.py) follows
    assert hvp_error(f_spectral, np.eye(2) + 0.1) < 1e-6
