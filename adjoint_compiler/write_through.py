"""Global and nonlocal names in lowered code: local copies read from their holder and written through to it.

A name declared ``global`` lives in the user's module, one declared
``nonlocal`` in the enclosing function's cells; ``source`` gives each holder a
name the emitted code can use (``_module``, ``_closure``). The lowered code
keeps a local copy of each such name: it reads every one at entry and again
after a statement that calls user code (which may change them), and writes a
name through to its holder right after assigning it. ``anf`` places these
reads and writes as it lowers each statement.

>>> import gast
>>> from adjoint_compiler import anf, emit
>>> fn = gast.parse('''
... def f(x):
...     global c
...     c = c + 1
...     return x * c''').body[0]
>>> print(emit.to_source(anf.run(fn, None)).strip())
def f(x):
    c = _module.c
    c = c + 1
    _module.c = c
    _t1 = x * c
    return _t1
"""

import inspect

import gast

from adjoint_compiler import effects, naming, rules, trees
from adjoint_compiler import source as source_mod

_UNKNOWN = object()


class Holders:
    """Where each global and nonlocal name of one function lives."""

    def __init__(self, fn, source, local_names):
        self.source = source
        self.locals = local_names
        declared = [n for n in trees.statements(fn) if isinstance(n, (gast.Global, gast.Nonlocal))]  # (statements)
        self.holder = {
            name: (source.module_alias if source is not None else naming.MODULE_ALIAS)
            for n in declared
            if isinstance(n, gast.Global)
            for name in n.names
        }
        self.holder.update(
            (name, source.closure_alias if source is not None else naming.CLOSURE_ALIAS)
            for n in declared
            if isinstance(n, gast.Nonlocal)
            for name in n.names
        )

    def __bool__(self):
        return bool(self.holder)

    def reads(self, origin):
        """``name = <holder>.name`` for every declared name: at entry, and after calls that may change them."""
        return [
            gast.copy_location(
                trees.assign(name, gast.Attribute(value=trees.name(self.holder[name]), attr=name, ctx=gast.Load())),
                origin,
            )
            for name in sorted(self.holder)
        ]

    def write(self, name, origin):
        """``<holder>.name = name`` after an assignment to ``name``, if it is declared global or nonlocal."""
        if name not in self.holder:
            return []
        store = gast.Attribute(value=trees.name(self.holder[name]), attr=name, ctx=gast.Store())
        return [gast.copy_location(gast.Assign(targets=[store], value=trees.name(name), type_comment=None), origin)]

    def calls_user_code(self, stmt):
        """Whether ``stmt`` (``name = <call>`` or ``<call>``) calls something that may change a declared name."""
        value = getattr(stmt, "value", None)
        if not isinstance(value, gast.Call) or self.source is None:
            return False
        # a method call, or a callee that does not resolve: it could reach anything
        callee = source_mod.global_value(value.func, self.source, self.locals, _UNKNOWN)
        if getattr(callee, source_mod.CARRIED, None) is not None:
            return False  # what it changes of these names comes back as its results
        if (
            inspect.isfunction(callee)
            and callee.__globals__ is self.source.func.__globals__
            and rules.lookup(callee) is None
        ):
            # ``carry`` passes it every global of this module it rebinds: only closure cells remain
            module = id(callee.__globals__)
            return any(
                h != module and name in self.holder
                for h, name in effects.summary(callee, self.source.summaries).rebinds
            )
        return callee is _UNKNOWN or inspect.isfunction(callee)
