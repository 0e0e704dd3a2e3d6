"""Fold constants and algebraic identities in one expression (``simplify``), bottom-up.

Invariant: no arithmetic between two literals (``2 - 1`` is ``1``; ``math.sqrt(math.pi)`` is computed
here), no ``--e``, no ``e * 1``, ``1 * e``, ``e + 0``, ``e - 0``, ``e / 1``, ``e ** 1`` where ``e`` is
adjoint or tangent code, whose values are floats; in the user's own code only where ``e`` is known to be a
float (``_known_float``), since ``n * 1.0`` makes an int a float and ``mask * 1`` a bool array an int one.
``e * -1`` is ``-e``, ``a + -b`` is ``a - b``, ``(-a) * b`` is ``-(a * b)``, ``e + e`` is ``2 * e``; in
adjoint and tangent code ``-a + b`` is ``b - a`` and ``unbroadcast(-g, x)`` is ``-unbroadcast(g, x)`` (a
minus is a pass over an array: a sum subtracts instead), and ``(3.0 * e) * 2`` is ``6.0 * e`` where one of
two literals scaling one product is a power of two (the same float, one multiplication fewer).
``group_factors`` (run by ``clean`` on adjoint and tangent statements) writes terms of one sum with one
tangent or cotangent factor as one product.

>>> import gast
>>> from adjoint_compiler import emit
>>> def show(src, cotangent=True):
...     return emit.to_source(simplify(gast.parse(src, mode="eval").body, cotangent)).strip()
>>> show("a ** (2 - 1) + x_bar * 1.0"), show("n * 1.0", cotangent=False), show("n_bar * 1.0", cotangent=False)
('a + x_bar', 'n * 1.0', 'n_bar')
>>> show("a * -1 + -(-b) * c"), show("math.sqrt(math.pi)")
('b * c - a', '1.7724538509055159')
>>> show("-a + b", cotangent=False), show("g_bar + unbroadcast(-h_bar, x)")
('-a + b', 'g_bar - unbroadcast(h_bar, x)')
"""

import math
import operator

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.optimize.facts import pure


_FOLD = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
}


