"""reverse.loops._store_once: in the adjoint of ``for i in range(n)`` reading the scalar ``xs[i]``, the update
``xs_bar[i] += g`` of a buffer made fresh (zeros) just before the loop, and named nowhere else in it, is a
plain store ``xs_bar[i] = g`` (each element written once, onto its 0.0). Where an element may be written
twice (an inner loop, a start that may be negative, a second read after the loop), or holds an array, the
update stays. Where the loop stores into every slot (each index of ``range(len(xs))``, at the top of its
body), only the length of the zeros matters: ``zeros_like(xs, filled=True)``. Gradients against central differences of
the original functions and hand-derived values."""

import re

import numpy as np
import pytest

import adjoint_compiler as ac


def _central(f, args, k, h=1e-6):
    """Central differences of scalar ``f`` in the list argument ``args[k]``, element by element."""
    out = []
    for j in range(len(args[k])):
        hi, lo = list(args), list(args)
        hi[k], lo[k] = list(args[k]), list(args[k])
        hi[k][j] += h
        lo[k][j] -= h
        out.append((f(*hi) - f(*lo)) / (2 * h))
    return out


def _stores(f, wrt):
    text = ac.adjoint_source(f, wrt)
    return re.findall(r"\w+_bar\[\w+\] \+?= ", text)


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def test_horner_stores_each_coefficients_gradient_once():
    coeffs, x = [0.5, -1.5, 2.0, 0.25, 3.0], 0.7
    g, gx = ac.grad(horner, wrt=(0, 1))(coeffs, x)
    n = len(coeffs)
    assert g == pytest.approx([x ** (n - 1 - k) for k in range(n)], rel=1e-14)  # by hand
    assert all(type(v) is float for v in g)
    assert gx == pytest.approx(sum(c * (n - 1 - k) * x ** (n - 2 - k) for k, c in enumerate(coeffs[:-1])), rel=1e-13)
    assert _stores(horner, (0, 1)) == ["coeffs_bar[_t1] = "]


def enumerate_both(xs, ws):
    s = 0.0
    for i, (x, w) in enumerate(zip(xs, ws)):
        s = s + i * x * w + x * x
    return s


def test_enumerate_zip_stores_both():
    xs, ws = [0.3, -1.1, 2.0], [1.5, 0.5, -0.25]
    gx, gw = ac.grad(enumerate_both, wrt=(0, 1))(xs, ws)
    assert gx == pytest.approx([i * w + 2 * x for i, (x, w) in enumerate(zip(xs, ws))], rel=1e-14)
    assert gw == pytest.approx([i * x for i, x in enumerate(xs)], rel=1e-14)
    assert all("+=" not in s for s in _stores(enumerate_both, (0, 1)))


def read_in_inner_loop(xs, y, m):
    s = 0.0
    for i in range(len(xs)):
        for j in range(m):
            s = s + xs[i] * y * (j + 1)
    return s


def test_an_element_read_in_an_inner_loop_is_added_every_time():
    xs = [0.3, -1.1, 2.0]
    g = ac.grad(read_in_inner_loop)(xs, 1.5, 3)
    assert g == pytest.approx([1.5 * 6] * 3, rel=1e-14)
    assert g == pytest.approx(_central(read_in_inner_loop, [xs, 1.5, 3], 0), rel=1e-7)
    assert all("+=" in s for s in _stores(read_in_inner_loop, 0))


def from_start(xs, k):
    s = 0.0
    for i in range(k, 2):
        s = s + xs[i] * xs[i]
    return s


def test_a_start_that_may_be_negative_keeps_adding():
    # range(-2, 2) on three elements: -2 and 1 are the same element, read twice
    xs = [0.3, -1.1, 2.0]
    g = ac.grad(from_start)(xs, -2)
    assert g == pytest.approx([2 * 0.3, 4 * -1.1, 2 * 2.0], rel=1e-14)
    assert g == pytest.approx(_central(from_start, [xs, -2], 0), rel=1e-7)
    assert _stores(from_start, 0) == ["xs_bar[i] += "]


def from_one(xs):
    s = 0.0
    for i in range(1, len(xs)):
        s = s + xs[i] * xs[i - 1]
    return s


def test_a_literal_start_and_a_second_index():
    xs = [0.3, -1.1, 2.0, 0.5]
    g = ac.grad(from_one)(xs)
    assert g == pytest.approx([-1.1, 0.3 + 2.0, -1.1 + 0.5, 2.0], rel=1e-14)
    assert g == pytest.approx(_central(from_one, [xs], 0), rel=1e-7)


def read_after_too(xs, x):
    s = 0.0
    for c in xs:
        s = s * x + c
    return s + xs[1] * 3.0


def test_a_buffer_with_contributions_before_the_loop_keeps_adding():
    xs = [0.5, -1.5, 2.0]
    g = ac.grad(read_after_too)(xs, 0.7)
    assert g == pytest.approx([0.49, 0.7 + 3.0, 1.0], rel=1e-14)
    assert g == pytest.approx(_central(read_after_too, [xs, 0.7], 0), rel=1e-7)
    assert "xs_bar[_t1] += " in _stores(read_after_too, 0)


def branch_reads(xs):
    s = 0.0
    for i in range(len(xs)):
        if xs[i] > 0.0:
            s = s + xs[i] * xs[i]
        else:
            s = s - 3.0 * xs[i]
    return s


