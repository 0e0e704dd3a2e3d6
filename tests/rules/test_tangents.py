"""Forward mode over every case of the rule tables (tests/rules/test_*.py, their data reused as is): ``ac.jvp``
of a small function calling the rule, along a random tangent, against central differences, and against
reverse mode, ``<jvp(x, t), c> == <t, vjp(x)(c)>`` for a random cotangent ``c``. At the special points the
tables list (ties, kinks, zeros) the two modes must agree too, so the tangent takes the adjoint's subgradient;
central differences are checked there only where the tables say they apply.

Every registered function has a tangent: its tangent rule, a ``linear`` fact, or one derived from its adjoint
rule (element-wise functions, reductions of the form ``unreduce(g) * W``), but those of ``EXCLUDED``."""

import builtins
import inspect
import collections
import itertools
import linecache
import math
import operator
import statistics
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime, tangent, templates
from adjoint_compiler.rules import registry
from adjoint_compiler.testing import relative_error
from tests.rules import test_np_elementwise as elementwise_t
from tests.rules import test_np_linalg as linalg_t
from tests.rules import test_np_reductions as reductions_t
from tests.rules import test_np_shape as shape_t
from tests.rules import test_operators as operators_t
from tests.rules import test_py_builtins as builtins_t
from adjoint_compiler.rules import py_builtins
from tests.rules import test_py_math as math_t
from tests.rules import test_runtime_rules as runtime_t
from tests.rules.test_rule_bodies import assert_inlinable

EPS = 1e-6
# registered functions forward mode refuses, with the reason (none so far)
EXCLUDED = {}
REFUSALS = {}  # functions whose rules (both modes) are refusals only: no case to compare, tested where stated
ELSEWHERE = {}  # functions whose both modes are checked against central differences in another file, stated
# rules of methods that have no function spelling
_METHODS_ONLY = {np.ndarray.astype: "astype", np.ndarray.item: "item", np.ndarray.tolist: "tolist"}
# reductions whose tangent tangent.py derives from the adjoint rule (unreduce(g, x, axis, keepdims) * W); np.max,
# np.min have their own since np13o (runtime.extremum_dot)
DERIVED_REDUCTIONS = {np.prod}


class Case(NamedTuple):
    name: str
    fn: object
    args: list  # values; a list or tuple of floats or arrays is a sequence, each element an operand
    kwargs: dict
    diff: tuple  # positions in args differentiated (every element of a sequence there), and keywords
    fd: bool = True  # central differences apply (not a kink where the rule takes one side's slope)
    rtol: float = 1e-5


# ---- spelling a case as a function --------------------------------------------------------------

_OPERATORS = {
    operator.add: "{} + {}",
    operator.sub: "{} - {}",
    operator.mul: "{} * {}",
    operator.truediv: "{} / {}",
    operator.pow: "{} ** {}",
    operator.mod: "{} % {}",
    operator.neg: "-{}",
    operator.pos: "+{}",
}


# functions a call is differentiated as (registry.form), spelled as the call is written
_FORMS = {py_builtins.max_of: "max", py_builtins.min_of: "min"}
_FORMS.update(  # (rules24)
    {getattr(np.polynomial.polynomial, n): "np.polynomial.polynomial." + n for n in ("polyval", "polyder", "polyint")}
)
_FORMS.update(
    {
        np.polynomial.legendre.legval: "np.polynomial.legendre.legval",
        np.polynomial.hermite.hermval: "np.polynomial.hermite.hermval",
        np.polynomial.hermite_e.hermeval: "np.polynomial.hermite_e.hermeval",
        np.polynomial.laguerre.lagval: "np.polynomial.laguerre.lagval",
        np.polynomial.polynomial.polyval2d: "np.polynomial.polynomial.polyval2d",  # (costs25)
        np.polynomial.polynomial.polyval3d: "np.polynomial.polynomial.polyval3d",
        np.polynomial.hermite.hermval2d: "np.polynomial.hermite.hermval2d",
        np.polynomial.hermite.hermval3d: "np.polynomial.hermite.hermval3d",
        np.lib.stride_tricks.sliding_window_view: "np.lib.stride_tricks.sliding_window_view",
    }
)


def _spelling(fn):
    if fn in _FORMS:
        return _FORMS[fn]
    name = getattr(fn, "__name__", None)
    if isinstance(getattr(fn, "__self__", None), np.ufunc):  # np.maximum.accumulate
        return "np.%s.%s" % (fn.__self__.__name__, name)
    for prefix, module in (("np", np), ("np.linalg", np.linalg), ("math", math), ("runtime", runtime)):
        if getattr(module, name, None) is fn:
            return "%s.%s" % (prefix, name)
    if getattr(builtins, name, None) is fn:
        return name
    raise AssertionError("no spelling for %r" % fn)


def _literal(v):
    """Source for a constant argument, or None where it is passed as a parameter."""
    if callable(v) and getattr(builtins, getattr(v, "__name__", ""), None) is v:  # key=abs
        return v.__name__
    if v is None or type(v) in (bool, int, str):
        return repr(v)
    if type(v) is float:
        text = ("-np.inf" if v < 0 else "np.inf") if math.isinf(v) else repr(v)
        return "(%s)" % text if text.startswith("-") else text  # -2.0 ** y is -(2.0 ** y)
    if type(v) in (tuple, list):
        items = [_literal(x) for x in v]
        if None in items:
            return None
        return ("(%s,)" if type(v) is tuple and len(v) == 1 else "(%s)" if type(v) is tuple else "[%s]") % ", ".join(
            items
        )
    return None


def _is_sequence(v):
    return type(v) in (list, tuple) and len(v) > 0 and all(isinstance(x, (float, np.ndarray)) for x in v)


_FUNCTIONS = {}
_COUNT = itertools.count()


def _function(source):
    """A function with readable source (registered with linecache, as the compiler reads it), one per text."""
    if source not in _FUNCTIONS:
        filename = "<tangent case %d>" % next(_COUNT)
        text = "import numpy as np\nimport math\nfrom adjoint_compiler import runtime\n\n\n" + source
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace = {}
        exec(compile(text, filename, "exec"), namespace)  # noqa: S102 (source made here)
        _FUNCTIONS[source] = namespace["case"]
    return _FUNCTIONS[source]


def build(case):
    """(function, its arguments, positions of the differentiated ones): the rule's call in a function."""
    params, values, wrt, operands = [], [], [], []
    for i, a in enumerate(case.args):
        if i in case.diff and _is_sequence(a):
            names = []
            for x in a:
                names.append("x%d" % len(params))
                wrt.append(len(params))
                params.append(names[-1])
                values.append(x)
            operands.append(("[%s]" if type(a) is list else "(%s,)") % ", ".join(names))
        elif i in case.diff:
            wrt.append(len(params))
            params.append("x%d" % len(params))
            values.append(a)
            operands.append(params[-1])
        elif _literal(a) is not None:
            operands.append(_literal(a))
        else:
            params.append("c%d" % len(params))
            values.append(a)
            operands.append(params[-1])
    keywords = []
    for k, v in case.kwargs.items():
        if k in case.diff:  # a differentiated keyword argument (max(xs, default=d))
            wrt.append(len(params))
            params.append("x%d" % len(params))
            values.append(v)
            keywords.append("%s=%s" % (k, params[-1]))
        elif _literal(v) is not None:
            keywords.append("%s=%s" % (k, _literal(v)))
        else:
            params.append("c%d" % len(params))
            values.append(v)
            keywords.append("%s=%s" % (k, params[-1]))
    if case.fn in _OPERATORS and not keywords:
        call = _OPERATORS[case.fn].format(*operands)
    elif case.fn in _METHODS_ONLY:
        call = "%s.%s(%s)" % (operands[0], _METHODS_ONLY[case.fn], ", ".join(operands[1:] + keywords))
    else:
        call = "%s(%s)" % (_spelling(case.fn), ", ".join(operands + keywords))
    source = "def case(%s):\n    return %s\n" % (", ".join(params), call)
    return _function(source), values, tuple(wrt)


# ---- the checks --------------------------------------------------------------------------------------


