"""Clean a function to a fixed point: fold, propagate copies, fuse, drop what is dead (``clean``); after
coalescing, drop the self-copies it leaves (``without_self_copies``).

Invariant: no assignment whose value is pure (``facts.pure``) and whose name is never read, but the user's
variables computed by what may raise (``_raising``); no ``x = x``; no
read of ``a`` after ``a = b`` (or ``a = <literal>``) where ``a`` is assigned once, ``b`` at most once, and
``a`` is not one of the user's names in ``keep``: it reads ``b``; no store ``a[i] = v`` into a local array
nothing else shares that is never read afterwards; no ``if`` with nothing in either arm, nor a loop over a
range that does nothing; each expression folded (``fold.simplify``) and each block fused (``fuse``). Modifies
``fn``.

The rounds share what they found of each statement (``_Round``): its folded value, and what the scan counted
in it and found of its value (``_scan``, ``_assignment``), kept while the statement's mark stands; every
rewrite of a statement drops its mark, so a round after the first walks anew only what changed.

>>> import gast
>>> from adjoint_compiler import emit
>>> from adjoint_compiler.optimize.quotes import Quotes
>>> fn = gast.parse("def f(x):\\n    a = x\\n    b = a * (3 - 1)\\n    _t1 = np.sin(x)\\n    _t2 = np.zeros(3)\\n"
...                 "    _t2[0] = b * 3.0\\n    return b").body[0]
>>> _ = clean(fn, {"x"}, Quotes(fn))
>>> print(emit.to_source(fn).strip())
def f(x):
    b = x * 2
    return b
"""

import gast

from adjoint_compiler import effects, naming, trees
from adjoint_compiler.optimize.facts import BLOCKS, pure, pure_call, stored, try_body
from adjoint_compiler.optimize.fold import _negated, fold, neg_value, simplify
from adjoint_compiler.optimize.fuse import fuse_accumulations, fuse_temporaries, sink_copies
from adjoint_compiler.optimize.quotes import is_comment, without_empty_comments


def _is_pass(stmts):
    return all(isinstance(s, gast.Pass) for s in stmts)


def _is_range_call(node):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in ("range", "reversed")


def _scan(fn, state):
    """One pass over ``fn``: (reads per name, assignments per name, node count, assignment nodes). A read
    of a name only by its own update (``n = n + 1``, a counter nothing else reads) is not counted.

    The incremental part: each assignment's counts are its record in ``state.counted`` (``_assignment``),
    kept while its mark in ``state.folded`` stands (nothing rewrote it since: every rewrite of a statement
    drops its mark), so a round walks only what changed since the last; an assignment without a mark gets
    one for the scan (its value as it is, folded as None: ``_Round.fold`` folds it all the same). What the
    walk finds of each value (the names it mentions, whether it is pure, its size) is what ``fuse`` asks of
    the statements it passes: their entries in ``state.facts`` and ``state.passed`` are filled with it."""
    reads, assigns, copies = {}, {}, []
    size = 0
    Name, Load, Assign, AST = gast.Name, gast.Load, gast.Assign, gast.AST
    folded, counted, facts = state.folded, state.counted, state.facts
    stack = [fn]
    pop, push = stack.pop, stack.append
    while stack:
        n = pop()
        kind = n.__class__
        if kind is Assign:
            copies.append(n)
            key = id(n)
            mark = folded.get(key)
            if mark is None or mark[0] is not n or mark[1] is not n.value:
                mark = folded[key] = (n, n.value, None)
            record = counted.get(key)
            if record is None or record[0] is not mark:
                record = counted[key] = (mark,) + _assignment(n)
                facts[key] = (mark, record[4], record[5], record[6])
            for name, k in record[1].items():
                reads[name] = reads.get(name, 0) + k
            for name, k in record[2].items():
                assigns[name] = assigns.get(name, 0) + k
            size += record[3]
            continue
        size += 1
        if kind is Name:
            table = reads if n.ctx.__class__ is Load else assigns
            table[n.id] = table.get(n.id, 0) + 1
            size += 1  # its ctx (the count is that of trees.walk)
            if n.annotation is not None:
                push(n.annotation)
            continue
        for field in n._fields:
            value = getattr(n, field, None)
            if value.__class__ is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    return reads, assigns, size, copies


