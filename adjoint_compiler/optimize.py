"""Clean the reversed function: fold constants and identities, drop dead statements, leave SSA.

Output invariant: no ``e * 1.0``, ``1.0 * e``, ``e + 0``, ``e ** 1`` in adjoint or tangent code (in
the user's own code only where ``e`` is known to be a float: ``n * 1.0`` makes an int a float), no
arithmetic between two literals, no assignment whose value is pure and whose name is never read,
and no comment left with nothing under it; each comment names every source line whose code is
under it. Applied to a fixed point; then copies between names of one variable whose live ranges
do not overlap are coalesced away (``coalesce``). The function is copied, not modified.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x, x_bar):\\n    a = 1.0 * x\\n    b = x * 2\\n    c = a ** (2 - 1)\\n"
...                 "    d = x_bar * 1.0\\n    return c + d").body[0]
>>> print(emit.to_source(run(fn, keep={"x", "c"})).strip())
def f(x, x_bar):
    a = 1.0 * x
    c = a ** 1
    return c + x_bar
"""

import math
import operator

import gast

from adjoint_compiler import effects, naming, runtime, trees

_FOLD = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.Pow: operator.pow,
}
_PURE_MODULES = {"np", "math"}


def _num(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def _is(node, value):
    return _num(node) and node.value == value


def _const(value):
    if isinstance(value, float) and value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


def _neg_value(node):
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
    return _neg_value(node)


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


def simplify(node, cotangent=True):
    """Fold literal arithmetic and algebraic identities, bottom-up. ``cotangent``: ``node`` is adjoint
    code, whose values are floats; in the user's code ``n * 1.0`` or ``mask * 1`` changes a type and stays
    (unless the other operand is known to be a float)."""
    for field, value in gast.iter_fields(node):
        if isinstance(value, list):
            value[:] = [simplify(v, cotangent) if isinstance(v, gast.expr) else v for v in value]
        elif isinstance(value, gast.expr):
            setattr(node, field, simplify(value, cotangent))
    if isinstance(node, gast.Call):
        return _fold_math_call(node)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = node.operand
        if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
            return inner.operand
        return node
    if not isinstance(node, gast.BinOp):
        return node
    left, right, op = node.left, node.right, type(node.op)
    lv, rv = _neg_value(left), _neg_value(right)

    def keeps_type(node):  # under * 1, + 0, / 1, ** 1
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
        if lv == -1:
            return simplify(gast.UnaryOp(op=gast.USub(), operand=right), cotangent)
        if rv == -1:
            return simplify(gast.UnaryOp(op=gast.USub(), operand=left), cotangent)
    if op is gast.Div and rv == 1 and keeps_type(left):
        return left
    if op is gast.Add:
        if isinstance(left, (gast.BinOp, gast.Name, gast.Call)) and _pure(left) and gast.dump(left) == gast.dump(right):
            return gast.BinOp(left=gast.Constant(value=2, kind=None), op=gast.Mult(), right=left)  # x * x
        # 0.0 + e is +0.0 where e is -0.0 (arctan2 tells them apart): dropped in adjoint code only
        if lv == 0 and cotangent:
            return right
        if rv == 0 and cotangent:
            return left
        if _negated(right) is not None:
            return gast.BinOp(left=left, op=gast.Sub(), right=_negated(right))
    if op is gast.Sub:
        if rv == 0 and keeps_type(left):
            return left
        if _negated(right) is not None:
            return gast.BinOp(left=left, op=gast.Add(), right=_negated(right))
    if op is gast.Pow and rv == 1 and keeps_type(left):
        return left
    if op is gast.Mult and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
        # (-a) * b -> -(a * b) reads better and folds with an outer minus
        return gast.UnaryOp(
            op=gast.USub(), operand=simplify(gast.BinOp(left=left.operand, op=node.op, right=right), cotangent)
        )
    return node


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


def _is_range_call(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in ("range", "reversed")


def _pure(node):
    """True when evaluating ``node`` has no side effects we must keep."""
    for sub in gast.walk(node):
        if isinstance(sub, gast.Call):
            f = sub.func
            root = f
            while isinstance(root, gast.Attribute):
                root = root.value
            if isinstance(f, gast.Name) and (
                f.id in runtime.HELPERS and f.id != "check_scalar" or f.id in ("range", "reversed", "len", "zip")
            ):
                continue
            if (
                isinstance(f, gast.Attribute)
                and isinstance(root, gast.Name)
                and root.id in _PURE_MODULES
                and not (isinstance(f.value, gast.Attribute) and f.value.attr == "random")
            ):
                continue  # (np.random.* draws change the generator's state: never dropped)
            return False
    return True


def _scan(fn):
    """One pass over ``fn``: (reads per name, assignments per name, node count, assignment nodes)."""
    reads, assigns, copies = {}, {}, []
    size = 0
    Name, Load, Assign = gast.Name, gast.Load, gast.Assign
    for n in trees.walk(fn):
        size += 1
        kind = type(n)
        if kind is Name:
            table = reads if type(n.ctx) is Load else assigns
            table[n.id] = table.get(n.id, 0) + 1
        elif kind is Assign:
            copies.append(n)
    return reads, assigns, size, copies


def _is_comment(stmt):
    return (
        isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Call)
        and isinstance(stmt.value.func, gast.Name)
        and stmt.value.func.id == naming.COMMENT_FN
    )


def _sweep_marker(stmt):
    return _is_comment(stmt) and stmt.value.args[0].value in ("forward sweep", "adjoint sweep")


def _stored(stmt):
    """Names ``stmt`` binds or changes the contents of (``a[i] = v`` changes a)."""
    out = set()
    for t in getattr(stmt, "targets", []):
        if isinstance(t, gast.Subscript):
            out |= trees.all_names(t.value)
        out |= {n.id for n in trees.walk(t) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return out


_BLOCKS = (gast.If, gast.For, gast.While, gast.FunctionDef)


class _Quotes:
    """Which quoted source lines (the ``# line`` comments of the adjoint sweep) each statement's code
    comes from. A statement fused with one from another line, or moved under another comment, takes its
    lines along; at the end each comment names every line whose code is under it."""

    def __init__(self, fn):
        self.texts = []  # the quoted lines, in the order of their comments
        self.comments = {}  # id(comment) -> (comment, its position in texts)
        self.lines = {}  # id(statement) -> (statement, positions of the lines its code comes from)
        self._collect(fn.body)

    def _collect(self, stmts):
        current = None
        for s in stmts:
            if _is_comment(s):
                current = None if _sweep_marker(s) else len(self.texts)
                if current is not None:
                    self.comments[id(s)] = (s, current)
                    self.texts.append(s.value.args[0].value)
            elif isinstance(s, _BLOCKS):
                current = None  # reverse quotes lines over simple statements only
                self._collect(s.body)
                self._collect(getattr(s, "orelse", []))
            elif current is not None:
                self.lines[id(s)] = (s, {current})

    def fuse(self, into, part):
        """``into`` now also computes what ``part`` did."""
        if id(part) in self.lines:
            self.lines.setdefault(id(into), (into, set()))[1].update(self.lines[id(part)][1])

    def requote(self, stmts):
        """Rewrite each comment in ``stmts`` (and the blocks inside) to name the lines of what is under it."""
        comment, under = None, set()
        for s in stmts + [None]:
            if s is None or _is_comment(s) or isinstance(s, _BLOCKS):
                if len(under) > 1:
                    quoted = dict.fromkeys(self.texts[k] for k in sorted(under))
                    comment.value.args = [gast.Constant(value=line, kind=None) for line in quoted]
                entry = self.comments.get(id(s))
                comment, under = (entry[0], {entry[1]}) if entry else (None, set())
            elif comment is not None and id(s) in self.lines:
                under |= self.lines[id(s)][1]
            if isinstance(s, _BLOCKS):
                self.requote(s.body)
                self.requote(getattr(s, "orelse", []))


def _fuse_accumulations(stmts, quotes):
    """``v = A; ...; v = v + e`` -> ``...; v = A + e`` when nothing between touches v or what A reads.

    Adjoint sweeps accumulate a variable over several statements; one expression
    is shorter to read and cheaper to run (fewer stores and loads).
    """
    out = list(stmts)
    known = {}  # id(statement) -> names in it (statements between are scanned many times)

    def names(stmt):
        if id(stmt) not in known:
            known[id(stmt)] = trees.all_names(stmt)
        return known[id(stmt)]

    i = 0
    while i < len(out):
        s = out[i]
        v = trees.assigned_name(s)
        if (
            v is not None
            and isinstance(s.value, gast.BinOp)
            and isinstance(s.value.op, (gast.Add, gast.Sub))
            and isinstance(s.value.left, gast.Name)
            and s.value.left.id == v
        ):
            if v not in trees.all_names(s.value.right):
                j = i - 1
                while j >= 0 and trees.assigned_name(out[j]) != v:
                    j -= 1
                if j >= 0:
                    first = out[j]
                    reads = trees.all_names(first.value)
                    between = out[j + 1 : i]
                    if all(
                        isinstance(b, (gast.Assign, gast.Expr)) and v not in names(b) and not (_stored(b) & reads)
                        for b in between
                    ):
                        s.value.left = first.value
                        quotes.fuse(s, first)
                        known.pop(id(s), None)
                        del out[j]
                        i -= 1
                        continue
        i += 1
    return out


_FUSED_SIZE = 12  # nodes: beyond this a fused expression reads worse than its named parts


def _size(node):
    return sum(1 for _ in trees.walk(node))


def _substitute(node, name, value):
    """Replace the one read of ``name`` in ``node`` by ``value``; True if found."""
    for parent in trees.walk(node):
        for field, child in gast.iter_fields(parent):
            if isinstance(child, gast.Name) and child.id == name and isinstance(child.ctx, gast.Load):
                setattr(parent, field, value)
                return True
            if isinstance(child, list):
                for k, item in enumerate(child):
                    if isinstance(item, gast.Name) and item.id == name and isinstance(item.ctx, gast.Load):
                        child[k] = value
                        return True
    return False


def _fuse_temporaries(stmts, reads, assigns, quotes):
    """``_t3 = a * x; b = _t3 + c`` -> ``b = a * x + c`` when the temporary is read nowhere else.

    A-normal form names every intermediate; those the adjoint never reads go
    back into the expression that uses them, so the forward sweep reads like
    the user's code and runs fewer statements. Only over pure assignments to
    other names (no stores, calls with effects or loops in between).
    """
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        t = trees.assigned_name(s)
        if not (
            t is not None
            and naming.is_temp_value(t)
            and reads.get(t) == 1
            and assigns.get(t) == 1
            and _pure(s.value)
            and not isinstance(s.value, gast.IfExp)
            and _size(s.value) <= _FUSED_SIZE
        ):
            i += 1
            continue
        needs = trees.all_names(s.value)
        j = i + 1
        while j < len(out) and (
            _is_comment(out[j])
            or (
                trees.assigned_name(out[j]) is not None
                and out[j].targets[0].id not in needs
                and _pure(out[j].value)
                and t not in trees.all_names(out[j].value)
            )
        ):
            j += 1
        use = out[j] if j < len(out) else None
        if (
            isinstance(use, (gast.Assign, gast.Expr, gast.Return))
            and _size(use.value) + _size(s.value) <= 2 * _FUSED_SIZE
            and not (
                isinstance(use, gast.Assign)
                and not isinstance(use.targets[0], gast.Name)
                and t in trees.all_names(use.targets[0])
            )
            and _substitute(use.value, t, s.value)
        ):
            quotes.fuse(use, s)
            del out[i]
            continue
        i += 1
    return out


def _reads_of(node, name):
    return sum(
        1 for n in trees.walk(node) if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
    )


def _sink_copies(stmts, reads, assigns):
    """``a = b; b = e(a); ...reads of a...`` -> ``...reads of b...; b = e(b)``.

    A loop's adjoint starts by copying the carried cotangent (``acc_2_bar =
    acc_1_bar``) before updating it; updating it after its last use instead
    needs no copy.
    """
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        a = trees.assigned_name(s)
        if a is None or not isinstance(s.value, gast.Name) or assigns.get(a) != 1:
            i += 1
            continue
        b = s.value.id

        def writes(stmt):  # anywhere inside it: an if that reassigns b is a write of b too
            return {
                n.id for n in trees.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
            } | _stored(stmt)

        j = next((k for k in range(i + 1, len(out)) if {a, b} & writes(out[k])), None)
        if j is None or not (trees.assigned_name(out[j]) == b and _pure(out[j].value)):
            i += 1
            continue
        update = out[j]
        last = max([j] + [k for k in range(i + 1, len(out)) if _reads_of(out[k], a)])
        within = sum(_reads_of(out[k], a) for k in range(i + 1, last + 1))
        between = out[j + 1 : last + 1]
        needs = trees.all_names(update.value) | {b}
        if within != reads.get(a, 0) or not all(
            isinstance(t, (gast.Assign, gast.AugAssign, gast.Expr)) and not _reads_of(t, b) and not (_stored(t) & needs)
            for t in between
        ):
            i += 1
            continue
        if last > j:  # after deleting it, the update goes right after the last read of a
            del out[j]
            out.insert(last, update)
        for t in out[i + 1 : last + 1]:
            for n in trees.walk(t):
                if isinstance(n, gast.Name) and n.id == a and isinstance(n.ctx, gast.Load):
                    n.id = b
        del out[i]
    return out


def _is_pass(stmts):
    return all(isinstance(s, gast.Pass) for s in stmts)


def _clean_block(stmts, reads, mutated, assigns, quotes, adjoint=False):
    """``adjoint``: the block is adjoint code (after the "adjoint sweep" marker, or in a pullback)."""
    stmts = _fuse_temporaries(_fuse_accumulations(stmts, quotes), reads, assigns, quotes)
    out = []
    for stmt in stmts:
        if _is_comment(stmt) and stmt.value.args[0].value == "adjoint sweep":
            adjoint = True
        if isinstance(stmt, _BLOCKS):
            inner = adjoint or isinstance(stmt, gast.FunctionDef)
            stmt.body = _clean_block(stmt.body, reads, mutated, assigns, quotes, inner)
            if isinstance(stmt, (gast.For, gast.While)):
                stmt.body = _sink_copies(stmt.body, reads, assigns)
            if not isinstance(stmt, gast.FunctionDef):
                stmt.orelse = _clean_block(stmt.orelse, reads, mutated, assigns, quotes, adjoint)
        if isinstance(stmt, gast.If) and _is_pass(stmt.body) and _is_pass(stmt.orelse) and _pure(stmt.test):
            continue  # both arms folded away
        if (
            isinstance(stmt, gast.For)
            and _is_pass(stmt.body)
            and _pure(stmt.iter)
            and _is_range_call(stmt.iter)
            and not any(reads.get(n.id) for n in gast.walk(stmt.target) if isinstance(n, gast.Name))
        ):
            continue  # a loop over a range that does nothing (and whose index nobody reads)
        if isinstance(stmt, (gast.If, gast.For, gast.While)) and not stmt.body:
            stmt.body = [gast.Pass()]
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            tangent = isinstance(target, gast.Name) and naming.family(target.id)[1].endswith("_dot")
            value = simplify(stmt.value, adjoint or tangent)  # tangents, like cotangents, are floats
            if not (isinstance(value, gast.Name) and isinstance(target, gast.Name) and target.id in mutated):
                stmt.value = value  # (a = x * 1.0 must stay a new array where a[i] = v follows)
            if isinstance(target, gast.Name) and reads.get(target.id, 0) == 0 and _pure(stmt.value):
                continue
            if isinstance(target, gast.Name) and isinstance(stmt.value, gast.Name) and stmt.value.id == target.id:
                continue  # x = x
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            stmt.value = simplify(stmt.value, adjoint)
        out.append(stmt)
    return _without_empty_comments(out)


def _without_empty_comments(stmts):
    """Drop each quoted source line whose adjoint code folded away."""
    return [
        s
        for i, s in enumerate(stmts)
        if not (
            _is_comment(s)
            and not _sweep_marker(s)
            and (i + 1 == len(stmts) or _is_comment(stmts[i + 1]) or isinstance(stmts[i + 1], gast.Return))
        )
    ]


def _without_self_copies(stmts):
    """Drop the ``x = x`` that coalescing leaves, and the else arms and comments left with nothing."""
    out = []
    for s in stmts:
        if isinstance(s, _BLOCKS):
            s.body = _without_self_copies(s.body) or [gast.Pass()]
            if not isinstance(s, gast.FunctionDef):
                s.orelse = _without_self_copies(s.orelse)
            if isinstance(s, gast.If) and _is_pass(s.body) and not s.orelse and _pure(s.test):
                continue
        elif (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Name)
            and s.targets[0].id == s.value.id
        ):
            continue
        out.append(s)
    return _without_empty_comments(out)


def _propagate_copies(fn, keep, counts, assignments):
    """Replace reads of ``a`` by ``b`` after ``a = b``, when both are assigned once.

    Names in ``keep`` (the user's own variables) are left alone so that the
    forward sweep reads like the user's code.
    """
    subst = {}
    for n in assignments:
        if isinstance(n.targets[0], gast.Name):
            a, b = n.targets[0].id, n.value
            if a in keep or counts.get(a) != 1:
                continue
            if isinstance(b, gast.Name) and counts.get(b.id, 0) <= 1 or _neg_value(b) is not None:
                subst[a] = b
    if not subst:
        return False

    def resolve(node):
        seen = set()
        while isinstance(node, gast.Name) and node.id in subst and node.id not in seen:
            seen.add(node.id)
            node = subst[node.id]
        return node

    for parent in trees.walk(fn):
        for field, value in gast.iter_fields(parent):
            if isinstance(value, gast.Name) and isinstance(value.ctx, gast.Load) and value.id in subst:
                setattr(parent, field, trees.clone(resolve(value)))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, gast.Name) and isinstance(item.ctx, gast.Load) and item.id in subst:
                        value[i] = trees.clone(resolve(item))
    return True


