"""Issue #11, second hunt: nested transforms as users write them (implicit layers by Newton's method,
physics-informed losses, Laplace approximations, jacobians of vector code, has_aux, closures and transforms
passed as values), each against central differences of the order below, closed forms, or autograd. Fixed
here: a helper returning ``ac.jvp(h)(x, t)[1]`` inlined into its caller (refused as a call of a run-time
value), ``jvp(value_and_grad(f))`` of an array (a TypeError), ``hessian``/``hvp`` of ``hessian(f)`` /
``hvp(f)`` (refused as a fourth derivative), ``ac.grad(h, has_aux=True)`` inside a differentiated function
(refused at the call)."""

import math
import typing

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import jacobian_columns as _fd

X = np.array([0.3, -0.4, 0.7])
V = np.array([0.5, 1.0, -0.2])
W = np.array([0.8, -0.3, 1.2])


def _close(got, want, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float), rtol=rtol, atol=atol)


# --- the fixes, each a regression test ------------------------------------------------------------------


def cubic_sine(x):
    return x**3 * math.sin(x)


def _cubic_sine(k, x):
    """The k-th derivative of x^3 sin x by Leibniz's rule (hand-derived)."""
    powers = [x**3, 3 * x**2, 6 * x, 6.0]
    sines = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    return sum(math.comb(k, j) * powers[j] * sines[(k - j) % 4] for j in range(min(k, 3) + 1))


def along_once(x, t):
    return ac.jvp(cubic_sine)(x, t)[1]


def along_twice(x, t, s):
    return ac.jvp(along_once)(x, t, s)[1]


def calls_along_once(x):
    return along_once(x, 1.0) * x


def calls_along_twice(x):
    return along_twice(x, 1.0, 1.0)


def test_gradient_of_a_function_calling_a_helper_that_returns_a_jvp():
    # were: UnsupportedError "a call of a function value made at run time (f(...)(x))" at the caller: the
    # one-line helper was inlined, its ac.jvp(h)(x, t) with it, past specialise's reading of transforms
    x = 0.7
    d = [_cubic_sine(k, x) for k in range(5)]
    assert ac.grad(calls_along_once)(x) == pytest.approx(d[2] * x + d[1], rel=1e-12)
    assert ac.grad(calls_along_twice)(x) == pytest.approx(d[3], rel=1e-12)
    assert ac.grad(calls_along_twice)(x) == pytest.approx(_fd(calls_along_twice, x), rel=1e-7)
    assert ac.hessian(calls_along_once)(x) == pytest.approx(_fd(ac.grad(calls_along_once), x), rel=1e-7)


def array_sine(x):
    return np.sum(np.sin(x) * x**3)


def _second_along(x, t, s):
    return ac.jvp(_first_along)(x, t, s)[1]


def _first_along(x, t):
    return ac.jvp(array_sine)(x, t)[1]


def hessian_by_tangents(x):
    rows = []
    for i in range(x.size):
        row = []
        for j in range(x.size):
            row.append(_second_along(x, np.eye(x.size)[i], np.eye(x.size)[j]))
        rows.append(np.stack(row))
    return np.stack(rows)


def summed_hessian(x):
    return np.sum(hessian_by_tangents(x))


def test_a_hessian_written_with_nested_jvps_and_its_derivatives():
    _close(hessian_by_tangents(X), ac.hessian(array_sine)(X), rtol=1e-12)
    third = np.sin(X) * (6 - 9 * X**2) + np.cos(X) * (18 * X - X**3)  # d3/dx3 of sin(x) x^3, diagonal only
    _close(ac.grad(summed_hessian)(X), third, rtol=1e-12)
    _close(ac.jvp(hessian_by_tangents)(X, V)[1], np.diag(third * V), rtol=1e-12)
    _close(ac.jacobian(hessian_by_tangents, mode="rev")(X), _fd(hessian_by_tangents, X), rtol=1e-6)


def quartic_sine(x):
    return math.sin(x) * x**4


def _quartic_sine(k, x):
    powers = [x**4, 4 * x**3, 12 * x**2, 24 * x, 24.0]
    sines = [math.sin(x), math.cos(x), -math.sin(x), -math.cos(x)]
    return sum(math.comb(k, j) * powers[j] * sines[(k - j) % 4] for j in range(min(k, 4) + 1))


def mixed(x, y):
    return math.sin(x) * y**3 + x**2 * y


