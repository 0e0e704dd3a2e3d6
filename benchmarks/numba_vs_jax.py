"""The numba backend against jax.jit(jax.grad(f)) and against the numba-compiled original function.

    python benchmarks/numba_vs_jax.py [--repeat N] [--case REGEX] [--json OUT.json]

Needs numba and jax (float64 is turned on); BLAS and XLA are pinned to one thread before NumPy is
imported. Per-call times are the best of N repeats of a timed batch, after a warm-up call; compile
times are the first call's (ours: the adjoint_compiler pipeline plus numba; jax: tracing plus XLA;
numba's first compile in the process, its own start-up, is paid before any is timed). Every row
checks our gradient against JAX's (or, where jit cannot trace the function, the Python backend's).
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def sin_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i)
    return s


def rk4(y, k, n):
    h = 0.01
    for i in range(n):
        k1 = -k * y + math.sin(y)
        y2 = y + 0.5 * h * k1
        k2 = -k * y2 + math.sin(y2)
        y3 = y + 0.5 * h * k2
        k3 = -k * y3 + math.sin(y3)
        y4 = y + h * k3
        k4 = -k * y4 + math.sin(y4)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def horner(c, x):
    acc = 0.0
    for i in range(c.shape[0]):
        acc = acc * x + c[i]
    return acc


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def newton_sqrt(a):
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def _jax_versions():
    """The same functions written for jax.jit: jnp for math, the loops unrolled by tracing."""
    import jax.numpy as jnp

    def sin_loop_j(x, n):
        s = 0.0
        for i in range(n):
            s = s + jnp.sin(x * i)
        return s

    def rk4_j(y, k, n):
        h = 0.01
        for i in range(n):
            k1 = -k * y + jnp.sin(y)
            y2 = y + 0.5 * h * k1
            k2 = -k * y2 + jnp.sin(y2)
            y3 = y + 0.5 * h * k2
            k3 = -k * y3 + jnp.sin(y3)
            y4 = y + h * k3
            k4 = -k * y4 + jnp.sin(y4)
            y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return y

    return {"sin_loop": sin_loop_j, "rk4": rk4_j, "horner": horner, "rosenbrock": rosenbrock}


def _jax_loops():
    """The same functions as a JAX user writes them for jit: the loop a lax.fori_loop (not unrolled)."""
    import jax.numpy as jnp
    from jax import lax

    def sin_loop_f(x, n):
        return lax.fori_loop(0, n, lambda i, s: s + jnp.sin(x * i), 0.0)

    def rk4_f(y, k, n):
        h = 0.01

        def step(i, y):
            k1 = -k * y + jnp.sin(y)
            y2 = y + 0.5 * h * k1
            k2 = -k * y2 + jnp.sin(y2)
            y3 = y + 0.5 * h * k2
            k3 = -k * y3 + jnp.sin(y3)
            y4 = y + h * k3
            k4 = -k * y4 + jnp.sin(y4)
            return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        return lax.fori_loop(0, n, step, y)

    def horner_f(c, x):
        return lax.fori_loop(0, c.shape[0], lambda i, acc: acc * x + c[i], 0.0)

    def rosenbrock_f(x):
        def term(i, s):
            return s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2

        return lax.fori_loop(0, x.shape[0] - 1, term, 0.0)

    return {"sin_loop": sin_loop_f, "rk4": rk4_f, "horner": horner_f, "rosenbrock": rosenbrock_f}


CASES = [
    # name, function, wrt, arguments, static arguments for jax (trip counts), size
    ("sin_loop", sin_loop, 0, (0.3, 1000), (1,), "n=1000"),
    ("rk4", rk4, (0, 1), (0.5, 0.7, 100), (2,), "100 steps"),
    ("horner", horner, (0, 1), (np.linspace(-1.0, 1.0, 1000), 0.99), (), "1000 coeffs"),
    ("rosenbrock", rosenbrock, 0, (np.linspace(-1.2, 1.2, 1000),), (), "n=1000"),
    ("newton_while", newton_sqrt, 0, (2.0,), None, "a=2, 6 iters"),
]


def per_call(fn, args, repeat):
    """Best over ``repeat`` batches of the seconds per call. A batch lasts about 2 ms: short enough
    that some run without being preempted on a shared machine, which the best of many then shows."""
    fn(*args)
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        if time.perf_counter() - start > 0.002 or number >= 1 << 20:
            break
        number *= 2
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / number)
    return best


def first_call(fn, args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _flat(g):
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in (g if isinstance(g, tuple) else (g,))])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed batches per measurement (best is kept)")
    parser.add_argument("--case", default="", help="only the cases whose name matches this regex")
    parser.add_argument("--json", help="also write the numbers to this file")
    opts = parser.parse_args()

    import llvmlite
    import numba

    import adjoint_compiler as ac

    jax = None
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.jit(lambda v: v * 2.0)(1.0).block_until_ready()  # its start-up, not any case's compile
    except ImportError:
        print("jax is not installed: its columns are empty", file=sys.stderr)
    numba.njit(lambda v: v * 2.0)(1.0)  # numba's start-up, likewise
    jaxed = _jax_versions() if jax else {}
    loops = _jax_loops() if jax else {}
    rows = []
    for name, f, wrt, args, static, size in CASES:
        if not re.search(opts.case, name):
            continue
        print("%s ..." % name, file=sys.stderr)
        ours = ac.grad(f, wrt, backend="numba")
        ours_compile, got = first_call(ours, args)
        ours_call = per_call(ours, args, opts.repeat)
        original = numba.njit(f)
        original_compile, _ = first_call(original, args)
        original_call = per_call(original, args, opts.repeat)
        row = {
            "case": name,
            "size": size,
            "ours_us": ours_call * 1e6,
            "numba_original_us": original_call * 1e6,
            "ours_compile_s": ours_compile,
            "numba_original_compile_s": original_compile,
            "jax_jit_us": None,
            "jax_compile_s": None,
            "jax_fori_us": None,
            "jax_fori_compile_s": None,
        }
        reference = ac.grad(f, wrt)(*args)
        if jax is not None and static is not None:
            argnums = wrt if isinstance(wrt, tuple) else (wrt,)
            jitted = jax.jit(jax.grad(jaxed[name], argnums=argnums), static_argnums=static)

            def call(*a, jitted=jitted):
                return jax.block_until_ready(jitted(*a))

            row["jax_compile_s"], reference = first_call(call, args)
            row["jax_jit_us"] = per_call(call, args, opts.repeat) * 1e6
            reference = reference if isinstance(wrt, tuple) else reference[0]
            looped = jax.jit(jax.grad(loops[name], argnums=argnums), static_argnums=static)

            def call(*a, jitted=looped):
                return jax.block_until_ready(jitted(*a))

            row["jax_fori_compile_s"], _ = first_call(call, args)
            row["jax_fori_us"] = per_call(call, args, opts.repeat) * 1e6
        row["max_rel_diff"] = float(
            np.max(np.abs(_flat(got) - _flat(reference))) / max(1.0, np.max(np.abs(_flat(reference))))
        )
        rows.append(row)

    print(
        "numba %s, llvmlite %s, numpy %s, jax %s; best of %d batches per timing"
        % (
            numba.__version__,
            llvmlite.__version__,
            np.__version__,
            jax.__version__ if jax else "-",
            opts.repeat,
        )
    )
    header = (
        "| case | size | ours: numba grad (µs) | jax.jit(grad) (µs) | jax/ours | jax fori_loop (µs) | fori/ours "
        "| numba original (µs) | ours/original | ours compile (s) | jax compile (s) | jax fori compile (s) "
        "| numba original compile (s) | max rel diff |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))

    def us(v):
        return "%.1f" % v if v else "-"

    def ratio(a, b):
        return "%.1f" % (a / b) if a else "-"

    for r in rows:
        print(
            "| %s | %s | %.1f | %s | %s | %s | %s | %.1f | %.1f | %.2f | %s | %s | %.2f | %.1e |"
            % (
                r["case"],
                r["size"],
                r["ours_us"],
                us(r["jax_jit_us"]) if r["jax_jit_us"] else "- (cannot trace)",
                ratio(r["jax_jit_us"], r["ours_us"]),
                us(r["jax_fori_us"]),
                ratio(r["jax_fori_us"], r["ours_us"]),
                r["numba_original_us"],
                r["ours_us"] / r["numba_original_us"],
                r["ours_compile_s"],
                "%.2f" % r["jax_compile_s"] if r["jax_compile_s"] else "-",
                "%.2f" % r["jax_fori_compile_s"] if r["jax_fori_compile_s"] else "-",
                r["numba_original_compile_s"],
                r["max_rel_diff"],
            )
        )
    if opts.json:
        with open(opts.json, "w") as out:
            json.dump(rows, out, indent=1)
    return 0 if all(r["max_rel_diff"] < 1e-10 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
