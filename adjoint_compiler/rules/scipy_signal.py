"""Adjoints of ``scipy.signal.convolve``, ``correlate`` and ``fftconvolve`` (real N-d arrays, modes ``'full'``,
``'same'``, ``'valid'``), ``convolve2d`` and ``correlate2d`` (``boundary='fill'`` with ``fillvalue=0``, zeros
around ``in1``: convolve's and correlate's 2-d case but for ``correlate2d``'s ``'same'``, centred from the other
end; ``'wrap'`` and ``'symm'``, through ``in1`` padded with its copies; another fill value refused), ``lfilter``
(in ``b``, ``a`` and ``x``; ``zi=`` refused), and of the runtime helpers their rules call.

Registered only where SciPy is installed and the user imports ``scipy.signal`` (rules/__init__.py). Each is
linear in each operand, so forward mode applies the call itself to the tangents (``linear="each"``). The full
convolution ``y = a * b`` has the adjoints ``a_bar = correlate(y_bar, b, 'valid')`` and ``b_bar =
correlate(y_bar, a, 'valid')``; modes ``'same'`` and ``'valid'`` keep the middle of the full result
(``runtime.centered``), so their cotangent is first put back in the middle of zeros (``runtime.centered_pad``,
its adjoint). ``correlate(a, b)`` is ``convolve(a, flip(b))``. ``method=`` (``'auto'``, ``'direct'``, ``'fft'``; SciPy
raises for any other) is passed on to the adjoint's own correlations; ``fftconvolve``'s ``axes=`` is not a
parameter of its rule, so a call passing it is refused by name.

Invariant: each cotangent has its operand's shape, for every mode and either operand the larger.

>>> import numpy as np, scipy.signal
>>> from adjoint_compiler.rules import registry
>>> a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0])
>>> scipy.signal.convolve(a, b, "valid").tolist()  # (a[0], a[1]): a shift
[1.0, 2.0]
>>> registry.lookup(scipy.signal.convolve).rule(np.ones(2), None, a, b, "valid")[0].tolist()
[1.0, 1.0, 0.0]
"""

import numpy as np
from scipy import signal as scipy_signal

from adjoint_compiler.rules.registry import adjoint, fragment, tangent
from adjoint_compiler.runtime import centered_pad, is_none, linalg_check, no_derivative


@adjoint(scipy_signal.convolve, linear="each")
def convolve_adjoint(g, ans, in1, in2, mode="full", method="auto"):
    full = g if mode == "full" else centered_pad(g, np.add(np.shape(in1), np.shape(in2)) - 1)
    return (
        scipy_signal.correlate(full, in2, mode="valid", method=method),
        scipy_signal.correlate(full, in1, mode="valid", method=method),
        None,
        None,
    )


@adjoint(scipy_signal.correlate, linear="each")
def correlate_adjoint(g, ans, in1, in2, mode="full", method="auto"):
    # convolve(in1, flip(in2)): in2's cotangent is the flipped cotangent of flip(in2)
    full = g if mode == "full" else centered_pad(g, np.add(np.shape(in1), np.shape(in2)) - 1)
    return (
        scipy_signal.convolve(full, in2, mode="valid", method=method),
        np.flip(scipy_signal.correlate(full, in1, mode="valid", method=method)),
        None,
        None,
    )


@adjoint(scipy_signal.fftconvolve, linear="each")
def fftconvolve_adjoint(g, ans, in1, in2, mode="full"):
    full = g if mode == "full" else centered_pad(g, np.add(np.shape(in1), np.shape(in2)) - 1)
    return (
        scipy_signal.fftconvolve(full, np.flip(in2), mode="valid"),
        scipy_signal.fftconvolve(full, np.flip(in1), mode="valid"),
        None,
    )


# ---- convolve2d, correlate2d: in1 surrounded by zeros (boundary='fill', fillvalue=0), by its periodic copies
# (boundary='wrap') or its mirror images (boundary='symm'). Modes 'full' and 'same' of the last two are the 'valid'
# convolution (correlation) of P = in1[rows][:, cols], in1 padded by K - 1 rows and L - 1 columns of its copies at
# wrapped or mirrored indices (boundary_index), cut as the mode cuts; so in1's cotangent is P's folded back onto in1
# (folded, the adjoint of that gather, in O(size)), and in2's that of a 'valid' convolution of P. Mode 'valid' never
# reads the boundary.


