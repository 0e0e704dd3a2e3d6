"""Every runtime helper emitted code calls has an adjoint rule or is declared non-differentiable."""

import numpy as np
import pytest

from adjoint_compiler import runtime
from adjoint_compiler.rules import registry, runtime_rules  # noqa: F401
from adjoint_compiler.testing import check_rule

FUNCTIONS = [
    h
    for h in runtime.HELPERS
    if callable(getattr(runtime, h)) and not isinstance(getattr(runtime, h), type) and not h.startswith("_")
]
STATEFUL = {"add_at", "add_into", "checkpoint_reverse"}  # update their argument in place / drive other functions


@pytest.mark.parametrize("name", FUNCTIONS)
def test_helper_has_a_rule_or_is_declared_nondifferentiable(name):
    fn = getattr(runtime, name)
    if name in STATEFUL:
        pytest.skip("not something emitted code passes a differentiated value through")
    assert registry.lookup(fn) is not None or registry.is_nondifferentiable(fn), name


@pytest.mark.parametrize("c_shape,like_shape", [((3, 2), (2,)), ((3, 2), (3, 1)), ((2, 3), ()), ((4,), (4,))])
def test_unbroadcast_rule(c_shape, like_shape):
    rng = np.random.default_rng(0)
    c, like = rng.standard_normal(c_shape), rng.standard_normal(like_shape)
    check_rule(runtime.unbroadcast, registry.lookup(runtime.unbroadcast).rule, [c, like], diff=[0])


@pytest.mark.parametrize("g_shape,like_shape,axis", [((), (3, 2), None), ((2,), (3, 2), 0), ((3,), (3, 2), 1)])
def test_unreduce_rule(g_shape, like_shape, axis):
    rng = np.random.default_rng(1)
    g, like = rng.standard_normal(g_shape), rng.standard_normal(like_shape)
    f = lambda g_in, like: runtime.unreduce(g_in, like, axis)  # noqa: E731
    rule = registry.lookup(runtime.unreduce).rule
    check_rule(f, lambda gg, ans, g_in, like_: rule(gg, ans, g_in, like_, axis)[:2], [g, like], diff=[0])


def test_elements_bar_rule():
    g, like = np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 2.0])
    check_rule(runtime.elements_bar, registry.lookup(runtime.elements_bar).rule, [g, like], diff=[0])
    assert runtime.elements_bar([1.0, 2.0], (3.0, 4.0)) == [1.0, 2.0]  # a tuple's cotangent is a list
    assert runtime.elements_bar([1.0], {"a": 2.0}) == {"a": 0.0}  # list(d) holds d's keys


def test_repeat_bar_sums_runs_of_copies_and_its_rule_repeats():
    g = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.5, -1.0, 2.0, 0.0, 1.0, 3.0]])
    counts = np.array([2, 0, 1, 3])
    expected = np.array([[3.0, 0.0, 3.0, 15.0], [-0.5, 0.0, 2.0, 4.0]])  # by hand: runs 1+2, -, 3, 4+5+6
    assert np.array_equal(runtime.repeat_bar(g, counts), expected)
    check_rule(runtime.repeat_bar, registry.lookup(runtime.repeat_bar).rule, [g, counts], diff=[0])


def test_writable_rule():
    spread = runtime.unreduce(2.0, np.zeros(5000))
    assert type(spread) is runtime.Spread and not spread.flags.writeable
    made = runtime.writable(spread)
    assert type(made) is np.ndarray and made.flags.writeable and np.array_equal(made, np.full(5000, 2.0))
    c = np.array([1.0, -2.0])
    assert runtime.writable(c) is c  # anything else: itself
    check_rule(runtime.writable, registry.lookup(runtime.writable).rule, [c])


def test_add_bars_rule():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    check_rule(runtime.add_bars, registry.lookup(runtime.add_bars).rule, [a, b])


