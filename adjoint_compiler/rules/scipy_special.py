"""Adjoints of ``scipy.special``: the logistic and softmax family (softplus too, SciPy 1.15+), the error, gamma (and
loggamma) and beta functions, expm1, log1p, log_expit, exprel, cbrt, spence, Hurwitz's zeta in q, the huber and
pseudo_huber losses, boxcox, Bessel functions (of order 0 and 1, and of any order in x; k0, k1, k0e, k1e), entropies,
the normal distribution's ``ndtr`` family, exp1, expi, dawsn, erfi, Owen's T, the complete elliptic integrals ellipk
and ellipe, hyp1f1 in z, binom and poch of real arguments, gammaincinv and gammainccinv in y, and multigammaln.

Registered only where SciPy is installed and the user imports ``scipy.special`` (rules/__init__.py);
rule bodies call SciPy through the module bound here as ``scipy_special``, so emitted code reads
``import scipy.special as scipy_special``. Every function but ``logsumexp``, ``softmax``,
``log_softmax``, ``polygamma``, ``multigammaln`` and ``softplus`` is a ufunc: forward mode derives its tangent from the
adjoint rule (the same body less ``unbroadcast``); those six have tangent rules. A ufunc's keywords (``out=``,
``where=``, ``dtype=``) and ``logsumexp``'s ``return_sign=`` are not parameters of the rules, so a call
passing one is refused at its place (``... with an argument its derivative rule does not take``).

Conventions at special points, those of SciPy's values and of JAX's derivatives: ``xlogy(0, y)`` is 0
for every y, so its derivative in y is 0 there and in x it is ``log(y)`` (JAX's); ``i0e``/``i1e``
take the subgradient of ``|x|`` with ``np.sign(0) == 0``; ``rgamma``'s derivative at the poles of Gamma is
the limit ``(-1)^n n!``. ``gammainc``/``gammaincc``/``betainc`` are differentiated in ``x`` only: their
derivative in a shape has no closed form, and neither has that of a Bessel function (``jv``, ``yv``,
``iv``, ``ive``, ``kv``, ``kve``) in its real order, nor that of ``hyp1f1`` in ``a`` and ``b`` or of ``gammaincinv``
and ``gammainccinv`` in ``a``: the rule's result for it is
``runtime.no_derivative(...)``, which the compiler refuses with a located ``UnsupportedError`` at a call
where that argument is differentiated (``templates.unavailable``). ``yn``'s and ``polygamma``'s integer
orders get no derivative; ``gammasgn`` is declared piecewise constant.

Invariant: each rule gives each operand's cotangent in that operand's shape (``unbroadcast`` for the
binary ufuncs), and every formula is the derivative of SciPy's function on its real domain.

>>> import scipy.special
>>> from adjoint_compiler.rules import registry
>>> registry.lookup(scipy.special.expit).rule(1.0, 0.5, 0.0)  # sigma' = sigma (1 - sigma)
0.25
>>> registry.lookup(scipy.special.psi) is registry.lookup(scipy.special.digamma)  # one ufunc, two names
True
"""

import numpy as np
from scipy import special as scipy_special

from adjoint_compiler.rules.registry import adjoint, nondifferentiable, tangent
from adjoint_compiler.runtime import is_none, no_derivative, unbroadcast, unreduce

# ---- logistic and softmax --------------------------------------------------------------------------


@adjoint(scipy_special.expit)
def expit_adjoint(g, ans, x):
    # sigma' = sigma (1 - sigma)
    return g * ans * (1.0 - ans)


@adjoint(scipy_special.logit, masked=True)
def logit_adjoint(g, ans, x):
    # log(x / (1 - x))' = 1 / (x (1 - x)); infinite at 0 and 1
    return g / (x * (1.0 - x))


