"""The lowering passes in one call, in the order the pipeline runs them: ``jumps``, ``rebind``,
``inline``, ``anf``. For doctests and tests that want a function in A-normal form in one step.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x, y):\\n    z = x * y + sin(x)\\n    z += 1\\n    return z * z").body[0]
>>> print(emit.to_source(run(fn, None)).strip())
def f(x, y):
    _t1 = x * y
    _t2 = sin(x)
    z = _t1 + _t2
    z = z + 1
    _t3 = z * z
    return _t3
"""

from adjoint_compiler import anf, inline, jumps, rebind

PASSES = (jumps, rebind, inline, anf)


def run(fn, source):
    """Return a new FunctionDef in A-normal form; ``fn`` is not modified."""
    for lowering in PASSES:
        fn = lowering.run(fn, source)
    return fn