@pytest.mark.parametrize(
    "c_shape,like_shape",
    [((3, 2), (2,)), ((1, 4), (3, 4)), ((1, 4), (3, 2, 4)), ((4,), (4,)), ((5, 1, 3), (2, 1)), ((1, 3), (2, 1, 1))],
)
def test_fit_shape_rule(c_shape, like_shape):
    # sums where c is wider, spreads where c has length 1 (an einsum operand's broadcast axis)
    rng = np.random.default_rng(0)
    c, like = rng.standard_normal(c_shape), rng.standard_normal(like_shape)
    assert np.shape(runtime.fit_shape(c, like)) == like_shape
    check_rule(runtime.fit_shape, registry.lookup(runtime.fit_shape).rule, [c, like], diff=[0])


@pytest.mark.parametrize(
    "subscripts, k, plan",
    [
        ("ij,jk->ik", 0, ("ik,jk->ij", "", False, True)),
        ("ij,jk->ik", 1, ("ik,ij->jk", "", False, True)),
        ("ij,jk->ik", 2, ("", "", False, False)),  # no third operand
        ("ij->ji", 0, ("", "ji->ij", False, True)),
        ("ii->i", 0, ("", "i,ia->ia", True, True)),  # the repeat gets a fresh index, tied to i by the mask
        ("ij,k->i", 0, ("i,k->i", "i,ij->ij", True, True)),  # j is summed over a alone
        ("ij,jk", 1, ("ik,ij->jk", "", False, True)),  # implicit output 'ik'
        ("...ij,jk->...ik", 1, ("...ik,...ij->...jk", "", False, True)),  # '...' kept: fit_shape sums it
        ("ij,jk,kl->il", 1, ("il,ij->lj", "lj,kl->jk", "", False, True)),
    ],
)
def test_einsum_plan(subscripts, k, plan):
    slots = len(plan) - 2
    assert runtime.einsum_plan(subscripts, k, slots) == plan


@pytest.mark.parametrize(
    "subscripts, k, shape, mask",
    [
        ("ii->", 0, (2, 2), np.eye(2, dtype=bool)),
        ("ij->", 0, (2, 3), np.ones((2, 3), dtype=bool)),
        ("...ii->...", 0, (4, 2, 2), np.broadcast_to(np.eye(2, dtype=bool), (4, 2, 2))),
        ("iji->j", 0, (2, 3, 2), np.eye(2, dtype=bool)[:, None, :] & np.ones((1, 3, 1), dtype=bool)),
    ],
)
def test_einsum_mask_is_the_diagonal_of_repeated_indices(subscripts, k, shape, mask):
    assert np.array_equal(runtime.einsum_mask(subscripts, k, shape), mask)


def test_einsum_plan_refuses_the_sublist_form_and_too_many_operands():
    with pytest.raises(NotImplementedError, match="sublist"):
        runtime.einsum_plan(np.ones(2), 0, 6)
    with pytest.raises(NotImplementedError, match="7 operands"):
        runtime.einsum_plan("a,a,a,a,a,a,a->", 0, 6)


@pytest.mark.parametrize(
    "bar, index, v",
    [
        (np.zeros((3, 2)), np.array([0, 2, 0]), np.arange(6.0).reshape(3, 2) - 2.5),  # repeated rows
        (np.ones(4), 1, 2.5),
        (np.zeros((2, 3)), (slice(None), 1), np.array([1.0, -2.0])),
        (np.zeros((3, 2)), np.array([1, 1]), np.array([0.5, -1.5])),  # v broadcast over the picked rows
    ],
)
def test_added_at_rule(bar, index, v):
    f = lambda b, v_: runtime.added_at(b, index, v_)  # noqa: E731
    rule = registry.lookup(runtime.added_at).rule
    check_rule(f, lambda g, ans, b, v_: rule(g, ans, b, index, v_)[::2], [bar, v])


