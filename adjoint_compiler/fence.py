"""Reject, with the user's file:line:col, every construct the later passes do not handle.

Output invariant: the tree is returned unchanged, and every node in it is of a
kind listed in ``SUPPORTED``; later passes may assume so. Unknown node kinds
are rejected too (a whitelist), so a new Python feature never reaches a pass
that would crash on it.

>>> import gast
>>> tree = gast.parse("def f(x):\\n    yield x").body[0]
>>> try:
...     run(tree, None)
... except Exception as e:
...     print(type(e).__name__, e.construct)
UnsupportedError yield (generators)
"""

import builtins

import gast
import numpy as np

from adjoint_compiler import trees
from adjoint_compiler.errors import CompileError, SourceLocation, UnsupportedError
from adjoint_compiler.source import hashable, static_value

# What each construct is called in messages (other kinds by their class name), and a hint where there is one.
NAMES = {
    gast.Yield: "yield (generators)",
    gast.YieldFrom: "yield from (generators)",
    gast.Await: "await",
    gast.AsyncFunctionDef: "async def",
    gast.AsyncFor: "async for",
    gast.AsyncWith: "async with",
    gast.ListComp: "list comprehension",
    gast.SetComp: "set comprehension",
    gast.DictComp: "dict comprehension",
    gast.GeneratorExp: "generator expression",
    gast.NamedExpr: "assignment expression (:=)",
    gast.Try: "try statement",
    gast.With: "with statement",
    gast.Raise: "raise statement",
    gast.ClassDef: "class definition inside a differentiated function",
    gast.Import: "import inside a differentiated function",
    gast.ImportFrom: "import inside a differentiated function",
    gast.Delete: "del statement",
    gast.Starred: "starred expression (*args)",
    gast.Set: "set display",
    gast.Match: "match statement",
    gast.AnnAssign: "annotated assignment without a value",
}
HINTS = {
    gast.ListComp: "write it as a for loop",
    gast.GeneratorExp: "write it as a for loop",
    gast.Import: "import at module level",
    gast.ImportFrom: "import at module level",
    gast.Starred: "spread a list or tuple whose length is known where it is made ([y, *xs] with xs = [a, b], "
    "or a list or tuple argument), or build the list with + (e.g. [y] + list(xs))",
}

SUPPORTED = {
    gast.Module,
    gast.FunctionDef,
    gast.arguments,
    gast.Name,
    gast.Constant,
    gast.Attribute,
    gast.Assign,
    gast.AugAssign,
    gast.AnnAssign,
    gast.Return,
    gast.Expr,
    gast.Pass,
    gast.Assert,
    gast.BinOp,
    gast.UnaryOp,
    gast.Call,
    gast.keyword,
    gast.Tuple,
    gast.Compare,
    gast.JoinedStr,
    gast.FormattedValue,
    gast.Subscript,
    gast.BoolOp,
    gast.IfExp,
    gast.List,
    gast.Slice,
    gast.Dict,
    gast.If,
    gast.For,
    gast.While,
    gast.Break,
    gast.Continue,
    gast.And,
    gast.Or,
    # contexts and operator tokens
    gast.Load,
    gast.Store,
    gast.Del,
    gast.Param,
    gast.Global,
    gast.Nonlocal,
    gast.Add,
    gast.Sub,
    gast.Mult,
    gast.Div,
    gast.Pow,
    gast.FloorDiv,
    gast.Mod,
    gast.USub,
    gast.UAdd,
    gast.Not,
    gast.Invert,
    gast.BitAnd,
    gast.BitOr,
    gast.BitXor,
    gast.LShift,
    gast.RShift,
    gast.MatMult,
    gast.Eq,
    gast.NotEq,
    gast.Lt,
    gast.LtE,
    gast.Gt,
    gast.GtE,
    gast.Is,
    gast.IsNot,
    gast.In,
    gast.NotIn,
}


def _location(node, source):
    if source is None:
        return SourceLocation("<unknown>", getattr(node, "lineno", 0) or 0, (getattr(node, "col_offset", 0) or 0) + 1)
    return source.location(node)


def _reject(node, source, construct=None, hint=None):
    kind = type(node)
    raise UnsupportedError(
        construct or NAMES.get(kind, kind.__name__), _location(node, source), hint or HINTS.get(kind)
    )


_SPREAD_HINT = (
    "spread a display, h(*(a, b)) or h(**{'a': a}), or a name assigned one once and otherwise only "
    "indexed; or pass the values one by one"
)


def _spread_parameter(value, source):
    """The parameter whose argument's length would let ``*value`` be spread (``specialise.spread_calls``):
    ``value`` is ``xs``, ``xs[i:j]`` or ``list(xs)`` of a parameter ``xs`` whose length the compilation does
    not know; else None."""
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
        value = value.value
    elif isinstance(value, gast.Call) and len(value.args) == 1 and not value.keywords:
        value = value.args[0]
    if source is None or not isinstance(value, gast.Name):
        return None
    if getattr(source, "structure", {}).get(value.id, (None, None))[1] is not None:
        return None  # known, and still not spread: the function changes or rebinds it
    return value.id if value.id in {a.id for a in source.tree.args.args} else None


def _text(node):
    return getattr(node, "id", None) or "(...)"


def _check_arguments(fn, source):
    args = fn.args  # (the API compiles *args and **kwargs for each call's count and keys: these are callees')
    if args.vararg is not None:
        _reject(args.vararg, source, "*%s parameter" % args.vararg.id, "call it from the API, or pass a tuple")
    if args.kwarg is not None:
        _reject(
            args.kwarg,
            source,
            "**%s parameter" % args.kwarg.id,
            "a called function's keywords must be parameters (the differentiated function itself may take **kwargs)",
        )
    if args.kwonlyargs:
        _reject(args.kwonlyargs[0], source, "keyword-only parameter")


