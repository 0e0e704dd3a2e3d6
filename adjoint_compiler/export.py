"""Standalone modules (``adjoint-compiler export``): the emitted module with the runtime helpers' source
copied in, so that it runs with NumPy alone.

Invariant: the text depends only on the user's source and the values it reads (no time, no absolute
path, no hash order) and never imports adjoint_compiler. Each global the emitted code reads is bound
to a literal (a constant, bound at export time: a comment says so), to an import from its library, to
a copy of the source of the user's registered adjoint, or, when nothing else can spell it, to an import
from the user's module, which the header then names with the reason. A value that not even that can
spell (a closure's, one of ``__main__``) is refused, with the function's location.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> with open(os.path.join(folder, "sq.py"), "w") as file:
...     _ = file.write("RATE = 0.5\\n\\ndef sq(x):\\n    return RATE * x * x\\n")
>>> from adjoint_compiler import cli
>>> text = export_source(cli.load_function(os.path.join(folder, "sq.py:sq")), "x", module="sq")
>>> print(text[text.index("Standalone") : text.index("\\n\\n\\ndef ")])
Standalone: exported with `adjoint-compiler export`; runs with NumPy alone.
Bound at export time (the values they had then): RATE.
\"""
import numpy as np
<BLANKLINE>
# bound at export time: the values these names had when the module was exported
RATE = 0.5
"""

import ast
import inspect
import os
import sys
import textwrap
import types

import numpy as np

from adjoint_compiler import api, emit, pipeline
from adjoint_compiler.errors import CompileError, SourceLocation
from adjoint_compiler.rules import registry


# modules every exported module may import: NumPy and the standard library (3.10 lists it; 3.9: the usual)
_PLAIN = {"numpy"} | set(
    getattr(sys, "stdlib_module_names", ("math", "cmath", "operator", "functools", "itertools", "builtins"))
)


def _imported(line):
    """The top-level module an import line imports."""
    node = ast.parse(line).body[0]
    return (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).partition(".")[0]


def _location(func):
    code = func.__code__
    return SourceLocation(os.path.basename(code.co_filename), code.co_firstlineno, 1)


def _user_rules():
    """The adjoints users registered (``register_adjoint``): emitted code calls them by name."""
    return {id(rule.rule) for rule in registry._RULES.values() if not rule.inline}


def _globals_of(fn):
    """The names ``fn``'s code (its nested functions' and lambdas' included) may read as globals."""
    names, codes = set(), [fn.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes += [k for k in code.co_consts if isinstance(k, types.CodeType)]
    return {n: fn.__globals__[n] for n in sorted(names) if n in fn.__globals__}


def _copy(name, rule, bound):
    """(source, binding lines) of the user's adjoint ``rule`` copied in as ``name``, or None when the copy
    would not behave as the original: a closure, state it declares global, defaults that are not literals,
    a decorator other than ``register_adjoint``, or a global that nothing but the user's module can spell
    or that ``bound`` (name -> value the module binds already) binds to something else."""
    if not isinstance(rule, types.FunctionType) or rule.__closure__:
        return None
    try:
        text = textwrap.dedent(inspect.getsource(rule))
        tree = ast.parse(text)
    except (OSError, TypeError, SyntaxError):
        return None
    fn = tree.body[0] if len(tree.body) == 1 else None
    if rule.__name__ == "<lambda>":  # registered as register_adjoint(f, lambda g, ans, x: ...): a def of that
        lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        if len(lambdas) != 1:
            return None
        fn = ast.parse("def %s():\n    return None" % name).body[0]
        fn.args, fn.body[0].value = lambdas[0].args, lambdas[0].body
    if not isinstance(fn, ast.FunctionDef) or fn.name not in (rule.__name__, name):
        return None
    for deco in fn.decorator_list:
        call = deco.func if isinstance(deco, ast.Call) else deco
        if (call.attr if isinstance(call, ast.Attribute) else getattr(call, "id", None)) != "register_adjoint":
            return None
    defaults = fn.args.defaults + [d for d in fn.args.kw_defaults if d is not None]
    if any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(fn)) or not all(
        isinstance(d, ast.Constant) for d in defaults
    ):
        return None
    lines = []
    for gname, value in _globals_of(rule).items():
        line = emit._import_line(gname, value)
        if line is None or bound.get(gname, value) is not value or _imported(line) == rule.__module__:
            return None  # (a function of the rule's own module: the copy would import that module anyway)
        lines.append(line)
    code = rule.__code__  # its first line is the first decorator's: name the def statement's
    where = "%s:%d" % (os.path.basename(code.co_filename), code.co_firstlineno + fn.lineno - 1)
    if name == rule.__name__:
        source = "\n".join(text.splitlines()[fn.lineno - 1 :])  # as written, comments kept; no decorator
    else:
        fn.name, fn.decorator_list = name, []
        source = ast.unparse(fn)
    what = "the lambda registered as an adjoint" if rule.__name__ == "<lambda>" else "the adjoint registered as " + name
    return "# %s, copied from %s\n%s" % (what, where, source), lines


