# ruff: noqa: E501 (a table of cases: one row a line)
"""Issue #13's list of functions, each differentiated by adjoint_compiler and checked: a table.

    python benchmarks/conformance/issue13_coverage.py            # every case
    python benchmarks/conformance/issue13_coverage.py cumsum pad  # the cases whose label contains a word

For every function the issue names (and every parameter variant it mentions) a small function calls it on
typical arguments and returns a smooth scalar of the result (``np.sum(np.sin(...))``, so that even a
linear function has a second derivative). Three columns:

- rev: ``ac.grad`` against central differences of the function (step 1e-6);
- fwd: ``ac.jvp`` in a random direction against the directional central difference;
- 2nd: ``ac.hvp`` in a random direction against central differences of the (checked) gradient.

A non-differentiable function (``np.sign``, ``np.argmax``, ...) is used beside a differentiable path, and
the gradient must flow around it with no error and agree with the differences (the points are away from
its jumps). Each cell is ``ok``, ``WRONG`` (a finite number that differs: the count that must stay 0), ``nan``
(a nan or inf where the differences give a number: loud, not silent),
``refused`` (a CompileError / UnsupportedError / NotImplementedError, the message shown) or ``error`` (any
other exception: a bug). Exit status 1 if anything is WRONG.
"""

import collections
import importlib.util
import os
import sys
import tempfile
import textwrap
import traceback
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import adjoint_compiler as ac  # noqa: E402

try:
    import scipy  # noqa: F401

    HAVE_SCIPY = True
except ImportError:  # pragma: no cover
    HAVE_SCIPY = False

HEADER = """
import numpy as np
import scipy.special as sp
import scipy.stats as st
import scipy.linalg as sla
import scipy.signal as ss
"""

R = np.random.RandomState(0)


def vec(n=5, lo=-1.0, hi=1.0):
    return lambda: R.uniform(lo, hi, n)


def mat(m=3, n=3, lo=-1.0, hi=1.0):
    return lambda: R.uniform(lo, hi, (m, n))


def arr(*shape, lo=-1.0, hi=1.0):
    return lambda: R.uniform(lo, hi, shape)


def spd(n=3, batch=()):
    def make():
        a = R.uniform(-1, 1, batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)

    return make


def sym(n=3, batch=()):
    # distinct eigenvalues: a diagonal of spread values plus a small symmetric perturbation
    def make():
        a = R.uniform(-0.2, 0.2, batch + (n, n))
        return a + np.swapaxes(a, -1, -2) + np.diag(np.arange(1.0, n + 1) * 1.5)

    return make


def const(value):
    return lambda: value


# (label, arguments, wrt, body). The body is an expression (the result is returned as
# np.sum(np.sin(expr))) or, with a "return", the whole body. Arguments are factories, so that each case
# gets fresh arrays; wrt lists the differentiated parameters (x, y, z, w in order).
CASES = []


def case(label, args, body, wrt=None, nondiff=False, tol=1e-5, step=1e-6):
    # step: the central differences' (a float32 result needs a larger one than float64's 1e-6)
    CASES.append((label, args, body, tuple(range(len(args))) if wrt is None else wrt, nondiff, (tol, step)))


x5, x6, m33, m34, m43 = vec(5), vec(6), mat(3, 3), mat(3, 4), mat(4, 3)
pos5 = vec(5, 0.5, 2.0)
pos33 = mat(3, 3, 0.5, 2.0)
a234 = arr(2, 3, 4)

# ---- NumPy: contractions
case("tensordot axes=1", [m34, m43], "np.tensordot(x, y, axes=1)")
case("tensordot axes=2", [m34, m34], "np.tensordot(x, y, axes=2)")
case("tensordot axes=0", [vec(3), vec(2)], "np.tensordot(x, y, axes=0)")
case("tensordot axes=([1],[0])", [m34, m43], "np.tensordot(x, y, axes=([1], [0]))")
case("tensordot axes=([0,1],[1,0])", [m34, m43], "np.tensordot(x, y, axes=([0, 1], [1, 0]))")
case("tensordot 3-d", [a234, arr(3, 4, 2)], "np.tensordot(x, y, axes=([1, 2], [0, 1]))")
case("einsum ij,jk->ik", [m34, m43], "np.einsum('ij,jk->ik', x, y)")
case("einsum ij,jk (implicit)", [m34, m43], "np.einsum('ij,jk', x, y)")
case("einsum i,i", [x5, x5], "np.einsum('i,i', x, y)")
case("einsum ii-> (trace)", [m33], "np.einsum('ii->', x)")
case("einsum ii->i (diagonal)", [m33], "np.einsum('ii->i', x)")
case("einsum ij->ji", [m34], "np.einsum('ij->ji', x)")
case("einsum ij-> (sum)", [m34], "np.einsum('ij->', x)")
case("einsum i,j->ij (outer)", [vec(3), vec(4)], "np.einsum('i,j->ij', x, y)")
case("einsum 3 operands ij,jk,kl->il", [m34, m43, m33], "np.einsum('ij,jk,kl->il', x, y, z)")
case("einsum 3 operands optimize=True", [m34, m43, m33], "np.einsum('ij,jk,kl->il', x, y, z, optimize=True)")
case("einsum ...ij,...jk->...ik", [arr(2, 3, 4), arr(2, 4, 3)], "np.einsum('...ij,...jk->...ik', x, y)")
case("einsum bij,bjk->bik", [arr(2, 3, 4), arr(2, 4, 3)], "np.einsum('bij,bjk->bik', x, y)")
case("einsum ij,ij->i", [m34, m34], "np.einsum('ij,ij->i', x, y)")
case("einsum iij->j (repeated)", [arr(3, 3, 2)], "np.einsum('iij->j', x)")
case("einsum x*x same operand", [m34], "np.einsum('ij,ij->', x, x)")
case("einsum ...i->...", [a234], "np.einsum('...i->...', x)")