@adjoint(scipy_special.logsumexp)
def logsumexp_adjoint(g, ans, a, axis=None, b=None, keepdims=False):
    # d log sum_i b_i e^(a_i) = (b_i e^(a_i) da_i + e^(a_i) db_i) / sum_j b_j e^(a_j): the weights
    # e^(a_i - ans), ans spread back over the reduced axes. a and b broadcast against each other, so
    # both cotangents go back through unbroadcast.
    spread = a if is_none(b) else a * np.ones_like(b)  # a over the broadcast shape (a shape for unreduce only)
    e = np.exp(a - unreduce(ans, spread, axis, keepdims))
    gs = unreduce(g, spread, axis, keepdims)
    return (
        unbroadcast(gs * e if is_none(b) else gs * e * b, a),
        None,
        None if is_none(b) else unbroadcast(gs * e, b),
        None,
    )


@tangent(scipy_special.logsumexp)
def logsumexp_tangent(dot, ans, a, axis=None, b=None, keepdims=False):
    spread = a if is_none(b) else a * np.ones_like(b)
    e = np.exp(a - unreduce(ans, spread, axis, keepdims))
    return (
        np.sum(dot * e if is_none(b) else dot * e * b, axis=axis, keepdims=keepdims),
        None,
        None if is_none(b) else np.sum(dot * e, axis=axis, keepdims=keepdims),
        None,
    )


@adjoint(scipy_special.softmax)
def softmax_adjoint(g, ans, x, axis=None):
    # s = softmax(x): ds = s (dx - <s, dx>) over the axis, so x_bar = s (g - <g, s>) (axis=None: all of x)
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True)), None


@tangent(scipy_special.softmax)
def softmax_tangent(dot, ans, x, axis=None):
    return ans * (dot - np.sum(dot * ans, axis=axis, keepdims=True)), None


@adjoint(scipy_special.log_softmax)
def log_softmax_adjoint(g, ans, x, axis=None):
    # x - logsumexp(x): x_bar = g - softmax(x) sum(g), softmax(x) = exp(ans)
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True), None


@tangent(scipy_special.log_softmax)
def log_softmax_tangent(dot, ans, x, axis=None):
    return dot - np.sum(np.exp(ans) * dot, axis=axis, keepdims=True), None


# ---- error function and the normal distribution ------------------------------------------------------


@adjoint(scipy_special.erf, complex_ok=True)
def erf_adjoint(g, ans, x):
    # erf' = 2 / sqrt(pi) e^(-x^2)
    return g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)


@adjoint(scipy_special.erfc, complex_ok=True)
def erfc_adjoint(g, ans, x):
    return -g * (2.0 / np.sqrt(np.pi)) * np.exp(-x * x)


@adjoint(scipy_special.erfinv, masked=True)
def erfinv_adjoint(g, ans, x):
    # the inverse's derivative 1 / erf'(ans) = sqrt(pi) / 2 e^(ans^2); infinite at -1 and 1
    return g * (np.sqrt(np.pi) / 2.0) * np.exp(ans * ans)


@adjoint(scipy_special.erfcinv, masked=True)
def erfcinv_adjoint(g, ans, x):
    # erfcinv(x) = erfinv(1 - x)
    return -g * (np.sqrt(np.pi) / 2.0) * np.exp(ans * ans)


@adjoint(scipy_special.ndtr)
def ndtr_adjoint(g, ans, x):
    # the standard normal CDF: its derivative is the density
    return g * np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


@adjoint(scipy_special.ndtri, masked=True)
def ndtri_adjoint(g, ans, x):
    # the inverse CDF: 1 / density(ans); infinite at 0 and 1
    return g * np.sqrt(2.0 * np.pi) * np.exp(0.5 * ans * ans)


@adjoint(scipy_special.erfcx)
def erfcx_adjoint(g, ans, x):
    # e^(x^2) erfc(x): 2 x e^(x^2) erfc(x) - 2 / sqrt(pi), reusing the scaled value (no overflow of e^(x^2))
    return g * (2.0 * x * ans - 2.0 / np.sqrt(np.pi))


@adjoint(scipy_special.log_ndtr)
def log_ndtr_adjoint(g, ans, x):
    # density(x) / ndtr(x) = exp(-x^2 / 2 - ans) / sqrt(2 pi): no underflow of ndtr(x) far in the left tail
    return g * np.exp(-0.5 * x * x - ans) / np.sqrt(2.0 * np.pi)


