"""Helpers that emitted code calls.

This module imports no compiler code: an emitted module imports its helpers from
here, or, rendered standalone (``emit.render(unit, standalone=True)``), carries the
source of the ones it uses and needs only NumPy. Each helper emitted code calls has
an adjoint rule or a non-differentiable declaration in ``rules/runtime_rules.py``,
so that emitted code stays differentiable, except ``add_at`` and
``checkpoint_reverse``: they serve indexing and checkpointed loops, whose gradients
``grad(grad(f))`` refuses.

Invariant of the shape helpers: a cotangent leaves them with the shape of the value
it belongs to (``unbroadcast`` sums a broadcast contribution back down,
``unreduce`` spreads a reduction's cotangent back out).

>>> import numpy as np
>>> unbroadcast(np.ones((2, 3)), np.zeros(3)).tolist()
[2.0, 2.0, 2.0]
>>> unreduce(np.array([1.0, 2.0]), np.zeros((2, 3)), axis=1).tolist()
[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
"""

import math
import operator
import sys
import threading

import numpy as np


def unbroadcast(c, like):
    """Sum the contribution ``c`` down to the shape of ``like``.

    NumPy broadcasting copies an operand along new leading axes and along
    axes of length 1; the adjoint of a copy is a sum over those axes.
    """
    if type(c) is float:  # a Python float contribution means like is a scalar too: nothing to sum
        return c
    shape = getattr(like, "shape", None)
    if shape is None:
        shape = () if type(like) is float else np.shape(like)
    if type(c) is np.ndarray:  # the common case, kept cheap (no np.shape, np.asarray or axis search)
        have = c.shape
        if have == shape:
            return c
        if not shape:  # a number's contribution: the sum of all (no axis tuple)
            total = np.add.reduce(c, axis=None)
            # a Python float's cotangent a Python float (the value np.float64 holds): the gradient the API
            # returns as it is, and a number NumPy takes as weak beside float32 arrays
            return float(total) if type(total) is np.float64 and type(like) is float else total
        extra = len(have) - len(shape)
        if extra > 0 and have[extra:] == shape and not isinstance(like, (list, tuple)):
            # only leading axes were added (a bias against a batch of rows): one reduction over them
            return np.add.reduce(c, axis=0 if extra == 1 else tuple(range(extra)))
    elif getattr(c, "shape", None) == shape or np.shape(c) == shape:
        return c
    if isinstance(like, (list, tuple)):
        raise TypeError(
            "a list or tuple met an arithmetic operator whose adjoint assumes numbers or arrays "
            "(concatenation or repetition, xs * n, of lists the compiler could not see were lists); "
            "convert with np.asarray, or build the list with a display [..]"
        )
    c = np.asarray(c)
    extra = c.ndim - len(shape)
    if extra > 0:  # (np.add.reduce: ndarray.sum's own reduction, without its Python layer)
        c = np.add.reduce(c, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and c.shape[i] != 1)
    if axes:
        c = np.add.reduce(c, axis=axes, keepdims=True)
    if extra < 0:  # c was a scalar spread over like's shape
        c = np.broadcast_to(c, shape)
    return c


def fit_shape(c, like):
    """``unbroadcast(c, like)``, then ``c`` spread over the axes where it has length 1 and ``like``
    has not: np.einsum broadcasts an operand's length-1 axis against a longer one with the same
    index, so that operand's cotangent comes back with length 1 there. (Also its own adjoint, where
    c may have fewer axes than like: they are aligned from the right first.)"""
    shape = np.shape(like)
    if np.ndim(c) < len(shape):
        c = np.reshape(c, (1,) * (len(shape) - np.ndim(c)) + np.shape(c))
    c = _precision_of(unbroadcast(c, like), like)
    return c if np.shape(c) == shape else np.broadcast_to(c, shape)


def _ragged(xs):
    """Whether the values of list or tuple ``xs`` differ in shape (no array holds them: ``sum(xs)`` broadcasts)."""
    return len({np.shape(v) for v in xs}) > 1


def unreduce(g, like, axis=None, keepdims=False):
    """Spread the cotangent of a reduction back over the reduced array's shape. Of ``sum(xs)`` over a list of
    values of different shapes (a float and arrays, broadcast in the sum): a list, each value's share summed
    down to its shape."""
    shape = getattr(like, "shape", None)
    if shape is None:
        if type(like) in (list, tuple) and type(axis) is int and axis == 0 and _ragged(like):
            return [unbroadcast(g, v) for v in like]
        shape = np.shape(like)
    if axis is not None and not keepdims and shape:  # (a 0-d array reduced along its "axis 0": its one number)
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = tuple(a % len(shape) for a in axes)
        g = np.expand_dims(g, axes)
    elif axis is None and (type(g) is float or getattr(g, "ndim", None) == 0):
        if math.prod(shape) <= 4096:  # a full reduction's cotangent over a small array: a new array is
            dtype = getattr(like, "dtype", None)  # cheaper to make than a view
            if type(g) is float and dtype is not None and dtype.kind == "f":
                out = np.empty(shape, dtype)  # (np.full's value, without its Python layers: fill casts
                out.fill(g)  # g to like's precision as _precision_of does)
                return out
            return np.full(shape, _precision_of(g, like))
        # over a large one: a view of the one number, which arithmetic with numbers keeps one number
        return np.broadcast_to(np.asarray(_precision_of(g, like)), shape).view(Spread)
    return np.broadcast_to(_precision_of(g, like), shape)


def writable(c):
    """``c``, or a writable copy of it where it is a ``Spread`` (a read-only view of one number): the value of
    a cotangent that the emitted code then updates in place (``c[1:] += g``), made by arithmetic, which is
    a new array except between a ``Spread`` and numbers."""
    return np.array(c) if type(c) is Spread else c