def _count_names(nodes, reads, assigns):
    """Add the reads and assignments of each name under ``nodes`` to ``reads`` and ``assigns``; their node count
    (as ``trees.walk`` counts: a name's context too)."""
    Name, Load, AST = gast.Name, gast.Load, gast.AST
    size, stack = 0, list(nodes)
    pop, push = stack.pop, stack.append
    while stack:
        m = pop()
        size += 1
        if m.__class__ is Name:
            table = reads if m.ctx.__class__ is Load else assigns
            table[m.id] = table.get(m.id, 0) + 1
            size += 1
            if m.annotation is not None:
                push(m.annotation)
            continue
        for field in m._fields:
            value = getattr(m, field, None)
            if value.__class__ is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    return size


def _assignment(n):
    """One walk of the assignment ``n``: (its reads, its assignments (both as (name, count) pairs), its node
    count, the names its value mentions, whether its value is pure (``facts.pure``), the value's node count
    (``trees.size``), every name ``n`` mentions). Reads as ``_scan`` counts them: where the target is a name
    and the value pure, the value's reads of the target are not counted."""
    reads, assigns = {}, {}
    Name, Load, Call, AST = gast.Name, gast.Load, gast.Call, gast.AST
    target = n.targets[0].id if n.targets[0].__class__ is Name else None
    names, own, is_pure, size, exact = set(), 0, True, 0, True
    stack = [n.value]
    pop, push = stack.pop, stack.append
    while stack:
        m = pop()
        size += 1
        kind = m.__class__
        if kind is Name:
            table = reads if m.ctx.__class__ is Load else assigns
            table[m.id] = table.get(m.id, 0) + 1
            names.add(m.id)
            if m.id == target:
                own += 1
            size += 1
            if m.annotation is not None:
                push(m.annotation)
                exact = False  # (trees.size walks such a name's fields its own way)
            continue
        if kind is Call and is_pure and not pure_call(m):
            is_pure = False
        for field in m._fields:
            value = getattr(m, field, None)
            if value.__class__ is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    value_size = size if exact else trees.size(n.value)
    size += _count_names(n.targets, reads, assigns)
    if own and is_pure:
        reads[target] = reads.get(target, 0) - own
    return reads, assigns, size + 1, names, is_pure, value_size


_DISPLAYS = (gast.List, gast.Tuple, gast.Dict)


def _raising(assignments, reads):
    """The user's variables (name families: ``k``, ``k_1``, ...) the function computes and never reads,
    by an expression that may raise (``t = math.sqrt(x - 1)``, ``np.linalg.cholesky(a)`` as a check, a
    counter ``k = k + 1``): they stay, every assignment of them, so the gradient raises where the
    function does."""
    out = set()
    for n in assignments:
        target = n.targets[0]
        if isinstance(target, gast.Name) and not target.id.startswith("_") and not reads.get(target.id, 0):
            if any(not isinstance(m, (gast.Name, gast.Constant, gast.Load)) for m in trees.walk(n.value)):
                out.add(naming.family(target.id)[:2])
    return out


