"""Generate the straight-line scalar benchmark ``chain50`` in cases_straight.py.

The function is generated once and committed as ordinary source, so the
benchmark (and ``adjoint-compiler show``) reads real code; rerun this script
only to change the recipe:

    python benchmarks/gen_straight.py            # print the generated function
    python benchmarks/gen_straight.py --write    # replace it in cases_straight.py

The output is deterministic: a fixed seed, and a fixed rule for rejecting a
draw (the first seed from SEED upwards whose function stays finite and
moderate at the benchmark point and at a few other points).

Recipe: NSTMT assignments ``vK = <expr>``, each mixing + - * / with
math.sin/cos/exp/log/sqrt/tanh. The first operand is usually the previous
value (a long dependency chain); the second is any earlier value, preferring
ones not used yet, so values fan out into several later statements. Every
value reaches the output (unused ones are added into the return), so none
of the work is dead. Divisions are by ``1 + b*b`` or ``2 + cos(b)``; logs
and square roots take ``1 + a*a``; exp takes a bounded argument: every
statement is defined everywhere and no value can overflow.
"""

import argparse
import math
import os
import random
import re
import sys

NAME = "chain50"
PARAMS = ("x", "y", "z")
POINT = (0.7, -1.3, 2.1)  # the benchmark's arguments (run.py uses the same)
NSTMT = 50
SEED = 1

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "cases_straight.py")
BEGIN = "# BEGIN GENERATED chain50 (benchmarks/gen_straight.py; do not edit by hand)"
END = "# END GENERATED chain50"

# {a}, {b}: operands; {c}: a constant in (0.2, 0.9)
TEMPLATES = (
    "{a} + {b}",
    "{a} - {c} * {b}",
    "{c} * ({a} + {b})",
    "{a} * {b}",
    "{a} * math.tanh({b})",
    "{a} / (1.0 + {b} * {b})",
    "{a} / (2.0 + math.cos({b}))",
    "math.sin({a}) * {b}",
    "math.cos({a} - {b})",
    "math.exp(math.tanh({a})) - {b}",
    "math.exp(-{c} * {a} * {a}) + {b}",
    "math.log(1.0 + {a} * {a}) + {c} * {b}",
    "math.sqrt(1.0 + {a} * {a}) * math.sin({b})",
    "math.tanh({a} * {b})",
    "{c} * {a} + math.sin({b})",
    "math.sqrt({a} * {a} + {b} * {b} + 1.0)",
)


def draw(seed):
    rng = random.Random(seed)
    names = list(PARAMS)
    unused = list(PARAMS)
    lines = []
    for k in range(1, NSTMT + 1):
        a = names[-1] if rng.random() < 0.7 else rng.choice(names[-4:])
        pool = [n for n in unused if n != a]
        b = rng.choice(pool) if pool and rng.random() < 0.6 else rng.choice(names)
        c = "%.2f" % rng.uniform(0.2, 0.9)
        expr = rng.choice(TEMPLATES).format(a=a, b=b, c=c)
        v = "v%d" % k
        lines.append("    %s = %s" % (v, expr))
        for used in (a, b):
            if used in unused:
                unused.remove(used)
        names.append(v)
        unused.append(v)
    last = names[-1]
    rest = [n for n in unused if n != last and n not in PARAMS]
    ret = " + ".join([last] + rest)
    lines.append("    return %s" % ret)
    header = "def %s(%s):" % (NAME, ", ".join(PARAMS))
    doc = '    """%d straight-line statements with fan-out (generated, seed %d)."""' % (NSTMT, seed)
    return "\n".join([header, doc] + lines) + "\n"


def acceptable(text):
    """Finite and moderate (|v| < 100) at POINT and at a few other points."""
    ns = {"math": math}
    exec(text, ns)
    fn = ns[NAME]
    rng = random.Random(0)
    points = [POINT] + [tuple(rng.uniform(-3, 3) for _ in PARAMS) for _ in range(20)]
    for p in points:
        try:
            v = fn(*p)
        except (ValueError, OverflowError, ZeroDivisionError):
            return False
        if not math.isfinite(v) or abs(v) > 100.0:
            return False
    # every intermediate value at the benchmark point too
    body = text.replace("    return ", "    return locals()  # ")
    ns2 = {"math": math}
    exec(body, ns2)
    values = ns2[NAME](*POINT)
    return all(math.isfinite(v) and abs(v) < 100.0 for v in values.values())


def generate():
    seed = SEED
    while True:
        text = draw(seed)
        if acceptable(text):
            return text
        seed += 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the generated block in cases_straight.py")
    args = parser.parse_args(argv)
    text = generate()
    if not args.write:
        sys.stdout.write(text)
        return 0
    with open(TARGET) as fh:
        current = fh.read()
    block = "%s\n%s%s" % (BEGIN, text, END)
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(current):
        sys.exit("%s has no '%s' ... '%s' block" % (TARGET, BEGIN, END))
    updated = pattern.sub(lambda m: block, current)
    with open(TARGET, "w") as fh:
        fh.write(updated)
    print("wrote %s into %s" % (NAME, TARGET))
    return 0


if __name__ == "__main__":
    sys.exit(main())
