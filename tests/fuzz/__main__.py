"""Offline fuzzing: many programs per generator, without hypothesis; counts and minimized failures.

    python -m tests.fuzz --examples 100000 --generator all
    python -m tests.fuzz --examples 2000 --generator control --seed 7 --jobs 2
    python -m tests.fuzz --generator inplace --replay 12345      # one program, full report

See tests/fuzz/README.md.
"""

import argparse
import multiprocessing
import os
import random
import signal
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from tests.fuzz import (  # noqa: E402
    gen_control,
    gen_inplace,
    gen_numpy,
    gen_objects,
    gen_python,
    gen_rules,
    gen_scalar,
    gen_state,
)
from tests.fuzz import minimize, oracle  # noqa: E402
from tests.fuzz.model import RandomChooser  # noqa: E402

GENERATORS = {
    g.NAME: g
    for g in (
        gen_scalar,
        gen_numpy,
        gen_control,
        gen_control.Arrays,
        gen_inplace,
        gen_inplace.Containers,
        gen_state,
        gen_rules,
        gen_objects,
        gen_python,
        gen_python.Arrays,
    )
}

COLUMNS = ("programs", "passed", "rejected", "refused", "wrong", "internal", "crash", "timeout")


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that the oracle does not classify it."""


def _alarm(signum, frame):
    raise _Timeout()


def _ignore_interrupts():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_one(generator, seed, timeout):
    """(kind, what, message, refusal allowed) of one seed."""
    gen = GENERATORS[generator]
    if timeout:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout)
    try:
        case = gen.generate(RandomChooser(seed))
        outcome = oracle.check(case.program, case.args, gen.SPEC)
        return outcome.kind, outcome.what, outcome.message, outcome.failed
    except _Timeout:
        return "timeout", "", "no verdict within %d s" % timeout, True
    finally:
        if timeout:
            signal.alarm(0)


def _work(item):
    generator, seed, timeout = item
    return (generator, seed) + run_one(generator, seed, timeout)


def report_failure(generator, seed, budget, seconds):
    """Print the program of ``seed``, then a minimized program that fails the same way."""
    gen = GENERATORS[generator]
    case = gen.generate(RandomChooser(seed))
    outcome = oracle.check(case.program, case.args, gen.SPEC)
    print("=" * 78)
    print("%s seed %d: %s" % (generator, seed, outcome.report()))
    if outcome.failed and budget:
        t0 = time.monotonic()
        small, small_outcome = minimize.minimize(
            case.program,
            case.args,
            gen.SPEC,
            outcome.signature,
            getattr(gen, "finish", None),
            budget=budget,
            seconds=seconds,
        )
        print("-" * 78)
        print("MINIMIZED (%.0f s; same point, same kind of failure):" % (time.monotonic() - t0))
        print(small_outcome.report())
    sys.stdout.flush()
    return outcome


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--examples", type=int, default=1000, help="programs per generator (default 1000)")
    p.add_argument("--generator", default="all", help="all, or a comma-separated list of: " + ", ".join(GENERATORS))
    p.add_argument("--seed", type=int, default=None, help="first seed (default: random, printed)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--timeout", type=int, default=120, help="seconds per program, 0 for none (default 120)")
    p.add_argument(
        "--minimize",
        type=int,
        default=200,
        metavar="BUDGET",
        help="oracle runs to minimize the first failure of each kind; 0 to skip (default 200)",
    )
    p.add_argument("--minimize-seconds", type=float, default=300.0, help="time limit per minimization")
    p.add_argument("--replay", type=int, default=None, metavar="SEED", help="check one seed and report it in full")
    p.add_argument(
        "--known-bugs",
        action="store_true",
        help="let the generators draw the ingredients of known bugs (see their switches)",
    )
    args = p.parse_args(argv)
    if args.known_bugs:
        for gen in GENERATORS.values():
            getattr(gen, "known_bugs", lambda on: None)(True)

    names = list(GENERATORS) if args.generator == "all" else args.generator.split(",")
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        p.error("unknown generator %s (known: %s)" % (", ".join(unknown), ", ".join(GENERATORS)))

    if args.replay is not None:
        failed = False
        for name in names:
            failed |= report_failure(name, args.replay, args.minimize, args.minimize_seconds).failed
        return 1 if failed else 0

    first = random.randrange(2**32) if args.seed is None else args.seed
    print("seeds %d..%d, generators %s, %d job(s)" % (first, first + args.examples - 1, ", ".join(names), args.jobs))
    counts = {n: dict.fromkeys(COLUMNS, 0) for n in names}
    reasons = {}
    allowed = {}
    firsts = {}  # (generator, kind, what) -> (seed, count)
    # Seed-major order: a run stopped early has covered every generator about equally.
    items = [(n, seed, args.timeout) for seed in range(first, first + args.examples) for n in names]
    start = time.monotonic()
    last = start
    # workers ignore SIGINT (a Ctrl-C reaches the whole process group): the parent stops them and prints the table
    pool = multiprocessing.get_context("fork").Pool(args.jobs, _ignore_interrupts) if args.jobs > 1 else None
    results = pool.imap_unordered(_work, items, chunksize=4) if pool else map(_work, items)
    try:
        for done, (name, seed, kind, what, message, failed) in enumerate(results, 1):
            c = counts[name]
            c["programs"] += 1
            c[kind] += 1
            if kind == "refused" and not failed:
                allowed[name] = allowed.get(name, 0) + 1
            if kind == "rejected":
                reasons[(name, what)] = reasons.get((name, what), 0) + 1
            if failed:
                key = (name, kind, what)
                if key not in firsts:
                    firsts[key] = [seed, 0]
                    print("NEW  %s seed %d: %s (%s): %s" % (name, seed, kind, what, message[:300]))
                firsts[key][1] += 1
            if time.monotonic() - last > 60:
                last = time.monotonic()
                print("... %d/%d programs, %.0f s" % (done, len(items), last - start))
            sys.stdout.flush()
    except KeyboardInterrupt:
        print("interrupted")
    finally:
        if pool:
            pool.terminate()

    print()
    print("%-20s" % "generator" + "".join("%10s" % col for col in COLUMNS))
    total = dict.fromkeys(COLUMNS, 0)
    for name in names:
        print("%-20s" % name + "".join("%10d" % counts[name][col] for col in COLUMNS))
        for col in COLUMNS:
            total[col] += counts[name][col]
    if len(names) > 1:
        print("%-20s" % "all" + "".join("%10d" % total[col] for col in COLUMNS))
    print("(%.0f s)" % (time.monotonic() - start))
    for name, n in sorted(allowed.items()):
        print("%s: %d of the refusals are documented limitations the generator allows" % (name, n))
    if reasons:
        print("\nrejected points, by reason:")
        for (name, what), n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print("  %-20s %7d  %s" % (name, n, what))
    if firsts:
        print("\nfailures, by kind (first seed, count):")
        for (name, kind, what), (seed, n) in sorted(firsts.items()):
            print("  %-20s %-9s %-28s seed %d  x%d" % (name, kind, what, seed, n))
        if args.minimize:
            for (name, kind, what), (seed, n) in sorted(firsts.items()):
                if kind != "timeout":
                    report_failure(name, seed, args.minimize, args.minimize_seconds)
    return 1 if firsts else 0


if __name__ == "__main__":
    sys.exit(main())
