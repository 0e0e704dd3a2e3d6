"""Adjoint rules as templates: parse a rule's source once, instantiate it with fresh names.

A rule ``def tanh_adjoint(g, ans, x): return g * (1.0 - ans * ans)`` becomes,
for the statement ``h = np.tanh(a)``, the expression ``h_bar * (1.0 - h * h)``:
parameters are replaced by the statement's operands, locals by fresh
temporaries, and the module names the rule uses (``np``, ``math``, runtime
helpers) are recorded so that the emitted module imports them.

A test on a literal operand is decided here, at compile time: with ``x ** 2``,
``y - (y != 0)`` becomes ``2 - 1`` (which ``optimize`` folds), and
``a if ord == 'fro' else b`` becomes ``a`` for ``ord='fro'`` (see ``_fold``). A rule can thus cover every
value of a parameter exactly while the common literal case costs nothing at run time.

Invariant: an instance is the rule's own body with nothing but names substituted and
literal tests decided (and, for ``scalar``, ``unbroadcast`` dropped): it computes what
calling the rule would, and its temporaries collide with no name the ``Namer`` gave out.

>>> import numpy as np
>>> from adjoint_compiler import emit, naming, trees
>>> from adjoint_compiler.rules import registry
>>> def show(stmts, results):
...     return [emit.to_source(s).strip() for s in stmts], [emit.to_source(c).strip() for _, c in results]
>>> t = template(registry.lookup(np.tanh))
>>> show(*instantiate(t, trees.name("h_bar"), trees.name("h"), [trees.name("a")], {}, naming.Namer()))
([], ['h_bar * (1.0 - h * h)'])
>>> t = template(registry.lookup(np.arctan2))
>>> b, a = trees.name("b"), trees.name("a")
>>> show(*instantiate(t, trees.name("g"), trees.name("r"), [b, a], {}, naming.Namer({"_t1"})))
(['_t2 = a * a + b * b'], ['unbroadcast(g * a / _t2, b)', 'unbroadcast(-g * b / _t2, a)'])
>>> sorted(t.globals)
['unbroadcast']
"""

import builtins
import inspect
import itertools
import linecache
import math
import operator
import textwrap
import types

import gast

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler.errors import InternalError

_CACHE = {}
_FILES = {}  # file name -> its lines when the first rule defined in it was registered (snapshot)


def snapshot(fn):
    """Keep the text of the file ``fn`` was defined in, as it is now. Called as a rule is registered, while
    its module is imported: the file then holds the text the module's functions were compiled from. A rule's
    body is parsed later, when first used (``source_of``), from this text rather than from the file, which
    may have been edited since: the body parsed is the body of the function registered."""
    filename = fn.__code__.co_filename
    if filename not in _FILES:
        linecache.checkcache(filename)  # a stale entry (the file edited before this import) is read again
        _FILES[filename] = linecache.getlines(filename, fn.__globals__)  # linecache never mutates the list


def source_of(fn):
    """The source of the function ``fn`` (a rule or a fragment), from its file's ``snapshot``; what
    ``inspect.getsource(fn)`` gives, the file as it was when ``fn`` was made."""
    snapshot(fn)
    lines = _FILES[fn.__code__.co_filename]
    first = fn.__code__.co_firstlineno - 1  # the first decorator's line, as inspect.getsource starts
    if not lines or first >= len(lines):
        raise OSError("could not get source code")
    return "".join(inspect.getblock(lines[first:]))


