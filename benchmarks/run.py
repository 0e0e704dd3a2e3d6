#!/usr/bin/env python
"""Benchmarks for adjoint_compiler: gradient cost relative to the original function.

    python benchmarks/run.py                 # full run (~0.2 s per sample, 7 samples)
    python benchmarks/run.py --quick         # smoke test (short samples)
    python benchmarks/run.py --json out.json # also write the results
    python benchmarks/run.py --case chain    # only cases whose name matches a regex
    python benchmarks/run.py --list          # list the cases

See benchmarks/README.md for how to read the table and how to add a case.
"""

import os

# Pin BLAS/OpenMP thread pools before NumPy is imported (by anything), so
# array cases measure one core and results are comparable between machines.
for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import tracemalloc  # noqa: E402
import types  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any, Callable, Optional  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)  # benchmark the working tree, not an installed copy
sys.path.insert(0, HERE)  # the case modules

import numpy as np  # noqa: E402

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler import pipeline  # noqa: E402

try:
    import autograd
    import autograd.numpy as anp
    import autograd.scipy.special as asp
except ImportError:  # optional peer
    autograd = None

try:
    import jax

    jax.config.update("jax_enable_x64", True)  # compare float64 with float64
    import jax.numpy as jnp
    import jax.scipy.special as jsp
except ImportError:  # optional peer
    jax = None


