"""Make the figures of docs/concepts.md with the command line, where it can draw them.

    python docs/make_figures.py

- ``docs/img/seed_graph.svg``: ``adjoint-compiler graph examples/seed.py:f --at x=1.5,y=-2.0 -o ...``
  (the seed's computational graph with forward values and adjoints);
- ``docs/img/fd_error.png``: ``adjoint-compiler check examples/seed.py:f --at x=1.5,y=-2.0 --plot ...``
  (the central-difference error against the step h, beside the AD error).

A command this version does not have (``graph`` and ``check --plot`` come with their optional
extras), or one that fails (graphviz or matplotlib missing), leaves the committed figure as it is and
says so: the committed files are placeholders until then, and the documentation builds either way.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
AT = "x=1.5,y=-2.0"
SEED = "examples/seed.py:f"

FIGURES = [
    # (output, the command's arguments, what must be in the CLI's help for the command to exist)
    ("seed_graph.svg", ["graph", SEED, "--at", AT, "-o"], ("--help",), "graph"),
    ("fd_error.png", ["check", SEED, "--at", AT, "--plot"], ("check", "--help"), "--plot"),
]


def _cli(args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "adjoint_compiler", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def main():
    IMG.mkdir(exist_ok=True)
    for name, args, help_args, needle in FIGURES:
        out = IMG / name
        helped = _cli(list(help_args))
        if needle not in helped.stdout:
            print("%s: kept as it is (this adjoint-compiler has no %r)" % (out.relative_to(ROOT), needle))
            continue
        # drawn beside the committed figure and moved over it only when complete: a missing image
        # would fail `mkdocs build --strict` (its link check covers images)
        fresh = out.with_name("new_" + name)
        done = _cli(args + [str(fresh)])
        if done.returncode != 0 or not fresh.exists() or fresh.stat().st_size == 0:
            fresh.unlink(missing_ok=True)
            print("%s: kept as it is (%s)" % (out.relative_to(ROOT), (done.stderr or done.stdout).strip()[:200]))
            continue
        fresh.replace(out)
        print("%s: made" % out.relative_to(ROOT))


if __name__ == "__main__":
    main()
