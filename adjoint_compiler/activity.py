"""Which SSA names carry derivatives: varied (depend on a wrt input) and useful (reach the output).

Output: an ``Activity`` table keyed by SSA name, the input is not modified:
``ops[name]`` is the operation that defines ``name``, ``active`` the names both
varied and useful (only those get adjoint code), ``scalars`` the names known to
hold a scalar given which parameters are scalars (there ``unbroadcast`` is a
no-op and is left out), ``integers`` those known to hold Python ints (``range`` indices and
``+``, ``-``, ``*``, ``//``, ``%`` of them and int literals: ``x ** i``'s rule drops its guard for
an exponent strictly between 0 and 1).

>>> import gast
>>> from adjoint_compiler import normalize, ssa
>>> fn = gast.parse("def f(x, y):\\n    n = 3\\n    z = x * n\\n    w = y + 1\\n    return z").body[0]
>>> sorted(run(ssa.run(normalize.run(fn, None), None), None, ["x"]).active)
['x', 'z']
"""

import math
import operator
import re

import gast
import numpy as np

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.rules import py_math, registry
from adjoint_compiler import refusals
from adjoint_compiler.errors import UnsupportedError
from adjoint_compiler.ops import BINOPS, ELEMENTWISE, UNARYOPS, Op, classify, differentiable  # noqa: F401  (re-exported)

_SCALAR_BUILTINS = {abs, min, max, float, int, round, operator.floordiv} | ELEMENTWISE


class Activity:
    def __init__(self, ops, defs, varied, useful, scalars, outputs):
        self.ops = ops  # name -> Op for names assigned once
        self.defs = defs  # [(name, Op)] for every assignment, in program order
        self.varied = varied
        self.useful = useful
        self.active = varied & useful
        self.scalars = scalars
        self.integers = frozenset()
        self.outputs = outputs
        self.sequences = set()
        self.owned = set()  # copies of arguments the function stores into (desugar.py): array, list or dict
        self.where_fed = set()
        self.weak = frozenset()  # scalars where they get a contribution, of any shape where not (their zero)
        self._by_stmt = {}  # id(statement) -> (statement, its value, source, local names, its Op)
        self._equal = {}  # (id(a), id(b)) -> (a, b, a == b) of the local name sets op was asked with
        self.local = set()  # the names the function binds (trees.local_names), set by run

    def __str__(self):
        """The tables as text (``adjoint-compiler show --stage activity``)."""
        rows = [
            ("active", self.active),
            ("varied", self.varied),
            ("useful", self.useful),
            ("scalars", self.scalars),
            ("integers", self.integers),
            ("outputs", self.outputs),
        ]
        return "\n".join("%-8s %s" % (label + ":", ", ".join(sorted(names)) or "-") for label, names in rows)

    def op(self, stmt, source, local):
        """The Op of one assignment statement (names assigned twice have one Op per assignment): the one ``run``
        found, where asked of the same statement and value in the same context (the reversal asks of every
        assignment again), else classified here, once."""
        key = id(stmt)
        entry = self._by_stmt.get(key)
        if (
            entry is not None
            and entry[0] is stmt
            and entry[1] is stmt.value
            and entry[2] is source
            and self._same_local(entry[3], local)
        ):
            return entry[4]
        op = classify(stmt.value, source, local)
        self._by_stmt[key] = (stmt, stmt.value, source, local, op)
        return op

    def _same_local(self, a, b):
        """Whether the name sets ``a`` and ``b`` are equal, compared once per pair of sets."""
        if a is b:
            return True
        known = self._equal.get((id(a), id(b)))
        if known is None or known[0] is not a or known[1] is not b:
            known = self._equal[(id(a), id(b))] = (a, b, a == b)
        return known[2]


class _Block:
    """A statement list: the body (``parent`` None), an arm of an ``if`` or a loop's body, which is statement
    ``index`` of its parent list; ``surely``: a loop body that runs at least once on every call."""

    __slots__ = ("parent", "index", "kind", "surely", "node")

    def __init__(self, parent, index, kind, surely=False, node=None):
        self.parent, self.index, self.kind, self.surely, self.node = parent, index, kind, surely, node


