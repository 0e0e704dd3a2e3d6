"""Adjoint rules as templates: parse a rule's source once, instantiate it with fresh names.

A rule ``def tanh_adjoint(g, ans, x): return g * (1 - ans * ans)`` becomes,
for the statement ``h = np.tanh(a)``, the expression ``h_bar * (1 - h * h)``:
parameters are replaced by the statement's operands, locals by fresh
temporaries, and the module names the rule uses (``np``, ``math``, runtime
helpers) are recorded so that the emitted module imports them.
"""
import builtins
import inspect
import textwrap
import types

import gast

from adjoint_compiler import naming, runtime, trees
from adjoint_compiler.errors import InternalError

_CACHE = {}


class Template:
    def __init__(self, rule):
        self.rule = rule
        try:
            text = textwrap.dedent(inspect.getsource(rule.rule))
        except (OSError, TypeError) as e:
            raise InternalError("cannot read the source of rule %s: %s" % (rule.rule.__name__, e))
        fn = gast.parse(text).body[0]
        params = [a.id for a in fn.args.args]
        self.g, self.ans = params[0], params[1]
        self.params = params[2:]
        defaults = fn.args.defaults
        self.defaults = dict(zip(self.params[len(self.params) - len(defaults):], defaults))
        *self.body, ret = fn.body
        if not isinstance(ret, gast.Return) or not all(isinstance(s, gast.Assign) for s in self.body):
            raise InternalError("rule %s is not a straight-line body ending in return" % rule.rule.__name__)
        self.results = ret.value.elts if isinstance(ret.value, gast.Tuple) and len(self.params) > 1 else [ret.value]
        if len(self.results) != len(self.params):
            raise InternalError("rule %s returns %d cotangents for %d parameters"
                                % (rule.rule.__name__, len(self.results), len(self.params)))
        self.locals = {s.targets[0].id for s in self.body}
        self.globals = {}  # name in the rule -> module or runtime helper it refers to
        known = set(params) | self.locals
        for node in (n for stmt in fn.body for n in gast.walk(stmt)):
            if isinstance(node, gast.Name) and node.id not in known:
                if node.id not in rule.rule.__globals__ and hasattr(builtins, node.id):
                    continue  # len, range, ...: every module has them
                value = rule.rule.__globals__.get(node.id)
                if not (isinstance(value, types.ModuleType) or getattr(runtime, node.id, None) is value):
                    raise InternalError("rule %s uses '%s', which is neither a module nor a runtime helper"
                                        % (rule.rule.__name__, node.id))
                self.globals[node.id] = value


def template(rule):
    t = _CACHE.get(rule.rule)
    if t is None:
        t = _CACHE[rule.rule] = Template(rule)
    return t


def _substitute(node, mapping):
    node = trees.clone(node)
    if isinstance(node, gast.Name) and node.id in mapping:
        return trees.clone(mapping[node.id])
    for parent in gast.walk(node):
        for field, value in gast.iter_fields(parent):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, gast.Name) and item.id in mapping:
                        value[i] = trees.clone(mapping[item.id])
            elif isinstance(value, gast.Name) and value.id in mapping:
                setattr(parent, field, trees.clone(mapping[value.id]))
    return node


def _strip_unbroadcast(node):
    """``unbroadcast(c, like)`` -> ``c``; used where both sides are known scalars."""
    def strip(n):
        if (isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "unbroadcast"):
            return strip(n.args[0])
        for field, value in gast.iter_fields(n):
            if isinstance(value, list):
                value[:] = [strip(v) if isinstance(v, gast.AST) else v for v in value]
            elif isinstance(value, gast.AST):
                setattr(n, field, strip(value))
        return n
    return strip(node)


class TooManyArguments(Exception):
    """A call passes more arguments than the rule has parameters (``max(a, b, c)`` for a two-argument rule)."""


def bind(t, args, kwargs):
    """Map the rule's parameters to call operands (atoms); missing ones take the rule's defaults."""
    mapping = {}
    if len(args) > len(t.params):
        raise TooManyArguments(len(args), len(t.params))
    for p, a in zip(t.params, args):
        mapping[p] = a
    for k, v in kwargs.items():
        if k not in t.params:
            raise KeyError(k)
        mapping[k] = v
    for p in t.params:
        if p not in mapping:
            if p not in t.defaults:
                raise KeyError(p)
            mapping[p] = t.defaults[p]
    return mapping


def instantiate(t, g, ans, args, kwargs, namer, scalar=False):
    """Return (statements, [(operand, cotangent expression)]) for one use of a rule.

    Only operands passed by the call appear in the list, and only those whose
    cotangent is not ``None``; ``scalar`` drops ``unbroadcast`` calls.
    """
    mapping = bind(t, args, kwargs)
    operands = [(p, mapping[p]) for p in t.params if p in kwargs or t.params.index(p) < len(args)]
    mapping[t.g] = g
    mapping[t.ans] = ans
    for local in sorted(t.locals):
        mapping[local] = gast.Name(id=namer.fresh(naming.TEMP), ctx=gast.Load(), annotation=None, type_comment=None)
    finish = _strip_unbroadcast if scalar else (lambda e: e)
    stmts = []
    for s in t.body:
        target = mapping[s.targets[0].id].id
        stmts.append(gast.Assign(targets=[gast.Name(id=target, ctx=gast.Store(), annotation=None, type_comment=None)],
                                 value=finish(_substitute(s.value, mapping)), type_comment=None))
    results = []
    for p, operand in operands:
        r = t.results[t.params.index(p)]
        if not (isinstance(r, gast.Constant) and r.value is None):
            results.append((operand, finish(_substitute(r, mapping))))
    return stmts, results
