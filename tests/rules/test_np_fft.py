"""np.fft's rules (adjoint_compiler/rules/np_fft.py): every transform, its n= / s= / axes= / norm= parameters, real
and complex inputs, in reverse and forward mode, against central differences of the function itself (element by
element; for a complex argument along its real and imaginary parts, whose gradient is df/dx - 1j df/dy:
docs/complex.md), and against autograd where it is installed."""

import numpy as np
import pytest

import adjoint_compiler as ac

pytestmark = pytest.mark.tables

_R = np.random.default_rng(11)
X6 = _R.normal(size=6)
X5 = _R.normal(size=5)
M45 = _R.normal(size=(4, 5))
M44 = _R.normal(size=(4, 4))
T345 = _R.normal(size=(3, 4, 5)) / 3
W6 = _R.normal(size=6)
Z6 = _R.normal(size=6) + 1j * _R.normal(size=6)
Z45 = _R.normal(size=(4, 5)) + 1j * _R.normal(size=(4, 5))


def _differences(f, a, eps=1e-6):
    """The gradient of real-valued ``f`` at ``a`` by central differences, element by element (df/dx - 1j df/dy
    for a complex ``a``)."""
    a = np.asarray(a)
    out = np.zeros(a.shape, dtype=a.dtype)
    steps = ((1.0, 1.0), (1j, -1j)) if np.iscomplexobj(a) else ((1.0, 1.0),)
    for k in np.ndindex(a.shape):
        for step, part in steps:
            up, down = a.copy(), a.copy()
            up[k] += eps * step
            down[k] -= eps * step
            out[k] += part * (f(up) - f(down)) / (2 * eps)
    return out


def _weights(shape):
    return np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) / np.prod(shape)


# each: a real-valued function of one array, the point; every one of np.fft's transforms and parameters
def power(x):
    return np.sum(np.abs(np.fft.fft(x)) ** 2 * np.arange(6))


def fft_cut(x):
    return np.sum(np.abs(np.fft.fft(x, 4)) ** 2 * np.arange(4))


def fft_padded(x):
    return np.sum(np.real(np.fft.fft(x, 9)) * np.arange(9) + np.imag(np.fft.fft(x, 9)) ** 2)


def fft_ortho(x):
    return np.sum(np.abs(np.fft.fft(x, norm="ortho")) * W6)


def fft_forward_norm(x):
    return np.sum(np.real(np.fft.fft(x, norm="forward") * np.exp(1j * W6)))


def ifft_of_complex(x):
    return np.sum(np.abs(np.fft.ifft(x * 1j + x**2)) ** 2 * W6)


def rfft_power(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2 * np.arange(4))


def rfft_odd_length(x):
    return np.sum(np.abs(np.fft.rfft(x)) * np.arange(3))


def rfft_padded(x):
    return np.sum(np.abs(np.fft.rfft(x, 9)) ** 1.5)


def rfft_cut_ortho(x):
    return np.sum(np.imag(np.fft.rfft(x, 4, norm="ortho")) * np.arange(3))


def filtered(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * np.exp(-np.fft.rfftfreq(6) * 3), 6) ** 2)


def irfft_longer(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x), 7) ** 2)


def irfft_shorter_forward(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * (1 + 1j), 4, norm="forward") ** 2)


def fft2_power(x):
    return np.sum(np.abs(np.fft.fft2(x)) ** 2 * _weights((4, 5)))


def fft2_of_a_stack(x):
    return np.sum(np.real(np.fft.fft2(x)) * _weights((3, 4, 5)))


def ifft2_sized(x):
    return np.sum(np.abs(np.fft.ifft2(x, s=(6, 3))) ** 2)


def fftn_sized_axes(x):
    return np.sum(np.abs(np.fft.fftn(x, s=(5, 3), axes=(0, 2))) ** 2)


def ifftn_all(x):
    return np.sum(np.abs(np.fft.ifftn(x)) ** 2 * _weights((3, 4, 5)))


def rfft2_power(x):
    return np.sum(np.abs(np.fft.rfft2(x)) ** 2 * _weights((4, 3)))


def rfftn_axes(x):
    return np.sum(np.abs(np.fft.rfftn(x, axes=(0, 2))) ** 1.5)


def rfftn_sized(x):
    return np.sum(np.abs(np.fft.rfftn(x, s=(5, 6), axes=(0, 2))) ** 1.5)


