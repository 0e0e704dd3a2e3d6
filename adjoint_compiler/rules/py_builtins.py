"""Adjoints of the differentiable builtins: ``abs``, ``min``/``max`` of two values and of an iterable,
``sum``, ``float``, ``pow`` and ``sorted``.

``max(a, b, c)`` is nested into two-value calls by ``anf``, ``max(a, b, key=k)`` becomes
``max((a, b), key=k)`` there; a call with one positional argument (an iterable, with ``key=`` and
``default=``) is differentiated as ``max_of``/``min_of`` (``registry.form``), whose rules find the
element Python returned with ``runtime.chosen``. ``pow(a, b)`` is ``a ** b`` (operators.py's rule);
three-argument ``pow`` is modular integer arithmetic, ``pow_mod``, non-differentiable. ``sorted`` finds
the permutation again and sends each cotangent back through it (``runtime.sorted_bar``; ``sorted`` of a
dict lists its keys: zero cotangent); ``reversed(xs)`` and ``divmod(a, b)`` are rewritten by ``anf`` as ``xs[::-1]`` and
``(a // b, a % b)``. ``round`` and ``int`` are declared non-differentiable (nondiff.py).

Invariant: where the builtin returns one of its arguments or elements (``max``, ``min``; ``abs``
up to sign) the whole cotangent goes to that one, on ties to the one Python
returns (the first), and ``abs`` on a Python float keeps the cotangent a float
(its scalar variant, without ``np.sign``).

>>> max_adjoint(1.0, 2.0, 2.0, 2.0), min_adjoint(1.0, 1.0, 1.0, 3.0)
((1.0, 0.0), (1.0, 0.0))
>>> abs_scalar_adjoint(1.0, 2.0, -2.0)
-1.0
>>> [float(v) for v in extremum_of_adjoint(1.0, 3.0, [3.0, 1.0, 3.0])[0]]  # a list's: to the first largest
[1.0, 0.0, 0.0]
"""

from adjoint_compiler.runtime import chosen, elements_bar, hit_at, sign_times, sorted_bar, sorted_dot, unreduce

from adjoint_compiler.rules import operators
from adjoint_compiler.rules.registry import adjoint, form, nondifferentiable, scalar_adjoint, tangent


@adjoint(abs, complex_ok=True)
def abs_adjoint(g, ans, x):
    # abs also applies to arrays (via __abs__), hence np.sign; at 0 the
    # subgradient 0 is used, as np.sign(0) == 0. Of complex values as np.abs's (np_elementwise.py).
    return sign_times(g, x)


@tangent(abs, complex_ok=True)
def abs_tangent(dot, ans, x):
    return sign_times(dot, x, True)


@scalar_adjoint(abs)
def abs_scalar_adjoint(g, ans, x):
    # for Python floats: stays a float (np.sign would give np.float64 and slow what follows)
    return g if x > 0 else (-g if x < 0 else 0.0)


@adjoint(max)
def max_adjoint(g, ans, x, y):
    # Two values only. Python's max returns y only when y > x (so x on ties, and
    # x when either is NaN); the whole cotangent goes to the returned one.
    # Conditional expressions rather than g * (y > x): with g == 1.0 folded away,
    # that product would leave a bool as the gradient.
    return (0.0 if y > x else g), (g if y > x else 0.0)


@adjoint(min)
def min_adjoint(g, ans, x, y):
    # Two values only. Python's min returns y only when y < x (so x on ties, and
    # x when either is NaN); the whole cotangent goes to the returned one.
    return (0.0 if y < x else g), (g if y < x else 0.0)


@adjoint(sum, linear="all")  # sum(xs, start): linear in both at once
def sum_adjoint(g, ans, xs, start=0):
    # every element (first-axis slice) of xs receives the whole cotangent
    return unreduce(g, xs, 0), g


@adjoint(float, linear="first")
def float_adjoint(g, ans, x):
    return g


# ---- container constructors (list(xs), tuple(xs)) ----------------------------------------------------
# A new list or tuple of xs's elements (of an array: its rows): element k's cotangent is xs's element
# k's. Of a dict (its keys, never differentiated) the cotangent is zero; dict(...) itself is lowered by
# anf to a display or to stores.


@adjoint(list, tuple, linear="first", complex_ok=True)
def sequence_adjoint(g, ans, xs):
    return elements_bar(g, xs)


def max_of(iterable, key=None, default=None):
    """``max`` of one iterable (``registry.form``): what its rule is registered for."""
    return max(iterable, key=key) if default is None else max(iterable, key=key, default=default)


def min_of(iterable, key=None, default=None):
    """``min`` of one iterable (``registry.form``): what its rule is registered for."""
    return min(iterable, key=key) if default is None else min(iterable, key=key, default=default)


form(max, max_of, positional=1)
form(min, min_of, positional=1)


@adjoint(max_of, min_of)
def extremum_of_adjoint(g, ans, iterable, key=None, default=None):
    # the whole cotangent to the element max (min) returned, the first of equal ones, or to default where
    # the iterable is empty; the key only chooses, so it gets none. (hit_at first: chosen refuses a dict
    # or a set, whose elements unreduce cannot address). A list's cotangent is a list (elements_bar): a
    # loop that built the list pops it
    i = chosen(iterable, key, ans)
    return elements_bar(hit_at(iterable, i) * unreduce(g, iterable, 0), iterable), None, (0.0 if i >= 0 else g)


@tangent(max_of, min_of)
def extremum_of_tangent(dot, ans, iterable, key=None, default=None):
    i = chosen(iterable, key, ans)
    return (dot[i] if i >= 0 else 0.0), None, (0.0 if i >= 0 else dot)


@adjoint(sorted)
def sorted_adjoint(g, ans, iterable, key=None, reverse=False):
    # ans[j] is iterable[order[j]]: each cotangent goes back to the position its element came from
    return sorted_bar(g, iterable, key, reverse), None, None


@tangent(sorted)
def sorted_tangent(dot, ans, iterable, key=None, reverse=False):
    return sorted_dot(dot, iterable, key, reverse), None, None


adjoint(pow)(operators.pow_adjoint)  # pow(a, b) is a ** b


def pow_mod(base, exp, mod):
    """``pow`` with a modulus (``registry.form``): integers only."""
    return pow(base, exp, mod)


form(pow, pow_mod, positional=3, keywords=("mod",))
nondifferentiable(pow_mod, reason="modular arithmetic on integers")
