"""Resolve function values at compile time, so that every later pass sees direct calls.

Where a function is held in a local variable but is known when compiling, its calls become calls of
the function itself:

- a local bound once to a function named statically (``act = math.tanh``, ``f = helper``,
  ``f = model.loss``, a nested ``def``, ``act = np.tanh if FLAG else np.sin`` with ``FLAG`` a
  constant): each read is that name (``act(x)`` -> ``math.tanh(x)``) and the assignment goes;
- a ``for`` loop over a tuple or list display of such functions (``for fn in (np.sin, np.cos)``),
  without ``break``, ``continue`` or ``else``: unrolled, one copy of the body per function; a local
  bound once to such a display and only looped over or indexed by constants (``fs[0]``, ``fs[-1]``)
  is read as the display;
- ``p = functools.partial(g, a, k=b)`` with ``p`` only called: ``p(y)`` -> ``g(a, y, k=b)``, the
  fixed values kept in variables of their own (``p_arg0 = a``) where they could change before a call;
  ``functools.partial(g, a)(y)`` -> ``g(a, y)``; ``g`` may be a nested function or a lambda;
- ``g = make(x)``, where ``make`` is a nested function (or one of the same module without a closure)
  whose last statement returns a function it defines (``return lambda y: a * y``, ``return inner``)
  and that returns nothing else: make's body is inlined, its variables renamed (``make_a = x``),
  and ``g`` is the nested function it defined, closing over them; ``make(x)(3.0)`` is
  ``g = make(x)`` on a line of its own first, under a fresh name.

- a local chosen at run time among such functions (``act = relu if flag else np.tanh``, bound in the
  arms of an ``if``, ``acts[name]``, the variable of a loop over them with ``break``) and only called
  or passed to calls: it holds the chosen function's name, a tag, and each call is of the function
  the tag names (``relu(x) if act == 'relu' else np.tanh(x)``); ``{'relu': relu, ...}[name](x)`` and
  ``fs[i](x)`` likewise, through a display of the tags.

``lift`` then makes functions of the nested ones as it does for any. What stays unknown is left
for ``ops`` to refuse (a parameter called), or refused here with the construct's name: a call of a
function read from a container at run time (``fs[i](x)`` of a list built by appends), a loop over
functions that could not be unrolled (``continue`` with a variable bound otherwise).

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

import builtins
import functools
import inspect
import sysconfig

import gast
import numpy as np

from adjoint_compiler import desugar, naming, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError

_BLOCKS = ("body", "orelse", "finalbody")
_MANY = 2  # a binding count that rules a name out


def run(fn, src):
    """Return ``fn`` with its function values resolved (``fn`` is a fresh parse: edited in place)."""
    if src is None or not _candidates(fn):
        return fn
    _Resolve(fn, src).run()
    return fn


def _candidates(fn):
    """Whether ``fn`` may hold a function value to resolve or refuse (one walk: most functions hold none):
    a call of a local, of an element or of a call's result; a loop over a display or a local; a local
    bound to a name, attribute or conditional expression and passed to a call."""
    stored, called, passed, bound, looped, displays = set(), set(), set(), set(), set(), set()
    for node in trees.walk(fn):
        kind = type(node)
        if kind is gast.Name:
            if type(node.ctx) is not gast.Load:
                stored.add(node.id)
        elif kind is gast.Call:
            func = node.func
            if type(func) is gast.Name:
                called.add(func.id)
                if func.id == "getattr":
                    return True
            elif type(func) in (gast.Subscript, gast.Call):
                return True
            passed.update(a.id for a in node.args if type(a) is gast.Name)
            passed.update(k.value.id for k in node.keywords if type(k.value) is gast.Name)
        elif kind is gast.For:
            items = node.iter
            if type(items) in (gast.Tuple, gast.List):
                return True
            if type(items) is gast.Call and type(items.func) is gast.Name and items.func.id == "enumerate":
                return True
            if type(items) is gast.Name:
                looped.add(items.id)
        elif kind is gast.Assign:
            if type(node.value) in (gast.Name, gast.Attribute, gast.IfExp):
                bound.update(t.id for t in node.targets if type(t) is gast.Name)
            elif type(node.value) in (gast.Tuple, gast.List):
                displays.update(t.id for t in node.targets if type(t) is gast.Name)
    return bool(called & stored or bound & passed or looped & displays)


class _Resolve:
    def __init__(self, fn, src):
        self.fn = fn
        self.src = src
        self.namer = naming.Namer(trees.all_names(fn) | set(src.env))

    def unique(self, name):
        """``name`` if free, else ``name2``, ``name3``... (not ``name_2``, which reads as an SSA version)."""
        k = 1
        found = name
        while found in self.namer.taken:
            k += 1
            found = "%s%d" % (name, k)
        return self.namer.reserve(found)

    # -- facts about the tree, recomputed after each change ----------------------------------------

    def survey(self):
        fn = self.fn
        self.bindings = {}  # name -> how often it is bound anywhere in the tree (nested functions too)
        for node in trees.walk(fn):  # (parameters are names in a Param context)
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Param, gast.Del)):
                self.bindings[node.id] = self.bindings.get(node.id, 0) + 1
            elif isinstance(node, gast.FunctionDef) and node is not fn:
                self.bindings[node.name] = self.bindings.get(node.name, 0) + 1
            elif isinstance(node, (gast.Global, gast.Nonlocal)):
                for n in node.names:
                    self.bindings[n] = self.bindings.get(n, 0) + _MANY
        self.local = trees.local_names(fn) | {n for n, k in self.bindings.items() if k}
        self.own = {}  # name -> how often it is bound in the function's own scope
        for node in trees.scope(fn.body):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                self.own[node.id] = self.own.get(node.id, 0) + 1
            elif isinstance(node, gast.FunctionDef):
                self.own[node.name] = self.own.get(node.name, 0) + 1
            elif isinstance(node, (gast.Global, gast.Nonlocal)):
                for n in node.names:
                    self.own[n] = self.own.get(n, 0) + _MANY
        for a in _parameters(fn):
            self.own[a] = self.own.get(a, 0) + 1
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
        """The reads of the function's variable ``name``, in nested functions too where they do not bind
        a ``name`` of their own."""
        out = []
        stack = list(self.fn.body)
        while stack:
            node = stack.pop()
            if isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load):
                out.append(node)
            if isinstance(node, gast.FunctionDef) and name in _own_names(node) - _declared(node):
                stack.extend(node.args.defaults)
                continue
            if isinstance(node, gast.Lambda) and name in _parameters(node):
                stack.extend(node.args.defaults)
                continue
            stack.extend(gast.iter_child_nodes(node))
        return out

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
        self.survey()
        if self.getattrs():
            self.survey()
        while (
            self.returned()
            or self.aliases()
            or self.partials()
            or self.displays()
            or self.tables()
            or self.loops()
            or self.rows_of_functions()
            or self.dict_views()
        ):
            self.survey()  # each rewrite removes a binding, a display or a loop: this ends
        if self.global_tables():
            self.survey()
        if self.choices():
            self.survey()
        self.refuse()

    def getattrs(self):
        """``getattr(math, "sin")``, ``getattr(np, name)`` with ``name`` bound once to a string literal before:
        the attribute itself (``math.sin``), which Python's ``getattr`` reads (a name Python would mangle
        in a class body, ``__x``, is left)."""
        changed = False
        strings = {}  # local -> the string literal it is bound to, once, in the function's own scope
        for stmt in _in_order(self.fn):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is not None and isinstance(stmt.value, gast.Constant) and isinstance(stmt.value.value, str):
                if self.bindings.get(name) == 1 and name not in self.params and id(stmt) in self.blocks:
                    strings[name] = stmt
        for node in list(trees.walk(self.fn)):
            if not (isinstance(node, gast.Call) and len(node.args) == 2 and not node.keywords):
                continue
            if source_mod.global_value(node.func, self.src, self.local) is not getattr:
                continue
            key = node.args[1]
            if isinstance(key, gast.Name) and key.id in strings and self.dominated(strings[key.id], [key]):
                key = strings[key.id].value
            if isinstance(node.args[0], gast.Starred) or not isinstance(key, gast.Constant):
                continue
            attr = key.value
            if not (isinstance(attr, str) and attr.isidentifier()) or (
                attr.startswith("__") and not attr.endswith("__")
            ):
                continue
            trees.become(node, _placed(gast.Attribute(value=node.args[0], attr=attr, ctx=gast.Load()), node))
            changed = True
        return changed

    def aliases(self):
        """``act = math.tanh`` ... ``act(x)``: each read of ``act`` becomes ``math.tanh``."""
        for stmt in list(_in_order(self.fn)):
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
        for stmt in list(_in_order(self.fn)):
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
                fixed_name = self.unique(naming.PARTIAL_FUNCTION.format(name))
                kept.append(gast.copy_location(trees.assign(fixed_name, func), stmt))
                func = gast.copy_location(trees.name(fixed_name), func)

            def fixed(value, label):
                if self.stays(value):
                    return value
                var = self.unique(naming.PARTIAL_VALUE.format(name, label))
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

    def displays(self):
        """``fs = (np.sin, np.cos)`` read only as ``fs[0]`` (a constant index) or looped over: each ``fs[k]``
        becomes the function it holds and each loop is over the display written out (which ``loops`` unrolls)."""
        for stmt in _in_order(self.fn):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or self.bindings.get(name) != 1 or id(stmt) not in self.blocks:
                continue
            display = stmt.value
            keyed = None  # a dict display of constant keys: key -> value
            if (
                isinstance(display, gast.Dict)
                and display.keys
                and all(isinstance(k, gast.Constant) for k in display.keys)
            ):
                keyed = {}
                for k, v in zip(display.keys, display.values):
                    keyed[k.value] = v  # (a repeated key: the last value, as Python's display)
                items = list(keyed.values())
            elif isinstance(display, (gast.Tuple, gast.List)) and display.elts:
                items = display.elts
            else:
                continue
            if not all(self.table_function(e) for e in items):
                continue
            reads = self.reads(name)
            uses = []
            for r in reads:
                parent = self.parents.get(id(r))
                if keyed is not None:  # ops["sq"]: the function under that key
                    if not (
                        isinstance(parent, gast.Subscript)
                        and parent.value is r
                        and isinstance(parent.ctx, gast.Load)
                        and isinstance(parent.slice, gast.Constant)
                        and source_mod.hashable(parent.slice.value)
                        and parent.slice.value in keyed
                    ):
                        break
                    uses.append((parent, keyed[parent.slice.value]))
                elif isinstance(parent, gast.Subscript) and parent.value is r and isinstance(parent.ctx, gast.Load):
                    k = _constant_index(parent.slice)
                    if type(k) is not int or not -len(display.elts) <= k < len(display.elts):
                        break
                    uses.append((parent, display.elts[k]))
                elif isinstance(parent, gast.For) and parent.iter is r:
                    uses.append((r, display))
                else:
                    break
            else:
                if not reads or not self.dominated(stmt, reads):
                    continue
                for node, value in uses:
                    trees.become(node, _placed(trees.clone(value), node))
                self.remove(stmt)
                return True
        return False

    def dict_views(self):
        """``fs = {'a': np.sin, ...}`` bound once: ``for f in fs.values()``, ``for k, f in fs.items()``, ``sorted(fs)``
        read the display's functions and keys written out (``for f in (np.sin, ...)``, which ``loops``
        unrolls), whatever else reads ``fs``."""
        for stmt in _in_order(self.fn):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or self.bindings.get(name) != 1 or id(stmt) not in self.blocks:
                continue
            display = stmt.value
            if not (isinstance(display, gast.Dict) and display.keys):
                continue
            if not all(isinstance(k, gast.Constant) for k in display.keys):
                continue
            keyed = {}
            for k, v in zip(display.keys, display.values):
                keyed[k.value] = v  # (a repeated key: the last value, as Python's display)
            if not all(self.table_function(v) for v in keyed.values()):
                continue
            views = [self.dict_view(r, keyed) for r in self.reads(name)]
            views = [(r, v) for r, v in zip(self.reads(name), views) if v is not None]
            if not views or not self.dominated(stmt, [r for r, _ in views]):
                continue
            for node, value in (v for _, v in views):
                trees.become(node, _placed(value, node))
            return True
        return False

    def dict_view(self, read, keyed):
        """(node, the tuple display it stands for) where ``read``, of a dict display of functions ``keyed``, is
        looped over by its ``values()``, ``items()`` or ``keys()``, or passed whole to ``sorted``, ``len``,
        ``list`` or ``tuple`` (which see its keys), else None."""
        parent = self.parents.get(id(read))
        call = self.parents.get(id(parent))
        keys = [trees.const(k) for k in keyed]
        if (
            isinstance(parent, gast.Attribute)
            and parent.value is read
            and parent.attr in ("values", "items", "keys")
            and isinstance(call, gast.Call)
            and call.func is parent
            and not call.args
            and not call.keywords
            and isinstance(self.parents.get(id(call)), gast.For)
            and self.parents[id(call)].iter is call
        ):
            if parent.attr == "values":
                elts = [trees.clone(v) for v in keyed.values()]
            elif parent.attr == "keys":
                elts = keys
            else:
                elts = [gast.Tuple(elts=[k, trees.clone(v)], ctx=gast.Load()) for k, v in zip(keys, keyed.values())]
            return call, gast.Tuple(elts=elts, ctx=gast.Load())
        if isinstance(parent, gast.Call) and parent.args == [read] and not parent.keywords:
            if source_mod.global_value(parent.func, self.src, self.local) in (sorted, len, list, tuple):
                return read, gast.Tuple(elts=keys, ctx=gast.Load())
        return None

    def rows_of_functions(self):
        """``layers = [(W1, relu), (W2, np.tanh)]`` only looped over (``for W, act in layers``): the values that
        are not functions or constants are kept in variables of their own where the display stands
        (``_layers1 = W1``), and each loop is over the display then written out, which ``loops`` unrolls."""
        for stmt in _in_order(self.fn):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or self.bindings.get(name) != 1 or id(stmt) not in self.blocks:
                continue
            display = stmt.value
            if not (isinstance(display, (gast.Tuple, gast.List)) and display.elts):
                continue
            rows = display.elts
            if not all(isinstance(r, gast.Tuple) and len(r.elts) == len(rows[0].elts) for r in rows):
                continue
            if any(isinstance(e, gast.Starred) for r in rows for e in r.elts):
                continue
            width = len(rows[0].elts)
            kinds = [{bool(self.table_function(r.elts[p])) for r in rows} for p in range(width)]
            if not any(k == {True} for k in kinds) or any(len(k) > 1 for k in kinds):
                continue
            reads = self.reads(name)
            loops = [self.parents.get(id(r)) for r in reads]
            if not reads or not all(isinstance(p, gast.For) and p.iter is r for p, r in zip(loops, reads)):
                continue
            if not self.dominated(stmt, reads):
                continue
            kept = []
            for r in rows:
                for p, e in enumerate(r.elts):
                    if kinds[p] == {False} and not isinstance(e, gast.Constant):
                        var = self.namer.fresh(naming.UNROLLED, name)
                        kept.append(gast.copy_location(trees.assign(var, e), e))
                        r.elts[p] = gast.copy_location(trees.name(var), e)
            for r in reads:
                trees.become(r, _placed(trees.clone(display), r))
            self.replace(stmt, kept or [gast.copy_location(gast.Pass(), stmt)])
            return True
        return False

    def table_function(self, node):
        """Whether ``node``, an item of a display of functions, may be read in place of each read of it: a
        function named statically, or a lambda whose defaults are constants (evaluated where it is made,
        they would be evaluated at each read), which then reads what it reads where it is called."""
        if isinstance(node, gast.Lambda):
            return all(isinstance(d, gast.Constant) for d in node.args.defaults + node.args.kw_defaults if d)
        return self.static_function(node) and not isinstance(node, gast.Starred)

    def tables(self):
        """``OPS["sq"](x)``, ``FS[0](x)``, where ``OPS`` is a global dict, list or tuple (a module's table of
        functions) and the key a literal: a call of the function it holds now, under a name of its own in
        the function's environment (``OPS_sq``); the compiled code is valid while ``OPS`` is that table and
        holds that function under that key (a guard, checked at each call as globals are)."""
        for node in list(trees.walk(self.fn)):
            if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Subscript)):
                continue
            table_node, key_node = node.func.value, node.func.slice
            if not (
                isinstance(table_node, (gast.Name, gast.Attribute))
                and isinstance(key_node, (gast.Constant, gast.UnaryOp))
            ):
                continue
            table = source_mod.global_value(table_node, self.src, self.local, default=_UNKNOWN)
            if type(table) is dict:
                key = key_node.value if isinstance(key_node, gast.Constant) else _UNKNOWN
                if not source_mod.hashable(key) or key not in table:
                    continue
                holder = table
            elif type(table) in (list, tuple):
                key = _constant_index(key_node)
                if key is None or not -len(table) <= key < len(table):
                    continue
                key = key % len(table)
                holder = table if type(table) is tuple else _Items(table)
            else:
                continue
            value = table[key]
            if not (inspect.isfunction(value) or inspect.isbuiltin(value) or isinstance(value, np.ufunc)):
                continue
            spelled = trees.unparse(table_node).strip().replace(".", "_")
            label = "%s_%s" % (spelled, key) if _identifier_part(key) else spelled
            name = self.src.bind(label if label.isidentifier() else "table_function", value)
            if type(table) is not tuple:  # (a tuple holds what it holds: the guard of its name is enough)
                self.src.env.attributes.append((holder, key, value))
            node.func = gast.copy_location(trees.name(name), node.func)
            return True
        return False

    def global_tables(self):
        """``ACTS[name](x)``, ``ACTS`` a global dict, list or tuple of functions (a module's table) and the key
        known at run time only: the call of an element of a display of those functions, bound in the
        environment (``{'relu': ACTS_relu, 'tanh': ACTS_tanh}[name](x)``), for ``choices``; the compiled code
        is valid while ``ACTS`` holds those keys and functions (guards, as ``tables``' are)."""
        changed = False
        for node in list(trees.walk(self.fn)):
            if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Subscript)):
                continue
            table_node, key_node = node.func.value, node.func.slice
            if not isinstance(table_node, (gast.Name, gast.Attribute)) or not self.pure(key_node):
                continue
            if isinstance(key_node, gast.Constant) or _constant_index(key_node) is not None:
                continue  # (tables: the function under that key)
            table = source_mod.global_value(table_node, self.src, self.local, default=_UNKNOWN)
            if type(table) is dict:
                keys = list(table)
                if not all(type(k) in (str, int) for k in keys):
                    continue
            elif type(table) in (list, tuple):
                keys = list(range(len(table)))
            else:
                continue
            if not keys or len(keys) > 32:
                continue
            values = [table[k] for k in keys]
            if not all(inspect.isfunction(v) or inspect.isbuiltin(v) or isinstance(v, np.ufunc) for v in values):
                continue
            spelled = trees.unparse(table_node).strip().replace(".", "_")
            names = []
            for k, v in zip(keys, values):
                label = "%s_%s" % (spelled, k) if _identifier_part(k) else spelled
                names.append(
                    gast.copy_location(
                        trees.name(self.src.bind(label if label.isidentifier() else "table_function", v)), node.func
                    )
                )
            if type(table) is dict:
                display = gast.Dict(keys=[trees.const(k) for k in keys], values=names)
                self.src.env.attributes.extend((table, k, v) for k, v in zip(keys, values))
            else:
                display = gast.Tuple(elts=names, ctx=gast.Load())
                if type(table) is list:
                    self.src.env.attributes.extend((_Items(table), k, v) for k, v in zip(keys, values))
            if type(table) is not tuple:
                shape = _Shape(table)
                self.src.env.attributes.append((shape, "shape", shape.token))
            node.func.value = _placed(display, table_node)
            changed = True
        return changed

    def is_partial(self, node):
        if not (isinstance(node, gast.Call) and node.args and _plain(node)):
            return False
        if source_mod.global_value(node.func, self.src, self.local) is not functools.partial:
            return False
        return isinstance(node.args[0], gast.Lambda) or self.static_function(node.args[0])

    def stays(self, value):
        """Whether ``value`` means the same wherever it is read later: a constant, or a parameter the
        function never rebinds (a global could be rebound by a call in between)."""
        if isinstance(value, gast.Constant):
            return True
        return isinstance(value, gast.Name) and value.id in self.params and self.bindings.get(value.id) == 1

    def function_item(self, node):
        return isinstance(node, gast.Lambda) or self.static_function(node) or self.is_partial(node)

    def rows(self, loop):
        """(target names, one list of values per iteration) of a loop over a display, where at least one
        target takes only functions known when compiling (and the other targets none), else None:
        ``for fn in (f, g)``, ``for fn, w in ((f, 1.0), (g, x))``, ``for i, fn in enumerate((f, g))``."""
        target, items = loop.target, loop.iter
        if isinstance(items, gast.Call) and not items.keywords and len(items.args) == 1:
            if source_mod.global_value(items.func, self.src, self.local) is not enumerate:
                return None
            items = items.args[0]
            if not isinstance(items, (gast.Tuple, gast.List)):
                return None
            items = [
                gast.copy_location(gast.Tuple(elts=[trees.const(k), e], ctx=gast.Load()), e)
                for k, e in enumerate(items.elts)
            ]
        elif isinstance(items, (gast.Tuple, gast.List)):
            items = items.elts
        else:
            return None
        if isinstance(target, gast.Name):
            names, rows = [target.id], [[e] for e in items]
        elif isinstance(target, gast.Tuple) and all(isinstance(e, gast.Name) for e in target.elts):
            names = [e.id for e in target.elts]
            if not all(isinstance(e, gast.Tuple) and len(e.elts) == len(names) for e in items):
                return None
            rows = [list(e.elts) for e in items]
        else:
            return None
        if any(isinstance(v, gast.Starred) for row in rows for v in row) or len(set(names)) != len(names):
            return None
        kinds = [{self.function_item(row[p]) for row in rows} for p in range(len(names))]
        if not rows or True not in set().union(*kinds) or any(len(k) > 1 for k in kinds):
            return None
        return names, rows

    def loops(self):
        """``for fn in (np.sin, np.cos): body`` -> the body once with ``np.sin`` for ``fn``, once with ``np.cos``
        (a target taking other values is assigned its value at the start of each copy)."""
        for loop in list(_in_order(self.fn)):
            if not isinstance(loop, gast.For) or id(loop) not in self.blocks or loop.orelse or _jumps(loop.body):
                continue
            found = self.rows(loop)
            if found is None:
                continue
            names, rows = found
            functions = [p for p in range(len(names)) if self.function_item(rows[0][p])]
            if any(self.bindings.get(names[p]) != 1 for p in functions):
                continue
            new = []  # what Python evaluates before the loop, in its order: the display
            values = []
            for row in rows:
                values.append([])
                for p, item in enumerate(row):
                    if (
                        isinstance(item, gast.Constant)
                        or p in functions
                        and isinstance(item, (gast.Name, gast.Attribute))
                    ):
                        values[-1].append(item)  # (a constant, or a function named: the same when read later)
                    else:  # made once, before the loop, as Python makes the display
                        var = self.namer.fresh(naming.UNROLLED, names[p])
                        new.append(gast.copy_location(trees.assign(var, item), item))
                        values[-1].append(gast.copy_location(trees.name(var), item))
            for row in values:
                for p, value in enumerate(row):
                    if p not in functions:
                        new.append(gast.copy_location(trees.assign(names[p], trees.clone(value)), loop))
                new.extend(trees.substituted(loop.body, {names[p]: row[p] for p in functions}))
            inside = {id(n) for n in trees.walk(loop)}
            for p in functions:
                if any(id(r) not in inside for r in self.reads(names[p])):
                    new.append(gast.copy_location(trees.assign(names[p], trees.clone(values[-1][p])), loop))
            self.replace(loop, new or [gast.copy_location(gast.Pass(), loop)])
            return True
        return False

    def returned(self):
        """``g = make(x)`` where make returns a function it defines: make's body inlined, renamed, and ``g``
        the function it defined (desugar made ``make(x)(y)`` into ``_make1 = make(x)`` and ``_make1(y)``)."""
        for stmt in list(_in_order(self.fn)):
            name = trees.assigned_name(stmt) if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 else None
            if name is None or not isinstance(stmt.value, gast.Call) or id(stmt) not in self.blocks:
                continue
            if not any(
                isinstance(self.parents.get(id(r)), gast.Call) and self.parents[id(r)].func is r
                for r in self.reads(name)
            ):
                continue  # (only a function that is called is made here)
            made = self.maker(stmt.value.func)
            if made is None:
                continue
            maker, label = made
            call = stmt.value
            where = self.src.location(call)
            why = _not_inlinable(maker, call)
            if why is None and self.own.get(name) != 1:
                why = "the variable '%s' it is assigned to is also assigned elsewhere" % name
            if why is None and not self.dominated(stmt, self.reads(name)):
                why = "'%s' is read where it may not have been assigned yet" % name
            if why is not None:
                raise UnsupportedError(
                    "a call of the function that %s(...) returns, where %s" % (label, why),
                    where,
                    "define the function it returns at module level, taking what it reads as parameters",
                )
            lowered = desugar.run(trees.clone(maker), self.src, own_arguments=False)  # as this body was
            why = _not_inlinable(lowered, call)
            if why is not None:
                raise UnsupportedError("a call of the function that %s(...) returns, where %s" % (label, why), where)
            self.replace(stmt, self.inlined(lowered, call, name, stmt))
            if self.nested.get(label) is maker:
                self.survey()
                if not self.reads(label):  # inlined everywhere: its def goes (its names would shadow g's)
                    self.remove(maker)
            return True
        return False

    def maker(self, func):
        """(FunctionDef, label) of the function ``func`` calls, if it defines functions and its body can be
        read in this one's place: a nested function, or a function of the same module without a closure."""
        if isinstance(func, gast.Name) and isinstance(self.nested.get(func.id), gast.FunctionDef):
            node = self.nested[func.id]
            if any(isinstance(n, (gast.FunctionDef, gast.Lambda)) for n in trees.scope(node.body)):
                return node, func.id
            return None
        value = source_mod.global_value(func, self.src, self.local)
        if not (inspect.isfunction(value) and any(inspect.iscode(c) for c in value.__code__.co_consts)):
            return None
        if (value.__module__ or "").startswith("adjoint_compiler") or value.__code__.co_filename.startswith(_LIBRARIES):
            return None
        label = value.__name__
        own = getattr(self.src.func, "__globals__", None)
        if value.__globals__ is not own or value.__closure__:
            raise UnsupportedError(
                "a call of the function that %s(...) returns, a function of another module or a closure" % label,
                self.src.location(func),
                "define the function it returns at module level, taking what it reads as parameters",
            )
        tree = trees.clone(source_mod.read(value).tree)
        for n in sorted(trees.loads(tree) - _bound_anywhere(tree)):
            mine = dict.get(self.src.env, n, _UNKNOWN)
            if n in self.local or mine is not value.__globals__.get(n, getattr(builtins, n, _UNKNOWN)):
                raise UnsupportedError(
                    "a call of the function that %s(...) returns, which reads '%s', a name this function "
                    "binds otherwise" % (label, n),
                    self.src.location(func),
                    "rename one of them",
                )
        return tree, label

    def inlined(self, maker, call, name, stmt):
        """The statements of ``name = maker(*args)``: each parameter assigned its argument, the maker's body
        with its variables renamed, and the function it returns defined as ``name``."""
        body = maker.body
        result = body[-1].value
        mapping = {}
        for v in sorted(_own_names(maker)):
            mapping[v] = self.unique(naming.INLINED.format(maker.name, v))
        if isinstance(result, gast.Name):
            self.namer.taken.discard(mapping[result.id])
            mapping[result.id] = name
        params = [a.id for a in maker.args.args]
        out = []
        given = set()
        for param, arg in zip(params, call.args):
            out.append(gast.copy_location(trees.assign(mapping[param], arg), arg))
            given.add(param)
        for k in call.keywords:
            out.append(gast.copy_location(trees.assign(mapping[k.arg], k.value), k.value))
            given.add(k.arg)
        defaults = dict(zip(params[len(params) - len(maker.args.defaults) :], maker.args.defaults))
        for param in params:
            if param not in given:
                out.append(gast.copy_location(trees.assign(mapping[param], trees.clone(defaults[param])), call))
        for s in body[:-1]:
            out.append(_renamed(trees.clone(s), mapping))
        if isinstance(result, gast.Lambda):
            lam = _renamed(trees.clone(result), mapping)
            out.append(gast.copy_location(trees.assign(name, lam), stmt))
        return out

    # -- functions chosen at run time ----------------------------------------------------------------

    def leaves(self, node, containers):
        """The functions ``node`` may evaluate to, if it chooses among functions known when compiling (a
        function named statically, a lambda of constant defaults, a conditional expression of them, an
        element of a display of them or of a local in ``containers`` bound to one), else None."""
        if isinstance(node, gast.Lambda):
            return [node] if self.table_function(node) else None
        if isinstance(node, gast.IfExp):
            body, orelse = self.leaves(node.body, containers), self.leaves(node.orelse, containers)
            return None if body is None or orelse is None else body + orelse
        if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load) and self.pure(node.slice):
            if isinstance(node.value, gast.Name) and node.value.id in containers:
                return containers[node.value.id]
            return self.display_leaves(node.value)
        if isinstance(node, (gast.Name, gast.Attribute)) and not isinstance(node, gast.Starred):
            return [node] if self.static_function(node) and not _is_local(node, self.nested, self.local) else None
        return None

    def display_leaves(self, node):
        """The functions a tuple, list or dict display (of constant keys) holds, if it holds only functions
        known when compiling, else None."""
        if isinstance(node, gast.Dict) and node.keys and all(isinstance(k, gast.Constant) for k in node.keys):
            items = node.values
        elif isinstance(node, (gast.Tuple, gast.List)) and node.elts:
            items = node.elts
        else:
            return None
        found = [self.leaves(e, {}) for e in items]
        if any(f is None or isinstance(e, gast.IfExp) for f, e in zip(found, items)):
            return None
        return [leaf for f in found for leaf in f]

    def choices(self):
        """A local bound to one of several functions known when compiling, chosen at run time (``act =
        relu if flag else np.tanh``, in the arms of an ``if``, ``acts[name]``, a loop over a display of
        functions), and only called: it holds a tag instead, the function's name (``act = 'relu' if flag
        else 'np.tanh'``), and each call is of the function the tag names (``relu(x) if act == 'relu' else
        np.tanh(x)``); a display of such functions read only by element (``acts = {'relu': relu, ...}``)
        holds the tags likewise. ``{'relu': relu, ...}[name](x)`` calls through the tags of the display
        itself. A lambda among them is defined, under a name of its own, at the start of the function.
        The tags are strings: comparisons, not differentiated; each function is called where, as often and
        with the arguments Python would call it."""
        scope = {id(n) for n in trees.scope(self.fn.body)}
        binders = {}  # name -> the statements binding it in the function's own scope
        for stmt in _in_order(self.fn):
            if id(stmt) not in scope:
                continue
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
                binders.setdefault(stmt.targets[0].id, []).append(stmt)
            elif isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name):
                binders.setdefault(stmt.target.id, []).append(stmt)
        usable = {
            n: b
            for n, b in binders.items()
            if n not in self.params and n not in self.nested and self.bindings.get(n) == self.own.get(n) == len(b)
        }
        containers = {}
        for n, b in usable.items():
            found = self.display_leaves(b[0].value) if len(b) == 1 and isinstance(b[0], gast.Assign) else None
            if found is not None:
                containers[n] = found
        while True:  # drop the candidates read otherwise, until none is
            functions = {}
            for n, b in usable.items():
                if n in containers:
                    continue
                found = []
                for stmt in b:
                    if isinstance(stmt, gast.For):  # (a loop over a dict display goes over its keys)
                        leaves = None if isinstance(stmt.iter, gast.Dict) else self.display_leaves(stmt.iter)
                    else:
                        leaves = self.leaves(stmt.value, containers)
                    if leaves is None:
                        found = None
                        break
                    found += leaves
                if found:
                    functions[n] = found
            dropped = False
            for n in list(functions) + list(containers):
                if not self.only_called(n, functions, containers, scope):
                    functions.pop(n, None)
                    dropped = dropped or containers.pop(n, None) is not None
            if not dropped:
                break
        functions = {n: f for n, f in functions.items() if len({self.spelled(leaf) for leaf in f}) > 1}
        direct = self.direct_calls(scope, containers)
        if not (functions or containers or direct):
            return False
        hoisted = []
        tags = {}  # id of a leaf -> its tag

        def tag_of(leaf, owner):
            if id(leaf) not in tags:
                if isinstance(leaf, gast.Lambda):
                    name = self.namer.fresh(naming.CHOSEN_LAMBDA, owner)
                    hoisted.append(gast.copy_location(trees.assign(name, leaf), leaf))
                    tags[id(leaf)] = name
                else:
                    tags[id(leaf)] = trees.unparse(leaf).strip()
            return tags[id(leaf)]

        def tagged(node, owner):
            """``node``, a choice among functions, as the same choice among their tags."""
            if isinstance(node, gast.IfExp):
                node.body, node.orelse = tagged(node.body, owner), tagged(node.orelse, owner)
                return node
            if isinstance(node, gast.Subscript) and not (
                isinstance(node.value, gast.Name) and node.value.id in containers
            ):
                node.value = tagged_display(node.value, owner)
                return node
            if isinstance(node, gast.Subscript):
                return node
            return gast.copy_location(trees.const(tag_of(node, owner)), node)

        def tagged_display(node, owner):
            items = node.values if isinstance(node, gast.Dict) else node.elts
            items[:] = [tagged(e, owner) for e in items]
            return node

        def dispatch(call, slot, leaves, owner):
            """``call`` of (or passing) the function ``slot`` (an expression of the tag, without effects) names,
            one of ``leaves``: a copy of the call per function, each with the function in ``slot``."""
            named = []
            for leaf in leaves:
                t = tag_of(leaf, owner)
                if t not in [m for m, _ in named]:
                    func = trees.name(t) if isinstance(leaf, gast.Lambda) else trees.clone(leaf)
                    named.append((t, _placed(func, slot)))
            tag = trees.clone(slot)
            if not isinstance(tag, gast.Name) and len(named) == 1:
                named = named * 2  # (the tag is still looked up: a missing key raises as Python's would)
            arms = []
            for t, func in named:
                trees.become(slot, func)
                arms.append((t, trees.clone(call)))
            out = arms[-1][1]
            for t, arm in reversed(arms[:-1]):
                test = gast.Compare(left=trees.clone(tag), ops=[gast.Eq()], comparators=[trees.const(t)])
                out = gast.IfExp(test=_placed(test, tag), body=arm, orelse=out)
            trees.become(call, _placed_new(out, call))

        while direct:
            call = direct[0]
            leaves = self.leaves(call.func, {})
            tagged_display(call.func.value, "fn")
            dispatch(call, call.func, leaves, "fn")
            direct = self.direct_calls(scope, containers)
        for n, leaves in containers.items():
            tagged_display(usable[n][0].value, n)
            while True:  # (a call among the arguments of another is copied into each arm of its dispatch)
                self.reparent()
                subs = [self.parents[id(r)] for r in self.reads(n)]
                calls = [(self.parents.get(id(s)), s) for s in subs]
                calls = [(c, s) for c, s in calls if isinstance(c, gast.Call) and c.func is s]
                if not calls:
                    break
                dispatch(calls[0][0], calls[0][1], leaves, n)
        for n, leaves in functions.items():
            for stmt in usable[n]:
                if isinstance(stmt, gast.For):
                    tagged_display(stmt.iter, n)
                else:
                    stmt.value = tagged(stmt.value, n)
            while True:
                self.reparent()
                reads = [r for r in self.reads(n) if self.call_of(r) is not None]  # (not the tests made)
                if not reads:
                    break
                dispatch(self.call_of(reads[0]), reads[0], leaves, n)
        self.fn.body[:0] = hoisted
        return True

    def direct_calls(self, scope, containers):
        """``{'relu': relu, 'tanh': np.tanh}[name](x)``: the calls of an element of a display of functions."""
        return [
            node
            for node in trees.walk(self.fn)
            if isinstance(node, gast.Call)
            and id(node) in scope
            and isinstance(node.func, gast.Subscript)
            and not (isinstance(node.func.value, gast.Name) and node.func.value.id in containers)
            and self.leaves(node.func, {}) is not None
        ]

    def pure(self, node):
        return _pure(node, lambda n: source_mod.global_value(n, self.src, self.local))

    def spelled(self, leaf):
        return id(leaf) if isinstance(leaf, gast.Lambda) else trees.unparse(leaf).strip()

    def reparent(self):
        self.parents = {}
        for node in trees.walk(self.fn):
            for child in gast.iter_child_nodes(node):
                self.parents[id(child)] = node

    def call_of(self, read):
        """The call that calls ``read`` or passes it as an argument, else None."""
        parent = self.parents.get(id(read))
        if isinstance(parent, gast.keyword):
            parent = self.parents.get(id(parent))
            return parent if isinstance(parent, gast.Call) else None
        if isinstance(parent, gast.Call) and (parent.func is read or any(a is read for a in parent.args)):
            return parent
        return None

    def only_called(self, name, functions, containers, scope):
        """Whether each read of the local ``name`` is a call of it or passes it to a call (a function; nested
        functions' reads too), or, in the function's own scope, an element of it called or chosen into a local
        of ``functions`` (a container)."""
        values = {id(s.value) for n in functions for s in self.binders_of(n) if isinstance(s, gast.Assign)}
        for read in self.reads(name):
            if id(read) not in scope and name in containers:
                return False  # (a function's tag is read inside a nested function as any variable is: lift passes it)
            parent = self.parents.get(id(read))
            if name not in containers:
                if self.call_of(read) is None:
                    return False
                continue
            if isinstance(parent, gast.Call) and parent.args == [read] and not parent.keywords:
                # the tags' display has the keys and the length of the functions': sorted(acts), len(fs)
                seen = source_mod.global_value(parent.func, self.src, self.local)
                keyed = any(isinstance(s.value, gast.Dict) for s in self.binders_of(name))
                if seen is len or (keyed and seen in (sorted, list, tuple)):
                    continue
            if not (isinstance(parent, gast.Subscript) and parent.value is read and self.pure(parent.slice)):
                return False
            node = parent
            while isinstance(self.parents.get(id(node)), gast.IfExp) and node is not self.parents[id(node)].test:
                node = self.parents[id(node)]
            outer = self.parents.get(id(node))
            if not ((isinstance(outer, gast.Call) and outer.func is node is parent) or id(node) in values):
                return False
        return True

    def binders_of(self, name):
        return [
            s
            for s in _in_order(self.fn)
            if (isinstance(s, gast.Assign) and len(s.targets) == 1 and trees.assigned_name(s) == name)
            or (isinstance(s, gast.For) and isinstance(s.target, gast.Name) and s.target.id == name)
        ]

    # -- refusals ----------------------------------------------------------------------------------

    def refuse(self):
        for loop in _in_order(self.fn):
            found = self.rows(loop) if isinstance(loop, gast.For) else None
            if found is None:
                continue
            names = {n for p, n in enumerate(found[0]) if self.function_item(found[1][0][p])}
            called = [
                n
                for s in loop.body
                for n in trees.walk(s)
                if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id in names
            ]
            if called:
                why = (
                    "with an else clause"
                    if loop.orelse
                    else "with break or continue"
                    if _jumps(loop.body)
                    else "whose variable is also assigned elsewhere"
                )
                raise UnsupportedError(
                    "a loop over functions %s (only a loop without them is unrolled)" % why,
                    self.src.location(loop),
                    "compute a flag in the loop and test it after each call instead",
                )
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
_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