# ---- gamma and beta -----------------------------------------------------------------------------------


@adjoint(scipy_special.gamma)
def gamma_adjoint(g, ans, x):
    # Gamma' = Gamma psi
    return g * ans * scipy_special.digamma(x)


@adjoint(scipy_special.rgamma)
def rgamma_adjoint(g, ans, x):
    # (1 / Gamma)' = -psi / Gamma; at its zeros x = -n (the poles of Gamma, where psi is infinite) the limit
    # (-1)^n n! = cos(pi x) Gamma(1 - x)
    pole = ans == 0.0
    return g * np.where(
        pole, np.cos(np.pi * x) * scipy_special.gamma(1.0 - x), -ans * scipy_special.digamma(np.where(pole, 1.0, x))
    )


@adjoint(scipy_special.gammaln)
def gammaln_adjoint(g, ans, x):
    # d ln|Gamma(x)| = psi(x), also where Gamma(x) < 0
    return g * scipy_special.digamma(x)


@adjoint(scipy_special.loggamma)
def loggamma_adjoint(g, ans, x):
    # the principal branch of log Gamma; on the positive reals (where a real argument has a real value) gammaln,
    # d/dx = psi(x)
    return g * scipy_special.digamma(x)


@adjoint(scipy_special.digamma)  # scipy.special.psi is the same ufunc
def digamma_adjoint(g, ans, x):
    return g * scipy_special.polygamma(1, x)


@adjoint(scipy_special.polygamma)
def polygamma_adjoint(g, ans, n, x):
    # the order n is an integer: no derivative
    return None, g * scipy_special.polygamma(n + 1, x)


@tangent(scipy_special.polygamma)
def polygamma_tangent(dot, ans, n, x):
    return None, dot * scipy_special.polygamma(n + 1, x)


@adjoint(scipy_special.beta)
def beta_adjoint(g, ans, a, b):
    # B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b): dB/da = B (psi(a) - psi(a + b)), and the same in b
    psi_ab = scipy_special.digamma(a + b)
    return (
        unbroadcast(g * ans * (scipy_special.digamma(a) - psi_ab), a),
        unbroadcast(g * ans * (scipy_special.digamma(b) - psi_ab), b),
    )


@adjoint(scipy_special.betaln)
def betaln_adjoint(g, ans, a, b):
    psi_ab = scipy_special.digamma(a + b)
    return (
        unbroadcast(g * (scipy_special.digamma(a) - psi_ab), a),
        unbroadcast(g * (scipy_special.digamma(b) - psi_ab), b),
    )


@adjoint(scipy_special.gammainc)
def gammainc_adjoint(g, ans, a, x):
    # P(a, x) = int_0^x t^(a-1) e^(-t) dt / Gamma(a): dP/dx = x^(a-1) e^(-x) / Gamma(a) (xlogy: 1 at
    # x == 0 for a == 1). No closed form in a: refused there (runtime.no_derivative).
    return (
        no_derivative("scipy.special.gammainc", "a", "its derivative in the shape a has no closed form"),
        unbroadcast(g * np.exp(scipy_special.xlogy(a - 1.0, x) - x - scipy_special.gammaln(a)), x),
    )


@adjoint(scipy_special.gammaincc)
def gammaincc_adjoint(g, ans, a, x):
    # Q = 1 - P
    return (
        no_derivative("scipy.special.gammaincc", "a", "its derivative in the shape a has no closed form"),
        unbroadcast(-g * np.exp(scipy_special.xlogy(a - 1.0, x) - x - scipy_special.gammaln(a)), x),
    )