def load_module(path, name):
    """Import a .py file by path (examples/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


seed = load_module(os.path.join(ROOT, "examples", "seed.py"), "bench_examples_seed")
import cases_straight  # noqa: E402
import cases_numpy  # noqa: E402
import cases_calls  # noqa: E402
import cases_loops  # noqa: E402


# --------------------------------------------------------------------------
# The registry: one Case per row of the table.
# --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    fn: Callable  # defined in a module file (the compiler reads its source)
    args: tuple
    wrt: Any  # int, name, or tuple: passed as-is to ac.grad / autograd / jax
    size: str  # free text for the table: statements, inputs, n, shapes
    kind: str = "scalar"  # family, for grouping targets: "scalar", "loop", "numpy", ...
    # Informational targets, printed next to the measurement, never asserted:
    target_ratio: Optional[float] = None  # ours/orig at most this
    target_compile_ms: Optional[float] = None  # first call (compile) at most this
    # Peer versions. By default the function is rebuilt with its globals swapped
    # (math -> autograd.numpy shim, np -> autograd.numpy); give an explicit one
    # when that is not enough (e.g. the case writes globals or uses math.log(x, b)).
    autograd_fn: Optional[Callable] = None
    jax_fn: Optional[Callable] = None
    rtol: float = 1e-9  # max rel. diff to the reference above which the row is flagged
    notes: str = ""
    # Costly cases can opt out of parts of the run:
    peers: bool = True  # run autograd / JAX (False: not timed; reference = baseline or fd)
    jit: bool = True  # also jax.jit (False when jit cannot trace the case or would unroll it)
    time_compile: bool = True  # the compile column (False when one run of the gradient dominates it)
    emitted: bool = True  # the emitted/orig column (False when the wrapper's share is negligible)
    # Loops: tapes and peak memory (the "Loops" table), and comparison with a baseline case
    memory: bool = False  # count tape values (ac.tape_stats), tracemalloc peak
    target_tape: Optional[int] = None  # tape values at most this
    target_tape_bytes: Optional[int] = None  # tape memory (arrays owning data, 8 per number) at most this
    reference: Optional[Callable] = None  # a hand-written gradient (flat), when there are no peers
    by_hand: Optional[Callable] = None  # a hand-written adjoint (same args, gradient as ac.grad returns it): timed
    baseline: Optional[str] = None  # name of the case this one is compared with
    target_baseline_ratio: Optional[float] = None  # ours / baseline's ours at most this
    target_peak_fraction: Optional[float] = None  # peak / baseline's peak at most this


STRAIGHT_RATIO = 3.0  # straight-line scalar: gradient <= 3x the original
COMPILE_20_MS = 20.0  # compile of a 20-line function <= 20 ms
LOOP_RATIO = 3.0  # scalar loops: gradient <= 3x the original
CHECKPOINT_RATIO = 4.0  # checkpointed loop: gradient <= 4x the plain loop's gradient
CHECKPOINT_PEAK = 0.01  # ... with a peak memory <= 1% of the plain loop's

CASES = [
    Case("seed_f", seed.f, (1.5, -2.0), (0, 1), "5 stmts, 2 in", target_ratio=STRAIGHT_RATIO),
    Case("seed_g", seed.g, (0.8,), 0, "1 stmt, 1 in", target_ratio=STRAIGHT_RATIO),
    Case("chain50", cases_straight.chain50, (0.7, -1.3, 2.1), (0, 1, 2), "50 stmts, 3 in", target_ratio=STRAIGHT_RATIO),
    Case(
        "black_scholes",
        cases_straight.black_scholes,
        (100.0, 95.0, 0.03, 0.25, 0.75),
        (0, 1, 2, 3, 4),
        "20 lines, 5 in",
        target_ratio=STRAIGHT_RATIO,
        target_compile_ms=COMPILE_20_MS,
    ),
    Case(
        "recurrence",
        cases_loops.recurrence,
        (0.5, 10_000),
        0,
        "n=10^4",
        kind="loop",
        target_ratio=LOOP_RATIO,
        jit=False,
        memory=True,
        target_tape=10_000 + 16,
    ),
    Case(
        "newton",
        cases_loops.newton_cubic,
        (2.0, 5.0),
        (0, 1),
        "while, 7 iters",
        kind="loop",
        target_ratio=LOOP_RATIO,
        jit=False,
        memory=True,
        by_hand=cases_loops.newton_cubic_by_hand,
    ),
    # Checkpointing at n = 10^5: the plain loop is the baseline of the two checkpointed
    # versions. autograd takes 10-30 s per gradient here, so the peers are off: the plain
    # row is checked with central differences, the checkpointed ones against the plain one.
    Case(
        "recurrence_1e5",
        cases_loops.recurrence,
        (0.5, 100_000),
        0,
        "n=10^5",
        kind="checkpoint",
        target_ratio=LOOP_RATIO,
        peers=False,
        time_compile=False,
        emitted=False,
        memory=True,
        target_tape=100_000 + 16,
    ),
    Case(
        "ckpt_1e5",
        cases_loops.recurrence_checkpointed,
        (0.5, 100_000),
        0,
        "n=10^5, snapshots=sqrt(n)",
        kind="checkpoint",
        peers=False,
        time_compile=False,
        emitted=False,
        memory=True,
        baseline="recurrence_1e5",
        target_baseline_ratio=CHECKPOINT_RATIO,
        target_peak_fraction=CHECKPOINT_PEAK,
    ),
    Case(
        "ckpt100_1e5",
        cases_loops.recurrence_checkpointed_100,
        (0.5, 100_000),
        0,
        "n=10^5, snapshots=100",
        kind="checkpoint",
        peers=False,
        time_compile=False,
        emitted=False,
        memory=True,
        baseline="recurrence_1e5",
        target_baseline_ratio=CHECKPOINT_RATIO,
        target_peak_fraction=CHECKPOINT_PEAK,
    ),
    Case(
        "rk4",
        cases_calls.rk4,
        (2.0, 0.3),
        (0, 1),
        "100 steps, helper returns a tuple",
        kind="calls",
        target_ratio=3.0,
        rtol=1e-8,
    ),
    Case(
        "rosen_list_100",
        cases_calls.rosenbrock_list,
        (cases_calls.LIST_100,),
        0,
        "list of 100 floats",
        kind="calls",
        target_ratio=3.0,
        rtol=1e-8,
        peers=False,
        by_hand=cases_calls.rosenbrock_list_by_hand,
    ),
    Case(
        "rosen_list_1000",
        cases_calls.rosenbrock_list,
        (cases_calls.LIST_1000,),
        0,
        "list of 1000 floats",
        kind="calls",
        target_ratio=3.0,
        rtol=1e-8,
        peers=False,
        by_hand=cases_calls.rosenbrock_list_by_hand,
    ),
    Case(
        "horner_100",
        cases_calls.horner,
        (cases_calls.LIST_100, 0.7),
        (0, 1),
        "100 coefficients",
        kind="calls",
        target_ratio=3.0,
        rtol=1e-8,
        peers=False,
        by_hand=cases_calls.horner_by_hand,
    ),
    Case(
        "horner_1000",
        cases_calls.horner,
        (cases_calls.LIST_1000, 0.7),
        (0, 1),
        "1000 coefficients",
        kind="calls",
        target_ratio=3.0,
        rtol=1e-8,
        peers=False,
        by_hand=cases_calls.horner_by_hand,
    ),
    Case(
        "mlp",
        cases_numpy.mlp_loss,
        cases_numpy.MLP_ARGS,
        (0, 1, 2, 3),
        "tanh, batch 64, width 256",
        kind="numpy",
        target_ratio=2.7,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.mlp_loss_by_hand,
    ),
    Case(
        "logreg",
        cases_numpy.logreg_loss,
        cases_numpy.LOGREG_ARGS,
        (0, 1),
        "10^4 x 100, log-sum-exp",
        kind="numpy",
        target_ratio=2.7,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.logreg_loss_by_hand,
    ),
    # the small sizes (task emit14), where per-call overhead of the emitted code shows
    Case(
        "mlp32",
        cases_numpy.mlp_loss,
        cases_numpy.MLP32_ARGS,
        (0, 1, 2, 3),
        "tanh, batch 64, width 32",
        kind="numpy",
        target_ratio=2.5,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.mlp_loss_by_hand,
    ),
    Case(
        "logreg_small",
        cases_numpy.logreg_loss,
        cases_numpy.LOGREG_SMALL_ARGS,
        (0, 1),
        "100 x 10, log-sum-exp",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.logreg_loss_by_hand,
    ),
    Case(
        "rnn",
        cases_numpy.rnn_loss,
        cases_numpy.RNN_ARGS,
        (0, 1),
        "tanh, 100 steps, hidden 64, batch 16",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.rnn_loss_by_hand,
    ),
    Case(
        "rosenbrock",
        cases_numpy.rosenbrock,
        cases_numpy.ROSEN_ARGS,
        0,
        "slices, n=10^6",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
        by_hand=cases_numpy.rosenbrock_by_hand,
    ),
    # small arrays cut and joined every step (np.split, np.concatenate, np.stack): the joins' adjoints
    Case(
        "joins",
        cases_numpy.joined_rollout,
        cases_numpy.JOINS_ARGS,
        (0, 1),
        "50 steps of split + concatenate, 8 values",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
    ),
    # u[1:-1] = ... in place; autograd and JAX refuse item assignment, so there are no peers
    Case(
        "heat",
        cases_numpy.heat,
        cases_numpy.HEAT_ARGS,
        0,
        "in place, 100 steps on 10^4 points, d/du0",
        kind="numpy",
        target_ratio=4.0,
        time_compile=False,
        rtol=1e-8,
        peers=False,
        memory=True,
        target_tape_bytes=cases_numpy.HEAT_STEPS * (cases_numpy.HEAT_N - 2) * 8,
        reference=lambda *a: cases_numpy.heat_by_hand(*a)[:-1],
    ),
    # with kappa too, each step's stencil (one interior slice) is taped: 8 MB of fresh memory
    Case(
        "heat_kappa",
        cases_numpy.heat,
        cases_numpy.HEAT_ARGS,
        (0, 1),
        "the same, d/du0 and d/dkappa",
        kind="numpy",
        target_ratio=4.0,
        time_compile=False,
        rtol=1e-8,
        peers=False,
        memory=True,
        target_tape_bytes=cases_numpy.HEAT_STEPS * (cases_numpy.HEAT_N - 2) * 8,
        reference=cases_numpy.heat_by_hand,
    ),
    # np.linalg (task linalg13): the adjoints of cholesky (Murray 2016) and svd (Townsend 2016) on 200 x 200.
    # References by hand (autograd's cholesky gradient is symmetric, ours is on the triangle NumPy reads).
    Case(
        "cholesky200",
        cases_numpy.cholesky_logdet,
        cases_numpy.SPD_ARGS,
        0,
        "log det via cholesky, 200 x 200",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
        peers=False,
        reference=cases_numpy.cholesky_logdet_by_hand,
    ),
    Case(
        "svd200",
        cases_numpy.nuclear_norm,
        cases_numpy.SVD_ARGS,
        0,
        "sum of singular values (U, V too), 200 x 200",
        kind="numpy",
        target_ratio=3.0,
        time_compile=False,
        rtol=1e-8,
        peers=False,
        reference=cases_numpy.nuclear_norm_by_hand,
    ),
]


# --------------------------------------------------------------------------
# Peer versions of a case: same bytecode, globals swapped to the peer's NumPy.
# --------------------------------------------------------------------------

_MATH_RENAMES = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "pow": "power",
    "fabs": "abs",
}
_MATH_FUNCS = ("sin cos tan sinh cosh tanh exp expm1 log log1p log2 log10 sqrt hypot floor ceil trunc copysign").split()


def math_shim(np_like, special):
    """A stand-in for the math module whose functions are the peer's (differentiable) ones."""
    ns = {n: getattr(math, n) for n in dir(math) if not n.startswith("_")}  # constants, the rest
    for n in _MATH_FUNCS:
        if hasattr(np_like, n):
            ns[n] = getattr(np_like, n)
    for n, m in _MATH_RENAMES.items():
        if hasattr(np_like, m):
            ns[n] = getattr(np_like, m)
    for n in ("erf", "erfc"):
        if hasattr(special, n):
            ns[n] = getattr(special, n)
    return types.SimpleNamespace(**ns)


