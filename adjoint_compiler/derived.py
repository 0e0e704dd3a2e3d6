"""Forward mode and the transforms derived from the reverse-mode entry points of ``api``: jvp, hvp, hessian,
jacobian.

Invariant: each is built from one compiled function (``jvp``: the emitted tangent code, one forward
sweep) or from the transforms of ``api`` (``hvp`` and ``hessian``: forward mode over the emitted gradient
code; ``jacobian``: one jvp per input element or one vjp per output element, whichever needs fewer), and
its results have the structure ``grad`` gives: a tangent or Hessian-vector product in ``wrt``'s structure,
a Hessian or Jacobian block of shape ``out.shape + x.shape`` (a float for floats), a tuple over a tuple
``wrt``. Differentiated integer arguments are taken as floats. ``api`` never imports this module.

>>> import numpy as np
>>> def f(x):
...     return np.sum(x ** 3)
>>> x = np.array([1.0, 2.0])
>>> value, tangent = jvp(f)(x, np.array([1.0, 0.0]))
>>> float(value), float(tangent)
(9.0, 3.0)
>>> hvp(f)(x, np.array([1.0, 0.0])).tolist(), hessian(f)(x).tolist()
([6.0, 0.0], [[6.0, 0.0], [0.0, 12.0]])
>>> def g(x):
...     return x * x
>>> jacobian(g)(x).tolist()
[[2.0, 0.0], [0.0, 4.0]]
"""

import copy
import functools
import itertools
import inspect
import linecache

import numpy as np

from adjoint_compiler import api, load, ops, references, runtime, source
from adjoint_compiler.rules import registry
from adjoint_compiler.api import (
    _COMPLEX,
    _arity,
    _any_structure,
    _as_tuples,
    _bind,
    _compiled,
    _function,
    _Generic,
    _label,
)
from adjoint_compiler.api import _check_differentiated, _layouts, _on_backend, _reraise, _Structures, _truth_value
from adjoint_compiler.api import CHAIN, RECURSIVE, RECURSIVE_HINT, _recursion
from adjoint_compiler.api import grad, normalize_wrt, vjp
from adjoint_compiler.errors import CompileError, SourceLocation, UnsupportedError


def jvp(f, wrt=0, backend="python"):
    """Forward mode: ``fj(*args, tangent) -> (value, tangent_out)``, the Jacobian-vector product.

    One sweep of emitted tangent code (``x_dot`` beside ``x``, no tape; ``adjoint_source(f, wrt,
    mode="jvp")`` shows it) gives ``f``'s value and its directional derivative along ``tangent``.
    ``jvp(grad(f))`` differentiates the emitted gradient code in forward mode (a Hessian-vector
    product, as ``hvp``).

    Args:
        f: the function, as for ``grad``; any output (scalar, array, tuple of them).
        wrt: an int, a parameter name, or a tuple of them, as for ``grad``.
        backend: ``"python"`` (default) or ``"numba"``, as for ``grad``.

    Returns:
        A function taking ``f``'s arguments and then ``tangent``, with the structure ``grad(f,
        wrt)`` returns (one value for one ``wrt``, a tuple for a tuple), and returning ``(value,
        tangent_out)``, ``tangent_out`` in the output's structure.

    Raises:
        UnsupportedError: for a call forward mode cannot follow (a user's ``register_adjoint``
            rule has no tangent; a called function taking ``*args``), located at the call.

    >>> import math
    >>> def f(x, y):
    ...     return x * y + math.sin(x)
    >>> jvp(f, wrt=(0, 1))(0.0, 2.0, (1.0, 0.0))  # df/dx at (0, 2)
    (0.0, 3.0)
    """
    if backend != "python":
        return _on_backend(backend, f, wrt, "jvp")
    return references.name(_jvp(f, wrt), "jvp", f, wrt)


def _jvp(f, wrt):
    inner = getattr(f, "_adjoint_compiler_grad_of", None)
    if inner is not None:
        return _jvp_of_grad(inner, wrt)
    if getattr(f, _JACOBIAN_OF, None) is not None:
        return _products_of_jacobian(f, wrt)[0]
    inner = getattr(f, "_adjoint_compiler_value_and_grad_of", None)
    if inner is not None:
        return _jvp_of_value_and_grad(inner, wrt)
    layouts = _layouts(f, wrt, "jvp", jvp)
    if layouts is not None:

        @functools.wraps(f)
        def jvp_layouts(*args, **kwargs):
            if not args:
                raise TypeError("%s: jvp needs the arguments and a tangent" % _label(f))
            transformed, flat, plan = layouts.prepare(args[:-1], kwargs)
            tangents = layouts.unpack(args[-1], plan)
            return transformed(*flat, tangents)

        setattr(jvp_layouts, source.TRANSFORM_MARK, ("jvp", layouts.function))
        return jvp_layouts
    obj, f = f, _function(f, "jvp")
    wrt_idx, single = normalize_wrt(f, wrt)
    structures = []  # as in api._scalar_output

    def structured(args, tangent):
        if not structures:
            structures.append(_Structures(obj, wrt, jvp))
        s = structures[0]
        transformed, flat, keywords = s.prepare(args)
        return transformed(*flat, _as_tuples(tangent, {}, {}), **keywords)

    nargs = _arity(f)
    # (both emptied at a register_adjoint: the code may call or inline a rule it replaces)
    cache = registry.Held()  # compiled per scalar-or-not signature; a cached function is kept only without guards
    # the types of a call's arguments and float tangents -> its function, where prepare changes nothing
    fast = registry.Held()

    def prepare(args, kwargs, fast_key=None):
        """``run(tangent) -> (value, tangent_out)`` at these arguments: the per-call work (binding, the
        arguments as floats, the compiled function's lookup) done once for any number of tangents
        (``hessian``'s columns). ``fast_key`` (``jvp_f``'s): where the arguments go to the function as
        given (positional, leaves, differentiated ones floats; no guards) and the tangents too, a later call
        with the same key calls the function directly (while what it read holds, for one with guards)."""
        if kwargs or len(args) != nargs:
            args = _bind(f, args, kwargs)
            fast_key = None
        if structures and _any_structure(args):
            return lambda tangent: structured(args, tangent)
        truths = None
        if any(type(args[i]) is not float for i in wrt_idx):  # ints would make int tangents
            truth = api._checked_real(f, args, wrt_idx)
            if truth is None:
                return complex_run(args)
            if truth:  # a truth value's tangent is zero
                truths = [_truth_value(args[i]) for i in wrt_idx]
            args = tuple(_as_float(a) if i in wrt_idx else a for i, a in enumerate(args))
            fast_key = None
        key = tuple(map(type, args))
        if f in api._NEEDS:  # its variants differ by the structure of some arguments
            key += api.structure_of(api._NEEDS[f], args)
            fast_key = None
        if fast_key is not None and not all(t in api._LEAVES for t in key):
            fast_key = None  # (a list or a dict may hold a structure the next call's does not)
        function = cache.get(key)
        current = None  # a compilation with guards: whether what it read still holds (``api.check_unchanged``)
        if function is None:
            try:
                c = _compiled(f, wrt_idx, "jvp", args)
            except CompileError as e:
                if not api._structures_help(args):
                    api._refused_derived(e, f, "jvp")
                return lambda tangent: structured(args, tangent)
            if c.makes_complex:  # complex values made from real arguments: as complex arguments are run
                return complex_run(args)
            function = c.function
            if not c.guards:  # nothing it read can go stale
                cache[key] = function
            else:
                current = c

        def run(tangent):
            tangents = (tangent,) if single else tuple(tangent)
            if len(tangents) != len(wrt_idx):
                raise TypeError("jvp of %s: %d tangents for wrt=%r" % (f.__qualname__, len(tangents), wrt))
            if truths is not None:
                tangents = tuple(runtime.zeros_like(args[i]) if z else t for i, z, t in zip(wrt_idx, truths, tangents))
            if any(type(t) is not float for t in tangents):
                tangents = tuple(_as_float(t) for t in tangents)
            elif fast_key is not None and truths is None:
                fast[fast_key] = (function, current)
            return _run(function, args, tangents, current)

        return run

    def complex_run(args):
        """``run`` at complex arguments: the tangent code, whose every rule holds for complex values (else
        refused at its call), run with NumPy's ComplexWarning an error (api._complex_call's reasons). The
        tangent of a complex argument is complex, of a real one real; the result is the directional derivative
        itself (no convention is needed in forward mode)."""
        c = _compiled(f, wrt_idx, "jvp", args, scalars=False)
        api.refuse_real_only(c, f)

        def run(tangent):
            tangents = (tangent,) if single else tuple(tangent)
            if len(tangents) != len(wrt_idx):
                raise TypeError("jvp of %s: %d tangents for wrt=%r" % (f.__qualname__, len(tangents), wrt))
            tangents = tuple(_complex_tangent(t, args[i]) for i, t in zip(wrt_idx, tangents))
            return api.run_complex(f, args, c.function, *args, *tangents)

        return run

    def _run(function, args, tangents, current=None):
        try:
            value, tangent_out = function(*args, *tangents)
        except (runtime.InPlaceUpdateError, TypeError) as e:
            _reraise(e, args, f)
        except CompileError as e:  # a callee's code, compiled on its first call
            api._refused_derived(e, f, "jvp")
        api.check_unchanged(current, f)
        return value, tangent_out if type(tangent_out) is float else _precision_of(tangent_out, value)

    @functools.wraps(f)
    def jvp_f(*args, **kwargs):
        if not args:
            raise TypeError("%s: jvp needs the arguments and a tangent" % f.__qualname__)
        key = None
        if not kwargs:
            tangent = args[-1]
            key = tuple(map(type, args))
            if not single:
                key = key + tuple(map(type, tangent)) if type(tangent) is tuple else None
            made = fast.get(key)
            if made is not None and (made[1] is None or made[1].current()):  # (the tangents' count, types: key)
                return _run(made[0], args[:-1], (tangent,) if single else tangent, made[1])
        return prepare(args[:-1], kwargs, key)(args[-1])

    jvp_f.prepare = prepare
    setattr(jvp_f, source.TRANSFORM_MARK, ("jvp", f))
    setattr(jvp_f, source.GRADIENT_OF, (f, wrt_idx, "jvp", single))  # called in a differentiated function
    return jvp_f