def _definitions(stmts, source, local, out, by_stmt=None, where=None, block=None):
    """Every (name, Op) defined in ``stmts``, in program order (loop targets included). ``by_stmt``: gets
    each assignment's entry for ``Activity.op``; ``where``: id(op) -> (its _Block, its index there)."""
    if where is not None and block is None:
        block = _Block(None, 0, "body")
    for index, stmt in enumerate(stmts):
        start = len(out)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            op = classify(stmt.value, source, local)
            out.append((stmt.targets[0].id, op))
            if by_stmt is not None:
                by_stmt[id(stmt)] = (stmt, stmt.value, source, local, op)
        elif trees.appended(stmt) is not None and trees.appended(stmt)[0].id in local:
            xs, v = trees.appended(stmt)  # xs.append(v): a new value of xs, one element longer
            out.append((xs.id, Op("append", None, [xs, v], node=stmt)))
        elif trees.element_store(stmt) is not None:
            # a[i] = v: a new value of a that depends on the old one and on v
            target = trees.element_store(stmt)
            fn = BINOPS[type(stmt.op)] if isinstance(stmt, gast.AugAssign) else None
            root = trees.store_root(target)  # a[i][j] = v changes a too
            out.append((root.id, Op("store", fn, [root, stmt.value], {"index": target.slice}, stmt)))
        elif isinstance(stmt, gast.If):
            arm = _Block(block, index, "if", node=stmt) if where is not None else None
            _definitions(stmt.body, source, local, out, by_stmt, where, arm)
            arm = _Block(block, index, "if", node=stmt) if where is not None else None
            _definitions(stmt.orelse, source, local, out, by_stmt, where, arm)
            continue
        elif isinstance(stmt, (gast.For, gast.While)):
            body = None
            if where is not None:
                surely = isinstance(stmt, gast.For) and _surely_runs(stmt.iter, source, local)
                body = _Block(block, index, "loop", surely, stmt)
            if isinstance(stmt, gast.For):
                # fn: range for a loop over range(...), whose items are ints
                out.append((stmt.target.id, Op("index", _over_range(stmt.iter, source, local), node=stmt.target)))
                if where is not None:
                    where[id(out[-1][1])] = (body, -1)  # bound at the top of each iteration
            _definitions(stmt.body, source, local, out, by_stmt, where, body)
            continue
        if where is not None:
            for _, op in out[start:]:
                where[id(op)] = (block, index)
    return out


def _return_values(name, defs):
    """The versions of the jumps pass's return-value variable (``_value1``, ``_value1_2``, ...) that reach the
    result ``name`` by copies: it holds None until a return gives it the value the call returns, which nothing
    rebinds after (every later statement is guarded by the return's flag): each value it holds is the result
    or None (whose cotangent nobody reads)."""
    root = re.fullmatch(r"(%s)(_\d+)?" % naming.RETURN_VALUE.format(r"\d+"), name)
    if root is None:
        return []
    family = re.compile(r"%s(_\d+)?" % re.escape(root.group(1)))
    copies = {}
    for target, op in defs:
        copies.setdefault(target, []).append(op)
    found, todo = set(), [name]
    while todo:
        n = todo.pop()
        if n in found or not family.fullmatch(n):
            continue
        found.add(n)
        todo += [op.args[0].id for op in copies.get(n, ()) if op.kind == "copy"]
    return sorted(found)


def _weak_scalars(fn, defs, by_stmt, scalars, useful):
    """Names that are scalars wherever their adjoint gets a contribution: each differentiable operation reading
    one says so of what it reads (``acc * x`` where that is such a scalar, ``math.sin(x)``), though none of them
    may run (a loop over an empty list). Their contributions skip ``unbroadcast``, and their zero is written
    for any shape (``zeros_like(x)``, not ``0.0``). Greatest fixed point: a result's contributions come only
    where the result gets one."""
    result = {id(op): name for name, op in defs}
    uses = {}  # name -> [(op, its result)] of the differentiable operations reading it
    refuted = set()

    def visit(stmts):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and id(stmt) in by_stmt:
                op = by_stmt[id(stmt)][4]
                if not differentiable(op) or result.get(id(op)) not in useful:
                    continue  # (no contribution to what it reads)
                for n in set(op.operand_names()):  # (the names derivatives flow to; an index's get none)
                    uses.setdefault(n, []).append((op, result.get(id(op))))
            elif isinstance(stmt, (gast.If, gast.While)):
                if not isinstance(stmt.test, gast.Name):
                    refuted.update(trees.loads(stmt.test))
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, gast.For):
                refuted.update(trees.loads(stmt.iter, stmt.target))
                visit(stmt.body)
                visit(stmt.orelse)
            else:
                refuted.update(trees.loads(stmt))

    visit(fn.body)
    weak = set(uses) - refuted - scalars
    readers = {}  # result -> the names its operation reads: those it may unsettle when it drops (a work list)
    for n in weak:
        for _, r in uses[n]:
            readers.setdefault(r, []).append(n)
    todo = sorted(weak)
    while todo:
        n = todo.pop()
        if n in weak and not all(_scalar_operands(op, r in scalars or r in weak) for op, r in uses[n]):
            weak.discard(n)
            todo += readers.get(n, ())
    return weak