class _Round:
    """What the rounds of ``clean`` share: ``folded`` maps id(statement) -> (statement, its value as
    ``fold`` left it, whether folded as floats), for the statements nothing has rewritten since (folding
    them again would change nothing: ``fold`` reaches its fixed point in one call); ``changed``: whether
    this round rewrote anything (where not, the function is at the fixed point and needs no scan to say
    so)."""

    def __init__(self):
        self.folded = {}
        self.facts = {}  # what ``fuse_temporaries`` found of a statement, while its entry in ``folded`` stands
        self.passed = {}  # ... and ``fuse_accumulations``
        self.counted = {}  # what ``_scan`` counted in an assignment (``_assignment``), while its mark stands
        self.changed = False
        # (reads, assignments) per name of the last scan: once ``clean`` returns, of the function as it is, whose
        # every name is a key of one of them (``names``)
        self.tables = ({}, {})

    def names(self):
        """Whether each name is mentioned in the function ``clean`` left (``trees.all_names``, without a walk)."""
        reads, assigns = self.tables
        return lambda name: name in reads or name in assigns

    def forget(self, stmts):
        """Statements (and those inside them) rewritten in place: fold them anew."""
        self.changed = True
        folded = self.folded
        if folded:
            for stmt in stmts:
                folded.pop(id(stmt), None)
                if isinstance(stmt, BLOCKS):
                    for inner in trees.statements(stmt):
                        folded.pop(id(inner), None)

    def fold(self, stmt, floats, how=fold):
        """``how(stmt.value, floats)``, or the value as it is where it was folded so and not rewritten since."""
        entry = self.folded.get(id(stmt))
        if entry is not None and entry[0] is stmt and entry[1] is stmt.value and entry[2] == floats:
            return stmt.value
        self.changed = True  # (folding may change nothing: the next round's scan says)
        before, changed = stmt.value, []
        value = how(before, floats, changed)
        mark = self.folded[id(stmt)] = (stmt, value, floats)
        if not changed and value is before and entry is not None and entry[0] is stmt and entry[1] is before:
            # folded to itself: what the scan found of it under its old mark stands under the new one
            key = id(stmt)
            for table in (self.counted, self.facts, self.passed):
                found = table.get(key)
                if found is not None and found[0] is entry:
                    table[key] = (mark,) + found[1:]
        return value


def _clean_block(stmts, reads, mutated, assigns, quotes, raising, state, adjoint=False, loop=False, guarded=False):
    """``adjoint``: the block is adjoint code (after the "adjoint sweep" marker, or in a pullback). ``loop``:
    it is a loop's body (``fuse._fits``).
    ``raising``: the user's variables (their families) kept unread, see ``_raising``. ``state``: the
    ``_Round``. ``guarded``: the block is in a try statement's body (``facts.try_body``), where a value that may
    raise is kept though nothing reads it: whether it raises decides whether the handler runs."""
    given = len(stmts)
    # each fusion removes a statement and rewrites one that stays, which leaves ``state.folded``
    stmts = fuse_temporaries(
        fuse_accumulations(stmts, quotes, state.folded, state.passed, state.facts),
        reads,
        assigns,
        quotes,
        state.folded,
        state.facts,
        loop,
    )
    if len(stmts) != given:
        state.changed = True
    out = []
    for k, stmt in enumerate(stmts):
        if is_comment(stmt) and stmt.value.args[0].value == "adjoint sweep":
            adjoint = True
        if isinstance(stmt, BLOCKS):
            inner = adjoint or isinstance(stmt, gast.FunctionDef)
            looped = isinstance(stmt, (gast.For, gast.While))
            tried = guarded or k > 0 and isinstance(stmt, gast.If) and try_body(stmts[k - 1], stmt)
            stmt.body = _clean_block(stmt.body, reads, mutated, assigns, quotes, raising, state, inner, looped, tried)
            if isinstance(stmt, (gast.For, gast.While)):
                given = len(stmt.body)
                stmt.body = sink_copies(stmt.body, reads, assigns)
                if len(stmt.body) != given:  # each sunk copy removes a statement and renames reads after it
                    state.forget(stmt.body)
            if not isinstance(stmt, gast.FunctionDef):
                stmt.orelse = _clean_block(
                    stmt.orelse, reads, mutated, assigns, quotes, raising, state, adjoint, False, guarded
                )
        if isinstance(stmt, gast.If) and _is_pass(stmt.body) and _is_pass(stmt.orelse) and pure(stmt.test):
            continue  # both arms folded away
        if (
            isinstance(stmt, gast.For)
            and _is_pass(stmt.body)
            and pure(stmt.iter)
            and _is_range_call(stmt.iter)
            and not any(reads.get(n.id) for n in trees.breadth_first(stmt.target) if isinstance(n, gast.Name))
        ):
            continue  # a loop over a range that does nothing (and whose index nobody reads)
        if isinstance(stmt, (gast.If, gast.For, gast.While)) and not stmt.body:
            stmt.body = [gast.Pass()]
            state.changed = True
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            tangent = isinstance(target, gast.Name) and naming.family(target.id)[1].endswith("_dot")
            floats = adjoint or tangent  # tangents, like cotangents, are floats
            if isinstance(target, gast.Name) and target.id in mutated and isinstance(stmt.value, _DISPLAYS):
                # a = [u, x * 1.0] where a[k][i] = v follows: each element that is a new array stays one
                value = stmt.value
                parts = value.values if isinstance(value, gast.Dict) else value.elts
                state.changed = True  # (the next round's scan says whether folding changed anything)
                state.folded.pop(id(stmt), None)  # (its parts rewritten in place: counted anew)
                for k, part in enumerate(parts):
                    new = simplify(part, floats)
                    if not (isinstance(new, gast.Name) and not isinstance(part, gast.Name)):
                        parts[k] = new
            else:
                value = state.fold(stmt, floats)

            # a = x * 1.0 (or x[:2] * 1.0, a view once folded) must stay a new array where a[i] = v follows
            fresh = not (isinstance(target, gast.Name) and target.id in mutated)
            if fresh or not (
                isinstance(value, gast.Name) or effects.makes_new(stmt.value) and not effects.makes_new(value)
            ):
                stmt.value = value
            if (
                isinstance(target, gast.Name)
                and reads.get(target.id, 0) == 0
                and pure(stmt.value)
                and (floats or naming.family(target.id)[:2] not in raising)
                and (floats or not guarded or not _may_raise(stmt.value))
            ):
                continue
            if isinstance(target, gast.Name) and isinstance(stmt.value, gast.Name) and stmt.value.id == target.id:
                continue  # x = x
        elif isinstance(stmt, gast.Return) and stmt.value is not None:
            stmt.value = state.fold(stmt, adjoint, _simplify)

        out.append(stmt)
    out = without_empty_comments(out)
    if len(out) != len(stmts):  # a statement dropped
        state.changed = True
    return out


