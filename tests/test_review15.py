"""Review of issue #11's third and fourth derivatives through ac.grad called inside a differentiated function
(derived._adjoint_source / _tangent_source compiled in place of the gradient's adjoint and tangent) and of
transforms of functions taking *args. Every number against central differences of the order below (that
order itself checked against differences of the one below it) or a hand-derived closed form."""

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([0.3, -0.7, 0.9])
V = np.array([0.4, 1.0, -0.6])
W = np.array([1.0, -2.0, 0.5])
STEP = 1e-4


def _differences(f, x):
    """Central differences of f (array-valued) along each coordinate of x, stacked on a last axis."""
    return np.stack(
        [(np.asarray(f(x + STEP * e)) - np.asarray(f(x - STEP * e))) / (2 * STEP) for e in np.eye(len(x))], -1
    )


def _close(got, want, rtol=1e-6):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.max(np.abs(got - want)) <= rtol * max(np.max(np.abs(want)), 1e-8), (got, want)


def _third_order(f):
    """The checks of f's first to third derivatives: each against differences of the one below."""
    x0 = X.copy()
    _close(ac.grad(f)(X), _differences(f, X))
    hessian = ac.hessian(f)(X)
    _close(hessian, _differences(ac.grad(f), X))
    third = _differences(ac.hessian(f), X)
    _close(ac.jacobian(ac.hessian(f))(X), third)
    _close(ac.jacobian(lambda x: ac.hvp(f)(x, V))(X), np.einsum("ijk,j->ik", third, V))
    _close(ac.grad(lambda x: ac.hvp(f)(x, V) @ V)(X), np.einsum("ijk,i,j->k", third, V, V))
    assert np.array_equal(X, x0)


def sub1(x):
    s = x**3
    t = s * 2.0 + np.sin(x)
    return t


def sub2(x, y):
    a = x * y
    b = np.cos(a) + x
    return a * b


def two_arguments(x, y):
    q = sub2(x, y)
    r = sub1(q)
    return np.sum(r) + np.sum(x * y * y)


def both_active(x):
    y = x[::-1] * 0.7
    gx, gy = ac.grad(two_arguments, (0, 1))(x, y)
    return np.sum(gx * gy) + np.sum(gx * W)


def second_of_two_active(x):
    y = np.cos(x)
    return np.sum(ac.grad(two_arguments, 1)(x, y) * W)


def keyword_only(x, *, p, q=0.5):
    u = sub1(x * p)
    return np.sum(u) + q * np.sum(x**4)


def keyword_only_active(x):
    return np.sum(ac.grad(keyword_only)(x, p=x[0], q=x[1]) * W)


def star_args(*xs):
    u = sub1(xs[0])
    return np.sum(u * xs[1]) + np.sum(xs[0] ** 2 * xs[1] ** 2)


def star_args_both_active(x):
    y = x * 0.5 + 1.0
    return np.sum(ac.grad(star_args)(x, y) * W)


@pytest.mark.parametrize("f", [both_active, second_of_two_active, keyword_only_active, star_args_both_active])
def test_third_derivatives_through_a_gradient_called_with_several_active_arguments(f):
    # the written tangent of h's derivative along several arguments passes their tangents, a tuple, to two
    # calls: its cotangent was t_bar + _t7, the tuples concatenated (ValueError "too many values to unpack"
    # in emitted code at the third derivative)
    _third_order(f)


def sub1_scaled(x, scale=1.7):
    u = sub1(x)
    return np.sum(u) * scale


def two_gradients_of_one_function(x):
    s = np.sum(x) * 0.2
    return np.sum(ac.grad(sub1_scaled, (0, 1))(x, s)[0] * W) + ac.grad(sub1_scaled, 1)(x, s) ** 2


def test_two_gradients_of_one_function_in_different_wrt():
    # the tangent of one call (a closure named sub1_scaled_grad_jvp) clashed with the jvp compiled of the
    # other's gradient code: CompileError "reads a global named 'sub1_scaled_grad_jvp' ... rename that global"
    # at the Hessian. f = s sum_i w_i (6 x_i^2 + cos x_i) + (sum_i 2 x_i^3 + sin x_i)^2, s = 0.2 sum_i x_i
    def gradient(x):
        s, u = 0.2 * np.sum(x), np.sum(2 * x**3 + np.sin(x))
        first = 0.2 * np.sum(W * (6 * x**2 + np.cos(x)))
        return first + s * W * (12 * x - np.sin(x)) + 2 * u * (6 * x**2 + np.cos(x))

    _close(ac.grad(two_gradients_of_one_function)(X), gradient(X), rtol=1e-12)
    _close(ac.hessian(two_gradients_of_one_function)(X), _differences(gradient, X))
    _third_order(two_gradients_of_one_function)


def closure_gradient(x):
    c = x[0]

    def inner(z):
        return np.sum(sub1(z)) * c

    return np.sum(ac.grad(inner)(x) * W)


def test_gradient_of_a_closure_inside():
    # was refused (lift: the closure's variables are passed first to the lifted function, wrt moved past them)
    def by_hand(x):  # sub1'(z) = 6 z**2 + cos(z), times c = x[0]
        return np.sum((6 * x**2 + np.cos(x)) * x[0] * W)

    _close(closure_gradient(X), by_hand(X), rtol=1e-12)
    _close(ac.grad(closure_gradient)(X), _differences(by_hand, X))
    _third_order(closure_gradient)


