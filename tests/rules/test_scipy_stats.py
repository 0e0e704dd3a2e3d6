"""Table-driven checks of the ``scipy.stats`` adjoint rules (methods of distribution objects) against central
differences of SciPy's own densities, directly and through compiled functions (test_scipy_special.check_row),
with every parameter differentiated; refusals; forward mode in tests/rules/test_tangents.py."""

import numpy as np
import pytest

scipy_stats = pytest.importorskip("scipy.stats")

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler.rules import registry  # noqa: E402
from adjoint_compiler.testing import check_grads  # noqa: E402
from tests.rules.test_scipy_special import Row, check_row, compiled_rows  # noqa: E402

R = np.random.default_rng(11)
N = "scipy.stats.norm."


def _spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + d * np.eye(d)


def _sum_zero(i, rng, shape_of):
    """A direction along the simplex (its parts sum to zero over the first axis) for dirichlet's x."""
    d = rng.standard_normal(shape_of[i]) if i in shape_of else None
    return d - np.mean(d, axis=0) if i == 0 else rng.standard_normal(shape_of[i])


def _dirichlet_row(name, x, alpha, fn=scipy_stats.dirichlet.logpdf):
    shapes = {0: np.shape(x), 1: np.shape(alpha)}
    return Row(
        name,
        fn,
        "scipy.stats.dirichlet." + fn.__name__,
        [x, alpha],
        {},
        (0, 1),
        direction=lambda i, rng: _sum_zero(i, rng, shapes),
    )


def _k_minus_1(i, rng):
    return rng.standard_normal(2) * 0.1 if i == 0 else rng.standard_normal(3)


