"""Adjoints of NumPy's shape manipulations: reshaping, permuting, joining, copying.

Each of these functions only moves, copies or drops elements, so its adjoint
moves the cotangent back, and sums it over the copies where one element was
copied to several places (``broadcast_to``, ``tile``, ``repeat``).

Rule bodies are straight-line code (they are inlined into emitted code): a case
split is a conditional expression, and ``x == None`` replaces ``x is None``
(which would read ``1 is None`` once inlined) where ``x`` is never an array.
They call no builtins (``len``, ``list``, ``map``...): the check of every rule
body (``tests/rules/test_rule_bodies.py``) allows NumPy, ``math`` and the runtime's
shape helpers only. For the functions taking a sequence
of arrays (``concatenate``, ``stack``, ``hstack``, ``vstack``, ``dstack``, ``column_stack``) the cotangent of
that one parameter is a list with one array per input: ``runtime.unjoin`` cuts g into the inputs' blocks, and
the splitting functions' adjoint ``runtime.rejoin`` joins the pieces' cotangents back. Each is the other's
adjoint (``rules/runtime_rules.py``) and both are linear, so a gradient through them is differentiated again
(hvp, hessian).

Functions with parameters that say in many ways where elements go (``take``'s mode, ``insert``'s obj,
``pad``'s modes, ``choose``, ``select``) apply themselves to the element numbers of each operand and sum g
per number with ``np.bincount`` (see the section "shape13"), so that every parameter means in the adjoint
what it meant in the call. Functions with several results (``split``, ``meshgrid``, ``linspace`` with
``retstep``) get their cotangent ``g`` as a list or tuple with one cotangent per result (or the array
stacking them), a zero for a result that reached nothing. A parameter value a rule does not model (pad's
``mode='mean'``) is refused with ``runtime.supported``: at the call, where it is a literal.

Invariant: the cotangent of each differentiated operand has its shape, and each element of
it is the sum of the cotangents of the places the element went to.

>>> g = np.arange(6.0).reshape(2, 3)
>>> tile_adjoint(g, None, np.zeros(3), (2, 1))[0].tolist()  # each element went to two rows
[3.0, 5.0, 7.0]
>>> [piece.shape for piece in concatenate_adjoint(g, None, [np.zeros((2, 1)), np.zeros((2, 2))], 1)[0]]
[(2, 1), (2, 2)]
>>> pad_adjoint(np.arange(7.0), None, np.zeros(3), 2, "edge")[0].tolist()  # the edges were copied twice more
[3.0, 3.0, 15.0]
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, form, fragment, tangent, views
from adjoint_compiler.runtime import TangentParts, numbered, one_count, rejoin, repeat_bar, sizes_of, supported
from adjoint_compiler.runtime import no_derivative, pad_linear, pad_linear_bar, unbroadcast, unjoin
from adjoint_compiler.runtime import moved_back, sort_source
from adjoint_compiler.runtime import is_none, joined_type, only_defaults, unless_float


# ---- reshaping: the same elements in the same order ----------------------------------


@adjoint(np.reshape, method="reshape", view=True, linear="first", complex_ok=True)
def reshape_adjoint(g, ans, a, shape=None, order="C"):
    # reshape and its inverse read and write in the same index order. `shape` is
    # never read (np.shape(a) is), hence its default: the method form
    # x.reshape(3, 2) reaches this rule with x alone (see activity.py).
    return np.reshape(g, np.shape(a), order=order), None, None


def reshape_newshape(a, newshape, order="C"):
    """``np.reshape`` called with the keyword ``newshape=`` (``registry.form``), the name before NumPy 2.1
    (which renamed it ``shape=``; 2.4 removed it). The call is emitted as written: it runs where the
    installed NumPy takes that keyword, and raises NumPy's own TypeError where it does not."""
    return np.reshape(a, newshape, order=order)


form(np.reshape, reshape_newshape, keywords=("newshape",))


@adjoint(reshape_newshape, view=True, linear="first", complex_ok=True)
def reshape_newshape_adjoint(g, ans, a, newshape=None, order="C"):
    return np.reshape(g, np.shape(a), order=order), None, None


@adjoint(np.ravel, method=("ravel", "flatten"), view=True, linear="first", complex_ok=True)
def ravel_adjoint(g, ans, a, order="C"):
    # order 'K' (memory order) is not supported: np.reshape refuses it.
    return np.reshape(g, np.shape(a), order=order), None


@adjoint(np.expand_dims, view=True, linear="first", complex_ok=True)
def expand_dims_adjoint(g, ans, a, axis):
    return np.reshape(g, np.shape(a)), None


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, view=True, linear="first", complex_ok=True)
def atleast_adjoint(g, ans, arys):
    # one array (NumPy's *arys; a second array is refused as an unexpected argument): the same values
    # with leading (and for 3d, trailing) axes of length one
    return np.reshape(g, np.shape(arys))


