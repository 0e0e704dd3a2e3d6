"""Adjoints of in-place updates (``a[i] = v``, ``a[i] += v``, ``xs.append(v)``) and their undos.

A store into an element of an element, ``a[i][j] = v``, is an update of ``a`` through ``a[i]``: its
adjoint reads and zeroes ``a_bar[i][j]``, its undo saves and puts back one slot (``old_slot(a[i], j)``).

The adjoint of ``a[i] = v`` gives ``v`` the cotangent of the slots ``a[i]`` and
zeroes it there (what they held before reaches nothing); that of ``a[i] += v``
(``-=`` alike; the lowering turns other operators into ``a[i] = a[i] * v``)
gives ``v`` the same and leaves ``a``'s cotangent as it is; that of
``xs.append(v)`` gives ``v`` the last entry of ``xs``'s cotangent and pops it.
Going backwards, it then undoes the update, so that the adjoint code of earlier
statements reads what they read going forward: ``a[i] = v`` saves the slots it
overwrites in the forward sweep (``a_old = a[i].copy()``) and puts them back;
``a[i] += v`` subtracts v again (or is saved and put back like ``a[i] = v``
where v may share a's memory); ``xs.append(v)`` pops. Which undos the adjoint
really needs is known only once the whole adjoint sweep is written:
``needed_undos`` finds the stores whose undo later adjoint code reads the
contents of (through any name that may share the memory; a read of a shape
alone does not count), and the second reversal keeps only those.

Invariant: when the adjoint code of a statement before an in-place update runs,
every array or list it reads holds what it held when that statement ran
forward; an update whose array no such code reads is not undone and saves
nothing.

>>> import numpy as np
>>> from adjoint_compiler import activity, aliasing, emit, normalize, reverse, source, ssa
>>> def reversal(f):
...     src = source.read(f)
...     fn = ssa.run(aliasing.run(normalize.run(src.tree, src), src), src)
...     return emit.to_source(reverse.run(fn, src, activity.run(fn, src, ["x"], [], True), ["x"], "grad").function)
>>> def f(x):
...     a = x * 2.0
...     b = np.sin(a)
...     a[0] = b[1]
...     a[1] += b[0]
...     return np.sum(a)
>>> print(reversal(f).strip())
def f_grad(x):
    # forward sweep
    a = x * 2.0
    b = np.sin(a)
    _t1 = b[1]
    a_old = a[0].copy()
    a[0] = _t1
    _t2 = b[0]
    a[1] += _t2
    _t3 = np.sum(a)
    # adjoint sweep
    check_scalar(_t3)
    # return np.sum(a)
    a_bar = unreduce(1.0, a, None, False) * 1
    # a[1] += b[0]
    _t2_bar = stored(a_bar, 1, _t2)
    a[1] -= _t2
    b_bar = zeros_like(b)
    b_bar[0] += _t2_bar
    # a[0] = b[1]
    a_bar = add_bars(zeros_like(a), a_bar)
    _t1_bar = stored(a_bar, 0, _t1)
    a_bar[0] = 0.0
    a[0] = a_old
    b_bar[1] += _t1_bar
    # b = np.sin(a)
    a_bar = add_bars(a_bar, b_bar * np.cos(a))
    # a = x * 2.0
    x_bar = a_bar * 2.0
    return (_t3, x_bar)

With ``b = a * 3.0`` instead, no adjoint code reads the contents of ``a``
(``unreduce`` reads only its shape): neither update is undone, nothing is saved.

>>> def g(x):
...     a = x * 2.0
...     b = a * 3.0
...     a[0] = b[1]
...     a[1] += b[0]
...     return np.sum(a)
>>> text = reversal(g)
>>> "a_old" in text, "a[0] = a_old" in text, "a[1] -= _t2" in text
(False, False, False)
"""

import gast
import numpy as np

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler.reverse import shapes


_name, _assign, _call = trees.name, trees.assign, trees.call
_AUG = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**"}


def element_index(index, scalars):
    """Whether ``index`` names one element (ints and scalar names, no slices)."""
    if isinstance(index, gast.Tuple):
        return all(element_index(e, scalars) for e in index.elts)
    return not isinstance(index, gast.Slice) and plain_index(index, scalars)