setattr(jvp, source.MAKES_GRADIENT, "jvp")
# specialise._gradient_call: ac.jvp(ac.grad(h))(x, t) inside is the jvp of a function calling ac.grad(h)
jvp.gradient_makers = {"grad": grad, "value_and_grad": api.value_and_grad}


def _jvp_of_grad(inner, wrt):
    """jvp(grad(f)): forward mode over the emitted gradient function (plain Python, loops and all).

    Where that code cannot be differentiated (it calls a pullback closure, updates its adjoint buffers
    in place, runs a checkpointed loop), reverse mode over f's tangent code instead (``_over_forward``)."""
    f, inner_wrt, inner_single = inner
    wrt_idx, single = normalize_wrt(f, wrt)
    finish = _Generic(f, inner_wrt, inner_single).finish
    cache = registry.Held()

    def prepare(args, kwargs=None):
        """``column(tangent) -> (gradient, its tangent)`` (unfinished: the emitted code's values) at these
        arguments, the per-call work done once (``hessian`` calls it per column)."""
        args = _bound(f, args, kwargs)
        if any(type(args[i]) is not float for i in wrt_idx):
            _check_differentiated(f, args, wrt_idx)  # complex arguments: refused at second order (TypeError)
        if "fallback" in cache:
            return cache["fallback"](args)
        key = ("jvp",) + api.variant_key(f, args)
        try:
            entry = cache.get(key)
            # the gradient code holds the globals f read when compiled: compiled again once one is rebound
            if entry is None or entry[1] is not None and not entry[1].current():
                gradient = _compiled(f, inner_wrt, "grad", args, scalars=False)
                key = ("jvp",) + api.variant_key(f, args)  # (the compilation may have found what it depends on)
                product = jvp(gradient.function, wrt_idx[0] if single else wrt_idx)
                changes = any(  # (it gives arguments their new contents: x *= 2.0, x[0] = v)
                    v is runtime.give_back or v is runtime.put_back for v in gradient.function.__globals__.values()
                )
                entry = cache[key] = (product, gradient if gradient.guards else None, changes)
            product, held, changes = entry
            run = product.prepare(args, {}) if hasattr(product, "prepare") else lambda t: product(*args, t)
            if changes:  # each column after the first: on a copy of the arguments as given (f changes them once)
                given, first = _copied(args), run

                def run(t):
                    nonlocal run_once
                    if run_once:
                        run_once = False
                        return first(t)
                    fresh = _copied(given)
                    return product.prepare(fresh, {})(t) if hasattr(product, "prepare") else product(*fresh, t)

                run_once = True
        except CompileError as e:
            cache["fallback"] = _over_forward(e, f, inner_wrt, inner_single, wrt_idx, single)
            return cache["fallback"](args)

        def column(tangent, value=True):
            if "fallback" not in cache:
                try:
                    (_, grads), (_, grads_dot) = run(tangent)
                    api.check_unchanged(held, f)  # (one it read rebound as it ran: refused)
                    return grads, grads_dot
                except CompileError as e:  # refused as it ran (a callee's gradient code, compiled on its first call)
                    cache["fallback"] = _over_forward(e, f, inner_wrt, inner_single, wrt_idx, single)
            return cache["fallback"](args)[1](tangent, value)

        return args, column

    def jvp_grad_f(*args, **kwargs):
        *args, tangent = args
        args, column = prepare(args, kwargs)
        grads, grads_dot = column(tangent)
        return finish(grads, args), finish(grads_dot, args)

    jvp_grad_f.prepare = prepare
    jvp_grad_f.finish = finish
    jvp_grad_f.__name__ = "jvp_grad_" + f.__name__
    setattr(jvp_grad_f, source.TRANSFORM_MARK, ("jvp(grad)", f))  # a transform of it is refused at f
    return jvp_grad_f


def _jvp_of_value_and_grad(inner, wrt):
    """jvp(value_and_grad(f)): ``((value, gradient), (value_dot, gradient_dot))``, the gradient's part
    ``jvp(grad(f))`` (forward over the emitted gradient code, arrays too) and the value's ``jvp(f)`` along
    the same tangent (was: the scalar-only source of ``compilable``, a TypeError for an array argument)."""
    f = inner[0]
    product = _jvp_of_grad(inner, wrt)
    value = jvp(f, wrt)

    def jvp_value_and_grad_f(*args, **kwargs):
        grads, grads_dot = product(*args, **kwargs)
        out, out_dot = value(*args, **kwargs)
        return (out, grads), (out_dot, grads_dot)

    jvp_value_and_grad_f.__name__ = "jvp_value_and_grad_" + f.__name__
    setattr(jvp_value_and_grad_f, source.TRANSFORM_MARK, ("jvp(value_and_grad)", f))  # transforms: refused at f
    return jvp_value_and_grad_f


_MADE = itertools.count(1)  # numbers the pseudo files of the functions made here: each its own source
_ALONG = {}  # (f, wrt, single) -> (its derivative along a tangent, the tangent's name) (made once)


def _write(f, name, extra, body, env, what):
    """A function ``name`` with f's parameters (defaults and keyword-only ones as f has them) and ``extra``
    after them (keyword-only after a default), returning ``body(positional, keywords)`` (given the lists of
    f's parameters passed on as f takes them: ``x``, ``k=k``), with source in linecache (as
    ``api._rule_wrapper``'s) for the compiler to read."""
    spelled, positional, keywords = [], [], []
    for k, p in enumerate(inspect.signature(f).parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return None
        if p.kind is p.KEYWORD_ONLY and not keywords:
            spelled.append("*")
        (keywords if p.kind is p.KEYWORD_ONLY else positional).append(p.name)
        if p.default is p.empty:
            spelled.append(p.name)
        else:
            env["_default%d" % k] = p.default
            spelled.append("%s=_default%d" % (p.name, k))
    if extra and not keywords and any("=" in p for p in spelled):  # (after a default: keyword-only)
        spelled.append("*")
    spelled += extra
    returned = body(positional, ["%s=%s" % (k, k) for k in keywords])
    return _made(f, name, "def %s(%s):\n    return %s\n" % (name, ", ".join(spelled), returned), env, what)


def _made(f, name, text, env, what):
    """The function ``name`` that ``text`` defines in ``env``, derived from ``f``: its source in linecache
    under a pseudo file of its own (for the compiler to read), in f's module, its refusals located at f."""
    filename = "<adjoint_compiler: %s of %s, %d>" % (what, f.__qualname__, next(_MADE))
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), env)
    function = env[name]
    function.__module__ = f.__module__
    setattr(function, api.DERIVED_OF, f)  # refusals in its code are located at f
    return function


def _bound(f, args, kwargs=None):
    """f's arguments one per parameter, positionally (``api._bind``: keyword-only ones last), unless they
    already are (a transform built here calling another with arguments it bound)."""
    if not kwargs and len(args) == _arity(f):
        return tuple(args)
    code = getattr(f, "__code__", None)
    if (
        not kwargs
        and code is not None
        and not code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
        and len(args) == code.co_argcount + code.co_kwonlyargcount
    ):
        return tuple(args)
    return _bind(f, args, kwargs or {})


