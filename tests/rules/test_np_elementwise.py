"""Table-driven checks of the NumPy elementwise adjoint rules, on scalars, arrays and broadcasting shapes."""

import ast
import inspect
import math
import textwrap
from typing import NamedTuple

import numpy as np
import pytest
import adjoint_compiler as ac

from adjoint_compiler.rules import np_elementwise, registry
from adjoint_compiler.testing import check_rule
from tests.rules.domains import away, uniform
from tests.rules.test_operators import POW_IDS, POW_POINTS, _same
from tests.rules.test_rule_bodies import assert_table_is_the_module

SEEDS = (0, 1, 2)


def apart(x, y):
    """No near-tie (within the finite-difference step) between broadcast x and y."""
    return np.all(np.abs(np.subtract(x, y)) > 1e-3)


def off_jumps(x, y):
    """x / y away (beyond the finite-difference step) from the integers, where x % y jumps."""
    q = np.divide(x, y)
    return np.all(np.abs(q - np.round(q)) > 1e-3)


# ---- unary -------------------------------------------------------------------


class Unary(NamedTuple):
    fn: object
    domain: object
    rtol: float = 1e-5


UNARY = [
    Unary(np.sin, uniform(-4, 4)),
    Unary(np.cos, uniform(-4, 4)),
    Unary(np.tan, uniform(-1.2, 1.2)),
    Unary(np.arcsin, uniform(-0.9, 0.9)),
    Unary(np.arccos, uniform(-0.9, 0.9)),
    Unary(np.arctan, uniform(-3, 3)),
    Unary(np.sinh, uniform(-3, 3)),
    Unary(np.cosh, uniform(-3, 3)),
    Unary(np.tanh, uniform(-3, 3)),
    Unary(np.exp, uniform(-3, 3)),
    Unary(np.expm1, uniform(-3, 3)),
    Unary(np.exp2, uniform(-3, 3)),
    Unary(np.log, uniform(0.1, 5)),
    Unary(np.log1p, uniform(-0.9, 3)),
    Unary(np.log2, uniform(0.1, 5)),
    Unary(np.log10, uniform(0.1, 5)),
    Unary(np.sqrt, uniform(0.1, 5)),
    Unary(np.cbrt, away(0.1, 5)),
    Unary(np.square, uniform(-3, 3)),
    Unary(np.abs, away(0.1, 3)),
    Unary(np.absolute, away(0.1, 3)),
    Unary(np.fabs, away(0.1, 3)),
    Unary(np.reciprocal, away(0.3, 3)),
    Unary(np.negative, uniform(-3, 3)),
    Unary(np.positive, uniform(-3, 3)),
    Unary(np.copy, uniform(-3, 3)),
    Unary(np.array, uniform(-3, 3)),
    Unary(np.asarray, uniform(-3, 3)),
    # issue #13
    Unary(np.arcsinh, uniform(-3, 3)),
    Unary(np.arccosh, uniform(1.2, 4)),
    Unary(np.arctanh, uniform(-0.9, 0.9)),
    Unary(np.deg2rad, uniform(-200, 200)),
    Unary(np.radians, uniform(-200, 200)),
    Unary(np.rad2deg, uniform(-3, 3)),
    Unary(np.degrees, uniform(-3, 3)),
    Unary(np.sinc, uniform(-3, 3)),
    Unary(np.i0, uniform(-3, 3)),  # (rules23)
    Unary(np.real, uniform(-3, 3)),
    Unary(np.imag, uniform(-3, 3)),
    Unary(np.conjugate, uniform(-3, 3)),
    Unary(np.conj, uniform(-3, 3)),
    Unary(np.angle, away(0.1, 3)),  # 0 or pi: piecewise constant (both signs drawn)
    Unary(np.real_if_close, uniform(-3, 3)),
]
UNARY_SHAPES = [(), (3,), (2, 3), (1,), (0,), (2, 0)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("row", UNARY, ids=[r.fn.__name__ for r in UNARY])
def test_unary_rule_matches_finite_differences(row, shape, seed):
    rng = np.random.default_rng(seed)
    x = row.domain(rng, shape)
    check_rule(row.fn, registry.lookup(row.fn).rule, [x], diff=[0], rtol=row.rtol, seed=seed)


# ---- binary (broadcasting) ---------------------------------------------------------


class Binary(NamedTuple):
    fn: object
    x: object
    y: object
    valid: object = None  # (x, y) -> bool; resample until it holds
    rtol: float = 1e-5


BINARY = [
    Binary(np.add, uniform(-3, 3), uniform(-3, 3)),
    Binary(np.subtract, uniform(-3, 3), uniform(-3, 3)),
    Binary(np.multiply, uniform(-3, 3), uniform(-3, 3)),
    Binary(np.divide, uniform(-3, 3), away(0.3, 3)),
    Binary(np.true_divide, uniform(-3, 3), away(0.3, 3)),
    Binary(np.power, uniform(0.3, 3), uniform(-2, 2)),
    Binary(np.arctan2, uniform(-2, 2), away(0.3, 2)),
    Binary(np.hypot, away(0.2, 3), away(0.2, 3)),
    Binary(np.maximum, uniform(-3, 3), uniform(-3, 3), apart),
    Binary(np.minimum, uniform(-3, 3), uniform(-3, 3), apart),
    # issue #13
    Binary(np.logaddexp, uniform(-3, 3), uniform(-3, 3)),
    Binary(np.logaddexp2, uniform(-3, 3), uniform(-3, 3)),
    Binary(np.remainder, uniform(-3, 3), away(0.5, 2), off_jumps),
    Binary(np.mod, uniform(-3, 3), away(0.5, 2), off_jumps),
    Binary(np.fmod, uniform(-3, 3), away(0.5, 2), off_jumps),
    Binary(np.fmax, uniform(-3, 3), uniform(-3, 3), apart),
    Binary(np.fmin, uniform(-3, 3), uniform(-3, 3), apart),
    Binary(np.float_power, uniform(0.3, 3), uniform(-2, 2)),  # rules22
]
BINARY_SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 3), (4, 1)),
    ((1,), (1, 1)),
    ((0, 3), (3,)),
    ((3,), (0, 1)),
]


