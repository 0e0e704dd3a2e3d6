"""Tests of single passes: small sources through one pass's ``run``, compared as text and by running them.

Helpers: ``parse`` a function's source into the gast tree a pass takes, ``show`` a tree as the text
``adjoint_compiler.emit.to_source`` prints, ``define`` a tree as a runnable function (with ``math``,
``np`` and the runtime helpers emitted code calls), ``load`` a function from a real file (the compiler
reads source with ``inspect``), and ``stage`` to get a pipeline stage of such a function.
"""

import math
import textwrap

import gast
import numpy as np

from adjoint_compiler import emit, pipeline, runtime
from tests.fuzz.oracle import load_module


def parse(src):
    """The FunctionDef of ``src`` (a single function; dedented)."""
    return gast.parse(textwrap.dedent(src)).body[0]


def show(tree):
    return emit.to_source(tree).strip()


def text(src):
    return textwrap.dedent(src).strip()


def define(tree, **env):
    """The function ``tree`` defines, executed with math, np, the runtime helpers and ``env``."""
    ns = {"math": math, "np": np, "__comment__": lambda *_: None}
    ns.update({h: getattr(runtime, h) for h in runtime.HELPERS})
    ns.update(env)
    exec(compile(emit.to_source(tree), "<pass output>", "exec"), ns)
    return ns[tree.name]


def load(src, name="f"):
    """Function ``name`` of module source ``src`` (dedented), imported from a real file."""
    return getattr(load_module("import math\nimport numpy as np\n\n\n" + textwrap.dedent(src)), name)


def stage(f, name, wrt=(0,), **kw):
    """The output of pipeline stage ``name`` for ``f``."""
    return pipeline.compile(f, wrt=wrt, stop_after=name, **kw)