# NumPy functions that write into an argument (the compiler follows only a[...] = v), known by what they
# are; for a method of a local (a.put(...)) the receiver is unknown until run time, so by its name
_WRITERS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}
_WRITER_METHODS = {"put"}


def _writer(call, source):
    """The name of an in-place NumPy writer called here, else None."""
    func = call.func
    root = func
    while isinstance(root, gast.Attribute):
        root = root.value
    if (
        isinstance(func, gast.Attribute)
        and isinstance(root, gast.Name)
        and source is not None
        and root.id in source.local_names
    ):
        return func.attr if func.attr in _WRITER_METHODS else None
    if source is None or not isinstance(func, (gast.Name, gast.Attribute)):
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
        return name if name in {w.__name__ for w in _WRITERS} else None
    try:
        value = static_value(func, source)
    except CompileError:
        return None
    return value.__name__ if hashable(value) and value in _WRITERS else None


def _has_attribute(target):
    while isinstance(target, gast.Subscript):
        target = target.value
    return isinstance(target, gast.Attribute)


def _inner_subscripts(target):
    """The subscripts a store target ``a[i][j]`` reads on its way (``a[i]``), not the stored one."""
    out = []
    target = target.value
    while isinstance(target, gast.Subscript):
        out.append(target)
        target = target.value
    return out


def _check_node(node, source):
    kind = type(node)
    param = _spread_parameter(node.value, source) if kind is gast.Starred else None
    if param is not None:  # [y, *xs] of a parameter xs: compiled for the argument's length (api._compiled), spread
        error = UnsupportedError(
            "*%s in a display, whose length is not known" % _text(node.value),
            _location(node, source),
            HINTS[gast.Starred] + "; ac.grad, ac.vjp and ac.jvp called with the arguments compile a variant per "
            "length of %s" % param,
        )
        error.needs = ((param, "length"),)
        raise error
    if kind not in SUPPORTED:
        _reject(node, source)
    if kind is gast.AnnAssign and node.value is None:
        _reject(node, source)
    if kind in (gast.Assign, gast.AugAssign, gast.AnnAssign):
        targets = node.targets if kind is gast.Assign else [node.target]
        for target in targets:
            if isinstance(target, gast.Subscript) and kind is not gast.AnnAssign and len(targets) == 1:
                # a[i] = v, a[i] += v and a[i][j] = v: in-place updates of a local (aliasing.py checks which)
                if trees.store_root(target) is None:
                    _reject(
                        target,
                        source,
                        "assignment to an element of %s" % ("an attribute" if _has_attribute(target) else "a value"),
                        "index a local name (v = obj.items; v[i] = x)",
                    )
                for inner in _inner_subscripts(target):
                    if any(isinstance(n, gast.Slice) for n in trees.breadth_first(inner.slice)):
                        _reject(
                            inner,
                            source,
                            "assignment into a slice of an element (a[i:j][k] = v)",
                            "index once, a[i:j, k] = v, on an array",
                        )
                continue
            elts = target.elts if isinstance(target, gast.Tuple) else [target]
            for elt in elts:
                if not isinstance(elt, gast.Name):
                    what = (
                        "assignment to an attribute"
                        if isinstance(elt, gast.Attribute)
                        else "assignment to an element or slice inside a tuple target"
                        if isinstance(elt, gast.Subscript)
                        else None
                    )
                    _reject(elt, source, what)
    if kind is gast.Call:
        name = _writer(node, source)
        if name is not None or any(k.arg == "out" for k in node.keywords):
            _reject(
                node,
                source,
                "%s, which writes into an array in place" % ("out=" if name is None else name + "(...)"),
                "write it as an assignment (a[...] = ...)",
            )
    if kind is gast.Call:
        for arg in node.args:
            if isinstance(arg, gast.Starred):
                param = _spread_parameter(arg.value, source)
                hint = _SPREAD_HINT
                if param is not None:
                    hint += (
                        "; ac.grad, ac.vjp and ac.jvp called with the arguments compile a variant per length of %s"
                        % param
                    )
                error = UnsupportedError(
                    "*%s in a call, whose length is not known" % _text(arg.value), _location(arg, source), hint
                )
                if param is not None:  # compiled for the argument's length (api._compiled), it may be spread
                    error.needs = ((param, "length"),)
                raise error
        for k in node.keywords:
            if k.arg is None:
                param = _spread_parameter(k.value, source) if isinstance(k.value, gast.Name) else None
                what = "**%s in a call, whose keys are not known" % _text(k.value)
                error = UnsupportedError(what, _location(k.value, source), _SPREAD_HINT)
                if param is not None:  # compiled for the dict argument's keys (api._compiled), it may be spread
                    error.needs = ((param, "length"),)
                raise error
    if kind is gast.Compare and len(node.ops) > 1:
        _reject(node, source, "chained comparison")
    if (
        kind is gast.Call
        and isinstance(node.func, gast.Name)
        and source is not None
        and source.env.get(node.func.id) in (builtins.exec, builtins.eval)
    ):
        _reject(node, source, "%s() of code the compiler cannot see" % node.func.id)


def run(tree, source):
    """Return ``tree`` itself if every construct in it is supported; raise UnsupportedError otherwise."""
    if source is not None:
        source.local_names = trees.local_names(tree)
    _check_arguments(tree, source)
    for node in trees.breadth_first(tree):
        _check_node(node, source)
    return tree
