"""Random programs over every registered adjoint rule, with the parameters of the rule tables.

Every function with a built-in rule (``adjoint_compiler/rules``) is in ``VOCABULARY``, with the
calls the table-driven tests of ``tests/rules/`` check one at a time: the same shapes, axes,
``keepdims``, ``ddof``, ``ord``, ``order``, einsum subscripts, reps, shifts ... (read from those
tables, not copied), and the same domains (``tests/rules/domains.py``). A program chains 2-6 such
calls, each of a function drawn uniformly from the vocabulary (so that ``np.exp2`` comes up as
often as ``np.einsum``) and then one of its table cases:

* the operands are earlier values (parameters of shapes (), (3,), (4,), (2, 3), (3, 4), (2, 3, 4),
  or results of earlier calls) brought to the case's shape by ``np.ravel``, slicing, ``np.tile``,
  ``np.reshape`` and ``np.broadcast_to`` (rules too), then into the case's domain: ``mid + half *
  np.sin(e)`` for ``uniform(lo, hi)``, the same times alternating signs for ``away(lo, hi)``,
  ``3 I + 0.3 sin(e)`` for the well-conditioned matrices of solve/inv/det/slogdet;
* ndarray methods and attributes stand for their function half of the time (``v.sum(axis=1)``,
  ``v.T``, ``a.dot(b)``), operators for ``operator.*`` (``a ** b``, ``a % b``, ``-a``, ``+a``),
  list and tuple displays for the sequences of ``np.concatenate``/``np.stack``/``hstack``/``vstack``;
* between calls, element-wise arithmetic with broadcasting (``v3 = v1 * v2[..., 1:]``-like
  combinations of values of broadcastable shapes) and a few non-differentiable functions
  (``np.floor``, ``np.sign``, ``np.argmax`` as an index, ...), which must give no derivative.

``f`` returns ``sum(np.sum(v * W))`` over the last values, ``W`` fixed weights that tell the
positions apart (a plain sum would not see a permutation go wrong); ``alt_ret`` (checked with
``vjp`` and a random cotangent) returns the last array. The oracle compares with central
differences and, where autograd is installed and can run the program, with autograd.

``EXCLUDED`` lists the registered functions the vocabulary leaves out, with the reason;
``tests/rules/test_vocabulary.py`` fails when a registered function is in neither.
"""

import cmath
import math
import operator
import statistics

import numpy as np

from adjoint_compiler import runtime
from adjoint_compiler.rules import np_elementwise, np_linalg, np_reductions, np_shape, py_builtins, registry
from tests.fuzz import oracle
from tests.fuzz.model import Case, Function, Program, bin_, call, const, expr, raw, var
from tests.rules import test_np_elementwise as T_ELEM
from tests.rules import test_np_linalg as T_LINALG
from tests.rules import test_np_reductions as T_RED
from tests.rules import test_np_shape as T_SHAPE
from tests.rules import test_operators as T_OPS
from tests.rules import test_py_builtins as T_BUILTINS
from tests.rules import test_py_math as T_MATH
from tests.rules.domains import Domain

NAME = "rules"
SPEC = oracle.Spec(single_wrt=True, scalar_vjp=True, same_rtol=1e-12, autograd=True)

PARAM_NAMES = ("x", "y", "z")
PARAM_SHAPES = [(), (3,), (4,), (2, 3), (3, 4), (2, 3, 4)]