def _binary_args(row, shapes, rng):
    while True:
        x, y = row.x(rng, shapes[0]), row.y(rng, shapes[1])
        if row.valid is None or row.valid(x, y):
            return [x, y]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=lambda s: "%s-%s" % s)
@pytest.mark.parametrize("row", BINARY, ids=[r.fn.__name__ for r in BINARY])
def test_binary_rule_matches_finite_differences(row, shapes, seed):
    rng = np.random.default_rng(seed)
    args = _binary_args(row, shapes, rng)
    check_rule(row.fn, registry.lookup(row.fn).rule, args, diff=[0, 1], rtol=row.rtol, seed=seed)


def test_power_exponent_cotangent_at_zero_base_is_zero():
    x, y = np.array([0.0, 2.0]), np.array([2.0, 3.0])
    gx, gy = np_elementwise.power_adjoint(np.ones(2), np.power(x, y), x, y)
    assert np.array_equal(gx, [0.0, 12.0])
    assert np.array_equal(gy, [0.0, 8.0 * math.log(2.0)])


# ---- special points: kinks, ties, a zero base ------------------------------------------------
# np.power at the points of operator.pow's table (the two rules are one formula), on arrays.


@pytest.mark.parametrize("x, y, dx, dy, smooth", POW_POINTS, ids=POW_IDS)
def test_power_special_points(x, y, dx, dy, smooth):
    x, y = np.full(3, x), np.full(3, y)
    with np.errstate(all="ignore"):  # log(0), log(-2): the values asserted
        gx, gy = np_elementwise.power_adjoint(np.ones(3), np.power(x, y), x, y)
        assert _same(gx, np.full(3, dx)) and _same(gy, np.full(3, dy))
        if smooth:
            check_rule(np.power, np_elementwise.power_adjoint, [x, y], diff=[0, 1])


