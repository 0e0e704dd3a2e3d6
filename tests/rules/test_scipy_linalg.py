"""Table-driven checks of the ``scipy.linalg`` adjoint rules against central differences of SciPy's own functions,
directly and through compiled functions (test_scipy_special.check_row), with general (not symmetric, not
triangular) directions: a gradient must be zero where a function does not read its argument. Refusals;
forward mode in tests/rules/test_tangents.py."""

import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
scipy_linalg = pytest.importorskip("scipy.linalg")

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler.rules import np_linalg, registry  # noqa: E402
from adjoint_compiler.testing import check_grads  # noqa: E402
from tests.rules.test_scipy_special import Row, check_row, compiled_rows  # noqa: E402

R = np.random.default_rng(5)
L = "scipy.linalg."


def well(n, rng=R):
    return 3.0 * np.eye(n) + 0.3 * rng.standard_normal((n, n))


def spd(n, rng=R):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def _tri(kwargs, b_shape):
    name = "solve_triangular-%s-%s" % ("-".join("%s=%s" % kv for kv in kwargs.items()) or "default", b_shape)
    return Row(
        name,
        scipy_linalg.solve_triangular,
        L + "solve_triangular",
        [well(3), R.standard_normal(b_shape)],
        kwargs,
        (0, 1),
    )


SCIPY_1_15 = tuple(int(p) for p in scipy.__version__.split(".")[:2]) >= (1, 15)
# assume_a values (and whether this SciPy takes them: the structures beyond 'gen', 'sym', 'her', 'pos' are 1.15's)
STRUCTURES = [
    ("gen", True),
    ("sym", True),
    ("her", True),
    ("pos", True),
    ("positive definite", SCIPY_1_15),
    ("banded", SCIPY_1_15),
    ("diagonal", SCIPY_1_15),
    ("tridiagonal", SCIPY_1_15),
    ("upper triangular", SCIPY_1_15),
    ("lower triangular", SCIPY_1_15),
]

