"""Shared by the pass tests: run a pass over a source text, print it, and run what it printed."""

import textwrap

import gast

from adjoint_compiler import emit, runtime


def lowered(run, text, source=None):
    """The printed output of ``run`` over the one function in ``text``; the input tree must stay as it was."""
    fn = gast.parse(textwrap.dedent(text)).body[0]
    before = gast.dump(fn, include_attributes=True)
    out = emit.to_source(run(fn, source)).strip()
    assert gast.dump(fn, include_attributes=True) == before, "the pass changed its input"
    return out


def define(text, env=None):
    """The function that ``text`` defines, with ``env`` (and the runtime helpers) as its globals."""
    namespace = dict(vars(runtime))
    namespace.update(env or {})
    code = textwrap.dedent(text)
    exec(compile(code, "<lowered>", "exec"), namespace)
    name = gast.parse(code).body[0].name
    return namespace[name]


def same_values(original, lowered_text, inputs, env=None):
    """Running the lowered text gives what the original gives, on every input."""
    f, g = define(original, env), define(lowered_text, env)
    for args in inputs:
        assert g(*args) == f(*args), args
