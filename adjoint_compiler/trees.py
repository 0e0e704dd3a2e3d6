"""Small gast helpers shared by the passes: node builders, code quoted with holes (``quote``), a fast
copy, name sets and def-use queries.

Invariant: no helper changes the tree it is given, except ``rename``, ``become`` and
``substitute``, which say "in place"; builders return fresh nodes (``quote``
puts the lists of nodes it is given in as they are).

>>> fn = gast.parse("def f(a):\\n    b = a + 1\\n    a[0] = b\\n    return b").body[0]
>>> sorted(local_names(fn)), assigned_name(fn.body[0]), stored_into(fn.body[1])
(['a', 'b'], 'b', 'a')
>>> copy = clone(fn)
>>> rename([copy], {"b": "c"})
>>> assigned_name(copy.body[0]), assigned_name(fn.body[0])  # the copy was renamed, the original was not
('c', 'b')
"""

import ast
import collections
import os
import sys
import textwrap

import gast
import gast.ast3

from adjoint_compiler import naming
from adjoint_compiler.errors import InternalError


# the builders below fill a new node's fields as ``gast``'s constructor does (its keyword arguments, in this
# order), without its generic code: they make most of the nodes of a compilation (issue #14)
_Name, _Constant, _Assign, _Load, _Store = gast.Name, gast.Constant, gast.Assign, gast.Load, gast.Store


def name(id_, store=False):
    node = _Name.__new__(_Name)
    ctx = _Store if store else _Load
    d = node.__dict__
    d["id"], d["ctx"], d["annotation"], d["type_comment"] = id_, ctx.__new__(ctx), None, None
    return node


def const(value):
    node = _Constant.__new__(_Constant)
    d = node.__dict__
    d["value"], d["kind"] = value, None
    return node


def assign(target, value):
    node = _Assign.__new__(_Assign)
    d = node.__dict__
    d["targets"], d["value"], d["type_comment"] = [name(target, True)], value, None
    return node


def call(fn_name, *args):
    return gast.Call(func=name(fn_name), args=list(args), keywords=[])


_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
# the expression contexts: nodes without fields or locations (``_copied`` makes a new one of the class)
_CONTEXTS = frozenset((gast.Load, gast.Store, gast.Del, gast.Param))


def become(node, new):
    """Turn ``node`` into ``new`` in place (its parent keeps pointing at it)."""
    node.__class__ = new.__class__
    node.__dict__.clear()
    node.__dict__.update(new.__dict__)


