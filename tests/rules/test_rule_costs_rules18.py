"""rules18 (issue #13, rule costs within 3x the primal): np.prod's cotangent with g folded in and a slice's one zero
exact without two cumprods; np.trace's cotangent written into one zero array (runtime.trace_bar); matrix_power's back
through matrix_power's own products (runtime.power_bar); the matrix norms 1 / inf with |x| made once and the signs
of the picked column written alone (runtime.norm_sums_bar). Checked against the product of the others written out, the
trace's cotangent read off basis matrices, the sum sum_k (B^T)^k G (B^T)^(m-1-k) written out, the sign of the picked
column by hand, central differences (first and second order) and autograd where installed, at the sizes of
benchmarks/rule_costs.py and small ones, float32, ties, stacks and axes."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.rules import registry
from tests.rules.test_rule_costs import gradient_error, hvp_error, weights
from tests.rules.test_rule_costs_rules17 import others_written_out

# ---- np.prod: one zero in a slice ---------------------------------------------------------------------------------


def zeros_in(shape, axis, seed):
    """1 + noise, with one zero in every other slice along axis (and none in the rest)."""
    rng = np.random.default_rng(seed)
    x = 1.0 + 0.2 * rng.standard_normal(shape)
    moved = np.moveaxis(x, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    for row in range(0, flat.shape[0], 2):
        flat[row, rng.integers(flat.shape[1])] = 0.0
    return np.moveaxis(flat.reshape(moved.shape), -1, axis)


@pytest.mark.parametrize("shape, axis", [((6, 40), 1), ((6, 40), 0), ((3, 4, 5), 2), ((3, 4, 5), 0), ((300, 200), 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prod_with_a_zero_per_slice_is_the_product_of_the_others(shape, axis, dtype):
    x = zeros_in(shape, axis, len(shape) + shape[0]).astype(dtype)
    rule = registry.lookup(np.prod).rule
    for keepdims in (False, True):
        ans = np.prod(x, axis=axis, keepdims=keepdims)
        g = weights(np.shape(ans)).astype(dtype)
        bar = rule(g, ans, x, axis, None, None, keepdims)[0]
        want = (
            np.expand_dims(g, axis) * others_written_out(x, axis) if not keepdims else g * others_written_out(x, axis)
        )
        assert bar.dtype == dtype
        tol = 1e-5 if dtype == np.float32 else 1e-12
        assert np.allclose(bar, want, rtol=tol, atol=tol)
        assert np.count_nonzero(bar[x == 0]) == np.count_nonzero(x == 0)  # (each zero alone in its slice: g p there)


def test_prod_with_zeros_along_several_axes_and_all_of_them():
    x = zeros_in((4, 5, 6), 2, 3)
    rule = registry.lookup(np.prod).rule
    ans = np.prod(x, axis=(1, 2))
    bar = rule(np.ones(4), ans, x, (1, 2))[0]
    want = others_written_out(x.reshape(4, 30), 1).reshape(x.shape)
    assert np.allclose(bar, want, rtol=1e-12, atol=1e-14)
    one = np.ones((3, 4))
    one[1, 2] = 0.0
    assert np.allclose(rule(2.0, np.prod(one), one)[0], 2.0 * np.where(one == 0, 1.0, 0.0))


def test_prod_with_two_zeros_in_a_slice_beside_one_zero_in_another():
    # (a slice of two zeros takes the exact cumprod path for the whole array: its cotangent is 0 everywhere)
    x = zeros_in((5, 8), 1, 9)
    x[1, [2, 5]] = 0.0
    rule = registry.lookup(np.prod).rule
    g = weights(5)
    assert np.allclose(rule(g, np.prod(x, axis=1), x, 1)[0], g[:, None] * others_written_out(x, 1), atol=1e-14)


@pytest.mark.parametrize("shape, axis", [((4, 6), 1), ((3, 4, 5), 0), ((40, 30), -1)])
def test_prod_gradient_and_second_derivative_at_zeros_match_central_differences(shape, axis):
    x = zeros_in(shape, axis, 21)
    w = weights(np.shape(np.prod(x, axis=axis)))

    def f(x):
        return np.sum(np.sin(np.prod(x, axis=axis)) * w)

    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-5
    dot = np.random.default_rng(2).standard_normal(shape)
    h = 1e-6
    fd = (f(x + h * dot) - f(x - h * dot)) / (2 * h)
    assert np.isclose(ac.jvp(f)(x, dot)[1], fd, rtol=1e-6)  # (forward mode: prod's tangent rule)


def test_nanprod_with_a_zero_and_nans():
    x = zeros_in((4, 6), 1, 5)
    x[0, 3] = np.nan
    x[3, 0] = np.nan
    rule = registry.lookup(np.nanprod).rule
    bar = rule(np.ones(4), np.nanprod(x, axis=1), x, 1)[0]
    clean = np.where(np.isnan(x), 1.0, x)
    assert np.allclose(bar, np.where(np.isnan(x), 0.0, others_written_out(clean, 1)), atol=1e-14)


def test_prod_of_an_empty_array():
    rule = registry.lookup(np.prod).rule
    x = np.zeros((0, 3))
    assert rule(np.ones(3), np.prod(x, axis=0), x, 0)[0].shape == (0, 3)
    assert rule(np.ones(0), np.prod(x, axis=1), x, 1)[0].shape == (0, 3)


# ---- np.trace: runtime.trace_bar ----------------------------------------------------------------------------------


def trace_bar_by_basis(g, shape, offset, axis1, axis2):
    want = np.zeros(shape)
    for index in np.ndindex(*shape):
        e = np.zeros(shape)
        e[index] = 1.0
        want[index] = np.sum(g * np.trace(e, offset, axis1, axis2))
    return want


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (0, 3), (2, 3, 4), (3, 2, 2, 4)])
def test_trace_bar_is_the_transpose_of_the_trace(shape):
    rng = np.random.default_rng(len(shape))
    a = rng.standard_normal(shape)
    for axis1 in range(-len(shape), len(shape)):
        for axis2 in range(-len(shape), len(shape)):
            if axis1 % len(shape) == axis2 % len(shape):
                continue
            for offset in (-5, -1, 0, 2, 4):
                g = rng.standard_normal(np.shape(np.trace(a, offset, axis1, axis2)))
                got = runtime.trace_bar(g, a, offset, axis1, axis2)
                assert np.array_equal(got, trace_bar_by_basis(g, shape, offset, axis1, axis2))


def test_trace_gradient_keeps_float32_and_matches_central_differences():
    a = np.random.default_rng(3).standard_normal((200, 200))
    bar = registry.lookup(np.trace).rule(np.float32(2.0), np.trace(a), a.astype(np.float32))[0]
    assert bar.dtype == np.float32 and np.array_equal(bar, 2.0 * np.eye(200))
    assert (
        gradient_error(lambda a: np.sin(np.trace(a, 1)) + np.sum(np.trace(a[None] * a[:, None], 0, 0, 2)), a[:6, :6])
        < 1e-6
    )
    assert hvp_error(lambda a: np.trace(a @ a) ** 2, a[:5, :5]) < 1e-5


# ---- np.linalg.matrix_power: runtime.power_bar ----------------------------------------------------------------------


def power_sum(g, b, m):
    bt = np.swapaxes(b, -1, -2)
    power = np.linalg.matrix_power
    return sum((power(bt, k) @ g @ power(bt, m - 1 - k) for k in range(m)), np.zeros(np.shape(g)))


@pytest.mark.parametrize("m", [0, 1, 2, 3, 5, 6, 7, 8, 13, 16])
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 3)])
def test_power_bar_is_the_sum_written_out(m, shape):
    rng = np.random.default_rng(m)
    b, g = 0.5 * rng.standard_normal(shape), rng.standard_normal(shape)
    assert np.allclose(runtime.power_bar(g, b, m), power_sum(g, b, m), rtol=1e-12, atol=1e-12)


def test_power_bar_at_the_benchmarks_size_and_float32():
    rng = np.random.default_rng(1)
    b, g = rng.standard_normal((200, 200)) / 20, rng.standard_normal((200, 200))
    assert np.allclose(runtime.power_bar(g, b, 5), power_sum(g, b, 5), rtol=1e-10, atol=1e-10)
    assert runtime.power_bar(g.astype(np.float32), b.astype(np.float32), 3).dtype == np.float32


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 5, 9])
def test_matrix_power_gradient_and_second_derivative(n):
    a = np.eye(4) + 0.3 * np.random.default_rng(abs(n)).standard_normal((4, 4))
    w = weights((4, 4))

    def f(a):
        return np.sin(np.sum(np.linalg.matrix_power(a, n) * w))

    assert gradient_error(f, a) < 1e-6
    assert hvp_error(f, a) < 1e-5


def test_matrix_power_gradient_of_a_stack_is_the_sum_written_out():
    a = 0.5 * np.random.default_rng(8).standard_normal((3, 4, 4))
    w = weights((3, 4, 4))
    mine = ac.grad(lambda a: np.sum(np.linalg.matrix_power(a, 6) * w))(a)
    assert np.allclose(mine, power_sum(w, a, 6), rtol=1e-12, atol=1e-12)


# ---- np.linalg.norm, matrix ords 1, -1, inf, -inf: runtime.norm_sums_bar -----------------------------------------


def picked_signs(a, ord):
    """sign(a) in the column (ord +-1) or row (+-inf) of largest / smallest absolute sum, ties sharing equally."""
    down = ord in (1, -1)
    sums = np.sum(np.abs(a), axis=0 if down else 1)
    pick = sums == (np.max(sums) if ord > 0 else np.min(sums))
    share = pick / np.sum(pick)
    return np.sign(a) * (share[None, :] if down else share[:, None])


@pytest.mark.parametrize("ord", [1, -1, np.inf, -np.inf])
@pytest.mark.parametrize("n", [3, 200])
def test_matrix_norm_sums_cotangent_is_the_picked_signs(ord, n):
    a = np.random.default_rng(n).standard_normal((n, n + 1))
    rule = registry.lookup(np.linalg.norm).rule
    assert np.array_equal(rule(1.5, np.linalg.norm(a, ord), a, ord)[0], 1.5 * picked_signs(a, ord))
    a32 = a.astype(np.float32)
    assert rule(np.float32(1.0), np.linalg.norm(a32, ord), a32, ord)[0].dtype == np.float32


@pytest.mark.parametrize("ord", [1, np.inf])
def test_matrix_norm_sums_ties_share_equally(ord):
    a = np.array([[1.0, -2.0, 0.5], [-2.0, 1.0, 0.5]])  # columns 0 and 1 tie (3), rows tie (3.5)
    bar = registry.lookup(np.linalg.norm).rule(1.0, np.linalg.norm(a, ord), a, ord)[0]
    assert np.array_equal(bar, picked_signs(a, ord))
    assert np.isclose(np.sum(np.abs(bar)), 2.0 if ord == 1 else 3.0)


@pytest.mark.parametrize("ord", [1, -1, np.inf, -np.inf])
@pytest.mark.parametrize("axis, keepdims", [((0, 2), False), ((2, 1), True), ((-2, -1), False)])
def test_matrix_norm_sums_of_a_stack_along_axes(ord, axis, keepdims):
    x = np.random.default_rng(6).standard_normal((3, 4, 5))
    ans = np.linalg.norm(x, ord, axis, keepdims)
    g = weights(np.shape(ans))
    bar = registry.lookup(np.linalg.norm).rule(g, ans, x, ord, axis, keepdims)[0]
    moved = np.moveaxis(x, axis, (0, 1))
    gs = np.reshape(g, -1)
    want = np.stack([gs[i] * picked_signs(moved[:, :, i], ord) for i in range(moved.shape[2])], axis=-1)
    assert np.allclose(bar, np.moveaxis(want, (0, 1), axis), rtol=1e-14, atol=0)

    def f(x):
        return np.sum(np.sin(np.linalg.norm(x, ord, axis, keepdims)) * g)

    assert gradient_error(f, x) < 1e-6
    assert hvp_error(f, x) < 1e-5


# ---- scipy.linalg.expm: runtime.expm_frechet_of ---------------------------------------------------------------------


def frechet_by_block(a, e):
    # the upper right block of expm([[A, E], [0, A]]) (Higham 2008, thm 3.6), the rule's former body
    scipy_linalg = pytest.importorskip("scipy.linalg")
    n = np.shape(a)[-1]
    top = np.concatenate([a, e], -1)
    big = np.concatenate([top, np.concatenate([np.zeros_like(e), a], -1)], -2)
    return scipy_linalg.expm(big)[..., :n, n:]


def repeated_symmetric(rng):
    q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    s = q @ np.diag([1.0, 1.0, 2.0, -3.0, 2.0 + 1e-9]) @ q.T  # (a double eigenvalue, and two 1e-9 apart)
    return (s + s.T) / 2


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (0, 3, 3), (200, 200)])
def test_expm_frechet_matches_the_block_exponential(shape):
    rng = np.random.default_rng(shape[-1])
    a = rng.standard_normal(shape) / (20.0 if shape[-1] > 10 else 1.0)
    e = rng.standard_normal(shape)
    for x in (a, a + np.swapaxes(a, -1, -2)):  # (general: scipy's expm_frechet; symmetric: np.linalg.eigh)
        want = frechet_by_block(x, e)
        got = runtime.expm_frechet_of(x, e)
        assert got.shape == want.shape
        assert np.allclose(got, want, rtol=1e-11, atol=1e-11 * np.max(np.abs(want), initial=1.0))
    s = repeated_symmetric(rng)
    d = rng.standard_normal((5, 5))
    assert np.allclose(runtime.expm_frechet_of(s, d), frechet_by_block(s, d), rtol=1e-11, atol=1e-11)


def test_expm_adjoint_keeps_float32_and_is_the_transposed_derivative():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(4)
    a, g = 0.3 * rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    rule = registry.lookup(scipy_linalg.expm).rule
    assert np.allclose(rule(g, scipy_linalg.expm(a), a), frechet_by_block(a.T, g), rtol=1e-12, atol=1e-13)
    a32, g32 = a.astype(np.float32), g.astype(np.float32)
    assert rule(g32, scipy_linalg.expm(a32), a32).dtype == np.float32
    s = a + a.T
    assert rule(g32, None, s.astype(np.float32)).dtype == np.float32


def expm_weighted(a):
    import scipy.linalg

    return np.sum(np.sin(scipy.linalg.expm(a)) * W4)


W4 = weights((4, 4))


@pytest.mark.parametrize("symmetric", [False, True])
def test_expm_gradient_and_second_derivative_match_central_differences(symmetric):
    pytest.importorskip("scipy.linalg")
    a = 0.4 * np.random.default_rng(5).standard_normal((4, 4))
    a = a + a.T if symmetric else a
    assert gradient_error(expm_weighted, a) < 1e-6
    assert hvp_error(expm_weighted, a) < 1e-5


# ---- np.quantile: the masks' weights in the reduced shape, d/dq from sums where= the masks ----------------------


def quantile_by_hand(x, q, g):
    """a's and q's cotangents of np.quantile(x, q) ('linear', 1-d x), ties sharing their order statistic's weight."""
    s, n = np.sort(x), len(x)
    bar, q_bar = np.zeros(n), np.zeros(len(q))
    for i, p in enumerate(q):
        spot = p * (n - 1)
        lo, hi, frac = s[int(np.floor(spot))], s[int(np.ceil(spot))], spot - np.floor(spot)
        bar += g[i] * ((1 - frac) * (x == lo) / np.sum(x == lo) + frac * (x == hi) / np.sum(x == hi))
        q_bar[i] = g[i] * (n - 1) * (hi - lo)
    return bar, q_bar


@pytest.mark.parametrize("n", [7, 4001])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_quantile_cotangents_with_ties_are_the_hand_formula(n, dtype):
    rng = np.random.default_rng(n)
    x = np.round(rng.standard_normal(n), 1).astype(dtype)  # (many ties)
    q = np.array([0.05, 0.5, 0.77, 1.0])
    g = weights(4)
    bar, q_bar = registry.lookup(np.quantile).rule(g, np.quantile(x, q), x, q)[:2]
    want, q_want = quantile_by_hand(x.astype(float), q, g)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(bar, want, rtol=tol, atol=tol) and np.allclose(q_bar, q_want, rtol=tol, atol=tol)


def quantile_of_both(x):
    q = 0.2 + 0.6 / (1.0 + np.exp(-x[0, :3]))  # (q moves with x: d/dq read)
    return np.sum(np.sin(np.quantile(x[1:], q, axis=1)) * W4[:3, :3])


def test_quantile_gradient_in_a_and_q_and_second_derivative():
    x = np.random.default_rng(9).permutation(4 * 30).reshape(4, 30) / 30.0
    assert gradient_error(quantile_of_both, x) < 1e-6
    assert hvp_error(quantile_of_both, x) < 1e-5
