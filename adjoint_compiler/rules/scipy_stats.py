"""Adjoints of ``scipy.stats`` distributions: ``norm``, ``t``, ``logistic``, ``cauchy``, ``laplace``, ``expon``,
``halfnorm``, ``halfcauchy``, ``gumbel_r``, ``gumbel_l``, ``rayleigh``, ``uniform``, ``lognorm``, ``weibull_min``,
``pareto``, ``skewnorm``, ``truncnorm``, ``gamma``, ``beta``, ``chi2``, ``invgamma``, ``f`` and ``vonmises`` (logpdf,
pdf, cdf, sf, logcdf, logsf, ppf, isf), ``binom``, ``nbinom``, ``geom``, ``bernoulli`` and ``poisson`` (logpmf, pmf,
cdf, sf, logcdf, logsf), ``betabinom`` and ``multinomial`` (logpmf, pmf), ``multivariate_normal`` (logpdf, pdf,
entropy), ``multivariate_t``, ``dirichlet``, ``wishart`` and ``invwishart`` (logpdf, pdf), the mean, median, std, var
and entropy of the location-scale families without a shape, and the mean, var and std of a few with one; with their
tangent rules (the table, and which shape parameters are refused: docs/scipy.md). A pdf with no rule written here is
made from its logpdf's (``registry.exp_of``, at the end of this file).

They are methods of distribution objects: ``scipy.stats.norm.logpdf`` is a new bound method at each
access, but bound methods of one object compare (and hash) equal, so the registry keys the rule on one
of them and finds it for every other; the compiler resolves ``scipy.stats.norm.logpdf(...)`` to such
an object. Registered only where SciPy is installed and the user imports ``scipy.stats``
(rules/__init__.py). A frozen distribution's method, ``norm(loc, scale).logpdf(x)`` (or ``d.logpdf(x)`` with
``d = norm(loc, scale)`` assigned once, from values assigned once, outside a loop that assigns them), is
differentiated as ``norm.logpdf(x, loc, scale)`` (``registry.method_of_made``); other frozen uses are refused at the
call. A rule's parameters are the method's (``x, loc, scale`` for a location-scale
family, the shapes first): a keyword it does not model is refused at the call.
``multivariate_normal``'s ``allow_singular=True`` is taken for a covariance of full rank (the same density);
a singular one is refused when the gradient runs (``runtime.full_rank_cov``).

Every parameter is differentiated where the function is differentiable in it, with two exceptions: a cdf
in a shape parameter (the cdf, sf, logcdf and logsf of ``t`` and ``chi2`` in ``df``, of ``gamma`` in ``a``, of
``beta`` in ``a`` and ``b``, of ``invgamma`` in ``a``, of ``f`` in ``dfn`` and ``dfd``, of ``vonmises`` in ``kappa``, of
``nbinom`` in ``n``, and the
ppf and isf of the continuous ones among those in the same: incomplete beta and gamma functions and their inverses, no
closed form) is refused with a located ``UnsupportedError`` where that argument is differentiated (the rule's result is
``runtime.no_derivative``); the count ``k`` and the integer ``loc`` of ``poisson`` get no derivative (piecewise
constant in them).
``poisson.cdf`` in ``mu`` is ``-pmf(floor(k - loc), mu)`` (the regularized upper gamma function Q(n + 1, mu)); its sf,
logcdf and logsf follow from it.

``multivariate_normal`` reads only the lower triangle of a full ``cov`` (SciPy factors it with
``eigh(lower=True)``), so its gradient is the derivative of that: ``2 tril(S) - diag(S)`` for the
symmetric ``S = 1/2 (u u^T - Sigma^-1)``; the same as the symmetric gradient along any symmetric
direction. ``dirichlet`` is differentiated in x off the simplex constraint (the plain partials; a
direction along the simplex sums to zero), with x of K or K - 1 parts, as SciPy takes it.

Invariant: each cotangent has its operand's shape (summed back over broadcasting), and each formula is
the derivative of the SciPy function as evaluated.

>>> import numpy as np, scipy.stats
>>> from adjoint_compiler.rules import registry
>>> registry.lookup(scipy.stats.norm.logpdf).rule(1.0, None, 1.0, 0.0, 1.0)  # d/dx, d/dloc, d/dscale at z == 1
(-1.0, 1.0, 0.0)
"""

import numpy as np
from scipy import special as scipy_special
from scipy import stats as scipy_stats

from adjoint_compiler.rules import registry
from adjoint_compiler.rules.registry import adjoint, fragment, tangent
from adjoint_compiler.runtime import cotangent_where  # noqa: F401 (the densities' bodies made by registry.exp_of)
from adjoint_compiler.runtime import full_rank_cov, is_none, linalg_check, no_derivative, unbroadcast

# ---- the normal distribution ----------------------------------------------------------------------------


@adjoint(scipy_stats.norm.logpdf)
def norm_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z^2 / 2 - log(scale) - log(2 pi) / 2 with z = (x - loc) / scale
    z = (x - loc) / scale
    return (
        unbroadcast(-g * z / scale, x),
        unbroadcast(g * z / scale, loc),
        unbroadcast(g * (z * z - 1.0) / scale, scale),
    )


@tangent(scipy_stats.norm.logpdf)
def norm_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -dot * z / scale, dot * z / scale, dot * (z * z - 1.0) / scale


@adjoint(scipy_stats.norm.pdf)
def norm_pdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    z = (x - loc) / scale
    gp = g * ans / scale
    return unbroadcast(-gp * z, x), unbroadcast(gp * z, loc), unbroadcast(gp * (z * z - 1.0), scale)


@tangent(scipy_stats.norm.pdf)
def norm_pdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = ans / scale
    return -dot * p * z, dot * p * z, dot * p * (z * z - 1.0)


@adjoint(scipy_stats.norm.cdf)
def norm_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # Phi(z): dz = (dx - dloc - z dscale) / scale, times the density phi(z)
    z = (x - loc) / scale
    gp = g * np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * scale)
    return unbroadcast(gp, x), unbroadcast(-gp, loc), unbroadcast(-gp * z, scale)


@tangent(scipy_stats.norm.cdf)
def norm_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * scale)
    return dot * p, -dot * p, -dot * p * z


@adjoint(scipy_stats.norm.sf)
def norm_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1 - Phi(z)
    z = (x - loc) / scale
    gp = g * np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * scale)
    return unbroadcast(-gp, x), unbroadcast(gp, loc), unbroadcast(gp * z, scale)


@tangent(scipy_stats.norm.sf)
def norm_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * scale)
    return -dot * p, dot * p, dot * p * z


@adjoint(scipy_stats.norm.logcdf)
def norm_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log Phi(z): phi(z) / Phi(z) = exp(-z^2 / 2 - ans) / sqrt(2 pi), without underflow in the left tail
    z = (x - loc) / scale
    gp = g * np.exp(-0.5 * z * z - ans) / (np.sqrt(2.0 * np.pi) * scale)
    return unbroadcast(gp, x), unbroadcast(-gp, loc), unbroadcast(-gp * z, scale)


@tangent(scipy_stats.norm.logcdf)
def norm_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(-0.5 * z * z - ans) / (np.sqrt(2.0 * np.pi) * scale)
    return dot * p, -dot * p, -dot * p * z


@adjoint(scipy_stats.norm.logsf)
def norm_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log(1 - Phi(z)): -phi(z) / sf(z) = -exp(-z^2 / 2 - ans) / sqrt(2 pi), without underflow in the right tail
    z = (x - loc) / scale
    gp = g * np.exp(-0.5 * z * z - ans) / (np.sqrt(2.0 * np.pi) * scale)
    return unbroadcast(-gp, x), unbroadcast(gp, loc), unbroadcast(gp * z, scale)


@tangent(scipy_stats.norm.logsf)
def norm_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(-0.5 * z * z - ans) / (np.sqrt(2.0 * np.pi) * scale)
    return -dot * p, dot * p, dot * p * z


@adjoint(scipy_stats.norm.ppf)
def norm_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale ndtri(q): d/dq = scale / phi(z) with z = ndtri(q) = (ans - loc) / scale (infinite at 0 and 1)
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z), q),
        unbroadcast(g, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.norm.ppf)
def norm_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return dot * scale * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z), dot + 0.0 * z, dot * z


@adjoint(scipy_stats.norm.isf)
def norm_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc - scale ndtri(q): d/dq = -scale / phi(z) with z = (ans - loc) / scale = -ndtri(q)
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z), q),
        unbroadcast(g, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.norm.isf)
def norm_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return -dot * scale * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z), dot + 0.0 * z, dot * z


# ---- Student's t -------------------------------------------------------------------------------------------
# logpdf = ln Gamma((df + 1) / 2) - ln Gamma(df / 2) - ln(df pi) / 2 - ln(scale) - (df + 1) / 2 ln(1 + z^2 / df)


@fragment
def t_logpdf_in_df(z, df):
    # d logpdf / d df at the standardized z
    return 0.5 * (
        scipy_special.digamma(0.5 * (df + 1.0))
        - scipy_special.digamma(0.5 * df)
        - 1.0 / df
        - np.log1p(z * z / df)
        + (df + 1.0) * z * z / (df * (df + z * z))
    )


@adjoint(scipy_stats.t.logpdf)
def t_logpdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)  # d logpdf / dz
    ddf = t_logpdf_in_df(z, df)
    return (
        unbroadcast(g * dz / scale, x),
        unbroadcast(g * ddf, df),
        unbroadcast(-g * dz / scale, loc),
        unbroadcast(-g * (dz * z + 1.0) / scale, scale),
    )


@tangent(scipy_stats.t.logpdf)
def t_logpdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)
    ddf = t_logpdf_in_df(z, df)
    return dot * dz / scale, dot * ddf, -dot * dz / scale, -dot * (dz * z + 1.0) / scale


@adjoint(scipy_stats.t.pdf)
def t_pdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)
    ddf = t_logpdf_in_df(z, df)
    gp = g * ans
    return (
        unbroadcast(gp * dz / scale, x),
        unbroadcast(gp * ddf, df),
        unbroadcast(-gp * dz / scale, loc),
        unbroadcast(-gp * (dz * z + 1.0) / scale, scale),
    )


@tangent(scipy_stats.t.pdf)
def t_pdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = -(df + 1.0) * z / (df + z * z)
    ddf = t_logpdf_in_df(z, df)
    return dot * ans * dz / scale, dot * ans * ddf, -dot * ans * dz / scale, -dot * ans * (dz * z + 1.0) / scale


@adjoint(scipy_stats.t.cdf)
def t_cdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # the standard density at z, over scale, as for the normal cdf; no closed form in df (refused there)
    z = (x - loc) / scale
    gp = g * scipy_stats.t.pdf(z, df) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.t.cdf", "df", "an incomplete beta function of df: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * z, scale),
    )


@tangent(scipy_stats.t.cdf)
def t_cdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = scipy_stats.t.pdf(z, df) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.t.cdf", "df", "an incomplete beta function of df: no closed form"),
        -dot * p,
        -dot * p * z,
    )


@adjoint(scipy_stats.t.sf)
def t_sf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # 1 - cdf
    z = (x - loc) / scale
    gp = g * scipy_stats.t.pdf(z, df) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.t.sf", "df", "an incomplete beta function of df: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * z, scale),
    )


@tangent(scipy_stats.t.sf)
def t_sf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = scipy_stats.t.pdf(z, df) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.t.sf", "df", "an incomplete beta function of df: no closed form"),
        dot * p,
        dot * p * z,
    )


@adjoint(scipy_stats.t.logcdf)
def t_logcdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # pdf / cdf = exp(logpdf - ans), without underflow in the left tail
    z = (x - loc) / scale
    gp = g * np.exp(scipy_stats.t.logpdf(z, df) - ans) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.t.logcdf", "df", "an incomplete beta function of df: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * z, scale),
    )


@tangent(scipy_stats.t.logcdf)
def t_logcdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(scipy_stats.t.logpdf(z, df) - ans) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.t.logcdf", "df", "an incomplete beta function of df: no closed form"),
        -dot * p,
        -dot * p * z,
    )


@adjoint(scipy_stats.t.logsf)
def t_logsf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # -pdf / sf = -exp(logpdf - ans)
    z = (x - loc) / scale
    gp = g * np.exp(scipy_stats.t.logpdf(z, df) - ans) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.t.logsf", "df", "an incomplete beta function of df: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * z, scale),
    )


@tangent(scipy_stats.t.logsf)
def t_logsf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    p = np.exp(scipy_stats.t.logpdf(z, df) - ans) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.t.logsf", "df", "an incomplete beta function of df: no closed form"),
        dot * p,
        dot * p * z,
    )


# ---- gamma and beta ------------------------------------------------------------------------------------------


@fragment
def density_over(logpdf, ans):
    # exp(logpdf - ans), a density over its cdf (or sf), without underflow in the tail; 0 off the support, where both
    # are -inf and the log-cdf is constant (not nan); inf where the cdf has underflowed inside it
    return np.exp(logpdf - np.where(logpdf > -np.inf, ans, 0.0))


@adjoint(scipy_stats.gamma.logpdf)
def gamma_logpdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # (a - 1) ln y - y - ln Gamma(a) - ln(scale), y = (x - loc) / scale
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    return (
        unbroadcast(g * dy / scale, x),
        unbroadcast(g * (np.log(y) - scipy_special.digamma(a)), a),
        unbroadcast(-g * dy / scale, loc),
        unbroadcast(-g * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.gamma.logpdf)
def gamma_logpdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    return (
        dot * dy / scale,
        dot * (np.log(y) - scipy_special.digamma(a)),
        -dot * dy / scale,
        -dot * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.beta.logpdf)
def beta_logpdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # (a - 1) ln y + (b - 1) ln(1 - y) - ln B(a, b) - ln(scale), y = (x - loc) / scale
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    psi_ab = scipy_special.digamma(a + b)
    return (
        unbroadcast(g * dy / scale, x),
        unbroadcast(g * (np.log(y) - scipy_special.digamma(a) + psi_ab), a),
        unbroadcast(g * (np.log1p(-y) - scipy_special.digamma(b) + psi_ab), b),
        unbroadcast(-g * dy / scale, loc),
        unbroadcast(-g * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.beta.logpdf)
def beta_logpdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    psi_ab = scipy_special.digamma(a + b)
    return (
        dot * dy / scale,
        dot * (np.log(y) - scipy_special.digamma(a) + psi_ab),
        dot * (np.log1p(-y) - scipy_special.digamma(b) + psi_ab),
        -dot * dy / scale,
        -dot * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.gamma.pdf)
def gamma_pdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    gp = g * ans
    return (
        unbroadcast(gp * dy / scale, x),
        unbroadcast(gp * (np.log(y) - scipy_special.digamma(a)), a),
        unbroadcast(-gp * dy / scale, loc),
        unbroadcast(-gp * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.gamma.pdf)
def gamma_pdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - 1.0
    return (
        dot * ans * dy / scale,
        dot * ans * (np.log(y) - scipy_special.digamma(a)),
        -dot * ans * dy / scale,
        -dot * ans * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.gamma.cdf)
def gamma_cdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # P(a, y), the regularized lower incomplete gamma function: its derivative in y is the density; no closed
    # form in the shape a (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.gamma.pdf(y, a) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.gamma.cdf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.gamma.cdf)
def gamma_cdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.gamma.pdf(y, a) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.gamma.cdf", "a", "an incomplete gamma function of a: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.gamma.sf)
def gamma_sf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # 1 - cdf; no closed form in the shape (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.gamma.pdf(y, a) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.gamma.sf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.gamma.sf)
def gamma_sf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.gamma.pdf(y, a) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.gamma.sf", "a", "an incomplete gamma function of a: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.gamma.logcdf)
def gamma_logcdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # pdf / cdf = exp(logpdf - ans), without underflow in the left tail; no closed form in the shape (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.gamma.logpdf(y, a), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.gamma.logcdf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.gamma.logcdf)
def gamma_logcdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.gamma.logpdf(y, a), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.gamma.logcdf", "a", "an incomplete gamma function of a: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.gamma.logsf)
def gamma_logsf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # -pdf / sf = -exp(logpdf - ans), without underflow in the right tail; no closed form in the shape (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.gamma.logpdf(y, a), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.gamma.logsf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.gamma.logsf)
def gamma_logsf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.gamma.logpdf(y, a), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.gamma.logsf", "a", "an incomplete gamma function of a: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.beta.pdf)
def beta_pdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    psi_ab = scipy_special.digamma(a + b)
    gp = g * ans
    return (
        unbroadcast(gp * dy / scale, x),
        unbroadcast(gp * (np.log(y) - scipy_special.digamma(a) + psi_ab), a),
        unbroadcast(gp * (np.log1p(-y) - scipy_special.digamma(b) + psi_ab), b),
        unbroadcast(-gp * dy / scale, loc),
        unbroadcast(-gp * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.beta.pdf)
def beta_pdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (a - 1.0) / y - (b - 1.0) / (1.0 - y)
    psi_ab = scipy_special.digamma(a + b)
    return (
        dot * ans * dy / scale,
        dot * ans * (np.log(y) - scipy_special.digamma(a) + psi_ab),
        dot * ans * (np.log1p(-y) - scipy_special.digamma(b) + psi_ab),
        -dot * ans * dy / scale,
        -dot * ans * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.beta.cdf)
def beta_cdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # I_y(a, b), the regularized incomplete beta function: its derivative in y is the density; no closed form
    # in the shapes a and b (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.beta.pdf(y, a, b) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.beta.cdf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.cdf", "b", "an incomplete beta function of b: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.beta.cdf)
def beta_cdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.beta.pdf(y, a, b) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.beta.cdf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.cdf", "b", "an incomplete beta function of b: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.beta.sf)
def beta_sf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # 1 - cdf; no closed form in the shapes (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.beta.pdf(y, a, b) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.beta.sf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.sf", "b", "an incomplete beta function of b: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.beta.sf)
def beta_sf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.beta.pdf(y, a, b) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.beta.sf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.sf", "b", "an incomplete beta function of b: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.beta.logcdf)
def beta_logcdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # pdf / cdf = exp(logpdf - ans), without underflow in the left tail; no closed form in the shapes (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.beta.logpdf(y, a, b), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.beta.logcdf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.logcdf", "b", "an incomplete beta function of b: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.beta.logcdf)
def beta_logcdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.beta.logpdf(y, a, b), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.beta.logcdf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.logcdf", "b", "an incomplete beta function of b: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.beta.logsf)
def beta_logsf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # -pdf / sf = -exp(logpdf - ans), without underflow in the right tail; no closed form in the shapes (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.beta.logpdf(y, a, b), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.beta.logsf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.logsf", "b", "an incomplete beta function of b: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.beta.logsf)
def beta_logsf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.beta.logpdf(y, a, b), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.beta.logsf", "a", "an incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.logsf", "b", "an incomplete beta function of b: no closed form"),
        dot * p,
        dot * p * y,
    )


# ---- chi-squared: the gamma distribution of shape df / 2 and scale 2 ---------------------------------------------
# logpdf = (df / 2 - 1) ln y - y / 2 - (df / 2) ln 2 - ln Gamma(df / 2) - ln(scale), y = (x - loc) / scale


@adjoint(scipy_stats.chi2.logpdf)
def chi2_logpdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    return (
        unbroadcast(g * dy / scale, x),
        unbroadcast(g * 0.5 * (np.log(0.5 * y) - scipy_special.digamma(0.5 * df)), df),
        unbroadcast(-g * dy / scale, loc),
        unbroadcast(-g * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.chi2.logpdf)
def chi2_logpdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    return (
        dot * dy / scale,
        dot * 0.5 * (np.log(0.5 * y) - scipy_special.digamma(0.5 * df)),
        -dot * dy / scale,
        -dot * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.chi2.pdf)
def chi2_pdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    gp = g * ans
    return (
        unbroadcast(gp * dy / scale, x),
        unbroadcast(gp * 0.5 * (np.log(0.5 * y) - scipy_special.digamma(0.5 * df)), df),
        unbroadcast(-gp * dy / scale, loc),
        unbroadcast(-gp * (dy * y + 1.0) / scale, scale),
    )


@tangent(scipy_stats.chi2.pdf)
def chi2_pdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    dy = (0.5 * df - 1.0) / y - 0.5
    return (
        dot * ans * dy / scale,
        dot * ans * 0.5 * (np.log(0.5 * y) - scipy_special.digamma(0.5 * df)),
        -dot * ans * dy / scale,
        -dot * ans * (dy * y + 1.0) / scale,
    )


@adjoint(scipy_stats.chi2.cdf)
def chi2_cdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # P(df / 2, y / 2): its derivative in y is the density; no closed form in df (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.chi2.pdf(y, df) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.chi2.cdf", "df", "an incomplete gamma function of df: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.chi2.cdf)
def chi2_cdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.chi2.pdf(y, df) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.chi2.cdf", "df", "an incomplete gamma function of df: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.chi2.sf)
def chi2_sf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # 1 - cdf; no closed form in the shape (refused there)
    y = (x - loc) / scale
    gp = g * scipy_stats.chi2.pdf(y, df) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.chi2.sf", "df", "an incomplete gamma function of df: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.chi2.sf)