# ---- NumPy: running operations along an axis
case("cumsum", [m34], "np.cumsum(x)")
case("cumsum axis=0", [m34], "np.cumsum(x, axis=0)")
case("cumsum axis=-1", [m34], "np.cumsum(x, axis=-1)")
case("cumprod", [m34], "np.cumprod(x)")
case("cumprod axis=1", [m34], "np.cumprod(x, axis=1)")
case("cumprod with a zero", [const(np.array([2.0, 0.0, 3.0, 1.5]))], "np.cumprod(x)")
case("diff", [x6], "np.diff(x)")
case("diff n=2", [x6], "np.diff(x, n=2)")
case("diff axis=0", [m34], "np.diff(x, axis=0)")
case("diff prepend/append", [x5], "np.diff(x, prepend=0.0, append=1.0)")
case("gradient 1-d", [x6], "np.gradient(x)")
case("gradient spacing 0.5", [x6], "np.gradient(x, 0.5)")
case("gradient edge_order=2", [x6], "np.gradient(x, edge_order=2)")
case("gradient 2-d", [m34], "return np.sum(np.sin(np.gradient(x)[0])) + np.sum(np.cos(np.gradient(x)[1]))")
case("gradient axis=1", [m34], "np.gradient(x, axis=1)")
case("gradient coordinates", [x6], "np.gradient(x, np.array([0.0, 0.5, 1.5, 2.0, 3.5, 4.0]))")
case("cross", [vec(3), vec(3)], "np.cross(x, y)")
case("cross batched", [mat(4, 3), mat(4, 3)], "np.cross(x, y)")
case("cross 2-d vectors", [vec(2), vec(2)], "np.cross(x, y)")
case("kron", [mat(2, 2), mat(2, 3)], "np.kron(x, y)")
case("kron vectors", [vec(2), vec(3)], "np.kron(x, y)")
case("tril", [m34], "np.tril(x)")
case("tril k=-1", [m34], "np.tril(x, k=-1)")
case("triu", [m34], "np.triu(x)")
case("triu k=1", [m34], "np.triu(x, 1)")
case("diagonal", [m34], "np.diagonal(x)")
case("diagonal offset=1", [m34], "np.diagonal(x, offset=1)")
case("diagonal 3-d axis1/axis2", [a234], "np.diagonal(x, axis1=1, axis2=2)")
case("x.diagonal()", [m34], "x.diagonal()")
case("diagflat", [vec(3)], "np.diagflat(x)")
case("diagflat k=1", [mat(2, 2)], "np.diagflat(x, k=1)")
case("fill_diagonal (store)", [m33, vec(3)], "a = x.copy()\nnp.fill_diagonal(a, y)\nreturn np.sum(np.sin(a))")
case("fill_diagonal scalar (store)", [m33, const(0.7)], "a = x * 1.0\nnp.fill_diagonal(a, y)\nreturn np.sum(np.sin(a))")

# ---- NumPy: splitting and joining
case("split 3", [x6], "return np.sum(np.sin(np.split(x, 3)[1])) + np.sum(np.split(x, 3)[2] ** 2)")
case(
    "split indices",
    [x6],
    "p = np.split(x, [2, 5])\nreturn np.sum(np.sin(p[0])) + np.sum(p[1] ** 2) + np.sum(p[2] ** 3)",
)
case("split axis=1", [mat(2, 4)], "p = np.split(x, 2, axis=1)\nreturn np.sum(np.sin(p[0])) + np.sum(p[1] ** 2)")
case("array_split", [vec(7)], "p = np.array_split(x, 3)\nreturn np.sum(np.sin(p[0])) + np.sum(p[2] ** 2)")
case("hsplit", [mat(2, 4)], "p = np.hsplit(x, 2)\nreturn np.sum(np.sin(p[0])) + np.sum(p[1] ** 2)")
case("vsplit", [mat(4, 2)], "p = np.vsplit(x, 2)\nreturn np.sum(np.sin(p[0])) + np.sum(p[1] ** 2)")
case("dsplit", [arr(2, 2, 4)], "p = np.dsplit(x, 2)\nreturn np.sum(np.sin(p[0])) + np.sum(p[1] ** 2)")
case("column_stack", [vec(3), mat(3, 2)], "np.column_stack([x, y])")
case("dstack", [m34, m34], "np.dstack([x, y])")
case("append", [x5, vec(2)], "np.append(x, y)")
case("append axis=0", [m34, mat(1, 4)], "np.append(x, y, axis=0)")
case("insert", [x5, const(0.3)], "np.insert(x, 2, y)")
case("insert axis=1", [m34, vec(3)], "np.insert(x, 1, y, axis=1)")
case("delete", [x5], "np.delete(x, 2)")
case("delete list axis=1", [m34], "np.delete(x, [0, 2], axis=1)")
for mode in ("constant", "edge", "reflect", "wrap", "symmetric"):
    case("pad %s" % mode, [x5], "np.pad(x, 2, mode=%r)" % mode)
    case("pad %s 2-d" % mode, [m34], "np.pad(x, ((1, 2), (2, 1)), mode=%r)" % mode)
case("pad constant_values", [x5], "np.pad(x, (1, 2), constant_values=3.0)")
case("pad constant_values active", [x5, const(0.4)], "np.pad(x, (1, 2), constant_values=y)")
case("rot90", [m34], "np.rot90(x)")
case("rot90 k=3", [m34], "np.rot90(x, k=3)")
case("rot90 axes", [a234], "np.rot90(x, 1, axes=(1, 2))")
case("flipud", [m34], "np.flipud(x)")
case("fliplr", [m34], "np.fliplr(x)")
case("moveaxis", [a234], "np.moveaxis(x, 0, -1)")
case("rollaxis", [a234], "np.rollaxis(x, 2)")
case("atleast_1d", [const(0.7)], "np.atleast_1d(x)")
case("atleast_2d", [x5], "np.atleast_2d(x)")
case("atleast_3d", [m34], "np.atleast_3d(x)")
case("np.r_", [vec(3), vec(2)], "np.r_[x, y]")
case("np.r_ scalar", [vec(3), const(0.5)], "np.r_[x, y, 1.0]")
case("np.c_", [vec(3), vec(3)], "np.c_[x, y]")
case("take", [x5], "np.take(x, [0, 2, 2])")
case("take axis=1", [m34], "np.take(x, [3, 0], axis=1)")
case("take_along_axis", [m34], "np.take_along_axis(x, np.argsort(x, axis=1), axis=1)")
case(
    "put_along_axis (store)",
    [m34, mat(3, 1)],
    "a = x.copy()\nnp.put_along_axis(a, np.array([[1], [0], [3]]), y, axis=1)\nreturn np.sum(np.sin(a))",
)
case("choose", [vec(4), vec(4)], "np.choose(np.array([0, 1, 1, 0]), [x, y])")
case("select", [x5], "np.select([x < -0.3, x > 0.3], [x ** 2, np.sin(x)], default=x)")
case("piecewise", [x5], "np.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: np.sin(v)])")
case("sort", [x5], "np.sort(x) * np.arange(5.0)")
case("sort axis=0", [m34], "np.sort(x, axis=0) * np.arange(4.0)")
case("sort axis=None", [m34], "np.sort(x, axis=None) * np.arange(12.0)")
if hasattr(np, "msort"):
    case("msort", [m34], "np.msort(x) * np.arange(4.0)")
