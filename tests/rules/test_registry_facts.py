"""Walks the registry: the facts stated on rule registrations hold of the functions they describe."""

import math
import operator

import numpy as np
import pytest

from adjoint_compiler import runtime
from adjoint_compiler.rules import nondiff, np_elementwise, np_shape, py_builtins, registry


def test_every_method_and_attribute_resolves_to_a_registered_rule():
    facts = list(registry.declared_methods().items()) + list(registry.declared_attributes().items())
    assert facts
    for name, fn in facts:
        rule = registry.lookup(fn)
        assert rule is not None and rule.inline, (name, fn)
        assert hasattr(np.ndarray, name), name  # x.<name> exists


def test_every_nondifferentiable_method_calls_a_declared_function():
    # np13h: x.argmax(), x.round() ... as np.argmax(x), np.round(x): no rule, a declaration
    facts = registry.nondifferentiable_methods()
    assert {"round", "argmax", "argmin", "argsort", "searchsorted", "argpartition", "nonzero"} <= set(facts)
    for name, fn in facts.items():
        assert registry.is_nondifferentiable(fn) and registry.lookup(fn) is None, (name, fn)
        assert registry.method_function(name) is fn and name not in registry.declared_methods()
        assert hasattr(np.ndarray, name), name  # x.<name> exists


def test_nondifferentiable_attributes_are_ndarray_attributes():
    for name in ("shape", "size", "ndim", "dtype", "itemsize", "nbytes"):
        assert registry.is_nondifferentiable_attribute(name) and hasattr(np.ndarray, name)
    assert not registry.is_nondifferentiable_attribute("T")


def test_reductions_give_scalars_without_an_axis():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    reducers = [fn for fn in registry.all_rules() if registry.shape_class(fn) == "reduce"]
    names = {"amax": "max", "amin": "min"}  # NumPy 1.x's np.max is np.amax
    assert {names.get(f.__name__, f.__name__) for f in reducers} == {"sum", "mean", "prod", "max", "min"}
    for fn in reducers:
        assert np.ndim(fn(x)) == 0, fn


A = np.arange(24.0).reshape(2, 3, 4)
C = A + 1j
# how to call each function declared a view, on a small array; its result must share A's memory
VIEW_CALLS = {
    np.reshape: lambda: np.reshape(A, (6, 4)),
    np_shape.reshape_newshape: lambda: np_shape.reshape_newshape(A, (6, 4)),
    np_elementwise.asarray_cast: lambda: np_elementwise.asarray_cast(A, A.dtype),  # (rules19: no cast, A itself)
    np.ravel: lambda: np.ravel(A),
    np.expand_dims: lambda: np.expand_dims(A, 0),
    np.squeeze: lambda: np.squeeze(A[:1]),
    np.transpose: lambda: np.transpose(A),
    np.swapaxes: lambda: np.swapaxes(A, 0, 2),
    np.moveaxis: lambda: np.moveaxis(A, 0, -1),
    np.flip: lambda: np.flip(A),
    np.broadcast_to: lambda: np.broadcast_to(A, (2, 2, 3, 4)),
    np.asarray: lambda: np.asarray(A),
    np.asanyarray: lambda: np.asanyarray(A),
    np.ascontiguousarray: lambda: np.ascontiguousarray(A),
    np.asfortranarray: lambda: np.asfortranarray(A[0, 0]),
    np.asarray_chkfinite: lambda: np.asarray_chkfinite(A),
    np.require: lambda: np.require(A),
    np.broadcast_arrays: lambda: np.broadcast_arrays(A, 1.0)[0],
    np.rollaxis: lambda: np.rollaxis(A, 2),
    np.atleast_1d: lambda: np.atleast_1d(A),
    np.atleast_2d: lambda: np.atleast_2d(A),
    np.atleast_3d: lambda: np.atleast_3d(A),
    np.diagonal: lambda: np.diagonal(A),
    np.split: lambda: np.split(A, 2)[0],
    np.array_split: lambda: np.array_split(A, 2)[0],
    np.hsplit: lambda: np.hsplit(A, 3)[0],
    np.vsplit: lambda: np.vsplit(A, 2)[0],
    np.dsplit: lambda: np.dsplit(A, 2)[0],
    np.real: lambda: np.real(A),
    np.imag: lambda: np.imag(C),  # of a real array, a new array of zeros
    np.fliplr: lambda: np.fliplr(A),
    np.flipud: lambda: np.flipud(A),
    np.rot90: lambda: np.rot90(A),
    np.trim_zeros: lambda: np.trim_zeros(A[0, 0]),
    np.ndarray: lambda: np.ndarray((24,), buffer=A),
    np.lib.stride_tricks.sliding_window_view: lambda: np.lib.stride_tricks.sliding_window_view(A, (2, 2, 2)),  # rules24
}
if hasattr(np, "matrix_transpose"):  # NumPy >= 2.0
    VIEW_CALLS[np.matrix_transpose] = lambda: np.matrix_transpose(A)
    VIEW_CALLS[np.linalg.matrix_transpose] = lambda: np.linalg.matrix_transpose(A)  # rules22
    VIEW_CALLS[np.linalg.diagonal] = lambda: np.linalg.diagonal(A)
