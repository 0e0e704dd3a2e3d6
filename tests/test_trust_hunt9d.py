"""Hunt (issue #9): forward mode and second order over calls with constant arguments (infinite ones among
them), np.where guards, min/max ties, integer exponents, helpers with defaults and keyword-only parameters,
containers and recursion. Each program's jvp, hvp, jvp of grad, Hessian and forward Jacobian is compared
with central differences of the function (or of its gradient). Before the callee jvps were compiled in the
parameters that vary at each call, the ones over softmin/lse with an infinite constant (p16, p36, p45-p48)
gave nan in forward mode and every second order (0.0 tangent * inf)."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import central_along


# (ties: max(x, x) and clipmax(x, 1.0) at x != 1 are away from the tie: central differences see one branch)
def helper_kw(x, *, p=2, scale=1.0):
    return scale * x**p


def helper_def(x, c=3.0, eps=1e-12):
    return np.sqrt(x * x + eps) * c


def guard_log(x):
    return np.where(x > 0.0, np.log(np.where(x > 0.0, x, 1.0)), 0.0)


def clipmax(a, b):
    return max(a, b)


def mask_inf(v, lim):
    w = np.where(np.isfinite(lim), v / lim, 0.0)
    return np.sum(w * v)


def p01(x):
    return helper_kw(x, p=3) + helper_kw(x, scale=2.0)


def p02(x):
    return helper_def(x) * helper_def(x, 0.5)


def p03(x):
    return np.sum(guard_log(x) ** 2)


def p04(x):
    return clipmax(x, 1.0) * x


def p05(x):
    return max(x * x, x) + min(x, 2.0 * x)


def p06(x):
    return x**3 + x**-2 + x**0


def p07(x):
    return np.sum(x**4) - np.prod(x**2)


def p08(x):
    return mask_inf(x, np.array([1.0, np.inf, 2.0]))


def p09(x):
    t = 0.0
    for i in range(4):
        t = t + helper_kw(x, p=i, scale=0.5)
    return t


def p10(x):
    d = {"a": x, "b": 2.0}
    return d["a"] * d["b"] + helper_def(d["a"], d["b"])


def p11(x):
    xs = [x, 1.0, np.inf]
    return np.min(np.array(xs)) * x


def p12(x):
    return np.sum(np.maximum(x, 0.5) * np.minimum(x, 0.5))


def p13(x):
    return np.sum(np.where(x > 0.5, x**2, np.sin(x)))


def sq_rec(x, n, c):
    if n == 0:
        return c
    return x * sq_rec(x, n - 1, c)


def p14(x):
    return sq_rec(x, 3, 2.0)


def p15(x):
    return sq_rec(2.0, 2, x) + sq_rec(x, 2, x)


def lse(v, t=1.0):
    m = np.max(v)
    return m + t * np.log(np.sum(np.exp((v - m) / t)))


def p16(x):
    return lse(np.array([x[0], -np.inf, x[1]]), 0.5)


def p17(x):
    return lse(x) * lse(x, 2.0)


def p18(x):
    a, b = x[0], x[1]
    return clipmax(a * b, b) ** 2


def p19(x):
    return np.sum(np.abs(x) ** 3)


def p20(x):
    return np.linalg.norm(x) ** 2 + np.sum(x) ** 2


def tup(a, b):
    return (a * b, a + b)


def p21(x):
    u, v = tup(x, 3.0)
    s, t = tup(2.0, x)
    return u * v + s * t


def p22(x):
    out = []
    for k in range(3):
        out.append(helper_kw(x, p=k + 1))
    return sum(out)


def p23(x):
    return np.sum(np.where(np.abs(x) < 1e-3, 1.0, np.sin(x) / np.where(np.abs(x) < 1e-3, 1.0, x)))


def p24(x):
    return math.exp(-x) * math.log1p(x) + math.hypot(x, 2.0)


def p25(x):
    return np.sum(np.tanh(x) * np.exp(x) / (1.0 + x**2))


def wrap(f, x, k=2):
    return f(x) ** k


def p26(x):
    return wrap(np.sin, x) + wrap(np.cos, x, 3)


def p27(x):
    s = 0.0
    i = 0
    while i < 3:
        s = s + clipmax(x, float(i)) * x
        i += 1
    return s


def p28(x):
    return np.sum(np.clip(x, -0.5, 0.5) * x)


def p29(x):
    return np.sum(np.sort(x) * np.array([1.0, 2.0, 3.0]))


def p30(x):
    return np.sum(np.cumsum(x) ** 2) + np.sum(np.diff(x) ** 3)


def kwonly2(a, *, b, c=0.0):
    return a * b + c * a * a


def p31(x):
    return kwonly2(x, b=3.0) + kwonly2(2.0, b=x, c=1.0) + kwonly2(x, c=x, b=x)


def p32(x):
    return np.sum(np.exp(np.where(x > 0, -x, x)))


def p33(x):
    return np.sum(x[:2] * x[1:]) + x[0] ** 3


def p34(x):
    return np.mean(x) * np.var(x) + np.std(x)


def p35(x):
    return (x**2.5) * (x**-0.5) + x**1


def p36(x):
    return sq_rec(x, 2, 1.0) * lse(np.array([x, -np.inf]))


def ret_list(a, n):
    return [a * i for i in range(n)]


def p37(x):
    return sum(ret_list(x, 4)) * x


def p38(x):
    m = np.array([[x[0], 1.0], [2.0, x[1]]])
    return np.sum(np.linalg.inv(m)) + np.linalg.det(m)


def p39(x):
    return np.sum(np.where(np.isinf(np.log(np.abs(x) + 0.0 * x)), 0.0, x**2))


def p40(x):
    return helper_def(x, eps=0.0) if x > 0 else -x


def p41(x):
    return np.sum(np.maximum(x, x[::-1]) ** 2)


def p42(x):
    return np.sum(np.exp(x) / np.sum(np.exp(x)) * x)


def p43(x):
    return np.dot(x, x) * lse(x, t=0.25)


def p44(x):
    return clipmax(x, x) * x


def softmin(a, b, c, gamma=0.5):
    vals = np.array([a, b, c]) / -gamma
    m = vals.max()
    return -gamma * (m + np.log(np.sum(np.exp(vals - m))))


def p45(x):
    return softmin(x, np.inf, 2.0) * x


def p46(x):
    return softmin(x[0], x[1], np.inf, gamma=0.25)


def p47(x):
    t = 0.0
    for j in range(3):
        t = t + softmin(x, np.inf, float(j))
    return t


def p48(x):
    return softmin(softmin(x, np.inf, 1.0), 2.0, np.inf)


def p49(x):
    return np.sum(np.where(np.isfinite(x / np.array([1.0, 0.0])), x, 0.0) ** 3)


def p50(x):
    return helper_kw(x, p=2, scale=np.inf) * 0.0 if x > 5 else helper_kw(x, scale=x)


PROGRAMS = [
    (p45, 0.3),
    (p46, np.array([0.3, 0.8])),
    (p47, 0.4),
    (p48, 0.2),
    (p49, np.array([0.7, 0.2])),
    (p50, 0.6),
] + [
    (f, x)
    for f, x in [
        (p01, 0.7),
        (p02, 0.8),
        (p03, np.array([0.5, 1.3, -0.4])),
        (p04, 1.5),
        (p05, 0.6),
        (p06, 1.3),
        (p07, np.array([0.4, 1.1, -0.9])),
        (p08, np.array([0.3, 0.7, 1.1])),
        (p09, 0.9),
        (p10, 0.6),
        (p11, 0.4),
        (p12, np.array([0.2, 0.9])),
        (p13, np.array([0.2, 0.9, 0.51])),
        (p14, 0.9),
        (p15, 0.7),
        (p16, np.array([0.3, 0.9])),
        (p17, np.array([0.1, 0.5, -0.3])),
        (p18, np.array([0.7, 1.2])),
        (p19, np.array([0.4, -0.6])),
        (p20, np.array([0.3, 0.2, -0.5])),
        (p21, 0.7),
        (p22, 0.8),
        (p23, np.array([0.3, 1e-4, -0.8])),
        (p24, 0.6),
        (p25, np.array([0.1, -0.3])),
        (p26, 0.4),
        (p27, 1.3),
        (p28, np.array([0.2, 0.7, -0.9])),
        (p29, np.array([0.3, -0.2, 0.8])),
        (p30, np.array([0.5, 0.1, 0.9])),
        (p31, 0.7),
        (p32, np.array([0.5, -0.3])),
        (p33, np.array([0.5, 0.7, 0.2])),
        (p34, np.array([0.1, 0.6, 0.4])),
        (p35, 1.4),
        (p36, 0.8),
        (p37, 0.9),
        (p38, np.array([1.5, 2.5])),
        (p39, np.array([0.4, -0.7])),
        (p40, 0.6),
        (p41, np.array([0.3, 0.9, -0.2])),
        (p42, np.array([0.3, -0.1, 0.6])),
        (p43, np.array([0.2, 0.4])),
        (p44, 0.7),
    ]
]


def _direction(x):
    return np.random.default_rng(9).standard_normal(np.shape(x)) if np.ndim(x) else 1.0


@pytest.mark.parametrize("f,x", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_jvp_against_central_differences(f, x):
    v = _direction(x)
    np.testing.assert_allclose(ac.jvp(f)(x, v)[1], central_along(f, x, v, h=1e-5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f,x", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_second_order_against_central_differences_of_the_gradient(f, x):
    v = _direction(x)
    g = ac.grad(f)
    expected = central_along(g, x, v, h=1e-5)
    np.testing.assert_allclose(ac.hvp(f)(x, v), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ac.jvp(g)(x, v)[1], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.dot(ac.hessian(f)(x), v), expected, rtol=1e-5, atol=1e-6)
    if np.ndim(x):
        np.testing.assert_allclose(ac.jacobian(f, mode="fwd")(x), _central_gradient(f, x), rtol=1e-5, atol=1e-6)


def _central_gradient(f, x):
    return np.array([central_along(f, x, e, h=1e-5) for e in np.eye(len(x))])


# ---- exact zeros of a constant's parts in a tangent (found by this hunt, wrong in main) -------------------------
MASK = np.array([1.0, -np.inf])


def masked_log_sum_exp(x):
    v = np.array([x, 1.0]) * MASK  # [x, -inf]: log(e^x + 0) = x
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def masked_exp(x):
    a = np.array([x, 3.0])
    return np.sum(np.exp(a * np.array([1.0, -np.inf])))  # e^x + 0


def list_element_times_inf(x):
    xs = [x, 2.0]
    return xs[0] + np.exp(-xs[1] * np.inf)  # x + 0


def stored_constant(x):
    a = np.zeros(2)
    a[0] = x
    a[1] = 1.0
    return np.sum(np.exp(a * MASK))  # e^x


@pytest.mark.parametrize(
    "f,x,first,second",
    [
        (masked_log_sum_exp, 0.5, 1.0, 0.0),
        (masked_exp, 0.5, math.exp(0.5), math.exp(0.5)),
        (list_element_times_inf, 0.5, 1.0, 0.0),
        (stored_constant, 0.5, math.exp(0.5), math.exp(0.5)),
    ],
)
def test_a_constant_part_of_a_container_times_an_infinity(f, x, first, second):
    # the tangent of np.array([x, 1.0]) is np.array([x_dot, 0.0]); times [1, -inf] that was [x_dot, nan] (a nan
    # jvp and hvp; reverse mode drops the constant's cotangent): an element-wise function of such a tangent
    # keeps its exact zeros (cotangent_where)
    assert ac.grad(f)(x) == pytest.approx(first, rel=1e-12)
    assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(first, rel=1e-12)
    assert ac.hvp(f)(x, 1.0) == pytest.approx(second, rel=1e-9, abs=1e-12)
    assert ac.hessian(f)(x) == pytest.approx(second, rel=1e-9, abs=1e-12)
    assert central_along(f, x, 1.0, h=1e-5) == pytest.approx(first, rel=1e-6)


def masked_in_a_loop(a):
    t = 0.0
    for i in range(2):
        t = t + np.sum(np.exp(a * MASK)) * 0.5
    return t


def passed_to_a_callee(x):
    return masked_in_a_loop(np.array([x, 3.0]))  # e^x


def scaled_exp(a, c):
    b = a * c
    return np.sum(np.exp(b))


def two_calls_one_mixed(x):
    return scaled_exp(np.array([x, 3.0]), MASK) + scaled_exp(np.array([x, x]), np.ones(2))  # e^x + 2 e^x


@pytest.mark.parametrize("f,by_hand", [(passed_to_a_callee, 1.0), (two_calls_one_mixed, 3.0)])
def test_a_container_with_a_constant_part_passed_to_a_called_function(f, by_hand):
    # the callee's jvp is compiled knowing that its parameter's tangent may hold exact zeros (h_jvp_a_zeros_in_a)
    x = 0.5
    assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(by_hand * math.exp(x), rel=1e-12)
    assert ac.hvp(f)(x, 1.0) == pytest.approx(by_hand * math.exp(x), rel=1e-9)
    assert ac.grad(f)(x) == pytest.approx(central_along(f, x, 1.0, h=1e-5), rel=1e-6)


def mixed_pair(x):
    a = np.array([x, 3.0])
    return a + 0.0


def returned_by_a_callee(x):
    return np.sum(np.exp(mixed_pair(x) * MASK))  # e^x


def mixed_dict(x):
    v = np.array([x, 3.0])
    return {"v": v * 1.0, "c": 2.0}


def returned_in_a_dict(x):
    r = mixed_dict(x)
    return np.sum(np.exp(r["v"] * MASK)) * r["c"]  # 2 e^x


def mixed_nested(x):
    v = np.array([x, 1.0])
    return ((v * 2.0, 1.0), 2.0)


def returned_in_a_nested_tuple(x):
    (a, b), c = mixed_nested(x)
    return np.sum(np.exp(a * MASK)) + b * c  # e^(2x) + 2


def shifted_pair(x):
    v = np.array([x, 3.0])
    return v - 1.0


def through_two_callees(x):
    return shifted_pair(x)


def returned_through_two_callees(x):
    return np.sum(np.exp(through_two_callees(x) * MASK))  # e^(x - 1)


def returned_in_a_loop(x):
    s = 0.0
    v = np.array([x, 1.0])
    for i in range(3):
        s = s + np.sum(np.exp(v * MASK))  # the second pass reads the callee's value
        v = shifted_pair(x * (i + 1))
    return s  # e^x + e^(x - 1) + e^(2x - 1)


def all_constant(x):
    return np.ones(2) + 0.0 * 1.0


def returned_constant(x):
    return np.sum(np.exp(all_constant(x) * MASK)) + x


@pytest.mark.parametrize(
    "f,by_hand,second",
    [
        (returned_by_a_callee, lambda x: math.exp(x), lambda x: math.exp(x)),
        (returned_in_a_dict, lambda x: 2.0 * math.exp(x), lambda x: 2.0 * math.exp(x)),
        (returned_in_a_nested_tuple, lambda x: 2.0 * math.exp(2 * x), lambda x: 4.0 * math.exp(2 * x)),
        (returned_through_two_callees, lambda x: math.exp(x - 1), lambda x: math.exp(x - 1)),
        (
            returned_in_a_loop,
            lambda x: math.exp(x) + math.exp(x - 1) + 2 * math.exp(2 * x - 1),
            lambda x: math.exp(x) + math.exp(x - 1) + 4 * math.exp(2 * x - 1),
        ),
        (returned_constant, lambda x: 1.0, lambda x: 0.0),
    ],
)
def test_a_container_with_a_constant_part_returned_by_a_called_function(f, by_hand, second):
    # the callee's jvp says its tangent may hold exact zeros (tangent.returns_partial): the caller keeps them
    x = 0.5
    assert ac.grad(f)(x) == pytest.approx(by_hand(x), rel=1e-12)  # reverse mode drops the constant part
    assert ac.grad(f)(x) == pytest.approx(central_along(f, x, 1.0, h=1e-5), rel=1e-6)
    assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(by_hand(x), rel=1e-12)
    assert ac.hvp(f)(x, 1.0) == pytest.approx(second(x), rel=1e-9, abs=1e-12)
