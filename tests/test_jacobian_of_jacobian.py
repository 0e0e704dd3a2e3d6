"""jacobian(jacobian(f)): second derivatives of vector-valued functions, out.shape + u.shape + w.shape,
against closed forms and second-order central differences of f itself."""

import numpy as np
import pytest

import adjoint_compiler as ac


def curve(x):
    return np.array([x[0] * x[1] ** 2, np.sin(x[0]) + x[1], x[0] ** 3])


def curve_second(x):
    a, b = x
    return np.array([[[0.0, 2 * b], [2 * b, 2 * a]], [[-np.sin(a), 0.0], [0.0, 0.0]], [[6 * a, 0.0], [0.0, 0.0]]])


def layer(w, v):
    return np.tanh(w @ v)  # (3, 4) @ (4,) -> (3,)


def looped(x):
    out = np.zeros(3)
    for i in range(3):
        out[i] = x[i] * x[(i + 1) % 3] + np.exp(x[i]) / (1.0 + x[2 - i] ** 2)
    return out


def mixed(x, y):
    return x * np.sum(y**2) + y[0] * x**3


def second_differences(f, args, i, j, h=1e-4):
    """d2 f / d args[i] d args[j] by central differences of f: shape out + args[i].shape + args[j].shape."""

    def shifted(a, b):
        moved = [np.array(v, dtype=float) for v in args]
        moved[i] = moved[i] + a
        moved[j] = moved[j] + b
        return np.asarray(f(*[m if np.ndim(m) else float(m) for m in moved]))

    u, w = np.shape(args[i]), np.shape(args[j])
    out = np.shape(f(*args))
    table = np.zeros(out + u + w)
    for k in np.ndindex(*u):
        for m in np.ndindex(*w):
            ek, em = np.zeros(u), np.zeros(w)
            ek[k], em[m] = h, h
            ek, em = (ek if u else float(ek)), (em if w else float(em))
            d = shifted(ek, em) - shifted(ek, -em) - shifted(-ek, em) + shifted(-ek, -em)
            table[(Ellipsis,) + k + m] = d / (4 * h * h)
    return table


@pytest.mark.parametrize("inner", ["auto", "fwd", "rev"])
@pytest.mark.parametrize("outer", ["auto", "fwd", "rev"])
def test_closed_form(inner, outer):
    x = np.array([0.7, 1.3])
    got = ac.jacobian(ac.jacobian(curve, mode=inner), mode=outer)(x)
    np.testing.assert_allclose(got, curve_second(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "f, args, i, j",
    [
        (layer, (np.linspace(-0.5, 0.6, 12).reshape(3, 4), np.array([0.3, -0.2, 0.8, 0.1])), 0, 0),
        (layer, (np.linspace(-0.5, 0.6, 12).reshape(3, 4), np.array([0.3, -0.2, 0.8, 0.1])), 1, 0),
        (layer, (np.linspace(-0.5, 0.6, 12).reshape(3, 4), np.array([0.3, -0.2, 0.8, 0.1])), 0, 1),
        (looped, (np.array([0.2, -0.7, 0.5]),), 0, 0),
        (mixed, (0.9, np.array([0.3, -0.4, 0.5])), 1, 0),
        (mixed, (0.9, np.array([0.3, -0.4, 0.5])), 0, 1),
        (mixed, (0.9, np.array([0.3, -0.4, 0.5])), 1, 1),
    ],
)
def test_against_second_differences(f, args, i, j):
    got = ac.jacobian(ac.jacobian(f, wrt=i), wrt=j)(*args)
    expected = second_differences(f, args, i, j)
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_scalar_second_derivative_is_a_float():
    got = ac.jacobian(ac.jacobian(mixed, wrt=0), wrt=0)(0.9, np.array([0.3, -0.4, 0.5]))
    assert type(got) is float and got == pytest.approx(6 * 0.3 * 0.9, rel=1e-12)


@pytest.mark.parametrize("inner", [0, 1, (0, 1), (1,)])
@pytest.mark.parametrize("outer", [0, 1, (0, 1), (1, 0)])
def test_tuples_of_wrt_give_tuples_of_blocks(inner, outer):
    args = (np.linspace(-0.5, 0.6, 12).reshape(3, 4), np.array([0.3, -0.2, 0.8, 0.1]))
    got = ac.jacobian(ac.jacobian(layer, wrt=inner), wrt=outer)(*args)
    ins, outs = (inner if isinstance(inner, tuple) else (inner,)), (outer if isinstance(outer, tuple) else (outer,))
    got = got if isinstance(inner, tuple) else (got,)
    assert len(got) == len(ins)
    for row, i in zip(got, ins):
        row = row if isinstance(outer, tuple) else (row,)
        assert len(row) == len(outs)
        for value, j in zip(row, outs):
            np.testing.assert_allclose(value, second_differences(layer, args, i, j), rtol=1e-5, atol=1e-6)


def spread(*xs):
    return np.array([xs[0] * xs[1], xs[0] ** 2])


def test_a_function_taking_args_is_refused_at_its_def():
    with pytest.raises(ac.UnsupportedError) as e:
        ac.jacobian(ac.jacobian(spread))(0.5, 2.0)
    assert "test_jacobian_of_jacobian.py:%d:1" % spread.__code__.co_firstlineno in str(e.value)
    assert "*args" in str(e.value)


LAYER_ARGS = (np.linspace(-0.5, 0.6, 12).reshape(3, 4), np.array([0.3, -0.2, 0.8, 0.1]))


@pytest.mark.parametrize("i, j", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_jvp_and_vjp_of_a_jacobian(i, j):
    args = LAYER_ARGS
    second = second_differences(layer, args, i, j)  # out + u + w
    rng = np.random.default_rng(7)
    tangent = rng.normal(size=np.shape(args[j]))
    value, tangent_out = ac.jvp(ac.jacobian(layer, wrt=i), wrt=j)(*args, tangent)
    np.testing.assert_allclose(value, ac.jacobian(layer, wrt=i)(*args), rtol=1e-14)
    np.testing.assert_allclose(tangent_out, np.tensordot(second, tangent, axes=tangent.ndim), rtol=1e-5, atol=1e-6)
    value, pullback = ac.vjp(ac.jacobian(layer, wrt=i), wrt=j)(*args)
    cotangent = rng.normal(size=np.shape(value))
    np.testing.assert_allclose(
        pullback(cotangent), np.tensordot(cotangent, second, axes=cotangent.ndim), rtol=1e-5, atol=1e-6
    )


def test_jvp_and_vjp_of_a_jacobian_in_tuples():
    args = LAYER_ARGS
    rng = np.random.default_rng(8)
    tangents = tuple(rng.normal(size=np.shape(a)) for a in args)
    _, tangent_out = ac.jvp(ac.jacobian(layer, wrt=(0, 1)), wrt=(0, 1))(*args, tangents)
    value, pullback = ac.vjp(ac.jacobian(layer, wrt=(0, 1)), wrt=(0, 1))(*args)
    cotangents = tuple(rng.normal(size=np.shape(v)) for v in value)
    grads = pullback(cotangents)
    for i in range(2):
        expected = sum(
            np.tensordot(second_differences(layer, args, i, j), tangents[j], axes=tangents[j].ndim) for j in range(2)
        )
        np.testing.assert_allclose(tangent_out[i], expected, rtol=1e-5, atol=1e-6)
    for j in range(2):
        expected = sum(
            np.tensordot(cotangents[i], second_differences(layer, args, i, j), axes=cotangents[i].ndim)
            for i in range(2)
        )
        np.testing.assert_allclose(grads[j], expected, rtol=1e-5, atol=1e-6)
