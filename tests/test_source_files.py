"""Issue #14: a file's functions after its first are read from one parse of the file (``source._in_file``),
not each by ``inspect.getsourcelines``; what they read is what ``inspect`` reads (compared tree for tree,
locations included), a file changed on disk is read anew, and the gradients are the hand-derived ones."""

import importlib
import inspect
import math
import sys
import textwrap
import types

import gast
import pytest

import adjoint_compiler as ac
from adjoint_compiler import source

MODULE = '''
import functools
import math


def first(x, y):
    return x * y + math.sin(x)


@functools.lru_cache(maxsize=None)
def cached():
    return 1.0


def decorated_target(x):
    return x ** 3


def with_blank_line_in_a_string(x):
    """A docstring whose middle line holds spaces only:
\x20\x20\x20\x20
    textwrap.dedent empties that line."""
    return 2.0 * x


def outer(x):
    def inner(z):
        return z * z * x

    return inner(x) + 1.0


class Holder:
    def method(self, x):
        return math.exp(x) * 3.0

    @staticmethod
    def static(x, y):
        return x / y


async def coroutine(x):
    return x
'''


def _fresh(fn):
    """``fn`` with a code object of its own (what a file's functions after its first look like to the cache)."""
    new = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__qualname__ = fn.__qualname__
    return new


def _by_inspect(fn):
    saved = source._in_file
    source._in_file = lambda filename, code: None
    try:
        return source._parse(fn)
    finally:
        source._in_file = saved


def _same(a, b):
    return (a[0], gast.dump(a[1], include_attributes=True), a[2], a[3]) == (
        b[0],
        gast.dump(b[1], include_attributes=True),
        b[2],
        b[3],
    )


@pytest.fixture
def module(tmp_path, monkeypatch):
    path = tmp_path / "source_files_case.py"
    path.write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("source_files_case", None)
    yield importlib.import_module("source_files_case"), path
    sys.modules.pop("source_files_case", None)


def _functions(m):
    outer_inner = next(c for c in m.outer.__code__.co_consts if isinstance(c, types.CodeType))
    inner = types.FunctionType(outer_inner, m.__dict__, "inner", None, (types.CellType(2.0),))
    return [
        m.first,
        m.decorated_target,
        m.with_blank_line_in_a_string,
        m.outer,
        inner,
        m.Holder.method,
        m.Holder.static,
    ]


def test_read_from_the_file_tree_as_inspect_reads_it(module):
    m, path = module
    source._parse(m.first)  # the file's first function: read by inspect; the next ones from the file's tree
    for fn in _functions(m):
        found = source._in_file(inspect.getsourcefile(fn), fn.__code__)
        assert found is not None, fn.__qualname__
        assert found[1] == fn.__code__.co_firstlineno
        assert _same(source._parse(_fresh(fn)), _by_inspect(fn)), fn.__qualname__


def test_async_def_is_still_refused_with_its_location(module):
    m, path = module
    source._parse(m.first)
    with pytest.raises(ac.UnsupportedError, match="async def") as info:
        source._parse(_fresh(m.coroutine))
    assert info.value.location.line == inspect.getsourcelines(m.coroutine)[1]


def test_gradients_of_a_files_functions(module):
    m, path = module
    x, y = 0.7, -1.3
    for _ in range(2):  # the second round reads every function from the file's tree
        assert ac.grad(_fresh(m.first), (0, 1))(x, y) == pytest.approx((y + math.cos(x), x), rel=1e-12)
        assert ac.grad(_fresh(m.decorated_target))(x) == pytest.approx(3 * x**2, rel=1e-12)
        assert ac.grad(_fresh(m.with_blank_line_in_a_string))(x) == pytest.approx(2.0, rel=1e-12)
        assert ac.grad(_fresh(m.outer))(x) == pytest.approx(3 * x**2, rel=1e-12)
        assert ac.grad(_fresh(m.Holder.method), 1)(None, x) == pytest.approx(3 * math.exp(x), rel=1e-12)
        assert ac.grad(_fresh(m.Holder.static), (0, 1))(x, y) == pytest.approx((1 / y, -x / y**2), rel=1e-12)


def test_a_file_changed_on_disk_is_read_anew(module):
    m, path = module
    before = _fresh(m.first)
    source._parse(m.first)
    source._parse(m.decorated_target)  # the file's tree is made
    # the same file, rewritten: first's lines now hold another function; linecache reads it anew
    path.write_text(MODULE.replace("return x * y + math.sin(x)", "return x * x * y  # changed\n"))
    sys.modules.pop("source_files_case", None)
    changed = importlib.import_module("source_files_case")
    lines = source._parse(_fresh(changed.first))[2]
    assert lines == inspect.getsourcelines(changed.first)[0]
    assert "changed" in "".join(lines)
    x, y = 0.7, -1.3
    assert ac.grad(_fresh(changed.first), (0, 1))(x, y) == pytest.approx((2 * x * y, x * x), rel=1e-12)
    assert before.__code__.co_firstlineno == changed.first.__code__.co_firstlineno


def test_comment_lines_print_as_the_literal_they_hold():
    # trees' printer writes comment markers itself; emit.to_source used to parse the printed call back
    fn = gast.parse(
        textwrap.dedent(
            """
            def f(x):
                __comment__('y = x * "a"', "z = 'b' \\\\ 2", 'w = 1')
                return x
            """
        )
    ).body[0]
    from adjoint_compiler import emit

    text = emit.to_source(fn)
    assert text.splitlines()[1:4] == ['    # y = x * "a"', "    # z = 'b' \\ 2", "    # w = 1"]