X3 = R.standard_normal(3)
TABLE = [
    Row("norm.logpdf", scipy_stats.norm.logpdf, N + "logpdf", [X3, 0.3, 1.7], {}, (0, 1, 2)),
    Row("norm.logpdf-x-only", scipy_stats.norm.logpdf, N + "logpdf", [X3], {}, (0,)),
    Row("norm.logpdf-keywords", scipy_stats.norm.logpdf, N + "logpdf", [0.4], {"loc": 1.0, "scale": 2.0}, (0,)),
    Row(
        "norm.logpdf-broadcast",
        scipy_stats.norm.logpdf,
        N + "logpdf",
        [R.standard_normal((2, 3)), R.standard_normal(3), R.uniform(0.5, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("norm.pdf", scipy_stats.norm.pdf, N + "pdf", [X3, -0.2, 0.8], {}, (0, 1, 2)),
    Row("norm.cdf", scipy_stats.norm.cdf, N + "cdf", [X3, 0.1, 1.3], {}, (0, 1, 2)),
    Row("norm.cdf-scalar", scipy_stats.norm.cdf, N + "cdf", [0.3, 0.1, 1.3], {}, (0, 1, 2)),
    Row("norm.logcdf", scipy_stats.norm.logcdf, N + "logcdf", [np.array([-8.0, -1.0, 2.0]), 0.2, 1.1], {}, (0, 1, 2)),
    Row("norm.sf", scipy_stats.norm.sf, N + "sf", [X3, 0.5, 0.7], {}, (0, 1, 2)),
    Row("norm.logsf", scipy_stats.norm.logsf, N + "logsf", [np.array([-2.0, 1.0, 8.0]), 0.2, 1.1], {}, (0, 1, 2)),
    Row(
        "norm.logsf-broadcast",
        scipy_stats.norm.logsf,
        N + "logsf",
        [R.standard_normal((4, 3)), R.standard_normal((1, 3)), R.uniform(0.5, 2, (4, 1))],
        {},
        (0, 1, 2),
    ),
    Row("norm.ppf", scipy_stats.norm.ppf, N + "ppf", [R.uniform(0.05, 0.95, 3), 0.3, 1.7], {}, (0, 1, 2)),
    Row(
        "norm.ppf-broadcast",
        scipy_stats.norm.ppf,
        N + "ppf",
        [R.uniform(0.05, 0.95, (2, 3)), R.standard_normal(3), R.uniform(0.5, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("norm.isf", scipy_stats.norm.isf, N + "isf", [R.uniform(0.05, 0.95, 3), -0.4, 0.6], {}, (0, 1, 2)),
    Row("norm.isf-scalar", scipy_stats.norm.isf, N + "isf", [0.2], {}, (0,)),
    Row("t.logpdf", scipy_stats.t.logpdf, "scipy.stats.t.logpdf", [X3, 3.5, 0.2, 1.4], {}, (0, 1, 2, 3)),
    Row("t.logpdf-df-static", scipy_stats.t.logpdf, "scipy.stats.t.logpdf", [X3, 4], {}, (0,)),
    Row("t.pdf", scipy_stats.t.pdf, "scipy.stats.t.pdf", [X3, 2.5, -0.3, 0.9], {}, (0, 1, 2, 3)),
    Row("t.cdf", scipy_stats.t.cdf, "scipy.stats.t.cdf", [X3, 2.5, -0.3, 0.9], {}, (0, 2, 3)),
    Row("t.sf", scipy_stats.t.sf, "scipy.stats.t.sf", [X3, 2.5, -0.3, 0.9], {}, (0, 2, 3)),
    Row(
        "t.logcdf",
        scipy_stats.t.logcdf,
        "scipy.stats.t.logcdf",
        [np.array([-9.0, -0.5, 2.0]), 3.1, 0.2, 1.3],
        {},
        (0, 2, 3),
    ),
    Row(
        "t.logcdf-broadcast",
        scipy_stats.t.logcdf,
        "scipy.stats.t.logcdf",
        [R.standard_normal((4, 3)), R.uniform(2.1, 5, (1, 3)), R.standard_normal((4, 3)), R.uniform(2.1, 4, (4, 1))],
        {},
        (0, 2, 3),
    ),
    Row(
        "t.logsf",
        scipy_stats.t.logsf,
        "scipy.stats.t.logsf",
        [np.array([-2.0, 0.5, 9.0]), 3.1, 0.2, 1.3],
        {},
        (0, 2, 3),
    ),
    Row(
        "gamma.logpdf",
        scipy_stats.gamma.logpdf,
        "scipy.stats.gamma.logpdf",
        [R.uniform(1, 3, 3), 2.5, 0.2, 1.5],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "gamma.logpdf-a", scipy_stats.gamma.logpdf, "scipy.stats.gamma.logpdf", [1.7, R.uniform(0.5, 3, 3)], {}, (0, 1)
    ),
    Row(
        "beta.logpdf",
        scipy_stats.beta.logpdf,
        "scipy.stats.beta.logpdf",
        [R.uniform(0.2, 0.8, 3), 2.5, 1.5, -0.1, 1.2],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "beta.logpdf-shapes",
        scipy_stats.beta.logpdf,
        "scipy.stats.beta.logpdf",
        [0.3, R.uniform(0.5, 3, 3), 2.0],
        {},
        (0, 1, 2),
    ),
    Row(
        "gamma.pdf",
        scipy_stats.gamma.pdf,
        "scipy.stats.gamma.pdf",
        [R.uniform(1, 3, 3), 2.5, 0.2, 1.5],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "gamma.pdf-broadcast",
        scipy_stats.gamma.pdf,
        "scipy.stats.gamma.pdf",
        [R.uniform(1, 3, (4, 3)), R.uniform(1.1, 4, (1, 3))],
        {},
        (0, 1),
    ),
    Row(
        "gamma.cdf",
        scipy_stats.gamma.cdf,
        "scipy.stats.gamma.cdf",
        [R.uniform(0.3, 4, 3), 2.5, 0.2, 1.5],
        {},
        (0, 2, 3),
    ),
    Row(
        "gamma.cdf-broadcast",
        scipy_stats.gamma.cdf,
        "scipy.stats.gamma.cdf",
        [R.uniform(0.3, 4, (2, 3)), R.uniform(1, 4, 3)],
        {},
        (0,),
    ),
    Row(
        "beta.pdf",
        scipy_stats.beta.pdf,
        "scipy.stats.beta.pdf",
        [R.uniform(0.2, 0.8, 3), 2.5, 1.5, -0.1, 1.2],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "beta.pdf-broadcast",
        scipy_stats.beta.pdf,
        "scipy.stats.beta.pdf",
        [R.uniform(0.1, 0.9, (4, 3)), R.uniform(1.1, 3, 3), R.uniform(1.1, 3, (4, 1))],
        {},
        (0, 1, 2),
    ),
    Row(
        "beta.cdf",
        scipy_stats.beta.cdf,
        "scipy.stats.beta.cdf",
        [R.uniform(0.2, 0.8, 3), 2.5, 1.5, -0.1, 1.2],
        {},
        (0, 3, 4),
    ),
    Row(
        "beta.cdf-broadcast",
        scipy_stats.beta.cdf,
        "scipy.stats.beta.cdf",
        [R.uniform(0.1, 0.9, (4, 3)), R.uniform(1.1, 3, 3), R.uniform(1.1, 3, (4, 1))],
        {},
        (0,),
    ),
    Row(
        "chi2.logpdf",
        scipy_stats.chi2.logpdf,
        "scipy.stats.chi2.logpdf",
        [R.uniform(1, 5, 3), 3.5, 0.2, 1.5],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "chi2.logpdf-df-int", scipy_stats.chi2.logpdf, "scipy.stats.chi2.logpdf", [R.uniform(1, 5, (2, 3)), 2], {}, (0,)
    ),
    Row(
        "chi2.pdf", scipy_stats.chi2.pdf, "scipy.stats.chi2.pdf", [R.uniform(1, 5, 3), 3.5, 0.2, 1.5], {}, (0, 1, 2, 3)
    ),
    Row(
        "chi2.pdf-broadcast",
        scipy_stats.chi2.pdf,
        "scipy.stats.chi2.pdf",
        [R.uniform(1, 5, (2, 3)), R.uniform(1, 4, 3)],
        {},
        (0, 1),
    ),
    Row("chi2.cdf", scipy_stats.chi2.cdf, "scipy.stats.chi2.cdf", [R.uniform(0.5, 5, 3), 3.5, 0.2, 1.5], {}, (0, 2, 3)),
    Row("chi2.cdf-df-int", scipy_stats.chi2.cdf, "scipy.stats.chi2.cdf", [R.uniform(0.5, 5, (2, 3)), 1], {}, (0,)),
    # the sf, logcdf and logsf of gamma, beta and chi2, in x, loc and scale (the shapes are refused: below)
    *[
        Row(
            family + "." + method + suffix,
            getattr(dist, method),
            "scipy.stats." + family + "." + method,
            args,
            {},
            wrt,
        )
        for family, dist, points in (
            (
                "gamma",
                scipy_stats.gamma,
                (
                    ("", [R.uniform(0.3, 4, 3), 2.5, 0.2, 1.5], (0, 2, 3)),
                    ("-tails", [np.array([0.25, 0.5, 40.0, 60.0]), 2.5], (0,)),
                    (
                        "-broadcast",
                        [R.uniform(0.5, 4, (2, 3)), R.uniform(1, 4, 3), 0.1, R.uniform(1, 2, (2, 1))],
                        (0, 2, 3),
                    ),
                ),
            ),
            (
                "beta",
                scipy_stats.beta,
                (
                    ("", [R.uniform(0.2, 0.8, 3), 2.5, 1.5, -0.1, 1.2], (0, 3, 4)),
                    ("-tails", [np.array([0.002, 0.01, 0.99, 0.999]), 2.5, 3.5], (0,)),
                ),
            ),
            (
                "chi2",
                scipy_stats.chi2,
                (
                    ("", [R.uniform(0.5, 5, 3), 3.5, 0.2, 1.5], (0, 2, 3)),
                    ("-tails", [np.array([0.01, 0.1, 50.0, 80.0]), 3.0], (0,)),
                ),
            ),
        )
        for method in ("sf", "logcdf", "logsf")
        for suffix, args, wrt in points
    ],
    *[
        Row(
            "poisson." + method + suffix,
            getattr(scipy_stats.poisson, method),
            "scipy.stats.poisson." + method,
            args,
            {},
            (1,),
        )
        for method in ("sf", "logcdf", "logsf")
        for suffix, args in (
            ("", [np.array([0, 2, 5]), 2.5]),
            ("-loc", [np.array([3, 4, 8]), 2.5, 2]),
            ("-tails", [np.array([0, 1, 40, 60]), R.uniform(2.0, 3.0, 4)]),
            ("-broadcast", [np.round(R.standard_normal((4, 3)) ** 2), R.uniform(1.1, 4, (4, 1))]),
        )
    ],
    Row("poisson.sf-negative-k", scipy_stats.poisson.sf, "scipy.stats.poisson.sf", [np.array([-1, 2]), 1.5], {}, (1,)),
    Row(
        "poisson.logsf-negative-k",
        scipy_stats.poisson.logsf,
        "scipy.stats.poisson.logsf",
        [np.array([-1, 2]), 1.5],
        {},
        (1,),
    ),
    *[
        Row(
            family + "." + method + suffix,
            getattr(dist, method),
            "scipy.stats." + family + "." + method,
            args,
            {},
            (0, 1, 2),
        )
        for family, dist in (("logistic", scipy_stats.logistic), ("cauchy", scipy_stats.cauchy))
        for method in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf")
        for suffix, args in (
            ("", [np.array([-3.0, 0.0, 0.4, 2.5]), 0.3, 1.7]),
            ("-at-loc", [np.array([0.3, -0.3]), 0.3, 1.7]),  # z == 0 at the first point
            ("-broadcast", [R.standard_normal((2, 3)), R.standard_normal(3), R.uniform(0.5, 2, (2, 1))]),
        )
    ],
    # the tails: the logcdf on the left and the logsf on the right stay finite where cdf and sf underflow
    Row(
        "logistic.logcdf-tail",
        scipy_stats.logistic.logcdf,
        "scipy.stats.logistic.logcdf",
        [np.array([-40.0, -800.0]), 0.2, 1.1],
        {},
        (0, 1, 2),
    ),
    Row(
        "logistic.logsf-tail",
        scipy_stats.logistic.logsf,
        "scipy.stats.logistic.logsf",
        [np.array([40.0, 800.0]), 0.2, 1.1],
        {},
        (0, 1, 2),
    ),
    Row(
        "logistic.cdf-tail",
        scipy_stats.logistic.cdf,
        "scipy.stats.logistic.cdf",
        [np.array([-30.0, 30.0]), 0.0, 1.0],
        {},
        (0, 1, 2),
    ),
    Row(
        "cauchy.logcdf-tail",
        scipy_stats.cauchy.logcdf,
        "scipy.stats.cauchy.logcdf",
        [np.array([-1e6, 1e6]), 0.2, 1.1],
        {},
        (0, 1, 2),
    ),
    Row(
        "cauchy.logsf-tail",
        scipy_stats.cauchy.logsf,
        "scipy.stats.cauchy.logsf",
        [np.array([-1e6, 1e6]), 0.2, 1.1],
        {},
        (0, 1, 2),
    ),
    Row(
        "logistic.logpdf-keywords",
        scipy_stats.logistic.logpdf,
        "scipy.stats.logistic.logpdf",
        [0.4],
        {"loc": 1.0, "scale": 2.0},
        (0,),
    ),
    Row("cauchy.pdf-x-only", scipy_stats.cauchy.pdf, "scipy.stats.cauchy.pdf", [X3], {}, (0,)),
    Row("laplace.logpdf", scipy_stats.laplace.logpdf, "scipy.stats.laplace.logpdf", [X3, 0.1, 1.5], {}, (0, 1, 2)),
    Row(
        "expon.logpdf",
        scipy_stats.expon.logpdf,
        "scipy.stats.expon.logpdf",
        [R.uniform(0.5, 3, 3), 0.2, 1.5],
        {},
        (0, 1, 2),
    ),
    Row(
        "uniform.logpdf",
        scipy_stats.uniform.logpdf,
        "scipy.stats.uniform.logpdf",
        [R.uniform(0.5, 1, 3), 0.2, 1.5],
        {},
        (0, 1, 2),
    ),
    Row(
        "poisson.logpmf", scipy_stats.poisson.logpmf, "scipy.stats.poisson.logpmf", [np.array([0, 2, 5]), 2.5], {}, (1,)
    ),
    Row(
        "poisson.logpmf-mu-array",
        scipy_stats.poisson.logpmf,
        "scipy.stats.poisson.logpmf",
        [3, R.uniform(0.5, 4, (2, 3))],
        {},
        (1,),
    ),
    Row("poisson.pmf", scipy_stats.poisson.pmf, "scipy.stats.poisson.pmf", [np.array([0, 2, 5]), 2.5, 1], {}, (1,)),
    Row("poisson.cdf", scipy_stats.poisson.cdf, "scipy.stats.poisson.cdf", [np.array([0, 2, 5, -1]), 2.5], {}, (1,)),
    Row(
        "poisson.cdf-broadcast",
        scipy_stats.poisson.cdf,
        "scipy.stats.poisson.cdf",
        [np.round(R.standard_normal((4, 3)) ** 2), R.uniform(1.1, 4, (4, 1)), 1],
        {},
        (1,),
    ),
    Row("poisson.cdf-non-integer-k", scipy_stats.poisson.cdf, "scipy.stats.poisson.cdf", [2.5, 1.7], {}, (1,)),
    Row(
        "multivariate_normal.logpdf",
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal(3), R.standard_normal(3), _spd(R, 3)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-rows",
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal((4, 2)), R.standard_normal(2), _spd(R, 2)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-nonsymmetric-cov",  # SciPy reads the lower triangle: so does the gradient
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal(3), R.standard_normal(3), _spd(R, 3) + np.triu(np.ones((3, 3)), 1)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-diagonal-cov",
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal((2, 3)), R.standard_normal(3), R.uniform(0.5, 2, 3)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-scalar-cov",
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal(3), R.standard_normal(3), 1.7],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-no-mean",
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal((3, 2))],
        {"cov": np.array([[2.0, 0.3], [0.3, 1.0]])},
        (0,),
    ),
    Row(
        "multivariate_normal.logpdf-1d",  # mean and cov numbers: a sample of numbers
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal(4), 0.3, 2.0],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.pdf",
        scipy_stats.multivariate_normal.pdf,
        "scipy.stats.multivariate_normal.pdf",
        [R.standard_normal(3) * 0.5, R.standard_normal(3) * 0.5, _spd(R, 3)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.pdf-rows",
        scipy_stats.multivariate_normal.pdf,
        "scipy.stats.multivariate_normal.pdf",
        [R.standard_normal((5, 2)), R.standard_normal(2), _spd(R, 2)],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.pdf-scalar-cov",
        scipy_stats.multivariate_normal.pdf,
        "scipy.stats.multivariate_normal.pdf",
        [R.standard_normal((2, 3)), R.standard_normal(3), 1.7],
        {},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.logpdf-allow-singular-full-rank",  # a covariance of full rank: the same density
        scipy_stats.multivariate_normal.logpdf,
        "scipy.stats.multivariate_normal.logpdf",
        [R.standard_normal((3, 3)), R.standard_normal(3), _spd(R, 3)],
        {"allow_singular": True},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.pdf-allow-singular-false",
        scipy_stats.multivariate_normal.pdf,
        "scipy.stats.multivariate_normal.pdf",
        [R.standard_normal(3) * 0.5, R.standard_normal(3) * 0.5, _spd(R, 3)],
        {"allow_singular": False},
        (0, 1, 2),
    ),
    Row(
        "multivariate_normal.entropy",  # 1/2 ln det(2 pi e cov): constant in the mean
        scipy_stats.multivariate_normal.entropy,
        "scipy.stats.multivariate_normal.entropy",
        [R.standard_normal(3), _spd(R, 3) + np.triu(np.ones((3, 3)), 1)],
        {},
        (1,),
    ),
    Row(
        "multivariate_normal.entropy-no-mean",
        scipy_stats.multivariate_normal.entropy,
        "scipy.stats.multivariate_normal.entropy",
        [None, _spd(R, 2)],
        {},
        (1,),
    ),
    Row(
        "multivariate_normal.entropy-diagonal-cov",
        scipy_stats.multivariate_normal.entropy,
        "scipy.stats.multivariate_normal.entropy",
        [np.zeros(3), R.uniform(0.5, 2, 3)],
        {},
        (1,),
    ),
    Row(
        "multivariate_normal.entropy-scalar-cov",
        scipy_stats.multivariate_normal.entropy,
        "scipy.stats.multivariate_normal.entropy",
        [np.zeros(3), 1.7],
        {},
        (1,),
    ),
    _dirichlet_row("dirichlet.pdf", np.array([0.2, 0.3, 0.5]), np.array([1.5, 2.0, 3.0]), scipy_stats.dirichlet.pdf),
    _dirichlet_row(
        "dirichlet.pdf-points",
        np.array([[0.2, 0.5], [0.3, 0.1], [0.5, 0.4]]),
        np.array([0.7, 2.0, 3.0]),
        scipy_stats.dirichlet.pdf,
    ),
    _dirichlet_row("dirichlet.logpdf", np.array([0.2, 0.3, 0.5]), np.array([1.5, 2.0, 3.0])),
    _dirichlet_row(
        "dirichlet.logpdf-points", np.array([[0.2, 0.5], [0.3, 0.1], [0.5, 0.4]]), np.array([0.7, 2.0, 3.0])
    ),
    Row(
        "dirichlet.logpdf-k-minus-1",
        scipy_stats.dirichlet.logpdf,
        "scipy.stats.dirichlet.logpdf",
        [np.array([0.2, 0.3]), np.array([1.5, 2.0, 3.0])],
        {},
        (0, 1),
        direction=_k_minus_1,
    ),
    # np13p: lognorm, weibull_min, skewnorm (every parameter, broadcast, the left tail of skewnorm's Phi(a z)),
    # binom in p (counts 0 and n, where one term of the derivative is exactly 0), nbinom in n (real) and p
    Row(
        "lognorm.logpdf",
        scipy_stats.lognorm.logpdf,
        "scipy.stats.lognorm.logpdf",
        [R.uniform(0.3, 4, 3), 0.7, -0.2, 1.3],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "lognorm.logpdf-broadcast",
        scipy_stats.lognorm.logpdf,
        "scipy.stats.lognorm.logpdf",
        [R.uniform(0.3, 4, (2, 3)), R.uniform(0.4, 1.5, 3)],
        {"scale": 2.0},
        (0, 1),
    ),
    Row(
        "weibull_min.logpdf",
        scipy_stats.weibull_min.logpdf,
        "scipy.stats.weibull_min.logpdf",
        [R.uniform(0.2, 3, 3), 1.7, 0.1, 0.9],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "weibull_min.logpdf-c-below-1",
        scipy_stats.weibull_min.logpdf,
        "scipy.stats.weibull_min.logpdf",
        [R.uniform(0.2, 3, (2, 3)), R.uniform(0.4, 0.9, (2, 1))],
        {},
        (0, 1),
    ),
    Row(
        "skewnorm.logpdf",
        scipy_stats.skewnorm.logpdf,
        "scipy.stats.skewnorm.logpdf",
        [R.standard_normal(3), 2.5, 0.3, 1.4],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "skewnorm.logpdf-left-tail",
        scipy_stats.skewnorm.logpdf,
        "scipy.stats.skewnorm.logpdf",
        [np.array([-3.0, -1.0, 0.0, 2.0]), np.array([4.0, -2.0, 0.5, 3.0])],
        {"loc": 0.2},
        (0, 1),
    ),
    Row(
        "binom.logpmf",
        scipy_stats.binom.logpmf,
        "scipy.stats.binom.logpmf",
        [np.array([0, 3, 7, 10]), 10, 0.35],
        {},
        (2,),
    ),
    Row(
        "binom.logpmf-p-array",
        scipy_stats.binom.logpmf,
        "scipy.stats.binom.logpmf",
        [np.array([[1], [4]]), np.array([5, 6, 8]), R.uniform(0.1, 0.9, 3)],
        {},
        (2,),
    ),
    Row(
        "nbinom.logpmf",
        scipy_stats.nbinom.logpmf,
        "scipy.stats.nbinom.logpmf",
        [np.array([0, 2, 9]), 3.5, 0.4],
        {},
        (1, 2),
    ),
    Row(
        "nbinom.logpmf-broadcast",
        scipy_stats.nbinom.logpmf,
        "scipy.stats.nbinom.logpmf",
        [np.array([[0], [3]]), R.uniform(0.5, 4, 3), R.uniform(0.1, 0.9, (2, 1))],
        {"loc": 0},
        (1, 2),
    ),
]


# (session 22) more families: every parameter, broadcast, on their supports
S = "scipy.stats."
XP = R.uniform(1.2, 3.0, 3)  # (x > loc, and x / scale >= 1 for pareto)
TABLE += [
    Row("halfnorm.logpdf", scipy_stats.halfnorm.logpdf, S + "halfnorm.logpdf", [XP, 0.3, 1.5], {}, (0, 1, 2)),
    Row("halfcauchy.logpdf", scipy_stats.halfcauchy.logpdf, S + "halfcauchy.logpdf", [XP, 0.3, 1.5], {}, (0, 1, 2)),
    Row("gumbel_r.logpdf", scipy_stats.gumbel_r.logpdf, S + "gumbel_r.logpdf", [X3, 0.3, 1.5], {}, (0, 1, 2)),
    Row("gumbel_l.logpdf", scipy_stats.gumbel_l.logpdf, S + "gumbel_l.logpdf", [X3, 0.3, 1.5], {}, (0, 1, 2)),
    Row("rayleigh.logpdf", scipy_stats.rayleigh.logpdf, S + "rayleigh.logpdf", [XP, 0.3, 1.5], {}, (0, 1, 2)),
    Row("invgamma.logpdf", scipy_stats.invgamma.logpdf, S + "invgamma.logpdf", [XP, 2.5, 0.3, 1.5], {}, (0, 1, 2, 3)),
    Row(
        "invgamma.logpdf-broadcast",
        scipy_stats.invgamma.logpdf,
        S + "invgamma.logpdf",
        [XP, R.uniform(1, 3, (2, 1)), 0.1, 0.8],
        {},
        (0, 1),
    ),
    Row("pareto.logpdf", scipy_stats.pareto.logpdf, S + "pareto.logpdf", [XP + 1.0, 2.5, 0.3, 0.9], {}, (0, 1, 2, 3)),
    Row(
        "bernoulli.logpmf",
        scipy_stats.bernoulli.logpmf,
        S + "bernoulli.logpmf",
        [np.array([0, 1, 1, 0]), R.uniform(0.1, 0.9, 4)],
        {},
        (1,),
    ),
    Row(
        "bernoulli.logpmf-loc",
        scipy_stats.bernoulli.logpmf,
        S + "bernoulli.logpmf",
        [np.array([2, 3]), 0.3],
        {"loc": 2},
        (1,),
    ),
    Row("geom.logpmf", scipy_stats.geom.logpmf, S + "geom.logpmf", [np.array([1, 2, 5]), 0.35], {}, (1,)),
    Row(
        "geom.logpmf-p-array",
        scipy_stats.geom.logpmf,
        S + "geom.logpmf",
        [np.array([[1], [4]]), R.uniform(0.1, 0.9, 3)],
        {},
        (1,),
    ),
]


# ---- scipy23: the cdfs of the location-scale families (cdf, sf, logcdf, logsf), every parameter; a point below
# the support (where the cdf is constant) in the cdf and sf rows, in-support points for the logs (-inf below)
XB = np.array([-0.7, 0.4, 1.1, 2.6])  # with loc 0.2: one point below the support of expon, halfnorm, rayleigh
XIN = np.array([0.5, 1.1, 2.6])
_CDFS = [
    (fam, method)
    for fam in ("expon", "laplace", "halfnorm", "gumbel_r", "gumbel_l", "rayleigh")
    for method in ("cdf", "sf", "logcdf", "logsf")
]
for _fam, _method in _CDFS:
    _fn = getattr(getattr(scipy_stats, _fam), _method)
    _x = XIN if _method.startswith("log") else XB
    TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [_x, 0.2, 1.3], {}, (0, 1, 2)))
TABLE += [
    Row(
        "expon.cdf-broadcast",
        scipy_stats.expon.cdf,
        S + "expon.cdf",
        [R.uniform(0.5, 3, (2, 3)), R.uniform(0.0, 0.4, 3), R.uniform(0.5, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("gumbel_l.logcdf-keywords", scipy_stats.gumbel_l.logcdf, S + "gumbel_l.logcdf", [XB], {"loc": 0.3}, (0,)),
    Row(
        "laplace.logsf-tails",
        scipy_stats.laplace.logsf,
        S + "laplace.logsf",
        [np.array([-30.0, -1.0, 0.5, 30.0])],
        {},
        (0,),
    ),
]


XS = np.array([-0.4, 0.9, 1.6, 3.2])  # with loc 0.1 and scale 1.2: one point below each support (y < 1 for pareto)
for _fam, _shape, _methods in (
    ("lognorm", 0.7, ("cdf", "sf")),
    ("weibull_min", 1.6, ("cdf", "sf", "logsf")),
    ("pareto", 2.5, ("cdf", "sf", "logsf")),
):
    for _method in _methods:
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [XS, _shape, 0.1, 1.2], {}, (0, 1, 2, 3)))
TABLE += [
    Row(
        "weibull_min.cdf-broadcast",
        scipy_stats.weibull_min.cdf,
        S + "weibull_min.cdf",
        [R.uniform(0.2, 3, (2, 3)), R.uniform(0.5, 2.5, (2, 1))],
        {"scale": 1.5},
        (0, 1),
    ),
]


# scipy23: von Mises, truncated normal (a and b in standard units), F, beta-binomial
TABLE += [
    Row(
        "vonmises.logpdf",
        scipy_stats.vonmises.logpdf,
        S + "vonmises.logpdf",
        [X3 * 2.0, 1.7, 0.3, 1.4],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "vonmises.logpdf-large-kappa",
        scipy_stats.vonmises.logpdf,
        S + "vonmises.logpdf",
        [np.array([[0.1], [-0.2]]), np.array([40.0, 800.0, 0.5])],
        {},
        (0, 1),
    ),
    Row(
        "truncnorm.logpdf",
        scipy_stats.truncnorm.logpdf,
        S + "truncnorm.logpdf",
        [np.array([-0.9, 0.3, 2.4]), -0.8, 1.5, 0.2, 1.6],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "truncnorm.logpdf-right-tail",
        scipy_stats.truncnorm.logpdf,
        S + "truncnorm.logpdf",
        [np.array([5.2, 5.9]), 5.0, np.array([6.0, 7.0])],
        {},
        (0, 1, 2),
    ),
    Row(
        "truncnorm.cdf",
        scipy_stats.truncnorm.cdf,
        S + "truncnorm.cdf",
        [np.array([-3.0, -0.9, 0.3, 2.4, 5.0]), -0.8, 1.5, 0.2, 1.6],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "truncnorm.cdf-right-tail",
        scipy_stats.truncnorm.cdf,
        S + "truncnorm.cdf",
        [np.array([5.2, 5.9]), 5.0, np.array([6.0, 7.0])],
        {},
        (0, 1, 2),
        rtol=1e-4,
    ),
    Row(
        "f.logpdf",
        scipy_stats.f.logpdf,
        S + "f.logpdf",
        [R.uniform(0.4, 3, 3), 3.5, 6.0, 0.1, 1.2],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "f.logpdf-broadcast",
        scipy_stats.f.logpdf,
        S + "f.logpdf",
        [R.uniform(0.4, 3, (2, 3)), R.uniform(1, 8, (2, 1)), R.uniform(2, 9, 3)],
        {},
        (0, 1, 2),
    ),
    Row(
        "betabinom.logpmf",
        scipy_stats.betabinom.logpmf,
        S + "betabinom.logpmf",
        [np.array([0, 3, 7, 10]), 10, 2.5, 1.5],
        {},
        (2, 3),
    ),
    Row(
        "betabinom.logpmf-broadcast",
        scipy_stats.betabinom.logpmf,
        S + "betabinom.logpmf",
        [np.array([[1], [4]]), np.array([5, 6, 8]), R.uniform(0.5, 3, 3), R.uniform(0.5, 3, (2, 1))],
        {"loc": 0},
        (2, 3),
    ),
]


def _along_simplex(i, rng, shape):
    # a direction of p whose parts sum to zero over the last axis (SciPy takes the last p as 1 - the others')
    d = rng.standard_normal(shape)
    return d - np.mean(d, axis=-1, keepdims=True)


TABLE += [
    Row(
        "multinomial.logpmf",
        scipy_stats.multinomial.logpmf,
        S + "multinomial.logpmf",
        [np.array([2, 0, 3]), 5, np.array([0.2, 0.5, 0.3])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (3,)),
    ),
    Row(
        "multinomial.logpmf-rows",
        scipy_stats.multinomial.logpmf,
        S + "multinomial.logpmf",
        [np.array([[2, 0, 3, 1], [1, 1, 3, 1]]), 6, np.array([[0.1, 0.4, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25]])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (2, 4)),
    ),
    Row(
        "multinomial.logpmf-broadcast-p",
        scipy_stats.multinomial.logpmf,
        S + "multinomial.logpmf",
        [np.array([[2, 0, 3], [1, 1, 3]]), 5, np.array([0.2, 0.5, 0.3])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (3,)),
    ),
]


# scipy23: binom's pmf, cdf and sf, nbinom's cdf and sf, geom's cdf, sf and logsf in p; counts below, inside and
# above the support (where the cdf is 0 or 1: derivative 0), a non-integer k (floored, as SciPy does)
KB = np.array([-1, 0, 3, 6.5, 10, 12])
TABLE += [
    Row("binom.pmf", scipy_stats.binom.pmf, S + "binom.pmf", [KB, 10, 0.35], {}, (2,)),
    Row("binom.cdf", scipy_stats.binom.cdf, S + "binom.cdf", [KB, 10, 0.35], {}, (2,)),
    Row(
        "binom.cdf-broadcast",
        scipy_stats.binom.cdf,
        S + "binom.cdf",
        [np.array([[1], [4]]), np.array([5, 6, 8]), R.uniform(0.1, 0.9, 3)],
        {"loc": 1},
        (2,),
    ),
    Row("binom.sf", scipy_stats.binom.sf, S + "binom.sf", [KB, 10, 0.62], {}, (2,)),
    Row("nbinom.cdf", scipy_stats.nbinom.cdf, S + "nbinom.cdf", [KB, 3.5, 0.4], {}, (2,)),
    Row(
        "nbinom.cdf-broadcast",
        scipy_stats.nbinom.cdf,
        S + "nbinom.cdf",
        [np.array([[0], [3]]), R.uniform(0.5, 4, 3), R.uniform(0.1, 0.9, (2, 1))],
        {},
        (2,),
    ),
    Row("nbinom.sf", scipy_stats.nbinom.sf, S + "nbinom.sf", [KB, 2.0, 0.55], {}, (2,)),
    Row("geom.cdf", scipy_stats.geom.cdf, S + "geom.cdf", [KB, 0.35], {}, (1,)),
    Row("geom.sf", scipy_stats.geom.sf, S + "geom.sf", [KB, 0.35], {}, (1,)),
    Row("geom.logsf", scipy_stats.geom.logsf, S + "geom.logsf", [KB, R.uniform(0.1, 0.9, 6)], {"loc": -1}, (1,)),
]


# scipy23: multivariate_t.logpdf in x, loc, shape (its lower triangle, a diagonal, a number) and df
_XT = R.standard_normal((4, 3))
TABLE += [
    Row(
        "multivariate_t.logpdf",
        scipy_stats.multivariate_t.logpdf,
        S + "multivariate_t.logpdf",
        [_XT, R.standard_normal(3), _spd(R, 3), 4.5],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "multivariate_t.logpdf-one-point-diagonal",
        scipy_stats.multivariate_t.logpdf,
        S + "multivariate_t.logpdf",
        [R.standard_normal(2), R.standard_normal(2), R.uniform(0.5, 2, 2), 2.5],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "multivariate_t.logpdf-scalar-shape",
        scipy_stats.multivariate_t.logpdf,
        S + "multivariate_t.logpdf",
        [R.standard_normal(3), None, 1.7, 3.0],
        {},
        (0, 2, 3),
    ),
    Row(
        "multivariate_t.logpdf-keywords",
        scipy_stats.multivariate_t.logpdf,
        S + "multivariate_t.logpdf",
        [_XT],
        {"loc": np.zeros(3), "shape": 2.0, "df": 5},
        (0,),
    ),
]


# scipy24: quantiles (ppf, isf) of the location-scale families and t (in q, loc, scale; t's df refused), uniform's
# distribution functions (points below, inside and above [loc, loc + scale]), the log-cdfs of lognorm, weibull_min and
# pareto (in-support points where the log is -inf below), skewnorm's cdf and sf (Owen's T in a)
QS = R.uniform(0.05, 0.95, 3)
for _fam in ("expon", "logistic", "cauchy", "laplace", "gumbel_r", "gumbel_l", "rayleigh", "halfnorm", "uniform"):
    for _method in ("ppf", "isf"):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [QS, 0.3, 1.4], {}, (0, 1, 2)))
for _fam, _shape in (("lognorm", 0.7), ("weibull_min", 1.6), ("pareto", 2.5)):
    for _method in ("ppf", "isf"):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [QS, _shape, 0.3, 1.4], {}, (0, 1, 2, 3)))
