"""np13m (issue #13, the rule-cost target): the rules made cheaper for benchmarks/rule_costs.py -- max/min, the
vector norms 1 and inf, det, cholesky (runtime.triangular_inverse), cumprod, einsum (runtime.einsum_route) --
checked against central differences at a small and a large size (the large one takes the fast paths: LAPACK's
trtri from n = 16, einsum's BLAS route from 2^16 multiplications), and their second derivatives against central
differences of the gradient."""

import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline, runtime
from adjoint_compiler.testing import check_grads
from tests.rules.numpy_versions import NUMPY2

SIZES = (4, 40)


def spd(n, rng, stack=()):
    x = rng.standard_normal(stack + (n, n))
    return np.matmul(x, np.swapaxes(x, -1, -2)) + n * np.eye(n)


def weights(shape, seed=7):
    return np.random.default_rng(seed).standard_normal(shape)


def gradient_error(f, x, seed=0):
    """The largest relative error of ac.grad(f)(x) along 3 random directions against central differences."""
    return check_grads(f, (x,), directions=3, eps=1e-6, rtol=1e-6, seed=seed)


def hvp_error(f, x, seed=0):
    """|H v - (grad f(x + h v) - grad f(x - h v)) / 2h| / max(1, |H v|), H v twice: from the vjp of f's compiled
    gradient (reverse over reverse) and from ac.hvp (forward over reverse)."""
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    grad, h = ac.grad(f), 1e-5
    fd = (grad(x + h * v) - grad(x - h * v)) / (2 * h)
    _, pullback = ac.vjp(pipeline.compile(f, (0,)).function)(x)
    rr = pullback((0.0, v))
    fr = ac.hvp(f)(x, v)
    scale = max(1.0, float(np.max(np.abs(fd))))
    return max(float(np.max(np.abs(rr - fd))), float(np.max(np.abs(fr - fd)))) / scale


# ---- max / min: one mask, the share computed in the reduced shape ---------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("fn", [np.max, np.min])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (1, False), ((0, 1), True), (-1, True)])
def test_extremum_matches_central_differences(fn, axis, keepdims, n):
    x = np.random.default_rng(n).standard_normal((n, n + 1))
    w = weights(np.shape(fn(x, axis=axis, keepdims=keepdims)))

    def f(x):
        return np.sum(fn(x, axis=axis, keepdims=keepdims) * w)

    assert gradient_error(f, x) < 1e-6


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_extremum_splits_a_tie_equally(axis):
    # hand-derived: the tied elements of each slice share its cotangent (autograd's and JAX's convention)
    x = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    g = ac.grad(lambda x: np.sum(np.max(x, axis=axis) * np.arange(1.0, 1.0 + np.size(np.max(x, axis=axis)))))(x)
    expected = {
        None: [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]],
        0: [[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]],
        1: [[0.5, 0.0, 0.5], [1.0, 1.0, 0.0]],
    }[axis]
    assert g.tolist() == expected


def test_extremum_keeps_float32():
    x = np.array([1.0, 5.0, 5.0, 2.0], dtype=np.float32)
    g = ac.grad(lambda x: np.max(x))(x)
    assert g.dtype == np.float32 and g.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_extremum_of_integers_gets_a_float_share():
    from adjoint_compiler.rules.np_reductions import extremum_adjoint

    x = np.array([[1, 4], [4, 2]])
    bar = extremum_adjoint(np.ones(2), np.max(x, axis=0), x, 0)[0]
    assert bar.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    bar = extremum_adjoint(1.0, np.max(x), x)[0]
    assert bar.tolist() == [[0.0, 0.5], [0.5, 0.0]]


def test_extremum_tangent_matches_central_differences():
    x = np.random.default_rng(3).standard_normal((5, 6))
    v = np.random.default_rng(4).standard_normal((5, 6))
    for axis in (None, 0, 1):

        def f(x):
            return np.max(x, axis=axis)

        _, dot = ac.jvp(f)(x, v)
        h = 1e-6
        assert np.allclose(dot, (f(x + h * v) - f(x - h * v)) / (2 * h), rtol=1e-6, atol=1e-8)


# ---- vector norms 1 and inf -------------------------------------------------------------------------------


# ord written at the call (a closure's np.inf is not: see the report of np13m)
NORMS = {
    "1": lambda x: np.linalg.norm(x, ord=1) ** 2,
    "inf": lambda x: np.linalg.norm(x, ord=np.inf) ** 2,
    "-inf": lambda x: np.linalg.norm(x, ord=-np.inf) ** 2,
    "3": lambda x: np.linalg.norm(x, ord=3) ** 2,
}


