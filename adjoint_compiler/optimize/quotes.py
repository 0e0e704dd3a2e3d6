"""The ``# <source line>`` comments of the adjoint sweep through optimize's rewrites.

Invariant: after ``Quotes.requote``, each comment names every source line whose code is under it (a
statement fused with one from another line takes that line along), and ``without_empty_comments`` leaves no
quoted line with nothing under it. The sweep markers (``# forward sweep``, ``# adjoint sweep``) stay.

>>> import gast
>>> from adjoint_compiler import emit
>>> fn = gast.parse("def f(x, c):\\n    __comment__('adjoint sweep')\\n    __comment__('z = x * c')\\n    a = c\\n"
...                 "    __comment__('y = x * x')\\n    x_bar = a + 2 * x\\n    return x_bar").body[0]
>>> quotes = Quotes(fn)
>>> quotes.fuse(fn.body[4], fn.body[2])  # x_bar = c + 2 * x now also computes what a = c did
>>> fn.body[4].value.left = fn.body[2].value
>>> del fn.body[2]
>>> fn.body = without_empty_comments(fn.body)
>>> quotes.requote(fn.body)
>>> print(emit.to_source(fn).strip())
def f(x, c):
    # adjoint sweep
    # z = x * c
    # y = x * x
    x_bar = c + 2 * x
    return x_bar
"""

import gast

from adjoint_compiler import naming
from adjoint_compiler.optimize.facts import BLOCKS


def is_comment(stmt):
    return (
        isinstance(stmt, gast.Expr)
        and isinstance(stmt.value, gast.Call)
        and isinstance(stmt.value.func, gast.Name)
        and stmt.value.func.id == naming.COMMENT_FN
    )


def _sweep_marker(stmt):
    return is_comment(stmt) and stmt.value.args[0].value in ("forward sweep", "adjoint sweep")


class Quotes:
    """Which quoted source lines (the ``# line`` comments of the adjoint sweep) each statement's code
    comes from. A statement fused with one from another line, or moved under another comment, takes its
    lines along; at the end each comment names every line whose code is under it."""

    def __init__(self, fn):
        self.texts = []  # the quoted lines, in the order of their comments
        self.comments = {}  # id(comment) -> (comment, its position in texts)
        self.lines = {}  # id(statement) -> (statement, positions of the lines its code comes from)
        self._collect(fn.body)

    def _collect(self, stmts):
        current = None
        for s in stmts:
            if is_comment(s):
                current = None if _sweep_marker(s) else len(self.texts)
                if current is not None:
                    self.comments[id(s)] = (s, current)
                    self.texts.append(s.value.args[0].value)
            elif isinstance(s, BLOCKS):
                current = None  # reverse quotes lines over simple statements only
                self._collect(s.body)
                self._collect(getattr(s, "orelse", []))
            elif current is not None:
                self.lines[id(s)] = (s, {current})

    def fuse(self, into, part):
        """``into`` now also computes what ``part`` did."""
        if id(part) in self.lines:
            self.lines.setdefault(id(into), (into, set()))[1].update(self.lines[id(part)][1])

    def requote(self, stmts):
        """Rewrite each comment in ``stmts`` (and the blocks inside) to name the lines of what is under it."""
        comment, under = None, set()
        for s in stmts + [None]:
            if s is None or is_comment(s) or isinstance(s, BLOCKS):
                if len(under) > 1:
                    quoted = dict.fromkeys(self.texts[k] for k in sorted(under))
                    comment.value.args = [gast.Constant(value=line, kind=None) for line in quoted]
                entry = self.comments.get(id(s))
                comment, under = (entry[0], {entry[1]}) if entry else (None, set())
            elif comment is not None and id(s) in self.lines:
                under |= self.lines[id(s)][1]
            if isinstance(s, BLOCKS):
                self.requote(s.body)
                self.requote(getattr(s, "orelse", []))


def without_empty_comments(stmts):
    """Drop each quoted source line whose adjoint code folded away."""
    return [
        s
        for i, s in enumerate(stmts)
        if not (
            is_comment(s)
            and not _sweep_marker(s)
            and (i + 1 == len(stmts) or is_comment(stmts[i + 1]) or isinstance(stmts[i + 1], gast.Return))
        )
    ]
