"""Derivatives of functions that call ac.grad of a function whose gradient code cannot be differentiated
again (it calls its callees' pullbacks, updates a list in place, holds a checkpointed loop): the adjoint and
tangent of that call are compiled from source (derived._adjoint_source, derived._tangent_source), so third
and fourth derivatives go through them. References: central differences of the order below, closed forms.
Also the cotangent of an element of a returned tuple that is itself a list or dict (was added with +=)."""

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.3, -0.7, 1.1])
WEIGHTS = np.array([1.0, 2.0, 3.0])


def helper(x):
    s = x**3
    t = s * 2.0 + np.sin(x)
    return t


def through_a_call(x):
    return np.sum(helper(x) * x[0])


def through_a_loop(x):
    y = x
    for _ in range(3):
        y = helper(y) * 0.3
    return np.sum(y)


def through_in_place_stores(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1:] += x[1:] ** 3
    return np.sum(y * y)


def through_a_checkpointed_loop(x):
    y = x
    for _ in ac.checkpointed(range(4)):
        y = np.sin(y) * x
    return np.sum(y)


def with_a_keyword(x, *, scale):
    s = np.sum(x**4)
    return s * scale


def calls_with_a_keyword(x):
    return np.sum(ac.grad(with_a_keyword)(x, scale=1.5) * WEIGHTS)


def _hessian_differences(f, x, h=1e-4):
    hessian = ac.hessian(f)
    return np.stack([(hessian(x + h * e) - hessian(x - h * e)) / (2 * h) for e in np.eye(len(x))], -1)


def _weighted_gradient(f):
    return lambda x: np.sum(ac.grad(f)(x) * WEIGHTS)


def _close(got, want, rtol):
    scale = np.max(np.abs(want))
    assert np.max(np.abs(np.asarray(got) - want)) <= rtol * scale, (got, want)


FUNCTIONS = [through_a_call, through_a_loop, through_in_place_stores, through_a_checkpointed_loop]


@pytest.mark.parametrize("f", FUNCTIONS)
def test_hessian_of_a_function_calling_grad_is_a_third_derivative(f):
    # H(sum_i w_i grad_i f) = sum_i w_i d^3 f / dx_i dx_j dx_k (was refused naming ac.grad(f) called inside)
    third = _hessian_differences(f, X)
    want = np.einsum("ijk,i->jk", third, WEIGHTS)
    _close(ac.hessian(_weighted_gradient(f))(X), want, rtol=1e-5)
    _close(ac.hvp(_weighted_gradient(f))(X, WEIGHTS), want @ WEIGHTS, rtol=1e-5)
    _close(ac.jacobian(lambda x: ac.hvp(f)(x, WEIGHTS))(X), np.einsum("ijk,j->ik", third, WEIGHTS), rtol=1e-5)


def gradient_inside(x):
    return np.sum(ac.grad(through_a_call)(x) ** 2)


def test_fourth_derivatives_through_a_gradient_of_a_gradient_inside():
    third = _hessian_differences(gradient_inside, X)
    _close(ac.jacobian(ac.hessian(gradient_inside))(X), third, rtol=1e-5)
    _close(ac.hessian(_weighted_gradient(gradient_inside))(X), np.einsum("ijk,i->jk", third, WEIGHTS), rtol=1e-5)


def quartic_sum(x):
    return np.sum(np.sin(x) * x**2)


def calls_hessian(x):
    return np.sum(ac.hessian(quartic_sum)(x))


def test_gradient_of_a_gradient_of_a_function_calling_hessian_on_arrays():
    # a fourth derivative: was refused ("a fourth derivative through a hessian or hvp")
    inner = _weighted_gradient(calls_hessian)
    h = 1e-4
    want = np.array([(inner(X + h * e) - inner(X - h * e)) / (2 * h) for e in np.eye(3)])
    _close(ac.grad(inner)(X), want, rtol=1e-6)