TABLE = [
    _tri({}, (3,)),
    _tri({"lower": True}, (3,)),
    _tri({"lower": True}, (3, 2)),
    _tri({"trans": 1}, (3, 2)),
    _tri({"trans": "T", "lower": True}, (3,)),
    _tri({"trans": 2, "lower": True}, (3, 2)),
    _tri({"trans": "N", "unit_diagonal": True}, (3,)),
    _tri({"lower": True, "unit_diagonal": True, "trans": 1}, (3, 2)),
    Row("cholesky", scipy_linalg.cholesky, L + "cholesky", [spd(3)], {}, (0,)),
    Row("cholesky-lower", scipy_linalg.cholesky, L + "cholesky", [spd(3)], {"lower": True}, (0,)),
    Row("cholesky-1x1", scipy_linalg.cholesky, L + "cholesky", [spd(1)], {"lower": True}, (0,)),
    Row(
        "cho_solve-vector",
        scipy_linalg.cho_solve,
        L + "cho_solve",
        [scipy_linalg.cho_factor(spd(3)), R.standard_normal(3)],
        {},
        (1,),
    ),
    Row(
        "cho_solve-lower-matrix",
        scipy_linalg.cho_solve,
        L + "cho_solve",
        [scipy_linalg.cho_factor(spd(3), lower=True), R.standard_normal((3, 2))],
        {},
        (1,),
    ),
    Row("expm", scipy_linalg.expm, L + "expm", [0.5 * R.standard_normal((3, 3))], {}, (0,)),
    Row("expm-1x1", scipy_linalg.expm, L + "expm", [np.array([[0.3]])], {}, (0,)),
    Row("expm-stack", scipy_linalg.expm, L + "expm", [0.5 * R.standard_normal((2, 3, 3))], {}, (0,)),
    Row("sqrtm", scipy_linalg.sqrtm, L + "sqrtm", [spd(3)], {}, (0,)),
    Row("sqrtm-nonsymmetric", scipy_linalg.sqrtm, L + "sqrtm", [well(3)], {}, (0,)),
    Row("logm", scipy_linalg.logm, L + "logm", [spd(3)], {}, (0,)),
    Row("logm-nonsymmetric", scipy_linalg.logm, L + "logm", [well(3)], {}, (0,)),
    Row("solve", scipy_linalg.solve, L + "solve", [well(3), R.standard_normal(3)], {}, (0, 1)),
    Row("solve-matrix", scipy_linalg.solve, L + "solve", [well(3), R.standard_normal((3, 2))], {}, (0, 1)),
    # assume_a: the gradient is the derivative of what SciPy reads (a triangle, the diagonal, the band), so a is
    # not symmetric here (a symmetric direction could not tell); transposed=; a stack of matrices
    *[
        Row(
            "solve-%s-%s" % (assume, "-".join("%s=%s" % kv for kv in kw.items())),
            scipy_linalg.solve,
            L + "solve",
            [well(3) + (3.0 * np.eye(3) if "pos" in assume else 0.0), R.standard_normal(shape)],
            dict(kw, assume_a=assume),
            (0, 1),
        )
        for assume, versions in STRUCTURES
        for kw, shape in [({}, (3,)), ({"lower": True}, (3, 2)), ({"transposed": True}, (3,))]
        if versions
    ],
    Row(
        "solve-stack-sym",
        scipy_linalg.solve,
        L + "solve",
        [np.stack([well(3), well(3)]), R.standard_normal((2, 3, 2))],
        {"assume_a": "sym"},
        (0, 1),
    ),
    Row("inv", scipy_linalg.inv, L + "inv", [well(3)], {}, (0,)),
    Row("det", scipy_linalg.det, L + "det", [well(3)], {}, (0,)),
    # (np13e: solve_sylvester's rules serve second order through sqrtm, whose gradient is a Sylvester solve)
    Row(
        "solve_sylvester",
        scipy_linalg.solve_sylvester,
        L + "solve_sylvester",
        [well(3), well(3), R.standard_normal((3, 3))],
        {},
        (0, 1, 2),
    ),
    Row(
        "solve_sylvester-rectangular",
        scipy_linalg.solve_sylvester,
        L + "solve_sylvester",
        [well(2), well(3), R.standard_normal((2, 3))],
        {},
        (0, 1, 2),
    ),
]


def band(lower, upper, n, rng=R):
    # banded storage ((lower + upper + 1) x n) of a diagonally dominant band matrix (the corners solve_banded never
    # reads random too: their gradient must be 0)
    ab = 0.3 * rng.standard_normal((lower + upper + 1, n))
    ab[upper] += 3.0
    return ab


TABLE += [
    # (np13f) autograd's test: solve_banded((1, 1), R(3, 5), R(5))
    Row(
        "solve_banded-1-1",
        scipy_linalg.solve_banded,
        L + "solve_banded",
        [(1, 1), band(1, 1, 5), R.standard_normal(5)],
        {},
        (1, 2),
    ),
    Row(
        "solve_banded-2-0-matrix",
        scipy_linalg.solve_banded,
        L + "solve_banded",
        [(2, 0), band(2, 0, 4), R.standard_normal((4, 2))],
        {},
        (1, 2),
    ),
    Row(
        "solve_banded-0-2",
        scipy_linalg.solve_banded,
        L + "solve_banded",
        [(0, 2), band(0, 2, 4), R.standard_normal(4)],
        {},
        (1, 2),
    ),
    Row(
        "solve_banded-1-3",
        scipy_linalg.solve_banded,
        L + "solve_banded",
        [(1, 3), band(1, 3, 6), R.standard_normal((6, 3))],
        {},
        (1, 2),
    ),
    Row(
        "solve_banded-diagonal",
        scipy_linalg.solve_banded,
        L + "solve_banded",
        [(0, 0), band(0, 0, 3), R.standard_normal(3)],
        {},
        (1, 2),
    ),
]
# SciPy 1.15 takes stacks of matrices in scipy.linalg's functions (the rules take them whatever SciPy runs)
SCIPY_STACKS = np.lib.NumpyVersion(scipy.__version__) >= "1.15.0"
if SCIPY_STACKS:
    TABLE += [
        Row(
            "cholesky-stack", scipy_linalg.cholesky, L + "cholesky", [np.stack([spd(2), spd(2)])], {"lower": True}, (0,)
        ),
        Row("cholesky-stack-upper", scipy_linalg.cholesky, L + "cholesky", [np.stack([spd(3), spd(3)])], {}, (0,)),
        Row("sqrtm-stack", scipy_linalg.sqrtm, L + "sqrtm", [np.stack([spd(2), well(2)])], {}, (0,)),
    ]


