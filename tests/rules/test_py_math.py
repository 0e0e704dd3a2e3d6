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
    Row(math.erfc, (uniform(-2.5, 2.5),)),
    Row(math.fabs, (away(0.1, 3),)),
    Row(math.asinh, (uniform(-3, 3),)),
    Row(math.acosh, (uniform(1.2, 5),)),
    Row(math.atanh, (uniform(-0.9, 0.9),)),
    Row(math.degrees, (uniform(-3, 3),)),
    Row(math.radians, (uniform(-200, 200),)),
    Row(math.copysign, (away(0.1, 3), away(0.1, 3)), diff=(0,)),  # piecewise constant in the sign's source
    # fmod and remainder jump where x / y crosses an integer (a half-integer): a random point lies within
    # the finite-difference step of a jump with probability ~1e-6
    Row(math.fmod, (uniform(-5, 5), away(0.7, 2))),
    Row(math.remainder, (uniform(-5, 5), away(0.7, 2))),
    Row(math.ldexp, (uniform(-3, 3), lambda rng: int(rng.integers(-3, 4))), diff=(0,)),  # an integer exponent
    Row(math.nextafter, (uniform(-3, 3), uniform(4, 5))),
    Row(math.gamma, (uniform(0.2, 5),)),
    Row(math.gamma, (uniform(-2.8, -2.2),)),  # between poles, where Gamma < 0
    Row(math.lgamma, (uniform(0.2, 8),)),
    Row(math.lgamma, (uniform(-1.8, -1.2),)),
    *[Row(getattr(math, name), (uniform(-3, 3),)) for name in ("cbrt", "exp2") if hasattr(math, name)],  # 3.11+
    *([Row(math.fma, (uniform(-3, 3),) * 3)] if hasattr(math, "fma") else []),  # 3.13+
]


# Functions of sequences: the samplers give the positional arguments, then the keyword ones.
def floats(n, lo=-2.0, hi=2.0):
    return lambda rng: [float(v) for v in rng.uniform(lo, hi, n)]


def with_zero(rng):
    return [uniform(-2, 2)(rng), 0.0, uniform(-2, 2)(rng)]


class SeqRow(NamedTuple):
    fn: object
    args: tuple  # one sampler per positional argument
    kwargs: dict  # keyword -> sampler
    name: str


SEQUENCE_TABLE = [
    SeqRow(math.prod, (floats(4),), {}, "prod"),
    SeqRow(math.prod, (floats(3),), {"start": uniform(-2, 2)}, "prod-start"),
    SeqRow(math.prod, (with_zero,), {}, "prod-with-a-zero"),  # the product of the others, never ans / 0
    SeqRow(math.fsum, (floats(5),), {}, "fsum"),
    SeqRow(math.dist, (floats(3), floats(3)), {}, "dist"),
    *([SeqRow(math.sumprod, (floats(3), floats(3)), {}, "sumprod")] if hasattr(math, "sumprod") else []),  # 3.12+
]
# Functions that return a pair (the cotangent is a pair too)
PAIR_TABLE = [
    Row(math.modf, (away(0.1, 5),)),
    Row(math.frexp, (away(0.1, 50),)),
]


def sample_sequence_row(row, rng):
    return [s(rng) for s in row.args], {k: s(rng) for k, s in row.kwargs.items()}


def _rule_for(row):
    rule = registry.lookup(row.fn).rule
    if row.pick is None:
        return rule
    return lambda g, ans, *args: rule(g, ans, *args)[row.pick]


