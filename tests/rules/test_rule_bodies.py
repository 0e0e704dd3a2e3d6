"""One check of every built-in rule body: the compiler can inline it (see templates.py)."""
import ast
import inspect
import math
import textwrap

import numpy as np
import pytest

from adjoint_compiler import templates
from adjoint_compiler.rules import registry

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



_ALL = list(registry.all_rules().values())
_VARIANTS = [v for r in _ALL for v in (r.scalar_rule, r.masked_rule) if v is not None]
def assert_table_is_the_module(table_fns, module):
    """A rules module and its test table list the same functions, each with an inlined rule from that module."""
    for fn in table_fns:
        rule = registry.lookup(fn)
        assert rule is not None, fn
        assert rule.origin == module.__name__
        assert rule.inline
    covered = {id(fn) for fn in table_fns}
    mine = [r for r in registry.all_rules().values() if r.origin == module.__name__]
    assert mine
    for r in mine:
        assert id(r.fn) in covered, r


INLINE = sorted((r for r in {id(r.rule): r for r in _ALL + _VARIANTS if r.inline}.values()),
                key=lambda r: (r.origin or "", r.rule.__name__))
MASKED = [r for r in _ALL if r.masked_rule is not None]


@pytest.mark.parametrize("rule", MASKED, ids=[r.rule.__name__ for r in MASKED])
def test_masked_variant_agrees_and_keeps_zero_cotangents_zero(rule):
    x = np.array([0.2, 0.5, 0.7])
    g = np.array([1.0, -2.0, 0.5])
    ans = rule.fn(x)
    np.testing.assert_allclose(rule.masked_rule.rule(g, ans, x), rule.rule(g, ans, x))
    with np.errstate(all="ignore"):
        bad = np.array([-1.0, 0.0, -4.0])  # outside the domain: the forward value is nan or inf
        assert np.array_equal(rule.masked_rule.rule(np.zeros(3), rule.fn(bad), bad), np.zeros(3))


@pytest.mark.parametrize("rule", INLINE, ids=[r.rule.__name__ for r in INLINE])
def test_rule_body_is_inlinable_and_accepted_by_the_compiler(rule):
    assert_inlinable(rule.rule, inspect.getmodule(rule.rule))
    templates.template(rule)


def test_math_rules_use_math_not_numpy():
    for r in INLINE:
        if r.origin.endswith("py_math"):
            names = {n.id for n in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(r.rule))))
                     if isinstance(n, ast.Name)}
            assert "np" not in names, r
