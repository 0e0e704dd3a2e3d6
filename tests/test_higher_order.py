"""Second order: the generated gradient is plain Python that the compiler can differentiate again."""

import math
import operator

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline, testing
from adjoint_compiler.runtime import add_at as runtime_add_at
from adjoint_compiler.testing import numerical_grad
import control
import seed


def test_grad_of_grad_matches_hand_derivative():
    # g(x) = sin(x^2) e^x: g'' by hand
    def g2(x):
        s, c, e = math.sin(x * x), math.cos(x * x), math.exp(x)
        return e * (s + 4 * x * c + 2 * c - 4 * x * x * s)

    for x in (0.3, -0.8, 1.1):
        assert ac.grad(ac.grad(seed.g))(x) == pytest.approx(g2(x), rel=1e-10)


def test_grad_of_grad_through_branches():
    h = 1e-5
    d = ac.grad(control.branch, 0)
    for x, y in ((1.5, 0.5), (0.3, 0.5), (-0.3, 0.5)):
        expected = (d(x + h, y) - d(x - h, y)) / (2 * h)
        assert ac.grad(ac.grad(control.branch, 0), 0)(x, y) == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_grad_of_grad_through_a_loop():
    h = 1e-6
    d = ac.grad(control.power_loop)
    assert ac.grad(ac.grad(control.power_loop))(0.3, 4) == pytest.approx(
        (d(0.3 + h, 4) - d(0.3 - h, 4)) / (2 * h), rel=1e-6
    )


def test_hessian_vector_product_by_vjp_of_the_emitted_gradient():
    f_grad = pipeline.compile(seed.f, (0, 1)).function
    _, pullback = ac.vjp(f_grad, (0, 1))(1.5, -2.0)
    row = pullback((0.0, (1.0, 0.0)))  # d(df/dx)/d(x, y)
    gx = lambda x, y: ac.grad(seed.f, 0)(x, y)  # noqa: E731
    h = 1e-6
    assert row == pytest.approx(
        ((gx(1.5 + h, -2.0) - gx(1.5 - h, -2.0)) / (2 * h), (gx(1.5, -2.0 + h) - gx(1.5, -2.0 - h)) / (2 * h)), rel=1e-6
    )


def test_grad_of_an_array_gradient_is_a_type_error_not_a_silent_sum():
    def cubes(x):
        return np.sum(x**3)

    with pytest.raises(TypeError, match="hessian"):
        ac.grad(ac.grad(cubes))(np.array([1.0, 2.0]))


def test_grad_of_grad_through_indexing_points_to_the_hessian():
    def f(x):
        return x[0] ** 3 * x[1]

    with pytest.raises(TypeError, match="ac.hessian"):
        ac.grad(ac.grad(f))(np.array([1.0, 2.0]))


# --- forward over reverse: hvp, hessian, jvp(grad(f)); jacobian in either mode ----------------------
def loop_product(x, y):
    s = 0.0
    for i in range(3):
        s = s + np.sin(x * i) * y
    return s * x


def chain_energy(w):
    return np.sum(np.tanh(w) ** 2) + np.sum(w[1:] * w[:-1]) + np.sum(w**4) / 4.0


def squashed(x):
    return np.tanh(x) * x[0]


