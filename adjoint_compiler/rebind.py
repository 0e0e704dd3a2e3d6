"""Turn ``x op= y`` into the rebinding ``x = x op y`` wherever ``x`` certainly holds an object no other name shares.

Python updates a list or an array in place on ``x += y``, visibly through
every other name bound to the same object; the compiled code computes a new
value instead. The two agree when nothing else can see ``x``'s object: a
parameter can (the caller holds it), and so can a name bound to another name
or to anything that may be a view, while ``x = x * 2`` or ``np.zeros(n)``
makes a fresh object. The analysis follows the statements in order; after an
``if`` or a loop, whatever any path may have made shared stays shared.

Output invariant: an augmented assignment to a name remains only where the
name may share its object; ``anf`` lowers those behind a run-time
``check_rebind`` that refuses a shared list or array. Augmented assignments
to elements (``a[i] += v``) are left alone.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse('''
... def f(x):
...     y = x * 2
...     y += 1
...     z = y
...     z += 1
...     x += z
...     return x''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x):
    y = x * 2
    y = y + 1
    z = y
    z += 1
    x += z
    return x
"""

import gast

from adjoint_compiler import effects, trees


def run(fn, source, copy=True):
    """Return a new FunctionDef with ``x op= y`` rebinding wherever ``x`` shares nothing; ``fn`` is not modified
    (with ``copy=False`` its statements may be: the pipeline, which does not keep them, saves the copy)."""
    rebinding = _Rebinding({a.id for a in fn.args.args}, trees.local_names(fn))
    return trees.with_body(fn, rebinding.block(trees.clone(fn.body) if copy else list(fn.body)))


def _non_fresh_stores(stmts):
    names = set()
    for node in (n for s in stmts for n in trees.walk(s)):
        if isinstance(node, gast.Assign) and not effects.fresh(node.value):
            names.update(t.id for t in node.targets if isinstance(t, gast.Name))
        elif isinstance(node, gast.For):
            names.update(n.id for n in trees.breadth_first(node.target) if isinstance(n, gast.Name))
    return names


class _Rebinding:
    def __init__(self, params, local_names):
        self.locals = local_names
        # names that may share their object with another name or the caller, statement by
        # statement: parameters and plain copies do; a fresh result (x = x * 2) does not
        self.may_alias = set(params)

    def block(self, stmts):
        return [self.statement(stmt) for stmt in stmts]

    def statement(self, stmt):
        """``stmt`` with its augmented assignments lowered where safe (it is a copy: changed in place)."""
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            # nested blocks: whatever any path may make shared stays shared afterwards
            self.may_alias |= _non_fresh_stores([stmt])
            stmt.body = self.block(stmt.body)
            if isinstance(stmt, gast.If):
                stmt.orelse = self.block(stmt.orelse)
        elif (
            isinstance(stmt, gast.AugAssign)
            and isinstance(stmt.target, gast.Name)
            and stmt.target.id not in self.may_alias
        ):
            value = gast.BinOp(left=trees.name(stmt.target.id), op=stmt.op, right=stmt.value)
            return gast.copy_location(gast.Assign(targets=[stmt.target], value=value, type_comment=None), stmt)
        elif isinstance(stmt, (gast.Assign, gast.AnnAssign)) and stmt.value is not None:
            self.track(stmt)
        return stmt

    def track(self, stmt):
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
        pairs = []
        for t in targets:
            if isinstance(t, gast.Tuple) and isinstance(stmt.value, gast.Tuple) and len(t.elts) == len(stmt.value.elts):
                pairs += list(zip(t.elts, stmt.value.elts))  # a, b = b, a * b: element by element
            else:
                pairs.append((t, stmt.value))
        for t, value in pairs:
            if isinstance(t, gast.Subscript):
                continue  # a[i] = v changes a's contents, not what a is bound to
            names = {n.id for n in trees.breadth_first(t) if isinstance(n, gast.Name)}
            if effects.fresh(value) and isinstance(t, gast.Name):
                self.may_alias -= names
            else:
                # b = a (or a view of a): both names now share one object
                self.may_alias |= names | (trees.loads(value) & self.locals)
