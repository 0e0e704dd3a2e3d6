"""Global state, as in the seed: each read sees the value it had in the forward run."""
c = 0
RATE = 0.05


def f(x):
    global c
    c += 1
    return x * c


def F(x):
    return f(x) + f(x)


def compound(principal, years):
    return principal * (1.0 + RATE) ** years


scratch = 0.0


def _reads_scratch(y):
    return y * scratch


def writes_then_calls(x):
    global scratch
    scratch = x * 2.0
    return _reads_scratch(x)



def make_counter():
    """A closure counting its calls in its enclosing function's variable (nonlocal)."""
    calls = 0

    def scaled(x):
        nonlocal calls
        calls += 1
        return x * calls

    return scaled


counted = make_counter()


def uses_counter(x):
    return counted(x) + counted(x)


def make_accumulator(rate):
    """A closure that keeps a differentiated running total in a nonlocal: refused when called."""
    total = 0.0

    def add(x):
        nonlocal total
        total = total + rate * x
        return total * x

    return add


accumulate = make_accumulator(0.5)


def uses_accumulator(x):
    return accumulate(x) + accumulate(x * x)


scratch_total = 0.0


def adds_to_global(x):
    global scratch_total
    scratch_total = scratch_total + x
    return scratch_total * x


def twice_adds_to_global(x):
    return adds_to_global(x) + adds_to_global(x)