def _fd_jacobian(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        columns.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def test_hessian_of_a_loop_matches_differences_of_the_gradient():
    h = ac.hessian(loop_product, (0, 1))(0.3, 0.7)
    grad = ac.grad(loop_product, (0, 1))
    eps = 1e-6
    for j, shift in enumerate([(eps, 0.0), (0.0, eps)]):
        up = grad(0.3 + shift[0], 0.7 + shift[1])
        down = grad(0.3 - shift[0], 0.7 - shift[1])
        for i in range(2):
            assert h[i][j] == pytest.approx((up[i] - down[i]) / (2 * eps), rel=1e-6, abs=1e-8)


def test_hessian_hvp_and_jvp_of_grad_of_an_array_function_agree_with_differences():
    w = np.array([0.1, -0.4, 0.7, 0.2])
    h = ac.hessian(chain_energy)(w)
    np.testing.assert_allclose(h, _fd_jacobian(ac.grad(chain_energy), w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(ac.hvp(chain_energy)(w, v), h @ v, rtol=1e-12)
    g, g_dot = ac.jvp(ac.grad(chain_energy))(w, v)
    np.testing.assert_allclose(g, ac.grad(chain_energy)(w))
    np.testing.assert_allclose(g_dot, h @ v, rtol=1e-12)


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_jacobian_in_each_mode_matches_differences(mode):
    x = np.array([0.3, -0.5, 0.9])
    np.testing.assert_allclose(ac.jacobian(squashed, mode=mode)(x), _fd_jacobian(squashed, x), rtol=1e-6, atol=1e-9)


def updates_in_place(x):
    v = np.array([x, x * x, 2.0])
    v[2] = v[0] * v[1]
    return v[0] ** 3 * v[1] + v[2]


def test_second_derivatives_through_element_stores():
    # f = x^5 + x^3: the gradient code keeps v[0], v[1] (numbers, checked when read) across v[2]'s store
    x = 1.3
    assert ac.hessian(updates_in_place)(x) == pytest.approx(20 * x**3 + 6 * x, rel=1e-12)


def shifts_in_place(x):
    a = x * 1.0
    a[1:] = a[:-1] * a[1:]
    return np.sum(a**2)


def test_second_derivatives_through_in_place_gradient_code_go_reverse_over_forward():
    # the gradient code keeps the view a[:-1] across a store into a: forward mode over it is refused, so the
    # second derivatives are reverse mode over the tangent code (derived.along), checked against differences
    x = np.array([0.3, 0.7, 1.1])
    h = ac.hessian(shifts_in_place)(x)
    np.testing.assert_allclose(h, _fd_jacobian(ac.grad(shifts_in_place), x), rtol=1e-6, atol=1e-8)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ac.hvp(shifts_in_place)(x, v), h @ v, rtol=1e-10)
    value, tangent = ac.jvp(ac.grad(shifts_in_place))(x, v)
    np.testing.assert_allclose(value, ac.grad(shifts_in_place)(x), rtol=1e-15)
    np.testing.assert_allclose(tangent, h @ v, rtol=1e-10)


def builds_a_list(x):
    out = []
    for i in range(len(x)):
        if x[i] > 0:
            out.append(x[i] ** 2)
        else:
            out.append(math.exp(x[i]))
    return sum(out) * max(out)


def test_second_derivatives_through_a_list_built_by_appends():
    # the gradient pops the list's cotangent (one pop per append): forward mode over it follows the pops
    x = np.array([0.5, -0.3, 1.2])
    h = ac.hessian(builds_a_list)(x)
    np.testing.assert_allclose(h, _fd_jacobian(ac.grad(builds_a_list), x), rtol=1e-6, atol=1e-8)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(ac.hvp(builds_a_list)(x, v), h @ v, rtol=1e-10)


def loss_with_metrics(w, x):
    pred = np.tanh(x @ w)
    return np.sum(pred**2), {"pred": pred, "n": len(x), "label": "train"}


def test_has_aux_returns_the_aux_undifferentiated_beside_the_gradient():
    w, x = np.array([0.1, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    g, aux = ac.grad(loss_with_metrics, has_aux=True)(w, x)
    reference = _fd_jacobian(lambda v: loss_with_metrics(v, x)[0], w)
    np.testing.assert_allclose(g, reference, rtol=1e-6, atol=1e-9)
    assert aux["n"] == 3 and aux["label"] == "train"
    np.testing.assert_allclose(aux["pred"], np.tanh(x @ w))
    (value, aux2), g2 = ac.value_and_grad(loss_with_metrics, has_aux=True)(w, x)
    assert value == pytest.approx(np.sum(np.tanh(x @ w) ** 2)) and aux2["label"] == "train"
    np.testing.assert_allclose(g2, g)
    with pytest.raises(TypeError, match="pair"):
        ac.grad(chain_energy, has_aux=True)(w)


# --- gradients called inside differentiated functions; grad(grad(f)) through loops ---------------------
def settle(x):
    s = x
    k = 0
    while s < 5.0 and k < 10:
        s = s * 1.3 + np.sin(s)
        k += 1
    return s * x


def recurrent(w):
    hidden = 0.1
    for t in range(4):
        hidden = np.tanh(w * hidden + 0.5 * t)
    return hidden**2


def calls_grad_inline(x):
    return ac.grad(settle)(x) * x + x**2


def calls_grad_and_value(w, v):
    g = ac.grad(recurrent, wrt=0)(w)
    return g * v + ac.value_and_grad(recurrent)(w)[0]


d_settle = ac.grad(settle)


def calls_a_gradient_made_at_module_level(x):
    return d_settle(x) ** 2


def calls_jvp_inline(x, y):
    value, tangent = ac.jvp(settle)(x * y, 1.0)
    return tangent * y + value


recurrent_jvp = ac.jvp(recurrent)


def calls_a_jvp_made_at_module_level(w):
    return recurrent_jvp(w, 2.0)[1] ** 2


@pytest.mark.parametrize(
    "f, args",
    [
        (calls_grad_inline, (0.4,)),
        (calls_grad_and_value, (0.8, 1.5)),
        (calls_a_gradient_made_at_module_level, (0.4,)),
        (calls_jvp_inline, (0.4, 0.9)),  # reverse over forward
        (calls_a_jvp_made_at_module_level, (0.8,)),
    ],
)
def test_a_gradient_called_inside_a_differentiated_function(f, args):
    n = len(args)
    g = ac.grad(f, wrt=tuple(range(n)))(*args)
    reference = tuple(numerical_grad(f, list(args), i) for i in range(n))
    assert g == pytest.approx(reference, rel=1e-6)
    value, tangent = ac.jvp(f, wrt=0)(*args, 1.0)
    assert value == pytest.approx(f(*args)) and tangent == pytest.approx(reference[0], rel=1e-6)


@pytest.mark.parametrize("f, x", [(settle, 0.4), (recurrent, 0.8)])
def test_grad_of_grad_through_loops_and_while(f, x):
    assert ac.grad(ac.grad(f))(x) == pytest.approx(numerical_grad(ac.grad(f), [x], 0), rel=1e-6)
    assert ac.hessian(f)(x) == pytest.approx(ac.grad(ac.grad(f))(x), rel=1e-10)


def gradient_wrt_a_variable(x, k):
    return ac.grad(settle, wrt=k)(x)


def test_a_gradient_with_a_computed_wrt_is_refused_at_its_line():
    with pytest.raises(ac.UnsupportedError, match="wrt is not a literal") as info:
        ac.grad(gradient_wrt_a_variable)(0.4, 0)
    assert "test_higher_order.py:%d:" % (gradient_wrt_a_variable.__code__.co_firstlineno + 1) in str(info.value)


def weighted_by_key(d):
    total = 0.0
    for i, k in enumerate(sorted(d)):  # d[k] at a key known at run time: the adjoint accumulates with add_at
        total = total + np.sum(np.sin(d[k])) * (i + 1.0)
    return total


def sines_of_gradient(d):
    g = ac.grad(weighted_by_key)(d)
    return np.sum(g["a"]) + np.sum(np.sin(g["b"]))


def test_grad_of_a_gradient_that_accumulates_at_run_time_keys():
    # the inner gradient's add_at(d_bar, k, ...) is differentiated (it was run and its derivative dropped:
    # a silent zero; found by autograd's test_dict through the API)
    rng = np.random.default_rng(0)
    d = {"a": rng.standard_normal(3), "b": rng.standard_normal(2)}
    g = ac.grad(sines_of_gradient)(d)
    for k in d:
        for j in range(len(d[k])):

            def along(t, k=k, j=j):
                e = {kk: v.copy() for kk, v in d.items()}
                e[k][j] += t
                return sines_of_gradient(e)

            assert g[k][j] == pytest.approx((along(1e-6) - along(-1e-6)) / 2e-6, rel=1e-6, abs=1e-8)
    # by hand: d(sum g_a)/d a = -sin(a) (weight 1), d(sum sin g_b)/d b = cos(2 cos b) * 2 * (-sin b)
    np.testing.assert_allclose(g["a"], -np.sin(d["a"]), rtol=1e-10)
    np.testing.assert_allclose(g["b"], -2 * np.cos(2 * np.cos(d["b"])) * np.sin(d["b"]), rtol=1e-10)


def accumulates_at_rows(x, rows):
    acc = np.zeros((3, 2))
    runtime_add_at(acc, rows, x * x)  # rows may repeat: np.add.at
    return np.sum(acc * acc)


def test_add_at_called_directly_is_differentiated():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    rows = np.array([0, 0])
    g = ac.grad(accumulates_at_rows)(x, rows)
    assert g == pytest.approx(numerical_grad(accumulates_at_rows, [x, rows], 0), rel=1e-6)
    np.testing.assert_allclose(g, 4 * (x * x).sum(axis=0) * x, rtol=1e-12)  # both rows add into row 0


def sine_times_square(x, y):
    return np.sum(np.sin(x) * y**2)


def uses_a_vjp(x, y):
    value, pullback = ac.vjp(sine_times_square, (0, 1))(x * 2.0, y)
    bx, by = pullback(1.5)
    return np.sum(bx * by) + value


def uses_a_vjp_of_a_scalar(x):
    value, pullback = ac.vjp(settle)(x)
    return pullback(2.0) * value


def uses_an_hvp(x):
    return np.sum(ac.hvp(sine_times_square)(x, np.ones(3), x) ** 2)


@pytest.mark.parametrize(
    "f, args",
    [
        (uses_a_vjp, (np.array([0.3, -0.5, 1.2]), np.array([1.0, 2.0, -0.5]))),
        (uses_a_vjp_of_a_scalar, (0.4,)),
        (uses_an_hvp, (np.array([0.3, -0.5, 1.2]),)),
    ],
)
def test_vjp_and_hvp_called_inside_a_differentiated_function(f, args):
    # the pullback applied to u is the gradient of <h(x), u> (a function made for it); hvp is the jvp of a
    # function calling grad(h): both are emitted code differentiated again
    n = len(args)
    testing.check_grads(f, args, tuple(range(n)), rtol=1e-6)
    tangent = np.ones_like(args[0]) if isinstance(args[0], np.ndarray) else 1.0
    value, out_dot = ac.jvp(f, wrt=0)(*args, tangent)
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert out_dot == pytest.approx(testing.directional_difference(f, list(args), 0, tangent), rel=1e-6)


def apply_twice(fn, v):
    return fn(fn(v))


def passes_the_pullback_on(x):
    value, pullback = ac.vjp(settle)(x)
    return apply_twice(pullback, 1.0) * value


def test_a_pullback_used_other_than_called_is_refused_at_the_vjp():
    with pytest.raises(ac.UnsupportedError, match="test_higher_order.py:[0-9]+:[0-9]+: error: a pullback of a vjp"):
        ac.grad(passes_the_pullback_on)(0.4)


def first_of_settle(x):
    return ac.grad(settle)(x)


def second_of_settle(x):
    return ac.grad(first_of_settle)(x)  # <- third order when differentiated


def test_third_order_through_functions_calling_grad_matches_differences():
    # first_of_settle's gradient code calls a pullback, which reverse mode does not differentiate: the call's
    # adjoint is then the gradient of settle's derivative along the cotangent (derived.gradient_adjoint)
    third = numerical_grad(second_of_settle, [0.4], 0)
    assert ac.grad(second_of_settle)(0.4) == pytest.approx(third, rel=1e-6)
    assert second_of_settle(0.4) == pytest.approx(numerical_grad(first_of_settle, [0.4], 0), rel=1e-6)
    # with the value too, and an array argument: value_bar * grad h + grad <grad h, gradient_bar>
    x = np.array([0.3, -0.6, 0.9])
    expected = numerical_grad(uses_value_and_gradient_of_a_loop, [x], 0)
    np.testing.assert_allclose(ac.grad(uses_value_and_gradient_of_a_loop)(x), expected, rtol=1e-6, atol=1e-9)


def loop_of_helpers(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x * (i + 1.0))) * settle(0.1 * np.sum(x) + 0.2 * i)
    return s


def gradient_of_a_loop(x):
    return ac.grad(loop_of_helpers)(x)


def uses_value_and_gradient_of_a_loop(x):
    value, gradient = ac.value_and_grad(loop_of_helpers)(x)
    return value * np.sum(gradient**2) + np.sum(np.cos(ac.grad(loop_of_helpers)(x)))


def sums_over_a_dict(params):
    a = 0.0
    b = 0.0
    for i, k in enumerate(sorted(params)):
        a = a + np.sum(np.sin(params[k])) * (i + 1.0)
        b = b + np.sum(np.cos(params[k]))
    return a + b


def uses_the_gradient_of_a_dict_function(params):
    g = ac.grad(sums_over_a_dict)(params)
    return np.sum(g["w"]) + np.sum(np.sin(g["b"]))


def test_forward_mode_over_a_gradient_into_a_dict():
    # the gradient accumulates into a dict's cotangent (added_at): its tangent adds dicts element by element
    # (autograd's test_dict::test_iter; was TypeError: dict + dict)
    rng = np.random.default_rng(1)
    params = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(3), "unused": rng.standard_normal(2)}
    t = {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}
    _, tangent = ac.jvp(uses_the_gradient_of_a_dict_function)(params, t)
    h = 1e-6
    up = uses_the_gradient_of_a_dict_function({k: v + h * t[k] for k, v in params.items()})
    down = uses_the_gradient_of_a_dict_function({k: v - h * t[k] for k, v in params.items()})
    assert tangent == pytest.approx((up - down) / (2 * h), rel=1e-6)
    g = ac.grad(uses_the_gradient_of_a_dict_function)(params)
    assert tangent == pytest.approx(sum(np.sum(g[k] * t[k]) for k in params), rel=1e-10)


# --- ho11c: second order through the joining and splitting functions (their adjoints were np.frompyfunc maps,
# which forward mode could not follow: hessian was refused) --------------------------------------------------------
def joins_and_splits(x, y):
    both = np.concatenate([np.sin(x), y * y])
    rows = np.vstack([x, np.tanh(y[:3])])
    stacked = np.stack([x * y[1], np.cos(x)], axis=1)
    wide = np.hstack([x[0] * y, x])
    left, right = np.split(both * both, [2])
    return np.sum(left) * np.sum(right) + np.sum(rows**3) + np.sum(stacked[:, 0] * stacked[:, 1]) + np.sum(wide**2)


def joins_in_a_loop(w):
    h = w
    for k in range(3):
        h = np.concatenate([np.tanh(h[1:]), h[:1] * 0.5]) + 0.1 * k
    return np.sum(np.column_stack([h, w]) ** 2) + np.sum(np.dstack([h, h * w]))


def test_second_order_through_concatenate_stack_and_split_matches_differences_of_the_gradient():
    x, y = np.array([0.3, -0.7, 1.1]), np.array([0.5, 1.5, -0.4, 0.9])
    h = ac.hessian(joins_and_splits, (0, 1))(x, y)
    grad = ac.grad(joins_and_splits, (0, 1))
    eps = 1e-6
    for j, arg in enumerate((x, y)):
        for k in range(arg.size):
            e = np.zeros(arg.size)
            e[k] = eps
            up = grad(*[a + e if i == j else a for i, a in enumerate((x, y))])
            down = grad(*[a - e if i == j else a for i, a in enumerate((x, y))])
            for i in range(2):
                np.testing.assert_allclose(h[i][j][..., k], (up[i] - down[i]) / (2 * eps), rtol=1e-6, atol=1e-7)
    v = (np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.0, 1.0, -1.0]))
    product = ac.hvp(joins_and_splits, (0, 1))(x, y, v)
    np.testing.assert_allclose(product[0], h[0][0] @ v[0] + h[0][1] @ v[1], rtol=1e-10)
    np.testing.assert_allclose(product[1], h[1][0] @ v[0] + h[1][1] @ v[1], rtol=1e-10)


