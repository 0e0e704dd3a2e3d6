"""The formats of generated names, and a deterministic Namer.

Invariant: a ``Namer`` never hands out a name already taken (by the user's code
or an earlier call) nor a Python keyword, and its names come from per-format
counters, never from randomness or dict order, so emitted source is identical
from run to run (golden files depend on it). The formats of generated names are
defined below, once, and used from here: the lowering passes, ``specialise`` and
``reverse/`` spell none of their own. (Still spelled in place: ``_module`` and
``_closure`` in ``source`` and ``write_through``, ``_with_state`` in ``carry``, and
the suffixes of names ``reverse`` derives from another name in ``optimize.coalescing._DERIVED``.)

>>> namer = Namer({"_t1", "x_1"})
>>> namer.fresh(TEMP), namer.fresh(TEMP), namer.unique("x"), namer.unique("x")
('_t2', '_t3', 'x', 'x_2')
"""

import keyword
import re

BAR = "{}_bar"  # adjoint of a variable: x_bar
DOT = "{}_dot"  # tangent of a variable (forward mode): x_dot
VERSION = "{}_{}"  # SSA version: x_1
TEMP = "_t{}"  # ANF temporary
COND = "_cond{}"  # recorded branch decision
TRIPS = "_n{}"  # loop trip count
TAPE = "_tape{}"  # per-loop tape
SAVED = "{}_old"  # the part of an array an in-place update overwrites
GRAD_FN = "{}_grad"
VJP_FN = "{}_vjp"
JVP_FN = "{}_jvp"  # forward mode: <f>_jvp(*params, *wrt_dots) -> (value, value_dot)
PULLBACK_FN = "{}_pullback"  # <f>_pullback, which <f>_vjp returns; y_pullback, which a call y = h(a) got from h_vjp
COMMENT_FN = "__comment__"  # marker call replaced by a '#' comment at emit time
CHECKPOINT_MARKER = "__checkpointed__"  # wraps the range of a checkpointed loop until reverse
STEP_FN = "_step{}"  # runs a segment of iterations of a checkpointed loop
STEP_ADJOINT_FN = "{}_adjoint"  # its adjoint, named after it: _step1_adjoint
ITERATIONS = "_iterations"  # the segment of iterations (a sub-range) a step function runs
STATE = "_state{}"  # the loop-carried values a checkpointed loop starts from


RETURN_FLAG = "_return{}"  # set once an early return ran
RETURN_VALUE = "_value{}"  # the value an early return gave
BREAK_FLAG = "_break{}"
CONTINUE_FLAG = "_continue{}"
KEPT_OUTPUT = "{}_value"  # the output, kept before the adjoint sweep rebinds its name
FINAL = "{}_final"  # an array's final contents, which a pullback puts back after undoing its in-place updates
PULLBACK_CALLS = "_pullback_calls"  # the calls a pullback made, where it may run only once
RELOADED = "{}_k"  # a taped value reloaded inside a pullback (under its own name, local to the pullback)
SPREAD = "{}_{}"  # one value of *args, in a function compiled for a count of them: args_0
SPECIALISED = "{}_{}"  # a function compiled for a count of *args (f_3), or for the functions passed (euler_decay)
BOUND = "{}_{}"  # a function passed as parameter p, a global of the callee where its own name is taken: p_decay
OVERLAP = "_overlap{}"  # the values of a store whose target may overlap them, copied first
MODULE_ALIAS = "_module"  # the user's module, for global statements (underscores prepended until free)
CLOSURE_ALIAS = "_closure"  # the enclosing function's cells, for nonlocal statements (likewise)
CARRYING = "{}_with_state"  # a called function in carrying form (carry.py): state passed in and returned
LAMBDA = "lambda_{}"  # a lambda written in place, lifted to a function of its own (lift.py): named after its line
DEFAULT_VALUE = "{}_{}"  # the default of parameter p of a nested function g, evaluated at its def (lift.py): g_p
UNROLLED = "_{}{}"  # a function of an unrolled loop's display made before the loop (resolve.py): _fn1
CHOSEN_LAMBDA = "{}_lambda{}"  # a lambda a local may be bound to among other functions (resolve.py): act_lambda1
PARTIAL_FUNCTION = "{}_fn"  # the lambda a local functools.partial p fixes values of (resolve.py): p_fn
PARTIAL_VALUE = "{}_{}"  # a value partial p fixes, kept where it could change before p is called: p_arg0, p_k
INLINED = "{}_{}"  # variable v of a function make whose body is inlined where it makes a function (resolve.py): make_v
PASSED_VARIABLE = "{}_{}"  # a variable the function passed as parameter p reads, in the callee's variant: f_x
FIELD = "{}_{}"  # a field of an object made in the function, a variable of its own (objects.py): b_v