def chi2_sf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.chi2.pdf(y, df) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.chi2.sf", "df", "an incomplete gamma function of df: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.chi2.logcdf)
def chi2_logcdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # pdf / cdf = exp(logpdf - ans), without underflow in the left tail; no closed form in the shape (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.chi2.logpdf(y, df), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.chi2.logcdf", "df", "an incomplete gamma function of df: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.chi2.logcdf)
def chi2_logcdf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.chi2.logpdf(y, df), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.chi2.logcdf", "df", "an incomplete gamma function of df: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.chi2.logsf)
def chi2_logsf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
    # -pdf / sf = -exp(logpdf - ans), without underflow in the right tail; no closed form in the shape (refused there)
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.chi2.logpdf(y, df), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.chi2.logsf", "df", "an incomplete gamma function of df: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.chi2.logsf)
def chi2_logsf_tangent(dot, ans, x, df, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.chi2.logpdf(y, df), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.chi2.logsf", "df", "an incomplete gamma function of df: no closed form"),
        dot * p,
        dot * p * y,
    )


# ---- Laplace, exponential, uniform (on their supports) -----------------------------------------------------------


@adjoint(scipy_stats.laplace.logpdf)
def laplace_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -ln(2 scale) - |z|: the subgradient 0 of |z| at x == loc (np.sign(0) == 0)
    z = (x - loc) / scale
    return (
        unbroadcast(-g * np.sign(z) / scale, x),
        unbroadcast(g * np.sign(z) / scale, loc),
        unbroadcast(g * (np.abs(z) - 1.0) / scale, scale),
    )


@tangent(scipy_stats.laplace.logpdf)
def laplace_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -dot * np.sign(z) / scale, dot * np.sign(z) / scale, dot * (np.abs(z) - 1.0) / scale


@adjoint(scipy_stats.expon.logpdf)
def expon_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z - ln(scale) on z >= 0 (-inf below: its derivative there is 0 * the same formula's, never used)
    z = (x - loc) / scale
    return (
        unbroadcast(-g / scale + 0.0 * z, x),
        unbroadcast(g / scale + 0.0 * z, loc),
        unbroadcast(g * (z - 1.0) / scale, scale),
    )


@tangent(scipy_stats.expon.logpdf)
def expon_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -dot / scale + 0.0 * z, dot / scale + 0.0 * z, dot * (z - 1.0) / scale


@adjoint(scipy_stats.uniform.logpdf)
def uniform_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -ln(scale) inside [loc, loc + scale]: constant in x and loc there
    z = (x - loc) / scale
    return unbroadcast(0.0 * g * z, x), unbroadcast(0.0 * g * z, loc), unbroadcast(-g / scale + 0.0 * z, scale)


@tangent(scipy_stats.uniform.logpdf)
def uniform_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return 0.0 * dot * z, 0.0 * dot * z, -dot / scale + 0.0 * z


# ---- logistic and Cauchy (location-scale families: z = (x - loc) / scale, dz = (dx - dloc - z dscale) / scale) -------


@fragment
def location_scale_bars(gh, z, x, loc, scale, gs):
    # gh: g times the derivative in z of the standard function; gs: a further term of scale's (logpdf's -g / scale)
    return unbroadcast(gh / scale, x), unbroadcast(-gh / scale, loc), unbroadcast(gs - gh * z / scale, scale)


@fragment
def location_scale_dots(dh, z, scale, ds):
    return dh / scale, -dh / scale, ds - dh * z / scale


@adjoint(scipy_stats.logistic.logpdf)
def logistic_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z - 2 log(1 + e^-z) - log(scale): d/dz = 1 - 2 expit(z) = -tanh(z / 2)
    z = (x - loc) / scale
    return location_scale_bars(-g * np.tanh(0.5 * z), z, x, loc, scale, -g / scale)


@tangent(scipy_stats.logistic.logpdf)
def logistic_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * np.tanh(0.5 * z), z, scale, -dot / scale)


@adjoint(scipy_stats.logistic.pdf)
def logistic_pdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    z = (x - loc) / scale
    return location_scale_bars(-g * ans * np.tanh(0.5 * z), z, x, loc, scale, -g * ans / scale)


@tangent(scipy_stats.logistic.pdf)
def logistic_pdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * ans * np.tanh(0.5 * z), z, scale, -dot * ans / scale)


@adjoint(scipy_stats.logistic.cdf)
def logistic_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # expit(z): d/dz = expit(z) expit(-z) (both factors computed: 1 - ans loses the right tail)
    z = (x - loc) / scale
    return location_scale_bars(g * scipy_special.expit(z) * scipy_special.expit(-z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.logistic.cdf)
def logistic_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * scipy_special.expit(z) * scipy_special.expit(-z), z, scale, 0.0)


@adjoint(scipy_stats.logistic.sf)
def logistic_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # expit(-z)
    z = (x - loc) / scale
    return location_scale_bars(-g * scipy_special.expit(z) * scipy_special.expit(-z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.logistic.sf)
def logistic_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * scipy_special.expit(z) * scipy_special.expit(-z), z, scale, 0.0)


@adjoint(scipy_stats.logistic.logcdf)
def logistic_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log expit(z): d/dz = expit(-z)
    z = (x - loc) / scale
    return location_scale_bars(g * scipy_special.expit(-z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.logistic.logcdf)
def logistic_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * scipy_special.expit(-z), z, scale, 0.0)


@adjoint(scipy_stats.logistic.logsf)
def logistic_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log expit(-z): d/dz = -expit(z)
    z = (x - loc) / scale
    return location_scale_bars(-g * scipy_special.expit(z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.logistic.logsf)
def logistic_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * scipy_special.expit(z), z, scale, 0.0)


@adjoint(scipy_stats.cauchy.logpdf)
def cauchy_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -log(pi scale) - log(1 + z^2): d/dz = -2 z / (1 + z^2)
    z = (x - loc) / scale
    return location_scale_bars(-2.0 * g * z / (1.0 + z * z), z, x, loc, scale, -g / scale)


@tangent(scipy_stats.cauchy.logpdf)
def cauchy_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-2.0 * dot * z / (1.0 + z * z), z, scale, -dot / scale)


@adjoint(scipy_stats.cauchy.pdf)
def cauchy_pdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # the density times the logpdf's partials
    z = (x - loc) / scale
    return location_scale_bars(-2.0 * g * ans * z / (1.0 + z * z), z, x, loc, scale, -g * ans / scale)


@tangent(scipy_stats.cauchy.pdf)
def cauchy_pdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-2.0 * dot * ans * z / (1.0 + z * z), z, scale, -dot * ans / scale)