def _random_like(v, rng):
    return rng.standard_normal(np.shape(v)) if isinstance(v, np.ndarray) else float(rng.standard_normal())


def _parts(out):
    return list(out) if isinstance(out, tuple) else [out]


def _inner(a, b):
    return sum(float(np.sum(np.asarray(x, float) * np.asarray(y, float))) for x, y in zip(_parts(a), _parts(b)))


def _jvp(f, wrt, values, tangents):
    return ac.jvp(f, wrt)(*values, tangents)


def check(case, seed=0):
    f, values, wrt = build(case)
    rng = np.random.default_rng(seed)
    tangents = tuple(_random_like(values[i], rng) for i in wrt)
    value, out = _jvp(f, wrt, values, tangents)
    expected = f(*values)
    for v, e in zip(_parts(value), _parts(expected)):
        assert np.array_equal(v, e, equal_nan=True)
    for t, v in zip(_parts(out), _parts(expected)):
        assert np.shape(t) == np.shape(v), (np.shape(t), np.shape(v))
    if case.fd:

        def at(h):
            shifted = list(values)
            for i, t in zip(wrt, tangents):
                shifted[i] = values[i] + h * t
            return _parts(f(*shifted))

        fd = [(np.asarray(p, float) - np.asarray(m, float)) / (2 * EPS) for p, m in zip(at(EPS), at(-EPS))]
        for t, d in zip(_parts(out), fd):
            assert relative_error(t, d) <= case.rtol, (relative_error(t, d), t, d)
    # the two modes agree: <J t, c> == <t, J^T c>
    c = tuple(_random_like(np.asarray(e, float), rng) for e in _parts(expected))
    c = c if isinstance(expected, tuple) else c[0]
    _, pullback = ac.vjp(f, wrt)(*values)
    grads = pullback(c)
    lhs, rhs = _inner(out, c), sum(_inner(t, g) for t, g in zip(tangents, grads))
    if math.isfinite(lhs) or math.isfinite(rhs):
        assert abs(lhs - rhs) <= 1e-8 * max(1.0, abs(lhs), abs(rhs)), (lhs, rhs)
    return out


def _marked(test, name):
    """The values a test's ``pytest.mark.parametrize`` gives ``name`` (its table, reused)."""
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize" and mark.args[0].replace(" ", "").split(",")[0] == name:
            return list(mark.args[1])
    raise AssertionError("%s has no parametrize of %s" % (test.__name__, name))


# ---- the cases, from each table ---------------------------------------------------------------------


def _operator_cases():
    rng = np.random.default_rng(0)
    out = []
    for row in operators_t.BINARY:
        for shapes in operators_t.SHAPES:
            while True:
                x, y = row.x(rng, shapes[0]), row.y(rng, shapes[1])
                if row.valid is None or row.valid(x, y):
                    break
            diff = (0,) if row.name == "pow-negative-base" else (0, 1)
            out.append(Case("op-%s-%s-%s" % (row.name, *shapes), row.fn, [x, y], {}, diff))
    for fn in _marked(operators_t.test_unary_rule_matches_finite_differences, "fn"):
        for shape in _marked(operators_t.test_unary_rule_matches_finite_differences, "shape"):
            out.append(Case("op-%s-%s" % (fn.__name__, shape), fn, [operators_t.uniform(-3, 3)(rng, shape)], {}, (0,)))
    return out


def _elementwise_cases():
    rng = np.random.default_rng(1)
    out = []
    for row in elementwise_t.UNARY:
        for shape in elementwise_t.UNARY_SHAPES:
            out.append(
                Case("%s-%s" % (row.fn.__name__, shape), row.fn, [row.domain(rng, shape)], {}, (0,), True, row.rtol)
            )
    for row in elementwise_t.BINARY:
        for shapes in elementwise_t.BINARY_SHAPES:
            args = elementwise_t._binary_args(row, shapes, rng)
            out.append(Case("%s-%s-%s" % (row.fn.__name__, *shapes), row.fn, args, {}, (0, 1), True, row.rtol))
    for row in elementwise_t.SELECT:
        out.append(Case(row.name, row.fn, row.make_args(rng), {}, tuple(row.diff)))
        out.append(Case(row.name + "-first-only", row.fn, row.make_args(rng), {}, tuple(row.diff)[:1]))
    for row in elementwise_t.CASTS:
        x = rng.uniform(-3, 3, size=row.shape).astype(row.x_dtype)
        out.append(Case(row.name, np.ndarray.astype, [x, row.dtype], {}, (0,)))
    for i, (fn, args, _) in enumerate(elementwise_t.KINKS):  # ties of maximum/minimum: one side's slope
        out.append(
            Case("kink-%s-%d" % (fn.__name__, i), fn, args, {}, tuple(range(len(args))), fn in (np.abs, np.absolute))
        )
    return out


def _math_cases():
    rng = np.random.default_rng(2)
    out = []
    for row in math_t.TABLE:
        args = [sample(rng) for sample in row.domains]
        diff = tuple(row.diff if row.diff is not None else range(len(args)))
        out.append(Case("math-%s" % math_t._row_id(row), row.fn, args, {}, diff, True, row.rtol))
    return out


def _math_sequence_cases():
    rng = np.random.default_rng(7)
    out = []
    for row in math_t.SEQUENCE_TABLE:
        args, kwargs = math_t.sample_sequence_row(row, rng)
        out.append(Case("math-" + row.name, row.fn, args, kwargs, tuple(range(len(args)))))
    for row in math_t.PAIR_TABLE:
        out.append(Case("math-" + math_t._row_id(row), row.fn, [row.domains[0](rng)], {}, (0,)))
    return out


def _builtin_cases():
    rng = np.random.default_rng(3)
    out = []
    for row in builtins_t.TABLE:
        args = row.make_args(rng)
        kwargs = dict(row.static, **{k: sample(rng) for k, sample in row.keywords.items()})
        diff = tuple(i for i, a in enumerate(args) if not (type(a) in (list, tuple) and not a))  # not max([])
        diff += tuple(row.keywords)
        out.append(Case("builtin-" + row.name, row.fn, args, kwargs, diff, True, row.rtol))
    return out


def _reduction_cases():
    out = []
    k = itertools.count()
    # every case of the tables; keepdims alternates between consecutive cases (both are covered, not both of each)
    for row, shape, axis in reductions_t.ROW_CASES:
        x = row.domain(np.random.default_rng(next(k)), shape)
        x = float(x) if shape == () else x
        out.append((row.fn, x, dict(row.extra, axis=axis), "%s-%s-%s" % (row.name, shape, axis)))
    for shape, axis in reductions_t.NORM_CASES:
        x = reductions_t.uniform(-3, 3)(np.random.default_rng(next(k)), shape)
        out.append((np.linalg.norm, x, {"axis": axis}, "norm-%s-%s" % (shape, axis)))
    for ord, shape, axis in reductions_t.NORM_ORD_CASES:
        x = reductions_t.away(0.2, 3)(np.random.default_rng(next(k)), shape)
        out.append((np.linalg.norm, x, {"ord": ord, "axis": axis}, "norm-%s-%s-%s" % (ord, shape, axis)))
    cases = [
        Case(name + ("-keep" if i % 2 else ""), fn, [x], dict(kw, keepdims=bool(i % 2)), (0,))
        for i, (fn, x, kw, name) in enumerate(out)
    ]
    for i, (ord, x, axis, _) in enumerate(reductions_t.KINKS):
        rtol = 1e-3 if isinstance(ord, float) and 0 < ord < 1 and np.any(x == 0) and np.any(x) else 1e-5
        cases.append(
            Case("norm-kink-%s-%d" % (ord, i), np.linalg.norm, [x], {"ord": ord, "axis": axis}, (0,), True, rtol)
        )
    for fn, extra, shape, axis, name in reductions_t.EDGE:
        extra = {kk: v for kk, v in extra.items() if kk != "matrix"}
        axis = (0, 2) if fn is np.linalg.norm and len(shape) == 3 else axis
        x = np.arange(1.0, np.prod(shape) + 1).reshape(shape)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                finite = bool(np.all(np.isfinite(fn(x, axis=axis, **extra))))
            except ValueError:  # e.g. the max of an empty slice: nothing to differentiate
                continue
        if finite:
            keep = bool(next(k) % 2)
            cases.append(
                Case("edge-" + name + ("-keep" if keep else ""), fn, [x], dict(extra, axis=axis, keepdims=keep), (0,))
            )
    for i, (x, axis, _) in enumerate(reductions_t.ZERO_CASES):  # a product is smooth at its zeros
        cases.append(Case("prod-zeros-%d" % i, np.prod, [x if x.ndim else float(x)], {"axis": axis}, (0,)))
    for i, (fn, x, axis, _) in enumerate(reductions_t.TIE_CASES):  # ties: the equal split, as the adjoint
        cases.append(Case("tie-%s-%d" % (fn.__name__, i), fn, [x], {"axis": axis}, (0,), False))
    return cases


