"""Load generated test programs from real files: the compiler reads source with ``inspect``."""
import importlib.util
import itertools
import os
import sys
import tempfile

_TMPDIR = None
_COUNTER = itertools.count()


def _tmpdir():
    global _TMPDIR
    if _TMPDIR is None:
        _TMPDIR = tempfile.TemporaryDirectory(prefix="ac_generated_")
    return _TMPDIR.name


def load_function(source, name="f"):
    """Write ``source`` to a fresh file, import it as a fresh module, return its ``name``."""
    modname = "ac_gen_%d_%d" % (os.getpid(), next(_COUNTER))
    path = os.path.join(_tmpdir(), modname + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return getattr(module, name)
