"""Table-driven checks of the ``scipy.special`` adjoint rules against central differences of SciPy's own
functions, end-to-end gradients through compiled functions, the conventions at special points, and the
refusals. Forward mode: tests/rules/test_tangents.py builds a function of every row (its SciPy block).

``Row`` and ``check_row`` serve the other SciPy tables too (test_scipy_stats.py, test_scipy_linalg.py,
test_scipy_signal.py)."""

import inspect
import os
import subprocess
import sys
import itertools
import linecache
from typing import NamedTuple

import numpy as np
import pytest

scipy_special = pytest.importorskip("scipy.special")

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler.rules import registry  # noqa: E402
from adjoint_compiler.testing import check_grads, directional_difference, relative_error  # noqa: E402

EPS = 1e-6


class Row(NamedTuple):
    name: str
    fn: object
    spelling: str  # how a user's call writes fn (test_tangents.py builds the call from it)
    args: list  # values (positional)
    kwargs: dict
    diff: tuple  # positions differentiated
    rtol: float = 1e-5
    direction: object = None  # (position, rng) -> a direction for that argument (default: normal)


def check_row(row, seed=0):
    """The rule's cotangents against central differences of the function itself, each differentiated
    argument along random directions, with a random cotangent of the result. A rule with a refused parameter
    (``runtime.no_derivative``, which raises when called) is checked through a compiled function calling it
    (``ac.vjp``) instead. (Compiled functions of the other rows: ``compiled_rows``, in test_tangents.py.)"""
    rng = np.random.default_rng(seed)
    rule = registry.lookup(row.fn)
    assert rule is not None and rule.inline, row.fn
    ans = row.fn(*row.args, **row.kwargs)
    g = rng.standard_normal(np.shape(ans)) if np.ndim(ans) else 1.0 + rng.random()
    if "no_derivative" in inspect.getsource(rule.rule):
        f, values, wrt = build(row)
        cots = dict(zip(row.diff, ac.vjp(f, wrt=wrt)(*values)[1](g)))
    else:
        cots = rule.rule(g, ans, *row.args, **row.kwargs)
        cots = cots if len(rule.params) > 1 else (cots,)
    for i in row.diff:
        assert cots[i] is not None, (row.name, i)
        assert np.shape(cots[i]) == np.shape(row.args[i]), (row.name, i, np.shape(cots[i]), np.shape(row.args[i]))
        for _ in range(3 if np.ndim(row.args[i]) else 1):
            d = row.direction(i, rng) if row.direction else rng.standard_normal(np.shape(row.args[i]))
            d = d if np.ndim(row.args[i]) else float(d)
            fd = directional_difference(lambda *a: row.fn(*a, **row.kwargs), list(row.args), i, d, EPS, g)
            got = float(np.sum(np.asarray(cots[i]) * d))
            assert relative_error(got, fd) <= row.rtol, (row.name, i, got, fd)


def compiled_rows(table, also=()):
    """The rows whose call test_tangents.py compiles (jvp against central differences, and vjp against jvp):
    the first of each function and those named in ``also`` (a compilation takes a while)."""
    seen = set()
    out = []
    for row in table:
        if row.fn not in seen or row.name in also:
            out.append(row)
        seen.add(row.fn)
    return out


_FUNCTIONS = {}
_COUNT = itertools.count()


def build(row):
    """(function, its arguments, positions of the differentiated ones): the row's call, spelled as a user
    writes it, in a function whose parameters are the differentiated arguments (and any array constant)."""
    params, values, operands, wrt = [], [], [], []
    for i, a in enumerate(row.args):
        if i in row.diff or not (a is None or type(a) in (int, str, bool)):
            wrt += [len(params)] if i in row.diff else []
            params.append("x%d" % i if i in row.diff else "c%d" % i)
            values.append(a)
            operands.append(params[-1])
        else:
            operands.append(repr(a))
    for k, v in row.kwargs.items():
        if v is None or type(v) in (int, float, str, bool, tuple):
            operands.append("%s=%r" % (k, v))
        else:  # an array: a constant parameter
            params.append("c_" + k)
            values.append(v)
            operands.append("%s=c_%s" % (k, k))
    source = "def case(%s):\n    return %s(%s)\n" % (", ".join(params), row.spelling, ", ".join(operands))
    if source not in _FUNCTIONS:
        filename = "<scipy case %d>" % next(_COUNT)
        text = "import numpy as np\nfrom adjoint_compiler import runtime\n"
        text += "import scipy.linalg\nimport scipy.signal\nimport scipy.special\nimport scipy.stats\n\n\n"
        text += source
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace = {}
        exec(compile(text, filename, "exec"), namespace)  # noqa: S102 (source made here)
        _FUNCTIONS[source] = namespace["case"]
    return _FUNCTIONS[source], values, tuple(wrt)


