"""Table-driven checks of the shape-manipulation adjoint rules over shapes, axes and sequence inputs."""

from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.rules import np_shape, registry
from adjoint_compiler.testing import check_grads, check_rule
from tests.rules import test_np_shape_more
from tests.rules.numpy_versions import NUMPY2, assert_parameters_follow_numpy
from tests.rules.test_rule_bodies import assert_inlinable, assert_table_is_the_module

SEEDS = (0, 1, 2)


def normal(rng, shape):
    x = rng.standard_normal(shape)
    return float(x) if shape == () else x


# ---- functions of one array ----------------------------------------------------------


class Row(NamedTuple):
    fn: object
    shape: tuple  # of the differentiated array, the first argument
    rest: tuple  # further positional arguments (shapes, axes, reps, ...)
    kwargs: dict


TABLE = (
    [
        Row(np.reshape, s, (new,), kw)
        for s, new, kw in [
            ((2, 3), (3, 2), {}),
            ((2, 3), (6,), {}),
            ((2, 3, 4), (4, -1), {}),
            ((6,), (2, 1, 3), {}),
            ((), (1, 1), {}),
            ((2, 3), (3, 2), {"order": "F"}),
            ((2, 3, 4), (6, 4), {"order": "F"}),
        ]
    ]
    + [Row(np.ravel, s, (), kw) for s, kw in [((2, 3), {}), ((2, 3, 4), {}), ((5,), {}), ((2, 3), {"order": "F"})]]
    + [
        Row(np.expand_dims, s, (axis,), {})
        for s, axis in [((3,), 0), ((3,), 1), ((3,), -1), ((2, 3), 1), ((2, 3), (0, 3)), ((), 0)]
    ]
    + [
        Row(fn, s, (), {})
        for fn in (np.atleast_1d, np.atleast_2d, np.atleast_3d)
        for s in [(), (3,), (2, 3), (2, 1, 3)]
    ]
    + [
        Row(np.squeeze, s, (), kw)
        for s, kw in [
            ((2, 1, 3), {}),
            ((1, 3, 1), {"axis": 0}),
            ((1, 3, 1), {"axis": (0, -1)}),
            ((1, 1), {}),
            ((3,), {}),
        ]
    ]
    + [
        Row(np.transpose, s, (), kw)
        for s, kw in [
            ((2, 3), {}),
            ((2, 3, 4), {}),
            ((2, 3, 4), {"axes": (2, 0, 1)}),
            ((2, 3, 4), {"axes": (1, 2, 0)}),
            ((2, 3, 4), {"axes": (-1, 0, 1)}),
            ((2, 3, 4), {"axes": [0, 2, 1]}),
            ((2, 3, 4), {"axes": np.array([1, 0, 2])}),
            ((5,), {}),
            ((2, 3, 4, 5), {"axes": (3, 1, 0, 2)}),
        ]
    ]
    + [
        Row(np.swapaxes, s, axes, {})
        for s, axes in [((2, 3), (0, 1)), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 1)), ((2, 3), (1, 1))]
    ]
    + [
        Row(np.moveaxis, s, axes, {})
        for s, axes in [
            ((2, 3), (0, 1)),
            ((2, 3, 4), (0, -1)),
            ((2, 3, 4), ((0, 2), (-1, 0))),
            ((2, 3, 4), (np.array([1, 0]), (-2, -1))),
            ((2, 3), (1, 1)),
        ]
    ]
    + [
        Row(np.flip, s, (), kw)
        for s, kw in [
            ((5,), {}),
            ((2, 3), {}),
            ((2, 3), {"axis": 0}),
            ((2, 3, 4), {"axis": -1}),
            ((2, 3, 4), {"axis": (0, 2)}),
        ]
    ]
    + [
        Row(np.roll, s, (shift,), kw)
        for s, shift, kw in [
            ((5,), 2, {}),
            ((2, 3), 4, {}),
            ((2, 3), -1, {"axis": 1}),
            ((2, 3, 4), 1, {"axis": 0}),
            ((2, 3, 4), (1, -2), {"axis": (0, 2)}),
            ((2, 3), 7, {"axis": -1}),
        ]
    ]
    + [
        Row(np.broadcast_to, s, (new,), {})
        for s, new in [
            ((3,), (2, 3)),
            ((3, 1), (3, 4)),
            ((3, 1), (2, 3, 4)),
            ((1, 1), (2, 3)),
            ((), (2, 3)),
            ((2, 3), (2, 3)),
        ]
    ]
    + [
        Row(np.tile, s, (reps,), {})
        for s, reps in [
            ((3,), 2),
            ((2, 3), 2),
            ((2, 3), (2, 1)),
            ((2, 3), (3, 2, 2)),
            ((2, 3, 2), (2, 2)),
            ((), 3),
            ((), (2, 2)),
            ((2, 3), (1, 1)),
            ((2, 3), (0, 2)),
        ]
    ]
    + [
        Row(np.repeat, s, (repeats,), kw)
        for s, repeats, kw in [
            ((3,), 2, {}),
            ((2, 3), 3, {}),
            ((2, 3), 2, {"axis": 0}),
            ((2, 3), 2, {"axis": 1}),
            ((2, 3, 4), 3, {"axis": -2}),
            ((), 4, {}),
            ((2, 3), 1, {"axis": 1}),
            # one count per element (a list or an array; zeros too), or a list of one count for all
            ((3,), [1, 2, 3], {}),
            ((2, 3), [2, 0, 1], {"axis": 1}),
            ((2, 3), [1, 3], {"axis": 0}),
            ((2, 3), np.array([0, 1, 2, 0, 3, 1]), {}),
            ((2, 3), [2], {"axis": -1}),
            ((2, 3, 4), [1, 0, 2], {"axis": 1}),
            ((2, 3), [0, 0, 0], {"axis": 1}),
            ((), [3], {}),
        ]
    ]
    + [
        Row(np.diag, s, (), kw)
        for s, kw in [
            ((3,), {}),
            ((3,), {"k": 1}),
            ((3,), {"k": -2}),
            ((3, 3), {}),
            ((3, 5), {}),
            ((5, 3), {}),
            ((3, 5), {"k": 2}),
            ((3, 5), {"k": -1}),
            ((5, 3), {"k": -3}),
            ((5, 3), {"k": 1}),
            ((3, 5), {"k": 9}),
        ]
    ]
)


