"""The checker: compile a program with adjoint_compiler, compare with central differences.

``check(program, args, spec)`` returns an ``Outcome``:

``passed``    every property below holds;
``rejected``  the point is unusable (near a kink or branch switch, a numeric
              error, central differences that disagree with themselves):
              not a verdict on the compiler;
``wrong``     the compiler ran but a property fails (a gradient, a value,
              the structure of a result, a changed argument ...);
``internal``  the compiler raised ``InternalError``;
``crash``     the compiler or the code it emitted raised anything else
              undocumented (TypeError, UnboundLocalError, a numeric error
              where f and its finite differences are finite ...);
``refused``   the compiler raised its documented ``CompileError``. Every
              generator's programs are in the supported subset, so this is a
              failure unless the generator's spec allows it (``allow_refusal``,
              or a message naming a documented limitation, ``allowed_refusals``).

Usable point: ``f`` runs without a numeric error (NumPy's errstate raises);
every value an assignment binds, and the result, is finite and below
``spec.big``; every ``<``/``>``/``<=``/``>=``, every tie of ``max``/``min``/``sorted`` of a list, every jump
of ``math.fmod``/``remainder``/``modf``/``frexp`` and every kink of
``abs``/``min``/``max`` (and their NumPy forms) is at least ``spec.margin``
away from switching; and the branch decisions (tests of ``if``, ``while`` and
``a if c else b``) stay the same when a differentiated argument moves by
``+-spec.wide`` and by each finite-difference step. All of that comes from one
instrumented copy of the module (an AST rewrite), so it holds for every
generator and for hand-written programs alike.

Central differences: along each differentiated argument (a number; each axis
of an array of at most 3 elements; else ``spec.directions`` random
directions), at two step sizes that must agree to ``spec.fd_agree``.

Properties (each a ``wrong`` outcome with its own label when it fails):

1. ``grad`` with respect to every argument in ``program.wrt`` returns a tuple
   of gradients with the types and shapes of the arguments (a float for a
   float), matching central differences to ``spec.rtol`` (relative to
   ``max(1, |a|, |b|)``); a second call gives the same result;
2. ``value_and_grad`` returns ``f``'s value (exactly, or to
   ``spec.value_rtol``) and the same gradient;
3. (``spec.single_wrt``) a single ``wrt`` gives a bare gradient equal to
   the tuple's entry (to ``spec.same_rtol``);
   (``spec.autograd``) and it matches autograd's gradient to ``spec.autograd_rtol``
   where autograd is installed and runs the program (on ``autograd.numpy``), unless central
   differences are closer to AD than to autograd (then autograd is the one that is off);
4. (``spec.scalar_vjp``) ``vjp``'s value is ``f``'s and its pullback of 1.0
   is the gradient (to ``spec.same_rtol``);
5. (``program.alt_ret`` set) ``vjp`` of the version returning arrays or
   tuples returns exactly that function's value, also after the pullback
   ran; the pullback of a random cotangent matches central differences of
   <cotangent, f>;
6. no call changes the arguments; ``f`` itself (code, defaults, globals it
   reads) is unchanged and still computes the same value;
7. (programs with module globals) every gradient call leaves the globals as
   one call of ``f`` leaves them, and a pullback changes none;
8. ``jvp`` along a random tangent gives ``f``'s value and ``<gradient, tangent>``
   (to ``spec.same_rtol``), changing neither the arguments nor more state than ``f``;
   a located refusal of a construct forward mode has no tangent for yet is allowed.
"""

import ast
import copy
import importlib.util
import itertools
import math
import os
import sys
import tempfile
import warnings

import numpy as np

import adjoint_compiler as ac
from adjoint_compiler.errors import InternalError
from adjoint_compiler.testing import relative_error