class Template:
    def __init__(self, rule):
        self.rule = rule
        try:
            text = textwrap.dedent(source_of(rule.rule))
        except (OSError, TypeError) as e:
            raise InternalError("cannot read the source of rule %s: %s" % (rule.rule.__name__, e))
        try:
            fn = gast.parse(text).body[0]
        except SyntaxError as e:  # a lambda's lines, part of a longer statement
            raise InternalError("cannot read the source of rule %s: %s" % (rule.rule.__name__, e))
        if not isinstance(fn, gast.FunctionDef):  # a lambda: its source is the statement that holds it
            raise InternalError("rule %s is not a def" % rule.rule.__name__)
        fn.body = _expand_fragments(fn.body, rule.rule.__globals__)
        params = [a.id for a in fn.args.args]
        self.g, self.ans = params[0], params[1]
        self.params = params[2:]
        defaults = fn.args.defaults
        self.defaults = dict(zip(self.params[len(self.params) - len(defaults) :], defaults))
        *self.body, ret = fn.body
        if not isinstance(ret, gast.Return) or not all(isinstance(s, gast.Assign) for s in self.body):
            raise InternalError("rule %s is not a straight-line body ending in return" % rule.rule.__name__)
        self.results = ret.value.elts if isinstance(ret.value, gast.Tuple) and len(self.params) > 1 else [ret.value]
        if len(self.results) != len(self.params):
            raise InternalError(
                "rule %s returns %d cotangents for %d parameters"
                % (rule.rule.__name__, len(self.results), len(self.params))
            )
        self.locals = {s.targets[0].id for s in self.body}
        # whether an instance may hold a run-time refusal for ``located`` to place (the defaults included)
        self.refuses_when_run = any(isinstance(n, gast.Name) and n.id in _LOCATED for n in trees.walk(fn))
        self.globals = {}  # name in the rule -> module or runtime helper it refers to
        known = set(params) | self.locals
        for node in (n for stmt in fn.body for n in trees.breadth_first(stmt)):
            if isinstance(node, gast.Name) and node.id not in known:
                if node.id not in rule.rule.__globals__ and hasattr(builtins, node.id):
                    continue  # len, range, ...: every module has them
                value = rule.rule.__globals__.get(node.id)
                if not (isinstance(value, types.ModuleType) or getattr(runtime, node.id, None) is value):
                    raise InternalError(
                        "rule %s uses '%s', which is neither a module nor a runtime helper"
                        % (rule.rule.__name__, node.id)
                    )
                self.globals[node.id] = value


FRAGMENT_MARK = "__adjoint_fragment__"  # set by rules.registry.fragment
_FRAGMENTS = {}


def _fragment_tree(fn):
    tree = _FRAGMENTS.get(fn)
    if tree is None:
        tree = _FRAGMENTS[fn] = gast.parse(textwrap.dedent(source_of(fn))).body[0]
        if not all(isinstance(s, gast.Assign) for s in tree.body[:-1]) or not isinstance(tree.body[-1], gast.Return):
            raise InternalError("fragment %s is not a straight-line body ending in return" % fn.__name__)
    return tree


def _expand_fragments(body, env):
    """Inline the calls of fragments (``registry.fragment``) a rule body makes as a statement's whole
    value or as an element of its returned tuple: the fragment's statements go before that statement,
    its locals renamed apart, and its returned expression takes the place of the call. A fragment's own
    statements may call fragments the same way."""
    count = itertools.count(1)
    out = []

    def expand(node, env=env):
        if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)):
            return node
        fn = env.get(node.func.id)
        if not getattr(fn, FRAGMENT_MARK, False):
            return node
        tree = _fragment_tree(fn)
        params = [a.id for a in tree.args.args]
        if node.keywords or len(node.args) != len(params):
            raise InternalError("a call of fragment %s must pass every parameter by position" % fn.__name__)
        mapping = dict(zip(params, node.args))
        k = next(count)
        for stmt in tree.body[:-1]:
            local = stmt.targets[0].id
            new = "%s%d_%s" % (fn.__name__, k, local)
            value = expand(trees.substituted(stmt.value, mapping), fn.__globals__)  # a fragment may call fragments
            out.append(
                gast.Assign(
                    targets=[gast.Name(id=new, ctx=gast.Store(), annotation=None, type_comment=None)],
                    value=value,
                    type_comment=None,
                )
            )
            mapping[local] = gast.Name(id=new, ctx=gast.Load(), annotation=None, type_comment=None)
        return expand(trees.substituted(tree.body[-1].value, mapping), fn.__globals__)

    for stmt in body:
        if isinstance(stmt, gast.Assign):
            stmt.value = expand(stmt.value)
        elif isinstance(stmt, gast.Return) and isinstance(stmt.value, gast.Tuple):
            stmt.value.elts = [expand(e) for e in stmt.value.elts]
        elif isinstance(stmt, gast.Return):
            stmt.value = expand(stmt.value)
        out.append(stmt)
    return out


def template(rule):
    t = _CACHE.get(rule.rule)
    if t is None:
        t = _CACHE[rule.rule] = Template(rule)
    return t


