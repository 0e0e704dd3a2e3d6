"""Public reverse-mode entry points: grad, value_and_grad, vjp, tape_stats, differentiate, adjoint_source.
Forward mode and the transforms derived from these (jvp, hvp, hessian, jacobian) are in ``derived``.

Compiled code is cached per function and (wrt, mode, which arguments are scalars),
and reused until a global or closure variable it read has been rebound: calling a
gradient again does not re-parse. ``grad`` and ``value_and_grad`` compile one
function for every argument type (from the scalar output the compiler infers which
values are scalars by itself); ``vjp`` compiles one variant per set of scalar
arguments, without broadcasting bookkeeping for them, which is what makes scalar
pullbacks cheap.

What the transforms return pickles by reference to the user's function (``references``); a pullback
does not pickle (it holds one call's tape).

Any Python callable with source can be differentiated: a function of any signature, a bound
method (``self`` fixed), an object with a Python ``__call__``, a ``functools.partial``. With
``*args`` or ``**kwargs`` it is compiled per count of ``*args`` values and set of keywords
(``_Layouts``): an int ``wrt`` counts the positional arguments as passed, a name is a parameter
(``*args``: a tuple of gradients, ``**kw``: a dict) or a key passed to ``**kw``. Calls whose
arguments are or hold NamedTuples, dataclasses or objects take ``_Structures``' path.

Invariant: a gradient has its argument's type and shape: a float for a float or an
int, an array of the argument's shape and float dtype (float64 for an integer array)
for an array, a list for a list, a dict for a dict, a NamedTuple or dataclass of the
argument's type (a field that is no number or array keeps its value); a bool's (or a
bool array's) is zero, as a comparison's; a complex argument's is complex, under autograd's and
JAX's convention (``_complex_call``, docs/complex.md), and second order of complex arguments raises
TypeError naming them when called.

>>> import numpy as np
>>> def f(x, w):
...     return x * np.sum(w * w)
>>> gx, gw = grad(f, wrt=(0, 1))(2, np.array([1.0, 3.0]))
>>> type(gx).__name__, gx, gw.shape, gw.tolist()
('float', 10.0, (2,), [4.0, 12.0])
>>> def h(xs):
...     return xs[0] * xs[1]
>>> value, pullback = vjp(h)([2.0, 3.0])
>>> value, pullback(1.0)
(6.0, [3.0, 2.0])
>>> from typing import NamedTuple
>>> class Pair(NamedTuple):
...     a: float
...     b: float
>>> def k(p, *rest, scale=1.0):
...     return p.a * p.b * rest[0] * scale
>>> grad(k, wrt=(0, 1, "scale"))(Pair(2.0, 3.0), 4.0, scale=0.5)
(Pair(a=6.0, b=4.0), 3.0, 24.0)
"""

import copy
import dataclasses
import functools
import inspect
import os
import linecache
import numbers
import sys
import types
import warnings
import weakref

import numpy as np

from adjoint_compiler import diskcache, display, effects, load, pipeline, references, refusals, runtime, source, trees
from adjoint_compiler.runtime import checkpointed  # noqa: F401  (public: ac.checkpointed)
from adjoint_compiler.errors import CompileError, InternalError, SourceLocation, UnsupportedError
from adjoint_compiler.rules import registry

_CACHE = weakref.WeakKeyDictionary()


def _arity(f):
    """How many arguments the emitted code takes when a call passes them all positionally; -1 where
    a call must always be bound by name (keyword-only parameters come after the positional ones)."""
    code = f.__code__
    return -1 if code.co_kwonlyargcount else code.co_argcount


def _params(f):
    try:
        return list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return []


def normalize_wrt(f, wrt):
    """(tuple of parameter indices, single?) for an int, a name, or a tuple of them."""
    single = not isinstance(wrt, (tuple, list))
    items = (wrt,) if single else tuple(wrt)
    params = _params(f)
    out = []
    for w in items:
        if isinstance(w, str):
            if w not in params:
                raise TypeError(
                    "wrt=%r is not a parameter of %s (parameters: %s)"
                    % (w, getattr(f, "__qualname__", f), ", ".join(params))
                )
            out.append(params.index(w))
        elif isinstance(w, int) and not isinstance(w, bool):
            if not -len(params) <= w < len(params):
                raise TypeError(
                    "wrt=%d is out of range: %s has %d parameters" % (w, getattr(f, "__qualname__", f), len(params))
                )
            out.append(w % len(params))
        else:
            raise TypeError("wrt must be an int, a parameter name, or a tuple of them, not %r" % (w,))
    if not out:
        raise TypeError("wrt is empty")
    return tuple(out), single


def _is_scalar(a):
    t = type(a)
    return t is float or t is int or isinstance(a, np.number) or (isinstance(a, np.ndarray) and a.ndim == 0)


# f -> {parameter index: "kind" or "length"}: what its compilation must know of those arguments (a list
# or an array; how long), learnt from a first compilation that could not go on without it (``_compiled``)
_NEEDS = weakref.WeakKeyDictionary()


def _sequence_kind(a):
    t = type(a)
    if t is dict:
        return "dict"
    if t is str or t is bytes:  # (text: "%.2f" % x formats, ops._text)
        return "str"
    return "list" if t is list else "tuple" if t is tuple else "array" if t is np.ndarray and a.ndim else "other"


def structure_of(needs, args):
    """The facts ``needs`` asks for of ``args``: ((index, kind, length or None), ...), in index order; kind is
    "list", "tuple", "array" (of at least one dimension), "str" (or bytes) or "other". Part of every cache key
    of a function that has needs, so that each variant is only ever called with arguments of the structure it
    assumed.
    A dict's (kind "dict") length is the tuple of its keys."""
    out = []
    for i in sorted(needs):
        a = args[i] if i < len(args) else None
        kind = _sequence_kind(a)
        if kind == "dict":  # a dict's "length" is its keys, in order (h(**kw) of a dict argument)
            out.append((i, kind, tuple(a) if needs[i] == "length" else None))
        else:
            out.append((i, kind, len(a) if needs[i] == "length" and kind != "other" else None))
    return tuple(out)


def _new_needs(f, e, needs):
    """The parameters (by index) whose structure the refusal ``e`` says would have let it compile, beyond
    those ``needs`` already gives: {index: "kind" or "length"}, empty when there are none."""
    params = _params(f)
    out = {}
    for name, what in getattr(e, "needs", ()):
        if name in params:
            i = params.index(name)
            if needs.get(i) != "length" and needs.get(i) != what:
                out[i] = what
    return out


def _compiled(f, wrt, mode, args, scalars=True):
    """The compilation of ``f`` for these arguments (from the cache while current). ``scalars``: compile a
    variant per set of scalar arguments. A function whose code depends on whether an argument is a list and
    on its length (``h(*xs)``, a store into ``xs[:]``) is compiled per such structure of those arguments
    (``_NEEDS``), found by a first compilation that refuses without it; with no arguments it stays refused."""
    kinds = tuple(i for i, a in enumerate(args) if _is_scalar(a) and type(a) is not np.ndarray) if scalars else ()
    texts = {i: "kind" for i, a in enumerate(args) if type(a) in (str, bytes) and i not in (_NEEDS.get(f) or {})}
    if texts:  # a str argument: compiled knowing it is text (fmt % x formats: no derivative, no remainder)
        _NEEDS[f] = {**(_NEEDS.get(f) or {}), **texts}
    while True:
        needs = _NEEDS.get(f) if args else None
        structure = structure_of(needs, args) if needs else ()
        key = (wrt, mode, kinds, structure)
        per_fn = _CACHE.get(f)
        c = per_fn.get(key) if per_fn is not None else None
        if c is not None and c.current():
            return c
        try:
            with pipeline.LOCK:  # compile once, whichever thread asks first
                per_fn = _CACHE.setdefault(f, {})
                c = per_fn.get(key)
                if c is None or not c.current():  # never stale: a global it read may have been rebound since
                    c = per_fn[key] = pipeline.compile(f, wrt, mode, kinds, structure=structure)
                return c
        except UnsupportedError as e:
            more = _new_needs(f, e, needs or {}) if args else None
            if not more:
                raise
            _NEEDS[f] = {**(needs or {}), **more}  # and compile again, knowing those arguments


def variant_key(f, args):
    """What of ``args`` the gradient code of ``f`` compiled by ``_compiled(f, ..., args)`` depends on beyond
    their types: which are text (``fmt % x`` formats) and the structure ``_NEEDS`` names."""
    key = tuple(i for i, a in enumerate(args) if type(a) in (str, bytes))
    return key + structure_of(_NEEDS[f], args) if f in _NEEDS else key


def _bind(f, args, kwargs):
    """Positional arguments for every parameter (the emitted code takes them positionally)."""
    try:
        bound = inspect.signature(f).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError("%s(): %s" % (f.__qualname__, e)) from None
    bound.apply_defaults()
    return tuple(bound.args) + tuple(bound.kwargs.values())  # keyword-only ones last, as the emitted code has them


_COMPLEX = (
    "complex numbers are differentiated by grad, value_and_grad, vjp and jvp of a function of complex arguments "
    "(docs/complex.md); second order of them, and complex values made from real arguments only, are not "
    "supported: split such values into real and imaginary parts"
)


class _ComplexArguments(TypeError):
    """A differentiated argument is or holds complex numbers: first order takes it (``_complex_call``,
    derived.jvp), second order refuses it with this TypeError."""


_REAL_NUMBERS = frozenset((float, int))


def _complex_kind(a):
    """How ``a`` is complex ("a complex number", "a complex128 array", "a list holding ...") or None: a
    differentiated argument that is, or holds, complex numbers (cheap for floats and float arrays)."""
    t = type(a)
    if t is float or t is int:
        return None
    if t is complex:
        return "a complex number"
    if isinstance(a, (np.ndarray, np.generic)):
        return (
            "a %s %s" % (a.dtype, "array" if isinstance(a, np.ndarray) else "number") if a.dtype.kind == "c" else None
        )
    if (t is list or t is tuple) and (not a or type(a[0]) in _REAL_NUMBERS):
        try:  # numbers: their sum is a complex number if one is (a list of floats is summed at C speed)
            if type(sum(a)) in _REAL_NUMBERS:
                return None
        except TypeError:  # not numbers alone: each is looked at below
            pass
    if isinstance(a, (list, tuple, dict)):
        for v in a.values() if isinstance(a, dict) else a:
            inner = _complex_kind(v)
            if inner is not None:
                return "a %s holding %s" % (type(a).__name__, inner)
    return None


def _truth_value(a):
    """A bool, NumPy bool or bool array: its gradient is zero (a truth value has no derivative), as
    that of the comparison that makes one."""
    return type(a) is bool or isinstance(a, (np.ndarray, np.bool_)) and a.dtype.kind == "b"


_IS_FLOAT = float.__instancecheck__


def _param_name(f, i):
    """The name of ``f``'s parameter ``i`` (``#i`` past the named ones: ``*args``)."""
    params = _params(f)
    return params[i] if i < len(params) else "#%d" % i


