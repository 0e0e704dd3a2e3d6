"""backend="numba": gradients equal the Python backend's and central differences of the original
function; what numba cannot compile runs on the Python backend after a NumbaFallbackWarning.

numba compiles are slow (a second or more each): each function is compiled once per module (the
backend shares compiled code between grad and value_and_grad of one function), on small sizes."""

import math
import time
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads

numba = pytest.importorskip("numba")
from adjoint_compiler import backend_numba  # noqa: E402
from adjoint_compiler.backend_numba import NumbaFallbackWarning  # noqa: E402


def sin_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sin(x * i)
    return s


def rk4(y, k, n):
    h = 0.01
    for i in range(n):
        k1 = -k * y + math.sin(y)
        y2 = y + 0.5 * h * k1
        k2 = -k * y2 + math.sin(y2)
        y3 = y + 0.5 * h * k2
        k3 = -k * y3 + math.sin(y3)
        y4 = y + h * k3
        k4 = -k * y4 + math.sin(y4)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


def horner(c, x):
    acc = 0.0
    for i in range(c.shape[0]):
        acc = acc * x + c[i]
    return acc


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def newton_sqrt(a):
    x = a
    step = 1.0
    while abs(step) > 1e-12:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


@numba.njit  # an input numba compiled: the backend reads its Python source (py_func)
def branch(x, y):
    if x > y:
        z = x * y
    else:
        z = math.sin(x)
    return z * x


def square_sum(xs):
    s = 0.0
    for v in xs:
        s = s + v * v
    return s


def with_dict(d):
    return d["a"] * d["b"]


def squares(x):
    return x * x


WEIGHTS = np.array([1.0, 2.0])


def weighted(x):
    return np.sum(WEIGHTS * x * x)


COMPILE_SECONDS = {}  # each function's first numba call, compile included (pytest -s prints them)


@pytest.fixture(scope="module", autouse=True)
def report_compile_seconds():
    yield
    print("\nnumba backend, first call (s): %s" % ", ".join("%s %.2f" % kv for kv in sorted(COMPILE_SECONDS.items())))


def numba_grad(f, wrt, *args):
    """grad(f, backend="numba") after its first call (numba compiles then), timed."""
    g = ac.grad(f, wrt, backend="numba")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)  # these must compile
        g(*args)
    COMPILE_SECONDS.setdefault(f.__name__, time.perf_counter() - start)  # (later: compiled already)
    return g


