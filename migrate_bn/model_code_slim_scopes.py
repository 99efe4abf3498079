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
    from .model_code import _Converter


def _arguments(converter: "_Converter", statement: ast.With) -> Optional[dict]:
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


def enter(converter: "_Converter", statement: ast.With, prefix: list,
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
        converter._configuration_only(name, "a variable scope named by a tensor")
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
    from .model_code import _COUNTS, _concatenation  # the conversion's own names

    unique = ast.Call(ast.Attribute(ast.Name("self"), "unique_scope"),
                      [ast.Name(_COUNTS), _concatenation(prefix), ast.Constant(default.value)], []) \
        if default is not None else None
    if name is None or is_none_literal(name):
        value: ast.expr = unique  # type: ignore[assignment]
    elif isinstance(name, ast.Constant) or unique is None:  # a name, and no default to fall back on
        value = _concatenation(prefix + [name])
    else:  # configuration: the caller's name, or None for the default
        value = ast.IfExp(ast.Compare(converter._tf2_names(name), [ast.IsNot()], [ast.Constant(None)]),
                          _concatenation(prefix + [name]), unique)
    for body in (init, call):
        body.append(ast.Assign([ast.Name(local, ast.Store())], value, lineno=statement.lineno))
    converter.__dict__.setdefault("scope_targets", set()).add(local)
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


def scope_attribute(converter: "_Converter", attribute: ast.Attribute) -> Optional[ast.expr]:
    """`sc.name` as the local holding the scope's full name, `sc.original_name_scope` as
    that name and "/"; None for any other attribute."""
    if not (isinstance(attribute.value, ast.Name) and
            attribute.value.id in converter.__dict__.get("scope_targets", ())):
        return None
    if attribute.attr == "name":
        return ast.Name(attribute.value.id)
    if attribute.attr == "original_name_scope":
        return ast.BinOp(ast.Name(attribute.value.id), ast.Add(), ast.Constant("/"))
    return None


def with_scope_names(converter: "_Converter", targets: list[ast.expr]) -> list[ast.expr]:
    """Assignment targets with `sc.name`/`sc.original_name_scope` replaced as in values
    (`end_points[sc.name + '/block1'] = net`); the targets themselves when none is read."""

    class Replace(ast.NodeTransformer):
        def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
            return scope_attribute(converter, attribute) or self.generic_visit(attribute)

    if not converter.__dict__.get("scope_targets"):
        return targets
    return [Replace().visit(copy.deepcopy(target)) for target in targets]
