"""Rules written for complex values (complex17a, issue #13): np.abs / np.absolute / abs, np.var / np.std (and their
methods, nanvar / nanstd), np.linalg.norm at every ord and axis, np.real_if_close, np.arccosh, np.angle's tangent.

Each is checked at complex arguments against central differences, independently of the rules: ``grad`` of a
real-valued function against ``df/dx - 1j df/dy`` (differences in the real and the imaginary direction of each
element); ``vjp`` through the pairing that defines it (docs/complex.md: a cotangent ``c`` pairs with ``dz`` as
``Re(sum(c * dz))``, so ``Re(sum(pullback(u) * dz)) == Re(sum(u * df(dz)))`` for every ``dz``); ``jvp`` against a
directional difference; and against autograd where it is installed and takes the same branch.
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError

RNG = np.random.default_rng(1717)
H = 1e-6


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def difference_grad(f, z):
    """df/dx - 1j df/dy of a real-valued f, element by element, by central differences."""
    z = np.asarray(z, dtype=complex)
    out = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i] = H
        out[i] = (f(z + e) - f(z - e)) / (2 * H) - 1j * (f(z + 1j * e) - f(z - 1j * e)) / (2 * H)
    return out


def directional(f, z, v):
    return (np.asarray(f(z + H * v)) - np.asarray(f(z - H * v))) / (2 * H)


def check_all(f, z, atol=1e-6):
    """grad against differences, vjp through its pairing, jvp against a directional difference."""
    np.testing.assert_allclose(ac.grad(f)(z), difference_grad(f, z), atol=atol, rtol=1e-6)
    value, pullback = ac.vjp(f)(z)
    u = RNG.standard_normal()  # a real output's cotangent: real (its imaginary part would pair with nothing)
    for _ in range(3):
        dz = crandn(*np.shape(z))
        pairs = np.real(np.sum(pullback(u) * dz))
        assert pairs == pytest.approx(u * directional(f, z, dz), abs=atol, rel=1e-6)
        tangent = ac.jvp(f)(z, dz)[1]
        assert np.imag(tangent) == 0  # a real function's tangent is real
        assert tangent == pytest.approx(directional(f, z, dz), abs=atol, rel=1e-6)


# ---- functions of one complex array, each real-valued --------------------------------------------------------


def abs_sum(z):
    return np.sum(np.abs(z) * np.reshape(np.arange(1.0, 1.0 + np.size(z)), np.shape(z)))


def absolute_squared(z):
    return np.sum(np.absolute(z) ** 2)


def builtin_abs_of_array(z):
    return np.sum(abs(z) * np.array([1.0, -2.0, 0.5]))


def var_all(z):
    return np.var(z)


def var_axis_ddof(z):
    return np.sum(np.var(z, axis=0, ddof=1) * np.array([1.0, 2.0, 3.0]))


def var_method_keepdims(z):
    return np.sum(z.var(axis=1, keepdims=True) ** 2)


def std_all(z):
    return np.std(z)


def std_axis(z):
    return np.sum(np.std(z, axis=1, ddof=1) * np.array([1.0, -1.0]))


def std_method(z):
    return z.std(axis=0, keepdims=True)[0, 1] + z.std()


def nanvar_axis(z):
    return np.sum(np.nanvar(z, axis=1))


def nanstd_all(z):
    return np.nanstd(z, ddof=1)


FUNCTIONS = [
    abs_sum,
    absolute_squared,
    var_all,
    var_axis_ddof,
    var_method_keepdims,
    std_all,
    std_axis,
    std_method,
    nanvar_axis,
    nanstd_all,
]


@pytest.mark.parametrize("f", FUNCTIONS, ids=[f.__name__ for f in FUNCTIONS])
def test_real_functions_of_complex_arrays_against_differences(f):
    check_all(f, crandn(2, 3))


def test_builtin_abs_of_a_complex_array():
    check_all(builtin_abs_of_array, crandn(3))


def autograd_abs(z):
    return np.sum(np.abs(z) * np.arange(1.0, 7.0).reshape(2, 3))


def autograd_var(z):
    return np.sum(np.var(z, axis=0, ddof=1))


def autograd_std(z):
    return np.std(z)


def autograd_std_axis(z):
    return np.sum(np.std(z, axis=1, keepdims=True))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (autograd_abs, lambda anp: lambda z: anp.sum(anp.abs(z) * anp.arange(1.0, 7.0).reshape(2, 3))),
        (autograd_var, lambda anp: lambda z: anp.sum(anp.var(z, axis=0, ddof=1))),
        (autograd_std, lambda anp: lambda z: anp.std(z)),
        (autograd_std_axis, lambda anp: lambda z: anp.sum(anp.std(z, axis=1, keepdims=True))),
    ],
    ids=["abs", "var", "std", "std-axis"],
)
def test_against_autograd(ours, theirs):
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    z = crandn(2, 3)
    np.testing.assert_allclose(ac.grad(ours)(z), autograd.grad(theirs(anp))(z), rtol=1e-12, atol=1e-14)


def scaled_abs(z):
    # a real value (|z|) times complex numbers: its cotangent is complex, and only its real part pairs with a change
    return np.abs(z) * (1.0 + 2.0j) + np.var(z) * 1j


def test_a_real_value_with_a_complex_cotangent():
    z = crandn(3)
    value, pullback = ac.vjp(scaled_abs)(z)
    u = crandn(3)
    for _ in range(3):
        dz = crandn(3)
        expected = np.real(np.sum(u * directional(scaled_abs, z, dz)))
        assert np.real(np.sum(pullback(u) * dz)) == pytest.approx(expected, rel=1e-6, abs=1e-7)
    np.testing.assert_allclose(ac.jvp(scaled_abs)(z, dz)[1], directional(scaled_abs, z, dz), rtol=1e-6, atol=1e-7)


def test_abs_at_zero_takes_the_subgradient_zero_as_autograd():
    # |z| has no derivative at 0: we return 0 there (np.sign's subgradient at a real 0, the smallest one), in
    # reverse and forward mode; autograd's rule divides by |z| replaced by 1 there, giving 0 as well
    z = np.array([0.0 + 0.0j, 3.0 - 4.0j])
    g = ac.grad(abs_sum)(z)
    np.testing.assert_allclose(g, [0.0, 2.0 * (3.0 + 4.0j) / 5.0], rtol=1e-15)
    assert ac.jvp(abs_sum)(z, np.array([1.0 + 1.0j, 0.0]))[1] == 0.0
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    np.testing.assert_allclose(autograd.grad(lambda z: anp.sum(anp.abs(z) * anp.arange(1.0, 3.0)))(z), g, rtol=1e-15)


def test_builtin_abs_of_a_complex_number():
    # where grad knows abs's result is a number (the output), builtin abs takes its float variant (no np.sign:
    # Python floats stay floats), written for real numbers: refused, located, never a wrong number. vjp and jvp,
    # which do not know it, take the rule for arrays, written for complex values too.
    def of_number(z):
        return abs(z) * 2.0

    with pytest.raises(UnsupportedError, match=r"test_complex_rules.py:\d+:\d+: error: abs of complex values"):
        ac.grad(of_number)(3.0 + 4.0j)
    assert ac.vjp(of_number)(3.0 + 4.0j)[1](1.0) == pytest.approx(2.0 * (3.0 - 4.0j) / 5.0, rel=1e-15)
    assert ac.jvp(of_number)(3.0 + 4.0j, 1.0j)[1] == pytest.approx(directional(of_number, 3.0 + 4.0j, 1.0j), rel=1e-7)
    assert ac.grad(of_number)(-3.0) == -2.0  # real: as before


def test_np_abs_of_a_complex_number():
    def of_number(z):
        return np.abs(z) * 2.0

    assert ac.grad(of_number)(3.0 + 4.0j) == pytest.approx(2.0 * (3.0 - 4.0j) / 5.0, rel=1e-15)


# ---- np.linalg.norm ------------------------------------------------------------------------------------------


def norm_of(z, ord):
    return np.linalg.norm(z, ord)


def norm_along(z, ord):
    return np.sum(np.linalg.norm(z, ord, axis=1) * np.array([1.0, 2.0, 3.0]))


def norm_matrices(z, ord):
    return np.sum(np.linalg.norm(z, ord, axis=(1, 2), keepdims=True) * np.array([[[1.0]], [[-0.5]]]))


def _check_norm(f, z, ord):
    grad = ac.grad(f)(z, ord)
    np.testing.assert_allclose(grad, difference_grad(lambda w: f(w, ord), z), atol=1e-6, rtol=1e-6)
    for _ in range(2):
        dz = crandn(*z.shape)
        tangent = ac.jvp(f, wrt=0)(z, ord, dz)[1]
        assert tangent == pytest.approx(directional(lambda w: f(w, ord), z, dz), abs=1e-6, rel=1e-6)
        assert np.real(np.sum(grad * dz)) == pytest.approx(tangent, abs=1e-9, rel=1e-9)  # reverse and forward agree


@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, -np.inf, 3, 0.5, -1.5, 0])
def test_vector_norm(ord):
    _check_norm(norm_of, crandn(5), ord)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norm(ord):
    _check_norm(norm_of, crandn(3, 4), ord)


@pytest.mark.parametrize("ord", [None, 1, 2, 3, np.inf, -np.inf])
def test_vector_norm_along_an_axis(ord):
    _check_norm(norm_along, crandn(3, 4), ord)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms_of_a_stack(ord):
    _check_norm(norm_matrices, crandn(2, 3, 4), ord)


def test_norm_at_zero_and_against_autograd():
    z = np.array([0.0 + 0.0j, 0.0 + 0.0j])
    np.testing.assert_array_equal(ac.grad(norm_of)(z, None), [0.0, 0.0])  # the subgradient 0, as for real x
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    for ord in (None, 2, 3):
        w = crandn(4)
        np.testing.assert_allclose(
            ac.grad(norm_of)(w, ord), autograd.grad(lambda v: anp.linalg.norm(v, ord))(w), rtol=1e-12
        )
    m = crandn(3, 3)
    np.testing.assert_allclose(
        ac.grad(norm_of)(m, "nuc"), autograd.grad(lambda v: anp.linalg.norm(v, "nuc"))(m), rtol=1e-10
    )


# ---- holomorphic and piecewise: arccosh, real_if_close, angle -----------------------------------------------


def arccosh(z):
    return np.arccosh(z)


def test_arccosh_is_holomorphic_on_numpys_branch():
    # off the cut (-inf, 1]: points with Re z < 0 too, where 1 / sqrt(z * z - 1) would have the wrong sign
    z = np.array([2.0 + 1.0j, -2.0 + 0.5j, -0.3 - 0.7j, 0.4 + 0.2j, -1.5 - 2.0j])
    derivative = (np.arccosh(z + H) - np.arccosh(z - H)) / (2 * H)  # along the real direction
    np.testing.assert_allclose(derivative, (np.arccosh(z + 1j * H) - np.arccosh(z - 1j * H)) / (2j * H), rtol=1e-6)
    value, pullback = ac.vjp(arccosh)(z)
    u = crandn(5)
    np.testing.assert_allclose(pullback(u), u * derivative, rtol=1e-6)
    v = crandn(5)
    np.testing.assert_allclose(ac.jvp(arccosh)(z, v)[1], directional(arccosh, z, v), rtol=1e-6)
    assert not np.allclose(1.0 / np.sqrt(z * z - 1.0), derivative)  # (that formula's branch differs at Re z < 0)


def real_arccosh(z):
    return np.sum(np.real(np.arccosh(z)) + 0.5 * np.imag(np.arccosh(z)))


def test_arccosh_against_autograd_where_it_takes_the_same_branch():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    z = np.array([2.0 + 1.0j, 0.7 - 0.4j, 3.0 + 0.1j])  # Re z > 0: autograd's 1 / sqrt(z^2 - 1) is right there
    expected = autograd.grad(lambda z: anp.sum(anp.real(anp.arccosh(z)) + 0.5 * anp.imag(anp.arccosh(z))))(z)
    np.testing.assert_allclose(ac.grad(real_arccosh)(z), expected, rtol=1e-12)
    np.testing.assert_allclose(ac.grad(real_arccosh)(z), difference_grad(real_arccosh, z), rtol=1e-6)


def test_arccosh_of_real_numbers_as_before():
    x = np.array([1.5, 3.0, 10.0])
    np.testing.assert_allclose(ac.grad(lambda x: np.sum(np.arccosh(x)))(x), 1.0 / np.sqrt(x * x - 1.0), rtol=1e-14)


def real_if_close_squared(z):
    return np.sum(np.abs(np.real_if_close(z)) ** 2)


def real_if_close_of(z):
    return np.real_if_close(z) * 2.0


def test_real_if_close():
    tiny = np.array([1.0 + 1e-17j, -2.0 - 1e-18j])  # imaginary parts within tol: the real parts are returned
    np.testing.assert_allclose(ac.grad(real_if_close_squared)(tiny), 2.0 * tiny.real, rtol=1e-15)
    value, pullback = ac.vjp(real_if_close_of)(tiny)
    assert value.dtype.kind == "f"
    np.testing.assert_allclose(pullback(np.array([1j, 1.0])), [0.0, 2.0])  # np.real's: Re(u) * 2
    np.testing.assert_allclose(ac.jvp(real_if_close_of)(tiny, np.array([1j, 1.0]))[1], [0.0, 2.0])
    wide = crandn(2)  # imaginary parts beyond tol: returned as they are, the identity
    check_all(real_if_close_squared, wide)
    np.testing.assert_allclose(ac.vjp(real_if_close_of)(wide)[1](np.array([1j, 1.0])), [2j, 2.0])
    np.testing.assert_allclose(ac.jvp(real_if_close_of)(wide, np.array([1j, 1.0]))[1], [2j, 2.0])


def angle_degrees(z):
    return np.angle(z, deg=True)


def test_angle_in_forward_mode():
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j, -1.0 - 1.0j, 0.0 + 0.0j])
    v = crandn(4)
    tangent = ac.jvp(angle_degrees)(z, v)[1]
    np.testing.assert_allclose(tangent[:3], directional(angle_degrees, z[:3], v[:3]), rtol=1e-6)
    assert tangent[3] == 0.0  # no derivative at 0: 0, as the adjoint's
    assert ac.jvp(angle_degrees)(np.array([-2.0, 3.0]), np.array([1.0, 1.0]))[1].tolist() == [0.0, 0.0]


# ---- real arguments: first and second order as before -------------------------------------------------------


def mixed_real(x):
    return np.sum(np.abs(x) ** 3) + np.var(x) * np.std(x) + np.linalg.norm(x, 3) + np.linalg.norm(x) ** 2


def test_second_order_at_real_arguments():
    x = np.array([0.7, -1.3, 2.1, -0.4])
    hessian = ac.hessian(mixed_real)(x)
    grad = ac.grad(mixed_real)
    columns = [(grad(x + H * e) - grad(x - H * e)) / (2 * H) for e in np.eye(4)]
    np.testing.assert_allclose(hessian, np.array(columns).T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ac.hvp(mixed_real)(x, np.ones(4)), hessian @ np.ones(4), rtol=1e-12)


def test_real_arguments_give_real_gradients_as_before():
    x = np.array([[0.7, -1.3, 2.1], [-0.4, 0.0, 1.0]])
    np.testing.assert_allclose(ac.grad(abs_sum)(x), np.sign(x) * np.arange(1.0, 7.0).reshape(2, 3), rtol=1e-15)
    for f in FUNCTIONS:
        g = ac.grad(f)(x)
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, np.real(difference_grad(f, x)), atol=1e-6)


def test_vdot_conjugates_its_first_operand():
    # np.vdot(a, b) = sum(conj(a) b) (rules19): holomorphic in b, conjugate-holomorphic in a; the gradient of a
    # real part against differences in the real and imaginary directions, and the tangent against a difference
    a = crandn(2, 3)
    b = crandn(6)

    def f(a, b):
        return np.real(np.vdot(a, b) * (0.3 - 0.7j))

    ga, gb = ac.grad(f, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(ga, difference_grad(lambda a: f(a, b), a), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, difference_grad(lambda b: f(a, b), b), rtol=1e-6, atol=1e-8)
    v = (crandn(2, 3), crandn(6))
    tangent = ac.jvp(lambda a, b: np.vdot(a, b), wrt=(0, 1))(a, b, v)[1]
    np.testing.assert_allclose(tangent, np.vdot(v[0], b) + np.vdot(a, v[1]), rtol=1e-12)
    difference = (np.vdot(a + H * v[0], b + H * v[1]) - np.vdot(a - H * v[0], b - H * v[1])) / (2 * H)
    np.testing.assert_allclose(tangent, difference, rtol=1e-6)