# abs at 0 takes the subgradient 0 (np.sign(0)), which is also what a central difference gives
# there (|x| is even); a tie of np.maximum / np.minimum gives the whole cotangent to x (a valid
# subgradient, the builtin max's choice; a central difference splits it, so it is checked by hand).
KINKS = [
    (np.abs, [np.array([0.0, -2.0, 0.0, 3.0])], [np.array([0.0, -1.0, 0.0, 1.0])]),
    (np.absolute, [np.array([[0.0], [-1.0]])], [np.array([[0.0], [-1.0]])]),
    (np.maximum, [np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 0.0])], [np.ones(3), np.zeros(3)]),
    (
        np.minimum,
        [np.array([1.0, 2.0, 0.0]), np.array([1.0, 1.0, 0.0])],
        [np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])],
    ),
    (np.maximum, [np.array([2.0, 2.0]), 2.0], [np.ones(2), 0.0]),
    (np.minimum, [2.0, np.array([2.0, 1.0])], [1.0, np.array([0.0, 1.0])]),
    # issue #13: NaN loses in fmax / fmin (x1 takes a tie, and both NaN); sinc's slope 0 at 0
    (
        np.fmax,
        [np.array([np.nan, 1.0, 2.0, np.nan]), np.array([1.0, np.nan, 2.0, np.nan])],
        [[0, 1, 1, 1], [1, 0, 0, 0]],
    ),
    (np.fmin, [np.array([np.nan, 1.0, 3.0]), np.array([1.0, np.nan, 2.0])], [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]),
    (np.sinc, [np.array([0.0, 0.0])], [np.array([0.0, 0.0])]),
]


@pytest.mark.parametrize("fn, args, expected", KINKS, ids=["%s-%d" % (k[0].__name__, i) for i, k in enumerate(KINKS)])
def test_kinks_and_ties_get_the_documented_subgradient(fn, args, expected):
    cots = registry.lookup(fn).rule(np.ones(np.shape(fn(*args))), fn(*args), *args)
    cots = (cots,) if len(args) == 1 else cots
    for c, e in zip(cots, expected):
        assert np.shape(c) == np.shape(e) and np.array_equal(c, e)
    if fn in (np.abs, np.absolute, np.sinc):
        check_rule(fn, registry.lookup(fn).rule, args, diff=[0])


@pytest.mark.parametrize("fn", [np.maximum, np.minimum], ids=["maximum", "minimum"])
def test_extremum_ties_go_to_the_first_argument(fn):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([[2.0], [2.0]])
    gx, gy = registry.lookup(fn).rule(np.ones((2, 3)), fn(x, y), x, y)
    first = x >= y if fn is np.maximum else x <= y
    assert np.array_equal(gx, first.sum(axis=0))
    assert np.array_equal(gy, (~first).sum(axis=1, keepdims=True))


# ---- selection: where, clip ----------------------------------------------------


def _where_args(cond_shape, x_shape, y_shape):
    def make(rng):
        cond = rng.random(cond_shape) < 0.5 if cond_shape != () else bool(rng.random() < 0.5)
        return [cond, uniform(-3, 3)(rng, x_shape), uniform(-3, 3)(rng, y_shape)]

    make.shapes = (cond_shape, x_shape, y_shape)  # read by the fuzzer (tests/fuzz/gen_rules.py)
    return make


def _clip_args(a_shape, lo, hi):
    """lo/hi: a shape for a random bound array, a float for a fixed bound, or None (one-sided)."""

    def bound(rng, spec, low, high):
        return spec if spec is None or isinstance(spec, float) else uniform(low, high)(rng, spec)

    def make(rng):
        a_min, a_max = bound(rng, lo, -1.0, -0.2), bound(rng, hi, 0.2, 1.0)
        while True:  # keep every element off the kinks at the bounds
            a = uniform(-2, 2)(rng, a_shape)
            near = [np.any(np.abs(np.subtract(a, b)) < 1e-3) for b in (a_min, a_max) if b is not None]
            if not any(near):
                return [a, a_min, a_max]

    make.shapes = (a_shape, lo, hi)  # read by the fuzzer (tests/fuzz/gen_rules.py)
    return make