def _why(value, rule=False):
    """Why the exported module imports ``value`` from the user's module rather than spell it."""
    if rule and isinstance(value, types.FunctionType):
        return "a registered adjoint whose source cannot be copied alone (a closure, decorated, or reading that module)"
    if isinstance(value, types.FunctionType):
        return "a function of that module, called as it is at run time"
    if isinstance(value, (np.ndarray, list, dict, set)):
        return "a mutable %s, read as it is at run time" % type(value).__name__
    return "an object with no source to copy (%s)" % _type_name(value)


def _type_name(value):
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__)


def _state(alias, definitions):
    """The notes for the globals the emitted definitions read or write through the user's module ``alias``."""
    read, written = set(), set()
    for text in definitions:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == alias:
                (written if isinstance(node.ctx, ast.Store) else read).add(node.attr)
    return [
        "%s: a global it %s (global statement), so each call sees the module's current value"
        % (name, "reads and writes" if name in written and name in read else "writes" if name in written else "reads")
        for name in sorted(read | written)
    ]


def export_source(func, wrt=0, mode="grad", module=None):
    """The standalone module for the derivative of ``func`` (``mode`` as for ``adjoint_source``).

    ``module`` is the name under which the exported module may import ``func``'s module, for what only
    that module can provide (its globals' live state, objects without source); default: ``func.__module__``.
    """
    if mode not in ("grad", "vjp", "jvp"):
        raise ValueError("mode=%r: one of 'grad', 'vjp', 'jvp'" % (mode,))
    func = getattr(func, "__wrapped__", func)
    wrt_idx, _ = api.normalize_wrt(func, wrt)
    u = pipeline.compile(func, wrt_idx, mode).unit
    home = getattr(func, "__module__", None)
    module = module or home
    values, rules = u.values, _user_rules()
    known = {**u.provided, **values}  # every global the definitions read, spelled or not
    # what the module binds besides the globals: the runtime helpers copied in (a copied rule must not clash)
    bound = dict(values, **{h: h for h in emit.with_dependencies(u.helpers)})
    imports, constants, copies, copied, needs = [], [], [], [], []

    def copy_in(name):
        """Copy the user's adjoint bound to ``name`` into the module, if it can be: True if it was."""
        copy = _copy(name, known[name], bound) if id(known[name]) in rules else None
        if copy is not None:
            copies.append(copy[0])
            copied.append(name)
            for binding in copy[1]:
                (imports if binding.startswith(("import ", "from ")) else constants).append(binding)
            bound.update(_globals_of(known[name]))
        return copy is not None

    for line in u.imports:
        node = ast.parse(line).body[0]
        if isinstance(node, ast.Import) and node.names[0].name == home:
            node.names[0].name = module
            needs += _state(node.names[0].asname or home, u.definitions)
        elif isinstance(node, ast.ImportFrom):
            name = node.names[0].asname or node.names[0].name
            if copy_in(name):
                continue
            if node.module == home:
                node.module = module
                needs.append("%s: %s" % (name, _why(values[name], id(values[name]) in rules)))
        imports.append(ast.unparse(node))
    for line in u.constants:
        name = next((n for n in u.provided if line == emit.PROVIDED % n), None)
        if name is not None and copy_in(name):
            continue
        if name is not None:  # a value that no import spells (emit tried the user's module): a closure's, __main__'s
            where = "a global of __main__" if home in (None, "__main__") else "not a global of %s" % module
            raise CompileError(
                "cannot export %s: it reads %s (%s), %s, which the exported module cannot import; "
                "make it a global of an importable module"
                % (func.__qualname__, name, _type_name(u.provided[name]), where),
                _location(func),
            )
        constants.append(line)
    if needs and (module in (None, "__main__") or not all(p.isidentifier() for p in module.split("."))):
        raise CompileError(
            "cannot export %s: the exported module would import the function's module, and %r is no name to "
            "import; move the function into a file whose name is a Python identifier" % (func.__qualname__, module),
            _location(func),
        )
    others = sorted({m for m in map(_imported, imports) if m not in _PLAIN and m != module})
    if needs:
        notes = ["Exported with `adjoint-compiler export`; imports the user's module %s at run time for:" % module]
        notes += ["  " + n for n in dict.fromkeys(needs)]
        notes += ["It imports %s too." % ", ".join(others)] if others else []
    elif others:
        notes = ["Standalone: exported with `adjoint-compiler export`; runs with NumPy, the standard library"]
        notes[0] += " and %s." % ", ".join(others)
    else:
        notes = ["Standalone: exported with `adjoint-compiler export`; runs with NumPy alone."]
    if copied:
        notes.append("Registered adjoints copied in: %s." % ", ".join(copied))
    constants = list(dict.fromkeys(constants))
    literal = [line.partition(" = ")[0] for line in constants if " = " in line and not line.startswith("#")]
    if literal:
        notes.append("Bound at export time (the values they had then): %s." % ", ".join(literal))
        constants.insert(0, "# bound at export time: the values these names had when the module was exported")
    standalone = emit.Unit(
        u.header + "\n" + "\n".join(notes) + "\n",
        sorted(set(imports)),
        constants,
        u.helpers,
        copies + u.definitions,
        {},
    )
    return emit.render(standalone, standalone=True)
