"""The computational graph of a function, drawn from the compiler's SSA form (``adjoint-compiler graph``).

Output invariant: ``graph_dot(f, wrt, at)`` is Graphviz DOT text, identical
byte for byte from run to run, with one node per value of the SSA form that
the output depends on (parameters always), named as in ``show --stage ssa``,
and one edge per use: a value read twice has two out-edges. A merge after an
``if`` and a loop-carried value are φ nodes, with an edge from each value they
may take (dashed: the value of the previous iteration); the values an ``if``
or a loop test reads reach the φ nodes they choose between by dotted edges.
Each loop is a ``subgraph cluster_loop<k>``, each arm of an ``if`` a
``subgraph cluster_if<k>``. With ``at`` (the arguments), a node also shows
its value (blue) and its adjoint, the derivative of the output with respect
to that value (red); a value assigned more than once (in a loop) shows its
last one and that one's adjoint, a parameter ``wrt`` names its gradient (the
others are held constant, as for ``ac.grad``). The values come from running
the SSA form, the adjoints from compiling it again with a perturbation added
to every float value. Values the output does not depend on are left out.

>>> def f(x, y):
...     v = x * y
...     return v + v
>>> dot = graph_dot(f, (0, 1), at={"x": 2.0, "y": 3.0})
>>> dot.count(' -> "v"'), dot.count('"v" -> ')
(2, 2)
>>> "value 6" in dot, "adjoint 6" in dot  # x_bar = 2 * y = 6 (and f = 12)
(True, True)
"""

import ast
import builtins
import copy
import html
import inspect
import os
import types

import gast
import numpy as np

from adjoint_compiler import api, effects, emit, naming, pipeline, runtime, source, ssa, trees
from adjoint_compiler.errors import UnsupportedError

VALUE_COLOUR = "#1f4e9a"
ADJOINT_COLOUR = "#b03a2e"


class _Node:
    def __init__(self, id_, kind, cluster, line, first):
        self.id = id_
        self.kind = kind  # param, value, merge, header, output, effect
        self.cluster = cluster
        self.line = line
        self.first = first  # the label's first line: "v3 = v1 + v2"
        self.sources = []  # a φ node's incoming names (None: unset on that path)
        self.output = False


class _Cluster:
    def __init__(self, id_, label, kind, parent):
        self.id = id_
        self.label = label
        self.kind = kind  # loop or if
        self.parent = parent


