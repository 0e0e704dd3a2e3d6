"""The operation each assignment of A-normal form performs: its kind, the function, the operands.

Output invariant: ``classify(value, source, local)`` names every expression ``anf`` produces as an
``Op`` (call, method, copy, tuple, subscript, const, nondiff, index, store, append or other); the
function of a ``call`` is the object it is (``np.sin``, ``operator.mul`` for ``*``, a user function),
resolved at compile time, never by its spelling. ``differentiable(op)`` says whether derivatives
may flow through it: unknown operations count as differentiable, so that an active one reaches the
reverse pass and is reported there instead of silently getting a zero.

>>> import gast, operator
>>> op = classify(gast.parse("x * y", mode="eval").body, None, {"x", "y"})
>>> op.kind, op.fn is operator.mul, op.operand_names(), differentiable(op)
('call', True, ['x', 'y'], True)
"""

import inspect
import operator

import gast
import numpy as np

from adjoint_compiler import load, naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.rules import registry
from adjoint_compiler.errors import UnsupportedError


BINOPS = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
    gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
    gast.MatMult: np.matmul,
    gast.BitAnd: operator.and_,
    gast.BitOr: operator.or_,
    gast.BitXor: operator.xor,
    gast.LShift: operator.lshift,
    gast.RShift: operator.rshift,
}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_, gast.Invert: operator.invert}

# Functions whose result is a scalar whenever every argument is one.
ELEMENTWISE = {
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.pow,
    operator.mod,
    operator.neg,
    operator.pos,
}


class Op:
    """One operation ``name = fn(*args, **kwargs)``.

    ``kind`` is one of: call (a function or operator with a rule), method (a call of an attribute of
    a local), copy (``y = x``), tuple (a tuple, list or dict display), subscript (``a[i]``, ``d.get(k)``),
    const (a constant or global read), nondiff (comparisons, formatting, compiler bookkeeping),
    index (a loop index), store (``a[i] = v``, an update of ``a``), append (``xs.append(v)``), or
    other (anything else: an attribute of a local that is not a known array attribute).
    """

    __slots__ = ("kind", "fn", "args", "kwargs", "node", "routed")

    def __init__(self, kind, fn=None, args=(), kwargs=None, node=None, routed=()):
        self.kind = kind
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs or {})
        self.node = node
        # names the call reads whose derivative reaches it through other operands: the frozen distribution d of
        # d.logpdf(x), differentiated as norm.logpdf(x, loc, scale) in the loc and scale d was made with
        self.routed = tuple(routed)

    def operand_names(self):
        """The names derivatives can flow to (a subscript's or a store's index is not one)."""
        kind, Name = self.kind, gast.Name  # (asked of every operation in each round of activity's analyses)
        names = [a.id for a in (self.args[:1] if kind == "subscript" else self.args) if isinstance(a, Name)]
        if self.kwargs and kind != "store":
            names += [a.id for a in self.kwargs.values() if isinstance(a, Name)]
        return names


PULLBACK_CALLS = "calls of the pullbacks of its callees (closures made at run time)"  # in emitted gradient code


def _text(node, source, local):
    """Whether ``node`` is certainly a str or bytes: a constant, a global (not a local) bound to one, or a
    local every assignment of which (as a plain name) is one."""
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (str, bytes))
    if not isinstance(node, gast.Name) or source is None:
        return False
    if node.id not in local:
        return isinstance(source.env.get(node.id), (str, bytes))
    if any(
        isinstance(n, gast.Name) and n.id == node.id and isinstance(n.ctx, gast.Param) for n in trees.walk(source.tree)
    ):
        # a parameter: whatever the caller passes; text where this compilation is for a str argument there
        # (api._compiled) and the function never rebinds it
        kind = getattr(source, "structure", {}).get(node.id, (None, None))[0]
        return kind == "str" and not any(m.id == node.id for m in _stores(source.tree))
    values = []
    for n in trees.walk(source.tree):
        if isinstance(n, gast.Assign) and any(isinstance(t, gast.Name) and t.id == node.id for t in n.targets):
            values.append(n.value)
    stored = sum(1 for m in _stores(source.tree) if m.id == node.id)
    return bool(values) and stored == len(values) and all(_text(v, None, local) for v in values)


