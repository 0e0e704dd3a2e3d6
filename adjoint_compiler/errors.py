"""Typed compiler errors, each carrying the user's source location.

Every message a user sees has the form ``file.py:LINE:COL: error: what; what to do``
so editors and terminals can jump to it.
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