class _Builder:
    """Walks an SSA FunctionDef and collects its nodes, edges and clusters."""

    def __init__(self, fn, src):
        self.fn = fn
        self.src = src
        self.params = [a.id for a in fn.args.args]
        self.local = set(self.params) | {
            n.id for n in trees.walk(fn) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
        }
        self.nodes = {}
        self.edges = []  # (from, to, kind): data, back or control
        self.clusters = []
        self.loop_of_header = {}
        for loop in gast.walk(fn):
            if isinstance(loop, (gast.For, gast.While)):
                for name in ssa.loop_headers(fn)[id(loop)]:
                    self.loop_of_header[name] = id(loop)
        self.effects = 0
        for name in self.params:
            self.nodes[name] = _Node(name, "param", None, fn.lineno, name)

    def reads(self, node):
        """The local names ``node`` reads, left to right, once per read."""
        out = []

        def visit(n):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in self.local:
                out.append(n.id)
            for child in gast.iter_child_nodes(n):
                visit(child)

        visit(node)
        return out

    def node(self, name, kind, cluster, line, first):
        if name not in self.nodes:
            self.nodes[name] = _Node(name, kind, cluster, line, first)
        return self.nodes[name]

    def block(self, stmts, cluster, loops, merges=None):
        for stmt in stmts:
            line = getattr(stmt, "lineno", None)
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                self.assign(stmt, cluster, loops, merges)
            elif isinstance(stmt, gast.If):
                self.if_(stmt, cluster, loops)
            elif isinstance(stmt, (gast.For, gast.While)):
                self.loop(stmt, cluster, loops)
            elif isinstance(stmt, gast.Return):
                self.return_(stmt, cluster, loops)
            elif isinstance(stmt, (gast.Break, gast.Continue, gast.Pass)):
                continue
            else:  # an element store, a write to a global, a call for its effect: a node of its own
                self.effects += 1
                name = "_effect%d" % self.effects
                self.node(name, "effect", cluster, line, _text(stmt))
                self.edges.extend((r, name, "data") for r in self.reads(stmt))

    def assign(self, stmt, cluster, loops, merges):
        target = stmt.targets[0].id
        value = stmt.value
        reads = self.reads(value)
        loop = self.loop_of_header.get(target)
        if loop is not None or target in (merges or ()):
            node = self.node(target, "header" if loop is not None else "merge", cluster, None, target)
            node.sources.append(reads[0] if reads else None)
            inside = loop is not None and loop in loops
            self.edges.extend((r, target, "back" if inside else "data") for r in reads)
            return
        first = "%s = %s" % (target, _text(value))  # named: later labels read a temporary (_t1) by its name
        self.node(target, "value", cluster, getattr(stmt, "lineno", None), first)
        self.edges.extend((r, target, "data") for r in reads)

    def if_(self, stmt, cluster, loops):
        other = set(_top_targets(stmt.orelse))
        merges = [name for name in _top_targets(stmt.body) if name in other]
        line = getattr(stmt, "lineno", None)
        for name in merges:  # a merge belongs where the if statement is, after its arms
            self.node(name, "merge", cluster, line, name)
        tests = self.reads(stmt.test)
        for name in merges:
            self.edges.extend((t, name, "control") for t in tests)
        if loops and len(stmt.body) == 1 and isinstance(stmt.body[0], gast.Break):
            # an exit check: it decides which iteration's values the loop-carried ones end with
            headers = [h for h, loop in self.loop_of_header.items() if loop == loops[-1]]
            for h in sorted(headers):
                self.edges.extend((t, h, "control") for t in tests)
            return
        text = self.src.line_text(line) if line else "if"
        where = "  (line %d)" % line if line else ""
        for arm, label in ((stmt.body, text + where), (stmt.orelse, "else" + where)):
            if arm:
                self.block(arm, self.cluster("if", label, cluster), loops, merges)

    def loop(self, stmt, cluster, loops):
        line = getattr(stmt, "lineno", None)
        text = self.src.line_text(line) if line else ("for" if isinstance(stmt, gast.For) else "while")
        loop_cluster = self.cluster("loop", "%s  (line %d)" % (text, line) if line else text, cluster)
        headers = sorted(h for h, loop in self.loop_of_header.items() if loop == id(stmt))
        for h in headers:
            node = self.node(h, "header", loop_cluster, line, h)
            node.cluster, node.line = loop_cluster, line
        inner = loops + (id(stmt),)
        if isinstance(stmt, gast.For):
            target = stmt.target.id
            self.node(target, "value", loop_cluster, line, "%s ← %s" % (target, _text(stmt.iter)))
            self.edges.extend((r, target, "data") for r in self.reads(stmt.iter))
        else:
            for h in headers:
                self.edges.extend((t, h, "control") for t in self.reads(stmt.test))
        self.block(stmt.body, loop_cluster, inner)

    def return_(self, stmt, cluster, loops):
        value = stmt.value
        if isinstance(value, gast.Name) and value.id in self.nodes:
            self.nodes[value.id].output = True
            return
        node = self.node("_output", "output", cluster, getattr(stmt, "lineno", None), _text(value) if value else "None")
        node.output = True
        self.edges.extend((r, "_output", "data") for r in (self.reads(value) if value is not None else []))

    def cluster(self, kind, label, parent):
        c = _Cluster("cluster_%s%d" % (kind, 1 + sum(k.kind == kind for k in self.clusters)), label, kind, parent)
        self.clusters.append(c)
        return c

    def prune(self):
        """Drop the values nothing the function returns or changes depends on (merges that only keep
        Python's scoping, dead code): a reverse walk from the output and the effects."""
        preds = {}
        for a, b, _ in self.edges:
            preds.setdefault(b, []).append(a)
        keep = set(self.params)
        todo = [n.id for n in self.nodes.values() if n.output or n.kind == "effect"]
        while todo:
            name = todo.pop()
            if name in keep and name not in self.params:
                continue
            keep.add(name)
            todo.extend(p for p in preds.get(name, ()) if p not in keep)
        self.nodes = {k: v for k, v in self.nodes.items() if k in keep}
        self.edges = [e for e in self.edges if e[0] in keep and e[1] in keep]


