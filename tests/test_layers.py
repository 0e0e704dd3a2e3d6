"""The package's import layers: a module imports only from layers below it (or, inside one layer,
without a cycle), and never from inside a function, where an import hides a cycle.

errors/naming < trees < source/runtime < rules/templates < passes < pipeline/link
< api/derived/export/backend_numba < testing/cli/graph/checks
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "adjoint_compiler"

LAYERS = [
    {"errors", "naming"},
    {"trees"},
    {"source", "runtime"},
    {"rules", "templates"},
    None,  # every compiler pass: the modules not named in another layer
    {"pipeline", "link"},
    {"api", "derived", "export", "backend_numba"},
    {"testing", "cli", "graph", "checks"},
    {"__init__", "__main__"},
]
PASS_LAYER = LAYERS.index(None)


def _module_name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _layer(module):
    top = module.split(".")[0]
    for i, names in enumerate(LAYERS):
        if names is not None and top in names:
            return i
    return PASS_LAYER


def _imports(path, module):
    """(imported module, line, at top level?) for each import of this package's modules."""
    tree = ast.parse(path.read_text(), str(path))
    top_level = {id(n) for n in tree.body}
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                prefix = ".".join(["adjoint_compiler"] + base[: len(base)])
                mod = prefix + ("." + node.module if node.module else "")
            else:
                mod = node.module or ""
            names = [mod + "." + a.name for a in node.names] if mod == "adjoint_compiler" else [mod]
        for name in names:
            if name == "adjoint_compiler" or name.startswith("adjoint_compiler."):
                target = name[len("adjoint_compiler.") :] or "__init__"
                out.append((target, node.lineno, id(node) in top_level))
    return out


def _graph():
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph[module] = (path, _imports(path, module))
    return graph


def _resolve(target, graph):
    """The module an import names (``from adjoint_compiler.rules import registry`` names rules.registry)."""
    while target and target not in graph:
        target = target.rpartition(".")[0]
    return target


def test_no_function_level_imports():
    bad = [
        "%s:%d imports %s inside a function" % (path.name, line, target)
        for module, (path, imports) in _graph().items()
        for target, line, top in imports
        if not top
    ]
    assert not bad, "\n".join(bad)


def test_no_upward_imports():
    bad = []
    graph = _graph()
    for module, (path, imports) in graph.items():
        for target, line, _ in imports:
            if _layer(_resolve(target, graph)) > _layer(module):
                bad.append(
                    "%s:%d: %s (layer %d) imports %s (layer %d)"
                    % (path.name, line, module, _layer(module), target, _layer(target))
                )
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = _graph()
    edges = {m: {_resolve(t, graph) for t, _, _ in imports} - {m, ""} for m, (_, imports) in graph.items()}
    # a package's __init__ importing its own submodules is not a cycle through them
    for m in list(edges):
        edges[m] = {t for t in edges[m] if not (t.startswith(m + ".") or m == "__init__")}
    state = {}
    cycle = []

    def visit(m, stack):
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycle.append(" -> ".join(stack[stack.index(t) :] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not cycle, "\n".join(cycle)