def _refuse_other_arithmetic(f, args):
    """A TypeError for an argument (or an element of a list, tuple or dict argument) that is an ``np.matrix`` or
    a masked array: the derivative rules would read ``A * B`` as element-wise, a silently wrong gradient."""
    for i, a in enumerate(args):
        t = type(a)
        if t is float or t is np.ndarray:
            continue
        if t is dict:
            inner = a.values()
        elif (t is list or t is tuple) and a and type(a[0]) is not float:  # (a list of floats: no scan)
            inner = a
        else:
            inner = (a,)
        for v in inner:
            if isinstance(v, refusals.OTHER_ARITHMETIC):
                name = _param_name(f, i)
                what, hint = (
                    ("a numpy.matrix, whose * is a matrix product", "np.asarray(%s), and @ for products" % name)
                    if isinstance(v, np.matrix)
                    else ("a masked array, whose operations skip masked elements", "%s.filled(...)" % name)
                )
                raise TypeError(
                    "argument %s of %s %s %s: the derivative rules are NumPy's element-wise arithmetic on plain "
                    "arrays; pass %s" % (name, _label(f), "is" if v is a else "holds", what, hint)
                )


def _check_differentiated(f, args, wrt, plain=None):
    """Raise ``_ComplexArguments``, a TypeError naming it, for a differentiated argument that is or holds complex
    numbers (reverse mode catches it: ``_complex_call``; forward mode refuses). Returns whether any is a truth
    value. ``plain``, a list: the indices of the arguments that are lists of floats alone are appended to it (no
    bool, int or complex; a float subclass such as np.float64 counts as a float, as ``_like`` takes it), for
    ``_like``."""
    _refuse_other_arithmetic(f, args)
    truth = False
    for i in wrt:
        a = args[i]
        t = type(a)
        if t is float or t is np.ndarray and a.dtype.kind == "f":  # neither complex nor a truth value
            continue
        if t is list and all(map(_IS_FLOAT, a)):  # one pass at C speed: not complex, not a truth value
            if plain is not None:
                plain.append(i)
            continue
        kind = _complex_kind(a)
        if kind is not None:
            name = _param_name(f, i)
            raise _ComplexArguments("argument %s of %s is %s; %s" % (name, _label(f), kind, _COMPLEX))
        truth = truth or _truth_value(a)
    return truth


def _reraise(e, args, f=None):
    """An error from inside the emitted code, as the user's error: a run-time in-place refusal becomes the
    UnsupportedError it is, a TypeError caused by complex arguments says so; anything else is re-raised."""
    if isinstance(e, runtime.InPlaceUpdateError):
        raise _unsupported(e, f) from None
    if isinstance(e, runtime.RuleResultError):
        raise runtime.RuleResultError(e.what, full_path(e.filename, f), e.line, e.col) from None
    _refuse_complex(args)
    if isinstance(e, TypeError) and "'complex'" in str(e):  # (a complex value made inside: 2.0 ** 0.5 of a negative)
        raise TypeError("%s: %s" % (_COMPLEX, e)) from None
    raise e


def refuse_real_only(compiled, f):
    """Refuse complex arguments to ``compiled``'s code where it applies a rule written for real numbers only
    (``Compiled.real_only``): an UnsupportedError at that rule's call."""
    real_only = compiled.real_only
    if real_only is None or real_only:
        label, where = next(iter(real_only.values())) if real_only else ("a stored compilation", None)
        raise UnsupportedError(
            "%s of complex values (its derivative rule is written for real numbers)" % label,
            SourceLocation(full_path(where.filename, f), where.line, where.col) if where is not None else None,
            "split complex values into real and imaginary parts, or keep them out of wrt",
        )


def _checked_real(f, args, wrt, plain=None):
    """``_check_differentiated``'s result, or None where an argument is complex (then the caller takes its
    complex path: ``_complex_call``, derived.jvp's ``complex_run``). One not differentiated too: the values
    computed from it are complex, and a rule for real numbers applied to one would drop its derivative."""
    try:
        truth = _check_differentiated(f, args, wrt, plain)
    except _ComplexArguments:
        return None
    for i, a in enumerate(args):
        if i not in wrt and _complex_kind(a) is not None:
            return None
    return truth


def _complex_call(f, wrt, single, args, function, compiled, pullback=False):
    """Run the gradient ``function`` (``compiled``'s) with complex arguments: (value, the gradients in ``wrt``'s
    structure: one, or a tuple where ``single`` is false), or with ``pullback`` (value, a pullback returning
    them). The convention (autograd's and JAX's, docs/complex.md): the cotangent ``c`` of a value pairs with
    its change ``dz`` as ``Re(sum(c * dz))``, so that ``grad`` of a holomorphic ``f`` is ``f'(z)`` and of a
    real-valued one ``df/dx - 1j df/dy``. Each rule the code applies must hold for complex values
    (``complex_ok``); the first that does not is refused, at its call. A real argument's gradient is the real
    part of its cotangent (the imaginary part pairs with no change of it), so casts that drop an imaginary part
    are harmless there; for a complex value they would be wrong, and the code runs with NumPy's
    ComplexWarning an error (``run_complex``): never silent."""
    refuse_real_only(compiled, f)
    given = args
    args = tuple(copy.deepcopy(a) if isinstance(a, (list, dict)) else a for a in args)  # (as passed, for the shapes)
    value, out = run_complex(f, args, function, *given)

    def finish(gs):
        gs = _complex_like(gs, args, wrt)
        return gs[0] if single else gs

    if not pullback:
        if np.iscomplexobj(value):  # (as autograd's and JAX's grad: which real function of it is meant is not said)
            raise TypeError(
                "grad needs a function with a real scalar output, but this one returned a complex number; take "
                "its real part or absolute value, or use adjoint_compiler.vjp with a complex cotangent"
            )
        return value, finish(out)

    def pullback_f(cotangent):
        return finish(run_complex(f, args, out, _plain_cotangent(cotangent)))

    pullback_f.__qualname__ = _PULLBACK
    return value, pullback_f


def run_complex(f, args, function, *call_args):
    """``function(*call_args)``, derivative code of ``f`` run at complex ``args``: a cast that would drop an
    imaginary part raises (NumPy's ComplexWarning an error), except where a real value's cotangent is made
    complex (runtime._precision_of, told by ``runtime.COMPLEX_CALL``); its errors as the user's
    (``_reraise_complex``)."""
    runtime.COMPLEX_CALL.depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", _COMPLEX_WARNING)
            return function(*call_args)
    except (runtime.InPlaceUpdateError, TypeError, _COMPLEX_WARNING) as e:
        _reraise_complex(e, args, f)
    except runtime.ComplexRefusal as e:  # a complex operand of a rule for real numbers: refused as at compile time
        raise UnsupportedError(
            "%s of complex values (its derivative rule is written for real numbers)" % e.label,
            SourceLocation(full_path(e.filename, f), e.line, e.col),
            "split complex values into real and imaginary parts, or keep them out of wrt",
        ) from None
    finally:
        runtime.COMPLEX_CALL.depth -= 1


def _reraise_complex(e, args, f):
    """An error from gradient code run with complex arguments, as the user's error (see ``_reraise``)."""
    if isinstance(e, _COMPLEX_WARNING) or (isinstance(e, TypeError) and "complex" in str(e)):
        raise TypeError(
            "%s: %s (a value of the differentiated function's code that must stay real, or a NumPy function "
            "that does not take complex numbers)" % (_COMPLEX, e)
        ) from None
    if isinstance(e, (runtime.InPlaceUpdateError, runtime.RuleResultError)):
        _reraise(e, args, f)
    raise e


def _complex_like(grads, args, wrt):
    """The emitted code's gradients (one, or a tuple for several ``wrt``), each given its argument's type:
    complex for a complex argument, the real part for a real one."""
    grads = (grads,) if len(wrt) == 1 else tuple(grads)
    return tuple(_complex_one(g, args[i]) for g, i in zip(grads, wrt))


def _complex_one(g, arg):
    if isinstance(arg, dict) and isinstance(g, dict):
        return {k: _complex_one(g[k], v) for k, v in arg.items()}
    if isinstance(arg, (list, tuple)) and not _is_structure(arg):
        if isinstance(g, np.ndarray) and g.shape[:1] == (len(arg),):
            g = list(g)
        if not isinstance(g, (list, tuple)) or len(g) != len(arg):
            raise InternalError("gradient %r for a sequence of length %d" % (type(g).__name__, len(arg)))
        return type(arg)(_complex_one(v, a) for v, a in zip(g, arg))
    if _complex_kind(arg) is None:  # a real argument: the real part (its cotangent's imaginary part pairs with nothing)
        return _like(np.real(g) if np.iscomplexobj(g) else g, arg)
    if isinstance(arg, np.ndarray):
        out = np.array(np.broadcast_to(g, arg.shape), dtype=arg.dtype)
        return out
    if isinstance(arg, np.generic):
        return arg.dtype.type(g)
    return complex(g)


_COMPLEX_WARNING = np.exceptions.ComplexWarning if hasattr(np, "exceptions") else np.ComplexWarning


def _complex_array(a):
    """A complex NumPy array or scalar (cheap: lists are not converted to arrays to find out)."""
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "c"


def _refuse_complex(args):
    """After a TypeError inside the emitted code: say so if complex arguments caused it."""
    if any(isinstance(a, complex) or np.iscomplexobj(a) for a in args):
        raise TypeError(_COMPLEX) from None


def _to_float(g, arg):
    if type(g) is float:
        return g
    if isinstance(g, complex) or _complex_array(g) or isinstance(arg, complex):
        raise TypeError(_COMPLEX)
    return float(g)


def _like(g, arg, plain=False):
    """Give the gradient ``g`` the type and shape of its argument ``arg``. ``plain``: ``arg`` is known to be
    a list of floats alone (``_check_differentiated`` looked at it in this call)."""
    t = type(arg)
    if t is np.ndarray and type(g) is np.ndarray and g.dtype == arg.dtype and g.shape == arg.shape:
        if arg.dtype.kind == "f":  # the common array case: nothing to convert or check
            # (a read-only view, such as the seed of np.sum spread over x, becomes an array the user owns)
            return g if g.flags.writeable else g.copy()
    if t is list and type(g) is list and len(g) == len(arg) and g and type(g[0]) is float:
        # a new list the emitted code made, of Python floats only (an np.float64, array or complex element
        # would make the sum one; the emitted code starts each element at 0.0, so none is an int), for a
        # list of floats (no bool, whose gradient is 0.0); the sum inline (a call costs as much as it)
        if plain or all(map(_IS_FLOAT, arg)):
            try:
                if type(sum(g)) is float:
                    return g
            except TypeError:  # not numbers alone: converted below
                pass
    if t is complex or type(g) is complex or _complex_array(arg) or _complex_array(g):
        raise TypeError(_COMPLEX)
    if t is float or t is int:
        return float(g)
    if _truth_value(arg):
        return 0.0 if np.ndim(arg) == 0 and not isinstance(arg, np.ndarray) else np.zeros(np.shape(arg))
    if isinstance(arg, np.ndarray):
        dtype = arg.dtype if arg.dtype.kind in "fc" else np.dtype(float)
        out = np.asarray(g, dtype=dtype)
        if out.shape != arg.shape:
            raise InternalError("gradient of shape %s for an argument of shape %s" % (out.shape, arg.shape))
        return out if out.flags.writeable else out.copy()
    if isinstance(arg, dict) and isinstance(g, dict):
        return {k: _like(g[k], v) for k, v in arg.items()}
    if _is_structure(arg):  # a NamedTuple the code took as a tuple
        return _rebuild(g, arg)
    if isinstance(arg, (list, tuple)):  # a list's gradient is a list (of its elements' gradients)
        if len(g) != len(arg):
            raise InternalError("gradient of length %d for a sequence of length %d" % (len(g), len(arg)))
        if type(g) is type(arg) is list and set(map(type, g)) == {float} and bool not in set(map(type, arg)):
            return g  # a new list of Python floats already (the emitted code made it)
        return type(arg)([v if type(v) is float and type(a) is not bool else _like(v, a) for v, a in zip(g, arg)])
    if isinstance(arg, np.generic):
        return arg.dtype.type(g) if arg.dtype.kind in "fc" else float(g)
    return g