def _shape_cases():
    rng = np.random.default_rng(4)
    out = [
        Case(shape_t._name(row), row.fn, [shape_t.normal(rng, row.shape), *row.rest], row.kwargs, (0,))
        for row in shape_t.TABLE
    ]
    for row in shape_t.SEQ_TABLE:
        for container in (list, tuple):
            arrays = container(shape_t.normal(rng, s) for s in row.shapes)
            name = "%s-%s-%s-%s" % (row.fn.__name__, row.shapes, row.kwargs, container.__name__)
            out.append(Case(name, row.fn, [arrays], row.kwargs, (0,)))
    return out


def _linalg_cases():
    out = []
    for i, row in enumerate(linalg_t.TABLE):
        rng = np.random.default_rng(i)
        args = [a[0](rng, a[1]) if isinstance(a, tuple) else a for a in row.args]
        diff = tuple(j for j, a in enumerate(row.args) if isinstance(a, tuple))
        out.append(Case(row.name, row.fn, args, row.kwargs, diff))
        if len(diff) > 1:  # one operand differentiated, the others constants
            out.append(Case(row.name + "-last-only", row.fn, args, row.kwargs, diff[-1:]))
    for fn, ranks, shapes in linalg_t.RANKED:
        rng = np.random.default_rng(len(out))
        out.append(
            Case("ranked-%s-%s" % (fn.__name__, ranks), fn, [linalg_t.normal(rng, s) for s in shapes], {}, (0, 1))
        )
    return out


def _runtime_cases():
    rng = np.random.default_rng(5)
    out = []
    for c_shape, like_shape in _marked(runtime_t.test_unbroadcast_rule, "c_shape"):
        args = [rng.standard_normal(c_shape), rng.standard_normal(like_shape)]
        out.append(Case("unbroadcast-%s-%s" % (c_shape, like_shape), runtime.unbroadcast, args, {}, (0,)))
        out.append(Case("unbroadcast-both-%s-%s" % (c_shape, like_shape), runtime.unbroadcast, args, {}, (0, 1)))
    for g_shape, like_shape, axis in _marked(runtime_t.test_unreduce_rule, "g_shape"):
        args = [rng.standard_normal(g_shape), rng.standard_normal(like_shape), axis]
        args[0] = float(args[0]) if g_shape == () else args[0]
        out.append(Case("unreduce-%s-%s-%s" % (g_shape, like_shape, axis), runtime.unreduce, args, {}, (0,)))
    for c_shape, like_shape in _marked(runtime_t.test_fit_shape_rule, "c_shape"):
        args = [rng.standard_normal(c_shape), rng.standard_normal(like_shape)]
        out.append(Case("fit_shape-%s-%s" % (c_shape, like_shape), runtime.fit_shape, args, {}, (0, 1)))
    out.append(Case("elements_bar", runtime.elements_bar, [rng.standard_normal(3), rng.standard_normal(3)], {}, (0,)))
    out.append(Case("own", runtime.own, [rng.standard_normal(3)], {}, (0,)))
    out.append(Case("own_updated", runtime.own_updated, [rng.standard_normal(3), "x += ...", "f.py", 1, 1], {}, (0,)))
    # (where its first argument is zero its rule passes r's tangent: right for the masked rules' r = bar * d,
    # tests/test_trust_hunt3.py; in r alone only where bar is nonzero)
    bars = rng.standard_normal(3) + 2.0
    out.append(Case("cotangent_where", runtime.cotangent_where, [bars, rng.standard_normal(3)], {}, (1,)))
    out.append(Case("element_value", runtime.element_value, [1.5, "a[0]", "f.py", 1, 1], {}, (0,)))
    six = [float(v) for v in rng.standard_normal(6)]
    out.append(Case("repeated_bar", runtime.repeated_bar, [six, [0.5, 0.7]], {}, (0,)))
    out.append(Case("tiled", runtime.tiled, [[0.5, -0.7], [0.0] * 6], {}, (0,)))
    # np13h: xs * a, a constant array, NumPy's element-wise product (no count): the cotangent g * a summed down
    col = np.array([[3.0], [4.0]])
    product_args = [rng.standard_normal((2, 2)), [0.5, 0.7], col]
    out.append(Case("repeated_bar-product", runtime.repeated_bar, product_args, {}, (0,)))
    out.append(Case("tiled-product", runtime.tiled, [[0.5, -0.7], np.zeros((2, 2)), col], {}, (0,)))
    counts = np.array([2, 0, 1, 3])
    out.append(Case("repeat_bar", runtime.repeat_bar, [rng.standard_normal((2, 6)), counts], {}, (0,)))
    out.append(Case("loop_keys", runtime.loop_keys, [rng.standard_normal(3), "f.py", 1, 1], {}, (0,)))
    out.append(Case("loop_keys_dot", runtime.loop_keys_dot, [rng.standard_normal(3), [1.0, 2.0, 3.0]], {}, (0,)))
    perm = [2, 0, 3, 1]
    out.append(Case("gather", runtime.gather, [[float(v) for v in rng.standard_normal(4)], perm], {}, (0,)))
    xs = [float(v) for v in rng.standard_normal(4)]
    out.append(Case("sorted_bar", runtime.sorted_bar, [[float(v) for v in rng.standard_normal(4)], xs], {}, (0,)))
    out.append(Case("sorted_dot", runtime.sorted_dot, [[float(v) for v in rng.standard_normal(4)], xs], {}, (0,)))
    items = [xs[0], xs[1], xs[0], xs[2]]  # a duplicate: its derivative goes to the first equal item
    out.append(Case("set_elements", runtime.set_elements, [xs], {}, (0,)))  # (distinct: a difference keeps them)
    g3 = [float(v) for v in rng.standard_normal(3)]
    out.append(Case("set_elements_bar", runtime.set_elements_bar, [g3, items], {}, (0,)))
    out.append(
        Case(
            "set_elements_dot", runtime.set_elements_dot, [[float(v) for v in rng.standard_normal(4)], items], {}, (0,)
        )
    )
    m = rng.standard_normal((3, 4))
    for name, fn in (("sorted_in_place", runtime.sorted_in_place),):
        out.append(Case(name, fn, [xs], {"reverse": True}, (0,)))
        out.append(Case(name + "_array", fn, [m], {"axis": 0}, (0,)))
    for name, fn in (
        ("sorted_in_place_bar", runtime.sorted_in_place_bar),
        ("sorted_in_place_dot", runtime.sorted_in_place_dot),
    ):
        out.append(Case(name, fn, [[float(v) for v in rng.standard_normal(4)], xs], {}, (0,)))
        out.append(Case(name + "_array", fn, [rng.standard_normal((3, 4)), m], {"axis": 0}, (0,)))
    out.append(Case("centered", runtime.centered, [rng.standard_normal((5, 6)), (3, 2)], {}, (0,)))
    out.append(Case("centered_pad", runtime.centered_pad, [rng.standard_normal((3, 2)), (5, 6)], {}, (0,)))
    # (rules17: np.sort's cotangent put back, along an axis, by a permutation of each column)
    order = np.argsort(rng.standard_normal((4, 3)), axis=0)
    out.append(Case("moved_back", runtime.moved_back, [rng.standard_normal((4, 3)), order, 0], {}, (0,)))
    # (rules18: np.trace's cotangent on a diagonal; np.linalg.matrix_power's, sum_k (B^T)^k G (B^T)^(m-1-k), in both)
    out.append(
        Case(
            "trace_bar", runtime.trace_bar, [rng.standard_normal(4), rng.standard_normal((3, 4, 2)), 1, 0, 2], {}, (0,)
        )
    )
    power = [rng.standard_normal((2, 3, 3)), 0.4 * rng.standard_normal((2, 3, 3)), 5]
    out.append(Case("power_bar", runtime.power_bar, power, {}, (0, 1)))
    sums = [rng.standard_normal(2), rng.standard_normal((3, 2, 4)), 1, (0, 2)]
    out.append(Case("norm_sums_bar", runtime.norm_sums_bar, sums, {}, (0,)))
    c, x = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2))
    out.append(Case("einsum_fit", runtime.einsum_fit, [c, x, "j...k->jk", 0], {}, (0,)))
    out.append(Case("einsum_unfit", runtime.einsum_unfit, [x, c, "j...k->jk", 0], {}, (0,)))
    pair = collections.namedtuple("pair", "a b")
    fields = (float(rng.standard_normal()), rng.standard_normal(2))
    out.append(Case("structure", runtime.structure, [pair, fields], {}, (1,)))
    # (the tuple of a dataclass's fields; of a list or tuple, the sequence itself: its rule's adjoint and
    # linear tangent, here; a dataclass built and read, tests/test_structured_outputs.py)
    out.append(Case("structure_fields", runtime.structure_fields, [[fields[0], 0.5]], {}, (0,)))
    rows = np.array([0, 2, 0])
    args = [rng.standard_normal((3, 2)), rows, rng.standard_normal((3, 2))]
    out.append(Case("added_at", runtime.added_at, args, {}, (0, 2)))
    out.append(Case("multiplied_at", runtime.multiplied_at, args, {}, (0, 2)))
    args = [rng.standard_normal(4), [3, 1, 3, 3, 0], rng.standard_normal(5)]
    out.append(Case("multiplied_at-thrice", runtime.multiplied_at, args, {}, (0, 2)))
    for helper in (runtime.maximized_at, runtime.minimized_at, runtime.divided_at):  # (distinct values: no ties)
        out.append(Case(helper.__name__ + "-thrice", helper, args, {}, (0, 2)))
    out.append(Case("at_bar", runtime.at_bar, [rng.standard_normal((3, 2)), rows, rng.standard_normal(2)], {}, (0,)))
    out.append(Case("polygamma-0", runtime.polygamma, [0, float(rng.uniform(0.5, 3))], {}, (1,)))
    out.append(Case("polygamma-2", runtime.polygamma, [2, float(rng.uniform(0.5, 3))], {}, (1,)))
    out.append(Case("add_bars", runtime.add_bars, [rng.standard_normal(2), rng.standard_normal(2)], {}, (0, 1)))
    out.append(Case("writable", runtime.writable, [rng.standard_normal(3)], {}, (0,)))
    # the cotangent of a list built by appends: a list of its own (hvp differentiates the gradient through it)
    out.append(Case("list_bar", runtime.list_bar, [[0.5, 1.5, 2.0], rng.standard_normal(3)], {}, (1,)))
    out.append(
        Case("list_bar-of-rows", runtime.list_bar, [[[0.5, 1.5], [2.0, 1.0]], rng.standard_normal((2, 2))], {}, (1,))
    )
    out.append(
        Case("add_bars-first-only", runtime.add_bars, [rng.standard_normal(2), rng.standard_normal(2)], {}, (0,))
    )
    return out