def _num(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def _const(value):
    if isinstance(value, float) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


def neg_value(node):
    """The literal value of ``node`` if it is a number or a negated number."""
    if _num(node):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and _num(node.operand):
        return -node.operand.value
    return None


def _negated(node):
    """``e`` when ``node`` is ``-e`` or ``(-a) * b`` / ``(-a) / b`` (as ``a * b``, ``a / b``), else None."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        inner = _negated(node.left)
        if inner is not None:
            return gast.BinOp(left=inner, op=node.op, right=node.right)
    return None


def _math_constant(node):
    """The value of ``math.pi``/``math.e``/``math.tau``, or of a literal; else None."""
    if (
        isinstance(node, gast.Attribute)
        and isinstance(node.value, gast.Name)
        and node.value.id == "math"
        and node.attr in ("pi", "e", "tau")
    ):
        return getattr(math, node.attr)
    return neg_value(node)


def _fold_math_call(node):
    """``math.sqrt(math.pi)`` and the like: computed once, here, rather than on every call."""
    f = node.func
    if not (
        isinstance(f, gast.Attribute)
        and isinstance(f.value, gast.Name)
        and f.value.id == "math"
        and f.attr in ("sqrt", "log", "exp", "log2", "log10", "sin", "cos")
        and not node.keywords
    ):
        return node
    values = [_math_constant(a) for a in node.args]
    if not values or any(v is None for v in values):
        return node
    try:
        value = getattr(math, f.attr)(*values)
    except (ValueError, OverflowError):
        return node
    return _const(float(value))


def simplify(node, cotangent=True, changed=None):
    """Fold literal arithmetic and algebraic identities, bottom-up. ``cotangent``: ``node`` is adjoint
    code, whose values are floats; in the user's code ``n * 1.0`` or ``mask * 1`` changes a type and stays
    (unless the other operand is known to be a float). ``changed``: a list, told (one item appended per
    rewrite) whether anything was: every rewrite is a node ``_rewrite`` returns in place of the one given."""
    expr = gast.expr
    for field in node._fields:  # (gast.iter_fields, without its generator: this runs on every expression)
        value = getattr(node, field, None)
        if value.__class__ is list:
            for k, v in enumerate(value):
                if isinstance(v, expr) and not _leaf(v):
                    value[k] = simplify(v, cotangent, changed)
        elif isinstance(value, expr) and not _leaf(value):
            setattr(node, field, simplify(value, cotangent, changed))
    if _leaf(node):
        return node
    out = _rewrite(node, cotangent)
    if out is not node and changed is not None:
        changed.append(out)
    return out


def _leaf(node):
    """A name or a literal: nothing under it to fold, and no identity of ``_rewrite`` or ``group_factors`` applies
    to it (most of an expression's nodes: the walks skip them, issue #14)."""
    cls = node.__class__
    return cls is gast.Constant or cls is gast.Name and getattr(node, "annotation", None) is None


def _rewrite(node, cotangent):
    """``simplify``'s identities at the top of ``node``, whose operands are simplified already; a node an
    identity builds is rewritten in turn, so that one ``simplify`` reaches its fixed point (``0.0 - -e`` is
    ``e``, not ``0.0 + e``)."""
    if isinstance(node, gast.Call):
        if cotangent and _linear_helper(node) and isinstance(node.args[0], gast.UnaryOp):
            if isinstance(node.args[0].op, gast.USub):  # the minus out, where a sum can subtract it
                node.args[0] = node.args[0].operand
                return gast.UnaryOp(op=gast.USub(), operand=node)
        return _fold_math_call(node)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = node.operand
        if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
            return inner.operand
        if cotangent and _negated(inner) is not None:  # -((-a) / b * c) is a / b * c: negation is exact
            return _negated(inner)
        return node
    if not isinstance(node, gast.BinOp):
        return node
    left, right, op = node.left, node.right, type(node.op)
    lv, rv = neg_value(left), neg_value(right)

    def keeps_type(node):  # under * 1, * -1, + 0, / 1, ** 1
        return cotangent or _known_float(node)

    if lv is not None and rv is not None and op in _FOLD:
        try:
            value = _FOLD[op](lv, rv)
        except (ArithmeticError, ValueError):
            return node
        if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e15:
            return _const(value)
        return node
    if op is gast.Mult:
        if lv == 1 and keeps_type(right):
            return right
        if rv == 1 and keeps_type(left):
            return left
        if lv == -1 and keeps_type(right):  # -1.0 * i is a float, -i an int (a bool array has no minus)
            return _rewrite(gast.UnaryOp(op=gast.USub(), operand=right), cotangent)
        if rv == -1 and keeps_type(left):
            return _rewrite(gast.UnaryOp(op=gast.USub(), operand=left), cotangent)
        if cotangent:
            scaled = _scaled_twice(left, right, lv, rv)
            if scaled is not None:
                return _rewrite(scaled, cotangent)  # (0.5 * x_bar * 2 is 1.0 * x_bar, which is x_bar)
    if op is gast.Div and rv == 1 and keeps_type(left):
        return left
    if op is gast.Add:
        if isinstance(left, (gast.BinOp, gast.Name, gast.Call)) and trees.same(left, right) and pure(left):
            return gast.BinOp(left=gast.Constant(value=2, kind=None), op=gast.Mult(), right=left)  # x * x
        # 0.0 + e is +0.0 where e is -0.0 (arctan2 tells them apart): dropped in adjoint code only
        if lv == 0 and cotangent:
            return right
        if rv == 0 and cotangent:
            return left
        if _negated(right) is not None:
            return _rewrite(gast.BinOp(left=left, op=gast.Sub(), right=_negated(right)), cotangent)
        if cotangent and _negated(left) is not None and pure(left) and pure(right):
            # an array's minus is a pass over it: b - a computes -a + b exactly without one
            return _rewrite(gast.BinOp(left=right, op=gast.Sub(), right=_negated(left)), cotangent)
    if op is gast.Sub:
        if rv == 0 and keeps_type(left):
            return left
        if _negated(right) is not None:
            return _rewrite(gast.BinOp(left=left, op=gast.Add(), right=_negated(right)), cotangent)
    if op is gast.Pow and rv == 1 and keeps_type(left):
        return left
    if op is gast.Mult and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
        # (-a) * b -> -(a * b) reads better and folds with an outer minus
        product = _rewrite(gast.BinOp(left=left.operand, op=node.op, right=right), cotangent)
        return _rewrite(gast.UnaryOp(op=gast.USub(), operand=product), cotangent)
    return node


def _scaled_twice(left, right, lv, rv):
    """``(3.0 * x) * 2`` -> ``6.0 * x`` (and the other orders of the two literals and ``x``): one multiplication
    where the adjoint of ``3.0 * x * x`` wrote two, per loop iteration. Only where one literal is a power of two:
    scaling by it commutes with rounding, so the result is the same float (outside the subnormal range), not
    merely close. A float literal goes first (float-float arithmetic is CPython's specialised case), an int one
    last (``e * 6``: the float's own multiplication takes it); an int result only from two ints."""
    for outer, inner in ((rv, left), (lv, right)):
        if outer is None or not (isinstance(inner, gast.BinOp) and isinstance(inner.op, gast.Mult)):
            continue
        for c, e in ((inner.left, inner.right), (inner.right, inner.left)):
            cv = neg_value(c)
            if cv is None or neg_value(e) is not None:
                continue
            if not (_power_of_two(cv) or _power_of_two(outer)):
                continue
            value = cv * outer
            if type(cv) is float or type(outer) is float:
                value = float(value)
            if not (math.isfinite(value) and 0 < abs(value) < 1e15) or abs(value) == 1 and not _known_float(e):
                continue  # (0.5 * i * 2 is a float for an int i: no i in its place)
            if type(value) is float:
                return gast.BinOp(left=_const(value), op=gast.Mult(), right=e)
            return gast.BinOp(left=e, op=gast.Mult(), right=_const(value))
    return None


def _power_of_two(v):
    """Whether ``v`` is plus or minus a power of two (0.5, 2, -4.0): multiplying by it is exact."""
    if v == 0 or not math.isfinite(v):
        return False
    mantissa, _ = math.frexp(abs(v))
    return mantissa == 0.5


def _linear_helper(node):
    """A call of ``unbroadcast``, linear in its first argument: ``unbroadcast(-g, x)`` is ``-unbroadcast(g, x)``
    (not ``unreduce``, whose result is a broadcast view: a minus on it would be a pass over the whole)."""
    return isinstance(node.func, gast.Name) and node.func.id == "unbroadcast" and node.args


def _known_float(node):
    """Whether ``node`` is a float or an array of floats, so that ``* 1.0``, ``+ 0`` or ``/ 1`` leave it
    as it is: a cotangent, or arithmetic with one. The user's values may be ints or bools, which those
    turn into floats (``n * 1.0``, ``mask * 1``)."""
    if isinstance(node, gast.Name):
        return naming.family(node.id)[1] in (naming.BAR.format(""), naming.DOT.format(""))
    if isinstance(node, gast.Constant):
        return type(node.value) is float
    if isinstance(node, gast.UnaryOp):
        return _known_float(node.operand)
    if isinstance(node, gast.BinOp):
        return _known_float(node.left) or _known_float(node.right) or isinstance(node.op, gast.Div)
    return False


_DERIVATIVE_SUFFIXES = (naming.BAR.format(""), naming.DOT.format(""))


def _derivative_name(node):
    """A tangent or cotangent variable (``y_dot``, ``_t3_bar``): a float, a common factor worth grouping."""
    return isinstance(node, gast.Name) and naming.family(node.id)[1] in _DERIVATIVE_SUFFIXES


def _surely_number(node):
    """Whether ``node`` is surely a number or a numeric array, not a bool or bool array: a sum that starts with
    it adds numerically (a bool array plus a bool array is their logical or, not their sum)."""
    if isinstance(node, gast.Constant):
        return type(node.value) in (int, float)
    if _derivative_name(node):
        return True
    if isinstance(node, gast.Call):  # math's functions of a float: a float (not isnan, isclose, ...)
        f = node.func
        return (
            isinstance(f, gast.Attribute)
            and isinstance(f.value, gast.Name)
            and f.value.id == "math"
            and not f.attr.startswith("is")
        )
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, gast.USub) and _surely_number(node.operand)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)):
        return _surely_number(node.left) or _surely_number(node.right)
    return False