def test_second_order_through_joins_in_a_loop_matches_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def reference(w):
        h = w
        for k in range(3):
            h = anp.concatenate([anp.tanh(h[1:]), h[:1] * 0.5]) + 0.1 * k
        return anp.sum(anp.column_stack([h, w]) ** 2) + anp.sum(anp.dstack([h, h * w]))

    w = np.array([0.2, -0.6, 0.9, 0.4])
    assert joins_in_a_loop(w) == pytest.approx(reference(w), rel=1e-14)
    np.testing.assert_allclose(ac.hessian(joins_in_a_loop)(w), autograd.hessian(reference)(w), rtol=1e-10, atol=1e-12)
    product = ac.jvp(ac.grad(joins_in_a_loop))(w, np.ones(4))[1]
    np.testing.assert_allclose(product, autograd.hessian(reference)(w) @ np.ones(4), rtol=1e-10)


# --- ho11c: vjp(grad(f)), forward over reverse (the pullback of u is the mixed Hessian times u) ----------------------
def mixed(x, y):
    return np.sum(np.sin(x) * y**2) + np.sum(x**3) * y[0]


def test_vjp_of_grad_gives_the_gradient_and_hessian_products():
    x, y = np.array([0.3, -0.5, 1.2]), np.array([0.7, -1.1, 0.4])
    u = np.array([1.0, -2.0, 0.5])
    value, pullback = ac.vjp(ac.grad(mixed))(x, y)
    np.testing.assert_allclose(value, ac.grad(mixed)(x, y), rtol=1e-15)
    # d/dx <u, df/dx>: by hand, d2f/dx2 = diag(-sin(x) y^2 + 6 x y0)
    np.testing.assert_allclose(pullback(u), (-np.sin(x) * y**2 + 6 * x * y[0]) * u, rtol=1e-12)
    # the other argument: d/dy <u, df/dx> = 2 y cos(x) u + e0 * <3 x^2, u>
    _, across = ac.vjp(ac.grad(mixed, 0), 1)(x, y)
    expected = 2 * y * np.cos(x) * u + np.array([np.sum(3 * x**2 * u), 0.0, 0.0])
    np.testing.assert_allclose(across(u), expected, rtol=1e-12)
    # tuple wrt on both sides: the cotangent has the gradient's structure, the result vjp's wrt's
    _, both = ac.vjp(ac.grad(mixed, (0, 1)), (0, 1))(x, y)
    v = (u, np.array([0.2, 0.0, -1.0]))
    h = ac.hessian(mixed, (0, 1))(x, y)
    got = both(v)
    for i in range(2):
        np.testing.assert_allclose(got[i], h[0][i].T @ v[0] + h[1][i].T @ v[1], rtol=1e-10)


