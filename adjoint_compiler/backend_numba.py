"""The numba backend: ``grad(f, backend="numba")`` and its kin run the emitted code under ``numba.njit``.

The emitted module is the Python backend's, unchanged; ``lower`` rewrites a copy of its text into what
numba's nopython mode compiles: loops over ``reversed(...)`` (and ``zip`` of them) walk by index, a
loop's tape (a list of the values each iteration pushes) becomes a 2-d float array, preallocated where
the loop's trip count is known (``for`` over a ``range``) and grown by doubling otherwise (``while``),
and a pullback closure becomes a function of its own that takes the values it read (numba cannot
return a closure). The runtime helpers come from ``runtime_numba``.

Invariant: a function from this module returns the Python backend's gradients, in type and shape
(a differentiated int is taken as a float); for arguments numba cannot compile the code for (a dict,
an object, a construct of the emitted code numba lacks, a global array whose contents numba would
freeze) it runs the Python backend instead, after a ``NumbaFallbackWarning`` naming the
construct and the user's function (``file:line``). A tape stored as floats is a guess (a value on it
may be an array or an int used as an index): when numba's typing refutes it, the tapes stay lists.
numba is imported only when this backend is asked for.

>>> print(lower(
...     "def f_grad(x, n):\\n"
...     "    _tape1 = []\\n"
...     "    for i in range(n):\\n"
...     "        _tape1.append(x)\\n"
...     "        x = x * x\\n"
...     "    x_bar = 1.0\\n"
...     "    for x in reversed(_tape1):\\n"
...     "        x_bar = 2 * x * x_bar\\n"
...     "    return (x, x_bar)\\n"
... ))
import numpy as _nb_np
from adjoint_compiler.runtime_numba import tape_grow
<BLANKLINE>
def f_grad(x, n):
    _tape1 = _nb_np.empty((len(range(n)), 1))
    _tape1_n = 0
    for i in range(n):
        _tape1[_tape1_n, 0] = x
        _tape1_n += 1
        x = x * x
    x_bar = 1.0
    for _nb_k1 in range(_tape1_n):
        x = _tape1[_tape1_n - 1 - _nb_k1, 0]
        x_bar = 2 * x * x_bar
    return (x, x_bar)
<BLANKLINE>
"""

import ast
import functools
import inspect
import itertools
import linecache
import re
import symtable
import sys
import warnings
import weakref

import numpy as np

from adjoint_compiler import api, derived, load, naming, pipeline, source
from adjoint_compiler.rules import registry

_PROGRAMS = weakref.WeakKeyDictionary()  # function -> {(wrt, mode, scalar arguments): _Program}
_RUNTIME = "adjoint_compiler.runtime"
_RUNTIME_NUMBA = "adjoint_compiler.runtime_numba"


class NumbaFallbackWarning(UserWarning):
    """The numba backend could not compile a gradient: the Python backend computes it."""


class _Refused(Exception):
    """A construct ``lower`` cannot give numba; its message names it."""


# ---- lowering: the emitted text as numba compiles it ----------------------------------------------


def lower(text, tapes_as_arrays=True):
    """The emitted module ``text`` rewritten for numba (see the module docstring); raises ``_Refused``."""
    module = ast.parse(text)
    names = {n.id for n in ast.walk(module) if isinstance(n, ast.Name)}
    fresh = _Fresh(names)
    helpers = {"tape_grow"} if tapes_as_arrays else set()
    body = []
    for stmt in module.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == _RUNTIME:
            helpers.update(alias.name for alias in stmt.names)  # (one runtime_numba lacks: refused at load)
            continue
        if isinstance(stmt, ast.FunctionDef):
            _refuse_try(stmt)
            _drop_dels(stmt)
            _plain_scalar_checks(stmt)
            _typed_placeholders(stmt)
            arrays = _lower_tapes(stmt, fresh) if tapes_as_arrays else {}
            _Reversed(arrays, fresh).visit(stmt)
            body += _split_pullback(stmt)
            continue
        body.append(stmt)
    _call_split_pullbacks(body)
    head = "import numpy as _nb_np\n" if tapes_as_arrays else ""
    if helpers:
        head += "from adjoint_compiler.runtime_numba import %s\n" % ", ".join(sorted(helpers))
    return head + "\n" + ast.unparse(ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))) + "\n"


def _refuse_try(fn):
    """Refuse a ``try`` (the user's, kept by the emitted code): numba catches no exception by its class, and where
    Python's ``math.sqrt(-1.0)`` raises ValueError numba's returns nan, so the handler would not run."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Try):
            caught = [ast.unparse(h.type) if h.type is not None else "" for h in node.handlers]
            raise _Refused(
                "a try statement (try/except %s: numba catches no exception by its class, and its math functions "
                "return nan where Python's raise)" % ", ".join(caught)
                if caught
                else "a try/finally statement"
            )


def _drop_dels(fn):
    """``fn`` without the ``del name`` statements of ``optimize.release`` (numba's IR refuses them; compiled code
    frees its arrays by its own reference counts)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.FunctionDef):
            node.body = [s for s in node.body if not isinstance(s, ast.Delete)] or [ast.Pass()]


