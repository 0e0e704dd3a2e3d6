"""The cost of reduction and linear-algebra adjoint rules against their primal operation (issue #13's target:
"rules for reductions and linear algebra stay within 3x the cost of the primal operation").

For each case: the primal call ``fn(*args)`` and its adjoint rule called on the primal's result
(``registry.lookup(fn).rule(g, ans, *args)``, the body the compiler inlines), each timed as the median of
``--repeat`` runs on one core, and their ratio. Sizes: 200 x 200 matrices, 10^6-element vectors (1000 x 1000 for
max along an axis). The rule's cotangent is checked against central differences along one random direction, so a
fast but wrong rule shows.

    python benchmarks/rule_costs.py              # every case
    python benchmarks/rule_costs.py --case svd   # cases whose name matches a regex
    python benchmarks/rule_costs.py --cpu        # CPU time, not wall time: steadier where other jobs run

A case in FLOORS also prints its floor, the least work any cotangent of it needs (np.trace's: an n x n np.zeros and
its diagonal written), against the primal and the rule: the ratio stays the honest one.

Exit status 1 if a rule's directional derivative is off (the ratio is informational).
"""

import argparse
import os
import re
import sys
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_v] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from adjoint_compiler.rules import registry  # noqa: E402
from adjoint_compiler.runtime import lu_inverse  # noqa: E402

try:
    from scipy.linalg import blas, expm
    from scipy.special import logsumexp
except ImportError:  # (those rows are skipped)
    expm = logsumexp = blas = None

