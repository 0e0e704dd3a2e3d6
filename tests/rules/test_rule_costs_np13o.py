"""np13o (issue #13, the rule-cost target): np.max / np.min / np.nanmax's adjoint and tangent through
runtime.extremum_bar and extremum_dot (one comparison and one count over x, then the mask's positions), checked
against the textbook formula written out here (mask * (g / count), the split of ties), exactly, at ties, NaNs,
dtypes, axes and empty arrays, and compiled gradients against central differences."""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import runtime
from adjoint_compiler.testing import check_grads


def textbook_bar(g, x, ans, axis, keepdims, skip_nan):
    kept = ans if keepdims or axis is None else np.expand_dims(ans, axis)
    hit = x == kept
    count = np.sum(hit, axis=axis, keepdims=True)
    count = np.maximum(count, 1) if skip_nan else count
    g = np.reshape(np.asarray(g, ans.dtype if ans.dtype.kind == "f" else None), np.shape(kept))  # (x's precision)
    with np.errstate(divide="ignore", invalid="ignore"):
        return hit * (g / np.asarray(count, ans.dtype))


def check_against_textbook(x, ans, axis, keepdims, skip_nan, tangent_rtol=1e-15):
    """extremum_bar and extremum_dot at a random cotangent and tangent against textbook_bar and textbook_dot."""
    g = np.random.default_rng(1).standard_normal(np.shape(ans))
    if np.ndim(ans) == 0:
        g = float(g)
    bar = runtime.extremum_bar(g, x, ans, axis, keepdims, skip_nan)
    expected = textbook_bar(g, x, ans, axis, keepdims, skip_nan)
    assert bar.dtype == expected.dtype and bar.shape == x.shape
    assert np.array_equal(bar, expected, equal_nan=True)
    dot = np.random.default_rng(2).standard_normal(x.shape)
    tangent = runtime.extremum_dot(dot, x, ans, axis, keepdims, skip_nan)
    expected = textbook_dot(dot, x, ans, axis, keepdims, skip_nan)
    assert np.shape(tangent) == np.shape(expected) and np.asarray(tangent).dtype == np.asarray(expected).dtype
    assert np.allclose(tangent, expected, rtol=tangent_rtol, atol=0, equal_nan=True)


def textbook_dot(dot, x, ans, axis, keepdims, skip_nan):
    kept = ans if keepdims or axis is None else np.expand_dims(ans, axis)
    hit = x == kept
    count = np.sum(hit, axis=axis, keepdims=True)
    count = np.maximum(count, 1) if skip_nan else count
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(hit * (dot / np.asarray(count, ans.dtype)), axis=axis, keepdims=keepdims)


def arrays():
    rng = np.random.default_rng(5)
    few = np.round(rng.standard_normal((6, 40)) * 2)  # many ties in each slice, and a sparse mask overall
    sparse_ties = rng.standard_normal((50, 60))
    sparse_ties[3, 7] = sparse_ties[3, 9] = sparse_ties.max() + 1.0  # one tie in a big array: the sparse path
    sparse_ties[:, 11] = sparse_ties.max(axis=1)  # each row's maximum tied with column 11
    nan = rng.standard_normal((40, 30))
    nan[2, 5] = np.nan
    all_nan = rng.standard_normal((40, 30))
    all_nan[4, :] = np.nan
    return [
        ("random", rng.standard_normal((30, 40))),
        ("rounded", few),
        ("sparse-ties", sparse_ties),
        ("constant", np.full((4, 5), 2.0)),
        ("nan", nan),
        ("all-nan-row", all_nan),
        ("float32", rng.standard_normal((20, 30)).astype(np.float32)),
        ("int", rng.integers(0, 1000, (20, 30))),
        ("empty-rows", np.zeros((0, 5))),
        ("3d", rng.standard_normal((5, 6, 7))),
    ]


