"""ac.adjoint_source returns the emitted source as a str that Jupyter shows highlighted (Pygments) or, without
Pygments, as escaped preformatted text."""

import builtins
import html
import pickle

import pytest

import adjoint_compiler as ac
from adjoint_compiler import display


def less_than(x, y):
    return x * y if x < y else x - y


def test_a_str_with_the_same_text():
    text = ac.adjoint_source(less_than)
    assert isinstance(text, str) and isinstance(text, display.Source)
    plain = str(text)
    assert type(plain) is str and text == plain and hash(text) == hash(plain)
    assert text.splitlines() == plain.splitlines() and text.startswith('"""') and "less_than" in text
    assert (text + "") == plain and text.replace("x", "x") == plain
    made = ac.differentiate(less_than, wrt=0).adjoint_source
    assert made == plain and isinstance(made, display.Source)
    assert pickle.loads(pickle.dumps(text)) == plain


def test_markdown_and_pretty():
    text = ac.adjoint_source(less_than)
    assert text._repr_markdown_() == "```python\n" + plain_rstrip(text) + "\n```"

    class Printer:
        def __init__(self):
            self.out = []

        def text(self, s):
            self.out.append(s)

    p = Printer()
    text._repr_pretty_(p, False)
    assert p.out == [str(text)]


def plain_rstrip(text):
    return str(text).rstrip("\n")


def test_html_with_pygments():
    pytest.importorskip("pygments")
    out = ac.adjoint_source(less_than)._repr_html_()
    assert "<span" in out and "style=" in out  # highlighted inline, no stylesheet needed
    assert "&lt;" in out and "x < y" not in out  # the comparison is escaped


def test_html_without_pygments(monkeypatch):
    real = builtins.__import__

    def no_pygments(name, *args, **kwargs):
        if name == "pygments" or name.startswith("pygments."):
            raise ImportError("No module named %r" % name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pygments)
    text = ac.adjoint_source(less_than)
    assert text._repr_html_() == "<pre>%s</pre>" % html.escape(str(text))
    assert "x &lt; y" in text._repr_html_()