def _drop_dead_stores(stmts, live, local, aliased):
    """Remove ``a[i] = v`` where ``a`` (a local array nothing else shares) is never read afterwards;
    return the names live before ``stmts``. Adjoint buffers end with such stores (zeroing a slot no
    one reads again)."""
    out = []
    for stmt in reversed(stmts):
        root = trees.stored_into(stmt)
        if root is not None and root in local and root not in aliased and root not in live:
            continue
        if isinstance(stmt, (gast.For, gast.While)):
            inner = live | trees.loads(stmt)  # later iterations read what the body reads
            stmt.body = _drop_dead_stores(stmt.body, inner, local, aliased)[::-1] or [gast.Pass()]
            live = inner
        elif isinstance(stmt, gast.If):
            body = _drop_dead_stores(stmt.body, set(live), local, aliased)
            orelse = _drop_dead_stores(stmt.orelse, set(live), local, aliased)
            stmt.body, stmt.orelse = body[::-1] or [gast.Pass()], orelse[::-1]
            live = live | trees.loads(stmt)
        elif root is not None and isinstance(stmt, gast.Assign):
            live = live | trees.loads(stmt.value) | trees.loads(stmt.targets[0].slice)  # writes a, reads no a
        else:
            live = live | trees.loads(stmt)
        out.append(stmt)
    return out


