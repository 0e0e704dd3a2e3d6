"""Give the forward sweep's copy of a temporary the adjoint recomputes a name of its own.

A loop's adjoint recomputes cheap scalar temporaries rather than taping them (``reverse.loops.recomputable``),
under the forward sweep's name: ``_t3 = 2.0 * x`` in the forward loop and again in the adjoint loop. Assigned
twice, neither copy is a temporary assigned once and read once, which ``fuse`` puts back into its use. Here
the first of the two, and the reads that can only read it, take a fresh name; the adjoint's keeps the name its
cotangent (``_t3_bar``) is named after.

Invariant: no ANF temporary (``_t<k>``) is assigned by exactly two assignments, each a statement of a loop's block
(not of the same block), where every read of it follows one of them in that assignment's block (inside the
statements after it, in the same function), and no read follows both. Those are the reads of that
assignment's value alone: renaming the first and the reads after it computes the same. Modifies ``fn``.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(xs, a):\\n    for x in xs:\\n        _t3 = 2.0 * x\\n        y = a / _t3\\n"
...                 "    for x in xs:\\n        _t3 = 2.0 * x\\n        a_bar = 1.0 / _t3\\n    return a_bar").body[0]
>>> own_names(fn)
True
>>> print(emit.to_source(fn).strip())
def f(xs, a):
    for x in xs:
        _t1 = 2.0 * x
        y = a / _t1
    for x in xs:
        _t3 = 2.0 * x
        a_bar = 1.0 / _t3
    return a_bar
"""

import gast

from adjoint_compiler import naming, trees

_SCOPES = (gast.FunctionDef, gast.Lambda)


def own_names(fn):
    """Rename, in ``fn``, the first copy of each temporary assigned twice as the invariant says; True if any."""
    loops = [s for s in trees.statements(fn) if s.__class__ is gast.For or s.__class__ is gast.While]
    if not loops:
        return False  # (both copies are in loops: straight-line code pays one walk of its statements)
    sites = {}  # temporary -> [(block, index)] of its assignments that are statements of a block in a loop
    seen = set()
    for stmt in (s for loop in loops for s in trees.statements(loop)):
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if type(block) is not list or id(block) in seen:
                continue
            seen.add(id(block))
            for k, s in enumerate(block):
                if s.__class__ is gast.Assign and len(s.targets) == 1 and s.targets[0].__class__ is gast.Name:
                    name = s.targets[0].id
                    if naming.is_temp(name):
                        sites.setdefault(name, []).append((block, k))
    twice = {t: found for t, found in sites.items() if len(found) == 2 and found[0][0] is not found[1][0]}
    if not twice:
        return False  # (the statements alone tell: no walk of every node)
    site_of = {id(b[k]): t for t, found in twice.items() for b, k in found}
    first = {}  # temporary -> its assignment that runs first (in the order of the source)
    reads = {t: ([], []) for t in twice}  # the reads after the first assignment; after the second
    bad, stores, taken = set(), {}, set()

    def visit(node, after, scope):
        """``after``: {temporary: (0 or 1: after which assignment, the function that assignment is in)}."""
        stack = [(node, scope)]
        while stack:
            n, where = stack.pop()
            kind = n.__class__
            if kind is gast.Name:
                taken.add(n.id)
                if n.id in twice:
                    if n.ctx.__class__ is not gast.Load:
                        stores[n.id] = stores.get(n.id, 0) + 1
                    else:
                        found = after.get(n.id)
                        if found is None or found[1] is not where:
                            bad.add(n.id)  # (a read no assignment reaches alone, or one from a closure)
                        else:
                            reads[n.id][found[0]].append(n)
                continue
            if kind in _SCOPES:
                where = n
            for field in n._fields:
                value = getattr(n, field, None)
                if type(value) is list:
                    if value and isinstance(value[0], gast.stmt):
                        block(value, after, where)
                    else:
                        stack.extend((v, where) for v in value if isinstance(v, gast.AST))
                elif isinstance(value, gast.AST):
                    stack.append((value, where))

    def block(stmts, after, scope):
        after = dict(after)  # (what follows an assignment here: this block's rest, not the enclosing one's)
        for s in stmts:
            visit(s, after, scope)
            t = site_of.get(id(s))
            if t is not None:
                if t in after:
                    bad.add(t)  # one assignment after the other: a read after both could read either
                which = 0 if t not in first else 1
                first.setdefault(t, s)
                after[t] = (which, scope)

    visit(fn, {}, fn)
    done = False
    namer = None
    for t in twice:
        if t in bad or stores.get(t) != 2 or not reads[t][0]:
            continue
        if namer is None:
            namer = naming.Namer(taken)
        fresh = namer.fresh(naming.TEMP)
        first[t].targets[0].id = fresh
        for n in reads[t][0]:
            n.id = fresh
        done = True
    return done