def _plain_scalar_checks(fn):
    """``if type(y) is not float: check_scalar(y)`` (``emit.inline_scalar_checks``) as the call alone: numba
    types ``y`` when compiling, and ``type(y)`` there is not Python's type."""
    for _, block in list(_blocks(fn)):
        for i, stmt in enumerate(block):
            body = stmt.body[0] if isinstance(stmt, ast.If) and len(stmt.body) == 1 and not stmt.orelse else None
            call = getattr(body, "value", None)
            if (
                isinstance(body, ast.Expr)
                and isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "check_scalar"
                and len(call.args) == 1
                and ast.unparse(stmt.test) == "type(%s) is not float" % ast.unparse(call.args[0])
            ):
                block[i] = body


def _typed_placeholders(fn):
    """``_cond3 = None`` and ``_t5 = None`` (what the emitted code gives a branch decision or a temporary a path
    may leave unset, taped with the rest; read only where the path set it) as ``False`` and ``0.0``: numba types
    the name from its other assignments, and a None on the tape raised "expected float64, got None" (an ``if``
    inside a loop). Where the temporary is an array, numba cannot unify the two and refuses at compile time (the
    Python backend runs instead)."""
    cond = naming.COND.format("")
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and node.value.value is None
        ):
            name = node.targets[0].id
            if name.startswith(cond) and name[len(cond) :].isdigit():
                node.value = ast.Constant(value=False)
            elif naming.is_temp(name):
                node.value = ast.Constant(value=0.0)


class _Fresh:
    def __init__(self, taken):
        self.taken = taken
        self.count = itertools.count(1)

    def __call__(self, stem):
        while True:
            name = "_nb_%s%d" % (stem, next(self.count))
            if name not in self.taken:
                self.taken.add(name)
                return name


def _name(id, store=False):
    return ast.Name(id=id, ctx=ast.Store() if store else ast.Load())


def _expr(text):
    return ast.parse(text, mode="eval").body


def _blocks(tree):
    """Every statement list in ``tree`` (bodies, else branches, finally blocks), with its owner."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield node, block


def _pushed(stmt):
    """(tape name, pushed value) for ``tape.append(value)``, else None."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "append"
        and isinstance(call.func.value, ast.Name)
        and len(call.args) == 1
        and not call.keywords
    ):
        return call.func.value.id, call.args[0]
    return None


def _tape_init(stmt):
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and re.fullmatch(r"_tape\d+", stmt.targets[0].id)
        and isinstance(stmt.value, ast.List)
        and not stmt.value.elts
    ):
        return stmt.targets[0].id
    return None


def _simple(node):
    """An expression cheap and free of effects to evaluate twice (a range's bounds, for a tape's size)."""
    return all(
        isinstance(n, (ast.Name, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Attribute, ast.Subscript, ast.Load))
        or isinstance(n, (ast.operator, ast.unaryop))
        for n in ast.walk(node)
    )


def _lower_tapes(fn, fresh):
    """Tapes of ``fn`` (its pullback included) as float arrays, in place; {tape: (count name, width)}."""
    inits, pushes, others = {}, {}, set()
    for owner, block in _blocks(fn):
        for i, stmt in enumerate(block):
            tape = _tape_init(stmt)
            if tape is not None:
                inits.setdefault(tape, []).append((block, i))
            pushed = _pushed(stmt)
            if pushed is not None:
                pushes.setdefault(pushed[0], []).append((owner, block, stmt, pushed[1]))
    readers, indexed = set(), {}
    for node in ast.walk(fn):
        if isinstance(node, ast.For):
            readers.update(id(x) for x in _reversed_parts(node.iter) or () if isinstance(x, ast.Name))
        if _row_read(node):
            # (a vjp's pullback reads the tape of a loop over range(n) at its index: the i-th push is row i)
            readers.add(id(node.value))
            indexed[id(node)] = node.value.id
    counted = {id(stmt.targets[0]) for sites in inits.values() for block, i in sites for stmt in [block[i]]}
    counted |= {id(s.value.func.value) for sites in pushes.values() for _, _, s, _ in sites}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and id(node) not in counted and id(node) not in readers:
            others.add(node.id)
    arrays = {}
    for tape, sites in inits.items():
        widths = {len(v.elts) if isinstance(v, ast.Tuple) else 1 for _, _, _, v in pushes.get(tape, ())}
        if tape in others or len(sites) != 1 or len(widths) != 1:
            continue  # read some other way, or pushed values of different sizes: it stays a list
        width = widths.pop()
        block, i = sites[0]
        count = tape + "_n"
        if count in fresh.taken:
            continue
        fresh.taken.add(count)
        size = _trip_count(block, i, pushes[tape])
        block[i : i + 1] = [
            ast.Assign(
                targets=[_name(tape, True)],
                value=_expr("_nb_np.empty((%s, %d))" % (size or "16", width)),
                lineno=0,
            ),
            ast.Assign(targets=[_name(count, True)], value=ast.Constant(0), lineno=0),
        ]
        for _, push_block, stmt, value in pushes[tape]:
            parts = value.elts if isinstance(value, ast.Tuple) else [value]
            # the bound checked here, not in tape_grow: a call returning the array costs its reference
            # counting on every push (a 6-step Newton loop's gradient took twice as long with it)
            grow = "if %s == %s.shape[0]:\n    %s = tape_grow(%s, %s)" % (count, tape, tape, tape, count)
            stores = [] if size else [ast.parse(grow).body[0]]
            for j, part in enumerate(parts):
                target = ast.Subscript(
                    value=_name(tape), slice=ast.Tuple(elts=[_name(count), ast.Constant(j)], ctx=ast.Load())
                )
                target.ctx = ast.Store()
                stores.append(ast.Assign(targets=[target], value=part, lineno=0))
            stores.append(ast.parse("%s += 1" % count).body[0])
            k = next(n for n, s in enumerate(push_block) if s is stmt)
            push_block[k : k + 1] = stores
        arrays[tape] = (count, width)
    _Rows(arrays, {k for k, tape in indexed.items() if tape in arrays}).visit(fn)
    return arrays


