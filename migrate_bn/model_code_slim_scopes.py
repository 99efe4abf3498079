"""slim-style variable scopes in model code: `with tf.variable_scope(scope, 'bottleneck_v2',
[inputs], reuse=reuse) as sc:` (or `variable_scope(scope) as sc` whose `sc` is read), as
tf-slim's nets and the projects' copies of them open their scopes (the model-function
conversion's helper, model_code.py).

TF1 names such a scope `scope` when one is given, else the default name made unique in
the enclosing scope (`bottleneck_v2`, `bottleneck_v2_1`, ...: TF 2.12's
`_get_unique_variable_scope`, which counts the scopes opened under each full name, as
`ScopedModel.unique_scope` counts them). The converted model computes that name once, in
`__init__` and in `call` alike (both replay the same scopes in the same order), into a
local: the `as` target when there is one, so `sc.name` is that local, and
`sc.original_name_scope` (the name scope TF1 opened, which projects use as an end point's
alias) that local and "/". The values list only named TF1's ops; `reuse=` is read as
`variable_scope(name, reuse=...)`'s is (a scope reused holds one layer).

Refused with the reason: any other use of the `as` target (the `VariableScope` object
itself has no Keras counterpart), other keywords (initializer, regularizer, ...: they
would change the variables), a name or default name computed from a tensor or not a string.
"""

from __future__ import annotations

import ast
import copy
from typing import TYPE_CHECKING, Optional

from . import binding, model_code_statements, tfapi
from .keras_mapping import is_none_literal
from .names import resolve
from .script import NotConvertible, fresh_name

if TYPE_CHECKING:
    from .model_code import FunctionConverter


def _arguments(converter: "FunctionConverter", statement: ast.With) -> Optional[dict]:
    """The arguments of a `variable_scope(...)` given a default name, by TF1's names; None
    for any other `with` (left to the plain variable_scope/name_scope reading)."""
    if len(statement.items) != 1 or not isinstance(statement.items[0].context_expr, ast.Call):
        return None
    entered = statement.items[0].context_expr
    if resolve(entered.func, converter.facts.imports) != tfapi.VARIABLE_SCOPE:
        return None
    arguments = binding.named_arguments(entered, tfapi.VARIABLE_SCOPE_POSITIONS)
    if arguments is None:
        return None
    target = statement.items[0].optional_vars
    read = isinstance(target, ast.Name) and any(
        isinstance(node, ast.Name) and node.id == target.id and isinstance(node.ctx, ast.Load)
        for node in _own(converter.function))
    if "default_name" not in arguments and not (read and "name_or_scope" in arguments):
        return None  # `variable_scope(name)` whose object is not read: the plain reading
    return arguments


def enter(converter: "FunctionConverter", statement: ast.With, prefix: list,
          init: list[ast.stmt], call: list[ast.stmt]) -> Optional[list]:
    """The scope prefix inside `with variable_scope(scope, default_name, values[, reuse=...])
    [as sc]:`, with the statement binding its full name added to `init` and `call`; None
    when the `with` is not one (the caller reads it as it reads other scopes)."""
    arguments = _arguments(converter, statement)
    if arguments is None:
        return None
    other = sorted(set(arguments) - set(tfapi.VARIABLE_SCOPE_POSITIONS) - {"reuse"})
    if other:
        raise NotConvertible(statement, f"a variable_scope with `{other[0]}`, which would change its variables")
    default = arguments.get("default_name")
    if default is not None and not (isinstance(default, ast.Constant) and isinstance(default.value, str)):
        raise NotConvertible(default, "a variable_scope whose default name is not a literal string")
    name = arguments.get("name_or_scope")
    if default is None and (name is None or is_none_literal(name)):
        raise NotConvertible(statement, "a variable_scope without a name or a default name")
    if name is not None:
        converter.configuration_only(name, "a variable scope named by a tensor")
        if isinstance(name, ast.Constant) and not (name.value is None or isinstance(name.value, str)):
            raise NotConvertible(name, "a variable scope named by something else than a string or None")
    target = statement.items[0].optional_vars
    if target is not None and not isinstance(target, ast.Name):
        raise NotConvertible(statement, "a variable_scope bound to something else than a name")
    if target is not None:
        _refuse_other_uses(converter.function, target.id)
        local = target.id
    else:
        local = fresh_name("variable_scope_name", {n.id for n in ast.walk(converter.function)
                                                   if isinstance(n, ast.Name)} | converter.taken)
    from .model_code import SCOPE_COUNTS, scope_concatenation  # the conversion's own names

    unique = ast.Call(ast.Attribute(ast.Name("self"), "unique_scope"),
                      [ast.Name(SCOPE_COUNTS), scope_concatenation(prefix), ast.Constant(default.value)], []) \
        if default is not None else None
    if name is None or is_none_literal(name):
        value: ast.expr = unique  # type: ignore[assignment]
    elif isinstance(name, ast.Constant) or unique is None:  # a name, and no default to fall back on
        value = scope_concatenation(prefix + [name])
    else:  # configuration: the caller's name, or None for the default
        value = ast.IfExp(ast.Compare(converter.tf2_names(name), [ast.IsNot()], [ast.Constant(None)]),
                          scope_concatenation(prefix + [name]), unique)
    for body in (init, call):
        body.append(ast.Assign([ast.Name(local, ast.Store())], value, lineno=statement.lineno))
    converter.scope_targets.add(local)
    if any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == local and
           n.attr == "original_name_scope" for n in ast.walk(converter.function)):
        converter.notes.append((statement.lineno, tfapi.ORIGINAL_NAME_SCOPE_NOTE))
    return [ast.Name(local), "/"]


