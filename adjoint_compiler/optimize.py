"""Clean the reversed function: fold constants and identities, drop dead statements.

Output invariant: no ``e * 1.0``, ``1.0 * e``, ``e + 0``, ``e ** 1``, no
arithmetic between two literals, no assignment whose value is pure and whose
name is never read, and no comment left with nothing under it. Applied to a
fixed point; the function is copied, not modified.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x):\\n    a = 1.0 * x\\n    b = x * 2\\n    c = a ** (2 - 1)\\n    return c + 0").body[0]
>>> print(emit.to_source(run(fn, keep={"x", "c"})).strip())
def f(x):
    c = x
    return c
"""
import math
import operator
import re

import gast

from adjoint_compiler import effects, naming, runtime, trees

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul, gast.Div: operator.truediv,
         gast.Pow: operator.pow}
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
    if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and node.value.id == "math" \
            and node.attr in ("pi", "e", "tau"):
        return getattr(math, node.attr)
    return _neg_value(node)


def _fold_math_call(node):
    """``math.sqrt(math.pi)`` and the like: computed once, here, rather than on every call."""
    f = node.func
    if not (isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and f.value.id == "math"
            and f.attr in ("sqrt", "log", "exp", "log2", "log10", "sin", "cos") and not node.keywords):
        return node
    values = [_math_constant(a) for a in node.args]
    if not values or any(v is None for v in values):
        return node
    try:
        value = getattr(math, f.attr)(*values)
    except (ValueError, OverflowError):
        return node
    return _const(float(value))


def simplify(node):
    """Fold literal arithmetic and algebraic identities, bottom-up."""
    for field, value in gast.iter_fields(node):
        if isinstance(value, list):
            value[:] = [simplify(v) if isinstance(v, gast.expr) else v for v in value]
        elif isinstance(value, gast.expr):
            setattr(node, field, simplify(value))
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
    if lv is not None and rv is not None and op in _FOLD:
        try:
            value = _FOLD[op](lv, rv)
        except (ArithmeticError, ValueError):
            return node
        if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e15:
            return _const(value)
        return node
    if op is gast.Mult:
        if lv == 1:
            return right
        if rv == 1:
            return left
        if lv == -1:
            return simplify(gast.UnaryOp(op=gast.USub(), operand=right))
        if rv == -1:
            return simplify(gast.UnaryOp(op=gast.USub(), operand=left))
    if op is gast.Div and rv == 1:
        return left
    if op is gast.Add:
        if isinstance(left, (gast.BinOp, gast.Name, gast.Call)) and _pure(left) and gast.dump(left) == gast.dump(right):
            return gast.BinOp(left=gast.Constant(value=2, kind=None), op=gast.Mult(), right=left)  # x * x
        if lv == 0:
            return right
        if rv == 0:
            return left
        if _negated(right) is not None:
            return gast.BinOp(left=left, op=gast.Sub(), right=_negated(right))
    if op is gast.Sub:
        if rv == 0:
            return left
        if _negated(right) is not None:
            return gast.BinOp(left=left, op=gast.Add(), right=_negated(right))
    if op is gast.Pow and rv == 1:
        return left
    if op is gast.Mult and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
        # (-a) * b -> -(a * b) reads better and folds with an outer minus
        return gast.UnaryOp(op=gast.USub(), operand=simplify(gast.BinOp(left=left.operand, op=node.op, right=right)))
    return node


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
            if isinstance(f, gast.Name) and (f.id in runtime.HELPERS and f.id != "check_scalar"
                                             or f.id in ("range", "reversed", "len", "zip")):
                continue
            if isinstance(f, gast.Attribute) and isinstance(root, gast.Name) and root.id in _PURE_MODULES \
                    and not (isinstance(f.value, gast.Attribute) and f.value.attr == "random"):
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
    return (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Name) and stmt.value.func.id == naming.COMMENT_FN)


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


