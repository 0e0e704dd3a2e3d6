"""Precision and kinds of arguments: float32 in, float32 out (reverse and forward mode, the emitted code
itself included); int arguments get float gradients, bool arguments zero ones, complex arguments a
TypeError naming them at the call; 0-d arrays and NumPy scalars keep their type; empty arrays and
empty axes.

Each gradient is checked against an independent reference: central differences of the original
function in float64 (``check_grads``), or a hand-derived derivative.
"""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import api, runtime
from adjoint_compiler.testing import check_grads

NUMPY2 = int(np.__version__.split(".")[0]) >= 2  # NEP 50: a Python float no longer promotes float32 scalars


# ---- float32 programs ---------------------------------------------------------------------------


def sum_squares(x):
    return np.sum(x * x)


def mean_tanh(x):
    return np.mean(np.tanh(x))


def matmul_gram(x):
    m = np.reshape(x, (2, 2))
    return np.sum(np.tanh(m @ m.T))


def exp_log(x):
    return np.sum(np.log(np.exp(x) + 1.0))


def broadcast_outer(x):
    return np.sum(x[:, None] * x[None, :] + x)


def broadcast_rows(x):
    return np.sum(x * np.ones((3, 1), np.float32))


def python_floats(x):
    return np.sum(2.0 * x + x / 3.0 - 1.5)


def extrema(x):
    return np.max(x) + np.min(x)


def extrema_axis(x):
    m = np.reshape(x, (2, 2))
    return np.sum(np.max(m, axis=0)) + np.sum(np.min(m, axis=1, keepdims=True))


def reductions(x):
    m = np.reshape(x, (2, 2))
    return np.sum(np.mean(m, axis=1) ** 2) + np.prod(x) + np.sum(np.sum(m, axis=0, keepdims=True) ** 2)


def indexing(x):
    return x[0] * x[2] + np.sum(x[1:3] ** 2) + np.sum(x[[0, 3]])


def where(x):
    return np.sum(np.where(x > 0, x, -2.0 * x))


def inplace(x):
    y = x.copy()
    y[0] = y[1] * 3.0
    y[2] += 1.5 * y[0]
    return np.sum(y * y)


def array_loop(x):
    s = x
    for i in range(3):
        s = np.tanh(s * x)
    return np.sum(s)


def element_loop(x):
    t = 0.0
    for i in range(x.shape[0]):
        t = t + x[i] * x[i]
    return t


def while_loop(x):
    y = x
    i = 0
    while i < 3:
        y = y * 0.5 + np.sin(x)
        i += 1
    return np.sum(y)


def branch(x):
    if np.sum(x) > 0:
        return np.sum(x**3)
    return np.sum(x)


def powers(x):
    return np.sum(x**2 + np.sqrt(np.abs(x) + 1.0) + 1.0 / (x * x + 1.0))


def maximum_clip(x):
    return np.sum(np.maximum(x, 0.1) + np.clip(x, -0.5, 0.5) ** 2)


def norm(x):
    return np.linalg.norm(x)


def var_std(x):
    return np.var(x) + np.std(x)


def vector_dot(x):
    return np.dot(x, x)


def einsum(x):
    return np.einsum("i,i->", x, x)


def outer(x):
    return np.sum(np.outer(x, x) ** 2)


def joined(x):
    return np.sum(np.concatenate([x, 2.0 * x]) ** 2) + np.sum(np.stack([x, x * x]) ** 2)


def sigmoid(x):
    return np.sum(1 / (1 + np.exp(-x)))


def list_of_elements(x):
    out = []
    for v in x:
        out.append(v * v)
    return sum(out)


PROGRAMS = [
    sum_squares,
    mean_tanh,
    matmul_gram,
    exp_log,
    broadcast_outer,
    broadcast_rows,
    python_floats,
    extrema,
    extrema_axis,
    reductions,
    indexing,
    where,
    inplace,
    array_loop,
    element_loop,
    while_loop,
    branch,
    powers,
    maximum_clip,
    norm,
    var_std,
    vector_dot,
    einsum,
    outer,
    joined,
    sigmoid,
    list_of_elements,
]
X64 = np.array([0.3, -0.7, 1.1, 0.45])  # away from the kinks (clip at 0.5)
X32 = X64.astype(np.float32)