# Registered functions the vocabulary leaves out, and why.
EXCLUDED = {
    runtime.unbroadcast: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.cotangent_where: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.fit_shape: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.unreduce: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.add_bars: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.writable: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.elements_bar: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.list_bar: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.repeated_bar: "a runtime helper of emitted code (its rule serves second-order gradients), not user API",
    runtime.tiled: "a runtime helper of repeated_bar's rule (its rule serves third-order gradients), not user API",
    runtime.repeat_bar: "a runtime helper of np.repeat's adjoint (its rule serves second order), not user API",
    runtime.gather: "a runtime helper of sorted's rule (its rule serves second-order gradients), not user API",
    runtime.polygamma: "a runtime helper of math.gamma's and lgamma's rules (for second order), not user API",
    runtime.bessel_i1: "a runtime helper of np.i0's rules (for second order), not user API",
    runtime.added_at: "what emitted code's add_at becomes when that code is differentiated again, not user API",
    runtime.multiplied_at: "what np.multiply.at becomes (desugar.py; tests/test_numpy_writers.py), not user API",
    runtime.maximized_at: "what np.maximum.at becomes (desugar.py; tests/test_numpy_writers.py), not user API",
    runtime.minimized_at: "what np.minimum.at becomes (desugar.py; tests/test_numpy_writers.py), not user API",
    runtime.divided_at: "what np.divide.at becomes (desugar.py; tests/test_numpy_writers.py), not user API",
    runtime.at_bar: "a runtime helper of added_at's rule (its rule serves third-order gradients), not user API",
    runtime.sorted_bar: "a runtime helper of sorted's rule (its rule serves second-order gradients), not user API",
    runtime.sorted_dot: "a runtime helper of sorted's tangent rule (for second order), not user API",
    runtime.set_elements: "what a set read only by sum, min, max, len, sorted or in becomes (desugar.sets)",
    runtime.set_elements_bar: "a runtime helper of set_elements's rule (for second order), not user API",
    runtime.set_elements_dot: "a runtime helper of set_elements's tangent rule (for second order), not user API",
    runtime.sorted_in_place: "what xs.sort() / a.sort() in place becomes (anf), not user API",
    runtime.sorted_in_place_bar: "a runtime helper of sorted_in_place's rule (for second order), not user API",
    runtime.sorted_in_place_dot: "a runtime helper of sorted_in_place's tangent rule (for second order), not user API",
    runtime.structure: "what a NamedTuple built in the function becomes (specialise.structures), not user API",
    runtime.structure_fields: "what a read of a dataclass field built in the function becomes (specialise.structures)",
    runtime.loop_keys: "what a loop over a dict's keys walks (anf.for_loop), not user API",
    runtime.loop_keys_dot: "a runtime helper of loop_keys's tangent rule (for second order), not user API",
    runtime.matmul_bar1: "a runtime helper of np.matmul's rule (its rule serves second-order gradients), not user API",
    runtime.matmul_bar2: "a runtime helper of np.matmul's rule (its rule serves second-order gradients), not user API",
    runtime.dot_bar1: "a runtime helper of np.dot's rule (its rule serves second-order gradients), not user API",
    runtime.dot_bar2: "a runtime helper of np.dot's rule (its rule serves second-order gradients), not user API",
    runtime.quantile_spread: "a runtime helper of np.quantile's rules (its rule serves second order), not user API",
    runtime.quantile_gather: "a runtime helper of np.quantile's rules (its rule serves second order), not user API",
    runtime.prod_bar: "a runtime helper of np.prod's rules (its rule serves second order), not user API",
    runtime.nanmedian_spread: "a runtime helper of np.nanmedian's rules (its rule serves second order), not user API",
    runtime.nanmedian_gather: "a runtime helper of np.nanmedian's rules (its rule serves second order), not user API",
    runtime.prod_cross: "a runtime helper of np.prod's second-order rules (its rule serves third order), not user API",
    runtime.centered: "a runtime helper of scipy.signal's rules (its rule serves second order), not user API",
    runtime.centered_pad: "a runtime helper of scipy.signal's rules (its rule serves second order), not user API",
    runtime.moved_back: "a runtime helper of np.sort's rule (its rule serves second order), not user API",
    runtime.trace_bar: "a runtime helper of np.trace's rule (its rule serves second order), not user API",
    runtime.power_bar: "a runtime helper of np.linalg.matrix_power's rules (for second order), not user API",
    runtime.cumprod_ratio: "a runtime helper of np.cumprod's rules (for second order), not user API",
    runtime.norm_sums_bar: "a runtime helper of np.linalg.norm's rule (its rule serves second order), not user API",
    runtime.expm_frechet_of: "a runtime helper of scipy.linalg.expm's rules (for second order), not user API",
    runtime.einsum_fit: "a runtime helper of np.einsum's rule (its rule serves second-order gradients), not user API",
    runtime.einsum_unfit: "a runtime helper of einsum_fit's rule (for third order), not user API",
    runtime.element_value: "the check aliasing puts after t = a[i] kept while a changes (a swap), not user API",
    runtime.rule_cotangents: "the check of a register_adjoint rule's result (its adjoint refuses), not user API",
    runtime.spacing_bar: "a runtime helper of np.gradient's rule (its rule serves second order), not user API",
    runtime.multi_dot_bars: "a runtime helper of np.linalg.multi_dot's rule (for second order), not user API",
    np.roots: "random coefficients mostly have complex roots (refused when run); its table rows are given points",
    runtime.multi_dot_dot: "a runtime helper of multi_dot_bars' rule (for second order), not user API",
    runtime.multi_dot_bars_dot: "a runtime helper of multi_dot_bars' rules (for second order), not user API",
    runtime.cofactors: "a runtime helper of np.linalg.det's rules (its gradient, for second order), not user API",
    runtime.cofactors_dot: "a runtime helper of cofactors' rules (det's Hessian), not user API",
    runtime.triangular_inverse: "a runtime helper of np.linalg.cholesky's rules (L^-1, for second order), not user API",
    runtime.lu_inverse: "a runtime helper of np.linalg.slogdet's rules (A^-1, for second order), not user API",
    runtime.phi_congruence: "a runtime helper of np.linalg.cholesky's adjoint (for second order), not user API",
    runtime.cholesky_bar: "a runtime helper of np.linalg.cholesky's adjoint (for second order), not user API",
    runtime.odeint_bars: "a runtime helper of scipy.integrate.odeint's adjoint (its rules refuse), not user API",
    runtime.odeint_dot: "a runtime helper of scipy.integrate.odeint's tangent (its rules refuse), not user API",
    runtime.extremum_bar: "a runtime helper of np.max's adjoint (its rule serves second order), not user API",
    runtime.extremum_dot: "a runtime helper of np.max's tangent (its rule serves second order), not user API",
    runtime.pad_linear: "np.pad's tangent in modes mean / linear_ramp (its rule serves second order), not user API",
    runtime.pad_linear_bar: "np.pad's adjoint in modes mean / linear_ramp (its rule serves second order), not user API",
    runtime.fft_fit: "a runtime helper of np.fft's rules (n= and s= cut or pad: for second order), not user API",
    runtime.real_cotangent: "the check of a rule for real numbers in code making complex values, not user API",
    runtime.rfft_bar: "a runtime helper of np.fft.rfft's rules (its transpose: for second order), not user API",
    runtime.irfft_bar: "a runtime helper of np.fft.irfft's rules (its transpose: for second order), not user API",
    runtime.sign_times: "a runtime helper of np.linalg.norm's rules at ord 1 (for second order), not user API",
    runtime.conj_times: "a runtime helper of np.var's and np.linalg.norm's rules (for second order), not user API",
    runtime.gradient_bar: "a runtime helper of np.gradient's rule (its rule serves second order), not user API",
    runtime.gradient_of: "a runtime helper of np.gradient's tangent rule (its rule serves second order), not user API",
    runtime.structured_times: "a helper of np.gradient's tangent rule (its rule serves second order), not user API",
    runtime.structured_inner: "a runtime helper of structured_times' rule (its rule serves second order), not user API",
    runtime.unjoin: "a runtime helper of the joining functions' rules (np.concatenate ...), not user API",
    runtime.rejoin: "a runtime helper of the splitting functions' rules (np.split ...), not user API",
    runtime.own: "the copy desugar makes of an argument the function stores into (test_inplace.py), not user API",
    runtime.own_updated: "the copy desugar makes of a parameter changed by x op= y, not user API",
    np_linalg.einsum_of_many: "np.einsum of more than six operands (a registry.form): its table rows, not drawn",
    # (dtypes13) the variant np.reshape(x, newshape=...) is differentiated as; NumPy 2.4 removed that keyword
    np_shape.reshape_newshape: "np.reshape's newshape= keyword, gone in NumPy 2.4 (tests/test_methods.py)",
    # (rules19) the variants np.array and np.asarray with dtype=, order=, ndmin= or copy= are differentiated as
    np_elementwise.array_cast: "np.array with a dtype or layout (a registry.form; tests/rules/test_np_elementwise.py)",
    np_elementwise.asarray_cast: "np.asarray with a dtype or layout (a registry.form; tests/rules/test_np_elementwise)",
}
# complex18: the fuzzer draws real values; cmath's functions of them make complex values from real arguments only
EXCLUDED.update(
    {
        fn: "cmath: complex numbers only (tests/rules/test_py_cmath.py)"
        for fn in (cmath.exp, cmath.log, cmath.log10, cmath.sqrt, cmath.sin, cmath.cos, cmath.tan, cmath.sinh)
        + (cmath.cosh, cmath.tanh, cmath.asin, cmath.acos, cmath.atan, cmath.asinh, cmath.acosh, cmath.atanh)
    }
)
# (rules19) phase and polar of a real number are constants and |x|, rect makes a complex number of real ones: their
# tests take complex numbers and real ones, against differences (tests/rules/test_py_cmath.py)
EXCLUDED.update(
    {fn: "cmath's polar coordinates (tests/rules/test_py_cmath.py)" for fn in (cmath.phase, cmath.polar, cmath.rect)}
)
EXCLUDED[np.unique] = "its length depends on the values: a drawn index may miss it (test_np_reductions_more)"
# np.fft: the transforms make complex values of the real ones drawn, and any call of np.fft (a shift, a frequency
# too) runs the program in complex mode, where the rules written for real numbers that a program draws beside it
# are refused (docs/complex.md): their tests take real and complex inputs (tests/rules/test_np_fft.py)
EXCLUDED.update(
    {
        fn: "np.fft: a program drawing it runs in complex mode (tests/rules/test_np_fft.py)"
        for fn in (np.fft.fft, np.fft.ifft, np.fft.fftn, np.fft.ifftn, np.fft.fft2, np.fft.ifft2, np.fft.rfft)
        + (np.fft.irfft, np.fft.rfftn, np.fft.irfftn, np.fft.rfft2, np.fft.irfft2, np.fft.hfft, np.fft.ihfft)
        + (np.fft.fftshift, np.fft.ifftshift, np.fft.fftfreq, np.fft.rfftfreq)
    }
)
if hasattr(np, "trapz") and hasattr(np, "trapezoid"):  # NumPy 2.0-2.3 has both names for one function
    EXCLUDED[np.trapz] = "np.trapezoid's deprecated alias (NumPy 2.0-2.3): the same rule, drawn as np.trapezoid"

# Known bugs (tests/regressions/test_fuzz_rules.py). While a switch is off the generator keeps away from
# the ingredient; ``python -m tests.fuzz --known-bugs`` turns them on.
# np.matmul / @ of two vectors (a 0-d result) made the compiler take both operands for scalars: fixed,
# so vector products are drawn; the switch stays for replaying that bug's seeds on older versions.
MATMUL_OF_VECTORS = True


def known_bugs(on):
    global MATMUL_OF_VECTORS
    MATMUL_OF_VECTORS = on


WELL = "well-conditioned"  # 3 I + 0.3 sin(e) on the last two axes (I rectangular for a rectangular e: full rank)
NORMAL = "normal"  # any real values (squashed half of the time)
COND = "condition"  # a boolean array: e > 0.2


# ---------------------------------------------------------------------------
# Source text of parameters
# ---------------------------------------------------------------------------


def literal(v):
    """Source text of a table's parameter value."""
    if isinstance(v, np.ndarray):
        return "np.array(%s)" % literal(v.tolist())
    if isinstance(v, (np.integer, np.floating)):
        return literal(v.item())
    if isinstance(v, float) and math.isinf(v):
        return "np.inf" if v > 0 else "(-np.inf)"
    if isinstance(v, tuple):
        return "(%s,)" % literal(v[0]) if len(v) == 1 else "(%s)" % ", ".join(map(literal, v))
    if isinstance(v, list):
        return "[%s]" % ", ".join(map(literal, v))
    return repr(v)


