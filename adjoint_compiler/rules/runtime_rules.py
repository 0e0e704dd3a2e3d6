"""Adjoints of the runtime helpers that emitted code calls, so that emitted code is differentiable too.

``unbroadcast``, ``fit_shape``, ``unreduce``, ``add_bars`` and ``elements_bar`` are linear in their first
argument(s); their adjoints are the matching broadcast or reduction, and forward mode applies
them to tangents (``linear``: the later arguments give a shape only, their adjoint is ``None``). The other helpers
are declared non-differentiable: bookkeeping, shapes, einsum plans. Invariant: every
helper of ``runtime`` that emitted code calls has a rule or a declaration here, but
``add_at`` (rewritten to ``added_at`` where emitted code is differentiated: desugar.py) and
``checkpoint_reverse`` (see ``runtime``).

>>> import numpy as np
>>> from adjoint_compiler import runtime
>>> from adjoint_compiler.rules import registry
>>> unbroadcast_adjoint(np.array([1.0, 2.0]), None, np.zeros((3, 2)), np.zeros(2))[0].tolist()
[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]
>>> registry.is_nondifferentiable(runtime.check_scalar), registry.lookup(runtime.add_at)
(True, None)
"""

import numpy as np

from adjoint_compiler import runtime
from adjoint_compiler.rules.registry import IN_PLACE, adjoint, linear, nondifferentiable, tangent
from adjoint_compiler.runtime import (
    added_at,
    at_chosen,
    at_groups,
    centered,
    centered_pad,
    at_bar,
    divided_at,
    einsum_fit,
    einsum_unfit,
    elements_bar,
    fit_shape,
    loop_keys_dot,
    gather,
    multiplied_at,
    polygamma,
    repeated_bar,
    set_elements_bar,
    set_elements_dot,
    sorted_bar,
    sorted_dot,
    sorted_in_place_bar,
    sorted_in_place_dot,
    structure,
    tiled,
    unbroadcast,
    unreduce,
    zeros_like,
)


@adjoint(runtime.added_at)
def added_at_adjoint(g, ans, bar, index, v):
    # ans = bar with v added at index: bar's cotangent is g, v's the part of g at index
    return g, None, at_bar(g, index, v)


@tangent(runtime.added_at)
def added_at_tangent(dot, ans, bar, index, v):
    return dot, None, added_at(zeros_like(bar), index, dot)


@adjoint(runtime.multiplied_at)
def multiplied_at_adjoint(g, ans, a, index, b):
    # ans = a * F, F the product of the factors b_k multiplied in at each position (a repeated index
    # multiplies again): a's cotangent is g F, b_k's g a times the product of the other factors at its position,
    # taken without dividing (exact where a factor is 0): levels[s, j] is the factor of rank s at position j
    groups = at_groups(np.shape(a), index)  # (flat positions, ranks, a[index]'s shape, largest rank + 1)
    flat = groups[0]
    shape = groups[2]
    factors = np.reshape(np.broadcast_to(b, shape), (-1,))
    levels = multiplied_at(np.ones((groups[3], np.size(a))), (groups[1], flat), factors)
    others = np.prod(np.where(np.arange(groups[3])[:, None] == groups[1], 1.0, levels[:, flat]), axis=0)
    b_bar = np.reshape(np.reshape(g * a, (-1,))[flat] * others, shape)
    return g * multiplied_at(np.ones(np.shape(a)), index, b), None, unbroadcast(b_bar, b)


@tangent(runtime.multiplied_at)
def multiplied_at_tangent(dot, ans, a, index, b):
    groups = at_groups(np.shape(a), index)  # (flat positions, ranks, a[index]'s shape, largest rank + 1)
    flat = groups[0]
    shape = groups[2]
    factors = np.reshape(np.broadcast_to(b, shape), (-1,))
    levels = multiplied_at(np.ones((groups[3], np.size(a))), (groups[1], flat), factors)
    others = np.prod(np.where(np.arange(groups[3])[:, None] == groups[1], 1.0, levels[:, flat]), axis=0)
    spread = np.reshape(np.broadcast_to(dot, shape), (-1,)) * others
    db = np.reshape(added_at(np.zeros(np.size(a)), flat, spread), np.shape(a)) * a
    return dot * multiplied_at(np.ones(np.shape(a)), index, b), None, db


@adjoint(runtime.maximized_at)
def maximized_at_adjoint(g, ans, a, index, b):
    # np.maximum.at: each position ends with one value, a's own or one element of b, chosen as np.maximum's
    # rule chooses at each step (at_chosen: ties to the earliest); that value gets the position's cotangent
    chosen = at_chosen(a, index, b, True)
    return np.where(chosen[0], g, 0.0), None, unbroadcast(np.where(chosen[1], g[index], 0.0), b)


@tangent(runtime.maximized_at)
def maximized_at_tangent(dot, ans, a, index, b):
    chosen = at_chosen(a, index, b, True)
    return np.where(chosen[0], dot, 0.0), None, added_at(np.zeros(np.shape(ans)), index, np.where(chosen[1], dot, 0.0))


@adjoint(runtime.minimized_at)
def minimized_at_adjoint(g, ans, a, index, b):
    # np.minimum.at: as np.maximum.at, with np.minimum's rule
    chosen = at_chosen(a, index, b, False)
    return np.where(chosen[0], g, 0.0), None, unbroadcast(np.where(chosen[1], g[index], 0.0), b)


@tangent(runtime.minimized_at)
def minimized_at_tangent(dot, ans, a, index, b):
    chosen = at_chosen(a, index, b, False)
    return np.where(chosen[0], dot, 0.0), None, added_at(np.zeros(np.shape(ans)), index, np.where(chosen[1], dot, 0.0))


@adjoint(runtime.divided_at)
def divided_at_adjoint(g, ans, a, index, b):
    # ans = a / P at each position, P the product of the b_k divided by there (a repeated index divides again):
    # a's cotangent is g / P (g divided as a was), b_k's -g ans / b_k at its position
    return divided_at(g, index, b), None, unbroadcast(-(g * ans)[index] / b, b)


@tangent(runtime.divided_at)
def divided_at_tangent(dot, ans, a, index, b):
    return divided_at(dot, index, b), None, -ans * added_at(np.zeros(np.shape(ans)), index, dot / b)


@adjoint(runtime.unbroadcast, linear="first")
def unbroadcast_adjoint(g, ans, c, like):
    # unbroadcast sums c down to like's shape; its adjoint spreads g back over c's shape
    return unreduce(g, c, np.arange(np.ndim(c) - np.ndim(like))), None


@adjoint(runtime.einsum_fit, linear="first")
def einsum_fit_adjoint(g, ans, c, like, subscripts, k):
    return einsum_unfit(g, c, subscripts, k), None, None, None


