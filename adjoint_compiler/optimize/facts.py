"""What the rewrites of ``optimize`` ask of an expression or a statement: whether evaluating it has effects
that must be kept (``pure``), and which names it binds or stores into (``stored``).

A call is pure when it is a runtime helper other than ``check_scalar`` (which raises on a bad value),
``range``, ``reversed``, ``len``, ``zip``, or a function of ``np`` or ``math`` other than ``np.random.*``
(a draw changes the generator's state); nothing else is assumed.

>>> import gast
>>> pure(gast.parse("np.sin(x) + unbroadcast(g, x)", mode="eval").body)
True
>>> pure(gast.parse("np.random.normal(x)", mode="eval").body), pure(gast.parse("f(x)", mode="eval").body)
(False, False)
>>> sorted(stored(gast.parse("a[i] = b = v").body[0]))
['a', 'b']
"""

import gast

from adjoint_compiler import runtime, trees

_PURE_MODULES = {"np", "math"}


def pure(node):
    """True when evaluating ``node`` has no side effects we must keep."""
    Call = gast.Call
    for sub in trees.walk(node):
        if sub.__class__ is Call and not pure_call(sub):
            return False
    return True


def pure_call(call):
    """Whether the call node ``call`` itself (not its arguments) has no side effects we must keep."""
    f = call.func
    root = f
    while isinstance(root, gast.Attribute):
        root = root.value
    if isinstance(f, gast.Name) and (
        f.id in runtime.HELPERS and f.id != "check_scalar" or f.id in ("range", "reversed", "len", "zip")
    ):
        return True
    # (np.random.* draws change the generator's state: never dropped)
    return (
        isinstance(f, gast.Attribute)
        and isinstance(root, gast.Name)
        and root.id in _PURE_MODULES
        and not (isinstance(f.value, gast.Attribute) and f.value.attr == "random")
    )


def stored(stmt):
    """Names ``stmt`` binds or changes the contents of (``a[i] = v`` changes a)."""
    out = set()
    for t in getattr(stmt, "targets", []):
        if isinstance(t, gast.Subscript):
            out |= trees.all_names(t.value)
        out |= {n.id for n in trees.walk(t) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return out


def try_body(marker, branch):
    """Whether ``branch`` is the body branch of a try statement: ``_try1 = try_(k, E)`` (``runtime.try_`` under
    the name desugar binds it to), then ``if _try1:``; not a with block's (``try_("with1")``), whose exception
    leaves the function."""
    call = getattr(marker, "value", None)
    return (
        type(marker) is gast.Assign
        and type(call) is gast.Call
        and type(call.func) is gast.Name
        and call.func.id.lstrip("_") == "try_"
        and type(branch.test) is gast.Name
        and type(marker.targets[0]) is gast.Name
        and marker.targets[0].id == branch.test.id
        and bool(call.args)
        and not (type(call.args[0]) is gast.Constant and isinstance(call.args[0].value, str))
    )


BLOCKS = (gast.If, gast.For, gast.While, gast.FunctionDef)
