"""One check of every built-in rule body, adjoint or tangent: the compiler can inline it (see templates.py)."""

import ast
import inspect
import math
import textwrap

import gast
import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import templates
from adjoint_compiler.rules import py_math, registry

ALLOWED_GLOBALS = {
    "np",
    "math",
    "cmath",
    "complex_ge",
    "unbroadcast",
    "cotangent_where",
    "unreduce",
    "fit_shape",
    "einsum_fit",
    "einsum_unfit",
    "einsum_plan",
    "einsum_mask",
    "one_count",
    "repeat_bar",
    "unique_inverse",
    "elements_bar",
    "repeated_bar",
    "tiled",
    "loop_keys_dot",
    "chosen",
    "hit_at",
    "sort_order",
    "sorted_bar",
    "sorted_dot",
    "set_elements_bar",
    "set_elements_dot",
    "sorted_in_place_bar",
    "sorted_in_place_dot",
    "structure",
    "added_at",
    "multiplied_at",
    "at_groups",
    "divided_at",
    "at_chosen",
    "band_index",
    "at_bar",
    "zeros_like",
    "gather",
    "polygamma",
    "bessel_i1",
    "linalg_check",
    "TangentParts",
    "einsum_sublist",
    "einsum_sublist_spec",
    "einsum_order",
    "kept_share",
    "supported",  # shape13: a parameter's value a rule models for some values only (runtime.supported)
    "joined_type",  # rules20: the dtype np.concatenate's cotangents go back in (runtime.joined_type)
    "unless_float",  # rules20: a reduction's dtype= modelled where it is a floating type (runtime.unless_float)
    "unless_real",  # rules23: an integer or boolean dtype= rounds (runtime.rounded: the derivative 0)
    "rounded",
    "unless_rounded",
    "None",
    "True",
    "False",
    "isinstance",  # rules19: builtin abs's scalar rule tells a complex number by its type
    "complex",
}
FORBIDDEN = (
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.NamedExpr,
    ast.Yield,
    ast.YieldFrom,
    ast.Await,
    ast.Starred,
)


def assert_inlinable(rule, module, fragment=False):
    """A rule (or a fragment it calls: registry.fragment) the compiler can inline."""
    fn = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]
    args = fn.args
    assert not (args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs), rule
    params = [a.arg for a in args.args]
    assert fragment or params[:2] in (["g", "ans"], ["dot", "ans"]), rule  # an adjoint or a tangent rule
    known = set(params)
    fragments = set()

    def check(expr, called_ok=False):
        if called_ok and isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            piece = module.__dict__.get(expr.func.id)
            if getattr(piece, registry.FRAGMENT_MARK, False):  # inlined there, at a whole value
                assert not expr.keywords and len(expr.args) == len(inspect.signature(piece).parameters), rule
                fragments.add(piece)
                for a in expr.args:
                    check(a)
                return
        for node in ast.walk(expr):
            assert not isinstance(node, FORBIDDEN), (rule, ast.dump(node))
            if isinstance(node, ast.Name):
                assert node.id in known or node.id in ALLOWED_GLOBALS, (rule, node.id)
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
                # `axis is None` with axis given as 1 reads `1 is None` once inlined: an identity test is only
                # against None, which templates._fold decides where the other side is a literal
                operands = [node.left] + node.comparators
                assert len(operands) == 2 and any(isinstance(o, ast.Constant) and o.value is None for o in operands), (
                    rule
                )

    for default in args.defaults:
        check(default)
    *assigns, last = fn.body
    for stmt in assigns:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, (rule, ast.dump(stmt))
        target = stmt.targets[0]
        assert isinstance(target, ast.Name) and target.id not in known, (rule, ast.dump(target))
        check(stmt.value, called_ok=True)  # (a fragment's statements may call fragments too)
        known.add(target.id)
    assert isinstance(last, ast.Return) and last.value is not None, rule
    if isinstance(last.value, ast.Tuple) and not fragment:
        for elt in last.value.elts:
            check(elt, called_ok=True)
    else:
        check(last.value, called_ok=True)
    if fragment:
        pass
    elif len(params) > 3:
        returned = last.value
        called = returned.func.id if isinstance(returned, ast.Call) and isinstance(returned.func, ast.Name) else None
        if called in module.__dict__:
            # the whole tuple from a fragment (scipy_stats.dirichlet_bars, shared by the logpdf and the pdf)
            piece = module.__dict__[called]
            assert getattr(piece, registry.FRAGMENT_MARK, False), rule
            returned = ast.parse(textwrap.dedent(inspect.getsource(piece))).body[0].body[-1].value
        assert isinstance(returned, ast.Tuple) and len(returned.elts) == len(params) - 2, rule
    elif params[0] != "dot":  # the tangent of a function of one parameter may be a tuple's (slogdet's pair)
        assert not isinstance(last.value, ast.Tuple), rule
    assert module.__dict__.get("math", math) is math and module.__dict__.get("np", np) is np
    for piece in fragments:  # (whose own names are its module's: templates inlines a fragment in its globals)
        assert_inlinable(piece, inspect.getmodule(piece), fragment=True)


