"""Table-driven checks of the shape rules with several differentiated operands (a sequence of arrays among
them) or several results (the arrays np.split returns): append, insert, pad's constant, choose, select,
meshgrid, linspace, the split family; and the calls their rules (and np_shape's other shape13 rules) refuse.

Each row is checked against central differences of NumPy's own function: every operand's cotangent, with the
results joined into one vector (so pieces of different shapes count too). tests/rules/test_tangents.py runs
forward mode over the same rows (``tangent_cases``) and tests/fuzz/gen_rules.py draws them."""

import inspect
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.rules import np_shape, registry
from adjoint_compiler.testing import check_grads, check_rule, relative_error
from tests.rules.numpy_versions import assert_parameters_follow_numpy

SEEDS = (0, 1)


class A(NamedTuple):
    """A differentiated array operand of this shape (a float for ())."""

    shape: tuple


class S(NamedTuple):
    """A differentiated sequence (a list) of arrays of these shapes."""

    shapes: tuple


class Row(NamedTuple):
    fn: object
    args: tuple  # A, S, or a constant passed as it is (indices, conditions, sections)
    kwargs: dict  # constants, or an A (a differentiated keyword argument: select's default)
    name: str
    pick: object = None  # for a function with several results: the one the fuzzer reads


def _row(fn, args, kwargs=None, pick=None, note=""):
    kwargs = kwargs or {}
    text = "-".join(
        str(a.shape) if isinstance(a, A) else "S%s" % (a.shapes,) if isinstance(a, S) else "c" for a in args
    )
    return Row(fn, tuple(args), kwargs, "%s-%s-%s%s" % (fn.__name__, text, sorted(kwargs), note), pick)


COND = np.array([[True, False, True], [False, False, True]])

