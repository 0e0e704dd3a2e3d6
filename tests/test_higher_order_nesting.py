"""Issue #11, the nestings refused before: transforms of ac.hvp and ac.hessian themselves, ac.hessian called inside
a differentiated function (third order), ac.grad(h) held in a local or passed to a helper, and the Hessian of
structured parameters (a structure of structures, as JAX's). Against closed forms and central differences of
the order below."""

import dataclasses
import math
import typing

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import jacobian_columns as _fd


def cubic_sine(x):
    return np.sum(np.sin(x) * x**3)


def _second(x):  # d2/dx2 of sin(x) x^3, elementwise (the Hessian is diagonal)
    return -np.sin(x) * x**3 + 6 * np.cos(x) * x**2 + 6 * np.sin(x) * x


def _third(x):  # d3/dx3, by hand
    return -np.cos(x) * x**3 - 9 * np.sin(x) * x**2 + 18 * np.cos(x) * x + 6 * np.sin(x)


X = np.array([0.3, -0.5, 1.2])
V = np.array([1.0, 2.0, -0.5])
W = np.array([0.4, 0.1, 0.7])
T = np.array([0.2, -1.0, 0.5])


def test_transforms_of_hvp_are_third_derivatives():
    hvp = ac.hvp(cubic_sine)
    value, tangent = ac.jvp(hvp)(X, V, T)
    np.testing.assert_allclose(value, _second(X) * V, rtol=1e-12)
    np.testing.assert_allclose(tangent, _third(X) * V * T, rtol=1e-12)
    np.testing.assert_allclose(tangent, _fd(lambda s: hvp(X + s * T, V), 0.0), rtol=1e-7)
    np.testing.assert_allclose(ac.vjp(hvp)(X, V)[1](W), _third(X) * V * W, rtol=1e-12)
    np.testing.assert_allclose(ac.jacobian(hvp)(X, V), np.diag(_third(X) * V), rtol=1e-12)
    np.testing.assert_allclose(ac.jacobian(hvp)(X, V), _fd(lambda x: hvp(x, V), X), rtol=1e-7, atol=1e-9)
    # in v, the Hessian itself (hvp is linear in v)
    np.testing.assert_allclose(ac.jacobian(hvp, wrt=1)(X, V), np.diag(_second(X)), rtol=1e-12)


def test_grad_of_a_function_calling_hvp_as_the_outer_call_and_inside():
    expected = _third(X) * V * W
    np.testing.assert_allclose(ac.grad(lambda x: ac.hvp(cubic_sine)(x, V) @ W)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(hvp_dotted)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(hvp_dotted)(X), _fd(hvp_dotted, X), rtol=1e-7)


def hvp_dotted(x):
    return ac.hvp(cubic_sine)(x, V) @ W


def test_transforms_of_hessian_are_third_derivatives():
    hessian = ac.hessian(cubic_sine)
    value, tangent = ac.jvp(hessian)(X, T)
    np.testing.assert_allclose(value, np.diag(_second(X)), rtol=1e-12)
    np.testing.assert_allclose(tangent, np.diag(_third(X) * T), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tangent, _fd(lambda s: hessian(X + s * T), 0.0), rtol=1e-7, atol=1e-9)
    U = np.outer(W, V)
    np.testing.assert_allclose(ac.vjp(hessian)(X)[1](U), _third(X) * V * W, rtol=1e-12)
    third = ac.jacobian(hessian)(X)
    assert third.shape == (3, 3, 3)
    np.testing.assert_allclose(third, _fd(hessian, X), rtol=1e-7, atol=1e-9)


def trace_of_hessian(x):
    return np.trace(ac.hessian(cubic_sine)(x)) * np.sum(x)


def test_grad_of_a_function_calling_hessian_is_third_order():
    s = np.sum(X)
    expected = _third(X) * s + np.sum(_second(X))
    np.testing.assert_allclose(ac.grad(trace_of_hessian)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(trace_of_hessian)(X), _fd(trace_of_hessian, X), rtol=1e-7)
    value, tangent = ac.jvp(trace_of_hessian)(X, T)
    assert tangent == pytest.approx(expected @ T, rel=1e-12)
    direct = ac.grad(lambda x: np.trace(ac.hessian(cubic_sine)(x)))(X)
    np.testing.assert_allclose(direct, _third(X), rtol=1e-12)


def quartic_sine(x):
    return math.sin(x) * x**4


