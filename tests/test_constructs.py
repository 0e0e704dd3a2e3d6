"""The supported-constructs table: one entry per construct, each run as a test, and the source of the
documentation page ``docs/constructs.md`` (``docs/gen_constructs.py`` renders it from ``CONSTRUCTS``).

Each entry is ``(category, construct, status, detail, source)``:

- ``status == "supported"``: ``detail`` is the point to check at, a Python expression (``np`` is NumPy);
  the gradient with respect to every float or float-array argument is checked against central
  differences of the ORIGINAL function, and so is ``ac.jvp`` in a random direction unless the
  construct is listed in ``NO_JVP``;
- ``status == "refused"``: ``detail`` is text the ``ac.UnsupportedError`` message must contain (the
  construct's name); the message must also give ``file:line:col`` in the example's file.

``source`` is a small module whose function ``f`` is differentiated. The table is plain literals, so
the page generator reads it with ``ast.literal_eval`` without importing the test suite.
"""

import ast
import importlib.util
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import testing

# (category, construct, status, detail, source)
CONSTRUCTS = [
    # ---------------------------------------------------------------- arithmetic
    (
        "Arithmetic",
        "`+ - * / **`, unary `-`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            return -x * y + x / y - y ** 3 + 2.0 ** x
        """,
    ),
    (
        "Arithmetic",
        "`//` and `%`",
        "supported",
        "2.7, 1.3",
        """
        def f(x, y):
            return (x // y) * x + x % y
        """,
    ),
    (
        "Arithmetic",
        "augmented assignment `+= -= *= /=`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            s = x
            s += y
            s *= x
            s /= y
            s -= x
            return s
        """,
    ),
    (
        "Arithmetic",
        "`abs`, `min`, `max`, `pow`",
        "supported",
        "0.7, -1.3",
        """
        def f(x, y):
            return abs(y) * max(x, y) + min(x, 2.0 * y) + pow(x, 3)
        """,
    ),
    (
        "Arithmetic",
        "`math` functions",
        "supported",
        "0.7",
        """
        import math

        def f(x):
            return math.sin(x) * math.exp(x) + math.log1p(x) + math.atan2(x, 2.0) + math.hypot(x, 1.0)
        """,
    ),
    (
        "Arithmetic",
        "`@` (matrix product)",
        "supported",
        "np.array([[0.3, -0.7], [1.1, 0.4]]), np.array([0.5, -1.2])",
        """
        def f(A, x):
            return x @ A @ x
        """,
    ),
    (
        "Arithmetic",
        "non-differentiable operations (`int`, `round`, `math.floor`, comparisons)",
        "supported",
        "2.7",
        """
        import math

        def f(x):
            k = int(x) + round(x) + math.floor(x)
            return x * k + float(x > 1.0)
        """,
    ),
    # ---------------------------------------------------------------- control flow
    (
        "Control flow",
        "`if` / `elif` / `else`",
        "supported",
        "0.7",
        """
        def f(x):
            if x > 1.0:
                y = x * x
            elif x > 0.0:
                y = 3.0 * x
            else:
                y = -x
            return y
        """,
    ),
    (
        "Control flow",
        "conditional expression `a if c else b`",
        "supported",
        "0.7",
        """
        def f(x):
            return x * x if x > 0 else -x
        """,
    ),
    (
        "Control flow",
        "`for` over `range`",
        "supported",
        "0.7, 5",
        """
        import math

        def f(x, n):
            y = x
            for i in range(n):
                y = y * x + math.sin(y)
            return y
        """,
    ),
    (
        "Control flow",
        "`for` over a list, `enumerate`, `zip`",
        "supported",
        "[0.5, -1.2, 2.0], [1.0, 2.0, 3.0]",
        """
        def f(xs, ws):
            s = 0.0
            for i, (x, w) in enumerate(zip(xs, ws)):
                s = s + i * w * x * x
            return s
        """,
    ),
    (
        "Control flow",
        "a loop or comprehension over the view of a dict display: `{'a': x, 'b': y}.items()`, `.values()`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            d = {k: v * x for k, v in {"a": 1.0, "b": y}.items()}
            s = 0.0
            for i in range(3):
                s += sum(v * i for v in {"a": x, "b": y * x}.values())
            return d["a"] * d["b"] + s
        """,
    ),
    (
        "Control flow",
        "`for col in zip(*m)`, `reversed(list(enumerate(xs)))`, `list(zip(a, b))`",
        "supported",
        "[0.5, -1.2, 2.0], [1.0, 2.0, 3.0]",
        """
        def f(xs, ws):
            m = [xs, ws]
            s = 0.0
            for col in zip(*m):
                s = s + col[0] * col[1]
            for i, x in reversed(list(enumerate(xs))):
                s = s * 0.5 + i * x
            pairs = list(zip(xs, ws))
            return s + pairs[1][0] * pairs[2][1]
        """,
    ),
    (
        "Control flow",
        "an iterator bound to a name, consumed once: `pairs = enumerate(xs)`, `zip`, `reversed`, `map`, `filter`",
        "supported",
        "[0.5, -1.2, 2.0], [1.0, 2.0, 3.0]",
        """
        import math

        def f(xs, ws):
            pairs = enumerate(xs)
            s = 0.0
            for i, x in pairs:
                s = s + i * x * x
            z = zip(xs, reversed(ws))
            squares = map(lambda t: t * t, xs)
            kept = filter(lambda t: t > 0.0, ws)
            sines = map(math.sin, xs)
            return s + sum([x * w for x, w in z]) + sum(squares) * max(kept) + sum(list(sines))
        """,
    ),
    (
        "Control flow",
        "an iterator bound to a name and used twice",
        "refused",
        "used a second time",
        """
        def f(x):
            r = reversed([x, 2.0 * x])
            return sum(r) + sum(r)
        """,
    ),
    (
        "Control flow",
        "`next()` of an iterator bound to a name",
        "refused",
        "read with next()",
        """
        def f(x):
            it = map(lambda t: t * x, [1.0, 2.0])
            return next(it) * x
        """,
    ),
    (
        "Control flow",
        "`for x in reversed(xs)` whose body stores into `xs`",
        "supported",
        "[0.5, -1.2, 2.0]",
        """
        def f(xs):
            ys = list(xs)
            s = 0.0
            for y in reversed(ys):
                ys[0] = ys[0] + y * y
                s = s + y * ys[0]
            return s
        """,
    ),
    (
        "Control flow",
        "`for` over the rows of an array",
        "supported",
        "np.array([[0.3, -0.7], [1.1, 0.4]])",
        """
        import numpy as np

        def f(a):
            s = 0.0
            for row in a:
                s = s + np.sum(row * row) * s + np.sum(row)
            return s
        """,
    ),
    (
        "Control flow",
        "`while` with `break`",
        "supported",
        "5.0",
        """
        def f(a):
            x = a
            while True:
                step = (x * x - a) / (2.0 * x)
                x = x - step
                if abs(step) < 1e-12:
                    break
            return x
        """,
    ),
    (
        "Control flow",
        "`continue`",
        "supported",
        "0.7, 6",
        """
        def f(x, n):
            s = 0.0
            for k in range(n):
                if k % 2 == 1:
                    continue
                s = s + x ** k
            return s
        """,
    ),
    (
        "Control flow",
        "early `return` (inside a loop)",
        "supported",
        "0.7",
        """
        def f(x):
            y = x
            for k in range(10):
                y = y * 1.5
                if y > 3.0:
                    return y * x
            return y
        """,
    ),
    (
        "Control flow",
        "loop `else:`",
        "supported",
        "0.7, 3",
        """
        def f(x, n):
            s = x
            for k in range(n):
                if s > 100.0:
                    break
                s = s * x + 1.0
            else:
                s = s * 2.0
            return s
        """,
    ),
    (
        "Control flow",
        "nested loops and branches",
        "supported",
        "0.7, 3, 2",
        """
        def f(x, n, m):
            s = 0.0
            for i in range(n):
                for j in range(m):
                    if (i + j) % 2 == 0:
                        s = s + x * i
                    else:
                        s = s * x
            return s
        """,
    ),
    (
        "Control flow",
        "checkpointed loop `ac.checkpointed(range(n))`",
        "supported",
        "0.5, 50",
        """
        import math
        import adjoint_compiler as ac

        def f(x, n):
            y = x
            for i in ac.checkpointed(range(n)):
                y = y * x + math.sin(y) * 0.01
            return y
        """,
    ),
    # ---------------------------------------------------------------- calls
    (
        "Calls and functions",
        "calls of user functions, default and keyword arguments",
        "supported",
        "0.7, 1.3",
        """
        import math

        def helper(a, b, scale=2.0):
            c = a * b
            return math.sin(c) * scale

        def f(x, y):
            return helper(x, y) + helper(y, x, scale=0.5)
        """,
    ),
    (
        "Calls and functions",
        "a called function or method changing its argument in place (`hist.append(v)`, `buf[i] = v`, "
        "`d[k] = v`, `self.items.append(v)`)",
        "supported",
        "0.7",
        """
        def push(hist, v):
            hist.append(v * v)

        class Acc:
            def __init__(self):
                self.items = []

            def add(self, v):
                self.items.append(v)

        def f(x):
            hist = [x]
            a = Acc()
            for k in range(3):
                push(hist, x + k)
                a.add(hist[-1] * x)
            return sum(hist) + sum(a.items)
        """,
    ),
    (
        "Calls and functions",
        "a called function changing its argument in place while another name still sees it",
        "refused",
        "a call of push() that changes its argument hist in place, while seen",
        """
        def push(hist, v):
            hist.append(v * v)

        def f(x):
            hist = []
            seen = hist
            push(hist, x)
            return sum(seen)
        """,
    ),
    (
        "Calls and functions",
        "`statistics.mean`, `fmean`, `variance`, `pvariance`, `stdev`, `pstdev`, `median` of a list of floats",
        "supported",
        "0.7",
        """
        import statistics

        def f(x):
            xs = [x, x * x, 3.0, 0.5]
            return statistics.mean(xs) * statistics.stdev(xs) + statistics.median(xs) + statistics.pvariance(xs, 1.0)
        """,
    ),
    (
        "Calls and functions",
        "recursion",
        "supported",
        "0.7, 4",
        """
        def power(x, n):
            if n == 0:
                return 1.0
            return x * power(x, n - 1)

        def f(x, n):
            return power(x, n)
        """,
    ),
    (
        "Calls and functions",
        "nested `def` (closure over local variables)",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            def g(t):
                return t * x + y
            return g(2.0) * g(x)
        """,
    ),
    (
        "Calls and functions",
        "`lambda`",
        "supported",
        "0.7",
        """
        def f(x):
            sq = lambda t: t * t * x
            return sq(3.0) + sq(x)
        """,
    ),
    (
        "Calls and functions",
        "`nonlocal`",
        "supported",
        "0.7",
        """
        def f(x):
            total = 0.0

            def add(v):
                nonlocal total
                total = total + v

            for k in range(3):
                add(x * k)
            return total * x
        """,
    ),
    (
        "Calls and functions",
        "a function passed as an argument",
        "supported",
        "0.7",
        """
        import math

        def integrate(g, a, b, n=4):
            h = (b - a) / n
            s = 0.0
            for i in range(n):
                s = s + g(a + i * h) * h
            return s

        def f(x):
            return integrate(math.sin, 0.0, x)
        """,
    ),
    (
        "Calls and functions",
        "a called function taking `*args`",
        "supported",
        "0.7, 1.3",
        """
        def mean(*values):
            return sum(values) / len(values)

        def f(x, y):
            return mean(x, y, x * y)
        """,
    ),
    (
        "Calls and functions",
        "`itertools.accumulate` (sums, a function, `initial=`)",
        "supported",
        "0.7",
        """
        import itertools
        import operator

        def f(x):
            sums = list(itertools.accumulate([x, x * x, 2.0]))
            products = itertools.accumulate([x, 3.0], operator.mul, initial=x)
            return sum(sums) + max(products)
        """,
    ),
    (
        "Calls and functions",
        "`itertools.chain`, `islice`, `product`, `starmap`, `zip_longest`, `combinations` (`r` a literal) of "
        "finite iterables",
        "supported",
        "0.7",
        """
        import itertools
        import operator

        def f(x):
            xs = [x, x * x, 2.0]
            total = sum(itertools.chain(xs, [x]))
            total += sum(itertools.islice(xs, 1, None))
            total += sum(a * b for a, b in itertools.product(xs, [x, 0.5]))
            total += sum(itertools.starmap(operator.mul, [(x, 2.0), (x, x)]))
            total += sum(a * b for a, b in itertools.zip_longest(xs, [x], fillvalue=1.0))
            return total + sum(a * b for a, b in itertools.combinations(xs, 2))
        """,
    ),
    (
        "Calls and functions",
        "`map`, `filter`, `functools.reduce` of lambdas",
        "supported",
        "0.7",
        """
        import functools

        def f(x):
            ys = list(map(lambda t: t * x, [1.0, 2.0, 3.0]))
            zs = list(filter(lambda t: t > 1.0, ys))
            return functools.reduce(lambda a, b: a * b, zs, 1.0)
        """,
    ),
    (
        "Calls and functions",
        "`xs.sort(key=..., reverse=...)` of a list, `a.sort(axis=...)` of an array, in place",
        "supported",
        "0.7, np.array([[0.3, -2.0], [1.5, 0.1]])",
        """
        import numpy as np

        def f(x, a):
            xs = [x, 2.0 * x * x, 1.0]
            xs.sort(key=abs, reverse=True)
            b = a * x
            b.sort(axis=0)
            return xs[0] + 2.0 * xs[2] + np.sum(b * np.arange(4.0).reshape(2, 2))
        """,
    ),
    (
        "Calls and functions",
        "`sorted` and `max` with `key=`",
        "supported",
        "0.7",
        """
        def f(x):
            ys = sorted([x, 2.0 * x, -x], key=lambda t: t * t)
            return ys[0] * max([x, 3.0 * x], key=abs)
        """,
    ),
    (
        "Calls and functions",
        "`**kw` on a called function (compiled for each call's keywords)",
        "supported",
        "0.7, 1.3",
        """
        def h(a, **kw):
            return a * kw["s"] + kw.get("t", 0.0)

        def f(x, y):
            return h(x, s=2.0) + h(x, s=y, t=x * y)
        """,
    ),
    (
        "Calls and functions",
        "a nested function taking `*args, **kwargs`, forwarding `g(*args, **kwargs)`",
        "supported",
        "np.array([0.3, -0.5]), np.array([[1.0, 0.2], [0.4, 2.0]])",
        """
        import numpy as np

        def quadratic(x, m, scale=1.0):
            return scale * np.sum(x @ m @ x)

        def f(x, m):
            def symmetrized(*args, **kwargs):
                args = list(args)
                args[1] = 0.5 * (args[1] + args[1].T)
                return quadratic(*args, **kwargs)

            return symmetrized(x, m, scale=3.0) + symmetrized(x, m)
        """,
    ),
    (
        "Calls and functions",
        "`h(*xs[1:])`, `h(*list(args))`, `h(**{'a': a})`, `h(**kw)`: spreading values known in length and keys",
        "supported",
        "0.7, 1.3",
        """
        def h(a, b, c=1.0):
            return a * b + c

        def f(x, y):
            xs = [x, y, x * y]
            args = (y, x)
            kw = {"b": y, "c": x}
            return h(*xs[1:]) + h(*list(args)) + h(**{"a": x, "b": 2.0}) + h(x, **kw)
        """,
    ),
    (
        "Calls and functions",
        "`sorted`, `min`, `max` with `key=operator.itemgetter(...)` (or `attrgetter`, `methodcaller`)",
        "supported",
        "0.7, 1.3",
        """
        import operator

        def f(x, y):
            d = {"b": x, "a": y, "c": x * y}
            total = 0.0
            for i, (k, v) in enumerate(sorted(d.items(), key=operator.itemgetter(0))):
                total = total + v * (i + 1.0)
            pairs = [(2, x), (0, y)]
            return total + max(pairs, key=operator.itemgetter(0))[1] * min(pairs, key=lambda p: p[0])[1]
        """,
    ),
    (
        "Calls and functions",
        "a helper decorated with `functools.wraps` forwarding `*args, **kwargs`",
        "supported",
        "0.7, 1.3",
        """
        import functools

        def doubled(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                return 2.0 * fn(*args, **kwargs)
            return wrapper

        @doubled
        def scaled(a, p=2.0):
            return a ** p

        def f(x, y):
            return scaled(x) + scaled(y, p=3.0) * x
        """,
    ),
    (
        "Calls and functions",
        "`*args` before keyword-only parameters",
        "supported",
        "0.7, 1.3",
        """
        def h(*values, scale=1.0):
            return scale * sum(v * v for v in values)

        def f(x, y):
            return h(x, y, x * y, scale=2.0) + h(y)
        """,
    ),
    (
        "Calls and functions",
        "recursion to a depth known when compiling (straight-line code)",
        "supported",
        "0.7, 1.3",
        """
        import math

        def ping(x, n):
            return x if n == 0 else pong(x * 1.1, n - 1)

        def pong(x, n):
            return math.sin(x) if n == 0 else ping(x + 0.5, n - 1)

        def f(x, y):
            return ping(x, 4) * y + ping(y, 1)
        """,
    ),
    (
        "Calls and functions",
        "a decorated nested function",
        "refused",
        "decorator",
        """
        import functools

        def f(x):
            @functools.lru_cache
            def q(t):
                return t * t
            return q(x)
        """,
    ),
    (
        "Calls and functions",
        "a nested function returned (a closure), then called",
        "supported",
        "0.7",
        """
        def f(x):
            def make(k):
                def g(t):
                    return k * t * t
                return g
            g = make(x)
            return g(2.0) + make(x * x)(3.0)
        """,
    ),
    (
        "Calls and functions",
        "a function held in a local variable",
        "supported",
        "0.7, 1.3",
        """
        import math

        def helper(t):
            return t * math.sin(t)

        def f(x, y):
            act = math.tanh
            h = helper
            return act(x) * h(y)
        """,
    ),
    (
        "Calls and functions",
        "a loop over a tuple of functions",
        "supported",
        "0.7, 1.3",
        """
        import numpy as np

        def f(x, y):
            t = 0.0
            for fn in (np.sin, np.cos, lambda v: v * y):
                t = t + fn(x) * y
            return t
        """,
    ),
    (
        "Calls and functions",
        "`functools.partial`",
        "supported",
        "0.7, 1.3",
        """
        import functools

        def scale(a, b, k=1.0):
            return k * a * b

        def f(x, y):
            p = functools.partial(scale, x, k=y)
            return p(y) + functools.partial(lambda a, b: a / b, y)(x)
        """,
    ),
    (
        "Calls and functions",
        "a lambda passed to a nested function",
        "supported",
        "0.7",
        """
        def f(x):
            def apply(g, v):
                return g(v) * v
            return apply(lambda t: t * x, 3.0)
        """,
    ),
    (
        "Calls and functions",
        "a function chosen at run time (`act = relu if flag else np.tanh`, `if` arms)",
        "supported",
        "0.7, 1.3",
        """
        import math

        def relu(v):
            return max(v, 0.0)

        def f(x, y):
            act = math.tanh if x > 0.5 else (lambda v: v * y)
            if y > 1.0:
                out = relu
            else:
                out = math.sin
            return out(act(x)) * y
        """,
    ),
    (
        "Calls and functions",
        "a function read from a display at run time (`{'relu': relu, ...}[name](x)`, `fs[i](x)`)",
        "supported",
        "0.7, 1.3",
        """
        import math

        def f(x, y, name="tanh"):
            acts = {"sin": math.sin, "tanh": math.tanh}
            fs = [math.tanh, math.sin]
            return acts[name](x) * fs[int(x > 0)](y) + {"s": math.cos, "t": math.exp}[name[0]](y)
        """,
    ),
    (
        "Calls and functions",
        "lambdas made by a comprehension, each binding the loop's value (`[lambda v, i=i: v * i for i in range(3)]`)",
        "supported",
        "0.7",
        """
        def f(x):
            fs = [lambda v, i=i: v * i + x for i in range(3)]
            s = 0.0
            for g in fs:
                s = s + g(x) * x
            return s + fs[-1](2.0)
        """,
    ),
    (
        "Calls and functions",
        "`getattr(module, name)` with a literal name",
        "supported",
        "0.7",
        """
        import math

        import numpy as np

        def f(x):
            name = "tanh"
            return getattr(math, "sin")(x) * getattr(np, name)(x)
        """,
    ),
    (
        "Calls and functions",
        "a module's table of functions read with a key known at run time (`ACTS[name](x)`)",
        "supported",
        "np.array([0.3, -0.5, 0.9])",
        """
        import numpy as np

        def relu(v):
            return np.maximum(v, 0.0)

        ACTS = {"relu": relu, "tanh": np.tanh}

        def f(x, act="tanh"):
            return np.sum(ACTS[act](x) * ACTS["relu"](x))
        """,
    ),
    (
        "Calls and functions",
        "a loop over a list of (value, function) pairs (`for W, act in layers`)",
        "supported",
        "np.array([0.3, -0.5, 0.9])",
        """
        import numpy as np

        def f(x):
            layers = [(np.eye(3) * 0.5, np.tanh), (np.ones((3, 3)) * 0.1, lambda v: np.maximum(v, 0.0))]
            for W, act in layers:
                x = act(W @ x)
            return x.sum()
        """,
    ),
    (
        "Calls and functions",
        "a function read from a list built at run time",
        "refused",
        "read from a container at run time",
        """
        import math

        def f(x):
            fs = []
            fs.append(math.sin)
            return fs[0](x)
        """,
    ),
    (
        "Calls and functions",
        "a nested function stored or returned",
        "refused",
        "used as a value",
        """
        def f(x):
            def g(t):
                return t * x
            fs = [g]
            return x * len(fs)
        """,
    ),
    (
        "Calls and functions",
        "the differentiated function a generator (`yield`)",
        "refused",
        "yield",
        """
        def f(x):
            yield x * x
        """,
    ),
    (
        "Calls and functions",
        "generator function consumed once (`for v in gen(n)`, `sum(gen(n))`, `list(gen(n))`)",
        "supported",
        "0.7",
        """
        def f(x):
            def gen(n):
                t = x
                for i in range(n):
                    yield t
                    t = t * x
            s = sum(gen(3))
            for v in gen(2):
                s = s + v * v
            return s
        """,
    ),
    (
        "Calls and functions",
        "a generator kept in a variable (`g = gen(x); for v in g:`), or in a comprehension or expression "
        "(`sum(v * v for v in gen(x))`, `y * sum(gen(x))`)",
        "supported",
        "0.7",
        """
        def gen(x, n):
            for i in range(n):
                yield x * i

        def f(x):
            g = gen(x, 3)
            s = 0.0
            for v in g:
                s = s + v * x
            s = s + sum(v * v for v in gen(x, 2))
            return s + x * sum(gen(x, 4))
        """,
    ),
    (
        "Calls and functions",
        "`yield from`, `yield` in `try`/`with`, a generator used other than once",
        "refused",
        "yield from",
        """
        def f(x):
            def gen():
                yield from [x]
            return sum(gen())
        """,
    ),
    (
        "Calls and functions",
        "keyword-only parameters of a nested function",
        "supported",
        "0.7",
        """
        def f(x):
            def h(a, b=2.0, *, c=3.0):
                return a * b * c
            return h(x) + h(x, c=x)
        """,
    ),
    (
        "Calls and functions",
        "`async def`",
        "refused",
        "async",
        """
        def f(x):
            async def g(t):
                return t
            return x * x
        """,
    ),
    # ---------------------------------------------------------------- state
    (
        "State",
        "reading and writing a `global`",
        "supported",
        "0.7",
        """
        COUNT = 0

        def f(x):
            global COUNT
            COUNT += 1
            return x * COUNT
        """,
    ),
    (
        "State",
        "a global rebound by a called function",
        "supported",
        "0.5",
        """
        TOTAL = 0.0

        def add(v):
            global TOTAL
            TOTAL = TOTAL + v

        def f(x):
            for i in range(3):
                add(x * i)
            return TOTAL * x
        """,
    ),
    (
        "State",
        "attribute writes on a class, or on an object passed in",
        "refused",
        "attribute",
        """
        class Box:
            v = 0.0

        def f(x):
            Box.v = x * x
            return x
        """,
    ),
    (
        "State",
        "counters and statistics kept in a global dict, list or object (`STATE['calls'] += 1`, `COUNTER.n += 1`, "
        "`stats['last'] = float(y)`): stored once per call, as the original does",
        "supported",
        "0.7",
        """
        import math

        class Counter:
            def __init__(self):
                self.n = 0

        STATE = {"calls": 0}
        COUNTER = Counter()
        stats = {}

        def f(x):
            STATE["calls"] += 1
            COUNTER.n += 1
            y = math.sin(x) * x
            stats["last"] = float(y)
            return y * STATE["calls"] / COUNTER.n
        """,
    ),
    (
        "State",
        "a class attribute counted in a method (`Counter.calls += 1`): stored once per call, as the original does",
        "supported",
        "0.7",
        """
        import math

        class Counter:
            calls = 0

            def __init__(self, s):
                self.s = s

            def step(self, x):
                Counter.calls += 1
                return self.s * math.sin(x)

        def f(x):
            c = Counter(2.0)
            return c.step(x) * c.step(x)
        """,
    ),
    (
        "Containers",
        "a list of objects of different classes walked by a method call (`for l in layers: h = l.forward(h)`), "
        "unrolled per element; a method appending to a list field and returning `self`",
        "supported",
        "0.7",
        """
        import math

        class Dense:
            def __init__(self, w):
                self.w = w
                self.seen = []

            def forward(self, h):
                self.seen.append(h)
                return self.w * h

            def log(self, v):
                self.seen.append(v)
                return self

        class Shift:
            def __init__(self, b):
                self.b = b

            def forward(self, h):
                return math.sin(h) + self.b

        def f(x):
            layers = [Dense(2.0), Shift(0.5), Dense(x)]
            h = x
            for l in layers:
                h = l.forward(h)
            layers[0].log(h * h)
            return h + sum(layers[0].seen)
        """,
    ),
    (
        "State",
        "a differentiated value stored into a global the function reads back",
        "refused",
        "a store of a differentiated value",
        """
        STATE = {"y": 0.0}

        def f(x):
            STATE["y"] = x * x
            return STATE["y"] * x
        """,
    ),
    # ---------------------------------------------------------------- containers
    (
        "Calls and functions",
        "objects made by a classmethod or staticmethod factory (`p = P.make(x)`, `return cls(...)`), held in a "
        "dict display (`d = {'p': P(x)}; d['p'].val(x)`) or a list of callable layers (`for l in layers: x = l(x)`)",
        "supported",
        "0.7, np.array([[0.5, -0.1], [0.3, 0.4]])",
        """
        import numpy as np

        class P:
            def __init__(self, a):
                self.a = a

            @classmethod
            def make(cls, a):
                return cls(a * 2.0)

            @staticmethod
            def build(a):
                return P(a + 1.0)

            def val(self, x):
                return self.a * x

        class Layer:
            def __init__(self, w):
                self.w = w

            def __call__(self, v):
                return np.tanh(self.w @ v)

        def f(x, W):
            d = {"p": P.make(x), "q": P.build(x)}
            h = np.array([x, 1.0])
            layers = [Layer(W), Layer(W * x)]
            for layer in layers:
                h = layer(h)
            return d["p"].val(x) + d["q"].a * x + np.sum(h)
        """,
    ),
    (
        "Containers",
        "tuples, tuple unpacking, starred targets",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            a, (b, c) = x * y, (x, y)
            first, *rest = [a, b, c]
            return first * rest[0] + rest[1]
        """,
    ),
    (
        "Containers",
        "lists: `append`, indexing, `len`, `sum`",
        "supported",
        "0.7, 4",
        """
        def f(x, n):
            ys = []
            for k in range(n):
                ys.append(x ** k)
            return sum(ys) * ys[-1] / len(ys)
        """,
    ),
    (
        "Containers",
        "a dict display with computed keys or `**`: `{k: x, **base}`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            base = {"a": x, "b": y}
            k = "c"
            d = {k: x * y, **base, "b": y * y}
            return d["a"] * d["b"] + d[k]
        """,
    ),
    (
        "Containers",
        "repetition `xs * n`, `n * xs`, `[x] * 3`, `(a, b) * 2`",
        "supported",
        "0.7, 1.3, 3",
        """
        def f(x, y, n):
            xs = [x, x * y] * n
            ones = 3 * [y]
            t = (x, y) * 2
            return sum(xs) * ones[0] * ones[2] + t[3] * t[2]
        """,
    ),
    (
        "Containers",
        "list methods `extend`, `insert`, `pop`, `reverse`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            xs = [x, y]
            xs.extend([x * y, 2.0])
            xs.insert(0, y * y)
            last = xs.pop()
            xs.reverse()
            return xs[0] * last + xs[1] * xs[2]
        """,
    ),
    (
        "Containers",
        "dicts: displays, `d[k] = v`, `get`, `items`, `update`",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            d = {"a": x, "b": y}
            d["c"] = x * y
            d.update(e=y * y)
            s = d.get("z", 1.0)
            for k, v in d.items():
                s = s * v
            return s
        """,
    ),
    (
        "Containers",
        "a dict argument (gradient is a dict)",
        "supported",
        "{'w': 0.7, 'b': -0.2}, 1.3",
        """
        def f(params, x):
            return (params["w"] * x + params["b"]) ** 2
        """,
    ),
    (
        "Containers",
        "list and dict comprehensions, generator expressions",
        "supported",
        "0.7, 1.3",
        """
        def f(x, y):
            squares = [x * k for k in range(4) if k != 2]
            weights = {k: y ** k for k in range(3)}
            return sum(squares) + sum(w * x for w in weights.values())
        """,
    ),
    (
        "Containers",
        "NamedTuple argument",
        "supported",
        "Point(0.7, 1.3)",
        """
        from typing import NamedTuple

        class Point(NamedTuple):
            x: float
            y: float

        def f(p):
            return p.x * p.y + p.x ** 2
        """,
    ),
    (
        "Containers",
        "dataclass argument",
        "supported",
        "Params(0.7, 1.3)",
        """
        from dataclasses import dataclass

        @dataclass
        class Params:
            w: float
            b: float

        def f(p):
            return (p.w * 2.0 + p.b) ** 2
        """,
    ),
    (
        "Containers",
        "dataclass built inside the function (frozen too), its fields read and assigned",
        "supported",
        "0.7",
        """
        from dataclasses import dataclass

        @dataclass
        class Pair:
            a: float
            b: float = 1.0

        def f(x):
            p = Pair(x, x * x)
            p.b = p.b * p.a
            p.a += Pair(x).b
            return p.a + p.b
        """,
    ),
    (
        "Containers",
        "a method called on an object made in the same expression (`Scaler(k).apply(x)`)",
        "supported",
        "0.7",
        """
        class Scaler:
            def __init__(self, k):
                self.k = k

            def apply(self, v):
                return self.k * v * v

        def f(x):
            return Scaler(3.0).apply(x) + Scaler(x).apply(2.0)
        """,
    ),
    (
        "Containers",
        "objects of a class made in the function: attribute stores, methods (that change the object too), in loops",
        "supported",
        "0.7",
        """
        class Box:
            def __init__(self, v, scale=2.0):
                self.v = v
                self.scale = scale

            def get(self):
                return self.v * self.scale

            def bump(self, d):
                self.v = self.v + d
                return self.v

        def f(x):
            b = Box(x * x)
            for i in range(3):
                b.v = b.v * x
                y = b.bump(x)
                if y > 1.0:
                    b.scale *= 0.5
            return b.get() + y
        """,
    ),
    (
        "Containers",
        "value-style classes: methods and operators that return a new object of the class",
        "supported",
        "0.7",
        """
        class Vec:
            def __init__(self, a, b):
                self.a = a
                self.b = b

            def __add__(self, o):
                return Vec(self.a + o.a, self.b + o.b)

            def __rmul__(self, k):
                return Vec(k * self.a, k * self.b)

            def rotated(self):
                return Vec(-self.b, self.a)

        def f(x):
            v = Vec(x, 1.0)
            for _ in range(3):
                v = v + 0.5 * v.rotated()
            return v.a * v.b
        """,
    ),
    (
        "Containers",
        "a list of objects made in the function, changed through the loop variable",
        "supported",
        "0.7",
        """
        class Body:
            def __init__(self, pos, vel):
                self.pos = pos
                self.vel = vel

            def step(self, dt):
                self.vel -= dt * self.pos
                self.pos += dt * self.vel

        def f(x):
            ps = [Body(x * i, 0.0) for i in range(3)]
            for _ in range(4):
                for p in ps:
                    p.step(0.1)
            return sum(p.pos**2 for p in ps)
        """,
    ),
    (
        "Containers",
        "elements of a list of objects made in the function by index (`ps[i].pos`, `ps[i].step(dt)`, `ps[-1].vel`)",
        "supported",
        "np.array([0.3, 0.55, 0.9])",
        """
        class Body:
            def __init__(self, pos, vel):
                self.pos = pos
                self.vel = vel

            def step(self, dt):
                self.vel -= dt * self.pos
                self.pos += dt * self.vel

            def energy(self):
                return 0.5 * (self.pos**2 + self.vel**2)

        def f(x):
            n = len(x)
            ps = [Body(x[i], 0.0) for i in range(n)]
            for _ in range(3):
                for i in range(n):
                    ps[i].step(0.1)
                    ps[i].vel = ps[i].vel - 0.1 * ps[n - 1 - i].pos
            return ps[0].energy() + ps[-1].vel * ps[1].pos
        """,
    ),
    (
        "Containers",
        "`min`/`max` with a key over a list of objects made in the function",
        "supported",
        "np.array([0.3, 0.55, 0.9])",
        """
        class Candidate:
            def __init__(self, w, cost):
                self.w = w
                self.cost = cost

        def f(x):
            cs = [Candidate(x[i], (x[i] - 0.4) ** 2) for i in range(len(x))]
            best = min(cs, key=lambda c: c.cost)
            return best.w * best.cost + best.w
        """,
    ),
    (
        "Containers",
        "an element of a list of objects aliased (`q = ps[0]; q.pos = ...`)",
        "refused",
        "assignment to an attribute",
        """
        class Body:
            def __init__(self, pos, vel):
                self.pos = pos
                self.vel = vel

        def f(x):
            ps = [Body(x * i, 0.0) for i in range(3)]
            q = ps[1]
            q.pos = q.pos * 3.0
            return ps[1].pos
        """,
    ),
    (
        "Containers",
        "methods of a NamedTuple built in the function, and functions given it",
        "supported",
        "0.7",
        """
        import math
        from typing import NamedTuple

        class P(NamedTuple):
            x: float
            y: float

            def norm(self):
                return math.sqrt(self.x**2 + self.y**2)

        def dist(p, q):
            return math.sqrt((p.x - q.x) ** 2 + (p.y - q.y) ** 2)

        def f(a):
            p = P(a, 2.0 * a)
            return p.norm() * dist(p, P(1.0, a))
        """,
    ),
    (
        "Containers",
        "methods that change an object made in the function and return it (return self), alone, chained or "
        "rebound (`w = w.step(x)`)",
        "supported",
        "0.7",
        """
        class Walker:
            def __init__(self, x):
                self.x = x

            def step(self, k):
                self.x = self.x * k + 1.0
                return self

        def f(x):
            w = Walker(x)
            w.step(x)
            w.step(2.0).step(x)
            w = w.step(0.5)
            return w.x
        """,
    ),
    (
        "Containers",
        "an object made in the function passed to the user's functions that read or change it",
        "supported",
        "0.7",
        """
        class Particle:
            def __init__(self, x, v):
                self.x = x
                self.v = v

        def push(p, dt):
            p.v = p.v - dt * p.x
            p.x = p.x + dt * p.v

        def energy(p):
            return 0.5 * (p.x * p.x + p.v * p.v)

        def f(x):
            p = Particle(x, 0.0)
            for _ in range(3):
                push(p, 0.1)
            return energy(p)
        """,
    ),
    (
        "Containers",
        "an object made in the function of a class with read-only properties and methods calling `super()`",
        "supported",
        "0.7",
        """
        class Shape:
            def __init__(self, w):
                self.w = w

            def scale(self):
                return 2.0 * self.w

        class Rect(Shape):
            def __init__(self, w, h):
                super().__init__(w)
                self.h = h

            @property
            def area(self):
                return self.w * self.h

            def scale(self):
                return super().scale() + self.area

        def f(x):
            r = Rect(x, x + 1.0)
            r.h = r.h * x
            return r.area + r.scale() + Rect(x, 2.0).area
        """,
    ),
    (
        "Containers",
        "an object made in the function and its attributes assigned, then returned, stored or passed to a library",
        "refused",
        "used other than through its attributes and methods",
        """
        class Box:
            def __init__(self, v):
                self.v = v

        SEEN = []

        def f(x):
            b = Box(x)
            b.v = b.v * x
            SEEN.append(b)
            return b.v
        """,
    ),
    (
        "Containers",
        "an object made in the function of a class with `__setattr__`, its attributes assigned",
        "refused",
        "whose class defines __setattr__",
        """
        class Logged:
            def __init__(self, v):
                self.v = v

            def __setattr__(self, name, value):
                object.__setattr__(self, name, value)

        def f(x):
            b = Logged(x)
            b.v = b.v * x
            return b.v
        """,
    ),
    (
        "Containers",
        "a `for` loop over a dict's keys (`for k in d: ... d[k]`), a dict argument too",
        "supported",
        "{'w': 0.7, 'b': -0.3}, 1.5",
        """
        def f(params, x):
            d = {"a": x, "b": 2.0}
            s = 0.0
            for k in d:
                s = s + d[k] * len(k)
            for name in params:
                s = s + params[name] ** 2 * x
            return s
        """,
    ),
    (
        "Containers",
        "a `for` loop over a dict from elsewhere that does not read `d[k]`",
        "refused",
        "for loop over a dict",
        """
        def make(x):
            return {"a": x, "b": 2.0}

        def f(x):
            d = make(x)
            s = 0.0
            for k in d:
                s = s + x
            return s
        """,
    ),
    (
        "Containers",
        "stores into an element of an element: `m[i][j] = v`, `m[i][j] += v`, `t[i][j][k] = v`, `d['a'][0] = v`",
        "supported",
        "0.7, [1.0, 2.0, 3.0]",
        """
        def f(x, ys):
            n = 3
            m = [[0.0] * n for _ in range(n)]
            for i in range(n):
                for j in range(n):
                    m[i][j] = x * ys[j] + m[i - 1][j] * x
                    m[i][j] += ys[i]
            t = [[[0.0, 0.0] for _ in range(2)] for _ in range(2)]
            t[1][0][1] = m[2][2] * x
            d = {"a": [0.0, 0.0], "b": [x, 1.0]}
            d["a"][0] = t[1][0][1] * d["b"][0]
            return sum(sum(row) for row in m) + d["a"][0]
        """,
    ),
    (
        "Containers",
        "a store into a row another name still reads (`r = m[0]; m[0][1] = v; ... r`)",
        "refused",
        "in-place update of m while r",
        """
        def f(x):
            m = [[x, 1.0], [2.0, x]]
            r = m[0]
            m[0][1] = x * x
            return r[1] + m[1][1]
        """,
    ),
    (
        "Containers",
        "a store into an element of a slice (`m[0:2][1] = v`)",
        "refused",
        "assignment into a slice of an element",
        """
        def f(x):
            m = [[x, 1.0], [2.0, x]]
            m[0:1][0] = [x]
            return m[0][0]
        """,
    ),
    (
        "Containers",
        "sets of values without derivatives; bitwise operators on masks",
        "supported",
        "np.array([0.3, -0.7, 1.5, 0.5])",
        """
        import numpy as np

        def f(x):
            kinds = {k % 3 for k in range(7)}
            inside = (x > 0.0) & (x < 1.0)
            return np.sum(np.where(inside, x * x, x)) * len(kinds)
        """,
    ),
    (
        "Containers",
        "a set holding differentiated values",
        "refused",
        "a set holding differentiated values",
        """
        def f(x):
            s = {x, 2.0 * x}
            return list(s)[0]
        """,
    ),
    # ---------------------------------------------------------------- NumPy
    (
        "NumPy",
        "`np.vectorize(f)(x)` and `np.apply_along_axis(f, axis, a)` of a Python function",
        "supported",
        "np.array([[0.3, -0.5, 0.9], [1.1, 0.2, -0.7]])",
        """
        import math

        import numpy as np

        @np.vectorize
        def bump(v):
            return math.exp(-v * v)

        def f(x):
            rows = np.apply_along_axis(lambda r: (r * r).sum(), 1, x)
            return (np.vectorize(lambda v: v * math.sin(v))(x) * bump(x)).sum() + rows.sum()
        """,
    ),
    (
        "NumPy",
        "a helper forwarding `out=` to NumPy (`def act(x, out=None): y = np.tanh(x, out=out)`)",
        "supported",
        "np.array([0.3, -0.5, 0.9])",
        """
        import numpy as np

        def act(x, out=None):
            y = np.tanh(x, out=out)
            return y * 2.0

        def f(x):
            return np.sum(act(x) * x)
        """,
    ),
    (
        "NumPy",
        "broadcasting, element-wise functions",
        "supported",
        "np.array([[0.3, -0.7], [1.1, 0.4]]), np.array([0.5, -1.2])",
        """
        import numpy as np

        def f(a, b):
            return np.sum(np.tanh(a * b + 1.0) * np.exp(-b))
        """,
    ),
    (
        "NumPy",
        "reductions with `axis` / `keepdims`",
        "supported",
        "np.array([[0.3, -0.7, 0.2], [1.1, 0.4, -0.5]])",
        """
        import numpy as np

        def f(a):
            m = a.max(axis=1, keepdims=True)
            return np.sum(np.mean(a - m, axis=0) ** 2) + np.prod(a.std(axis=1))
        """,
    ),
    (
        "NumPy",
        "`dot`, `matmul`, `reshape`, `transpose`",
        "supported",
        "np.array([[0.3, -0.7, 0.2], [1.1, 0.4, -0.5]])",
        """
        import numpy as np

        def f(a):
            b = np.dot(a, a.T)
            c = np.matmul(a.reshape(3, 2), b)
            return np.sum(c.transpose() ** 2)
        """,
    ),
    (
        "NumPy",
        "indexing and slicing, boolean masks, integer arrays",
        "supported",
        "np.array([0.3, -0.7, 0.2, 1.1, 0.4])",
        """
        import numpy as np

        def f(x):
            return x[0] * x[-1] + np.sum(x[1:4] ** 2) + np.sum(x[x > 0]) + np.sum(x[np.array([0, 0, 2])])
        """,
    ),
    (
        "NumPy",
        "in-place updates `a[i] = v`, `a[i] += v`",
        "supported",
        "np.array([0.3, -0.7, 0.2, 1.1]), 0.5",
        """
        import numpy as np

        def f(u0, k):
            u = u0.copy()
            for _ in range(3):
                u[1:-1] = u[1:-1] + k * (u[2:] - 2.0 * u[1:-1] + u[:-2])
                u[0] += k * u[1]
            return np.sum(u ** 2)
        """,
    ),
    (
        "NumPy",
        "`x op= y` on an array parameter (`X -= X.mean(axis=0)`, in loops): the caller's array changed as `f` "
        "changes it",
        "supported",
        "np.array([[1.0, 2.5, 0.3], [0.4, 1.7, 2.2]])",
        """
        import numpy as np

        def f(X):
            X -= X.mean(axis=0)
            for _ in range(2):
                X -= 0.1 * np.sin(X)
            return np.sum(X ** 2)
        """,
    ),
    (
        "NumPy",
        "`x op= y` on an array argument in a called function (the caller's variable would change)",
        "refused",
        "x -= ... is an in-place update of a ndarray that another name or the caller may share",
        """
        import numpy as np

        def step(x, d):
            x -= 0.1 * d
            return x

        def f(x):
            y = np.ones(3) * x
            z = step(y, np.cos(y))
            return np.sum(y * z)
        """,
    ),
    (
        "NumPy",
        "writes through a view: `w = y[1:]; w *= 2`, `for row in Y: row /= row.sum()`",
        "supported",
        "np.array([[1.0, 2.5, 0.3], [0.4, 1.7, 2.2]])",
        """
        import numpy as np

        def f(X):
            Y = X.copy()
            for row in Y:
                row /= row.sum()
            w = Y[0, 1:]
            w *= 2.0
            return np.sum(Y ** 2) + np.sum(w)
        """,
    ),
    (
        "NumPy",
        "a write through a part of a list (`for r in rows: r /= 2`: an array the list holds)",
        "refused",
        "r /= ... is an in-place update of a ndarray that another name or the caller may share",
        """
        import numpy as np

        def f(x):
            rows = [np.ones(2) * x, np.ones(2) * 2.0 * x]
            for r in rows:
                r /= 2.0
            return np.sum(rows[0] * rows[1])
        """,
    ),
    (
        "NumPy",
        "swaps `a[i], a[j] = a[j], a[i]` and `t = a[i]; a[i] = a[j]; a[j] = t`",
        "supported",
        "np.array([0.9, 0.3, 1.1, -0.2])",
        """
        import numpy as np

        def f(x):
            a = x * 1.0
            for i in range(len(a)):
                for j in range(len(a) - 1 - i):
                    if a[j] > a[j + 1]:
                        a[j], a[j + 1] = a[j + 1], a[j]
            t = a[0]
            a[0] = a[3]
            a[3] = t
            return np.sum(a * np.arange(1.0, 5.0))
        """,
    ),
    (
        "NumPy",
        "a swap of rows that are views (`A[0], A[1] = A[1], A[0]`: NumPy gives two equal rows)",
        "refused",
        "A[0], kept while A changes in place, is a row",
        """
        import numpy as np

        def f(x):
            v = np.array([x, 2.0 * x, 1.0])
            A = np.outer(v, v)
            A[0], A[1] = A[1], A[0]
            return np.sum(A * x)
        """,
    ),
    (
        "NumPy",
        "a 2-D array written row by row, `a[i][j] = v`; a list of arrays, `xs[k][i] = v`",
        "supported",
        "np.array([0.3, -0.7, 0.2])",
        """
        import numpy as np

        def f(x):
            a = np.zeros((3, 3))
            xs = [np.zeros(3), x * 2.0]
            for i in range(3):
                for j in range(3):
                    a[i][j] = x[i] * x[j] + a[i - 1][j]
                    xs[j % 2][i] += x[i] * x[j]
            return np.sum(a * a) + np.sum(xs[0] * xs[1])
        """,
    ),
    (
        "NumPy",
        "`np.where`, `np.maximum`, `concatenate`, `stack`",
        "supported",
        "np.array([0.3, -0.7, 0.2]), np.array([1.1, 0.4, -0.5])",
        """
        import numpy as np

        def f(a, b):
            c = np.concatenate([np.where(a > 0, a, b * b), np.maximum(a, b)])
            d = np.stack([a, b])
            return np.sum(c ** 2) + np.sum(d[0] * d[1])
        """,
    ),
    (
        "NumPy",
        "linear algebra (`solve`, `det`, `inv`)",
        "supported",
        "np.array([[2.0, 0.3], [0.1, 1.5]]), np.array([0.5, -1.2])",
        """
        import numpy as np

        def f(A, b):
            x = np.linalg.solve(A, b)
            return np.sum(x ** 2) + np.linalg.det(A) + np.trace(np.linalg.inv(A))
        """,
    ),
    (
        "NumPy",
        "a store into a global array",
        "refused",
        "global",
        """
        import numpy as np

        G = np.zeros(3)

        def f(x):
            G[0] = x
            return x * np.sum(G)
        """,
    ),
    (
        "NumPy",
        "`out=` arguments of NumPy functions (`np.exp(a, out=a)`, `out=a[1:]`), `a.fill(v)`",
        "supported",
        "np.array([0.3, -0.7, 1.1])",
        """
        import numpy as np

        def f(x):
            y = np.zeros(3)
            z = np.multiply(x, x, out=y)
            s = np.sum(z * x)
            np.exp(y, out=y)
            np.add(y[1:], x[:-1], out=y[:-1])
            s = s + np.sum(y**2)
            y.fill(x[0])
            return s + np.sum(y * x)
        """,
    ),
    (
        "NumPy",
        "`out=` with `where=`",
        "refused",
        "out= with where=",
        """
        import numpy as np

        def f(x):
            y = np.zeros(3) + x
            np.sqrt(y, out=y, where=y > 0.5)
            return np.sum(y)
        """,
    ),
    (
        "NumPy",
        "`np.put`, `np.copyto` (writing into an argument)",
        "refused",
        "writes into an array in place",
        """
        import numpy as np

        def f(x):
            a = np.zeros(3)
            np.put(a, [0], [x])
            return np.sum(a)
        """,
    ),
    (
        "NumPy",
        "`np.fill_diagonal`, `np.put_along_axis`, `np.copyto`, `np.add.at` (statements on a local array)",
        "supported",
        "np.array([[0.7, -1.3], [0.2, 1.1]])",
        """
        import numpy as np

        def f(a):
            b = a * 1.0
            np.fill_diagonal(b, a[0, 1] * 3.0)
            np.put_along_axis(b, np.array([[1], [0]]), np.sin(a[:, :1]), axis=1)
            c = np.zeros_like(b)
            np.copyto(c, b ** 2, where=b > 0)
            np.add.at(c, ([0, 0], [1, 1]), a[1, 0] * 2.0)
            return np.sum(c * b)
        """,
    ),
    (
        "NumPy",
        "a ufunc's `reduce` / `accumulate` (`np.add`, `np.multiply`, `np.maximum`, `np.minimum`)",
        "supported",
        "np.array([[0.7, -1.3], [0.2, 1.1]])",
        """
        import numpy as np

        def f(a):
            s = np.add.reduce(a) * np.maximum.reduce(a, axis=1)
            return np.sum(s * np.multiply.accumulate(a, 1)[1])
        """,
    ),
    (
        "NumPy",
        "`np.r_` / `np.c_` of differentiated arrays",
        "supported",
        "np.array([0.7, -1.3])",
        """
        import numpy as np

        def f(x):
            a = np.r_[x, 0:2, x[0] * 2.0]
            return np.sum(np.sin(a)) + np.sum(np.c_[x, x ** 2] ** 3)
        """,
    ),
    (
        "NumPy",
        "a directive string in `np.r_`",
        "refused",
        "a directive string in np.r_",
        """
        import numpy as np

        def f(x):
            return np.sum(np.r_["0,2", [x], [x]])
        """,
    ),
    # ---------------------------------------------------------------- the rest of Python
    (
        "Other Python",
        "`try` / `except` / `finally`",
        "supported",
        "-0.7",
        """
        import math

        def f(x):
            try:
                y = math.log(x)
            except ValueError:
                y = x * x
            finally:
                z = 1.0
            return y + z
        """,
    ),
    (
        "Other Python",
        "`with`",
        "supported",
        "0.7",
        """
        import numpy as np

        def f(x):
            with np.errstate(divide="ignore"):
                y = x * x
            return y
        """,
    ),
    (
        "Other Python",
        "`raise` (guard clause), `assert`",
        "supported",
        "0.7",
        """
        def f(x):
            if x < -10.0:
                raise ValueError("too small")
            assert x > 0.0
            return x * x
        """,
    ),
    (
        "Other Python",
        "`match` on literals and captures",
        "supported",
        "0.7, 2",
        """
        def f(x, mode):
            match mode:
                case 1:
                    return x
                case 2 | 3:
                    return x * x
                case _:
                    return -x
        """,
    ),
    (
        "Other Python",
        "walrus `:=`, chained comparisons",
        "supported",
        "0.7",
        """
        def f(x):
            if 0.0 < (y := x * x) < 1.0:
                return y * x
            return y
        """,
    ),
    (
        "Other Python",
        "strings, f-strings, `print`",
        "supported",
        "0.7",
        """
        def f(x):
            label = f"x={x:.2f}"
            return x * len(label)
        """,
    ),
    (
        "Other Python",
        "values logged to a global list (`history.append(v)`) that the function does not read",
        "supported",
        "0.7",
        """
        import math

        history = []

        def f(x):
            y = math.sin(x) * x
            history.append(float(y))
            return y * y
        """,
    ),
    (
        "Other Python",
        "values logged to a global list beside array methods (`h = w.sum(); history.append(h)`)",
        "supported",
        "np.array([0.3, -0.5, 0.9])",
        """
        history = []

        def f(w):
            h = w.sum()
            history.append(h)
            return h * h + w.dot(w)
        """,
    ),
    (
        "Other Python",
        "a function cached by `functools.lru_cache` / `functools.cache` (a cached value has no derivative)",
        "refused",
        "cached by functools.lru_cache",
        """
        import functools

        @functools.lru_cache(maxsize=None)
        def square(x):
            return x * x

        def f(x):
            return square(x) + 1.0
        """,
    ),
    (
        "Other Python",
        "a global memo dict filled by a called function (`if n in _memo: return _memo[n]`)",
        "refused",
        "which writes the global _memo",
        """
        _memo = {}

        def fib(n, x):
            if n in _memo:
                return _memo[n]
            r = x if n < 2 else fib(n - 1, x) * 0.5 + fib(n - 2, x)
            _memo[n] = r
            return r

        def f(x):
            return fib(5, x)
        """,
    ),
    (
        "Other Python",
        "bare `except:`",
        "refused",
        "except",
        """
        def f(x):
            try:
                y = x * x
            except:
                y = x
            return y
        """,
    ),
    (
        "Other Python",
        "a class defined inside the function whose method reads the function's variable",
        "refused",
        "reading its variable 'k'",
        """
        def f(x):
            k = 2.0 * x

            class C:
                def scaled(self, v):
                    return k * v

            return C().scaled(x)
        """,
    ),
    (
        "Other Python",
        "a class defined inside the function (`@property`, `@staticmethod`, `@classmethod`), reading none of its "
        "variables: made once, as a module-level class",
        "supported",
        "0.7",
        """
        import math

        def f(x):
            class P:
                scale = 3.0

                def __init__(self, v):
                    self.v = v

                @property
                def sq(self):
                    return self.v * self.v

                @staticmethod
                def two(a):
                    return 2.0 * a

                @classmethod
                def times(cls, a):
                    return cls.scale * a

            p = P(math.sin(x))
            return p.sq * p.two(x) + P.times(p.v)
        """,
    ),
    # ---------------------------------------------------------------- transforms
    (
        "Transforms",
        "`ac.grad` called inside a differentiated function",
        "supported",
        "0.7",
        """
        import math
        import adjoint_compiler as ac

        def g(t):
            return math.sin(t) * t

        def f(x):
            return ac.grad(g)(x) * x
        """,
    ),
    (
        "Transforms",
        "`ac.grad` of a lambda reading the function's variables, called inside it",
        "supported",
        "0.7",
        """
        import math
        import adjoint_compiler as ac

        def f(x):
            return ac.grad(lambda t: math.sin(t * x))(x) * x
        """,
    ),
    (
        "Transforms",
        "`ac.vjp` called inside a differentiated function (the pullback only called)",
        "supported",
        "0.7",
        """
        import math
        import adjoint_compiler as ac

        def g(t):
            return math.sin(t) * t

        def f(x):
            value, pullback = ac.vjp(g)(x)
            return value * pullback(1.0)
        """,
    ),
    (
        "Transforms",
        "third order (the gradient of a function calling `ac.grad` of a gradient)",
        "supported",
        "0.7",
        """
        import math
        import adjoint_compiler as ac

        def g(t):
            return math.sin(t) * t

        def dg(t):
            return ac.grad(g)(t)

        def f(x):
            return ac.grad(dg)(x)
        """,
    ),
    (
        "Transforms",
        "a pullback stored or passed on",
        "refused",
        "pullback",
        """
        import math
        import adjoint_compiler as ac

        def g(t):
            return math.sin(t) * t

        def f(x):
            value, pullback = ac.vjp(g)(x)
            kept = [pullback]
            return kept[0](1.0)
        """,
    ),
    (
        "Transforms",
        "custom adjoint (`ac.register_adjoint`)",
        "supported",
        "0.7",
        """
        import numpy as np
        import adjoint_compiler as ac

        logistic = np.vectorize(lambda v: 1.0 / (1.0 + np.exp(-v)), otypes=[float])

        @ac.register_adjoint(logistic)
        def logistic_adjoint(g, ans, v):
            return g * ans * (1.0 - ans)

        def f(x):
            return float(logistic(x)) * x
        """,
    ),
]

# supported constructs whose forward mode (``ac.jvp``) is refused: use grad/vjp there
NO_JVP = {
    "custom adjoint (`ac.register_adjoint`)": "a registered adjoint has no tangent rule",
}

SUPPORTED, REFUSED = "supported", "refused"


def _ident(entry):
    return re.sub(r"\W+", "_", "%s_%s" % (entry[0], entry[1])).strip("_").lower()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("constructs")


def _load(folder, entry):
    name = "construct_" + _ident(entry)
    path = Path(folder) / (name + ".py")
    text = textwrap.dedent(entry[4]).lstrip()
    try:
        compile(text, name, "exec")
    except SyntaxError:  # match needs Python 3.10
        pytest.skip("%s is not syntax on this Python" % entry[1])
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, path.name


def _differentiable(args):
    return tuple(
        i
        for i, a in enumerate(args)
        if isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype.kind == "f" or _floats_inside(a)
    )


def _floats_inside(a):
    if hasattr(a, "__dataclass_fields__"):
        return any(isinstance(getattr(a, k), float) for k in a.__dataclass_fields__)
    if isinstance(a, (list, tuple)):
        return any(isinstance(v, float) for v in a)
    if isinstance(a, dict):
        return any(isinstance(v, float) for v in a.values())
    return False


def _flat(v):
    if isinstance(v, dict):
        return np.array([float(v[k]) for k in sorted(v)])
    if hasattr(v, "_fields"):
        return np.array([float(getattr(v, k)) for k in v._fields])
    if hasattr(v, "__dataclass_fields__"):
        return np.array([float(getattr(v, k)) for k in v.__dataclass_fields__])
    return np.asarray(v, dtype=float).ravel()


def _rebuild(template, flat):
    if isinstance(template, dict):
        return {k: float(v) for k, v in zip(sorted(template), flat)}
    if hasattr(template, "_fields") or hasattr(template, "__dataclass_fields__"):
        return type(template)(*(float(v) for v in flat))
    if isinstance(template, (list, tuple)):
        return type(template)(float(v) for v in flat)
    if isinstance(template, np.ndarray):
        return flat.reshape(template.shape)
    return float(flat[0])


def _numerical(f, args, i, eps=1e-6):
    """Central-difference gradient of f in argument i, component by component, as a flat array."""
    base = _flat(args[i])
    out = np.zeros(base.size)
    for k in range(base.size):
        shifted = []
        for t in (eps, -eps):
            moved = base.copy()
            moved[k] += t
            call = list(args)
            call[i] = _rebuild(args[i], moved)
            shifted.append(float(f(*call)))
        out[k] = (shifted[0] - shifted[1]) / (2 * eps)
    return out


def _at(mod, detail):
    args = eval("(%s,)" % detail, {"np": np, **vars(mod)})
    return list(args)


def _fresh(mod, fn):
    """``fn`` run from the module state of this moment each time: a function that changes globals
    (a call counter) is compared with differences of the function it was when the gradient ran."""
    state = dict(vars(mod))

    def run(*args):
        vars(mod).update(state)
        try:
            return fn(*args)
        finally:
            vars(mod).update(state)

    return run


@pytest.mark.parametrize("entry", [e for e in CONSTRUCTS if e[2] == SUPPORTED], ids=_ident)
def test_supported_construct_matches_central_differences(folder, entry):
    mod, _ = _load(folder, entry)
    args = _at(mod, entry[3])
    wrt = _differentiable(args)
    assert wrt, "the entry has nothing to differentiate"
    original = _fresh(mod, mod.f)
    grads = _fresh(mod, ac.grad(mod.f, wrt=wrt))(*[_copy(a) for a in args])
    references = {}
    for i, g in zip(wrt, grads):
        assert type(g) is type(args[i]) or isinstance(args[i], float), (type(g), type(args[i]))
        reference = references[i] = _numerical(original, [_copy(a) for a in args], i)
        assert testing.relative_error(_flat(g), reference) < 1e-5, (entry[1], i, g, reference)
    if entry[1] in NO_JVP:
        return
    rng = np.random.default_rng(0)
    tangents = tuple(_rebuild(args[i], rng.standard_normal(_flat(args[i]).size)) for i in wrt)
    _, tangent_out = _fresh(mod, ac.jvp(mod.f, wrt=wrt))(*[_copy(a) for a in args], tangents)
    expected = sum(float(references[i] @ _flat(t)) for i, t in zip(wrt, tangents))
    assert testing.relative_error(tangent_out, expected) < 1e-5, (entry[1], tangent_out, expected)


def _copy(a):
    return a.copy() if isinstance(a, (np.ndarray, list, dict)) else a


@pytest.mark.parametrize("entry", [e for e in CONSTRUCTS if e[2] == REFUSED], ids=_ident)
def test_refused_construct_raises_located_unsupported_error(folder, entry):
    mod, filename = _load(folder, entry)
    with pytest.raises(ac.UnsupportedError) as info:
        ac.grad(mod.f)(0.7)
    message = str(info.value)
    assert re.search(re.escape(filename) + r":\d+:\d+: error: ", message), message
    assert entry[3] in message, message


def test_table_is_well_formed():
    assert len({_ident(e) for e in CONSTRUCTS}) == len(CONSTRUCTS)
    for entry in CONSTRUCTS:
        assert len(entry) == 5 and entry[2] in (SUPPORTED, REFUSED), entry
    assert set(NO_JVP) <= {e[1] for e in CONSTRUCTS if e[2] == SUPPORTED}
    ast.literal_eval(repr(CONSTRUCTS))  # plain literals: docs/gen_constructs.py reads them without importing
