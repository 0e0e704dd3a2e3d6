"""Table-driven checks of the ``scipy.signal`` convolution rules against central differences of SciPy's own
functions, directly and through compiled functions (test_scipy_special.check_row): every mode, method, 1-d and
2-d operands, either operand the larger. Refusals; forward mode in tests/rules/test_tangents.py."""

import numpy as np
import pytest

scipy_signal = pytest.importorskip("scipy.signal")

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler import runtime  # noqa: E402
from adjoint_compiler.rules import registry  # noqa: E402
from tests.rules.test_scipy_special import Row, check_row, compiled_rows  # noqa: E402

R = np.random.default_rng(3)
SHAPES = [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((4, 5), (2, 3)), ((2, 3), (4, 5)), ((1,), (1,))]


def _rows(fn, methods, shapes=SHAPES):
    out = []
    for sa, sb in shapes:
        for mode in ("full", "same", "valid"):
            for method in methods:
                kwargs = {"mode": mode} if method is None else {"mode": mode, "method": method}
                name = "%s-%s-%s-%s-%s" % (fn.__name__, sa, sb, mode, method)
                out.append(
                    Row(
                        name,
                        fn,
                        "scipy.signal." + fn.__name__,
                        [R.standard_normal(sa), R.standard_normal(sb)],
                        kwargs,
                        (0, 1),
                    )
                )
    return out


TABLE = [
    *_rows(scipy_signal.convolve, ["auto", "direct", "fft"], SHAPES[:4]),
    *_rows(scipy_signal.convolve, [None], SHAPES[4:]),
    *_rows(scipy_signal.correlate, ["auto", "direct", "fft"], SHAPES[:4]),
    *_rows(scipy_signal.correlate, [None], SHAPES[4:]),
    *_rows(scipy_signal.fftconvolve, [None]),
    # (session 22) the 2-d functions with zeros around in1: every mode, either operand the larger, even and odd
    # kernel sides (correlate2d's 'same' is centred from the other end), the fill keywords given
    *_rows(scipy_signal.convolve2d, [None], SHAPES[3:5] + [((4, 4), (2, 2)), ((5, 6), (3, 4))]),
    *_rows(scipy_signal.correlate2d, [None], SHAPES[3:5] + [((4, 4), (2, 2)), ((5, 6), (3, 4))]),
    # (scipy23) boundary='wrap' and 'symm' (their spellings 'circular' and 'symmetric' too): every mode, the kernel
    # smaller, larger than in1 on one side, or larger on both (padding by more than in1's own length)
    *[
        Row(
            "%s-%s-%s-%s-%s" % (fn.__name__, boundary, mode, sa, sb),
            fn,
            "scipy.signal." + fn.__name__,
            [R.standard_normal(sa), R.standard_normal(sb)],
            {"mode": mode, "boundary": boundary},
            (0, 1),
        )
        for fn in (scipy_signal.convolve2d, scipy_signal.correlate2d)
        for boundary in ("wrap", "symm")
        for sa, sb in (((4, 5), (2, 3)), ((3, 4), (4, 2)), ((2, 3), (5, 7)))
        for mode in ("full", "same", "valid")
        if mode != "valid" or sa[0] >= sb[0] and sa[1] >= sb[1]
    ],
    Row(
        "convolve2d-circular",
        scipy_signal.convolve2d,
        "scipy.signal.convolve2d",
        [R.standard_normal((4, 5)), R.standard_normal((3, 2))],
        {"mode": "same", "boundary": "circular"},
        (0, 1),
    ),
    Row(
        "correlate2d-symmetric",
        scipy_signal.correlate2d,
        "scipy.signal.correlate2d",
        [R.standard_normal((4, 5)), R.standard_normal((3, 2))],
        {"mode": "full", "boundary": "symmetric"},
        (0, 1),
    ),
    Row(
        "correlate2d-fill-given",
        scipy_signal.correlate2d,
        "scipy.signal.correlate2d",
        [R.standard_normal((4, 5)), R.standard_normal((2, 2))],
        {"mode": "same", "boundary": "fill", "fillvalue": 0},
        (0, 1),
    ),
    # lfilter in b, a (a[0] too) and x: an IIR filter, 1-d and along either axis of a 2-d x, b longer than x
    Row(
        "lfilter",
        scipy_signal.lfilter,
        "scipy.signal.lfilter",
        [np.array([0.5, 0.3, 0.1]), np.array([1.2, -0.4, 0.1]), R.standard_normal(8)],
        {},
        (0, 1, 2),
    ),
    Row(
        "lfilter-2d-axis0",
        scipy_signal.lfilter,
        "scipy.signal.lfilter",
        [np.array([0.5, 0.3]), np.array([1.0, -0.6, 0.2]), R.standard_normal((5, 3))],
        {"axis": 0},
        (0, 1, 2),
    ),
    Row(
        "lfilter-2d-last",
        scipy_signal.lfilter,
        "scipy.signal.lfilter",
        [np.array([0.5, 0.3, 0.2, 0.1, 0.4]), np.array([0.9, 0.3]), R.standard_normal((2, 3))],
        {},
        (0, 1, 2),
    ),
    Row(
        "convolve-positional-mode",
        scipy_signal.convolve,
        "scipy.signal.convolve",
        [R.standard_normal(6), R.standard_normal(2), "same"],
        {},
        (0, 1),
    ),
    Row(
        "convolve-default",
        scipy_signal.convolve,
        "scipy.signal.convolve",
        [R.standard_normal(6), R.standard_normal(2)],
        {},
        (0, 1),
    ),
    Row(
        "convolve-first-only",
        scipy_signal.convolve,
        "scipy.signal.convolve",
        [R.standard_normal(6), R.standard_normal(2)],
        {},
        (0,),
    ),
]