case("partition", [x5], "np.partition(x, 2) * np.arange(5.0)")
case("median", [x5], "np.median(x)")
case("median even", [x6], "np.median(x)")
case("median axis=0", [m34], "np.median(x, axis=0)")
case("percentile linear", [x6], "np.percentile(x, 30.0)")
case("percentile q list axis=1", [m34], "np.percentile(x, [25.0, 80.0], axis=1)")
case("quantile", [x6], "np.quantile(x, 0.3)")
case("quantile method=linear", [x6], "np.quantile(x, [0.1, 0.75], method='linear')")
case("quantile method=lower", [x6], "np.quantile(x, [0.1, 0.75], method='lower')")
case("quantile method=nearest", [x6], "np.quantile(x, [0.1, 0.5, 0.75], method='nearest')")
case("percentile method=midpoint", [x6], "np.percentile(x, [10, 75], method='midpoint')")
case("sum initial=", [x6], "np.sum(x, initial=0.5)")
case("prod initial= where=", [x6], "np.prod(x, initial=1.5, where=x > -0.5)")
case("var where=", [x6], "np.var(x, where=x > -0.5)")
case("mean dtype=float64", [x6], "np.mean(x, dtype=np.float64)")  # (float32: central differences too coarse)
case("quantile keepdims axis=0", [m34], "np.quantile(x, 0.4, axis=0, keepdims=True)")
NANX = "np.where(x > 0.6, np.nan, x)"
case("nanmean", [x6], "np.nanmean(%s)" % NANX)
case("nanmean axis=0", [m34], "np.nanmean(%s, axis=0)" % NANX)
case("nansum", [x6], "np.nansum(%s)" % NANX)
case("nansum axis=1", [m34], "np.nansum(%s, axis=1)" % NANX)
case("nanmax", [x6], "np.nanmax(%s)" % NANX)
case("nanmin axis=0", [m34], "np.nanmin(%s, axis=0)" % NANX)
case("nanvar", [x6], "np.nanvar(%s)" % NANX)
case("nanstd", [x6], "np.nanstd(%s)" % NANX)
case("average", [x5], "np.average(x)")
case("average weights", [x5, pos5], "np.average(x, weights=y)")
case("average weights axis=1", [m34, vec(4, 0.5, 2.0)], "np.average(x, axis=1, weights=y)")
case("average returned", [x5, pos5], "return np.sin(np.average(x, weights=y, returned=True)[0])")
case("cov", [m34], "np.cov(x)")
case("cov rowvar=False ddof=0", [m43], "np.cov(x, rowvar=False, ddof=0)")
case("cov bias", [m34], "np.cov(x, bias=True)")
case("cov two arrays", [vec(5), vec(5)], "np.cov(x, y)")
case("cov aweights", [m34, vec(4, 0.5, 2.0)], "np.cov(x, aweights=y)")
case("corrcoef", [m34], "np.corrcoef(x)")
case("corrcoef two", [vec(5), vec(5)], "np.corrcoef(x, y)")
case("ptp", [x5], "np.ptp(x)")
case("ptp axis=1", [m34], "np.ptp(x, axis=1)")

# ---- NumPy: element-wise
case("logaddexp", [x5, x5], "np.logaddexp(x, y)")
case("logaddexp2", [x5, x5], "np.logaddexp2(x, y)")
case("remainder", [vec(5, 0.1, 3.0), vec(5, 0.7, 1.1)], "np.remainder(x, y)")
case("mod", [vec(5, 0.1, 3.0), vec(5, 0.7, 1.1)], "np.mod(x, y)")
case("fmod", [vec(5, -3.0, 3.0), vec(5, 0.7, 1.1)], "np.fmod(x, y)")
case("% operator", [vec(5, 0.1, 3.0), const(0.9)], "x % y")
case("fmax", [x5, x5], "np.fmax(x, y)")
case("fmin", [x5, x5], "np.fmin(x, y)")
case("sinc", [x5], "np.sinc(x)")
case("sinc at 0", [const(np.array([0.0, 0.5]))], "np.sinc(x)")
case("deg2rad", [x5], "np.deg2rad(x * 50.0)")
case("rad2deg", [x5], "np.rad2deg(x) / 60.0")
case("degrees", [x5], "np.degrees(x) / 60.0")
case("radians", [x5], "np.radians(x * 50.0)")
case("arcsinh", [x5], "np.arcsinh(x)")
case("arccosh", [vec(5, 1.2, 3.0)], "np.arccosh(x)")
case("arctanh", [vec(5, -0.8, 0.8)], "np.arctanh(x)")
case("nan_to_num", [x5], "np.nan_to_num(x)")
case("nan_to_num of nan", [x5], "np.nan_to_num(np.where(x > 0.5, np.nan, x), nan=0.5)")
case("real", [x5], "np.real(x)")
case("imag", [x5], "return np.sum(np.sin(x)) + np.sum(np.imag(x))")
case("conj", [x5], "np.conj(x)")
case("x.real / x.conj()", [x5], "x.real * x.conj()")
for mode in ("full", "same", "valid"):
    case("convolve %s" % mode, [x6, vec(3)], "np.convolve(x, y, mode=%r)" % mode)
    case("correlate %s" % mode, [x6, vec(3)], "np.correlate(x, y, mode=%r)" % mode)
XP = "np.array([0.0, 1.0, 2.5, 3.0, 4.0])"
case("interp wrt fp", [vec(4, 0.1, 3.9), x5], "np.interp(x, %s, y)" % XP)
case("interp left/right", [vec(4, -1.0, 5.0), x5], "np.interp(x, %s, y, left=0.0, right=1.0)" % XP)
case("polyval", [vec(4), x5], "np.polyval(x, y)")
case("polyval scalar x", [vec(4), const(0.7)], "np.polyval(x, y)")
case("linspace start/stop", [const(0.3), const(2.0)], "np.linspace(x, y, 5)")
case("linspace endpoint=False", [const(0.3), const(2.0)], "np.linspace(x, y, 5, endpoint=False)")
case("linspace array endpoints", [vec(2), vec(2)], "np.linspace(x, y, 4)")
case("linspace axis=1", [vec(2), vec(2)], "np.linspace(x, y, 4, axis=1)")
case(
    "linspace retstep",
    [const(0.3), const(2.0)],
    "p, s = np.linspace(x, y, 5, retstep=True)\nreturn np.sum(np.sin(p)) + s ** 2",
)
case("meshgrid", [vec(3), vec(4)], "a, b = np.meshgrid(x, y)\nreturn np.sum(np.sin(a) * b)")
case("meshgrid ij", [vec(3), vec(4)], "a, b = np.meshgrid(x, y, indexing='ij')\nreturn np.sum(np.sin(a) * b)")
case("meshgrid sparse", [vec(3), vec(4)], "a, b = np.meshgrid(x, y, sparse=True)\nreturn np.sum(np.sin(a) * b)")

