"""Resolve function values at compile time, so that every later pass sees direct calls.

Where a function is held in a local variable but is known when compiling, its calls become calls of
the function itself:

- a local bound once to a function named statically (``act = math.tanh``, ``f = helper``,
  ``f = model.loss``, a nested ``def``, ``act = np.tanh if FLAG else np.sin`` with ``FLAG`` a
  constant): each read is that name (``act(x)`` -> ``math.tanh(x)``) and the assignment goes;
- a ``for`` loop over a tuple or list display of such functions (``for fn in (np.sin, np.cos)``),
  without ``break``, ``continue`` or ``else``: unrolled, one copy of the body per function;
- ``p = functools.partial(g, a, k=b)`` with ``p`` only called: ``p(y)`` -> ``g(a, y, k=b)``, the
  fixed values kept in variables of their own (``p_arg0 = a``) where they could change before a call;
  ``functools.partial(g, a)(y)`` -> ``g(a, y)``; ``g`` may be a nested function or a lambda;
- ``g = make(x)``, where ``make`` is a nested function (or one of the same module without a closure)
  whose last statement returns a function it defines (``return lambda y: a * y``, ``return inner``)
  and that returns nothing else: make's body is inlined, its variables renamed (``make_a = x``),
  and ``g`` is the nested function it defined, closing over them; ``make(x)(3.0)`` is
  ``g = make(x)`` on a line of its own first, under a fresh name.

``lift`` then makes functions of the nested ones as it does for any. What stays unknown is left
for ``ops`` to refuse (a parameter called, a variable bound to several functions), or refused here
with the construct's name: a call of a function read from a container at run time (``fs[i](x)``).

Output invariant: no local bound as above is read any more (the loop's variable stays bound after
the loop where it is read there); every expression is evaluated as often, in the same order and
under the same conditions as in the user's code.

>>> from adjoint_compiler import emit, source
>>> import functools, math
>>> def mul(a, b):
...     return a * b
>>> def f(x, y):
...     act = math.tanh
...     p = functools.partial(mul, x)
...     t = 0.0
...     for fn in (math.sin, math.cos):
...         t = t + fn(act(y))
...     return p(t)
>>> src = source.read(f)
>>> print(emit.to_source(run(src.tree, src)).strip())
def f(x, y):
    t = 0.0
    t = t + math.sin(math.tanh(y))
    t = t + math.cos(math.tanh(y))
    return mul(x, t)
"""

import functools

import gast

from adjoint_compiler import naming, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError

_BLOCKS = ("body", "orelse", "finalbody")
_MANY = 2  # a binding count that rules a name out


def run(fn, src):
    """Return ``fn`` with its function values resolved (``fn`` is a fresh parse: edited in place)."""
    if src is None:
        return fn
    _Resolve(fn, src).run()
    return fn


