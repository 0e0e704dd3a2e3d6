"""Typed compiler errors, each carrying the user's source location.

Invariant: every compile-time error about the user's code is a ``CompileError`` whose message
has the form ``file.py:LINE:COL: error: what; what to do`` (``error: what`` when
no location is known), so editors and terminals can jump to it; a bug in the
compiler is an ``InternalError``, which is not a ``CompileError``.

>>> str(UnsupportedError("try statement", SourceLocation("model.py", 12, 5), "move it out"))
'model.py:12:5: error: try statement is not supported by adjoint_compiler; move it out'
>>> issubclass(InternalError, CompileError)
False
"""


class SourceLocation:
    __slots__ = ("filename", "line", "col")

    def __init__(self, filename, line, col):
        self.filename = filename
        self.line = line
        self.col = col

    def __str__(self):
        return "%s:%d:%d" % (self.filename, self.line, self.col)

    def __repr__(self):
        return "SourceLocation(%r, %d, %d)" % (self.filename, self.line, self.col)


class CompileError(Exception):
    """Base of every compile-time error raised for user code."""

    def __init__(self, message, location=None):
        self.message = message
        self.location = location
        super().__init__(self.format())

    def format(self):
        if self.location is None:
            return "error: %s" % self.message
        return "%s: error: %s" % (self.location, self.message)


class UnsupportedError(CompileError):
    """A Python construct the compiler does not handle (yet)."""

    def __init__(self, construct, location=None, hint=None):
        self.construct = construct
        message = construct if "not supported" in construct else "%s is not supported by adjoint_compiler" % construct
        if hint:
            message += "; " + hint
        super().__init__(message, location)


class InternalError(Exception):
    """A bug in the compiler itself, never the user's fault.

    Deliberately not a CompileError so that it never looks like a user error.
    """

    def __init__(self, message):
        super().__init__(
            "internal compiler error: %s (please report this with the function you were differentiating)" % message
        )
