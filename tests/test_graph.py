"""``adjoint-compiler graph`` and ``check --plot``: the graph's nodes and edges, and its values and
adjoints against hand-derived ones and central differences of the original function."""

import contextlib
import io
import math
import os
import re
import shutil
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler import cli, graph, testing
from adjoint_compiler.errors import UnsupportedError
import control
import seed

SEED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "seed.py")
HERE = os.path.abspath(__file__)


def if_in_loop(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + x * x
        else:
            s = s * x
    return s


def vector_output(x):
    y = x * 2.0
    return np.array([y, y * y])


def with_varargs(x, *rest):
    return x * rest[0]


def node_lines(dot):
    return [line for line in dot.splitlines() if re.match(r'\s*"[^"]+" \[label=', line)]


def out_edges(dot, name):
    return re.findall(r'^\s*"%s" -> "([^"]+)"' % re.escape(name), dot, re.M)


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def seed_by_hand(x, y):
    v1, v2 = math.cos(x), x * y
    v3 = v1 + v2
    v4, v5 = math.exp(v3), v3**2
    v4_bar = v5_bar = 1.0
    v3_bar = v4_bar * v4 + v5_bar * 2 * v3  # the fan-out: both uses of v3 contribute
    v1_bar = v2_bar = v3_bar
    x_bar = -math.sin(x) * v1_bar + y * v2_bar
    y_bar = x * v2_bar
    values = {"x": x, "y": y, "v1": v1, "v2": v2, "v3": v3, "v4": v4, "v5": v5, "_t1": v4 + v5}
    adjoints = {"x": x_bar, "y": y_bar, "v1": v1_bar, "v2": v2_bar, "v3": v3_bar, "v4": 1.0, "v5": 1.0, "_t1": 1.0}
    return values, adjoints


def test_seed_nodes_and_fan_out():
    dot = graph.graph_dot(seed.f, (0, 1))
    # x, y, v1..v5 and the output v4 + v5: one node per value of the SSA form
    assert len(node_lines(dot)) == 8
    assert sorted(out_edges(dot, "v3")) == ["v4", "v5"]
    assert sorted(out_edges(dot, "x")) == ["v1", "v2"]
    assert dot.count("peripheries=2") == 1 and "output" in dot
    assert dot.startswith('digraph "f" {') and dot.endswith("}\n")


def test_seed_values_and_adjoints_are_the_hand_derived_ones():
    g = graph.build(seed.f, (0, 1), at={"x": 1.5, "y": -2.0})
    values, adjoints = seed_by_hand(1.5, -2.0)
    assert g.note is None
    assert set(g.adjoints) == set(adjoints)
    for name, expected in values.items():
        assert g.values[name][0] == pytest.approx(expected, rel=1e-14), name
    for name, expected in adjoints.items():
        assert g.adjoints[name] == pytest.approx(expected, rel=1e-12), name
    assert g.adjoints["x"] == pytest.approx(17.4007257, rel=1e-8)
    assert g.adjoints["y"] == pytest.approx(-8.7076338, rel=1e-8)
    dot = graph.graph_dot(seed.f, (0, 1), at={"x": 1.5, "y": -2.0})
    (v3,) = [line for line in node_lines(dot) if line.strip().startswith('"v3"')]
    assert "value %.6g" % values["v3"] in v3 and "adjoint %.6g" % adjoints["v3"] in v3
    assert graph.VALUE_COLOUR in v3 and graph.ADJOINT_COLOUR in v3


def test_positional_point_and_determinism():
    at = graph.graph_dot(seed.f, (0, 1), at={"x": 1.5, "y": -2.0})
    assert graph.graph_dot(seed.f, (0, 1), at=[1.5, -2.0]) == at
    assert graph.graph_dot(seed.f, (0, 1), at={"x": 1.5, "y": -2.0}) == at
    assert graph.graph_dot(seed.f, (0, 1)) == graph.graph_dot(seed.f, (0, 1))


def test_loop_is_a_cluster_with_its_loop_carried_value():
    g = graph.build(control.power_loop, 0, at={"x": 0.5, "n": 3})
    dot = graph.graph_dot(control.power_loop, 0, at={"x": 0.5, "n": 3})
    assert "subgraph cluster_loop1 {" in dot
    assert g.nodes["y_1"].kind == "header" and g.nodes["y_1"].cluster.id == "cluster_loop1"
    assert ("y_2", "y_1", "back") in g.edges and "style=dashed" in dot
    assert "y_1 = φ(y, y_2)" in dot
    # by hand: y_{k+1} = y_k x + sin(y_k); d out / d y_0 = prod (x + cos y_k); the last y_2 becomes the output
    x, y, factor, dx = 0.5, 0.5, 1.0, 0.0
    for _ in range(3):
        dx = dx * (x + math.cos(y)) + y
        factor *= x + math.cos(y)
        y = y * x + math.sin(y)
    dx += factor  # y_0 = x
    assert g.values["y_1"] == (pytest.approx(y, rel=1e-14), 4)  # the value before the loop and one per iteration
    assert g.values["y_2"][1] == 3
    assert g.adjoints["y"] == pytest.approx(factor, rel=1e-12)
    assert g.adjoints["y_2"] == pytest.approx(1.0) and g.adjoints["y_1"] == pytest.approx(1.0)
    assert g.adjoints["x"] == pytest.approx(dx, rel=1e-12)
    assert g.adjoints["x"] == pytest.approx(testing.numerical_grad(control.power_loop, [0.5, 3], 0), rel=1e-7)
    assert "the last of 3 values" in dot


def test_if_inside_a_for_loop():
    g = graph.build(if_in_loop, 0, at={"x": 1.5, "n": 3})
    dot = graph.graph_dot(if_in_loop, 0, at={"x": 1.5, "n": 3})
    assert "subgraph cluster_loop1 {" in dot and "subgraph cluster_if1 {" in dot and "subgraph cluster_if2 {" in dot
    assert "if i % 2 == 0:  (line" in dot and "else  (line" in dot
    kinds = {name: node.kind for name, node in g.nodes.items()}
    merges = [name for name, kind in kinds.items() if kind == "merge"]
    headers = [name for name, kind in kinds.items() if kind == "header"]
    assert len(merges) == 1 and len(headers) == 1 and "φ" in dot
    (merge,) = merges
    assert g.nodes[merge].cluster.id == "cluster_loop1"  # after the if, inside the loop
    # the branch condition chooses the merge's value: a control edge
    assert any(kind == "control" and b == merge for a, b, kind in g.edges)
    # s: x^2, then x^3, then x^3 + x^2; ds/dx = 3x^2 + 2x
    assert g.values[headers[0]][0] == pytest.approx(1.5**3 + 1.5**2, rel=1e-14)
    assert g.adjoints["x"] == pytest.approx(3 * 1.5**2 + 2 * 1.5, rel=1e-12)
    assert g.adjoints["x"] == pytest.approx(testing.numerical_grad(if_in_loop, [1.5, 3], 0), rel=1e-7)
    assert g.adjoints[merge] == pytest.approx(1.0)
    # the loop counter feeds the branch test, which chooses the merge's value
    assert g.nodes["i"].cluster.id == "cluster_loop1" and ("n", "i", "data") in g.edges
    assert g.nodes["x"].kind == "param" and g.nodes["n"].kind == "param"


def test_branch_not_taken_is_shown_not_run():
    dot = graph.graph_dot(control.branch, (0, 1), at={"x": 1.5, "y": -2.0})
    g = graph.build(control.branch, (0, 1), at={"x": 1.5, "y": -2.0})
    assert "not run" in dot and "z_1" not in g.values
    z = g.adjoints["x"]
    assert z == pytest.approx(ac.grad(control.branch, 0)(1.5, -2.0), rel=1e-12)
    assert z == pytest.approx(2 * 1.5 * -2.0, rel=1e-12)  # z * x with z = x * y


def test_vector_output_keeps_its_values_and_says_why_no_adjoints():
    g = graph.build(vector_output, 0, at={"x": 1.5})
    assert g.adjoints == {} and g.note == "no adjoints: the output is an array of shape (2,), not a float"
    assert g.values["y"][0] == 3.0
    assert "no adjoints" in graph.graph_dot(vector_output, 0, at={"x": 1.5})


def test_varargs_is_refused_with_its_location():
    with pytest.raises(UnsupportedError) as e:
        graph.graph_dot(with_varargs, 0)
    assert "*rest parameter" in str(e.value) and "test_graph.py:" in str(e.value)


def test_the_user_function_is_untouched():
    code = seed.f.__code__
    graph.graph_dot(seed.f, (0, 1), at={"x": 1.5, "y": -2.0})
    assert seed.f.__code__ is code and seed.f(1.5, -2.0) == pytest.approx(8.634016959, rel=1e-9)


def test_cli_writes_dot(tmp_path):
    out = tmp_path / "seed.dot"
    status, stdout, err = run(["graph", SEED + ":f", "--at", "x=1.5,y=-2.0", "-o", str(out)])
    assert (status, err) == (0, "")
    assert out.read_text() == graph.graph_dot(cli.load_function(SEED + ":f"), ("x", "y"), at={"x": 1.5, "y": -2.0})
    status, _, err = run(["graph", SEED + ":f", "-o", str(tmp_path / "seed.pdf")])
    assert status == 2 and err.count("\n") == 1 and ".dot, .svg or .png" in err


def test_missing_graphviz_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    status, _, err = run(["graph", SEED + ":f", "-o", str(tmp_path / "seed.png")])
    assert status == 1 and err.count("\n") == 1
    assert "pip install 'adjoint-compiler[graph]'" in err and "dot" in err and "Traceback" not in err
    assert not (tmp_path / "seed.png").exists()


def test_missing_dot_program_is_one_line(tmp_path, monkeypatch):
    graphviz = pytest.importorskip("graphviz")

    def no_dot(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Source, "pipe", no_dot)
    status, _, err = run(["graph", SEED + ":f", "-o", str(tmp_path / "seed.svg")])
    assert status == 1 and err.count("\n") == 1 and "Graphviz" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
def test_renders_svg_and_png(tmp_path):
    pytest.importorskip("graphviz")
    for ext, magic in (("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n")):
        out = tmp_path / ("seed." + ext)
        status, _, err = run(["graph", SEED + ":f", "--at", "x=1.5,y=-2.0", "-o", str(out)])
        assert (status, err) == (0, "")
        assert out.read_bytes().startswith(magic)


def test_check_output_is_unchanged_and_plot_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    status, plain, _ = run(["check", SEED + ":f", "--at", "x=1.5,y=-2.0"])
    assert status == 0
    assert plain.splitlines()[:2] == [
        "value:              8.634016959",
        "AD gradient:        x=17.40072571, y=-8.707633769",
    ]
    out = tmp_path / "check.png"
    status, plotted, err = run(["check", SEED + ":f", "--at", "x=1.5,y=-2.0", "--plot", str(out)])
    assert (status, err) == (0, "")
    assert plotted == plain + "plot:               %s\n" % out
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_matplotlib_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status, out, err = run(["check", SEED + ":f", "--at", "x=1.5,y=-2.0", "--plot", str(tmp_path / "c.png")])
    assert status == 1 and out == "" and err.count("\n") == 1
    assert "pip install 'adjoint-compiler[plot]'" in err


def test_functions_the_lowering_passes_rewrite():
    import calls
    import python

    # recursion: the copy that is run calls the user's function, not itself
    g = graph.build(calls.power, 0, at={"x": 0.7, "n": 3})
    assert g.adjoints["x"] == pytest.approx(3 * 0.7**2, rel=1e-12)
    # a checkpointed loop (its marker) and loop_length, a runtime helper the passes call
    for f, at in ((control.long_loop, {"x": 0.7, "n": 4}), (control.over_list, {"x": 0.7, "coeffs": [1.0, 2.0, 3.0]})):
        g = graph.build(f, 0, at=at)
        assert g.note is None and "subgraph cluster_loop1 {" in graph.graph_dot(f, 0, at=at)
        args = list(at.values())
        assert g.adjoints["x"] == pytest.approx(testing.numerical_grad(f, args, 0), rel=1e-7)
    # keyword-only parameters with defaults
    g = graph.build(python.scaled_residual, 0, at={"x": 0.7, "target": 0.2})
    assert g.adjoints["x"] == pytest.approx(ac.grad(python.scaled_residual, 0)(0.7, 0.2), rel=1e-12)


def test_state_writes_refuse_a_point_but_not_the_drawing():
    import state

    for f in (state.adds_to_global, state.uses_counter):  # a global statement; a callee's nonlocal
        assert "digraph" in graph.graph_dot(f, 0)
        with pytest.raises(UnsupportedError) as e:
            graph.graph_dot(f, 0, at=[0.5])
        assert "writes a global or nonlocal variable (at " in str(e.value) and "state.py:" in str(e.value)


def updates_its_argument(a):
    a[0] = a[0] * 3.0
    return np.sum(a * a)


def test_arguments_are_not_changed():
    a = np.array([0.5, -1.0, 2.0])
    g = graph.build(updates_its_argument, 0, at=[a])
    assert (a == [0.5, -1.0, 2.0]).all()
    assert np.allclose(g.adjoints["a"], [2 * 9 * 0.5, -2.0, 4.0], rtol=1e-12)
    assert any(node.kind == "effect" for node in g.nodes.values())  # the element store is drawn


def test_parameters_wrt_leaves_out_are_constants():
    g = graph.build(seed.f, "x", at={"x": 1.5, "y": -2.0})
    assert "y" not in g.adjoints and g.adjoints["x"] == pytest.approx(17.4007257, rel=1e-8)
    assert g.adjoints["v3"] == pytest.approx(seed_by_hand(1.5, -2.0)[1]["v3"], rel=1e-12)
    assert "input, held constant" in graph.graph_dot(seed.f, "x", at={"x": 1.5, "y": -2.0})


def test_same_bytes_in_another_process(tmp_path):
    # string hashing differs between processes: no set order may reach the text
    import subprocess

    control_py = os.path.join(os.path.dirname(SEED), "control.py")
    out = tmp_path / "early.dot"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    argv = [sys.executable, "-m", "adjoint_compiler", "graph", control_py + ":early_return", "--at", "x=1.5"]
    subprocess.run(argv + ["-o", str(out)], env=env, check=True, capture_output=True)
    assert out.read_text() == graph.graph_dot(control.early_return, "x", at={"x": 1.5})


def log_times(x):
    return math.log(x) * x


def test_plotted_step_errors_make_the_v():
    g = ac.grad(seed.f, 0)(1.5, -2.0)
    left, bottom, right = (cli._step_error(seed.f, [1.5, -2.0], 0, h, g) for h in (1e-13, 1e-5, 1e-1))
    assert bottom < 1e-8 and left > 100 * bottom and right > 100 * bottom
    assert right == pytest.approx(abs(testing.numerical_grad(seed.f, [1.5, -2.0], 0, eps=1e-1) - g), rel=1e-6)
    # a step across the edge of the domain is left out of the plot, not an error
    assert np.isnan(cli._step_error(log_times, [0.05], 0, 0.1, 1.0))


def with_try(x):
    try:
        y = math.log(x)
    except ValueError:
        y = 0.25
    return y * x


def raises_when_big(x):
    if x > 1.0:
        raise ValueError("too big")
    return x * 3.0


def test_try_and_raise_run_as_written():
    # the SSA form holds markers for them; the copy that is run restores the statements
    for x, y in ((0.5, math.log(0.5)), (-0.5, 0.25)):
        g = graph.build(with_try, 0, at=[x])
        assert g.values["_t1"][0] == pytest.approx(y * x, rel=1e-14)
        assert g.adjoints["x"] == pytest.approx(ac.grad(with_try)(x), rel=1e-12)
    g = graph.build(raises_when_big, 0, at=[0.5])
    assert g.adjoints["x"] == pytest.approx(3.0)
    with pytest.raises(ValueError, match="too big"):  # the user's own error, as calling the function gives
        graph.build(raises_when_big, 0, at=[1.5])


def test_tuple_output_has_values_only():
    g = graph.build(control.branch, (0, 1))  # without a point: no values at all
    assert g.values is None and g.adjoints is None
    g = graph.build(returns_pair, 0, at=[0.5])
    assert g.note == "no adjoints: the output is a tuple, not a float" and g.adjoints == {}


def returns_pair(x):
    return x * 2.0, x + 1.0


@pytest.mark.parametrize(
    "f, at",
    [
        (seed.f, {"x": 1.5, "y": -2.0}),
        (control.nested, {"x": 0.3, "n": 2, "m": 3}),
        (control.first_big, {"x": 2.0, "n": 5}),
        (if_in_loop, {"x": 1.5, "n": 3}),
    ],
)
def test_every_adjoint_is_a_central_difference(f, at):
    # the adjoint of a value is d output / d (its last value): nudge that value by +-h and rerun (at points
    # where the nudge takes no other branch: in newton_sqrt it would, the last step decides to stop)
    g = graph.build(f, tuple(at), at=at)
    perturbed, order = graph._perturbed(g.fn, g.src, g, g.values, g.safe)
    args = list(at.values())
    assert order and set(order) <= set(g.adjoints)

    def nudged(k, h):
        deltas = [h if i == k else 0.0 for i in range(len(order))]
        return perturbed(*args, *deltas)

    for k, name in enumerate(order):
        h = 1e-6 * max(1.0, abs(g.values[name][0]))
        difference = (nudged(k, h) - nudged(k, -h)) / (2 * h)
        assert g.adjoints[name] == pytest.approx(difference, rel=1e-6, abs=1e-8), name