CASES = (
    _operator_cases()
    + _elementwise_cases()
    + _math_cases()
    + _math_sequence_cases()
    + _builtin_cases()
    + _reduction_cases()
    + _shape_cases()
    + _linalg_cases()
    + _runtime_cases()
)
_duplicates = [n for n, c in itertools.groupby(sorted(c.name for c in CASES)) if len(list(c)) > 1]
CASES = [c._replace(name="%s#%d" % (c.name, i)) if c.name in _duplicates else c for i, c in enumerate(CASES)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own at the kinks (|0| ** p for p < 0)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- special points: the tangent is the documented derivative ---------------------------------------


def _pow_point_cases():
    out = []
    for (x, y, dx, dy, smooth), name in zip(operators_t.POW_POINTS, operators_t.POW_IDS):
        for fn, wrap in ((operator.pow, lambda v: np.full(3, v)), (np.power, lambda v: np.full(3, v))):
            out.append((fn, wrap(x), wrap(y), dx, dy, smooth, "%s-array-%s" % (fn.__name__, name)))
        if not (x == 0.0 and 0.0 < y < 1.0):  # floats raise there (ZeroDivisionError, ValueError), as going forward
            for fn in (operator.pow, math.pow):
                if fn is math.pow and x < 0 and y != int(y):
                    continue
                out.append((fn, x, y, dx, dy, smooth, "%s-float-%s" % (fn.__name__, name)))
    return out


POW_CASES = _pow_point_cases()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("fn, x, y, dx, dy, smooth, name", POW_CASES, ids=[c[-1] for c in POW_CASES])
def test_pow_special_points_give_the_adjoints_derivatives(fn, x, y, dx, dy, smooth, name):
    # each operand alone, with tangent 1: the derivative in that operand, as the adjoint rule's table says
    for diff, expected in (((0,), dx), ((1,), dy)):
        f, values, wrt = build(Case(name, fn, [x, y], {}, diff))
        _, out = _jvp(f, wrt, values, (np.ones_like(values[wrt[0]]) if isinstance(x, np.ndarray) else 1.0,))
        assert operators_t._same(out, np.full(np.shape(out), expected)), (diff, out, expected)
    if smooth:  # one operand at a time (x - h t leaves the domain of a non-integral exponent)
        check(Case(name, fn, [x, y], {}, (0,)))
        check(Case(name, fn, [x, y], {}, (1,)))


FLOAT_PAIRS = [(x, y) for x, y in builtins_t.PAIRS if type(x) is float and type(y) is float]


@pytest.mark.parametrize("fn", [max, min], ids=["max", "min"])
@pytest.mark.parametrize("x, y", FLOAT_PAIRS)
def test_max_min_tangent_is_the_returned_arguments(fn, x, y):
    # ties and NaNs included: the tangent of the argument Python returns, as the adjoint gives it g
    f, values, wrt = build(Case("pair", fn, [x, y], {}, (0, 1)))
    _, out = _jvp(f, wrt, values, (2.0, 3.0))
    assert out == (2.0 if fn(x, y) is x else 3.0)


@pytest.mark.parametrize("ord, x, axis, expected", reductions_t.KINKS, ids=reductions_t.KINK_IDS)
@pytest.mark.filterwarnings("ignore:divide by zero")
def test_norm_kinks_give_the_documented_subgradient(ord, x, axis, expected):
    t = np.random.default_rng(0).standard_normal(x.shape)
    f, values, wrt = build(Case("kink", np.linalg.norm, [x], {"ord": ord, "axis": axis}, (0,)))
    _, out = _jvp(f, wrt, values, (t,))
    assert np.allclose(out, np.sum(expected * t, axis=axis), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x, axis, expected", reductions_t.ZERO_CASES, ids=[str(i) for i in range(len(reductions_t.ZERO_CASES))]
)
def test_prod_with_zeros_is_exact(x, axis, expected):
    t = np.random.default_rng(0).standard_normal(x.shape)
    f, values, wrt = build(Case("zeros", np.prod, [x], {"axis": axis}, (0,)))
    _, out = _jvp(f, wrt, values, (t if x.ndim else float(t),))
    assert np.allclose(out, np.sum(expected * t, axis=axis), rtol=1e-12, atol=1e-12)


def test_std_of_equal_values_has_tangent_zero():
    # the kink of std at a constant slice: the subgradient 0, as std_adjoint (never nan)
    x = np.array([[2.0, 2.0, 2.0], [0.1, 0.1, 0.1], [1.0, -1.0, 3.0]])
    f, values, wrt = build(Case("std", np.std, [x], {"axis": 1, "ddof": 1}, (0,)))
    _, out = _jvp(f, wrt, values, (np.ones_like(x),))
    assert np.array_equal(out[:2], [0.0, 0.0]) and np.all(np.isfinite(out))


# ---- linear functions with no adjoint rule: forward mode only -----------------------------------------

R = np.random.default_rng(6)
FORWARD_ONLY = [
    # none left: cumsum, diff, real (reduce13) and diagonal ... tensordot (shape13) have adjoint rules now
]


@pytest.mark.parametrize("case", FORWARD_ONLY, ids=[c.name for c in FORWARD_ONLY])
def test_forward_only_linear_functions_match_central_differences(case):
    assert registry.lookup(case.fn) is None and registry.linearity(case.fn) is not None
    f, values, wrt = build(case)
    rng = np.random.default_rng(0)
    tangents = tuple(_random_like(values[i], rng) for i in wrt)
    _, out = _jvp(f, wrt, values, tangents)

    def at(h):
        return f(*[v + h * tangents[wrt.index(i)] if i in wrt else v for i, v in enumerate(values)])

    assert relative_error(out, (at(EPS) - at(-EPS)) / (2 * EPS)) < 1e-6


# ---- every registered function has a tangent --------------------------------------------------------


def _has_tangent(fn):
    return (
        registry.tangent_rule(fn) is not None
        or registry.linearity(fn) is not None
        or (tangent._elementwise(fn) and registry.lookup(fn) is not None)
        or fn in DERIVED_REDUCTIONS
    )


def _built_in():
    # not the users' rules (register_adjoint) that other tests register as they run
    return [fn for fn, r in registry.all_rules().items() if r.origin.startswith("adjoint_compiler.rules.")]


@pytest.mark.parametrize("fn", _built_in(), ids=lambda f: "%s.%s" % (getattr(f, "__module__", ""), f.__name__))
def test_every_registered_function_has_a_tangent_or_a_stated_exclusion(fn):
    assert _has_tangent(fn) != (fn in EXCLUDED), fn


def test_every_registered_function_has_a_case():
    covered = {id(c.fn) for c in CASES}
    missing = [
        fn
        for fn in _built_in()
        if id(fn) not in covered and fn not in EXCLUDED and fn not in REFUSALS and fn not in ELSEWHERE
    ]
    assert not missing, missing


TANGENT_RULES = list(registry.all_tangent_rules().values())


@pytest.mark.parametrize("rule", TANGENT_RULES, ids=[r.rule.__name__ for r in TANGENT_RULES])
def test_tangent_rule_is_beside_its_adjoint_rule_and_inlinable(rule):
    # in the same library-area file, with the same parameters, a body the compiler can inline
    adjoint = registry.lookup(rule.fn)
    assert adjoint is not None and adjoint.origin == rule.origin and rule.params == adjoint.params
    assert rule.rule.__name__ == adjoint.rule.__name__.replace("_adjoint", "_tangent")
    assert_inlinable(rule.rule, inspect.getmodule(rule.rule))
    templates.template(rule)


# ---- np.linalg (task linalg13) -------------------------------------------------------------------------
# np.einsum of more than six operands is differentiated as np_linalg.einsum_of_many (registry.form)
from adjoint_compiler.rules import np_linalg  # noqa: E402

_FORMS[np_linalg.einsum_of_many] = "np.einsum"
# ---- shape13: the shape rules of several operands or results (tests/rules/test_np_shape_more.py) -----------
from tests.rules import test_np_shape_more as shape_more_t  # noqa: E402

SHAPE13_CASES = shape_more_t.tangent_cases(Case)
CASES = CASES + SHAPE13_CASES  # a new list (parametrize holds the old): the coverage test reads this one


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", SHAPE13_CASES, ids=[c.name for c in SHAPE13_CASES])
def test_shape13_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- issue #13, SciPy rules (tests/rules/test_scipy_*.py): forward mode over rows of their tables (their COMPILED)
# The cases are spelled as the rows spell their calls (scipy.special.expit, scipy.stats.norm.logpdf ...), in functions
# whose module imports scipy's areas. CASES is extended at the end, so that test_every_registered_function_has_a_case
# (which reads it when it runs) covers them; they run in a test of their own.
def _scipy_cases():
    try:
        import scipy.linalg  # noqa: F401
        import scipy.integrate  # noqa: F401
        import scipy.signal  # noqa: F401
        import scipy.special  # noqa: F401
        import scipy.stats  # noqa: F401
    except ImportError:
        return []
    from tests.rules import test_scipy_integrate, test_scipy_linalg, test_scipy_signal, test_scipy_special
    from tests.rules import test_scipy_stats

    rows = test_scipy_special.COMPILED + test_scipy_stats.COMPILED + test_scipy_linalg.COMPILED
    rows += test_scipy_signal.COMPILED + test_scipy_signal.HELPER_ROWS + test_scipy_integrate.COMPILED
    out = []
    for row in rows:
        # a distribution's method is a new bound method at each access: the case holds the one registered
        row = row._replace(fn=registry.lookup(row.fn).fn)
        _FORMS.setdefault(row.fn, row.spelling)
        if row.direction is not None:
            # the first differentiated argument on a simplex (dirichlet's x, multinomial's p): central differences only
            # along the others (if any)
            others = tuple(i for i in row.diff if i != row.diff[0])
            if others:
                out.append(Case("scipy-" + row.name, row.fn, row.args, row.kwargs, others, True, row.rtol))
            out.append(Case("scipy-" + row.name + "-dual", row.fn, row.args, row.kwargs, row.diff, False, row.rtol))
        else:
            out.append(Case("scipy-" + row.name, row.fn, row.args, row.kwargs, row.diff, True, row.rtol))
    # (rules18: expm's derivative L_exp(a, e), at a general and at a symmetric a, which takes np.linalg.eigh)
    rng = np.random.default_rng(18)
    a, e = 0.5 * rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 3))
    out.append(Case("expm_frechet_of", runtime.expm_frechet_of, [a, e], {}, (0, 1)))
    out.append(Case("expm_frechet_of-symmetric", runtime.expm_frechet_of, [a + np.swapaxes(a, 1, 2), e], {}, (0, 1)))
    return out


