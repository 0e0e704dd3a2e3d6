"""A-normal form: every operation on atoms, its result in a name.

Output invariant: the body is a list of statements, each one of
``name = <simple>``, ``a[<atoms>] = <atom>``, ``a[<atoms>] += <atom>`` (and
``-=``), ``<call>`` as an expression statement, ``assert ...``, ``if <name>:
... else: ...``, ``for <name> in range(<atoms>): ...``, ``while <test>:
...``, ``break`` (as ``jumps`` left it), and one final ``return <atom>``.
``<simple>`` is an atom, a unary or binary operation of atoms, a call whose
arguments are atoms, a tuple, list or dict display of atoms, a subscript
``a[i]`` of atoms, an attribute of an atom, or a comparison; an atom is a
name, a constant or a module attribute (``np.pi``). Tests of ``while`` are
kept whole (they are never differentiated); ``if`` tests are recorded in a
``_cond`` name so the adjoint can replay the decision.

Temporaries are ``_t<k>``, numbered in the order they are made. Augmented
assignments to names, multiple targets, tuple unpacking, ``elif``,
conditional expressions, ``and``/``or`` values and the lambdas ``inline``
applies are gone; so are ``for`` loops over anything but ``range``:
sequences, ``enumerate`` and ``zip`` are walked by index, so that the adjoint
can address each element. An augmented assignment to a name that ``rebind``
left (the name may share its object) runs behind a ``check_rebind`` guard.
Global and nonlocal names are read and written through as ``write_through``
describes. Each new statement keeps the line of the statement it came from.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse('''
... def f(x, y):
...     z = x * y + sin(x)
...     a, b = z, -x if z > 0 else y
...     return a * b''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, y):
    _t1 = x * y
    _t2 = sin(x)
    z = _t1 + _t2
    _cond1 = z > 0
    if _cond1:
        _t3 = -x
    else:
        _t3 = y
    _t4 = _t3
    a = z
    b = _t4
    _t5 = a * b
    return _t5
>>> fn = gast.parse('''
... def f(x, coeffs):
...     total = 0.0
...     for c in coeffs:
...         total = total * x + c
...     return total''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, coeffs):
    total = 0.0
    _t2 = len(coeffs)
    for _t1 in range(_t2):
        c = coeffs[_t1]
        _t3 = total * x
        total = _t3 + c
    return total
"""

import math

import gast

from adjoint_compiler import naming, runtime, trees, write_through
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError

_OPERATOR_TEXT = {
    gast.Add: "+",
    gast.Sub: "-",
    gast.Mult: "*",
    gast.Div: "/",
    gast.Pow: "**",
    gast.FloorDiv: "//",
    gast.Mod: "%",
    gast.MatMult: "@",
}