# ---- NumPy: non-differentiable, beside a differentiable path
ND = dict(nondiff=True)
case("sign", [x5], "x * np.sign(x)", **ND)
case("floor", [vec(5, 0.1, 3.9)], "x * np.floor(x)", **ND)
case("ceil", [vec(5, 0.1, 3.9)], "x * np.ceil(x)", **ND)
case("rint", [vec(5, 0.1, 3.9)], "x * np.rint(x)", **ND)
case("trunc", [vec(5, 0.1, 3.9)], "x * np.trunc(x)", **ND)
case("isfinite", [x5], "np.where(np.isfinite(x), x, 0.0)", **ND)
case("isnan", [x5], "np.where(np.isnan(x), 0.0, x ** 2)", **ND)
case("argmax", [x5], "return np.sin(x[np.argmax(x)]) + np.sum(x)", **ND)
case("argmin axis", [m34], "return np.sum(np.sin(np.take_along_axis(x, np.argmin(x, axis=1)[:, None], axis=1)))", **ND)
case("argsort", [x5], "x[np.argsort(x)] * np.arange(5.0)", **ND)
case("searchsorted", [x5], "x * np.searchsorted(np.array([-0.5, 0.0, 0.5]), x)", **ND)
case("allclose", [x5], "return np.sum(x ** 2) if np.allclose(x, 0.0) else np.sum(np.sin(x))", **ND)
case("array_equal", [x5], "return np.sum(x ** 2) if np.array_equal(x, x * 2) else np.sum(np.sin(x))", **ND)
case("zeros_like", [x5], "x + np.zeros_like(x)", **ND)
case("ones_like", [x5], "x * np.ones_like(x)", **ND)
case("full_like", [x5], "x * np.full_like(x, 2.0)", **ND)
case("empty_like", [x5], "a = np.empty_like(x)\na[:] = x ** 2\nreturn np.sum(np.sin(a))", **ND)
case("arange", [x5], "x * np.arange(5)", **ND)
case("arange float", [x5], "x * np.arange(0.0, 1.0, 0.2)", **ND)
case("histogram counts", [x5], "x * np.histogram(x, bins=3)[0][0]", **ND)
case("histogram weights", [x5, x5], "np.histogram(x, bins=3, range=(-1.0, 1.0), weights=y)[0]", wrt=(1,))
case(
    "histogram edges and weights",
    [x5, pos5],
    "h, e = np.histogram(x, bins=3, weights=y)\nreturn np.sum(np.sin(h)) + np.sum(np.sin(e) * np.arange(4.0))",
)
case(
    "histogram edges given",
    [x5],
    "h, e = np.histogram(x, bins=np.array([-1.0, 0.0, 0.5, 1.0]))\nreturn np.sum(h * x[:3]) + np.sum(e * x[0])",
)
case("x.astype(int)", [vec(5, 0.1, 3.9)], "x * x.astype(int)", **ND)

# ---- np.linalg
for ord_ in ("None", "1", "2", "np.inf", "-np.inf", "3", "0.5", "-1"):
    case("norm vector ord=%s" % ord_, [x5], "np.linalg.norm(x, ord=%s)" % ord_)
case("norm vector axis=1", [m34], "np.linalg.norm(x, axis=1)")
case("norm vector axis=0 ord=1", [m34], "np.linalg.norm(x, ord=1, axis=0)")
case("norm vector axis=-1 keepdims", [m34], "np.linalg.norm(x, axis=-1, keepdims=True)")
case("norm vector axis=1 ord=inf", [m34], "np.linalg.norm(x, ord=np.inf, axis=1)")
case("norm matrix default", [m34], "np.linalg.norm(x)")
for ord_ in ("'fro'", "'nuc'", "1", "-1", "2", "-2", "np.inf", "-np.inf"):
    case("norm matrix ord=%s" % ord_, [m34], "np.linalg.norm(x, ord=%s)" % ord_)
    case("norm batched ord=%s axis=(1,2)" % ord_, [a234], "np.linalg.norm(x, ord=%s, axis=(1, 2))" % ord_)