_plain_function = _function


def _function(source):  # noqa: F811 (the same, in a module that has imported scipy's areas)
    f = _plain_function(source)
    if "scipy." in source:
        import scipy

        f.__globals__.setdefault("scipy", scipy)
    return f


SCIPY_CASES = _scipy_cases()
CASES = CASES + SCIPY_CASES
if not SCIPY_CASES:  # (its rules are registered with the runtime's; it calls scipy.linalg.expm_frechet)
    ELSEWHERE[runtime.expm_frechet_of] = (
        "scipy.linalg.expm's derivative: its cases need SciPy, not installed here (where it is: above, and "
        "tests/rules/test_rule_costs_rules18.py)"
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", SCIPY_CASES, ids=[c.name for c in SCIPY_CASES])
def test_scipy_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- reduce13 (issue #13): the rows of tests/rules/test_np_reductions_more.py ----------------------------
# (np.cumsum, np.diff and np.real left FORWARD_ONLY above: they have adjoint rules now)

from tests.rules import test_np_reductions_more as more_t  # noqa: E402


def _more_cases():
    out = []
    for i, row in enumerate(more_t.TABLE):
        values, diff = more_t.make(row, np.random.default_rng(100 + i))
        out.append(Case("more-" + row.name, row.fn, values, row.kwargs, diff, row.fd, row.rtol))
    return out


MORE_CASES = _more_cases()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", MORE_CASES, ids=[c.name for c in MORE_CASES])
def test_more_tangents_match_central_differences_and_reverse_mode(case):
    check(case)


CASES = CASES + MORE_CASES  # for test_every_registered_function_has_a_case


# ---- dtypes13: np.reshape(x, newshape=...), the variant its form differentiates it as ---------------

from adjoint_compiler.rules import np_shape  # noqa: E402

_FORMS[np_shape.reshape_newshape] = "np.reshape"
DTYPES13_CASES = [
    Case("reshape_newshape", np_shape.reshape_newshape, [R.standard_normal((2, 3))], {"newshape": (3, 2)}, (0,)),
    Case(
        "reshape_newshape-F",
        np_shape.reshape_newshape,
        [R.standard_normal((2, 3))],
        {"newshape": (6,), "order": "F"},
        (0,),
    ),
]
CASES = CASES + DTYPES13_CASES  # a new list: test_every_registered_function_has_a_case reads it when it runs


def _takes_newshape():
    try:
        np.reshape(np.zeros(2), newshape=(2,))
    except TypeError:  # NumPy 2.4 removed the keyword
        return False
    return True


@pytest.mark.skipif(not _takes_newshape(), reason="this NumPy has no np.reshape(..., newshape=)")
@pytest.mark.parametrize("case", DTYPES13_CASES, ids=[c.name for c in DTYPES13_CASES])
def test_dtypes13_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- emit14 (issue #14): np.matmul's adjoint helpers (runtime.matmul_bar1/2), whose tangents serve hvp -----
def _matmul_bar_cases():
    rng = np.random.default_rng(14)
    out = []
    for s1, s2 in [((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((2, 3, 4), (4,)), ((4,), (4,))]:
        x1, x2 = rng.standard_normal(s1), rng.standard_normal(s2)
        g = rng.standard_normal(np.shape(x1 @ x2))
        # x1's cotangent depends on x1's shape only, x2's on x2's: those are not differentiated
        out.append(Case("matmul_bar1-%s-%s" % (s1, s2), runtime.matmul_bar1, [g, x1, x2], {}, (0, 2)))
        out.append(Case("matmul_bar2-%s-%s" % (s1, s2), runtime.matmul_bar2, [g, x1, x2], {}, (0, 1)))
    # np.dot's (session 20): np.matmul's for arrays of 1 and 2 axes, a number's product, N-d contractions
    for s1, s2 in [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (4, 2)), ((), (3,)), ((2, 3), ()), ((2, 3, 4), (5, 4, 2))]:
        x1, x2 = rng.standard_normal(s1), rng.standard_normal(s2)
        g = rng.standard_normal(np.shape(np.dot(x1, x2)))
        out.append(Case("dot_bar1-%s-%s" % (s1, s2), runtime.dot_bar1, [g, x1, x2], {}, (0, 2)))
        out.append(Case("dot_bar2-%s-%s" % (s1, s2), runtime.dot_bar2, [g, x1, x2], {}, (0, 1)))
    return out


EMIT14_CASES = _matmul_bar_cases()
CASES = CASES + EMIT14_CASES  # a new list: the coverage test reads this one


@pytest.mark.parametrize("case", EMIT14_CASES, ids=[c.name for c in EMIT14_CASES])
def test_matmul_bar_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- conversions: np.float64(x), x.item() ---------------------------------------------------------------

CONVERSION_CASES = [
    Case("float64-0d", np.float64, [np.array(0.7)], {}, (0,)),
    Case("float64-array", np.float64, [np.array([0.3, -1.2])], {}, (0,)),
    Case("item", np.ndarray.item, [np.array([[1.3]])], {}, (0,)),
    Case("tolist", np.ndarray.tolist, [np.array([[0.3, -1.2], [0.5, 2.0]])], {}, (0,)),
]


@pytest.mark.parametrize("case", CONVERSION_CASES, ids=[c.name for c in CONVERSION_CASES])
def test_conversion_tangents_match_central_differences_and_reverse_mode(case):
    check(case)


CASES = CASES + CONVERSION_CASES


# ---- ho11c (issue #11): the joining and splitting functions' adjoint helpers, whose tangents serve hvp ---------
def _join_helper_cases():
    # pieces of one shape: the check compares a list result as one array
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 6))
    return [
        Case("unjoin-concatenate-1", runtime.unjoin, [g, [a, b], "concatenate", 1], {}, (0,)),
        Case("unjoin-vstack", runtime.unjoin, [rng.standard_normal((2, 3)), [a[0], b[0]], "vstack", 0], {}, (0,)),
        Case("rejoin-concatenate-1", runtime.rejoin, [[a, b], [a, b], g, "concatenate", 1], {}, (0,)),
        # np.gradient's adjoint in a number spacing: -sum(g ans) / h, in all three arguments
        Case("spacing_bar", runtime.spacing_bar, [rng.standard_normal(4), rng.standard_normal(4), 0.7], {}, (0, 1, 2)),
        # np.gradient's adjoint in f over two axes (a list g), with its number spacing, and the helpers of its tangent
        Case(
            "gradient_bar",
            runtime.gradient_bar,
            [
                [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
                np.gradient(a3 := rng.standard_normal((3, 4))),
                a3,
                None,
                1,
                0.7,
            ],
            {},
            (0, 5),
        ),
        Case("gradient_of", runtime.gradient_of, [rng.standard_normal((3, 4)), 1, 2, 0.7], {}, (0, 3)),
        Case("structured_times", runtime.structured_times, [[a, b], 0.3], {}, (0, 1)),
        Case("structured_inner", runtime.structured_inner, [[a, b], [b, a]], {}, (0, 1)),
    ]


HO11C_CASES = _join_helper_cases()
CASES = CASES + HO11C_CASES


@pytest.mark.parametrize("case", HO11C_CASES, ids=[c.name for c in HO11C_CASES])
def test_join_helper_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- np13e (issue #13): np.linalg.multi_dot's adjoint helper, whose tangent serves hessian; its derivative
# helpers have adjoint rules only (a third derivative through multi_dot is refused) --------------------------------
EXCLUDED.update(
    {
        runtime.multi_dot_dot: "multi_dot's tangent as its adjoint's adjoint; a third derivative is not modelled",
        runtime.multi_dot_bars_dot: "multi_dot's second derivative; a third derivative is not modelled",
    }
)


def _multi_dot_cases():
    # square operands: the check compares the list result (one cotangent per operand) as one array
    rng = np.random.default_rng(13)
    ops = [rng.standard_normal((3, 3)) for _ in range(3)]
    return [
        Case("multi_dot_bars", runtime.multi_dot_bars, [rng.standard_normal((3, 3)), ops], {}, (0,)),
        Case("multi_dot_bars-two", runtime.multi_dot_bars, [rng.standard_normal((3, 3)), ops[:2]], {}, (0,)),
    ]


NP13E_CASES = _multi_dot_cases()
CASES = CASES + NP13E_CASES


@pytest.mark.parametrize("case", NP13E_CASES, ids=[c.name for c in NP13E_CASES])
def test_multi_dot_helper_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# np13j: scipy.integrate.odeint's tangent solves the sensitivity equations, its adjoint the adjoint system (each an ODE
# solve calling the user's func): both tested against central differences of odeint in test_scipy_integrate; the
# rules of their helpers refuse second derivatives (test_scipy_integrate.test_odeint_second_derivatives_are_refused)
try:
    from scipy.integrate import odeint as _odeint
except ImportError:  # (SciPy is optional)
    _odeint = None
if _odeint is not None:
    ELSEWHERE[_odeint] = "an ODE solve calling the user's func: tests/rules/test_scipy_integrate.py, both modes"
    from adjoint_compiler.rules.scipy_signal import lfilter_from_state as _lfilter_from_state

    ELSEWHERE[_lfilter_from_state] = "lfilter with zi= (a pair): tests/rules/test_scipy_signal.py, both modes, hvp"
REFUSALS[runtime.odeint_bars] = "odeint's adjoint helper: its rules refuse second derivatives"
REFUSALS[runtime.odeint_dot] = "odeint's tangent helper: its rules refuse second derivatives"


# ---- np13i (issue #13): np.linalg.det's gradient helper (the cofactor matrix), whose tangent serves hessian; its
# derivative helper, det's Hessian applied to E, is differentiated in E only (a third derivative through det is refused)


def _cofactor_cases():
    rng = np.random.default_rng(14)
    singular = np.outer(rng.standard_normal(3), rng.standard_normal(3)) + np.outer(
        rng.standard_normal(3), rng.standard_normal(3)
    )
    return [
        Case("cofactors", runtime.cofactors, [3.0 * np.eye(3) + 0.3 * rng.standard_normal((3, 3))], {}, (0,)),
        Case("cofactors-singular", runtime.cofactors, [singular], {}, (0,)),
        Case("cofactors-stack", runtime.cofactors, [np.stack([singular, 2.0 * np.eye(3)])], {}, (0,)),
        Case("cofactors_dot-singular", runtime.cofactors_dot, [singular, rng.standard_normal((3, 3))], {}, (1,)),
    ]


NP13I_CASES = _cofactor_cases()
CASES = CASES + NP13I_CASES


@pytest.mark.parametrize("case", NP13I_CASES, ids=[c.name for c in NP13I_CASES])
def test_cofactor_helper_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- np13m (issue #13): the inverse of a triangular matrix (cholesky's rules), which reads one triangle: below
# n = 16 np.linalg.inv of it, from 16 LAPACK's trtri (through SciPy)


def _triangular_inverse_cases():
    rng = np.random.default_rng(15)

    def triangular(n, stack=()):
        return 2.0 * np.eye(n) + 0.3 * rng.standard_normal(stack + (n, n))

    return [
        Case("triangular_inverse-lower", runtime.triangular_inverse, [triangular(4)], {}, (0,)),
        Case("triangular_inverse-upper", runtime.triangular_inverse, [triangular(4), False], {}, (0,)),
        Case("triangular_inverse-trtri", runtime.triangular_inverse, [triangular(20)], {}, (0,)),
        Case(
            "triangular_inverse-trtri-upper-stack", runtime.triangular_inverse, [triangular(18, (2,)), False], {}, (0,)
        ),
    ]


NP13M_CASES = _triangular_inverse_cases()
CASES = CASES + NP13M_CASES


@pytest.mark.parametrize("case", NP13M_CASES, ids=[c.name for c in NP13M_CASES])
def test_triangular_inverse_tangent_matches_central_differences_and_reverse_mode(case):
    check(case)


# ---- np13n (issue #13): A^-1 from an LU factorization (slogdet's rules) and Phi(L^-T Q L^-1) (cholesky's adjoint):
# below n = 16 NumPy, from 16 LAPACK's getrf + getri and sygst (through SciPy, where it is importable)


def _np13n_cases():
    rng = np.random.default_rng(16)

    def square(n, stack=()):
        return 2.0 * np.eye(n) + 0.3 * rng.standard_normal(stack + (n, n))

    return [
        Case("lu_inverse", runtime.lu_inverse, [square(4)], {}, (0,)),
        Case("lu_inverse-getri", runtime.lu_inverse, [square(20)], {}, (0,)),
        Case("lu_inverse-getri-stack", runtime.lu_inverse, [square(18, (2,))], {}, (0,)),
        Case("phi_congruence", runtime.phi_congruence, [square(4), rng.standard_normal((4, 4))], {}, (0, 1)),
        Case("phi_congruence-sygst", runtime.phi_congruence, [square(20), rng.standard_normal((20, 20))], {}, (0, 1)),
        Case(
            "phi_congruence-sygst-stack",
            runtime.phi_congruence,
            [square(18, (2,)), rng.standard_normal((2, 18, 18))],
            {},
            (0, 1),
        ),
        # rules15: cholesky's adjoint (Murray's blocked algorithm from n = 16: one block at 20, three at 150, two
        # of 35 in each matrix of the stack)
        Case("cholesky_bar", runtime.cholesky_bar, [square(4), rng.standard_normal((4, 4))], {}, (0, 1)),
        Case("cholesky_bar-block", runtime.cholesky_bar, [square(20), rng.standard_normal((20, 20))], {}, (0, 1)),
        Case("cholesky_bar-blocked", runtime.cholesky_bar, [square(150), rng.standard_normal((150, 150))], {}, (0, 1)),
        Case(
            "cholesky_bar-blocked-stack",
            runtime.cholesky_bar,
            [square(70, (2,)), rng.standard_normal((2, 70, 70))],
            {},
            (0, 1),
        ),
    ]


NP13N_CASES = _np13n_cases()
CASES = CASES + NP13N_CASES


@pytest.mark.parametrize("case", NP13N_CASES, ids=[c.name for c in NP13N_CASES])
def test_lu_inverse_and_phi_congruence_tangents_match_central_differences_and_reverse_mode(case):
    check(case)


# ---- np13o (issue #13): np.max / np.min's adjoint and tangent helpers (runtime.extremum_bar, extremum_dot), and
# the tangent rules of np.max, np.min, np.nanmax on them; ties (no central difference at a kink: the two modes agree)


def _np13o_cases():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 5))
    tied = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    nan = np.array([[np.nan, 1.0, 4.0], [np.nan, np.nan, np.nan]])
    out = []
    for axis, keepdims in [(None, False), (None, True), (1, False), (0, True), ((0, 1), False)]:
        top = np.max(x, axis=axis, keepdims=keepdims)
        g = rng.standard_normal(np.shape(top))
        kw = {"axis": axis, "keepdims": keepdims}
        out.append(Case("extremum_bar-%s-%s" % (axis, keepdims), runtime.extremum_bar, [g, x, top], kw, (0,)))
        out.append(Case("extremum_dot-%s-%s" % (axis, keepdims), runtime.extremum_dot, [x, x, top], kw, (0,)))
        out.append(Case("max-%s-%s" % (axis, keepdims), np.max, [x], kw, (0,)))
        out.append(Case("min-%s-%s" % (axis, keepdims), np.min, [x], kw, (0,)))
    for axis in (None, 0, 1):
        top = np.max(tied, axis=axis)
        g = rng.standard_normal(np.shape(top))
        out.append(Case("extremum_bar-tie-%s" % axis, runtime.extremum_bar, [g, tied, top], {"axis": axis}, (0,)))
        out.append(Case("extremum_dot-tie-%s" % axis, runtime.extremum_dot, [tied, tied, top], {"axis": axis}, (0,)))
        out.append(Case("max-tie-%s" % axis, np.max, [tied], {"axis": axis}, (0,), fd=False))
        out.append(Case("amin-tie-%s" % axis, np.amin, [tied], {"axis": axis}, (0,), fd=False))
    top = np.nanmax(nan, axis=1)
    args = [np.ones(2), nan, top]
    out.append(Case("extremum_bar-skip_nan", runtime.extremum_bar, args, {"axis": 1, "skip_nan": True}, (0,)))
    zeros = np.array([[1.5, 0.0, -2.0], [-0.5, 3.0, 0.0]])  # (sign's subgradient 0 at 0)
    out.append(Case("sign_times", runtime.sign_times, [rng.standard_normal((2, 3)), zeros], {}, (0,)))
    out.append(Case("sign_times-broadcast", runtime.sign_times, [rng.standard_normal(3), zeros], {}, (0,)))
    out.append(Case("sign_times-number", runtime.sign_times, [0.7, zeros], {}, (0,)))
    out.append(Case("sign_times-dot", runtime.sign_times, [rng.standard_normal((2, 3)), zeros, True], {}, (0,)))
    # complex17a: conj_times, c * a for real values (its complex form is for first order: tests/test_complex_rules.py)
    pair = [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))]
    out.append(Case("conj_times", runtime.conj_times, pair, {}, (0, 1)))
    out.append(Case("conj_times-broadcast", runtime.conj_times, [rng.standard_normal(3), pair[1]], {}, (0, 1)))
    ties = np.array([[1.0, np.nan, 1.0], [0.5, 2.0, -1.0]])
    out.append(Case("nanmax-tie", np.nanmax, [ties], {"axis": 1}, (0,), fd=False))
    return out


NP13O_CASES = _np13o_cases()
CASES = CASES + NP13O_CASES


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", NP13O_CASES, ids=[c.name for c in NP13O_CASES])
def test_extremum_tangents_match_central_differences_and_reverse_mode(case):
    check(case)


# trust9g (issue #9): the check of a register_adjoint rule's result; a user rule is not differentiated again
EXCLUDED[runtime.rule_cotangents] = (
    "checks a registered adjoint's result: its adjoint refuses, forward mode never calls it"
)

# np13p: a draw (rng.normal) is a method of a generator, which a case cannot spell; its tangent rule is checked
# against central differences of the re-seeded draw, and compiled through jvp, in tests/rules/test_np_random.py
for _draw in (np.random.Generator, np.random.RandomState):
    for _name in ("normal", "uniform", "lognormal", "exponential"):
        ELSEWHERE[getattr(_draw, _name)] = "a draw of a generator: tests/rules/test_np_random.py, both modes"

# np13p: np.pad's helpers in modes 'mean' and 'linear_ramp', each the other's adjoint, linear (forward mode applies
# them to tangents): checked against central differences in tests/rules/test_runtime_rules.py, and compiled
# through np.pad's rows of tests/rules/test_np_shape.py in both modes
ELSEWHERE[runtime.pad_linear] = "np.pad's linear part: tests/rules/test_runtime_rules.py and np.pad's rows"
ELSEWHERE[runtime.pad_linear_bar] = "np.pad's adjoint in the linear modes: tests/rules/test_runtime_rules.py"

# rules19: np.array and np.asarray with a dtype or layout (registry.form variants): both modes and second order
from adjoint_compiler.rules import np_elementwise as _np_elementwise  # noqa: E402

for _cast in (_np_elementwise.array_cast, _np_elementwise.asarray_cast):
    ELSEWHERE[_cast] = "np.array / np.asarray with dtype=, order=, ndmin=: tests/rules/test_np_elementwise.py"

# rules20: np.sum with initial= (np_reductions.sum_from) and np.interp with period= (np_elementwise.interp_periodic),
# registry.form variants: both modes and second order
from adjoint_compiler.rules import np_reductions as _np_reductions  # noqa: E402

ELSEWHERE[_np_reductions.sum_from] = "np.sum with initial=: tests/rules/test_reduction_params.py, both modes, hvp"
ELSEWHERE[_np_elementwise.interp_periodic] = "np.interp with period=: tests/rules/test_reduction_params.py, both modes"
ELSEWHERE[_np_elementwise.polynomial_call] = "np.polynomial.Polynomial(c)(x): tests/rules/test_costs25.py, both modes"
# rules23: np.mean, np.cumsum and np.cumulative_sum with a dtype= (registry.form variants), np.nanquantile and
# np.nanpercentile, np.i0: both modes against central differences and by hand in tests/rules/test_rules23.py
ELSEWHERE[runtime.bessel_i1] = "np.i0's derivative (rules23): tests/rules/test_rules23.py, jvp and hvp of np.i0"
for _typed in ("mean_typed", "cumsum_typed", "cumulative_sum_typed"):
    if hasattr(_np_reductions, _typed):
        ELSEWHERE[getattr(_np_reductions, _typed)] = "a dtype= (rules23): tests/rules/test_rules23.py, both modes"

# py12m: the statistics module's rules (rules/py_statistics.py), of a list of floats and a given centre (xbar, mu)
ELSEWHERE.update(
    {
        fn: "a list of floats: tests/test_py12m.py, grad, vjp, jvp and hvp against central differences"
        for fn in (statistics.mean, statistics.fmean, statistics.variance, statistics.pvariance)
        + (statistics.stdev, statistics.pstdev)
    }
)

# complex18: the cmath functions (rules/py_cmath.py), of complex numbers only
from adjoint_compiler.rules import py_cmath as _py_cmath  # noqa: E402

ELSEWHERE.update(
    {
        r.fn: "complex numbers: tests/rules/test_py_cmath.py, grad, vjp and jvp against differences and f'(z)"
        for r in registry.all_rules().values()
        if r.origin == _py_cmath.__name__
    }
)

# np.fft (issue #13): a call of it runs in complex mode; both modes of every transform, shift and frequency against
# central differences, real and complex inputs, in tests/rules/test_np_fft.py (with the runtime helpers' rules)
ELSEWHERE.update(
    {
        fn: "np.fft: tests/rules/test_np_fft.py, both modes, real and complex inputs"
        for fn in (np.fft.fft, np.fft.ifft, np.fft.fftn, np.fft.ifftn, np.fft.fft2, np.fft.ifft2, np.fft.rfft)
        + (np.fft.irfft, np.fft.rfftn, np.fft.irfftn, np.fft.rfft2, np.fft.irfft2, np.fft.hfft, np.fft.ihfft)
        + (np.fft.fftshift, np.fft.ifftshift, np.fft.fftfreq, np.fft.rfftfreq, runtime.fft_fit, runtime.irfft_bar)
        + (runtime.rfft_bar,)
    }
)
ELSEWHERE.update(
    {runtime.real_cotangent: "the check of a rule for real numbers in complex code: tests/test_complex_from_real.py"}
)


# ---- rules21 (issue #13): np.quantile's adjoint helpers, whose tangents serve hvp: linear in g (or h), and in q
# through the weights' derivative (part "S"); a (the weights) gives positions only -----------------------------------
def _quantile_helper_cases():
    a = np.random.default_rng(21).permutation(24).reshape(4, 6) / 24.0
    q = np.array([0.23, 0.61])
    out = []
    for axis, method in [(1, "linear"), (None, "hazen"), (0, "weibull")]:
        kept = np.shape(np.quantile(a, q, axis=axis, keepdims=True))
        g = np.cos(np.arange(np.prod(kept))).reshape(kept)
        for part in ("S", "E"):
            name = "quantile_spread-%s-%s-%s" % (axis, method, part)
            out.append(Case(name, runtime.quantile_spread, [g, a, q, axis, method, part], {}, (0, 2)))
            name = "quantile_gather-%s-%s-%s" % (axis, method, part)
            out.append(Case(name, runtime.quantile_gather, [np.sin(a), a, q, axis, method, part], {}, (0, 2)))
    return out


CASES = CASES + _quantile_helper_cases()


# np.prod's adjoint helpers (rules21): linear in their first argument; their derivative in x (with ans, the product,
# moving along) is checked through the product itself in tests/rules/test_prod_helpers.py
def _prod_helper_cases():
    x = np.array([[1.5, 0.0, -2.0, 0.7], [0.9, 1.1, 1.3, -0.8], [0.0, 2.0, 0.0, 1.2]])
    out = []
    for axis in (None, 1, 0):
        ans = np.prod(x, axis=axis)
        g = np.cos(np.arange(np.size(ans))).reshape(np.shape(ans))
        out.append(Case("prod_bar-%s" % (axis,), runtime.prod_bar, [g, x, ans, axis], {}, (0,)))
        out.append(Case("prod_cross-%s" % (axis,), runtime.prod_cross, [np.sin(x), x, ans, axis], {}, (0,)))
    return out


CASES = CASES + _prod_helper_cases()


def _cumprod_helper_cases():
    # np.cumprod's adjoint helper (rules24): bilinear in g and ans, and in x through 1 / x (away from 0)
    out = []
    for shape, axis in (((5,), 0), ((3, 4), 1), ((3, 4), 0)):
        x = 1.0 + 0.3 * np.sin(np.arange(np.prod(shape)).reshape(shape))
        ans = np.cumprod(x, axis)
        g = np.cos(np.arange(x.size)).reshape(shape)
        out.append(Case("cumprod_ratio-%s-%s" % (shape, axis), runtime.cumprod_ratio, [g, ans, x, axis], {}, (0, 1, 2)))
    return out


CASES = CASES + _cumprod_helper_cases()


def _nanmedian_helper_cases():
    a = np.random.default_rng(22).permutation(24).reshape(4, 6) / 24.0
    a[1, 2] = np.nan
    out = []
    for axis in (None, 0, 1):
        kept = np.shape(np.nanmedian(a, axis=axis, keepdims=True))
        g = np.cos(np.arange(np.prod(kept))).reshape(kept)
        out.append(Case("nanmedian_spread-%s" % (axis,), runtime.nanmedian_spread, [g, a, axis], {}, (0,)))
        out.append(Case("nanmedian_gather-%s" % (axis,), runtime.nanmedian_gather, [np.sin(a), a, axis], {}, (0,)))
    return out


CASES = CASES + _nanmedian_helper_cases()