def plain_index(index, scalars):
    """Whether ``index`` selects without repeats (ints, slices, None, ...): then ``+=`` on the view is exact."""
    if isinstance(index, gast.Tuple):
        return all(plain_index(e, scalars) for e in index.elts)
    if isinstance(index, gast.Slice):
        return True
    if isinstance(index, gast.Constant) or trees.is_number(index):
        return True
    return isinstance(index, gast.Name) and index.id in scalars


def adjoint_store(r, stmt, out):
    """``a[i] = v``: v gets the cotangent of a[i], which is zero before the store; ``a[i] += v``:
    v gets it and a's passes through. Then the store is undone (a[i] = its saved old part, or
    a[i] -= v), so the adjoint code of earlier statements reads what they read going forward;
    the undo is left out, and nothing saved, where no earlier adjoint code reads a."""
    act, cot = r.act, r.cot
    augmented = isinstance(stmt, gast.AugAssign)
    target = trees.element_store(stmt)
    name, index, value = trees.store_root(target).id, target.slice, stmt.value
    nested = not isinstance(target.value, gast.Name)  # a[i][j] = v: an update of a, through a[i]
    guard = []  # forward-sweep statements before the store
    if name in act.active and cot.bars.get(name) is not None:
        if not augmented:
            cot.materialize(name, out, owned=True)
        # the buffer's part the store addresses: a_bar, or a_bar[i] for a[i][j] = v (an owned buffer
        # is new all through: add_bars and zeros_like build every level)
        bar = _rerooted(target.value, cot.bars[name]) if nested else cot.bars[name]
        later = None
        if nested:
            guard = _index_checks(r, stmt, target)
        if isinstance(index, gast.Slice) and not _float_array(act, name):  # a list's length may change
            guard += [gast.copy_location(_store_check(r, stmt, target.value, value, index), stmt)]
        if isinstance(value, gast.Name) and value.id in act.active:
            if (nested or not _float_array(act, name)) and not isinstance(index, gast.Slice):
                guard += [gast.copy_location(_store_check(r, stmt, target.value, value.id), stmt)]
            if element_index(index, act.scalars) and value.id in act.scalars:
                # a number at an integer index: one element, or a whole row of a matrix (m[1] = t)
                part = _call("stored_number", trees.clone(bar), trees.clone(index))
            else:
                part = _call("stored", trees.clone(bar), trees.index_value(index), _name(value.id))
            if isinstance(getattr(stmt, "op", None), gast.Sub):
                part = trees.quote_expr("-part", part=part)
            if value.id == name:  # a[:] = a: its cotangent is a's own, zeroed next; take it first
                later = r.namer.fresh(naming.TEMP)
                out.append(_assign(later, part))
            else:
                cot.accumulate(value.id, part, out)
        if (
            not augmented
            and (name in act.sequences or nested or _maybe_list_buffer(act, name))
            and isinstance(index, gast.Slice)
        ):
            out += trees.quote("zero_slots(bar, index)", bar=bar, index=trees.index_value(index))
        elif not augmented:  # what a[i] held before is overwritten: it reaches nothing
            out += trees.quote("bar[index] = 0.0", bar=bar, index=index)
        if later is not None:
            cot.accumulate(name, _name(later), out)
    if guard:
        r.forward_of[id(stmt)] = guard + [stmt]
    if r.keep_undo is not None and id(stmt) not in r.keep_undo:
        return
    # a[i] += v where v may share a's memory (a[1:3] += a[0:2]): v changed with the store, so
    # subtracting it would not give a[i] back; save and restore as for a[i] = v
    shares = isinstance(value, gast.Name) and value.id in r.shared.get(name, {name})
    if nested:
        # a[i][j] = v: a[i] is a list, a dict or an array (known at run time): old_slot saves any of them
        saved = r.namer.unique(naming.SAVED.format(name))
        if augmented and not shares:
            text = "target += value" if isinstance(stmt.op, gast.Sub) else "target -= value"
            (undo,) = trees.quote(text, target=target, value=value)
        else:
            key = trees.index_value(index)  # (a slice as slice(i, j, k): an argument)
            (save,) = trees.quote("saved = old_slot(a, index)", saved=saved, a=target.value, index=key)
            r.forward_of[id(stmt)] = guard + [gast.copy_location(save, stmt), stmt]
            (undo,) = trees.quote("put_slot(a, index, saved)", saved=saved, a=target.value, index=key)
        r.undos[id(undo)] = stmt
        out.append(undo)
        return
    if augmented and not shares:
        text = "target += value" if isinstance(stmt.op, gast.Sub) else "target -= value"
        (undo,) = trees.quote(text, target=target, value=value)
    else:
        saved = r.namer.unique(naming.SAVED.format(name))
        # an array's slice is a view: copy it; a dict's key may be new (the undo then removes it); a copy of
        # an argument (own) is an array, a list or a dict, known only at run time: old_slot saves any of them
        key = (
            name in act.sequences
            and not isinstance(index, gast.Slice)
            and not trees.is_number(index)
            or name not in act.sequences
            and _maybe_list_buffer(act, name)
            and not any(isinstance(n, gast.Slice) for n in gast.walk(index))  # a slice has .copy() either way
            or name in act.owned
        )
        text = "saved = a[index]" if name in act.sequences else "saved = a[index].copy()"
        if key:
            text = "saved = old_slot(a, index)"
            index = trees.index_value(index)  # (a slice as slice(i, j, k): an argument)
        (save,) = trees.quote(text, saved=saved, a=name, index=index)
        r.forward_of[id(stmt)] = guard + [gast.copy_location(save, stmt), stmt]
        text = "put_slot(a, index, saved)" if key else "target = saved"
        (undo,) = trees.quote(text, target=target, saved=saved, a=name, index=index)
    r.undos[id(undo)] = stmt
    out.append(undo)