def _converter(arg):
    t = type(arg)
    return _to_float if t is float or t is int else _like


def _generic_finisher(wrt, single):
    """Like _finisher, for code that serves every argument type (the float case stays one check)."""
    # plain: the indices of the arguments _check_differentiated found to be lists of floats in this call.
    # A Python float passes through unconverted, unless its argument is a narrower NumPy scalar
    # (np.float32(2.0) of x * 2.0, whose gradient the emitted code writes as the constant 2.0)
    if len(wrt) == 1:
        i = wrt[0]
        if single:
            return lambda g, args, plain=(): (
                g if type(g) is float and type(args[i]) not in _NARROW else _like(g, args[i], i in plain)
            )
        return lambda g, args, plain=(): (
            g if type(g) is float and type(args[i]) not in _NARROW else _like(g, args[i], i in plain),
        )

    def slow(gs, args, plain):
        return tuple(
            [
                g if type(g) is float and type(args[i]) not in _NARROW else _like(g, args[i], i in plain)
                for g, i in zip(gs, wrt)
            ]
        )

    # all-float gradients pass through untouched; the common arities get the test unrolled because on
    # tiny functions a loop here costs as much as the whole adjoint sweep
    if len(wrt) == 2:
        i, j = wrt

        def two(gs, args, plain=()):
            g, h = gs
            if type(g) is float and type(h) is float and type(args[i]) not in _NARROW and type(args[j]) not in _NARROW:
                return gs
            return slow(gs, args, plain)

        return two
    if len(wrt) == 3:
        return lambda gs, args, plain=(): (
            gs
            if type(gs[0]) is float
            and type(gs[1]) is float
            and type(gs[2]) is float
            and not any(type(args[i]) in _NARROW for i in wrt)
            else slow(gs, args, plain)
        )
    return lambda gs, args, plain=(): (
        gs
        if all(type(g) is float for g in gs) and not any(type(args[i]) in _NARROW for i in wrt)
        else slow(gs, args, plain)
    )


# NumPy scalar types a Python float gradient would widen (np.float64 is a float: it passes as one)
_NARROW = frozenset((np.float32, np.float16))


class _Generic:
    """grad's dispatch: one compiled function for every argument type.

    In grad mode the output is checked to be a scalar, and from that the
    compiler infers which values are scalars by itself; specialising on the
    argument types would cost more per call than it saves.
    """

    def __init__(self, f, wrt, single):
        self.f = f
        self.wrt = wrt
        self.nargs = _arity(f)
        self.finish = _generic_finisher(wrt, single)
        self.function = None
        # the compiled function where the wrapper's fast path (``_fast_source``) may call it, and the check that
        # it is current (None: it has no guards); None where it gives arguments their new contents (then the
        # gradients need copies of them as passed), was compiled for their structure or met structures
        self.fast = self.current = self.recheck = None
        self.structured = False
        self.compiled = None
        self.last = None  # the compilation ``get`` gave last (checked after its call: ``check_unchanged``)
        self.changes_arguments = False
        registry.hold(self)  # a register_adjoint may replace a rule the held code calls or inlined

    def clear(self):
        self.function = self.compiled = self.fast = None

    def get(self, args=()):
        """The compiled function; ``self.function`` holds it only when no global it read can go stale, and
        the function needs nothing of its arguments' structure (``_NEEDS``: then each call looks it up)."""
        if self.f in _NEEDS:
            self.fast = None
            c = self.last = _compiled(self.f, self.wrt, "grad", args, scalars=False)
            self.changes_arguments = c.function.__globals__.get("put_back") is runtime.put_back
            return c.function
        c = self.compiled
        if c is None or not c.current():
            c = _compiled(self.f, self.wrt, "grad", args, scalars=False)
            if self.f in _NEEDS:  # compiled for the structure of these arguments: not for every call
                return self.get(args)
            self.compiled = c
            # it gives list and dict arguments their new contents (xs.append(v)): their gradients have
            # the structure they were passed with
            self.changes_arguments = c.function.__globals__.get("put_back") is runtime.put_back
            if not c.guards:
                self.function = c.function
            self.current = c.current if c.guards else None
            self.recheck = c.current if c.guards and _may_see_rebinding(c) else None  # (after the call)
            self.fast = None if self.changes_arguments or self.structured or c.makes_complex else c.function
            if c.makes_complex:  # (each call goes to ``general``, which runs it as complex arguments are run)
                self.function = self.current = None
        self.last = c
        return c.function


def _may_see_rebinding(compiled):
    """Whether ``check_unchanged`` may refuse a run of ``compiled``: a guard it reads after code that may run
    code the compiler did not follow (its ``exposed``), or one held in what is not a dict or a cell."""
    exposed = getattr(compiled, "exposed", None)
    return exposed is None or any(
        (id(h), name) in exposed or type(h) not in (dict, types.CellType) for h, name, _ in compiled.guards
    )


def check_unchanged(compiled, f):
    """After code ``compiled`` with guards ran: a global or closure variable it holds the compile-time value of,
    rebound while it ran, was perhaps read stale: refused, located at its read. What the compiler sees
    rebinding one is refused when compiling (``refusals.refuse_stale_reads``); this catches what it cannot see
    (an operator or method of an argument's class defined in another module, another thread). The call's side
    effects have happened; the next call compiles again for the new value."""
    if compiled is None or compiled.current():
        return
    exposed = getattr(compiled, "exposed", None)
    for holder, name, value in compiled.guards:
        if exposed is not None and (id(holder), name) not in exposed and type(holder) in (dict, types.CellType):
            continue  # (read before any code that may have rebound it: its value then was the current one)
        if (source.cell_value(holder) if type(holder) is types.CellType else holder.get(name)) is not value:
            break
    else:
        return  # (a register_adjoint meanwhile, or a variable read before it was rebound: the next call compiles again)
    place = None
    if inspect.isfunction(f):
        try:
            place = effects.summary(f).frozen.get((id(holder), name))
        except Exception:  # noqa: BLE001  (only the message's place is at stake)
            place = None
    if place is not None:
        filename, line, col = place.rsplit(":", 2)
        where = SourceLocation(filename, int(line), int(col))
    else:
        code = inspect.unwrap(f).__code__
        where = SourceLocation(code.co_filename, code.co_firstlineno, 1)
    raise UnsupportedError(
        "'%s' rebound while the compiled code ran, which holds the value it had when compiled (by code not seen "
        "when compiling: a method, operator or property of an argument's class, a callback, another thread; "
        "the call's side effects have happened)" % name,
        where,
        "declare it (%s %s) where it is read, so each read sees its current value"
        % ("nonlocal" if type(holder) is types.CellType else "global", name),
    )


def _finisher(convert, wrt, single):
    """A function turning the emitted code's gradients into the API's structure and types."""
    if all(c is _to_float for c in convert):  # the common scalar case, kept to one call
        if len(wrt) == 1:
            if single:
                return lambda g, args: g if type(g) is float else _to_float(g, None)
            return lambda g, args: (g if type(g) is float else _to_float(g, None),)
        if len(wrt) == 2:  # (unrolled: on tiny functions a loop here costs as much as the adjoint sweep)
            return lambda gs, args: (
                gs
                if type(gs[0]) is float and type(gs[1]) is float
                else tuple([g if type(g) is float else _to_float(g, None) for g in gs])
            )
        return lambda gs, args: tuple([g if type(g) is float else _to_float(g, None) for g in gs])
    pairs = list(zip(convert, wrt))
    if len(wrt) == 1:
        conv, i = pairs[0]
        if single:
            return lambda g, args: conv(g, args[i])
        return lambda g, args: (conv(g, args[i]),)
    return lambda gs, args: tuple([conv(g, args[i]) for (conv, i), g in zip(pairs, gs)])


def _signature(args):
    # the scalar-or-not of every argument decides the variant; types decide it for all but ndarrays
    return tuple(map(type, args))  # 0-d arrays are treated as arrays: still correct


class _Dispatcher:
    """Per-wrapper fast path: argument types -> (compiled function, gradient finisher)."""

    def __init__(self, f, wrt, mode, single):
        self.f = f
        self.wrt = wrt
        self.mode = mode
        self.single = single
        self.nargs = _arity(f)
        self.entries = registry.Held()  # (a register_adjoint empties it: the code may call a rule it replaces)
        self.last = None  # the compilation with guards ``entry`` gave last (``check_unchanged``)
        self.makes_complex = None  # the compilation ``entry`` gave last where it makes complex values

    def entry(self, args, kwargs):
        if kwargs or len(args) != self.nargs:
            args = _bind(self.f, args, kwargs)
        key = _signature(args)
        if self.f in _NEEDS:  # its variants differ by the structure of some arguments
            key += structure_of(_NEEDS[self.f], args)
        e = self.entries.get(key)
        if e is None or e[2] is not None and not e[2].current():
            compiled = _compiled(self.f, self.wrt, self.mode, args)
            convert = [_converter(args[i]) for i in self.wrt]
            e = self.entries[key] = (
                compiled.function,
                _finisher(convert, self.wrt, self.single),
                compiled if compiled.guards else None,
                # ``plain``: a call with arguments of these types may skip ``entry`` (the key is their types
                # alone) and ``_check_differentiated`` (floats and ints)
                len(key) == len(args) and all(c is _to_float for c in convert) and not compiled.makes_complex,
                compiled if compiled.makes_complex else None,  # (run as complex arguments are: ``_complex_call``)
            )
        self.last, self.makes_complex = e[2], e[4]
        return e[:2], args


def _unsupported(e, f=None):
    """The UnsupportedError of a run-time refusal; emitted code names the file by its base name (the same on
    every machine), given here its path where it is ``f``'s file."""
    return UnsupportedError(e.construct, SourceLocation(full_path(e.filename, f), e.line, e.col))


def full_path(filename, f=None):
    """The path of the user's file that emitted code names by its base name ``filename``: ``f``'s own file,
    else the one file of that name the compiler placed a run-time check in (a callee's, or the user's file
    behind gradient code that hvp or hessian differentiates); ``filename`` itself where that is ambiguous."""
    code = getattr(inspect.unwrap(f), "__code__", None) if inspect.isfunction(f) else None
    if code is not None and os.path.basename(code.co_filename) == filename:
        return code.co_filename
    paths = trees.PLACED.get(filename, ())
    return next(iter(paths)) if len(paths) == 1 else filename


def _flexible(function):
    """Whether ``function`` takes *args or **kwargs: compiled for each call's count and keys of them."""
    return bool(function.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))


def _function(f, transform=None):
    """The plain function to compile for the callable ``f`` (itself, for a function); raises TypeError
    for what is not a Python callable, UnsupportedError for a nesting of transforms."""
    wrapper = _rule_wrapper(f)
    if wrapper is not None:  # a function with an adjoint rule, differentiated itself: through its rule
        return wrapper
    made = source.target(f)
    if made is None:
        raise TypeError(
            "expected a Python function, a bound method, a functools.partial or an object with a __call__ "
            "method written in Python, got %r" % (f,)
        )
    function, bindings, defaults = made
    if function is not f:
        f = source.variant(f, function, bindings, defaults)
    return _check_function(f, transform)


_RULE_WRAPPERS = {}  # a function with an adjoint rule -> the Python function that calls it (made once)


