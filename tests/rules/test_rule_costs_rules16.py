"""rules16 (issue #13, the rule-cost target): np.max / np.min along an axis compare x with the slices' extrema in a
buffer of one row (runtime._equal_kept) and find the mask's positions from its 8-byte words (_true_positions);
lu_inverse (det, slogdet) runs getri in blocks of 16 to 64 columns by order and returns one matrix's inverse
without a copy. Checked against the textbook formula of np13o written out (mask * (g / count), exactly) on arrays
whose rows take the new paths (200 to 8191 elements, sizes a multiple of 8 and not, C- and F-ordered, ties, NaN,
-0.0, infinities, float32, integers), against np.flatnonzero and x == kept, compiled gradients against central
differences and hand-derived shares, and lu_inverse against np.linalg.inv at orders of each block size."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from tests.rules.test_rule_costs import gradient_error, weights
from tests.rules.test_rule_costs_np13o import check_against_textbook


def arrays():
    rng = np.random.default_rng(16)
    ties = np.round(rng.standard_normal((40, 256)) * 2)  # many ties in each row: a dense mask
    sparse_ties = rng.standard_normal((30, 300))
    sparse_ties[:, 17] = sparse_ties.max(axis=1)  # each row's maximum tied with column 17
    sparse_ties[4, 200] = sparse_ties[4, 9] = sparse_ties.max() + 1.0
    nan = rng.standard_normal((40, 250))
    nan[3, 7] = np.nan
    nan_and_tie = rng.standard_normal((24, 400))  # as many elements equal to ans as rows: one row none, one two
    nan_and_tie[2, 5] = np.nan
    nan_and_tie[9, 30] = nan_and_tie[9].max()
    all_nan = rng.standard_normal((32, 333))  # 10656 elements: a multiple of 8 (the word scan)
    all_nan[5] = np.nan
    zeros = -np.abs(rng.standard_normal((48, 208)))
    zeros[:, 3] = 0.0
    zeros[:, 100] = -0.0  # 0.0 == -0.0: tied
    infinite = rng.standard_normal((48, 210))
    infinite[1, 4] = np.inf
    infinite[7, :] = -np.inf
    return [
        ("random", rng.standard_normal((50, 1000))),
        ("odd-size", rng.standard_normal((47, 201))),  # 9447 elements: np.flatnonzero, not the word scan
        ("dense-ties", ties),
        ("sparse-ties", sparse_ties),
        ("nan", nan),
        ("nan-and-tie", nan_and_tie),
        ("all-nan-row", all_nan),
        ("signed-zeros", zeros),
        ("infinite", infinite),
        ("float32", rng.standard_normal((20, 512)).astype(np.float32)),
        ("int", rng.integers(0, 10**6, (30, 300))),
        ("fortran", np.asfortranarray(rng.standard_normal((300, 40)))),
        ("3d", rng.standard_normal((3, 12, 256))),
        ("long-rows", rng.standard_normal((2, 9000))),  # a row longer than NumPy's buffer: the default
        ("one-buffer", rng.standard_normal((6, 300))),  # no longer than NumPy's buffer: the default
    ]


AXES = [(0, False), (1, True), (-1, False), ((0, 1), False), ((0, -1), True), (None, False)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, x", arrays(), ids=[n for n, _ in arrays()])
@pytest.mark.parametrize("axis, keepdims", AXES)
@pytest.mark.parametrize("fn, skip_nan", [(np.max, False), (np.min, False), (np.nanmax, True), (np.nanmin, True)])
def test_extremum_helpers_equal_the_textbook_formula_on_long_rows(name, x, axis, keepdims, fn, skip_nan):
    ans = fn(x, axis=axis, keepdims=keepdims)
    # (the tangent: a sum over up to 96 tied elements, in another order than np.sum's pairwise one: n eps apart)
    check_against_textbook(x, ans, axis, keepdims, skip_nan, tangent_rtol=1e-13)
    assert np.getbufsize() == 8192  # (put back)


@pytest.mark.parametrize(
    "shape, axis",
    [((1000, 300), 1), ((1000, 300), 0), ((5, 8191), 1), ((300, 199), 1), ((4, 6, 250), (0, 2)), ((3, 250), 1)],
)
def test_equal_kept_is_the_comparison_and_puts_the_buffer_size_back(shape, axis):
    x = np.round(np.random.default_rng(3).standard_normal(shape), 1)  # ties
    kept = np.max(x, axis=axis, keepdims=True)
    hit = runtime._equal_kept(x, kept)
    assert hit.dtype == bool and np.array_equal(hit, x == kept)
    assert np.getbufsize() == 8192
    with pytest.raises(ValueError):  # (shapes that do not broadcast: the buffer size is put back all the same)
        runtime._equal_kept(x, np.ones((7,) + shape[1:-1] + (1,)))
    assert np.getbufsize() == 8192


@pytest.mark.parametrize(
    "mask",
    [
        np.random.default_rng(4).random(10**5) < 0.001,
        np.random.default_rng(5).random((300, 256)) < 0.01,
        np.random.default_rng(6).random(1001) < 0.01,  # not a multiple of 8
        (np.random.default_rng(7).random((64, 64)) < 0.02)[:, ::2],  # not contiguous
        np.zeros(4096, bool),
        np.zeros(0, bool),
        np.ones(16, bool),
    ],
)
def test_true_positions_are_flatnonzero_up_to_the_limit(mask):
    expected = np.flatnonzero(mask)
    assert np.array_equal(runtime._true_positions(mask, len(expected)), expected)
    assert np.array_equal(runtime._true_positions(mask, mask.size), expected)
    if len(expected):
        assert runtime._true_positions(mask, len(expected) - 1) is None


def test_true_positions_of_trues_in_every_byte_of_a_word():
    mask = np.zeros(64, bool)
    mask[[0, 7, 8, 15, 16, 17, 18, 19, 20, 21, 22, 23, 63]] = True  # hand-picked: word ends, a full word
    assert runtime._true_positions(mask, 13).tolist() == [0, 7, 8, 15, 16, 17, 18, 19, 20, 21, 22, 23, 63]
    assert runtime._true_positions(mask, 12) is None


@pytest.mark.parametrize("fn", [np.max, np.min, np.nanmax])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gradient_along_long_rows_matches_central_differences(fn, axis):
    x = np.random.default_rng(8).standard_normal((40, 300))  # no tie: differentiable
    w = weights(np.shape(fn(x, axis=axis)))
    assert gradient_error(lambda x: np.sum(fn(x, axis=axis) * w), x) < 1e-6
    # hand-derived: w at each slice's extremum, 0 elsewhere
    expected = np.where(x == fn(x, axis=axis, keepdims=True), np.expand_dims(w, axis), 0.0)
    assert np.array_equal(ac.grad(lambda x: np.sum(fn(x, axis=axis) * w))(x), expected)


def test_tied_maxima_of_long_rows_share_the_cotangent():
    # hand-derived: row 0's maximum at three places gets a third each, row 1's at two a half each
    x = np.linspace(-1.0, 0.0, 2 * 400).reshape(2, 400)
    x[0, [3, 200, 399]] = 5.0
    x[1, [0, 7]] = 2.0
    g = ac.grad(lambda x: np.sum(np.max(x, axis=1) * np.array([3.0, 4.0])))(x)
    assert g[0, 3] == g[0, 200] == g[0, 399] == 1.0 and g[1, 0] == g[1, 7] == 2.0
    assert np.count_nonzero(g) == 5
    g = ac.grad(lambda x: np.sum(np.min(x, axis=0)))(x)  # each column's minimum: row 0 except at the 5.0s
    assert np.sum(g) == 400.0 and g[1, 3] == g[1, 200] == g[1, 399] == 1.0 and g[0, 0] == 1.0


# ---- lu_inverse: getri's block size by order ----------------------------------------------------------------


@pytest.mark.parametrize("n", (16, 200, 300, 800))  # blocks of 16, 16, 25 and 64 columns
@pytest.mark.parametrize("stack", [(), (1,), (2,)])
def test_lu_inverse_is_numpys_inverse_at_each_block_size(n, stack):
    if n == 800 and stack == (2,):
        pytest.skip("(the stack's loop is the same at every order)")
    a = np.random.default_rng(n).standard_normal(stack + (n, n)) + 3 * np.sqrt(n) * np.eye(n)
    inv = runtime.lu_inverse(a)
    assert inv.shape == a.shape and inv.dtype == a.dtype and inv.flags.c_contiguous and inv.flags.writeable
    assert np.allclose(inv, np.linalg.inv(a), rtol=1e-12, atol=1e-14)
    assert np.allclose(np.matmul(a, inv), np.eye(n), atol=1e-12)


def test_lu_inverse_of_a_stack_with_a_singular_matrix_raises_as_numpy():
    a = np.stack([np.eye(20), np.ones((20, 20))])
    with pytest.raises(np.linalg.LinAlgError):
        runtime.lu_inverse(a)


def test_det_and_slogdet_of_200_by_200_match_central_differences_and_the_inverse():
    a = np.eye(200) + np.random.default_rng(9).standard_normal((200, 200)) / np.sqrt(200)
    assert gradient_error(lambda a: np.linalg.slogdet(a)[1], a) < 1e-6
    assert gradient_error(lambda a: np.linalg.det(a), a) < 1e-6
    # hand-derived: d log|det A| / dA = A^-T, d det A / dA = det(A) A^-T
    inv_t = np.linalg.inv(a).T
    assert np.allclose(ac.grad(lambda a: np.linalg.slogdet(a)[1])(a), inv_t, rtol=1e-10, atol=1e-12)
    assert np.allclose(ac.grad(lambda a: np.linalg.det(a))(a), np.linalg.det(a) * inv_t, rtol=1e-10, atol=1e-12)
