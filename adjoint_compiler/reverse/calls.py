"""Adjoints of calls ``y = f(a, b)``: an inlined rule, a registered adjoint, or a user function's pullback.

A library function's adjoint rule is inlined with fresh names (its scalar,
masked or ranked variant where it has one and it applies), and each active
operand's contribution accumulates into that operand's adjoint (``x * x``: both
of x's in one). A user-registered adjoint is called, not inlined, and its
result unpacked: ``a_bar, b_bar = rule(y_bar, y, a, b)`` (for one argument
``a_bar = rule(y_bar, y, a)``). Any other Python function is compiled to a vjp
of its own (by ``callee``: once per function, per function passed to it as an
argument and per count of ``*args`` values): ``y, y_pullback = f_vjp(a, b)``
replaces the call in the forward sweep, and the adjoint sweep unpacks
``y_pullback(y_bar)`` the same way. A function with neither a rule nor Python
source is refused with a ``register_adjoint`` stub to fill in.

Invariant: only the library's rules are inlined. Adjoint code the user wrote
(a registered adjoint) or that was compiled from the user's function (its
pullback) is called; either gives one cotangent per argument it was passed, in
order, and only those of active operands are accumulated.

>>> import numpy as np
>>> import adjoint_compiler as ac
>>> from adjoint_compiler import activity, emit, naming, normalize, reverse, source, ssa
>>> def soft(v):
...     return v / (1.0 + abs(v))
>>> @ac.register_adjoint(soft)
... def soft_adjoint(g, ans, v):
...     return g * (1.0 - abs(ans)) ** 2
>>> def h(a, b):
...     c = a * b
...     return c + b
>>> def f(x, y):
...     z = h(x, y)
...     return np.sin(z) * soft(y)
>>> src = source.read(f)
>>> fn = ssa.run(normalize.run(src.tree, src), src)
>>> act = activity.run(fn, src, ["x", "y"], ["x", "y"], True)
>>> def callee(function, static):  # the pipeline compiles h here; its vjp is called h_vjp
...     return naming.VJP_FN.format(function.__name__)
>>> print(emit.to_source(reverse.run(fn, src, act, ["x", "y"], "grad", callee).function).strip())  # doctest: +ELLIPSIS
def f_grad(x, y):
    # forward sweep
    z, z_pullback = h_vjp(x, y)
    _t1 = np.sin(z)
    _t2 = soft(y)
    _t3 = _t1 * _t2
    # adjoint sweep
    check_scalar(_t3)
    # return np.sin(z) * soft(y)
    _t1_bar = 1.0 * _t2
    _t2_bar = 1.0 * _t1
    y_bar = rule_cotangents(soft_adjoint(_t2_bar, _t2, y), (y,), 'soft_adjoint', '<doctest ...', 3, 5)
    z_bar = _t1_bar * np.cos(z)
    # z = h(x, y)
    x_bar, _t4 = z_pullback(z_bar)
    y_bar = y_bar + _t4
    return (_t3, (x_bar, y_bar))
"""

import inspect

import gast

from adjoint_compiler import load, naming, objects, ops, refusals, rules, runtime, templates, trees
from adjoint_compiler.rules import registry
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import CompileError, UnsupportedError
from adjoint_compiler.reverse import shapes


_name = trees.name


