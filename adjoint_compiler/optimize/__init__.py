"""Clean the reversed function: fold constants and identities, drop dead statements, leave SSA.

Output invariant: no ``e * 1.0``, ``1.0 * e``, ``e + 0``, ``e ** 1`` in adjoint or tangent code (in
the user's own code only where ``e`` is known to be a float: ``n * 1.0`` makes an int a float), no
arithmetic between two literals, no assignment whose value is pure and whose name is never read (but
the user's own variables computed by what may raise: the gradient raises where the function does),
and no comment left with nothing under it; each comment names every source line whose code is
under it. Applied to a fixed point; then copies between names of one variable whose live ranges
do not overlap are coalesced away (``coalesce``). The function is copied, not modified.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x, x_bar):\\n    a = 1.0 * x\\n    _t1 = x * 2\\n    c = a ** (2 - 1)\\n"
...                 "    d = x_bar * 1.0\\n    return c + d").body[0]
>>> print(emit.to_source(run(fn, keep={"x", "c"})).strip())
def f(x, x_bar):
    a = 1.0 * x
    c = a ** 1
    return c + x_bar

The modules, one concern each: ``facts`` (which expressions are pure, which names a statement stores
into), ``quotes`` (the quoted source-line comments through the rewrites), ``fold`` (constants and
identities in one expression), ``fuse`` (temporaries, accumulations and copies fused within a block),
``recomputed`` (the forward sweep's copy of a temporary the adjoint recomputes, named apart), ``clean`` (the
fixed point: folding, copy propagation, fusion, dead code and dead stores), ``terms`` (like terms of an
adjoint sum collected, through the products its block defined; ``clean`` again after), ``walks``
(sequences walked by value where the index only reads them), ``coalescing`` (leaving SSA), ``in_place``
(a loop's sum into an array the function owns, added in place), ``reuse`` (a value a block computed
already, read again rather than recomputed), ``release`` (``del`` of an array after the
statement that reads it last).
"""

import gast

from adjoint_compiler import trees
from adjoint_compiler.optimize.clean import clean, without_self_copies
from adjoint_compiler.optimize.coalescing import coalesce
from adjoint_compiler.optimize.in_place import accumulate_in_place
from adjoint_compiler.optimize.quotes import Quotes
from adjoint_compiler.optimize.recomputed import own_names
from adjoint_compiler.optimize.release import release_dead
from adjoint_compiler.optimize.reuse import reuse
from adjoint_compiler.optimize.terms import collect_terms
from adjoint_compiler.optimize.walks import by_value

__all__ = ["run", "coalesce"]

_LOOPS = (gast.For, gast.While)


def run(fn, keep=frozenset(), copy=True, owned=False):
    """Optimize a copy of ``fn``; names in ``keep`` are never propagated away. ``copy=False``: ``fn`` itself
    (the pipeline does not keep the reversed function, and saves the copy). ``owned``: ``zeros_like`` in
    ``fn`` is the runtime's (a new array per call), so sums into what it makes may add in place."""
    if copy:
        fn = trees.clone(fn)
    quotes = Quotes(fn)
    own_names(fn)  # (first: then clean fuses the forward sweep's copy of a recomputed temporary into its use)
    state = clean(fn, keep, quotes)
    if collect_terms(fn):  # (on names assigned once; what it leaves unread, a second clean drops)
        clean(fn, keep, quotes, state)  # (collect_terms replaces the values it rewrites: the rest stays folded)
    reuse(fn)  # (after the fusions: they put a temporary back into its one use, and reuse reads the result)
    by_value(fn)  # after clean: the loop_length it leaves for the adjoint is also the forward's refusal
    coalesced = coalesce(fn)
    if coalesced:  # the rewrites above rely on names assigned once
        fn.body = without_self_copies(fn.body)
    if owned:  # after coalesce: it follows a variable's every binding, under one name
        accumulate_in_place(fn)
    # last: the rewrites above read names assigned once, and no del. The names clean's last scan found are
    # fn's where nothing renamed them since (coalesce) and no loop was rewritten (by_value, accumulate_in_place)
    straight = not coalesced and not any(isinstance(s, _LOOPS) for s in trees.statements(fn))
    release_dead(fn, state.names() if straight else None)
    quotes.requote(fn.body)
    return fn