def _dead_stores(fn):
    params = {a.id for a in fn.args.args}
    local = {n.id for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)} - params
    # a name bound to a view or alias of an array (t = a[1:], t = a, t = unbroadcast(a, ...)) keeps the
    # array's later stores alive: such arrays are left alone
    aliased = set()
    for s in trees.walk(fn):
        if isinstance(s, gast.Assign) and not effects.makes_new(s.value):
            aliased |= trees.loads(s.value) | _stored(s)  # both sides of a_2 = a share one array
    for f in [n for n in trees.walk(fn) if isinstance(n, gast.FunctionDef)]:
        f.body = _drop_dead_stores(f.body, set(), local, aliased)[::-1]


def _mutated(fn):
    """Names whose array is updated in place, directly or through a copy (a = y * 1.0; a_1 = a; a_1[0] = s)."""
    mutated = {trees.stored_into(s) for s in trees.walk(fn)} - {None}
    changed = bool(mutated)
    while changed:
        changed = False
        for s in trees.walk(fn):
            if trees.assigned_name(s) in mutated and isinstance(s.value, gast.Name) and s.value.id not in mutated:
                mutated.add(s.value.id)
                changed = True
    return mutated


def _clean(fn, keep, quotes):
    """Fold, propagate and drop, in place, to a fixed point."""
    mutated = _mutated(fn)
    size = None
    while True:
        reads, assigns, new_size, assignments = _scan(fn)
        # every rewrite removes nodes or substitutes names, so a round that changes
        # neither the node count nor the substitutions has reached the fixed point
        if new_size == size:
            return
        size = new_size
        if _propagate_copies(fn, keep, assigns, assignments):
            reads = _scan(fn)[0]
        fn.body = _clean_block(fn.body, reads, mutated, assigns, quotes)
        if mutated:
            _dead_stores(fn)


