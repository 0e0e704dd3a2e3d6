"""fence.run: the tree itself when every construct is supported; UnsupportedError naming the construct
and the user's file:line:col otherwise."""

import os

import gast
import pytest

from adjoint_compiler import fence, source
from adjoint_compiler.errors import UnsupportedError
from tests.passes import load, parse


def _reject(src):
    with pytest.raises(UnsupportedError) as info:
        fence.run(parse(src), None)
    return info.value


def test_a_supported_function_is_returned_itself_unchanged():
    tree = parse("""
        def f(x, y=2.0):
            a = x * y
            a += 1.0
            if a > 0.0 and y < 3.0:
                for i in range(3):
                    a = a * x if i % 2 else a - x
            else:
                while a < 10.0:
                    a = a * 2.0
                    if a > 5.0:
                        break
            xs = [a, x]
            d = {"k": a}
            return xs[0] + d["k"] + abs(a) ** 2
    """)
    before = gast.dump(tree)
    assert fence.run(tree, None) is tree
    assert gast.dump(tree) == before


@pytest.mark.parametrize(
    "body,construct",
    [
        ("    yield x", "yield (generators)"),
        ("    return [v for v in x]", "list comprehension"),
        ("    return sum(v for v in x)", "generator expression"),
        ("    try:\n        return x\n    except ValueError:\n        return 0.0", "try statement"),
        ("    with open(x) as fh:\n        return fh", "with statement"),
        ("    import math\n    return x", "import inside a differentiated function"),
        ("    del x\n    return 0.0", "del statement"),
        ("    return 0.0 < x < 1.0", "chained comparison"),
        ("    return {x}", "set display"),
    ],
)
def test_each_unsupported_construct_is_named(body, construct):
    assert _reject("def f(x):\n" + body).construct == construct


@pytest.mark.parametrize(
    "header,construct",
    [
        ("def f(x, *rest):", "*rest parameter"),
        ("def f(x, **opts):", "**opts parameter"),
        ("def f(x, *, scale):", "keyword-only parameter"),
    ],
)
def test_unsupported_parameters(header, construct):
    assert _reject(header + "\n    return x").construct == construct


def test_stores_the_later_passes_cannot_follow_are_refused():
    assert _reject("def f(x):\n    x.attr = 1.0\n    return x").construct == "assignment to an attribute"
    assert _reject("def f(m, v):\n    m[0:2][1] = v\n    return m").construct.startswith(
        "assignment into a slice of an element"
    )
    assert (
        _reject("def f(m, v):\n    m.rows[1] = v\n    return m").construct == "assignment to an element of an attribute"
    )
    assert "writes into an array in place" in _reject("def f(a, v):\n    np.copyto(a, v)\n    return a").construct
    assert "out=" in _reject("def f(a, b):\n    np.add(a, b, out=a)\n    return a").construct


def test_element_stores_and_augmented_assignments_pass():
    tree = parse("""
        def f(a, v):
            a[0] = v
            a[1:] += v
            a[0, 1] = v
            return a
    """)
    assert fence.run(tree, None) is tree


def test_the_error_carries_the_users_file_line_and_column():
    f = load("""
        def f(x):
            y = x * 2.0
            return [v for v in y]
    """)
    src = source.read(f)
    with pytest.raises(UnsupportedError) as info:
        fence.run(src.tree, src)
    loc = info.value.location
    assert (os.path.basename(loc.filename), loc.line, loc.col) == (
        os.path.basename(f.__code__.co_filename),
        f.__code__.co_firstlineno + 2,
        12,
    )
    assert str(info.value).startswith("%s:%d:12: error: list comprehension" % (loc.filename, loc.line))