def _rule_wrapper(f):
    """``ac.grad(np.sin)``, ``ac.grad(scipy.special.logsumexp)``, ``ac.grad(f)`` of an ``f`` given
    ``register_adjoint``: a function of the rule's parameters (NumPy's names and order, the rule's
    defaults) that calls ``f``, so that the compiler differentiates the call through the rule rather than
    ``f``'s own source (or refuses a C function). None where ``f`` has no rule."""
    try:
        made = _RULE_WRAPPERS.get(f)
    except TypeError:  # unhashable
        return None
    if made is not None:
        return made
    rule = registry.lookup(f)
    if rule is None:
        return None
    params = list(inspect.signature(rule.rule).parameters.values())[2:]
    name = getattr(f, "__name__", "")
    name = name if name.isidentifier() and not name.startswith("_") else "function"
    env = {"_fn": f}
    spelled = []
    for k, p in enumerate(params):
        if p.default is p.empty:
            spelled.append(p.name)
        else:
            env["_default%d" % k] = p.default
            spelled.append("%s=_default%d" % (p.name, k))
    text = "def %s(%s):\n    return _fn(%s)\n" % (name, ", ".join(spelled), ", ".join(p.name for p in params))
    # numbered: two functions of one name (in different modules) each keep their own source
    label = getattr(f, "__qualname__", name)
    filename = "<adjoint_compiler: %s through its rule, %d>" % (label, len(_RULE_WRAPPERS) + 1)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)  # its source, for the compiler
    exec(compile(text, filename, "exec"), env)
    made = _RULE_WRAPPERS[f] = env[name]
    made.__module__ = getattr(f, "__module__", None) or __name__
    return made


def _check_function(f, transform=None):
    """``f``, or for a transform of a function (``grad(h)``, ``grad(grad(h))``) a function with source
    computing the same that the compiler can differentiate (``derived.compilable``); raises for what
    is neither."""
    if not inspect.isfunction(f):
        raise TypeError("expected a Python function, got %r" % (f,))
    inner = getattr(f, source.TRANSFORM_MARK, None)
    if inner is None:
        return f
    made = NESTED["compilable"](f, transform) if "compilable" in NESTED else None
    if made is not None:
        return made
    code = inner[1].__code__
    raise UnsupportedError(
        "%s of ac.%s(%s): this nesting of transforms (nested: grad, grad(grad) and value_and_grad of scalar "
        "arguments, to any order; jvp(grad(f)), vjp(grad(f)), hvp, hessian, jacobian(grad(f)); "
        "jacobian, jvp and vjp of jacobian(f), and transforms of hvp(f) and hessian(f), of an f without *args or "
        "**kwargs; "
        "grad, value_and_grad or jvp called inside the "
        "function)" % (transform or "a transform", inner[0], inner[1].__name__),
        SourceLocation(code.co_filename, code.co_firstlineno, 1),
        "differentiate a function that computes the derivative itself",
    )


class _Layouts:
    """A callable taking *args or **kwargs: each call's count of *args values and keyword names
    compile a variant that takes every argument positionally (``source.variant``), and ``wrt`` picks
    from those: an int counts the positional arguments as passed (``args`` values included), a name
    is a parameter (for ``*args`` the tuple of its values, for ``**kwargs`` the dict) or a key
    passed to ``**kwargs``. ``make(variant, wrt)`` gives the transform of a variant."""

    def __init__(self, obj, wrt, transform, make):
        self.obj = obj
        self.function, self.bindings, self.defaults = source.target(obj)
        self.signature = inspect.signature(obj, follow_wrapped=False)
        self.single = not isinstance(wrt, (tuple, list))
        self.items = (wrt,) if self.single else tuple(wrt)
        self.transform = transform
        self.make = make
        self.layouts = {}
        names = set(self.signature.parameters)
        kinds = {p.kind for p in self.signature.parameters.values()}
        for w in self.items:
            if isinstance(w, str):
                if w not in names and inspect.Parameter.VAR_KEYWORD not in kinds:
                    raise TypeError(
                        "wrt=%r is not a parameter of %s (parameters: %s)" % (w, _label(obj), ", ".join(names))
                    )
            elif not isinstance(w, int) or isinstance(w, bool):
                raise TypeError("wrt must be an int, a parameter name, or a tuple of them, not %r" % (w,))
        if not self.items:
            raise TypeError("wrt is empty")

    def prepare(self, args, kwargs):
        """(the transform of this call's variant, its arguments, the plan that packs its gradients)."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError("%s(): %s" % (_label(self.obj), e)) from None
        bound.apply_defaults()
        flat, spans, spread, keys, positional = [], {}, 0, (), 0
        for p in self.signature.parameters.values():
            value = bound.arguments[p.name]
            if p.kind is p.VAR_POSITIONAL:
                spread = len(value)
                spans[p.name] = ("tuple", list(range(len(flat), len(flat) + spread)))
                flat += value
                positional = len(flat)
            elif p.kind is p.VAR_KEYWORD:
                keys = tuple(value)
                spans[p.name] = ("dict", [(k, len(flat) + i) for i, k in enumerate(keys)])
                spans.update((k, ("one", len(flat) + i)) for i, k in enumerate(keys) if k not in spans)
                flat += value.values()
            else:
                spans[p.name] = ("one", len(flat))
                flat.append(value)
                positional = len(flat) if p.kind is not p.KEYWORD_ONLY else positional
        layout = self.layouts.get((spread, keys))
        if layout is None:
            plan = [self._span(w, spans, positional) for w in self.items]
            wrt = tuple(i for kind, where in plan for i in _indices(kind, where))
            if not wrt:
                raise TypeError("wrt=%r selects no argument in this call of %s" % (self.items, _label(self.obj)))
            made = source.variant(self.obj, self.function, self.bindings, self.defaults, spread, keys)
            layout = self.layouts[spread, keys] = (self.make(made, wrt), plan)
        return layout[0], tuple(flat), layout[1]

    def _span(self, w, spans, positional):
        if isinstance(w, str):
            if w not in spans:
                raise TypeError("wrt=%r: %s was called without a keyword argument %s" % (w, _label(self.obj), w))
            return spans[w]
        if not -positional <= w < positional:
            raise TypeError(
                "wrt=%d is out of range: %s got %d positional arguments" % (w, _label(self.obj), positional)
            )
        return ("one", w % positional)

    def pack(self, grads, plan):
        """The gradients of the variant's arguments (a tuple, in wrt order) in the structure ``wrt`` asks for."""
        grads = iter(grads)
        out = []
        for kind, where in plan:
            if kind == "one":
                out.append(next(grads))
            elif kind == "tuple":
                out.append(tuple(next(grads) for _ in where))
            else:
                out.append({k: next(grads) for k, _ in where})
        return out[0] if self.single else tuple(out)

    def unpack(self, tangent, plan):
        """A tangent in ``wrt``'s structure as the variant's tangents (a tuple)."""
        parts = (tangent,) if self.single else tuple(tangent)
        flat = []
        for (kind, where), t in zip(plan, parts):
            flat += [t] if kind == "one" else list(t) if kind == "tuple" else [t[k] for k, _ in where]
        return tuple(flat)


def _indices(kind, where):
    return [where] if kind == "one" else [i for i in where] if kind == "tuple" else [i for _, i in where]


def _label(obj):
    return getattr(obj, "__qualname__", None) or repr(obj)


LAYOUTS = "_adjoint_compiler_layouts"  # on a transform of a function taking *args or **kwargs: its _Layouts


def _layouts(f, wrt, transform, make):
    """A ``_Layouts`` when the callable ``f`` takes *args or **kwargs, else None (also for a function with a
    rule, differentiated through it: SciPy wraps some, ``solve_sylvester``, in a ``*args`` batching wrapper)."""
    if _rule_wrapper(f) is not None:
        return None
    made = source.target(f)
    if made is not None and getattr(made[0], LAYOUTS, None) is not None:
        return _nested_layouts(getattr(made[0], LAYOUTS), wrt, transform, make)
    if made is None or not _flexible(made[0]) or hasattr(made[0], source.TRANSFORM_MARK):
        return None  # (a transform's own wrapper takes *args: it is refused, or nested, as it is)
    if made[0] is f:
        _check_function(f, transform)
    return _Layouts(f, wrt, transform, make)


def _nested_layouts(inner, wrt, transform, make):
    """A transform of ``inner``'s transform (grad, value_and_grad or hessian of a function taking *args, in
    positions as passed): per call, the transform of that transform of the call's variant (one that takes
    every argument positionally, whose transforms nest as any function's). None for another inner transform
    or a ``wrt`` naming a parameter (the variant's positions would not be the call's)."""
    if inner.transform not in ("grad", "value_and_grad", "hessian") or not all(_is_position(w) for w in inner.items):
        return None
    inner_wrt = inner.items[0] if inner.single else inner.items
    return _Layouts(inner.obj, wrt, transform, lambda variant, w: make(inner.make(variant, inner_wrt), w))


def _is_position(w):
    return isinstance(w, int) and not isinstance(w, bool) and w >= 0


_LEAVES = frozenset((float, int, bool, np.ndarray, np.float64, np.float32, str, type(None)))


def _any_structure(args):
    """Whether an argument is or holds a NamedTuple or a dataclass instance (cheap for numbers and arrays)."""
    for a in args:
        if type(a) not in _LEAVES and _holds_structure(a):
            return True
    return False


def _structures_help(args):
    """Whether the structured path (``_Structures``) compiles something else for ``args`` than the direct
    one did: an argument that is an object (fixed in the variant), or one that is or holds a NamedTuple or a
    dataclass (passed as the tuple of its fields). An object inside a list or dict is neither: a compile error
    for it is the error to raise (taking that path again made a variant of the variant, without end)."""
    return any(_is_object(a) or _holds_fields(a) for a in args)


def _holds_fields(a):
    if _is_structure(a):
        return True
    if isinstance(a, (list, tuple)):
        return any(type(v) not in _LEAVES and _holds_fields(v) for v in a)
    if isinstance(a, dict):
        return any(type(v) not in _LEAVES and _holds_fields(v) for v in a.values())
    return False


def _holds_structure(a):
    if _is_structure(a) or _is_object(a):
        return True
    if isinstance(a, (list, tuple)):
        return any(type(v) not in _LEAVES and _holds_structure(v) for v in a)
    if isinstance(a, dict):
        return any(type(v) not in _LEAVES and _holds_structure(v) for v in a.values())
    return False


def _is_structure(a):
    if isinstance(a, tuple):
        return hasattr(type(a), "_fields")
    return dataclasses.is_dataclass(a) and not isinstance(a, type)


def _is_object(a):
    """An argument that is no number, array, string or container: an object of a user class, a function."""
    plain = (numbers.Number, np.ndarray, np.generic, str, bytes, list, tuple, dict, range, slice, type(None))
    return not isinstance(a, plain) and not _is_structure(a)


def _field_names(a):
    return type(a)._fields if isinstance(a, tuple) else tuple(f.name for f in dataclasses.fields(a))


def _as_tuples(a, fields, owners):
    """``a`` with every NamedTuple and dataclass instance in it replaced by the tuple of its fields;
    ``fields`` collects each field name's index (one per name: ``owners`` names the type that set it)."""
    if _is_structure(a):
        names = _field_names(a)
        for i, name in enumerate(names):
            if fields.setdefault(name, i) != i:
                raise _FieldClash(
                    "field '%s' at position %d of %s and %d of %s: structures passed to one call that share "
                    "a field name at different positions" % (name, i, type(a).__qualname__, fields[name], owners[name])
                )
            owners.setdefault(name, type(a).__qualname__)
        return tuple(_as_tuples(getattr(a, n), fields, owners) for n in names)
    if isinstance(a, (list, tuple)):
        return type(a)(_as_tuples(v, fields, owners) for v in a)
    if isinstance(a, dict):
        return {k: _as_tuples(v, fields, owners) for k, v in a.items()}
    return a


