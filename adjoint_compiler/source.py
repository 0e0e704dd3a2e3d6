"""Read a user function's source and parse it into a gast FunctionDef.

Output invariant: a ``Source`` whose ``tree`` is a ``gast.FunctionDef`` with
no decorators, line numbers counting from the top of the user's real file and
column offsets in the user's indentation, plus the environment (globals,
closure values, builtins) needed to resolve the names it reads.

>>> def f(x):
...     return x * 2
>>> src = read(f)
>>> src.tree.name, src.tree.body[0].lineno - f.__code__.co_firstlineno
('f', 1)
"""
import builtins
import inspect
import linecache
import textwrap

import gast

from adjoint_compiler.errors import CompileError, SourceLocation, UnsupportedError


class Source:
    """A parsed function plus what is needed to resolve its names and report errors."""

    def __init__(self, func, tree, filename, lines, indent, env):
        self.func = func
        self.tree = tree
        self.filename = filename
        self.lines = lines  # the user's file, for quoting source lines in comments
        self.indent = indent
        self.env = env

    def location(self, node):
        line = getattr(node, "lineno", None) or self.tree.lineno
        col = getattr(node, "col_offset", 0) or 0
        return SourceLocation(self.filename, line, col + self.indent + 1)

    def line_text(self, lineno):
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].strip()
        return ""

    def resolve(self, name):
        """The value ``name`` refers to inside the function (closure, global, builtin)."""
        return self.env[name]


def _environment(func):
    env = dict(vars(builtins))
    env.update(func.__globals__)
    if func.__closure__:
        for name, cell in zip(func.__code__.co_freevars, func.__closure__):
            try:
                env[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is assigned after the def
                pass
    return env


def read(func):
    if not inspect.isfunction(func):
        raise CompileError(
            "%r is not a Python function with source; only functions defined with "
            "'def' can be differentiated" % (func,))
    try:
        filename = inspect.getsourcefile(func) or func.__code__.co_filename
        lines, firstline = inspect.getsourcelines(func)
    except (OSError, TypeError) as e:
        raise CompileError("cannot read the source of %s (%s); define it in a file, "
                           "not interactively" % (func.__qualname__, e))
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    first = next((l for l in lines if l.strip()), "")
    indent = len(first) - len(first.lstrip())
    try:
        module = gast.parse(dedented)
    except SyntaxError as e:
        raise CompileError("cannot parse the source of %s: %s" % (func.__qualname__, e.msg),
                           SourceLocation(filename, firstline + (e.lineno or 1) - 1, (e.offset or 0) + indent))
    tree = module.body[0] if module.body else None
    if isinstance(tree, gast.AsyncFunctionDef):
        raise UnsupportedError("async def", SourceLocation(filename, firstline, indent + 1))
    if not isinstance(tree, gast.FunctionDef):
        # e.g. a lambda: its source line is an assignment, not a def
        loc = SourceLocation(filename, firstline, indent + 1)
        raise UnsupportedError("a lambda as the differentiated function", loc,
                               "define it with 'def'")
    gast.increment_lineno(tree, firstline - 1)
    tree.decorator_list = []
    all_lines = linecache.getlines(filename) or lines
    return Source(func, tree, filename, all_lines, indent, _environment(func))
