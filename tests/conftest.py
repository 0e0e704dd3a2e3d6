import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=None,
        metavar="N",
        help="run every fuzz test (tests/fuzz) for N examples with random seeds; see tests/fuzz/README.md",
    )


def pytest_configure(config):
    examples = config.getoption("--fuzz-examples")
    if examples:
        from tests.fuzz import settings

        settings.configure(examples)