def classify(value, source, local):
    """The Op computing expression ``value`` (in A-normal form)."""
    if isinstance(value, gast.Constant):
        return Op("const", node=value)
    if isinstance(value, gast.Name):
        return Op("copy", args=[value], node=value) if value.id in local else Op("const", node=value)
    if isinstance(value, gast.Attribute) and not trees.rooted_in(value, local):
        return Op("const", node=value)
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, gast.Mod) and _text(value.left, source, local):
            return Op("nondiff", node=value)  # "%.2f" % x: formatting, text, no derivative (not a remainder)
        return Op("call", BINOPS[type(value.op)], [value.left, value.right], node=value)
    if isinstance(value, gast.UnaryOp):
        return Op("call", UNARYOPS[type(value.op)], [value.operand], node=value)
    if isinstance(value, gast.Call):
        if isinstance(value.func, gast.Name) and value.func.id in local:
            name = value.func.id
            params = {a.id for a in source.tree.args.args} if source is not None else set()
            hint = "call the function by the global name it has"
            made = _object_made_in_a_call(source) if naming.is_temp(name) else None
            if made is not None:  # shift(np.sin(x), Scale(x)) not at the start of its statement
                what = "a call of the object %s, made in the arguments of a call after something else runs" % (
                    trees.unparse(made)
                )
                hint = "make it in a statement of its own first (s = %s)" % trees.unparse(made)
                raise UnsupportedError(what, source.location(made), hint)
            as_method = _as_call_method(value)
            maker = _made_here(as_method.func, source)
            called = _method_of_made(as_method, maker, source, local)
            if called is not None:  # p(x) of p = np.polynomial.Polynomial(c): as p.__call__(x), a frozen method
                called.node = value
                return called
            if maker is not None and registry.method_of_made(
                source_mod.global_value(maker.func, source, set()), "__call__"
            ):
                what = "a call of '%s', made by %s of values that may change before the call (in a loop)" % (
                    source.spelled(name),
                    trees.unparse(maker.func).strip(),
                )
                hint = "call it where it is made (%s(...)(x))" % trees.unparse(maker.func).strip()
                raise UnsupportedError(what, _call_location(value, source), hint)
            if naming.is_temp(name):
                what = "a call of a function value made at run time (f(...)(x))"
            elif name in params and not any(isinstance(n, gast.Name) and n.id == name for n in _stores(source.tree)):
                what = "a call of the parameter '%s' (a function passed in when the derivative runs)" % name
                hint += ", or pass the function to ac.grad, ac.vjp or ac.jvp, which compile a variant for it"
            elif source is not None and load.made_by_compiler(source.location(value)) and name.endswith("_pullback"):
                # (y_pullback from y, h_vjp(a): emitted gradient code differentiated again names no variable of
                # the user's; a caller reports it at the user's call, reverse/calls._refuse_in_emitted_code)
                what = PULLBACK_CALLS
            else:
                shown = source.spelled(name) if source is not None else name  # step_2: the user's step
                what = "a call of the local variable '%s' (a function chosen at run time)" % shown
            raise UnsupportedError(what, _call_location(value, source), hint)
        if (
            isinstance(value.func, gast.Attribute)
            and isinstance(value.func.value, gast.Constant)
            and isinstance(value.func.value.value, (str, bytes))
        ):
            return Op("nondiff", node=value)  # "a,b".split(","), "{}".format(x): text, no derivative
        if trees.rooted_in(value.func, local):
            # the receiver is the first operand: x.sum() depends on x, as np.sum(x)
            args = [value.func.value] + value.args
            kwargs = {k.arg: k.value for k in value.keywords}
            if value.func.attr == "get" and len(value.args) == 1 and not value.keywords:
                return Op("subscript", args=[value.func.value, value.args[0]], node=value)  # d.get(k), as d[k]
            fn = registry.method_function(value.func.attr) if isinstance(value.func.value, gast.Name) else None
            made = _method_of_made(value, _made_here(value.func, source), source, local)
            if made is not None:  # rng = np.random.default_rng(seed); rng.normal(mu, sigma): the class's draw
                return made
            if fn is None:
                return Op("method", value.func, args, kwargs, node=value)
            fn = registry.call_form(fn, len(args), kwargs)  # x.sum(initial=c) as np.sum(x, initial=c): sum_from
            if value.func.attr == "reshape":
                args = args[:1]  # the new shape, however spelled, is not differentiated
            elif value.func.attr == "transpose" and len(args) > 2:
                args = [args[0], gast.Tuple(elts=args[1:], ctx=gast.Load())]  # x.transpose(1, 0)
            return Op("call", fn, args, kwargs, node=value)
        if (
            isinstance(value.func, gast.Name)
            and value.func.id in runtime.HELPERS
            and (source is None or value.func.id not in source.env)
        ):
            return Op("nondiff", node=value)  # bookkeeping the compiler itself inserted (overlap_copy)
        if isinstance(value.func, gast.Call):
            made = _method_of_made(_as_call_method(value), value.func, source, local)
            if made is not None:  # np.polynomial.Polynomial(c)(x) (anf keeps it)
                made.node = value
                return made
        if isinstance(value.func, gast.Attribute) and isinstance(value.func.value, gast.Call):
            made = _method_of_made(value, value.func.value, source, local)
            if made is not None:  # np.random.default_rng(seed).normal(mu), norm(loc, scale).logpdf(x) (anf keeps them)
                return made
        fn = source_mod.static_value(value.func, source)
        fn = registry.call_form(fn, len(value.args), [k.arg for k in value.keywords])  # max(xs): max_of
        return Op("call", fn, value.args, {k.arg: k.value for k in value.keywords}, node=value)
    if isinstance(value, (gast.Tuple, gast.List)):
        return Op("tuple", args=value.elts, node=value)
    if isinstance(value, gast.Dict):
        return Op("tuple", args=value.values, kwargs=dict(zip(range(len(value.keys)), value.keys)), node=value)
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and value.value.id in local:
        return Op("subscript", args=[value.value, value.slice], node=value)
    if isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) and value.value.id in local:
        fn = registry.attribute_function(value.attr)
        if fn is None:
            return Op("nondiff" if registry.is_nondifferentiable_attribute(value.attr) else "other", node=value)
        return Op("call", fn, [value.value], node=value)
    if isinstance(value, (gast.Compare, gast.JoinedStr)):
        return Op("nondiff", node=value)
    return Op("other", node=value)