NUMERIC_ERRORS = (OverflowError, ZeroDivisionError, FloatingPointError, ValueError)
KINDS = ("passed", "rejected", "wrong", "internal", "crash", "refused")
FAILURES = ("wrong", "internal", "crash", "refused")
INVALID = "f itself raises"  # the ``what`` of a rejection because the program does not run


class Spec:
    """Tolerances and the optional properties of one generator."""

    def __init__(
        self,
        rtol=1e-5,
        margin=1e-3,
        wide=1e-4,
        big=1e6,
        steps=(1e-5, 2e-6),
        fd_agree=1e-6,
        directions=3,
        value_rtol=0.0,
        same_rtol=0.0,
        single_wrt=False,
        scalar_vjp=True,
        allow_refusal=False,
        allowed_refusals=(),
        autograd=False,
        autograd_rtol=1e-7,
    ):
        self.rtol = rtol
        self.margin = margin
        self.wide = wide
        self.big = big
        self.steps = steps
        self.fd_agree = fd_agree
        self.directions = directions
        self.value_rtol = value_rtol  # value_and_grad's and vjp's value vs f's (0: exactly, and the same type)
        self.same_rtol = same_rtol  # a single wrt's gradient, the pullback of 1.0 vs grad's (0: exactly)
        self.single_wrt = single_wrt
        self.scalar_vjp = scalar_vjp
        self.allow_refusal = allow_refusal
        self.allowed_refusals = allowed_refusals  # documented refusals: a message containing one is allowed
        self.autograd = autograd  # also compare with autograd, where it is installed and runs the program
        self.autograd_rtol = autograd_rtol  # both are exact up to rounding: much tighter than central differences

    def allows(self, message):
        return self.allow_refusal or any(text in message for text in self.allowed_refusals)


class Outcome:
    def __init__(self, kind, what="", message="", notes=(), refusal_allowed=False):
        self.kind = kind
        self.refusal_allowed = refusal_allowed
        self.what = what  # which property or which call (short, stable: the minimizer matches it)
        self.message = message
        self.notes = list(notes)  # source, point, gradients, ...: the failure report

    @property
    def failed(self):
        return self.kind in FAILURES and not (self.kind == "refused" and self.refusal_allowed)

    @property
    def signature(self):
        return self.kind, self.what

    def report(self):
        return "%s (%s): %s\n%s" % (self.kind, self.what, self.message, "\n".join(self.notes))

    def __repr__(self):
        return "Outcome(%s, %r, %r)" % (self.kind, self.what, self.message[:200])


class _Stop(Exception):
    def __init__(self, kind, what, message=""):
        super().__init__(message)
        self.kind, self.what, self.message = kind, what, message


def _reject(reason, detail=""):
    raise _Stop("rejected", reason, detail)


def _wrong(what, message):
    raise _Stop("wrong", what, message)


# ---------------------------------------------------------------------------
# Loading source from a real file (the compiler reads it with ``inspect``).
# ---------------------------------------------------------------------------

_TMPDIR = None
_COUNTER = itertools.count()