def _written(node):
    """The dotted name a call was written with (``np.linalg.norm``), or None."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return ".".join([node.id] + parts[::-1])


def _label(op):
    """The called function as the user wrote it (np.abs), else its name."""
    return _written(getattr(op.node, "func", None)) or _fn_label(op.fn)


def _fn_label(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def adjoint_call(r, stmt, name, op, g, out):
    """The adjoint of ``name = f(*args)`` given its cotangent ``g``."""
    act = r.act
    rule = rules.lookup(op.fn)
    if rule is None and rules.is_nondifferentiable(op.fn) and registry.linearity(op.fn) is not None:
        # stored(g, i, v) in an emitted gradient differentiated again: linear in a cotangent buffer that the
        # gradient updates in place, which reverse mode does not follow (forward mode does)
        raise UnsupportedError(
            "reverse mode through the cotangent of a store into a list or array (a[i] = v, xs.append(v)), which "
            "the gradient code updates in place",
            r.location(stmt),
        )
    if rule is None and rules.is_nondifferentiable(op.fn):
        return  # zeros_like(x) in an emitted gradient differentiated again: no derivative flows through it
    if rule is None and inspect.isfunction(op.fn) and r.callee is not None:
        call_user_function(r, stmt, name, op, g, out)
        return
    if rule is None and isinstance(op.fn, type) and objects.note(r.source, name):
        raise UnsupportedError(
            "an object of %s made with differentiated values" % op.fn.__qualname__,
            r.location(stmt),
            objects.note(r.source, name),
        )
    if rule is None and isinstance(op.fn, type) and objects.users_class(op.fn):
        raise UnsupportedError(  # (its source is there: the object is used as a value of its own)
            "an object of %s made with differentiated values and used other than through its attributes, methods "
            "and the user's functions (unpacked, iterated, returned or put in a container)" % op.fn.__qualname__,
            r.location(stmt),
            "read its attributes (v.a, v.b), or make it a dataclass or NamedTuple",
        )
    if rule is None and inspect.isfunction(getattr(op.fn, "__wrapped__", None)) and hasattr(op.fn, "cache_info"):
        label = _written(getattr(op.node, "func", None)) or _fn_label(op.fn)
        raise UnsupportedError(  # (its source is there: compiling it would drop the cache, a cached value is wrong)
            "a call of %s, a function cached by functools.lru_cache or cache (a value it cached at other inputs "
            "has no derivative at these)" % label,
            r.location(stmt),
            "differentiate a function calling the undecorated one (%s.__wrapped__), or do without the cache" % label,
        )
    if rule is None:
        label = _written(getattr(op.node, "func", None)) or _fn_label(op.fn)
        raise CompileError(
            "no adjoint for %s and no Python source to differentiate; register one:\n"
            "    @adjoint_compiler.register_adjoint(%s)\n"
            "    def %s_adjoint(g, ans, *args):\n"
            "        return ...  # one cotangent per argument" % (label, label, label.split(".")[-1]),
            r.location(stmt),
        )
    if not rule.inline:
        registry.applied(op.fn, rule, lambda: (_label(op), r.location(stmt)))
        call_user_rule(r, stmt, rule, name, op, g, out)
        return
    scalar = name in act.scalars and all(
        trees.is_number(a) or (isinstance(a, gast.Name) and a.id in act.scalars) for a in op.args
    )
    if scalar and rule.scalar_rule:
        rule = rule.scalar_rule
    elif rule.masked_rule and name in act.where_fed:
        rule = rule.masked_rule
    rule = shapes.ranked(rule, op, r.ranks)  # operands of known ranks: the textbook formula for them
    if rule.complex_ok or not source_mod.COMPLEX_SEEN.seen:
        registry.applied(op.fn, rule, lambda: (_label(op), r.location(stmt)))
    else:  # code making complex values: a rule for real numbers takes real operands, and its result's real part
        g = _real_cotangent(r, stmt, op, g, out)
    t = templates.template(rule)
    try:
        stmts, results = templates.instantiate(t, g, _name(name), op.args, op.kwargs, r.namer, scalar, act.integers)
    except templates.Refused as e:  # a case the rule does not cover (a reduction's initial=, say)
        raise UnsupportedError("%s: %s" % (_fn_label(op.fn), e.args[0]), r.location(stmt)) from None
    except KeyError as e:
        raise UnsupportedError(
            "%s with an argument its derivative rule does not take, or without one it needs (%s)"
            % (_fn_label(op.fn), e.args[0]),
            r.location(stmt),
        ) from None
    except templates.TooManyArguments as e:
        raise UnsupportedError(e.message(_fn_label(op.fn)), r.location(stmt), e.hint(op.fn))
    for operand, contribution in results:
        if isinstance(operand, gast.Name) and operand.id in act.active and templates.unavailable(contribution):
            hint = "hold that argument constant (leave it out of wrt)"
            raise UnsupportedError(templates.unavailable(contribution), r.location(stmt), hint)
    inputs = [g] + list(op.args) + list(op.kwargs.values())
    templates.located(t, inputs, stmts + [c for _, c in results], lambda: r.location(stmt))
    r.needs.update((n, v) for n, v in t.globals.items() if n not in runtime.HELPERS)
    same = shapes.shape_kept(op, act, r.same_shape)
    results = [
        (operand, shapes.drop_unbroadcast(c, operand) if operand in same or _absorbed(r, name, operand) else c)
        for operand, c in results
    ]
    for node in stmts + [c for _, c in results]:
        shapes.from_representatives(node, r.same_shape)
    out.extend(stmts)
    merged = {}  # x * x: both contributions go to x in one accumulation
    for operand, contribution in results:
        if isinstance(operand, gast.Name) and operand.id in act.active:
            if operand.id in merged:
                contribution = gast.BinOp(left=merged[operand.id], op=gast.Add(), right=contribution)
            merged[operand.id] = contribution
    for operand, contribution in merged.items():
        r.cot.accumulate(operand, contribution, out)


def _real_cotangent(r, stmt, op, g, out):
    """``_t = real_cotangent(g, (operands...), "<located refusal>")`` put out, and its name: the cotangent a rule
    written for real numbers takes in code that makes complex values (``runtime.real_cotangent`` refuses complex
    operands when the gradient runs, at the call; api.refuse_real_only would refuse the whole function)."""

    checked = trees.call("real_cotangent", g, *real_operands(op, _label(op), r.location(stmt)))
    name = r.namer.fresh("_t{}")
    out.append(trees.assign(name, checked))
    return trees.name(name)


def real_operands(op, label, where):
    """The arguments after the first of ``runtime.real_cotangent`` / ``real_values`` for the call ``op``: its
    operands (a tuple) and the call's label and place."""
    # fresh names: op's are the forward sweep's nodes, and a later rename of the adjoint's must not reach them
    operands = [trees.name(a.id) for a in list(op.args) + list(op.kwargs.values()) if isinstance(a, gast.Name)]
    place = [trees.const(where.filename.rsplit("/", 1)[-1]), trees.const(where.line), trees.const(where.col)]
    return [gast.Tuple(elts=operands, ctx=gast.Load()), trees.const(label)] + place


