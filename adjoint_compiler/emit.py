"""Turn gast trees into Python source text with the standard library's ``ast.unparse``; deterministic.

Comments cannot live in an AST, so passes mark them with a statement
``__comment__('text', ...)``; emission turns each argument into ``# text`` on its own line.

>>> import gast
>>> fn = gast.parse("def f(x):\\n    __comment__('forward sweep')\\n    return x").body[0]
>>> print(to_source(fn).strip())
def f(x):
    # forward sweep
    return x
"""

import ast
import importlib
import inspect
import re
import sys
import types

import gast

from adjoint_compiler import naming, runtime, trees

_COMMENT = re.compile(r"^(\s*)%s\((.*)\)$" % naming.COMMENT_FN, re.M)


def _replace_comment(match):
    lines = ast.literal_eval(match.group(2) + ",")  # one comment line per argument
    return "\n".join("%s# %s" % (match.group(1), line) for line in lines)


def restore_raises(tree, env):
    """Calls of ``runtime.raise_`` (``desugar`` lowers raise statements to them) as raise statements again,
    in place."""
    for node in gast.walk(tree):
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


def restore_tries(tree, env):
    """The branch a ``runtime.try_`` marker chooses (``_try1 = try_(E, k)``, then ``if _try1: body else:
    handler``) as a try statement again, in place: ``_try1 = True``, then ``try: body`` and ``except E:
    _try1 = False; handler``. Returns the markers left where no such branch follows (none, normally)."""
    left = []
    for node in list(gast.walk(tree)):
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
                types = call.args[1:]
                caught_types = types[0] if len(types) == 1 else gast.Tuple(elts=types, ctx=gast.Load())
                handler = gast.ExceptHandler(type=caught_types, name=None, body=caught + (after.orelse or []))
                block[i + 1] = gast.copy_location(
                    gast.Try(body=after.body, handlers=[handler], orelse=[], finalbody=[]), after
                )
    return left


def to_source(node):
    if isinstance(node, gast.AST):
        node = gast.gast_to_ast(node)
    ast.fix_missing_locations(node)
    text = trees.unparse(node) + "\n"  # the standard library's printer: it follows the language's grammar

    return _COMMENT.sub(_replace_comment, text)


def _import_line(name, value, home=None):
    """Source that binds ``name`` to ``value`` at module level, or None if there is none.

    ``home`` is the user's module: an object with no importable home of its own
    (an np.vectorize, a closure) is imported from there under its global name.
    """
    if isinstance(value, types.ModuleType):
        mod = value.__name__
        return "import %s" % mod if mod == name else "import %s as %s" % (mod, name)
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


class Unit:
    """The parts of an emitted module, so that the modules of called functions merge into one."""

    def __init__(self, header, imports, constants, helpers, definitions, provided):
        self.header = header  # the module docstring (the first unit's, when units merge)
        self.imports = imports  # import lines
        self.constants = constants  # NAME = value lines, and comments for values given at run time
        self.helpers = helpers  # names of the runtime helpers the definitions call
        self.definitions = definitions  # function definitions, as source
        self.provided = provided  # name -> value the text cannot spell; given when it is executed

    def merge(self, others):
        units = [self] + list(others)

        def union(field):
            seen = []
            for u in units:
                seen += [x for x in getattr(u, field) if x not in seen]
            return seen

        provided = {}
        for u in units:
            provided.update(u.provided)
        return Unit(
            self.header,
            union("imports"),
            union("constants"),
            set().union(*(u.helpers for u in units)),
            union("definitions"),
            provided,
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
            constants.append("# %s: taken from the caller's module at compile time" % name)
        elif line.startswith(("import ", "from ")):
            imports.append(line)
        else:
            constants.append(line)
    return Unit(header, imports, constants, set(helpers), [to_source(fn).rstrip()], provided)


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
    lines = ['"""%s"""' % u.header.replace('"""', "'''")] + sorted(imports)
    if helpers and not standalone:
        lines.append("from adjoint_compiler.runtime import %s" % ", ".join(sorted(helpers)))
    if u.constants:
        lines += [""] + u.constants
    for text in sources + u.definitions:
        lines += ["", "", text]
    return "\n".join(lines + [""])