def clone(node):
    """A deep copy of a gast tree (several times faster than copy.deepcopy on ASTs): each field and each
    location that is not None, no other attribute."""
    cls = node.__class__
    if cls is list:
        return [clone(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    return _copied(node, cls, clone, None)


def _copied(node, cls, copy, mapping):
    """A copy of AST ``node`` (of class ``cls``), each field ``copy(value)`` (``copy(value, mapping)``
    where ``mapping`` is not None); a Name's context, which has no fields, is copied here (most nodes are
    names: one call less each)."""
    new = cls.__new__(cls)
    d, nd = node.__dict__, new.__dict__
    if cls is _Name and d.get("annotation", 0) is None and d.get("type_comment", 0) is None and "id" in d:
        ctx = d.get("ctx").__class__  # (half the nodes: the loop below, unrolled for a name's usual fields)
        if ctx in _CONTEXTS:
            nd["id"], nd["ctx"], nd["annotation"], nd["type_comment"] = d["id"], ctx.__new__(ctx), None, None
            if len(d) > 4:  # (a location)
                for attr in _LOCATION:
                    value = d.get(attr)
                    if value is not None:
                        nd[attr] = value
            return new
    for field in cls._fields:
        value = d[field] if field in d else getattr(node, field, None)
        kind = value.__class__
        if value is None or kind is str or kind is int:
            nd[field] = value
        elif kind in _CONTEXTS:
            nd[field] = kind.__new__(kind)
        elif mapping is None:
            nd[field] = copy(value)
        else:
            nd[field] = copy(value, mapping)
    for attr in _LOCATION:
        value = d.get(attr)
        if value is not None:
            nd[attr] = value
    return new


def substituted(node, mapping):
    """A copy of ``node`` (as ``clone``) with each name that ``mapping`` maps, ``node`` itself included, replaced
    by a copy of its value; the values put in are not searched. One walk, where substituting into a clone
    would take two."""
    cls = node.__class__
    if cls is list:
        return [substituted(n, mapping) for n in node]
    if not isinstance(node, gast.AST):
        return node
    if cls is gast.Name and node.id in mapping:
        return clone(mapping[node.id])
    return _copied(node, cls, substituted, mapping)


def reads_renamed(node, mapping):
    """A copy of ``node`` (as ``clone``) in which each name read (``Load``) that ``mapping`` maps reads its
    value (a name) instead: copying and renaming in one walk, where renaming a clone would take two."""
    cls = node.__class__
    if cls is list:
        return [reads_renamed(n, mapping) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = _copied(node, cls, reads_renamed, mapping)
    if cls is gast.Name and new.id in mapping and new.ctx.__class__ is gast.Load:
        new.id = mapping[new.id]
    return new


def definite(stmts):
    """Names certainly assigned after running ``stmts`` (in every arm of an if; loops may not run)."""
    out = set()
    for s in stmts:
        if isinstance(s, gast.Assign):
            out |= {
                n.id for n in breadth_first(s.targets[0]) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
            }
        elif isinstance(s, gast.If):
            out |= definite(s.body) & definite(s.orelse)
    return out


def is_exit_check(stmt):
    """``if <flag>: break``: the last statement of a loop body that can be left early."""
    return isinstance(stmt, gast.If) and len(stmt.body) == 1 and isinstance(stmt.body[0], gast.Break)


def loads(*nodes):
    """Names read anywhere in ``nodes``."""
    return {
        n.id for node in nodes for n in breadth_first(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    }


# fields that never hold a node: identifiers, flags, a constant's value (the walks below skip them, issue #14:
# a third of a walk's getattr calls; what they yield, and in what order, is the same)
_LEAF_FIELDS = frozenset(("id", "attr", "type_comment", "kind", "conversion", "is_async", "simple"))
# how an operator is spelled (messages: ``x += ...``, ``a < b`` of an object)
OPERATOR_SYMBOLS = {
    gast.Add: "+",
    gast.Sub: "-",
    gast.Mult: "*",
    gast.Div: "/",
    gast.FloorDiv: "//",
    gast.Mod: "%",
    gast.Pow: "**",
    gast.MatMult: "@",
    gast.Lt: "<",
    gast.LtE: "<=",
    gast.Gt: ">",
    gast.GtE: ">=",
    gast.Eq: "==",
    gast.NotEq: "!=",
    gast.USub: "-",
    gast.UAdd: "+",
}

_LEAF_FIELDS_OF = {"Constant": ("value",), "FunctionDef": ("name",), "Global": ("names",), "Nonlocal": ("names",)}
_NODE_FIELDS = {}  # node class -> its fields that may hold a node


def _node_fields(cls):
    skip = _LEAF_FIELDS_OF.get(cls.__name__, ())
    fields = _NODE_FIELDS[cls] = tuple(f for f in cls._fields if f not in _LEAF_FIELDS and f not in skip)
    return fields


def walk(root):
    """Every node under ``root`` (any order); a faster gast.walk for whole-function scans."""
    AST, Name = gast.AST, gast.Name
    stack = [root]
    pop, push = stack.pop, stack.append
    table = _NODE_FIELDS
    while stack:
        node = pop()
        yield node
        cls = node.__class__
        if cls is Name and getattr(node, "annotation", None) is None:
            ctx = getattr(node, "ctx", None)
            if isinstance(ctx, AST):  # (the order of the loop below: a context has no children)
                yield ctx
            continue
        fields = table.get(cls)
        if fields is None:
            fields = _node_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)


def size(root):
    """How many nodes ``walk(root)`` yields, counted without its generator (``optimize`` bounds the
    expressions it fuses by it)."""
    AST, Name = gast.AST, gast.Name
    count = 0
    stack = [root]
    pop, push = stack.pop, stack.append
    table = _NODE_FIELDS
    while stack:
        node = pop()
        count += 1
        cls = node.__class__
        if cls is Name and getattr(node, "annotation", None) is None:
            if isinstance(getattr(node, "ctx", None), AST):
                count += 1
            continue
        fields = table.get(cls)
        if fields is None:
            fields = _node_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    return count


def kinds(root):
    """``(classes, attributes)``: the classes of the nodes ``walk(root)`` yields and the names of its attributes
    (``x.append``: "append"), in one loop without walk's generator. A pass that rewrites only some constructs
    asks it first and returns at once where the function has none of them (issue #14: most functions need
    few of the rewrites)."""
    AST, Attribute = gast.AST, gast.Attribute
    found, attributes = set(), set()
    add = found.add
    stack = [root]
    pop, push = stack.pop, stack.append
    table = _NODE_FIELDS
    while stack:
        node = pop()
        cls = node.__class__
        add(cls)
        if cls is Attribute:
            attributes.add(node.attr)
        fields = table.get(cls)
        if fields is None:
            fields = _node_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    return found, attributes


def breadth_first(root):
    """Every node under ``root`` breadth first: ``gast.walk``'s order (which passes that report the first of
    several nodes, or number what they find, rely on), at about twice its speed. As there, a node's
    children are taken before it is yielded."""
    todo = collections.deque([root])
    pop, push = todo.popleft, todo.append
    AST = ast.AST
    table = _NODE_FIELDS
    while todo:
        node = pop()
        fields = table.get(node.__class__)
        if fields is None:
            fields = _node_fields(node.__class__)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
        yield node


def statements(root):
    """``root`` and every statement (and except handler) under it, each before those nested in it: the
    nodes that hold statement lists, without walking the expressions (``walk`` visits every node)."""
    stack = [root]
    table = _BLOCK_FIELDS
    while stack:
        node = stack.pop()
        yield node
        fields = table.get(node.__class__)
        if fields is None:
            fields = _block_fields(node.__class__)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list and value and isinstance(value[0], _BLOCK_ITEMS):
                stack.extend(v for v in value if isinstance(v, _BLOCK_ITEMS))


_BLOCK_ITEMS = (gast.stmt, gast.excepthandler, getattr(gast, "match_case", gast.excepthandler))
# the grammar's fields that hold statement lists (most statements have none: an assignment is not looked into)
_STATEMENT_LISTS = frozenset(("body", "orelse", "finalbody", "handlers", "cases"))
_BLOCK_FIELDS = {}  # node class -> its fields among _STATEMENT_LISTS


def _block_fields(cls):
    fields = _BLOCK_FIELDS[cls] = tuple(f for f in cls._fields if f in _STATEMENT_LISTS)
    return fields


def statements_breadth_first(root):
    """The statements (and except handlers) of ``statements``, in ``breadth_first``'s order: they are
    reached only through one another, so their order among every node is that of this shorter walk."""
    todo = collections.deque([root])
    pop, push = todo.popleft, todo.append
    table = _BLOCK_FIELDS
    while todo:
        node = pop()
        fields = table.get(node.__class__)
        if fields is None:
            fields = _block_fields(node.__class__)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list and value and isinstance(value[0], _BLOCK_ITEMS):
                for v in value:
                    if isinstance(v, _BLOCK_ITEMS):
                        push(v)
        yield node


def scope(stmts):
    """The nodes of ``stmts`` in their function's own scope: the functions defined there (``def``,
    ``lambda``) included, their bodies not."""
    stack = list(stmts)
    Name = gast.Name
    table = _NODE_FIELDS
    while stack:
        node = stack.pop()
        yield node
        cls = node.__class__
        if cls is Name and getattr(node, "annotation", None) is None:
            ctx = getattr(node, "ctx", None)
            if isinstance(ctx, gast.AST):  # (the order of the loop below: a context has no children)
                yield ctx
            continue
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            continue
        fields = table.get(cls)
        if fields is None:
            fields = _node_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, gast.AST))
            elif isinstance(value, gast.AST):
                stack.append(value)


def groups(pairs):
    """name -> every name linked to it through ``pairs`` (transitively): union-find over name pairs."""
    parent = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        parent[find(a)] = find(b)
    out = {}
    for n in parent:
        out.setdefault(find(n), set()).add(n)
    return {n: g for g in out.values() for n in g}


def assigned_name(stmt):
    """The target ``a`` of ``a = value`` (a plain name), else None."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        return stmt.targets[0].id
    return None


def element_store(stmt):
    """The ``a[i]`` target of ``a[i] = v`` or ``a[i] += v`` (an in-place update), else None."""
    if isinstance(stmt, gast.AugAssign):
        target = stmt.target
    elif isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
    else:
        return None
    return target if isinstance(target, gast.Subscript) else None


def stored_into(stmt):
    """The name ``a`` of ``a[i] = v`` / ``a[i] += v`` (of ``a[i][j] = v`` too), else None."""
    target = element_store(stmt)
    root = store_root(target) if target is not None else None
    return root.id if root is not None else None


def store_root(target):
    """The name ``a`` at the bottom of a store target ``a[i]``, ``a[i][j]``, ... (None if it is no name)."""
    while isinstance(target, gast.Subscript):
        target = target.value
    return target if isinstance(target, gast.Name) else None


def store_prefix(target):
    """What a store target ``a[i][j]`` indexes last, ``a[i]`` (``a`` itself for ``a[i]``)."""
    return target.value


def store_slices(target):
    """The indices of a store target from the root out: ``[i, j]`` for ``a[i][j]``."""
    out = []
    while isinstance(target, gast.Subscript):
        out.append(target.slice)
        target = target.value
    return out[::-1]


def appended(stmt):
    """``(xs, v)`` for a statement ``xs.append(v)`` on a name, else None."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        call = stmt.value
        if (
            isinstance(call.func, gast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, gast.Name)
            and len(call.args) == 1
            and not call.keywords
        ):
            return call.func.value, call.args[0]
    return None


# fields that never hold a node with a name under it: the leaf fields, and the contexts and operators
# (``_names`` and ``name_uses`` skip them: a quarter of their time on a whole function)
_NAMELESS = _LEAF_FIELDS | {"ctx", "op", "ops"}
_NAMED_FIELDS = {}  # node class -> its fields that may hold a Name


def _named_fields(cls):
    skip = _LEAF_FIELDS_OF.get(cls.__name__, ())
    fields = _NAMED_FIELDS[cls] = tuple(f for f in cls._fields if f not in _NAMELESS and f not in skip)
    return fields


def _names(root, store_only):
    """The ids of the Name nodes under ``root`` (only those stored into, if ``store_only``): ``walk``'s loop
    without its generator, as these two run over whole functions in most passes."""
    AST, Name, Store = gast.AST, gast.Name, gast.Store
    out = set()
    add = out.add
    stack = [root]
    pop, push = stack.pop, stack.append
    table = _NAMED_FIELDS
    while stack:
        node = pop()
        cls = node.__class__
        if cls is Name:
            if not store_only or node.ctx.__class__ is Store:
                add(node.id)
            annotation = getattr(node, "annotation", None)
            if isinstance(annotation, AST):
                push(annotation)
            continue  # (its context has no names)
        fields = table.get(cls)
        if fields is None:
            fields = _named_fields(cls)
        for field in fields:
            value = getattr(node, field, None)
            if value.__class__ is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    return out


def all_names(tree):
    """Every identifier a tree mentions (reads, writes and parameters)."""
    return _names(tree, False)


def local_names(fn):
    """The names a function binds: its parameters and every assignment target."""
    names = _names(fn, True)
    names.update(a.id for a in fn.args.args)
    return names


def name_uses(fn):
    """``(all_names(fn), local_names(fn), reads)`` in one walk, ``reads`` a Counter of the names ``fn``
    reads (for a pass that needs all three of one tree)."""
    AST, Name, Store, Load = gast.AST, gast.Name, gast.Store, gast.Load
    every, stored, reads = set(), set(), collections.Counter()
    table = _NAMED_FIELDS
    stack = [fn]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node.__class__ is Name:
            every.add(node.id)
            ctx = node.ctx.__class__
            if ctx is Store:
                stored.add(node.id)
            elif ctx is Load:
                reads[node.id] += 1
            annotation = getattr(node, "annotation", None)
            if isinstance(annotation, AST):
                push(annotation)
            continue
        fields = table.get(node.__class__)
        if fields is None:
            fields = _named_fields(node.__class__)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for v in value:
                    if isinstance(v, AST):
                        push(v)
            elif isinstance(value, AST):
                push(value)
    stored.update(a.id for a in fn.args.args)
    return every, stored, reads


def joined(names, pairs):
    """``names`` and every name linked to one of them, either way, through ``pairs`` ``(x, y)`` (the copies
    ``x = y``: one value under two names)."""
    out = set(names)
    while True:
        more = {b for a, b in pairs if a in out} | {a for a, b in pairs if b in out}
        if more <= out:
            return out
        out |= more


def place(loc):
    """The user's file name, line and column as constants: where a run-time refusal in emitted code
    points (the file's base name keeps emitted code the same on every machine)."""
    if loc is None:
        return [const("<unknown>"), const(0), const(0)]
    base = os.path.basename(loc.filename)
    PLACED.setdefault(base, set()).add(loc.filename)
    return [const(base), const(loc.line), const(loc.col)]


PLACED = {}  # base name -> the paths ``place`` gave it: a refusal's path found again (api.full_path)


def is_number(node):
    """A numeric literal, negative ones included (-0.5 is a UnaryOp in the tree)."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


def comment(text):
    """A marker statement that becomes ``# text`` in emitted source."""
    call = gast.Call(
        func=gast.Name(id=naming.COMMENT_FN, ctx=gast.Load(), annotation=None, type_comment=None),
        args=[gast.Constant(value=text, kind=None)],
        keywords=[],
    )
    return gast.Expr(value=call)


def stores(stmts, into_loops=True):
    """Names assigned in ``stmts`` (loop targets included); optionally not inside nested loops."""
    out = set()
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            out |= {
                n.id
                for n in breadth_first(stmt.targets[0])
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
            }
        elif isinstance(stmt, gast.If):
            out |= stores(stmt.body, into_loops) | stores(stmt.orelse, into_loops)
        elif isinstance(stmt, (gast.For, gast.While)) and into_loops:
            if isinstance(stmt, gast.For):
                out.add(stmt.target.id)
            out |= stores(stmt.body, into_loops)
    return out


def free_reads(stmts):
    """Names ``stmts`` read from outside: a for loop's targets are bound by the loop itself."""
    out = set()
    for s in stmts:
        if isinstance(s, gast.For):
            bound = {n.id for n in breadth_first(s.target) if isinstance(n, gast.Name)}
            out |= loads(s.iter) | (free_reads(s.body) - bound)
        elif isinstance(s, gast.If):
            out |= loads(s.test) | free_reads(s.body) | free_reads(s.orelse)
        else:
            out |= loads(s)
    return out


def dump(node):
    """``gast.dump(node)``, the same text (a key for an expression: equal for the same expression), without
    its options' costs."""
    if isinstance(node, gast.AST):
        cls = node.__class__
        parts = []
        for field in node._fields:
            try:
                value = getattr(node, field)
            except AttributeError:
                continue
            if value is None and getattr(cls, field, 42) is None or value == []:
                continue
            parts.append(field + "=" + dump(value))
        return cls.__name__ + "(" + ", ".join(parts) + ")"
    if isinstance(node, list):
        return "[" + ", ".join([dump(x) for x in node]) + "]" if node else "[]"
    return repr(node)


def same(a, b):
    """Whether two trees (or None) are the same expression: what ``gast.dump(a) == gast.dump(b)`` says
    (fields compared, source locations not; leaves by ``repr``, so ``0.0`` and ``-0.0`` differ), without
    formatting either tree."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    cls = a.__class__
    if cls is not b.__class__:
        return False
    if cls is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if not isinstance(a, gast.AST):
        return repr(a) == repr(b)
    for field in a._fields:
        x, y = getattr(a, field, _MISSING), getattr(b, field, _MISSING)
        if x is not y and not same(x, y):
            return False
    return True


_MISSING = object()


def rename(nodes, mapping):
    """Rename, in place, every name in ``nodes`` that ``mapping`` maps."""
    for node in nodes:
        for n in breadth_first(node):
            if isinstance(n, gast.Name) and n.id in mapping:
                n.id = mapping[n.id]


def rooted_in(node, names):
    """Whether ``node`` is one of ``names`` or an attribute of one (``a.b.c`` is rooted in ``a``)."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id in names


def index_value(index):
    """A subscript's index as an expression that can be passed to a function: slices become slice(...)."""
    if isinstance(index, gast.Slice):
        parts = [clone(p) if p is not None else const(None) for p in (index.lower, index.upper, index.step)]
        return call("slice", *parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in index.elts], ctx=gast.Load())
    return clone(index)


