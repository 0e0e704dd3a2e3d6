"""Run autograd's example programs with every derivative also taken by adjoint_compiler, and count.

    python benchmarks/conformance/autograd_examples.py                  # the examples of autograd's sdist
    python benchmarks/conformance/autograd_examples.py --corpus DIR     # a directory of them
    python benchmarks/conformance/autograd_examples.py -k gmm --show all

The examples (HIPS/autograd, ``examples/``: neural_net.py, gmm.py, fluidsim/wing.py ...) ship in autograd's
source distribution: without ``--corpus`` it is fetched with pip into the cache directory once (as
autograd_tests.py does) and its ``examples/`` used; a clone of the repository serves too
(``--corpus autograd/examples``). Nothing of them is kept in this repository.

Each example runs as a script twice, each time in a subprocess in an empty temporary directory, with
matplotlib replaced by a stand-in that draws nothing, MNIST (``data_mnist.mnist``) by random images of its
shapes, a PNG read by ``imread`` by random values of the file's channels at a fifth of its size, and the
few sizes of EDITS made smaller:

1. with autograd: every top-level call of a function made by ``grad``, ``value_and_grad``,
   ``elementwise_grad``, ``jacobian``, ``hessian``, ``hessian_vector_product`` (and the function
   ``check_grads`` checks) is a call of an *objective*: its arguments, autograd's result and the state of
   the random generators the objective reaches are saved;
2. with ``autograd.numpy`` as NumPy itself (the shim's mapping, ``autograd.extend.defvjp`` as
   ``ac.register_adjoint``, autograd's ``misc.flatten.flatten`` given an adjoint, its ``fixed_point`` a
   plain loop, its ``scipy.signal`` read from its source): the same calls at the same arguments. At the
   first CHECKED calls of each objective, adjoint_compiler's transform of the function (``ac.grad``,
   ``ac.value_and_grad``, ``ac.vjp``, ``ac.jacobian``, ``ac.hessian``, ``ac.hvp``) is compared with
   autograd's result and with central differences along a random direction (the generators reset before each
   evaluation, so a stochastic objective draws the same noise). Every call returns autograd's result, so the
   example follows autograd's path to its next objectives.

An example stops at its LIMIT-th objective call or after SECONDS seconds of run 1. Each objective ends in
one of: pass; refused (a CompileError located at the user's line, or the TypeError of ``ac.grad`` of an
output that is not a scalar, which autograd's grad takes where it has one element); WRONG (a derivative that
agrees with neither autograd nor the differences: the number that must stay 0); crash (any other exception,
or a refusal without a location). An example whose run 1 raises is listed as "original fails" (its
objectives met before still count); those built on autograd's tracer or boxes (AUTOGRAD_SPECIFIC) are not
counted. ``--scale 1.001`` multiplies our derivatives: every objective that passed should then be WRONG.
Exit status 1 if anything is WRONG or crashes.
"""

import argparse
import collections
import copy
import importlib.util
import inspect
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHECKED = 2  # calls checked per objective
LIMIT = 450  # objective calls per example
SECONDS = 8.0  # of run 1, after which the example stops at its next objective call
SCALE = "AC_EXAMPLES_SCALE"  # (environment) --scale: our results times this, to see the harness find them WRONG
SHRINK = 5  # imread's images, this many times smaller on each side
LOCATED = re.compile(r"\.py:\d+:\d+: error: ")
NOT_EXAMPLES = {"data.py", "data_mnist.py", "__init__.py"}
AUTOGRAD_SPECIFIC = {
    "dot_graph.py": "draws autograd's trace (autograd.tracer)",
    "print_trace.py": "prints autograd's trace (autograd.tracer)",
    "rkhs.py": "functions as autograd Boxes and VSpaces (autograd.extend.Box, VSpace)",
}
# smaller sizes, so that run 1 takes seconds: (file, text, replacement)
EDITS = [
    ("fluidsim.py", "simulation_timesteps = 100", "simulation_timesteps = 8"),
    ("wing.py", "simulation_timesteps = 20", "simulation_timesteps = 6"),
    ("convnet.py", "L2_reg = 1.0", "L2_reg = 1.0; batch_size = 16"),
]
OPS = ("grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian", "hessian_vector_product")
SCIPY_NAMES = ("special", "stats", "signal", "linalg", "integrate")
DISTRIBUTIONS = ("norm", "t", "gamma", "beta", "poisson", "multivariate_normal", "dirichlet", "chi2")


