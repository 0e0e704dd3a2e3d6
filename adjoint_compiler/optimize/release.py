"""Release an array as soon as the function no longer reads it: ``del name`` after the statement that reads
it last, so that the arrays of the forward sweep and the cotangents the adjoint sweep has consumed do not
all stay alive until the function returns. On large arrays that matters more than the arithmetic: a new
array of megabytes is new memory from the system (page faults) unless a freed one of its size waits in
the allocator's heap, and a function that keeps every temporary alive frees none before it returns
(the Rosenbrock gradient on 10^6 points: ~30% of its time, measured with and without).

Invariant: ``del n`` follows statement ``i`` of a function's body (its top level, never inside a loop or an
``if``) when ``i`` is the last statement that mentions ``n``, ``n`` is certainly bound there (an assignment
at the top level before it or at it), ``n`` is a local of that function (not a parameter, not declared
global or nonlocal, not mentioned by a nested function, lambda or comprehension, never deleted already),
its value is made by an operator or a call of NumPy or a runtime helper (not a view ``x[1:]``, a copy of
another name or a constant: those free nothing; not what a user's function returns, which it may keep;
not a marker ``emit`` makes a statement of again), it is no ``if``/``while`` test (a flag), the statement does
not assign a container display holding it (which holds it on), and the next
statement is not the final ``return`` (the return frees them). Only functions that use NumPy (``np`` or
an array helper of the runtime) get them: in code on numbers a ``del`` frees a float and costs a
statement. Names that die at one statement share one ``del``. Nested functions (a vjp's pullback) are
treated the same way, each with its own locals. Modifies ``fn``. (``desugar`` drops a ``del name`` of
code it differentiates again; the numba backend drops them too.)

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x):\\n    a = np.exp(x)\\n    b = a * 2\\n    c = x[1:]\\n"
...                 "    d = b + c\\n    s = np.sum(d)\\n    return s").body[0]
>>> release_dead(fn)
>>> print(emit.to_source(fn).strip())
def f(x):
    a = np.exp(x)
    b = a * 2
    del a
    c = x[1:]
    d = b + c
    del b
    s = np.sum(d)
    return s
"""

import gast

from adjoint_compiler import trees
from adjoint_compiler.optimize.facts import pure_call
from adjoint_compiler.optimize.quotes import is_comment

_NESTED = (gast.FunctionDef, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)
# runtime helpers whose presence says the function computes on arrays
_ARRAY_HELPERS = frozenset(
    (
        "unbroadcast",
        "unreduce",
        "matmul_bar1",
        "matmul_bar2",
        "dot_bar1",
        "dot_bar2",
        "quantile_spread",
        "prod_bar",
        "cumprod_ratio",
        "add_at",
        "add_into",
    )
)
_ARRAY_NAMES = sorted(_ARRAY_HELPERS | {"np"})
_MAKES = (gast.BinOp, gast.UnaryOp, gast.Compare)
# markers ``emit`` turns back into statements (a try's flag, a with's manager): their names must stay
_MARKERS = frozenset(("try_", "enter_context", "exit_context", "raise_"))
_CONTEXTS = frozenset(("errstate", "printoptions"))


def _makes(value):
    """Whether ``value`` makes a new value the function alone holds: an operator, or a call of NumPy or of a
    runtime helper (a user's function may return an object it keeps, or one with a finaliser); not a context
    manager (``np.errstate(...)``: a few bytes, whose ``del`` would only clutter the code)."""
    if isinstance(value, _MAKES):
        return True
    return (
        isinstance(value, gast.Call)
        and pure_call(value)
        and not (isinstance(value.func, gast.Name) and value.func.id in _MARKERS)
        and not (isinstance(value.func, gast.Attribute) and value.func.attr in _CONTEXTS)
    )


_DISPLAYS = (gast.List, gast.Tuple, gast.Set, gast.Dict)


def _kept_by(stmt):
    """Names an assignment puts into the container display it assigns (``state = {"scale": _t2}``, nested
    displays too): the container holds the value on, so deleting the name frees nothing. (A display passed to a
    call, ``f((_t1,))``, dies with the call: not counted.)"""
    kept, stack = set(), [stmt.value] if isinstance(stmt, gast.Assign) else []
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name):
            kept.add(n.id)
        elif isinstance(n, _DISPLAYS):
            stack += n.values if isinstance(n, gast.Dict) else n.elts
    return kept


def release_dead(fn, mentioned=None):
    """Insert the ``del`` statements of the module docstring into ``fn`` and its nested functions.
    ``mentioned``: whether ``fn`` mentions a name, where known without a walk (``clean._Round.names``)."""
    if mentioned is None:
        mentioned = trees.all_names(fn).__contains__
    if not any(mentioned(name) for name in _ARRAY_NAMES):
        return
    _release(fn)


def _release(fn):
    body = fn.body
    for stmt in body:
        if isinstance(stmt, gast.FunctionDef):
            _release(stmt)
    shut = {a.id for a in fn.args.args} | {a.id for a in fn.args.kwonlyargs}
    for extra in (fn.args.vararg, fn.args.kwarg):
        if extra is not None:
            shut.add(extra.id)
    for node in trees.walk(fn):
        if isinstance(node, (gast.Global, gast.Nonlocal)):
            shut.update(node.names)
        elif isinstance(node, gast.Delete):
            shut |= trees.all_names(node)
        elif node is not fn and isinstance(node, _NESTED):
            shut |= trees.all_names(node)
        elif isinstance(node, (gast.If, gast.While)):  # a flag (a branch taken, a try's marker): a bool
            shut |= trees.all_names(node.test)
    made = {}  # name -> index of its first top-level assignment by a call or an operator
    bound = set()  # names some top-level statement before binds otherwise (a view, a copy): never released
    last = {}
    for i, stmt in enumerate(body):
        for name in trees.all_names(stmt):
            last[name] = i
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
            name = stmt.targets[0].id
            if _makes(stmt.value) and name not in bound:
                made.setdefault(name, i)
            else:
                bound.add(name)
    final = len(body) - 1
    while final >= 0 and is_comment(body[final]):
        final -= 1
    dying = {}
    for name, first in made.items():
        i = last[name]
        if name in shut or name in bound or i >= final:
            continue
        after = i + 1
        while after < final and is_comment(body[after]):
            after += 1
        if after == final and isinstance(body[final], gast.Return):
            continue
        if name in _kept_by(body[i]):
            continue
        dying.setdefault(i, []).append(name)
    if not dying:
        return
    out = []
    for i, stmt in enumerate(body):
        out.append(stmt)
        if i in dying:
            targets = [trees.name(n) for n in dying[i]]
            for t in targets:
                t.ctx = gast.Del()
            out.append(gast.Delete(targets=targets))
    fn.body = out