def _terms(node):
    """A sum ``a + b - c`` as ``[(1, a), (1, b), (-1, c)]`` (its left-nested chain of + and -)."""
    out = []
    while isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub)):
        out.append((1 if isinstance(node.op, gast.Add) else -1, node.right))
        node = node.left
    out.append((1, node))
    return out[::-1]


def _factor(term):
    """``(d, cofactor)`` of a product ``d * e`` or ``e * d`` of a derivative name ``d``, else None."""
    if isinstance(term, gast.BinOp) and isinstance(term.op, gast.Mult):
        if _derivative_name(term.left):
            return term.left.id, term.right
        if _derivative_name(term.right):
            return term.right.id, term.left
    return None


def group_factors(node, grouped=None):
    """In tangent and adjoint code, terms of one sum with the same derivative factor as one product:
    ``y_dot * x + x_dot * y + y_dot * math.cos(y)`` -> ``y_dot * (math.cos(y) + x) + x_dot * y`` (one
    multiplication by ``y_dot`` instead of two). Only where one cofactor is surely a number (a literal, a
    derivative, ``math``'s function, arithmetic with one): it goes first, so that the cofactors' sum adds
    numbers, never two bool masks (``g * (a > b) + g * (a < b)``, whose sum would be their logical or).
    Exact up to rounding: ``d * (p + q)`` for ``d * p + d * q``, broadcasting to the same shape.
    ``grouped``: a list, told (one item appended per sum rewritten) whether anything was."""
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, gast.expr):
            if not _leaf(value):
                setattr(node, field, group_factors(value, grouped))
        elif value.__class__ is list:
            for k, v in enumerate(value):
                if isinstance(v, gast.expr) and not _leaf(v):
                    value[k] = group_factors(v, grouped)
    if not (isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub))):
        return node
    terms = _terms(node)
    groups = {}
    for k, (_, term) in enumerate(terms):
        f = _factor(term)
        if f is not None:
            groups.setdefault(f[0], []).append(k)
    done = False
    for name, ks in groups.items():
        if len(ks) < 2:
            continue
        cofactors = [(terms[k][0], _factor(terms[k][1])[1]) for k in ks]
        first = next((c for c in cofactors if _surely_number(c[1])), None)
        if first is None or first[0] < 0 and ks[0] == 0:  # (no -(d * (p - q)) for d * q - d * p)
            continue
        cofactors.remove(first)
        total = first[1]
        for sign, c in cofactors:
            op = gast.Add() if sign == first[0] else gast.Sub()
            total = gast.BinOp(left=total, op=op, right=c)
        factor = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
        product = gast.BinOp(left=factor, op=gast.Mult(), right=total)
        terms[ks[0]] = (first[0], product)
        for k in ks[1:]:
            terms[k] = None
        done = True
    if not done:
        return node
    if grouped is not None:
        grouped.append(node)
    return sum_of([t for t in terms if t is not None])