@pytest.mark.parametrize("n", (5, 10_000))
@pytest.mark.parametrize("ord", sorted(NORMS))
def test_vector_norm_matches_central_differences(ord, n):
    x = np.random.default_rng(n).standard_normal(n)
    assert gradient_error(NORMS[ord], x) < 1e-6


W6 = weights(6)
AXIS_NORMS = {
    "1": lambda x: np.sum(np.linalg.norm(x, ord=1, axis=1) * W6),
    "inf": lambda x: np.sum(np.linalg.norm(x, ord=np.inf, axis=1) * W6),
}


@pytest.mark.parametrize("ord", sorted(AXIS_NORMS))
def test_vector_norm_along_an_axis_matches_central_differences(ord):
    x = np.random.default_rng(1).standard_normal((6, 7))
    assert gradient_error(AXIS_NORMS[ord], x) < 1e-6


def test_vector_norm_kinks_are_hand_derived_subgradients():
    # ord 1: sign(x), 0 at a zero element; inf: sign(x) split between the tied largest |x|
    x = np.array([-2.0, 0.0, 1.0, 2.0])
    assert ac.grad(lambda x: np.linalg.norm(x, ord=1))(x).tolist() == [-1.0, 0.0, 1.0, 1.0]
    assert ac.grad(lambda x: np.linalg.norm(x, ord=np.inf))(x).tolist() == [-0.5, 0.0, 0.0, 0.5]
    assert ac.grad(lambda x: np.linalg.norm(x, ord=1))(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


# ---- det: the forward answer passed to cofactors ----------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_det_matches_central_differences(n):
    rng = np.random.default_rng(n)
    a = np.eye(n) + rng.standard_normal((n, n)) / np.sqrt(n)

    def f(a):
        return np.linalg.det(a)

    assert gradient_error(f, a) < 1e-6


def test_det_of_a_stack_with_a_singular_matrix_is_the_adjugate():
    # hand-derived: adj([[1, 2], [2, 4]])^T = [[4, -2], [-2, 1]]; [[2, 1], [0, 3]]: det 6, cofactors [[3, 0], [-1, 2]]
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 3.0]]])
    g = ac.grad(lambda a: np.sum(np.linalg.det(a)))(a)
    assert np.allclose(g, [[[4.0, -2.0], [-2.0, 1.0]], [[3.0, 0.0], [-1.0, 2.0]]], atol=1e-12)