class _Items:
    """A guard's holder for a list: ``get(k)``, its item ``k`` now (None where it has none), as a dict's."""

    def __init__(self, items):
        self.items = items

    def get(self, k):
        return self.items[k] if -len(self.items) <= k < len(self.items) else None


_PURE_BUILTINS = (int, float, bool, len, abs, round, min, max)  # of pure arguments, a key computed


class _Shape:
    """A guard's holder for a table's keys (a dict's, in order) or length (a list's): ``get(...)``, ``token``
    while they are the ones the code was compiled for, else None (a key added is seen)."""

    def __init__(self, table):
        self.table = table
        self.shape = self.now()
        self.token = object()

    def now(self):
        return tuple(self.table) if type(self.table) is dict else len(self.table)

    def get(self, name, default=None):
        return self.token if self.now() == self.shape else default


def _pure(node, resolve):
    """Whether evaluating ``node`` again gives the same value and does nothing else (an index or key read
    more than once): constants, names, their attributes and elements combined by operators, comparisons, ``and``/``or``
    and calls of the builtins ``_PURE_BUILTINS`` (``resolve``: the value of a global name)."""
    if isinstance(node, (gast.Constant, gast.Name)):
        return True
    if isinstance(node, gast.Attribute):
        return _pure(node.value, resolve)
    if isinstance(node, gast.Subscript) and not isinstance(node.slice, gast.Slice):
        return _pure(node.value, resolve) and _pure(node.slice, resolve)
    if isinstance(node, gast.UnaryOp):
        return _pure(node.operand, resolve)
    if isinstance(node, gast.BinOp):
        return _pure(node.left, resolve) and _pure(node.right, resolve)
    if isinstance(node, gast.Compare):
        return _pure(node.left, resolve) and all(_pure(c, resolve) for c in node.comparators)
    if isinstance(node, gast.BoolOp):
        return all(_pure(v, resolve) for v in node.values)
    if isinstance(node, gast.Call) and not node.keywords and isinstance(node.func, gast.Name):
        return resolve(node.func) in _PURE_BUILTINS and all(_pure(a, resolve) for a in node.args)
    return False