def test_hessian_and_hvp_of_the_hessian_of_a_scalar_argument():
    # were: refused "a fourth derivative through a hessian or hvp" at the user's function
    x = 0.7
    d = [_quartic_sine(k, x) for k in range(7)]
    assert ac.hessian(ac.hessian(quartic_sine))(x) == pytest.approx(d[4], rel=1e-12)
    assert ac.hessian(ac.hessian(quartic_sine))(x) == pytest.approx(_fd(ac.grad(ac.hessian(quartic_sine)), x), rel=1e-7)
    assert ac.hvp(ac.hessian(quartic_sine))(x, 2.0) == pytest.approx(2 * d[4], rel=1e-12)
    assert ac.hessian(ac.hvp(quartic_sine))(x, 2.0) == pytest.approx(2 * d[4], rel=1e-12)
    assert ac.hvp(ac.hvp(quartic_sine))(x, 2.0, 3.0) == pytest.approx(6 * d[4], rel=1e-12)
    assert ac.hessian(ac.hessian(ac.hessian(quartic_sine)))(x) == pytest.approx(d[6], rel=1e-10)
    y = 1.3  # d2/dy2 of d2/dx2 (-sin x y^3 + 2 y) = -6 y sin x; d2/dx2 of it = 6 y sin x ... by hand
    assert ac.hessian(ac.hessian(mixed, 0), 1)(x, y) == pytest.approx(-6 * y * math.sin(x), rel=1e-12)
    assert ac.hessian(ac.hessian(mixed, 0), 0)(x, y) == pytest.approx(math.sin(x) * y**3, rel=1e-12)
    assert ac.hessian(ac.hessian(mixed, 1), 1)(x, y) == pytest.approx(0.0, abs=1e-12)


def test_hessian_of_the_hessian_of_an_array_is_a_type_error():
    # the Hessian of an array argument is no scalar: a Hessian of it is not defined (jacobian is)
    with pytest.raises(TypeError):
        ac.hessian(ac.hessian(array_sine))(X)


def cubic_cosine(x):
    return np.sum(x**3 * np.cos(x))


def _cubic_cosine_hessian(x):
    return np.diag(6 * x * np.cos(x) - 6 * x**2 * np.sin(x) - x**3 * np.cos(x))


def test_jvp_of_value_and_grad_of_an_array():
    # was: TypeError "a gradient differentiated again ... needs scalar arguments"
    (value, gradient), (value_dot, gradient_dot) = ac.jvp(ac.value_and_grad(cubic_cosine))(X, V)
    assert value == pytest.approx(cubic_cosine(X), rel=1e-12)
    _close(gradient, ac.grad(cubic_cosine)(X), rtol=1e-12)
    assert value_dot == pytest.approx(float(ac.grad(cubic_cosine)(X) @ V), rel=1e-12)
    _close(gradient_dot, _cubic_cosine_hessian(X) @ V, rtol=1e-12)
    _close(gradient_dot, _fd(ac.grad(cubic_cosine), X) @ V, rtol=1e-7)
    # a scalar as before
    assert ac.jvp(ac.value_and_grad(quartic_sine))(0.7, 1.0)[1] == pytest.approx(
        (_quartic_sine(1, 0.7), _quartic_sine(2, 0.7)), rel=1e-12
    )


def loss_with_aux(x):
    y = np.sum(np.sin(x) * x)
    return y, {"y": y, "n": 3}


def uses_aux(x):
    g, aux = ac.grad(loss_with_aux, has_aux=True)(x)
    return np.sum(g**2) + aux["y"] * aux["n"]


def uses_value_and_aux(x):
    (value, aux), g = ac.value_and_grad(loss_with_aux, 0, has_aux=True)(x)
    return value * np.sum(g) + aux["y"]


def _loss_gradient(x):
    return np.sin(x) + x * np.cos(x)


def test_grad_with_aux_called_inside_a_differentiated_function():
    # was: UnsupportedError "this call of a gradient inside a differentiated function" at the call; the aux
    # is differentiated by the outer gradient as JAX's is (it is the function's own output)
    g = _loss_gradient(X)
    g2 = 2 * np.cos(X) - X * np.sin(X)
    expected = 2 * g * g2 + 3 * g
    _close(ac.grad(uses_aux)(X), expected, rtol=1e-12)
    _close(ac.grad(uses_aux)(X), _fd(uses_aux, X), rtol=1e-7)
    y = np.sum(np.sin(X) * X)
    _close(ac.grad(uses_value_and_aux)(X), g * np.sum(g) + y * g2 + g, rtol=1e-12)
    _close(ac.grad(uses_value_and_aux)(X), _fd(uses_value_and_aux, X), rtol=1e-7)