def test_vjp_of_grad_through_a_loop_matches_differences_of_the_gradient():
    value, pullback = ac.vjp(ac.grad(recurrent))(0.8)
    assert value == pytest.approx(ac.grad(recurrent)(0.8), rel=1e-15)
    assert pullback(2.0) == pytest.approx(2.0 * numerical_grad(ac.grad(recurrent), [0.8], 0), rel=1e-6)


def test_vjp_of_grad_through_in_place_gradient_code_matches_the_hessian():
    x = 1.3
    _, pullback = ac.vjp(ac.grad(updates_in_place))(x)
    assert pullback(1.0) == pytest.approx(20 * x**3 + 6 * x, rel=1e-12)  # element stores: supported
    x = np.array([0.3, 0.7, 1.1])
    value, pullback = ac.vjp(ac.grad(shifts_in_place))(x)
    np.testing.assert_allclose(value, ac.grad(shifts_in_place)(x), rtol=1e-15)
    u = np.array([0.5, 1.0, -1.5])
    np.testing.assert_allclose(pullback(u), _fd_jacobian(ac.grad(shifts_in_place), x).T @ u, rtol=1e-6, atol=1e-8)


# --- ho11c: recursion. The gradient of a recursive call keeps each call's pullback, a closure forward mode does
# not follow: second order is reverse mode over the tangent code, which recursion leaves plain --------------------
def recursive_power(x, n):
    if n == 0:
        return 1.0
    return x * np.sin(recursive_power(x, n - 1))


