"""Where a function's returned values go: the names its callers bind them to.

A notebook or script often builds its train ops in a helper (`def model_opt(...):
... return d_train_opt, g_train_opt`) and runs them by the names the caller binds
(`self.d_opt, self.g_opt = model_opt(...)`, then `sess.run(net.d_opt, ...)`). The
model follows a name returned by a function to the target of each call of it: the
same position of a tuple target when the function returns a tuple of that length,
the whole target when it returns the name itself; through callers that return the
result again, a few calls deep. What cannot be followed (a returned expression, a
starred target, a call that is not assigned) adds nothing.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts, Scope

_MAX_DEPTH = 3


def bound_by_callers(facts: "ModuleFacts", scope: "Scope", names: set[str], depth: int = 0) -> set[str]:
    """The names (and `self.` attributes) the calls of function `scope` bind to what it
    returns of `names`, transitively through callers that return them again."""
    if scope.kind != "function" or depth >= _MAX_DEPTH:
        return set()
    found: set[str] = set()
    for position in _returned_positions(scope.node, names):
        for call in facts.callers(scope):
            target = _assigned_target(call.stmt, call.node)
            if target is None:
                continue
            part = _part(target, position)
            if part is None:
                continue
            bound = _target_names(part)
            found |= bound
            found |= bound_by_callers(facts, call.scope, bound, depth + 1)
    return found


def _returned_positions(function: ast.AST, names: set[str]) -> set[Optional[tuple[int, int]]]:
    """For each `return` of one of `names`: None for the whole value, or (index, length)
    in a returned tuple."""
    positions: set[Optional[tuple[int, int]]] = set()
    for node in _own_nodes(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in names:
            positions.add(None)
        elif isinstance(value, ast.Tuple):
            for index, element in enumerate(value.elts):
                if isinstance(element, ast.Name) and element.id in names:
                    positions.add((index, len(value.elts)))
    return positions


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not of the functions and classes defined in it."""
    pending = list(getattr(function, "body", []))
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                pending.append(child)


def _assigned_target(statement: ast.stmt, call: ast.Call) -> Optional[ast.expr]:
    """The target of `target = call(...)`, when the call is the whole value."""
    if isinstance(statement, ast.Assign) and statement.value is call and len(statement.targets) == 1:
        return statement.targets[0]
    if isinstance(statement, ast.AnnAssign) and statement.value is call:
        return statement.target
    return None


def _part(target: ast.expr, position: Optional[tuple[int, int]]) -> Optional[ast.expr]:
    if position is None:
        return target
    index, length = position
    if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == length and \
            not any(isinstance(element, ast.Starred) for element in target.elts):
        return target.elts[index]
    return None


def _target_names(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        return {f"self.{target.attr}"}
    return set()