def _absorbed(r, name, operand):
    return isinstance(operand, gast.Name) and operand.id in r.act.active and shapes.broadcast_absorbed(r, name, operand)


def _accumulate_parts(r, result, operands, out):
    """``result`` holds one cotangent per operand (itself, for one operand): unpacked as a person would,
    ``a_bar, _, b_bar = result``, each active name getting its own."""
    active = [o.id if isinstance(o, gast.Name) and o.id in r.act.active else None for o in operands]
    r.cot.unpack(result, active, out)


def _refuse_in_emitted_code(r, stmt, op, e):
    """A refusal inside gradient code the compiler emitted (``ac.grad(h)`` called in the function, whose
    code is differentiated again) is reported at the user's call, not at a line of that code."""
    where = getattr(e, "location", None)
    here = r.location(stmt)
    if where is None or here is None or not load.made_by_compiler(where):  # (derived.py's functions too)
        return
    if load.made_by_compiler(here):
        return  # (the user's function is further out: it reports there)
    made = getattr(op.fn, source_mod.DERIVATIVE_CODE_OF, None)
    label = made[0].__name__ if made is not None else _fn_label(op.fn)
    if made is not None and "_h_" in getattr(getattr(made[0], "__code__", None), "co_freevars", ()):
        label = label[: -len("_gradient")]  # (ac.hvp(h) called here: the jvp of h_gradient, specialise._gradient_of)
    construct = getattr(e, "construct", None) or str(e).split(": error: ")[-1]
    raise UnsupportedError(
        "differentiating again the derivative code of %s called here, which has %s (third order, or a "
        "gradient inside a gradient whose function calls another)"
        % (label, construct.replace(" is not supported by adjoint_compiler", "")),
        here,
        "differentiate a function that computes the derivative itself",
    ) from None