_RAISING_OPERATORS = (gast.Div, gast.FloorDiv, gast.Mod, gast.Pow)


def _may_raise(value):
    """Whether evaluating ``value`` may raise what an except clause the compiler accepts catches: a call (a math
    domain error), a division, modulo or power (ZeroDivisionError, OverflowError), an index (IndexError,
    KeyError). A sum of names, a loop's counter update, raises nothing such a clause catches."""
    for node in trees.walk(value):
        kind = node.__class__
        if kind is gast.Call or kind is gast.Subscript:
            return True
        if kind is gast.BinOp and isinstance(node.op, _RAISING_OPERATORS):
            return True
    return False


def _simplify(value, floats, changed=None):  # (a return's value: not grouped)
    return simplify(value, floats, changed)


def without_self_copies(stmts):
    """Drop the ``x = x`` that coalescing leaves, and the else arms and comments left with nothing."""
    out = []
    for s in stmts:
        if isinstance(s, BLOCKS):
            s.body = without_self_copies(s.body) or [gast.Pass()]
            if not isinstance(s, gast.FunctionDef):
                s.orelse = without_self_copies(s.orelse)
            if isinstance(s, gast.If) and _is_pass(s.body) and not s.orelse and pure(s.test):
                continue
        elif (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Name)
            and s.targets[0].id == s.value.id
        ):
            continue
        out.append(s)
    return without_empty_comments(out)


