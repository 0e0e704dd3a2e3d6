"""Table-driven checks of the ``math`` adjoint rules against central differences."""
import ast
import inspect
import math
import textwrap
from typing import NamedTuple

import numpy as np
import pytest

from adjoint_compiler.rules import py_math, registry
from adjoint_compiler.testing import check_rule

SEEDS = (0, 1, 2)


def uniform(lo, hi):
    return lambda rng: float(rng.uniform(lo, hi))


def away(lo, hi):
    """|x| in [lo, hi] with a random sign (keeps away from a kink or pole at 0)."""
    return lambda rng: float(rng.choice((-1.0, 1.0)) * rng.uniform(lo, hi))


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


def test_every_table_function_has_a_rule_from_this_module():
    for row in TABLE:
        rule = registry.lookup(row.fn)
        assert rule is not None, row.fn
        assert rule.origin == py_math.__name__
        assert rule.inline


def test_every_rule_of_this_module_is_in_the_table():
    covered = {id(row.fn) for row in TABLE}
    mine = [r for r in registry.all_rules().values() if r.origin == py_math.__name__]
    assert mine
    for r in mine:
        assert id(r.fn) in covered, r


# ---- the rule bodies must be inlinable ------------------------------------------

ALLOWED_GLOBALS = {"np", "math", "unbroadcast", "unreduce", "None", "True", "False"}
FORBIDDEN = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
             ast.Yield, ast.YieldFrom, ast.Await, ast.Starred)


def assert_inlinable(rule, module):
    fn = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]
    args = fn.args
    assert not (args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs), rule
    params = [a.arg for a in args.args]
    assert params[:2] == ["g", "ans"], rule
    known = set(params)

    def check(expr):
        for node in ast.walk(expr):
            assert not isinstance(node, FORBIDDEN), (rule, ast.dump(node))
            if isinstance(node, ast.Name):
                assert node.id in known or node.id in ALLOWED_GLOBALS, (rule, node.id)
            if isinstance(node, ast.Compare):  # `axis is None` would read `1 is None` once inlined
                assert not any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops), rule

    for default in args.defaults:
        check(default)
    *assigns, last = fn.body
    for stmt in assigns:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, (rule, ast.dump(stmt))
        target = stmt.targets[0]
        assert isinstance(target, ast.Name) and target.id not in known, (rule, ast.dump(target))
        check(stmt.value)
        known.add(target.id)
    assert isinstance(last, ast.Return) and last.value is not None, rule
    check(last.value)
    if len(params) > 3:
        assert isinstance(last.value, ast.Tuple) and len(last.value.elts) == len(params) - 2, rule
    else:
        assert not isinstance(last.value, ast.Tuple), rule
    assert module.__dict__.get("math", math) is math and module.__dict__.get("np", np) is np


def test_rule_bodies_are_inlinable():
    for r in registry.all_rules().values():
        if r.origin == py_math.__name__:
            assert_inlinable(r.rule, py_math)


def test_math_rules_use_math_not_numpy():
    for r in registry.all_rules().values():
        if r.origin == py_math.__name__:
            names = {n.id for n in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(r.rule))))
                     if isinstance(n, ast.Name)}
            assert "np" not in names, r


def test_pow_exponent_cotangent_is_nan_for_negative_base():
    gx, gy = py_math.pow_adjoint(1.0, 4.0, -2.0, 2.0)
    assert gx == -4.0 and math.isnan(gy)


def test_compiler_accepts_rules():
    templates = pytest.importorskip("adjoint_compiler.templates")
    for r in registry.all_rules().values():
        if r.origin == py_math.__name__:
            t = templates.template(r)
            assert len(t.results) == len(r.params)
