"""Probe issue #12's list of Python constructs: every construct the issue names, in at least two
realistic programs (nested, inside loops), through ``ac.grad`` and ``ac.jvp``, against central
differences of the original function.

    python benchmarks/conformance/issue12_constructs.py            # summary by construct
    python benchmarks/conformance/issue12_constructs.py -v         # every program, with the message
    python benchmarks/conformance/issue12_constructs.py -k match   # only constructs containing 'match'

Each program ends, per mode, in one of: ok (agrees with the differences); refused (an
``ac.CompileError`` located at ``file:line:col`` of the program, the compiler's promise for what it
cannot follow); UNLOCATED (refused without the user's location); WRONG (a number that differs from the
differences: must stay 0); crash (any other exception). A construct is reported by its worst program.
Exit status 1 if anything is WRONG.
"""

import argparse
import collections
import contextlib
import dataclasses
import importlib.util
import io
import os
import re
import sys
import tempfile
import textwrap
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)  # this checkout's package, not an installed one

import adjoint_compiler as ac  # noqa: E402

EPS = 1e-6
RTOL = 1e-5

# (construct, source defining f, arguments as a Python expression evaluated in the module, options)
# options: "wrt" (default every argument holding floats), "kw" (keyword arguments expression), "nojvp"
CASES = []


def case(construct, source, at, **options):
    CASES.append((construct, textwrap.dedent(source).lstrip(), at, options))


# ---------------------------------------------------------------- 1. comprehensions
case(
    "list comprehension with if",
    """
    def f(xs):
        ys = [x * x for x in xs if x > 0.0]
        return sum(ys)
    """,
    "[0.5, -1.2, 2.0, 0.3]",
)
case(
    "list comprehension with if",
    """
    import math
    def f(a, b):
        out = 0.0
        for k in range(3):
            vals = [math.sin(a * i) + b for i in range(k + 2) if i % 2 == 0]
            out += sum(vals) * b
        return out
    """,
    "0.7, 1.3",
)
case(
    "nested comprehension",
    """
    def f(xs, ys):
        m = [[x * y for y in ys] for x in xs]
        return sum(sum(row) ** 2 for row in m)
    """,
    "[0.5, 1.2], [2.0, 0.3, -0.4]",
)
case(
    "nested comprehension",
    """
    def f(xs):
        pairs = [x * y for x in xs for y in xs if x != y]
        return sum(pairs)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "dict comprehension",
    """
    def f(x, y):
        d = {k: v * x for k, v in {"a": 1.0, "b": y}.items()}
        return d["a"] * d["b"] + sum(d.values())
    """,
    "0.7, 1.3",
)
case(
    "dict comprehension",
    """
    def f(params):
        sq = {name: w * w for name, w in params.items() if name != "skip"}
        return sum(sq[k] for k in sq) + params["skip"]
    """,
    '{"a": 0.5, "b": 1.5, "skip": 2.0}',
)
case(
    "set comprehension (of indices)",
    """
    def f(xs):
        idx = {i % 2 for i in range(len(xs))}
        return sum(xs[i] ** 2 for i in idx)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "set comprehension (of indices)",
    """
    def f(x):
        seen = {int(v) for v in [1.0, 2.0, 2.0, 3.0]}
        return x * len(seen)
    """,
    "0.7",
)
case(
    "generator in sum",
    """
    def f(ws, xs):
        return sum(w * x for w, x in zip(ws, xs))
    """,
    "[0.5, 1.2, 2.0], [0.3, -0.4, 1.1]",
)
case(
    "generator in sum",
    """
    import math
    def f(x):
        total = 0.0
        for k in range(1, 4):
            total += sum(math.exp(-x * j) for j in range(k))
        return total
    """,
    "0.7",
)
case(
    "generator in min/max",
    """
    def f(xs):
        return max(x * x for x in xs) - min(abs(x) for x in xs)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "generator in min/max",
    """
    def f(a, b):
        return max((a * i - b) ** 2 for i in range(4))
    """,
    "0.7, 1.3",
)
case(
    "generator in any/all",
    """
    def f(xs):
        if any(x < 0.0 for x in xs):
            return sum(x * x for x in xs)
        return sum(xs)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "generator in any/all",
    """
    def f(x, y):
        if all(v > 0.0 for v in (x, y)):
            return x * y
        return x + y
    """,
    "0.7, 1.3",
)
case(
    "generator in tuple/list",
    """
    def f(xs):
        t = tuple(x * 2.0 for x in xs)
        l = list(v + 1.0 for v in t)
        return t[0] * l[-1] + len(l)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "generator in tuple/list",
    """
    import math
    def f(x):
        vals = list(math.sin(x * k) for k in range(3))
        return vals[1] * vals[2]
    """,
    "0.7",
)

# ---------------------------------------------------------------- 2. functions inside functions
case(
    "nested def closing over active values",
    """
    def f(x, y):
        def g(t):
            return t * x + y
        return g(2.0) * g(x)
    """,
    "0.7, 1.3",
)
case(
    "nested def closing over active values",
    """
    def f(x):
        s = 0.0
        scale = x * 2.0
        def step(v):
            return v * scale
        for i in range(3):
            s += step(s + 1.0)
        return s
    """,
    "0.7",
)
case(
    "lambda",
    """
    def f(x, y):
        sq = lambda t: t * t * y
        return sq(x) + sq(y)
    """,
    "0.7, 1.3",
)
case(
    "lambda",
    """
    def f(xs):
        return sum(map(lambda v: v ** 2, xs))
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "nested function passed to a helper",
    """
    def apply_twice(g, v):
        return g(g(v))

    def f(x):
        def g(t):
            return t * x
        return apply_twice(g, 1.5)
    """,
    "0.7",
)
case(
    "nested function passed to a helper",
    """
    def integrate(fn, a, b, n):
        h = (b - a) / n
        return sum(fn(a + h * (i + 0.5)) for i in range(n)) * h

    def f(k):
        return integrate(lambda t: t * t * k, 0.0, 1.0, 4)
    """,
    "0.7",
)
case(
    "nested function returned and called",
    """
    def make(a):
        def g(t):
            return a * t * t
        return g

    def f(x):
        g = make(x)
        return g(3.0) + make(2.0)(x)
    """,
    "0.7",
)
case(
    "nested function returned and called",
    """
    def f(x, y):
        def make(a):
            return lambda t: a * t
        h = make(y)
        return h(x) * x
    """,
    "0.7, 1.3",
)
case(
    "recursion of a nested function",
    """
    def f(x):
        def power(v, n):
            if n == 0:
                return 1.0
            return v * power(v, n - 1)
        return power(x, 3)
    """,
    "0.7",
)
case(
    "recursion of a nested function",
    """
    def f(x, y):
        def fib(n):
            if n < 2:
                return x if n == 0 else y
            return fib(n - 1) + fib(n - 2)
        return fib(5)
    """,
    "0.7, 1.3",
)