def _refuse_other_uses(function: ast.FunctionDef, target: str) -> None:
    """`sc.name` and `sc.original_name_scope` only: both are strings the model computes."""
    allowed = {id(node.value) for node in _own(function) if isinstance(node, ast.Attribute) and
               isinstance(node.value, ast.Name) and node.value.id == target and
               node.attr in tfapi.VARIABLE_SCOPE_NAME_ATTRIBUTES}
    for node in _own(function):
        if isinstance(node, ast.Name) and node.id == target and isinstance(node.ctx, ast.Load) and \
                id(node) not in allowed:
            raise NotConvertible(node, f"`{target}`, a variable scope object, used for more than its `name` "
                                       "or `original_name_scope`")


def _own(function: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of `function` without its nested functions' (a parameter `sc` of a helper
    defined inside is another name)."""
    own = model_code_statements.own_nodes(function)
    return [node for node in ast.walk(function) if id(node) in own]


def scope_attribute(converter: "FunctionConverter", attribute: ast.Attribute) -> Optional[ast.expr]:
    """`sc.name` as the local holding the scope's full name, `sc.original_name_scope` as
    that name and "/"; None for any other attribute."""
    if not (isinstance(attribute.value, ast.Name) and
            attribute.value.id in converter.scope_targets):
        return None
    if attribute.attr == "name":
        return ast.Name(attribute.value.id)
    if attribute.attr == "original_name_scope":
        return ast.BinOp(ast.Name(attribute.value.id), ast.Add(), ast.Constant("/"))
    return None


def with_scope_names(converter: "FunctionConverter", targets: list[ast.expr]) -> list[ast.expr]:
    """Assignment targets with `sc.name`/`sc.original_name_scope` replaced as in values
    (`end_points[sc.name + '/block1'] = net`); the targets themselves when none is read."""

    class Replace(ast.NodeTransformer):
        def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
            return scope_attribute(converter, attribute) or self.generic_visit(attribute)

    if not converter.scope_targets:
        return targets
    return [Replace().visit(copy.deepcopy(target)) for target in targets]


def refuse_arg_scope_around_helper(converter: "FunctionConverter", helper: ast.FunctionDef, call: ast.Call) -> None:
    """A model function called under an open `arg_scope` that sets arguments of the layers
    it builds (itself or through its own helpers): TF1 applied them inside the call, but a
    helper's methods are written once, without the caller's arg scopes, so they would be
    built with slim's defaults. Refused with the op (observing keywords such as
    `outputs_collections` change nothing and pass)."""
    from .model_code_layers import same_slim_op

    setting = [arg_scope for arg_scope in converter.arg_scopes
               if set(arg_scope.kwargs) - tfapi.ARG_SCOPE_OBSERVING_KEYWORDS]
    # The module's own functions the arg scopes around the call name (the facts keep TF's ops).
    named = {name for arg_scope in _enclosing_arg_scopes(converter, call)
             if any(k.arg not in tfapi.ARG_SCOPE_OBSERVING_KEYWORDS for k in arg_scope.keywords)
             for name in _named(arg_scope)} - {helper.name}
    if not setting and not named:
        return
    seen: set[str] = set()
    todo = [helper]
    while todo:
        function = todo.pop()
        if function.name in seen:
            continue
        seen.add(function.name)
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in converter.helpers:
                todo.append(converter.helpers[node.func.id])
            if isinstance(node.func, ast.Name) and node.func.id in named:
                raise NotConvertible(call, f"an arg_scope around the call of `{helper.name}` sets arguments "
                                           f"of its `{node.func.id}`, which its methods are written without")
            name = resolve(node.func, converter.facts.imports)
            if name is None:
                continue
            for arg_scope in setting:
                if any(same_slim_op(tfapi.canonical(op), tfapi.canonical(name)) for op in arg_scope.ops):
                    raise NotConvertible(call, f"an arg_scope around the call of `{helper.name}` sets arguments "
                                               f"of its `{converter.facts.segment(node.func)}`, which its methods "
                                               "are written without")


# --- arg_scope on the project's own add_arg_scope functions --------------------------------

def _enclosing_arg_scopes(converter: "FunctionConverter", call: ast.Call) -> list[ast.Call]:
    """The `arg_scope(...)` calls of the function's own `with` statements around `call`,
    outermost first (the arg scopes open at the call, as far as this function opens them)."""
    from .model_code_decorators import is_arg_scope

    found = []
    for node in _own(converter.function):
        if isinstance(node, ast.With) and any(inner is call for inner in ast.walk(node)):
            found.extend(item.context_expr for item in node.items if isinstance(item.context_expr, ast.Call)
                         and is_arg_scope(converter.facts, item.context_expr))
    return sorted(found, key=lambda scope: (scope.lineno, scope.col_offset))


def _named(arg_scope: ast.Call) -> set[str]:
    """The module functions an arg_scope's op list names (`[prelu]`, `[unit, slim.conv2d]`)."""
    if not arg_scope.args or not isinstance(arg_scope.args[0], (ast.List, ast.Tuple)):
        return set()
    return {element.id for element in arg_scope.args[0].elts if isinstance(element, ast.Name)}