if hasattr(np, "unstack"):  # NumPy >= 2.1
    VIEW_CALLS[np.unstack] = lambda: np.unstack(A)[0]
# declared by name: attributes and methods of an ndarray, or spellings with no function of that __name__
MAY_VIEW = {
    "T": lambda: A.T,
    "mT": lambda: A.mT if hasattr(A, "mT") else A,
    "flat": None,  # an iterator over A
    "base": lambda: A[1:].base,
    "view": lambda: A.view(),
    "permute_dims": lambda: getattr(np, "permute_dims", np.transpose)(A),
    "lib": None,  # np.lib.stride_tricks.as_strided(...)
    "get": None,  # d.get(k): an element of a container, the element itself
}


def test_every_view_declaration_is_a_view():
    for fn in registry.declared_views():
        if isinstance(fn, str):
            assert fn in MAY_VIEW, fn
            call = MAY_VIEW[fn]
        else:
            assert fn in VIEW_CALLS, fn
            call = VIEW_CALLS[fn]
        if call is not None:
            assert np.shares_memory(call(), A) or np.shares_memory(call(), C), fn


def test_view_names_are_the_declared_functions_names():
    names = registry.view_names()
    assert {"reshape", "transpose", "asarray", "T"} <= names
    assert all(registry.is_view_name(n) for n in names)
    assert not registry.is_view_name("copy") and not registry.is_view(np.copy) and registry.is_view(np.reshape)


def _floats(n=None):
    return lambda rng: rng.uniform(-5.0, 5.0, size=n) if n else float(rng.uniform(-5.0, 5.0))


# How to call each declared function at a random point: (arguments from an rng; the first is moved).
# Every declaration must have an entry here, or be in NO_POINTS with its reason.
_ARRAY = _floats(4)
_UNARY_FLOAT = [int, round, bool, math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.ulp]
_UNARY_ARRAY = [np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.sign, np.isnan, np.isinf, np.isfinite]
_UNARY_ARRAY += [np.argmax, np.argmin, np.argsort, np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, len]
_UNARY_ARRAY += [np.spacing]  # (rules24: a power of two, constant between powers of two)
_BINARY = [
    operator.lt,
    operator.le,
    operator.eq,
    operator.ne,
    operator.ge,
    operator.gt,
    operator.floordiv,
    np.floor_divide,
    math.isclose,
]
_BINARY += [np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal]  # rules24
_BINARY += [np.logical_and, np.logical_or, np.logical_xor]
_UNARY_ARRAY += [np.logical_not, np.signbit]
CALLS = {fn: (lambda rng: (_floats()(rng),)) for fn in _UNARY_FLOAT + [operator.not_]}
CALLS.update({fn: (lambda rng: (_ARRAY(rng),)) for fn in _UNARY_ARRAY})
CALLS.update({fn: (lambda rng: (_floats()(rng), _floats()(rng))) for fn in _BINARY})
CALLS[isinstance] = lambda rng: (_floats()(rng), float)
CALLS[np.arange] = lambda rng: (float(rng.uniform(1.0, 9.0)),)  # its length jumps at integers only
CALLS[runtime.zeros_like] = lambda rng: (_ARRAY(rng),)
CALLS[runtime.one_count] = lambda rng: (_ARRAY(rng),)
try:  # declared in rules/scipy_special.py, once SciPy's special functions are imported
    import scipy.special as _scipy_special
except ImportError:
    pass
else:
    CALLS[_scipy_special.gammasgn] = lambda rng: (_ARRAY(rng),)  # jumps at 0, -1, -2, ... only
NO_POINTS = {
    range: "takes integers only: there is no float point to move",
    **{
        fn: "takes a shape or a size (integers): there is no float point to move"
        for fn in (np.ones, np.eye, np.identity, np.tri, np.indices, np.diag_indices, np.tril_indices, np.triu_indices)
    },
    **{
        fn: "takes integers only: there is no float point to move"
        for fn in (math.factorial, math.comb, math.perm, math.gcd, math.lcm, math.isqrt, py_builtins.pow_mod)
    },
    # runtime helpers of emitted code (runtime_rules.py): bookkeeping of checks, shapes and subscripts, or
    # of the adjoint buffers of in-place updates, which appear only where grad of grad is refused
    **{
        fn: "runtime bookkeeping of emitted code (runtime_rules.py)"
        for fn in registry.nondifferentiable_functions()
        if getattr(fn, "__module__", None) == runtime.__name__
        and fn is not runtime.zeros_like
        and fn is not runtime.one_count
    },
}