TABLE = (
    [
        _row(np.append, [A(sa), A(sv)], kw)
        for sa, sv, kw in [
            ((3,), (2,), {}),
            ((2, 3), (4,), {}),
            ((2, 3), (1, 3), {"axis": 0}),
            ((2, 3), (2, 2), {"axis": -1}),
            ((), (), {}),
            ((3,), (), {}),
        ]
    ]
    + [  # rules22: np.block of one list (nested lists: test_block_of_nested_lists)
        _row(np.block, [S(shapes)]) for shapes in [((3,), (2,)), ((2, 3), (2, 1)), ((), (2,)), ((1, 2), (3,), (1, 1))]
    ]
    + [
        _row(np.insert, [A(sa), obj, A(sv)], kw)
        for sa, obj, sv, kw in [
            ((4,), 1, (), {}),
            ((4,), 4, (2,), {}),
            ((4,), [0, 2, 2], (3,), {}),  # two values before one element, in obj's order
            ((4,), [3, 0], (), {}),  # one value broadcast to both places
            ((2, 3), 1, (3,), {"axis": 0}),
            ((2, 3), 1, (2,), {"axis": 1}),  # a scalar obj: values become a column
            ((2, 3), [1], (2, 1), {"axis": 1}),  # a one-element obj: values as given
            ((2, 3), [0, -1], (2, 2), {"axis": 1}),
            ((2, 3), 2, (2,), {}),  # axis=None: into the flattened array
            ((2, 3), slice(0, 2), (), {"axis": 0}),
        ]
    ]
    + [
        _row(np.pad, [A(s), width], {"constant_values": A(sc)})
        for s, width, sc in [((3,), 2, ()), ((2, 3), ((1, 2), (0, 1)), (2,)), ((2, 3), 1, (2, 2)), ((2, 2), 1, (2, 1))]
    ]
    + [
        _row(np.choose, [idx, S(shapes)], kw)
        for idx, shapes, kw in [
            (np.array([0, 1, 0, 2]), ((4,), (4,), (4,)), {}),
            (np.array([[0, 1, 1], [1, 0, 0]]), ((3,), (2, 3)), {}),  # choices broadcast
            (np.array([0, 3, -1]), ((3,), (3,)), {"mode": "wrap"}),
            (np.array([0, 5, -1]), ((3,), ()), {"mode": "clip"}),
            (1, ((2,), (2,)), {}),
        ]
    ]
    + [
        _row(np.select, [conds, S(shapes)], kw)
        for conds, shapes, kw in [
            ([COND, ~COND], ((2, 3), (2, 3)), {}),
            ([COND, COND[0]], ((2, 3), (3,)), {}),  # a condition and a choice broadcast
            ([COND], ((2, 3),), {"default": A(())}),
            ([COND[0], ~COND[1]], ((3,), ()), {"default": A((3,))}),
            ([COND, np.ones((2, 3), bool)], ((3,), (2, 3)), {"default": A((2, 1))}),  # the second wins only after
        ]
    ]
    + [
        _row(np.meshgrid, [A(s) for s in shapes], kw, pick=0)
        for shapes, kw in [
            (((3,), (2,)), {}),
            (((3,), (2,)), {"indexing": "ij"}),
            (((3,), (2,), (4,)), {}),
            (((3,), (2, 2), (2,)), {"indexing": "ij"}),  # a 2-d input is flattened
            (((3,), (2,)), {"sparse": True}),
            (((2,), (3,), (2,), (2,)), {"sparse": True, "indexing": "ij", "copy": False}),
            (((3,),), {}),
            (((), (2,)), {}),
        ]
    ]
    + [
        _row(np.linspace, [A(s1), A(s2), num], kw)
        for s1, s2, num, kw in [
            ((), (), 5, {}),
            ((), (), 4, {"endpoint": False}),
            ((2,), (), 3, {}),
            ((2, 1), (3,), 4, {"axis": -1}),
            ((2,), (2,), 3, {"axis": 1}),
            ((), (), 1, {}),
            ((), (), 1, {"endpoint": False}),
            ((), (), 0, {}),
            ((), (), 4, {"dtype": np.float64}),
            ((), (), 4, {"dtype": int}),  # floored: piecewise constant, cotangent 0
        ]
    ]
    + [
        _row(np.linspace, [A(s1), A(s2), num], dict(kw, retstep=True), pick=0)
        for s1, s2, num, kw in [((), (), 5, {}), ((2,), (), 4, {"endpoint": False}), ((2, 1), (3,), 3, {"axis": 1})]
    ]
    + [
        _row(fn, [A(s), sections], kw, pick=0)
        for fn, s, sections, kw in [
            (np.split, (6,), 3, {}),
            (np.split, (6,), [1, 4], {}),
            (np.split, (2, 4), 2, {"axis": 1}),
            (np.split, (4, 3), [1, 1, 5], {}),  # an empty piece, and one past the end
            (np.array_split, (7,), 3, {}),
            (np.array_split, (2, 6), 3, {"axis": 1}),
            (np.array_split, (2, 5), 2, {"axis": -1}),
            (np.hsplit, (2, 4), 2, {}),
            (np.hsplit, (6,), [2], {}),  # a 1-d array is split along axis 0
            (np.vsplit, (4, 2), [1, 3], {}),
            (np.vsplit, (4, 2, 2), 2, {}),
            (np.dsplit, (2, 1, 4), 2, {}),
        ]
    ]
)

FNS = list({id(r.fn): r.fn for r in TABLE}.values())


# ---- the rows as calls ---------------------------------------------------------------------------


def _value(rng, shape):
    x = rng.standard_normal(shape)
    return float(x) if shape == () else x


def sample(row, rng):
    """The row's arguments and keyword arguments, the differentiated ones drawn from ``rng``."""
    args = [
        _value(rng, a.shape) if isinstance(a, A) else [_value(rng, s) for s in a.shapes] if isinstance(a, S) else a
        for a in row.args
    ]
    kwargs = {k: _value(rng, v.shape) if isinstance(v, A) else v for k, v in row.kwargs.items()}
    return args, kwargs


def _slots(row, args, kwargs):
    """(position or keyword, index in a sequence or None) of each differentiated value, in order."""
    out = []
    for i, a in enumerate(row.args):
        if isinstance(a, A):
            out.append((i, None))
        elif isinstance(a, S):
            out.extend((i, k) for k in range(len(args[i])))
    out.extend((k, None) for k, v in row.kwargs.items() if isinstance(v, A))
    return out