_FLOAT_MAKERS = {np.zeros, np.ones, np.empty, np.linspace, np.eye, np.identity}  # float64 unless dtype= says


def _float_array(act, name, depth=4):
    """Whether ``name`` certainly holds floats (so a store into it needs no run-time dtype check): made
    by arithmetic with a float literal, a division, a unary ufunc that gives floats for ints
    (``np.sin``), ``np.zeros`` and kin without ``dtype=``, or a copy of such a value."""
    made = [op for n, op in act.defs if n == name and op.kind not in ("store", "append")]
    if len(made) != 1 or depth == 0:  # stores change the contents, never the dtype
        return False
    op = made[0]
    if op.kind == "copy":
        return _float_array(act, op.args[0].id, depth - 1)
    if op.kind != "call":
        return False
    node, fn = op.node, op.fn
    if isinstance(node, gast.BinOp):
        if isinstance(node.op, gast.Div):
            return True
        return any(
            isinstance(a, gast.Constant)
            and type(a.value) is float
            or isinstance(a, gast.Name)
            and _float_array(act, a.id, depth - 1)
            for a in op.args
        )
    if fn in _FLOAT_MAKERS:
        return "dtype" not in op.kwargs
    if fn in (np.copy, np.array, np.asarray) and op.args and isinstance(op.args[0], gast.Name):
        return "dtype" not in op.kwargs and _float_array(act, op.args[0].id, depth - 1)
    if isinstance(fn, np.ufunc) and fn.nin == 1 and fn.nout == 1 and fn.signature is None:
        try:
            return np.asarray(fn(np.array([1, 2]))).dtype.kind == "f"
        except TypeError:
            return False
    return False


def _maybe_list_buffer(act, name):
    """Whether ``name`` is a cotangent buffer of emitted code differentiated again (``zeros_like(xs)``,
    ``add_bars(...)``, ``list_bar(...)``): a list for a list, an array otherwise; ``old_slot`` saves either."""
    return any(
        op.kind == "call" and op.fn in (runtime.zeros_like, runtime.add_bars, runtime.list_bar)
        for n, op in act.defs
        if n == name
    )


