"""Collect like terms in the sums of adjoint and tangent code in loops (``collect_terms``): terms of one sum that
are the same product, up to its order and to names defined earlier in the block, are one term.

Invariant: in the value of an assignment to a cotangent or tangent (``y_bar = ...``, ``y_dot = ...``), no two
terms ``c1 * P`` and ``c2 * P`` with numeric literals ``c1``, ``c2`` and one product ``P`` that holds a
cotangent, a tangent or a float literal (so that both are floats or float arrays), where ``(c1 + c2) / c1`` is a
nonzero integer: the cheaper term (``_cost``) takes the first's place times that integer (folded into a float
literal of it, else next to its derivative factor, where ``fold.group_factors`` then groups it; a float next to
a name assigned a product with a float literal: ``_times``), the other is gone. A product is compared through the
products that names in it were assigned in the same block, where nothing since stored into what they read: the
adjoint of ``3.0 * x * x`` adds ``_t8_bar * _t6`` (``_t6 = 3.0 * x``) and ``_t6_bar * 3.0`` (``_t6_bar = _t8_bar *
x``), one product twice. Exact up to rounding (the same
factors, multiplied in another order); a sum whose coefficients cancel keeps its terms (``inf - inf`` is NaN,
not 0), and a ratio that is no integer would need a new float literal (which NumPy 1 promotes a float32 scalar
by). Modifies ``fn``; returns whether anything changed (``clean`` then drops the definitions left unread).

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(xs, a, g_bar):\\n    for x in xs:\\n        _t6 = 3.0 * x\\n        _t6_bar = g_bar * x\\n"
...                 "        x_bar = g_bar * _t6 + _t6_bar * 3.0 + g_bar * a\\n    return x_bar").body[0]
>>> collect_terms(fn)
True
>>> print(emit.to_source(fn.body[0].body[2]).strip())
x_bar = g_bar * (2.0 * _t6) + g_bar * a
"""

import math

import gast

from adjoint_compiler import trees
from adjoint_compiler.optimize.facts import BLOCKS, pure, stored
from adjoint_compiler.optimize.fold import _const, _derivative_name, _terms, sum_of
from adjoint_compiler.optimize.quotes import is_comment

_FLOAT = ("float",)  # among a product's atoms: it has a float factor (a literal, a cotangent), so it is a float
_DEPTH = 4  # definitions followed into one product: enough for the chains ANF makes of one source line


def collect_terms(fn):
    """Collect like terms in the blocks of ``fn``'s loops, nested ones included (see the module's docstring):
    there a sum runs once per iteration; elsewhere it runs once per call, and the multiplication saved is not
    worth the pass's compile time (a tenth of a 100-line function's). True if any sum changed."""
    changed = []
    _within(fn.body, False, changed)
    return bool(changed)


def _within(stmts, looped, changed):
    if looped:
        _block(stmts, changed)
    for stmt in stmts:
        if isinstance(stmt, BLOCKS):
            body = looped and not isinstance(stmt, gast.FunctionDef) or isinstance(stmt, (gast.For, gast.While))
            _within(stmt.body, body, changed)
            if getattr(stmt, "orelse", None):
                _within(stmt.orelse, looped and not isinstance(stmt, gast.FunctionDef), changed)


def _block(stmts, changed):
    """One block in order, with the products assigned in it so far (``defs``: name -> (value, the names it
    reads)) while nothing stored into a name they read; a nested block starts with none (``collect_terms``)."""
    defs = {}
    for stmt in stmts:
        if is_comment(stmt):
            continue
        if not _keeps(stmt):
            defs.clear()
            continue
        if not isinstance(stmt, gast.Assign):
            continue
        target = stmt.targets[0].id
        if _derivative_name(stmt.targets[0]) and isinstance(stmt.value, gast.BinOp):
            value = _collected(stmt.value, defs)
            if value is not None:
                stmt.value = value
                changed.append(stmt)
        for name in stored(stmt):
            defs.pop(name, None)
            for other in [n for n, (_, reads) in defs.items() if name in reads]:
                del defs[other]
        reads = trees.all_names(stmt.value)
        if target not in reads and _product(stmt.value):
            defs[target] = (stmt.value, reads)


def _keeps(stmt):
    if isinstance(stmt, gast.Expr):  # (check_scalar raises or does nothing)
        call = stmt.value
        return isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and call.func.id == "check_scalar"
    return _assigns(stmt)


def _assigns(stmt):
    """Whether ``stmt`` is an assignment of a pure value to one plain name: what it stores is all it changes
    (no call that may write into an array, no store through a subscript or an attribute, which may change
    what another name shares)."""
    return (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and pure(stmt.value)
        and not any(isinstance(n, (gast.Call, gast.NamedExpr)) and not _math_call(n) for n in trees.walk(stmt.value))
    )


def _math_call(node):
    """A call of ``math``'s function or of a runtime helper's pure ones (``unbroadcast``): no argument written."""
    f = node.func if isinstance(node, gast.Call) else None
    if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and f.value.id == "math":
        return True
    return isinstance(f, gast.Name) and f.id in ("unbroadcast", "unreduce") and not node.keywords