def _rebuild(args, kwargs, slots, flat):
    args = [list(a) if isinstance(a, list) else a for a in args]
    kwargs = dict(kwargs)
    for (where, k), v in zip(slots, flat):
        place = kwargs if isinstance(where, str) else args
        if k is None:
            place[where] = v
        else:
            place[where][k] = v
    return args, kwargs


def _joined(out):
    """Several results as one vector (the pieces of a split differ in shape)."""
    if isinstance(out, (list, tuple)):
        return np.concatenate([np.ravel(p) for p in out]) if out else np.zeros(0)
    return out


def _parted(g, out):
    """A joined cotangent ``g`` back in the structure of ``out``: one array per result."""
    if not isinstance(out, (list, tuple)):
        return g
    sizes = [np.size(p) for p in out]
    parts = [np.reshape(p, np.shape(o)) for p, o in zip(np.split(g, np.cumsum(sizes)[:-1]), out)]
    return type(out)(parts)


def _cotangents(row, g, ans, args, kwargs, slots):
    rule = registry.lookup(row.fn)
    cots = rule.rule(g, ans, *args, **kwargs)
    cots = (cots,) if len(rule.params) == 1 else tuple(cots)
    assert len(cots) == len(rule.params)
    out = []
    for where, k in slots:
        c = cots[rule.params.index(where) if isinstance(where, str) else where]
        out.append(c if k is None else c[k])
    return out


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_rule_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    args, kwargs = sample(row, rng)
    slots = _slots(row, args, kwargs)
    flat = [args[w][k] if k is not None else (kwargs[w] if isinstance(w, str) else args[w]) for w, k in slots]

    def call(*flat):
        a, kw = _rebuild(args, kwargs, slots, flat)
        return _joined(row.fn(*a, **kw))

    def rule(g, ans, *flat, _tuple=True):  # a fourth parameter: check_rule reads a tuple of cotangents
        a, kw = _rebuild(args, kwargs, slots, flat)
        out = row.fn(*a, **kw)
        return tuple(_cotangents(row, _parted(g, out), out, a, kw, slots))

    check_rule(call, rule, flat, diff=list(range(len(flat))), seed=seed)


def tangent_cases(case):
    """test_tangents' cases (its ``Case`` class given) of the first ``PER_FUNCTION`` rows of each function whose
    results it can compare: one array, or a tuple of arrays; not a list of pieces of different shapes, nor
    retstep (refused in forward mode)."""
    out, taken = [], {}
    for i, row in enumerate(TABLE):
        args, kwargs = sample(row, np.random.default_rng(100 + i))
        if row.kwargs.get("retstep") or taken.get(row.fn, 0) >= PER_FUNCTION:
            continue
        result = row.fn(*args, **kwargs)
        if isinstance(result, list) and len({np.shape(p) for p in result}) > 1:
            continue
        diff = tuple(i for i, a in enumerate(row.args) if isinstance(a, (A, S)))
        diff += tuple(k for k, v in row.kwargs.items() if isinstance(v, A))
        out.append(case("shape13-" + row.name, row.fn, args, kwargs, diff))
        taken[row.fn] = taken.get(row.fn, 0) + 1
    return out


PER_FUNCTION = 3  # forward mode compiles two programs a case: the first rows of each function


# ---- the results as a list: forward mode and the cotangents the compiler passes ---------------------------


def split_in_three(x):
    a, b, c = np.split(x, [1, 3])
    return a, b * 2.0, c


def test_jvp_of_pieces_of_different_shapes():
    x, t = np.arange(5.0), np.linspace(-1.0, 1.0, 5)
    (a, b, c), (ta, tb, tc) = ac.jvp(split_in_three)(x, t)
    assert np.array_equal(ta, t[:1]) and np.array_equal(tb, 2.0 * t[1:3]) and np.array_equal(tc, t[3:])


def test_split_cotangent_as_a_stacked_array():
    # a materialized cotangent of equal pieces is one array stacking them
    x = np.zeros((4, 3))
    g = np.arange(12.0).reshape(2, 2, 3)
    assert np.array_equal(np_shape.split_adjoint(g, np.split(x, 2), x, 2)[0], g.reshape(4, 3))


def test_split_cotangent_with_a_zero_piece():
    # a piece that reached nothing has the cotangent 0.0: spread to its shape
    x = np.zeros(5)
    ga = np_shape.split_adjoint([0.0, np.ones(3)], np.split(x, [2]), x, [2])[0]
    assert np.array_equal(ga, [0.0, 0.0, 1.0, 1.0, 1.0])


