"""Specialise a function's tree for one call site, before any other pass.

Two specialisations: functions passed as arguments become globals of the
callee (``euler(decay, x)`` compiles ``euler_decay``, whose body calls
``decay`` directly), and ``*args`` receiving a known number of values becomes
that many parameters packed into ``args`` at entry.

>>> import gast
>>> from adjoint_compiler import emit, source
>>> def f(a, *rest):
...     return a * rest[0]
>>> src = source.read(f)
>>> varargs(src, 2)
>>> print(emit.to_source(src.tree).strip())
def f_2(a, rest_0, rest_1):
    rest = (rest_0, rest_1)
    return a * rest[0]
"""

import gast

from adjoint_compiler import naming, trees


def varargs(src, count):
    """``def f(a, *args)`` called with ``count`` values for ``*args``: they become parameters
    ``args_0, ...`` and the body starts with ``args = (args_0, ...)``. Edits ``src.tree`` (a fresh parse)."""
    tree = src.tree
    star = tree.args.vararg
    names = [naming.SPREAD.format(star.id, i) for i in range(count)]
    tree.args.args = tree.args.args + [
        gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in names
    ]
    tree.args.vararg = None
    pack = gast.Assign(
        targets=[trees.name(star.id, store=True)],
        value=gast.Tuple(elts=[trees.name(n) for n in names], ctx=gast.Load()),
        type_comment=None,
    )
    tree.body = [gast.copy_location(pack, tree)] + tree.body
    tree.name = naming.SPECIALISED.format(tree.name, count)


def bind_functions(src, bindings):
    """Functions passed as arguments (``bindings``: parameter -> function) become globals of the tree."""
    tree = src.tree
    args = tree.args
    names = [a.id for a in args.args]
    defaults = dict(zip(names[len(names) - len(args.defaults) :], args.defaults))
    renamed = {}
    for param, value in bindings.items():
        label = getattr(value, "__name__", param)
        free = src.env.get(label, value) is value and label not in names
        alias = label if free else naming.BOUND.format(param, label)
        src.env[alias] = value
        renamed[param] = alias
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in renamed and isinstance(node.ctx, gast.Load):
            node.id = renamed[node.id]
    keep = [a for a in args.args if a.id not in bindings]
    args.args = keep
    args.defaults = [defaults[a.id] for a in keep if a.id in defaults]
    if renamed:
        tree.name = naming.SPECIALISED.format(tree.name, "_".join(renamed[p] for p in sorted(renamed)))