# ---- shape13: diagonals, turns, triangles, indexing, deleting, padding, ordering ------------------
# (the functions with several differentiated operands or list outputs: tests/rules/test_np_shape_more.py)
TABLE += (
    [Row(np.diagflat, s, (), kw) for s, kw in [((3,), {}), ((2, 2), {"k": -2}), ((), {})]]
    + [Row(np.rollaxis, s, rest, {}) for s, rest in [((2, 3, 4), (2,)), ((2, 3, 4), (-1, 1)), ((2, 3, 4), (1, -1))]]
    + [
        Row(np.take, s, (idx,), kw)
        for s, idx, kw in [
            ((5,), [0, 2, 2, 4], {}),  # an element taken twice gets both cotangents
            ((2, 3), [[0, 5], [1, 1]], {}),  # axis=None: of the flattened array
            ((2, 3, 4), np.array([1, -1, 1]), {"axis": -2}),
            ((2, 3), 1, {"axis": 0}),  # a scalar index drops the axis
            ((4,), [5, -6, 1], {"mode": "wrap"}),
            ((4,), [9, -1, 2], {"mode": "clip"}),
            ((2, 3), [], {"axis": 1}),  # nothing taken: a zero cotangent
            ((), 0, {}),
        ]
    ]
    + [  # rules24: an element in several windows gets each window's cotangent
        Row(np.lib.stride_tricks.sliding_window_view, s, (w,), kw)
        for s, w, kw in [
            ((8,), 3, {}),
            ((4, 5), (2, 3), {}),
            ((4, 5), 2, {"axis": 0}),
            ((3, 4), (2, 2), {"axis": (1, 0)}),
            ((3,), 3, {}),
        ]
    ]
    + [
        Row(np.take_along_axis, s, (idx,), kw)
        for s, idx, kw in [
            ((2, 3), np.array([[0, 0], [2, 1]]), {"axis": 1}),
            ((2, 3), np.array([[1, 0, 1]]), {"axis": 0}),  # broadcast along the other axis
            ((2, 3), np.array([5, 0, 5]), {"axis": None}),
        ]
    ]
    + [
        Row(np.delete, s, (obj,), kw)
        for s, obj, kw in [
            ((5,), [0, -1], {}),
            ((2, 3), slice(None, None, 2), {}),
            ((2, 3), 1, {"axis": 1}),
            ((2, 3, 2), np.array([True, False, True]), {"axis": 1}),
        ]
    ]
    + [
        Row(np.pad, s, (width,), kw)
        for s, width, kw in [
            ((2, 3), ((1, 0), (2, 1)), {}),
            ((3,), (2, 3), {"mode": "edge"}),
            ((4,), 6, {"mode": "reflect"}),  # wider than the array: reflected again
            ((2, 3), ((1, 2), (2, 1)), {"mode": "symmetric"}),
            ((3,), (4, 5), {"mode": "wrap"}),
            ((4,), 2, {"mode": "reflect", "reflect_type": "even"}),
            ((2, 2), 0, {}),
            # np13p: the modes linear in the array (runtime.pad_linear_bar): every stat_length form, ramps to
            # constant end values, one axis unpadded, a 0-width pad
            ((5,), 2, {"mode": "mean"}),
            ((2, 3), ((1, 2), (2, 0)), {"mode": "mean"}),
            ((3, 4), 2, {"mode": "mean", "stat_length": 2}),
            ((3, 4), ((1, 0), (2, 3)), {"mode": "mean", "stat_length": ((1, 2), (3, 1))}),
            ((4,), (2, 3), {"mode": "linear_ramp"}),
            ((2, 3), ((1, 2), (0, 2)), {"mode": "linear_ramp", "end_values": ((0.5, -1.0), (2.0, 0.0))}),
            ((2, 2, 2), 1, {"mode": "linear_ramp", "end_values": 3.0}),
            ((3,), 0, {"mode": "mean"}),
            # rules22: reflect_type='odd' (2 edge - reflection: linear in the array), pads longer than the array
            ((4,), 2, {"mode": "reflect", "reflect_type": "odd"}),
            ((3,), (5, 7), {"mode": "reflect", "reflect_type": "odd"}),
            ((2, 3), ((1, 4), (2, 1)), {"mode": "symmetric", "reflect_type": "odd"}),
        ]
    ]
    + [
        Row(np.sort, s, (), kw)
        for s, kw in [
            ((5,), {}),
            ((3, 4), {"axis": 0}),
            ((2, 3), {"axis": None}),
            ((2, 3, 2), {"axis": 1, "kind": "mergesort"}),
            *([((4,), {"stable": True})] if NUMPY2 else []),
            ((0,), {}),
        ]
    ]
    + [
        Row(np.partition, s, (kth,), kw)
        for s, kth, kw in [((6,), (1, 4), {}), ((3, 4), 1, {"axis": 0}), ((2, 3), 3, {"axis": None})]
    ]
    + [
        Row(np.diagonal, s, (), kw)
        for s, kw in [
            ((3, 4), {"offset": 1}),
            ((4, 3), {"offset": -2}),
            ((3, 2, 3), {"offset": 1, "axis1": 2, "axis2": 0}),
        ]
    ]
    + [Row(np.fliplr, (2, 3, 2), (), {}), Row(np.flipud, (4,), (), {})]
    + [
        Row(np.rot90, s, rest, kw)
        for s, rest, kw in [((2, 3), (), {}), ((2, 3), (-1,), {}), ((2, 3, 4), (3,), {"axes": (2, 0)})]
    ]
    + [
        Row(fn, s, (), kw)
        for fn, s, kw in [
            (np.triu, (3, 4), {"k": 1}),
            (np.triu, (3,), {}),  # a 1-d m is each row first: the rows' cotangents are summed
            (np.triu, (2, 3, 3), {"k": -1}),
            (np.tril, (4, 3), {"k": -1}),
            (np.tril, (3,), {"k": 1}),
        ]
    ]
)


