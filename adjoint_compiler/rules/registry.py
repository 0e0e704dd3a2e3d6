"""One registry for every adjoint: built-in rules (inlined) and user rules (called).

A rule is a plain Python function ``rule(g, ans, *params)`` that returns the
cotangent of each parameter, given the cotangent ``g`` of the result ``ans``:
a single value for one parameter, a tuple for several, ``None`` for a
parameter that gets no gradient. Tests call the same function directly.
"""
import inspect


class Rule:
    __slots__ = ("fn", "rule", "params", "inline", "origin", "scalar_rule", "masked_rule")

    def __init__(self, fn, rule, inline):
        self.fn = fn
        self.rule = rule
        sig = inspect.signature(rule)
        names = list(sig.parameters)
        if len(names) < 2:
            raise TypeError("an adjoint rule takes (g, ans, *params); %s takes %s" % (rule.__name__, names))
        self.params = tuple(names[2:])
        self.inline = inline
        self.origin = getattr(rule, "__module__", None)
        self.scalar_rule = None  # a cheaper body used where every operand is known to be a scalar
        self.masked_rule = None  # a body that keeps a zero cotangent zero where the derivative is nan/inf

    def __repr__(self):
        return "Rule(%s -> %s)" % (getattr(self.fn, "__name__", self.fn), self.rule.__name__)


_RULES = {}
_NONDIFF = {}


def _key(fn):
    # ufuncs, builtins and functions are hashable; bound methods are compared by identity of the function
    return fn


def adjoint(*fns):
    """Decorator registering a built-in rule (inlined into emitted code) for each of ``fns``."""

    def register(rule):
        for fn in fns:
            _RULES[_key(fn)] = Rule(fn, rule, inline=True)
        return rule

    return register


def scalar_adjoint(*fns):
    """Decorator adding, to the rule of each of ``fns``, a variant for scalar operands only.

    Used where the general body is slow on Python floats (e.g. ``np.sign`` turns
    every later operation into NumPy scalar arithmetic).
    """

    def register(rule):
        for fn in fns:
            _RULES[_key(fn)].scalar_rule = Rule(fn, rule, inline=True)
        return rule

    return register


def masked_adjoint(*fns):
    """Decorator adding, to the rule of each of ``fns``, a variant used for values feeding np.where."""

    def register(rule):
        for fn in fns:
            _RULES[_key(fn)].masked_rule = Rule(fn, rule, inline=True)
        return rule

    return register


def register_adjoint(fn, rule=None):
    """Register a user adjoint for ``fn``; emitted code calls it rather than inlining it.

    Usable as ``register_adjoint(fn, rule)`` or as a decorator ``@register_adjoint(fn)``.
    """

    def register(rule):
        _RULES[_key(fn)] = Rule(fn, rule, inline=False)
        return rule

    return register(rule) if rule is not None else register


def nondifferentiable(*fns, reason="not differentiable"):
    for fn in fns:
        _NONDIFF[_key(fn)] = reason


def lookup(fn):
    try:
        return _RULES.get(_key(fn))
    except TypeError:  # unhashable callable
        return None


def is_nondifferentiable(fn):
    try:
        return _key(fn) in _NONDIFF
    except TypeError:
        return False


def all_rules():
    return dict(_RULES)