@pytest.mark.parametrize(
    "bar, index, v",
    [
        (np.arange(6.0).reshape(3, 2) - 2.5, np.array([0, 2, 0]), np.arange(6.0).reshape(3, 2) - 1.5),  # repeated rows
        (np.arange(1.0, 5.0), [3, 1, 3, 3, 0], np.array([0.5, -1.5, 2.0, 0.0, 3.0])),  # thrice, a factor 0
        (np.arange(1.0, 5.0), [2, 2], np.array([0.0, 0.0])),  # two factors 0 at one position
        (np.ones(4) * 1.5, 1, 2.5),
        (np.arange(6.0).reshape(2, 3), (slice(None), 1), np.array([1.0, -2.0])),
        (np.arange(6.0).reshape(3, 2), np.array([1, 1]), np.array([0.5, -1.5])),  # v broadcast over the picked rows
    ],
)
def test_multiplied_at_rule(bar, index, v):
    # np.multiply.at: a repeated index multiplies again; each factor's cotangent the product of the others
    # (no division: exact where factors are 0)
    expected = bar.copy()
    np.multiply.at(expected, index, v)
    assert np.array_equal(runtime.multiplied_at(bar, index, v), expected)
    f = lambda b, v_: runtime.multiplied_at(b, index, v_)  # noqa: E731
    rule = registry.lookup(runtime.multiplied_at).rule
    check_rule(f, lambda g, ans, b, v_: rule(g, ans, b, index, v_)[::2], [bar, v])


@pytest.mark.parametrize(
    "bar, index, v",
    [
        (
            np.array([[0.3, -2.0], [1.1, 0.2], [-0.7, 0.9]]),
            np.array([0, 2, 0]),
            np.array([[0.5, -1.2], [0.1, 2.0], [1.4, -3.0]]),
        ),
        (np.array([0.25, 1.5, -2.0, 3.1]), [3, 1, 3, 3, 0], np.array([0.5, -1.5, 4.0, 2.2, 3.0])),  # thrice
        (np.array([0.25, 1.5, -2.0, 3.1]), 1, 2.5),
        (np.arange(6.0).reshape(2, 3) * 0.3, (slice(None), 1), np.array([1.0, -2.0])),
        (np.array([[0.3, -2.0], [1.1, 0.2], [-0.7, 0.9]]), np.array([1, 1]), np.array([0.5, -1.5])),  # v broadcast
    ],
)
@pytest.mark.parametrize("helper", [runtime.maximized_at, runtime.minimized_at, runtime.divided_at])
def test_maximized_minimized_divided_at_rules(helper, bar, index, v):
    # np.maximum.at / np.minimum.at: the value each position ends with gets its cotangent (no ties here: the
    # values are distinct); np.divide.at: a repeated index divides again
    ufunc = {runtime.maximized_at: np.maximum, runtime.minimized_at: np.minimum, runtime.divided_at: np.divide}[helper]
    expected = bar.copy()
    ufunc.at(expected, index, v)
    before = bar.copy()
    assert np.array_equal(helper(bar, index, v), expected) and np.array_equal(bar, before)
    f = lambda b, v_: helper(b, index, v_)  # noqa: E731
    rule = registry.lookup(helper).rule
    check_rule(f, lambda g, ans, b, v_: rule(g, ans, b, index, v_)[::2], [bar, v])


def test_added_at_on_dicts_and_lists_leaves_its_argument_alone():
    d, xs = {"a": 1.0, "b": 2.0}, [1.0, 2.0]
    assert runtime.added_at(d, "b", 3.0) == {"a": 1.0, "b": 5.0} and d == {"a": 1.0, "b": 2.0}
    assert runtime.added_at(xs, 0, 3.0) == [4.0, 2.0] and xs == [1.0, 2.0]
    assert registry.lookup(runtime.added_at).rule({"a": 7.0, "b": 9.0}, None, d, "b", 3.0)[2] == 9.0