def _name(row):
    return "%s-%s-%s-%s" % (row.fn.__name__, row.shape, row.rest, row.kwargs)


def _cotangents(fn, g, ans, args, kwargs):
    """Every cotangent the rule returns; all but the array's must be None (of the parameters the call passes:
    one left at its default is no operand, as np.pad's constant_values)."""
    rule = registry.lookup(fn)
    cots = rule.rule(g, ans, *args, **kwargs)
    cots = (cots,) if len(rule.params) == 1 else tuple(cots)
    passed = [i for i, p in enumerate(rule.params) if i < len(args) or p in kwargs]
    assert len(cots) == len(rule.params) and all(cots[i] is None for i in passed[1:]), rule
    return cots[0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[_name(r) for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, row.shape)

    def call(x):
        return row.fn(x, *row.rest, **row.kwargs)

    def rule(g, ans, x):
        return _cotangents(row.fn, g, ans, [x, *row.rest], row.kwargs)

    if row.kwargs.get("mode") == "linear_ramp":
        # (np13p) the rule's result for end_values is runtime.no_derivative, refused where that argument is
        # differentiated, which raises when the rule is called directly: checked through a compiled pullback
        def rule(g, ans, x):  # noqa: F811
            end = row.kwargs.get("end_values", 0.0)
            return ac.vjp(ramp_pad, wrt=0)(x, row.rest[0], end)[1](g)

    check_rule(call, rule, [x], diff=[0], seed=seed)


def ramp_pad(x, width, end):
    return np.pad(x, width, mode="linear_ramp", end_values=end)


# ---- functions of a sequence of arrays ---------------------------------------------------


class SeqRow(NamedTuple):
    fn: object
    shapes: tuple  # one per array in the sequence
    kwargs: dict


SEQ_TABLE = (
    [
        SeqRow(np.concatenate, shapes, kw)
        for shapes, kw in [
            (((3,), (4,)), {}),
            (((2, 3), (4, 3)), {}),
            (((2, 3), (2, 1), (2, 2)), {"axis": 1}),
            (((2, 3), (2, 3)), {"axis": -1}),
            (((2, 3, 4), (2, 1, 4)), {"axis": 1}),
            (((3,),), {}),
            (((2, 2), (3,), ()), {"axis": None}),
            (((2, 3), (2, 3)), {}),
        ]
    ]
    + [
        SeqRow(np.stack, shapes, kw)
        for shapes, kw in [
            (((3,), (3,)), {}),
            (((2, 3), (2, 3), (2, 3)), {}),
            (((2, 3), (2, 3)), {"axis": 1}),
            (((2, 3), (2, 3)), {"axis": -1}),
            (((), (), ()), {}),
            (((3,),), {}),
        ]
    ]
    + [
        SeqRow(np.hstack, shapes, {})
        for shapes in [((3,), (4,)), ((2, 3), (2, 1)), ((), (3,), ()), ((2, 3, 4), (2, 1, 4)), ((3,), (3,))]
    ]
    + [
        SeqRow(np.vstack, shapes, {})
        for shapes in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (1, 3), (4, 3)), ((), ()), ((2, 3, 4), (1, 3, 4))]
    ]
)