def test_third_derivative_through_grad_with_aux_inside():
    # its first output's gradient code calls loss_with_aux's pullback: was refused (the adjoint of that
    # gradient was a closure, now compiled from its source, derived._adjoint_source), and before that a
    # cotangent of the aux dict inside a tuple was added with += (TypeError in emitted code)
    _close(ac.hvp(uses_aux)(X, V), _fd(ac.grad(uses_aux), X) @ V, rtol=1e-6)
    _close(ac.hessian(uses_value_and_aux)(X), _fd(ac.grad(uses_value_and_aux), X), rtol=1e-6)


def two_statement_loss(x):
    s = np.sum(x**4)
    return s


def gradient_of_a_two_statement_loss(x):
    return np.sum(ac.grad(_calls_two_statement_loss)(x)) / 3


def _calls_two_statement_loss(x):
    return two_statement_loss(x) * 1.0


def test_third_derivative_through_a_gradient_calling_a_helper():
    # the gradient code of _calls_two_statement_loss calls the helper's pullback: was refused, now reverse
    # mode over the helper's tangent code, compiled from source (derived._adjoint_source); d/dx 4 x^2 = 8 x
    _close(ac.grad(gradient_of_a_two_statement_loss)(X), 12 * X**2 / 3, rtol=1e-12)
    _close(ac.hessian(gradient_of_a_two_statement_loss)(X), np.diag(8 * X), rtol=1e-12, atol=1e-14)
    _close(ac.hvp(gradient_of_a_two_statement_loss)(X, V), 8 * X * V, rtol=1e-12)


def rows_in_place(x):
    out = []
    for i in range(3):
        row = np.zeros(3)
        row[i] = x[i] ** 2
        row[(i + 1) % 3] += x[i] * x[(i + 2) % 3]
        out.append(np.sum(row * np.cos(x)))
    return np.stack(out)


def test_reverse_jacobian_of_in_place_rows_made_in_a_loop():
    # was: RuntimeError "this pullback ... can run only once" (the pullback called once per row)
    want = _fd(rows_in_place, X)
    for mode in ("rev", "fwd", "auto"):
        _close(ac.jacobian(rows_in_place, mode=mode)(X), want, rtol=1e-7)
    both = ac.jacobian(lambda_two, (0, 1), mode="rev")(X, 1.5)
    _close(both[0], _fd(lambda x: lambda_two(x, 1.5), X), rtol=1e-7)
    _close(both[1], _fd(lambda s: lambda_two(X, s), 1.5), rtol=1e-7)


def lambda_two(x, s):
    return rows_in_place(x) * s**2


# --- the hunt: programs as users write them -------------------------------------------------------------


def residual(z, a):
    return z**3 + z - a


def newton_root(a):
    z = 0.0
    for _ in range(30):
        z = z - residual(z, a) / ac.grad(residual)(z, a)
    return z


def root_squared(a):
    return newton_root(a) ** 2


def test_newton_root_implicit_layer():
    a = 2.0
    z = newton_root(a)
    dz = 1 / (3 * z**2 + 1)  # implicit function theorem, by hand
    assert ac.grad(root_squared)(a) == pytest.approx(2 * z * dz, rel=1e-10)
    d2z = -6 * z * dz**3
    assert ac.hessian(root_squared)(a) == pytest.approx(2 * dz**2 + 2 * z * d2z, rel=1e-8)
    assert ac.jvp(ac.grad(root_squared))(a, 1.0)[1] == pytest.approx(2 * dz**2 + 2 * z * d2z, rel=1e-8)


def energy(z, a):
    return np.sum(z**4) / 4 + np.sum(z**2) / 2 - np.dot(a, z)


def minimiser(a):
    z = np.zeros_like(a)
    for _ in range(25):
        z = z - np.linalg.solve(ac.hessian(energy)(z, a), ac.grad(energy)(z, a))
    return z


def minimiser_norm(a):
    return np.sum(minimiser(a) ** 2)


def test_newton_minimiser_with_hessian_inside():
    z = minimiser(X)
    dz = 1 / (3 * z**2 + 1)  # z^3 + z = a elementwise
    _close(ac.grad(minimiser_norm)(X), 2 * z * dz, rtol=1e-10)
    _close(ac.jacobian(minimiser)(X), np.diag(dz), rtol=1e-10)
    _close(ac.jacobian(minimiser, mode="rev")(X), np.diag(dz), rtol=1e-10)


