"""Table-driven checks of the product and np.linalg adjoint rules: 1-d, 2-d, scalar and stacked operands."""

import inspect
import re
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline
from adjoint_compiler.rules import np_linalg, registry
from adjoint_compiler.testing import check_grads, check_rule
from tests.rules.test_rule_bodies import assert_inlinable
from tests.rules.numpy_versions import NUMPY2, NUMPY25, assert_parameters_follow_numpy

SEEDS = (0, 1, 2)


def normal(rng, shape):
    x = rng.standard_normal(shape)
    return float(x) if shape == () else x


def well_conditioned(rng, shape):
    """3 I + small noise on the last two axes: far from singular, so FD and inverses are accurate."""
    return 3.0 * np.eye(shape[-1]) + 0.3 * rng.standard_normal(shape)


class Row(NamedTuple):
    fn: object
    args: tuple  # (maker, shape) per array argument, or a plain value (a subscripts string)
    kwargs: dict
    name: str


def _rows(fn, cases, maker=normal, kwargs=None):
    kwargs = kwargs or {}
    return [
        Row(fn, tuple((maker, s) for s in shapes), kwargs, "%s-%s" % (fn.__name__, "-".join(map(str, shapes))))
        for shapes in cases
    ]


MATMUL = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (5, 4, 2)),
    ((5, 2, 4), (4,)),
    ((1, 2, 3), (4, 3, 2)),
]
DOT = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((), ()),
    ((), (3,)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (5, 4, 2)),
    ((3,), (5, 3, 2)),
]
OUTER = [((3,), (4,)), ((2, 2), (3,)), ((), (3,))]
VDOT = [((3,), (3,)), ((2, 3), (6,)), ((2, 3), (3, 2)), ((), ())]  # (rules19: np.vdot flattens both)
INNER = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((), (3,)), ((2, 3), ()), ((2, 2, 3), (4, 3))]
SQUARE = [((3, 3),), ((1, 1),), ((2, 4, 4),)]

TABLE = (
    _rows(np.matmul, MATMUL)
    + _rows(np.dot, DOT)
    + _rows(np.outer, OUTER)
    + _rows(np.inner, INNER)
    + _rows(np.vdot, VDOT)
    + _rows(np.linalg.inv, SQUARE, well_conditioned)
    + _rows(np.linalg.det, SQUARE, well_conditioned)
    + _rows(np.linalg.slogdet, SQUARE, well_conditioned)
)

# np.trace: offsets and axis pairs, including a reversed pair on a 3-d array
TABLE += [
    Row(np.trace, ((normal, shape),), kwargs, "trace-%s-%s" % (shape, kwargs))
    for shape, kwargs in [
        ((3, 3), {}),
        ((3, 4), {}),
        ((4, 3), {"offset": 1}),
        ((3, 4), {"offset": -1}),
        ((3, 3), {"offset": 2}),
        ((2, 3, 4), {"axis1": 1, "axis2": 2}),
        ((3, 2, 4), {"offset": 1, "axis1": 2, "axis2": 0}),
        ((3, 4, 2), {"axis1": -2, "axis2": 0}),
    ]
]

# np.linalg.solve: b a vector (also against a stack of A), a matrix, a stack; batch axes broadcast either way.
# NumPy 2 takes only a 1-d b for a vector; NumPy 1.x took a b of a.ndim - 1 axes for a stack of vectors
# (and so refuses some of NumPy 2's cases)
TABLE += [
    Row(np.linalg.solve, ((well_conditioned, sa), (normal, sb)), {}, "solve-%s-%s" % (sa, sb))
    for sa, sb in [
        ((3, 3), (3,)),
        ((3, 3), (3, 2)),
        ((2, 3, 3), (2, 3, 2)),
        ((3, 3), (2, 3, 4)),
    ]
    + ([((2, 3, 3), (3,)), ((2, 1, 3, 3), (4, 3, 1))] if NUMPY2 else [((2, 3, 3), (2, 3)), ((1, 3, 3), (2, 3))])
]

# np.einsum with two operands: products, contractions to a scalar, an index summed over one operand
# only (i in 'ij,k->k'), a free index in one operand only, '...' with broadcast batch axes, spaces
EINSUM = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk->ki", (2, 3), (3, 4)),
    ("i,i->", (3,), (3,)),
    ("i,j->ij", (3,), (4,)),
    ("ij,ij->", (2, 3), (2, 3)),
    ("ij,j->i", (2, 3), (3,)),
    ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    ("ij,k->i", (2, 3), (4,)),
    ("ij,k->k", (2, 3), (4,)),
    ("ij,jk->", (2, 3), (3, 4)),
    ("ijk,kj->ik", (2, 3, 4), (4, 3)),
    ("...ij,...jk->...ik", (3, 4), (2, 4, 5)),
    ("...ij,...jk->...ik", (1, 3, 4), (2, 4, 5)),
    (" ij , jk -> ik ", (2, 3), (3, 4)),
]
TABLE += [
    Row(np.einsum, (s, (normal, sa), (normal, sb)), {}, "einsum-%s-%s-%s" % (s.strip(), sa, sb)) for s, sa, sb in EINSUM
]
TABLE += [Row(np.einsum, ("ij,jk->ik", (normal, (2, 3)), (normal, (3, 4))), {"optimize": True}, "einsum-optimize")]