def translate(fn, np_like, special):
    """``fn`` with the same code but math/numpy (and functions taken from them) replaced
    by the peer's versions. User functions sharing fn's globals are translated too."""
    shim = math_shim(np_like, special)
    old = fn.__globals__
    new = dict(old)
    for name, value in old.items():
        if value is math:
            new[name] = shim
        elif value is np:
            new[name] = np_like
        elif getattr(value, "__module__", None) == "math" and hasattr(shim, getattr(value, "__name__", "")):
            new[name] = getattr(shim, value.__name__)  # from math import sin
        elif (
            isinstance(value, (np.ufunc, types.FunctionType))
            and hasattr(np, getattr(value, "__name__", ""))
            and getattr(np, value.__name__) is value
            and hasattr(np_like, value.__name__)
        ):
            new[name] = getattr(np_like, value.__name__)  # from numpy import sin
    for name, value in old.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is old:
            new[name] = _rebuild(value, new)

    return _rebuild(fn, new)


def _rebuild(fn, globals_):
    out = types.FunctionType(fn.__code__, globals_, fn.__name__, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    out.__qualname__ = fn.__qualname__
    return out


def fresh_copy(fn):
    """A new function object with a copy of fn's code and its globals: the compile cache misses on it, and so
    does the compiler's parse of each code object's source (source.py), as for a function compiled the
    first time."""
    out = _rebuild(fn, fn.__globals__)
    out.__code__ = fn.__code__.replace()
    return out


# --------------------------------------------------------------------------
# Timing: timeit-style, adaptive loop count, interleaved samples, median.
# --------------------------------------------------------------------------


def _loop_ns(fn, args, n):
    it = itertools.repeat(None, n)
    t0 = time.perf_counter_ns()
    for _ in it:
        fn(*args)
    return time.perf_counter_ns() - t0


def calibrate(fn, args, target_s, known_ns=None):
    """Loops per sample so that one sample takes about ``target_s`` (also warms up).
    ``known_ns``: one earlier call's time (compile-free); if it already exceeds a whole
    sample, the answer is 1 and ``fn`` is not called (it has been warmed up already)."""
    target = target_s * 1e9
    if known_ns is not None and known_ns >= target:
        return 1
    n = 1
    while True:
        t = _loop_ns(fn, args, n)
        if t >= target / 10 or n >= 1 << 30:
            break
        n *= 10 if t < target / 1000 else 2
    return max(1, int(round(n * target / max(t, 1))))


def measure(callables, args, target_s, samples, known_ns=None):
    """Median ns per call for each of ``callables`` (a dict), samples interleaved
    round-robin so slow drift of the machine affects all of them alike."""
    known_ns = known_ns or {}
    loops = {k: calibrate(fn, args, target_s, known_ns.get(k)) for k, fn in callables.items()}
    per_call = {k: [] for k in callables}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            for k, fn in callables.items():
                per_call[k].append(_loop_ns(fn, args, loops[k]) / loops[k])
    finally:
        if gc_was_enabled:
            gc.enable()
    return {
        k: {"ns": statistics.median(v), "min_ns": min(v), "max_ns": max(v), "loops": loops[k], "samples": len(v)}
        for k, v in per_call.items()
    }


def measure_compile(case, repeats):
    """Median ms of the first ac.grad call on a fresh function object (parse + passes + load
    + one run). One untimed compile first, so one-off imports are not counted."""
    ac.grad(fresh_copy(case.fn), case.wrt)(*case.args)
    times = []
    for _ in range(repeats):
        g = ac.grad(fresh_copy(case.fn), case.wrt)
        t0 = time.perf_counter_ns()
        g(*case.args)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return {"ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "repeats": repeats}


# --------------------------------------------------------------------------
# Correctness: our gradient against autograd (or central differences).
# --------------------------------------------------------------------------


def _flat(grads, wrt):
    parts = grads if isinstance(wrt, (tuple, list)) else (grads,)
    return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts])


