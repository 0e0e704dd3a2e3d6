"""Fuse statements of one block: temporaries into their one use, accumulations into one expression, and a
loop's copy of a carried cotangent into its update.

Invariant: no single-use pure ANF temporary (``_t<k>``) of at most a few nodes is left named where it can go
back into the one statement that reads it (``fuse_temporaries``; a temporary's tangent ``_t<k>_dot`` of up to
twice as many into a user variable's tangent); no ``v = A; ...; v = v + e`` where nothing
between touches ``v`` or what ``A`` reads (``fuse_accumulations``: ``v = A + e``); in a loop body, no copy
``a = b`` (``a`` assigned once) whose reads can all read ``b`` if ``b``'s next update moves after the last of
them (``sink_copies``: ``a = b; b = e(a); ...a...`` becomes ``...b...; b = e(b)``). Each fused statement takes
its quoted source lines along (``quotes.Quotes.fuse``). The lists are new; the statements are modified in place.

>>> import gast
>>> from adjoint_compiler import emit
>>> from adjoint_compiler.optimize.quotes import Quotes
>>> fn = gast.parse("def f(a, x, c):\\n    _t1 = a * x\\n    b = _t1 + c\\n    y_bar = b\\n    y_bar = y_bar + x\\n"
...                 "    return y_bar").body[0]
>>> fn.body = fuse_accumulations(fn.body, Quotes(fn))
>>> fn.body = fuse_temporaries(fn.body, {"_t1": 1}, {"_t1": 1}, Quotes(fn))
>>> print(emit.to_source(fn).strip())
def f(a, x, c):
    b = a * x + c
    y_bar = b + x
    return y_bar
"""

import bisect

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.optimize.facts import pure, pure_call, stored
from adjoint_compiler.optimize.quotes import is_comment