COMPILED = compiled_rows(
    TABLE,
    also=(
        "convolve-(4, 5)-(2, 3)-same-auto",
        "correlate-(3,)-(5,)-valid-auto",
        "correlate2d-(4, 4)-(2, 2)-same-None",
        "convolve2d-(2, 3)-(4, 5)-valid-None",
    ),
)


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_central_differences(row):
    check_row(row)


HELPER_ROWS = [
    Row("centered", runtime.centered, "runtime.centered", [R.standard_normal((5, 6)), (3, 2)], {}, (0,)),
    Row("centered_pad", runtime.centered_pad, "runtime.centered_pad", [R.standard_normal((3, 2)), (5, 6)], {}, (0,)),
]


@pytest.mark.parametrize("row", HELPER_ROWS, ids=[r.name for r in HELPER_ROWS])
def test_helper_rules_match_central_differences(row):
    check_row(row)


def test_every_rule_of_the_module_has_rows():
    from adjoint_compiler.rules import scipy_signal as rules_module

    mine = {r.fn for r in registry.all_rules().values() if r.origin == rules_module.__name__}
    # (HELPER_ROWS: runtime helpers, whose rules are in runtime_rules.py; lfilter_from_state: STATES, its pair)
    assert mine == {r.fn for r in TABLE} | {rules_module.lfilter_from_state}


def test_centered_is_where_scipy_cuts():
    a, b = R.standard_normal((5, 4)), R.standard_normal((2, 3))
    full = scipy_signal.convolve(a, b)
    for mode in ("same", "valid"):
        cut = scipy_signal.convolve(a, b, mode=mode)
        assert np.array_equal(runtime.centered(full, cut.shape), cut)


# ---- refusals -------------------------------------------------------------------------------------------------------


def along_axes(a, b):
    return np.sum(scipy_signal.fftconvolve(a, b, axes=1))


def test_fftconvolve_axes_is_refused_by_name():
    with pytest.raises(ac.CompileError, match=r"test_scipy_signal.py:\d+:\d+: .*axes"):
        ac.grad(along_axes)(np.ones((2, 3)), np.ones((1, 2)))


def blurred_with_ones(x, k):
    return np.sum(scipy_signal.correlate2d(x, k, "same", fillvalue=1.0) ** 2)


def blurred_fill_differentiated(x, c):
    return np.sum(scipy_signal.convolve2d(x, np.ones((2, 2)), fillvalue=c))


@pytest.mark.parametrize(
    "f, refused",
    [
        (blurred_with_ones, "fillvalue other than 0"),
    ],
)
def test_other_boundaries_are_refused_at_the_call(f, refused):
    args = (R.standard_normal((4, 4)), R.standard_normal((2, 2)))
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_signal.py:\d+:\d+: .*" + refused):
        ac.grad(f)(*args)
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_signal.py:\d+:\d+: .*" + refused):
        ac.jvp(f)(*args, np.ones((4, 4)))


def blurred_with_wrap(x, k):
    return np.sum(scipy_signal.convolve2d(x, k, "same", boundary="wrap") ** 2) + np.sum(
        scipy_signal.correlate2d(x, k, "full", boundary="symm") ** 2
    )


def test_wrap_and_symm_boundaries_at_second_order():
    # scipy23: once refused; the adjoint bodies (matrix products with the padding's rows) differentiated again
    args = (R.standard_normal((4, 4)), R.standard_normal((2, 3)))
    ac.check_grads(blurred_with_wrap, args, wrt=(0, 1), modes=("rev", "fwd"))
    ac.check_grads(blurred_with_wrap, args, wrt=(0, 1), modes=("rev",), order=2)