def refuse_in_library_code(here, op, e):
    """``refusals.in_library`` for the call ``op``, naming the function as the user wrote it."""
    label = _written(getattr(op.node, "func", None)) or _fn_label(op.fn)
    if naming.is_temp(label.split(".")[0]):
        label = _fn_label(op.fn)
    moved = refusals.in_library(e, label, here)
    if moved is not None:
        raise moved from None


def _through_tangents(r, name, op, g, out, e):
    """``y = h_grad(a, b)`` (``ac.grad(h)`` called in the function) whose gradient code cannot be differentiated
    again (it calls pullback closures, updates its buffers in place): its adjoint instead takes h's gradient
    and the gradient of h's derivative along the cotangent of ``y``'s gradient (``derived.gradient_adjoint``:
    reverse mode over h's tangent code), as a rule called at run time. False where that does not apply."""
    made = getattr(op.fn, source_mod.GRADIENT_CODE_OF, None)
    if made is None or not load.made_by_compiler(getattr(e, "location", None)) or op.kwargs:
        return False
    active = tuple(i for i, a in enumerate(op.args) if isinstance(a, gast.Name) and a.id in r.act.active)
    adjoint = source_mod.TRANSFORMS["gradient adjoint"](made[0], made[1], active, len(op.args)) if active else None
    if adjoint is None:
        return False
    ref = r.namer.unique(adjoint.__name__)
    r.needs[ref] = adjoint
    result = trees.call(ref, trees.clone(g), _name(name), *trees.clone(op.args))
    _accumulate_parts(r, result, op.args, out)
    return True


def call_user_function(r, stmt, name, op, g, out):
    """A call of a user function: its vjp runs in the forward sweep, its pullback here.

    ``y = h(a, b)`` becomes ``y, y_pullback = h_vjp(a, b)`` in the forward
    sweep; the adjoint calls ``y_pullback(y_bar)``. Inside a loop the
    pullback is taped like any other value the adjoint reads.
    """
    signature = inspect.signature(op.fn, follow_wrapped=False)
    try:
        bound = signature.bind(*op.args, **op.kwargs)
    except TypeError as e:
        raise CompileError("call of %s: %s" % (_fn_label(op.fn), e), r.location(stmt))
    spread = ops.keyword_variant(op, bound, r.location(stmt))
    if spread is not None:  # **kwargs: the variant compiled for this call's keywords, every argument positional
        op = spread
        signature = inspect.signature(op.fn, follow_wrapped=False)
        bound = signature.bind(*op.args)
    # a function passed as an argument is known now: the callee is compiled for it
    static = {}
    for param, operand in bound.arguments.items():
        if isinstance(operand, (gast.Name, gast.Attribute)) and not trees.rooted_in(operand, r.local):
            value = source_mod.static_value(operand, r.source)
            if callable(value) and not isinstance(value, type):
                static[param] = value
    all_params = list(signature.parameters)
    count = None
    star = next((p for p in signature.parameters.values() if p.kind is p.VAR_POSITIONAL), None)
    if star is not None:  # *args: the callee is compiled for this many values, args_0, args_1, ...
        if static:
            raise UnsupportedError(
                "a function passed as an argument to %s, which takes *%s" % (_fn_label(op.fn), star.name),
                r.location(stmt),
            )
        extra = bound.arguments.pop(star.name, ())
        count = len(extra)
        spread = [naming.SPREAD.format(star.name, i) for i in range(count)]
        bound.arguments.update(zip(spread, extra))
        at = all_params.index(star.name)
        all_params = all_params[:at] + spread + all_params[at + 1 :]  # keyword-only ones after, as in the callee
    key = (op.fn, tuple(sorted((p, id(v)) for p, v in static.items())), count)
    vjp_name = r.callees.get(key)
    if vjp_name is None:
        try:
            vjp_name = r.callees[key] = r.callee(op.fn, static, count) if star else r.callee(op.fn, static)
        except CompileError as e:
            if _through_tangents(r, name, op, g, out, e):
                return
            _refuse_in_emitted_code(r, stmt, op, e)
            refuse_in_library_code(r.location(stmt), op, e)
            raise
    pullback = r.namer.unique(naming.PULLBACK_FN.format(name))
    call = gast.Call(
        func=_name(vjp_name),
        args=[trees.clone(a) for p, a in zip(all_params, op.args) if p not in static],
        keywords=[gast.keyword(arg=k, value=trees.clone(v)) for k, v in op.kwargs.items() if k not in static],
    )
    call.keywords += _dropped_defaults(r, stmt, op, signature, bound, static)
    (forward,) = trees.quote("result, pullback = call", result=name, pullback=pullback, call=call)
    r.forward_of[id(stmt)] = [gast.copy_location(forward, stmt)]
    params = [p for p in all_params if p not in static]
    result = trees.call(pullback, trees.clone(g))
    passed = {param: operand for param, operand in bound.arguments.items() if param not in static}
    _accumulate_parts(r, result, [passed.get(p) for p in params], out)