@adjoint(runtime.einsum_unfit, linear="first")
def einsum_unfit_adjoint(g, ans, g_in, c, subscripts, k):
    return einsum_fit(g, g_in, subscripts, k), None, None, None


# scipy.signal's 'same' and 'valid' modes (scipy_signal.py) cut the middle of a full convolution
@adjoint(runtime.centered, linear="first")
def centered_adjoint(g, ans, x, shape):
    return centered_pad(g, np.shape(x)), None


@adjoint(runtime.centered_pad, linear="first")
def centered_pad_adjoint(g, ans, c, shape):
    return centered(g, np.shape(c)), None


@adjoint(runtime.fit_shape, linear="first")
def fit_shape_adjoint(g, ans, c, like):
    # fit_shape sums c over some axes and spreads it over others; its adjoint does the converse,
    # which is fit_shape back to c's shape
    return fit_shape(g, c), None


@adjoint(runtime.unreduce, linear="first")
def unreduce_adjoint(g, ans, g_in, like, axis=None, keepdims=False):
    # unreduce broadcasts a reduction's cotangent back; its adjoint is that reduction again (of unreduce's list of
    # shares of values of different shapes: their sum, which broadcasts, spread over g_in's shape)
    back = (
        sum(g) + np.zeros_like(g_in)
        if isinstance(g, list)
        else np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(g_in))
    )
    return back, None, None, None


@adjoint(runtime.writable, linear="first")
def writable_adjoint(g, ans, c):
    return g


@adjoint(runtime.add_bars, linear="all")
def add_bars_adjoint(g, ans, a, b):
    return g, g


@adjoint(runtime.own, linear="first")
def own_adjoint(g, ans, x, depth=1):
    # a copy: the cotangent of the copy is the argument's
    return g, None


@adjoint(runtime.own_updated, linear="first")
def own_updated_adjoint(g, ans, x, construct, filename, line, col):
    # a copy of an array, or the number itself: the cotangent of the result is the argument's
    return g, None, None, None, None


@adjoint(runtime.element_value, linear="first")
def element_value_adjoint(g, ans, value, construct, filename, line, col):
    # a check that passes its number through
    return g, None, None, None, None


@adjoint(runtime.elements_bar, linear="first")
def elements_bar_adjoint(g, ans, g_in, like):
    # elements_bar gives g_in's elements like's structure; its adjoint gives g's elements g_in's back
    return elements_bar(g, g_in), None


@adjoint(runtime.repeated_bar, linear="first")
def repeated_bar_adjoint(g, ans, g_in, xs, n=1):
    # repeated_bar adds the n copies' entries of g_in; its adjoint gives each entry its element's g
    return tiled(g, g_in, n), None, None


@adjoint(runtime.repeat_bar, linear="first")
def repeat_bar_adjoint(g, ans, g_in, counts):
    # repeat_bar adds the runs of copies np.repeat made; its adjoint makes the copies again
    return np.repeat(g, counts, -1), None


@adjoint(runtime.tiled, linear="first")
def tiled_adjoint(g, ans, g_in, like, n=1):
    # tiled repeats g_in's entries; its adjoint adds the copies back (or, for NumPy's element-wise
    # product, spreads g_in times n and its adjoint sums g times n back down)
    return repeated_bar(g, g_in, n), None, None


@adjoint(runtime.list_bar, linear="all")
def list_bar_adjoint(g, ans, xs, bar=None):
    # list_bar adds bar, element by element, to zeros shaped like xs (its values are not read): bar's
    # cotangent is g in bar's structure. Linear: its tangent is list_bar of the tangents (the gradient of a
    # list built by appends, differentiated again by hvp)
    return None, elements_bar(g, bar)


@adjoint(runtime.cotangent_where)
def cotangent_where_adjoint(g, ans, bar, r):
    # r is a masked rule's result, bar times a derivative: where bar is zero, r is 0 where that derivative is
    # finite, and its derivative passes through there (a tangent of bar reaches r through that product: the
    # composition's derivative, though not cotangent_where's in r alone); only a non-finite r (0 * inf, 0 / 0)
    # is cut. bar only selects: no derivative of its own
    return None, unbroadcast(np.where((bar == 0.0) & ~np.isfinite(r), 0.0, g), r)


@tangent(runtime.cotangent_where)
def cotangent_where_tangent(dot, ans, bar, r):
    return None, np.where((bar == 0.0) & ~np.isfinite(r), 0.0, dot)


@adjoint(runtime.loop_keys)
def loop_keys_adjoint(g, ans, seq, filename, line, col):
    # a dict's keys carry no derivative; the elements of anything else are walked as they are
    return elements_bar(g, seq), None, None, None


@tangent(runtime.loop_keys)
def loop_keys_tangent(dot, ans, seq, filename, line, col):
    return loop_keys_dot(dot, seq), None, None, None


@adjoint(runtime.loop_keys_dot, linear="first")
def loop_keys_dot_adjoint(g, ans, dot, seq):
    return loop_keys_dot(g, seq), None


@adjoint(runtime.structure)
def structure_adjoint(g, ans, cls, fields):
    # a NamedTuple's cotangent has one part per field, as a tuple's (a NamedTuple, a tuple or a list)
    return None, elements_bar(g, fields)


@tangent(runtime.structure)
def structure_tangent(dot, ans, cls, fields):
    return None, structure(cls, dot)


@adjoint(runtime.structure_fields, linear="first")
def structure_fields_adjoint(g, ans, s):
    # the fields of a dataclass as a tuple: its cotangent is that tuple's, one part per field (the
    # internal cotangent of a dataclass, as structure_adjoint reads it)
    return elements_bar(g, ans)


@adjoint(runtime.at_bar, linear="first")
def at_bar_adjoint(g, ans, g_in, index, like):
    # at_bar reads g_in at index (summed to like's shape); its adjoint adds there, spread as np.add.at does
    return added_at(zeros_like(g_in), index, g), None, None


@adjoint(runtime.sorted_bar, linear="first")
def sorted_bar_adjoint(g, ans, g_in, xs, key=None, reverse=False):
    # sorted_bar undoes the permutation sorted applied; its adjoint applies it (sorted_dot)
    return sorted_dot(g, xs, key, reverse), None, None, None


@adjoint(runtime.sorted_dot, linear="first")
def sorted_dot_adjoint(g, ans, dot, xs, key=None, reverse=False):
    return sorted_bar(g, xs, key, reverse), None, None, None


@adjoint(runtime.sorted_in_place)
def sorted_in_place_adjoint(g, ans, xs, key=None, reverse=False, axis=(), kind=None):
    # xs.sort() moves xs's elements: each cotangent goes back to the position its element came from (the
    # stable order: equal elements, whatever the kind of sort, each get one place's, a subgradient)
    return sorted_in_place_bar(g, xs, key, reverse, axis), None, None, None, None