def max_rel_diff(ours, ref):
    """max_i |ours_i - ref_i| / max(|ref_i|, 1e-8 * max|ref|): relative, but a component
    that is ~0 next to large ones is judged against the scale of the gradient."""
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-300)
    denom = np.maximum(np.abs(ref), 1e-8 * scale)
    return float(np.max(np.abs(ours - ref) / denom)) if ref.size else 0.0


def _param_index(fn, w):
    return fn.__code__.co_varnames[: fn.__code__.co_argcount].index(w) if isinstance(w, str) else w


def finite_difference(case, max_components=2000):
    """Central differences, for when autograd is not installed (h ~ 1e-6 relative)."""
    wrt = case.wrt if isinstance(case.wrt, (tuple, list)) else (case.wrt,)
    out = []
    for w in wrt:
        i = _param_index(case.fn, w)
        x0 = np.asarray(case.args[i], dtype=float)
        if x0.size > max_components:
            raise ValueError("too many components (%d) for finite differences" % x0.size)
        g = np.zeros(x0.size)
        for j in range(x0.size):
            h = 1e-6 * max(1.0, abs(float(x0.flat[j])))
            vals = []
            for sign in (1, -1):
                x = x0.copy()
                x.flat[j] += sign * h
                args = list(case.args)
                if np.ndim(case.args[i]) == 0:
                    args[i] = float(x)
                elif isinstance(case.args[i], list):
                    args[i] = [float(v) for v in x]  # keep the container type the function expects
                else:
                    args[i] = x
                vals.append(float(case.fn(*args)))
            g[j] = (vals[0] - vals[1]) / (2 * h)
        out.append(g)
    return np.concatenate(out)


# --------------------------------------------------------------------------
# Running a case.
# --------------------------------------------------------------------------


def _wrt_indices(case):
    wrt = case.wrt if isinstance(case.wrt, (tuple, list)) else (case.wrt,)
    return tuple(_param_index(case.fn, w) for w in wrt)


def _is_scalar(a):
    return type(a) in (float, int) or isinstance(a, np.number) or (isinstance(a, np.ndarray) and a.ndim == 0)


def _short_error(e):
    return "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else "")


def measure_memory(case, grad_fn):
    """Values stored on tapes (ac.tape_stats) and the tracemalloc peak of one gradient call
    (bytes allocated and still alive at the worst moment, over what was alive before)."""
    out = {}
    stats = ac.tape_stats(case.fn, case.wrt)(*case.args)
    out["tape_values"] = stats["total"]
    out["tape_bytes"] = stats["bytes"]
    out["tape_loops"] = [{"line": e["line"], "names": e["names"], "values": e["values"]} for e in stats["loops"]]
    # grad_fn has run before (timing), so nothing is compiled or cached during the measured
    # call. gc.collect() also empties the float/tuple free lists, so every object the call
    # creates is a new, traced allocation (not a recycled block allocated before tracing).
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        grad_fn(*case.args)
        out["peak_bytes"] = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return out