case("norm matrix axis=(1,0)", [m34], "np.linalg.norm(x, ord=1, axis=(1, 0))")
case("svd values", [m34], "np.linalg.svd(x, compute_uv=False)")
case(
    "svd vectors",
    [m34],
    "u, s, vt = np.linalg.svd(x, full_matrices=False)\nreturn np.sum(np.sin(u * s[None, :]) ) + np.sum(vt[0] ** 3 * vt[0, 0])",
)
case(
    "svd vectors square", [m33], "u, s, vt = np.linalg.svd(x)\nreturn np.sum(np.sin(u @ vt)) + np.sum(u[:, 0] * vt[0])"
)
case("svd batched values", [arr(2, 3, 4)], "np.linalg.svd(x, compute_uv=False)")
case(
    "svd batched vectors",
    [arr(2, 4, 3)],
    "u, s, vt = np.linalg.svd(x, full_matrices=False)\nreturn np.sum(np.sin(u * s[:, None, :])) + np.sum((u[..., 0] * vt[:, 0, :1]) ** 2)",
)
case(
    "svd full_matrices wide",
    [m34],
    "u, s, vt = np.linalg.svd(x)\nreturn np.sum(np.sin(u * s)) + np.sum(np.sin(vt[:3]))",
)
case("eigh values", [sym()], "np.linalg.eigh(x)[0]")
case(
    "eigh vectors", [sym()], "w, v = np.linalg.eigh(x)\nreturn np.sum(np.sin(v * w)) + np.sum((v[:, 0] * v[0, 0]) ** 2)"
)
case("eigh UPLO=U", [sym()], "w, v = np.linalg.eigh(x, UPLO='U')\nreturn np.sum(np.sin(w)) + np.sum((v * v[0]) ** 2)")
case("eigh batched", [sym(3, (2,))], "w, v = np.linalg.eigh(x)\nreturn np.sum(np.sin(w)) + np.sum((v * v[:, :1]) ** 2)")
case("eigvalsh", [sym()], "np.linalg.eigvalsh(x)")
case("eigvalsh batched", [sym(3, (2,))], "np.linalg.eigvalsh(x)")
case("eig real values", [sym()], "np.real(np.linalg.eig(x)[0])")
case("eigvals real", [sym()], "np.real(np.linalg.eigvals(x))")
case(
    "eig real nonsymmetric",
    [const(np.array([[2.0, 0.3, 0.1], [0.5, 1.0, 0.2], [0.1, 0.4, -1.0]]))],
    "w, v = np.linalg.eig(x)\nreturn np.sum(np.sin(np.real(w))) + np.sum(np.real(v * v[0]) ** 2)",
)
case("cholesky", [spd()], "np.linalg.cholesky(x)")
case("cholesky batched", [spd(3, (2,))], "np.linalg.cholesky(x)")
case("qr", [m43], "q, r = np.linalg.qr(x)\nreturn np.sum(np.sin(q)) + np.sum(r ** 2 * r[0, 0])")
case("qr square", [m33], "q, r = np.linalg.qr(x)\nreturn np.sum(np.sin(q)) + np.sum(np.sin(r))")
case("qr mode=r", [m43], "np.linalg.qr(x, mode='r')")
case("qr batched", [arr(2, 4, 3)], "q, r = np.linalg.qr(x)\nreturn np.sum(np.sin(q)) + np.sum(np.sin(r))")
case("pinv", [m34], "np.linalg.pinv(x)")
case("pinv batched", [arr(2, 3, 4)], "np.linalg.pinv(x)")
case("lstsq", [m43, vec(4)], "np.linalg.lstsq(x, y, rcond=None)[0]")
case("lstsq matrix rhs", [m43, mat(4, 2)], "np.linalg.lstsq(x, y, rcond=None)[0]")
case("lstsq residuals", [m43, vec(4)], "np.linalg.lstsq(x, y, rcond=None)[1]")
case("matrix_power 3", [m33], "np.linalg.matrix_power(x, 3)")
case("matrix_power 0", [m33], "x * np.linalg.matrix_power(x, 0)")
case("matrix_power -2", [spd()], "np.linalg.matrix_power(x, -2)")
case("matrix_power batched", [arr(2, 3, 3)], "np.linalg.matrix_power(x, 2)")
case("multi_dot", [m34, m43, m33], "np.linalg.multi_dot([x, y, z])")
case("multi_dot vector ends", [vec(3), m34, vec(4)], "np.linalg.multi_dot([x, y, z])")
case(
    "tensorsolve",
    [const(R.uniform(-1, 1, (2, 3, 6)) + np.eye(6).reshape(2, 3, 6) * 3), mat(2, 3)],
    "np.linalg.tensorsolve(x, y)",
)
case("svdvals", [m34], "np.linalg.svdvals(x)") if hasattr(np.linalg, "svdvals") else None
case("cond", [spd()], "np.linalg.cond(x)")
case("cond fro", [spd()], "np.linalg.cond(x, 'fro')")
case("cond 1", [spd()], "np.linalg.cond(x, 1)")
case("cond -2", [spd()], "np.linalg.cond(x, -2)")
case("cond batched", [spd(3, (2,))], "np.linalg.cond(x)")
case("det", [m33], "np.linalg.det(x)")
case("det batched", [arr(2, 3, 3)], "np.linalg.det(x)")
case("slogdet", [spd()], "return np.sin(np.linalg.slogdet(x)[1])")
case("slogdet batched", [spd(3, (2,))], "np.linalg.slogdet(x)[1]")
case("inv", [spd()], "np.linalg.inv(x)")
case("inv batched", [spd(3, (2,))], "np.linalg.inv(x)")
case("solve", [spd(), vec(3)], "np.linalg.solve(x, y)")
case("solve batched", [spd(3, (2,)), arr(2, 3, 2)], "np.linalg.solve(x, y)")
case("matrix_rank nondiff", [m33], "x * np.linalg.matrix_rank(x)", nondiff=True)

# ---- methods and dtypes
case("x.cumsum(axis=0)", [m34], "x.cumsum(axis=0)")
case("x.cumprod()", [m34], "x.cumprod()")
case("x.clip(lo, hi)", [x5], "x.clip(-0.5, 0.5)")
case("np.clip", [x5], "np.clip(x, -0.5, 0.5)")
case("x.dot(y)", [m34, m43], "x.dot(y)")
case("x.T", [m34], "x.T * np.arange(3.0)")
case("x.flatten()", [m34], "x.flatten() * np.arange(12.0)")
case("x.astype(np.float32)", [m34], "x.astype(np.float32).astype(np.float64)", tol=1e-3, step=1e-3)
case("x.sort() in place", [x5], "a = x.copy()\na.sort()\nreturn np.sum(np.sin(a * np.arange(5.0)))")
case("x.ptp()", [m34], "np.ptp(x, axis=0)")
case("x.trace()", [m34], "x.trace(offset=1)")
case("np.trace", [m33], "np.trace(x)")
case("x.std(ddof=1)", [m34], "x.std(axis=0, ddof=1)")
case("x.var()", [m34], "x.var()")
case("x.prod(axis=1)", [m34], "x.prod(axis=1)")
case("x.max(axis=0)", [m34], "x.max(axis=0)")
case("x.mean(keepdims)", [m34], "x.mean(axis=1, keepdims=True)")
case("x.repeat", [vec(3)], "x.repeat(2)")
case("x.swapaxes", [a234], "x.swapaxes(0, 2) * np.arange(2.0)")
case("x.reshape(-1)", [m34], "x.reshape(-1) * np.arange(12.0)")
case("x.squeeze()", [mat(1, 4)], "x.squeeze() * np.arange(4.0)")
case("x.ravel()", [m34], "x.ravel() * np.arange(12.0)")
case("x.take", [m34], "x.take([1, 2])")
case("x.round() nondiff", [x5], "x * x.round()", nondiff=True)

