"""Structured static single assignment: a fresh version per assignment, explicit merges.

Output invariant: in straight-line code every local name is assigned once; a
reassigned variable ``x`` becomes ``x_1``, ``x_2``, ... (skipping names the
user already uses) and every read refers to the version live at that point.
Parameters keep their names. Control flow stays structured:

- after ``if``, a variable assigned in an arm gets one merge name, assigned
  at the end of each arm that defines it;
- a loop-carried variable gets one header name, assigned before the loop
  (``None`` if it had no value yet) and again as the last assignments of the
  body (before a final ``if <flag>: break``); the body and the ``while``
  test read the header name, and so does the code after the loop.

Header names are the only names assigned both inside and outside a loop
body. The result is still runnable Python that behaves like the input.

>>> import gast
>>> from adjoint_compiler import emit, normalize
>>> src = "def f(x, n):\\n    y = x\\n    for i in range(n):\\n        y = y * x\\n    return y"
>>> print(emit.to_source(run(normalize.run(gast.parse(src).body[0], None), None)).strip())
def f(x, n):
    y = x
    y_1 = y
    for i in range(n):
        y_2 = y_1 * x
        y_1 = y_2
    return y_1
"""

import copy

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler.errors import InternalError


_name = trees.name


def _assign(target, value, origin):
    return gast.copy_location(gast.Assign(targets=[_name(target, True)], value=value, type_comment=None), origin)


def _merge(target, source):
    # merges and loop headers have no source line of their own: no comment quotes them
    return gast.Assign(targets=[_name(target, True)], value=source, type_comment=None)


def _stores(stmts):
    return {
        n.id
        for s in stmts
        for n in trees.breadth_first(s)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    }


_loads = trees.loads


def _exposed(stmts, defined):
    """Names read in ``stmts`` before any assignment to them on some path (upward-exposed)."""
    exposed = set()
    defined = set(defined)
    for s in stmts:
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            exposed |= _loads(s.value) - defined
            defined.add(s.targets[0].id)
        elif isinstance(s, gast.If):
            exposed |= _loads(s.test) - defined
            exposed |= _exposed(s.body, defined) | _exposed(s.orelse, defined)
            defined |= trees.definite(s.body) & trees.definite(s.orelse)
        elif isinstance(s, (gast.For, gast.While)):
            head = s.iter if isinstance(s, gast.For) else s.test
            exposed |= _loads(head) - defined
            inner = defined | ({s.target.id} if isinstance(s, gast.For) else set())
            exposed |= _exposed(s.body, inner)
        else:
            exposed |= _loads(s) - defined
    return exposed