def fuse_accumulations(stmts, quotes, folded=None, kept=None, facts=None):
    """``v = A; ...; v = v + e`` -> ``...; v = A + e`` when nothing between touches v or what A reads.

    Adjoint sweeps accumulate a variable over several statements; one expression
    is shorter to read and cheaper to run (fewer stores and loads). ``folded`` (``clean._Round``'s): each
    statement rewritten leaves it; ``kept``: what an earlier round found of a statement it passed, while its
    entry in ``folded`` stands (as in ``fuse_temporaries``); ``facts``: ``fuse_temporaries``'s ``kept``, whose
    names of an assignment's value (with its target) name the assignment.

    One pass in order (issue #14: searching back and over the statements between, for each accumulation,
    was quadratic in the block's length): each statement has its position in ``stmts`` (fusing only
    removes statements), and what the statements before the current one touch is kept by name, as the
    position of the last that names it, of the last that stores into it and of the last assigning it, so
    "nothing between touches" is a comparison of positions. A statement fused away moves into the current
    one, which names and stores all it did and comes later: the positions kept stay those the statements
    left would give.
    """
    out = list(stmts)
    targets = [trees.assigned_name(s) for s in out]  # out's, kept beside it
    if not any(t is not None and _accumulation(s, t) for s, t in zip(out, targets)):
        return out
    folded = {} if folded is None else folded
    kept = {} if kept is None else kept
    facts = {} if facts is None else facts
    places = list(range(len(out)))  # each statement's position in stmts, beside out
    Assign, Expr = gast.Assign, gast.Expr
    named, stores_into, assigned = {}, {}, {}  # name -> the last position naming it, storing into it; assigning it
    barrier = comment = -1  # the last position of a statement other than an assignment or expression; of a comment

    def names_of(b, key, target):
        """``trees.all_names(b)`` and ``stored(b)``, from what an earlier round or ``clean``'s scan found."""
        mark = folded.get(key)
        if mark is not None and mark[0] is b and mark[1] is b.value:
            entry = kept.get(key)
            if entry is None or entry[0] is not mark:
                found = facts.get(key)
                if found is not None and found[0] is mark and target is not None and len(b.targets) == 1:
                    entry = kept[key] = (mark, found[1] | {target}, {target})
                else:
                    entry = kept[key] = (mark, trees.all_names(b), stored(b))
            return entry[1], entry[2]
        return trees.all_names(b), stored(b)

    def known_pure(b):
        """Whether ``clean``'s scan found ``b``'s value pure, while it stands as scanned (no walk)."""
        mark = folded.get(id(b))
        found = facts.get(id(b)) if mark is not None and mark[0] is b and mark[1] is b.value else None
        return found is not None and found[0] is mark and found[2]

    def record(k, names, into):
        """What ``out[k]`` touches, for the statements after it (``names``, ``into``: those of an assignment or
        expression other than a comment)."""
        nonlocal barrier, comment
        b, place = out[k], places[k]
        if names is not None:
            for n in names:
                named[n] = place
            for n in into:
                stores_into[n] = place
        elif b.__class__ is Expr:
            comment = place
        else:
            barrier = place
        if targets[k] is not None:
            assigned.setdefault(targets[k], []).append(place)

    i = 0
    while i < len(out):
        s = out[i]
        v = targets[i]
        kind = s.__class__
        names = into = None
        if kind is Assign or kind is Expr and not is_comment(s):
            names, into = names_of(s, id(s), v)
            if not known_pure(s):
                changed = _changed_by_calls(s.value)
                if changed:  # (xs_bar.pop(): what a call changes is stored into, for what moves past it)
                    into = into | changed
        value = s.value if kind is Assign else None
        if v is not None and _accumulation(s, v) and assigned.get(v) and v not in trees.all_names(value.right):
            place = assigned[v][-1]
            j = bisect.bisect_left(places, place, 0, i)
            first = out[j]
            reads = trees.all_names(first.value)
            if not (
                barrier > place
                or j < i - 1
                and _changed_by_calls(first.value)  # (its calls' effects would move past the statements between)
                or named.get(v, -1) > place
                or v == naming.COMMENT_FN
                and comment > place
                or any(stores_into.get(r, -1) > place for r in reads)
            ):
                value.left = first.value
                quotes.fuse(s, first)
                folded.pop(id(s), None)
                del out[j], targets[j], places[j]
                assigned[v].pop()
                i -= 1
                if value.left.__class__ is gast.Name and value.left.id == v:
                    # (``v = v`` fused: s is looked at again, as the search did; the positions are found anew,
                    # as that statement's stay where none took them)
                    named.clear(), stores_into.clear(), assigned.clear()
                    barrier = comment = -1
                    for k in range(i):
                        b = out[k]
                        plain = b.__class__ is Assign or b.__class__ is Expr and not is_comment(b)
                        record(k, *(names_of(b, id(b), targets[k]) if plain else (None, None)))
                    continue
                names = names | reads  # (s's value now holds first's)
        record(i, names, into)
        i += 1
    return out


def _changed_by_calls(value):
    """The names ``value``'s calls may change (``xs.pop()``: ``xs``; ``f(a)``: ``a``), of the calls with effects
    (``facts.pure``); empty where it has none."""
    out = set()
    for node in trees.walk(value):
        if node.__class__ is gast.Call and not pure_call(node):
            out |= trees.all_names(node)
    return out


def _accumulation(stmt, v):
    """Whether the assignment ``stmt`` of ``v`` is ``v = v + e`` or ``v = v - e``."""
    value = stmt.value
    return (
        value.__class__ is gast.BinOp
        and value.op.__class__ in (gast.Add, gast.Sub)
        and value.left.__class__ is gast.Name
        and value.left.id == v
    )


_FUSED_SIZE = 12  # nodes: beyond this a fused expression reads worse than its named parts
_ONE_OPERATION = 6  # nodes of x * y (the operation, its operator, two names with their contexts)


def _fused_size(name):
    """The largest expression a temporary ``name`` may hold and still be fused: twice as large for a
    temporary's tangent (``_t1_dot = y_dot * x + x_dot * y``), see ``_fits``."""
    return _FUSED_SIZE if naming.is_temp(name) else 2 * _FUSED_SIZE


def _tangent_target(stmt):
    """An assignment of a user variable's tangent (``y_dot = ...``, not a temporary's)."""
    target = stmt.targets[0] if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
    return (
        isinstance(target, gast.Name)
        and naming.family(target.id)[1] == naming.DOT.format("")
        and not naming.is_temp_value(target.id)
    )


