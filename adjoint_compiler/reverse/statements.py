"""The adjoint sweep of a block: each statement's adjoint, last statement first.

``adjoint_block`` dispatches on the statement: an assignment ``y = op(...)``
(copies, displays, subscripts, list concatenation here; calls in ``calls``),
an in-place update or an append (``inplace``), an ``if`` (reversed to an ``if``
on the same recorded test, ``_cond1``, with the adjoints the two arms change
differently merged into the same variables after it), a loop (``loops``,
``checkpoint``). Expression statements, asserts and writes through to the
user's module have no adjoint: they ran once, in the forward sweep. Where the
source is known, the adjoint code of an assignment or an in-place update is
preceded by a comment quoting its source line (once for consecutive
statements from the same line).

Invariant: the adjoint of ``y = op(...)`` takes the cotangent ``y`` has
gathered from the code after it and hands it to the active operands; ``y``'s
cotangent is then dropped (the definition kills it), so adjoint code of
statements before it sees a fresh one. After a reversed ``if``, each adjoint
either arm changed is in the same variable on both paths.

>>> from adjoint_compiler import activity, emit, normalize, reverse, source, ssa
>>> def f(x, c):
...     if c > 0:
...         y = x * x
...     else:
...         y = x
...     return y
>>> src = source.read(f)
>>> fn = ssa.run(normalize.run(src.tree, src), src)
>>> act = activity.run(fn, src, ["x"], ["x", "c"], True)
>>> print(emit.to_source(reverse.run(fn, src, act, ["x"], "grad").function).strip())
def f_grad(x, c):
    # forward sweep
    _cond1 = c > 0
    if _cond1:
        y = x * x
        y_2 = y
    else:
        y_1 = x
        y_2 = y_1
    # adjoint sweep
    check_scalar(y_2)
    if _cond1:
        # y = x * x
        x_bar = 1.0 * x + 1.0 * x
    else:
        x_bar = 1.0
    return (y_2, x_bar)
"""

import operator

import gast

from adjoint_compiler import naming, objects, ops, runtime, trees
from adjoint_compiler import source as source_mod
from adjoint_compiler.errors import InternalError, UnsupportedError
from adjoint_compiler.reverse import calls, checkpoint, inplace, loops


_name = trees.name


def _in_place_add(name, cot):
    """Whether the cotangent of ``name``, an element read, may be added in place (``bar[i] += g``): not where it
    is a container or a returned part, nor in code making complex values, where ``runtime.add_at`` keeps the real
    part of a complex cotangent added into a real buffer (a row of a real array, say)."""
    return name not in cot.containers | cot.returned_parts and not source_mod.COMPLEX_SEEN.seen


def adjoint_block(r, stmts):
    """Adjoint of a list of statements, in reverse, with a comment per source line."""
    out = []
    last_line = None
    _fuse_element_reads(r, stmts)
    for stmt in reversed(stmts):
        part = []
        if trees.element_store(stmt) is not None:
            inplace.adjoint_store(r, stmt, part)
        elif isinstance(stmt, gast.Assign) and not isinstance(stmt.targets[0], gast.Name):
            pass  # a write through to the user's module: a side effect of the forward sweep
        elif isinstance(stmt, gast.Assign):
            adjoint_assign(r, stmt, part)
        elif isinstance(stmt, gast.If):
            part = adjoint_if(r, stmt)
        elif isinstance(stmt, (gast.For, gast.While)) and checkpoint.is_checkpointed(stmt):
            part = checkpoint.adjoint_checkpointed(r, stmt, adjoint_block)
        elif isinstance(stmt, (gast.For, gast.While)):
            part = loops.adjoint_loop(r, stmt, adjoint_block)
        elif trees.appended(stmt) is not None and trees.appended(stmt)[0].id in r.local:
            inplace.adjoint_append(r, stmt, part)
        elif isinstance(stmt, (gast.Expr, gast.Assert, gast.Break, gast.Pass)):
            pass  # side effects and checks run once, in the forward sweep
        else:
            raise InternalError("reverse: unexpected statement %s" % type(stmt).__name__)
        if part:
            line = getattr(stmt, "lineno", None)
            if isinstance(stmt, (gast.Assign, gast.AugAssign)) and line != last_line and r.source is not None and line:
                out.append(trees.comment(r.source.line_text(line)))
                last_line = line
            elif not isinstance(stmt, (gast.Assign, gast.AugAssign)):
                last_line = None
            out.extend(part)
    return out


