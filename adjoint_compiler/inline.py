"""Inline calls of one-expression functions (``def rhs(p, v): return v, -k * p``, or a lambda).

Cheaper than a call of the helper's vjp and its pullback, and as readable.
A helper qualifies when its callee resolves at compile time to a Python
function without a rule or a non-differentiable declaration, whose body is one ``return <expression>``, with no
``*args``, ``**kwargs`` or keyword-only parameters and only constants as
defaults, and whose expression has no lambda, comprehension, ``:=`` or ``*``/``**`` argument and
reads only globals that mean the same in the caller.

Output invariant: each call of such a helper, in a place ``anf`` evaluates,
is an applied lambda ``(lambda <params>: <expression>)(<args>)``: arguments
that are atoms (names, constants) and defaults are substituted into the
expression already; the others stay arguments, which ``anf`` evaluates once
each, in the order of the call, and substitutes in turn. The parameters are
named after the helper's, renamed where that name is taken in the
expression. Calls inside the helper are inlined the same way, nine levels
deep at most. The places ``anf`` keeps whole keep their calls: the tests of
``if``, ``while`` and conditional expressions, ``assert`` statements,
f-strings, and the ``checkpointed(...)`` around a loop's range.

>>> from adjoint_compiler import anf, emit, source
>>> def scale(v, w=2.0):
...     return w * v * v + 1
>>> def f(x, y):
...     return scale(x) + scale(x * y)
>>> src = source.read(f)
>>> fn = run(src.tree, src)
>>> print(emit.to_source(fn).strip())
def f(x, y):
    return (lambda: 2.0 * x * x + 1)() + (lambda v: 2.0 * v * v + 1)(x * y)
>>> print(emit.to_source(anf.run(fn, src)).strip())
def f(x, y):
    _t1 = 2.0 * x
    _t2 = _t1 * x
    _t3 = _t2 + 1
    _t4 = x * y
    _t5 = 2.0 * _t4
    _t6 = _t5 * _t4
    _t7 = _t6 + 1
    _t8 = _t3 + _t7
    return _t8
"""

import inspect
import weakref

import gast
import numpy as np

from adjoint_compiler import naming, rules, runtime, trees
from adjoint_compiler import source as source_mod

_MAX_DEPTH = 8  # helpers called from helpers are inlined this many levels deep, and one more
_CACHE = weakref.WeakKeyDictionary()  # function -> (its Source, its one expression), or None
_MISSING = object()


def run(fn, source, copy=True):
    """Return a new FunctionDef with calls of one-expression functions inlined; ``fn`` is not modified (with
    ``copy=False`` its statements may be: the pipeline, which does not keep them, saves the copy)."""
    body = trees.clone(fn.body) if copy else list(fn.body)
    if source is not None:
        _Inliner(source, trees.local_names(fn)).block(body)
    return trees.with_body(fn, body)


