"""Static single assignment on the structured tree: a fresh version per assignment.

Output invariant: every local name is assigned at most once in straight-line
code; a reassigned variable ``x`` becomes ``x_1``, ``x_2``, ... (skipping names
the user already uses), and every read refers to the version live at that
point. Parameters keep their names. Names that are not local (globals,
builtins, modules) are untouched. The result is still runnable Python with the
same behaviour as the input.

>>> import gast
>>> from adjoint_compiler import emit, normalize
>>> fn = gast.parse("def f(x):\\n    y = x * 2\\n    y = y + x\\n    x = y * y\\n    return x").body[0]
>>> print(emit.to_source(run(normalize.run(fn, None), None)).strip())
def f(x):
    y = x * 2
    y_1 = y + x
    x_1 = y_1 * y_1
    return x_1
"""
import copy

import gast

from adjoint_compiler import naming
from adjoint_compiler.errors import InternalError
from adjoint_compiler.normalize import all_names, local_names


class _Renamer:
    def __init__(self, fn):
        self.locals = local_names(fn)
        self.namer = naming.Namer(all_names(fn))
        self.defined = set()

    def new_version(self, name):
        if name not in self.defined:
            self.defined.add(name)
            return name
        return self.namer.fresh(naming.VERSION, name)

    def load(self, node, env):
        """Rename the reads in expression ``node`` (a fresh copy) to their live versions."""
        node = copy.deepcopy(node)
        for sub in gast.walk(node):
            if isinstance(sub, gast.Name) and isinstance(sub.ctx, gast.Load) and sub.id in env:
                sub.id = env[sub.id]
        return node

    def block(self, stmts, env):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.Assign):
                value = self.load(stmt.value, env)
                target = stmt.targets[0].id
                version = self.new_version(target)
                env[target] = version
                new = gast.Assign(targets=[gast.Name(id=version, ctx=gast.Store(), annotation=None,
                                                     type_comment=None)], value=value, type_comment=None)
                out.append(gast.copy_location(new, stmt))
            elif isinstance(stmt, (gast.Expr, gast.Return, gast.Assert)):
                out.append(gast.copy_location(self.load(stmt, env), stmt))
            else:
                raise InternalError("ssa: unexpected statement %s" % type(stmt).__name__)
        return out


def run(fn, source):
    """Return a new FunctionDef in SSA form; ``fn`` is not modified."""
    r = _Renamer(fn)
    env = {}
    for a in fn.args.args:
        r.defined.add(a.id)
        env[a.id] = a.id
    new = copy.copy(fn)
    new.body = r.block(fn.body, env)
    return new
