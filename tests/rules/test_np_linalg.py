"""Table-driven checks of the product and np.linalg adjoint rules: 1-d, 2-d, scalar and stacked operands."""

import inspect
from typing import NamedTuple

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import pipeline
from adjoint_compiler.rules import np_linalg, registry
from adjoint_compiler.testing import check_grads, check_rule
from tests.rules.test_rule_bodies import assert_inlinable, assert_table_is_the_module

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
INNER = [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((), (3,)), ((2, 3), ()), ((2, 2, 3), (4, 3))]
SQUARE = [((3, 3),), ((1, 1),), ((2, 4, 4),)]

TABLE = (
    _rows(np.matmul, MATMUL)
    + _rows(np.dot, DOT)
    + _rows(np.outer, OUTER)
    + _rows(np.inner, INNER)
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
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
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


def _all_cotangents(fn, g, ans, args, kwargs):
    """Every cotangent the rule returns, one per rule parameter; those that get none are checked to be None."""
    rule = registry.lookup(fn)
    cots = rule.rule(g, ans, *args, **kwargs)
    cots = (cots,) if len(rule.params) == 1 else tuple(cots)
    assert len(cots) == len(rule.params)
    for i, c in enumerate(cots):
        if i >= len(args) or not isinstance(args[i], (float, np.ndarray)):
            assert c is None, (rule, i)
    return cots


def _check(row, seed, rtol=1e-5):
    rng = np.random.default_rng(seed)
    args = [a[0](rng, a[1]) if isinstance(a, tuple) else a for a in row.args]
    n = len(args)

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


def test_table_and_module_list_the_same_rules():
    assert_table_is_the_module(TABLE_FNS, np_linalg)


@pytest.mark.parametrize("fn", [f for f in TABLE_FNS if f is not np.einsum], ids=lambda f: f.__name__)
def test_parameters_follow_numpy_names_and_order(fn):
    # The compiler binds call-site keywords by name and positions by order.
    params = registry.lookup(fn).params
    try:
        signature = inspect.signature(fn)
    except ValueError:  # NumPy 1.x gives its C functions (np.dot, np.matmul, ...) no signature
        pytest.skip("this NumPy gives %s no signature" % fn.__name__)
    numpy_params = [p for p in signature.parameters if p in params]
    assert list(params) == numpy_params


def test_einsum_parameters():
    # np.einsum(subscripts, *operands, optimize=...): each of up to six operands gets a name of its own
    assert registry.lookup(np.einsum).params == ("subscripts", "a", "b", "c", "d", "e", "f", "optimize")


# ---- the rule bodies must be inlinable ------------------------------------------


def test_rule_bodies_are_inlinable():
    # the shared check (its ALLOWED_GLOBALS also keeps builtins such as len out: templates.py would
    # look them up in the rule's module globals); run here too, as this module's rules are registered
    # only where it is imported
    for r in registry.all_rules().values():
        if r.origin == np_linalg.__name__:
            assert_inlinable(r.rule, np_linalg)


def test_compiler_accepts_rules():
    templates = pytest.importorskip("adjoint_compiler.templates")
    for r in registry.all_rules().values():
        if r.origin == np_linalg.__name__:
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


def test_einsum_of_more_operands_than_the_rule_takes_is_a_located_compile_error():
    with pytest.raises(ac.CompileError, match=r"test_np_linalg\.py:\d+:\d+: .*einsum.*7 operands"):
        ac.grad(f_einsum_seven)(np.ones(2))


def test_einsum_sublist_form_raises_a_clear_error_at_run_time():
    with pytest.raises(NotImplementedError, match="sublist"):
        ac.grad(f_einsum_sublist)(np.ones((2, 2)))


def test_einsum_with_literal_subscripts_emits_only_the_einsums():
    # the plans are evaluated at compile time: no einsum_plan call and no conditional is left
    src = ac.adjoint_source(f_einsum, wrt=(0, 1)).split("def f_einsum_grad")[1]
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
        (rayleigh, [(3, 3), (3,)], ["np.outer(x_1, ", "A_1 @ "], ["expand_dims"]),
        (rank_one, [(3,), (4,), ()], ["np.outer(", ".T @ "], ["expand_dims"]),
        (scaled, [(), (2, 3)], ["np.sum(", " * s"], ["tensordot"]),
        (stacked, [(2, 3, 4), (4,)], ["expand_dims"], []),
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
