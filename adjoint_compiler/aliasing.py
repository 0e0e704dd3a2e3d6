"""Check that every in-place update (``a[i] = v``, ``a[i] += v``, ``xs.append(v)``) writes into memory
no other live name sees.

Output invariant: the tree is returned as it came, except that run-time guards are
added where the analysis cannot decide at compile time (``check_overlap`` before a
store of an overlapping view with other strides) and removed where it proves an
array unshared (the ``check_rebind`` guard of ``x op= y``), and ``check_distinct`` /
``check_not_argument`` / nothing else before a store ``a[i][j] = v`` through a container that may
hold one row twice or an argument. After this pass, an element or slice store changes the contents
of one object that only the stored-into name can reach from then on (for ``a[i][j] = v``, the
object ``a[i]``, which only ``a`` reaches; a view or copy of it taken earlier is dead), and that
object was made inside the function, not passed in or read from a global.
So the later passes may treat the store as an update of that one variable:
the SSA form and the activity analysis stay exact, and the adjoint sweep can
undo the store to give earlier code back the contents it saw.

The analysis is a may-point-to abstraction over the normalized (pre-SSA) code:
each name points to a set of tokens, one per place an object is made, a
parameter or the module's globals. A place inside a loop makes a new object on
every trip, so its token is split into the newest object and the older ones
(a recency abstraction): a name bound on an earlier trip does not alias the
object made on this one. Copies are new objects the function owns: ``list(xs)``,
``tuple(xs)``, ``dict(d)``, ``x.copy()`` (of a global's array too), ``np.array(x)``,
``x.astype(t)`` and a slice of a list, tuple or dict display (the points-to sets
know which objects are containers: an element of one is one of its contents, not a
view of it).

>>> import gast
>>> from adjoint_compiler import normalize
>>> src = "def f(x):\\n    a = x * 1.0\\n    b = a[1:]\\n    a[0] = 2.0\\n    return b.sum()"
>>> try:
...     run(normalize.run(gast.parse(src).body[0], None), None)
... except Exception as e:
...     print(e.construct)
in-place update of a while b (a view or copy of the same array) is still used
"""

import inspect

import gast

from adjoint_compiler import effects, naming, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import UnsupportedError

_GLOBAL = ("global",)


def _root(node):
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        node = node.value
    return node