def _call(function, f, args, *extra):
    """``function(*args, *extra)`` for ``args`` bound to f's parameters (``_bound``), f's keyword-only ones
    passed by name: the transforms of ``api`` and here bind a call's arguments again."""
    names = [p.name for p in inspect.signature(f).parameters.values() if p.kind is p.KEYWORD_ONLY]
    cut = len(args) - len(names)
    return function(*args[:cut], *extra, **dict(zip(names, args[cut:])))


def bound_call(function, f, args, **tangent):
    """``function(*args)`` for ``args`` bound to f's parameters as the emitted code takes them (keyword-only ones
    last, positionally: ``api._bind``), passing f's keyword-only parameters by name, and the tangent."""
    names = [p.name for p in inspect.signature(f).parameters.values() if p.kind is p.KEYWORD_ONLY]
    if not names:
        return function(*args, **tangent)
    cut = len(args) - len(names)
    return function(*args[:cut], **dict(zip(names, args[cut:])), **tangent)


def along(f, wrt_idx, single):
    """``(f_along, t)``: ``f_along(*args, t=tangent) -> jvp(f, wrt)(*args, tangent)[1]``, f's derivative
    along ``tangent`` (after f's own parameters, keyword-only after defaults: pass it by name), as a function with
    source which the compiler differentiates again: its code calls f's tangent code, plain Python without
    pullback closures or adjoint buffers. None for f taking ``*args`` or ``**kwargs``."""
    key = (f, wrt_idx, single)
    if key in _ALONG:
        return _ALONG[key]
    params = api._params(f)
    tangent = params[wrt_idx[0]] + "_dot" if single else "tangents"
    while tangent in params:
        tangent += "_"
    name = f.__name__ + "_along" if f.__name__.isidentifier() else "function_along"
    env = {"_jvp": jvp(f, wrt_idx[0] if single else wrt_idx)}

    def body(positional, keywords):
        # several wrt: the tangent passed on as a tuple display of its parts, the form a jvp inside a
        # differentiated function takes (specialise.nested_gradients)
        spread = tangent if single else "(%s,)" % ", ".join("%s[%d]" % (tangent, k) for k in range(len(wrt_idx)))
        return "_jvp(%s)[1]" % ", ".join(positional + [spread] + keywords)

    made = _write(f, name, [tangent], body, env, "derivative along %s" % tangent)
    _ALONG[key] = (made, tangent) if made is not None else None
    return _ALONG[key]


FIRST_OF = "_adjoint_compiler_first_of"  # on with_aux's function returning h's first output: h
_AUX = {}  # (h, kind, wrt, single) -> the function with source computing grad(h, wrt, has_aux=True) (made once)


def with_aux(h, kind, wrt_idx, single):
    """For ``ac.grad(h, wrt, has_aux=True)`` (or value_and_grad) called inside a differentiated function, a
    function with h's parameters and source computing the same: ``(grad(h_first, wrt)(...), h(...)[1])``,
    ``h_first`` returning h's first output (``(h(...), grad(h_first, wrt)(...))`` for value_and_grad). The
    aux is h's own output there, differentiated by the outer transform as JAX's is. None for h taking
    ``*args`` or ``**kwargs``."""
    key = (h, kind, wrt_idx, single)
    if key in _AUX:
        return _AUX[key]
    label = h.__name__ if h.__name__.isidentifier() else "function"
    first = _write(h, label + "_first", [], lambda p, k: "_h(%s)[0]" % ", ".join(p + k), {"_h": h}, "first output")
    made = None
    if first is not None:
        setattr(first, FIRST_OF, h)  # (named in a refusal: _again)
        wrt = repr(wrt_idx[0] if single else tuple(wrt_idx))
        env = {"_h": h, "_first": first, "_grad": api.grad}

        def body(positional, keywords):
            passed = ", ".join(positional + keywords)
            gradient = "_grad(_first, %s)(%s)" % (wrt, passed)
            return (
                "(_h(%s), %s)" % (passed, gradient)
                if kind == "value_and_grad"
                else "(%s, _h(%s)[1])"
                % (
                    gradient,
                    passed,
                )
            )

        made = _write(h, "%s_%s_with_aux" % (kind, label), [], body, env, "%s with aux" % kind)
    _AUX[key] = made
    return made


_COMPILABLE = {}  # a transform's chain -> the function with source that computes it (made once)


def compilable(g, transform=None):
    """For ``g = grad(f, w)``, ``value_and_grad(f, w)`` or ``grad(grad(f, w1), w2)`` (scalar ``w``s, to
    any order), a function with f's parameters and source that computes what ``g`` does, so that a
    transform of ``g`` compiles it: f's derivative along 1.0 on each of its scalar arguments in turn
    (``along`` of ``along``: tangent code of tangent code, no pullbacks). ``runtime.unit_tangent``
    raises the TypeError grad of a non-scalar output would. None for other transforms.

    ``transform``: the one to be taken of ``g``. A gradient (grad, value_and_grad) of ``hessian(f, w)`` or
    ``hvp(f, w)`` needs a scalar output, so a scalar argument ``w`` (``_second_order_source``'s ``scalar``)."""
    second = getattr(g, SECOND, None)
    if second is not None:
        scalar = second[3] and transform in ("grad", "value_and_grad", "hessian", "hvp")
        return _second_order_source(*second, scalar=scalar)
    chain = getattr(g, CHAIN, None)
    if chain is None:
        return None
    if chain in _COMPILABLE:
        return _COMPILABLE[chain]
    f, ws, with_value = chain
    derivative, tangents = f, []
    for w in ws:
        made = along(derivative, (w,), True)
        if made is None:
            return None
        derivative, tangent = made
        tangents.append((tangent, api._params(f)[w]))
    env = {"_derivative": derivative, "_f": f, "_unit": runtime.unit_tangent}
    units = ["%s=_unit(%s)" % pair for pair in tangents]

    def body(positional, keywords):
        derived = "_derivative(%s)" % ", ".join(positional + keywords + units)
        return "(_f(%s), %s)" % (", ".join(positional + keywords), derived) if with_value else derived

    label = "d%d%s" % (len(ws), f.__name__) if f.__name__.isidentifier() else "derivative"
    made = _write(f, label, [], body, env, "value and derivative %s" % (ws,) if with_value else "derivative %s" % (ws,))
    _COMPILABLE[chain] = made
    return made


SECOND = "_adjoint_compiler_second"  # on hvp(f)'s and hessian(f)'s functions: (kind, f, wrt indices, single)