def _fuse_element_reads(r, stmts):
    """Record in ``r.fused`` each ``u = _t[j]`` after ``_t = a[i]`` (what anf makes of ``a[i][j]``, chains
    ``a[i][j][k]`` too) where the temporary is read nowhere else and only assignments of names without calls
    (``_t2 = j - 1``) come between: u's cotangent is added into ``a_bar[i][j]`` itself, not into a row of
    zeros added into ``a_bar[i]`` (O(1), not O(len(a[i])), per read in a loop). Nothing between the two
    reads changes a slot, so a_bar[i][j] is the slot u's value came from."""
    defs = {}  # a temporary holding an element -> (its root, the indices from the root)
    for stmt in stmts:
        if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)) or isinstance(
            stmt.value, gast.Call
        ):
            defs = {}  # a store, a call, a loop ...: what came before may have changed
            continue
        value = stmt.value
        name = stmt.targets[0].id
        defs.pop(name, None)
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and not _sliced(value.slice)):
            continue
        base = value.value.id
        if (
            base in defs
            and r.reads[base] == 1
            and all(inplace.element_index(i, r.act.scalars) for i in defs[base][1])  # no index array: a view
        ):
            root, path = defs.pop(base)
            r.fused[id(stmt)] = (root, path + [value.slice])
            defs[name] = (root, path + [value.slice])
        elif naming.is_temp(name):
            defs[name] = (base, [value.slice])


def _sliced(index):
    return any(isinstance(n, gast.Slice) for n in trees.breadth_first(index))


def adjoint_assign(r, stmt, out):
    """The adjoint of ``name = <operation>``: the cotangent of name flows to the operands."""
    act, cot = r.act, r.cot
    name = stmt.targets[0].id
    zero_parts = cot.zero_parts(name)  # a tuple of parts: those only a zero placeholder (nothing reached)
    g = cot.bars.pop(name, None)  # the definition kills the adjoint: earlier code sees a fresh one
    cot.disown(name)
    if g is None or name not in act.active:
        return
    op = act.op(stmt, r.source, r.local)
    if op.kind in ("call", "method") and not any(n in act.active for n in op.operand_names()):
        return  # e.g. a = np.zeros(n) that later stores make active: nothing flows into its arguments
    if op.kind == "copy" and isinstance(g, gast.Tuple) and cot.pass_parts(op.args[0].id, g, zero_parts):
        pass  # u = t: t's cotangent is u's tuple of parts
    elif op.kind == "copy":
        cot.accumulate(op.args[0].id, g, out)
    elif op.kind == "tuple" and isinstance(g, gast.Tuple) and len(g.elts) == len(op.args):
        for i, elt in enumerate(op.args):  # the cotangent is a tuple of parts: element i gets part i
            if isinstance(elt, gast.Name) and elt.id in act.active and i not in zero_parts:
                cot.accumulate(elt.id, trees.clone(g.elts[i]), out)
    elif op.kind == "tuple" and not op.kwargs and isinstance(g, gast.Name) and len(op.args) > 1:
        # a, b = g: each element's cotangent, unpacked
        cot.unpack(
            trees.clone(g), [e.id if isinstance(e, gast.Name) and e.id in act.active else None for e in op.args], out
        )
    elif op.kind == "tuple":  # a tuple, list or dict display: element i gets g[i] (g[key] for a dict)
        for i, elt in enumerate(op.args):
            if isinstance(elt, gast.Name) and elt.id in act.active:
                key = op.kwargs[i] if op.kwargs else trees.const(i)
                cot.accumulate(elt.id, trees.quote_expr("g[key]", g=g, key=key), out)
    elif op.kind == "subscript" and id(stmt) in r.fused and r.fused[id(stmt)][0] in act.active:
        root, path = r.fused[id(stmt)]  # u = a[i][j], read in two steps: u's cotangent into a_bar[i][j]
        cot.materialize(root, out, owned=True)
        bar = _name(cot.name(root))
        for part in path[:-1]:
            bar = gast.Subscript(value=bar, slice=trees.clone(part), ctx=gast.Load())
        index = path[-1]
        if inplace.plain_index(index, act.scalars) and _in_place_add(name, cot):
            out += trees.quote("bar[index] += g", bar=bar, index=index, g=g)
        else:
            out += trees.quote("add_at(bar, index, g)", bar=bar, index=trees.index_value(index), g=g)
    elif op.kind == "subscript":
        seq, index = op.args
        if seq.id in act.active and cot.add_part(seq.id, index, g, name, out):
            pass  # element i of a known tuple: part i of its cotangent, a tuple of parts
        elif seq.id in act.active and _whole(index):
            # a[()] and a[...] are all of a (a 0-d array's: its number, whose cotangent is a number that
            # cannot be indexed): the whole cotangent, added
            cot.accumulate(seq.id, g, out)
        elif seq.id in act.active:
            cot.materialize(seq.id, out, owned=True)
            bar = cot.name(seq.id)
            # a slice of a list is a list, whose += would extend it: add_at adds a list's element by
            # element, and an array's in place (bar[index] += g, no new array: the buffer is owned)
            maybe_list = isinstance(index, gast.Slice) and (seq.id in act.sequences or seq.id in r.params)
            if maybe_list and inplace.plain_index(index, act.scalars):
                out += trees.quote("add_at(bar, index, g)", bar=bar, index=trees.index_value(index), g=g)
            elif inplace.plain_index(index, act.scalars) and _in_place_add(name, cot):
                # the buffer was made here (materialize(owned=True)): updating it in place is safe
                # (not for an element that is itself a list: a list's += would extend it)
                out += trees.quote("bar[index] += g", bar=bar, index=index, g=g)
            else:  # an index array may repeat positions: each repeat adds its own contribution
                out += trees.quote("add_at(bar, index, g)", bar=bar, index=trees.index_value(index), g=g)
    elif op.kind == "call" and op.fn is operator.add and name in act.sequences:
        # xs + ys on lists or tuples: the cotangent splits where the first one ends
        xs, ys = op.args
        for operand, part in ((xs, "g[:len(xs)]"), (ys, "g[len(xs):]")):
            if isinstance(operand, gast.Name) and operand.id in act.active:
                cot.accumulate(operand.id, trees.quote_expr(part, g=g, xs=xs), out)
    elif (
        op.kind == "call"
        and op.fn is operator.mul
        and name in act.sequences
        and any(isinstance(a, gast.Name) and a.id in act.sequences for a in op.args)
    ):
        # xs * n (n * xs) of a list or tuple: xs's cotangent adds the entries of its n copies
        k = next(i for i, a in enumerate(op.args) if isinstance(a, gast.Name) and a.id in act.sequences)
        xs, n = op.args[k], op.args[1 - k]
        if xs.id in act.active:
            # n, not varied (activity.py), may still be a constant array: repeated_bar tells at run time
            cot.accumulate(xs.id, trees.quote_expr("repeated_bar(g, xs, n)", g=g, xs=xs, n=n), out)
    elif op.kind == "call":
        calls.adjoint_call(r, stmt, name, op, g, out)
    elif op.kind in ("const", "nondiff", "index"):
        pass  # e.g. the None a merge gets on a path where the variable is unassigned
    elif op.kind == "method":
        receiver = op.fn.value.id if isinstance(op.fn.value, gast.Name) else ""
        hint = objects.note(r.source, receiver) or ops.frozen_hint(op.fn, r.source)
        raise UnsupportedError("method call .%s()" % op.fn.attr, r.location(stmt), hint)
    else:
        raise UnsupportedError(type(op.node).__name__ + " expression", r.location(stmt))