def recursive_tree_sum(v, depth):
    if depth == 0:
        return np.sum(np.tanh(v) ** 2)
    half = len(v) // 2
    return recursive_tree_sum(v[:half], depth - 1) * recursive_tree_sum(v[half:], depth - 1)


def test_recursion_first_and_second_order_match_differences():
    assert ac.grad(recursive_power)(1.3, 4) == pytest.approx(numerical_grad(recursive_power, [1.3, 4], 0), rel=1e-7)
    assert ac.jvp(recursive_power)(1.3, 4, 1.0)[1] == pytest.approx(ac.grad(recursive_power)(1.3, 4), rel=1e-12)
    v = np.array([0.1, 0.5, -0.3, 0.8])
    testing.check_grads(recursive_tree_sum, (v, 2), (0,), rtol=1e-6)
    second = numerical_grad(ac.grad(recursive_power), [1.3, 4], 0)
    assert ac.hessian(recursive_power)(1.3, 4) == pytest.approx(second, rel=1e-6)
    assert ac.grad(ac.grad(recursive_power))(1.3, 4) == pytest.approx(second, rel=1e-6)
    assert ac.vjp(ac.grad(recursive_power))(1.3, 4)[1](1.0) == pytest.approx(second, rel=1e-6)
    h = _fd_jacobian(lambda z: ac.grad(recursive_tree_sum)(z, 2), v)
    np.testing.assert_allclose(ac.hvp(recursive_tree_sum)(v, 2, np.ones(4)), h @ np.ones(4), rtol=1e-6, atol=1e-9)


