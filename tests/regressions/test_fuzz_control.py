"""Control-flow programs the fuzzer (tests/fuzz/gen_control.py) once got wrong, and nests worth
keeping whatever the generator draws: each stays fixed.

The FIXED programs are checked by the fuzzer's own oracle (tests/fuzz/oracle.py) at hand-picked
points, which must be usable (away from branch switches), with every property the generator's
programs are checked for.
"""

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.testing import check_grads
from tests.fuzz import gen_control, oracle
from tests.fuzz.model import SourceProgram


def bound_on_one_path(x, n):
    if n > 0:
        k = 2.0
    s = 0.0
    for i in range(n):
        s = s + k * x  # k * x must not be computed before a loop that may not run
    return s + x


def index_after_the_loop(x, n):
    i = 1
    for i in range(n):
        x = x * 2.0
    return x * i


def minus_one_times_an_int(n, x):
    for i0 in range(n):
        return (-1.0) * i0  # control seed 900649: -1.0 * i0 was folded to -i0, an int (-0, not -0.0)
    return x * x


def times_minus_one(n, x):
    if x > 0.0:
        return n * -1.0
    return x


CASES = [
    (minus_one_times_an_int, (3, 0.7), 1),
    (times_minus_one, (3, 0.7), 1),
    (bound_on_one_path, (0.7, 0), 0),
    (bound_on_one_path, (0.7, 3), 0),
    (index_after_the_loop, (0.7, 0), 0),
    (index_after_the_loop, (0.7, 3), 0),
]


@pytest.mark.parametrize("f,args,wrt", CASES, ids=["%s%s" % (c[0].__name__, c[1][1:]) for c in CASES])
def test_fuzz_regression(f, args, wrt):
    check_grads(f, args, wrt=wrt, rtol=1e-6)
    value, _ = ac.value_and_grad(f, wrt=wrt)(*args)
    expected = f(*args)
    assert np.array_equal(value, expected) and type(value) is type(expected)


