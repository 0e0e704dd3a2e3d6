"""The documentation stays true: the generated constructs page is the one committed, and the runnable
code blocks of the pages (```python; ```{.py} blocks are shown, not run) run.

The site itself is built separately (``pip install -e '.[docs]' && mkdocs build --strict``); these
tests need neither MkDocs nor a network.
"""

import importlib.util
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# ```python blocks run; ```{.py} blocks (emitted code, command output) are shown only: highlighted as
# Python, but neither run nor reformatted by ruff, so they stay as the compiler prints them
RUNNABLE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_constructs", DOCS / "gen_constructs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_constructs_page_is_generated_from_the_table():
    generated = _generator().generate()
    committed = (DOCS / "constructs.md").read_text()
    assert committed == generated, "docs/constructs.md is out of date: run python docs/gen_constructs.py"


def test_constructs_page_lists_every_entry():
    gen = _generator()
    constructs, _ = gen.read_table()
    page = gen.generate()
    for category, construct, status, _, _ in constructs:
        assert "| %s | %s | %s" % (category, construct.replace("|", "\\|"), status) in page, construct


def test_the_tutorial_has_runnable_blocks():
    assert len(RUNNABLE.findall((DOCS / "tutorial.md").read_text())) > 10


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md") if RUNNABLE.search(p.read_text())))
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    """A page's ```python blocks run in order, as one module (a file, so the compiler can read the
    functions' source), from the repository root."""
    blocks = RUNNABLE.findall((DOCS / page).read_text())
    script = tmp_path / (page[: -len(".md")].replace("-", "_") + "_blocks.py")
    script.write_text("\n\n".join(blocks))
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(script), run_name=script.stem)


def test_every_image_a_page_shows_exists():
    """`mkdocs build --strict` aborts on a missing image: the figures (placeholders until
    docs/make_figures.py can draw them) must stay committed."""
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text()):
            assert (DOCS / target).is_file(), "%s shows %s, which is missing" % (page.name, target)