def _u(lo, hi, shape=(), seed=0):
    x = np.random.default_rng(seed).uniform(lo, hi, shape)
    return float(x) if shape == () else x


def _unary(fn, lo, hi, rtol=1e-5):
    name = fn.__name__ if fn is not scipy_special.digamma else "digamma"
    return [
        Row("%s-%s" % (name, shape), fn, "scipy.special." + name, [_u(lo, hi, shape, k)], {}, (0,), rtol)
        for k, shape in enumerate([(), (3,), (2, 3)])
    ]


def _binary(fn, x, y, shapes=(((), ()), ((3,), (3,)), ((2, 3), (3,)), ((), (2, 3)))):
    return [
        Row(
            "%s-%s-%s" % (fn.__name__, sx, sy),
            fn,
            "scipy.special." + fn.__name__,
            [_u(*x, sx, k), _u(*y, sy, k + 10)],
            {},
            (0, 1),
        )
        for k, (sx, sy) in enumerate(shapes)
    ]


S = "scipy.special."


def _order(fn, name, orders, x):
    """Rows of a Bessel function C(v, x), differentiated in x: an integer order for a number and an array of x in
    ``x`` (negative x too where the function has them), and a half-integer order, and an array of orders broadcast
    against a 2-d x, for positive x (a non-integer order's value is complex below 0: nan)."""
    positive = (max(x[0], 0.3), x[1])
    return [
        Row("%s-%s-signs" % (name, orders[0]), fn, S + name, [orders[0], _u(*x, (4,), 4)], {}, (1,)),
        Row("%s-%s" % (name, orders[0]), fn, S + name, [orders[0], _u(*x, (), 1)], {}, (1,)),
        Row("%s-%s-array" % (name, orders[1]), fn, S + name, [orders[1], _u(*positive, (4,), 2)], {}, (1,)),
        Row(
            "%s-orders-broadcast" % name,
            fn,
            S + name,
            [np.array(orders), _u(*positive, (2, 3), 3)],
            {},
            (1,),
        ),
    ]