def _fits(temp, use, between, needs, sizes=(None, None), loop=False):
    """Whether ``temp``'s value may go into ``use``: both small, or a temporary's tangent of up to twice the
    size going into a user variable's tangent (a sum of products that reads as well there, where terms with one
    tangent factor then group: ``fold.group_factors``), and not past a new version of what it reads
    (``y_2 = ...`` between would keep ``y_1`` alive beside it: a copy where the loop carries ``y``). ``sizes``:
    those of the two values where known (``clean``'s scan found them). ``loop``: the block is a loop's body,
    where one operation on names and numbers (``x * x``) goes into a use of any size: a name of its own costs
    a statement each step, and reads no better than the operation it holds."""
    own = _size(temp.value) if sizes[0] is None else sizes[0]
    if loop and own <= _ONE_OPERATION:
        return True
    size = own + (_size(use.value) if sizes[1] is None else sizes[1])
    if own <= _FUSED_SIZE and size <= 2 * _FUSED_SIZE:
        return True
    if not _tangent_target(use) or size > 3 * _FUSED_SIZE:
        return False
    families = {naming.family(n)[0] for n in needs}
    return not any(naming.family(name)[0] in families for b in between for name in stored(b))


_size = trees.size


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


def _standing(folded, stmt):
    """``stmt``'s entry in ``folded`` (``clean._Round``'s) where it stands (nothing rewrote ``stmt`` since it
    was folded), else None."""
    mark = folded.get(id(stmt))
    return mark if mark is not None and mark[0] is stmt and mark[1] is stmt.value else None


def _known_size(kept, folded, stmt):
    """The size of ``stmt``'s value as ``clean``'s scan found it, where that stands; else None."""
    found = kept.get(id(stmt))
    if found is None or len(found) < 4 or found[0] is not _standing(folded, stmt):
        return None
    return found[3]