def _propagate_copies(fn, keep, counts, assignments, reads, folded, counted=None, flipping=True):
    """Replace reads of ``a`` by ``b`` after ``a = b``, when both are assigned once; a cotangent assigned once the
    minus of a value (``q_bar = -x_bar / d``) where every read would take a minus in (``_absorbed_negations``)
    loses it, and each read reads ``-q_bar`` (folded in: ``b_bar - q_bar`` is ``b_bar + q_bar``), in a round
    with no other replacement: one negation fewer, exactly.

    Names in ``keep`` (the user's own variables) are left alone so that the
    forward sweep reads like the user's code.

    Returns None where nothing was replaced (no copy, or none read); else whether ``reads`` (``_scan``'s,
    updated in place for each replacement) is as a new ``_scan`` would count it: False where a replacement
    puts a read of an assignment's own target in its value or replaces a called name (what ``_scan``
    counts depends on the value's purity there), for the caller to scan again. A statement it rewrites leaves ``folded``
    (``_Round.folded``). ``counted`` (``_Round.counted``): an assignment whose record stands and reads no
    name replaced is not walked.
    """
    subst, negations, flips = {}, {}, {}
    for n in assignments:
        if isinstance(n.targets[0], gast.Name):
            a, b = n.targets[0].id, n.value
            if a in keep or counts.get(a) != 1:
                continue
            if isinstance(b, gast.Name) and counts.get(b.id, 0) <= 1 or neg_value(b) is not None:
                subst[a] = b
            elif _negated_cotangent(a, b) and counts.get(b.operand.id, 0) <= 1:
                negations[a] = n
            elif (
                flipping
                and naming.family(a)[1] == _BAR
                and naming.is_temp(naming.family(a)[0])
                and _negated(b) is not None
            ):
                flips[a] = n  # (a temporary's cotangent only: a user's variable's x_bar holds what its name says)
    if negations:
        subst.update({a: n.value for a, n in _absorbed_negations(negations, assignments, reads, counted).items()})
    if flips and not subst:  # (alone in a round: a copy's value put in a read may read one, not taking its minus)
        for a, n in _absorbed_negations(flips, assignments, reads, counted, kept=0).items():
            if not reads.get(a):
                continue
            n.value = _negated(n.value)  # (-b) / c is -(b / c), exactly: each read takes the minus in
            folded.pop(id(n), None)
            subst[a] = gast.UnaryOp(op=gast.USub(), operand=gast.Name(id=a, ctx=gast.Load(), annotation=None))
    if not subst:
        return None

    def resolve(node):
        seen = set()
        while isinstance(node, gast.Name) and node.id in subst and node.id not in seen:
            seen.add(node.id)
            node = subst[node.id]
        return node

    exact, count = True, 0
    Name, Load, AST, Assign = gast.Name, gast.Load, gast.AST, gast.Assign

    def replaced(old, parent, field, owner):
        nonlocal exact, count
        count += 1
        new = trees.clone(resolve(old))
        reads[old.id] -= 1
        for m in trees.walk(new):
            if m.__class__ is Name and m.ctx.__class__ is Load:
                reads[m.id] = reads.get(m.id, 0) + 1
                exact = exact and m.id != owner
        exact = exact and old.id != owner and not (field == "func" and parent.__class__ is gast.Call)
        return new

    Statement = gast.stmt
    # (node, the target of the assignment whose value holds it, as _scan counts; the statement holding it)
    stack = [(fn, None, fn)]
    while stack:  # trees.walk, replacing names as it finds them in their parents (a name has none to look in)
        parent, owner, stmt = stack.pop()
        if isinstance(parent, Statement):
            stmt = parent
            if parent.__class__ is Assign and counted:
                record = counted.get(id(parent))
                mark = folded.get(id(parent))
                if (
                    record is not None
                    and record[0] is mark
                    and mark[0] is parent
                    and mark[1] is parent.value
                    and subst.keys().isdisjoint(record[1])
                ):
                    continue  # (reads none of them)
        for field in parent._fields:
            value = getattr(parent, field, None)
            inner = owner
            if field == "value" and parent.__class__ is Assign and parent.targets[0].__class__ is Name:
                inner = parent.targets[0].id
            if value.__class__ is Name:
                if value.id in subst and value.ctx.__class__ is Load:
                    setattr(parent, field, replaced(value, parent, field, inner))
                    folded.pop(id(stmt), None)
                elif value.annotation is not None:
                    stack.append((value, inner, stmt))
            elif value.__class__ is list:
                for i, item in enumerate(value):
                    if item.__class__ is Name:
                        if item.id in subst and item.ctx.__class__ is Load:
                            value[i] = replaced(item, parent, field, inner)
                            folded.pop(id(stmt), None)
                        elif item.annotation is not None:
                            stack.append((item, inner, stmt))
                    elif isinstance(item, AST):
                        stack.append((item, inner, stmt))
            elif isinstance(value, AST):
                stack.append((value, inner, stmt))
    return exact if count else None