def _raises(r, block):
    """Whether ``block`` always raises: a raise statement (lowered by desugar to a call of ``runtime.raise_``)
    among its own statements (SSA's merge assignments may follow it, never run)."""
    return r.source is not None and any(
        isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Call)
        and isinstance(stmt.value.func, gast.Name)
        and dict.get(r.source.env, stmt.value.func.id) is runtime.raise_
        for stmt in block
    )


def adjoint_if(r, stmt):
    """``if c: A else: B`` reverses to ``if c: A' else: B'`` with the adjoints merged after it; to ``A'``
    alone where ``B`` always raises (a guard clause, a with block's except clause that raises again): the
    adjoint sweep runs only after the forward sweep got past the ``if``, so through ``A``."""
    if _raises(r, stmt.orelse):
        return adjoint_block(r, stmt.body)
    if _raises(r, stmt.body):
        return adjoint_block(r, stmt.orelse)
    cot = r.cot
    before = cot.state()
    then_adj = adjoint_block(r, stmt.body)
    then_state = cot.state()
    cot.restore(before)
    else_adj = adjoint_block(r, stmt.orelse)
    else_state = cot.state()
    if not then_adj and not else_adj and then_state[0] == else_state[0]:
        return []
    defined = trees.stores(stmt.body) | trees.stores(stmt.orelse)
    differ = sorted(
        n
        for n in set(then_state[0]) | set(else_state[0])
        if n not in defined and not trees.same(then_state[0].get(n), else_state[0].get(n))
    )
    # make both arms leave each differing adjoint in the same variable
    merged_owned = then_state[1] & else_state[1]
    for arm, state in ((then_adj, then_state), (else_adj, else_state)):
        cot.restore(state)
        for n in differ:
            cot.materialize(n, arm)
        merged_owned &= cot.owned_now() | (set(cot.bars) - set(differ))
    cot.bars = {n: a for n, a in then_state[0].items() if n not in differ}
    cot.bars.update((n, _name(cot.name(n))) for n in differ)
    cot.owned = merged_owned
    return [
        gast.copy_location(gast.If(test=trees.clone(stmt.test), body=then_adj or [gast.Pass()], orelse=else_adj), stmt)
    ]


def _whole(index):
    """Whether the subscript ``index`` is ``()`` or ``...``, which take all of an array."""
    return (isinstance(index, gast.Tuple) and not index.elts) or (
        isinstance(index, gast.Constant) and index.value is Ellipsis
    )
