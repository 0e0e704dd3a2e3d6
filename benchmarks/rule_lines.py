#!/usr/bin/env python
"""Lines each NumPy/SciPy rule writes into a user's gradient where ranks and axes are unknown at compile time
(task rules21, issue #13): for every registered function that is not a ufunc, the adjoint sweep of

    def f(<its required arguments>):
        return np.sum(np.sin(fn(<them>)))          # and, where it takes axis=, fn(..., axis=0)

compiled in grad mode with respect to every argument, counted without comments, ``del`` lines, the scalar check,
the return and sin's own line. A rule that inlines its whole general body shows as a long row; one that calls a
runtime helper (``x_bar = quantile_spread(g, x, 0.5, 0)``) as one or two lines.

    python benchmarks/rule_lines.py               # the 40 longest
    python benchmarks/rule_lines.py --top 200
    python benchmarks/rule_lines.py --show median # also print the emitted code of functions matching a regex
"""

import argparse
import importlib.util
import inspect
import os
import re
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

try:  # (registered only where installed)
    import scipy.linalg  # noqa: F401
    import scipy.signal  # noqa: F401
    import scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
except ImportError:
    pass

from adjoint_compiler import pipeline  # noqa: E402
from adjoint_compiler.rules import registry  # noqa: E402

SEQUENCES = {"arrays", "tup", "xs", "iterable", "operands", "arys", "condlist", "choicelist"}


def name_of(fn):
    return "%s.%s" % (getattr(fn, "__module__", None) or "", getattr(fn, "__qualname__", getattr(fn, "__name__", fn)))


def count(source):
    n = 0
    for line in source.split("# adjoint sweep", 1)[1].splitlines():
        s = line.strip()
        skipped = ("#", "del ", "check_scalar", "return", "_t1_bar = unreduce(1.0")
        n += bool(s) and not s.startswith(skipped)
    return n


def rows(show=None):
    out = []
    folder = tempfile.mkdtemp(prefix="rule_lines_")
    for k, rule in enumerate(list(registry._RULES.values())):
        fn = rule.fn
        module = getattr(fn, "__module__", None) or ""
        if isinstance(fn, np.ufunc) or not module.startswith(("numpy", "scipy")):
            continue
        params = inspect.signature(rule.rule).parameters
        names = list(params)[2:]
        required = [p for p in names if params[p].default is inspect.Parameter.empty]
        if not required:
            continue
        for form in ("plain", "axis") if "axis" in names else ("plain",):
            args, fparams = [], []
            for p in required:
                if p in SEQUENCES:
                    args.append("[%s_a, %s_b]" % (p, p))
                    fparams += [p + "_a", p + "_b"]
                else:
                    args.append(p)
                    fparams.append(p)
            args += ["axis=0"] if form == "axis" else []
            path = os.path.join(folder, "m%d_%s.py" % (k, form))
            with open(path, "w") as handle:
                handle.write("import numpy as np\n\n\ndef f(%s):\n" % ", ".join(fparams))
                handle.write("    return np.sum(np.sin(FN(%s)))\n" % ", ".join(args))
            spec = importlib.util.spec_from_file_location("m%d_%s" % (k, form), path)
            made = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(made)
            made.FN = fn
            try:
                source = pipeline.compile(made.f, tuple(range(len(fparams))), "grad").source
            except Exception as e:  # noqa: BLE001  (a refusal is a row too)
                out.append((-1, name_of(fn), form, type(e).__name__))
                continue
            out.append((count(source), name_of(fn), form, ""))
            if show and re.search(show, name_of(fn)):
                print(source)
    return sorted(out, key=lambda r: -r[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--show", help="print the emitted code of functions whose name matches this regex")
    options = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = rows(options.show)
    for n, name, form, note in found[: options.top]:
        print("%4d  %-45s %-6s %s" % (n, name, form, note))


if __name__ == "__main__":
    main()