# ---------------------------------------------------------------- 3. signatures
case(
    "keyword-only parameters with defaults",
    """
    def f(x, *, scale=2.0, shift=0.5):
        return scale * x * x + shift
    """,
    "0.7",
)
case(
    "keyword-only parameters with defaults",
    """
    def f(x, y, *, p=3):
        return (x * y) ** p
    """,
    "0.7, 1.3",
)
case(
    "keyword-only parameter differentiated",
    """
    def f(x, *, scale=2.0):
        return scale * x * x
    """,
    "0.7",
    kw="{'scale': 1.5}",
    wrt="('x', 'scale')",
)
case(
    "*args on the differentiated function",
    """
    def f(*xs):
        return sum(x * x for x in xs)
    """,
    "0.7, 1.3, 2.0",
)
case(
    "*args on the differentiated function",
    """
    def f(a, *rest):
        s = a
        for r in rest:
            s = s * r
        return s
    """,
    "0.7, 1.3, 2.0",
)
case(
    "**kwargs on the differentiated function",
    """
    def f(x, **opts):
        return x * opts["w"] + opts.get("b", 0.0)
    """,
    "0.7",
    kw="{'w': 1.5, 'b': 0.25}",
    wrt="(0,)",
)
case(
    "**kwargs on the differentiated function",
    """
    def f(x, **opts):
        s = x
        for k in opts:
            s = s * 2.0
        return s * s
    """,
    "0.7",
    kw="{'a': 1, 'b': 2}",
    wrt="(0,)",
)
case(
    "positional-only parameters",
    """
    def f(x, y, /):
        return x * y + x
    """,
    "0.7, 1.3",
)
case(
    "positional-only parameters",
    """
    def f(x, /, y=2.0, *, z=3.0):
        return x * y * z
    """,
    "0.7, 1.3",
)
case(
    "call f(*xs)",
    """
    def h(a, b, c):
        return a * b - c

    def f(x, y):
        xs = [x, y, 2.0]
        return h(*xs) + h(*(y, x, x))
    """,
    "0.7, 1.3",
)
case(
    "call f(*xs)",
    """
    def h(*vs):
        return sum(vs)

    def f(xs):
        return h(*xs) * h(*xs[1:])
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "call f(**kw)",
    """
    def h(a, b=1.0):
        return a * b

    def f(x, y):
        kw = {"a": x, "b": y}
        return h(**kw) + h(**{"a": y})
    """,
    "0.7, 1.3",
)
case(
    "call f(**kw)",
    """
    def h(a, **rest):
        return a * rest["k"]

    def f(x):
        return h(x, **{"k": x * 2.0})
    """,
    "0.7",
)

# ---------------------------------------------------------------- 4. statements and expressions
case(
    "import inside the body",
    """
    def f(x):
        import math as m
        return m.sin(x) * m.exp(x)
    """,
    "0.7",
)
case(
    "import inside the body",
    """
    def f(x):
        from scipy import special
        import numpy
        return special.erf(x) + numpy.tanh(x)
    """,
    "0.7",
)
case(
    "import inside the body",
    """
    def f(x):
        from math import log, sqrt
        return log(x) * sqrt(x)
    """,
    "0.7",
)
case(
    "match on static patterns",
    """
    def f(x, mode="sq"):
        match mode:
            case "sq":
                return x * x
            case "cube":
                return x ** 3
            case _:
                return x
    """,
    "0.7",
)
case(
    "match on static patterns",
    """
    def f(x, y):
        out = 0.0
        for k in range(3):
            match k:
                case 0:
                    out += x
                case 1 | 2:
                    out += x * y
        return out
    """,
    "0.7, 1.3",
)
case(
    "match on static patterns",
    """
    def f(x, y):
        match (x, y):
            case (a, b):
                return a * b
    """,
    "0.7, 1.3",
)
case(
    "chained comparisons",
    """
    def f(x):
        if 0.0 < x < 1.0:
            return x * x
        return x
    """,
    "0.7",
)
case(
    "chained comparisons",
    """
    def f(xs):
        s = 0.0
        for x in xs:
            s += x if -1.0 <= x <= 1.0 else 2.0 * x
        return s
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "nested unpacking",
    """
    def f(x, y):
        (a, (b, c)) = (x, (y, x * y))
        return a * b + c
    """,
    "0.7, 1.3",
)
case(
    "nested unpacking",
    """
    def f(xs, ys):
        s = 0.0
        for i, (a, b) in enumerate(zip(xs, ys)):
            s += i * a * b
        return s
    """,
    "[0.5, 1.2, 2.0], [0.3, -0.4, 1.1]",
)
case(
    "starred unpacking",
    """
    def f(xs):
        first, *rest = xs
        return first * sum(rest)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "starred unpacking",
    """
    def f(x, y):
        a, *mid, z = [x, y, x * y, 2.0]
        return a * z + sum(mid)
    """,
    "0.7, 1.3",
)
case(
    "walrus",
    """
    def f(x):
        if (y := x * x) > 0.1:
            return y * x
        return y
    """,
    "0.7",
)
case(
    "walrus",
    """
    def f(xs):
        return sum(z for x in xs if (z := x * 2.0) > 0.0)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "assert",
    """
    def f(x):
        assert x > 0.0, "x must be positive"
        return x ** 1.5
    """,
    "0.7",
)
case(
    "assert",
    """
    def f(xs):
        assert len(xs) == 3
        for x in xs:
            assert x == x
        return xs[0] * xs[2]
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "raise guard clause",
    """
    import math
    def f(x):
        if x <= 0.0:
            raise ValueError("x must be positive, got %r" % x)
        return math.log(x) * x
    """,
    "0.7",
)
case(
    "raise guard clause",
    """
    def f(xs):
        s = 0.0
        for x in xs:
            if x != x:
                raise ValueError(f"nan in input: {x}")
            s += x * x
        return s
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "pass and del of a name",
    """
    def f(x):
        t = x * 2.0
        if x > 10.0:
            pass
        y = t * x
        del t
        return y
    """,
    "0.7",
)
case(
    "pass and del of a name",
    """
    def f(xs):
        s = 0.0
        for x in xs:
            tmp = x * x
            s += tmp
            del tmp
        return s
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "try/except/else/finally",
    """
    import math
    def f(x):
        try:
            y = math.log(x)
        except ValueError:
            y = 0.0
        else:
            y = y * 2.0
        finally:
            pass
        return y * x
    """,
    "0.7",
)
case(
    "try/except/else/finally",
    """
    import math
    def f(x):
        try:
            y = math.log(-x)
        except ValueError:
            y = x * x
        return y
    """,
    "0.7",
)
case(
    "try/except/else/finally",
    """
    def f(xs, k):
        try:
            v = xs[int(k)]
        except IndexError:
            v = xs[0]
        return v * v
    """,
    "[0.5, 1.2, 2.0], 7.0",
    wrt="(0,)",
)
case(
    "with np.errstate / warnings",
    """
    import numpy as np
    def f(x):
        with np.errstate(divide="ignore"):
            y = np.log(x) * x
        return y
    """,
    "0.7",
)
case(
    "with np.errstate / warnings",
    """
    import warnings
    def f(x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = x * x
        return y
    """,
    "0.7",
)
case(
    "with a user context manager",
    """
    import contextlib
    LOG = []

    @contextlib.contextmanager
    def section(name):
        LOG.append(name)
        yield
        LOG.append("/" + name)

    def f(x):
        with section("a"):
            y = x * x
        return y * x
    """,
    "0.7",
)
case(
    "with a user context manager",
    """
    class Timer:
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False

    def f(x):
        s = 0.0
        for i in range(3):
            with Timer():
                s += x * i
        return s * x
    """,
    "0.7",
)
case(
    "global/nonlocal",
    """
    SCALE = 2.0
    def f(x):
        global SCALE
        return SCALE * x * x
    """,
    "0.7",
)
case(
    "global/nonlocal",
    """
    def f(x):
        acc = 0.0
        def add(v):
            nonlocal acc
            acc += v
        add(x)
        add(x * x)
        return acc
    """,
    "0.7",
)
case(
    "isinstance/type dispatch",
    """
    import numpy as np
    def f(x):
        if isinstance(x, np.ndarray):
            return np.sum(x ** 2)
        return x ** 2
    """,
    "0.7",
)
case(
    "isinstance/type dispatch",
    """
    def norm2(v):
        if isinstance(v, (list, tuple)):
            return sum(e * e for e in v)
        if type(v) is float:
            return v * v
        return 0.0

    def f(xs, y):
        return norm2(xs) + norm2(y)
    """,
    "[0.5, 1.2], 1.3",
)
case(
    "f-strings / print / logging",
    """
    def f(x):
        y = x * x
        msg = f"y={y:.3f} x={x}"
        print(msg, end="")
        return y * len(msg) / len(msg)
    """,
    "0.7",
)
case(
    "f-strings / print / logging",
    """
    import logging
    log = logging.getLogger("probe")
    def f(x):
        y = x ** 3
        log.debug("y = %s", y)
        logging.debug("x = %f", x)
        return y
    """,
    "0.7",
)

# ---------------------------------------------------------------- 5. builtins, strings, math
case(
    "constant string operations",
    """
    def f(x, name="abc"):
        label = name.upper() + "_" + str(len(name))
        if label.startswith("ABC"):
            return x * len(label)
        return x
    """,
    "0.7",
)
case(
    "constant string operations",
    """
    def f(x):
        parts = "a,b,c".split(",")
        s = 0.0
        for i, p in enumerate(parts):
            s += x ** (i + 1) * (1.0 if p in "ab" else 2.0)
        return s
    """,
    "0.7",
)
for _fn, _at in [
    ("fabs", "-0.7"),
    ("erfc", "0.7"),
    ("asinh", "0.7"),
    ("acosh", "1.7"),
    ("atanh", "0.3"),
    ("cbrt", "0.7"),
    ("exp2", "0.7"),
    ("degrees", "0.7"),
    ("radians", "0.7"),
    ("gamma", "1.7"),
    ("lgamma", "1.7"),
    ("expm1", "0.7"),
    ("log1p", "0.7"),
    ("log2", "0.7"),
    ("log10", "0.7"),
    ("erf", "0.7"),
]:
    case("math.%s" % _fn, "import math\ndef f(x):\n    return math.%s(x) * x\n" % _fn, _at)
for _expr, _at in [
    ("math.copysign(x, y)", "0.7, -1.3"),
    ("math.fmod(x, y)", "2.7, 1.3"),
    ("math.remainder(x, y)", "2.7, 1.3"),
    ("math.ldexp(x, 3)", "0.7, 1.3"),
    ("math.hypot(x, y)", "0.7, 1.3"),
    ("math.atan2(x, y)", "0.7, 1.3"),
    ("math.prod([x, y, 2.0])", "0.7, 1.3"),
    ("math.fsum([x, y, x * y])", "0.7, 1.3"),
    ("math.dist((x, y), (1.0, 0.0))", "0.7, 1.3"),
    ("math.pow(x, y)", "0.7, 1.3"),
    ("math.log(x, y)", "0.7, 1.3"),
    ("math.hypot(x, y, 2.0)", "0.7, 1.3"),
]:
    case("math.%s" % _expr.split("(")[0][5:], "import math\ndef f(x, y):\n    return %s * x\n" % _expr, _at)
case(
    "min/max of n values and of an iterable",
    """
    def f(x, y, z):
        return max(x, y, z) * min(x, y, z, 0.5)
    """,
    "0.7, 1.3, 0.2",
)
case(
    "min/max of n values and of an iterable",
    """
    def f(xs):
        return max(xs) - min([x * 2.0 for x in xs]) + max(xs, key=abs)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "sum with start",
    """
    def f(xs, y):
        return sum(xs, y) * sum([x * x for x in xs], start=1.0)
    """,
    "[0.5, -1.2, 2.0], 1.3",
)
case(
    "sum with start",
    """
    def f(xs):
        return sum((x * 2.0 for x in xs), 0.5)
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "sorted/reversed of active lists",
    """
    def f(xs):
        s = sorted(xs)
        return s[0] * 1.0 + s[1] * 2.0 + s[2] * 3.0
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "sorted/reversed of active lists",
    """
    def f(xs):
        out = 0.0
        for i, x in enumerate(reversed(xs)):
            out = out * 0.5 + x * i
        return out + sorted(xs, reverse=True)[0]
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "abs/round/divmod/pow arities",
    """
    def f(x, y):
        q, r = divmod(x, y)
        return abs(x - y) * r + pow(x, 2) + round(x, 1) * x + round(x) * y
    """,
    "2.7, 1.3",
)
case(
    "abs/round/divmod/pow arities",
    """
    def f(x, y):
        return pow(x, y) + pow(y, 3) + x ** -2
    """,
    "0.7, 1.3",
)
case(
    "float()/int() conversions",
    """
    def f(x):
        n = int(x * 10.0)
        return float(x) * n + float(n)
    """,
    "0.77",
)
case(
    "float()/int() conversions",
    """
    import numpy as np
    def f(a):
        return float(np.sum(a ** 2)) * float(a[0])
    """,
    "np.array([0.5, 1.2, 2.0])",
)
case(
    "len and range with negative steps",
    """
    def f(xs):
        s = 0.0
        for i in range(len(xs) - 1, -1, -1):
            s = s * 0.5 + xs[i]
        return s
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "len and range with negative steps",
    """
    def f(x):
        s = 1.0
        for k in range(10, 0, -3):
            s = s * x + k
        return s
    """,
    "0.7",
)
case(
    "zip(strict=) and enumerate(start=)",
    """
    def f(xs, ys):
        s = 0.0
        for i, (a, b) in enumerate(zip(xs, ys, strict=True), start=1):
            s += i * a * b
        return s
    """,
    "[0.5, 1.2, 2.0], [0.3, -0.4, 1.1]",
)
case(
    "zip(strict=) and enumerate(start=)",
    """
    def f(xs):
        return sum(i * x for i, x in enumerate(xs, 2))
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "map/filter",
    """
    import math
    def f(xs):
        return sum(map(math.sin, filter(lambda v: v > 0.0, xs)))
    """,
    "[0.5, -1.2, 2.0]",
)
case(
    "map/filter",
    """
    def sq(v):
        return v * v

    def f(xs, ys):
        return sum(list(map(lambda a, b: a * b, xs, ys))) + sum(map(sq, xs))
    """,
    "[0.5, 1.2, 2.0], [0.3, -0.4, 1.1]",
)
case(
    "functools.reduce",
    """
    import functools
    def f(xs):
        return functools.reduce(lambda a, b: a * b + 1.0, xs)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "functools.reduce",
    """
    import operator
    from functools import reduce
    def f(xs):
        return reduce(operator.mul, xs, 1.0) + reduce(operator.add, xs)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "dict methods",
    """
    def f(x, y):
        d = {"a": x}
        d.update({"b": y})
        d.update(c=x * y)
        s = 0.0
        for k, v in d.items():
            s += v * len(k)
        return s + sum(d.values()) + d.get("z", 1.0) * len(list(d.keys()))
    """,
    "0.7, 1.3",
)
case(
    "dict methods",
    """
    def f(p):
        out = dict(p)
        out["w"] = out["w"] * 2.0
        return out.pop("w") * p["b"] + out.setdefault("c", 3.0)
    """,
    '{"w": 0.5, "b": 1.5}',
)
case(
    "list methods",
    """
    def f(xs):
        ys = list(xs)
        ys.extend([ys[0] * 2.0])
        ys.insert(0, ys[-1] * ys[1])
        last = ys.pop()
        ys.reverse()
        return ys[0] * last + ys[-1]
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "list methods",
    """
    def f(x):
        stack = []
        for i in range(4):
            stack.append(x * i)
        s = 0.0
        while stack:
            s = s * x + stack.pop()
        return s
    """,
    "0.7",
)
case(
    "tuple/list/dict constructors",
    """
    def f(x, y):
        t = tuple([x, y])
        l = list((x, y, x * y))
        d = dict(a=x, b=y)
        d2 = dict([("u", x), ("v", y)])
        return t[1] * l[2] + d["a"] * d2["v"]
    """,
    "0.7, 1.3",
)
case(
    "tuple/list/dict constructors",
    """
    def f(xs):
        d = dict(zip(["a", "b", "c"], xs))
        return d["a"] * d["c"] + sum(tuple(xs))
    """,
    "[0.5, 1.2, 2.0]",
)

# ---------------------------------------------------------------- 6. copies are fresh
case(
    "copies are fresh",
    """
    def f(xs):
        ys = list(xs)
        ys[0] = ys[0] * ys[1]
        zs = xs[:]
        zs[1] = 0.0
        return sum(ys) * sum(zs)
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "copies are fresh",
    """
    import numpy as np
    G = np.array([1.0, 2.0, 3.0])
    def f(x):
        u = G.copy()
        u[0] = x
        v = np.array(u)
        v[1] = x * x
        w = v.astype(float)
        w[2] *= x
        return np.sum(u * v * w)
    """,
    "0.7",
)
case(
    "copies are fresh",
    """
    import numpy as np
    def f(a):
        b = np.array(a)
        b[0] = b[0] * 3.0
        c = a.astype(float)
        c[1] += b[0]
        return np.sum(b * c)
    """,
    "np.array([0.5, 1.2, 2.0])",
)

# ---------------------------------------------------------------- 7. objects and structured parameters
case(
    "bound methods of user classes",
    """
    class Model:
        def __init__(self, w):
            self.w = w
        def loss(self, x):
            return (self.w * x - 1.0) ** 2

    MODEL = Model(2.0)

    def f(x):
        return MODEL.loss(x) + MODEL.loss(x * x)
    """,
    "0.7",
)
case(
    "bound methods of user classes",
    """
    class Model:
        def __init__(self, w):
            self.w = w
        def predict(self, x):
            return self.w * x
        def loss(self, x, y):
            return (self.predict(x) - y) ** 2

    def f(x, w):
        m = Model(w)
        step = m.loss
        return step(x, 1.0) + step(2.0 * x, 0.5)
    """,
    "0.7, 1.3",
)
case(
    "bound method differentiated itself",
    """
    class Model:
        def __init__(self, w):
            self.w = w
        def loss(self, x):
            return (self.w * x - 1.0) ** 2

    f = Model(2.0).loss
    """,
    "0.7",
)
case(
    "functools.partial",
    """
    import functools
    def g(a, x, b=1.0):
        return a * x * x + b

    def f(x, y):
        h = functools.partial(g, y, b=x)
        return h(x) * h(2.0)
    """,
    "0.7, 1.3",
)
case(
    "functools.partial differentiated itself",
    """
    import functools
    def g(a, x):
        return a * x * x

    f = functools.partial(g, 2.0)
    """,
    "0.7",
)
case(
    "callable object with __call__",
    """
    class Poly:
        def __init__(self, cs):
            self.cs = cs
        def __call__(self, x):
            s = 0.0
            for c in self.cs:
                s = s * x + c
            return s

    P = Poly([1.0, -2.0, 0.5])

    def f(x):
        return P(x) * P(x * x)
    """,
    "0.7",
)
case(
    "callable object with __call__",
    """
    class Scale:
        def __init__(self, k):
            self.k = k
        def __call__(self, x):
            return self.k * x

    def f(x, k):
        s = Scale(k)
        return s(x) * s(x)
    """,
    "0.7, 1.3",
)
case(
    "callable object differentiated itself",
    """
    class Scale:
        def __init__(self, k):
            self.k = k
        def __call__(self, x):
            return self.k * x * x

    f = Scale(1.5)
    """,
    "0.7",
)
case(
    "nested dict/list/tuple parameters",
    """
    def f(p):
        return p["layer"]["w"][0] * p["layer"]["w"][1] + p["b"][0] * p["layer"]["s"]
    """,
    '{"layer": {"w": [0.5, 1.2], "s": 2.0}, "b": (0.3, 4.0)}',
)
case(
    "nested dict/list/tuple parameters",
    """
    import numpy as np
    def f(params, x):
        h = x
        for layer in params:
            h = np.tanh(layer["W"] @ h + layer["b"])
        return np.sum(h ** 2)
    """,
    '[{"W": np.array([[0.5, -0.2], [0.1, 0.3]]), "b": np.array([0.1, -0.1])},'
    ' {"W": np.array([[0.2, 0.4], [-0.3, 0.6]]), "b": np.array([0.0, 0.2])}], np.array([0.7, -0.4])',
)
case(
    "NamedTuple parameters",
    """
    from typing import NamedTuple
    class P(NamedTuple):
        a: float
        b: float

    def f(p, x):
        return p.a * x * x + p.b * x
    """,
    "P(0.5, 1.2), 0.7",
)
case(
    "NamedTuple parameters",
    """
    import collections
    Pt = collections.namedtuple("Pt", "x y")

    def f(pts):
        s = 0.0
        for p in pts:
            s += p.x * p.y
        return s
    """,
    "[Pt(0.5, 1.2), Pt(2.0, 0.3)]",
)
case(
    "dataclass parameters",
    """
    import dataclasses
    @dataclasses.dataclass
    class Params:
        w: float
        b: float

    def f(p, x):
        return (p.w * x + p.b) ** 2
    """,
    "Params(0.5, 1.2), 0.7",
)
case(
    "dataclass parameters",
    """
    import dataclasses
    import numpy as np
    @dataclasses.dataclass(frozen=True)
    class Layer:
        W: np.ndarray
        b: np.ndarray

    def f(layer, x):
        return np.sum(np.tanh(layer.W @ x + layer.b))
    """,
    "Layer(np.array([[0.5, -0.2], [0.1, 0.3]]), np.array([0.1, -0.1])), np.array([0.7, -0.4])",
)
case(
    "attribute writes on objects created inside",
    """
    class Acc:
        def __init__(self):
            self.total = 0.0
        def add(self, v):
            self.total += v

    def f(xs):
        a = Acc()
        for x in xs:
            a.add(x * x)
        return a.total
    """,
    "[0.5, 1.2, 2.0]",
)
case(
    "attribute writes on objects created inside",
    """
    class State:
        pass

    def f(x):
        s = State()
        s.v = x
        s.v = s.v * 2.0
        return s.v * x
    """,
    "0.7",
)
case(
    "structured output (jvp)",
    """
    def f(x, y):
        return {"s": x * y, "t": (x + y, x - y)}
    """,
    "0.7, 1.3",
    jvponly=True,
)


# ---------------------------------------------------------------- the check
def _leaves(v):
    """The float leaves of ``v`` (floats, float arrays) in a fixed order, through dicts, lists,
    tuples, NamedTuples and dataclasses."""
    if isinstance(v, float):
        return [np.array(v)]
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return [v]
    if isinstance(v, dict):
        return [leaf for k in sorted(v, key=str) for leaf in _leaves(v[k])]
    if isinstance(v, (list, tuple)):
        return [leaf for e in v for leaf in _leaves(e)]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return [leaf for fld in dataclasses.fields(v) for leaf in _leaves(getattr(v, fld.name))]
    return []


def _flat(v):
    ls = _leaves(v)
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in ls]) if ls else np.zeros(0)


def _leaves_like(g, like):
    """The leaves of the gradient ``g`` where its argument ``like`` has float leaves (``_leaves``' order):
    an int or string field of a dataclass, say, has no gradient to compare, whatever number stands there."""
    if isinstance(like, float) or isinstance(like, np.ndarray) and like.dtype.kind == "f":
        return [g]
    if isinstance(like, dict):
        return [leaf for k in sorted(like, key=str) for leaf in _leaves_like(g[k], like[k])]
    if isinstance(like, (list, tuple)):
        return [leaf for e, a in zip(g, like) for leaf in _leaves_like(e, a)]
    if dataclasses.is_dataclass(like) and not isinstance(like, type):
        return [
            leaf for f in dataclasses.fields(like) for leaf in _leaves_like(getattr(g, f.name), getattr(like, f.name))
        ]
    return []


def _flat_like(g, like):
    ls = _leaves_like(g, like)
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in ls]) if ls else np.zeros(0)


def _rebuild(v, flat, pos=None):
    """``v`` with its float leaves replaced, in order, by the numbers of ``flat``."""
    pos = [0] if pos is None else pos
    if isinstance(v, float):
        pos[0] += 1
        return float(flat[pos[0] - 1])
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        n = v.size
        pos[0] += n
        return np.array(flat[pos[0] - n : pos[0]]).reshape(v.shape)
    if isinstance(v, dict):
        out = dict(v)
        for k in sorted(v, key=str):
            out[k] = _rebuild(v[k], flat, pos)
        return out
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return type(v)(*[_rebuild(e, flat, pos) for e in v])
    if isinstance(v, (list, tuple)):
        return type(v)(_rebuild(e, flat, pos) for e in v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.replace(
            v, **{fld.name: _rebuild(getattr(v, fld.name), flat, pos) for fld in dataclasses.fields(v)}
        )
    return v


def _same_shape(g, v):
    """The gradient has the argument's structure and types (a float for a float)."""
    if isinstance(v, float):
        return isinstance(g, float) or (isinstance(g, np.ndarray) and g.shape == ())
    if isinstance(v, np.ndarray):
        return isinstance(g, np.ndarray) and g.shape == v.shape
    if isinstance(v, dict):
        return isinstance(g, dict) and set(g) == set(v) and all(_same_shape(g[k], v[k]) for k in v)
    if isinstance(v, (list, tuple)) or dataclasses.is_dataclass(v):
        if type(g) is not type(v):
            return False
        if dataclasses.is_dataclass(v):
            return all(_same_shape(getattr(g, f.name), getattr(v, f.name)) for f in dataclasses.fields(v))
        return len(g) == len(v) and all(_same_shape(a, b) for a, b in zip(g, v))
    return True


class Wrong(Exception):
    pass


def _names(f):
    import inspect

    try:
        return list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return []


def _check(f, args, kwargs, wrt, modes):
    """Compare grad (and jvp) of f at args with central differences; raise Wrong on a mismatch."""

    # positions (ints) or names (keyword arguments) differentiated
    def call(values):
        a = list(args)
        kw = dict(kwargs)
        for w, v in zip(wrt, values):
            if isinstance(w, int):
                a[w] = v
            elif w in kw:
                kw[w] = v
            else:
                a[_names(f).index(w)] = v
        return f(*a, **kw)

    def value_of(w):
        if isinstance(w, int):
            return args[w]
        return kwargs[w] if w in kwargs else args[_names(f).index(w)]

    base = [value_of(w) for w in wrt]
    out0 = call(base)
    refs = []
    for i, b in enumerate(base):
        flat = _flat(b)
        ref = np.zeros((flat.size,) + np.shape(_flat(out0)))
        for k in range(flat.size):
            vals = []
            for t in (EPS, -EPS):
                moved = flat.copy()
                moved[k] += t
                vs = list(base)
                vs[i] = _rebuild(b, moved)
                vals.append(_flat(call(vs)))
            ref[k] = (vals[0] - vals[1]) / (2 * EPS)
        refs.append(ref)
    results = {}
    if "grad" in modes:
        g = ac.grad(f, wrt=tuple(wrt))(*_copy(args), **_copy(kwargs))
        for i, (gi, b) in enumerate(zip(g, base)):
            if not _same_shape(gi, b):
                raise Wrong("gradient %d has type %s, argument %s" % (i, type(gi).__name__, type(b).__name__))
            err = _err(_flat_like(gi, b), refs[i].ravel())
            if err > RTOL:
                raise Wrong("grad: gradient %d = %s, differences %s" % (i, _flat_like(gi, b), refs[i].ravel()))
        results["grad"] = "ok"
    if "jvp" in modes:
        rng = np.random.default_rng(0)
        tangents = tuple(_rebuild(b, rng.standard_normal(_flat(b).size)) for b in base)
        _, t_out = ac.jvp(f, wrt=tuple(wrt))(*_copy(args), tangents, **_copy(kwargs))
        expected = sum(_flat(t) @ r.reshape(_flat(t).size, -1) for t, r in zip(tangents, refs))
        err = _err(_flat(t_out), np.ravel(expected))
        if err > RTOL:
            raise Wrong("jvp: tangent %s, differences %s" % (_flat(t_out), np.ravel(expected)))
        results["jvp"] = "ok"
    return results


def _err(a, b):
    if a.shape != b.shape:
        return np.inf
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b)))) if a.size else 0.0


