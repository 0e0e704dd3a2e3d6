"""Complex values a function makes from real arguments: a complex literal, complex(), a complex dtype, a complex
global or a complex argument that is not differentiated. Their gradient code runs as it runs for complex
arguments (api._complex_call): every rule applied must hold for complex values, a cast that drops an imaginary
part raises, and a real argument's gradient is the real part of its cotangent. Before, such code ran as real
code: rules written for real numbers (builtin abs, the real-part rule) dropped the complex derivative and a
cotangent stored into a real buffer lost its imaginary part, a wrong gradient without an error. Each case is
right against central differences, or refused."""

import math

import numpy as np
import pytest

import adjoint_compiler as ac
from tests.references import line_of

RNG = np.random.default_rng(18)
X = RNG.standard_normal(4)
PHASES = np.exp(1j * np.arange(4.0))
NOT_SUPPORTED = "complex values made from real arguments only, are not supported"


def central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def real_part_of_product(x):
    return np.sum(np.real(x * (1.0 + 2.0j)) ** 2)


def through_a_complex_global(x):
    return np.sum(np.real(x * PHASES) ** 2) + np.sum(np.imag(x * PHASES))


def magnitude_of_exp(x):
    return np.sum(np.abs(np.exp(x * 1j + x)) ** 2)


def complex_dtype(x):
    z = np.zeros(4, dtype=np.complex128) + x
    return np.sum(np.real(z * z * 1j))


