"""Build the forward sweep and the adjoint sweep from an SSA function.

Output invariant: a new FunctionDef ``<f>_grad(params)`` returning
``(value, gradients)`` (mode "grad", the cotangent seed is 1.0), or
``<f>_vjp(params)`` returning ``(value, <f>_pullback)`` (mode "vjp"). The
forward sweep is the SSA body itself (with tape pushes in loops, calls of
callees' vjps, saves before in-place updates), so every value the adjoint
reads is still in scope under its SSA name: nothing is taped in straight-line
code. The adjoint sweep visits active statements in reverse, inlines the
adjoint rule of each library function they call (and calls a registered
adjoint, or the pullback a user function's vjp returned: ``calls``), and
accumulates contributions: the first one is held as it is (a name or constant)
or assigned, ``x_bar = c``; later ones assign ``x_bar = x_bar + c`` (never
``+=``, which could write through an alias into a user's array). Where the
source is known, the adjoint code of each line is preceded by a comment
quoting it (the example below has no source, so no comment).

>>> import gast
>>> from adjoint_compiler import activity, emit, normalize, ssa
>>> fn = ssa.run(normalize.run(gast.parse("def f(x):\\n    y = x * x\\n    return y").body[0], None), None)
>>> act = activity.run(fn, None, ["x"], ["x"])
>>> print(emit.to_source(run(fn, None, act, ["x"], "grad").function).strip())
def f_grad(x):
    # forward sweep
    y = x * x
    # adjoint sweep
    check_scalar(y)
    x_bar = 1.0 * x + 1.0 * x
    return (y, x_bar)

The modules, one concern each: ``state`` (what one reversal shares),
``cotangents`` (adjoint variables and accumulation), ``statements`` (the
adjoint of a block, assignments and ifs), ``calls`` (rules, registered
adjoints, user functions), ``loops`` (tapes and reversed loops),
``checkpoint`` (checkpointed loops), ``inplace`` (stores, appends and their
undos), ``shapes`` (shape-only reads, dropped unbroadcasts), ``assemble``
(the function around both sweeps).
"""

from adjoint_compiler.reverse.assemble import Result, run

__all__ = ["Result", "run"]