def _negated_cotangent(a, value):
    """Whether ``a = value`` is ``a_bar = -b_bar``: the minus of a cotangent, itself one (a float or float array,
    whose minus is exact: ``c - -b_bar`` is ``c + b_bar``, ``-(-b_bar * y)`` is ``b_bar * y``)."""
    return (
        value.__class__ is gast.UnaryOp
        and value.op.__class__ is gast.USub
        and value.operand.__class__ is gast.Name
        and naming.family(a)[1] == _BAR
        and naming.family(value.operand.id)[1] == _BAR
    )


_BAR = naming.bar("")


def _absorbed_negations(negations, assignments, reads, counted, kept=1):
    """Of ``negations`` (name -> its assignment ``a_bar = -b_bar``), those whose reads may read ``-b_bar``, with
    their assignments: where at most ``kept`` reads keep a minus of its own once folded (the
    others the operand of a minus, the right of ``+`` or ``-``, or the left of ``*`` or ``/`` in such a place:
    ``fold`` takes the minus into them), so an array is negated no more often than before (a loop's adjoint
    of ``x = x - step`` then reads ``x_bar`` where it read ``step_bar = -x_bar``). Only the values of the
    assignments that read one are walked (``counted``'s records say which); a read elsewhere counts as one
    keeping its minus."""
    absorbed = dict.fromkeys(negations, 0)
    for n in assignments:
        record = counted.get(id(n)) if counted else None
        if record is not None and absorbed.keys().isdisjoint(record[1]):
            continue  # (reads none of them)
        stack = [(n.value, False)]
        while stack:
            node, absorbs = stack.pop()
            kind = node.__class__
            if kind is gast.Name:
                if absorbs and node.id in absorbed and node.ctx.__class__ is gast.Load:
                    absorbed[node.id] += 1
                continue
            if kind is gast.UnaryOp:
                stack.append((node.operand, node.op.__class__ is gast.USub))
            elif kind is gast.BinOp:
                op = node.op.__class__
                stack.append((node.left, absorbs and op in (gast.Mult, gast.Div)))
                stack.append((node.right, op in (gast.Add, gast.Sub)))
            else:
                for child in gast.iter_child_nodes(node):
                    stack.append((child, False))
    return {a: n for a, n in negations.items() if reads.get(a, 0) - absorbed[a] <= kept}


def _drop_dead_stores(stmts, live, local, aliased, state):
    """Remove ``a[i] = v`` where ``a`` (a local array nothing else shares) is never read afterwards;
    return the names live before ``stmts``. Adjoint buffers end with such stores (zeroing a slot no
    one reads again)."""
    out = []
    for stmt in reversed(stmts):
        root = trees.stored_into(stmt)
        if root is not None and root in local and root not in aliased and root not in live:
            state.changed = True
            continue
        if isinstance(stmt, (gast.For, gast.While)):
            inner = live | trees.loads(stmt)  # later iterations read what the body reads
            stmt.body = _drop_dead_stores(stmt.body, inner, local, aliased, state)[::-1] or [gast.Pass()]
            live = inner
        elif isinstance(stmt, gast.If):
            body = _drop_dead_stores(stmt.body, set(live), local, aliased, state)
            orelse = _drop_dead_stores(stmt.orelse, set(live), local, aliased, state)
            stmt.body, stmt.orelse = body[::-1] or [gast.Pass()], orelse[::-1]
            live = live | trees.loads(stmt)
        elif root is not None and isinstance(stmt, gast.Assign):
            live = live | trees.loads(stmt.value) | trees.loads(stmt.targets[0].slice)  # writes a, reads no a
        else:
            live = live | trees.loads(stmt)
        out.append(stmt)
    return out