def _row_read(node):
    """Whether ``node`` reads a tape at an index: ``_tape1[i]`` (a name, or a number that is not negative: a
    preallocated array's last row is not its last push)."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Name)
        and re.fullmatch(r"_tape\d+", node.value.id) is not None
        and (
            isinstance(node.slice, ast.Name)
            or isinstance(node.slice, ast.Constant)
            and type(node.slice.value) is int
            and node.slice.value >= 0
        )
    )


class _Rows(ast.NodeTransformer):
    """``_tape1[i]`` of a tape lowered to an array as its row's cells (a tuple of them where a push holds several)."""

    def __init__(self, arrays, reads):
        self.arrays, self.reads = arrays, reads

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if id(node) not in self.reads:
            return node
        index = ast.unparse(node.slice)
        width = self.arrays[node.value.id][1]
        cells = ["%s[%s, %d]" % (node.value.id, index, j) for j in range(width)]
        return ast.copy_location(_expr(cells[0] if width == 1 else "(%s,)" % ", ".join(cells)), node)


def _trip_count(block, i, pushes):
    """The size of the tape created by ``block[i]`` when the loop right after it pushes once per
    iteration of a ``for`` over a ``range`` of simple bounds (``len(range(..))``), else None."""
    loop = block[i + 1] if i + 1 < len(block) else None
    if not (len(pushes) == 1 and isinstance(loop, ast.For) and pushes[0][0] is loop and pushes[0][1] is loop.body):
        return None
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and not it.keywords):
        return None
    if not all(_simple(a) for a in it.args):
        return None
    return "len(%s)" % ast.unparse(it)


def _reversed_parts(it):
    """[X, ...] for ``reversed(X)`` or ``zip(reversed(X), ...)``, else None."""
    if _is_call(it, "reversed", 1):
        return [it.args[0]]
    if _is_call(it, "zip", None) and it.args and all(_is_call(a, "reversed", 1) for a in it.args):
        return [a.args[0] for a in it.args]
    return None


def _is_call(node, name, nargs):
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and (name is None or node.func.id == name)
        and not node.keywords
        and (nargs is None or len(node.args) == nargs)
    )