@adjoint(scipy_special.betainc)
def betainc_adjoint(g, ans, a, b, x):
    # I_x(a, b) = int_0^x t^(a-1) (1-t)^(b-1) dt / B(a, b): d/dx = x^(a-1) (1-x)^(b-1) / B(a, b). No closed
    # form in a or b: refused there.
    return (
        no_derivative("scipy.special.betainc", "a", "its derivative in the shape a has no closed form"),
        no_derivative("scipy.special.betainc", "b", "its derivative in the shape b has no closed form"),
        unbroadcast(
            g
            * np.exp(scipy_special.xlogy(a - 1.0, x) + scipy_special.xlog1py(b - 1.0, -x) - scipy_special.betaln(a, b)),
            x,
        ),
    )


# ---- x log y and entropies ----------------------------------------------------------------------------


@adjoint(scipy_special.xlogy)
def xlogy_adjoint(g, ans, x, y):
    # x log y, 0 where x == 0 (for every y): d/dx = log y (also at x == 0, as JAX), d/dy = x / y, exactly 0
    # where x == 0 (the value is constant in y there; never 0 / 0). The divisor stays y at x == 0 unless y is
    # 0 too, so that differentiated again in x it gives 1 / y there (np13h: a 1 in its place gave 1)
    return (
        unbroadcast(g * np.log(y), x),
        unbroadcast(g * x / np.where((x == 0.0) & (y == 0.0), 1.0, y), y),
    )


@adjoint(scipy_special.xlog1py)
def xlog1py_adjoint(g, ans, x, y):
    # x log(1 + y), 0 where x == 0: as xlogy
    return (
        unbroadcast(g * np.log1p(y), x),
        unbroadcast(g * x / np.where((x == 0.0) & (y == -1.0), 1.0, 1.0 + y), y),
    )


@adjoint(scipy_special.entr, masked=True)
def entr_adjoint(g, ans, x):
    # -x log x: -(log x + 1); +inf at 0
    return -g * (np.log(x) + 1.0)


@adjoint(scipy_special.rel_entr)
def rel_entr_adjoint(g, ans, x, y):
    # x log(x / y): d/dx = log(x / y) + 1, d/dy = -x / y (0 where x == 0, where the value is 0 for every y > 0)
    return (
        unbroadcast(g * (np.log(x / y) + 1.0), x),
        unbroadcast(-g * x / np.where((x == 0.0) & (y == 0.0), 1.0, y), y),
    )


@adjoint(scipy_special.kl_div)
def kl_div_adjoint(g, ans, x, y):
    # x log(x / y) - x + y: d/dx = log(x / y), d/dy = 1 - x / y
    return (
        unbroadcast(g * np.log(x / y), x),
        unbroadcast(g * (1.0 - x / np.where((x == 0.0) & (y == 0.0), 1.0, y)), y),
    )


# ---- accurate elementary functions, losses and transforms (np13p) ----------------------------------------------


@adjoint(scipy_special.cbrt, masked=True)
def cbrt_adjoint(g, ans, x):
    # (x^(1/3))' = 1 / (3 x^(2/3)), negative x too; infinite at 0
    return g / (3.0 * ans * ans)


@adjoint(scipy_special.spence, masked=True)
def spence_adjoint(g, ans, x):
    # spence(z) = int_1^z log(t) / (1 - t) dt: its derivative log(z) / (1 - z), -1 at z = 1 (the limit), -inf at 0
    at_one = x == 1.0
    return g * np.where(at_one, -1.0, np.log(x) / (1.0 - np.where(at_one, 0.0, x)))


@adjoint(scipy_special.zeta)
def zeta_adjoint(g, ans, x, q=None):
    # Hurwitz's zeta(x, q) = sum_k (k + q)^-x: d/dq = -x zeta(x + 1, q); its derivative in x has no closed form
    # (refused where x is differentiated), nor has Riemann's zeta(x) (q=None)
    return (
        no_derivative("scipy.special.zeta", "x", "its derivative in x has no closed form"),
        None if is_none(q) else unbroadcast(-g * x * scipy_special.zeta(x + 1.0, q), q),
    )


@tangent(scipy_special.zeta)
def zeta_tangent(dot, ans, x, q=None):
    # (zeta is a Python function of SciPy's, not a ufunc: its tangent is stated)
    return (
        no_derivative("scipy.special.zeta", "x", "its derivative in x has no closed form"),
        None if is_none(q) else -dot * x * scipy_special.zeta(x + 1.0, q),
    )