FIXED = {
    "triangular_loops": (
        """\
import math


def f(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i + 1):
            if (i + j) % 2 == 0:
                s = s + x * math.cos(s)
            else:
                s = s * math.tanh(x) - 0.5
    return s
""",
        [(0.3, 4), (-1.1, 3), (1.7, 0)],
    ),
    "defined_in_branch_other_returns": (
        """\
import math


def f(x, y):
    if x > 0.5:
        z = x * y
    elif y > 0.0:
        z = math.sin(x) + y
    else:
        return x * x - y
    for i in range(3):
        z = z * 0.5 + math.atan(x)
    return z * y
""",
        [(0.9, 1.2), (0.1, 0.4), (-0.3, -0.7)],
    ),
    "for_else_breaks_outer": (
        """\
import math


def f(x, y):
    s = x
    for i in range(4):
        for t in (x, y, s):
            s = s + 0.3 * math.sin(t)
            if t > 1.5:
                break
        else:
            if s > 1.0:
                break
            continue
        s = s * y
    return s + y
""",
        [(0.2, 0.3), (1.9, 0.4), (-0.5, 1.7), (0.8, -1.2)],
    ),
    "while_counter_nested_in_if_with_return": (
        """\
import math


def f(x, y, n):
    v = x
    if y > 0.0:
        k = 0
        while k < 4 and abs(v) < 2.0:
            k = k + 1
            v = v * 1.3 + y
            if v < -1.0:
                return v * k
        else:
            v = v - 1.0
    else:
        for i in range(n, 0, -1):
            v = v / (1.5 + math.sin(v * i))
    return v * y
""",
        [(0.3, 0.2, 2), (-0.9, 0.3, 1), (0.5, -0.4, 3), (1.1, 0.7, 0), (-1.9, -0.2, 4)],
    ),
    "geometric_while_with_continue": (
        """\
import math


def f(x, y):
    w = 1.5 + math.sin(x * y)
    acc = y
    while w > 0.5:
        w = w * (0.6 + 0.1 * math.cos(acc))
        if w > 1.0:
            continue
        acc = acc + w * x
    return acc * w
""",
        [(0.4, 1.1), (-1.3, 0.6), (1.8, -1.5)],
    ),
    "ternaries_and_early_return_in_loop": (
        """\
import math


def f(x, y, n):
    a = x if x > y else y * 2.0
    for i in range(1, n, 2):
        a = (a * x if a < 1.0 else math.tanh(a)) + i
        if a > 5.0:
            return a - y
    b = math.exp(math.tanh(a)) if n > 2 else a * a
    return b + (a if b > 1.0 else -a)
""",
        [(0.3, 0.2, 5), (-0.5, 0.4, 4), (1.2, -0.3, 2), (1.5, 1.9, 6)],
    ),
    "enumerate_zip_over_active": (
        """\
import math


def f(x, y):
    s = 0.0
    for j, t in enumerate((x, y * x, math.cos(y))):
        if j == 1:
            continue
        s = s + t * j + math.sin(s)
    for t, u in zip((x, y), (y, s)):
        s = s * t + u
    return s
""",
        [(0.3, 0.2), (-1.1, 0.9), (1.6, -1.4)],
    ),
    "param_reassigned_in_loop_and_read_after": (
        """\
import math


def f(x, y, n):
    for i in range(n):
        x = x * 0.9 + math.sin(y)
        y = y - 0.1 * x
        if x > 1.5:
            break
    else:
        y = y + x
    return x * y
""",
        [(0.3, 0.2, 3), (1.4, 0.8, 4), (-0.6, -0.1, 0)],
    ),
    "int_becomes_float_in_loop": (
        """\
import math


def f(x, n):
    k = 0
    while k < 3 and x * k < 1.0:
        k = k + 1
    v = k
    for i in range(k, 4):
        v = v * x + i
    return v
""",
        [(0.3, 0), (0.45, 1), (-0.7, 2), (1.9, 0)],
    ),
    # A return inside an if nested in another if (no loop around it), where some path falls through.
    "return_in_nested_if_falls_through": (
        """\
def f(x):
    if x > 0.0:
        if x < 1.0:
            return x * x
    return x
""",
        [(0.7,), (1.5,), (-0.4,)],
    ),
    "return_in_elif_falls_through": (
        """\
def f(y):
    if y > 3.0:
        pass
    elif y < 1.0:
        return y
    return 1.5
""",
        [(0.5,), (2.0,), (4.0,)],
    ),
    "return_in_elif_variable_from_other_arms": (
        """\
def f(y):
    if y > 3.0:
        z = 2.0 * y
    elif y < 1.0:
        return y * y
    else:
        z = 3.0 * y
    return z
""",
        [(0.5,), (2.0,), (4.0,)],
    ),
    # The index of a loop whose body does nothing active, read after the loop.
    "index_of_inactive_loop_read_after": (
        """\
def f(x):
    for i in range(3):
        pass
    for j in range(i):
        x = x * 1.5
    return x * i
""",
        [(0.5,), (-1.2,)],
    ),
    "target_of_inactive_loops_read_after": (
        """\
import math


def f(x, y):
    for i in range(1, 4):
        unused = x * 2.0
    for t in (x, y):
        v = 0.5
    return math.sin(x * i) + t * y
""",
        [(0.5, 0.3), (-1.2, 1.1)],
    ),
    # Loops and conditional expressions whose adjoint has nothing to do (empty adjoint bodies).
    "inactive_loop_and_ternary": (
        """\
def f(x, y, n):
    for i in range(n):
        pass
    for i in range(3):
        v = 0.5
    z = x if y > 0.5 else y
    x += (x if y > 0.5 else y)
    return y * 2.0
""",
        [(0.3, 0.7, 2), (0.3, 0.2, 0)],
    ),
}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_control_flow_cases(name):
    source, points = FIXED[name]
    program = SourceProgram(source)
    for args in points:
        outcome = oracle.check(program, args, gen_control.SPEC)
        # hand-picked points must stay away from branch switches, or the check means nothing
        assert outcome.kind != "rejected", "%s: %r is unusable: %s %s" % (name, args, outcome.what, outcome.message)
        assert outcome.kind == "passed", outcome.report()


def loop_that_only_names_its_elements(n, x):
    for t0 in (x, 2.0):
        pass
    return x * 2.0 + n


def test_a_loop_whose_only_statement_is_its_element_read_keeps_a_body():
    # control seed 500144 (minimized): iterating by value removed the element read, the loop's only statement,
    # and left `for t0 in _t1:` without a body (an internal IndentationError)
    assert ac.grad(loop_that_only_names_its_elements, wrt=1)(3, 0.9) == 2.0
    assert ac.jvp(loop_that_only_names_its_elements, wrt=1)(3, 0.9, 1.0) == (pytest.approx(4.8), 2.0)
    assert ac.hessian(loop_that_only_names_its_elements, wrt=1)(3, 0.9) == 0.0