# Programs whose emitted gradient computes in float64 inside (the API still returns float32): none since
# np.dot's rule calls runtime.dot_bar1/2 (its tensordot of the seed 1.0 made a float64 array first).
UPCAST_INSIDE = set()


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_float32_gradient_is_float32_and_agrees_with_float64(f):
    check_grads(f, [X64])  # the float64 reference is itself right
    reference = ac.grad(f)(X64)
    g = ac.grad(f)(X32.copy())
    assert g.dtype == np.float32 and g.shape == X32.shape
    np.testing.assert_allclose(g, reference, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("f", [sum_squares, broadcast_rows, element_loop], ids=lambda f: f.__name__)
def test_float32_through_value_and_grad_and_vjp(f):
    value, (g,) = ac.value_and_grad(f, wrt=(0,))(X32.copy())
    assert g.dtype == np.float32
    _, pullback = ac.vjp(f)(X32.copy())
    assert pullback(np.float32(1.0)).dtype == np.float32
    np.testing.assert_allclose(pullback(np.float32(1.0)), ac.grad(f)(X64), rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not NUMPY2, reason="NumPy 1.x promotes float32 scalars with Python floats to float64 itself")
@pytest.mark.parametrize(
    "f",
    [
        pytest.param(f, marks=pytest.mark.xfail(strict=True, reason="np.dot's rule: see UPCAST_INSIDE"))
        if f in UPCAST_INSIDE
        else f
        for f in PROGRAMS
    ],
    ids=lambda f: f.__name__,
)
def test_emitted_gradient_computes_in_float32(f):
    # not only the API's final cast: the emitted code itself (the seed 1.0, unreduce, unbroadcast, the
    # accumulators, the tapes) keeps float32 cotangents
    _, g = api._compiled(f, (0,), "grad", ()).function(X32.copy())  # (the code ac.grad runs, cached)
    assert g.dtype == np.float32


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_float32_tangent_is_float32_and_agrees_with_float64(f):
    t = np.array([0.2, 1.0, -0.5, 0.3])
    value, out = ac.jvp(f)(X32.copy(), t.astype(np.float32))
    _, reference = ac.jvp(f)(X64, t)
    assert np.result_type(out) == np.result_type(value)
    if NUMPY2:
        assert np.result_type(out) == np.float32
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out, np.dot(ac.grad(f)(X64), t), rtol=1e-4, atol=1e-6)


def test_shape_helpers_keep_float32():
    x = np.zeros((2, 3), np.float32)
    assert runtime.unreduce(1.0, x).dtype == np.float32
    assert runtime.unreduce(np.ones(2), x, axis=1).dtype == np.float32
    assert runtime.unbroadcast(np.ones((2, 3), np.float32), np.zeros(3, np.float32)).dtype == np.float32
    assert runtime.fit_shape(np.ones(3), np.zeros((2, 3), np.float32)).dtype == np.float32
    assert runtime.zeros_like(x).dtype == np.float32
    assert runtime.unreduce(1.0, np.zeros(3, int)).dtype == np.float64  # an integer array's cotangent is a float's


def test_zeros_like_of_a_list_of_numbers_is_python_zeros_and_of_anything_else_as_before():
    # the fast path (one float sum) gives what the per-type path gives: 0.0 for every int, float and bool
    for xs in ([0.5, 2, True], (1.5, 2.5), [1.0, 10**400], [0.5] * 100):
        out = runtime.zeros_like(xs)
        assert type(out) is list and len(out) == len(xs) and all(type(v) is float and v == 0.0 for v in out)
    nested = runtime.zeros_like([1.0, [2.0, 3.0]])
    assert nested == [0.0, [0.0, 0.0]] and type(nested[1]) is list
    mixed = runtime.zeros_like([1.0, np.array([1.0, 2.0])])
    assert mixed[0] == 0.0 and isinstance(mixed[1], np.ndarray) and mixed[1].shape == (2,)
    assert runtime.zeros_like([1.0, np.float32(2.0)]) == [0.0, 0.0]
    assert runtime.zeros_like([1.0, 1j]) == [0.0, 0.0]  # (complex arguments are refused before this, at the call)


