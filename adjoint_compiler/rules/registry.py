"""One registry for every adjoint: built-in rules (inlined) and user rules (called), and the facts
about each function, stated once, on its registration.

A rule is a plain Python function ``rule(g, ans, *params)`` that returns the
cotangent of each parameter, given the cotangent ``g`` of the result ``ans``:
a single value for one parameter, a tuple for several, ``None`` for a
parameter that gets no gradient. Tests call the same function directly.

``@adjoint(*fns, method=None, attribute=None, view=False, shape=None, masked=False, inline=True, linear=None,
draws=False, complex_ok=False, absorbs_broadcast=False, makes_complex=False)`` registers a rule for each of
``fns``; the keywords are facts the analyses ask of the registry:

- ``method``: the ndarray method name (or a tuple of names) differentiated as the first of ``fns``
  (``x.sum(axis=0)`` as ``np.sum(x, axis=0)``); ask ``method_function(name)``.
- ``attribute``: the same for an ndarray attribute (``x.T`` as ``np.transpose(x)``); ask
  ``attribute_function(name)``. ``nondifferentiable_attributes`` (``nondiff.py``) declares the
  attributes that carry no derivative (``x.shape``); ask ``is_nondifferentiable_attribute(name)``.
- ``view``: the result may share memory with an argument; ask ``is_view(fn)``, or ``is_view_name(name)``
  for a call known only by its spelling ``np.<name>(...)``. ``views(...)`` declares the same of a
  function with no rule (``np.asarray`` of an array is the array itself) or of an attribute or
  method name (``x.T``, ``x.view()``).
- ``shape``: a shape class; ``"reduce"`` means that with one argument and no keywords the result
  is a scalar (``np.sum(x)``). Ask ``shape_class(fn)``.
- ``masked``: also make the variant used for values feeding a branch of ``np.where``, the rule's
  result (each operand's, before ``unbroadcast``) guarded as ``np.where(g == 0.0, 0.0, <result>)`` so
  that the untaken branch's zero cotangent stays zero where the derivative is nan or inf. (Every masked
  variant so far is that guard; one that is not would be set as ``lookup(fn).masked_rule`` by hand, with the reason.)
- ``ranked_adjoint(*fns, ranks=...)`` (a separate decorator, like ``scalar_adjoint``) adds a variant
  for operands whose numbers of axes are known at compile time; ask ``ranked_rule(fn, ranks)``.
- ``inline``: ``False`` registers a rule that emitted code calls rather than inlines (it may
  contain loops and branches), as for user rules (``register_adjoint``; see
  ``reverse/calls.call_user_rule``, which passes no keyword arguments). No built-in rule uses it yet.

- ``complex_ok``: the rule's body is right for complex values too, under the convention of
  ``docs/complex.md`` (a cotangent ``c`` pairs with a change ``dz`` as ``Re(c * dz)``, no conjugate; that is
  autograd's and JAX's): a holomorphic function's derivative times ``g`` (``g * np.cos(x)``), a
  rearrangement, sum or selection of ``g``, or a body written for complex values (``np.conjugate(g)``).
  A function differentiated with complex arguments may apply only such rules; any other is refused at
  its call (``applied``). Its masked and ranked variants share it; a scalar variant (``scalar_adjoint``)
  states its own, and a user's ``register_adjoint`` rule never has it.
- ``absorbs_broadcast``: the body sums a cotangent larger than the result (broadcast by the result's one
  reader, ``x @ w + b``) back to the operands' shapes itself (``runtime.matmul_bar1``), so the reader's
  ``unbroadcast`` to the result's shape may go (``reverse/shapes.broadcast_absorbed``). Not its variants'.
- ``makes_complex``: the result is complex for real arguments (``np.fft.fft``): a compilation that looks up its rule
  makes complex values, whatever name the call reached it by (pipeline.py); ask ``makes_complex(fn)``.
- ``draws``: a call draws from a random generator (``rng.normal``), advancing its state: it runs exactly once
  per call written, never recomputed (a checkpointed loop refuses it). Ask ``draws(fn)``. A method bound to a
  ``np.random.Generator`` or ``RandomState`` is keyed on its class's function (``np.random.Generator.normal``).
- ``linear``: the function is linear, so forward mode applies it to tangents (tangent.py): ``"first"``
  in its first argument (a sequence of arrays counts as one: ``np.sum(x_dot, axis=0)``), the others
  constants, though one whose adjoint is ``None`` may be active, as it gives only a shape (``like`` in
  ``unbroadcast(c, like)``); ``"each"`` in each array argument apart, a product (``np.dot(a_dot, b) +
  np.dot(a, b_dot)``); ``"all"`` in all its arguments at once (``add_bars(a_dot, b_dot)``, ``sum(xs_dot,
  start_dot)``). Ask ``linearity(fn)``. ``linear(*fns, kind=...)`` states the same of a function with no
  adjoint rule (``np.cumsum``: forward mode only).

Tangent rules, for forward mode: ``@tangent(*fns)`` registers ``rule(dot, ans, *params)``, shaped like an
adjoint rule and beside it in the same file. It returns one result per parameter: the tangent of
``ans`` due to that parameter alone, whose tangent is ``dot`` (``J_i dot``; ``None`` for a parameter that
carries no derivative); the compiler instantiates it once per differentiated operand, computing what
does not depend on ``dot`` once, and sums (``templates.instantiate_tangent``). The body is straight-line, as
an adjoint rule's. Ask ``tangent_rule(fn)``. A function with no tangent rule and no ``linear`` fact gets
a tangent derived from its adjoint rule (element-wise functions: the same body without the sums that
undo broadcasting; reductions whose adjoint is ``unreduce(g) * W``), or is refused in forward mode. A
tangent rule states the derivative itself, so a user's ``register_adjoint`` does not replace it.

``form(fn, variant, positional=..., keywords=...)`` states that a call of ``fn`` with that many positional
arguments, or passing one of those keywords, is differentiated as ``variant``, a function of its own with
its own rule or declaration (``max(xs)``, of one iterable, as ``py_builtins.max_of``; ``pow(a, b, m)`` as
the non-differentiable ``pow_mod``); the call itself is emitted as written. Ask ``call_form(fn, positional,
keywords)``.

A ``math`` function listed beside a ufunc gets the ufunc body's float form (``on_floats``), so each
derivative is written once. Invariant: a function has at most one rule; a later registration
replaces the earlier rule with its variants (a user's ``register_adjoint`` overrides a built-in
rule), while the facts declared for the function (view, shape, method) stay.

>>> import math
>>> import numpy as np
>>> import adjoint_compiler  # registers the built-in rules
>>> lookup(np.sum).inline, shape_class(np.sum), method_function("sum") is np.sum, is_view(np.reshape)
(True, 'reduce', True, True)
>>> lookup(math.cos).rule.__name__, lookup(np.cos).rule.__name__, lookup(np.sqrt).masked_rule.rule.__name__
('cos_float_adjoint', 'cos_adjoint', 'sqrt_masked_adjoint')
>>> call_form(max, 1).__name__, call_form(max, 2) is max  # max(xs) of one iterable, max(a, b)
('max_of', True)
>>> linearity(np.sum), linearity(np.matmul), linearity(np.cumsum), linearity(np.sin)
('first', 'each', 'first', None)
>>> inv = np.array([[2.0, 0.0], [0.0, 4.0]])  # np.linalg.inv of diag(0.5, 0.25)
>>> tangent_rule(np.linalg.inv).rule(np.eye(2), inv, np.diag([0.5, 0.25])).tolist()  # -C dA C
[[-4.0, -0.0], [-0.0, -16.0]]
"""

