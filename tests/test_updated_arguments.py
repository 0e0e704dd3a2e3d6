"""The differentiated function changes a parameter by ``x op= y`` (``x *= 2.0``, ``X -= X.mean(axis=0)``,
``x -= lr * g(x)`` in a loop): the gradient is with respect to the value on entry, and the caller's array is
left as one call of the function leaves it (``desugar.own_updated_arguments``: the compiled code works on
its own copy and gives the caller's array its final contents at return). A number or a tuple is only
rebound. Refused where Python's meaning depends on sharing: an argument sharing memory with another, a
list or dict argument (``xs += ys`` extends the caller's), an object whose class updates itself in place
(``__iadd__``), a parameter another name is bound to, a callee changing its argument so.

References: central differences of the original function run on copies (grad, jvp, and hvp against central
differences of the gradient), and hand-derived derivatives."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac

X = np.array([1.2, 0.7, 2.1])
M = np.array([[1.0, 2.5, 0.3], [0.4, 1.7, 2.2]])
V = np.array([0.3, -0.5, 0.8])


def scaled(x):
    x *= 2.0
    return np.sum(x**2)


def shifted(x, b=np.array([0.5, -1.0, 2.0])):
    x += b
    return np.sum(np.sin(x))


def centered(X):
    X -= X.mean(axis=0)
    return np.sum(X**2 * np.arange(1.0, 4.0))


def slope(x):
    return 2.0 * x + np.sin(x)


def descent(x):
    for _ in range(3):
        x -= 0.1 * slope(x)
    return np.sum(x**2)


def until(x):
    i = 0
    while i < 3:
        x *= 1.1
        x += np.sin(x)
        i += 1
    return np.sum(x)


def branches(x):
    if x[0] > 1.0:
        x *= 3.0
    else:
        x += 1.0
    return np.sum(np.sin(x) * x)


def early_return(x):
    x /= np.sum(x)
    if x[2] > 0.5:
        return np.sum(x**3)
    return np.sum(x**2)


def stored_and_updated(x):
    x[0] = x[1] * 2.0
    x += 1.0
    return np.sum(x**3)


def power_and_product(x):
    x **= 2
    x @= np.eye(3) * 2.0
    return np.sum(np.cos(x))


def normalized(x):
    x -= np.max(x)
    x /= np.sqrt(np.sum(x**2))
    return np.sum(np.exp(x))


PROGRAMS = [
    scaled,
    shifted,
    descent,
    until,
    branches,
    early_return,
    stored_and_updated,
    power_and_product,
    normalized,
]


def central(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f((x + e).copy()) - f((x - e).copy())) / (2 * eps)
    return out


def after_f(f, x):
    x = x.copy()
    f(x)
    return x


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_against_central_differences(f):
    expected = central(f, X)
    given = X.copy()
    np.testing.assert_allclose(ac.grad(f)(given), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(given, after_f(f, X))  # changed as one call of f changes it
    np.testing.assert_allclose(ac.grad(f)(X.copy()), expected, rtol=1e-6, atol=1e-8)  # warm call (fast path)
    given = X.copy()
    value, tangent = ac.jvp(f)(given, V)
    assert value == pytest.approx(f(X.copy()), rel=1e-12)
    assert tangent == pytest.approx(expected @ V, rel=1e-6, abs=1e-8)
    np.testing.assert_array_equal(given, after_f(f, X))
    eps = 1e-5
    hvp = (ac.grad(f)(X + eps * V) - ac.grad(f)(X - eps * V)) / (2 * eps)
    np.testing.assert_allclose(ac.hvp(f)(X.copy(), V), hvp, rtol=1e-5, atol=1e-6)


def test_centering_a_matrix_in_place():
    expected = central(centered, M)
    given = M.copy()
    np.testing.assert_allclose(ac.grad(centered)(given), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(given, M - M.mean(axis=0), rtol=1e-15)
    value, g = ac.value_and_grad(centered)(M.copy())
    assert value == pytest.approx(centered(M.copy()), rel=1e-12)


def test_hand_derived():
    # scaled: sum((2x)^2) = 4 sum(x^2): 8x
    np.testing.assert_allclose(ac.grad(scaled)(X.copy()), 8 * X, rtol=1e-12)
    # shifted: sum(sin(x + b)): cos(x + b)
    b = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ac.grad(shifted)(X.copy(), b), np.cos(X + b), rtol=1e-12)


def gradient_step(x, lr):
    for _ in range(2):
        x -= lr * slope(x)
    return np.sum(x**2)


def test_the_other_parameter_and_the_caller_after():
    expected = (gradient_step(X.copy(), 0.1 + 1e-6) - gradient_step(X.copy(), 0.1 - 1e-6)) / 2e-6
    given = X.copy()
    assert ac.grad(gradient_step, wrt=1)(given, 0.1) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(given, after_f(lambda x: gradient_step(x, 0.1), X))
    gx, glr = ac.grad(gradient_step, wrt=(0, 1))(X.copy(), 0.1)
    np.testing.assert_allclose(gx, central(lambda x: gradient_step(x, 0.1), X), rtol=1e-6)
    assert glr == pytest.approx(expected, rel=1e-6)


def floats(x, y):
    x += y
    x *= x
    return x


def test_numbers_are_rebound():
    # (x + y)^2: 2 (x + y) for both
    g = ac.grad(floats, wrt=(0, 1))
    for _ in range(3):  # warm calls take the wrapper's fast path
        gx, gy = g(1.5, 0.3)
        assert gx == pytest.approx(3.6, rel=1e-12) and type(gx) is float
        assert gy == pytest.approx(3.6, rel=1e-12)
    assert ac.hvp(floats, wrt=0)(1.5, 0.3, 1.0) == pytest.approx(2.0, rel=1e-12)
    assert ac.jvp(floats, wrt=0)(1.5, 0.3, 1.0)[1] == pytest.approx(3.6, rel=1e-12)


def grows(t, x):
    t += (x,)
    return t[0] * t[-1] ** 2


def test_a_tuple_is_rebound():
    assert ac.grad(grows, wrt=1)((2.0, 3.0), 1.5) == pytest.approx(2 * 2.0 * 1.5, rel=1e-12)


def added(x, y):
    x += y
    return np.sum(x**2)


def test_columns_of_one_matrix_share_no_memory():
    m = M.copy()
    g = ac.grad(added)(m[:, 0], m[:, 1])
    np.testing.assert_allclose(g, 2 * (M[:, 0] + M[:, 1]), rtol=1e-12)
    np.testing.assert_array_equal(m[:, 0], M[:, 0] + M[:, 1])  # as added changes it


def test_float32_argument_keeps_its_precision():
    x = X.astype(np.float32)
    g = ac.grad(added)(x, np.ones(3, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * (X + 1), rtol=1e-6)
    np.testing.assert_allclose(x, X + 1, rtol=1e-6)


def test_an_int_array_python_would_not_store_into():
    def half(x):
        x /= 2
        return np.sum(x * 1.0)

    with pytest.raises(TypeError):
        half(np.arange(3))
    with pytest.raises(TypeError, match="would not store"):
        ac.grad(half)(np.arange(3))


def extended(xs):
    xs += [1.0]  # <- extended
    return sum(v * v for v in xs)


class Account:
    def __init__(self, v):
        self.v = v

    def __iadd__(self, other):
        self.v = self.v + other
        return self


def account(a, x):
    a += 1.0  # <- account
    return a.v * x


def aliased(x):
    y = x
    x += 1.0  # <- aliased
    return np.sum(y * x)


def viewed(x):
    y = x[1:]
    x *= 2.0  # <- viewed
    return np.sum(y * x[1:])


def center(A):
    A -= A.mean(axis=0)


def calls_center(x):
    A = x * 2.0
    center(A)  # <- calls_center
    return np.sum(A**2)


def step(x, d):
    x -= 0.1 * d  # <- step
    return x


def calls_step(x):
    y = x * 1.0
    z = step(y, np.cos(y))
    return np.sum(y * z)


def _line(name):
    with open(__file__) as source:
        return 1 + next(i for i, text in enumerate(source) if text.rstrip().endswith("# <- " + name))


REFUSED = [
    (extended, ([1.0, 2.0],), 0, "xs += ... on a list argument"),
    (account, (Account(1.0), 2.0), 1, "a += ... on a Account argument"),
    (aliased, (X.copy(),), 0, "x += ... is an in-place update of a ndarray that another name"),
    (viewed, (X.copy(),), 0, "x *= ... is an in-place update of a ndarray that another name"),
    (calls_center, (X.copy(),), 0, "a call of center() that changes its argument A in place"),
    (calls_step, (X.copy(),), 0, "x -= ... is an in-place update of a ndarray that another name"),
]


@pytest.mark.parametrize("f, args, wrt, message", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refused_located(f, args, wrt, message):
    name = "step" if f is calls_step else f.__name__
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(f, wrt=wrt)(*args)
    text = str(info.value)
    assert re.match(re.escape(__file__) + r":%d:\d+: error: " % _line(name), text), text
    assert message in text, text


def test_shared_arguments_refused_located():
    a, m = X.copy(), M.copy()
    for args in ((a, a), (m[0], m), (m, m[:, 1])):
        with pytest.raises(ac.UnsupportedError) as info:
            ac.grad(added)(*args)
        text = str(info.value)
        line = added.__code__.co_firstlineno + 1
        assert re.match(
            re.escape(__file__) + r":%d:5: error: x \+= \.\.\. on an argument that shares memory" % line, text
        )
    np.testing.assert_array_equal(a, X)  # refused before anything changed
    np.testing.assert_array_equal(m, M)


def doubled_sines(x):
    x *= 2.0
    return np.sin(x)


def doubled_first(x):
    x[0] = x[0] * 2.0
    return np.sin(x)


def doubled_cubes(x):
    x *= 2.0
    return np.sum(x**3)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_of_a_function_changing_its_argument(mode):
    # each column at the argument as given (it was computed at the argument changed by earlier columns: a
    # wrong Jacobian in forward mode, for x[0] = x[0] * 2.0 as well); the argument changed once, as f does
    given = X.copy()
    np.testing.assert_allclose(ac.jacobian(doubled_sines, mode=mode)(given), np.diag(2 * np.cos(2 * X)), rtol=1e-12)
    np.testing.assert_array_equal(given, 2 * X)
    given = X.copy()
    scale = np.array([2.0, 1.0, 1.0])
    expected = np.diag(scale * np.cos(scale * X))
    np.testing.assert_allclose(ac.jacobian(doubled_first, mode=mode)(given), expected, rtol=1e-12)
    np.testing.assert_array_equal(given, scale * X)


def test_hessian_of_a_function_changing_its_argument():
    given = X.copy()
    np.testing.assert_allclose(ac.hessian(doubled_cubes)(given), np.diag(48 * X), rtol=1e-12)  # 8 sum x^3
    np.testing.assert_array_equal(given, 2 * X)


def test_check_grads_of_a_function_changing_its_argument():
    # the checker's gradient and differences each start from the argument as given (it failed: 0.75)
    from adjoint_compiler import testing

    given = X.copy()
    assert testing.check_grads(doubled_cubes, (given,)) < 1e-6
    np.testing.assert_array_equal(given, X)  # (the checker runs f on copies)
