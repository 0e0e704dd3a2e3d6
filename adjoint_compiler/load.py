"""Execute emitted source and make it inspectable.

Invariant: every executed module is registered in ``linecache`` under its own
pseudo file name (``FILE_PREFIX``, the function's name and a counter), so
``inspect.getsource`` on the generated function and tracebacks through it show
the generated code. Names the text cannot spell are given in ``provided``. The
emitted text imports its runtime helpers from ``adjoint_compiler.runtime``, so
they are that module's own objects and the API recognises the exceptions they raise.

>>> import inspect
>>> sq = run("def sq(x):\\n    return SCALE * x * x\\n", "sq", {"SCALE": 2.0})
>>> sq(3.0), sq.__code__.co_filename.startswith(FILE_PREFIX)
(18.0, True)
>>> print(inspect.getsource(sq).strip())
def sq(x):
    return SCALE * x * x
"""

import linecache
import os
import types

_counter = [0]
FILE_PREFIX = "<adjoint_compiler:"  # the pseudo file name of every emitted module
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def made_by_compiler(location):
    """Whether a ``SourceLocation`` is in code the compiler made (an emitted module, a function written for a
    transform) or in its own runtime (a checkpointed loop's driver), not in the user's code."""
    where = str(location.filename) if location is not None else ""
    return where.startswith(FILE_PREFIX) or where.startswith(_PACKAGE)


def run(text, name, provided, code=None):
    """Execute ``text``; return the function called ``name`` defined by it. ``code``: ``text`` compiled
    before (by ``compile_text``, in another process: the disk cache), which spares compiling it again."""
    _counter[0] += 1
    filename = "%s%s:%d>" % (FILE_PREFIX, name, _counter[0])
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"__name__": "adjoint_compiler.generated", "__file__": filename}
    namespace.update(provided)
    exec(compile(text, filename, "exec") if code is None else _renamed(code, filename), namespace)
    return namespace[name]


def compile_text(text):
    """The code object of ``text``, for ``run``'s ``code`` (its file name is given when it is run)."""
    return compile(text, FILE_PREFIX + ">", "exec")


def _renamed(code, filename):
    """``code`` and the code objects in it with the file name ``filename``, for tracebacks and inspect."""
    consts = tuple(_renamed(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
