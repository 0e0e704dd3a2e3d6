"""Turn gast trees into Python source text with the standard library's ``ast.unparse``; deterministic.

Comments cannot live in an AST, so passes mark them with a statement
``__comment__('text', ...)``; emission turns each argument into ``# text`` on its own line.
Every module opens with ``header``'s docstring (what was differentiated, by which version, how to
call the result, what its loops tape), which names no absolute path and no time.

>>> import gast
>>> fn = gast.parse("def f(x):\\n    __comment__('forward sweep')\\n    return x").body[0]
>>> print(to_source(fn).strip())
def f(x):
    # forward sweep
    return x
"""

import ast
import collections
import copy
import importlib
import inspect
import math
import re
import sys
import types

import gast

from adjoint_compiler import naming, runtime, trees, version

_COMMENT = re.compile(r"^(\s*)%s\((.*)\)$" % naming.COMMENT_FN, re.M)


def _replace_comment(match):
    lines = ast.literal_eval(match.group(2) + ",")  # one comment line per argument
    return "\n".join("%s# %s" % (match.group(1), line) for line in lines)


def restore_raises(tree, env):
    """Calls of ``runtime.raise_`` (``desugar`` lowers raise statements to them) as raise statements again,
    in place."""
    for node in trees.statements(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i, stmt in enumerate(block):
                call = getattr(stmt, "value", None)
                if (
                    isinstance(stmt, gast.Expr)
                    and isinstance(call, gast.Call)
                    and isinstance(call.func, gast.Name)
                    and dict.get(env, call.func.id) is runtime.raise_
                ):
                    cause = call.args[1] if len(call.args) > 1 else None
                    block[i] = gast.copy_location(gast.Raise(exc=call.args[0], cause=cause), stmt)
                    del block[i + 1 :]  # unreachable
                    break


def inline_scalar_checks(tree, env, bound):
    """``check_scalar(y)`` of a name as ``if type(y) is not float: check_scalar(y)``, in place: a float
    output, the common case, then costs a type test instead of a call (on a small gradient, 2-6% of its
    time). Left as a call where ``type`` or ``float`` may not be the builtins: a global of the function's
    module, or a name the function binds (``bound``: its parameters and variables, any SSA version of them).
    A gradient checks its output once, at the top of its body (reverse/assemble.py): only that block is read."""
    if dict.get(env, "type", type) is not type or dict.get(env, "float", float) is not float:
        return
    sites = [
        (i, stmt.value.args[0])
        for i, stmt in enumerate(tree.body)
        if isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Call)
        and isinstance(stmt.value.func, gast.Name)
        and stmt.value.func.id == "check_scalar"
        and len(stmt.value.args) == 1
        and isinstance(stmt.value.args[0], gast.Name)
    ]
    if not sites or any(naming.family(n)[0] in ("type", "float") for n in bound):
        return
    for i, y in sites:
        tree.body[i] = gast.copy_location(
            trees.quote("if type(y) is not float:\n    check_scalar(y)", y=y)[0], tree.body[i]
        )


def restore_tries(tree, env):
    """The branch a ``runtime.try_`` marker chooses (``_try1 = try_(E, k)``, then ``if _try1: body else:
    handler``) as a try statement again, in place: ``_try1 = True``, then ``try: body`` and ``except E:
    _try1 = False; handler``. Returns the markers left where no such branch follows (none, normally)."""
    left = []
    loads = collections.Counter(
        n.id for n in trees.walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    )
    unread = []  # (block, marker) of flags no adjoint reads (their except clause raises again): dropped
    for node in list(trees.statements(tree)):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for i, stmt in enumerate(block):
                call = getattr(stmt, "value", None)
                if not (
                    isinstance(stmt, gast.Assign)
                    and isinstance(call, gast.Call)
                    and isinstance(call.func, gast.Name)
                    and dict.get(env, call.func.id) is runtime.try_
                ):
                    continue
                flag = stmt.targets[0].id
                stmt.value = gast.Constant(value=True, kind=None)
                after = block[i + 1] if i + 1 < len(block) else None
                if not (isinstance(after, gast.If) and isinstance(after.test, gast.Name) and after.test.id == flag):
                    left.append(call)
                    continue
                unset = gast.Name(id=flag, ctx=gast.Store(), annotation=None, type_comment=None)
                caught = [gast.Assign(targets=[unset], value=gast.Constant(value=False, kind=None), type_comment=None)]
                if loads[flag] == 1:  # read only by the branch made a try statement here
                    caught = []
                    unread.append((block, stmt))
                types = call.args[1:]
                caught_types = types[0] if len(types) == 1 else gast.Tuple(elts=types, ctx=gast.Load())
                # (a clause the optimizer emptied, ``except E: pass`` in the user's code, still needs a statement)
                handled = caught + (after.orelse or []) or [gast.Pass()]
                handler = gast.ExceptHandler(type=caught_types, name=None, body=handled)
                block[i + 1] = gast.copy_location(
                    gast.Try(body=after.body or [gast.Pass()], handlers=[handler], orelse=[], finalbody=[]), after
                )
    for block, stmt in unread:
        block.remove(stmt)
    return left