@adjoint(np.squeeze, method="squeeze", view=True, linear="first", complex_ok=True)
def squeeze_adjoint(g, ans, a, axis=None):
    return np.reshape(g, np.shape(a)), None


# ---- permuting axes or elements ----------------------------------------------------


@adjoint(np.transpose, method="transpose", attribute="T", view=True, linear="first", complex_ok=True)
def transpose_adjoint(g, ans, a, axes=None):
    # ans axis i is a's axis axes[i], so a's axis j is ans axis argsort(axes)[j]
    # (axes normalized first: (-1, 0, 1) means (2, 0, 1)). With axes=None the
    # axes are reversed, which is its own inverse. np.ndim(None) == 0, while
    # axes given as a tuple, list or array has ndim 1 (even () for a 0-d a).
    return np.transpose(g, np.argsort(np.mod(axes, np.ndim(a))) if np.ndim(axes) else None), None


@adjoint(np.swapaxes, method="swapaxes", view=True, linear="first", complex_ok=True)
def swapaxes_adjoint(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2), None, None


@adjoint(np.moveaxis, view=True, linear="first", complex_ok=True)
def moveaxis_adjoint(g, ans, a, source, destination):
    # the axes moved to destination go back to source
    return np.moveaxis(g, destination, source), None, None


@adjoint(np.flip, view=True, linear="first", complex_ok=True)
def flip_adjoint(g, ans, m, axis=None):
    return np.flip(g, axis), None


@adjoint(np.roll, linear="first", complex_ok=True)
def roll_adjoint(g, ans, a, shift, axis=None):
    # np.negative also negates a tuple of shifts (one per axis in a tuple axis).
    return np.roll(g, np.negative(shift), axis), None, None


# ---- joining: each input owns a block of the result ---------------------------------