def pivoted(n, rng=R):
    """a well-conditioned matrix whose LU factorization swaps rows (its rows of well(n), reversed)"""
    return well(n, rng)[::-1].copy()


LU = scipy_linalg.lu_factor(pivoted(4))
assert not np.array_equal(LU[1], np.arange(4))  # the rows are swapped
TABLE += [
    Row("lu_solve-%s-%s" % (kw, shape), scipy_linalg.lu_solve, L + "lu_solve", [LU, R.standard_normal(shape)], kw, (1,))
    for kw, shape in [
        ({}, (4,)),
        ({"trans": 1}, (4, 2)),
        ({"trans": 2}, (4,)),
        ({"trans": 0}, (4,)),
        ({}, (4, 3)),
    ]
]

# (session 22) NumPy's rules registered for scipy.linalg's norm, pinv and svdvals; eigvalsh (lower=, on a matrix
# that is not symmetric: the triangle read); toeplitz and circulant
TABLE += [
    Row("norm", scipy_linalg.norm, L + "norm", [R.standard_normal(4)], {}, (0,)),
    Row("norm-fro", scipy_linalg.norm, L + "norm", [R.standard_normal((3, 4))], {"ord": "fro"}, (0,)),
    Row("norm-axis", scipy_linalg.norm, L + "norm", [R.standard_normal((3, 4))], {"axis": 1, "ord": 3}, (0,)),
    Row("pinv", scipy_linalg.pinv, L + "pinv", [R.standard_normal((4, 3))], {}, (0,)),
    Row("pinv-rtol", scipy_linalg.pinv, L + "pinv", [R.standard_normal((3, 4))], {"rtol": 1e-10}, (0,)),
    Row("svdvals", scipy_linalg.svdvals, L + "svdvals", [R.standard_normal((4, 3))], {}, (0,)),
    Row("eigvalsh", scipy_linalg.eigvalsh, L + "eigvalsh", [R.standard_normal((3, 3))], {}, (0,)),
    Row("eigvalsh-upper", scipy_linalg.eigvalsh, L + "eigvalsh", [R.standard_normal((3, 3))], {"lower": False}, (0,)),
    Row("toeplitz", scipy_linalg.toeplitz, L + "toeplitz", [R.standard_normal(3)], {}, (0,)),
    Row(
        "toeplitz-c-r", scipy_linalg.toeplitz, L + "toeplitz", [R.standard_normal(3), R.standard_normal(4)], {}, (0, 1)
    ),
    Row(
        "toeplitz-tall", scipy_linalg.toeplitz, L + "toeplitz", [R.standard_normal(4), R.standard_normal(2)], {}, (0, 1)
    ),
    Row("circulant", scipy_linalg.circulant, L + "circulant", [R.standard_normal(4)], {}, (0,)),
]
# scipy23: block_diag of matrices, a vector (a row), a number (1 x 1), an empty array (a 1 x 0 block), six blocks
TABLE += [
    Row(
        "block_diag",
        scipy_linalg.block_diag,
        L + "block_diag",
        [R.standard_normal((2, 3)), R.standard_normal((3, 2))],
        {},
        (0, 1),
    ),
    Row(
        "block_diag-vector-number",
        scipy_linalg.block_diag,
        L + "block_diag",
        [R.standard_normal(3), 0.7, R.standard_normal((2, 2))],
        {},
        (0, 1, 2),
    ),
    Row(
        "block_diag-empty-six",
        scipy_linalg.block_diag,
        L + "block_diag",
        [R.standard_normal((1, 2)), np.zeros(0), R.standard_normal((2, 1)), 0.3, R.standard_normal(2), spd(2)],
        {},
        (0, 2, 3, 4, 5),
    ),
]


