"""The adjoint of each SSA name as the adjoint sweep goes: its variable, its value so far, accumulation.

``x_bar`` is created lazily. The first contribution that is a name or a
constant is only remembered (an alias: no statement); a second one assigns
``x_bar = a + b``, later ones ``x_bar = x_bar + c`` (``add_bars(x_bar, c)``
for lists and dicts, where + would concatenate). Never ``+=``: that could
write through an alias into a user's array. ``owned`` tracks the adjoints
held in an array this code created, which element updates may write into.
"""

import gast

from adjoint_compiler import naming, trees


_name, _assign, _call = trees.name, trees.assign, trees.call


def _is_atom(e):
    return isinstance(e, (gast.Name, gast.Constant))


class Cotangents:
    """SSA name -> the atom holding its adjoint so far, and the variable names that hold them."""

    def __init__(self, namer, act, headers, stored):
        self.namer = namer
        self.act = act
        self.headers = headers  # loop headers: their adjoint variable is reassigned every iteration
        self.bars = {}  # SSA name -> atom holding its adjoint so far (a name, or a constant like the seed 1.0)
        self.owned = set()  # names whose adjoint variable is an array this code created (safe to update in place)
        self.names = {}  # SSA name -> the name of its adjoint variable
        # names whose cotangent may be a list or dict (displays, and anything indexed): added with add_bars
        self.appended = {op.args[0].id for _, op in act.defs if op.kind == "append"}  # cotangent: a list
        self.containers = act.sequences | stored | {op.args[0].id for _, op in act.defs if op.kind == "subscript"}

    def name(self, name):
        """The adjoint variable of ``name`` (``x_bar``), made unique on first use."""
        if name not in self.names:
            self.names[name] = self.namer.unique(naming.bar(name))
        return self.names[name]

    def zero(self, name):
        if name in self.act.scalars:
            return gast.Constant(value=0.0, kind=None)
        return _call("zeros_like", _name(name))

    def accumulate(self, name, expr, out):
        """Add contribution ``expr`` to the adjoint of ``name``."""
        current = self.bars.get(name)
        if current is None:
            # alias: no statement until a second contribution arrives; but a loop header's
            # adjoint variable is reassigned every iteration, so it is copied, never aliased
            if _is_atom(expr) and not (isinstance(expr, gast.Name) and expr.id in self.header_bars()):
                self.bars[name] = expr
                self.owned.discard(name)
                return
            value = expr
            self.owned.discard(name)
        elif name in self.containers:  # cotangents of lists and dicts are lists and dicts: + would concatenate
            value = _call("add_bars", trees.clone(current), expr)
        else:
            value = gast.BinOp(left=trees.clone(current), op=gast.Add(), right=expr)
        target = self.name(name)
        out.append(_assign(target, value))
        self.bars[name] = _name(target)
        if (
            isinstance(value, (gast.BinOp, gast.UnaryOp))
            or isinstance(value, gast.Call)
            and getattr(value.func, "id", None) == "add_bars"
        ):
            self.owned.add(name)  # arithmetic makes a new array: element updates may write into it

    def header_bars(self):
        return {self.names[h] for h in self.headers if h in self.names}

    def materialize(self, name, out, owned=False):
        """Give ``name`` an adjoint variable of its own (zero if nothing reached it yet)."""
        target = self.name(name)
        current = self.bars.get(name)
        if name in self.appended and (current is None or owned and name not in self.owned):
            out.append(
                _assign(
                    target,
                    _call("list_bar", _name(name))
                    if current is None
                    else _call("list_bar", _name(name), trees.clone(current)),
                )
            )
            self.owned.add(name)
        elif current is None:
            out.append(_assign(target, self.zero(name)))
            if name not in self.act.scalars:
                self.owned.add(name)
        elif owned and name not in self.owned:
            # a fresh array, so that element updates never write into a shared one
            out.append(_assign(target, _call("add_bars", _call("zeros_like", _name(name)), trees.clone(current))))
            self.owned.add(name)
        elif not (isinstance(current, gast.Name) and current.id == target):
            out.append(_assign(target, trees.clone(current)))
            self.owned.discard(name)
        self.bars[name] = _name(target)

    def gradients(self, wrt, out):
        """Name every wrt parameter's adjoint (zeros when no contribution reached it)."""
        names = []
        for p in wrt:
            current = self.bars.get(p)
            target = self.name(p)
            if current is None:
                out.append(_assign(target, _call("zeros_like", _name(p))))
            elif not (isinstance(current, gast.Name) and current.id == target):
                out.append(_assign(target, trees.clone(current)))
            names.append(_name(target))
        return names[0] if len(names) == 1 else gast.Tuple(elts=names, ctx=gast.Load())

    def state(self):
        """A copy of what the adjoints are now, to return to after one arm of an if."""
        return dict(self.bars), set(self.owned)

    def restore(self, state):
        self.bars, self.owned = dict(state[0]), set(state[1])
