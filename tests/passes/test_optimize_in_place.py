"""optimize.in_place: a loop's sum of matmul adjoints into a cotangent the function owns is added in place
(``runtime.add_into``); a cotangent another name, a call or a tape can reach, a parameter, or a sum of
numbers is left as it was. ``add_into`` against ``+`` bit for bit; gradients and second derivatives through
the rewritten loops against autograd and central differences."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.optimize.in_place import accumulate_in_place
from tests.passes import define, load, parse, show, text
from tests.references import central_in

OWNED = """
def f(W, xs):
    W_bar = zeros_like(W)
    for x in xs:
        W_bar = W_bar + np.outer(x, x)
    return (1.0, W_bar)
"""


def test_an_owned_sum_in_a_loop_is_added_in_place():
    fn = parse(OWNED)
    accumulate_in_place(fn)
    assert show(fn) == text(
        """
        def f(W, xs):
            W_bar = zeros_like(W)
            for x in xs:
                W_bar = add_into(W_bar, np.outer(x, x))
            return (1.0, W_bar)
        """
    )
    xs = [np.array([1.0, 2.0]), np.array([-0.5, 3.0])]
    by_hand = np.outer(xs[0], xs[0]) + np.outer(xs[1], xs[1])
    assert np.array_equal(define(fn)(np.zeros((2, 2)), xs)[1], by_hand)


@pytest.mark.parametrize(
    "change",
    [
        ("    W_bar = zeros_like(W)\n", "    W_bar = zeros_like(W)\n    V = W_bar\n"),  # copied: V sees the sums
        ("    for x in xs:\n", "    keep(W_bar)\n    for x in xs:\n"),  # a call could keep it
        ("np.outer(x, x)\n", "np.outer(x, x)\n        t.append(W_bar)\n"),  # on a list: read later
        ("    W_bar = zeros_like(W)\n", "    W_bar = W\n"),  # the parameter's array itself
        ("    W_bar = zeros_like(W)\n", "    W_bar = h(W)\n"),  # a call's result: whose array?
        ("    W_bar = zeros_like(W)\n", "    W_bar = zeros_like(W)\n    W_bar += 1.0\n"),  # an augmented store
        ("    return (1.0, W_bar)", "    y = W_bar[0]\n    return (1.0, W_bar, y)"),  # a view of it
        ("np.outer(x, x)", "x * x"),  # not an array-valued call (a loop of numbers gains nothing)
        ("np.outer(x, x)", "np.outer(x, W_bar)"),  # the term reads the sum
        ("    for x in xs:\n", "    add_into = 1\n    for x in xs:\n"),  # the function names the helper
    ],
)
def test_a_sum_another_name_or_object_may_reach_is_left_alone(change):
    fn = parse(OWNED.replace(*change))
    before = show(fn)
    accumulate_in_place(fn)
    assert show(fn) == before


def test_a_parameter_is_not_owned():
    fn = parse(OWNED.replace("def f(W, xs):\n    W_bar = zeros_like(W)\n", "def f(W, xs, W_bar):\n"))
    before = show(fn)
    accumulate_in_place(fn)
    assert show(fn) == before


def test_outside_a_loop_nothing_changes():
    fn = parse("def f(W, x):\n    W_bar = zeros_like(W)\n    W_bar = W_bar + np.outer(x, x)\n    return W_bar")
    before = show(fn)
    accumulate_in_place(fn)
    assert show(fn) == before


@pytest.mark.parametrize(
    "total,term",
    [
        (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.1, -0.2], [1e-17, 5.0]])),  # in place
        (np.array([1.0, 2.0], dtype=np.float32), np.array([0.1, 1e-9])),  # float32 + float64: a new float64
        (np.array([1.0, 2.0]), np.array([[1.0, 2.0], [3.0, 4.0]])),  # broadcast to a larger shape
        (np.array([1.0, 2.0]), 0.5),  # a number
        (0.0, np.array([1.0, 2.0])),  # a number's first sum
        (1.5, 2.25),
        (np.array([1.0, 2.0]), np.array([1.0 + 2.0j, 0.0])),  # complex: a complex sum, as + gives
    ],
)
def test_add_into_is_the_sum_bit_for_bit(total, term):
    expected = total + term
    out = runtime.add_into(total.copy() if isinstance(total, np.ndarray) else total, term)
    assert type(out) is type(expected)
    assert np.shape(out) == np.shape(expected) and np.result_type(out) == np.result_type(expected)
    assert np.array_equal(out, expected)


def test_add_into_adds_into_the_total_only_when_the_sum_is_that_array():
    total = np.zeros(3)
    assert runtime.add_into(total, np.ones(3)) is total and total.tolist() == [1.0, 1.0, 1.0]
    small = np.zeros(3, dtype=np.float32)
    assert runtime.add_into(small, np.ones(3)) is not small and small.tolist() == [0.0, 0.0, 0.0]
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    assert runtime.add_into(frozen, np.ones(3)) is not frozen and frozen.tolist() == [0.0, 0.0, 0.0]


def rnn(Wx, Wh, xs, h0):
    h = h0
    for x in xs:
        h = np.tanh(x @ Wx + h @ Wh)
    return np.sum(h * h)


def _rnn_args(dtype=float):
    rng = np.random.default_rng(3)
    return (
        (rng.standard_normal((4, 3)) * 0.5).astype(dtype),
        (rng.standard_normal((3, 3)) * 0.5).astype(dtype),
        rng.standard_normal((5, 2, 4)),
        np.zeros((2, 3)),
    )


def _central(f, args, i):
    """``central_in`` with every argument a float64 array (float32 weights, the list of inputs)."""
    return central_in(f, [np.array(v, dtype=float) for v in args], i)


def test_rnn_gradient_through_the_in_place_sums():
    assert "add_into(Wh_bar, matmul_bar2(" in ac.adjoint_source(rnn, wrt=(0, 1))
    args = _rnn_args()
    gx, gh = ac.grad(rnn, wrt=(0, 1))(*args)
    np.testing.assert_allclose(gx, _central(rnn, args, 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gh, _central(rnn, args, 1), rtol=1e-6, atol=1e-8)
    again = ac.grad(rnn, wrt=(0, 1))(*args)  # each call its own accumulators: nothing carried over
    assert np.array_equal(again[0], gx) and np.array_equal(again[1], gh)


def test_rnn_gradient_matches_autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    def peer(Wx, Wh, xs, h0):
        h = h0
        for x in xs:
            h = anp.tanh(anp.dot(x, Wx) + anp.dot(h, Wh))
        return anp.sum(h * h)

    args = _rnn_args()
    ours = ac.grad(rnn, wrt=(0, 1))(*args)
    theirs = autograd.grad(peer, (0, 1))(*args)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_float32_weights_accumulate_as_before():
    # float32 weights with float64 inputs: the terms are float64, so the sum is not the float32 array's
    # (add_into falls back to +): the gradient is the float64 sum, rounded once to float32 as before
    args = _rnn_args(np.float32)
    gx, gh = ac.grad(rnn, wrt=(0, 1))(*args)
    assert gx.dtype == np.float32 and gh.dtype == np.float32
    np.testing.assert_allclose(gh, _central(rnn, args, 1), rtol=2e-5, atol=1e-6)


def test_second_derivative_through_the_in_place_sums():
    # the gradient's code, differentiated again, reads add_into as the sum it is (desugar)
    args = _rnn_args()

    def loss_of_wh(Wh, Wx, xs, h0):
        return rnn(Wx, Wh, xs, h0)

    h = ac.hessian(loss_of_wh)(args[1], args[0], args[2], args[3])
    g = ac.grad(loss_of_wh)
    eps = 1e-5
    fd = np.zeros((3, 3, 3, 3))
    for k in np.ndindex(3, 3):
        up, down = args[1].copy(), args[1].copy()
        up[k] += eps
        down[k] -= eps
        fd[(slice(None), slice(None)) + k] = (g(up, args[0], args[2], args[3]) - g(down, args[0], args[2], args[3])) / (
            2 * eps
        )
    np.testing.assert_allclose(np.reshape(h, (3, 3, 3, 3)), fd, rtol=1e-5, atol=1e-7)


SHADOWED = """
BUF = np.zeros((3, 3))


