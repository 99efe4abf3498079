"""The call graph of a module's model functions: which functions of the module a model
function calls by name. The conversion (model_code: which functions are helpers), the
offer (model_offer: the callers of a function left out) and the checkpoint names
(model_code_variables: the layers a model builds through its helpers) walk it alike."""
from __future__ import annotations

import ast
from typing import Collection, Iterator


def calls_of(function: ast.FunctionDef, names: Collection[str]) -> Iterator[ast.Call]:
    """The calls in `function`, in `ast.walk` order, of a function named in `names` by a
    plain name; its own recursive calls left out."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names and \
                node.func.id != function.name:
            yield node


def reachable(function: ast.FunctionDef, helpers: dict[str, ast.FunctionDef]) -> list[ast.FunctionDef]:
    """`function` and the `helpers` it calls, directly or through one another, each name once."""
    found: dict[str, ast.FunctionDef] = {}
    todo = [function]
    while todo:
        current = todo.pop()
        if current.name in found:
            continue
        found[current.name] = current
        todo.extend(helpers[call.func.id] for call in calls_of(current, helpers))  # type: ignore[attr-defined]
    return list(found.values())
