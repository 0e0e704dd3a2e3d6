"""Audit issue #12 line by line: one program per builtin, method and statement form named in the
issue's Deliver items 1-7 (where ``issue12_constructs.py`` groups them), each through ``ac.grad`` and
``ac.jvp`` against central differences of the original function (the probe's harness).

    python benchmarks/conformance/issue12_audit.py            # summary by form
    python benchmarks/conformance/issue12_audit.py -v         # every program, with the message
    python benchmarks/conformance/issue12_audit.py -k match   # only forms containing 'match'

Outcomes as in the probe: ok, refused (located ``ac.CompileError``), UNLOCATED, WRONG, crash.
Exit status 1 if anything is WRONG.
"""

import os
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import issue12_constructs as probe  # noqa: E402

CASES = []


def case(construct, source, at, **options):
    CASES.append((construct, textwrap.dedent(source).lstrip(), at, options))


def reuse(form, construct, k=0):
    """The ``k``-th program of ``construct`` in ``issue12_constructs.py`` (the probe), run here under this
    audit's name for the form: the programs the two scripts share live there only."""
    _, source, at, options = [c for c in probe.CASES if c[0] == construct][k]
    CASES.append((form, source, at, options))


# ---------------------------------------------------------------- 1. comprehensions
case(
    "set comprehension of active values",
    """
    def f(xs):
        s = {x * x for x in xs}
        return sum(s)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "generator in all() over active comparisons",
    """
    def f(xs):
        return sum(xs) * 2.0 if all(x > 0.0 for x in xs) else sum(xs)
    """,
    "[0.5, 1.2, 2.0]",
)
# ---------------------------------------------------------------- 2. functions inside functions
reuse("nested def returned and called", "nested function returned and called")
case(
    "recursive nested def returned and called",
    """
    def f(x, n=3):
        def power(k):
            if k == 0:
                return 1.0
            return x * power(k - 1)
        def outer():
            return power
        p = outer()
        return p(n) + p(2)
    """,
    "0.7",
)
case(
    "lambda closing over active value, passed to helper",
    """
    def apply(fn, v):
        return fn(v) + fn(2.0 * v)

    def f(x, a):
        return apply(lambda t: a * t * t, x)
    """,
    "0.7, 1.3",
)
# ---------------------------------------------------------------- 3. signatures
case(
    "h(*xs) with xs a tuple parameter",
    """
    def h(a, b, c):
        return a * b + c

    def f(xs):
        return h(*xs)
    """,
    "(0.7, 1.3, 0.2)",
)
case(
    "h(*xs) with xs a list built inside",
    """
    def h(a, b):
        return a * b

    def f(x, y):
        xs = [x, y * y]
        return h(*xs)
    """,
    "0.7, 1.3",
)
case(
    "h(**kw) with kw a dict parameter",
    """
    def h(a, b):
        return a * b * b

    def f(kw):
        return h(**kw)
    """,
    '{"a": 0.7, "b": 1.3}',
)
reuse("h(**kw) with kw a dict built inside", "call f(**kw)")
case(
    "**kwargs on f, wrt by name",
    """
    def f(x, **kwargs):
        return x * kwargs["s"] + kwargs["t"] ** 2
    """,
    "0.7",
    kw='{"s": 1.3, "t": 0.4}',
    wrt='(0, "s", "t")',
)
case(
    "*args on f, wrt by position",
    """
    def f(*args):
        return args[0] * args[1] ** 2
    """,
    "0.7, 1.3",
)
case(
    "keyword-only parameter with default",
    """
    def f(x, *, scale=2.0, shift):
        return scale * x * x + shift * x
    """,
    "0.7",
    kw='{"shift": 1.3}',
    wrt='(0, "shift")',
)
reuse("positional-only parameters", "positional-only parameters")
# ---------------------------------------------------------------- 4. statements and expressions
reuse("import math as m inside", "import inside the body")
case(
    "from scipy import special inside",
    """
    def f(x):
        from scipy import special
        return special.erf(x) * x
    """,
    "0.7",
)
case(
    "match literal / sequence / capture",
    """
    def f(x, mode="sq"):
        match mode:
            case "lin":
                return 2.0 * x
            case "sq":
                return x * x
            case other:
                return x
    """,
    "0.7",
)
case(
    "match class pattern on static data",
    """
    import dataclasses
    @dataclasses.dataclass
    class Sq:
        k: float
    @dataclasses.dataclass
    class Lin:
        k: float

    OP = Sq(3.0)

    def f(x):
        match OP:
            case Lin(k=k):
                return k * x
            case Sq(k=k):
                return k * x * x
        return x
    """,
    "0.7",
)
case(
    "match class pattern positional on static data",
    """
    from typing import NamedTuple
    class Pt(NamedTuple):
        a: float
        b: float

    P = Pt(2.0, 3.0)

    def f(x):
        match P:
            case Pt(a, b):
                return a * x + b * x * x
        return x
    """,
    "0.7",
)
case(
    "match mapping pattern on static data",
    """
    CFG = {"kind": "poly", "deg": 3}

    def f(x):
        match CFG:
            case {"kind": "lin"}:
                return x
            case {"kind": "poly", "deg": d}:
                return x ** d
        return 0.0
    """,
    "0.7",
)
case(
    "match mapping pattern with **rest on static data",
    """
    CFG = {"kind": "poly", "deg": 3, "c": 2.0}

    def f(x):
        match CFG:
            case {"kind": "poly", **rest}:
                return rest["c"] * x ** rest["deg"]
        return 0.0
    """,
    "0.7",
)
case(
    "match class pattern isinstance-only (int()/float())",
    """
    def f(x, n=2):
        match n:
            case int():
                return x ** n
            case float():
                return x
        return 0.0
    """,
    "0.7",
)
case(
    "match sequence pattern on a parameter tuple",
    """
    def f(p):
        match p:
            case (a, b):
                return a * b
            case (a, b, c):
                return a * b * c
        return 0.0
    """,
    "(0.7, 1.3, 0.4)",
)
case(
    "match guard on active value",
    """
    def f(x, mode="a"):
        match mode:
            case "a" if x > 0.0:
                return x * x
            case _:
                return -x
    """,
    "0.7",
)
reuse("chained comparison", "chained comparisons")
reuse("nested tuple unpacking", "nested unpacking")
reuse("starred unpacking first, *rest", "starred unpacking")
case(
    "starred unpacking *init, last",
    """
    def f(xs):
        *init, last = xs
        a, *mid, b = xs
        return last * sum(init) + a * b * len(mid)
    """,
    "[0.5, 1.2, 2.0, 0.3]",
)
case(
    "starred in a list display",
    """
    def f(xs, y):
        zs = [y, *xs, y * y]
        return sum(z * z for z in zs)
    """,
    "[0.5, 1.2], 0.7",
)
reuse("walrus in if", "walrus")
reuse("walrus in comprehension", "walrus", 1)
reuse("assert on active value", "assert")
case(
    "raise guard clause",
    """
    def f(x):
        if x < 0.0:
            raise ValueError("negative")
        return x ** 3
    """,
    "0.7",
)
case(
    "del of a name",
    """
    def f(x):
        t = x * x
        u = t * x
        del t
        return u + x
    """,
    "0.7",
)
case(
    "pass",
    """
    def f(x):
        if x > 0.0:
            pass
        else:
            x = -x
        return x * x
    """,
    "0.7",
)
case(
    "try/except taken",
    """
    def f(x):
        try:
            y = x * x
            raise KeyError("k")
        except KeyError:
            y = y * x
        return y
    """,
    "0.7",
)
case(
    "try/except/else/finally",
    """
    def f(x):
        out = 0.0
        try:
            y = x * 2.0
        except ZeroDivisionError:
            y = 0.0
        else:
            y = y * x
        finally:
            out = out + x
        return out + y
    """,
    "0.7",
)
case(
    "try around a dict lookup that misses",
    """
    def f(x, d):
        try:
            v = d["missing"]
        except KeyError:
            v = d["a"] * x
        return v * x
    """,
    '0.7, {"a": 1.3}',
)
reuse("with a user context manager (class)", "with a user context manager", 1)
case(
    "with a user context manager (contextlib)",
    """
    import contextlib
    LOG = []
    @contextlib.contextmanager
    def section(name):
        LOG.append(name)
        yield name
        LOG.append("end")

    def f(x):
        with section("a") as s:
            y = x * x * len(s)
        return y
    """,
    "0.7",
)
case(
    "with np.errstate and warnings.catch_warnings",
    """
    import warnings
    import numpy as np
    def f(x):
        with np.errstate(divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = np.log(x) * x
        return y
    """,
    "0.7",
)
reuse("global declared mid-body", "global/nonlocal")
reuse("nonlocal in nested function", "global/nonlocal", 1)
case(
    "isinstance dispatch on static types",
    """
    def g(v, x):
        if isinstance(v, (int, float)):
            return v * x
        if isinstance(v, list):
            return sum(v) * x
        return x

    def f(x):
        return g(2.0, x) + g([1.0, 2.0], x) + g("s", x)
    """,
    "0.7",
)
case(
    "type() dispatch",
    """
    def f(x, p):
        if type(p) is dict:
            return p["a"] * x
        elif type(p) == list:
            return p[0] * x
        return x
    """,
    '0.7, {"a": 1.3}',
)
case(
    "f-string of active value",
    """
    def f(x):
        label = f"x={x:.3f} sq={x * x!r}"
        return x * len(label) / len(label) + x * x
    """,
    "0.7",
)
case(
    "print of active value",
    """
    def f(x):
        y = x * x
        print("y is", y, f"{y:.2f}")
        return y * x
    """,
    "0.7",
)
reuse("logging of active value", "f-strings / print / logging", 1)
# ---------------------------------------------------------------- 5. builtins, strings, math
case(
    "constant string operations",
    """
    def f(x, name="abc"):
        k = len(name.upper() + "de") + name.count("b")
        return x * k
    """,
    "0.7",
)
reuse("sum with start (float)", "sum with start")
case(
    "sum with start= keyword",
    """
    def f(xs, s0):
        return sum(xs, start=s0) ** 2
    """,
    "[0.5, 1.2, 2.0], 0.3",
)
case(
    "sum of lists with start []",
    """
    def f(x, y):
        l = sum([[x, y], [x * y]], [])
        return l[0] * l[2] + l[1]
    """,
    "0.7, 1.3",
)
reuse("min/max of three values", "min/max of n values and of an iterable")
case(
    "min/max of an iterable",
    """
    def f(xs):
        return max(xs) - min(xs)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "max with key= on static data",
    """
    def f(xs):
        names = ["a", "bbb", "cc"]
        i = max(range(3), key=lambda j: len(names[j]))
        return xs[i] * 2.0
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "max with key= on active data",
    """
    def f(xs):
        best = max(xs, key=abs)
        return best * best
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "min with key= lambda on active pairs",
    """
    def f(xs, ys):
        a, b = min(zip(xs, ys), key=lambda p: p[0] * p[1])
        return a * b
    """,
    "[0.5, -1.2, 2.0], [0.3, 0.4, 1.1]",
)
case(
    "min/max with default=",
    """
    def f(xs, d):
        return max([x for x in xs if x > 5.0], default=d) + min(xs, default=0.0)
    """,
    "[0.5, -1.2, 2.0], 0.3",
)
reuse("sorted of active list", "sorted/reversed of active lists")
case(
    "sorted with key= and reverse=",
    """
    def f(xs):
        s = sorted(xs, key=lambda v: v * v, reverse=True)
        return s[0] * 3.0 + s[-1]
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "reversed of active list",
    """
    def f(xs):
        acc = 0.0
        for i, x in enumerate(reversed(xs)):
            acc = acc * x + i
        return acc + list(reversed(xs))[0]
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "abs",
    """
    def f(x, y):
        return abs(x * y) + abs(-x)
    """,
    "0.7, -1.3",
)
case(
    "round(x) one argument",
    """
    def f(x):
        return x * round(x * 3.0)
    """,
    "0.7",
)
case(
    "round(x, n) two arguments",
    """
    def f(x):
        return round(x, 2) + x * x
    """,
    "0.7",
)
case(
    "divmod",
    """
    def f(x, y):
        q, r = divmod(x, y)
        return q * x + r * r
    """,
    "2.7, 1.3",
)
reuse("pow two arguments", "abs/round/divmod/pow arities", 1)
case(
    "pow three arguments (integers, constant)",
    """
    def f(x):
        return x * pow(3, 4, 5)
    """,
    "0.7",
)
case(
    "float() of active value",
    """
    import numpy as np
    def f(x, a):
        return float(x) * float(np.sum(a))
    """,
    "0.7, np.array([0.5, 1.2])",
)
case(
    "int() of active value",
    """
    def f(x):
        return x * int(x * 10.0)
    """,
    "0.73",
)
case(
    "len",
    """
    def f(xs):
        return sum(xs) / len(xs)
    """,
    "[0.5, -1.2, 2.0]",
)
reuse("range with negative step", "len and range with negative steps")
case(
    "range with negative step -2 and start",
    """
    def f(xs):
        return sum(xs[i] * i for i in range(5, 0, -2))
    """,
    "[0.5, -1.2, 2.0, 0.3, 0.8, 1.1]",
)
case(
    "zip(strict=True)",
    """
    def f(xs, ys):
        return sum(x * y for x, y in zip(xs, ys, strict=True))
    """,
    "[0.5, -1.2, 2.0], [0.3, 0.4, 1.1]",
)
reuse("enumerate(start=)", "zip(strict=) and enumerate(start=)", 1)
case(
    "enumerate(xs, 2) positional start",
    """
    def f(xs):
        acc = 0.0
        for k, x in enumerate(xs, 2):
            acc += k * x * x
        return acc
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "map with a lambda",
    """
    def f(xs, a):
        return sum(map(lambda x: a * x * x, xs))
    """,
    "[0.5, -1.2, 2.0], 0.3",
)
case(
    "map with a named function, two iterables",
    """
    def mul(a, b):
        return a * b

    def f(xs, ys):
        return sum(map(mul, xs, ys))
    """,
    "[0.5, -1.2, 2.0], [0.3, 0.4, 1.1]",
)
case(
    "map with math.sin",
    """
    import math
    def f(xs):
        return sum(list(map(math.sin, xs)))
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "filter with a lambda",
    """
    def f(xs):
        return sum(filter(lambda x: x > 0.0, xs)) ** 2
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "filter with a named function",
    """
    def positive(v):
        return v > 0.0

    def f(xs):
        return sum(x * x for x in filter(positive, xs))
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "filter(None, ...)",
    """
    def f(xs):
        return sum(filter(None, xs))
    """,
    "[0.5, -1.2, 2.0]",
)
reuse("functools.reduce without initial", "functools.reduce")
case(
    "functools.reduce with initial",
    """
    import functools
    import operator
    def f(xs, x0):
        return functools.reduce(operator.mul, xs, x0)
    """,
    "[0.5, -1.2, 2.0], 0.3",
)
case(
    "from functools import reduce",
    """
    from functools import reduce
    def f(xs):
        return reduce(lambda a, b: a + b * b, xs, 0.0)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "dict.items",
    """
    def f(d):
        return sum(k_len * v for k_len, v in ((len(k), v) for k, v in d.items()))
    """,
    '{"a": 0.5, "bb": 1.2}',
)
case(
    "dict.keys",
    """
    def f(d):
        s = 0.0
        for k in d.keys():
            s += d[k] ** 2
        return s
    """,
    '{"a": 0.5, "bb": 1.2}',
)
case(
    "dict.values",
    """
    def f(d):
        return sum(d.values()) * max(d.values())
    """,
    '{"a": 0.5, "bb": 1.2}',
)
case(
    "dict.get with and without default",
    """
    def f(d, x):
        return d.get("a") * x + d.get("zz", x) * d.get("bb", 0.0)
    """,
    '{"a": 0.5, "bb": 1.2}, 0.7',
)
case(
    "dict.update from dict",
    """
    def f(d, x):
        e = dict(d)
        e.update({"a": x * x})
        return e["a"] * e["bb"]
    """,
    '{"a": 0.5, "bb": 1.2}, 0.7',
)
case(
    "dict.update with keywords",
    """
    def f(x, y):
        e = {"a": x}
        e.update(b=y * y, c=x)
        return e["a"] * e["b"] + e["c"]
    """,
    "0.7, 1.3",
)
case(
    "list.extend",
    """
    def f(xs, y):
        ys = [y]
        ys.extend(xs)
        ys.extend(x * y for x in xs)
        return sum(v * v for v in ys)
    """,
    "[0.5, -1.2], 0.7",
)
case(
    "list.insert",
    """
    def f(xs, y):
        ys = list(xs)
        ys.insert(0, y)
        ys.insert(-1, y * y)
        return ys[0] * ys[1] + ys[-2] * ys[-1]
    """,
    "[0.5, -1.2, 2.0], 0.7",
)
case(
    "list.pop (last and index)",
    """
    def f(xs):
        ys = list(xs)
        a = ys.pop()
        b = ys.pop(0)
        return a * b + sum(ys)
    """,
    "[0.5, -1.2, 2.0, 0.3]",
)
case(
    "list.reverse",
    """
    def f(xs):
        ys = list(xs)
        ys.reverse()
        return ys[0] * 2.0 + ys[1] * ys[2]
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "list.append in a loop",
    """
    def f(x):
        ys = []
        for k in range(3):
            ys.append(x ** k)
        return sum(ys)
    """,
    "0.7",
)
case(
    "tuple() constructor",
    """
    def f(xs):
        t = tuple(xs)
        return t[0] * t[-1]
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "list() constructor of a tuple",
    """
    def f(x, y):
        l = list((x, y))
        l[0] = l[0] * y
        return l[0] + l[1]
    """,
    "0.7, 1.3",
)
case(
    "dict() constructor with keywords",
    """
    def f(x, y):
        d = dict(a=x, b=y * y)
        return d["a"] * d["b"]
    """,
    "0.7, 1.3",
)
reuse("dict() constructor of zip", "tuple/list/dict constructors", 1)
case(
    "set holding differentiated values",
    """
    def f(x, y):
        s = {x, y * y}
        return sum(s)
    """,
    "0.7, 1.3",
)
case(
    "set() of active list, then sorted",
    """
    def f(xs):
        return sum(v * v for v in sorted(set(xs)))
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "math.fabs / erfc / cbrt / copysign / fmod",
    """
    import math
    def f(x, y):
        return math.fabs(x) + math.erfc(x) + math.cbrt(x) + math.copysign(x, -y) + math.fmod(y, x)
    """,
    "0.7, 1.3",
)
case(
    "math.prod / fsum / dist / hypot",
    """
    import math
    def f(xs, ys):
        return math.prod(xs) + math.fsum(ys) + math.dist(xs, ys) + math.hypot(*xs)
    """,
    "[0.5, 1.2, 2.0], [0.3, 0.4, 1.1]",
)
# ---------------------------------------------------------------- 6. copies are fresh
case(
    "xs[:] copy then store",
    """
    def f(xs):
        ys = xs[:]
        ys[0] = ys[0] * ys[1]
        return sum(ys)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "G.copy() of module-level array then store",
    """
    import numpy as np
    G = np.array([1.0, 2.0, 3.0])
    def f(x):
        u = G.copy()
        u[1] = x * x
        return np.sum(u * x)
    """,
    "0.7",
)
reuse("np.array(x) / astype copy then store", "copies are fresh", 2)
# ---------------------------------------------------------------- 7. objects and structured parameters
case(
    "bound method self.w read",
    """
    class Model:
        def __init__(self, w):
            self.w = w
        def loss(self, x):
            return (self.w * x - 1.0) ** 2

    def f(x, w):
        return Model(w).loss(x)
    """,
    "0.7, 1.3",
)
case(
    "functools.partial with keyword",
    """
    import functools
    def g(x, a=1.0, b=2.0):
        return a * x + b * x * x

    def f(x, y):
        return functools.partial(g, b=y)(x, a=x)
    """,
    "0.7, 1.3",
)
case(
    "callable object passed to a helper",
    """
    class Sq:
        def __init__(self, k):
            self.k = k
        def __call__(self, x):
            return self.k * x * x

    def apply(fn, v):
        return fn(v) + fn(v + 1.0)

    def f(x, k):
        return apply(Sq(k), x)
    """,
    "0.7, 1.3",
)
case(
    "nested dict parameter gradient",
    """
    def f(p):
        return p["a"]["b"] * p["a"]["c"][1] + p["d"][0][0]
    """,
    '{"a": {"b": 0.5, "c": [1.2, 2.0]}, "d": ((0.3, 1.0),)}',
)
case(
    "NamedTuple nested in a dict parameter",
    """
    from typing import NamedTuple
    class P(NamedTuple):
        a: float
        b: float
    def f(d):
        return d["p"].a * d["p"].b + d["x"]
    """,
    '{"p": P(0.5, 1.2), "x": 0.3}',
)
case(
    "dataclass holding a list and a NamedTuple",
    """
    import dataclasses
    from typing import NamedTuple
    class P(NamedTuple):
        a: float
        b: float
    @dataclasses.dataclass
    class M:
        ws: list
        p: P
    def f(m):
        return sum(m.ws) * m.p.a + m.p.b
    """,
    "M([0.5, 1.2], P(2.0, 0.3))",
)
case(
    "frozen dataclass nested in frozen dataclass",
    """
    import dataclasses
    @dataclasses.dataclass(frozen=True)
    class Inner:
        v: float
    @dataclasses.dataclass(frozen=True)
    class Outer:
        i: Inner
        w: float
    def f(o):
        return o.i.v * o.w ** 2
    """,
    "Outer(Inner(0.5), 1.2)",
)
case(
    "dataclass with a static field",
    """
    import dataclasses
    @dataclasses.dataclass
    class Cfg:
        w: float
        name: str
        n: int
    def f(c, x):
        # (an int field is differentiated as a real number, as an int argument is: read it as a count)
        return sum(c.w * x ** k for k in range(c.n)) * len(c.name)
    """,
    'Cfg(0.5, "ab", 3), 0.7',
)
case(
    "nested dict output (jvp)",
    """
    def f(x, y):
        return {"a": {"b": x * y}, "c": [x, (y * y,)]}
    """,
    "0.7, 1.3",
    jvponly=True,
)
case(
    "NamedTuple output (jvp)",
    """
    from typing import NamedTuple
    class P(NamedTuple):
        a: float
        b: float
    def f(x, y):
        return P(x * y, x + y)
    """,
    "0.7, 1.3",
    jvponly=True,
)
case(
    "dataclass output (jvp)",
    """
    import dataclasses
    @dataclasses.dataclass(frozen=True)
    class R:
        a: float
        b: float
    def f(x, y):
        return R(x * y, x - y)
    """,
    "0.7, 1.3",
    jvponly=True,
)
case(
    "attribute writes on an object created inside (dataclass)",
    """
    import dataclasses
    @dataclasses.dataclass
    class S:
        v: float
    def f(x):
        s = S(x)
        s.v = s.v * s.v
        return s.v + x
    """,
    "0.7",
)


def main(argv=None):
    probe.CASES[:] = CASES
    return probe.main(argv)


if __name__ == "__main__":
    sys.exit(main())