def _store_check(r, stmt, array, value, index=None):
    """``check_store(a, v, construct, file, line, col)``: before ``a[i] = v`` (or ``op=``) with a differentiated
    ``v``, refuse an integer or boolean ``a`` at run time (NumPy truncates v into it: no derivative flows);
    ``array`` is ``a`` (``a[i]`` for ``a[i][j] = v``). With a slice ``index`` (``a`` may be a list), also a
    store that changes a list's length."""
    op = "=" if isinstance(stmt, gast.Assign) else _AUG.get(type(stmt.op), "") + "="
    depth = len(trees.store_slices(trees.element_store(stmt))) - 1
    construct = trees.const("%s%s[...] %s ..." % (trees.store_root(trees.element_store(stmt)).id, "[...]" * depth, op))
    where = [construct] + trees.place(r.location(stmt))  # the file's base name: the same on every machine
    if index is None:
        return trees.quote("check_store(a, v, where)", a=array, v=value, where=where)[0]
    key = trees.index_value(index)
    return trees.quote("check_store(a, v, where, index)", a=array, v=value, where=where, index=key)[0]


def _index_checks(r, stmt, target):
    """``check_element_index(i, ...)`` before ``a[i][j] = v`` for each inner index not known to be a number:
    an index array would make ``a[i]`` a copy, which the store would change instead of ``a`` (so Python
    drops it), while the adjoint would read the slots of ``a``'s cotangent."""
    out = []
    construct = "%s%s = ..." % (trees.store_root(target).id, "[...]" * len(trees.store_slices(target)))
    for index in trees.store_slices(target)[:-1]:
        if element_index(index, r.act.scalars) or isinstance(index, gast.Constant):
            continue
        where = [trees.const(construct)] + trees.place(r.location(stmt))
        (check,) = trees.quote("check_element_index(i, where)", i=trees.index_value(index), where=where)
        out.append(gast.copy_location(check, stmt))
    return out


def _rerooted(node, bar):
    """``node`` (``a[i]``, ``a[i][j]``...) with its root name replaced by ``bar``: ``a_bar[i]``."""
    if isinstance(node, gast.Name):
        return trees.clone(bar)
    return gast.Subscript(value=_rerooted(node.value, bar), slice=trees.clone(node.slice), ctx=gast.Load())


def adjoint_append(r, stmt, out):
    """``xs.append(v)``: v gets the last entry of xs's cotangent, which is dropped (popped), so the
    cotangent keeps the length xs had at each point; the undo is ``xs.pop()``, saving nothing."""
    xs, value = trees.appended(stmt)
    name = xs.id
    if name in r.act.active:
        r.cot.materialize(name, out, owned=True)
        bar = r.cot.bars[name]
        if isinstance(value, gast.Name) and value.id in r.act.active:
            r.cot.accumulate(value.id, trees.quote_expr("bar.pop()", bar=bar), out)
        else:
            out += trees.quote("bar.pop()", bar=bar)
    if r.keep_undo is not None and id(stmt) not in r.keep_undo:
        return
    (undo,) = trees.quote("xs.pop()", xs=name)
    r.undos[id(undo)] = stmt
    out.append(undo)


def mutated_name(stmt):
    """The list or array an in-place statement or its undo changes: ``a`` in ``a[i] = v``, ``a.pop()``,
    ``put_slot(a, i, a_old)``."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value.func, gast.Name):
        return trees.store_root(stmt.value.args[0]).id  # put_slot(a, ...) or put_slot(a[i], ...)
    if isinstance(stmt, gast.Expr):
        return stmt.value.func.value.id
    return trees.stored_into(stmt)


def needed_undos(r, stmts, after, out):
    """Ids of the stores whose undo some later adjoint code depends on (it reads the same memory)."""
    for s in reversed(stmts):
        if id(s) in r.undos:
            name = r.renamed.get(mutated_name(s), mutated_name(s))  # an array reloaded from a tape inside a pullback
            if r.shared.get(name, {name}) & after:
                out.add(id(r.undos[id(s)]))
            continue
        if isinstance(s, (gast.For, gast.While)):
            # a loop's body runs again for earlier iterations: everything it reads counts
            inner = after | {r.renamed.get(n, n) for n in shapes.content_reads(s, r.undos)}
            needed_undos(r, s.body, inner, out)
            after = inner
        elif isinstance(s, gast.If):
            needed_undos(r, s.body, after, out)
            needed_undos(r, s.orelse, after, out)
            after = after | {r.renamed.get(n, n) for n in shapes.content_reads(s, r.undos)}
        else:
            after = after | {r.renamed.get(n, n) for n in shapes.content_reads(s, r.undos)}
    return out