class _Points:
    """Flow-sensitive may-point-to sets over a block of statements."""

    def __init__(self, fn, source, local):
        self.source = source
        self.local = local
        self.params = [a.id for a in fn.args.args]
        self.inner = {}  # token -> tokens of the objects it holds (list elements, a tuple's parts)
        self.stores = {}  # id(store statement) -> (statement, tokens written, points-to state after it)
        self.checks = {}  # id(check_rebind statement) -> (statement, tokens of its name, points-to state)
        self.overlapping = set()  # ids of stores a[i] = v where v may be a view into a
        self.containers = set()  # tokens of certain lists, tuples and dicts: their slices are copies
        self.listed = None  # a name certainly a list for the statements being read (block)
        self.arguments = {}  # id(store a[i][j] = v) -> the parameters a[i] may be: checked when it runs
        self.repeated = set()  # tokens of containers that may hold one object at two places ([row] * n)
        self.arrays = set()  # tokens of objects certainly not a list, tuple or dict (a * 2.0: an array or number)
        self.array_items = set()  # ids of check_item_rebind guards on such an object: its items are updated in place
        # id(t = variant(...)) of a call changing its arguments (carry.py) -> (statement, {changed variable:
        # tokens}, what the call's other arguments reach, points-to state before it); and the result's
        # name -> {position: tokens of the argument whose new contents it holds there}
        self.changes = {}
        self.returned = {}
        self.parts = {}  # token of a user function's new tuple -> {position: token of the new object there}

    # -- tokens of expressions ------------------------------------------------

    def of(self, node, env):
        """Tokens ``node`` may evaluate to (without making a new object)."""
        if isinstance(node, gast.Constant):
            return frozenset()
        if isinstance(node, gast.Name):
            if node.id in self.local:
                return env.get(node.id, frozenset())
            return frozenset([_GLOBAL])
        if (
            isinstance(node, gast.Attribute)
            and not isinstance(_root(node), gast.Name)
            or isinstance(node, gast.Attribute)
            and _root(node).id not in self.local
        ):
            return frozenset([_GLOBAL])
        return frozenset()

    def written(self, node, env):
        """Tokens of the object ``node`` may be, that a store into ``node[...]`` changes: ``a``'s for ``a[i] = v``;
        for ``a[i][j] = v`` what ``a[i]`` may be (an element of a list or dict, a view of an array)."""
        if isinstance(node, gast.Name):
            return self.of(node, env)
        if not isinstance(node, gast.Subscript):
            return frozenset([_GLOBAL])
        base = self.written(node.value, env)
        if base and base <= self.containers:  # an element of a list or dict: one it holds itself
            return frozenset().union(*[self.inner.get(t, frozenset()) for t in base])
        return self.closure(base)

    def closure(self, tokens, inner=None):
        """``tokens`` and every object reachable from them through containers (as ``inner`` holds them:
        by default, as they are now)."""
        inner = self.inner if inner is None else inner
        out, todo = set(tokens), list(tokens)
        while todo:
            for t in inner.get(todo.pop(), ()):
                if t not in out:
                    out.add(t)
                    todo.append(t)
        return frozenset(out)

    def value(self, node, env, site):
        """Tokens of the object ``node`` evaluates to; ``site`` names a fresh object made here."""
        operands = frozenset()
        for sub in (
            [node.left, node.right]
            if isinstance(node, gast.BinOp)
            else [node.operand]
            if isinstance(node, gast.UnaryOp)
            else list(node.elts)
            if isinstance(node, (gast.Tuple, gast.List))
            else list(node.values)
            if isinstance(node, gast.Dict)
            else []
        ):
            operands |= self.of(sub, env)
        if isinstance(node, (gast.Constant, gast.Compare, gast.JoinedStr)):
            return frozenset()
        if isinstance(node, (gast.Tuple, gast.List, gast.Dict)):
            self.make(site, env, operands, container=True)  # a display holds references to its elements
            parts = [self.of(e, env) for e in (node.values if isinstance(node, gast.Dict) else node.elts)]
            if sum(len(p) for p in parts) > len(frozenset().union(*parts)):
                self.repeated |= {site, site + ("older",)}  # [r, r]: one object twice
            return frozenset([site])
        if isinstance(node, (gast.BinOp, gast.UnaryOp)):
            # a new object: a * 2.0 shares nothing with a; xs + ys holds what the two lists hold
            # xs + ys, xs * 2 of lists is a list; [1.0] + a of an array is an array
            joined = isinstance(node, gast.BinOp) and bool(operands) and operands <= self.containers
            self.make(site, env, self.closure(operands) - operands, container=joined)
            if not joined and _numeric_operand(node):
                self.arrays |= {site, site + ("older",)}
            if joined and self.closure(operands) - operands:
                sides = [self.closure(self.of(n, env)) for n in (node.left, node.right)]
                if (
                    isinstance(node.op, gast.Mult)  # [row] * n: one object n times
                    or operands & self.repeated
                    or sides[0] & sides[1] - operands  # xs + xs
                ):
                    self.repeated |= {site, site + ("older",)}
            return frozenset([site])
        if isinstance(node, gast.Name):
            return self.of(node, env)
        if isinstance(node, gast.Subscript):
            base = self.of(node.value, env)
            listed = isinstance(node.value, gast.Name) and node.value.id == self.listed and _sliced(node.slice)
            if base and (base <= self.containers or listed):
                # of a list, tuple or dict: an element is one of its contents, a slice a new list of them
                contents = self.closure(base) - base
                if not _sliced(node.slice):
                    return contents
                self.make(site, env, contents, container=True)
                return frozenset([site])
            return self.closure(base)  # a view of the array, or an element of a container
        if isinstance(node, gast.Attribute):
            base = (
                self.of(node.value, env)
                if isinstance(_root(node), gast.Name) and _root(node).id in self.local
                else frozenset([_GLOBAL])
            )
            return self.closure(base) if effects.is_view_name(node.attr) else frozenset()
        if isinstance(node, gast.Call):
            args = (
                [node.func.value]
                if isinstance(node.func, gast.Attribute)
                and isinstance(_root(node.func), gast.Name)
                and _root(node.func).id in self.local
                else []
            )
            args += list(node.args) + [k.value for k in node.keywords]
            reach = self.closure(frozenset().union(*[self.of(a, env) for a in args]))
            name = node.func.attr if isinstance(node.func, gast.Attribute) else getattr(node.func, "id", None)
            from_numpy = (
                isinstance(node.func, gast.Attribute)
                and isinstance(node.func.value, gast.Name)
                and node.func.value.id in ("np", "numpy", "math")
            )
            copied = self.copied(node, env)
            if copied is not None:
                # list(xs), tuple(xs), dict(d), xs.copy() (of a global's array too): a new object
                self.make(site, env, *copied)
                return frozenset([site])
            if (
                from_numpy
                and not effects.numpy_view(node)
                or args
                and args[0] is getattr(node.func, "value", None)
                and name in effects.FRESH_METHODS
                or name in effects.FRESH_BUILTINS
                or self.runtime_helper(node.func) in effects.FRESH_HELPERS  # emitted code differentiated again
            ):
                self.make(site, env, frozenset())
                return frozenset([site])
            given = self.given_back(site, node, env, reach)
            if given is not None:
                return given
            made, parts = self.user_function_result(node.func)
            if made is not None:  # a new object, holding anything
                self.make(site, env, reach | frozenset([_GLOBAL]), container=made == "container")
                self.parts[site] = {}
                for k, part in enumerate(parts or ()):
                    if part is not None:  # (an __init__ made a function, giving its new fields: self.items = [])
                        self.make(site + (k,), env, reach | frozenset([_GLOBAL]), container=part == "container")
                        self.parts[site][k] = frozenset([site + (k,)])
                return frozenset([site])
            # anything else (a user function, a view, an unknown method) may return what it was given
            return reach | frozenset([_GLOBAL]) if not from_numpy else reach
        return frozenset([_GLOBAL])

    def copied(self, call, env):
        """``(contents, container)`` of the new object a copying call makes, or None if ``call`` is not
        one: ``list(xs)``, ``tuple(xs)``, ``dict(d)`` (a container of xs's elements) and ``.copy()`` of
        anything (of a container: its elements; of a global, which may be a list: what the global holds)."""
        func = call.func
        if isinstance(func, gast.Attribute) and func.attr == "copy" and not call.args and not call.keywords:
            tokens = self.of(func.value, env) if isinstance(func.value, gast.Name) else frozenset([_GLOBAL])
            container = bool(tokens) and tokens <= self.containers
            return (self.closure(tokens) - tokens if container else tokens & {_GLOBAL}), container
        if self.runtime_helper(func) == "added_at" and call.args:
            # emitted code's add_at(bar, i, g), differentiated again (desugar.py): a copy of bar (of its top
            # level where bar is a list), holding what bar holds
            tokens = self.of(call.args[0], env)
            return self.closure(tokens) - tokens | tokens & {_GLOBAL}, False
        if isinstance(func, gast.Name) and func.id not in self.local and self.source is not None:
            if source_mod.global_value(func, self.source, self.local) in (list, tuple, dict):
                tokens = frozenset().union(*[self.of(a, env) for a in call.args])
                return self.closure(tokens) - tokens | tokens & {_GLOBAL}, True
        return None

    def user_function_result(self, func):
        """``effects.returns_fresh`` of the user function ``func`` names (an object's ``__init__`` made a
        function, ``Box_init``, returning its new list), else (None, None)."""
        value = self.user_function(func)
        return effects.returns_fresh(value) if value is not None else (None, None)

    def given_back(self, site, call, env, reach, carried=None):
        """Tokens of what a user function's call gives where it gives back a parameter
        (``effects.returned_parameters``), else None: a tuple made at ``site`` whose ``parts`` name what the
        argument named (the same object) where a position gives one back, a new object elsewhere (as the
        function's result: ``returns_fresh``) or anything; or, where the function gives a name, the
        argument's tokens themselves. ``carried``: the carrying variant's (func, ins), whose result ``site``
        is the value of."""
        if carried is None:
            func = self.user_function(call.func)
            ins = ()
        else:
            func, ins = carried
        given = effects.returned_parameters(func) if func is not None else None
        if not given or any(isinstance(a, gast.Starred) for a in call.args):
            return None
        code = func.__code__
        params = list(ins) + list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
        passed = dict(zip(params, call.args))
        passed.update((k.arg, k.value) for k in call.keywords)
        if isinstance(given, tuple):
            if carried is not None or not isinstance(passed.get(given[0]), gast.Name):
                return None
            return self.given_part(given, passed, env, reach, site)
        if not any(given):
            return None
        self.make(site, env, reach | frozenset([_GLOBAL]), container=True)
        self.parts[site] = {}
        tops = frozenset().union(*[self.of(a, env) for a in passed.values()])
        held = self.closure(frozenset().union(*[self.inner.get(t, frozenset()) for t in tops]))
        for k, kind in enumerate(effects.returns_fresh(func)[1] or ()):
            if kind == "new" and given[k] is None:  # (v * 2.0: holds at most what the operands hold)
                self.make(site + (k,), env, held | frozenset([_GLOBAL]))
                self.parts[site][k] = frozenset([site + (k,)])
            elif kind == "container" and given[k] is None:  # (a new list, holding anything)
                self.make(site + (k,), env, reach | frozenset([_GLOBAL]), container=True)
                self.parts[site][k] = frozenset([site + (k,)])
        for k, part in enumerate(given):
            if part is not None and isinstance(passed.get(part[0]), gast.Name):
                self.parts[site][k] = self.given_part(part, passed, env, reach, site + (k,))
        self.inner[site] = self.inner[site].union(*self.parts[site].values())
        return frozenset([site])

    def given_part(self, part, passed, env, reach, site):
        """Tokens of the parameter ``part`` gives back (see ``given_back``); ``site``: where a new object it may
        be instead is made."""
        name, reads = part
        mine = self.of(passed[name], env)
        if reads is None:
            return mine
        # p += v, p = p * 0.5 + v: p, or a new object holding what p, v and globals hold
        values = [passed.get(n) for n in reads - {"+="}]
        grown = (
            self.closure(frozenset().union(*[self.of(a, env) for a in values])) | self.closure(mine) - mine
            if all(isinstance(a, (gast.Name, gast.Constant)) for a in values)
            else reach
        ) | frozenset([_GLOBAL])
        self.make(site, env, grown)
        for t in mine if "+=" in reads else ():  # (p += [v] on a list: the argument itself now holds v)
            self.inner[t] = self.inner.get(t, frozenset()) | (grown - {t})
        return mine | {site}

    def user_function(self, func):
        """The user function ``func`` names (not a carrying variant nor a runtime helper), else None."""
        if not isinstance(func, gast.Name) or func.id in self.local or self.source is None:
            return None
        value = source_mod.global_value(func, self.source, self.local)
        if not inspect.isfunction(value) or hasattr(value, source_mod.CARRIED) or value.__module__ == runtime.__name__:
            return None
        return value

    def runtime_helper(self, func):
        """The name of the runtime helper ``func`` is (``zeros_like`` in an emitted gradient), else None."""
        if not isinstance(func, gast.Name) or func.id in self.local or self.source is None:
            return None
        value = source_mod.global_value(func, self.source, self.local)
        if value is None and func.id in runtime.HELPERS:  # a call the lowering wrote (keys_of), not yet bound
            return func.id
        return func.id if value is not None and getattr(runtime, func.id, None) is value else None

    def make(self, site, env, contents, container=False):
        """A new object at ``site``: what pointed to the newest one there now points to an older one.
        ``container``: it is a list, tuple or dict (not an array)."""
        newest, older = site, site + ("older",)
        if container:
            self.containers |= {newest, older}
        for name, tokens in list(env.items()):
            if newest in tokens:
                env[name] = (tokens - {newest}) | {older}
        for token, held in list(self.inner.items()):
            if newest in held:
                self.inner[token] = (held - {newest}) | {older}
        self.inner[older] = self.inner.get(older, frozenset()) | self.inner.get(newest, frozenset())
        self.inner[newest] = contents

    def change(self, s, changed, env):
        """``t = variant(a, v)``, whose call gives (at position k) the new contents of ``a``: the object ``a`` is
        taken to be changed in place (its new contents are a copy where the call is differentiated, which
        the caller then names ``a``), now holding what the other arguments reach, or a global."""
        call = s.value
        positions = {name: k for name, k, _ in changed}
        tokens = {name: self.of(trees.name(name), env) for name in positions}
        args = list(call.args) + [k.value for k in call.keywords]
        passed = {id(node) for _, _, node in changed}
        others = frozenset().union(*[self.of(a, env) for a in args if id(a) not in passed])
        self.changes[id(s)] = (s, tokens, self.closure(others), dict(env))
        reach = self.closure(frozenset().union(*[self.of(a, env) for a in args]))
        for name in positions:
            for t in tokens[name]:
                self.inner[t] = self.inner.get(t, frozenset()) | (reach - {t}) | {_GLOBAL}
        result = s.targets[0].id
        env[result] = self.value(call, env, ("site", id(s)))
        self.returned[result] = {k: tokens[name] for name, k in positions.items()}
        carried = getattr(source_mod.global_value(call.func, self.source, self.local), source_mod.CARRIED)
        value = ("site", id(s), "value")  # the function's own result, first in the variant's
        if self.given_back(value, call, env, reach, carried[:2]) is not None:
            self.returned[result][0] = frozenset([value])

    def returned_part(self, s, env):
        """``a = t[k]`` of a changing call's result ``t`` (anf writes it after the call): ``a`` names the
        object it named before (see ``change``). Whether ``s`` is one."""
        value = s.value
        if not (
            isinstance(value, gast.Subscript)
            and isinstance(value.value, gast.Name)
            and isinstance(value.slice, gast.Constant)
            and isinstance(value.slice.value, int)
        ):
            return False
        whole, k = value.value.id, value.slice.value
        if k in self.returned.get(whole, {}):
            env[s.targets[0].id] = self.returned[whole][k]
            return True
        tokens = env.get(whole, frozenset())
        if len(tokens) == 1 and k in self.parts.get(next(iter(tokens)), {}):
            env[s.targets[0].id] = self.parts[next(iter(tokens))][k]  # the new object a user function made there
            return True
        return False

    # -- statements -----------------------------------------------------------

    def block(self, stmts, env):
        for s in stmts:
            env = self.stmt(s, env)
            # after the guard of xs.pop() / insert / reverse, xs is a list (Python has no such method on an
            # array): the slices the next statement rebinds it to are new lists, not views
            self.listed = _list_method_guard(s)
        return env

    def stmt(self, s, env):
        env = dict(env)
        checked = _rebind_check(s)
        if isinstance(checked, gast.Subscript):  # the item's object; none where a container may hold it twice
            base = self.of(_root(checked), env)
            if base and base <= self.arrays:  # an array's element or view: updated in place as Python does
                self.array_items.add(id(s))
            repeated = self.closure(base) & self.repeated
            self.checks[id(s)] = (s, frozenset() if repeated else self.written(checked, env), dict(env))
        elif checked is not None:
            self.checks[id(s)] = (s, self.of(checked, env), dict(env))
        changed = _changed_arguments(s, self.source, self.local)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            self.returned.pop(s.targets[0].id, None)  # (what an earlier changing call gave under this name)
        if changed:
            self.change(s, changed, env)
        elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and self.returned_part(s, env):
            pass
        elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            env[s.targets[0].id] = self.value(s.value, env, ("site", id(s)))
        elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Tuple):
            whole = self.closure(self.value(s.value, env, ("site", id(s))))
            for t in s.targets[0].elts:
                env[t.id] = whole
        elif trees.element_store(s) is not None:
            target = trees.element_store(s)
            written = self.written(target.value, env)
            if not isinstance(target.value, gast.Name) and any(t[0] == "param" for t in written):
                # a[i][j] = v where a[i] may be an argument (a = [x, y], x a number at run time, usually): a
                # check refuses one when it runs (check_not_argument), so the store changes none of them
                self.arguments[id(s)] = sorted({t[1] for t in written if t[0] == "param"})
                written = frozenset(t for t in written if t[0] != "param")
            stored = self.closure(self.of(s.value, env))
            for t in written:
                if stored & self.inner.get(t, frozenset()):
                    self.repeated |= {t}  # xs[k] = xs[0]: xs may now hold one object twice
                self.inner[t] = self.inner.get(t, frozenset()) | stored
            self.stores[id(s)] = (s, written, dict(env), dict(self.inner))
            if isinstance(s, gast.Assign) and stored & written and not _same_name(s.value, target.value):
                self.overlapping.add(id(s))  # the value may be a view into the array it is stored into
        elif trees.appended(s) is not None and trees.appended(s)[0].id in self.local:
            xs, v = trees.appended(s)
            written = self.of(xs, env)
            for t in written:
                if self.of(v, env) & self.inner.get(t, frozenset()):
                    self.repeated |= {t}  # the same object appended twice
                self.inner[t] = self.inner.get(t, frozenset()) | self.of(v, env)  # (what v holds: closure)
            self.stores[id(s)] = (s, written, dict(env), dict(self.inner))
        elif isinstance(s, gast.If):
            a = self.block(s.body, env)
            b = self.block(s.orelse, env)
            env = {n: a.get(n, frozenset()) | b.get(n, frozenset()) for n in set(a) | set(b)}
        elif isinstance(s, (gast.For, gast.While)):
            head = dict(env)
            if isinstance(s, gast.For):
                head[s.target.id] = frozenset()
            runs = 0
            while True:  # to a fixed point: the sets only grow
                seen = (dict(self.inner), set(self.repeated))
                after = self.block(s.body, head)
                new = {n: head.get(n, frozenset()) | after.get(n, frozenset()) for n in set(head) | set(after)}
                runs += 1
                # (what containers hold counts too: xs.append(row) on a second trip appends row again)
                if new == head and (runs > 8 or (self.inner, self.repeated) == seen):
                    break
                head = new
            env = head
        return env