# ---- SciPy
if HAVE_SCIPY:
    case("logsumexp", [x5], "sp.logsumexp(x)")
    case("logsumexp axis=1", [m34], "sp.logsumexp(x, axis=1)")
    case("logsumexp b", [x5, pos5], "sp.logsumexp(x, b=y)")
    case("logsumexp keepdims", [m34], "sp.logsumexp(x, axis=0, keepdims=True)")
    case("expit", [x5], "sp.expit(x)")
    case("logit", [vec(5, 0.1, 0.9)], "sp.logit(x)")
    case("softmax", [x5], "sp.softmax(x) * np.arange(5.0)")
    case("softmax axis=0", [m34], "sp.softmax(x, axis=0) * np.arange(4.0)")
    case("log_softmax", [x5], "sp.log_softmax(x) * np.arange(5.0)")
    case("log_softmax axis=1", [m34], "sp.log_softmax(x, axis=1) * np.arange(4.0)")
    case("erf", [x5], "sp.erf(x)")
    case("erfc", [x5], "sp.erfc(x)")
    case("erfinv", [vec(5, -0.9, 0.9)], "sp.erfinv(x)")
    case("erfcinv", [vec(5, 0.1, 1.9)], "sp.erfcinv(x)")
    case("gamma", [vec(5, 0.5, 3.0)], "sp.gamma(x)")
    case("gammaln", [vec(5, 0.5, 3.0)], "sp.gammaln(x)")
    case("digamma", [vec(5, 0.5, 3.0)], "sp.digamma(x)")
    case("psi", [vec(5, 0.5, 3.0)], "sp.psi(x)")
    case("polygamma 1", [vec(5, 0.5, 3.0)], "sp.polygamma(1, x)")
    case("polygamma 2", [vec(5, 0.5, 3.0)], "sp.polygamma(2, x)")
    case("beta", [vec(5, 0.5, 3.0), vec(5, 0.5, 3.0)], "sp.beta(x, y)")
    case("betaln", [vec(5, 0.5, 3.0), vec(5, 0.5, 3.0)], "sp.betaln(x, y)")
    case("xlogy", [x5, pos5], "sp.xlogy(x, y)")
    case("xlog1py", [x5, pos5], "sp.xlog1py(x, y)")
    case("i0", [x5], "sp.i0(x)")
    case("i1", [x5], "sp.i1(x)")
    case("i0e", [x5], "sp.i0e(x)")
    case("i1e", [x5], "sp.i1e(x)")
    case("j0", [x5], "sp.j0(x)")
    case("j1", [x5], "sp.j1(x)")
    case("y0", [pos5], "sp.y0(x)")
    case("y1", [pos5], "sp.y1(x)")
    case("entr", [pos5], "sp.entr(x)")
    case("rel_entr", [pos5, pos5], "sp.rel_entr(x, y)")
    case("kl_div", [pos5, pos5], "sp.kl_div(x, y)")
    case("ndtr", [x5], "sp.ndtr(x)")
    case("ndtri", [vec(5, 0.1, 0.9)], "sp.ndtri(x)")
    case("log_ndtr", [x5], "sp.log_ndtr(x)")
    case("gammainc", [vec(5, 0.5, 3.0), pos5], "sp.gammainc(x, y)", wrt=(1,))
    case("gammaincc", [vec(5, 0.5, 3.0), pos5], "sp.gammaincc(x, y)", wrt=(1,))
    case("multigammaln", [vec(5, 2.0, 4.0)], "return np.sum(np.sin(sp.multigammaln(x[0], 2)))")
    # scipy.stats
    case("norm.logpdf", [x5, const(0.2), const(1.3)], "st.norm.logpdf(x, y, z)")
    case("norm.logpdf kw", [x5, const(0.2), const(1.3)], "st.norm.logpdf(x, loc=y, scale=z)")
    case("norm.pdf", [x5, const(0.2), const(1.3)], "st.norm.pdf(x, y, z)")
    case("norm.cdf", [x5, const(0.2), const(1.3)], "st.norm.cdf(x, y, z)")
    case("norm.logcdf", [x5, const(0.2), const(1.3)], "st.norm.logcdf(x, y, z)")
    case("norm.sf", [x5], "st.norm.sf(x)")
    case("norm.ppf", [vec(5, 0.1, 0.9)], "st.norm.ppf(x)")
    case("t.logpdf", [x5, const(3.5), const(0.2), const(1.3)], "st.t.logpdf(x, y, z, w)")
    case("t.pdf", [x5, const(3.5)], "st.t.pdf(x, y)")
    case("t.cdf", [x5, const(3.5)], "st.t.cdf(x, y)", wrt=(0,))
    case("t.cdf wrt df", [x5, const(3.5)], "st.t.cdf(x, y)")
    case("gamma.logpdf", [pos5, const(2.5)], "st.gamma.logpdf(x, y)")
    case("gamma.logpdf scale", [pos5, const(2.5), const(1.5)], "st.gamma.logpdf(x, y, scale=z)")
    case("gamma.pdf", [pos5, const(2.5)], "st.gamma.pdf(x, y)")
    case("gamma.cdf", [pos5, const(2.5)], "st.gamma.cdf(x, y)")
    case("beta.logpdf", [vec(5, 0.1, 0.9), const(2.0), const(3.0)], "st.beta.logpdf(x, y, z)")
    case("beta.pdf", [vec(5, 0.1, 0.9), const(2.0), const(3.0)], "st.beta.pdf(x, y, z)")
    case("beta.cdf", [vec(5, 0.1, 0.9), const(2.0), const(3.0)], "st.beta.cdf(x, y, z)", wrt=(0,))
    case("poisson.logpmf", [const(np.array([0.0, 1.0, 3.0, 5.0])), const(2.3)], "st.poisson.logpmf(x, y)", wrt=(1,))
    case("poisson.pmf", [const(np.array([0.0, 1.0, 3.0, 5.0])), const(2.3)], "st.poisson.pmf(x, y)", wrt=(1,))
    case("poisson.cdf", [const(np.array([0.0, 1.0, 3.0, 5.0])), const(2.3)], "st.poisson.cdf(x, y)", wrt=(1,))
    for method in ("sf", "logcdf", "logsf"):
        case("gamma." + method, [pos5, const(2.5)], "st.gamma.%s(x, y)" % method, wrt=(0,))
        case("beta." + method, [vec(5, 0.1, 0.9), const(2.0), const(3.0)], "st.beta.%s(x, y, z)" % method, wrt=(0,))
        case("chi2." + method, [pos5, const(3.0)], "st.chi2.%s(x, y)" % method, wrt=(0,))
        case(
            "poisson." + method,
            [const(np.array([0.0, 1.0, 3.0, 5.0])), const(2.3)],
            "st.poisson.%s(x, y)" % method,
            wrt=(1,),
        )
    case("mvn.logpdf", [vec(3), vec(3), spd()], "st.multivariate_normal.logpdf(x, y, z)")
    case("mvn.logpdf batch of x", [mat(4, 3), vec(3), spd()], "st.multivariate_normal.logpdf(x, y, z)")
    case("mvn.pdf", [vec(3), vec(3), spd()], "st.multivariate_normal.pdf(x, y, z)")
    case(
        "dirichlet.logpdf", [const(np.array([0.2, 0.3, 0.5])), vec(3, 0.5, 3.0)], "st.dirichlet.logpdf(x, y)", wrt=(1,)
    )
    case("dirichlet.pdf", [const(np.array([0.2, 0.3, 0.5])), vec(3, 0.5, 3.0)], "st.dirichlet.pdf(x, y)", wrt=(1,))
    case("expon.logpdf", [pos5, const(1.5)], "st.expon.logpdf(x, scale=y)")
    case("laplace.logpdf", [x5, const(0.1), const(1.5)], "st.laplace.logpdf(x, y, z)")
    case("logistic.logpdf", [x5], "st.logistic.logpdf(x)")
    case("cauchy.logpdf", [x5], "st.cauchy.logpdf(x)")
    # scipy.linalg
    TRI = "np.tril(x) + 3.0 * np.eye(3)"
    case("solve_triangular lower", [m33, vec(3)], "sla.solve_triangular(%s, y, lower=True)" % TRI)
    case("solve_triangular upper trans", [m33, mat(3, 2)], "sla.solve_triangular((%s).T, y, trans='T')" % TRI)
    case(
        "solve_triangular unit_diagonal",
        [m33, vec(3)],
        "sla.solve_triangular(%s, y, lower=True, unit_diagonal=True)" % TRI,
    )
    case("cho_factor/cho_solve", [spd(), vec(3)], "return np.sum(np.sin(sla.cho_solve(sla.cho_factor(x), y)))")
    case(
        "cho_factor lower",
        [spd(), mat(3, 2)],
        "c = sla.cho_factor(x, lower=True)\nreturn np.sum(np.sin(sla.cho_solve(c, y)))",
    )
    case("cho_factor factor", [spd()], "return np.sum(np.sin(np.triu(sla.cho_factor(x)[0])))")
    case("scipy cholesky", [spd()], "sla.cholesky(x)")
    case("scipy cholesky lower", [spd()], "sla.cholesky(x, lower=True)")
    case("expm", [m33], "sla.expm(x)")
    case("expm batched", [arr(2, 3, 3)], "sla.expm(x)")
    case("sqrtm", [spd()], "sla.sqrtm(x)")
    case("logm", [spd()], "sla.logm(x)")
    case("scipy solve", [spd(), vec(3)], "sla.solve(x, y)")
    case("scipy solve assume_a=pos", [spd(), vec(3)], "sla.solve(x, y, assume_a='pos')")
    case("scipy inv", [spd()], "sla.inv(x)")
    case("scipy det", [m33], "sla.det(x)")
    case("lu_factor/lu_solve", [spd(), vec(3)], "return np.sum(np.sin(sla.lu_solve(sla.lu_factor(x), y)))")
    # scipy.signal
    for mode in ("full", "same", "valid"):
        case("signal.convolve %s" % mode, [x6, vec(3)], "ss.convolve(x, y, mode=%r)" % mode)
        case("signal.correlate %s" % mode, [x6, vec(3)], "ss.correlate(x, y, mode=%r)" % mode)
    case("signal.convolve 2-d", [m34, mat(2, 2)], "ss.convolve(x, y)")
    case("signal.convolve method=direct", [x6, vec(3)], "ss.convolve(x, y, method='direct')")
    case("signal.fftconvolve", [x6, vec(3)], "ss.fftconvolve(x, y)")