def _pair_rows():
    # cho_factor gives the pair (c, lower): the first element differentiated (through a compiled function)
    return [
        Row("cho_factor", scipy_linalg.cho_factor, L + "cho_factor", [spd(3)], {}, (0,)),
        Row("cho_factor-lower", scipy_linalg.cho_factor, L + "cho_factor", [spd(3)], {"lower": True}, (0,)),
        # lu_factor gives the pair (lu, piv): pivoting swaps rows here (the largest entry of a column is not on top)
        Row("lu_factor", scipy_linalg.lu_factor, L + "lu_factor", [pivoted(4)], {}, (0,)),
        # eigh gives the pair (w, v); a matrix that is not symmetric, with well separated eigenvalues
        Row("eigh", scipy_linalg.eigh, L + "eigh", [R.standard_normal((3, 3)) + np.diag([0.0, 4.0, 8.0])], {}, (0,)),
        # svd gives (U, s, Vh): NumPy's rule; the values differentiated, the vectors in test_svd_vectors_...
        Row("svd", scipy_linalg.svd, L + "svd", [R.standard_normal((4, 3))], {"full_matrices": False}, (0,)),
    ]


PAIRS = _pair_rows()


COMPILED = compiled_rows(
    TABLE + PAIRS,
    also=(
        "solve_triangular-lower=True-unit_diagonal=True-trans=1-(3, 2)",
        "solve-sym-lower=True",
        "solve-pos-transposed=True",
        "solve-tridiagonal-transposed=True",
        "solve-upper triangular-lower=True",
        "cholesky-lower",
        "cho_factor-lower",
        "lu_solve-{'trans': 1}-(4, 2)",
        "expm-stack",
        "solve_banded-1-1",
        "solve_banded-2-0-matrix",
    ),
)


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_central_differences(row):
    check_row(row)


def factor_then_solve(a, b):
    c = scipy_linalg.cho_factor(a)
    return np.sum(scipy_linalg.cho_solve(c, b) * np.arange(1.0, 4.0))


def factor_then_solve_lower(a, b):
    c, low = scipy_linalg.cho_factor(a, lower=True)
    return np.sum(scipy_linalg.cho_solve((c, low), b) * np.arange(1.0, 4.0))


def cho_factor_values(a):
    c, low = scipy_linalg.cho_factor(a)
    return np.sum(c * np.arange(1.0, 10.0).reshape(3, 3))


@pytest.mark.parametrize("f", [factor_then_solve, factor_then_solve_lower, cho_factor_values])
def test_cho_factor_and_cho_solve_through_compiled_functions(f):
    # general directions of a: the functions read one triangle of it (cho_factor's other triangle is a copy of a's)
    a, b = spd(3), R.standard_normal(3)
    args = [a, b][: f.__code__.co_argcount]
    wrt = tuple(range(len(args)))
    check_grads(f, args, wrt=wrt)
    _, t = ac.jvp(f, wrt=wrt)(*args, tuple(np.ones_like(x) for x in args))
    fd = (f(*[x + 1e-6 for x in args]) - f(*[x - 1e-6 for x in args])) / 2e-6
    assert abs(t - fd) < 1e-5 * max(1.0, abs(fd))


