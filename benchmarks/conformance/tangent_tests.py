"""Differentiate every function of Tangent's test corpus with adjoint_compiler, and count.

    python benchmarks/conformance/tangent_tests.py                  # reverse mode, Tangent's inputs
    python benchmarks/conformance/tangent_tests.py --modes rev,fwd --short

Tangent (google/tangent) tests itself on ``tests/functions.py``, a corpus of small functions; its
PyPI source distributions do not ship the tests, so the file is fetched once from GitHub into the
cache directory (``--corpus PATH`` uses a copy you have). The corpus imports ``tangent`` and
``tensorflow``: both are replaced by stubs, and a function that uses either (TensorFlow's ``tfe_*``
functions, ``tangent.Stack``/``push``/``pop``, ``insert_grad_of``, ``@tangent.trace``) is
Tangent-specific and not counted.

Inputs follow Tangent's tests/conftest.py: parameters named ``a``, ``b``, ``c`` take every scalar of
``-2, -1.5, -1, -0.5, -0.1, 0.1, 0.5, 1, 1.5, 2`` (all combinations), ``n`` takes 1, 2, 3, ``x`` a
random vector of 3, 5 and 10 elements; the functions Tangent tests by hand (logistic_regression, rnn,
bilinear, dict/tuple parameters) get its test_reverse_mode.py inputs. The gradient is taken with
respect to every float parameter (``ac.value_and_grad``; ``ac.vjp`` with a random cotangent when the
function returns a tuple; ``ac.jvp`` in a random direction for ``fwd``) and compared with central
differences and, where autograd runs the function (its NumPy swapped into the module, as Tangent's
tests do), with autograd: it must agree with one of them at every input, give the original's value
and leave the arguments as the original leaves them.

Each function ends in one of: pass; refused (a located CompileError/UnsupportedError); WRONG (a
derivative or value that disagrees with every reference: the number that must stay 0); crash (any
other exception, or a refusal without a location); original fails (the function itself raises at
Tangent's inputs, e.g. ``cart2polar`` calls ``np.arctan(b, a)`` with ``a`` as ``out``).
Exit status 1 if anything is WRONG or crashes.
"""

import argparse
import collections
import copy
import hashlib
import inspect
import itertools
import os
import re
import sys
import traceback
import types
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import adjoint_compiler as ac  # noqa: E402

URL = "https://raw.githubusercontent.com/google/tangent/master/tests/functions.py"
SCALARS = [-2.0, -1.5, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 1.5, 2.0]
INTEGERS = [1, 2, 3]
TANGENT_SPECIFIC = {"tf", "tangent", "insert_grad_of"}
LOCATED = re.compile(r"\.py:\d+:\d+: error: ")


def fetch(cache, corpus):
    if corpus:
        return corpus
    path = os.path.join(cache, "tangent-tests", "functions.py")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with urllib.request.urlopen(URL, timeout=60) as response:
            data = response.read()
        with open(path, "wb") as out:
            out.write(data)
    return path


def stub_modules():
    """``tangent`` and ``tensorflow`` as empty modules with the names the corpus reads at import."""
    tangent = types.ModuleType("tangent")

    def trace(fn):
        return fn

    def unavailable(*args, **kwargs):
        raise RuntimeError("Tangent's runtime is not available here")

    tangent.trace = trace
    tangent.insert_grad_of = tangent.Stack = tangent.push = tangent.pop = unavailable
    tensorflow = types.ModuleType("tensorflow")
    return {"tangent": tangent, "tensorflow": tensorflow}


def load(path, name, numpy_module):
    """The corpus as a module named ``name`` whose ``np`` is ``numpy_module`` (NumPy or autograd's)."""
    saved = {k: sys.modules.get(k) for k in ("tangent", "tensorflow")}
    sys.modules.update(stub_modules())
    try:
        with open(path) as f:
            source = f.read()
        module = types.ModuleType(name)
        module.__file__ = path
        sys.modules[name] = module
        exec(compile(source, path, "exec"), module.__dict__)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    module.np = numpy_module
    return module