@tangent(runtime.sorted_in_place)
def sorted_in_place_tangent(dot, ans, xs, key=None, reverse=False, axis=(), kind=None):
    return sorted_in_place_dot(dot, xs, key, reverse, axis), None, None, None, None


@adjoint(runtime.sorted_in_place_bar, linear="first")
def sorted_in_place_bar_adjoint(g, ans, g_in, xs, key=None, reverse=False, axis=(), kind=None):
    return sorted_in_place_dot(g, xs, key, reverse, axis), None, None, None, None, None


@adjoint(runtime.sorted_in_place_dot, linear="first")
def sorted_in_place_dot_adjoint(g, ans, dot, xs, key=None, reverse=False, axis=(), kind=None):
    return sorted_in_place_bar(g, xs, key, reverse, axis), None, None, None, None, None


@adjoint(runtime.gather, linear="first")
def gather_adjoint(g, ans, xs, order):
    # gather picks xs's elements in the order of a permutation; its adjoint puts each back where it came from
    return gather(g, np.argsort(order)), None


@adjoint(runtime.polygamma)
def polygamma_adjoint(g, ans, n, x):
    # d psi^(n)(x) / dx = psi^(n+1)(x): the derivatives of math.gamma and math.lgamma to any order
    return None, g * polygamma(n + 1, x)


@tangent(runtime.polygamma)
def polygamma_tangent(dot, ans, n, x):
    return None, dot * polygamma(n + 1, x)


@adjoint(runtime.bessel_i1)
def bessel_i1_adjoint(g, ans, x):
    # I_1'(x) = I_0(x) - I_1(x) / x (Abramowitz and Stegun 9.6.26), 1/2 at x == 0 (I_1(x) / x -> 1/2): np.i0's
    # second derivative, exact there too
    zero = x == 0
    return g * (np.i0(x) - np.where(zero, 0.5, ans / np.where(zero, 1.0, x)))


@tangent(runtime.bessel_i1)
def bessel_i1_tangent(dot, ans, x):
    zero = x == 0
    return dot * (np.i0(x) - np.where(zero, 0.5, ans / np.where(zero, 1.0, x)))


BOOKKEEPING = "runtime bookkeeping"
nondifferentiable(
    runtime.zeros_like,
    runtime.check_scalar,
    runtime.check_rebind,
    runtime.check_item_rebind,
    runtime.check_apart,
    runtime.check_view,
    runtime.check_overlap,
    runtime.check_distinct,
    runtime.check_element_index,
    runtime.check_not_argument,
    runtime.check_store,
    runtime.overlap_copy,
    runtime.segments,
    reason=BOOKKEEPING,
)
nondifferentiable(runtime.loop_length, runtime.zip_length, runtime.zip_columns, reason="a number of loop steps")
nondifferentiable(runtime.keys_of, reason="a dict's keys")
nondifferentiable(runtime.set_positions, reason="the positions of the items a set keeps")
nondifferentiable(runtime.match_class, reason="whether a class pattern matches")
nondifferentiable(runtime.index_of, runtime.count_of, reason="a position or a count in a list")
nondifferentiable(runtime.along_axis, runtime.diagonal_index, reason="the index a NumPy writer stores at")
nondifferentiable(runtime.piecewise_conditions, reason="np.piecewise's masks: booleans")
nondifferentiable(runtime.band_index, reason="gather indices of banded storage (scipy.linalg.solve_banded)")
nondifferentiable(runtime.lu_rows, reason="the row order of scipy.linalg.lu_factor's pivots")
nondifferentiable(
    runtime.sort_source,
    runtime.stable_order,
    runtime.inverse_order,
    reason="positions: where np.sort moved each element",
)


@adjoint(runtime.moved_back, linear="first")
def moved_back_adjoint(g, ans, g_in, p, axis):
    # moved_back writes g_in where the permutation p says; its adjoint reads there
    return np.take_along_axis(g, p, axis), None, None


nondifferentiable(runtime.at_groups, reason="the positions np.multiply.at multiplies at, and their ranks")
# they appear only next to in-place updates of adjoint buffers, which the compiler refuses in emitted code
# (grad of grad through a[i] = v), so no derivative is ever dropped through them
nondifferentiable(
    runtime.stored,
    runtime.stored_number,
    runtime.snapshot,
    runtime.put_back,
    runtime.give_back,
    runtime.contents_of,
    runtime.put_contents,
    reason=IN_PLACE,
)
# but forward mode over a gradient (hvp, jvp of grad) runs them on a list's cotangent, which it follows
# through stores: there the cotangent a stored value takes is linear in the buffer's
linear(runtime.stored, runtime.stored_number, kind="first")
nondifferentiable(runtime.once, runtime.zero_slots, reason=IN_PLACE)
nondifferentiable(runtime.old_slot, runtime.put_slot, reason=IN_PLACE)
nondifferentiable(runtime.shape_of, reason="a shape, for the adjoint of broadcasting")
nondifferentiable(
    runtime.einsum_plan, runtime.einsum_mask, reason="subscripts and a 0/1 mask, for the adjoint of np.einsum"
)
nondifferentiable(runtime.einsum_route, reason="np.einsum's optimize= for a step of its adjoint")
nondifferentiable(runtime.chosen, runtime.sort_order, reason="positions: which element max/min/sorted picks")
nondifferentiable(runtime.check_unshared, reason="a check of the arguments' identities")
nondifferentiable(runtime.ordering_key, reason="an ordering key: sorted, min and max only compare what it gives")
nondifferentiable(runtime.hit_at, reason="a 0/1 mask of the element max/min picks")
nondifferentiable(runtime.one_count, reason="a truth value: whether np.repeat's counts are one number")
nondifferentiable(
    runtime.unique_inverse, reason="positions: which distinct value each element of np.unique's input has"
)
nondifferentiable(
    runtime.raise_,
    runtime.try_,
    runtime.caught_,
    runtime.enter_context,
    runtime.exit_context,
    runtime.exit_raised,
    reason="control, not values (desugar.py)",
)


# ---- emit14 (issue #14): np.matmul's adjoint, one call per side (np_linalg.matmul_adjoint) ----------------
# matmul_bar1(g, x1, x2) is the adjoint of the linear map x1 -> x1 @ x2 applied to g, so its own adjoint
# in g is that map (h @ x2, h shaped like x1), and in x2 it is the x2-side of <h @ x2, g>: matmul_bar2(g, h,
# x2); x1 gives a shape only. matmul_bar2 likewise, with the roles of x1 and x2 exchanged. g_in may be larger
# than the product (an element-wise operation broadcast it; matmul_bar1 sums it back): its cotangent is the
# product's spread over g_in's shape, fit_shape's (the product itself where the shapes agree).
from adjoint_compiler.runtime import matmul_bar1, matmul_bar2  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.matmul_bar1)
def matmul_bar1_adjoint(g, ans, g_in, x1, x2):
    return fit_shape(np.matmul(g, x2), g_in), None, matmul_bar2(g_in, g, x2)