def test_sorted_bar_and_sorted_dot_rules():
    xs = [3.0, -1.0, 2.0, 0.5]
    for reverse in (False, True):
        g = [1.0, 2.0, 3.0, 4.0]
        back = runtime.sorted_bar(g, xs, None, reverse)
        order = sorted(range(4), key=xs.__getitem__, reverse=reverse)
        assert [back[k] for k in order] == g  # each cotangent went back to its element's position
        assert runtime.sorted_dot(back, xs, None, reverse) == g  # and forward again
    zero = runtime.sorted_bar([0.0, 0.0], {"b": np.ones(2), "a": 1.0})  # sorted(d) lists d's keys
    assert zero["a"] == 0.0 and zero["b"].tolist() == [0.0, 0.0]


def test_set_elements_and_their_cotangents():
    items = [3.0, -1.0, 3.0, 0.5]
    listed = runtime.set_elements(items)
    assert listed == list(set(items))  # the set's own order
    positions = runtime.set_positions(items)
    assert sorted(positions) == [0, 1, 3]  # the duplicate 3.0 is the first one's
    g = [1.0, 2.0, 3.0]
    back = runtime.set_elements_bar(g, items)
    assert back[2] == 0.0 and [back[k] for k in positions] == g
    assert runtime.set_elements_dot(back, items) == g  # and forward again
    assert runtime.set_elements_bar([0.0], {"a": 1.0}) == {"a": 0.0}  # a dict's keys: no derivative
    assert runtime.set_elements_bar(g, np.array(items)).tolist() == back  # an array's is an array


@pytest.mark.parametrize("index, like", [(np.array([0, 2, 0]), np.zeros((3, 2))), (1, np.zeros(2)), (1, 0.0)])
def test_at_bar_rule(index, like):
    g = np.random.default_rng(2).standard_normal((3, 2))
    f = lambda g_in: runtime.at_bar(g_in, index, like)  # noqa: E731
    rule = registry.lookup(runtime.at_bar).rule
    check_rule(f, lambda c, ans, g_in: rule(c, ans, g_in, index, like)[0], [g])


@pytest.mark.parametrize("c_shape, x_shape", [((2, 3, 2), (2, 2)), ((2, 4, 3, 2), (2, 3, 2)), ((2, 2), (2, 2))])
def test_einsum_fit_and_unfit_rules(c_shape, x_shape):
    rng = np.random.default_rng(4)
    c, x = rng.standard_normal(c_shape), rng.standard_normal(x_shape)
    f = lambda c_: runtime.einsum_fit(c_, x, "j...k->jk", 0)  # noqa: E731
    rule = registry.lookup(runtime.einsum_fit).rule
    check_rule(f, lambda g, ans, c_: rule(g, ans, c_, x, "j...k->jk", 0)[0], [c])
    h = lambda g_: runtime.einsum_unfit(g_, c, "j...k->jk", 0)  # noqa: E731
    rule = registry.lookup(runtime.einsum_unfit).rule
    check_rule(h, lambda g, ans, g_: rule(g, ans, g_, c, "j...k->jk", 0)[0], [runtime.einsum_fit(c, x, "j...k->jk", 0)])


# ---- ho11c (issue #11): unjoin and rejoin, the joining and splitting functions' adjoints ----------------------
JOINS = [
    ("concatenate", np.concatenate, [(2,), (3,)], 0),
    ("concatenate", np.concatenate, [(2, 3), (4, 3)], 0),
    ("concatenate", np.concatenate, [(2, 3), (2, 1), (2, 2)], 1),
    ("concatenate", np.concatenate, [(2, 3), (2, 3)], -1),
    ("concatenate", np.concatenate, [(2, 3), (4,), (1, 1, 2)], None),
    ("stack", np.stack, [(3,), (3,)], 0),
    ("stack", np.stack, [(2, 3), (2, 3), (2, 3)], -1),
    ("stack", np.stack, [(2, 3), (2, 3)], 1),
    ("stack", np.stack, [(), (), ()], 0),
    ("hstack", np.hstack, [(3,), (4,)], 0),
    ("hstack", np.hstack, [(2, 3), (2, 1)], 0),
    ("hstack", np.hstack, [(), (2,), ()], 0),
    ("vstack", np.vstack, [(3,), (2, 3)], 0),
    ("vstack", np.vstack, [(), ()], 0),
    ("dstack", np.dstack, [(2, 3), (2, 3, 2)], 0),
    ("dstack", np.dstack, [(3,), (3,)], 0),
    ("dstack", np.dstack, [(), (1, 1)], 0),
    ("column_stack", np.column_stack, [(3,), (3, 2)], 0),
    ("column_stack", np.column_stack, [(2, 3), (2, 1), (2,)], 0),
]