def cast_int(x):
    return np.sum(x.astype(float) * 0.3 + x.astype(np.float32) ** 2)


def test_float64_argument_through_float32_keeps_its_precision():
    x = X64 * 1.1
    g = ac.grad(cast_float32)(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x.astype(np.float32), rtol=1e-6)  # d/dx float32(x)^2, hand-derived


def cast_float32(x):
    return np.sum(x.astype(np.float32) ** 2)


# ---- int and bool arguments ---------------------------------------------------------------------


def cube(x):
    return x * x * x


def scaled(x, b):
    return np.sum(x * b)


def test_int_arguments_get_float_gradients():
    g = ac.grad(cube)(2)
    assert type(g) is float and g == 12.0
    g = ac.grad(cube)(np.int64(2))
    assert type(g) is float and g == 12.0
    g = ac.grad(sum_squares)(np.arange(3))
    assert g.dtype == np.float64 and g.tolist() == [0.0, 2.0, 4.0]
    value, t = ac.jvp(cube)(2, 1.0)
    assert value == 8 and t == 12.0


def test_int_array_cast_to_float_has_the_floats_gradient():
    # astype's rule passed the cotangent back in the argument's integer dtype: 0.3 became 0
    x = np.array([1, 2, 3])
    g = ac.grad(cast_int)(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 0.3 + 2 * x, rtol=1e-6)  # hand-derived
    _, t = ac.jvp(cast_int)(x, np.ones(3))
    np.testing.assert_allclose(t, np.sum(0.3 + 2 * x), rtol=1e-6)


def pair_product(xs):
    return xs[0] * xs[1]


def test_bool_arguments_have_zero_gradient():
    # a truth value has no derivative (SPEC: non-differentiable values contribute zero gradient), so
    # a flag or mask among the parameters does not stop @differentiate
    gx, gb = ac.grad(scaled, wrt=(0, 1))(2.0, True)
    assert (gx, gb) == (1.0, 0.0) and type(gb) is float
    gx, gb = ac.grad(scaled, wrt=(0, 1))(X64, np.array([True, False, True, True]))
    np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0, 1.0])
    assert gb.dtype == np.float64 and gb.tolist() == [0.0] * 4
    assert ac.grad(scaled, wrt=1)(2.0, np.True_) == 0.0
    _, pullback = ac.vjp(scaled, wrt=1)(2.0, True)
    assert pullback(1.0) == 0.0
    value, t = ac.jvp(scaled, wrt=(0, 1))(2.0, True, (1.0, 1.0))
    assert value == 2.0 and t == 1.0  # the bool's tangent contributes nothing
    d = ac.differentiate(scaled)
    assert d.grad(3.0, False) == (0.0, 0.0)
    assert ac.grad(pair_product)([3.0, True]) == [1.0, 0.0]


# ---- complex arguments: refused at the call, naming the argument --------------------------------


def real_part(z):
    return z.real * 2.0


def magnitude(x, z):
    return x * abs(z)


