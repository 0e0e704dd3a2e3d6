"""How often the numba backend runs fuzz programs natively, why it falls back, and whether it agrees.

    python -m tests.fuzz.numba_probe [--generator control,scalar,numpy] [--examples N] [--seed S] [--show K]

For each seed, the generator's program is compiled with ``grad(f, wrt)`` on the Python backend and on
``backend="numba"``; the numba call's ``NumbaFallbackWarning`` (if any) is its fallback reason. Prints the
native / fallback / skipped counts per generator, the fallback reasons grouped (names and numbers blanked),
and every disagreement: a numba gradient (native or fallen back) that differs from the Python backend's is
a bug, reported with its seed and program. Programs the Python backend cannot differentiate (a refusal, a
numeric error at the drawn point) are skipped. numba compiles each program afresh: about a second each.
"""

import argparse
import collections
import os
import re
import signal
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import adjoint_compiler as ac  # noqa: E402
from adjoint_compiler.backend_numba import NumbaFallbackWarning  # noqa: E402
from tests.fuzz import gen_control, gen_numpy, gen_scalar, oracle  # noqa: E402
from tests.fuzz.model import RandomChooser  # noqa: E402

GENERATORS = {g.NAME: g for g in (gen_control, gen_scalar, gen_numpy)}


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def reason(message):
    """A fallback warning's reason with the program's own names, files, numbers and types blanked, for grouping."""
    text = re.sub(r"^numba backend: ", "", message)
    text = re.sub(r"cannot compile the [\w -]+ of \S+ \([^)]*\) for arguments \([^)]*\): ", "", text)
    text = re.sub(r"; running the Python backend instead$", "", text)
    text = re.sub(r"\(in the emitted line `[^`]*`[^)]*\)", "(in an emitted line)", text)
    text = re.sub(r"\b\w+\.py:\d+(:\d+)?", "FILE", text)
    text = re.sub(r"\$\w+(\.\d+)?", "$v", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:200]


def _same(a, b):
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    return len(a) == len(b) and all(
        type(x) is type(y) and np.shape(x) == np.shape(y) and np.allclose(x, y, rtol=1e-10, atol=1e-12, equal_nan=True)
        for x, y in zip(a, b)
    )


def probe(generator, seed, timeout):
    """(verdict, detail): verdict in native, fallback, skipped, differs, numba-error."""
    gen = GENERATORS[generator]
    case = gen.generate(RandomChooser(seed))
    source = case.program.source()
    wrt = tuple(case.program.wrt)
    module = oracle.load_module(source)
    reset = getattr(module, "_reset", lambda: None)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        try:
            reset()
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = ac.grad(module.f, wrt)(*oracle.copies(case.args))
        except Exception as e:  # noqa: BLE001 - the Python backend's verdict is the oracle's business
            return "skipped", "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:80] if str(e) else "")
        reset()
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NumbaFallbackWarning)
            try:
                got = ac.grad(module.f, wrt, backend="numba")(*oracle.copies(case.args))
            except Exception as e:  # noqa: BLE001
                return "numba-error", "%s: %s" % (type(e).__name__, str(e)[:300])
        fallbacks = [str(w.message) for w in caught if issubclass(w.category, NumbaFallbackWarning)]
        if not _same(got, expected):
            return "differs", "numba %r, Python %r%s" % (got, expected, " (fell back)" if fallbacks else "")
        if fallbacks:
            return "fallback", fallbacks[0]
        return "native", ""
    except _Timeout:
        return "skipped", "timeout"
    finally:
        signal.alarm(0)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.fuzz.numba_probe", description=__doc__.splitlines()[0])
    p.add_argument("--generator", default="control,scalar,numpy")
    p.add_argument("--examples", type=int, default=50, help="programs per generator")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--show", type=int, default=1, help="full messages printed per fallback reason")
    opts = p.parse_args(argv)
    bad = []
    for generator in opts.generator.split(","):
        counts, reasons, examples = collections.Counter(), collections.Counter(), collections.defaultdict(list)
        start = time.monotonic()
        for seed in range(opts.seed, opts.seed + opts.examples):
            verdict, detail = probe(generator, seed, opts.timeout)
            counts[verdict] += 1
            if verdict == "fallback":
                key = reason(detail)
                reasons[key] += 1
                examples[key].append((seed, detail))
            elif verdict in ("differs", "numba-error"):
                bad.append((generator, seed, verdict, detail))
                print("%s seed %d: %s: %s" % (generator, seed, verdict, detail), flush=True)
        ran = counts["native"] + counts["fallback"]
        print(
            "\n%s: %d programs in %.0f s: native %d, fallback %d (%.0f%% of those run), skipped %d, differs %d, "
            "numba-error %d"
            % (
                generator,
                opts.examples,
                time.monotonic() - start,
                counts["native"],
                counts["fallback"],
                100.0 * counts["fallback"] / max(ran, 1),
                counts["skipped"],
                counts["differs"],
                counts["numba-error"],
            )
        )
        for key, n in reasons.most_common():
            print("  %3d  %s" % (n, key))
            for seed, detail in examples[key][: opts.show]:
                print("         seed %d: %s" % (seed, detail[:400]))
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