# ---- compiled gradients ---------------------------------------------------------------------------------

W = np.linspace(-1.0, 2.0, 24)


def f_split_family(x):
    a, b = np.split(x, [1], axis=1)
    c = np.array_split(x, 3, axis=0)[2]
    d = np.hsplit(x, 3)[1]
    return np.sum(a * 2.0) + np.sum(b**2) + np.sum(c**3) + np.sum(np.sin(d))


def f_vdsplit(x):
    top, bottom = np.vsplit(x, 2)
    front = np.dsplit(x.reshape(2, 2, 3), [1])[0]
    return np.sum(top * bottom) + np.sum(front**3)


def f_append_insert_delete(x, y):
    a = np.append(x, y, axis=0)
    b = np.insert(x, [0, 2], y[0, :2], axis=1)
    c = np.delete(x, 1, axis=1)
    return np.sum(a**3) + np.sum(np.sin(b)) + np.sum(c * W[:8].reshape(4, 2))


def f_pad(x, y):
    p = np.pad(x, ((1, 2), (0, 1)), constant_values=y[0, 0])
    return np.sum(p**3) + np.sum(np.pad(x, 2, mode="reflect") ** 2) + np.sum(np.pad(x, (1, 3), mode="wrap") ** 3)


def f_choose_select(x, y):
    c = np.choose(np.array([0, 1, 0]), [x[0], y[0]])
    s = np.select([x[1] > 0, y[1] < -0.5], [x[1], y[1] * 2.0], default=x[2])
    return np.sum(c**2) + np.sum(s**3)


def f_meshgrid(x, y):
    gx, gy = np.meshgrid(x[0], y[0])
    hx, hy = np.meshgrid(x[1], y[1], indexing="ij", sparse=True)
    return np.sum(gx * gy**2) + np.sum(np.sin(hx * hy))


def f_linspace(x, y):
    return np.sum(np.linspace(x[0], y[0], 5) ** 2) + np.sum(np.linspace(x[1, 0], y[1, 1], 4, endpoint=False) ** 3)


def f_linspace_step(x, y):
    s, step = np.linspace(x[0, 0], y[0, 0], 4, retstep=True)
    return np.sum(s**2) + step**3


def f_sort_partition(x):
    return np.sum(np.sort(x, axis=0) * W[:12].reshape(4, 3)) + np.sum(np.partition(x, 1, axis=None) * W[:12])


def f_take(x):
    return np.sum(x.take([0, 2, 2], axis=1) ** 3) + np.sum(
        np.take_along_axis(x, np.array([[0], [2], [1], [1]]), 1) ** 2
    )


def f_methods(x):
    # methods NumPy has: take, repeat, diagonal, flatten, squeeze, swapaxes, clip, astype
    return (
        np.sum(x.take(np.array([1, 0]), axis=0) * W[:6].reshape(2, 3))
        + np.sum(x.repeat(2, axis=1) ** 3)
        + np.sum(x.diagonal(1) ** 2)
        + np.sum(x.flatten() * W[:12])
        + np.sum(x[:1].squeeze() ** 3)
        + np.sum(x.swapaxes(0, 1) * W[:12].reshape(3, 4))
        + np.sum(x.clip(-0.5, 0.5) ** 2)
        + np.sum(x.astype(np.float64) ** 3)
    )


def f_diagonals_and_turns(x):
    return (
        np.sum(np.diagflat(x[0], 1) * W[:16].reshape(4, 4))
        + np.sum(np.diagonal(x, 1) ** 3)
        + np.sum(np.rot90(x) * W[:12].reshape(3, 4))
        + np.sum(np.fliplr(x) * np.flipud(x) * W[:12].reshape(4, 3))
        + np.sum(np.triu(x, 1) ** 2 + np.tril(x) ** 3)
        + np.sum(np.rollaxis(x.reshape(2, 2, 3), 2) * W[:12].reshape(3, 2, 2))
    )


def f_stacks(x, y):
    return np.sum(np.column_stack([x[0], y]) ** 3) + np.sum(np.dstack([x[:2], x[2:]]) * W[:12].reshape(2, 3, 2))


