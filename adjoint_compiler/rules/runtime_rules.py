"""Adjoints of the runtime helpers that emitted code calls, so that emitted code is differentiable too.

``unbroadcast``, ``unreduce`` and ``add_bars`` are linear in their first
argument(s); their adjoints are the matching broadcast or reduction.
"""

import numpy as np

from adjoint_compiler import runtime
from adjoint_compiler.rules.registry import adjoint, nondifferentiable
from adjoint_compiler.runtime import fit_shape, unreduce


@adjoint(runtime.unbroadcast)
def unbroadcast_adjoint(g, ans, c, like):
    # unbroadcast sums c down to like's shape; its adjoint spreads g back over c's shape
    return unreduce(g, c, np.arange(np.ndim(c) - np.ndim(like))), None


@adjoint(runtime.fit_shape)
def fit_shape_adjoint(g, ans, c, like):
    # fit_shape sums c over some axes and spreads it over others; its adjoint does the converse,
    # which is fit_shape back to c's shape
    return fit_shape(g, c), None


@adjoint(runtime.unreduce)
def unreduce_adjoint(g, ans, g_in, like, axis=None, keepdims=False):
    # unreduce broadcasts a reduction's cotangent back; its adjoint is that reduction again
    return np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(g_in)), None, None, None


@adjoint(runtime.add_bars)
def add_bars_adjoint(g, ans, a, b):
    return g, g


nondifferentiable(
    runtime.zeros_like,
    runtime.check_scalar,
    runtime.check_rebind,
    runtime.check_overlap,
    runtime.check_store,
    runtime.overlap_copy,
    runtime.segments,
    reason="runtime bookkeeping",
)
# they appear only next to in-place updates of adjoint buffers, which the compiler refuses in emitted code
# (grad of grad through a[i] = v), so no derivative is ever dropped through them
nondifferentiable(
    runtime.stored,
    runtime.stored_number,
    runtime.snapshot,
    runtime.put_back,
    runtime.once,
    runtime.list_bar,
    runtime.zero_slots,
    reason="in-place update bookkeeping",
)
nondifferentiable(runtime.shape_of, reason="a shape, for the adjoint of broadcasting")
nondifferentiable(
    runtime.einsum_plan, runtime.einsum_mask, reason="subscripts and a 0/1 mask, for the adjoint of np.einsum"
)
nondifferentiable(runtime.one_count, reason="a truth value: whether np.repeat's counts are one number")
