"""Table-driven checks of the ``scipy.integrate`` quadrature rules (``trapezoid``, ``simpson``) against central
differences of SciPy's own functions (test_scipy_special.check_row): odd and even numbers of samples (SciPy's
Simpson corrects the last interval of an even count), uniform ``dx`` (differentiated), sample points ``x`` of one
axis or of ``y``'s axes, every axis, broadcasting. Refusals; forward mode in tests/rules/test_tangents.py."""

import numpy as np
import pytest

scipy_integrate = pytest.importorskip("scipy.integrate")
scipy_special_ellipkm1 = pytest.importorskip("scipy.special").ellipkm1  # (a function with no rule)

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
    # (trapezoid: np.trapezoid's rule; odeint: an ODE solve, tested on its own below)
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


# ---- odeint (np13j): the adjoint method and the sensitivity equations, against central differences of odeint ----
# itself and closed forms. odeint solves to rtol = atol = 1e-10 here, so a central difference with step 1e-4 has
# an error near 1e-10 / 1e-4 + 1e-8 (truncation): both modes are checked to 1e-5 relative.


def odeint_differences(fn, args, wrt, h=1e-4):
    # the gradient of scalar fn in args[wrt] by central differences
    x = np.asarray(args[wrt], dtype=float)
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[k] = h
        up, down = list(args), list(args)
        up[wrt], down[wrt] = x + e, x - e
        if np.ndim(args[wrt]) == 0:
            up[wrt], down[wrt] = float(up[wrt]), float(down[wrt])
        out[k] = (fn(*up) - fn(*down)) / (2 * h)
    return out


def check_odeint(fn, args, wrt):
    # grad against central differences in each argument of wrt, and jvp along a random direction against grad
    grads = ac.grad(fn, wrt)(*args)
    for k, i in enumerate(wrt):
        expected = odeint_differences(fn, args, i)
        np.testing.assert_allclose(grads[k], expected, rtol=1e-5, atol=1e-7)
        assert np.shape(grads[k]) == np.shape(args[i])
    directions = tuple(R.standard_normal(np.shape(args[i])) if np.ndim(args[i]) else 0.7 for i in wrt)
    value, derivative = ac.jvp(fn, wrt)(*args, directions)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    expected = sum(np.sum(d * np.asarray(odeint_differences(fn, args, i))) for d, i in zip(directions, wrt))
    assert derivative == pytest.approx(expected, rel=1e-5, abs=1e-7)
    return grads


def decay(y, t, k):
    return -k * y


def decayed(y0, k, t):
    return np.sum(np.sin(scipy_integrate.odeint(decay, y0, t, args=(k,), rtol=1e-10, atol=1e-10)))


def test_odeint_exponential_decay_in_y0_rate_and_times():
    y0, k, t = np.array([1.0, -0.5, 2.0]), 0.8, np.array([0.2, 0.5, 1.1, 1.6])
    grads = check_odeint(decayed, (y0, k, t), (0, 1, 2))
    # by hand: y_i = y0 exp(-k (t_i - t_0)), the loss sum sin(y)
    y = y0[None, :] * np.exp(-k * (t - t[0]))[:, None]
    c = np.cos(y)
    np.testing.assert_allclose(grads[0], np.sum(c * np.exp(-k * (t - t[0]))[:, None], axis=0), rtol=1e-7)
    assert grads[1] == pytest.approx(np.sum(c * -(t - t[0])[:, None] * y), rel=1e-7)
    t_bar = np.sum(c * -k * y, axis=1)
    t_bar[0] = -np.sum(t_bar[1:])
    np.testing.assert_allclose(grads[2], t_bar, rtol=1e-7)


def linear(y, t, a):
    return a @ y


def linear_system(y0, a):
    out = scipy_integrate.odeint(linear, y0, np.array([0.0, 0.4, 1.0]), args=(a,), rtol=1e-10, atol=1e-10)
    return np.sum(out**2) + out[-1, 0]


