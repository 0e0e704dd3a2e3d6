"""Reverse mode of functions of complex arguments (docs/complex.md).

The convention is autograd's and JAX's: a cotangent ``c`` pairs with a change ``dz`` as ``Re(sum(c * dz))``.
So ``grad`` of a real-valued ``f`` is ``df/dx - 1j * df/dy`` and the pullback of a holomorphic ``f`` multiplies
by ``f'(z)``. Each check compares with something independent: the derivative written out by hand, central
differences along the real and the imaginary direction, or autograd (when installed).
"""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import UnsupportedError

try:  # (optional: CI's other lanes run without it)
    from scipy import special
except ImportError:
    special = None
needs_scipy = pytest.mark.skipif(special is None, reason="scipy is not installed")

RNG = np.random.default_rng(7)
Z = RNG.standard_normal(5) * 0.6 + 1j * RNG.standard_normal(5) * 0.6  # inside every function's domain
X = RNG.standard_normal(5)
A = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)) + 3.0 * np.eye(3)
B = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))


def real_gradient_by_differences(f, args, i, h=1e-6):
    """df/dx - 1j df/dy of the real-valued f in args[i], element by element, by central differences."""
    z = np.array(args[i], dtype=complex)
    out = np.zeros(z.shape, complex)
    for k in np.ndindex(z.shape):
        for direction, weight in ((1.0, 1.0), (1j, -1j)):
            step = np.zeros(z.shape, complex)
            step[k] = h * direction
            plus = list(args)
            minus = list(args)
            plus[i], minus[i] = z + step, z - step
            if np.ndim(args[i]) == 0:
                plus[i], minus[i] = complex(plus[i]), complex(minus[i])
            out[k] += weight * (f(*plus) - f(*minus)) / (2 * h)
    return out


# ---- holomorphic functions: the pullback of cotangent 1 is f'(z), written out by hand ----------------------

HOLOMORPHIC = [
    (np.sin, np.cos),
    (np.cos, lambda z: -np.sin(z)),
    (np.tan, lambda z: 1.0 / np.cos(z) ** 2),
    (np.sinh, np.cosh),
    (np.cosh, np.sinh),
    (np.tanh, lambda z: 1.0 / np.cosh(z) ** 2),
    (np.exp, np.exp),
    (np.expm1, np.exp),
    (np.exp2, lambda z: np.log(2.0) * np.exp2(z)),
    (np.log, lambda z: 1.0 / z),
    (np.log1p, lambda z: 1.0 / (1.0 + z)),
    (np.log2, lambda z: 1.0 / (z * np.log(2.0))),
    (np.log10, lambda z: 1.0 / (z * np.log(10.0))),
    (np.sqrt, lambda z: 0.5 / np.sqrt(z)),
    (np.square, lambda z: 2.0 * z),
    (np.reciprocal, lambda z: -1.0 / z**2),
    (np.arcsin, lambda z: 1.0 / np.sqrt(1.0 - z * z)),
    (np.arccos, lambda z: -1.0 / np.sqrt(1.0 - z * z)),
    (np.arctan, lambda z: 1.0 / (1.0 + z * z)),
    (np.arcsinh, lambda z: 1.0 / np.sqrt(z * z + 1.0)),
    (np.arctanh, lambda z: 1.0 / (1.0 - z * z)),
    (np.negative, lambda z: -np.ones_like(z)),
]


@pytest.mark.parametrize("fn, slope", HOLOMORPHIC, ids=[fn.__name__ for fn, _ in HOLOMORPHIC])
def test_a_holomorphic_function_pulls_back_by_its_derivative(fn, slope):
    value, pullback = ac.vjp(fn)(Z)
    np.testing.assert_allclose(value, fn(Z), rtol=1e-14)
    u = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)
    np.testing.assert_allclose(pullback(u), u * slope(Z), rtol=1e-12, atol=1e-14)
    # and by differences: d/dz along the real axis, for a holomorphic function
    h = 1e-6
    np.testing.assert_allclose(pullback(np.ones(5)), (fn(Z + h) - fn(Z - h)) / (2 * h), rtol=1e-7)


def test_operators_and_powers_of_complex_values():
    def f(z, w):
        return (z * w + z / (w + 2.0) - w**3 + z**w) * 2.0

    z, w = 0.7 + 0.4j, -0.3 + 1.1j
    _, pullback = ac.vjp(f, wrt=(0, 1))(z, w)
    dz, dw = pullback(1.0)
    np.testing.assert_allclose(dz, 2.0 * (w + 1.0 / (w + 2.0) + w * z ** (w - 1.0)), rtol=1e-13)
    np.testing.assert_allclose(dw, 2.0 * (z - z / (w + 2.0) ** 2 - 3.0 * w**2 + np.log(z) * z**w), rtol=1e-13)
    assert isinstance(dz, complex) and isinstance(dw, complex)