def _changed_arguments(stmt, source, local):
    """``[(variable, position in the result, the argument's node), ...]`` for ``t = variant(..., a, ...)``, a call
    of a carrying variant (carry.py) that changes its argument ``a`` in place and returns its new contents;
    else []."""
    if not (
        source is not None
        and isinstance(stmt, gast.Assign)
        and isinstance(stmt.targets[0], gast.Name)
        and isinstance(stmt.value, gast.Call)
    ):
        return []
    variant = source_mod.global_value(stmt.value.func, source, local)
    carried = getattr(variant, source_mod.CARRIED, None)
    if carried is None or not carried[3]:
        return []
    func, ins, outs, changed = carried
    code = func.__code__
    params = list(ins) + list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    passed = dict(zip(params, stmt.value.args))
    passed.update((k.arg, k.value) for k in stmt.value.keywords)
    positions = [(p, 1 + len(outs) + i) for i, p in enumerate(changed)]
    return [(passed[p].id, k, passed[p]) for p, k in positions if isinstance(passed.get(p), gast.Name)]


def _deeply_changed(stmt, source, local):
    """The variables of ``_changed_arguments(stmt)`` whose inner objects the callee changes (``Summary.deep``)."""
    carried = getattr(source_mod.global_value(stmt.value.func, source, local), source_mod.CARRIED)
    deep = effects.summary(carried[0], source.summaries).deep
    names = {name: k for name, k, _ in _changed_arguments(stmt, source, local)}
    positions = {1 + len(carried[2]) + i: p for i, p in enumerate(carried[3])}
    return {name for name, k in names.items() if positions[k] in deep}