import ast
import contextlib
import inspect
import itertools
import linecache
import math
import textwrap
import threading
import weakref

import numpy as np

from adjoint_compiler import runtime, templates


class Rule:
    __slots__ = (
        "fn",
        "rule",
        "params",
        "inline",
        "origin",
        "scalar_rule",
        "masked_rule",
        "ranked",
        "complex_ok",
        "absorbs_broadcast",
    )

    def __init__(self, fn, rule, inline, complex_ok=False):
        self.fn = fn
        self.rule = rule
        sig = inspect.signature(rule)
        names = list(sig.parameters)
        if len(names) < 2:
            raise TypeError("an adjoint rule takes (g, ans, *params); %s takes %s" % (rule.__name__, names))
        self.params = tuple(names[2:])
        self.inline = inline
        if inline:  # parsed when first used (templates.py), from its file's text as it is now
            templates.snapshot(rule)
        self.origin = getattr(rule, "__module__", None)
        self.scalar_rule = None  # a cheaper body used where every operand is known to be a scalar
        self.masked_rule = None  # a body that keeps a zero cotangent zero where the derivative is nan/inf
        self.ranked = {}  # operand ranks (None: any) -> a body for operands of those numbers of axes
        self.complex_ok = complex_ok  # the body is right for complex values too (``adjoint(complex_ok=True)``)
        self.absorbs_broadcast = False  # (``adjoint(absorbs_broadcast=True)``)

    def __repr__(self):
        return "Rule(%s -> %s)" % (getattr(self.fn, "__name__", self.fn), self.rule.__name__)