def _copy(v):
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.copy()
    return v


def run_case(folder, number, construct, source, at, options, verbose):
    name = "issue12_case%03d" % number
    path = os.path.join(folder, name + ".py")
    try:
        compile(source, path, "exec")
    except SyntaxError:
        return {"grad": ("skip", "not syntax on this Python")}
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    env = {"np": np, **vars(mod)}
    args = eval("(%s,)" % at, env)
    kwargs = eval(options.get("kw", "{}"), env)
    f = mod.f
    if "wrt" in options:
        wrt = list(eval(options["wrt"]))
    else:
        wrt = [i for i, a in enumerate(args) if _flat(a).size]
    outcome = {}
    modes = ["jvp"] if options.get("jvponly") else ["grad", "jvp"]
    for mode in modes:
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the programs that print
                _check(f, args, kwargs, wrt, [mode])
            outcome[mode] = ("ok", "")
        except Wrong as e:
            outcome[mode] = ("WRONG", str(e))
        except ac.CompileError as e:
            message = str(e)
            located = re.search(re.escape(name) + r"\.py:\d+:\d+", message)
            outcome[mode] = ("refused" if located else "UNLOCATED", message.strip().splitlines()[0][:300])
        except Exception as e:  # noqa: BLE001 - the probe reports any failure
            tb = traceback.extract_tb(e.__traceback__)
            where = "%s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else "?"
            outcome[mode] = (
                "crash",
                "%s: %s (at %s)" % (type(e).__name__, str(e).splitlines()[0][:200] if str(e) else "", where),
            )
    return outcome