@adjoint(scipy_stats.cauchy.cdf)
def cauchy_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1/2 + arctan(z) / pi: d/dz = 1 / (pi (1 + z^2))
    z = (x - loc) / scale
    return location_scale_bars(g / (np.pi * (1.0 + z * z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.cauchy.cdf)
def cauchy_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot / (np.pi * (1.0 + z * z)), z, scale, 0.0)


@adjoint(scipy_stats.cauchy.sf)
def cauchy_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1/2 - arctan(z) / pi
    z = (x - loc) / scale
    return location_scale_bars(-g / (np.pi * (1.0 + z * z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.cauchy.sf)
def cauchy_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot / (np.pi * (1.0 + z * z)), z, scale, 0.0)


@adjoint(scipy_stats.cauchy.logcdf)
def cauchy_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log cdf: the density over the cdf, exp(ans) (no underflow: the cdf's tail is about 1 / (pi |z|))
    z = (x - loc) / scale
    return location_scale_bars(g / (np.pi * (1.0 + z * z) * np.exp(ans)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.cauchy.logcdf)
def cauchy_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot / (np.pi * (1.0 + z * z) * np.exp(ans)), z, scale, 0.0)


@adjoint(scipy_stats.cauchy.logsf)
def cauchy_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g / (np.pi * (1.0 + z * z) * np.exp(ans)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.cauchy.logsf)
def cauchy_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot / (np.pi * (1.0 + z * z) * np.exp(ans)), z, scale, 0.0)


# ---- lognormal, Weibull, skew-normal (np13p) ------------------------------------------------------------------


@adjoint(scipy_stats.lognorm.logpdf)
def lognorm_logpdf_adjoint(g, ans, x, s, loc=0.0, scale=1.0):
    # -ln(s) - u - u^2 / (2 s^2) - ln(2 pi) / 2 - ln(scale), u = ln y, y = (x - loc) / scale:
    # d/dy = -(1 + u / s^2) / y, d/ds = (u^2 / s^2 - 1) / s, d/dscale = u / (s^2 scale)
    y = (x - loc) / scale
    u = np.log(y)
    dy = -(1.0 + u / (s * s)) / y
    return (
        unbroadcast(g * dy / scale, x),
        unbroadcast(g * (u * u / (s * s) - 1.0) / s, s),
        unbroadcast(-g * dy / scale, loc),
        unbroadcast(g * u / (s * s * scale), scale),
    )


@tangent(scipy_stats.lognorm.logpdf)
def lognorm_logpdf_tangent(dot, ans, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    u = np.log(y)
    dy = -(1.0 + u / (s * s)) / y
    return dot * dy / scale, dot * (u * u / (s * s) - 1.0) / s, -dot * dy / scale, dot * u / (s * s * scale)


@adjoint(scipy_stats.weibull_min.logpdf)
def weibull_min_logpdf_adjoint(g, ans, x, c, loc=0.0, scale=1.0):
    # ln(c) + (c - 1) ln y - y^c - ln(scale), y = (x - loc) / scale: d/dy = (c - 1) / y - c y^(c - 1),
    # d/dc = 1 / c + ln y (1 - y^c), d/dscale = c (y^c - 1) / scale
    y = (x - loc) / scale
    yc = y**c
    dy = ((c - 1.0) - c * yc) / y
    return (
        unbroadcast(g * dy / scale, x),
        unbroadcast(g * (1.0 / c + np.log(y) * (1.0 - yc)), c),
        unbroadcast(-g * dy / scale, loc),
        unbroadcast(g * c * (yc - 1.0) / scale, scale),
    )


@tangent(scipy_stats.weibull_min.logpdf)
def weibull_min_logpdf_tangent(dot, ans, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yc = y**c
    dy = ((c - 1.0) - c * yc) / y
    return dot * dy / scale, dot * (1.0 / c + np.log(y) * (1.0 - yc)), -dot * dy / scale, dot * c * (yc - 1.0) / scale


@adjoint(scipy_stats.skewnorm.logpdf)
def skewnorm_logpdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # ln 2 + ln phi(z) + ln Phi(a z) - ln(scale), z = (x - loc) / scale: d/dz = -z + a r, d/da = z r with
    # r = phi(a z) / Phi(a z) = exp(-(a z)^2 / 2 - log_ndtr(a z)) / sqrt(2 pi) (no underflow in the left tail)
    z = (x - loc) / scale
    w = a * z
    r = np.exp(-0.5 * w * w - scipy_special.log_ndtr(w)) / np.sqrt(2.0 * np.pi)
    dz = a * r - z
    return (
        unbroadcast(g * dz / scale, x),
        unbroadcast(g * z * r, a),
        unbroadcast(-g * dz / scale, loc),
        unbroadcast(-g * (dz * z + 1.0) / scale, scale),
    )


@tangent(scipy_stats.skewnorm.logpdf)
def skewnorm_logpdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    w = a * z
    r = np.exp(-0.5 * w * w - scipy_special.log_ndtr(w)) / np.sqrt(2.0 * np.pi)
    dz = a * r - z
    return dot * dz / scale, dot * z * r, -dot * dz / scale, -dot * (dz * z + 1.0) / scale


# ---- binomial and negative binomial (np13p) ----------------------------------------------------------------------


@adjoint(scipy_stats.binom.logpmf)
def binom_logpmf_adjoint(g, ans, k, n, p, loc=0):
    # ln C(n, m) + m ln p + (n - m) ln(1 - p), m = k - loc: d/dp = m / p - (n - m) / (1 - p), each term exactly 0
    # where its count is 0 (also at p == 0 or 1); piecewise constant in the integers k, n and loc
    m = k - loc
    return (
        None,
        None,
        unbroadcast(g * (m / np.where(m == 0, 1.0, p) - (n - m) / np.where(n - m == 0, 1.0, 1.0 - p)), p),
        None,
    )


@tangent(scipy_stats.binom.logpmf)
def binom_logpmf_tangent(dot, ans, k, n, p, loc=0):
    m = k - loc
    return None, None, dot * (m / np.where(m == 0, 1.0, p) - (n - m) / np.where(n - m == 0, 1.0, 1.0 - p)), None


@adjoint(scipy_stats.nbinom.logpmf)
def nbinom_logpmf_adjoint(g, ans, k, n, p, loc=0):
    # ln Gamma(m + n) - ln Gamma(n) - ln m! + n ln p + m ln(1 - p), m = k - loc: d/dn = psi(m + n) - psi(n) + ln p
    # (n may be real), d/dp = n / p - m / (1 - p) (the second term exactly 0 where m == 0, also at p == 1)
    m = k - loc
    return (
        None,
        unbroadcast(g * (scipy_special.digamma(m + n) - scipy_special.digamma(n) + np.log(p)), n),
        unbroadcast(g * (n / p - m / np.where(m == 0, 1.0, 1.0 - p)), p),
        None,
    )


@tangent(scipy_stats.nbinom.logpmf)
def nbinom_logpmf_tangent(dot, ans, k, n, p, loc=0):
    m = k - loc
    return (
        None,
        dot * (scipy_special.digamma(m + n) - scipy_special.digamma(n) + np.log(p)),
        dot * (n / p - m / np.where(m == 0, 1.0, 1.0 - p)),
        None,
    )


# ---- Poisson -------------------------------------------------------------------------------------------------------


@adjoint(scipy_stats.poisson.logpmf)
def poisson_logpmf_adjoint(g, ans, k, mu, loc=0):
    # (k - loc) ln mu - mu - ln (k - loc)!: d/dmu = (k - loc) / mu - 1 (exactly -1 where k == loc, also at mu == 0);
    # piecewise constant in the integers k and loc
    n = k - loc
    return None, unbroadcast(g * (n / np.where(n == 0, 1.0, mu) - 1.0), mu), None


@tangent(scipy_stats.poisson.logpmf)
def poisson_logpmf_tangent(dot, ans, k, mu, loc=0):
    n = k - loc
    return None, dot * (n / np.where(n == 0, 1.0, mu) - 1.0), None


@adjoint(scipy_stats.poisson.pmf)
def poisson_pmf_adjoint(g, ans, k, mu, loc=0):
    n = k - loc
    return None, unbroadcast(g * ans * (n / np.where(n == 0, 1.0, mu) - 1.0), mu), None


@tangent(scipy_stats.poisson.pmf)
def poisson_pmf_tangent(dot, ans, k, mu, loc=0):
    n = k - loc
    return None, dot * ans * (n / np.where(n == 0, 1.0, mu) - 1.0), None


@adjoint(scipy_stats.poisson.cdf)
def poisson_cdf_adjoint(g, ans, k, mu, loc=0):
    # sum_{j <= n} mu^j e^(-mu) / j! with n = floor(k - loc), the regularized Q(n + 1, mu): its derivative in mu
    # telescopes to -pmf(n, mu) (0 where n < 0, where the cdf is 0); piecewise constant in k and loc
    return None, unbroadcast(-g * scipy_stats.poisson.pmf(np.floor(k - loc), mu), mu), None


@tangent(scipy_stats.poisson.cdf)
def poisson_cdf_tangent(dot, ans, k, mu, loc=0):
    return None, -dot * scipy_stats.poisson.pmf(np.floor(k - loc), mu), None


@adjoint(scipy_stats.poisson.sf)
def poisson_sf_adjoint(g, ans, k, mu, loc=0):
    # 1 - cdf: +pmf(n, mu)
    return None, unbroadcast(g * scipy_stats.poisson.pmf(np.floor(k - loc), mu), mu), None


@tangent(scipy_stats.poisson.sf)
def poisson_sf_tangent(dot, ans, k, mu, loc=0):
    return None, dot * scipy_stats.poisson.pmf(np.floor(k - loc), mu), None


@adjoint(scipy_stats.poisson.logcdf)
def poisson_logcdf_adjoint(g, ans, k, mu, loc=0):
    # -pmf / cdf = -exp(logpmf - ans), without underflow in the left tail
    return None, unbroadcast(-g * np.exp(scipy_stats.poisson.logpmf(np.floor(k - loc), mu) - ans), mu), None


@tangent(scipy_stats.poisson.logcdf)
def poisson_logcdf_tangent(dot, ans, k, mu, loc=0):
    return None, -dot * np.exp(scipy_stats.poisson.logpmf(np.floor(k - loc), mu) - ans), None


@adjoint(scipy_stats.poisson.logsf)
def poisson_logsf_adjoint(g, ans, k, mu, loc=0):
    # pmf / sf = exp(logpmf - ans) (0 where n < 0: sf is 1 there)
    return None, unbroadcast(g * np.exp(scipy_stats.poisson.logpmf(np.floor(k - loc), mu) - ans), mu), None


@tangent(scipy_stats.poisson.logsf)
def poisson_logsf_tangent(dot, ans, k, mu, loc=0):
    return None, dot * np.exp(scipy_stats.poisson.logpmf(np.floor(k - loc), mu) - ans), None


# ---- multivariate normal
# -1/2 (d ln 2 pi + ln det Sigma + r^T Sigma^-1 r), r = x - mean, per row of x: dx = -u, dmean = u (u = Sigma^-1 r),
# dSigma = S = 1/2 (u u^T - Sigma^-1) (Giles 2008, "inverse" and "determinant"). As SciPy: the dimension is mean's size
# (else cov's, else 1), x is read as rows of that many values, and cov is a number (times I), a diagonal or a matrix,
# of which the lower triangle is read.


@fragment
def multivariate_normal_bars(g, x, mean, cov, allow_singular):
    # the cotangents of x, mean and cov (and none of allow_singular) given g, the cotangent of the logpdf
    dim = np.size(mean) if not is_none(mean) else (np.shape(cov)[0] if np.ndim(cov) == 2 else 1)
    sigma = (
        np.tril(cov) + np.tril(cov, -1).T
        if np.ndim(cov) == 2
        else (np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(dim))
    )
    precision = full_rank_cov(sigma, allow_singular) * np.linalg.inv(sigma)
    r = np.reshape(x, (-1, dim)) - (0.0 if is_none(mean) else np.ravel(mean))
    u = r @ precision
    gu = np.reshape(g, (-1, 1)) * u
    s = 0.5 * (gu.T @ u - np.sum(g) * precision)
    return (
        np.reshape(-gu, np.shape(x)),
        None if is_none(mean) else np.reshape(np.sum(gu, axis=0), np.shape(mean)),
        2.0 * np.tril(s) - np.diag(np.diag(s))
        if np.ndim(cov) == 2
        else (np.diag(s) if np.ndim(cov) == 1 else np.trace(s)),
        None,
    )


@fragment
def multivariate_normal_dots(dot, ans, x, mean, cov, allow_singular, factor):
    # the tangents of the logpdf due to x, mean and cov, each times factor (1 for the logpdf, the pdf for the pdf)
    dim = np.size(mean) if not is_none(mean) else (np.shape(cov)[0] if np.ndim(cov) == 2 else 1)
    sigma = (
        np.tril(cov) + np.tril(cov, -1).T
        if np.ndim(cov) == 2
        else (np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(dim))
    )
    precision = full_rank_cov(sigma, allow_singular) * np.linalg.inv(sigma)
    r = np.reshape(x, (-1, dim)) - (0.0 if is_none(mean) else np.ravel(mean))
    u = r @ precision
    d_sigma = (
        np.tril(dot) + np.tril(dot, -1).T
        if np.ndim(cov) == 2
        else (np.diag(dot) if np.ndim(cov) == 1 else dot * np.eye(dim))
    )
    return (
        factor * np.reshape(-np.sum(u * np.reshape(dot, (-1, dim)), axis=1), np.shape(ans)),
        None if is_none(mean) else factor * np.reshape(u @ np.ravel(dot), np.shape(ans)),
        factor * np.reshape(0.5 * (np.sum((u @ d_sigma) * u, axis=1) - np.sum(precision * d_sigma)), np.shape(ans)),
        None,
    )


@adjoint(scipy_stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_adjoint(g, ans, x, mean=None, cov=1.0, allow_singular=False):
    return multivariate_normal_bars(g, x, mean, cov, allow_singular)


@tangent(scipy_stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_tangent(dot, ans, x, mean=None, cov=1.0, allow_singular=False):
    return multivariate_normal_dots(dot, ans, x, mean, cov, allow_singular, 1.0)


@adjoint(scipy_stats.multivariate_normal.pdf)
def multivariate_normal_pdf_adjoint(g, ans, x, mean=None, cov=1.0, allow_singular=False):
    # the density times the logpdf's cotangents
    return multivariate_normal_bars(g * ans, x, mean, cov, allow_singular)


@tangent(scipy_stats.multivariate_normal.pdf)
def multivariate_normal_pdf_tangent(dot, ans, x, mean=None, cov=1.0, allow_singular=False):
    return multivariate_normal_dots(dot, ans, x, mean, cov, allow_singular, ans)


# the entropy 1/2 ln det(2 pi e Sigma) = 1/2 (d ln(2 pi e) + ln det Sigma): d/dSigma = 1/2 Sigma^-1, read as the
# logpdf's cov (its lower triangle, a diagonal or a number times I); it does not depend on the mean


@adjoint(scipy_stats.multivariate_normal.entropy)
def multivariate_normal_entropy_adjoint(g, ans, mean=None, cov=1.0):
    dim = np.size(mean) if not is_none(mean) else (np.shape(cov)[0] if np.ndim(cov) == 2 else 1)
    sigma = (
        np.tril(cov) + np.tril(cov, -1).T
        if np.ndim(cov) == 2
        else (np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(dim))
    )
    s = 0.5 * g * np.linalg.inv(sigma)
    return (
        None,
        2.0 * np.tril(s) - np.diag(np.diag(s))
        if np.ndim(cov) == 2
        else (np.diag(s) if np.ndim(cov) == 1 else np.trace(s)),
    )


@tangent(scipy_stats.multivariate_normal.entropy)
def multivariate_normal_entropy_tangent(dot, ans, mean=None, cov=1.0):
    dim = np.size(mean) if not is_none(mean) else (np.shape(cov)[0] if np.ndim(cov) == 2 else 1)
    sigma = (
        np.tril(cov) + np.tril(cov, -1).T
        if np.ndim(cov) == 2
        else (np.diag(cov) if np.ndim(cov) == 1 else cov * np.eye(dim))
    )
    d_sigma = (
        np.tril(dot) + np.tril(dot, -1).T
        if np.ndim(cov) == 2
        else (np.diag(dot) if np.ndim(cov) == 1 else dot * np.eye(dim))
    )
    return None, 0.5 * np.sum(np.linalg.inv(sigma) * d_sigma)


# ---- Dirichlet
# sum_i (alpha_i - 1) ln x_i + ln Gamma(sum alpha) - sum ln Gamma(alpha_i). x has the K parts along its first axis
# (further axes: more points), or K - 1 of them, the last being 1 - their sum.


@fragment
def dirichlet_bars(g, x, alpha):
    # the cotangents of x and alpha given g, the cotangent of the logpdf
    full = np.shape(x)[0] == np.size(alpha)
    parts = x if full else np.concatenate([x, 1.0 - np.sum(x, axis=0, keepdims=True)], axis=0)
    a = np.reshape(alpha, (-1,) + (1,) * (np.ndim(x) - 1))
    gx = g * (a - 1.0) / parts
    w = np.log(parts) - (scipy_special.digamma(a) - scipy_special.digamma(np.sum(alpha)))
    return (
        gx if full else gx[:-1] - gx[-1:],
        np.reshape(np.sum(np.reshape(g * w, (np.size(alpha), -1)), axis=1), np.shape(alpha)),
    )


@fragment
def dirichlet_dots(dot, x, alpha, factor):
    # the tangents of the logpdf due to x and alpha, each times factor (1 for the logpdf, the pdf for the pdf)
    full = np.shape(x)[0] == np.size(alpha)
    parts = x if full else np.concatenate([x, 1.0 - np.sum(x, axis=0, keepdims=True)], axis=0)
    a = np.reshape(alpha, (-1,) + (1,) * (np.ndim(x) - 1))
    dparts = dot if full else np.concatenate([dot, -np.sum(dot, axis=0, keepdims=True)], axis=0)
    w = np.log(parts) - (scipy_special.digamma(a) - scipy_special.digamma(np.sum(alpha)))
    return (
        factor * np.sum((a - 1.0) / parts * dparts, axis=0),
        factor * np.sum(np.reshape(dot, np.shape(a)) * w, axis=0),
    )


@adjoint(scipy_stats.dirichlet.logpdf)
def dirichlet_logpdf_adjoint(g, ans, x, alpha):
    return dirichlet_bars(g, x, alpha)


@tangent(scipy_stats.dirichlet.logpdf)
def dirichlet_logpdf_tangent(dot, ans, x, alpha):
    return dirichlet_dots(dot, x, alpha, 1.0)


@adjoint(scipy_stats.dirichlet.pdf)
def dirichlet_pdf_adjoint(g, ans, x, alpha):
    # the density times the logpdf's cotangents
    return dirichlet_bars(g * ans, x, alpha)


@tangent(scipy_stats.dirichlet.pdf)
def dirichlet_pdf_tangent(dot, ans, x, alpha):
    return dirichlet_dots(dot, x, alpha, ans)


# ---- more families (session 22): half-normal, half-Cauchy, Gumbel (right and left), Rayleigh, inverse gamma and
# Pareto logpdf, Bernoulli and geometric logpmf. A logpdf h(z) - ln(scale) of z = (x - loc) / scale has the
# cotangents h'(z) g / scale in x, minus that in loc and -(z h'(z) + 1) g / scale in scale (scaled_bars); outside
# the support (-inf) the same formula's value is never used.


@fragment
def scaled_bars(g, slope, z, x, loc, scale):
    gs = g / scale
    return unbroadcast(gs * slope, x), unbroadcast(-gs * slope, loc), unbroadcast(-gs * (z * slope + 1.0), scale)


@fragment
def scaled_dots(dot, slope, z, scale):
    ds = dot / scale
    return ds * slope, -ds * slope, -ds * (z * slope + 1.0)


@adjoint(scipy_stats.halfnorm.logpdf)
def halfnorm_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # ln sqrt(2 / pi) - z^2 / 2 on z >= 0: h' = -z
    z = (x - loc) / scale
    return scaled_bars(g, -z, z, x, loc, scale)


@tangent(scipy_stats.halfnorm.logpdf)
def halfnorm_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scaled_dots(dot, -z, z, scale)


@adjoint(scipy_stats.halfcauchy.logpdf)
def halfcauchy_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # ln(2 / pi) - ln(1 + z^2) on z >= 0: h' = -2 z / (1 + z^2)
    z = (x - loc) / scale
    return scaled_bars(g, -2.0 * z / (1.0 + z * z), z, x, loc, scale)


@tangent(scipy_stats.halfcauchy.logpdf)
def halfcauchy_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scaled_dots(dot, -2.0 * z / (1.0 + z * z), z, scale)


@adjoint(scipy_stats.gumbel_r.logpdf)
def gumbel_r_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z - e^-z: h' = e^-z - 1
    z = (x - loc) / scale
    return scaled_bars(g, np.exp(-z) - 1.0, z, x, loc, scale)


@tangent(scipy_stats.gumbel_r.logpdf)
def gumbel_r_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scaled_dots(dot, np.exp(-z) - 1.0, z, scale)


@adjoint(scipy_stats.gumbel_l.logpdf)
def gumbel_l_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # z - e^z: h' = 1 - e^z
    z = (x - loc) / scale
    return scaled_bars(g, 1.0 - np.exp(z), z, x, loc, scale)


@tangent(scipy_stats.gumbel_l.logpdf)
def gumbel_l_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scaled_dots(dot, 1.0 - np.exp(z), z, scale)


@adjoint(scipy_stats.rayleigh.logpdf)
def rayleigh_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # ln z - z^2 / 2 on z > 0: h' = 1 / z - z
    z = (x - loc) / scale
    return scaled_bars(g, 1.0 / z - z, z, x, loc, scale)


@tangent(scipy_stats.rayleigh.logpdf)
def rayleigh_logpdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return scaled_dots(dot, 1.0 / z - z, z, scale)


@adjoint(scipy_stats.invgamma.logpdf)
def invgamma_logpdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # -(a + 1) ln z - 1 / z - ln Gamma(a) on z > 0: h' = (1 / z - a - 1) / z, d/da = -ln z - psi(a)
    z = (x - loc) / scale
    slope = (1.0 / z - a - 1.0) / z
    gs = g / scale
    return (
        unbroadcast(gs * slope, x),
        unbroadcast(-g * (np.log(z) + scipy_special.digamma(a)), a),
        unbroadcast(-gs * slope, loc),
        unbroadcast(-gs * (z * slope + 1.0), scale),
    )


@tangent(scipy_stats.invgamma.logpdf)
def invgamma_logpdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = (1.0 / z - a - 1.0) / z
    ds = dot / scale
    return ds * slope, -dot * (np.log(z) + scipy_special.digamma(a)), -ds * slope, -ds * (z * slope + 1.0)


@adjoint(scipy_stats.pareto.logpdf)
def pareto_logpdf_adjoint(g, ans, x, b, loc=0.0, scale=1.0):
    # ln b - (b + 1) ln z on z >= 1: h' = -(b + 1) / z, d/db = 1 / b - ln z
    z = (x - loc) / scale
    slope = -(b + 1.0) / z
    gs = g / scale
    return (
        unbroadcast(gs * slope, x),
        unbroadcast(g * (1.0 / b - np.log(z)), b),
        unbroadcast(-gs * slope, loc),
        unbroadcast(-gs * (z * slope + 1.0), scale),
    )


@tangent(scipy_stats.pareto.logpdf)
def pareto_logpdf_tangent(dot, ans, x, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = -(b + 1.0) / z
    ds = dot / scale
    return ds * slope, dot * (1.0 / b - np.log(z)), -ds * slope, -ds * (z * slope + 1.0)


@adjoint(scipy_stats.bernoulli.logpmf)
def bernoulli_logpmf_adjoint(g, ans, k, p, loc=0):
    # m ln p + (1 - m) ln(1 - p), m = k - loc in {0, 1}: d/dp = m / p - (1 - m) / (1 - p), each term exactly 0 where
    # its count is (also at p == 0 or 1); piecewise constant in the integers k and loc
    m = k - loc
    return None, unbroadcast(g * (m / np.where(m == 0, 1.0, p) - (1 - m) / np.where(m == 1, 1.0, 1.0 - p)), p), None


@tangent(scipy_stats.bernoulli.logpmf)
def bernoulli_logpmf_tangent(dot, ans, k, p, loc=0):
    m = k - loc
    return None, dot * (m / np.where(m == 0, 1.0, p) - (1 - m) / np.where(m == 1, 1.0, 1.0 - p)), None


@adjoint(scipy_stats.geom.logpmf)
def geom_logpmf_adjoint(g, ans, k, p, loc=0):
    # (m - 1) ln(1 - p) + ln p, m = k - loc >= 1 trials: d/dp = 1 / p - (m - 1) / (1 - p) (the second term exactly 0
    # at m == 1, also at p == 1)
    m = k - loc
    return None, unbroadcast(g * (1.0 / p - (m - 1) / np.where(m == 1, 1.0, 1.0 - p)), p), None


@tangent(scipy_stats.geom.logpmf)
def geom_logpmf_tangent(dot, ans, k, p, loc=0):
    m = k - loc
    return None, dot * (1.0 / p - (m - 1) / np.where(m == 1, 1.0, 1.0 - p)), None


# ---- cdfs of the location-scale families (scipy23): cdf, sf, logcdf and logsf of z = (x - loc) / scale through
# location_scale_bars with gh = g dF/dz (F the standard function); outside the support the cdf is constant (0 or 1)
# and its derivative exactly 0 (each where() guards the branch not taken against inf and nan).


@adjoint(scipy_stats.expon.cdf)
def expon_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1 - e^-z on z >= 0: dF/dz = e^-z
    z = (x - loc) / scale
    return location_scale_bars(g * (z >= 0.0) * np.exp(-np.maximum(z, 0.0)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.expon.cdf)
def expon_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * (z >= 0.0) * np.exp(-np.maximum(z, 0.0)), z, scale, 0.0)


@adjoint(scipy_stats.expon.sf)
def expon_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # e^-z on z >= 0
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * np.exp(-np.maximum(z, 0.0)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.expon.sf)
def expon_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * np.exp(-np.maximum(z, 0.0)), z, scale, 0.0)


@adjoint(scipy_stats.expon.logcdf)
def expon_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log(1 - e^-z) on z > 0: d/dz = 1 / expm1(z) (-inf at and below 0: derivative 0 there)
    z = (x - loc) / scale
    return location_scale_bars(
        g * np.where(z > 0.0, 1.0 / np.expm1(np.where(z > 0.0, z, 1.0)), 0.0), z, x, loc, scale, 0.0
    )


@tangent(scipy_stats.expon.logcdf)
def expon_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * np.where(z > 0.0, 1.0 / np.expm1(np.where(z > 0.0, z, 1.0)), 0.0), z, scale, 0.0)


@adjoint(scipy_stats.expon.logsf)
def expon_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z on z >= 0 (0 below)
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0), z, x, loc, scale, 0.0)


@tangent(scipy_stats.expon.logsf)
def expon_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0), z, scale, 0.0)


@adjoint(scipy_stats.laplace.cdf)
def laplace_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # e^z / 2 below 0, 1 - e^-z / 2 above: dF/dz = e^-|z| / 2
    z = (x - loc) / scale
    return location_scale_bars(0.5 * g * np.exp(-np.abs(z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.laplace.cdf)
def laplace_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(0.5 * dot * np.exp(-np.abs(z)), z, scale, 0.0)


@adjoint(scipy_stats.laplace.sf)
def laplace_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-0.5 * g * np.exp(-np.abs(z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.laplace.sf)
def laplace_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-0.5 * dot * np.exp(-np.abs(z)), z, scale, 0.0)


@adjoint(scipy_stats.laplace.logcdf)
def laplace_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # z - ln 2 below 0 (slope 1); log(1 - e^-z / 2) above: slope 1 / (2 e^z - 1)
    z = (x - loc) / scale
    slope = np.where(z < 0.0, 1.0, 1.0 / (2.0 * np.exp(np.maximum(z, 0.0)) - 1.0))
    return location_scale_bars(g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.laplace.logcdf)
def laplace_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = np.where(z < 0.0, 1.0, 1.0 / (2.0 * np.exp(np.maximum(z, 0.0)) - 1.0))
    return location_scale_dots(dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.laplace.logsf)
def laplace_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # the mirror image: -z - ln 2 above 0 (slope -1); log(1 - e^z / 2) below: slope -1 / (2 e^-z - 1)
    z = (x - loc) / scale
    slope = np.where(z > 0.0, -1.0, -1.0 / (2.0 * np.exp(-np.minimum(z, 0.0)) - 1.0))
    return location_scale_bars(g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.laplace.logsf)
def laplace_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = np.where(z > 0.0, -1.0, -1.0 / (2.0 * np.exp(-np.minimum(z, 0.0)) - 1.0))
    return location_scale_dots(dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.halfnorm.cdf)
def halfnorm_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # erf(z / sqrt 2) on z >= 0: dF/dz = sqrt(2 / pi) e^(-z^2 / 2)
    z = (x - loc) / scale
    return location_scale_bars(g * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfnorm.cdf)
def halfnorm_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z), z, scale, 0.0)


@adjoint(scipy_stats.halfnorm.sf)
def halfnorm_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfnorm.sf)
def halfnorm_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z), z, scale, 0.0)


@adjoint(scipy_stats.halfnorm.logcdf)
def halfnorm_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # the density over the cdf, exp(-z^2 / 2 - ans) sqrt(2 / pi), on z > 0 (-inf at and below 0: derivative 0)
    z = (x - loc) / scale
    slope = np.where(z > 0.0, np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z - np.where(z > 0.0, ans, 0.0)), 0.0)
    return location_scale_bars(g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfnorm.logcdf)
def halfnorm_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = np.where(z > 0.0, np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z - np.where(z > 0.0, ans, 0.0)), 0.0)
    return location_scale_dots(dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.halfnorm.logsf)
def halfnorm_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # minus the density over the sf, on z >= 0 (0 below, where the sf is 1)
    z = (x - loc) / scale
    return location_scale_bars(
        -g * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z - ans), z, x, loc, scale, 0.0
    )


@tangent(scipy_stats.halfnorm.logsf)
def halfnorm_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z - ans), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_r.cdf)
def gumbel_r_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # exp(-e^-z): dF/dz = exp(-z - e^-z)
    z = (x - loc) / scale
    return location_scale_bars(g * np.exp(-z - np.exp(-z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_r.cdf)
def gumbel_r_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * np.exp(-z - np.exp(-z)), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_r.sf)
def gumbel_r_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g * np.exp(-z - np.exp(-z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_r.sf)
def gumbel_r_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * np.exp(-z - np.exp(-z)), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_r.logcdf)
def gumbel_r_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -e^-z
    z = (x - loc) / scale
    return location_scale_bars(g * np.exp(-z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_r.logcdf)
def gumbel_r_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * np.exp(-z), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_r.logsf)
def gumbel_r_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log(1 - exp(-e^-z)): minus the density over the sf, exp(-z - e^-z - ans)
    z = (x - loc) / scale
    return location_scale_bars(-g * np.exp(-z - np.exp(-z) - ans), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_r.logsf)
def gumbel_r_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * np.exp(-z - np.exp(-z) - ans), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_l.cdf)
def gumbel_l_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1 - exp(-e^z): dF/dz = exp(z - e^z)
    z = (x - loc) / scale
    return location_scale_bars(g * np.exp(z - np.exp(z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_l.cdf)
def gumbel_l_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * np.exp(z - np.exp(z)), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_l.sf)
def gumbel_l_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g * np.exp(z - np.exp(z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_l.sf)
def gumbel_l_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * np.exp(z - np.exp(z)), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_l.logcdf)
def gumbel_l_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log(1 - exp(-e^z)): the density over the cdf, exp(z - e^z - ans)
    z = (x - loc) / scale
    return location_scale_bars(g * np.exp(z - np.exp(z) - ans), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_l.logcdf)
def gumbel_l_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * np.exp(z - np.exp(z) - ans), z, scale, 0.0)


@adjoint(scipy_stats.gumbel_l.logsf)
def gumbel_l_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -e^z
    z = (x - loc) / scale
    return location_scale_bars(-g * np.exp(z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.gumbel_l.logsf)
def gumbel_l_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * np.exp(z), z, scale, 0.0)


@adjoint(scipy_stats.rayleigh.cdf)
def rayleigh_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1 - e^(-z^2 / 2) on z >= 0: dF/dz = z e^(-z^2 / 2)
    z = (x - loc) / scale
    return location_scale_bars(g * (z >= 0.0) * z * np.exp(-0.5 * z * z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.rayleigh.cdf)
def rayleigh_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * (z >= 0.0) * z * np.exp(-0.5 * z * z), z, scale, 0.0)


@adjoint(scipy_stats.rayleigh.sf)
def rayleigh_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * z * np.exp(-0.5 * z * z), z, x, loc, scale, 0.0)


@tangent(scipy_stats.rayleigh.sf)
def rayleigh_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * z * np.exp(-0.5 * z * z), z, scale, 0.0)


@adjoint(scipy_stats.rayleigh.logcdf)
def rayleigh_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # log(1 - e^(-z^2 / 2)) on z > 0: d/dz = z / expm1(z^2 / 2)
    z = (x - loc) / scale
    slope = np.where(z > 0.0, z / np.expm1(0.5 * np.where(z > 0.0, z, 1.0) ** 2), 0.0)
    return location_scale_bars(g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.rayleigh.logcdf)
def rayleigh_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = np.where(z > 0.0, z / np.expm1(0.5 * np.where(z > 0.0, z, 1.0) ** 2), 0.0)
    return location_scale_dots(dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.rayleigh.logsf)
def rayleigh_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -z^2 / 2 on z >= 0 (0 below)
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * z, z, x, loc, scale, 0.0)


@tangent(scipy_stats.rayleigh.logsf)
def rayleigh_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * z, z, scale, 0.0)


