"""Emitted source as Jupyter shows it: ``Source`` is the ``str`` that ``ac.adjoint_source`` returns, with
rich representations added (HTML highlighted by Pygments when it is installed, Markdown, IPython's pretty
printer); as a string it is the text itself, and its methods return plain strings.

Invariant: ``Source(text) == text``, and ``_repr_html_`` escapes the text whether or not Pygments is there.

>>> s = Source("def f_grad(x):\\n    return x < 1\\n")
>>> isinstance(s, str), s == "def f_grad(x):\\n    return x < 1\\n", s.splitlines()[0]
(True, True, 'def f_grad(x):')
>>> print(s._repr_markdown_())
```python
def f_grad(x):
    return x < 1
```
"""

import html


class Source(str):
    """Python source text that notebooks show highlighted."""

    __slots__ = ()

    def _repr_html_(self):
        try:  # optional: only notebooks that show the source need it
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:
            return "<pre>%s</pre>" % html.escape(str(self))
        return highlight(str(self), PythonLexer(), HtmlFormatter(noclasses=True))

    def _repr_markdown_(self):
        return "```python\n%s\n```" % str(self).rstrip("\n")

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))
