"""np.gradient with coordinates (one array of sample positions per axis, unevenly spaced) and with one
spacing per axis: differentiable in f and in every spacing, in both modes and at second order.

A call given spacings that are not number literals is lowered (desugar.py) to ``runtime.gradient_spaced``,
NumPy's formula written as NumPy the compiler differentiates. Checked against NumPy's values, against
derivatives worked by hand (the three-point formulas are exact for quadratics), and against central
differences (``ac.check_grads``: reverse and forward mode, their dot-product test, and hvp at order 2).
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime

X = np.array([0.0, 0.5, 1.5, 1.75, 3.0, 3.2])  # uneven coordinates
Y = np.array([-1.0, -0.4, 0.1, 1.3])


def one_axis(f, x):
    return np.sum(np.sin(np.gradient(f, x)))


def one_axis_order2(f, x):
    return np.sum(np.gradient(f, x, edge_order=2) * np.arange(1.0, 7.0))


def two_axes(f, x, y):
    gx, gy = np.gradient(f, x, y)
    return np.sum(gx * gy) + np.sum(np.cos(gx))


def two_axes_order2(f, x, y):
    gx, gy = np.gradient(f, x, y, edge_order=2)
    return np.sum(gx**2) + np.sum(gy * f)


def along_axis(f, y):
    return np.sum(np.gradient(f, y, axis=1, edge_order=2) ** 2)


def negative_axis(f, y):
    return np.sum(np.tanh(np.gradient(f, y, axis=-1)))


def mixed(f, x, h):
    gx, gy = np.gradient(f, x, h)  # coordinates along axis 0, a number spacing along axis 1
    return np.sum(gx * gy)


def of_the_coordinates(x):
    return np.sum(np.gradient(x**2, x, edge_order=2))


def of_the_coordinates_order1(x):
    return np.sum(np.gradient(x**2, x))


def test_values_are_numpys():
    # uneven coordinates: NumPy's own operations in its order, so the same bits; evenly spaced ones (NumPy then
    # uses its even formula): the same values up to rounding
    rng = np.random.default_rng(0)
    f1, f2 = rng.standard_normal(6), rng.standard_normal((6, 4))
    for edge_order in (1, 2):
        assert np.array_equal(
            runtime.gradient_spaced(f1, (X,), edge_order=edge_order), np.gradient(f1, X, edge_order=edge_order)
        )
        got = runtime.gradient_spaced(f2, (X, Y), edge_order=edge_order)
        want = np.gradient(f2, X, Y, edge_order=edge_order)
        assert type(got) is type(want) and len(got) == 2  # a tuple on NumPy 2, a list on NumPy 1
        for a, b in zip(got, want):
            assert np.array_equal(a, b)
        got = runtime.gradient_spaced(f2, (Y,), axis=1, edge_order=edge_order)
        assert np.array_equal(got, np.gradient(f2, Y, axis=1, edge_order=edge_order))
        even = np.linspace(0.0, 1.0, 6)
        got = runtime.gradient_spaced(f1, (even,), edge_order=edge_order)
        assert np.allclose(got, np.gradient(f1, even, edge_order=edge_order), rtol=1e-13, atol=1e-12)


def test_forward_values_are_numpys():
    rng = np.random.default_rng(1)
    f = rng.standard_normal((6, 4))
    value, _ = ac.value_and_grad(two_axes_order2, wrt=(0, 1, 2))(f, X, Y)
    assert np.isclose(value, two_axes_order2(f, X, Y), rtol=1e-13)


def test_exact_for_quadratics_by_hand():
    # f = x^2 sampled at x: the three-point differences are exact for a quadratic, so with edge_order 2
    # np.gradient(x**2, x) is 2x at every point and d/dx sum(...) = 2 at every point
    assert np.allclose(ac.grad(of_the_coordinates)(X), np.full(6, 2.0), rtol=0, atol=1e-12)
    # edge_order 1: the ends are (x1^2 - x0^2) / (x1 - x0) = x0 + x1 (and x_{n-2} + x_{n-1}), the inside 2x:
    # the sum is (x0 + x1) + 2 (x1 + ... + x_{n-2}) + (x_{n-2} + x_{n-1}), whose gradient is (1, 3, 2, 2, 3, 1)
    assert np.allclose(ac.grad(of_the_coordinates_order1)(X), [1.0, 3.0, 2.0, 2.0, 3.0, 1.0], rtol=0, atol=1e-12)
    _, dot = ac.jvp(of_the_coordinates_order1)(X, np.ones(6))
    assert np.isclose(dot, 12.0, rtol=1e-12)
    assert np.allclose(ac.hessian(of_the_coordinates)(X), 0.0, atol=1e-9)


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (one_axis, [(6,), X]),
        (one_axis_order2, [(6,), X]),
        (two_axes, [(6, 4), X, Y]),
        (two_axes_order2, [(6, 4), X, Y]),
        (along_axis, [(3, 4), Y]),
        (negative_axis, [(3, 4), Y]),
        (mixed, [(6, 4), X, 0.7]),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_differentiable_in_f_and_every_spacing(fn, shapes):
    rng = np.random.default_rng(2)
    args = [rng.standard_normal(shapes[0])] + list(shapes[1:])
    ac.check_grads(fn, args, wrt=tuple(range(len(args))), order=2, rtol=1e-5)


def test_second_order_in_the_coordinates_against_differences_of_the_gradient():
    rng = np.random.default_rng(3)
    f = rng.standard_normal(6)
    g = ac.grad(one_axis_order2, wrt=1)
    h = ac.hessian(one_axis_order2, wrt=1)(f, X)
    eps = 1e-5
    columns = [(g(f, X + eps * e) - g(f, X - eps * e)) / (2 * eps) for e in np.eye(6)]
    assert np.allclose(h, np.array(columns).T, rtol=1e-5, atol=1e-6)


def short_coordinates(f, x):
    return np.sum(np.gradient(f, x[:-1]))


def test_numpys_own_errors():
    # coordinates of the wrong length, too few points for edge_order 2: NumPy's errors, from the gradient too
    f = np.arange(6.0) ** 2
    with pytest.raises(ValueError):
        ac.grad(short_coordinates, wrt=(0, 1))(f, X)
    with pytest.raises(ValueError):
        ac.grad(one_axis_order2, wrt=1)(f[:2], X[:2])
    # NumPy's errors, as NumPy raises them, for each misfit (runtime.gradient_axes checks without the full work)
    g = np.zeros((4, 5))
    for spacings, axis, edge_order in [
        ((np.arange(3.0),), 0, 1),  # coordinates of the wrong length
        ((1.0, 1.0, 1.0), None, 1),  # three spacings for two axes
        ((np.arange(4.0),), None, 1),  # one coordinate array for two axes
        ((1.0,), (0, 0), 1),  # an axis twice
        ((np.arange(4.0),), 0, 3),
        ((np.ones((2, 2)),), 0, 1),
    ]:
        with pytest.raises(Exception) as numpys:
            np.gradient(g, *spacings, axis=axis, edge_order=edge_order)
        with pytest.raises(type(numpys.value), match=str(numpys.value)[:20]):
            runtime.gradient_axes(g, spacings, axis, edge_order)


def literal_spacings(x):
    return np.sum(np.gradient(x, 1.0, 1.0, 1.0, 1.0, 2.0)[4])


def test_number_literal_spacings_are_not_lowered():
    # np.gradient's own rule: literal spacings stay as written, so its refusals (five spacings) stay too
    src = ac.adjoint_source(lambda x: np.sum(np.gradient(x, 0.5)), wrt=0)
    assert "gradient_spaced" not in src
    src = ac.adjoint_source(one_axis, wrt=1)
    assert "gradient_spaced" in src
    with pytest.raises(NotImplementedError, match="more than four spacings"):
        ac.grad(literal_spacings)(np.ones((2, 2, 2, 2, 3)))


def test_export_runs_without_the_compiler():
    # gradient_spaced's compiled code is linked into the module, its helpers copied in (runtime.HELPERS)
    from adjoint_compiler import export

    text = export.export_source(one_axis_order2, (0, 1))
    assert "import adjoint_compiler" not in text and "from adjoint_compiler" not in text
    namespace = {}
    exec(compile(text, "<exported>", "exec"), namespace)
    f = np.random.default_rng(4).standard_normal(6)
    value, (f_bar, x_bar) = namespace["one_axis_order2_grad"](f, X)
    want = ac.grad(one_axis_order2, wrt=(0, 1))(f, X)
    assert value == one_axis_order2(f, X)
    assert np.allclose(f_bar, want[0], rtol=1e-14) and np.allclose(x_bar, want[1], rtol=1e-14)


def test_precision_follows_f():
    # float32 samples: NumPy's result is float32 (the differences in f's precision), and so are the value and
    # f's gradient; integer samples give float64
    f = (np.arange(6.0) ** 2).astype(np.float32)
    value, (f_bar, x_bar) = ac.value_and_grad(one_axis, wrt=(0, 1))(f, X)
    assert value == one_axis(f, X) and np.asarray(value).dtype == np.float32
    assert f_bar.dtype == np.float32 and x_bar.dtype == np.float64
    assert np.array_equal(runtime.gradient_spaced(np.arange(6) ** 2, (X,)), np.gradient(np.arange(6) ** 2, X))
    ac.check_grads(one_axis, [np.arange(6.0), X], wrt=1, order=2)