class Select(NamedTuple):
    fn: object
    make_args: object
    diff: tuple
    name: str


SELECT = [
    Select(np.where, _where_args((3, 4), (3, 1), (4,)), (1, 2), "where-(3,4)-(3,1)-(4,)"),
    Select(np.where, _where_args((2, 3), (2, 3), (2, 3)), (1, 2), "where-same"),
    Select(np.where, _where_args((2, 3), (), ()), (1, 2), "where-scalar-branches"),
    Select(np.where, _where_args((), (2, 3), ()), (1, 2), "where-scalar-cond"),
    Select(np.where, _where_args((), (), ()), (1, 2), "where-all-scalar"),
    Select(np.clip, _clip_args((3, 4), -0.5, 0.5), (0,), "clip-fixed-bounds"),
    Select(np.clip, _clip_args((3, 4), (4,), (3, 1)), (0, 1, 2), "clip-broadcast-bounds"),
    Select(np.clip, _clip_args((2, 3), (), ()), (0, 1, 2), "clip-scalar-bounds"),
    Select(np.clip, _clip_args((), (), ()), (0, 1, 2), "clip-all-scalar"),
    Select(np.clip, _clip_args((3,), (2, 3), ()), (0, 1, 2), "clip-bound-broadens"),
    Select(np.clip, _clip_args((3, 4), (4,), None), (0, 1), "clip-no-upper"),
    Select(np.clip, _clip_args((3, 4), None, (3, 1)), (0, 2), "clip-no-lower"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", SELECT, ids=[r.name for r in SELECT])
def test_selection_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args = row.make_args(rng)
    check_rule(row.fn, registry.lookup(row.fn).rule, args, diff=list(row.diff), seed=seed)


def test_where_condition_gets_no_cotangent():
    cond = np.array([True, False])
    cots = np_elementwise.where_adjoint(np.array([1.0, 2.0]), None, cond, np.zeros(2), np.zeros(2))
    assert cots[0] is None
    assert np.array_equal(cots[1], [1.0, 0.0]) and np.array_equal(cots[2], [0.0, 2.0])


def test_clip_ties_and_partition():
    a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    g = np.arange(1.0, 6.0)
    # (the rule's last two cotangents: the min=, max= keywords', absent)
    ga, glo, ghi = np_elementwise.clip_adjoint(g, np.clip(a, -1.0, 1.0), a, -1.0, 1.0)[:3]
    assert np.array_equal(ga, [0.0, 2.0, 3.0, 4.0, 0.0])  # a on a bound keeps its cotangent
    assert glo == 1.0 and ghi == 5.0
    # equal bounds: the lower one takes every clipped element, nothing is counted twice
    ga, glo, ghi = np_elementwise.clip_adjoint(g, np.clip(a, 0.5, 0.5), a, 0.5, 0.5)[:3]
    assert np.array_equal(ga, np.zeros(5)) and glo == 15.0 and ghi == 0.0


# ---- casts: x.astype(dtype) ------------------------------------------------------


class Cast(NamedTuple):
    dtype: object  # the cast's
    x_dtype: object  # the argument's
    shape: tuple
    name: str


CASTS = [
    Cast(np.float64, np.float64, (2, 3), "astype-float64"),
    Cast(np.float64, np.float32, (3,), "astype-float32-to-float64"),
    Cast(int, np.float64, (3,), "astype-int"),  # piecewise constant: no derivative
]


@pytest.mark.parametrize("row", CASTS, ids=[r.name for r in CASTS])
def test_cast_rule_matches_finite_differences_in_the_arguments_precision(row):
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=row.shape).astype(row.x_dtype)
    rule = registry.lookup(np.ndarray.astype).rule
    check_rule(np.ndarray.astype, rule, [x, row.dtype], diff=[0])
    assert rule(np.ones(row.shape), x.astype(row.dtype), x, row.dtype)[0].dtype == row.x_dtype


# ---- conversions: np.float64(x), x.item(), x.tolist() -------------------------------------


CONVERSIONS = [
    (np.float64, np.array(0.7)),
    (np.float64, np.array([0.3, -1.2])),
    (np.ndarray.item, np.array([0.7])),
    (np.ndarray.item, np.array([[1.3]])),
]


@pytest.mark.parametrize("fn,x", CONVERSIONS, ids=["%s-%s" % (f.__name__, x.shape) for f, x in CONVERSIONS])
def test_conversion_rule_matches_finite_differences(fn, x):
    check_rule(fn, registry.lookup(fn).rule, [x.copy()], diff=[0])


def test_tolist_rule_gives_the_cotangent_in_the_arrays_shape():
    x = np.arange(6.0).reshape(2, 3)
    g = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]  # <g, x.tolist()> is linear in x: its gradient is g
    bar = registry.lookup(np.ndarray.tolist).rule(g, x.tolist(), x)
    assert bar.shape == x.shape and np.array_equal(bar, np.array(g))