@adjoint(runtime.matmul_bar2)
def matmul_bar2_adjoint(g, ans, g_in, x1, x2):
    return fit_shape(np.matmul(x1, g), g_in), matmul_bar1(g_in, x1, g), None


@tangent(runtime.matmul_bar1)
def matmul_bar1_tangent(dot, ans, g_in, x1, x2):
    return matmul_bar1(dot, x1, x2), None, matmul_bar1(g_in, x1, dot)


@tangent(runtime.matmul_bar2)
def matmul_bar2_tangent(dot, ans, g_in, x1, x2):
    return matmul_bar2(dot, x1, x2), matmul_bar2(g_in, dot, x2), None


# np.dot's adjoint (np_linalg.dot_adjoint) likewise: dot_bar1(g, a, b) is the adjoint of a -> np.dot(a, b)
# applied to g, linear in g and in b.
from adjoint_compiler.runtime import dot_bar1, dot_bar2  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.dot_bar1)
def dot_bar1_adjoint(g, ans, g_in, a, b):
    return fit_shape(np.dot(g, b), g_in), None, dot_bar2(g_in, g, b)


@adjoint(runtime.dot_bar2)
def dot_bar2_adjoint(g, ans, g_in, a, b):
    return fit_shape(np.dot(a, g), g_in), dot_bar1(g_in, a, g), None


@tangent(runtime.dot_bar1)
def dot_bar1_tangent(dot, ans, g_in, a, b):
    return dot_bar1(dot, a, b), None, dot_bar1(g_in, a, dot)


@tangent(runtime.dot_bar2)
def dot_bar2_tangent(dot, ans, g_in, a, b):
    return dot_bar2(dot, a, b), dot_bar2(g_in, dot, b), None


# ---- ho11c (issue #11): the joining and splitting functions' adjoints (np_shape.py), each helper the other's
# adjoint: unjoin cuts g into the joined arrays' blocks, rejoin puts the blocks' cotangents back together.
# Both are linear in their first argument; the others give shapes only.
from adjoint_compiler.runtime import rejoin, unjoin  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.unjoin, linear="first")
def unjoin_adjoint(g, ans, g_in, arrays, how="concatenate", axis=0):
    return rejoin(g, arrays, g_in, how, axis), None, None, None


@adjoint(runtime.rejoin, linear="first")
def rejoin_adjoint(g, ans, hs, arrays, like, how="concatenate", axis=0):
    return unjoin(g, arrays, how, axis), None, None, None, None


nondifferentiable(runtime.numbered, runtime.sizes_of, reason="element numbers and counts, for np.choose's adjoint")


# np.gradient's adjoint in a number spacing h (np_reductions.py): ans = -sum(g_in ans_in) / h. Differentiated
# again by hvp (declared non-differentiable before, which dropped h's second derivatives: a wrong hvp, found by
# tests/fuzz/scan_second_order.py). The tangent rule gives each argument's part, as matmul_bar1's.
from adjoint_compiler.runtime import spacing_bar  # noqa: E402,F401


@adjoint(runtime.spacing_bar)
def spacing_bar_adjoint(g, ans, g_in, ans_in, spacing):
    return unbroadcast(-g * ans_in / spacing, g_in), unbroadcast(-g * g_in / spacing, ans_in), -g * ans / spacing


@tangent(runtime.spacing_bar)
def spacing_bar_tangent(dot, ans, g_in, ans_in, spacing):
    return -np.sum(dot * ans_in) / spacing, -np.sum(g_in * dot) / spacing, -ans * dot / spacing


# np.gradient's adjoint in f (np_reductions.py): gradient_bar(g_in, ...) = sum_k D_k^T g_in_k, linear in g_in,
# so its own adjoint is np.gradient again (D_k c for each axis k, shaped as np.gradient's result) and its
# tangent is itself applied to the tangent of g_in. One number spacing h divides every D_k: d/dh is -ans / h.
# Differentiated again by hvp and hessian (the gradient of a function calling np.gradient calls it). Several
# spacings h2..h4 are never differentiated (np.gradient's rule refuses that at the user's call): their
# cotangents are written 0.0 * one_spacing(h), which raises should one be (and lets tests call the rules).
from adjoint_compiler.runtime import gradient_bar, gradient_of, one_spacing  # noqa: E402,F401


@adjoint(runtime.gradient_bar)
def gradient_bar_adjoint(g, ans, g_in, ans_in, f, axis, edge_order, h1=None, h2=None, h3=None, h4=None):
    return (
        gradient_of(g, axis, edge_order, h1, h2, h3, h4),
        None,
        None,
        None,
        None,
        spacing_bar(g, ans, h1) * one_spacing(h2),
        0.0 * one_spacing(h2),
        0.0 * one_spacing(h3),
        0.0 * one_spacing(h4),
    )


@tangent(runtime.gradient_bar)
def gradient_bar_tangent(dot, ans, g_in, ans_in, f, axis, edge_order, h1=None, h2=None, h3=None, h4=None):
    return (
        gradient_bar(dot, ans_in, f, axis, edge_order, h1, h2, h3, h4),
        None,
        None,
        None,
        None,
        ans * (spacing_bar(1.0, 1.0, h1) * one_spacing(h2) * dot),
        0.0 * one_spacing(h2),
        0.0 * one_spacing(h3),
        0.0 * one_spacing(h4),
    )


@adjoint(runtime.gradient_of)
def gradient_of_adjoint(g, ans, f, axis, edge_order, h1=None, h2=None, h3=None, h4=None):
    # np.gradient with its spacings named (np.gradient's tangent rule and gradient_bar's adjoint call it): as
    # np.gradient's own rule
    f_bar = gradient_bar(g, ans, f, axis, edge_order, h1, h2, h3, h4)
    return (
        f_bar,
        None,
        None,
        spacing_bar(f_bar, f, h1) * one_spacing(h2),
        0.0 * one_spacing(h2),
        0.0 * one_spacing(h3),
        0.0 * one_spacing(h4),
    )


@tangent(runtime.gradient_of)
def gradient_of_tangent(dot, ans, f, axis, edge_order, h1=None, h2=None, h3=None, h4=None):
    return (
        gradient_of(dot, axis, edge_order, h1, h2, h3, h4),
        None,
        None,
        structured_times(ans, spacing_bar(1.0, 1.0, h1) * one_spacing(h2) * dot),
        0.0 * one_spacing(h2),
        0.0 * one_spacing(h3),
        0.0 * one_spacing(h4),
    )


# np.gradient's tangent in its spacing: each array of a list scaled by one factor, and the factor's derivative
from adjoint_compiler.runtime import structured_inner, structured_times  # noqa: E402,F401