@pytest.mark.parametrize(
    "z, kind",
    [
        (1.0 + 2.0j, "a complex number"),
        (np.complex128(1.0 + 2.0j), "a complex128 number"),
        (np.array([1.0 + 2.0j, 3.0]), "a complex128 array"),
        (np.array([1.0 + 2.0j], np.complex64), "a complex64 array"),
        ([1.0, 2.0j], "a list holding a complex number"),
    ],
    ids=["complex", "np.complex128", "array", "complex64", "list"],
)
def test_complex_arguments_at_second_order_raise_a_type_error_naming_them(z, kind):
    # first order takes complex arguments (tests/test_complex.py); second order refuses them at the call
    with pytest.raises(TypeError, match="argument z of real_part is %s; complex numbers are differentiated by" % kind):
        ac.hvp(real_part)(z, 1.0)
    if kind.startswith("a list"):
        return
    value, t = ac.jvp(real_part)(z, np.ones_like(z))  # 2 Re(z) along a real change: 2
    np.testing.assert_allclose(t, 2.0 * np.ones_like(value), rtol=0)
    value, pullback = ac.vjp(real_part)(z)  # d(2 Re z) pairs with dz as Re(2 u dz) for a real cotangent u
    np.testing.assert_allclose(pullback(np.ones_like(value)), 2.0 * np.ones_like(z), rtol=0)
    assert np.iscomplexobj(pullback(np.ones_like(value)))


def test_complex_argument_not_differentiated_is_a_constant():
    assert ac.grad(magnitude)(2.0, 3.0 + 4.0j) == 5.0
    with pytest.raises(ac.UnsupportedError, match="abs of complex values"):  # (abs of a number in grad: its float rule)
        ac.grad(magnitude, wrt=1)(2.0, 3.0 + 4.0j)


def complex_inside(x):
    return np.sum(np.real(x * (1.0 + 1.0j)) ** 2)


def test_complex_values_made_inside_follow_the_complex_convention():
    # the code makes complex values (1.0j): it runs as complex arguments run, every rule one for complex
    # values; the real argument's gradient is the real part of its cotangent. sum(Re(x (1 + i))^2) = sum(x^2)
    np.testing.assert_allclose(ac.grad(complex_inside)(X64), 2 * X64, rtol=1e-14)
    np.testing.assert_allclose(ac.grad(complex_inside)(X64), 2 * X64, rtol=1e-14)  # (a warm call: the same path)
    _, t = ac.jvp(complex_inside)(X64, np.ones(4))  # forward mode follows NumPy: Re(t (1 + i))
    np.testing.assert_allclose(t, np.sum(2 * X64), rtol=1e-12)


def negative_base_power(a, b):
    return a**b  # Python: a negative float to a fractional power is a complex number


def test_a_complex_output_is_refused_in_both_modes():
    # Tangent's gradgrad_pow at a < 0: reverse mode refused it, forward mode returned (nan+nanj)
    assert isinstance(negative_base_power(-2.0, -1.5), complex)
    with pytest.raises(TypeError, match="complex values made from real arguments only, are not supported"):
        ac.grad(negative_base_power, wrt=(0, 1))(-2.0, -1.5)
    with pytest.raises(TypeError, match="complex values made from real arguments only, are not supported"):
        ac.jvp(negative_base_power, wrt=(0, 1))(-2.0, -1.5, (1.0, 0.0))
    value, t = ac.jvp(negative_base_power, wrt=(0, 1))(2.0, -1.5, (1.0, 1.0))  # a real output is differentiated
    assert value == 2.0**-1.5 and t == pytest.approx(-1.5 * 2.0**-2.5 + math.log(2.0) * 2.0**-1.5, rel=1e-14)


# ---- 0-d arrays and NumPy scalars ---------------------------------------------------------------


@pytest.mark.parametrize(
    "x, kind",
    [
        (np.float64(2.0), np.float64),
        (np.float32(2.0), np.float32),
        (np.array(2.0), np.ndarray),
        (np.array(2.0, np.float32), np.ndarray),
    ],
    ids=["float64", "float32", "0-d", "0-d-float32"],
)
def test_zero_dimensional_arguments_keep_their_type(x, kind):
    g = ac.grad(cube)(x)
    assert type(g) is kind and np.shape(g) == () and g.dtype == x.dtype
    assert float(g) == 12.0
    g = ac.grad(sum_squares)(x)
    assert type(g) is kind and float(g) == 4.0
    value, t = ac.jvp(cube)(x, x * 0 + 1)
    assert float(t) == 12.0 and np.shape(t) == ()


# ---- empty arrays and empty axes ----------------------------------------------------------------