# --- ho11d: mutual recursion (a calls b calls a) is refused the same way, naming the cycle -------------------------
def recursive_even(x, n):
    if n <= 0:
        return x * x
    return recursive_odd(x * 1.5, n - 1)


def recursive_odd(x, n):
    return np.sin(recursive_even(x - 0.5, n)) * x


def calls_a_recursive_pair(x):
    return 2.0 * recursive_even(x, 3)


def test_mutual_recursion_second_order_matches_differences():
    assert ac.grad(recursive_even)(1.2, 3) == pytest.approx(numerical_grad(recursive_even, [1.2, 3], 0), rel=1e-7)
    assert ac.jvp(recursive_even)(1.2, 3, 1.0)[1] == pytest.approx(ac.grad(recursive_even)(1.2, 3), rel=1e-12)
    for f, args in ((recursive_even, (1.2, 3)), (calls_a_recursive_pair, (1.2,))):
        second = numerical_grad(ac.grad(f), list(args), 0)
        assert ac.hvp(f)(*args, 1.0) == pytest.approx(second, rel=1e-6)
        assert ac.hessian(f)(*args) == pytest.approx(second, rel=1e-6)
        assert ac.grad(ac.grad(f))(*args) == pytest.approx(second, rel=1e-6)
        assert ac.vjp(ac.grad(f))(*args)[1](1.0) == pytest.approx(second, rel=1e-6)


def gradient_with_a_differentiated_spacing(x, h):
    v = np.gradient(2.94 * np.sin(x), 1.25 + 0.735 * np.sin(h), edge_order=2)
    return np.sum(np.sin(v) * np.linspace(-1.0, 2.0, 6))


def test_hvp_through_np_gradients_spacing_matches_differences_of_the_gradient():
    # found by tests/fuzz/scan_second_order.py: spacing_bar was declared non-differentiable, so hvp dropped
    # the spacing's second derivatives (a wrong number, not a refusal)
    x = np.array([0.3, -0.2, 0.9, 1.4, -1.1, 0.5])
    ac.check_grads(gradient_with_a_differentiated_spacing, (x, 0.4), wrt=(0, 1), modes="rev", order=2)


# --- any order: a transform of grad(h) or grad(grad(h)) (scalar arguments) compiles h's derivative along 1.0, tangent
# code of tangent code (derived.compilable), checked against central differences of the order below ---------------
def third_straight(x):
    return math.sin(x) * x**3


def third_loop(x):
    y = x
    for i in range(3):
        y = y * x + math.sin(y)
    return y


def third_while(x):
    y, k = x, 0
    while k < 3:
        y = y * x + math.sin(y)
        k += 1
    return y


def third_indexing(x):
    v = np.array([x, 2 * x, x * x])
    return v[0] * v[1] * v[2] + v[2] ** 2


def third_in_place(x):
    v = np.zeros(3)
    v[0] = x
    v[1] = x * x
    v[2] += math.sin(x)
    return np.sum(v**3)


def third_helper(y):
    s = 0.0
    for i in range(3):
        s = s + math.sin(y * i) * y
    return s


def third_call(x):
    return third_helper(x * 2) * x


def third_containers(x):
    d = {"a": x, "b": x * x}
    xs = [x, d["b"]]
    return d["a"] * xs[1] ** 2


def third_checkpointed(x):
    y = x
    for i in ac.checkpointed(range(4)):
        y = y * x + math.sin(y)
    return y


THIRD = [third_straight, third_loop, third_while, third_indexing, third_in_place, third_call, third_containers]


@pytest.mark.parametrize("f", THIRD + [third_checkpointed], ids=lambda f: f.__name__)
def test_second_and_third_order_match_differences_of_the_order_below(f):
    x = 0.7
    second = ac.grad(ac.grad(f))
    assert second(x) == pytest.approx(numerical_grad(ac.grad(f), [x], 0), rel=1e-6)
    assert ac.hessian(f)(x) == pytest.approx(second(x), rel=1e-12)
    third = numerical_grad(second, [x], 0)
    assert ac.grad(ac.grad(ac.grad(f)))(x) == pytest.approx(third, rel=1e-6)
    assert ac.jvp(ac.grad(ac.grad(f)))(x, 2.0)[1] == pytest.approx(2.0 * third, rel=1e-6)
    assert ac.hvp(ac.grad(f))(x, 1.0) == pytest.approx(third, rel=1e-6)