_ALL = list(registry.all_rules().values())
_TANGENTS = list(registry.all_tangent_rules().values())
_VARIANTS = [v for r in _ALL for v in (r.scalar_rule, r.masked_rule) if v is not None]


def assert_table_is_the_module(table_fns, module):
    """A rules module and its test table list the same functions, each with an inlined rule written in that
    module, except the functions of ``WRITTEN_ELSEWHERE``, whose rule is written once in another area's module."""
    for fn in table_fns:
        rule = registry.lookup(fn)
        assert rule is not None, fn
        assert rule.origin == WRITTEN_ELSEWHERE.get(fn, module.__name__), fn
        assert rule.inline
    covered = {id(fn) for fn in table_fns}
    mine = [r for r in registry.all_rules().values() if r.origin == module.__name__]
    assert mine
    for r in mine:
        assert id(r.fn) in covered or r.fn in WRITTEN_ELSEWHERE, r


# functions whose rule is written in another area's module: math functions share the NumPy ufunc's body
# (np_elementwise.py; registry.on_floats), ufuncs that are an operator share the operator's (operators.py)
_ELEMENTWISE = "adjoint_compiler.rules.np_elementwise"
_OPERATORS = "adjoint_compiler.rules.operators"
WRITTEN_ELSEWHERE = {
    **dict.fromkeys(
        [math.sin, math.cos, math.tan, math.atan, math.atan2, math.sinh, math.cosh],
        _ELEMENTWISE,
    ),
    **dict.fromkeys([math.tanh, math.exp, math.expm1, math.log1p, math.log2, math.log10, math.hypot], _ELEMENTWISE),
    **dict.fromkeys([getattr(math, n) for n in ("exp2",) if hasattr(math, n)], _ELEMENTWISE),  # 3.11+
    pow: _OPERATORS,  # pow(a, b) is a ** b
    **dict.fromkeys(
        [np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.negative, np.positive], _OPERATORS
    ),
}


INLINE = sorted(
    (r for r in {id(r.rule): r for r in _ALL + _VARIANTS + _TANGENTS if r.inline}.values()),
    key=lambda r: (r.origin or "", r.rule.__name__),
)
MASKED = [r for r in _ALL if r.masked_rule is not None]


UNARY_MASKED = [r for r in MASKED if len(r.params) == 1]
BINARY_MASKED = [r for r in MASKED if len(r.params) == 2]


@pytest.mark.parametrize("rule", UNARY_MASKED, ids=[r.rule.__name__ for r in UNARY_MASKED])
def test_masked_variant_agrees_and_keeps_zero_cotangents_zero(rule):
    x = np.array([0.2, 0.5, 0.7])
    g = np.array([1.0, -2.0, 0.5])
    ans = rule.fn(x)
    np.testing.assert_allclose(rule.masked_rule.rule(g, ans, x), rule.rule(g, ans, x))
    with np.errstate(all="ignore"):
        bad = np.array([-1.0, 0.0, -4.0])  # outside the domain: the forward value is nan or inf
        assert np.array_equal(rule.masked_rule.rule(np.zeros(3), rule.fn(bad), bad), np.zeros(3))


@pytest.mark.parametrize("rule", BINARY_MASKED, ids=[r.rule.__name__ + str(r.fn) for r in BINARY_MASKED])
def test_masked_binary_variant_agrees_and_keeps_zero_cotangents_zero(rule):
    # x * log(x), sin(x) / x, x ** p in the untaken branch of np.where: operands inf or nan, the
    # cotangent zero there; each operand's contribution is guarded before it is summed to its shape
    x, y = np.array([[0.2, 0.5, 0.7]]), np.array([[1.5], [2.0]])
    g = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    ans = rule.fn(x, y)
    for masked, plain in zip(rule.masked_rule.rule(g, ans, x, y), rule.rule(g, ans, x, y)):
        np.testing.assert_allclose(masked, plain)
    with np.errstate(all="ignore"):
        bad_x, bad_y = np.array([[0.0, -1.0, np.inf]]), np.array([[0.0], [np.nan]])
        gx, gy = rule.masked_rule.rule(np.zeros((2, 3)), rule.fn(bad_x, bad_y), bad_x, bad_y)
        assert np.array_equal(gx, np.zeros((1, 3))) and np.array_equal(gy, np.zeros((2, 1)))