# np.row_stack, vstack's deprecated alias, has its rule where NumPy still has it
if hasattr(np, "row_stack"):
    SEQ_TABLE += [SeqRow(np.row_stack, shapes, {}) for shapes in [((3,), (3,)), ((2, 3), (1, 3))]]

# shape13
SEQ_TABLE += [SeqRow(np.column_stack, shapes, {}) for shapes in [((3,), (3, 2)), ((2, 3), (2, 1), (2,))]] + [
    SeqRow(np.dstack, shapes, {}) for shapes in [((2, 3), (2, 3, 2)), ((), (1, 1))]
]


def _seq_cotangents(fn, g, ans, arrays, kwargs):
    rule = registry.lookup(fn)
    cots = rule.rule(g, ans, arrays, **kwargs)
    cots = (cots,) if len(rule.params) == 1 else tuple(cots)
    assert len(cots) == len(rule.params) and all(c is None for c in cots[1:]), rule
    # the compiler indexes the cotangent of the sequence: a list, one array per input
    assert isinstance(cots[0], list) and len(cots[0]) == len(arrays)
    return cots[0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("container", [list, tuple])
@pytest.mark.parametrize("row", SEQ_TABLE, ids=["%s-%s-%s" % (r.fn.__name__, r.shapes, r.kwargs) for r in SEQ_TABLE])
def test_sequence_rule_matches_finite_differences(row, container, seed):
    # check_rule perturbs one argument at a time, so each array of the sequence is an argument of its own
    rng = np.random.default_rng(seed)
    arrays = [normal(rng, s) for s in row.shapes]
    n = len(arrays)

    def call(*arrays):
        return row.fn(container(arrays), **row.kwargs)

    if n == 1:

        def rule(g, ans, x):
            return _seq_cotangents(row.fn, g, ans, container([x]), row.kwargs)[0]
    else:

        def rule(g, ans, *arrays, _tuple=True):  # a fourth parameter: check_rule reads a tuple of cotangents
            return tuple(_seq_cotangents(row.fn, g, ans, container(arrays), row.kwargs))

    check_rule(call, rule, arrays, diff=list(range(n)), seed=seed)


def test_stack_of_an_array_gives_its_slices():
    x = np.zeros((2, 3))  # a sequence of two rows
    g = np.arange(6.0).reshape(3, 2)  # np.stack(x, axis=1)
    cots = np_shape.stack_adjoint(g, np.stack(x, axis=1), x, 1)[0]
    assert isinstance(cots, list) and np.array_equal(np.array(cots), g.T)


# ---- values by hand ----------------------------------------------------------------


def test_tile_sums_the_copies():
    a = np.zeros((2, 3))
    g = np.arange(24.0).reshape(4, 6)  # np.tile(a, (2, 2))
    expected = g[:2, :3] + g[2:, :3] + g[:2, 3:] + g[2:, 3:]
    assert np.array_equal(np_shape.tile_adjoint(g, None, a, (2, 2))[0], expected)


def test_repeat_sums_adjacent_copies():
    a = np.zeros((2, 2))
    g = np.arange(8.0).reshape(2, 4)  # np.repeat(a, 2, axis=1)
    assert np.array_equal(np_shape.repeat_adjoint(g, None, a, 2, 1)[0], [[1.0, 5.0], [9.0, 13.0]])


def test_diag_of_a_rectangle_puts_g_on_the_diagonal():
    g = np.array([1.0, 2.0])
    ga = np_shape.diag_adjoint(g, None, np.zeros((4, 3)), -1)[0]
    assert np.array_equal(ga, [[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 0]])


# ---- registration and form ------------------------------------------------------

TABLE_FNS = list({id(r.fn): r.fn for r in TABLE + SEQ_TABLE}.values())
# (dtypes13) np.reshape(x, newshape=...)'s variant: its cases are in tests/test_methods.py
TABLE_FNS.append(np_shape.reshape_newshape)
# rules22 (their rows: tests/rules/test_np_reductions_more.py): np.logspace and np.geomspace (ends of one sign),
# NumPy 2.0's np.linalg.diagonal and matrix transposes
TABLE_FNS += [np.logspace, np.geomspace]
TABLE_FNS += [f for f in (getattr(np.linalg, "diagonal", None), getattr(np, "matrix_transpose", None)) if f]
TABLE_FNS += [np.linalg.matrix_transpose] if hasattr(np.linalg, "matrix_transpose") else []


def test_table_and_module_list_the_same_rules():
    # with the table of the functions of several operands or results (test_np_shape_more.py)
    assert_table_is_the_module(TABLE_FNS + test_np_shape_more.FNS, np_shape)


# np.pad's constant_values and reflect_type are NumPy's **kwargs: test_np_shape_more.py checks its parameters
@pytest.mark.parametrize("fn", [f for f in TABLE_FNS if f is not np.pad], ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # The compiler binds call-site keywords by name and positions by order.
    # before NumPy 2.1 np.reshape's shape was called newshape: that keyword is reshape_newshape's form
    assert_parameters_follow_numpy(fn, {"newshape": "shape"} if fn is np.reshape else None)


# ---- the rule bodies must be inlinable ------------------------------------------


def test_rule_bodies_are_inlinable():
    # the shared check (its ALLOWED_GLOBALS also keeps builtins such as len out: templates.py would
    # look them up in the rule's module globals); run here too, as this module's rules are registered
    # only where it is imported
    for r in registry.all_rules().values():
        if r.origin == np_shape.__name__:
            assert_inlinable(r.rule, np_shape)


def test_compiler_accepts_rules():
    templates = pytest.importorskip("adjoint_compiler.templates")
    for r in registry.all_rules().values():
        if r.origin == np_shape.__name__:
            t = templates.template(r)
            assert len(t.results) == len(r.params)


# ---- inlined into compiled gradients ----------------------------------------------

W = np.linspace(-1.0, 2.0, 24)  # weights that tell the positions of the result apart


def f_reshape_ravel(a):
    return np.sum(np.reshape(a, (3, 2)) * W[:6].reshape(3, 2)) + np.sum(a.reshape(6) * W[:6] ** 2)


def f_transpose(a):
    return np.sum(np.transpose(a, (2, 0, 1)) * W.reshape(4, 2, 3)) + np.sum(a.T * W.reshape(4, 3, 2))


def f_swap_flip_roll(a):
    return np.sum((np.swapaxes(a, 0, 1) + np.flip(a, axis=0).T + np.roll(a, 1, axis=1).T) * W[:6].reshape(3, 2))


def f_dims(a):
    return np.sum(np.squeeze(np.expand_dims(a, 0)) ** 3) + np.sum(np.ravel(a) ** 2)


def f_concatenate(a, b):
    return np.sum(np.concatenate([a, b], axis=1) ** 3) + np.sum(np.concatenate((a, b), axis=None) * W[:10])


def f_stack(a, b):
    return np.sum(np.stack([a, b], axis=-1) * W[:12].reshape(2, 3, 2))


def f_hvstack(a, b):
    return np.sum(np.hstack([a, b]) ** 3) + np.sum(np.vstack([a, b]).T * W[:10].reshape(5, 2))


def f_copies(a, b):
    return np.sum(np.broadcast_to(a, (2, 2, 3)) * W[:12].reshape(2, 2, 3)) + np.sum(np.tile(b, (2, 3)) ** 3)


def f_repeat_diag(a, b):
    return np.sum(np.repeat(a, 2, axis=1) ** 3) + np.sum(np.diag(b, 1) * W[:16].reshape(4, 4)) + np.sum(np.diag(a))


def f_list_built_in_a_loop(a, b):
    xs = [b]
    for i in range(3):
        xs = xs + [a * (i + 1.0)]
    return np.sum(np.concatenate(xs) ** 2)


COMPILED = [
    (f_reshape_ravel, [(2, 3)]),
    (f_transpose, [(2, 3, 4)]),
    (f_swap_flip_roll, [(2, 3)]),
    (f_dims, [(2, 3)]),
    (f_concatenate, [(2, 3), (2, 2)]),
    (f_stack, [(2, 3), (2, 3)]),
    (f_hvstack, [(5,), (5,)]),
    (f_copies, [(1, 3), (2, 1)]),
    (f_repeat_diag, [(2, 3), (3,)]),
    (f_list_built_in_a_loop, [(3,), (2,)]),
]


@pytest.mark.parametrize("f, shapes", COMPILED, ids=[f.__name__ for f, _ in COMPILED])
def test_compiled_gradient_matches_finite_differences(f, shapes):
    rng = np.random.default_rng(0)
    args = [normal(rng, s) for s in shapes]
    wrt = tuple(range(len(args))) if len(args) > 1 else 0
    check_grads(f, args, wrt=wrt)  # the gradient of the compiled code


def f_one_list_joined_twice(a, b):
    xs = [a, b]
    return np.sum(np.concatenate(xs) ** 2) + np.sum(np.stack(xs, axis=1) ** 3)


def test_compiled_gradient_of_a_list_used_twice():
    # two list cotangents of one list are added element by element, not joined with +
    rng = np.random.default_rng(0)
    check_grads(f_one_list_joined_twice, [rng.standard_normal(3), rng.standard_normal(3)], wrt=(0, 1))


def f_transpose_method_axes(a):
    return np.sum(a.transpose(1, 0) * np.arange(6.0).reshape(3, 2))


def test_transpose_method_with_axes_as_arguments():
    rng = np.random.default_rng(1)
    check_grads(f_transpose_method_axes, [rng.standard_normal((2, 3))], wrt=0)