class _Places:
    """Where each assignment is, to tell which uses of a name read every value it takes on a call."""

    def __init__(self, defs, where):
        self.where = where
        self.sites = {}  # name -> [(block, index)] of its definitions
        self.ops = {}  # name -> [Op]
        for name, op in defs:
            self.ops.setdefault(name, []).append(op)
            self.sites.setdefault(name, []).append(where.get(id(op)))
        self._memo = {}

    def reads_all_at(self, op, name):
        site = self.where.get(id(op))
        if site is None:
            return False
        key = (id(op), name)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self.reads_all(site, name)
        return found

    def reads_all(self, site, name):
        """Whether a use at ``site`` reads every value ``name`` takes on a call, or one each of them grows into
        (broadcasting never shrinks a shape): then what the use says of its shape holds of the name."""
        sites = self.sites.get(name)
        if sites is None:  # a parameter: bound once, before everything
            return self._runs_always(site)
        if any(d is None for d in sites):
            return False
        if len(sites) == 1:
            return self._after(site, sites[0], None)
        loop = self._all_values_reach(name)
        return loop is not False and all(self._after(site, d, loop) for d in sites)

    @staticmethod
    def _runs_always(site):
        block = site[0]
        while block.parent is not None:
            if not (block.kind == "loop" and block.surely):
                return False
            block = block.parent
        return True

    @staticmethod
    def _after(use, define, loop):
        """Whether the use runs after the definition each time the definition runs, reading its value: the
        definition's list or one enclosing it (out of if arms, and out of ``loop``, a loop whose last value is
        meant) holds the use later, or a loop body in it that surely runs."""
        seen = {}
        block, index = define
        while True:
            seen[id(block)] = index
            if block.parent is None or block.kind == "loop" and block is not loop:
                break
            block, index = block.parent, block.index
        block, index = use
        while True:
            at = seen.get(id(block))
            if at is not None:
                return index > at
            if block.parent is None or not (block.kind == "loop" and block.surely):
                return False
            block, index = block.parent, block.index

    def _all_values_reach(self, name):
        """For a name assigned more than once: None when it merges the arms of one ``if`` (the value of the arm
        that ran is the last), the loop's body block when it is a loop's header each value of which grows
        into the next (``acc = acc * x + c``), else False."""
        sites = self.sites[name]
        blocks = {id(b): b for b, _ in sites}
        if all(b.kind == "if" for b in blocks.values()) and len({id(b.node) for b in blocks.values()}) == 1:
            return None
        if len(blocks) != 2:
            return False
        loop, outer = sorted(blocks.values(), key=lambda b: b.kind == "loop" and b.parent in blocks.values())[::-1]
        before = [d for d in sites if d[0] is outer]
        if not (loop.kind == "loop" and loop.parent is outer and len(before) == 1 and before[0][1] < loop.index):
            return False
        ops = [op for op, (b, _) in zip(self.ops[name], sites) if b is loop]
        return loop if self._grow_from(ops, name) else False

    def _grow_from(self, ops, name):
        """Whether every value each of ``ops`` gives has a shape at least that of ``name``'s previous value: by
        broadcasting operations (or copies), each with an operand that does. Greatest fixed point over the
        names they read (a header inside the loop: each of its values grows from its first, asked too)."""
        grows = set()
        todo = [a for op in ops for a in op.operand_names()]
        while todo:  # every name the operations reach, assumed to grow
            a = todo.pop()
            if a != name and a not in grows:
                grows.add(a)
                todo += [b for o in self.ops.get(a, ()) for b in o.operand_names()]
        grows.add(name)

        def holds(op):
            if not (op.kind == "copy" or op.kind == "call" and not op.kwargs and _broadcasts(op.fn)):
                return False
            return any(a in grows for a in op.operand_names())

        changed = True
        while changed:
            changed = False
            for a in list(grows):
                if a != name and not (self.ops.get(a) and all(holds(o) for o in self.ops[a])):
                    grows.discard(a)
                    changed = True
        return all(holds(op) for op in ops)


