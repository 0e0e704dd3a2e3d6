"""Desugar to A-normal form with structured control flow and no jumps.

Output invariant: the body is a list of statements, each one of
``name = <simple>``, ``<call>`` as an expression statement, ``assert ...``,
``if <name>: ... else: ...``, ``for <name> in range(<atoms>): ...``,
``while <test>: ...``, and one final ``return <atom>``. ``<simple>`` is an
atom, a unary or binary operation of atoms, a call whose arguments are atoms,
a tuple of atoms, a subscript ``a[i]`` of atoms, or a comparison; an atom is a
name, a constant or a module attribute (``np.pi``). Tests of ``while`` are
kept whole (they are never differentiated); ``if`` tests are recorded in a
``_cond`` name so the adjoint can replay the decision.

Augmented assignments, multiple targets, tuple unpacking, ``elif``,
conditional expressions, ``and``/``or`` values, ``for`` over sequences,
``enumerate`` and ``zip`` are gone. ``break``, ``continue`` and early
``return`` become flags and guards, plus one ``if <flag>: break`` as the last
statement of a loop body that can exit early. Each new statement keeps the
line of the statement it came from.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x, y):\\n    z = x * y + sin(x)\\n    z += 1\\n    return z * z").body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, y):
    _t1 = x * y
    _t2 = sin(x)
    z = _t1 + _t2
    z = z + 1
    _t3 = z * z
    return _t3
>>> fn = gast.parse("def f(x):\\n    for i in range(3):\\n        if x > 2:\\n            break\\n        x = x * 2\\n    return x").body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x):
    _break1 = False
    for i in range(3):
        _cond1 = x > 2
        if _cond1:
            _break1 = True
        _cond2 = not _break1
        if _cond2:
            x = x * 2
        if _break1:
            break
    return x
"""
import copy
import inspect
import weakref

import gast

from adjoint_compiler import effects, naming, rules, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError


def is_atom(node, local_names=None):
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
        return True  # a negative literal like -1
    if isinstance(node, gast.Attribute):
        # a module or global constant read, like np.pi; attributes of locals are operations
        root = node
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and local_names is not None and root.id not in local_names
    return False


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _const(value):
    return gast.Constant(value=value, kind=None)


def _assign(target, value, origin):
    stmt = gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)
    return gast.copy_location(stmt, origin)


def _if(test, body, orelse, origin):
    return gast.copy_location(gast.If(test=test, body=body, orelse=orelse), origin)


def _not(expr):
    return gast.UnaryOp(op=gast.Not(), operand=expr)


def _any(flags):
    names = [_name(f) for f in sorted(flags)]
    return names[0] if len(names) == 1 else gast.BoolOp(op=gast.Or(), values=names)


def _contains(stmts, kinds):
    for stmt in stmts:
        for node in gast.walk(stmt):
            if isinstance(node, kinds):
                return True
    return False


