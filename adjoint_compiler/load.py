"""Execute emitted source and make it inspectable.

The source is registered in ``linecache`` under a stable pseudo file name, so
``inspect.getsource`` on the generated function and tracebacks through it show
the generated code. The module imports its runtime helpers from
``adjoint_compiler.runtime``, so they are that module's own objects and the API
recognises the exceptions they raise.
"""

import linecache

_counter = [0]
FILE_PREFIX = "<adjoint_compiler:"  # the pseudo file name of every emitted module


def run(text, name, provided):
    """Execute ``text``; return the function called ``name`` defined by it."""
    _counter[0] += 1
    filename = "%s%s:%d>" % (FILE_PREFIX, name, _counter[0])
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"__name__": "adjoint_compiler.generated", "__file__": filename}
    namespace.update(provided)
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]