# ---- special points where the function is smooth but a formula may not be (a division by a difference
# of eigenvalues, by a determinant, an overflow), so that the differences are a valid reference
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
case("det of a singular matrix", [const(SINGULAR)], "np.linalg.det(x)")
case("det of a rank-1 matrix", [const(np.outer([1.0, 2.0, 3.0], [0.5, -1.0, 2.0]))], "np.linalg.det(x)")
case("eigvalsh at identity (sum of squares)", [const(np.eye(3))], "return np.sum(np.linalg.eigvalsh(x) ** 2)")
case("eigh values at identity (sum of cubes)", [const(np.eye(3))], "return np.sum(np.linalg.eigh(x)[0] ** 3)")
case(
    "svd values at identity (sum of squares)",
    [const(np.eye(3))],
    "return np.sum(np.linalg.svd(x, compute_uv=False) ** 2)",
)
case(
    "norm nuc near identity", [const(np.eye(3) * 2.0 + 0.01 * np.arange(9.0).reshape(3, 3))], "np.linalg.norm(x, 'nuc')"
)
case("expm of zero", [const(np.zeros((3, 3)))], "sla.expm(x)")
case("expm of identity", [const(np.eye(3))], "sla.expm(x)")
case("expm nilpotent", [const(np.triu(np.ones((3, 3)), 1))], "sla.expm(x)")
case("sqrtm of identity", [const(np.eye(3))], "sla.sqrtm(x)")
case("logm of identity", [const(np.eye(3))], "sla.logm(x)")
case("matrix_power 2 of singular", [const(SINGULAR)], "np.linalg.matrix_power(x, 2)")
case("logaddexp large", [const(np.array([1000.0, -1000.0])), const(np.array([999.0, -1001.0]))], "np.logaddexp(x, y)")
case("logsumexp large", [const(np.array([1000.0, 999.0, -5.0]))], "sp.logsumexp(x)")
case("expit large", [const(np.array([-800.0, 800.0, 30.0]))], "sp.expit(x)")
case("log_softmax large", [const(np.array([1000.0, 999.0, 0.0]))], "sp.log_softmax(x) * np.arange(3.0)")
case("sinc at integers", [const(np.array([1.0, -2.0, 3.0]))], "np.sinc(x)")
case("power 2 and 3 at 0", [const(np.array([0.0, 0.0]))], "x ** 2 + x ** 3 + np.power(x, 4)")
case("prod with a zero", [const(np.array([2.0, 0.0, 3.0]))], "np.prod(x)")
case("prod with two zeros", [const(np.array([2.0, 0.0, 0.0, 3.0]))], "np.prod(x) + np.prod(x[1:] + 1.0)")
case("cumprod with zeros 2-d", [const(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]]))], "np.cumprod(x, axis=1)")
case("xlogy at x = 0", [const(np.array([0.0, 0.0])), pos5], "sp.xlogy(x, y[:2])")
case("xlog1py at x = 0", [const(np.array([0.0, 0.0])), pos5], "sp.xlog1py(x, y[:2])")
case(
    "rel_entr at x = 0 (one-sided)",
    [const(np.array([0.0, 0.0])), pos5],
    "return np.sum(np.sin(sp.rel_entr(x, y[:2]))) + np.sum(x * y[:2])",
    wrt=(1,),
)
case("kl_div at x = 0", [const(np.array([0.0, 0.0])), pos5], "sp.kl_div(x, y[:2])", wrt=(1,))
case("norm 2 with a zero entry", [const(np.array([0.0, 3.0, 4.0]))], "np.linalg.norm(x)")
case("var of two", [vec(2)], "np.var(x)")
case("cov of two observations", [mat(3, 2)], "np.cov(x)")
case("corrcoef 3 observations", [mat(2, 3)], "np.corrcoef(x)")
case("arctanh at 0", [const(np.array([0.0]))], "np.arctanh(x)")
case("erfinv at 0", [const(np.array([0.0]))], "sp.erfinv(x)")
case("gammaln negative non-integer", [const(np.array([-0.5, -1.5]))], "sp.gammaln(x)")
case("digamma negative", [const(np.array([-0.5, -1.5]))], "sp.digamma(x)")
case("solve with a 1-column matrix rhs", [spd(), mat(3, 1)], "np.linalg.solve(x, y)")
case("inv 1x1", [const(np.array([[2.0]]))], "np.linalg.inv(x)")
case("cholesky 1x1", [const(np.array([[2.0]]))], "np.linalg.cholesky(x)")
case("float32 sum", [const(np.array([0.3, 0.7], dtype=np.float32))], "np.sum(x * x)", tol=1e-3, step=1e-3)