def is_atom(node, local_names=None):
    """A name, a constant, a negative literal, or a module attribute read like ``np.pi``.

    An attribute of a local (``x.T``) is an operation, not an atom; without
    ``local_names`` no attribute is an atom.
    """
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
        return True
    if isinstance(node, gast.Attribute):
        root = node
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and local_names is not None and root.id not in local_names
    return False


def negate(expr):
    """``not expr``."""
    return gast.UnaryOp(op=gast.Not(), operand=expr)


def substitute(tree, mapping):
    """Replace, in place, each name under ``tree`` that ``mapping`` maps by a copy of its value.

    Only names held in a field of another node are replaced: a ``tree`` that is
    itself a mapped name stays as it is. The walk goes on into the copies it
    puts in, so a mapped name inside a value (``np`` in ``np.pi``) is replaced too.
    """
    for node in walk(tree):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.Name) and value.id in mapping:
                setattr(node, field, clone(mapping[value.id]))
            elif isinstance(value, list):
                value[:] = [clone(mapping[v.id]) if isinstance(v, gast.Name) and v.id in mapping else v for v in value]
    return tree


def with_body(fn, body):
    """A new FunctionDef with ``fn``'s name, a copy of its signature, and ``body``; ``fn`` is not modified."""
    new = gast.FunctionDef(
        name=fn.name,
        args=clone(fn.args),
        body=body,
        decorator_list=clone(fn.decorator_list),
        returns=clone(fn.returns),
        type_comment=None,
        type_params=clone(getattr(fn, "type_params", [])),
    )
    return gast.copy_location(new, fn)