def test_derivatives_of_the_hessian_of_a_scalar_function():
    x = 0.7
    hessian = ac.hessian(quartic_sine)
    fourth = (
        math.sin(x) * x**4 - 16 * math.cos(x) * x**3 - 72 * math.sin(x) * x**2 + 96 * math.cos(x) * x + 24 * math.sin(x)
    )
    third = -math.cos(x) * x**4 - 12 * math.sin(x) * x**3 + 36 * math.cos(x) * x**2 + 24 * math.sin(x) * x
    assert ac.grad(hessian)(x) == pytest.approx(third, rel=1e-12)
    assert ac.grad(hessian)(x) == pytest.approx(_fd(hessian, x), rel=1e-7)
    assert ac.grad(ac.grad(ac.grad(ac.grad(quartic_sine))))(x) == pytest.approx(fourth, rel=1e-12)
    # a fourth derivative through the hessian: a gradient of it needs a scalar x, where the Hessian is
    # grad(grad(f)) as tangent code of tangent code, differentiated again to any order
    assert ac.grad(ac.grad(hessian))(x) == pytest.approx(fourth, rel=1e-12)
    assert ac.grad(ac.grad(hessian))(x) == pytest.approx(_fd(ac.grad(hessian), x), rel=1e-7)
    assert ac.grad(ac.grad(ac.hvp(quartic_sine)))(x, 2.0) == pytest.approx(2 * fourth, rel=1e-12)
    assert ac.jvp(ac.hvp(quartic_sine))(x, 2.0, 1.0)[1] == pytest.approx(2 * third, rel=1e-12)


def _quartic_sine_derivative(k, x):
    """The k-th derivative of sin(x) x^4 by Leibniz's rule (hand-derived: (x^4)^(j) and sin^(k-j))."""
    powers = [x**4, 4 * x**3, 12 * x**2, 24 * x, 24.0]
    sines = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    return sum(math.comb(k, j) * powers[j] * sines[(k - j) % 4] for j in range(min(k, 4) + 1))


def gradient_of_the_hessian_inside(x):
    return ac.grad(ac.hessian(quartic_sine))(x) * x


def gradient_of_the_gradient_inside(x):
    return ac.grad(ac.grad(quartic_sine))(x) * x


def hessian_inside(x):
    return ac.hessian(quartic_sine)(x) * x


def test_fifth_and_fourth_derivatives_through_the_hessian():
    x = 0.7
    d = [_quartic_sine_derivative(k, x) for k in range(6)]
    hessian = ac.hessian(quartic_sine)
    assert ac.grad(ac.grad(ac.grad(hessian)))(x) == pytest.approx(d[5], rel=1e-11)
    value, tangent = ac.jvp(ac.grad(ac.grad(hessian)))(x, 1.0)
    assert value == pytest.approx(d[4], rel=1e-12) and tangent == pytest.approx(d[5], rel=1e-11)
    assert ac.value_and_grad(hessian)(x) == pytest.approx((d[2], d[3]), rel=1e-12)
    # called inside a differentiated function: x f3(x), then its gradient x f4(x) + f3(x)
    assert gradient_of_the_hessian_inside(x) == pytest.approx(x * d[3], rel=1e-12)
    assert ac.grad(gradient_of_the_hessian_inside)(x) == pytest.approx(x * d[4] + d[3], rel=1e-11)
    assert ac.grad(gradient_of_the_gradient_inside)(x) == pytest.approx(x * d[3] + d[2], rel=1e-12)
    h = 1e-5
    assert ac.grad(gradient_of_the_hessian_inside)(x) == pytest.approx(
        (gradient_of_the_hessian_inside(x + h) - gradient_of_the_hessian_inside(x - h)) / (2 * h), rel=1e-7
    )


def test_a_gradient_of_the_hessian_of_an_array_is_a_type_error():
    # grad needs a scalar output: the Hessian of an array argument is not one
    with pytest.raises(TypeError):
        ac.grad(ac.hessian(cubic_sine))(X)


