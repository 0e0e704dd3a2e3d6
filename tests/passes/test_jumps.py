"""jumps: break, continue and early return become flags and guards; the lowered code computes the same."""

import pytest

from adjoint_compiler import jumps
from tests.passes.lowering_cases import lowered, same_values

CASES = [
    (
        "break",
        """
def f(x):
    for i in range(5):
        x = x + i
        if x > 10:
            break
        x = x * 3
    return x
""",
        """
def f(x):
    _break1 = False
    for i in range(5):
        x = x + i
        if x > 10:
            _break1 = True
        if not _break1:
            x = x * 3
        if _break1:
            break
    return x
""",
    ),
    (
        "continue",
        """
def f(x):
    s = 0
    for i in range(6):
        if i % 2 == 0:
            continue
        s = s + x * i
    return s
""",
        """
def f(x):
    s = 0
    for i in range(6):
        _continue1 = False
        if i % 2 == 0:
            _continue1 = True
        if not _continue1:
            s = s + x * i
    return s
""",
    ),
    (
        "early return in a loop",
        """
def f(x):
    for i in range(10):
        x = x + i
        if x > 20:
            return x * 2
    return -x
""",
        """
def f(x):
    _return1 = False
    _value1 = None
    _break1 = False
    for i in range(10):
        x = x + i
        if x > 20:
            _value1 = x * 2
            _return1 = True
            _break1 = True
        if _break1:
            break
    if not _return1:
        _value1 = -x
        _return1 = True
    return _value1
""",
    ),
    (
        "early return at the top",
        """
def f(x):
    if x > 0:
        return x
    y = -x
    return y * 2
""",
        """
def f(x):
    _return1 = False
    _value1 = None
    if x > 0:
        _value1 = x
    else:
        y = -x
        _value1 = y * 2
        _return1 = True
    return _value1
""",
    ),
    (
        "loop else",
        """
def f(x):
    while x < 100:
        x = x * 3
        if x % 7 == 0:
            break
    else:
        x = x + 1
    return x
""",
        """
def f(x):
    _break1 = False
    while x < 100:
        x = x * 3
        if x % 7 == 0:
            _break1 = True
        if _break1:
            break
    if not _break1:
        x = x + 1
    return x
""",
    ),
    (
        "return from an inner loop",
        """
def f(x):
    for i in range(3):
        for j in range(3):
            if j > i:
                break
            if x > 50:
                return x
            x = x + i * j
    return x
""",
        """
def f(x):
    _return1 = False
    _value1 = None
    _break1 = False
    for i in range(3):
        _break2 = False
        for j in range(3):
            if j > i:
                _break2 = True
            if not _break2:
                if x > 50:
                    _value1 = x
                    _return1 = True
                    _break2 = True
                if not (_break2 or _return1):
                    x = x + i * j
            if _break2:
                break
        if _return1:
            _break1 = True
        if _break1:
            break
    if not _return1:
        _value1 = x
        _return1 = True
    return _value1
""",
    ),
    (
        "no return",
        """
def f(x):
    y = x * 2
""",
        """
def f(x):
    y = x * 2
    return None
""",
    ),
]


@pytest.mark.parametrize("name, before, after", CASES, ids=[c[0] for c in CASES])
def test_text(name, before, after):
    assert lowered(jumps.run, before) == after.strip()


@pytest.mark.parametrize("name, before, after", CASES, ids=[c[0] for c in CASES])
def test_same_values(name, before, after):
    same_values(before, after, [(x,) for x in (-7, 0, 1, 3, 8, 20, 55, 99)])


def test_flags_avoid_names_in_use():
    text = lowered(
        jumps.run,
        """
def f(_break1):
    for i in range(3):
        break
    return _break1
""",
    )
    assert "_break2 = False" in text and "_break1 = False" not in text