@adjoint(np.concatenate, linear="first", complex_ok=True)
def concatenate_adjoint(g, ans, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    # Input k owns the slice of g along `axis` that starts where inputs 0..k-1
    # end (axis=None: the flattened inputs, one after another): runtime.unjoin
    # splits g at the cumulative sizes and gives each block its input's shape.
    # A floating dtype= joins in that precision (rules20): g goes back in the inputs' (joined_type); casting=
    # only checks that cast. out= is refused, and so is another dtype (an integer one rounds).
    _unmodelled = only_defaults("dtype", unless_float(dtype), "out", out)
    return (
        unjoin(g if _unmodelled else g, arrays, "concatenate", axis)
        if is_none(dtype)
        else unjoin(np.asarray(g).astype(joined_type(arrays)), arrays, "concatenate", axis),
        None,
        None,
        None,
        None,
    )


@adjoint(np.stack, linear="first", complex_ok=True)
def stack_adjoint(g, ans, arrays, axis=0):
    # Input k is g's slice k along the new axis (a block of length one there).
    return unjoin(g, arrays, "stack", axis), None


@adjoint(np.hstack, linear="first", complex_ok=True)
def hstack_adjoint(g, ans, tup):
    # hstack concatenates np.atleast_1d of each input along axis 1, or along
    # axis 0 when they are 1-d (decided, as NumPy does, by the first one); the
    # (1,) block of a scalar input goes back to ().
    return unjoin(g, tup, "hstack")


# np.row_stack: vstack's deprecated alias (NumPy 2.0), a Python function calling vstack with dtype= and casting=,
# which vstack's rule does not take: given vstack's rule itself, where NumPy still has it
@adjoint(np.vstack, *([np.row_stack] if hasattr(np, "row_stack") else []), linear="first", complex_ok=True)
def vstack_adjoint(g, ans, tup):
    # vstack concatenates np.atleast_2d of each input along axis 0: a 1-d input
    # (n,) owns one (1, n) row block, reshaped back to (n,).
    return unjoin(g, tup, "vstack")


@adjoint(np.block, complex_ok=True)
def block_adjoint(g, ans, arrays):
    # each array's block of g (rules22): the innermost lists are joined along the last axis, each outer level along
    # the axis before; an array promoted with leading 1s gets its block back in its shape (runtime.unjoin, "block")
    return unjoin(g, arrays, "block")


@tangent(np.block, complex_ok=True)
def block_tangent(dot, ans, arrays):
    # np.block of the tangents, through rejoin: the zero tangent of an inner list that no differentiated value reached
    # is one array of its stacked items (runtime.zeros_like), which rejoin reads item by item as it reads a list
    return rejoin(dot, arrays, ans, "block")


# ---- copying: sum the cotangent over the copies -------------------------------------


@adjoint(np.broadcast_to, view=True, linear="first", complex_ok=True)
def broadcast_to_adjoint(g, ans, array, shape):
    return unbroadcast(g, array), None


@adjoint(np.tile, linear="first", complex_ok=True)
def tile_adjoint(g, ans, A, reps):
    # With A's shape s and reps r both padded with leading 1s to d = max(ndim A,
    # len reps) entries, ans has shape r * s and ans[..., q_i * s_i + p_i, ...] =
    # A[..., p_i, ...]. So g reshaped to (r0, s0, r1, s1, ...) has the copy
    # index q_i on the even axes; moving those first and flattening them into
    # one axis leaves a sum over all copies. Zero reps give an empty g and a
    # zero cotangent.
    d = np.maximum(np.ndim(A), np.size(reps))
    r = np.pad(np.atleast_1d(np.asarray(reps, np.intp)), (d - np.size(reps), 0), constant_values=1)
    s = np.pad(np.asarray(np.shape(A), np.intp), (d - np.ndim(A), 0), constant_values=1)
    split = np.reshape(g, np.ravel(np.stack([r, s], axis=1)))
    copies_first = np.transpose(split, np.concatenate([np.arange(0, 2 * d, 2), np.arange(1, 2 * d, 2)]))
    return np.reshape(np.sum(np.reshape(copies_first, np.concatenate([[-1], s])), axis=0), np.shape(A)), None


@adjoint(np.repeat, method="repeat", linear="first", complex_ok=True)
def repeat_adjoint(g, ans, a, repeats, axis=None):
    # Each element's copies are adjacent along `axis` (along the flattened a for
    # axis=None). One count for every element: g reshaped with that axis split
    # into (n, repeats) is summed over the copies. One count per element (a list
    # or array, zeros allowed): the copies of element k are g's positions
    # starts[k] .. starts[k] + counts[k] along the axis (moved last), summed by
    # np.add.reduceat over g padded with one zero, so that a start at the end is
    # in range; an element with no copies gets reduceat's single element
    # g[start], masked to 0.
    ax = 0 if axis == None else np.mod(axis, np.ndim(a))
    shape = (np.size(a),) if axis == None else np.shape(a)
    counts = np.broadcast_to(np.asarray(repeats, np.intp), (np.asarray(shape, np.intp)[ax],))
    moved = np.moveaxis(g, ax, -1)
    return (
        (
            np.reshape(
                np.sum(np.reshape(g, np.insert(np.asarray(shape, np.intp), ax + 1, repeats)), axis=ax + 1), np.shape(a)
            )
            if one_count(repeats)
            else np.reshape(
                np.moveaxis(
                    repeat_bar(moved, counts),
                    -1,
                    ax,
                ),
                np.shape(a),
            )
        ),
        None,
        None,
    )


# ---- diagonals ---------------------------------------------------------------------


@adjoint(np.diag, linear="first", complex_ok=True)
def diag_adjoint(g, ans, v, k=0):
    # A 1-d v becomes the k-th diagonal of a square matrix, so its cotangent is
    # that diagonal of g: np.diag(g, k) again. A 2-d v (n, m) gives its k-th
    # diagonal, whose i-th element is v[i, i + k] (k >= 0) or v[i - k, i]
    # (k < 0): in both cases i = min(row, column). So the cotangent is the
    # k-th-diagonal mask times g indexed by min(row, column), with g padded by
    # one 0 and the index clipped to it so that the off-diagonal entries (masked
    # anyway) index within range even for an empty diagonal.
    nearest = np.minimum(np.min(np.indices(np.shape(v)), axis=0), np.size(g))
    return (
        np.diag(g, k)
        if np.ndim(v) == 1
        else np.eye(np.shape(v)[0], np.shape(v)[-1], k) * np.take(np.append(g, 0.0), nearest)
    ), None


# ---- shape13: more shapes, indexing and ordering ----------------------------------------
# Most of these move or copy elements in ways NumPy spells with many parameters (insert's obj, pad's
# modes, take's mode). Rather than re-derive where each element went, their rules apply the function
# itself to the element numbers 1..n of the operand (``ids``): each place of the result then holds the
# number of the element it came from (0 where it came from no element of that operand), and
# ``np.bincount`` of those numbers, weighted by g, sums g over the places each element went to. So every
# parameter NumPy accepts means the same in the adjoint as in the call.


@fragment
def _numbers(x):
    # x's element numbers 1..n, in x's shape (0 is left for "no element of x")
    return np.reshape(np.arange(1, np.size(x) + 1), np.shape(x))


@fragment
def _summed_back(numbers, g, x):
    # g summed over the places holding each element number of x, in x's shape
    return np.reshape(np.bincount(np.ravel(numbers), np.ravel(g), np.size(x) + 1)[1:], np.shape(x))


@fragment
def _padded(x, pad_width, mode, reflect_type):
    # np.pad in the modes that copy elements: constant, edge, reflect, symmetric, wrap (reflect_type
    # 'even'); the modes linear in x, mean and linear_ramp, are pad_linear's (np13p: here a constant pad, unused);
    # the others computing new values (maximum, minimum, median; 'odd') are refused
    kind = supported(
        mode,
        mode == "constant"
        or mode == "edge"
        or mode == "reflect"
        or mode == "symmetric"
        or mode == "wrap"
        or mode == "mean"
        or mode == "linear_ramp",
        "np.pad(mode=...) other than 'constant', 'edge', 'reflect', 'symmetric', 'wrap', 'mean', 'linear_ramp'",
    )
    reflection = supported(reflect_type, reflect_type == "even" or reflect_type == "odd", "np.pad(reflect_type=...)")
    return (
        np.pad(x, pad_width, mode="constant")
        if kind == "constant" or kind == "mean" or kind == "linear_ramp"
        else np.pad(x, pad_width, mode=kind)
        if kind == "edge" or kind == "wrap"
        # (reflect_type 'odd' is pad_linear's: the even reflection here, unused)
        else np.pad(x, pad_width, mode=kind, reflect_type="even" if reflection == "odd" else reflection)
    )


@adjoint(np.diagflat, linear="first", complex_ok=True)
def diagflat_adjoint(g, ans, v, k=0):
    # the flattened v is the k-th diagonal of ans
    return np.reshape(np.diag(g, k), np.shape(v)), None


@adjoint(np.rollaxis, view=True, linear="first", complex_ok=True)
def rollaxis_adjoint(g, ans, a, axis, start=0):
    # rollaxis moves `axis` to just before `start` (both normalized): np.moveaxis(a, axis, dest) with
    # dest = start - 1 where axis < start; the cotangent moves it back.
    ax = np.mod(axis, np.ndim(a))
    st = start + np.ndim(a) if start < 0 else start
    return np.moveaxis(g, st - 1 if ax < st else st, ax), None, None


@adjoint(np.take, method="take", linear="first", complex_ok=True)
def take_adjoint(g, ans, a, indices, axis=None, mode="raise"):
    # ids picked the same way; an element taken twice gets both cotangents (bincount sums them).
    # No `out` (writing into an array the caller holds): a call passing it is refused at the call.
    numbers = _numbers(a)
    taken = np.take(numbers, indices, axis, mode=mode)
    return _summed_back(taken, g, a), None, None, None


@adjoint(np.lib.stride_tricks.sliding_window_view, view=True, linear="first", complex_ok=True)
def sliding_window_view_adjoint(g, ans, x, window_shape, axis=None, subok=False, writeable=False):
    # (rules24) every window a view of x's elements, an element in as many windows as cover it: the element numbers'
    # windows, and g summed over each number's places. writeable=True (writes through the windows into x) is refused;
    # subok only keeps a subclass.
    numbers = _numbers(x)
    placed = np.lib.stride_tricks.sliding_window_view(
        numbers,
        window_shape,
        axis,
        writeable=supported(
            writeable,
            not writeable,
            "np.lib.stride_tricks.sliding_window_view(writeable=True) (windows that write into x)",
        ),
    )
    return _summed_back(placed, g, x), None, None, None, None


@adjoint(np.take_along_axis, linear="first", complex_ok=True)
def take_along_axis_adjoint(g, ans, arr, indices, axis=-1):
    numbers = _numbers(arr)
    taken = np.take_along_axis(numbers, indices, axis)
    return _summed_back(taken, g, arr), None, None


@adjoint(np.delete, linear="first", complex_ok=True)
def delete_adjoint(g, ans, arr, obj, axis=None):
    numbers = _numbers(arr)
    kept = np.delete(numbers, obj, axis)
    return _summed_back(kept, g, arr), None, None


@adjoint(np.insert)
def insert_adjoint(g, ans, arr, obj, values, axis=None):
    # arr's element numbers with zeros inserted, and zeros with values' element numbers inserted: values
    # broadcast by np.insert repeat their numbers, so each value gets the sum over its copies
    numbers = _numbers(arr)
    arr_numbers = np.insert(numbers, obj, np.zeros(np.shape(values), np.intp), axis)
    inserted = _numbers(values)
    value_numbers = np.insert(np.zeros(np.shape(arr), np.intp), obj, inserted, axis)
    return _summed_back(arr_numbers, g, arr), None, _summed_back(value_numbers, g, values), None


@tangent(np.insert)
def insert_tangent(dot, ans, arr, obj, values, axis=None):
    # linear in arr and values together: each one's tangent inserted with zeros for the other
    return (
        np.insert(dot, obj, np.zeros(np.shape(values)), axis),
        None,
        np.insert(np.zeros(np.shape(arr)), obj, dot, axis),
        None,
    )


@adjoint(np.append)
def append_adjoint(g, ans, arr, values, axis=None):
    # np.append is np.concatenate((arr, values), axis), of the flattened operands for axis=None: arr owns
    # the first np.shape(arr)[axis] places along the axis (its size for axis=None), values the rest
    flat = np.ravel(g) if axis == None else g
    pieces = np.split(flat, [np.size(arr) if axis == None else np.shape(arr)[axis]], 0 if axis == None else axis)
    return np.reshape(pieces[0], np.shape(arr)), np.reshape(pieces[1], np.shape(values)), None


@tangent(np.append)
def append_tangent(dot, ans, arr, values, axis=None):
    return np.append(dot, np.zeros(np.shape(values)), axis), np.append(np.zeros(np.shape(arr)), dot, axis), None


@adjoint(np.pad)
def pad_adjoint(
    g, ans, array, pad_width, mode="constant", constant_values=0, reflect_type="even", stat_length=None, end_values=0
):
    # element numbers padded the same way tell where each element was copied; the constant's places
    # hold the numbers of constant_values instead (one, or a (before, after) pair per axis, as np.pad
    # reads it; NumPy takes constant_values in mode 'constant' only). The modes 'mean' (stat_length: a count,
    # no derivative) and 'linear_ramp' are linear in the array: their transpose is runtime.pad_linear_bar (np13p);
    # the ramp's end_values are refused where differentiated (they only move the ramps: use a constant). The modes
    # 'reflect' and 'symmetric' with reflect_type='odd' (2 edge - reflection: rules22) are linear in the array too
    numbers = _numbers(array)
    padded = _padded(numbers, pad_width, mode, reflect_type)
    constant_numbers = _numbers(constant_values)
    at_constant = np.pad(np.zeros(np.shape(array), np.intp), pad_width, constant_values=constant_numbers)
    copied = _summed_back(padded, g, array)
    odd = reflect_type == "odd" and (mode == "reflect" or mode == "symmetric")
    linear_mode = mode == "mean" or mode == "linear_ramp" or odd
    return (
        pad_linear_bar(g, array, pad_width, mode + "_odd" if odd else mode, stat_length) if linear_mode else copied,
        None,
        None,
        _summed_back(at_constant, g, constant_values),
        None,
        None,
        no_derivative("np.pad", "end_values", "the end values of mode 'linear_ramp' are constants here")
        if mode == "linear_ramp"
        else None,
    )


@tangent(np.pad)
def pad_tangent(
    dot, ans, array, pad_width, mode="constant", constant_values=0, reflect_type="even", stat_length=None, end_values=0
):
    # linear in the array and the constant together
    copies = _padded(dot, pad_width, mode, reflect_type)
    odd = reflect_type == "odd" and (mode == "reflect" or mode == "symmetric")
    linear_mode = mode == "mean" or mode == "linear_ramp" or odd
    return (
        pad_linear(dot, pad_width, mode + "_odd" if odd else mode, stat_length) if linear_mode else copies,
        None,
        None,
        np.pad(np.zeros(np.shape(array)), pad_width, constant_values=dot),
        None,
        None,
        no_derivative("np.pad", "end_values", "the end values of mode 'linear_ramp' are constants here")
        if mode == "linear_ramp"
        else None,
    )


@fragment
def _reordered(x, a, ans, axis, order, back, ranked):
    # np.sort and np.partition move a's elements along the axis (of the flattened arrays for axis=None).
    # Which went where is read off the values: the element of rank r in ans (a stable argsort of ans) is
    # the element of rank r in a, so ans = a taken at source = argsort(a)[rank(ans)], exactly; equal
    # values are taken in a's order (a stable sort), whatever the kind of sort or selection did. x (a
    # tangent of a) is taken at source, or with back (a cotangent of ans) put back where source says. ranked
    # false: ans is a sorted (np.sort), whose ranks are the positions themselves. order= (fields of a
    # structured array) is refused.
    # (runtime.sort_source: the stable argsorts in about np.sort's time, by sorting (value, index) words;
    # runtime.moved_back: the inverse permutation applied in one pass, not a sort)
    ax = -1 if axis == None else axis
    where = supported(order, order == None, "order=...: fields of a structured array")
    ranks = (np.ravel(ans) if axis == None else ans) if ranked else None
    source = sort_source(np.ravel(a) if axis == None else a, ranks, ax, where)
    flat = np.ravel(x) if axis == None else x
    return np.reshape(moved_back(flat, source, ax), np.shape(a)) if back else np.take_along_axis(flat, source, ax)


@adjoint(np.sort)
def sort_adjoint(g, ans, a, axis=-1, kind=None, order=None, stable=None):
    # a_bar is g put back where each element came from. Ties: each equal element gets the cotangent of
    # one place (a subgradient), the same in both modes.
    return _reordered(g, a, ans, axis, order, True, False), None, None, None, None


@tangent(np.sort)
def sort_tangent(dot, ans, a, axis=-1, kind=None, order=None, stable=None):
    return _reordered(dot, a, ans, axis, order, False, False), None, None, None, None


@adjoint(np.partition)
def partition_adjoint(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    # as np.sort: only which element went where differs (read off the values in the same way)
    return _reordered(g, a, ans, axis, order, True, True), None, None, None, None


@tangent(np.partition)
def partition_tangent(dot, ans, a, kth, axis=-1, kind="introselect", order=None):
    return _reordered(dot, a, ans, axis, order, False, True), None, None, None, None


@adjoint(np.split, np.array_split, linear="first", complex_ok=True)
def split_adjoint(g, ans, ary, indices_or_sections, axis=0):
    # the pieces, back to back along the axis, are ary; a piece whose cotangent is a zero (it reached
    # nothing) is broadcast to its shape (runtime.rejoin)
    return rejoin(g, ans, ary, "concatenate", axis), None, None


@adjoint(np.hsplit, linear="first", complex_ok=True)
def hsplit_adjoint(g, ans, ary, indices_or_sections):
    # along axis 1, or 0 for a 1-d ary (as np.hsplit)
    return rejoin(g, ans, ary, "concatenate", 1 if np.ndim(ary) > 1 else 0), None


@adjoint(np.vsplit, linear="first", complex_ok=True)
def vsplit_adjoint(g, ans, ary, indices_or_sections):
    return rejoin(g, ans, ary, "concatenate", 0), None


@adjoint(np.dsplit, linear="first", complex_ok=True)
def dsplit_adjoint(g, ans, ary, indices_or_sections):
    return rejoin(g, ans, ary, "concatenate", 2), None


@fragment
def _choice_cotangents(g, picked, items, count):
    # sum g over the places holding each element number (1..count), then one block per choice, in its shape
    total = np.bincount(np.ravel(picked), np.ravel(g), count + 1)
    return unjoin(total[1 : count + 1], items, "concatenate", None)


@adjoint(np.choose)
def choose_adjoint(g, ans, a, choices, mode="raise"):
    # each choice's element numbers (numbered on from the previous choices'), chosen the same way; no
    # `out`, as np.take
    picked = np.choose(a, numbered(choices, 1), mode=mode)
    return None, _choice_cotangents(g, picked, choices, np.sum(sizes_of(choices))), None


@tangent(np.choose)
def choose_tangent(dot, ans, a, choices, mode="raise"):
    return None, np.choose(a, dot, mode=mode), None


@adjoint(np.select)
def select_adjoint(g, ans, condlist, choicelist, default=0):
    # as choose_adjoint, with default numbered after the choices
    count = np.sum(sizes_of(choicelist))
    default_ids = np.reshape(np.arange(count + 1, count + 1 + np.size(default)), np.shape(default))
    picked = np.broadcast_to(np.select(condlist, numbered(choicelist, 1), default_ids), np.shape(g))
    total = np.bincount(np.ravel(picked), np.ravel(g), count + np.size(default) + 1)
    return (
        None,
        _choice_cotangents(g, picked, choicelist, count),
        np.reshape(total[count + 1 :], np.shape(default)),
    )


@tangent(np.select)
def select_tangent(dot, ans, condlist, choicelist, default=0):
    # linear in the choices and the default together, each taken where the conditions pick it
    return (
        None,
        np.broadcast_to(np.select(condlist, dot, 0.0), np.shape(ans)),
        np.broadcast_to(np.select(condlist, np.zeros(np.shape(sizes_of(choicelist))), dot), np.shape(ans)),
    )


@fragment
def _grid_operand(g, ans, k, n, axis, x):
    # the grid's k-th array is x's elements spread along `axis`: its g summed over the other axes (None
    # for a slot past the call's n arrays: a rule called directly computes every slot)
    return (
        np.reshape(
            np.sum(np.reshape(np.moveaxis(np.broadcast_to(g[k], np.shape(ans[k])), axis, 0), (np.size(x), -1)), 1),
            np.shape(x),
        )
        if k < n
        else None
    )


@adjoint(np.meshgrid, view=True, linear="all")  # copy=False: views of the arrays
def meshgrid_adjoint(g, ans, x1, x2=None, x3=None, x4=None, copy=True, sparse=False, indexing="xy"):
    # NumPy's *xi, up to four arrays: copy, sparse and indexing are keyword-only there, so a fifth
    # array would reach copy, which is refused where it is not a bool. Array k varies along axis k of
    # the grid, but with indexing='xy' and two or more arrays the first two axes are swapped. Each
    # array's cotangent is its grid array's g summed over the other axes (dense or sparse alike).
    order = supported(indexing, np.asarray(copy).dtype == np.bool_, "np.meshgrid of more than four arrays")
    n = np.size(np.fromiter(ans, "O"))
    xy = order == "xy" and n > 1
    return (
        _grid_operand(g, ans, 0, n, 1 if xy else 0, x1),
        _grid_operand(g, ans, 1, n, 0 if xy else 1, x2),
        _grid_operand(g, ans, 2, n, 2, x3),
        _grid_operand(g, ans, 3, n, 3, x4),
        None,
        None,
        None,
    )


@adjoint(np.linspace)
def linspace_adjoint(g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, device=None):
    # sample i is start + (stop - start) * i / div, div = num - 1 (num with endpoint=False; the weight
    # i / div is 0 for a single sample), along `axis` of the broadcast shape of start and stop; with
    # retstep the pair (samples, step), step = (stop - start) / div. An integer dtype floors the
    # samples: piecewise constant, cotangent 0.
    div = num - 1 if endpoint else num
    w = np.arange(num) / np.maximum(div, 1)
    samples = np.moveaxis(g[0] if retstep else g, axis, 0)
    step = g[1] / div if retstep else 0.0
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    return (
        unbroadcast(keep * np.tensordot(1.0 - w, samples, 1) - step, start),
        unbroadcast(keep * np.tensordot(w, samples, 1) + step, stop),
        None,
        None,
        None,
        None,
        None,
        None,
    )


@tangent(np.linspace)
def linspace_tangent(dot, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, device=None):
    # with retstep the pair (samples, step), step = (stop - start) / div: its tangents due to start and to stop
    # are summed element by element (runtime.TangentParts), not concatenated as tuples
    div = num - 1 if endpoint else num
    w = np.reshape(
        np.arange(num) / np.maximum(div, 1),
        np.concatenate([[num], np.ones(np.ndim(ans[0] if retstep else ans) - 1, np.intp)]).astype(np.intp),
    )
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    from_start = np.moveaxis(keep * (1.0 - w) * dot, 0, axis)
    from_stop = np.moveaxis(keep * w * dot, 0, axis)
    return (
        TangentParts((from_start, -dot / div)) if retstep else from_start,
        TangentParts((from_stop, dot / div)) if retstep else from_stop,
        None,
        None,
        None,
        None,
        None,
        None,
    )


@fragment
def log_samples(ans, num, endpoint, base, axis):
    # (w, b): np.logspace's sample weights i / div (as np.linspace's), and base with the axes NumPy gives it (padded
    # to the broadcast shape of start, stop and base, an axis of length 1 inserted at axis)
    div = num - 1 if endpoint else num
    w = np.arange(num) / np.maximum(div, 1)
    b = np.expand_dims(np.reshape(base, (1,) * (np.ndim(ans) - 1 - np.ndim(base)) + np.shape(base)), axis)
    return w, b


@adjoint(np.logspace)
def logspace_adjoint(g, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    # ans = b ** y, y = np.linspace(start, stop, num, endpoint, axis=axis): y's cotangent g ans ln(b) goes to start
    # and stop as np.linspace's (linspace_adjoint); base's is g ans y / b summed over the samples. An integer dtype
    # floors the samples: piecewise constant, cotangent 0.
    parts = log_samples(ans, num, endpoint, base, axis)
    w = parts[0]
    b = parts[1]
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    scaled = keep * g * ans
    samples = np.moveaxis(scaled * np.log(b), axis, 0)
    y = np.linspace(start, stop, num, endpoint, axis=axis)
    return (
        unbroadcast(np.tensordot(1.0 - w, samples, 1), start),
        unbroadcast(np.tensordot(w, samples, 1), stop),
        None,
        None,
        unbroadcast(np.sum(scaled * y / b, axis=axis), base),
        None,
        None,
    )


@tangent(np.logspace)
def logspace_tangent(dot, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    # d ans = ans (ln(b) dy + y db / b), dy = (1 - w) d start + w d stop laid along axis
    parts = log_samples(ans, num, endpoint, base, axis)
    w = np.reshape(parts[0], (-1,) + (1,) * (np.ndim(ans) - 1))
    b = parts[1]
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    slope = keep * ans * np.log(b)
    db = log_samples(ans, num, endpoint, dot, axis)  # (dot as base's tangent: padded as base is)
    return (
        slope * np.moveaxis((1.0 - w) * dot, 0, axis),
        slope * np.moveaxis(w * dot, 0, axis),
        None,
        None,
        keep * ans * np.linspace(start, stop, num, endpoint, axis=axis) / b * db[1],
        None,
        None,
    )


@adjoint(np.geomspace)
def geomspace_adjoint(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    # ans_i = start^(1 - w_i) stop^(w_i) (w_i as np.linspace's; the same of two negative ends, negated):
    # d ans_i / d start = ans_i (1 - w_i) / start, d ans_i / d stop = ans_i w_i / stop. An integer dtype floors.
    div = num - 1 if endpoint else num
    w = np.arange(num) / np.maximum(div, 1)
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    samples = np.moveaxis(keep * g * ans, axis, 0)
    return (
        unbroadcast(np.tensordot(1.0 - w, samples, 1) / start, start),
        unbroadcast(np.tensordot(w, samples, 1) / stop, stop),
        None,
        None,
        None,
        None,
    )


@tangent(np.geomspace)
def geomspace_tangent(dot, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    div = num - 1 if endpoint else num
    w = np.reshape(np.arange(num) / np.maximum(div, 1), (-1,) + (1,) * (np.ndim(ans) - 1))
    keep = 1.0 if dtype == None else 1.0 * np.issubdtype(dtype, np.inexact)
    return (
        keep * ans * np.moveaxis((1.0 - w) * (dot / start), 0, axis),
        keep * ans * np.moveaxis(w * (dot / stop), 0, axis),
        None,
        None,
        None,
        None,
    )


@adjoint(np.diagonal, method="diagonal", view=True, linear="first", complex_ok=True)
def diagonal_adjoint(g, ans, a, offset=0, axis1=0, axis2=1):
    numbers = _numbers(a)
    taken = np.diagonal(numbers, offset, axis1, axis2)
    return _summed_back(taken, g, a), None, None, None


if hasattr(np.linalg, "diagonal"):  # NumPy 2.0+: the array API's spellings, over the last two axes

    @adjoint(np.linalg.diagonal, view=True, linear="first", complex_ok=True)
    def linalg_diagonal_adjoint(g, ans, x, offset=0):
        # np.diagonal(x, offset, -2, -1): g back on that diagonal (diagonal_adjoint)
        numbers = _numbers(x)
        taken = np.diagonal(numbers, offset, -2, -1)
        return _summed_back(taken, g, x), None

    @adjoint(
        np.matrix_transpose, np.linalg.matrix_transpose, attribute="mT", view=True, linear="first", complex_ok=True
    )
    def matrix_transpose_adjoint(g, ans, x):
        # the last two axes swapped, which is its own inverse
        return np.swapaxes(g, -1, -2)


@adjoint(np.fliplr, view=True, linear="first", complex_ok=True)
def fliplr_adjoint(g, ans, m):
    return np.fliplr(g)


@adjoint(np.flipud, view=True, linear="first", complex_ok=True)
def flipud_adjoint(g, ans, m):
    return np.flipud(g)


@adjoint(np.rot90, view=True, linear="first", complex_ok=True)
def rot90_adjoint(g, ans, m, k=1, axes=(0, 1)):
    # k quarter turns undone by -k in the same plane
    return np.rot90(g, -k, axes), None, None


@adjoint(np.triu, linear="first", complex_ok=True)
def triu_adjoint(g, ans, m, k=0):
    # the kept triangle; a 1-d m was repeated as each row first, whose copies are summed back
    return unbroadcast(np.triu(g, k), m), None


@adjoint(np.tril, linear="first", complex_ok=True)
def tril_adjoint(g, ans, m, k=0):
    return unbroadcast(np.tril(g, k), m), None


@adjoint(np.column_stack, linear="first", complex_ok=True)
def column_stack_adjoint(g, ans, tup):
    # inputs of fewer than two axes are one column each (shape (n, 1)), the others their shape[1] columns
    return unjoin(g, tup, "column_stack")


@adjoint(np.dstack, linear="first", complex_ok=True)
def dstack_adjoint(g, ans, tup):
    # as vstack_adjoint, along the third axis of np.atleast_3d of each input
    return unjoin(g, tup, "dstack")


# ---- views with no rule here -------------------------------------------------------
# Functions, attributes and methods whose result may share memory with an argument (effects.py and
# aliasing.py ask registry.is_view / is_view_name). A name stands for an attribute or method
# (x.T, x.view()), a spelling whose function has another __name__ (np.permute_dims is np.transpose),
# or a container's element (d.get(k)).
views(
    np.asanyarray,
    np.ascontiguousarray,
    np.asfortranarray,
    np.asarray_chkfinite,
    np.require,
    np.broadcast_arrays,
    np.rollaxis,
    np.diagonal,
    np.split,
    np.array_split,
    np.hsplit,
    np.vsplit,
    np.dsplit,
    np.real,
    np.imag,
    np.fliplr,
    np.flipud,
    np.rot90,
    np.trim_zeros,
    np.ndarray,
    # NumPy 2 functions, absent from the older NumPy that pyproject.toml allows
    *(getattr(np, name) for name in ("matrix_transpose", "unstack") if hasattr(np, name)),
)
views("permute_dims", "T", "mT", "flat", "base", "view", "lib", "get")