def run(fn, keep=frozenset()):
    """Optimize a copy of ``fn``; names in ``keep`` are never propagated away."""
    fn = trees.clone(fn)
    quotes = _Quotes(fn)
    _clean(fn, keep, quotes)
    if coalesce(fn):  # last: the rewrites above rely on names assigned once
        fn.body = _without_self_copies(fn.body)
    quotes.requote(fn.body)
    return fn


# --- coalescing: leaving SSA ---------------------------------------------------------------------------------

_NESTED = (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)
_MODELLED = (
    gast.Assign,
    gast.AugAssign,
    gast.AnnAssign,
    gast.Expr,
    gast.Return,
    gast.Raise,
    gast.Assert,
    gast.Pass,
    gast.Break,
    gast.Continue,
    gast.If,
    gast.For,
    gast.While,
    gast.FunctionDef,
    gast.Global,
    gast.Nonlocal,
    gast.Delete,
)


def _family(name):
    """``(base, suffix, version)``: ``y_2_bar`` -> ``("y", "_bar", 2)``; only names of one family coalesce."""
    return naming.family(name)


def _params(scope):
    args = getattr(scope, "args", None)  # (a comprehension has none)
    return {n.id for n in gast.walk(args) if isinstance(n, gast.Name)} if isinstance(args, gast.arguments) else set()