class Stop(BaseException):
    """Ends an example's run at an objective call (a BaseException: the example's ``except Exception``
    does not catch it)."""


# ---------------------------------------------------------------- the stand-ins both runs use


class _Anything:
    """matplotlib's figures, axes, colour maps ...: every attribute and call, and nothing drawn."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __iter__(self):
        return iter((_Anything(), _Anything()))

    def __getitem__(self, key):
        return _Anything()


def imread(path, *args, **kwargs):
    """Random values of the PNG's shape (its channels kept), SHRINK times smaller on each side."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    width, height = struct.unpack(">II", head[16:24])
    channels = {0: 0, 2: 3, 3: 3, 4: 2, 6: 4}[head[25]]
    shape = (height // SHRINK, width // SHRINK) + ((channels,) if channels else ())
    return np.random.default_rng(len(path)).random(shape)


def mnist(n_train=256, n_test=64):
    rng = np.random.default_rng(0)
    images = lambda n: rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)  # noqa: E731
    labels = lambda n: rng.integers(0, 10, size=n).astype(np.uint8)  # noqa: E731
    return images(n_train), labels(n_train), images(n_test), labels(n_test)


def install_stand_ins():
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__getattr__ = _Anything().__getattr__  # (dunders raise: inspect reads every module's __file__)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    plt = module("matplotlib.pyplot", imread=imread)
    module("matplotlib", pyplot=plt, image=module("matplotlib.image"), cm=module("matplotlib.cm"), use=_Anything())
    module("data_mnist", mnist=mnist)


# ---------------------------------------------------------------- random generators an objective reaches


def generators(fun):
    """NumPy's global RandomState and each RandomState/Generator reachable from ``fun`` (its closure,
    defaults and the globals its code reads, through the functions among them), in a fixed order."""
    found, seen, todo = [np.random.mtrand._rand], set(), [fun]
    while todo:
        f = todo.pop(0)
        if isinstance(f, Transform):
            todo.append(f.fun)
            continue
        if isinstance(f, (np.random.RandomState, np.random.Generator)):
            if not any(g is f for g in found):
                found.append(f)
            continue
        f = getattr(f, "__func__", f)
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        values = [c.cell_contents for c in (f.__closure__ or ()) if _filled(c)] + list(f.__defaults__ or ())
        codes, names = [f.__code__], []
        while codes:
            code = codes.pop(0)
            names.extend(code.co_names)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        values += [f.__globals__[n] for n in names if n in f.__globals__]
        todo.extend(values)
    return found


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def get_states(gens):
    return [g.get_state() if isinstance(g, np.random.RandomState) else g.bit_generator.state for g in gens]


def set_states(gens, states):
    for g, s in zip(gens, states):
        if isinstance(g, np.random.RandomState):
            g.set_state(s)
        else:
            g.bit_generator.state = s


# ---------------------------------------------------------------- the objective calls


class Run:
    """One run's state: its mode, what it recorded (run 1) or the record it follows (run 2)."""

    def __init__(self, mode, reference=None):
        self.mode, self.reference = mode, reference or {}
        self.calls = collections.Counter()
        self.total, self.started, self.busy = 0, time.time(), 0
        self.records, self.results = {}, collections.defaultdict(list)


RUN = None