@adjoint(scipy_special.expm1)
def expm1_adjoint(g, ans, x):
    # (e^x - 1)' = e^x = ans + 1
    return g * (ans + 1.0)


@adjoint(scipy_special.log1p, masked=True)
def log1p_adjoint(g, ans, x):
    # log(1 + x)' = 1 / (1 + x); infinite at -1
    return g / (1.0 + x)


@adjoint(scipy_special.log_expit)
def log_expit_adjoint(g, ans, x):
    # log sigma(x)' = 1 - sigma(x) = sigma(-x), without cancellation for large x
    return g * scipy_special.expit(-x)


@adjoint(scipy_special.exprel)
def exprel_adjoint(g, ans, x):
    # ((e^x - 1) / x)' = (e^x - ans) / x; near 0 (cancellation) its series 1/2 + x/3 + x^2/8 + x^3/30 (the k-th
    # coefficient (k - 1) / k! of x e^x - e^x + 1, over x^2), whose next term x^4/144 is below rounding there
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return g * np.where(small, 0.5 + x * (1.0 / 3.0 + x * (0.125 + x / 30.0)), (np.exp(safe) - ans) / safe)


@adjoint(scipy_special.huber)
def huber_adjoint(g, ans, delta, r):
    # r^2 / 2 where |r| <= delta, else delta (|r| - delta / 2); inf for delta < 0 (constant: derivative 0).
    # d/dr = r, or delta sign(r) outside; d/ddelta = 0 inside, |r| - delta outside: continuous at |r| == delta
    inside = np.abs(r) <= delta
    valid = delta >= 0.0
    return (
        unbroadcast(np.where(valid & ~inside, g * (np.abs(r) - delta), 0.0), delta),
        unbroadcast(np.where(valid, g * np.where(inside, r, delta * np.sign(r)), 0.0), r),
    )


@adjoint(scipy_special.pseudo_huber)
def pseudo_huber_adjoint(g, ans, delta, r):
    # delta^2 (sqrt(1 + (r / delta)^2) - 1) = delta^2 (s - 1): d/dr = r / s,
    # d/ddelta = 2 delta (s - 1) - r^2 / (s delta) = 2 ans / delta - r^2 / (s delta). At delta == 0 the value is 0
    # for every r (d/dr = 0) and ~ delta |r| for small delta > 0: d/ddelta there is |r|, the one-sided limit
    # (delta < 0: inf, constant: 0)
    positive = delta > 0.0
    d = np.where(positive, delta, 1.0)
    s = np.sqrt(1.0 + (r / d) ** 2)
    return (
        unbroadcast(
            g * np.where(positive, 2.0 * ans / d - r * r / (s * d), np.where(delta == 0.0, np.abs(r), 0.0)), delta
        ),
        unbroadcast(np.where(positive, g * r / s, 0.0), r),
    )


@adjoint(scipy_special.boxcox, masked=True)
def boxcox_adjoint(g, ans, x, lmbda):
    # (x^l - 1) / l (log x at l == 0): d/dx = x^(l - 1); d/dl = (x^l log x - ans) / l = L^2 (t e^t - e^t + 1) / t^2
    # with L = log x, t = l L; near t == 0 (l == 0 included) its series L^2 (1/2 + t/3 + t^2/8 + t^3/30), as exprel's
    logx = np.log(x)
    t = lmbda * logx
    small = np.abs(t) < 1e-3
    safe = np.where(small, 1.0, lmbda)
    return (
        unbroadcast(g * np.exp((lmbda - 1.0) * logx), x),
        unbroadcast(
            g
            * np.where(
                small, logx * logx * (0.5 + t * (1.0 / 3.0 + t * (0.125 + t / 30.0))), (np.exp(t) * logx - ans) / safe
            ),
            lmbda,
        ),
    )