@adjoint(runtime.structured_times, linear="each")
def structured_times_adjoint(g, ans, ans_in, factor):
    return structured_times(g, factor), unbroadcast(structured_inner(g, ans_in), factor)


@adjoint(runtime.structured_inner, linear="each")
def structured_inner_adjoint(g, ans, a, b):
    return structured_times(b, g), structured_times(a, g)


# np13e (issue #13): np.linalg.multi_dot's adjoint (np_linalg.py). multi_dot_bars(g, arrays) is the gradient of
# F(A) = <G, A_0 ... A_n>: linear in g, whose part is multi_dot_dot (the tangent of the product); in the operands
# its derivative is F's Hessian applied to their tangents, multi_dot_bars_dot, which, the Hessian being symmetric,
# is also its adjoint there. Those two have no rules: a third derivative through multi_dot is refused.
from adjoint_compiler.runtime import multi_dot_bars, multi_dot_bars_dot, multi_dot_dot, no_derivative  # noqa: E402


@adjoint(runtime.multi_dot_bars)
def multi_dot_bars_adjoint(g, ans, g_in, arrays):
    return multi_dot_dot(arrays, g, g_in), multi_dot_bars_dot(g_in, arrays, g)


@tangent(runtime.multi_dot_bars)
def multi_dot_bars_tangent(dot, ans, g_in, arrays):
    return multi_dot_bars(dot, arrays), multi_dot_bars_dot(g_in, arrays, dot)


@adjoint(runtime.multi_dot_dot)
def multi_dot_dot_adjoint(g, ans, arrays, dots, like):
    # linear in dots (operand k's part L_k dA_k R_k); in the operands, the product's symmetric second derivative
    return multi_dot_bars_dot(g, arrays, dots), multi_dot_bars(g, arrays), None


@adjoint(runtime.multi_dot_bars_dot)
def multi_dot_bars_dot_adjoint(g, ans, g_in, arrays, dots):
    # a third derivative of multi_dot: not modelled, refused where it is asked for
    return (
        no_derivative("np.linalg.multi_dot", "its operands", "third derivatives are not supported"),
        no_derivative("np.linalg.multi_dot", "its operands", "third derivatives are not supported"),
        no_derivative("np.linalg.multi_dot", "its operands", "third derivatives are not supported"),
    )


# np13i (issue #13): np.linalg.det's gradient, the cofactor matrix C(A) (np_linalg.py): its derivative along E is
# det's Hessian applied to E, cofactors_dot, which (the Hessian being symmetric) is also its adjoint. cofactors_dot is
# linear in E; its derivative in A (a third derivative of det) is refused where asked for.
from adjoint_compiler.runtime import cofactors_dot  # noqa: E402


# cofactors(a, det): det is det(a) already computed, a value of a (not an operand of its own): the whole derivative
# goes through a, none through det.
@adjoint(runtime.cofactors)
def cofactors_adjoint(g, ans, a, det=None):
    return cofactors_dot(a, g), None


@tangent(runtime.cofactors)
def cofactors_tangent(dot, ans, a, det=None):
    return cofactors_dot(a, dot), None


@adjoint(runtime.cofactors_dot)
def cofactors_dot_adjoint(g, ans, a, e):
    return no_derivative("np.linalg.det", "its matrix", "third derivatives are not supported"), cofactors_dot(a, g)


@tangent(runtime.cofactors_dot)
def cofactors_dot_tangent(dot, ans, a, e):
    return no_derivative("np.linalg.det", "its matrix", "third derivatives are not supported"), cofactors_dot(a, dot)


# np13j (issue #13): scipy.integrate.odeint's derivatives (scipy_integrate.py) integrate augmented systems with
# odeint, whose right-hand sides call func's compiled vjp or jvp: their own derivatives (odeint's second
# derivatives) are not modelled, refused where they are asked for (grad(grad(f)), hessian, hvp).
from adjoint_compiler.runtime import odeint_bars, odeint_dot  # noqa: E402,F401

nondifferentiable(runtime.odeint_output, reason="odeint's full_output flag, checked")


@adjoint(runtime.odeint_bars)
def odeint_bars_adjoint(g, ans, g_in, ans_in, func, y0, t, args, full_output, tfirst, options):
    return (
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        None,
        no_derivative("scipy.integrate.odeint", "y0", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "t", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "args", "second derivatives are not supported"),
        None,
        None,
        None,
    )


@tangent(runtime.odeint_bars)
def odeint_bars_tangent(dot, ans, g_in, ans_in, func, y0, t, args, full_output, tfirst, options):
    return (
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        None,
        no_derivative("scipy.integrate.odeint", "y0", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "t", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "args", "second derivatives are not supported"),
        None,
        None,
        None,
    )