def _rewrite_children(node, rewrite, kind=gast.AST):
    """Replace each child of ``node`` of type ``kind`` by ``rewrite(child)``, in place."""
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            value[:] = [rewrite(v) if isinstance(v, kind) else v for v in value]
        elif isinstance(value, kind):
            setattr(node, field, rewrite(value))


def _instance(expr, mapping, strip, seen, integers=frozenset()):
    """``expr`` of a rule with ``mapping``'s names substituted (``trees.substituted``), its literal tests
    decided (``_fold``; a range no integer lies in, for ``integers``' names, too: ``_integer_ranges``)
    and, with ``strip``, its ``unbroadcast`` calls dropped. Each of those two walks is
    skipped where neither the rule's expression nor the values put in have a node it would change (most
    rules: arithmetic on their parameters), which gives the same tree. ``seen``: id(value) -> (value, its kinds),
    for one instantiation."""
    known = _KINDS.get(id(expr))
    if known is None or known[0] is not expr:
        known = _KINDS[id(expr)] = (expr, _kinds(expr))
    folds, broadcasts = known[1]
    own_broadcasts, given_broadcasts = broadcasts, False
    if not (folds and (not strip or broadcasts)):
        for v in mapping.values():
            if v.__class__ is gast.Constant or v.__class__ is gast.Name and v.annotation is None:
                continue  # (most values put in: their kinds are (False, False), without a walk)
            if isinstance(v, gast.AST):
                known = seen.get(id(v))
                if known is None or known[0] is not v:
                    known = seen[id(v)] = (v, _kinds(v))
                folds, broadcasts = folds or known[1][0], broadcasts or known[1][1]
                given_broadcasts = given_broadcasts or known[1][1]
    if strip and own_broadcasts and not folds and not given_broadcasts:
        # only the rule's own unbroadcast calls to drop: drop them once, from the rule's expression (the same
        # tree as substituting first, as no value put in has one)
        stripped = _STRIPPED.get(id(expr))
        if stripped is None or stripped[0] is not expr:
            stripped = _STRIPPED[id(expr)] = (expr, _strip_unbroadcast(trees.clone(expr)))
        return trees.substituted(stripped[1], mapping)
    value = trees.substituted(expr, mapping)
    if folds:
        if integers:
            value = _integer_ranges(value, integers)
        value = _fold(value)
    if strip and broadcasts:
        value = _strip_unbroadcast(value)
    return value


_KINDS = {}  # id(expression of a rule) -> (the expression, held so that its id stays its own; _kinds of it)
_STRIPPED = {}  # id(expression of a rule) -> (the expression, held; a copy with its unbroadcast calls dropped)
_FOLDED = (gast.IfExp, gast.BoolOp, gast.Compare, gast.Subscript)


def _kinds(node):
    """(whether ``_fold`` may change ``node``, whether it calls ``unbroadcast``)."""
    folds = broadcasts = False
    for n in trees.walk(node):
        cls = n.__class__
        if cls is gast.Call and n.func.__class__ is gast.Name:
            broadcasts = broadcasts or n.func.id == "unbroadcast"
            folds = folds or n.func.id in runtime.STATIC
        elif cls in _FOLDED or cls is gast.UnaryOp and n.op.__class__ is gast.Not:
            folds = True
    return folds, broadcasts


def _strip_unbroadcast(node):
    """``unbroadcast(c, like)`` -> ``c``; used where both sides are known scalars."""

    def strip(n):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "unbroadcast":
            return strip(n.args[0])
        _rewrite_children(n, strip)
        return n

    return strip(node)


class TooManyArguments(Exception):
    """A call passes more arguments than the rule has parameters (``max(a, b, c)`` for a two-argument rule)."""

    def message(self, label):
        return "%s() with %d arguments (its rule takes %d)" % (label, self.args[0], self.args[1])

    @staticmethod
    def hint(fn):
        """How to rewrite: a ufunc's extra positional argument is its ``out`` array, not an input."""
        if type(fn).__name__ == "ufunc":
            also = "; np.arctan2(y, x) is the angle of (x, y)" if getattr(fn, "__name__", "") == "arctan" else ""
            return "a NumPy ufunc's argument after its inputs is the out= array, which is not supported; " + (
                "pass the inputs only" + also
            )
        return "nest the calls where that means the same, e.g. max(max(a, b), c)"