def network(x, w):
    return np.tanh(w[0] * x + w[1]) * w[2]


def physics_loss(w):
    total = 0.0
    for x in [0.1, 0.5, 0.9]:
        total = total + (ac.grad(network)(x, w) - math.cos(x)) ** 2
    return total


def second_order_physics_loss(w):
    total = 0.0
    for x in [0.1, 0.5, 0.9]:
        total = total + (ac.grad(ac.grad(network))(x, w) + network(x, w)) ** 2
    return total


def test_physics_informed_losses():
    _close(ac.grad(physics_loss)(W), _fd(physics_loss, W), rtol=1e-7)
    _close(ac.jvp(ac.grad(physics_loss))(W, V)[1], _fd(ac.grad(physics_loss), W) @ V, rtol=1e-6)
    _close(ac.hessian(physics_loss)(W), _fd(ac.grad(physics_loss), W), rtol=1e-6)
    _close(ac.grad(second_order_physics_loss)(W), _fd(second_order_physics_loss, W), rtol=1e-7)


def test_physics_loss_with_second_derivative_hvp():
    # u_xx inside, then an hvp in w: a fourth derivative through the gradient of derivative code (was refused)
    _close(ac.hvp(second_order_physics_loss)(W, V), _fd(ac.grad(second_order_physics_loss), W) @ V, rtol=1e-6)


def log_posterior(t):
    return -0.5 * np.sum(t**2) - np.sum(np.log1p(np.exp(-t * np.array([1.0, 2.0, -1.0]))))


def laplace_evidence(t):
    sign, logdet = np.linalg.slogdet(-ac.hessian(log_posterior)(t))
    return log_posterior(t) - 0.5 * logdet


def test_laplace_approximation_slogdet_of_hessian():
    c = np.array([1.0, 2.0, -1.0])
    s = 1 / (1 + np.exp(c * X))  # sigmoid(-c t)
    hess = -np.eye(3) - np.diag(c**2 * s * (1 - s))  # by hand
    assert laplace_evidence(X) == pytest.approx(log_posterior(X) - 0.5 * np.linalg.slogdet(-hess)[1], rel=1e-12)
    _close(ac.grad(laplace_evidence)(X), _fd(laplace_evidence, X), rtol=1e-7)


def looped_vector(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] * x[(i + 1) % 3]
    k = 0
    s = x.copy()
    while k < 3:
        s = s * np.sin(s)
        k += 1
    return y + s


def dict_vector(x):
    d = {"a": x * 2, "b": np.cos(x)}
    d["a"] = d["a"] + d["b"] ** 2
    out = []
    for v in d.values():
        out.append(np.sum(v * x))
    return np.array(out)


def _scaled(x, c):
    return x * c


def called_vector(x):
    t = (x[0], x[1:])
    head, tail = t
    return np.concatenate([_scaled(tail, head), [np.prod(x)]])


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
@pytest.mark.parametrize("f", [looped_vector, dict_vector, called_vector, rows_in_place])
def test_jacobians_of_vector_code(f, mode):
    _close(ac.jacobian(f, mode=mode)(X), _fd(f, X), rtol=1e-7)


def vector_function(x):
    return np.array([x[0] * x[1], np.sin(x[2]) * x[0], x[1] ** 2])


def _vector_second(x):
    """vector_function's second derivatives, by hand: [i, j, k] = d2 f_i / dx_j dx_k."""
    second = np.zeros((3, 3, 3))
    second[0, 0, 1] = second[0, 1, 0] = 1.0
    second[1, 0, 2] = second[1, 2, 0] = np.cos(x[2])
    second[1, 2, 2] = -np.sin(x[2]) * x[0]
    second[2, 1, 1] = 2.0
    return second


def test_jacobian_of_jacobian_is_the_second_derivative():
    # (refused before: now one argument each works; closed form of vector_function's second derivatives)
    second = _vector_second(X[:3])
    _close(ac.jacobian(ac.jacobian(vector_function))(X[:3]), second, rtol=1e-12)


def test_vjp_of_jacobian_contracts_the_second_derivative():
    # (refused before) the pullback of C is sum C[i, k] d J[i, k] / dx, from the closed form above
    second = _vector_second(X[:3])
    cotangent = np.arange(9.0).reshape(3, 3)
    _, pullback = ac.vjp(ac.jacobian(vector_function))(X[:3])
    _close(pullback(cotangent), np.tensordot(cotangent, second, axes=2), rtol=1e-12)