@adjoint(runtime.odeint_dot)
def odeint_dot_adjoint(g, ans, ans_in, func, y0, t, args, y0_dot, t_dot, args_dot, full_output, tfirst, options):
    return (
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        None,
        no_derivative("scipy.integrate.odeint", "y0", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "t", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "args", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        None,
        None,
        None,
    )


@tangent(runtime.odeint_dot)
def odeint_dot_tangent(dot, ans, ans_in, func, y0, t, args, y0_dot, t_dot, args_dot, full_output, tfirst, options):
    return (
        no_derivative(
            "scipy.integrate.odeint", "y0, t and args, through its derivative,", "second derivatives are not supported"
        ),
        None,
        no_derivative("scipy.integrate.odeint", "y0", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "t", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "args", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        no_derivative("scipy.integrate.odeint", "its tangents", "second derivatives are not supported"),
        None,
        None,
        None,
    )


# np13m (issue #13): the inverse of a triangular matrix (cholesky's rules), reading its triangle only: as inv's,
# d(T^-1) = -T^-1 dT T^-1 with dT on that triangle, so T_bar = tri(-T^-T G T^-T)
from adjoint_compiler.runtime import triangular_inverse  # noqa: E402,F401


@adjoint(runtime.triangular_inverse)
def triangular_inverse_adjoint(g, ans, m, lower=True):
    back = -np.matmul(np.matmul(np.swapaxes(ans, -1, -2), g), np.swapaxes(ans, -1, -2))
    return (np.tril(back) if lower else np.triu(back)), None


@tangent(runtime.triangular_inverse)
def triangular_inverse_tangent(dot, ans, m, lower=True):
    return -np.matmul(np.matmul(ans, np.tril(dot) if lower else np.triu(dot)), ans), None


# np13n (issue #13): np.linalg.inv's value from an LU factorization (slogdet's rules): inv's rules (Giles 2008,
# "inverse")
from adjoint_compiler.runtime import lu_inverse  # noqa: E402,F401


@adjoint(runtime.lu_inverse)
def lu_inverse_adjoint(g, ans, a):
    inv_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(np.matmul(inv_t, g), inv_t)


@tangent(runtime.lu_inverse)
def lu_inverse_tangent(dot, ans, a):
    return -np.matmul(np.matmul(ans, dot), ans)


# np13n (issue #13): Phi(S), S = L^-T Q L^-1 (cholesky's adjoint), L and Q read from their lower triangles (Q
# symmetric), Phi(X) = W X elementwise, W 1 below the diagonal, 1/2 on it, 0 above. dS = L^-T dQ L^-1 - X - X^T with
# X = S dL L^-1; so with G' = Phi(G), Q_bar is H = L^-1 G' L^-T folded onto Q's lower triangle (H + H^T below the
# diagonal, H_ii on it) and L_bar = -tril(S (G' + G'^T) L^-T). S itself is ans + ans^T (Phi halves the diagonal).
from adjoint_compiler.runtime import phi_congruence  # noqa: E402,F401


@adjoint(runtime.phi_congruence)
def phi_congruence_adjoint(g, ans, low, q):
    eye = np.eye(np.shape(ans)[-1], dtype=ans.dtype)
    gw = np.tril(g) - 0.5 * g * eye
    both = gw + np.swapaxes(gw, -1, -2)
    linv = triangular_inverse(low)
    linv_t = np.swapaxes(linv, -1, -2)
    h = np.matmul(np.matmul(linv, both), linv_t)
    s = ans + np.swapaxes(ans, -1, -2)
    return -np.tril(np.matmul(np.matmul(s, both), linv_t)), np.tril(h) - 0.5 * h * eye


@tangent(runtime.phi_congruence)
def phi_congruence_tangent(dot, ans, low, q):
    x = np.matmul(np.matmul(ans + np.swapaxes(ans, -1, -2), np.tril(dot)), triangular_inverse(low))
    both = x + np.swapaxes(x, -1, -2)
    return -(np.tril(both) - 0.5 * both * np.eye(np.shape(ans)[-1], dtype=ans.dtype)), phi_congruence(low, dot)


# rules15 (issue #13): cholesky's adjoint A_bar = phi_congruence(L, L^T G) (runtime.cholesky_bar, Murray's blocked
# algorithm), L and G read from their lower triangles: phi_congruence's rules above, with Q = L^T G, whose
# cotangent Q_bar gives L_bar += tril(G Q_bar^T) and G_bar = L Q_bar, and whose tangent is dL^T G + L^T dG
from adjoint_compiler.runtime import cholesky_bar  # noqa: E402,F401


@adjoint(runtime.cholesky_bar)
def cholesky_bar_adjoint(g, ans, low, l_bar):
    eye = np.eye(np.shape(ans)[-1], dtype=ans.dtype)
    tl = np.tril(low)
    gw = np.tril(g) - 0.5 * g * eye
    both = gw + np.swapaxes(gw, -1, -2)
    linv = triangular_inverse(tl)
    linv_t = np.swapaxes(linv, -1, -2)
    h = np.matmul(np.matmul(linv, both), linv_t)
    q_bar = np.tril(h) - 0.5 * h * eye
    s = ans + np.swapaxes(ans, -1, -2)
    through_q = np.matmul(l_bar, np.swapaxes(q_bar, -1, -2))
    return np.tril(through_q - np.matmul(np.matmul(s, both), linv_t)), np.matmul(tl, q_bar)


@tangent(runtime.cholesky_bar)
def cholesky_bar_tangent(dot, ans, low, l_bar):
    tl = np.tril(low)
    dl = np.tril(dot)
    x = np.matmul(np.matmul(ans + np.swapaxes(ans, -1, -2), dl), triangular_inverse(tl))
    both = x + np.swapaxes(x, -1, -2)
    through_low = -(np.tril(both) - 0.5 * both * np.eye(np.shape(ans)[-1], dtype=ans.dtype))
    return through_low + phi_congruence(tl, np.matmul(np.swapaxes(dl, -1, -2), l_bar)), cholesky_bar(low, dot)


@adjoint(runtime.set_elements)
def set_elements_adjoint(g, ans, items):
    # each element of the set is the first of the items equal to it: its cotangent goes back there
    return set_elements_bar(g, items)


@tangent(runtime.set_elements)
def set_elements_tangent(dot, ans, items):
    return set_elements_dot(dot, items)


@adjoint(runtime.set_elements_bar, linear="first")
def set_elements_bar_adjoint(g, ans, g_in, items):
    # set_elements_bar scatters to the kept positions; its adjoint gathers from them (set_elements_dot)
    return set_elements_dot(g, items), None


@adjoint(runtime.set_elements_dot, linear="first")
def set_elements_dot_adjoint(g, ans, dot, items):
    return set_elements_bar(g, items), None


@adjoint(runtime.rule_cotangents)
def rule_cotangents_adjoint(g, ans, value, args, rule, filename, line, col):
    # the cotangents a registered adjoint returned, checked: differentiating them again would differentiate
    # the user's rule, which has no derivative of its own (refused where gradient code calling it is differentiated)
    return (
        no_derivative("a registered adjoint", "its result", "a rule given with register_adjoint is not differentiated"),
        None,
        None,
        None,
        None,
        None,
    )


# np13o: np.max / np.min's adjoint and tangent (extremum_bar, extremum_dot), each the other's adjoint: linear in
# their first argument; the mask of the extremal elements is constant where the max is differentiable
from adjoint_compiler.runtime import extremum_bar, extremum_dot  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.extremum_bar, linear="first")
def extremum_bar_adjoint(g, ans, g_in, x, top, axis=None, keepdims=False, skip_nan=False):
    return np.reshape(extremum_dot(g, x, top, axis, keepdims, skip_nan), np.shape(g_in)), None, None, None, None, None


@adjoint(runtime.extremum_dot, linear="first")
def extremum_dot_adjoint(g, ans, dot, x, top, axis=None, keepdims=False, skip_nan=False):
    return extremum_bar(g, x, top, axis, keepdims, skip_nan), None, None, None, None, None


# np13o: np.linalg.norm's adjoint at vector ord 1 (and abs's), c * sign(a) in one new array: linear in c; sign(a)
# is constant where the norm is differentiable (and its subgradient 0 at a zero element). These rules, and
# conj_times's (c * a for real values), serve second order, which refuses complex arguments.
from adjoint_compiler.runtime import conj_times, sign_times  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.sign_times, linear="first")
def sign_times_adjoint(g, ans, c, a, dot=False):
    return unbroadcast(sign_times(g, a), c), None, None


@adjoint(runtime.conj_times, linear="each")
def conj_times_adjoint(g, ans, c, a, dot=False):
    return unbroadcast(conj_times(g, a), c), unbroadcast(conj_times(g, c), a), None