def test_odeint_linear_system_against_expm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    y0, a = np.array([1.0, -0.3]), np.array([[-0.5, 1.0], [-1.2, -0.1]])
    grads = check_odeint(linear_system, (y0, a), (0, 1))
    # closed form y(t) = expm(a t) y0: the gradient in y0 is sum_i expm(a t_i)^T dL/dy_i
    g = np.zeros(2)
    for s in (0.0, 0.4, 1.0):
        phi = scipy_linalg.expm(a * s)
        y = phi @ y0
        g += phi.T @ (2 * y + (s == 1.0) * np.array([1.0, 0.0]))
    np.testing.assert_allclose(grads[0], g, rtol=1e-7)


def lotka_volterra(z, t, alpha, beta, gamma, delta):
    prey, predator = z[0], z[1]
    return np.array([alpha * prey - beta * prey * predator, delta * prey * predator - gamma * predator])


def populations(z0, alpha, beta, gamma, delta):
    out = scipy_integrate.odeint(
        lotka_volterra, z0, np.linspace(0.0, 3.0, 7), args=(alpha, beta, gamma, delta), rtol=1e-10, atol=1e-10
    )
    return np.sum(out[:, 0] * 0.3 + np.log(out[:, 1]))


def test_odeint_lotka_volterra_in_its_four_parameters():
    check_odeint(populations, (np.array([1.2, 0.8]), 1.1, 0.4, 0.9, 0.3), (0, 1, 2, 3, 4))


def forced(y, t, a, w):
    return -a * y + np.sin(w * t) * np.array([1.0, 2.0])


def forced_response(y0, a, w, t):
    return np.sum(scipy_integrate.odeint(forced, y0, t, args=(a, w), rtol=1e-10, atol=1e-10) ** 2)


def test_odeint_time_dependent_func_in_every_argument():
    t = np.array([0.3, 0.7, 1.0, 2.2])
    check_odeint(forced_response, (np.array([0.5, -1.0]), np.array([0.4, 1.3]), 2.0, t), (0, 1, 2, 3))


def forced_first(t, y, a, w):
    return forced(y, t, a, w)


def forced_tfirst(y0, a, t):
    return np.sum(
        np.cos(scipy_integrate.odeint(forced_first, y0, t, args=(a, 1.5), tfirst=True, rtol=1e-10, atol=1e-10))
    )


def test_odeint_tfirst_and_scalar_state():
    check_odeint(forced_tfirst, (np.array([0.5, -1.0]), 0.6, np.array([0.0, 0.5, 1.5])), (0, 1, 2))
    check_odeint(decayed, (1.5, 0.3, np.array([0.0, 1.0, 2.0])), (0, 1, 2))


def decay_forced(y, t, a, b):
    return -a * y + b * t


def integrated(y0, a):
    return np.sum(scipy_integrate.odeint(decay_forced, y0, np.linspace(0.1, 0.2, 4), args=(a, a)))


def test_odeint_one_value_in_two_args_gets_both_contributions():
    check_odeint(integrated, (np.ones(3), np.array([0.5, 1.0, 2.0])), (0, 1))


def test_odeint_differentiated_itself_autograds_test_odeint():
    # ac.vjp(odeint) given the user's func (autograd's test_odeint): the rule's adjoint; the cotangent of args is
    # a tuple of one per argument, the cotangent of t one per time
    t = np.linspace(0.1, 0.2, 4)
    y0, a, b = np.ones(3), np.array([0.5, 1.0, 2.0]), np.array([0.1, 0.2, 0.3])
    value, pullback = ac.vjp(scipy_integrate.odeint, wrt=(1, 2, 3))(decay_forced, y0, t, (a, b))
    np.testing.assert_allclose(value, scipy_integrate.odeint(decay_forced, y0, t, args=(a, b)))
    g = R.standard_normal(value.shape)
    y0_bar, t_bar, (a_bar, b_bar) = pullback(g)

    def loss(y0, a, b, t):
        return np.sum(g * scipy_integrate.odeint(decay_forced, y0, t, args=(a, b)))

    for got, i in ((y0_bar, 0), (a_bar, 1), (b_bar, 2), (t_bar, 3)):
        np.testing.assert_allclose(got, odeint_differences(loss, (y0, a, b, t), i, h=1e-5), rtol=1e-5, atol=1e-7)