def branchy(x):
    if np.sum(x) > 0:
        return np.sum(x**3)
    for i in range(3):
        if x[i] < 0:
            return np.sum(np.exp(x)) * x[i]
    return 0.0


def checkpointed_sine(x):
    s = x
    for i in ac.checkpointed(range(6)):
        s = np.sin(s) * 1.1 + 0.1 * x
    return np.sum(s**2)


def while_cubic(x):
    s = 0.0
    k = 0
    while k < 4:
        s = s + np.sum(x ** (k + 1)) / (k + 1)
        k += 1
    return s


def in_place_stencil(x):
    y = x.copy()
    for i in range(1, 3):
        y[i] += 0.5 * y[i - 1] ** 2
    return np.sum(y**2)


@pytest.mark.parametrize("f", [branchy, checkpointed_sine, while_cubic, in_place_stencil])
@pytest.mark.parametrize("at", [X, -X])
def test_hvp_and_hessian_of_control_flow(f, at):
    want = _fd(ac.grad(f), at)
    _close(ac.hessian(f)(at), want, rtol=1e-6, atol=1e-7)
    _close(ac.hvp(f)(at, V), want @ V, rtol=1e-6, atol=1e-7)
    _close(ac.jvp(ac.grad(f))(at, V)[1], want @ V, rtol=1e-6, atol=1e-7)
    _close(ac.vjp(ac.grad(f))(at)[1](V), want.T @ V, rtol=1e-6, atol=1e-7)


def closure_over_gradient(x):
    gradient = ac.grad(cubic_cosine)

    def inner(y):
        return np.sum(gradient(y) * y)

    return inner(x) + np.sum(x)


def _apply(fn, x):
    return np.sum(fn(x) ** 2)


def gradient_passed_on(x):
    return _apply(ac.grad(cubic_cosine), x)


def gradient_held(x):
    g = ac.grad(cubic_cosine)
    return np.sum(g(x) * g(2 * x))


def test_gradients_as_values():
    _close(ac.grad(closure_over_gradient)(X), _fd(closure_over_gradient, X), rtol=1e-7)
    g = ac.grad(cubic_cosine)(X)
    _close(ac.grad(gradient_passed_on)(X), 2 * _cubic_cosine_hessian(X) @ g, rtol=1e-12)
    _close(ac.hvp(gradient_passed_on)(X, V), _fd(ac.grad(gradient_passed_on), X) @ V, rtol=1e-6)
    _close(ac.grad(gradient_held)(X), _fd(gradient_held, X), rtol=1e-7)
    _close(ac.hessian(gradient_held)(X), _fd(ac.grad(gradient_held), X), rtol=1e-6)


def mlp(x, w):
    return np.sum(np.tanh(w[:3] * x) * w[3:])


W6 = np.array([0.8, -0.3, 1.2, 0.5, -1.0, 0.7])


def curvature_loss(w):
    total = 0.0
    for x in [0.2, 0.6]:
        total = total + ac.grad(ac.grad(mlp))(x, w) ** 2
    return total


def test_second_derivative_in_the_input_inside_a_gradient_against_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def mlp_a(x, w):
        return anp.sum(anp.tanh(w[:3] * x) * w[3:])

    def curvature_loss_a(w):
        total = 0.0
        for x in [0.2, 0.6]:
            total = total + autograd.grad(autograd.grad(mlp_a))(x, w) ** 2
        return total

    _close(ac.grad(curvature_loss)(W6), autograd.grad(curvature_loss_a)(W6), rtol=1e-12)


def directional(w):
    return ac.jvp(mlp, 1)(0.5, w, W6[::-1].copy())[1] ** 2


def curvature_along(w):
    return np.sum(ac.hvp(mlp, 1)(0.5, w, W6) ** 2)


def gradient_descent(w):
    x = 1.0
    for _ in range(5):
        value, g = ac.value_and_grad(mlp)(x, w)
        x = x - 0.1 * g
    return x


def dict_loss(p):
    return np.sum(p["a"] ** 3) * p["b"]


def gradient_of_a_dict(x):
    return ac.grad(dict_loss)({"a": x, "b": 2.0})["a"] @ x


def gradients_in_a_list(x):
    gs = []
    for k in range(2):
        gs.append(ac.grad(cubic_cosine)(x * (k + 1)))
    return np.sum(gs[0] * gs[1])


