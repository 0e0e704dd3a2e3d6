"""Desugar to A-normal form: one operation per assignment, operands are names or constants.

Output invariant: every statement of the body is one of
``name = <simple>``, ``<call>`` as an expression statement, ``assert ...``, or a
final ``return <atom>``; where ``<simple>`` is an atom, a unary or binary
operation of atoms, a call whose arguments are atoms, a tuple of atoms, or a
comparison; an atom is a name, a constant or a module attribute (``np.pi``).
Augmented assignments, multiple targets and tuple unpacking are gone.
Each new statement keeps the line of the statement it came from.

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
"""
import copy

import gast

from adjoint_compiler import naming
from adjoint_compiler.errors import UnsupportedError


def is_atom(node, local_names=None):
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.Attribute):
        # a module or global constant read, like np.pi; attributes of locals are operations
        root = node
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and local_names is not None and root.id not in local_names
    return False


def all_names(tree):
    return {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}


def local_names(fn):
    names = {a.id for a in fn.args.args}
    for node in gast.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            names.add(node.id)
    return names


def _name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def _assign(target, value, origin):
    stmt = gast.Assign(targets=[_name(target, gast.Store())], value=value, type_comment=None)
    return gast.copy_location(stmt, origin)


class _Normalizer:
    def __init__(self, fn, source):
        self.source = source
        self.locals = local_names(fn)
        self.namer = naming.Namer(all_names(fn))
        self.out = []
        self.origin = fn

    def temp(self):
        return self.namer.fresh(naming.TEMP)

    def emit(self, stmt):
        self.out.append(gast.copy_location(stmt, self.origin))

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
            return gast.Call(func=func, args=args, keywords=keywords)
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Compare):
            return gast.Compare(left=self.atom(node.left), ops=node.ops,
                                comparators=[self.atom(c) for c in node.comparators])
        if isinstance(node, gast.Attribute):
            return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.JoinedStr):
            return copy.deepcopy(node)  # formatting is never differentiated
        raise UnsupportedError(type(node).__name__, self.source.location(node) if self.source else None)

    def callee(self, func):
        # a method call like x.sum(): the receiver becomes an atom, the method name stays
        if isinstance(func, gast.Attribute):
            return gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        return self.atom(func)

    def assign(self, target, value):
        if isinstance(target, gast.Tuple):
            self.unpack(target, value)
            return
        self.out.append(_assign(target.id, self.simple(value), self.origin))

    def unpack(self, target, value):
        if not (isinstance(value, gast.Tuple) and len(value.elts) == len(target.elts)):
            raise UnsupportedError("tuple unpacking of a value that is not a tuple display",
                                   self.source.location(value) if self.source else None)
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

    def statement(self, stmt):
        self.origin = stmt
        if isinstance(stmt, gast.Assign):
            if len(stmt.targets) == 1:
                self.assign(stmt.targets[0], stmt.value)
            else:
                first = self.atom(stmt.value)
                for target in stmt.targets:
                    self.assign(target, first)
        elif isinstance(stmt, gast.AnnAssign):
            self.assign(stmt.target, stmt.value)
        elif isinstance(stmt, gast.AugAssign):
            value = gast.BinOp(left=_name(stmt.target.id), op=stmt.op, right=stmt.value)
            self.assign(stmt.target, value)
        elif isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else gast.Constant(value=None, kind=None)
            self.emit(gast.Return(value=self.atom(value)))
        elif isinstance(stmt, gast.Expr):
            if isinstance(stmt.value, gast.Constant):
                return  # docstring or a bare constant: no effect
            self.emit(gast.Expr(value=self.simple(stmt.value)))
        elif isinstance(stmt, gast.Pass):
            return
        elif isinstance(stmt, gast.Assert):
            self.emit(copy.deepcopy(stmt))
        else:
            raise UnsupportedError(type(stmt).__name__, self.source.location(stmt) if self.source else None)


def run(fn, source):
    """Return a new FunctionDef in A-normal form; ``fn`` is not modified."""
    n = _Normalizer(fn, source)
    for stmt in fn.body:
        n.statement(stmt)
    if not n.out or not isinstance(n.out[-1], gast.Return):
        n.origin = fn.body[-1] if fn.body else fn
        n.emit(gast.Return(value=gast.Constant(value=None, kind=None)))
    new = gast.FunctionDef(name=fn.name, args=copy.deepcopy(fn.args), body=n.out, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    return gast.copy_location(new, fn)
