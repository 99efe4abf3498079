"""Resolve the names a module uses to the qualified APIs they stand for.

TF1 code names its APIs through imports and, now and then, a module-level alias
(`slim = tf.contrib.slim`, `bn = slim.batch_norm`). A table of the module's imports,
consulted before the assignments the fact builder records, answers every such question
at a small fraction of the cost of LibCST's scope analysis (about 170 ms a file), which
buys nothing here: TF1 programs do not shadow `tf`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from . import tfapi
from .visiting import child_fields


class ImportTable:
    """Local name -> dotted module path or object path, from every import in a module."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        # The local names bound to TensorFlow itself (`tf`), in the order they appear.
        self.tensorflow_aliases: list[tuple[str, str]] = []

    def add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._bind(alias.asname, alias.name)
                else:
                    # `import a.b.c` binds `a`, and `a.b.c` resolves through it.
                    head = alias.name.split(".")[0]
                    self._bind(head, head)
            return
        if node.level:  # relative imports name the project's own modules
            base = "." * node.level + (node.module or "")
        else:
            base = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                continue
            # `from . import layers` names ".layers"; `from .models import x`, ".models.x".
            joined = f"{base}{alias.name}" if base.endswith(".") else f"{base}.{alias.name}" if base else alias.name
            self._bind(alias.asname or alias.name, joined)

    def _bind(self, local: str, target: str) -> None:
        self.names[local] = target
        if target in tfapi.TENSORFLOW_MODULES:
            self.tensorflow_aliases.append((local, target))


def name_ids(node: ast.AST) -> set[str]:
    """The ids of every `Name` in `node` (read or bound), as a walk of every node with
    `ast.walk` finds them, reading only the fields that can hold a name."""
    found: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        kind = type(current)
        if kind is ast.Name:
            found.add(current.id)  # type: ignore[attr-defined]
            continue
        for field in child_fields(kind):
            value = getattr(current, field, None)
            if type(value) is list:
                pending.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                pending.append(value)
    return found


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def resolve(
    node: ast.expr,
    imports: ImportTable,
    lookup_alias: Callable[[str], ast.expr | None] | None = None,
    depth: int = 0,
) -> str | None:
    """The canonical qualified name an expression refers to, or None when unknown.

    `lookup_alias(name)` returns the expression a plain name was last assigned, so that
    `slim = tf.contrib.slim` and `bn = slim.batch_norm` resolve as well.
    """
    # A loop, not a recursion (every call of a module is resolved): down the chain of
    # attributes and aliases to a name the imports bind, then back up, folding each step.
    attributes: list[str] = []
    while True:
        if depth > 6:
            return None
        kind = type(node)
        if kind is ast.Attribute:
            attributes.append(node.attr)  # type: ignore[attr-defined]
            node = node.value  # type: ignore[attr-defined]
        elif kind is ast.Name:
            target = imports.names.get(node.id)  # type: ignore[attr-defined]
            if target is not None:
                break
            value = lookup_alias(node.id) if lookup_alias is not None else None  # type: ignore[attr-defined]
            if not isinstance(value, (ast.Name, ast.Attribute)):
                return None
            node = value
        else:
            return None
        depth += 1
    base = tfapi.canonical(target)
    for attribute in reversed(attributes):
        if not base:
            return None
        base = tfapi.canonical(f"{base}.{attribute}")
    return base