class _Reversed(ast.NodeTransformer):
    """``for t in reversed(xs)`` (or ``zip`` of reversed sequences) as a loop over an index."""

    def __init__(self, arrays, fresh):
        self.arrays = arrays
        self.fresh = fresh

    def visit_For(self, node):
        self.generic_visit(node)
        parts = _reversed_parts(node.iter)
        if parts is None:
            return node
        before, lengths, items = [], [], []
        k = self.fresh("k")
        for part in parts:
            if isinstance(part, ast.Name) and part.id in self.arrays:
                count, width = self.arrays[part.id]
                row = "%s - 1 - %s" % (count, k)
                cells = ["%s[%s, %d]" % (part.id, row, j) for j in range(width)]
                lengths.append(count)
                items.append(cells[0] if width == 1 else "(%s,)" % ", ".join(cells))
                continue
            if _is_call(part, "range", None) and 1 <= len(part.args) <= 3:
                bounds = []
                for arg in part.args:
                    if not isinstance(arg, (ast.Name, ast.Constant)):
                        bound = self.fresh("b")
                        before.append(ast.Assign(targets=[_name(bound, True)], value=arg, lineno=0))
                        arg = _name(bound)
                    bounds.append(ast.unparse(arg))
                length = self.fresh("n")
                before.append(ast.parse("%s = len(range(%s))" % (length, ", ".join(bounds))).body[0])
                start = bounds[0] if len(bounds) > 1 else "0"
                step = bounds[2] if len(bounds) == 3 else "1"
                lengths.append(length)
                items.append("%s + (%s - 1 - %s) * %s" % (start, length, k, step))
                continue
            if not isinstance(part, ast.Name):
                held = self.fresh("s")
                before.append(ast.Assign(targets=[_name(held, True)], value=part, lineno=0))
                part = _name(held)
            length = self.fresh("n")
            before.append(ast.parse("%s = len(%s)" % (length, part.id)).body[0])
            lengths.append(length)
            items.append("%s[%s - 1 - %s]" % (part.id, length, k))
        count = lengths[0] if len(lengths) == 1 else "min(%s)" % ", ".join(lengths)
        value = _expr(items[0] if len(items) == 1 else "(%s,)" % ", ".join(items))
        node.iter = _expr("range(%s)" % count)
        node.body.insert(0, ast.Assign(targets=[node.target], value=value, lineno=0))
        node.target = _name(k, True)
        return before + [node]


def _split_pullback(fn):
    """[fn] or, for a vjp ``fn`` ending ``return (value, pullback)`` with ``pullback`` defined in it,
    [fn returning (value, (the values the pullback reads)), the pullback taking those first]."""
    inner = [s for s in fn.body if isinstance(s, ast.FunctionDef)]
    if not inner:
        return [fn]
    last = fn.body[-1]
    pull = inner[-1]
    if not (
        len(inner) == 1
        and isinstance(last, ast.Return)
        and isinstance(last.value, ast.Tuple)
        and len(last.value.elts) == 2
        and isinstance(last.value.elts[1], ast.Name)
        and last.value.elts[1].id == pull.name
    ):
        raise _Refused("a function defined inside the gradient code that is not its pullback")
    uses = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == pull.name]
    if len(uses) != 1:
        raise _Refused("a pullback read other than as the vjp's result")
    table = symtable.symtable(ast.unparse(fn), "<lowered>", "exec").lookup(fn.name).get_namespaces()[0]
    frees = sorted(table.lookup(pull.name).get_namespaces()[0].get_frees())
    fn.body.remove(pull)
    last.value.elts[1] = ast.Tuple(elts=[_name(v) for v in frees], ctx=ast.Load())
    pull.args.args = [ast.arg(arg=v) for v in frees] + pull.args.args
    return [fn, pull]


def _call_split_pullbacks(body):
    """Calls of a callee's pullback as calls of the function ``_split_pullback`` made of it: where the caller
    binds ``_t1, _t1_pullback = g_vjp(...)``, ``_t1_pullback`` holds what that pullback reads, and
    ``_t1_pullback(c)`` becomes ``g_pullback(_t1_pullback[0], ..., c)``."""
    defs = [n for n in body if isinstance(n, ast.FunctionDef)]
    split = {}  # vjp function -> (its pullback function, how many values it reads)
    for fn, after in zip(defs, defs[1:]):
        last = fn.body[-1]
        if (
            isinstance(last, ast.Return)
            and isinstance(last.value, ast.Tuple)
            and len(last.value.elts) == 2
            and isinstance(last.value.elts[1], ast.Tuple)
            and [a.arg for a in after.args.args[: len(last.value.elts[1].elts)]]
            == [e.id for e in last.value.elts[1].elts if isinstance(e, ast.Name)]
        ):
            split[fn.name] = (after.name, len(last.value.elts[1].elts))
    for fn in defs:
        held = {}  # name bound to a callee's pullback -> that callee
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Tuple)
                and len(node.targets[0].elts) == 2
                and isinstance(node.targets[0].elts[1], ast.Name)
                and _is_call(node.value, None, None)
            ):
                callee = node.value.func.id
                if callee in split:
                    name = node.targets[0].elts[1].id
                    if held.setdefault(name, callee) != callee:
                        raise _Refused("one name bound to the pullbacks of two functions (%s)" % name)
        for node in ast.walk(fn):
            unset = (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and node.value.value is None
                and any(isinstance(t, ast.Name) and t.id in held for t in node.targets)
            )
            if unset:  # (numba would meet an Optional tuple, which its typing of an index fails on obscurely)
                name = next(t.id for t in node.targets if isinstance(t, ast.Name) and t.id in held)
                raise _Refused(
                    "the pullback of %s that a path leaves unset (a call in a loop or a branch that may not run)"
                    % held[name]
                )
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in held:
                pull, count = split[held[node.func.id]]
                kept = node.func.id
                node.func = _name(pull)
                node.args = [_expr("%s[%d]" % (kept, j)) for j in range(count)] + node.args


# ---- loading: the lowered module under numba.njit ----------------------------------------------------