# np13p: np.pad in the modes 'mean' and 'linear_ramp' (linear in the array): pad_linear is the linear part, the
# tangent; pad_linear_bar its transpose, the adjoint; each is the other's adjoint (linear in its first argument)
from adjoint_compiler.runtime import pad_linear, pad_linear_bar  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.pad_linear, linear="first")
def pad_linear_adjoint(g, ans, x, pad_width, mode, stat_length=None):
    return pad_linear_bar(g, x, pad_width, mode, stat_length), None, None, None


@adjoint(runtime.pad_linear_bar, linear="first")
def pad_linear_bar_adjoint(g, ans, g_in, x, pad_width, mode, stat_length=None):
    return pad_linear(g, pad_width, mode, stat_length), None, None, None, None


# rules18: np.trace's adjoint writes g on the diagonal (trace_bar, linear in g): its adjoint reads the diagonal back
@adjoint(runtime.trace_bar, linear="first")
def trace_bar_adjoint(g, ans, g_in, a, offset=0, axis1=0, axis2=1):
    return np.trace(g, offset, axis1, axis2), None, None, None, None


# rules18: np.linalg.matrix_power's adjoint, power_bar(g, b, m) = sum_k (b^T)^k g (b^T)^(m-1-k): linear in g, whose
# cotangent is power_bar(g_bar, b^T, m); in b it is the upper right block of M^m, M = [[b^T, g], [0, b^T]] (Higham
# 2008, "Functions of Matrices", theorem 3.6), so M's cotangent is power_bar again, of M and g_bar in that block, and
# b's the sum of its diagonal blocks, transposed; its tangent in b, power_bar's sum at M^T in diag(db^T, db^T)
from adjoint_compiler.runtime import power_bar  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.power_bar)
def power_bar_adjoint(g, ans, g_in, b, m):
    k = np.shape(b)[-1]
    bt = np.swapaxes(b, -1, -2)
    zero = np.zeros_like(g)
    big = np.concatenate([np.concatenate([bt, g_in], -1), np.concatenate([np.zeros_like(g_in), bt], -1)], -2)
    spot = np.concatenate([np.concatenate([zero, g], -1), np.concatenate([zero, zero], -1)], -2)
    bar = power_bar(spot, big, m)
    return bar[..., :k, k:], np.swapaxes(bar[..., :k, :k] + bar[..., k:, k:], -1, -2), None


@tangent(runtime.power_bar)
def power_bar_tangent(dot, ans, g_in, b, m):
    k = np.shape(b)[-1]
    bt = np.swapaxes(b, -1, -2)
    big = np.concatenate([np.concatenate([bt, g_in], -1), np.concatenate([np.zeros_like(g_in), bt], -1)], -2)
    dt = np.swapaxes(dot, -1, -2)
    zero = np.zeros_like(dt)
    moved = np.concatenate([np.concatenate([dt, zero], -1), np.concatenate([zero, dt], -1)], -2)
    return power_bar(dot, b, m), power_bar(moved, np.swapaxes(big, -1, -2), m)[..., :k, k:], None


# rules18: np.linalg.norm's cotangent at the matrix ords 1, -1, inf, -inf (norm_sums_bar): linear in g, its slope
# constant where the norm is differentiable (sign(x) in the picked columns): g's cotangent sums g_bar times that slope
from adjoint_compiler.runtime import norm_sums_bar  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.norm_sums_bar, linear="first")
def norm_sums_bar_adjoint(g, ans, g_in, x, ord, axis=None, keepdims=False):
    slope = norm_sums_bar(np.ones_like(g_in), x, ord, axis, keepdims)
    return np.reshape(np.sum(g * slope, axis=axis, keepdims=keepdims), np.shape(g_in)), None, None, None, None


# rules18: scipy.linalg.expm's derivative, expm_frechet_of(a, e) = L_exp(a, e): the upper right block of expm(M),
# M = [[a, e], [0, a]] (Higham 2008, thm 3.6), so its cotangents are those of that block: M_bar = L_exp(M^T, S), S
# g in the upper right block, a's the sum of M_bar's diagonal blocks, e's its upper right one; its tangent L_exp of
# M in the direction diag(da, da), upper right block, plus L_exp(a, de)
from adjoint_compiler.runtime import expm_frechet_of  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.expm_frechet_of)
def expm_frechet_of_adjoint(g, ans, a, e):
    k = np.shape(a)[-1]
    big = np.concatenate([np.concatenate([a, e], -1), np.concatenate([np.zeros_like(e), a], -1)], -2)
    zero = np.zeros_like(g)
    spot = np.concatenate([np.concatenate([zero, g], -1), np.concatenate([zero, zero], -1)], -2)
    bar = expm_frechet_of(np.swapaxes(big, -1, -2), spot)
    return bar[..., :k, :k] + bar[..., k:, k:], bar[..., :k, k:]


@tangent(runtime.expm_frechet_of)
def expm_frechet_of_tangent(dot, ans, a, e):
    k = np.shape(a)[-1]
    big = np.concatenate([np.concatenate([a, e], -1), np.concatenate([np.zeros_like(e), a], -1)], -2)
    zero = np.zeros_like(dot)
    moved = np.concatenate([np.concatenate([dot, zero], -1), np.concatenate([zero, dot], -1)], -2)
    return expm_frechet_of(big, moved)[..., :k, k:], expm_frechet_of(a, dot)


# np.fft's adjoints (np_fft.py): fft_fit cuts or pads along some axes, its transpose the same the other way;
# rfft_bar and irfft_bar are rfft's and irfft's transposes, so rfft and irfft are theirs; each is linear in its first
# argument.
from adjoint_compiler.runtime import fft_fit  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.fft_fit, linear="first", complex_ok=True)
def fft_fit_adjoint(g, ans, z, like, axes):
    return fft_fit(g, z, axes), None, None


@adjoint(runtime.rfft_bar, linear="first", complex_ok=True)
def rfft_bar_adjoint(g, ans, c, n, axis=-1, norm=None):
    return np.fft.rfft(np.real(g), n, axis, norm), None, None, None


@adjoint(runtime.irfft_bar, linear="first", complex_ok=True)
def irfft_bar_adjoint(g, ans, g_in, axis=-1, norm=None):
    return np.fft.irfft(g, np.shape(g_in)[axis], axis, norm), None, None


nondifferentiable(
    runtime.fft_axes, runtime.fft_distinct, runtime.fft_inverse_norm, reason="the axes and norm of an np.fft transform"
)


# ---- rules21 (issue #13): np.quantile's adjoint helpers (np_reductions.py). quantile_spread(g, ...) spreads g by
# the weights W ("S", or their derivative in q, "E") and quantile_gather(h, ...) sums h by them: each is linear in
# its first argument and the other's adjoint there. W is piecewise constant in a (a gets None), and S moves with q
# only by E (E not at all): so d/dq of spread(g, S) in the direction dq is spread(g dq, E), and the q-cotangent of
# gather(h, S) paired with c is the sum of c gather(h, E) over all but q's axes.
from adjoint_compiler.runtime import after_q, quantile_gather, quantile_spread  # noqa: E402


