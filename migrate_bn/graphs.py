"""A program that resets TensorFlow's default graph at its top level builds several
graphs, one after another: a notebook that trains a plain network, calls
`tf.reset_default_graph()` (often through its own `reset_graph()` helper) and then
trains one with batch norm; a tutorial script with one section per model.

Batch norm in one of them says nothing about the train op of another, so each graph is
analysed on its own: the statements from one reset to the next, after the imports,
function and class definitions and call-free assignments (constants, aliases such as
`slim = tf.contrib.slim`) that come before it. Tensors built before a reset belong to
the old graph and cannot be used after it, so leaving them out loses nothing.

Each part keeps the program's own line numbers, so findings and fixes need no mapping.
A program without a top-level reset is one part, at the cost of a substring search.
"""

from __future__ import annotations

import ast
from typing import Optional

from . import tfapi
from .names import ImportTable, resolve

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MARKER = "reset_default_graph"


def parts(tree: ast.Module, text: str) -> Optional[list[tuple[ast.Module, int, int]]]:
    """(module, first line, last line) for each graph of a program that resets the
    default graph at its top level; None for a program of one graph."""
    if _MARKER not in text:
        return None
    imports = ImportTable()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.add(node)
    resetters = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and any(_resets(statement, imports, set()) for statement in node.body)}
    starts = [index for index, statement in enumerate(tree.body) if _resets(statement, imports, resetters)]
    if not starts:
        return None
    bounds = [0, *starts, len(tree.body)] if starts[0] else [*starts, len(tree.body)]
    found = []
    for start, end in zip(bounds, bounds[1:]):
        if start == end:
            continue
        kept = [statement for statement in tree.body[:start] if _carried_over(statement)]
        module = ast.Module(body=kept + tree.body[start:end], type_ignores=[])
        first = tree.body[start].lineno if start else 1
        last = tree.body[end].lineno - 1 if end < len(tree.body) else len(text.splitlines()) + 1
        found.append((module, first, last))
    return found


def _resets(statement: ast.stmt, imports: ImportTable, resetters: set[str]) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    function = statement.value.func
    if isinstance(function, ast.Name) and function.id in resetters:
        return True
    return resolve(function, imports) in tfapi.GRAPH_RESETS


def _carried_over(statement: ast.stmt) -> bool:
    """What a later graph may use of what came before a reset: definitions, and
    assignments that call nothing (so build no op of the old graph)."""
    if isinstance(statement, _DEFINITIONS):
        return True
    return isinstance(statement, (ast.Assign, ast.AnnAssign)) and \
        not any(isinstance(node, ast.Call) for node in ast.walk(statement))
