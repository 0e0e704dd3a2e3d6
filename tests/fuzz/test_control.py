"""Programs with control flow (gen_control) against central differences."""

import ast

from hypothesis import given

from tests.fuzz import gen_control
from tests.fuzz.model import RandomChooser
from tests.fuzz.settings import cases, check_case, fuzz_settings


def _features(source):
    """The control-flow constructs a program uses, by name."""
    found = set()

    def walk(node, loops):
        if isinstance(node, ast.If) and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            found.add("elif")
        if isinstance(node, ast.If) and node.orelse:
            found.add("if-else")
        if isinstance(node, ast.IfExp):
            found.add("conditional expression")
        if isinstance(node, ast.BoolOp):
            found.add("and/or")
        if isinstance(node, (ast.For, ast.While)):
            if node.orelse:
                found.add("loop else")
            if loops:
                found.add("nested loop")
        if isinstance(node, ast.While):
            found.add("while")
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
            name, args = node.iter.func.id, node.iter.args
            if name == "range" and any(not isinstance(x, ast.Constant) for x in args):
                found.add("range with runtime bounds")
            if name == "range" and len(args) == 3:
                found.add("range with step")
            found.add(name)
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            found.add("for over tuple")
        if isinstance(node, (ast.Break, ast.Continue)):
            found.add(type(node).__name__.lower())
        if isinstance(node, ast.Return) and loops:
            found.add("return in loop")
        if isinstance(node, ast.AugAssign):
            found.add("augmented assignment")
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            found.add("comprehension")
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            found.add("chained comparison")
        inner = loops + isinstance(node, (ast.For, ast.While))
        for child in ast.iter_child_nodes(node):
            walk(child, inner)

    walk(ast.parse(source), 0)
    return found


FEATURES = {
    "elif",
    "if-else",
    "conditional expression",
    "and/or",
    "loop else",
    "nested loop",
    "while",
    "range with runtime bounds",
    "range with step",
    "range",
    "enumerate",
    "zip",
    "for over tuple",
    "break",
    "continue",
    "return in loop",
    "augmented assignment",
    "comprehension",
    "chained comparison",
}


def test_generator_covers_the_constructs():
    """The generator produces every construct it claims to (on a fixed sample of 60); they all compile."""
    seen = set()
    for seed in range(60):
        source = gen_control.generate(RandomChooser(seed)).program.source()
        seen.update(_features(source))
        compile(source, "<generated>", "exec")
    assert not FEATURES - seen, FEATURES - seen


@fuzz_settings(35)  # ~1.3 s a program with both modes checked: the offline runs take the volume
@given(case=cases(gen_control))
def test_random_control_flow_programs(case):
    check_case(case, gen_control)