def _broadcasts(fn):
    """An element-wise operation: its result has the broadcast shape of its operands."""
    return (isinstance(fn, np.ufunc) and fn.signature is None and fn.nout == 1) or fn in ELEMENTWISE


def _surely_runs(iterable, source, local):
    """A loop over a non-empty display or a constant non-empty range."""
    if isinstance(iterable, (gast.Tuple, gast.List)):
        return bool(iterable.elts) and not any(isinstance(e, gast.Starred) for e in iterable.elts)
    if _over_range(iterable, source, local) is range and not iterable.keywords and 1 <= len(iterable.args) <= 3:
        bounds = [a.value if isinstance(a, gast.Constant) else None for a in iterable.args]
        if all(type(b) is int for b in bounds) and bounds[-1] != 0:
            return len(range(*bounds)) > 0
    return False


def _over_range(iterable, source, local):
    """``range`` where ``iterable`` is a call of the builtin range written ``range`` (source None:
    hand-written SSA in tests, where the name is the builtin), else None."""
    if not (isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name) and iterable.func.id == "range"):
        return None  # (range spelled otherwise, builtins.range, is not looked for)
    if source is None:
        return range
    over = classify(iterable, source, local)  # the name range may be the user's own
    return range if over.kind == "call" and over.fn is range else None


def _fixed_point(step):
    while step():
        pass


def run(fn, source, wrt, scalar_params=(), scalar_output=False, reverse=None):
    """Analyse an SSA FunctionDef.

    ``wrt`` are parameter names, ``scalar_params`` those known to be scalars;
    ``scalar_output`` says the result is checked to be a scalar (grad mode); ``reverse`` (default: the same)
    that the code made is an adjoint (grad, vjp): there a name scalar wherever it gets a contribution counts.
    Loops make some names depend on themselves, so every analysis runs to a
    fixed point over all assignments.
    """
    local = trees.local_names(fn)
    by_stmt = {}
    where = {}
    body = _Block(None, 0, "body")
    defs = _definitions(fn.body, source, local, [], by_stmt, where, body)
    count = {}
    for name, _ in defs:
        count[name] = count.get(name, 0) + 1
    ops = {name: op for name, op in defs if count[name] == 1}
    returns = [s.value for s in trees.statements_breadth_first(fn) if isinstance(s, gast.Return)]
    outputs = {n.id for r in returns for n in trees.breadth_first(r) if isinstance(n, gast.Name)}
    places = _Places(defs, where)
    # the result checked to be a scalar: a return at the body's top level (after the jumps pass, the one at its
    # end), of a name every value of which it returns or which grows into the one returned
    scalar_outputs = []
    if scalar_output:
        for index, stmt in enumerate(fn.body):
            if isinstance(stmt, gast.Return) and isinstance(stmt.value, gast.Name):
                if places.reads_all((body, index), stmt.value.id):
                    scalar_outputs.append(stmt.value.id)
                scalar_outputs += _return_values(stmt.value.id, defs)

    varied = set(wrt)

    def spread_varied():
        before = len(varied)
        for name, op in defs:
            if name in varied or not differentiable(op):
                continue
            element = _tuple_element(op, ops)
            if element is not None:  # t[k] of a tuple display: varied as the element is, not as t is
                if isinstance(element, gast.Name) and element.id in varied:
                    varied.add(name)
            elif any(a in varied for a in op.operand_names()):
                varied.add(name)
        return len(varied) != before

    useful = set(outputs)

    def spread_useful():
        before = len(useful)
        for name, op in reversed(defs):
            if name in useful and differentiable(op):
                useful.update(op.operand_names())
        return len(useful) != before

    _fixed_point(spread_varied)
    refusals.refuse_differentiated_context_managers(fn, source, varied)
    refusals.refuse_mutation_of_varied(fn, source, local, varied)
    memo = source.summaries if source is not None else {}
    refusals.refuse_stale_reads(fn, source, local, memo, varied)
    refusals.refuse_effects_through_calls(fn.body, source, local, varied, memo, fn)
    refusals.refuse_differentiated_globals_seen_by_callees(fn.body, source, local, varied, set())
    _fixed_point(spread_useful)
    _refuse_bookkeeping_of_varied(fn, defs, source, varied, useful)
    refusals.refuse_values_without_derivatives(fn, defs, source, varied, useful)
    refusals.refuse_untracked_operations(fn, defs, source, varied, useful)
    refusals.refuse_other_arithmetic(fn, defs, source, local, useful)
    scalars = _infer_scalars(defs, set(scalar_params) | set(scalar_outputs), places)
    weak = (
        _weak_scalars(fn, defs, by_stmt, scalars, useful) if (scalar_output if reverse is None else reverse) else set()
    )
    act = Activity(ops, defs, varied, useful, scalars | weak, outputs)
    act.weak = frozenset(weak)
    act._by_stmt = by_stmt
    act.integers = frozenset(_infer_integers(defs))
    act.local = local
    act.sequences = _infer_sequences(defs, varied)
    act.owned = _infer_owned(defs)
    act.where_fed = _infer_where_fed(defs)
    return act