XU = np.array([-0.7, 0.4, 1.1, 2.6])  # with loc 0.2, scale 1.3: below, inside (2) and above the support
TABLE += [
    Row(
        "logistic.ppf-broadcast",
        scipy_stats.logistic.ppf,
        S + "logistic.ppf",
        [R.uniform(0.05, 0.95, (2, 3)), R.standard_normal(3), R.uniform(0.5, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("expon.isf-keywords", scipy_stats.expon.isf, S + "expon.isf", [QS], {"scale": 2.0}, (0,)),
    Row("t.ppf", scipy_stats.t.ppf, S + "t.ppf", [QS, 3.5, 0.2, 1.3], {}, (0, 2, 3)),
    Row("t.isf", scipy_stats.t.isf, S + "t.isf", [QS, 2.5, -0.2, 0.7], {}, (0, 2, 3)),
    Row(
        "t.ppf-broadcast",
        scipy_stats.t.ppf,
        S + "t.ppf",
        [R.uniform(0.05, 0.95, (2, 3)), np.array([2.0, 4.0, 9.0])],
        {},
        (0,),
    ),
    Row("uniform.cdf", scipy_stats.uniform.cdf, S + "uniform.cdf", [XU, 0.2, 1.3], {}, (0, 1, 2)),
    Row("uniform.sf", scipy_stats.uniform.sf, S + "uniform.sf", [XU, 0.2, 1.3], {}, (0, 1, 2)),
    Row("uniform.logcdf", scipy_stats.uniform.logcdf, S + "uniform.logcdf", [XU[1:], 0.2, 1.3], {}, (0, 1, 2)),
    Row("uniform.logsf", scipy_stats.uniform.logsf, S + "uniform.logsf", [XU[:3], 0.2, 1.3], {}, (0, 1, 2)),
    Row(
        "uniform.cdf-broadcast",
        scipy_stats.uniform.cdf,
        S + "uniform.cdf",
        [R.uniform(0.3, 1.5, (2, 3)), R.uniform(0.0, 0.2, 3), R.uniform(1.5, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("lognorm.logcdf", scipy_stats.lognorm.logcdf, S + "lognorm.logcdf", [XS[1:], 0.7, 0.1, 1.2], {}, (0, 1, 2, 3)),
    Row("lognorm.logsf", scipy_stats.lognorm.logsf, S + "lognorm.logsf", [XS, 0.7, 0.1, 1.2], {}, (0, 1, 2, 3)),
    Row(
        "lognorm.logcdf-tails",
        scipy_stats.lognorm.logcdf,
        S + "lognorm.logcdf",
        [np.array([1e-3, 0.3, 40.0]), 0.4],
        {},
        (0, 1),
        rtol=1e-4,
    ),
    Row(
        "weibull_min.logcdf",
        scipy_stats.weibull_min.logcdf,
        S + "weibull_min.logcdf",
        [XS[1:], 1.6, 0.1, 1.2],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "pareto.logcdf",
        scipy_stats.pareto.logcdf,
        S + "pareto.logcdf",
        [np.array([1.5, 1.9, 3.2]), 2.5, 0.1, 1.2],
        {},
        (0, 1, 2, 3),
    ),
    Row("skewnorm.cdf", scipy_stats.skewnorm.cdf, S + "skewnorm.cdf", [X3, 1.7, 0.2, 1.3], {}, (0, 1, 2, 3)),
    Row("skewnorm.sf", scipy_stats.skewnorm.sf, S + "skewnorm.sf", [X3, -2.5, 0.2, 1.3], {}, (0, 1, 2, 3)),
    Row(
        "skewnorm.cdf-broadcast",
        scipy_stats.skewnorm.cdf,
        S + "skewnorm.cdf",
        [R.standard_normal((2, 3)), R.uniform(-3, 3, (2, 1))],
        {"scale": 1.5},
        (0, 1),
    ),
]


# scipy24: wishart and invwishart logpdf in X (stacked points, one point, numbers), df and scale, along symmetric
# directions (their gradients are the symmetric ones: SciPy reads one triangle of each, which one by version)
def _symmetric(i, rng, shape):
    d = rng.standard_normal(shape)
    return (d + np.swapaxes(d, 0, 1)) / 2.0 if len(shape) >= 2 else d


def _wishart_rows(name, fn):
    points = np.stack([_spd(R, 3) for _ in range(4)], -1)
    scale = _spd(R, 3)
    return [  # (numbers first: test_tangents compiles the first row of each function, along random directions)
        Row(name + ".logpdf-numbers", fn, S + name + ".logpdf", [np.array([0.7, 1.3]), 2.5, 1.4], {}, (0, 1, 2)),
        Row(
            name + ".logpdf",
            fn,
            S + name + ".logpdf",
            [points, 5.5, scale],
            {},
            (0, 1, 2),
            direction=lambda i, rng: _symmetric(i, rng, np.shape([points, 5.5, scale][i])),
        ),
        Row(
            name + ".logpdf-one-point",
            fn,
            S + name + ".logpdf",
            [points[:, :, 0], 4.2, scale],
            {},
            (0, 1, 2),
            direction=lambda i, rng: _symmetric(i, rng, (3, 3) if i != 1 else ()),
        ),
    ]


TABLE += _wishart_rows("wishart", scipy_stats.wishart.logpdf) + _wishart_rows(
    "invwishart", scipy_stats.invwishart.logpdf
)


# scipy25: the pmfs of bernoulli, geom, nbinom and multinomial by hand (counts off the support and non-integer ones
# included, p near 0 and 1), binom's log-cdfs, bernoulli's distribution functions, geom's logcdf, nbinom's logcdf and
# logsf in p (n refused: test_cdf_in_a_shape_is_refused_at_compile_time_and_in_x_is_fine); p exactly 0 or 1:
# test_pmfs_at_p_zero_and_one_by_hand
KZ = np.array([-1, 0, 0.5, 1, 2])  # bernoulli: below, 0, not an integer, 1, above
PE = np.array([1e-3, 0.3, 0.6, 0.999])  # p near 0 and 1
KE = np.array([[1], [2], [5]])
TABLE += [
    Row("bernoulli.pmf", scipy_stats.bernoulli.pmf, S + "bernoulli.pmf", [KZ, 0.3], {}, (1,)),
    Row("bernoulli.pmf-near-edges", scipy_stats.bernoulli.pmf, S + "bernoulli.pmf", [KE - 1, PE], {"loc": -1}, (1,)),
    Row("bernoulli.cdf", scipy_stats.bernoulli.cdf, S + "bernoulli.cdf", [KZ, 0.3], {}, (1,)),
    Row("bernoulli.sf", scipy_stats.bernoulli.sf, S + "bernoulli.sf", [KZ, 0.3], {}, (1,)),
    Row("bernoulli.logcdf", scipy_stats.bernoulli.logcdf, S + "bernoulli.logcdf", [KZ[1:], 0.3], {}, (1,)),
    Row("bernoulli.logsf", scipy_stats.bernoulli.logsf, S + "bernoulli.logsf", [KZ[:3], 0.3], {}, (1,)),
    Row("bernoulli.logcdf-near-edges", scipy_stats.bernoulli.logcdf, S + "bernoulli.logcdf", [0.0, PE], {}, (1,)),
    Row("geom.pmf", scipy_stats.geom.pmf, S + "geom.pmf", [KB, 0.35], {}, (1,)),
    Row("geom.pmf-near-edges", scipy_stats.geom.pmf, S + "geom.pmf", [KE, PE], {}, (1,)),
    Row("geom.logcdf", scipy_stats.geom.logcdf, S + "geom.logcdf", [KB[1:], 0.35], {"loc": -1}, (1,)),
    Row("geom.logcdf-near-edges", scipy_stats.geom.logcdf, S + "geom.logcdf", [KE, PE], {}, (1,)),
    Row("nbinom.pmf", scipy_stats.nbinom.pmf, S + "nbinom.pmf", [KB, 3.5, 0.4], {}, (1, 2)),
    Row("nbinom.pmf-near-edges", scipy_stats.nbinom.pmf, S + "nbinom.pmf", [KE - 1, 0.7, PE], {}, (1, 2)),
    Row(
        "nbinom.pmf-broadcast",
        scipy_stats.nbinom.pmf,
        S + "nbinom.pmf",
        [np.array([[0], [3]]), R.uniform(0.5, 4, 3), R.uniform(0.1, 0.9, (2, 1))],
        {"loc": 0},
        (1, 2),
    ),
    Row("nbinom.logcdf", scipy_stats.nbinom.logcdf, S + "nbinom.logcdf", [KB[1:], 2.5, 0.4], {}, (2,)),
    Row("nbinom.logsf", scipy_stats.nbinom.logsf, S + "nbinom.logsf", [KB, 2.5, 0.4], {}, (2,)),
    Row("nbinom.logcdf-near-edges", scipy_stats.nbinom.logcdf, S + "nbinom.logcdf", [KE, 1.5, PE], {}, (2,)),
    Row("binom.pmf-near-edges", scipy_stats.binom.pmf, S + "binom.pmf", [KE, 6, PE], {}, (2,)),
    Row("binom.logcdf", scipy_stats.binom.logcdf, S + "binom.logcdf", [KB[1:4], 10, 0.35], {}, (2,)),
    Row("binom.logsf", scipy_stats.binom.logsf, S + "binom.logsf", [KB[:4], 10, 0.62], {}, (2,)),
    Row("binom.logcdf-near-edges", scipy_stats.binom.logcdf, S + "binom.logcdf", [KE, 6, PE], {}, (2,), rtol=1e-4),
    Row(
        "multinomial.pmf",
        scipy_stats.multinomial.pmf,
        S + "multinomial.pmf",
        [np.array([2, 0, 3]), 5, np.array([0.2, 0.5, 0.3])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (3,)),
    ),
    Row(
        "multinomial.pmf-rows",
        scipy_stats.multinomial.pmf,
        S + "multinomial.pmf",
        [np.array([[2, 0, 3, 1], [1, 1, 3, 1]]), np.array([6, 6]), np.array([[0.1, 0.4, 0.3, 0.2], [0.25] * 4])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (2, 4)),
    ),
    Row(
        "multinomial.pmf-broadcast-p",
        scipy_stats.multinomial.pmf,
        S + "multinomial.pmf",
        [np.array([[2, 0, 3], [1, 1, 3]]), 5, np.array([0.2, 0.5, 0.3])],
        {},
        (2,),
        direction=lambda i, rng: _along_simplex(i, rng, (3,)),
    ),
]

# scipy25: skewnorm's logcdf, logsf, ppf and isf; truncnorm's sf, logcdf, logsf (in-support points for the logs: off
# it they are -inf), ppf and isf, and a truncation far in the right tail; gamma's, chi2's and beta's quantiles in q,
# loc and scale (their shapes refused)
XT = np.array([-0.9, -0.2, 0.6, 1.4])  # with a = -1, b = 1.5 (standard units), loc 0.1, scale 1.2
TABLE += [
    Row(
        "skewnorm.logcdf",
        scipy_stats.skewnorm.logcdf,
        S + "skewnorm.logcdf",
        [np.array([-4.0, -0.5, 0.8, 3.0]), 1.7, 0.2, 1.3],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "skewnorm.logsf",
        scipy_stats.skewnorm.logsf,
        S + "skewnorm.logsf",
        [np.array([-3.0, -0.5, 0.8, 4.0]), -2.5, 0.2, 1.3],
        {},
        (0, 1, 2, 3),
    ),
    Row(
        "skewnorm.logcdf-broadcast",
        scipy_stats.skewnorm.logcdf,
        S + "skewnorm.logcdf",
        [R.standard_normal((2, 3)), R.uniform(-3, 3, (2, 1))],
        {"scale": 1.5},
        (0, 1),
    ),
    Row("skewnorm.ppf", scipy_stats.skewnorm.ppf, S + "skewnorm.ppf", [QS, 1.7, 0.2, 1.3], {}, (0, 1, 2, 3)),
    Row("skewnorm.isf", scipy_stats.skewnorm.isf, S + "skewnorm.isf", [QS, -2.5, 0.2, 1.3], {}, (0, 1, 2, 3)),
    Row(
        "skewnorm.ppf-tails",
        scipy_stats.skewnorm.ppf,
        S + "skewnorm.ppf",
        [np.array([1e-4, 0.5, 0.9999]), np.array([[4.0], [-4.0]])],
        {},
        (0, 1),
        rtol=1e-4,
    ),
    Row("truncnorm.sf", scipy_stats.truncnorm.sf, S + "truncnorm.sf", [XT, -1.0, 1.5, 0.1, 1.2], {}, (0, 1, 2, 3, 4)),
    Row(
        "truncnorm.logcdf",
        scipy_stats.truncnorm.logcdf,
        S + "truncnorm.logcdf",
        [XT[1:], -1.0, 1.5, 0.1, 1.2],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "truncnorm.logsf",
        scipy_stats.truncnorm.logsf,
        S + "truncnorm.logsf",
        [XT[:3], -1.0, 1.5, 0.1, 1.2],
        {},
        (0, 1, 2, 3, 4),
    ),
    Row(
        "truncnorm.logcdf-right-tail",
        scipy_stats.truncnorm.logcdf,
        S + "truncnorm.logcdf",
        [np.array([6.1, 6.5, 7.5]), 6.0, 9.0],
        {},
        (0, 1, 2),
        rtol=1e-4,
    ),
    Row(
        "truncnorm.logsf-right-tail",
        scipy_stats.truncnorm.logsf,
        S + "truncnorm.logsf",
        [np.array([6.1, 6.5, 7.5]), 6.0, 9.0],
        {},
        (0, 1, 2),
        rtol=1e-4,
    ),
    Row(
        "truncnorm.ppf", scipy_stats.truncnorm.ppf, S + "truncnorm.ppf", [QS, -1.0, 1.5, 0.1, 1.2], {}, (0, 1, 2, 3, 4)
    ),
    Row(
        "truncnorm.isf", scipy_stats.truncnorm.isf, S + "truncnorm.isf", [QS, -0.5, 2.0, 0.1, 1.2], {}, (0, 1, 2, 3, 4)
    ),
    Row(
        "truncnorm.ppf-right-tail",
        scipy_stats.truncnorm.ppf,
        S + "truncnorm.ppf",
        [QS, 6.0, np.array([[7.0], [np.inf]])],
        {},
        (0, 1),
        rtol=1e-4,
    ),
    Row(
        "truncnorm.sf-broadcast",
        scipy_stats.truncnorm.sf,
        S + "truncnorm.sf",
        [R.uniform(-0.5, 0.5, (2, 3)), R.uniform(-2, -1, 3), R.uniform(1, 2, (2, 1))],
        {},
        (0, 1, 2),
    ),
    Row("gamma.ppf", scipy_stats.gamma.ppf, S + "gamma.ppf", [QS, 2.5, 0.2, 1.5], {}, (0, 2, 3)),
    Row("gamma.isf", scipy_stats.gamma.isf, S + "gamma.isf", [QS, 0.7, 0.2, 1.5], {}, (0, 2, 3)),
    Row("chi2.ppf", scipy_stats.chi2.ppf, S + "chi2.ppf", [QS, 3.0, -0.2, 0.8], {}, (0, 2, 3)),
    Row("chi2.isf", scipy_stats.chi2.isf, S + "chi2.isf", [QS, 5.5, -0.2, 0.8], {}, (0, 2, 3)),
    Row("beta.ppf", scipy_stats.beta.ppf, S + "beta.ppf", [QS, 2.5, 1.5, -0.1, 1.2], {}, (0, 3, 4)),
    Row("beta.isf", scipy_stats.beta.isf, S + "beta.isf", [QS, 0.8, 3.0, -0.1, 1.2], {}, (0, 3, 4)),
    Row(
        "gamma.ppf-tails",
        scipy_stats.gamma.ppf,
        S + "gamma.ppf",
        [np.array([1e-4, 0.5, 0.9999]), np.array([[0.5], [3.0]])],
        {},
        (0,),
        rtol=1e-4,
    ),
    Row("beta.ppf-keywords", scipy_stats.beta.ppf, S + "beta.ppf", [QS, 2.0, 3.0], {"scale": 2.0}, (0,)),
]


# scipy25: the distribution functions and quantiles of halfcauchy (every argument), invgamma, f and vonmises (in x or
# q, loc and scale; their shapes refused), points below the support for the cdfs and sfs
XH = np.array([-0.4, 0.9, 1.6, 3.2])  # with loc 0.1 and scale 1.2: one point below the support
for _fam, _shapes in (("halfcauchy", ()), ("invgamma", (2.5,)), ("f", (3.5, 6.0)), ("vonmises", (1.8,))):
    _diff = (0,) + tuple(range(len(_shapes) + 1, len(_shapes) + 3)) if _shapes else (0, 1, 2)
    for _method, _x in (("cdf", XH), ("sf", XH), ("logcdf", XH[1:]), ("logsf", XH), ("ppf", QS), ("isf", QS)):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [_x, *_shapes, 0.1, 1.2], {}, _diff))
TABLE += [
    Row(
        "halfcauchy.logsf-tail",
        scipy_stats.halfcauchy.logsf,
        S + "halfcauchy.logsf",
        [np.array([0.01, 50.0, 1e4])],
        {},
        (0,),
        rtol=1e-4,
    ),
    Row(
        "vonmises.cdf-beyond-pi",
        scipy_stats.vonmises.cdf,
        S + "vonmises.cdf",
        [np.array([-4.0, 3.5, 7.0]), np.array([[0.5], [4.0]])],
        {},
        (0,),
    ),
    Row(
        "invgamma.ppf-tails",
        scipy_stats.invgamma.ppf,
        S + "invgamma.ppf",
        [np.array([1e-3, 0.999]), 0.7],
        {},
        (0,),
        rtol=1e-4,
    ),
    Row(
        "f.logcdf-broadcast",
        scipy_stats.f.logcdf,
        S + "f.logcdf",
        [R.uniform(0.2, 3.0, (2, 3)), R.uniform(1.0, 5.0, 3), np.array([[4.0], [9.0]])],
        {},
        (0,),
    ),
]


# scipy25: mean, median, std, var and entropy of the location-scale families without a shape, in loc and scale (std,
# var and entropy are constant in loc: test_moments_are_constant_in_loc_where_they_should_be); no mean, std or var rule
# for cauchy and halfcauchy, whose moments are nan or infinite
for _fam in ("norm", "expon", "laplace", "logistic", "cauchy", "halfnorm", "halfcauchy", "gumbel_r", "gumbel_l"):
    for _method in ("mean", "median", "std", "var", "entropy"):
        if _fam.endswith("cauchy") and _method in ("mean", "std", "var"):
            continue
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        _diff = (0, 1) if _method in ("mean", "median") else (1,)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [X3, R.uniform(0.5, 2, 3)], {}, _diff))
for _fam in ("rayleigh", "uniform"):
    for _method in ("mean", "median", "std", "var", "entropy"):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        _diff = (0, 1) if _method in ("mean", "median") else (1,)
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [0.3, 1.4], {}, _diff))


