"""A rule's body is parsed when first used, from its file's text as it was when the rule was registered
(templates.snapshot): editing a rules file while a process runs does not give a function the edited
body, which is not the function registered. Reference: the rule's registered function, called."""

import importlib
import os
import sys
import textwrap

import adjoint_compiler as ac
from adjoint_compiler import templates

RULES = """
from adjoint_compiler.rules.registry import adjoint, fragment, tangent


def triple(x):
    return 3.0 * x


@fragment
def _slope(g):
    return g * 3.0


@adjoint(triple)
def triple_adjoint(g, ans, x):
    return _slope(g)


@tangent(triple)
def triple_tangent(dot, ans, x):
    return dot * 3.0


def quintuple(x):
    return 5.0 * x


@adjoint(quintuple)
def quintuple_adjoint(g, ans, x):
    return g * 5.0
"""

USER = """
from {rules} import quintuple, triple


def uses_triple(x):
    return triple(x) * x


def uses_quintuple(x):
    return quintuple(x) + x
"""


def _write(path, text, stamp):
    path.write_text(textwrap.dedent(text))
    os.utime(path, (stamp, stamp))  # a new mtime, as an editor's save gives


def test_an_edited_rules_file_does_not_change_the_rules_registered(tmp_path, monkeypatch):
    rules_name, user_name = "edited_rules_%d" % os.getpid(), "edited_user_%d" % os.getpid()
    rules_file = tmp_path / (rules_name + ".py")
    _write(rules_file, RULES, 1_000_000_000)
    _write(tmp_path / (user_name + ".py"), USER.format(rules=rules_name), 1_000_000_000)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        rules = importlib.import_module(rules_name)
        user = importlib.import_module(user_name)
        assert rules.triple_adjoint(1.0, None, 2.0) == 3.0  # the registered bodies, called
        # the file is edited after the import, before any rule of it is first used (parsed): the same
        # number of lines, other slopes, as a developer's save while a notebook runs
        edited = RULES.replace("* 3.0", "* 7.0").replace("* 5.0", "* 11.0")
        _write(rules_file, edited, 1_000_000_100)
        # d(3x * x) = 6x; d(5x + x) = 6
        assert ac.grad(user.uses_triple)(2.0) == 12.0
        assert ac.jvp(user.uses_triple)(2.0, 1.0) == (12.0, 12.0)
        assert ac.grad(user.uses_quintuple)(2.0) == 6.0
    finally:
        sys.modules.pop(rules_name, None)
        sys.modules.pop(user_name, None)


def test_source_of_is_inspects_source_for_an_unedited_rule():
    import inspect

    import numpy as np

    from adjoint_compiler.rules import registry

    for fn in (np.tanh, np.arctan2, np.linalg.inv, np.sum):
        rule = registry.lookup(fn).rule
        assert templates.source_of(rule) == inspect.getsource(rule)