def irfft2_round_trip(x):
    return np.sum(np.fft.irfft2(np.fft.rfft2(x) * 1j ** np.arange(3)) * _weights((4, 4)) ** 2)


def irfftn_sized(x):
    return np.sum(np.fft.irfftn(np.fft.rfftn(x) * (1 + 0.5j), s=(3, 5, 4), axes=(0, 1, 2)) ** 2)


def hfft_of_halves(x):
    return np.sum(np.fft.hfft(x[:4] + 1j * x[2:]) ** 2 * np.arange(6))


def ihfft_power(x):
    return np.sum(np.abs(np.fft.ihfft(x)) ** 2 * np.arange(4))


def fft_along_rows(x):
    return np.sum(np.abs(np.fft.fft(x, axis=0)) * _weights((4, 5)))


def rfft_along_rows(x):
    return np.sum(np.abs(np.fft.rfft(x, axis=0)) ** 2 * _weights((3, 5)))


def shifted(x):
    return np.sum(np.abs(np.fft.fftshift(np.fft.fft(x))) * np.arange(6) + np.real(np.fft.ifftshift(x * 1j + x)))


def sample_spacing(x):
    return np.sum(np.fft.fftfreq(6, x[0] ** 2 + 1) * np.arange(6)) + np.sum(np.fft.rfftfreq(5, d=x[1] + 3))


REAL = [
    (power, X6),
    (fft_cut, X6),
    (fft_padded, X6),
    (fft_ortho, X6),
    (fft_forward_norm, X6),
    (ifft_of_complex, X6),
    (rfft_power, X6),
    (rfft_odd_length, X5),
    (rfft_padded, X6),
    (rfft_cut_ortho, X6),
    (filtered, X6),
    (irfft_longer, X6),
    (irfft_shorter_forward, X6),
    (fft2_power, M45),
    (fft2_of_a_stack, T345),
    (ifft2_sized, M45),
    (fftn_sized_axes, T345),
    (ifftn_all, T345),
    (rfft2_power, M45),
    (rfftn_axes, T345),
    (rfftn_sized, T345),
    (irfft2_round_trip, M44),
    (irfftn_sized, T345),
    (hfft_of_halves, X6),
    (ihfft_power, X6),
    (fft_along_rows, M45),
    (rfft_along_rows, M45),
    (shifted, X6),
    (sample_spacing, X6),
]


@pytest.mark.parametrize("f, x", REAL, ids=[f.__name__ for f, _ in REAL])
def test_gradient_of_a_real_input_matches_central_differences(f, x):
    g = ac.grad(f)(x.copy())
    assert isinstance(g, np.ndarray) and g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(g, _differences(f, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, x", REAL, ids=[f.__name__ for f, _ in REAL])
def test_tangent_of_a_real_input_matches_central_differences(f, x):
    v = _weights(x.shape) - 0.3
    _, t = ac.jvp(f)(x.copy(), v)
    eps = 1e-6
    np.testing.assert_allclose(t, (f(x + eps * v) - f(x - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)


def c_power(z):
    return np.sum(np.abs(np.fft.fft(z)) ** 2 * np.arange(6))


def c_ifft_padded(z):
    return np.sum(np.real(np.fft.ifft(z, 8)) * np.arange(8))


def c_irfft(z):
    return np.sum(np.fft.irfft(z) ** 2 * np.arange(10))


def c_irfft_odd(z):
    return np.sum(np.fft.irfft(z, 7) * np.arange(7))


def c_hfft(z):
    return np.sum(np.fft.hfft(z, 9) ** 2)


def c_fft2_sized(z):
    return np.sum(np.abs(np.fft.fft2(z, s=(3, 6))) ** 2)


def c_irfft2(z):
    return np.sum(np.fft.irfft2(z) * _weights((4, 8)))


def c_irfftn_sized(z):
    return np.sum(np.fft.irfftn(z, s=(5, 7), axes=(0, 1)) ** 2)


def c_shift(z):
    return np.sum(np.real(np.fft.ifftshift(z) * np.arange(6)))


COMPLEX = [
    (c_power, Z6),
    (c_ifft_padded, Z6),
    (c_irfft, Z6),
    (c_irfft_odd, Z6),
    (c_hfft, Z6),
    (c_fft2_sized, Z45),
    (c_irfft2, Z45),
    (c_irfftn_sized, Z45),
    (c_shift, Z6),
]


@pytest.mark.parametrize("f, z", COMPLEX, ids=[f.__name__ for f, _ in COMPLEX])
def test_gradient_of_a_complex_input_matches_central_differences(f, z):
    # irfft and hfft read only the real parts of the frequencies 0 and n/2: their imaginary parts get 0
    np.testing.assert_allclose(ac.grad(f)(z.copy()), _differences(f, z), rtol=1e-5, atol=1e-6)


def test_pullback_of_a_complex_output_is_the_transposed_matrix():
    # rfft is linear over the reals: for a real x the pullback of c is Re(J^T c), J its matrix
    def f(x):
        return np.fft.rfft(x * 2.0)

    c = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.25j])
    value, pullback = ac.vjp(f)(X5.copy())
    np.testing.assert_allclose(value, np.fft.rfft(X5 * 2.0))
    matrix = np.fft.rfft(np.eye(5) * 2.0, axis=0)
    np.testing.assert_allclose(pullback(c), np.real(matrix.T @ c), rtol=1e-12)


def test_float32_input_keeps_float32_gradient():
    x = X6.astype(np.float32)
    g = ac.grad(rfft_power)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, ac.grad(rfft_power)(X6), rtol=1e-4)


def test_second_order_through_complex_values_is_refused():
    # second order of complex values made from real arguments is not supported (docs/complex.md): refused,
    # never a number (the cotangents' imaginary parts would be lost)
    for f in (power, rfft_power, irfft_longer):
        with pytest.raises(TypeError, match="complex"):
            ac.hvp(f)(X6.copy(), np.ones(6))


def test_an_axis_named_twice_is_refused_at_the_users_line():
    def twice(x):
        return np.sum(np.abs(np.fft.fftn(x, axes=(0, 0))))

    with pytest.raises(NotImplementedError, match=r"test_np_fft\.py:\d+:\d+: error: .*axis named twice"):
        ac.grad(twice)(M45.copy())


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="np.fft's out= is NumPy 2's")
def test_out_is_written_as_numpy_writes_it():
    def into(x):
        out = np.empty(6, complex)
        np.fft.fft(x, out=out)
        return np.sum(np.abs(out) * np.arange(6))

    np.testing.assert_allclose(ac.grad(into)(X6.copy()), _differences(into, X6), rtol=1e-5, atol=1e-6)


