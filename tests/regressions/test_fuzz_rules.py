"""Bugs in adjoint rules found by the rules fuzzer (tests/fuzz/gen_rules.py) or reported against it:
each a minimal program compared with central differences (or its refusal asserted)."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads
from tests.fuzz.oracle import load_function
from tests.rules.test_np_linalg import hvp_error


def _load(body):
    return load_function("import numpy as np\n\n\n" + body)


@pytest.mark.parametrize(
    "call, shape",
    [
        ("np.repeat(x, [1, 2, 3])", (3,)),
        ("np.repeat(x, [2, 0, 1], axis=1)", (2, 3)),
        ("np.repeat(x, np.array([1, 0, 2, 3, 0, 1]))", (2, 3)),
        ("np.repeat(x, [3], axis=0)", (2, 3)),
    ],
)
def test_repeat_with_one_count_per_element(call, shape):
    # was ValueError inside the gradient: the rule reshaped g as if repeats were one number
    f = _load(
        "def f(x):\n    return np.sum(np.sin(%s) * np.arange(1.0, 1.0 + np.size(%s)).reshape(np.shape(%s)))\n"
        % (call, call, call)
    )
    check_grads(f, [np.random.default_rng(0).standard_normal(shape)])


def test_repeat_with_counts_known_at_run_time():
    f = _load("def f(x, r):\n    return np.sum(np.repeat(x, r, axis=1) ** 3)\n")
    x = np.random.default_rng(1).standard_normal((2, 3))
    for r in ([2, 0, 1], np.array([1, 1, 3]), 2, [2]):
        check_grads(f, [x, r], wrt=0)


def test_repeat_with_a_literal_count_still_differentiates_twice():
    # the per-element case (np.add.reduceat, which has no rule) is left out at compile time
    f = _load("def f(x):\n    return np.sum(np.repeat(x, 2) ** 3)\n")
    assert hvp_error(f, np.array([0.3, 0.5, -0.2])) < 1e-6
    assert "reduceat" not in ac.adjoint_source(f)


# np.matmul (a generalized ufunc) was taken for element-wise: a 0-d v @ w marked both operands scalars
# and dropped an unbroadcast (grad of sum(x) * w @ w gave w * w). Found by the rules fuzzer, seed 1030.
def test_vector_matmul_does_not_make_its_operands_scalars():
    f = _load("def f(x, w):\n    s = np.sum(x)\n    t = s * w\n    return t @ w\n")
    w = np.array([0.5, -1.0, 2.0])
    # d/dx_i of sum(x) (w @ w): w @ w for every i; grad gives w * w = [0.25, 1, 4]
    np.testing.assert_allclose(ac.grad(f, wrt=0)(np.array([0.1, 0.2, 0.3]), w), np.full(3, w @ w))


def test_vector_matmul_of_a_scaled_vector():
    # the fuzzer's program, minimized: was ValueError "setting an array element with a sequence"
    f = _load(
        "def f(x):\n    v0 = np.sin(x[0])\n    return (v0 * np.linspace(0.6, 1.4, 3)) @ np.broadcast_to(v0, (3,))\n"
    )
    check_grads(f, [np.array([0.3, 0.5])])


def test_singular_values_of_a_rank_deficient_tall_stack_from_the_full_svd():
    # rules seed 922241: np.linalg.svd(a, full_matrices=False)[1] of a rank-1 (2, 4, 3) stack gave NaN, where
    # compute_uv=False gives U V^T: the tall-matrix term (I - U U^T) U_bar S^-1 V^T divided 0 by a zero
    # singular value although U was not used
    f = _load(
        "def f(y):\n    v = np.angle(np.ravel(y)[3:6])\n"
        "    return np.sum(np.linalg.svd(np.reshape(np.tile(v, 8), (2, 4, 3)), full_matrices=False)[1])\n"
    )
    y = np.array([[-1.448514, -0.280141, 0.487008, -0.902652], [1.006733, 1.036782, -0.748655, 0.802048]])
    np.testing.assert_array_equal(ac.grad(f)(y), np.zeros_like(y))  # np.angle of reals: flat
    a = np.reshape(np.tile([0.0, np.pi, 0.0], 8), (2, 4, 3))
    full = ac.grad(_load("def f(a):\n    return np.sum(np.linalg.svd(a, full_matrices=False)[1])\n"))(a)
    values = ac.grad(_load("def f(a):\n    return np.sum(np.linalg.svd(a, compute_uv=False))\n"))(a)
    assert np.all(np.isfinite(full))
    np.testing.assert_allclose(full, values, atol=1e-12)


def test_full_svd_of_a_tall_matrix_with_its_vectors_used_still_matches_differences():
    f = _load(
        "def f(a):\n    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
        "    return np.sum(s ** 2) + np.sum(np.abs(u[:, 0]) * np.arange(4.0)) + np.sum(np.abs(vh[0]))\n"
    )
    check_grads(f, [np.random.default_rng(3).standard_normal((4, 3))], rtol=1e-6)


def _polymul_weighted(a, b):
    return np.sum(np.polymul(a, b) * np.linspace(1.0, 2.0, np.size(np.polymul(a, b))))


def test_polymul_with_a_leading_zero_coefficient_is_refused():
    # rules seed 1306454: NumPy drops an operand's leading zeros (poly1d), so the product was shorter than the
    # adjoint assumed (ValueError: cannot reshape inside grad) and the product-rule tangent's terms had two
    # lengths (ValueError: cannot broadcast in jvp); the length changes with those coefficients: refused
    a, b = np.array([0.0, 1.5, -0.5]), np.array([2.0, 0.3, 0.7])
    for call in (
        lambda: ac.grad(_polymul_weighted, wrt=(0, 1))(a, b),
        lambda: ac.jvp(_polymul_weighted, wrt=(0, 1))(a, b, (np.array([1.0, 0.0, 0.0]), np.ones(3))),
    ):
        with pytest.raises(NotImplementedError, match="leading zero coefficient") as e:
            call()
        assert "test_fuzz_rules.py:%d:" % (_polymul_weighted.__code__.co_firstlineno + 1) in str(e.value)


def test_polymul_without_leading_zeros_against_central_differences():
    a, b = np.array([0.4, 1.5, -0.5]), np.array([2.0, 0.3, 0.7, -1.1])
    check_grads(_polymul_weighted, (a, b), wrt=(0, 1))
    da, db = np.array([1.0, -0.5, 0.2]), np.array([0.3, 1.0, -1.0, 0.5])
    h = 1e-6
    expected = (_polymul_weighted(a + h * da, b + h * db) - _polymul_weighted(a - h * da, b - h * db)) / (2 * h)
    assert ac.jvp(_polymul_weighted, wrt=(0, 1))(a, b, (da, db))[1] == pytest.approx(expected, rel=1e-7)