@pytest.mark.parametrize(
    "f, at",
    [
        (directional, W6),
        (curvature_along, W6),
        (gradient_descent, W6),
        (gradient_of_a_dict, X),
        (gradients_in_a_list, X),
    ],
)
def test_transforms_called_inside_against_differences(f, at):
    _close(ac.grad(f)(at), _fd(f, at), rtol=1e-7)
    if f is not curvature_along:  # (a third derivative of mlp in w: its hessian, a fourth, is refused)
        _close(ac.hessian(f)(at), _fd(ac.grad(f), at), rtol=1e-5, atol=1e-7)


def two_arrays(x, y):
    return np.sum(x**2 * y) + np.sum(np.sin(x)) * np.sum(y**3)


def test_tuple_wrt_hessian_hvp_and_jvp_of_value_and_grad():
    _close(ac.hessian(two_arrays, (0, 1))(X, V)[0][1], _fd(lambda y: ac.grad(two_arrays, 0)(X, y), V), rtol=1e-7)
    cross = _fd(lambda y: ac.grad(two_arrays, 1)(X, y), V) @ X + _fd(lambda x: ac.grad(two_arrays, 1)(x, V), X) @ V
    _close(ac.hvp(two_arrays, (0, 1))(X, V, (V, X))[1], cross, rtol=1e-7)
    (_, grads), (value_dot, grads_dot) = ac.jvp(ac.value_and_grad(two_arrays, (0, 1)), (0, 1))(X, V, (V, X))
    g = ac.grad(two_arrays, (0, 1))(X, V)
    assert value_dot == pytest.approx(float(g[0] @ V + g[1] @ X), rel=1e-12)
    _close(grads_dot[1], cross, rtol=1e-7)
    _close(ac.jacobian(ac.grad(two_arrays, (0, 1)), 0)(X, V)[1], _fd(lambda x: ac.grad(two_arrays, 1)(x, V), X))


def sine_loop(x):
    s = x
    k = 0
    while True:
        s = math.sin(s) + x * 0.5
        k += 1
        if k > 4:
            break
    return s


def test_third_derivative_of_a_while_loop_with_break():
    x = 0.4
    assert ac.grad(ac.grad(sine_loop))(x) == pytest.approx(_fd(ac.grad(sine_loop), x), rel=1e-7)
    assert ac.grad(ac.grad(ac.grad(sine_loop)))(x) == pytest.approx(_fd(ac.grad(ac.grad(sine_loop)), x), rel=1e-6)
    assert ac.hessian(ac.grad(sine_loop))(x) == pytest.approx(ac.grad(ac.grad(ac.grad(sine_loop)))(x), rel=1e-12)


def test_third_derivatives_of_hvp_and_hessian_of_arrays():
    third = np.sin(X) * (6 - 9 * X**2) + np.cos(X) * (18 * X - X**3)  # of sum(sin(x) x^3), diagonal
    _close(ac.jvp(ac.hvp(array_sine))(X, V, V)[1], third * V * V, rtol=1e-12)
    _close(ac.vjp(ac.hvp(array_sine))(X, V)[1](np.ones(3)), third * V, rtol=1e-12)
    jac = ac.jacobian(ac.hessian(array_sine))(X)
    _close(np.einsum("iii->i", jac), third, rtol=1e-12)
    assert np.count_nonzero(jac) == 3


def test_hessian_keeps_float32_and_jvp_of_value_and_grad_too():
    x32, v32 = X.astype(np.float32), V.astype(np.float32)
    assert ac.hessian(array_sine)(x32).dtype == np.float32
    (_, g), (_, g_dot) = ac.jvp(ac.value_and_grad(array_sine))(x32, v32)
    assert g.dtype == np.float32 and g_dot.dtype == np.float32


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def test_second_derivatives_of_a_recursion():
    assert ac.grad(ac.grad(power))(1.3, 4) == pytest.approx(12 * 1.3**2, rel=1e-12)
    assert ac.hessian(power)(1.3, 4) == pytest.approx(12 * 1.3**2, rel=1e-12)
    assert ac.jvp(ac.grad(power))(1.3, 4, 1.0)[1] == pytest.approx(12 * 1.3**2, rel=1e-12)


def outer_with_aux(x):
    g = ac.grad(cubic_cosine)(x)
    return np.sum(g**2), g