def test_keyword_only_parameters_of_the_function_whose_gradient_is_called_inside():
    # calls_with_a_keyword = sum_i w_i 4 x_i^3 * 1.5: its Hessian diag(36 w x), the gradient of its sum 36 w
    _close(ac.hessian(calls_with_a_keyword)(X), np.diag(WEIGHTS * 36 * X), rtol=1e-12)
    _close(ac.grad(lambda x: np.sum(ac.hessian(calls_with_a_keyword)(x)))(X), WEIGHTS * 36, rtol=1e-12)


def loss_with_aux(x):
    y = x**4
    return y, {"y": y}


def first_output_gradient(x):
    return ac.grad(loss_with_aux, has_aux=True)(x)[0]


def test_third_and_fourth_derivatives_through_has_aux():
    # d/dx 4 x^3 = 12 x^2, then 24 x, then 24 (was refused: "a third derivative through has_aux"; then a
    # TypeError adding the aux dict's cotangents with +=)
    x = 1.2
    assert ac.grad(first_output_gradient)(x) == pytest.approx(12 * x**2, rel=1e-12)
    assert ac.grad(ac.grad(first_output_gradient))(x) == pytest.approx(24 * x, rel=1e-12)
    assert ac.grad(ac.grad(ac.grad(first_output_gradient)))(x) == pytest.approx(24.0, rel=1e-12)


def pair_with_a_list(x):
    a = x * 2.0
    b = x**2
    return (a, [b, 3.0 * x])


def pair_with_a_dict(x):
    a = x * 2.0
    b = x**2
    return (a, {"y": b})


def nested(x, make):
    s = x + 1.0
    return s, make(x)


def returns_a_list_read_from_a_tuple(x):
    u, t = nested(x, pair_with_a_list)
    return (u, t[1])


def returns_a_dict_read_from_a_tuple(x):
    u, t = nested(x, pair_with_a_dict)
    return (u, t[1])


def dict_reader(d):
    s = d["y"] * 2.0
    return s * d["y"]


def passes_an_element_to_a_function(x):
    u, t = nested(x, pair_with_a_list)
    return dict_reader({"y": t[1][0]}) + u


def test_cotangent_of_a_list_or_dict_element_of_a_returned_tuple():
    # first order: t_bar[1] += list extended the list (ValueError in emitted code), += of dicts a TypeError
    x = 1.5
    value, pullback = ac.vjp(returns_a_list_read_from_a_tuple)(x)
    assert value == (2.5, [2.25, 4.5])
    assert pullback((1.0, [1.0, 1.0])) == pytest.approx(1.0 + 2 * x + 3.0, rel=1e-15)
    value, pullback = ac.vjp(returns_a_dict_read_from_a_tuple)(x)
    assert pullback((1.0, {"y": 1.0})) == pytest.approx(1.0 + 2 * x, rel=1e-15)
    # 2 (x^2)^2 + x + 1: 8 x^3 + 1
    assert ac.grad(passes_an_element_to_a_function)(x) == pytest.approx(8 * x**3 + 1, rel=1e-15)


def scaled_through_a_call(x, scale=2.0):
    return np.sum(helper(x)) * scale


def calls_with_the_default_left_out(x):
    return np.sum(ac.grad(scaled_through_a_call)(x) * WEIGHTS)


def test_a_default_left_out_of_the_call_inside():
    # the call passes x only: its adjoint, compiled from source, returns one cotangent, not (x_bar, None);
    # the function is sum_i w_i 2 (6 x_i^2 + cos x_i): its Hessian diag(2 (12 - cos x) w)
    want = np.diag(2 * (12 - np.cos(X)) * WEIGHTS)
    _close(ac.hessian(calls_with_the_default_left_out)(X), want, rtol=1e-12)
    third = np.einsum("ijk,i->jk", _hessian_differences(scaled_through_a_call, X), WEIGHTS)
    _close(ac.hessian(calls_with_the_default_left_out)(X), third, rtol=1e-5)


def cube_times(*xs):
    return xs[0] ** 3 * xs[1] + np.sin(xs[0])


def _cube_times_second(a, b):
    return 6 * a * b - np.sin(a)