def label_of(fun):
    if isinstance(fun, Transform):
        return fun.key
    code = getattr(getattr(fun, "__func__", fun), "__code__", None)
    if code is None or os.sep + "autograd" + os.sep in code.co_filename and "misc" not in code.co_filename:
        return getattr(fun, "__name__", repr(fun))  # (autograd's np.sqrt is a Python function, NumPy's not)
    return "%s@%s:%d" % (fun.__name__, os.path.basename(code.co_filename), code.co_firstlineno)


class Transform:
    """What ``grad(fun, argnum)`` (or another operator) makes: each top-level call is an objective call."""

    def __init__(self, op, fun, argnum=0):
        self.op, self.fun, self.argnum = op, fun, argnum
        self.key = "%s(%s%s)" % (op, label_of(fun), "" if argnum == 0 else ", argnum=%r" % (argnum,))
        self._autograd = self._ours = None

    def __call__(self, *args, **kwargs):
        if RUN.busy:
            return self.compute(*args, **kwargs)
        RUN.calls[self.key] += 1
        RUN.total += 1
        n = RUN.calls[self.key]
        if RUN.mode == "autograd":
            return self.record(n, args, kwargs)
        return self.follow(n, args, kwargs)

    def compute(self, *args, **kwargs):
        return (self.autograd() if RUN.mode == "autograd" else self.ours())(*args, **kwargs)

    def record(self, n, args, kwargs):
        if RUN.total > LIMIT or time.time() - RUN.started > SECONDS:
            raise Stop()
        gens = generators(self.fun)
        entry = {"states": get_states(gens), "count": len(gens)}
        try:
            entry["inputs"] = pickle.dumps((args, kwargs))
        except Exception as e:  # the objective still runs; run 2 checks it against differences only
            entry["inputs"] = None
            entry["unpicklable"] = "%s: %s" % (type(e).__name__, e)
        RUN.busy += 1
        try:
            result = self.compute(*args, **kwargs)
        except Exception as e:
            entry["error"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[:1])
            RUN.records[(self.key, n)] = entry
            raise
        finally:
            RUN.busy -= 1
        entry["after"] = get_states(gens)
        entry["result"] = pickle.dumps(result)
        RUN.records[(self.key, n)] = entry
        return result

    def follow(self, n, args, kwargs):
        entry = RUN.reference.get((self.key, n))
        if entry is None:
            raise Stop()  # where run 1 stopped (or an objective run 1 never called)
        gens = generators(self.fun)
        if len(gens) != entry["count"]:
            RUN.results[self.key].append(
                ("crash", "harness: %d generators, run 1 had %d" % (len(gens), entry["count"]))
            )
        elif n <= CHECKED and "result" in entry:
            RUN.busy += 1
            try:
                RUN.results[self.key].append(self.check(args, kwargs, entry, gens))
            finally:
                RUN.busy -= 1
        if "error" in entry:  # autograd's own call raised: so does the example
            raise RuntimeError("autograd raised here in run 1: %s" % entry["error"])
        set_states(gens, entry["after"])
        return pickle.loads(entry["result"])

    # ---- the two sides

    def ours(self):
        if self._ours is None:
            import adjoint_compiler as ac

            fun = self.fun.ours() if isinstance(self.fun, Transform) else as_compiled(self.fun)
            wrt = self.argnum
            if self.op == "elementwise_grad":
                self._ours = elementwise(fun, wrt, self.arity())
            elif self.op == "hessian_vector_product":
                self._ours = ac.hvp(fun, wrt=wrt)
            else:
                self._ours = getattr(ac, self.op)(fun, wrt=wrt)
        return self._ours

    def arity(self):
        """The number of positional parameters of the function at the bottom of the transforms, or None."""
        base = self.fun
        while isinstance(base, Transform):
            base = base.fun
        code = getattr(base, "__code__", None)
        return None if code is None or code.co_flags & inspect.CO_VARARGS else code.co_argcount

    def check(self, args, kwargs, entry, gens):
        """(result, detail) of ours against autograd's result and central differences at ``args``."""
        import adjoint_compiler as ac

        reference = pickle.loads(entry["result"])
        same_inputs = entry["inputs"] is not None and equal(pickle.loads(entry["inputs"]), (args, kwargs))
        try:
            set_states(gens, entry["states"])
            ours = scaled(self.ours()(*copy.deepcopy(args), **kwargs), float(os.environ.get(SCALE, "1")))
        except (ac.CompileError, NotImplementedError) as e:
            message = str(e).splitlines()[0]
            if isinstance(e, ac.CompileError) and LOCATED.search(message):
                return "refused", message
            return "crash", "unlocated %s: %s" % (type(e).__name__, message)
        except TypeError as e:
            if "use adjoint_compiler.vjp" in str(e):  # SPEC: grad of a non-scalar output (autograd's takes size 1)
                return "refused", "TypeError: %s" % str(e).splitlines()[0]
            return crashed(e)
        except Exception as e:
            return crashed(e)
        agrees = same_inputs and close(ours, reference)
        problem = (
            None
            if structure(ours) == structure(reference)
            else "structure %s, autograd's %s"
            % (
                structure(ours),
                structure(reference),
            )
        )
        try:
            fd = self.differences(args, kwargs, ours, entry, gens)
        except Exception as e:
            fd = ("differences failed: %s: %s" % (type(e).__name__, e), False)
        set_states(gens, entry["states"])
        if problem:
            return "WRONG", problem
        if agrees or fd[1]:
            how = (
                ("autograd" if agrees else "")
                + (" and " if agrees and fd[1] else "")
                + ("differences" if fd[1] else "")
            )
            return "pass", "agrees with " + how + ("" if same_inputs else " (inputs differ from run 1's)")
        return "WRONG", "autograd %s, %s" % ("differs" if same_inputs else "not comparable (inputs differ)", fd[0])

    def differences(self, args, kwargs, ours, entry, gens):
        """(description, agrees): our derivative along a random direction against central differences."""
        op, fun = self.op, self.fun
        if op in ("hessian", "hessian_vector_product"):
            return "no differences for second derivatives", False
        wrt = (self.argnum,) if isinstance(self.argnum, int) else tuple(self.argnum)
        rng = np.random.default_rng(1)
        xs = [args[i] for i in wrt]
        flat0 = flatten(xs)
        d = rng.standard_normal(flat0.size)
        d /= max(np.linalg.norm(d), 1e-300)
        h = 1e-6 * max(1.0, float(np.max(np.abs(flat0))) if flat0.size else 1.0)

        def at(t):
            moved = list(args)
            parts = unflatten(flat0 + t * d, xs)[0]
            for i, part in zip(wrt, parts):
                moved[i] = part
            set_states(gens, entry["states"])
            return flatten(call_plain(fun, moved, kwargs))

        slope = (at(h) - at(-h)) / (2 * h)
        grads = ours[1] if op == "value_and_grad" else ours
        if op == "jacobian":
            jac = np.reshape(np.asarray(grads, dtype=float), (slope.size, flat0.size))
            exact, approx = jac @ d, slope
        else:
            exact, approx = np.array([flatten(grads if len(wrt) > 1 else [grads]) @ d]), np.array([np.sum(slope)])
        ok = bool(np.allclose(exact, approx, rtol=1e-4, atol=1e-6 * max(1.0, float(np.max(np.abs(approx))))))
        return "derivative along a direction %s, differences %s" % (exact[:3], approx[:3]), ok


