"""Integer and truth-value constants propagated through SSA code, and the branches they decide removed.

A recursive call inlined with literal arguments (``power(x, 3)``, ``mutual_a(x, 5)``) leaves a chain of
``_t3 = 4``, ``_cond2 = _t3 == 0``, ``if _cond2: ... else: ...`` nested as deep as the recursion: code that
tests numbers known when compiling, and a reader who must follow every level to see which runs.

Output invariant: a name assigned once in the function (SSA: its one definition comes before every read)
from an int or bool literal, or from arithmetic and comparisons of such, is read as that literal (except
where a variable assigned on several paths copies it whole: SSA's joins stay copies); an ``if``
or conditional expression whose test is then a literal is replaced by the branch it takes, a ``while``
whose test is false by its ``else``. Only ints and bools are folded, and only operations Python computes
the same way here as when the function runs (no float arithmetic, no operation that raises: those stay).

>>> import gast
>>> from adjoint_compiler import emit
>>> src = "def f(x):\\n    n = 3\\n    c = n - 1 == 0\\n    if c:\\n        y = x\\n    else:\\n        y = x * n\\n"
>>> src += "    return y"
>>> print(emit.to_source(run(gast.parse(src).body[0])).strip())
def f(x):
    n = 3
    c = False
    y = x * 3
    return y
"""

import operator

import gast

from adjoint_compiler import trees

_BINARY = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
}
_COMPARE = {
    gast.Eq: operator.eq,
    gast.NotEq: operator.ne,
    gast.Lt: operator.lt,
    gast.LtE: operator.le,
    gast.Gt: operator.gt,
    gast.GtE: operator.ge,
}
_LIMIT = 2**62  # (a larger int is left to run time: no big numbers written into emitted code)
_BLOCKS = ("body", "orelse", "finalbody")
_ROUNDS = 8


def _literal(node):
    return node.__class__ is gast.Constant and type(node.value) in (int, bool) and abs(node.value) < _LIMIT


def run(fn):
    """Fold ``fn`` (an SSA function) in place, and return it."""
    candidates = False
    for s in trees.statements(fn):
        if s.__class__ is gast.Assign and (_literal(s.value) or _computed(s.value) is not None):
            candidates = True
            break
    if not candidates:  # (most functions: one walk of the statements)
        return fn
    for _ in range(_ROUNDS):  # again while a branch goes: a variable its join assigned may now be assigned once
        stores = {}
        for node in trees.walk(fn):
            if node.__class__ is gast.Name and node.ctx.__class__ is not gast.Load:  # Store, Param, Del
                stores[node.id] = stores.get(node.id, 0) + 1
        folder = _Folder({n for n, k in stores.items() if k == 1})
        fn.body = folder.block(fn.body) or [gast.Pass()]
        if not folder.pruned:
            break
    return fn


class _Folder:
    def __init__(self, once):
        self.once = once  # the names assigned once
        self.known = {}  # name -> its literal value
        self.pruned = False  # whether a branch went

    def block(self, stmts):
        out = []
        for s in stmts:
            cls = s.__class__
            if cls is gast.If or cls is gast.While:
                s.test = self.expr(s.test)
                taken = (s.body if s.test.value else s.orelse) if _literal(s.test) else None
                if taken is not None and (cls is gast.If or not s.test.value) and not _jumps(taken):
                    out.extend(self.block(taken))
                    self.pruned = True
                    continue
            elif cls is gast.Assign:
                target = s.targets[0]
                once = len(s.targets) == 1 and target.__class__ is gast.Name and target.id in self.once
                if once or s.value.__class__ is not gast.Name:  # (x_2 = x_1 where branches join stays a copy)
                    s.value = self.expr(s.value)
                if once:
                    if _literal(s.value):
                        self.known[target.id] = s.value.value
                else:
                    s.targets = [self.expr(t) for t in s.targets]
                out.append(s)
                continue
            for field in s._fields:
                value = getattr(s, field)
                if field in _BLOCKS or field == "handlers":
                    continue
                if isinstance(value, gast.expr):
                    setattr(s, field, self.expr(value))
                elif isinstance(value, list):
                    setattr(s, field, [self.expr(v) if isinstance(v, gast.expr) else v for v in value])
            for field in _BLOCKS:
                block = getattr(s, field, None)
                if isinstance(block, list) and block:
                    folded = self.block(block)
                    setattr(s, field, folded or ([gast.Pass()] if field == "body" else []))
            for handler in getattr(s, "handlers", None) or ():
                handler.body = self.block(handler.body) or [gast.Pass()]
            out.append(s)
        return out

    def expr(self, node):
        """``node`` with the known names read as literals and operations of literals computed."""
        cls = node.__class__
        if cls is gast.Name:
            if node.ctx.__class__ is gast.Load and node.id in self.known:
                return gast.copy_location(gast.Constant(value=self.known[node.id], kind=None), node)
            return node
        if cls is gast.Constant:
            return node
        if cls is gast.Lambda or cls is gast.FunctionDef:  # (its own scope: its parameters may be any name)
            return node
        for field in node._fields:
            value = getattr(node, field)
            if isinstance(value, gast.expr):
                setattr(node, field, self.expr(value))
            elif isinstance(value, list):
                setattr(node, field, [self.expr(v) if isinstance(v, gast.expr) else v for v in value])
        return _computed(node) or node


def _jumps(stmts):
    """Whether ``stmts`` break or continue a loop around them: the loops' passes take ``if flag: break`` (jumps.py)
    as it is, never a bare jump."""
    for s in stmts:
        if s.__class__ in (gast.Break, gast.Continue):
            return True
        if s.__class__ not in (gast.For, gast.While) and any(
            _jumps(getattr(s, field)) for field in _BLOCKS if isinstance(getattr(s, field, None), list)
        ):
            return True
    return False


def _computed(node):
    """The literal ``node`` computes when its operands are literals (None where it does not, or may raise)."""
    cls = node.__class__
    try:
        if cls is gast.BinOp and node.op.__class__ in _BINARY and _literal(node.left) and _literal(node.right):
            value = _BINARY[node.op.__class__](node.left.value, node.right.value)
        elif cls is gast.Compare and _literal(node.left) and all(map(_literal, node.comparators)):
            value, left = True, node.left.value
            for op, right in zip(node.ops, node.comparators):
                if op.__class__ not in _COMPARE:
                    return None
                value = value and _COMPARE[op.__class__](left, right.value)
                left = right.value
        elif cls is gast.UnaryOp and _literal(node.operand) and node.op.__class__ in (gast.Not, gast.USub):
            value = (not node.operand.value) if node.op.__class__ is gast.Not else -node.operand.value
        elif cls is gast.BoolOp and all(map(_literal, node.values)):
            values = [v.value for v in node.values]
            value = values[0]
            for v in values[1:]:
                value = (value and v) if node.op.__class__ is gast.And else (value or v)
        elif cls is gast.IfExp and _literal(node.test):
            return node.body if node.test.value else node.orelse
        else:
            return None
    except ArithmeticError:  # (1 // 0: raised when the function runs, as Python would)
        return None
    if type(value) not in (int, bool) or abs(value) >= _LIMIT:
        return None
    return gast.copy_location(gast.Constant(value=value, kind=None), node)