R = np.random.default_rng(7)
TABLE = [
    *_unary(scipy_special.expit, -4, 4),
    *_unary(scipy_special.logit, 0.05, 0.95),
    *_unary(scipy_special.erf, -2.5, 2.5),
    *_unary(scipy_special.erfc, -2.5, 2.5),
    *_unary(scipy_special.erfinv, -0.9, 0.9),
    *_unary(scipy_special.erfcinv, 0.1, 1.9),
    *_unary(scipy_special.ndtr, -3, 3),
    *_unary(scipy_special.ndtri, 0.05, 0.95),
    *_unary(scipy_special.log_ndtr, -6, 3),
    *_unary(scipy_special.gamma, 0.3, 4),
    Row("gamma-negative", scipy_special.gamma, S + "gamma", [-2.5], {}, (0,)),
    *_unary(scipy_special.gammaln, 0.3, 6),
    Row("gammaln-negative", scipy_special.gammaln, S + "gammaln", [-1.5], {}, (0,)),
    *_unary(scipy_special.digamma, 0.3, 6),
    Row("psi", scipy_special.psi, S + "psi", [_u(0.5, 3, (3,))], {}, (0,)),
    *_unary(scipy_special.i0, -3, 3),
    *_unary(scipy_special.i1, -3, 3),
    *_unary(scipy_special.i0e, -3, 3),
    *_unary(scipy_special.i1e, -3, 3),
    *_unary(scipy_special.j0, -6, 6),
    *_unary(scipy_special.j1, -6, 6),
    *_unary(scipy_special.y0, 0.3, 6),
    *_unary(scipy_special.y1, 0.3, 6),
    *_unary(scipy_special.entr, 0.1, 3),
    *_unary(scipy_special.erfcx, -2, 8),
    *_unary(scipy_special.rgamma, 0.3, 4),
    Row("rgamma-negative", scipy_special.rgamma, S + "rgamma", [np.array([-2.5, -0.5, -1.3])], {}, (0,)),
    *_order(scipy_special.jv, "jv", [2, 0.5, 1.5], (-8, 8)),
    Row("jn-int", scipy_special.jn, S + "jn", [2, _u(0.2, 20, (4,))], {}, (1,)),
    *_order(scipy_special.yv, "yv", [2, 0.5, 1.5], (0.3, 8)),
    *_order(scipy_special.yn, "yn", [2, 0, 3], (0.3, 8)),
    *_order(scipy_special.iv, "iv", [2, 0.5, 1.5], (-4, 4)),
    Row("iv-high-order", scipy_special.iv, S + "iv", [_u(1, 50, (4,)), _u(1.3, 5, (4,))], {}, (1,), 1e-4),
    *_order(scipy_special.ive, "ive", [2, 0.5, 1.5], (-4, 4)),
    Row("ive-high-order", scipy_special.ive, S + "ive", [_u(1, 50, (4,)), _u(1.3, 5, (4,))], {}, (1,), 1e-4),
    *_order(scipy_special.kv, "kv", [2, 0.5, 1.5], (0.3, 4)),
    *_order(scipy_special.kve, "kve", [2, 0.5, 1.5], (0.3, 4)),
    Row("betainc-x", scipy_special.betainc, S + "betainc", [2.5, 1.5, _u(0.05, 0.95, (3,))], {}, (2,)),
    Row(
        "betainc-x-broadcast",
        scipy_special.betainc,
        S + "betainc",
        [_u(1.1, 3, (2, 1)), _u(0.5, 3, (3,)), _u(0.05, 0.95, (2, 3))],
        {},
        (2,),
    ),
    Row("betainc-x-scalar", scipy_special.betainc, S + "betainc", [0.7, 3.0, 0.4], {}, (2,)),
    Row("polygamma-0", scipy_special.polygamma, S + "polygamma", [0, _u(0.5, 4, (3,))], {}, (1,)),
    Row("polygamma-1-float", scipy_special.polygamma, S + "polygamma", [1, 1.7], {}, (1,)),
    Row("polygamma-3", scipy_special.polygamma, S + "polygamma", [3, _u(0.5, 4, (2, 3))], {}, (1,)),
    *_binary(scipy_special.beta, (0.5, 3), (0.5, 3)),
    *_binary(scipy_special.betaln, (0.5, 3), (0.5, 3)),
    *_binary(scipy_special.xlogy, (-2, 2), (0.2, 3)),
    *_binary(scipy_special.xlog1py, (-2, 2), (-0.8, 3)),
    *_binary(scipy_special.rel_entr, (0.1, 3), (0.1, 3)),
    *_binary(scipy_special.kl_div, (0.1, 3), (0.1, 3)),
    # np13p: accurate elementary functions near 0, losses in both parameters (inside and outside Huber's kink,
    # delta broadcast), Box-Cox in x and lambda (lambda at and near 0, where the rules switch to a series)
    # (mine, session 22) cbrt of both signs, loggamma on the positive reals, spence (z = 1 included: its derivative's
    # limit -1), Hurwitz's zeta in q (scalar and broadcast)
    *_unary(scipy_special.cbrt, 0.2, 3),
    Row("cbrt-negative", scipy_special.cbrt, S + "cbrt", [np.array([-2.5, -0.3, 1.7])], {}, (0,)),
    *_unary(scipy_special.loggamma, 0.3, 6),
    *_unary(scipy_special.spence, 0.1, 3),
    Row("spence-at-1", scipy_special.spence, S + "spence", [np.array([1.0, 0.999, 1.002])], {}, (0,), 1e-4),
    Row("zeta-q", scipy_special.zeta, S + "zeta", [3.0, _u(0.5, 3, (3,))], {}, (1,)),
    Row("zeta-q-broadcast", scipy_special.zeta, S + "zeta", [np.array([[2.5], [4.0]]), _u(0.5, 3, (3,))], {}, (1,)),
    *_unary(scipy_special.expm1, -3, 3),
    Row("expm1-tiny", scipy_special.expm1, S + "expm1", [np.array([1e-9, -3e-7])], {}, (0,)),
    *_unary(scipy_special.log1p, -0.9, 3),
    *_unary(scipy_special.log_expit, -30, 30),
    *_unary(scipy_special.exprel, -4, 4),
    Row("exprel-near-0", scipy_special.exprel, S + "exprel", [np.array([0.0, 2e-4, -9e-4, 1.1e-3])], {}, (0,)),
    *_binary(scipy_special.huber, (0.5, 2), (-3, 3)),
    Row("huber-both-sides", scipy_special.huber, S + "huber", [1.0, np.array([-2.5, -0.4, 0.3, 1.7])], {}, (0, 1)),
    Row(
        "huber-delta-array",
        scipy_special.huber,
        S + "huber",
        [np.array([0.5, 1.5, 3.0]), np.array([[-1.0], [2.0]])],
        {},
        (0, 1),
    ),
    *_binary(scipy_special.pseudo_huber, (0.3, 2), (-3, 3)),
    Row(
        "pseudo_huber-delta-array",
        scipy_special.pseudo_huber,
        S + "pseudo_huber",
        [np.array([0.5, 1.5, 3.0]), np.array([[-1.0], [0.2]])],
        {},
        (0, 1),
    ),
    *_binary(scipy_special.boxcox, (0.2, 3), (-1.5, 1.5)),
    Row("boxcox-lambda-0", scipy_special.boxcox, S + "boxcox", [np.array([0.3, 1.0, 2.5]), 0.0], {}, (0, 1)),
    Row("boxcox-lambda-small", scipy_special.boxcox, S + "boxcox", [np.array([0.3, 2.5]), 2e-4], {}, (0, 1)),
    Row("boxcox-lambda-array", scipy_special.boxcox, S + "boxcox", [2.0, np.array([-0.5, 3e-4, 0.7])], {}, (0, 1)),
    Row("gammainc-x", scipy_special.gammainc, S + "gammainc", [2.5, _u(0.2, 5, (3,))], {}, (1,)),
    Row("gammainc-a-below-1", scipy_special.gammainc, S + "gammainc", [_u(0.3, 0.9, (3,)), 1.5], {}, (1,)),
    Row("gammaincc-x", scipy_special.gammaincc, S + "gammaincc", [1.7, _u(0.2, 5, (2, 3))], {}, (1,)),
    # logsumexp: axis, keepdims, b (weights, broadcast), 0-d, empty
    Row("logsumexp", scipy_special.logsumexp, S + "logsumexp", [R.standard_normal(4)], {}, (0,)),
    Row("logsumexp-0d", scipy_special.logsumexp, S + "logsumexp", [0.7], {}, (0,)),
    Row("logsumexp-all-2d", scipy_special.logsumexp, S + "logsumexp", [R.standard_normal((2, 3))], {}, (0,)),
    Row("logsumexp-axis0", scipy_special.logsumexp, S + "logsumexp", [R.standard_normal((2, 3))], {"axis": 0}, (0,)),
    Row(
        "logsumexp-axis-1-keep",
        scipy_special.logsumexp,
        S + "logsumexp",
        [R.standard_normal((2, 3))],
        {"axis": -1, "keepdims": True},
        (0,),
    ),
    Row(
        "logsumexp-axes",
        scipy_special.logsumexp,
        S + "logsumexp",
        [R.standard_normal((2, 3, 2))],
        {"axis": (0, 2)},
        (0,),
    ),
    Row(
        "logsumexp-b",
        scipy_special.logsumexp,
        S + "logsumexp",
        [R.standard_normal((2, 3)), 1, R.uniform(0.5, 2, (2, 3))],
        {},
        (0, 2),
    ),
    Row(
        "logsumexp-b-broadcast",
        scipy_special.logsumexp,
        S + "logsumexp",
        [R.standard_normal((2, 3)), None, R.uniform(0.5, 2, 3)],
        {"keepdims": True},
        (0, 2),
    ),
    Row(
        "logsumexp-a-broadcast",
        scipy_special.logsumexp,
        S + "logsumexp",
        [R.standard_normal(3), 0, R.uniform(0.5, 2, (2, 3))],
        {},
        (0, 2),
    ),
    Row("softmax", scipy_special.softmax, S + "softmax", [R.standard_normal(4)], {}, (0,)),
    Row("softmax-all-2d", scipy_special.softmax, S + "softmax", [R.standard_normal((2, 3))], {}, (0,)),
    Row("softmax-axis1", scipy_special.softmax, S + "softmax", [R.standard_normal((2, 3))], {"axis": 1}, (0,)),
    Row("softmax-axis0", scipy_special.softmax, S + "softmax", [R.standard_normal((2, 3))], {"axis": 0}, (0,)),
    Row("softmax-0d", scipy_special.softmax, S + "softmax", [0.4], {}, (0,)),
    Row("log_softmax", scipy_special.log_softmax, S + "log_softmax", [R.standard_normal(4)], {}, (0,)),
    Row(
        "log_softmax-axis0",
        scipy_special.log_softmax,
        S + "log_softmax",
        [R.standard_normal((2, 3))],
        {"axis": 0},
        (0,),
    ),
    Row(
        "log_softmax-axis-1",
        scipy_special.log_softmax,
        S + "log_softmax",
        [R.standard_normal((2, 3))],
        {"axis": -1},
        (0,),
    ),
]