def _top_targets(stmts):
    return [s.targets[0].id for s in stmts if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)]


def _text(node):
    return emit.to_source(node).strip()


def ssa_form(f, wrt):
    """The SSA FunctionDef of ``f`` (what ``show --stage ssa`` prints), its ``source.Source`` and the
    names of the parameters ``wrt`` names."""
    wrt_idx, _ = api.normalize_wrt(f, wrt if isinstance(wrt, tuple) else (wrt,))
    c = pipeline.Compilation(f, wrt_idx, "grad", (), None, None, False, ())
    return pipeline._run(c, "ssa"), c.src, c.wrt_names


def graph_dot(f, wrt=0, at=None):
    """DOT text of the computational graph of ``f`` (see the module docstring); ``at`` maps parameter
    names to values (or lists the arguments) to label every node with its value and adjoint."""
    return _render(build(f, wrt, at), f)


def build(f, wrt=0, at=None):
    """What ``graph_dot`` draws: ``nodes`` (SSA name -> node: ``kind``, ``cluster``, ``output``),
    ``edges`` ((from, to, kind): "data", "back" or "control"), ``clusters``, and with ``at``,
    ``values`` (name -> (last value, times assigned)) and ``adjoints`` (name -> adjoint)."""
    fn, src, wrt_names = ssa_form(f, wrt)
    g = _Builder(fn, src)
    g.wrt = set(wrt_names)
    g.block(fn.body, None, ())
    g.prune()
    g.values = g.adjoints = g.note = g.args = None
    if at is not None:
        writes = sorted(place for place, _ in effects.summary(src.func).writes.values())
        if writes or src.module_alias is not None or src.closure_alias is not None:
            raise UnsupportedError(
                "values and adjoints (at=, --at) of a function that writes a global or nonlocal variable%s: "
                "running it to label the graph would change it" % (" (at %s)" % writes[0] if writes else ""),
                src.location(fn),
                "draw it without a point",
            )
        bound = inspect.signature(f).bind(**at) if isinstance(at, dict) else inspect.signature(f).bind(*at)
        bound.apply_defaults()
        g.args = [bound.arguments[p] for p in g.params]
        g.values, g.safe = _evaluate(fn, src, g, copy.deepcopy(g.args))
        # a fresh copy for the second run: the function may update its arguments in place
        g.adjoints, g.note = _adjoints(fn, src, g, copy.deepcopy(g.args), g.values, g.safe)
    return g


def _derived(fn, src, tree, extra):
    """``tree`` (a variant of the SSA form ``fn``) as a function reading ``fn``'s environment."""
    cells = {name: types.CellType(value) for name, value in extra.items()}
    for name in trees.loads(tree):
        if name in cells or name in src.func.__globals__:
            continue
        value = dict.get(src.env, name, _MISSING)
        if value is _MISSING and name in runtime.HELPERS:  # a helper the lowering passes call (loop_length)
            value = getattr(runtime, name)
        if value is not _MISSING and value is not getattr(builtins, name, _MISSING):
            cells[name] = types.CellType(value)  # a name a compiler stage bound (a specialisation)
    # its own name: a recursive call must reach the user's function, not this copy
    tree.name = naming.Namer(trees.all_names(tree) | set(src.env)).unique("%s_graph" % fn.name)
    free = set(src.func.__code__.co_freevars)
    cells = {k: v for k, v in cells.items() if k not in free or k in extra}
    tree.args.defaults = []  # every argument is passed
    ast.fix_missing_locations(tree)  # merges have no line of their own; the printer wants one
    return source.derived(src, tree, cells)


_MISSING = object()


def _runnable(fn, src):
    """A copy of the SSA form ``fn`` that runs as the user's function does: raise and try statements
    restored from the markers ``desugar`` lowered them to, checkpointed loops as plain loops."""
    tree = trees.clone(fn)
    emit.restore_raises(tree, src.env)
    if emit.restore_tries(tree, src.env):
        raise UnsupportedError(
            "values and adjoints (at=, --at) of a try statement the compiler rearranges", src.location(fn)
        )
    for loop in trees.walk(tree):
        iter_ = getattr(loop, "iter", None)
        if isinstance(loop, gast.For) and isinstance(iter_, gast.Call) and isinstance(iter_.func, gast.Name):
            if iter_.func.id == naming.CHECKPOINT_MARKER:  # checkpointing changes no value
                loop.iter = iter_.args[0]
    return tree