# scipy25: mean, var and std of gamma, chi2, beta (in the shapes and scale; the mean in loc) and of poisson, binom,
# bernoulli and geom (in mu or p; the mean in loc)
_SHAPED = {"gamma": [R.uniform(0.5, 3, 3)], "chi2": [R.uniform(1, 6, 3)], "beta": [R.uniform(0.5, 3, 3), 1.7]}
for _fam, _shapes in _SHAPED.items():
    for _method in ("mean", "var", "std"):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        _n = len(_shapes)
        _diff = tuple(range(_n)) + ((_n, _n + 1) if _method == "mean" else (_n + 1,))
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [*_shapes, 0.3, 1.4], {}, _diff))
_COUNTED = {
    "poisson": ([R.uniform(0.5, 4, 3)], (0,)),
    "binom": ([np.array([3, 7, 10]), R.uniform(0.05, 0.95, 3)], (1,)),
    "bernoulli": ([R.uniform(0.05, 0.95, 3)], (0,)),
    "geom": ([np.array([0.02, 0.5, 0.97])], (0,)),
}
for _fam, (_shapes, _diff) in _COUNTED.items():
    for _method in ("mean", "var", "std"):
        _fn = getattr(getattr(scipy_stats, _fam), _method)
        _d = _diff + ((len(_shapes),) if _method == "mean" else ())
        TABLE.append(Row(_fam + "." + _method, _fn, S + _fam + "." + _method, [*_shapes, 1.5], {}, _d))


