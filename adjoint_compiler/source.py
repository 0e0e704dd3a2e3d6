"""Read a user function's source and parse it into a gast FunctionDef.

Output invariant: a ``Source`` whose ``tree`` is a ``gast.FunctionDef`` with
no decorators, line numbers counting from the top of the user's real file and
column offsets in the user's indentation, plus the environment (globals,
closure values, builtins) needed to resolve the names it reads.

>>> def f(x):
...     return x * 2
>>> src = read(f)
>>> src.tree.name, src.tree.body[0].lineno - f.__code__.co_firstlineno
('f', 1)
"""

import ast
import builtins
import copy
import functools
import inspect
import linecache
import sys
import textwrap
import threading
import types
import weakref

import gast

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler.errors import CompileError, SourceLocation, UnsupportedError


def _operand(text):
    """``text`` as an operand of a larger expression: in parentheses unless it is one already."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    atoms = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict)
    return text if isinstance(node, atoms) else "(%s)" % text


class _ComplexSeen(threading.local):
    """``seen``: None outside a compilation; in one (pipeline._run), whether a function it differentiates
    makes complex values (``note_complex``)."""

    seen = None


COMPLEX_SEEN = _ComplexSeen()
# What makes a complex value in Python or NumPy code: a complex literal, complex(), a complex dtype (by name, or by
# string where a dtype is given: dtype=, astype, np.dtype), cmath, NumPy's fft and its transforms (imported by
# name too: ``from numpy.fft import rfft``) and emath (scimath). A name that merely looks like one only sends the
# gradient down the stricter complex path (api._complex_call), which gives the same numbers or refuses.
_COMPLEX_NAMES = frozenset(
    ("complex", "complex64", "complex128", "complex256", "complex_", "complexfloating", "csingle", "cdouble")
    + ("clongdouble", "cfloat", "cmath", "emath", "scimath", "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn")
    + ("rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft")
)
# np.fft's functions of real numbers only: ``np.fft.fftshift`` names the module, and makes no complex value
_REAL_FFT = frozenset(("fftshift", "ifftshift", "fftfreq", "rfftfreq"))
_COMPLEX_DTYPES = frozenset(("complex", "complex64", "complex128", "complex256", "c8", "c16", "c32", "F", "D", "G"))
_DTYPE_TAKERS = frozenset(("astype", "dtype", "view"))


def note_complex(tree):
    """Note, for the compilation running in this thread, whether ``tree``, code it differentiates (the
    function's own, nested functions included, and with what it inlines), makes complex values. Not the
    functions read only for their effects (a library's, behind a rule) nor the rules' own bodies."""
    if COMPLEX_SEEN.seen is False and _makes_complex(trees.walk(tree)):
        COMPLEX_SEEN.seen = True


def _makes_complex(nodes):
    """Whether the function of ``nodes`` (its tree, walked) writes a complex literal, names something that
    makes complex values (``_COMPLEX_NAMES``) or gives a complex dtype as a string."""
    Constant, Name, Attribute, keyword, Call = gast.Constant, gast.Name, gast.Attribute, gast.keyword, gast.Call
    real_fft = set()  # the ``fft`` modules of ``np.fft.fftshift``... (the walk meets the outer attribute first)
    for node in nodes:
        kind = node.__class__
        if kind is Constant:
            if node.value.__class__ is complex:
                return True
        elif kind is Name:
            if node.id in _COMPLEX_NAMES and node not in real_fft:
                return True
        elif kind is Attribute:
            if node.attr in _REAL_FFT:
                real_fft.add(node.value)
            elif node.attr in _COMPLEX_NAMES and node not in real_fft:
                return True
        elif kind is keyword:
            if node.arg == "dtype" and _complex_dtype_string(node.value):
                return True
        elif kind is Call and node.args and node.func.__class__ is Attribute and node.func.attr in _DTYPE_TAKERS:
            if _complex_dtype_string(node.args[0]):
                return True
    return False


def _complex_dtype_string(node):
    return node.__class__ is gast.Constant and node.value.__class__ is str and node.value in _COMPLEX_DTYPES


class Source:
    """A parsed function plus what is needed to resolve its names and report errors."""

    def __init__(self, func, tree, filename, lines, indent, env):
        self.func = func
        self.tree = tree
        self.filename = filename
        self.lines = lines  # the user's file, for quoting source lines in comments
        self.indent = indent
        self.env = env
        self.variant = None  # (target, bindings, defaults, spread, keys, fields) for a variant (see ``variant``)
        self.keyword_only = []  # the keyword-only parameters, now last among the positional ones
        self.local_names = set()  # the names the function binds (set by fence, for resolving calls)
        self.field_names = {}  # the variable of a field of an object made in the function -> (object, field)
        self.object_notes = {}  # object made in the function -> why objects.py left it as it is (for messages)
        self.structure = {}  # parameter -> (kind, length or None) of its argument, where known (pipeline.compile)
        self.summaries = {}  # effects.summary's memo, shared by the passes of one compilation
        self.module_alias = None  # the name emitted code uses for the user's module (global statements)
        self.closure_alias = None  # ... and for the enclosing function's variables (nonlocal statements)
        self.returned = ()  # parameters changed in place whose contents a carrying variant returns (``carrying``)
        # the names ``carry`` bound to carrying variants in this compilation: anf unpacks their calls' results (in
        # emitted code compiled again, a variant's call is already unpacked)
        self.carrying_names = set()
        nodes = list(trees.walk(tree))
        # the names the user wrote, for messages (``spelled``): later passes add their own
        self.user_names = {n.id for n in nodes if isinstance(n, gast.Name)} | {
            a.arg if isinstance(a, ast.arg) else a.id
            for a in tree.args.args + tree.args.kwonlyargs + [tree.args.vararg, tree.args.kwarg]
            if a is not None
        }
        declared = {name for n in nodes if isinstance(n, gast.Global) for name in n.names}
        if not declared and not any(isinstance(n, gast.Nonlocal) for n in nodes):
            return  # (most functions: no aliases to name)
        taken = set(env) | {n.id for n in nodes if isinstance(n, gast.Name)}
        if any(isinstance(n, gast.Nonlocal) for n in nodes):
            self.closure_alias = _unique(naming.CLOSURE_ALIAS, taken)
            self.env[self.closure_alias] = _CellsView(func)
        if declared:
            self.module_alias = _unique(naming.MODULE_ALIAS, taken)
            self.env[self.module_alias] = _module_of(func)
            for name in sorted(declared):
                if name not in func.__globals__:
                    node = next(n for n in trees.breadth_first(tree) if isinstance(n, gast.Global) and name in n.names)
                    raise UnsupportedError(
                        "global declaration of '%s', which the module does not define" % name,
                        self.location(node),
                        "assign it at module level first",
                    )

    def declare(self, globals_, nonlocals):
        """Module globals and closure variables this function is made to hold (``carry`` passes them
        through calls): names for their holders, as ``global`` and ``nonlocal`` statements get."""
        taken = set(self.env) | {n.id for n in trees.breadth_first(self.tree) if isinstance(n, gast.Name)}
        if globals_ and self.module_alias is None:
            self.module_alias = _unique(naming.MODULE_ALIAS, taken)
            self.env[self.module_alias] = _module_of(self.func)
        if nonlocals and self.closure_alias is None:
            self.closure_alias = _unique(naming.CLOSURE_ALIAS, taken)
            self.env[self.closure_alias] = _CellsView(self.func)

    def bind(self, name, value):
        """A name for ``value`` in this function's environment: ``name``, or with underscores prepended
        until it is free (a specialisation's own global: a carrying variant, a nested gradient)."""
        while name in self.env and dict.get(self.env, name) is not value:
            name = "_" + name
        dict.__setitem__(self.env, name, value)  # not a lookup: no guard on it
        return name

    def location(self, node):
        line = getattr(node, "lineno", None) or self.tree.lineno
        col = getattr(node, "col_offset", 0) or 0
        return SourceLocation(self.filename, line, col + self.indent + 1)

    def spelled(self, name, fn=None, depth=0):
        """``name`` as the user wrote it, for a message: a variable's own name for any SSA version of it
        (``x_2``: ``x``), ``b.v`` for the field ``b_v`` of an object followed field by field, and for a
        compiler's temporary (``_t3``, ``_guarded1``) the expression it holds in ``fn`` (``np.sin(x)``).

        >>> def f(x):
        ...     return x
        >>> src = read(f)
        >>> fn = gast.parse("def f(x):\\n    _t1 = np.sin(x)\\n    x_1 = _t1 * 2.0").body[0]
        >>> src.spelled("x_1", fn), src.spelled("_t1", fn), src.spelled("_t9", fn)
        ('x', 'np.sin(x)', 'this value')
        """
        # (in emitted code, differentiated again, the first compilation's temporaries are temporaries still)
        emitted = self.filename.startswith("<adjoint_compiler:")
        if name in self.user_names and not (emitted and naming.is_temp(name)):
            return name
        base = naming.family(name)[0]
        if base in self.user_names and not (emitted and naming.is_temp(base)):
            return base
        if base in self.field_names:  # a field of an object made in the function: b_v is b.v
            holder, field = self.field_names[base]
            return "%s.%s" % (_operand(self.spelled(holder, fn, depth)), field)
        made = [s for s in trees.statements(fn) if trees.assigned_name(s) == name] if fn is not None else []
        if len(made) == 1 and depth < 4:
            return self.spelled_expression(made[0].value, fn, depth + 1)
        if name.startswith("_"):
            return "this value"
        return name

    def spelled_expression(self, node, fn=None, depth=0):
        """The source text of the expression ``node`` of ``fn`` (a tree of any pass), each name in it
        ``spelled``."""
        node = trees.clone(node)
        for n in list(trees.walk(node)):
            if isinstance(n, gast.Name) and n.id not in self.env:
                n.id = _operand(self.spelled(n.id, fn, depth))
        try:
            return trees.unparse(trees.to_ast(node)).strip()
        except Exception:  # noqa: BLE001  (a message must never fail)
            return "this value"

    def line_text(self, lineno):
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].strip()
        return ""

    def resolve(self, name):
        """The value ``name`` refers to inside the function (closure, global, builtin)."""
        return self.env[name]


class _GlobalsView:
    """Attribute access to a globals dict that is not a module's (a function made by exec)."""

    def __init__(self, namespace):
        object.__setattr__(self, "_namespace", namespace)

    def __getattr__(self, name):
        try:
            return self._namespace[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self._namespace[name] = value

    def holds_as(self, other):
        """Whether ``other`` is a view of the same globals (link.py: one name, one holder)."""
        return self._namespace is other._namespace


def _unique(name, taken):
    while name in taken:
        name = "_" + name
    return name


class _CellsView:
    """Attribute access to the variables a closure shares with its enclosing function (nonlocal)."""

    def __init__(self, func):
        cells = dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
        object.__setattr__(self, "_cells", cells)

    def __getattr__(self, name):
        try:
            return self._cells[name].cell_contents
        except (KeyError, ValueError):
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self._cells[name].cell_contents = value

    def holds_as(self, other):
        """Whether ``other`` is a view of the same cells (two compilations of one closure, link.py)."""
        mine, theirs = self._cells, other._cells
        return mine.keys() == theirs.keys() and all(mine[k] is theirs[k] for k in mine)


def _module_of(func):
    module = sys.modules.get(func.__module__)
    if module is not None and vars(module) is func.__globals__:
        return module
    return _GlobalsView(func.__globals__)


class Environment(dict):
    """The names a function can see (builtins, then globals, then closure cells), remembering which
    ones a compilation looked up: the compiled code is valid while those still mean the same."""

    def __init__(self, func):
        super().__init__(vars(builtins))
        self.update(func.__globals__)
        self.holders = {}  # name -> the globals dict or the cell it was read from
        for name in func.__globals__:
            self.holders[name] = func.__globals__
        if func.__closure__:
            for name, cell in zip(func.__code__.co_freevars, func.__closure__):
                try:
                    self[name] = cell.cell_contents
                except ValueError:  # an empty cell: the name is assigned after the def
                    continue
                self.holders[name] = cell
        self.looked_up = set()
        self.attributes = []  # (a class's __dict__, name, value): methods a pass inlined (objects.py)
        self.guarded = set()

    def guard_class(self, cls):
        """The compiled code holds ``cls``'s methods as they are now (each class of its MRO): it is stale
        when one is replaced, ``C.method = other``."""
        if cls in self.guarded:
            return
        self.guarded.add(cls)
        for owner in cls.__mro__[:-1]:
            for name, value in vars(owner).items():
                if inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod, property)):
                    self.attributes.append((vars(owner), name, value))

    def __getitem__(self, name):
        self.looked_up.add(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        self.looked_up.add(name)
        return dict.get(self, name, default)

    def guards(self):
        """``(holder, name, value)`` for every global or closure variable looked up, modules aside
        (rebinding ``np`` is not something programs do, and each guard costs a lookup per call)."""
        out = []
        for name in sorted(self.looked_up):
            holder = self.holders.get(name)
            value = dict.get(self, name, _MISSING)
            if holder is None or value is _MISSING or isinstance(value, types.ModuleType):
                continue
            current = holder.get(name, _MISSING) if isinstance(holder, dict) else cell_value(holder)
            if current is value:  # not a value the compilation put there itself (a bound function)
                out.append((holder, name, value))
        return out + self.attributes


_MISSING = object()


def cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING


def _lambda_as_def(func, filename):
    """``square = lambda t: t * t`` as ``def square(t): return t * t``: the lambda found in its whole file
    (a lambda inside a dict or list display may start and end anywhere on its lines), several on one line
    told apart by compiling the file (``_which_lambda``). Its line numbers and columns are the file's."""
    code = func.__code__
    line = code.co_firstlineno
    loc = SourceLocation(filename, line, 1)
    lines = linecache.getlines(filename)
    try:
        module = ast.parse("".join(lines))
    except SyntaxError as e:
        raise CompileError("cannot parse the source of %s: %s" % (func.__qualname__, e.msg), loc)
    params = list(code.co_varnames[: code.co_argcount])
    lambdas = [
        n
        for n in ast.walk(module)
        if isinstance(n, ast.Lambda)
        and n.lineno == line
        and [a.arg for a in list(getattr(n.args, "posonlyargs", [])) + n.args.args] == params
    ]
    if len(lambdas) > 1:
        lambdas = _which_lambda(module, lambdas, code, filename)
    if len(lambdas) != 1:
        raise UnsupportedError(
            "a lambda that cannot be told apart from the %d others on its line" % (len(lambdas) - 1)
            if lambdas
            else "a lambda whose source was not found (was its file changed?)",
            loc,
            "define it with 'def'",
        )
    lam = lambdas[0]
    names = [
        n.targets[0].id
        for n in ast.walk(module)
        if isinstance(n, ast.Assign) and n.value is lam and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    ]
    lam = trees.to_gast(lam)
    ret = gast.copy_location(gast.Return(value=lam.body), lam.body)
    fn = gast.FunctionDef(
        name=names[0] if len(names) == 1 else "lambda_",
        args=lam.args,
        body=[ret],
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return gast.copy_location(fn, lam), lines


def _which_lambda(module, lambdas, code, filename):
    """The lambdas of ``lambdas`` (all on one line) that compile to ``code``: the file compiled again with
    candidate i moved down by ``(file length) * 2**i`` lines, so that its code object is known by its first
    line (a candidate nested in another by the sum of their shifts), then compared with ``code`` line numbers
    aside."""
    line = code.co_firstlineno
    base = max(line, max((getattr(n, "end_lineno", 0) or 0 for n in ast.walk(module)), default=0)) + 1
    if base * 2 ** len(lambdas) + line >= 2**31:  # (co_firstlineno is a C int)
        return lambdas
    where = {id(n): i for i, n in enumerate(ast.walk(module))}
    picked = [where[id(n)] for n in lambdas]
    marked = copy.deepcopy(module)
    nodes = list(ast.walk(marked))  # the same order on the copy
    for i, at in enumerate(picked):
        by = base * 2**i
        for node in ast.walk(nodes[at]):
            if hasattr(node, "lineno"):
                node.lineno += by
                node.end_lineno = (getattr(node, "end_lineno", None) or node.lineno - by) + by
    try:
        compiled = compile(marked, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError):
        return lambdas
    want = _code_shape(code)
    found = []
    for c in _code_objects(compiled):
        offset, rest = divmod(c.co_firstlineno - line, base)
        if c.co_name == "<lambda>" and offset > 0 and not rest and _code_shape(c) == want:
            # moved by its own shift and those of the candidates around it, which come first in the walk:
            # its own is the highest bit
            found.append(offset.bit_length() - 1)
    # several that compile alike (``x * (2 * 3)`` and ``x * 6``) compute alike: any of them will do
    return [lambdas[found[0]]] if found else []


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _code_shape(code):
    """What a code object computes, its line numbers aside."""
    consts = tuple(_code_shape(c) if isinstance(c, types.CodeType) else (type(c), repr(c)) for c in code.co_consts)
    return (
        code.co_code,
        consts,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
        code.co_argcount,
        code.co_kwonlyargcount,
        code.co_flags,
    )


TRANSFORM_MARK = "__adjoint_compiler_transform__"  # (transform, function) on what grad/vjp/... return
# (function, wrt indices, kind, single) on what grad/value_and_grad/jvp make
GRADIENT_OF = "__adjoint_compiler_gradient_of__"
NOT_DIFFERENTIATED = "__adjoint_compiler_not_differentiated__"  # why a function the package made is not compiled
COMPILED_AS = "__adjoint_compiler_compiled_as__"  # on such a function: a twin with source, compiled in its place
PULLBACK_OF = "__adjoint_compiler_pullback_of__"  # h on h_dot, the function whose gradient is ac.vjp(h)'s pullback
DERIVATIVE_CODE_OF = "__adjoint_compiler_derivative_code_of__"  # (h, wrt) on h's emitted gradient or jvp called in one
GRADIENT_CODE_OF = "__adjoint_compiler_gradient_code_of__"  # (h, wrt) on h's emitted gradient called in a function
# what the passes ask of the transforms above them (derived.py fills it): "gradient adjoint" and "gradient
# tangent" make the adjoint and tangent of a call of h's emitted gradient from h's tangent code
TRANSFORMS = {}
MAKES_GRADIENT = "__adjoint_compiler_makes_gradient__"  # its kind, on ac.grad, ac.value_and_grad and ac.jvp


def read(func, copy=True):
    """The parsed source of ``func`` itself: a decorated function's wrapper, not what it wraps. ``copy=False``:
    its tree may be the one kept for every later read (a reader that only looks, such as ``effects.summary``,
    saves the copy); never for a function whose parameters ``read`` rearranges."""
    if not inspect.isfunction(func):
        raise CompileError(
            "%r is not a Python function with source; only functions defined with 'def' can be differentiated" % (func,)
        )
    carried = getattr(func, CARRIED, None)
    if carried is not None:
        return _read_carrying(func, *carried)
    variant = func if hasattr(func, VARIANT) else None
    if variant is not None:  # the source is its target's, specialised (see ``variant``)
        func = getattr(variant, VARIANT)[0]
    made = getattr(func, DERIVED, None)
    if made is not None:  # a nested function lifted to one of its own (lift.py)
        tree, filename, lines, indent = made
        if copy or variant is not None or tree.args.kwonlyargs:
            tree = trees.clone(tree)
        src = Source(func, tree, filename, lines, indent, Environment(func))
        _keyword_only_last(src)
        return _read_variant(src, variant) if variant is not None else src
    transform = getattr(func, TRANSFORM_MARK, None)
    if transform is not None:
        code = transform[1].__code__
        raise UnsupportedError(
            "a call of ac.%s(%s) inside a differentiated function (nested transforms)"
            % (transform[0], transform[1].__name__),
            SourceLocation(code.co_filename, code.co_firstlineno, 1),
            "differentiate a function that computes the gradient itself",
        )
    copy = copy or variant is not None
    filename, tree, lines, indent = _parsed(func, copy)
    if not copy and tree.args.kwonlyargs:
        tree = trees.clone(tree)  # (_keyword_only_last changes its parameters)
    src = Source(func, tree, filename, linecache.getlines(filename) or lines, indent, Environment(func))
    _keyword_only_last(src)
    if variant is not None:
        return _read_variant(src, variant)
    return src


def _keyword_only_last(src):
    """The keyword-only parameters of ``src.tree`` made the last positional ones (``src.keyword_only``
    names them: a call passes them by name)."""
    args = src.tree.args
    src.keyword_only = [a.id for a in args.kwonlyargs]
    if args.kwonlyargs:
        defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults) + list(args.kw_defaults)
        # as positional parameters, only those after the last one without a default can keep theirs
        # (the API passes every argument; a call inside must then pass the others too)
        first = max((i + 1 for i, d in enumerate(defaults) if d is None), default=0)
        args.args = args.args + args.kwonlyargs
        args.defaults = defaults[first:]
        args.kwonlyargs, args.kw_defaults = [], []


_PARSED = {}  # id(code) -> (code, filename, tree, lines, indent): each function's source is read and parsed once
_PARSED_MAX = 128  # (a big function's tree is a few hundred KB)


def _parsed(func, copy=True):
    """(file name, a fresh copy of the parsed tree, the function's lines, indent) of ``func``'s own source.
    Kept per code object, held so that its id is not reused: the compilation of a function, the effect
    summaries of its callers and callees, and a new function object made from the same code (a closure
    made again, ``types.FunctionType``) read it once."""
    code = func.__code__
    entry = _PARSED.get(id(code))
    if entry is None or entry[0] is not code:
        entry = (code,) + _parse(func)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[id(code)] = entry
    _, filename, tree, lines, indent = entry
    return filename, trees.clone(tree) if copy else tree, lines, indent


def _increment_lineno(tree, n):
    """``gast.increment_lineno``, walking with ``trees.walk`` (ast.walk's iter_child_nodes costs twice as much)."""
    for child in trees.walk(tree):
        attributes = child._attributes
        if "lineno" in attributes:
            child.lineno = (getattr(child, "lineno", 0) or 0) + n
        if "end_lineno" in attributes:
            child.end_lineno = (getattr(child, "end_lineno", 0) or 0) + n


def _unset_lineno(tree, n):
    """The line numbers ``_increment_lineno(tree, n)`` gives the nodes of a snippet's tree that have none."""
    for child in trees.walk(tree):
        attributes = child._attributes
        if "lineno" in attributes and not getattr(child, "lineno", 0):
            child.lineno = n
        if "end_lineno" in attributes and not getattr(child, "end_lineno", 0):
            child.end_lineno = n


_FILES = {}  # file name -> (its lines, as linecache holds them; {first line: ast def} of its functions, or None)
_FILES_MAX = 32


def _in_file(filename, code):
    """(the function's lines, its first line, its ``ast`` def) for the function of ``code``, from the file's
    tree: a file is parsed once (``ast.parse``, in C) for every function read from it after the first (the
    first is read as ``inspect`` reads it, which tokenizes only its own lines: a big module's first function is
    no slower), and again only when ``linecache`` reads the file anew (it changed on disk). None where the
    file's tree does not say (not parsed yet, not Python, no def starts at that line)."""
    linecache.checkcache(filename)
    lines = linecache.getlines(filename)
    if not lines:
        return None
    entry = _FILES.get(filename)
    if entry is None or entry[0] is not lines:
        if len(_FILES) >= _FILES_MAX:
            _FILES.pop(next(iter(_FILES)))
        _FILES[filename] = (lines, None)
        return None
    index = entry[1]
    if index is None:
        index = {}
        try:
            module = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            module = None
        for node in ast.walk(module) if module is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                index[start] = None if start in index else node  # (two defs on one line: inspect decides)
        _FILES[filename] = (lines, index)
    node = index.get(code.co_firstlineno)
    if node is None or node.name != code.co_name:
        return None
    first = code.co_firstlineno
    return lines[first - 1 : node.end_lineno], first, node


def _parse(func):
    try:
        filename = inspect.getsourcefile(func) or func.__code__.co_filename
        if func.__code__.co_name == "<lambda>" and linecache.getlines(filename):
            tree, lines = _lambda_as_def(func, filename)
            tree.args.args = list(getattr(tree.args, "posonlyargs", None) or []) + tree.args.args
            tree.args.posonlyargs = []
            return filename, tree, lines, 0
        found = _in_file(filename, func.__code__)
        if found is None:  # by its code object: inspect would follow __wrapped__ and read the undecorated function
            lines, firstline = inspect.getsourcelines(func.__code__)
            node = None
        else:
            lines, firstline, node = found
    except (OSError, TypeError) as e:
        raise CompileError(
            "cannot read the source of %s (%s); define it in a file, not interactively" % (func.__qualname__, e)
        )
    first = next((line for line in lines if line.strip()), "")
    indent = len(first) - len(first.lstrip())
    if node is not None and indent == 0 and not any(line.isspace() and line != "\n" for line in lines):
        # its lines as they are in the file (dedenting would change nothing): the file's tree of them
        tree = trees.to_gast(node)
        _unset_lineno(tree, firstline - 1)
    else:
        try:
            module = trees.to_gast(ast.parse(textwrap.dedent("".join(lines))))
        except SyntaxError as e:
            raise CompileError(
                "cannot parse the source of %s: %s" % (func.__qualname__, e.msg),
                SourceLocation(filename, firstline + (e.lineno or 1) - 1, (e.offset or 0) + indent),
            )
        tree = module.body[0] if module.body else None
        if isinstance(tree, gast.FunctionDef):
            _increment_lineno(tree, firstline - 1)
    if isinstance(tree, gast.AsyncFunctionDef):
        raise UnsupportedError("async def", SourceLocation(filename, firstline, indent + 1))
    if not isinstance(tree, gast.FunctionDef):
        raise UnsupportedError(
            "this kind of function definition", SourceLocation(filename, firstline, indent + 1), "define it with 'def'"
        )
    _check_current(func, tree, filename, firstline, indent)
    tree.decorator_list = []
    # emitted code takes every argument positionally, so positional-only and keyword-only ones are
    # ordinary parameters there (keyword-only ones last: a call passes them by name)
    args = tree.args
    args.args = list(getattr(args, "posonlyargs", None) or []) + args.args
    args.posonlyargs = []
    return filename, tree, lines, indent


def _check_current(func, tree, filename, firstline, indent):
    """Raise CompileError where the file no longer holds ``func``'s definition at the line its code object
    names: the file was edited after the module was imported (inspect reads the file as it is now, at the
    old line numbers), and the text there is another function, or ``func`` with other parameters. Compiling
    it would differentiate code that is not the code that runs."""
    code = func.__code__
    a = tree.args
    names = [p.id for p in list(getattr(a, "posonlyargs", None) or []) + a.args + a.kwonlyargs]
    names += [p.id for p in (a.vararg, a.kwarg) if p is not None]
    nparams = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & inspect.CO_VARARGS)
    nparams += bool(code.co_flags & inspect.CO_VARKEYWORDS)
    if tree.name != code.co_name or names != list(code.co_varnames[:nparams]):
        raise CompileError(
            "the source of %s has changed since it was loaded: %s line %d now defines %s(%s); reload its module "
            "(importlib.reload) or run its definition again"
            % (func.__qualname__, filename, firstline, tree.name, ", ".join(names)),
            SourceLocation(filename, firstline, indent + 1),
        )


def target(obj):
    """(function, bindings, defaults): the Python function a callable runs, the parameters it fixes
    (a bound method's ``self``, a partial's positional values) and the defaults it sets (a partial's
    keywords); None for anything else."""
    if inspect.isfunction(obj):
        return obj, {}, {}
    if inspect.ismethod(obj):
        made = target(obj.__func__)
        return made and _fix(made, (obj.__self__,), {})
    if isinstance(obj, functools.partial):
        made = target(obj.func)
        return made and _fix(made, obj.args, obj.keywords)
    call = getattr(type(obj), "__call__", None)
    if not isinstance(obj, type) and inspect.isfunction(call):  # an instance of a class with a Python __call__
        return _fix(target(call), (obj,), {})
    return None


def _fix(made, values, keywords):
    function, bindings, defaults = made
    params = inspect.signature(function, follow_wrapped=False).parameters
    free = [
        p for p in params.values() if p.name not in bindings and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(values) > len(free) or any(k not in params for k in keywords):
        code = function.__code__
        raise UnsupportedError(
            "a functools.partial that passes values to *args or **kwargs of %s" % function.__name__,
            SourceLocation(code.co_filename, code.co_firstlineno, 1),
            "pass them when calling instead",
        )
    bindings = dict(bindings, **{p.name: v for p, v in zip(free, values)})
    return function, bindings, dict(defaults, **keywords)


VARIANT = "__adjoint_compiler_variant__"  # (target, bindings, defaults, spread, keys, fields) on a variant
_VARIANTS = weakref.WeakKeyDictionary()  # target -> {key: (values it binds, variant)}, the newest last
_KEEP = 32  # variants kept per target: each pins the objects it binds


class _Ref:
    """A default value in a generated signature, written as the name that holds it."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def variant(obj, target, bindings=None, defaults=None, spread=None, keys=None, name=None, fields=None):
    """A plain function standing for the callable ``obj``, compiled from ``target``'s source.

    ``obj`` is ``target`` with the parameters in ``bindings`` fixed (a bound method's ``self``,
    a ``functools.partial``'s positional values) and the ones in ``defaults`` given new defaults
    (a partial's keywords). Without ``spread`` the variant takes ``obj``'s own signature; with it,
    every parameter positionally: ``target``'s remaining ones, ``spread`` values of ``*args``
    (``args_0, ...``), the keyword-only ones, and one per key of ``keys`` for ``**kw``
    (``kw_key``). ``fields`` (pairs of a field name and its index) is for arguments whose NamedTuples
    and dataclasses the API passes as tuples: reading such a field becomes indexing. Called directly
    it calls ``obj``; ``read`` gives ``target``'s source, which ``specialise.variant`` specialises so.
    The same request gives the same variant (recursion and the compile caches rely on it).

    >>> class Scaled:
    ...     def __init__(self, w):
    ...         self.w = w
    ...     def loss(self, x, *rest):
    ...         return self.w * x * rest[0]
    >>> m = Scaled(3.0)
    >>> loss = variant(m.loss, Scaled.loss, {"self": m}, spread=1, keys=())
    >>> loss(2.0, 5.0), list(inspect.signature(loss).parameters)
    (30.0, ['x', 'rest_0'])
    >>> read(loss).tree.name, read(loss).variant[3:5]
    ('loss', (1, ()))
    """
    bindings, defaults = bindings or {}, defaults or {}
    base = getattr(target, VARIANT, None)
    if base is not None:  # a variant of a variant: one specialisation of the first one's target
        bindings, defaults = dict(base[1], **bindings), dict(base[2], **defaults)
        spread, keys = (base[3], base[4]) if spread is None else (spread, keys)
        target, fields = base[0], fields or base[5]
    own_style = spread is None or base is not None  # obj's own signature less what is fixed
    values = tuple(bindings.values()) + tuple(defaults.values())
    key = (tuple(bindings), tuple((p, id(v)) for p, v in defaults.items()), spread, keys, name, fields, own_style)
    key += tuple(map(id, values))
    per_target = _VARIANTS.setdefault(target, {})
    hit = per_target.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], values)):
        return hit[1]
    own = inspect.signature(obj, follow_wrapped=False)  # a parameter of obj's own in bindings: fixed too
    if own_style:
        signature = own.replace(parameters=[p for p in own.parameters.values() if p.name not in bindings])
    else:
        kinds = inspect.Parameter
        params = []
        for p in inspect.signature(target, follow_wrapped=False).parameters.values():
            if p.name in bindings:
                continue
            if p.kind is kinds.VAR_POSITIONAL:
                params += [naming.SPREAD.format(p.name, i) for i in range(spread)]
            elif p.kind is kinds.VAR_KEYWORD:
                params += [naming.SPREAD.format(p.name, k) for k in keys]
            else:
                params.append(p.name)
        signature = inspect.Signature([inspect.Parameter(n, kinds.POSITIONAL_OR_KEYWORD) for n in params])
    refs, params = {}, []
    for i, p in enumerate(signature.parameters.values()):
        if p.default is not p.empty:
            refs["_default%d_" % i] = p.default
            p = p.replace(default=_Ref("_default%d_" % i))
        params.append(p.replace(annotation=p.empty))
    fixed = {p: "_fixed_%s_" % p for p in own.parameters if p in bindings}
    refs.update((fixed[p], bindings[p]) for p in fixed)
    passed = _passing(target, own, bindings, None if own_style else spread, keys, fixed)
    text = "def _make_(_obj_%s):\n  def _variant_%s:\n    return _obj_(%s)\n  return _variant_" % (
        "".join(", " + r for r in refs),
        inspect.Signature(params),
        passed,
    )
    namespace = {}
    exec(text, namespace)  # noqa: S102  (a wrapper with obj's signature: the API binds calls by it)
    made = namespace["_make_"](obj, *refs.values())
    made.__name__ = name or target.__name__
    made.__qualname__ = getattr(obj, "__qualname__", None) or target.__qualname__
    made.__module__ = target.__module__
    setattr(made, VARIANT, (target, bindings, defaults, spread, keys, fields))
    per_target[key] = (values, made)
    while len(per_target) > _KEEP:
        del per_target[next(iter(per_target))]
    return made


def _passing(target, own, bindings, spread, keys, fixed):
    """The arguments a variant passes on to the callable it stands for, whose signature is ``own``
    (the names in ``fixed`` hold the values of its parameters that the variant fixes)."""
    if spread is None:
        kinds = inspect.Parameter
        return ", ".join(
            "*" + p.name
            if p.kind is kinds.VAR_POSITIONAL
            else "**" + p.name
            if p.kind is kinds.VAR_KEYWORD
            else "%s=%s" % (p.name, fixed.get(p.name, p.name))
            if p.kind is kinds.KEYWORD_ONLY
            else fixed.get(p.name, p.name)
            for p in own.parameters.values()
        )
    out = []
    for p in inspect.signature(target, follow_wrapped=False).parameters.values():
        if p.name in bindings:
            continue
        if p.kind is p.VAR_POSITIONAL:
            out += [naming.SPREAD.format(p.name, i) for i in range(spread)]
        elif p.kind is p.VAR_KEYWORD:
            out += ["%s=%s" % (k, naming.SPREAD.format(p.name, k)) for k in keys]
        elif p.kind is p.KEYWORD_ONLY:
            out.append("%s=%s" % (p.name, p.name))
        else:
            out.append(p.name)
    return ", ".join(out)


def _read_variant(src, made):
    """``src`` (the target's source) as ``made``'s: ``specialise.variant`` applies the rest."""
    src.variant = getattr(made, VARIANT)
    if made.__name__.isidentifier():  # a lambda's '<lambda>' keeps the name _lambda_as_def gave it
        src.tree.name = made.__name__
    src.func = made
    return src


CARRIED = "__adjoint_compiler_carried__"  # (function, ins, outs, changed) on what ``carrying`` returns
_CARRYING = weakref.WeakKeyDictionary()  # function -> {(ins, outs, changed): its carrying variant}


def carrying(func, ins, outs, changed=()):
    """``func`` made pure in the globals and closure variables ``ins``: they are passed first, and the
    call returns ``(result, *outs)``, the values ``outs`` have after it. Compiled from ``func``'s own source (see
    ``read``); called as is, it sets the globals, calls ``func`` and reads them back. ``changed``: parameters
    whose contents ``func`` changes in place, returned last (``(result, *outs, *changed)``): compiled, it
    changes a copy of each (``desugar``'s ``own``) and the caller's object is left as it was; called as
    is, it does so too (a copy of every level of lists, dicts and arrays), and returns the copies.

    >>> def bump(v):
    ...     global K
    ...     K = K + v
    ...     return K * 2
    >>> K = 1.0
    >>> bump_carrying = carrying(bump, ("K",), ("K",))
    >>> bump_carrying(10.0, 0.5)
    (21.0, 10.5)
    >>> print(read(bump_carrying).tree.args.args[0].id)
    K
    """
    key = (tuple(ins), tuple(outs), tuple(changed))
    per_function = _CARRYING.setdefault(func, {})
    if key in per_function:
        return per_function[key]
    closure = set(func.__code__.co_freevars)
    defaults = {}
    params, passed = list(ins), []
    for i, p in enumerate(inspect.signature(func).parameters.values()):
        text = p.name
        if p.default is not p.empty:
            defaults["_default%d_" % i] = p.default
            text += "=_default%d_" % i
        if p.kind is p.VAR_POSITIONAL:
            text, arg = "*" + p.name, "*" + p.name
        elif p.kind is p.VAR_KEYWORD:
            text, arg = "**" + p.name, "**" + p.name
        elif p.kind is p.KEYWORD_ONLY:
            if not any(q.startswith("*") for q in params):
                params.append("*")
            arg = "%s=%s" % (p.name, p.name)
        else:
            arg = p.name
        params.append(text)
        passed.append(arg)
    holder = {g: "_cells_" if g in closure else "_module_" for g in ins}
    sets = "".join("    %s.%s = %s\n" % (holder[g], g, g) for g in ins)
    # a changed parameter's object is copied first, as the compiled variant owns it: the caller's variable
    # keeps the contents it had (emitted code reads it again in its adjoint sweep; the call's result is the new
    # contents), at every level of lists, dicts and arrays a store may reach
    sets += "".join("    %s = _copy_(%s, 64, [])\n" % (p, p) for p in changed)
    result = "".join(["_result_, "] + ["%s.%s, " % (holder[g], g) for g in outs] + ["%s, " % p for p in changed])
    text = (
        "def _make_(_target_, _module_, _cells_, _copy_%s):\n"
        "  def %s(%s):\n%s    _result_ = _target_(%s)\n    return (%s)\n"
        "  return %s"
        % (
            "".join(", " + d for d in defaults),
            func.__name__,
            ", ".join(params),
            sets,
            ", ".join(passed),
            result,
            func.__name__,
        )
    )
    namespace = {}
    exec(text, namespace)  # noqa: S102  (a wrapper with func's signature: passes count its parameters)
    inner = namespace["_make_"](func, _module_of(func), _CellsView(func), runtime._copy_levels, *defaults.values())
    variant = types.FunctionType(inner.__code__, func.__globals__, func.__name__, inner.__defaults__, inner.__closure__)
    variant.__kwdefaults__ = inner.__kwdefaults__
    variant.__qualname__ = func.__qualname__
    variant.__module__ = func.__module__
    setattr(variant, CARRIED, (func,) + key)
    per_function[key] = variant
    return variant


USER_LABEL = "__adjoint_compiler_label__"  # on a function made from a method: the method's name as written
DERIVED = "__adjoint_compiler_derived__"  # (tree, filename, lines, indent) on what ``derived`` makes


def derived(origin, tree, cells):
    """A real function made from ``tree``, a FunctionDef written in the file of ``origin`` (a Source):
    called, it runs as ``tree`` says, reading the globals and closure variables of ``origin.func``
    and the names ``cells`` holds (name -> a cell: functions made together can name each other);
    ``read`` of it gives a copy of ``tree`` at the user's lines and columns, whose environment holds
    those names too. ``lift`` makes nested functions and the helpers they are passed to so.

    >>> def f(x):
    ...     return x
    >>> tree = read(f).tree
    >>> tree.name = "twice"
    >>> tree.body[0].value = gast.BinOp(left=tree.body[0].value, op=gast.Mult(), right=trees.name("k"))
    >>> k = types.CellType(2.0)
    >>> twice = derived(read(f), tree, {"k": k})
    >>> twice(3.0), read(twice).tree.body[0].lineno == f.__code__.co_firstlineno + 1
    (6.0, True)
    """
    base = origin.func
    base = getattr(base, CARRIED, (base,))[0]  # a carrying variant reads its function's cells
    base = getattr(base, VARIANT, (base,))[0]  # so does a variant (its own globals are its wrapper's)
    held = dict(zip(base.__code__.co_freevars, base.__closure__ or ()))
    held.update(cells)
    outer = sorted(held)
    text = "def _make_(%s):\n%s    return %s\n" % (
        ", ".join(outer),
        textwrap.indent(trees.unparse(trees.to_ast(trees.clone(tree))) + "\n", "    "),
        tree.name,
    )
    namespace = {}
    exec(text, namespace)  # noqa: S102  (the code the tree says, closing over the cells named)
    inner = namespace["_make_"](*[None] * len(outer))
    closure = tuple(held[name] for name in inner.__code__.co_freevars)
    func = types.FunctionType(inner.__code__, base.__globals__, tree.name, inner.__defaults__, closure)
    func.__kwdefaults__ = inner.__kwdefaults__
    func.__qualname__ = "%s.<locals>.%s" % (base.__qualname__, tree.name)
    func.__module__ = base.__module__
    setattr(func, DERIVED, (trees.clone(tree), origin.filename, origin.lines, origin.indent))
    return func


def _read_carrying(variant, func, ins, outs, changed):
    """The source of ``func`` with the globals ``ins`` as its first parameters (no longer declared
    global) and every return giving ``(value, *outs, *changed)``; the parameters ``changed`` are owned
    (``desugar``), never given back in place."""
    src = read(func)
    with_state(src.tree, ins, tuple(outs) + tuple(changed))
    src.returned = tuple(changed)
    src.func = variant
    return src


def with_state(tree, ins, outs):
    """Make ``tree`` (a FunctionDef) take the variables ``ins`` first, no longer declared ``global`` or
    ``nonlocal``, and give ``(value, *outs)`` at every return, a final one included; the functions it
    defines are left as they are. Edits ``tree``."""
    tree.args.args = [gast.Name(id=g, ctx=gast.Param(), annotation=None, type_comment=None) for g in ins] + list(
        tree.args.args
    )

    def carried(value):
        return gast.Tuple(
            elts=[value or gast.Constant(value=None, kind=None)] + [gast.Name(id=g, ctx=gast.Load()) for g in outs],
            ctx=gast.Load(),
        )

    for node in [tree] + list(trees.scope(tree.body)):  # not inside the functions it defines
        if isinstance(node, gast.Return):
            node.value = gast.copy_location(carried(node.value), node)
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not tree:
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                for stmt in block:
                    if isinstance(stmt, (gast.Global, gast.Nonlocal)):
                        stmt.names = [n for n in stmt.names if n not in ins]
                block[:] = [s for s in block if not (isinstance(s, (gast.Global, gast.Nonlocal)) and not s.names)] or [
                    gast.Pass()
                ]
    if not tree.body or not isinstance(tree.body[-1], gast.Return):
        end = tree.body[-1] if tree.body else tree
        tree.body.append(gast.copy_location(gast.Return(value=carried(None)), end))


def hashable(value):
    """Whether ``value`` can be a dict key or set member (a constant table's key, a callee looked up)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def static_value(node, source):
    """The value of a global name or module attribute chain, resolved at compile time."""
    if isinstance(node, gast.Name):
        try:
            return source.resolve(node.id)
        except KeyError:
            raise CompileError("name '%s' is not defined" % node.id, source.location(node))
    if isinstance(node, gast.Attribute):
        base = static_value(node.value, source)
        try:
            value = getattr(base, node.attr)
        except AttributeError:
            raise CompileError("%r has no attribute '%s'" % (base, node.attr), source.location(node))
        if isinstance(value, (types.FunctionType, types.MethodType)) and not isinstance(base, types.ModuleType):
            # model.loss, Model.loss: read from the class now; compiled code is stale when it is replaced
            cls = base if isinstance(base, type) else type(base)
            if cls.__module__ != "builtins" and hasattr(source.env, "guard_class"):
                source.env.guard_class(cls)
        return value
    raise CompileError("cannot resolve %s at compile time" % type(node).__name__, source.location(node))


def global_value(node, source, local_names, default=None):
    """The value of ``node`` if it is a global name or a module attribute chain (``np.linalg.norm``)
    that resolves at compile time; ``default`` if it is rooted at one of ``local_names``, is some
    other expression, or does not resolve."""
    root = node
    while isinstance(root, gast.Attribute):
        root = root.value
    if not isinstance(root, gast.Name) or root.id in local_names:
        return default
    try:
        return static_value(node, source)
    except Exception:
        return default
