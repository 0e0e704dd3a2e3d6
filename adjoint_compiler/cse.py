"""Common subexpressions: a pure expression computed twice in a block is computed once.

Output invariant: in each straight-line block, no two assignments compute the
same pure expression (arithmetic, comparisons, indexing and attributes of
locals, NumPy and math functions) of the same SSA names with no update of
those names' contents in between: a repeated temporary is dropped and its
reads read the first one (``xs[i] * xs[i]`` then has the adjoint of a square,
and the value is taped once); a repeated user variable becomes a copy.
Loop-invariant arithmetic on temporaries (``-k``, ``0.5 * h`` in a loop body)
moves before the loop, so that it is computed, and taped, once. Names whose contents are updated in place
are never shared this way.

>>> import gast
>>> from adjoint_compiler import emit, normalize, ssa
>>> src = "def f(xs, i):\\n    return xs[i] * xs[i] + xs[i]"
>>> print(emit.to_source(run(ssa.run(normalize.run(gast.parse(src).body[0], None), None))).strip())
def f(xs, i):
    _t1 = xs[i]
    _t3 = _t1 * _t1
    _t5 = _t3 + _t1
    return _t5
"""

import copy

import gast

from adjoint_compiler import effects, naming, trees


def _invariant_arithmetic(value):
    """``-k``, ``0.5 * h``, ``a + b``: safe to compute once before a loop even if it runs no iteration
    (no division but by a nonzero number, no power or indexing: nothing that could raise where the
    loop would not have run)."""
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
        return isinstance(value.operand, (gast.Name, gast.Constant))
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Div):  # by a nonzero number only
        divisor = value.right
        if not (isinstance(divisor, gast.Constant) and type(divisor.value) in (int, float) and divisor.value):
            return False
    elif not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub, gast.Mult))):
        return False
    return all(isinstance(side, (gast.Name, gast.Constant)) for side in (value.left, value.right))


def _pure(value, local):
    """Whether ``value`` is an expression worth sharing that has no effects and depends only on its operands."""
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare)):
        return True
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        root = value.value
        return isinstance(root, gast.Name) and root.id in local
    if (
        isinstance(value, gast.Call)
        and isinstance(value.func, gast.Attribute)
        and isinstance(value.func.value, gast.Name)
        and value.func.value.id in ("np", "numpy", "math")
    ):
        return True  # np.random is an attribute of an attribute: not matched here
    return False


def _groups(fn):
    """name -> the names that may hold the same object or a view of it (copies, indexing, views, calls)."""
    pairs = []
    for s in trees.statements(fn):  # (assignments are statements)
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
            continue
        value = s.value
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            continue  # a new value
        if (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and isinstance(value.func.value, gast.Name)
            and value.func.value.id in ("np", "numpy", "math")
            and not effects.numpy_view(value)
        ):
            continue
        pairs += [(name, s.targets[0].id) for name in trees.loads(value)]
    return trees.groups(pairs)


