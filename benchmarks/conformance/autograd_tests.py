"""Run autograd's own test files with every derivative taken by adjoint_compiler, and count.

    python benchmarks/conformance/autograd_tests.py                 # NumPy files, reverse mode
    python benchmarks/conformance/autograd_tests.py --scipy --containers --modes rev,fwd

autograd's source distribution (its tests are in it) is fetched with pip into a cache directory once.
The shim (shim/autograd) replaces autograd: ``autograd.numpy`` is NumPy itself, ``grad`` is ``ac.grad``
and ``check_grads``/``combo_check`` compare adjoint_compiler's vjp (and jvp) at first order with
central differences, in random directions, at autograd's tolerances. Each test ends in one of:
pass; refused (a CompileError/UnsupportedError: a function or construct without support, located, or a
NotImplementedError when the gradient runs);
complex (a TypeError on complex values: forward mode of them, complex values made from real ones);
WRONG (a derivative that differs from the differences: the number that must stay 0); other (any other
exception). Exit status 1 if anything is WRONG.
"""

import argparse
import collections
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NUMPY_FILES = [
    "test_numpy.py",
    "test_systematic.py",
    "test_linalg.py",
    "test_scalar_ops.py",
    "test_binary_ops.py",
    "test_fft.py",
]
SCIPY_FILES = ["test_scipy.py"]
CONTAINER_FILES = ["test_builtins.py", "test_list.py", "test_tuple.py", "test_dict.py", "test_truediv.py"]
# tests of autograd itself, not of a derivative: not counted
NOT_APPLICABLE = {
    "test_numpy::test_make_diagonal": "np.make_diagonal is autograd's own function",
    "test_numpy::test_diagonal": "uses np.make_diagonal, autograd's own function",
    "test_numpy::test_scalar_array_box_attributes": "autograd's box attributes on a Python float",
    "test_linalg::test_pinv": "uses np.linalg._dot, autograd's own function",
    "test_builtins::test_isinstance": "autograd's isinstance of boxes",
    "test_tuple::test_isinstance": "autograd's isinstance of boxes",
    "test_list::test_isinstance": "autograd's isinstance of boxes",
    "test_dict::test_isinstance": "autograd's isinstance of boxes",
    "test_fft::test_rfftn_odd_not_implemented": "autograd's NotImplementedError at an odd length: ours differentiates",
}


def fetch(cache, version):
    os.makedirs(cache, exist_ok=True)
    found = sorted(glob.glob(os.path.join(cache, "autograd-%s*.tar.gz" % (version or ""))))
    if not found:
        spec = "autograd==%s" % version if version else "autograd"
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", spec, "-d", cache]
        subprocess.run(cmd, check=True)
        found = sorted(glob.glob(os.path.join(cache, "autograd-*.tar.gz")))
    return found[-1]


def extract_tests(sdist, into):
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if "/tests/" in member.name and member.name.endswith(".py"):
                member.name = os.path.basename(member.name)
                tar.extract(member, into)


def categorize(xml_path):
    counts, rows = collections.Counter(), collections.defaultdict(list)
    for case in ET.parse(xml_path).iter("testcase"):
        key = "%s::%s" % (case.get("classname").split(".")[-1], case.get("name"))
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if key in NOT_APPLICABLE:
            kind = "not applicable"
        elif problem is None:
            kind = "skipped" if case.find("skipped") is not None else "pass"
        else:
            message = (problem.get("message") or "").splitlines()[0] if problem.get("message") else ""
            if message.startswith("AssertionError") and (" of " in message):
                kind = "WRONG"
            elif "CompileError" in message or "UnsupportedError" in message or "NotImplementedError" in message:
                kind = "refused"  # (also a function whose rule holds for real values only, called on complex ones)
            elif "complex" in message:
                kind = "complex"
            else:
                kind = "other"
            rows[kind].append("%s  %s" % (key, message[:200]))
        counts[kind] += 1
    return counts, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scipy", action="store_true", help="also test_scipy.py (needs scipy)")
    parser.add_argument("--containers", action="store_true", help="also the list/tuple/dict/builtins files")
    parser.add_argument("--modes", default="rev", help="rev, fwd or rev,fwd (default rev)")
    parser.add_argument("--version", default=None, help="autograd version (default: the latest)")
    parser.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "adjoint_compiler"))
    parser.add_argument("--show", default="WRONG,other", help="categories whose tests are listed")
    parser.add_argument("-k", default=None, help="pytest -k expression")
    args = parser.parse_args(argv)
    files = NUMPY_FILES + (SCIPY_FILES if args.scipy else []) + (CONTAINER_FILES if args.containers else [])
    work = tempfile.mkdtemp(prefix="ac_autograd_tests_")
    try:
        extract_tests(fetch(args.cache, args.version), work)
        env = dict(os.environ, AG_MODES=args.modes, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(HERE, "shim"), ROOT, env.get("PYTHONPATH", "")])
        xml_path = os.path.join(work, "result.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore", "--rootdir", work]
        cmd += ["--junitxml", xml_path, "-o", "junit_family=xunit1"] + (["-k", args.k] if args.k else []) + files
        subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        counts, rows = categorize(xml_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counted = sum(n for k, n in counts.items() if k != "not applicable")
    print("autograd tests (%s; modes %s): %d counted" % (", ".join(files), args.modes, counted))
    for kind in ("pass", "refused", "complex", "WRONG", "other", "skipped", "not applicable"):
        share = " (%.0f%%)" % (100.0 * counts[kind] / counted) if counted and kind != "not applicable" else ""
        print("  %-15s %4d%s" % (kind, counts[kind], share))
    for kind in args.show.split(","):
        for row in rows.get(kind, []):
            print("%s: %s" % (kind, row))
    return 1 if counts["WRONG"] else 0


if __name__ == "__main__":
    sys.exit(main())