def _jumps_in(stmts, kind):
    """Whether ``stmts`` contain ``kind`` (Break/Continue) belonging to this loop level."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            return True
        if isinstance(node, (gast.For, gast.While)):
            stack.extend(node.orelse)  # a loop's else belongs to the enclosing level
            continue
        if isinstance(node, gast.If):
            stack.extend(node.body + node.orelse)
    return False


class _Loop:
    def __init__(self, brk, cont):
        self.brk = brk
        self.cont = cont


class _Jumps:
    """Lower break/continue/return into flags and guards (before A-normal form)."""

    def __init__(self, namer, source, early_return):
        self.namer = namer
        self.source = source
        self.ret = namer.fresh("_return{}") if early_return else None
        self.value = namer.fresh("_value{}") if early_return else None
        self.flag_used = False

    def block(self, stmts, loop, top=False):
        """Lowered ``stmts`` and the set of flags that may be set on leaving them.

        ``top``: ``stmts`` run to the end of the function, so nothing after them
        needs to know that a return happened.
        """
        out = []
        for i, stmt in enumerate(stmts):
            if top and self.returns_then_continues(stmt, loop):
                # if c: ...; return v   +   rest   ->   if c: ...; value = v   else: rest
                body, _ = self.block(stmt.body[:-1], loop)
                body.append(self.set_value(stmt.body[-1]))
                orelse, flags = self.block(stmt.orelse + stmts[i + 1:], loop, top=True)
                out.append(_if(stmt.test, body, orelse, stmt))
                return out, flags
            lowered, flags = self.statement(stmt, loop)
            out.extend(lowered)
            if flags:
                rest, rest_flags = self.block(stmts[i + 1:], loop, top)
                if rest:
                    out.append(_if(_not(_any(flags)), rest, [], stmts[i + 1]))
                return out, flags | rest_flags
        return out, set()

    def returns_then_continues(self, stmt, loop):
        return (self.ret is not None and loop is None and isinstance(stmt, gast.If) and stmt.body
                and isinstance(stmt.body[-1], gast.Return) and not _contains(stmt.body[:-1], gast.Return))

    def set_value(self, ret):
        value = ret.value if ret.value is not None else _const(None)
        return gast.copy_location(gast.Assign(targets=[_name(self.value, gast.Store())], value=value,
                                              type_comment=None), ret)

    def statement(self, stmt, loop):
        if isinstance(stmt, gast.Break):
            return [_assign(loop.brk, _const(True), stmt)], {loop.brk}
        if isinstance(stmt, gast.Continue):
            return [_assign(loop.cont, _const(True), stmt)], {loop.cont}
        if isinstance(stmt, gast.Return) and self.ret is not None:
            self.flag_used = True
            out = [self.set_value(stmt), _assign(self.ret, _const(True), stmt)]
            if loop is not None:
                out.append(_assign(loop.brk, _const(True), stmt))
                return out, {self.ret, loop.brk}
            return out, {self.ret}
        if isinstance(stmt, gast.If):
            body, f1 = self.block(stmt.body, loop)
            orelse, f2 = self.block(stmt.orelse, loop)
            return [_if(stmt.test, body, orelse, stmt)], f1 | f2
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, loop)
        return [stmt], set()

    def loop(self, stmt, outer):
        has_break = _jumps_in(stmt.body, gast.Break) or (self.ret is not None and _contains(stmt.body, gast.Return))
        has_continue = _jumps_in(stmt.body, gast.Continue)
        inner = _Loop(self.namer.fresh("_break{}") if has_break else None,
                      self.namer.fresh("_continue{}") if has_continue else None)
        body, flags = self.block(stmt.body, inner)
        pre = []
        if inner.cont:
            body.insert(0, _assign(inner.cont, _const(False), stmt))
        if inner.brk:
            pre.append(_assign(inner.brk, _const(False), stmt))
            body.append(_if(_name(inner.brk), [gast.copy_location(gast.Break(), stmt)], [], stmt))
        new = copy.copy(stmt)
        new.body = body
        new.orelse = []
        out = pre + [gast.copy_location(new, stmt)]
        flags = set()
        if stmt.orelse:  # runs when the loop was not left by break
            orelse, flags = self.block(stmt.orelse, outer)
            out.extend([_if(_not(_name(inner.brk)), orelse, [], stmt.orelse[0])] if inner.brk else orelse)
        if self.ret is not None and _contains(stmt.body, gast.Return):
            flags.add(self.ret)
            if outer is not None:
                out.append(_if(_name(self.ret), [_assign(outer.brk, _const(True), stmt)], [], stmt))
                flags.add(outer.brk)
        return out, flags

    def function(self, body):
        lowered, _ = self.block(body, None, top=True)
        if self.ret is None:
            return lowered
        init = [_assign(self.ret, _const(False), body[0])] if self.flag_used else []
        init.append(_assign(self.value, _const(None), body[0]))
        end = gast.copy_location(gast.Return(value=_name(self.value)), body[-1])
        return init + lowered + [end]


def _has_early_return(body):
    for i, stmt in enumerate(body):
        for node in gast.walk(stmt):
            if isinstance(node, gast.Return) and not (node is stmt and i == len(body) - 1):
                return True
    return False


_OPERATOR_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
                  gast.FloorDiv: "//", gast.Mod: "%", gast.MatMult: "@"}


def _non_fresh_stores(stmts):
    names = set()
    for node in (n for s in stmts for n in trees.walk(s)):
        if isinstance(node, gast.Assign) and not effects.fresh(node.value):
            names.update(t.id for t in node.targets if isinstance(t, gast.Name))
        elif isinstance(node, gast.For):
            names.update(n.id for n in gast.walk(node.target) if isinstance(n, gast.Name))
    return names


_INLINE_CACHE = weakref.WeakKeyDictionary()
_MISSING = object()


class _Normalizer:
    def __init__(self, fn, source):
        self.inlining = 0
        self.source = source
        self.locals = trees.local_names(fn)
        # names that may share their object with another name or the caller, statement by
        # statement: parameters and plain copies do; a fresh result (x = x * 2) does not
        self.may_alias = {a.id for a in fn.args.args}
        # global and nonlocal names: read from their holder (the user's module, or the closure's
        # cells) at entry and after calls, and written through to it on every assignment
        self.holder = {name: (source.module_alias if source is not None else "_module")
                       for n in trees.walk(fn) if isinstance(n, gast.Global) for name in n.names}
        self.holder.update((name, source.closure_alias if source is not None else "_closure")
                           for n in trees.walk(fn) if isinstance(n, gast.Nonlocal) for name in n.names)
        self.declared = set(self.holder)
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

    def atom(self, node):
        """Evaluate ``node`` into an atom, emitting temporaries for its parts."""
        if is_atom(node, self.locals):
            return node
        value = self.simple(node)
        name = self.temp()
        self.out.append(_assign(name, value, self.origin))
        return _name(name)

    def simple(self, node):
        """Rewrite ``node`` so that its immediate operands are atoms."""
        if is_atom(node, self.locals):
            return node
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        if isinstance(node, gast.UnaryOp):
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))
        if isinstance(node, gast.Call):
            func = node.func if is_atom(node.func, self.locals) else self.callee(node.func)
            args = [self.atom(a) for a in node.args]
            keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
            inlined = self.inline(node, func, args, keywords)
            if inlined is not None:
                return inlined
            return gast.Call(func=func, args=args, keywords=keywords)
        if isinstance(node, (gast.Tuple, gast.List)):
            return type(node)(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            if any(k is None or not isinstance(k, gast.Constant) for k in node.keys):
                raise UnsupportedError("dict display with keys that are not constants", self.location(node))
            return gast.Dict(keys=[trees.clone(k) for k in node.keys], values=[self.atom(v) for v in node.values])
        if isinstance(node, gast.Compare):
            return gast.Compare(left=self.atom(node.left), ops=node.ops,
                                comparators=[self.atom(c) for c in node.comparators])
        if isinstance(node, gast.Attribute):
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.Subscript):
            return gast.Subscript(value=self.atom(node.value), slice=self.index(node.slice), ctx=gast.Load())
        if isinstance(node, gast.IfExp):
            # a if c else b: only the taken side is evaluated, as in Python
            t = self.temp()
            cond = self.record(node.test)
            self.out.append(_if(cond, self.nested_expr(node.body, t), self.nested_expr(node.orelse, t), self.origin))
            return _name(t)
        if isinstance(node, gast.BoolOp):
            # a and b / a or b: short-circuit into an if, keeping which operand is the value
            t = self.temp()
            self.out.append(_assign(t, self.simple(node.values[0]), self.origin))
            for value in node.values[1:]:
                test = _name(t) if isinstance(node.op, gast.Or) else _not(_name(t))
                cond = self.record(test)
                rest = self.nested_expr(value, t)
                self.out.append(_if(cond, [], rest, self.origin))
            return _name(t)
        if isinstance(node, (gast.JoinedStr, gast.Constant)):
            return trees.clone(node)  # formatting is never differentiated
        raise UnsupportedError(type(node).__name__, self.location(node))

    def inline(self, node, func, args, keywords):
        """A call of a one-expression function (``def rhs(p, v): return v, -k * p``, or a lambda):
        its expression, with the arguments substituted, in place of the call.

        Cheaper than a call of the callee's vjp and its pullback, and as readable. Only
        when every global the expression reads means the same here as in the callee.
        """
        if self.source is None or self.inlining > 8 or not isinstance(func, (gast.Name, gast.Attribute)):
            return None
        try:
            fn = source_mod.static_value(func, self.source)
        except Exception:
            return None
        if not inspect.isfunction(fn) or rules.lookup(fn) is not None or fn.__code__.co_flags & 0x0C:
            return None
        key = fn
        if key not in _INLINE_CACHE:
            _INLINE_CACHE[key] = None
            try:
                src = source_mod.read(fn)
            except Exception:
                return None
            body = [s for s in src.tree.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
            if len(body) == 1 and isinstance(body[0], gast.Return) and body[0].value is not None \
                    and not src.tree.args.kwonlyargs and src.tree.args.vararg is None:
                _INLINE_CACHE[key] = (src, body[0].value)
        entry = _INLINE_CACHE[key]
        if entry is None:
            return None
        src, expr = entry
        params = [a.id for a in src.tree.args.args]
        for n in gast.walk(expr):
            if isinstance(n, (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp,
                              gast.NamedExpr, gast.Yield, gast.Await)):
                return None
            if isinstance(n, gast.Name) and n.id not in params:
                if n.id in self.locals or src.env.get(n.id, _MISSING) is not self.source.env.get(n.id, _MISSING):
                    return None  # a name that means something else here
        try:
            bound = inspect.signature(fn).bind(*args, **{k.arg: k.value for k in keywords})
        except TypeError:
            return None
        mapping = dict(bound.arguments)
        defaults = dict(zip(params[len(params) - len(src.tree.args.defaults):], src.tree.args.defaults))
        for p in params:
            if p not in mapping:
                if not isinstance(defaults.get(p), gast.Constant):
                    return None
                mapping[p] = defaults[p]
        inlined = trees.clone(expr)
        for n in trees.walk(inlined):
            for field, value in gast.iter_fields(n):
                if isinstance(value, gast.Name) and value.id in mapping:
                    setattr(n, field, trees.clone(mapping[value.id]))
                elif isinstance(value, list):
                    value[:] = [trees.clone(mapping[v.id]) if isinstance(v, gast.Name) and v.id in mapping else v
                                for v in value]
        for n in trees.walk(inlined):
            gast.copy_location(n, node)  # errors point at the call, in the caller's file
        if isinstance(inlined, gast.Name) and inlined.id in mapping:
            return inlined
        self.inlining += 1
        try:
            return self.simple(inlined)
        finally:
            self.inlining -= 1

    def index(self, node):
        """An index with atoms for parts: ``i``, ``1:n:2``, ``:, 0``, ``..., None``."""
        if isinstance(node, gast.Slice):
            return gast.Slice(lower=node.lower and self.atom(node.lower), upper=node.upper and self.atom(node.upper),
                              step=node.step and self.atom(node.step))
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node)

    def record(self, test):
        """Record a branch decision in a ``_cond`` name; the adjoint replays it."""
        name = self.namer.fresh(naming.COND)
        self.out.append(_assign(name, trees.clone(test), self.origin))
        return _name(name)

    def callee(self, func):
        # a method call like x.sum(): the receiver becomes an atom, the method name stays
        if isinstance(func, gast.Attribute):
            return gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        return self.atom(func)

    def store(self, target, value, op=None):
        """``a[i] = v`` with atoms for ``i`` and ``v``; ``a[i] += v`` (and -=) stays an update of its own,
        which the adjoint undoes without saving anything; other operators read, compute, then store."""
        index = self.index(target.slice)
        place = gast.Subscript(value=_name(target.value.id), slice=index, ctx=gast.Store())
        if op is not None and not isinstance(op, (gast.Add, gast.Sub)):
            current = self.atom(gast.Subscript(value=_name(target.value.id), slice=trees.clone(index), ctx=gast.Load()))
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
        self.write_global(target.id)

    def write_global(self, name):
        """After assigning a name declared global, write it through to the user's module."""
        if name in self.declared:
            store = gast.Attribute(value=_name(self.holder[name]), attr=name, ctx=gast.Store())
            self.out.append(gast.copy_location(gast.Assign(targets=[store], value=_name(name), type_comment=None),
                                               self.origin))

    def read_globals(self):
        """(Re)read every name declared global: at entry, and after calls that may change them."""
        for name in sorted(self.declared):
            read = gast.Attribute(value=_name(self.holder[name]), attr=name, ctx=gast.Load())
            self.out.append(_assign(name, read, self.origin))

    def calls_user_code(self, stmt):
        value = getattr(stmt, "value", None)
        if not isinstance(value, gast.Call) or self.source is None:
            return False
        root = value.func
        while isinstance(root, gast.Attribute):
            root = root.value
        if not isinstance(root, gast.Name) or root.id in self.locals:
            return True  # a method call: it could reach anything
        try:
            return inspect.isfunction(source_mod.static_value(value.func, self.source))
        except Exception:
            return True

    def unpack(self, target, value):
        whole = None
        if isinstance(value, gast.Call):
            simple = self.simple(value)  # an inlined function may give a tuple display: unpack it directly
            if isinstance(simple, gast.Tuple) and len(simple.elts) == len(target.elts):
                value = simple
            else:
                whole = _name(self.temp())
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
                    a = _name(t)
                atoms.append(a)
            for t, a in zip(target.elts, atoms):
                self.out.append(_assign(t.id, a, self.origin))
            return
        if whole is None:
            whole = self.atom(value)
        for i, t in enumerate(target.elts):
            part = gast.Subscript(value=trees.clone(whole), slice=_const(i), ctx=gast.Load())
            self.out.append(_assign(t.id, part, self.origin))

    def checkpoint_marker(self, it):
        """The snapshot count (an atom) if ``it`` is ``checkpointed(...)``, else None."""
        if not (isinstance(it, gast.Call) and it.args and self.source is not None):
            return None
        root = it.func
        while isinstance(root, gast.Attribute):
            root = root.value
        if not isinstance(root, gast.Name) or root.id in self.locals:
            return None
        try:
            fn = source_mod.static_value(it.func, self.source)
        except Exception:
            return None
        if fn is not runtime.checkpointed:
            return None
        args = it.args[1:] + [k.value for k in it.keywords if k.arg == "snapshots"]
        return self.atom(args[0]) if args else _const(None)

    def loop_target(self, target, value):
        if not isinstance(target, (gast.Name, gast.Tuple)):
            raise UnsupportedError("loop target of this form", self.location(target))
        if isinstance(target, gast.Tuple) and not all(isinstance(e, gast.Name) for e in target.elts):
            raise UnsupportedError("nested loop target", self.location(target))
        self.assign(target, value)

    def for_loop(self, stmt):
        it = stmt.iter
        snapshots = self.checkpoint_marker(it)
        if snapshots is not None:
            it = it.args[0]
        fn = None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals:
            fn = self.source.env.get(it.func.id) if self.source else {"range": range, "enumerate": enumerate,
                                                                          "zip": zip}.get(it.func.id)
        if fn is range and not it.keywords and isinstance(stmt.target, gast.Name):
            call = gast.Call(func=it.func, args=[self.atom(a) for a in it.args], keywords=[])
            if snapshots is not None:
                # kept as a marker around the range; reverse turns the loop into checkpointed steps
                call = gast.Call(func=_name(naming.CHECKPOINT_MARKER), args=[call, snapshots], keywords=[])
            body = self.nested(stmt.body)
            self.out.append(gast.copy_location(gast.For(target=trees.clone(stmt.target), iter=call, body=body,
                                                        orelse=[], type_comment=None), stmt))
            return
        if snapshots is not None:
            raise UnsupportedError("checkpointed() around something other than range(...)",
                                   self.location(stmt.iter))
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
            seqs = [self.atom(a) for a in it.args]
            index_name = _name(self.temp(), gast.Store())
            targets = stmt.target.elts
        else:
            seqs = [self.atom(it)]
            index_name = _name(self.temp(), gast.Store())
            targets = [stmt.target]
        lengths = [self.atom(gast.Call(func=_name("len"), args=[trees.clone(s)], keywords=[])) for s in seqs]
        n = lengths[0] if len(lengths) == 1 else self.atom(
            gast.Call(func=_name("min"), args=lengths, keywords=[]))
        saved, self.out = self.out, []
        for seq, target in zip(seqs, targets):
            element = gast.Subscript(value=trees.clone(seq), slice=_name(index_name.id), ctx=gast.Load())
            self.loop_target(target, element)
        for s in stmt.body:
            self.statement(s)
        body, self.out = self.out, saved
        call = gast.Call(func=_name("range"), args=[n], keywords=[])
        self.out.append(gast.copy_location(gast.For(target=_name(index_name.id, gast.Store()), iter=call, body=body,
                                                    orelse=[], type_comment=None), stmt))

    def statement(self, stmt):
        self.origin = stmt
        before = len(self.out)
        self.statement_(stmt)
        if isinstance(stmt, (gast.Assign, gast.AnnAssign)):
            self.track_aliases(stmt)
        if self.declared and any(self.calls_user_code(s) for s in self.out[before:]):
            self.read_globals()

    def track_aliases(self, stmt):
        if isinstance(stmt, (gast.Assign, gast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
            pairs = []
            for t in targets:
                if isinstance(t, gast.Tuple) and isinstance(stmt.value, gast.Tuple) and \
                        len(t.elts) == len(stmt.value.elts):
                    pairs += list(zip(t.elts, stmt.value.elts))  # a, b = b, a * b: element by element
                else:
                    pairs.append((t, stmt.value))
            for t, value in pairs:
                if isinstance(t, gast.Subscript):
                    continue  # a[i] = v changes a's contents, not what a is bound to
                names = {n.id for n in gast.walk(t) if isinstance(n, gast.Name)}
                if effects.fresh(value) and isinstance(t, gast.Name):
                    self.may_alias -= names
                else:
                    # b = a (or a view of a): both names now share one object
                    self.may_alias |= names | (trees.loads(value) & self.locals)
        elif isinstance(stmt, (gast.If, gast.For, gast.While)):
            # nested blocks: whatever any path may make shared stays shared afterwards
            self.may_alias |= _non_fresh_stores([stmt])

    def statement_(self, stmt):
        if isinstance(stmt, (gast.Global, gast.Nonlocal)):
            return  # handled by reading at entry and writing through on assignment
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            self.track_aliases(stmt)
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
            if stmt.target.id in self.may_alias:
                construct = "%s %s= ..." % (stmt.target.id, _OPERATOR_TEXT.get(type(stmt.op), "?"))
                loc = self.location(stmt)
                where = [_const(loc.filename), _const(loc.line), _const(loc.col)] if loc else \
                    [_const("<unknown>"), _const(0), _const(0)]
                self.emit(gast.Expr(value=gast.Call(func=_name("check_rebind"),
                                                    args=[_name(stmt.target.id), _const(construct)] + where,
                                                    keywords=[])))
            value = gast.BinOp(left=_name(stmt.target.id), op=stmt.op, right=stmt.value)
            self.assign(stmt.target, value)
        elif isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else _const(None)
            self.emit(gast.Return(value=self.atom(value)))
        elif isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return  # docstring or a bare constant: no effect
            self.emit(gast.Expr(value=self.simple(stmt.value)))
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


def run(fn, source):
    """Return a new FunctionDef in A-normal form; ``fn`` is not modified."""
    n = _Normalizer(fn, source)
    jumps = _Jumps(n.namer, source, _has_early_return(fn.body))
    n.read_globals()
    for stmt in jumps.function(trees.clone(fn.body)):
        n.statement(stmt)
    if not n.out or not isinstance(n.out[-1], gast.Return):
        n.origin = fn.body[-1] if fn.body else fn
        n.emit(gast.Return(value=gast.Constant(value=None, kind=None)))
    new = gast.FunctionDef(name=fn.name, args=trees.clone(fn.args), body=n.out, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return gast.copy_location(new, fn)