# ---- real-valued functions of complex arrays: grad is df/dx - 1j df/dy -------------------------------------


def energy(z):
    return np.sum(np.real(z * np.conj(z)) * 0.5 + np.imag(np.sin(z)) - np.real(np.exp(z)))


def phase(z):
    return np.sum(np.angle(z) * np.real(z)) + np.sum(np.angle(z, deg=True))


def linear_system(a, b):
    x = np.linalg.solve(a, b)
    return np.real(np.sum(x * np.conj(x))) + np.real(np.trace(np.linalg.inv(a) @ a.T))


def contraction(a, b):
    c = np.einsum("ij,jk->ik", a, b) + np.tensordot(a, b, axes=1) + np.kron(a, b.T)[:3, :3] @ b
    return np.real(np.sum(c * np.conj(c))) + np.imag(np.prod(np.diag(a)))


def looped(z):
    total = 0.0
    for k in range(len(z)):
        total = total + np.real(z[k] ** 2 * np.cumsum(z)[k])
    return total


def extremes(a):
    # np.max of complex values orders them lexicographically: the gradient goes to the element chosen
    return np.real(np.max(a) * (1.0 + 2.0j)) + np.imag(np.sum(np.min(a, axis=0) ** 2)) + np.real(np.sum(a.max(axis=1)))


def helper(z):
    return np.exp(z) * z


def calls_helper(z):
    return np.real(np.sum(helper(z) * helper(z[::-1])))


@pytest.mark.parametrize(
    "f, args",
    [
        (energy, (Z,)),
        (phase, (Z,)),
        (linear_system, (A, B)),
        (contraction, (A, B)),
        (looped, (Z,)),
        (calls_helper, (Z,)),
        (extremes, (A,)),
    ],
    ids=["energy", "phase", "solve-inv", "contractions", "loop", "helper", "max-min"],
)
def test_grad_of_a_real_function_of_complex_arrays_matches_differences(f, args):
    grads = ac.grad(f, wrt=tuple(range(len(args))))(*args)
    for i, g in enumerate(grads):
        assert g.dtype == np.complex128 and g.shape == np.shape(args[i])
        np.testing.assert_allclose(g, real_gradient_by_differences(f, args, i), rtol=1e-6, atol=1e-7)


def test_value_and_grad_gives_the_value_and_the_same_gradient():
    value, g = ac.value_and_grad(energy)(Z)
    assert value == pytest.approx(energy(Z), rel=1e-14)
    np.testing.assert_allclose(g, ac.grad(energy)(Z), rtol=1e-15)


def test_agrees_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")

    def ours(z, x):
        return np.real(np.sum(np.sin(z) * x * np.conj(z))) + np.sum(np.imag(z) ** 2 * np.angle(z))

    def theirs(z, x):
        return anp.real(anp.sum(anp.sin(z) * x * anp.conj(z))) + anp.sum(anp.imag(z) ** 2 * anp.angle(z))

    ours_g = ac.grad(ours, wrt=(0, 1))(Z, X)
    theirs_g = autograd.grad(theirs, (0, 1))(Z, X)
    for a, b in zip(ours_g, theirs_g):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# ---- real and complex arguments side by side, scalars, precision --------------------------------------------


def mixed(x, z):
    return np.real(np.sum(x * z * z)) + np.sum(x**2)


def test_a_real_argument_beside_complex_ones_gets_a_real_gradient():
    gx, gz = ac.grad(mixed, wrt=(0, 1))(X, Z)
    assert gx.dtype == np.float64 and gz.dtype == np.complex128
    np.testing.assert_allclose(gx, np.real(Z * Z) + 2 * X, rtol=1e-13)  # d/dx, by hand
    np.testing.assert_allclose(gz, 2 * X * Z, rtol=1e-13)  # x z^2 is holomorphic in z: conj-free 2 x z
    np.testing.assert_allclose(gz, real_gradient_by_differences(mixed, (X, Z), 1), rtol=1e-6)


def test_python_and_numpy_complex_scalars():
    def f(z):
        return (z * z.conjugate()).real + (z**3).imag

    for z in (1.0 + 2.0j, np.complex128(1.0 + 2.0j)):
        g = ac.grad(f)(z)
        assert type(g) is type(z)
        assert g == pytest.approx(real_gradient_by_differences(f, (z,), 0)[()], rel=1e-7)