@fragment
def zero_filled(x, boundary, fillvalue):
    # x, where the boundary is modelled: another fillvalue than 0 (an affine map of in1) refused
    ok = linalg_check(
        boundary in ("wrap", "circular", "symm", "symmetric") or (boundary in ("fill", "pad") and fillvalue == 0),
        "scipy.signal.convolve2d/correlate2d with a fillvalue other than 0",
    )
    return x if ok else None


@fragment
def boundary_index(n, pad, boundary, mode):
    # the entries of in1 at -pad .. n + pad - 1 along an axis: wrapped (period n), or mirrored (period 2 n, the edge
    # repeated, as SciPy's 'symm'); None where in1 is zero-filled or the mode reads no boundary
    j = np.arange(-pad, n + pad)
    t = j % (2 * n)
    wrapped = j % n if boundary in ("wrap", "circular") else np.minimum(t, 2 * n - 1 - t)
    return None if mode == "valid" or boundary in ("fill", "pad") else wrapped


@fragment
def folded(c, n, pad, boundary, axis, mode):
    # the adjoint of taking boundary_index's entries along the axis: c padded with zeros to whole periods on both
    # sides (its entry -pad at a multiple of the period), its periods summed, the mirrored half flipped back
    period = n if boundary in ("wrap", "circular") else 2 * n
    front = -(-pad // period) * period - pad
    widths = ((front, front + period - n), (0, 0)) if axis == 0 else ((0, 0), (front, front + period - n))
    whole = np.pad(c, widths)
    shape = (-1, period, np.shape(whole)[1]) if axis == 0 else (np.shape(whole)[0], -1, period)
    s = np.sum(np.reshape(whole, shape), axis=axis)
    ends = s[:n] + np.flip(s[n:], 0) if axis == 0 else s[:, :n] + np.flip(s[:, n:], 1)
    back = s if boundary in ("wrap", "circular") else ends
    return None if mode == "valid" or boundary in ("fill", "pad") else back


@adjoint(scipy_signal.convolve2d)
def convolve2d_adjoint(g, ans, in1, in2, mode="full", boundary="fill", fillvalue=0):
    checked = zero_filled(g, boundary, fillvalue)
    full = checked if mode == "full" else centered_pad(checked, np.add(np.shape(in1), np.shape(in2)) - 1)
    rows = boundary_index(np.shape(in1)[0], np.shape(in2)[0] - 1, boundary, mode)
    cols = boundary_index(np.shape(in1)[1], np.shape(in2)[1] - 1, boundary, mode)
    wide = None if mode == "valid" or boundary in ("fill", "pad") else scipy_signal.correlate(full, in2, mode="full")
    wide_rows = folded(wide, np.shape(in1)[0], np.shape(in2)[0] - 1, boundary, 0, mode)
    wide_bar = folded(wide_rows, np.shape(in1)[1], np.shape(in2)[1] - 1, boundary, 1, mode)
    return (
        scipy_signal.correlate(full, in2, mode="valid") if mode == "valid" or boundary in ("fill", "pad") else wide_bar,
        scipy_signal.correlate(full, in1, mode="valid")
        if mode == "valid" or boundary in ("fill", "pad")
        else np.flip(scipy_signal.correlate(in1[rows][:, cols], full, mode="valid")),
        None,
        None,
        no_derivative("scipy.signal.convolve2d", "fillvalue", "the fill value is a constant here"),
    )


@tangent(scipy_signal.convolve2d)
def convolve2d_tangent(dot, ans, in1, in2, mode="full", boundary="fill", fillvalue=0):
    d = zero_filled(dot, boundary, fillvalue)
    return (
        scipy_signal.convolve2d(d, in2, mode, boundary),
        scipy_signal.convolve2d(in1, d, mode, boundary),
        None,
        None,
        no_derivative("scipy.signal.convolve2d", "fillvalue", "the fill value is a constant here"),
    )


@adjoint(scipy_signal.correlate2d)
def correlate2d_adjoint(g, ans, in1, in2, mode="full", boundary="fill", fillvalue=0):
    # correlate(in1, in2) of 2-d arrays; its 'same' keeps the block of the full result K // 2 from the start (K:
    # in2's length), convolve's (K - 1) // 2: as flip(convolve2d(flip(in1), in2, 'same'))
    checked = zero_filled(g, boundary, fillvalue)
    shape = np.add(np.shape(in1), np.shape(in2)) - 1
    full = (
        checked
        if mode == "full"
        else np.flip(centered_pad(np.flip(checked), shape))
        if mode == "same"
        else centered_pad(checked, shape)
    )
    rows = boundary_index(np.shape(in1)[0], np.shape(in2)[0] - 1, boundary, mode)
    cols = boundary_index(np.shape(in1)[1], np.shape(in2)[1] - 1, boundary, mode)
    wide = None if mode == "valid" or boundary in ("fill", "pad") else scipy_signal.convolve(full, in2, mode="full")
    wide_rows = folded(wide, np.shape(in1)[0], np.shape(in2)[0] - 1, boundary, 0, mode)
    wide_bar = folded(wide_rows, np.shape(in1)[1], np.shape(in2)[1] - 1, boundary, 1, mode)
    return (
        scipy_signal.convolve(full, in2, mode="valid") if mode == "valid" or boundary in ("fill", "pad") else wide_bar,
        np.flip(scipy_signal.correlate(full, in1, mode="valid"))
        if mode == "valid" or boundary in ("fill", "pad")
        else scipy_signal.correlate(in1[rows][:, cols], full, mode="valid"),
        None,
        None,
        no_derivative("scipy.signal.correlate2d", "fillvalue", "the fill value is a constant here"),
    )


@tangent(scipy_signal.correlate2d)
def correlate2d_tangent(dot, ans, in1, in2, mode="full", boundary="fill", fillvalue=0):
    d = zero_filled(dot, boundary, fillvalue)
    return (
        scipy_signal.correlate2d(d, in2, mode, boundary),
        scipy_signal.correlate2d(in1, d, mode, boundary),
        None,
        None,
        no_derivative("scipy.signal.correlate2d", "fillvalue", "the fill value is a constant here"),
    )


# ---- lfilter: y = (B / A) x, causal, from a zero state


@fragment
def lagged_sums(v, u, count, axis):
    # sum_n v[n] u[n - k] along the axis, summed over the other axes, for k = 0 .. count - 1 (zero past u's length):
    # with the axis last and the others one, the middle row of the 2-d correlation is the sum of the rows'
    rows_v = np.reshape(np.moveaxis(v, axis, -1), (-1, np.shape(v)[axis]))
    rows_u = np.reshape(np.moveaxis(u, axis, -1), (-1, np.shape(u)[axis]))
    lags = scipy_signal.correlate(rows_v, rows_u, "full")[np.shape(rows_v)[0] - 1, np.shape(rows_u)[1] - 1 :]
    return np.pad(lags, (0, np.maximum(count - np.shape(lags)[0], 0)))[:count]


@adjoint(scipy_signal.lfilter)
def lfilter_adjoint(g, ans, b, a, x, axis=-1, zi=None):
    # The filter is a lower-triangular Toeplitz operator H along the axis, whose transpose is H reversed in time:
    # x_bar = flip(lfilter(b, a, flip(g))). With v = flip(lfilter(1, a, flip(g))) (1/A's transpose applied to g),
    # dy/db_k = (1/A) z^-k x and dy/da_k = -(1/A) z^-k y give b_bar_k = sum_n v[n] x[n - k] and a_bar_k =
    # -sum_n v[n] y[n - k] (k = 0 too: lfilter divides by a[0]). zi= (a start state, and a second result) refused.
    checked = g if linalg_check(is_none(zi), "scipy.signal.lfilter(..., zi=...) (a start state)") else None
    back = np.flip(checked, axis)
    v = np.flip(scipy_signal.lfilter(np.ones(1), a, back, axis), axis)
    b_bar = lagged_sums(v, x, np.shape(b)[0], axis)
    a_bar = lagged_sums(v, ans, np.shape(a)[0], axis)
    return b_bar, -a_bar, np.flip(scipy_signal.lfilter(b, a, back, axis), axis), None, None


@tangent(scipy_signal.lfilter)
def lfilter_tangent(dot, ans, b, a, x, axis=-1, zi=None):
    d = dot if linalg_check(is_none(zi), "scipy.signal.lfilter(..., zi=...) (a start state)") else None
    return (
        scipy_signal.lfilter(d, a, x, axis),
        -scipy_signal.lfilter(d, a, ans, axis),
        scipy_signal.lfilter(b, a, d, axis),
        None,
        None,
    )