def f_products(x, y):
    return (
        np.sum(np.tensordot(x, x, axes=([0], [0])) ** 2)
        + np.sum(np.kron(x, y) ** 2)
        + np.sum(np.cross(x, y) ** 2)
        + np.sum(np.tensordot(x, y, axes=1) ** 2)
    )


COMPILED = [
    (f_split_family, [(4, 3)]),
    (f_vdsplit, [(4, 3)]),
    (f_append_insert_delete, [(4, 3), (2, 3)]),
    (f_pad, [(2, 3), (2, 3)]),
    (f_choose_select, [(3, 3), (3, 3)]),
    (f_meshgrid, [(2, 3), (2, 2)]),
    (f_linspace, [(2, 3), (2, 3)]),
    (f_linspace_step, [(2, 3), (2, 3)]),  # reverse mode only (test_linspace_retstep_is_refused_in_forward_mode)
    (f_sort_partition, [(4, 3)]),
    (f_take, [(4, 3)]),
    (f_methods, [(4, 3)]),
    (f_diagonals_and_turns, [(4, 3)]),
    (f_stacks, [(4, 3), (3,)]),
    (f_products, [(4, 3), (3,)]),
]


@pytest.mark.parametrize("f, shapes", COMPILED, ids=[f.__name__ for f, _ in COMPILED])
def test_compiled_gradient_and_jvp_match_finite_differences(f, shapes):
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(s) for s in shapes]
    wrt = tuple(range(len(args))) if len(args) > 1 else 0
    check_grads(f, args, wrt=wrt)
    if f is f_linspace_step:
        return
    tangents = tuple(rng.standard_normal(s) for s in shapes)
    _, out = ac.jvp(f, wrt)(*args, tangents if len(args) > 1 else tangents[0])
    eps = 1e-6
    fd = (f(*[a + eps * t for a, t in zip(args, tangents)]) - f(*[a - eps * t for a, t in zip(args, tangents)])) / (
        2 * eps
    )
    assert relative_error(out, fd) < 1e-6


# ---- special points by hand ------------------------------------------------------------------------------


def test_sort_ties_give_each_equal_element_one_place():
    # a subgradient: equal elements take the cotangents of their places in a's order (a stable sort), the
    # same in both modes
    x = np.array([2.0, 1.0, 2.0, 0.0])
    g = np.array([10.0, 20.0, 30.0, 40.0])  # of the places of np.sort(x) = [0, 1, 2, 2]
    assert np.array_equal(np_shape.sort_adjoint(g, np.sort(x), x)[0], [30.0, 20.0, 40.0, 10.0])
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.array_equal(np_shape.sort_tangent(t, np.sort(x), x)[0], [4.0, 2.0, 1.0, 3.0])


def test_partition_ties_are_a_permutation():
    x = np.array([1.0, 3.0, 1.0, 3.0, 2.0, 1.0])
    ans = np.partition(x, 2)
    g = np.arange(6.0)
    ga = np_shape.partition_adjoint(g, ans, x, 2)[0]
    assert sorted(ga.tolist()) == g.tolist()  # each place's cotangent reaches one element
    assert all(x[np.flatnonzero(ga == g[i])[0]] == ans[i] for i in range(6))  # of the same value


def test_take_sums_the_cotangents_of_repeated_indices():
    ga = np_shape.take_adjoint(np.array([1.0, 2.0, 4.0]), None, np.zeros(3), [2, 0, 2])[0]
    assert np.array_equal(ga, [2.0, 0.0, 5.0])


def test_pad_edge_sums_the_copies():
    ga = np_shape.pad_adjoint(np.arange(7.0), None, np.zeros(3), 2, "edge")[0]
    assert np.array_equal(ga, [0.0 + 1.0 + 2.0, 3.0, 4.0 + 5.0 + 6.0])


def lambda_free_float32(x):
    return np.sum(np.linspace(x[0], x[2], 4, dtype=np.float32) ** 2)


def lambda_free_float64(x):
    return np.sum(np.linspace(x[0], x[2], 4) ** 2)