# scipy24: more functions with closed-form derivatives, against central differences of SciPy's own values
TABLE += [
    *_unary(scipy_special.k0, 0.3, 4),
    *_unary(scipy_special.k1, 0.3, 4),
    *_unary(scipy_special.k0e, 0.3, 4),
    *_unary(scipy_special.k1e, 0.3, 4),
    *_unary(scipy_special.exp1, 0.2, 3),
    *_unary(scipy_special.expi, 0.3, 3),
    Row("expi-negative", scipy_special.expi, S + "expi", [np.array([-3.0, -0.4])], {}, (0,)),
    *_unary(scipy_special.dawsn, -3, 3),
    *_unary(scipy_special.erfi, -1.5, 1.5),
    *_binary(scipy_special.owens_t, (-2, 2), (-2, 2)),
    *_unary(scipy_special.ellipk, -1, 0.9),
    *_unary(scipy_special.ellipe, -1, 0.95),
    Row("ellipk-ellipe-at-0", scipy_special.ellipk, S + "ellipk", [np.array([0.0, 0.3])], {}, (0,)),
    Row("ellipe-at-0", scipy_special.ellipe, S + "ellipe", [np.array([0.0, -0.2])], {}, (0,)),
    Row("hyp1f1-z", scipy_special.hyp1f1, S + "hyp1f1", [1.5, 2.5, _u(-2, 2, (3,))], {}, (2,)),
    Row(
        "hyp1f1-z-broadcast",
        scipy_special.hyp1f1,
        S + "hyp1f1",
        [np.array([[0.5], [2.0]]), _u(1, 3, (3,), 1), _u(-2, 2, (2, 3), 2)],
        {},
        (2,),
    ),
    *_binary(scipy_special.binom, (3, 8), (0.5, 2.5)),
    *_binary(scipy_special.poch, (0.5, 3), (0.2, 2)),
    Row("gammaincinv-y", scipy_special.gammaincinv, S + "gammaincinv", [2.5, _u(0.1, 0.9, (3,))], {}, (1,)),
    Row(
        "gammaincinv-y-broadcast",
        scipy_special.gammaincinv,
        S + "gammaincinv",
        [_u(0.5, 4, (2, 1)), _u(0.1, 0.9, (3,), 1)],
        {},
        (1,),
    ),
    Row("gammainccinv-y", scipy_special.gammainccinv, S + "gammainccinv", [0.7, _u(0.1, 0.9, (3,))], {}, (1,)),
    Row("multigammaln", scipy_special.multigammaln, S + "multigammaln", [_u(3, 6, (3,)), 3], {}, (0,)),
    Row("multigammaln-float", scipy_special.multigammaln, S + "multigammaln", [2.2, 4], {}, (0,)),
]
if hasattr(scipy_special, "softplus"):  # (SciPy 1.15+)
    TABLE += _unary(scipy_special.softplus, -30, 30)


