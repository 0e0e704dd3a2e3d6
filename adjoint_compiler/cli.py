"""Command line: ``adjoint-compiler show FILE.py:FUNC`` and ``adjoint-compiler check FILE.py:FUNC --at x=1.5``."""

import argparse
import ast
import importlib.util
import inspect
import os
import sys

import gast
import numpy as np

from adjoint_compiler import api, emit, pipeline, testing
from adjoint_compiler.errors import CompileError


class UsageError(Exception):
    pass


def load_function(spec):
    """The function named by ``FILE.py:FUNC``, by running FILE.py as a module."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UsageError("expected FILE.py:FUNC, got %r" % spec)
    if not os.path.isfile(path):
        raise UsageError("no such file: %s" % path)
    module_name = "_adjoint_cli_" + os.path.splitext(os.path.basename(path))[0]
    mod_spec = importlib.util.spec_from_file_location(module_name, os.path.abspath(path))
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[module_name] = module
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        mod_spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    func = module
    for part in name.split("."):
        if not hasattr(func, part):
            raise UsageError("%s has no function %r" % (path, name))
        func = getattr(func, part)
    func = getattr(func, "__wrapped__", func)
    return func


def _wrt(func, text):
    if not text:
        params = list(func.__code__.co_varnames[: func.__code__.co_argcount])
        return tuple(params) if len(params) > 1 else params[0]
    names = tuple(w.strip() for w in text.split(",") if w.strip())
    return (
        tuple(int(w) if w.isdigit() else w for w in names)
        if len(names) > 1
        else (int(names[0]) if names[0].isdigit() else names[0])
    )


def _parse_at(func, text):
    params = list(func.__code__.co_varnames[: func.__code__.co_argcount])
    values = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError("--at expects name=value pairs, got %r" % item)
        key = key.strip()
        if key not in params:
            raise UsageError("%r is not a parameter of %s (parameters: %s)" % (key, func.__name__, ", ".join(params)))
        try:
            values[key] = ast.literal_eval(value.strip())  # 3 stays an int (a trip count), 1.5 a float
        except (ValueError, SyntaxError):
            raise UsageError("--at %s=%s is not a number" % (key, value))
        if not isinstance(values[key], (int, float)) or isinstance(values[key], bool):
            raise UsageError("--at %s=%s is not a number" % (key, value))
    missing = [p for p in params if p not in values]
    if missing:
        raise UsageError("--at gives no value for %s" % ", ".join(missing))
    return [values[p] for p in params]


def show(args):
    func = load_function(args.target)
    wrt = _wrt(func, args.wrt)
    if args.stage == "adjoint":
        print(api.adjoint_source(func, wrt).rstrip())
        return 0
    wrt_idx, _ = api.normalize_wrt(func, wrt)
    product = pipeline.compile(func, wrt_idx, stop_after=args.stage)
    if isinstance(product, gast.AST):
        product = emit.to_source(product)
    elif callable(product):  # the loaded function: show the module it came from
        product = inspect.getsource(inspect.getmodule(product) or product)
    print(str(product).rstrip())
    return 0


def _fmt(values):
    return ", ".join("%s=%.10g" % (k, v) for k, v in values)


def check(args):
    func = load_function(args.target)
    point = _parse_at(func, args.at)
    params = list(func.__code__.co_varnames[: func.__code__.co_argcount])
    wrt = _wrt(func, args.wrt) if args.wrt else tuple(p for p, v in zip(params, point) if isinstance(v, float))
    wrt_idx, _ = api.normalize_wrt(func, wrt if isinstance(wrt, tuple) else (wrt,))
    grads = api.grad(func, wrt_idx)(*point)
    numeric = [testing.numerical_grad(func, point, i) for i in wrt_idx]
    err = max(testing.relative_error(a, n) for a, n in zip(grads, numeric))
    names = [params[i] for i in wrt_idx]
    print("value:              %.10g" % func(*point))
    print("AD gradient:        %s" % _fmt(zip(names, grads)))
    print("central difference: %s" % _fmt(zip(names, numeric)))
    print("max relative error: %.3g (tolerance %.1g)" % (err, args.tol))
    stats = api.tape_stats(func, wrt_idx)(*point)
    print("tape:               %d values stored" % stats["total"])
    for loop in stats["loops"]:
        stored = "inside the enclosing loop's tape" if loop["values"] is None else "%d values" % loop["values"]
        print("  loop at line %d pushes %s per iteration: %s" % (loop["line"], ", ".join(loop["names"]), stored))
    if not np.isfinite(err) or err > args.tol:
        print("check FAILED", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="adjoint-compiler", description="Source-to-source reverse-mode automatic differentiation."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_show = sub.add_parser("show", help="print the emitted adjoint code (or the SSA form)")
    p_show.add_argument("target", metavar="FILE.py:FUNC")
    p_show.add_argument("--wrt", default=None, help="parameters, e.g. x,y (default: all)")
    p_show.add_argument(
        "--stage",
        choices=pipeline.STAGE_NAMES + ["adjoint"],
        default="adjoint",
        help="stop after this stage and print what it made (default: the emitted module)",
    )
    p_check = sub.add_parser("check", help="compare the AD gradient with central differences")
    p_check.add_argument("target", metavar="FILE.py:FUNC")
    p_check.add_argument("--at", required=True, help="the point, e.g. x=1.5,y=-2.0")
    p_check.add_argument("--wrt", default=None)
    p_check.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args(argv)
    try:
        return show(args) if args.command == "show" else check(args)
    except CompileError as e:
        print(e.format().splitlines()[0] if e.location is None else str(e), file=sys.stderr)
        return 1
    except UsageError as e:
        print("adjoint-compiler: error: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:  # the user's own code failed while running: report it, not our traceback
        print("adjoint-compiler: error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