def run_case(case, target_s, samples, compile_repeats, done=None):
    """Measure one case. ``done`` maps the names of cases already run to their results
    (for a case with a ``baseline``)."""
    done = done or {}
    res = {
        "name": case.name,
        "size": case.size,
        "kind": case.kind,
        "errors": {},
        "target_ratio": case.target_ratio,
        "target_compile_ms": case.target_compile_ms,
        "target_tape": case.target_tape,
        "target_tape_bytes": case.target_tape_bytes,
        "baseline": case.baseline,
        "target_baseline_ratio": case.target_baseline_ratio,
        "target_peak_fraction": case.target_peak_fraction,
    }
    callables = {"orig": case.fn}
    known_ns = {}  # one compile-free call's time, to skip calibrating very slow callables

    # ours: the public API after a warm-up call (compile excluded), and the bare emitted
    # function (the same code, without the API wrapper's argument and result handling)
    try:
        ours = ac.grad(case.fn, case.wrt)
        ours_grad = ours(*case.args)
        callables["ours"] = ours
        res["_ours"] = ours
    except Exception as e:
        res["errors"]["ours"] = _short_error(e)
        res["traceback"] = traceback.format_exc()
        ours_grad = None
    if ours_grad is not None:
        res["_grad"] = _flat(ours_grad, case.wrt)
    if ours_grad is not None and case.emitted:
        try:
            kinds = tuple(i for i, a in enumerate(case.args) if _is_scalar(a))
            emitted = pipeline.compile(case.fn, _wrt_indices(case), "grad", kinds).function
            emitted(*case.args)
            callables["emitted"] = emitted
        except Exception as e:
            res["errors"]["emitted"] = _short_error(e)

    if case.by_hand is not None:
        callables["hand"] = case.by_hand

    ref, ref_kind = None, None
    if autograd is not None and case.peers:
        try:
            ag_fn = case.autograd_fn or translate(case.fn, anp, asp)
            ag = autograd.grad(ag_fn, case.wrt)
            t0 = time.perf_counter_ns()
            ref, ref_kind = _flat(ag(*case.args), case.wrt), "autograd"
            known_ns["autograd"] = time.perf_counter_ns() - t0
            callables["autograd"] = ag
        except Exception as e:
            res["errors"]["autograd"] = _short_error(e)
    if jax is not None and case.peers:
        try:
            jx_fn = case.jax_fn or translate(case.fn, jnp, jsp)
            jg = jax.grad(jx_fn, argnums=case.wrt)
            block = jax.block_until_ready
            jax_grad = jg(*case.args)
            callables["jax"] = lambda *a: block(jg(*a))
            if ref is None:
                ref, ref_kind = _flat(jax_grad, case.wrt), "jax"
        except Exception as e:
            res["errors"]["jax"] = _short_error(e)
        if "jax" in callables and case.jit:
            try:
                jjit = jax.jit(jg)
                jjit(*case.args)
                callables["jax_jit"] = lambda *a: block(jjit(*a))
            except Exception as e:
                res["errors"]["jax_jit"] = _short_error(e)
    if ref is None and case.reference is not None:
        ref, ref_kind = np.asarray(case.reference(*case.args), dtype=float), "by hand"
    if case.by_hand is not None and ours_grad is not None:
        hand = _flat(case.by_hand(*case.args), case.wrt)
        if ref is None:
            ref, ref_kind = hand, "by hand"
        elif hand.shape != res["_grad"].shape or max_rel_diff(res["_grad"], hand) > max(case.rtol, 1e-8):
            res["errors"]["hand"] = "the by-hand adjoint differs from our gradient"
    if ref is None and case.baseline is not None and "_grad" in done.get(case.baseline, {}):
        ref, ref_kind = done[case.baseline]["_grad"], "baseline"
    if ref is None:
        try:
            ref, ref_kind = finite_difference(case), "fd"
        except Exception as e:
            res["errors"]["fd"] = _short_error(e)

    if ours_grad is not None and ref is not None:
        ours_flat = res["_grad"]
        if ref_kind == "fd":
            ours_flat = ours_flat[: ref.size] if ours_flat.size == ref.size else ours_flat
        if ref_kind == "fd":  # differences carry ~1e-10 absolute noise: judge against the gradient's scale
            diff = float(np.max(np.abs(ours_flat - ref))) / max(1.0, float(np.max(np.abs(ref)))) if ref.size else 0.0
        else:
            diff = max_rel_diff(ours_flat, ref)
        res["check"] = {
            "reference": ref_kind,
            "max_rel_diff": diff,
            "ok": diff <= (case.rtol if ref_kind != "fd" else 1e-5),
        }

    # the baseline's gradient (same arguments) is timed again here, interleaved with ours,
    # so that ours/baseline is not skewed by the machine's drift between the two rows
    base = done.get(case.baseline) if case.baseline else None
    if base is not None and "_ours" in base and "ours" in callables:
        callables["baseline"] = base["_ours"]
        known_ns["baseline"] = base["timing"]["ours"]["ns"]

    res["timing"] = measure(callables, case.args, target_s, samples, known_ns)
    orig = res["timing"]["orig"]["ns"]
    res["ratios"] = {k: v["ns"] / orig for k, v in res["timing"].items() if k != "orig"}
    if ours_grad is not None and case.time_compile:
        try:
            res["compile"] = measure_compile(case, compile_repeats)
        except Exception as e:
            res["errors"]["compile"] = _short_error(e)
    if ours_grad is not None and case.memory:
        try:
            res["memory"] = measure_memory(case, ours)
        except Exception as e:
            res["errors"]["memory"] = _short_error(e)

    if "baseline" in res["timing"]:
        res["vs_baseline"] = {"ours": res["timing"]["ours"]["ns"] / res["timing"]["baseline"]["ns"]}
        if "memory" in res and "memory" in base:
            res["vs_baseline"]["peak"] = res["memory"]["peak_bytes"] / max(base["memory"]["peak_bytes"], 1)
    return res


# --------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------

COLUMNS = (
    "case",
    "size",
    "original (µs)",
    "ours (µs)",
    "ours/orig",
    "emitted/orig",
    "by-hand/orig",
    "autograd/orig",
    "jax/orig",
    "jax-jit/orig",
    "compile (ms)",
    "max rel diff",
)


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def row(res):
    t, r = res.get("timing", {}), res.get("ratios", {})
    us = lambda k: t[k]["ns"] / 1e3 if k in t else None  # noqa: E731
    check = res.get("check")
    diff = "-"
    if check:
        diff = "%.1e%s%s" % (
            check["max_rel_diff"],
            "" if check["reference"] == "autograd" else " (%s)" % check["reference"],
            "" if check["ok"] else " WRONG",
        )
    ours = _fmt(us("ours"), ".3g") if "ours" in t else ("ERROR" if "ours" in res["errors"] else "-")
    comp = res.get("compile", {}).get("ms")
    return (
        res["name"],
        res["size"],
        _fmt(us("orig"), ".3g"),
        ours,
        _fmt(r.get("ours"), ".2f"),
        _fmt(r.get("emitted"), ".2f"),
        _fmt(r.get("hand"), ".2f"),
        _fmt(r.get("autograd"), ".1f"),
        _fmt(r.get("jax"), ".0f"),
        _fmt(r.get("jax_jit"), ".1f"),
        _fmt(comp, ".1f"),
        diff,
    )


