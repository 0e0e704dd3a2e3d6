"""Adjoints of ``scipy.signal.convolve``, ``correlate`` and ``fftconvolve`` (real N-d arrays, modes ``'full'``,
``'same'``, ``'valid'``), ``convolve2d`` and ``correlate2d`` (``boundary='fill'`` with ``fillvalue=0``, zeros
around ``in1``: convolve's and correlate's 2-d case but for ``correlate2d``'s ``'same'``, centred from the other
end; ``'wrap'`` and ``'symm'``, through ``in1`` padded with its copies; another fill value refused), ``lfilter``
(in ``b``, ``a`` and ``x``; with a start state ``zi=``, its pair ``(y, zf)`` in ``zi`` too: ``lfilter_from_state``),
and of the runtime helpers their rules call.

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

from adjoint_compiler.rules.registry import adjoint, form, fragment, tangent
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
    # -sum_n v[n] y[n - k] (k = 0 too: lfilter divides by a[0]). A call passing zi= is lfilter_from_state's (below).
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


# ---- lfilter from a start state (scipy24): lfilter(b, a, x, zi=zi) returns (y, zf), differentiated as
# lfilter_from_state (registry.form: a call passing zi). Along the axis, with M = max(len(a), len(b)) - 1, N = len(x),
# a0 = a[0] and zi_pad = zi cut or padded to N: A y = B x + a0 zi_pad (the state enters as an input at times
# 0 .. M - 1), and the final state is zf = (Tb x_tail - Ta y_tail) / a0 + zi[N:] (zi's part not yet consumed where
# N < M), with x_tail, y_tail the last M samples (zeros before time 0) and Ta[k, t] = a[k + M - t] for k <= t (0
# above): each a sum of the last samples (transposed direct form II, as SciPy runs it). Linear in x and zi, in b and a
# as lfilter's zero-state rules; zf's cotangent flows to the tails (and so into y's), to the taps, to a0 and to zi.


def lfilter_from_state(b, a, x, axis=-1, zi=None):
    """``scipy.signal.lfilter(b, a, x, axis, zi)`` with a start state: the pair (y, zf)."""
    return scipy_signal.lfilter(b, a, x, axis, zi)


form(scipy_signal.lfilter, lfilter_from_state, positional=5, keywords=("zi",))


@fragment
def state_taps(c, order):
    # the M x M matrix of c[k + M - t] for k <= t (0 elsewhere, and past c's length)
    index = np.arange(order)[:, None] + order - np.arange(order)[None, :]
    padded = np.pad(c, (0, 2 * order + 1 - np.shape(c)[0]))
    return padded[index] * (np.arange(order)[:, None] <= np.arange(order)[None, :])


@fragment
def tap_sums(p, count, order):
    # sum of p[k, t] over k <= t with k + M - t == j, for j = 0 .. count - 1 (state_taps' adjoint)
    index = np.arange(order)[:, None] + order - np.arange(order)[None, :]
    upper = np.arange(order)[:, None] <= np.arange(order)[None, :]
    return np.tensordot((np.arange(count)[:, None, None] == index) * upper, p, 2)


@fragment
def tail(rows, order, n):
    # the last M samples of each row, zeros before time 0
    return np.pad(rows, ((0, 0), (np.maximum(order - n, 0), 0)))[:, np.maximum(n - order, 0) :]


@fragment
def untail(rows, order, n):
    # tail's adjoint: the M samples put back at times N - M .. N - 1 (those before 0 dropped)
    return np.pad(rows, ((0, 0), (np.maximum(n - order, 0), 0)))[:, np.maximum(order - n, 0) :]


@fragment
def along_last(v, axis, length):
    # the rows (-1, length) of v with the axis last
    return np.reshape(np.moveaxis(v, axis, -1), (-1, length))


@fragment
def from_rows(rows, like, axis):
    # rows back to the shape of like (the axis where it was)
    return np.moveaxis(np.reshape(rows, np.shape(np.moveaxis(like, axis, -1))), -1, axis)


@adjoint(lfilter_from_state)
def lfilter_from_state_adjoint(g, ans, b, a, x, axis=-1, zi=None):
    order = np.maximum(np.shape(a)[0], np.shape(b)[0]) - 1
    n = np.shape(x)[axis]
    known = linalg_check(not is_none(zi) and order >= 1, "scipy.signal.lfilter(..., zi=None) or of a filter of order 0")
    a0 = known * a[0]
    rows_x = along_last(x, axis, n)
    rows_y = along_last(ans[0], axis, n)
    rows_zi = along_last(zi, axis, order)
    gy = along_last(g[0], axis, n)
    gz = along_last(g[1], axis, order)
    ta = state_taps(a, order)
    tb = state_taps(b, order)
    x_tail = tail(rows_x, order, n)
    y_tail = tail(rows_y, order, n)
    zi_pad = np.pad(rows_zi, ((0, 0), (0, np.maximum(n - order, 0))))[:, :n]
    zi_rest = np.pad(rows_zi, ((0, 0), (0, n)))[:, n : n + order]
    y_from_z = untail(-np.matmul(gz, ta) / a0, order, n)
    x_from_z = untail(np.matmul(gz, tb) / a0, order, n)
    back = np.flip(gy + y_from_z, -1)
    v = np.flip(scipy_signal.lfilter(np.ones(1), a, back, -1), -1)
    b_lags = lagged_sums(v, rows_x, np.shape(b)[0], -1)
    a_lags = lagged_sums(v, rows_y, np.shape(a)[0], -1)
    b_taps = tap_sums(np.matmul(np.transpose(gz), x_tail) / a0, np.shape(b)[0], order)
    a_taps = tap_sums(np.matmul(np.transpose(gz), y_tail) / a0, np.shape(a)[0], order)
    rows_zf = along_last(ans[1], axis, order)
    in_a0 = np.sum(v * zi_pad) - np.sum(gz * (rows_zf - zi_rest)) / a0
    zi_bar = (
        a0 * np.pad(v, ((0, 0), (0, np.maximum(order - n, 0))))[:, :order] + np.pad(gz, ((0, 0), (n, 0)))[:, :order]
    )
    return (
        b_lags + b_taps,
        -a_lags - a_taps + (np.arange(np.shape(a)[0]) == 0) * in_a0,
        from_rows(np.flip(scipy_signal.lfilter(b, a, back, -1), -1) + x_from_z, x, axis),
        None,
        from_rows(zi_bar, zi, axis),
    )


@tangent(lfilter_from_state)
def lfilter_from_state_tangent(dot, ans, b, a, x, axis=-1, zi=None):
    # (dy, dzf) due to each operand: dy from A dy = dB x - dA y + da0 zi_pad + a0 dzi_pad, and dzf from zf's sum of
    # the tails (y's tail moving with dy), less da0 (zf - zi[N:]) / a0 for a's
    order = np.maximum(np.shape(a)[0], np.shape(b)[0]) - 1
    n = np.shape(x)[axis]
    known = linalg_check(not is_none(zi) and order >= 1, "scipy.signal.lfilter(..., zi=None) or of a filter of order 0")
    a0 = known * a[0]
    rows_x = along_last(x, axis, n)
    rows_y = along_last(ans[0], axis, n)
    rows_zi = along_last(zi, axis, order)
    rows_zf = along_last(ans[1], axis, order)
    ta = state_taps(a, order)
    tb = state_taps(b, order)
    x_tail = tail(rows_x, order, n)
    y_tail = tail(rows_y, order, n)
    zi_pad = np.pad(rows_zi, ((0, 0), (0, np.maximum(n - order, 0))))[:, :n]
    zi_rest = np.pad(rows_zi, ((0, 0), (0, n)))[:, n : n + order]
    # due to b
    dtb = state_taps(dot, order)
    dy_b = scipy_signal.lfilter(dot, a, rows_x, -1)
    dy_b_tail = tail(dy_b, order, n)
    y_b = from_rows(dy_b, x, axis)
    zf_b = from_rows((np.matmul(x_tail, np.transpose(dtb)) - np.matmul(dy_b_tail, np.transpose(ta))) / a0, zi, axis)
    # due to a
    dta = state_taps(dot, order)
    dy_a = scipy_signal.lfilter(dot[:1], a, zi_pad, -1) - scipy_signal.lfilter(dot, a, rows_y, -1)
    dy_a_tail = tail(dy_a, order, n)
    y_a = from_rows(dy_a, x, axis)
    dzf_a = np.matmul(dy_a_tail, np.transpose(ta)) + np.matmul(y_tail, np.transpose(dta)) + dot[0] * (rows_zf - zi_rest)
    zf_a = from_rows(-dzf_a / a0, zi, axis)
    # due to x
    dx = along_last(dot, axis, n)
    dx_tail = tail(dx, order, n)
    dy_x = scipy_signal.lfilter(b, a, dx, -1)
    dy_x_tail = tail(dy_x, order, n)
    y_x = from_rows(dy_x, x, axis)
    zf_x = from_rows((np.matmul(dx_tail, np.transpose(tb)) - np.matmul(dy_x_tail, np.transpose(ta))) / a0, zi, axis)
    # due to zi
    dzi = along_last(dot, axis, order)
    dy_zi = scipy_signal.lfilter(a[:1], a, np.pad(dzi, ((0, 0), (0, np.maximum(n - order, 0))))[:, :n], -1)
    dy_zi_tail = tail(dy_zi, order, n)
    y_zi = from_rows(dy_zi, x, axis)
    dzf_zi = np.pad(dzi, ((0, 0), (0, n)))[:, n : n + order] - np.matmul(dy_zi_tail, np.transpose(ta)) / a0
    zf_zi = from_rows(dzf_zi, zi, axis)
    return (y_b, zf_b), (y_a, zf_a), (y_x, zf_x), None, (y_zi, zf_zi)