def load_module(source):
    """Write ``source`` to a fresh file and import it as a fresh module."""
    global _TMPDIR
    if _TMPDIR is None:
        _TMPDIR = tempfile.TemporaryDirectory(prefix="ac_fuzz_")
    name = "ac_fuzz_%d_%d" % (os.getpid(), next(_COUNTER))
    path = os.path.join(_TMPDIR.name, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_function(source, name="f"):
    return getattr(load_module(source), name)


# ---------------------------------------------------------------------------
# Values: copies, equality, inner products.
# ---------------------------------------------------------------------------


def copies(args):
    """Fresh copies of mutable arguments: the function under test may not change what we compare against."""
    return tuple(copy.deepcopy(a) if isinstance(a, (np.ndarray, list, dict)) else a for a in args)


def equal(a, b):
    """Exact equality of numbers, arrays and nested tuples/lists/dicts of them (shapes and types too)."""
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    return a == b or (a != a and b != b)


def close(a, b, rtol):
    """Equal (``rtol`` 0), or within relative error ``rtol``, element by element of tuples."""
    if not rtol:
        return equal(a, b)
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(close(u, v, rtol) for u, v in zip(a, b))
    return np.shape(a) == np.shape(b) and relative_error(a, b) <= rtol


def inner(a, b):
    if isinstance(a, (tuple, list)):
        return sum(inner(u, v) for u, v in zip(a, b))
    return float(np.sum(np.asarray(a, dtype=float) * np.asarray(b, dtype=float)))


def largest(value):
    if type(value) is float:
        return abs(value) if value - value == 0.0 else math.inf
    if isinstance(value, (tuple, list)):
        return max([largest(v) for v in value], default=0.0)
    if isinstance(value, dict):
        return largest(list(value.values()))
    try:
        a = np.abs(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        return 0.0
    return float(np.max(a, initial=0.0)) if np.all(np.isfinite(a)) else math.inf


def _cotangent(value, rng):
    if isinstance(value, tuple):
        return tuple(_cotangent(v, rng) for v in value)
    if np.ndim(value):
        return rng.standard_normal(np.shape(value))
    return float(rng.standard_normal())


def _snapshot(f):
    return (
        f.__code__,
        f.__defaults__,
        f.__kwdefaults__,
        dict(f.__dict__),
        f.__name__,
        f.__qualname__,
        f.__globals__.get("math"),
        f.__globals__.get("np"),
    )


# ---------------------------------------------------------------------------
# The instrumented copy: decisions, distances to switching, magnitudes.
# ---------------------------------------------------------------------------

_KINKS = {
    "abs": "abs",
    "min": "min",
    "max": "max",
    "np.abs": "abs",
    "np.minimum": "min",
    "np.maximum": "max",
    "np.absolute": "abs",
    "np.fabs": "abs",
    "math.fabs": "abs",
    "math.dist": "dist",  # |p - q|: a kink where the points meet
}
# functions that jump: (kind, number of arguments)
_JUMPS = {
    "math.fmod": ("integer", 2),  # where x / y crosses an integer
    "math.remainder": ("half", 2),  # where x / y crosses a half-integer
    "math.modf": ("integer", 1),
    "math.frexp": ("power", 1),  # where |x| crosses a power of two
    "math.copysign": ("abs", 2),  # the kink of |x|
}
# functions whose derivative is infinite at a point (where the point is the distance from 0 of the argument,
# or of |argument| - 1): AD multiplies that infinity by the next factor, and an exact 0 there (a floor, a
# constant branch) makes NaN where the composite's derivative is finite; such points are not usable
_SINGULAR = {
    "math.sqrt": "zero",
    "np.sqrt": "zero",
    "math.cbrt": "zero",
    "np.cbrt": "zero",
    "math.asin": "one",
    "math.acos": "one",
    "math.atanh": "one",
    "math.acosh": "one",
    "np.arcsin": "one",
    "np.arccos": "one",
    "np.arctanh": "one",
    "np.arccosh": "one",
}
_ORDER = {ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=", ast.GtE: ">="}


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return "%s.%s" % (node.value.id, node.attr)
    return None


def _call(name, *args):
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


class _Instrument(ast.NodeTransformer):
    def _test(self, node):
        self.generic_visit(node)
        node.test = _call("_rec", node.test)
        return node

    visit_If = visit_While = visit_IfExp = _test

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _ORDER:
            return _call("_cmp", node.left, node.comparators[0], ast.Constant(_ORDER[type(node.ops[0])]))
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        name = _dotted(node.func)
        if name in _KINKS and not node.keywords and len(node.args) == (1 if _KINKS[name] == "abs" else 2):
            return _call("_kink", node.func, ast.Constant(_KINKS[name]), *node.args)
        if name in _JUMPS and not node.keywords and len(node.args) == _JUMPS[name][1]:
            return _call("_jump", node.func, ast.Constant(_JUMPS[name][0]), *node.args)
        if name in _SINGULAR and not node.keywords and len(node.args) == 1:
            return _call("_singular", node.func, ast.Constant(_SINGULAR[name]), *node.args)
        if name in ("max", "min", "sorted") and len(node.args) == 1:  # ties of the elements (their keys)
            new = _call("_ties", node.func, *node.args)
            new.keywords = node.keywords
            return new
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return _call("_pow", node.left, node.right)
        return node

    def visit_Return(self, node):
        self.generic_visit(node)
        if node.value is not None:
            node.value = _call("_val", node.value)
        return node

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, self._record_after(stmts))
        return node

    @staticmethod
    def _record_after(stmts):
        out = []
        for s in stmts:
            out.append(s)
            targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, ast.AugAssign) else []
            for t in targets:
                for n in [t] if isinstance(t, ast.Name) else t.elts if isinstance(t, ast.Tuple) else []:
                    if isinstance(n, ast.Name):
                        out.append(ast.Expr(_call("_val", ast.Name(id=n.id, ctx=ast.Load()))))
        return out


def _integral(v):
    return isinstance(v, (int, np.integer)) or isinstance(v, np.ndarray) and v.dtype.kind in "iub"


class Probe:
    """Runs of the instrumented module: value, decision trace, closest switch, largest value."""

    def __init__(self, source):
        self.trace, self.closest, self.big = [], math.inf, 0.0
        tree = ast.fix_missing_locations(_Instrument().visit(ast.parse(source)))
        self.ns = {
            "__name__": "ac_fuzz_probe",
            "_rec": self._rec,
            "_cmp": self._cmp,
            "_kink": self._kink,
            "_jump": self._jump,
            "_ties": self._ties,
            "_singular": self._singular,
            "_pow": self._pow,
            "_val": self._val,
        }
        try:
            exec(compile(tree, "<instrumented>", "exec"), self.ns)
        except Exception as e:  # noqa: BLE001
            raise _Stop("rejected", INVALID, "the module raises %s: %s" % (type(e).__name__, e)) from None

    def _rec(self, c):
        self.trace.append(bool(c))
        return c

    def _near(self, d):
        d = np.abs(np.asarray(d, dtype=float))
        self.closest = min(self.closest, float(np.min(d, initial=math.inf)) if d.size else math.inf)

    def _cmp(self, a, b, op):
        if not (_integral(a) and _integral(b)):  # ints never move by a small step
            try:
                self._near(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
            except (TypeError, ValueError):
                pass
        return a < b if op == "<" else a > b if op == ">" else a <= b if op == "<=" else a >= b

    def _kink(self, fn, kind, *args):
        if kind == "dist":
            self._near(float(np.linalg.norm(np.asarray(args[0], dtype=float) - np.asarray(args[1], dtype=float))))
        else:
            self._near(
                args[0] if kind == "abs" else np.asarray(args[0], dtype=float) - np.asarray(args[1], dtype=float)
            )
        return fn(*args)

    def _singular(self, fn, kind, x):
        try:
            a = np.asarray(x, dtype=float)
            self._near(a if kind == "zero" else np.abs(a) - 1.0)
        except (TypeError, ValueError):
            pass
        return fn(x)

    def _pow(self, a, b):
        """``a ** b`` with an exponent that is not a whole number >= 0: its derivative is infinite at a = 0."""
        try:
            e = np.asarray(b, dtype=float)
            if np.any((e != np.round(e)) | (e < 0)) and not _integral(a):
                self._near(np.asarray(a, dtype=float))
        except (TypeError, ValueError):
            pass
        return a**b

    def _jump(self, fn, kind, *args):
        x = float(args[0])
        if kind == "abs":
            self._near(x)
        elif kind == "power":
            self._near(abs(x) - 2.0 ** round(math.log2(abs(x))) if x else 0.0)
        else:
            q = x / float(args[1]) if len(args) > 1 else x
            q = q + 0.5 if kind == "half" else q
            self._near((q - round(q)) * (float(args[1]) if len(args) > 1 else 1.0))
        return fn(*args)

    def _ties(self, fn, xs, **kwargs):
        key = kwargs.get("key") or (lambda v: v)
        try:
            keys = np.asarray([key(v) for v in xs], dtype=float)
        except (TypeError, ValueError):
            return fn(xs, **kwargs)
        if keys.ndim == 1 and keys.size > 1:
            self._near((keys[:, None] - keys[None, :])[~np.eye(keys.size, dtype=bool)])
        return fn(xs, **kwargs)

    def _val(self, v):
        self.big = max(self.big, largest(v))
        return v

    def run(self, args, name="f"):
        """(value, trace, closest, largest) at ``args``, or None on a numeric error."""
        self.trace, self.closest, self.big = [], math.inf, 0.0
        if "_reset" in self.ns:
            self.ns["_reset"]()
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                value = self.ns[name](*copies(args))
        except NUMERIC_ERRORS:
            return None
        except Exception as e:  # noqa: BLE001 - not a program (a minimizer's candidate, a generator's bug)
            raise _Stop("rejected", INVALID, "f raises %s: %s" % (type(e).__name__, e)) from None
        return value, tuple(self.trace), self.closest, self.big


# ---------------------------------------------------------------------------
# Central differences.
# ---------------------------------------------------------------------------


def _directions(arg, spec, rng):
    if not isinstance(arg, np.ndarray):
        return [1.0]
    if arg.size <= 3:
        out = []
        for k in np.ndindex(arg.shape):
            d = np.zeros(arg.shape)
            d[k] = 1.0
            out.append(d)
        return out
    return [rng.standard_normal(arg.shape) for _ in range(spec.directions)]


def _shifted(args, i, d, t):
    out = list(args)
    out[i] = args[i] + t * d
    return out


def _differences(probe, args, i, directions, spec, base, name="f", cotangent=None):
    """[(direction, central difference)] along argument ``i``; rejects unusable points."""
    out = []
    for d in directions:
        for t in (spec.wide, -spec.wide) if base[1] else ():  # (no decisions: nothing to switch)
            r = probe.run(_shifted(args, i, d, t), name)
            if r is None or r[1] != base[1]:
                _reject("a decision changes within +-wide")
        estimates = []
        for h in spec.steps:
            ends = []
            for t in (h, -h):
                r = probe.run(_shifted(args, i, d, t), name)
                if r is None or r[1] != base[1] or not largest(r[0]) < spec.big:
                    _reject("a decision changes or a value overflows within the finite-difference step")
                ends.append(inner(r[0], cotangent) if cotangent is not None else float(r[0]))
            estimates.append((ends[0] - ends[1]) / (2 * h))
        if not all(math.isfinite(e) for e in estimates) or relative_error(estimates[0], estimates[1]) > spec.fd_agree:
            _reject("central differences at two step sizes disagree")
        out.append((d, estimates[0]))
    return out


# ---------------------------------------------------------------------------
# The check.
# ---------------------------------------------------------------------------


def _attempt(what, thunk):
    """Run compiler or compiled code; classify what it raises."""
    try:
        return thunk()
    except InternalError as e:
        raise _Stop("internal", what, "%s raised InternalError: %s" % (what, e)) from None
    except ac.CompileError as e:
        raise _Stop("refused", what, "%s raised %s: %s" % (what, type(e).__name__, e)) from None
    except Exception as e:  # noqa: BLE001 - anything else is undocumented
        raise _Stop("crash", what, "%s raised %s: %s" % (what, type(e).__name__, e)) from None


def _autograd_gradients(source, args, wrt):
    """autograd's gradient with respect to each of ``wrt`` (the module run on ``autograd.numpy``), or None
    where autograd is not installed or cannot run the program (a function it has no derivative for)."""
    try:
        import autograd
    except ImportError:
        return None
    if "import numpy as np" not in source:
        return None
    try:
        fa = load_module(source.replace("import numpy as np", "import autograd.numpy as np", 1)).f
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Output seems independent of input"
            out = [autograd.grad(fa, i)(*copies(args)) for i in wrt]
        # (inside the try: a gradient autograd leaves boxed, an ArrayBox a NumPy call let through, is no
        # reference either; rules seed 801xxx stopped a whole offline run with its TypeError)
        return [np.asarray(g, dtype=float) if isinstance(g, np.ndarray) else float(g) for g in out]
    except Exception:  # noqa: BLE001 - autograd lacks the function, or math.* got one of its boxes
        return None


def _globals_of(module, names):
    return {n: copy.deepcopy(module.__dict__.get(n)) for n in names}


def check(program, args, spec=None, say=None):
    """Check every property of ``program`` at ``args``; return an Outcome (never raises for a verdict)."""
    spec = spec or Spec()
    notes = []
    say = say or notes.append
    try:
        _check(program, tuple(args), spec, say)
    except _Stop as stop:
        return Outcome(stop.kind, stop.what, stop.message, notes, spec.allows(stop.message))
    return Outcome("passed", notes=notes)


def _check(program, args, spec, say):
    source = program.source()
    say("generated source:\n" + source)
    say("point: %r" % (args,))
    params = program.params
    wrt = tuple(program.wrt)
    gnames = [n for n, _ in getattr(program, "globals_", ())]

    # --- the point must be usable
    probe = Probe(source)
    base = probe.run(args)
    if base is None:
        _reject("numeric error")
    value0, _, closest, big = base
    if not largest(value0) < spec.big or not big < spec.big:
        _reject("a value is too large")
    if closest < spec.margin:
        _reject("near a comparison or kink", "a comparison or kink is %.3g from switching" % closest)
    if np.ndim(value0) != 0:
        _reject("f's value is not a scalar")
    rng = np.random.default_rng(len(source))
    fds = {i: _differences(probe, args, i, _directions(args[i], spec, rng), spec, base) for i in wrt}

    module = load_module(source)
    f = module.f
    reset = getattr(module, "_reset", lambda: None)

    def run_f(fn=f):
        reset()
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            return fn(*copies(args))

    try:
        reset()
        mutated = copies(args)
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            value = f(*mutated)
    except NUMERIC_ERRORS:
        _reject("numeric error")
    effects = _globals_of(module, gnames)
    before_f = _snapshot(f)
    before_args = copies(args)
    # f itself changes its arguments' contents (t = x; t += y): then so may the gradient, and
    # every call gets fresh copies
    f_mutates = not equal(mutated, args)
    if f_mutates:
        say("f changes its arguments")

    def given():
        return copies(args) if f_mutates else args

    def same_args(what):
        if f_mutates:
            return
        for p, (a, b) in enumerate(zip(args, before_args)):
            if not equal(a, b):
                _wrong("argument changed", "%s changed argument %s: %r, was %r" % (what, params[p], a, b))

    def same_effects(what):
        now = _globals_of(module, gnames)
        if not equal(now, effects):
            _wrong("module state", "after %s the globals are %r; one call of f leaves %r" % (what, now, effects))

    def call(what, make):
        reset()
        return _attempt(what, make)

    # 1. grad: structure, central differences, a second call
    grads = call("grad", lambda: ac.grad(f, wrt=wrt)(*given()))
    say("AD gradient: %r" % (grads,))
    same_args("grad")
    same_effects("grad")
    if not (isinstance(grads, tuple) and len(grads) == len(wrt)):
        _wrong("gradient structure", "grad(wrt=%r) returned %r" % (wrt, grads))
    for i, g in zip(wrt, grads):
        a = args[i]
        if isinstance(a, np.ndarray):
            if not (isinstance(g, np.ndarray) and g.shape == a.shape):
                _wrong(
                    "gradient structure",
                    "gradient of %s is %s of shape %s, the argument has shape %s"
                    % (params[i], type(g).__name__, np.shape(g), a.shape),
                )
        elif type(g) is not float:
            _wrong("gradient structure", "gradient of the float %s is a %s" % (params[i], type(g).__name__))
    say("central differences: %r" % ({params[i]: [fd for _, fd in fds[i]] for i in wrt},))
    for i, g in zip(wrt, grads):
        for d, fd in fds[i]:
            ad = inner(g, d)
            err = relative_error(ad, fd)
            if err > spec.rtol:
                _wrong(
                    "gradient",
                    "d f / d %s: AD %r vs central differences %r along %r (relative error %.3g)"
                    % (params[i], ad, fd, d, err),
                )
    if spec.autograd:
        reference = _autograd_gradients(source, args, wrt)
        if reference is None:
            say("autograd: not installed, or it cannot run this program")
        else:
            say("autograd gradient: %r" % (reference,))
            for i, g, r in zip(wrt, grads, reference):
                if np.shape(g) != np.shape(r):
                    if np.shape(g) == np.shape(args[i]):  # autograd's own bug (np.triu of a vector: a matrix)
                        say(
                            "autograd's gradient wrt %s has the shape %s, the argument %s"
                            % (params[i], np.shape(r), np.shape(g))
                        )
                        continue
                    _wrong("autograd", "d f / d %s: AD %r vs autograd %r (shapes differ)" % (params[i], g, r))
                if relative_error(g, r) <= spec.autograd_rtol:
                    continue
                # a disagreement counts where central differences side with autograd (autograd has bugs too)
                ad_off = max(relative_error(inner(g, d), fd) for d, fd in fds[i])
                ag_off = max(relative_error(inner(r, d), fd) for d, fd in fds[i])
                if ag_off < ad_off:
                    _wrong(
                        "autograd",
                        "d f / d %s: AD %r vs autograd %r (relative error %.3g; central differences %.3g from AD, "
                        "%.3g from autograd)" % (params[i], g, r, relative_error(g, r), ad_off, ag_off),
                    )
                say("autograd disagrees on d f / d %s, central differences side with AD" % params[i])
    again = call("grad (second call)", lambda: ac.grad(f, wrt=wrt)(*given()))
    # (to same_rtol: BLAS and LAPACK may round a call differently from the one before, by an ulp; rules seed
    # 801567, scipy.linalg.logm's gradient, 4e-17 apart in one call of six)
    if not close(again, grads, spec.same_rtol):
        _wrong("second call", "a second call of the gradient gives %r, the first %r" % (again, grads))

    def same_value(v, what):
        ok = equal(v, value) and type(v) is type(value) if not spec.value_rtol else close(v, value, spec.value_rtol)
        if not ok:
            _wrong("value", "%s's value %r != f's value %r" % (what, v, value))

    # 2. value_and_grad
    v2, grads2 = call("value_and_grad", lambda: ac.value_and_grad(f, wrt=wrt)(*given()))
    same_args("value_and_grad")
    same_effects("value_and_grad")
    same_value(v2, "value_and_grad")
    if not close(grads2, grads, spec.same_rtol):  # (as the second call: an ulp of BLAS)
        _wrong("value_and_grad gradient", "value_and_grad's gradient %r != grad's %r" % (grads2, grads))

    # 3. a single wrt
    if spec.single_wrt:
        k = len(source) % len(wrt)
        single = call("grad(wrt=%s)" % params[wrt[k]], lambda: ac.grad(f, wrt=params[wrt[k]])(*given()))
        same_args("grad(wrt=%s)" % params[wrt[k]])
        if not close(single, grads[k], spec.same_rtol):
            _wrong("single wrt", "grad(wrt=%s) is %r, the tuple's entry %r" % (params[wrt[k]], single, grads[k]))

    # 4. vjp's pullback of 1.0
    if spec.scalar_vjp:
        v3, pullback = call("vjp", lambda: ac.vjp(f, wrt=wrt)(*given()))
        same_args("vjp")
        same_effects("vjp")
        same_value(v3, "vjp")
        cots = _attempt("pullback", lambda: pullback(1.0))
        same_args("the pullback")
        same_effects("the pullback")
        if not close(cots, grads, spec.same_rtol):
            _wrong("pullback", "vjp's pullback of 1.0 is %r, the gradient %r" % (cots, grads))

    # 5. vjp of the version returning arrays
    if getattr(program, "alt_ret", None) is not None:
        alt = program.source(alternative=True)
        fa = load_module(alt).f
        want = run_f(fa)
        out, pullback = call("vjp (array output)", lambda: ac.vjp(fa, wrt=wrt)(*given()))
        same_args("vjp (array output)")
        if not equal(out, want):
            _wrong("vjp value", "vjp's value %r != the function's value %r" % (out, want))
        ct = _cotangent(want, rng)
        cots = _attempt("pullback (array output)", lambda: pullback(ct))
        say("pullback of %r: %r" % (ct, cots))
        same_args("the pullback (array output)")
        if not equal(out, want):
            _wrong(
                "vjp value after pullback",
                "vjp's value changed by calling the pullback: %r, the function returns %r" % (out, want),
            )
        if not (isinstance(cots, tuple) and len(cots) == len(wrt)):
            _wrong("pullback structure", "the pullback returned %r" % (cots,))
        alt_probe = Probe(alt)
        alt_base = alt_probe.run(args)
        for k, i in enumerate(wrt):
            one = [rng.standard_normal(args[i].shape) if isinstance(args[i], np.ndarray) else 1.0]
            for d, fd in _differences(alt_probe, args, i, one, spec, alt_base, cotangent=ct):
                got = inner(cots[k], d)
                if relative_error(got, fd) > spec.rtol:
                    _wrong(
                        "pullback",
                        "pullback for %s: <cotangent, d> %r vs central differences %r" % (params[i], got, fd),
                    )

    # 8. forward mode: jvp along a random tangent is <gradient, tangent>, with f's value and effects
    tangents = tuple(rng.standard_normal(args[i].shape) if isinstance(args[i], np.ndarray) else 1.0 for i in wrt)
    reset()
    try:
        forward = ac.jvp(f, wrt=wrt)(*given(), tangents)
    except ac.UnsupportedError as e:
        if "forward mode (jvp)" not in str(e):  # a construct forward mode has no tangent for yet is allowed
            _wrong("jvp refused", "jvp raised %s while grad differentiates the program" % e)
        say("jvp: %s" % e)
    except Exception as e:  # noqa: BLE001 - anything else is a forward-mode bug
        _wrong("jvp crash", "jvp raised %s: %s" % (type(e).__name__, e))
    else:
        same_args("jvp")
        same_effects("jvp")
        if not close(forward[0], value, spec.value_rtol or 1e-12):
            _wrong("jvp value", "jvp's value %r != f's value %r" % (forward[0], value))
        expected = sum(inner(g, t) for g, t in zip(grads, tangents))
        if relative_error(forward[1], expected) > max(spec.same_rtol, 1e-8):
            _wrong("jvp", "jvp along %r gives %r, <gradient, tangent> is %r" % (tangents, forward[1], expected))

    # 6. f and its arguments are unchanged
    if _snapshot(f) != before_f:
        _wrong("function changed", "compiling changed f")
    same_args("f")
    with np.errstate(all="ignore"):
        again = run_f()
    if not equal(again, value):
        _wrong("function changed", "f now returns %r, before %r" % (again, value))