def _refuse_bookkeeping_of_varied(fn, defs, source, varied, useful):
    """Emitted code differentiated again (hvp, grad of grad): a runtime helper declared without derivative
    because it only moves cotangents around in-place updates must not get a differentiated value whose
    result is used: its derivative would be dropped. Refused (in emitted code: never the user's own)."""
    for name, op in defs:
        if (
            op.kind == "call"
            and name in useful
            and registry.nondifferentiable_reason(op.fn) == registry.IN_PLACE
            and registry.linearity(op.fn) is None  # (stored: forward mode follows it as linear)
            and any(a in varied for a in op.operand_names())
        ):
            raise UnsupportedError(
                "a derivative through %s (the bookkeeping of an in-place update)" % getattr(op.fn, "__name__", op.fn),
                source.location(op.node) if source is not None and op.node is not None else None,
            )


def _tuple_element(op, ops):
    """The element ``t[k]`` reads when ``t`` is a tuple display assigned once and ``k`` a constant int (a
    tuple never changes: ``args = (s, a, b); args[0]`` is ``s``, inactive in ``np.einsum(*args)`` when
    only ``a`` and ``b`` are differentiated), else None."""
    if op.kind != "subscript" or not isinstance(op.args[0], gast.Name):
        return None
    index, made = op.args[1], ops.get(op.args[0].id)
    if not (isinstance(index, gast.Constant) and type(index.value) is int):
        return None
    if made is None or made.kind != "tuple" or not isinstance(made.node, gast.Tuple):
        return None
    return made.args[index.value] if -len(made.args) <= index.value < len(made.args) else None


def _infer_where_fed(defs):
    """Names whose value reaches a branch of np.where through element-wise operations.

    There the branch not taken still computes (e.g. sqrt of a negative number) and its
    zero cotangent must not turn into nan on the way back.
    """
    fed = set()
    for name, op in defs:
        if op.kind == "call" and op.fn is np.where:
            fed.update(a.id for a in op.args[1:] if isinstance(a, gast.Name))
    changed = True
    while changed:
        changed = False
        for name, op in reversed(defs):
            if (
                name in fed
                and op.kind in ("call", "copy")
                and (op.kind == "copy" or isinstance(op.fn, np.ufunc) or op.fn in ELEMENTWISE)
            ):
                new = set(op.operand_names()) - fed
                if new:
                    fed |= new
                    changed = True
    return fed


def _varied_operand(a, seqs, varied):
    """Whether ``a``, an operand of ``xs * a``, is not the sequence and carries a derivative."""
    return isinstance(a, gast.Name) and a.id not in seqs and a.id in varied