def _numba_error():
    from numba.core.errors import NumbaError

    return NumbaError


class _Native:
    """The njit-compiled functions of one lowered module: ``entry``, and ``pullback`` for a vjp."""

    def __init__(self, function, compiled, mode, tapes_as_arrays):
        import numba

        self.text = lower(compiled.source, tapes_as_arrays)
        try:
            first = load.run(self.text, compiled.name, compiled.unit.provided)
        except ImportError as e:
            missing = re.search(r"cannot import name '(\w+)'", str(e))
            raise _Refused(
                "the runtime helper %s (the numba backend has no version of it)" % (missing and missing.group(1))
            ) from None
        namespace = first.__globals__
        filename = first.__code__.co_filename
        for node in ast.walk(ast.parse(self.text)):
            held = namespace.get(node.id) if isinstance(node, ast.Name) else None
            if isinstance(held, (np.ndarray, list, dict, set)):
                # the Python backend reads it at each call; numba would freeze what it held at compile time
                raise _Refused(
                    "the global %s %s (numba freezes its contents when it compiles)" % (type(held).__name__, node.id)
                )
            if (
                inspect.isfunction(held)
                and held.__code__.co_filename != filename
                and getattr(held, "__module__", None) != _RUNTIME_NUMBA  # (its overloads' stubs)
            ):
                # a function of the user's the emitted code calls as it is (a lifted nested function in a test, a
                # call not differentiated): compiled in turn where numba freezes nothing it could see change
                why = _unfrozen(held)
                if why:
                    raise _Refused("the function %s, which %s" % (node.id, why))
                namespace[node.id] = numba.njit(held)
        for key, value in list(namespace.items()):
            if inspect.isfunction(value) and value.__code__.co_filename == filename:
                namespace[key] = numba.njit(value)
        self.filename = filename
        self.source = compiled.source  # the emitted text, comments quoting the user's statements included
        self.function = function
        self.entry = namespace[compiled.name]
        self.pullback = None
        if mode == "vjp":  # lower puts the pullback right after the function that returns its values
            defs = [n.name for n in ast.parse(self.text).body if isinstance(n, ast.FunctionDef)]
            self.pullback = namespace[defs[defs.index(compiled.name) + 1]]

    def prepare(self, args):
        """Compile for ``args`` now (and the pullback for what the forward sweep returns): NumbaError if
        numba cannot, raised before anything runs."""
        import numba

        signature = tuple(numba.typeof(a) for a in args)
        self.entry.compile(signature)
        if self.pullback is not None:
            returned = self.entry.overloads[signature].signature.return_type
            value, kept = returned.types
            if any(isinstance(t, numba.types.List) for t in kept.types):
                # numba cannot type an empty list passed in, and boxes a full one element by element
                raise _Refused("a tape kept as a list for the pullback (a loop in a loop, or values of mixed types)")
            self.pullback.compile(tuple(kept.types) + (value,))


def _unfrozen(fn):
    """Why numba cannot compile ``fn`` as the Python backend calls it ("" if it can try): numba takes the values of
    the globals, closure cells and defaults a function reads as constants when it compiles, where Python reads
    them at each call; a module (``math.sin``) or a builtin is taken as it is."""
    code = fn.__code__
    if code.co_freevars:
        return "reads the variables %s of the function around it" % ", ".join(code.co_freevars)
    constants = (int, float, bool, complex, str, type(None))
    if any(type(d) not in constants for d in (fn.__defaults__ or ()) + tuple((fn.__kwdefaults__ or {}).values())):
        return "has a default value that is not a number"
    names = set(code.co_names)
    for const in code.co_consts:  # (lambdas and comprehensions inside read the same globals)
        if inspect.iscode(const):
            names |= set(const.co_names) | set(const.co_freevars)
    for name in sorted(names):
        if name in fn.__globals__ and not inspect.ismodule(fn.__globals__[name]):
            return "reads the global %s (numba would freeze its value when it compiles)" % name
    return ""