_RULES = {}
_NONDIFF = {}
IN_PLACE = "in-place update bookkeeping"  # the reason of runtime helpers that only move cotangents around
_NONDIFF_ATTRIBUTES = set()
_METHODS = {}  # ndarray method name -> the function it is differentiated as
_NONDIFF_METHODS = {}  # ndarray method name -> the non-differentiable function it calls (x.argmax())
_ATTRIBUTES = {}  # ndarray attribute name -> the function it is differentiated as
_VIEWS = {}  # function (or attribute/method name) -> True: its result may share memory with an argument
_VIEW_NAMES = set()  # the names of _VIEWS: for a call known only by its spelling
_SHAPES = {}  # function -> shape class
_LINEAR = {}  # function -> "first", "each" or "all": how it is linear (forward mode applies it to tangents)
_LINEAR_KINDS = ("first", "each", "all")
_TANGENTS = {}  # function -> Rule holding its tangent rule (dot, ans, *params)
_FORMS = {}  # function -> [(positional count, keyword names, variant)]: calls differentiated as another function


def _key(fn):
    # ufuncs, builtins and functions are hashable; bound methods are compared by identity of the function.
    # A draw of a NumPy generator (rng.normal, np.random.normal: a method bound to one Generator or
    # RandomState) is keyed on its class's function, so that one rule serves every generator.
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, _GENERATORS):
        return getattr(type(owner), getattr(fn, "__name__", ""), fn)
    return fn


_GENERATORS = (np.random.Generator, np.random.RandomState)
# the calls whose result is a generator of a class known at compile time (rng = np.random.default_rng(seed))
_GENERATOR_MAKERS = {np.random.default_rng: np.random.Generator, np.random.RandomState: np.random.RandomState}


def generator_class(maker):
    """The class of generator a call of ``maker`` makes (``np.random.default_rng``: ``Generator``), or None."""
    try:
        return _GENERATOR_MAKERS.get(maker)
    except TypeError:  # unhashable
        return None


def draw_of(cls, name):
    """``cls.name`` (``Generator.normal``) if it is a draw with a rule, else None."""
    fn = getattr(cls, name, None) if cls is not None else None
    return fn if fn is not None and draws(fn) else None


_MADE_CALLS = {}  # class -> the function a call of its instances is differentiated as (made_call)


def made_call(cls, fn):
    """Declare that a call of an instance of ``cls`` made in the user's function, ``cls(*made)(*args)``, is
    differentiated as ``fn(*args, *made)`` (a function with rules): ``np.polynomial.Polynomial(c)(x)`` as
    ``polynomial_call(x, c)``, as a frozen distribution's method (``method_of_made``)."""
    _MADE_CALLS[_key(cls)] = fn


def _is_distribution(maker):
    # a scipy.stats distribution object (norm, t, gamma ...), whose call freezes its parameters
    # (a Cython function's type has a descriptor, not a str, as __module__ on some NumPy versions)
    module = getattr(type(maker), "__module__", None)
    return isinstance(module, str) and module.startswith("scipy.stats.") and callable(getattr(maker, "freeze", None))


def method_of_made(maker, name):
    """What ``maker(...).name(...)`` is differentiated as, for an object whose class a call of ``maker`` fixes:
    ``(fn, False)`` for a draw of a generator (``np.random.default_rng(0).normal``: ``Generator.normal``, the
    same arguments); ``(fn, True)`` for a method of a frozen scipy.stats distribution (``norm(loc, scale).logpdf(x)``
    as ``norm.logpdf(x, loc, scale)``: the method's arguments, then the distribution's), or for ``name``
    ``"__call__"`` of a class declared by ``made_call``; None otherwise."""
    drawn = draw_of(generator_class(maker), name)
    if drawn is not None:
        return drawn, False
    try:
        called = _MADE_CALLS.get(_key(maker)) if name == "__call__" else None
    except TypeError:  # unhashable
        called = None
    if called is not None:  # np.polynomial.Polynomial(c)(x) as polynomial_call(x, c): as a frozen distribution's
        return called, True
    if _is_distribution(maker):
        fn = getattr(maker, name, None)
        if fn is not None and lookup(fn) is not None:
            return fn, True
    return None