def kw(name, value):
    return raw("%s=%s" % (name, literal(value)))


def spelling(fn):
    """``np.sin``, ``np.linalg.norm``, ``math.log``, ``abs``."""
    name = fn.__name__
    if isinstance(getattr(fn, "__self__", None), np.ufunc):  # np.maximum.accumulate
        return "np.%s.%s" % (fn.__self__.__name__, name)
    modules = (("np.", np), ("np.linalg.", np.linalg), ("math.", math))
    bases = ("polynomial", "legendre", "hermite", "hermite_e", "laguerre")  # (rules24)
    modules += tuple(("np.polynomial.%s." % b, getattr(np.polynomial, b)) for b in bases)
    modules += (("np.lib.stride_tricks.", np.lib.stride_tricks),)
    for prefix, module in modules:
        if getattr(module, name, None) is fn:
            return prefix + name
    return name


def _size(shape):
    return int(np.prod(shape, dtype=int))


# ---------------------------------------------------------------------------
# Entries: one table case of one function
# ---------------------------------------------------------------------------


class Entry:
    """One call: the function, its operands (shape, domain) and how to write it given the operands."""

    def __init__(self, fn, inputs, render, label, method=None):
        self.fn = fn
        self.inputs = tuple(inputs)  # ((shape, domain), ...)
        self.render = render  # (chooser, operand expressions) -> expression
        self.label = label
        self.method = method  # (chooser, operand expressions) -> method-call expression, or None

    def __repr__(self):
        return "Entry(%s)" % self.label


def _call_render(fn, args_after=(), kwargs=None, before=()):
    """``fn(*before, operands..., *args_after, **kwargs)`` with the table's parameters as literals."""
    name = spelling(fn)
    kwargs = dict(kwargs or {})

    def render(c, ops):
        return call(
            name,
            *[raw(literal(b)) for b in before],
            *ops,
            *[raw(literal(a)) for a in args_after],
            *[kw(k, v) for k, v in kwargs.items()],
        )

    return render


def _method_render(name, args_after=(), kwargs=None):
    kwargs = dict(kwargs or {})

    def render(c, ops):
        return (
            "method",
            ops[0],
            name,
            *ops[1:],
            *[raw(literal(a)) for a in args_after],
            *[kw(k, v) for k, v in kwargs.items()],
        )

    return render


VOCABULARY = {}  # fn -> [Entry]


def _add(entry):
    if entry.inputs and entry.inputs[0][0] == ():
        entry.method = None  # a float parameter has no methods
    VOCABULARY.setdefault(entry.fn, []).append(entry)


def _nonempty(*shapes):
    return all(0 not in s for s in shapes)


# ---- operators (tests/rules/test_operators.py) ----------------------------------------

_OPS = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
    operator.pow: "**",
    operator.mod: "%",
}


def _build_operators():
    for row in T_OPS.BINARY:
        for sx, sy in T_OPS.SHAPES:
            if row.name == "pow-negative-base":  # an integral exponent: a constant
                _add(
                    Entry(
                        row.fn,
                        [(sx, row.x)],
                        lambda c, ops: bin_("**", ops[0], const(c.choice((2, 3, -1, -2)))),
                        "pow-integral-%s" % (sx,),
                    )
                )
                continue
            op = _OPS[row.fn]
            _add(
                Entry(
                    row.fn,
                    [(sx, row.x), (sy, row.y)],
                    lambda c, ops, op=op: bin_(op, ops[0], ops[1]),
                    "%s-%s-%s" % (row.name, sx, sy),
                )
            )
    for shape in ((), (2, 3)):
        _add(Entry(operator.neg, [(shape, NORMAL)], lambda c, ops: ("neg", ops[0]), "neg"))
        _add(Entry(operator.pos, [(shape, NORMAL)], lambda c, ops: ("pos", ops[0]), "pos"))


# ---- NumPy element-wise (tests/rules/test_np_elementwise.py) ----------------------------


def _build_elementwise():
    shapes = [s for s in T_ELEM.UNARY_SHAPES if _nonempty(s)]
    for row in T_ELEM.UNARY:
        for s in shapes:
            method = _method_render("copy") if row.fn is np.copy else None
            if row.fn in (np.real, np.imag):
                method = lambda c, ops, name=row.fn.__name__: ("attr", ops[0], name)  # noqa: E731  (x.real)
            _add(Entry(row.fn, [(s, row.domain)], _call_render(row.fn), "%s-%s" % (row.fn.__name__, s), method))
    for row in T_ELEM.BINARY:
        for sx, sy in T_ELEM.BINARY_SHAPES:
            if _nonempty(sx, sy):
                _add(
                    Entry(
                        row.fn, [(sx, row.x), (sy, row.y)], _call_render(row.fn), "%s-%s-%s" % (row.fn.__name__, sx, sy)
                    )
                )
    for row in T_ELEM.CASTS:
        if row.dtype is np.float64 and row.x_dtype is np.float64:  # the fuzzer's values are float64
            render = lambda c, ops: ("method", ops[0], "astype", raw("np.float64"))  # noqa: E731
            _add(Entry(np.ndarray.astype, [(row.shape, Domain("uniform", -3, 3))], render, row.name, render))
    _add(Entry(np.float64, [((), NORMAL)], _call_render(np.float64), "float64"))
    item = _method_render("item")
    _add(Entry(np.ndarray.item, [((1,), NORMAL)], item, "item", item))
    for s in ((3,), (2, 3)):  # x.tolist() gives lists: drawn as np.array(x.tolist()) to stay an array

        def tolist(c, ops):
            return call("np.array", ("method", ops[0], "tolist"))

        _add(Entry(np.ndarray.tolist, [(s, NORMAL)], tolist, "tolist-%s" % (s,), tolist))
    for row in T_ELEM.SELECT:
        shapes = row.make_args.shapes
        if row.fn is np.where:
            cond, sx, sy = shapes
            _add(
                Entry(
                    np.where,
                    [(cond, COND), (sx, Domain("uniform", -3, 3)), (sy, Domain("uniform", -3, 3))],
                    _call_render(np.where),
                    row.name,
                )
            )
        else:
            a, lo, hi = shapes
            inputs = [(a, Domain("uniform", -2, 2))]
            for bound, low, high in ((lo, -1.0, -0.2), (hi, 0.2, 1.0)):
                if isinstance(bound, tuple):
                    inputs.append((bound, Domain("uniform", low, high)))
            _add(Entry(np.clip, inputs, _clip_render(lo, hi), row.name, _clip_render(lo, hi, method=True)))


def _clip_render(lo, hi, method=False):
    def render(c, ops):
        ops = list(ops)
        a = ops.pop(0)
        bounds = [raw(literal(b)) if b is None or isinstance(b, float) else ops.pop(0) for b in (lo, hi)]
        return ("method", a, "clip", *bounds) if method else call("np.clip", a, *bounds)

    return render


# ---- reductions (tests/rules/test_np_reductions.py) ------------------------------------


def _reduction_render(fn, axis, keepdims, extra):
    kwargs = dict(extra)
    # (the declared name: NumPy 1.x's np.max is np.amax, whose __name__ is no method's)
    method = next((m for m in registry.declared_methods() if registry.method_function(m) is fn), None)

    def render(c, ops):
        args = dict(kwargs, axis=axis, keepdims=keepdims)
        if axis is None and c.chance(0.5):
            del args["axis"]
        if not keepdims and c.chance(0.5):
            del args["keepdims"]
        return call(spelling(fn), ops[0], *[kw(k, v) for k, v in args.items()])

    def render_method(c, ops):
        args = dict(kwargs, axis=axis, keepdims=keepdims)
        if axis is None and c.chance(0.5):
            del args["axis"]
        return ("method", ops[0], method, *[kw(k, v) for k, v in args.items()])

    return render, render_method if method else None