def test_fourth_order_of_a_polynomial_and_a_loop_is_exact():
    def quintic(x):
        return x**5 - 2.0 * x**3

    x = 1.3
    assert ac.grad(ac.grad(ac.grad(ac.grad(quintic))))(x) == pytest.approx(120 * x, rel=1e-12)
    assert ac.grad(ac.grad(ac.grad(ac.grad(third_loop))))(0.7) == pytest.approx(
        numerical_grad(ac.grad(ac.grad(ac.grad(third_loop))), [0.7], 0), rel=1e-5
    )


def test_mixed_third_derivatives_take_each_scalar_argument_in_turn():
    def f(x, y):
        return math.sin(x * y) * y**2

    x, y = 0.4, 1.1
    # d/dy d/dx d/dx f, against central differences of the second derivative in y
    d_xx = ac.grad(ac.grad(f, 0), 0)
    assert ac.grad(d_xx, 1)(x, y) == pytest.approx(numerical_grad(d_xx, [x, y], 1), rel=1e-6)
    assert ac.value_and_grad(d_xx, 1)(x, y)[0] == pytest.approx(d_xx(x, y), rel=1e-15)


def test_a_third_derivative_of_an_array_argument_is_a_type_error_naming_hessian():
    def f(x):
        return np.sum(x**3)

    with pytest.raises(TypeError, match="hessian"):
        ac.grad(ac.grad(ac.grad(f)))(np.array([1.0, 2.0]))


def test_jacobian_of_grad_is_the_hessian():
    def f(x):
        return np.sum(np.sin(x) * x**2)

    x = np.array([0.3, 0.5, -0.2])
    for mode in ("fwd", "rev", "auto"):
        np.testing.assert_allclose(ac.jacobian(ac.grad(f), mode=mode)(x), _fd_jacobian(ac.grad(f), x), rtol=1e-6)


def test_forward_mode_through_functions_calling_grad_whose_gradient_code_calls_pullbacks():
    # the tangent of ac.grad(h)(x) is the gradient of h's derivative along x's tangent (derived.gradient_tangent)
    x, t = np.array([0.3, -0.6, 0.9]), np.array([1.0, 0.5, -2.0])
    h = 1e-6
    expected = (gradient_of_a_loop(x + h * t) - gradient_of_a_loop(x - h * t)) / (2 * h)
    value, tangent = ac.jvp(gradient_of_a_loop)(x, t)
    np.testing.assert_allclose(value, gradient_of_a_loop(x), rtol=1e-15)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-9)
    assert ac.jvp(second_of_settle)(0.4, 1.0)[1] == pytest.approx(ac.grad(second_of_settle)(0.4), rel=1e-12)


def helper_with_a_default(y, n=3):
    s = 0.0
    for i in range(n):
        s = s + math.sin(y * (i + 1))
    return s


def with_defaults_and_keyword_only(x, n=3, *, scale=2.0):
    return helper_with_a_default(x, n) * x * scale


def calls_grad_of_it(x):
    return ac.grad(with_defaults_and_keyword_only)(x) * x


def test_higher_order_of_a_function_with_defaults_and_keyword_only_parameters():
    f = with_defaults_and_keyword_only
    assert ac.grad(ac.grad(f))(0.7) == pytest.approx(numerical_grad(ac.grad(f), [0.7], 0), rel=1e-6)
    assert ac.grad(ac.grad(f))(0.7, 4, scale=1.5) == pytest.approx(
        numerical_grad(lambda x: ac.grad(f)(x, 4, scale=1.5), [0.7], 0), rel=1e-6
    )
    third = numerical_grad(ac.grad(ac.grad(f)), [0.7], 0)
    assert ac.grad(ac.grad(ac.grad(f)))(0.7) == pytest.approx(third, rel=1e-6)
    assert ac.hessian(f)(0.7, 4) == pytest.approx(numerical_grad(lambda x: ac.grad(f)(x, 4), [0.7], 0), rel=1e-6)
    second = numerical_grad(calls_grad_of_it, [0.7], 0)
    assert ac.grad(calls_grad_of_it)(0.7) == pytest.approx(second, rel=1e-6)
    assert ac.jvp(calls_grad_of_it)(0.7, 1.0)[1] == pytest.approx(second, rel=1e-6)
    assert ac.jvp(f)(0.7, 2, 1.0, scale=3.0)[1] == pytest.approx(ac.grad(f)(0.7, 2, scale=3.0), rel=1e-12)


def sums_items_enumerated(d):
    a = 0.0
    for i, (k, v) in enumerate(d.items()):
        a = a + np.sum(np.sin(v)) * (i + 1.0)
    return a


def uses_the_gradient_of_enumerated_items(dd):
    return np.sum(np.sin(ac.grad(sums_items_enumerated)(dd)["w"]))