_DRAWS = set()  # functions whose call advances a random generator: never recomputed nor shared
_COMPLEX_MAKERS = set()  # functions whose result is complex for real arguments (np.fft's transforms)


def makes_complex(fn):
    """Whether ``fn`` makes complex values of real arguments (``@adjoint(..., makes_complex=True)``): a
    function differentiated through a call of it runs as complex arguments run (api._complex_call), however
    the call names it (``transform = np.fft.fft``, a parameter)."""
    try:
        return _key(fn) in _COMPLEX_MAKERS
    except TypeError:
        return False


def _names(spelling):
    return (spelling,) if isinstance(spelling, str) else tuple(spelling or ())


def adjoint(
    *fns,
    method=None,
    attribute=None,
    view=False,
    shape=None,
    masked=False,
    inline=True,
    linear=None,
    floats=True,
    draws=False,
    complex_ok=False,
    absorbs_broadcast=False,
    makes_complex=False,
):
    """Decorator registering a built-in rule for each of ``fns``, with the facts given as keywords
    (see the module docstring). A function of the ``math`` module among ``fns`` gets the rule's
    float form (``on_floats``; not with ``floats=False``: ``math.prod`` of a sequence, whose cotangent
    is one) and no masked variant: its domain errors raise in the forward call, so no nan or inf
    derivative can reach a branch of ``np.where``."""

    def register(rule):
        masked_rule = _guarded(rule) if masked else None
        float_rule = None
        for fn in fns:
            on_math = getattr(fn, "__module__", None) == "math" and floats
            if on_math:
                float_rule = float_rule or on_floats(rule)
            entry = _RULES[_key(fn)] = Rule(fn, float_rule if on_math else rule, inline, complex_ok and not on_math)
            entry.absorbs_broadcast = absorbs_broadcast
            if masked_rule is not None and not on_math:
                entry.masked_rule = Rule(fn, masked_rule, True, complex_ok)
            if view:
                views(fn)
            if shape is not None:
                _SHAPES[_key(fn)] = shape
            if draws:
                _DRAWS.add(_key(fn))
            if makes_complex:
                _COMPLEX_MAKERS.add(_key(fn))
        if linear is not None:
            _declare_linear(fns, linear)
        for name in _names(method):
            _METHODS[name] = fns[0]
        for name in _names(attribute):
            _ATTRIBUTES[name] = fns[0]
        return rule

    return register


def scalar_adjoint(*fns, complex_ok=False):
    """Decorator adding, to the rule of each of ``fns``, a variant for scalar operands only.

    Used where the general body is slow on Python floats (e.g. ``np.sign`` turns
    every later operation into NumPy scalar arithmetic). ``complex_ok``: as ``adjoint``'s, of this body.
    """

    def register(rule):
        for fn in fns:
            _RULES[_key(fn)].scalar_rule = Rule(fn, rule, True, complex_ok)
        return rule

    return register


FRAGMENT_MARK = "__adjoint_fragment__"


def fragment(fn):
    """Mark ``fn`` as a piece of rule body: straight-line assignments ending in ``return``, which a
    rule may call (``c = piece(g, a)``, or as an element of its returned tuple) where one formula
    serves several operands; templates.py inlines it there with fresh names, tests call it as is."""
    setattr(fn, FRAGMENT_MARK, True)
    templates.snapshot(fn)
    return fn


def ranked_adjoint(*fns, ranks):
    """Decorator adding, to the rule of each of ``fns``, a variant for operands whose numbers of axes
    are known at compile time to be ``ranks`` (one per operand, None for any): the textbook formula
    for that case (``g @ b.T``, ``np.outer(g, b)``) in place of the general rule's run-time case split.
    Ask ``ranked_rule(fn, ranks)``."""

    def register(rule):
        for fn in fns:
            entry = _RULES[_key(fn)]
            entry.ranked[tuple(ranks)] = Rule(fn, rule, True, entry.complex_ok)  # (the textbook formula: as safe)
        return rule

    return register


