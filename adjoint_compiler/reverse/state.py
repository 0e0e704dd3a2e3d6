"""What one reversal of one SSA function knows, and what its modules collect for the forward sweep.

The reversal is a plain record passed to the functions of the other modules
(``r`` in each): the inputs (the function, its activity table, the loop
headers, which names may share memory, shape facts), the namer and the
cotangents, and the outputs the adjoint code leaves for the forward sweep and
for the caller: ``forward_of`` (what replaces a statement in the forward sweep:
a loop with its tape pushes or trip counter, a call of a user function's vjp, a
store that first saves what it overwrites), the tapes, the undo statements, the
callees' vjps and what the emitted module must import (the modules inlined
rules use, the registered adjoints it calls).

Invariant: ``r.namer`` starts with every name of the function and of its
environment taken, so no name it gives out shadows one; ``forward(r, stmts)`` is
``stmts`` with each statement ``r.forward_of`` has a replacement for replaced
(inside ifs too) and nothing else changed: the forward sweep keeps the SSA
names, so every value the adjoint sweep reads is in scope under its own name.
It builds new statement lists and never edits the SSA function (a loop's
replacement does share its target and iterable expressions with it).

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, ssa, trees
>>> from adjoint_compiler.reverse.statements import adjoint_block
>>> src = "def f(x):\\n    a = x * 2.0\\n    b = a * a\\n    a[0] = b[1]\\n    return a[0] * b[0]"
>>> fn = ssa.run(normalize.run(gast.parse(src).body[0], None), None)
>>> r = Reversal(fn, None, activity.run(fn, None, ["x"], [], True), ["x"], "grad")
>>> r.cot.accumulate("_t4", trees.name("g"), [])  # the output's cotangent
>>> adjoint = adjoint_block(r, fn.body[:-1])  # undoes a[0] = b[1] (b = a * a reads a): save a[0] first
>>> print("\\n".join(emit.to_source(s).strip() for s in forward(r, fn.body[:-1])))
a = x * 2.0
b = a * a
_t1 = b[1]
a_old = a[0].copy()
a[0] = _t1
_t2 = a[0]
_t3 = b[0]
_t4 = _t2 * _t3
>>> "a_old" in emit.to_source(fn)  # the SSA function is as it was
False
"""

import copy

import gast

from adjoint_compiler import effects, naming, ssa, trees
from adjoint_compiler.reverse import cotangents, shapes
from adjoint_compiler.reverse.cotangents import Cotangents


class Reversal:
    """The shared state of one reversal of ``fn``."""

    def __init__(self, fn, source, activity, wrt, mode, callee=None, keep_undo=None):
        self.fn = fn
        self.source = source
        self.act = activity
        self.wrt = wrt
        self.mode = mode
        self.callee = callee  # compiles a called user function; returns the name of its vjp
        self.keep_undo = keep_undo  # ids of the stores whose undo the adjoint needs (None: all of them)
        every, self.local, reads = trees.name_uses(fn)  # one walk for the three
        self.params = {a.id for a in fn.args.args}
        self.loop_headers = ssa.loop_headers(fn)
        headers = set().union(*self.loop_headers.values()) if self.loop_headers else set()
        self.stored = {op.args[0].id for _, op in activity.defs if op.kind in ("store", "append")}  # in place
        self.shared = effects.may_share(activity)  # name -> the names that may share its memory
        self.same_shape = shapes.same_shapes(fn, activity)  # name -> a top-level name of the same shape
        self.ranks = shapes.ranks(activity)  # name -> its number of axes, where known at compile time
        self.namer = naming.Namer(every | (set(source.env) if source is not None else set()))
        self.cot = Cotangents(self.namer, activity, headers, self.stored, fn)
        # collected for the forward sweep and the caller
        self.callees = {}  # (function, static arguments, *args count) -> the name of its vjp
        self.needs = {}  # name -> what emitted code imports: modules of inlined rules (np), registered adjoints
        self.forward_of = {}  # id(statement) -> the forward statements replacing it (see the module docstring)
        self.restored = set()  # names an adjoint loop reloads from a tape
        self.tapes = []  # (tape name, loop line, names pushed per iteration) for tape statistics
        self.undos = {}  # id(undo statement) -> the store it undoes, for in-place updates a[i] = v
        self.renamed = {}  # reloaded name inside a pullback -> the forward name it stands for
        self.reads = reads
        self._blocks = None
        self.fused = {}  # id(u = _t[j]) -> (a, [i]) where _t = a[i] just before it: u's cotangent goes to a_bar[i][j]

    def blocks(self):
        """name -> id of the statement list whose assignment binds it (made when first asked)."""
        if self._blocks is None:
            self._blocks = cotangents.blocks(self.fn.body, {})
        return self._blocks

    def location(self, stmt):
        return self.source.location(stmt) if self.source is not None else None


def forward(r, stmts):
    """The forward sweep of ``stmts``: the SSA code with each statement ``r.forward_of`` replaces replaced
    (a loop by the loop with its tape pushes, a call by its vjp's, a store by its save and itself). The
    other statements are the SSA function's own, not copies: nothing reads that function after the
    reversal (the pipeline keeps only its names), and no adjoint statement shares a node with them
    (each takes copies of what it reads)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.For, gast.While)) and id(stmt) in r.forward_of:
            out.extend(r.forward_of[id(stmt)])
        elif isinstance(stmt, gast.If):
            new = copy.copy(stmt)
            new.body = forward(r, stmt.body)
            new.orelse = forward(r, stmt.orelse)
            out.append(new)
        elif id(stmt) in r.forward_of:
            out.extend(trees.clone(r.forward_of[id(stmt)]))
        else:
            out.append(stmt)
    return out