def _join(how, join, arrays, axis):
    return join(arrays, axis) if how in ("concatenate", "stack") else join(arrays)


@pytest.mark.parametrize("how, join, shapes, axis", JOINS, ids=["%s-%s-%s" % (j[0], j[2], j[3]) for j in JOINS])
def test_unjoin_inverts_numpys_join_and_rejoin_is_its_adjoint(how, join, shapes, axis):
    rng = np.random.default_rng(11)
    arrays = [float(rng.standard_normal()) if s == () else rng.standard_normal(s) for s in shapes]
    joined = _join(how, join, arrays, axis)
    # unjoin of the joined array gives every array back, in its shape (NumPy's own join is the reference)
    back = runtime.unjoin(joined, arrays, how, axis)
    assert [np.shape(b) for b in back] == [np.shape(a) for a in arrays]
    for b, a in zip(back, arrays):
        np.testing.assert_array_equal(b, a)
    # rejoin of the arrays themselves is NumPy's join
    np.testing.assert_array_equal(runtime.rejoin(arrays, arrays, joined, how, axis), joined)
    # the dot-product test: <unjoin(g), h> == <g, rejoin(h)>, both linear
    g = rng.standard_normal(np.shape(joined))
    hs = [rng.standard_normal(np.shape(a)) for a in arrays]
    left = sum(np.sum(u * h) for u, h in zip(runtime.unjoin(g, arrays, how, axis), hs))
    assert left == pytest.approx(np.sum(g * runtime.rejoin(hs, arrays, joined, how, axis)), rel=1e-12)
    # and the registered rules say so
    cot = registry.lookup(runtime.unjoin).rule(hs, None, g, arrays, how, axis)
    np.testing.assert_array_equal(cot[0], runtime.rejoin(hs, arrays, g, how, axis))
    assert cot[1:] == (None, None, None)
    cots = registry.lookup(runtime.rejoin).rule(g, None, hs, arrays, joined, how, axis)
    for c, u in zip(cots[0], runtime.unjoin(g, arrays, how, axis)):
        np.testing.assert_array_equal(c, u)
    assert registry.linearity(runtime.unjoin) == registry.linearity(runtime.rejoin) == "first"


def test_rejoin_takes_a_zero_or_none_for_a_piece_that_reached_nothing():
    arrays = [np.zeros((2, 1)), np.zeros((2, 2))]
    out = runtime.rejoin([0.0, np.ones((2, 2))], arrays, np.zeros((2, 3)), "concatenate", 1)
    assert out.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    assert runtime.rejoin([None, 2.0], arrays, np.zeros((2, 3)), "concatenate", 1).tolist() == [[0.0, 2.0, 2.0]] * 2


def test_numbered_numbers_the_elements_in_order():
    ids = runtime.numbered([np.zeros((2, 2)), 1.0, np.zeros(3)], 1)
    assert [i.tolist() for i in ids] == [[[1, 2], [3, 4]], 5, [6, 7, 8]]
    assert runtime.sizes_of([np.zeros((2, 2)), 1.0]).tolist() == [4, 1]


def test_spacing_bar_rule():
    # np.gradient's adjoint in its spacing h, -sum(g ans) / h, differentiated again (hvp): its own rule
    rng = np.random.default_rng(3)
    args = [rng.standard_normal(4), rng.standard_normal(4), 0.7]
    check_rule(runtime.spacing_bar, registry.lookup(runtime.spacing_bar).rule, args, diff=[0, 1, 2])