def _as_call_method(call):
    """``f(...)`` as ``f.__call__(...)``: a call of an object, for ``_method_of_made`` (its func's value ``f``)."""
    method = gast.Attribute(value=call.func, attr="__call__", ctx=gast.Load())
    return gast.Call(func=method, args=call.args, keywords=call.keywords)


def _made_here(func, source):
    """The call ``C(...)`` that made the local ``obj`` of a method call ``obj.m(...)``, where the user's function
    assigns ``obj`` exactly once, as ``obj = C(...)``, and ``obj`` is no parameter; otherwise None."""
    if source is None or not isinstance(func.value, gast.Name):
        return None
    name = func.value.id
    params = [n for n in trees.walk(source.tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Param)]
    if any(n.id == name for n in params) or sum(1 for n in _stores(source.tree) if n.id == name) != 1:
        return None
    for n in trees.walk(source.tree):
        if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name):
            if n.targets[0].id == name and isinstance(n.value, gast.Call):
                return n.value
    return None


def _loop_holding(call, source):
    """The innermost ``for`` or ``while`` of the user's function whose body holds the node ``call``, or None."""
    found = []

    def visit(node, loops):
        if node is call:
            found.append(loops[-1] if loops else None)
            return
        inner = loops + [node] if isinstance(node, (gast.For, gast.While)) else loops
        for child in gast.iter_child_nodes(node):
            visit(child, inner)

    visit(source.tree, [])
    return found[0] if found else None