CASES = {
    "sin_loop": (sin_loop, 0, (0.3, 50)),
    "rk4": (rk4, (0, 1), (0.5, 0.7, 100)),
    "horner": (horner, (0, 1), (np.linspace(-1.0, 1.0, 1000), 0.9)),
    "rosenbrock": (rosenbrock, 0, (np.linspace(-1.2, 1.2, 1000),)),
    "newton_sqrt": (newton_sqrt, 0, (2.0,)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    f, wrt, args = CASES[request.param]
    return f, wrt, args, numba_grad(f, wrt, *args)


def _parts(g, wrt):
    return g if isinstance(wrt, tuple) else (g,)


def test_gradient_equals_python_backend_and_finite_differences(case):
    f, wrt, args, g = case
    got = g(*args)
    expected = ac.grad(f, wrt)(*args)
    for a, b in zip(_parts(got, wrt), _parts(expected, wrt)):
        assert type(a) is type(b)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    check_grads(f, args, wrt, grads=got, rtol=1e-5)


def test_while_loop_runs_its_own_trip_count():
    g = numba_grad(newton_sqrt, 0, 2.0)
    for a in (0.5, 2.0, 100.0):  # different iteration counts: the tape grows as far as it needs
        assert g(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-10)


def sine_series(x, n):
    k = 0
    s = 0.0
    while k < n:
        s = s + math.sin(x * k) / (k + 1)
        k = k + 1
    return s


def test_a_while_tape_grows_past_its_first_rows_and_every_argument_path_agrees():
    # 50 iterations: the tape (16 rows at first) grows twice, its bound checked before each push; floats alone
    # take the compiled entry point, an int or an array numba's dispatcher, a keyword the slow path
    g = ac.grad(sine_series, 0, backend="numba")
    vg = ac.value_and_grad(sine_series, 0, backend="numba")
    python = ac.grad(sine_series, 0)
    for n in (50.0, 50, 3.0, 0.0, 50.0, 37):
        got = g(0.7, n)
        assert type(got) is float
        assert got == pytest.approx(python(0.7, n), rel=1e-13, abs=1e-15)
        assert got == pytest.approx(
            (sine_series(0.7 + 1e-6, n) - sine_series(0.7 - 1e-6, n)) / 2e-6, rel=1e-7, abs=1e-9
        )
        assert vg(0.7, n) == (pytest.approx(sine_series(0.7, n), rel=1e-14), pytest.approx(got, rel=1e-14))
    assert g(0.7, n=50.0) == pytest.approx(python(0.7, 50.0), rel=1e-13)
    assert g(x=0.7, n=50) == pytest.approx(python(0.7, 50), rel=1e-13)
    assert g(np.float64(0.7), 50.0) == pytest.approx(python(0.7, 50.0), rel=1e-13)
    with pytest.raises(TypeError):
        g(0.7)


def test_if_takes_each_branch_of_an_njit_function():
    g = numba_grad(branch, (0, 1), 1.5, 0.5)
    assert g(1.5, 0.5) == pytest.approx((2 * 1.5 * 0.5, 1.5 * 1.5), rel=1e-14)  # x > y: z * x = x * x * y
    assert g(0.5, 1.5) == pytest.approx((math.sin(0.5) + 0.5 * math.cos(0.5), 0.0), rel=1e-14)  # sin(x) * x
    for args in ((1.5, 0.5), (0.5, 1.5)):
        check_grads(branch.py_func, args, (0, 1), grads=g(*args))


def test_value_and_grad_shares_the_compiled_code():
    f, wrt, args = CASES["rk4"]
    numba_grad(f, wrt, *args)
    vg = ac.value_and_grad(f, wrt, backend="numba")
    programs = backend_numba._PROGRAMS[f]
    before = {key: list(p.ready.values()) for key, p in programs.items()}
    value, grads = vg(*args)
    assert {key: list(p.ready.values()) for key, p in programs.items()} == before  # no second compile
    assert value == pytest.approx(rk4(*args), rel=1e-14)
    assert grads == pytest.approx(ac.grad(f, wrt)(*args), rel=1e-12)


def test_list_of_floats_gives_a_list_gradient():
    g = numba_grad(square_sum, 0, [1.0, 2.0, 3.0])
    got = g([1.0, 2.0, 3.0])
    assert type(got) is list and all(type(v) is float for v in got)
    assert got == [2.0, 4.0, 6.0]


def power(x, n):
    return x**n


def test_differentiated_ints_are_floats():
    g = numba_grad(power, 0, 10.0, 30)
    assert g(10, 30) == pytest.approx(3e30, rel=1e-14)  # in 64-bit ints, 10 ** 29 would overflow
    assert g(2, 3) == 12.0 and type(g(2, 3)) is float


def broadcast_sum(x, b):
    return np.sum(np.sin(x * b))


def test_broadcasting_sums_the_copies():
    x, b = np.linspace(0.0, 1.0, 3)[:, None], np.linspace(0.5, 1.0, 4)  # (3, 1) * (4,): (3, 4)
    g = numba_grad(broadcast_sum, (0, 1), x, b)
    for got, expected in zip(g(x, b), ac.grad(broadcast_sum, (0, 1))(x, b)):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-13)
    check_grads(broadcast_sum, (x, b), (0, 1), grads=g(x, b))


def test_vjp_and_jvp():
    x = np.linspace(-1.2, 1.2, 20)
    value, pullback = ac.vjp(rosenbrock, 0, backend="numba")(x)
    assert value == pytest.approx(rosenbrock(x), rel=1e-14)
    np.testing.assert_allclose(pullback(1.0), ac.grad(rosenbrock)(x), rtol=1e-12)
    np.testing.assert_allclose(pullback(2.0), 2.0 * ac.grad(rosenbrock)(x), rtol=1e-12)
    value, pullback = ac.vjp(squares, 0, backend="numba")(x)  # an array output
    np.testing.assert_allclose(pullback(np.ones_like(x)), 2.0 * x, rtol=1e-14)
    c = np.linspace(-1.0, 1.0, 30)
    tangents = (np.cos(np.arange(30.0)), 0.5)
    value, tangent = ac.jvp(horner, (0, 1), backend="numba")(c, 0.9, tangents)
    expected = ac.jvp(horner, (0, 1))(c, 0.9, tangents)
    assert value == pytest.approx(expected[0], rel=1e-14) and tangent == pytest.approx(expected[1], rel=1e-12)
    gc, gx = ac.grad(horner, (0, 1))(c, 0.9)
    assert tangent == pytest.approx(np.dot(gc, tangents[0]) + gx * 0.5, rel=1e-10)


def test_fallback_warns_and_gives_the_python_gradient():
    g = ac.grad(with_dict, backend="numba")
    with pytest.warns(NumbaFallbackWarning, match=r"with_dict \(.*test_numba_backend.py:\d+\).*\(dict\)"):
        assert g({"a": 1.5, "b": 2.0}) == {"a": 2.0, "b": 1.5}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per argument types
        assert g({"a": 2.5, "b": 2.0}) == {"a": 2.0, "b": 2.5}

    class Scale:
        k = 3.0

    def scaled(x, s):
        return x * s.k

    with pytest.warns(NumbaFallbackWarning, match="Scale"):
        assert ac.grad(scaled, backend="numba")(1.5, Scale()) == 3.0

    g = ac.grad(weighted, backend="numba")  # numba would freeze the global array's contents
    with pytest.warns(NumbaFallbackWarning, match="global ndarray WEIGHTS"):
        np.testing.assert_allclose(g(np.array([1.0, 1.0])), [2.0, 4.0])
    WEIGHTS[0] = 5.0
    try:
        np.testing.assert_allclose(g(np.array([1.0, 1.0])), [10.0, 4.0])
    finally:
        WEIGHTS[0] = 1.0

    class Pair(NamedTuple):
        a: float
        b: float

    def product(p):
        return p.a * p.b

    with pytest.warns(NumbaFallbackWarning, match="NamedTuples"):
        assert ac.grad(product, backend="numba")(Pair(2.0, 3.0)) == Pair(3.0, 2.0)


def test_backend_names_are_checked():
    with pytest.raises(ValueError, match="backend='jax'"):
        ac.grad(square_sum, backend="jax")
    with pytest.raises(ValueError, match="backend='cuda'"):
        ac.jvp(square_sum, backend="cuda")
    with pytest.raises(ValueError, match="has_aux"):
        ac.grad(square_sum, has_aux=True, backend="numba")


NUMBA_SCALE = 2.0


def _numba_softplus(x):
    return math.log1p(math.exp(x))


def test_fast_path_sees_a_rebound_global_and_a_registered_adjoint():
    # the wrapper's check inlined where the code read no global: the registry's token alone
    global NUMBA_SCALE

    def scaled(x):
        return NUMBA_SCALE * x * x

    def f(x):
        return _numba_softplus(x) * 2.0

    g = ac.grad(scaled, backend="numba")
    assert g(1.5) == pytest.approx(6.0, rel=1e-15) and g(1.5) == pytest.approx(6.0, rel=1e-15)
    try:
        NUMBA_SCALE = 3.0
        assert g(1.5) == pytest.approx(9.0, rel=1e-15)
    finally:
        NUMBA_SCALE = 2.0
    h = ac.grad(f, backend="numba")
    for x in (0.3, 0.4, 0.3):
        assert h(x) == pytest.approx(2.0 / (1.0 + math.exp(-x)), rel=1e-14)
    ac.register_adjoint(_numba_softplus, lambda g, ans, x: g * 10.0)  # (this test's own function)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaFallbackWarning)  # (numba may not call the rule: Python runs it)
        assert h(0.3) == pytest.approx(20.0)  # (deliberately not the derivative: the rule is the one called)
        assert h(0.5) == pytest.approx(20.0)


def stores(x, w):
    y = np.zeros_like(x)
    for i in range(1, x.shape[0]):
        y[i] = y[i - 1] * 0.5 + x[i] ** 2  # a recurrence through stores
    m = np.zeros((3, 3))
    m[1] = x[1] * w  # a row from an array
    m[0, 0] += x[1]  # one element, added to
    m[0, 1:] = x[2]  # one number spread over a slice
    y[1:3] = x[:2] ** 2  # a slice from an array
    return np.sum(m**2) + np.sum(y * x)


def test_stores_into_float_arrays_compile():
    args = (np.array([0.3, 0.5, -0.2, 1.0, 0.7]), np.array([1.0, 2.0, -0.5]))
    g = numba_grad(stores, (0, 1), *args)  # (a NumbaFallbackWarning fails it)
    got = g(*args)
    for a, b in zip(got, ac.grad(stores, (0, 1))(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    check_grads(stores, args, (0, 1), grads=got, rtol=1e-5)


def store_into_ints(x):
    y = np.zeros(3, dtype=np.int64)
    y[0] = x[0] * 2.0  # truncated: no derivative
    return np.sum(y * x)


def test_a_store_into_an_integer_array_runs_on_python_and_is_refused():
    g = ac.grad(store_into_ints, backend="numba")
    with pytest.warns(NumbaFallbackWarning, match="store_into_ints"):
        with pytest.raises(ac.UnsupportedError, match="dtype int64"):
            g(np.array([1.5, 2.0, 3.0]))


def early_return_in_loop(x):
    for i in range(3):
        if x > 10.0:
            return x * 2.0
        x = math.sin(x) + x
    return x * x


def test_several_returns_joined_as_an_optional_value_are_a_scalar():
    # numba types the value of a function with returns inside a loop as Optional(float64): check_scalar refused it
    # ("grad needs a function with a scalar output") though every return is a float
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        g = ac.grad(early_return_in_loop, backend="numba")(0.5)
    assert g == pytest.approx(ac.grad(early_return_in_loop)(0.5), rel=1e-12)
    h = 1e-6
    assert g == pytest.approx((early_return_in_loop(0.5 + h) - early_return_in_loop(0.5 - h)) / (2 * h), rel=1e-6)


def branch_in_loop(x, y):
    for _ in range(3):
        if x > 10.0:
            x = x * math.cos(y + x)
        x = x + y * 0.5
    return x * x


@pytest.mark.parametrize("x", [0.5, 10.5])  # the branch taken on no iteration, and on the first only
def test_a_branch_in_a_loop_tapes_typed_placeholders(x):
    # the temporaries of a branch not taken were taped as None ("expected float64, got None": a TypeError);
    # typed placeholders compile, and the gradient is the Python backend's
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        g = ac.grad(branch_in_loop, wrt=(0, 1), backend="numba")(x, 0.2)
    np.testing.assert_allclose(g, ac.grad(branch_in_loop, wrt=(0, 1))(x, 0.2), rtol=1e-12)
    h = 1e-6
    fd = (branch_in_loop(x + h, 0.2) - branch_in_loop(x - h, 0.2)) / (2 * h)
    assert g[0] == pytest.approx(fd, rel=1e-6)