def _same_name(a, b):
    return isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id


def _sliced(index):
    """Whether subscript ``index`` has a slice in it (of a list: a new list)."""
    return any(isinstance(n, gast.Slice) for n in trees.breadth_first(index))


def _list_method_guard(stmt):
    """The name in anf's ``check_rebind(xs, 'xs.pop(...)')`` before a list method it lowers, else None."""
    name = _rebind_check(stmt)
    construct = stmt.value.args[1] if name is not None and len(stmt.value.args) > 1 else None
    if isinstance(construct, gast.Constant) and str(construct.value).endswith(_LIST_METHODS):
        return name.id if isinstance(name, gast.Name) else None
    return None


_LIST_METHODS = (".pop(...)", ".insert(...)", ".reverse(...)", ".sort(...)")


def _numeric_operand(node):
    """Whether the arithmetic ``node`` certainly gives no list or tuple: an operand is a float (``a * 2.0``), or a
    number where no list could take it (only ``xs * 2`` repeats a list)."""
    if isinstance(node, gast.UnaryOp):
        return True  # (-xs raises for a list)
    for side in (node.left, node.right):
        if isinstance(side, gast.Constant) and type(side.value) in (float, complex):
            return True
        if isinstance(side, gast.Constant) and type(side.value) is int and not isinstance(node.op, gast.Mult):
            return True
    return False