def table(rows, columns=COLUMNS, left=(0, 1)):
    """Columns in ``left`` (indices) are left-aligned, the others right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(columns, *rows)]
    line = lambda cells: " | ".join(
        str(c).ljust(w) if i in left else str(c).rjust(w)  # noqa: E731
        for i, (c, w) in enumerate(zip(cells, widths))
    )
    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


LOOP_COLUMNS = (
    "case",
    "size",
    "tapes: line [names pushed per iteration]",
    "tape values",
    "peak (KiB)",
    "peak B/value",
    "baseline",
    "ours/baseline",
    "peak/baseline",
)
LOOP_LEFT = (0, 1, 2, 6)


def loop_row(res):
    mem = res.get("memory", {})
    vs = res.get("vs_baseline", {})
    loops = "; ".join("%s [%s]" % (e["line"], ", ".join(e["names"])) for e in mem.get("tape_loops", [])) or "-"
    peak = mem.get("peak_bytes")
    checkpointed = any(n.startswith("checkpointed") for e in mem.get("tape_loops", []) for n in e["names"])
    per_value = peak / mem["tape_values"] if peak is not None and mem.get("tape_values") and not checkpointed else None
    return (
        res["name"],
        res["size"],
        loops,
        _fmt(mem.get("tape_values"), "d"),
        _fmt(None if peak is None else peak / 1024, ".1f"),
        _fmt(per_value, ".1f"),
        res.get("baseline") or "-",
        _fmt(vs.get("ours"), ".2f"),
        "-" if vs.get("peak") is None else "%.2f%%" % (100 * vs["peak"]),
    )


def targets_report(results):
    lines = []
    for res in results:
        ratio = res.get("ratios", {}).get("ours")
        if res["target_ratio"] is not None and ratio is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "gradient",
                    "%.2fx" % ratio,
                    "%gx" % res["target_ratio"],
                    "ok" if ratio <= res["target_ratio"] else "ABOVE TARGET",
                )
            )
        comp = res.get("compile", {}).get("ms")
        if res["target_compile_ms"] is not None and comp is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "compile",
                    "%.1f ms" % comp,
                    "%g ms" % res["target_compile_ms"],
                    "ok" if comp <= res["target_compile_ms"] else "ABOVE TARGET",
                )
            )
        tape = res.get("memory", {}).get("tape_values")
        if res["target_tape"] is not None and tape is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "tape",
                    tape,
                    res["target_tape"],
                    "ok" if tape <= res["target_tape"] else "ABOVE TARGET",
                )
            )
        size = res.get("memory", {}).get("tape_bytes")
        if res.get("target_tape_bytes") is not None and size is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "tape B",
                    size,
                    res["target_tape_bytes"],
                    "ok" if size <= res["target_tape_bytes"] else "ABOVE TARGET",
                )
            )
        vs = res.get("vs_baseline", {})
        if res["target_baseline_ratio"] is not None and vs.get("ours") is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "vs base",
                    "%.2fx" % vs["ours"],
                    "%gx" % res["target_baseline_ratio"],
                    "ok" if vs["ours"] <= res["target_baseline_ratio"] else "ABOVE TARGET",
                )
            )
        if res["target_peak_fraction"] is not None and vs.get("peak") is not None:
            lines.append(
                ("  %-16s %-9s %8s  target <= %-7s %s")
                % (
                    res["name"],
                    "peak",
                    "%.2f%%" % (100 * vs["peak"]),
                    "%g%%" % (100 * res["target_peak_fraction"]),
                    "ok" if vs["peak"] <= res["target_peak_fraction"] else "ABOVE TARGET",
                )
            )
    return lines


def _version(mod):
    return getattr(mod, "__version__", None) if mod is not None else None


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "adjoint_compiler"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def call_overhead_ns(target_s, samples):
    """The cost of the timing loop plus a call, included in every figure."""
    return measure({"noop": lambda *a: None}, (1.0, 2.0), target_s, samples)["noop"]["ns"]


# Forward mode and second order (issue targets: jvp <= 2x f on the scalar loop and RK4; hvp <= 3x the
# gradient on the MLP and the scalar loop). Tangents are random, fixed by the seed.
FORWARD_CASES = ("seed_f", "black_scholes", "recurrence", "rk4", "mlp", "rnn", "heat", "joins")
HVP_CASES = ("seed_f", "recurrence", "rk4", "mlp", "joins")
JVP_TARGET, HVP_TARGET = 2.0, 3.0
JVP_BY_HAND = {"recurrence": cases_loops.recurrence_jvp_by_hand}  # hand-written tangent code: the floor


def _tangent(args, wrt_idx, rng):
    t = tuple(rng.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else 1.0 for i in wrt_idx)
    return t[0] if len(t) == 1 else t


def forward_rows(cases, target_s, samples):
    """jvp / f and hvp / grad for the cases that have them, with autograd's where it runs them."""
    rows = []
    rng = np.random.default_rng(0)
    for case in cases:
        if case.name not in FORWARD_CASES:
            continue
        wrt_idx, single = ac.api.normalize_wrt(case.fn, case.wrt)
        args = tuple(case.args)
        t = _tangent(args, wrt_idx, rng)
        calls = {"f": case.fn, "jvp": lambda *a, _j=ac.jvp(case.fn, case.wrt), _t=t: _j(*a, _t)}
        row = {"name": case.name, "size": case.size, "errors": {}}
        if case.name in JVP_BY_HAND:
            calls["jvp_hand"] = lambda *a, _j=JVP_BY_HAND[case.name], _t=t: _j(*a, _t)
        if case.name in HVP_CASES:
            calls["grad"] = ac.grad(case.fn, case.wrt)
            calls["hvp"] = lambda *a, _h=ac.hvp(case.fn, case.wrt), _t=t: _h(*a, _t)
        if autograd is not None and case.peers:
            try:
                ag_fn = case.autograd_fn or translate(case.fn, anp, asp)
                ag_jvp = autograd.make_jvp(ag_fn, wrt_idx[0]) if single else None
                if ag_jvp is not None:
                    calls["ag_jvp"] = lambda *a, _j=ag_jvp, _t=t: _j(*a)(_t)
                if single and case.name in HVP_CASES:
                    ag_hvp = autograd.hessian_vector_product(ag_fn, wrt_idx[0])
                    calls["ag_hvp"] = lambda *a, _h=ag_hvp, _t=t: _h(*a, _t)
            except Exception as e:  # noqa: BLE001 - a peer that cannot run the case is reported, not fatal
                row["errors"]["autograd"] = _short_error(e)
        for name, fn in list(calls.items()):
            try:
                fn(*args)  # warm-up (compiles)
            except Exception as e:  # noqa: BLE001
                row["errors"][name] = _short_error(e)
                del calls[name]
        times = measure(calls, args, target_s, samples)
        row.update({k: v["ns"] for k, v in times.items()})
        rows.append(row)
    return rows