def _sites(tree):
    return [n for n in trees.walk(tree) if isinstance(n, gast.Assign) and isinstance(n.targets[0], gast.Name)]


def _evaluate(fn, src, builder, args):
    """``(values, safe)``: name -> (last value, times assigned) from running the SSA form with every
    value recorded; ``safe`` holds the assignments (by position in ``_sites``) that only ever gave
    floats of one shape, where a perturbation of that shape changes nothing else, and the names whose
    last value was given by one of them."""
    values = {p: (a, 1) for p, a in zip(builder.params, args)}
    kinds = {}  # site -> the shape of the floats it gave, or None
    last_site = {}
    tree = _runnable(fn, src)
    record = naming.Namer(trees.all_names(tree) | set(src.env)).unique("_graph_record")

    def recorder(name, site, value):
        kept = copy.copy(value) if isinstance(value, (np.ndarray, list, dict)) else value  # later updates in place
        values[name] = (kept, values.get(name, (None, 0))[1] + 1)
        shape = np.shape(value) if _is_float(value) else None
        kinds[site] = shape if kinds.get(site, shape) == shape else None
        last_site[name] = site
        return value

    def wrap(name, site, value):
        return gast.Call(func=trees.name(record), args=[trees.const(name), trees.const(site), value], keywords=[])

    loops = [n for n in trees.walk(tree) if isinstance(n, gast.For)]
    for site, node in enumerate(_sites(tree)):
        node.value = wrap(node.targets[0].id, site, node.value)
    for loop in loops:
        loop.body.insert(0, gast.Expr(value=wrap(loop.target.id, -1, trees.name(loop.target.id))))
    if "_output" in builder.nodes:
        for node in trees.walk(tree):
            if isinstance(node, gast.Return):
                node.value = wrap("_output", -1, node.value)
    _derived(fn, src, tree, {record: recorder})(*args)
    sites = {site for site, shape in kinds.items() if shape is not None and site >= 0}
    return values, (sites, {name for name, site in last_site.items() if site in sites})


def _is_float(value):
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _adjoints(fn, src, builder, args, values, safe):
    """``(adjoints, note)``: name -> the gradient of the output with respect to a perturbation added to
    the node's last value (of a parameter: its adjoint, the sum over all its uses), from compiling the
    SSA form so perturbed; the note says why there are none."""
    output = [values.get(n.id, (None,))[0] for n in builder.nodes.values() if n.output]
    if len(output) != 1 or not _is_float(output[0]) or np.ndim(output[0]) != 0:
        out = output[0] if output else None
        kind = "an array of shape %s" % (out.shape,) if isinstance(out, np.ndarray) else "a " + type(out).__name__
        kind = "None" if out is None else kind
        return {}, "no adjoints: the output is %s, not a float" % kind
    perturbed, order = _perturbed(fn, src, builder, values, safe)
    zeros = [np.zeros_like(values[n][0]) if isinstance(values[n][0], np.ndarray) else 0.0 for n in order]
    # the parameters wrt does not name are constants, as for ac.grad
    differentiated = [i for i, (p, a) in enumerate(zip(builder.params, args)) if p in builder.wrt and _is_float(a)]
    params = [builder.params[i] for i in differentiated]
    wrt = tuple(differentiated) + tuple(range(len(args), len(args) + len(order)))
    if not wrt:
        return {}, "no float values: no adjoints"
    try:
        grads = api.grad(perturbed, wrt=wrt)(*args, *zeros)
    except Exception as e:  # a vector output, say: the graph keeps its values
        return {}, "no adjoints: %s: %s" % (type(e).__name__, (str(e).splitlines() or [""])[0])
    grads = grads if isinstance(grads, tuple) else (grads,)
    adjoints = dict(zip(params + order, grads))
    if "_output" in builder.nodes:  # a returned expression, not a name: d output / d output
        adjoints["_output"] = 1.0
    return adjoints, None