def _fixed(node, source, local):
    """Whether ``node`` (an argument of the call making an object) means the same wherever the object is used: a
    constant, or a name with one definition in the function (a parameter never assigned, or a local assigned
    once), which SSA keeps under its own name (in ``local``)."""
    if isinstance(node, gast.Constant):
        return True
    if not (isinstance(node, gast.Name) and node.id in local):
        return False
    params = {n.id for n in trees.walk(source.tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Param)}
    return (node.id in params) + sum(1 for n in _stores(source.tree) if n.id == node.id) == 1


def _method_of_made(value, made, source, local):
    """The Op of ``value``, a call of a method of the object that the call ``made`` makes, where registry.method_of_made
    knows it: a draw of a generator (its own arguments), or a frozen distribution's method (its arguments, then the
    distribution's: ``norm(loc, scale).logpdf(x)`` as ``norm.logpdf(x, loc, scale)``); else None."""
    if made is None or any(k.arg is None for k in made.keywords) or any(isinstance(a, gast.Starred) for a in made.args):
        return None
    maker = source_mod.global_value(made.func, source, local if made is value.func.value else set())
    found = registry.method_of_made(maker, value.func.attr)
    if found is None:
        return None
    fn, frozen = found
    kwargs = {k.arg: k.value for k in value.keywords}
    if not frozen:
        return Op("call", fn, value.args, kwargs, node=value)
    made_kwargs = {k.arg: k.value for k in made.keywords}
    if made is not value.func.value and not all(_fixed(a, source, local) for a in [*made.args, *made_kwargs.values()]):
        return None  # d = norm(mu, s) with mu assigned again before d.logpdf(x): not the value d was made with
    loop = _loop_holding(made, source) if made is not value.func.value else None
    if loop is not None and any(
        isinstance(a, gast.Name) and any(n.id == a.id for n in _stores(loop))
        for a in [*made.args, *made_kwargs.values()]
    ):
        return None  # d = norm(m, s) in a loop over m: a use of d before it is made again would see the last m
    if set(made_kwargs) & set(kwargs):
        return None
    args = list(value.args) + [trees.clone(a) for a in made.args]
    routed = [value.func.value.id] if isinstance(value.func.value, gast.Name) else []
    kwargs.update((k, trees.clone(v)) for k, v in made_kwargs.items())
    return Op("call", fn, args, kwargs, node=value, routed=routed)


def frozen_hint(func, source):
    """What to write instead of ``d.m(...)``, a method of a scipy.stats distribution ``d = norm(...)`` made from
    values ``_method_of_made`` cannot follow (not names assigned once, outside a loop assigning them), or None."""
    made = _made_here(func, source)
    if made is None:
        return None
    maker = source_mod.global_value(made.func, source, set())
    if registry.method_of_made(maker, func.attr) is None:
        return None
    name = trees.unparse(made.func).strip()
    return (
        "%s was made from values other than names assigned once (outside a loop that assigns them): call %s.%s(x, "
        "its parameters...) directly, or name its parameters first" % (func.value.id, name, func.attr)
    )


def _stores(tree):
    return (n for n in trees.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))


def _object_made_in_a_call(source):
    """The first ``C(...)`` of a user class with ``__call__`` written as an argument of a call in the user's
    function (``shift(np.sin(x), Scale(x))``): a temporary it became is what a call of a value calls."""
    if source is None:
        return None
    local = trees.local_names(source.tree)
    for node in trees.walk(source.tree):
        if isinstance(node, gast.Call):
            for arg in node.args + [k.value for k in node.keywords]:
                arg = arg.value if isinstance(arg, gast.Starred) else arg
                if isinstance(arg, gast.Call) and getattr(arg, "lineno", None) is not None:
                    cls = source_mod.global_value(arg.func, source, local)
                    if inspect.isclass(cls) and inspect.isfunction(inspect.getattr_static(cls, "__call__", None)):
                        return arg
    return None