def fuse_temporaries(stmts, reads, assigns, quotes, folded=None, kept=None, loop=False):
    """``_t3 = a * x; b = _t3 + c`` -> ``b = a * x + c`` when the temporary is read nowhere else.

    A-normal form names every intermediate; those the adjoint never reads go
    back into the expression that uses them, so the forward sweep reads like
    the user's code and runs fewer statements. Only over pure assignments to
    other names (no stores, calls with effects or loops in between).

    ``folded`` and ``kept`` (``clean._Round``'s, shared by the rounds of ``clean``): a statement's facts below
    found in an earlier round are kept while its entry in ``folded`` says nothing rewrote it since it was
    folded (the entry is the same tuple, and the statement's value is the one folded); ``clean``'s scan fills
    it for the assignments it walks, with the value's size too.

    A temporary's use is the first statement after it that the search may not pass (a comment it passes;
    an assignment it passes where its value is pure, does not read the temporary and its target is not one
    the temporary's value reads). Found by position (issue #14: walking forward over every statement passed,
    for each temporary, was quadratic in the block's length): each statement keeps its position in
    ``stmts`` (fusing only removes the temporary), and the positions of the statements no search passes, of
    the assignments of each name and of the assignments whose value reads each name are sorted lists, the
    first after a temporary a bisection. The statements before the current one are never asked about again,
    so a temporary removed stays in them; the use's value, which takes the temporary's, adds its positions
    to the names it now reads, and stays as pure as it was (both values are). ``loop``: ``stmts`` is a loop's
    body (``_fits``).
    """
    out = list(stmts)
    places = list(range(len(out)))  # each statement's position in stmts, beside out
    folded = {} if folded is None else folded
    kept = {} if kept is None else kept
    index = None  # (stops, assignments, readers, temporaries), made at the first temporary that may fuse

    def value_facts(stmt):
        """(the names ``stmt``'s value mentions, whether that value is pure), from what an earlier round or
        ``clean``'s scan found where that stands."""
        key = id(stmt)
        mark = folded.get(key)
        if mark is not None and mark[0] is stmt and mark[1] is stmt.value:
            entry = kept.get(key)
            if entry is None or entry[0] is not mark:  # (folded anew since: found anew)
                entry = kept[key] = (mark, trees.all_names(stmt.value), pure(stmt.value))
            return entry[1], entry[2]
        return trees.all_names(stmt.value), pure(stmt.value)

    def make_index():
        stops, assignments, readers = [], {}, {}
        targets = [trees.assigned_name(stmt) for stmt in out]
        temporaries = {t for t in targets if t is not None and _temporary(t, reads, assigns)}  # (readers: theirs)
        for place, stmt in enumerate(out):
            target = targets[place]
            if target is None:
                if not is_comment(stmt):
                    stops.append(place)
                continue
            names, is_pure = value_facts(stmt)
            if not is_pure:
                stops.append(place)
            assignments.setdefault(target, []).append(place)
            for name in names & temporaries:
                readers.setdefault(name, []).append(place)
        return stops, assignments, readers, temporaries

    def after(positions, place):
        """The first of the sorted ``positions`` after ``place``, else None."""
        if not positions:
            return None
        k = bisect.bisect_right(positions, place)
        return positions[k] if k < len(positions) else None

    i = 0
    while i < len(out):
        s = out[i]
        t = trees.assigned_name(s)
        if not (t is not None and _temporary(t, reads, assigns)):
            i += 1
            continue
        mark = _standing(folded, s)
        found = kept.get(id(s)) if mark is not None else None
        if found is not None and found[0] is mark and len(found) > 3:  # (what clean's scan found of it)
            needs, is_pure, size = found[1], found[2], found[3]
        else:
            needs, is_pure, size = None, pure(s.value), None
        if not (
            is_pure
            and not isinstance(s.value, gast.IfExp)
            and (_size(s.value) if size is None else size) <= _fused_size(t)
        ):
            i += 1
            continue
        if needs is None:
            needs = trees.all_names(s.value)
        if index is None:
            index = make_index()
        stops, assignments, readers, temporaries = index
        here = places[i]
        firsts = [after(stops, here), after(readers.get(t), here)]
        firsts += [after(assignments.get(name), here) for name in needs]
        stop = min((p for p in firsts if p is not None), default=None)
        j = len(out) if stop is None else bisect.bisect_left(places, stop, i)
        use = out[j] if j < len(out) else None
        if (
            isinstance(use, (gast.Assign, gast.Expr, gast.Return))
            and _fits(s, use, out[i + 1 : j], needs, (size, _known_size(kept, folded, use)), loop)
            and not (
                isinstance(use, gast.Assign)
                and not isinstance(use.targets[0], gast.Name)
                and t in trees.all_names(use.targets[0])
            )
            and _substitute(use.value, t, s.value)
        ):
            quotes.fuse(use, s)
            folded.pop(id(use), None)
            if trees.assigned_name(use) is not None:  # (the names its value now reads: the search asks of them)
                for name in needs & temporaries:
                    positions = readers.setdefault(name, [])
                    k = bisect.bisect_left(positions, stop)
                    if k == len(positions) or positions[k] != stop:
                        positions.insert(k, stop)
            del out[i], places[i]
            continue
        i += 1
    return out


def _temporary(name, reads, assigns):
    """Whether ``name`` is a temporary (or its cotangent) assigned once and read once: one that may fuse."""
    # (the counts first: most names are read more than once, and they are two lookups)
    return reads.get(name) == 1 and assigns.get(name) == 1 and (naming.is_temp_value(name) or _temp_bar(name))


_BAR = naming.bar("")


def _temp_bar(name):
    """The cotangent of an ANF temporary (``_t3_bar``): a value no user variable holds either."""
    return name.endswith(_BAR) and naming.is_temp(name[: -len(_BAR)])


def _reads_of(node, name):
    return sum(
        1 for n in trees.walk(node) if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
    )


def sink_copies(stmts, reads, assigns):
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
            } | stored(stmt)

        j = next((k for k in range(i + 1, len(out)) if {a, b} & writes(out[k])), None)
        if j is None or not (trees.assigned_name(out[j]) == b and pure(out[j].value)):
            i += 1
            continue
        update = out[j]
        last = max([j] + [k for k in range(i + 1, len(out)) if _reads_of(out[k], a)])
        within = sum(_reads_of(out[k], a) for k in range(i + 1, last + 1))
        between = out[j + 1 : last + 1]
        needs = trees.all_names(update.value) | {b}
        if within != reads.get(a, 0) or not all(
            isinstance(t, (gast.Assign, gast.AugAssign, gast.Expr)) and not _reads_of(t, b) and not (stored(t) & needs)
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