def _plain_cotangent(c):
    """A pullback's cotangent with each dataclass instance in it (of an output the function built) as the
    tuple of its fields, the form the compiled code holds a dataclass's cotangent in (specialise.structures)."""
    if isinstance(c, (float, np.ndarray)):
        return c
    if isinstance(c, (list, tuple)):
        plain = [_plain_cotangent(v) for v in c]
        if all(p is v for p, v in zip(plain, c)):
            return c
        return type(c)(plain) if not hasattr(type(c), "_fields") else type(c)(*plain)
    if isinstance(c, dict):
        return {k: _plain_cotangent(v) for k, v in c.items()}
    if _is_structure(c):
        return tuple(_plain_cotangent(getattr(c, n)) for n in _field_names(c))
    return c


class _FieldClash(Exception):
    pass


def _rebuild(g, arg):
    """The gradient ``g`` (of ``arg`` passed as tuples) in ``arg``'s structure and types: a NamedTuple of
    gradients for a NamedTuple, a copy of a dataclass with gradients in its fields; a field that is no
    number or array (a string, None) keeps its value."""
    if _is_structure(arg):
        names = _field_names(arg)
        parts = {n: _rebuild(v, getattr(arg, n)) for n, v in zip(names, g)}
        if isinstance(arg, tuple):
            return type(arg)(**parts)
        out = copy.copy(arg)
        for n, v in parts.items():
            object.__setattr__(out, n, v)  # (frozen ones too, and without running __post_init__)
        return out
    if isinstance(arg, dict):
        return {k: _rebuild(g[k], v) for k, v in arg.items()}
    if isinstance(arg, (list, tuple)):
        return type(arg)(_rebuild(v, a) for v, a in zip(g, arg))
    if isinstance(arg, (float, int, np.ndarray, np.generic)):
        return _like(g, arg)
    return arg


class _Structures:
    """Calls with NamedTuple or dataclass arguments, or objects: the structures are passed as tuples
    of their fields to a variant of the function whose reads of those fields index the tuples
    (``source.variant``), one per set of field names, and gradients are rebuilt into the arguments'
    own types; an object (of a user class, a function) that is not differentiated is fixed in the
    variant, as a bound method's ``self`` is (so ``m.loss(x)`` on it is a call the compiler follows)."""

    def __init__(self, obj, wrt, make):
        self.obj = obj
        # a function with a rule (scipy.integrate.odeint given the user's func) through its rule's wrapper
        wrapper = _rule_wrapper(obj)
        self.target = obj if wrapper is None else wrapper
        self.made = source.target(self.target)
        function = _function(obj)  # (a method's or partial's own parameters)
        self.wrt, self.single = normalize_wrt(function, wrt)
        self.params = inspect.signature(function, follow_wrapped=False).parameters
        self.make = make
        self.variants = {}

    def prepare(self, args):
        """(the transform of the variant for these arguments, its positional and keyword arguments)."""
        fields, owners = {}, {}
        objects = {i for i, a in enumerate(args) if _is_object(a)}
        code = self.made[0].__code__
        for i in objects & set(self.wrt):
            raise UnsupportedError(
                "a differentiated argument of type %s (only numbers, arrays, and lists, tuples, dicts, "
                "NamedTuples and dataclasses of them have gradients)" % type(args[i]).__qualname__,
                SourceLocation(code.co_filename, code.co_firstlineno, 1),
                "make it a dataclass or a NamedTuple, or do not differentiate with respect to it",
            )
        params = list(self.params.values())
        fixed = {params[i].name: args[i] for i in sorted(objects)}
        try:
            flat = [(params[i], _as_tuples(a, fields, owners)) for i, a in enumerate(args) if i not in objects]
        except _FieldClash as e:
            raise UnsupportedError(
                str(e),
                SourceLocation(code.co_filename, code.co_firstlineno, 1),
                "give the field the same position in each, or another name",
            ) from None
        key = (tuple(sorted(fields.items())), tuple((p, id(v)) for p, v in fixed.items()))
        transform = self.variants.get(key)  # (it holds the objects: their ids are not reused meanwhile)
        if transform is None:
            function, bindings, defaults = self.made
            made = source.variant(self.target, function, dict(bindings, **fixed), defaults, fields=key[0] or None)
            names = tuple(params[i].name for i in self.wrt)
            transform = self.variants[key] = self.make(made, names[0] if self.single else names)
        positional = [v for p, v in flat if p.kind is not p.KEYWORD_ONLY]
        return transform, positional, {p.name: v for p, v in flat if p.kind is p.KEYWORD_ONLY}

    def finish(self, grads, args):
        if self.single:
            return _rebuild(grads, args[self.wrt[0]])
        return tuple(_rebuild(g, args[i]) for g, i in zip(grads, self.wrt))


def _kept(g, a):
    """Whether ``g``, the emitted code's gradient of ``a`` (a list of floats alone or a float array), is what
    ``_like`` would return for it: a new list of Python floats of ``a``'s length, or a writeable array of
    ``a``'s dtype and shape (``_like``'s first two cases)."""
    if type(a) is list:
        if type(g) is list and len(g) == len(a) and g and type(g[0]) is float:
            try:  # (an np.float64 or complex element would make the sum one)
                return type(sum(g)) is float
            except TypeError:
                return False
        return False
    return type(g) is np.ndarray and g.dtype == a.dtype and g.shape == a.shape and g.flags.writeable


def _fast_source(name, nargs, wrt, single, with_value):
    """The source of grad's or value_and_grad's wrapper, its checks unrolled for ``wrt``. Its fast path takes
    a call with ``nargs`` positional arguments whose differentiated ones are Python floats (first, with the fewest
    checks, where the others are of the types taken without a look inside), lists of floats
    (no bool, int or complex: one pass at C speed) or float arrays, once ``d.fast`` holds code for every
    call (not compiled for the arguments' structure; no structure met); then neither complex numbers nor
    truth values need looking for, and gradients of those types are returned as the code made them. The
    code's guards are checked as ``general`` checks them. Anything else goes to ``general``, which refuses an
    ``np.matrix`` or masked array among the other arguments (``_refuse_other_arithmetic``). The arguments
    are positional-only parameters (``absent`` where not given): the call passes them on as they came, with
    no tuple of them made (on a small function, a fifth of the wrapper's time); ``given`` makes it where
    another path takes it.

    >>> print(_fast_source("f_grad", 1, (0,), True, False))  # doctest: +NORMALIZE_WHITESPACE
    def f_grad(a0=absent, /, *rest, **kwargs):
        fn = d.fast
        if type(a0) is float and fn is not None and not rest and not kwargs:
            current = d.current
            if current is not None and not current():
                return general((a0,), kwargs)
            try:
                value, grads = fn(a0)
            except (CompileError, InPlaceUpdateError, TypeError) as e:
                return failed(e, (a0,))
            if d.recheck is not None and not current():
                check_unchanged(d.last, f)
            g0 = grads
            if type(g0) is float:
                return grads
            return converted(value, grads, (a0,))
        if fn is None or kwargs or rest or a0 is absent:
            return general(given(rest, a0), kwargs)
        current = d.current
        if current is not None and not current():
            return general((a0,), kwargs)
        t0 = type(a0)
        if not (t0 is float or t0 is list or t0 is ndarray and a0.dtype.kind == 'f'):
            return general((a0,), kwargs)
        try:
            if t0 is list:
                sum(map(conjugate, a0))
        except TypeError:
            return general((a0,), kwargs)
        try:
            value, grads = fn(a0)
        except (CompileError, InPlaceUpdateError, TypeError) as e:
            return failed(e, (a0,))
        if d.recheck is not None and not current():
            check_unchanged(d.last, f)
        g0 = grads
        if type(g0) is float if t0 is float else kept(g0, a0):
            return grads
        return converted(value, grads, (a0,))
    """
    if nargs < 1 or max(wrt) >= nargs:  # (keyword-only parameters; a gradient in *args): bound by name
        return "def %s(*args, **kwargs):\n    return general(args, kwargs)\n" % name
    names = ["a%d" % i for i in range(nargs)]
    args = "(%s)" % (", ".join(names) + ("," if nargs == 1 else ""))
    grads = "(grads,)" if len(wrt) == 1 and not single else "grads"  # (the code gives one gradient as it is)
    call = [
        "    try:",
        "        value, grads = fn(%s)" % ", ".join(names),
        "    except (CompileError, InPlaceUpdateError, TypeError) as e:",
        "        return failed(e, %s)" % args,
        "    if d.recheck is not None and not current():",
        "        check_unchanged(d.last, f)",
        "    %s = grads" % ", ".join("g%d" % i for i in wrt),
    ]
    # Python floats alone (the differentiated ones; the others of the types taken without a look inside): the
    # common scalar call, its checks first and fewest (on a 5-line function, a third of the wrapper's time)
    floats = ["type(a%d) is float" % i if i in wrt else "type(a%d) in plain" % i for i in range(nargs)]
    lines = [
        "def %s(%s, /, *rest, **kwargs):" % (name, ", ".join(n + "=absent" for n in names)),
        "    fn = d.fast",
        "    if %s and fn is not None and not rest and not kwargs:" % " and ".join(floats),
        "        current = d.current",
        "        if current is not None and not current():",
        "            return general(%s, kwargs)" % args,
    ]
    lines += ["    " + line for line in call]
    lines += [
        "        if %s:" % " and ".join("type(g%d) is float" % i for i in wrt),
        "            return %s" % ("value, " + grads if with_value else grads),
        "        return converted(value, grads, %s)" % args,
        "    if fn is None or kwargs or rest or %s is absent:" % names[-1],
        "        return general(given(rest, %s), kwargs)" % ", ".join(names),
        "    current = d.current",
        "    if current is not None and not current():",
        "        return general(%s, kwargs)" % args,
    ]
    lines += ["    t%d = type(a%d)" % (i, i) for i in wrt]
    test = "(t{0} is float or t{0} is list or t{0} is ndarray and a{0}.dtype.kind == 'f')"
    accepted = [test.format(i) for i in wrt]
    others = [i for i in range(nargs) if i not in wrt]  # (np.matrix, a masked array: general refuses them)
    lines += ["    o%d = type(a%d)" % (i, i) for i in others]
    # (general refuses an np.matrix or a masked array, and runs complex ones as complex arguments are run)
    test = (
        "o{0} is not matrix and o{0} is not masked and (o{0} in plain or o{0} is ndarray and a{0}.dtype.kind "
        "!= 'c' or complex_kind(a{0}) is None)"
    )
    accepted += [test.format(i) for i in others]
    if len(accepted) == 1:
        accepted = [accepted[0][1:-1]]
    lines += [
        "    if not (%s):" % " and ".join(accepted),
        "        return general(%s, kwargs)" % args,
        # a list's elements all floats (no bool, int or complex): float.conjugate refuses any other, at C speed
        # (a sum of it: about 15% less than all(map(float.__instancecheck__, a)))
        "    try:",
    ]
    lines += ["        if t{0} is list:\n            sum(map(conjugate, a{0}))".format(i) for i in wrt]
    lines += [
        "    except TypeError:",
        "        return general(%s, kwargs)" % args,
    ]
    lines += call
    kept = ["(type(g{0}) is float if t{0} is float else kept(g{0}, a{0}))".format(i) for i in wrt]
    if len(kept) == 1:
        kept = [kept[0][1:-1]]
    lines += [
        "    if %s:" % " and ".join(kept),
        "        return %s" % ("value, " + grads if with_value else grads),
        "    return converted(value, grads, %s)" % args,
    ]
    return "\n".join(lines) + "\n"