def _second_order_source(kind, f, wrt_idx, single, scalar=False):
    """For ``hvp(f, w)`` or ``hessian(f, w)``, a function with f's parameters (and ``v`` after them for hvp) and
    source that computes the same, so that a transform of it (or a call of it inside a differentiated function)
    compiles it: the gradient in ``w`` of f's derivative along ``v`` (``along``; mixed second derivatives
    commute), the Hessian one such column per element of ``w``'s argument (a tuple ``w``: a tuple of tuples of
    blocks). hvp's ``v`` comes after f's parameters without defaults; those with defaults and keyword-only
    ones after it are keyword-only (``hvp_f(x, v, *, scale=2.0)``: hvp(f)(x, v) as hvp(f) is called, f's
    defaults passed by name). None for f taking ``*args`` or ``**kwargs`` (refused as before).

    ``scalar`` (a single ``w``): for where the result is known to be a scalar (a gradient of it is taken), so
    ``w``'s argument is one: ``grad(grad(f, w), w)`` as tangent code of tangent code (``compilable``; times
    ``v`` for hvp), differentiable again to any order, where the array branch, which differentiates a
    gradient, is not beyond a third derivative."""
    key = (kind, f, wrt_idx, single, scalar)
    if key in _COMPILABLE:
        return _COMPILABLE[key]
    _COMPILABLE[key] = None
    params = list(inspect.signature(f).parameters.values())
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return None
    made = along(f, wrt_idx, single)
    if made is None:
        return None
    names = [p.name for p in params]
    env = {
        "_gradient": grad(made[0], wrt_idx[0] if single else wrt_idx),
        "_np": np,
        "_unit_vector": runtime.unit_vector,
        "_zeros_like": runtime.zeros_like,
    }
    required = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    optional = []  # (defaulted positional and keyword-only parameters: keyword-only in the function made here)
    for k, p in enumerate(params):
        if p.name in required:
            continue
        if p.default is p.empty:
            optional.append(p.name)
        else:
            env["_default%d" % k] = p.default
            optional.append("%s=_default%d" % (p.name, k))
    passed = ", ".join(  # (every parameter by position but the keyword-only ones, by name)
        [p.name for p in params if p.kind is not p.KEYWORD_ONLY]
        + ["%s=%s" % (p.name, p.name) for p in params if p.kind is p.KEYWORD_ONLY]
    )
    # the tangent: a positional parameter of f's derivative along it (``_write``), keyword-only after a default
    tangent = "%s=" % made[1] if optional else ""
    label = f.__name__ if f.__name__.isidentifier() else "function"
    if scalar:
        env["_scalar"] = compilable(grad(grad(f, wrt_idx[0]), wrt_idx[0]))
        if env["_scalar"] is None:
            return None
    if kind == "hvp":
        v = "v"
        while v in names:
            v += "_"
        spelled = ", ".join(required + [v] + (["*"] + optional if optional else []))
        if scalar:
            text = "def hvp_%s(%s):\n    return _scalar(%s) * %s\n" % (label, spelled, passed, v)
        else:
            text = "def hvp_%s(%s):\n    return _gradient(%s, %s%s)\n" % (label, spelled, passed, tangent, v)
    elif scalar:
        spelled = ", ".join(required + (["*"] + optional if optional else []))
        text = "def hessian_%s(%s):\n    return _scalar(%s)\n" % (label, spelled, passed)
    elif single:  # a float's: grad(grad(f)) as tangent code of tangent code (``compilable``), to any order
        x = names[wrt_idx[0]]
        spelled = ", ".join(required + (["*"] + optional if optional else []))
        env["_scalar"] = compilable(grad(grad(f, wrt_idx[0]), wrt_idx[0]))
        if env["_scalar"] is None:
            return None
        text = (
            "def hessian_%s(%s):\n"
            "    if _np.ndim(%s) == 0:\n"
            "        return _scalar(%s)\n"
            "    columns = []\n"
            "    for i in range(_np.size(%s)):\n"
            "        columns.append(_gradient(%s, %s_unit_vector(%s, i)))\n"
            "    return _np.reshape(_np.stack(columns, -1), _np.shape(%s) + _np.shape(%s))\n"
        ) % (label, spelled, x, passed, x, passed, tangent, x, x, x)
    else:  # block [k][j] of shape x_k.shape + x_j.shape, one column per element of x_j
        xs = [names[i] for i in wrt_idx]
        spelled = ", ".join(required + (["*"] + optional if optional else []))
        lines = ["def hessian_%s(%s):" % (label, spelled), "    blocks = []"]
        for j, xj in enumerate(xs):
            tangents = ", ".join(
                "_unit_vector(%s, i)" % xk if k == j else "_zeros_like(%s)" % xk for k, xk in enumerate(xs)
            )
            lines += [
                "    columns = []",
                "    for i in range(_np.size(%s)):" % xj,
                "        columns.append(_gradient(%s, %s(%s,)))" % (passed, tangent, tangents),
                "    blocks.append((%s,))"
                % ", ".join(
                    "_np.reshape(_np.stack([c[%d] for c in columns], -1), _np.shape(%s) + _np.shape(%s))" % (k, xk, xj)
                    for k, xk in enumerate(xs)
                ),
            ]
        transposed = ", ".join(
            "(%s,)" % ", ".join("blocks[%d][%d]" % (j, k) for j in range(len(xs))) for k in range(len(xs))
        )
        lines.append("    return (%s,)" % transposed)
        text = "\n".join(lines) + "\n"
    function = _made(f, text.split("(", 1)[0][4:], text, env, kind)
    _COMPILABLE[key] = function
    return function


_AGAIN = (
    "ac.grad(%s) called in the function, whose gradient code is not differentiated again (a recursion, a "
    "checkpointed loop, an in-place update, or a call of a function of several statements, whose pullback "
    "it calls, in %s)"
)
_AGAIN_DERIVED = (  # h is derivative code written here (a hessian's or hvp's): its gradient calls pullbacks
    "a gradient called in the derivative code of %s (a hessian's, hvp's or higher derivative's), whose gradient "
    "code calls pullbacks of derivative code, closures made at run time which are not differentiated again: "
    "a fourth derivative through a hessian or hvp"
)


_AGAIN_PULLBACK = (  # h is h_dot of a pullback called in the function (specialise._dotted)
    "the pullback of ac.vjp(%s) called in the function, whose gradient code is not differentiated again (a "
    "recursion, a checkpointed loop or an in-place update in %s, or pullbacks it calls in turn: a fourth "
    "derivative through pullbacks of pullbacks)"
)


_AGAIN_AUX = (  # h is with_aux's first output of the user's function
    "ac.grad(%s, has_aux=True) called in the function, whose gradient code (of the first output) calls %s's "
    "pullback, a closure made at run time which is not differentiated again: a third derivative through has_aux"
)


def _again(h):
    pulled = getattr(h, source.PULLBACK_OF, None)
    if pulled is not None:
        return _AGAIN_PULLBACK % (pulled.__name__, pulled.__name__)
    first = getattr(h, FIRST_OF, None)
    if first is not None:
        return _AGAIN_AUX % (first.__name__, first.__name__)
    user = api._origin(h)
    return _AGAIN % (h.__name__, h.__name__) if user is h else _AGAIN_DERIVED % (user.__name__,)


def gradient_adjoint(h, wrt, active, nargs=None):
    """The adjoint of ``(value, gradient) = h_grad(*args)``, h's emitted gradient in ``wrt`` called inside a
    differentiated function, for the arguments at ``active``: given the cotangent ``(value_bar,
    gradient_bar)``, ``value_bar * grad h + grad <grad_wrt h, gradient_bar>``, the latter the gradient of h's
    derivative along ``gradient_bar`` (``along``; mixed second derivatives commute). None where h has no
    such derivative (``*args``)."""
    made = along(h, wrt, len(wrt) == 1)
    if made is None:
        return None
    derivative, tangent = made
    second = grad(derivative, active)
    first = grad(h, active)

    def adjoint(g, ans, *args):
        value_bar, gradient_bar = g
        # args as at the call, or one per parameter as emitted code passes them (keyword-only ones last, by
        # position: more than h takes positionally, so no other reading of them)
        code = h.__code__
        every = code.co_kwonlyargcount and len(args) == code.co_argcount + code.co_kwonlyargcount
        parts = list(
            bound_call(second, h, args, **{tangent: gradient_bar})
            if every
            else second(*args, **{tangent: gradient_bar})
        )
        if not (np.ndim(value_bar) == 0 and value_bar == 0):
            firsts = bound_call(first, h, args) if every else first(*args)
            parts = [_plus_scaled(p, value_bar, q) for p, q in zip(parts, firsts)]
        out = [None] * len(args)
        for i, p in zip(active, parts):
            out[i] = p
        return out[0] if len(args) == 1 else tuple(out)

    adjoint.__name__ = "%s_grad_adjoint" % h.__name__ if h.__name__.isidentifier() else "gradient_adjoint"
    setattr(adjoint, source.NOT_DIFFERENTIATED, _again(h))
    # differentiated again (a third derivative of h), it is compiled as this: the same sums as source, without
    # the run-time skip of a zero value_bar (a branch on a value whose derivative need not be zero)
    setattr(
        adjoint,
        source.COMPILED_AS,
        _adjoint_source(h, derivative, tangent, active, nargs, adjoint.__name__ + "_written"),
    )
    return adjoint


def _plus_scaled(p, s, q):
    """``p + s * q`` for cotangents that may be tuples, lists or dicts (of an argument that is one: the
    tangents of h's derivative along several arguments), part by part (tuples were concatenated, or a
    TypeError multiplying one by a float)."""
    if q is None:
        return p
    if isinstance(q, dict):
        return {k: _plus_scaled(p.get(k) if p is not None else None, s, v) for k, v in q.items()}
    if isinstance(q, (tuple, list)):
        parts = p if p is not None else [None] * len(q)
        return type(q)(_plus_scaled(a, s, b) for a, b in zip(parts, q))
    return s * q if p is None else p + s * q