def crashed(e):
    where = traceback.extract_tb(e.__traceback__)[-1]
    return "crash", "%s: %s (at %s:%d)" % (
        type(e).__name__,
        str(e).splitlines()[:1],
        os.path.basename(where.filename),
        where.lineno,
    )


def scaled(v, k):
    """``v`` times ``k`` leaf by leaf (``--scale``: the harness checked, its WRONG found)."""
    if k == 1.0:
        return v
    if isinstance(v, (list, tuple)):
        return type(v)(scaled(e, k) for e in v)
    if isinstance(v, dict):
        return {key: scaled(e, k) for key, e in v.items()}
    return v * k


def call_plain(fun, args, kwargs):
    if isinstance(fun, Transform):
        return fun.compute(*args, **kwargs)
    return fun(*args, **kwargs)


def elementwise(fun, wrt, arity):
    """autograd's elementwise_grad: the vjp with a cotangent of ones, as a function of the compiler's
    (written to a file, FUN its global, so that it can be differentiated again)."""
    import adjoint_compiler as ac

    params = "*args" if arity is None else ", ".join("x%d" % i for i in range(arity))
    return _module_function(
        "def elementwise_grad(%s):\n"
        "    value, back = ac.vjp(FUN, wrt=%r)(%s)\n"
        "    return back(np.ones_like(value))\n" % (params, wrt, params),
        "elementwise_grad",
        FUN=fun,
        ac=ac,
        np=np,
    )