N = 200
VEC = 1_000_000
_rng = np.random.default_rng(0)
_x = _rng.standard_normal((N, N))
SPD = _x @ _x.T + N * np.eye(N)
SQUARE = _rng.standard_normal((N, N)) + 3.0 * np.eye(N)
B = _rng.standard_normal((N, N))
V = _rng.standard_normal(VEC)
SPREAD = _rng.permutation(VEC) * 1.0  # distinct values a unit apart: sort's central difference sees no tie
COLUMNS = np.argsort(_rng.random((1000, 1000)), axis=0) * 1.0  # each column 0..999 (the check's h: 1e-3)
TALL = _rng.standard_normal((N, N // 2))
PROD_ZEROS = 1.0 + 1e-3 * V.reshape(1000, 1000)
PROD_ZEROS[::7, 3] = 0.0  # one zero in every 7th row


def _trace_floor():
    # what any cotangent of np.trace must do: make an n x n array of zeros and write the diagonal (np.trace reads n
    # numbers), for the row's second ratio (rules18)
    out = np.zeros((N, N))
    out.flat[:: N + 1] = 1.0
    return out


def _rowwise_floor():
    # what any cotangent of np.einsum("ij,ij->i", a, b) must do: write two n x n arrays, each row of one operand
    # scaled by g's element, g[:, None] * b and g[:, None] * a (np.einsum "i,ij->ij", NumPy's fastest such product
    # here: the multiply by a column, a loop per row, is slower); the primal reads both and writes n numbers (rules19)
    return np.einsum("i,ij->ij", _G_ROWS, B), np.einsum("i,ij->ij", _G_ROWS, SQUARE)


_G_ROWS = _rng.standard_normal(N)
_SPD_LOW = np.linalg.cholesky(SPD)


def _cholesky_floor():
    # what any cotangent of np.linalg.cholesky must do (rules23): A_bar = Phi(L^-T Phi(L^T L_bar) L^-1) (Murray 2016)
    # is a congruence of a symmetric matrix by L^-1, n^3 flops at least (LAPACK's sygst; Murray's blocked algorithm
    # the same count) against the factorization's n^3 / 3: here as their one triangular solve with n right-hand
    # sides (BLAS's trsm, n^3 flops; the product L^T L_bar and the triangles not counted)
    return blas.dtrsm(1.0, _SPD_LOW, B, lower=1)


def _det_floor():
    # what any cotangent of np.linalg.det must do (rules23): A_bar = g det(A) A^-T (Jacobi's formula) needs the whole
    # inverse, from LU factors (2 n^3 flops against the factorization's 2 n^3 / 3: the primal's LU is not kept), at
    # its least cost in runtime.lu_inverse (LAPACK's getrf and getri, getri blocked)
    return lu_inverse(SQUARE)


_POWER_BASE = SQUARE / 20


def _matrix_power_floor():
    # what a cotangent of np.linalg.matrix_power(B, 5) takes by the chain rule (rules24): NumPy makes 3 products (B^2,
    # B^4, B B^4) and keeps none; back through them, two products per product (C = X Y: X^T C_bar and C_bar Y^T) and
    # the squares again, 8 products of n x n matrices against the primal's 3 (2.67x; the sum sum_k (B^T)^k G
    # (B^T)^(4-k) written directly, with B^2 and B^4, takes 8 too)
    out = _POWER_BASE
    for _ in range(8):
        out = _POWER_BASE @ _POWER_BASE
    return out


_COLUMN_MAX = np.max(V.reshape(1000, 1000), axis=0, keepdims=True)
_ROW_MAX = np.max(V.reshape(1000, 1000), axis=1, keepdims=True)


def _extremum_floor(top):
    # what any cotangent of np.max along an axis must do (costs25) that splits a tie exactly: read every element
    # against its slice's maximum (np.equal: one pass over x, as np.max's own, plus its 1-byte mask) and write the
    # n-element result (np.zeros: after a pass that freed memory, glibc's calloc clears the 8 MB it reuses, a write
    # pass); runtime.extremum_bar adds a scan of the mask and the few shares put in place
    def floor():
        return np.equal(V.reshape(1000, 1000), top), np.zeros((1000, 1000))

    return floor


# a case's floor: the least work its cotangent needs, where that alone is over 3x the primal (or near it)
FLOORS = {"trace 200x200": _trace_floor, "einsum ij,ij->i 200": _rowwise_floor}
FLOORS["max axis 0, 1000x1000"] = _extremum_floor(_COLUMN_MAX)
FLOORS["max axis 1, 1000x1000"] = _extremum_floor(_ROW_MAX)
FLOORS["matrix_power 200, 5"] = _matrix_power_floor
if blas is not None:
    FLOORS.update({"cholesky 200x200": _cholesky_floor, "det 200x200": _det_floor})

# (name, fn, args, kwargs)
CASES = [
    ("cholesky 200x200", np.linalg.cholesky, (SPD,), {}),
    ("svd 200x200", np.linalg.svd, (SQUARE,), {}),
    ("svd values 200x200", np.linalg.svd, (SQUARE,), {"compute_uv": False}),
    ("eigh 200x200", np.linalg.eigh, (SPD,), {}),
    ("eigvalsh 200x200", np.linalg.eigvalsh, (SPD,), {}),
    ("inv 200x200", np.linalg.inv, (SQUARE,), {}),
    ("solve 200x200, 200 rhs", np.linalg.solve, (SQUARE, B), {}),
    ("det 200x200", np.linalg.det, (SQUARE,), {}),
    ("slogdet 200x200", np.linalg.slogdet, (SQUARE,), {}),
    ("qr 200x200", np.linalg.qr, (SQUARE,), {}),
    ("norm fro 200x200", np.linalg.norm, (SQUARE,), {}),
    ("norm 2 200x200", np.linalg.norm, (SQUARE,), {"ord": 2}),
    ("norm nuc 200x200", np.linalg.norm, (SQUARE,), {"ord": "nuc"}),
    ("norm 10^6", np.linalg.norm, (V,), {}),
    ("norm 1 10^6", np.linalg.norm, (V,), {"ord": 1}),
    ("sum 10^6", np.sum, (V,), {}),
    ("max 10^6", np.max, (V,), {}),
    ("max axis 1, 1000x1000", np.max, (V.reshape(1000, 1000),), {"axis": 1}),
    ("max axis 0, 1000x1000", np.max, (V.reshape(1000, 1000),), {"axis": 0}),
    ("nanmax 10^6", np.nanmax, (V,), {}),
    ("cumsum 10^6", np.cumsum, (V,), {}),
    ("cumprod 10^3", np.cumprod, (1.0 + 1e-3 * V[:1000],), {}),
    ("cumprod 10^6", np.cumprod, (1.0 + 1e-7 * V,), {}),
    ("sort 10^6", np.sort, (SPREAD,), {}),
    ("einsum ij,jk->ik 200", np.einsum, ("ij,jk->ik", SQUARE, B), {}),
    ("einsum ij,ij->i 200", np.einsum, ("ij,ij->i", SQUARE, B), {}),
    ("matmul 200", np.matmul, (SQUARE, B), {}),
    # (rules17: reductions and linear algebra not covered above)
    ("median 10^6", np.median, (SPREAD,), {}),
    ("median axis 0, 1000x1000", np.median, (COLUMNS,), {"axis": 0}),
    ("percentile 90 10^6", np.percentile, (SPREAD, 90.0), {}),
    ("quantile 3 qs 10^6", np.quantile, (SPREAD, np.array([0.1, 0.5, 0.9])), {}),
    ("norm 1 200x200", np.linalg.norm, (SQUARE,), {"ord": 1}),
    ("norm inf 200x200", np.linalg.norm, (SQUARE,), {"ord": np.inf}),
    ("cumsum axis 0, 1000x1000", np.cumsum, (V.reshape(1000, 1000),), {"axis": 0}),
    ("cumsum axis 1, 1000x1000", np.cumsum, (V.reshape(1000, 1000),), {"axis": 1}),
    ("prod axis 1 with zeros", np.prod, (PROD_ZEROS,), {"axis": 1}),
    ("prod 10^6", np.prod, (1.0 + 1e-7 * V,), {}),
    ("std 10^6", np.std, (V,), {}),
    ("var axis 0, 1000x1000", np.var, (V.reshape(1000, 1000),), {"axis": 0}),
    ("mean 10^6", np.mean, (V,), {}),
    ("logsumexp 10^6", logsumexp, (V,), {}),
    ("trace 200x200", np.trace, (SQUARE,), {}),
    # (costs25: np.logaddexp.reduce, np.add.reduceat; the indices a list, not differentiated)
    ("logaddexp.reduce 10^5", np.logaddexp.reduce, (V[:100_000],), {}),  # (10^6: a sequential sum, its fd noisy)
    ("logaddexp.reduce ax 1 10^6", np.logaddexp.reduce, (V.reshape(1000, 1000), 1), {}),
    ("add.reduceat 10^6, 10^3", np.add.reduceat, (V, list(range(0, VEC, 1000))), {}),
    ("add.reduceat ax 1, 3 of 10^3", np.add.reduceat, (V.reshape(1000, 1000), [0, 10, 500], 1), {}),
    ("lstsq 200x100, 200 rhs", np.linalg.lstsq, (TALL, B), {"rcond": None}),
    ("pinv 200x200", np.linalg.pinv, (SQUARE,), {}),
    ("matrix_power 200, 5", np.linalg.matrix_power, (SQUARE / 20, 5), {}),
    ("expm 200x200", expm, (SQUARE / 20,), {}),
    ("expm 200x200 symmetric", expm, ((SQUARE + SQUARE.T) / 40,), {}),  # (rules18: its eigh path)
    ("eigvals 200x200 (real)", np.linalg.eigvals, (SPD,), {}),
    # (session 21: np.fft, linear maps whose adjoints are transforms of the cotangent)
    ("fft 2^16", np.fft.fft, (V[:65536],), {}),
    ("rfft 2^16", np.fft.rfft, (V[:65536],), {}),
    ("irfft 2^16", np.fft.irfft, (np.fft.rfft(V[:65536]),), {}),
    ("fft2 256x256", np.fft.fft2, (V[:65536].reshape(256, 256),), {}),
    ("rfft n=2^17 ortho", np.fft.rfft, (V[:65536], 2**17), {"norm": "ortho"}),
]


def timed(call, repeat, clock=time.perf_counter):
    call()  # warm up
    times = []
    for _ in range(repeat):
        start = clock()
        call()
        times.append(clock() - start)
    return float(np.median(times))


def cotangent(ans, rng):
    if isinstance(ans, tuple):  # (u, s, vh), (w, v), (q, r), (sign, logabsdet)
        return tuple(rng.standard_normal(np.shape(a)) for a in ans)
    if np.iscomplexobj(ans):  # (a transform's: docs/complex.md's pairing, Re(c dz))
        return rng.standard_normal(np.shape(ans)) + 1j * rng.standard_normal(np.shape(ans))
    return rng.standard_normal(np.shape(ans))


def inner(a, b):
    if isinstance(a, tuple):
        return sum(inner(x, y) for x, y in zip(a, b))
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


def check(fn, args, kwargs, g, cots, diff, rng):
    """The largest relative error of <cotangent, d> against the central difference of <g, fn> along d."""
    worst = 0.0
    for i in diff:
        d = rng.standard_normal(np.shape(args[i]))
        if fn in (np.linalg.cholesky, np.linalg.eigh, np.linalg.eigvalsh):
            d = np.tril(d)  # the triangle NumPy reads
        h = (1e-7 if np.ndim(args[i]) == 1 else 1e-6) * max(1.0, float(np.max(np.abs(args[i]))))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = args[i] + h * d, args[i] - h * d
        if fn is np.linalg.eigvals:  # (unordered: each eigenvalue found again by its rank)
            ranked = np.asarray(g)[np.argsort(np.real(fn(*args)))]
            fd = (inner(ranked, np.sort(np.real(fn(*plus)))) - inner(ranked, np.sort(np.real(fn(*minus))))) / (2 * h)
        else:
            fd = (inner(g, fn(*plus, **kwargs)) - inner(g, fn(*minus, **kwargs))) / (2 * h)
        worst = max(worst, abs(inner(cots[i], d) - fd) / max(1e-8, abs(fd)))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--cpu", action="store_true", help="time by the process's CPU time (steadier on a shared, loaded machine)"
    )
    opts = parser.parse_args()
    clock = time.process_time if opts.cpu else time.perf_counter
    rng = np.random.default_rng(1)
    print("case                      | primal (ms) | rule (ms) | rule/primal | fd rel err")
    print("--------------------------+-------------+-----------+-------------+-----------")
    bad = []
    for name, fn, args, kwargs in CASES:
        if fn is None or not re.search(opts.case, name):
            continue
        rule = registry.lookup(fn).rule
        ans = fn(*args, **kwargs)
        g = cotangent(ans, rng)
        if fn is np.linalg.slogdet:
            g = (np.zeros(()), g[1])
        if fn is np.linalg.lstsq:  # the solution's cotangent only (residuals: empty here; rank, singular values)
            g = (g[0],) + tuple(np.zeros_like(c) for c in g[1:])
        if fn in (np.linalg.svd, np.linalg.eigh) and not kwargs:  # gauge-free: the values' cotangent only
            g = tuple(np.zeros_like(c) if np.ndim(c) == 2 else c for c in g)
        primal = timed(lambda: fn(*args, **kwargs), opts.repeat, clock)
        cost = timed(lambda: rule(g, ans, *args, **kwargs), opts.repeat, clock)
        cots = rule(g, ans, *args, **kwargs)
        cots = cots if isinstance(cots, tuple) else (cots,)
        diff = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        cots = list(cots) + [None] * (len(args) - len(cots))
        err = check(fn, args, kwargs, g, cots, diff, rng)
        if err > 1e-3:
            bad.append(name)
        flag = "  > 3x" if cost / primal > 3.0 else ""
        if name in FLOORS:
            floor = timed(FLOORS[name], opts.repeat, clock)
            flag += "  (floor %.2fx the primal; rule/floor %.2f)" % (floor / primal, cost / floor)
        print("%-25s | %11.3f | %9.3f | %11.2f | %9.1e%s" % (name, primal * 1e3, cost * 1e3, cost / primal, err, flag))
    if bad:
        print("WRONG:", ", ".join(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
