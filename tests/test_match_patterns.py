"""``match`` with class patterns (``case Point(x=0.0)``, ``case Point(a, b)`` through ``__match_args__``,
``case float(v)``) and mapping patterns (``case {"k": v}``): lowered by desugar.py to an ``isinstance`` test
(``runtime.match_class``), key tests and the subpatterns on the attributes or items, then the captures. The
class must be known when compiling; a NamedTuple or dataclass argument (passed to the compiled code as the
tuple of its fields) matched against its class is refused where it is matched, and so is a class that is
a local value (``**rest``: tests/test_py12l.py). Gradients and jvps against central differences of the
original function. Python 3.10+ only: the functions live in a source string loaded by a fixture."""

import importlib.util
import sys

import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing
from adjoint_compiler.errors import UnsupportedError

MATCH_SOURCE = """
import dataclasses
from typing import NamedTuple

import numpy as np


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Pair(NamedTuple):
    a: float
    b: float


@dataclasses.dataclass(frozen=True)
class Config:
    mode: str
    scale: float


CONFIG = Config("cubic", 2.0)


def by_point(x, y):
    p = Point(x, y)
    match p:
        case Point(x=0.0):
            return p.y
        case Point(a, b) if a > b:
            return a * b
        case Point(a, y=b):
            return a + b**2


def by_pair(x, y):
    match Pair(x * 2.0, y):
        case Pair(a, 1.0):
            return a
        case Pair(a, b):
            return np.sin(a) * b


def by_config(x):
    match CONFIG:
        case Config(mode="square", scale=s):
            return s * x**2
        case Config(mode="cubic", scale=s):
            return s * x**3


def by_type(x):
    match x:
        case int():
            return 0.0
        case float(v):
            return v * v
    return x


def by_mapping(d, x):
    match d:
        case {"kind": "linear", "w": w}:
            return w * x
        case {"kind": "quadratic", "w": w, "b": b}:
            return w * x**2 + b
        case {"w": w}:
            return w
    return x


class Plain:
    __match_args__ = ("v",)

    def __init__(self, v):
        self.v = v


def by_plain_object(x):
    b = Plain(x * 2.0)
    b.v = b.v + x  # followed field by field (objects.py): the class pattern's test is known there
    match b:
        case Plain(v):
            return v * x
        case _:
            return x


def by_parameter(p):
    match p:
        case Pair(a, b):
            return a * b
    return 0.0


def class_unknown(x, kind):
    match x:
        case kind():
            return x
    return 2.0 * x


def mapping_rest(d):
    match d:
        case {"w": w, **rest}:
            return w * len(rest)
    return 0.0


def too_many(x):
    match Point(x, x):
        case Point(a, b, c):
            return a
    return x
"""


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    if sys.version_info < (3, 10):
        pytest.skip("match statements need Python 3.10")
    path = tmp_path_factory.mktemp("match_patterns") / "patterns.py"
    path.write_text(MATCH_SOURCE)
    spec = importlib.util.spec_from_file_location("patterns", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["patterns"] = module  # (dataclasses reads the module of a class it makes)
    spec.loader.exec_module(module)
    yield module
    del sys.modules["patterns"]


def _both(f, args, wrt):
    """grad against central differences (check_grads), and the jvp along 1.0 against the difference."""
    testing.check_grads(f, args, wrt, rtol=1e-6)
    _, out_dot = ac.jvp(f, wrt)(*args, 1.0)
    expected = testing.directional_difference(f, list(args), wrt, 1.0)
    assert testing.relative_error(out_dot, expected) < 1e-6


@pytest.mark.parametrize("args", [(0.0, 1.5), (2.0, 0.5), (0.5, 2.0)])
def test_class_patterns_on_a_dataclass_built_inside(m, args):
    for wrt in (0, 1):
        if args[0] == 0.0 and wrt == 0:
            continue  # (x == 0.0 picks the branch: a difference across it is no derivative)
        _both(m.by_point, args, wrt)
    x, y = args
    expected = (0.0, 1.0) if x == 0.0 else (y, x) if x > y else (1.0, 2 * y)  # by hand
    assert ac.grad(m.by_point, (0, 1))(*args) == pytest.approx(expected)


@pytest.mark.parametrize("args", [(0.7, 1.0), (0.7, 1.5)])
def test_positional_class_patterns_on_a_namedtuple_built_inside(m, args):
    _both(m.by_pair, args, 0)
    if args[1] != 1.0:
        _both(m.by_pair, args, 1)


def test_a_class_pattern_on_an_object_followed_field_by_field(m):
    _both(m.by_plain_object, (0.7,), 0)
    assert ac.grad(m.by_plain_object)(0.7) == pytest.approx(6.0 * 0.7)  # 3x * x, by hand


def test_a_class_pattern_on_a_global_object(m):
    _both(m.by_config, (0.7,), 0)
    assert ac.grad(m.by_config)(0.7) == pytest.approx(2.0 * 3 * 0.7**2)


def test_a_builtin_class_pattern_binds_the_subject(m):
    _both(m.by_type, (0.7,), 0)
    assert ac.grad(m.by_type)(0.7) == pytest.approx(1.4)


@pytest.mark.parametrize(
    "d", [{"kind": "linear", "w": 1.5}, {"kind": "quadratic", "w": 1.5, "b": 0.25}, {"w": 1.5}, {"v": 1.0}]
)
def test_mapping_patterns(m, d):
    _both(m.by_mapping, (d, 0.7), 1)
    g = ac.grad(m.by_mapping)(d, 0.7)
    kind = d.get("kind")
    expected = {"linear": {"w": 0.7}, "quadratic": {"w": 0.49, "b": 1.0}}.get(kind, {"w": 1.0})
    for key, value in d.items():
        if isinstance(value, float):
            assert g[key] == pytest.approx(expected.get(key, 0.0))


def test_a_class_pattern_on_a_structure_argument_is_refused_where_it_is_matched(m):
    with pytest.raises(UnsupportedError, match=r"patterns.py:[0-9]+:[0-9]+: error: a class pattern Pair\(\.\.\.\)"):
        ac.grad(m.by_parameter)(m.Pair(1.0, 2.0))


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("class_unknown", (1.0, float), "a class pattern whose class is not known when compiling"),
        ("too_many", (1.0,), "a class pattern with 3 positional patterns for Point"),
    ],
)
def test_refused_located(m, name, args, message):
    with pytest.raises(UnsupportedError, match=r"patterns.py:[0-9]+:[0-9]+: error: " + message):
        ac.grad(getattr(m, name))(*args)