@pytest.mark.parametrize(
    "f, k",
    [(hessian_inside, 2), (gradient_of_the_gradient_inside, 2), (gradient_of_the_hessian_inside, 3)],
    ids=["hessian_inside", "grad_grad_inside", "grad_hessian_inside"],
)
def test_fourth_and_fifth_derivatives_through_a_transform_called_inside(f, k):
    # f(x) = x * quartic_sine's k-th derivative, so grad(grad(f)) = x f_(k+2) + 2 f_(k+1): the gradient of a
    # call of ac.hessian or ac.grad(ac.grad(...)) inside, differentiated twice more (was refused: its adjoint
    # was a closure, now compiled from its source, derived._adjoint_source)
    x = 0.7
    d = [_quartic_sine_derivative(j, x) for j in range(k + 3)]
    assert ac.grad(ac.grad(f))(x) == pytest.approx(x * d[k + 2] + 2 * d[k + 1], rel=1e-10)
    h = 1e-4
    first = ac.grad(f)
    assert ac.grad(ac.grad(f))(x) == pytest.approx((first(x + h) - first(x - h)) / (2 * h), rel=1e-6)


def with_a_default(x, scale=2.0):
    return np.sum(x**3) * scale


def calls_hessian_of_a_default(x):
    return np.sum(ac.hessian(with_a_default)(x))


def test_hessian_of_a_function_with_defaults_inside_or_transformed():
    # was refused at the user's code (derived._second_order_source wrote only plain positional parameters)
    x = X
    expected = 2.0 * 6 * np.ones(3)  # d/dx sum(diag(6 x) * 2)
    np.testing.assert_allclose(ac.grad(calls_hessian_of_a_default)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(calls_hessian_of_a_default)(x), _fd(calls_hessian_of_a_default, x), rtol=1e-7)
    hvp = ac.hvp(with_a_default)
    tangent = ac.jvp(hvp)(X, V, T)[1]
    np.testing.assert_allclose(tangent, 2.0 * 6 * V * T, rtol=1e-12)
    np.testing.assert_allclose(tangent, _fd(lambda s: hvp(X + s * T, V), 0.0), rtol=1e-7)


def h(x):
    return math.sin(x) * x**3


def _h1(x):
    return math.cos(x) * x**3 + 3 * math.sin(x) * x**2


def _h2(x):
    return -math.sin(x) * x**3 + 6 * math.cos(x) * x**2 + 6 * math.sin(x) * x


def apply(fn, x):
    return fn(x)


def apply_twice(fn, x):
    y = fn(x)
    return fn(y * 0.5) + y


def gradient_in_a_local(x):
    g = ac.grad(h)
    return g(x) * x


def gradient_passed_to_a_helper(x):
    return apply(ac.grad(h), x) * x


def gradient_passed_to_a_longer_helper(x):
    return apply_twice(ac.grad(h), x)


def value_and_gradient_in_a_local(x):
    vg = ac.value_and_grad(h)
    v, d = vg(x)
    return v * d


def jvp_in_a_local(x):
    j = ac.jvp(h)
    return j(x, 2.0)[1] * x


@pytest.mark.parametrize(
    "f, first",
    [
        (gradient_in_a_local, lambda x: _h2(x) * x + _h1(x)),
        (gradient_passed_to_a_helper, lambda x: _h2(x) * x + _h1(x)),
        (gradient_passed_to_a_longer_helper, lambda x: _h2(0.5 * _h1(x)) * 0.5 * _h2(x) + _h2(x)),
        (value_and_gradient_in_a_local, lambda x: _h1(x) ** 2 + h(x) * _h2(x)),
        (jvp_in_a_local, lambda x: 2 * (_h2(x) * x + _h1(x))),
    ],
)
def test_a_gradient_held_in_a_local_or_passed_to_a_helper(f, first):
    x = 0.7
    assert ac.grad(f)(x) == pytest.approx(first(x), rel=1e-12)
    assert ac.grad(ac.grad(f))(x) == pytest.approx(_fd(first, x), rel=1e-7)
    assert ac.jvp(f)(x, 1.0)[1] == pytest.approx(first(x), rel=1e-12)


@dataclasses.dataclass
class Params:
    a: float
    b: np.ndarray


class Pair(typing.NamedTuple):
    a: float
    b: np.ndarray


def by_fields(p):
    return p.a**2 * np.sum(p.b**3) + math.sin(p.a)


def by_keys(p):
    return p["a"] ** 2 * np.sum(p["b"] ** 3) + math.sin(p["a"])


def by_items(p):
    return p[0] ** 2 * np.sum(p[1] ** 3) + math.sin(p[0])


A, B = 0.5, np.array([1.0, 2.0])
HAA, HAB, HBB = 2 * np.sum(B**3) - math.sin(A), 6 * A * B**2, np.diag(6 * A * A * B)


