"""backend="numba" on the constructs the control fuzz programs fell back on (tests/fuzz/numba_probe.py): each
compiles natively and gives the Python backend's gradient (checked against central differences too), or falls back
after a warning that names the construct, with the Python backend's result."""

import math
import warnings

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads

pytest.importorskip("numba")
from adjoint_compiler import backend_numba  # noqa: E402
from adjoint_compiler.backend_numba import NumbaFallbackWarning  # noqa: E402


def native(transform, f, wrt, *args):
    """``transform(f, wrt, backend="numba")(*args)``, failing on a fallback."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        return transform(f, wrt, backend="numba")(*args)


def _bend(a, b):
    return a * math.sin(b) + a * a


def _wave(t):
    return math.sin(3.0 * t) + 0.2


def control(x, n, y):
    def scale(t):  # a nested function read in a test: lifted, called as it is
        return x * t

    s = x
    s += y  # check_rebind of a number
    for t in (x, y * 2.0, 0.5):  # a loop over a tuple: its cotangent buffer is zeros_like of the tuple
        if scale(0.5) > t:
            s = s + t * t
        s = s + _bend(t, y)
        if _wave(t) > 0.0:  # a call not differentiated: the user's function, compiled by numba in turn
            s = s * 1.5
    for i in range(n):
        s = s * 0.5 + math.sin(s)
    return s


def nonlocal_callee(x, y):
    def bump(t):
        nonlocal x
        x = x * 0.5 + x
        return x * t

    v = bump(x)
    w = bump(math.sin(y))
    return y + v * w


@pytest.mark.parametrize("x", [0.4, 1.3])  # the nested function's test true on some iterations, false on others
def test_control_constructs_compile_and_agree(x):
    args = (x, 3, 0.7)
    got = native(ac.grad, control, (0, 2), *args)
    expected = ac.grad(control, (0, 2))(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    check_grads(control, args, (0, 2), grads=got, rtol=1e-6)


def test_a_callee_returning_its_pullback_compiles():
    # the callee's vjp returns what its pullback reads; the caller calls that pullback as a function of its own
    got = native(ac.grad, nonlocal_callee, (0, 1), 1.2, 0.4)
    assert got == pytest.approx(ac.grad(nonlocal_callee, (0, 1))(1.2, 0.4), rel=1e-14)
    check_grads(nonlocal_callee, (1.2, 0.4), (0, 1), grads=got, rtol=1e-6)


def doubled(x):
    x *= 2.0  # the caller's array is changed, as f changes it
    return np.sum(x * x)


def test_an_updated_array_argument_is_given_back():
    a, b = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    got = native(ac.grad, doubled, 0, a)
    np.testing.assert_allclose(got, ac.grad(doubled)(b), rtol=1e-15)
    np.testing.assert_allclose(got, 8.0 * np.array([1.0, -2.0]), rtol=1e-15)  # d/dx sum((2x)^2) = 8x
    np.testing.assert_allclose(a, b)  # both backends left f's change: [2, -4]
    np.testing.assert_allclose(a, [2.0, -4.0])


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def test_a_pullback_reading_its_tape_by_index_compiles():
    x = np.linspace(-1.2, 1.2, 7)
    value, pullback = native(ac.vjp, rosenbrock, 0, x)
    assert value == pytest.approx(rosenbrock(x), rel=1e-14)
    np.testing.assert_allclose(pullback(2.0), 2.0 * ac.grad(rosenbrock)(x), rtol=1e-13)


SCALE = 2.0


def _scaled(t):
    return SCALE * t


def reads_global_through_helper(x):
    y = 0.0
    for _ in range(2):
        if _scaled(x) > 0.0:  # a call numba would compile with SCALE frozen
            y = y + x * x
    return y


def guarded(x):
    try:
        y = math.sqrt(x - 1.0)  # Python raises ValueError below 1; numba's sqrt would give nan
    except ValueError:
        y = x * x
    return y


def test_fallbacks_name_the_construct_and_give_python_results():
    global SCALE
    g = ac.grad(reads_global_through_helper, backend="numba")
    with pytest.warns(NumbaFallbackWarning, match="_scaled, which reads the global SCALE"):
        assert g(1.5) == pytest.approx(6.0, rel=1e-15)
    try:
        SCALE = -1.0  # the test now fails on every iteration: the gradient is 0, not a frozen SCALE's 6.0
        assert g(1.5) == 0.0
    finally:
        SCALE = 2.0
    g = ac.grad(guarded, backend="numba")
    for x, expected in ((0.5, 1.0), (2.0, 0.5)):  # the handler's path, and the body's: 0.5 / sqrt(x - 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NumbaFallbackWarning)
            assert g(x) == pytest.approx(expected, rel=1e-15)
        assert all("a try statement (try/except ValueError" in str(w.message) for w in caught)


def aliased(x):
    y = x
    y += 1.0  # an array another name holds: refused by the Python backend's check
    return np.sum(y)


def test_an_in_place_update_of_a_shared_array_runs_the_python_check():
    g = ac.grad(aliased, backend="numba")
    with pytest.warns(NumbaFallbackWarning, match="aliased"):
        with pytest.raises(ac.UnsupportedError, match="in-place update"):
            g(np.array([1.0, 2.0]))


def test_lowering_calls_a_callee_pullback_and_reads_tape_rows():
    text = (
        "def f_grad(x, n):\n"
        "    _tape1 = []\n"
        "    for i in range(n):\n"
        "        _t1, _t1_pullback = g_vjp(x, x)\n"
        "        _tape1.append((_t1, x))\n"
        "        x = _t1\n"
        "    x_bar = 1.0\n"
        "    for i in range(n):\n"
        "        _t1, x = _tape1[i]\n"
        "        x_bar = _t1_pullback(x_bar)\n"
        "    return (x, x_bar)\n"
        "\n"
        "def g_vjp(a, b):\n"
        "    c = a * b\n"
        "    def g_pullback(c_bar):\n"
        "        return (c_bar * b, c_bar * a)\n"
        "    return (c, g_pullback)\n"
    )
    lowered = backend_numba.lower(text)
    assert "        _t1, x = (_tape1[i, 0], _tape1[i, 1])\n" in lowered
    assert "x_bar = g_pullback(_t1_pullback[0], _t1_pullback[1], x_bar)" in lowered
    assert "    return (c, (a, b))\n\ndef g_pullback(a, b, c_bar):\n" in lowered
    unset = text.replace("    _tape1 = []\n", "    _tape1 = []\n    _t1_pullback = None\n")
    with pytest.raises(backend_numba._Refused, match="the pullback of g_vjp that a path leaves unset"):
        backend_numba.lower(unset)


def peaks(x, y):
    return np.sum(np.maximum(x, y) * np.abs(x - 0.3 * y))


def test_maximum_and_abs_of_real_arrays_compile():
    # (complex_ge: np.maximum's mask, and sign_times: np.abs's slope, for real values)
    x, y = np.array([0.5, -1.0, 2.0, 0.2]), np.array([1.0, -2.0, 0.1, 0.9])
    got = native(ac.grad, peaks, (0, 1), x, y)
    for a, b in zip(got, ac.grad(peaks, (0, 1))(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    check_grads(peaks, (x, y), (0, 1), grads=got, rtol=1e-6)


def appended(x, n):
    xs = []
    for i in range(n):
        xs.append(x * i)
        x = x * 0.9 + 0.1
    return xs[-3] + xs[1] * x


def test_a_list_built_in_a_loop_compiles():
    # (list_bar: the list's cotangent, indexed and popped in the adjoint)
    got = native(ac.grad, appended, 0, 1.3, 5)
    assert got == pytest.approx(ac.grad(appended, 0)(1.3, 5), rel=1e-14)
    check_grads(appended, (1.3, 5), 0, grads=got, rtol=1e-6)