def test_has_aux_outside_over_a_gradient_inside():
    g, aux = ac.grad(outer_with_aux, has_aux=True)(X)
    _close(g, 2 * _cubic_cosine_hessian(X) @ ac.grad(cubic_cosine)(X), rtol=1e-12)
    _close(aux, ac.grad(cubic_cosine)(X), rtol=1e-12)
    (value, aux), g2 = ac.value_and_grad(outer_with_aux, has_aux=True)(X)
    _close(g2, g, rtol=1e-12)
    assert value == pytest.approx(float(np.sum(aux**2)), rel=1e-12)


def scaled_cube(x, y):
    return np.sum(x**3) * y


def jvp_of_gradient_inside(x):
    g, g_dot = ac.jvp(ac.grad(scaled_cube))(x, 2.0, x)
    return np.sum(g_dot) + np.sum(g)


def jvp_of_value_and_gradient_inside(x):
    (value, g), (value_dot, g_dot) = ac.jvp(ac.value_and_grad(scaled_cube))(x, 2.0, x)
    return value_dot + value


def vjp_of_gradient_inside(x):
    g, pullback = ac.vjp(ac.grad(scaled_cube))(x, 2.0)
    return np.sum(pullback(x))


def test_jvp_and_vjp_of_a_gradient_called_inside_take_arrays():
    # were: TypeError "a gradient differentiated again ... needs scalar arguments" (tangent code of tangent
    # code); now the jvp (vjp) of a function made here calling ac.grad(h), as ac.hvp inside
    # f = 2 sum x^3: grad 6x^2, H = diag(12 x), so H x = 12 x^2
    _close(jvp_of_gradient_inside(X), np.sum(12 * X**2) + np.sum(6 * X**2), rtol=1e-12)
    _close(ac.grad(jvp_of_gradient_inside)(X), 24 * X + 12 * X, rtol=1e-12)
    _close(ac.grad(jvp_of_value_and_gradient_inside)(X), 18 * X**2 + 6 * X**2, rtol=1e-12)
    _close(ac.grad(vjp_of_gradient_inside)(X), 24 * X, rtol=1e-12)
    _close(ac.grad(vjp_of_gradient_inside)(X), _fd(vjp_of_gradient_inside, X), rtol=1e-7)
    # scalars as before: to any order
    assert ac.grad(ac.grad(jvp_of_gradient_inside))(0.7) == pytest.approx(24 + 12, rel=1e-12)


def jacobian_inside(x):
    return np.sum(ac.jacobian(vector_function)(x))


def test_jacobian_inside_a_differentiated_function_is_refused_by_name():
    # was: "a call of a function value made at run time (f(...)(x))"
    with pytest.raises(ac.UnsupportedError) as e:
        ac.grad(jacobian_inside)(X)
    text = str(e.value)
    assert "ac.jacobian called inside a differentiated function" in text
    assert ":%d:" % (jacobian_inside.__code__.co_firstlineno + 1) in text


A = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])


def quadratic_solve(x):
    return x @ np.linalg.solve(A + np.diag(x**2), x)


def log_determinant(x):
    return np.linalg.slogdet(A + np.outer(x, x))[1]


def inverse_trace(x):
    return np.trace(np.linalg.inv(A + np.diag(x)))


def rectified(x):
    return np.sum(np.maximum(x, 0.0) ** 3 + np.where(x > 0, x, 2 * x) ** 2)


def reshaped(x):
    m = np.reshape(np.concatenate([x, x**2, np.sin(x)]), (3, 3))
    return np.sum(m @ m.T)


def appended(x):
    acc = []
    for i in range(3):
        acc.append(x[i] * np.sum(x[: i + 1]))
    return sum(acc) ** 2


def _exponent_or_identity(x, t):
    if t > 0:
        return np.exp(x * t)
    return x


def early_helper(x):
    return np.sum(_exponent_or_identity(x, 1.0) * _exponent_or_identity(x, -1.0))


def _cosine_loss(w):
    return np.sum(np.cos(w) * w)


def descent_with_a_held_gradient(w):
    step = ac.grad(_cosine_loss)
    for _ in range(3):
        w = w - 0.1 * step(w)
    return np.sum(w**2)


def hvp_inside(x):
    return np.sum(ac.hvp(quadratic_solve)(x, V) * x)