def to_source(node):
    # the standard library's printer: it follows the language's grammar
    text = (trees.unparse_gast(node) if isinstance(node, gast.AST) else trees.unparse(node)) + "\n"

    return _COMMENT.sub(_replace_comment, text)


def _import_line(name, value, home=None):
    """Source that binds ``name`` to ``value`` at module level, or None if there is none.

    ``home`` is the user's module: an object with no importable home of its own
    (an np.vectorize, a closure) is imported from there under its global name.
    """
    if isinstance(value, types.ModuleType):
        mod = value.__name__
        return "import %s" % mod if mod == name else "import %s as %s" % (mod, name)
    if type(value) is float and not math.isfinite(value):  # repr gives ``inf``/``nan``, which are no names
        return "%s = float(%r)" % (name, repr(value))
    if value is None or type(value) in (bool, int, float, str):
        return "%s = %r" % (name, value)
    # NumPy 1.x's ufuncs have no __module__: try numpy (checked below, as every guess)
    mod = getattr(value, "__module__", None) or ("numpy" if type(value).__name__ == "ufunc" else None)
    qual = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if mod and qual and "." not in qual and "<" not in qual:
        try:
            if getattr(importlib.import_module(mod), qual) is value:
                return (
                    "from %s import %s" % (mod, qual) if qual == name else "from %s import %s as %s" % (mod, qual, name)
                )
        except Exception:  # a module that cannot be imported here: fall through
            pass
    if home and home != "__main__" and getattr(sys.modules.get(home), name, None) is value:
        return "from %s import %s" % (home, name)
    return None


PROVIDED = "# %s: taken from the caller's module at compile time"  # the constants line of a provided name


class Unit:
    """The parts of an emitted module, so that the modules of called functions merge into one."""

    def __init__(self, header, imports, constants, helpers, definitions, provided, values=None):
        self.header = header  # the module docstring (the first unit's, when units merge)
        self.imports = imports  # import lines
        self.constants = constants  # NAME = value lines, and comments for values given at run time
        self.helpers = helpers  # names of the runtime helpers the definitions call
        self.definitions = definitions  # function definitions, as source
        self.provided = provided  # name -> value the text cannot spell; given when it is executed
        self.values = values or {}  # name -> value of every global the imports and constants bind (export)

    def merge(self, others):
        units = [self] + list(others)

        def union(field):
            seen = []
            for u in units:
                seen += [x for x in getattr(u, field) if x not in seen]
            return seen

        provided, values = {}, {}
        for u in units:
            provided.update(u.provided)
            values.update(u.values)
        return Unit(
            self.header,
            union("imports"),
            union("constants"),
            set().union(*(u.helpers for u in units)),
            union("definitions"),
            provided,
            values,
        )


def unit(fn, globals_used, helpers, home=None, header=""):
    """The imports, constants, helpers and definition that the emitted function ``fn`` needs."""
    provided = {}
    imports, constants = [], []
    for name in sorted(globals_used):
        value = globals_used[name]
        line = _import_line(name, value, home)
        if line is None:
            provided[name] = value
            constants.append(PROVIDED % name)
        elif line.startswith(("import ", "from ")):
            imports.append(line)
        else:
            constants.append(line)
    return Unit(header, imports, constants, set(helpers), [to_source(fn).rstrip()], provided, dict(globals_used))


_KIND = {"grad": "Gradient", "vjp": "Vector-Jacobian product", "jvp": "Jacobian-vector product"}


def signature(fn):
    """``name(params)`` of the function definition ``fn``, as it is emitted."""
    stub = copy.copy(fn)
    stub.body, stub.decorator_list, stub.returns = [gast.Pass()], [], None
    return to_source(stub).split("\n", 1)[0][len("def ") : -1]


def _pushed(expr):
    """What one element a loop pushes on its tape is, for the header: why the adjoint sweep needs it."""
    text = to_source(expr).strip()
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.func.id == "shape_of":
        return "the shape of %s" % to_source(expr.args[0]).strip()
    if isinstance(expr, gast.Name) and expr.id.startswith("_cond"):
        return "%s (the branch taken)" % text
    if isinstance(expr, gast.Name) and expr.id.endswith("_pullback"):
        return "%s (the called function's pullback)" % text
    if isinstance(expr, gast.Name) and expr.id.startswith("_tape"):
        return "%s (the inner loop's tape)" % text
    return text


