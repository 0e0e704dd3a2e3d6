"""The straight-line programs of ``gen_scalar`` over NumPy arrays.

Parameters are arrays of shape (3,), ``np.*`` replaces ``math.*``
(``np.minimum``/``np.maximum`` for min/max), and the result is reduced with
``np.sum`` (twice as often) or ``np.mean``.

With arrays ``t += e`` updates the array in place, so it also changes every
other name bound to that array, and the caller's argument when ``t`` is still
a parameter. Such augmented assignments are written ``t = t op e`` here
(``finish``); in-place updates through aliases have their own property
(``test_numpy.py::test_augmented_assignment_through_an_alias``) and the
in-place generator.
"""

import itertools

import numpy as np

from tests.fuzz import oracle
from tests.fuzz.gen_scalar import NP_LIB, gen_body, point_value
from tests.fuzz.model import Case, Function, Program, bin_, call, var

NAME = "numpy"
SPEC = oracle.Spec(single_wrt=True, scalar_vjp=True, same_rtol=1e-12)


def _aliased_augments(params, stmts):
    """Indices of augmented assignments whose target may share its object with another name.

    Tracked statically: every name holds an object token; ``a = b`` shares
    ``b``'s token, any other expression makes a fresh one, and parameters hold
    their caller's (shared) token.
    """
    fresh = itertools.count()
    env = {p: ("arg", p) for p in params}
    external = set(env.values())
    hazards = set()

    def token(e):
        return env.get(e[1], ("new", next(fresh))) if e[0] == "var" else ("new", next(fresh))

    for i, s in enumerate(stmts):
        if s[0] == "assign" and "," in s[1]:
            a, b = [t.strip() for t in s[1].split(",")]
            ta, tb = token(s[2][1]), token(s[2][2])
            env[a], env[b] = ta, tb
        elif s[0] == "assign":
            env[s[1]] = token(s[2])
        elif s[0] == "aug":
            t = env.get(s[1])
            if t in external or any(n != s[1] and v == t for n, v in env.items()):
                hazards.add(i)
                env[s[1]] = ("new", next(fresh))  # rendered as t = t op e
    return hazards


def finish(program):
    """Spell aliased augmented assignments ``t = t op e`` (see the module docstring)."""
    main = program.main
    hazards = _aliased_augments(main.params, main.body)
    if not hazards:
        return program
    body = [("assign", s[1], bin_(s[2][:-1], var(s[1]), s[3])) if i in hazards else s for i, s in enumerate(main.body)]
    return program.replace(main=main.replace(body=body))


def generate(c):
    params, stmts, ret = gen_body(c, NP_LIB)
    args = tuple(np.array([point_value(c) for _ in range(3)]) for _ in params)
    reduce = c.choice(("np.sum", "np.sum", "np.mean"))
    program = Program(Function("f", params, stmts, call(reduce, ret)))
    return Case(finish(program), args)