class Spread(np.ndarray):
    """A read-only view of one number over a shape (every stride 0): a full reduction's cotangent, what
    ``unreduce`` makes of the seed 1.0. Arithmetic between it and a number is one number again, a new view
    with no pass over the array (``g * 100.0 * 2`` of the seed is a view of 200.0), and with an array of
    the result's shape it is that array times one number (``g * 2.0 * x``: one pass, not three), giving
    the same values and dtype as NumPy's element-wise operation would. Everything else (other ufuncs,
    reductions, other shapes, ``out=``) runs NumPy's own operation on a plain ndarray view and returns a
    plain ndarray. The fast paths check the strides, not a flag: an array whose strides are all 0 holds
    one number, whatever made it.

    >>> g = unreduce(1.0, np.zeros(5000))
    >>> h = -(g * 100.0) * 2
    >>> type(h).__name__, h.strides, float(h[17])
    ('Spread', (0,), -200.0)
    >>> x = np.arange(5000.0)
    >>> y = g * 2.0 * x
    >>> type(y).__name__, float(y[3]), type(np.exp(g)).__name__
    ('ndarray', 6.0, 'ndarray')
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if (
            method == "__call__"
            and not kwargs
            and ufunc in (np.add, np.subtract, np.multiply, np.true_divide, np.negative)
        ):
            out = _spread_call(ufunc, inputs)
            if out is not None:
                return out
        inputs = tuple(a.view(np.ndarray) if isinstance(a, Spread) else a for a in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(a.view(np.ndarray) if isinstance(a, Spread) else a for a in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        # a function NumPy wraps in the input's class (np.concatenate, np.where...): a plain result
        if return_scalar and arr.ndim == 0:
            return arr[()]
        return arr.view(np.ndarray) if isinstance(arr, np.ndarray) else arr


def _spread_call(ufunc, inputs):
    """``ufunc(*inputs)`` where a ``Spread`` among them is one number: a ``Spread`` of the result when the
    other operand is a number, that number's product with an array of the result's shape; None otherwise
    (NumPy's own operation then). The one number is a 1-element view of the same dtype and rank, so that
    NumPy's promotion and arithmetic are those of the whole operation."""
    ones, big = [], None
    for a in inputs:
        if isinstance(a, Spread):
            if a.ndim == 0 or a.size == 0 or any(a.strides):
                return None
            ones.append(np.ndarray.__getitem__(a, (slice(0, 1),) * a.ndim).view(np.ndarray))
        elif type(a) is float or type(a) is int or isinstance(a, (np.floating, np.integer)):
            ones.append(a)
        elif type(a) is np.ndarray and big is None:
            ones.append(a)
            big = a
        else:
            return None
    shape = np.broadcast_shapes(*[np.shape(a) for a in inputs])
    if big is None:
        return np.broadcast_to(ufunc(*ones), shape).view(Spread)
    if big.shape != shape:
        return None
    return ufunc(*ones)


def _precision_of(c, like):
    """``c`` in ``like``'s float dtype (unchanged where ``like`` is no float array or number): a
    Python float, such as the seed 1.0, becomes a float64 array once a NumPy function takes it, and so
    would every cotangent computed from it after; a float32 value keeps a float32 cotangent. In a call with
    complex arguments (``COMPLEX_CALL``), a complex ``c`` for a real ``like`` is its real part: the imaginary
    part of a real value's cotangent pairs with no change of it (docs/complex.md)."""
    dtype = getattr(like, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(c, "dtype", None) != dtype:
        if np.iscomplexobj(c) and _in_complex_call():
            c = np.real(c)
        return np.asarray(c, dtype)
    return c


class _ComplexCall(threading.local):
    """``depth`` > 0 while the API runs gradient code with complex arguments (api._complex_call), in this thread."""

    depth = 0


COMPLEX_CALL = _ComplexCall()


def _in_complex_call():
    """Whether this thread runs gradient code with complex arguments (``COMPLEX_CALL``)."""
    try:
        return COMPLEX_CALL.depth > 0
    except NameError:  # (in a module ``export`` wrote, which runs with NumPy alone: never)
        return False


def add_bars(a, b):
    """The sum of two cotangents of a list or tuple: element by element, never concatenated."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple, np.ndarray)):
        return [add_bars(x, y) for x, y in zip(a, b)]  # a list's cotangent stays a list (appends pop it)
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: add_bars(a[k], b[k]) if k in b else a[k] for k in a}
    if isinstance(a, (list, tuple)):
        a = np.asarray(a, dtype=float)
    if isinstance(b, (list, tuple)):
        b = np.asarray(b, dtype=float)
    return a + b


def repeated_bar(g, xs, n=1):
    """The cotangent of list or tuple ``xs`` from ``g``, that of ``xs * n``: the entries of the n copies
    added, element by element (``g`` has ``len(xs) * n`` entries; n may be 0). Where ``n`` is no count but
    an array or a float (``xs * a``, NumPy's element-wise product of ``np.asarray(xs)`` and ``a``, which the
    compiler cannot tell from a count when ``a`` carries no derivative), the product's cotangent: ``g * a``
    summed down to ``xs``'s shape, one entry per element of ``xs``.

    >>> repeated_bar([1.0, 2.0, 10.0, 20.0], (0.5, 0.7), 2)
    [11.0, 22.0]
    >>> [float(v) for v in repeated_bar(np.array([1.0, 2.0]), [0.5, 0.7], np.array([3.0, 4.0]))]
    [3.0, 8.0]
    """
    if not isinstance(n, (int, np.integer)):
        return list(unbroadcast(np.multiply(g, n), np.asarray(xs)))
    bar, m = zeros_like(xs), len(xs)
    for start in range(0, len(g) if m else 0, m):
        bar = add_bars(bar, g[start : start + m])
    return bar


def tiled(g, like, n=1):
    """``g``'s entries repeated to the length of ``like``: the cotangent of ``xs * n`` (``like``) from the
    cotangent ``g`` of ``xs`` (the adjoint of repeated_bar); for an ``n`` that is no count (NumPy's
    element-wise product), ``g`` spread to ``like``'s shape, times ``n``.

    >>> tiled([1.0, 2.0], [0.0] * 4)
    [1.0, 2.0, 1.0, 2.0]
    """
    if not isinstance(n, (int, np.integer)):
        return np.broadcast_to(np.asarray(g), np.shape(like)) * n
    m = len(g)
    return elements_bar(list(g) * (len(like) // m if m else 0), like)


def elements_bar(g, like):
    """The cotangent of ``like`` from ``g``, that of ``list(like)`` or ``tuple(like)``: element by element
    (a list for a list or tuple, an array for an array); zero for a dict, whose keys list(d) gives."""
    if isinstance(like, dict):
        return zeros_like(like)
    return add_bars(zeros_like(like), g)


_COMPLEX_WARNING = getattr(getattr(np, "exceptions", np), "ComplexWarning")


def add_at(bar, index, g):
    """``bar[index] += g`` where ``index`` may select a position more than once (np.add.at)."""
    if isinstance(bar, dict):  # a dict's keys are distinct: d[key] with a key known at run time
        bar[index] = add_bars(bar[index], g)
        return
    if isinstance(bar, list):  # the cotangent of a list: a list, one entry per element
        if isinstance(index, slice):
            for k, v in zip(range(*index.indices(len(bar))), g):
                bar[k] = add_bars(bar[k], v)
        else:
            bar[index] = add_bars(bar[index], g)
        return
    basic = isinstance(index, slice) or type(index) is tuple and all(type(i) is slice or type(i) is int for i in index)
    try:
        if basic:
            bar[index] += g  # basic indexing never selects a position twice: one buffered pass, not np.add.at's
        else:
            np.add.at(bar, index, g)
    except (TypeError, _COMPLEX_WARNING):  # (np.add.at casts with a ComplexWarning, an error in a complex call)
        # with complex arguments or values (COMPLEX_CALL) a real value's cotangent may be complex: only its real
        # part pairs with a change of a real number, so a real buffer takes that (docs/complex.md)
        if not (_in_complex_call() and np.iscomplexobj(g) and not np.iscomplexobj(bar)):
            raise
        add_at(bar, index, np.real(g))


def added_at(bar, index, g):
    """``add_at`` on a copy of ``bar``, returned: what emitted code's ``add_at(bar, index, g)`` becomes when
    that code is differentiated itself (desugar.py), so that the accumulation is a value with an adjoint."""
    out = dict(bar) if isinstance(bar, dict) else list(bar) if isinstance(bar, list) else np.array(bar, copy=True)
    add_at(out, index, g)
    return out


def piecewise_conditions(x, condlist, n):
    """The masks ``np.piecewise(x, condlist, funclist)`` stores through, one per entry of ``funclist`` (``n``
    of them), as NumPy makes them: one condition promoted to a list of one, and the "otherwise" mask (none
    of the conditions holds) appended when ``funclist`` has one entry more than ``condlist``.

    >>> piecewise_conditions(np.arange(3.0), [np.arange(3) < 1], 2).tolist()
    [[True, False, False], [False, True, True]]
    """
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray)) and np.ndim(x) != 0):
        condlist = [condlist]
    condlist = np.asarray(condlist, dtype=bool)
    if len(condlist) == n - 1:
        condlist = np.concatenate([condlist, ~np.any(condlist, axis=0, keepdims=True)], axis=0)
    elif len(condlist) != n:
        raise ValueError(
            "with {} condition(s), either {} or {} functions are expected".format(
                len(condlist), len(condlist), len(condlist) + 1
            )
        )
    return condlist


def multiplied_at(a, index, b):
    """``np.multiply.at`` on a copy of ``a``, returned: ``np.multiply.at(a, index, b)`` as a value with an
    adjoint (desugar.py stores it back into ``a``). A position ``index`` names twice is multiplied twice."""
    out = np.array(a, copy=True)
    np.multiply.at(out, index, b)
    return out


def maximized_at(a, index, b):
    """``np.maximum.at`` on a copy of ``a``, returned (desugar.py stores it back into ``a``): each position
    ``index`` names takes the larger of what it holds and ``b``'s element, in ``index``'s order."""
    out = np.array(a, copy=True)
    np.maximum.at(out, index, b)
    return out


def minimized_at(a, index, b):
    """``np.minimum.at`` on a copy of ``a``, returned, as ``maximized_at``."""
    out = np.array(a, copy=True)
    np.minimum.at(out, index, b)
    return out


def divided_at(a, index, b):
    """``np.divide.at`` on a copy of ``a``, returned: a position ``index`` names twice is divided twice."""
    out = np.array(a, copy=True)
    np.divide.at(out, index, b)
    return out


def at_chosen(a, index, b, largest):
    """Which value each position ends with in ``np.maximum.at(a, index, b)`` (``largest``) or ``np.minimum.at``,
    for their rules: ``(a_kept, b_chosen)``, masks of ``a``'s shape (the position kept its own value) and of
    ``a[index]``'s (that element of ``b``, broadcast, is the one the position ends with). NumPy applies
    np.maximum(current, b_k) in ``index``'s order; each step follows np.maximum's rule (ties to the current
    value, its first operand; a NaN current value gives way), so a tie goes to the earliest of a and the b_k.

    >>> kept, chosen = at_chosen(np.array([1.0, 5.0, 0.0]), [0, 2, 0, 1], np.array([3.0, 2.0, 3.0, 5.0]), True)
    >>> kept.tolist(), chosen.tolist()  # position 0: 3.0 first (the later tie loses), 2: 2.0, 1: a's 5.0 (a tie)
    ([False, True, False], [True, True, False, False])
    """
    flat, rank, shape, depth = at_groups(np.shape(a), index)
    values = np.reshape(np.broadcast_to(b, shape), (-1,))
    current = np.array(np.ravel(a), dtype=np.result_type(a, b))
    owner = np.full(current.size, -1)
    for level in range(depth):
        here = rank == level  # the positions these name are distinct
        places, v = flat[here], values[here]
        x = current[places]
        keep = x >= v if largest else x <= v
        owner[places] = np.where(keep, owner[places], level)
        current[places] = np.where(keep, x, v)
    return np.reshape(owner == -1, np.shape(a)), np.reshape(owner[flat] == rank, shape)


def at_groups(shape, index):
    """Where ``np.multiply.at(a, index, b)`` multiplies, for its rule: the flat positions of ``a`` (``a.shape ==
    shape``) that ``index`` selects, in ``a[index]``'s order; the rank of each among those naming the same
    position (0 for the first, 1 for the next...); ``a[index]``'s shape (what ``b`` is broadcast to); and
    the largest rank plus one.

    >>> flat, rank, shape, depth = at_groups((3,), [2, 0, 2, 2])
    >>> flat.tolist(), rank.tolist(), shape, depth
    ([2, 0, 2, 2], [0, 0, 1, 2], (4,), 3)
    """
    positions = np.arange(int(np.prod(shape))).reshape(shape)[index]
    flat = np.ravel(positions)
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(flat) else np.zeros(0, int)
    first = np.repeat(starts, np.diff(np.r_[starts, len(flat)]))
    rank = np.empty(len(flat), dtype=int)
    rank[order] = np.arange(len(flat)) - first
    return flat, rank, np.shape(positions), int(rank.max()) + 1 if len(flat) else 1


def band_index(l_and_u, n, layout):
    """Gather indices for ``scipy.linalg.solve_banded``'s rules, into an array's flat entries followed by one 0
    (index ``size``): ``"dense"`` the n x n matrix A from banded storage ab ((l + u + 1) x n, ``A[i, j] = ab[u
    + i - j, j]``), ``"band"`` ab's layout from A (0 in the corners solve_banded never reads), ``"transposed"``
    A^T's banded storage ((u, l)) from ab.

    >>> band_index((1, 0), 2, "dense").tolist()  # A = [[ab[0, 0], 0], [ab[1, 0], ab[0, 1]]]
    [[0, 4], [2, 1]]
    """
    lower, upper = int(l_and_u[0]), int(l_and_u[1])
    rows = lower + upper + 1
    if layout == "dense":
        i, j = np.indices((n, n))
        r = upper + i - j
        return np.where((r >= 0) & (r < rows), r * n + j, rows * n)
    r, j = np.indices((rows, n))
    if layout == "band":
        i = j + r - upper
        return np.where((i >= 0) & (i < n), i * n + j, n * n)
    source, column = lower + upper - r, j + r - lower
    return np.where((column >= 0) & (column < n), source * n + column, rows * n)


def diagonal_index(shape):
    """The index ``np.fill_diagonal(a, v)`` (``wrap=False``) stores at, as ``a[diagonal_index(a.shape)] = v``:
    ``(i, i, ...)`` for ``i < min(shape)``; NumPy's errors for fewer than 2 axes or unequal ones beyond 2."""
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise ValueError("All dimensions of input must be of equal length")
    return np.diag_indices(min(shape), len(shape))


def along_axis(indices, axis, shape):
    """The index ``np.put_along_axis(a, indices, values, axis)`` stores at, as ``a[along_axis(...)] = values``
    (what ``np.take_along_axis`` reads): ``indices`` on ``axis``, an ``np.arange`` broadcast on every other.

    >>> a = np.zeros((2, 3)); a[along_axis(np.array([[2], [0]]), 1, a.shape)] = 1.0; a.tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    indices = np.asarray(indices)
    if indices.ndim != len(shape):
        raise ValueError("indices and the array must have the same number of dimensions")
    axis = axis + len(shape) if axis < 0 else axis
    index = []
    for k, n in enumerate(shape):
        if k == axis:
            index.append(indices)
        else:
            fancy = [1] * len(shape)
            fancy[k] = n
            index.append(np.arange(n).reshape(fancy))
    return tuple(index)


def at_bar(g, index, like):
    """The cotangent of ``like``, added at ``g[index]`` by ``added_at``: the part of ``g`` it reached (summed
    where np.add.at broadcast it)."""
    if isinstance(g, (dict, list)):
        return g[index]
    return unbroadcast(np.asarray(g)[index], like)


def stored_number(g, index):
    """The cotangent of a number stored at ``g[index]``: one element's, or the sum over the row or block the
    number filled (``m[1] = t`` on a matrix spreads t over the row). A copy: the adjoint zeroes ``g[index]`` next."""
    part = g[index]
    return part.sum() if getattr(part, "ndim", 0) else part


def stored(g, index, value):
    """The cotangent of ``value`` in ``a[index] = value`` (or ``+=``), from the cotangent ``g`` of ``a`` after it.

    A copy, because the adjoint zeroes ``g[index]`` next; summed to the shape of
    ``value`` where the store broadcast it. Where an index array names a position
    twice, NumPy keeps the last write, so only that one gets a cotangent.
    """
    if type(index) is int and type(value) is float:  # one number into one slot (m[i][j] = v): its cotangent
        part = g[index]
        if type(part) is float or type(part) is np.float64:
            return part
    part = np.array(g[index])
    # (value is a shape_of where the adjoint keeps only its shape: reverse over reverse of xs_bar[:k] = ...)
    length = value.shape[0] if isinstance(value, shape_of) and value.shape else None
    if isinstance(g, list) and isinstance(index, slice) and len(part) != (len(value) if length is None else length):
        raise TypeError(
            "a slice store that changes a list's length (xs[i:j] = ys with len(ys) != j - i) "
            "is not supported by adjoint_compiler"
        )
    positions = _positions(g, index)
    if positions is not None and len(np.unique(positions)) < len(positions):
        _, last = np.unique(positions[::-1], return_index=True)
        keep = np.zeros(len(positions), bool)
        keep[len(positions) - 1 - last] = True
        part[~keep] = 0
    shape = getattr(value, "shape", None)
    if shape is None:
        shape = np.shape(value)
    if not shape:  # a number spread over the slots
        return part.sum()
    return unbroadcast(part, value)


def _positions(g, index):
    """The flat positions a 1-d integer index array (or a tuple of them and ints) selects in ``g``,
    negative ones wrapped; None for any other index."""
    parts = index if isinstance(index, tuple) else (index,)
    if not isinstance(g, np.ndarray) or not all(isinstance(p, (list, np.ndarray, int, np.integer)) for p in parts):
        return None
    arrays = [np.asarray(p) for p in parts]
    if any(a.dtype.kind not in "iu" for a in arrays) or all(a.ndim == 0 for a in arrays):
        return None
    arrays = np.broadcast_arrays(*arrays)
    if arrays[0].ndim != 1 or len(parts) > g.ndim:
        return None
    return np.ravel_multi_index(tuple(arrays), g.shape[: len(parts)], mode="wrap")


def snapshot(x, depth=1):
    """A copy of a returned value whose arrays the adjoint sweep will put back to earlier contents; with
    ``depth`` > 1 (the function stores into ``x[i][j]``), the lists, dicts and arrays inside it are copied too."""
    if isinstance(x, tuple):
        return tuple(snapshot(v, depth) for v in x)
    if depth > 1 and isinstance(x, list):
        return [snapshot(v, depth - 1) for v in x]
    if depth > 1 and isinstance(x, dict):
        return {k: snapshot(v, depth - 1) for k, v in x.items()}
    if isinstance(x, (np.ndarray, list, dict)):
        return x.copy()
    return x


def contents_of(x, depth):
    """``[(object, a copy of its contents), ...]`` for ``x`` and the lists, dicts and arrays inside it down to
    ``depth`` levels: what the end of a pullback gives them back (``put_contents``), so that it can run again
    after its adjoint sweep undid stores ``x[i][j] = v`` (each object keeps its identity: a row a tape holds
    is still that row)."""
    return [(o, o.copy()) for o in _inner_objects(x, depth, [])]


def put_contents(saved):
    """Give each object of ``contents_of`` its saved contents again, in place."""
    for o, contents in saved:
        put_back(o, contents)


def _owned_copies():
    """``{id(a copy own made of more than one level): (the copy, [(copied object, the argument's), ...])}``,
    which ``put_back`` empties (kept on this function, so that an exported module has it too)."""
    table = getattr(_owned_copies, "table", None)
    if table is None:
        table = _owned_copies.table = {}
    return table


def own(x, depth=1):
    """A copy of an argument that the function changes in place: the compiled code changes the copy and
    gives the caller's object its final contents at return (``put_back``), as the function would. With
    ``depth`` > 1 (the function stores into ``x[i][j]``), the lists, dicts and arrays inside ``x`` are
    copied too, down to that many levels, and ``put_back`` gives the caller's inner objects their contents.
    None (an ``out=None`` parameter left to its default, which the function changes only when given) stays."""
    if x is None:
        return None
    if isinstance(x, (np.ndarray, list, dict)):
        if depth == 1:
            return x.copy()
        pairs = []
        copy = _copy_levels(x, depth, pairs)
        table = _owned_copies()
        if len(table) > 1000:  # left by calls that raised before their put_back: the oldest goes
            table.pop(next(iter(table)))
        table[id(copy)] = (copy, pairs)
        return copy
    raise TypeError(
        "adjoint_compiler: the function changes its argument in place, which is supported for arrays, lists "
        "and dicts, not %s" % type(x).__name__
    )


def _copy_levels(x, depth, pairs):
    if depth == 0 or not isinstance(x, (np.ndarray, list, dict)):
        return x
    if isinstance(x, np.ndarray):
        copy = x.copy()  # every level of an array at once
    elif isinstance(x, dict):
        copy = {k: _copy_levels(v, depth - 1, pairs) for k, v in x.items()}
    else:
        copy = [_copy_levels(v, depth - 1, pairs) for v in x]
    pairs.append((copy, x))
    return copy


def _inner_objects(x, depth, out):
    """The lists, dicts and arrays ``x`` holds down to ``depth`` levels (``x`` included), in order."""
    if depth == 0 or not isinstance(x, (np.ndarray, list, dict)):
        return out
    out.append(x)
    if not isinstance(x, np.ndarray):
        for v in x.values() if isinstance(x, dict) else x:
            _inner_objects(v, depth - 1, out)
    return out


def check_unshared(x, others, filename, line, col, depth=1):
    """Refuse an argument ``x`` that the function changes in place and that shares memory with one of the
    ``others``: the function works on a copy of x (``own``), where the original would show the change
    through the other (``f(a, a)``). With ``depth`` > 1 (``x[i][j] = v``), also an ``x`` that holds one
    list or array twice, or one another argument holds (``[row] * 3``): the change would show in both."""
    if depth > 1:
        mine = _inner_objects(x, depth, [])
        theirs = [o for other in others for o in _inner_objects(other, depth, [])]
        if len({id(o) for o in mine}) < len(mine) or _overlapping(mine, theirs):
            raise InPlaceUpdateError(
                "an argument changed in place below its top level (x[i][j] = v) that holds one list or array "
                "twice, or shares one with another argument (pass distinct rows: [[0.0] * n for _ in range(n)])",
                filename,
                line,
                col,
            )
        return
    for other in others:
        same = other is x or (
            isinstance(x, np.ndarray) and isinstance(other, np.ndarray) and np.may_share_memory(x, other)
        )
        if same and isinstance(x, (np.ndarray, list, dict)):
            raise InPlaceUpdateError(
                "an argument changed in place that shares memory with another argument or with a global variable the "
                "function reads (pass a copy: f(a, a.copy()), f(G.copy()))",
                filename,
                line,
                col,
            )


def _byte_span(a):
    """The first byte of array ``a`` and one past its last (np.byte_bounds, which NumPy 2 moved)."""
    low = high = a.__array_interface__["data"][0]
    for n, stride in zip(a.shape, a.strides):
        if stride < 0:
            low += (n - 1) * stride
        else:
            high += (n - 1) * stride
    return low, high + a.itemsize


def _overlapping(mine, theirs):
    """Whether an object of ``mine`` is one of ``theirs`` or two arrays among both may share memory
    (by their byte ranges: sorted, so that rows of one matrix cost no quadratic check)."""
    if {id(o) for o in mine} & {id(o) for o in theirs}:
        return True
    spans = sorted(
        _byte_span(a) + (side,)
        for side, group in ((True, mine), (False, theirs))
        for a in group
        if isinstance(a, np.ndarray) and a.size
    )
    ends = {True: 0, False: 0}  # the furthest end of the spans so far, of mine and of theirs
    for start, end, is_mine in spans:  # (two of theirs may overlap: that is no concern here)
        if start < ends[True] or is_mine and start < ends[False]:
            return True
        ends[is_mine] = max(ends[is_mine], end)
    return False


def list_bar(xs, bar=None):
    """A new list holding the cotangent of list ``xs`` (``bar``: a list, an array over its first axis, or
    None for zeros), one entry per element, so that undoing ``xs.append(v)`` can pop v's entry."""
    zero = zeros_like(xs)
    return list(zero) if bar is None else [add_bars(z, b) for z, b in zip(zero, bar)]


def zero_slots(bar, index):
    """``bar[index] = 0`` for the cotangent of a list, where a slice takes a list of zeros (or of an array)."""
    if isinstance(index, slice) and not isinstance(bar, np.ndarray):
        bar[index] = [0.0] * len(range(*index.indices(len(bar))))
    else:
        bar[index] = 0.0


class _Missing:
    """What ``old_slot`` gives for a key a dict did not have (the class itself): ``put_slot`` then removes
    the key."""


def old_slot(x, key):
    """``x[key]`` before a store ``x[key] = v`` into a list, dict or array (a copy: an array's part is a
    view), or ``_Missing`` for a dict's new key."""
    if isinstance(x, dict):
        return x.get(key, _Missing)
    if isinstance(x, np.ndarray):
        return x[key].copy()
    return x[key]


def put_slot(x, key, old):
    """Undo ``x[key] = v``: give the slot its ``old_slot`` value again (a new key of a dict goes)."""
    if old is _Missing:
        del x[key]
    else:
        x[key] = old


def put_back(x, contents, depth=1):
    """Give array, list or dict ``x`` the ``contents`` (a snapshot of it) again, in place. With ``depth`` > 1
    (``own`` copied inner levels too), each copy in ``contents`` stands for the caller's object it was made
    from: that object gets the copy's contents, in place, and takes its place, as the function would have
    left it (a row the function moved, m[0] = m[1], is the caller's row moved). None (``own``'s) stays."""
    if x is None:
        return
    if depth > 1:
        _, pairs = _owned_copies().pop(id(contents), (None, ()))
        originals = {id(c): o for c, o in pairs}
        if _given_back(contents, originals, {}, depth) is x:
            return
    if isinstance(x, dict):
        x.clear()
        x.update(contents)
    elif isinstance(x, list):
        x[:] = contents
    else:
        x[...] = contents


def _given_back(obj, originals, done, depth):
    """``obj`` with every copy ``own`` made inside it (down to ``depth`` levels) replaced by the original, which
    gets its contents; a list, dict or array the function made is given as a copy (the adjoint sweep undoes
    stores into the compiled code's own)."""
    if depth == 0 or not isinstance(obj, (np.ndarray, list, dict)):
        return obj
    if id(obj) in done:
        return done[id(obj)]
    target = originals.get(id(obj))
    if isinstance(obj, np.ndarray):
        if target is None:
            target = obj.copy()
        else:
            target[...] = obj
        done[id(obj)] = target
        return target
    if target is None:
        target = type(obj)()
    done[id(obj)] = target
    if isinstance(obj, dict):
        items = {k: _given_back(v, originals, done, depth - 1) for k, v in obj.items()}
        target.clear()
        target.update(items)
    else:
        target[:] = [_given_back(v, originals, done, depth - 1) for v in obj]
    return target


def own_updated(x, construct, filename, line, col):
    """A parameter that the function changes only by ``x op= y`` (``construct``, the first): an array becomes
    a copy the compiled code owns and rebinds (``give_back`` gives the caller's array its final contents at
    return, as ``f`` would have); a number or a tuple, which ``x op= y`` only rebinds, is ``x`` itself.
    Refused: a list or dict (``xs += ys`` extends the caller's list) and an object whose class defines the
    operator in place (``__iadd__``), whose changes the compiled code would not make."""
    if type(x) is float:  # (the common case first: one test)
        return x
    if isinstance(x, np.ndarray):
        return x.copy()
    in_place = ("__iadd__", "__isub__", "__imul__", "__imatmul__", "__itruediv__", "__ifloordiv__", "__imod__")
    if isinstance(x, (list, dict)) or any(hasattr(type(x), d) for d in in_place + ("__ipow__",)):
        name, op = construct.split()[0], construct.split()[1][:-1]
        raise InPlaceUpdateError(
            "%s on a %s argument (an update in place, which the caller sees) is not supported by "
            "adjoint_compiler; make a new one: %s = %s %s ..." % (construct, type(x).__name__, name, name, op),
            filename,
            line,
            col,
        )
    return x


def check_apart(x, others, construct, filename, line, col):
    """Before ``own_updated(x)``: refuse an array ``x`` sharing memory with one of the ``others`` (the other
    arguments and the global arrays the function reads; ``f(a, a)``, a view of another argument, ``f(G)``),
    through which Python would show the change."""
    if type(x) is float or not isinstance(x, np.ndarray):
        return
    for other in others:
        if isinstance(other, np.ndarray) and np.may_share_memory(x, other) and np.shares_memory(x, other):
            raise InPlaceUpdateError(
                "%s on an argument that shares memory with another argument or with a global variable the function "
                "reads (f(a, a), a view of another argument, f(G) where f reads G) is not supported by "
                "adjoint_compiler; pass a copy: f(a, a.copy())" % construct,
                filename,
                line,
                col,
            )


def check_view(base, view, construct, filename, line, col):
    """Before ``base[S] op= e`` that ``desugar.view_writes`` made of ``view op= e`` (``view = base[S]``; None:
    a row of ``for view in base``): refuse a ``view`` that is not a view of float array ``base`` (a list's
    slice is a copy, ``y[0]`` of a vector a number: Python would change ``view`` alone), or an integer array
    (Python refuses to store a float result into it; the store would truncate)."""
    if (
        isinstance(base, np.ndarray)
        and base.dtype.kind in "fc"
        and (isinstance(view, np.ndarray) if view is not None else base.ndim > 1)
    ):
        return
    if not isinstance(base, np.ndarray):
        what = "a part of a %s (a copy, or an object the list holds)" % type(base).__name__
    elif base.dtype.kind not in "fc":
        what = "a view of a %s array" % base.dtype
    else:
        what = "a part of an array that is not a view (a %s)" % type(view).__name__
    raise InPlaceUpdateError(
        "%s on %s (only a view of a float array, by slices and integer indexes, is written through) is not "
        "supported by adjoint_compiler; store into the array by index (a[i:j] op= ...)" % (construct, what),
        filename,
        line,
        col,
    )


def give_back(x, contents):
    """At return: give array argument ``x``, which the function changed by ``x op= y`` (``own_updated``), its
    final ``contents``, in place, as the function would have left it; a number (rebound) is left as it is.
    Python refuses an in-place result of another shape or of a wider kind of dtype (``x += 0.5`` on an int
    array): so does this, rather than write it truncated."""
    if type(x) is not np.ndarray and not isinstance(x, np.ndarray):
        return
    contents = np.asarray(contents)
    if contents.shape != x.shape or not np.can_cast(contents.dtype, x.dtype, "same_kind"):
        raise TypeError(
            "adjoint_compiler: the function's in-place update of its argument (x op= y) gives a result of "
            "shape %s and dtype %s, which Python would not store into the argument (shape %s, dtype %s)"
            % (contents.shape, contents.dtype, x.shape, x.dtype)
        )
    x[...] = contents


class SpentPullbackError(RuntimeError):
    """A second call of a pullback that can run only once (``once``): ``derived.jacobian`` calls vjp again."""


def once(calls):
    """Refuse a second call of a pullback that cannot run twice (see the message)."""
    if calls:
        raise SpentPullbackError(
            "this pullback undoes in-place updates of arrays made inside a loop and can run "
            "only once; call vjp again for another cotangent"
        )
    calls.append(True)


def zeros_like(x, filled=False):
    """The zero cotangent of x: 0.0 for a scalar, a float array otherwise (a dict of them for a dict).
    ``filled``: the code then stores a number into each of the list's slots (a loop over all of it), so only
    its length matters: a list whose first element is a float is one of floats without a look at the others
    (of any elements, ``zeros_like`` makes a list of the same length: one pass fewer)."""
    t = type(x)
    if filled and t is list and x and type(x[0]) is float:
        return [0.0] * len(x)
    if t is float:
        return 0.0
    if t is list and x and type(x[0]) is float:  # (the common case first: one per list argument and call)
        try:  # a float sum: each is a Python int, float or bool, whose cotangent is 0.0 (one pass, at C speed)
            if type(sum(x)) is float:
                return [0.0] * len(x)
        except (TypeError, OverflowError):
            pass
    if isinstance(x, dict):
        return {k: zeros_like(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        if t is not list and x and type(x[0]) is float:  # (a list of floats: above)
            try:  # a float sum: each is a Python int, float or bool, whose cotangent is 0.0 (one pass, at C
                if type(sum(x)) is float:  # speed: cheaper than the set of their types below)
                    return [0.0] * len(x)
            except (TypeError, OverflowError):
                pass
        kinds = set(map(type, x))
        if kinds == {float}:  # the common case, checked at C speed
            return [0.0] * len(x)
        if list in kinds or tuple in kinds or any(isinstance(v, (list, tuple)) for v in x):
            # nested lists: one float array, so that row updates add (a list's += would extend it)
            try:
                return np.zeros(np.shape(np.asarray(x, dtype=float)))
            except (ValueError, TypeError):  # ragged, numbers beside lists, shape_of stand-ins: one per element
                return [zeros_like(v) for v in x]
        return [0.0 if type(v) is float else zeros_like(v) for v in x]  # Python floats stay Python floats
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
        if hasattr(type(x), "__dataclass_fields__"):  # a dataclass: the cotangent is the list of its fields'
            return [zeros_like(getattr(x, name)) for name in type(x).__dataclass_fields__]
        x = np.asarray(x)
        shape, dtype = x.shape, x.dtype
    if len(shape) == 0:
        return 0.0
    return np.zeros(shape, dtype if dtype.kind in "fc" else float)


class shape_of:
    """Stands in, on a tape, for an array the adjoint reads only the shape of (to sum a broadcast)."""

    __slots__ = ("shape", "dtype")

    def __new__(cls, x):
        # all in __new__ (no __init__): a loop tapes one per iteration, and one Python frame is cheaper
        if isinstance(x, tuple):  # a call's results (and the state it carries): element by element
            return tuple(shape_of(v) for v in x)
        if type(x) is list and _ragged(x):  # values of different shapes (sum(xs) of them)
            return [shape_of(v) for v in x]
        self = object.__new__(cls)
        shape = getattr(x, "shape", None)
        self.shape = np.shape(x) if shape is None else shape
        dtype = getattr(x, "dtype", None)
        self.dtype = np.dtype(float) if dtype is None else dtype
        return self

    @property
    def ndim(self):
        """The array's number of axes: np.ndim reads it (the adjoint of ``unbroadcast(g, shape_of(a))``, grad
        of grad, sums over ``np.ndim(g) - np.ndim(a)`` leading axes; np.ndim of another object is 0)."""
        return len(self.shape)


def cotangent_where(g, r):
    """``r`` where the cotangent ``g`` is nonzero, 0.0 where it is zero: a masked rule's result
    (``registry._guarded``), which keeps a zero cotangent zero where the derivative is inf or nan
    (``np.where(x > 0, np.log(x), 0.0)`` at x = 0). Its own derivative (rules/runtime_rules.py) is the
    derivative of ``r``, cut only where ``r`` is not finite: where ``g`` is zero ``r`` is g times a finite
    derivative, so a tangent of ``g`` must pass (a second derivative where a first one happens to be 0)."""
    return np.where(g == 0.0, 0.0, r)


def add_into(total, term):
    """``total + term``, added into ``total`` where that is the same array: the same shape and dtype (the sum
    is then the same, bit for bit). ``total`` is an accumulator no other name or object reaches, which
    the compiled function owns (``optimize.in_place`` proves it); anything else (a number, another shape or
    dtype, an array subclass) is summed as ``+`` sums it."""
    if (
        type(total) is _NDARRAY
        and type(term) is _NDARRAY
        and total.shape == term.shape
        and total.dtype == term.dtype
        and total.flags.writeable
    ):
        total += term
        return total
    return total + term


def check_scalar(value):
    """Raise TypeError unless ``value`` is a scalar: only scalar outputs have a gradient."""
    if (
        type(value) is float
        or type(value) is np.float64  # (np.mean's, np.sum's)
        or value is not None
        and np.ndim(value) == 0
        and not isinstance(value, (tuple, list, dict, str))
    ):
        return
    raise TypeError(
        "grad needs a function with a scalar output, but this one returned %s; "
        "use adjoint_compiler.vjp for array or tuple outputs"
        % ("an array of shape %s" % (np.shape(value),) if isinstance(value, np.ndarray) else type(value).__name__)
    )


def rule_cotangents(value, args, rule, filename, line, col):
    """What the adjoint ``rule`` registered with ``register_adjoint`` returned for a call with arguments
    ``args``: one cotangent per argument, a tuple (the cotangent itself for one argument, a 1-tuple
    accepted too unless the argument is itself a sequence). Any other count is refused where the call is,
    naming the rule, instead of failing inside the emitted code (``float + tuple``, a wrong shape)."""
    n = len(args)
    if n == 1 and isinstance(value, tuple) and not isinstance(args[0], (tuple, list)):
        if len(value) == 1:
            return zeros_like(args[0]) if value[0] is None else value[0]
    elif n == 1:
        return zeros_like(args[0]) if value is None else value
    elif isinstance(value, (tuple, list)) and len(value) == n:
        return tuple(zeros_like(a) if c is None else c for c, a in zip(value, args)) if None in value else value
    got = "a single value"
    if isinstance(value, (tuple, list)):
        got = "a %s of %d value%s" % (type(value).__name__, len(value), "" if len(value) == 1 else "s")
    raise RuleResultError(
        "the adjoint rule %s registered for the function called here returned %s, but the call has %d "
        "argument%s: a rule returns one cotangent per argument (a single value for a function of one "
        "argument, else a tuple; None for an argument with no derivative)" % (rule, got, n, "" if n == 1 else "s"),
        filename,
        line,
        col,
    )


class RuleResultError(TypeError):
    """Raised by rule_cotangents: a registered adjoint returned the wrong number of cotangents (the API
    re-raises it with the path of the user's file)."""

    def __init__(self, what, filename, line, col):
        self.what, self.filename, self.line, self.col = what, filename, line, col
        super().__init__("%s:%d:%d: error: %s" % (filename, line, col, what))


class InPlaceUpdateError(TypeError):
    """Raised by check_rebind; the API re-raises it as an UnsupportedError."""

    def __init__(self, construct, filename, line, col):
        self.construct, self.filename, self.line, self.col = construct, filename, line, col
        super().__init__("%s:%d:%d: error: %s" % (filename, line, col, construct))


def loop_length(seq, filename, line, col):
    """``len(seq)`` for a ``for`` loop the compiled code walks by index (``seq[i]``): a dict, set or
    iterator cannot be walked so (a dict would give its values, or fail), and is refused."""
    if type(seq) is list or isinstance(seq, (tuple, np.ndarray, range)):
        return len(seq)
    if isinstance(seq, (dict, set, frozenset)) or not hasattr(seq, "__getitem__") or not hasattr(seq, "__len__"):
        hint = (
            "loop over sorted(s) or list(s) of it, or over a set the function builds"
            if isinstance(seq, (set, frozenset))
            else "loop over a list of its keys or values, e.g. for k in ['a', 'b']"
        )
        raise InPlaceUpdateError(
            "a for loop over a %s (only lists, tuples, arrays and ranges are walked) is not supported by "
            "adjoint_compiler; %s" % (type(seq).__name__, hint),
            filename,
            line,
            col,
        )
    return len(seq)


def zip_columns(rows, filename, line, col):
    """The number of steps of ``zip(*rows)`` (the shortest row's length), whose columns compiled code reads
    by index: each row must be a list, a tuple, an array or a range (``loop_length`` refuses the others)."""
    return min((loop_length(r, filename, line, col) for r in rows), default=0)


def loop_keys(seq, filename, line, col):
    """What ``for k in seq`` walks where its body reads ``seq[k]``: a dict's keys (a new list), or ``seq``
    itself, walked by index (what ``loop_length`` refuses, refused)."""
    if isinstance(seq, dict):
        return list(seq)
    loop_length(seq, filename, line, col)
    return seq


def loop_keys_dot(dot, seq):
    """The tangent of ``loop_keys(seq)`` from ``seq``'s tangent ``dot``: none for a dict's keys, ``dot`` for
    the elements of anything else."""
    return [0.0] * len(seq) if isinstance(seq, dict) else dot


def check_rebind(value, construct, filename, line, col):
    """Refuse ``x += ...`` where ``x`` is a mutable array or list that may alias another name.

    Python updates such an object in place, visibly through every alias; the
    compiled code computes a new value instead, so it must not run on one.
    """
    if isinstance(value, (np.ndarray, list, dict)):
        hint = "write it as x = x ... y" if "=" in construct else "make a copy first (xs = list(xs), d = dict(d))"
        parts = construct.split()
        if isinstance(value, np.ndarray) and value.base is not None and len(parts) > 1 and parts[1].endswith("="):
            name, op = parts[0], parts[1][:-1]
            hint = (
                "%s is a view of another array: to change that array, update it through an index "
                "(a[1:] %s= ...); for a new array, write %s = %s %s ..." % (name, op, name, name, op)
            )
        raise InPlaceUpdateError(
            "%s is an in-place update of a %s that another name or the caller may share, "
            "which is not supported by adjoint_compiler; %s" % (construct, type(value).__name__, hint),
            filename,
            line,
            col,
        )


def check_item_rebind(container, index, construct, filename, line, col):
    """Refuse ``xs[i] op= v`` where ``xs`` is a list or dict whose item is an array, list or dict: Python updates
    that object in place, visibly through every other name bound to it, where the compiled code stores a new
    value into ``xs[i]`` (an array's element or view is updated in place either way)."""
    if isinstance(container, (list, dict)) and isinstance(container[index], (np.ndarray, list, dict)):
        item, kind = construct.split(" ")[0], type(container[index]).__name__
        raise InPlaceUpdateError(
            "%s is an in-place update of the %s that %s holds, which another name or the caller may share, which "
            "is not supported by adjoint_compiler; write it as %s = %s ... (a new %s)"
            % (construct, kind, construct.split("[")[0], item, item, kind),
            filename,
            line,
            col,
        )


def check_element_index(index, construct, filename, line, col):
    """Before ``a[i][j] = v``: refuse an ``i`` that selects a copy of ``a``'s part (an index array or list, a
    mask), into which Python would store (changing nothing of ``a``) while the adjoint would read ``a``'s slots."""
    for part in index if type(index) is tuple else (index,):
        if isinstance(part, list) or isinstance(part, np.ndarray) and part.ndim > 0:
            raise InPlaceUpdateError(
                "%s with an index array or list inside (a[idx][j] = v stores into a copy) is not supported by "
                "adjoint_compiler; index once, a[idx, j] = v" % construct,
                filename,
                line,
                col,
            )


def check_distinct(container, index, construct, filename, line, col):
    """Before ``a[i][j] = v`` where ``a`` may hold one list twice (``[row] * n``): refuse an ``a[i]`` that is
    also another element of ``a`` (the store would change both; the derivative would follow one)."""
    item = container[index]
    if isinstance(item, (list, dict, np.ndarray)):
        values = container.values() if isinstance(container, dict) else container
        if sum(1 for v in values if v is item) > 1:
            raise InPlaceUpdateError(
                "%s stores into a list or array that the container holds more than once (as [row] * n makes), "
                "which is not supported by adjoint_compiler; make each element its own object, "
                "e.g. [[0.0] * n for _ in range(n)]" % construct,
                filename,
                line,
                col,
            )


_IN_PLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "@=": operator.imatmul,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
}


# G[k] = v, G[k] op= v, G.a = v and G.a op= v on a global or closure variable's container or object, made as the
# original makes them, once (objects.state_stores). ``old`` is G[k] (G.a) as Python reads it, before ``value``;
# ``op=`` works in place where its type says so (a list, an array), as Python's does.
def set_state_item(holder, key, value):
    holder[key] = value


def update_state_item(holder, key, old, op, value):
    holder[key] = _IN_PLACE[op](old, value)


def set_state_attribute(holder, name, value):
    setattr(holder, name, value)


def update_state_attribute(holder, name, old, op, value):
    setattr(holder, name, _IN_PLACE[op](old, value))


STATE_STORES = (set_state_item, update_state_item, set_state_attribute, update_state_attribute)


def element_value(value, construct, filename, line, col):
    """``t = a[i]`` kept while ``a`` changes in place (a swap): a number is a copy of the element; a row of
    an array is a view that the store changes too (NumPy's swap of rows gives two equal rows), and a list
    or dict an element of a list: refused here."""
    if isinstance(value, (np.ndarray, list, dict)):
        raise InPlaceUpdateError(
            "%s is %s that the later store changes, which is not supported by adjoint_compiler; "
            "take a copy (.copy()) where it is read, or swap rows with a[[i, j]] = a[[j, i]]"
            % (construct, "a row of the array" if isinstance(value, np.ndarray) else "an object the container holds"),
            filename,
            line,
            col,
        )
    return value


def check_not_argument(item, arguments, construct, filename, line, col):
    """Before ``a[i][j] = v`` where ``a[i]`` may be an argument of the function or part of one (``a = [x, y]``):
    refuse one that is (the compiled code would change the caller's object where it works on its own)."""
    if not isinstance(item, (list, dict, np.ndarray)):
        return
    for arg in arguments:
        inner = _inner_objects(arg, 3, [])
        if any(o is item for o in inner) or isinstance(item, np.ndarray) and _overlapping([item], inner):
            raise InPlaceUpdateError(
                "%s stores into a list or array that is an argument of the function or part of one, which is "
                "not supported by adjoint_compiler; copy it first (e.g. [list(row) for row in rows])" % construct,
                filename,
                line,
                col,
            )


def keys_of(mapping, construct, filename, line, col):
    """The list of a dict's keys, for compiled code that walks ``d.items()`` (``d.update(m)``, ...) by key;
    anything but a dict is refused at the user's line (a mapping of another kind may order keys otherwise)."""
    if isinstance(mapping, dict):
        return list(mapping)
    raise InPlaceUpdateError(
        "%s of a %s (only dicts are followed) is not supported by adjoint_compiler; "
        "make it a dict, or pass pairs as a display [(k, v), ...]" % (construct, type(mapping).__name__),
        filename,
        line,
        col,
    )


def zip_length(strict, *lengths):
    """The number of steps of ``zip(*seqs, strict=strict)``: the shortest length, or with ``strict`` the
    ValueError Python's zip raises when the lengths differ."""
    if strict:
        for k, n in enumerate(lengths[1:], 2):
            if n != lengths[0]:
                raise ValueError(
                    "zip() argument %d is %s than argument%s"
                    % (k, "shorter" if n < lengths[0] else "longer", " 1" if k == 2 else "s 1-%d" % (k - 1))
                )
    return min(lengths)


def index_of(xs, *args):
    """``xs.index(*args)``: a position, which compiled code never differentiates."""
    return xs.index(*args)


def count_of(xs, value):
    """``xs.count(value)``: a number of occurrences, which compiled code never differentiates."""
    return xs.count(value)


def overlap_copy(target, value):
    """A copy of ``value`` if it is a view overlapping the slots ``a[i] = value`` writes, else None."""
    if (
        isinstance(value, np.ndarray)
        and isinstance(target, np.ndarray)
        and value.base is not None
        and value.strides != target.strides
        and np.may_share_memory(target, value)
    ):
        return value.copy()
    return None


def check_overlap(stored, expected, construct, filename, line, col):
    """After ``a[i] = v`` with ``v`` overlapping ``a[i]``: NumPy copies such views element by element
    in an order set by the strides, and ``a[0::2] = a[:3]`` reads values it has already overwritten,
    which no adjoint can follow. Refuse it when that happened (the slots differ from v's old values)."""
    if expected is not None and not np.array_equal(stored, np.broadcast_to(expected, np.shape(stored))):
        raise InPlaceUpdateError(
            "%s stores a view of the same array into it and NumPy overwrote part of it "
            "while copying, which is not supported by adjoint_compiler; store a copy of "
            "the value instead (append .copy())" % construct,
            filename,
            line,
            col,
        )


def check_store(target, value, construct, filename, line, col, index=None):
    """Before ``a[i] = v`` (or ``a[i] += v``) with a differentiated ``v``: refuse an integer or boolean ``a``.

    NumPy converts v to a's dtype (``int(v)``, ``bool(v)``), so what is stored is piecewise constant in v,
    while the adjoint of a store hands v the cotangent of the slots: that would be a wrong gradient. With
    ``index``, a slice, also a store that would change a list's length (``xs[1:] = [v]``, ``xs[i:j] += ys``):
    the adjoint sweep's cotangents and undo are laid out by position (forward mode differentiates it)."""
    if index is not None and isinstance(target, list) and not isinstance(value, np.ndarray):
        given = len(value) if hasattr(value, "__len__") else None
        if given is not None and given != len(range(*index.indices(len(target)))) or construct.endswith(" += ..."):
            raise InPlaceUpdateError(
                "%s changes the length of a list, which is not supported by adjoint_compiler in reverse mode "
                "(forward mode, ac.jvp, differentiates it): build a new list, e.g. xs = xs[:i] + ys + xs[j:]"
                % construct,
                filename,
                line,
                col,
            )
    kind = getattr(getattr(target, "dtype", None), "kind", None)
    if kind in ("i", "u", "b") and getattr(np.asarray(value).dtype, "kind", "f") not in ("i", "u", "b"):
        raise InPlaceUpdateError(
            "%s stores a differentiated value into an array of dtype %s, which NumPy truncates to %s, "
            "so it has no derivative; this is not supported by adjoint_compiler: make the array a float "
            "array (e.g. np.arange(3.0), dtype=float), or store a non-differentiated value"
            % (construct, target.dtype, "a truth value" if kind == "b" else "an integer"),
            filename,
            line,
            col,
        )


def _binomial_split(m, s):
    """Where to place the next snapshot when reversing ``m`` steps with ``s`` snapshot slots.

    With s slots and each step recomputed at most t times, beta(s, t) = C(s + t, s)
    steps can be reversed, and beta(s, t) = beta(s, t - 1) + beta(s - 1, t): the
    steps before the snapshot are reversed later with t - 1 recomputations left,
    those after it with one slot fewer (Griewank & Walther, Algorithm 799: revolve).
    """
    t = 1
    while math.comb(s + t, s) < m:
        t += 1
    return max(1, min(math.comb(s + t - 1, s), m - 1))


class segments:
    """Consecutive sub-ranges of about sqrt(n) iterations each: the unit a checkpointed loop reruns.

    A lazy sequence, so that its memory does not grow with the number of segments.
    """

    def __init__(self, iterations, size=None):
        self.iterations = iterations
        self.size = size or max(1, math.isqrt(len(iterations)))

    def __len__(self):
        return -(-len(self.iterations) // self.size)

    def __getitem__(self, k):
        return self.iterations[k * self.size : (k + 1) * self.size]


def checkpoint_reverse(step, step_adjoint, indices, state, bars, snapshots):
    """Run the adjoint of a checkpointed loop over ``indices`` in reverse.

    ``state`` is the loop-carried state before the first iteration,
    ``step(i, *state) -> state`` one forward iteration, and
    ``step_adjoint(i, *state, *bars) -> bars`` the adjoint of one iteration
    (it recomputes the iteration itself). At most ``snapshots`` states are kept
    at once; iterations are recomputed on a binomial schedule.
    """
    n = len(indices)

    def advance(state, a, b):
        for j in range(a, b):
            state = step(indices[j], *state)
        return state

    def reverse(state, a, m, s):
        nonlocal bars
        while m > 0:
            if m == 1:
                bars = step_adjoint(indices[a], *state, *bars)
                return
            if s == 0:  # no slot left: recompute from the one state held (never reached with s >= 1)
                for j in reversed(range(m)):
                    bars = step_adjoint(indices[a + j], *advance(state, a, a + j), *bars)
                return
            k = _binomial_split(m, s)
            reverse(advance(state, a, a + k), a + k, m - k, s - 1)
            m = k

    reverse(state, 0, n, max(1, snapshots or int(math.isqrt(max(n, 1)))))
    return bars


def _einsum_terms(subscripts):
    """The input terms and the output of einsum ``subscripts``, each '...' written as one '.'."""
    if not isinstance(subscripts, str):
        raise NotImplementedError(
            "the (operand, sublist) form of np.einsum is not supported by adjoint_compiler's "
            "adjoint; write the subscripts as a string, e.g. np.einsum('ij,jk->ik', a, b)"
        )
    spec = subscripts.replace(" ", "").replace("...", ".")
    inputs, arrow, out = spec.partition("->")
    if not arrow:  # implicit output: '...' first, then the indices that occur once, in alphabetical order
        letters = inputs.replace(",", "").replace(".", "")
        out = ("." if "." in inputs else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs.split(","), out


def einsum_fit(c, x, subscripts, k):
    """``fit_shape(c, x)`` for the cotangent ``c`` of einsum operand ``k`` (``x``), laid out as its term:
    where the term's '...' follows other indices and stands for fewer axes than the broadcast '...' of
    all operands, x's are the last of them (NumPy aligns them from the right), so the others are
    summed where they stand, not at the front."""
    if type(c) is np.ndarray and type(x) is np.ndarray and c.shape == x.shape and c.dtype == x.dtype:
        return c  # (the usual case, fit_shape's answer too: nothing to sum, spread or cast)
    term = _einsum_terms(subscripts)[0][k]
    extra = np.ndim(c) - np.ndim(x)
    at = term.find(".")
    if extra > 0 and at > 0:
        c = np.sum(c, axis=tuple(range(at, at + extra)))
    return fit_shape(c, x)


def einsum_unfit(g, c, subscripts, k):
    """The adjoint of ``einsum_fit`` in its first argument: ``g`` spread back over ``c``'s shape."""
    term = _einsum_terms(subscripts)[0][k]
    extra = np.ndim(c) - np.ndim(g)
    at = term.find(".")
    if extra > 0 and at > 0:
        shape = np.shape(c)
        summed = shape[:at] + shape[at + extra :]
        return np.broadcast_to(np.expand_dims(fit_shape(g, np.empty(summed)), tuple(range(at, at + extra))), shape)
    return fit_shape(g, c)


def einsum_plan(subscripts, k, slots, _cache={}):
    """How the adjoint of ``np.einsum(subscripts, *operands)`` builds the cotangent of operand ``k``.

    The result is linear in each operand, so operand k's cotangent is the einsum of the result's
    cotangent g with every other operand into operand k's indices. It is built as a chain of
    two-operand einsums, g with each other operand in turn, every step keeping only the indices
    still needed; '...', once there, is kept (NumPy's explicit mode cannot sum it away), so the
    result may have leading axes, which the caller's ``fit_shape`` sums. Returns ``slots - 1``
    step subscripts, one per other operand's slot ('' for none), then the subscripts of a last
    step ('' for none), whether that step also takes ``einsum_mask``'s array, and whether
    operand k exists. The mask is needed where operand k repeats an index (only its diagonal is
    read, so the cotangent is 0 elsewhere: the repeats get fresh indices and the mask ties them
    together), has an index or '...' that neither the output nor another operand has (summed
    over operand k alone: each element gets the same cotangent), or has '...' that the output
    has not (its broadcast axes may be wider than the others'). Raises NotImplementedError for
    what the adjoint does not cover: more than ``slots`` operands, the (operand, sublist) form.
    """
    key = (subscripts, k, slots) if isinstance(subscripts, str) else None
    if key not in _cache:
        terms, out = _einsum_terms(subscripts)  # (raises for the sublist form)
        if len(terms) > slots:
            raise NotImplementedError(
                "np.einsum of %d operands, where its adjoint takes at most %d" % (len(terms), slots)
            )
        steps, last, masked = [""] * (slots - 1), "", False
        if k < len(terms):
            target = terms[k]
            others = [j for j in range(len(terms)) if j != k]
            available = set(out).union(*(terms[j] for j in others))
            masked = (
                len(set(target)) < len(target) or not set(target) <= available or ("." in target and "." not in out)
            )
            current = out
            for i, j in enumerate(others):
                needed = set(target).union(*(terms[o] for o in others[i + 1 :]))
                joined = "".join(dict.fromkeys(current + terms[j]))
                keep = (
                    target
                    if i == len(others) - 1 and not masked
                    else "".join(c for c in joined if c in needed or c == ".")
                )
                keep = "." + keep if "." in joined and "." not in keep else keep
                steps[j if j < k else j - 1] = (current + "," + terms[j] + "->" + keep).replace(".", "...")
                current = keep
            if masked:
                fresh = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in subscripts)
                renamed = "".join(c if target.index(c) == i else next(fresh) for i, c in enumerate(target))
                out_k = "." + renamed if "." in current and "." not in renamed else renamed
                last = (current + "," + renamed + "->" + out_k).replace(".", "...")
            elif not others and current != target:  # a transpose
                last = (current + "->" + target).replace(".", "...")
        _cache[key] = tuple(steps) + (last, masked, k < len(terms))
    return _cache[key]


def einsum_route(subscripts, optimize, x, y, _cache={}):
    """The ``optimize=`` of one two-operand step ``np.einsum(subscripts, x, y)`` of einsum's adjoint (einsum_plan's
    steps): the user's where it is not False; else, for a step that contracts an index over enough work (2^16
    multiplications) for np.einsum's BLAS route (tensordot) to repay its Python overhead, the path of that one
    pair (``['einsum_path', (0, 1)]``: no path search), and False (NumPy's C loop) otherwise. Computed once per
    subscripts and shapes. The same contraction either way: the sums differ in rounding only.

    >>> einsum_route("ik,jk->ij", False, np.ones((200, 200)), np.ones((200, 200)))
    ['einsum_path', (0, 1)]
    >>> einsum_route("i,ij->ij", False, np.ones(200), np.ones((200, 200)))
    False
    """
    if optimize is not False:
        return optimize
    key = (subscripts, np.shape(x), np.shape(y))
    if key not in _cache:
        (left, right), out = _einsum_terms(subscripts)
        sizes = {}
        for term, shape in ((left, np.shape(x)), (right, np.shape(y))):
            sizes.update((c, max(n, sizes.get(c, 1))) for c, n in zip(term, shape))
        plain = "." not in subscripts and len(left) == np.ndim(x) and len(right) == np.ndim(y)
        contracted = (set(left) & set(right)) - set(out)
        big = plain and contracted and math.prod(sizes.values()) >= 1 << 16
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = ["einsum_path", (0, 1)] if big else False
    return _cache[key]


def einsum_mask(subscripts, k, shape):
    """The array that einsum_plan's last step takes: over operand ``k``'s ``shape``, True where
    the indices it repeats agree (everywhere where it repeats none)."""
    term = _einsum_terms(subscripts)[0][k]
    if "." in term:
        at = term.index(".")
        term = term[:at] + "." * (len(shape) - len(term) + 1) + term[at + 1 :]
    mask = np.ones(shape, dtype=bool)
    for axis, c in enumerate(term):
        first = term.index(c)
        if c != "." and first != axis:
            rows = np.arange(shape[first]).reshape([-1 if d == first else 1 for d in range(len(shape))])
            cols = np.arange(shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))])
            mask = mask & (rows == cols)
    return mask


def one_count(repeats):
    """Whether ``repeats`` of ``np.repeat`` is one count for every element (a number), not one count per element."""
    return np.ndim(repeats) == 0


def chosen(xs, key, ans):
    """The position of the element ``ans`` that ``max(xs, key=key)`` or ``min`` returned: the first whose
    key equals ans's (NaN equal to NaN), -1 for an empty ``xs`` (ans was the default). That is the one
    Python returned, ties and NaNs included: its running best changes only to a strictly greater
    (smaller) key, and never from NaN, so no element before it can have the final key."""
    if not isinstance(xs, (list, tuple, np.ndarray)):
        raise TypeError(
            "the gradient of max/min of a %s: adjoint_compiler differentiates max/min of a list, tuple or "
            "array only; convert with list(...)" % type(xs).__name__
        )
    target = ans if key is None else key(ans)
    for i, x in enumerate(xs):
        k = x if key is None else key(x)
        if k == target or (k != k and target != target):
            return i
    return -1


def chosen_element(pick, key, make, names, *fields):
    """The position of the element ``pick(ps, key=key)`` (``min`` or ``max``) returns, where the list ``ps`` of
    objects is kept as one list per field (objects.py): element ``i`` made again, ``make(name=field[i], ...)``
    (its ``__init__`` copies them), for the key; the first of equal keys, as ``pick`` keeps; an empty list
    raises as ``pick`` does."""
    return pick(range(len(fields[0])), key=lambda i: key(make(**{n: f[i] for n, f in zip(names, fields)})))


def hit_at(xs, i):
    """A 0/1 mask over the first axis of ``xs`` (shaped to broadcast against it), 1 at position ``i`` only
    (none for i == -1)."""
    mask = np.zeros(np.shape(xs)[:1] + (1,) * (np.ndim(xs) - 1))
    if i >= 0:
        mask[i] = 1.0
    return mask


def sort_order(xs, key=None, reverse=False):
    """The positions of ``xs`` in the order ``sorted(xs, key=key, reverse=reverse)`` lists its elements: the
    same stable sort on the same comparisons, so ties (and NaNs) come out as Python's own."""
    if not isinstance(xs, (list, tuple, np.ndarray)):
        raise TypeError(
            "the gradient of sorted of a %s: adjoint_compiler differentiates sorted of a list, tuple or array "
            "only; convert with list(...)" % type(xs).__name__
        )
    if key is None:
        return sorted(range(len(xs)), key=xs.__getitem__, reverse=reverse)
    return sorted(range(len(xs)), key=lambda i: key(xs[i]), reverse=reverse)


def structure(cls, fields):
    """``cls(*fields)``: a NamedTuple the function builds (specialise.structures); a dataclass (every
    field one its ``__init__`` takes) from its fields in their order, by name (kw_only ones too)."""
    if issubclass(cls, tuple):
        return cls(*fields)
    return cls(**dict(zip(cls.__dataclass_fields__, fields)))


def match_class(subject, cls, filename, line, col):
    """``isinstance(subject, cls)``: the test of a class pattern (``case Point(...)``, desugar.py). A
    NamedTuple or dataclass argument reaches the compiled code as the plain tuple of its fields, whose class
    it cannot tell: matching a plain tuple against such a class is refused rather than answered."""
    if isinstance(subject, cls):
        return True
    if type(subject) is tuple and (hasattr(cls, "_fields") or hasattr(cls, "__dataclass_fields__")):
        raise InPlaceUpdateError(
            "a class pattern %s(...) on a NamedTuple or dataclass argument (the compiled code receives its fields "
            "as a tuple) is not supported by adjoint_compiler; match on a value built in the function, or pass "
            "the fields as separate arguments" % cls.__qualname__,
            filename,
            line,
            col,
        )
    return False


def structure_fields(s):
    """The tuple of the fields of ``s``, a dataclass instance (a NamedTuple is that tuple already): what a
    read of a field indexes, and the internal cotangent of a dataclass (the API passes a pullback's
    dataclass cotangent as that tuple, ``api._plain_cotangent``)."""
    if isinstance(s, (tuple, list)):
        return s
    return tuple(getattr(s, name) for name in type(s).__dataclass_fields__)


def ordering_key(fn, *frees):
    """``fn`` (a lifted key function, lift.py) with the enclosing function's values it reads given first."""
    return lambda v: fn(*frees, v)


def sorted_bar(g, xs, key=None, reverse=False):
    """The cotangent of ``xs`` from ``g``, that of ``sorted(xs, key=key, reverse=reverse)``: each element's
    goes back to the position it came from. ``sorted`` of a dict lists its keys: no derivative."""
    if isinstance(xs, dict):
        return zeros_like(xs)
    return gather(g, np.argsort(sort_order(xs, key, reverse)))


def sorted_dot(dot, xs, key=None, reverse=False):
    """The tangent of ``sorted(xs, key=key, reverse=reverse)`` from ``dot``, that of ``xs`` (0 for a dict's keys)."""
    if isinstance(xs, dict):
        return [0.0] * len(xs)
    return gather(dot, sort_order(xs, key, reverse))


def gather(xs, order):
    """The list ``[xs[k] for k in order]`` (``order`` a permutation of xs's positions)."""
    return [xs[k] for k in order]


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)  # B_2, B_4, ...


def polygamma(n, x):
    """psi^(n)(x), the n-th derivative of the digamma function psi = d ln Gamma(x) / dx: math has
    no digamma. The recurrence psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1) moves x up to at least
    20, where the asymptotic series (Abramowitz and Stegun 6.4.11) is accurate to double precision."""
    x = float(x)
    if x <= 0.0 and x == math.floor(x):
        return math.nan  # a pole of Gamma
    sign = -1.0 if n % 2 else 1.0  # (-1)^n
    shift = 0.0
    while x < 20.0:
        shift -= sign * math.factorial(n) / x ** (n + 1)
        x += 1.0
    if n == 0:
        series = math.log(x) - 0.5 / x
        for k, b in enumerate(_BERNOULLI, 1):
            series -= b / (2 * k * x ** (2 * k))
    else:
        series = math.factorial(n - 1) / x**n + math.factorial(n) / (2 * x ** (n + 1))
        for k, b in enumerate(_BERNOULLI, 1):
            series += b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
        series *= -sign  # (-1)^(n+1)
    return series + shift


HELPERS = (
    "rule_cotangents",
    "add_at",
    "add_into",
    "added_at",
    "maximized_at",
    "minimized_at",
    "divided_at",
    "at_chosen",
    "along_axis",
    "diagonal_index",
    "piecewise_conditions",
    "band_index",
    "multiplied_at",
    "at_groups",
    "at_bar",
    "stored_number",
    "add_bars",
    "elements_bar",
    "repeated_bar",
    "tiled",
    "stored",
    "_positions",
    "check_overlap",
    "check_store",
    "cotangent_where",
    "overlap_copy",
    "snapshot",
    "contents_of",
    "put_contents",
    "shape_of",
    "put_back",
    "own",
    "own_updated",
    "check_apart",
    "check_view",
    "give_back",
    "_owned_copies",
    "_copy_levels",
    "_inner_objects",
    "check_unshared",
    "_overlapping",
    "_byte_span",
    "_given_back",
    "old_slot",
    "put_slot",
    "_Missing",
    "once",
    "list_bar",
    "zero_slots",
    "unbroadcast",
    "unreduce",
    "_precision_of",
    "_ragged",
    "_in_complex_call",
    "zeros_like",
    "check_scalar",
    "check_rebind",
    "check_item_rebind",
    "loop_length",
    "loop_keys",
    "zip_columns",
    "loop_keys_dot",
    "keys_of",
    "check_distinct",
    "element_value",
    "check_element_index",
    "check_not_argument",
    "zip_length",
    "index_of",
    "count_of",
    "InPlaceUpdateError",
    "RuleResultError",
    "checkpoint_reverse",
    "_binomial_split",
    "segments",
    "einsum_plan",
    "einsum_mask",
    "einsum_route",
    "_einsum_terms",
    "fit_shape",
    "einsum_fit",
    "einsum_unfit",
    "one_count",
    "raise_",
    "try_",
    "caught_",
    "enter_context",
    "exit_context",
    "exit_raised",
    "chosen",
    "hit_at",
    "sort_order",
    "ordering_key",
    "structure",
    "structure_fields",
    "match_class",
    "sorted_bar",
    "sorted_dot",
    "gather",
    "polygamma",
    "_BERNOULLI",
)
DEPENDS = {
    "add_at": ("add_bars", "_COMPLEX_WARNING", "_in_complex_call"),
    "added_at": ("add_at",),
    "at_bar": ("unbroadcast",),
    "elements_bar": ("zeros_like", "add_bars"),
    "repeated_bar": ("zeros_like", "add_bars", "unbroadcast"),
    "tiled": ("elements_bar", "zeros_like", "add_bars"),
    "fit_shape": ("unbroadcast", "_precision_of", "_in_complex_call"),
    "unreduce": ("_precision_of", "_in_complex_call", "Spread", "_spread_call", "unbroadcast", "_ragged"),
    "shape_of": ("_ragged",),
    "_precision_of": ("_in_complex_call",),
    "writable": ("Spread", "_spread_call"),
    "einsum_fit": ("_einsum_terms", "fit_shape"),
    "einsum_unfit": ("_einsum_terms", "fit_shape"),
    "einsum_plan": ("_einsum_terms",),
    "einsum_mask": ("_einsum_terms",),
    "einsum_route": ("_einsum_terms",),
    "check_rebind": ("InPlaceUpdateError",),
    "check_item_rebind": ("InPlaceUpdateError",),
    "rule_cotangents": ("zeros_like", "RuleResultError"),
    "check_unshared": ("InPlaceUpdateError", "_inner_objects", "_overlapping", "_byte_span"),
    "own": ("_owned_copies", "_copy_levels"),
    "own_updated": ("InPlaceUpdateError",),
    "check_apart": ("InPlaceUpdateError",),
    "check_view": ("InPlaceUpdateError",),
    "put_back": ("_owned_copies", "_given_back"),
    "loop_length": ("InPlaceUpdateError",),
    "loop_keys": ("loop_length", "InPlaceUpdateError"),
    "zip_columns": ("loop_length", "InPlaceUpdateError"),
    "keys_of": ("InPlaceUpdateError",),
    "check_distinct": ("InPlaceUpdateError",),
    "element_value": ("InPlaceUpdateError",),
    "contents_of": ("_inner_objects",),
    "put_contents": ("put_back", "_owned_copies", "_given_back"),
    "check_element_index": ("InPlaceUpdateError",),
    "check_not_argument": ("InPlaceUpdateError", "_inner_objects", "_overlapping", "_byte_span"),
    "check_overlap": ("InPlaceUpdateError",),
    "check_store": ("InPlaceUpdateError",),
    "stored": ("_positions", "unbroadcast"),
    "list_bar": ("zeros_like", "add_bars"),
    "old_slot": ("_Missing",),
    "put_slot": ("_Missing",),
    "checkpoint_reverse": ("_binomial_split",),
    "polygamma": ("_BERNOULLI",),
    "sorted_bar": ("sort_order", "gather", "zeros_like"),
    "sorted_dot": ("sort_order", "gather"),
    "match_class": ("InPlaceUpdateError",),
}  # helpers that emitted code needs alongside another
STATIC = (
    "einsum_plan",
    "one_count",
    "raise_",
    "try_",
    "enter_context",
    "exit_context",
)  # pure functions of literals: a rule's call of one on literal arguments is made at compile time


def checkpointed(iterable, snapshots=None):
    """Mark a loop for checkpointing: ``for i in checkpointed(range(n)):``.

    Run directly, it returns ``iterable`` unchanged. In a gradient, the loop
    keeps at most ``snapshots`` copies of its loop-carried state (default
    about sqrt(n)) instead of a tape entry per iteration, and recomputes
    iterations on a binomial schedule during the adjoint sweep. The loop must
    be over ``range(...)``, without break, and its body free of side effects.
    """
    return iterable


def raise_(exc, cause=None):
    """``raise exc from cause`` as a call: the compiler lowers raise statements to it (desugar.py) and
    emits them back as raise statements."""
    if cause is not None:
        raise exc from cause
    raise exc


def caught_(*clauses):
    """Which of a try statement's except clauses (each a tuple of classes) handles the exception being
    handled: the first that matches it, as Python picks (desugar.py; called inside the except clause)."""
    exc = sys.exc_info()[1]
    for k, classes in enumerate(clauses):
        if isinstance(exc, classes):
            return k
    raise RuntimeError("adjoint_compiler: no except clause matches %r" % (exc,))


def try_(key, *exceptions):
    """Marks a try statement (desugar.py): the branch of its body, taken unless the body raises one of
    ``exceptions``; the emitted code runs that branch inside a try statement (emit.restore_tries)."""
    taken = True  # two statements: kept a call (inline.py inlines one-expression functions)
    return taken


def enter_context(manager):
    """The start of a ``with`` block, in the forward sweep: what ``as`` binds (a value without derivative:
    the compiler refuses one that depends on differentiated values)."""
    entered = manager.__enter__()  # two statements: kept a call (inline.py inlines one-expression functions)
    return entered


def exit_context(manager):
    """The end of a ``with`` block that was left normally."""
    manager.__exit__(None, None, None)


def exit_raised(managers, exact, filename, line, col):
    """The end of a ``with`` block left by an exception (desugar.py; called in the except clause that
    emit.restore_tries puts around the block): each manager, innermost first, gets the exception in its
    ``__exit__``, as Python gives it; one that returns true suppresses it (the outer ones leave normally).
    Returns the exception to raise: the one raised in the block unless suppressed; when suppressed, None
    if the function may go on after the block (``exact``: the block did nothing seen after it), else a
    NotImplementedError at the with statement."""
    kind, error, trace = sys.exc_info()
    for manager in managers:
        if error is None:
            manager.__exit__(None, None, None)
        elif manager.__exit__(kind, error, trace):
            kind = error = trace = None
    if error is not None or exact:
        return error
    return NotImplementedError(
        "%s:%d:%d: a context manager suppressed an exception raised in its with block, after which the "
        "function reads what the block did before raising: not supported by adjoint_compiler; compute the "
        "block's values into names of their own and assign them after the with statement" % (filename, line, col)
    )


# ---- np.linalg (task linalg13): the checks of the matrix functions' rules --------------------------------


def linalg_check(ok, what):
    """True, or NotImplementedError naming ``what``: a case a matrix function's rule does not cover (a
    keyword value it refuses, an input where the function has no derivative or a complex result). A pure
    function of literals (in ``STATIC``): with a literal ``ok`` the compiler decides it at the call, and
    refuses a literal case there, with its location; otherwise emitted code raises when it gets there.

    >>> linalg_check(True, "np.linalg.qr(..., mode='r')")
    True
    """
    if not ok:
        raise NotImplementedError("%s is not supported by adjoint_compiler's derivative" % what)
    return True


class TangentParts(tuple):
    """The tangent of a function's tuple result (lstsq's (x, residuals, rank, s)): forward mode sums the
    tangents due to each differentiated operand with ``+``, which adds these element by element."""

    def __add__(self, other):
        return TangentParts(a + b for a, b in zip(self, other))

    __radd__ = __add__


HELPERS += ("linalg_check", "TangentParts")
STATIC += ("linalg_check",)


# ---- np.einsum's (operand, sublist) form and calls of many operands (task linalg13) ----------------------

_EINSUM_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_string(args):
    """(subscripts, operands, their positions in ``args``) of np.einsum's positional arguments in either
    form: ``'ij,jk->ik', a, b`` or ``a, [0, 1], b, [1, 2], [0, 2]`` (integers name indices, ``...`` an
    ellipsis; a last odd sublist is the output)."""
    if isinstance(args[0], str):
        return args[0], list(args[1:]), list(range(1, len(args)))

    def term(sublist):
        return "".join("..." if s is Ellipsis else _EINSUM_LETTERS[s] for s in sublist)

    pairs = len(args) // 2
    spec = ",".join(term(args[2 * i + 1]) for i in range(pairs))
    spec += "->" + term(args[-1]) if len(args) % 2 else ""
    return spec, [args[2 * i] for i in range(pairs)], [2 * i for i in range(pairs)]


def einsum_sublist(subscripts):
    """Whether np.einsum was called in the (operand, sublist) form: its first argument is an operand."""
    return not isinstance(subscripts, str)


def einsum_sublist_spec(a, b=None, c=None, d=None, e=None, f=None):
    """The subscripts string of the (operand, sublist) form whose arguments after the first operand are
    ``a, b, ...`` (None where the call passed fewer).

    >>> einsum_sublist_spec([0, 1], np.ones((2, 2)), [1, 2], [0, 2])  # np.einsum(a, [0, 1], b, [1, 2], [0, 2])
    'ab,bc->ac'
    """
    rest = [a, b, c, d, e, f]
    while rest and rest[-1] is None:
        rest.pop()
    return _einsum_string([None] + rest)[0]


def einsum_cotangents(g, args, optimize=False):
    """The cotangent of each positional argument of ``np.einsum(*args)`` (None for subscripts and
    sublists), in either form and for any number of operands: for operand k, ONE einsum of ``g`` with
    every other operand into operand k's indices, contracted in the order ``np.einsum_path`` finds
    (``optimize``, or 'optimal' up to four operands and 'greedy' beyond: 'optimal' searches every
    order, which takes seconds at eight). As ``einsum_plan``: where
    operand k repeats an index, has one no other term has, or an ellipsis the output lacks, the
    einsum also takes ``einsum_mask``'s array; ``fit_shape`` sums what was broadcast."""
    spec, operands, positions = _einsum_string(list(args))
    terms, out = _einsum_terms(spec)
    order = optimize or ("optimal" if len(terms) <= 4 else "greedy")
    bars = [None] * len(args)
    for k, x in enumerate(operands):
        target = terms[k]
        others = [j for j in range(len(terms)) if j != k]
        available = set(out).union(*(terms[j] for j in others))
        masked = len(set(target)) < len(target) or not set(target) <= available or ("." in target and "." not in out)
        inputs, ops, result = [out] + [terms[j] for j in others], [g] + [operands[j] for j in others], target
        if masked:
            fresh = (c for c in _EINSUM_LETTERS if c not in spec)
            result = "".join(c if target.index(c) == i else next(fresh) for i, c in enumerate(target))
            inputs.append(result)
            ops.append(einsum_mask(spec, k, np.shape(x)))
        if any("." in t for t in inputs) and "." not in result:
            result = "." + result  # explicit mode keeps '...': fit_shape sums it
        bars[positions[k]] = einsum_fit(
            np.einsum((",".join(inputs) + "->" + result).replace(".", "..."), *ops, optimize=order), x, spec, k
        )
    return bars


HELPERS += ("einsum_sublist", "einsum_sublist_spec", "_einsum_string", "_EINSUM_LETTERS")
STATIC += ("einsum_sublist",)
DEPENDS.update(einsum_sublist_spec=("_einsum_string", "_EINSUM_LETTERS"))


def einsum_order(subscripts, k, slots, _cache={}):
    """The order in which the adjoint of ``np.einsum(subscripts, ...)`` contracts the other operands into
    operand ``k``'s cotangent, as ``(subscripts', 0, order)``: ``subscripts`` with operand k first and the
    others in that order (the same einsum), for ``einsum_plan(subscripts', 0, slots)``, and ``order``, the
    positions among the other operands (0 for the first after k, ...) of each step's operand, padded to
    ``slots - 1``. Greedy, as ``np.einsum_path``'s 'greedy' but by the number of indices (sizes are not
    known when the compiler plans a literal subscripts string): each step takes the operand that leaves
    the fewest indices to carry, so 'ij,jk,kl->il' gives a's cotangent as ('il,kl->ik', 'ik,jk->ij'),
    not through the four-index outer product of g and b.

    >>> einsum_order("ij,jk,kl->il", 0, 6)
    ('ij,kl,jk->il', 0, (1, 0, 2, 3, 4))
    """
    key = (subscripts, k, slots) if isinstance(subscripts, str) else None
    if key not in _cache:
        terms, out = _einsum_terms(subscripts)  # (raises for the sublist form)
        if len(terms) > slots:
            raise NotImplementedError(
                "np.einsum of %d operands, where its adjoint takes at most %d" % (len(terms), slots)
            )
        others = [j for j in range(len(terms)) if j != k]
        order, current = [], set(out)
        target = set(terms[k]) if k < len(terms) else set()
        while len(order) < len(others):
            left = [j for j in others if j not in order]

            def carried(j):
                needed = target.union(*(terms[o] for o in left if o != j))
                return len((current | set(terms[j])) & needed), -len(current & set(terms[j]))

            best = min(left, key=carried)
            current = (current | set(terms[best])) & target.union(*(terms[o] for o in left if o != best))
            order.append(best)
        spec = ",".join([terms[k]] + [terms[j] for j in order]) if k < len(terms) else subscripts
        spec = (spec + "->" + out).replace(".", "...") if k < len(terms) else spec
        positions = [others.index(j) for j in order]
        _cache[key] = (spec, 0 if k < len(terms) else k, tuple(positions + list(range(len(positions), slots - 1))))
    return _cache[key]


HELPERS += ("einsum_order",)
STATIC += ("einsum_order",)
DEPENDS.update(einsum_order=("_einsum_terms",))
# ---- shape13: NumPy shape, indexing and ordering functions (rules/np_shape.py) ----


def supported(value, ok, what):
    """``value``, where ``ok``; otherwise the rule cannot take the call: ``NotImplementedError(what)``. Called
    by rule bodies on a parameter they model for some values only (``np.pad``'s mode); on literal
    arguments it runs at compile time (``STATIC``), so the refusal is the user's error at the call. An
    array ``ok`` (``out == None`` of an array) is not ok."""
    if np.ndim(ok) != 0 or not ok:
        raise NotImplementedError(what)
    return value


HELPERS = HELPERS + ("supported",)


def bessel_i1(x):
    """I_1(x), the modified Bessel function of the first kind of order 1: ``np.i0``'s derivative (NumPy has i0
    only), in x's float precision (float64 for integers), as np.i0 keeps it. SciPy's ``special.i1`` where it is
    importable (SciPy is optional); else for |x| <= 30 the power series (x / 2) sum_k (x^2 / 4)^k / (k! (k + 1)!)
    (all terms of one sign: no cancellation; 60 terms leave under 1e-30 of the sum at |x| = 30), beyond the
    asymptotic expansion e^|x| / sqrt(2 pi |x|) sum_k (-1)^k prod_{j <= k} (4 - (2j - 1)^2) / (k! (8 |x|)^k)
    (Abramowitz and Stegun 9.6.10, 9.7.1; 20 terms, the 20th under 1e-20 at |x| = 30), odd in x. Its own
    derivative is I_0(x) - I_1(x) / x (1/2 at 0): rules/runtime_rules.py."""
    x = np.asarray(x)
    real = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    try:
        from scipy.special import i1
    except ImportError:
        i1 = None
    if i1 is not None:
        return np.asarray(i1(x), dtype=real)
    t = np.abs(x.astype(np.float64))
    near = np.minimum(t, 30.0)
    y = near * near / 4.0
    series = np.zeros_like(y)
    for k in range(60, -1, -1):  # Horner in y: 1 / (k! (k + 1)!) = 1 / (k+1) * 1 / (k!)^2 built from the top
        series = series * y + 1.0 / (math.factorial(k) * math.factorial(k + 1))
    far = np.maximum(t, 30.0)
    term, tail = np.ones_like(far), np.ones_like(far)
    for k in range(1, 21):
        term = term * -(4.0 - (2 * k - 1) ** 2) / (k * 8.0 * far)
        tail = tail + term
    with np.errstate(over="ignore"):  # (beyond ~713 I_1 overflows, as np.i0 does)
        large = np.exp(far - 0.5 * np.log(2.0 * np.pi * far)) * tail
    return (np.sign(x) * np.where(t <= 30.0, near / 2.0 * series, large)).astype(real)


STATIC = STATIC + ("supported",)
# ---- issue #13, SciPy rules (rules/scipy_*.py) ----------------------------------------------------------


def no_derivative(function, parameter, reason):
    """Stands for the derivative of ``function`` in ``parameter`` where it is not available, as a rule's result
    for that parameter: the compiler refuses it at the call where that argument is differentiated
    (``templates.unavailable``), so emitted code never calls it; a rule called directly raises here (a
    NotImplementedError: this module imports no compiler code, so not the compiler's UnsupportedError)."""
    raise NotImplementedError(
        "the derivative of %s with respect to %s is not supported by adjoint_compiler (%s)"
        % (function, parameter, reason)
    )


def unit_tangent(x):
    """1.0, the tangent along a scalar argument that turns a derivative along it into the gradient in it
    (``derived.compilable``: ``grad(grad(f))`` differentiated again); a TypeError for an array, whose
    gradient is not one derivative along it."""
    if np.ndim(x) != 0:
        raise TypeError(
            "a gradient differentiated again (grad(grad(f)), grad(grad(grad(f))), ...) needs scalar arguments "
            "where the inner ones are taken, got an array of shape %s; use ac.hessian or ac.hvp" % (np.shape(x),)
        )
    return 1.0


def unit_vector(x, i):
    """The ``i``-th unit tangent of the array ``x`` (C order, x's shape, float64 or x's float precision): a
    Hessian's column ``i`` is the derivative of the gradient along it (``derived._second_order_source``)."""
    dtype = x.dtype if getattr(x, "dtype", None) is not None and x.dtype.kind == "f" else float
    e = np.zeros(np.shape(x), dtype)
    e.reshape(-1)[i] = 1
    return e


def is_none(value):
    """``value is None``, as a call: a rule body's test of an optional argument (``b=None``), decided at
    compile time where the argument is a literal (``STATIC``). NumPy's own mark of an argument not passed,
    ``np._NoValue`` (np.diff's prepend=, passed on by a caller), is not passed either."""
    return value is None or value is getattr(np, "_NoValue", None)


def centered(x, shape):
    """The middle part of ``x`` of ``shape`` (``(len - n) // 2`` cut in front on each axis): where
    scipy.signal's modes ``'same'`` and ``'valid'`` cut a full convolution."""
    starts = [(n - m) // 2 for n, m in zip(np.shape(x), shape)]
    return np.asarray(x)[tuple(slice(s, s + m) for s, m in zip(starts, shape))]


def centered_pad(c, shape):
    """``c`` in the middle of zeros of ``shape``: the adjoint of ``centered``."""
    c = np.asarray(c)
    pads = [((n - m) // 2, n - m - (n - m) // 2) for n, m in zip(shape, np.shape(c))]
    return np.pad(c, pads)


def missing_attribute(module, attr, filename, line, col):
    """``module.attr`` where the module has no such attribute (a branch for another version of a library,
    ``np.trapezoid if hasattr(np, "trapezoid") else np.trapz``): raises as Python would, where it is reached."""
    raise AttributeError("%s:%d:%d: module %r has no attribute %r" % (filename, line, col, module.__name__, attr))


HELPERS = HELPERS + ("bessel_i1",)
HELPERS = HELPERS + ("no_derivative", "is_none", "centered", "centered_pad", "missing_attribute")
STATIC = STATIC + ("is_none",)

# ---- reduce13 (issue #13): NumPy reductions and element-wise functions ----------------------------


def quantile_method(method):
    """1.0 for np.quantile's and np.percentile's methods, each a weighted sum of one or two order statistics
    (``quantile_spread``); raises NotImplementedError (a refusal at the call, where ``method`` is a literal) for
    a name NumPy does not know either."""
    if method not in _QUANTILE_METHODS:
        raise NotImplementedError(
            "the gradient of a quantile with method=%r: the methods differentiated are NumPy's, %s"
            % (method, ", ".join(_QUANTILE_METHODS))
        )
    return 1.0


_QUANTILE_METHODS = (
    "linear",
    "lower",
    "higher",
    "nearest",
    "midpoint",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
)


def copied(copy):
    """1.0 for np.nan_to_num's copy=True; raises NotImplementedError (a refusal at the call, where ``copy``
    is a literal) for copy=False, which would overwrite the caller's array."""
    if not copy:
        raise NotImplementedError(
            "np.nan_to_num(copy=False), which overwrites its argument in place; drop copy=False "
            "(the compiler never changes the caller's arrays)"
        )
    return 1.0


def axes_from_end(axis, ndim):
    """``axis`` (an int or a tuple of ints, of an array of ``ndim`` axes) counted from the end, so that it
    keeps its meaning where leading axes are added (np.quantile's result has q's axes first)."""
    if isinstance(axis, tuple):
        return tuple(a % ndim - ndim for a in axis)
    return axis % ndim - ndim


def _gradient_axes(f, axis, spacings):
    """The axes np.gradient differentiates ``f`` along, and one spacing per axis (None: not given). Raises
    NotImplementedError where np.gradient's rule bound the call otherwise than NumPy: more than four
    spacings, whose fifth it took for ``axis``."""
    hs = [h for h in spacings if h is not None]
    ndim = np.ndim(f)
    if axis is None:
        axes = tuple(range(ndim))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        axes = (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes) or len(hs) not in (
        0,
        1,
        len(axes),
    ):
        raise NotImplementedError(
            "the derivative of np.gradient with more than four spacings (one per axis); call it once per axis, "
            "np.gradient(f, h, axis=k)"
        )
    hs = hs * len(axes) if len(hs) == 1 else hs if hs else [1.0] * len(axes)
    return tuple(int(a) % ndim for a in axes), hs


def gradient_of(f, axis, edge_order, *spacings):
    """``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` with the spacings given (a None is one
    not given): np.gradient's rule names NumPy's ``*varargs`` one to four parameters."""
    _gradient_axes(f, axis, spacings)
    return np.gradient(f, *[h for h in spacings if h is not None], axis=axis, edge_order=edge_order)


def _gradient_transpose(g, axis, spacing, edge_order):
    """``D^T g`` along ``axis``, D the matrix of np.gradient along that axis (central differences inside,
    one-sided ones of ``edge_order`` at the ends; ``spacing`` a number or coordinates). Row i of D reads
    columns i-2..i+2 only, so np.gradient of the comb of every fifth element (c, c+5, ...) gives, in row
    i, D's one entry of that comb's column near i: NumPy's own coefficients, for O(n) work (the n x n
    matrix would take O(n^2))."""
    moved = np.moveaxis(g, axis, 0)
    n = moved.shape[0]
    j = np.arange(n)
    combs = (j % 5 == np.arange(5)[:, None]).astype(float)
    cols = np.gradient(combs, spacing, axis=1, edge_order=edge_order)  # cols[j % 5, i] == D[i, j], |i - j| <= 2
    out = np.zeros(moved.shape, np.result_type(moved, cols))
    for s in range(-2, 3):
        ok = (j + s >= 0) & (j + s < n)
        rows, columns = j[ok] + s, j[ok]
        out[columns] += np.reshape(cols[columns % 5, rows], (-1,) + (1,) * (moved.ndim - 1)) * moved[rows]
    return np.moveaxis(out, 0, axis)


def gradient_bar(g, ans, f, axis, edge_order, *spacings):
    """The cotangent of ``f`` in ``ans = np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` (None
    spacings: not given) from the result's ``g``: ``sum_k D_k^T g_k`` over the axes k asked for (all of them
    where ``axis`` is None), ``g_k`` the cotangent of the k-th array of the list (or tuple) that np.gradient
    returns for several axes (a zero where that array reached nothing), or ``g`` itself for one axis."""
    f = np.asarray(f)
    axes, hs = _gradient_axes(f, axis, spacings)
    several = isinstance(ans, (list, tuple))
    gs = [g] if not several else [g] * len(axes) if np.ndim(g) == 0 else list(g)  # (a zero for all, or a stack)
    if len(gs) != len(axes):
        raise ValueError("np.gradient's adjoint got %d cotangents for %d axes" % (len(gs), len(axes)))
    total = 0.0
    for a, gk, h in zip(axes, gs, hs):
        total = total + _gradient_transpose(np.broadcast_to(gk, f.shape), a, h, edge_order)
    return np.broadcast_to(total, f.shape) if np.ndim(total) == 0 else total


def gradient_spaced(f, spacings, axis=None, edge_order=1):
    """``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` written as NumPy the compiler
    differentiates (desugar.py lowers a call of np.gradient given spacings that are not number literals
    to it), in ``f`` and in every spacing: each axis apart (``gradient_along``), a number spacing by
    np.gradient's own rule (``gradient_of``), coordinates by NumPy's formula for uneven spacing."""
    axes = gradient_axes(f, spacings, axis, edge_order)
    parts = []
    for k in range(len(axes)):
        h = spacings[0] if len(spacings) == 1 else spacings[k]
        parts.append(gradient_along(f, h, axes[k], edge_order))
    if len(axes) == 1:
        return parts[0]
    if GRADIENT_TUPLE:
        return tuple(parts)
    return parts


GRADIENT_TUPLE = isinstance(np.gradient(np.zeros((3, 3))), tuple)  # NumPy 2 returns a tuple, NumPy 1 a list
HELPERS = HELPERS + ("gradient_axes", "gradient_type")  # (read by gradient_spaced's compiled code: copied in by export)


def gradient_axes(f, spacings, axis, edge_order):
    """The axes (non-negative ints) ``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` differentiates
    along. A call NumPy rejects raises NumPy's own error: np.gradient of each axis's samples alone (cheap: its
    length, one spacing), or of ``f`` itself where the axes or the number of spacings do not fit."""
    ndim = np.ndim(f)
    axes = tuple(range(ndim)) if axis is None else tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    fits = all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) and -ndim <= a < ndim for a in axes)
    one = len(spacings) == 1 and np.ndim(spacings[0]) == 0  # NumPy: one number for every axis, or one per axis
    if not fits or len(set(int(a) % ndim for a in axes)) != len(axes) or not one and len(spacings) != len(axes):
        np.gradient(f, *spacings, axis=axis, edge_order=edge_order)  # raises NumPy's error
    axes = tuple(int(a) % ndim for a in axes)
    for k, a in enumerate(axes):
        np.gradient(np.zeros(np.shape(f)[a]), spacings[0] if len(spacings) == 1 else spacings[k], edge_order=edge_order)
    return axes


def gradient_along(f, x, axis, edge_order):
    """``np.gradient(f, x, axis=axis, edge_order=edge_order)`` for one axis, as NumPy the compiler differentiates
    in ``f`` and ``x``: np.gradient itself (its rule) for a number spacing ``x``; for coordinates ``x`` (one
    per element along the axis, not evenly spaced in general), NumPy's formula for uneven spacing, with
    ``hd = x[i] - x[i-1]``, ``hs = x[i+1] - x[i]``: inside, the second-order three-point difference
    ``(-hs/(hd (hd+hs))) f[i-1] + ((hs-hd)/(hd hs)) f[i] + (hd/(hs (hd+hs))) f[i+1]``; at the ends the
    one-sided differences of ``edge_order`` 1 or 2 (numpy/lib/_function_base_impl.py). For evenly spaced
    coordinates NumPy computes the same values by its even formula, which may differ in the last bits;
    the uneven one is used throughout, as its derivative in ``x`` is the true one."""
    if np.ndim(x) == 0:
        return gradient_of(f, axis, edge_order, x)
    m = np.moveaxis(np.asarray(f), axis, -1)
    d = np.diff(x)
    d1 = d[:-1]
    d2 = d[1:]
    inner = (
        -d2 / (d1 * (d1 + d2)) * m[..., :-2] + (d2 - d1) / (d1 * d2) * m[..., 1:-1] + d1 / (d2 * (d1 + d2)) * m[..., 2:]
    )
    if edge_order == 1:
        first = (m[..., 1:2] - m[..., 0:1]) / d[0]
        last = (m[..., -1:] - m[..., -2:-1]) / d[-1]
    else:
        a1 = d[0]
        a2 = d[1]
        first = (
            -(2.0 * a1 + a2) / (a1 * (a1 + a2)) * m[..., 0:1]
            + (a1 + a2) / (a1 * a2) * m[..., 1:2]
            - a1 / (a2 * (a1 + a2)) * m[..., 2:3]
        )
        b1 = d[-2]
        b2 = d[-1]
        last = (
            b2 / (b1 * (b1 + b2)) * m[..., -3:-2]
            - (b2 + b1) / (b1 * b2) * m[..., -2:-1]
            + (2.0 * b2 + b1) / (b2 * (b1 + b2)) * m[..., -1:]
        )
    # (in f's precision, as NumPy's result: float32 values make float32 differences; integers float64)
    return np.moveaxis(np.concatenate((first, inner, last), axis=-1), -1, axis).astype(gradient_type(m))


def gradient_type(f):
    """The dtype of np.gradient's result for ``f``: its own if it is inexact, else float64."""
    return f.dtype if np.issubdtype(f.dtype, np.inexact) else np.dtype(np.float64)


def one_spacing(spacing2):
    """1.0 where np.gradient got one spacing for every axis (``spacing2`` None); raises NotImplementedError for
    several (one per axis), whose derivatives np.gradient's rule does not model."""
    if spacing2 is not None:
        raise NotImplementedError(
            "the derivative of np.gradient with respect to a spacing when several are given (one per axis); "
            "pass them as constants, or one number spacing"
        )
    return 1.0


def structured_times(ans, factor):
    """``ans * factor`` for one array, or each array of the list (tuple) np.gradient returns for several axes:
    np.gradient's tangent in its spacing. For several, a ``TangentParts`` (a tuple) or ``TangentList``, which
    forward mode adds to the tangent in f (np.gradient's tuple or list) element by element, not as ``+`` joins
    sequences, keeping the result's type."""
    if isinstance(ans, list):
        return TangentList(a * factor for a in ans)
    if isinstance(ans, tuple):
        return TangentParts(a * factor for a in ans)
    return ans * factor


class TangentList(list):
    """``TangentParts`` for a list result (np.gradient's on NumPy 1): ``+`` adds element by element, also as
    the right operand of a plain list (Python tries a subclass's ``__radd__`` first), giving a plain list."""

    def __add__(self, other):
        return [a + b for a, b in zip(self, other)]

    __radd__ = __add__


def spacing_bar(g, ans, spacing):
    """The cotangent of np.gradient's spacing h, a number: the differences are divided by h, so it is
    -sum(g ans) / h. Raises NotImplementedError for coordinates (an array), whose derivative the rule
    does not model; only called where the spacing is differentiated."""
    if np.ndim(spacing) != 0:
        raise NotImplementedError(
            "the derivative of np.gradient with respect to its coordinates (an array spacing); "
            "pass them as a constant, or a number spacing"
        )
    return -np.sum(g * ans) / spacing


def only_defaults(*names_and_values, at=None):
    """1 where each of a reduction's parameters that its rule does not model (``"dtype", dtype, "out",
    out, ...``) was left at its default (None); raises NotImplementedError (a refusal at the call, where
    they are literals) naming one that was not, located ``at`` the user's call (``templates.locate``) when it
    runs with the gradient. The rule takes them only so that positional arguments bind as in NumPy:
    np.sum(x, 1, np.float64) passes a dtype, not keepdims."""
    for name, value in zip(names_and_values[::2], names_and_values[1::2]):
        if value is not None:
            raise NotImplementedError(
                "%sthe gradient of a reduction with %s= is not supported by adjoint_compiler (a dtype may round, "
                "out= aliases, initial= and where= change which elements count); leave it out, e.g. cast with "
                ".astype first" % ("" if at is None else at + ": error: ", name)
            )
    return 1


def unless_float(dtype):
    """None where a reduction's ``dtype=`` is None or a real floating type, which its rule models (the sum runs
    in that precision; the cotangent goes back in the argument's), else ``dtype`` itself, for ``only_defaults``
    to refuse: an integer or boolean accumulator rounds (no derivative), a complex one makes real values
    complex. A pure function of a literal (``STATIC``), so a literal dtype is refused at the call.

    >>> unless_float("float32") is None, unless_float(None) is None, unless_float("int64")
    (True, True, 'int64')
    """
    return None if dtype is None or np.dtype(dtype).kind == "f" else dtype


def unless_real(dtype):
    """None where a reduction's ``dtype=`` is None, a real floating, integer or boolean type, which its rule
    models (a floating one computes in that precision; an integer or boolean one rounds: ``rounded``), else
    ``dtype`` itself, for ``only_defaults`` to refuse (a complex accumulator makes real values complex). A pure
    function of a literal (``STATIC``).

    >>> unless_real("int64") is None, unless_real(bool) is None, unless_real("complex128")
    (True, True, 'complex128')
    """
    return None if dtype is None or np.dtype(dtype).kind in "fiub" else dtype


def rounded(dtype):
    """1 where a reduction's ``dtype=`` is an integer or boolean type, else 0: the reduction then casts the elements
    to it (NumPy's unsafe cast) and its result is integers, piecewise constant in the operand, whose derivative is
    0, as ``x.astype(int)``'s (docs/limitations.md). A pure function of a literal (``STATIC``).

    >>> rounded("int32"), rounded(np.bool_), rounded(None), rounded("float32")
    (1, 1, 0, 0)
    """
    return int(dtype is not None and np.dtype(dtype).kind in "iub")


def unless_rounded(dtype, checked):
    """``checked`` (``only_defaults``' 1) where a reduction's ``dtype=`` does not round, else 0 (``rounded``): the
    factor a rule's cotangent takes, one call of literals that folds to one literal where dtype is one (``STATIC``).

    >>> unless_rounded(None, 1), unless_rounded("int8", 1)
    (1, 0)
    """
    return 0 if rounded(dtype) else checked


def joined_type(arrays):
    """The dtype of the cotangents of ``arrays`` joined into one (np.concatenate's): their promoted dtype, float64
    for integers. np.concatenate(dtype=) joins them in another precision; their cotangents go back in theirs."""
    joined = np.result_type(*[np.asarray(a).dtype for a in arrays])
    return joined if joined.kind in "fc" else np.dtype(np.float64)


def kept_share(where, like, axis=None):
    """Each element's share of a ``np.mean(x, axis, where=where)`` over ``like``'s shape: 1 / (how many
    elements its slice keeps) where ``where`` keeps it, else 0 (also in a slice that keeps none, whose
    mean is nan: no other output reads those elements)."""
    kept = np.broadcast_to(where, np.shape(like))
    return kept / np.maximum(np.sum(kept, axis=axis, keepdims=True), 1)


HELPERS = HELPERS + (
    "quantile_method",
    "copied",
    "axes_from_end",
    "spacing_bar",
    "only_defaults",
    "kept_share",
    "unless_float",
    "unless_real",
    "rounded",
    "unless_rounded",
    "joined_type",
)


def structured_inner(a, b):
    """``sum(a * b)``, or the sum of ``sum(a_k * b_k)`` over the arrays of two lists or tuples (a zero for one):
    the derivative of ``structured_times`` in its factor."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return sum(np.sum(np.multiply(x, y)) for x, y in zip(a, b))
    return np.sum(np.multiply(a, b))


def real_only(z, what):
    """1.0 where ``z`` is real (a rule's factor), or in a call with complex arguments (there the API runs only
    rules written for complex values); raises NotImplementedError for a complex ``z`` made inside a function
    of real arguments, where the rule would drop the complex derivative of ``what`` (np.angle of a complex
    value varies with it)."""
    if np.iscomplexobj(z) and not _in_complex_call():
        raise NotImplementedError(
            "the derivative of %s of a complex value: complex differentiation is not supported by adjoint_compiler "
            "(its rule covers real arguments only)" % what
        )
    return 1.0


def imag_bar(g, val):
    """The cotangent of ``val`` from that of ``np.imag(val)``: 0 for a real ``val`` (its imaginary part does not
    vary), ``-1j * Re(g)`` for a complex one (Im z pairs c with dz as Re(-1j Re(c) dz); docs/complex.md)."""
    if np.iscomplexobj(val) and _in_complex_call():
        return -1j * np.real(g)
    return np.zeros_like(val) * g  # (complex zeros for a complex value made from real arguments: the API refuses)


def angle_bar(g, z, deg=False):
    """The cotangent of ``z`` from that of ``np.angle(z, deg)``: 0 for a real ``z`` (0 or pi, piecewise
    constant), and for a complex one ``-1j Re(g) conj(z) / |z|^2`` (d angle = Im(conj(z) dz) / |z|^2), times
    180 / pi with ``deg``; 0 at z == 0, where the angle has no derivative (as np.sign's slope of |x| there)."""
    if not (np.iscomplexobj(z) and _in_complex_call()):
        return 0.0 * g * real_only(z, "np.angle")  # (a complex z made from real arguments: refused)
    size = np.real(z * np.conj(z))
    out = -1j * np.real(g) * np.conj(z) / np.where(size == 0, 1.0, size)
    return out * (180.0 / np.pi) if deg else out


DEPENDS.update(
    imag_bar=("_in_complex_call",), angle_bar=("real_only", "_in_complex_call"), real_only=("_in_complex_call",)
)
HELPERS = HELPERS + (
    "imag_bar",
    "angle_bar",
    "real_only",
    "gradient_of",
    "gradient_bar",
    "one_spacing",
    "structured_times",
    "structured_inner",
    "TangentList",
)
STATIC = STATIC + ("quantile_method", "copied", "axes_from_end", "only_defaults", "unless_float")
STATIC = STATIC + ("unless_real", "rounded", "unless_rounded")
DEPENDS.update(unless_rounded=("rounded",))
# ---- emit14 (issue #14): np.matmul's adjoint in one call, with the textbook formula for matrices and vectors ----


# module globals for helpers a loop calls each step: one load each, where np.ndarray is two
_NDARRAY = np.ndarray
_DOT = np.dot


def matmul_bar1(g, x1, x2):
    """The cotangent of ``x1`` in ``x1 @ x2`` from the result's ``g``: the adjoint of ``x1 -> x1 @ x2``.
    Arrays of 1 or 2 axes take ``g @ x2.T`` (or its vector forms) directly; anything else (stacks, lists)
    the general form, which promotes vectors and sums batch axes back (``_matmul_general``). For arrays
    of 1 and 2 axes np.dot is np.matmul, and cheaper on small ones: it hands a transposed operand to BLAS
    as it is, and a product over one term (an outer product, ``g @ x2.T`` for a column x2) runs in about
    a quarter of np.matmul's time; np.multiply.outer is np.outer without its ravel layers.

    ``g`` may also be the cotangent of an element-wise operation that broadcast the product (``x @ w + c``,
    ``c`` larger: the compiler then leaves out ``unbroadcast(g, x @ w)``, and a loop need not keep the
    product's shape): it is summed back to the product's shape first. A textbook result of another shape
    than ``x1`` says that happened (a broadcast ``g`` never gives ``x1``'s shape: a broadcast axis of
    length 1 in the product is an axis of length 1 in ``x1`` or ``x2``, one in ``g`` it is not), and so
    does a ``g`` np.dot cannot take."""
    if type(g) is _NDARRAY and type(x1) is _NDARRAY and type(x2) is _NDARRAY and x1.ndim == 2 == x2.ndim:
        # the common case first (a loop pays these checks each step): two matrices, g @ x2.T
        try:
            out = _DOT(g, x2.T)
        except ValueError:
            out = None
        if out is not None and out.shape == x1.shape:
            return out
        return _matmul_general(g, x1, x2)[0]
    if type(x2) is np.ndarray and type(x1) is np.ndarray:
        n1, n2 = x1.ndim, x2.ndim
        if n1 == 1 and n2 == 1 and np.ndim(g) == 0:
            return g * x2  # (a number, x1 . x2: the general form took ten NumPy calls for this)
        if type(g) is not np.ndarray:
            return _matmul_general(g, x1, x2)[0]
        try:
            if n1 == 2 and n2 == 2:
                out = np.dot(g, x2.T)
            elif n1 == 2 and n2 == 1:
                out = np.multiply.outer(g, x2)
            elif n1 == 1 and n2 == 2:
                out = np.dot(x2, g)
            else:
                out = None
        except ValueError:  # (a broadcast g whose axes do not fit the product's: the general form sums it)
            out = None
        if out is not None and out.shape == x1.shape:
            return out
    return _matmul_general(g, x1, x2)[0]


def matmul_bar2(g, x1, x2):
    """The cotangent of ``x2`` in ``x1 @ x2``: the adjoint of ``x2 -> x1 @ x2`` (see ``matmul_bar1``)."""
    if type(g) is _NDARRAY and type(x1) is _NDARRAY and type(x2) is _NDARRAY and x1.ndim == 2 == x2.ndim:
        try:  # (the common case first, as in matmul_bar1: x1.T @ g)
            out = _DOT(x1.T, g)
        except ValueError:
            out = None
        if out is not None and out.shape == x2.shape:
            return out
        return _matmul_general(g, x1, x2)[1]
    if type(x1) is np.ndarray and type(x2) is np.ndarray:
        n1, n2 = x1.ndim, x2.ndim
        if n1 == 1 and n2 == 1 and np.ndim(g) == 0:
            return g * x1
        if type(g) is not np.ndarray:
            return _matmul_general(g, x1, x2)[1]
        try:
            if n1 == 2 and (n2 == 2 or n2 == 1):
                out = np.dot(x1.T, g)
            elif n1 == 1 and n2 == 2:
                out = np.multiply.outer(x1, g)
            else:
                out = None
        except ValueError:
            out = None
        if out is not None and out.shape == x2.shape:
            return out
    return _matmul_general(g, x1, x2)[1]


def _matmul_general(g, x1, x2):
    """Both cotangents of ``x1 @ x2`` for any operands: C = A B gives A_bar = C_bar B^T, B_bar = A^T C_bar
    on every matrix of the stack. A ``g`` larger than the product (broadcast by an element-wise operation)
    is first summed back to the product's shape. A 1-d x1 is promoted to a row (1, n) and a 1-d x2 to a
    column (n, 1), and g gets back the axis each promotion removed from the result (last for x2, then
    second-to-last for x1: a scalar g becomes (1, 1)). unbroadcast sums over the batch axes an operand was
    broadcast along; the final reshape drops the promoted axis again."""
    a = np.reshape(x1, (1, -1)) if np.ndim(x1) == 1 else np.asarray(x1)
    b = np.reshape(x2, (-1, 1)) if np.ndim(x2) == 1 else np.asarray(x2)
    g = np.asarray(g)
    product = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    if np.ndim(x2) == 1:
        product = product[:-1]
    if np.ndim(x1) == 1:
        product = product[:-2] + product[-1:] if np.ndim(x2) != 1 else product[:-1]
    if g.shape != product:  # (a zero-stride view stands for the product: only its shape is read)
        g = np.asarray(unbroadcast(g, np.broadcast_to(0.0, product)))
    if np.ndim(x2) == 1:
        g = g[..., None]
    if np.ndim(x1) == 1:
        g = g[..., None, :]
    return (
        np.reshape(unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a), np.shape(x1)),
        np.reshape(unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b), np.shape(x2)),
    )


def dot_bar1(g, a, b):
    """The cotangent of ``a`` in ``np.dot(a, b)`` from the result's ``g``: the adjoint of ``a -> np.dot(a, b)``.
    For arrays of 1 and 2 axes np.dot is np.matmul (``matmul_bar1``); otherwise ``_dot_general``."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim < 3 and 0 < b.ndim < 3:
        return matmul_bar1(g, a, b)
    return _dot_general(g, a, b)[0]


def dot_bar2(g, a, b):
    """The cotangent of ``b`` in ``np.dot(a, b)``: the adjoint of ``b -> np.dot(a, b)`` (see ``dot_bar1``)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and 0 < a.ndim < 3 and 0 < b.ndim < 3:
        return matmul_bar2(g, a, b)
    return _dot_general(g, a, b)[1]


def _dot_general(g, a, b):
    """Both cotangents of ``np.dot(a, b)`` for any operands. np.dot multiplies when an operand is a number, and
    otherwise contracts a's last axis with b's second-to-last (its only axis when b is 1-d): the product is
    tensordot(a, b, axes=(-1, cb)), whose axes are a's free axes then b's. So g's first na axes are a's free
    ones and its others b's free ones; contracting g with b over b's free axes leaves a's shape, and
    contracting a with g over a's free axes leaves (n,) + b's free axes, with the contracted axis moved back
    to cb. For a number (k = 0) nothing is contracted, and the same formulas give g * b summed to a number,
    or a * g."""
    k = min(np.ndim(a), np.ndim(b), 1)
    na = np.ndim(a) - k
    cb = max(np.ndim(b) - 2, 0)
    contracted = np.arange(k) + cb
    b_free = np.delete(np.arange(np.ndim(b)), contracted)
    da = np.tensordot(g, b, axes=(np.arange(na, np.ndim(g)), b_free))
    db = np.moveaxis(np.tensordot(a, g, axes=(np.arange(na), np.arange(na))), np.arange(k), contracted)
    return da, db


HELPERS = HELPERS + ("matmul_bar1", "matmul_bar2", "dot_bar1", "dot_bar2", "writable", "Spread", "_spread_call")
DEPENDS.update(matmul_bar1=("_matmul_general", "unbroadcast"), matmul_bar2=("_matmul_general", "unbroadcast"))
DEPENDS.update(
    dot_bar1=("matmul_bar1", "_matmul_general", "unbroadcast", "_dot_general"),
    dot_bar2=("matmul_bar2", "_matmul_general", "unbroadcast", "_dot_general"),
)
# ---- ho11c (issue #11): the joining and splitting functions' adjoints as two helpers, each the other's adjoint ----


def _joined_blocks(arrays, how, axis):
    """``(axis, shapes)``: the axis along which ``how`` (``"concatenate"``, ``"stack"``, ``"hstack"``,
    ``"vstack"``, ``"dstack"``, ``"column_stack"``) joins ``arrays``, and the shape of each array's block
    of the result (the array promoted as the function promotes it: np.atleast_2d for vstack ...).
    np.concatenate with ``axis=None`` joins the flattened arrays: axis 0 of the flattened result."""
    if how == "concatenate":
        if axis is None:
            return 0, [(np.size(a),) for a in arrays]
        return axis, [np.shape(a) for a in arrays]
    if how == "stack":
        return axis, [np.shape(np.expand_dims(a, axis)) for a in arrays]
    if how == "hstack":  # along axis 0 when the first is 1-d (as NumPy decides)
        shapes = [np.shape(np.atleast_1d(a)) for a in arrays]
        return (0 if len(shapes[0]) == 1 else 1), shapes
    if how == "vstack":
        return 0, [np.shape(np.atleast_2d(a)) for a in arrays]
    if how == "dstack":
        return 2, [np.shape(np.atleast_3d(a)) for a in arrays]
    if how == "column_stack":  # fewer than two axes: one column
        return 1, [np.shape(a) if np.ndim(a) >= 2 else (np.size(a), 1) for a in arrays]
    raise ValueError("unjoin: how=%r" % (how,))


def _block_layout(arrays):
    """``(depth, ndim)`` of ``np.block(arrays)``: how deep its lists nest, and the number of axes of the result (each
    array promoted with leading 1s to the larger of the two); NumPy joins the innermost lists along the last axis,
    the outer ones along the axes before it."""
    depth, item = 0, arrays
    while isinstance(item, list):
        depth, item = depth + 1, item[0] if item else None
    leaves = []
    stack = [arrays]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(x)
        else:
            leaves.append(np.ndim(x))
    return depth, max(leaves + [depth])


def _block_shape(item, level, depth, ndim):
    """The shape of ``item``'s block of ``np.block``'s result: an array's own, padded with leading 1s; a list's, its
    items' blocks joined along the axis of its level (``ndim - depth + level``)."""
    if not isinstance(item, list):
        return (1,) * (ndim - np.ndim(item)) + np.shape(item)
    shapes = [_block_shape(x, level + 1, depth, ndim) for x in item]
    along = ndim - depth + level
    return shapes[0][:along] + (sum(s[along] for s in shapes),) + shapes[0][along + 1 :]


def _unblock(g, item, level, depth, ndim):
    if not isinstance(item, list):
        return np.reshape(g, np.shape(item))
    along = ndim - depth + level
    ends = np.cumsum([_block_shape(x, level + 1, depth, ndim)[along] for x in item])
    return [_unblock(p, x, level + 1, depth, ndim) for p, x in zip(np.split(g, ends[:-1], along), item)]


def _reblock(hs, item, level, depth, ndim):
    if not isinstance(item, list):
        return np.reshape(np.broadcast_to(0.0 if hs is None else hs, np.shape(item)), _block_shape(item, 0, 0, ndim))
    along = ndim - depth + level
    return np.concatenate([_reblock(h, x, level + 1, depth, ndim) for h, x in zip(hs, item)], along)


def unjoin(g, arrays, how="concatenate", axis=0):
    """The cotangents of ``arrays`` from the cotangent ``g`` of the array ``how`` joined them into
    (``np.concatenate(arrays, axis)``, ``np.stack(arrays, axis)``, ``np.hstack(arrays)`` ...): a list
    with each array's block of ``g``, in that array's shape. Linear in ``g`` (``arrays`` give shapes
    only); its adjoint is ``rejoin``, so the gradient of a join can be differentiated again.

    >>> [p.tolist() for p in unjoin(np.arange(5.0), [np.zeros(2), np.zeros(3)])]
    [[0.0, 1.0], [2.0, 3.0, 4.0]]
    """
    if how == "block":  # np.block(arrays) (rules22): nested lists, one level of lists per axis from the last back
        return _unblock(np.asarray(g), arrays, 0, *_block_layout(arrays))
    along, shapes = _joined_blocks(arrays, how, axis)
    g = np.reshape(g, -1) if how == "concatenate" and axis is None else np.asarray(g)
    ends = np.cumsum([s[along] for s in shapes])
    return [np.reshape(p, np.shape(a)) for p, a in zip(np.split(g, ends[:-1], along), arrays)]


def rejoin(hs, arrays, like, how="concatenate", axis=0):
    """``unjoin``'s adjoint in ``g``, and the cotangent of the array the splitting functions (np.split,
    hsplit ...) split into pieces: each of ``hs`` (one per array of ``arrays``; a number or None for one
    whose cotangent is zero) as its array's block, joined as ``how`` joins ``arrays``, in ``like``'s
    shape. Linear in ``hs``; its adjoint is ``unjoin``.

    >>> rejoin([np.ones(2), 0.0], [np.zeros(2), np.zeros(3)], np.zeros(5)).tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0]
    """
    if how == "block":  # (np.block's nested lists: hs nests as arrays does)
        return np.reshape(_reblock(hs, arrays, 0, *_block_layout(arrays)), np.shape(like))
    along, shapes = _joined_blocks(arrays, how, axis)
    blocks = [
        np.reshape(np.broadcast_to(0.0 if h is None else h, np.shape(a)), s) for h, a, s in zip(hs, arrays, shapes)
    ]
    return np.reshape(np.concatenate(blocks, along), np.shape(like))


def numbered(items, start=1):
    """Element numbers for ``items`` (arrays or numbers): consecutive integers from ``start``, one array per
    item in its shape (the adjoints of np.choose and np.select sum ``g`` per number with np.bincount)."""
    sizes = [np.size(a) for a in items]
    ends = np.cumsum(sizes) + start
    return [np.reshape(np.arange(e - n, e), np.shape(a)) for e, n, a in zip(ends, sizes, items)]


def sizes_of(items):
    """The number of elements of each of ``items``, as an integer array."""
    return np.array([np.size(a) for a in items], dtype=np.intp)


HELPERS = HELPERS + ("_joined_blocks", "_block_layout", "_block_shape", "_unblock", "_reblock", "unjoin", "rejoin")
HELPERS = HELPERS + ("numbered", "sizes_of")
_BLOCKS = ("_block_layout", "_block_shape", "_unblock", "_reblock")
DEPENDS.update(unjoin=("_joined_blocks",) + _BLOCKS, rejoin=("_joined_blocks",) + _BLOCKS)


def repeat_bar(g, counts):
    """The sums of ``g``'s runs of ``counts[k]`` entries along its last axis, 0 for a count of 0: the adjoint of
    ``np.repeat`` with one count per element (its axis moved last). Linear in ``g``; its own adjoint is
    ``np.repeat(g, counts, -1)`` (rules/runtime_rules.py), so forward mode follows np.repeat's gradient.
    ``np.add.reduceat`` over ``g`` padded with one zero, so that a start at the end is in range; an element
    with no copies gets reduceat's single element ``g[start]``, masked to 0.

    >>> repeat_bar(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 0, 3])).tolist()
    [1.0, 0.0, 9.0]
    """
    padded = np.concatenate([g, np.zeros(np.shape(g)[:-1] + (1,), np.result_type(g, 0.0))], -1)
    return np.add.reduceat(padded, np.cumsum(counts) - counts, -1) * (counts > 0)


def unique_inverse(ar):
    """``np.unique(ar, return_inverse=True)[1]``, flattened: the position of each element's value among the
    sorted distinct values (integers, for the adjoint of ``np.unique``)."""
    return np.ravel(np.unique(ar, return_inverse=True)[1])


HELPERS = HELPERS + ("repeat_bar", "unique_inverse")


def pad_linear(x, pad_width, mode, stat_length=None):
    """``np.pad(x, pad_width, mode)`` in a mode whose padded values are linear in ``x``: 'mean' (with
    ``stat_length``), 'linear_ramp' with its end values 0 (the part of the ramp that is linear in ``x``), or
    'reflect_odd' / 'symmetric_odd' (mode 'reflect' / 'symmetric' with reflect_type='odd': 2 edge - reflection,
    again from each new edge where the pad is longer than the array). The tangent of those modes of np.pad, and the
    adjoint of ``pad_linear_bar``."""
    x = np.asarray(x)
    if mode == "mean":
        return np.pad(x, pad_width, mode="mean", stat_length=stat_length)
    if mode == "reflect_odd" or mode == "symmetric_odd":
        return np.pad(x, pad_width, mode=mode[:-4], reflect_type="odd")
    return np.pad(x, pad_width, mode="linear_ramp", end_values=0)


def pad_linear_bar(g, x, pad_width, mode, stat_length=None):
    """The adjoint of ``pad_linear(x, ...)`` at the cotangent ``g`` of its result (x gives only the shape): np.pad
    pads axis by axis, each axis by one linear map of its length, the same for every line along it (the mean of
    some of the line's elements, or a ramp from its edge element), so the whole map is their product over the
    axes and its transpose applies each one's transpose along its axis. Each map is np.pad of the identity along
    that axis alone: exact, and O(size * padded length) per axis.

    >>> pad_linear_bar(np.ones(4), np.zeros(2), 1, "mean").tolist()  # [m, a, b, m]: m = (a + b) / 2
    [2.0, 2.0]
    """
    shape = np.shape(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (len(shape), 2))
    lengths = np.broadcast_to(np.asarray(stat_length if stat_length is not None else 0, dtype=np.intp), (len(shape), 2))
    out = np.asarray(g)
    for axis, n in enumerate(shape):
        eye = np.eye(n, dtype=np.result_type(out, 0.0))
        width = ((int(widths[axis, 0]), int(widths[axis, 1])), (0, 0))
        stat = None if stat_length is None else ((int(lengths[axis, 0]), int(lengths[axis, 1])), (1, 1))
        matrix = pad_linear(eye, width, mode, stat)  # (padded length, n): column j is e_j padded
        out = np.moveaxis(np.tensordot(out, matrix, axes=([axis], [0])), -1, axis)
    return out


HELPERS = HELPERS + ("pad_linear", "pad_linear_bar")
DEPENDS.update(pad_linear_bar=("pad_linear",))


# ---- py12e (issue #12): xs.sort() and a.sort(axis=...) in place, as the value they leave ----------------------


def sorted_in_place(xs, key=None, reverse=False, axis=(), kind=None):
    """What ``xs.sort(key=key, reverse=reverse)`` (a list) or ``xs.sort(axis=axis)`` (an array) leaves in
    ``xs``, as a new object: the compiled code assigns it to ``xs`` (anf.py), the caller's argument given its
    contents at return (``put_back``). ``axis=()`` is a call without one (ndarray.sort's default -1; its
    ``axis=None`` raises, as NumPy's). Raises Python's TypeError for the keywords the receiver's own ``sort``
    does not take."""
    if isinstance(xs, np.ndarray):
        if key is not None or reverse is not False:
            raise TypeError("'%s' is an invalid keyword argument for ndarray.sort()" % ("key" if key else "reverse"))
        out = xs.copy()
        out.sort(axis=_sort_axis(axis), kind=kind)  # NumPy's TypeError for axis=None
        return out
    if isinstance(xs, list):
        if axis != () or kind is not None:  # a list's sort takes neither
            raise TypeError("'%s' is an invalid keyword argument for sort()" % ("kind" if kind is not None else "axis"))
        return sorted(xs, key=key, reverse=reverse)
    if not hasattr(xs, "sort"):
        raise AttributeError("'%s' object has no attribute 'sort'" % type(xs).__name__)
    raise TypeError("adjoint_compiler differentiates .sort() of a list or an array, not of a %s" % type(xs).__name__)


def _sort_axis(axis):
    """The axis ``ndarray.sort`` sorts along: -1 for ``()``, the call without one (None is NumPy's error)."""
    return -1 if type(axis) is tuple and not axis else axis


def _sorted_in_place_order(xs, axis):
    """The stable order of an array's elements along ``axis`` (``_sort_axis``): where each sorted one came from."""
    return np.argsort(xs, axis=_sort_axis(axis), kind="stable")


def sorted_in_place_bar(g, xs, key=None, reverse=False, axis=(), kind=None):
    """The cotangent of ``xs`` from ``g``, that of ``sorted_in_place(xs, ...)``: each element's goes back to the
    position it came from (equal elements: in their order, as ``sorted_bar`` and np.sort's adjoint)."""
    if isinstance(xs, np.ndarray):
        ax = _sort_axis(axis)
        return np.take_along_axis(np.asarray(g), np.argsort(_sorted_in_place_order(xs, axis), axis=ax), axis=ax)
    return sorted_bar(g, xs, key, reverse)


def sorted_in_place_dot(dot, xs, key=None, reverse=False, axis=(), kind=None):
    """The tangent of ``sorted_in_place(xs, ...)`` from ``dot``, that of ``xs``."""
    if isinstance(xs, np.ndarray):
        ax = _sort_axis(axis)
        return np.take_along_axis(np.asarray(dot), _sorted_in_place_order(xs, axis), axis=ax)
    return sorted_dot(dot, xs, key, reverse)


HELPERS = HELPERS + (
    "sorted_in_place",
    "_sort_axis",
    "_sorted_in_place_order",
    "sorted_in_place_bar",
    "sorted_in_place_dot",
)
DEPENDS.update(
    sorted_in_place=("_sort_axis",),
    _sorted_in_place_order=("_sort_axis",),
    sorted_in_place_bar=("_sort_axis", "_sorted_in_place_order", "sorted_bar", "sort_order", "gather", "zeros_like"),
    sorted_in_place_dot=("_sort_axis", "_sorted_in_place_order", "sorted_dot", "sort_order", "gather"),
)


# ---- np13e (issue #13): np.linalg.multi_dot's adjoint as helpers with rules, so that hessian follows it ---------


def _chain(arrays, dots=None):
    """The operands of ``np.linalg.multi_dot(arrays)`` as matrices (a 1-d first one a row, a 1-d last one a
    column), with the prefix products ``L_k = A_0 ... A_(k-1)`` and suffix products ``R_k = A_(k+1) ... A_n``,
    and, given tangents ``dots`` of the operands (None or 0 for a constant one), their tangents."""
    last = np.asarray(arrays[-1])
    mats = [np.atleast_2d(arrays[0])] + [np.asarray(a) for a in arrays[1:-1]] + [np.reshape(last, (len(last), -1))]
    if dots is None:
        dmats = [np.zeros_like(m) for m in mats]
    else:
        dmats = [
            np.zeros(np.shape(m)) if d is None or np.ndim(d) == 0 else np.reshape(d, np.shape(m))
            for d, m in zip(dots, mats)
        ]
    left, dleft = [np.eye(mats[0].shape[0])], [np.zeros((mats[0].shape[0],) * 2)]
    for m, dm in zip(mats[:-1], dmats[:-1]):
        dleft.append(dleft[-1] @ m + left[-1] @ dm)
        left.append(left[-1] @ m)
    right, dright = [np.eye(mats[-1].shape[1])], [np.zeros((mats[-1].shape[1],) * 2)]
    for m, dm in zip(mats[:0:-1], dmats[:0:-1]):
        dright.append(dm @ right[-1] + m @ dright[-1])
        right.append(m @ right[-1])
    return mats, dmats, left, dleft, right[::-1], dright[::-1]


def multi_dot_bars(g, arrays):
    """The cotangents of the operands of ``np.linalg.multi_dot(arrays)`` from the result's ``g``: operand k gets
    ``L_k^T G R_k^T`` (Giles 2008, "matrix product"; ``_chain``), in its shape. Linear in ``g``; its derivative in
    the operands is ``multi_dot_bars_dot`` (rules/runtime_rules.py), so hessian follows multi_dot's gradient.

    >>> [b.tolist() for b in multi_dot_bars(1.0, [np.array([1.0, 2.0]), np.eye(2), np.array([3.0, 4.0])])]
    [[3.0, 4.0], [[3.0, 4.0], [6.0, 8.0]], [1.0, 2.0]]
    """
    mats, _, left, _, right, _ = _chain(arrays)
    g2 = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    return [np.reshape(lk.T @ g2 @ rk.T, np.shape(a)) for lk, rk, a in zip(left, right, arrays)]


def multi_dot_bars_dot(g, arrays, dots):
    """The tangent of ``multi_dot_bars(g, arrays)`` along tangents ``dots`` of the operands (None or 0 for a
    constant one): ``dL_k^T G R_k^T + L_k^T G dR_k^T``. The Hessian of ``<G, multi_dot(arrays)>`` is symmetric,
    so this is also ``multi_dot_bars``' cotangent of the operands from its result's cotangent ``dots``."""
    mats, _, left, dleft, right, dright = _chain(arrays, dots)
    g2 = np.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    return [
        np.reshape(dl.T @ g2 @ rk.T + lk.T @ g2 @ dr.T, np.shape(a))
        for lk, dl, rk, dr, a in zip(left, dleft, right, dright, arrays)
    ]


def multi_dot_dot(arrays, dots, like):
    """The tangent of ``np.linalg.multi_dot(arrays)`` along tangents ``dots`` of the operands (None or 0 for a
    constant one), in ``like``'s shape: ``sum_k L_k dA_k R_k``; ``multi_dot_bars``' cotangent of ``g``."""
    mats, dmats, left, _, right, _ = _chain(arrays, dots)
    return np.reshape(sum(lk @ dm @ rk for lk, dm, rk in zip(left, dmats, right)), np.shape(like))


HELPERS = HELPERS + ("_chain", "multi_dot_bars", "multi_dot_bars_dot", "multi_dot_dot")
DEPENDS.update(multi_dot_bars=("_chain",), multi_dot_bars_dot=("_chain",), multi_dot_dot=("_chain",))


# ---- kw12 (issue #13): scipy.stats.multivariate_normal with allow_singular= ----------------------------------------


def full_rank_cov(sigma, allow_singular):
    """1.0 (a rule's factor) where the covariance ``sigma`` is of full rank by SciPy's own test (every
    eigenvalue above 1e6 eps times the largest, scipy.stats._multivariate._PSD); raises NotImplementedError
    for a singular one that ``allow_singular=True`` let SciPy take: its density lives on a subspace (-inf off
    it), so there is no derivative in every direction, and the rules' inverse would not be SciPy's pseudo-inverse."""
    if allow_singular:
        s = np.linalg.eigvalsh(sigma)
        if np.size(s) and np.min(s) <= 1e6 * np.finfo(float).eps * np.max(np.abs(s)):
            raise NotImplementedError(
                "the derivative of scipy.stats.multivariate_normal with a singular covariance (allow_singular=True): "
                "the density is -inf off a subspace, so it has no gradient; give a covariance of full rank"
            )
    return 1.0


HELPERS = HELPERS + ("full_rank_cov",)


# ---- np13i (issue #13): the gradient of np.linalg.det, exact at singular matrices ------------------------------------


def _lapack(a):
    """SciPy's LAPACK wrappers for the float matrices ``a`` of order 16 or more, one or a small stack (one
    LAPACK call per matrix beats NumPy's batched routines there), else None, also where SciPy is not installed
    (it is optional): a fallback to NumPy."""
    n = np.shape(a)[-1]
    if a.dtype not in (np.float32, np.float64) or n < 16 or a.size > 64 * n * n:
        return None
    try:
        from scipy.linalg import lapack
    except ImportError:
        return None
    return lapack


def lu_inverse(a):
    """``np.linalg.inv(a)``, each matrix's inverse computed from its LU factorization: LAPACK's ``getrf`` and
    ``getri`` through SciPy where it is importable (2 n^3 flops against the 8 n^3 / 3 of np.linalg.inv's solve with
    the identity, and faster per flop; a stack of small matrices stays with np.linalg.inv, batched), else
    np.linalg.inv. Raises np.linalg.LinAlgError at a singular matrix, as np.linalg.inv does.

    >>> lu_inverse(np.array([[2.0, 1.0], [0.0, 4.0]])).tolist()
    [[0.5, -0.125], [0.0, 0.25]]
    """
    a = np.asarray(a)
    n = np.shape(a)[-1]
    lapack = _lapack(a)
    if lapack is None:
        return np.linalg.inv(a)
    getrf, getri = lapack.get_lapack_funcs(("getrf", "getri"), (a,))
    # getri's block size is lwork / n (the default lwork, n, is unblocked): blocks of 16 columns up to order ~200,
    # then growing to 64, measured fastest with OpenBLAS (order 200: 15% less time than blocks of 64; 800: 20%
    # less than blocks of 16)
    lwork = n * min(64, max(16, n // 12))
    flat = np.reshape(a, (-1, n, n))
    out = np.empty_like(flat) if len(flat) > 1 else None
    for k in range(len(flat)):
        # A^T, Fortran-ordered without a transposing copy, factored and inverted: inv(A^T)^T is inv(A), C-ordered
        lu, piv, info = getrf(flat[k].T)
        if info == 0:
            inv_t, info = getri(lu, piv, lwork=lwork, overwrite_lu=1)
        if info != 0:  # singular (info > 0): np.linalg.inv raises as NumPy would
            return np.linalg.inv(a)
        if out is None:  # (one matrix: its inverse as it is, no copy into a stack)
            return np.reshape(inv_t.T, np.shape(a))
        out[k] = inv_t.T
    return np.reshape(out, np.shape(a))


def _well_conditioned(a):
    """(inverses, mask) of a stack of square matrices: the mask marks those whose reciprocal condition number (1-norm)
    is above 1e-6, where ``det(A) A^-T`` is accurate; ``inverses`` is None where LAPACK found one exactly singular."""
    try:
        inv = lu_inverse(a)
    except np.linalg.LinAlgError:
        return None, np.zeros(np.shape(a)[:-2], dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        rcond = 1.0 / (np.linalg.norm(a, 1, axis=(-2, -1)) * np.linalg.norm(inv, 1, axis=(-2, -1)))
    return inv, np.isfinite(rcond) & (rcond > 1e-6)


def _others_products(s):
    """prod_{j != i} s_j for each i along the last axis, without division (exact where some s_j are 0)."""
    ones = np.ones(np.shape(s)[:-1] + (1,))
    left = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


def _svd_frame(a):
    """(u, s, vt, sigma): the SVD of each matrix and sigma = det(U) det(V^T) (+-1): the cofactor matrix is
    equivariant, C(U S V^T) = sigma U C(S) V^T. Of a complex A = U S V^H, C(A) = det(U) det(V^H) conj(U) C(S)
    conj(V^H): u and vt are returned conjugated and sigma is the unit number det(U) det(V^H) (for a real A the same
    as above)."""
    u, s, vt = np.linalg.svd(a)
    d = np.linalg.det(u) * np.linalg.det(vt)
    return np.conj(u), s, np.conj(vt), d / np.abs(d)


def cofactors(a, det=None):
    """The matrix of cofactors of each square matrix of ``a``, ``adj(A)^T``: the gradient of ``det(A)``, finite
    and exact at singular matrices too (Jacobi's formula; Giles 2008, "determinant"). Where A is well conditioned
    it is ``det(A) A^-T``; elsewhere, from the SVD A = U S V^T, ``det(U) det(V) U diag(prod_{j != i} s_j) V^T``
    (no division by a singular value). ``det``, where given, is ``np.linalg.det(a)`` already computed (det's
    adjoint passes its forward answer): one LU factorization saved. It is a value of ``a``, not an operand
    of its own: ``cofactors``' rules give the whole derivative through ``a`` and none through it.

    >>> cofactors(np.array([[1.0, 2.0], [2.0, 4.0]])).round(12).tolist()  # singular: the adjugate's transpose
    [[4.0, -2.0], [-2.0, 1.0]]
    """
    a = np.asarray(a, dtype=np.result_type(a, 1.0))
    if np.shape(a)[-1] == 0:
        return np.zeros_like(a)
    inv, good = _well_conditioned(a)
    if inv is not None and np.all(good):  # (the usual case: no copies of the well-conditioned ones)
        d = np.asarray(np.linalg.det(a) if det is None else det, dtype=a.dtype)
        return d[..., None, None] * np.swapaxes(inv, -1, -2)
    out = np.empty_like(a)
    if inv is not None and np.any(good):
        d = np.linalg.det(a[good]) if det is None else np.asarray(det, dtype=a.dtype)[good]
        out[good] = d[..., None, None] * np.swapaxes(inv[good], -1, -2)
    if not np.all(good):
        u, s, vt, sigma = _svd_frame(a[~good])
        out[~good] = sigma[..., None, None] * np.matmul(u * _others_products(s)[..., None, :], vt)
    return out


def cofactors_dot(a, e):
    """The derivative of ``cofactors(a)`` along ``e``: the Hessian of ``det`` at A applied to E (a symmetric
    bilinear form, so this is also ``cofactors``' cotangent of A from its result's cotangent E). Well conditioned:
    ``(<C, E> C - C E^T C) / det A``. Elsewhere, in the SVD frame E' = U^T E V at S = diag(s), the second
    partials of det at a diagonal matrix are ``d2 det / dA_ii dA_kk = p_ik`` and ``d2 det / dA_ik dA_ki = -p_ik``
    (i != k, p_ik the product of the s_m other than s_i and s_k), so ``M_ii = sum_{k != i} p_ik E'_kk``,
    ``M_ik = -p_ik E'_ki``, and the result ``sigma U M V^T``: exact where A is singular, rank-deficient or not."""
    a = np.asarray(a, dtype=np.result_type(a, 1.0))
    e = np.broadcast_to(np.asarray(e, dtype=a.dtype), np.shape(a))
    n = np.shape(a)[-1]
    if n == 0:
        return np.zeros_like(a)
    inv, good = _well_conditioned(a)
    out = np.empty_like(a)
    if inv is not None and np.any(good):
        ag, eg = a[good], e[good]
        c = np.linalg.det(ag)[..., None, None] * np.swapaxes(inv[good], -1, -2)
        inner = np.sum(c * eg, axis=(-2, -1))[..., None, None]
        out[good] = (inner * c - np.matmul(np.matmul(c, np.swapaxes(eg, -1, -2)), c)) / np.linalg.det(ag)[
            ..., None, None
        ]
    if not np.all(good):
        u, s, vt, sigma = _svd_frame(a[~good])
        v = np.swapaxes(vt, -1, -2)
        ep = np.matmul(np.matmul(np.swapaxes(u, -1, -2), e[~good]), v)
        # p[..., i, k] = prod of s_m over m not in {i, k}: s with s_i and s_k replaced by 1, multiplied out
        eye = np.eye(n, dtype=bool)
        drop = eye[:, None, :] | eye[None, :, :]  # (i, k, m): m is i or k
        p = np.prod(np.where(drop, 1.0, s[..., None, None, :]), axis=-1)
        m = -p * np.swapaxes(ep, -1, -2)
        diagonal = np.sum(np.where(eye, 0.0, p) * np.diagonal(ep, axis1=-2, axis2=-1)[..., None, :], axis=-1)
        m[..., eye] = diagonal
        out[~good] = sigma[..., None, None] * np.matmul(np.matmul(u, m), vt)
    return out


HELPERS = HELPERS + ("lu_inverse", "_well_conditioned", "_others_products", "_svd_frame", "cofactors", "cofactors_dot")
DEPENDS.update(
    cofactors=("lu_inverse", "_lapack", "_well_conditioned", "_others_products", "_svd_frame"),
    cofactors_dot=("lu_inverse", "_lapack", "_well_conditioned", "_svd_frame"),
)


def triangular_inverse(m, lower=True):
    """The inverse of each triangular matrix of ``m`` (its lower triangle, or upper with ``lower=False``; the other
    triangle is not read): LAPACK's ``trtri`` through SciPy where it is importable (n^3 / 3 multiplications against
    the 8 n^3 / 3 of np.linalg.inv's general solve; a stack of small matrices stays with np.linalg.inv, batched),
    else np.linalg.inv of the triangle. Raises np.linalg.LinAlgError at a singular matrix, as np.linalg.inv does.

    >>> triangular_inverse(np.array([[2.0, 9.0], [1.0, 4.0]])).tolist()  # the lower triangle [[2, 0], [1, 4]]
    [[0.5, 0.0], [-0.125, 0.25]]
    """
    t = np.tril(m) if lower else np.triu(m)
    n = np.shape(t)[-1]
    lapack = _lapack(t)
    if lapack is None:
        return np.linalg.inv(t)
    trtri = lapack.get_lapack_funcs("trtri", (t,))
    flat = np.reshape(t, (-1, n, n))
    out = np.empty_like(flat)
    for k in range(len(flat)):
        out[k], info = trtri(flat[k], lower=int(lower))
        if info != 0:  # singular (info > 0): np.linalg.inv raises as NumPy would
            return np.linalg.inv(t)
    return np.reshape(out, np.shape(t))


HELPERS = HELPERS + ("triangular_inverse",)


def phi_congruence(low, q):
    """``Phi(L^-T Q L^-1)`` for each matrix of a stack: L the lower triangle of ``low`` (the upper is not read), Q the
    symmetric matrix of the lower triangle of ``q`` (``tril(q) + tril(q, -1)^T``), Phi the lower triangle with the
    diagonal halved. With Q the lower triangle of L^T L_bar it is cholesky's adjoint (Murray 2016): one call of LAPACK's
    ``sygst`` (n^3 multiplications against the 3 n^3 of L^-1 and two products; reversing both axes turns its
    ``inv(U^T) Q inv(U)`` into ours) through SciPy where it is importable, for n from 16 and a stack not much larger
    than one matrix; else np.linalg.inv of the triangle and two products. A singular L raises
    np.linalg.LinAlgError, as np.linalg.inv does.

    >>> phi_congruence(np.array([[2.0, 9.0], [0.0, 1.0]]), np.array([[4.0, 7.0], [2.0, 1.0]])).tolist()
    [[0.5, 0.0], [1.0, 0.5]]
    """
    t = np.asarray(low)  # (sygst reads the triangle alone: no copy of it here)
    n = np.shape(t)[-1]
    lapack = _lapack(t) if np.result_type(q, t) == t.dtype else None
    if lapack is None or np.shape(q) != np.shape(t) or np.any(np.diagonal(t, 0, -2, -1) == 0):
        linv = np.linalg.inv(np.tril(t))
        lq = np.tril(q)
        s = np.matmul(np.matmul(np.swapaxes(linv, -1, -2), lq + np.swapaxes(np.tril(lq, -1), -1, -2)), linv)
        return np.tril(s) - 0.5 * s * np.eye(n, dtype=s.dtype)
    sygst = lapack.get_lapack_funcs("sygst", (t,))
    flat_t = np.reshape(t, (-1, n, n))
    flat_q = np.reshape(np.asarray(q, dtype=t.dtype), (-1, n, n))
    out = np.empty_like(flat_t)
    for k in range(len(flat_t)):
        # J = the reversal of both axes: U = J L J is upper triangular, J Q J's upper triangle is Q's lower one
        # reversed, and sygst's inv(U^T) (J Q J) inv(U) = J (L^-T Q L^-1) J, written to its upper triangle
        c, info = sygst(flat_q[k][::-1, ::-1], flat_t[k][::-1, ::-1], itype=1, lower=0)
        upper = np.triu(c)
        upper.flat[:: n + 1] *= 0.5
        out[k] = upper[::-1, ::-1]
    return np.reshape(out, np.shape(t))


HELPERS = HELPERS + ("phi_congruence",)


def cholesky_bar(low, l_bar):
    """np.linalg.cholesky's adjoint (Murray 2016): A_bar = Phi(L^-T (Phi(P) + Phi(P)^T) L^-1) with P = L^T G, L the
    lower triangle of ``low`` and G that of ``l_bar`` (neither upper triangle is read), for each matrix of a stack:
    ``phi_congruence(L, L^T G)``. Through SciPy's BLAS and LAPACK where it is importable (n from 16 and a stack not
    much larger than one matrix): Murray's blocked algorithm ("Differentiation of the Cholesky decomposition", 2016,
    section 4), which runs the factorization's blocks backwards, each diagonal block by ``sygst`` and the rest
    by ``trsm`` and products, about n^3 multiplications (its formula: n^3 / 3 for L^T G as ``trmm`` and n^3 / 2 for
    ``sygst`` at best, 4 n^3 / 3 as two general products). Else phi_congruence of the formula. A zero on
    L's diagonal raises np.linalg.LinAlgError, as np.linalg.inv does.

    >>> low = np.array([[2.0, 9.0], [1.0, 3.0]])  # (the 9 is not read)
    >>> l_bar = np.array([[1.0, 5.0], [2.0, 4.0]])
    >>> np.allclose(cholesky_bar(low, l_bar), phi_congruence(low, np.tril(low).T @ np.tril(l_bar)))
    True
    """
    t = np.asarray(low)
    if np.iscomplexobj(t):  # A = L L^H, Hermitian (docs/complex.md): the formula with ^H, not BLAS's transposes
        return _hermitian_cholesky_bar(t, l_bar)
    n = np.shape(t)[-1]
    lapack = _lapack(t) if np.result_type(l_bar, t) == t.dtype and np.shape(l_bar) == np.shape(t) else None
    if lapack is None or np.any(np.diagonal(t, 0, -2, -1) == 0):
        tl = np.tril(t)
        return phi_congruence(tl, np.matmul(np.swapaxes(tl, -1, -2), l_bar))
    from scipy.linalg import blas

    trsm, trmm = blas.get_blas_funcs(("trsm", "trmm"), (t,))
    sygst = lapack.get_lapack_funcs("sygst", (t,))
    blocks = -(-n // 64)
    nb = -(-n // blocks)  # blocks of equal order, at most 64
    flat_t = np.reshape(t, (-1, n, n))
    out = np.tril(np.reshape(np.asarray(l_bar, dtype=t.dtype), (-1, n, n)))
    below = np.tri(nb, dtype=bool)  # (a diagonal block's lower triangle: its top-left corner for a smaller one)
    for m in range(len(flat_t)):
        big, bar = flat_t[m], out[m]
        # the factorization's blocks backwards (Murray 2016, chol_rev_blocked): rows j:k of L are [R D 0] and
        # the rows below [B C ...], D the diagonal block; bar is L_bar, and becomes A_bar block by block
        for k in range(n, 0, -nb):
            j = max(0, k - nb)
            d = big[j:k, j:k]
            if k < n:
                c_bar = trsm(1.0, d, bar[k:, j:k], side=1, lower=1)  # C_bar D^-1
                bar[k:, j:k] = c_bar
                bar[k:, :j] -= c_bar @ big[j:k, :j]  # B_bar -= C_bar R
                # D_bar -= tril(C_bar^T C): its upper triangle is not read below (the lower one of D^T D_bar is
                # D^T times D_bar's lower triangle) and is then overwritten
                bar[j:k, j:k] -= c_bar.T @ big[k:, j:k]
            # the diagonal block: Phi(D^-T Q D^-1), Q from the lower triangle of D^T D_bar, by sygst on both axes
            # reversed (as phi_congruence)
            p = trmm(1.0, d, bar[j:k, j:k], lower=1, trans_a=1)
            s, info = sygst(p[::-1, ::-1], d[::-1, ::-1], itype=1, lower=0, overwrite_a=1)
            d_bar = np.where(below[: k - j, : k - j], s[::-1, ::-1], 0.0)
            d_bar.flat[:: k - j + 1] *= 0.5
            bar[j:k, j:k] = d_bar
            if j:
                update = (d_bar + d_bar.T) @ big[j:k, :j]  # R_bar -= C_bar^T B + (D_bar + D_bar^T) R
                if k < n:
                    update += c_bar.T @ big[k:, :j]
                bar[j:k, :j] -= update
    return np.reshape(out, np.shape(t))


def _hermitian_cholesky_bar(low, l_bar):
    """cholesky_bar of a complex L, A = L L^H: dL = L Phi(L^-1 dS L^-H) for a Hermitian dS, whose transpose under
    the pairing Re(sum(c * dz)) is M = L^-T Phi(L^T L_bar) conj(L^-1); A_bar is M folded onto the lower triangle
    (np_linalg.fold_triangle: M + M^H off the diagonal, Re(M) on it, as LAPACK reads the diagonal's real part)."""
    n = np.shape(low)[-1]
    linv = np.linalg.inv(np.tril(low))
    p = np.tril(np.matmul(np.swapaxes(np.tril(low), -1, -2), np.tril(l_bar)))
    m = np.matmul(np.matmul(np.swapaxes(linv, -1, -2), p - 0.5 * p * np.eye(n)), np.conj(linv))
    return np.tril((m + np.conj(np.swapaxes(m, -1, -2))) * (1.0 - 0.5 * np.eye(n)))


HELPERS = HELPERS + ("cholesky_bar", "_hermitian_cholesky_bar")
DEPENDS.update(
    lu_inverse=("_lapack",),
    triangular_inverse=("_lapack",),
    phi_congruence=("_lapack",),
    cholesky_bar=("phi_congruence", "_lapack", "_hermitian_cholesky_bar"),
)


def sort_source(a, ans, axis, order=None):
    """The position in ``a`` each element of ``ans`` came from, along ``axis``, where ``ans`` is ``a`` sorted or
    partitioned (np.sort, np.partition: rules/np_shape.py's _reordered): ``argsort(a)[rank(ans)]`` with both
    argsorts stable, so that equal values are taken in a's order, whatever the sort or selection did. ``ans``
    None: ``a`` sorted (np.sort), whose ranks are the positions themselves. ``order`` is np.argsort's (None: the
    rule refuses fields of a structured array)."""
    first = stable_order(a, axis, order)
    if ans is None:
        return first
    return np.take_along_axis(first, inverse_order(stable_order(ans, axis), axis), axis)


# a float dtype's unsigned integer view and its sign bit
_KEY_BITS = {np.dtype(np.float32): (np.uint32, 31), np.dtype(np.float64): (np.uint64, 63)}


def stable_order(a, axis, order=None):
    """``np.argsort(a, axis, kind="stable", order=order)``, in about np.sort's time for float arrays without
    NaN. On x86 np.sort is vectorised and np.argsort is not: for 10^6 float64 the stable argsort costs ~15x
    np.sort, the default one ~4x. So each value's order-preserving unsigned key (the IEEE bits with the sign
    bit set for a positive number or -0.0, all bits flipped for a negative one) less the smallest key is
    packed with its index into one 64-bit word, and those words are sorted by np.sort: equal values fall in
    index order, the stable order. Where the keys span more bits than the index leaves (float64 values over
    many binades), the index takes the place of the key's lowest bits instead, and the few elements whose
    shortened keys are equal (next to each other after the sort) are put in order by (value, index) afterwards."""
    a = np.asarray(a)
    if order is not None or a.dtype not in _KEY_BITS or a.size < 1024 or np.shape(a)[axis] > 2**32:
        return np.argsort(a, axis, kind="stable", order=order)
    values = np.ascontiguousarray(np.moveaxis(a, axis, -1))
    n = values.shape[-1]
    bits = (n - 1).bit_length()  # the index's
    unsigned, top = _KEY_BITS[a.dtype]
    # the sign bit set (on 0.0 and -0.0 alike: equal values, one key), then all bits flipped where negative
    key = values.view(unsigned) | unsigned(1 << top)
    negative = values < 0
    np.invert(key, out=key, where=negative)
    low, high = int(key.min()), int(key.max())
    if high > _float_key(np.inf, a.dtype):  # a NaN (either sign)
        return np.argsort(a, axis, kind="stable")
    key = key.astype(np.uint64, copy=False)
    step = np.uint64(1 << bits)
    shortened = (high - low).bit_length() + bits > 64
    if shortened:  # the index in place of the key's lowest bits
        key &= ~(step - np.uint64(1))
    else:  # key - low beside the index: exact
        key -= np.uint64(low)
        key <<= np.uint64(bits)
    index = np.arange(n, dtype=np.uint64)
    key |= index
    key.sort(axis=-1)
    if shortened:
        rows = np.reshape(key, (-1, n))
        # equal shortened keys mean words less than one index step apart, then the shortened keys themselves
        # (written over index and negative where they fit, no longer needed: fresh arrays cost page faults)
        apart = index[None, 1:] if rows.shape[0] == 1 else None
        apart = np.subtract(rows[:, 1:], rows[:, :-1], out=apart)
        near = np.less(apart, step, out=np.reshape(negative, (-1, n))[:, 1:])
        r, c = np.nonzero(near) if np.any(near) else (np.zeros(0, np.intp),) * 2  # (nonzero of all false: slow)
        same = (rows[r, c] >> np.uint64(bits)) == (rows[r, c + 1] >> np.uint64(bits))
        r, c = r[same], c[same]
    key &= step - np.uint64(1)
    out = key.view(np.int64).astype(np.intp, copy=False)
    if shortened and len(c):
        at = np.union1d(r * n + c, r * n + c + 1)
        flat = np.reshape(out, -1)
        which, row = flat[at], at // n
        flat[at] = which[np.lexsort((which, np.reshape(values, (-1, n))[row, which], row))]
    return np.moveaxis(out, -1, axis)


def _float_key(x, dtype):
    unsigned, top = _KEY_BITS[np.dtype(dtype)]
    bits = int(np.array(x, dtype).view(unsigned))
    return bits ^ ((1 << (top + 1)) - 1 if bits >> top else 1 << top)


def inverse_order(p, axis):
    """``np.argsort(p, axis)`` of permutations ``p`` along ``axis``, in one pass: each position written where
    ``p`` sends it."""
    p = np.asarray(p)
    out = np.empty_like(p)
    count = np.shape(p)[axis]
    steps = np.reshape(np.arange(count), [count if d == axis % p.ndim else 1 for d in range(p.ndim)])
    np.put_along_axis(out, p, np.broadcast_to(steps, np.shape(p)), axis)
    return out


def moved_back(g, p, axis):
    """``g`` taken at the inverse of permutations ``p`` along ``axis`` (``take_along_axis(g, inverse_order(p,
    axis), axis)``), in one pass: each of g's elements written where ``p`` says it came from."""
    g = np.asarray(g)
    out = np.empty_like(g)
    np.put_along_axis(out, p, g, axis)
    return out


HELPERS = HELPERS + ("sort_source", "stable_order", "_KEY_BITS", "_float_key", "inverse_order", "moved_back")
DEPENDS.update(
    sort_source=("stable_order", "inverse_order"), stable_order=("_KEY_BITS", "_float_key"), _float_key=("_KEY_BITS",)
)


def lu_rows(piv):
    """The row order of scipy.linalg.lu_factor's pivots ``piv`` (LAPACK's: row i was swapped with row piv[i], in
    turn): ``perm`` with ``A[perm] = L U``, for each matrix of a stack.

    >>> lu_rows(np.array([2, 2, 2])).tolist()  # swap rows 0 and 2, then 1 and 2
    [2, 0, 1]
    """
    piv = np.asarray(piv)
    flat = np.reshape(piv, (-1, np.shape(piv)[-1]))
    out = np.empty_like(flat, dtype=np.intp)
    for k, p in enumerate(flat):
        perm = np.arange(len(p))
        for i, j in enumerate(p):
            perm[i], perm[j] = perm[j], perm[i]
        out[k] = perm
    return np.reshape(out, np.shape(piv))


HELPERS = HELPERS + ("lu_rows",)
# ---- np13j (issue #13): scipy.integrate.odeint's derivatives (rules/scipy_integrate.py) --------------------


def _odeint_parts(func, y0, t, args, tfirst):
    """What odeint's derivatives need of a call: ``(odeint, ac, args, numeric, call)``: SciPy's odeint, the
    adjoint_compiler package (whose ``vjp`` and ``jvp`` compile ``func`` at run time: this module imports
    no compiler code, so it finds the package already imported, as it is wherever emitted code runs with
    its helpers imported from here), ``args`` as a tuple, the positions of its numbers and arrays (the
    arguments differentiated), and ``call(y, s, values)``, func's argument list at state ``y``, time ``s``."""
    ac = sys.modules.get("adjoint_compiler")
    integrate = sys.modules.get("scipy.integrate")
    if ac is None or integrate is None or not hasattr(ac, "vjp"):
        raise NotImplementedError(
            "the derivative of scipy.integrate.odeint differentiates its func at run time with adjoint_compiler: "
            "import adjoint_compiler and scipy.integrate before calling this code"
        )
    args = args if isinstance(args, tuple) else (args,)
    numeric = tuple(k for k, a in enumerate(args) if _odeint_numeric(a))

    def call(y, s, values):
        return (s, y) + tuple(values) if tfirst else (y, s) + tuple(values)

    return integrate.odeint, ac, args, numeric, call


def _odeint_numeric(a):
    """Whether an argument of func is differentiated: a number, an array, or a list, tuple or dict of them
    (a network's [(W, b), ...]: its cotangent has its structure, ``_odeint_flat`` and ``_odeint_shaped``)."""
    if isinstance(a, (list, tuple, dict)):
        parts = list(a.values()) if isinstance(a, dict) else a
        return bool(parts) and all(_odeint_numeric(p) for p in parts)
    return isinstance(a, (int, float, np.ndarray, np.number)) and np.asarray(a).dtype.kind in "fiu"


def _odeint_flat(c, like):
    """The numbers of cotangent ``c`` of argument ``like`` in one vector, in ``like``'s order (None: zeros)."""
    if isinstance(like, (list, tuple, dict)):
        keys = list(like) if isinstance(like, dict) else range(len(like))
        return np.concatenate([_odeint_flat(None if c is None else c[k], like[k]) for k in keys])
    return np.zeros(np.size(like)) if c is None else np.ravel(np.asarray(c, dtype=float))


def _odeint_shaped(part, like):
    """``part``, a vector of ``_odeint_flat``'s order, in the structure and shapes of ``like``."""
    if isinstance(like, (list, tuple, dict)):
        keys = list(like) if isinstance(like, dict) else range(len(like))
        sizes = [_odeint_size(like[k]) for k in keys]
        pieces = np.split(part, np.cumsum(sizes)[:-1]) if keys else []
        made = [_odeint_shaped(piece, like[k]) for piece, k in zip(pieces, keys)]
        return dict(zip(keys, made)) if isinstance(like, dict) else type(like)(made)
    return _shaped_like(part, like)


def _odeint_size(a):
    if isinstance(a, (list, tuple, dict)):
        return sum(_odeint_size(p) for p in (a.values() if isinstance(a, dict) else a))
    return np.size(a)


def _odeint_compiled(ac, transform, func, wrt, given):
    """``transform(func, wrt)(*given)`` (ac.vjp or ac.jvp of the user's func), a compile error in func
    reported as the odeint derivative's need, at its place in func."""
    try:
        return transform(func, wrt=wrt)(*given)
    except ac.CompileError as e:
        raise ac.UnsupportedError(
            "the derivative of scipy.integrate.odeint differentiates its func %s, which has an error: %s"
            % (getattr(func, "__name__", "func"), e.message),
            e.location,
        ) from None


def _odeint_options(rtol, atol, tcrit, h0, hmax, hmin, ixpr, mxstep, mxhnil, mxordn, mxords, printmessg):
    """odeint's keyword arguments for a solve of an augmented system: the call's own, an array ``rtol`` or
    ``atol`` (one per component of y) as its smallest entry (the augmented state has more components);
    ``Dfun``, ``col_deriv``, ``ml`` and ``mu`` describe y's Jacobian, not the augmented system's: left out."""
    options = dict(tcrit=tcrit, h0=h0, hmax=hmax, hmin=hmin, ixpr=ixpr, mxstep=mxstep, mxhnil=mxhnil)
    options.update(mxordn=mxordn, mxords=mxords, printmessg=printmessg)
    if rtol is not None:
        options["rtol"] = float(np.min(rtol))
    if atol is not None:
        options["atol"] = float(np.min(atol))
    return options


def odeint_output(full_output):
    """``full_output`` where false; a call of odeint with full_output=True (a tuple result) is refused (at the
    call, where it is a literal: ``STATIC``)."""
    if full_output:
        raise NotImplementedError(
            "the derivative of scipy.integrate.odeint with full_output=True: differentiate the call without it"
        )
    return full_output


def _shaped_like(c, like):
    """``c`` in the shape of ``like``, a Python float for a number."""
    if np.ndim(like) == 0 and not isinstance(like, np.ndarray):
        return float(np.reshape(c, ()))
    return np.reshape(c, np.shape(like))


def odeint_bars(g, ans, func, y0, t, args, full_output, tfirst, options):
    """The cotangents ``(y0_bar, t_bar, args_bar)`` of ``ans = odeint(func, y0, t, args)`` given ``g``, by the
    adjoint method (Pontryagin; Chen et al. 2018, "Neural ordinary differential equations", alg. 1): from
    ``t[-1]`` back to ``t[0]``, odeint itself integrates ``y' = f``, ``a' = -a^T df/dy`` and ``theta_bar' =
    -a^T df/dtheta`` (``y`` restarted at each output ``ans[i]``, ``a`` taking ``g[i]`` as it passes ``t[i]``);
    the vector-Jacobian products of ``func`` are ``ac.vjp``'s. ``t[i]`` moves output i along the flow:
    ``t_bar[i] = g[i] . f(y_i, t_i)``, and ``t[0]`` moves the start: ``-(a(t_0) - g[0]) . f(y_0, t_0)``.
    ``options``: odeint's keywords, a tuple of ``_odeint_options``'s parameters, passed on to the backward solves."""
    odeint_output(full_output)
    odeint, ac, args, numeric, call = _odeint_parts(func, y0, t, args, tfirst)
    times = np.asarray(t, dtype=float)
    ys = np.reshape(ans, (len(times), -1))
    gs = np.reshape(np.asarray(g, dtype=float), ys.shape)
    n = ys.shape[1]
    positions = (1 if tfirst else 0,) + tuple(2 + k for k in numeric)
    sizes = [_odeint_size(args[k]) for k in numeric]
    solve = _odeint_options(*options)

    def f(y, s):
        return np.ravel(func(*call(y, s, args)))

    def augmented(z, s):
        y, a = z[:n], z[n : 2 * n]
        value, pullback = _odeint_compiled(ac, ac.vjp, func, positions, call(y, s, args))
        bars = pullback(np.reshape(-a, np.shape(value)))
        bars = bars if isinstance(bars, tuple) else (bars,)
        likes = (y,) + tuple(args[k] for k in numeric)
        return np.concatenate([np.ravel(value)] + [_odeint_flat(b, like) for b, like in zip(bars, likes)])

    a = gs[-1].copy()
    theta_bar = np.zeros(sum(sizes))
    t_bar = np.zeros(len(times))
    for i in range(len(times) - 1, 0, -1):
        t_bar[i] = np.dot(f(ys[i], times[i]), gs[i])
        if np.any(a != 0.0) or len(numeric):
            z = odeint(augmented, np.concatenate([ys[i], a, theta_bar]), times[[i, i - 1]], **solve)[1]
            a, theta_bar = z[n : 2 * n], z[2 * n :]
        a = a + gs[i - 1]
    if len(times):
        t_bar[0] = -np.dot(f(ys[0], times[0]), a - gs[0])
    args_bar = [None] * len(args)
    for k, part in zip(numeric, np.split(theta_bar, np.cumsum(sizes)[:-1])):
        args_bar[k] = _odeint_shaped(part, args[k])
    return _shaped_like(a, y0), _shaped_like(t_bar, t), tuple(args_bar)


def odeint_dot(ans, func, y0, t, args, y0_dot, t_dot, args_dot, full_output, tfirst, options):
    """The tangent of ``ans = odeint(func, y0, t, args)`` along the one of ``y0_dot``, ``t_dot``, ``args_dot``
    that is not None, by the sensitivity equations: odeint itself integrates ``(y, y_dot)`` forward from
    ``t[0]``, ``y_dot' = df/dy y_dot + df/dtheta theta_dot`` (func's Jacobian-vector products are
    ``ac.jvp``'s), from ``y_dot(t_0) = y0_dot``, or 0 along ``args``, or ``-f(y_0, t_0) t_dot[0]`` along ``t``,
    whose output i also moves along the flow by ``f(y_i, t_i) t_dot[i]``."""
    odeint_output(full_output)
    odeint, ac, args, numeric, call = _odeint_parts(func, y0, t, args, tfirst)
    times = np.asarray(t, dtype=float)
    ys = np.reshape(ans, (len(times), -1))
    n = ys.shape[1]
    solve = _odeint_options(*options)
    along_args = args_dot is not None
    if along_args:
        args_dot = args_dot if isinstance(args_dot, tuple) else (args_dot,)
        active = tuple(k for k in numeric if args_dot[k] is not None)
        if any(isinstance(args[k], (list, tuple, dict)) for k in active):
            raise NotImplementedError(
                "the forward-mode derivative of scipy.integrate.odeint in an argument of func that is a list, "
                "tuple or dict: pass its arrays as arguments of their own, or use reverse mode"
            )
        positions = (1 if tfirst else 0,) + tuple(2 + k for k in active)
        dots = tuple(np.asarray(args_dot[k], dtype=float) * np.ones(np.shape(args[k])) for k in active)
    else:
        positions, dots = (1 if tfirst else 0,), ()

    def f(y, s):
        return np.ravel(func(*call(y, s, args)))

    def augmented(z, s):
        y, y_dot = z[:n], z[n:]
        value, value_dot = _odeint_compiled(ac, ac.jvp, func, positions, call(y, s, args) + ((y_dot,) + dots,))
        return np.concatenate([np.ravel(value), np.ravel(np.asarray(value_dot, dtype=float)) * np.ones(n)])

    if y0_dot is not None:
        start = np.ravel(np.asarray(y0_dot, dtype=float)) * np.ones(n)
    elif t_dot is not None:
        t_dot = np.ravel(np.asarray(t_dot, dtype=float)) * np.ones(len(times))
        start = -f(ys[0], times[0]) * t_dot[0]
    else:
        start = np.zeros(n)
    out = odeint(augmented, np.concatenate([ys[0], start]), times, **solve)[:, n:]
    if t_dot is not None:
        out = out + np.array([f(y, s) for y, s in zip(ys, times)]) * t_dot[:, None]
    return np.reshape(out, np.shape(ans))


HELPERS = HELPERS + ("_odeint_parts", "_odeint_compiled", "_odeint_options", "odeint_output", "_shaped_like")
STATIC = STATIC + ("odeint_output",)
HELPERS = HELPERS + ("odeint_bars", "odeint_dot")
DEPENDS.update(
    odeint_bars=("_odeint_parts", "_odeint_compiled", "_odeint_options", "odeint_output", "_shaped_like"),
    odeint_dot=("_odeint_parts", "_odeint_compiled", "_odeint_options", "odeint_output"),
)


def set_positions(items):
    """The positions in ``items`` of the elements of ``set(items)``, in the order the set lists them: each
    the first of the items equal to it (the one a set keeps). A set of differentiated values is one of
    these lists (desugar.sets), read only where its order cannot change the answer."""
    first = {}
    for k, v in enumerate(items):
        first.setdefault(v, k)
    return [first[v] for v in set(items)]


def set_elements(items):
    """``set(items)`` as the list of its elements in the set's own order (``set_positions``); a dict's keys
    or any other iterable's distinct values where ``items`` is not a list, tuple or array."""
    if not isinstance(items, (list, tuple, np.ndarray)):
        return list(set(items))
    return [items[k] for k in set_positions(items)]


def set_elements_bar(g, items):
    """The cotangent of ``items`` from ``g``, that of ``set_elements(items)``: each element's goes back to
    the first of the items equal to it, the others get none (zero for a dict's keys)."""
    if not isinstance(items, (list, tuple, np.ndarray)):
        return zeros_like(items)
    out = [0.0] * len(items)
    for j, k in enumerate(set_positions(items)):
        out[k] = g[j]
    return np.asarray(out, dtype=float) if isinstance(items, np.ndarray) else out


def set_elements_dot(dot, items):
    """The tangent of ``set_elements(items)`` from ``dot``, that of ``items``."""
    if not isinstance(items, (list, tuple, np.ndarray)):
        return [0.0] * len(set(items))
    return [dot[k] for k in set_positions(items)]


HELPERS = HELPERS + ("set_positions", "set_elements", "set_elements_bar", "set_elements_dot")
DEPENDS.update(
    set_elements=("set_positions",),
    set_elements_bar=("set_positions", "zeros_like"),
    set_elements_dot=("set_positions",),
)


# ---- np13o (issue #13, the rule-cost target): np.max / np.min's adjoint and tangent in few passes ---------------


def _equal_kept(x, kept):
    """``x == kept``, kept broadcast along x's reduced axes. NumPy's buffered loop packs several rows of x into a
    buffer of ``np.getbufsize()`` elements and copies kept's broadcast rows into it: a buffer of one row (of 200 to
    8191 elements, C-ordered x) compares without the copy (a 1000 x 1000 array against its rows' maxima: 0.34
    ms, not 0.58; against its columns': 0.34, not 0.45; NumPy 2.4). Shorter rows keep the default: there one
    call per row costs more than the copy; and so does an x of one buffer or less, where the copy is short."""
    n = np.shape(x)[-1] if np.ndim(x) > 1 else 0
    size = np.getbufsize()
    if not 200 <= n < size < x.size or np.ndim(kept) != np.ndim(x) or not x.flags.c_contiguous:
        return x == kept
    old = np.setbufsize(-(-n // 16) * 16)  # (a multiple of 16, as NumPy requires)
    try:
        return x == kept
    finally:
        np.setbufsize(old)


def _true_positions(mask, most):
    """``np.flatnonzero(mask)`` where the boolean ``mask`` has at most ``most`` Trues, else None. A C-ordered mask
    is scanned by its 8-byte words first, then only the words that hold a True (a 10^6-element mask with 1000
    Trues: 0.06 ms, not np.flatnonzero's 0.13; no count of the Trues first)."""
    flat = np.reshape(mask, -1)
    if mask.dtype == np.bool_ and mask.flags.c_contiguous and flat.size % 8 == 0:
        words = np.flatnonzero(flat.view(np.uint64) != 0)
        if len(words) > most:  # (as many Trues at least)
            return None
        near = np.ravel(words[:, None] * 8 + np.arange(8))
        at = near[flat[near]]
    else:
        at = np.flatnonzero(flat)
    return at if len(at) <= most else None


def complex_order_check(x, y, what):
    """True, or NotImplementedError naming ``what`` where complex ``x`` and ``y`` (broadcast) have equal real parts
    and different imaginary parts. NumPy orders complex values lexicographically, so there the larger one jumps
    from one value to the other as a real part moves: no derivative (an exact tie is a kink, as for floats)."""
    if (np.iscomplexobj(x) or np.iscomplexobj(y)) and np.any((np.real(x) == np.real(y)) & (x != y)):
        raise NotImplementedError(
            "%s of complex values with equal real parts and different imaginary parts (NumPy's lexicographic "
            "order: the result jumps there, no derivative) is not supported by adjoint_compiler" % what
        )
    return True


def complex_ge(x, y, what):
    """``x >= y`` as NumPy orders them (complex values lexicographically, also Python complex numbers, which
    have no order of their own), checked by ``complex_order_check``: the mask of np.maximum's and np.fmax's
    rules. Only in a call with complex arguments are the operands looked at (a real call pays one flag's read)."""
    if _in_complex_call() and (np.iscomplexobj(x) or np.iscomplexobj(y)):
        complex_order_check(x, y, what)
        with np.errstate(invalid="ignore"):  # (a NaN compares False, as a float NaN does, silently)
            return np.greater_equal(x, y)
    return x >= y


def _extremum_parts(x, ans, axis, keepdims, skip_nan):
    """(``ans`` with the reduced axes kept, the mask of x's elements equal to their slice's extremum, each slice's
    count of them in ans's dtype, their flat positions in x and each one's slice, a flat position in the kept
    shape). One comparison pass over x; then, where the mask is sparse (the usual case: a tie is rare), its
    positions, from which each slice's count; else (positions None) the count per slice over the mask."""
    kept = ans if keepdims or axis is None or x.ndim == 0 else np.expand_dims(ans, axis)
    if np.iscomplexobj(x):
        complex_order_check(x, kept, "np.max, np.min, np.nanmax or np.nanmin")
    dtype = np.asarray(ans).dtype
    if axis is None or x.ndim == 0:  # (NumPy reduces a 0-d array along axis 0 or -1 too: its one element)
        hit = x == kept
        total = np.count_nonzero(hit)
        at = slot = None
        if total <= x.size // 8:  # (one element, the usual case: the first True, without a scan of the rest)
            at = np.flatnonzero(hit) if total != 1 else np.reshape(np.argmax(hit), 1)
            slot = np.zeros(len(at), np.intp)
        return kept, hit, np.asarray(max(total, 1) if skip_nan else total, dtype), at, slot
    hit = _equal_kept(x, kept)
    at = _true_positions(hit, x.size // 8)
    if at is None:
        count = np.count_nonzero(hit, axis=axis, keepdims=True)
        return kept, hit, np.asarray(np.maximum(count, 1) if skip_nan else count, dtype), None, None
    axes = {a % x.ndim for a in ((axis,) if np.ndim(axis) == 0 else axis)}
    where = np.unravel_index(at, x.shape)
    slot = np.ravel_multi_index([0 * c if d in axes else c for d, c in enumerate(where)], np.shape(kept))
    count = np.reshape(np.bincount(slot, minlength=np.size(kept)), np.shape(kept))
    # (nanmax / nanmin: an all-NaN slice, ans NaN with no element equal to it, gets 0: its count taken as 1)
    return kept, hit, np.asarray(np.maximum(count, 1) if skip_nan else count, dtype), at, slot


def extremum_bar(g, x, ans, axis=None, keepdims=False, skip_nan=False):
    """x's cotangent from the cotangent ``g`` of ``ans = np.max(x, axis, keepdims=keepdims)`` (or np.min, or
    with ``skip_nan`` np.nanmax / np.nanmin): each slice's g shared equally among its elements equal to ans
    (the max is not differentiable at a tie; autograd's and JAX's convention), 0 elsewhere, and for skip_nan 0
    in an all-NaN slice. The values of ``mask * (g / count)`` (that formula itself where the mask is dense or a
    share is not finite: the NaN of np.max, whose slice has no element equal to it, or a g not finite), in fewer
    passes over x and fewer new arrays: one comparison and a scan of the mask (``_extremum_parts``), then a zero
    array with each slice's share put at its elements. Its floor is about two passes of np.max: the comparison
    reads x as np.max does, and the 8-byte zeros of the result are written once."""
    x = np.asarray(x)
    kept, hit, count, at, slot = _extremum_parts(x, ans, axis, keepdims, skip_nan)
    part = unreduce(g, kept, axis, keepdims) / count
    if at is None or (np.size(part) and not np.all(np.isfinite(part))):
        return hit * part
    out = np.zeros(x.shape, part.dtype)
    out.flat[at] = np.ravel(part)[slot]
    return out


def extremum_dot(dot, x, ans, axis=None, keepdims=False, skip_nan=False):
    """The tangent of ``ans = np.max(x, axis, keepdims=keepdims)`` (np.min; np.nanmax / np.nanmin with
    ``skip_nan``) from x's tangent ``dot``, and extremum_bar's adjoint: each slice's mean of dot over its elements
    equal to ans, ``np.sum(mask * (dot / count), axis, keepdims=keepdims)`` (that formula itself where the mask
    is dense or a slice has no such element, np.max's NaN), else read at the mask's positions."""
    x = np.asarray(x)
    kept, hit, count, at, slot = _extremum_parts(x, ans, axis, keepdims, skip_nan)
    if at is None or np.shape(dot) != x.shape or not np.all(count):
        # (np.where, not hit * share: an infinite or NaN tangent of an element that is not the extremum,
        # sqrt's at 0 or a NaN nanmax skips, is no part of the tangent, as on the sparse path; a slice of
        # np.max's NaN, with no element equal to it, still gets NaN)
        share = dot / count
        elsewhere = np.where(count == 0, np.nan, 0.0).astype(share.dtype)
        return np.sum(np.where(hit, share, elsewhere), axis=axis, keepdims=keepdims)
    share = np.asarray(dot).flat[at] / np.ravel(count)[slot]
    mean = np.zeros(np.shape(kept), share.dtype)
    np.add.at(np.reshape(mean, -1), slot, share)
    return np.sum(mean, axis=axis, keepdims=keepdims)  # (over axes of length 1: ans's shape, or a number)


HELPERS = HELPERS + (
    "complex_order_check",
    "complex_ge",
    "_equal_kept",
    "_true_positions",
    "_extremum_parts",
    "extremum_bar",
    "extremum_dot",
)
DEPENDS.update(
    complex_ge=("complex_order_check", "_in_complex_call"),
    extremum_bar=(
        "complex_order_check",
        "_extremum_parts",
        "_equal_kept",
        "_true_positions",
        "unreduce",
        "_precision_of",
        "_in_complex_call",
        "Spread",
        "_spread_call",
    ),
    extremum_dot=("complex_order_check", "_extremum_parts", "_equal_kept", "_true_positions"),
)


def sign_times(c, a, dot=False):
    """``c * np.sign(a)`` (the slope of |a|, and of np.linalg.norm at ord 1, times a cotangent or tangent) in one
    new array: the sign is computed into it and multiplied by c in place, where c broadcasts to a's shape and the
    product keeps the sign's dtype (a second new array of x's size costs more than the multiplication: its pages
    are faulted in). For a complex ``a`` in a call with complex arguments, |a|'s derivative there (conj_times of
    a / |a|, 0 at a == 0: the subgradient np.sign takes at a real 0); NumPy's own sign of a complex number is
    another function (of the real part alone before NumPy 2)."""
    if _in_complex_call() and np.iscomplexobj(a):  # (the cheaper test first: real programs never take this path)
        return conj_times(c, unit_sign(a), dot)
    s = np.sign(a)
    if type(s) is np.ndarray and s.size >= 4096:  # (on small arrays the checks cost more than a second array)
        if type(c) is float or (
            (type(c) is np.ndarray or type(c) is Spread)  # (a Spread: a full reduction's g, one number)
            and c.dtype == s.dtype
            and (c.shape == s.shape or np.broadcast_shapes(c.shape, s.shape) == s.shape)
        ):
            return np.multiply(s, c, out=s)
    if isinstance(c, (tuple, list)):  # (the tangent of a tuple x: an array in the product, as NumPy makes it)
        c = np.asarray(c)
    return s * c


def unit_sign(a):
    """``np.sign(a)``; for a complex ``a`` in a call with complex arguments ``a / |a|`` (0 at 0), the complex
    gradient of |a| (NumPy 2's sign of a complex number; NumPy 1's is that of its real part)."""
    if _in_complex_call() and np.iscomplexobj(a):
        size = np.abs(a)
        return a / np.where(size == 0, 1.0, size)
    return np.sign(a)


def conj_times(c, a, dot=False):
    """``c * a``: a real function's slope ``a`` times its cotangent ``c`` (or with ``dot`` its tangent). For a
    complex ``a`` in a call with complex arguments, ``a`` is the function's complex gradient ``df/dx + i df/dy``
    (so that df = Re(conj(a) dz)), and under docs/complex.md's convention the cotangent of z is ``Re(c) conj(a)``
    (c, a real value's cotangent, may have an imaginary part, which pairs with nothing), the tangent
    ``Re(conj(a) dot)``. (np.var's and np.linalg.norm's rules: autograd's and JAX's formulas.)"""
    if _in_complex_call() and np.iscomplexobj(a):
        return np.real(np.conj(a) * c) if dot else np.real(c) * np.conj(a)
    return c * a


HELPERS = HELPERS + ("sign_times", "unit_sign", "conj_times")
DEPENDS.update(
    sign_times=("conj_times", "unit_sign", "_in_complex_call", "Spread", "_spread_call"),
    unit_sign=("_in_complex_call",),
    conj_times=("_in_complex_call",),
)


def trace_bar(g, a, offset=0, axis1=0, axis2=1):
    """a's cotangent from the cotangent ``g`` of ``np.trace(a, offset, axis1, axis2)``: g on that diagonal of each
    (axis1, axis2) plane, 0 elsewhere, written into one zero array in ``a``'s float precision (``g * np.eye(...)``
    makes two, the second by a multiplication over the whole plane). Its floor is np.zeros of a's shape: np.trace
    reads only the diagonal, and its ratio to that floor is about 4 for a 200 x 200 a."""
    g = np.asarray(_precision_of(g, a))
    out = np.zeros(np.shape(a), np.result_type(g.dtype, np.float16))
    ndim = out.ndim
    first, second = axis1 % ndim, axis2 % ndim
    if ndim == 2:  # (the usual case: the diagonal as a slice of the flat array, without the views below)
        step = out.shape[1] + 1
        start = (
            offset * (1 if first == 0 else out.shape[1])
            if offset >= 0
            else -offset * (out.shape[1] if first == 0 else 1)
        )
        n = max(0, min(out.shape[first] + min(offset, 0), out.shape[second] - max(offset, 0)))
        out.reshape(-1)[start : start + n * step : step] = g
        return out
    plane = np.moveaxis(out, (first, second), (-2, -1))  # (a view: writing it writes out)
    n = max(0, min(plane.shape[-2] + min(offset, 0), plane.shape[-1] - max(offset, 0)))
    at = np.arange(n)
    plane[..., at - min(offset, 0), at + max(offset, 0)] = g[..., None]
    return out


HELPERS = HELPERS + ("trace_bar",)
DEPENDS.update(trace_bar=("_precision_of", "_in_complex_call"))


def power_bar(g, b, m):
    """``sum_k (B^T)^k G (B^T)^(m-1-k)`` over k < m (an int >= 0; 0 for m = 0), for stacks of matrices too: the
    cotangent of B from the cotangent G of ``np.linalg.matrix_power(B, m)``. np.linalg.matrix_power squares B
    repeatedly and multiplies the squares at m's set bits; this runs those products again (all but the last, whose
    result is not read) and then back, two products per product (the adjoint of a product): 3p - 1 products for
    np.linalg.matrix_power's p, against the 2m - 1 of the sum itself and the 8-fold cost of powering
    [[B^T, G], [0, B^T]]."""
    b = np.asarray(b)
    g = np.asarray(g)
    if m == 0:
        return np.zeros(np.broadcast_shapes(b.shape, g.shape), np.result_type(b, g))
    bits = [int(c) for c in reversed(bin(int(m))[2:])]
    squares = [b]
    for _ in bits[1:]:
        squares.append(np.matmul(squares[-1], squares[-1]))
    chosen = [i for i, bit in enumerate(bits) if bit]
    prefixes = [squares[chosen[0]]]  # prefixes[j]: the product of the squares chosen[0..j]
    for i in chosen[1:-1]:
        prefixes.append(np.matmul(prefixes[-1], squares[i]))
    bars = [None] * len(squares)
    at = g  # the cotangent of prefixes[j], from the last product back
    for j in range(len(chosen) - 1, 0, -1):
        square = squares[chosen[j]]
        bars[chosen[j]] = np.matmul(np.swapaxes(prefixes[j - 1], -1, -2), at)
        at = np.matmul(at, np.swapaxes(square, -1, -2))
    bars[chosen[0]] = at if bars[chosen[0]] is None else bars[chosen[0]] + at
    for i in range(len(squares) - 1, 0, -1):  # squares[i] = squares[i - 1] @ squares[i - 1]
        if bars[i] is None:
            continue
        before = np.swapaxes(squares[i - 1], -1, -2)
        back = np.matmul(bars[i], before)
        back += np.matmul(before, bars[i])  # (sums into the fresh product: bars[i - 1] may be the caller's g)
        bars[i - 1] = back if bars[i - 1] is None else np.add(bars[i - 1], back, out=back)
    return bars[0]


HELPERS = HELPERS + ("power_bar",)


def norm_sums_bar(g, x, ord, axis=None, keepdims=False):
    """x's cotangent from the cotangent ``g`` of ``np.linalg.norm(x, ord, axis, keepdims)`` for the matrix norms ord
    1 / -1 (the largest / smallest column sum of |x|) and inf / -inf (row sum): g times sign(x) in that column (row),
    shared equally between tied ones (np.max's convention), 0 elsewhere; of a complex x in a call with complex
    arguments, conj_times of x / |x| (np.linalg.norm's rule). |x| is made once, and where one matrix has one such
    column the signs are written into a zero array there only (np.linalg.norm's own cost and an np.zeros), not
    sign(x) times a mask over the whole matrix."""
    a = np.asarray(x)
    planes = None if axis is None else np.ravel(np.arange(a.ndim)[(axis,)])
    m = a if axis is None else np.moveaxis(a, planes, (-2, -1))  # (no axis: a matrix)
    down = ord == 1 or ord == -1  # (column sums, along axis -2)
    sums = np.add.reduce(np.abs(m), axis=-2 if down else -1)
    top = sums.max(-1, keepdims=True) if ord > 0 else sums.min(-1, keepdims=True)
    tied = sums == top
    count = np.add.reduce(tied, -1, keepdims=True)
    weight = _precision_of(np.reshape(g, m.shape[:-2] + (1,)) * (tied / count), a)
    if m.ndim == 2 and count[0] == 1 and not (np.iscomplexobj(a) and _in_complex_call()):
        out = np.zeros(a.shape, np.result_type(weight, a, np.float16))
        at = int(np.argmax(tied))
        plane = out if axis is None else np.moveaxis(out, planes, (-2, -1))  # (a view: writing it writes out)
        if down:
            plane[:, at] = np.sign(m[:, at]) * weight[at]
        else:
            plane[at, :] = np.sign(m[at, :]) * weight[at]
        return out
    slope = np.expand_dims(weight, -2 if down else -1)
    return (
        conj_times(slope, unit_sign(m))
        if axis is None
        else np.moveaxis(conj_times(slope, unit_sign(m)), (-2, -1), planes)
    )


HELPERS = HELPERS + ("norm_sums_bar",)
DEPENDS.update(norm_sums_bar=("_precision_of", "_in_complex_call", "conj_times", "unit_sign"))


def expm_frechet_of(a, e):
    """The Frechet derivative of the matrix exponential at ``a`` in the direction ``e`` (stacks of real matrices
    too): scipy.linalg.expm's tangent, and at ``a^T`` its adjoint. A symmetric ``a`` = V diag(l) V^T (np.linalg.eigh)
    gives V (F * (V^T E V)) V^T, F[i, j] = (e^l_i - e^l_j) / (l_i - l_j) (e^l_i where they are equal; Higham 2008,
    "Functions of Matrices", thm 3.11), about expm's own cost; else scipy.linalg.expm_frechet (Al-Mohy and Higham
    2009: expm's Pade approximant and squarings with their derivatives, about 3x expm), one matrix at a time. (The
    upper right block of expm([[A, E], [0, A]]) is the same derivative at about 6x expm's cost.)"""
    from scipy.linalg import expm_frechet

    a = np.asarray(a)
    e = np.asarray(e)
    if np.isrealobj(a) and a.shape[-1] > 1 and np.array_equal(a, np.swapaxes(a, -1, -2)):
        values, vectors = np.linalg.eigh(a)
        high = np.maximum(values[..., :, None], values[..., None, :])
        gap = np.abs(values[..., :, None] - values[..., None, :])
        # (e^high (1 - e^-gap) / gap: no overflow where e^high does not, exact as gap -> 0)
        ratio = -np.expm1(-gap) / np.where(gap == 0, 1.0, gap)
        divided = np.exp(high) * np.where(gap == 0, 1.0, ratio)
        turned = np.swapaxes(vectors, -1, -2)
        return np.matmul(np.matmul(vectors, divided * np.matmul(np.matmul(turned, e), vectors)), turned)
    a, e = np.broadcast_arrays(a, e)
    kind = np.result_type(a, e, np.float16)  # (expm_frechet computes in double: a float32 pair keeps float32)
    if a.ndim == 2:
        return expm_frechet(a, e, compute_expm=False).astype(kind, copy=False)
    flat_a = a.reshape((-1,) + a.shape[-2:])
    flat_e = e.reshape((-1,) + e.shape[-2:])
    pairs = [expm_frechet(x, d, compute_expm=False) for x, d in zip(flat_a, flat_e)]
    return (np.stack(pairs) if pairs else np.zeros(flat_e.shape)).astype(kind, copy=False).reshape(a.shape)


HELPERS = HELPERS + ("expm_frechet_of",)


# ---- np.fft (issue #13): the transforms' adjoints (rules/np_fft.py) ----------------------------------------------


def fft_axes(a, s=None, axes=None):
    """The axes an n-dimensional transform of ``a`` runs along, as NumPy reads ``s`` and ``axes``: every axis
    when both are None, the last ``len(s)`` when only ``s`` is given, else ``axes``, each as a non-negative
    number. An axis named twice (NumPy transforms it twice, each time with its own length) is refused, as
    autograd refuses it.

    >>> fft_axes(np.zeros((2, 3, 4))), fft_axes(np.zeros((2, 3, 4)), s=(5, 6)), fft_axes(np.zeros((2, 3)), None, (-1,))
    ((0, 1, 2), (1, 2), (1,))
    """
    ndim = np.ndim(a)
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    found = tuple(int(axis) % ndim if ndim else int(axis) for axis in axes)
    if len(set(found)) != len(found):
        raise NotImplementedError(
            "the gradient of an n-dimensional np.fft transform along an axis named twice (axes=%r) is not "
            "supported by adjoint_compiler; transform along it in two calls" % (tuple(axes),)
        )
    return found


def fft_fit(z, like, axes):
    """``z`` cut, or padded with zeros at the end, along ``axes`` to the lengths ``like`` has there: the
    transpose of the cutting or padding of the input that a transform's ``n=`` or ``s=`` makes (and of itself
    the other way: ``fft_fit(g, z, axes)`` is its adjoint).

    >>> fft_fit(np.arange(5.0), np.zeros(3), (0,)).tolist(), fft_fit(np.ones(2), np.zeros(4), (-1,)).tolist()
    ([0.0, 1.0, 2.0], [1.0, 1.0, 0.0, 0.0])
    """
    z = np.asarray(z)
    shape = np.shape(like)
    cut = [slice(None)] * z.ndim
    widths = [(0, 0)] * z.ndim
    for axis in axes:
        axis = int(axis) % z.ndim
        have, want = z.shape[axis], shape[axis]
        if have > want:
            cut[axis] = slice(0, want)
        elif have < want:
            widths[axis] = (0, want - have)
    z = z[tuple(cut)]
    return np.pad(z, widths) if any(w != (0, 0) for w in widths) else z


_FFT_INVERSE_NORM = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _hermitian_weights(n, axis, ndim, dtype):
    """2 for the frequencies of 0 < k < n/2, 1 for 0 and n/2 (n // 2 + 1 of them), shaped to run along ``axis``:
    how many times a real signal's DFT of n points holds each of rfft's frequencies (k and n - k)."""
    weights = np.full(n // 2 + 1, 2.0, dtype=np.result_type(dtype, np.float32))
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    along = [1] * ndim
    along[axis] = -1
    return weights.reshape(along)


def rfft_bar(c, n, axis=-1, norm=None):
    """The transpose of ``np.fft.rfft`` of n real points along ``axis`` at the cotangent ``c`` of its result:
    Re(DFT of c padded with zeros to n points), computed as irfft of ``conj(c)`` over the weights (irfft reads
    each inner frequency twice) with the inverse norm, half a complex transform's work. Complex-typed (imaginary
    part 0), as the cotangents of a complex call are, so that a second derivative through it is refused as any
    of complex values made from real arguments (docs/complex.md). Its own transpose is rfft
    (rules/runtime_rules.py).

    >>> c = np.array([1.0 - 2.0j, 0.5 + 1.0j, 3.0j]); x = np.array([0.3, -1.0, 2.0, 0.7])
    >>> bool(np.isclose(np.sum(np.real(rfft_bar(c, 4)) * x), np.real(np.sum(c * np.fft.rfft(x)))))
    True
    """
    c = np.asarray(c)
    axis = int(axis) % c.ndim
    folded = np.conj(c) / _hermitian_weights(n, axis, c.ndim, c.real.dtype)
    out = np.fft.irfft(folded, n, axis=axis, norm=_FFT_INVERSE_NORM[norm])
    return out.astype(np.result_type(out, np.complex64))


def irfft_bar(g, axis=-1, norm=None):
    """The transpose of ``np.fft.irfft`` along ``axis`` at the cotangent ``g`` of its real result (n points
    there; docs/complex.md's pairing Re(c dz)): irfft reads each frequency k of 0 < k < n/2 twice, as itself and
    as its conjugate at n - k, and the frequencies 0 and n/2 once, by their real parts. So the cotangent of its
    input is ``w_k conj(rfft(g))_k`` with w = 2 inside, 1 at 0 and n/2, scaled as irfft scales (the inverse
    norm of rfft's). Its own transpose is irfft (rules/runtime_rules.py).

    >>> c = np.array([1.0, 2.0 + 1.0j, 0.5]); g = np.array([0.3, -1.0, 2.0, 0.7])
    >>> bool(np.isclose(np.real(np.sum(irfft_bar(g) * c)), np.sum(g * np.fft.irfft(c))))
    True
    """
    g = np.asarray(g)
    axis = int(axis) % g.ndim
    spectrum = np.fft.rfft(np.real(g), axis=axis, norm=_FFT_INVERSE_NORM[norm])
    return np.conj(spectrum) * _hermitian_weights(g.shape[axis], axis, g.ndim, g.real.dtype)


def fft_distinct(axes):
    """1 where ``axes`` (None, or the axes an n-dimensional transform is given) names no axis twice. NumPy
    transforms a repeated axis twice, each time with its own length, which the adjoints do not model. A pure
    function of a literal (``STATIC``): a literal ``axes`` is refused at the call; ``fft_axes`` checks the
    others (and -1 beside the last axis' number) when the gradient runs."""
    return axes is None or len(set(axes)) == len(tuple(axes))


def fft_inverse_norm(norm):
    """The ``norm=`` of the inverse transform that scales as ``norm`` scales the forward one (hfft and ihfft
    are irfft and rfft of the conjugate with the norms swapped). A pure function of a literal (``STATIC``)."""
    return _FFT_INVERSE_NORM[norm]


HELPERS = HELPERS + ("fft_axes", "fft_fit", "rfft_bar", "irfft_bar", "_hermitian_weights", "_FFT_INVERSE_NORM")
HELPERS = HELPERS + ("fft_distinct", "fft_inverse_norm")
STATIC = STATIC + ("fft_distinct", "fft_inverse_norm")
DEPENDS.update(fft_inverse_norm=("_FFT_INVERSE_NORM",))
DEPENDS.update(
    rfft_bar=("_FFT_INVERSE_NORM", "_hermitian_weights"), irfft_bar=("_FFT_INVERSE_NORM", "_hermitian_weights")
)


# ---- rules21 (issue #13): np.quantile's, np.percentile's and np.median's adjoint in one call per operand ----
# Each of NumPy's quantile methods is, along the reduced axes (flattened together), a weighted sum of one or two
# order statistics lo and hi: S, the weights of a's elements (ties with an order statistic share its weight, as
# np.max's do), is piecewise constant in a, and in q it changes only through the interpolation's fraction, whose
# derivative E (d S / d q) is piecewise constant in both. So the adjoint in a spreads g by S, the derivative in q
# gathers a by E, and these two maps with part "S" or "E" are each other's adjoints (their rules close under
# differentiation: rules/runtime_rules.py).
_QUANTILE_BETWEEN = {  # Hyndman and Fan's alpha and beta (NumPy's _QuantileMethods): virtual index n q + ... - 1
    "linear": (1.0, 1.0),
    "hazen": (0.5, 0.5),
    "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3.0, 1 / 3.0),
    "normal_unbiased": (3 / 8.0, 3 / 8.0),
    "interpolated_inverted_cdf": (0.0, 1.0),
}
# methods whose value is one order statistic, found by NumPy itself; 'midpoint' and 'averaged_inverted_cdf'
# weigh two with a fixed fraction (piecewise constant in q)
_QUANTILE_PICKS = ("lower", "higher", "nearest", "inverted_cdf", "closest_observation")


def _quantile_positions(n, q, method):
    """``(lo, hi, frac, slope)`` per element of the flat ``q``: the positions of the order statistics a quantile
    of ``n`` values weighs, hi's weight, and d frac / d q (0 where the virtual index is clipped to the ends or the
    method's fraction is piecewise constant), following NumPy's ``_get_indexes`` and ``fix_gamma``."""
    if method == "midpoint":
        index = 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    elif method == "averaged_inverted_cdf":
        index = n * q - 1
    else:
        alpha, beta = _QUANTILE_BETWEEN[method]
        index = (n - 1) * q if method == "linear" else n * q + (alpha + q * (1 - alpha - beta)) - 1
    lo = np.floor(index)
    frac = index - lo
    # (at a whole index, hi is lo: d/dq there is 0, as np.quantile's 'higher' puts hi at lo, not either side's slope)
    inside = (index >= 0) & (index < n - 1) & ((frac > 0) | (method == "averaged_inverted_cdf"))
    lo = np.where(index < 0, 0, np.where(index < n - 1, lo, n - 1)).astype(np.intp)
    hi = np.where(inside, lo + 1, lo)
    if method in ("midpoint", "averaged_inverted_cdf"):
        frac = np.where(index % 1 == 0, 0.0, 0.5) if method == "midpoint" else np.where(frac == 0, 0.5, 1.0)
        return lo, hi, frac, 0.0 * q
    alpha, beta = _QUANTILE_BETWEEN[method]
    return lo, hi, frac, np.where(inside, n + 1.0 - alpha - beta, 0.0)


def _quantile_parts(a, q, axis, method, skip_nan=False):
    """``(w, lo, hi, frac, slope, layout)`` for the quantile of ``a`` at ``q`` over ``axis`` (None: all of ``a``):
    ``w``, a with the reduced axes moved last and flattened into m values (``_slices``; the others, in order, make
    ``batch``); the order statistics lo and hi the quantile weighs and hi's weight frac, each of shape ``(q.size,)
    + batch + (1,)`` (NaN on a slice with a NaN, whose quantile NumPy makes NaN: no element is at it, weight 0);
    d frac / d q (None where it is 0 throughout); ``layout`` what ``_from_slices`` needs to move back. With
    ``skip_nan`` (np.nanquantile), each slice's quantile of its non-NaN values: ``_nan_skipped``."""
    quantile_method(method)
    flat, rest, axes, w = _slices(a, axis)
    batch, m = w.shape[:-1], w.shape[-1]
    qs = np.ravel(q) * 1.0  # (as NumPy's positions: in floats)
    k = qs.size
    kept = (k,) + batch + (1,)
    real = np.result_type(w.dtype, np.float32) if w.dtype.kind == "f" else np.float64
    layout = (flat.shape, rest, axes)
    if m == 0 or k == 0:
        nothing = np.full(kept, np.nan, real)
        return w, nothing, nothing, np.zeros((k,) + (1,) * (len(batch) + 1), real), None, layout
    if skip_nan and w.dtype.kind in "fc":
        return (w,) + _nan_skipped(w, qs, method, real) + (layout,)
    if method in _QUANTILE_PICKS:  # one order statistic, NumPy's own choice (d/dq 0)
        lo = hi = np.reshape(np.quantile(w, qs, axis=-1, keepdims=True, method=method), kept)
        frac, slope = np.zeros(k), None
    else:
        below, above, frac, slope = _quantile_positions(m, qs, method)
        part = np.partition(w, np.unique(np.concatenate([below, above, [m - 1]])), axis=-1)
        last = np.isnan(part[..., -1:]) if w.dtype.kind in "fc" else np.zeros(batch + (1,), bool)
        lo = np.where(last, np.nan, np.reshape(np.moveaxis(np.take(part, below, axis=-1), -1, 0), kept))
        hi = np.where(last, np.nan, np.reshape(np.moveaxis(np.take(part, above, axis=-1), -1, 0), kept))
        slope = None if not np.any(slope) else np.reshape(slope, (k,) + (1,) * (len(batch) + 1)).astype(real)
    return w, lo, hi, np.reshape(frac, (k,) + (1,) * (len(batch) + 1)).astype(real), slope, layout


def _nan_skipped(w, qs, method, real):
    """``(lo, hi, frac, slope)`` of np.nanquantile over the rows of ``w`` (m > 0 values each) at ``qs``: each row's
    positions among its c non-NaN values (sorted, NaNs last), so frac and slope, d frac / d q, vary by row (shape
    ``(q.size,) + batch + (1,)``); an all-NaN row's lo and hi are NaN (its quantile is NaN: weight 0 everywhere)."""
    k, batch = qs.size, w.shape[:-1]
    kept = (k,) + batch + (1,)
    count = np.sum(~np.isnan(w), axis=-1, keepdims=True)[None]
    empty = count == 0
    if method in _QUANTILE_PICKS:  # one order statistic, NumPy's own choice (d/dq 0); an all-NaN row as zeros
        filled = np.where(empty[0], 0, w)  # (NumPy's warning about it was the primal's)
        lo = np.where(
            empty, np.nan, np.reshape(np.nanquantile(filled, qs, axis=-1, keepdims=True, method=method), kept)
        )
        return lo, lo, np.zeros(kept, real), None
    below, above, frac, slope = _quantile_positions(count, np.reshape(qs, (k,) + (1,) * (len(batch) + 1)), method)
    ordered = np.sort(w, axis=-1)[None]
    lo = np.where(empty, np.nan, np.take_along_axis(ordered, np.maximum(below, 0), axis=-1))
    hi = np.where(empty, np.nan, np.take_along_axis(ordered, np.maximum(above, 0), axis=-1))
    frac = np.broadcast_to(frac, kept).astype(real)
    return lo, hi, frac, None if not np.any(slope) else np.broadcast_to(slope, kept).astype(real)


def _quantile_terms(parts, part, coef):
    """``[(mask, c), ...]``: the weights S (``part="S"``) or E, d S / d q (``"E"``), times ``coef`` (shape
    ``(q.size,) + batch + (1,)``), as masks of the elements at lo and hi with one coefficient per slice: ties with
    an order statistic share its weight equally (as np.max's). Only what is nonzero: one mask for a slice's order
    statistic, none for E of a method piecewise constant in q."""
    w, lo, hi, frac, slope, _ = parts
    if part != "S" and slope is None:
        return []
    at_lo = w == lo
    by_lo = coef / np.maximum(np.sum(at_lo, axis=-1, keepdims=True), 1)
    if part == "S" and not np.any(frac):
        return [(at_lo, by_lo)]
    at_hi = w == hi
    by_hi = coef / np.maximum(np.sum(at_hi, axis=-1, keepdims=True), 1)
    if part == "S":
        return [(at_lo, by_lo * (1.0 - frac)), (at_hi, by_hi * frac)]
    return [(at_lo, -by_lo * slope), (at_hi, by_hi * slope)]


def _slices(a, axis):
    """``(flat, rest, axes, w)``: ``a`` (raveled where ``axis`` is None), its kept and reduced axes, and ``w``,
    it with the reduced axes moved last and flattened into one: a reduction's slices, one per row."""
    flat = np.ravel(a) if axis is None or np.ndim(a) == 0 else np.asarray(a)
    nd = flat.ndim
    axes = tuple(sorted(i % nd for i in (axis if isinstance(axis, tuple) else (0 if axis is None else axis,))))
    rest = tuple(i for i in range(nd) if i not in axes)
    w = np.transpose(flat, rest + axes)
    return (
        flat,
        rest,
        axes,
        np.reshape(w, w.shape[: len(rest)] + (-1 if w.size else int(np.prod(w.shape[len(rest) :])),)),
    )


def quantile_spread(g, a, q, axis=None, method="linear", part="S", skip_nan=False):
    """The cotangent of ``a`` in ``np.quantile(a, q, axis, method=method)`` (``skip_nan``: np.nanquantile's) from
    the result's ``g`` (any shape of its size, q's axes first): g spread over each slice by the weights S
    (``part="E"``: by their derivative in q, E). Linear in g; shaped and typed like ``a`` (a float32 ``a`` keeps
    float32)."""
    return _spread_by(_quantile_parts(a, q, axis, method, skip_nan), g, part, np.shape(a))


def _spread_by(parts, g, part, shape):
    w, lo = parts[0], parts[1]
    coef = _precision_of(np.reshape(g, lo.shape), w)
    out = np.zeros(w.shape, np.result_type(coef, w.dtype, 0.0))
    for mask, c in _quantile_terms(parts, part, coef):
        # the elements at an order statistic (one per slice but for ties) written by index, for each q apart (an
        # element may be at several q's): a product over the whole mask and a sum with out cost two passes each
        for j in range(mask.shape[0]):
            at = np.nonzero(mask[j])
            out[at] += c[j][..., 0][at[:-1]]
    return _from_slices(out, *parts[5], shape)


def quantile_gather(h, a, q, axis=None, method="linear", part="S", skip_nan=False):
    """The tangent of ``np.quantile(a, q, axis, method=method, keepdims=True)`` (``skip_nan``: np.nanquantile's)
    due to ``a``'s, ``h``: each slice of h summed with the weights S (``part="E"``: with E, the derivative of the
    weights in q, so that ``quantile_gather(a, a, ...)`` is d/dq of the quantile, NaN on a slice with a NaN, or
    with no value but NaN where NaNs are skipped). Linear in h; shaped as that quantile (q's axes, then a's with
    the reduced ones kept as 1)."""
    parts = _quantile_parts(a, q, axis, method, skip_nan)
    w, lo, hi, _, slope, (shape, rest, axes) = parts
    kept = np.shape(q) + tuple(1 if i in axes else shape[i] for i in range(len(shape)))
    if h is a and part != "S":  # d/dq of the quantile itself: (hi - lo) d frac / d q
        by_q = np.where(np.isnan(lo) | np.isnan(hi), np.nan, 0.0 if slope is None else slope * (hi - lo))
        return np.reshape(by_q * np.ones(lo.shape, np.result_type(w.dtype, 0.0)), kept)
    return _gather_by(parts, h, axis, part, kept)


def _gather_by(parts, h, axis, part, kept):
    w, lo, hi = parts[:3]
    one = np.ones(lo.shape, np.result_type(w.dtype, 0.0))
    hw = _slices(h, axis)[3]
    out = np.where(np.isnan(lo) | np.isnan(hi), np.nan, 0.0 * one) if part != "S" else 0.0 * one
    for mask, c in _quantile_terms(parts, part, one):
        out = out + c * np.sum(np.broadcast_to(hw, mask.shape), axis=-1, keepdims=True, where=mask)
    return np.reshape(out, kept)


def _nanmedian_parts(a, axis):
    """``_quantile_parts`` of np.nanmedian: the median of each slice's non-NaN elements, its middle one or half
    each of its two middle ones (NumPy's nanquantile 'lower' and 'higher' at 0.5), a NaN weight 0, an all-NaN
    slice (value NaN) 0 everywhere."""
    flat, rest, axes, w = _slices(a, axis)
    kept = (1,) + w.shape[:-1] + (1,)
    layout = (flat.shape, rest, axes)
    if w.size == 0:
        nothing = np.full(kept, np.nan)
        return w, nothing, nothing, np.zeros(kept), None, layout
    count = np.reshape(np.sum(~np.isnan(w), axis=-1, keepdims=True), kept)
    lo = np.reshape(np.nanquantile(w, 0.5, axis=-1, keepdims=True, method="lower"), kept)
    hi = np.reshape(np.nanquantile(w, 0.5, axis=-1, keepdims=True, method="higher"), kept)
    position = 0.5 * (count - 1)
    real = np.result_type(w.dtype, np.float32) if w.dtype.kind == "f" else np.float64
    return w, lo, hi, (position - np.floor(position)).astype(real), None, layout


def nanmedian_spread(g, a, axis=None):
    """The cotangent of ``a`` in ``np.nanmedian(a, axis)`` from the result's ``g`` (``quantile_spread``'s, over
    each slice's non-NaN elements). Linear in g, piecewise constant in a; ``nanmedian_gather``'s adjoint."""
    return _spread_by(_nanmedian_parts(a, axis), g, "S", np.shape(a))


def nanmedian_gather(h, a, axis=None):
    """The tangent of ``np.nanmedian(a, axis, keepdims=True)`` due to ``a``'s, ``h``; ``nanmedian_spread``'s
    adjoint."""
    parts = _nanmedian_parts(a, axis)
    shape, rest, axes = parts[5]
    return _gather_by(parts, h, axis, "S", tuple(1 if i in axes else shape[i] for i in range(len(shape))))


def after_q(q, c):
    """The axes of ``c`` after q's (a quantile's result has q's axes first): those its q-cotangent sums."""
    return tuple(range(np.ndim(q), np.ndim(c)))


HELPERS = HELPERS + ("quantile_spread", "quantile_gather", "after_q", "nanmedian_spread", "nanmedian_gather")
_QUANTILE_HELPERS = (
    "_quantile_parts",
    "_nan_skipped",
    "_quantile_terms",
    "_slices",
    "_from_slices",
    "_precision_of",
    "_quantile_positions",
    "quantile_method",
)
DEPENDS.update(
    quantile_spread=_QUANTILE_HELPERS + ("_QUANTILE_BETWEEN", "_QUANTILE_PICKS"),
    quantile_gather=_QUANTILE_HELPERS + ("_QUANTILE_BETWEEN", "_QUANTILE_PICKS"),
    nanmedian_spread=_QUANTILE_HELPERS + ("_QUANTILE_BETWEEN", "_QUANTILE_PICKS"),
    nanmedian_gather=_QUANTILE_HELPERS + ("_QUANTILE_BETWEEN", "_QUANTILE_PICKS"),
)


# ---- rules21 (issue #13): np.prod's adjoint in one call (np_reductions.prod_adjoint, nanprod's, their tangents) ----


def _from_slices(out, flat_shape, rest, axes, shape):
    """``out`` (one row per slice, as ``_slices``' ``w``) back in the layout of the array of ``shape``."""
    out = np.reshape(out, tuple(flat_shape[i] for i in rest + axes))
    return np.reshape(np.transpose(out, np.argsort(rest + axes)), shape)


def _exclusive_products(w):
    """The product of the other elements of each row of ``w``, by cumulative products from both ends (exact
    with zeros, and where ``ans / x`` under- or overflows; integers stay integers)."""
    one = np.ones_like(w[..., :1])
    left = np.cumprod(np.concatenate([one, w[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([one, np.flip(w[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    return left * right


def prod_bar(g, x, ans, axis=None, keepdims=False):
    """The cotangent of ``x`` in ``ans = np.prod(x, axis, keepdims=keepdims)`` from the result's ``g``: g times
    the product of the other elements of each x_i's slice. Where a slice's product is a normal number (finite,
    neither 0 nor subnormal: no x_i is 0, and the quotient keeps its precision) that is g ans / x_i, one pass;
    only the other slices (a zero, under- or overflow) take the product of the others from cumulative products
    (the rows of a 10^6 array with a zero in every 7th: ~2x np.prod's time, where the whole array took ~6x).
    ``ans`` is that product, read as given: the result depends on x alone (its rules give ``ans`` no cotangent)."""
    a = np.asarray(x)
    flat, rest, axes, w = _slices(a, axis)
    batch = w.shape[:-1]
    gk = _precision_of(np.reshape(np.broadcast_to(g, np.shape(ans)), batch + (1,)), a)
    if a.dtype.kind not in "fc":  # (integers, objects: no division)
        return _from_slices(gk * _exclusive_products(w), flat.shape, rest, axes, np.shape(a))
    p = np.reshape(ans, batch + (1,))
    with np.errstate(all="ignore"):
        out = (gk * p) / w
        normal = np.isfinite(p) & (np.abs(p) >= np.finfo(a.dtype).tiny)
        if not np.all(normal):
            rows = ~normal[..., 0]
            out[rows] = gk[rows] * _exclusive_products(w[rows])
    return _from_slices(out, flat.shape, rest, axes, np.shape(a))


def prod_cross(v, x, ans, axis=None, keepdims=False):
    """prod_bar's derivative in x: for each element x_j, the sum over the other elements i of its slice of
    v_i times the product of the elements other than i and j (d/dt of the product of the others of x + t v).
    Symmetric in i and j, so its own adjoint in v; linear in v. With p the product of a slice's nonzero elements,
    S the sum of v_i / x_i over them and c its number of zeros: x_j nonzero gets p / x_j (S - v_j / x_j) (c = 0)
    or v_z p / x_j (c = 1, z the zero); a zero gets p S (c = 1) or p v_z' (c = 2, z' the other zero); the rest 0.
    A slice whose p under- or overflows takes dual-number cumulative products (a loop along the slice)."""
    a = np.asarray(x)
    flat, rest, axes, w = _slices(a, axis)
    vw = _slices(v, axis)[3]
    with np.errstate(all="ignore"):
        zero = w == 0
        count = np.sum(zero, axis=-1, keepdims=True)
        nonzero = np.where(zero, 1, w)
        p = np.prod(nonzero, axis=-1, keepdims=True)
        ratio = np.where(zero, 0, vw / nonzero)
        total = np.sum(ratio, axis=-1, keepdims=True)
        at_zeros = np.sum(np.where(zero, vw, 0), axis=-1, keepdims=True)
        out = np.where(
            zero,
            (count == 1) * p * total + (count == 2) * p * (at_zeros - vw),
            (count == 0) * (p / nonzero) * (total - ratio) + (count == 1) * at_zeros * p / nonzero,
        )
        bad = ~(np.isfinite(p) & (np.abs(p) >= np.finfo(np.result_type(w, 0.0)).tiny))[..., 0]
    if np.any(bad):
        out[bad] = _dual_others(w[bad], vw[bad])
    return _from_slices(out, flat.shape, rest, axes, np.shape(a))


def _dual_others(w, v):
    """prod_cross on rows whose products under- or overflow: the tangent of each exclusive product along v,
    from left and right cumulative products of dual numbers (value, tangent), a loop along the rows."""
    m = w.shape[-1]
    left, left_dot = np.ones_like(w * 1.0), np.zeros_like(w * 1.0)
    right, right_dot = np.ones_like(left), np.zeros_like(left)
    for k in range(1, m):
        left[..., k] = left[..., k - 1] * w[..., k - 1]
        left_dot[..., k] = left_dot[..., k - 1] * w[..., k - 1] + left[..., k - 1] * v[..., k - 1]
        j = m - 1 - k
        right[..., j] = right[..., j + 1] * w[..., j + 1]
        right_dot[..., j] = right_dot[..., j + 1] * w[..., j + 1] + right[..., j + 1] * v[..., j + 1]
    return left_dot * right + left * right_dot


def cumprod_ratio(g, ans, x, axis):
    """The reverse running sum of ``g * ans`` along ``axis`` (an int) divided by ``x``: the cotangent of x in
    ``ans = np.cumprod(x, axis)`` from ans's cotangent g where x has no zero (np.cumprod's rule, np_reductions.py's
    cumprod_back). The product, its reverse running sum and the quotient are each written into one new array: three
    new arrays cost a page fault per page each (10^6 elements: 4.6 ms, not 7.3; np.cumprod itself 2.4)."""
    out = g * ans
    if type(out) is not np.ndarray or out.base is not None or not out.flags.writeable:  # (a Spread's view: a copy)
        out = np.array(out)
    backwards = out[::-1] if axis == 0 else np.flip(out, axis)  # (a slice: less Python than np.flip)
    np.cumsum(backwards, axis, out=backwards)  # (in place: each element is read before it is written)
    if out.dtype.kind == "f" and (x.dtype.kind != "f" or x.dtype.itemsize <= out.dtype.itemsize):
        return np.divide(out, x, out=out)
    return out / x  # (a quotient of another dtype than the product's: (g * ans) / x's own)


HELPERS = HELPERS + ("prod_bar", "prod_cross", "cumprod_ratio")
DEPENDS.update(
    prod_bar=("_slices", "_from_slices", "_exclusive_products", "_precision_of", "_in_complex_call"),
    prod_cross=("_slices", "_from_slices", "_dual_others"),
)


# ---- complex values made from real arguments, through a rule written for real numbers (reverse/calls.py, tangent.py)


class ComplexRefusal(NotImplementedError):
    """A complex operand of a rule written for real numbers (``real_values``): the API raises the compiler's
    UnsupportedError naming the call (``label``) at its place (api.run_complex)."""

    def __init__(self, label, filename, line, col):
        super().__init__("%s:%d:%d: error: %s of complex values" % (filename, line, col, label))
        self.label, self.filename, self.line, self.col = label, filename, line, col


def real_cotangent(g, operands, label, filename, line, col):
    """The real part of the cotangent ``g`` of a function's result, where the rule written for real numbers that
    differentiates it runs in code making complex values (a spectrum, a phase): its operands must be real (else
    refused: ``real_values``), so its result is, and only the real part of a real value's cotangent pairs with
    its change (docs/complex.md). The rule then sees real values alone, as it was written for."""
    real_values(operands, label, filename, line, col)
    return _real_part(g)


def _real_part(g):
    # (a tuple's or a list's cotangent, an SVD's: element by element, whatever their shapes)
    if isinstance(g, (tuple, list)):
        return type(g)(_real_part(e) for e in g) if type(g) in (tuple, list) else g
    return np.real(g) if np.iscomplexobj(g) else g


def _holds_complex(v):
    if isinstance(v, (tuple, list)):
        return any(_holds_complex(e) for e in v)
    if isinstance(v, dict):
        return any(_holds_complex(e) for e in dict.values(v))
    return np.iscomplexobj(v)


def real_values(operands, label, filename, line, col):
    """Refuse the call ``label`` at ``filename:line:col`` where an operand of its rule, written for real numbers,
    is complex (an operand that is a tuple or list, of arrays of any shapes: any of its elements)."""
    for v in operands:
        if _holds_complex(v):
            raise ComplexRefusal(label, filename, line, col)


HELPERS = HELPERS + ("real_cotangent", "real_values", "ComplexRefusal")
DEPENDS.update(
    real_cotangent=("real_values", "ComplexRefusal", "_real_part", "_holds_complex"),
    real_values=("ComplexRefusal", "_holds_complex"),
)