def test_empty_and_zero_d():
    assert np_shape.sort_adjoint(np.zeros(0), np.zeros(0), np.zeros(0))[0].shape == (0,)
    assert np_shape.take_adjoint(np.zeros((2, 0)), None, np.zeros((2, 3)), [], 1)[0].tolist() == [[0.0] * 3] * 2
    x = np.linspace(0.5, 1.5, 3)
    g32 = ac.grad(lambda_free_float32)(x)
    assert g32.dtype == np.float64 and np.allclose(g32, ac.grad(lambda_free_float64)(x), rtol=1e-6)
    assert np_shape.diagflat_adjoint(np.array([[2.0]]), None, 1.5)[0] == 2.0


# ---- refused: parameters and functions the rules do not model ----------------------------------------------


def pad_median(x):
    return np.sum(np.pad(x, 1, mode="median"))


def pad_end_values(x):
    return np.sum(np.pad(x, 1, mode="linear_ramp", end_values=x[0]))


def pad_stat_length(x):
    return np.sum(np.pad(x, 1, mode="maximum", stat_length=2))


def take_out(x):
    out = np.zeros(2)
    return np.sum(np.take(x, [0, 1], out=out))


def choose_out(x):
    out = np.zeros(3)
    return np.sum(np.choose(np.array([0, 1, 0]), [x, x * 2.0], out=out))


def sort_order(x):
    return np.sum(np.sort(x, order="f"))


def meshgrid_of_five(x):
    return np.sum(np.meshgrid(x, x, x, x, x)[0])


def take_unknown_keyword(x):
    return np.sum(np.take(x, [0], axis=0, bogus=1))


def sort_in_place(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * x)


def partition_in_place(x):
    y = x * 1.0
    y.partition(1)
    return np.sum(y * x)


def power_at(x):
    # np.power.at: an in-place ufunc method the compiler does not follow (add, subtract, multiply, divide,
    # maximum and minimum .at are lowered to stores)
    a = x * 1.0
    np.power.at(a, [0, 0, 1], 2.0)
    return np.sum(a)


REFUSED = [
    (pad_median, "mode", ac.CompileError),
    (pad_end_values, "end_values", ac.UnsupportedError),  # (np13p: mode 'mean' and 'linear_ramp' are differentiated)
    (pad_stat_length, "mode=", ac.CompileError),  # (mode "maximum": stat_length is modelled, for mode "mean")
    (take_out, "out=", ac.CompileError),  # the compiler refuses out= of any call
    (choose_out, "out=", ac.CompileError),
    (sort_order, "order=", ac.CompileError),
    (take_unknown_keyword, "bogus", ac.CompileError),
    (partition_in_place, "partition", ac.UnsupportedError),
    (power_at, "at()", ac.UnsupportedError),
]


def test_sort_in_place_is_differentiated():
    # y.sort() of a local array (anf: y = sorted_in_place(y)); tests/test_sort_in_place.py has the rest
    x = np.array([1.2, 0.5, -0.3])
    ac.testing.check_grads(sort_in_place, (x,))
    # sum(sort(x) * x): d/dx_k = sort(x)_k + x_j, j the position x_k is sorted to (x_0 -> 2, x_1 -> 1, x_2 -> 0)
    np.testing.assert_allclose(ac.grad(sort_in_place)(x), [-0.3 - 0.3, 0.5 + 0.5, 1.2 + 1.2])


@pytest.mark.parametrize("f, word, error", REFUSED, ids=[f.__name__ for f, _, _ in REFUSED])
def test_refused_with_the_users_location(f, word, error):
    line = inspect.getsourcelines(f)[1]
    with pytest.raises(error) as info:
        ac.grad(f)(np.linspace(0.5, 1.5, 3))
    message = str(info.value)
    assert word in message, message
    assert "test_np_shape_more.py:" in message and any(
        "test_np_shape_more.py:%d:" % n in message for n in range(line, line + 6)
    ), message


def test_meshgrid_of_five_arrays_is_refused_at_run_time():
    # copy, sparse and indexing are keyword-only in NumPy: a fifth array would take copy's place in the rule
    with pytest.raises(NotImplementedError, match="more than four arrays"):
        ac.grad(meshgrid_of_five)(np.linspace(0.5, 1.5, 2))


def linspace_step(x, y):
    return np.linspace(x, y, 4, retstep=True)[1]