def tangent(*fns, complex_ok=False):
    """Decorator registering a tangent rule ``rule(dot, ans, *params)`` for each of ``fns`` (see the module
    docstring): one result per parameter, the tangent of ``ans`` due to that parameter, whose tangent is
    ``dot``. A later registration replaces an earlier one. ``complex_ok``: as ``adjoint``'s, of this body."""

    def register(rule):
        for fn in fns:
            _TANGENTS[_key(fn)] = Rule(fn, rule, True, complex_ok)
        return rule

    return register


def linear(*fns, kind="first"):
    """Declare that each of ``fns`` is linear, in the sense ``kind`` (``"first"``, ``"each"``, ``"all"``; see
    the module docstring), so that forward mode applies it to tangents. ``@adjoint(..., linear=kind)`` says
    the same of functions with a rule."""
    _declare_linear(fns, kind)


def _declare_linear(fns, kind):
    if kind not in _LINEAR_KINDS:
        raise ValueError("linear=%r: one of %s" % (kind, ", ".join(_LINEAR_KINDS)))
    for fn in fns:
        _LINEAR[_key(fn)] = kind


def form(fn, variant, positional=None, keywords=()):
    """Declare that a call of ``fn`` with ``positional`` positional arguments (None: whatever their number),
    or passing any of ``keywords``, is differentiated as ``variant`` (see the module docstring)."""
    _FORMS.setdefault(_key(fn), []).append((positional, frozenset(keywords), variant))


def call_form(fn, positional, keywords=()):
    """The function a call of ``fn`` with ``positional`` positional arguments and ``keywords`` is
    differentiated as: a declared ``form``'s variant, or ``fn`` itself."""
    try:
        forms = _FORMS.get(_key(fn), ())
    except TypeError:  # unhashable callable
        return fn
    for count, names, variant in forms:
        if count == positional or names & set(keywords):
            return variant
    return fn


def ranked_rule(fn, ranks):
    """The variant of ``fn``'s rule for operands of ``ranks`` axes (None: unknown), or None. An exact
    match is preferred to one with a wildcard."""
    entry = lookup(fn)
    if entry is None or not entry.ranked:
        return None
    matches = [
        (sum(r is None for r in pattern), variant)
        for pattern, variant in entry.ranked.items()
        if len(pattern) == len(ranks) and all(p is None or p == r for p, r in zip(pattern, ranks))
    ]
    return min(matches, key=lambda m: m[0])[1] if matches else None


_GENERATED = itertools.count()


def _derived(rule, kind, rewrite, name=None, **names):
    """A variant of ``rule`` named ``<name>_<kind>_adjoint`` (or ``name``): its source with ``rewrite`` applied
    to the function's tree, made a real function with readable source (registered with linecache), so that
    tests call it and templates parse it like a rule written by hand."""
    tree = ast.parse(textwrap.dedent(templates.source_of(rule)))
    fn = tree.body[0]
    fn.decorator_list = []
    fn.name = name or rule.__name__.replace("_adjoint", "_%s_adjoint" % kind)
    rewrite(fn)
    text = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    filename = "<%s %s %d>" % (kind, fn.name, next(_GENERATED))
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {}
    scope = dict(rule.__globals__, **names) if names else rule.__globals__  # (names the rewrite brings in)
    exec(compile(text, filename, "exec"), scope, namespace)  # noqa: S102 (our own rule's source)
    made = namespace[fn.name]
    made.__module__ = rule.__module__
    return made


def _guarded(rule):
    """``rule`` with its result ``r`` returned as ``cotangent_where(g, r)`` (``np.where(g == 0.0, 0.0, r)``, with a
    derivative of its own); a rule of several operands (a tuple of ``unbroadcast(c, like)``) has each ``c``
    guarded so, before it is summed to its operand's shape."""

    def where(fn, value):
        return ast.Call(
            func=ast.Name(id="cotangent_where", ctx=ast.Load()),
            args=[ast.Name(id=fn.args.args[0].arg, ctx=ast.Load()), value],
            keywords=[],
        )

    def guard(fn):
        ret = fn.body[-1]
        if not isinstance(ret.value, ast.Tuple):
            ret.value = where(fn, ret.value)
            return
        for c in ret.value.elts:
            if not (isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == "unbroadcast"):
                raise TypeError("masked rule %s: each result must be unbroadcast(c, like)" % rule.__name__)
            c.args[0] = where(fn, c.args[0])

    return _derived(rule, "masked", guard, cotangent_where=runtime.cotangent_where)


class _Substitute(ast.NodeTransformer):
    """Each read of a name in ``values`` becomes a copy of its expression."""

    def __init__(self, values):
        self.values = values

    def visit_Name(self, node):
        value = self.values.get(node.id)
        return ast.parse(value, mode="eval").body if value is not None and isinstance(node.ctx, ast.Load) else node