def forward_table(rows):
    lines = [
        "%-14s %-34s %9s %9s %9s %9s %9s %10s %10s"
        % ("case", "size", "jvp/f", "hand/f", "ag jvp/f", "hvp/grad", "ag hvp/g", "f", "grad")
    ]

    def ratio(r, a, b):
        return "%9.2f" % (r[a] / r[b]) if a in r and b in r else "%9s" % "-"

    for r in rows:
        lines.append(
            "%-14s %-34s %s %s %s %s %s %10s %10s"
            % (
                r["name"],
                r["size"][:34],
                ratio(r, "jvp", "f"),
                ratio(r, "jvp_hand", "f"),
                ratio(r, "ag_jvp", "f"),
                ratio(r, "hvp", "grad"),
                ratio(r, "ag_hvp", "grad"),
                "%.1f us" % (r["f"] / 1e3),
                "%.1f us" % (r["grad"] / 1e3) if "grad" in r else "-",
            )
        )
    return "\n".join(lines)


HESSIAN_CASE = "hessian100"  # ac.hessian of a 100-input function: target <= 100 hvps (one hvp per column)


def hessian_row(target_s, samples):
    """ac.hessian of cases_numpy.chain_energy (100 inputs) against one ac.hvp and one ac.grad, beside
    autograd's hessian; the Hessian is checked against autograd's (or differences of ac.grad)."""
    fn, args = cases_numpy.chain_energy, cases_numpy.HESSIAN_ARGS
    v = np.random.default_rng(0).standard_normal(np.shape(args[0]))
    calls = {
        "grad": ac.grad(fn),
        "hvp": lambda *a, _h=ac.hvp(fn): _h(*a, v),
        "hessian": ac.hessian(fn),
    }
    row = {"name": HESSIAN_CASE, "size": "%d inputs" % np.size(args[0]), "errors": {}}
    if autograd is not None:
        calls["ag_hessian"] = autograd.hessian(translate(fn, anp, asp))
    for name, c in list(calls.items()):
        try:
            c(*args)
        except Exception as e:  # noqa: BLE001
            row["errors"][name] = _short_error(e)
            del calls[name]
    if "hessian" in calls:
        ours = calls["hessian"](*args)
        if "ag_hessian" in calls:
            reference, against = calls["ag_hessian"](*args), "autograd"
        else:
            gradient = calls["grad"]
            eps = 1e-6
            columns = [(gradient(args[0] + eps * e) - gradient(args[0] - eps * e)) / (2 * eps) for e in np.eye(100)]
            reference, against = np.stack(columns, axis=1), "differences of ac.grad"
        row["check"] = {"max_rel_diff": max_rel_diff(np.ravel(ours), np.ravel(reference)), "against": against}
    times = measure(calls, args, target_s, samples)
    row.update({k: t["ns"] for k, t in times.items()})
    return row