def test_in_a_branch():
    xs = [0.3, -1.1, 2.0]
    g = ac.grad(branch_reads)(xs)
    assert g == pytest.approx([0.6, -3.0, 4.0], rel=1e-14)
    assert g == pytest.approx(_central(branch_reads, [xs], 0), rel=1e-7)


def array_elements(xs, w):
    s = 0.0
    for v in xs:
        s = s + np.sum(v * w)
    return s


def test_array_elements_keep_adding():
    # an element that is an array: storing the cotangent would share it, so the update stays
    xs = [np.array([1.0, 2.0]), np.array([3.0, -1.0])]
    w = np.array([0.5, -2.0])
    g = ac.grad(array_elements)(xs, w)
    for gi in g:
        np.testing.assert_allclose(gi, w, rtol=1e-14)
    assert all("+=" in s for s in _stores(array_elements, 0))


def array_argument(v, x):
    acc = 0.0
    for i in range(len(v)):
        acc = acc * x + v[i]
    return acc


def test_a_float_array_buffer():
    v = np.array([0.5, -1.5, 2.0, 0.25])
    g = ac.grad(array_argument)(v, 0.7)
    np.testing.assert_allclose(g, [0.7**3, 0.7**2, 0.7, 1.0], rtol=1e-14)
    assert type(g) is np.ndarray and g.dtype == np.float64
    assert _stores(array_argument, 0) == ["v_bar[i] = "]


def _buffers(f, wrt):
    return re.findall(r"\w+_bar = zeros_like\([^)]*\)", ac.adjoint_source(f, wrt))


def test_a_loop_over_every_slot_needs_only_the_length_of_its_zeros():
    # every index of range(len(xs)) (or of for c in xs) stored at the top of the body: zeros_like(xs, filled=True)
    assert _buffers(horner, 0) == ["coeffs_bar = zeros_like(coeffs, filled=True)"]
    assert _buffers(array_argument, 0) == ["v_bar = zeros_like(v, filled=True)"]
    # a start, a range not over the list's length, an element stored in a branch: the zeros as they were
    assert _buffers(from_one, 0) == ["xs_bar = zeros_like(xs)"]
    assert _buffers(branch_reads, 0) == ["xs_bar = zeros_like(xs)"]
    assert _buffers(read_after_too, 0) == ["xs_bar = zeros_like(xs)"]


def first_slots(xs, n):
    s = 0.0
    for i in range(n):
        s = s * 0.5 + xs[i] * xs[i]
    return s


@pytest.mark.parametrize(
    "coeffs",
    [
        [0.5, -1.5, 2.0, 0.25, 3.0],
        [0.5, 2, True, -1.5],  # ints and a bool (whose gradient is 0.0)
        [1, 2, 3],
        [0.5, np.float64(-1.5), 2.0],
        [np.float64(0.5), 1.0],
        [0.25],
        [],
        [0.5, float("nan"), float("inf"), 1.0],
    ],
)
def test_filled_zeros_give_the_gradient_of_every_list(coeffs):
    x = 0.7
    got = ac.grad(horner, (0, 1))(coeffs, x)
    n = len(coeffs)
    want = [0.0 if type(c) is bool else x ** (n - 1 - k) for k, c in enumerate(coeffs)]
    assert all(type(v) is float for v in got[0])
    np.testing.assert_allclose(got[0], want, rtol=1e-14)
    floats = [float(c) for c in coeffs]
    if all(np.isfinite(floats)):
        assert got[0] == pytest.approx(
            [w if type(c) is not bool else 0.0 for w, c in zip(_central(horner, [floats, x], 0), coeffs)], rel=1e-7
        )
        dx = sum((n - 1 - k) * c * x ** (n - 2 - k) for k, c in enumerate(floats) if k < n - 1)
        assert got[1] == pytest.approx(dx, rel=1e-14)
    else:
        assert np.isnan(got[1])


def test_filled_zeros_of_a_list_not_all_walked_stay_zeros():
    # range(n) with n < len(xs): the slots the loop leaves are 0.0 (zeros as they were: no filled zeros)
    xs = [0.5, -1.5, 2.0, 0.25]
    assert _buffers(first_slots, 0) == ["xs_bar = zeros_like(xs)"]
    g = ac.grad(first_slots)(xs, 2)
    assert g == pytest.approx([2 * 0.5 * 0.5, 2 * -1.5, 0.0, 0.0], rel=1e-14)


def test_filled_zeros_second_order_and_numba():
    coeffs, x = [0.5, -1.5, 2.0], 0.7
    # d/dcoeffs of d/dx horner = (2 x, 1, 0); d2/dx2 = 2 * 0.5
    assert ac.grad(lambda c, x: ac.grad(horner, 1)(c, x), 0)(coeffs, x) == pytest.approx([2 * x, 1.0, 0.0], rel=1e-14)
    assert ac.hessian(horner, 1)(coeffs, x) == pytest.approx(1.0, rel=1e-14)
    pytest.importorskip("numba")
    v = np.array([0.5, -1.5, 2.0, 0.25])
    g = ac.grad(array_argument, 0, backend="numba")(v, 0.7)
    np.testing.assert_allclose(g, [0.7**3, 0.7**2, 0.7, 1.0], rtol=1e-14)