class _Program:
    """One compilation of ``f`` (wrt, mode, scalar arguments) and the native code tried for it: tapes as
    float arrays first where any loop has one, as lists if numba's typing refutes that; ``native`` gives
    None where neither compiles for the arguments' types (after a warning, once per types)."""

    def __init__(self, f, wrt, mode, kinds):
        self.f, self.wrt, self.mode, self.kinds = f, wrt, mode, kinds
        self.compiled = pipeline.compile(f, wrt, mode, kinds)
        self.natives = None
        self.ready = {}  # argument types -> the native code compiled for them
        self.refused = {}  # argument types -> why numba could not compile the code for them

    def current(self):
        return self.compiled.current()

    def _natives(self):
        if self.natives is None:
            self.natives = []
            try:
                for arrays in (True, False) if "_tape" in self.compiled.source else (False,):
                    native = _Native(self.f, self.compiled, self.mode, arrays)
                    if not any(n.text == native.text for n in self.natives):
                        self.natives.append(native)
            except _Refused as e:
                self.natives = []
                self.why = str(e)
        return self.natives

    def native(self, args):
        """The first native code that compiles for ``args``, or None (after the warning)."""
        key = tuple((type(a), getattr(a, "dtype", None), np.ndim(a)) for a in args)
        ready = self.ready.get(key)
        if ready is not None or key in self.refused:
            return ready
        error = _numba_error()
        natives = self._natives()
        why = getattr(self, "why", None)
        for i, native in enumerate(natives):
            try:
                native.prepare(args)
            except error as e:
                why = _construct(e, native)
                continue
            except _Refused as e:
                why = str(e)
                continue
            except Exception as e:  # numba's own failure to type an argument (an object it has no type for)
                why = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
                continue
            self.ready[key] = native
            return native
        self.refused[key] = why
        code = self.f.__code__
        warnings.warn(
            "numba backend: cannot compile the %s of %s (%s:%d) for arguments (%s): %s; running the Python "
            "backend instead"
            % (
                {"grad": "gradient", "vjp": "vector-Jacobian product", "jvp": "Jacobian-vector product"}[self.mode],
                self.f.__qualname__,
                code.co_filename,
                code.co_firstlineno,
                _types(args),
                why,
            ),
            NumbaFallbackWarning,
            stacklevel=_outside(),
        )
        return None


def _outside():
    """The stack level of the first frame outside this module (the user's call), for warnings."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _construct(error, native):
    """What numba could not compile, from its error: its message's first line and the lowered line."""
    text = str(error)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    what = next((ln for ln in lines if not ln.startswith(("Failed in", "No implementation", "During:"))), "")
    what = re.sub(r"\x1b\[[0-9;]*m", "", what)
    if what.startswith(">>> "):  # numba's "No implementation of function ... found for signature: >>> call"
        what = "no numba implementation of %s" % what[4:]
    where = re.search(r'File "%s", line (\d+)' % re.escape(native.filename), text)
    if where:
        line = linecache.getline(native.filename, int(where.group(1))).strip()
        what += " (in the emitted line `%s`%s)" % (line, _user_statement(native, line))
    return what


def _user_statement(native, line):
    """Where the user wrote the statement an emitted line comes from (", from the user's statement at
    file:line"), when the adjoint sweep quotes it (the comment before the line) and it is found on one
    line of the function's source; else ""."""
    emitted = native.source.splitlines()
    at = next((i for i, text in enumerate(emitted) if text.strip() == line), None)
    quoted = next((t.strip()[2:] for t in reversed(emitted[:at]) if t.strip().startswith("# ")), None) if at else None
    if quoted is None or quoted in ("forward sweep", "adjoint sweep"):
        return ""
    try:
        lines, first = inspect.getsourcelines(native.function)
        wanted = ast.dump(ast.parse(quoted))
    except (OSError, TypeError, SyntaxError):
        return ""
    for i, text in enumerate(lines):
        try:
            if ast.dump(ast.parse(text.strip())) == wanted:
                return ", from the user's statement at %s:%d" % (native.function.__code__.co_filename, first + i)
        except SyntaxError:
            continue
    return ""


def _numba_dispatcher(f):
    module = getattr(type(f), "__module__", None)
    return isinstance(module, str) and module.startswith("numba") and hasattr(f, "py_func")


def _boundary(args, wrt):
    """The arguments as numba takes them: a list of numbers as a float array (the gradient is made a list
    again by the API's finisher, from the list passed), a differentiated int or int array as floats
    (numba's 64-bit ints would overflow where Python's do not)."""
    if all(type(a) is float or type(a) is np.ndarray and a.dtype.kind == "f" for a in args):
        return args
    return tuple(
        np.array(a, dtype=float)
        if type(a) is list and a and all(type(v) in (float, int) for v in a)
        else derived._as_float(a)
        if i in wrt
        else a
        for i, a in enumerate(args)
    )


def _python_transform(kind, f, wrt):
    return derived.jvp(f, wrt) if kind == "jvp" else getattr(api, kind)(f, wrt)