@pytest.mark.parametrize("f", [real_part_of_product, through_a_complex_global, magnitude_of_exp, complex_dtype])
def test_whole_array_values_are_right(f):
    grad = ac.grad(f)
    np.testing.assert_allclose(grad(X), central(f, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad(X), central(f, X), rtol=1e-6, atol=1e-8)  # (a warm call: the same path)
    value, g = ac.value_and_grad(f)(X)
    assert value == pytest.approx(f(X), rel=1e-14)
    np.testing.assert_allclose(g, central(f, X), rtol=1e-6, atol=1e-8)
    assert g.dtype == np.float64
    value, pullback = ac.vjp(f)(X)
    np.testing.assert_allclose(pullback(1.0), central(f, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ac.vjp(f)(X)[1](2.0), 2 * central(f, X), rtol=1e-6, atol=1e-8)
    v = RNG.standard_normal(4)
    value, dot = ac.jvp(f)(X, v)
    assert value == pytest.approx(f(X), rel=1e-14)
    assert dot == pytest.approx((f(X + 1e-6 * v) - f(X - 1e-6 * v)) / 2e-6, rel=1e-6, abs=1e-8)


def complex_argument(x, c):
    return np.sum(np.real(x * c) ** 2)


def test_a_complex_argument_not_differentiated():
    for _ in range(2):  # the second call: the wrapper's fast path must not take it
        got = ac.grad(complex_argument)(X, PHASES)
        np.testing.assert_allclose(got, central(lambda x: complex_argument(x, PHASES), X), rtol=1e-6)
    grad = ac.grad(complex_argument)
    np.testing.assert_allclose(grad(X, 2.0), 8 * X, rtol=1e-14)  # warm on real arguments, then a complex one
    np.testing.assert_allclose(grad(X, 1j + 1.0), 2 * X, rtol=1e-14)  # Re(x (1 + i))^2 = x^2
    np.testing.assert_allclose(grad(X, [1j, 1.0, 1.0, 1j]), [0, 2 * X[1], 2 * X[2], 0], atol=1e-14)


# ---- refused, where the code would drop an imaginary part or a rule holds for real numbers only ---------------


def builtin_abs_of_a_complex_element(x):
    z = x[0] + 1j * x[1]
    return abs(np.exp(z)) ** 2


def element_parts(x):
    z = x[0] + 1j * x[1]
    w = np.exp(z)
    return w.real * 2.0 + w.imag


def element_of_complex_argument(x, c):
    z = x[0] * c
    return np.abs(z) ** 2 + x[1]


def builtin_abs_of_complex_arguments(x, y):
    z = x + 1j * y
    return abs(np.exp(z)) ** 2


def test_builtin_abs_of_a_complex_value_is_refused_at_its_line():
    # before complex18: the real abs rule took z > 0 of a complex number, and the gradient was wrong; its scalar
    # rule stays a plain comparison (real code's emitted abs), so a complex number known to be one is refused
    for fn, args in ((builtin_abs_of_a_complex_element, (X,)), (builtin_abs_of_complex_arguments, (X[0], X[1]))):
        with pytest.raises(ac.UnsupportedError, match=r"test_complex_from_real.py:\d+:\d+: .*abs of complex values"):
            ac.grad(fn, wrt=tuple(range(len(args))))(*args)


def test_a_complex_cotangent_stored_into_a_real_element_is_refused():
    # x_bar[0] += z_bar with a complex argument c (code that makes no complex value itself: compiled as real
    # code, run as a complex call): the real buffer would keep the real part silently (before the complex
    # call: a wrong gradient), so the store raises
    for _ in range(2):
        with pytest.raises(TypeError, match=NOT_SUPPORTED):
            ac.grad(element_of_complex_argument)(X, 0.3 + 0.8j)
    with pytest.raises(TypeError, match=NOT_SUPPORTED):
        ac.vjp(element_of_complex_argument)(X, 0.3 + 0.8j)[1](1.0)


def test_a_complex_cotangent_of_a_real_element_in_complex_code_keeps_its_real_part():
    # z = x[0] + 1j * x[1] in code that makes complex values: each element's cotangent is added through
    # runtime.add_at, which keeps the real part (all a real number's cotangent pairs with) where it was refused
    for _ in range(2):
        np.testing.assert_allclose(ac.grad(element_parts)(X), central(element_parts, X), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ac.vjp(element_parts)(X)[1](1.0), central(element_parts, X), rtol=1e-6, atol=1e-9)


def test_complex_scalars_from_real_scalars():
    def modulus(x, y):
        return np.abs(np.exp(x + 1j * y))  # e^x

    gx, gy = ac.grad(modulus, (0, 1))(0.3, 0.7)
    assert gx == pytest.approx(math.exp(0.3), rel=1e-12) and gy == pytest.approx(0.0, abs=1e-12)
    assert type(gx) is float and type(gy) is float


def test_real_code_stays_on_the_real_path():
    # no complex literal, dtype or value: the fast path, and the same numbers
    def f(x, c):
        return np.sum(np.sin(x) * c)

    grad = ac.grad(f)
    for c in (2.0, 3, np.ones(4)):
        np.testing.assert_allclose(grad(X, c), np.cos(X) * c, rtol=1e-14)


def test_the_rewrites_the_docs_suggest():
    def of_a_vector(x):
        return np.abs(np.exp(x @ np.array([1.0, 1j]))) ** 2  # e^(2 x0)

    def of_two_arguments(x, y):
        w = np.exp(x + 1j * y)
        return np.sum(w.real * 2.0 + w.imag)

    x, y = X[:2], X[2:]
    np.testing.assert_allclose(ac.grad(of_a_vector)(x), [2 * np.exp(2 * x[0]), 0.0], rtol=1e-12, atol=1e-12)
    gx, gy = ac.grad(of_two_arguments, (0, 1))(x, y)
    e = np.exp(x)
    np.testing.assert_allclose(gx, e * (2 * np.cos(y) + np.sin(y)), rtol=1e-12)
    np.testing.assert_allclose(gy, e * (np.cos(y) - 2 * np.sin(y)), rtol=1e-12)


def rotate(v):
    return v * 1j  # (one return: inlined into its caller)


def through_an_inlined_helper(x):
    return np.sum(np.real(rotate(x) * (1.0 - 1.0j)) ** 2)  # sum(x^2)


def modulus_of_exp(x0, x1):
    z = x0 + 1j * x1
    w = np.exp(z)
    return abs(w)  # e^x0


def through_a_called_function(x):
    return modulus_of_exp(x[0], x[1]) ** 2 + x[2]


def test_complex_values_made_in_a_called_function():
    np.testing.assert_allclose(ac.grad(through_an_inlined_helper)(X), 2 * X, rtol=1e-14)
    # a called function's code (compiled on its own: its flag joins its caller's). Before, its real argument's
    # cotangent was stored into x_bar[1] dropping its imaginary part: [-0.54, 0.65, 1, 0] where the gradient is
    # [2 e^(2 x0), 0, 1, 0] = [0.84, 0, 1, 0]. That store raised a TypeError for a while; now the complex call's
    # add_at keeps the real part of the cotangent (all a real number's cotangent pairs with): the gradient
    expected = [2 * np.exp(2 * X[0]), 0.0, 1.0, 0.0]
    np.testing.assert_allclose(ac.grad(through_a_called_function)(X), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ac.grad(through_a_called_function)(X), central(through_a_called_function, X), atol=1e-6)


def test_a_library_function_behind_a_rule_does_not_count():
    # scipy.linalg.solve_triangular's own source names complex dtypes: it is not differentiated (its rule is)
    sla = pytest.importorskip("scipy.linalg")

    def solve(a, b):
        return np.sum(sla.solve_triangular(a, b, lower=True) ** 2)

    a = np.tril(RNG.standard_normal((3, 3))) + 3 * np.eye(3)
    b = RNG.standard_normal(3)
    got = ac.grad(solve, 1)(a, b)
    np.testing.assert_allclose(got, central(lambda v: solve(a, v), b), rtol=1e-6)
    value, dot = ac.jvp(solve, 1)(a, b, np.ones(3))
    assert dot == pytest.approx(np.sum(got), rel=1e-6)


def test_a_string_that_names_a_complex_dtype_elsewhere_does_not_count():
    # "complex" as a label, not a dtype: the real path, where math.sin's rule (for real numbers) applies
    def f(x, kind="complex"):
        scale = 2.0 if kind == "complex" else 1.0
        return math.sin(x) * scale

    assert ac.grad(f)(0.3) == pytest.approx(2.0 * math.cos(0.3), rel=1e-14)

    def as_complex(x):
        return np.sum(np.real(x.astype("complex128") * 2.0) ** 2)

    # where it gives a dtype it counts: the complex path. astype's rule is written for real numbers: it runs on
    # the real x behind a check (runtime.real_cotangent), so the gradient of sum((2x)^2) is 8x; astype of a
    # complex value is refused at its call when the gradient runs
    np.testing.assert_allclose(ac.grad(as_complex)(X), 8 * X, rtol=1e-14)

    def recast(x):
        return np.sum(np.real((x * 1j).astype("complex64") * 2.0) ** 2)

    with pytest.raises(ac.UnsupportedError, match=r"test_complex_from_real.py:\d+:\d+: .*astype of complex values"):
        ac.grad(recast)(X)


def slices_as_parts(x):
    z = x[:2] + 1j * x[2:]
    return np.sum(np.abs(z) ** 2 * np.array([1.0, 3.0])) + np.sum(np.real(np.exp(z)))


def index_arrays_as_parts(x):
    z = x[np.array([0, 3, 0])] * (1 + 2j)
    return np.sum(np.real(z * np.conj(z) * np.exp(1j * x[1:2])))


@pytest.mark.parametrize("f", [slices_as_parts, index_arrays_as_parts])
def test_a_complex_cotangent_added_into_a_slice_of_a_real_gradient_keeps_its_real_part(f):
    # add_at into the real buffer of a real argument's cotangent (a slice, an index array): the real part is all
    # a real number's cotangent pairs with (docs/complex.md), so the sum is the gradient central differences give
    for _ in range(2):
        np.testing.assert_allclose(ac.grad(f)(X), central(f, X), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ac.vjp(f)(X)[1](1.0), central(f, X), rtol=1e-6, atol=1e-9)


# ---- rules written for real numbers, in code that makes complex values: run on real operands behind a check ------


def spectrum_and_order(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2) + np.sum(np.sort(x)[:2]) + np.median(x)


def phase_of_clipped(x):
    phase = np.exp(1j * np.clip(x, -0.5, 0.5))
    return np.sum(np.real(phase * np.sort(x))) + np.arctan2(x[0], x[1])


def sorted_spectrum(x):
    return np.sum(np.sort(np.abs(np.fft.fft(x))) * np.arange(4))


@pytest.mark.parametrize("f", [spectrum_and_order, phase_of_clipped, sorted_spectrum])
def test_rules_for_real_numbers_take_the_real_values_of_complex_code(f):
    # before: any rule not written for complex values refused the whole function once it made complex values;
    # now each runs on its real operands (its cotangent's real part is all that pairs with them)
    for _ in range(2):
        np.testing.assert_allclose(ac.grad(f)(X), central(f, X), rtol=1e-6, atol=1e-8)
    v = np.array([0.3, -0.2, 0.5, 0.1])
    _, t = ac.jvp(f)(X, v)
    assert t == pytest.approx((f(X + 1e-6 * v) - f(X - 1e-6 * v)) / 2e-6, rel=1e-5, abs=1e-8)


def sort_of_complex(x):
    return np.sum(np.abs(np.sort(np.fft.fft(x))))


def clip_of_complex(x):
    return np.sum(np.abs(np.clip(x * np.exp(1j * x), -1.0, 1.0)))


@pytest.mark.parametrize("f, label", [(sort_of_complex, "np.sort"), (clip_of_complex, "np.clip")])
def test_a_rule_for_real_numbers_given_a_complex_operand_is_refused_at_its_call(f, label):
    pattern = r"test_complex_from_real.py:%d:\d+: error: %s of complex values" % (line_of(f, label), label)
    with pytest.raises(ac.UnsupportedError, match=pattern):
        ac.grad(f)(X)
    with pytest.raises(ac.UnsupportedError, match=pattern):
        ac.jvp(f)(X, np.ones(4))