_UNKNOWN = object()
_COMPARE = {
    gast.Eq: operator.eq,
    gast.NotEq: operator.ne,
    gast.Lt: operator.lt,
    gast.LtE: operator.le,
    gast.Gt: operator.gt,
    gast.GtE: operator.ge,
    gast.In: lambda a, b: a in b,
    gast.NotIn: lambda a, b: a not in b,
    gast.Is: lambda a, b: _is_none(a, b),
    gast.IsNot: lambda a, b: not _is_none(a, b),
}


def _is_none(a, b):
    """``a is b`` where one side is None (a rule's ``where is None`` on a default); any other identity of
    literals is left to run time (a TypeError: not folded)."""
    if a is None or b is None:
        return a is b
    raise TypeError("not folded")


_UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_}
_CONSTANTS = {"inf": math.inf, "pi": math.pi, "e": math.e}


def _value(node):
    """The value of ``node`` if it is a literal (numbers, strings, None, ``np.inf``, a tuple of
    literals), else _UNKNOWN."""
    if isinstance(node, gast.Constant):
        return node.value
    if (
        isinstance(node, gast.Attribute)
        and isinstance(node.value, gast.Name)
        and node.value.id in ("np", "math")
        and node.attr in _CONSTANTS
    ):
        return _CONSTANTS[node.attr]
    if isinstance(node, gast.UnaryOp) and type(node.op) in _UNARY:
        v = _value(node.operand)
        if v is not _UNKNOWN and (isinstance(node.op, gast.Not) or type(v) in (int, float)):
            return _UNARY[type(node.op)](v)
    if isinstance(node, gast.Tuple):
        values = tuple(_value(e) for e in node.elts)
        if _UNKNOWN not in values:
            return values
    return _UNKNOWN


def _literal(value):
    """A node for ``value`` (a result of folding), or None where it has no plain literal form."""
    if value is None or type(value) in (bool, str):
        return gast.Constant(value=value, kind=None)
    if type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e15:
        if value < 0:
            return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
        return gast.Constant(value=value, kind=None)
    if type(value) is tuple:
        elts = [_literal(v) for v in value]
        if all(e is not None for e in elts):
            return gast.Tuple(elts=elts, ctx=gast.Load())
    return None


def _folded(node, value):
    new = _literal(value)
    return node if new is None else new


def _fold(node):
    """Decide, bottom-up, what depends on literals only: comparisons and ``not`` (to 1 or 0, so that
    arithmetic on them is left to ``optimize``, as ``2 - 1``), ``and``/``or``, ``a if test else b``
    with a literal test, an element of a tuple at a literal index, and calls of the pure helpers
    in ``runtime.STATIC`` (``einsum_plan``) on literal arguments. Anything else is left for run
    time, where it evaluates to the same value."""
    _rewrite_children(node, _fold, gast.expr)
    if isinstance(node, gast.IfExp):
        test = _value(node.test)
        return node if test is _UNKNOWN else (node.body if test else node.orelse)
    if isinstance(node, gast.BoolOp):
        # and/or return their first decisive operand: literal operands in front are decided here
        values = list(node.values)
        while len(values) > 1:
            v = _value(values[0])
            if v is _UNKNOWN:
                break
            if bool(v) == isinstance(node.op, gast.Or):
                return values[0]
            values.pop(0)
        if len(values) == 1:
            return values[0]
        node.values = values
        return node
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not):
        operand = _value(node.operand)
        return node if operand is _UNKNOWN else gast.Constant(value=int(not operand), kind=None)
    if isinstance(node, gast.Compare):
        operands = [_value(n) for n in [node.left] + node.comparators]
        if _UNKNOWN in operands or not all(type(op) in _COMPARE for op in node.ops):
            return node
        try:
            result = all(_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, operands, operands[1:]))
        except TypeError:  # 'fro' < 2: left to raise at run time
            return node
        return gast.Constant(value=int(result), kind=None)
    if isinstance(node, gast.Subscript):
        index = _value(node.slice)
        if (
            type(index) is int
            and isinstance(node.value, gast.Tuple)
            and -len(node.value.elts) <= index < len(node.value.elts)
        ):
            return node.value.elts[index]
        return node
    if (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id in runtime.STATIC
        and not node.keywords
    ):
        args = [_value(a) for a in node.args]
        if _UNKNOWN in args:
            return node
        try:
            return _folded(node, getattr(runtime, node.func.id)(*args))
        except NotImplementedError as e:  # a case the rule does not cover: refused at the call
            raise Refused(str(e))
        except Exception:  # e.g. malformed subscripts: NumPy's forward call raises its own error first
            return node
    return node