def closure_gradient_kept(x):
    c = x[0]

    def inner(z):
        return np.sum(sub1(z)) * c

    g = ac.grad(inner)  # called later: c could be rebound in between, which the closure would see
    return np.sum(g(x) * W)


def test_gradient_of_a_closure_kept_to_call_later_is_refused_at_the_users_line():
    with pytest.raises(ac.UnsupportedError) as e:
        ac.grad(closure_gradient_kept)(X)
    assert "test_review15.py" in str(e.value) and "ac.grad of a nested function 'inner' that reads c" in str(e.value)


def scalar_sub(x):
    a = x * x
    b = np.sin(a) + x
    return a * b


def scalar_pair(x, y):
    u = scalar_sub(x * y)
    return u + x * y**3


def value_and_both_gradients(x):
    v, (gx, gy) = ac.value_and_grad(scalar_pair, (0, 1))(x, x * x)
    return v * gx + gy * gy


def test_value_and_gradient_in_two_arguments_to_the_fourth_derivative():
    # the third derivative multiplied a tuple cotangent (of the tangents of h's derivative along both
    # arguments) by value_bar: TypeError "can't multiply sequence by non-int" in gradient_adjoint
    x = 0.63
    derivatives = [value_and_both_gradients]
    for _ in range(4):
        derivatives.append(ac.grad(derivatives[-1]))
    for k in range(1, 5):
        want = (derivatives[k - 1](x + STEP) - derivatives[k - 1](x - STEP)) / (2 * STEP)
        assert derivatives[k](x) == pytest.approx(want, rel=1e-6)
    assert ac.hessian(ac.hessian(value_and_both_gradients))(x) == pytest.approx(derivatives[4](x), rel=1e-12)


def list_total(xs):
    total = 0.0
    for v in xs:
        total = total + np.sum(sub1(v))
    return total * xs[0][0]


def gradient_of_a_list(x):
    g = ac.grad(list_total)([x, x * 2.0])
    return np.sum(g[0] * g[1])


def dict_weighted(d):
    u = sub1(d["a"])
    return np.sum(u * d["b"])


def gradient_of_a_dict(x):
    g = ac.grad(dict_weighted)({"a": x, "b": np.cos(x)})
    return np.sum(g["a"] ** 2) + np.sum(g["b"])


@pytest.mark.parametrize("f", [gradient_of_a_list, gradient_of_a_dict])
def test_gradient_inside_of_a_function_of_a_list_or_dict(f):
    # the written adjoint scaled the list's (dict's) cotangent by value_bar: TypeError "can't multiply
    # sequence by non-int" in emitted code at the Hessian (before issue #11's change: a located refusal)
    _third_order(f)


def while_break(x):
    s = x
    k = 0
    while True:
        s = np.sin(s) + x * s
        k += 1
        if k >= 3:
            break
    return s


def list_stores(x):
    xs = [x, x * x]
    for _ in range(3):
        xs.append(xs[-1] * xs[-2] * 0.5 + np.sin(x))
    xs[1] = xs[1] * xs[3]
    return xs[1] + xs[-1]


def checkpointed_loop(x):
    y = x
    for _ in ac.checkpointed(range(3)):
        y = np.sin(y) * x + 0.3 * y
    return y


def recursion(x, n=3):
    if n == 0:
        return x
    return np.sin(recursion(x, n - 1)) * x + x * x


def with_aux(x):
    u = scalar_sub(x)
    return u * x, [u, x]


def value_of_while_break(x):
    v, g = ac.value_and_grad(while_break)(x)
    return np.sin(v) * g + v * v


def gradient_of_list_stores(x):
    return ac.grad(list_stores)(x) * np.cos(x)


def value_of_checkpointed_loop(x):
    v, g = ac.value_and_grad(checkpointed_loop)(x)
    return v * g


def gradients_of_a_recursion(x):
    return ac.grad(recursion)(x) + ac.grad(recursion)(x * 0.5, 2)


def value_and_aux(x):
    (v, aux), g = ac.value_and_grad(with_aux, has_aux=True)(x)
    return v * g + aux[0]


FOURTH = [value_of_while_break, gradient_of_list_stores, value_of_checkpointed_loop, gradients_of_a_recursion]


@pytest.mark.parametrize("f", FOURTH + [value_and_aux])
def test_fourth_derivatives_through_gradients_inside(f):
    # value_and_grad's value used nonlinearly (value_bar's term), while with break, list appends and stores,
    # checkpointed loops, recursion with a default, has_aux: each order against differences of the one below
    x = 0.63
    derivatives = [f]
    for _ in range(4):
        derivatives.append(ac.grad(derivatives[-1]))
    for k in range(1, 5):
        want = (derivatives[k - 1](x + STEP) - derivatives[k - 1](x - STEP)) / (2 * STEP)
        assert derivatives[k](x) == pytest.approx(want, rel=2e-6)
    assert ac.hessian(ac.hessian(f))(x) == pytest.approx(derivatives[4](x), rel=1e-12)
    assert ac.jvp(ac.hessian(f))(x, 1.0)[1] == pytest.approx(derivatives[3](x), rel=1e-12)