def arguments(names):
    """The parameter list ``(name, ...)`` of a function the compiler defines."""
    return gast.arguments(
        args=[gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in names],
        posonlyargs=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


_SNIPPETS = {}  # (text, mode) -> the parsed snippet, shared by every quote of that text; never handed out


def quote(text, **holes):
    """The statements of the snippet ``text`` (Python source, dedented) with its holes filled: the
    shape of emitted code written as the code it is, as Tangent's templates do.

    A hole is a name in ``text`` that is a key of ``holes``. Each use of it is replaced by
    ``holes[key]``: a string by a name, a node by a copy of it, either in the hole's context
    (read, assigned or a parameter; an assigned tuple's elements too, as the parser does); a list
    is spliced into the list that holds the hole: statements into a body where the hole stands
    alone as a statement, names or expressions into a tuple, a call's arguments or a parameter
    list. A list's nodes go in as they are, not copied (it is typically a body built for this
    place, which tables keyed by statement identity refer to), so a list of nodes fills one
    place; its strings become names. A ``def`` whose name is a key takes the string as its name.
    The values are not searched for holes, and nothing given is changed.

    Invariant: the result is what parsing ``text`` with each hole written out would give (less
    source locations; the copies keep theirs), in nodes of its own apart from the lists' nodes;
    each text is parsed once.

    >>> from adjoint_compiler import emit
    >>> body = [assign("y_bar", const(0.0))]
    >>> loop = quote("for t in reversed(tape):\\n    body", t=name("y_1"), tape="_tape1", body=body)[0]
    >>> print(emit.to_source(loop).strip())
    for y_1 in reversed(_tape1):
        y_bar = 0.0
    >>> type(loop.target.ctx).__name__, loop.body[0] is body[0]  # an assigned place, the body as given
    ('Store', True)
    >>> step = quote("def step(params):\\n    return (params,)", step="_step1", params=["a", "b"])[0]
    >>> print(emit.to_source(step).strip())
    def _step1(a, b):
        return (a, b)
    >>> print(emit.to_source(quote("tape.append((t, i))", tape="_tape1", t=name("y_1"), i="i")[0]).strip())
    _tape1.append((y_1, i))
    >>> x = name("x")
    >>> y = quote_expr("check(x, -x)", x=x)
    >>> gast.dump(y) == gast.dump(gast.parse("check(x, -x)", mode="eval").body), y.args[0] is x
    (True, False)
    """
    return _fill(_snippet(text, "exec"), holes, set())


def quote_expr(text, **holes):
    """The expression ``text`` with its holes filled, as ``quote`` fills a statement list."""
    return _fill(_snippet(text, "eval"), holes, set())


def _snippet(text, mode):
    tree = _SNIPPETS.get((text, mode))
    if tree is None:
        parsed = gast.parse(textwrap.dedent(text).strip(), mode=mode)
        tree = _SNIPPETS[text, mode] = parsed.body
    return tree


def _fill(node, holes, spliced):
    """A copy of the snippet ``node`` (no source locations) with its holes filled."""
    cls = node.__class__
    if cls is list:
        return _fill_list(node, holes, spliced)
    if not isinstance(node, gast.AST):
        return node
    if cls is gast.Name and node.id in holes:
        value = holes[node.id]
        if isinstance(value, list):
            raise InternalError("quote: the list for '%s' can only fill a place in a list" % node.id)
        return _put(value, node.ctx)
    new = cls.__new__(cls)
    for field in node._fields:
        setattr(new, field, _fill(getattr(node, field, None), holes, spliced))
    if cls is gast.FunctionDef and node.name in holes:
        new.name = holes[node.name]
    return new


def _fill_list(items, holes, spliced):
    out = []
    for item in items:
        cls = item.__class__
        hole = item if cls is gast.Name else item.value if cls is gast.Expr else None
        value = holes.get(hole.id) if hole.__class__ is gast.Name else None
        if value.__class__ is list:
            if id(value) in spliced and not all(v.__class__ is str for v in value):
                raise InternalError("quote: the nodes for '%s' can fill only one place" % hole.id)
            spliced.add(id(value))
            out.extend(_name_in(v, hole.ctx) if v.__class__ is str else v for v in value)
        elif cls is gast.Expr and isinstance(value, gast.stmt):  # a statement in place of a statement
            out.append(clone(value))
        else:
            out.append(_fill(item, holes, spliced))
    return out


def _name_in(id_, ctx):
    return gast.Name(id=id_, ctx=ctx.__class__(), annotation=None, type_comment=None)


def _put(value, ctx):
    """The hole's value at a place of context ``ctx``: a name for a string, else a copy of the node."""
    if value.__class__ is str:
        return _name_in(value, ctx)
    if not isinstance(value, gast.AST):
        raise InternalError("quote: a hole is filled with a string, a node or a list, not %r" % (value,))
    new = clone(value)
    _in_context(new, ctx)
    return new


def _in_context(node, ctx):
    """Give ``node`` the hole's context, as the parser does for a target: into tuples, lists and starred."""
    if getattr(node, "ctx", ctx).__class__ is not ctx.__class__:
        node.ctx = ctx.__class__()
    if isinstance(node, (gast.Tuple, gast.List)):
        for e in node.elts:
            _in_context(e, ctx)
    elif isinstance(node, gast.Starred):
        _in_context(node.value, ctx)


# ---- versions15 (issue #15): one printed form on every supported Python ------------------------------------
def unparse(node):
    """``ast.unparse`` as Python 3.11 prints: 3.9 and 3.10 write ``(a, b) = f()``, ``for (i, x) in ...`` and
    ``lambda : 1.0``, so the emitted code (and the golden files) would differ between versions.

    >>> import ast
    >>> print(unparse(ast.parse("a, b = f(lambda: 1.0)\\nfor i, x in g((1, 2)):\\n    pass")))
    a, b = f(lambda: 1.0)
    for i, x in g((1, 2)):
        pass
    """
    return _Unparser().visit(node)


class _LocationFree(ast._Unparser):
    """The standard library's printer, which reads no node's location: it reads ``lineno`` only to find a
    module's ``# type: ignore`` comments, which a tree built by the compiler (or parsed without type
    comments) has none of. So the emitted function needs no ``ast.fix_missing_locations`` walk first
    (issue #14: a quarter of printing chain100's gradient)."""

    def get_type_comment(self, node):
        comment = (self._type_ignores.get(node.lineno) if self._type_ignores else None) or node.type_comment
        if comment is not None:
            return " # type: %s" % comment

    def traverse(self, node):
        # ``ast.NodeVisitor.visit``'s dispatch, its method found once per printer and node class, not by
        # name per node (a sixth of printing a long function)
        if node.__class__ is list:
            for item in node:
                self.traverse(item)
            return
        key = (self.__class__, node.__class__)
        method = _VISIT.get(key)
        if method is None:
            method = _VISIT[key] = getattr(self.__class__, "visit_" + node.__class__.__name__, None) or (
                self.__class__.generic_visit
            )
        method(self, node)


_VISIT = {}  # (printer class, node class) -> the printer's method for it


def _unparser_of_python_3_11():
    tuple_ = ast._Precedence.TUPLE

    class Unparser(_LocationFree):
        def visit_Assign(self, node):
            for target in node.targets:
                self.set_precedence(tuple_, target)
            super().visit_Assign(node)

        def _for_helper(self, fill, node):
            self.set_precedence(tuple_, node.target)
            super()._for_helper(fill, node)

        def visit_Tuple(self, node):
            if node.elts and self.get_precedence(node) <= tuple_:
                self.items_view(self.traverse, node.elts)
            else:
                super().visit_Tuple(node)

        def visit_arguments(self, node):
            start = len(self._source)
            super().visit_arguments(node)
            if len(self._source) > start and self._source[start - 1] == "lambda":
                self._source.insert(start, " ")

        def visit_Lambda(self, node):
            with self.require_parens(ast._Precedence.TEST, node):
                self.write("lambda")
                self.traverse(node.args)
                self.write(": ")
                self.set_precedence(ast._Precedence.TEST, node.body)
                self.traverse(node.body)

    return Unparser


_Unparser = _unparser_of_python_3_11() if sys.version_info < (3, 11) else _LocationFree


def unparse_gast(node):
    """``unparse(to_ast(node))`` of a gast tree, printed without converting it first (issue #14: the
    conversion cost more than the printing). The standard library's printer dispatches on class names,
    which gast's are; ``_GastUnparser`` gives the few methods that test a node's class (``elif``, a
    docstring, ``a[i, j]``, ``1 .real``) what they test for, and converts the nodes whose fields differ
    (parameters, ``except ... as e``, f-strings, annotated assignments) before printing them."""
    return _GastUnparser().visit(node)


class _GastUnparser(_Unparser):
    def _converted(self, old, new):
        """``new`` (an ast node standing for the gast ``old``) with the precedence its parent set on ``old``."""
        precedence = self._precedences.get(old)
        if precedence is not None:
            self._precedences[new] = precedence
        return new

    def get_raw_docstring(self, node):
        if not isinstance(node, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef, gast.Module)):
            return super().get_raw_docstring(node)
        first = node.body[0].value if node.body and isinstance(node.body[0], gast.Expr) else None
        return first if isinstance(first, gast.Constant) and isinstance(first.value, str) else None

    def visit_If(self, node):
        super().visit_If(_elif_chain(node))

    def visit_Expr(self, node):
        call = node.value
        if (
            call.__class__ is gast.Call
            and call.func.__class__ is gast.Name
            and call.func.id == naming.COMMENT_FN
            and call.args
            and not call.keywords
            and all(a.__class__ is gast.Constant and type(a.value) is str for a in call.args)
        ):  # a comment marker, one line per argument: printed as comments (what emit.to_source would make of it)
            for arg in call.args:
                self.fill("# " + arg.value)
            return
        super().visit_Expr(node)

    def visit_Attribute(self, node):
        if isinstance(node.value, gast.Constant):  # (3 .real: the printer tests for an ast.Constant)
            node = self._converted(node, ast.Attribute(to_ast(node.value), node.attr, ast.Load()))
        super().visit_Attribute(node)

    def visit_Subscript(self, node):
        if isinstance(node.slice, gast.Tuple):  # a[i, j]: the printer tests for an ast.Tuple (and ast.Starred)
            elts = [ast.Starred(e.value, ast.Load()) if isinstance(e, gast.Starred) else e for e in node.slice.elts]
            node = self._converted(node, ast.Subscript(node.value, ast.Tuple(elts, ast.Load()), ast.Load()))
        super().visit_Subscript(node)

    def visit_ExceptHandler(self, node):
        name = node.name.id if isinstance(node.name, gast.Name) else node.name
        super().visit_ExceptHandler(ast.ExceptHandler(node.type, name, node.body))

    def _whole(self, node):
        return getattr(super(), "visit_" + node.__class__.__name__)(self._converted(node, to_ast(node)))

    visit_arguments = visit_JoinedStr = visit_FormattedValue = visit_AnnAssign = _whole