_BOUNDS = {gast.Lt: (False, True), gast.LtE: (True, True), gast.Gt: (False, False), gast.GtE: (True, False)}


def _integer_ranges(node, integers):
    """A chained comparison of literals and one name known to hold an int (a ``range`` index: activity's
    ``integers``) that no integer satisfies is decided: ``0 < i < 1`` is ``0``, so that ``x ** i``'s rule
    drops its guard for an exponent strictly between 0 and 1. Anything else is left as it is.

    >>> from adjoint_compiler import emit
    >>> tests = ("0 < i < 1", "0 < i <= 1", "0 < n < 1", "0.5 < i < 1.5", "2 <= i < 2")
    >>> [emit.to_source(_integer_ranges(trees.quote_expr(s), {"i"})).strip() for s in tests]
    ['0', '0 < i <= 1', '0 < n < 1', '0.5 < i < 1.5', '0']
    """
    _rewrite_children(node, lambda n: _integer_ranges(n, integers), gast.expr)
    if not isinstance(node, gast.Compare) or not all(type(op) in _BOUNDS for op in node.ops):
        return node
    operands = [node.left] + node.comparators
    names = [k for k, n in enumerate(operands) if isinstance(n, gast.Name)]
    if len(names) != 1 or operands[names[0]].id not in integers:
        return node
    k = names[0]
    values = [_value(n) for n in operands]
    if any(type(v) not in (int, float) or not math.isfinite(v) for j, v in enumerate(values) if j != k):
        return node
    low, high = -math.inf, math.inf  # the integers n may be: low <= n <= high
    for j, op in enumerate(node.ops):
        inclusive, ascending = _BOUNDS[type(op)]
        if k not in (j, j + 1):
            continue
        other = values[j + 1] if k == j else values[j]
        upper = ascending == (k == j)  # n < other (n on the left of <) or other > n: other bounds n above
        if upper:
            high = min(high, math.floor(other) if inclusive or other != math.floor(other) else other - 1)
        else:
            low = max(low, math.ceil(other) if inclusive or other != math.ceil(other) else other + 1)
    return gast.Constant(value=0, kind=None) if low > high else node


class Refused(KeyError):
    """A call that a rule cannot take. A KeyError, which reverse.py reports as the user's error at
    the call ("... with an argument its derivative rule does not take, or without one it needs"), located."""

    def __str__(self):
        return "(%s)" % self.args[0]


def unavailable(expr):
    """The message of a rule's result ``no_derivative(function, parameter, reason)`` (runtime.no_derivative: a
    derivative that is not available), or None for any other result. The compiler refuses such a result for
    a differentiated operand at compile time, at the call; emitted code never reaches the helper.

    >>> unavailable(trees.quote_expr('no_derivative("scipy.special.gammainc", "a", "no closed form")'))
    'the derivative of scipy.special.gammainc with respect to its parameter a (no closed form)'
    >>> unavailable(trees.name("a_bar")) is None
    True
    """
    if not (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.func.id == "no_derivative"):
        return None
    function, parameter, reason = (_value(a) for a in expr.args)
    return "the derivative of %s with respect to its parameter %s (%s)" % (function, parameter, reason)


# runtime helpers by which a rule refuses a case it finds only when it runs (a singular matrix), and the
# position of their message argument
_RUN_TIME_REFUSALS = {"linalg_check": 1, "supported": 2}


def locate(nodes, location):
    """Put the user's call ``location`` (``file:line:col``) into the message of each run-time refusal
    (``linalg_check``, ``supported``; ``only_defaults`` takes it as ``at=``) in an instantiated rule's
    statements and results ``nodes``, in place (they are the instantiation's own copies), so that a case
    refused when the gradient runs is located like one refused at compile time. A message already located (a
    rule inlined in emitted code differentiated again) keeps its first location.

    >>> from adjoint_compiler import emit
    >>> from adjoint_compiler.errors import SourceLocation
    >>> node = trees.quote_expr('linalg_check(ok, "a singular matrix")')
    >>> locate([node], SourceLocation("model.py", 3, 11))
    >>> emit.to_source(node).strip()
    "linalg_check(ok, 'model.py:3:11: error: a singular matrix')"
    """
    if location is None:
        return
    for node in nodes:
        for n in trees.breadth_first(node):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "only_defaults":
                if not any(k.arg == "at" for k in n.keywords):  # (its message is its own: the place is given)
                    n.keywords.append(gast.keyword(arg="at", value=gast.Constant(value=str(location), kind=None)))
                continue
            if not (isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in _RUN_TIME_REFUSALS):
                continue
            k = _RUN_TIME_REFUSALS[n.func.id]
            what = n.args[k] if len(n.args) > k else None
            if isinstance(what, gast.Constant) and isinstance(what.value, str) and ": error: " not in what.value:
                n.args[k] = gast.Constant(value="%s: error: %s" % (location, what.value), kind=None)


