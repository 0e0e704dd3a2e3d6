"""Programs with module state that the state fuzzer (tests/fuzz/gen_state.py) got wrong.

Each is a minimized reproducer that asserts the correct behaviour against f itself (its value,
the module state one call of f leaves) or a hand-derived gradient. Known bugs are
xfail(strict=False) with the bug in the reason; the generator keeps away from each one's
ingredient while its switch in gen_state.py is off.
"""

import pytest

import adjoint_compiler as ac
from tests.fuzz.oracle import load_module


def test_callee_reads_a_global_the_caller_rebound():
    m = load_module("""\
H = 0.5


def h1(a):
    return H


def f(x, y):
    global H
    H = 1.1
    v = h1(x)
    return v * y
""")
    value, (gx, gy) = ac.value_and_grad(m.f, wrt=(0, 1))(0.3, 2.0)
    m.H = 0.5
    assert value == m.f(0.3, 2.0) == pytest.approx(2.2)  # value_and_grad gives 1.0 (H = 0.5)
    assert (gx, gy) == (0.0, pytest.approx(1.1))


def test_caller_reads_a_counter_the_callee_incremented():
    m = load_module("""\
K = 0


def h1(a):
    global K
    K += 1
    return a


def f(x, y):
    v = h1(x)
    return v + y * K
""")
    value, (gx, gy) = ac.value_and_grad(m.f, wrt=(0, 1))(0.3, 2.0)
    assert m.K == 1  # as after one call of f
    m.K = 0
    assert value == m.f(0.3, 2.0) == pytest.approx(2.3)  # value_and_grad gives 0.3 (K = 0)
    assert (gx, gy) == (1.0, 1.0)  # d/dy gives 0.0


def test_callee_appends_a_global_the_caller_rebound():
    # h0 is given G (carried); before carrying, the gradient appended the stale 1.5. LOG, which nothing reads,
    # is the function's output, as print's: the gradient appends what the original appends (0.8), once
    m = load_module("""\
G = 1.5
LOG = [0.5]


def h0(a):
    LOG.append(G)
    return a


def f(x, y):
    global G
    G = 0.8
    v = h0(x)
    return v * y
""")
    assert ac.grad(m.f, wrt=(0, 1))(0.3, 2.0) == (2.0, 0.3)
    assert m.LOG == [0.5, 0.8] and m.G == 0.8
    assert ac.jvp(m.f, wrt=(0, 1))(0.3, 2.0, (1.0, 0.0)) == (0.6, 2.0)
    assert m.LOG == [0.5, 0.8, 0.8]
    with pytest.raises(ac.UnsupportedError) as info:  # second order: the state it writes is refused
        ac.hvp(m.f, wrt=0)(0.3, 2.0, 1.0)
    assert ":6:5:" in str(info.value) and "writes the global or closure variable LOG" in str(info.value)


def test_differentiated_value_appended_to_a_global_list_is_refused_until_state_is_threaded():
    m = load_module("""\
LOG = [0.5]


def f(x, y):
    LOG.append(x * y)
    return LOG[-1] * y
""")
    with pytest.raises(ac.UnsupportedError, match="append"):
        ac.grad(m.f, wrt=(0, 1))(0.3, 2.0)  # was silently (0, 0.6); the answer is (4.0, 1.2)


@pytest.mark.xfail(
    strict=False,
    reason="a differentiated value appended to a global list and read back has "
    "no derivative (gen_state.DIFFERENTIATED_APPENDS): refused today",
)
def test_differentiated_value_appended_to_a_global_list():
    m = load_module("""\
LOG = [0.5]


def f(x, y):
    LOG.append(x * y)
    return LOG[-1] * y
""")
    gx, gy = ac.grad(m.f, wrt=(0, 1))(0.3, 2.0)
    assert m.LOG == [0.5, 0.6]
    assert (gx, gy) == (pytest.approx(4.0), pytest.approx(1.2))  # f = x y^2; grad gives (0, 0.6)


def test_call_in_the_return_of_a_function_that_declares_global():
    m = load_module("""\
G = 1.5


def h0(a):
    t1 = a
    return t1


def f(x):
    global G
    return h0(x) + 1.0
""")
    assert ac.value_and_grad(m.f)(0.7) == (pytest.approx(1.7), 1.0)


def test_global_rebound_between_calls():
    m = load_module("""\
G = 1.5


def f(x):
    return x * G
""")
    assert ac.value_and_grad(m.f)(2.0) == (3.0, 1.5)
    m.G = 3.0
    assert ac.value_and_grad(m.f)(2.0) == (m.f(2.0), 3.0)  # gives (3.0, 1.5)