def test_arguments_are_left_as_they_were():
    x = M45.copy()
    ac.grad(rfftn_sized)(T345.copy())
    ac.grad(fft2_power)(x)
    np.testing.assert_array_equal(x, M45)


def rfft2_square(x):
    return np.sum(np.abs(np.fft.rfft2(x)) ** 2 * _weights((4, 3)))


def irfft_even(x):
    return np.sum(np.fft.irfft(np.fft.rfft(x) * (1 + 1j)) ** 2 * W6)


# (autograd's real transforms need an even last axis)
AUTOGRAD = [(power, X6), (fft_ortho, X6), (rfft_power, X6), (fft2_power, M45), (rfft2_square, M44), (irfft_even, X6)]


@pytest.mark.parametrize("f, x", AUTOGRAD, ids=[f.__name__ for f, _ in AUTOGRAD])
def test_gradient_matches_autograds(f, x):
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    module = f.__globals__
    saved = module["np"]
    module["np"] = anp
    try:
        expected = autograd.grad(f)(x.copy())
    finally:
        module["np"] = saved
    np.testing.assert_allclose(ac.grad(f)(x.copy()), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, axes", [((5,), (0,)), ((4, 6), (0, 1)), ((3, 4, 5), (0, 2))])
def test_runtime_helpers_rules_are_their_transposes(shape, axes):
    # <fit(z), g> = <z, fit's adjoint(g)> and <irfft_bar(g), c> = <g, irfft(c)> (Re pairing): the rules that
    # differentiate the adjoints again
    from adjoint_compiler import runtime
    from adjoint_compiler.rules import registry

    z = _R.normal(size=shape) + 1j * _R.normal(size=shape)
    like = np.zeros(tuple(n + (1 if k % 2 else -2) for k, n in enumerate(shape)))
    fitted = runtime.fft_fit(z, like, axes)
    assert fitted.shape == tuple(like.shape[k] if k in axes else shape[k] for k in range(len(shape)))
    g = _R.normal(size=fitted.shape) + 1j * _R.normal(size=fitted.shape)
    back = registry.lookup(runtime.fft_fit).rule(g, fitted, z, like, axes)[0]
    assert np.isclose(np.real(np.sum(fitted * g)), np.real(np.sum(z * back)))

    n = shape[axes[-1]]
    c = _R.normal(size=n // 2 + 1) + 1j * _R.normal(size=n // 2 + 1)
    c = np.moveaxis(np.broadcast_to(c, shape[: axes[-1]] + shape[axes[-1] + 1 :] + (n // 2 + 1,)), -1, axes[-1])
    x = _R.normal(size=shape)
    for norm in (None, "ortho", "forward"):
        spread = runtime.rfft_bar(c, n, axes[-1], norm)
        assert np.allclose(np.real(np.sum(spread * x)), np.real(np.sum(c * np.fft.rfft(x, axis=axes[-1], norm=norm))))
        back = registry.lookup(runtime.rfft_bar).rule(x, spread, c, n, axes[-1], norm)[0]
        np.testing.assert_allclose(back, np.fft.rfft(x, axis=axes[-1], norm=norm))

    g = _R.normal(size=shape)
    folded = runtime.irfft_bar(g, axes[-1])
    c = _R.normal(size=folded.shape) + 1j * _R.normal(size=folded.shape)
    assert np.isclose(np.real(np.sum(folded * c)), np.sum(g * np.fft.irfft(c, shape[axes[-1]], axes[-1])))
    unfolded = registry.lookup(runtime.irfft_bar).rule(c, folded, g, axes[-1])[0]
    np.testing.assert_allclose(unfolded, np.fft.irfft(c, shape[axes[-1]], axes[-1]))


def test_a_transform_reached_through_a_variable_runs_as_complex_values():
    # the compiler tells a function making complex values by the rules it applies, not by the call's spelling
    # (autograd's own test_fft passes the transform as a variable: fft_fun(x, D + n))
    def through(transform, x):
        return np.sum(np.abs(transform(x, 8)) ** 2 * np.arange(8))

    for transform in (np.fft.fft, np.fft.ifft):

        def f(x, transform=transform):
            return through(transform, x)

        np.testing.assert_allclose(ac.grad(f)(X6.copy()), _differences(f, X6), rtol=1e-5, atol=1e-6)
        v = _weights(X6.shape)
        _, t = ac.jvp(f)(X6.copy(), v)
        np.testing.assert_allclose(t, (f(X6 + 1e-6 * v) - f(X6 - 1e-6 * v)) / 2e-6, rtol=1e-5, atol=1e-6)


def rows_spectra(x):
    rows = [np.abs(np.fft.rfft(row)) for row in x]
    return np.sum(np.stack(rows) * np.arange(3))


def loop_of_filters(x):
    y = x
    for k in range(3):
        y = np.real(np.fft.ifft(np.fft.fft(y) * np.exp(-0.1 * k * np.arange(6)))) + 0.1 * y**2
    return np.sum(y**2)


@pytest.mark.parametrize("f, x", [(rows_spectra, M44[:2]), (loop_of_filters, X6)], ids=["rows", "loop"])
def test_transforms_of_rows_and_in_loops(f, x):
    # a row's complex cotangent added into the real gradient of x (runtime.add_at keeps its real part)
    np.testing.assert_allclose(ac.grad(f)(x.copy()), _differences(f, x), rtol=1e-5, atol=1e-6)


def sorted_rfft_magnitudes(x):
    from numpy.fft import rfft

    return np.sum(np.sort(np.abs(rfft(x)))[:2] ** 2) + np.sum(np.sort(x)[:2])


def clipped_spectrum_by_alias(x):
    import numpy.fft as nf

    z = nf.rfft(x)
    return np.sum(np.clip(z.real, -0.5, 0.5) ** 2 + np.maximum(z.imag, 0.1))


def shifted_and_sorted(x):
    return np.sum(np.fft.fftshift(x) * W6) + np.sum(np.sort(x)[:3] ** 2)


@pytest.mark.parametrize("f", [sorted_rfft_magnitudes, clipped_spectrum_by_alias, shifted_and_sorted])
def test_rules_for_real_numbers_beside_a_transform_named_without_np_fft(f):
    # were refused at np.sort / np.clip ("of complex values"): a transform imported by name (``from numpy.fft
    # import rfft``) or through an alias of the module was not seen as making complex values when compiling,
    # so the real-only rules were not checked per call and the whole function was refused
    np.testing.assert_allclose(ac.grad(f)(X6), _differences(f, X6), rtol=1e-5, atol=1e-7)
    _, tangent = ac.jvp(f)(X6, W6)
    np.testing.assert_allclose(tangent, _differences(f, X6) @ W6, rtol=1e-5, atol=1e-7)