def run(fn, source):
    """Return a new FunctionDef in A-normal form; ``fn`` is not modified."""
    n = _Anf(fn, source)
    n.out.extend(n.holders.reads(fn))
    for stmt in trees.clone(fn.body):  # the output may hold the input's nodes: a copy keeps them apart
        n.statement(stmt)
    if not n.out or not isinstance(n.out[-1], gast.Return):
        n.origin = fn.body[-1] if fn.body else fn
        n.emit(gast.Return(value=trees.const(None)))
    new = gast.FunctionDef(
        name=fn.name,
        args=trees.clone(fn.args),
        body=n.out,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return gast.copy_location(new, fn)


def _assign(target, value, origin):
    return gast.copy_location(trees.assign(target, value), origin)


class _Anf:
    def __init__(self, fn, source):
        self.source = source
        self.locals = trees.local_names(fn)
        self.holders = write_through.Holders(fn, source, self.locals)
        self.namer = naming.Namer(trees.all_names(fn))
        self.out = []
        self.origin = fn

    def location(self, node):
        return self.source.location(node) if self.source else None

    def temp(self):
        return self.namer.fresh(naming.TEMP)

    def emit(self, stmt):
        self.out.append(gast.copy_location(stmt, self.origin))

    def nested(self, stmts):
        """Normalize a nested block into its own statement list."""
        saved, self.out = self.out, []
        for stmt in stmts:
            self.statement(stmt)
        block, self.out = self.out, saved
        return block

    def nested_expr(self, expr, target):
        """Statements computing ``expr`` into ``target``, as a block of their own."""
        saved, self.out = self.out, []
        self.out.append(_assign(target, self.simple(expr), self.origin))
        block, self.out = self.out, saved
        return block

    # -- expressions ------------------------------------------------------------

    def atom(self, node):
        """Evaluate ``node`` into an atom, emitting temporaries for its parts."""
        if trees.is_atom(node, self.locals):
            return node
        value = self.simple(node)
        name = self.temp()
        self.out.append(_assign(name, value, self.origin))
        return trees.name(name)

    def simple(self, node):
        """Rewrite ``node`` so that its immediate operands are atoms."""
        if trees.is_atom(node, self.locals):
            return node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.UnaryOp):
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Lambda):
            return self.apply(node)
        if isinstance(node, gast.Call) and self.lowered(node) is not None:
            return self.simple(self.lowered(node))
        if isinstance(node, gast.Call) and self.nary(node):
            # max(a, b, c) is max(max(a, b), c): the two-argument rule applies to each
            nested = node.args[0]
            for arg in node.args[1:]:
                nested = gast.Call(func=trees.clone(node.func), args=[nested, arg], keywords=[])
            return self.simple(nested)
        if isinstance(node, gast.Call):
            func = node.func if trees.is_atom(node.func, self.locals) else self.callee(node.func)
            args = [self.atom(a) for a in node.args]
            keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
            return self.carried(gast.Call(func=func, args=args, keywords=keywords))
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            if any(k is None or not isinstance(k, gast.Constant) for k in node.keys):
                raise UnsupportedError("dict display with keys that are not constants", self.location(node))
            return gast.Dict(keys=[trees.clone(k) for k in node.keys], values=[self.atom(v) for v in node.values])
        if isinstance(node, gast.Compare):
            return gast.Compare(
                left=self.atom(node.left), ops=node.ops, comparators=[self.atom(c) for c in node.comparators]
            )
        if isinstance(node, gast.Attribute):
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value), slice=self.index(node.slice), ctx=gast.Load())
        if isinstance(node, gast.IfExp):
            # a if c else b: only the taken side is evaluated, as in Python
            t = self.temp()
            cond = self.record(node.test)
            self.out.append(
                gast.copy_location(
                    gast.If(test=cond, body=self.nested_expr(node.body, t), orelse=self.nested_expr(node.orelse, t)),
                    self.origin,
                )
            )
            return trees.name(t)
        if isinstance(node, gast.BoolOp):
            # a and b / a or b: short-circuit into an if, keeping which operand is the value
            t = self.temp()
            self.out.append(_assign(t, self.simple(node.values[0]), self.origin))
            for value in node.values[1:]:
                test = trees.name(t) if isinstance(node.op, gast.Or) else trees.negate(trees.name(t))
                cond = self.record(test)
                rest = self.nested_expr(value, t)
                self.out.append(gast.copy_location(gast.If(test=cond, body=[], orelse=rest), self.origin))
            return trees.name(t)
        if isinstance(node, (gast.JoinedStr, gast.Constant)):
            return trees.clone(node)  # formatting is never differentiated
        raise UnsupportedError(type(node).__name__, self.location(node))

    def apply(self, node):
        """``(lambda p: e)(a)`` (what ``inline`` makes): ``a`` into an atom, then ``e`` with it for ``p``."""
        args = [self.atom(a) for a in node.args]
        body = trees.substitute(trees.clone(node.func.body), {p.id: a for p, a in zip(node.func.args.args, args)})
        for n in trees.walk(body):
            gast.copy_location(n, node)
        return self.simple(body)

    def index(self, node):
        """An index with atoms for parts: ``i``, ``1:n:2``, ``:, 0``, ``..., None``."""
        if isinstance(node, gast.Slice):
            return gast.Slice(
                lower=node.lower and self.atom(node.lower),
                upper=node.upper and self.atom(node.upper),
                step=node.step and self.atom(node.step),
            )
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node)

    def record(self, test):
        """Record a branch decision in a ``_cond`` name; the adjoint replays it."""
        name = self.namer.fresh(naming.COND)
        self.out.append(_assign(name, trees.clone(test), self.origin))
        return trees.name(name)

    def nary(self, call):
        """``max``, ``min`` or ``math.hypot`` of more than two values, none of them starred."""
        if len(call.args) < 3 or call.keywords or any(isinstance(a, gast.Starred) for a in call.args):
            return False
        if self.source is None:
            return False
        fn = source_mod.global_value(call.func, self.source, self.locals)
        return fn is max or fn is min or fn is math.hypot

    def lowered(self, call):
        """The builtin calls written in terms of others the compiler differentiates: ``reversed(xs)`` as
        ``xs[::-1]`` (a list, tuple, array or range reversed; walked by index like any sequence),
        ``divmod(a, b)`` as ``(a // b, a % b)`` (what it computes, for numbers and arrays), ``max(a, b,
        key=k)`` as ``max((a, b), key=k)`` (one iterable: the rule that applies the key); else None."""
        if self.source is None or any(isinstance(a, gast.Starred) for a in call.args):
            return None
        fn = source_mod.global_value(call.func, self.source, self.locals)
        if fn is reversed and len(call.args) == 1 and not call.keywords:
            step = gast.UnaryOp(op=gast.USub(), operand=trees.const(1))
            return gast.Subscript(
                value=call.args[0], slice=gast.Slice(lower=None, upper=None, step=step), ctx=gast.Load()
            )
        if fn is divmod and len(call.args) == 2 and not call.keywords:
            a, b = call.args
            return gast.Tuple(
                elts=[
                    gast.BinOp(left=a, op=gast.FloorDiv(), right=b),
                    gast.BinOp(left=trees.clone(a), op=gast.Mod(), right=trees.clone(b)),
                ],
                ctx=gast.Load(),
            )
        if fn in (max, min, sorted) and any(k.arg == "key" for k in call.keywords):
            key = next(k.value for k in call.keywords if k.arg == "key")
            value = source_mod.global_value(key, self.source, self.locals)
            if not callable(value) and not (isinstance(key, gast.Constant) and key.value is None):
                raise UnsupportedError(
                    "%s(..., key=...) with a key that is not a function known at compile time" % fn.__name__,
                    self.location(key),
                    "pass a function by its global name (def score(v): ... ; key=score)",
                )
            if fn is not sorted and len(call.args) >= 2 and not any(k.arg == "default" for k in call.keywords):
                args = gast.Tuple(elts=call.args, ctx=gast.Load())
                return gast.Call(func=call.func, args=[args], keywords=call.keywords)
        return None

    def carried(self, call):
        """A call in carrying form (see ``carry``) gives its result and the globals it changed: they are
        assigned here, and written through."""
        variant = source_mod.global_value(call.func, self.source, self.locals) if self.source is not None else None
        outs = getattr(variant, source_mod.CARRIED, (None, (), None))[2]
        if outs is None:
            return call
        whole = self.temp()
        self.out.append(_assign(whole, call, self.origin))
        for i, name in enumerate(outs, 1):
            self.out.append(
                _assign(
                    name, gast.Subscript(value=trees.name(whole), slice=trees.const(i), ctx=gast.Load()), self.origin
                )
            )
            self.out.extend(self.holders.write(name, self.origin))
        return gast.Subscript(value=trees.name(whole), slice=trees.const(0), ctx=gast.Load())

    def callee(self, func):
        # a method call like x.sum(): the receiver becomes an atom, the method name stays
        if isinstance(func, gast.Attribute):
            return gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        return self.atom(func)

    # -- assignments ----------------------------------------------------------------

    def store(self, target, value, op=None):
        """``a[i] = v`` with atoms for ``i`` and ``v``; ``a[i] += v`` (and -=) stays an update of its own,
        which the adjoint undoes without saving anything; other operators read, compute, then store."""
        index = self.index(target.slice)
        place = gast.Subscript(value=trees.name(target.value.id), slice=index, ctx=gast.Store())
        if op is not None and not isinstance(op, (gast.Add, gast.Sub)):
            current = self.atom(
                gast.Subscript(value=trees.name(target.value.id), slice=trees.clone(index), ctx=gast.Load())
            )
            value = gast.BinOp(left=current, op=op, right=value)
            op = None
        if op is None:
            self.emit(gast.Assign(targets=[place], value=self.atom(value), type_comment=None))
        else:
            self.emit(gast.AugAssign(target=place, op=op, value=self.atom(value)))

    def assign(self, target, value):
        if isinstance(target, gast.Subscript):
            self.store(target, value)
            return
        if isinstance(target, gast.Tuple):
            self.unpack(target, value)
            return
        self.out.append(_assign(target.id, self.simple(value), self.origin))
        self.out.extend(self.holders.write(target.id, self.origin))

    def unpack(self, target, value):
        whole = None
        if isinstance(value, gast.Call):
            simple = self.simple(value)  # an inlined function may give a tuple display: unpack it directly
            if isinstance(simple, gast.Tuple) and len(simple.elts) == len(target.elts):
                value = simple
            else:
                whole = trees.name(self.temp())
                self.out.append(_assign(whole.id, simple, self.origin))
        if whole is None and isinstance(value, gast.Tuple) and len(value.elts) == len(target.elts):
            assigned = {t.id for t in target.elts}
            atoms = []
            for elt in value.elts:
                a = self.atom(elt)
                if isinstance(a, gast.Name) and a.id in assigned:
                    # a, b = b, a: read every right-hand side before writing any target
                    t = self.temp()
                    self.out.append(_assign(t, a, self.origin))
                    a = trees.name(t)
                atoms.append(a)
            for t, a in zip(target.elts, atoms):
                self.out.append(_assign(t.id, a, self.origin))
            return
        if whole is None:
            whole = self.atom(value)
        for i, t in enumerate(target.elts):
            part = gast.Subscript(value=trees.clone(whole), slice=trees.const(i), ctx=gast.Load())
            self.out.append(_assign(t.id, part, self.origin))

    def rebind(self, stmt):
        """``x op= y`` where ``x`` may share its object (``rebind`` lowered the others): a run-time
        guard refusing a shared list or array, then ``x = x op y``."""
        construct = "%s %s= ..." % (stmt.target.id, _OPERATOR_TEXT.get(type(stmt.op), "?"))
        loc = self.location(stmt)
        where = trees.place(loc)
        self.emit(
            gast.Expr(
                value=gast.Call(
                    func=trees.name("check_rebind"),
                    args=[trees.name(stmt.target.id), trees.const(construct)] + where,
                    keywords=[],
                )
            )
        )
        self.assign(stmt.target, gast.BinOp(left=trees.name(stmt.target.id), op=stmt.op, right=stmt.value))

    # -- loops ----------------------------------------------------------------------

    def checkpoint_marker(self, it):
        """The snapshot count (an atom) if ``it`` is ``checkpointed(...)``, else None."""
        if not (isinstance(it, gast.Call) and it.args and self.source is not None):
            return None
        if source_mod.global_value(it.func, self.source, self.locals) is not runtime.checkpointed:
            return None
        args = it.args[1:] + [k.value for k in it.keywords if k.arg == "snapshots"]
        return self.atom(args[0]) if args else trees.const(None)

    def loop_target(self, target, value):
        if not isinstance(target, (gast.Name, gast.Tuple)):
            raise UnsupportedError("loop target of this form", self.location(target))
        if isinstance(target, gast.Tuple) and not all(isinstance(e, gast.Name) for e in target.elts):
            raise UnsupportedError("nested loop target", self.location(target))
        self.assign(target, value)

    def walked(self, seq):
        """``reversed(xs)`` inside ``zip``, walked by index, is ``xs[::-1]`` (a range stays a range)."""
        if (
            isinstance(seq, gast.Call)
            and len(seq.args) == 1
            and not seq.keywords
            and self.source is not None
            and source_mod.global_value(seq.func, self.source, self.locals) is reversed
        ):
            step = gast.Slice(lower=None, upper=None, step=trees.const(-1))
            return gast.Subscript(value=seq.args[0], slice=step, ctx=gast.Load())
        return seq

    def loop_length(self, seq, stmt):
        """``len(seq)``, or where the user's file is known ``loop_length(seq, <location>)``, which refuses
        at run time what cannot be walked by index (a dict would give its values)."""
        if self.source is None:
            return trees.call("len", trees.clone(seq))
        return trees.call("loop_length", trees.clone(seq), *trees.place(self.location(stmt.iter)))

    def for_loop(self, stmt):
        it = stmt.iter
        snapshots = self.checkpoint_marker(it)
        if snapshots is not None:
            it = it.args[0]
        fn = None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals:
            fn = (
                self.source.env.get(it.func.id)
                if self.source
                else {"range": range, "enumerate": enumerate, "zip": zip}.get(it.func.id)
            )
        if fn is reversed and len(it.args) == 1 and not it.keywords and snapshots is None:
            # reversed(seq) walks seq[::-1] (a range stays a range): the loop below handles that form
            it = gast.Subscript(
                value=it.args[0], slice=gast.Slice(lower=None, upper=None, step=trees.const(-1)), ctx=gast.Load()
            )
            fn = None
        if fn is range and not it.keywords and isinstance(stmt.target, gast.Name):
            call = gast.Call(func=it.func, args=[self.atom(a) for a in it.args], keywords=[])
            if snapshots is not None:
                # kept as a marker around the range; reverse turns the loop into checkpointed steps
                call = gast.Call(func=trees.name(naming.CHECKPOINT_MARKER), args=[call, snapshots], keywords=[])
            body = self.nested(stmt.body)
            self.out.append(
                gast.copy_location(
                    gast.For(target=trees.clone(stmt.target), iter=call, body=body, orelse=[], type_comment=None), stmt
                )
            )
            return
        if snapshots is not None:
            raise UnsupportedError("checkpointed() around something other than range(...)", self.location(stmt.iter))
        # any other iterable is walked by index, so that the adjoint can address each element
        if fn is enumerate and len(it.args) == 1 and not it.keywords:
            if not (isinstance(stmt.target, gast.Tuple) and len(stmt.target.elts) == 2):
                raise UnsupportedError("enumerate without unpacking (i, x)", self.location(stmt.target))
            seqs = [self.atom(it.args[0])]
            index_name = stmt.target.elts[0]
            targets = [stmt.target.elts[1]]
        elif fn is zip and it.args and not it.keywords:
            if not (isinstance(stmt.target, gast.Tuple) and len(stmt.target.elts) == len(it.args)):
                raise UnsupportedError("zip without unpacking one name per sequence", self.location(stmt.target))
            seqs = [self.atom(self.walked(a)) for a in it.args]
            index_name = trees.name(self.temp(), True)
            targets = stmt.target.elts
        else:
            seqs = [self.atom(it)]
            index_name = trees.name(self.temp(), True)
            targets = [stmt.target]
        lengths = [self.atom(self.loop_length(s, stmt)) for s in seqs]
        n = lengths[0] if len(lengths) == 1 else self.atom(trees.call("min", *lengths))
        saved, self.out = self.out, []
        for seq, target in zip(seqs, targets):
            element = gast.Subscript(value=trees.clone(seq), slice=trees.name(index_name.id), ctx=gast.Load())
            self.loop_target(target, element)
        for s in stmt.body:
            self.statement(s)
        body, self.out = self.out, saved
        self.out.append(
            gast.copy_location(
                gast.For(
                    target=trees.name(index_name.id, True),
                    iter=trees.call("range", n),
                    body=body,
                    orelse=[],
                    type_comment=None,
                ),
                stmt,
            )
        )

    # -- statements -------------------------------------------------------------------

    def statement(self, stmt):
        self.origin = stmt
        before = len(self.out)
        self.statement_(stmt)
        returns = isinstance(stmt, gast.Return)  # nothing runs after it to read them
        if self.holders and not returns and any(self.holders.calls_user_code(s) for s in self.out[before:]):
            self.out.extend(self.holders.reads(self.origin))

    def statement_(self, stmt):
        if isinstance(stmt, (gast.Global, gast.Nonlocal)):
            return  # handled by reading at entry and writing through on assignment
        if isinstance(stmt, gast.Assign):
            if len(stmt.targets) == 1:
                self.assign(stmt.targets[0], stmt.value)
            else:
                first = self.atom(stmt.value)
                for target in stmt.targets:
                    self.assign(target, first)
        elif isinstance(stmt, gast.AnnAssign):
            self.assign(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Subscript):
            self.store(stmt.target, stmt.value, stmt.op)
        elif isinstance(stmt, gast.AugAssign):
            self.rebind(stmt)
        elif isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else trees.const(None)
            self.emit(gast.Return(value=self.atom(value)))
        elif isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return  # docstring or a bare constant: no effect
            value = self.simple(stmt.value)
            if not (isinstance(value, gast.Subscript) and isinstance(stmt.value, gast.Call)):
                self.emit(gast.Expr(value=value))  # a call in carrying form is assigned already
        elif isinstance(stmt, gast.Pass):
            return
        elif isinstance(stmt, gast.Assert):
            self.emit(trees.clone(stmt))
        elif isinstance(stmt, gast.If):
            # a name is immutable after SSA, so it can serve as the recorded decision itself
            cond = trees.clone(stmt.test) if isinstance(stmt.test, gast.Name) else self.record(stmt.test)
            body = self.nested(stmt.body)
            orelse = self.nested(stmt.orelse)
            if body or orelse:
                self.out.append(gast.copy_location(gast.If(test=cond, body=body, orelse=orelse), stmt))
        elif isinstance(stmt, gast.For):
            self.for_loop(stmt)
        elif isinstance(stmt, gast.While):
            loop = gast.While(test=trees.clone(stmt.test), body=self.nested(stmt.body), orelse=[])
            self.out.append(gast.copy_location(loop, stmt))
        elif isinstance(stmt, gast.Break):
            self.emit(gast.Break())
        else:
            raise UnsupportedError(type(stmt).__name__, self.location(stmt))
