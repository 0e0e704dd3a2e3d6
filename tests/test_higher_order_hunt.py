"""Second and third derivatives found wrong, crashing or refused at emitted code by the issue-11 hunt
(programs a user would write, against central differences of the order below and hand derivatives)."""

import dataclasses
import math
import typing

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import jacobian_columns as _fd


def penalised(x, *, a=2.0, b=0.5):
    return a * x**3 + b * math.log(1.0 + x * x)


def _penalised_2(x, a=2.0, b=0.5):  # by hand
    return 6 * a * x + b * (2 - 2 * x * x) / (1 + x * x) ** 2


def _penalised_3(x, a=2.0, b=0.5):  # by hand
    return 6 * a + b * (4 * x**3 - 12 * x) / (1 + x * x) ** 3


def test_keyword_only_parameters_with_defaults_in_second_and_third_derivatives():
    # were: TypeError "penalised(): too many positional arguments" (arguments bound twice)
    x = 0.7
    assert ac.vjp(ac.grad(penalised))(x)[1](1.0) == pytest.approx(_penalised_2(x), rel=1e-12)
    assert ac.jacobian(ac.grad(penalised))(x) == pytest.approx(_penalised_2(x), rel=1e-12)
    assert ac.jacobian(ac.grad(penalised), mode="rev")(x) == pytest.approx(_penalised_2(x), rel=1e-12)
    assert ac.hvp(ac.grad(penalised))(x, 1.0) == pytest.approx(_penalised_3(x), rel=1e-10)
    assert ac.jacobian(ac.grad(ac.grad(penalised)))(x) == pytest.approx(_penalised_3(x), rel=1e-10)


def test_derived_transforms_take_keyword_arguments_as_grad_does():
    # were: TypeError "unexpected keyword argument 'a'" from hessian, hvp, jvp/vjp/jacobian of grad
    x, a = 0.7, 1.5
    second = _penalised_2(x, a=a)
    assert ac.grad(penalised)(x, a=a) == pytest.approx(3 * a * x * x + 0.5 * 2 * x / (1 + x * x), rel=1e-12)
    assert ac.hessian(penalised)(x, a=a) == pytest.approx(second, rel=1e-12)
    assert ac.hvp(penalised)(x, 2.0, a=a) == pytest.approx(2 * second, rel=1e-12)
    assert ac.jvp(ac.grad(penalised))(x, 1.0, a=a)[1] == pytest.approx(second, rel=1e-12)
    assert ac.vjp(ac.grad(penalised))(x, a=a)[1](1.0) == pytest.approx(second, rel=1e-12)
    assert ac.jacobian(ac.grad(penalised))(x, a=a) == pytest.approx(second, rel=1e-12)
    assert ac.hvp(ac.grad(penalised))(x, 1.0, a=a) == pytest.approx(_penalised_3(x, a=a), rel=1e-10)


def ridge(w, *, lam=0.3):
    return np.sum(w**4) + lam * np.sum(w) ** 2


def test_keyword_only_array_hessian_and_jacobian():
    w = np.array([0.4, -0.7, 1.1])
    for kwargs in ({}, {"lam": 1.2}):
        lam = kwargs.get("lam", 0.3)
        expected = np.diag(12 * w**2) + 2 * lam * np.ones((3, 3))
        np.testing.assert_allclose(ac.hessian(ridge)(w, **kwargs), expected, rtol=1e-12)
        np.testing.assert_allclose(ac.jacobian(ac.grad(ridge))(w, **kwargs), expected, rtol=1e-12)
        np.testing.assert_allclose(ac.jacobian(ac.grad(ridge), mode="fwd")(w, **kwargs), expected, rtol=1e-12)


def list_of_arrays(w):
    parts = []
    for i in range(3):
        parts.append(w * (i + 1.0))
    parts[1] = parts[1] * parts[0]
    stacked = np.stack(parts)
    return np.sum(np.sin(stacked)) + np.sum(parts[2] ** 2)


def test_hessian_of_a_list_of_arrays_built_in_a_loop():
    # was refused naming the compiler's parts_bar.pop(...): the gradient's tangent code was refused as it
    # ran, and only a refusal while building it fell back to reverse mode over the tangent code
    w = np.array([0.4, -0.7, 1.1])
    second = -np.sin(w) - 16 * w * w * np.sin(2 * w * w) + 4 * np.cos(2 * w * w) - 9 * np.sin(3 * w) + 18
    expected = np.diag(second)
    np.testing.assert_allclose(ac.hessian(list_of_arrays)(w), expected, rtol=1e-10)
    np.testing.assert_allclose(_fd(ac.grad(list_of_arrays), w), expected, rtol=1e-6)
    v = np.array([0.3, 0.2, -0.7])
    np.testing.assert_allclose(ac.hvp(list_of_arrays)(w, v), expected @ v, rtol=1e-10)
    np.testing.assert_allclose(ac.vjp(ac.grad(list_of_arrays))(w)[1](v), expected @ v, rtol=1e-10)


