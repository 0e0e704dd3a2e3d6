"""Every unsupported construct raises UnsupportedError at the user's file:line:col; no internal tracebacks."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import adjoint_compiler as ac
from adjoint_compiler.errors import CompileError, InternalError, UnsupportedError
from tests.references import marked_location

HERE = os.path.basename(__file__)


def gen(x):
    yield x  # <- yield


def set_comprehension(x):
    s = {x * k for k in range(2)}
    return x * len(s) + max(list(s))


def star_args(xs):
    return max(*xs)  # <- *xs


def nested_def_returned(x):
    def inner(y):
        return y * x

    return inner  # <- inner


def lambda_passed_to_builtin(x):
    return np.frompyfunc(lambda t: t * x, 1, 1)(np.ones(2))[0]  # <- lambda


def global_decl(x):
    global RATE  # <- global
    return x


def attribute_store(x):
    x.y = 1.0  # <- x.y
    return x


def remove_from_argument(x):
    x.remove(x[0])  # <- x.remove
    return x[0]


def store_while_view_is_used(x):
    a = np.ones(3) * x
    b = a[1:]
    a[0] = 2.0  # <- a[0]
    return np.sum(b)


def store_into_slice_of_element(x):
    a = [[x, x], [x, x]]
    a[0:1][0] = [2.0]  # <- a[0:1]
    return a[0][0]


BUFFER = np.zeros(3)


def store_into_global(x):
    BUFFER[0] = x  # <- BUFFER[0]
    return x


def store_in_checkpointed_loop(x):
    a = np.ones(3) * x
    for i in ac.checkpointed(range(3)):
        a[i] = a[i] * x  # <- a[i] =
    return np.sum(a)


def uses_eval(x):
    return eval("x * 2")  # <- eval


CASES = [
    (uses_eval, "eval() of code the compiler cannot see"),
    (gen, "yield"),
    (star_args, "*xs in a call"),
    (nested_def_returned, "a nested function 'inner' used as a value"),
    (lambda_passed_to_builtin, "a lambda that reads x of the enclosing function, passed to something"),
    (attribute_store, "assignment to an attribute"),
    (remove_from_argument, "in-place method call x.remove(...) on values being differentiated"),
    (store_while_view_is_used, "in-place update of a while b (a view or copy of the same array) is still used"),
    (store_into_slice_of_element, "assignment into a slice of an element"),
    (store_into_global, "in-place update of BUFFER, which may be a global"),
    (store_in_checkpointed_loop, "in-place update inside a checkpointed loop"),
]


@pytest.mark.parametrize("fn,construct", CASES, ids=[c[0].__name__ for c in CASES])
def test_unsupported_construct_is_named_and_located(fn, construct):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(fn)(1.0)
    line, col = marked_location(fn)
    message = str(info.value)
    assert construct in message
    assert "%s:%d:%d: error:" % (HERE, line, col) in message, message
    assert info.value.location.line == line and info.value.location.col == col
    assert isinstance(info.value, CompileError)


async def coroutine(x):
    return x


def test_async_def_is_unsupported():
    with pytest.raises(UnsupportedError, match="async def"):
        ac.grad(coroutine)(1.0)


def opaque(x):
    return x


opaque_builtin = np.frompyfunc(lambda v: v, 1, 1)


def calls_function_without_rule(x):
    return np.ascontiguousarray(x) * 2.0  # <- np.ascontiguousarray (no rule: np.ldexp has one now, rules24)


def test_function_without_rule_names_it_and_shows_registration():
    with pytest.raises(CompileError) as info:
        ac.grad(calls_function_without_rule)(1.5)
    message = str(info.value)
    line, col = marked_location(calls_function_without_rule)
    assert "%s:%d:" % (HERE, line) in message
    assert "ascontiguousarray" in message and "register_adjoint" in message
    assert not isinstance(info.value, UnsupportedError)


def uses_undefined(x):
    return x * no_such_name  # noqa: F821


def test_undefined_global_is_a_compile_error():
    with pytest.raises(CompileError, match="no_such_name"):
        ac.grad(uses_undefined)(1.0)


def test_two_lambdas_on_one_line_are_told_apart():
    square, cube = lambda x: x * x, lambda x: x * x * x  # noqa: E731
    assert ac.grad(square)(1.5) == 3.0
    assert ac.grad(cube)(1.5) == 3 * 1.5**2


def test_non_function_is_a_type_error():
    with pytest.raises(TypeError):
        ac.grad(print)  # no Python source and no adjoint rule
    assert ac.grad(math.sin)(0.5) == math.cos(0.5)  # a C function with a rule: differentiated through it


def test_internal_error_is_not_a_compile_error():
    assert not issubclass(InternalError, CompileError)


def test_failed_compile_leaves_the_function_usable():
    with pytest.raises(UnsupportedError):
        ac.grad(set_comprehension)(1.0)
    assert set_comprehension(2.0) == 6.0


def test_cli_reports_one_line_without_traceback(tmp_path):
    src = tmp_path / "bad.py"
    src.write_text("def f(x):\n    return list({x for _ in range(2)})[0]\n")
    r = subprocess.run([sys.executable, "-m", "adjoint_compiler", "show", "%s:f" % src], capture_output=True, text=True)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("%s:2:5: error: a set holding differentiated values" % src), lines[0]
    assert "Traceback" not in r.stderr


def method_on_active(x):
    return np.std(x, axis=0).compress([True, False])[-1] + np.sum(x)  # <- np.std(x, axis=0).compress(...)


def test_unknown_operation_on_an_active_value_is_reported_not_zeroed():
    with pytest.raises(CompileError) as info:
        ac.grad(method_on_active)(np.arange(6.0).reshape(3, 2))
    assert ".compress()" in str(info.value)


def known_method_on_active(x):
    return np.std(x, axis=0).sum() + np.sum(x)


def test_known_array_methods_are_differentiated():
    from adjoint_compiler import testing

    testing.check_grads(known_method_on_active, (np.array([[0.1, 0.5], [0.3, -0.2], [1.0, 0.7]]),), wrt=0)


def numpy_out_argument(x):
    a = np.zeros(3)
    np.multiply(a, x, out=a, where=x > 0)  # <- np.multiply
    return np.sum(a)


def numpy_put(x):
    a = np.zeros(3)
    np.put(a, [0, 1, 2], x)  # <- np.put
    return np.sum(a)


@pytest.mark.parametrize("fn,construct", [(numpy_out_argument, "out="), (numpy_put, "put(...)")])
def test_numpy_calls_that_write_into_an_array_are_refused(fn, construct):
    with pytest.raises(UnsupportedError) as info:
        ac.grad(fn)(np.ones(3))
    line, col = marked_location(fn)
    assert construct in str(info.value) and "%s:%d:%d:" % (HERE, line, col) in str(info.value)


def arctan_with_two_arguments(a, b):
    # Tangent's corpus (cart2polar) has this: NumPy takes the second argument as out=
    angle = np.arctan(b, a)  # <- angle
    return angle


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_ufunc_given_a_positional_out_argument_is_refused_with_the_reason(mode):
    with pytest.raises(UnsupportedError) as info:
        if mode == "grad":
            ac.grad(arctan_with_two_arguments, wrt=(0, 1))(1.0, 2.0)
        else:
            ac.jvp(arctan_with_two_arguments, wrt=(0, 1))(1.0, 2.0, (1.0, 0.0))
    line, col = marked_location(arctan_with_two_arguments)
    message = str(info.value)
    assert "%s:%d:%d:" % (HERE, line, col) in message
    assert "arctan() with 2 arguments" in message and "out= array" in message and "np.arctan2" in message
    assert "max(max" not in message


def aliased_update(x):
    a = x * 1.0
    b = a
    b += x  # <- b
    return np.sum(a * a)


def test_a_run_time_refusal_names_the_users_file_by_its_path():
    # emitted code carries the file's base name (the same on every machine); the error gives the path
    with pytest.raises(UnsupportedError) as info:
        ac.grad(aliased_update)(np.ones(3))
    line, col = marked_location(aliased_update)
    assert str(info.value).startswith("%s:%d:" % (__file__, line)), str(info.value)


INITIAL = 1.5


def sums_where(x):
    return np.nansum(x * x, initial=INITIAL)  # <- np.nansum (every reduction's where= is modelled: rules23)


def test_a_reduction_parameter_refused_when_the_gradient_runs_is_located():
    # initial= of a global is not a literal: only_defaults refuses it as the gradient runs, at the call
    with pytest.raises(NotImplementedError) as info:
        ac.grad(sums_where)(np.ones(3))
    line, _ = marked_location(sums_where)  # (the statement's column)
    assert "%s:%d:" % (HERE, line) in str(info.value) and "error: the gradient of a reduction with initial=" in str(
        info.value
    )