def test_complex64_keeps_its_precision():
    z = Z.astype(np.complex64)
    g = ac.grad(energy)(z)
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, ac.grad(energy)(Z), rtol=1e-5)


def test_a_list_of_complex_numbers():
    def f(zs):
        return (zs[0] * zs[1]).real + abs(zs[2]) * 2.0

    # builtin abs of a complex number (its float variant, for scalars) has no complex rule: refused, never a wrong
    # number (np.abs of complex arrays is differentiated: tests/test_complex_rules.py)
    with pytest.raises(UnsupportedError, match=r"test_complex.py:\d+:\d+: error: abs of complex values"):
        ac.grad(f)([1.0 + 1.0j, 2.0 - 1.0j, 0.5j])

    def g(zs):
        return (zs[0] * zs[1]).real + (zs[2] * zs[2]).imag

    grads = ac.grad(g)([1.0 + 1.0j, 2.0 - 1.0j, 0.5 + 0.5j])
    assert isinstance(grads, list)
    np.testing.assert_allclose(grads, [2.0 - 1.0j, 1.0 + 1.0j, -1j * 2 * (0.5 + 0.5j)], rtol=1e-14)


def test_the_pullback_of_a_complex_output_takes_a_complex_cotangent():
    def f(a, b):
        return np.linalg.inv(a) @ b

    value, pullback = ac.vjp(f, wrt=(0, 1))(A, B)
    u = RNG.standard_normal(value.shape) + 1j * RNG.standard_normal(value.shape)
    da, db = pullback(u)
    va = RNG.standard_normal(A.shape) + 1j * RNG.standard_normal(A.shape)
    vb = RNG.standard_normal(B.shape) + 1j * RNG.standard_normal(B.shape)
    h = 1e-6
    jv = (f(A + h * va, B + h * vb) - f(A - h * va, B - h * vb)) / (2 * h)
    # <pullback(u), v> == <u, J v>, both paired as Re(sum(c * dz))
    assert np.real(np.sum(da * va) + np.sum(db * vb)) == pytest.approx(np.real(np.sum(u * jv)), rel=1e-7)


def test_arguments_are_not_changed():
    z, x = Z.copy(), X.copy()
    zs = [1.0 + 1.0j, 2.0]
    ac.grad(mixed, wrt=(0, 1))(x, z)
    ac.grad(lambda zs: (zs[0] * zs[1]).real)(zs)
    np.testing.assert_array_equal(z, Z)
    np.testing.assert_array_equal(x, X)
    assert zs == [1.0 + 1.0j, 2.0]


# ---- refusals: never a wrong number ---------------------------------------------------------------------


def uses_gamma(z):
    return np.sum(np.real(special.gamma(z)))


def calls_gamma(z):
    return np.real(np.sum(helper(z))) + uses_gamma(z)


@needs_scipy
def test_a_rule_written_for_real_numbers_is_refused_at_its_call():
    with pytest.raises(UnsupportedError, match=r"test_complex.py:\d+:\d+: error: special.gamma of complex values"):
        ac.grad(uses_gamma)(Z)
    with pytest.raises(UnsupportedError, match=r"test_complex.py:\d+:\d+: error: special.gamma of complex values"):
        ac.grad(calls_gamma)(Z)  # in a called function: its rules count too
    h = 1e-6  # real arguments: as before (gamma's derivative, against central differences)
    x = np.abs(X) + 0.5
    assert ac.grad(uses_gamma)(x) == pytest.approx(
        (special.gamma(x + h) - special.gamma(x - h)) / (2 * h), rel=1e-6, abs=1e-8
    )


def test_a_registered_rule_is_refused_with_complex_values():
    def scaled(z):
        return z * 3.0

    @ac.register_adjoint(scaled)
    def scaled_adjoint(g, ans, z):
        return g * 3.0

    try:
        with pytest.raises(UnsupportedError, match="scaled of complex values"):
            ac.grad(lambda z: np.real(np.sum(scaled(z))))(Z)
    finally:
        ac.rules.registry._RULES.pop(ac.rules.registry._key(scaled), None)


