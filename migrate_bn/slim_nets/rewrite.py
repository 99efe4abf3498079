"""The text edits of a net conversion (slim_nets.upgrade decides what converts).

Each net call becomes a call of a Keras model built once at module level, just before
the top-level statement that held the call; the `with slim.arg_scope(...)` around it
goes (its body moves out one level); `from slim_nets_keras import <family>` comes after
the module's imports, and the slim imports nothing uses any more go.
"""

from __future__ import annotations

import ast

from ..script import fresh_name
from ..source import split_lines
from .table import EMITTED_PACKAGE

SLIM_MODULES = ("tf_slim", "tensorflow.contrib", "nets")


class RewriteRefused(Exception):
    def __init__(self, kind: str, line: int, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.line, self.detail = kind, line, detail


def rewritten(facts, text: str, converted: list) -> tuple[str, list]:
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:column].decode("utf-8", "replace"))

    def span(node) -> tuple[int, int]:
        return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)

    taken = {node.id for node in ast.walk(facts.tree) if isinstance(node, ast.Name)}
    taken |= {node.name for node in ast.walk(facts.tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    taken |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(facts.tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    families: dict[str, str] = {}
    for net in converted:
        if net.family not in families:
            # The slim import of the family goes, so its name can be the Keras module's.
            free = net.family not in taken or _bound_by_slim_import(facts.tree, net.family)
            families[net.family] = net.family if free else fresh_name(f"keras_{net.family}", taken)

    call_edits, insertions, blocks = [], {}, {}
    for net in converted:
        model = fresh_name(f"{net.net}_model", taken)
        call_edits.append((*span(net.call), f"{model}({net.arguments})"))
        outermost = facts.enclosing_statements.get(id(net.call), (net.with_block,))[0]
        _check_constants_before(facts, net, outermost.lineno)
        construction = f"{model} = {net.constructor.format(family=families[net.family])}\n"
        insertions.setdefault(outermost.lineno, []).append(construction)
        blocks[id(net.with_block)] = net.with_block

    edits = []
    for block in blocks.values():
        for node in ast.walk(block):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.lineno != node.end_lineno:
                raise RewriteRefused("multiline-string", node.lineno, "a string over several lines inside the "
                                     "arg scope's `with`, which moves out one level")
        body_start = starts[block.body[0].lineno - 1]
        end = starts[block.end_lineno]
        inner = sorted(edit for edit in call_edits if body_start <= edit[0] and edit[1] <= end)
        pieces, at = [], body_start
        for edit_start, edit_end, replacement in inner:
            pieces += [text[at:edit_start], replacement]
            at = edit_end
        pieces.append(text[at:end])
        width = _indent(lines[block.body[0].lineno - 1]) - _indent(lines[block.lineno - 1])
        edits.append((starts[block.lineno - 1], end, _dedent("".join(pieces), width)))
    for line, constructions in insertions.items():
        blank = "\n\n" if isinstance(_statement_at(facts.tree, line), (ast.FunctionDef, ast.ClassDef)) else ""
        edits.append((starts[line - 1], starts[line - 1], "".join(constructions) + blank))
    imports = [node for node in facts.tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    after_imports = starts[imports[-1].end_lineno] if imports else 0
    new_imports = "".join(f"from {EMITTED_PACKAGE} import {family}" + (f" as {local}" if local != family else "")
                          + "\n" for family, local in families.items())
    edits.append((after_imports, after_imports, new_imports))

    out, at = [], 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    new_text = _without_unused_slim_imports("".join(out), set(families.values()))
    notes = [(1, f"the Keras version of tf-slim's nets is written beside this module as `{EMITTED_PACKAGE}/`: "
                 "`migrate-bn ckpt-convert --slim-net NAME` turns slim's checkpoints into its weights")]
    return new_text, notes


def _bound_by_slim_import(tree: ast.Module, name: str) -> bool:
    """Is `name` bound only by a module-level import from tf-slim (which the rewrite removes)?"""
    bindings = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == name
                and isinstance(node.ctx, ast.Store)]
    importers = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 and any((alias.asname or alias.name) == name for alias in node.names)]
    return not bindings and bool(importers) and all(_from_slim(node) for node in importers)


def _from_slim(node) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith(SLIM_MODULES)
    return all(alias.name.startswith(SLIM_MODULES) for alias in node.names)


def _without_unused_slim_imports(text: str, keras_names: set) -> str:
    """Drop the names slim imports bind that the converted module no longer reads (and
    those the Keras modules' imports now bind)."""
    tree = ast.parse(text)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    lines = split_lines(text)
    for node in reversed(tree.body):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or not _from_slim(node):
            continue
        keep = [alias for alias in node.names
                if (alias.asname or alias.name.split(".")[0]) in used - keras_names]
        if len(keep) == len(node.names):
            continue
        replacement = []
        if keep:
            names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in keep)
            head = f"from {'.' * node.level}{node.module or ''} import " if isinstance(node, ast.ImportFrom) \
                else "import "
            replacement = [head + names + "\n"]
        lines[node.lineno - 1:node.end_lineno] = replacement
    return "".join(lines)


def _check_constants_before(facts, net, line: int) -> None:
    for node in ast.walk(ast.parse(net.constructor.format(family="_"))):
        if isinstance(node, ast.Name) and node.id != "_":
            bindings = facts.module.assignments.get(node.id, [])
            if not bindings or bindings[0][0] >= line:
                raise RewriteRefused("not-constant", net.call.lineno, f"`{node.id}` is bound after the statement "
                                     "the Keras model must be built before")


def _statement_at(tree: ast.Module, line: int):
    return next((node for node in tree.body if node.lineno == line), None)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _dedent(text: str, width: int) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        lead = _indent(line)
        out.append(line[min(width, lead):] if line.strip() else line.lstrip(" \t"))
    return "".join(out)
