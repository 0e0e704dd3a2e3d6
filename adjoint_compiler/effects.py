"""Memory effects: the one place that says which expressions make fresh objects, which may return a
view of an operand, and which statements change an object in place.

Every pass asks these questions here (rebind for ``x op= y``, aliasing for its points-to sets, cse
and optimize before sharing or dropping a value, reverse for in-place undo), so a NumPy function or
method is described once. The answers are conservative: "fresh" means certainly a new object; a call
of anything unknown may return (a view of) what it was given.

>>> import gast
>>> def expr(text):
...     return gast.parse(text).body[0].value
>>> makes_new(expr("a * 2.0")), makes_new(expr("np.reshape(a, 3)")), makes_new(expr("np.exp(a)"))
(True, False, True)
>>> fresh(expr("x.copy()")), fresh(expr("[a, b]")), fresh(expr("f(a)"))
(True, True, False)
>>> sorted(changed_in_place(gast.parse("v = xs.pop()").body[0]))
['xs']
"""
import inspect

import gast

from adjoint_compiler import trees

# NumPy functions and array methods/attributes whose result may share memory with an argument
VIEW_FUNCTIONS = {
    "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "ravel", "reshape", "squeeze", "transpose",
    "broadcast_to", "broadcast_arrays", "expand_dims", "swapaxes", "moveaxis", "rollaxis", "atleast_1d",
    "atleast_2d", "atleast_3d", "diagonal", "split", "array_split", "hsplit", "vsplit", "dsplit", "real", "imag",
    "flip", "fliplr", "flipud", "rot90", "view", "T", "mT", "flat", "base", "get", "permute_dims",
    "matrix_transpose", "unstack", "asarray_chkfinite", "require", "trim_zeros", "lib", "ndarray",
}
# methods whose result is a new object (of the receiver's contents)
FRESH_METHODS = {"copy", "astype", "flatten", "sum", "mean", "prod", "var", "std", "dot", "cumsum", "cumprod",
                 "round", "clip", "tolist", "conj", "argmax", "argmin", "all", "any", "trace", "nonzero", "item",
                 "max", "min"}
# builtins whose result shares nothing with their arguments
FRESH_BUILTINS = ("float", "int", "len", "range", "abs", "round", "bool", "sum", "isinstance", "str")
# methods that change their receiver
CHANGING_METHODS = {"pop", "insert", "remove", "clear", "extend", "sort", "reverse", "update", "setdefault",
                    "popitem", "fill", "resize", "itemset", "put", "append", "partition", "byteswap"}
# runtime helpers (in emitted code) that return a new array
FRESH_HELPERS = {"stored", "zeros_like", "add_bars", "snapshot"}

_NUMPY_NAMES = ("np", "numpy", "math")


def numpy_view(call):
    """Whether NumPy call ``call`` (np.<name>(...)) may return a view of an argument."""
    name = call.func.attr
    if name == "array":  # np.array(a, copy=False) or copy=None may hand back a itself
        return any(k.arg == "copy" and not (isinstance(k.value, gast.Constant) and k.value.value is True)
                   for k in call.keywords)
    return name in VIEW_FUNCTIONS


def numpy_call(call):
    """Whether ``call`` is spelled ``np.<name>(...)`` / ``math.<name>(...)``."""
    return isinstance(call.func, gast.Attribute) and isinstance(call.func.value, gast.Name) and \
        call.func.value.id in _NUMPY_NAMES


def fresh(value):
    """Whether ``value`` (user code) certainly makes a new object, so the name bound to it shares nothing."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant, gast.List, gast.Tuple, gast.Compare,
                          gast.JoinedStr)):
        return True
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
            isinstance(value.func.value, gast.Name):
        if value.func.value.id in _NUMPY_NAMES:
            return not numpy_view(value)
        return value.func.attr in FRESH_METHODS  # x.copy(), x.astype(float)
    return False


def makes_new(value):
    """Whether ``value`` (emitted code) certainly evaluates to an object sharing no memory with its operands."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant)):
        return True
    if isinstance(value, gast.Call):
        f = value.func
        if isinstance(f, gast.Name):
            return f.id in FRESH_HELPERS
        return numpy_call(value) and not numpy_view(value)
    return False


def changed_in_place(stmt):
    """Names whose contents ``stmt`` changes in place (a[i] = v, a[i] += v, xs.append(v), v = xs.pop())."""
    if trees.element_store(stmt) is not None:
        return {trees.stored_into(stmt)} - {None}
    appended = trees.appended(stmt)
    if appended is not None:
        return {appended[0].id}
    value = getattr(stmt, "value", None)
    if isinstance(stmt, (gast.Assign, gast.Expr)) and isinstance(value, gast.Call) and \
            isinstance(value.func, gast.Attribute) and isinstance(value.func.value, gast.Name) and \
            value.func.attr in CHANGING_METHODS:
        return {value.func.value.id}
    return set()


def may_share(activity):
    """Groups of SSA names that may share memory (views, copies, elements, containers)."""
    pairs = []
    for name, op in activity.defs:
        fresh_op = op.kind in ("const", "nondiff", "index", "store") or op.kind == "call" and not (
            inspect.isfunction(op.fn) or getattr(op.fn, "__name__", None) in VIEW_FUNCTIONS
            or getattr(op.fn, "__name__", None) == "array" and "copy" in op.kwargs)
        pairs += [(other, name) for other in (op.operand_names() if not fresh_op else ())] + [(name, name)]
    return trees.groups(pairs)