class _Resolve:
    def __init__(self, fn, src):
        self.fn = fn
        self.src = src
        self.namer = naming.Namer(trees.all_names(fn) | set(src.env))

    # -- facts about the tree, recomputed after each change ----------------------------------------

    def survey(self):
        fn = self.fn
        self.bindings = {}  # name -> how often it is bound anywhere in the tree (nested functions too)
        for a in _parameters(fn):
            self.bindings[a] = self.bindings.get(a, 0) + 1
        for node in trees.walk(fn):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param, gast.Del)):
                self.bindings[node.id] = self.bindings.get(node.id, 0) + 1
            elif isinstance(node, gast.FunctionDef) and node is not fn:
                self.bindings[node.name] = self.bindings.get(node.name, 0) + 1
            elif isinstance(node, (gast.Global, gast.Nonlocal)):
                for n in node.names:
                    self.bindings[n] = self.bindings.get(n, 0) + _MANY
        self.local = trees.local_names(fn) | {n for n, k in self.bindings.items() if k}
        self.params = set(_parameters(fn))
        # the functions defined in the function's own scope, bound once: name -> FunctionDef
        self.nested = {
            node.name: node
            for node in trees.scope(fn.body)
            if isinstance(node, gast.FunctionDef) and self.bindings.get(node.name) == 1
        }
        for node in trees.scope(fn.body):  # ``g = lambda t: ...``, which lift treats as a def
            name = trees.assigned_name(node) if isinstance(node, gast.Assign) else None
            if name is not None and isinstance(node.value, gast.Lambda) and self.bindings.get(name) == 1:
                self.nested[name] = node.value
        self.parents = {}
        for node in trees.walk(fn):
            for child in gast.iter_child_nodes(node):
                self.parents[id(child)] = node
        self.blocks = {}  # id of a statement -> (the list holding it, its index)
        for node in trees.statements(fn):
            for field in _BLOCKS + ("handlers",):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    for i, stmt in enumerate(block):
                        self.blocks[id(stmt)] = (block, i)

    def reads(self, name):
        return [
            n for n in trees.walk(self.fn) if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load)
        ]

    def dominated(self, stmt, nodes):
        """Whether every node of ``nodes`` is in a statement after ``stmt`` in ``stmt``'s block (so it runs
        after ``stmt`` did, each time)."""
        block, i = self.blocks[id(stmt)]
        after = {id(n) for s in block[i + 1 :] for n in trees.walk(s)}
        return all(id(n) in after for n in nodes)

    def static_function(self, node):
        """Whether ``node`` names a function known when compiling: a global or module attribute bound to
        a callable, or a function defined in this one (a name ``self.nested`` holds)."""
        if isinstance(node, gast.Name) and node.id in self.nested:
            return True
        value = source_mod.global_value(node, self.src, self.local)
        return value is not None and callable(value)

    def chosen(self, node):
        """``node`` itself, or the arm of a conditional expression whose test is a constant (a literal or
        a global bound to a number, a bool or None) that Python would evaluate, else None."""
        while isinstance(node, gast.IfExp):
            test = node.test
            if isinstance(test, gast.Constant):
                value = test.value
            else:
                value = source_mod.global_value(test, self.src, self.local, default=_UNKNOWN)
                if not (value is None or isinstance(value, (bool, int, float))):
                    return None
            node = node.body if value else node.orelse
        return node if self.static_function(node) else None

    # -- the rewrites ------------------------------------------------------------------------------

    def run(self):
        for _ in range(1000):  # each rewrite removes a binding or a loop: this ends
            self.survey()
            if not (self.returned() or self.aliases() or self.partials() or self.loops()):
                break
        self.survey()
        self.refuse()

    def aliases(self):
        """``act = math.tanh`` ... ``act(x)``: each read of ``act`` becomes ``math.tanh``."""
        for stmt in list(trees.statements(self.fn)):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or self.bindings.get(name) != 1 or name in self.nested or id(stmt) not in self.blocks:
                continue
            value = self.chosen(stmt.value)
            if value is None:
                continue
            reads = self.reads(name)
            if not self.dominated(stmt, reads):
                continue
            for read in reads:
                trees.become(read, _placed(trees.clone(value), read))
            self.remove(stmt)
            return True
        return False

    def partials(self):
        """``p = functools.partial(g, a, k=b)`` with ``p`` only called, and ``functools.partial(g, a)(y)``."""
        for node in list(trees.walk(self.fn)):
            if isinstance(node, gast.Call) and self.is_partial(node.func):
                node.func, node.args, node.keywords = _applied(node.func, node.args, node.keywords)
                return True
        for stmt in list(trees.statements(self.fn)):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or self.bindings.get(name) != 1 or id(stmt) not in self.blocks:
                continue
            if not self.is_partial(stmt.value):
                continue
            reads = self.reads(name)
            calls = [self.parents.get(id(r)) for r in reads]
            if not self.dominated(stmt, reads) or not all(
                isinstance(c, gast.Call) and c.func is r and _plain(c) for c, r in zip(calls, reads)
            ):
                continue
            made = stmt.value
            kept = []  # assignments of the values the partial fixed, in Python's order
            func = made.args[0]
            if isinstance(func, gast.Lambda):
                fixed_name = self.namer.unique(naming.PARTIAL_FUNCTION.format(name))
                kept.append(gast.copy_location(trees.assign(fixed_name, func), stmt))
                func = gast.copy_location(trees.name(fixed_name), func)

            def fixed(value, label):
                if self.stays(value):
                    return value
                var = self.namer.unique(naming.PARTIAL_VALUE.format(name, label))
                kept.append(gast.copy_location(trees.assign(var, value), value))
                return gast.copy_location(trees.name(var), value)

            args = [fixed(a, "arg%d" % i) for i, a in enumerate(made.args[1:])]
            keywords = [gast.keyword(arg=k.arg, value=fixed(k.value, k.arg)) for k in made.keywords]
            partial = gast.Call(func=made.func, args=[func] + args, keywords=keywords)
            for call in calls:
                new = _applied(trees.clone(partial), call.args, call.keywords)
                call.func, call.args, call.keywords = new[0], new[1], new[2]
                _placed(call.func, call)
            self.replace(stmt, kept)
            return True
        return False

    def is_partial(self, node):
        if not (isinstance(node, gast.Call) and node.args and _plain(node)):
            return False
        if source_mod.global_value(node.func, self.src, self.local) is not functools.partial:
            return False
        return isinstance(node.args[0], gast.Lambda) or self.static_function(node.args[0])

    def stays(self, value):
        """Whether ``value`` means the same wherever it is read later: a constant, a parameter the function
        never rebinds, or a global (module attribute) chain."""
        if isinstance(value, gast.Constant):
            return True
        if isinstance(value, gast.Name) and value.id in self.params:
            return self.bindings.get(value.id) == 1
        root = value
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and root.id not in self.local and isinstance(root, gast.Name)

    def loops(self):
        """``for fn in (np.sin, np.cos): body`` -> the body once with ``np.sin`` for ``fn``, once with ``np.cos``."""
        for loop in list(trees.statements(self.fn)):
            if not (
                isinstance(loop, gast.For)
                and isinstance(loop.target, gast.Name)
                and isinstance(loop.iter, (gast.Tuple, gast.List))
                and id(loop) in self.blocks
                and not loop.orelse
                and self.bindings.get(loop.target.id) == 1
            ):
                continue
            items = loop.iter.elts
            if any(isinstance(e, gast.Starred) for e in items):
                continue
            if not all(isinstance(e, gast.Lambda) or self.static_function(e) or self.is_partial(e) for e in items):
                continue
            if _jumps(loop.body):
                continue
            name = loop.target.id
            new = []
            values = []
            for item in items:
                if isinstance(item, gast.Name) or isinstance(item, gast.Attribute):
                    values.append(item)
                else:  # a lambda or partial: made once, before the loop, as Python makes the tuple
                    var = self.namer.fresh(naming.UNROLLED, name)
                    new.append(gast.copy_location(trees.assign(var, item), item))
                    values.append(gast.copy_location(trees.name(var), item))
            for value in values:
                new.extend(trees.substituted(loop.body, {name: value}))
            inside = {id(n) for n in trees.walk(loop)}
            if values and any(id(r) not in inside for r in self.reads(name)):
                new.append(gast.copy_location(trees.assign(name, trees.clone(values[-1])), loop))
            self.replace(loop, new)
            return True
        return False

    def returned(self):
        """``g = make(x)`` (or ``make(x)(y)``) where make returns a function it defines: make's body inlined."""
        return False

    # -- refusals ----------------------------------------------------------------------------------

    def refuse(self):
        for node in trees.walk(self.fn):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Subscript):
                raise UnsupportedError(
                    "a call of the function %s, read from a container at run time" % trees.unparse(node.func).strip(),
                    self.src.location(node),
                    "call the function by its name, or loop over a tuple of functions written out "
                    "(for fn in (f, g): ...)",
                )

    # -- editing blocks ----------------------------------------------------------------------------

    def replace(self, stmt, new):
        block, i = self.blocks[id(stmt)]
        block[i : i + 1] = new
        if not block:
            block.append(gast.copy_location(gast.Pass(), stmt))

    def remove(self, stmt):
        self.replace(stmt, [])


