"""Second order through every registered rule: ``ac.hvp`` (forward mode over the emitted gradient, the rule's
adjoint body differentiated again) against central differences of ``ac.grad``.

For each function of ``gen_rules.VOCABULARY`` and each of its first ``--cases`` table cases, one program::

    def f(x0, x1):
        v = <the case's call of x0, x1 brought into its domains>
        return np.sum(np.sin(v) * W)          # (W: fixed weights; sin makes even a linear rule's Hessian nonzero)

is checked with ``ac.check_grads(f, args, wrt=all, modes="rev", order=2)``. Outcome per case: ``ok``,
``refused`` (a located ``UnsupportedError``: the gradient code has a construct forward mode cannot follow),
``wrong`` (a number that disagrees: the worst outcome), ``crash`` (anything else), ``skipped`` (the point is
unusable: f or its gradient not finite, or the first-order check itself fails). A function counts by its worst
case. ``python -m tests.fuzz.scan_second_order [--cases N] [--only NAME,...] [-v]`` prints the counts and each
failure; the exit status is 1 if any case is wrong or crashed.
"""

import argparse
import sys
import traceback
import warnings

import numpy as np

import adjoint_compiler as ac
from tests.fuzz import gen_rules, oracle
from tests.fuzz.model import Function, Program, call, var

ORDER = ("wrong", "crash", "refused", "skipped", "ok")  # worst first


def _program(entry):
    params = ["x%d" % k for k in range(len(entry.inputs))]
    c = gen_rules._Replay()
    ops = [gen_rules.into_domain(c, var(p), shape, domain) for p, (shape, domain) in zip(params, entry.inputs)]
    expression = entry.render(c, ops)
    shape = gen_rules._shape_of(gen_rules.Entry(entry.fn, entry.inputs, entry.render, entry.label), c)
    if shape is None:
        return None
    ret = call("np.sum", ("bin", "*", call("np.sin", var("v")), gen_rules._weights(shape)))
    program = Program(Function("f", params, [("assign", "v", expression)], ret))
    return gen_rules._with_scipy_imports(program)


def _point(entry, seed):
    rng = np.random.default_rng(seed)
    return tuple(
        float(rng.uniform(-1.2, 1.2)) if shape == () else rng.uniform(-1.2, 1.2, size=shape)
        for shape, _ in entry.inputs
    )


def check_entry(entry, seed=0):
    """(outcome, detail) of one table case."""
    program = _program(entry)
    if program is None:
        return "skipped", "NumPy refuses the case"
    source = program.source()
    try:
        f = oracle.load_function(source)
    except Exception as e:  # noqa: BLE001
        return "skipped", "does not load: %r" % e
    args = _point(entry, seed)
    wrt = tuple(range(len(args)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(all="raise"):
                value = f(*args)
                first = ac.grad(f, wrt=wrt)(*args)
            if not np.isfinite(value) or not all(np.all(np.isfinite(g)) for g in first):
                return "skipped", "not finite at the point"
        except ac.CompileError as e:
            return "skipped", "first order refused: %s" % e
        except Exception as e:  # noqa: BLE001
            return "skipped", "first order fails: %r" % e
        try:
            ac.check_grads(f, args, wrt=wrt, modes="rev", rtol=1e-5)
        except AssertionError as e:
            return "skipped", "first order check fails: %s" % e
        try:
            ac.check_grads(f, args, wrt=wrt, modes="rev", order=2, rtol=1e-5)
        except ac.UnsupportedError as e:
            return "refused", str(e)
        except AssertionError as e:
            if "second order" in str(e):
                return "wrong", "%s\n%s" % (e, source)
            return "skipped", str(e)
        except ac.CompileError as e:
            return "crash", "CompileError not UnsupportedError: %s" % e
        except Exception:  # noqa: BLE001
            return "crash", traceback.format_exc(limit=-4) + "\n" + source
    return "ok", ""


def scan(cases=2, only=None, say=print, verbose=False):
    """{function label: (worst outcome, [(entry label, outcome, detail)])}."""
    results = {}
    for fn, entries in gen_rules.VOCABULARY.items():
        name = gen_rules.spelling(fn) if hasattr(fn, "__name__") else repr(fn)
        if only and not any(o in name for o in only):
            continue
        rows = []
        for entry in entries[:cases]:
            outcome, detail = check_entry(entry)
            rows.append((entry.label, outcome, detail))
            if verbose or outcome in ("wrong", "crash", "refused"):
                say("%-8s %-28s %s  %s" % (outcome, name, entry.label, detail.splitlines()[0] if detail else ""))
        worst = min((r[1] for r in rows), key=ORDER.index) if rows else "skipped"
        results[name] = (worst, rows)
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=2, help="table cases per function (default 2)")
    p.add_argument("--only", default="", help="comma-separated parts of function names")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    only = [o for o in args.only.split(",") if o]
    results = scan(args.cases, only, verbose=args.verbose)
    counts = {k: sum(1 for w, _ in results.values() if w == k) for k in ORDER}
    cases = {k: sum(1 for _, rows in results.values() for r in rows if r[1] == k) for k in ORDER}
    print("functions scanned: %d  (%s)" % (len(results), ", ".join("%s %d" % kv for kv in counts.items())))
    print("cases: %d  (%s)" % (sum(cases.values()), ", ".join("%s %d" % kv for kv in cases.items())))
    for name, (worst, rows) in sorted(results.items()):
        if worst in ("wrong", "crash"):
            for label, outcome, detail in rows:
                if outcome == worst:
                    print("\n== %s %s (%s)\n%s" % (worst, name, label, detail))
                    break
    return 1 if counts["wrong"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