COMPILED = compiled_rows(
    TABLE,
    also=(
        "logsumexp-b-broadcast",
        "softmax-axis0",
    ),
)


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_central_differences(row):
    check_row(row)


def test_every_rule_of_the_module_has_rows():
    from adjoint_compiler.rules import scipy_special as rules_module

    mine = [r.fn for r in registry.all_rules().values() if r.origin == rules_module.__name__]
    assert len(mine) >= 43
    assert {id(fn) for fn in mine} == {id(r.fn) for r in TABLE}


# ---- special points ---------------------------------------------------------------------------------------------


def _grads(fn, *args):
    rule = registry.lookup(fn)
    out = rule.rule(1.0, fn(*args), *args)
    return out if isinstance(out, tuple) else (out,)


def test_xlogy_at_x_zero_follows_jax():
    # xlogy(0, y) == 0 for every y: d/dy is 0 (also at y == 0), d/dx is log(y) (JAX's convention)
    assert _grads(scipy_special.xlogy, 0.0, 2.0) == (np.log(2.0), 0.0)
    with np.errstate(divide="ignore"):
        dx, dy = _grads(scipy_special.xlogy, 0.0, 0.0)
    assert dx == -np.inf and dy == 0.0
    dx, dy = _grads(scipy_special.xlog1py, 0.0, -0.5)
    assert dx == np.log1p(-0.5) and dy == 0.0