def _build_reductions():
    for row, shape, axis in T_RED.ROW_CASES:
        for keepdims in T_RED.KEEPDIMS:
            render, method = _reduction_render(row.fn, axis, keepdims, row.extra)
            _add(
                Entry(row.fn, [(shape, row.domain)], render, "%s-%s-%s-%s" % (row.name, shape, axis, keepdims), method)
            )
    norm = np.linalg.norm
    cases = [(None, s, a, Domain("uniform", -3, 3)) for s, a in T_RED.NORM_CASES]
    cases += [(o, s, a, Domain("away", 0.2, 3)) for o, s, a in T_RED.NORM_ORD_CASES]
    for ord_, shape, axis, domain in cases:
        for keepdims in T_RED.KEEPDIMS:

            def render(c, ops, ord_=ord_, axis=axis, keepdims=keepdims):
                args = [ops[0]]
                if ord_ is not None or c.chance(0.3):
                    args.append(raw(literal(ord_)) if c.chance(0.5) else kw("ord", ord_))
                if axis is not None or c.chance(0.3):
                    args.append(kw("axis", axis))
                if keepdims or c.chance(0.3):
                    args.append(kw("keepdims", keepdims))
                return call("np.linalg.norm", *args)

            _add(Entry(norm, [(shape, domain)], render, "norm-%s-%s-%s-%s" % (ord_, shape, axis, keepdims)))
    # rules20: np.sum with initial= (differentiated as np_reductions.sum_from, a registry.form), by method too
    for shape, axis in (((3, 4), 1), ((3, 4), None), ((5,), 0)):

        def render_initial(c, ops, axis=axis):
            return call("np.sum", ops[0], kw("axis", axis), kw("initial", 0.5))

        def method_initial(c, ops, axis=axis):
            return ("method", ops[0], "sum", kw("axis", axis), kw("initial", 0.5))

        label = "sum-initial-%s-%s" % (shape, axis)
        _add(Entry(np_reductions.sum_from, [(shape, Domain("uniform", -3, 3))], render_initial, label, method_initial))

    # rules23: np.mean, np.cumsum, np.cumulative_sum with a floating dtype= (registry.form variants), by method too
    typed = [("mean", np_reductions.mean_typed, True), ("cumsum", np_reductions.cumsum_typed, True)]
    if hasattr(np, "cumulative_sum"):
        typed.append(("cumulative_sum", np_reductions.cumulative_sum_typed, False))
    for name, variant, has_method in typed:
        for shape, axis in (((3, 4), 1), ((5,), 0)):

            def render_typed(c, ops, axis=axis, name=name):
                return call("np." + name, ops[0], kw("axis", axis), raw("dtype=np.float64"))

            def method_typed(c, ops, axis=axis, name=name):
                return ("method", ops[0], name, kw("axis", axis), raw("dtype=np.float64"))

            label = "%s-dtype-%s-%s" % (name, shape, axis)
            spelled = method_typed if has_method else None
            _add(Entry(variant, [(shape, Domain("uniform", -3, 3))], render_typed, label, spelled))

    # rules20: np.interp with period= (np_elementwise.interp_periodic), in its values fp (x away from the knots)
    def render_periodic(c, ops):
        return call(
            "np.interp",
            raw("np.array([0.3, 1.7, 3.6, -2.2])"),
            raw("np.array([0.0, 1.0, 2.5, 3.0])"),
            ops[0],
            kw("period", 4.0),
        )

    _add(Entry(np_elementwise.interp_periodic, [((4,), Domain("uniform", -3, 3))], render_periodic, "interp-period"))

    # costs25: a call of np.polynomial.Polynomial(c) made in place (np_elementwise.polynomial_call, registry.made_call),
    # in x; its coefficients and domain= / window= are tests/rules/test_costs25.py's
    for shape, made in (((4,), "np.array([0.5, -1.0, 0.25])"), ((2, 3), "[1.5, 0.0, -0.5, 0.25], domain=[0.0, 2.0]")):

        def render_polynomial(c, ops, made=made):
            return call("np.polynomial.Polynomial(%s)" % made, ops[0])

        label = "Polynomial-call-%s" % (shape,)
        _add(Entry(np_elementwise.polynomial_call, [(shape, Domain("uniform", -2, 2))], render_polynomial, label))


# ---- products and np.linalg (tests/rules/test_np_linalg.py) ------------------------------


def _linalg_domain(maker):
    return WELL if maker is T_LINALG.well_conditioned else NORMAL


def _build_linalg():
    for row in T_LINALG.TABLE:
        if row.fn in LINALG_DECOMPOSITIONS:
            _add_decomposition(row)
            continue
        if row.fn is np_linalg.einsum_of_many or (row.fn is np.einsum and not isinstance(row.args[0], str)):
            continue  # the sublist form and calls of many operands: rows of their own, not drawn (EXCLUDED)
        inputs = [(a[1], _linalg_domain(a[0])) for a in row.args if isinstance(a, tuple)]
        before = [a for a in row.args if not isinstance(a, tuple)]  # einsum's subscripts
        plain = _call_render(row.fn, kwargs=row.kwargs, before=before)
        render, method = plain, None
        if row.fn is np.linalg.slogdet:

            def render(c, ops):
                return ("index", call("np.linalg.slogdet", ops[0]), "1")
        elif row.fn is np.dot and len(inputs[0][0]) >= 1:
            method = _method_render("dot")
        elif row.fn is np.trace:
            method = _method_render("trace", kwargs=row.kwargs)
        elif row.fn is np.matmul and c_matmul_ok(inputs):

            def method(c, ops):
                return bin_("@", ops[0], ops[1])

        _add(Entry(row.fn, inputs, render, row.name, method))


# np.linalg's decompositions and matrix functions (task linalg13): each call reads one element of a tuple
# result, one that stays differentiable where copies of fuzzed values tie (singular values and
# eigenvalues, not the vectors), on an operand built into the function's domain: symmetric for
# eigh/eigvalsh/cholesky (whose rules give the derivative on the triangle they read: of a symmetric
# x + x^T every convention agrees), a diagonal of 1..n plus at most 0.05 per element for eig/eigvals
# (disjoint Gershgorin discs: real distinct eigenvalues), 3 I + 0.3 sin(e) (full rank) for the others.
_SWAP = (raw("-1"), raw("-2"))


def _symmetric(e):
    return bin_("+", e, call("np.swapaxes", e, *_SWAP))


def _well(shape):
    return lambda e: bin_("+", raw("3.0 * np.eye(%d, %d)" % shape[-2:]), bin_("*", const(0.3), call("np.sin", e)))


def _well_square(shape, n):
    # the (n x n) identity reshaped to the operand's shape: tensorsolve's and tensorinv's matrix
    eye = "np.reshape(3.0 * np.eye(%d), %s)" % (n, literal(tuple(shape)))
    return lambda e: bin_("+", raw(eye), bin_("*", const(0.3), call("np.sin", e)))


def _separated(shape):
    diagonal = "np.diag(np.arange(1.0, %d))" % (shape[-1] + 1)
    return lambda e: bin_("+", raw(diagonal), bin_("*", const(0.05), call("np.sin", e)))


LINALG_DECOMPOSITIONS = {
    np.linalg.svd: (lambda row: 1 if row.kwargs.get("compute_uv", True) else None, lambda s: None),
    np.linalg.eigh: (lambda row: 0, lambda s: _symmetric),
    np.linalg.eigvalsh: (lambda row: None, lambda s: _symmetric),
    np.linalg.eig: (lambda row: 0, _separated),
    np.linalg.eigvals: (lambda row: None, _separated),
    np.linalg.cholesky: (lambda row: None, lambda s: lambda e: _symmetric(_well(s)(e))),
    np.linalg.qr: (lambda row: 1, _well),
    np.linalg.pinv: (lambda row: None, _well),
    np.linalg.lstsq: (lambda row: 0, _well),
    np.linalg.tensorinv: (lambda row: None, lambda s: _well_square(s, int(np.sqrt(np.prod(s))))),
    np.linalg.tensorsolve: (lambda row: None, lambda s: _well_square(s, int(np.sqrt(np.prod(s))))),
    np.linalg.multi_dot: (lambda row: None, lambda s: None),
}
if hasattr(np.linalg, "svdvals"):
    LINALG_DECOMPOSITIONS[np.linalg.svdvals] = (lambda row: None, lambda s: None)