@pytest.mark.parametrize(
    "f",
    [
        quadratic_solve,
        log_determinant,
        inverse_trace,
        rectified,
        reshaped,
        appended,
        early_helper,
        descent_with_a_held_gradient,
    ],
)
def test_second_derivatives_of_linear_algebra_and_helpers(f):
    want = _fd(ac.grad(f), X)
    _close(ac.hessian(f)(X), want, rtol=1e-5, atol=1e-7)
    _close(ac.hvp(f)(X, V), want @ V, rtol=1e-5, atol=1e-7)
    _close(ac.jacobian(ac.grad(f), mode="rev")(X), want, rtol=1e-5, atol=1e-7)


def test_third_and_fourth_derivatives_through_hvp_of_linear_algebra_inside():
    _close(ac.grad(hvp_inside)(X), _fd(hvp_inside, X), rtol=1e-6)
    _close(ac.hessian(hvp_inside)(X), _fd(ac.grad(hvp_inside), X), rtol=1e-6, atol=1e-8)  # (was refused)


class Pair(typing.NamedTuple):
    a: np.ndarray
    b: float


def pair_loss(p):
    return np.sum(np.sin(p.a) * p.b**2)


def gradient_of_a_pair_inside(x):
    g = ac.grad(pair_loss)(Pair(x, 1.5))
    return np.sum(g.a * x) + g.b


def test_hvp_of_a_namedtuple_and_its_gradient_inside():
    got = ac.hvp(pair_loss)(Pair(X, 1.5), Pair(V, 0.3))
    _close(got.a, -np.sin(X) * 1.5**2 * V + 2 * 1.5 * np.cos(X) * 0.3, rtol=1e-12)
    assert got.b == pytest.approx(float(np.sum(2 * 1.5 * np.cos(X) * V) + 2 * np.sum(np.sin(X)) * 0.3), rel=1e-12)
    # a NamedTuple made inside and passed to a nested gradient: refused, located in pair_loss
    with pytest.raises(ac.UnsupportedError) as e:
        ac.grad(gradient_of_a_pair_inside)(X)
    assert ":%d:" % (pair_loss.__code__.co_firstlineno + 1) in str(e.value)


def _cube_and_two(x):
    return np.sum(x**3), 2.0


def held_gradient_with_aux(x):
    gradient = ac.grad(_cube_and_two, has_aux=True)
    g, a = gradient(x)
    return np.sum(g) * a


def test_grad_with_aux_held_in_a_local():
    # was: refused as a call of the local variable 'gradient'
    _close(ac.grad(held_gradient_with_aux)(X), 12 * X, rtol=1e-12)
    assert ac.grad(held_gradient_with_aux)(0.7) == pytest.approx(8.4, rel=1e-12)


def kernel_logdet(x):
    n = len(x)
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            A[i, j] = math.exp(-((x[i] - x[j]) ** 2))
    return np.linalg.slogdet(A + np.eye(n))[1]


def test_hessian_of_a_kernel_built_in_nested_loops_then_a_log_determinant():
    # was: refused ("name '_t11_k' is not defined"): in the pullback of its tangent code (complex-typed by
    # slogdet's rule, so math.exp's cotangent went through runtime.real_cotangent) the check named the forward
    # sweep's own node for exp's operand, and the loop's renaming of taped values in the pullback renamed the
    # forward's read too, whose derivative was then lost
    x = np.array([0.1, 0.5, 1.3])
    grad = ac.grad(kernel_logdet)
    _close(grad(x), _fd(kernel_logdet, x), rtol=1e-5, atol=1e-7)
    want = _fd(lambda v: grad(v), x)
    _close(ac.hessian(kernel_logdet)(x), want, rtol=1e-5, atol=1e-6)
    _close(ac.hvp(kernel_logdet)(x, V), want @ V, rtol=1e-5, atol=1e-6)


def singular_vector_loss(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s**2) + np.sum(u[:, 0] ** 2 * np.arange(3.0)) + vh[1, 2] ** 2


def test_hessian_through_singular_vectors():
    # was: ValueError (not located) in runtime.real_values, which took the cotangent of svd's (U, S, Vh) for one
    # array: the tuple, checked element by element now
    a = np.array([[0.3, -0.4, 0.7], [0.5, 3.1, -0.2], [0.8, -0.3, 6.2]])
    grad = ac.grad(singular_vector_loss)
    flat = lambda v: grad(v.reshape(3, 3)).ravel()  # noqa: E731
    want = _fd(flat, a.ravel())
    direction = np.arange(9.0).reshape(3, 3) / 9
    _close(ac.hvp(singular_vector_loss)(a, direction).ravel(), want @ direction.ravel(), rtol=1e-5, atol=1e-6)