def _spelled(f, env):
    """``(parameters, passed)``: f's parameters, keyword-only ones taken by position after the others as
    emitted code passes them (``api._bind``), and the arguments that pass them on to f as f takes them."""
    spelled, passed = [], []
    for k, p in enumerate(inspect.signature(f).parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return None
        if p.default is p.empty:
            spelled.append(p.name)
        else:
            env["_default%d" % k] = p.default
            spelled.append("%s=_default%d" % (p.name, k))
        passed.append("%s=%s" % (p.name, p.name) if p.kind is p.KEYWORD_ONLY else p.name)
    if any("=" in a and "=" not in b for a, b in zip(spelled, spelled[1:])):
        # a keyword-only parameter without a default after a default: every argument is passed (by position)
        spelled = [p.split("=")[0] for p in spelled]
    return spelled, passed


def _write_lines(f, name, leading, lines, env, what, trailing=(), count=None):
    """Like ``_write``, for a body of several ``lines`` (where ``{args}`` passes f's arguments on as f takes
    them) and the parameters ``leading``, f's (``_spelled``; where ``count`` is given, only the first ``count``
    of them, each to be passed: f's defaults fill in the others), ``trailing``."""
    made = _spelled(f, env)
    if made is None:
        return None
    spelled, passed = made
    if count is not None:
        spelled, passed = [p.split("=")[0] for p in spelled[:count]], passed[:count]
    if (set(leading) | set(trailing)) & {p.split("=")[0] for p in spelled}:
        return None
    text = "def %s(%s):\n%s" % (
        name,
        ", ".join(list(leading) + spelled + list(trailing)),
        "".join("    %s\n" % line.replace("{args}", ", ".join(passed)) for line in lines),
    )
    return _made(f, name, text, env, what)


def _passed_tangent(h, name, value):
    """The tangent argument of ``along(h, ...)``'s function: by position where it can be (a call with keywords
    is not followed by the fallbacks a function differentiated again may need), else by name."""
    plain = all(
        p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty for p in inspect.signature(h).parameters.values()
    )
    return value if plain else "%s=%s" % (name, value)


def _adjoint_source(h, derivative, tangent, active, nargs, name):
    """``gradient_adjoint``'s adjoint as a function with source: ``(value_bar, gradient_bar)`` and the
    ``nargs`` arguments of the call to the cotangents of the active ones, the gradient of ``h``'s derivative
    along ``gradient_bar`` plus ``value_bar`` times h, one number, by ``ac.grad`` (so that a list, tuple or
    dict argument's cotangent is made whole by the gradient, never scaled or added as a list: a TypeError in
    emitted code). None where the call's number of arguments is not known."""
    if nargs is None:
        return None
    env = {"_h": h, "_derivative": derivative}
    combined = _write_lines(
        h,
        name + "_combined",
        [],
        ["return _derivative({args}, %s) + _value_bar * _h({args})" % _passed_tangent(h, tangent, "_gradient_bar")],
        env,
        "gradient adjoint's sum",
        trailing=["_gradient_bar", "_value_bar"],
        count=nargs,
    )
    if combined is None:
        return None
    env = {"_grad": grad, "_combined": combined}
    given = api._params(h)[:nargs]
    lines = [
        "_value_bar, _gradient_bar = _g",
        "_parts = _grad(_combined, %r)(%s)" % (tuple(active), ", ".join(given + ["_gradient_bar", "_value_bar"])),
    ]
    out = ["None"] * nargs
    for k, i in enumerate(active):
        out[i] = "_parts[%d]" % k
    lines.append("return %s" % (out[0] if nargs == 1 else "(%s,)" % ", ".join(out)))
    return _write_lines(h, name, ["_g", "_ans"], lines, env, "gradient adjoint", count=nargs)


def gradient_tangent(gradient, h, wrt, active, nargs):
    """The tangent of ``(value, gradient) = h_grad(*args)`` (``gradient``, h's emitted gradient in ``wrt``)
    called inside a function differentiated in forward mode, along the tangents of the arguments at
    ``active``: ``h_grad_jvp(*args, *tangents) -> ((value, gradient), (value_dot, gradient_dot))``, where
    value_dot is h's derivative along them (``along``) and gradient_dot that derivative's gradient in
    ``wrt`` (mixed second derivatives commute). None where h has no such derivative (``*args``)."""
    made = along(h, active, len(active) == 1)
    if made is None:
        return None
    derivative, name = made
    both = api.value_and_grad(derivative, wrt[0] if len(wrt) == 1 else wrt)

    def tangent(*given):
        args, tangents = given[:nargs], given[nargs:]
        along_active = tangents[active[0]] if len(active) == 1 else tuple(tangents[i] for i in active)
        return gradient(*args), bound_call(both, h, args, **{name: along_active})

    # (not h_grad_jvp: the name of the jvp compiled of h_grad where another call takes h's gradient in other wrt)
    tangent.__name__ = "%s_grad_tangent" % h.__name__ if h.__name__.isidentifier() else "gradient_tangent"
    setattr(tangent, source.NOT_DIFFERENTIATED, _again(h))
    setattr(
        tangent,
        source.COMPILED_AS,
        _tangent_source(h, derivative, name, wrt, active, nargs, tangent.__name__ + "_written"),
    )
    return tangent


def _tangent_source(h, derivative, name, wrt, active, nargs, label):
    """``gradient_tangent``'s tangent as a function with source (differentiated again: a third derivative):
    h's arguments, every one passed, then one tangent per argument."""
    env = {"_value_and_grad": api.value_and_grad, "_h": h, "_derivative": derivative}
    made = _spelled(h, env)
    if made is None or len(made[1]) != nargs:
        return None
    params = api._params(h)
    dots = []
    for p in params:
        dot = p + "_dot"
        while dot in params or dot in dots:
            dot += "_"
        dots.append(dot)
    inner = repr(wrt[0] if len(wrt) == 1 else tuple(wrt))
    along_active = dots[active[0]] if len(active) == 1 else "(%s,)" % ", ".join(dots[i] for i in active)
    line = "return (_value_and_grad(_h, %s)({args}), _value_and_grad(_derivative, %s)({args}, %s))" % (
        inner,
        inner,
        _passed_tangent(h, name, along_active),
    )
    return _write_lines(h, label, [], [line], env, "gradient tangent", trailing=dots, count=nargs)


def reverse_over_forward(refusal, f, along_idx, along_single, grad_wrt):
    """``second(args, tangent)``: the gradient in ``grad_wrt`` of f's derivative along ``tangent`` in
    ``along_idx`` (``along``: reverse mode over f's tangent code, which has no pullback closures or adjoint
    buffers for it to refuse). The one fallback of forward over reverse (``jvp(grad(f))``, hvp, hessian) and
    of reverse over reverse (``api._grad_of_grad``) where the emitted gradient code cannot be differentiated:
    ``refusal``, theirs, is raised at f where this fails too (``_refused_second_order``)."""
    if not load.made_by_compiler(refusal.location):
        raise refusal
    made = along(f, along_idx, along_single)
    if made is None:
        _refused_second_order(refusal, f)
    derivative, name = made
    second = grad(derivative, grad_wrt)

    def run(args, tangent):
        try:
            # f's tangent code changes what f changes (an argument it stores into): run on a copy of the
            # arguments, it would otherwise see them changed by f's own run (a wrong hvp) or change them twice
            return bound_call(second, f, _copied(args), **{name: tangent})
        except CompileError as e:
            if not load.made_by_compiler(e.location):
                raise
            _refused_second_order(refusal, f)

    return run


def _over_forward(refusal, f, inner_wrt, inner_single, wrt_idx, single):
    """``prepare`` for jvp(grad(f, inner), wrt) by reverse mode over forward: the gradient in ``inner`` of
    f's derivative along the tangent (``reverse_over_forward``). Mixed second derivatives commute where f is
    twice differentiable (where either answer is a derivative): d/dt grad_inner f(x + t v) = grad_inner
    <grad_wrt f, v>. Costs a reverse sweep of the tangent code, as forward over reverse costs a tangent sweep
    of the gradient code."""
    # (an inner wrt of one, in a tuple or not: the bare gradient, which finish puts in grad's structure)
    inner = inner_wrt[0] if inner_single or len(inner_wrt) == 1 else inner_wrt
    second = reverse_over_forward(refusal, f, wrt_idx, single, inner)
    first = grad(f, inner)

    def prepare(args):
        def column(tangent, value=True):
            try:
                moved = second(args, tangent)  # first: on the arguments as given (f's own run may change them)
                return (bound_call(first, f, args) if value else None), moved
            except CompileError as e:
                if not load.made_by_compiler(e.location):
                    raise
                _refused_second_order(refusal, f)

        return args, column

    return prepare


class _Given(list):
    """Arguments as they were given to a function that changes them: ``_fresh`` gives a copy for each run."""


def _fresh(args):
    """``args``, or a new copy of them where they are ``_Given`` (see jacobian)."""
    return tuple(_copied(list(args))) if isinstance(args, _Given) else args


def _unchanged(before, after):
    """Whether the arguments ``after`` a run hold what their copies ``before`` it hold (arrays, lists, dicts)."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.shape == after.shape and np.array_equal(before, after)
    if isinstance(before, (list, tuple)):
        return (
            isinstance(after, (list, tuple))
            and len(before) == len(after)
            and all(_unchanged(b, a) for b, a in zip(before, after))
        )
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and before.keys() == after.keys()
            and all(_unchanged(before[k], after[k]) for k in before)
        )
    return True


def _copied(args):
    """A deep copy of ``args`` (one, so that two arguments sharing an object still share its copy), or
    ``args`` themselves where they cannot be copied."""
    try:
        return copy.deepcopy(args)
    except Exception:  # noqa: BLE001  (an object that cannot be copied: as before)
        return args


def _refused_second_order(e, f):
    """Raise ``e``, or, where it was refused inside the emitted gradient, the same refusal at the user's ``f``."""
    if not load.made_by_compiler(e.location):
        raise e
    f = api._origin(f)
    construct = e.construct if hasattr(e, "construct") else str(e).split(": error: ")[-1]
    hint = None
    if ("_pullback" in construct or ops.PULLBACK_CALLS in construct) and _recursion(f):
        construct, hint = RECURSIVE % _recursion(f), RECURSIVE_HINT
    raise UnsupportedError(
        "second derivatives (grad of grad, hvp, hessian, jvp or vjp of grad) of %s: its gradient code has %s"
        % (f.__name__, construct),
        SourceLocation(f.__code__.co_filename, f.__code__.co_firstlineno, 1),
        hint,
    ) from None


def _vjp_of_grad(inner, wrt):
    """vjp(grad(f)): the gradient, and a pullback taking ``u`` (in the gradient's structure) to the
    derivative of ``<u, grad(f)(x)>`` in ``wrt``, by forward mode over the emitted gradient rather than
    reverse over reverse. f's mixed second derivatives commute (where f is twice differentiable, which
    is where either answer is a derivative), so d<u, grad_inner f>/dx_wrt = d/dt grad_wrt f(x + t u), u
    moving the gradient's arguments: one jvp of grad(f, wrt) along u, as ``hvp``, whose constructs it
    shares (the emitted gradient's in-place buffer updates, which reverse over reverse refuses)."""
    f, inner_wrt, inner_single = inner
    along = inner_wrt[0] if inner_single else inner_wrt
    wrt_idx, single = normalize_wrt(f, wrt)
    product = _jvp_of_grad((f, wrt_idx, single), along)
    gradient = grad(f, along)

    def vjp_grad_f(*args, **kwargs):
        args = _bound(f, args, kwargs)
        value = bound_call(gradient, f, args)

        def pullback(u):
            return product(*args, u)[1]

        return value, pullback

    vjp_grad_f.__name__ = "vjp_grad_" + f.__name__
    setattr(vjp_grad_f, source.TRANSFORM_MARK, ("vjp(grad)", f))  # a transform of it is refused at f
    return vjp_grad_f


api.NESTED["vjp(grad)"] = _vjp_of_grad
api.NESTED["along"] = along
api.NESTED["reverse over forward"] = reverse_over_forward
api.NESTED["bound call"] = bound_call
api.NESTED["compilable"] = compilable
source.TRANSFORMS["gradient adjoint"] = gradient_adjoint
source.TRANSFORMS["gradient tangent"] = gradient_tangent
source.TRANSFORMS["second order"] = _second_order_source
source.TRANSFORMS["compilable"] = compilable
source.TRANSFORMS["with aux"] = with_aux


def hvp(f, wrt=0):
    """The Hessian-vector product of scalar ``f``: ``h(*args, v)`` -> the Hessian (in ``wrt``) times ``v``.

    Forward mode over the emitted gradient code (one tangent sweep over the forward and adjoint
    sweeps, loops and tapes included), so it costs a small multiple of one gradient and never
    forms the Hessian.

    Args:
        f: a function with a scalar output, as for ``grad``.
        wrt: as for ``grad``.

    Returns:
        A function taking ``f``'s arguments and then ``v`` (in the structure of ``grad(f, wrt)``),
        returning the product in the same structure.

    >>> import numpy as np
    >>> def f(x):
    ...     return np.sum(x ** 3)
    >>> hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))  # diag(6 x) @ v
    array([ 6., 12.])
    """
    layouts = _layouts(f, wrt, "hvp", hvp)
    if layouts is not None:
        return _over_layouts(layouts, f, "hvp")
    given, f = f, _function(f, "hvp")
    product = _jvp_of_grad((f, *normalize_wrt(f, wrt)), wrt)
    structures = []  # NamedTuple and dataclass arguments: as grad's (api._Structures), the tangent too

    def hvp_f(*args, **kwargs):
        *args, v = args
        if api._structures_help(args) or api._structures_help(kwargs.values()):
            if not structures:
                structures.append(_Structures(given, wrt, hvp))
            bound = _bound(f, args, kwargs)
            transformed, flat, keywords = structures[0].prepare(bound)
            return structures[0].finish(transformed(*flat, _as_tuples(v, {}, {}), **keywords), bound)
        return product(*args, v, **kwargs)[1]

    hvp_f.__name__ = "hvp_" + f.__name__
    setattr(hvp_f, source.TRANSFORM_MARK, ("hvp", f))  # a transform of it compiles _second_order_source
    setattr(hvp_f, SECOND, ("hvp", f, *normalize_wrt(f, wrt)))
    return references.name(hvp_f, "hvp", given, wrt)


setattr(hvp, source.MAKES_GRADIENT, "hvp")
hvp.gradient_maker = grad  # specialise.nested_gradients: ac.hvp(h)(x, v) inside is jvp of a function calling it


def _over_layouts(layouts, f, kind):
    """``hvp`` or ``hessian`` of ``f`` taking *args or **kwargs (``api._Layouts``): that of the variant each
    call's count of *args values and keyword names compiles, in the variant's tuple ``wrt``, its result
    packed in the structure ``wrt`` asks for (a Hessian's blocks in rows and columns alike)."""

    @functools.wraps(f)
    def derived_layouts(*args, **kwargs):
        if kind == "hvp":
            if not args:
                raise TypeError("%s: hvp needs the arguments and a vector" % _label(f))
            transformed, flat, plan = layouts.prepare(args[:-1], kwargs)
            return layouts.pack(transformed(*flat, layouts.unpack(args[-1], plan)), plan)
        transformed, flat, plan = layouts.prepare(args, kwargs)
        return layouts.pack([layouts.pack(row, plan) for row in transformed(*flat)], plan)

    derived_layouts.__name__ = "%s_%s" % (kind, getattr(f, "__name__", "f"))
    setattr(derived_layouts, source.TRANSFORM_MARK, (kind, layouts.function))
    setattr(derived_layouts, api.LAYOUTS, layouts)  # (its transforms: api._nested_layouts, for hessian)
    return derived_layouts


def _basis(x):
    """Unit tangents for ``x`` (a float or an array), one per element, in C order."""
    if np.ndim(x) == 0:
        yield 1.0
        return
    for e in np.eye(np.size(x)):
        yield e.reshape(np.shape(x))


def _unit_tangents(args, wrt_idx, j, single):
    """``_basis`` of ``args[wrt_idx[j]]`` as tangents of grad's structure: zeros for the other ``wrt``."""
    for e in _basis(args[wrt_idx[j]]):
        yield e if single else tuple(e if k == j else _zero_like(args[m]) for k, m in enumerate(wrt_idx))


def _stacked(columns, out_shape, in_shape):
    """Columns J e_j (each of ``out_shape``) as the array of shape out_shape + in_shape."""
    if not in_shape and not out_shape:
        return float(columns[0])
    columns = [np.asarray(c) for c in columns]
    columns = [c if c.dtype.kind == "f" else c.astype(float) for c in columns]  # (float32 stays float32)
    table = np.stack([c.reshape(out_shape) for c in columns], axis=-1)
    return table.reshape(tuple(out_shape) + tuple(in_shape))


def hessian(f, wrt=0):
    """The Hessian of scalar ``f``: ``H(*args)``, its second derivatives in ``wrt``.

    One Hessian-vector product (``hvp``) per element of the differentiated inputs.

    Args:
        f: a function with a scalar output, as for ``grad``.
        wrt: as for ``grad``.

    Returns:
        A function of ``f``'s arguments returning an array of shape ``x.shape + x.shape`` for one
        ``wrt`` (a float for a float ``x``), or a tuple of tuples of blocks (block ``[i][j]`` of
        shape ``x_i.shape + x_j.shape``) for a tuple ``wrt``. For a dict, list, tuple, NamedTuple or
        dataclass argument, as JAX's ``hessian``: that structure, each number or array ``x_i`` in it
        replaced by the structure again holding the blocks ``d2f/dx_i dx_j`` at ``x_j``'s places
        (``H["w"]["b"]`` of shape ``w.shape + b.shape``); for a tuple ``wrt``, the tuple of arguments is
        that structure.

    ``jvp``, ``vjp``, ``jacobian`` and ``grad`` of ``hessian(f)`` and ``hvp(f)`` (and ``hessian`` called inside
    a differentiated function) give third derivatives, for ``f`` taking plain positional parameters and one
    ``wrt``.

    >>> def f(x, y):
    ...     return x * x * y
    >>> hessian(f, wrt=(0, 1))(1.0, 3.0)
    ((6.0, 2.0), (2.0, 0.0))
    """
    layouts = _layouts(f, wrt, "hessian", hessian)
    if layouts is not None:
        return _over_layouts(layouts, f, "hessian")
    given, f = f, _function(f, "hessian")
    wrt_idx, single = normalize_wrt(f, wrt)
    product = _jvp_of_grad((f, wrt_idx, single), wrt)

    products = []  # hvp(f, wrt), made on a first call with a structured argument

    def hessian_f(*args, **kwargs):
        if any(_structured(a) for a in args) or any(_structured(a) for a in kwargs.values()):
            if not products:
                products.append(hvp(given, wrt))
            return _structured_hessian(products[0], f, wrt_idx, single, _bound(f, args, kwargs))
        args, column = product.prepare(args, kwargs)  # bound, compiled and looked up once for all columns
        shapes = [np.shape(args[i]) for i in wrt_idx]
        blocks = [[None] * len(wrt_idx) for _ in wrt_idx]
        for j, i in enumerate(wrt_idx):
            columns = []
            for tangent in _unit_tangents(args, wrt_idx, j, single):
                hv = product.finish(column(tangent, False)[1], args)
                columns.append((hv,) if single else hv)
            for k in range(len(wrt_idx)):
                blocks[k][j] = _stacked([c[k] for c in columns], shapes[k], shapes[j])
        return blocks[0][0] if single else tuple(tuple(row) for row in blocks)

    hessian_f.__name__ = "hessian_" + f.__name__
    setattr(hessian_f, source.TRANSFORM_MARK, ("hessian", f))  # a transform of it compiles _second_order_source
    setattr(hessian_f, SECOND, ("hessian", f, wrt_idx, single))
    return references.name(hessian_f, "hessian", given, wrt)


setattr(hessian, source.MAKES_GRADIENT, "hessian")  # called inside a differentiated function: _second_order_source


def _structured(a):
    """Whether ``a`` is a container or structure (dict, list, tuple, NamedTuple, dataclass), no number or array."""
    return isinstance(a, (dict, list, tuple)) or api._is_structure(a)


def _numeric(a):
    return isinstance(a, (float, int, np.ndarray, np.generic)) and not isinstance(a, bool)


def _flat(a):
    """The numbers and arrays of the structure ``a`` in order (fields, keys as inserted, items); other leaves
    (strings, None) are not differentiated and left out."""
    if api._is_structure(a):
        return [leaf for n in api._field_names(a) for leaf in _flat(getattr(a, n))]
    if isinstance(a, dict):
        return [leaf for v in a.values() for leaf in _flat(v)]
    if isinstance(a, (list, tuple)):
        return [leaf for v in a for leaf in _flat(v)]
    return [a] if _numeric(a) else []


def _unflat(a, values):
    """``a`` with its numbers and arrays (``_flat``'s order) replaced by the next of the iterator ``values``."""
    if api._is_structure(a):
        parts = {n: _unflat(getattr(a, n), values) for n in api._field_names(a)}
        if isinstance(a, tuple):
            return type(a)(**parts)
        out = copy.copy(a)
        for n, v in parts.items():
            object.__setattr__(out, n, v)  # (as api._rebuild: frozen ones too)
        return out
    if isinstance(a, dict):
        return {k: _unflat(v, values) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return type(a)(_unflat(v, values) for v in a)
    return next(values) if _numeric(a) else a


def _structured_hessian(product, f, wrt_idx, single, args):
    """The Hessian of f in arguments that are or hold structures, by ``product`` (hvp(f, wrt)) along each unit
    tangent: as JAX's, a structure of structures, the differentiated argument's (the tuple of them for a tuple
    ``wrt``) with each number or array ``x_i`` replaced by that structure again, holding at ``x_j``'s place the
    block d2f/dx_i dx_j of shape ``x_i.shape + x_j.shape`` (a float for two floats)."""
    given = args[wrt_idx[0]] if single else tuple(args[i] for i in wrt_idx)
    leaves = _flat(given)
    zeros = [_zero_like(leaf) for leaf in leaves]
    shapes = [np.shape(leaf) for leaf in leaves]
    blocks = [[None] * len(leaves) for _ in leaves]
    for j, leaf in enumerate(leaves):
        columns = []
        for e in _basis(leaf):
            tangent = _unflat(given, iter(zeros[:j] + [e] + zeros[j + 1 :]))
            columns.append(_flat(_call(product, f, args, tangent)))
        for i in range(len(leaves)):
            blocks[i][j] = _stacked([c[i] for c in columns], shapes[i], shapes[j])
    return _unflat(given, iter([_unflat(given, iter(row)) for row in blocks]))


def _zero_like(a):
    return 0.0 if np.ndim(a) == 0 else np.zeros(np.shape(a))


def jacobian(f, wrt=0, mode="auto"):
    """The Jacobian of ``f``: ``J(*args)``, of shape ``out.shape + x.shape``.

    Args:
        f: the function, as for ``grad``; the output is a scalar or an array.
        wrt: as for ``grad``; a tuple gives a tuple of Jacobians.
        mode: ``"fwd"`` (one ``jvp`` per input element), ``"rev"`` (one ``vjp`` per output
            element) or ``"auto"`` (whichever needs fewer sweeps).

    Returns:
        A function of ``f``'s arguments returning the Jacobian (a tuple of them for a tuple ``wrt``).

    >>> import numpy as np
    >>> def f(x):
    ...     return x * x
    >>> jacobian(f)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if mode not in ("auto", "fwd", "rev"):
        raise ValueError("mode=%r: one of 'auto', 'fwd', 'rev'" % (mode,))
    given = f
    inner = getattr(f, "_adjoint_compiler_grad_of", None)
    of_jacobian = getattr(f, _JACOBIAN_OF, None)
    if of_jacobian is not None:
        return _jacobian_of_jacobian(given, of_jacobian, wrt, mode)
    # f taking *args or **kwargs, or a transform of one: the Jacobian of each call's variant (api._Layouts)
    layouts = _layouts(f, wrt, "jacobian", lambda made, w: jacobian(made, w, mode))
    if layouts is not None:
        return api._per_layout(layouts, lambda pack, out: pack(out))
    # jacobian(grad(h)) is h's Hessian: jvp and vjp of grad(h) are forward mode over its gradient code
    f = inner[0] if inner is not None else _function(f, "jacobian")
    wrt_idx, single = normalize_wrt(f, wrt)
    forward, backward = jvp(given if inner is not None else f, wrt), vjp(given if inner is not None else f, wrt)

    def jacobian_f(*args, **kwargs):
        args = _bound(f, args, kwargs)
        entry = _copied(args) if any(isinstance(a, (np.ndarray, list, dict)) for a in args) else args
        value, pullback = _call(backward, f, args)
        if entry is not args and not _unchanged(entry, args):
            # f changes its arguments (x *= 2.0): they are changed once, as f's one run changes them, and
            # every other call runs on a copy of them as given
            args = _Given(entry)
        out_shape = np.shape(value)
        in_shapes = [np.shape(args[i]) for i in wrt_idx]
        inputs = sum(int(np.prod(s)) for s in in_shapes)
        use = mode if mode != "auto" else ("fwd" if inputs <= int(np.prod(out_shape)) else "rev")
        blocks = []
        pulled = []  # the pullback of each unit cotangent, all wrt at once (mode "rev")
        if use != "fwd":
            for e in _basis(value):
                try:
                    pulled.append(pullback(e))
                except runtime.SpentPullbackError:  # (it undoes in-place updates made in a loop: once only)
                    pulled.append(_call(backward, f, _fresh(args))[1](e))
        for j, i in enumerate(wrt_idx):
            if use == "fwd":
                columns = []
                for tangent in _unit_tangents(args, wrt_idx, j, single):
                    columns.append(_call(forward, f, _fresh(args), tangent)[1])
                blocks.append(_stacked(columns, out_shape, in_shapes[j]))
            else:
                rows = []
                for g in pulled:
                    row = np.asarray(g if single else g[j])
                    rows.append((row if row.dtype.kind == "f" else row.astype(float)).reshape(-1))
                table = np.stack(rows) if rows else np.zeros((0, int(np.prod(in_shapes[j]))))
                blocks.append(
                    float(table[0, 0])
                    if not out_shape and not in_shapes[j]
                    else table.reshape(out_shape + in_shapes[j])
                )
        return blocks[0] if single else tuple(blocks)

    jacobian_f.__name__ = "jacobian_" + f.__name__
    setattr(jacobian_f, source.TRANSFORM_MARK, ("jacobian", f))  # a transform of it is refused at f
    if inner is None:
        setattr(jacobian_f, _JACOBIAN_OF, (f, wrt_idx, single))
    return references.name(jacobian_f, "jacobian", given, wrt, **({} if mode == "auto" else {"mode": mode}))


_JACOBIAN_OF = "_adjoint_compiler_jacobian_of"  # on jacobian(h, wrt)'s function: (h, wrt indices, single)


def _products_of_jacobian(given, wrt):
    """``(jvp, vjp)`` of ``given`` = jacobian(h, u) in ``wrt``: its second-derivative blocks
    (``_jacobian_of_jacobian``) contracted with the tangent over w's axes, or with the cotangent over
    out + u's axes."""
    h, inner_wrt, inner_single = getattr(given, _JACOBIAN_OF)
    second = jacobian(given, wrt)
    wrt_idx, single = normalize_wrt(h, wrt)

    def blocks(args):  # [row per u][block per w]
        table = second(*args)
        rows = [table] if inner_single else list(table)
        return [[row] if single else list(row) for row in rows]

    def plain(value):
        return float(value) if np.ndim(value) == 0 else value

    def jvp_jacobian_f(*args, **kwargs):
        *args, tangent = args
        args = _bound(h, args, kwargs)
        tangents = [tangent] if single else list(tangent)
        rows = [
            plain(sum(np.tensordot(block, t, axes=np.ndim(t)) for block, t in zip(row, tangents)))
            for row in blocks(args)
        ]
        return given(*args), rows[0] if inner_single else tuple(rows)

    def vjp_jacobian_f(*args, **kwargs):
        args = _bound(h, args, kwargs)
        value, table = given(*args), blocks(args)

        def pullback(cotangent):
            cotangents = [cotangent] if inner_single else list(cotangent)
            out = [
                plain(sum(np.tensordot(c, row[j], axes=np.ndim(c)) for c, row in zip(cotangents, table)))
                for j in range(len(wrt_idx))
            ]
            return out[0] if single else tuple(out)

        return value, pullback

    return jvp_jacobian_f, vjp_jacobian_f


api.NESTED["vjp(jacobian)"] = lambda f, wrt: _products_of_jacobian(f, wrt)[1]


def _jacobian_of_jacobian(given, of_jacobian, wrt, mode):
    """jacobian(jacobian(h, u), w): column k of h's Jacobian in u is h's derivative along the unit tangent
    e_k (``along``: tangent code, which reverse and forward mode differentiate again); its Jacobian in w,
    stacked over k, has the shape out.shape + u.shape + w.shape. A tuple ``u`` or ``w`` gives a tuple (of
    tuples, u's outside) of those blocks, as JAX's ``jacfwd(jacrev(f, argnums), argnums)``."""
    h, inner_wrt, inner_single = of_jacobian
    wrt_idx, single = normalize_wrt(h, wrt)
    blocks = []  # per inner argument: (its index, the tangent's name, the outer jacobian of h along it)
    for i in inner_wrt:
        made = along(h, (i,), True)
        if made is None:  # (h takes *args or **kwargs)
            return api._check_function(given, "jacobian")
        f_along, tangent = made
        blocks.append((i, tangent, jacobian(f_along, wrt_idx[0] if single else wrt_idx, mode)))

    def block(args, i, tangent, outer, j):
        """d/d args[j] of h's Jacobian in args[i]: out + u.shape + w.shape."""
        slices = [outer(*args, **{tangent: e}) for e in _basis(args[i])]
        slices = [np.asarray(s if single else s[j]) for s in slices]
        w_shape = np.shape(args[wrt_idx[j]])
        out_shape = slices[0].shape[: slices[0].ndim - len(w_shape)]
        table = np.stack([s.reshape(int(np.prod(out_shape)), -1) for s in slices], axis=1)
        result = table.reshape(out_shape + np.shape(args[i]) + w_shape)
        return float(result) if result.ndim == 0 else result

    def jacobian_jacobian_f(*args, **kwargs):
        args = _bound(h, args, kwargs)
        rows = []
        for i, tangent, outer in blocks:
            row = tuple(block(args, i, tangent, outer, j) for j in range(len(wrt_idx)))
            rows.append(row[0] if single else row)
        return rows[0] if inner_single else tuple(rows)

    jacobian_jacobian_f.__name__ = "jacobian_jacobian_" + h.__name__
    setattr(jacobian_jacobian_f, source.TRANSFORM_MARK, ("jacobian", h))
    return references.name(jacobian_jacobian_f, "jacobian", given, wrt, **({} if mode == "auto" else {"mode": mode}))


jacobian._adjoint_compiler_refused_inside = (  # specialise._gradient_call
    "ac.jacobian called inside a differentiated function",
    "write its columns with ac.jvp (or its rows with ac.vjp) in a loop, or call ac.hessian(h) for the "
    "Jacobian of ac.grad(h)",
)


def _precision_of(t, value):
    """The tangent ``t`` of the output ``value`` in value's float precision (in structure, element by
    element): a float32 output has a float32 tangent, though NumPy 1.x promotes a float32 scalar with a
    Python float to float64 on the way, or a rule computed a factor in float64."""
    if isinstance(value, (tuple, list)) and isinstance(t, (tuple, list)) and len(t) == len(value):
        parts = [_precision_of(a, v) for a, v in zip(t, value)]
        return type(t)(*parts) if hasattr(type(t), "_fields") else type(t)(parts)  # (a NamedTuple's too)
    if isinstance(value, dict) and isinstance(t, dict):
        return {k: _precision_of(a, value[k]) if k in value else a for k, a in t.items()}
    if type(t) is type(value) and api._is_structure(t):  # a dataclass the function built (runtime.structure)
        return runtime.structure(
            type(t), [_precision_of(getattr(t, n), getattr(value, n)) for n in api._field_names(t)]
        )
    if type(t) is complex or getattr(getattr(t, "dtype", None), "kind", None) == "c":
        # a complex output (a negative float to a fractional power): refused as reverse mode refuses it
        raise TypeError(_COMPLEX)
    if type(value) is float:  # a float output has a float tangent, as grad gives a float argument a float
        real = isinstance(t, (np.ndarray, np.generic)) and t.ndim == 0 and t.dtype.kind in "fiu"
        return float(t) if real or type(t) is int else t
    dtype = getattr(value, "dtype", None)
    if dtype is None or dtype.kind != "f" or getattr(t, "dtype", dtype) == dtype:
        if isinstance(value, np.generic) and isinstance(t, np.ndarray) and t.ndim == 0:
            return value.dtype.type(t)  # an np.float64 output's tangent is an np.float64, not a 0-d array
        return t
    return np.asarray(t, dtype) if isinstance(value, np.ndarray) else dtype.type(t)


def _complex_tangent(t, arg):
    """The tangent ``t`` of the argument ``arg`` of a call with complex arguments: complex for a complex
    ``arg`` (of its precision), real for a real one (a complex change of a real number is no change of it)."""
    if isinstance(arg, (list, tuple)):
        return type(arg)(_complex_tangent(d, a) for d, a in zip(t, arg))
    if isinstance(arg, dict):
        return {k: _complex_tangent(t[k], a) for k, a in arg.items()}
    if not np.iscomplexobj(arg):
        if np.iscomplexobj(t):
            raise TypeError("the tangent of a real argument is complex: a real number changes along real numbers")
        return _as_float(t)
    if isinstance(arg, np.ndarray):
        return np.asarray(t, dtype=arg.dtype)
    if isinstance(arg, np.generic):
        return arg.dtype.type(t)
    return complex(t)


def _as_float(a):
    """A differentiated argument as floats (an int would make an int tangent, or truncate one)."""
    if isinstance(a, bool) or not isinstance(a, (int, np.integer, np.ndarray)):
        return a
    if isinstance(a, np.ndarray):
        return a.astype(float) if a.dtype.kind in "biu" else a
    return float(a)


references.TRANSFORMS.update(jvp=jvp, hvp=hvp, hessian=hessian, jacobian=jacobian)