def exp_of(rule, name):
    """The rule, named ``name``, of ``exp(f)`` made from ``rule``, an adjoint ``(g, ans, ...)`` or tangent ``(dot,
    ans, ...)`` rule of ``f``: a density from its log-density's rule (scipy_stats.py), written once. Since
    ``d exp(f) = exp(f) df``, ``g`` becomes ``g * ans`` and ``ans`` (``f``'s value, which the body may read)
    ``np.log(ans)`` (of 1 where ``ans`` is 0, so that no inf reaches a second derivative); a tangent ``t`` becomes
    ``ans * t`` (``dot`` becomes ``dot * ans`` in an element-wise fragment's call). Each ``unbroadcast(c, like)``'s
    ``c``, and each such tangent, is guarded (``cotangent_where(g * ans, c)``, ``cotangent_where(ans, ans * t)``):
    where ``exp(f)`` is 0 (off a support, where ``f`` is ``-inf`` and its derivative's formula may be inf or nan)
    the derivative is exactly 0, as the function is constant there. A fragment's result is left as it is. A
    function 0 also where its derivative is not (a pmf at p == 1) must not be made so."""
    seed = rule.__code__.co_varnames[0]
    fragments = {n for n, v in rule.__globals__.items() if getattr(v, FRAGMENT_MARK, False)}

    def expr(text):
        return ast.parse(text, mode="eval").body

    def guarded(value, scale):
        return ast.Call(func=ast.Name(id="cotangent_where", ctx=ast.Load()), args=[expr(scale), value], keywords=[])

    def is_call_of(node, names):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names

    def rewrite(fn):
        reads_ans = any(isinstance(n, ast.Name) and n.id == "ans" for stmt in fn.body for n in ast.walk(stmt))
        values = {"ans": "np.log(np.where(ans > 0.0, ans, 1.0))"} if reads_ans else {}  # (the guard's 0 where 0)
        ret = fn.body[-1]
        # a cotangent has ans's shape, as an element-wise fragment's tangent; another tangent J dot is scaled after
        scaled_after = seed == "dot" and not is_call_of(ret.value, fragments)
        if not scaled_after:
            values[seed] = "%s * ans" % seed
        fn.body = [_Substitute(values).visit(stmt) for stmt in fn.body]
        ret = fn.body[-1]
        results = ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]
        for i, c in enumerate(results):
            if scaled_after and not (isinstance(c, ast.Constant) and c.value is None):
                results[i] = guarded(ast.BinOp(left=expr("ans"), op=ast.Mult(), right=c), "ans")
            elif is_call_of(c, {"unbroadcast"}):
                c.args[0] = guarded(c.args[0], "g * ans")
        if not isinstance(ret.value, ast.Tuple):
            ret.value = results[0]

    return _derived(rule, "exp", rewrite, name=name, cotangent_where=runtime.cotangent_where)


class _OnFloats(ast.NodeTransformer):
    """``np.f`` -> ``math.f``, ``unbroadcast(c, like)`` -> ``c``."""

    def __init__(self, rule):
        self.rule = rule

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "np":
            if not hasattr(math, node.attr):
                raise TypeError("rule %s calls np.%s, which math lacks" % (self.rule.__name__, node.attr))
            return ast.Attribute(value=ast.Name(id="math", ctx=ast.Load()), attr=node.attr, ctx=node.ctx)
        return self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "unbroadcast":
            return self.visit(node.args[0])
        return self.generic_visit(node)


def on_floats(rule):
    """The form of a NumPy ufunc's ``rule`` for the ``math`` function with the same derivative: NumPy
    calls become ``math`` calls and ``unbroadcast`` goes (floats do not broadcast), so emitted scalar
    code stays on Python floats. A body with neither is returned as it is, the same function.

    >>> import numpy as np
    >>> from adjoint_compiler.runtime import unbroadcast
    >>> def arctan2_adjoint(g, ans, y, x):
    ...     r2 = x * x + y * y
    ...     return unbroadcast(g * x / r2, y), unbroadcast(-g * y / r2, x)
    >>> import inspect
    >>> print(inspect.getsource(on_floats(arctan2_adjoint)).strip())
    def arctan2_float_adjoint(g, ans, y, x):
        r2 = x * x + y * y
        return (g * x / r2, -g * y / r2)
    >>> def tanh_adjoint(g, ans, x):
    ...     return g * (1.0 - ans * ans)
    >>> on_floats(tanh_adjoint) is tanh_adjoint
    True
    """
    body = ast.parse(textwrap.dedent(templates.source_of(rule))).body[0].body
    if not any(isinstance(n, ast.Name) and n.id in ("np", "unbroadcast") for stmt in body for n in ast.walk(stmt)):
        return rule
    return _derived(rule, "float", lambda fn: [_OnFloats(rule).visit(stmt) for stmt in fn.body])