def _infer_sequences(defs, varied=()):
    """Names known to hold a list or tuple (or a dict): there ``+`` concatenates rather than adds."""
    seqs = set()
    made = {}
    for name, op in defs:
        made.setdefault(name, op)
    changed = True
    while changed:
        changed = False
        for name, op in defs:
            if name in seqs:
                continue
            first = op.args[0] if op.args and isinstance(op.args[0], gast.Name) else None
            if _returned_contents(op, first, made) in seqs or (
                op.kind in ("tuple", "append")
                or op.kind == "copy"
                and op.args[0].id in seqs
                or (
                    op.kind == "call"
                    and op.fn in (operator.add, operator.mul)  # xs + ys, and [0.0] * n
                    and any(isinstance(a, gast.Name) and a.id in seqs for a in op.args)
                    # xs * a with a varied: a carries a derivative, so it is a float or an array, never a
                    # count: NumPy's element-wise product (an array), not n copies of xs (np13h: its
                    # cotangent was repeated_bar's, the array's gradient dropped)
                    and not (op.fn is operator.mul and any(_varied_operand(a, seqs, varied) for a in op.args))
                )
                or op.kind == "call"
                and op.fn in (list, tuple, runtime.list_bar)
                # in emitted code differentiated again: a list's cotangent, made or added to, is a list
                or op.kind == "call"
                and op.fn in (runtime.zeros_like, runtime.add_bars, runtime.added_at, runtime.sorted_in_place)
                and first is not None
                and first.id in seqs  # (xs.sort() of a list: a sorted list)
                # xs[i:j] and xs.copy() of a list are lists
                or op.kind == "subscript"
                and first is not None
                and first.id in seqs
                and isinstance(op.args[1], gast.Slice)
                or op.kind == "call"
                and first is not None
                and first.id in seqs
                and isinstance(op.node, gast.Call)
                and isinstance(op.node.func, gast.Attribute)
                and op.node.func.attr == "copy"
            ):
                seqs.add(name)
                changed = True
    return seqs


def _returned_contents(op, first, made):
    """For ``v = t[k]``, ``t`` a carrying variant's results (carry.py) whose item ``k`` is the new contents of
    an argument the call changed: the variable passed there (a list's new contents are a list), else None."""
    maker = made.get(first.id) if op.kind == "subscript" and first is not None else None
    carried = getattr(maker.fn, source_mod.CARRIED, None) if maker is not None and maker.kind == "call" else None
    index = op.args[1] if carried else None
    if not (isinstance(index, gast.Constant) and type(index.value) is int):
        return None
    func, ins, outs, changed = carried
    k = index.value - 1 - len(outs)
    if not 0 <= k < len(changed):
        return None
    params = list(ins) + list(func.__code__.co_varnames[: func.__code__.co_argcount])
    passed = dict(zip(params, maker.args))
    arg = passed.get(changed[k])
    return arg.id if isinstance(arg, gast.Name) else None


def _infer_owned(defs):
    """Names holding a copy of an argument the function stores into (``runtime.own``): an array, a list
    or a dict, which one known only at run time."""
    owned = set()
    owning = (runtime.own, runtime.own_updated)
    made = {}
    for name, op in defs:
        made.setdefault(name, op)
        first = op.args[0] if op.args and isinstance(op.args[0], gast.Name) else None
        if (
            op.kind == "call"
            and op.fn in owning
            or op.kind == "copy"
            and op.args[0].id in owned
            # the new contents of an argument a call changed (carry.py): an array, a list or a dict too
            or _returned_contents(op, first, made) is not None
        ):
            owned.add(name)
    return owned