def growing(x):
    xs = [x, x * x]
    xs.append(math.exp(x))
    xs[0] = xs[0] * xs[2]
    return sum(xs)


def calls_grad_of_growing(x):
    return ac.grad(growing)(x * 2.0) + x * x


def test_first_derivative_of_a_function_calling_grad_of_a_list_builder():
    x, h = 0.4, 1e-5
    expected = (calls_grad_of_growing(x + h) - calls_grad_of_growing(x - h)) / (2 * h)
    assert ac.grad(calls_grad_of_growing)(x) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: ac.grad(ac.grad(ac.grad(f))),
        lambda f: ac.jacobian(ac.grad(ac.grad(f))),
        lambda f: lambda x: ac.hvp(ac.grad(f))(x, 1.0),
        lambda f: ac.hessian(ac.grad(f)),
    ],
)
def test_higher_derivatives_refused_at_the_users_function_not_at_emitted_code(transform):
    # were located at <adjoint_compiler:calls_grad_of_growing_jvp:...> or at the pseudo file of d1calls_...
    with pytest.raises(ac.UnsupportedError) as e:
        transform(calls_grad_of_growing)(0.4)
    message = str(e.value)
    assert message.startswith("%s:%d:1: error:" % (__file__, calls_grad_of_growing.__code__.co_firstlineno))
    assert "calls_grad_of_growing" in message and "<adjoint_compiler" not in message
    assert "stored" not in message  # (the emitted code's helper: the construct is the user's store)


def test_hessian_of_a_function_calling_grad_of_a_list_builder():
    # (was refused: the adjoint of growing's gradient, which updates its list in place, was a closure; now
    # compiled from its source, derived._adjoint_source)
    x, h = 0.4, 1e-5
    g = ac.grad(calls_grad_of_growing)
    expected = (g(x + h) - g(x - h)) / (2 * h)
    assert ac.hessian(calls_grad_of_growing)(x) == pytest.approx(expected, rel=1e-7)
    assert ac.grad(ac.grad(calls_grad_of_growing))(x) == pytest.approx(expected, rel=1e-7)
    # value_and_grad(grad(f)): where f's derivative as tangent code is refused, grad(f) beside grad(grad(f))
    value, second = ac.value_and_grad(ac.grad(calls_grad_of_growing))(x)
    assert value == pytest.approx(g(x), rel=1e-15) and second == pytest.approx(expected, rel=1e-7)


def prepend_loop(x):
    xs = [x]
    for i in range(3):
        xs.insert(0, xs[0] * math.sin(x))
    return sum(xs) * xs[-1]


def test_grad_of_grad_through_list_insert():
    # was TypeError "object of type 'shape_of' has no len()" in runtime.stored: reverse over the
    # gradient's xs_bar[:0] = ... (a slice store whose value the adjoint keeps only the shape of)
    x, h = 0.6, 1e-5
    g = ac.grad(prepend_loop)
    expected = (g(x + h) - g(x - h)) / (2 * h)
    assert ac.grad(ac.grad(prepend_loop))(x) == pytest.approx(expected, rel=1e-6)
    assert ac.hessian(prepend_loop)(x) == pytest.approx(expected, rel=1e-6)
    third = (ac.grad(g)(x + h) - ac.grad(g)(x - h)) / (2 * h)
    assert ac.grad(ac.grad(ac.grad(prepend_loop)))(x) == pytest.approx(third, rel=1e-5)


def sines(w):
    return np.sum(np.sin(w) * w**2)


def test_hessian_and_jacobian_keep_float32():
    w = np.array([0.4, -0.7, 1.1], np.float32)
    expected = np.diag(-np.sin(w) * w**2 + 4 * w * np.cos(w) + 2 * np.sin(w))
    for H in (
        ac.hessian(sines)(w),
        ac.jacobian(ac.grad(sines))(w),
        ac.jacobian(ac.grad(sines), mode="rev")(w),
    ):
        assert H.dtype == np.float32
        np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-6)
    assert ac.jacobian(np.sin, mode="rev")(w).dtype == np.float32
    assert ac.hessian(sines)(w.astype(float)).dtype == np.float64


def slice_store(x):
    xs = [x, x * 2.0, x * 3.0, 1.0]
    xs[1:3] = [xs[2] * xs[0], math.sin(xs[1])]
    return xs[0] * xs[1] + xs[2] ** 2 + xs[3]  # 3 x^3 + sin(2x)^2 + 1