def _dead_stores(fn, state):
    params = {a.id for a in fn.args.args}
    local = {n.id for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)} - params
    # a name bound to a view or alias of an array (t = a[1:], t = a, t = unbroadcast(a, ...)) keeps the
    # array's later stores alive: such arrays are left alone
    aliased = set()
    statements = list(trees.statements(fn))
    for s in statements:
        if isinstance(s, gast.Assign) and not effects.makes_new(s.value):
            aliased |= trees.loads(s.value) | stored(s)  # both sides of a_2 = a share one array
    for f in [n for n in statements if isinstance(n, gast.FunctionDef)]:
        f.body = _drop_dead_stores(f.body, set(), local, aliased, state)[::-1]


def _mutated(fn):
    """Names whose array is updated in place, directly or through a copy (a = y * 1.0; a_1 = a; a_1[0] = s)."""
    statements = list(trees.statements(fn))  # (stores and assignments are statements)
    mutated = {trees.stored_into(s) for s in statements} - {None}
    # a[i][j] = v changes what a holds: what went into a (a = [u, w], a.append(u)) is updated in place too
    deep = {
        trees.stored_into(s)
        for s in statements
        if trees.element_store(s) is not None and not isinstance(trees.element_store(s).value, gast.Name)
    }
    grew = bool(deep)
    while grew:
        grew = False
        for s in statements:
            parts = set()
            if trees.assigned_name(s) in deep:
                parts = trees.loads(s.value)
            elif trees.appended(s) is not None and trees.appended(s)[0].id in deep:
                parts = trees.loads(trees.appended(s)[1])
            elif trees.stored_into(s) in deep:
                parts = trees.loads(s.value)
            if parts - deep:
                deep |= parts
                grew = True
    mutated |= deep
    changed = bool(mutated)
    while changed:
        changed = False
        for s in statements:
            if trees.assigned_name(s) in mutated and isinstance(s.value, gast.Name) and s.value.id not in mutated:
                mutated.add(s.value.id)
                changed = True
    return mutated


def clean(fn, keep, quotes, state=None):
    """Fold, propagate and drop, in place, to a fixed point. Returns what the rounds found (``_Round``), which a
    later call may be given as ``state``: after a pass that replaced some statements' values (never changed one
    in place), only those are folded and counted anew."""
    mutated = _mutated(fn)
    state = _Round() if state is None else state
    size = None
    # a minus taken into a cotangent's reads saves one negation per run of its statement, and takes rounds of its
    # own: worth them in a loop's adjoint only (straight-line code: 2 rounds, +12% of chain100's compile)
    looped = any(isinstance(s, (gast.For, gast.While)) for s in trees.statements(fn))
    while True:
        reads, assigns, new_size, assignments = _scan(fn, state)
        state.tables = reads, assigns  # (a round that returns below leaves the function as scanned here)
        # every rewrite removes nodes or substitutes names, so a round that changes
        # neither the node count nor the substitutions has reached the fixed point
        if new_size == size:
            return state
        size = new_size
        state.changed = False
        exact = _propagate_copies(fn, keep, assigns, assignments, reads, state.folded, state.counted, looped)
        if exact is not None:
            state.changed = True
        if exact is False:
            reads = _scan(fn, state)[0]  # (counted anew only where the replacements could change what it counts)
        fn.body = _clean_block(fn.body, reads, mutated, assigns, quotes, _raising(assignments, reads), state)
        if mutated:
            _dead_stores(fn, state)
        if not state.changed:  # a round that rewrote nothing (every statement as folded before): done
            return state