def _is_local(node, nested, local):
    """Whether ``node`` reads a variable of the function (not a function defined in it)."""
    return isinstance(node, gast.Name) and node.id in local and node.id not in nested


def _placed_new(tree, at):
    """``tree`` with each node that has no location at ``at``'s."""
    for node in trees.walk(tree):
        if isinstance(node, gast.expr) and getattr(node, "lineno", None) is None:
            gast.copy_location(node, at)
    return tree


def _identifier_part(key):
    return (type(key) is int and key >= 0) or (isinstance(key, str) and key.isidentifier())


def _constant_index(node):
    """The int a subscript's index is written as (``0``, ``-1``), else None."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        k = _constant_index(node.operand)
        return None if k is None else -k
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    return None


def _in_order(fn):
    """The statements under ``fn``, in the order they are written."""
    out = []

    def visit(block):
        for stmt in block:
            out.append(stmt)
            for field in _BLOCKS:
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    visit(inner)
            for handler in getattr(stmt, "handlers", None) or []:
                visit(handler.body)

    visit(fn.body)
    return out


def _not_inlinable(maker, call):
    """Why the body of ``maker`` (a FunctionDef) cannot stand for ``call`` of it, or None."""
    args = maker.args
    if getattr(maker, "decorator_list", None):
        return "%s is decorated" % maker.name
    if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
        return "%s takes *args, **kwargs, keyword-only or positional-only parameters" % maker.name
    if not _plain(call):
        return "the call spreads *args or **kwargs"
    params = [a.id for a in args.args]
    if len(call.args) > len(params) or any(k.arg not in params[len(call.args) :] for k in call.keywords):
        return "the call does not match the parameters of %s" % maker.name
    given = set(params[: len(call.args)]) | {k.arg for k in call.keywords}
    defaults = dict(zip(params[len(params) - len(args.defaults) :], args.defaults))
    for p in params:
        if p not in given and not isinstance(defaults.get(p), gast.Constant):
            return "the parameter '%s' is left to a default that is not a constant" % p
    body = maker.body
    last = body[-1] if body else None
    if not (isinstance(last, gast.Return) and last.value is not None):
        return "%s does not end by returning the function it defines" % maker.name
    result = last.value
    defined = {s.name for s in body[:-1] if isinstance(s, gast.FunctionDef)}
    if not (isinstance(result, gast.Lambda) or isinstance(result, gast.Name) and result.id in defined):
        return "%s returns something other than a lambda or a function it defines (by its name)" % maker.name
    for node in trees.scope(body):
        if isinstance(node, gast.Return) and node is not last:
            return "%s returns at more than one place" % maker.name
        if isinstance(node, (gast.Global, gast.Nonlocal, gast.Yield, gast.YieldFrom, gast.Try)):
            return "%s has a global, nonlocal, yield or try statement" % maker.name
        if isinstance(node, gast.Name) and node.id == maker.name:
            return "%s calls itself" % maker.name
    own = _own_names(maker)
    if isinstance(result, gast.Name) and sum(1 for s in trees.scope(body) if _binds(s, result.id)) != 1:
        return "%s binds the name '%s' more than once" % (maker.name, result.id)
    if maker.name in own:
        return "%s binds its own name" % maker.name
    return None


def _bound_anywhere(tree):
    """Every name bound somewhere in ``tree``, in any of its scopes."""
    names = {n.id for n in trees.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))}
    return names | {n.name for n in trees.walk(tree) if isinstance(n, gast.FunctionDef)}


def _declared(fn):
    """The names ``fn`` declares nonlocal or global: its enclosing scope's, not its own."""
    return {n for s in trees.scope(fn.body) if isinstance(s, (gast.Nonlocal, gast.Global)) for n in s.names}