def _add_decomposition(row):
    part, domain = LINALG_DECOMPOSITIONS[row.fn]
    index = part(row)
    if row.fn is np.linalg.multi_dot:
        shapes = row.args[0][1]
        inputs = [(s, NORMAL) for s in shapes]
    else:
        inputs = [(a[1], _linalg_domain(a[0])) for a in row.args]
    if row.fn is np.linalg.tensorsolve and row.kwargs:  # axes=(0,): the identity would have to move too
        return
    into = domain(inputs[0][0])
    keywords = [kw(k, v) for k, v in row.kwargs.items()]

    def render(c, ops):
        first = into(ops[0]) if into is not None else ops[0]
        operands = [("list",) + tuple(ops)] if row.fn is np.linalg.multi_dot else [first] + list(ops[1:])
        result = call(spelling(row.fn), *operands, *keywords)
        return result if index is None else ("index", result, str(index))

    _add(Entry(row.fn, inputs, render, row.name))


def c_matmul_ok(inputs):
    return all(len(s) >= 1 for s, _ in inputs)


# ---- shapes (tests/rules/test_np_shape.py) --------------------------------------------


def _build_shape():
    for row in T_SHAPE.TABLE:
        fn = row.fn
        render = _call_render(fn, args_after=row.rest, kwargs=row.kwargs)
        method = None
        name = fn.__name__
        if registry.method_function(name) is fn and row.shape != ():
            if fn is np.reshape:
                method = _method_render("reshape", args_after=row.rest, kwargs=row.kwargs)
            elif fn is np.transpose and not row.kwargs and len(row.shape) >= 2:
                method = _transpose_attribute
            elif fn is np.transpose:  # ndarray.transpose takes the axes as arguments, not as a keyword
                method = _method_render("transpose", args_after=tuple(row.kwargs.values()))
            else:
                method = _method_render(name, args_after=row.rest, kwargs=row.kwargs)
        if fn is np.ravel:
            _add(
                Entry(
                    fn,
                    [(row.shape, NORMAL)],
                    render,
                    "ravel-%s-%s" % (row.shape, row.kwargs),
                    _method_render("flatten", kwargs=row.kwargs),
                )
            )
        _add(Entry(fn, [(row.shape, NORMAL)], render, "%s-%s-%s-%s" % (name, row.shape, row.rest, row.kwargs), method))
    for row in T_SHAPE.SEQ_TABLE:
        if not _nonempty(*row.shapes):
            continue

        def render(c, ops, row=row):
            seq = ("tuple" if c.chance(0.5) else "list",) + tuple(ops)
            return call(spelling(row.fn), seq, *[kw(k, v) for k, v in row.kwargs.items()])

        _add(
            Entry(
                row.fn,
                [(s, NORMAL) for s in row.shapes],
                render,
                "%s-%s-%s" % (row.fn.__name__, row.shapes, row.kwargs),
            )
        )


def _transpose_attribute(c, ops):
    return ("attr", ops[0], "T") if c.chance(0.5) else ("method", ops[0], "transpose")


# ---- Python builtins and math (tests/rules/test_py_builtins.py, test_py_math.py) -------


def _build_builtins():
    scalar = Domain("uniform", -3, 3)
    for row in T_BUILTINS.TABLE:
        fn, n = row.fn, row.name
        if n == "abs-scalar":
            _add(Entry(abs, [((), Domain("away", 0.1, 3))], lambda c, ops: call("abs", ops[0]), n))
        elif n == "abs-array":
            _add(Entry(abs, [((2, 3), Domain("away", 0.1, 3))], lambda c, ops: call("abs", ops[0]), n))
        elif n in ("max", "min"):
            _add(Entry(fn, [((), scalar), ((), scalar)], lambda c, ops, n=n: call(n, ops[0], ops[1]), n))
        elif n.startswith("float"):
            _add(Entry(float, [((), scalar)], lambda c, ops: call("float", ops[0]), n))
        elif n == "sum-list":
            _add(Entry(sum, [((), scalar)] * 4, lambda c, ops: call("sum", ("list",) + tuple(ops)), n))
        elif n == "sum-array-first-axis":
            _add(Entry(sum, [((3, 2), scalar)], lambda c, ops: call("sum", ops[0]), n))
        elif n == "sum-with-start":
            _add(Entry(sum, [((), scalar)] * 4, lambda c, ops: call("sum", ("list",) + tuple(ops[:3]), ops[3]), n))
        elif n in ("list-array", "tuple-list"):  # a list or tuple of an array's elements, made an array again
            _add(Entry(fn, [((3,), scalar)], lambda c, ops, f=fn.__name__: call("np.array", call(f, ops[0])), n))
        elif n == "pow":
            _add(Entry(pow, [((), Domain("uniform", 0.3, 3)), ((), Domain("uniform", -2, 2))], _call_render(pow), n))
        elif fn in (py_builtins.max_of, py_builtins.min_of, sorted):
            spelled = {py_builtins.max_of: "max", py_builtins.min_of: "min"}.get(fn, "sorted")
            size = len(row.make_args(np.random.default_rng(0))[0])
            if size == 0:  # min([], default=d): its table and tests/rules/test_tangents.py check it
                continue
            display = "tuple" if "tuple" in n else "list"
            extra = [kw(k, v) if not callable(v) else raw("%s=%s" % (k, v.__name__)) for k, v in row.static.items()]
            if sorted is fn:  # a list: the sum of its elements, weighted by position, is the value
                _add(
                    Entry(
                        fn,
                        [((), scalar)] * size,
                        lambda c, ops, d=display, e=extra: call(
                            "np.dot", call("sorted", (d,) + tuple(ops), *e), raw("np.arange(1.0, %d)" % (len(ops) + 1))
                        ),
                        n,
                    )
                )
            else:
                _add(
                    Entry(
                        fn,
                        [((), scalar)] * size,
                        lambda c, ops, s=spelled, d=display, e=extra: call(s, (d,) + tuple(ops), *e),
                        n,
                    )
                )
        else:
            raise AssertionError("a new row of tests/rules/test_py_builtins.py: %s (teach gen_rules)" % n)


def _build_math():
    for row in T_MATH.TABLE:
        domains = list(row.domains)
        name = spelling(row.fn)
        if row.diff is not None and len(row.diff) < len(domains):  # an integral exponent: a constant
            _add(
                Entry(
                    row.fn,
                    [((), domains[0])],
                    # ldexp's exponent is an int, pow's a float
                    lambda c, ops, name=name, t=int if row.fn is math.ldexp else float: call(
                        name, ops[0], const(t(c.choice((1, 2, 3))))
                    ),
                    "%s-integral" % name,
                )
            )
            continue
        _add(
            Entry(
                row.fn,
                [((), d) for d in domains],
                lambda c, ops, name=name: call(name, *ops),
                "%s/%d" % (name, len(domains)),
            )
        )


def _build_math_sequences():
    for row in T_MATH.SEQUENCE_TABLE:
        sizes = [len(sample(np.random.default_rng(0))) for sample in row.args]
        extra = [kw(k, 1.5) for k in row.kwargs]  # a constant start=: its derivative is the table's to check

        def render(c, ops, name=spelling(row.fn), sizes=sizes, extra=extra):
            parts, k = [], 0
            for size in sizes:
                parts.append(("list",) + tuple(ops[k : k + size]))
                k += size
            return call(name, *parts, *extra)

        _add(
            Entry(row.fn, [((), Domain("uniform", -2, 2))] * sum(sizes), render, "%s-%s" % (spelling(row.fn), row.name))
        )
    for row in T_MATH.PAIR_TABLE:
        for part in ("0", "1"):  # one element of the pair (the second is piecewise constant)
            _add(
                Entry(
                    row.fn,
                    [((), row.domains[0])],
                    lambda c, ops, name=spelling(row.fn), part=part: ("index", call(name, ops[0]), part),
                    "%s[%s]" % (spelling(row.fn), part),
                )
            )