def test_every_rule_of_the_module_has_rows():
    from adjoint_compiler.rules import scipy_linalg as rules_module

    mine = {r.fn for r in registry.all_rules().values() if r.origin == rules_module.__name__}
    shared = {scipy_linalg.inv, scipy_linalg.det, scipy_linalg.norm, scipy_linalg.pinv, scipy_linalg.svdvals}
    assert mine == {r.fn for r in TABLE + PAIRS} - shared
    for fn, np_fn in (
        (scipy_linalg.inv, np.linalg.inv),
        (scipy_linalg.det, np.linalg.det),
        (scipy_linalg.norm, np.linalg.norm),
        (scipy_linalg.pinv, np.linalg.pinv),
    ):
        assert registry.lookup(fn).rule is registry.lookup(np_fn).rule
        assert registry.lookup(fn).origin in (np_linalg.__name__, "adjoint_compiler.rules.np_reductions")


def test_cholesky_gradient_is_zero_on_the_triangle_not_read():
    a = spd(3)
    g = np.ones((3, 3))
    rule = registry.lookup(scipy_linalg.cholesky).rule
    upper = rule(np.triu(g), scipy_linalg.cholesky(a), a)[0]
    lower = rule(np.tril(g), scipy_linalg.cholesky(a, lower=True), a, True)[0]
    assert np.all(np.tril(upper, -1) == 0.0) and np.all(np.triu(lower, 1) == 0.0)


# ---- refusals ------------------------------------------------------------------------------------------------------


def solve_assuming(a, b):
    return np.sum(scipy_linalg.solve(a, b, overwrite_b=True))


def cholesky_overwriting(a):
    return np.sum(scipy_linalg.cholesky(a, overwrite_a=True))


def triangular_overwriting(a, b):
    return np.sum(scipy_linalg.solve_triangular(a, b, lower=True, overwrite_b=True))


def cho_factor_overwriting(a):
    return np.sum(scipy_linalg.cho_factor(a, overwrite_a=True)[0])


def cho_solve_overwriting(a, b):
    return np.sum(scipy_linalg.cho_solve(scipy_linalg.cho_factor(a), b, overwrite_b=True))


@pytest.mark.parametrize(
    "f, keyword",
    [
        (solve_assuming, "overwrite_b"),
        (cholesky_overwriting, "overwrite_a"),
        (triangular_overwriting, "overwrite_b"),
        (cho_factor_overwriting, "overwrite_a"),
        (cho_solve_overwriting, "overwrite_b"),
    ],
)
def test_unmodelled_keywords_are_refused_by_name(f, keyword):
    args = [spd(3), np.ones(3)][: f.__code__.co_argcount]
    with pytest.raises(ac.CompileError, match=r"test_scipy_linalg.py:\d+:\d+: .*%s" % keyword):
        ac.grad(f)(*args)
    with pytest.raises(ac.CompileError, match=keyword):
        ac.jvp(f)(*args, np.ones_like(args[0]))


def unchecked_solves(a, b):
    # check_finite=False only skips SciPy's check of the input: honoured (np13k), the same derivative
    low = np.linalg.cholesky(a)
    x = scipy_linalg.solve_triangular(low, b, lower=True, check_finite=False)
    c = scipy_linalg.cho_factor(a, check_finite=False)
    return np.sum(np.sin(x)) + np.sum(scipy_linalg.cho_solve(c, b, check_finite=False) ** 2)


def test_check_finite_is_honoured_in_both_modes():
    rng = np.random.default_rng(13)
    ac.check_grads(unchecked_solves, (spd(3), rng.standard_normal(3)), wrt=(0, 1), modes=("rev", "fwd"))


def stacked_triangular_solve(a, b):
    return np.sum(np.sin(scipy_linalg.solve_triangular(a, b, lower=True)))


def stacked_transposed_solve(a, b):
    return np.sum(np.sin(scipy_linalg.solve_triangular(a, b, trans=1, unit_diagonal=True)))


def stacked_cho_solve(a, b):
    return np.sum(np.sin(scipy_linalg.cho_solve(scipy_linalg.cho_factor(a, lower=True), b)))


def stacked_upper_cho_solve(a, b):
    return np.sum(np.sin(scipy_linalg.cho_solve(scipy_linalg.cho_factor(a), b)))