# ---- cdfs of lognorm, weibull_min and pareto (scipy23): of y = (x - loc) / scale and a shape; with q = y dF/dy the
# cotangents are q / (y scale) in x, minus that in loc, -q / scale in scale; outside the support (y <= 0, or y < 1 for
# pareto) the cdf is constant and every derivative exactly 0 (the where() keeps the logs and powers finite there)


@fragment
def shaped_bars(gq, gs, y, x, shape, loc, scale):
    # gq: g y dF/dy, zero outside the support; gs: g dF/dshape
    return (
        unbroadcast(gq / (y * scale), x),
        unbroadcast(gs, shape),
        unbroadcast(-gq / (y * scale), loc),
        unbroadcast(-gq / scale, scale),
    )


@fragment
def shaped_dots(dq, ds, y, scale):
    return dq / (y * scale), ds, -dq / (y * scale), -dq / scale


@adjoint(scipy_stats.lognorm.cdf)
def lognorm_cdf_adjoint(g, ans, x, s, loc=0.0, scale=1.0):
    # Phi(w), w = ln(y) / s: y dF/dy = phi(w) / s, dF/ds = -phi(w) w / s
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = g * (y > 0.0) * np.exp(-0.5 * w * w) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_bars(q, -q * w, yp, x, s, loc, scale)


@tangent(scipy_stats.lognorm.cdf)
def lognorm_cdf_tangent(dot, ans, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = dot * (y > 0.0) * np.exp(-0.5 * w * w) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_dots(q, -q * w, yp, scale)


@adjoint(scipy_stats.lognorm.sf)
def lognorm_sf_adjoint(g, ans, x, s, loc=0.0, scale=1.0):
    # 1 - Phi(w)
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = -g * (y > 0.0) * np.exp(-0.5 * w * w) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_bars(q, -q * w, yp, x, s, loc, scale)


@tangent(scipy_stats.lognorm.sf)
def lognorm_sf_tangent(dot, ans, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = -dot * (y > 0.0) * np.exp(-0.5 * w * w) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_dots(q, -q * w, yp, scale)


@adjoint(scipy_stats.weibull_min.cdf)
def weibull_min_cdf_adjoint(g, ans, x, c, loc=0.0, scale=1.0):
    # 1 - exp(-y^c): y dF/dy = c y^c exp(-y^c), dF/dc = y^c exp(-y^c) ln y
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = g * (y > 0.0) * yc * np.exp(-yc)
    return shaped_bars(c * q, q * np.log(yp), yp, x, c, loc, scale)


@tangent(scipy_stats.weibull_min.cdf)
def weibull_min_cdf_tangent(dot, ans, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = dot * (y > 0.0) * yc * np.exp(-yc)
    return shaped_dots(c * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.weibull_min.sf)
def weibull_min_sf_adjoint(g, ans, x, c, loc=0.0, scale=1.0):
    # exp(-y^c)
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = -g * (y > 0.0) * yc * np.exp(-yc)
    return shaped_bars(c * q, q * np.log(yp), yp, x, c, loc, scale)


@tangent(scipy_stats.weibull_min.sf)
def weibull_min_sf_tangent(dot, ans, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = -dot * (y > 0.0) * yc * np.exp(-yc)
    return shaped_dots(c * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.weibull_min.logsf)
def weibull_min_logsf_adjoint(g, ans, x, c, loc=0.0, scale=1.0):
    # -y^c: y d/dy = -c y^c, d/dc = -y^c ln y
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    q = -g * (y > 0.0) * yp**c
    return shaped_bars(c * q, q * np.log(yp), yp, x, c, loc, scale)


@tangent(scipy_stats.weibull_min.logsf)
def weibull_min_logsf_tangent(dot, ans, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    q = -dot * (y > 0.0) * yp**c
    return shaped_dots(c * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.pareto.cdf)
def pareto_cdf_adjoint(g, ans, x, b, loc=0.0, scale=1.0):
    # 1 - y^-b on y >= 1: y dF/dy = b y^-b, dF/db = y^-b ln y
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = g * (y >= 1.0) * yp ** (-b)
    return shaped_bars(b * q, q * np.log(yp), yp, x, b, loc, scale)


@tangent(scipy_stats.pareto.cdf)
def pareto_cdf_tangent(dot, ans, x, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = dot * (y >= 1.0) * yp ** (-b)
    return shaped_dots(b * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.pareto.sf)
def pareto_sf_adjoint(g, ans, x, b, loc=0.0, scale=1.0):
    # y^-b on y >= 1
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = -g * (y >= 1.0) * yp ** (-b)
    return shaped_bars(b * q, q * np.log(yp), yp, x, b, loc, scale)


@tangent(scipy_stats.pareto.sf)
def pareto_sf_tangent(dot, ans, x, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = -dot * (y >= 1.0) * yp ** (-b)
    return shaped_dots(b * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.pareto.logsf)
def pareto_logsf_adjoint(g, ans, x, b, loc=0.0, scale=1.0):
    # -b ln y on y >= 1
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = -g * (y >= 1.0)
    return shaped_bars(b * q, q * np.log(yp), yp, x, b, loc, scale)


@tangent(scipy_stats.pareto.logsf)
def pareto_logsf_tangent(dot, ans, x, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.maximum(y, 1.0)
    q = -dot * (y >= 1.0)
    return shaped_dots(b * q, q * np.log(yp), yp, scale)


# ---- von Mises, truncated normal, F, beta-binomial (scipy23) --------------------------------------------------------


@adjoint(scipy_stats.vonmises.logpdf)
def vonmises_logpdf_adjoint(g, ans, x, kappa, loc=0.0, scale=1.0):
    # kappa cos z - ln(2 pi I0(kappa)) - ln(scale): h' = -kappa sin z, d/dkappa = cos z - I1 / I0 (the scaled i1e / i0e:
    # no overflow for a large kappa)
    z = (x - loc) / scale
    slope = -kappa * np.sin(z)
    gs = g / scale
    return (
        unbroadcast(gs * slope, x),
        unbroadcast(g * (np.cos(z) - scipy_special.i1e(kappa) / scipy_special.i0e(kappa)), kappa),
        unbroadcast(-gs * slope, loc),
        unbroadcast(-gs * (z * slope + 1.0), scale),
    )


@tangent(scipy_stats.vonmises.logpdf)
def vonmises_logpdf_tangent(dot, ans, x, kappa, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = -kappa * np.sin(z)
    ds = dot / scale
    kappa_dot = dot * (np.cos(z) - scipy_special.i1e(kappa) / scipy_special.i0e(kappa))
    return ds * slope, kappa_dot, -ds * slope, -ds * (z * slope + 1.0)


@adjoint(scipy_stats.truncnorm.logpdf)
def truncnorm_logpdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # -z^2 / 2 - ln sqrt(2 pi) - ln Z - ln(scale) on a <= z <= b, Z = Phi(b) - Phi(a) (a, b in standard units):
    # h' = -z, d/da = phi(a) / Z, d/db = -phi(b) / Z, where phi(a) / Z = scale exp(ans + (z^2 - a^2) / 2) from ans
    # itself (no cancellation in Z; 0 off the support, where ans is -inf)
    z = (x - loc) / scale
    gs = g / scale
    return (
        unbroadcast(-gs * z, x),
        unbroadcast(g * scale * np.exp(ans + 0.5 * (z * z - a * a)), a),
        unbroadcast(-g * scale * np.exp(ans + 0.5 * (z * z - b * b)), b),
        unbroadcast(gs * z, loc),
        unbroadcast(gs * (z * z - 1.0), scale),
    )


@tangent(scipy_stats.truncnorm.logpdf)
def truncnorm_logpdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    ds = dot / scale
    a_dot = dot * scale * np.exp(ans + 0.5 * (z * z - a * a))
    b_dot = -dot * scale * np.exp(ans + 0.5 * (z * z - b * b))
    return -ds * z, a_dot, b_dot, ds * z, ds * (z * z - 1.0)


@fragment
def truncnorm_mass(a, b):
    # Phi(b) - Phi(a), from the tail nearer to both where a > 0 (the difference of two numbers near 1 loses it)
    return np.where(
        a > 0.0, scipy_special.ndtr(-a) - scipy_special.ndtr(-b), scipy_special.ndtr(b) - scipy_special.ndtr(a)
    )


@adjoint(scipy_stats.truncnorm.cdf)
def truncnorm_cdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # F = (Phi(z) - Phi(a)) / Z on a <= z <= b (0 below, 1 above: no derivative there): dF/dz = phi(z) / Z,
    # dF/da = phi(a) (F - 1) / Z, dF/db = -phi(b) F / Z
    z = (x - loc) / scale
    mass = truncnorm_mass(a, b)
    gm = g * (z >= a) * (z <= b) / (np.sqrt(2.0 * np.pi) * mass)
    gz = gm * np.exp(-0.5 * z * z)
    return (
        unbroadcast(gz / scale, x),
        unbroadcast(gm * np.exp(-0.5 * a * a) * (ans - 1.0), a),
        unbroadcast(-gm * np.exp(-0.5 * b * b) * ans, b),
        unbroadcast(-gz / scale, loc),
        unbroadcast(-gz * z / scale, scale),
    )


@tangent(scipy_stats.truncnorm.cdf)
def truncnorm_cdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    mass = truncnorm_mass(a, b)
    dm = dot * (z >= a) * (z <= b) / (np.sqrt(2.0 * np.pi) * mass)
    dz = dm * np.exp(-0.5 * z * z)
    a_dot = dm * np.exp(-0.5 * a * a) * (ans - 1.0)
    return dz / scale, a_dot, -dm * np.exp(-0.5 * b * b) * ans, -dz / scale, -dz * z / scale


@adjoint(scipy_stats.f.logpdf)
def f_logpdf_adjoint(g, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    # m/2 ln m + n/2 ln n + (m/2 - 1) ln y - (m + n)/2 ln(n + m y) - ln B(m/2, n/2) - ln(scale), m = dfn, n = dfd,
    # y = (x - loc) / scale: d/dy = (m/2 - 1) / y - (m + n) m / (2 (n + m y)); with s = n + m y, d/dm and d/dn below
    y = (x - loc) / scale
    s = dfd + dfn * y
    half = 0.5 * (dfn + dfd)
    slope = (0.5 * dfn - 1.0) / y - half * dfn / s
    both = scipy_special.digamma(half)
    in_m = 0.5 * (np.log(dfn * y / s) + 1.0 - scipy_special.digamma(0.5 * dfn) + both) - half * y / s
    in_n = 0.5 * (np.log(dfd / s) + 1.0 - scipy_special.digamma(0.5 * dfd) + both) - half / s
    gs = g / scale
    return (
        unbroadcast(gs * slope, x),
        unbroadcast(g * in_m, dfn),
        unbroadcast(g * in_n, dfd),
        unbroadcast(-gs * slope, loc),
        unbroadcast(-gs * (y * slope + 1.0), scale),
    )


@tangent(scipy_stats.f.logpdf)
def f_logpdf_tangent(dot, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    s = dfd + dfn * y
    half = 0.5 * (dfn + dfd)
    slope = (0.5 * dfn - 1.0) / y - half * dfn / s
    both = scipy_special.digamma(half)
    in_m = 0.5 * (np.log(dfn * y / s) + 1.0 - scipy_special.digamma(0.5 * dfn) + both) - half * y / s
    in_n = 0.5 * (np.log(dfd / s) + 1.0 - scipy_special.digamma(0.5 * dfd) + both) - half / s
    ds = dot / scale
    return ds * slope, dot * in_m, dot * in_n, -ds * slope, -ds * (y * slope + 1.0)


@adjoint(scipy_stats.betabinom.logpmf)
def betabinom_logpmf_adjoint(g, ans, k, n, a, b, loc=0):
    # ln C(n, m) + ln B(m + a, n - m + b) - ln B(a, b), m = k - loc: digamma differences in a and b; piecewise
    # constant in the integers k, n and loc
    m = k - loc
    both = scipy_special.digamma(a + b) - scipy_special.digamma(n + a + b)
    in_a = scipy_special.digamma(m + a) - scipy_special.digamma(a) + both
    in_b = scipy_special.digamma(n - m + b) - scipy_special.digamma(b) + both
    return None, None, unbroadcast(g * in_a, a), unbroadcast(g * in_b, b), None


@tangent(scipy_stats.betabinom.logpmf)
def betabinom_logpmf_tangent(dot, ans, k, n, a, b, loc=0):
    m = k - loc
    both = scipy_special.digamma(a + b) - scipy_special.digamma(n + a + b)
    in_a = scipy_special.digamma(m + a) - scipy_special.digamma(a) + both
    in_b = scipy_special.digamma(n - m + b) - scipy_special.digamma(b) + both
    return None, None, dot * in_a, dot * in_b, None


@adjoint(scipy_stats.multinomial.logpmf)
def multinomial_logpmf_adjoint(g, ans, x, n, p):
    # ln n! - sum ln x_i! + sum x_i ln p_i over the last axis: d/dp_i = x_i / p_i (exactly 0 where x_i is 0, also at
    # p_i == 0), the plain partials, as dirichlet's x: SciPy takes the last p as 1 - the others', so only directions
    # along the simplex (summing to zero) are the derivative of what it evaluates; piecewise constant in x and n
    ratio = x / np.where(x == 0, 1.0, p)
    return None, None, unbroadcast(np.expand_dims(g, -1) * ratio, p)


@tangent(scipy_stats.multinomial.logpmf)
def multinomial_logpmf_tangent(dot, ans, x, n, p):
    return None, None, np.sum(dot * x / np.where(x == 0, 1.0, p), axis=-1)


# ---- distribution functions of the binomial, negative binomial and geometric distributions in p (scipy23): with
# m = floor(k - loc), each a regularized incomplete beta function of p whose derivative in p is a closed form (its
# integrand); 0 where the cdf is 0 or 1. nbinom's n is the incomplete beta's shape: no closed form, refused.


@adjoint(scipy_stats.binom.cdf)
def binom_cdf_adjoint(g, ans, k, n, p, loc=0):
    # I_(1-p)(n - m, m + 1): d/dp = -n pmf(m; n - 1, p), 0 for m < 0 and m >= n (n == 0: the factor n)
    slope = -n * scipy_stats.binom.pmf(np.floor(k - loc), np.maximum(n - 1, 0), p)
    return None, None, unbroadcast(g * slope, p), None


@tangent(scipy_stats.binom.cdf)
def binom_cdf_tangent(dot, ans, k, n, p, loc=0):
    return None, None, -dot * n * scipy_stats.binom.pmf(np.floor(k - loc), np.maximum(n - 1, 0), p), None


@adjoint(scipy_stats.binom.sf)
def binom_sf_adjoint(g, ans, k, n, p, loc=0):
    # 1 - cdf
    slope = n * scipy_stats.binom.pmf(np.floor(k - loc), np.maximum(n - 1, 0), p)
    return None, None, unbroadcast(g * slope, p), None


@tangent(scipy_stats.binom.sf)
def binom_sf_tangent(dot, ans, k, n, p, loc=0):
    return None, None, dot * n * scipy_stats.binom.pmf(np.floor(k - loc), np.maximum(n - 1, 0), p), None


@fragment
def nbinom_cdf_in_p(k, n, p, loc):
    # I_p(n, m + 1): d/dp = p^(n - 1) (1 - p)^m / B(n, m + 1) for m >= 0 (the cdf is 0 below)
    m = np.floor(k - loc)
    mm = np.maximum(m, 0.0)
    density = np.exp(
        scipy_special.xlogy(n - 1.0, p) + scipy_special.xlog1py(mm, -p) - scipy_special.betaln(n, mm + 1.0)
    )
    return (m >= 0) * density


@adjoint(scipy_stats.nbinom.cdf)
def nbinom_cdf_adjoint(g, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.cdf", "n", "an incomplete beta function of n: no closed form"),
        unbroadcast(g * slope, p),
        None,
    )


@tangent(scipy_stats.nbinom.cdf)
def nbinom_cdf_tangent(dot, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.cdf", "n", "an incomplete beta function of n: no closed form"),
        dot * slope,
        None,
    )


@adjoint(scipy_stats.nbinom.sf)
def nbinom_sf_adjoint(g, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.sf", "n", "an incomplete beta function of n: no closed form"),
        unbroadcast(-g * slope, p),
        None,
    )


@tangent(scipy_stats.nbinom.sf)
def nbinom_sf_tangent(dot, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.sf", "n", "an incomplete beta function of n: no closed form"),
        -dot * slope,
        None,
    )


@adjoint(scipy_stats.geom.cdf)
def geom_cdf_adjoint(g, ans, k, p, loc=0):
    # 1 - (1 - p)^m for m >= 1 trials (0 below): d/dp = m (1 - p)^(m - 1)
    m = np.floor(k - loc)
    return None, unbroadcast(g * (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0), p), None


@tangent(scipy_stats.geom.cdf)
def geom_cdf_tangent(dot, ans, k, p, loc=0):
    m = np.floor(k - loc)
    return None, dot * (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0), None


@adjoint(scipy_stats.geom.sf)
def geom_sf_adjoint(g, ans, k, p, loc=0):
    # (1 - p)^m for m >= 1 (1 below)
    m = np.floor(k - loc)
    return None, unbroadcast(-g * (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0), p), None


@tangent(scipy_stats.geom.sf)
def geom_sf_tangent(dot, ans, k, p, loc=0):
    m = np.floor(k - loc)
    return None, -dot * (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0), None


@adjoint(scipy_stats.geom.logsf)
def geom_logsf_adjoint(g, ans, k, p, loc=0):
    # m ln(1 - p) for m >= 1 (0 below): d/dp = -m / (1 - p)
    m = np.floor(k - loc)
    return None, unbroadcast(-g * (m >= 1) * m / (1.0 - p), p), None


@tangent(scipy_stats.geom.logsf)
def geom_logsf_tangent(dot, ans, k, p, loc=0):
    m = np.floor(k - loc)
    return None, -dot * (m >= 1) * m / (1.0 - p), None


# ---- multivariate t (scipy23): ln Gamma(h) - ln Gamma(df / 2) - d/2 ln(df pi) - 1/2 ln det Sigma - h ln(1 + m / df),
# h = (df + d) / 2, m = r^T Sigma^-1 r, r = x - loc per row: with u = Sigma^-1 r and w = (df + d) / (df + m), dx = -w u,
# dloc = w u, dSigma = 1/2 (w u u^T - Sigma^-1) (the normal's with u weighted), d/ddf = 1/2 (psi(h) - psi(df / 2) -
# d / df - ln(1 + m / df)) + h m / (df (df + m)). shape is read as multivariate_normal's cov (its lower triangle, a
# diagonal, or a number times I); df = inf (the normal) is refused: use multivariate_normal.


@fragment
def multivariate_t_in_df(m, df, dim):
    # d logpdf / d df at each row's Mahalanobis square m
    h = 0.5 * (df + dim)
    return 0.5 * (scipy_special.digamma(h) - scipy_special.digamma(0.5 * df) - dim / df - np.log1p(m / df)) + h * m / (
        df * (df + m)
    )


@adjoint(scipy_stats.multivariate_t.logpdf)
def multivariate_t_logpdf_adjoint(g, ans, x, loc=None, shape=1, df=1):
    dim = np.size(loc) if not is_none(loc) else (np.shape(shape)[0] if np.ndim(shape) == 2 else 1)
    sigma = (
        np.tril(shape) + np.tril(shape, -1).T
        if np.ndim(shape) == 2
        else (np.diag(shape) if np.ndim(shape) == 1 else shape * np.eye(dim))
    )
    finite = linalg_check(np.all(np.isfinite(df)), "scipy.stats.multivariate_t with df=inf (use multivariate_normal)")
    precision = finite * np.linalg.inv(sigma)
    r = np.reshape(x, (-1, dim)) - (0.0 if is_none(loc) else np.ravel(loc))
    u = r @ precision
    m = np.sum(u * r, axis=1)
    in_df = multivariate_t_in_df(m, df, dim)
    gu = np.reshape(np.ravel(g) * (df + dim) / (df + m), (-1, 1)) * u
    s = 0.5 * (gu.T @ u - np.sum(g) * precision)
    return (
        np.reshape(-gu, np.shape(x)),
        None if is_none(loc) else np.reshape(np.sum(gu, axis=0), np.shape(loc)),
        2.0 * np.tril(s) - np.diag(np.diag(s))
        if np.ndim(shape) == 2
        else (np.diag(s) if np.ndim(shape) == 1 else np.trace(s)),
        np.sum(np.ravel(g) * in_df),
    )


@tangent(scipy_stats.multivariate_t.logpdf)
def multivariate_t_logpdf_tangent(dot, ans, x, loc=None, shape=1, df=1):
    dim = np.size(loc) if not is_none(loc) else (np.shape(shape)[0] if np.ndim(shape) == 2 else 1)
    sigma = (
        np.tril(shape) + np.tril(shape, -1).T
        if np.ndim(shape) == 2
        else (np.diag(shape) if np.ndim(shape) == 1 else shape * np.eye(dim))
    )
    finite = linalg_check(np.all(np.isfinite(df)), "scipy.stats.multivariate_t with df=inf (use multivariate_normal)")
    precision = finite * np.linalg.inv(sigma)
    r = np.reshape(x, (-1, dim)) - (0.0 if is_none(loc) else np.ravel(loc))
    u = r @ precision
    m = np.sum(u * r, axis=1)
    in_df = multivariate_t_in_df(m, df, dim)
    w = (df + dim) / (df + m)
    d_sigma = (
        np.tril(dot) + np.tril(dot, -1).T
        if np.ndim(shape) == 2
        else (np.diag(dot) if np.ndim(shape) == 1 else dot * np.eye(dim))
    )
    return (
        np.reshape(-w * np.sum(u * np.reshape(dot, (-1, dim)), axis=1), np.shape(ans)),
        None if is_none(loc) else np.reshape(w * (u @ np.ravel(dot)), np.shape(ans)),
        np.reshape(0.5 * (w * np.sum((u @ d_sigma) * u, axis=1) - np.sum(precision * d_sigma)), np.shape(ans)),
        np.reshape(in_df * dot, np.shape(ans)),
    )


# ---- scipy24: quantiles of the location-scale families (ppf, isf): ans = loc + scale G(q) with G the standard
# quantile, whose slope is 1 / f(z) at z = (ans - loc) / scale (f the standard density; infinite at q 0 or 1)


@fragment
def quantile_bars(g, slope, z, q, loc, scale):
    # slope: dG/dq, or its negation for an isf
    return unbroadcast(g * scale * slope, q), unbroadcast(g + 0.0 * z, loc), unbroadcast(g * z, scale)


@fragment
def quantile_dots(dot, slope, z, scale):
    return dot * scale * slope, dot + 0.0 * z, dot * z


@adjoint(scipy_stats.expon.ppf)
def expon_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), -ln(1 - q): 1 / f(z) = e^z
    z = (ans - loc) / scale
    return quantile_bars(g, np.exp(z), z, q, loc, scale)


@tangent(scipy_stats.expon.ppf)
def expon_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.exp(z), z, scale)


@adjoint(scipy_stats.expon.isf)
def expon_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.exp(z), z, q, loc, scale)


@tangent(scipy_stats.expon.isf)
def expon_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.exp(z), z, scale)


@adjoint(scipy_stats.logistic.ppf)
def logistic_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), logit(q): 1 / f(z) = 1 / (expit(z) expit(-z))
    z = (ans - loc) / scale
    return quantile_bars(g, 1.0 / (scipy_special.expit(z) * scipy_special.expit(-z)), z, q, loc, scale)


@tangent(scipy_stats.logistic.ppf)
def logistic_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, 1.0 / (scipy_special.expit(z) * scipy_special.expit(-z)), z, scale)


@adjoint(scipy_stats.logistic.isf)
def logistic_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -1.0 / (scipy_special.expit(z) * scipy_special.expit(-z)), z, q, loc, scale)


@tangent(scipy_stats.logistic.isf)
def logistic_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -1.0 / (scipy_special.expit(z) * scipy_special.expit(-z)), z, scale)


@adjoint(scipy_stats.cauchy.ppf)
def cauchy_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), tan(pi (q - 1/2)): 1 / f(z) = pi (1 + z^2)
    z = (ans - loc) / scale
    return quantile_bars(g, np.pi * (1.0 + z * z), z, q, loc, scale)


@tangent(scipy_stats.cauchy.ppf)
def cauchy_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.pi * (1.0 + z * z), z, scale)


@adjoint(scipy_stats.cauchy.isf)
def cauchy_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.pi * (1.0 + z * z), z, q, loc, scale)