def total(x):
    return np.sum(x * 2.0)


def average(x):
    return np.mean(x)


def average_over_axis(x):
    return np.sum(np.mean(x, axis=0))


def product_sum(a, b):
    return np.sum(a @ b) + np.sum(b * b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own: the mean of an empty slice
def test_empty_arrays():
    g = ac.grad(total)(np.zeros(0))
    assert g.shape == (0,) and g.dtype == np.float64
    value, g = ac.value_and_grad(average)(np.zeros((0, 2)))
    assert np.isnan(value) and g.shape == (0, 2)  # nan of no elements: the gradient has no entries either
    value, g = ac.value_and_grad(average_over_axis)(np.zeros((0, 3)))
    assert np.isnan(value) and g.shape == (0, 3)
    g = ac.grad(average_over_axis)(np.ones((2, 0)) * 3.0)  # an empty axis kept, nothing averaged over 0
    assert g.shape == (2, 0)
    _, t = ac.jvp(total)(np.zeros(0), np.zeros(0))
    assert t == 0.0


def test_matmul_with_a_zero_dimension():
    a, b = np.ones((2, 0)), np.arange(6.0).reshape(2, 3)[:0]  # (2, 0) @ (0, 3) is zeros (2, 3)
    ga, gb = ac.grad(product_sum, wrt=(0, 1))(a, b)
    assert ga.shape == (2, 0) and gb.shape == (0, 3)
    a, b = np.ones((0, 2)), np.arange(6.0).reshape(2, 3)  # (0, 2) @ (2, 3): no rows, b only through b * b
    ga, gb = ac.grad(product_sum, wrt=(0, 1))(a, b)
    assert ga.shape == (0, 2)
    np.testing.assert_array_equal(gb, 2 * b)  # hand-derived
    _, t = ac.jvp(product_sum, wrt=1)(a, b, np.ones((2, 3)))
    assert t == np.sum(2 * b)


def two_outputs(x):
    return np.var(x), (x * 2.0, np.max(x))


def test_float32_tangents_of_structured_outputs():
    value, (t_var, (t_double, t_max)) = ac.jvp(two_outputs)(X32.copy(), np.ones(4, np.float32))
    assert np.result_type(t_var) == np.result_type(value[0])
    assert t_double.dtype == np.float32 and np.result_type(t_max) == np.result_type(value[1][1])
    if NUMPY2:
        assert np.result_type(t_var) == np.float32
    np.testing.assert_allclose(t_var, np.sum(2 * (X64 - X64.mean()) / 4), rtol=1e-5, atol=1e-6)  # hand-derived
    np.testing.assert_allclose(t_double, 2.0)
    np.testing.assert_allclose(t_max, 1.0)


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def test_a_list_of_floats_checked_once_keeps_each_elements_type():
    # the call looks at a list argument once (all floats: no bool, int or complex); what is not all floats
    # takes the per-element path: a bool's gradient is 0.0, an int's a float, np.float64's a Python float
    x = 0.5
    base = [0.25 * k for k in range(30)]
    by_hand = [x ** (29 - k) for k in range(30)]
    grad = ac.grad(horner, wrt=(0, 1))
    for swap, expected in ((None, None), (True, 0.0), (2, None), (np.float64(1.5), None), (np.float32(1.5), None)):
        coeffs = list(base)
        if swap is not None:
            coeffs[7] = swap
        g, gx = grad(coeffs, x)
        assert type(g) is list and all(type(v) is float for v in g)
        want = list(by_hand)
        if expected is not None:
            want[7] = expected
        assert g == pytest.approx(want, rel=1e-14)
    g = ac.grad(horner)([True, 1.5, False], x)
    assert g == [0.0, 0.5, 0.0]
    with pytest.raises(TypeError, match="real scalar output"):  # (a complex coefficient: a complex value)
        ac.grad(horner)(base[:5] + [1j], x)
    with pytest.raises(TypeError, match="argument coeffs of horner is a list holding a complex number"):
        ac.hessian(horner)(base[:5] + [1j], x)