def test_forward_over_reverse_of_a_list_slice_store():
    # was WRONG (9.10 for 5.06 at 0.7): the tangent of the gradient code dropped zero_slots(xs_bar, 1:3),
    # so xs_bar_dot kept the stored slots' tangents
    x = 0.7
    second = 18 * x + 8 * math.cos(4 * x)
    assert ac.hessian(slice_store)(x) == pytest.approx(second, rel=1e-12)
    assert ac.hvp(slice_store)(x, 1.0) == pytest.approx(second, rel=1e-12)
    assert ac.jvp(ac.grad(slice_store))(x, 1.0) == pytest.approx((9 * x * x + 2 * math.sin(4 * x), second), rel=1e-12)
    assert ac.vjp(ac.grad(slice_store))(x)[1](1.0) == pytest.approx(second, rel=1e-12)
    assert ac.grad(ac.grad(slice_store))(x) == pytest.approx(second, rel=1e-12)
    assert ac.grad(ac.grad(ac.grad(slice_store)))(x) == pytest.approx(18 - 32 * math.sin(4 * x), rel=1e-10)


def two(x, y):
    return x * x * y + math.sin(x * y)


def calls_grads_of_two(x):
    return ac.grad(two, 1)(x, 2.0 * x) + ac.grad(two, 0)(0.5, x)


def calls_grad_of_two_in_both(x):
    gx, gy = ac.grad(two, (0, 1))(x, 2.0 * x)
    return gx * gy


def test_gradients_of_one_function_in_two_wrt_refused_with_the_way_out():
    # was CompileError "two called functions are both named two_grad; rename one" (names the user never wrote)
    way_out = r"gradients of two in two different wrt.*ac.grad\(two, wrt=\(0, 1\)\)"
    with pytest.raises(ac.UnsupportedError, match=way_out):
        ac.grad(calls_grads_of_two)(0.7)
    x, h = 0.7, 1e-5
    expected = (calls_grad_of_two_in_both(x + h) - calls_grad_of_two_in_both(x - h)) / (2 * h)
    assert ac.grad(calls_grad_of_two_in_both)(x) == pytest.approx(expected, rel=1e-7)
    g = ac.grad(calls_grad_of_two_in_both)
    assert ac.grad(ac.grad(calls_grad_of_two_in_both))(x) == pytest.approx((g(x + h) - g(x - h)) / (2 * h), rel=1e-6)


def calls_jvps_of_two(x):
    return ac.jvp(two, 0)(x, 2.0, 1.0)[1] * ac.jvp(two, 1)(x, 2.0, 1.0)[1]


def test_jvps_of_one_function_in_two_wrt_refused_with_the_way_out():
    with pytest.raises(ac.UnsupportedError, match=r"jvps of two in two different wrt.*ac.jvp\(two, wrt=\(0, 1\)\)"):
        ac.grad(calls_jvps_of_two)(0.7)


def settle(w):
    s = w
    for k in range(3):
        s = np.tanh(s) * w + 0.1 * s
    return np.sum(s**2)


def calls_grad_of_settle(w):
    g = ac.grad(settle)(w)
    return np.sum(g**2) + np.sum(w**3)


def test_gradient_of_a_function_calling_the_gradient_of_an_array_loop():
    # was ValueError from np.broadcast_to: the adjoint of unbroadcast(g, shape_of(a)) took np.ndim of the
    # shape_of stand-in as 0 (it had no ndim)
    w = np.array([0.4, -0.7, 1.1])
    g = ac.grad(calls_grad_of_settle)
    np.testing.assert_allclose(g(w), _fd(calls_grad_of_settle, w), rtol=1e-6)
    H = ac.hessian(calls_grad_of_settle)(w)
    np.testing.assert_allclose(H, _fd(g, w), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ac.hessian(settle)(w), _fd(ac.grad(settle), w), rtol=1e-6, atol=1e-8)


def shifted(w):
    a = w.copy()
    a[0] = a[0] * a[1]
    a[1:] += a[:-1] ** 2
    return np.sum(a**2)


def calls_hvp_of_shifted(w):
    return np.sum(ac.hvp(shifted)(w, np.ones(3)) ** 2)


def test_gradient_of_a_function_calling_hvp_of_in_place_code_matches_differences():
    # was an UnsupportedError located in adjoint_compiler/derived.py (the package's own file), then refused at the
    # call ("derivative code of shifted called here"); ac.hvp inside is now derived._second_order_source, the
    # gradient of shifted's tangent code, differentiated again
    w = np.array([0.4, -0.7, 1.1])
    np.testing.assert_allclose(ac.grad(calls_hvp_of_shifted)(w), _fd(calls_hvp_of_shifted, w), rtol=1e-7)
    value, tangent = ac.jvp(calls_hvp_of_shifted)(w, np.array([0.3, 0.2, -0.7]))
    assert tangent == pytest.approx(_fd(calls_hvp_of_shifted, w) @ [0.3, 0.2, -0.7], rel=1e-7)