_WRAPPED = None


def as_compiled(fun):
    global _WRAPPED
    if _WRAPPED is None:  # the shim's: a one-line function with source around a callable without it
        spec = importlib.util.spec_from_file_location(
            "shim_wrapped", os.path.join(HERE, "shim", "autograd", "wrapped.py")
        )
        _WRAPPED = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_WRAPPED)
    return _WRAPPED.as_compiled(fun)


def _module_function(source, name, **globals_):
    path = os.path.join(tempfile.mkdtemp(prefix="ac_examples_"), "%s.py" % name)
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(globals_)
    spec.loader.exec_module(module)
    return getattr(module, name)


# ---------------------------------------------------------------- values


def leaves(v):
    if isinstance(v, (list, tuple)):
        for e in v:
            yield from leaves(e)
    elif isinstance(v, dict):
        for k in sorted(v, key=repr):
            yield from leaves(v[k])
    else:
        yield v


def flatten(v):
    parts = [np.ravel(np.asarray(e, dtype=float)) for e in leaves(v)]
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(flat, like):
    if isinstance(like, (tuple, list)):
        out, k = [], 0
        for e in like:
            part, n = unflatten(flat[k:], e)
            out.append(part)
            k += n
        return type(like)(out), k
    if isinstance(like, dict):
        out, k = {}, 0
        for key in sorted(like, key=repr):
            out[key], n = unflatten(flat[k:], like[key])
            k += n
        return {key: out[key] for key in like}, k
    if isinstance(like, np.ndarray):
        return np.reshape(flat[: like.size], like.shape).astype(like.dtype), like.size
    return type(like)(flat[0]) if isinstance(like, float) else flat[0], 1


def structure(v):
    if isinstance(v, (list, tuple)):
        return "%s[%s]" % (type(v).__name__, ", ".join(structure(e) for e in v))
    if isinstance(v, dict):
        return "{%s}" % ", ".join("%r: %s" % (k, structure(v[k])) for k in sorted(v, key=repr))
    return "array%s" % (np.shape(v),) if np.ndim(v) else "scalar"


def equal(a, b):
    try:
        return structure(a) == structure(b) and bool(np.array_equal(flatten(a), flatten(b), equal_nan=True))
    except (TypeError, ValueError):
        return False


def close(a, b):
    a, b = flatten(a), flatten(b)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-7 * scale, equal_nan=True))


# ---------------------------------------------------------------- the two runs' autograd


def check_grads_recorder(fun, argnum=0, modes=None, order=None, **kwargs):
    """autograd.test_util.check_grads(fun)(*args): an objective, the vjp of ``fun`` with a cotangent of ones."""
    return Transform("elementwise_grad", fun, argnum)