def _row_id(row):
    suffix = "-negative" if row.fn in (math.gamma, math.lgamma) and row.domains[0].hi < 0 else ""
    return "%s/%d%s" % (row.fn.__name__, len(row.domains), suffix)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[_row_id(r) for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args = [sample(rng) for sample in row.domains]
    diff = row.diff if row.diff is not None else range(len(args))
    check_rule(row.fn, _rule_for(row), args, diff=list(diff), rtol=row.rtol, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", SEQUENCE_TABLE, ids=[r.name for r in SEQUENCE_TABLE])
def test_sequence_rule_matches_finite_differences(row, seed):
    args, kwargs = sample_sequence_row(row, np.random.default_rng(seed))
    n, names = len(args), list(kwargs)
    rule = registry.lookup(row.fn).rule

    def fn(*values):
        return row.fn(*values[:n], **dict(zip(names, values[n:])))

    def rule_of_all(g, ans, first, *rest):  # every parameter's cotangent, in the order of fn's
        cots = rule(g, ans, first, *rest[: n - 1], **dict(zip(names, rest[n - 1 :])))
        return cots if isinstance(cots, tuple) else (cots,)

    values = args + list(kwargs.values())
    check_rule(fn, rule_of_all, values, diff=list(range(len(values))), seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", PAIR_TABLE, ids=[_row_id(r) for r in PAIR_TABLE])
def test_pair_rule_matches_finite_differences(row, seed):
    # <g, (first, second)> along x, g a random pair (the integral part or exponent: piecewise constant)
    rng = np.random.default_rng(seed)
    check_rule(row.fn, registry.lookup(row.fn).rule, [row.domains[0](rng)], diff=[0], seed=seed)


def test_prod_of_a_list_with_zeros_is_exact():
    g, start = py_math.prod_adjoint(1.0, 0.0, [2.0, 0.0, 3.0, 0.0], 1.5)
    assert g.tolist() == [0.0, 0.0, 0.0, 0.0] and start == 0.0
    g, _ = py_math.prod_adjoint(1.0, 0.0, [2.0, 0.0, 3.0], 1.5)
    assert g.tolist() == [0.0, 9.0, 0.0]


def test_copysign_is_flat_in_the_sign_source():
    for x, y in ((1.5, -2.0), (-1.5, 2.0), (-1.5, -0.5)):
        h = 1e-6
        assert math.copysign(x, y + h) == math.copysign(x, y - h)
        assert py_math.copysign_adjoint(2.0, math.copysign(x, y), x, y) == (
            2.0 * (1 if (x > 0) == (y > 0) else -1),
            None,
        )


def test_scalar_results_are_plain_floats():
    # The math rules stay on Python floats (no NumPy scalars creep in).
    for row in TABLE:
        rng = np.random.default_rng(0)
        args = [sample(rng) for sample in row.domains]
        cots = _rule_for(row)(1.0, row.fn(*args), *args)
        diff = row.diff if row.diff is not None else range(len(args))
        for i, c in enumerate(cots if isinstance(cots, tuple) else (cots,)):
            # None only for an argument with no derivative (copysign's sign, ldexp's integer exponent)
            assert type(c) is float or (c is None and i not in diff), (row.fn.__name__, type(c))


def test_log_base_e_is_natural_log():
    assert py_math.log_adjoint(1.0, math.log(2.0), 2.0) == (0.5, -math.log(2.0) / math.e)


def test_pow_at_zero_base():
    # d(0^y)/dy is 0 for y > 0; math.log(0) would raise.
    assert py_math.pow_adjoint(1.0, 0.0, 0.0, 2.0) == (0.0, 0.0)
    assert py_math.pow_adjoint(1.0, 0.0, 0.0, 3.0) == (0.0, 0.0)


@pytest.mark.parametrize("x, y, dx, dy, smooth", POW_POINTS, ids=POW_IDS)
def test_pow_special_points(x, y, dx, dy, smooth):
    # the points of operator.pow's table; inf where the derivative is infinite, as float64 gives
    gx, gy = py_math.pow_adjoint(1.0, math.pow(x, y), x, y)
    assert type(gx) is float and type(gy) is float
    assert _same(gx, dx) and _same(gy, dy)
    if smooth:
        check_rule(math.pow, py_math.pow_adjoint, [x, y], diff=[0, 1])


def test_table_and_module_list_the_same_rules():
    tables = [row.fn for row in TABLE + PAIR_TABLE] + [row.fn for row in SEQUENCE_TABLE]
    assert_table_is_the_module(tables, py_math)


def test_pow_exponent_cotangent_is_nan_for_negative_base():
    gx, gy = py_math.pow_adjoint(1.0, 4.0, -2.0, 2.0)
    assert gx == -4.0 and math.isnan(gy)


# Every callable of math: a rule, a non-differentiable declaration, or a deliberate refusal (listed here).
# None is refused: the pairs (modf, frexp) have rules whose cotangent is a pair, the integer functions
# (factorial, comb, gcd, ...) are declared non-differentiable; constants (pi, e, tau, inf, nan) are values.
REFUSED = {}


def test_every_callable_of_math_is_ruled_declared_or_refused():
    callables = [getattr(math, n) for n in dir(math) if not n.startswith("_") and callable(getattr(math, n))]
    assert len(callables) > 50
    for fn in callables:
        kinds = [registry.lookup(fn) is not None, registry.is_nondifferentiable(fn), fn in REFUSED]
        assert sum(kinds) == 1, (fn, kinds)
    values = [n for n in dir(math) if not n.startswith("_") and not callable(getattr(math, n))]
    assert sorted(values) == ["e", "inf", "nan", "pi", "tau"]
    assert registry.call_form(math.hypot, 1) is math.fabs and registry.call_form(math.hypot, 2) is math.hypot


def test_every_tabled_math_function_is_checked_against_central_differences():
    ruled = {getattr(math, n) for n in dir(math) if registry.lookup(getattr(math, n, None)) is not None}
    tabled = {row.fn for row in TABLE + PAIR_TABLE} | {row.fn for row in SEQUENCE_TABLE}
    assert ruled == tabled, ruled ^ tabled
