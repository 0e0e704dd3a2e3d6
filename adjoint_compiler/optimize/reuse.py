"""Reuse a value a block has computed: arithmetic a statement already assigned to a name, met again inside a
larger expression of the same block, reads that name.

Rules are inlined one by one, so two of them (or the two contributions of one) may compute the same thing:
the quotient's rule gives ``g / y`` to the numerator and ``-g * ans / y`` to the denominator. Read again
rather than recomputed, the second costs one operation fewer (a pass over an array, for arrays).

Invariant: an expression ``E`` (arithmetic on names and literals: no call, subscript or attribute) is
replaced by ``n`` only where ``n = E`` is an earlier statement of the same block and nothing between them
(nor ``n = E`` itself) binds ``n`` or a name ``E`` reads, or can change a value in place (any statement other
than the assignment of a pure value (``facts.pure``) to a name, or a comment, ends what is known). Only an
operand of a larger expression is replaced, never a statement's whole value by a name: the result is a new
value either way, so no two names come to share one array (which an in-place sum, ``optimize.in_place``,
could then write through). In the adjoint sweep, ``a * b / c`` is also read as ``n * b`` where ``n = a / c``
(``_shared_quotient``). Modifies ``fn``.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(g, y, ans):\\n    x_bar = g / y\\n    z = (g / y + 1.0) * ans\\n"
...                 "    g = 2.0\\n    w = g / y + 1.0\\n    __comment__('adjoint sweep')\\n"
...                 "    q = g / y\\n    y_bar = -(g * ans) / y\\n    return (x_bar, z, w, y_bar)").body[0]
>>> reuse(fn)
True
>>> print(emit.to_source(fn).strip())
def f(g, y, ans):
    x_bar = g / y
    z = (x_bar + 1.0) * ans
    g = 2.0
    w = g / y + 1.0
    # adjoint sweep
    q = g / y
    y_bar = -(q * ans)
    return (x_bar, z, w, y_bar)
"""

import gast

from adjoint_compiler import trees
from adjoint_compiler.optimize.facts import pure
from adjoint_compiler.optimize.quotes import is_comment

_ARITHMETIC = (gast.BinOp, gast.UnaryOp)


def reuse(fn):
    """Replace, in ``fn``, each recomputation of a value its block has already assigned to a name; True if any."""
    return _block(fn.body, False)


def _block(stmts, adjoint):
    known = {}  # dump of an expression -> (the name holding its value, the names it reads)
    changed = False
    for stmt in stmts:
        cls = stmt.__class__
        if cls is gast.Assign and len(stmt.targets) == 1 and stmt.targets[0].__class__ is gast.Name:
            if not pure(stmt.value):
                known.clear()  # (a call that may change a value in place)
                continue
            if known and stmt.value.__class__ in _ARITHMETIC:
                new = _rewritten(stmt.value, known, adjoint)
                if new is not None:
                    stmt.value, changed = new, True
            target = stmt.targets[0].id
            for key in [k for k, (holder, reads) in known.items() if holder == target or target in reads]:
                del known[key]
            reads = trees.all_names(stmt.value)
            if stmt.value.__class__ in _ARITHMETIC and target not in reads and _plain(stmt.value):
                known.setdefault(trees.dump(stmt.value), (target, reads))
            continue
        if is_comment(stmt):
            adjoint = adjoint or stmt.value.args[0].value == "adjoint sweep"
            continue
        known.clear()
        for field in ("body", "orelse"):  # (each block starts knowing nothing: it may run in a loop)
            inner = getattr(stmt, field, None)
            if type(inner) is list and inner:
                changed |= _block(inner, adjoint and cls is not gast.FunctionDef)
    return changed


def _plain(node):
    """Whether ``node`` is arithmetic on names and literals (or one of them)."""
    for sub in trees.walk(node):
        if not isinstance(sub, (gast.BinOp, gast.UnaryOp, gast.Name, gast.Constant, gast.operator, gast.unaryop)):
            if not isinstance(sub, gast.expr_context):
                return False
    return True


def _rewritten(node, known, adjoint):
    """``node`` with each operand ``known`` holds replaced by its name (``node`` itself only where the
    replacement is an operation: see ``_shared_quotient``), or None where nothing changes. Modifies ``node``."""
    changed = False
    for field in ("left", "right", "operand"):
        sub = getattr(node, field, None)
        if sub is None or sub.__class__ not in _ARITHMETIC:
            continue
        held = known.get(trees.dump(sub))
        if held is not None:
            setattr(node, field, gast.copy_location(trees.name(held[0]), sub))
            changed = True
            continue
        new = _rewritten(sub, known, adjoint)
        if new is not None:
            setattr(node, field, new)
            changed = True
    if adjoint:
        shared = _shared_quotient(node, known)
        if shared is not None:
            return shared
    return node if changed else None


def _shared_quotient(node, known):
    """``a * b / c`` (or ``-(a * b) / c``) as ``q * b`` (``-(q * b)``) where ``q = a / c`` is known, and
    likewise for ``b / c``: the quotient rule's two cotangents, ``g / y`` and ``-g * ans / y``, share
    their division. Only in adjoint code: reassociated, the product may differ in its last bit, which a
    gradient may and the function's value may not."""
    if node.__class__ is not gast.BinOp or node.op.__class__ is not gast.Div:
        return None
    product, negated = node.left, False
    if product.__class__ is gast.UnaryOp and product.op.__class__ is gast.USub:
        product, negated = product.operand, True
    if product.__class__ is not gast.BinOp or product.op.__class__ is not gast.Mult:
        return None
    for factor, other in ((product.left, product.right), (product.right, product.left)):
        held = known.get(trees.dump(gast.BinOp(left=factor, op=gast.Div(), right=node.right)))
        if held is not None:
            out = gast.BinOp(left=trees.name(held[0]), op=gast.Mult(), right=other)
            if negated:
                out = gast.UnaryOp(op=gast.USub(), operand=out)
            return gast.copy_location(out, node)
    return None