ORDER = ["WRONG", "crash", "UNLOCATED", "refused", "skip", "ok"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-k", default="")
    opts = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="issue12_")
    by_construct = collections.OrderedDict()
    counts = collections.Counter()
    for number, (construct, source, at, options) in enumerate(CASES):
        if opts.k and opts.k not in construct:
            continue
        outcome = run_case(folder, number, construct, source, at, options, opts.verbose)
        by_construct.setdefault(construct, []).append((number, outcome))
        for status, _ in outcome.values():
            counts[status] += 1
    construct_counts = collections.Counter()
    for construct, runs in by_construct.items():
        statuses = [s for _, o in runs for s, _ in o.values()]
        worst = min(statuses, key=ORDER.index)
        construct_counts[worst] += 1
        print("%-10s %s" % (worst, construct))
        for number, outcome in runs:
            for mode, (status, message) in outcome.items():
                if status != "ok" and (opts.verbose or status in ("WRONG", "crash", "UNLOCATED", "refused")):
                    print("    case%03d %-4s %-9s %s" % (number, mode, status, message))
    print()
    print("programs x modes: " + ", ".join("%s %d" % (s, counts[s]) for s in ORDER if counts[s]))
    print(
        "constructs (worst program): "
        + ", ".join("%s %d" % (s, construct_counts[s]) for s in ORDER if construct_counts[s])
    )
    return 1 if counts["WRONG"] else 0


if __name__ == "__main__":
    sys.exit(main())