# scipy24: the densities made from the log-densities' rules (registry.exp_of): each family's logpdf (logpmf) rows again,
# for the pdf (pmf), against central differences of SciPy's pdf itself
_EXP_OF = ("expon", "laplace", "halfnorm", "gumbel_r", "gumbel_l", "rayleigh", "weibull_min", "pareto", "lognorm")
_EXP_OF += ("truncnorm", "uniform", "skewnorm", "halfcauchy", "invgamma", "vonmises", "f", "multivariate_t")
_EXP_OF += ("betabinom", "wishart", "invwishart")
for _row in list(TABLE):
    _family, _, _method = _row.spelling[len(S) :].partition(".")
    if _family in _EXP_OF and _method in ("logpdf", "logpmf"):
        _fn = getattr(getattr(scipy_stats, _family), _method[3:])
        TABLE.append(
            _row._replace(name=_row.name.replace(".log", ".", 1), fn=_fn, spelling=S + _family + "." + _method[3:])
        )


COMPILED = compiled_rows(
    TABLE,
    also=(
        "multivariate_normal.logpdf-rows",
        "multivariate_normal.logpdf-nonsymmetric-cov",
        "dirichlet.logpdf-points",
        "multivariate_normal.pdf-rows",
        "poisson.cdf-broadcast",
        "multivariate_normal.logpdf-allow-singular-full-rank",
        "multivariate_normal.entropy-diagonal-cov",
        "t.logcdf-broadcast",
        "beta.pdf-broadcast",
        "logistic.logpdf-broadcast",
        "cauchy.logsf-broadcast",
    ),
)


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_central_differences(row):
    check_row(row)


def test_every_rule_of_the_module_has_rows():
    from adjoint_compiler.rules import scipy_stats as rules_module

    mine = [r.fn for r in registry.all_rules().values() if r.origin == rules_module.__name__]
    assert len(mine) >= 45
    assert set(mine) == {r.fn for r in TABLE}


def test_a_fresh_bound_method_finds_the_rule():
    assert scipy_stats.norm.logpdf is not scipy_stats.norm.logpdf
    assert registry.lookup(scipy_stats.norm.logpdf) is registry.lookup(scipy_stats.norm.logpdf) is not None
    assert registry.lookup(scipy_stats.norm.logpdf) is not registry.lookup(scipy_stats.norm.pdf)


# ---- end-to-end ------------------------------------------------------------------------------------------------------


def negative_log_likelihood(mu, log_sigma, data):
    sigma = np.exp(log_sigma)
    return -np.sum(scipy_stats.norm.logpdf(data, mu, sigma)) - scipy_stats.t.logpdf(mu, 3.0, scale=2.0)


def gaussian_fit(x, mean, cov):
    return np.sum(scipy_stats.multivariate_normal.logpdf(x, mean, cov)) + scipy_stats.gamma.logpdf(cov[0, 0], 2.0)


def test_likelihoods_through_compiled_functions():
    data = R.standard_normal(5)
    check_grads(negative_log_likelihood, [0.3, -0.2, data], wrt=(0, 1))
    x, mean, cov = R.standard_normal((4, 2)), R.standard_normal(2), _spd(R, 2)
    check_grads(gaussian_fit, [x, mean, cov], wrt=(0, 1, 2))


# ---- refusals --------------------------------------------------------------------------------------------------------


def singular_allowed(x, cov):
    return scipy_stats.multivariate_normal.logpdf(x, np.zeros(2), cov, allow_singular=True)


def unknown_keyword(x, cov):
    return scipy_stats.multivariate_normal.logpdf(x, np.zeros(2), cov, allow_nonsingular=True)


def entropy_in_the_mean(mean, cov):
    return scipy_stats.multivariate_normal.entropy(mean, cov) * np.sum(mean)


def t_cdf_in_df(x, df):
    return scipy_stats.t.cdf(x, df)


def test_unmodelled_keyword_is_refused_by_name():
    with pytest.raises(ac.CompileError, match=r"test_scipy_stats.py:\d+:\d+: .*allow_nonsingular"):
        ac.grad(unknown_keyword)(np.ones(2), np.eye(2))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_a_singular_covariance_with_allow_singular_is_refused_when_the_gradient_runs(mode):
    # SciPy's density is -inf off the subspace of a singular covariance: no gradient in every direction
    cov = np.diag([1.0, 0.0])
    assert np.isfinite(singular_allowed(np.array([0.3, 0.0]), cov))
    assert singular_allowed(np.array([0.3, 1e-6]), cov) == -np.inf
    with pytest.raises(NotImplementedError, match="singular covariance"):
        if mode == "rev":
            ac.grad(singular_allowed)(np.array([0.3, 0.0]), cov)
        else:
            ac.jvp(singular_allowed)(np.array([0.3, 0.0]), cov, np.ones(2))


def test_entropy_is_constant_in_the_mean_and_half_the_log_determinant_in_cov():
    mean, cov = R.standard_normal(3), _spd(R, 3)
    check_grads(entropy_in_the_mean, [mean, cov], wrt=(0, 1))
    d_mean, d_cov = R.standard_normal(3), R.standard_normal((3, 3))
    value, tangent = ac.jvp(entropy_in_the_mean, wrt=(0, 1))(mean, cov, (d_mean, d_cov))
    eps = 1e-6
    fd = (
        entropy_in_the_mean(mean + eps * d_mean, cov + eps * d_cov)
        - entropy_in_the_mean(mean - eps * d_mean, cov - eps * d_cov)
    ) / (2 * eps)
    assert np.isclose(value, entropy_in_the_mean(mean, cov)) and np.isclose(tangent, fd, rtol=1e-6)
    # by hand: d/dmean = entropy * 1, d/dcov (symmetric direction E) = 1/2 tr(cov^-1 E) * sum(mean)
    g_mean, g_cov = ac.grad(entropy_in_the_mean, wrt=(0, 1))(mean, cov)
    assert np.allclose(g_mean, scipy_stats.multivariate_normal.entropy(mean, cov))
    e = np.array([[1.0, 0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 2.0]])
    by_hand = 0.5 * np.trace(np.linalg.solve(cov, e)) * np.sum(mean)
    assert np.isclose(np.sum(g_cov * e), by_hand)


def test_t_cdf_in_df_is_refused():
    with pytest.raises(
        ac.UnsupportedError, match=r"test_scipy_stats.py:\d+:\d+: .*t.cdf with respect to its parameter df"
    ):
        ac.grad(t_cdf_in_df, wrt=(0, 1))(0.3, 2.5)
    with pytest.raises(ac.UnsupportedError, match="t.cdf with respect to its parameter df"):
        ac.jvp(t_cdf_in_df, wrt=1)(0.3, 2.5, 1.0)
    check_grads(t_cdf_in_df, [0.3, 2.5], wrt=0)


def gamma_cdf(x, a):
    return np.sum(scipy_stats.gamma.cdf(x, a))


def beta_cdf(x, a, b):
    return np.sum(scipy_stats.beta.cdf(x, a, b))


def chi2_cdf(x, df):
    return np.sum(scipy_stats.chi2.cdf(x, df))


def gamma_tails(x, a):
    return np.sum(scipy_stats.gamma.logcdf(x, a) + scipy_stats.gamma.logsf(x, a) + scipy_stats.gamma.sf(x, a))


def beta_tails(x, a, b):
    return np.sum(scipy_stats.beta.logcdf(x, a, b) + scipy_stats.beta.logsf(x, a, b) + scipy_stats.beta.sf(x, a, b))