class _Sharer:
    def __init__(self, fn):
        self.local = {a.id for a in fn.args.args} | {
            n.id for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
        }
        self.groups = _groups(fn)
        self.updated = self.spread(
            set().union(*[effects.changed_in_place(s) for s in trees.statements(fn) if isinstance(s, gast.stmt)])
        )
        # names that may hold the None an SSA merge gives a path where the variable is unassigned
        self.maybe_none = self.spread(
            {
                s.targets[0].id
                for s in trees.statements(fn)
                if isinstance(s, gast.Assign)
                and isinstance(s.targets[0], gast.Name)
                and isinstance(s.value, gast.Constant)
                and s.value.value is None
            }
        )
        self.renamed = {}

    def spread(self, names):
        """``names`` and every name that may share an object with one of them."""
        return set(names).union(*[self.groups.get(n, ()) for n in names])

    def hoist(self, loop):
        """Move loop-invariant arithmetic on temporaries out of ``loop``'s body; return it."""
        inside = {n.id for n in trees.walk(loop) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        inside |= self.spread(
            set().union(*[effects.changed_in_place(s) for s in trees.walk(loop) if isinstance(s, gast.stmt)])
        )
        inside |= self.maybe_none  # hoisted, a None placeholder would be computed with where the loop would not
        out, keep = [], []
        for stmt in loop.body:
            if (
                isinstance(stmt, gast.Assign)
                and isinstance(stmt.targets[0], gast.Name)
                and naming.is_temp(stmt.targets[0].id)
                and _invariant_arithmetic(stmt.value)
                and not (trees.loads(stmt.value) & inside)
                and stmt.targets[0].id not in self.updated
            ):
                # (a temporary updated through a view, (x + 1.0)[0:2][0] = v, must be new each trip)
                out.append(stmt)
                inside.discard(stmt.targets[0].id)  # now defined before the loop
            else:
                keep.append(stmt)
        loop.body = keep or [gast.Pass()]
        return out

    def block(self, stmts, seen):
        """Rewrite ``stmts`` in place; ``seen`` maps an expression's dump to the name holding it."""
        hoisted = []
        for stmt in stmts:
            if isinstance(stmt, (gast.For, gast.While)):
                hoisted.append((stmt, self.hoist(stmt)))
        for loop, moved in hoisted:
            if moved:
                k = next(i for i, s in enumerate(stmts) if s is loop)
                stmts[k:k] = moved
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                # a new array (np.zeros(3), x * y) updated later, through any name, is never shared;
                # a view (u[1:-1]) shows the same memory whichever name holds it
                if _pure(stmt.value, self.local) and (
                    name not in self.updated or isinstance(stmt.value, (gast.Subscript, gast.Attribute))
                ):
                    key = trees.dump(stmt.value)
                    if key in seen:
                        stmt.value = trees.name(seen[key])
                        if naming.is_temp(name):  # a temporary: every read of it reads the first one instead
                            self.renamed[name] = seen[key]
                    else:
                        seen[key] = name
                self.forget(seen, stmt)  # b = xs.pop() changes xs
            elif isinstance(stmt, gast.If):
                self.block(stmt.body, dict(seen))
                self.block(stmt.orelse, dict(seen))
                self.forget(seen, stmt)
            elif isinstance(stmt, (gast.For, gast.While)):
                self.forget(seen, stmt)
                self.block(stmt.body, {})  # a value from before the loop may be stale on a later trip
            elif isinstance(stmt, gast.Expr) and trees.appended(stmt) is None:
                seen.clear()  # a call for its effects: it may change anything
            else:
                self.forget(seen, stmt)

    def forget(self, seen, stmt):
        changed = self.spread(
            set().union(*[effects.changed_in_place(s) for s in trees.statements(stmt) if isinstance(s, gast.stmt)])
        )
        if changed:
            for key, name in list(seen.items()):
                if any(("id='%s'" % c) in key for c in changed):
                    del seen[key]


def run(fn, copy_=True):
    """Return a copy of SSA function ``fn`` with repeated pure expressions shared (with ``copy_=False`` the
    statements are ``fn``'s own, changed: the pipeline, which does not keep them, saves the copy)."""
    new = copy.copy(fn)
    new.body = trees.clone(fn.body) if copy_ else list(fn.body)
    sharer = _Sharer(new)
    sharer.block(new.body, {})
    if sharer.renamed:
        _drop(new, sharer.renamed)
    return new


def _drop(fn, renamed):
    """Remove ``_t6 = _t5`` for shared temporaries and read ``_t5`` wherever ``_t6`` was read."""
    Name, Load = gast.Name, gast.Load
    for node in trees.walk(fn):
        if node.__class__ is Name and node.id in renamed and node.ctx.__class__ is Load:
            node.id = renamed[node.id]
    for node in trees.statements(fn):  # (the statement lists: only statements hold them)
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                block[:] = [
                    s
                    for s in block
                    if not (
                        isinstance(s, gast.Assign)
                        and isinstance(s.targets[0], gast.Name)
                        and s.targets[0].id in renamed
                    )
                ]