def directional_difference(f, args, tangents, h=1e-6):
    plus = [a + h * t for a, t in zip(args, tangents)]
    minus = [a - h * t for a, t in zip(args, tangents)]
    return (f(*plus) - f(*minus)) / (2 * h)


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda z: np.sin(z) * np.conj(z) + np.real(z) ** 2 + np.imag(z) * z, (Z,)),
        (energy, (Z,)),
        (linear_system, (A, B)),
        (contraction, (A, B)),
        (looped, (Z,)),
        (calls_helper, (Z,)),
        (extremes, (A,)),
        (mixed, (X, Z)),
    ],
    ids=["elementwise", "energy", "solve-inv", "contractions", "loop", "helper", "max-min", "mixed"],
)
def test_forward_mode_gives_the_directional_derivative(f, args):
    # no convention in forward mode: the tangent is d/dt f(args + t * tangents), complex where f is
    tangents = tuple(
        RNG.standard_normal(np.shape(a)) + (1j * RNG.standard_normal(np.shape(a)) if np.iscomplexobj(a) else 0.0)
        for a in args
    )
    value, t = ac.jvp(f, wrt=tuple(range(len(args))))(*args, tangents)
    np.testing.assert_allclose(value, f(*args), rtol=1e-14)
    np.testing.assert_allclose(t, directional_difference(f, args, tangents), rtol=1e-6, atol=1e-7)


@needs_scipy
def test_forward_mode_refuses_a_rule_written_for_real_numbers_and_a_complex_change_of_a_real_argument():
    with pytest.raises(UnsupportedError, match=r"test_complex.py:\d+:\d+: error: special.gamma of complex values"):
        ac.jvp(uses_gamma)(Z, Z)
    with pytest.raises(TypeError, match="the tangent of a real argument is complex"):
        ac.jvp(mixed, wrt=(0, 1))(X, Z, (Z, Z))


def test_second_order_refuses_complex_arguments():
    for call in (
        lambda: ac.hvp(energy)(Z, Z),
        lambda: ac.hessian(energy)(Z),
        lambda: ac.jvp(ac.grad(energy))(Z, Z),
    ):
        with pytest.raises(TypeError, match="argument z of energy(_grad)? is a complex128 array; complex numbers are"):
            call()


def test_grad_of_a_complex_output_is_refused():
    with pytest.raises(TypeError, match="real scalar output"):
        ac.grad(lambda z: np.sum(np.sin(z)))(Z)


def test_a_real_function_making_complex_values_runs_as_a_complex_call():
    def made_inside(x):
        return np.sum(np.real(x * (1.0 + 1.0j)) ** 2)  # sum(x^2)

    np.testing.assert_allclose(ac.grad(made_inside)(X), 2 * X, rtol=1e-14)  # (tests/test_complex_from_real.py)


@needs_scipy
def test_from_the_disk_cache(tmp_path):
    def cached(z):
        return np.real(np.sum(np.exp(z) * z))

    def refused(z):
        return np.sum(np.real(special.gamma(z)) * 2.0)

    ac.cache_dir(str(tmp_path))
    try:
        first = ac.grad(cached)(Z)
        ac.grad(refused)(X)
        from adjoint_compiler import api

        api._CACHE.clear()  # a new process: the compilations come from the disk
        np.testing.assert_allclose(ac.grad(cached)(Z), first, rtol=1e-15)
        np.testing.assert_allclose(first, (np.exp(Z) * (1.0 + Z)), rtol=1e-13)  # holomorphic: conj-free
        with pytest.raises(UnsupportedError, match="special.gamma of complex values"):
            ac.grad(refused)(Z)
    finally:
        ac.cache_dir(None)


def test_math_functions_are_not_complex():
    # math.sin(1j) raises TypeError in the function itself; its rule is refused before it runs
    with pytest.raises(UnsupportedError, match="math.sin of complex values"):
        ac.grad(lambda z: math.sin(z))(1j)


def test_stores_into_a_complex_buffer_and_real_weights_on_complex_data_agree_with_autograd():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    w = RNG.standard_normal((3, 3))  # real weights: a real gradient

    def stores(z):
        out = np.zeros(3, dtype=complex)
        for i in range(3):
            out[i] = z[i] * z[i + 1]
        return np.real(np.sum(out * np.conj(out)))

    def stores_ag(z):
        out = anp.array([z[i] * z[i + 1] for i in range(3)])
        return anp.real(anp.sum(out * anp.conj(out)))

    def made_with(np):
        def layers(w, z):
            y = w @ z
            total = 0.0
            for _ in range(2):
                y = np.tanh(w @ y) + z
                total = total + np.real(np.sum(y * np.conj(y)))
            return total

        return layers

    np.testing.assert_allclose(ac.grad(stores)(Z), autograd.grad(stores_ag)(Z), rtol=1e-12)
    gw, gz = ac.grad(made_with(np), wrt=(0, 1))(w, Z[:3])
    aw, az = autograd.grad(made_with(anp), (0, 1))(w, Z[:3])
    assert gw.dtype == np.float64 and gz.dtype == np.complex128
    np.testing.assert_allclose(gw, aw, rtol=1e-12)
    np.testing.assert_allclose(gz, az, rtol=1e-12)