def _call_location(call, source):
    """Where the user wrote ``call`` of a local (a copy made by a lowering may have lost its place: then the
    first call of that variable in the user's lowered tree)."""
    if source is None:
        return None
    if getattr(call, "lineno", None) is None:
        names = (call.func.id, naming.family(call.func.id)[0])
        temp = naming.is_temp(names[1])  # a value made at run time: a call of a call, or of an element
        found = [
            node
            for node in trees.walk(source.tree)
            if isinstance(node, gast.Call)
            and (
                not isinstance(node.func, (gast.Name, gast.Attribute))
                if temp
                else isinstance(node.func, gast.Name) and node.func.id in names
            )
        ]
        found = [n for n in found if getattr(n, "lineno", None) is not None]
        if found:
            return source.location(min(found, key=lambda n: (n.lineno, n.col_offset)))
    return source.location(call)


def differentiable(op):
    """Whether derivatives may flow through ``op``.

    Unknown operations (method calls, functions without a rule) count as
    differentiable, so that an active one reaches reverse and is reported
    there, never silently given a zero gradient.
    """
    if op.kind in ("const", "nondiff", "index"):
        return False
    if op.kind == "subscript":  # the element depends on the sequence, not on the index
        return True
    if op.kind == "call":  # (a linear bookkeeping helper carries a tangent: runtime_rules.py)
        return not rules.is_nondifferentiable(op.fn) or registry.linearity(op.fn) is not None
    return True


_LITERALS = (bool, int, float, complex, str, type(None))


def keyword_variant(op, bound, location):
    """For a call of a user function taking ``**kwargs``, the same call of the variant of that function compiled
    for this call's keywords (``source.variant``: every parameter positional, the values of ``*args`` one by
    one, one parameter ``kw_key`` per keyword), as the API compiles the differentiated function itself; None
    for a function without ``**kwargs``. ``bound`` binds ``op``'s operands to the function's signature. A
    default the call leaves out is passed (a constant) or bound (any other value); a bound method keeps its
    ``self`` bound.
    The keywords of a call are known at compile time: ``h(x, a=y)`` calls ``h_a(x, y)``.

    >>> def h(x, *rest, **kw):
    ...     return x * rest[0] * kw["a"]
    >>> nodes = [gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None) for n in "xyz"]
    >>> op = Op("call", h, nodes[:2], {"a": nodes[2]})
    >>> made = keyword_variant(op, inspect.signature(h, follow_wrapped=False).bind(*op.args, **op.kwargs), None)
    >>> made.fn.__name__, [a.id for a in made.args], list(inspect.signature(made.fn).parameters)
    ('h_1_a', ['x', 'y', 'z'], ['x', 'rest_0', 'kw_a'])
    """
    params = list(inspect.signature(op.fn, follow_wrapped=False).parameters.values())
    kwstar = next((p for p in params if p.kind is p.VAR_KEYWORD), None)
    if kwstar is None:
        return None
    base = getattr(op.fn, source_mod.VARIANT, None)  # a bound method's: its target, self bound
    target, bindings, fields = (base[0], dict(base[1]), base[5]) if base is not None else (op.fn, {}, None)
    star = next((p for p in params if p.kind is p.VAR_POSITIONAL), None)
    extra = tuple(bound.arguments.get(star.name, ())) if star is not None else ()
    given = bound.arguments.get(kwstar.name, {})
    keys = tuple(given)
    args = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            args += extra
        elif p.kind is p.VAR_KEYWORD:
            args += [given[k] for k in keys]
        elif p.name in bound.arguments:
            args.append(bound.arguments[p.name])
        elif isinstance(p.default, _LITERALS):
            args.append(trees.const(p.default))
        else:  # (an array, a function: bound as a global of the variant)
            bindings[p.name] = p.default
    name = op.fn.__name__ if op.fn.__name__.isidentifier() else "function"
    name = naming.SPECIALISED.format(name, len(extra)) if star is not None else name
    name = "_".join((name,) + keys) if keys else naming.SPECIALISED.format(name, "none")
    made = source_mod.variant(op.fn, target, bindings, spread=len(extra), keys=keys, name=name, fields=fields)
    return Op(op.kind, made, args, {}, op.node)