def stacked_cholesky(a):
    return np.sum(np.sin(scipy_linalg.cholesky(a, lower=True))) + np.sum(np.cos(scipy_linalg.cholesky(a)))


def spd_stack(*batch, n=3):
    return np.reshape(np.stack([spd(n) for _ in range(int(np.prod(batch)))]), batch + (n, n))


STACKS = [
    # SciPy (1.15) batches a of (..., n, n) against b of (..., n, k) (b's batch broadcast with a's) or a 1-d b
    (stacked_triangular_solve, lambda: (spd_stack(2), R.standard_normal((2, 3, 2)))),
    (stacked_triangular_solve, lambda: (spd_stack(2), R.standard_normal(3))),
    (stacked_triangular_solve, lambda: (spd(3), R.standard_normal((2, 3, 2)))),  # one matrix, a batch of b
    (stacked_triangular_solve, lambda: (spd_stack(2, 1), R.standard_normal((4, 3, 2)))),
    (stacked_transposed_solve, lambda: (spd_stack(2), R.standard_normal((3, 2)))),
    (stacked_cho_solve, lambda: (spd(3), R.standard_normal((2, 3, 2)))),
    (stacked_cho_solve, lambda: (spd_stack(2), R.standard_normal(3))),
    (stacked_upper_cho_solve, lambda: (spd_stack(2), R.standard_normal((2, 3, 1)))),
    (stacked_cholesky, lambda: (spd_stack(2),)),
]


@pytest.mark.skipif(not SCIPY_STACKS, reason="SciPy before 1.15 takes one matrix")
@pytest.mark.parametrize("f, make", STACKS, ids=["%s-%d" % (f.__name__, k) for k, (f, _) in enumerate(STACKS)])
def test_stacks_of_matrices_and_batches_of_b(f, make):
    # first order both ways and second order (hvp: forward mode over the gradient, whose adjoint bodies solve
    # stacks) against central differences; a batch of b once went through a reshape meant for one matrix and
    # gave a wrong gradient, a stack of a raised ValueError from the emitted code
    args = make()
    wrt = tuple(range(len(args)))
    ac.check_grads(f, args, wrt=wrt, modes="rev")
    ac.check_grads(f, args, wrt=wrt, modes="fwd")
    ac.check_grads(f, args, wrt=wrt, modes="rev", order=2)


def both_triangles(c, b):
    return np.sum(scipy_linalg.cho_solve((c, np.array([True, False])), b))


@pytest.mark.skipif(not SCIPY_STACKS, reason="SciPy before 1.15 takes one matrix")
def test_a_stack_of_factors_of_both_triangles_is_refused():
    c = np.stack([np.linalg.cholesky(spd(3)), np.linalg.cholesky(spd(3)).T])
    with pytest.raises(NotImplementedError, match="both triangles"):
        ac.grad(both_triangles)(c, np.ones(3))


def banded_twice(ab, b):
    # second order: the rule is written with differentiable operations (gathers, solve_banded itself)
    return np.sum(np.sin(scipy_linalg.solve_banded((1, 2), ab, b)))


def banded_gradient_norm(ab, b):
    ab_bar, b_bar = ac.grad(banded_twice, wrt=(0, 1))(ab, b)
    return np.sum(ab_bar**2) + np.sum(b_bar**2)


def test_solve_banded_second_order_and_unread_corners():
    ab, b = band(1, 2, 5), R.standard_normal(5)
    check_grads(banded_gradient_norm, (ab, b), wrt=(0, 1))
    ab_bar = ac.grad(banded_twice)(ab, b)
    # ab[0, :2], ab[1, :1] (above the band's start) and ab[3, -1:] (below its end) are never read
    assert ab_bar[0, 0] == ab_bar[0, 1] == ab_bar[1, 0] == ab_bar[3, 4] == 0.0
    assert np.all(ab_bar[2] != 0.0)


def banded_check_finite(ab, b):
    return np.sum(scipy_linalg.solve_banded((1, 1), ab, b, check_finite=False))


