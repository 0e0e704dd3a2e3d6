#!/usr/bin/env python
"""Emitted text of many compilations, to check that a change to the compiler leaves its output byte-identical.

    python benchmarks/emitted_texts.py --root ../base --out base.json    # the checkout before the change
    python benchmarks/emitted_texts.py --out mine.json --against base.json

Every function defined in examples/, benchmarks/cases_*.py and the test modules, in grad and jvp mode, with
respect to its first parameter and to all of them: the emitted module's text (``pipeline.compile(...).source``),
or the error's type and message where it does not compile. The checkout's own path is written as ROOT, so two
checkouts compare equal. ``--against``: print how many texts of the functions in both differ from that file's,
and the first few keys.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def modules(root):
    names = [os.path.basename(p)[:-3] for p in sorted(glob.glob(os.path.join(root, "examples", "*.py")))]
    names += [os.path.basename(p)[:-3] for p in sorted(glob.glob(os.path.join(root, "benchmarks", "cases_*.py")))]
    tests = os.path.join(root, "tests")
    found = sorted(glob.glob(os.path.join(tests, "test_*.py")) + glob.glob(os.path.join(tests, "*", "test_*.py")))
    return names + ["tests." + os.path.relpath(p, tests)[:-3].replace(os.sep, ".") for p in found]


def texts(root):
    from adjoint_compiler import pipeline

    out = {}
    for name in modules(root):
        try:
            module = importlib.import_module(name)
        except BaseException:  # noqa: BLE001  (a module that needs what is not installed: left out)
            continue
        for fname, fn in sorted(vars(module).items()):
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__ or fname.startswith("test"):
                continue
            try:
                params = [p for p in inspect.signature(fn).parameters.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
            except (TypeError, ValueError):
                continue
            if not params:
                continue
            for mode in ("grad", "jvp"):
                for wrt in [(0,)] + ([tuple(range(len(params)))] if len(params) > 1 else []):
                    key = "%s.%s %s %s" % (name, fname, mode, wrt)
                    try:
                        out[key] = pipeline.compile(fn, wrt, mode).source.replace(root, "ROOT")
                    except BaseException as e:  # noqa: BLE001  (the refusal is output too)
                        out[key] = "ERR %s: %s" % (type(e).__name__, str(e).replace(root, "ROOT")[:300])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(HERE), help="the checkout to compile with")
    parser.add_argument("--out", required=True, help="write the texts (JSON) here")
    parser.add_argument("--against", help="a file an earlier run wrote: compare with it")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    sys.path[:0] = [root, os.path.join(root, "examples"), os.path.join(root, "benchmarks")]
    warnings.simplefilter("ignore")
    out = texts(root)
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=0, sort_keys=True)
    compiled = sum(not v.startswith("ERR ") for v in out.values())
    print("%d compilations, %d compiled" % (len(out), compiled))
    if args.against:
        with open(args.against) as fh:
            before = json.load(fh)
        both = set(out) & set(before)
        differ = sorted(k for k in both if out[k] != before[k])
        print(
            "%d in both, %d differ from %s%s"
            % (len(both), len(differ), args.against, (": " + ", ".join(differ[:5])) if differ else "")
        )
        if len(both) < len(out) or len(both) < len(before):  # (functions added or removed between the checkouts)
            print("only here: %d; only there: %d" % (len(out) - len(both), len(before) - len(both)))
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