def _x_log_terms(x, y):
    return (
        scipy_special.xlogy(x[0], y[0])
        + scipy_special.xlog1py(x[1], y[1])
        - scipy_special.rel_entr(x[2], y[2])
        - scipy_special.kl_div(x[3], y[3])
    )


def test_x_log_y_second_derivative_at_x_zero():
    # np13h: the y-slope x / y was x / 1 at x == 0, so its x-derivative (the mixed second derivative) was 1
    # there, not 1 / y. By hand, d2/dx dy: xlogy 1 / y, xlog1py 1 / (1 + y), rel_entr -1 / y, kl_div -1 / y
    # (so -rel_entr and -kl_div give +1 / y)
    x, y = np.zeros(4), np.array([2.0, 0.5, 4.0, 0.25])
    mixed = ac.hvp(_x_log_terms, wrt=(0, 1))(x, y, (np.ones(4), np.zeros(4)))[1]
    np.testing.assert_allclose(mixed, [1 / 2.0, 1 / 1.5, 1 / 4.0, 1 / 0.25], rtol=1e-12)
    # the slopes at x == 0 themselves keep JAX's convention (above): d/dy 0
    assert ac.grad(_x_log_terms, wrt=1)(x, y).tolist() == [0.0, 0.0, 0.0, -1.0]  # kl_div's d/dy 1 - x/y


def test_bessel_and_exponentially_scaled_at_zero():
    assert _grads(scipy_special.i1, 0.0) == (0.5,)  # (I0 + I2) / 2, where I0 - I1 / x would be 0 / 0
    assert _grads(scipy_special.i1e, 0.0) == (0.5,)
    assert _grads(scipy_special.i0e, 0.0) == (0.0,)  # the kink of e^-|x|: the subgradient 0, as |x|'s
    assert _grads(scipy_special.j1, 0.0) == (0.5,)


def test_gammainc_at_x_zero():
    # x^(a-1) e^-x / Gamma(a): 1 for a == 1, 0 for a > 1, inf for a < 1
    grad = ac.grad(shape_of_gammainc, wrt=1)
    assert grad(1.0, np.zeros(1)).tolist() == [1.0]
    assert grad(2.0, np.zeros(1)).tolist() == [0.0]
    with np.errstate(divide="ignore"):
        assert grad(0.5, np.zeros(1)).tolist() == [np.inf]


def test_softmax_gradient_of_a_constant_shift_is_zero():
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    g = registry.lookup(scipy_special.log_softmax).rule(np.ones((2, 3)), scipy_special.log_softmax(x, axis=1), x, 1)[0]
    assert np.allclose(g, 1.0 - 3.0 * scipy_special.softmax(x, axis=1))


def test_empty_logsumexp_and_softmax():
    x = np.zeros((0, 3))
    assert registry.lookup(scipy_special.logsumexp).rule(np.zeros(3), scipy_special.logsumexp(x, axis=0), x, 0)[
        0
    ].shape == (0, 3)
    assert registry.lookup(scipy_special.softmax).rule(np.zeros((0, 3)), scipy_special.softmax(x, axis=1), x, 1)[
        0
    ].shape == (0, 3)


# ---- end-to-end through compiled functions ----------------------------------------------------------------------


def model(x, w, b):
    z = scipy_special.expit(x * w) + scipy_special.logsumexp(x, b=b)
    return np.sum(scipy_special.log_softmax(z) * b) + np.sum(scipy_special.xlogy(b, z) + scipy_special.gammaln(z + 1.0))


def special_mix(x, y):
    return np.sum(
        scipy_special.erf(x) * scipy_special.i1e(y)
        + scipy_special.polygamma(1, y)
        + scipy_special.betaln(x * x + 1.0, y)
    )


def test_model_gradients_match_central_differences():
    x = np.array([0.3, -1.2, 0.8])
    w = np.array([1.5, 0.2, -0.7])
    b = np.array([0.5, 2.0, 1.0])
    check_grads(model, [x, w, b], wrt=(0, 1, 2))
    _, t = ac.jvp(model, wrt=(0, 1, 2))(x, w, b, (np.ones(3), np.zeros(3), np.zeros(3)))
    assert relative_error(t, directional_difference(model, [x, w, b], 0, np.ones(3))) < 1e-6