def patch_autograd(mode):
    """Run 1: autograd's operators record. Run 2: autograd.numpy is NumPy, the operators follow run 1."""
    import autograd
    import autograd.differential_operators
    import autograd.extend
    import autograd.misc.fixed_points
    import autograd.misc.flatten
    import autograd.misc.optimizers
    import autograd.scipy.integrate
    import autograd.scipy.signal
    import autograd.scipy.special
    import autograd.scipy.stats
    import autograd.test_util
    import autograd.util  # noqa: F401

    from adjoint_compiler import source

    real = {op: getattr(autograd, op) for op in OPS}
    for op in OPS:

        def make(fun, argnum=0, op=op):
            return Transform(op, fun, argnum)

        make.__name__ = op
        if op in ("grad", "value_and_grad"):  # a function calling grad(f)(x) is differentiated as one calling ac.grad
            setattr(make, source.MAKES_GRADIENT, op)
        setattr(autograd, op, make)
        setattr(autograd.differential_operators, op, make)
    autograd.test_util.check_grads = check_grads_recorder
    Transform.autograd = _autograd_of(real)
    if mode == "autograd":
        return
    import builtins

    import scipy
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats

    VIEWS.update({"autograd.numpy": np, "autograd.numpy.random": np.random, "autograd.numpy.linalg": np.linalg})
    VIEWS["autograd.numpy.fft"] = np.fft
    for name in SCIPY_NAMES:
        VIEWS["autograd.scipy." + name] = getattr(scipy, name)
    for name in DISTRIBUTIONS:
        VIEWS["autograd.scipy.stats." + name] = getattr(scipy.stats, name)
    VIEWS["autograd.builtins"] = view_module("autograd.builtins", tuple=tuple, list=list, dict=dict, type=type)
    VIEWS["autograd.builtins"].isinstance = isinstance
    VIEWS["autograd.extend"] = view_module("autograd.extend", primitive=lambda f: f, defvjp=defvjp_as_rule)
    VIEWS["autograd.misc.fixed_points"] = view_module(
        "autograd.misc.fixed_points", fixed_point=_module_function(FIXED_POINT, "fixed_point")
    )
    import adjoint_compiler as ac

    ac.register_adjoint(sys.modules["autograd.misc.flatten"].flatten, flatten_rule)
    real_import = builtins.__import__

    def viewing_import(name, globals=None, locals=None, fromlist=(), level=0):
        """``import autograd.numpy as np`` in an example (not in autograd itself) gives NumPy."""
        module = real_import(name, globals, locals, fromlist, level)
        importer = (globals or {}).get("__name__") or ""
        if level or name.split(".")[0] != "autograd" or importer.split(".")[0] == "autograd":
            return module
        if fromlist:
            return VIEWS.get(name, module)
        return View("autograd")

    builtins.__import__ = viewing_import
    # autograd's own functions that are not NumPy's or SciPy's: its source, read with the views (and its
    # defvjp ignored: the compiler differentiates the source, as a user's)
    VIEWS["autograd.scipy.signal"] = autograd_source("autograd.scipy.signal")


VIEWS = {}


class View:
    """A package seen from an example: its attributes, NumPy and SciPy where VIEWS says so."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        full = "%s.%s" % (self._name, attr)
        if full in VIEWS:
            return VIEWS[full]
        value = getattr(sys.modules[self._name], attr)
        return View(full) if isinstance(value, types.ModuleType) else value


def view_module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def autograd_source(name):
    path = sys.modules[name].__file__
    with open(path) as fh:
        text = fh.read()
    module = view_module("view_" + name)
    sys.modules[module.__name__] = module
    saved, VIEWS["autograd.extend"] = VIEWS["autograd.extend"], view_module("x", primitive=lambda f: f, defvjp=_ignored)
    try:
        exec(compile(text, path, "exec"), module.__dict__)
    finally:
        VIEWS["autograd.extend"] = saved
    return module


def _ignored(*args, **kwargs):
    return None


FIXED_POINT = '''def fixed_point(f, a, x0, distance, tol):
    """autograd.misc.fixed_points.fixed_point's iteration, differentiated through (autograd's rule is the
    implicit function theorem's: the two agree as the iteration converges)."""
    _f = f(a)
    x, x_prev = _f(x0), x0
    while distance(x, x_prev) > tol:
        x, x_prev = _f(x), x
    return x