@pytest.mark.parametrize(
    "transform, want",
    [
        (lambda: ac.grad(ac.grad(cube_times))(1.5, 2.0), lambda a, b: _cube_times_second(a, b)),
        (lambda: ac.grad(ac.grad(cube_times), 1)(1.5, 2.0), lambda a, b: 3 * a * a),
        (lambda: ac.value_and_grad(ac.grad(cube_times))(1.5, 2.0)[1], lambda a, b: _cube_times_second(a, b)),
        # (a *args function's jvp takes one tangent, for wrt, after the arguments)
        (lambda: ac.jvp(ac.grad(cube_times))(1.5, 2.0, 1.0)[1], lambda a, b: _cube_times_second(a, b)),
        (lambda: ac.grad(ac.grad(ac.grad(cube_times)))(1.5, 2.0), lambda a, b: 6 * b - np.cos(a)),
        (lambda: ac.grad(ac.hessian(cube_times))(1.5, 2.0), lambda a, b: 6 * b - np.cos(a)),
        (lambda: ac.jvp(ac.hessian(cube_times), 1)(1.5, 2.0, 1.0)[1], lambda a, b: 6 * a),
        (
            lambda: ac.jacobian(ac.grad(cube_times), (0, 1))(1.5, 2.0),
            lambda a, b: (_cube_times_second(a, b), 3 * a * a),
        ),
    ],
)
def test_transforms_of_transforms_of_a_function_taking_star_args(transform, want):
    # each call's variant (every argument positional) nests as any function's (was refused: "this nesting of
    # transforms ... of an f without *args"); hand-derived derivatives of a^3 b + sin a
    assert transform() == pytest.approx(want(1.5, 2.0), rel=1e-12)


def test_jacobian_of_a_function_taking_star_args():
    # was a TypeError for wrt beyond its first parameter ("wrt=1 is out of range: ... has 1 parameters")
    a, b = 1.5, 2.0
    assert ac.jacobian(cube_times, (0, 1))(a, b) == pytest.approx((3 * a * a * b + np.cos(a), a**3), rel=1e-12)
    assert ac.jacobian(cube_times, 1, mode="rev")(a, b) == pytest.approx(a**3, rel=1e-12)
    x = np.array([0.3, 0.8])
    want = np.diag(3 * x * x * 2.0 + np.cos(x))
    np.testing.assert_allclose(ac.jacobian(cube_times)(x, 2.0), want, rtol=1e-12)


def grad_inside(a, b):
    return ac.grad(cube_times)(a, b) * b


def hvp_inside(a, b):
    return ac.hvp(cube_times)(a, b, 1.0) * a


def hessian_inside(a, b):
    return ac.hessian(cube_times, 1)(a, b) + ac.grad(cube_times, 1)(a, b) * a


def jvp_inside(a, b):
    return ac.jvp(cube_times, 1)(a, b, 1.0)[1] * b


@pytest.mark.parametrize(
    "f, want",
    [
        # d/da [(3 a^2 b + cos a) b] = (6 a b - sin a) b
        (grad_inside, lambda a, b: (6 * a * b - np.sin(a)) * b),
        # d/da [(6 a b - sin a) a] = 12 a b - sin a - a cos a
        (hvp_inside, lambda a, b: 12 * a * b - np.sin(a) - a * np.cos(a)),
        # d/da [0 + a^3 a] = 4 a^3
        (hessian_inside, lambda a, b: 4 * a**3),
        # d/da [a^3 b] = 3 a^2 b
        (jvp_inside, lambda a, b: 3 * a * a * b),
    ],
)
def test_transforms_of_a_function_taking_star_args_called_inside(f, want):
    # the call's count of arguments fixes h's variant (specialise._fixed_count); was refused ("*xs parameter")
    a, b, h = 1.5, 2.0, 1e-5
    assert ac.grad(f)(a, b) == pytest.approx(want(a, b), rel=1e-12)
    assert ac.grad(f)(a, b) == pytest.approx((f(a + h, b) - f(a - h, b)) / (2 * h), rel=1e-8)