def transform(f, wrt, kind):
    """``kind`` (grad, value_and_grad, vjp, jvp) of ``f`` on the numba backend (see the module docstring)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        raise ImportError("backend='numba' needs numba: pip install 'adjoint-compiler[numba]'") from None
    user = f.py_func if _numba_dispatcher(f) else f
    python = functools.partial(_python_transform, kind, user, wrt)
    why = None
    if not inspect.isfunction(user):
        why = "a callable that is not a plain function (%s)" % type(user).__name__
    elif api._flexible(user):
        why = "a function taking *args or **kwargs"
    if why is not None:
        warnings.warn("numba backend: %s; running the Python backend instead" % why, NumbaFallbackWarning, 4)
        return python()
    user = api._function(user, kind)
    wrt_idx, single = api.normalize_wrt(user, wrt)
    make = {"grad": _scalar_output, "value_and_grad": _scalar_output, "vjp": _vjp, "jvp": _jvp}[kind]
    wrapper = make(user, wrt_idx, single, kind, python)
    functools.update_wrapper(wrapper, user)
    wrapper.backend = "numba"
    setattr(wrapper, source.TRANSFORM_MARK, (kind, user))  # a transform of it is refused, as the Python one's
    return wrapper


class _Programs:
    """The programs of one transform, per set of scalar arguments; recompiled when one goes stale."""

    def __init__(self, f, wrt, mode, python):
        self.f, self.wrt, self.mode = f, wrt, mode
        self.by_kinds = {}
        self.make_python = python
        self.python = None

    def native(self, args, kinds=()):
        program = self.by_kinds.get(kinds)
        if program is None or not program.current():
            shared = _PROGRAMS.setdefault(self.f, {})  # grad and value_and_grad of f share theirs
            key = (self.wrt, self.mode, kinds)
            program = shared.get(key)
            if program is None or not program.current():
                program = shared[key] = _Program(self.f, self.wrt, self.mode, kinds)
            self.by_kinds[kinds] = program
        return program.native(args)

    def fallback(self):
        if self.python is None:
            self.python = self.make_python()
        return self.python


def _kinds(args):
    return tuple(i for i, a in enumerate(args) if api._is_scalar(a) and type(a) is not np.ndarray)


def _python_only(f, args, wrt):
    """Whether the Python backend takes these arguments: a differentiated truth value (for its gradient
    conversions), or arguments that are or hold NamedTuples, dataclasses or objects (its structured
    path; a warning says so). Raises TypeError for complex ones, as the Python backend does."""
    if api._check_differentiated(f, args, wrt):
        return True
    if api._any_structure(args):
        warnings.warn(
            "numba backend: %s (%s:%d) got arguments (%s) that are or hold NamedTuples, dataclasses or objects; "
            "running the Python backend instead"
            % (f.__qualname__, f.__code__.co_filename, f.__code__.co_firstlineno, _types(args)),
            NumbaFallbackWarning,
            stacklevel=_outside(),
        )
        return True
    return False


def _types(args):
    return ", ".join(type(a).__name__ for a in args)


def _scalar_output(f, wrt, single, kind, python):
    programs = _Programs(f, wrt, "grad", python)
    finish = api._generic_finisher(wrt, single)
    nargs = api._arity(f)
    with_value = kind == "value_and_grad"
    # once a call compiled, calls with plain arguments go straight to numba, which dispatches on their
    # types itself (types it cannot compile for raise before the code runs; the slow path says why);
    # ``current`` says whether what the code read still holds and no rule was registered since. A tiny
    # gradient costs about as much as this wrapper, so its checks are unrolled per argument (_fast_source)
    # and read closure variables; where the code read no global (no guards), the check is the registry's
    # token alone, inline
    held = []  # the wrapper's ``ready(entry, floats, current, token)``, which sets what it calls

    def slow(given, kwargs):
        given = given if not kwargs and len(given) == nargs else api._bind(f, given, kwargs)
        if _python_only(f, given, wrt):
            return programs.fallback()(*given)
        args = _boundary(given, wrt)
        native = programs.native(args)
        if native is None:
            return programs.fallback()(*given)
        try:
            value, grads = native.entry(*args)
        except TypeError as e:
            if "got None" not in str(e):
                raise
            # a value a path left unset (None in the Python code, where nothing reads it) that numba typed as a
            # number: this call on the Python backend, which the user's own errors reach as well
            warnings.warn(
                "numba backend: %s for these values; running the Python backend instead" % e, NumbaFallbackWarning, 3
            )
            return programs.fallback()(*given)
        program = programs.by_kinds[()]
        if not program.refused:  # (else every call checks the types it was refused for)
            # (a register_adjoint since makes it stale too: the token changes)
            floats = _entry_point(native.entry, args) if all(type(a) is float for a in args) else None
            current = program.current if program.compiled.guards else None
            held[0](native.entry, floats, current, program.compiled.token)
        grads = finish(grads, given)
        return (value, grads) if with_value else grads

    def failed(args, kwargs):
        held[0](None, None, None, None)
        return slow(args, kwargs)

    key = (nargs, tuple(wrt), single, with_value)
    code = _FAST_CODE.get(key)
    if code is None:
        code = _FAST_CODE[key] = compile(_fast_source(*key), "<numba backend wrapper>", "exec")
    env = {}
    exec(code, env)
    wrapper, ready = env["make"](slow, failed, finish, registry.REGISTERED, _numba_error(), np.ndarray)
    held.append(ready)
    return wrapper


_FAST_CODE = {}  # (nargs, wrt, single, with_value) -> the code of _fast_source's module


def _fast_source(nargs, wrt, single, with_value):
    """The numba backend's grad or value_and_grad wrapper, its checks unrolled for ``nargs`` arguments: a
    call of Python floats alone goes to ``floats`` (the compiled code's entry point for floats: numba's
    type dispatch left out, which costs about what a small gradient's code does), a call of floats, ints
    (not differentiated ones: they become floats, _boundary) and float arrays to ``entry`` (numba's
    dispatcher), anything else to ``slow``. ``make`` returns the wrapper and ``ready``, which sets them."""
    names = ["a%d" % i for i in range(nargs)]
    lines = [
        "def make(slow, failed, finish, registered, NumbaError, ndarray):",
        "    entry = floats = current = token = None",
        "",
        "    def ready(new_entry, new_floats, new_current, new_token):",
        "        nonlocal entry, floats, current, token",
        "        entry, floats, current, token = new_entry, new_floats, new_current, new_token",
        "",
        "    def wrapper(*args, **kwargs):",
        "        if entry is None or kwargs or len(args) != %d or not (" % nargs,
        "            registered['token'] is token if current is None else current()",
        "        ):",
        "            return slow(args, kwargs)",
        "        call = entry",
    ]
    if nargs:
        lines.append("        %s, = args" % ", ".join(names))
        lines += ["        t%d = type(a%d)" % (i, i) for i in range(nargs)]
        accepted = " and ".join(
            "(t{0} is float or t{0} is ndarray and a{0}.dtype.kind == 'f'{1})".format(
                i, _INT % i if i not in wrt else ""
            )
            for i in range(nargs)
        )
        lines += [
            "        if %s:" % " and ".join("t%d is float" % i for i in range(nargs)),
            "            call = floats or entry",
            "        elif not (%s):" % accepted,
            "            return slow(args, kwargs)",
        ]
    lines += [
        "        try:",
        "            value, grads = call(*args)",
        "        except NumbaError:",
        "            return failed(args, kwargs)",
        "        except TypeError as e:",
        "            if 'got None' not in str(e):",
        "                raise",
        "            return slow(args, kwargs)",
        "        if %s:" % ("type(grads) is not float" if single else "True"),
        "            grads = finish(grads, args)",
        "        return %s" % ("value, grads" if with_value else "grads"),
        "",
        "    return wrapper, ready",
    ]
    return "\n".join(lines) + "\n"


_INT = " or t%d is int"  # (an argument not differentiated may be an int: numba takes it as one)


def _entry_point(dispatcher, args):
    """The compiled code's own entry for these arguments' types (numba's ``overloads``), or None: called with
    arguments of exactly those types, as numba's dispatcher would after finding it."""
    import numba

    try:
        compiled = dispatcher.overloads.get(tuple(numba.typeof(a) for a in args))
    except Exception:  # noqa: BLE001  (numba's internals moved: the dispatcher serves)
        return None
    return getattr(compiled, "entry_point", None)


def _vjp(f, wrt, single, kind, python):
    programs = _Programs(f, wrt, "vjp", python)
    nargs = api._arity(f)

    def wrapper(*args, **kwargs):
        given = args = args if not kwargs and len(args) == nargs else api._bind(f, args, kwargs)
        if _python_only(f, args, wrt):
            return programs.fallback()(*given)
        args = _boundary(args, wrt)
        native = programs.native(args, _kinds(args))
        if native is None:
            return programs.fallback()(*given)
        value, kept = native.entry(*args)
        finish = api._finisher([api._converter(given[i]) for i in wrt], wrt, single)

        def pullback(cotangent):
            if type(cotangent) is int:
                cotangent = float(cotangent)
            return finish(native.pullback(*kept, cotangent), given)

        return value, pullback

    return wrapper


def _jvp(f, wrt, single, kind, python):
    programs = _Programs(f, wrt, "jvp", python)
    nargs = api._arity(f)

    def wrapper(*args, **kwargs):
        if not args:
            raise TypeError("%s: jvp needs the arguments and a tangent" % f.__qualname__)
        tangent, args = args[-1], args[:-1]
        given = args = args if not kwargs and len(args) == nargs else api._bind(f, args, kwargs)
        tangents = (tangent,) if single else tuple(tangent)
        if len(tangents) != len(wrt):
            raise TypeError("jvp of %s: %d tangents for wrt=%r" % (f.__qualname__, len(tangents), wrt))
        if _python_only(f, args, wrt):
            return programs.fallback()(*given, tangent)
        args = _boundary(args, wrt)
        tangents = _boundary(tuple(derived._as_float(t) for t in tangents), range(len(tangents)))
        native = programs.native(args + tangents, _kinds(args))
        if native is None:
            return programs.fallback()(*given, tangent)
        value, tangent_out = native.entry(*args, *tangents)
        return value, tangent_out if type(tangent_out) is float else derived._precision_of(tangent_out, value)

    return wrapper


api.BACKENDS["numba"] = transform