@pytest.mark.parametrize(
    "f, p, get",
    [
        (by_fields, Params(A, B), lambda s, k: getattr(s, k)),
        (by_fields, Pair(A, B), lambda s, k: getattr(s, k)),
        (by_keys, {"a": A, "b": B}, lambda s, k: s[k]),
        (by_items, [A, B], lambda s, k: s["ab".index(k)]),
        (by_items, (A, B), lambda s, k: s["ab".index(k)]),
    ],
)
def test_hessian_of_a_structure_is_a_structure_of_structures(f, p, get):
    H = ac.hessian(f)(p)
    assert type(H) is type(p) and type(get(H, "a")) is type(p)
    assert get(get(H, "a"), "a") == pytest.approx(HAA, rel=1e-12)
    assert type(get(get(H, "a"), "a")) is float
    np.testing.assert_allclose(get(get(H, "a"), "b"), HAB, rtol=1e-12)
    np.testing.assert_allclose(get(get(H, "b"), "a"), HAB, rtol=1e-12)
    np.testing.assert_allclose(get(get(H, "b"), "b"), HBB, rtol=1e-12)
    # against differences of the gradient along each leaf
    g = ac.grad(by_items)
    np.testing.assert_allclose(_fd(lambda b: g([A, b])[1], B), HBB, rtol=1e-7)
    assert _fd(lambda a: g([a, B])[0], A) == pytest.approx(HAA, rel=1e-7)


def mixed(p, y):
    return by_keys(p) * y**2


def test_hessian_of_a_structure_in_a_tuple_wrt():
    p, y = {"a": A, "b": B}, 1.5
    H = ac.hessian(mixed, (0, 1))(p, y)
    # as JAX's jacfwd(jacrev(f, (0, 1)), (0, 1)): grad's structure (p, y), each number or array in it the
    # structure (p, y) again of its blocks
    assert isinstance(H, tuple) and len(H) == 2 and isinstance(H[0], dict)
    (pa_p, pa_y), (pb_p, pb_y), (y_p, yy) = H[0]["a"], H[0]["b"], H[1]
    assert pa_p["a"] == pytest.approx(HAA * y * y, rel=1e-12)
    np.testing.assert_allclose(pb_p["b"], HBB * y * y, rtol=1e-12)
    np.testing.assert_allclose(pb_y, 2 * y * 3 * A * A * B**2, rtol=1e-12)
    np.testing.assert_allclose(y_p["b"], 2 * y * 3 * A * A * B**2, rtol=1e-12)
    assert pa_y == pytest.approx(2 * y * (2 * A * np.sum(B**3) + math.cos(A)), rel=1e-12)
    assert yy == pytest.approx(2 * by_keys(p), rel=1e-12)


def relaxed(x):
    y = x
    k = 0
    while k < 3:
        y = np.tanh(y) + 0.1 * x
        k += 1
    return np.sum(y**2)


def stencil(x):
    y = x.copy()
    for i in range(1, 3):
        y[i] = y[i] * y[i - 1] + np.sin(y[i])
    return np.sum(y**2)


def products_in_a_list(x):
    parts = []
    for i in range(3):
        parts.append(x[i] * x[(i + 1) % 3])
    return sum(parts) * np.sum(x**2)


def signs(x):
    s = 0.0
    for i in range(3):
        if x[i] > 0:
            s = s + x[i] ** 3
        else:
            s = s + np.sin(x[i]) * x[i]
    return s


@pytest.mark.parametrize("f", [relaxed, stencil, products_in_a_list, signs])
def test_third_derivatives_through_loops_while_in_place_and_lists_match_differences(f):
    # the issue-11 hunt's programs: each transform of hvp and hessian against differences of the order below
    hvp, hessian = ac.hvp(f), ac.hessian(f)
    np.testing.assert_allclose(ac.jvp(hvp)(X, V, T)[1], _fd(lambda s: hvp(X + s * T, V), 0.0), rtol=1e-6)
    np.testing.assert_allclose(ac.vjp(hvp)(X, V)[1](T), T @ _fd(lambda x: hvp(x, V), X), rtol=1e-6)
    np.testing.assert_allclose(ac.jacobian(hessian)(X), _fd(hessian, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        ac.grad(lambda x: ac.hvp(f)(x, V) @ T)(X), _fd(lambda x: hvp(x, V) @ T, X), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        ac.grad(lambda x: np.trace(ac.hessian(f)(x)))(X), _fd(lambda x: np.trace(hessian(x)), X), rtol=1e-6, atol=1e-8
    )
