"""Where the rule tables sample a differentiated argument: data the fuzzer (tests/fuzz/gen_rules.py) reads too.

``uniform(lo, hi)``: uniform in [lo, hi]; ``away(lo, hi)``: ``|x|`` uniform in [lo, hi] with a random
sign (away from a kink or pole at 0). Called as ``domain(rng)`` for a float, ``domain(rng, shape)``
for an array of that shape (a float for shape ``()``).
"""


class Domain:
    __slots__ = ("kind", "lo", "hi")

    def __init__(self, kind, lo, hi):
        assert kind in ("uniform", "away") and lo < hi
        self.kind, self.lo, self.hi = kind, lo, hi

    def __call__(self, rng, shape=None):
        if self.kind == "uniform":
            x = rng.uniform(self.lo, self.hi, size=shape)
        else:
            x = rng.choice((-1.0, 1.0), size=shape) * rng.uniform(self.lo, self.hi, size=shape)
        return float(x) if shape is None or shape == () else x

    def __repr__(self):
        return "%s(%r, %r)" % (self.kind, self.lo, self.hi)


def uniform(lo, hi):
    return Domain("uniform", lo, hi)


def away(lo, hi):
    """|x| in [lo, hi] with a random sign (keeps away from a kink or pole at 0)."""
    return Domain("away", lo, hi)