# ---- Bessel functions of order 0 and 1 ----------------------------------------------------------------
# (DLMF 10.6.2 and 10.29.2: C_1' = (C_0 - C_2) / 2 for J and Y, I_1' = (I_0 + I_2) / 2; C_0' = -C_1, I_0' = I_1)


@adjoint(scipy_special.j0)
def j0_adjoint(g, ans, x):
    return -g * scipy_special.j1(x)


@adjoint(scipy_special.j1)
def j1_adjoint(g, ans, x):
    return g * 0.5 * (scipy_special.j0(x) - scipy_special.jv(2, x))


@adjoint(scipy_special.y0, masked=True)
def y0_adjoint(g, ans, x):
    return -g * scipy_special.y1(x)


@adjoint(scipy_special.y1, masked=True)
def y1_adjoint(g, ans, x):
    return g * 0.5 * (scipy_special.y0(x) - scipy_special.yv(2, x))


@adjoint(scipy_special.i0)
def i0_adjoint(g, ans, x):
    return g * scipy_special.i1(x)


@adjoint(scipy_special.i1)
def i1_adjoint(g, ans, x):
    # (I_0 + I_2) / 2 rather than I_0 - I_1 / x: exact at x == 0 (1/2)
    return g * 0.5 * (scipy_special.i0(x) + scipy_special.iv(2, x))


@adjoint(scipy_special.i0e)
def i0e_adjoint(g, ans, x):
    # e^(-|x|) I_0(x): e^(-|x|) I_1(x) - sign(x) e^(-|x|) I_0(x); the subgradient 0 at the kink x == 0
    return g * (scipy_special.i1e(x) - np.sign(x) * ans)


@adjoint(scipy_special.i1e)
def i1e_adjoint(g, ans, x):
    # e^(-|x|) I_1(x): smooth at 0 (I_1(0) == 0), slope 1/2 there
    return g * (0.5 * (scipy_special.i0e(x) + scipy_special.ive(2, x)) - np.sign(x) * ans)


# ---- Bessel functions of any order, in x (DLMF 10.6.1, 10.29.1, 10.29.2:
# C_v' = (C_(v-1) - C_(v+1)) / 2 for J and Y, I_v' = (I_(v-1) + I_(v+1)) / 2, K_v' = -(K_(v-1) + K_(v+1)) / 2).
# The order: an integer for yn (no derivative); real for the others, whose derivative in it has no closed form
# (refused where it is differentiated).


@adjoint(scipy_special.jv)  # scipy.special.jn is the same ufunc
def jv_adjoint(g, ans, v, x):
    return (
        no_derivative("scipy.special.jv", "v", "its derivative in the order has no closed form"),
        unbroadcast(g * 0.5 * (scipy_special.jv(v - 1.0, x) - scipy_special.jv(v + 1.0, x)), x),
    )


@adjoint(scipy_special.yv)
def yv_adjoint(g, ans, v, x):
    return (
        no_derivative("scipy.special.yv", "v", "its derivative in the order has no closed form"),
        unbroadcast(g * 0.5 * (scipy_special.yv(v - 1.0, x) - scipy_special.yv(v + 1.0, x)), x),
    )


@adjoint(scipy_special.yn)
def yn_adjoint(g, ans, n, x):
    return None, unbroadcast(g * 0.5 * (scipy_special.yn(n - 1, x) - scipy_special.yn(n + 1, x)), x)


@adjoint(scipy_special.iv)
def iv_adjoint(g, ans, v, x):
    return (
        no_derivative("scipy.special.iv", "v", "its derivative in the order has no closed form"),
        unbroadcast(g * 0.5 * (scipy_special.iv(v - 1.0, x) + scipy_special.iv(v + 1.0, x)), x),
    )


@adjoint(scipy_special.ive)
def ive_adjoint(g, ans, v, x):
    # e^(-|x|) I_v(x): the same recurrence, scaled, less sign(x) ive (the subgradient 0 at x == 0)
    return (
        no_derivative("scipy.special.ive", "v", "its derivative in the order has no closed form"),
        unbroadcast(g * (0.5 * (scipy_special.ive(v - 1.0, x) + scipy_special.ive(v + 1.0, x)) - np.sign(x) * ans), x),
    )