def sum_of(terms):
    """``_terms``' inverse: ``[(1, a), (1, b), (-1, c)]`` as the sum ``a + b - c`` (``-a + ...`` for a first
    term of sign -1)."""
    sign, out = terms[0]
    if sign < 0:
        out = gast.UnaryOp(op=gast.USub(), operand=out)
    for sign, term in terms[1:]:
        out = gast.BinOp(left=out, op=gast.Add() if sign > 0 else gast.Sub(), right=term)
    return out


def fold(node, floats, changed=None):
    """``simplify``, and in adjoint and tangent code (``floats``) ``group_factors``, to their common fixed
    point: a sum grouped is simplified anew (``d * (p + -q)`` is ``d * (p - q)``, a leading ``-(d * p) + e``
    is ``e - d * p``), so that folding ``fold``'s result changes nothing (``clean`` folds each statement
    once and leaves it alone while nothing rewrites it). ``changed``: as ``simplify``'s."""
    node = simplify(node, floats, changed)
    if not floats:
        return node
    for _ in range(4):  # (a grouped sum leaves no factor to group again: one more round at most, in practice)
        grouped = []
        node = group_factors(node, grouped)
        if not grouped:
            break
        if changed is not None:
            changed.extend(grouped)
        node = simplify(node, floats, changed)
    return node
