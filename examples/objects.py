"""Objects made inside a differentiated function, followed field by field (adjoint_compiler/objects.py):
each attribute is a variable of its own, each method a function taking the fields (a method that
changes the object gives them back)."""


class Particle:
    def __init__(self, x, v):
        self.x = x
        self.v = v

    def step(self, dt, k):
        self.v = self.v - dt * k * self.x
        self.x = self.x + dt * self.v

    def energy(self, k):
        return 0.5 * self.v * self.v + 0.5 * k * self.x * self.x


def oscillator(x0, k):
    p = Particle(x0, 0.0)
    for _ in range(3):
        p.step(0.1, k)
    p.v += 0.5 * k
    return p.energy(k)