def _given(rest, *named):
    """The arguments of a call of ``_fast_source``'s wrapper, as a tuple: those given of its positional-only
    parameters (the ones not given come last), then the rest."""
    return tuple([a for a in named if a is not _ABSENT]) + rest


_ABSENT = object()  # the default of _fast_source's wrapper's parameters: an argument not given


def _fast_wrapper(f, transform, nargs, wrt, single, with_value, d, general, converted, failed):
    """grad's or value_and_grad's wrapper of ``f``: ``_fast_source`` run, its source kept in ``linecache`` for
    tracebacks through it. ``general(args, kwargs)``: every call the fast path does not take; ``converted``
    and ``failed``: the fast path's call done, as ``general`` would have finished it."""
    name = "%s_%s" % (getattr(f, "__name__", "f"), transform)
    name = name if name.isidentifier() else transform
    key = (name, nargs, wrt, single, with_value)
    code = _FAST_CODE.get(key)
    if code is None:  # (compiled once: a loop that makes grad(f) anew on each step pays it once)
        text = _fast_source(name, nargs, wrt, single, with_value)
        filename = "<adjoint_compiler: %s wrapper, wrt %s, of %d arguments>" % (name, wrt, nargs)
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        code = _FAST_CODE[key] = compile(text, filename, "exec")
    env = {
        "f": f,
        "d": d,
        "check_unchanged": check_unchanged,
        "general": general,
        "converted": converted,
        "failed": failed,
        "kept": _kept,
        "given": _given,
        "absent": _ABSENT,
        "conjugate": float.conjugate,
        "ndarray": np.ndarray,
        "matrix": np.matrix,
        "masked": np.ma.MaskedArray,
        "plain": _PLAIN_TYPES,
        "complex_kind": _complex_kind,
        "CompileError": CompileError,
        "InPlaceUpdateError": runtime.InPlaceUpdateError,
    }
    exec(code, env)
    return env[name]


_FAST_CODE = {}  # (name, nargs, wrt, single, with_value) -> the code of _fast_source's module
# arguments not differentiated that the fast path takes without a look inside: none is or holds a complex number
_PLAIN_TYPES = frozenset((float, int, bool, str, type(None)))


def _scalar_output(f, wrt, transform, with_value):
    """grad's and value_and_grad's wrapper (one code path: they differ only in returning the value)."""
    obj, f = f, _function(f, transform)
    wrt_idx, single = normalize_wrt(f, wrt)
    d = _Generic(f, wrt_idx, single)
    finish, nargs = d.finish, d.nargs
    # made when compiling for every argument type fails on a call with NamedTuple, dataclass or
    # object arguments (a field read, a method call); such calls then take this path first. Deciding
    # so keeps the check off the common calls' path
    structures = []

    def structured(args):
        if not structures:
            d.fast, d.structured = None, True  # (each call then looks for structures: the general path)
            structures.append(_Structures(obj, wrt, value_and_grad if with_value else grad))
        s = structures[0]
        transformed, flat, keywords = s.prepare(args)
        out = transformed(*flat, **keywords)
        return (out[0], s.finish(out[1], args)) if with_value else s.finish(out, args)

    def general(args, kwargs):
        if kwargs or len(args) != nargs:
            args = _bind(f, args, kwargs)
        plain = []
        truth = _checked_real(f, args, wrt_idx, plain)
        if truth is None:
            value, grads = _complex_call(f, wrt_idx, single, args, d.get(args), d.last)
            return (value, grads) if with_value else grads
        if structures and _any_structure(args):
            return structured(args)
        try:
            fn = d.function or d.get(args)
            if fn is not d.function and d.last.makes_complex:  # complex values made from real arguments
                value, grads = _complex_call(f, wrt_idx, single, args, fn, d.last)
                return (value, grads) if with_value else grads
            if d.changes_arguments:
                given, args = args, tuple(copy.copy(a) if isinstance(a, (list, dict)) else a for a in args)
                value, grads = fn(*given)
            else:
                value, grads = fn(*args)
        except (runtime.InPlaceUpdateError, TypeError) as e:
            _reraise(e, args, f)
        except CompileError as e:  # the code for any argument cannot take these: the structured path can
            if not _structures_help(args):
                _refused_derived(e, f, transform)
            return structured(args)
        if d.function is None:  # (compiled with guards: what it read may have been rebound as it ran)
            check_unchanged(d.last, f)
        if truth:  # the fast path passes a float gradient through unconverted: convert each
            grads = _like(grads, args[wrt_idx[0]]) if single else tuple(map(_like, grads, [args[i] for i in wrt_idx]))
        if with_value:
            return value, finish(grads, args, plain)
        return finish(grads, args, plain)

    def converted(value, grads, args):
        """The fast path's gradients where one is not the type its argument asks for (``_like`` converts it)."""
        out = finish(grads, args, [i for i in wrt_idx if type(args[i]) is list])
        return (value, out) if with_value else out

    def failed(e, args):
        """The fast path's call raised ``e``: as ``general``'s call would have."""
        if isinstance(e, CompileError):
            if not _structures_help(args):
                _refused_derived(e, f, transform)
            return structured(args)
        _reraise(e, args, f)

    wrapper = _fast_wrapper(f, transform, nargs, wrt_idx, single, with_value, d, general, converted, failed)
    functools.update_wrapper(wrapper, f)
    setattr(wrapper, source.TRANSFORM_MARK, (transform, f))
    setattr(wrapper, source.GRADIENT_OF, (f, wrt_idx, transform, single))  # called in a differentiated function
    if single:  # a transform of it compiles derived.compilable(wrapper)
        setattr(wrapper, CHAIN, (f, wrt_idx, with_value))
    return wrapper, wrt_idx, single


def value_and_grad(f, wrt=0, has_aux=False, backend="python"):
    """The value and the gradient of scalar ``f`` in one call: ``vg(*args) -> (f(*args), gradient)``.

    The same compiled code as ``grad``, which computes the value anyway (the forward sweep is the
    function itself); the value is returned as ``f`` returns it.

    Args:
        f: the function to differentiate, as for ``grad``.
        wrt: an int (position of an argument as passed), a parameter name, or a tuple of them.
        has_aux: ``f`` returns ``(scalar, aux)``; ``vg`` then returns ``((scalar, aux), gradient)``
            and ``aux`` is not differentiated.
        backend: ``"python"`` (default) or ``"numba"``, as for ``grad``.

    Returns:
        A function with ``f``'s parameters returning ``(value, gradient)``, the gradient in
        ``wrt``'s structure.

    Raises:
        TypeError: when called, if the output is not a scalar.
        CompileError: on the first call, if ``f`` cannot be compiled (``UnsupportedError`` for a
            construct the compiler refuses, located at ``file:line:col``).

    >>> import math
    >>> def f(x, y):
    ...     return x * math.exp(y)
    >>> value_and_grad(f, wrt=(0, 1))(2.0, 0.0)
    (2.0, (1.0, 2.0))
    """
    if backend != "python":
        return _on_backend(backend, f, wrt, "value_and_grad", has_aux)
    made = _value_and_grad(f, wrt, has_aux)
    return references.name(made, "value_and_grad", f, wrt, **({"has_aux": True} if has_aux else {}))


def _value_and_grad(f, wrt, has_aux):
    layouts = _layouts(f, wrt, "value_and_grad", lambda made, w: value_and_grad(made, w, has_aux))
    if layouts is not None:
        return _per_layout(layouts, lambda pack, out: (out[0], pack(out[1])))
    if has_aux:
        return _with_aux(f, wrt, True)
    vg_f, wrt_idx, single = _scalar_output(f, wrt, "value_and_grad", True)
    function = getattr(vg_f, source.GRADIENT_OF)[0]
    vg_f._adjoint_compiler_value_and_grad_of = (function, wrt_idx, single)  # jvp of it: derived._jvp
    inner = getattr(f, "_adjoint_compiler_grad_of", None)
    if inner is not None and inner[2]:
        return _value_and_grad_of_grad(vg_f, f, inner, wrt)
    return vg_f


def _value_and_grad_of_grad(vg_f, g, inner, wrt):
    """value_and_grad(g) for ``g = grad(h)``: ``vg_f``, which compiles h's derivative as tangent code
    (``derived.compilable``), or where that is refused, g's value beside grad(g) (``_grad_of_grad``, which
    differentiates h's gradient code, or falls back in its own way): one works where grad(grad(h)) does."""
    held = []

    @functools.wraps(vg_f)
    def value_and_grad_grad_f(*args, **kwargs):
        if not held:
            try:
                return vg_f(*args, **kwargs)
            except UnsupportedError:
                held.append(_grad_of_grad(inner, wrt))
        return g(*args, **kwargs), held[0](*args, **kwargs)

    return value_and_grad_grad_f


def _per_layout(layouts, finish):
    """The wrapper of a transform of a function with *args or **kwargs: ``finish(pack, result)`` gives
    the variant's result (``pack``: its gradients in ``wrt``'s structure) as the API's."""

    @functools.wraps(layouts.obj)
    def wrapper(*args, **kwargs):
        transformed, flat, plan = layouts.prepare(args, kwargs)
        return finish(lambda grads: layouts.pack(grads, plan), transformed(*flat))

    setattr(wrapper, source.TRANSFORM_MARK, (layouts.transform, layouts.function))
    setattr(wrapper, LAYOUTS, layouts)  # (its transforms: _nested_layouts)
    return wrapper


def _with_aux(f, wrt, with_value):
    """grad/value_and_grad of ``f`` returning ``(scalar, aux)``: the pullback of the pair, seeded (1, 0)."""
    pair = vjp(f, wrt)

    @functools.wraps(f)
    def aux_f(*args, **kwargs):
        value, pullback = pair(*args, **kwargs)
        if not (isinstance(value, tuple) and len(value) == 2):
            raise TypeError("has_aux=True needs %s to return a pair (scalar, aux)" % f.__qualname__)
        out, aux = value
        runtime.check_scalar(out)
        grads = pullback((1.0, runtime.zeros_like(aux)))
        return ((out, aux), grads) if with_value else (grads, aux)

    setattr(aux_f, source.TRANSFORM_MARK, ("value_and_grad" if with_value else "grad", f))
    return aux_f


setattr(value_and_grad, source.MAKES_GRADIENT, "value_and_grad")


def _callees(f):
    """The Python functions ``f``'s code (nested code objects included) calls by global name."""
    g = getattr(f, "__globals__", {})
    codes, names = [f.__code__], []
    while codes:
        code = codes.pop()
        names += code.co_names
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    out = []
    for name in names:
        value = g.get(name)
        if isinstance(value, types.FunctionType) and value not in out:
            out.append(value)
    return out


def _recursion(f):
    """How ``f``, or a function it calls, calls itself by its global name: ``"f calls itself"``, ``"a calls b,
    which calls a"``; None without recursion. (A cycle through ``f`` first, then any the calls reach.)"""
    seen, order = {f}, [f]
    for h in order:  # breadth first over the functions f reaches
        for callee in _callees(h):
            if callee not in seen:
                seen.add(callee)
                order.append(callee)
    for start in order:
        path = _cycle(start, start, [start], set())
        if path:
            names = [h.__name__ for h in path]
            if len(names) == 2:
                return "%s calls itself" % names[0]
            return "%s calls %s" % (names[0], ", which calls ".join(names[1:]))
    return None


