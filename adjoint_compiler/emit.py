"""Turn gast trees into Python source text with astor; deterministic.

Comments cannot live in an AST, so passes mark them with a statement
``__comment__('text')``; emission turns each into ``# text`` on its own line.

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

import astor
import gast

from adjoint_compiler import naming, runtime

_COMMENT = re.compile(r"^(\s*)%s\((.*)\)$" % naming.COMMENT_FN, re.M)


def comment(text):
    """A marker statement that becomes ``# text`` in emitted source."""
    call = gast.Call(func=gast.Name(id=naming.COMMENT_FN, ctx=gast.Load(), annotation=None, type_comment=None),
                     args=[gast.Constant(value=text, kind=None)], keywords=[])
    return gast.Expr(value=call)


def _replace_comment(match):
    text = ast.literal_eval(match.group(2))
    return "%s# %s" % (match.group(1), text)


def to_source(node):
    if isinstance(node, gast.AST):
        node = gast.gast_to_ast(node)
    ast.fix_missing_locations(node)
    # no line wrapping: it would split the comment markers, and long lines read better whole
    text = astor.to_source(node, indent_with=" " * 4, pretty_source="".join)
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
    mod = getattr(value, "__module__", None)
    qual = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if mod and qual and "." not in qual and "<" not in qual:
        try:
            if getattr(importlib.import_module(mod), qual) is value:
                return "from %s import %s" % (mod, qual) if qual == name else "from %s import %s as %s" % (mod, qual, name)
        except Exception:  # a module that cannot be imported here: fall through
            pass
    if home and home != "__main__" and getattr(sys.modules.get(home), name, None) is value:
        return "from %s import %s" % (home, name)
    return None


def module(fn, globals_used, helpers, header, home=None):
    """The complete emitted module: a docstring, imports, runtime helpers, then the function.

    ``globals_used`` maps each global name the code reads to its value; those
    that cannot be written as source are returned in ``provided`` and must be
    put in the namespace when the module is executed.
    """
    lines = ['"""%s"""' % header.replace('"""', "'''")]
    provided = {}
    imports, constants = [], []
    needs_numpy = bool(helpers)
    for name in sorted(globals_used):
        value = globals_used[name]
        line = _import_line(name, value, home)
        if line is None:
            provided[name] = value
            constants.append("# %s: taken from the caller's module at compile time" % name)
        elif line.startswith(("import ", "from ")):
            if line == "import numpy as np":
                needs_numpy = True
                continue
            imports.append(line)
        else:
            constants.append(line)
    if needs_numpy:
        imports.append("import numpy as np")
    if any("math." in inspect.getsource(getattr(runtime, h)) for h in helpers) and "import math" not in imports:
        imports.append("import math")
    lines += sorted(imports)
    if constants:
        lines += [""] + constants
    for helper in sorted(helpers, key=lambda h: (not isinstance(getattr(runtime, h), type), h)):
        lines += ["", "", inspect.getsource(getattr(runtime, helper)).rstrip()]
    lines += ["", "", to_source(fn).rstrip(), ""]
    return "\n".join(lines), provided