def _fuse_accumulations(stmts):
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
        if (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.BinOp) and isinstance(s.value.op, (gast.Add, gast.Sub))
                and isinstance(s.value.left, gast.Name) and s.value.left.id == s.targets[0].id):
            v = s.targets[0].id
            if v not in trees.all_names(s.value.right):
                j = i - 1
                while j >= 0 and not (isinstance(out[j], gast.Assign) and isinstance(out[j].targets[0], gast.Name)
                                      and out[j].targets[0].id == v):
                    j -= 1
                if j >= 0:
                    first = out[j]
                    reads = trees.all_names(first.value)
                    between = out[j + 1:i]
                    if all(isinstance(b, (gast.Assign, gast.Expr)) and v not in names(b)
                           and not (_stored(b) & reads) for b in between):
                        s.value.left = first.value
                        known.pop(id(s), None)
                        del out[j]
                        i -= 1
                        continue
        i += 1
    return out


_TEMP = re.compile(r"_t\d+$")
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


def _fuse_temporaries(stmts, reads, assigns):
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
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and _TEMP.match(s.targets[0].id)
                and reads.get(s.targets[0].id) == 1 and assigns.get(s.targets[0].id) == 1 and _pure(s.value)
                and not isinstance(s.value, gast.IfExp) and _size(s.value) <= _FUSED_SIZE):
            i += 1
            continue
        t, needs = s.targets[0].id, trees.all_names(s.value)
        j = i + 1
        while j < len(out) and (_is_comment(out[j]) or (
                isinstance(out[j], gast.Assign) and isinstance(out[j].targets[0], gast.Name)
                and _pure(out[j].value) and out[j].targets[0].id not in needs
                and t not in trees.all_names(out[j].value))):
            j += 1
        use = out[j] if j < len(out) else None
        if isinstance(use, (gast.Assign, gast.Expr, gast.Return)) and \
                _size(use.value) + _size(s.value) <= 2 * _FUSED_SIZE and not (
                isinstance(use, gast.Assign) and not isinstance(use.targets[0], gast.Name) and
                t in trees.all_names(use.targets[0])) and _substitute(use.value, t, s.value):
            del out[i]
            continue
        i += 1
    return out


def _coalesce_headers(body, reads, assigns):
    """``v = e; ...; h = v`` at the end of a loop body -> ``h = e; ...`` when nothing in between reads
    ``h`` and ``v`` is read nowhere else (SSA's loop-header copies, removed)."""
    for p in range(len(body) - 1, -1, -1):
        phi = body[p]
        if not (isinstance(phi, gast.Assign) and isinstance(phi.targets[0], gast.Name)
                and isinstance(phi.value, gast.Name)):
            continue
        h, v = phi.targets[0].id, phi.value.id
        if reads.get(v) != 1 or assigns.get(v) != 1 or any(h in trees.all_names(s) for s in body[p + 1:]):
            continue
        for k in range(p - 1, -1, -1):
            s = body[k]
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == v:
                s.targets[0].id = h
                del body[p]
                break
            if h in trees.all_names(s) or v in trees.all_names(s) or not isinstance(s, (gast.Assign, gast.Expr)):
                break
    return body


def _reads_of(node, name):
    return sum(1 for n in trees.walk(node) if isinstance(n, gast.Name) and n.id == name
               and isinstance(n.ctx, gast.Load))


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
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and isinstance(s.value, gast.Name)
                and assigns.get(s.targets[0].id) == 1):
            i += 1
            continue
        a, b = s.targets[0].id, s.value.id

        def writes(stmt):  # anywhere inside it: an if that reassigns b is a write of b too
            return {n.id for n in trees.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)} \
                | _stored(stmt)

        j = next((k for k in range(i + 1, len(out)) if {a, b} & writes(out[k])), None)
        if j is None or not (isinstance(out[j], gast.Assign) and isinstance(out[j].targets[0], gast.Name)
                             and out[j].targets[0].id == b and _pure(out[j].value)):
            i += 1
            continue
        update = out[j]
        last = max([j] + [k for k in range(i + 1, len(out)) if _reads_of(out[k], a)])
        within = sum(_reads_of(out[k], a) for k in range(i + 1, last + 1))
        between = out[j + 1:last + 1]
        needs = trees.all_names(update.value) | {b}
        if within != reads.get(a, 0) or not all(
                isinstance(t, (gast.Assign, gast.AugAssign, gast.Expr)) and not _reads_of(t, b)
                and not (_stored(t) & needs) for t in between):
            i += 1
            continue
        if last > j:  # after deleting it, the update goes right after the last read of a
            del out[j]
            out.insert(last, update)
        for t in out[i + 1:last + 1]:
            for n in trees.walk(t):
                if isinstance(n, gast.Name) and n.id == a and isinstance(n.ctx, gast.Load):
                    n.id = b
        del out[i]
    return out