def _product(node):
    return (
        isinstance(node, gast.BinOp)
        and isinstance(node.op, gast.Mult)
        or isinstance(node, gast.UnaryOp)
        and isinstance(node.op, gast.USub)
    )


def _expand(node, defs, depth, coef, atoms):
    """Multiply ``node``'s factors into ``coef`` (its numeric literals) and ``atoms`` (keys of the rest), names
    defined as products in ``defs`` followed ``depth`` deep; returns the new coefficient."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
        coef = _expand(node.left, defs, depth, coef, atoms)
        return _expand(node.right, defs, depth, coef, atoms)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return -_expand(node.operand, defs, depth, coef, atoms)
    if isinstance(node, gast.Constant) and type(node.value) in (int, float) and abs(node.value) < 2**53:
        if type(node.value) is float:
            atoms.append(_FLOAT)
        return coef * node.value
    if isinstance(node, gast.Name):
        if _derivative_name(node):
            atoms.append(_FLOAT)
        if depth and node.id in defs:
            return _expand(defs[node.id][0], defs, depth - 1, coef, atoms)
        atoms.append(("name", node.id))
        return coef
    atoms.append(("expr", gast.dump(node)))
    return coef


def _collected(value, defs):
    """``value`` with its like terms collected, or None if it has none."""
    terms = _terms(value)
    if len(terms) < 2:
        return None
    keyed = []
    for sign, term in terms:
        key = None
        if _product(term) or isinstance(term, gast.Name) and term.id in defs:
            atoms = []
            coef = sign * _expand(term, defs, _DEPTH, 1, atoms)
            if _FLOAT in atoms and math.isfinite(coef) and coef != 0:
                key = tuple(sorted(a for a in atoms if a is not _FLOAT))
                keyed.append((key, coef))
                continue
        keyed.append((None, None))
    firsts = {}
    totals = {}
    for k, (key, coef) in enumerate(keyed):
        if key is not None:
            firsts.setdefault(key, k)
            totals[key] = totals.get(key, 0) + coef
    out = list(terms)
    done = False
    for key, k in firsts.items():
        same = [j for j, (other, _) in enumerate(keyed) if other == key]
        if len(same) < 2:
            continue
        kept = min(same, key=lambda j: _cost(terms[j][1], defs))
        ratio = totals[key] / keyed[kept][1]
        if not (math.isfinite(ratio) and ratio == round(ratio) and ratio != 0 and abs(ratio) < 2**31):
            continue
        out[k] = (terms[kept][0], _times(int(ratio), terms[kept][1], defs))
        for j in same[1:]:
            out[j] = None
        done = True
    if not done:
        return None
    return sum_of([t for t in out if t is not None])


def _cost(term, defs):
    """What keeping ``term`` costs: first whether it reads a cotangent defined as a product in the block (the
    other terms may leave it unread, for ``clean`` to drop: ``_t6_bar * 3.0`` where ``_t6_bar = _t8_bar * x``
    costs two multiplications, ``_t8_bar * _t6`` one), then its size."""
    reads = [n for n in trees.walk(term) if isinstance(n, gast.Name) and n.id in defs and _derivative_name(n)]
    return (bool(reads), trees.size(term))


def _times(ratio, term, defs):
    """``ratio * term``, the literal next to a derivative factor of ``d * e`` (``d * (ratio * e)``), where
    ``fold.group_factors`` finds ``d``; 1 leaves ``term`` as it is, -1 negates it. The literal is a float
    where ``e`` is a name assigned in the block a product with a float literal (``_t6 = 3.0 * x``): ``e`` has
    the dtype a float literal gives already (NumPy 1 too), and an int times a Python float costs as much as
    two float multiplications (CPython specialises float-float arithmetic only). An int goes on the right
    (``e * 3``): the float's own multiplication takes it, where ``3 * e`` first asks the int's, which declines."""
    if ratio == 1:
        return term
    if ratio == -1:
        return gast.UnaryOp(op=gast.USub(), operand=term)
    term = trees.clone(term)  # (rewritten below: never a node another statement may share)
    k = gast.Constant(value=ratio, kind=None)
    if isinstance(term, gast.BinOp) and isinstance(term.op, gast.Mult):
        for side in ("left", "right"):
            c = getattr(term, side)
            if isinstance(c, gast.Constant) and type(c.value) is float:  # 2 * (0.1 * x) is 0.2 * x
                setattr(term, side, _const(ratio * c.value))
                return term
        for d, side in (("left", "right"), ("right", "left")):
            if _derivative_name(getattr(term, d)):
                e = getattr(term, side)
                if isinstance(e, gast.Name) and e.id in defs and _float_scaled(defs[e.id][0]):
                    setattr(
                        term,
                        side,
                        gast.BinOp(left=gast.Constant(value=float(ratio), kind=None), op=gast.Mult(), right=e),
                    )
                else:
                    setattr(term, side, gast.BinOp(left=e, op=gast.Mult(), right=k))
                return term
    return gast.BinOp(left=term, op=gast.Mult(), right=k)


def _float_scaled(value):
    """Whether the product ``value`` has a float literal among its own factors (``3.0 * x``, ``-(x * 0.5)``)."""
    while isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        value = value.operand
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult):
        return _float_scaled(value.left) or _float_scaled(value.right)
    return isinstance(value, gast.Constant) and type(value.value) is float