def tape_notes(fn, tapes):
    """(function, tape, loop line, what it stores) for each (tape, line, names) of ``fn``, read off the
    emitted code: its ``tape.append(...)`` calls, or the state tuple a checkpointed loop starts from."""
    notes = []
    for tape, line, names in tapes:
        what = ", ".join(names)
        for node in trees.walk(fn):
            if (
                isinstance(node, gast.Call)
                and isinstance(node.func, gast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, gast.Name)
                and node.func.value.id == tape
            ):
                items = node.args[0].elts if isinstance(node.args[0], gast.Tuple) else node.args
                what = ", ".join(_pushed(e) for e in items) + " per iteration"
                break
            if (
                isinstance(node, gast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], gast.Name)
                and node.targets[0].id == tape
            ):
                items = node.value.elts if isinstance(node.value, gast.Tuple) else [node.value]
                what = "checkpoints: %s at the start of each segment (the adjoint sweep runs each segment again)" % (
                    ", ".join(_pushed(e) for e in items)
                )
                break
        notes.append((fn.name, tape, line, what))
    return notes


def header(fn, function, origin, mode, wrt, tapes):
    """The module docstring, as Tapenade heads its output: what was differentiated and by which version,
    how to call the result, and what the forward sweep stores for the adjoint sweep.

    ``function`` is the user's function's name, ``origin`` its ``file.py:line``, ``wrt`` the names of
    the active inputs, ``tapes`` the ``tape_notes`` of the emitted function and of the callees' vjps in
    the module.
    """
    single = len(wrt) == 1
    bars = ", ".join(w + "_bar" for w in wrt)
    bars = bars if single else "(%s)" % bars
    call = signature(fn)
    if mode == "grad":
        returns = "%s returns (value, %s): the value of %s and its gradient." % (call, bars, function)
    elif mode == "vjp":
        returns = "%s returns (value, pullback); pullback(value_bar) returns %s." % (call, bars)
    else:
        dots = ", ".join(w + "_dot" for w in wrt)
        returns = "%s returns (value, value_dot): the derivative along the tangents %s." % (call, dots)
    lines = [
        "%s of %s, generated by adjoint_compiler %s from %s." % (_KIND[mode], function, version.__version__, origin),
        "",
        "Mode: %s (%s mode), with respect to %s." % (mode, "forward" if mode == "jvp" else "reverse", ", ".join(wrt)),
        "Call: " + returns,
    ]
    if mode == "jvp":
        lines.append("Tapes: none (forward mode computes each tangent beside its value, in one sweep).")
    elif not tapes:
        lines.append("Tapes: none (no loop stores values; the adjoint sweep reads the forward sweep's variables).")
    else:
        lines.append("Tapes (what the forward sweep stores because the loop overwrites it and its adjoint reads it):")
        for owner, tape, line, what in tapes:
            where = "" if owner == fn.name else "in %s, " % owner
            lines.append("  %s%s, loop at line %d: %s" % (where, tape, line, what))
    return "\n".join(lines) + "\n"


def with_dependencies(helpers):
    """``helpers`` and the helpers they call: what a standalone module defines."""
    return set(helpers).union(*(runtime.DEPENDS.get(h, ()) for h in helpers))


def render(u, standalone=False):
    """The complete module: a docstring, imports, constants, then the definitions.

    The runtime helpers are imported from ``adjoint_compiler.runtime``; with
    ``standalone`` their source is copied in instead (classes first), so that
    the module runs with NumPy alone (``export``).
    """
    helpers = sorted(
        with_dependencies(u.helpers) if standalone else u.helpers,
        key=lambda h: (not isinstance(getattr(runtime, h), type), h),
    )
    imports = set(u.imports)
    sources = [inspect.getsource(getattr(runtime, h)).rstrip() for h in helpers] if standalone else []
    if sources:  # what the helpers' own code reads
        imports.add("import numpy as np")
        if any("math." in text for text in sources):
            imports.add("import math")
        if any("sys." in text for text in sources):
            imports.add("import sys")
    lines = ['"""%s"""' % u.header.replace('"""', "'''")] + sorted(imports)
    if helpers and not standalone:
        lines.append("from adjoint_compiler.runtime import %s" % ", ".join(sorted(helpers)))
    if u.constants:
        lines += [""] + u.constants
    for text in sources + u.definitions:
        lines += ["", "", text]
    return "\n".join(lines + [""])