def test_solve_banded_keywords_not_modelled_are_refused_by_name():
    with pytest.raises(ac.CompileError, match=r"test_scipy_linalg\.py:\d+:\d+: error: .*check_finite"):
        ac.grad(banded_check_finite)(band(1, 1, 3), np.ones(3))


# ---- np13i: lu_factor / lu_solve, differentiated in a through the factorization ------------------------------------


def lu_pair_solve(a, b):
    return np.sum(scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b) * np.arange(1.0, 5.0)[:, None])


def lu_pair_solve_t(a, b):
    return np.sum(np.sin(scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b, trans=1)))


def lu_pair_solve_c(a, b):
    factors = scipy_linalg.lu_factor(a)
    return np.sum(scipy_linalg.lu_solve(factors, b, trans=2) ** 2)


def lu_values(a):
    lu, piv = scipy_linalg.lu_factor(a)
    return np.sum(lu * np.arange(1.0, 17.0).reshape(4, 4))


@pytest.mark.parametrize("f", [lu_pair_solve, lu_pair_solve_t, lu_pair_solve_c, lu_values])
def test_lu_factor_and_lu_solve_through_compiled_functions(f):
    # the pair lu_solve(lu_factor(A), b) is solve's derivative; lu alone its factors' (rows swapped by pivoting)
    a, b = pivoted(4), R.standard_normal((4, 2))
    args = [a, b][: f.__code__.co_argcount]
    wrt = tuple(range(len(args)))
    check_grads(f, args, wrt=wrt)
    _, t = ac.jvp(f, wrt=wrt)(*args, tuple(np.ones_like(x) for x in args))
    fd = (f(*[x + 1e-6 for x in args]) - f(*[x - 1e-6 for x in args])) / 2e-6
    assert abs(t - fd) < 1e-5 * max(1.0, abs(fd))


def test_lu_pair_gradient_is_solves():
    # against an independent formula: d/dA sum(c * A^-1 b) = -A^-T c (A^-1 b)^T, d/db = A^-T c
    a, b, c = pivoted(4), R.standard_normal(4), R.standard_normal(4)

    def f(a, b):
        return np.sum(c * scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b))

    ga, gb = ac.grad(f, (0, 1))(a, b)
    x = np.linalg.solve(a, b)
    gc = np.linalg.solve(a.T, c)
    assert np.allclose(ga, -np.outer(gc, x)) and np.allclose(gb, gc)


def test_lu_pair_hessian_matches_differences_of_the_gradient():
    a, b = pivoted(3), R.standard_normal(3)

    def f(a):
        return np.sum(scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b) ** 2)

    t = R.standard_normal((3, 3))
    h = 1e-5
    fd = (ac.grad(f)(a + h * t) - ac.grad(f)(a - h * t)) / (2 * h)
    assert np.allclose(ac.hvp(f)(a, t), fd, rtol=1e-5, atol=1e-7)


@pytest.mark.skipif(not SCIPY_STACKS, reason="SciPy 1.15 batches lu_factor")
def test_lu_pair_of_a_stack():
    a = np.stack([pivoted(3), well(3)])
    b = R.standard_normal((2, 3, 2))

    def f(a, b):
        return np.sum(np.cos(scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b, trans=1)))

    check_grads(f, [a, b], wrt=(0, 1))


def lu_trans_unknown(a, b):
    return np.sum(scipy_linalg.lu_solve(scipy_linalg.lu_factor(a), b, trans=3))


def test_lu_solve_of_an_unknown_trans_is_refused():
    with pytest.raises((ac.CompileError, NotImplementedError), match="trans"):
        ac.grad(lu_trans_unknown)(pivoted(3), np.ones(3))


# ---- scipy.linalg.eigh (session 22): NumPy's rule with lower= for UPLO, both triangles, against central differences
# of losses that do not depend on each eigenvector's sign


def eigh_loss(a):
    w, v = scipy_linalg.eigh(a)
    return np.sum(w**2) + np.sum(v[:, 0] ** 2 * np.arange(1.0, 4.0)) + np.sum(v[0] ** 2 * w)