@adjoint(scipy_special.kv)
def kv_adjoint(g, ans, v, x):
    return (
        no_derivative("scipy.special.kv", "v", "its derivative in the order has no closed form"),
        unbroadcast(-g * 0.5 * (scipy_special.kv(v - 1.0, x) + scipy_special.kv(v + 1.0, x)), x),
    )


@adjoint(scipy_special.kve)
def kve_adjoint(g, ans, v, x):
    # e^x K_v(x): the same recurrence, scaled, plus kve
    return (
        no_derivative("scipy.special.kve", "v", "its derivative in the order has no closed form"),
        unbroadcast(g * (ans - 0.5 * (scipy_special.kve(v - 1.0, x) + scipy_special.kve(v + 1.0, x))), x),
    )


# ---- scipy24: modified Bessel functions of the second kind of orders 0 and 1 (and scaled), exponential and Dawson
# integrals, erfi, Owen's T, complete elliptic integrals, the confluent hypergeometric 1F1 in z, binom and poch of real
# arguments, the inverse regularized gamma functions in y, and multigammaln in a


@adjoint(scipy_special.k0)
def k0_adjoint(g, ans, x):
    # K0' = -K1
    return -g * scipy_special.k1(x)


@adjoint(scipy_special.k1)
def k1_adjoint(g, ans, x):
    # K1' = -K0 - K1 / x
    return -g * (scipy_special.k0(x) + ans / x)


@adjoint(scipy_special.k0e)
def k0e_adjoint(g, ans, x):
    # e^x K0(x): k0e - k1e
    return g * (ans - scipy_special.k1e(x))


@adjoint(scipy_special.k1e)
def k1e_adjoint(g, ans, x):
    # e^x K1(x): k1e (1 - 1 / x) - k0e
    return g * (ans * (1.0 - 1.0 / x) - scipy_special.k0e(x))


@adjoint(scipy_special.exp1)
def exp1_adjoint(g, ans, x):
    # E1(x) = int_x^inf e^-t / t dt
    return -g * np.exp(-x) / x


@adjoint(scipy_special.expi)
def expi_adjoint(g, ans, x):
    # Ei(x) = -int_-x^inf e^-t / t dt
    return g * np.exp(x) / x


@adjoint(scipy_special.dawsn)
def dawsn_adjoint(g, ans, x):
    # F(x) = e^(-x^2) int_0^x e^(t^2) dt: F' = 1 - 2 x F
    return g * (1.0 - 2.0 * x * ans)


@adjoint(scipy_special.erfi)
def erfi_adjoint(g, ans, x):
    # -i erf(i x): 2 / sqrt(pi) e^(x^2)
    return g * 2.0 / np.sqrt(np.pi) * np.exp(x * x)


@adjoint(scipy_special.owens_t)
def owens_t_adjoint(g, ans, h, a):
    # T(h, a) = 1 / (2 pi) int_0^a e^(-h^2 (1 + t^2) / 2) / (1 + t^2) dt: dT/da is the integrand at a, and
    # dT/dh = -phi(h) erf(a h / sqrt 2) / 2
    aa = 1.0 + a * a
    return (
        unbroadcast(
            -g * np.exp(-0.5 * h * h) * scipy_special.erf(a * h / np.sqrt(2.0)) / (2.0 * np.sqrt(2.0 * np.pi)), h
        ),
        unbroadcast(g * np.exp(-0.5 * h * h * aa) / (2.0 * np.pi * aa), a),
    )


@adjoint(scipy_special.ellipk)
def ellipk_adjoint(g, ans, m):
    # dK/dm = (E - (1 - m) K) / (2 m (1 - m)), pi / 8 at m == 0 (the limit); infinite at m == 1
    mm = np.where(m == 0.0, 0.5, m)
    slope = (scipy_special.ellipe(mm) - (1.0 - mm) * scipy_special.ellipk(mm)) / (2.0 * mm * (1.0 - mm))
    return g * np.where(m == 0.0, np.pi / 8.0, slope)