def in_closure(y0, a):
    def rhs(y, t):
        return -a * y

    return np.sum(scipy_integrate.odeint(rhs, y0, np.linspace(0.0, 1.0, 3)))


def uncompilable(y, t, a):
    return -scipy_special_ellipkm1(a) * y


def with_uncompilable(y0, a):
    return np.sum(scipy_integrate.odeint(uncompilable, y0, np.linspace(0.0, 1.0, 3), args=(a,)))


def with_full_output(y0, a):
    return np.sum(scipy_integrate.odeint(decay, y0, np.linspace(0.0, 1.0, 3), args=(a,), full_output=True)[0])


def twice(a):
    return ac.grad(decayed, 1)(np.ones(2), a, np.linspace(0.0, 1.0, 3))


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_odeint_refusals_are_located(mode):
    def run(fn):
        if mode == "grad":
            return ac.grad(fn, (0, 1))(np.ones(2), 0.5)
        return ac.jvp(fn, (0, 1))(np.ones(2), 0.5, (np.ones(2), 1.0))

    # a func closing over a differentiated value: the closure is not differentiated, refused at the nested def
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_integrate\.py:\d+:\d+: .*nested function 'rhs'"):
        run(in_closure)
    # a func the compiler cannot differentiate: located in func, naming it
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_integrate\.py:\d+:\d+: .*odeint .*func uncompilable"):
        run(with_uncompilable)
    # full_output=True: refused at the user's call
    with pytest.raises(ac.CompileError, match=r"test_scipy_integrate\.py:\d+:\d+: .*full_output=True"):
        run(with_full_output)


def test_odeint_second_derivatives_are_refused():
    with pytest.raises(ac.UnsupportedError, match=r"odeint .*second derivatives are not supported"):
        ac.grad(twice)(0.5)
    with pytest.raises(ac.UnsupportedError, match=r"odeint .*second derivatives are not supported"):
        ac.hessian(decayed, 1)(np.ones(2), 0.5, np.linspace(0.0, 1.0, 3))


def network(inputs, t, params):  # autograd's ode_net.py: the dynamics are a network of [(W, b), ...]
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs


def network_loss(params, y0, t):
    pred = scipy_integrate.odeint(network, y0, t, tuple((params,)), rtol=1e-10, atol=1e-10)
    return np.sum((pred - 1.0) ** 2)


def test_odeint_in_an_argument_of_func_that_is_a_list_of_tuples_of_arrays():
    # its cotangent has the list's structure (was a ValueError inside the emitted code, where it was not a zero)
    rng = np.random.default_rng(5)
    params = [(rng.standard_normal((2, 3)) * 0.5, rng.standard_normal(3) * 0.5)]
    params.append((rng.standard_normal((3, 2)) * 0.5, rng.standard_normal(2) * 0.5))
    y0, t = np.array([2.0, 0.0]), np.linspace(0.0, 1.5, 5)
    grads = ac.grad(network_loss)(params, y0, t)
    assert type(grads) is list and all(type(g) is tuple for g in grads)
    for (gw, gb), (w, b), i in zip(grads, params, range(2)):
        for g, x, j in ((gw, w, 0), (gb, b, 1)):

            def moved(v, i=i, j=j):
                changed = [list(p) for p in params]
                changed[i][j] = v
                return network_loss([tuple(p) for p in changed], y0, t)

            np.testing.assert_allclose(g, odeint_differences(moved, (x,), 0), rtol=1e-5, atol=1e-7)
    with pytest.raises(NotImplementedError, match="list, tuple or dict"):
        ac.jvp(network_loss, wrt=0)(params, y0, t, [(np.ones_like(w), np.ones_like(b)) for w, b in params])