def chi2_tails(x, df):
    return np.sum(scipy_stats.chi2.logcdf(x, df) + scipy_stats.chi2.logsf(x, df) + scipy_stats.chi2.sf(x, df))


def t_logcdf(x, df):
    return np.sum(scipy_stats.t.logcdf(x, df) + scipy_stats.t.logsf(x, df) + scipy_stats.t.sf(x, df))


def t_quantiles(q, df):
    return np.sum(scipy_stats.t.ppf(q, df) + scipy_stats.t.isf(q, df, 0.5, 2.0))


def gamma_quantiles(q, a):
    return np.sum(scipy_stats.gamma.ppf(q, a) + scipy_stats.gamma.isf(q, a, 0.5, 2.0))


def chi2_quantiles(q, df):
    return np.sum(scipy_stats.chi2.ppf(q, df) + scipy_stats.chi2.isf(q, df, 0.5, 2.0))


def beta_quantiles(q, a, b):
    return np.sum(scipy_stats.beta.ppf(q, a, b) + scipy_stats.beta.isf(q, a, b, 0.5, 2.0))


def invgamma_all(x, a):
    return np.sum(
        scipy_stats.invgamma.cdf(x, a)
        + scipy_stats.invgamma.sf(x, a)
        + scipy_stats.invgamma.logcdf(x, a)
        + scipy_stats.invgamma.logsf(x, a)
        + scipy_stats.invgamma.ppf(x, a)
        + scipy_stats.invgamma.isf(x, a)
    )


def vonmises_all(x, kappa):
    return np.sum(
        scipy_stats.vonmises.cdf(x, kappa)
        + scipy_stats.vonmises.sf(x, kappa)
        + scipy_stats.vonmises.logcdf(x, kappa)
        + scipy_stats.vonmises.logsf(x, kappa)
        + scipy_stats.vonmises.ppf(x, kappa)
        + scipy_stats.vonmises.isf(x, kappa)
    )


def f_all(x, m, n):
    return np.sum(
        scipy_stats.f.cdf(x, m, n)
        + scipy_stats.f.sf(x, m, n)
        + scipy_stats.f.logcdf(x, m, n)
        + scipy_stats.f.logsf(x, m, n)
        + scipy_stats.f.ppf(x, m, n)
        + scipy_stats.f.isf(x, m, n)
    )


@pytest.mark.parametrize(
    "f, args, refused, name",
    [
        (gamma_cdf, [np.array([0.5, 2.0]), 2.5], 1, "gamma.cdf with respect to its parameter a"),
        (beta_cdf, [np.array([0.2, 0.7]), 2.5, 1.5], 1, "beta.cdf with respect to its parameter a"),
        (beta_cdf, [np.array([0.2, 0.7]), 2.5, 1.5], 2, "beta.cdf with respect to its parameter b"),
        (chi2_cdf, [np.array([0.5, 2.0]), 3.0], 1, "chi2.cdf with respect to its parameter df"),
        (t_logcdf, [np.array([-0.5, 2.0]), 3.0], 1, r"t.(logcdf|logsf|sf) with respect to its parameter df"),
        (gamma_tails, [np.array([0.5, 2.0]), 2.5], 1, r"gamma.(logcdf|logsf|sf) with respect to its parameter a"),
        (beta_tails, [np.array([0.2, 0.7]), 2.5, 1.5], 2, r"beta.(logcdf|logsf|sf) with respect to its parameter b"),
        (chi2_tails, [np.array([0.5, 2.0]), 3.0], 1, r"chi2.(logcdf|logsf|sf) with respect to its parameter df"),
        (t_quantiles, [np.array([0.2, 0.7]), 3.0], 1, r"t.(ppf|isf) with respect to its parameter df"),
        (gamma_quantiles, [np.array([0.2, 0.7]), 2.5], 1, r"gamma.(ppf|isf) with respect to its parameter a"),
        (chi2_quantiles, [np.array([0.2, 0.7]), 3.0], 1, r"chi2.(ppf|isf) with respect to its parameter df"),
        (beta_quantiles, [np.array([0.2, 0.7]), 2.5, 1.5], 1, r"beta.(ppf|isf) with respect to its parameter a"),
        (beta_quantiles, [np.array([0.2, 0.7]), 2.5, 1.5], 2, r"beta.(ppf|isf) with respect to its parameter b"),
        (invgamma_all, [np.array([0.3, 0.7]), 2.5], 1, r"invgamma.(cdf|sf|logcdf|logsf|ppf|isf) .*parameter a"),
        (f_all, [np.array([0.3, 0.7]), 3.5, 6.0], 1, r"f.(cdf|sf|logcdf|logsf|ppf|isf) .*parameter dfn"),
        (f_all, [np.array([0.3, 0.7]), 3.5, 6.0], 2, r"f.(cdf|sf|logcdf|logsf|ppf|isf) .*parameter dfd"),
        (vonmises_all, [np.array([0.3, 0.7]), 1.5], 1, r"vonmises.(cdf|sf|logcdf|logsf|ppf|isf) .*parameter kappa"),
    ],
)
def test_cdf_in_a_shape_is_refused_at_compile_time_and_in_x_is_fine(f, args, refused, name):
    # no closed form in the shape: refused at the call (never a zero derivative), in both modes; x alone is fine
    where = r"test_scipy_stats.py:\d+:\d+: .*" + name
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(f, wrt=(0, refused))(*args)
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.jvp(f, wrt=refused)(*args, 1.0)
    check_grads(f, args, wrt=0)
    _, t = ac.jvp(f, wrt=0)(*args, np.ones(2))
    assert t == pytest.approx(ac.grad(f, wrt=0)(*args).sum())


def poisson_cdf_in_k(k, mu):
    return np.sum(scipy_stats.poisson.cdf(k, mu))


def test_poisson_cdf_is_constant_in_k_and_matches_the_pmf_sum_in_mu():
    # d/dmu sum_{j <= k} pmf(j, mu) telescopes to -pmf(k, mu): compared with the sum of the pmf's own rule
    k, mu = np.array([0.0, 2.0, 5.0]), 2.5
    assert np.all(ac.grad(poisson_cdf_in_k, wrt=0)(k, mu) == 0.0)
    by_sum = sum(
        registry.lookup(scipy_stats.poisson.pmf).rule(1.0, scipy_stats.poisson.pmf(j, mu), j, mu)[1] for j in range(6)
    )
    assert ac.grad(poisson_cdf_in_k, wrt=1)(np.array([5.0]), mu) == pytest.approx(by_sum, rel=1e-12)


def mvn_pdf_two_ways(x, mean, cov):
    return np.sum(
        scipy_stats.multivariate_normal.pdf(x, mean, cov) - np.exp(scipy_stats.multivariate_normal.logpdf(x, mean, cov))
    )


def test_pdf_gradients_are_the_exp_of_the_logpdf_gradients():
    # pdf == exp(logpdf): the difference's gradient is zero to rounding, in each argument
    x, mean, cov = R.standard_normal((3, 2)), R.standard_normal(2), _spd(R, 2)
    for bar in ac.grad(mvn_pdf_two_ways, wrt=(0, 1, 2))(x, mean, cov):
        assert np.max(np.abs(bar)) < 1e-14


def test_binom_logpmf_at_p_zero_and_one_by_hand():
    # at p == 0 only k == 0 has mass, log pmf = n log(1 - p): d/dp = -n; at p == 1 only k == n, d/dp = n
    rule = registry.lookup(scipy_stats.binom.logpmf).rule
    assert rule(1.0, None, 0, 5, 0.0)[2] == -5.0 and rule(1.0, None, 5, 5, 1.0)[2] == 5.0
    assert registry.lookup(scipy_stats.nbinom.logpmf).rule(1.0, None, 0, 2.5, 1.0)[2] == 2.5  # n / p, m == 0


# ---- frozen distributions: norm(loc, scale).logpdf(x) is norm.logpdf(x, loc, scale) ------------------------------


def frozen_chained(mu, s, df):
    x = np.array([0.3, 1.2, -0.4])
    return (
        np.sum(scipy_stats.norm(mu, s).logpdf(x))
        + scipy_stats.norm(loc=mu, scale=s).cdf(0.4)
        + np.sum(scipy_stats.t(df, mu, s).logpdf(x))
        + scipy_stats.gamma(df, scale=s).logpdf(2.0)
        + scipy_stats.beta(df, s).logpdf(0.3)
        + scipy_stats.expon(scale=s).logpdf(0.7)
        + scipy_stats.lognorm(s, mu).logpdf(2.5)
        + scipy_stats.poisson(df).logpmf(3)
    )


def frozen_named(mu, s, df):
    d = scipy_stats.norm(mu, s)
    w = scipy_stats.weibull_min(df, scale=s)
    return np.sum(d.logpdf(np.array([0.3, 1.2]))) + d.sf(0.1) + w.logpdf(0.8) + scipy_stats.nbinom(df, 0.3).logpmf(2)


@pytest.mark.parametrize("f", [frozen_chained, frozen_named])
def test_frozen_distributions_match_central_differences_in_both_modes(f):
    ac.check_grads(f, (0.6, 1.3, 2.2), wrt=(0, 1, 2), modes=("rev", "fwd"))


def test_frozen_second_order():
    ac.check_grads(frozen_named, (0.6, 1.3, 2.2), wrt=(0, 1), modes=("rev",), order=2)


def frozen_then_reassigned(mu, s):
    d = scipy_stats.norm(mu, s)
    mu = mu * 2.0
    return d.logpdf(0.3) + mu


def frozen_in_loop(mus, s):
    t = 0.0
    for m in mus:
        d = scipy_stats.norm(m, s)
        t = t + d.logpdf(0.3)
    return t


def frozen_in_loop_chained(mus, s):
    t = 0.0
    for m in mus:
        t = t + scipy_stats.norm(m, s).logpdf(0.3)
    return t


def test_a_frozen_distribution_whose_parameters_change_is_refused_at_its_call():
    # d's loc is the mu it was made with, not the name mu later (scipy23: a copy of it, made where d is made):
    # d/dmu = (0.3 - mu) / s^2 + 2, by hand; made in a loop over its parameter, refused (never the later value's)
    assert ac.grad(frozen_then_reassigned)(1.5, 0.8) == pytest.approx((0.3 - 1.5) / 0.64 + 2.0, rel=1e-12)
    ac.check_grads(frozen_then_reassigned, (1.5, 0.8), wrt=(0, 1), modes=("rev", "fwd"))
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_stats.py:\d+:\d+: .*method call .logpdf"):
        ac.grad(frozen_in_loop)(np.array([0.1, 0.5]), 0.8)
    got = ac.grad(frozen_in_loop_chained, wrt=(0, 1))(np.array([0.1, 0.5]), 0.8)  # made and used in one call
    assert np.allclose(got[0], (0.3 - np.array([0.1, 0.5])) / 0.64)
    z = (0.3 - np.array([0.1, 0.5])) / 0.8
    assert np.isclose(got[1], np.sum((z * z - 1.0) / 0.8))


def frozen_from_expressions(theta, x):
    d = scipy_stats.norm(theta[0], np.exp(theta[1]))
    return np.sum(d.logpdf(x))


def frozen_of_expressions_in_a_loop(theta, xs):
    d = scipy_stats.gamma(np.exp(theta[0]), scale=theta[1] ** 2)
    total = 0.0
    for x in xs:
        total = total + d.logpdf(x) + d.pdf(x)
    return total


def frozen_of_expressions_in_a_branch(theta, x):
    if theta[0] > 0:
        d = scipy_stats.norm(theta[0], np.exp(theta[1]))
        return np.sum(d.logpdf(x))
    return 0.0


def test_a_frozen_distribution_of_expressions_is_its_call_with_those_parameters():
    # scipy23: d = norm(theta[0], np.exp(theta[1])) made once, in the function's body: d.logpdf(x) is
    # norm.logpdf(x, theta[0], np.exp(theta[1])) (anf.frozen_made), in both modes and at second order
    theta = np.array([0.1, -0.2])
    ac.check_grads(frozen_from_expressions, (theta, X3), wrt=(0, 1), modes=("rev", "fwd"))
    ac.check_grads(frozen_from_expressions, (theta, X3), wrt=(0,), modes=("rev",), order=2)
    by_hand = np.sum((X3 - 0.1) / np.exp(-0.4)), np.sum(((X3 - 0.1) / np.exp(-0.2)) ** 2 - 1.0)
    assert np.allclose(ac.grad(frozen_from_expressions)(theta, X3), by_hand, rtol=1e-12)
    ac.check_grads(frozen_of_expressions_in_a_loop, (np.array([0.4, 1.1]), XP), wrt=(0,), modes=("rev", "fwd"))


def test_a_frozen_distribution_of_expressions_made_in_a_branch_is_refused_with_what_to_write():
    # (made under an if: not rewritten; refused at the method's call, with the call to write instead)
    with pytest.raises(
        ac.UnsupportedError, match=r"test_scipy_stats.py:\d+:\d+: .*logpdf.*call scipy_stats.norm.logpdf"
    ):
        ac.grad(frozen_of_expressions_in_a_branch)(np.array([0.1, -0.2]), X3)