def _cycle(start, h, path, visited):
    """A path of calls from ``h`` back to ``start`` (``path`` ends with ``h``), or None."""
    for callee in _callees(h):
        if callee is start:
            return path + [start]
        if callee not in visited:
            visited.add(callee)
            found = _cycle(start, callee, path + [callee], visited)
            if found:
                return found
    return None


RECURSIVE = (
    "a recursive call (%s: its gradient keeps each call's pullback, a closure made at run time, "
    "which second derivatives do not follow)"
)
RECURSIVE_HINT = "write the recursion as a loop (a loop's gradient is differentiated again)"


def _grad_of_grad(inner, wrt):
    """grad(grad(f)): differentiate the emitted gradient function itself (it is plain Python); where
    that code cannot be differentiated, reverse mode over f's tangent code (``_over_forward``)."""
    f, inner_wrt, inner_single = inner
    wrt_idx, single = normalize_wrt(f, wrt)
    if not inner_single:
        raise TypeError("grad(grad(f, wrt=(...))) needs a scalar inner gradient; use vjp on grad's result instead")
    cache = registry.Held()

    def grad_grad_f(*args, **kwargs):
        if kwargs or len(args) != _arity(f):
            args = _bind(f, args, kwargs)
        if "fallback" in cache:
            return cache["fallback"](args)
        key = ("pullback",) + variant_key(f, args)
        entry = cache.get(key)
        # the gradient code holds the globals f read when compiled: compiled again once one is rebound
        if entry is None or entry[1] is not None and not entry[1].current():
            inner = _compiled(f, inner_wrt, "grad", args, scalars=False)
            # the cotangent (0, 1) selects the gradient, not the value, of f_grad's (value, gradient) result
            key = ("pullback",) + variant_key(f, args)  # (the compilation may have found what it depends on)
            pullback_of = vjp(inner.function, wrt_idx[0] if single else wrt_idx)
            entry = cache[key] = (pullback_of, inner if inner.guards else None)
        try:
            (_, inner_grad), pullback = entry[0](*args)
        except CompileError as e:
            if not load.made_by_compiler(e.location):
                raise
            cache["fallback"] = _over_forward(e, f, inner_wrt[0], wrt)
            return cache["fallback"](args)
        check_unchanged(entry[1], f)  # (one it read rebound as it ran: refused)
        if np.ndim(inner_grad) != 0:
            raise TypeError(_NOT_SCALAR % (np.shape(inner_grad),))
        return pullback((0.0, 1.0))

    grad_grad_f.__name__ = "grad_grad_" + f.__name__
    setattr(grad_grad_f, source.TRANSFORM_MARK, ("grad(grad)", f))
    if single:  # a transform of it compiles derived.compilable(grad_grad_f)
        setattr(grad_grad_f, CHAIN, (f, (inner_wrt[0], wrt_idx[0]), False))
    return grad_grad_f


DERIVED_OF = "_adjoint_compiler_derived_of"  # on a function derived.py wrote: the function it derives from


def _origin(f):
    """The user's function behind ``f``, a function derived.py wrote (``grad(grad(h))`` as compilable code,
    h's derivative along a tangent), or ``f`` itself."""
    while getattr(f, DERIVED_OF, None) is not None or getattr(f, source.PULLBACK_OF, None) is not None:
        f = getattr(f, DERIVED_OF, None) or getattr(f, source.PULLBACK_OF)  # (h_dot: the pullback of vjp(h))
    return f


def _refused_derived(e, f, transform):
    """Raise ``e``, or, where ``f`` is a function derived.py wrote and ``e`` was refused in code the compiler
    emitted for it, the same refusal located at the user's function (never at emitted code)."""
    if getattr(f, DERIVED_OF, None) is None or not load.made_by_compiler(e.location):
        raise e
    user = _origin(f)
    construct = e.construct if hasattr(e, "construct") else str(e).split(": error: ")[-1]
    construct = construct.replace(" is not supported by adjoint_compiler", "")
    writes = _state_written(user) if construct == "assignment to an attribute" else None
    if writes:  # the attribute is the compiler's own store of the global: name the user's write instead
        raise UnsupportedError(
            "derivatives of %s beyond the first where it writes the global or closure variable %s"
            % (user.__name__, writes[0]),
            writes[1],
        ) from None
    raise UnsupportedError(
        "derivatives of %s beyond the first (%s of its derivative code, which has %s)"
        % (user.__name__, transform, construct),
        SourceLocation(user.__code__.co_filename, user.__code__.co_firstlineno, 1),
    ) from None


def _state_written(f):
    """The name and place of one global or closure variable ``f`` writes (through its callees too), if any."""
    try:
        writes = effects.summary(f).writes
    except Exception:  # noqa: BLE001  (only a better message is at stake)
        return None
    found = []
    for (_, name), (place, _) in writes.items():
        filename, line, col = place.rsplit(":", 2)
        found.append((filename, int(line), int(col), name))
    if not found:
        return None
    own = getattr(getattr(f, "__code__", None), "co_filename", None)
    filename, line, col, name = min(found, key=lambda w: (w[0] != own,) + w)  # the first in f's file, by line
    return name, SourceLocation(filename, line, col)


_NOT_SCALAR = (
    "grad(grad(f)) needs a scalar gradient, but grad(f) is an array of shape %s here; "
    "use ac.hessian(f) or ac.hvp(f) instead"
)


def _over_forward(refusal, f, inner, wrt):
    """grad(grad(f, inner), wrt) as the gradient in ``wrt`` of f's derivative along 1.0 on its scalar
    argument ``inner`` (``derived.reverse_over_forward``, which raises ``refusal``, reverse over reverse's,
    at f where this fails too)."""
    made = []

    def run(args):
        if np.ndim(args[inner]) != 0:
            raise TypeError(_NOT_SCALAR % (np.shape(args[inner]),))
        if not made:
            made.append(NESTED["reverse over forward"](refusal, f, (inner,), True, wrt))
        return made[0](args, 1.0)

    return run


def grad(f, wrt=0, has_aux=False, backend="python"):
    """The gradient of scalar ``f``: ``g(*args) -> df/d(args[wrt])``, a tuple for a tuple ``wrt``.

    ``f`` is compiled on the first call (once per function, ``wrt`` and kind of arguments; later
    calls reuse the emitted code) into a forward sweep that runs ``f`` and an adjoint sweep that
    accumulates the derivative of its output with respect to every value. ``f``'s side effects
    happen once per call, as in one call of ``f``, and its arguments are never changed unless
    ``f`` itself changes them.

    Args:
        f: a function with Python source (defined in a file), a bound method (``self`` fixed), an
            object with a Python ``__call__``, or a ``functools.partial``.
        wrt: an int (the position of an argument as passed, ``*args`` values included), a
            parameter name (or a key passed to ``**kwargs``), or a tuple of them.
        has_aux: ``f`` returns ``(scalar, aux)``; ``g`` then returns ``(gradient, aux)`` and
            ``aux`` is not differentiated.
        backend: ``"python"`` (default) runs the emitted Python; ``"numba"`` compiles it with
            ``numba.njit`` (``pip install 'adjoint-compiler[numba]'``), falling back to Python with a
            ``NumbaFallbackWarning`` naming the construct numba cannot compile.

    Returns:
        A function with ``f``'s parameters. Its result has the structure of ``wrt`` (one gradient,
        or a tuple in ``wrt``'s order), and each gradient the type and shape of its argument: a
        float for a float (also for an int), an array of the same shape and float precision for
        an array, a list, dict, NamedTuple or dataclass of gradients for one of those.

    Raises:
        TypeError: when called, if the output is not a scalar (use ``vjp``), or if a
            differentiated argument is or holds complex numbers.
        CompileError: on the first call, if ``f`` cannot be compiled: ``UnsupportedError`` for a
            construct the compiler refuses, located at the user's ``file:line:col``; a call of a
            function with neither source nor a registered adjoint names it.

    ``grad(grad(f))`` differentiates the emitted gradient code again (for a scalar argument; use
    ``hessian`` or ``hvp`` for arrays).

    >>> import math
    >>> def f(x, y):
    ...     return math.sin(x) * y
    >>> grad(f)(0.0, 3.0)
    3.0
    >>> grad(f, wrt="y")(0.0, 3.0)
    0.0
    """
    if backend != "python":
        return _on_backend(backend, f, wrt, "grad", has_aux)
    return references.name(_grad(f, wrt, has_aux), "grad", f, wrt, **({"has_aux": True} if has_aux else {}))


def _grad(f, wrt, has_aux):
    layouts = _layouts(f, wrt, "grad", lambda made, w: grad(made, w, has_aux))
    if layouts is not None:
        return _per_layout(layouts, lambda pack, out: (pack(out[0]), out[1]) if has_aux else pack(out))
    if has_aux:
        return _with_aux(f, wrt, False)
    inner = getattr(f, "_adjoint_compiler_grad_of", None)
    if inner is not None:
        return _grad_of_grad(inner, wrt)
    grad_f, wrt_idx, single = _scalar_output(f, wrt, "grad", False)
    function = getattr(grad_f, source.GRADIENT_OF)[0]  # (a method's or partial's plain function)
    grad_f._adjoint_compiler_grad_of = (function, wrt_idx, single)
    return grad_f


setattr(grad, source.MAKES_GRADIENT, "grad")


def vjp(f, wrt=0, backend="python"):
    """Reverse mode for any output: ``fv(*args) -> (value, pullback)``.

    ``pullback(cotangent)`` returns the vector-Jacobian product ``cotangent^T J``: the gradient of
    ``<cotangent, f(*args)>`` with respect to ``wrt``. The cotangent has the output's structure (a
    float, an array of its shape, a tuple of them for a tuple output, a NamedTuple or dataclass
    instance, or the tuple of its fields, for one the function builds). A pullback may be called
    several times.

    Args:
        f: the function to differentiate, as for ``grad``.
        wrt: an int, a parameter name, or a tuple of them, as for ``grad``.
        backend: ``"python"`` (default) or ``"numba"``, as for ``grad``.

    Returns:
        A function with ``f``'s parameters returning ``(value, pullback)``; the pullback returns
        gradients in ``wrt``'s structure, each of its argument's type and shape.

    >>> import numpy as np
    >>> def f(x):
    ...     return x * x
    >>> value, pullback = vjp(f)(np.array([1.0, 2.0]))
    >>> pullback(np.array([1.0, 0.0]))
    array([2., 0.])
    """
    if backend != "python":
        return _on_backend(backend, f, wrt, "vjp")
    return references.name(_vjp(f, wrt), "vjp", f, wrt)


CHAIN = "_adjoint_compiler_chain"  # (f, (w1, ..., wk), with value): the k-th derivative along scalar arguments
NESTED = {}  # nesting -> make(inner, wrt): the nestings derived.py builds ("vjp(grad)": forward over reverse)