_LOCATED = set(_RUN_TIME_REFUSALS) | {"only_defaults"}  # the helpers ``locate`` places


def located(t, inputs, nodes, location):
    """``locate(nodes, location)`` for an instance of template ``t`` made from the expressions ``inputs``
    (the operands and cotangent put in), skipping its walk where neither the rule nor an input (each a name
    or a constant) can hold a call it places."""
    if t.refuses_when_run or not all(isinstance(v, (gast.Name, gast.Constant)) for v in inputs):
        locate(nodes, location)


class NoDerivative(Exception):
    """A differentiated operand whose rule result is ``no_derivative(...)`` (``unavailable``); its message says
    which derivative."""


def bind(t, args, kwargs):
    """Map the rule's parameters to call operands (atoms); missing ones take the rule's defaults."""
    mapping = {}
    if len(args) > len(t.params):
        raise TooManyArguments(len(args), len(t.params))
    for p, a in zip(t.params, args):
        mapping[p] = a
    for k, v in kwargs.items():
        if k not in t.params:
            raise KeyError(k)
        mapping[k] = v
    for p in t.params:
        if p not in mapping:
            if p not in t.defaults:
                raise KeyError(p)
            mapping[p] = t.defaults[p]
    return mapping


def instantiate(t, g, ans, args, kwargs, namer, scalar=False, integers=frozenset()):
    """Return (statements, [(operand, cotangent expression)]) for one use of a rule.

    Only operands passed by the call appear in the list, and only those whose
    cotangent is not ``None``; ``scalar`` drops ``unbroadcast`` calls; ``integers`` are names
    known to hold ints (``_integer_ranges``).
    """
    mapping = bind(t, args, kwargs)
    operands = [(p, mapping[p]) for p in t.params if p in kwargs or t.params.index(p) < len(args)]
    mapping[t.g] = g
    mapping[t.ans] = ans
    for local in sorted(t.locals):
        mapping[local] = gast.Name(id=namer.fresh(naming.TEMP), ctx=gast.Load(), annotation=None, type_comment=None)
    stmts = []
    seen = {}
    for s in t.body:
        local = s.targets[0].id
        value = _instance(s.value, mapping, scalar, seen, integers)
        if _value(value) is not _UNKNOWN:  # decided at compile time: later uses read the literal
            mapping[local] = value
            continue
        stmts.append(
            gast.Assign(
                targets=[gast.Name(id=mapping[local].id, ctx=gast.Store(), annotation=None, type_comment=None)],
                value=value,
                type_comment=None,
            )
        )
    results = []
    for p, operand in operands:
        r = t.results[t.params.index(p)]
        if not (isinstance(r, gast.Constant) and r.value is None):
            results.append((operand, _instance(r, mapping, scalar, seen, integers)))
    return stmts, results


def _dependent(t):
    """The rule's locals that depend on its first parameter (``g``, or a tangent rule's ``dot``)."""
    if not hasattr(t, "dependent"):
        dependent = {t.g}
        for s in t.body:
            if any(isinstance(n, gast.Name) and n.id in dependent for n in trees.breadth_first(s.value)):
                dependent.add(s.targets[0].id)
        t.dependent = dependent - {t.g}
    return t.dependent