@pytest.mark.parametrize(
    "fn",
    list(registry.nondifferentiable_functions()),
    ids=lambda f: "%s.%s" % (getattr(f, "__module__", None), f.__name__),
)
def test_nondifferentiable_function_has_zero_derivative_almost_everywhere(fn):
    # central differences of the result (as floats) along random directions, at random points: exactly 0
    assert registry.nondifferentiable_functions()[fn], fn  # a reason is given
    if fn in NO_POINTS:
        assert fn not in CALLS
        return
    assert fn in CALLS, "%s is declared non-differentiable: add how to call it to CALLS (or NO_POINTS)" % fn
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(5):
        args = CALLS[fn](rng)
        d = rng.standard_normal(np.shape(args[0])) if np.ndim(args[0]) else 1.0
        ends = [np.asarray(fn(args[0] + t * d, *args[1:]), dtype=float) for t in (h, -h)]
        assert np.shape(ends[0]) == np.shape(ends[1]), (fn, args)
        assert np.all((ends[0] - ends[1]) / (2 * h) == 0.0), (fn, args)


@pytest.mark.parametrize(
    "fn", [r.fn for r in registry.all_rules().values() if r.masked_rule is not None], ids=lambda fn: fn.__name__
)
def test_masked_variants_guard_the_plain_body(fn):
    rule = registry.lookup(fn)
    x = np.array([0.25, 0.5])
    g = np.array([1.0, 0.0])
    if len(rule.params) == 1:
        masked, plain = rule.masked_rule.rule(g, fn(x), x), rule.rule(g, fn(x), x)
        np.testing.assert_array_equal(masked, np.where(g == 0.0, 0.0, plain))
        return
    # x * y, x / y, x ** y: each operand's contribution guarded (operands of the result's shape: no sums)
    y = np.array([1.5, 2.0])
    for masked, plain in zip(rule.masked_rule.rule(g, fn(x, y), x, y), rule.rule(g, fn(x, y), x, y)):
        np.testing.assert_array_equal(masked, np.where(g == 0.0, 0.0, plain))


def test_every_form_is_differentiated_as_a_function_with_a_rule_or_a_declaration():
    forms = registry.declared_forms()
    assert {max, min, pow, math.hypot} <= set(forms)
    for fn, variants in forms.items():
        for count, keywords, variant in variants:
            assert count is not None or keywords, fn
            assert registry.lookup(variant) is not None or registry.is_nondifferentiable(variant), (fn, variant)
            assert registry.call_form(fn, count, keywords) is variant
    assert registry.call_form(pow, 2) is pow and registry.call_form(pow, 2, ["mod"]) is py_builtins.pow_mod


# ---- np.linalg (task linalg13) -------------------------------------------------------------------------
CALLS[np.linalg.matrix_rank] = lambda rng: (rng.standard_normal((3, 4)),)  # an integer: constant almost everywhere
# ---- shape13 ----
CALLS[np.argpartition] = lambda rng: (_ARRAY(rng), 1)
VIEW_CALLS[np.meshgrid] = lambda: np.meshgrid(A[0, 0], A[0, :, 0], copy=False)[0]

# reduce13 (issue #13): how to call the functions declared in nondiff.py's issue-13 block
CALLS[np.searchsorted] = lambda rng: (np.sort(_ARRAY(rng)), _ARRAY(rng))
CALLS[np.digitize] = lambda rng: (_ARRAY(rng), np.array([-1.0, 0.0, 2.0]))
CALLS[np.argpartition] = lambda rng: (_ARRAY(rng), 1)
CALLS.update({fn: (lambda rng: (_ARRAY(rng), _ARRAY(rng))) for fn in (np.allclose, np.array_equal, np.array_equiv)})
CALLS[np.isclose] = lambda rng: (_ARRAY(rng), _ARRAY(rng))
CALLS.update(
    {
        fn: (lambda rng: (_ARRAY(rng),))
        for fn in (np.nonzero, np.argwhere, nondiff.where_indices, np.isposinf, np.isneginf, np.count_nonzero, np.fix)
    }
)
NO_POINTS[np.empty_like] = "its values are whatever memory held: only its shape is defined"