'''


def flatten_rule(g, ans, value):
    """autograd.misc.flatten.flatten (autograd's own code, make_vjp inside) as a user would port it: a
    registered adjoint, its own unflatten taking the vector's cotangent back to the structure."""
    return ans[1](g[0] if g[0] is not None else np.zeros_like(ans[0]))


def defvjp_as_rule(fun, *makers, **kwargs):
    """autograd.extend.defvjp(fun, vjp_maker, ...) as ac.register_adjoint: maker(ans, *args)(g) per argument."""
    import adjoint_compiler as ac

    def rule(g, ans, *args):
        out = tuple(m(ans, *args)(g) if m is not None else None for m in makers)
        out += (None,) * (len(args) - len(out))
        return out[0] if len(args) == 1 else out

    ac.register_adjoint(fun, rule)


def _autograd_of(real):
    def autograd_(self):
        if self._autograd is None:
            fun = self.fun.autograd() if isinstance(self.fun, Transform) else self.fun
            self._autograd = real[self.op](fun, self.argnum)
        return self._autograd

    return autograd_


# ---------------------------------------------------------------- one run of one example (a subprocess)


def example_source(path):
    with open(path) as fh:
        text = fh.read()
    for name, old, new in EDITS:
        if os.path.basename(path) == name:
            text = text.replace(old, new)
    return text


def worker(mode, path, out, reference_path=None):
    global RUN
    reference = {}
    if reference_path:
        with open(reference_path, "rb") as fh:
            reference = pickle.load(fh)["records"]
    RUN = Run(mode, reference)
    install_stand_ins()
    patch_autograd(mode)
    sys.path[:0] = [os.path.dirname(path)]
    text = example_source(path)
    copy_path = os.path.join(os.getcwd(), os.path.basename(path))  # the source the compiler reads
    with open(copy_path, "w") as fh:
        fh.write(text)
    module = types.ModuleType("__main__")
    module.__file__ = path  # (the example reads files beside it)
    sys.modules["__main__"] = module
    np.random.seed(0)
    status = "finished"
    try:
        exec(compile(text, copy_path, "exec"), module.__dict__)
    except Stop:
        status = "stopped"
    except Exception as e:
        where = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == copy_path]
        line = where[-1].lineno if where else 0
        status = "raised %s at line %d: %s" % (type(e).__name__, line, str(e).splitlines()[:1])
    outcome = {"status": status, "calls": RUN.total, "seconds": time.time() - RUN.started}
    if mode == "autograd":
        outcome["records"] = RUN.records
    else:
        outcome["results"] = dict(RUN.results)
    with open(out, "wb") as fh:
        pickle.dump(outcome, fh)


# ---------------------------------------------------------------- the driver


def fetch_corpus(cache):
    sys.path.insert(0, HERE)
    from autograd_tests import fetch

    sdist = fetch(cache, None)
    into = os.path.join(cache, "autograd-examples", os.path.basename(sdist)[: -len(".tar.gz")])
    if not os.path.isdir(into):
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if "/examples/" in m.name and m.isfile()]
            for m in members:
                m.name = m.name.split("/examples/", 1)[1]
            tar.extractall(into, members=members)
    return into


def examples(corpus):
    found = []
    for folder, _, files in os.walk(corpus):
        for name in files:
            if name.endswith(".py") and name not in NOT_EXAMPLES:
                found.append(os.path.join(folder, name))
    return sorted(found, key=lambda p: os.path.relpath(p, corpus))


def run_worker(mode, path, out, reference, timeout):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode, path, out] + ([reference] if reference else [])
    work = tempfile.mkdtemp(prefix="ac_examples_%s_" % mode)
    try:
        done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ds" % timeout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not os.path.exists(out):
        return None, "worker failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1]
    with open(out, "rb") as fh:
        return pickle.load(fh), None


SEVERITY = ("crash", "WRONG", "refused", "pass")


def run_example(path, name, timeout, scratch):
    """[(objective, result, detail)] and a note on the example."""
    first = os.path.join(scratch, "autograd.pkl")
    second = os.path.join(scratch, "ours.pkl")
    for p in (first, second):
        if os.path.exists(p):
            os.remove(p)
    recorded, error = run_worker("autograd", path, first, None, timeout)
    if recorded is None:
        return [], "original fails", "run 1 " + error
    note = recorded["status"]
    if not recorded["records"]:
        kind = "original fails" if note.startswith("raised") else "no objective"
        return [], kind, note
    followed, error = run_worker("ours", path, second, first, timeout)
    if followed is None:
        return [], "crash", "run 2 " + error
    rows = []
    keys = list(dict.fromkeys(k for k, _ in recorded["records"]))
    for key in keys:
        outcomes = followed["results"].get(key)
        if not outcomes:
            errors = [e.get("error") for (k, _), e in recorded["records"].items() if k == key and "error" in e]
            if errors:
                rows.append((key, "original fails", errors[0]))
            else:
                rows.append((key, "crash", "run 2 never reached it (%s)" % followed["status"]))
            continue
        result, detail = min(outcomes, key=lambda o: SEVERITY.index(o[0]))
        rows.append((key, result, "%s [%d call(s) checked]" % (detail, len(outcomes))))
    kind = "original fails" if note.startswith("raised") else None
    return rows, kind, "%s after %d calls; run 2 %s" % (note, recorded["calls"], followed["status"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=None, help="a directory of autograd's examples")
    parser.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "adjoint_compiler"))
    parser.add_argument("--show", default="WRONG,crash,refused,original fails", help="results listed, or all")
    parser.add_argument("--timeout", type=int, default=240, help="seconds for one run of one example")
    parser.add_argument("--json", default=None, help="write the table to this file")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply our derivatives (checks the harness)")
    parser.add_argument("-k", default=None, help="only examples whose file name contains this")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    corpus = args.corpus or fetch_corpus(args.cache)
    os.environ[SCALE] = repr(args.scale)
    counts, table = collections.Counter(), []
    scratch = tempfile.mkdtemp(prefix="ac_examples_")
    try:
        for path in examples(corpus):
            name = os.path.relpath(path, corpus)
            if args.k and args.k not in name:
                continue
            started = time.time()
            if os.path.basename(path) in AUTOGRAD_SPECIFIC:
                rows, kind, note = [], "autograd-specific", AUTOGRAD_SPECIFIC[os.path.basename(path)]
            else:
                rows, kind, note = run_example(path, name, args.timeout, scratch)
            for objective, result, detail in rows:
                counts[result] += 1
                table.append((name, objective, result, detail))
            if kind:
                counts["example: " + kind] += 1
                table.append((name, "-", kind, note))
            print("%-40s %5.1fs  %s" % (name, time.time() - started, note), file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counted = sum(counts[k] for k in SEVERITY)
    print("autograd's examples (%s): %d objectives" % (corpus, counted))
    for kind in SEVERITY + ("original fails",):
        print("  %-17s %4d" % (kind, counts[kind]))
    for kind in ("original fails", "no objective", "autograd-specific", "crash"):
        if counts["example: " + kind]:
            print("  examples: %-8s %4d" % (kind, counts["example: " + kind]))
    shown = None if args.show == "all" else set(args.show.split(","))
    for name, objective, result, detail in table:
        if shown is None or result in shown:
            print("%s: %s  %s  %s" % (result, name, objective, detail))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([dict(zip(("example", "objective", "result", "detail"), row)) for row in table], fh, indent=1)
    return 1 if counts["WRONG"] or counts["crash"] or counts["example: crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
