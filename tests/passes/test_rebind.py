"""rebind: x op= y becomes x = x op y only where x certainly shares nothing."""

from adjoint_compiler import rebind
from tests.passes.lowering_cases import lowered, same_values


def test_fresh_names_rebind_shared_ones_keep_the_update():
    before = """
def f(x, n):
    y = x * 2
    y += 1
    z = y
    z += 1
    x += z
    for i in range(n):
        w = x
    y += w
    return x + y + z
"""
    after = lowered(rebind.run, before)
    # y is fresh at its first update only; z, x and then y share their objects
    assert after == before.strip().replace("    y += 1", "    y = y + 1")
    same_values(before, after, [(1, 2), (-3.5, 1)])


def test_a_branch_that_may_share_makes_the_name_shared():
    after = lowered(
        rebind.run,
        """
def f(x, c):
    y = x + 0
    if c:
        y = x
    y += 1
    v = x.copy()
    v += 1
    return y + v
""",
    )
    assert "    y += 1" in after and "    v = v + 1" in after
