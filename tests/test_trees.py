"""trees.quote: snippets with holes give what parsing the written-out code gives, in fresh nodes."""

import gast
import pytest

from adjoint_compiler import emit, trees
from adjoint_compiler.errors import InternalError


def _same_as_parsed(nodes, text):
    parsed = gast.parse(text).body
    return [gast.dump(n) for n in nodes] == [gast.dump(n) for n in parsed]


def test_holes_are_filled_as_the_parser_would_write_them():
    out = trees.quote(
        "(bars,) = checkpoint_reverse(step, (bars,), k)\nfor t in it:\n    body",
        bars=["a_bar", "b_bar"],
        step="_step1",
        k=trees.const(None),
        t=trees.quote_expr("(i, (y, z))", i="i", y="y", z="z"),  # made assigned, elements included
        it=trees.call("reversed", trees.name("_tape1")),
        body=trees.quote("y_bar = y_bar * z"),
    )
    written = "(a_bar, b_bar) = checkpoint_reverse(_step1, (a_bar, b_bar), None)\n"
    written += "for (i, (y, z)) in reversed(_tape1):\n    y_bar = y_bar * z"
    assert _same_as_parsed(out, written)


def test_a_def_takes_its_name_and_parameters_from_holes():
    (fn,) = trees.quote("def f(params):\n    pass", f="g", params=["a", "b"])
    assert _same_as_parsed([fn], "def g(a, b):\n    pass")
    assert all(isinstance(a.ctx, gast.Param) for a in fn.args.args)


def test_nodes_are_copied_lists_spliced_and_the_snippet_cache_is_not_shared():
    x = trees.name("x")
    body = [trees.assign("y", trees.name("x"))]
    first = trees.quote("if c:\n    body\nz = x", c=x, body=body, x=x)
    assert first[0].test is not x and first[1].value is not x and first[0].body[0] is body[0]
    first[1].targets[0].id = "changed"
    again = trees.quote("if c:\n    body\nz = x", c="c", body=[], x="x")
    assert emit.to_source(again[1]).strip() == "z = x"


def test_a_statement_hole_takes_one_statement():
    stmt = trees.assign("a", trees.const(1))
    out = trees.quote("s\nreturn a", s=stmt)
    assert _same_as_parsed(out, "a = 1\nreturn a") and out[0] is not stmt


def test_misuse_is_an_internal_error():
    with pytest.raises(InternalError):
        trees.quote("y = x", x=[trees.name("a")])  # a list needs a place in a list
    body = [trees.assign("y", trees.const(0))]
    with pytest.raises(InternalError):
        trees.quote("if c:\n    body\nelse:\n    body", c="c", body=body)  # the same nodes in two places
    with pytest.raises(InternalError):
        trees.quote("y = x", x=3)


def test_fast_translators_match_gasts():
    """trees.to_gast / trees.to_ast (issue #14) build the same trees, locations included, as gast's own
    ast_to_gast / gast_to_ast, over every source file of the package (every construct it is written in)."""
    import ast
    import glob
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = sorted(glob.glob(os.path.join(root, "adjoint_compiler", "**", "*.py"), recursive=True))
    assert len(files) > 50
    seen = set()
    for path in files:
        with open(path) as fh:
            parsed = ast.parse(fh.read())
        kinds = {type(n).__name__ for n in ast.walk(parsed)}
        if kinds <= seen:  # (a file with no kind of node the others had: all of them took 26 s)
            continue
        seen |= kinds
        expected, got = gast.ast_to_gast(parsed), trees.to_gast(parsed)
        assert gast.dump(got, include_attributes=True) == gast.dump(expected, include_attributes=True), path
        back, fast = gast.gast_to_ast(expected), trees.to_ast(expected)
        assert ast.dump(fast, include_attributes=True) == ast.dump(back, include_attributes=True), path


@pytest.mark.parametrize(
    "corpus, least",
    # the tests' sources (twice the package's) only on the main interpreter, with the fuzzers: .ci/run's other
    # Pythons check the printer on the package's sources and the constructs below
    [("adjoint_compiler", 150000), pytest.param("tests", 100000, marks=pytest.mark.slow)],
)
def test_gast_printer_matches_the_standard_librarys_on_converted_trees(corpus, least):
    """trees.unparse_gast (issue #14: emit prints the gast tree without converting it) writes what the standard
    library's printer writes of the converted tree, for each module, statement and expression of the
    package's and the tests' sources, and for the constructs whose printing tests a node's class."""
    import ast
    import glob
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pattern = os.path.join(root, "adjoint_compiler", "**", "*.py") if corpus == "adjoint_compiler" else None
    files = sorted(glob.glob(pattern or os.path.join(root, "tests", "*.py"), recursive=True))
    assert len(files) > 50
    texts = [open(path).read() for path in files]
    texts.append(
        'def f(x, *a, k=1, **kw):\n    """doc"""\n    if x:\n        pass\n    elif a:\n        y = 1 .real\n'
        "    else:\n        try:\n            z: int = a[(1, *a)]\n        except (ValueError, E) as e:\n"
        "            raise\n    return f'{x!r:>{k}}' + a[1:2, ::3][()] + (lambda q=2: q)()\n"
    )
    count, seen = 0, set()
    for text in texts:
        tree = trees.to_gast(ast.parse(text))
        # the whole module (every statement and expression in its context), and an expression on its own once
        # per class and parent's class (its parentheses at the root): each one on its own made this quadratic
        assert trees.unparse_gast(tree) == trees.unparse(trees.to_ast(tree))
        for parent in gast.walk(tree):
            for node in gast.iter_child_nodes(parent):
                if isinstance(node, gast.expr) and (type(node), type(parent)) not in seen:
                    seen.add((type(node), type(parent)))
                    assert trees.unparse_gast(node) == trees.unparse(trees.to_ast(node)), trees.unparse(
                        trees.to_ast(node)
                    )
                count += 1
    assert count > least