class _Renamer:
    def __init__(self, fn):
        self.fn = fn
        self.namer = naming.LazyNamer(lambda: trees.all_names(fn))  # (fn is not changed: the result is new)
        self.defined = set()

    def new_version(self, name):
        if name not in self.defined:
            self.defined.add(name)
            self.namer.reserve(name)
            return name
        return self.namer.fresh(naming.VERSION, name)

    def load(self, node, env):
        """A copy of expression ``node`` whose reads refer to their live versions."""
        return trees.reads_renamed(node, env)

    def block(self, stmts, env):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Name):
                # a write to the user's module (a global), or an element store a[i] = v: a[i] = v
                # changes a's contents, not its binding, so it makes no new version of a
                new = gast.Assign(
                    targets=[self.load(stmt.targets[0], env)], value=self.load(stmt.value, env), type_comment=None
                )
                out.append(gast.copy_location(new, stmt))
            elif isinstance(stmt, gast.AugAssign):
                out.append(gast.copy_location(self.load(stmt, env), stmt))
            elif isinstance(stmt, gast.Assign):
                value = self.load(stmt.value, env)
                version = self.new_version(stmt.targets[0].id)
                env[stmt.targets[0].id] = version
                out.append(_assign(version, value, stmt))
            elif isinstance(stmt, (gast.Expr, gast.Return, gast.Assert, gast.Break)):
                out.append(gast.copy_location(self.load(stmt, env), stmt))
            elif isinstance(stmt, gast.If):
                out.append(self.if_(stmt, env))
            elif isinstance(stmt, (gast.For, gast.While)):
                out.extend(self.loop(stmt, env))
            else:
                raise InternalError("ssa: unexpected statement %s" % type(stmt).__name__)
        return out

    def if_(self, stmt, env):
        test = self.load(stmt.test, env)
        then_env, else_env = dict(env), dict(env)
        body = self.block(stmt.body, then_env)
        orelse = self.block(stmt.orelse, else_env)
        for v in sorted(set(then_env) | set(else_env)):
            if then_env.get(v) == else_env.get(v):
                continue
            merged = self.new_version(v)
            # a name left unassigned on one path gets None there: Python would fail on reading it
            # there, and this way later merges never copy an unbound name
            none = gast.Constant(value=None, kind=None)
            body.append(_merge(merged, _name(then_env[v]) if v in then_env else none))
            orelse.append(_merge(merged, _name(else_env[v]) if v in else_env else trees.clone(none)))
            env[v] = merged
        return gast.copy_location(gast.If(test=test, body=body, orelse=orelse), stmt)

    def loop(self, stmt, env):
        is_for = isinstance(stmt, gast.For)
        target = stmt.target.id if is_for else None
        assigned = _stores(stmt.body)
        outside = self.reads_outside(stmt)
        head = [stmt] if not is_for else []
        exposed = _exposed(head + list(stmt.body), {target} if target else set())
        carried = sorted(v for v in assigned if v in env or v in exposed or v in outside)
        pre = []
        headers = {}
        for v in carried:
            h = self.new_version(v)
            pre.append(_merge(h, _name(env[v]) if v in env else gast.Constant(value=None, kind=None)))
            headers[v] = h
        if is_for:
            iter_ = self.load(stmt.iter, env)
        body_env = dict(env)
        body_env.update(headers)
        last = None
        if is_for and target in outside:
            # read after the loop: it keeps its value from before when the loop runs no iteration
            last = self.new_version(target)
            pre.append(_merge(last, _name(env[target]) if target in env else gast.Constant(value=None, kind=None)))
        if is_for:
            t = self.new_version(target)
            body_env[target] = t
            new = gast.For(target=_name(t, True), iter=iter_, body=None, orelse=[], type_comment=None)
        else:
            new = gast.While(test=self.load(stmt.test, body_env), body=None, orelse=[])
        body_stmts = list(stmt.body)
        exit_check = body_stmts.pop() if body_stmts and trees.is_exit_check(body_stmts[-1]) else None
        body = self.block(body_stmts, body_env)
        for v in carried:
            if body_env[v] != headers[v]:
                body.append(_merge(headers[v], _name(body_env[v])))
        if last is not None:
            body.append(_merge(last, _name(t)))
        if exit_check is not None:
            body.append(gast.copy_location(self.load(exit_check, body_env), exit_check))
        new.body = body
        env.update(headers)
        if is_for:
            env[target] = t if last is None else last
        return pre + [gast.copy_location(new, stmt)]

    def reads_outside(self, loop):
        # the original tree is not SSA yet, so a read anywhere else may see the loop's value
        inside = {id(n) for n in trees.breadth_first(loop)}
        return {
            n.id
            for n in trees.breadth_first(self.fn)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and id(n) not in inside
        }


def run(fn, source, copy_=True):
    """Return a new FunctionDef in SSA form; ``fn`` is not modified (with ``copy_=False`` its statements may be
    put in the new one: the pipeline, which keeps no other use of them, saves the copy)."""
    if not copy_ and _renames_nothing(fn):
        # (each statement as ``_Renamer.block`` writes it, but with its own expressions: every version is
        # the name itself, so the copy it reads them through would be a clone)
        new = copy.copy(fn)
        new.body = [_same_version(stmt) for stmt in fn.body]
        return new
    r = _Renamer(fn)
    env = {}
    for a in fn.args.args:
        r.defined.add(a.id)
        env[a.id] = a.id
    new = copy.copy(fn)
    new.body = r.block(fn.body, env)
    return new


def _renames_nothing(fn):
    """Whether ``_Renamer`` would keep every name as it is: no branch or loop (no merge, no header), each name
    assigned by one statement (its first version is the name itself) and no parameter assigned."""
    assigned = {a.id for a in fn.args.args}  # (``_Renamer``'s ``defined`` at the start)
    for stmt in fn.body:
        kind = stmt.__class__
        if kind is gast.Assign:
            target = stmt.targets[0]
            if target.__class__ is gast.Name:
                if target.id in assigned:
                    return False
                assigned.add(target.id)
        elif kind not in (gast.Expr, gast.Return, gast.Assert, gast.AugAssign):
            return False
    return True


def _same_version(stmt):
    """``stmt`` as ``_Renamer.block`` writes it where no name is renamed, its expressions not copied."""
    if stmt.__class__ is not gast.Assign:
        return stmt
    target = stmt.targets[0]
    if target.__class__ is gast.Name:
        return _assign(target.id, stmt.value, stmt)
    return gast.copy_location(gast.Assign(targets=[target], value=stmt.value, type_comment=None), stmt)


def loop_headers(fn):
    """For each loop (by id), its header names: assigned at the top level of its body and outside it."""
    headers = {}
    stores = None  # the function's stored names, once: walked only where it has a loop
    for loop in trees.statements(fn):
        if isinstance(loop, (gast.For, gast.While)):
            if stores is None:
                stores = [n for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
            inside = {id(n) for n in trees.walk(loop)}
            outer = {n.id for n in stores if id(n) not in inside}
            top = {
                s.targets[0].id for s in loop.body if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
            }
            headers[id(loop)] = top & outer
    return headers