@adjoint(runtime.quantile_spread, linear="first")
def quantile_spread_adjoint(g, ans, g_in, a, q, axis=None, method="linear", part="S", skip_nan=False):
    return (
        np.reshape(quantile_gather(g, a, q, axis, method, part, skip_nan), np.shape(g_in)),
        None,
        np.sum(
            g_in * np.reshape(quantile_gather(g, a, q, axis, method, "E", skip_nan), np.shape(g_in)),
            axis=after_q(q, g_in),
        )
        * (part == "S"),
        None,
        None,
        None,
        None,
    )


@tangent(runtime.quantile_spread)
def quantile_spread_tangent(dot, ans, g_in, a, q, axis=None, method="linear", part="S", skip_nan=False):
    return (
        quantile_spread(dot, a, q, axis, method, part, skip_nan),
        None,
        quantile_spread(
            g_in * np.reshape(dot, np.shape(dot) + (1,) * (np.ndim(g_in) - np.ndim(dot))),
            a,
            q,
            axis,
            method,
            "E",
            skip_nan,
        )
        * (part == "S"),
        None,
        None,
        None,
        None,
    )


@adjoint(runtime.quantile_gather, linear="first")
def quantile_gather_adjoint(g, ans, h, a, q, axis=None, method="linear", part="S", skip_nan=False):
    return (
        quantile_spread(g, a, q, axis, method, part, skip_nan),
        None,
        np.sum(g * quantile_gather(h, a, q, axis, method, "E", skip_nan), axis=after_q(q, g)) * (part == "S"),
        None,
        None,
        None,
        None,
    )


@tangent(runtime.quantile_gather)
def quantile_gather_tangent(dot, ans, h, a, q, axis=None, method="linear", part="S", skip_nan=False):
    return (
        quantile_gather(dot, a, q, axis, method, part, skip_nan),
        None,
        quantile_gather(h, a, q, axis, method, "E", skip_nan)
        * np.reshape(dot, np.shape(dot) + (1,) * (np.ndim(ans) - np.ndim(dot)))
        * (part == "S"),
        None,
        None,
        None,
        None,
    )


# np.prod's adjoint helper (np_reductions.py): prod_bar(g, x, ans) is g times the product of the others, linear in g;
# its derivative in x along v is g times prod_cross(v), which is symmetric (the product of all but i and j), so
# prod_cross is its own adjoint in v. ans is the product of x, read as given: no cotangent. Third derivatives (in x
# of prod_cross) are refused by name.
from adjoint_compiler.runtime import prod_bar, prod_cross  # noqa: E402


@adjoint(runtime.prod_bar, linear="first")
def prod_bar_adjoint(g, ans, g_in, x, ans_in, axis=None, keepdims=False):
    return (
        fit_shape(
            np.sum(g * prod_bar(np.ones_like(ans_in), x, ans_in, axis, keepdims), axis=axis, keepdims=keepdims), g_in
        ),
        prod_cross(g * unreduce(g_in, x, axis, keepdims), x, ans_in, axis, keepdims),
        None,
        None,
        None,
    )


@tangent(runtime.prod_bar)
def prod_bar_tangent(dot, ans, g_in, x, ans_in, axis=None, keepdims=False):
    return (
        prod_bar(dot, x, ans_in, axis, keepdims),
        unreduce(g_in, x, axis, keepdims) * prod_cross(dot, x, ans_in, axis, keepdims),
        None,
        None,
        None,
    )


# np.cumprod's adjoint helper (rules24): cumprod_ratio(g, ans, x, axis) = R(g ans) / x, R the reverse running sum along
# the axis, whose transpose is the running sum F: bilinear in (g, ans), so their cotangents are F(c / x) times the
# other; in x, -c times the result over x. ans is an argument of its own here (cumprod's result, whose own cotangent
# flows back through np.cumprod's rule).
from adjoint_compiler.runtime import cumprod_ratio  # noqa: E402


@adjoint(runtime.cumprod_ratio)
def cumprod_ratio_adjoint(g, ans, g_in, ans_in, x, axis):
    forward = np.cumsum(g / x, axis)
    return unbroadcast(forward * ans_in, g_in), forward * g_in, -g * ans / x, None


@tangent(runtime.cumprod_ratio)
def cumprod_ratio_tangent(dot, ans, g_in, ans_in, x, axis):
    return cumprod_ratio(dot, ans_in, x, axis), cumprod_ratio(g_in, dot, x, axis), -ans * dot / x, None


@adjoint(runtime.prod_cross, linear="first")
def prod_cross_adjoint(g, ans, v, x, ans_in, axis=None, keepdims=False):
    return (
        prod_cross(g, x, ans_in, axis, keepdims),
        no_derivative("np.prod", "its argument", "third derivatives of a product are not implemented"),
        None,
        None,
        None,
    )


@tangent(runtime.prod_cross)
def prod_cross_tangent(dot, ans, v, x, ans_in, axis=None, keepdims=False):
    return (
        prod_cross(dot, x, ans_in, axis, keepdims),
        no_derivative("np.prod", "its argument", "third derivatives of a product are not implemented"),
        None,
        None,
        None,
    )


# np.nanmedian's (np_reductions.py): the same pair without q, each the other's adjoint, piecewise constant in a
from adjoint_compiler.runtime import nanmedian_gather, nanmedian_spread  # noqa: E402


@adjoint(runtime.nanmedian_spread, linear="first")
def nanmedian_spread_adjoint(g, ans, g_in, a, axis=None):
    return np.reshape(nanmedian_gather(g, a, axis), np.shape(g_in)), None, None


@tangent(runtime.nanmedian_spread)
def nanmedian_spread_tangent(dot, ans, g_in, a, axis=None):
    return nanmedian_spread(dot, a, axis), None, None


@adjoint(runtime.nanmedian_gather, linear="first")
def nanmedian_gather_adjoint(g, ans, h, a, axis=None):
    return nanmedian_spread(g, a, axis), None, None


@tangent(runtime.nanmedian_gather)
def nanmedian_gather_tangent(dot, ans, h, a, axis=None):
    return nanmedian_gather(dot, a, axis), None, None


# a rule for real numbers in code making complex values (reverse/calls.py): the real part of the cotangent, behind a
# check that the operands are real. Linear in g (its transpose is itself: Re(h Re(dg)) = Re(Re(h) dg))
from adjoint_compiler.runtime import real_cotangent  # noqa: E402 (names the rule bodies call)


@adjoint(runtime.real_cotangent, linear="first", complex_ok=True)
def real_cotangent_adjoint(g, ans, g_in, operands, label, filename, line, col):
    return real_cotangent(g, operands, label, filename, line, col), None, None, None, None, None


nondifferentiable(runtime.real_values, reason="a check that the operands of a rule for real numbers are real")