@tangent(scipy_stats.cauchy.isf)
def cauchy_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.pi * (1.0 + z * z), z, scale)


@adjoint(scipy_stats.laplace.ppf)
def laplace_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), 1 / f(z) = 2 e^|z|
    z = (ans - loc) / scale
    return quantile_bars(g, 2.0 * np.exp(np.abs(z)), z, q, loc, scale)


@tangent(scipy_stats.laplace.ppf)
def laplace_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, 2.0 * np.exp(np.abs(z)), z, scale)


@adjoint(scipy_stats.laplace.isf)
def laplace_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -2.0 * np.exp(np.abs(z)), z, q, loc, scale)


@tangent(scipy_stats.laplace.isf)
def laplace_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -2.0 * np.exp(np.abs(z)), z, scale)


@adjoint(scipy_stats.gumbel_r.ppf)
def gumbel_r_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), -ln(-ln q): 1 / f(z) = exp(z + e^-z)
    z = (ans - loc) / scale
    return quantile_bars(g, np.exp(z + np.exp(-z)), z, q, loc, scale)


@tangent(scipy_stats.gumbel_r.ppf)
def gumbel_r_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.exp(z + np.exp(-z)), z, scale)


@adjoint(scipy_stats.gumbel_r.isf)
def gumbel_r_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.exp(z + np.exp(-z)), z, q, loc, scale)


@tangent(scipy_stats.gumbel_r.isf)
def gumbel_r_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.exp(z + np.exp(-z)), z, scale)


@adjoint(scipy_stats.gumbel_l.ppf)
def gumbel_l_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), ln(-ln(1 - q)): 1 / f(z) = exp(e^z - z)
    z = (ans - loc) / scale
    return quantile_bars(g, np.exp(np.exp(z) - z), z, q, loc, scale)


@tangent(scipy_stats.gumbel_l.ppf)
def gumbel_l_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.exp(np.exp(z) - z), z, scale)


@adjoint(scipy_stats.gumbel_l.isf)
def gumbel_l_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.exp(np.exp(z) - z), z, q, loc, scale)


@tangent(scipy_stats.gumbel_l.isf)
def gumbel_l_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.exp(np.exp(z) - z), z, scale)


@adjoint(scipy_stats.rayleigh.ppf)
def rayleigh_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), sqrt(-2 ln(1 - q)): 1 / f(z) = e^(z^2 / 2) / z
    z = (ans - loc) / scale
    return quantile_bars(g, np.exp(0.5 * z * z) / z, z, q, loc, scale)


@tangent(scipy_stats.rayleigh.ppf)
def rayleigh_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.exp(0.5 * z * z) / z, z, scale)


@adjoint(scipy_stats.rayleigh.isf)
def rayleigh_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.exp(0.5 * z * z) / z, z, q, loc, scale)


@tangent(scipy_stats.rayleigh.isf)
def rayleigh_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.exp(0.5 * z * z) / z, z, scale)


@adjoint(scipy_stats.halfnorm.ppf)
def halfnorm_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), ndtri((1 + q) / 2): 1 / f(z) = sqrt(pi / 2) e^(z^2 / 2)
    z = (ans - loc) / scale
    return quantile_bars(g, np.sqrt(0.5 * np.pi) * np.exp(0.5 * z * z), z, q, loc, scale)


@tangent(scipy_stats.halfnorm.ppf)
def halfnorm_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, np.sqrt(0.5 * np.pi) * np.exp(0.5 * z * z), z, scale)


@adjoint(scipy_stats.halfnorm.isf)
def halfnorm_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -np.sqrt(0.5 * np.pi) * np.exp(0.5 * z * z), z, q, loc, scale)


@tangent(scipy_stats.halfnorm.isf)
def halfnorm_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -np.sqrt(0.5 * np.pi) * np.exp(0.5 * z * z), z, scale)


@adjoint(scipy_stats.uniform.ppf)
def uniform_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(q), q: 1 / f(z) = 1
    z = (ans - loc) / scale
    return quantile_bars(g, 1.0 + 0.0 * z, z, q, loc, scale)


@tangent(scipy_stats.uniform.ppf)
def uniform_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, 1.0 + 0.0 * z, z, scale)


@adjoint(scipy_stats.uniform.isf)
def uniform_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # loc + scale G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -1.0 + 0.0 * z, z, q, loc, scale)


@tangent(scipy_stats.uniform.isf)
def uniform_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -1.0 + 0.0 * z, z, scale)