def global_names(fn, module, seen=None):
    """The module-level names ``fn`` reads, through the corpus functions it calls and defines."""
    seen = set() if seen is None else seen
    names = set()
    codes = [fn.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    for name in list(names):
        callee = module.__dict__.get(name)
        if isinstance(callee, types.FunctionType) and name not in seen:
            seen.add(name)
            names |= global_names(callee, module, seen)
    return names


def corpus_functions(module):
    return [
        f
        for f in module.__dict__.values()
        if isinstance(f, types.FunctionType) and f.__module__ == module.__name__ and not f.__name__.startswith("_")
    ]


def tuple3(values):
    return [tuple(v) for v in values]


def inputs(fn, short, rng):
    """The argument tuples Tangent's tests use for ``fn`` (None: a signature its tests never fill)."""
    name = fn.__name__
    scalars = [2.0] if short else SCALARS
    integers = [1] if short else INTEGERS
    vectors = [rng.standard_normal(k) for k in ((3,) if short else (3, 5, 10))]
    triples = list(itertools.product(scalars, repeat=3))
    if name == "logistic_regression":
        label = np.zeros(5)
        label[1] = 1
        return [(rng.random(3), label, rng.standard_normal((3, 5)), rng.standard_normal(5))]
    if name == "rnn":
        return [(rng.standard_normal((3, 2)), rng.standard_normal((2, 3)))]
    if name == "bilinear":
        d = 3
        return [tuple(rng.standard_normal(s) for s in ((1, d), (1, d), (d, d), (d, d), (1, d)))]
    if name == "dict_saxpy":
        return [(dict(a=a, b=b, c=c),) for a, b, c in triples]
    if name == "nested_dict":
        return [(dict(i=dict(j=3.0, k=4.0)),)]
    if name in ("unpacking_args_saxpy", "dict_wrapper", "passthru_unpack"):
        return [(t,) for t in triples]
    if name == "passthru_pack":
        return [t + (i,) for t in triples[:10] for i in range(3)]
    if name == "listcomp":  # Tangent's conftest would pass a scalar ``a``; the function iterates it
        return [(v,) for v in vectors]
    params = list(inspect.signature(fn).parameters)
    pools = []
    for p in params:
        if p in ("a", "b", "c"):
            pools.append(scalars)
        elif p == "n":
            pools.append(integers)
        elif p == "x":
            pools.append(vectors)
        else:
            return None
    return list(itertools.product(*pools))


def is_float_arg(v):
    if isinstance(v, (bool, int, np.integer)):
        return False
    if isinstance(v, (tuple, list)):
        return all(is_float_arg(e) for e in v)
    if isinstance(v, dict):
        return all(is_float_arg(e) for e in v.values())
    return isinstance(v, (float, np.floating)) or (isinstance(v, np.ndarray) and v.dtype.kind == "f")


def flatten(v):
    if isinstance(v, (tuple, list)):
        return np.concatenate([flatten(e) for e in v]) if len(v) else np.zeros(0)
    if isinstance(v, dict):
        return np.concatenate([flatten(v[k]) for k in sorted(v)]) if v else np.zeros(0)
    return np.ravel(np.asarray(v, dtype=float))


def unflatten(flat, like):
    """``flat`` in the structure of ``like``, and how many numbers it took (no copies, no float():
    autograd's boxes pass through)."""
    if isinstance(like, (tuple, list)):
        out, k = [], 0
        for e in like:
            part, n = unflatten(flat[k:], e)
            out.append(part)
            k += n
        return type(like)(out), k
    if isinstance(like, dict):
        out, k = {}, 0
        for key in sorted(like):
            out[key], n = unflatten(flat[k:], like[key])
            k += n
        return {key: out[key] for key in like}, k
    if isinstance(like, np.ndarray):
        return np.reshape(flat[: like.size], like.shape), like.size
    return flat[0], 1


def has_complex(v):
    if isinstance(v, (tuple, list)):
        return any(has_complex(e) for e in v)
    if isinstance(v, dict):
        return any(has_complex(e) for e in v.values())
    return bool(np.iscomplexobj(v))


def same(a, b, rtol=1e-5, atol=1e-7):
    a, b = flatten(a), flatten(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def scalar_output(y):
    return np.ndim(y) == 0 and not isinstance(y, (tuple, list, dict))


def project(fn, args, wrt, cot, numpy=np):
    """A scalar function of the flat wrt values: <cot, fn(args)> (fn's own output when cot is None)."""
    flat0 = flatten([args[i] for i in wrt])

    def h(flat):
        new = list(copy.deepcopy(args))
        k = 0
        for i in wrt:
            part, n = unflatten(flat[k:], args[i])
            new[i] = part.copy() if isinstance(part, np.ndarray) else part  # the function may write into it
            k += n
        y = fn(*new)
        if cot is None:
            return y
        outs = y if isinstance(y, (tuple, list)) else (y,)
        cots = cot if isinstance(cot, (tuple, list)) else (cot,)
        return sum(numpy.sum(numpy.asarray(o) * c) for o, c in zip(outs, cots))

    return h, flat0


def differences(fn, args, wrt, cot):
    h, flat0 = project(fn, args, wrt, cot)
    grad = np.zeros_like(flat0)
    for d in range(flat0.size):
        step = 1e-6 * max(1.0, abs(flat0[d]))
        up, down = flat0.copy(), flat0.copy()
        up[d] += step
        down[d] -= step
        grad[d] = (float(h(up)) - float(h(down))) / (2 * step)
    return grad


def autograd_reference(ag_fn, args, wrt, cot):
    """The flat gradient by autograd on the corpus with autograd's NumPy, or None if it cannot."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    h, flat0 = project(ag_fn, args, wrt, cot, anp)
    try:
        return np.asarray(autograd.grad(h)(flat0), dtype=float)
    except Exception:
        return None


def check_point(fn, ag_fn, args, mode, rng):
    """None when our derivative at ``args`` agrees with a reference, else a description."""
    wrt = tuple(i for i, v in enumerate(args) if is_float_arg(v))
    expected_args = copy.deepcopy(args)
    value = fn(*expected_args)  # the original's value, and its effect on the arguments
    if has_complex(value):  # Python's float ** float of a negative base
        return "complex"
    ours_args = copy.deepcopy(args)
    cot = None if scalar_output(value) else unflatten(rng.standard_normal(flatten(value).size), value)[0]
    if mode == "fwd":
        direction = tuple(unflatten(rng.standard_normal(flatten(args[i]).size), args[i])[0] for i in wrt)
        tangent = direction[0] if len(wrt) == 1 else direction
        got_value, tangent_out = ac.jvp(fn, wrt=wrt if len(wrt) > 1 else wrt[0])(*ours_args, tangent)
        ours = np.array([float(np.sum(flatten(tangent_out) * (flatten(cot) if cot is not None else 1.0)))])
        fd = np.array([np.dot(differences(fn, args, wrt, cot), flatten(direction))])
        ag = autograd_reference(ag_fn, args, wrt, cot)
        ag = None if ag is None else np.array([np.dot(ag, flatten(direction))])
    else:
        if cot is None:
            got_value, grads = ac.value_and_grad(fn, wrt=wrt)(*ours_args)
        else:
            got_value, pullback = ac.vjp(fn, wrt=wrt)(*ours_args)
            grads = pullback(cot)
        for g, i in zip(grads, wrt):
            if type(g) is not type(args[i]) and not (isinstance(args[i], float) and np.ndim(g) == 0):
                return "gradient of %r is a %s, argument a %s" % (i, type(g).__name__, type(args[i]).__name__)
        ours = flatten(grads)
        fd = differences(fn, args, wrt, cot)
        ag = autograd_reference(ag_fn, args, wrt, cot)
    if not same(got_value, value):
        return "value %r, original %r" % (got_value, value)
    if not same(ours_args, expected_args):
        return "arguments left as %r, the original leaves %r" % (ours_args, expected_args)
    if same(ours, fd, rtol=1e-4, atol=1e-5) or (ag is not None and same(ours, ag)):
        return None
    return "derivative %s, differences %s, autograd %s" % (ours, fd, ag)


def run_function(fn, ag_fn, points, modes, rng):
    """(category, detail) for one corpus function over all its input points and modes."""
    for args in points:
        try:
            fn(*copy.deepcopy(args))
        except Exception as e:
            return "original fails", "%s: %s" % (type(e).__name__, e)
    skipped = 0
    for mode in modes:
        for args in points:
            try:
                problem = check_point(fn, ag_fn, args, mode, rng)
            except (ac.CompileError, NotImplementedError) as e:
                message = str(e).splitlines()[0]
                if isinstance(e, ac.CompileError) and LOCATED.search(message):
                    return "refused", "%s: %s" % (mode, message)
                return "crash", "%s: unlocated %s: %s" % (mode, type(e).__name__, message)
            except Exception as e:
                last = traceback.extract_tb(e.__traceback__)[-1]
                where = "%s:%d" % (os.path.basename(last.filename), last.lineno)
                return "crash", "%s: %s: %s (at %s)" % (mode, type(e).__name__, str(e).splitlines()[0:1], where)
            if problem == "complex":
                skipped += 1
            elif problem:
                return "WRONG", "%s at %r: %s" % (mode, args, problem)
    if skipped == len(points) * len(modes):
        return "original fails", "complex values at every input"
    if skipped:
        skipped //= len(modes)
        return "pass", "(%d of %d inputs skipped: the original's value is complex)" % (skipped, len(points))
    return "pass", ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=None, help="a local copy of Tangent's tests/functions.py")
    parser.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "adjoint_compiler"))
    parser.add_argument("--modes", default="rev", help="rev, fwd or rev,fwd (default rev)")
    parser.add_argument("--short", action="store_true", help="one input per parameter (Tangent's --short)")
    parser.add_argument("--show", default="WRONG,crash,refused,original fails", help="categories listed")
    parser.add_argument("-k", default=None, help="only functions whose name contains this")
    args = parser.parse_args(argv)
    path = fetch(args.cache, args.corpus)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    module = load(path, "tangent_corpus", np)
    try:
        import autograd.numpy as anp
    except ImportError:
        anp = np
    ag_module = load(path, "tangent_corpus_autograd", anp)
    modes = args.modes.split(",")
    rng = np.random.default_rng(0)
    counts, rows = collections.Counter(), collections.defaultdict(list)
    for fn in corpus_functions(module):
        name = fn.__name__
        if args.k and args.k not in name:
            continue
        specific = global_names(fn, module) & TANGENT_SPECIFIC
        points = inputs(fn, args.short, rng)
        if specific:
            kind, detail = "Tangent-specific", "uses " + ", ".join(sorted(specific))
        elif points is None:
            kind, detail = "crash", "no inputs known for this signature"
        else:
            kind, detail = run_function(fn, getattr(ag_module, name), points, modes, rng)
        counts[kind] += 1
        rows[kind].append("%s  %s" % (name, detail))
    counted = sum(n for k, n in counts.items() if k not in ("Tangent-specific", "original fails"))
    print("Tangent's tests/functions.py (sha256 %s; modes %s): %d counted" % (digest, args.modes, counted))
    for kind in ("pass", "refused", "WRONG", "crash", "original fails", "Tangent-specific"):
        share = " (%.0f%%)" % (100.0 * counts[kind] / counted) if counted and kind in ("pass", "refused") else ""
        print("  %-17s %4d%s" % (kind, counts[kind], share))
    for kind in args.show.split(","):
        for row in rows.get(kind, []):
            print("%s: %s" % (kind, row))
    return 1 if counts["WRONG"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