def _vjp(f, wrt):
    inner = getattr(f, "_adjoint_compiler_grad_of", None)
    if inner is not None and "vjp(grad)" in NESTED:
        return NESTED["vjp(grad)"](inner, wrt)
    if getattr(f, "_adjoint_compiler_jacobian_of", None) is not None and "vjp(jacobian)" in NESTED:
        return NESTED["vjp(jacobian)"](f, wrt)
    layouts = _layouts(f, wrt, "vjp", vjp)
    if layouts is not None:
        return _per_layout(layouts, lambda pack, out: (out[0], lambda cotangent: pack(out[1](cotangent))))
    obj, f = f, _function(f, "vjp")
    wrt_idx, single = normalize_wrt(f, wrt)

    d = _Dispatcher(f, wrt_idx, "vjp", single)
    structures = []  # as in _scalar_output

    def structured(args):
        if not structures:
            structures.append(_Structures(obj, wrt, vjp))
        s = structures[0]
        transformed, flat, keywords = s.prepare(args)
        value, pullback = transformed(*flat, **keywords)
        return value, lambda cotangent: s.finish(pullback(_plain_cotangent(cotangent)), args)

    nargs, entries = d.nargs, d.entries

    @functools.wraps(f)
    def vjp_f(*args, **kwargs):
        if not kwargs and len(args) == nargs and not structures:
            e = entries.get(tuple(map(type, args)))
            if e is not None and e[3]:  # float and int arguments: nothing to check but the guards
                if e[2] is None:
                    return _pulled(f, e[0], e[1], args)
                if e[2].current():
                    out = _pulled(f, e[0], e[1], args)
                    check_unchanged(e[2], f)
                    return out
        if _checked_real(f, args if not kwargs and len(args) == nargs else _bind(f, args, kwargs), wrt_idx) is None:
            args = _bind(f, args, kwargs)
            compiled = _compiled(f, wrt_idx, "vjp", args, scalars=False)
            return _complex_call(f, wrt_idx, single, args, compiled.function, compiled, pullback=True)
        if structures and (_any_structure(args) or _any_structure(kwargs.values())):
            return structured(_bind(f, args, kwargs))
        try:
            (function, finish), bound = d.entry(args, kwargs)
        except CompileError as e:
            bound = _bind(f, args, kwargs)
            if not _structures_help(bound):
                _refused_derived(e, f, "vjp")
            return structured(bound)
        if d.makes_complex is not None:
            return _complex_call(f, wrt_idx, single, bound, function, d.makes_complex, pullback=True)
        out = _pulled(f, function, finish, bound)
        check_unchanged(d.last, f)
        return out

    setattr(vjp_f, source.TRANSFORM_MARK, ("vjp", f))
    setattr(vjp_f, source.GRADIENT_OF, (f, wrt_idx, "vjp", single))  # held in a local inside a differentiated function
    return vjp_f


setattr(vjp, source.MAKES_GRADIENT, "vjp")
vjp.gradient_makers = {"grad": grad, "value_and_grad": value_and_grad}  # (as derived.jvp's)
_PULLBACK = (
    "<pullback (not picklable: it holds the tape of one call of the function; pickle the function vjp returned "
    "and call it where it is loaded)>"
)


def _pulled(f, function, finish, args):
    """vjp's call of ``function``, the compiled code of ``f``: (value, pullback), the pullback giving gradients
    in the API's structure and types (``finish``)."""
    try:
        value, pullback = function(*args)
    except (runtime.InPlaceUpdateError, TypeError) as e:
        _reraise(e, args, f)
    except CompileError as e:  # a callee's code, compiled on its first call
        _refused_derived(e, f, "vjp")

    def pullback_f(cotangent):
        return finish(pullback(cotangent if type(cotangent) is float else _plain_cotangent(cotangent)), args)

    pullback_f.__qualname__ = _PULLBACK  # what pickle's error shows
    return value, pullback_f


BACKENDS = {}  # name -> make(f, wrt, kind): the backends besides Python's (backend_numba registers "numba")


def _on_backend(backend, f, wrt, kind, has_aux=False):
    """The transform ``kind`` of ``f`` on a backend other than Python's."""
    make = BACKENDS.get(backend)
    if make is None:
        raise ValueError("backend=%r: one of %s" % (backend, ", ".join(map(repr, ["python"] + sorted(BACKENDS)))))
    if has_aux:
        raise ValueError("has_aux=True is not supported with backend=%r; use backend='python'" % (backend,))
    return make(f, wrt, kind)


def _tape_size(tape):
    """(values, bytes) a tape holds: entries are a value, a tuple of values, or a nested loop's tape
    (counted as one value plus its contents). Bytes count arrays that own their data (views of live
    arrays, shapes and the lists themselves count 0) and 8 per other number."""
    values = size = 0
    for entry in tape:
        for item in entry if isinstance(entry, tuple) else (entry,):
            values += 1
            if isinstance(item, list):
                inner = _tape_size(item)
                values += inner[0]
                size += inner[1]
            elif isinstance(item, np.ndarray):
                size += item.nbytes if item.base is None else 0
            elif isinstance(item, (float, int, np.generic)):
                size += 8
    return values, size


def tape_stats(f, wrt=0):
    """What one gradient call of ``f`` stores on its tapes: ``stats(*args) -> dict``.

    Straight-line code stores nothing (every value keeps its own name); a loop pushes, per
    iteration, what its adjoint reads and the loop overwrites. ``stats`` runs the forward sweep
    once with ``args`` and counts.

    Args:
        f: the function, as for ``grad``.
        wrt: as for ``grad``.

    Returns:
        A function of ``f``'s arguments returning a dict: ``total`` (values stored, nested tapes
        counted as one value each plus their contents), ``bytes`` (memory the tapes hold: arrays
        owning their data, 8 per number; views of live arrays count 0) and ``loops``, one entry
        per loop with its ``tape`` name, source ``line``, the SSA ``names`` pushed per iteration,
        and the ``values`` stored and their ``bytes``. A checkpointed loop counts only the state
        its forward sweep saves.

    >>> import math
    >>> def f(x, n):
    ...     for i in range(n):
    ...         x = math.sin(x)
    ...     return x
    >>> tape_stats(f)(0.5, 10)["total"]
    10
    """
    f = _function(f, "tape_stats")
    wrt_idx, _ = normalize_wrt(f, wrt)

    def stats(*args, **kwargs):
        if kwargs or len(args) != _arity(f):
            args = _bind(f, args, kwargs)
        c = _compiled(f, wrt_idx, "vjp", args)
        _, pullback = c.function(*args)
        cells = dict(zip(pullback.__code__.co_freevars, pullback.__closure__ or ()))
        loops = []
        for tape, line, names in c.tapes:
            cell = cells.get(tape)
            stored, size = _tape_size(cell.cell_contents) if cell is not None else (None, None)
            loops.append({"tape": tape, "line": line, "names": list(names), "values": stored, "bytes": size})
        top = [entry["values"] for entry in loops if entry["values"] is not None]
        return {"total": sum(top), "bytes": sum(e["bytes"] for e in loops if e["bytes"] is not None), "loops": loops}

    return stats


def adjoint_source(f, wrt=0, mode="grad"):
    """The emitted module for the derivative of ``f``, as Python source text.

    The module defines ``<f>_grad(params) -> (value, gradients)`` (``mode="grad"``),
    ``<f>_vjp(params) -> (value, <f>_pullback)`` (``mode="vjp"``) or
    ``<f>_jvp(params, tangents) -> (value, tangent_out)`` (``mode="jvp"``), with the functions it
    calls (user callees' vjps or jvps) and the imports it needs (its few helpers come from
    ``adjoint_compiler.runtime``, a module without compiler code). Adjoint code is marked
    ``# forward sweep`` / ``# adjoint sweep`` and quotes the source line each block comes from.

    ``grad`` runs exactly the code shown; ``vjp`` compiles one variant per set of arguments that
    are Python or NumPy scalars (without their ``unbroadcast`` calls), so its code for scalar
    arguments can be shorter than the code shown. The command line prints the same text:
    ``adjoint-compiler show FILE.py:FUNC [--wrt x,y] [--mode grad|vjp|jvp]``.

    Args:
        f: the function, as for ``grad``.
        wrt: as for ``grad``.
        mode: ``"grad"`` (default), ``"vjp"`` or ``"jvp"``.

    Returns:
        The module's source, a ``str``.

    >>> def f(x):
    ...     return x * x
    >>> print(adjoint_source(f).split("def ", 1)[1].splitlines()[0])
    f_grad(x):
    """
    f = _function(f, "adjoint_source")
    if mode not in ("grad", "vjp", "jvp"):
        raise ValueError("mode=%r: one of 'grad', 'vjp', 'jvp'" % (mode,))
    wrt_idx, _ = normalize_wrt(f, wrt)
    return display.Source(pipeline.compile(f, wrt_idx, mode).source)  # a str that notebooks highlight


class Differentiable:
    """A function with its derivatives attached (made by ``differentiate``).

    Calling it runs the original function unchanged. ``.grad``, ``.value_and_grad`` and ``.vjp``
    are ``grad(f, wrt)``, ``value_and_grad(f, wrt)`` and ``vjp(f, wrt)``; ``.adjoint_source`` is
    the emitted gradient module; ``.wrt`` the parameters differentiated.
    """

    def __init__(self, f, wrt=None):
        if wrt is None:  # every parameter, by name (*args and **kwargs as a whole)
            names = _params(f)
            if not names:
                _function(f, "differentiate")
            wrt = names[0] if len(names) == 1 else tuple(names)
        self.__wrapped__ = f
        self.wrt = wrt
        functools.update_wrapper(self, f)
        self.grad = grad(f, wrt)
        self.value_and_grad = value_and_grad(f, wrt)
        self.vjp = vjp(f, wrt)

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    @property
    def adjoint_source(self):
        return adjoint_source(self.__wrapped__, self.wrt)

    def __repr__(self):
        return "<differentiable %s>" % self.__wrapped__.__qualname__

    def __reduce__(self):
        """By reference: as the module attribute it replaced (``@differentiate``), else as its function and
        ``wrt`` (the function then pickles by reference itself); compiled again where it is loaded."""
        module = sys.modules.get(self.__module__)
        found = module
        for part in self.__qualname__.split("."):
            found = getattr(found, part, None)
        if found is self:
            return self.__qualname__
        return Differentiable, (self.__wrapped__, self.wrt)


def differentiate(f=None, *, wrt=None):
    """Decorator attaching the derivatives to a function: ``@differentiate`` or ``@differentiate(wrt="x")``.

    Without ``wrt`` every parameter is differentiated (``*args`` and ``**kwargs`` each as a
    whole): ``f.grad`` then returns a tuple, or a single gradient when ``f`` has one parameter.

    Args:
        f: the function (when used as ``@differentiate`` without arguments).
        wrt: as for ``grad``; default every parameter.

    Returns:
        A ``Differentiable``: callable as the original function, with ``.grad``,
        ``.value_and_grad``, ``.vjp`` and ``.adjoint_source``.

    >>> @differentiate
    ... def area(w, h):
    ...     return w * h
    >>> area(2.0, 3.0), area.grad(2.0, 3.0)
    (6.0, (3.0, 2.0))
    """
    if f is None:
        return lambda g: Differentiable(g, wrt)
    return Differentiable(f, wrt)


def cache_dir(path):
    """Keep emitted modules in the directory ``path`` (created if missing), so that a function compiled
    in an earlier process is loaded rather than compiled again; ``None`` turns the cache off. Off by
    default; the environment variable ``ADJOINT_COMPILER_CACHE`` sets it at import. An entry is used
    only while the function's source, its callees' sources, the constants baked into its code, the
    compiler and the Python and NumPy versions are those it was compiled with (see ``diskcache``).

    >>> cache_dir(None)
    """
    diskcache.set_dir(path)


references.TRANSFORMS.update(grad=grad, value_and_grad=value_and_grad, vjp=vjp)
references.STANDINS.append(Differentiable)
