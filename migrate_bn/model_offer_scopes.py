"""Scopes in the plain helpers an offered model carries along (model_offer.py).

Real model modules name the ops of a small activation helper with a scope of its own:

    def lrelu(x, leak=0.2, name="lrelu"):
        with tf.variable_scope(name):
            return ...

When the helper creates no variable (a plain function: every other `tf.` name means the
same in TF2, `tf.get_variable` and layers are not among them), the scope only prefixes
the names of the ops built in it, which nothing reads back: TF2's `tf.name_scope(name)`
does that, while `tf.variable_scope` is gone from TF2. So the helper comes along with the
scope written as `tf.name_scope` in the offered Keras module (the TF1 code the equivalence
check runs keeps it as written). Only `with tf.variable_scope(<one argument>):` is taken
(no `as`, no `reuse`, `default_name` or `values`, which name_scope has not).
"""

from __future__ import annotations

import ast

from . import tfapi
from .facts import ModuleFacts
from .names import resolve


def scope_functions(facts: ModuleFacts, function: ast.FunctionDef) -> set[int]:
    """The ids of the `tf.variable_scope` names of `function` that open a scope
    `name_scope` can stand for (their attribute nodes, so a caller checking `tf.` names
    can pass them over)."""
    found: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if item.optional_vars is None and isinstance(call, ast.Call) and len(call.args) == 1 and \
                        not call.keywords and not isinstance(call.args[0], ast.Starred) and \
                        isinstance(call.func, ast.Attribute) and \
                        resolve(call.func, facts.imports) == tfapi.VARIABLE_SCOPE:
                    found.add(id(call.func))
    return found


def as_name_scopes(facts: ModuleFacts, statement: ast.stmt, text: str) -> str:
    """`text` (the source of `statement`, a carried helper) with each variable scope
    `scope_functions` found written as `name_scope` of the same module (`tf.name_scope`)."""
    if not isinstance(statement, ast.FunctionDef):
        return text
    wanted = scope_functions(facts, statement)
    nodes = [node for node in ast.walk(statement) if id(node) in wanted]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    first = facts.column(statement.lineno, statement.col_offset)

    def offset(line: int, byte_column: int) -> int:
        column = facts.column(line, byte_column)
        row = line - statement.lineno
        return starts[row] + (column - first if row == 0 else column)

    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        start = offset(node.lineno, node.col_offset)
        end = offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
        text = text[:start] + facts.segment(node.value) + ".name_scope" + text[end:]  # type: ignore[attr-defined]
    return text