def _perturbed(fn, src, builder, values, safe):
    """``(function, names)``: the SSA form taking after its parameters one perturbation per name of
    ``names``, added to the last value assigned to that name."""
    tree = _runnable(fn, src)
    namer = naming.Namer(trees.all_names(tree) | set(src.env))
    sites = _sites(tree)
    deltas, counters = {}, {}
    for site, node in enumerate(sites):
        name = node.targets[0].id
        node_kind = builder.nodes[name].kind if name in builder.nodes else None
        if node_kind in ("value", "merge", "header") and name in safe[1]:
            deltas.setdefault(name, namer.unique(name + "_delta"))
            if values[name][1] > 1:  # perturbed at its last assignment only, which a counter finds
                counters.setdefault(name, namer.unique(name + "_count"))
    for site, node in enumerate(sites):
        name = node.targets[0].id
        if name not in deltas or site not in safe[0]:
            continue
        if name in counters:
            last = trees.const(values[name][1])
            node.value = trees.quote_expr(
                "e + d * (k == last)", e=node.value, d=deltas[name], k=counters[name], last=last
            )
        else:
            node.value = trees.quote_expr("e + d", e=node.value, d=deltas[name])
    counted = {name: trees.quote("k = k + 1", k=counter) for name, counter in counters.items()}
    _count_assignments(tree.body, counted)
    tree.body[:0] = [trees.quote("k = 0", k=counter)[0] for counter in counters.values()]
    order = list(deltas)
    tree.args.args = tree.args.args + [
        gast.Name(id=deltas[n], ctx=gast.Param(), annotation=None, type_comment=None) for n in order
    ]
    return _derived(fn, src, tree, {}), order


def _count_assignments(stmts, counted):
    """Put ``counted[name]`` (a counter's increment) before every assignment to ``name`` in ``stmts``."""
    i = 0
    while i < len(stmts):
        stmt = stmts[i]
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id in counted:
            stmts[i:i] = trees.clone(counted[stmt.targets[0].id])
            i += 1
        for field in ("body", "orelse"):
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                _count_assignments(getattr(stmt, field), counted)
        i += 1