REGISTERED = {"token": object()}  # replaced at each register_adjoint (pipeline.Compiled.current checks it)

# What holds compiled code past ``Compiled.current``'s per-call check (a transform's fast path, kept where
# no global the code read can go stale): each is emptied at a register_adjoint, so that every held
# gradient sees the new rule at its next call, as a fresh one does, at no cost per call
# id -> weak reference of each holder. Not a WeakSet: its iteration fails where another thread adds to it or
# drops a holder meanwhile (the weak reference's callback runs unlocked in the thread that drops it), and a
# gradient made while register_adjoint empties the caches would leave the rest holding code with the old
# rule. Reentrant: a collection inside a locked region may drop a holder in the same thread.
_HELD = {}
_HELD_LOCK = threading.RLock()


class Held(dict):
    """A cache of compiled code (a dict) emptied at each ``register_adjoint``; equal only to itself (a
    member of a set of them)."""

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __init__(self):
        super().__init__()
        hold(self)


def hold(holder):
    """Register ``holder`` (an object with a ``clear()`` method forgetting the compiled code it holds)
    to be cleared at each ``register_adjoint``; returns it."""
    key = id(holder)

    def forget(ref):
        with _HELD_LOCK:
            if _HELD.get(key) is ref:
                del _HELD[key]

    with _HELD_LOCK:
        _HELD[key] = weakref.ref(holder, forget)
    return holder


def register_adjoint(fn, rule=None):
    """Register an adjoint rule for ``fn``: ``@register_adjoint(fn)`` or ``register_adjoint(fn, rule)``.

    For a function without Python source (a C extension, an ``np.vectorize``) or to replace the
    derived adjoint. ``rule(g, ans, *args)`` receives the cotangent ``g`` of ``fn``'s result ``ans``
    and the call's arguments, and returns one cotangent per argument (a single value for a function
    of one argument, a 1-tuple accepted too; a tuple otherwise; ``None`` for an argument with no
    derivative), each of its argument's shape; another count is a TypeError at the call, naming the
    rule. Emitted code calls the rule (it is not inlined, so its body may contain loops and
    branches); a later registration replaces an earlier rule, a built-in one included, also in code
    compiled before it.
    The rule serves reverse mode (``grad``, ``value_and_grad``, ``vjp``); forward mode of a call of
    ``fn`` is refused. Test it with ``adjoint_compiler.testing.check_rule``.

    Args:
        fn: the function, as called in the differentiated code.
        rule: the adjoint; omitted, ``register_adjoint(fn)`` is a decorator.

    Returns:
        The rule (so the decorator leaves the name bound to it).
    """

    def register(rule):
        _RULES[_key(fn)] = Rule(fn, rule, inline=False)
        rules_changed()
        return rule

    return register(rule) if rule is not None else register


def rules_changed():
    """Make every compilation stale: code compiled before may call or inline a rule replaced since."""
    REGISTERED["token"] = object()
    with _HELD_LOCK:
        refs = list(_HELD.values())
    for ref in refs:
        holder = ref()
        if holder is not None:
            holder.clear()


def nondifferentiable(*fns, reason="not differentiable", method=None):
    """Declare that ``fns`` carry no derivative (``reason`` says why); ``method``: the ndarray method name
    (or names) that calls the first of them, as for ``adjoint`` (``x.argmax()`` as ``np.argmax(x)``)."""
    for fn in fns:
        _NONDIFF[_key(fn)] = reason
    for name in _names(method):
        _NONDIFF_METHODS[name] = fns[0]


def nondifferentiable_attributes(*names):
    """Declare ndarray attributes that carry no derivative (``x.shape``)."""
    _NONDIFF_ATTRIBUTES.update(names)


def views(*fns):
    """Declare that each of ``fns`` (a function with no rule, or an attribute or method name) may return
    a view of an argument."""
    for fn in fns:
        _VIEWS[_key(fn)] = True
        _VIEW_NAMES.add(fn if isinstance(fn, str) else fn.__name__)