def hessian_lines(r):
    n = int(r["size"].split()[0])
    lines = []
    if "hessian" in r and "hvp" in r:
        lines.append(
            "%s (%s): hessian %.2f ms = %.1f hvps (target <= %d), %.1f gradients; one hvp = %.2f gradients"
            % (
                r["name"],
                r["size"],
                r["hessian"] / 1e6,
                r["hessian"] / r["hvp"],
                n,
                r["hessian"] / r["grad"],
                r["hvp"] / r["grad"],
            )
        )
    if "ag_hessian" in r and "hessian" in r:
        lines.append(
            "  autograd's hessian: %.2f ms (%.2fx ours)" % (r["ag_hessian"] / 1e6, r["ag_hessian"] / r["hessian"])
        )
    if "check" in r:
        lines.append("  max rel diff against %s: %.1e" % (r["check"]["against"], r["check"]["max_rel_diff"]))
    for what, err in r["errors"].items():
        lines.append("  [%s]: %s" % (what, err))
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description="adjoint_compiler benchmarks")
    parser.add_argument("--quick", action="store_true", help="short samples, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--case", metavar="REGEX", help="run only the cases whose name matches")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--sample-time", type=float, help="seconds per sample (default 0.2, quick 0.02)")
    parser.add_argument("--samples", type=int, help="samples per measurement (default 7, quick 3)")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if not args.case or re.search(args.case, c.name)]
    needed = {c.baseline for c in cases if c.baseline}  # a selected case brings its baseline
    cases = [c for c in CASES if c in cases or c.name in needed]
    if args.list:
        for c in CASES:
            print("%-16s %-8s %s" % (c.name, c.kind, c.size))
        return 0
    if not cases and not re.search(args.case, HESSIAN_CASE):
        parser.error("no case matches %r" % args.case)

    target_s = args.sample_time or (0.02 if args.quick else 0.2)
    samples = args.samples or (3 if args.quick else 7)
    compile_repeats = 3 if args.quick else 11

    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "numpy": np.__version__,
        "autograd": _version(autograd) or (None if autograd is None else _pkg_version("autograd")),
        "jax": _version(jax),
        "threads": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "quick": args.quick,
        "sample_time_s": target_s,
        "samples": samples,
        "compile_repeats": compile_repeats,
    }
    meta["call_overhead_ns"] = call_overhead_ns(target_s, samples)

    print(
        "adjoint_compiler benchmarks  (%s; commit %s; Python %s, NumPy %s, autograd %s, jax %s)"
        % (
            "quick" if args.quick else "full",
            meta["commit"],
            meta["python"],
            meta["numpy"],
            meta["autograd"] or "not installed",
            meta["jax"] or "not installed",
        )
    )
    print(
        "median of %d samples x ~%g s each; BLAS threads pinned to 1; loop+call overhead %.0f ns per call"
        % (samples, target_s, meta["call_overhead_ns"])
    )
    print()

    results = []
    done = {}
    for case in cases:
        print("  running %s ..." % case.name, end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        res = run_case(case, target_s, samples, compile_repeats, done)
        print(" %.1f s" % (time.perf_counter() - t0), file=sys.stderr, flush=True)
        done[case.name] = res
        results.append(res)
    for res in results:
        res.pop("_grad", None)
        res.pop("_ours", None)

    print(table([row(r) for r in results]))
    print()
    print(
        "ours = ac.grad(f, wrt)(*args) after a warm-up call; emitted = the generated function alone (no API wrapper);"
    )
    print(
        "compile = first call of ac.grad on a fresh function object; max rel diff = ours vs autograd "
        "(fd: central differences;"
    )
    print("baseline: our gradient of the case's baseline, e.g. the plain loop for a checkpointed one;")
    print("by hand: a gradient written out by hand in benchmarks/, for cases the peers cannot run).")
    print()
    loop_results = [r for r in results if "memory" in r]
    if loop_results:
        print("Loops: tapes and memory of one gradient call")
        print(table([loop_row(r) for r in loop_results], LOOP_COLUMNS, LOOP_LEFT))
        print()
        print(
            "tape values = ac.tape_stats total (a checkpointed loop counts only the state its forward sweep "
            "saves; its snapshots"
        )
        print(
            "live during the adjoint sweep); peak = tracemalloc peak during one ac.grad call; "
            "ours/baseline, peak/baseline:"
        )
        print("gradient time and peak against the baseline case's (the plain loop).")
        print()
    forward = forward_rows(cases, target_s, samples)
    if forward:
        print("Forward mode and second order (ratios; ag = autograd's make_jvp / hessian_vector_product)")
        print(forward_table(forward))
        print()
        print(
            "jvp = ac.jvp(f, wrt)(*args, t), one forward sweep of tangent code; hvp = ac.hvp(f, wrt)(*args, v), "
            "the tangent pass over"
        )
        print(
            "the emitted gradient; targets: jvp/f <= %g on recurrence and rk4, hvp/grad <= %g on mlp and recurrence."
            % (JVP_TARGET, HVP_TARGET)
        )
        print("hand/f: the same tangent written by hand in Python (cases_loops.recurrence_jvp_by_hand).")
        for r in forward:
            for what, err in r["errors"].items():
                print("  %s [%s]: %s" % (r["name"], what, err))
        print()
    hessian = None
    if not args.case or re.search(args.case, HESSIAN_CASE):
        hessian = hessian_row(target_s, samples)
        print("Hessian of a 100-input function (ac.hessian = one hvp per column)")
        for line in hessian_lines(hessian):
            print(line)
        print()
    print("Targets (informational, not asserted):")
    for line in targets_report(results) or ["  (none for these cases)"]:
        print(line)

    problems = [(r["name"], k, v) for r in results for k, v in r["errors"].items()]
    wrong = [r["name"] for r in results if r.get("check") and not r["check"]["ok"]]
    if hessian is not None and hessian.get("check", {}).get("max_rel_diff", 0.0) > 1e-8:
        wrong.append(HESSIAN_CASE)
        results.append({"name": HESSIAN_CASE, "check": hessian["check"], "errors": {}})
    if problems or wrong:
        print()
        print("Problems:")
        for name, what, err in problems:
            print("  %s [%s]: %s" % (name, what, err))
        for name in wrong:
            print(
                "  %s: our gradient differs from the reference (max rel diff %.1e)"
                % (name, next(r for r in results if r["name"] == name)["check"]["max_rel_diff"])
            )

    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {"meta": meta, "results": results, "forward": forward, "hessian": hessian}, fh, indent=2, default=float
            )
        print()
        print("wrote %s" % args.json)
    return 1 if wrong else 0


def _pkg_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