PARAMS = ("x", "y", "z", "w")


def build_module(cases):
    lines = [HEADER]
    for i, (label, args, body, wrt, nondiff, tol) in enumerate(cases):
        params = ", ".join(PARAMS[: len(args)])
        if "return" not in body:
            body = "return np.sum(np.sin(%s))" % body
        lines.append("def case_%d(%s):  # %s\n%s\n" % (i, params, label, textwrap.indent(body, "    ")))
    directory = tempfile.mkdtemp(prefix="issue13_")
    path = os.path.join(directory, "issue13_cases.py")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    spec = importlib.util.spec_from_file_location("issue13_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flat(values):
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])


def unflat(vector, like):
    out, k = [], 0
    for v in like:
        n = np.size(v)
        piece = vector[k : k + n]
        out.append(float(piece[0]) if np.ndim(v) == 0 else piece.reshape(np.shape(v)))
        k += n
    return out


def substituted(args, wrt, values):
    new = list(args)
    for i, v in zip(wrt, values):
        new[i] = v
    return new


def central(fun, args, wrt, h=1e-6):
    """The gradient of the scalar fun at args w.r.t. the positions wrt, by central differences."""
    base = flat([args[i] for i in wrt])
    like = [args[i] for i in wrt]
    out = np.zeros_like(base)
    for k in range(base.size):
        e = np.zeros_like(base)
        e[k] = h
        up = fun(*substituted(args, wrt, unflat(base + e, like)))
        down = fun(*substituted(args, wrt, unflat(base - e, like)))
        out[k] = (np.asarray(up, dtype=float) - np.asarray(down, dtype=float)).sum() / (2 * h)
    return out


def close(a, b, tol):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    return np.max(np.abs(a - b)) <= tol * (1.0 + np.max(np.abs(b)))


REFUSALS = (ac.CompileError, NotImplementedError)


def describe(e):
    message = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return "%s: %s" % (type(e).__name__, message[:150])


def attempt(check, verbose):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok, detail = check()
        if ok:
            return "ok", ""
        return ("nan", detail) if "nan" in detail or "inf" in detail else ("WRONG", detail)
    except REFUSALS as e:
        return "refused", describe(e)
    except Exception as e:  # noqa: BLE001 (a table of outcomes: every exception is one)
        if verbose:
            traceback.print_exc()
        return "error", describe(e)


def as_tuple(g, n):
    return tuple(g) if n > 1 else (g,)


def run_case(fun, label, args, wrt, tol, verbose):
    tol, step = tol
    wrt_arg = wrt if len(wrt) > 1 else wrt[0]
    like = [args[i] for i in wrt]
    rs = np.random.RandomState(1)
    direction = [rs.standard_normal(np.shape(v)) if np.ndim(v) else float(rs.standard_normal()) for v in like]
    tangent = tuple(direction) if len(wrt) > 1 else direction[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fd = central(fun, args, wrt, step)
        except Exception as e:  # noqa: BLE001 (the case itself is at fault: reported, not raised)
            return {c: ("error", "the reference failed: " + describe(e)) for c in ("rev", "fwd", "2nd")}
    results = {}

    def rev():
        g = ac.grad(fun, wrt=wrt_arg)(*args)
        got = flat(as_tuple(g, len(wrt)))
        return close(got, fd, tol), "max |ad - fd| = %.2e" % np.max(
            np.abs(got - fd)
        ) if got.shape == fd.shape else "shape"

    def fwd():
        value, t = ac.jvp(fun, wrt=wrt_arg)(*args, tangent)
        expected = float(fd @ flat(direction))
        return close(t, expected, tol), "jvp %r vs fd %r" % (float(np.asarray(t, dtype=float).sum()), expected)

    def second():
        hv = flat(as_tuple(ac.hvp(fun, wrt=wrt_arg)(*args, tangent), len(wrt)))
        gradient = ac.grad(fun, wrt=wrt_arg)
        base = flat(like)
        d = flat(direction)
        h = max(step, 1e-5)

        def at(step):
            values = unflat(base + step * d, like)
            return flat(as_tuple(gradient(*substituted(args, wrt, values)), len(wrt)))

        expected = (at(h) - at(-h)) / (2 * h)
        return close(hv, expected, max(tol, 1e-4)), "max |hvp - fd| = %.2e" % np.max(np.abs(hv - expected))

    results["rev"] = attempt(rev, verbose)
    results["fwd"] = attempt(fwd, verbose)
    results["2nd"] = attempt(second, verbose) if results["rev"][0] == "ok" else ("-", "")
    return results


def main(argv):
    verbose = "-v" in argv
    words = [a for a in argv if not a.startswith("-")]
    cases = [c for c in CASES if not words or any(w in c[0] for w in words)]
    module = build_module(cases)
    counts = {k: collections.Counter() for k in ("rev", "fwd", "2nd")}
    width = max(len(c[0]) for c in cases)
    print("%-*s  %-7s %-7s %-7s  %s" % (width, "function", "rev", "fwd", "2nd", "note"))
    wrong = 0
    for i, (label, args, body, wrt, nondiff, tol) in enumerate(cases):
        fun = getattr(module, "case_%d" % i)
        values = [make() for make in args]
        results = run_case(fun, label, values, wrt, tol, verbose)
        notes = []
        for column in ("rev", "fwd", "2nd"):
            status, detail = results[column]
            counts[column][status] += 1
            wrong += status == "WRONG"
            if detail and detail not in notes:
                notes.append("%s: %s" % (column, detail))
        cells = [results[c][0] for c in ("rev", "fwd", "2nd")]
        print("%-*s  %-7s %-7s %-7s  %s" % (width, label, *cells, " | ".join(notes)))
        sys.stdout.flush()
    print()
    print("%d cases (NumPy %s)" % (len(cases), np.__version__))
    for column in ("rev", "fwd", "2nd"):
        print("  %s: %s" % (column, ", ".join("%s %d" % kv for kv in sorted(counts[column].items()))))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