def _own_nodes(scope, roots=None):
    """The nodes of ``scope``'s own body (or under ``roots``, nodes in it): nested functions, lambdas and
    comprehensions are listed, not entered."""
    if roots is None:
        roots = (
            scope.body
            if isinstance(scope, gast.FunctionDef)
            else [v for f, v in gast.iter_fields(scope) if f != "args" and v is not None]
        )
    nodes = [n for root in roots for item in (root if isinstance(root, list) else [root]) for n in trees.walk(item)]
    nested = [n for n in nodes if isinstance(n, _NESTED)]
    if not nested:
        return nodes
    inside = {id(m) for n in nested for m in trees.walk(n) if m is not n}
    return [n for n in nodes if id(n) not in inside]


def _free(scope):
    """Names ``scope`` (or a scope inside it) reads from the scopes around it."""
    own = _own_nodes(scope)
    bound = (
        _params(scope)
        | {n.id for n in own if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
        | {n.name for n in own if isinstance(n, gast.FunctionDef)}
    )
    declared = {name for n in own if isinstance(n, (gast.Global, gast.Nonlocal)) for name in n.names}
    reads = {n.id for n in own if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    reads = reads.union(*(_free(n) for n in own if isinstance(n, _NESTED)))
    # defaults and decorators are evaluated where the function is defined: pinned there too
    args = getattr(scope, "args", None)
    outside = getattr(scope, "decorator_list", []) + (args.defaults + args.kw_defaults if args else [])
    return (reads - bound) | declared | trees.loads(*[d for d in outside if d is not None])


class _Interference:
    """Backward liveness over a structured body (if, for, while; break, continue, return), recording which
    of the ``tracked`` names interfere: one is assigned where the other is live. A copy ``a = b`` does not
    make ``a`` and ``b`` interfere (they hold one value; Chaitin's rule). A loop's header is live around the
    back edge: what the body reads before assigning it is live at the end of the body."""

    def __init__(self, tracked):
        self.tracked = tracked
        self.edges = {n: set() for n in tracked}
        self.facts = {}  # id(statement or expression) -> (names assigned, names read), tracked ones only

    def _facts(self, node):
        found = self.facts.get(id(node))
        if found is None:
            defs, uses = set(), set()
            for n in _own_nodes(None, [node]):  # (what a lambda or comprehension reads is pinned)
                if type(n) is gast.Name and n.id in self.tracked:
                    (uses if type(n.ctx) is gast.Load else defs).add(n.id)
            if isinstance(node, gast.AugAssign):
                uses |= defs
            found = self.facts[id(node)] = (defs, uses)
        return found

    def interfere(self, defs, live, copied=None):
        for d in defs:
            others = (live | defs) - {d, copied}
            self.edges[d] |= others
            for n in others:
                self.edges[n].add(d)

    def block(self, stmts, live, loop=None):
        """Names live before ``stmts`` given those live after; ``loop`` is (live at its exit, at its head)."""
        for s in reversed(stmts):
            kind = type(s)
            if kind is gast.If:
                live = self.block(s.body, live, loop) | self.block(s.orelse, live, loop) | self._facts(s.test)[1]
            elif kind is gast.For:
                defs, uses = self._facts(s.target)
                after = self.block(s.orelse, live, loop) | uses
                head = after
                while True:
                    body = self.block(s.body, head, (live, head))
                    self.interfere(defs, body)  # the target is assigned before each iteration
                    new = after | (body - defs)
                    if new == head:
                        break
                    head = new
                live = head | self._facts(s.iter)[1]
            elif kind is gast.While:
                head = self.block(s.orelse, live, loop) | self._facts(s.test)[1]
                while True:
                    new = head | self.block(s.body, head, (live, head))
                    if new == head:
                        break
                    head = new
                live = head
            elif kind is gast.Break:
                live = set(loop[0])
            elif kind is gast.Continue:
                live = set(loop[1])
            elif kind is gast.FunctionDef:  # what it reads from here is pinned, never tracked
                live = live - {s.name}
            else:
                defs, uses = self._facts(s)
                if kind in (gast.Return, gast.Raise):
                    live = set(uses)
                else:
                    copied = s.value.id if kind is gast.Assign and type(s.value) is gast.Name else None
                    self.interfere(defs, live, copied)
                    live = (live - defs) | uses
        return live


def _copies(stmts, depth, out):
    """``(loop depth, statement)`` for every ``a = b`` between names, in program order."""
    for s in stmts:
        if (
            isinstance(s, gast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Name)
        ):
            out.append((depth, s))
        elif isinstance(s, (gast.If, gast.For, gast.While)):
            inner = depth + (not isinstance(s, gast.If))
            _copies(s.body, inner, out)
            _copies(s.orelse, depth, out)
    return out


_DERIVED = ("_bar", "_value", "_final", "_old", "_k")  # names reverse builds from another name


def _rank(name):
    """The order in which a class of coalesced names picks its name: the user's before temporaries, then
    the lowest version (``y`` before ``y_1``; ``_t3`` before ``_t12``)."""
    base, _, version = _family(name)
    temp = naming.is_temp(base)
    return bool(temp), version, int(base[2:]) if temp else 0, name


def _coalesce_scope(fn, taken):
    """Coalesce the copy-related names of one function (not of the functions nested in it); True if any."""
    copies = [(depth, s.targets[0].id, s.value.id) for depth, s in _copies(fn.body, 0, [])]
    copies = [(depth, a, b) for depth, a, b in copies if a != b and _family(a)[1] == _family(b)[1]]
    if not copies:
        return False
    own = _own_nodes(fn)
    if any(isinstance(n, gast.stmt) and not isinstance(n, _MODELLED) or isinstance(n, gast.NamedExpr) for n in own):
        return False
    params = _params(fn)
    pinned = set().union(*(_free(n) for n in own if isinstance(n, _NESTED)))
    pinned |= {name for n in own if isinstance(n, (gast.Global, gast.Nonlocal)) for name in n.names}
    local = (params | {n.id for n in own if type(n) is gast.Name and type(n.ctx) is not gast.Load}) - pinned
    copies = [(depth, a, b) for depth, a, b in copies if a in local and b in local]
    if not copies:
        return False
    tracked = {n for _, a, b in copies for n in (a, b)}
    graph = _Interference(tracked)
    graph.interfere(params & tracked, graph.block(fn.body, set()))  # parameters are assigned on entry
    edges = graph.edges
    parent = {n: n for n in tracked}
    members = {n: {n} for n in tracked}
    # the user's variable a class stands for (temporaries stand for none): one per class
    user = {n: set() if naming.is_temp(_family(n)[0]) else {_family(n)[0]} for n in tracked}

    def find(n):
        while parent[n] != n:
            n = parent[n]
        return n

    # the copies inside the deepest loops run most often: coalesce those first
    for _, a, b in sorted(copies, key=lambda c: -c[0]):
        ra, rb = find(a), find(b)
        if (
            ra == rb
            or members[ra] & edges[rb]
            or len(user[ra] | user[rb]) > 1
            or members[ra] & params
            and members[rb] & params
        ):
            continue
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        edges[ra] |= edges[rb]
        user[ra] |= user[rb]
    rename = {}
    for group in members.values():
        if len(group) < 2:
            continue
        if group & params:
            keep = next(iter(group & params))  # the signature stays
        else:
            keep = min(group, key=_rank)
            base, suffix, version = _family(keep)
            if version and base + suffix not in taken:  # y_1_bar, y_2_bar and no y_bar: y_bar
                keep = base + suffix
                taken.add(keep)
        rename.update((n, keep) for n in group if n != keep)
    # names built from a renamed one follow it where free (y_1_value -> y_value, step_2_bar -> step_bar)
    for name in sorted(local - params - set(rename) - set(rename.values())):
        for tail in _DERIVED:
            primal = name[: -len(tail)]
            if name.endswith(tail) and primal in rename and rename[primal] + tail not in taken:
                rename[name] = rename[primal] + tail
                taken.add(rename[name])
                break
    for n in own:
        if isinstance(n, gast.Name) and n.id in rename:
            n.id = rename[n.id]
    return True


def coalesce(fn):
    """Give copy-related names whose live ranges do not overlap one name, so the copies between them become
    ``x = x`` (which cleaning drops): the flags, merges and loop headers of SSA, and the chains of
    cotangent copies at the end of an adjoint loop. Names of one variable only (``y``, ``y_1``, ``y_2``;
    ``y_bar``, ``y_1_bar``; temporaries join any), renamed to the lowest version, or the parameter among
    them. Modifies ``fn``.

    >>> from adjoint_compiler import emit
    >>> fn = gast.parse("def f(x):\\n    if x > 0:\\n        z = x\\n        z_2 = z\\n"
    ...                 "    else:\\n        z_1 = -x\\n        z_2 = z_1\\n    return z_2").body[0]
    >>> coalesce(fn)
    True
    >>> print(emit.to_source(fn).strip())
    def f(x):
        if x > 0:
            z = x
            z = z
        else:
            z = -x
            z = z
        return z
    """
    taken, scopes = set(), []  # every name the module could confuse with a new one; the functions
    for n in trees.walk(fn):
        if type(n) is gast.Name:
            taken.add(n.id)
        elif type(n) is gast.FunctionDef:
            taken.add(n.name)
            scopes.append(n)
    changed = False
    for scope in scopes:
        changed |= _coalesce_scope(scope, taken)
    return changed