_build_operators()
_build_elementwise()
_build_reductions()
_build_linalg()
_build_shape()
_build_builtins()
_build_math()
_build_math_sequences()


# ---- shape13: several operands or results (tests/rules/test_np_shape_more.py) --------------------------------


def _build_shape_more():
    from tests.rules import test_np_shape_more as T_MORE

    def text(v):
        if isinstance(v, type):  # a dtype: np.float64, int
            return ("np." if v.__module__ == "numpy" else "") + v.__name__
        return literal(v)

    for row in T_MORE.TABLE:
        inputs = []
        for a in list(row.args) + list(row.kwargs.values()):
            if isinstance(a, T_MORE.A):
                inputs.append((a.shape, NORMAL))
            elif isinstance(a, T_MORE.S):
                inputs.extend((s, NORMAL) for s in a.shapes)

        def render(c, ops, row=row):
            ops = list(ops)
            parts = []
            for a in row.args:
                if isinstance(a, T_MORE.A):
                    parts.append(ops.pop(0))
                elif isinstance(a, T_MORE.S):
                    parts.append(("list",) + tuple(ops.pop(0) for _ in a.shapes))
                else:
                    parts.append(raw(text(a)))
            for k, v in row.kwargs.items():
                parts.append(
                    raw("%s=%s" % (k, expr(ops.pop(0)))) if isinstance(v, T_MORE.A) else raw("%s=%s" % (k, text(v)))
                )
            e = call(spelling(row.fn), *parts)
            return e if row.pick is None else ("index", e, str(row.pick))  # one of several results

        _add(Entry(row.fn, inputs, render, "more-" + row.name))


_build_shape_more()


# ---- reparameterised draws (tests/rules/test_np_random.py) --------------------------------------------------
# Each draw from a generator made in place with a literal seed (np.random.default_rng(3).normal(x, y)): the same
# numbers at every evaluation, so central differences see the pathwise derivative. The second parameter is a
# positive scale (uniform's: the width, high = low + width, which Generator.uniform requires to be >= 0).

_MAKERS = (("np.random.default_rng(%d)", np.random.Generator), ("np.random.RandomState(%d)", np.random.RandomState))
_POSITIVE = Domain("uniform", 0.3, 2.0)


def _draw_render(maker, name, size, two=True):
    def render(c, ops):
        seed = c.integer(0, 9)
        args = list(ops)
        if name == "uniform":
            args = [ops[0], bin_("+", ops[0], ops[1])]
        if size is not None:
            args.append(raw(literal(size)) if c.chance(0.5) else kw("size", size))
        return call((maker % seed) + "." + name, *args)

    return render


def _build_random():
    for maker, cls in _MAKERS:
        for name in ("normal", "uniform", "lognormal"):
            first = Domain("uniform", -1.0, 1.0)
            for shapes, size in ((((), ()), (3,)), (((3,), (3,)), None), (((2, 3), ()), None), (((3,), ()), (2, 3))):
                fn = getattr(cls, name)
                inputs = [(shapes[0], first), (shapes[1], _POSITIVE)]
                label = "%s.%s-%s-%s-%s" % (cls.__name__, name, shapes[0], shapes[1], size)
                _add(Entry(fn, inputs, _draw_render(maker, name, size), label))
        for shape, size in (((), (3,)), ((3,), None), ((2, 3), None)):
            label = "%s.exponential-%s-%s" % (cls.__name__, shape, size)
            _add(Entry(cls.exponential, [(shape, _POSITIVE)], _draw_render(maker, "exponential", size), label))


_build_random()
FUNCTIONS = list(VOCABULARY)

# Non-differentiable functions chained in between (their results are constants to the compiler).
NONDIFF = ("np.floor", "np.round", "np.sign", "np.trunc", "np.rint")


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


def _weights(shape):
    """Fixed weights of ``shape`` that tell the positions apart."""
    return raw("np.linspace(-1.0, 2.0, %d).reshape(%s)" % (_size(shape), literal(tuple(shape))))