@pytest.mark.parametrize("rule", INLINE, ids=[r.rule.__name__ for r in INLINE])
def test_rule_body_is_inlinable_and_accepted_by_the_compiler(rule):
    assert_inlinable(rule.rule, inspect.getmodule(rule.rule))
    templates.template(rule)


def test_math_rules_use_math_not_numpy():
    math_rules = [r for r in _ALL if getattr(r.fn, "__module__", None) == "math" and r.fn not in py_math.SEQUENCES]
    assert len(math_rules) == 36 + hasattr(math, "cbrt") + hasattr(math, "exp2") + hasattr(math, "fma")
    for r in math_rules:
        body = ast.parse(textwrap.dedent(inspect.getsource(r.rule))).body[0].body  # not the decorators
        names = {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}
        assert not names & {"np", "unbroadcast"}, r
        assert r.masked_rule is None, r


# ---- tests on literal operands are decided at compile time (templates._fold) --------------


@pytest.mark.parametrize(
    "source, folded",
    [
        ("a if 2 == 2 else b", "a"),
        ("a if ord == 'fro' else b", "a if ord == 'fro' else b"),
        ("a if 'nuc' == 'fro' else b", "b"),
        ("y - (2 != 0)", "y - 1"),
        ("2 - (2 != 0)", "2 - 1"),
        ("(a, b, c)[1]", "b"),
        ("(a, b)[2]", "(a, b)[2]"),
        ("0 or x", "x"),
        ("1 and x", "x"),
        ("0 and x", "0"),
        ("x or 0", "x or 0"),
        ("not 1 == 1", "0"),
        ("not x", "not x"),
        ("-np.inf == -np.inf", "1"),
        ("np.inf > 2", "1"),
        ("'fro' < 2", "'fro' < 2"),
        ("None != None", "0"),
        ("(a if np.inf == 2 else b) if x else c", "b if x else c"),
        ("einsum_plan('ij,jk->ik', 0, 2)", "('ik,jk->ij', '', False, True)"),
        ("einsum_plan(s, 0, 2)", "einsum_plan(s, 0, 2)"),
    ],
)
def test_fold_decides_what_depends_on_literals_only(source, folded):
    node = gast.parse(source).body[0].value
    assert emit_expr(templates._fold(node)) == folded


def test_fold_refuses_what_a_static_helper_refuses():
    node = gast.parse("einsum_plan('i,i,i->', 0, 2)").body[0].value
    with pytest.raises(KeyError, match="3 operands"):
        templates._fold(node)


def emit_expr(node):
    return ast.unparse(gast.gast_to_ast(gast.Expression(body=node)).body)


def cube(x):
    return x**3


def power(x, y):
    return np.sum(x**y)


def test_literal_exponent_folds_to_the_textbook_formula():
    # y x^(y - (y != 0)) with y = 3 is 3 x^2: nothing of the zero-exponent guard is left
    body = ac.adjoint_source(cube).split("def cube_grad")[1]
    assert "!=" not in body and "x ** 2" in body


def test_exponent_known_at_run_time_keeps_the_guard():
    body = ac.adjoint_source(power, wrt=(0, 1)).split("def power_grad")[1]
    assert "(y != 0)" in body and "== 0" in body


# ---- issue #13, SciPy rules (adjoint_compiler/rules/scipy_*.py; registered where scipy is installed) -------------
# Their bodies call SciPy through the module bound as scipy_<area>, and the runtime helpers added for them.
# scipy.linalg's solve, inv and det share NumPy's rules (written in np_linalg.py).
ALLOWED_GLOBALS.update(
    {
        "scipy_special",
        "scipy_stats",
        "scipy_linalg",
        "scipy_signal",
        "scipy_integrate",
        "is_none",
        "no_derivative",
        "centered",
        "centered_pad",
    }
)
try:
    import scipy.integrate as _scipy_integrate
    import scipy.linalg as _scipy_linalg
    import scipy.signal  # noqa: F401 (registers the rules of each area: rules/__init__.py)
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
except ImportError:
    _SCIPY = []