def zeros_like(a):
    return BUF  # the module's own zeros_like: one shared array, not a new one per call


def f(W, xs):
    acc = zeros_like(W)
    for x in xs:
        acc = acc + np.outer(x, W @ x)
    return np.sum(acc * acc)
"""


def test_a_module_zeros_like_is_not_taken_for_the_runtimes():
    f = load(SHADOWED)
    assert "add_into" not in ac.adjoint_source(f)
    W = np.array([[1.0, 0.5, 0.0], [0.0, 2.0, -1.0], [0.3, 0.0, 1.0]])
    xs = [np.array([1.0, -1.0, 0.5]), np.array([0.2, 0.4, -0.6])]
    g = ac.grad(f)(W, xs)
    assert np.array_equal(f.__globals__["BUF"], np.zeros((3, 3)))  # the shared array was not added into
    np.testing.assert_allclose(g, _central(lambda W: f(W, xs), [W], 0), rtol=1e-6, atol=1e-8)


def power_loop(a):
    p = np.eye(2)
    for _ in range(3):
        p = p @ a
    return np.trace(p)


def test_hvp_over_the_in_place_sums():
    # forward over reverse: the gradient's add_into, differentiated again, is the sum (desugar.statement)
    assert "add_into(" in ac.adjoint_source(power_loop)
    a, v = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([[1.0, 0.0], [0.5, -2.0]])
    hv = ac.hvp(power_loop)(a, v)
    eps = 1e-6
    fd = (ac.grad(power_loop)(a + eps * v) - ac.grad(power_loop)(a - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hv, 3 * (v @ a + a @ v).T, rtol=1e-12)  # grad tr(a^3) = 3 (a^2)^T, by hand