AXES = [(None, False), (None, True), (0, False), (1, True), (-1, False), ((0, 1), False), ((0, 1), True)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, x", arrays(), ids=[n for n, _ in arrays()])
@pytest.mark.parametrize("axis, keepdims", AXES)
@pytest.mark.parametrize("fn, skip_nan", [(np.max, False), (np.min, False), (np.nanmax, True), (np.nanmin, True)])
def test_extremum_helpers_equal_the_textbook_formula(name, x, axis, keepdims, fn, skip_nan):
    try:
        ans = fn(x, axis=axis, keepdims=keepdims)
    except ValueError:  # a reduction of an empty slice: nothing to differentiate
        return
    check_against_textbook(x, ans, axis, keepdims, skip_nan)


def test_a_cotangent_that_is_not_finite_gives_the_textbook_formula():
    x = np.array([[1.0, 3.0, 2.0], [0.0, -1.0, 5.0]])
    ans = np.max(x, axis=1)
    g = np.array([np.inf, 1.0])
    assert np.array_equal(runtime.extremum_bar(g, x, ans, 1), textbook_bar(g, x, ans, 1, False, False), equal_nan=True)


@pytest.mark.parametrize("fn", [np.max, np.min, np.amax, np.nanmax, np.nanmin])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_compiled_gradient_and_jvp_match_central_differences(fn, axis):
    x = np.random.default_rng(3).standard_normal((60, 70))  # no tie: differentiable
    w = np.random.default_rng(4).standard_normal(np.shape(fn(x, axis=axis)))

    def f(x):
        return np.sum(fn(x, axis=axis) * w)

    assert check_grads(f, (x,), directions=3, eps=1e-6, rtol=1e-6, seed=0) < 1e-6
    v = np.random.default_rng(6).standard_normal(x.shape)
    value, tangent = ac.jvp(f)(x, v)
    h = 1e-6
    assert abs(tangent - (f(x + h * v) - f(x - h * v)) / (2 * h)) < 1e-6 * max(1.0, abs(tangent))


def test_tied_maxima_share_the_cotangent_in_a_large_array():
    # hand-derived: the three tied maxima of a 10^5-element vector get a third each (the sparse path)
    x = np.linspace(-1.0, 0.0, 100_000)
    x[[10, 500, 99_000]] = 7.0
    g = ac.grad(lambda x: 3.0 * np.max(x))(x)
    assert g[10] == g[500] == g[99_000] == 1.0 and np.count_nonzero(g) == 3
    g = ac.grad(lambda x: np.sum(np.max(x.reshape(100, 1000), axis=1)))(x)
    assert g[10] == g[500] == 0.5 and g[99_000] == 1.0 and np.sum(g) == 100.0


def test_second_derivative_of_max_is_zero():
    x = np.random.default_rng(8).standard_normal(50)
    v = np.random.default_rng(9).standard_normal(50)
    assert np.array_equal(ac.hvp(lambda x: np.max(x) * 2.0)(x, v), np.zeros(50))


# ---- np.linalg.norm at vector ord 1: runtime.sign_times, sign(x) times the spread cotangent in one new array ----


@pytest.mark.parametrize(
    "c, a",
    [
        (2.5, np.array([1.0, -2.0, 0.0, 3.0])),
        (np.array([1.0, -2.0]), np.array([[0.0, -1.0], [4.0, 2.0]])),  # broadcast
        (np.ones((3, 2)), np.array([1.0, -1.0])),  # c larger than a: not in place
        (np.float32(2.0), np.array([1.0, -1.0, 0.0], np.float32)),
        (0.5, np.array([3, -1, 0])),  # an int sign times a float: a new float array
    ],
)
def test_sign_times_is_the_product_with_sign(c, a):
    out = runtime.sign_times(c, a)
    expected = c * np.sign(a)
    assert out.dtype == expected.dtype and np.array_equal(out, expected)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True)])
def test_norm_one_gradient_matches_central_differences(axis, keepdims):
    x = np.random.default_rng(10).standard_normal((30, 40))
    w = np.random.default_rng(11).standard_normal(np.shape(np.linalg.norm(x[0] if axis is None else x, 1)))

    def f(x):
        if axis is None:
            return np.sum(np.linalg.norm(x[0], 1) * w) + np.linalg.norm(np.ravel(x), ord=1)
        return np.sum(np.linalg.norm(x, ord=1, axis=axis, keepdims=keepdims) * w)

    assert check_grads(f, (x,), directions=3, eps=1e-6, rtol=1e-6, seed=0) < 1e-6


def test_norm_one_gradient_at_a_zero_element_is_zero():
    # hand-derived: d|x|_1/dx = sign(x), the subgradient 0 at a zero element
    g = ac.grad(lambda x: 2.0 * np.linalg.norm(x, 1))(np.array([3.0, 0.0, -1.0]))
    assert g.tolist() == [2.0, 0.0, -2.0]


@pytest.mark.parametrize("fn", [np.max, np.nanmin])
def test_max_along_an_axis_of_many_slices(fn):
    # 5000 slices: the seed's spread cotangent of the 5000 maxima is a runtime.Spread (one number over a shape)
    x = np.random.default_rng(12).standard_normal((5000, 3))
    g = ac.grad(lambda x: np.sum(fn(x, axis=1)))(x)
    expected = (x == fn(x, axis=1, keepdims=True)).astype(float)  # hand-derived: 1 at each row's extremum
    assert np.array_equal(g, expected)
    g = ac.grad(lambda x: np.sum(fn(x, axis=1) * 2.0))(np.round(x))  # rounded: ties in some rows
    rounded = np.round(x)
    hit = rounded == fn(rounded, axis=1, keepdims=True)
    assert np.allclose(g, 2.0 * hit / np.sum(hit, axis=1, keepdims=True), rtol=1e-15, atol=0)