def _infer_scalars(defs, scalars, places=None):
    """Names known to hold 0-d values: propagate forward and backward to a fixed point.

    Forward: a name is scalar when every assignment to it gives a scalar
    (loop headers are assigned twice, so this is optimistic and checked until
    stable). Backward: a 0-d result of a broadcasting element-wise operation
    means every operand is 0-d, and math functions only accept scalars; such a
    fact, seen where an operation runs, holds of the operand's every value only
    where that operation reads them all (``_Places.reads_all``): ``math.sin(x)``
    in a branch not taken says nothing of ``x``, nor ``return z`` in one of
    ``z = v * y`` (whose cotangent would then skip the sum over ``y``'s axes).
    ``places`` None (tests): every fact holds.
    """
    by_name = {}
    for name, op in defs:
        by_name.setdefault(name, []).append(op)
    # name -> the names a definition of which reads it (``_scalar_result`` reads an operation's args alone): those
    # a name found not scalar may unsettle, the work list's (issue #14: every definition was asked again, in
    # rounds, until one dropped none; the greatest fixed point is one, in whatever order it is reached)
    readers = {}
    for name, ops in by_name.items():
        for op in ops:
            for a in op.args:
                if a.__class__ is gast.Name:
                    readers.setdefault(a.id, []).append(name)
    forced = set(scalars)  # facts: given, or implied by how a value is used
    while True:
        # greatest fixed point: assume every defined name scalar, drop those with a non-scalar definition
        assumed = set(by_name) | forced
        todo = [name for name in by_name if name not in forced][::-1]  # (popped in program order: operands first)
        while todo:
            name = todo.pop()
            if name in assumed and not all(_scalar_result(op, assumed) for op in by_name[name]):
                assumed.discard(name)
                todo += [n for n in readers.get(name, ()) if n in assumed and n not in forced]
        implied = set(forced)
        for name, op in defs:
            if _scalar_operands(op, name in assumed):
                if places is None:
                    implied.update(op.operand_names())
                else:
                    implied.update(v for v in op.operand_names() if places.reads_all_at(op, v))
        if implied == forced:
            return assumed
        forced = implied


_INTEGER_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.floordiv, operator.mod, operator.neg}


def _infer_integers(defs):
    """Names known to hold Python ints: the index of a loop over ``range(...)`` (whose items are ints
    whatever ints or NumPy integers it was given), int literals, ``len(...)``, and ``+``, ``-``, ``*``,
    ``//``, ``%`` of those. Greatest fixed point, as ``_infer_scalars``: a loop-carried name is an int
    when every assignment to it gives one."""
    by_name = {}
    for name, op in defs:
        by_name.setdefault(name, []).append(op)
    assumed = set(by_name)
    changed = True
    while changed:
        changed = False
        for name, ops in by_name.items():
            if name in assumed and not all(_integer_result(op, assumed) for op in ops):
                assumed.discard(name)
                changed = True
    return assumed


def _integer_result(op, integers):
    def integer(a):
        return isinstance(a, gast.Name) and a.id in integers or isinstance(a, gast.Constant) and type(a.value) is int

    if op.kind == "index":
        return op.fn is range
    if op.kind == "const":
        return isinstance(op.node, gast.Constant) and type(op.node.value) is int
    if op.kind == "copy":
        return op.args[0].id in integers
    if op.kind != "call" or op.kwargs:
        return False
    if op.fn is len:
        return len(op.args) == 1
    return op.fn in _INTEGER_ARITHMETIC and all(integer(a) for a in op.args)


def _scalar_operands(op, result_scalar):
    if op.kind == "copy":
        return result_scalar
    if op.kind != "call" or op.kwargs:
        return False
    if getattr(op.fn, "__module__", None) == "math" and op.fn not in py_math.SEQUENCES:
        return True
    if op.fn in (min, max, float) and len(op.args) > 1 or op.fn is float:
        return True  # min/max of arrays would raise on their truth value
    # element-wise: a scalar result means scalar operands; not so for a generalized ufunc (v @ w is 0-d)
    elementwise = isinstance(op.fn, np.ufunc) and op.fn.signature is None
    return result_scalar and (elementwise or op.fn in ELEMENTWISE or op.fn is abs)


def _scalar_result(op, scalars):
    if op.kind == "index":
        return True
    if op.kind == "const":
        return trees.is_number(op.node)
    if op.kind == "copy":
        return op.args[0].id in scalars
    if op.kind != "call":
        return False
    atoms_scalar = (
        all((isinstance(a, gast.Name) and a.id in scalars) or trees.is_number(a) for a in op.args) and not op.kwargs
    )
    fn = op.fn
    if registry.shape_class(fn) == "reduce" and len(op.args) == 1 and not op.kwargs:
        return True
    if getattr(fn, "__module__", None) == "math":
        return fn not in py_math.PAIRS and fn is not math.prod  # the others return Python numbers (prod: arrays too)
    if isinstance(fn, np.ufunc) or fn in _SCALAR_BUILTINS:
        return atoms_scalar
    return False