def _fmt(value):
    if isinstance(value, (bool, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, (int, np.integer)):
        return "%d" % value
    if isinstance(value, (float, np.floating)):
        text = "%.6g" % value
        return text + ".0" if text.lstrip("-").isdigit() else text  # 2.0, not 2: a float, not an int
    if isinstance(value, np.ndarray):
        if value.size <= 4:
            return np.array2string(value, precision=4, separator=", ")
        return "array%s, |·| %.4g" % (value.shape, float(np.linalg.norm(value)))
    if isinstance(value, (list, tuple)):
        return "%s of %d" % (type(value).__name__, len(value))
    return type(value).__name__


def _q(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(node, src, values, adjoints, wrt):
    first = node.first
    if node.kind in ("merge", "header"):
        first = "%s = φ(%s)" % (node.id, ", ".join(s if s is not None else "unset" for s in node.sources))
    rows = ["<B>%s</B>" % html.escape(_clip(first, 64))]
    if node.kind == "param":
        rows = ["<B>%s</B>" % html.escape(node.id), _grey("input" if node.id in wrt else "input, held constant")]
    elif node.kind == "merge":
        rows.append(_grey("merge after the if at line %d" % node.line if node.line else "merge after an if"))
    elif node.kind == "header":
        rows.append(_grey("loop-carried value" + (" (line %d)" % node.line if node.line else "")))
    elif node.line:
        text = src.line_text(node.line)
        same = text == first or text == "return " + first
        rows.append(_grey("line %d" % node.line if same or not text else "line %d: %s" % (node.line, _clip(text))))
    if node.output:
        rows.append("<B>output</B>")
    if values is not None:
        if node.id not in values:
            rows.append(_grey("not run"))
        else:
            value, count = values[node.id]
            if count > 1 and node.kind != "param":
                rows.append(_grey("the last of %d values" % count))
            rows.append(_coloured(VALUE_COLOUR, "value %s" % _fmt(value)))
            if node.id in adjoints:
                rows.append(_coloured(ADJOINT_COLOUR, "adjoint %s" % _fmt(adjoints[node.id])))
    return "<%s>" % "<BR/>".join(rows)


def _clip(text, width=48):
    return text if len(text) <= width else text[: width - 1] + "…"


def _grey(text):
    return '<FONT POINT-SIZE="10" COLOR="#666666">%s</FONT>' % html.escape(text)


def _coloured(colour, text):
    return '<FONT COLOR="%s">%s</FONT>' % (colour, html.escape(text))


_FILL = {"param": "#e3f1e3", "output": "#fde9d9", "effect": "#eeeeee", "merge": "#f3eefa", "header": "#f3eefa"}
_EDGE = {
    "data": 'color="#444444"',
    "back": 'color="#b8860b", style=dashed, constraint=false',
    "control": 'color="#999999", style=dotted, arrowhead=empty',
}
_CLUSTER_FILL = {"loop": "#fff8e1", "if": "#eef4fb"}


def _render(builder, f):
    src, values, adjoints, note, args = builder.src, builder.values, builder.adjoints, builder.note, builder.args
    lines = ["digraph %s {" % _q(f.__name__)]
    title = "%s(%s)  —  %s:%d" % (
        f.__name__,
        ", ".join(builder.params),
        os.path.basename(src.filename),
        builder.fn.lineno,
    )
    if values is not None:
        title += "\nat %s" % ", ".join("%s=%s" % (p, _fmt(a)) for p, a in zip(builder.params, args))
        title += "\n" + (note or "blue: value, red: adjoint (d output / d value)")
    lines.append("  graph [rankdir=LR, fontname=Helvetica, labelloc=t, label=%s];" % _q(title))
    lines.append('  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=12];')
    lines.append("  edge [arrowsize=0.7];")
    children = {}
    for c in builder.clusters:
        children.setdefault(c.parent.id if c.parent else None, []).append(c)
    members = {}
    for node in builder.nodes.values():
        members.setdefault(node.cluster.id if node.cluster else None, []).append(node)

    def emit_nodes(key, indent):
        for node in members.get(key, []):
            fill = _FILL["output"] if node.output else _FILL.get(node.kind, "white")
            extra = ", peripheries=2" if node.output else ""
            lines.append(
                "%s%s [label=%s, fillcolor=%s%s];"
                % (indent, _q(node.id), _label(node, src, values, adjoints, builder.wrt), _q(fill), extra)
            )
        for c in children.get(key, []):
            if not _has_members(c, members, children):
                continue
            lines.append("%ssubgraph %s {" % (indent, c.id))
            lines.append(
                '%s  graph [label=%s, style="rounded,filled", fillcolor=%s, color="#bbbbbb", labeljust=l];'
                % (indent, _q(c.label), _q(_CLUSTER_FILL[c.kind]))
            )
            emit_nodes(c.id, indent + "  ")
            lines.append("%s}" % indent)

    emit_nodes(None, "  ")
    for a, b, kind in builder.edges:
        lines.append("  %s -> %s [%s];" % (_q(a), _q(b), _EDGE[kind]))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _has_members(c, members, children):
    return bool(members.get(c.id)) or any(_has_members(k, members, children) for k in children.get(c.id, []))


class MissingDependency(Exception):
    """An optional package or program a picture needs is not installed."""


FORMATS = ("dot", "svg", "png")


def write(dot, path):
    """Write ``dot`` to ``path``: as text for ``.dot``, drawn by Graphviz for ``.svg`` and ``.png``."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError("the output file must end in .dot, .svg or .png, got %r" % path)
    if ext == "dot":
        with open(path, "w", encoding="utf-8") as file:
            file.write(dot)
        return
    need = (
        "drawing .%s needs the graphviz Python package and the Graphviz 'dot' program: "
        "pip install 'adjoint-compiler[graph]' and install Graphviz (e.g. apt-get install graphviz), "
        "or write .dot" % ext
    )
    try:
        import graphviz
    except ImportError:
        raise MissingDependency(need) from None
    try:
        data = graphviz.Source(dot).pipe(format=ext)
    except graphviz.ExecutableNotFound:
        raise MissingDependency(need) from None
    with open(path, "wb") as file:
        file.write(data)
