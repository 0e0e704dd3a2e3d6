"""inline: calls of one-expression functions become applied lambdas; the code computes the same."""

import math

import gast
import pytest

from adjoint_compiler import anf, emit, inline, source
from tests.passes.lowering_cases import same_values

K = 0.5


def scale(v, w=2.0):
    return w * v * v + 1


def sq(v):
    return v * v


def apply(f, x):
    return f(x)


def times(a, x):
    return a * x


def rhs(p, v):
    """A docstring does not count as a statement."""
    return v, -K * p


def two_statements(x):
    y = x * 2
    return y


def uses_math(x):
    return math.sin(x) * x


def f_atoms(x, y):
    return scale(x) + scale(y, 3.0)


def f_arguments(x, y):
    return scale(x * y, w=y - 1) + scale(w=x, v=y + 2)


def f_nested(x, y):
    return apply(sq, x * y) + apply(sq, x)


def f_capture(x, y):
    return times(x, y * 2.0)


def f_tuple(x):
    p, v = rhs(x, x * 2.0)
    return p * v


def f_not_inlined(x):
    y = two_statements(x) + math.sin(x) + uses_math(x)
    if sq(x) > 1:
        y = y + 1
    while sq(y) < 100:
        y = y * 2
    assert sq(y) >= 0
    return y


def _inlined(f):
    src = source.read(f)
    return emit.to_source(inline.run(src.tree, src)).strip()


CASES = [
    (
        f_atoms,
        """
def f_atoms(x, y):
    return (lambda: 2.0 * x * x + 1)() + (lambda: 3.0 * y * y + 1)()
""",
    ),
    (
        f_arguments,
        """
def f_arguments(x, y):
    return (lambda v, w: w * v * v + 1)(x * y, y - 1) + (lambda v: x * v * v + 1)(y + 2)
""",
    ),
    (
        f_nested,
        """
def f_nested(x, y):
    return (lambda x: (lambda: x * x)())(x * y) + (lambda: (lambda: x * x)())()
""",
    ),
    (
        f_capture,
        """
def f_capture(x, y):
    return (lambda x_1: x * x_1)(y * 2.0)
""",
    ),
    (
        f_tuple,
        """
def f_tuple(x):
    p, v = (lambda v: (v, -K * x))(x * 2.0)
    return p * v
""",
    ),
    # only uses_math is inlined: two statements, a C function, if and while tests and asserts stay
    (
        f_not_inlined,
        emit.to_source(source.read(f_not_inlined).tree).replace("uses_math(x)", "(lambda: math.sin(x) * x)()"),
    ),
]


@pytest.mark.parametrize("f, after", CASES, ids=[c[0].__name__ for c in CASES])
def test_text(f, after):
    assert _inlined(f) == after.strip()


@pytest.mark.parametrize("f, after", CASES, ids=[c[0].__name__ for c in CASES])
def test_same_values(f, after):
    n = f.__code__.co_argcount
    same_values(emit.to_source(source.read(f).tree), after, [(1.5, -2.0)[:n], (3.0, 0.25)[:n]], globals())


def test_anf_substitutes_the_lambdas_away():
    src = source.read(f_tuple)
    text = emit.to_source(anf.run(inline.run(src.tree, src), src)).strip()
    assert (
        text
        == """
def f_tuple(x):
    _t1 = x * 2.0
    _t2 = -K
    _t3 = _t2 * x
    p = _t1
    v = _t3
    _t4 = p * v
    return _t4
""".strip()
    )


def test_input_unchanged_and_without_source_nothing_is_inlined():
    src = source.read(f_atoms)
    before = gast.dump(src.tree, include_attributes=True)
    inline.run(src.tree, src)
    assert gast.dump(src.tree, include_attributes=True) == before
    assert "lambda" not in emit.to_source(inline.run(src.tree, None))
