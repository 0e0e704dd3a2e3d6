"""rules24 (issue #13): NumPy functions refused before and differentiated now: np.ldexp, np.frexp, np.modf, np.divmod,
np.nextafter (np.spacing declared non-differentiable), np.polynomial.polynomial's polyval, polyder and polyint. Checked
against central differences (first order, and second order through ac.hvp and reverse over reverse), hand-derived
slopes (powers of two, the powers x^k), and forward mode against the gradient; float32, broadcasting, batched
coefficients and the parameters refused by name."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.errors import UnsupportedError
from adjoint_compiler.rules import registry
from adjoint_compiler.testing import check_grads
from tests.rules.test_rule_costs import gradient_error, hvp_error, weights

P = np.polynomial.polynomial
AWAY = np.array([0.3, 1.7, -2.55, 4.2, -0.8, 0.61])  # (no integer, power of two or multiple of 1.5 within 1e-5)


def jvp_matches_grad(f, x):
    v = weights(np.shape(x), 11)
    _, t = ac.jvp(f)(x, v)
    return float(t) == pytest.approx(float(np.sum(ac.grad(f)(x) * v)), rel=1e-10, abs=1e-12)


# ---- floating-point decomposition ------------------------------------------------------------------------------------

DECOMPOSITIONS = [
    lambda t: np.sum(np.sin(np.ldexp(t, np.array([3, -2, 0, 1, 5, -1])))),
    lambda t: np.sum(np.ldexp(np.reshape(t, (2, 3)), np.array([[1], [-3]])) ** 2),  # (the exponent broadcast)
    lambda t: np.sum(np.frexp(t)[0] ** 2 * t),
    lambda t: np.sum(np.frexp(t * t)[0] * np.frexp(t)[1]),  # (the exponent a constant factor)
    lambda t: np.sum(np.modf(t * 1.3)[0] ** 2 + np.modf(t)[1] * t),
    lambda t: np.sum(np.divmod(t, 1.5)[1] ** 2 + np.divmod(t, 0.65)[0] * t),
    lambda t: np.sum(np.nextafter(t, 5.0) ** 3),
]


@pytest.mark.parametrize("k", range(len(DECOMPOSITIONS)))
def test_decompositions_against_central_differences_first_and_second_order(k):
    f = DECOMPOSITIONS[k]
    assert gradient_error(f, AWAY) < 1e-6
    assert hvp_error(f, AWAY) < 1e-6
    assert jvp_matches_grad(f, AWAY)


def test_decomposition_slopes_by_hand():
    x = np.array([0.3, 1.7, -2.5, 0.0, 8.0])
    exponents = np.array([-1, 1, 2, 0, 4])  # frexp's: 0.3 = 0.6 * 2**-1, ..., 8 = 0.5 * 2**4, 0 = 0 * 2**0
    assert np.array_equal(np.frexp(x)[1], exponents)
    assert np.array_equal(ac.grad(lambda t: np.sum(np.frexp(t)[0]))(x), 2.0**-exponents)
    assert np.array_equal(ac.grad(lambda t: np.sum(np.ldexp(t, 3)))(x), np.full(5, 8.0))
    assert np.array_equal(ac.grad(lambda t: np.sum(np.modf(t)[0] + 5 * np.modf(t)[1]))(x), np.ones(5))
    assert ac.grad(lambda t: np.ldexp(t, -2))(3.0) == 0.25
    # the quotient of divmod is piecewise constant; the remainder's slope in the divisor is minus the quotient
    a, b = np.array([7.3, -7.3]), np.array([2.0, 2.0])
    da, db = ac.grad(lambda p, q: np.sum(np.divmod(p, q)[1]), wrt=(0, 1))(a, b)
    assert np.array_equal(da, [1.0, 1.0]) and np.array_equal(db, [-3.0, 4.0])


def test_divmod_in_both_operands_and_its_tangent():
    x, y = AWAY[:4], np.array([0.7, -0.65, 1.3, 2.3])
    f = lambda p, q: np.sum(np.divmod(p, q)[1] ** 2 + np.divmod(p, q)[0] * p)  # noqa: E731
    assert check_grads(f, (x, y), wrt=(0, 1), eps=1e-6, rtol=1e-6) < 1e-6
    _, t = ac.jvp(f, wrt=(0, 1))(x, y, (x, y))
    gx, gy = ac.grad(f, wrt=(0, 1))(x, y)
    assert t == pytest.approx(np.sum(gx * x) + np.sum(gy * y), rel=1e-12)


def test_nextafter_slope_one_in_x1_and_x2_where_they_are_equal():
    x1, x2 = np.array([1.0, 2.0, -3.0]), np.array([1.0, 5.0, -9.0])
    f = lambda p, q: np.sum(np.nextafter(p, q) * np.array([3.0, 5.0, 7.0]))  # noqa: E731
    d1, d2 = ac.grad(f, wrt=(0, 1))(x1, x2)
    assert np.array_equal(d1, [0.0, 5.0, 7.0]) and np.array_equal(d2, [3.0, 0.0, 0.0])  # (np.nextafter(1, 1) is 1: x2)


def test_spacing_is_declared_non_differentiable():
    assert registry.is_nondifferentiable(np.spacing) and registry.lookup(np.spacing) is None
    x = AWAY.copy()
    assert np.array_equal(ac.grad(lambda t: np.sum(t * 2.0 + np.spacing(t) * 1e10))(x), np.full(x.shape, 2.0))


@pytest.mark.parametrize("fn", [lambda t: np.ldexp(t, 2), lambda t: np.frexp(t)[0], lambda t: np.modf(t)[0]])
def test_decompositions_keep_float32(fn):
    x = AWAY.astype(np.float32)
    bar = ac.grad(lambda t: np.sum(fn(t) * 2.0))(x)
    assert bar.dtype == np.float32 and bar.shape == x.shape


def test_empty_and_zero_d():
    assert ac.grad(lambda t: np.sum(np.ldexp(t, 1)) + np.sum(np.frexp(t)[0]))(np.zeros(0)).shape == (0,)
    assert ac.grad(lambda t: np.frexp(t)[0] * 1.0)(np.array(12.0)) == pytest.approx(1 / 16)


def ldexp_where(t):
    return np.sum(np.ldexp(t, 2, where=t > 0))


def ldexp_dtype(t):
    return np.sum(np.ldexp(t, 2, dtype=np.float32))


@pytest.mark.parametrize("f, name", [(ldexp_where, "where"), (ldexp_dtype, "dtype")])
def test_ufunc_keywords_still_refused_by_name(f, name):
    with pytest.raises(UnsupportedError, match=name):
        ac.grad(f)(AWAY)


# ---- np.polynomial.polynomial -------------------------------------------------------------------------------------

X = weights(5)
C = weights(4, 3)
C2 = weights((4, 3), 4)
W = weights((3, 5), 5)
POLYNOMIALS = [
    ("x", lambda t: np.sum(np.sin(P.polyval(t, C))), X),
    ("c", lambda t: np.sum(P.polyval(X, t) ** 2), C),
    ("constant c", lambda t: np.sum(P.polyval(X, t) ** 2), C[:1]),
    ("x at zero", lambda t: np.sum(P.polyval(t * t, C) ** 2), np.array([0.0, 1.0, -0.5])),
    ("c 2-d tensor", lambda t: np.sum(P.polyval(X, t) * W), C2),
    ("x, c 2-d tensor", lambda t: np.sum(P.polyval(t, C2) * W), X),
    ("c 2-d tensor=False", lambda t: np.sum(P.polyval(X[:3], t, tensor=False) ** 2), C2),
    ("x, c 2-d positional tensor=False", lambda t: np.sum(P.polyval(t, C2, False) ** 2), X[:3]),
    ("x 2-d", lambda t: np.sum(P.polyval(t, C2) ** 2), weights((2, 3), 6)),
    ("x and c", lambda t: np.sum(P.polyval(t, t[:3])), X),
    ("polyder", lambda t: np.sum(P.polyder(t) * W[0, :3]), C),
    ("polyder m scl", lambda t: np.sum(P.polyder(t, 2, 3.0) ** 2), weights(6, 8)),
    ("polyder m >= n", lambda t: np.sum(P.polyder(t, 7) + t * t), C),
    ("polyder axis", lambda t: np.sum(P.polyder(t, 2, axis=1) ** 2), W),
    ("polyint", lambda t: np.sum(P.polyint(t) * W[0]), C),
    ("polyint k lbnd scl", lambda t: np.sum(P.polyint(t, 2, [1.0, 2.0], 0.5, 2.0) ** 2), C),
    ("polyint axis", lambda t: np.sum(P.polyint(t, 1, axis=1) ** 2), W),
    ("polyint then polyder", lambda t: np.sum(P.polyval(X, P.polyder(P.polyint(t, 2))) ** 2), C),
]


@pytest.mark.parametrize("name, f, x", POLYNOMIALS, ids=[row[0] for row in POLYNOMIALS])
def test_polynomial_against_central_differences_first_and_second_order(name, f, x):
    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-6
    assert jvp_matches_grad(f, x)


def test_polyval_slopes_by_hand_and_against_the_old_polyval():
    x, c = np.array([0.5, -2.0, 0.0]), np.array([1.0, 2.0, -3.0, 0.25])
    g = np.array([1.0, 10.0, 100.0])
    dc = ac.vjp(lambda t: P.polyval(x, t))(c)[1](g)
    assert np.allclose(dc, [np.sum(g * x**k) for k in range(4)], rtol=1e-14)  # d/dc_k = x^k
    dx = ac.grad(lambda t: np.sum(P.polyval(t, c)))(x)
    assert np.allclose(dx, 2.0 - 6.0 * x + 0.75 * x**2, rtol=1e-14)
    # np.polyval (highest power first) has its own rule: the same derivative with c reversed
    assert np.allclose(dx, ac.grad(lambda t: np.sum(np.polyval(c[::-1], t)))(x), rtol=1e-14)
    assert ac.grad(lambda t: P.polyval(t, c))(0.5) == pytest.approx(2.0 - 3.0 + 0.1875)


def test_polyval_float32_and_empty():
    x = X.astype(np.float32)
    bar = ac.grad(lambda t: np.sum(P.polyval(t, C.astype(np.float32))))(x)
    assert bar.dtype == np.float32
    assert ac.grad(lambda t: np.sum(P.polyval(np.zeros(0), t)))(C).tolist() == [0.0] * 4


def polyder_in_scale(s):
    return np.sum(P.polyder(C, 1, s))


def polyint_in_constant(k):
    return np.sum(P.polyint(C, 1, [k]))


def polyint_in_bound(b):
    return np.sum(P.polyint(C, 1, [], b))


@pytest.mark.parametrize(
    "f, name", [(polyder_in_scale, "scl"), (polyint_in_constant, "parameter k"), (polyint_in_bound, "lbnd")]
)
def test_polynomial_constants_refused_by_name_where_differentiated(f, name):
    with pytest.raises(UnsupportedError, match=name):
        ac.grad(f)(2.0)


# ---- the other bases' evaluations: legval, hermval, hermeval, lagval ---------------------------------------------

BASES = [
    np.polynomial.legendre.legval,
    np.polynomial.hermite.hermval,
    np.polynomial.hermite_e.hermeval,
    np.polynomial.laguerre.lagval,
]


@pytest.mark.parametrize("val", BASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "case",
    ["x", "c", "constant c", "c 2-d", "x, c 2-d", "tensor=False", "x and c"],
)
def test_basis_evaluations_against_central_differences_first_and_second_order(val, case):
    f, x = {
        "x": (lambda t: np.sum(np.sin(val(t, C))), X),
        "c": (lambda t: np.sum(val(X, t) ** 2), C),
        "constant c": (lambda t: np.sum(val(X, t) ** 2), C[:1]),
        "c 2-d": (lambda t: np.sum(val(X, t) * W), C2),
        "x, c 2-d": (lambda t: np.sum(val(t, C2) * W), X),
        "tensor=False": (lambda t: np.sum(val(X[:3], t, tensor=False) ** 2), C2),
        "x and c": (lambda t: np.sum(val(t, t[:3])), X),
    }[case]
    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-6
    assert jvp_matches_grad(f, x)


def test_basis_slopes_by_hand():
    x = np.array([0.5, -2.0, 0.0])
    # P_2 = (3x^2 - 1) / 2, H_2 = 4x^2 - 2, He_2 = x^2 - 1, L_2 = (x^2 - 4x + 2) / 2: slopes 3x, 8x, 2x, x - 2
    for val, slope in zip(BASES, (3 * x, 8 * x, 2 * x, x - 2)):
        assert np.allclose(ac.grad(lambda t: np.sum(val(t, np.array([0.0, 0.0, 1.0]))))(x), slope, rtol=1e-14)
    dc = ac.grad(lambda t: np.sum(np.polynomial.hermite.hermval(x, t)))(np.zeros(3))
    assert np.allclose(dc, [3.0, np.sum(2 * x), np.sum(4 * x**2 - 2)], rtol=1e-14)  # H_0, H_1, H_2 summed over x


# ---- np.cumprod's adjoint without a zero: runtime.cumprod_ratio -----------------------------------------------------


@pytest.mark.parametrize("shape, axis", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -2), ((0, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cumprod_ratio_is_the_reverse_running_sum_over_x_and_leaves_its_arguments_alone(shape, axis, dtype):
    x = (1.0 + 0.3 * weights(shape)).astype(dtype)
    ans = np.cumprod(x, axis)
    g = weights(shape, 2).astype(dtype)
    kept = g.copy(), ans.copy(), x.copy()
    bar = runtime.cumprod_ratio(g, ans, x, axis)
    assert bar.dtype == dtype and bar.shape == shape
    assert np.array_equal(bar, np.flip(np.cumsum(np.flip(g * ans, axis), axis), axis) / x)
    assert all(np.array_equal(a, b) for a, b in zip((g, ans, x), kept))
    spread = runtime.unreduce(np.asarray(2.0, dtype), ans)  # (a full reduction's g: a read-only view of one number)
    assert np.allclose(
        runtime.cumprod_ratio(spread, ans, x, axis), runtime.cumprod_ratio(2.0 * np.ones(shape), ans, x, axis)
    )


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumprod_gradient_and_second_order_through_cumprod_ratio(axis):
    x = 1.0 + 0.3 * weights((4, 5))
    w = weights(np.shape(np.cumprod(x, axis)), 9)
    f = lambda t: np.sum(np.cumprod(t, axis) * w)  # noqa: E731
    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-6
    assert jvp_matches_grad(f, x)
    assert ac.grad(f)(x.astype(np.float32)).dtype == np.float32


# ---- np.lib.stride_tricks.sliding_window_view ------------------------------------------------------------------------


def test_sliding_window_view_sums_each_windows_cotangent_by_hand():
    swv = np.lib.stride_tricks.sliding_window_view
    x = weights(8)
    # each element's gradient is the number of windows of 3 covering it
    assert np.array_equal(ac.grad(lambda t: np.sum(swv(t, 3)))(x), [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 2.0, 1.0])
    f = lambda t: np.sum(swv(t, (2, 3)) * np.arange(36.0).reshape(3, 2, 2, 3))  # noqa: E731
    assert gradient_error(f, weights((4, 4))) < 1e-6
    assert jvp_matches_grad(lambda t: np.sum(np.sin(swv(t, 2, axis=0))), weights((4, 5)))


def windows_written_through(t):
    return np.sum(np.lib.stride_tricks.sliding_window_view(t, 3, writeable=True))


def test_sliding_window_view_writeable_refused_by_name():
    with pytest.raises(Exception, match="writeable=True"):
        ac.grad(windows_written_through)(weights(8))