def _is_pass(stmts):
    return all(isinstance(s, gast.Pass) for s in stmts)


def _clean_block(stmts, reads, mutated, assigns):
    stmts = _fuse_temporaries(_fuse_accumulations(stmts), reads, assigns)
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.For, gast.While, gast.FunctionDef)):
            stmt.body = _clean_block(stmt.body, reads, mutated, assigns)
            if isinstance(stmt, (gast.For, gast.While)):
                stmt.body = _sink_copies(_coalesce_headers(stmt.body, reads, assigns), reads, assigns)
            if not isinstance(stmt, gast.FunctionDef):
                stmt.orelse = _clean_block(stmt.orelse, reads, mutated, assigns)
        if isinstance(stmt, gast.If) and _is_pass(stmt.body) and _is_pass(stmt.orelse) and _pure(stmt.test):
            continue  # both arms folded away
        if isinstance(stmt, gast.For) and _is_pass(stmt.body) and _pure(stmt.iter) and _is_range_call(stmt.iter) \
                and not any(reads.get(n.id) for n in gast.walk(stmt.target) if isinstance(n, gast.Name)):
            continue  # a loop over a range that does nothing (and whose index nobody reads)
        if isinstance(stmt, (gast.If, gast.For, gast.While)) and not stmt.body:
            stmt.body = [gast.Pass()]
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            value = simplify(stmt.value)
            if not (isinstance(value, gast.Name) and isinstance(target, gast.Name) and target.id in mutated):
                stmt.value = value  # (a = x * 1.0 must stay a new array where a[i] = v follows)
            if isinstance(target, gast.Name) and reads.get(target.id, 0) == 0 and _pure(stmt.value):
                continue
            if isinstance(target, gast.Name) and isinstance(stmt.value, gast.Name) and stmt.value.id == target.id:
                continue  # x = x
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            stmt.value = simplify(stmt.value)
        out.append(stmt)
    # a quoted source line whose adjoint code folded away
    return [s for i, s in enumerate(out)
            if not (_is_comment(s) and not _sweep_marker(s)
                    and (i + 1 == len(out) or _is_comment(out[i + 1]) or isinstance(out[i + 1], gast.Return)))]


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


def run(fn, keep=frozenset()):
    """Optimize a copy of ``fn``; names in ``keep`` are never propagated away."""
    fn = trees.clone(fn)
    mutated = {trees.stored_into(s) for s in trees.walk(fn)} - {None}
    changed = bool(mutated)
    while changed:  # a = y * 1.0; a_1 = a; a_1[0] = s: a is updated in place too (through a_1)
        changed = False
        for s in trees.walk(fn):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and \
                    isinstance(s.value, gast.Name) and s.targets[0].id in mutated and s.value.id not in mutated:
                mutated.add(s.value.id)
                changed = True
    size = None
    while True:
        reads, assigns, new_size, assignments = _scan(fn)
        # every rewrite removes nodes or substitutes names, so a round that changes
        # neither the node count nor the substitutions has reached the fixed point
        if new_size == size:
            return fn
        size = new_size
        if _propagate_copies(fn, keep, assigns, assignments):
            reads = _scan(fn)[0]
        fn.body = _clean_block(fn.body, reads, mutated, assigns)
        if mutated:
            _dead_stores(fn)