@dataclasses.dataclass
class Coefficients:
    a: float
    b: float


class Point(typing.NamedTuple):
    u: float
    v: float


def with_coefficients(p):
    return p.a**3 * p.b + math.sin(p.a * p.b)


def at_point(p):
    return p.u * p.u * p.v + math.exp(p.v * 0.5)


def test_hvp_of_dataclass_and_namedtuple_parameters():
    # was refused ("'p.a' with a differentiated value (p) where it has no derivative") though grad takes them
    a, b = 0.7, 1.3
    s, c = math.sin(a * b), math.cos(a * b)
    H = np.array([[6 * a * b - s * b * b, 3 * a * a + c - a * b * s], [3 * a * a + c - a * b * s, -s * a * a]])
    got = ac.hvp(with_coefficients)(Coefficients(a, b), Coefficients(0.3, -2.0))
    assert isinstance(got, Coefficients)
    np.testing.assert_allclose([got.a, got.b], H @ [0.3, -2.0], rtol=1e-12)
    got = ac.hvp(at_point)(Point(0.7, 1.3), Point(1.0, 2.0))
    assert isinstance(got, Point)
    np.testing.assert_allclose(got, [2 * 1.3 + 2 * 1.4, 1.4 + 2 * 0.25 * math.exp(0.65)], rtol=1e-12)


def nest(x, n):
    if n == 0:
        return x
    return math.sin(nest(x, n - 1)) + x


def calls_grad_of_nest(x):
    return ac.grad(nest)(x, 3) ** 2


def test_second_derivative_through_grad_of_a_recursion():
    # the first derivative goes through derived.gradient_adjoint; the second was refused, first as "*args in a
    # call, whose length is not known" (that helper's own signature), then naming ac.grad(nest): the adjoint
    # is now compiled from its source (derived._adjoint_source)
    x, h = 0.7, 1e-5
    expected = (calls_grad_of_nest(x + h) - calls_grad_of_nest(x - h)) / (2 * h)
    assert ac.grad(calls_grad_of_nest)(x) == pytest.approx(expected, rel=1e-7)
    g = ac.grad(calls_grad_of_nest)
    second = (g(x + h) - g(x - h)) / (2 * h)
    for transform in (ac.hessian, lambda f: ac.grad(ac.grad(f))):
        assert transform(calls_grad_of_nest)(x) == pytest.approx(second, rel=1e-7)


def exp_sum(x, y):
    t = 0.0
    for k in range(1, 3):
        t = t + math.exp(x * y * k) / k
    return t * x


def test_hessian_of_a_gradient_in_a_tuple_wrt():
    # third order in (x, y): was refused naming the compiler's own call, "a jvp inside a differentiated function
    # whose tangent is not a tuple display" (derived.along spelled the tangents as one name)
    x, y, h = 0.5, 0.8, 1e-5
    d = ac.grad(exp_sum, 0)
    rows = [ac.grad(d, 0), ac.grad(d, 1)]
    expected = [[(r(x + h, y) - r(x - h, y)) / (2 * h), (r(x, y + h) - r(x, y - h)) / (2 * h)] for r in rows]
    np.testing.assert_allclose(np.array(ac.hessian(d, (0, 1))(x, y)), np.array(expected), rtol=1e-6)


WEIGHTS = np.array([0.5, 1.5, -0.5])


def weighted(w):
    return 1.7 * np.sum(WEIGHTS * w**3) + np.sum(np.exp(WEIGHTS * w))


def calls_grad_in_a_loop(w):
    s = 0.0
    for i in range(2):
        s = s + np.sum(ac.grad(weighted)(w * (i + 1.0)) ** 2)
    return s


def test_hessian_of_a_function_calling_grad_in_a_loop():
    # was TypeError "float() argument must be ... not 'shape_of'" in runtime.zeros_like of a taped tuple of
    # shape_of stand-ins (reverse mode over the tangent code)
    w = np.array([0.4, -0.7, 1.1])
    g = ac.grad(calls_grad_in_a_loop)
    H = _fd(g, w)
    np.testing.assert_allclose(ac.hessian(calls_grad_in_a_loop)(w), H, rtol=1e-6)
    v = np.array([0.3, 0.2, -0.7])
    np.testing.assert_allclose(ac.hvp(calls_grad_in_a_loop)(w, v), H @ v, rtol=1e-6)
    np.testing.assert_allclose(ac.vjp(g)(w)[1](v), v @ H, rtol=1e-6)