_TRACKED = threading.local()  # .seen: the functions whose rules the compilation running in this thread asked for
# .real_only: (function's label, location) of each rule it applied that is not ``complex_ok``, the first per function


class Seen(set):
    """``tracking``'s set of functions, with ``real_only``: the rules applied that hold for real values only."""

    real_only = None


@contextlib.contextmanager
def tracking():
    """Collect the functions ``lookup`` is asked about, in this thread, while the block runs (one
    compilation; a callee compiled inside it has its own): the set is what the block yields. The disk
    cache keeps them with the compilation, which a rule registered later for one of them makes stale.
    Its ``real_only`` collects what ``applied`` is told of rules that are not ``complex_ok``."""
    outer = getattr(_TRACKED, "seen", None)
    _TRACKED.seen = seen = Seen()
    seen.real_only = {}
    try:
        yield seen
    finally:
        _TRACKED.seen = outer


def applied(fn, rule, where):
    """The compilation running in this thread applied ``rule`` (a Rule: the one chosen for the call, a
    variant or the function's own) to differentiate a call of ``fn``; ``where()`` gives the call's (label,
    location). One that is not ``complex_ok`` is noted, so that the gradient refuses complex arguments
    there (api.py)."""
    seen = getattr(_TRACKED, "seen", None)
    if seen is not None and not rule.complex_ok and fn not in seen.real_only:
        seen.real_only[fn] = where()


def lookup(fn):
    try:
        rule = _RULES.get(_key(fn))
    except TypeError:  # unhashable callable
        return None
    seen = getattr(_TRACKED, "seen", None)
    if seen is not None:
        seen.add(fn)
    return rule


def tangent_rule(fn):
    """The Rule holding ``fn``'s tangent rule, or None."""
    try:
        return _TANGENTS.get(_key(fn))
    except TypeError:
        return None


def linearity(fn):
    """How ``fn`` is linear (``"first"``, ``"each"``, ``"all"``), or None."""
    try:
        return _LINEAR.get(_key(fn))
    except TypeError:
        return None


def draws(fn):
    """Whether a call of ``fn`` draws from a random generator (its state advances at each call), so that it
    must run exactly once per call written: never recomputed (checkpointed loops) nor shared."""
    try:
        return _key(fn) in _DRAWS
    except TypeError:
        return False


def is_nondifferentiable(fn):
    try:
        return _key(fn) in _NONDIFF
    except TypeError:
        return False


def nondifferentiable_reason(fn):
    """Why ``fn`` is declared without derivative, or None."""
    try:
        return _NONDIFF.get(_key(fn))
    except TypeError:  # unhashable
        return None


def is_nondifferentiable_attribute(name):
    return name in _NONDIFF_ATTRIBUTES


def method_function(name):
    """The function the ndarray method ``name`` is differentiated as, or None."""
    return _METHODS.get(name) or _NONDIFF_METHODS.get(name)


def attribute_function(name):
    """The function the ndarray attribute ``name`` is differentiated as, or None."""
    return _ATTRIBUTES.get(name)


def is_view(fn):
    try:
        return _VIEWS.get(_key(fn), False)
    except TypeError:
        return False


def view_names():
    """The names (``__name__`` of a function, or an attribute or method name) declared as views."""
    return frozenset(_VIEW_NAMES)


def is_view_name(name):
    """Whether ``np.<name>(...)``, ``x.<name>`` or ``x.<name>(...)`` may return a view of an operand."""
    return name in _VIEW_NAMES


def shape_class(fn):
    try:
        return _SHAPES.get(_key(fn))
    except TypeError:
        return None


def all_rules():
    return dict(_RULES)


def declared_methods():
    """The methods of functions with a rule (those of non-differentiable ones: nondifferentiable_methods)."""
    return dict(_METHODS)


def nondifferentiable_methods():
    return dict(_NONDIFF_METHODS)


def declared_attributes():
    return dict(_ATTRIBUTES)


def declared_views():
    return dict(_VIEWS)


def all_tangent_rules():
    return dict(_TANGENTS)


def declared_forms():
    """function -> [(positional count, keyword names, variant)]."""
    return {fn: list(forms) for fn, forms in _FORMS.items()}


def declared_linear():
    return dict(_LINEAR)


def nondifferentiable_functions():
    return dict(_NONDIFF)