def adapt(c, name, have, want):
    """An expression of shape ``want`` made from variable ``name`` of shape ``have``."""
    e = var(name)
    if tuple(have) == tuple(want):
        return e
    n, m = _size(want), _size(have)
    if have == ():
        if want == ():
            return e
        if c.chance(0.3):
            return call("np.broadcast_to", e, raw(literal(tuple(want))))
        return bin_("*", e, _spread(want))
    flat = e if len(have) == 1 else (call("np.ravel", e) if c.chance(0.7) else ("method", e, "ravel"))
    tiled = m < n
    if tiled:
        flat = call("np.tile", flat, raw(str(-(-n // m))))
        m = m * -(-n // m)
    if want == ():
        return ("index", flat, str(c.integer(0, m - 1)))
    start = c.integer(0, m - n)
    piece = ("index", flat, "%d:%d" % (start, start + n)) if (start, n) != (0, m) else flat
    shaped = call("np.reshape", piece, raw(literal(tuple(want))))
    # copies of one value are ties (of max, of singular values ...): scaled apart, mostly
    return bin_("*", shaped, _spread(want)) if tiled and c.chance(0.8) else shaped


def _spread(shape):
    """Fixed factors in [0.6, 1.4] of ``shape``, all different."""
    return raw("np.linspace(0.6, 1.4, %d).reshape(%s)" % (_size(shape), literal(tuple(shape))))


def into_domain(c, e, shape, domain):
    """``e`` (of ``shape``) mapped into ``domain``."""
    if domain == COND:
        return ("cmp", e, ">", const(c.choice((0.2, -0.3, 0.5))))
    if domain == WELL:
        return bin_("+", raw("3.0 * np.eye(%d, %d)" % tuple(shape[-2:])), bin_("*", const(0.3), call("np.sin", e)))
    if domain == NORMAL:
        return bin_("*", const(2.0), call("np.sin", e)) if c.chance(0.5) else e
    lo, hi = domain.lo, domain.hi
    if domain.kind == "uniform" and lo <= -3 and hi >= 3 and c.chance(0.5):
        return e
    mid, half = (lo + hi) / 2, (hi - lo) / 2 * 0.98
    inside = bin_("+", const(round(mid, 6)), bin_("*", const(round(half, 6)), call("np.sin", e)))
    if domain.kind == "uniform":
        return inside
    if shape == ():
        return inside if c.chance(0.5) else ("neg", inside)
    return bin_("*", inside, raw("(-1.0) ** np.arange(%d).reshape(%s)" % (_size(shape), literal(tuple(shape)))))


def _shape_of(entry, c):
    """The result's shape, from NumPy itself on points of the operands' domains (None: the case does not run)."""
    rng = np.random.default_rng(0)
    env = {"np": np, "math": math, "scipy": _scipy, "statistics": statistics}  # _scipy: None without SciPy
    ops = []
    for k, (shape, domain) in enumerate(entry.inputs):
        if domain == COND:
            env["_o%d" % k] = rng.random(shape) < 0.5 if shape else True
        elif domain == WELL:
            env["_o%d" % k] = 3.0 * np.eye(*shape[-2:]) + 0.3 * rng.standard_normal(shape)
        elif isinstance(domain, Domain):
            env["_o%d" % k] = domain(rng, shape)
        else:
            env["_o%d" % k] = float(rng.standard_normal()) if shape == () else rng.standard_normal(shape)
        ops.append(var("_o%d" % k))
    try:
        value = eval(expr(entry.render(c, ops)), env)  # noqa: S307 (our own generated text)
    except Exception:  # noqa: BLE001 - a case NumPy refuses: tests/rules/test_vocabulary.py finds it
        return None
    return np.shape(value)


def _operand(c, names, shape):
    """A variable to make an operand of ``shape`` from: one of the last two (half of the time), one of
    that shape, or any."""
    if c.chance(0.5):
        return c.choice(names[-2:])
    same = [n for n, s in names if s == shape]
    if same and c.chance(0.6):
        return c.choice(same), shape
    return c.choice(names)


def _combine(c, names):
    """``a op b`` with b brought to a shape that broadcasts against a's."""
    a, sa = c.choice(names)
    options = (
        [sa, ()]
        + [sa[k:] for k in range(1, len(sa))]
        + [tuple(1 if i == k else d for i, d in enumerate(sa)) for k in range(len(sa))]
    )
    want = c.choice(options)
    b, sb = c.choice(names)
    other = adapt(c, b, sb, want)
    op = c.choice(("+", "-", "*", "*"))
    if c.chance(0.5):
        return bin_(op, var(a), other), sa
    return bin_(op, other, var(a)), sa


def _nondiff(c, names):
    a, sa = c.choice(names)
    b, sb = c.choice(names)
    kind = c.integer(0, 2)
    if kind == 0:  # v * np.floor(w): a constant factor
        return bin_("*", var(a), call(c.choice(NONDIFF), adapt(c, b, sb, sa))), sa
    if kind == 1 and sb != ():  # v[np.argmax(w)]-like: an index computed from data
        flat = call("np.ravel", var(b))
        return bin_("*", var(a), ("index", flat, call(c.choice(("np.argmax", "np.argmin")), flat))), sa
    return bin_("+", var(a), bin_("*", call("np.zeros_like", var(a)), var(a))), sa


def gen_statement(c, names):
    """(expression, shape) of one statement's value."""
    names = [(n, s) for n, s in names if _size(s)]  # an empty array makes no operand
    roll = c.integer(0, 9)
    if roll == 0:
        return _combine(c, names)
    if roll == 1 and c.chance(0.5):
        return _nondiff(c, names)
    for _ in range(20):
        fn = c.choice(FUNCTIONS)
        entry = c.choice(VOCABULARY[fn])
        if fn is np.matmul and not MATMUL_OF_VECTORS and all(len(s) == 1 for s, _ in entry.inputs):
            continue
        ops = []
        for shape, domain in entry.inputs:
            name, have = _operand(c, names, shape)
            ops.append(into_domain(c, adapt(c, name, have, shape), shape, domain))
        render = entry.method if entry.method is not None and c.chance(0.5) else entry.render
        e = render(c, ops)
        shape = _shape_of(Entry(entry.fn, entry.inputs, render, entry.label), _Replay())
        if shape is not None:
            return e, shape
    raise AssertionError("no usable entry")


class _Replay:
    """A chooser that repeats no choice: the shape of a rendering does not depend on its optional spellings
    (``keepdims=False`` or not), so any fixed answers do."""

    def choice(self, seq):
        return list(seq)[0]

    def chance(self, p):
        return False

    def integer(self, lo, hi):
        return lo


def point_value(c, shape):
    if shape == ():
        return round(c.uniform(-1.5, 1.5), 6)
    return np.array([round(c.uniform(-1.5, 1.5), 6) for _ in range(_size(shape))]).reshape(shape)


def generate(c):
    n_params = c.integer(1, 3)
    shapes = [c.choice(PARAM_SHAPES) for _ in range(n_params)]
    if all(s == () for s in shapes):
        shapes[0] = c.choice(PARAM_SHAPES[1:])
    params = list(PARAM_NAMES[:n_params])
    names = list(zip(params, shapes))
    stmts = []
    for k in range(c.integer(2, 6)):
        e, shape = gen_statement(c, names)
        target = "v%d" % k
        stmts.append(("assign", target, e))
        names.append((target, shape))
    # the return: weighted sums of the values no later statement reads (so every statement is live),
    # and sometimes of a parameter
    read = {n for _, _, e in stmts for n in _reads(e)}
    picks = [(n, sh) for n, sh in names[n_params:] if n not in read]
    if c.chance(0.3):
        picks.append(c.choice(names[:n_params]))
    ret = None
    for n, s in picks:
        term = bin_("*", var(n), const(1.3)) if s == () else call("np.sum", bin_("*", var(n), _weights(s)))
        ret = term if ret is None else bin_("+", ret, term)
    last, last_shape = names[-1]
    alt = var(last) if last_shape != () and c.chance(0.3) else None
    program = Program(Function("f", params, stmts, ret), alt_ret=alt)
    return Case(program, tuple(point_value(c, s) for s in shapes))


def _reads(e):
    if e[0] == "var":
        return {e[1]}
    return set().union(*[_reads(a) for a in e[1:] if isinstance(a, tuple) and a and isinstance(a[0], str)])


def finish(program):
    return program


# ---- issue #13, SciPy (tests/rules/test_scipy_*.py), where it is installed ------------------------------------------
# The rows those tables compile (their COMPILED), each differentiated argument an operand: in a box around the row's
# values, or 3 I + 0.3 sin(e) for a matrix of scipy.linalg or a covariance (whose triangle read is then positive
# definite); the other arguments literals. A program that draws one imports scipy's areas.
try:
    import scipy as _scipy
    import scipy.integrate  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.signal  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
except ImportError:
    _scipy = None
SCIPY_IMPORTS = (
    "import scipy.integrate",
    "import scipy.linalg",
    "import scipy.signal",
    "import scipy.special",
    "import scipy.stats",
)


def _scipy_domain(row, i):
    v = np.asarray(row.args[i], dtype=float)
    square = v.ndim >= 2 and v.shape[-1] == v.shape[-2]
    if square and (
        row.spelling.startswith("scipy.linalg.") or "multivariate_" in row.spelling or "wishart" in row.spelling
    ):
        return WELL
    if v.ndim >= 2 and row.fn in (_scipy.linalg.pinv, _scipy.linalg.svd, _scipy.linalg.svdvals):
        return WELL  # (full rank, distinct singular values: where pinv and the singular vectors have a derivative)
    lo, hi = float(np.min(v)), float(np.max(v))
    return Domain("uniform", lo, hi) if lo < hi else Domain("uniform", lo - 0.05 * abs(lo) - 0.01, hi)


def _scipy_render(row, diff):
    def render(c, ops):
        ops = list(ops)
        args = [ops.pop(0) if i in diff else raw(literal(a)) for i, a in enumerate(row.args)]
        if "multinomial." in row.spelling:  # p, positive, divided by its sum: on the simplex SciPy takes it on
            args[2] = bin_("/", args[2], call("np.sum", args[2], raw("axis=-1"), raw("keepdims=True")))
        if "wishart." in row.spelling:  # X and scale, made symmetric (their gradients are the symmetric ones)
            for i in (0, 2):
                if i in diff and np.ndim(row.args[i]) == 2:
                    args[i] = bin_("*", raw("0.5"), bin_("+", args[i], call("np.transpose", args[i])))
        e = call(row.spelling, *args, *[kw(k, v) for k, v in row.kwargs.items()])
        # (c, lower), (lu, piv): the factor; eigh's (w, v): the eigenvalues, differentiable where copies of fuzzed
        # values tie (as np.linalg.eigh's, LINALG_DECOMPOSITIONS)
        pair = row.fn in (_scipy.linalg.cho_factor, _scipy.linalg.lu_factor, _scipy.linalg.eigh)
        values = row.fn is _scipy.linalg.svd  # (U, s, Vh): the singular values, as np.linalg.svd's are drawn
        if values:
            return ("index", e, "1")
        return ("index", e, "0") if pair else e

    return render


def _build_scipy():
    from tests.rules import test_scipy_integrate, test_scipy_linalg, test_scipy_signal, test_scipy_special
    from tests.rules import test_scipy_stats

    rows = test_scipy_special.TABLE + test_scipy_stats.TABLE + test_scipy_linalg.TABLE + test_scipy_linalg.PAIRS
    drawn = set()
    for row in rows + test_scipy_signal.TABLE + test_scipy_integrate.TABLE:
        if "wishart." in row.spelling and np.ndim(row.args[0]) == 3:
            continue  # (stacked points: the well-conditioned draw is of the last two axes; one point is drawn)
        fn = registry.lookup(row.fn).fn  # a distribution's method: the bound method registered
        # dirichlet's x (the first differentiated) stays on its simplex; multinomial's p is drawn onto it (_on_simplex)
        simplex = row.direction is not None and "multinomial." not in row.spelling
        diff = tuple(i for i in row.diff if not simplex or i != row.diff[0])
        inputs = [(np.shape(row.args[i]), _scipy_domain(row, i)) for i in diff]
        # element-wise (a ufunc, a univariate density) with no array constant: every parameter shape, operands alike
        elementwise = isinstance(fn, np.ufunc) or (
            row.spelling.startswith("scipy.stats.")
            and "multivariate" not in row.spelling
            and "dirichlet" not in row.spelling
            and "wishart" not in row.spelling
        )
        constant_arrays = any(isinstance(a, (np.ndarray, tuple)) for i, a in enumerate(row.args) if i not in diff)
        shapes = [[s for s, _ in inputs]]
        if elementwise and not constant_arrays:
            shapes = [[s] * len(diff) for s in PARAM_SHAPES]
            if len(diff) > 1:  # broadcasting: one operand a number
                shapes += [
                    [() if k == j else s for k in range(len(diff))] for s in PARAM_SHAPES[1:] for j in range(len(diff))
                ]
        for same in shapes:  # in the row's domains
            if (fn, tuple(map(tuple, same)), diff) not in drawn:
                drawn.add((fn, tuple(map(tuple, same)), diff))
                entry_inputs = [(tuple(sh), d) for sh, (_, d) in zip(same, inputs)]
                _add(Entry(fn, entry_inputs, _scipy_render(row, diff), "scipy-%s-%s" % (row.name, same)))


def _add_lfilter_from_state():
    # scipy24: lfilter(b, a, x, axis, zi), its pair (y, zf): one of them drawn; a[0] and a[1] near 1 (a pole near -1)
    from adjoint_compiler.rules.scipy_signal import lfilter_from_state

    inputs = [((3,), Domain("uniform", -1.0, 1.0)), ((2,), Domain("uniform", 0.8, 1.2))]
    inputs += [((7,), Domain("uniform", -1.0, 1.0)), ((2,), Domain("uniform", -1.0, 1.0))]
    for part in ("0", "1"):

        def render(c, ops, part=part):
            return ("index", call("scipy.signal.lfilter", ops[0], ops[1], ops[2], raw("-1"), ops[3]), part)

        _add(Entry(lfilter_from_state, inputs, render, "scipy-lfilter-zi-%s" % part))


def _with_scipy_imports(program):
    if "scipy." in program.source() and "import scipy" not in program.source():
        program.IMPORTS = type(program).IMPORTS + SCIPY_IMPORTS
    return program


if _scipy is not None:
    # np13j: odeint needs a user func of (y, t, *args) (tests/rules/test_scipy_integrate.py): nothing to draw
    EXCLUDED[_scipy.integrate.odeint] = "an ODE solve of a user func, tested in test_scipy_integrate.py"
    _build_scipy()
    _add_lfilter_from_state()
    FUNCTIONS = list(VOCABULARY)
    _generate_without_scipy_imports = generate

    def generate(c):  # noqa: F811 (the same, with scipy's imports where the program calls it)
        case = _generate_without_scipy_imports(c)
        _with_scipy_imports(case.program)
        return case

    def finish(program):  # noqa: F811 (a shrunk program keeps the imports)
        return _with_scipy_imports(program)
# ---- reduce13 (issue #13): the rows of tests/rules/test_np_reductions_more.py ----------------------------

from tests.rules import test_np_reductions_more as T_MORE  # noqa: E402


def _build_more():
    for row in T_MORE.TABLE:
        if any(isinstance(a, T_MORE.Op) and a.domain is None for a in row.args):
            continue  # a given point (zeros, NaNs, knots): the table checks it, random operands cannot hit it
        if row.fn is np.unique:
            continue  # its length depends on the values (ties): a drawn index beyond it, of an operand that another
            # call made constant (np.broadcast_to of a number), does not run; the table checks it (EXCLUDED)
        inputs = [(a.shape, a.domain) for a in row.args if isinstance(a, T_MORE.Op)]
        # np.gradient along several axes (axis a tuple, or none of an array of two or more dimensions) gives one
        # array per axis: one of them is drawn, as np.histogram's (counts, edges) (np13h)
        axes = row.kwargs.get("axis", None) if row.fn is np.gradient else 0
        # (rules24: np.frexp's, np.modf's and np.divmod's pairs too)
        pairs = (np.histogram, np.frexp, np.modf, np.divmod)
        count = 2 if row.fn in pairs else len(axes) if isinstance(axes, tuple) else 1
        count = len(row.args[0].shape) if axes is None else count

        def render(c, ops, row=row, count=count):
            ops = list(ops)
            args = [ops.pop(0) if isinstance(a, T_MORE.Op) else raw(literal(a)) for a in row.args]
            e = call(spelling(row.fn), *args, *[kw(k, v) for k, v in row.kwargs.items()])
            return ("index", e, str(c.integer(0, count - 1))) if count > 1 else e

        method = None
        name = row.fn.__name__
        if registry.method_function(name) is row.fn and len(row.args) == 1:
            method = _method_render(name, kwargs=row.kwargs)
        _add(Entry(row.fn, inputs, render, "more-" + row.name, method))
    # the reduction rows that tests/rules/test_np_reductions.py runs on a sample of its cases: the others here
    for row in T_RED.TABLE:
        for shape, axis in T_RED.CASES if row.cases is not None else ():
            if (shape, axis) in row.cases or T_RED._count(shape, axis) < row.min_count:
                continue
            for keepdims in T_RED.KEEPDIMS:
                render, method = _reduction_render(row.fn, axis, keepdims, row.extra)
                label = "%s-%s-%s-%s" % (row.name, shape, axis, keepdims)
                _add(Entry(row.fn, [(shape, row.domain)], render, label, method))
    # the ndarray spellings of the element-wise rows: x.real, x.imag, x.conj(), x.conjugate()
    for fn, spelled in ((np.real, "real"), (np.imag, "imag")):
        render = _call_render(fn)
        _add(
            Entry(fn, [((2, 3), NORMAL)], render, spelled + "-attribute", lambda c, ops, s=spelled: ("attr", ops[0], s))
        )
    if hasattr(np, "matrix_transpose"):  # (rules22: x.mT, NumPy 2)
        render = _call_render(np.matrix_transpose)
        _add(
            Entry(
                np.matrix_transpose,
                [((2, 3, 4), NORMAL)],
                render,
                "mT-attribute",
                lambda c, ops: ("attr", ops[0], "mT"),
            )
        )
    for fn, spelled in ((np.conjugate, "conjugate"), (np.conj, "conj")):
        _add(Entry(fn, [((2, 3), NORMAL)], _call_render(fn), spelled + "-method", _method_render(spelled)))


_build_more()
FUNCTIONS = list(VOCABULARY)


# ---- py12m: the statistics module's rules (adjoint_compiler/rules/py_statistics.py), of a list of four numbers;
# a program that draws one imports statistics


def _build_statistics():
    spread = Domain("uniform", -2, 2)
    for fn in (statistics.mean, statistics.fmean, statistics.variance, statistics.pvariance):
        render = lambda c, ops, name="statistics." + fn.__name__: call(name, ("list",) + tuple(ops))  # noqa: E731
        _add(Entry(fn, [((), spread)] * 4, render, "statistics-" + fn.__name__))
    for fn in (statistics.stdev, statistics.pstdev):  # (away from equal values, where the derivative is infinite)
        render = lambda c, ops, name="statistics." + fn.__name__: call(  # noqa: E731
            name, ("list",) + tuple(ops) + (raw("3.0"),)
        )
        _add(Entry(fn, [((), Domain("uniform", -1, 1))] * 3, render, "statistics-" + fn.__name__))


def _with_statistics_import(program):
    if "statistics." in program.source() and "import statistics" not in program.source():
        program.IMPORTS = program.IMPORTS + ("import statistics",)
    return program


_build_statistics()
FUNCTIONS = list(VOCABULARY)
_generate_without_statistics_import = generate
_finish_without_statistics_import = finish


def generate(c):  # noqa: F811 (the same, with the import where the program calls statistics)
    case = _generate_without_statistics_import(c)
    _with_statistics_import(case.program)
    return case


def finish(program):  # noqa: F811 (a shrunk program keeps the import)
    return _with_statistics_import(_finish_without_statistics_import(program))