_UNKNOWN = object()


def _parameters(fn):
    args = fn.args
    names = [a.id for a in args.args + args.kwonlyargs + list(getattr(args, "posonlyargs", []) or [])]
    return names + [a.id for a in (args.vararg, args.kwarg) if a is not None]


def _plain(call):
    """A call without ``*args`` or ``**kwargs``."""
    return not any(isinstance(a, gast.Starred) for a in call.args) and all(k.arg is not None for k in call.keywords)


def _applied(partial, args, keywords):
    """(func, args, keywords) of ``partial(g, *fixed, **kw)(*args, **keywords)``: ``g(*fixed, *args, ...)``,
    a keyword given at the call taking the place of the one the partial fixed."""
    given = {k.arg for k in keywords}
    kept = [k for k in partial.keywords if k.arg not in given]
    return partial.args[0], list(partial.args[1:]) + list(args), kept + list(keywords)


def _placed(tree, at):
    """``tree`` with every node at ``at``'s location (errors about it point at the user's read)."""
    for node in trees.walk(tree):
        if isinstance(node, gast.expr):
            gast.copy_location(node, at)
    return tree


def _jumps(body):
    """Whether ``body`` holds a ``break`` or ``continue`` of its own loop (which an unrolled body has none of)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (gast.Break, gast.Continue)):
            return True
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.For, gast.While)):
            if isinstance(node, (gast.For, gast.While)):
                stack.extend(node.orelse)  # a break in a nested loop's else leaves ours
            continue
        stack.extend(c for c in gast.iter_child_nodes(node))
    return False

