"""rules17 (issue #13, rule costs within 3x the primal): np.sort's stable positions by sorting packed (key, index)
words (runtime.stable_order) and its cotangent put back in one scatter (runtime.moved_back); np.prod's ans / x_i
where every slice's product is a normal number; np.quantile / np.median / np.percentile reading both order
statistics off one np.partition; np.linalg.eigvals' eigenvectors matched to its eigenvalues (a wrong gradient at
200 x 200 before). Checked against np.argsort(kind="stable"), the product of the others written out, central
differences, autograd where it has the function, and the eigenvalue derivative v_i^T dA v_i of a symmetric matrix,
at sizes that take the fast paths and small ones."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.rules import registry
from tests.rules.test_rule_costs import gradient_error, hvp_error, spd, weights
from tests.rules.test_rule_costs_rules15 import stable_source

# ---- runtime.stable_order: np.argsort(kind="stable") in about np.sort's time ------------------------------------


def order_inputs(shape, rng):
    normal = rng.standard_normal(shape)
    # (wide: keys spanning more bits than the index leaves, so the index replaces their low bits; clustered: many
    # of those shortened keys equal, values a few ulps apart next to huge ones, put in order afterwards)
    wide = normal * 10.0 ** rng.integers(-300, 300, shape)
    tiny = 1.0 + np.finfo(float).eps * rng.integers(0, 5, shape)
    clustered = np.where(rng.random(shape) < 0.5, 1e300 * tiny, tiny) * np.sign(normal)
    zeros = np.where(rng.random(shape) < 0.5, 0.0, -0.0) * rng.integers(0, 2, shape)
    nans = normal.copy()
    nans[rng.random(shape) < 0.1] = np.nan
    infs = normal.copy()
    infs[rng.random(shape) < 0.1] = np.inf
    infs[rng.random(shape) < 0.1] = -np.inf
    return {
        "normal": normal,
        "ties": np.round(normal, 1),
        "zeros": zeros,
        "wide": wide,
        "clustered": clustered,
        "nans": nans,
        "infs": infs,
        "spread": rng.permutation(np.size(normal)).reshape(shape) * 1.0,
    }


@pytest.mark.parametrize("shape", [(7,), (50,), (5000,), (40, 300), (300, 40), (3, 20, 100)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stable_order_is_the_stable_argsort(shape, dtype):
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    for name, a in order_inputs(shape, rng).items():
        with np.errstate(over="ignore"):
            a = a.astype(dtype)
        for axis in range(-1, len(shape)):
            assert np.array_equal(runtime.stable_order(a, axis), np.argsort(a, axis, kind="stable")), (name, axis)


def test_stable_order_puts_shortened_keys_that_collide_in_order():
    # the clustered values do take the path where shortened keys collide: two differ in their last bits only
    a = np.array([1e300, 1.0 + 2 * np.finfo(float).eps, -5.0, 1.0, 1.0 + np.finfo(float).eps, 1.0] * 400)
    assert np.array_equal(runtime.stable_order(a, 0), np.argsort(a, kind="stable"))
    assert np.array_equal(runtime.stable_order(a[::-1], -1), np.argsort(a[::-1], kind="stable"))


def test_stable_order_of_other_dtypes_and_sizes_is_numpys():
    rng = np.random.default_rng(3)
    for a in (rng.integers(0, 5, 3000), rng.standard_normal(3000).astype(np.float16), np.zeros((0, 3000))):
        assert np.array_equal(runtime.stable_order(a, -1), np.argsort(a, -1, kind="stable"))


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("partition", [False, True])
def test_sort_source_at_fast_path_sizes(axis, partition):
    rng = np.random.default_rng(5)
    for a in (rng.standard_normal((30, 200)), np.round(rng.standard_normal((30, 200)), 1).astype(np.float32)):
        ans = np.partition(a, 3, axis) if partition else np.sort(a, axis)
        source = runtime.sort_source(a, ans if partition else None, axis)
        assert np.array_equal(source, stable_source(a, ans, axis))
        assert np.array_equal(np.take_along_axis(a, source, axis), ans)


def test_moved_back_is_the_inverse_permutation_taken():
    rng = np.random.default_rng(6)
    g = rng.standard_normal((4, 50, 3)).astype(np.float32)
    for axis in (0, 1, -1):
        p = np.argsort(rng.standard_normal(g.shape), axis)
        out = runtime.moved_back(g, p, axis)
        assert out.dtype == np.float32
        assert np.array_equal(out, np.take_along_axis(g, runtime.inverse_order(p, axis), axis))


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort_gradient_at_fast_path_sizes_matches_central_differences(axis):
    x = np.random.default_rng(8).permutation(3000).reshape(20, 150) / 1000  # 1e-3 apart: no crossing within h
    w = weights(np.size(x) if axis is None else x.shape)
    assert gradient_error(lambda x: np.sum(np.sin(np.sort(x, axis)) * w), x) < 1e-6
    assert gradient_error(lambda x: np.sum(np.sin(np.partition(x, 5, axis)) * w), x) < 1e-6


def test_sort_gradient_of_float32_with_ties_puts_each_cotangent_in_a_stable_place():
    from adjoint_compiler.rules.np_shape import sort_adjoint

    a = np.round(np.random.default_rng(9).standard_normal(4000), 1).astype(np.float32)
    g = np.random.default_rng(10).standard_normal(4000).astype(np.float32)
    bar = sort_adjoint(g, np.sort(a), a)[0]
    expected = np.empty_like(g)
    expected[np.argsort(a, kind="stable")] = g
    assert bar.dtype == np.float32 and np.array_equal(bar, expected)


def test_sort_second_derivative_at_fast_path_size():
    x = np.random.default_rng(13).permutation(1600).reshape(4, 400) / 400
    w = weights((4, 400))
    assert hvp_error(lambda x: np.sum(np.sin(np.sort(x, 1)) * w), x) < 1e-5


# ---- np.prod: ans / x_i where every slice's product is a normal number -------------------------------------------


def others_written_out(x, axis):
    # the product of the other elements of each x_i's slice, one slice and one element at a time
    moved = np.moveaxis(np.asarray(x, dtype=np.result_type(x, 1.0)), axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index]
        out[index] = [np.prod(np.delete(row, i)) for i in range(len(row))]
    return np.moveaxis(out, -1, axis)


def prod_cases():
    rng = np.random.default_rng(14)
    x = 1.0 + 0.1 * rng.standard_normal((6, 40))
    one_zero, two_zeros = x.copy(), x.copy()
    one_zero[2, 5] = 0.0
    two_zeros[3, [1, 7]] = 0.0
    return {
        "normal": x,
        "float32": x.astype(np.float32),
        "one zero": one_zero,
        "two zeros": two_zeros,
        "underflow": np.full((6, 40), 1e-10),  # a product of 1e-400: 0, though no element is
        "overflow": np.full((6, 40), 1e10),  # 1e400: inf
        "subnormal": np.concatenate([np.full((6, 39), 1e-8), np.full((6, 1), 1e-1)], axis=1),  # 1e-313
    }


@pytest.mark.parametrize("name", list(prod_cases()))
def test_prod_adjoint_is_the_product_of_the_others(name):
    x = prod_cases()[name]
    rule = registry.lookup(np.prod).rule
    g = np.random.default_rng(15).standard_normal(6).astype(x.dtype)
    with np.errstate(over="ignore"):  # (the overflow case: others of 1e390, inf both ways)
        bar = rule(g, np.prod(x, axis=1), x, 1)[0]
        expected = g[:, None] * others_written_out(x, 1)
        full = rule(np.asarray(1.5, x.dtype), np.prod(x), x)[0]  # axis None
        full_expected = 1.5 * others_written_out(x.reshape(1, -1), 1).reshape(x.shape)
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    for got, want in ((bar, expected), (full, full_expected)):
        assert got.dtype == x.dtype
        finite = np.isfinite(want)
        assert np.array_equal(got[~finite], want[~finite])
        scale = np.max(np.abs(want[finite]), initial=0.0)
        assert np.allclose(got[finite], want[finite], rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, True), ((0, 2), False), (-1, False)])
def test_prod_gradient_matches_central_differences_and_autograd(axis, keepdims):
    autograd_numpy = pytest.importorskip("autograd.numpy")
    autograd = pytest.importorskip("autograd")
    x = 1.0 + 0.2 * np.random.default_rng(16).standard_normal((3, 4, 5))

    def f(x):
        return np.sum(np.sin(np.prod(x, axis=axis, keepdims=keepdims)))

    assert gradient_error(f, x) < 1e-6
    reference = autograd.grad(lambda x: autograd_numpy.sum(autograd_numpy.sin(autograd_numpy.prod(x, axis=axis))))(x)
    assert np.allclose(ac.grad(f)(x), reference, rtol=1e-12, atol=1e-14)


def test_prod_gradient_at_zeros_and_its_second_derivative():
    x = 1.0 + 0.2 * np.random.default_rng(17).standard_normal((4, 6))
    x[1, 2] = 0.0
    assert gradient_error(lambda x: np.sum(np.prod(x, axis=1) * np.arange(1.0, 5.0)), x) < 1e-6
    assert hvp_error(lambda x: np.sum(np.sin(np.prod(x, axis=1))), x) < 1e-5
    y = 1.0 + 0.2 * np.random.default_rng(18).standard_normal((4, 6))
    assert hvp_error(lambda x: np.sum(np.sin(np.prod(x, axis=1))), y) < 1e-5


def test_nanprod_gradient_skips_nans():
    x = 1.0 + 0.2 * np.random.default_rng(19).standard_normal((3, 5))
    x[0, 1] = np.nan
    rule = registry.lookup(np.nanprod).rule
    bar = rule(np.ones(3), np.nanprod(x, axis=1), x, 1)[0]
    assert np.allclose(bar, np.where(np.isnan(x), 0.0, others_written_out(np.where(np.isnan(x), 1.0, x), 1)))


# ---- np.quantile and friends: both order statistics off one np.partition -----------------------------------------


@pytest.mark.parametrize("n", [9, 10, 4001])
def test_quantile_gradients_match_central_differences(n):
    x = np.random.default_rng(n).permutation(3 * n).reshape(3, n) / n  # distinct values, 1/n apart
    q = np.array([0.1, 0.5, 0.93])
    assert gradient_error(lambda x: np.sum(np.sin(np.median(x, axis=1))), x) < 1e-6
    assert gradient_error(lambda x: np.sum(np.sin(np.quantile(x, q, axis=-1)) * weights((3, 3))), x) < 1e-6
    assert gradient_error(lambda x: np.sin(np.percentile(x, 37.0)), x) < 1e-6
    assert gradient_error(lambda x: np.sum(np.sin(np.median(x, axis=(0, 1), keepdims=True))), x) < 1e-6
    assert gradient_error(lambda x: np.sum(np.quantile(x, q, axis=0) * weights((3, n))), x) < 1e-6


def test_quantile_adjoint_splits_ties_and_keeps_a_nan_slice_at_zero():
    rule = registry.lookup(np.quantile).rule
    x = np.array([[3.0, 1.0, 1.0, 2.0, 5.0], [4.0, np.nan, 0.0, 1.0, 2.0]])
    q = np.array([0.25, 0.5])
    ans = np.quantile(x, q, axis=1)
    bar, q_bar = rule(np.ones((2, 2)), ans, x, q, 1)[:2]
    # row 0 sorted [1, 1, 2, 3, 5]: q 0.25 at position 1 (a tie of two 1.0s: half each), 0.5 at 2.0; row 1: NaN
    assert np.array_equal(bar, [[0.0, 0.5, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert np.isnan(ans[0, 1]) and np.all(np.isnan(q_bar))  # (n - 1) (hi - lo) summed over the rows: NaN too


def test_median_gradient_of_float32_keeps_float32():
    x = np.random.default_rng(20).permutation(2000).reshape(2, 1000).astype(np.float32)
    bar = registry.lookup(np.median).rule(np.ones(2, np.float32), np.median(x, axis=1), x, 1)[0]
    assert np.sum(bar) == 2.0 and np.count_nonzero(bar) == 4  # two middle elements per row, half each
    assert np.array_equal(bar != 0, (x == np.sort(x, 1)[:, [499]]) | (x == np.sort(x, 1)[:, [500]]))


# ---- np.linalg.eigvals: eig's eigenvectors matched to eigvals' order ---------------------------------------------


@pytest.mark.parametrize("n", [5, 200])
def test_eigvals_of_a_symmetric_matrix_matches_the_eigh_derivative(n):
    # d lambda_i = v_i^T dA v_i for a symmetric A (eigh's orthonormal v_i). At 200 x 200 np.linalg.eig returns
    # the eigenvalues in another order than np.linalg.eigvals, which the rule used to pair with eig's vectors.
    rng = np.random.default_rng(n)
    a = spd(n, rng)
    ans = np.linalg.eigvals(a)
    g = rng.standard_normal(n)
    w, v = np.linalg.eigh(a)
    ranked = np.argsort(np.argsort(ans))  # ans[i] is w[ranked[i]]
    expected = (v[:, ranked] * g) @ v[:, ranked].T
    bar = registry.lookup(np.linalg.eigvals).rule(g, ans, a)
    assert np.max(np.abs(bar - expected)) < 1e-9 * np.max(np.abs(expected))
    d = rng.standard_normal((n, n))
    dot = registry.tangent_rule(np.linalg.eigvals).rule(d, ans, a)
    assert np.allclose(dot, np.einsum("ji,jk,ki->i", v[:, ranked], d, v[:, ranked]), rtol=1e-9, atol=1e-9)