@adjoint(scipy_stats.t.ppf)
def t_ppf_adjoint(g, ans, q, df, loc=0.0, scale=1.0):
    # the standard t quantile's slope is 1 / pdf(z, df); no closed form in df (an inverse incomplete beta function)
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale / scipy_stats.t.pdf(z, df), q),
        no_derivative("scipy.stats.t.ppf", "df", "an inverse incomplete beta function of df: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.t.ppf)
def t_ppf_tangent(dot, ans, q, df, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale / scipy_stats.t.pdf(z, df),
        no_derivative("scipy.stats.t.ppf", "df", "an inverse incomplete beta function of df: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.t.isf)
def t_isf_adjoint(g, ans, q, df, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale / scipy_stats.t.pdf(z, df), q),
        no_derivative("scipy.stats.t.isf", "df", "an inverse incomplete beta function of df: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.t.isf)
def t_isf_tangent(dot, ans, q, df, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale / scipy_stats.t.pdf(z, df),
        no_derivative("scipy.stats.t.isf", "df", "an inverse incomplete beta function of df: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


# ---- scipy24: uniform's distribution functions, of z = (x - loc) / scale on [0, 1] (constant outside: derivative 0)


@adjoint(scipy_stats.uniform.cdf)
def uniform_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # z on [0, 1]: dF/dz = 1
    z = (x - loc) / scale
    return location_scale_bars(g * (z >= 0.0) * (z <= 1.0), z, x, loc, scale, 0.0)


@tangent(scipy_stats.uniform.cdf)
def uniform_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * (z >= 0.0) * (z <= 1.0), z, scale, 0.0)


@adjoint(scipy_stats.uniform.sf)
def uniform_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # 1 - z on [0, 1]
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * (z <= 1.0), z, x, loc, scale, 0.0)


@tangent(scipy_stats.uniform.sf)
def uniform_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * (z <= 1.0), z, scale, 0.0)


@adjoint(scipy_stats.uniform.logcdf)
def uniform_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # ln z on (0, 1]: d/dz = 1 / z (-inf at and below 0, 0 above 1: derivative 0 there)
    z = (x - loc) / scale
    inside = (z > 0.0) * (z <= 1.0)
    return location_scale_bars(g * inside / np.where(inside, z, 1.0), z, x, loc, scale, 0.0)


@tangent(scipy_stats.uniform.logcdf)
def uniform_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z > 0.0) * (z <= 1.0)
    return location_scale_dots(dot * inside / np.where(inside, z, 1.0), z, scale, 0.0)


@adjoint(scipy_stats.uniform.logsf)
def uniform_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # ln(1 - z) on [0, 1): d/dz = -1 / (1 - z)
    z = (x - loc) / scale
    inside = (z >= 0.0) * (z < 1.0)
    return location_scale_bars(-g * inside / np.where(inside, 1.0 - z, 1.0), z, x, loc, scale, 0.0)


@tangent(scipy_stats.uniform.logsf)
def uniform_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z >= 0.0) * (z < 1.0)
    return location_scale_dots(-dot * inside / np.where(inside, 1.0 - z, 1.0), z, scale, 0.0)


# ---- scipy24: logcdf and logsf of lognorm, logcdf of weibull_min and pareto (through shaped_bars, as their cdfs)


@adjoint(scipy_stats.lognorm.logcdf)
def lognorm_logcdf_adjoint(g, ans, x, s, loc=0.0, scale=1.0):
    # ln Phi(w), w = ln(y) / s: phi(w) / Phi(w) = exp(-w^2 / 2 - ans) / sqrt(2 pi), without underflow in the left tail
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = g * (y > 0.0) * np.exp(-0.5 * w * w - np.where(y > 0.0, ans, 0.0)) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_bars(q, -q * w, yp, x, s, loc, scale)


@tangent(scipy_stats.lognorm.logcdf)
def lognorm_logcdf_tangent(dot, ans, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = dot * (y > 0.0) * np.exp(-0.5 * w * w - np.where(y > 0.0, ans, 0.0)) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_dots(q, -q * w, yp, scale)


@adjoint(scipy_stats.lognorm.logsf)
def lognorm_logsf_adjoint(g, ans, x, s, loc=0.0, scale=1.0):
    # ln(1 - Phi(w)): -phi(w) / sf(w), from ans, without underflow in the right tail
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = -g * (y > 0.0) * np.exp(-0.5 * w * w - ans) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_bars(q, -q * w, yp, x, s, loc, scale)


@tangent(scipy_stats.lognorm.logsf)
def lognorm_logsf_tangent(dot, ans, x, s, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    w = np.log(yp) / s
    q = -dot * (y > 0.0) * np.exp(-0.5 * w * w - ans) / (np.sqrt(2.0 * np.pi) * s)
    return shaped_dots(q, -q * w, yp, scale)


@adjoint(scipy_stats.weibull_min.logcdf)
def weibull_min_logcdf_adjoint(g, ans, x, c, loc=0.0, scale=1.0):
    # ln(1 - exp(-y^c)): y d/dy = c y^c / expm1(y^c), d/dc = y^c ln y / expm1(y^c) (-inf at and below 0: 0 there)
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = g * (y > 0.0) * yc / np.expm1(yc)
    return shaped_bars(c * q, q * np.log(yp), yp, x, c, loc, scale)


@tangent(scipy_stats.weibull_min.logcdf)
def weibull_min_logcdf_tangent(dot, ans, x, c, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 0.0, y, 1.0)
    yc = yp**c
    q = dot * (y > 0.0) * yc / np.expm1(yc)
    return shaped_dots(c * q, q * np.log(yp), yp, scale)


@adjoint(scipy_stats.pareto.logcdf)
def pareto_logcdf_adjoint(g, ans, x, b, loc=0.0, scale=1.0):
    # ln(1 - y^-b) on y > 1: y d/dy = b / (y^b - 1), d/db = ln y / (y^b - 1) (-inf at and below 1: 0 there)
    y = (x - loc) / scale
    yp = np.where(y > 1.0, y, 2.0)
    q = g * (y > 1.0) / np.expm1(b * np.log(yp))
    return shaped_bars(b * q, q * np.log(yp), yp, x, b, loc, scale)


@tangent(scipy_stats.pareto.logcdf)
def pareto_logcdf_tangent(dot, ans, x, b, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    yp = np.where(y > 1.0, y, 2.0)
    q = dot * (y > 1.0) / np.expm1(b * np.log(yp))
    return shaped_dots(b * q, q * np.log(yp), yp, scale)


# ---- scipy24: skewnorm's cdf and sf, Phi(z) - 2 T(z, a) (Owen's T): dF/dz = 2 phi(z) Phi(a z) (the density), and
# dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2)) at h = z, so dF/da = -exp(-z^2 (1 + a^2) / 2) / (pi (1 + a^2))


@adjoint(scipy_stats.skewnorm.cdf)
def skewnorm_cdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    gz = g * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z) * scipy_special.ndtr(a * z)
    aa = 1.0 + a * a
    return (
        unbroadcast(gz / scale, x),
        unbroadcast(-g * np.exp(-0.5 * z * z * aa) / (np.pi * aa), a),
        unbroadcast(-gz / scale, loc),
        unbroadcast(-gz * z / scale, scale),
    )


@tangent(scipy_stats.skewnorm.cdf)
def skewnorm_cdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = dot * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z) * scipy_special.ndtr(a * z)
    aa = 1.0 + a * a
    return dz / scale, -dot * np.exp(-0.5 * z * z * aa) / (np.pi * aa), -dz / scale, -dz * z / scale


@adjoint(scipy_stats.skewnorm.sf)
def skewnorm_sf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # 1 - cdf
    z = (x - loc) / scale
    gz = g * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z) * scipy_special.ndtr(a * z)
    aa = 1.0 + a * a
    return (
        unbroadcast(-gz / scale, x),
        unbroadcast(g * np.exp(-0.5 * z * z * aa) / (np.pi * aa), a),
        unbroadcast(gz / scale, loc),
        unbroadcast(gz * z / scale, scale),
    )


@tangent(scipy_stats.skewnorm.sf)
def skewnorm_sf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = dot * np.sqrt(2.0 / np.pi) * np.exp(-0.5 * z * z) * scipy_special.ndtr(a * z)
    aa = 1.0 + a * a
    return -dz / scale, dot * np.exp(-0.5 * z * z * aa) / (np.pi * aa), dz / scale, dz * z / scale


# ---- scipy24: quantiles of lognorm, weibull_min and pareto, y = (ans - loc) / scale the standard quantile, in q, the
# shape, loc and scale (an isf: q -> 1 - q, the slope in q negated)


@fragment
def shaped_quantile_bars(g, slope, in_shape, y, q, shape, loc, scale):
    return (
        unbroadcast(g * scale * slope, q),
        unbroadcast(g * scale * in_shape, shape),
        unbroadcast(g + 0.0 * y, loc),
        unbroadcast(g * y, scale),
    )


@fragment
def shaped_quantile_dots(dot, slope, in_shape, y, scale):
    return dot * scale * slope, dot * scale * in_shape, dot + 0.0 * y, dot * y


@adjoint(scipy_stats.lognorm.ppf)
def lognorm_ppf_adjoint(g, ans, q, s, loc=0.0, scale=1.0):
    # loc + scale exp(s ndtri(q)): with w = ln(y) / s, dy/dq = s y / phi(w), dy/ds = w y
    y = (ans - loc) / scale
    w = np.log(y) / s
    return shaped_quantile_bars(g, s * y * np.sqrt(2.0 * np.pi) * np.exp(0.5 * w * w), w * y, y, q, s, loc, scale)


@tangent(scipy_stats.lognorm.ppf)
def lognorm_ppf_tangent(dot, ans, q, s, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    w = np.log(y) / s
    return shaped_quantile_dots(dot, s * y * np.sqrt(2.0 * np.pi) * np.exp(0.5 * w * w), w * y, y, scale)


@adjoint(scipy_stats.lognorm.isf)
def lognorm_isf_adjoint(g, ans, q, s, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    w = np.log(y) / s
    return shaped_quantile_bars(g, -s * y * np.sqrt(2.0 * np.pi) * np.exp(0.5 * w * w), w * y, y, q, s, loc, scale)


@tangent(scipy_stats.lognorm.isf)
def lognorm_isf_tangent(dot, ans, q, s, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    w = np.log(y) / s
    return shaped_quantile_dots(dot, -s * y * np.sqrt(2.0 * np.pi) * np.exp(0.5 * w * w), w * y, y, scale)


@adjoint(scipy_stats.weibull_min.ppf)
def weibull_min_ppf_adjoint(g, ans, q, c, loc=0.0, scale=1.0):
    # loc + scale (-ln(1 - q))^(1 / c): with u = y^c, dy/dq = y e^u / (c u), dy/dc = -y ln(y) / c
    y = (ans - loc) / scale
    u = y**c
    return shaped_quantile_bars(g, y * np.exp(u) / (c * u), -y * np.log(y) / c, y, q, c, loc, scale)


@tangent(scipy_stats.weibull_min.ppf)
def weibull_min_ppf_tangent(dot, ans, q, c, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    u = y**c
    return shaped_quantile_dots(dot, y * np.exp(u) / (c * u), -y * np.log(y) / c, y, scale)


@adjoint(scipy_stats.weibull_min.isf)
def weibull_min_isf_adjoint(g, ans, q, c, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    u = y**c
    return shaped_quantile_bars(g, -y * np.exp(u) / (c * u), -y * np.log(y) / c, y, q, c, loc, scale)


@tangent(scipy_stats.weibull_min.isf)
def weibull_min_isf_tangent(dot, ans, q, c, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    u = y**c
    return shaped_quantile_dots(dot, -y * np.exp(u) / (c * u), -y * np.log(y) / c, y, scale)


@adjoint(scipy_stats.pareto.ppf)
def pareto_ppf_adjoint(g, ans, q, b, loc=0.0, scale=1.0):
    # loc + scale (1 - q)^(-1 / b): dy/dq = y^(1 + b) / b, dy/db = -y ln(y) / b
    y = (ans - loc) / scale
    return shaped_quantile_bars(g, y ** (1.0 + b) / b, -y * np.log(y) / b, y, q, b, loc, scale)


@tangent(scipy_stats.pareto.ppf)
def pareto_ppf_tangent(dot, ans, q, b, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    return shaped_quantile_dots(dot, y ** (1.0 + b) / b, -y * np.log(y) / b, y, scale)


@adjoint(scipy_stats.pareto.isf)
def pareto_isf_adjoint(g, ans, q, b, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    return shaped_quantile_bars(g, -(y ** (1.0 + b)) / b, -y * np.log(y) / b, y, q, b, loc, scale)


@tangent(scipy_stats.pareto.isf)
def pareto_isf_tangent(dot, ans, q, b, loc=0.0, scale=1.0):
    y = (ans - loc) / scale
    return shaped_quantile_dots(dot, -(y ** (1.0 + b)) / b, -y * np.log(y) / b, y, scale)


# ---- scipy24: wishart and invwishart logpdf in X, scale and df. Points X stacked along the last axis ((p, p, N), or
# (N,) numbers where p is 1); scale a (p, p) matrix or a number (p 1; a 1-d scale, read as its diagonal, is refused).
# With P = scale^-1 and Y = X^-1, p the dimension and M = sum_j psi(df / 2 - j / 2), j < p (multigammaln's derivative):
# wishart   (df - p - 1) / 2 ln|X| - tr(P X) / 2 - df p / 2 ln 2 - df / 2 ln|scale| - ln Gamma_p(df / 2):
#   X_bar = (df - p - 1) / 2 Y - P / 2, scale_bar = (P X P - df P) / 2, df_bar = (ln|X| - p ln 2 - ln|scale| - M) / 2;
# invwishart df / 2 ln|scale| - tr(scale Y) / 2 - df p / 2 ln 2 - (df + p + 1) / 2 ln|X| - ln Gamma_p(df / 2):
#   X_bar = (Y scale Y - (df + p + 1) Y) / 2, scale_bar = (df P - Y) / 2, df_bar = (ln|scale| - p ln 2 - ln|X| - M) / 2.
# X and scale are symmetric (SciPy reads a triangle of each, which one depending on its version): the gradients are
# the symmetric ones, exact along every symmetric direction (a parametrization L L^T, a symmetric perturbation).


@fragment
def multigammaln_slope(df, dim):
    return np.sum(scipy_special.digamma(0.5 * df - 0.5 * np.arange(dim)))


@adjoint(scipy_stats.wishart.logpdf)
def wishart_logpdf_adjoint(g, ans, x, df, scale):
    dim = np.shape(scale)[0] if np.ndim(scale) == 2 else 1
    known = linalg_check(
        np.ndim(scale) != 1 and (np.ndim(x) >= 2 or dim == 1), "scipy.stats.wishart with a 1-d scale or X (a diagonal)"
    )
    sigma = known * np.reshape(scale, (dim, dim))
    precision = np.linalg.inv(sigma)
    xs = np.moveaxis(np.reshape(x, (dim, dim, -1)), -1, 0)  # the points, stacked first
    inverses = np.linalg.inv(xs)
    logdets = np.linalg.slogdet(xs)[1]
    gs = np.reshape(g, (-1, 1, 1))
    x_bar = gs * (0.5 * (df - dim - 1.0) * inverses - 0.5 * precision)
    scale_bar = 0.5 * np.sum(gs * (precision @ xs @ precision - df * precision), axis=0)
    slope = multigammaln_slope(df, dim)
    in_df = logdets - dim * np.log(2.0) - np.linalg.slogdet(sigma)[1] - slope
    return (
        np.reshape(np.moveaxis(x_bar, 0, -1), np.shape(x)),
        0.5 * np.sum(np.ravel(g) * in_df),
        np.reshape(scale_bar, np.shape(scale)),
    )


@tangent(scipy_stats.wishart.logpdf)
def wishart_logpdf_tangent(dot, ans, x, df, scale):
    dim = np.shape(scale)[0] if np.ndim(scale) == 2 else 1
    known = linalg_check(
        np.ndim(scale) != 1 and (np.ndim(x) >= 2 or dim == 1), "scipy.stats.wishart with a 1-d scale or X (a diagonal)"
    )
    sigma = known * np.reshape(scale, (dim, dim))
    precision = np.linalg.inv(sigma)
    xs = np.moveaxis(np.reshape(x, (dim, dim, -1)), -1, 0)  # the points, stacked first
    inverses = np.linalg.inv(xs)
    logdets = np.linalg.slogdet(xs)[1]
    slope = multigammaln_slope(df, dim)
    in_df = logdets - dim * np.log(2.0) - np.linalg.slogdet(sigma)[1] - slope
    x_slope = 0.5 * (df - dim - 1.0) * inverses - 0.5 * precision
    scale_slope = 0.5 * (precision @ xs @ precision - df * precision)
    # (each result reads its own operand's tangent dot: the points' stacked as xs, the scale's as one matrix)
    return (
        np.reshape(np.sum(x_slope * np.moveaxis(np.reshape(dot, (dim, dim, -1)), -1, 0), axis=(-2, -1)), np.shape(ans)),
        np.reshape(0.5 * dot * in_df, np.shape(ans)),
        np.reshape(np.sum(scale_slope * np.reshape(dot, (dim, dim)), axis=(-2, -1)), np.shape(ans)),
    )


@adjoint(scipy_stats.invwishart.logpdf)
def invwishart_logpdf_adjoint(g, ans, x, df, scale):
    dim = np.shape(scale)[0] if np.ndim(scale) == 2 else 1
    known = linalg_check(
        np.ndim(scale) != 1 and (np.ndim(x) >= 2 or dim == 1), "scipy.stats.wishart with a 1-d scale or X (a diagonal)"
    )
    sigma = known * np.reshape(scale, (dim, dim))
    precision = np.linalg.inv(sigma)
    xs = np.moveaxis(np.reshape(x, (dim, dim, -1)), -1, 0)  # the points, stacked first
    inverses = np.linalg.inv(xs)
    logdets = np.linalg.slogdet(xs)[1]
    gs = np.reshape(g, (-1, 1, 1))
    x_bar = 0.5 * gs * (inverses @ sigma @ inverses - (df + dim + 1.0) * inverses)
    scale_bar = 0.5 * np.sum(gs * (df * precision - inverses), axis=0)
    slope = multigammaln_slope(df, dim)
    in_df = np.linalg.slogdet(sigma)[1] - dim * np.log(2.0) - logdets - slope
    return (
        np.reshape(np.moveaxis(x_bar, 0, -1), np.shape(x)),
        0.5 * np.sum(np.ravel(g) * in_df),
        np.reshape(scale_bar, np.shape(scale)),
    )


@tangent(scipy_stats.invwishart.logpdf)
def invwishart_logpdf_tangent(dot, ans, x, df, scale):
    dim = np.shape(scale)[0] if np.ndim(scale) == 2 else 1
    known = linalg_check(
        np.ndim(scale) != 1 and (np.ndim(x) >= 2 or dim == 1), "scipy.stats.wishart with a 1-d scale or X (a diagonal)"
    )
    sigma = known * np.reshape(scale, (dim, dim))
    precision = np.linalg.inv(sigma)
    xs = np.moveaxis(np.reshape(x, (dim, dim, -1)), -1, 0)  # the points, stacked first
    inverses = np.linalg.inv(xs)
    logdets = np.linalg.slogdet(xs)[1]
    slope = multigammaln_slope(df, dim)
    in_df = np.linalg.slogdet(sigma)[1] - dim * np.log(2.0) - logdets - slope
    x_slope = 0.5 * (inverses @ sigma @ inverses - (df + dim + 1.0) * inverses)
    scale_slope = 0.5 * (df * precision - inverses)
    return (
        np.reshape(np.sum(x_slope * np.moveaxis(np.reshape(dot, (dim, dim, -1)), -1, 0), axis=(-2, -1)), np.shape(ans)),
        np.reshape(0.5 * dot * in_df, np.shape(ans)),
        np.reshape(np.sum(scale_slope * np.reshape(dot, (dim, dim)), axis=(-2, -1)), np.shape(ans)),
    )


# ---- scipy25: the pmfs of bernoulli, geom, nbinom and multinomial, by hand. Each is 0 at p == 0 or 1 for some counts
# where its derivative is not (bernoulli's pmf(1; p) = p), so not pmf * d logpmf (registry.exp_of): each term keeps its
# own power of p and 1 - p (0^0 = 1). m = k - loc; a count off the support, or not an integer (SciPy's pmf is 0
# there), has derivative 0.


@fragment
def bernoulli_pmf_in_p(k, loc):
    # p at m == 1, 1 - p at m == 0 (floats from np.where: the optimizer takes 1.0 * e in adjoint code for e, which
    # would leave a bool array's minus)
    m = k - loc
    return np.where(m == 1, 1.0, 0.0) - np.where(m == 0, 1.0, 0.0)


@adjoint(scipy_stats.bernoulli.pmf)
def bernoulli_pmf_adjoint(g, ans, k, p, loc=0):
    slope = bernoulli_pmf_in_p(k, loc)
    return None, unbroadcast(g * slope, p), None


@tangent(scipy_stats.bernoulli.pmf)
def bernoulli_pmf_tangent(dot, ans, k, p, loc=0):
    slope = bernoulli_pmf_in_p(k, loc)
    return None, dot * slope, None


@fragment
def geom_pmf_in_p(k, p, loc):
    # p (1 - p)^(m - 1) on the integers m >= 1: (1 - p)^(m - 1) - (m - 1) p (1 - p)^(m - 2), each power's exponent
    # kept at least 0 where its factor is 0 (so p == 1 gives the finite derivative)
    m = k - loc
    first = (1.0 - p) ** np.maximum(m - 1.0, 0.0)
    second = (m - 1.0) * p * (1.0 - p) ** np.maximum(m - 2.0, 0.0)
    return np.where((m >= 1) * (m == np.floor(m)), first - second, 0.0)


@adjoint(scipy_stats.geom.pmf)
def geom_pmf_adjoint(g, ans, k, p, loc=0):
    slope = geom_pmf_in_p(k, p, loc)
    return None, unbroadcast(g * slope, p), None


@tangent(scipy_stats.geom.pmf)
def geom_pmf_tangent(dot, ans, k, p, loc=0):
    slope = geom_pmf_in_p(k, p, loc)
    return None, dot * slope, None


@fragment
def nbinom_pmf_in_p(ans, k, n, p, loc):
    # C p^n (1 - p)^m on the integers m >= 0 (p in (0, 1], SciPy's domain): inside, the pmf times the logpmf's
    # n / p - m / (1 - p) (0 off the support, where ans is); at p == 1, where the pmf of m >= 1 is 0 and that product
    # would be 0 * inf, the polynomial's slope: n at m == 0, -n at m == 1 (n p^n (1 - p)), 0 beyond
    m = k - loc
    inside = ans * (n / p - m / np.where(p == 1.0, 1.0, 1.0 - p))
    at_1 = n * (np.where(m == 0, 1.0, 0.0) - np.where(m == 1, 1.0, 0.0))
    return np.where(p == 1.0, at_1, inside)


@fragment
def nbinom_pmf_in_n(ans, k, n, p, loc):
    # pmf (psi(m + n) - psi(n) + ln p), the last term exactly 0 where the pmf is (p == 0, or off the support)
    mm = np.maximum(k - loc, 0.0)
    return ans * (scipy_special.digamma(mm + n) - scipy_special.digamma(n)) + scipy_special.xlogy(ans, p)


@adjoint(scipy_stats.nbinom.pmf)
def nbinom_pmf_adjoint(g, ans, k, n, p, loc=0):
    in_n = nbinom_pmf_in_n(ans, k, n, p, loc)
    in_p = nbinom_pmf_in_p(ans, k, n, p, loc)
    return (
        None,
        unbroadcast(g * in_n, n),
        unbroadcast(g * in_p, p),
        None,
    )


@tangent(scipy_stats.nbinom.pmf)
def nbinom_pmf_tangent(dot, ans, k, n, p, loc=0):
    in_n = nbinom_pmf_in_n(ans, k, n, p, loc)
    in_p = nbinom_pmf_in_p(ans, k, n, p, loc)
    return None, dot * in_n, dot * in_p, None


@fragment
def multinomial_pmf_in_p(x, n, p):
    # d pmf / d p_i = n pmf(x - e_i; n - 1, p), the term with p_i one power lower: exact also where p_i == 0 (and
    # the pmf is 0); the plain partials, as the logpmf's (only directions along the simplex are SciPy's function's)
    lower = np.expand_dims(x, -2) - np.eye(np.shape(p)[-1])
    counts = np.expand_dims(n, -1)
    return counts * scipy_stats.multinomial.pmf(lower, np.maximum(counts - 1, 0), np.expand_dims(p, -2))


@adjoint(scipy_stats.multinomial.pmf)
def multinomial_pmf_adjoint(g, ans, x, n, p):
    slope = multinomial_pmf_in_p(x, n, p)
    return None, None, unbroadcast(np.expand_dims(g, -1) * slope, p)


@tangent(scipy_stats.multinomial.pmf)
def multinomial_pmf_tangent(dot, ans, x, n, p):
    slope = multinomial_pmf_in_p(x, n, p)
    return None, None, np.sum(dot * slope, axis=-1)


# ---- scipy25: binom's pmf again (pmf * d logpmf was nan at p == 0 or 1 where the pmf is 0: pmf(1; n, 0) has slope n),
# with the polynomial's slope at those two points; binom's log-cdfs; bernoulli's distribution
# functions; geom's logcdf; nbinom's logcdf and logsf (refused in n, as its cdf). A log-cdf is the cdf's slope over
# exp(ans), where the cdf is 0 (ans -inf, off the support: constant) its derivative 0.


@fragment
def binom_pmf_in_p(ans, k, n, p, loc):
    # inside (0, 1) the pmf times the logpmf's m / p - (n - m) / (1 - p) (0 off the support, where ans is); at p == 0
    # and 1, where the pmf of most counts is 0 and that product would be 0 * inf, the polynomial's slope, n (pmf(m - 1;
    # n - 1, p) - pmf(m; n - 1, p)): n at m == 1 and -n at m == 0 for p == 0, n at m == n and -n at m == n - 1 for 1
    m = k - loc
    inside = ans * (m / np.where(p == 0.0, 1.0, p) - (n - m) / np.where(p == 1.0, 1.0, 1.0 - p))
    at_0 = n * (np.where(m == 1, 1.0, 0.0) - np.where(m == 0, 1.0, 0.0))
    at_1 = n * (np.where(m == n, 1.0, 0.0) - np.where(m == n - 1, 1.0, 0.0))
    return np.where(p == 0.0, at_0, np.where(p == 1.0, at_1, inside))


@adjoint(scipy_stats.binom.pmf)
def binom_pmf_adjoint(g, ans, k, n, p, loc=0):
    slope = binom_pmf_in_p(ans, k, n, p, loc)
    return None, None, unbroadcast(g * slope, p), None


@tangent(scipy_stats.binom.pmf)
def binom_pmf_tangent(dot, ans, k, n, p, loc=0):
    slope = binom_pmf_in_p(ans, k, n, p, loc)
    return None, None, dot * slope, None


@adjoint(scipy_stats.binom.logcdf)
def binom_logcdf_adjoint(g, ans, k, n, p, loc=0):
    # the cdf's slope, -n pmf(m; n - 1, p), over the cdf (0 for m < 0, where the slope is 0 too)
    m = np.floor(k - loc)
    slope = -n * scipy_stats.binom.pmf(m, np.maximum(n - 1, 0), p)
    return None, None, unbroadcast(g * slope / np.where(m >= 0, np.exp(ans), 1.0), p), None


@tangent(scipy_stats.binom.logcdf)
def binom_logcdf_tangent(dot, ans, k, n, p, loc=0):
    m = np.floor(k - loc)
    slope = -n * scipy_stats.binom.pmf(m, np.maximum(n - 1, 0), p)
    return None, None, dot * slope / np.where(m >= 0, np.exp(ans), 1.0), None


@adjoint(scipy_stats.binom.logsf)
def binom_logsf_adjoint(g, ans, k, n, p, loc=0):
    # the sf's slope over the sf (0 for m >= n, where the slope is 0 too)
    m = np.floor(k - loc)
    slope = n * scipy_stats.binom.pmf(m, np.maximum(n - 1, 0), p)
    return None, None, unbroadcast(g * slope / np.where(m < n, np.exp(ans), 1.0), p), None


@tangent(scipy_stats.binom.logsf)
def binom_logsf_tangent(dot, ans, k, n, p, loc=0):
    m = np.floor(k - loc)
    slope = n * scipy_stats.binom.pmf(m, np.maximum(n - 1, 0), p)
    return None, None, dot * slope / np.where(m < n, np.exp(ans), 1.0), None


@fragment
def bernoulli_middle(k, loc):
    # 0 <= m < 1, where the cdf is 1 - p and the sf p (the cdf is 0 below, 1 above)
    m = k - loc
    return np.where((m >= 0) * (m < 1), 1.0, 0.0)


@adjoint(scipy_stats.bernoulli.cdf)
def bernoulli_cdf_adjoint(g, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, unbroadcast(-g * middle, p), None


@tangent(scipy_stats.bernoulli.cdf)
def bernoulli_cdf_tangent(dot, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, -dot * middle, None


@adjoint(scipy_stats.bernoulli.sf)
def bernoulli_sf_adjoint(g, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, unbroadcast(g * middle, p), None


@tangent(scipy_stats.bernoulli.sf)
def bernoulli_sf_tangent(dot, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, dot * middle, None


@adjoint(scipy_stats.bernoulli.logcdf)
def bernoulli_logcdf_adjoint(g, ans, k, p, loc=0):
    # ln(1 - p) in the middle
    middle = bernoulli_middle(k, loc)
    return None, unbroadcast(-g * middle / np.where(middle, 1.0 - p, 1.0), p), None


@tangent(scipy_stats.bernoulli.logcdf)
def bernoulli_logcdf_tangent(dot, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, -dot * middle / np.where(middle, 1.0 - p, 1.0), None


@adjoint(scipy_stats.bernoulli.logsf)
def bernoulli_logsf_adjoint(g, ans, k, p, loc=0):
    # ln p in the middle
    middle = bernoulli_middle(k, loc)
    return None, unbroadcast(g * middle / np.where(middle, p, 1.0), p), None


@tangent(scipy_stats.bernoulli.logsf)
def bernoulli_logsf_tangent(dot, ans, k, p, loc=0):
    middle = bernoulli_middle(k, loc)
    return None, dot * middle / np.where(middle, p, 1.0), None


@adjoint(scipy_stats.geom.logcdf)
def geom_logcdf_adjoint(g, ans, k, p, loc=0):
    # ln(1 - (1 - p)^m) for m >= 1 (-inf below): m (1 - p)^(m - 1) over the cdf
    m = np.floor(k - loc)
    slope = (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0)
    return None, unbroadcast(g * slope / np.where(m >= 1, np.exp(ans), 1.0), p), None


@tangent(scipy_stats.geom.logcdf)
def geom_logcdf_tangent(dot, ans, k, p, loc=0):
    m = np.floor(k - loc)
    slope = (m >= 1) * m * (1.0 - p) ** np.maximum(m - 1.0, 0.0)
    return None, dot * slope / np.where(m >= 1, np.exp(ans), 1.0), None


@adjoint(scipy_stats.nbinom.logcdf)
def nbinom_logcdf_adjoint(g, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.logcdf", "n", "an incomplete beta function of n: no closed form"),
        unbroadcast(g * slope / np.where(np.floor(k - loc) >= 0, np.exp(ans), 1.0), p),
        None,
    )


@tangent(scipy_stats.nbinom.logcdf)
def nbinom_logcdf_tangent(dot, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.logcdf", "n", "an incomplete beta function of n: no closed form"),
        dot * slope / np.where(np.floor(k - loc) >= 0, np.exp(ans), 1.0),
        None,
    )


@adjoint(scipy_stats.nbinom.logsf)
def nbinom_logsf_adjoint(g, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.logsf", "n", "an incomplete beta function of n: no closed form"),
        unbroadcast(-g * slope / np.exp(ans), p),
        None,
    )


@tangent(scipy_stats.nbinom.logsf)
def nbinom_logsf_tangent(dot, ans, k, n, p, loc=0):
    slope = nbinom_cdf_in_p(k, n, p, loc)
    return (
        None,
        no_derivative("scipy.stats.nbinom.logsf", "n", "an incomplete beta function of n: no closed form"),
        -dot * slope / np.exp(ans),
        None,
    )


# ---- scipy25: skewnorm's logcdf and logsf, the cdf's partials (above) over exp(ans): in z through the log-density
# (exp(logpdf - ans), as t's), in a through exp(-z^2 (1 + a^2) / 2 - ans); where SciPy's cdf has underflowed to 0
# inside the support the derivative is infinite, as gamma's


@adjoint(scipy_stats.skewnorm.logcdf)
def skewnorm_logcdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    gz = g * np.exp(scipy_stats.skewnorm.logpdf(z, a) - ans)
    aa = 1.0 + a * a
    return (
        unbroadcast(gz / scale, x),
        unbroadcast(-g * np.exp(-0.5 * z * z * aa - ans) / (np.pi * aa), a),
        unbroadcast(-gz / scale, loc),
        unbroadcast(-gz * z / scale, scale),
    )


@tangent(scipy_stats.skewnorm.logcdf)
def skewnorm_logcdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = dot * np.exp(scipy_stats.skewnorm.logpdf(z, a) - ans)
    aa = 1.0 + a * a
    return dz / scale, -dot * np.exp(-0.5 * z * z * aa - ans) / (np.pi * aa), -dz / scale, -dz * z / scale


@adjoint(scipy_stats.skewnorm.logsf)
def skewnorm_logsf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    # -dF / sf
    z = (x - loc) / scale
    gz = g * np.exp(scipy_stats.skewnorm.logpdf(z, a) - ans)
    aa = 1.0 + a * a
    return (
        unbroadcast(-gz / scale, x),
        unbroadcast(g * np.exp(-0.5 * z * z * aa - ans) / (np.pi * aa), a),
        unbroadcast(gz / scale, loc),
        unbroadcast(gz * z / scale, scale),
    )


@tangent(scipy_stats.skewnorm.logsf)
def skewnorm_logsf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    dz = dot * np.exp(scipy_stats.skewnorm.logpdf(z, a) - ans)
    aa = 1.0 + a * a
    return -dz / scale, dot * np.exp(-0.5 * z * z * aa - ans) / (np.pi * aa), dz / scale, dz * z / scale


@fragment
def skewnorm_quantile_in_a(z, a):
    # -(dF/da) / f at the standard quantile z, f = 2 phi(z) Phi(a z): exp(-(a z)^2 / 2) / (sqrt(2 pi) (1 + a^2) Phi(az))
    aa = 1.0 + a * a
    return np.exp(-0.5 * a * a * z * z - scipy_special.log_ndtr(a * z)) / (np.sqrt(2.0 * np.pi) * aa)


@adjoint(scipy_stats.skewnorm.ppf)
def skewnorm_ppf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    # the quantile's slope in q is 1 / f(z); in a, the implicit derivative -(dF/da) / f (Owen's T: a closed form)
    z = (ans - loc) / scale
    in_a = skewnorm_quantile_in_a(z, a)
    gs = g * scale
    return (
        unbroadcast(gs * np.exp(-scipy_stats.skewnorm.logpdf(z, a)), q),
        unbroadcast(gs * in_a, a),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.skewnorm.ppf)
def skewnorm_ppf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    in_a = skewnorm_quantile_in_a(z, a)
    ds = dot * scale
    return ds * np.exp(-scipy_stats.skewnorm.logpdf(z, a)), ds * in_a, dot + 0.0 * z, dot * z


@adjoint(scipy_stats.skewnorm.isf)
def skewnorm_isf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    # the ppf at 1 - q: its slope in q negated; in a the same (F(z, a) = 1 - q, held)
    z = (ans - loc) / scale
    in_a = skewnorm_quantile_in_a(z, a)
    gs = g * scale
    return (
        unbroadcast(-gs * np.exp(-scipy_stats.skewnorm.logpdf(z, a)), q),
        unbroadcast(gs * in_a, a),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.skewnorm.isf)
def skewnorm_isf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    in_a = skewnorm_quantile_in_a(z, a)
    ds = dot * scale
    return -ds * np.exp(-scipy_stats.skewnorm.logpdf(z, a)), ds * in_a, dot + 0.0 * z, dot * z


# ---- scipy25: truncnorm's sf, logcdf, logsf, ppf and isf. With Z = Phi(b) - Phi(a) and F the cdf on a <= z <= b:
# dF/dz = phi(z) / Z, dF/da = phi(a) (F - 1) / Z, dF/db = -phi(b) F / Z (the cdf's rule, above); the sf is 1 - F. The
# logs take Z as exp(ln Z) (truncnorm_log_mass: no underflow for a truncation far in a tail) and F or the sf as
# exp(ans); off the support (where a log-cdf is -inf, constant) the derivative is 0.


@fragment
def truncnorm_log_mass(a, b):
    # ln(Phi(b) - Phi(a)), from the tail nearer to both where a > 0, as a log-difference of log_ndtr's
    return np.where(
        a > 0.0,
        scipy_special.log_ndtr(-a) + np.log1p(-np.exp(scipy_special.log_ndtr(-b) - scipy_special.log_ndtr(-a))),
        scipy_special.log_ndtr(b) + np.log1p(-np.exp(scipy_special.log_ndtr(a) - scipy_special.log_ndtr(b))),
    )


@adjoint(scipy_stats.truncnorm.sf)
def truncnorm_sf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # dS/dz = -phi(z) / Z, dS/da = phi(a) S / Z, dS/db = phi(b) (1 - S) / Z
    mass = truncnorm_mass(a, b)
    z = (x - loc) / scale
    gm = g * (z >= a) * (z <= b) / (np.sqrt(2.0 * np.pi) * mass)
    gz = gm * np.exp(-0.5 * z * z)
    return (
        unbroadcast(-gz / scale, x),
        unbroadcast(gm * np.exp(-0.5 * a * a) * ans, a),
        unbroadcast(gm * np.exp(-0.5 * b * b) * (1.0 - ans), b),
        unbroadcast(gz / scale, loc),
        unbroadcast(gz * z / scale, scale),
    )


@tangent(scipy_stats.truncnorm.sf)
def truncnorm_sf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    mass = truncnorm_mass(a, b)
    z = (x - loc) / scale
    dm = dot * (z >= a) * (z <= b) / (np.sqrt(2.0 * np.pi) * mass)
    dz = dm * np.exp(-0.5 * z * z)
    return (
        -dz / scale,
        dm * np.exp(-0.5 * a * a) * ans,
        dm * np.exp(-0.5 * b * b) * (1.0 - ans),
        dz / scale,
        dz * z / scale,
    )


@adjoint(scipy_stats.truncnorm.logcdf)
def truncnorm_logcdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # d/dz = phi(z) / (Z F), d/da = phi(a) (F - 1) / (Z F), d/db = -phi(b) / Z, on a < z <= b
    z = (x - loc) / scale
    inside = (z > a) * (z <= b)
    log_mass = truncnorm_log_mass(a, b)
    low = np.where(inside, ans, 0.0) + log_mass
    gi = g * inside / np.sqrt(2.0 * np.pi)
    gz = gi * np.exp(-0.5 * z * z - low)
    return (
        unbroadcast(gz / scale, x),
        unbroadcast(gi * np.exp(-0.5 * a * a - low) * np.expm1(ans), a),
        unbroadcast(-gi * np.exp(-0.5 * b * b - log_mass), b),
        unbroadcast(-gz / scale, loc),
        unbroadcast(-gz * z / scale, scale),
    )


@tangent(scipy_stats.truncnorm.logcdf)
def truncnorm_logcdf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z > a) * (z <= b)
    log_mass = truncnorm_log_mass(a, b)
    low = np.where(inside, ans, 0.0) + log_mass
    di = dot * inside / np.sqrt(2.0 * np.pi)
    dz = di * np.exp(-0.5 * z * z - low)
    a_dot = di * np.exp(-0.5 * a * a - low) * np.expm1(ans)
    return dz / scale, a_dot, -di * np.exp(-0.5 * b * b - log_mass), -dz / scale, -dz * z / scale


@adjoint(scipy_stats.truncnorm.logsf)
def truncnorm_logsf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
    # d/dz = -phi(z) / (Z S), d/da = phi(a) / Z, d/db = phi(b) (1 - S) / (Z S), on a <= z < b
    z = (x - loc) / scale
    inside = (z >= a) * (z < b)
    log_mass = truncnorm_log_mass(a, b)
    high = np.where(inside, ans, 0.0) + log_mass
    gi = g * inside / np.sqrt(2.0 * np.pi)
    gz = gi * np.exp(-0.5 * z * z - high)
    return (
        unbroadcast(-gz / scale, x),
        unbroadcast(gi * np.exp(-0.5 * a * a - log_mass), a),
        unbroadcast(-gi * np.exp(-0.5 * b * b - high) * np.expm1(ans), b),
        unbroadcast(gz / scale, loc),
        unbroadcast(gz * z / scale, scale),
    )


@tangent(scipy_stats.truncnorm.logsf)
def truncnorm_logsf_tangent(dot, ans, x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z >= a) * (z < b)
    log_mass = truncnorm_log_mass(a, b)
    high = np.where(inside, ans, 0.0) + log_mass
    di = dot * inside / np.sqrt(2.0 * np.pi)
    dz = di * np.exp(-0.5 * z * z - high)
    b_dot = -di * np.exp(-0.5 * b * b - high) * np.expm1(ans)
    return -dz / scale, di * np.exp(-0.5 * a * a - log_mass), b_dot, dz / scale, dz * z / scale


@adjoint(scipy_stats.truncnorm.ppf)
def truncnorm_ppf_adjoint(g, ans, q, a, b, loc=0.0, scale=1.0):
    # F(z; a, b) = q: dz/dq = Z / phi(z), and implicitly dz/da = phi(a) (1 - q) / phi(z), dz/db = phi(b) q / phi(z)
    log_mass = truncnorm_log_mass(a, b)
    z = (ans - loc) / scale
    gs = g * scale
    return (
        unbroadcast(gs * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z + log_mass), q),
        unbroadcast(gs * np.exp(0.5 * (z * z - a * a)) * (1.0 - q), a),
        unbroadcast(gs * np.exp(0.5 * (z * z - b * b)) * q, b),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.truncnorm.ppf)
def truncnorm_ppf_tangent(dot, ans, q, a, b, loc=0.0, scale=1.0):
    log_mass = truncnorm_log_mass(a, b)
    z = (ans - loc) / scale
    ds = dot * scale
    return (
        ds * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z + log_mass),
        ds * np.exp(0.5 * (z * z - a * a)) * (1.0 - q),
        ds * np.exp(0.5 * (z * z - b * b)) * q,
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.truncnorm.isf)
def truncnorm_isf_adjoint(g, ans, q, a, b, loc=0.0, scale=1.0):
    # the ppf at 1 - q: dz/dq = -Z / phi(z), dz/da = phi(a) q / phi(z), dz/db = phi(b) (1 - q) / phi(z)
    log_mass = truncnorm_log_mass(a, b)
    z = (ans - loc) / scale
    gs = g * scale
    return (
        unbroadcast(-gs * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z + log_mass), q),
        unbroadcast(gs * np.exp(0.5 * (z * z - a * a)) * q, a),
        unbroadcast(gs * np.exp(0.5 * (z * z - b * b)) * (1.0 - q), b),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.truncnorm.isf)
def truncnorm_isf_tangent(dot, ans, q, a, b, loc=0.0, scale=1.0):
    log_mass = truncnorm_log_mass(a, b)
    z = (ans - loc) / scale
    ds = dot * scale
    return (
        -ds * np.sqrt(2.0 * np.pi) * np.exp(0.5 * z * z + log_mass),
        ds * np.exp(0.5 * (z * z - a * a)) * q,
        ds * np.exp(0.5 * (z * z - b * b)) * (1.0 - q),
        dot + 0.0 * z,
        dot * z,
    )


# ---- scipy25: gamma's, chi2's and beta's quantiles (ppf, isf) in q, loc and scale: the standard quantile's slope is
# 1 / f(z) = exp(-logpdf(z)) (negated for an isf); in a shape, the implicit derivative -(dF/da) / f needs the cdf's
# derivative in it, an incomplete gamma or beta function's in its parameter, with no closed form: refused, as the cdf's
@adjoint(scipy_stats.gamma.ppf)
def gamma_ppf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    # loc + scale G(q): G' = exp(-logpdf(z)); no closed form in the shape (refused)
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.gamma.logpdf(z, a)), q),
        no_derivative("scipy.stats.gamma.ppf", "a", "an inverse incomplete gamma function of a: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.gamma.ppf)
def gamma_ppf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.gamma.logpdf(z, a)),
        no_derivative("scipy.stats.gamma.ppf", "a", "an inverse incomplete gamma function of a: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.gamma.isf)
def gamma_isf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    # loc + scale G(1 - q)
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.gamma.logpdf(z, a)), q),
        no_derivative("scipy.stats.gamma.isf", "a", "an inverse incomplete gamma function of a: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.gamma.isf)
def gamma_isf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.gamma.logpdf(z, a)),
        no_derivative("scipy.stats.gamma.isf", "a", "an inverse incomplete gamma function of a: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.chi2.ppf)
def chi2_ppf_adjoint(g, ans, q, df, loc=0.0, scale=1.0):
    # loc + scale G(q): G' = exp(-logpdf(z)); no closed form in the shape (refused)
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.chi2.logpdf(z, df)), q),
        no_derivative("scipy.stats.chi2.ppf", "df", "an inverse incomplete gamma function of df: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.chi2.ppf)
def chi2_ppf_tangent(dot, ans, q, df, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.chi2.logpdf(z, df)),
        no_derivative("scipy.stats.chi2.ppf", "df", "an inverse incomplete gamma function of df: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.chi2.isf)
def chi2_isf_adjoint(g, ans, q, df, loc=0.0, scale=1.0):
    # loc + scale G(1 - q)
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.chi2.logpdf(z, df)), q),
        no_derivative("scipy.stats.chi2.isf", "df", "an inverse incomplete gamma function of df: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.chi2.isf)
def chi2_isf_tangent(dot, ans, q, df, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.chi2.logpdf(z, df)),
        no_derivative("scipy.stats.chi2.isf", "df", "an inverse incomplete gamma function of df: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.beta.ppf)
def beta_ppf_adjoint(g, ans, q, a, b, loc=0.0, scale=1.0):
    # loc + scale G(q): G' = exp(-logpdf(z)); no closed form in the shape (refused)
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.beta.logpdf(z, a, b)), q),
        no_derivative("scipy.stats.beta.ppf", "a", "an inverse incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.ppf", "b", "an inverse incomplete beta function of b: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.beta.ppf)
def beta_ppf_tangent(dot, ans, q, a, b, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.beta.logpdf(z, a, b)),
        no_derivative("scipy.stats.beta.ppf", "a", "an inverse incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.ppf", "b", "an inverse incomplete beta function of b: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.beta.isf)
def beta_isf_adjoint(g, ans, q, a, b, loc=0.0, scale=1.0):
    # loc + scale G(1 - q)
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.beta.logpdf(z, a, b)), q),
        no_derivative("scipy.stats.beta.isf", "a", "an inverse incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.isf", "b", "an inverse incomplete beta function of b: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.beta.isf)
def beta_isf_tangent(dot, ans, q, a, b, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.beta.logpdf(z, a, b)),
        no_derivative("scipy.stats.beta.isf", "a", "an inverse incomplete beta function of a: no closed form"),
        no_derivative("scipy.stats.beta.isf", "b", "an inverse incomplete beta function of b: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


# ---- scipy25: invgamma's and f's distribution functions and quantiles in x (q), loc and scale, as gamma's and beta's
# (whose formulas they copy: the density over the cdf, its inverse for a quantile); an incomplete gamma function of
# invgamma's a (Q(a, 1 / y)) and an incomplete beta function of f's dfn and dfd have no closed form: refused


@adjoint(scipy_stats.invgamma.cdf)
def invgamma_cdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.invgamma.pdf(y, a) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.invgamma.cdf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.invgamma.cdf)
def invgamma_cdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.invgamma.pdf(y, a) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.invgamma.cdf", "a", "an incomplete gamma function of a: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.invgamma.sf)
def invgamma_sf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.invgamma.pdf(y, a) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.invgamma.sf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.invgamma.sf)
def invgamma_sf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.invgamma.pdf(y, a) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.invgamma.sf", "a", "an incomplete gamma function of a: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.invgamma.logcdf)
def invgamma_logcdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.invgamma.logpdf(y, a), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.invgamma.logcdf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.invgamma.logcdf)
def invgamma_logcdf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.invgamma.logpdf(y, a), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.invgamma.logcdf", "a", "an incomplete gamma function of a: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.invgamma.logsf)
def invgamma_logsf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.invgamma.logpdf(y, a), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.invgamma.logsf", "a", "an incomplete gamma function of a: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.invgamma.logsf)
def invgamma_logsf_tangent(dot, ans, x, a, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.invgamma.logpdf(y, a), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.invgamma.logsf", "a", "an incomplete gamma function of a: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.invgamma.ppf)
def invgamma_ppf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.invgamma.logpdf(z, a)), q),
        no_derivative("scipy.stats.invgamma.ppf", "a", "an inverse incomplete gamma function of a: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.invgamma.ppf)
def invgamma_ppf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.invgamma.logpdf(z, a)),
        no_derivative("scipy.stats.invgamma.ppf", "a", "an inverse incomplete gamma function of a: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.invgamma.isf)
def invgamma_isf_adjoint(g, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.invgamma.logpdf(z, a)), q),
        no_derivative("scipy.stats.invgamma.isf", "a", "an inverse incomplete gamma function of a: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.invgamma.isf)
def invgamma_isf_tangent(dot, ans, q, a, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.invgamma.logpdf(z, a)),
        no_derivative("scipy.stats.invgamma.isf", "a", "an inverse incomplete gamma function of a: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.f.cdf)
def f_cdf_adjoint(g, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.f.pdf(y, dfn, dfd) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.f.cdf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.cdf", "dfd", "an incomplete beta function of dfd: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.f.cdf)
def f_cdf_tangent(dot, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.f.pdf(y, dfn, dfd) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.f.cdf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.cdf", "dfd", "an incomplete beta function of dfd: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.f.sf)
def f_sf_adjoint(g, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.f.pdf(y, dfn, dfd) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.f.sf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.sf", "dfd", "an incomplete beta function of dfd: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.f.sf)
def f_sf_tangent(dot, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.f.pdf(y, dfn, dfd) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.f.sf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.sf", "dfd", "an incomplete beta function of dfd: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.f.logcdf)
def f_logcdf_adjoint(g, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.f.logpdf(y, dfn, dfd), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.f.logcdf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.logcdf", "dfd", "an incomplete beta function of dfd: no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.f.logcdf)
def f_logcdf_tangent(dot, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.f.logpdf(y, dfn, dfd), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.f.logcdf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.logcdf", "dfd", "an incomplete beta function of dfd: no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.f.logsf)
def f_logsf_adjoint(g, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.f.logpdf(y, dfn, dfd), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.f.logsf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.logsf", "dfd", "an incomplete beta function of dfd: no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.f.logsf)
def f_logsf_tangent(dot, ans, x, dfn, dfd, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.f.logpdf(y, dfn, dfd), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.f.logsf", "dfn", "an incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.logsf", "dfd", "an incomplete beta function of dfd: no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.f.ppf)
def f_ppf_adjoint(g, ans, q, dfn, dfd, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.f.logpdf(z, dfn, dfd)), q),
        no_derivative("scipy.stats.f.ppf", "dfn", "an inverse incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.ppf", "dfd", "an inverse incomplete beta function of dfd: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.f.ppf)
def f_ppf_tangent(dot, ans, q, dfn, dfd, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.f.logpdf(z, dfn, dfd)),
        no_derivative("scipy.stats.f.ppf", "dfn", "an inverse incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.ppf", "dfd", "an inverse incomplete beta function of dfd: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.f.isf)
def f_isf_adjoint(g, ans, q, dfn, dfd, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.f.logpdf(z, dfn, dfd)), q),
        no_derivative("scipy.stats.f.isf", "dfn", "an inverse incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.isf", "dfd", "an inverse incomplete beta function of dfd: no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.f.isf)
def f_isf_tangent(dot, ans, q, dfn, dfd, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.f.logpdf(z, dfn, dfd)),
        no_derivative("scipy.stats.f.isf", "dfn", "an inverse incomplete beta function of dfn: no closed form"),
        no_derivative("scipy.stats.f.isf", "dfd", "an inverse incomplete beta function of dfd: no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


# ---- scipy25: vonmises' distribution functions and quantiles in x (q), loc and scale, as invgamma's: SciPy's cdf
# continues periodically past [-pi, pi] (cdf(x + 2 pi) = cdf(x) + 1), so its derivative in x is the (periodic) density
# everywhere; in kappa it is a series (SciPy's von_mises_cdf) with no closed-form derivative: refused


@adjoint(scipy_stats.vonmises.cdf)
def vonmises_cdf_adjoint(g, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.vonmises.pdf(y, kappa) / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.vonmises.cdf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.vonmises.cdf)
def vonmises_cdf_tangent(dot, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.vonmises.pdf(y, kappa) / scale
    return (
        dot * p,
        no_derivative("scipy.stats.vonmises.cdf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.vonmises.sf)
def vonmises_sf_adjoint(g, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    gp = g * scipy_stats.vonmises.pdf(y, kappa) / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.vonmises.sf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.vonmises.sf)
def vonmises_sf_tangent(dot, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    p = scipy_stats.vonmises.pdf(y, kappa) / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.vonmises.sf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.vonmises.logcdf)
def vonmises_logcdf_adjoint(g, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.vonmises.logpdf(y, kappa), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(gp, x),
        no_derivative("scipy.stats.vonmises.logcdf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(-gp, loc),
        unbroadcast(-gp * y, scale),
    )


@tangent(scipy_stats.vonmises.logcdf)
def vonmises_logcdf_tangent(dot, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.vonmises.logpdf(y, kappa), ans)
    p = ratio / scale
    return (
        dot * p,
        no_derivative("scipy.stats.vonmises.logcdf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        -dot * p,
        -dot * p * y,
    )


@adjoint(scipy_stats.vonmises.logsf)
def vonmises_logsf_adjoint(g, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.vonmises.logpdf(y, kappa), ans)
    gp = g * ratio / scale
    return (
        unbroadcast(-gp, x),
        no_derivative("scipy.stats.vonmises.logsf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(gp, loc),
        unbroadcast(gp * y, scale),
    )


@tangent(scipy_stats.vonmises.logsf)
def vonmises_logsf_tangent(dot, ans, x, kappa, loc=0.0, scale=1.0):
    y = (x - loc) / scale
    ratio = density_over(scipy_stats.vonmises.logpdf(y, kappa), ans)
    p = ratio / scale
    return (
        -dot * p,
        no_derivative("scipy.stats.vonmises.logsf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        dot * p,
        dot * p * y,
    )


@adjoint(scipy_stats.vonmises.ppf)
def vonmises_ppf_adjoint(g, ans, q, kappa, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(g * scale * np.exp(-scipy_stats.vonmises.logpdf(z, kappa)), q),
        no_derivative("scipy.stats.vonmises.ppf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.vonmises.ppf)
def vonmises_ppf_tangent(dot, ans, q, kappa, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        dot * scale * np.exp(-scipy_stats.vonmises.logpdf(z, kappa)),
        no_derivative("scipy.stats.vonmises.ppf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


@adjoint(scipy_stats.vonmises.isf)
def vonmises_isf_adjoint(g, ans, q, kappa, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        unbroadcast(-g * scale * np.exp(-scipy_stats.vonmises.logpdf(z, kappa)), q),
        no_derivative("scipy.stats.vonmises.isf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        unbroadcast(g + 0.0 * z, loc),
        unbroadcast(g * z, scale),
    )


@tangent(scipy_stats.vonmises.isf)
def vonmises_isf_tangent(dot, ans, q, kappa, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return (
        -dot * scale * np.exp(-scipy_stats.vonmises.logpdf(z, kappa)),
        no_derivative("scipy.stats.vonmises.isf", "kappa", "a series in kappa (von_mises_cdf): no closed form"),
        dot + 0.0 * z,
        dot * z,
    )


# ---- scipy25: halfcauchy's distribution functions and quantiles: F = (2 / pi) arctan(z) on z >= 0,
# f = 2 / (pi (1 + z^2)), G(q) = tan(pi q / 2) with G' = 1 / f(G) = pi (1 + z^2) / 2


@adjoint(scipy_stats.halfcauchy.cdf)
def halfcauchy_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(g * (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfcauchy.cdf)
def halfcauchy_cdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(dot * (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z)), z, scale, 0.0)


@adjoint(scipy_stats.halfcauchy.sf)
def halfcauchy_sf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_bars(-g * (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z)), z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfcauchy.sf)
def halfcauchy_sf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return location_scale_dots(-dot * (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z)), z, scale, 0.0)


@adjoint(scipy_stats.halfcauchy.logcdf)
def halfcauchy_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # f / F on z > 0 (-inf at and below 0: derivative 0)
    z = (x - loc) / scale
    slope = (z > 0.0) * 2.0 / (np.pi * (1.0 + z * z) * np.exp(np.where(z > 0.0, ans, 0.0)))
    return location_scale_bars(g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfcauchy.logcdf)
def halfcauchy_logcdf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = (z > 0.0) * 2.0 / (np.pi * (1.0 + z * z) * np.exp(np.where(z > 0.0, ans, 0.0)))
    return location_scale_dots(dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.halfcauchy.logsf)
def halfcauchy_logsf_adjoint(g, ans, x, loc=0.0, scale=1.0):
    # -f / sf on z >= 0 (0 below, where the sf is 1)
    z = (x - loc) / scale
    slope = (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z) * np.exp(ans))
    return location_scale_bars(-g * slope, z, x, loc, scale, 0.0)


@tangent(scipy_stats.halfcauchy.logsf)
def halfcauchy_logsf_tangent(dot, ans, x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    slope = (z >= 0.0) * 2.0 / (np.pi * (1.0 + z * z) * np.exp(ans))
    return location_scale_dots(-dot * slope, z, scale, 0.0)


@adjoint(scipy_stats.halfcauchy.ppf)
def halfcauchy_ppf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_bars(g, 0.5 * np.pi * (1.0 + z * z), z, q, loc, scale)


@tangent(scipy_stats.halfcauchy.ppf)
def halfcauchy_ppf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, 0.5 * np.pi * (1.0 + z * z), z, scale)


@adjoint(scipy_stats.halfcauchy.isf)
def halfcauchy_isf_adjoint(g, ans, q, loc=0.0, scale=1.0):
    # G(1 - q): the ppf's slope, negated
    z = (ans - loc) / scale
    return quantile_bars(g, -0.5 * np.pi * (1.0 + z * z), z, q, loc, scale)


@tangent(scipy_stats.halfcauchy.isf)
def halfcauchy_isf_tangent(dot, ans, q, loc=0.0, scale=1.0):
    z = (ans - loc) / scale
    return quantile_dots(dot, -0.5 * np.pi * (1.0 + z * z), z, scale)


# ---- scipy25: moments and entropy of the location-scale families without a shape. With X = loc + scale Z: the mean
# and median are loc + scale c (c = (ans - loc) / scale, the standard one's), the std scale c, the var scale^2 c, the
# entropy c + ln(scale); constant in loc where they do not move with it. (A frozen distribution's d.mean() is the call
# with d's parameters: registry.method_of_made.) cauchy's and halfcauchy's moments are nan or infinite: no rule.

_PLAIN = tuple(
    getattr(scipy_stats, name)
    for name in ("norm", "expon", "laplace", "logistic", "halfnorm", "gumbel_r", "gumbel_l", "rayleigh", "uniform")
)
_HEAVY = (scipy_stats.cauchy, scipy_stats.halfcauchy)  # (a mean nan or infinite: median and entropy only)


@adjoint(*[d.mean for d in _PLAIN], *[d.median for d in _PLAIN + _HEAVY])
def location_scale_mean_adjoint(g, ans, loc=0.0, scale=1.0):
    return unbroadcast(g + 0.0 * ans, loc), unbroadcast(g * (ans - loc) / scale, scale)


@tangent(*[d.mean for d in _PLAIN], *[d.median for d in _PLAIN + _HEAVY])
def location_scale_mean_tangent(dot, ans, loc=0.0, scale=1.0):
    return dot + 0.0 * ans, dot * (ans - loc) / scale


@adjoint(*[d.std for d in _PLAIN])
def location_scale_std_adjoint(g, ans, loc=0.0, scale=1.0):
    return None, unbroadcast(g * ans / scale, scale)


@tangent(*[d.std for d in _PLAIN])
def location_scale_std_tangent(dot, ans, loc=0.0, scale=1.0):
    return None, dot * ans / scale


@adjoint(*[d.var for d in _PLAIN])
def location_scale_var_adjoint(g, ans, loc=0.0, scale=1.0):
    return None, unbroadcast(2.0 * g * ans / scale, scale)


@tangent(*[d.var for d in _PLAIN])
def location_scale_var_tangent(dot, ans, loc=0.0, scale=1.0):
    return None, 2.0 * dot * ans / scale


@adjoint(*[d.entropy for d in _PLAIN + _HEAVY])
def location_scale_entropy_adjoint(g, ans, loc=0.0, scale=1.0):
    return None, unbroadcast(g / scale + 0.0 * ans, scale)


@tangent(*[d.entropy for d in _PLAIN + _HEAVY])
def location_scale_entropy_tangent(dot, ans, loc=0.0, scale=1.0):
    return None, dot / scale + 0.0 * ans


# ---- scipy25: mean, var and std of gamma, chi2 and beta (loc + scale m, scale^2 v, scale sqrt(v) with m and v of the
# shapes) and of poisson, binom, bernoulli and geom (loc + m, v, sqrt(v) in mu or p); the std's partials are the var's
# over 2 std (and n, a count, gets none)


@adjoint(scipy_stats.gamma.mean)
def gamma_mean_adjoint(g, ans, a, loc=0.0, scale=1.0):
    # loc + a scale
    return unbroadcast(g * scale + 0.0 * ans, a), unbroadcast(g + 0.0 * ans, loc), unbroadcast(g * a + 0.0 * ans, scale)


@tangent(scipy_stats.gamma.mean)
def gamma_mean_tangent(dot, ans, a, loc=0.0, scale=1.0):
    return dot * scale + 0.0 * ans, dot + 0.0 * ans, dot * a + 0.0 * ans


@adjoint(scipy_stats.gamma.var)
def gamma_var_adjoint(g, ans, a, loc=0.0, scale=1.0):
    # a scale^2
    return unbroadcast(g * ans / a, a), None, unbroadcast(2.0 * g * ans / scale, scale)


@tangent(scipy_stats.gamma.var)
def gamma_var_tangent(dot, ans, a, loc=0.0, scale=1.0):
    return dot * ans / a, None, 2.0 * dot * ans / scale


@adjoint(scipy_stats.gamma.std)
def gamma_std_adjoint(g, ans, a, loc=0.0, scale=1.0):
    # sqrt(a) scale
    return unbroadcast(0.5 * g * ans / a, a), None, unbroadcast(g * ans / scale, scale)


@tangent(scipy_stats.gamma.std)
def gamma_std_tangent(dot, ans, a, loc=0.0, scale=1.0):
    return 0.5 * dot * ans / a, None, dot * ans / scale


@adjoint(scipy_stats.chi2.mean)
def chi2_mean_adjoint(g, ans, df, loc=0.0, scale=1.0):
    # loc + df scale
    return (
        unbroadcast(g * scale + 0.0 * ans, df),
        unbroadcast(g + 0.0 * ans, loc),
        unbroadcast(g * df + 0.0 * ans, scale),
    )


@tangent(scipy_stats.chi2.mean)
def chi2_mean_tangent(dot, ans, df, loc=0.0, scale=1.0):
    return dot * scale + 0.0 * ans, dot + 0.0 * ans, dot * df + 0.0 * ans


@adjoint(scipy_stats.chi2.var)
def chi2_var_adjoint(g, ans, df, loc=0.0, scale=1.0):
    # 2 df scale^2
    return unbroadcast(g * ans / df, df), None, unbroadcast(2.0 * g * ans / scale, scale)


@tangent(scipy_stats.chi2.var)
def chi2_var_tangent(dot, ans, df, loc=0.0, scale=1.0):
    return dot * ans / df, None, 2.0 * dot * ans / scale


@adjoint(scipy_stats.chi2.std)
def chi2_std_adjoint(g, ans, df, loc=0.0, scale=1.0):
    # sqrt(2 df) scale
    return unbroadcast(0.5 * g * ans / df, df), None, unbroadcast(g * ans / scale, scale)


@tangent(scipy_stats.chi2.std)
def chi2_std_tangent(dot, ans, df, loc=0.0, scale=1.0):
    return 0.5 * dot * ans / df, None, dot * ans / scale


@adjoint(scipy_stats.beta.mean)
def beta_mean_adjoint(g, ans, a, b, loc=0.0, scale=1.0):
    # loc + scale a / (a + b)
    gs = g * scale / ((a + b) * (a + b))
    return (
        unbroadcast(gs * b + 0.0 * ans, a),
        unbroadcast(-gs * a + 0.0 * ans, b),
        unbroadcast(g + 0.0 * ans, loc),
        unbroadcast(g * a / (a + b) + 0.0 * ans, scale),
    )


@tangent(scipy_stats.beta.mean)
def beta_mean_tangent(dot, ans, a, b, loc=0.0, scale=1.0):
    ds = dot * scale / ((a + b) * (a + b))
    return ds * b + 0.0 * ans, -ds * a + 0.0 * ans, dot + 0.0 * ans, dot * a / (a + b) + 0.0 * ans


@fragment
def beta_log_var_in(a, b):
    # d ln v / da of v = a b / ((a + b)^2 (a + b + 1)), the shape's part of the variance (in b: a and b swapped)
    return 1.0 / a - 2.0 / (a + b) - 1.0 / (a + b + 1.0)


@adjoint(scipy_stats.beta.var)
def beta_var_adjoint(g, ans, a, b, loc=0.0, scale=1.0):
    in_a = beta_log_var_in(a, b)
    in_b = beta_log_var_in(b, a)
    return (
        unbroadcast(g * ans * in_a, a),
        unbroadcast(g * ans * in_b, b),
        None,
        unbroadcast(2.0 * g * ans / scale, scale),
    )


@tangent(scipy_stats.beta.var)
def beta_var_tangent(dot, ans, a, b, loc=0.0, scale=1.0):
    in_a = beta_log_var_in(a, b)
    in_b = beta_log_var_in(b, a)
    return dot * ans * in_a, dot * ans * in_b, None, 2.0 * dot * ans / scale


@adjoint(scipy_stats.beta.std)
def beta_std_adjoint(g, ans, a, b, loc=0.0, scale=1.0):
    in_a = beta_log_var_in(a, b)
    in_b = beta_log_var_in(b, a)
    return (
        unbroadcast(0.5 * g * ans * in_a, a),
        unbroadcast(0.5 * g * ans * in_b, b),
        None,
        unbroadcast(g * ans / scale, scale),
    )


@tangent(scipy_stats.beta.std)
def beta_std_tangent(dot, ans, a, b, loc=0.0, scale=1.0):
    in_a = beta_log_var_in(a, b)
    in_b = beta_log_var_in(b, a)
    return 0.5 * dot * ans * in_a, 0.5 * dot * ans * in_b, None, dot * ans / scale


@adjoint(scipy_stats.poisson.mean)
def poisson_mean_adjoint(g, ans, mu, loc=0):
    # mu + loc (linear in loc too, where a pmf is piecewise constant in it)
    return unbroadcast(g + 0.0 * ans, mu), unbroadcast(g + 0.0 * ans, loc)


@tangent(scipy_stats.poisson.mean)
def poisson_mean_tangent(dot, ans, mu, loc=0):
    return dot + 0.0 * ans, dot + 0.0 * ans


@adjoint(scipy_stats.poisson.var)
def poisson_var_adjoint(g, ans, mu, loc=0):
    return unbroadcast(g + 0.0 * ans, mu), None


@tangent(scipy_stats.poisson.var)
def poisson_var_tangent(dot, ans, mu, loc=0):
    return dot + 0.0 * ans, None


@adjoint(scipy_stats.poisson.std)
def poisson_std_adjoint(g, ans, mu, loc=0):
    # sqrt(mu)
    return unbroadcast(0.5 * g / ans, mu), None


@tangent(scipy_stats.poisson.std)
def poisson_std_tangent(dot, ans, mu, loc=0):
    return 0.5 * dot / ans, None


@adjoint(scipy_stats.binom.mean)
def binom_mean_adjoint(g, ans, n, p, loc=0):
    # n p + loc
    return None, unbroadcast(g * n + 0.0 * ans, p), unbroadcast(g + 0.0 * ans, loc)


@tangent(scipy_stats.binom.mean)
def binom_mean_tangent(dot, ans, n, p, loc=0):
    return None, dot * n + 0.0 * ans, dot + 0.0 * ans


@adjoint(scipy_stats.binom.var)
def binom_var_adjoint(g, ans, n, p, loc=0):
    # n p (1 - p)
    return None, unbroadcast(g * n * (1.0 - 2.0 * p) + 0.0 * ans, p), None


@tangent(scipy_stats.binom.var)
def binom_var_tangent(dot, ans, n, p, loc=0):
    return None, dot * n * (1.0 - 2.0 * p) + 0.0 * ans, None


@adjoint(scipy_stats.binom.std)
def binom_std_adjoint(g, ans, n, p, loc=0):
    return None, unbroadcast(0.5 * g * n * (1.0 - 2.0 * p) / ans, p), None


@tangent(scipy_stats.binom.std)
def binom_std_tangent(dot, ans, n, p, loc=0):
    return None, 0.5 * dot * n * (1.0 - 2.0 * p) / ans, None


@adjoint(scipy_stats.bernoulli.mean)
def bernoulli_mean_adjoint(g, ans, p, loc=0):
    # p + loc
    return unbroadcast(g + 0.0 * ans, p), unbroadcast(g + 0.0 * ans, loc)


@tangent(scipy_stats.bernoulli.mean)
def bernoulli_mean_tangent(dot, ans, p, loc=0):
    return dot + 0.0 * ans, dot + 0.0 * ans


@adjoint(scipy_stats.bernoulli.var)
def bernoulli_var_adjoint(g, ans, p, loc=0):
    # p (1 - p)
    return unbroadcast(g * (1.0 - 2.0 * p) + 0.0 * ans, p), None


@tangent(scipy_stats.bernoulli.var)
def bernoulli_var_tangent(dot, ans, p, loc=0):
    return dot * (1.0 - 2.0 * p) + 0.0 * ans, None


@adjoint(scipy_stats.bernoulli.std)
def bernoulli_std_adjoint(g, ans, p, loc=0):
    return unbroadcast(0.5 * g * (1.0 - 2.0 * p) / ans, p), None


@tangent(scipy_stats.bernoulli.std)
def bernoulli_std_tangent(dot, ans, p, loc=0):
    return 0.5 * dot * (1.0 - 2.0 * p) / ans, None


@adjoint(scipy_stats.geom.mean)
def geom_mean_adjoint(g, ans, p, loc=0):
    # 1 / p + loc
    return unbroadcast(-g / (p * p) + 0.0 * ans, p), unbroadcast(g + 0.0 * ans, loc)


@tangent(scipy_stats.geom.mean)
def geom_mean_tangent(dot, ans, p, loc=0):
    return -dot / (p * p) + 0.0 * ans, dot + 0.0 * ans


@adjoint(scipy_stats.geom.var)
def geom_var_adjoint(g, ans, p, loc=0):
    # (1 - p) / p^2: (p - 2) / p^3
    return unbroadcast(g * (p - 2.0) / (p * p * p) + 0.0 * ans, p), None


@tangent(scipy_stats.geom.var)
def geom_var_tangent(dot, ans, p, loc=0):
    return dot * (p - 2.0) / (p * p * p) + 0.0 * ans, None


@adjoint(scipy_stats.geom.std)
def geom_std_adjoint(g, ans, p, loc=0):
    return unbroadcast(0.5 * g * (p - 2.0) / (p * p * p * ans), p), None


@tangent(scipy_stats.geom.std)
def geom_std_tangent(dot, ans, p, loc=0):
    return 0.5 * dot * (p - 2.0) / (p * p * p * ans), None


# ---- densities of the families with a log-density rule only (scipy24): pdf = exp(logpdf), each rule made from the
# log-density's by registry.exp_of (g -> g * pdf), so each derivative is written once; exactly 0 where the density is 0
# (off the support, where it is constant; at a support's edge, the derivative from outside). betabinom's pmf is 0 only
# off the support in k; the other discrete pmfs are 0 also at p == 0 or 1, where their derivative need not be (a
# bernoulli's pmf(1; p) = p): no pmf rule for them (their logpmf's derivative is infinite there)

for _family, _method in [
    (family, "pdf")
    for family in ("expon", "laplace", "halfnorm", "gumbel_r", "gumbel_l", "rayleigh", "weibull_min", "pareto")
    + ("lognorm", "truncnorm", "uniform", "skewnorm", "halfcauchy", "invgamma", "vonmises", "f", "multivariate_t")
    + ("wishart", "invwishart")
] + [("betabinom", "pmf")]:
    _log = getattr(getattr(scipy_stats, _family), "log" + _method)
    _name = "%s_%s_" % (_family, _method)
    adjoint(getattr(getattr(scipy_stats, _family), _method))(
        registry.exp_of(registry.lookup(_log).rule, _name + "adjoint")
    )
    tangent(getattr(getattr(scipy_stats, _family), _method))(
        registry.exp_of(registry.tangent_rule(_log).rule, _name + "tangent")
    )