# ---- registration and form ------------------------------------------------------

TABLE_FNS = [r.fn for r in UNARY] + [r.fn for r in BINARY] + [r.fn for r in SELECT] + [np.ndarray.astype]
TABLE_FNS += [np.float64, np.ndarray.item, np.ndarray.tolist]
# issue #13: rules whose calls do not fit these tables (their table: tests/rules/test_np_reductions_more.py)
MORE_FNS = [np.nan_to_num, np.convolve, np.correlate, np.interp, np.polyval]
MORE_FNS += [np.polyder, np.polyint, np.polyadd, np.polysub, np.polymul, np.polyfit, np.roots]  # np13e
MORE_FNS += [np.vander]  # np13f
MORE_FNS += [np_elementwise.array_cast, np_elementwise.asarray_cast]  # rules19: tested below
MORE_FNS += [np_elementwise.interp_periodic]  # rules20: np.interp(period=), tests/rules/test_reduction_params.py
MORE_FNS += [np.copysign, np.heaviside]  # rules22: a constant operand each (their rows: test_np_reductions_more.py)
MORE_FNS += [np.ldexp, np.frexp, np.modf, np.divmod, np.nextafter]  # rules24 (rows: test_np_reductions_more.py)
MORE_FNS += [np.polynomial.polynomial.polyval, np.polynomial.polynomial.polyder, np.polynomial.polynomial.polyint]
MORE_FNS += [np.polynomial.legendre.legval, np.polynomial.hermite.hermval, np.polynomial.hermite_e.hermeval]
MORE_FNS += [np.polynomial.laguerre.lagval]
# costs25 (rows: test_np_reductions_more.py; Polynomial(c)(x): tests/rules/test_costs25.py)
MORE_FNS += [np.polynomial.polynomial.polyval2d, np.polynomial.polynomial.polyval3d]
MORE_FNS += [np.polynomial.hermite.hermval2d, np.polynomial.hermite.hermval3d, np_elementwise.polynomial_call]


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module(TABLE_FNS + MORE_FNS, np_elementwise)


def test_aliases_share_one_rule():
    assert registry.lookup(np.abs).rule is registry.lookup(np.absolute).rule
    assert registry.lookup(np.divide).rule is registry.lookup(np.true_divide).rule


def test_sign_is_nondifferentiable_not_a_rule():
    assert registry.lookup(np.sign) is None and registry.is_nondifferentiable(np.sign)


def test_numpy_rules_use_numpy_not_math():
    for r in registry.all_rules().values():
        if r.origin == np_elementwise.__name__ and getattr(r.fn, "__module__", None) != "math":  # math: on_floats
            body = ast.parse(textwrap.dedent(inspect.getsource(r.rule))).body[0].body  # not the decorators
            names = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
            assert "math" not in names, r