def arg_scope_arguments(converter: "FunctionConverter", helper: ast.FunctionDef, call: ast.Call, bound: dict,
                        flag: Optional[str]) -> dict:
    """The arguments of a call of a model function of the module (slim's `@add_arg_scope`)
    with what the arg scopes the function opens around it give it (`with
    slim.arg_scope([prelu], decoder=decoder):`): the innermost scope wins, the call's own
    arguments win over any scope, as add_arg_scope merges them. Refused: a keyword the
    function does not take, `**` in the scope, and the function's training flag (the
    conversion finds flags in calls, not in scopes)."""
    merged: dict = {}
    parameters = [a.arg for a in helper.args.args]
    for arg_scope in _enclosing_arg_scopes(converter, call):
        if helper.name not in _named(arg_scope):
            continue
        for keyword in arg_scope.keywords:
            if keyword.arg is None:
                raise NotConvertible(arg_scope, f"an arg_scope gives `{helper.name}` arguments through **")
            if keyword.arg in tfapi.ARG_SCOPE_OBSERVING_KEYWORDS and keyword.arg not in parameters:
                continue
            if keyword.arg not in parameters[1:]:
                raise NotConvertible(arg_scope, f"an arg_scope gives `{helper.name}` `{keyword.arg}`, which it "
                                                "does not take")
            if keyword.arg == flag:
                raise NotConvertible(arg_scope, f"an arg_scope gives `{helper.name}` its training flag "
                                                f"`{keyword.arg}`")
            merged[keyword.arg] = keyword.value
    return {**merged, **bound}


def reads_arg_scope(facts, arg_scope: ast.Call) -> bool:
    """Does the model-function conversion read this arg_scope where it gives arguments to
    the module's own functions? Yes when it is opened in a model function (with one item:
    the form the conversion follows); such a scope needs no refusal of the functions it
    names (model_code_decorators)."""
    from .model_code import model_functions

    for function in model_functions(facts):
        for node in ast.walk(function):
            if isinstance(node, ast.With) and len(node.items) == 1 and node.items[0].context_expr is arg_scope:
                return True
    return False


# --- slim's batch norm under an arg_scope (`arg_scope([slim.batch_norm], is_training=...)`) -----

def batch_norm_settings(converter: "FunctionConverter", function: ast.expr) -> dict:
    """What the open arg scopes give slim's batch norm called as a layer's normalizer_fn
    `function`, the innermost scope winning, as add_arg_scope merges them
    (model_code_layers.with_arg_scopes); {} for a batch norm that is not slim's (tf.layers'
    takes no arg_scope). A setting that names a parameter of the model function other than
    its training flag, as the training argument, is refused (the Keras model would take it
    as configuration). A direct call's settings: model_code_shared_bn.arg_scoped_call."""
    from .model_code_layers import with_arg_scopes

    name = resolve(function, converter.facts.imports)
    spec = tfapi.BATCH_NORM_APIS.get(tfapi.canonical(name)) if name else None
    if spec is None or spec.family != "contrib" or spec.is_class:
        return {}
    merged = with_arg_scopes(converter.arg_scopes, tfapi.canonical(name), {}, set())  # type: ignore[arg-type]
    flag = merged.get(spec.training_kw)
    if isinstance(flag, ast.Name) and flag.id in converter.parameters[1:] and flag.id != converter.flag:
        raise NotConvertible(flag, f"the training flag `{flag.id}` set by an arg_scope where the conversion did "
                                   "not find it as the model's flag")
    return merged