@adjoint(scipy_special.ellipe)
def ellipe_adjoint(g, ans, m):
    # dE/dm = (E - K) / (2 m), -pi / 8 at m == 0 (the limit)
    mm = np.where(m == 0.0, 0.5, m)
    return g * np.where(m == 0.0, -np.pi / 8.0, (ans - scipy_special.ellipk(mm)) / (2.0 * mm))


@adjoint(scipy_special.hyp1f1)
def hyp1f1_adjoint(g, ans, a, b, z):
    # d/dz 1F1(a; b; z) = a / b 1F1(a + 1; b + 1; z); no closed form in a or b (refused there)
    return (
        no_derivative("scipy.special.hyp1f1", "a", "its derivative in a has no closed form"),
        no_derivative("scipy.special.hyp1f1", "b", "its derivative in b has no closed form"),
        unbroadcast(g * a / b * scipy_special.hyp1f1(a + 1.0, b + 1.0, z), z),
    )


@adjoint(scipy_special.binom)
def binom_adjoint(g, ans, n, k):
    # Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)) of real n and k: digamma differences
    both = scipy_special.digamma(n - k + 1.0)
    return (
        unbroadcast(g * ans * (scipy_special.digamma(n + 1.0) - both), n),
        unbroadcast(g * ans * (both - scipy_special.digamma(k + 1.0)), k),
    )


@adjoint(scipy_special.poch)
def poch_adjoint(g, ans, z, m):
    # Gamma(z + m) / Gamma(z)
    both = scipy_special.digamma(z + m)
    return unbroadcast(g * ans * (both - scipy_special.digamma(z)), z), unbroadcast(g * ans * both, m)


@adjoint(scipy_special.gammaincinv)
def gammaincinv_adjoint(g, ans, a, y):
    # the x with P(a, x) = y: dx/dy = 1 / P'(x) = Gamma(a) e^x x^(1 - a); no closed form in a (refused there)
    return (
        no_derivative("scipy.special.gammaincinv", "a", "its derivative in the shape a has no closed form"),
        unbroadcast(g * np.exp(ans + scipy_special.gammaln(a) - scipy_special.xlogy(a - 1.0, ans)), y),
    )


@adjoint(scipy_special.gammainccinv)
def gammainccinv_adjoint(g, ans, a, y):
    # the x with Q(a, x) = y: dx/dy = -Gamma(a) e^x x^(1 - a)
    return (
        no_derivative("scipy.special.gammainccinv", "a", "its derivative in the shape a has no closed form"),
        unbroadcast(-g * np.exp(ans + scipy_special.gammaln(a) - scipy_special.xlogy(a - 1.0, ans)), y),
    )


@adjoint(scipy_special.multigammaln)
def multigammaln_adjoint(g, ans, a, d):
    # ln Gamma_d(a) = d (d - 1) / 4 ln pi + sum_j ln Gamma(a - j / 2), j < d: a sum of digammas; d an integer
    return g * np.sum(scipy_special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), axis=-1), None


@tangent(scipy_special.multigammaln)
def multigammaln_tangent(dot, ans, a, d):
    return dot * np.sum(scipy_special.digamma(np.expand_dims(a, -1) - 0.5 * np.arange(d)), axis=-1), None


if hasattr(scipy_special, "softplus"):  # (SciPy 1.15+; a function calling np.logaddexp(0, x), not a ufunc)

    @adjoint(scipy_special.softplus)
    def softplus_adjoint(g, ans, x):
        # ln(1 + e^x): the logistic function
        return g * scipy_special.expit(x)

    @tangent(scipy_special.softplus)
    def softplus_tangent(dot, ans, x):
        return dot * scipy_special.expit(x)


# ---- piecewise constant (declared here, not in nondiff.py: registered only where SciPy is imported) ----------------
nondifferentiable(scipy_special.gammasgn, reason="the sign of Gamma: piecewise constant")
