"""Accumulate a cotangent in place where the function owns it: in a loop, ``v = v + f(...)`` becomes
``v = add_into(v, f(...))`` (``runtime.add_into``: ``v += term`` where that is the same array, the same
shape and dtype, and ``v + term`` otherwise), so that a sum over the steps of a loop (``Wh_bar`` of an RNN)
does not allocate a new array per step.

Invariant: a variable ``v`` is accumulated in place only when no other name or object can reach the
object it holds, which holds when (1) it is not a parameter and not declared global or nonlocal,
(2) every store into it is ``v = <value>`` of one name, where the value makes a new object: a call of
``zeros_like``, a number, an arithmetic operator (``+``, ``-``, ``*``, ``@``, ... and unary ``-``) or
``add_into(v, ...)`` (its own accumulation), and (3) every read of it is an operand of an arithmetic
operator (whose result is a new object), the first argument of ``add_into`` or in the ``return`` ending the
function. Then by induction each object ``v`` holds was made for it, and reading it hands it to no one, so
adding into it changes no value another name sees. Only an update whose term is an array-valued call
(``matmul_bar2``, ``np.outer``: ``_array_valued``) is rewritten: on a loop of numbers the helper's call would
cost more than the addition saves. Modifies the function in place; a function that names ``add_into``
itself is left as it is.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(W, xs):\\n    W_bar = zeros_like(W)\\n    for x in xs:\\n"
...                 "        W_bar = W_bar + np.outer(x, x)\\n    return W_bar").body[0]
>>> accumulate_in_place(fn)
>>> print(emit.to_source(fn).strip())
def f(W, xs):
    W_bar = zeros_like(W)
    for x in xs:
        W_bar = add_into(W_bar, np.outer(x, x))
    return W_bar
"""

import gast

from adjoint_compiler import trees

HELPER = "add_into"
_MAKES = (gast.BinOp,)  # an arithmetic operator's result is a new object


def _is_call_of(node, name, nargs=None):
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Name)
        and node.func.id == name
        and not node.keywords
        and (nargs is None or len(node.args) == nargs)
    )


# calls whose result is an array (on arrays: a 0-d one, or a NumPy scalar, ``add_into`` sums as ``+`` does):
# the runtime's matmul adjoints, by name, and NumPy's products, as attributes of the module
_ARRAY_HELPERS = frozenset(("matmul_bar1", "matmul_bar2", "dot_bar1", "dot_bar2", "quantile_spread", "prod_bar"))
_ARRAY_PRODUCTS = frozenset(("matmul", "outer", "dot", "einsum", "tensordot", "kron"))


def _array_valued(term):
    """A call of a product or matmul adjoint: in a loop of numbers it does not appear, and on arrays
    ``add_into``'s call costs less than the array ``+`` allocates."""
    if not (isinstance(term, gast.Call) and not term.keywords):
        return False
    fn = term.func
    if isinstance(fn, gast.Name):
        return fn.id in _ARRAY_HELPERS
    return isinstance(fn, gast.Attribute) and isinstance(fn.value, gast.Name) and fn.attr in _ARRAY_PRODUCTS


def _update(stmt):
    """The variable ``v`` of ``v = v + <call>`` (the form rewritten), else None."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)):
        return None
    v, value = stmt.targets[0].id, stmt.value
    if (
        isinstance(value, gast.BinOp)
        and isinstance(value.op, gast.Add)
        and isinstance(value.left, gast.Name)
        and value.left.id == v
        and _array_valued(value.right)
        and v not in trees.all_names(value.right)
    ):
        return v
    return None


def _in_loops(body, inside, found):
    """The statements ``v = v + <call>`` of ``body`` inside a loop (``inside``), appended to ``found``."""
    for stmt in body:
        if inside and _update(stmt) is not None:
            found.append(stmt)
        if isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            continue
        loop = isinstance(stmt, (gast.For, gast.While, gast.AsyncFor))
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                _in_loops(block, inside or loop and field == "body", found)
        for handler in getattr(stmt, "handlers", None) or ():
            _in_loops(handler.body, inside, found)


def _owned(fn, names):
    """Which of ``names`` hold, at every point, an object only they reach (the module docstring's test)."""
    params = {a.id for a in trees.walk(fn.args) if isinstance(a, gast.Name)}
    declared = {n for node in trees.walk(fn) if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names}
    bad = set(params) | declared
    last = fn.body[-1] if fn.body else None
    returned = set()
    if isinstance(last, gast.Return) and last.value is not None:
        returned = {id(n) for n in trees.walk(last.value)}
    allowed = set()  # ids of Name nodes whose use is one of the allowed ones
    for node in trees.walk(fn):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            v, value = node.targets[0].id, node.value
            if (
                isinstance(value, _MAKES)
                or isinstance(value, gast.UnaryOp)
                and isinstance(value.op, gast.USub)
                or _is_call_of(value, "zeros_like")
                or isinstance(value, gast.Constant)
                and type(value.value) in (int, float)
                or _is_call_of(value, HELPER, 2)
                and isinstance(value.args[0], gast.Name)
                and value.args[0].id == v
            ):
                allowed.add(id(node.targets[0]))
        elif isinstance(node, gast.BinOp):
            for operand in (node.left, node.right):
                if isinstance(operand, gast.Name):
                    allowed.add(id(operand))
        elif isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Name):
            allowed.add(id(node.operand))
        elif _is_call_of(node, HELPER, 2) and isinstance(node.args[0], gast.Name):
            allowed.add(id(node.args[0]))
    for node in trees.walk(fn):
        if isinstance(node, gast.Name) and node.id in names:
            if isinstance(node.ctx, gast.Load) and id(node) in returned:
                continue
            if id(node) not in allowed:
                bad.add(node.id)
    return set(names) - bad


def accumulate_in_place(fn):
    """Rewrite, in ``fn``, each ``v = v + <call>`` in a loop into ``v = add_into(v, <call>)`` where ``v`` is
    owned (see the module docstring)."""
    found = []
    _in_loops(fn.body, False, found)
    if not found or HELPER in trees.all_names(fn):
        return
    owned = _owned(fn, {_update(s) for s in found})
    for stmt in found:
        v = _update(stmt)
        if v in owned:
            stmt.value = trees.call(HELPER, trees.name(v), stmt.value.right)
