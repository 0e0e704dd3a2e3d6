"""The ``# <source line>`` comments of the adjoint sweep after optimize fuses statements: a comment names
every source line whose code is under it (optimize.quotes.Quotes)."""

import textwrap

import gast

import adjoint_compiler as ac
from adjoint_compiler import emit, optimize, trees


def optimized(src):
    fn = gast.parse(textwrap.dedent(src)).body[0]
    return emit.to_source(optimize.run(fn, keep=trees.local_names(fn))).strip()


def test_fused_accumulation_quotes_both_lines():
    assert (
        optimized("""
        def f(x, c):
            __comment__('adjoint sweep')
            __comment__('z = x * c')
            x_bar = c
            __comment__('y = x * x')
            x_bar = x_bar + 2 * x
            return x_bar
        """)
        == textwrap.dedent("""
        def f(x, c):
            # adjoint sweep
            # z = x * c
            # y = x * x
            x_bar = c + 2 * x
            return x_bar
        """).strip()
    )


def test_fused_temporary_takes_its_line_along():
    # the first comment is left with nothing under it and goes; the second names both lines
    assert (
        optimized("""
        def f(x, y_bar):
            __comment__('adjoint sweep')
            __comment__('a = x * 2.0')
            _t1 = y_bar * 2.0
            __comment__('b = a + 1.0')
            x_bar = _t1 + x
            return x_bar
        """)
        == textwrap.dedent("""
        def f(x, y_bar):
            # adjoint sweep
            # a = x * 2.0
            # b = a + 1.0
            x_bar = y_bar * 2.0 + x
            return x_bar
        """).strip()
    )


def test_unfused_statements_keep_one_line():
    src = """
        def f(x, c):
            __comment__('adjoint sweep')
            __comment__('z = x * c')
            c_bar = x
            __comment__('y = x * x')
            x_bar = 2 * x
            return (x_bar, c_bar)
        """
    assert optimized(src) == textwrap.dedent(src).strip().replace("__comment__('", "# ").replace("')", "")


def test_emitted_gradient_quotes_every_line_of_a_fused_statement():
    # seed.f: x_bar = x_bar + ... (from v1 = math.cos(x)) is fused with x_bar = v3_bar * y (from v2 = x * y)
    from seed import f

    adjoint = ac.adjoint_source(f, wrt=(0, 1)).split("# adjoint sweep\n")[1]
    assert "    # v2 = x * y\n    # v1 = math.cos(x)\n    x_bar = v3_bar * y - v3_bar * math.sin(x)\n" in adjoint
    assert "    # v5 = v3 ** 2\n    # v4 = math.exp(v3)\n    v3_bar = 2.0 * v3 + v4\n" in adjoint