def eigh_upper_loss(a):
    w, v = scipy_linalg.eigh(a, lower=False, check_finite=False)
    return np.sum(np.sin(w)) + np.sum((v[:, 1] * v[:, 2]) ** 2)


def eigh_of_a_direction(x):
    # a symmetric matrix built from the argument: the textbook symmetric gradient applies through it
    a = np.outer(x, x) + np.diag(np.arange(1.0, 4.0))
    w, v = scipy_linalg.eigh(a)
    return w[-1] + v[0, -1] ** 2


@pytest.mark.parametrize("f", [eigh_loss, eigh_upper_loss, eigh_of_a_direction])
def test_eigh_matches_central_differences(f):
    # a matrix that is not symmetric: eigh reads one triangle, and the gradient is zero on the other
    a = R.standard_normal(3) if f is eigh_of_a_direction else R.standard_normal((3, 3)) + np.diag([0.0, 3.0, 6.0])
    ac.check_grads(f, (a,), modes=("rev", "fwd"))
    if f is not eigh_of_a_direction:
        g = ac.grad(f)(a)
        other = np.triu(g, 1) if f is eigh_loss else np.tril(g, -1)
        assert np.all(other == 0.0)


def generalized_eigh(a, b):
    return np.sum(scipy_linalg.eigh(a, b)[0])


def eigh_values_only(a):
    return np.sum(scipy_linalg.eigh(a, eigvals_only=True))


def eigh_subset(a):
    return np.sum(scipy_linalg.eigh(a, subset_by_index=[0, 1])[0])


@pytest.mark.parametrize(
    "f, args, refused",
    [
        (generalized_eigh, (spd(3), spd(3)), "generalized eigenproblem"),
        (eigh_values_only, (spd(3),), "eigvals_only=True"),
        (eigh_subset, (spd(3),), "subset_by_index"),
        (lambda a: np.sum(scipy_linalg.toeplitz(a)), (spd(3),), "two or more dimensions"),
    ],
)
def test_eigh_and_toeplitz_beyond_the_rules_are_refused_where_called(f, args, refused):
    # at compile time where the case is a literal, else when the gradient runs (as every rule's refusal of a value)
    with pytest.raises((ac.UnsupportedError, NotImplementedError), match=r"test_scipy_linalg.py:\d+:\d+: .*" + refused):
        ac.grad(f)(*args)


def svd_vector_loss(a):
    u, s, vh = scipy_linalg.svd(a, full_matrices=False, lapack_driver="gesvd")
    return np.sum(s**2) + np.sum(u[:, 0] ** 2 * np.arange(1.0, 5.0)) + vh[1, 2] ** 2


def svd_values_only(a):
    return np.sum(scipy_linalg.svd(a, compute_uv=False, check_finite=False) ** 3)


def svd_overwriting(a):
    return np.sum(scipy_linalg.svd(a, overwrite_a=True)[1])


@pytest.mark.parametrize("f", [svd_vector_loss, svd_values_only])
def test_svd_matches_central_differences(f):
    a = R.standard_normal((4, 3)) + np.vstack([np.diag([0.0, 3.0, 6.0]), np.zeros(3)])
    ac.check_grads(f, (a,), modes=("rev", "fwd"))


def test_svd_overwriting_its_argument_is_refused():
    with pytest.raises(
        (ac.UnsupportedError, NotImplementedError), match=r"test_scipy_linalg.py:\d+:\d+: .*overwrite_a"
    ):
        ac.grad(svd_overwriting)(R.standard_normal((3, 3)))


def seven_blocks(a):
    return np.sum(scipy_linalg.block_diag(a, a, a, a, a, a, a))


def test_block_diag_of_seven_arrays_is_refused_at_the_call():
    # the rule takes six blocks (a parameter each); a seventh is refused where it is written, never dropped
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_linalg.py:\d+:\d+: .*block_diag"):
        ac.grad(seven_blocks)(np.ones((2, 2)))
