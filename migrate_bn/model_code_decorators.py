"""Decorated model functions: which decorators the Keras conversion may drop.

slim's `@add_arg_scope` (contrib's or tf-slim's) only lets `arg_scope([f, ...], k=v)` give
the function `f` defaults for the calls made inside that block (and inside whatever the
block calls). A model function that no `arg_scope` of its module names computes what it
computes undecorated, so its conversion (migrate_bn/model_code.py) drops the decorator
with the function. Where an arg_scope of the module names it, the arguments it gives are
allowed only when they cannot change what the function computes (slim's
`outputs_collections`, which records end points: `tfapi.ARG_SCOPE_OBSERVING_KEYWORDS`);
any other argument is refused with the function and the keywords, since the converted
model would be built without them. Any other decorator is refused: what it does to the
function is unknown.

arg_scopes written in other modules of the project name the function through an import;
those callers are TF1 code that must change to call the converted model anyway.
"""

from __future__ import annotations

import ast
from typing import Optional

from . import model_code_slim_scopes, tfapi
from .facts import ModuleFacts
from .script import NotConvertible


def check(facts: ModuleFacts, function: ast.FunctionDef) -> None:
    """Raise NotConvertible unless every decorator of `function` can be dropped."""
    for decorator in function.decorator_list:
        name = facts.qualname(decorator, facts.module) if isinstance(decorator, (ast.Name, ast.Attribute)) else None
        if name is None or tfapi.canonical(name) not in tfapi.ADD_ARG_SCOPE_DECORATORS:
            raise NotConvertible(decorator, "a decorated model function")
        scope = _naming_arg_scope(facts, function.name)
        if scope is not None:
            given = ", ".join(sorted(keyword.arg or "**" for keyword in scope.keywords
                                     if keyword.arg not in tfapi.ARG_SCOPE_OBSERVING_KEYWORDS))
            if isinstance(scope.args[0], (ast.List, ast.Tuple)):
                raise NotConvertible(scope, f"an `arg_scope` gives the model function `{function.name}` arguments "
                                            f"({given}) its calls do not pass")
            raise NotConvertible(scope, f"an `arg_scope` whose op list the conversion cannot read gives arguments "
                                        f"({given}), maybe to the model function `{function.name}`")


def first_line(statement: ast.stmt) -> int:
    """The first line of a statement's text: a function's starts at its first decorator."""
    decorators = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno] + [decorator.lineno for decorator in decorators])


def _naming_arg_scope(facts: ModuleFacts, name: str) -> Optional[ast.Call]:
    """The first `arg_scope([..., name, ...], k=v)` of the module that gives `name` an
    argument which may change what it computes, or that gives arguments to an op list
    the conversion cannot read (it may name `name`)."""
    for node in ast.walk(facts.tree):
        if not (isinstance(node, ast.Call) and is_arg_scope(facts, node) and node.args):
            continue
        gives = any(keyword.arg not in tfapi.ARG_SCOPE_OBSERVING_KEYWORDS for keyword in node.keywords)
        if not isinstance(node.args[0], (ast.List, ast.Tuple)):
            if gives:  # an op list the conversion cannot read (`arg_scope(ops, k=v)`) may name it
                return node
            continue  # a saved scope (`arg_scope(sc)`): what it sets is in its own arg_scope call
        if gives and any(_names(element, name) for element in node.args[0].elts) and \
                not model_code_slim_scopes.reads_arg_scope(facts, node):  # passed at the calls it covers
            return node
    return None


def is_arg_scope(facts: ModuleFacts, call: ast.Call) -> bool:
    function = call.func
    if (isinstance(function, ast.Attribute) and function.attr == "arg_scope") or \
            (isinstance(function, ast.Name) and function.id == "arg_scope"):
        return True
    name = facts.qualname(function, facts.module) if isinstance(function, (ast.Name, ast.Attribute)) else None
    return name is not None and tfapi.canonical(name) in tfapi.ARG_SCOPE_FUNCTIONS


def _names(element: ast.expr, name: str) -> bool:
    """`name`, or `module.name` (the function reached through its module)."""
    return (isinstance(element, ast.Name) and element.id == name) or \
        (isinstance(element, ast.Attribute) and element.attr == name)