def _binds(node, name):
    return (
        (isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Store))
        or isinstance(node, gast.FunctionDef)
        and node.name == name
    )


def _own_names(fn):
    """The names ``fn`` binds in its own scope: parameters, assignment targets, functions it defines."""
    names = set(_parameters(fn))
    for node in trees.scope(fn.body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            names.add(node.id)
        elif isinstance(node, gast.FunctionDef):
            names.add(node.name)
    return names


def _renamed(node, mapping):
    """``node`` with the names of ``mapping`` renamed where they mean the enclosing scope's variables (not
    inside a function that binds that name itself); ``nonlocal`` declarations of them too."""
    if isinstance(node, (gast.FunctionDef, gast.Lambda)):
        inner = _own_names(node) if isinstance(node, gast.FunctionDef) else set(_parameters(node))
        if isinstance(node, gast.FunctionDef):
            declared = {n for s in trees.scope(node.body) if isinstance(s, gast.Nonlocal) for n in s.names}
            inner -= declared
            if node.name in mapping:
                node.name = mapping[node.name]
        else:
            inner |= {n.id for n in trees.walk(node.body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        visible = {k: v for k, v in mapping.items() if k not in inner}
        for default in node.args.defaults:
            _renamed(default, mapping)
        for child in node.body if isinstance(node.body, list) else [node.body]:
            _renamed(child, visible)
        return node
    if isinstance(node, gast.Name) and node.id in mapping and not isinstance(node.ctx, gast.Param):
        node.id = mapping[node.id]
    if isinstance(node, gast.Nonlocal):
        node.names = [mapping.get(n, n) for n in node.names]
    for child in gast.iter_child_nodes(node):
        _renamed(child, mapping)
    return node


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