def instantiate_tangent(t, ans, args, kwargs, dots, namer, strip_unbroadcast=False, integers=frozenset()):
    """Return (statements, tangent expression or None) for one use of a rule whose result for each
    parameter is the value's tangent due to that parameter, its first parameter standing for that
    parameter's tangent: a tangent rule (``rule(dot, ans, *params)``, rules.registry), or the adjoint
    rule of an element-wise function with ``strip_unbroadcast`` (a diagonal Jacobian is its own
    transpose, less the sums that undo broadcasting).

    ``dots`` maps the position in ``args`` (or the keyword in ``kwargs``) of each differentiated operand
    to its tangent. The rule is instantiated once per differentiated operand whose result is not
    ``None``, with ``dot`` its tangent; the statements that do not depend on ``dot`` are computed once,
    those that no result needs not at all, and the results are summed in the order of the operands.

    >>> import numpy as np
    >>> from adjoint_compiler import emit, naming, trees
    >>> from adjoint_compiler.rules import registry
    >>> t = template(registry.lookup(np.arctan2))
    >>> y, x = trees.name("y"), trees.name("x")
    >>> dots = {0: trees.name("y_dot"), 1: trees.name("x_dot")}
    >>> stmts, value = instantiate_tangent(t, trees.name("r"), [y, x], {}, dots, naming.Namer(), True)
    >>> [emit.to_source(s).strip() for s in stmts], emit.to_source(value).strip()
    (['_t1 = x * x + y * y'], 'y_dot * x / _t1 + -x_dot * y / _t1')
    """
    mapping = bind(t, args, kwargs)
    mapping[t.ans] = ans
    active = []
    for i, p in enumerate(t.params):
        key = i if i < len(args) else p
        r = t.results[i]
        if key in dots and dots[key] is not None and not (isinstance(r, gast.Constant) and r.value is None):
            if unavailable(r):
                raise NoDerivative(unavailable(r))
            active.append((p, dots[key]))
    if not active:
        return [], None
    dependent = _dependent(t)
    placeholders = itertools.count()

    def placeholder():
        return gast.Name(id="\0%d" % next(placeholders), ctx=gast.Load(), annotation=None, type_comment=None)

    shared = dict(mapping)
    for local in t.locals - dependent:
        shared[local] = placeholder()
    per = []
    for _, d in active:
        own = dict(shared)
        own[t.g] = d
        for local in dependent:
            own[local] = placeholder()
        per.append(own)
    candidates = []  # (placeholder id, value), in the body's order
    seen = {}
    for s in t.body:
        local = s.targets[0].id
        for own in [shared] if local not in dependent else per:
            value = _instance(s.value, own, strip_unbroadcast, seen, integers)
            if _value(value) is not _UNKNOWN:  # decided at compile time: later uses read the literal
                for m in [shared] + per if own is shared else [own]:
                    m[local] = value
                continue
            candidates.append((own[local].id, value))
    results = []
    for (p, _), own in zip(active, per):
        results.append(_instance(t.results[t.params.index(p)], own, strip_unbroadcast, seen, integers))
    needed = {n.id for r in results for n in trees.breadth_first(r) if isinstance(n, gast.Name)}
    kept = []
    for target, value in reversed(candidates):
        if target in needed:
            kept.append((target, value))
            needed |= {n.id for n in trees.breadth_first(value) if isinstance(n, gast.Name)}
    kept.reverse()
    fresh = {
        target: gast.Name(id=namer.fresh(naming.TEMP), ctx=gast.Load(), annotation=None, type_comment=None)
        for target, _ in kept
    }
    stmts = [
        gast.Assign(
            targets=[gast.Name(id=fresh[target].id, ctx=gast.Store(), annotation=None, type_comment=None)],
            value=trees.substituted(value, fresh),
            type_comment=None,
        )
        for target, value in kept
    ]
    # a runtime helper's operands are cotangents, which may be dicts or lists (added_at's buffer): their
    # tangents add with add_bars, element by element, where + would fail or concatenate
    buffers = getattr(getattr(t.rule, "fn", None), "__module__", None) == "adjoint_compiler.runtime"
    total = None
    for r in results:
        r = trees.substituted(r, fresh)
        total = r if total is None else trees.call("add_bars", total, r) if buffers else _plus(total, r)
    return stmts, total


def _plus(a, b):
    """``a + b`` of two operands' tangents; element by element where both are tuples (the tangent of a
    pair, ``np.average(..., returned=True)``), which ``+`` would concatenate."""
    if isinstance(a, gast.Tuple) and isinstance(b, gast.Tuple) and len(a.elts) == len(b.elts):
        return gast.Tuple(elts=[_plus(x, y) for x, y in zip(a.elts, b.elts)], ctx=gast.Load())
    return gast.BinOp(left=a, op=gast.Add(), right=b)