def test_a_differentiated_fill_value_is_refused_by_name():
    with pytest.raises(ac.UnsupportedError, match=r"test_scipy_signal.py:\d+:\d+: .*fillvalue"):
        ac.grad(blurred_fill_differentiated, wrt=1)(R.standard_normal((3, 3)), 0.0)


# scipy24: lfilter from a start state zi, (y, zf) = lfilter(b, a, x, axis, zi), in b, a (a[0] too), x and zi, both
# results: x longer and shorter than the state, b or a the longer, along either axis of a 2-d x
STATES = [
    (np.array([0.5, 0.3, 0.1]), np.array([1.2, -0.4]), R.standard_normal(7), -1),
    (np.array([0.5, 0.3]), np.array([1.6, -0.4, 0.2, 0.1]), R.standard_normal(9), -1),
    (np.array([0.5, 0.3, 0.2]), np.array([1.3, 0.2, -0.3]), R.standard_normal(2), -1),
    (np.array([0.5, 0.3, 0.2, 0.1]), np.array([0.9, 0.3]), R.standard_normal(1), -1),
    (np.array([0.5, 0.3, 0.1]), np.array([1.2, -0.4]), R.standard_normal((5, 3)), 0),
    (np.array([0.5, 0.3]), np.array([1.1, -0.4, 0.2]), R.standard_normal((2, 6)), -1),
]


@pytest.mark.parametrize("case", range(len(STATES)))
def test_lfilter_from_a_state_matches_central_differences_of_both_results(case):
    from adjoint_compiler.rules.scipy_signal import lfilter_from_state

    b, a, x, axis = STATES[case]
    zshape = list(np.shape(x))
    zshape[axis] = max(len(a), len(b)) - 1
    args = [b, a, x, axis, R.standard_normal(zshape)]
    y, zf = scipy_signal.lfilter(*args)
    gy, gz = R.standard_normal(np.shape(y)), R.standard_normal(np.shape(zf))
    bars = registry.lookup(lfilter_from_state).rule((gy, gz), (y, zf), *args)
    for i in (0, 1, 2, 4):
        assert np.shape(bars[i]) == np.shape(args[i])
        d = R.standard_normal(np.shape(args[i]))
        plus, minus = list(args), list(args)
        plus[i], minus[i] = args[i] + 1e-6 * d, args[i] - 1e-6 * d
        (yp, zp), (ym, zm) = scipy_signal.lfilter(*plus), scipy_signal.lfilter(*minus)
        fd = (np.sum(gy * (yp - ym)) + np.sum(gz * (zp - zm))) / 2e-6
        assert np.sum(bars[i] * d) == pytest.approx(fd, rel=1e-6, abs=1e-9), (case, i)


def filtered_from_a_state(b, a, x, zi):
    y, zf = scipy_signal.lfilter(b, a, x, zi=zi)
    return np.sum(np.sin(y)) + np.sum(zf * zf)


def filtered_from_a_state_positional(b, a, x, zi):
    out = scipy_signal.lfilter(b, a, x, 0, zi)
    return np.sum(out[0] ** 2) + np.sum(np.cos(out[1]))


def test_lfilter_from_a_state_through_compiled_functions_in_both_modes_and_at_second_order():
    args = (np.array([0.5, 0.3, 0.1]), np.array([1.2, -0.4]), R.standard_normal(7), R.standard_normal(2))
    ac.check_grads(filtered_from_a_state, args, wrt=(0, 1, 2, 3), modes=("rev", "fwd"))
    ac.check_grads(filtered_from_a_state, args, wrt=(0, 1, 2, 3), modes=("rev",), order=2)
    args = (np.array([0.5, 0.3]), np.array([1.1, -0.4, 0.2]), R.standard_normal((5, 3)), R.standard_normal((2, 3)))
    ac.check_grads(filtered_from_a_state_positional, args, wrt=(0, 1, 2, 3), modes=("rev", "fwd"))


def filtered_from_no_state(x):
    return np.sum(scipy_signal.lfilter(np.array([0.5, 0.5]), np.array([1.0, -0.5]), x, zi=None))


def test_lfilter_with_zi_none_written_is_refused_at_the_call():
    with pytest.raises((ac.UnsupportedError, NotImplementedError), match=r"test_scipy_signal.py:\d+:\d+: .*zi=None"):
        ac.grad(filtered_from_no_state)(R.standard_normal(5))
