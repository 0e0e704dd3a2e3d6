"""Lower ``break``, ``continue`` and early ``return`` into flags and guards (as AutoGraph does).

Output invariant: no ``continue``, no ``else`` on a loop, and exactly one
``return``, the last statement of the body (``return None`` is written out
where the function ends without one). A ``break`` remains only as the last
statement of a loop body that can be left early, in ``if <flag>: break``.
Statements after a jump run under ``if not <flag>:``; an early return stores
its value in a ``_value`` name and sets a ``_return`` flag. Each new statement
keeps the line of the statement it came from.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse('''
... def f(x):
...     for i in range(3):
...         if x > 2:
...             break
...         x = x * 2
...     return x''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x):
    _break1 = False
    for i in range(3):
        if x > 2:
            _break1 = True
        if not _break1:
            x = x * 2
        if _break1:
            break
    return x
>>> fn = gast.parse('''
... def f(x):
...     if x > 0:
...         return x
...     y = -x''').body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x):
    _value1 = None
    if x > 0:
        _value1 = x
    else:
        y = -x
    return _value1
"""

import copy

import gast

from adjoint_compiler import naming, trees


def run(fn, source):
    """Return a new FunctionDef whose only jump is ``if <flag>: break`` at the end of a loop body."""
    early_return = _has_early_return(fn.body)
    namer = naming.LazyNamer(lambda: trees.all_names(fn))  # (fn is not changed: the body is a copy)
    body = _Jumps(namer, early_return).function(trees.clone(fn.body))
    if not early_return and not (body and isinstance(body[-1], gast.Return)):
        # the one exit, written out
        body.append(gast.copy_location(gast.Return(value=trees.const(None)), fn.body[-1] if fn.body else fn))
    return trees.with_body(fn, body)


def _assign(target, value, origin):
    return gast.copy_location(trees.assign(target, value), origin)


def _if(test, body, orelse, origin):
    return gast.copy_location(gast.If(test=test, body=body, orelse=orelse), origin)


def _any(flags):
    names = [trees.name(f) for f in sorted(flags)]
    return names[0] if len(names) == 1 else gast.BoolOp(op=gast.Or(), values=names)


def _contains(stmts, kinds):
    for stmt in stmts:
        for node in trees.breadth_first(stmt):
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


def _has_early_return(body):
    for i, stmt in enumerate(body):
        for node in trees.statements(stmt):  # (a return is a statement: the expressions are not walked)
            if isinstance(node, gast.Return) and not (node is stmt and i == len(body) - 1):
                return True
    return False


class _Loop:
    def __init__(self, brk, cont):
        self.brk = brk
        self.cont = cont


class _Jumps:
    """Lower break/continue/return into flags and guards."""

    def __init__(self, namer, early_return):
        self.namer = namer
        self.ret = namer.fresh(naming.RETURN_FLAG) if early_return else None
        self.value = namer.fresh(naming.RETURN_VALUE) if early_return else None
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
                orelse, flags = self.block(stmt.orelse + stmts[i + 1 :], loop, top=True)
                out.append(_if(stmt.test, body, orelse, stmt))
                return out, flags
            lowered, flags = self.statement(stmt, loop)
            out.extend(lowered)
            if flags:
                rest, rest_flags = self.block(stmts[i + 1 :], loop, top)
                if rest:
                    out.append(_if(trees.negate(_any(flags)), rest, [], stmts[i + 1]))
                return out, flags | rest_flags
        return out, set()

    def returns_then_continues(self, stmt, loop):
        return (
            self.ret is not None
            and loop is None
            and isinstance(stmt, gast.If)
            and stmt.body
            and isinstance(stmt.body[-1], gast.Return)
            and not _contains(stmt.body[:-1], gast.Return)
        )

    def set_value(self, ret):
        return _assign(self.value, ret.value if ret.value is not None else trees.const(None), ret)

    def statement(self, stmt, loop):
        if isinstance(stmt, gast.Break):
            return [_assign(loop.brk, trees.const(True), stmt)], {loop.brk}
        if isinstance(stmt, gast.Continue):
            return [_assign(loop.cont, trees.const(True), stmt)], {loop.cont}
        if isinstance(stmt, gast.Return) and self.ret is not None:
            self.flag_used = True
            out = [self.set_value(stmt), _assign(self.ret, trees.const(True), stmt)]
            if loop is not None:
                out.append(_assign(loop.brk, trees.const(True), stmt))
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
        inner = _Loop(
            self.namer.fresh(naming.BREAK_FLAG) if has_break else None,
            self.namer.fresh(naming.CONTINUE_FLAG) if has_continue else None,
        )
        body, flags = self.block(stmt.body, inner)
        pre = []
        if inner.cont:
            body.insert(0, _assign(inner.cont, trees.const(False), stmt))
        if inner.brk:
            pre.append(_assign(inner.brk, trees.const(False), stmt))
            body.append(_if(trees.name(inner.brk), [gast.copy_location(gast.Break(), stmt)], [], stmt))
        new = copy.copy(stmt)
        new.body = body
        new.orelse = []
        out = pre + [gast.copy_location(new, stmt)]
        flags = set()
        if stmt.orelse:  # runs when the loop was not left by break
            orelse, flags = self.block(stmt.orelse, outer)
            out.extend([_if(trees.negate(trees.name(inner.brk)), orelse, [], stmt.orelse[0])] if inner.brk else orelse)
        if self.ret is not None and _contains(stmt.body, gast.Return):
            flags.add(self.ret)
            if outer is not None:
                out.append(_if(trees.name(self.ret), [_assign(outer.brk, trees.const(True), stmt)], [], stmt))
                flags.add(outer.brk)
        return out, flags

    def function(self, body):
        lowered, _ = self.block(body, None, top=True)
        if self.ret is None:
            return lowered
        init = [_assign(self.ret, trees.const(False), body[0])] if self.flag_used else []
        init.append(_assign(self.value, trees.const(None), body[0]))
        end = gast.copy_location(gast.Return(value=trees.name(self.value)), body[-1])
        return init + lowered + [end]