def angle_of_complex(x):
    return np.sum(np.angle(np.exp(1j * x)))  # = x (mod 2 pi): the rule for real arguments would give 0


def angle_of_real(x):
    return np.sum(np.angle(x, deg=True) * x)  # 0 or 180 (piecewise constant): the gradient is the angle


def test_angle_of_real_is_piecewise_constant_and_of_a_complex_value_made_inside_its_slope():
    x = np.array([1.5, -2.0, 0.0, -0.0])
    assert ac.grad(angle_of_real)(x).tolist() == [0.0, 180.0, 0.0, 180.0]  # np.angle(-0.0) is pi
    _, dot = ac.jvp(angle_of_real)(x, np.ones(4))
    assert dot == np.sum(np.angle(x, deg=True))
    # 1j * x makes the code run as a complex call (tests/test_complex_from_real.py): angle(e^(ix)) = x on (-pi, pi]
    np.testing.assert_allclose(ac.grad(angle_of_complex)(np.array([0.5, 1.0])), [1.0, 1.0], rtol=1e-14)
    value, dot = ac.jvp(angle_of_complex)(np.array([0.5, 1.0]), np.array([1.0, 3.0]))
    assert value == pytest.approx(1.5, rel=1e-14) and dot == pytest.approx(4.0, rel=1e-14)


# ---- np.array / np.asarray with dtype=, order=, ndmin=, copy= (rules19) --------------------------------------


def _cast_sum(x):
    weights = np.arange(1.0, 7.0).reshape(2, 3)
    return (
        np.sum(np.sin(np.asarray(x, dtype=float)) * weights)
        + np.sum(np.array(x, np.float64, ndmin=3) ** 2)
        + np.sum(np.cos(np.asarray(x, None, "F")))
        + np.sum(np.array(x, copy=True) * np.asarray(x * 3.0, dtype=int))  # (an integer cast: no derivative)
    )


def test_array_and_asarray_with_a_dtype_or_layout_against_differences():
    x = np.array([[0.3, -1.2, 0.8], [1.5, 0.25, -0.4]])
    weights = np.arange(1.0, 7.0).reshape(2, 3)
    hand = np.cos(x) * weights + 2.0 * x - np.sin(x) + np.trunc(x * 3.0)
    np.testing.assert_allclose(ac.grad(_cast_sum)(x), hand, rtol=1e-13)
    d = np.random.default_rng(2).standard_normal(x.shape)
    difference = (_cast_sum(x + 1e-6 * d) - _cast_sum(x - 1e-6 * d)) / 2e-6
    assert ac.jvp(_cast_sum)(x, d)[1] == pytest.approx(difference, rel=1e-7)
    grad = ac.grad(_cast_sum)
    np.testing.assert_allclose(ac.hvp(_cast_sum)(x, d), (grad(x + 1e-5 * d) - grad(x - 1e-5 * d)) / 2e-5, atol=1e-7)


def _to_float32(x):
    return np.sum(np.sin(np.asarray(x, np.float32))) + np.sin(np.array([x[0], x[2]], dtype=np.float32)[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_cast_to_float32_keeps_the_arguments_precision(dtype):
    x = np.array([0.3, -1.2, 0.8], dtype)
    g = ac.grad(_to_float32)(x)
    assert g.dtype == dtype
    hand = np.cos(x.astype(np.float32)) + np.array([0.0, 0.0, np.cos(np.float32(x[2]))])
    np.testing.assert_allclose(g, hand, rtol=1e-6)
    assert ac.jvp(_to_float32)(x, np.ones(3, dtype))[1] == pytest.approx(np.sum(hand), rel=1e-6)


def _array_view(x):
    return np.sum(np.array(x, copy=False) ** 2)


def test_array_that_may_return_its_argument_is_refused():
    with pytest.raises(ac.UnsupportedError, match=r"test_np_elementwise.py:\d+:\d+: error: .*copy=False or None"):
        ac.grad(_array_view)(np.ones(3))