def test_cofactors_with_and_without_the_determinant_agree():
    a = np.random.default_rng(0).standard_normal((3, 5, 5))
    assert np.allclose(runtime.cofactors(a, np.linalg.det(a)), runtime.cofactors(a), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", (3, 20))
def test_det_second_derivative_matches_central_differences(n):
    a = np.eye(n) + np.random.default_rng(n).standard_normal((n, n)) / np.sqrt(n)
    w = weights((n, n))
    assert hvp_error(lambda a: np.linalg.det(a * w + a), a) < 1e-5


# ---- cholesky: L^-1 by LAPACK's trtri --------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_central_differences(n, upper):
    a = spd(n, np.random.default_rng(n))
    w = weights((n, n))

    def f(a):
        return np.sum(np.linalg.cholesky(a, upper=upper) * w) if upper else np.sum(np.linalg.cholesky(a) * w)

    if upper and not NUMPY2:
        pytest.skip("np.linalg.cholesky(upper=) is NumPy 2's")
    assert gradient_error(f, a) < 1e-6


@pytest.mark.parametrize("n", SIZES)
def test_cholesky_of_a_stack_matches_central_differences(n):
    a = spd(n, np.random.default_rng(n), stack=(3,))
    w = weights((3, n, n))
    assert gradient_error(lambda a: np.sum(np.linalg.cholesky(a) * w), a) < 1e-6


@pytest.mark.parametrize("n", (3, 20))
def test_cholesky_second_derivative_matches_central_differences(n):
    a = spd(n, np.random.default_rng(n))
    w = weights((n, n))
    assert hvp_error(lambda a: np.sum(np.sin(np.linalg.cholesky(a) * w)), a) < 1e-5


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_triangular_inverse_reads_one_triangle(n, lower, dtype):
    rng = np.random.default_rng(n)
    m = (rng.standard_normal((2, n, n)) + 3 * np.sqrt(n) * np.eye(n)).astype(dtype)
    t = np.tril(m) if lower else np.triu(m)
    inv = runtime.triangular_inverse(m, lower)
    assert inv.dtype == dtype and inv.shape == m.shape
    assert np.allclose(inv, np.linalg.inv(t), rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-6)
    assert np.all((np.triu(inv, 1) if lower else np.tril(inv, -1)) == 0)


def test_triangular_inverse_without_scipy(monkeypatch):
    # SciPy is optional: without it, np.linalg.inv of the triangle
    monkeypatch.setitem(sys.modules, "scipy.linalg", None)
    m = spd(20, np.random.default_rng(0))
    assert np.allclose(runtime.triangular_inverse(m), np.linalg.inv(np.tril(m)), rtol=1e-12, atol=1e-14)


def test_triangular_inverse_of_a_singular_matrix_raises_as_numpy():
    m = np.tril(np.ones((20, 20)))
    m[5, 5] = 0.0
    with pytest.raises(np.linalg.LinAlgError):
        runtime.triangular_inverse(m)


# ---- cumprod: no zero bookkeeping without a zero -----------------------------------------------------------------


@pytest.mark.parametrize("n", (6, 2000))
@pytest.mark.parametrize("zeros", [(), (2,), (2, 4)])
def test_cumprod_matches_central_differences(n, zeros):
    x = 1.0 + 0.1 * np.random.default_rng(n).standard_normal(n)
    x[list(zeros)] = 0.0
    w = weights(n)
    assert gradient_error(lambda x: np.sum(np.cumprod(x) * w), x) < 1e-6


@pytest.mark.parametrize("axis", [0, 1])
def test_cumprod_along_an_axis_matches_central_differences(axis):
    x = 1.0 + 0.2 * np.random.default_rng(axis).standard_normal((5, 6))
    x[1, 2] = 0.0
    w = weights((5, 6))
    assert gradient_error(lambda x: np.sum(np.cumprod(x, axis=axis) * w), x) < 1e-6


@pytest.mark.parametrize("zero", [False, True])
def test_cumprod_second_derivative_and_tangent_match_central_differences(zero):
    x = 1.0 + 0.2 * np.random.default_rng(5).standard_normal(7)
    if zero:
        x[3] = 0.0
    w = weights(7)
    assert hvp_error(lambda x: np.sum(np.cumprod(x) * w) ** 2, x) < 1e-5
    v, h = weights(7, seed=8), 1e-6
    _, dot = ac.jvp(np.cumprod)(x, v)
    assert np.allclose(dot, (np.cumprod(x + h * v) - np.cumprod(x - h * v)) / (2 * h), rtol=1e-6, atol=1e-8)


# ---- einsum: BLAS for a big contraction ----------------------------------------------------------------------------


def test_einsum_route():
    big, small = np.ones((60, 70)), np.ones((70, 50))
    assert runtime.einsum_route("ij,jk->ik", False, big, small) == ["einsum_path", (0, 1)]
    assert runtime.einsum_route("ij,jk->ik", False, np.ones((3, 4)), np.ones((4, 5))) is False
    assert runtime.einsum_route("ij,ij->ij", False, big, big) is False  # nothing contracted
    assert runtime.einsum_route("ij,jk->ik", "greedy", big, small) == "greedy"  # the user's
    assert runtime.einsum_route("...j,jk->...k", False, big, small) is False  # '...': left to NumPy's loop


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((60, 70), (70, 50))])
@pytest.mark.parametrize("spec", ["ij,jk->ik", "ij,kj->ki", "ij,jk"])
def test_einsum_matches_central_differences(spec, shapes):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0])
    b = rng.standard_normal(shapes[1] if spec != "ij,kj->ki" else shapes[1][::-1])
    w = weights(np.shape(np.einsum(spec, a, b)))

    def f(a, b):
        return np.sum(np.einsum(spec, a, b) * w)

    assert check_grads(f, (a, b), wrt=(0, 1), eps=1e-6, rtol=1e-6) < 1e-6


@pytest.mark.parametrize("n", (3, 40))
def test_einsum_three_operands_match_central_differences(n):
    rng = np.random.default_rng(n)
    a, b, c = rng.standard_normal((n, n + 1)), rng.standard_normal((n + 1, n + 2)), rng.standard_normal(n + 2)

    def f(a, b, c):
        return np.sum(np.einsum("ij,jk,k->i", a, b, c) ** 2)

    assert check_grads(f, (a, b, c), wrt=(0, 1, 2), eps=1e-6, rtol=1e-6) < 1e-6


def test_einsum_big_contraction_second_derivative():
    b = np.random.default_rng(1).standard_normal((50, 60))
    a = np.random.default_rng(2).standard_normal((40, 50))
    assert hvp_error(lambda a: np.sum(np.einsum("ij,jk->ik", a, b) ** 3), a) < 1e-5