def _dropped_defaults(r, stmt, op, signature, bound, static):
    """Keywords for the defaults a call leaves out that the compiled callee no longer has: with
    keyword-only parameters, the callee takes all of its parameters positionally, and only those after
    the last one without a default keep theirs (source.read)."""
    params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not any(p.kind is p.KEYWORD_ONLY for p in params):
        return []
    first = max((i + 1 for i, p in enumerate(params) if p.default is p.empty), default=0)
    keywords = []
    for p in params[:first]:
        if p.name in bound.arguments or p.name in static or p.default is p.empty:
            continue
        if not isinstance(p.default, (bool, int, float, complex, str, type(None))):
            raise UnsupportedError(
                "a call of %s leaving out %s, whose default is not a number, before a keyword-only parameter "
                "without a default" % (_fn_label(op.fn), p.name),
                r.location(stmt),
                "pass %s at the call" % p.name,
            )
        keywords.append(gast.keyword(arg=p.name, value=trees.const(p.default)))
    return keywords


def call_user_rule(r, stmt, rule, name, op, g, out):
    """A registered adjoint is called, not inlined: ``c = rule(g, ans, *args)``."""
    if op.kwargs:
        raise UnsupportedError(
            "keyword arguments in a call of %s, which has a registered adjoint" % _fn_label(op.fn), r.location(stmt)
        )
    ref = getattr(rule.rule, "__name__", "adjoint")
    ref = ref if ref.isidentifier() else "adjoint"  # a lambda's name, <lambda>, is no name to emit
    if r.source is None or r.source.env.get(ref) is not rule.rule:  # not the user's own global name
        ref = r.namer.unique(ref)
    r.needs[ref] = rule.rule
    if r.source is not None:  # a later register_adjoint for the function makes this compilation stale
        r.source.env.attributes.append((registry._RULES, registry._key(op.fn), rule))
    result = trees.call(ref, trees.clone(g), _name(name), *trees.clone(op.args))
    operands = gast.Tuple(elts=trees.clone(op.args), ctx=gast.Load())
    where = trees.place(r.location(stmt))
    result = trees.call("rule_cotangents", result, operands, trees.const(ref), *where)
    _accumulate_parts(r, result, op.args, out)