def _rebind_check(stmt):
    """The name in ``check_rebind(x, ...)`` (anf's run-time guard before ``x = x op y``), the item ``xs[i]`` of
    ``check_item_rebind(xs, i, ...)`` (before ``xs[i] op= v``), else None."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Name):
        if stmt.value.func.id == "check_rebind":
            return stmt.value.args[0]
        if stmt.value.func.id == "check_item_rebind":
            return gast.Subscript(value=stmt.value.args[0], slice=stmt.value.args[1], ctx=gast.Load())
    return None


def _live_after(stmts, live_out, records, exit_live=None):
    """Names read later, before being reassigned; ``records[id(store)]`` gets the set after each store."""
    live = set(live_out)
    for s in reversed(stmts):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], (gast.Name, gast.Tuple)):
            records[id(s)] = set(live)  # (a call changing its arguments is checked against it)
            live -= {n.id for n in trees.breadth_first(s.targets[0]) if isinstance(n, gast.Name)}
            live |= trees.loads(s.value)
        elif (
            isinstance(s, (gast.Assign, gast.AugAssign))
            or trees.appended(s) is not None
            or _rebind_check(s) is not None
        ):
            records[id(s)] = set(live)
            live |= trees.loads(s)
        elif isinstance(s, gast.If):
            live = (
                trees.loads(s.test)
                | _live_after(s.body, live, records, exit_live)
                | _live_after(s.orelse, live, records, exit_live)
            )
        elif isinstance(s, (gast.For, gast.While)):
            head = set(live) | (trees.loads(s.test) if isinstance(s, gast.While) else set())
            while True:
                inner = _live_after(s.body, head, records, live)
                if isinstance(s, gast.For):
                    inner -= {s.target.id}
                new = head | inner
                if new == head:
                    break
                head = new
            live = head | (trees.loads(s.iter) if isinstance(s, gast.For) else set())
        elif isinstance(s, gast.Break):
            live = set(exit_live or ())
        elif isinstance(s, gast.Return):
            live = trees.loads(s)
        else:
            live |= trees.loads(s)
    return live


def _rewrite_statements(fn, ids, around):
    """Each statement ``s`` of ``fn`` (in any block) whose id is in ``ids`` replaced by ``around(s)``, a list
    of statements (``s`` itself among them to keep it)."""
    for node in trees.walk(fn):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and any(id(s) in ids for s in block):
                block[:] = [t for s in block for t in (around(s) if id(s) in ids else [s])]


def _guard_overlaps(fn, ids, source):
    """Around each store ``a[i] = v`` whose ``v`` may view ``a``: keep v's values if it overlaps the
    slots (``overlap_copy``) and check the slots got them (``check_overlap``)."""
    namer = naming.Namer({n.id for n in trees.walk(fn) if isinstance(n, gast.Name)})

    def around(s):
        where = trees.place(source.location(s) if source is not None else None)
        construct = "%s[...] = ..." % trees.stored_into(s)

        def slots():  # the target read: a[i], or a[i][j] of a store into an element of an element
            read = trees.clone(s.targets[0])
            for n in trees.walk(read):
                if hasattr(n, "ctx"):
                    n.ctx = gast.Load()
            return read

        kept = namer.fresh(naming.OVERLAP)
        check = trees.call("check_overlap", slots(), trees.name(kept), trees.const(construct), *where)
        return [
            gast.copy_location(trees.assign(kept, trees.call("overlap_copy", slots(), trees.clone(s.value))), s),
            s,
            gast.copy_location(gast.Expr(value=check), s),
        ]

    _rewrite_statements(fn, ids, around)


def _repeated_levels(points):
    """``{id(store): [k, ...]}`` for each store ``a[i][j] = v`` whose k-th inner object (``a`` for k = 0) is a
    container that may hold one object twice (``[row] * n``): a store into one would show in the other."""
    out = {}
    for s, _, state, _ in points.stores.values():
        target = trees.element_store(s) if not isinstance(s, gast.Expr) else None
        if target is None or isinstance(target.value, gast.Name):
            continue
        levels = []
        node = target.value
        while isinstance(node, gast.Subscript):
            levels.append(node.value)
            node = node.value
        levels.reverse()  # a, a[i], ... : the containers indexed on the way to the stored-into object
        repeated = [k for k, level in enumerate(levels) if points.written(level, state) & points.repeated]
        if repeated:
            out[id(s)] = repeated
    return out


def _guard_repeats(fn, levels, source):
    """Before each store ``a[i][j] = v`` through a container that may hold one object twice:
    ``check_distinct(a, i, ...)``, which refuses, at run time, an ``a[i]`` that is also another element of ``a``."""

    def around(s):
        target = trees.element_store(s)
        chain = []
        part = target.value
        while isinstance(part, gast.Subscript):
            chain.append(part)
            part = part.value
        chain.reverse()  # a[i], a[i][j], ...: chain[k] indexes the k-th container
        where = trees.place(source.location(s) if source is not None else None)
        construct = trees.const("%s[...][...] = ..." % trees.store_root(target).id)
        checks = [
            trees.call("check_distinct", trees.clone(chain[k].value), trees.clone(chain[k].slice), construct, *where)
            for k in levels[id(s)]
        ]
        return [gast.copy_location(gast.Expr(value=check), s) for check in checks] + [s]

    _rewrite_statements(fn, levels, around)


def _drop_statements(fn, ids):
    _rewrite_statements(fn, ids, lambda s: [])


class _KeptElement(UnsupportedError):
    """A store into an array while ``name``, read from it earlier, is still used."""

    def __init__(self, name, *args):
        super().__init__(*args)
        self.name = name
        self.parts = args  # (construct, location, hint): the UnsupportedError the user sees, if it is not settled


def run(fn, source, numbers=(), lists=()):
    """``fn`` with its guards settled (a new tree when any changed) if every store is an update of an
    unshared local; raise UnsupportedError otherwise. ``numbers``: parameters known to hold numbers (the
    differentiated function's float arguments), which no store can change; ``lists``: parameters known to
    be lists (``pipeline.compile``): a refusal of a store into a slice of another one asks to know it
    (``needs``), since ``specialise.list_copies`` makes a list's slices copies.

    ``t = a[i]`` kept while ``a[i] = v`` changes ``a`` (a swap) is a number, a copy, unless ``a`` has rows:
    such reads are checked where they run (``element_value``) and taken as new objects."""
    checked = set()
    while True:
        try:
            return _run(fn, source, numbers, lists)
        except _KeptElement as kept:
            if kept.name is None or kept.name in checked or source is None:
                raise UnsupportedError(*kept.parts) from None  # not the private class, in the user's traceback
            checked.add(kept.name)
            fn = _checked_elements(fn, kept.name, source)
            if fn is None:
                raise UnsupportedError(*kept.parts) from None


def _element_read(stmt, name):
    """Whether ``stmt`` is ``name = a[i]`` (or ``a[i, j]``): one element of a local, no slice."""
    if not (
        isinstance(stmt, gast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], gast.Name)
        and stmt.targets[0].id == name
    ):
        return False
    value = stmt.value
    return (
        isinstance(value, gast.Subscript)
        and isinstance(value.value, gast.Name)
        and not any(
            isinstance(n, gast.Slice) or isinstance(n, gast.Constant) and n.value in (None, Ellipsis)
            for n in trees.breadth_first(value.slice)
        )
    )


def _spelled(fn, name, source):
    """``name`` as the user wrote it: for a compiler's temporary (``a[0], a[1] = a[1:], a[:1]``'s parts)
    the expression it holds (``Source.spelled``)."""
    return source.spelled(name, fn) if source is not None else name


def _checked_elements(fn, name, source):
    """A copy of ``fn`` where each ``name = a[i]`` is followed by ``name = element_value(name, ...)``, or
    None where ``name`` is bound in any other way."""
    fn = trees.clone(fn)
    reads = [s for s in trees.statements(fn) if _element_read(s, name)]
    stores = [n for n in trees.walk(fn) if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)]
    if not reads or len(stores) != len(reads) or name in {a.id for a in fn.args.args}:
        return None
    helper = source.bind("element_value", runtime.element_value)

    def after(s):
        construct = trees.const("%s, kept while %s changes in place," % (trees.unparse(s.value), s.value.value.id))
        check = trees.call(helper, trees.name(name), construct, *trees.place(source.location(s)))
        return [s, gast.copy_location(trees.assign(name, check), s)]

    _rewrite_statements(fn, {id(s) for s in reads}, after)
    return fn


def _run(fn, source, numbers, lists=()):
    local = trees.local_names(fn)
    stores = [
        s
        for s in trees.statements(fn)  # (stores and appends are statements)
        if trees.element_store(s) is not None
        or trees.appended(s) is not None
        and trees.appended(s)[0].id in local
        or _rebind_check(s) is not None
        or _changed_arguments(s, source, local)
    ]
    if not stores:
        return fn
    fn = trees.clone(fn)  # guards are added and dropped below: never edit the input tree
    points = _Points(fn, source, local)
    env = {p: frozenset() if p in numbers else frozenset([("param", p)]) for p in points.params}
    points.block(fn.body, env)
    live = {}
    _live_after(fn.body, set(), live)

    def where(node):
        return source.location(node) if source is not None else None

    # x += y on an array: anf rebinds x = x + y behind a run-time guard wherever x may share its
    # array; the guard goes where the array is certainly the function's own and nothing else live sees it
    if points.overlapping:
        _guard_overlaps(fn, points.overlapping, source)
    distinct = _repeated_levels(points)
    if distinct:
        _guard_repeats(fn, distinct, source)
    safe = set(points.array_items)
    for s, tokens, state in points.checks.values():
        name = _root(_rebind_check(s)).id
        if (
            tokens
            and all(t[0] == "site" for t in tokens)
            and not any(
                other != name and other in state and points.closure(state[other]) & tokens
                for other in live.get(id(s), ())
            )
        ):
            safe.add(id(s))
    if safe:
        _drop_statements(fn, safe)

    for s, written, state, inner in points.stores.values():
        target = trees.appended(s)[0] if isinstance(s, gast.Expr) else trees.store_root(trees.element_store(s))
        name = target.id if isinstance(target, gast.Name) else "..."
        if not isinstance(target, gast.Name) or name not in local or _GLOBAL in written:
            shown = _spelled(fn, name, source) if isinstance(target, gast.Name) else name
            raise UnsupportedError(
                "in-place update of %s, which may be a global or belong to the caller" % shown,
                where(s),
                "copy it into a local first (a = %s.copy())" % shown,
            )
        for token in written:
            if token[0] == "param":
                if naming.is_temp(name):  # (an element of a container: m[0].append(v))
                    raise UnsupportedError(
                        "in-place update of an element of a container, which may hold (part of) the caller's "
                        "argument %s" % token[1],
                        where(s),
                        "build the element anew (m[0] = m[0] + [v]) or copy what the container holds from %s"
                        % token[1],
                    )
                shown = _spelled(fn, name, source)
                error = UnsupportedError(
                    "in-place update of %s, which may be the caller's argument %s" % (shown, token[1]),
                    where(s),
                    "copy it first (%s = %s.copy()); the gradient never changes its arguments' contents"
                    % (shown, token[1]),
                )
                over = _loop_over(fn, name)
                if over is not None:  # (for p in ps: p[k] = e, where ps holds values of the argument)
                    listed = _spelled(fn, over, source)
                    error = UnsupportedError(
                        "in-place update of %s, an element of %s, which the compiler cannot tell from the caller's "
                        "argument %s (%s holds values of it)" % (shown, listed, token[1], listed),
                        where(s),
                        "index the list (for i in range(len(%s)): %s[i][...] = ...), with %s made in the function "
                        "and used only in loops, len() and indexing (not aliased or passed on)"
                        % (listed, listed, listed),
                    )
                if len(token) == 2 and token[1] not in lists:  # (zs = xs[:]: a copy where xs is a list)
                    error.needs = ((token[1], "kind"),)
                raise error
        for other in sorted(live.get(id(s), ())):
            if other != name and other in state and points.closure(state[other], inner) & written:
                shown = _spelled(fn, other, source)
                raise _KeptElement(
                    # an element of an array may be a number (checked when it runs); of a list, a row it holds
                    None if written <= points.containers else other,
                    "in-place update of %s while %s (a view or copy of the same array) is still used"
                    % (_spelled(fn, name, source), shown),
                    where(s),
                    "take a copy where %s is made (%s.copy())" % (shown, shown if shown != other else other + " = ..."),
                )
    for s, tokens, others, state in points.changes.values():
        _check_change(fn, s, tokens, others, state, points, live.get(id(s), ()), source)
    if points.arguments:
        _guard_arguments(fn, points.arguments, source)
    return fn


def _check_change(fn, s, tokens, others, state, points, live, source):
    """Refuse a call that changes its argument ``a`` in place where the caller could see the change other
    than through ``a`` (which the call's result rebinds): ``a`` may be a global, the caller's argument,
    held by another live variable or container, or reached by another argument of the call."""
    where = source.location(s)
    callee = getattr(source_mod.global_value(s.value.func, source, points.local), source_mod.CARRIED)[0]
    label = getattr(callee, source_mod.USER_LABEL, None) or callee.__name__
    for name, written in sorted(tokens.items()):
        shown = _quoted_spelling(fn, name, source)
        construct = "a call of %s() that changes its argument %s in place" % (label, shown)
        hint = "return the new value from %s and assign it in the caller, or pass a copy (%s.copy())" % (
            label,
            shown.strip("'"),
        )
        if not written or _GLOBAL in written:
            raise UnsupportedError(construct + ", which may be a global or belong to the caller", where, hint)
        params = sorted(t[1] for t in written if t[0] == "param")
        if params:
            raise UnsupportedError(construct + ", which may be the caller's argument %s" % params[0], where, hint)
        # a callee changing what the object holds (p[i][j] = v) changes objects others may hold too
        deep = name in _deeply_changed(s, source, points.local)
        reach = points.closure(written) if deep else written
        if others & reach:
            raise UnsupportedError(construct + ", while another argument of the call may share it", where, hint)
        for other in sorted(live):
            if other not in (name, s.targets[0].id) and other in state and points.closure(state[other]) & reach:
                raise UnsupportedError(
                    construct
                    + ", while %s, which may hold or share it, is still used" % _quoted_spelling(fn, other, source),
                    where,
                    hint,
                )


def _quoted_spelling(fn, name, source):
    shown = _spelled(fn, name, source)
    return shown if shown.isidentifier() else "'%s'" % shown


def _loop_over(fn, name):
    """The name of the list ``name`` is an element of, ``name = xs[i]`` (``for name in xs`` lowered), or None."""
    for n in trees.walk(fn):
        if (
            isinstance(n, gast.Assign)
            and isinstance(n.targets[0], gast.Name)
            and n.targets[0].id == name
            and isinstance(n.value, gast.Subscript)
            and isinstance(n.value.value, gast.Name)
            and isinstance(n.value.slice, gast.Name)
        ):
            return n.value.value.id
    return None


def _guard_arguments(fn, stores, source):
    """Before each store ``a[i][j] = v`` whose ``a[i]`` may be (part of) an argument: ``check_not_argument(a[i],
    (x, ...), ...)``, which refuses one at run time (the gradient never changes an argument the original
    function does not change)."""

    def around(s):
        target = trees.element_store(s)
        where = trees.place(source.location(s) if source is not None else None)
        construct = trees.const("%s[...][...] = ..." % trees.store_root(target).id)
        params = gast.Tuple(elts=[trees.name(p) for p in stores[id(s)]], ctx=gast.Load())
        check = trees.call("check_not_argument", trees.clone(target.value), params, construct, *where)
        return [gast.copy_location(gast.Expr(value=check), s), s]

    _rewrite_statements(fn, stores, around)
