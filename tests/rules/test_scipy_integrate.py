"""Table-driven checks of the ``scipy.integrate`` quadrature rules (``trapezoid``, ``simpson``) against central
differences of SciPy's own functions (test_scipy_special.check_row): odd and even numbers of samples (SciPy's
Simpson corrects the last interval of an even count), uniform ``dx`` (differentiated), sample points ``x`` of one
axis or of ``y``'s axes, every axis, broadcasting. Refusals; forward mode in tests/rules/test_tangents.py."""

import numpy as np
import pytest

scipy_integrate = pytest.importorskip("scipy.integrate")

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler.rules import registry  # noqa: E402
from tests.rules.test_scipy_special import Row, check_row, compiled_rows  # noqa: E402

R = np.random.default_rng(13)


def _points(shape, axis=-1):
    # sample points increasing along axis, unevenly spaced
    return np.cumsum(R.uniform(0.2, 1.0, shape), axis=axis)


def _rows(fn, name):
    out = []
    for n in (1, 2, 3, 4, 5, 6, 7, 8):
        out.append(Row("%s-%d" % (name, n), fn, "scipy.integrate." + name, [R.standard_normal((3, n))], {}, (0,)))
        out.append(
            Row("%s-%d-dx" % (name, n), fn, "scipy.integrate." + name, [R.standard_normal(n)], {"dx": 0.7}, (0,))
        )
        out.append(
            Row("%s-%d-x" % (name, n), fn, "scipy.integrate." + name, [R.standard_normal((2, n)), _points(n)], {}, (0,))
        )
    return out + [
        Row(
            "%s-x-axes" % name,
            fn,
            "scipy.integrate." + name,
            [R.standard_normal((4, 3)), _points((4, 3), 0)],
            {"axis": 0},
            (0,),
        ),
        Row(
            "%s-x-every-axis" % name,
            fn,
            "scipy.integrate." + name,
            [R.standard_normal((2, 5, 3)), _points((2, 5, 3), 1)],
            {"axis": 1},
            (0,),
        ),
        Row(
            "%s-x-1d-axis0" % name,
            fn,
            "scipy.integrate." + name,
            [R.standard_normal((6, 2)), _points(6)],
            {"axis": 0},
            (0,),
        ),
        Row("%s-axis-middle" % name, fn, "scipy.integrate." + name, [R.standard_normal((2, 4, 3))], {"axis": 1}, (0,)),
    ]


def _dx_rows(fn, name):
    # dx differentiated (a positional argument of trapezoid, a keyword of simpson: here the row's third argument)
    out = []
    for n in (3, 4, 5, 6):
        if fn is scipy_integrate.trapezoid:
            out.append(
                Row(
                    "%s-%d-dx-active" % (name, n),
                    fn,
                    "scipy.integrate." + name,
                    [R.standard_normal((2, n)), None, 0.6],
                    {},
                    (0, 2),
                )
            )
    return out


TABLE = [
    *_rows(scipy_integrate.trapezoid, "trapezoid"),
    *_dx_rows(scipy_integrate.trapezoid, "trapezoid"),
    *_rows(scipy_integrate.simpson, "simpson"),
]

COMPILED = compiled_rows(TABLE, also=("simpson-4", "simpson-6-x", "simpson-x-axes", "trapezoid-4-x"))


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_central_differences(row):
    check_row(row)


def test_every_rule_of_the_module_has_rows():
    from adjoint_compiler.rules import scipy_integrate as rules_module

    mine = {r.fn for r in registry.all_rules().values() if r.origin == rules_module.__name__}
    # (trapezoid: np.trapezoid's rule; odeint: a refusal, test_odeint_is_refused_at_the_users_call)
    assert mine | {scipy_integrate.trapezoid} == {r.fn for r in TABLE} | {scipy_integrate.odeint}
    assert registry.lookup(scipy_integrate.trapezoid).origin == "adjoint_compiler.rules.np_reductions"


def test_simpson_weights_are_scipys_for_odd_and_even_counts():
    # the rule's cotangent of y is g times these weights: for a uniform grid 1/3 [1 4 2 ... 4 1] (odd count, times
    # dx in the rule), and with an even count SciPy >= 1.11's Simpson's rule on the first n - 2 intervals and a
    # correction for the last (Cartwright; with h0 = h1 = 1: alpha = 5/12, beta = 2/3, eta = 1/12)
    from adjoint_compiler.rules.scipy_integrate import simpson_weights

    np.testing.assert_allclose(simpson_weights(np.zeros(7), None, 0.5, -1)[0], np.array([1, 4, 2, 4, 2, 4, 1]) / 3)
    even = np.array([1, 4, 2, 4, 1, 0]) / 3 + np.array([0, 0, 0, -1 / 12, 2 / 3, 5 / 12])
    np.testing.assert_allclose(simpson_weights(np.zeros(6), None, 1.0, -1)[0], even, rtol=1e-14)
    np.testing.assert_allclose(simpson_weights(np.zeros(2), None, 1.0, -1)[0], [0.5, 0.5])


def simpson_dx(y, dx):
    return np.sum(np.sin(scipy_integrate.simpson(y * y, dx=dx, axis=0))) + scipy_integrate.trapezoid(y[0] ** 2, dx=dx)


def test_dx_and_second_order_match_central_differences():
    y = R.standard_normal((6, 3))
    ac.check_grads(simpson_dx, (y, 0.6), wrt=(0, 1), modes=("rev", "fwd"), order=2)


def simpson_of_points(y, x):
    return scipy_integrate.simpson(y, x=x)


def test_simpson_refuses_differentiated_sample_points_at_the_call():
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_integrate.py:\d+:\d+: .*simpson with respect to .*x"):
        ac.grad(simpson_of_points, 1)(np.ones(5), np.arange(5.0))
    # y alone, x constant: works
    assert np.allclose(
        ac.grad(simpson_of_points, 0)(np.ones(5), np.arange(5.0)), scipy_integrate.simpson(np.eye(5), x=np.arange(5.0))
    )


def decay(y, t, a, b):
    return -a * y + b * t


def integrated(y0, a):
    return np.sum(scipy_integrate.odeint(decay, y0, np.linspace(0.1, 0.2, 4), args=(a, a)))


@pytest.mark.parametrize("wrt, what", [(0, "y0"), (1, "args")])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_odeint_is_refused_at_the_users_call(wrt, what, mode):
    # (np13f) LSODA in compiled code: refused where the user called it (not inside SciPy's wrapper), with the
    # way out; odeint of constants still runs
    located = r"test_scipy_integrate\.py:\d+:\d+: error: the derivative of scipy\.integrate\.odeint"
    with pytest.raises(ac.UnsupportedError, match=located) as info:
        if mode == "grad":
            ac.grad(integrated, wrt)(np.ones(3), np.ones(3))
        else:
            ac.jvp(integrated, wrt)(np.ones(3), np.ones(3), np.ones(3))
    assert "parameter %s" % what in str(info.value) and "RK4" in str(info.value)
    assert "scipy/integrate" not in str(info.value)


def test_odeint_differentiated_itself_is_refused_through_its_rule():
    # ac.vjp(odeint) given the user's func (autograd's test_odeint): the rule's refusal, not SciPy's source
    with pytest.raises(ac.UnsupportedError, match=r"odeint with respect to its parameter y0") as info:
        ac.vjp(scipy_integrate.odeint, wrt=1)(decay, np.ones(3), np.linspace(0.1, 0.2, 4), (np.ones(3), np.ones(3)))
    assert "scipy/integrate" not in str(info.value) and "RK4" in str(info.value)
