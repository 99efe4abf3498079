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

A function defined before a reset and called after it (a notebook defines its model in
one cell, resets in the next and builds and trains it there) builds its batch norm in
the later graph: findings inside such a carried definition belong to that part too
(`Part.used_lines`), not only to the part the definition is written in. A definition
that several graphs use gets no fix (`shared_lines`): a fix that passes one graph's
placeholder into it would hand the next graph a tensor of the old one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from . import tfapi
from .facts import walk_statements
from .names import ImportTable, resolve

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MARKER = "reset_default_graph"


@dataclass(frozen=True)
class Part:
    """One graph of the program: its module (carried definitions, then its own
    statements), the lines of its own statements, and the line ranges of the carried
    definitions its own statements use, directly or through one another."""

    module: ast.Module
    first: int
    last: int
    used_lines: tuple[tuple[int, int], ...] = ()
    # The ranges of every definition this graph uses, its own included (for shared_lines).
    all_used_lines: tuple[tuple[int, int], ...] = ()

    def holds(self, line: int) -> bool:
        """Is a finding at `line` this graph's: in its own statements, or in a carried
        definition it uses?"""
        return self.first <= line <= self.last or any(start <= line <= end for start, end in self.used_lines)


def parts(tree: ast.Module, text: str) -> Optional[list[Part]]:
    """Each graph of a program that resets the default graph at its top level; None
    for a program of one graph."""
    if _MARKER not in text:
        return None
    imports = ImportTable()
    for node in walk_statements(tree):
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
        own = tree.body[start:end]
        used = _used(kept + own, [statement for statement in own if not isinstance(statement, _FUNCTIONS)])
        carried = {id(statement) for statement in kept}
        found.append(Part(module, first, last, _ranges(d for d in used if id(d) in carried), _ranges(used)))
    return found


def shared_lines(graphs: list[Part]) -> tuple[tuple[int, int], ...]:
    """The line ranges of the definitions that more than one graph uses."""
    counts: dict[tuple[int, int], int] = {}
    for graph in graphs:
        for lines in graph.all_used_lines:
            counts[lines] = counts.get(lines, 0) + 1
    return tuple(lines for lines, count in counts.items() if count > 1)


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _used(statements: list[ast.stmt], roots: list[ast.stmt]) -> list[ast.stmt]:
    """The function and class definitions among `statements` that the `roots` mention
    by name, directly or through one another."""
    definitions = {statement.name: statement for statement in statements if isinstance(statement, _FUNCTIONS)}
    if not definitions:
        return []
    pending = [node for statement in roots for node in ast.walk(statement)]
    used: dict[str, ast.stmt] = {}
    while pending:
        node = pending.pop()
        name = node.id if isinstance(node, ast.Name) else None
        if name in definitions and name not in used:
            used[name] = definitions[name]
            pending.extend(ast.walk(definitions[name]))
    return list(used.values())


def _ranges(definitions) -> tuple[tuple[int, int], ...]:
    """First and last line of each definition, decorators included."""
    return tuple(sorted(((d.decorator_list[0].lineno if d.decorator_list else d.lineno),
                         d.end_lineno or d.lineno) for d in definitions))


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
