"""Pickling of the functions grad, value_and_grad, vjp, jvp, hvp, hessian and jacobian return, by reference.

The standard ``pickle`` saves every Python function as a global, by ``__module__`` and ``__qualname__``, and
no function can say otherwise (a class instance could, at the cost of an extra call on every gradient
call). So a transform's result is named as a global of this module, and the name is its recipe: the
transform, the user's function by module and qualified name, ``wrt`` and the options, e.g.
``<grad of model:loss wrt=0 #1>`` (``.`` written ``%2E``: pickle splits names at dots; ``#1`` tells two
results of one recipe apart). The module's ``__getattr__`` finds a live result by that name, or makes it
again where the pickle is loaded: it imports the user's module, finds the function (or the
``@ac.differentiate`` object that replaced it there: its function) and calls the transform, which
compiles again when first called. The user's function is checked to be that same function when a
result is pickled, so a pickle never refers to another function of that name.

Invariant: ``getattr(references, f.__qualname__) is f`` for a live result ``f`` of a function defined
at module level, and a pickle of it loads, in any process that can import that module, as the same
transform of the same function; a result of anything else (a lambda, a nested function, a method)
has a qualified name that says why it cannot be pickled.

>>> import pickle
>>> import adjoint_compiler as ac
>>> from adjoint_compiler.testing import relative_error
>>> g = ac.grad(relative_error, wrt=1)
>>> g.__qualname__
'<grad of adjoint_compiler%2Etesting:relative_error wrt=1 #...>'
>>> pickle.loads(pickle.dumps(g)) is g
True
"""

import ast
import importlib
import inspect
import itertools
import pickle
import sys
import weakref

TRANSFORMS = {}  # name -> the transform: api and derived add theirs (this module imports neither: they import it)
STANDINS = []  # classes whose instances stand for their __wrapped__ function in a module (api.Differentiable)
_LIVE = weakref.WeakValueDictionary()  # name -> the live result it names
_NUMBERS = itertools.count(1)


def _quote(text):
    return text.replace("%", "%25").replace(".", "%2E").replace(" ", "%20")


def _unquote(text):
    return text.replace("%20", " ").replace("%2E", ".").replace("%25", "%")


def _reason(f):
    """Why ``f`` cannot be found again by module and qualified name, or None."""
    if getattr(f, "__module__", None) == __name__:  # a transform's result (grad of grad): by its own name
        return None if f.__qualname__ in _LIVE else "the function it differentiates cannot be pickled"
    if not inspect.isfunction(f) and not _is_differentiable(f):
        return "only functions defined at module level pickle, by reference, not a %s" % type(f).__name__
    if not isinstance(getattr(f, "__module__", None), str) or not isinstance(getattr(f, "__qualname__", None), str):
        return "%s has no module to be found in" % getattr(f, "__name__", "it")
    if "<" in f.__qualname__:
        # (not the qualified name: pickle refuses one with <locals> before asking this module)
        return "%s is a lambda or is defined inside a function; define it at module level" % f.__name__
    return None


def _is_differentiable(obj):
    return isinstance(obj, tuple(STANDINS))


def name(result, transform, f, wrt, **options):
    """Give ``result``, ``transform(f, wrt, **options)``, its name as a global of this module; returns it."""
    reason = _reason(f)
    label = getattr(f, "__name__", None) or type(f).__name__
    if reason is not None:
        result.__qualname__ = "<%s of %s (not picklable: %s)>" % (transform, label, reason)
    else:
        fields = ["%s of %s:%s" % (transform, _quote(f.__module__), _quote(f.__qualname__)), "wrt=" + _spell(wrt)]
        fields += ["%s=%s" % (k, _spell(v)) for k, v in sorted(options.items())]
        result.__qualname__ = "<%s #%d>" % (" ".join(fields), next(_NUMBERS))
        _LIVE[result.__qualname__] = result
        result._adjoint_compiler_reference = f
    result.__module__ = __name__
    return result


def _spell(value):
    return _quote(repr(value).replace(", ", ","))


def _parse(text):
    """(transform, module, qualname, wrt, options) of a name made by ``name``."""
    if not (text.startswith("<") and text.endswith(">")):
        raise ValueError(text)
    fields = text[1:-1].split(" ")
    transform, of, where, *rest, number = fields
    module, qualname = where.split(":", 1)
    if transform not in TRANSFORMS or of != "of" or not number.startswith("#"):
        raise ValueError(text)
    options = {}
    for field in rest:
        key, value = field.split("=", 1)
        options[key] = ast.literal_eval(_unquote(value))
    wrt = options.pop("wrt")
    return transform, _unquote(module), _unquote(qualname), wrt, options


def _resolve(module, qualname):
    """The object named ``module:qualname`` (a Differentiable's function for a Differentiable)."""
    obj = importlib.import_module(module) if module not in sys.modules else sys.modules[module]
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return _function_of(obj)


def _function_of(obj):
    return obj.__wrapped__ if _is_differentiable(obj) else obj


def __getattr__(attribute):
    if not attribute.startswith("<"):
        raise AttributeError("module %r has no attribute %r" % (__name__, attribute))
    live = _LIVE.get(attribute)
    try:
        transform, module, qualname, wrt, options = _parse(attribute)
    except (ValueError, SyntaxError, KeyError):  # not a name made by ``name``
        raise AttributeError("module %r has no attribute %r" % (__name__, attribute)) from None
    try:
        f = _resolve(module, qualname)
    except (ImportError, AttributeError) as e:
        if live is not None:  # pickling: pickle says it failed (not why, but this name says what)
            raise AttributeError(attribute) from None
        raise pickle.UnpicklingError(
            "cannot load ac.%s of %s.%s: %s (the function is pickled by reference: the process that loads it "
            "must be able to import it by that name)" % (transform, module, qualname, e)
        ) from None
    if live is not None:
        if _function_of(live._adjoint_compiler_reference) is not f:
            raise AttributeError(attribute)  # the module's name now means another function
        return live
    result = TRANSFORMS[transform](f, wrt, **options)
    result.__qualname__ = attribute  # pickled again, it keeps its name
    _LIVE[attribute] = result
    result._adjoint_compiler_reference = f
    return result
