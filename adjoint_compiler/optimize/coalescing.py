"""Leave SSA: coalesce copy-related names whose live ranges do not overlap (``coalesce``), the last rewrite of
``optimize.run``.

Invariant: two names joined by a copy ``a = b`` get one name when neither is assigned where the other is live
(backward liveness over the structured body, ``_Interference``), both are locals of the same function (not
read by a nested function, lambda or comprehension, nor declared global or nonlocal) and of one variable
(``y``, ``y_1``, ``y_2``; ``y_bar``, ``y_1_bar``; temporaries join any); the class takes the parameter among
them, else its lowest version, and names derived from a renamed one follow it where free (``y_1_value``).
A function with a statement the liveness does not model is left as it is. Modifies ``fn``; the copies
become ``x = x``, which ``clean.without_self_copies`` drops.

>>> import gast
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

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.optimize.facts import try_body


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
    return (
        {n.id for n in trees.breadth_first(args) if isinstance(n, gast.Name)}
        if isinstance(args, gast.arguments)
        else set()
    )


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

    def block(self, stmts, live, loop=None, raised=frozenset()):
        """Names live before ``stmts`` given those live after; ``loop`` is (live at its exit, at its head).
        ``raised``: names live where an exception raised in ``stmts`` is caught (a try body's: its handler's),
        live throughout, since the statement that raises may be any of them."""
        for i in range(len(stmts) - 1, -1, -1):
            s = stmts[i]
            kind = type(s)
            if raised:
                live = live | raised
            if kind is gast.If and i and try_body(stmts[i - 1], s):
                # ``_try1 = try_(k, E)``, ``if _try1: body else: handler`` (desugar.try_): the body may stop at
                # any statement and the handler run then, reading what was live when the try began
                handler = self.block(s.orelse, live, loop, raised)
                live = self.block(s.body, live, loop, raised | handler) | handler | self._facts(s.test)[1]
            elif kind is gast.If:
                live = self.block(s.body, live, loop, raised) | self.block(s.orelse, live, loop, raised)
                live |= self._facts(s.test)[1]
            elif kind is gast.For:
                defs, uses = self._facts(s.target)
                after = self.block(s.orelse, live, loop, raised) | uses
                head = after
                while True:
                    body = self.block(s.body, head, (live, head), raised)
                    self.interfere(defs, body)  # the target is assigned before each iteration
                    new = after | (body - defs)
                    if new == head:
                        break
                    head = new
                live = head | self._facts(s.iter)[1]
            elif kind is gast.While:
                head = self.block(s.orelse, live, loop, raised) | self._facts(s.test)[1]
                while True:
                    new = head | self.block(s.body, head, (live, head), raised)
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


def _candidates(fn):
    """``(loop depth, a, b)`` for each copy ``a = b`` in ``fn``'s own body between two names of one kind
    (``_family``'s suffix: ``y_1_bar = y_bar``), the copies ``_coalesce_scope`` may join."""
    copies = [(depth, s.targets[0].id, s.value.id) for depth, s in _copies(fn.body, 0, [])]
    return [(depth, a, b) for depth, a, b in copies if a != b and _family(a)[1] == _family(b)[1]]


def _coalesce_scope(fn, taken):
    """Coalesce the copy-related names of one function (not of the functions nested in it); True if any."""
    copies = _candidates(fn)
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
    # in a fixed order (a set's order changes with the hash seed): the class of the lowest version is the
    # first to take the plain name (y_1_bar and y_2_bar -> y_bar, y_4_bar and y_5_bar keep y_4_bar)
    for group in sorted(members.values(), key=lambda g: min(map(_rank, g))):
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

    The functions' copies are found first, from their statements alone: most adjoints of straight-line code
    have none between names of one kind, and then the walk of every node for the names taken is not made."""
    if not any(_candidates(s) for s in trees.statements(fn) if s.__class__ is gast.FunctionDef):
        return False
    return _coalesce_scopes(fn)


def _coalesce_scopes(fn):
    """``coalesce``'s work, scope by scope, with every name of ``fn`` taken."""
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