def test_mixed_special_functions():
    x = np.array([0.3, -1.2, 0.8])
    y = np.array([0.7, 1.5, 2.5])
    check_grads(special_mix, [x, y], wrt=(0, 1))
    assert ac.grad(ac.grad(lambda_free_square))(0.7) == pytest.approx(
        (lambda_free_square_grad(0.7 + 1e-5) - lambda_free_square_grad(0.7 - 1e-5)) / 2e-5, rel=1e-6
    )


def lambda_free_square(x):
    return scipy_special.expit(x) * scipy_special.erf(x)


def lambda_free_square_grad(x):
    return ac.grad(lambda_free_square)(x)


# ---- refusals ---------------------------------------------------------------------------------------------------


def lse_sign(x):
    return scipy_special.logsumexp(x, return_sign=True)[0]


def expit_out(x):
    return np.sum(scipy_special.expit(x, dtype=np.float64))


def shape_of_gammainc(a, x):
    return np.sum(scipy_special.gammainc(a, x))


def test_return_sign_is_refused_by_name_at_the_call():
    with pytest.raises(ac.CompileError, match=r"test_scipy_special.py:\d+:\d+: .*return_sign"):
        ac.grad(lse_sign)(np.ones(3))
    with pytest.raises(ac.CompileError, match="return_sign"):
        ac.jvp(lse_sign)(np.ones(3), np.ones(3))


def test_ufunc_keyword_is_refused_by_name():
    with pytest.raises(ac.CompileError, match=r"test_scipy_special.py:\d+:\d+: .*dtype"):
        ac.grad(expit_out)(np.ones(3))


def test_gammainc_in_its_shape_is_refused_and_in_x_is_fine():
    x = np.array([0.5, 2.0])
    # refused at compile time, at the call, where a is differentiated (never a zero derivative)
    where = r"test_scipy_special.py:\d+:\d+: .*gammainc with respect to its parameter a"
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(shape_of_gammainc, wrt=(0, 1))(1.5, x)
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.jvp(shape_of_gammainc, wrt=0)(1.5, x, 1.0)
    check_grads(shape_of_gammainc, [1.5, x], wrt=1)


def betainc_of(a, b, x):
    return np.sum(scipy_special.betainc(a, b, x))


def bessel_of(v, x):
    return np.sum(scipy_special.jv(v, x) + scipy_special.kve(v, x))


def hurwitz_zeta_of(s, q):
    return np.sum(scipy_special.zeta(s, q))


def hyp1f1_of(a, b, z):
    return np.sum(scipy_special.hyp1f1(a, b, z))


def gammaincinv_of(a, y):
    return np.sum(scipy_special.gammaincinv(a, y))


@pytest.mark.parametrize(
    "f, args, refused, name",
    [
        (betainc_of, [2.5, 1.5, np.array([0.2, 0.7])], 0, "betainc with respect to its parameter a"),
        (betainc_of, [2.5, 1.5, np.array([0.2, 0.7])], 1, "betainc with respect to its parameter b"),
        (bessel_of, [1.5, np.array([0.4, 2.0])], 0, r"(jv|kve) with respect to its parameter v"),
        (hurwitz_zeta_of, [2.5, np.array([0.4, 2.0])], 0, "zeta with respect to its parameter x"),
        (hyp1f1_of, [1.5, 2.5, np.array([0.4, 2.0])], 0, "hyp1f1 with respect to its parameter a"),
        (hyp1f1_of, [1.5, 2.5, np.array([0.4, 2.0])], 1, "hyp1f1 with respect to its parameter b"),
        (gammaincinv_of, [1.5, np.array([0.4, 0.7])], 0, "gammaincinv with respect to its parameter a"),
    ],
)
def test_shape_or_order_is_refused_at_compile_time_and_x_is_fine(f, args, refused, name):
    x_at = len(args) - 1
    where = r"test_scipy_special.py:\d+:\d+: .*" + name
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.grad(f, wrt=(refused, x_at))(*args)
    with pytest.raises(ac.UnsupportedError, match=where):
        ac.jvp(f, wrt=refused)(*args, 1.0)
    check_grads(f, args, wrt=x_at)
    _, t = ac.jvp(f, wrt=x_at)(*args, np.ones(2))
    assert t == pytest.approx(ac.grad(f, wrt=x_at)(*args).sum())


def gamma_sign(x):
    return np.sum(scipy_special.gammasgn(x) * x)