def _elif_chain(node):
    """An ast.If standing for the gast ``node``, and for each ``if`` that is its else arm's only statement."""
    orelse = node.orelse
    if len(orelse) == 1 and isinstance(orelse[0], gast.If):
        orelse = [_elif_chain(orelse[0])]
    return ast.If(node.test, node.body, orelse)


# ---- issue #14: gast <-> ast at half the cost ----------------------------------------------------------------
def _fast_translator(base, to):
    """``base`` (gast's translator to the node classes of module ``to``) with its two per-node costs cut: the
    method a node's class is visited by is looked up once per class (``ast.NodeVisitor.visit`` builds its
    name per node), and the nodes its special cases leave to ``generic_visit`` are rebuilt with their
    target class and fields looked up once per class. The same trees come out: every special case is
    ``base``'s own method."""
    missing = object()
    AST = ast.AST

    class Translator(base):
        _methods = {}  # class -> the function visiting it
        _targets = {}  # class -> (target class or None, fields, attributes)

        def visit(self, node):
            cls = node.__class__
            method = self._methods.get(cls)
            if method is None:
                method = getattr(type(self), "visit_" + cls.__name__, None) or type(self).generic_visit
                self._methods[cls] = method
            return method(self, node)

        def _visit(self, node):
            if isinstance(node, AST):
                method = self._methods.get(node.__class__)
                return method(self, node) if method is not None else self.visit(node)
            if isinstance(node, list):
                visit = self._visit
                return [visit(n) for n in node]
            return node

        def generic_visit(self, node):
            cls = node.__class__
            target = self._targets.get(cls)
            if target is None:
                target = self._targets[cls] = (getattr(to, cls.__name__, None), cls._fields, cls._attributes)
            new_cls, fields, attributes = target
            if new_cls is None:  # (a node that is not part of the target AST, as gast's translator does)
                return None
            if not fields and not attributes:  # a context or an operator (Load, Add): most nodes
                return new_cls()
            visit = self._visit
            values = {}
            for field in fields:
                value = getattr(node, field, missing)
                if value is not missing:
                    values[field] = visit(value)
            new_node = new_cls(**values)
            for attr in attributes:
                value = getattr(node, attr, missing)
                if value is not missing:
                    setattr(new_node, attr, value)
            return new_node

    if "visit_Name" in base.__dict__:  # (the commonest node: base's visit_Name less ast.copy_location's loop)
        Name, extra = to.Name, (None, None) if to is gast else ()

        def visit_Name(self, node):
            new = Name(node.id, self._visit(node.ctx), *extra)
            for attr in ("lineno", "col_offset"):  # as ast.copy_location copies them: where they are set
                value = getattr(node, attr, None)
                if value is not None:
                    setattr(new, attr, value)
            new.end_lineno = getattr(node, "end_lineno", None)  # (optional: copied even where None)
            new.end_col_offset = getattr(node, "end_col_offset", None)
            return new

        Translator.visit_Name = visit_Name
    return Translator


_ToAst = _fast_translator(gast.ast3.GAstToAst3, ast)
_ToGast = _fast_translator(gast.ast3.Ast3ToGAst, gast)


def to_ast(node):
    """``gast.gast_to_ast(node)``, faster (emitting a function converts every node of it)."""
    return _ToAst().visit(node)


def to_gast(node):
    """``gast.ast_to_gast(node)``, faster (reading a function's source converts every node of it)."""
    return _ToGast().visit(node)