def test_gradient_helper_rules():
    # np.gradient's adjoint in f, gradient_bar (linear in g), its tangent helpers gradient_of (np.gradient with
    # its spacings named) and structured_times/structured_inner: each rule against central differences
    rng = np.random.default_rng(4)
    f = rng.standard_normal((4, 3))
    ans = np.gradient(f, 0.7, edge_order=2)  # a list of two arrays: the cotangent of each
    gs = [rng.standard_normal((4, 3)) for _ in ans]

    def bar_of(g0, h):
        return runtime.gradient_bar([g0, gs[1]], ans, f, None, 2, h)

    rule = registry.lookup(runtime.gradient_bar).rule
    check_rule(
        bar_of,
        lambda c, out, g0, h: (
            rule(c, out, [g0, gs[1]], ans, f, None, 2, h)[0][0],
            rule(c, out, [g0, gs[1]], ans, f, None, 2, h)[5],
        ),
        [gs[0], 0.7],
        diff=[0, 1],
    )
    rule = registry.lookup(runtime.gradient_of).rule
    check_rule(
        lambda x, h: runtime.gradient_of(x, 1, 1, h),
        lambda c, out, x, h: rule(c, out, x, 1, 1, h)[0:4:3],
        [f, 0.7],
        diff=[0, 1],
    )
    a, b = [rng.standard_normal(3), rng.standard_normal(3)], 0.3
    times = registry.lookup(runtime.structured_times).rule
    check_rule(
        lambda x, y, c: runtime.structured_times([x, y], c)[0] + 2 * runtime.structured_times([x, y], c)[1],
        lambda g, out, x, y, c: (
            times([g, 2 * g], None, [x, y], c)[0][0],
            times([g, 2 * g], None, [x, y], c)[0][1],
            times([g, 2 * g], None, [x, y], c)[1],
        ),
        [a[0], a[1], b],
        diff=[0, 1, 2],
    )
    inner = registry.lookup(runtime.structured_inner).rule
    check_rule(
        lambda x, y: runtime.structured_inner([x, 1.0], [y, y]),
        lambda g, out, x, y: (
            inner(g, out, [x, 1.0], [y, y])[0][0],
            inner(g, out, [x, 1.0], [y, y])[1][0] + inner(g, out, [x, 1.0], [y, y])[1][1],
        ),
        [a[0], a[1]],
        diff=[0, 1],
    )


@pytest.mark.parametrize(
    "shape, width, mode, stat",
    [
        ((5,), 2, "mean", None),
        ((3, 4), ((1, 2), (0, 3)), "mean", ((1, 2), (3, 1))),
        ((2, 3, 2), 1, "mean", 1),
        ((4,), (2, 3), "linear_ramp", None),
        ((3, 4), ((1, 2), (2, 0)), "linear_ramp", None),
    ],
)
def test_pad_linear_and_its_transpose(shape, width, mode, stat):
    # np13p: pad_linear is np.pad's part linear in the array (mode 'mean', or 'linear_ramp' to end values 0), and
    # pad_linear_bar its transpose: <g, pad_linear(v)> == <pad_linear_bar(g), v>; each rule is the other helper
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    kw = {"stat_length": stat} if mode == "mean" else {}
    assert np.array_equal(runtime.pad_linear(x, width, mode, stat), np.pad(x, width, mode=mode, **kw))
    g = rng.standard_normal(np.shape(runtime.pad_linear(x, width, mode, stat)))
    bar = runtime.pad_linear_bar(g, x, width, mode, stat)
    assert bar.shape == x.shape
    assert np.isclose(np.sum(g * runtime.pad_linear(x, width, mode, stat)), np.sum(bar * x), rtol=1e-12)
    check_rule(
        runtime.pad_linear,
        registry.lookup(runtime.pad_linear).rule,
        [x, width, mode, stat],
        diff=[0],
    )
    check_rule(
        runtime.pad_linear_bar,
        registry.lookup(runtime.pad_linear_bar).rule,
        [g, x, width, mode, stat],
        diff=[0],
    )
