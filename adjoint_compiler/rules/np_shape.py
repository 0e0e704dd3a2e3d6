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
of arrays (``concatenate``, ``stack``, ``hstack``, ``vstack``) the cotangent of
that one parameter is a list with one array per input, built without a loop by
NumPy's own map: ``np.frompyfunc(f, nin, 1)(...)`` applies ``f`` elementwise
over object arrays (made with ``np.fromiter(xs, "O")``, which never merges
same-shaped arrays into one block), and ``.tolist()`` gives the list back.

Invariant: the cotangent of the array argument has its shape, and each element of
it is the sum of the cotangents of the places the element went to.

>>> g = np.arange(6.0).reshape(2, 3)
>>> tile_adjoint(g, None, np.zeros(3), (2, 1))[0].tolist()  # each element went to two rows
[3.0, 5.0, 7.0]
>>> [piece.shape for piece in concatenate_adjoint(g, None, [np.zeros((2, 1)), np.zeros((2, 2))], 1)[0]]
[(2, 1), (2, 2)]
"""

import numpy as np

from adjoint_compiler.rules.registry import adjoint, form, linear, views
from adjoint_compiler.runtime import one_count, unbroadcast


# ---- reshaping: the same elements in the same order ----------------------------------


@adjoint(np.reshape, method="reshape", view=True, linear="first")
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


@adjoint(reshape_newshape, view=True, linear="first")
def reshape_newshape_adjoint(g, ans, a, newshape=None, order="C"):
    return np.reshape(g, np.shape(a), order=order), None, None


@adjoint(np.ravel, method=("ravel", "flatten"), view=True, linear="first")
def ravel_adjoint(g, ans, a, order="C"):
    # order 'K' (memory order) is not supported: np.reshape refuses it.
    return np.reshape(g, np.shape(a), order=order), None


@adjoint(np.expand_dims, view=True, linear="first")
def expand_dims_adjoint(g, ans, a, axis):
    return np.reshape(g, np.shape(a)), None


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d, view=True, linear="first")
def atleast_adjoint(g, ans, arys):
    # one array (NumPy's *arys; a second array is refused as an unexpected argument): the same values
    # with leading (and for 3d, trailing) axes of length one
    return np.reshape(g, np.shape(arys))


@adjoint(np.squeeze, method="squeeze", view=True, linear="first")
def squeeze_adjoint(g, ans, a, axis=None):
    return np.reshape(g, np.shape(a)), None


# ---- permuting axes or elements ----------------------------------------------------


@adjoint(np.transpose, method="transpose", attribute="T", view=True, linear="first")
def transpose_adjoint(g, ans, a, axes=None):
    # ans axis i is a's axis axes[i], so a's axis j is ans axis argsort(axes)[j]
    # (axes normalized first: (-1, 0, 1) means (2, 0, 1)). With axes=None the
    # axes are reversed, which is its own inverse. np.ndim(None) == 0, while
    # axes given as a tuple, list or array has ndim 1 (even () for a 0-d a).
    return np.transpose(g, np.argsort(np.mod(axes, np.ndim(a))) if np.ndim(axes) else None), None


@adjoint(np.swapaxes, method="swapaxes", view=True, linear="first")
def swapaxes_adjoint(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2), None, None


@adjoint(np.moveaxis, view=True, linear="first")
def moveaxis_adjoint(g, ans, a, source, destination):
    # the axes moved to destination go back to source
    return np.moveaxis(g, destination, source), None, None


@adjoint(np.flip, view=True, linear="first")
def flip_adjoint(g, ans, m, axis=None):
    return np.flip(g, axis), None


@adjoint(np.roll, linear="first")
def roll_adjoint(g, ans, a, shift, axis=None):
    # np.negative also negates a tuple of shifts (one per axis in a tuple axis).
    return np.roll(g, np.negative(shift), axis), None, None


# ---- joining: each input owns a block of the result ---------------------------------


@adjoint(np.concatenate, linear="first")
def concatenate_adjoint(g, ans, arrays, axis=0):
    # Input k owns the slice of g along `axis` that starts where inputs 0..k-1
    # end, so g is split at the cumulative sizes (np.size(x, axis) per input,
    # mapped with np.frompyfunc). axis=None concatenates the flattened inputs:
    # np.size(x, None) is then each input's size, g is 1-d, and the final
    # elementwise reshape (a no-op for an int axis) restores each input's shape.
    items = np.fromiter(arrays, "O")
    sizes = np.frompyfunc(np.size, 2, 1)(items, axis)
    pieces = np.split(g, np.cumsum(sizes)[:-1].astype(np.intp), 0 if axis == None else axis)
    shapes = np.frompyfunc(np.shape, 1, 1)(items)
    return np.frompyfunc(np.reshape, 2, 1)(np.fromiter(pieces, "O"), shapes).tolist(), None


@adjoint(np.stack, linear="first")
def stack_adjoint(g, ans, arrays, axis=0):
    # Input k is g's slice k along the new axis; moving that axis first makes
    # the slices g's first-axis elements.
    return np.fromiter(np.moveaxis(g, axis, 0), "O").tolist(), None


@adjoint(np.hstack, linear="first")
def hstack_adjoint(g, ans, tup):
    # hstack concatenates np.atleast_1d of each input along axis 1, or along
    # axis 0 when they are 1-d (decided, as NumPy does, by the first one); the
    # elementwise reshape turns the (1,) block of a scalar input back into ().
    items = np.fromiter(tup, "O")
    axis = 0 if np.ndim(items[0]) <= 1 else 1
    sizes = np.frompyfunc(np.size, 2, 1)(np.frompyfunc(np.atleast_1d, 1, 1)(items), axis)
    pieces = np.split(g, np.cumsum(sizes)[:-1].astype(np.intp), axis)
    shapes = np.frompyfunc(np.shape, 1, 1)(items)
    return np.frompyfunc(np.reshape, 2, 1)(np.fromiter(pieces, "O"), shapes).tolist()


@adjoint(np.vstack, linear="first")
def vstack_adjoint(g, ans, tup):
    # vstack concatenates np.atleast_2d of each input along axis 0: a 1-d input
    # (n,) owns one (1, n) row block, reshaped back to (n,).
    items = np.fromiter(tup, "O")
    sizes = np.frompyfunc(np.size, 2, 1)(np.frompyfunc(np.atleast_2d, 1, 1)(items), 0)
    pieces = np.split(g, np.cumsum(sizes)[:-1].astype(np.intp), 0)
    shapes = np.frompyfunc(np.shape, 1, 1)(items)
    return np.frompyfunc(np.reshape, 2, 1)(np.fromiter(pieces, "O"), shapes).tolist()


# ---- copying: sum the cotangent over the copies -------------------------------------


@adjoint(np.broadcast_to, view=True, linear="first")
def broadcast_to_adjoint(g, ans, array, shape):
    return unbroadcast(g, array), None


@adjoint(np.tile, linear="first")
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


@adjoint(np.repeat, linear="first")
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
                    np.add.reduceat(
                        np.concatenate([moved, np.zeros_like(np.sum(moved, -1, keepdims=True))], -1),
                        np.cumsum(counts) - counts,
                        -1,
                    )
                    * (counts > 0),
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


@adjoint(np.diag, linear="first")
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

# linear functions with no adjoint rule: forward mode only (each moves, copies or drops elements)
linear(np.diagonal, np.fliplr, np.flipud, np.rot90, np.triu, np.tril, kind="first")
linear(np.column_stack, np.dstack, kind="first")  # of a sequence of arrays
