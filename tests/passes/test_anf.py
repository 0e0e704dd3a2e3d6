"""anf: every operation on atoms, its result in a name; loops over sequences walk an index."""

import gast
import pytest

from adjoint_compiler import anf, emit, runtime
from tests.passes.lowering_cases import define, lowered, same_values

CASES = [
    (
        "temporaries",
        """
def f(x, y):
    \"\"\"A docstring goes.\"\"\"
    z = (x * y + 2) / (x - y)
    return -z * z
""",
        """
def f(x, y):
    _t1 = x * y
    _t2 = _t1 + 2
    _t3 = x - y
    z = _t2 / _t3
    _t4 = -z
    _t5 = _t4 * z
    return _t5
""",
        [(3, 1), (-2.5, 4)],
    ),
    (
        "unpacking and several targets",
        """
def f(x, y):
    a, b = y, x
    c, d = divmod(x, 3)
    e = g = a * b
    return a - b + c * d + e + g
""",
        """
def f(x, y):
    a = y
    b = x
    _t1 = divmod(x, 3)
    c = _t1[0]
    d = _t1[1]
    _t2 = a * b
    e = _t2
    g = _t2
    _t3 = a - b
    _t4 = c * d
    _t5 = _t3 + _t4
    _t6 = _t5 + e
    _t7 = _t6 + g
    return _t7
""",
        [(7, 2), (-4, 9)],
    ),
    (
        "swap",
        """
def f(x, y):
    x, y = y, x
    return x - y
""",
        """
def f(x, y):
    _t1 = y
    _t2 = x
    x = _t1
    y = _t2
    _t3 = x - y
    return _t3
""",
        [(7, 2)],
    ),
    (
        "elif and a conditional expression",
        """
def f(x, y):
    if x > y:
        z = x
    elif x < 0:
        z = -x if y > 1 else y
    else:
        z = y
    return z
""",
        """
def f(x, y):
    _cond1 = x > y
    if _cond1:
        z = x
    else:
        _cond2 = x < 0
        if _cond2:
            _cond3 = y > 1
            if _cond3:
                _t1 = -x
            else:
                _t1 = y
            z = _t1
        else:
            z = y
    return z
""",
        [(3, 1), (-3, 2), (-3, 0), (1, 3)],
    ),
    (
        "loops over a sequence, enumerate and zip",
        """
def f(xs, ys):
    total = 0
    for x in xs:
        total = total + x
    for i, x in enumerate(xs):
        total = total + i * x
    for a, b in zip(xs, ys):
        total = total - a * b
    while total > 100:
        total = total // 2
    return total
""",
        """
def f(xs, ys):
    total = 0
    _t2 = len(xs)
    for _t1 in range(_t2):
        x = xs[_t1]
        total = total + x
    _t3 = len(xs)
    for i in range(_t3):
        x = xs[i]
        _t4 = i * x
        total = total + _t4
    _t6 = len(xs)
    _t7 = len(ys)
    _t8 = min(_t6, _t7)
    for _t5 in range(_t8):
        a = xs[_t5]
        b = ys[_t5]
        _t9 = a * b
        total = total - _t9
    while total > 100:
        total = total // 2
    return total
""",
        [([1, 2, 3], [4, 5]), ([30, 40, 50, 60], [1, 1, 1, 1]), ([], [1])],
    ),
    (
        "element stores and augmented assignment",
        """
def f(x):
    a = [x, x + 1, 0]
    a[2] = x * x
    a[0] += x - 1
    a[1] *= 2
    x += 1
    return a[0] + a[1] * a[2] + x
""",
        """
def f(x):
    _t1 = x + 1
    a = [x, _t1, 0]
    _t2 = x * x
    a[2] = _t2
    check_item_rebind(a, 0, 'a[0] += ...', '<unknown>', 0, 0)
    _t3 = a[0]
    _t4 = x - 1
    _t5 = _t3 + _t4
    a[0] = _t5
    check_item_rebind(a, 1, 'a[1] *= ...', '<unknown>', 0, 0)
    _t6 = a[1]
    _t7 = _t6 * 2
    a[1] = _t7
    check_rebind(x, 'x += ...', '<unknown>', 0, 0)
    x = x + 1
    _t8 = a[0]
    _t9 = a[1]
    _t10 = a[2]
    _t11 = _t9 * _t10
    _t12 = _t8 + _t11
    _t13 = _t12 + x
    return _t13
""",
        [(2,), (-1.5,)],
    ),
]


@pytest.mark.parametrize("name, before, after, inputs", CASES, ids=[c[0] for c in CASES])
def test_text(name, before, after, inputs):
    assert lowered(anf.run, before) == after.strip()


@pytest.mark.parametrize("name, before, after, inputs", CASES, ids=[c[0] for c in CASES])
def test_same_values(name, before, after, inputs):
    same_values(before, after, inputs)


def test_and_or_keep_the_deciding_operand():
    # the arms that keep the value are empty: SSA gives them their merge assignments
    assert (
        lowered(
            anf.run,
            """
def f(x, y):
    return x and y or 3
""",
        )
        == """
def f(x, y):
    _t2 = x
    _cond1 = not _t2
    if _cond1:
    else:
        _t2 = y
    _t1 = _t2
    _cond2 = _t1
    if _cond2:
    else:
        _t1 = 3
    _t3 = _t1
    return _t3
""".strip()
    )


def test_applied_lambda_evaluates_each_argument_once_in_order():
    assert (
        lowered(
            anf.run,
            """
def f(x, y):
    return (lambda a, b: b * b - a)(x * 2, y + 1) + 1
""",
        )
        == """
def f(x, y):
    _t1 = x * 2
    _t2 = y + 1
    _t3 = _t2 * _t2
    _t4 = _t3 - _t1
    _t5 = _t4 + 1
    return _t5
""".strip()
    )


def test_augmented_assignment_on_a_shared_list_is_refused_at_run_time():
    g = define(
        lowered(
            anf.run,
            """
def f(xs):
    xs += [1]
    return xs
""",
        )
    )
    with pytest.raises(runtime.InPlaceUpdateError):
        g([0])


def test_globals_are_read_at_entry_and_written_through():
    fn = gast.parse("def f(x):\n    global c\n    c = c * x\n    return c").body[0]
    assert (
        emit.to_source(anf.run(fn, None)).strip()
        == """
def f(x):
    c = _module.c
    c = c * x
    _module.c = c
    return c
""".strip()
    )