# np.einsum over every form of subscripts: one to six operands; no output ('ij,ij->'), implicit
# output ('ij,jk', 'ba', '...' first), transposes; repeated indices within an operand (traces and
# diagonals: 'ii->', 'ii->i', 'iij->j', '...ii->...i'); an index or '...' summed over one operand
# alone; '...' broadcast (also where the output has none) and length-1 axes broadcast against
# longer ones; a scalar operand (''); capital letters.
EINSUM_ANY = [
    ("ij->ji", [(2, 3)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("...", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("->", [()]),
    ("iii->i", [(2, 2, 2)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i,i", [(3,), (3,)]),
    ("ij,j", [(2, 3), (3,)]),
    ("i...j,...j", [(3, 2, 4), (4,)]),
    ("...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("...i,...i->...", [(1, 3), (2, 3)]),
    ("...i,i->i", [(3,), (3,)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij,kl->ijkl", [(2, 1), (1, 3)]),
    ("...i,...ij->j...", [(1, 3), (2, 3, 2)]),
    (",ij->ij", [(), (2, 3)]),
    ("ij,->", [(2, 3), ()]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("Ab,bC->CA", [(2, 3), (3, 4)]),
    ("ij,ji->", [(2, 3), (3, 2)]),
    ("ij,jj->ij", [(2, 3), (3, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ij,jk,kl", [(2, 3), (3, 4), (4, 2)]),
    ("bij,bjk,bkl->bil", [(2, 2, 3), (2, 3, 4), (2, 4, 2)]),
    ("ii,ij,j->i", [(3, 3), (3, 2), (2,)]),
    ("...ij,jk,...k->...i", [(2, 3, 4), (4, 2), (2,)]),
    ("...ij,jk,k->...i", [(2, 3, 4), (4, 2), (2,)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("i,j,k->", [(2,), (3,), (4,)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 2), (2, 4), (4, 3)]),
    ("a,a,a,a,a->a", [(3,)] * 5),
    ("ab,bc,cd,de,ef,fg->ag", [(2, 3), (3, 2), (2, 3), (3, 2), (2, 3), (3, 2)]),
    ("aa,b,b,c,c,a->", [(2, 2), (3,), (3,), (2,), (2,), (2,)]),
]
TABLE += [
    Row(
        np.einsum,
        (s,) + tuple((normal, shape) for shape in shapes),
        {},
        "einsum-%s-%s" % (s, "-".join(map(str, shapes))),
    )
    for s, shapes in EINSUM_ANY
]
TABLE += [
    Row(
        np.einsum,
        ("ij,jk,kl->il", (normal, (2, 3)), (normal, (3, 4)), (normal, (4, 2))),
        {"optimize": opt},
        "einsum-3-optimize-%s" % opt,
    )
    for opt in (True, "greedy", "optimal")
]


# ---- np.linalg's decompositions and matrix functions (issue #13) ----------------------------------
# Inputs where each function is differentiable: distinct singular values and eigenvalues (random
# matrices), positive definite matrices for cholesky, real eigenvalues for eig, full rank for
# pinv/lstsq, invertible matrices for the inverses. Stacked (..., M, N) forms wherever NumPy takes them.


def symmetric_positive(rng, shape):
    """X^T X + n I, with noise on the triangle cholesky does not read (its cotangent there is 0)."""
    x = rng.standard_normal(shape)
    spd = np.matmul(np.swapaxes(x, -1, -2), x) + shape[-1] * np.eye(shape[-1])
    return spd + np.triu(rng.standard_normal(shape), 1)


def real_eigenvalues(rng, shape):
    """V diag(1, 2, ..., n) V^-1 with V near I: real, well separated eigenvalues."""
    v = np.eye(shape[-1]) + 0.3 * rng.standard_normal(shape)
    return np.matmul(v * np.arange(1.0, shape[-1] + 1), np.linalg.inv(v))


def matrices(rng, shapes):
    """A list of arrays (np.linalg.multi_dot's operand)."""
    return [rng.standard_normal(s) for s in shapes]


def _linalg_rows(fn, cases, maker=normal):
    return [Row(fn, ((maker, shape),), kwargs, "%s-%s-%s" % (fn.__name__, shape, kwargs)) for shape, kwargs in cases]


RECTANGULAR = [(3, 3), (4, 3), (3, 4), (1, 1), (2, 4, 3), (2, 3, 4)]
SVD = (
    [(s, {"full_matrices": False}) for s in RECTANGULAR]
    + [(s, {"compute_uv": False}) for s in [(3, 3), (4, 3), (3, 4), (2, 3, 4)]]
    + [((3, 3), {}), ((2, 3, 3), {"full_matrices": True}), ((4, 2), {"full_matrices": False, "compute_uv": True})]
)
EIGH = [(s, {"UPLO": u}) for s in [(3, 3), (1, 1), (2, 4, 4)] for u in ("L", "U")] + [((3, 3), {})]
# cholesky(upper=) is NumPy 2's
CHOLESKY = [(s, kw) for s in [(3, 3), (1, 1), (2, 4, 4)] for kw in ({}, {"upper": True}) if NUMPY2 or not kw]
QR = [((3, 3), {}), ((4, 3), {}), ((5, 2), {"mode": "reduced"}), ((1, 1), {}), ((2, 5, 3), {})] + [
    ((4, 3), {"mode": "r"}),
    ((3, 3), {"mode": "r"}),
    ((2, 5, 3), {"mode": "r"}),
    ((3, 3), {"mode": "complete"}),
    ((2, 4, 4), {"mode": "complete"}),
]
PINV = [((3, 3), {}), ((4, 3), {}), ((3, 4), {}), ((2, 4, 3), {}), ((3, 4), {"rcond": 1e-10})]
MATRIX_POWER = [((3, 3), {"n": n}) for n in (0, 1, 2, 3, 5, -1, -3)] + [((2, 3, 3), {"n": 2}), ((2, 3, 3), {"n": -2})]
COND = [((3, 3), {"p": p}) for p in (None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf)] + [((2, 3, 3), {})]

LINALG = (
    _linalg_rows(np.linalg.svd, SVD)
    + _linalg_rows(np.linalg.eigh, EIGH)
    + _linalg_rows(np.linalg.eigvalsh, EIGH)
    + _linalg_rows(np.linalg.eig, [((3, 3), {}), ((1, 1), {}), ((2, 4, 4), {})], real_eigenvalues)
    + _linalg_rows(np.linalg.eigvals, [((3, 3), {}), ((2, 4, 4), {})], real_eigenvalues)
    + _linalg_rows(np.linalg.cholesky, CHOLESKY, symmetric_positive)
    + _linalg_rows(np.linalg.qr, QR)
    + _linalg_rows(np.linalg.pinv, PINV)
    + _linalg_rows(np.linalg.matrix_power, MATRIX_POWER, well_conditioned)
    + _linalg_rows(np.linalg.cond, COND, well_conditioned)
    + _linalg_rows(np.linalg.cond, [((4, 3), {}), ((3, 5), {"p": 2}), ((2, 3, 4), {"p": -2})])  # svd-based: any shape
    + [Row(np.linalg.tensorinv, ((normal, (4, 6, 8, 3)),), {"ind": 2}, "tensorinv-ind2")]
    + [Row(np.linalg.tensorinv, ((normal, (6, 2, 3)),), {"ind": 1}, "tensorinv-ind1")]
)
if hasattr(np.linalg, "svdvals"):  # NumPy 2
    LINALG += _linalg_rows(np.linalg.svdvals, [((3, 4), {}), ((4, 3), {}), ((2, 3, 3), {})])
# lstsq: tall (residuals), square (no residuals), wide (the minimum-norm solution); b a vector or columns
LINALG += [
    Row(np.linalg.lstsq, ((normal, sa), (normal, sb)), {"rcond": None}, "lstsq-%s-%s" % (sa, sb))
    for sa, sb in [((5, 3), (5,)), ((5, 3), (5, 2)), ((3, 3), (3,)), ((3, 5), (3,)), ((3, 5), (3, 2))]
]
LINALG += [
    Row(np.linalg.tensorsolve, ((normal, sa), (normal, sb)), kwargs, "tensorsolve-%s-%s-%s" % (sa, sb, kwargs))
    for sa, sb, kwargs in [((2, 3, 6), (2, 3), {}), ((6, 2, 3), (2, 3), {"axes": (0,)}), ((4, 4), (4,), {})]
]
# multi_dot: a 1-d first or last operand (a row, a column), 2 to 5 operands
LINALG += [
    Row(np.linalg.multi_dot, ((matrices, shapes),), {}, "multi_dot-%s" % "-".join(map(str, shapes)))
    for shapes in [
        [(2, 3), (3, 4)],
        [(3,), (3, 4), (4,)],
        [(3,), (3, 4), (4, 2)],
        [(2, 3), (3, 4), (4,)],
        [(2, 3), (3, 4), (4, 5), (5, 2)],
        [(3,), (3,)],
        [(2, 3), (3, 1), (1, 4), (4, 2), (2, 2)],
    ]
]


# np.einsum's (operand, sublist) form (up to three operands inline, more through einsum_of_many), and
# more than six operands (einsum_of_many, registry.form: its adjoint is called, one einsum per operand
# in the order np.einsum_path finds)
SUBLISTS = [
    [(2, 3), [0, 1], (3, 4), [1, 2], [0, 2]],
    [(2, 3), [0, 1], (3, 4), [1, 2]],
    [(3, 3), [0, 0], [0]],
    [(2, 3), [0, 1], (3, 4), [1, 2], (4, 2), [2, 0], []],
    [(2, 2, 3), [Ellipsis, 0, 1], (3, 4), [1, 2], [Ellipsis, 0, 2]],
    [(2, 3), [0, 1], (3, 4), [1, 2], (4, 2), [2, 3], (2, 2), [3, 0], [0]],
]
LINALG += [
    Row(
        np.einsum if len(spec) <= 7 else np_linalg.einsum_of_many,
        tuple((normal, x) if isinstance(x, tuple) else x for x in spec),
        {},
        "einsum-sublist-%s" % "-".join(map(str, spec)),
    )
    for spec in SUBLISTS
]
MANY = [
    ("a,a,a,a,a,a,a->", [(3,)] * 7),
    ("ab,bc,cd,de,ef,fg,gh->ah", [(2, 3), (3, 2), (2, 3), (3, 2), (2, 3), (3, 2), (2, 2)]),
    ("ij,jk,kl,lm,mn,no,op,p->i", [(2, 2)] * 7 + [(2,)]),
    ("ii,i,i,i,i,i,i->", [(3, 3)] + [(3,)] * 6),
    ("...i,i,i,i,i,i,i->...", [(2, 3)] + [(3,)] * 6),
]
LINALG += [
    Row(
        np_linalg.einsum_of_many,
        (s,) + tuple((normal, shape) for shape in shapes),
        {},
        "einsum-many-%s" % s,
    )
    for s, shapes in MANY
]


# np.linalg.det at singular matrices, where its gradient is the cofactor matrix (adj(A)^T), finite: rank n - 1 and
# n - 2, the zero matrix, and a stack mixing a singular matrix with a well-conditioned one (each takes its own path)
def rank_deficient(drop):
    def make(rng, shape):
        n = shape[-1]
        left = rng.standard_normal(shape[:-1] + (n - drop,))
        return np.matmul(left, rng.standard_normal(shape[:-2] + (n - drop, n)))

    make.__name__ = "rank_deficient_%d" % drop
    return make


def mixed_stack(rng, shape):
    """a stack of (2, n, n): a rank n - 1 matrix, then a well-conditioned one"""
    return np.stack([rank_deficient(1)(rng, shape[1:]), well_conditioned(rng, shape[1:])])


def zeros(rng, shape):
    return np.zeros(shape)


LINALG += [
    Row(np.linalg.det, ((maker, shape),), {}, "det-singular-%s-%s" % (maker.__name__, shape))
    for maker, shape in [
        (rank_deficient(1), (3, 3)),
        (rank_deficient(1), (4, 4)),
        (rank_deficient(1), (2, 3, 3)),
        (rank_deficient(2), (4, 4)),
        (rank_deficient(1), (2, 2)),
        (zeros, (3, 3)),
        (zeros, (2, 2)),
        (mixed_stack, (2, 3, 3)),
    ]
]
# One row per function (the broadest form: stacked, a tuple result, both operands) joins TABLE, which
# the compiled forward-mode check (tests/rules/test_tangents.py, also against reverse mode) and the rules
# fuzzer read; every row of LINALG is checked at the rule level below, adjoint and tangent, one seed.
CORE = {
    "svd-(2, 4, 3)-{'full_matrices': False}",
    "eigh-(2, 4, 4)-{'UPLO': 'U'}",
    "eigvalsh-(3, 3)-{'UPLO': 'L'}",
    "eig-(2, 4, 4)-{}",
    "eigvals-(3, 3)-{}",
    "cholesky-(2, 4, 4)-{'upper': True}" if NUMPY2 else "cholesky-(2, 4, 4)-{}",
    "qr-(2, 5, 3)-{}",
    "pinv-(3, 4)-{}",
    "matrix_power-(2, 3, 3)-{'n': -2}",
    "cond-(2, 3, 3)-{}",
    "cond-(3, 3)-{'p': 'nuc'}",
    "tensorinv-ind1",
    "tensorsolve-(2, 3, 6)-(2, 3)-{}",
    "lstsq-(5, 3)-(5, 2)",
    "multi_dot-(3,)-(3, 4)-(4,)",
    "einsum-sublist-(2, 3)-[0, 1]-(3, 4)-[1, 2]-[0, 2]",
    "einsum-many-ab,bc,cd,de,ef,fg,gh->ah",
} | ({"svdvals-(2, 3, 3)-{}"} if NUMPY2 else set())
TABLE += [row for row in LINALG if row.name in CORE]


# ---- shape13: np.kron, np.cross, np.tensordot -----------------------------------------------------
# kron of equal and unequal ranks (the smaller padded with leading axes) and a scalar
TABLE += _rows(np.kron, [((2, 2), (2, 3)), ((2,), (2, 1, 3)), ((), (3,))])
# cross of 3-vectors, a stack broadcast against one vector, 2-vectors (z = 0), and moved vector axes
TABLE += _rows(np.cross, [((3,), (3,)), ((2, 1, 3), (4, 3))] + ([] if NUMPY25 else [((2,), (2,)), ((2, 2), (3,))]))
TABLE += [
    Row(np.cross, ((normal, sa), (normal, sb)), kw, "cross-%s-%s-%s" % (sa, sb, kw))
    for sa, sb, kw in [
        ((3, 4), (4, 3), {"axisa": 0}),
        ((2, 3), (3, 2), {"axisb": 0, "axisc": 0}),
        ((3, 4), (3, 4), {"axis": 0}),
    ]
]
# tensordot with every form of axes: an int (0: the outer product), a pair of ints, a pair of sequences
# (in any order, negative), a pair of arrays
TABLE += [
    Row(np.tensordot, ((normal, sa), (normal, sb)), {"axes": axes}, "tensordot-%s-%s-%s" % (sa, sb, axes))
    for sa, sb, axes in [
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3), (4,), 0),
        ((2, 3), (4, 3), (1, 1)),
        ((2, 3, 4), (4, 2, 5), ([0, 2], [1, 0])),
        ((2, 3, 4), (3, 4, 2), ((-1, 1), (1, 0))),
        ((2, 3), (3, 2), (np.array([0, 1]), np.array([1, 0]))),
        ((), (2, 3), 0),
    ]
]


def _all_cotangents(fn, g, ans, args, kwargs):
    """Every cotangent the rule returns, one per rule parameter; those that get none are checked to be None."""
    rule = registry.lookup(fn)
    cots = rule.rule(g, ans, *args, **kwargs)
    if fn is np_linalg.einsum_of_many:  # (g, ans, *args): one cotangent per argument
        return tuple(cots)
    cots = (cots,) if len(rule.params) == 1 else tuple(cots)
    assert len(cots) == len(rule.params)
    for i, c in enumerate(cots):
        if i >= len(args) or not isinstance(args[i], (float, np.ndarray, list)):
            assert c is None, (rule, i)
    return cots


def _flat(value):
    """A tuple result (svd's (U, S, Vh)) as one vector, so that check_rule draws one cotangent for it."""
    return np.concatenate([np.ravel(np.asarray(v, float)) for v in value]) if isinstance(value, tuple) else value


def _check_parts(row, seed, args, rtol):
    """check_rule of a function returning a tuple, or taking a list of arrays (multi_dot): the elements
    of the list are arguments of their own, the results one vector, whose cotangent is split back into
    the tuple of its parts for the rule (a zero for an integer part, lstsq's rank)."""
    sizes = [len(a) if isinstance(a, list) else None for a in args]  # (only multi_dot's list of arrays)
    flat_args = [x for a in args for x in (a if isinstance(a, list) else [a])]

    def regroup(flat):
        out, i = [], 0
        for n in sizes:
            out.append(list(flat[i : i + n]) if n is not None else flat[i])
            i += 1 if n is None else n
        return out

    def call(*flat):
        return _flat(row.fn(*regroup(flat), **row.kwargs))

    def rule(g, ans, *flat, _tuple=True):
        value = row.fn(*regroup(flat), **row.kwargs)
        if isinstance(value, tuple):
            ends = np.cumsum([np.size(v) for v in value])[:-1]
            g = tuple(
                np.reshape(part, np.shape(v)) * (np.asarray(v).dtype.kind in "fc")  # (eig: complex in NumPy 2.5)
                for part, v in zip(np.split(g, ends), value)
            )
        cots = _all_cotangents(row.fn, g, value, regroup(flat), row.kwargs)
        return [c for a, c in zip(args, cots) for c in (c if isinstance(a, list) else [c])]

    check_rule(call, rule, flat_args, seed=seed, rtol=rtol)


def _check(row, seed, rtol=1e-5):
    rng = np.random.default_rng(seed)
    args = [a[0](rng, a[1]) if isinstance(a, tuple) else a for a in row.args]
    n = len(args)
    sequences = any(isinstance(a, list) and a and isinstance(a[0], np.ndarray) for a in args)
    if isinstance(row.fn(*args, **row.kwargs), tuple) and row.fn is not np.linalg.slogdet or sequences:
        _check_parts(row, seed, args, rtol)
        return

    def call(*args):
        return row.fn(*args, **row.kwargs)

    if n == 1:

        def rule(g, ans, x):
            return _all_cotangents(row.fn, g, ans, [x], row.kwargs)[0]
    else:

        def rule(g, ans, *args, _tuple=True):  # a fourth parameter: check_rule reads a tuple of cotangents
            return _all_cotangents(row.fn, g, ans, args, row.kwargs)[:n]

    check_rule(call, rule, args, seed=seed, rtol=rtol)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    _check(row, seed)


def test_every_linalg_row_is_in_the_table_or_checked_below():
    assert {row.name for row in TABLE} >= CORE and len({row.name for row in LINALG}) == len(LINALG)


def _flat_parts(value):
    return np.concatenate([np.ravel(np.asarray(v, float)) for v in value]) if isinstance(value, tuple) else value


@pytest.mark.parametrize("row", LINALG, ids=[r.name for r in LINALG])
def test_linalg_rule_and_tangent_rule_match_finite_differences(row):
    # every parameter and form: the adjoint rule (as the table's check), and, for a function of one
    # array, its tangent rule called directly against central differences of the original function
    _check(row, 0)
    rule = registry.tangent_rule(row.fn)
    arrays = [i for i, a in enumerate(row.args) if isinstance(a, tuple)]
    if rule is None or len(arrays) != 1 or row.fn is np.linalg.multi_dot:
        return  # (several operands, the sublist form, multi_dot's list: compiled, through test_tangents)
    rng = np.random.default_rng(5)
    args = [a[0](rng, a[1]) if isinstance(a, tuple) else a for a in row.args]
    ans = row.fn(*args, **row.kwargs)
    dot = rng.standard_normal(np.shape(args[0]))
    tangent = rule.rule(dot, ans, *args, **row.kwargs)
    tangent = tangent[0] if len(rule.params) > 1 else tangent
    h = 1e-6
    plus, minus = [dict(enumerate(args)) for _ in range(2)]
    plus[0], minus[0] = args[0] + h * dot, args[0] - h * dot
    fd = (_flat_parts(row.fn(*plus.values(), **row.kwargs)) - _flat_parts(row.fn(*minus.values(), **row.kwargs))) / (
        2 * h
    )
    assert np.allclose(_flat_parts(tangent), fd, rtol=1e-5, atol=1e-5 * max(1.0, np.max(np.abs(fd), initial=0.0)))


# ---- values by hand ----------------------------------------------------------------


def test_matmul_of_matrices_is_the_textbook_formula():
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    ga, gb = np_linalg.matmul_adjoint(g, a @ b, a, b)
    assert np.allclose(ga, g @ b.T) and np.allclose(gb, a.T @ g)


def test_matmul_sums_over_broadcast_batch_axes():
    a, b = np.ones((1, 2, 3)), np.ones((5, 3, 4))
    ga, gb = np_linalg.matmul_adjoint(np.ones((5, 2, 4)), a @ b, a, b)
    assert ga.shape == (1, 2, 3) and np.all(ga == 5 * 4)
    assert gb.shape == (5, 3, 4) and np.all(gb == 2)


def test_einsum_builds_the_transposed_subscripts():
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    cots = np_linalg.einsum_adjoint(g, a @ b, "ij,jk->ik", a, b)
    assert cots[0] is None and cots[3] is None
    assert np.allclose(cots[1], g @ b.T) and np.allclose(cots[2], a.T @ g)


@pytest.mark.parametrize("g", [(0.7, 2.0), (None, 2.0), np.array([0.7, 2.0])], ids=["tuple", "no-sign", "array"])
def test_slogdet_reads_only_the_logdet_cotangent(g):
    a = np.array([[2.0, 1.0], [0.5, -3.0]])  # negative determinant: the sign does not matter either
    ga = np_linalg.slogdet_adjoint(g, np.linalg.slogdet(a), a)
    assert np.allclose(ga, 2.0 * np.linalg.inv(a).T)


def test_det_is_the_cofactor_matrix():
    a = np.array([[2.0, 1.0], [4.0, 3.0]])
    assert np.allclose(np_linalg.det_adjoint(1.0, np.linalg.det(a), a), [[3.0, -4.0], [-1.0, 2.0]])


# ---- registration and form ------------------------------------------------------

TABLE_FNS = list({id(r.fn): r.fn for r in TABLE}.values())
# rules22: rules whose rows are in tests/rules/test_np_reductions_more.py (a constant or a domain of their own, NumPy
# 2's spellings absent from NumPy 1.26): the ufuncs' outer products (bound methods: the registry's own objects)
MORE_FNS = [registry.lookup(getattr(f, "outer")).fn for f in (np.add, np.subtract, np.multiply, np.divide)]
MORE_FNS += [
    getattr(np.linalg, n) for n in ("matmul", "tensordot", "outer", "cross", "trace", "vecdot") if hasattr(np.linalg, n)
]
MORE_FNS += [getattr(np, n) for n in ("vecdot", "matvec", "vecmat") if hasattr(np, n)]


def test_table_and_module_list_the_same_rules():
    # (assert_table_is_the_module, but einsum_of_many's adjoint is called, not inlined: it loops)
    for fn in TABLE_FNS:
        rule = registry.lookup(fn)
        assert rule.origin == np_linalg.__name__ and rule.inline == (fn is not np_linalg.einsum_of_many), fn
    covered = {id(fn) for fn in TABLE_FNS + MORE_FNS}
    # (scipy.linalg's solve, inv and det share NumPy's rules, written here: tests/rules/test_scipy_linalg.py)
    numpy_own = [
        r for r in registry.all_rules().values() if not (getattr(r.fn, "__module__", None) or "").startswith("scipy")
    ]
    assert all(id(r.fn) in covered for r in numpy_own if r.origin == np_linalg.__name__)


@pytest.mark.parametrize("fn", [f for f in TABLE_FNS if f is not np.einsum], ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # The compiler binds call-site keywords by name and positions by order.
    assert_parameters_follow_numpy(fn)


def test_einsum_parameters():
    # np.einsum(subscripts, *operands, optimize=...): each of up to six operands gets a name of its own
    assert registry.lookup(np.einsum).params == ("subscripts", "a", "b", "c", "d", "e", "f", "optimize")


# ---- the rule bodies must be inlinable ------------------------------------------


def test_rule_bodies_are_inlinable():
    # the shared check (its ALLOWED_GLOBALS also keeps builtins such as len out: templates.py would
    # look them up in the rule's module globals); run here too, as this module's rules are registered
    # only where it is imported
    for r in registry.all_rules().values():
        if r.origin == np_linalg.__name__ and r.inline:
            assert_inlinable(r.rule, np_linalg)


def test_compiler_accepts_rules():
    templates = pytest.importorskip("adjoint_compiler.templates")
    for r in registry.all_rules().values():
        if r.origin == np_linalg.__name__ and r.inline:
            t = templates.template(r)
            assert len(t.results) == len(r.params)


# ---- inlined into compiled gradients ----------------------------------------------


def f_matmul(a, b):
    return np.sum(np.sin(np.matmul(a, b)))


def f_matvec(a, x):
    return np.sum(np.matmul(a, x) ** 2) + np.dot(x, x)


def f_dot_scalar(s, b):
    return np.sum(np.dot(s, b) ** 2)


def f_outer_inner(a, b):
    return np.sum(np.outer(a, b) ** 2) + np.inner(a, a) * np.inner(b, b)


def f_trace(a):
    return np.trace(a) ** 2 + np.trace(a, offset=1)


def f_solve(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


def f_inv_det(a):
    return np.sum(np.linalg.inv(a) ** 2) + np.linalg.det(a)


def f_slogdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return 2.0 * logdet


def f_einsum(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) ** 2) + np.sum(np.einsum("ij,k->i", a, b[0]))


def f_einsum_forms(a, b, c):
    # traces and diagonals, ellipsis, implicit output, a transpose, three operands, no output
    return (
        np.einsum("ii->", a) ** 2
        + np.sum(np.einsum("ii->i", a) ** 3)
        + np.sum(np.einsum("...ij,...jk->...ik", c, a) ** 2)
        + np.sum(np.sin(np.einsum("ij,jk", b, a)))
        + np.sum(np.einsum("ij->ji", b) * b.T)
        + np.einsum("ij,jk,kl->", a, a, a)
        + np.einsum("ij,ij->", b, b)
        + np.sum(np.einsum("i...j,...j", c, a[0]) ** 2)
    )


def f_einsum_runtime_subscripts(a, b, spec):
    # subscripts known only at run time: the rule's plans are computed then
    return np.sum(np.einsum(spec, a, b, a) ** 2)


COMPILED = [
    (f_matmul, [(2, 3), (3, 4)]),
    (f_matvec, [(3, 3), (3,)]),
    (f_dot_scalar, [(), (2, 3)]),
    (f_outer_inner, [(3,), (2,)]),
    (f_trace, [(3, 3)]),
    (f_solve, [(3, 3), (3,)]),
    (f_inv_det, [(3, 3)]),
    (f_slogdet, [(3, 3)]),
    (f_einsum, [(2, 3), (3, 4)]),
    (f_einsum_forms, [(3, 3), (2, 3), (2, 3, 3)]),
]


@pytest.mark.parametrize("f, shapes", COMPILED, ids=[f.__name__ for f, _ in COMPILED])
def test_compiled_gradient_matches_finite_differences(f, shapes):
    rng = np.random.default_rng(0)
    args = [well_conditioned(rng, s) if len(s) == 2 and s[0] == s[1] else normal(rng, s) for s in shapes]
    wrt = tuple(range(len(args))) if len(args) > 1 else 0
    check_grads(f, args, wrt=wrt)  # the gradient of the compiled code


@pytest.mark.parametrize("spec", ["ij,jk,kl->il", "ij,jk,lk", "ii,ij,jk->ik", "ij,jk,lm->", "ij,ji,ii->i"])
def test_compiled_einsum_with_subscripts_known_at_run_time(spec):
    rng = np.random.default_rng(0)
    check_grads(
        f_einsum_runtime_subscripts, [rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), spec], wrt=(0, 1)
    )


def f_einsum_seven(a):
    return np.einsum("a,a,a,a,a,a,a->", a, a, a, a, a, a, a)


def f_einsum_sublist(a):
    return np.einsum(a, [0, 1], a, [1, 2], [0, 2]).sum()


def f_einsum_seven_optimized(a):
    return np.einsum("a,a,a,a,a,a,a->", a, a, a, a, a, a, a, optimize=True)


def test_einsum_of_more_operands_than_the_inlined_rule_takes():
    # seven operands: differentiated as einsum_of_many (a form of np.einsum), whose adjoint is called
    a = np.array([0.5, -1.0, 2.0])
    check_grads(f_einsum_seven, [a])
    assert np.allclose(ac.grad(f_einsum_seven)(a), 7 * a**6)
    assert "einsum_of_many_adjoint(" in ac.adjoint_source(f_einsum_seven)


def test_einsum_of_many_operands_with_keywords_is_a_located_error():
    with pytest.raises(ac.UnsupportedError, match=r"test_np_linalg\.py:\d+:\d+: .*keyword arguments.*einsum_of_many"):
        ac.grad(f_einsum_seven_optimized)(np.ones(2))


def test_einsum_sublist_form():
    a = np.random.default_rng(0).standard_normal((3, 3))
    check_grads(f_einsum_sublist, [a])
    assert np.allclose(ac.grad(f_einsum_sublist)(a), np.ones((3, 3)) @ a.T + a.T @ np.ones((3, 3)))


def test_einsum_with_literal_subscripts_emits_only_the_einsums():
    # the plans are evaluated at compile time: no einsum_plan call and no conditional is left
    src = ac.adjoint_source(f_einsum, wrt=(0, 1)).split("def f_einsum_grad")[1]
    src = re.sub(r"if type\((\w+)\) is not float:\n\s*check_scalar\(\1\)\n", "", src)  # (the output's check)
    assert "einsum_plan" not in src and " if " not in src
    assert "np.einsum('ik,jk->ij'" in src


# ---- second order: the emitted gradient differentiated again ---------------------------------


def hvp_error(f, x, seed=0):
    """|H v - (grad f(x + h v) - grad f(x - h v)) / 2h|, H v from the vjp of f's compiled gradient."""
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    _, pullback = ac.vjp(pipeline.compile(f, (0,)).function)(x)
    grad, h = ac.grad(f), 1e-5
    return np.max(np.abs(pullback((0.0, v)) - (grad(x + h * v) - grad(x - h * v)) / (2 * h)))


def f_einsum_chain(a):
    return np.einsum("ij,jk,kl->", a, a, a) + np.sum(np.einsum("ii->i", a) ** 3) + np.sum(np.einsum("ij,jk", a, a) ** 2)


def test_einsum_gradient_differentiates_again():
    assert hvp_error(f_einsum_chain, np.random.default_rng(1).standard_normal((3, 3))) < 1e-6


# ---- variants for operands of ranks known at compile time -------------------------------

RANKED = [
    (np.matmul, (2, 2), [(2, 3), (3, 4)]),
    (np.matmul, (2, 1), [(2, 3), (3,)]),
    (np.matmul, (1, 2), [(3,), (3, 4)]),
    (np.matmul, (1, 1), [(3,), (3,)]),
    (np.dot, (2, 2), [(2, 3), (3, 4)]),
    (np.dot, (2, 1), [(2, 3), (3,)]),
    (np.dot, (1, 2), [(3,), (3, 4)]),
    (np.dot, (1, 1), [(3,), (3,)]),
    (np.dot, (0, 0), [(), ()]),
    (np.dot, (0, None), [(), (2, 3)]),
    (np.dot, (None, 0), [(2, 3), ()]),
    (np.inner, (1, 1), [(3,), (3,)]),
    (np.inner, (0, None), [(), (2, 3)]),
    (np.inner, (None, 0), [(2, 3), ()]),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn, ranks, shapes", RANKED, ids=["%s-%s" % (f.__name__, r) for f, r, _ in RANKED])
def test_ranked_variant_matches_finite_differences_and_the_general_rule(fn, ranks, shapes, seed):
    variant = registry.ranked_rule(fn, [len(s) for s in shapes])
    assert variant is not None and variant is registry.ranked_rule(fn, ranks)
    rng = np.random.default_rng(seed)
    args = [normal(rng, s) for s in shapes]
    check_rule(fn, lambda g, ans, a, b, _tuple=True: variant.rule(g, ans, a, b), args, seed=seed, rtol=1e-5)
    g = normal(rng, np.shape(fn(*args)))
    for mine, general in zip(variant.rule(g, fn(*args), *args), registry.lookup(fn).rule(g, fn(*args), *args)):
        assert np.allclose(mine, general)


def test_ranked_variants_are_inlinable():
    for fn in (np.matmul, np.dot, np.inner):
        for variant in registry.lookup(fn).ranked.values():
            assert_inlinable(variant.rule, np_linalg)
            pytest.importorskip("adjoint_compiler.templates").template(variant)


def test_unknown_ranks_keep_the_general_rule():
    assert registry.ranked_rule(np.matmul, [None, 2]) is None
    assert registry.ranked_rule(np.matmul, [3, 2]) is None  # a stack: the general rule
    assert registry.ranked_rule(np.dot, [0, None]).rule is np_linalg.number_times_array_adjoint
    assert registry.ranked_rule(np.dot, [0, 0]).rule is np_linalg.number_number_adjoint  # exact before wildcard


def rayleigh(A, x):
    x = np.asarray(x)
    A = np.asarray(A)
    return (x @ A @ x) / (x @ x)


def rank_one(u, v, c):
    M = np.outer(u, v)  # a matrix: M @ w is a matrix-vector product, w @ M.T a vector-matrix one
    w = np.linspace(0.0, 1.0, 4) * c
    return np.sum(np.sin(M @ w)) + np.sum(w @ M.T)


def scaled(s, B):
    return np.sum(np.dot(s, B) ** 2) + np.sum(B.dot(s))


def stacked(a, b):
    # a 1-d product of a stack: ranks unknown, the general rule
    return np.sum(np.tanh(np.matmul(a, b)))


@pytest.mark.parametrize(
    "f, shapes, direct, general",
    [
        (rayleigh, [(3, 3), (3,)], ["np.outer(x_1, ", "A_1 @ "], ["matmul_bar"]),
        (rank_one, [(3,), (4,), ()], ["np.outer(", ".T @ "], ["matmul_bar"]),
        (scaled, [(), (2, 3)], ["np.sum(", " * s"], ["tensordot"]),
        (stacked, [(2, 3, 4), (4,)], ["matmul_bar"], []),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_known_ranks_give_the_direct_form(f, shapes, direct, general):
    rng = np.random.default_rng(0)
    args = [well_conditioned(rng, s) if len(s) == 2 and s[0] == s[1] else normal(rng, s) for s in shapes]
    wrt = tuple(range(len(args)))
    check_grads(f, args, wrt=wrt)
    scalars = tuple(i for i, s in enumerate(shapes) if s == ())
    body = pipeline.compile(f, wrt, "grad", scalars).source.split("# adjoint sweep")[1]
    for text in direct:
        assert text in body, body
    for text in general:
        assert text not in body, body


# ---- np.linalg's decompositions compiled: reverse and forward mode (issue #13) -------------------


def f_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s**2) + np.sum(u[0] * vh[0]) + np.sum(np.sin(u))


def f_cholesky(a):
    low = np.linalg.cholesky(a)
    if NUMPY2:
        return np.sum(np.sin(low)) + np.sum(np.linalg.cholesky(a, upper=True) ** 2)
    return np.sum(np.sin(low)) + np.sum(np.linalg.cholesky(a).T ** 2)


def f_lstsq(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return np.sum(x**2) + np.sum(residuals) + np.sum(s * s) + rank


LINALG_COMPILED = [  # (every function is compiled in both modes by test_tangents too, on its TABLE row)
    (f_svd, [normal, (4, 3)]),
    (f_cholesky, [symmetric_positive, (3, 3)]),
    (f_lstsq, [normal, (5, 3), normal, (5,)]),
]


@pytest.mark.parametrize("f, spec", LINALG_COMPILED, ids=[f.__name__ for f, _ in LINALG_COMPILED])
def test_compiled_decompositions_match_finite_differences_in_both_modes(f, spec):
    rng = np.random.default_rng(0)
    args = [maker(rng, shape) for maker, shape in zip(spec[::2], spec[1::2])]
    wrt = tuple(range(len(args)))
    check_grads(f, args, wrt=wrt if len(args) > 1 else 0)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    value, out = ac.jvp(f, wrt)(*args, tangents)
    h = 1e-6
    fd = (f(*[a + h * t for a, t in zip(args, tangents)]) - f(*[a - h * t for a, t in zip(args, tangents)])) / (2 * h)
    assert value == f(*args) and abs(out - fd) <= 1e-5 * max(1.0, abs(fd))


# ---- special points: ties, triangles, zeros --------------------------------------------------------


def sum_of_singular_values(a):
    u, s, vh = np.linalg.svd(a)  # U and V unused: their zero cotangent never meets the 1 / 0 of a tie
    return np.sum(s)


def eigenvalues_squared(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w * w)


def eigenvector(a):
    w, v = np.linalg.eigh(a)
    return np.sum(v[:, 0])


def test_singular_values_alone_are_differentiable_at_a_tie():
    # the nuclear norm at I (three equal singular values) is smooth there: its gradient is U V^T = I
    assert np.allclose(ac.grad(sum_of_singular_values)(np.eye(3)), np.eye(3))


def test_eigenvalues_alone_are_differentiable_at_a_tie():
    # sum(w^2) = |S|_F^2 of S = tril(A) + tril(A, -1)^T: 2 S_ii on the diagonal, 4 S_ij below it, 0 above
    a = np.diag([1.0, 1.0, 2.0]) + np.triu(np.ones((3, 3)), 1)  # the upper triangle is not read
    s = np.diag([1.0, 1.0, 2.0])
    assert np.allclose(ac.grad(eigenvalues_squared)(a), 2.0 * s)
    check_grads(eigenvalues_squared, [np.diag([1.0, 1.0, 2.0]) + np.tril(np.ones((3, 3)), -1)])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_eigenvectors_at_a_tie_give_no_number():
    # the eigenvectors of a repeated eigenvalue have no derivative: inf or nan, never a finite wrong value
    grad = ac.grad(eigenvector)(np.diag([1.0, 1.0, 2.0]))
    assert not np.all(np.isfinite(grad))
    _, tangent = ac.jvp(eigenvector)(np.diag([1.0, 1.0, 2.0]), np.ones((3, 3)))
    assert not np.isfinite(tangent)


def test_cholesky_reads_the_lower_triangle_only():
    rng = np.random.default_rng(3)
    a = symmetric_positive(rng, (3, 3))
    grad = ac.grad(lambda_free_cholesky)(a)
    assert np.all(grad[np.triu_indices(3, 1)] == 0.0) and np.all(grad[np.tril_indices(3)] != 0.0)
    if NUMPY2:  # cholesky(upper=)
        upper = ac.grad(upper_cholesky)(a.T)
        assert np.all(upper[np.tril_indices(3, -1)] == 0.0)


def lambda_free_cholesky(a):
    return np.sum(np.linalg.cholesky(a) ** 3)


def upper_cholesky(a):
    return np.sum(np.linalg.cholesky(a, upper=True) ** 3)


def power_zero(a):
    return np.sum(np.linalg.matrix_power(a, 0) * a)


def test_matrix_power_zero_is_the_identity():
    a = np.arange(9.0).reshape(3, 3)
    assert np.array_equal(ac.grad(power_zero)(a), np.eye(3))


# ---- refusals ----------------------------------------------------------------------------------


def qr_complete(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(r)


def qr_raw(a):
    return np.sum(np.linalg.qr(a, mode="raw")[0])


def pinv_hermitian(a):
    return np.sum(np.linalg.pinv(a, hermitian=True))


def svd_field(a):
    return np.sum(np.linalg.svd(a, full_matrices=False).S)


def eigh_field(a):
    result = np.linalg.eigh(a)
    return np.sum(result.eigenvalues)


def multi_dot_out(a, b):
    out = np.zeros((2, 2))
    return np.sum(np.linalg.multi_dot([a, b], out=out))


@pytest.mark.parametrize(
    "f, pattern",
    [
        (qr_raw, r"test_np_linalg\.py:\d+:\d+: .*np\.linalg\.qr\(\.\.\., mode=\.\.\.\) other than 'reduced'"),
        (svd_field, r"test_np_linalg\.py:\d+:\d+: .*\.S' with a differentiated value"),
        (eigh_field, r"test_np_linalg\.py:\d+:\d+: .*result\.eigenvalues' with a differentiated value"),
        (multi_dot_out, r"test_np_linalg\.py:\d+:\d+: .*out="),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_uncovered_keywords_and_fields_are_located_errors(f, pattern, mode):
    args = [np.eye(2) + 0.1, np.eye(2)][: len(inspect.signature(f).parameters)]
    with pytest.raises((ac.CompileError, ac.UnsupportedError), match=pattern):
        if mode == "grad":
            ac.grad(f, tuple(range(len(args))))(*args)
        else:
            ac.jvp(f, tuple(range(len(args))))(*args, tuple(np.ones_like(a) for a in args))


# ---- rules20: np.linalg.svd(compute_uv=False) and np.linalg.pinv with hermitian=True ---------------------------------


def svd_values_hermitian(a):
    return np.sum(np.sin(np.linalg.svd(a, compute_uv=False, hermitian=True)))


def svd_values_hermitian_positional(a):
    return np.sum(np.linalg.svd(a, False, False, True) ** 3)


def svd_values(a):
    return np.sum(np.sin(np.linalg.svd(a, compute_uv=False)))


def pinv_symmetric(a):
    return np.sum(np.sin(np.linalg.pinv(a, hermitian=True)))


def pinv_plain(a):
    return np.sum(np.sin(np.linalg.pinv(a)))


@pytest.mark.parametrize("f", [svd_values_hermitian, svd_values_hermitian_positional, pinv_symmetric])
def test_hermitian_svd_values_and_pinv_match_central_differences(f):
    # NumPy reads the lower triangle only (eigh): a general matrix and direction check that; batched too
    rng = np.random.default_rng(20)
    a = rng.standard_normal((4, 4))
    sym = a + a.T + np.diag([5.0, -3.0, 1.0, 0.4])  # eigenvalues of both signs: |lambda| the singular values
    for m in (sym, a + 4 * np.eye(4), rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)):
        ac.check_grads(f, (m,), order=2)
    assert ac.grad(f)(sym.astype(np.float32)).dtype == np.float32


def test_hermitian_forms_agree_with_the_general_ones_on_symmetric_matrices():
    # along a symmetric direction at a symmetric matrix, hermitian=True changes nothing: the same derivative
    rng = np.random.default_rng(21)
    a = rng.standard_normal((4, 4))
    sym = a + a.T + 10 * np.eye(4)  # (well conditioned: eigh and svd round alike)
    d = rng.standard_normal((4, 4))
    d = d + d.T
    for herm, plain in ((svd_values_hermitian, svd_values), (pinv_symmetric, pinv_plain)):
        assert np.isclose(np.sum(ac.grad(herm)(sym) * d), np.sum(ac.grad(plain)(sym) * d), rtol=1e-9)
        _, t_herm = ac.jvp(herm)(sym, d)
        _, t_plain = ac.jvp(plain)(sym, d)
        assert np.isclose(t_herm, t_plain, rtol=1e-9)


def eig_sum(a):
    w, v = np.linalg.eig(a)
    return np.sum(w * w)


def eigvals_sum(a):
    return np.sum(np.linalg.eigvals(a) ** 2)


def svd_full(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u) + np.sum(s)


def pinv_sum(a):
    return np.sum(np.linalg.pinv(a))


def lstsq_sum(a, b):
    return np.sum(np.linalg.lstsq(a, b)[0])


def qr_sum(a):
    return np.sum(np.linalg.qr(a)[1])


ROTATION = np.array([[0.0, 1.0], [-1.0, 0.0]])  # eigenvalues +-i


@pytest.mark.parametrize(
    "f, args, message",
    [
        (eig_sum, [ROTATION], "np.linalg.eig of a matrix with complex eigenvalues"),
        (eigvals_sum, [ROTATION], "np.linalg.eigvals of a matrix with complex eigenvalues"),
        (pinv_sum, [np.ones((3, 3))], "np.linalg.pinv of a rank-deficient matrix"),
        (lstsq_sum, [np.ones((4, 3)), np.ones(4)], "np.linalg.lstsq of a rank-deficient matrix"),
        (qr_sum, [np.ones((2, 3)) + np.eye(2, 3)], "np.linalg.qr of a wide matrix"),
        (qr_complete, [np.ones((3, 2)) + np.eye(3, 2)], r"mode='complete'\) of a tall matrix"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_inputs_without_a_derivative_raise_at_run_time(f, args, message, mode):
    # decided by the values (a complex result, the rank, the shape): a clear error where the derivative runs
    wrt = tuple(range(len(args)))
    with pytest.raises(NotImplementedError, match=message):
        if mode == "grad":
            ac.grad(f, wrt)(*args)
        else:
            ac.jvp(f, wrt)(*args, tuple(np.ones_like(a) for a in args))


def test_extra_singular_vectors_have_no_derivative():
    # full_matrices=True of a 3 x 2 matrix: U's third column is any unit vector orthogonal to the others.
    # Reverse mode refuses it where it is used; forward mode gives it the tangent nan; s alone is fine.
    a = np.ones((3, 2)) + np.eye(3, 2)
    with pytest.raises(NotImplementedError, match=r"full_matrices=True\) of a non-square matrix"):
        ac.grad(svd_full)(a)
    assert np.isnan(ac.jvp(svd_full)(a, np.ones((3, 2)))[1])
    check_grads(sum_of_singular_values, [a])
    assert np.isfinite(ac.jvp(sum_of_singular_values)(a, np.ones((3, 2)))[1])


def empty_matrices(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    w, v = np.linalg.eigh(a)
    return (
        np.sum(s)
        + np.sum(u)
        + np.sum(vh)
        + np.sum(w)
        + np.sum(v)
        + np.sum(np.linalg.cholesky(a))
        + np.sum(np.linalg.qr(a)[1])
        + np.sum(np.linalg.pinv(a))
    )


def test_empty_matrices_have_empty_cotangents():
    a = np.zeros((2, 0, 0))
    assert ac.grad(empty_matrices)(a).shape == (2, 0, 0)
    assert ac.jvp(empty_matrices)(a, a)[1] == 0.0


def _middle_ellipsis(a, b):
    return np.sum(np.einsum("j...k,lj...->lk...", a, b) ** 2)


def _middle_ellipsis_many(a, b, c1, c2, c3, c4, c5):
    return np.sum(np.einsum("j...k,lj...,a,b,c,d,e->lk...abcde", a, b, c1, c2, c3, c4, c5) ** 2)


@pytest.mark.parametrize(
    "shape_a, shape_b", [((2, 2), (2, 2, 3)), ((2, 2, 2), (2, 2)), ((2, 1, 2), (2, 2, 3)), ((2, 3, 2), (2, 2, 1))]
)
def test_einsum_ellipsis_after_other_indices_of_fewer_axes(shape_a, shape_b):
    # '...' of a operand stands for the LAST of the broadcast '...' axes (NumPy aligns them from the right):
    # the cotangent sums the others where the term puts them, not at the front (autograd's
    # test_einsum_ellipses_center through the API found it summed at the front: a wrong gradient)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    check_grads(_middle_ellipsis, (a, b), (0, 1), rtol=1e-6)
    cs = tuple(rng.standard_normal(2) for _ in range(5))
    check_grads(_middle_ellipsis_many, (a, b) + cs, (0, 1, 2), rtol=1e-6)


# ---- np13i: np.linalg.det at singular matrices; slogdet there refused ------------------------------------------


def _cofactor_matrix(a):
    """adj(A)^T by the textbook definition, signed minors (independent of the rule)"""
    n = a.shape[-1]
    return np.array(
        [[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) for j in range(n)] for i in range(n)]
    )


def det_sum(a):
    return np.sum(np.linalg.det(a))


SINGULAR = [
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.ones((3, 3)),
    np.zeros((3, 3)),
    np.diag([1.0, 2.0, 0.0]),
    np.diag([2.0, 0.0, 0.0]),
    np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]) + np.outer([0.0, 1.0, 0.5], [2.0, 1.0, 0.0]),
]


@pytest.mark.parametrize("a", SINGULAR, ids=range(len(SINGULAR)))
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(a):
    expected = _cofactor_matrix(a)
    assert np.allclose(ac.grad(det_sum)(a), expected, atol=1e-12)
    t = np.random.default_rng(0).standard_normal(a.shape)
    assert np.isclose(ac.jvp(det_sum)(a, t)[1], np.sum(expected * t), atol=1e-12)


@pytest.mark.parametrize("a", SINGULAR, ids=range(len(SINGULAR)))
def test_det_hessian_at_a_singular_matrix_matches_differences_of_the_cofactors(a):
    # det is a polynomial: the Hessian along t is the derivative of the cofactor matrix (signed minors) along t
    t = np.random.default_rng(1).standard_normal(a.shape)
    h = 1e-5
    fd = (_cofactor_matrix(a + h * t) - _cofactor_matrix(a - h * t)) / (2 * h)
    assert np.allclose(ac.hvp(det_sum)(a, t), fd, atol=1e-8)
    assert np.allclose(ac.hessian(det_sum)(a).reshape(a.size, a.size) @ t.ravel(), fd.ravel(), atol=1e-8)


def test_det_gradient_of_a_stack_mixing_singular_and_regular_matrices():
    a = np.stack([np.ones((3, 3)), 3.0 * np.eye(3) + 0.1 * np.arange(9.0).reshape(3, 3)])
    expected = np.stack([_cofactor_matrix(m) for m in a])
    assert np.allclose(ac.grad(det_sum)(a), expected, atol=1e-12)


def slogdet_of(a):
    return np.linalg.slogdet(a)[1]


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_slogdet_at_a_singular_matrix_is_refused_when_the_gradient_runs(mode):
    # log|det A| is -inf there: no derivative (not a LinAlgError from an inverse); located at the user's call
    # (np13k: templates.locate puts it into the run-time check's message)
    a = np.zeros((2, 2))
    with pytest.raises(NotImplementedError, match="np.linalg.slogdet of a singular matrix") as e:
        if mode == "grad":
            ac.grad(slogdet_of)(a)
        else:
            ac.jvp(slogdet_of)(a, np.ones((2, 2)))
    where = "test_np_linalg.py:%d:" % (inspect.getsourcelines(slogdet_of)[1] + 1)
    assert where in str(e.value) and ": error: " in str(e.value)
    # a regular matrix of the same function: A^-T, by hand
    b = np.array([[2.0, 1.0], [0.0, 4.0]])
    assert np.allclose(ac.grad(slogdet_of)(b), np.linalg.inv(b).T, rtol=1e-14)


def qr_r_only(a):
    return np.sum(np.sin(np.linalg.qr(a, mode="r")))


def qr_complete_square(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(q * np.arange(9.0).reshape(3, 3)) + np.sum(r**2)


@pytest.mark.parametrize("f, shape", [(qr_r_only, (4, 3)), (qr_r_only, (2, 3, 3)), (qr_complete_square, (3, 3))])
def test_qr_modes_r_and_complete_through_compiled_functions(f, shape):
    a = np.random.default_rng(3).standard_normal(shape)
    check_grads(f, [a])
    t = np.random.default_rng(4).standard_normal(shape)
    fd = (f(a + 1e-6 * t) - f(a - 1e-6 * t)) / 2e-6
    assert abs(ac.jvp(f)(a, t)[1] - fd) < 1e-5 * max(1.0, abs(fd))


# ---- rules22: np.linalg.svd(..., hermitian=True) with its vectors ------------------------------------------------


def svd_hermitian_vectors(a):
    # eigh's vectors, v_i = sign(w_i) u_i, and |w| sorted: a singular value decomposition of the symmetric matrix a's
    # lower triangle makes, which Townsend's formulas take as they are (losses reading u and vh apart, in their gauge)
    u, s, vh = np.linalg.svd(a, hermitian=True)
    return np.sum(np.sin(u) * np.arange(16.0).reshape(4, 4)) + np.sum(s**2) + np.sum(np.cos(vh[:2]))


def svd_hermitian_stack(a):
    u, s, vh = np.linalg.svd(np.stack([a, 2.0 * a]), hermitian=True)
    return np.sum((u[..., :2] @ vh[..., :2, :]) ** 2) + np.sum(u[..., 0] * vh[..., 1, :])


@pytest.mark.parametrize("f", [svd_hermitian_vectors, svd_hermitian_stack], ids=lambda f: f.__name__)
def test_svd_hermitian_vectors_in_both_modes(f):
    rng = np.random.default_rng(22)
    a = rng.standard_normal((4, 4))
    symmetric = a + a.T  # eigenvalues of both signs, distinct in absolute value
    assert len(set(np.round(np.abs(np.linalg.eigvalsh(symmetric)), 6))) == 4
    ac.check_grads(f, (symmetric,), wrt=0, modes=("rev", "fwd"))
    # not symmetric: NumPy reads the lower triangle only, and so does the gradient (0 above the diagonal)
    lower = symmetric + np.triu(rng.standard_normal((4, 4)), 1)
    ac.check_grads(f, (lower,), wrt=0, modes=("rev", "fwd"))
    assert np.all(np.triu(ac.grad(f)(lower), 1) == 0.0)