else:
    WRITTEN_ELSEWHERE.update(
        dict.fromkeys(
            [_scipy_linalg.solve, _scipy_linalg.inv, _scipy_linalg.det, _scipy_linalg.pinv, _scipy_linalg.svdvals],
            "adjoint_compiler.rules.np_linalg",
        )
    )
    WRITTEN_ELSEWHERE[_scipy_linalg.norm] = "adjoint_compiler.rules.np_reductions"
    WRITTEN_ELSEWHERE[_scipy_integrate.trapezoid] = "adjoint_compiler.rules.np_reductions"
    _SCIPY = sorted(
        (
            r
            for r in {
                id(r.rule): r
                for r in list(registry.all_rules().values())
                + [v for r in registry.all_rules().values() for v in (r.masked_rule,) if v is not None]
                + list(registry.all_tangent_rules().values())
                if (r.origin or "").startswith("adjoint_compiler.rules.scipy_")
            }.values()
        ),
        key=lambda r: (r.origin, r.rule.__name__),
    )


@pytest.mark.parametrize("rule", _SCIPY, ids=[r.rule.__name__ for r in _SCIPY])
def test_scipy_rule_body_is_inlinable_and_accepted_by_the_compiler(rule):
    assert_inlinable(rule.rule, inspect.getmodule(rule.rule))
    templates.template(rule)


# reduce13 (issue #13): runtime helpers that refuse, at the call, what a rule does not model
ALLOWED_GLOBALS |= {
    "quantile_method",
    "copied",
    "axes_from_end",
    "spacing_bar",
    "gradient_bar",
    "gradient_of",
    "one_spacing",
    "structured_times",
    "structured_inner",
    "real_only",
    "imag_bar",
    "angle_bar",
    "full_rank_cov",
    "only_defaults",
}

# emit14 (issue #14): np.matmul's rule calls one runtime helper per side, and their rules call each other
ALLOWED_GLOBALS |= {"matmul_bar1", "matmul_bar2"}
# np.dot's rule likewise (session 20: its general body, inlined, was a dozen lines of tensordot)
ALLOWED_GLOBALS |= {"dot_bar1", "dot_bar2"}
# ho11c (issue #11): the joining and splitting functions' adjoints, differentiable again
ALLOWED_GLOBALS |= {"unjoin", "rejoin", "numbered", "sizes_of"}
# np13e (issue #13): np.linalg.multi_dot's adjoint and the rules of its helpers (runtime_rules.py)
ALLOWED_GLOBALS |= {"multi_dot_bars", "multi_dot_bars_dot", "multi_dot_dot"}
# np13i (issue #13): np.linalg.det's gradient, the cofactor matrix, and its derivative (runtime_rules.py)
ALLOWED_GLOBALS |= {"cofactors", "cofactors_dot", "lu_rows", "triangular_inverse"}  # (np13m: cholesky's rules)
ALLOWED_GLOBALS |= {"lu_inverse", "phi_congruence"}  # (np13n: slogdet's and cholesky's rules)
ALLOWED_GLOBALS |= {
    "cholesky_bar",
    "sort_source",
    "inverse_order",
}  # (rules15: cholesky's adjoint; np.sort's positions)
ALLOWED_GLOBALS |= {"moved_back"}  # rules17: np.sort's cotangent put back in one pass
ALLOWED_GLOBALS |= {"einsum_route"}  # np13m: the optimize= of a step of einsum's adjoint
ALLOWED_GLOBALS |= {"trace_bar", "power_bar", "norm_sums_bar", "expm_frechet_of"}  # rules18
ALLOWED_GLOBALS |= {"extremum_bar", "extremum_dot", "sign_times"}  # np13o: np.max / np.min, norm 1
ALLOWED_GLOBALS |= {"pad_linear", "pad_linear_bar"}  # np13p: np.pad's modes 'mean' and 'linear_ramp'
ALLOWED_GLOBALS |= {"conj_times", "unit_sign"}  # complex17a: the complex forms of abs's, var's and norm's slopes
# np13j (issue #13): scipy.integrate.odeint's adjoint and tangent (ODE solves), second derivatives refused
ALLOWED_GLOBALS |= {"odeint_bars", "odeint_dot", "odeint_output"}
ALLOWED_GLOBALS |= {
    "fft_axes",
    "fft_distinct",
    "fft_fit",
    "fft_inverse_norm",
    "irfft_bar",
    "rfft_bar",
    "real_cotangent",
    "is_none",
}  # np.fft's rules (np_fft.py)


# rules21: the adjoint helpers of np.quantile (percentile, median), np.nanmedian and np.prod (nanprod)
ALLOWED_GLOBALS |= {"quantile_spread", "quantile_gather", "after_q", "nanmedian_spread", "nanmedian_gather"}
ALLOWED_GLOBALS |= {"prod_bar", "prod_cross"}
# session 24: unreduce's adjoint of its list of shares (Python's sum over values of different shapes)
ALLOWED_GLOBALS |= {"isinstance", "list", "sum"}
ALLOWED_GLOBALS |= {"cumprod_ratio"}  # rules24: np.cumprod's adjoint helper