# ---- scipy23: second order through the new rules (their adjoint bodies differentiated again), and edge points ----


def new_cdfs(x, loc, scale, shape):
    return (
        np.sum(scipy_stats.expon.logcdf(x, loc, scale) + scipy_stats.laplace.logsf(x, loc, scale))
        + np.sum(scipy_stats.halfnorm.cdf(x, loc, scale) * scipy_stats.gumbel_r.logsf(x, loc, scale))
        + np.sum(scipy_stats.rayleigh.logcdf(x, loc, scale) + scipy_stats.gumbel_l.sf(x, loc, scale))
        + np.sum(scipy_stats.weibull_min.cdf(x, shape, loc, scale) + scipy_stats.lognorm.sf(x, shape, loc, scale))
        + np.sum(scipy_stats.pareto.logsf(x + 2.0, shape, loc, scale))
    )


def new_densities(x, shape, loc, scale):
    return (
        np.sum(scipy_stats.vonmises.logpdf(x, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.logpdf(x, -shape, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.cdf(x, -0.5 * shape, shape, loc, scale))
        + np.sum(scipy_stats.f.logpdf(x + 1.5, shape, 2.0 * shape, loc, scale))
        + scipy_stats.betabinom.logpmf(3, 7, shape, 1.0 + scale)
    )


@pytest.mark.parametrize(
    "f, args",
    [(new_cdfs, (XIN + 0.3, 0.2, 1.3, 1.7)), (new_densities, (np.array([-0.4, 0.3, 0.8]), 1.7, 0.1, 1.2))],
)
def test_the_new_rules_at_first_and_second_order(f, args):
    ac.check_grads(f, args, wrt=(0, 1, 2, 3), modes=("rev", "fwd"))
    ac.check_grads(f, args, wrt=(0, 1, 2, 3), modes=("rev",), order=2)


def expon_tails(x):
    return np.sum(scipy_stats.expon.cdf(x) + scipy_stats.expon.sf(x) + scipy_stats.rayleigh.cdf(x))


def truncnorm_outside(x, a):
    return np.sum(scipy_stats.truncnorm.cdf(x, a, 1.0))


def test_below_the_support_the_cdfs_have_exactly_zero_derivative():
    # SciPy's cdf is 0 (sf 1) there: each rule gives 0, never the formula continued past the support's edge
    x = np.array([-2.0, -0.5, 0.7])
    g = ac.grad(expon_tails)(x)
    assert g[0] == 0.0 and g[1] == 0.0 and g[2] == pytest.approx(0.7 * np.exp(-0.245))
    gx, ga = ac.grad(truncnorm_outside, wrt=(0, 1))(np.array([-3.0, 2.0]), -1.0)
    assert np.all(gx == 0.0) and ga == 0.0
    rule = registry.lookup(scipy_stats.expon.logcdf).rule
    assert rule(1.0, -np.inf, -1.0)[0] == 0.0  # logcdf -inf below 0: a zero derivative, no nan


def multinomial_of_softmax(theta, x):
    p = np.exp(theta) / np.sum(np.exp(theta))
    return np.sum(scipy_stats.multinomial.logpmf(x, np.sum(x, axis=-1), p))


def test_multinomial_through_a_softmax_and_by_hand():
    # p = softmax(theta) moves along the simplex: d/dtheta = x - n p, by hand
    theta, x = np.array([0.3, -0.2, 0.5, 0.0]), np.array([[2, 0, 3, 1], [1, 1, 3, 1]])
    p = np.exp(theta) / np.sum(np.exp(theta))
    assert np.allclose(ac.grad(multinomial_of_softmax)(theta, x), np.sum(x, axis=0) - 12 * p, rtol=1e-12)
    ac.check_grads(multinomial_of_softmax, (theta, x), wrt=(0,), modes=("rev", "fwd"))
    ac.check_grads(multinomial_of_softmax, (theta, x), wrt=(0,), modes=("rev",), order=2)


def nbinom_cdf(k, n, p):
    return np.sum(scipy_stats.nbinom.cdf(k, n, p) + scipy_stats.nbinom.sf(k, n, p))


def test_nbinom_cdf_in_n_is_refused_and_in_p_matches_the_pmf_sum():
    # n is the incomplete beta function's shape: refused at the call in both modes; in p, the sum of the pmf's
    # own derivatives (exp(logpmf) times the logpmf rule's d/dp) over j <= k, by hand
    k, n, p = np.array([4.0]), 2.5, 0.4
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_stats.py:\d+:\d+: .*nbinom.(cdf|sf) .*parameter n"):
        ac.grad(nbinom_cdf, wrt=(1, 2))(k, n, p)
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_stats.py:\d+:\d+: .*nbinom.(cdf|sf) .*parameter n"):
        ac.jvp(nbinom_cdf, wrt=1)(k, n, p, 1.0)
    logpmf = registry.lookup(scipy_stats.nbinom.logpmf).rule
    by_sum = sum(np.exp(scipy_stats.nbinom.logpmf(j, n, p)) * logpmf(1.0, None, j, n, p)[2] for j in range(5))
    rule = registry.lookup(scipy_stats.nbinom.cdf).rule
    with pytest.raises(NotImplementedError):
        rule(1.0, None, k, n, p)  # (called directly, the refused slot raises: compare through a compiled call)
    assert ac.grad(lambda q: np.sum(scipy_stats.nbinom.cdf(k, n, q)))(p) == pytest.approx(by_sum, rel=1e-10)


def discrete_cdfs_in_p(p):
    k = np.array([0.0, 2.0, 5.0])
    return np.sum(
        scipy_stats.binom.cdf(k, 6, p) * scipy_stats.geom.sf(k, p)
        + scipy_stats.nbinom.cdf(k, 2.5, p)
        + scipy_stats.geom.logsf(k + 1.0, p)
        + scipy_stats.binom.pmf(k, 6, p)
    )


def test_discrete_cdfs_in_p_at_second_order():
    ac.check_grads(discrete_cdfs_in_p, (0.37,), modes=("rev", "fwd"))
    ac.check_grads(discrete_cdfs_in_p, (0.37,), modes=("rev",), order=2)


def t_fit(x, loc, shape, log_df):
    return np.sum(scipy_stats.multivariate_t.logpdf(x, loc, shape @ shape.T + np.eye(2), np.exp(log_df)))


def test_multivariate_t_at_second_order_and_its_normal_limit():
    x, loc, shape = R.standard_normal((3, 2)), R.standard_normal(2), R.standard_normal((2, 2))
    ac.check_grads(t_fit, (x, loc, shape, 1.2), wrt=(0, 1, 2, 3), modes=("rev", "fwd"))
    ac.check_grads(t_fit, (x, loc, shape, 1.2), wrt=(0, 1, 3), modes=("rev",), order=2)
    # a large df: the normal's gradient in x and loc, -Sigma^-1 (x - loc), by hand
    cov = shape @ shape.T + np.eye(2)
    gx = ac.grad(t_fit)(x, loc, shape, np.log(1e9))
    assert np.allclose(gx, -np.linalg.solve(cov, (x - loc).T).T, rtol=1e-6)


def t_of_infinite_df(x):
    return np.sum(scipy_stats.multivariate_t.logpdf(x, np.zeros(2), np.eye(2), np.inf))


def test_multivariate_t_with_infinite_df_is_refused_by_name():
    # (SciPy 1.17 takes it as the normal): never a nan gradient
    try:
        t_of_infinite_df(np.ones((2, 2)))
    except TypeError:
        pytest.skip("SciPy 1.13's multivariate_t raises for df=inf itself: nothing to differentiate")
    with pytest.raises((ac.UnsupportedError, NotImplementedError), match=r"df=inf .*multivariate_normal"):
        ac.grad(t_of_infinite_df)(np.ones((2, 2)))


# ---- scipy24: second order through the new rules, and their edge points ----


def quantiles_and_tails(q, loc, scale, shape):
    x = scipy_stats.logistic.ppf(q, loc, scale) + scipy_stats.gumbel_r.isf(q, loc, scale)
    return (
        np.sum(scipy_stats.expon.ppf(q, loc, scale) * scipy_stats.cauchy.isf(q, loc, scale))
        + np.sum(scipy_stats.t.ppf(q, 3.5, loc, scale) + scipy_stats.rayleigh.ppf(q, loc, scale))
        + np.sum(scipy_stats.uniform.cdf(x, loc - 3.0, scale + 6.0) + scipy_stats.uniform.logsf(x, loc - 3.0, 9.0))
        + np.sum(scipy_stats.lognorm.logcdf(x + 5.0, shape, loc, scale) + scipy_stats.weibull_min.logcdf(q, shape))
        + np.sum(scipy_stats.skewnorm.cdf(x, shape, loc, scale) + scipy_stats.pareto.logcdf(x + 5.0, shape))
        + np.sum(scipy_stats.lognorm.ppf(q, shape, loc, scale) * scipy_stats.weibull_min.isf(q, shape, loc, scale))
        + np.sum(scipy_stats.pareto.ppf(q, shape, loc, scale))
    )


def densities(x, shape, loc, scale):
    return (
        np.sum(scipy_stats.expon.pdf(x, loc, scale) + scipy_stats.weibull_min.pdf(x, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.pdf(x, -shape, shape, loc, scale) * scipy_stats.vonmises.pdf(x, shape))
        + np.sum(scipy_stats.f.pdf(x + 1.5, shape, 2.0 * shape, loc, scale) + scipy_stats.skewnorm.pdf(x, shape))
        + scipy_stats.betabinom.pmf(3, 7, shape, 1.0 + scale)
    )


@pytest.mark.parametrize(
    "f, args",
    [
        (quantiles_and_tails, (np.array([0.2, 0.45, 0.8]), 0.3, 1.4, 1.7)),
        (densities, (np.array([0.4, 0.9, 1.3]), 1.7, 0.1, 1.2)),
    ],
)
def test_the_scipy24_rules_at_first_and_second_order(f, args):
    ac.check_grads(f, args, wrt=(0, 1, 2, 3), modes=("rev", "fwd"))
    ac.check_grads(f, args, wrt=(0, 1, 2, 3), modes=("rev",), order=2)


def wishart_fit(factor, df, x):
    scale = factor @ factor.T + np.eye(3)
    return np.sum(scipy_stats.wishart.logpdf(x, df, scale)) + scipy_stats.invwishart.logpdf(x[:, :, 0], df + 1.0, scale)


def test_wishart_through_a_factor_in_both_modes_and_at_second_order():
    x = np.stack([_spd(R, 3) for _ in range(3)], -1)
    args = (R.standard_normal((3, 3)), 5.5, x)
    ac.check_grads(wishart_fit, args, wrt=(0, 1), modes=("rev", "fwd"))
    ac.check_grads(wishart_fit, args, wrt=(0, 1), modes=("rev",), order=2)


def pdfs_off_their_supports(x):
    return np.sum(
        scipy_stats.expon.pdf(x) + scipy_stats.lognorm.pdf(x, 0.5) + scipy_stats.truncnorm.pdf(x, -0.5, 0.5)
    ) + np.sum(scipy_stats.uniform.pdf(x, -1.0, 0.5) + scipy_stats.pareto.pdf(x + 2.0, 1.5))


def uniform_outside(x, loc, scale):
    return np.sum(scipy_stats.uniform.cdf(x, loc, scale) + scipy_stats.uniform.logcdf(x + 0.5, loc, scale))


def test_densities_and_uniform_cdfs_have_exactly_zero_derivative_where_they_are_constant():
    # each density is 0 below its support (and truncnorm's above): its derivative there exactly 0, never nan
    g = ac.grad(pdfs_off_their_supports)(np.array([-2.0, -1.5]))
    assert np.all(g == 0.0)
    _, t = ac.jvp(pdfs_off_their_supports)(np.array([-2.0, -1.5]), np.ones(2))
    assert t == 0.0
    # [loc, loc + scale] = [0, 1]: below (cdf 0, logcdf -inf) and above (cdf 1, logcdf 0) nothing moves
    gx, gl, gs = ac.grad(uniform_outside, wrt=(0, 1, 2))(np.array([-2.0, 3.0]), 0.0, 1.0)
    assert np.all(gx == 0.0) and gl == 0.0 and gs == 0.0
    gx = ac.grad(uniform_outside)(np.array([0.25]), 0.0, 1.0)  # inside: 1 + 1 / 0.75
    assert gx[0] == pytest.approx(1.0 + 1.0 / 0.75)


def test_skewnorm_cdf_in_a_is_owens_t_by_hand():
    # F(z; a) = Phi(z) - 2 T(z, a), dT/da = exp(-z^2 (1 + a^2) / 2) / (2 pi (1 + a^2))
    z, a = 0.7, -1.3
    rule = registry.lookup(scipy_stats.skewnorm.cdf).rule
    got = rule(1.0, scipy_stats.skewnorm.cdf(z, a), z, a)[1]
    assert got == pytest.approx(-np.exp(-0.5 * z * z * (1 + a * a)) / (np.pi * (1 + a * a)), rel=1e-12)
    special = pytest.importorskip("scipy.special")
    fd = (special.owens_t(z, a + 1e-6) - special.owens_t(z, a - 1e-6)) / 2e-6
    assert got == pytest.approx(-2.0 * fd, rel=1e-6)


# ---- scipy25 ---------------------------------------------------------------------------------------------------------


PMF_OF = {
    "bernoulli": lambda p, k: scipy_stats.bernoulli.pmf(k, p),
    "geom": lambda p, k: scipy_stats.geom.pmf(k, p),
    "nbinom": lambda p, k, n: scipy_stats.nbinom.pmf(k, n, p),
    "binom": lambda p, k, n: scipy_stats.binom.pmf(k, n, p),
}


@pytest.mark.parametrize(
    "name, k, shape, p, slope",
    [
        ("bernoulli", 1, (), 0.0, 1.0),  # p
        ("bernoulli", 0, (), 1.0, -1.0),  # 1 - p
        ("bernoulli", 2, (), 0.5, 0.0),  # off the support
        ("geom", 1, (), 1.0, 1.0),  # p (SciPy's geom and nbinom take p in (0, 1]: nan at 0)
        ("geom", 2, (), 1.0, -1.0),  # p (1 - p): 1 - 2p
        ("geom", 3, (), 1.0, 0.0),  # p (1 - p)^2: (1 - p)(1 - 3p)
        ("nbinom", 1, (2.0,), 1.0, -2.0),  # 2 p^2 (1 - p): 4p - 6p^2
        ("nbinom", 0, (2.0,), 1.0, 2.0),  # p^2
        ("nbinom", 0, (1.0,), 1.0, 1.0),  # p
        ("nbinom", 2, (2.0,), 1.0, 0.0),  # 3 p^2 (1 - p)^2
        ("binom", 1, (10,), 0.0, 10.0),  # 10 p (1 - p)^9
        ("binom", 9, (10,), 1.0, -10.0),  # 10 p^9 (1 - p)
        ("binom", 0, (10,), 0.0, -10.0),  # (1 - p)^10
    ],
)
def test_pmfs_at_p_zero_and_one_by_hand(name, k, shape, p, slope):
    # where the pmf is 0 at p == 0 or 1 its derivative need not be (pmf * d logpmf would be 0 * inf, nan there): the
    # polynomial's derivative by hand, through compiled code in both modes
    f = PMF_OF[name]
    assert ac.grad(f)(p, k, *shape) == pytest.approx(slope, rel=1e-13, abs=1e-14)
    assert ac.jvp(f, wrt=0)(p, k, *shape, 1.0)[1] == pytest.approx(slope, rel=1e-13, abs=1e-14)


def nbinom_pmf_in_n(n, p):
    return scipy_stats.nbinom.pmf(np.array([0, 3]), n, p)


def test_nbinom_pmf_in_n_at_p_one_and_multinomial_pmf_at_a_zero_probability_by_hand():
    # pmf(0; n, 1) is 1 and pmf(3; n, 1) is 0 for every n: d/dn 0, never nan (SciPy's pmf is nan at p == 0)
    _, pullback = ac.vjp(nbinom_pmf_in_n, wrt=0)(1.5, 1.0)
    assert pullback(np.ones(2)) == 0.0
    # pmf([1, 0, 2]; 3, p) = 3 p0 p2^2: (3 p2^2, 0, 6 p0 p2), at p0 == 0 where the pmf is 0 and its logpmf -inf
    p = np.array([0.0, 0.5, 0.5])
    got = ac.grad(lambda q: scipy_stats.multinomial.pmf(np.array([1, 0, 2]), 3, q))(p)
    assert got == pytest.approx([0.75, 0.0, 0.0], rel=1e-12, abs=0.0)


def off_support_logs(x):
    return (
        np.sum(scipy_stats.truncnorm.logcdf(x, -1.0, 1.0))
        + np.sum(scipy_stats.truncnorm.logsf(x, -1.0, 1.0))
        + np.sum(scipy_stats.truncnorm.sf(x, -1.0, 1.0))
    )


def discrete_logs_off_support(p):
    return (
        scipy_stats.bernoulli.logcdf(-1, p)
        + scipy_stats.geom.logcdf(0, p)
        + scipy_stats.nbinom.logcdf(-1, 2.5, p)
        + scipy_stats.binom.logcdf(-1, 4, p)
        + scipy_stats.binom.logsf(4, 4, p) * 0.0
        + scipy_stats.binom.logsf(5, 4, p)
    )


def test_off_the_support_the_new_log_cdfs_have_exactly_zero_derivative():
    # truncnorm.logcdf is -inf below a, its logsf -inf above b: constant, derivative 0 (no nan); the sf is 1 or 0
    x = np.array([-3.0, 2.0])
    assert np.array_equal(ac.grad(off_support_logs)(x), [0.0, 0.0])
    rule = registry.lookup(scipy_stats.truncnorm.logcdf).rule
    assert all(np.all(c == 0.0) for c in rule(1.0, -np.inf, -3.0, -1.0, 1.0))
    # the discrete log-cdfs below their supports (-inf) and logsf above (-inf): 0 in p
    with np.errstate(divide="ignore"):
        assert ac.grad(discrete_logs_off_support)(0.3) == 0.0


def new_rules(x, shape, loc, scale):
    q = scipy_stats.norm.cdf(x)
    return (
        np.sum(scipy_stats.skewnorm.logcdf(x, shape, loc, scale) + scipy_stats.skewnorm.logsf(x, -shape, loc, scale))
        + np.sum(scipy_stats.skewnorm.ppf(q, shape, loc, scale) + scipy_stats.skewnorm.isf(q, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.logcdf(x, -shape, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.logsf(x, -shape, shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.ppf(q, -shape, 2.0 * shape, loc, scale))
        + np.sum(scipy_stats.truncnorm.isf(q, -shape, shape, loc, scale) + scipy_stats.truncnorm.sf(x, -shape, shape))
        + np.sum(scipy_stats.gamma.ppf(q, 2.0, loc, scale) + scipy_stats.beta.isf(q, 2.0, 3.0, loc, scale))
        + np.sum(scipy_stats.chi2.ppf(q, 3.0, loc, scale))
    )


def new_discrete(p, n):
    k = np.array([0.0, 1.0, 2.0, 4.0])
    return (
        np.sum(scipy_stats.geom.pmf(k, p) + scipy_stats.nbinom.pmf(k, n, p) + scipy_stats.binom.pmf(k, 5, p))
        + np.sum(scipy_stats.bernoulli.pmf(k, p) + scipy_stats.bernoulli.logsf(0, p))
        + np.sum(scipy_stats.geom.logcdf(k + 1.0, p) + scipy_stats.nbinom.logcdf(k, 2.0, p))
        + np.sum(scipy_stats.nbinom.logsf(k, 2.0, p) + scipy_stats.binom.logcdf(k, 5, p))
        + scipy_stats.multinomial.pmf(np.array([1, 2, 1]), 4, np.array([p, 0.5, 0.5 - p]))
    )


@pytest.mark.parametrize(
    "f, args, wrt",
    [(new_rules, (np.array([-0.3, 0.2, 0.6]), 1.2, 0.1, 1.1), (0, 1, 2, 3)), (new_discrete, (0.3, 1.7), (0, 1))],
)
def test_the_scipy25_rules_at_first_and_second_order(f, args, wrt):
    ac.check_grads(f, args, wrt=wrt, modes=("rev", "fwd"))
    ac.check_grads(f, args, wrt=wrt, modes=("rev",), order=2)


def nbinom_logs(k, n, p):
    return np.sum(scipy_stats.nbinom.logcdf(k, n, p) + scipy_stats.nbinom.logsf(k, n, p))


def test_nbinom_log_cdfs_in_n_are_refused_and_in_p_are_the_cdf_slope_over_the_cdf():
    k, n, p = np.array([1.0, 4.0]), 2.5, 0.4
    where = r"test_scipy_stats.py:\d+:\d+: .*nbinom.(logcdf|logsf) with respect to its parameter n"
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(nbinom_logs, wrt=(1, 2))(k, n, p)
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.jvp(nbinom_logs, wrt=1)(k, n, p, 1.0)
    # in p: the pmf's derivative (nbinom.pmf's rule, itself checked by hand and against differences) summed over
    # j <= k, over the cdf and the sf
    pmf = registry.lookup(scipy_stats.nbinom.pmf).rule
    slope = [sum(pmf(1.0, scipy_stats.nbinom.pmf(j, n, p), j, n, p)[2] for j in range(int(m) + 1)) for m in k]
    cdf = scipy_stats.nbinom.cdf(k, n, p)
    assert ac.grad(nbinom_logs, wrt=2)(k, n, p) == pytest.approx(np.sum(slope / cdf - slope / (1.0 - cdf)), rel=1e-10)


def log_cdfs_off_their_supports(x):
    return np.sum(
        scipy_stats.gamma.logcdf(x, 2.0)
        + scipy_stats.chi2.logcdf(x, 3.0)
        + scipy_stats.beta.logcdf(x, 2.0, 3.0)
        + scipy_stats.beta.logsf(x, 2.0, 3.0)
        + scipy_stats.invgamma.logcdf(x, 2.0)
        + scipy_stats.f.logcdf(x, 3.0, 4.0)
        + scipy_stats.halfcauchy.logcdf(x)
    )


def test_log_cdfs_off_their_supports_have_zero_derivative_not_nan():
    # below 0 (and beta's above 1) each log-cdf or log-sf is -inf or 0, constant: the density over the cdf there is
    # exp(-inf - -inf), which was nan; 0 now, in both modes
    x = np.array([-0.5, 1.5])
    with np.errstate(divide="ignore"):
        g = ac.grad(log_cdfs_off_their_supports)(x)
        t = ac.jvp(log_cdfs_off_their_supports)(x, np.array([1.0, 0.0]))[1]
    assert g[0] == 0.0 and t == 0.0


def spread_in_loc(loc, scale):
    return (
        scipy_stats.norm.std(loc, scale)
        + scipy_stats.expon.var(loc, scale)
        + scipy_stats.laplace.entropy(loc, scale)
        + scipy_stats.cauchy.entropy(loc, scale)
        + scipy_stats.uniform.median(loc, scale)
    )


def frozen_moments(mu, s):
    d = scipy_stats.norm(mu, s)
    return d.mean() + d.std() ** 2 + d.entropy() + scipy_stats.gumbel_r(loc=mu, scale=s).median()


def test_moments_are_constant_in_loc_where_they_should_be_and_frozen_ones_are_their_calls():
    # std, var and entropy do not move with loc (derivative 0), the median moves one for one; d/dscale by hand:
    # norm std 1, expon var 2 scale, entropies 1 / scale (twice), uniform's median 1 / 2
    assert ac.grad(spread_in_loc, wrt=(0, 1))(0.3, 1.7) == pytest.approx((1.0, 1.0 + 3.4 + 2.0 / 1.7 + 0.5), rel=1e-12)
    # norm(mu, s): mean mu, var s^2, entropy ln(s) + c, gumbel_r's median mu - s ln ln 2
    want = (2.0, 2.0 * 1.7 + 1.0 / 1.7 - np.log(np.log(2.0)))
    assert ac.grad(frozen_moments, wrt=(0, 1))(0.3, 1.7) == pytest.approx(want, rel=1e-12)
    ac.check_grads(frozen_moments, (0.3, 1.7), wrt=(0, 1), modes=("rev", "fwd"))
    ac.check_grads(frozen_moments, (0.3, 1.7), wrt=(0, 1), modes=("rev",), order=2)


def shaped_moments(a, b, scale):
    return (
        scipy_stats.gamma.var(a, 0.0, scale)
        + scipy_stats.beta.std(a, b)
        + scipy_stats.chi2.mean(a, scale=scale)
        + scipy_stats.geom.var(b / 4.0)
        + scipy_stats.binom.std(5, b / 3.0)
    )


def test_shaped_moments_by_hand():
    # gamma var a s^2, beta std sqrt(ab / ((a + b)^2 (a + b + 1))), chi2 mean df s, geom var (1 - p) / p^2,
    # binom std sqrt(5 p (1 - p)), differentiated by hand
    a, b, s = 1.3, 2.0, 0.7
    v = a * b / ((a + b) ** 2 * (a + b + 1))
    sd = np.sqrt(v)
    dsd_da = 0.5 * sd * (1 / a - 2 / (a + b) - 1 / (a + b + 1))
    dsd_db = 0.5 * sd * (1 / b - 2 / (a + b) - 1 / (a + b + 1))
    p, q = b / 4.0, b / 3.0
    dgeom = (p - 2.0) / p**3 / 4.0
    dbinom = 0.5 * 5 * (1 - 2 * q) / np.sqrt(5 * q * (1 - q)) / 3.0
    want = (s * s + dsd_da + s, dsd_db + dgeom + dbinom, 2 * a * s + a)
    assert ac.grad(shaped_moments, wrt=(0, 1, 2))(a, b, s) == pytest.approx(want, rel=1e-12)
    ac.check_grads(shaped_moments, (a, b, s), wrt=(0, 1, 2), modes=("rev", "fwd"))
    ac.check_grads(shaped_moments, (a, b, s), wrt=(0, 1, 2), modes=("rev",), order=2)