def test_reverse_over_reverse_through_enumerated_dict_items():
    # the gradient code's list of (key, value) pairs pops its cotangent, a list of pairs: the cotangent of
    # that slice and element were added with a list's += (concatenation), and came out zero (kw12 report)
    for b in (np.array([0.5, 0.9]), np.array([[0.5], [0.9], [0.1]])):
        dd = {"w": np.array([0.1, 0.2]), "b": b}
        got = ac.grad(uses_the_gradient_of_enumerated_items)(dd)
        for key in dd:
            expected = numerical_grad(lambda x: uses_the_gradient_of_enumerated_items({**dd, key: x}), [dd[key]], 0)
            np.testing.assert_allclose(got[key], expected, rtol=1e-6, atol=1e-9)


def squares_times(x, y):
    return np.sum(x**2) * y


def reads_a_one_tuple_gradient(x):
    g = ac.grad(squares_times, wrt=(0,))(x, 2.0)  # a tuple of one gradient: g[0] is the whole gradient
    return np.sum(g[0] * x)


def reads_a_one_tuple_pullback(x):
    v, back = ac.vjp(squares_times, wrt=(0,))(x, 2.0)
    return np.sum(back(1.0)[0] * x) * v


def takes_a_one_tuple_tangent(x):
    v, t = ac.jvp(squares_times, wrt=(0,))(x, 2.0, (x * 1.0,))
    return t * v


@pytest.mark.parametrize("f", [reads_a_one_tuple_gradient, reads_a_one_tuple_pullback, takes_a_one_tuple_tangent])
def test_transforms_with_a_one_tuple_wrt_inside_a_function(f):
    # wrt=(0,) gives a tuple of one gradient (and takes a tuple of one tangent): g[0] was the first element of the
    # bare gradient, a wrong number
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ac.grad(f)(x), numerical_grad(f, [x], 0), rtol=1e-6)
    t = np.array([0.5, -1.0, 2.0])
    assert ac.jvp(f)(x, t)[1] == pytest.approx(float(np.dot(numerical_grad(f, [x], 0), t)), rel=1e-6)


def test_jvp_with_a_one_tuple_wrt_of_a_gradient_of_a_function_calling_grad():
    def outer(x):
        return np.sin(ac.grad(squares_times)(np.array([x, 2.0 * x]), x)[1])

    g = ac.grad(outer)
    value, tangent = ac.jvp(g, wrt=(0,))(0.3, (1.0,))
    assert value == pytest.approx(g(0.3), rel=1e-12)
    assert tangent == pytest.approx(numerical_grad(g, [0.3], 0), rel=1e-6)


def sums_items_sorted_by_key(input_dict):
    a = 0.0
    for i, (k, v) in enumerate(sorted(input_dict.items(), key=operator.itemgetter(0))):
        a = a + np.sum(np.sin(v)) * (i + 1.0)
    return a


def uses_the_gradient_of_sorted_items(input_dict):
    g = ac.grad(sums_items_sorted_by_key)(input_dict)
    return np.sum(g["a"]) + np.sum(np.sin(g["b"]))


def test_second_order_through_a_sort_by_an_itemgetter_key():
    # autograd's test_dict::test_items_values_keys: the tangent code keeps the key in a temporary
    # (_t9 = op.itemgetter(0); sorted(..., key=_t9)), a static key all the same
    rng = np.random.default_rng(3)
    dd = {"b": rng.standard_normal((2, 3)), "a": rng.standard_normal(4)}
    t = {k: rng.standard_normal(v.shape) for k, v in dd.items()}
    h = 1e-6
    up = uses_the_gradient_of_sorted_items({k: dd[k] + h * t[k] for k in dd})
    down = uses_the_gradient_of_sorted_items({k: dd[k] - h * t[k] for k in dd})
    expected = (up - down) / (2 * h)
    g = ac.grad(uses_the_gradient_of_sorted_items)(dd)
    assert sum(np.sum(g[k] * t[k]) for k in dd) == pytest.approx(expected, rel=1e-6)
    assert ac.jvp(uses_the_gradient_of_sorted_items)(dd, t)[1] == pytest.approx(expected, rel=1e-6)


def _scaled_differences(a, b):
    return np.diff(a) * np.sin(b[1:])


def calls_a_user_function(a, b):
    return np.sum(_scaled_differences(a, b) ** 2)


def test_hvp_in_several_arguments_through_a_user_function():
    # once refused (the gradient keeps the callee's pullback, which forward mode over it does not follow):
    # reverse mode over f's derivative along the tangents, which derived.along spells as a tuple display
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    ac.check_grads(calls_a_user_function, [a, b], wrt=(0, 1), order=2)
    h = ac.hessian(calls_a_user_function, wrt=(0, 1))(a, b)
    g = ac.grad(calls_a_user_function, wrt=1)
    eps = 1e-6
    column = (g(a, b + eps * np.eye(4)[2]) - g(a, b - eps * np.eye(4)[2])) / (2 * eps)
    assert np.allclose(h[1][1][:, 2], column, rtol=1e-6, atol=1e-8)