_TEMP_NAME = re.compile(r"_t\d+$")


def is_temp_value(name):
    """An ANF temporary or its tangent (``_t3``, ``_t3_dot``): a value no user variable holds.

    >>> is_temp_value("_t3_dot"), is_temp_value("y_dot"), is_temp_value("_t3_bar")
    (True, False, False)
    """
    found = _TEMP_VALUES.get(name)
    if found is None:
        found = is_temp(name) or name.endswith(_DOT) and is_temp(name[: -len(_DOT)])
        _remember(_TEMP_VALUES, name, found)
    return found


def is_temp(name):
    """Is ``name`` an ANF temporary ``_t<k>`` (not one of its SSA versions)?

    >>> is_temp("_t12"), is_temp("t12"), is_temp("_t1_bar")
    (True, False, False)
    """
    found = _TEMPS.get(name)
    if found is None:
        found = _remember(_TEMPS, name, _TEMP_NAME.match(name) is not None)
    return found


_VERSIONED = re.compile(r"(.*?)(?:_(\d+))?((?:_bar|_dot)*)$")


def family(name):
    """``(base, suffix, version)`` of a name made from VERSION and BAR.

    >>> family("y_2_bar"), family("x"), family("_t3_1")
    (('y', '_bar', 2), ('x', '', 0), ('_t3', '', 1))
    """
    found = _FAMILIES.get(name)
    if found is None:
        base, version, suffix = _VERSIONED.match(name).groups()
        found = _remember(_FAMILIES, name, (base, suffix, int(version or 0)))
    return found


# the answers of ``family``, ``is_temp`` and ``is_temp_value`` by name: the optimizer asks them of every name
# in every round (issue #14: a fifth of folding and fusing was matching the same names' patterns again)
_FAMILIES, _TEMPS, _TEMP_VALUES = {}, {}, {}
_REMEMBERED = 1 << 16  # names per table, emptied when full (a long-running process compiles many functions)
_DOT = DOT.format("")


def _remember(table, name, answer):
    if len(table) >= _REMEMBERED:
        table.clear()
    table[name] = answer
    return answer


def bar(name):
    return BAR.format(name)


class Namer:
    """Hands out fresh names that collide with nothing already taken."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.counters = {}

    def reserve(self, name):
        self.taken.add(name)
        return name

    def fresh(self, fmt, *prefix):
        """Next unused name of the form ``fmt.format(*prefix, k)`` (k = 1, 2, ...)."""
        key = (fmt,) + prefix
        k = self.counters.get(key, 0)
        while True:
            k += 1
            name = fmt.format(*(prefix + (k,)))
            if name not in self.taken and not keyword.iskeyword(name):
                self.counters[key] = k
                self.taken.add(name)
                return name

    def unique(self, name):
        """``name`` itself if free, else the next free ``name_<k>``."""
        if name not in self.taken:
            self.taken.add(name)
            return name
        return self.fresh(VERSION, name)


class LazyNamer(Namer):
    """A ``Namer`` whose taken names, ``names()`` (a walk of a tree that stays as it is), are found when a fresh
    name is first asked for: a pass that most often makes none (``jumps``, ``ssa`` on straight-line code) saves
    the walk. What is reserved before then is taken as well."""

    def __init__(self, names):
        self._names, self._taken, self._reserved = names, None, set()
        self.counters = {}

    @property
    def taken(self):
        if self._taken is None:
            self._taken = set(self._names()) | self._reserved
        return self._taken

    def reserve(self, name):
        (self._reserved if self._taken is None else self._taken).add(name)
        return name