def _expression(fn):
    """``(source, expression)`` of a function whose body is one ``return <expression>``, else None."""
    if fn not in _CACHE:
        _CACHE[fn] = None
        try:
            src = source_mod.read(fn)
        except Exception:
            return None
        body = [s for s in src.tree.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
        if (
            len(body) == 1
            and not (src.variant is not None and src.variant[5])  # (its field reads indexed once specialised)
            and isinstance(body[0], gast.Return)
            and body[0].value is not None
            and not src.tree.args.kwonlyargs
            and src.tree.args.vararg is None
        ):
            _CACHE[fn] = (src, body[0].value)
    return _CACHE[fn]


class _Inliner:
    def __init__(self, source, local_names):
        self.source = source
        self.locals = local_names
        self.holes = 0  # placeholder names for arguments anf will evaluate

    def block(self, stmts):
        """Inline in ``stmts`` (copies: changed in place)."""
        for stmt in stmts:
            if isinstance(stmt, (gast.Assign, gast.AnnAssign, gast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
                for target in targets:
                    inner = []
                    while isinstance(target, gast.Subscript):  # a[i][j] = v: every index, the inner first
                        inner.append(target)
                        target = target.value
                    for part in reversed(inner):
                        part.slice = self.expr(part.slice, 0)
                if stmt.value is not None:
                    stmt.value = self.expr(stmt.value, 0)
            elif isinstance(stmt, (gast.Return, gast.Expr)) and stmt.value is not None:
                stmt.value = self.expr(stmt.value, 0)
            elif isinstance(stmt, gast.For):
                stmt.iter = self.loop_iter(stmt.iter)
                self.block(stmt.body)
            elif isinstance(stmt, (gast.If, gast.While)):
                self.block(stmt.body)  # the test is kept whole
                self.block(stmt.orelse)

    def loop_iter(self, it):
        if (
            isinstance(it, gast.Call)
            and it.args
            and source_mod.global_value(it.func, self.source, self.locals) is runtime.checkpointed
        ):
            # the marker stays for anf: only its arguments are evaluated
            it.args = [self.expr(a, 0) for a in it.args]
            for k in it.keywords:
                k.value = self.expr(k.value, 0)
            return it
        return self.expr(it, 0)

    def expr(self, node, depth):
        """``node`` with the calls anf evaluates inlined (``node`` is a copy: changed in place)."""
        if isinstance(node, (gast.Constant, gast.JoinedStr)) or trees.is_atom(node, self.locals):
            return node
        if isinstance(node, gast.IfExp):
            node.body = self.expr(node.body, depth)  # the test is kept whole
            node.orelse = self.expr(node.orelse, depth)
            return node
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, self.expr(value, depth))
            elif isinstance(value, list):
                value[:] = [self.expr(v, depth) if isinstance(v, gast.AST) else v for v in value]
        if isinstance(node, gast.Call):
            return self.inline(node, depth) or node
        return node

    def inline(self, call, depth):
        """An immediately applied lambda in place of ``call``, or None where it cannot be inlined."""
        func = call.func
        if depth > _MAX_DEPTH or not isinstance(func, (gast.Name, gast.Attribute)):
            return None
        if (
            isinstance(func, gast.Attribute)
            and not trees.is_atom(func, self.locals)
            and not trees.is_atom(func.value, self.locals)
        ):
            return None  # x.y.method(): anf evaluates x.y into a temporary, which does not resolve
        try:
            fn = source_mod.static_value(func, self.source)
        except Exception:
            return None
        if not inspect.isfunction(fn) or rules.lookup(fn) is not None or fn.__code__.co_flags & 0x0C:
            return None  # 0x0C: *args or **kwargs
        if rules.is_nondifferentiable(fn):
            return None  # declared without derivative (a runtime helper of positions): its body is not followed
        entry = _expression(fn)
        if entry is None:
            return None
        src, expr = entry
        params = [a.id for a in src.tree.args.args]
        for n in trees.breadth_first(expr):
            if isinstance(
                n,
                (
                    gast.Lambda,
                    gast.ListComp,
                    gast.GeneratorExp,
                    gast.DictComp,
                    gast.SetComp,
                    gast.NamedExpr,
                    gast.Yield,
                    gast.Await,
                    gast.Starred,  # (a call spreading values: specialise.spread_calls, not run on this body)
                ),
            ):
                return None
            if isinstance(n, gast.keyword) and n.arg is None:  # f(**kw), likewise
                return None
            if (
                isinstance(n, gast.Call)
                and isinstance(n.func, gast.Name)
                and inspect.isgeneratorfunction(src.env.get(n.func.id))
            ):
                return None  # sum(gen(t)): the helper's own desugar inlines the generator's body where it is consumed
            if isinstance(n, gast.Call) and isinstance(n.func, (gast.Call, gast.Subscript)):
                # ac.jvp(h)(x, t), make(k)(x), ACTS[name](x): specialise (nested_gradients, callables) and
                # resolve read such calls in the helper's own source, not here; inlined, they would be calls of
                # values made at run time
                return None
            if isinstance(n, gast.Name) and n.id not in params:
                if n.id in self.locals or src.env.get(n.id, _MISSING) is not self.source.env.get(n.id, _MISSING):
                    return None  # a name that means something else here
        values = call.args + [k.value for k in call.keywords]
        if any(
            hasattr(source_mod.global_value(v, self.source, self.locals), source_mod.TRANSFORM_MARK) for v in values
        ):
            return None  # ac.grad(h) passed on: the helper's variant makes its calls calls of h's gradient code
        try:
            bound = inspect.signature(fn, follow_wrapped=False).bind(
                *call.args, **{k.arg: k.value for k in call.keywords}
            )
        except TypeError:
            return None
        mapping = dict(bound.arguments)
        defaults = dict(zip(params[len(params) - len(src.tree.args.defaults) :], src.tree.args.defaults))
        for p in params:
            if p not in mapping:
                if not isinstance(defaults.get(p), gast.Constant):
                    return None
                mapping[p] = defaults[p]
        # arguments anf evaluates into temporaries become the lambda's parameters: placeholders
        # for now, which (like those temporaries) name nothing that could be inlined
        param_of = {id(v): p for p, v in bound.arguments.items()}
        holes = []
        for v in values:
            if not trees.is_atom(v, self.locals):
                self.holes += 1
                hole = "\0%d" % self.holes
                holes.append((hole, param_of[id(v)], v))
                mapping[param_of[id(v)]] = trees.name(hole)
        if isinstance(expr, gast.Name) and expr.id in mapping:  # (a helper returning its parameter: identity)
            inlined = trees.clone(mapping[expr.id])
        else:
            inlined = trees.substitute(trees.clone(expr), mapping)
        for n in trees.walk(inlined):
            gast.copy_location(n, call)  # errors point at the call, in the caller's file
            if isinstance(n, gast.Call) and any(k.arg == "out" and _none(k.value) for k in n.keywords):
                if _numpy(source_mod.global_value(n.func, self.source, self.locals)):
                    # act(x) of def act(x, out=None): return np.tanh(x, out=out), NumPy's default (desugar
                    # drops one written in the function; this one is there once the helper's None is)
                    n.keywords = [k for k in n.keywords if not (k.arg == "out" and _none(k.value))]
        return self.redex(self.expr(inlined, depth + 1), holes, call)

    def redex(self, body, holes, call):
        """``(lambda p, ...: body)(arg, ...)``, the placeholders renamed to parameter names free in ``body``."""
        namer = naming.Namer(trees.all_names(body) - {hole for hole, _, _ in holes})
        renamed = {hole: namer.unique(param) for hole, param, _ in holes}
        trees.rename([body], renamed)
        params = [
            gast.Name(id=renamed[hole], ctx=gast.Param(), annotation=None, type_comment=None) for hole, _, _ in holes
        ]
        args = gast.arguments(
            args=params, posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
        )
        lam = gast.copy_location(gast.Lambda(args=args, body=body), call)
        return gast.copy_location(gast.Call(func=lam, args=[v for _, _, v in holes], keywords=[]), call)


def _none(node):
    return isinstance(node, gast.Constant) and node.value is None


def _numpy(fn):
    """Whether ``fn`` is a NumPy function or ufunc (whose ``out=None`` is its default)."""
    return isinstance(fn, np.ufunc) or callable(fn) and (getattr(fn, "__module__", None) or "").startswith("numpy")