def test_gammasgn_is_piecewise_constant():
    # declared non-differentiable: d/dx (sign(Gamma(x)) x) is sign(Gamma(x)) on each piece
    x = np.array([-2.5, -1.5, 0.7, 3.0])
    assert registry.is_nondifferentiable(scipy_special.gammasgn) and registry.lookup(scipy_special.gammasgn) is None
    assert ac.grad(gamma_sign)(x).tolist() == [-1.0, 1.0, 1.0, 1.0]
    assert ac.jvp(gamma_sign)(x, np.ones(4))[1] == 2.0


def test_rgamma_at_the_poles_of_gamma():
    # 1 / Gamma is entire: at x = -n its derivative is (-1)^n n!, where -psi / Gamma is inf * 0
    x = np.array([0.0, -1.0, -2.0, -3.0])
    got = ac.grad(lambda_free_rgamma)(x)
    fd = (scipy_special.rgamma(x + 1e-6) - scipy_special.rgamma(x - 1e-6)) / 2e-6
    assert got.tolist() == [1.0, -1.0, 2.0, -6.0]
    assert np.allclose(got, fd, rtol=1e-6)


def lambda_free_rgamma(x):
    return np.sum(scipy_special.rgamma(x))


# ---- registration ----------------------------------------------------------------------------------------------


def test_rules_register_when_the_user_imports_scipy_not_before():
    # importing adjoint_compiler never imports SciPy (scipy.stats and scipy.signal take seconds); the rules of an
    # area register when the user imports it, before or after adjoint_compiler
    code = (
        "import sys, adjoint_compiler\n"
        "from adjoint_compiler.rules import registry\n"
        "assert not any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules)\n"
        "import scipy.special\n"
        "assert registry.lookup(scipy.special.expit) is not None\n"
        "assert 'adjoint_compiler.rules.scipy_stats' not in sys.modules\n"
        "import scipy.stats\n"
        "assert registry.lookup(scipy.stats.norm.logpdf) is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))


def test_losses_at_delta_zero_and_below():
    # pseudo_huber(0, r) == 0 for every r, ~ delta |r| for small delta > 0: d/dr 0, d/ddelta |r| (one-sided, against
    # the one-sided difference); delta < 0 gives inf for both losses, constant: derivatives 0
    r = np.array([-2.0, 0.5, 3.0])
    d_delta, d_r = registry.lookup(scipy_special.pseudo_huber).rule(
        np.ones(3), scipy_special.pseudo_huber(0.0, r), 0.0, r
    )
    h = 1e-7
    one_sided = (scipy_special.pseudo_huber(h, r) - scipy_special.pseudo_huber(0.0, r)) / h
    assert np.allclose(d_r, 0.0) and np.isclose(d_delta, np.sum(one_sided), rtol=1e-6)
    for fn in (scipy_special.huber, scipy_special.pseudo_huber):
        assert np.all(np.isinf(fn(-1.0, r)))
        d_delta, d_r = registry.lookup(fn).rule(np.ones(3), fn(-1.0, r), -1.0, r)
        assert d_delta == 0.0 and np.array_equal(d_r, np.zeros(3))


# ---- scipy24: second order through the new functions' rules (their adjoint bodies differentiated again); a function
# with no rule is refused by name at its call


def newer_special_functions(x, y):
    return (
        np.sum(scipy_special.k0(x) + scipy_special.k1e(x) * scipy_special.exp1(x) + scipy_special.expi(x))
        + np.sum(scipy_special.dawsn(y) + scipy_special.erfi(y) + scipy_special.owens_t(y, x))
        + np.sum(scipy_special.ellipk(0.3 * y) + scipy_special.ellipe(0.3 * y) + scipy_special.hyp1f1(1.5, 2.5, y))
        + np.sum(scipy_special.binom(x + 3.0, x) + scipy_special.poch(x, y + 2.0))
        + np.sum(scipy_special.gammaincinv(2.5, 0.4 * x) + scipy_special.multigammaln(x + 2.0, 3))
    )


def test_the_scipy24_functions_at_first_and_second_order():
    args = (np.array([0.5, 1.2, 2.0]), np.array([-0.8, 0.3, 1.1]))
    ac.check_grads(newer_special_functions, args, wrt=(0, 1), modes=("rev", "fwd"))
    ac.check_grads(newer_special_functions, args, wrt=(0, 1), modes=("rev",), order=2)


def lambert(x):
    return np.sum(np.real(scipy_special.lambertw(x)))


def test_a_special_function_without_a_rule_is_refused_by_name():
    with pytest.raises(ac.CompileError, match="lambertw"):
        ac.grad(lambert)(np.array([0.5, 1.5]))