def linspace_both(x, y):
    samples, step = np.linspace(x, y, 5, endpoint=False, retstep=True)
    return np.sum(np.sin(samples) * step)


def test_linspace_retstep_in_forward_mode_and_second_order():
    # step = (y - x) / 3: its tangent along (1, 2) is 1/3, by hand; the pair's tangents due to x and to y add
    # element by element (once refused in forward mode, and so under hvp)
    assert ac.jvp(linspace_step, (0, 1))(0.5, 2.0, (1.0, 2.0))[1] == pytest.approx(1.0 / 3.0, rel=1e-14)
    args = (np.array([[0.2], [0.5]]), np.array([1.0, 1.5, -0.5]))
    ac.check_grads(linspace_both, args, wrt=(0, 1), modes="fwd")
    ac.check_grads(linspace_both, args, wrt=(0, 1), modes="rev", order=2)


# ---- registration --------------------------------------------------------------------------------------------

# NumPy's *xi (meshgrid: x1..x4 here) and **kwargs (pad: constant_values, reflect_type) have no names to follow
NAMED = [fn for fn in FNS if fn not in (np.meshgrid, np.pad)]


@pytest.mark.parametrize("fn", NAMED, ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    assert_parameters_follow_numpy(fn)


def test_meshgrid_and_pad_parameters():
    assert registry.lookup(np.meshgrid).params == ("x1", "x2", "x3", "x4", "copy", "sparse", "indexing")
    assert registry.lookup(np.pad).params == (
        "array",
        "pad_width",
        "mode",
        "constant_values",
        "reflect_type",
        "stat_length",  # np13p: modes 'mean' and 'linear_ramp'
        "end_values",
    )


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_every_function_has_a_tangent(fn):
    assert registry.tangent_rule(fn) is not None or registry.linearity(fn) is not None


# ---- rules22: np.block of nested lists -------------------------------------------------------------------------


def test_block_of_nested_lists_in_both_modes_and_second_order():
    rng = np.random.default_rng(22)
    a, x = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def f(a, x):
        grid = np.block([[a, np.cos(a)], [x, x**2]])  # a 1-d block padded to a row
        cube = np.block([[[a]], [[a * x]]])  # three levels: the outermost joins along axis 0 of three
        return np.sum(np.sin(grid)) + np.sum(cube**3) + np.sum(np.block([[a, x[0] * np.ones((2, 1))], [x, 1.0]]) ** 2)

    ac.check_grads(f, (a, x), wrt=(0, 1), modes=("rev", "fwd"), order=2)


def test_block_cotangents_are_the_blocks_in_nested_lists():
    from adjoint_compiler import runtime

    arrays = [[np.zeros((2, 2)), np.zeros((2, 1))], [np.zeros(2), 0.0]]  # the second row: (1, 2) and (1, 1) blocks
    g = np.arange(9.0).reshape(3, 3)
    back = runtime.unjoin(g, arrays, "block")
    assert [[np.shape(b) for b in row] for row in back] == [[(2, 2), (2, 1)], [(2,), ()]]
    assert back[0][1].tolist() == [[2.0], [5.0]] and back[1][0].tolist() == [6.0, 7.0] and back[1][1] == 8.0
    # rejoin is its adjoint (the dot-product test) and rebuilds NumPy's np.block
    hs = [[np.ones((2, 2)), 2 * np.ones((2, 1))], [3 * np.ones(2), 4.0]]
    assert np.array_equal(runtime.rejoin(hs, arrays, g, "block"), np.block(hs))
    left = sum(np.sum(u * h) for row_u, row_h in zip(back, hs) for u, h in zip(row_u, row_h))
    assert left == pytest.approx(np.sum(g * np.block(hs)))


@pytest.mark.skipif(not hasattr(np, "matrix_transpose"), reason="NumPy 2.0's x.mT")
def test_matrix_transpose_attribute_in_both_modes_and_second_order():
    def f(x):
        return np.sum(np.sin(x.mT) * np.arange(12.0).reshape(4, 3)) + np.sum(np.linalg.matrix_transpose(x) ** 3)

    ac.check_grads(f, (np.random.default_rng(2).standard_normal((2, 3, 4)),), wrt=0, modes=("rev", "fwd"), order=2)
