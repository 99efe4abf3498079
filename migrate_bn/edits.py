"""Apply a finding's edits to source code with LibCST, touching nothing else.

LibCST round-trips a module byte for byte (encoding, BOM handling, line endings,
comments, indentation), so code outside an edited statement is untouched; the edits
below only replace, wrap or move whole statements. Statements are found by the line
they start on, which the analysis (`ast`) and LibCST agree on.
"""

from __future__ import annotations

import ast
import io
import tokenize

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .source import encoding_of
from .findings import (AddDictEntry, AddImport, AddKeyword, Edit, InsertBefore, MoveBefore, NodeEdit,
                       ReplaceNode, WrapInWith)

_BACKSLASH_NEWLINE = re.compile(r"\\(\r\n|\r|\n)")


@dataclass
class EditOutcome:
    code: bytes
    applied: list[Edit] = field(default_factory=list)
    skipped: list[Edit] = field(default_factory=list)


class _ReindentBackslashContinuations(cst.CSTTransformer):
    """Continuation lines after a backslash hold absolute indentation; shift them with
    the statement they belong to (parenthesized ones follow their block by themselves)."""

    def __init__(self, unit: str) -> None:
        self.unit = unit

    def leave_SimpleWhitespace(self, original_node: cst.SimpleWhitespace,
                               updated_node: cst.SimpleWhitespace) -> cst.SimpleWhitespace:
        if "\\" not in updated_node.value:
            return updated_node
        value = _BACKSLASH_NEWLINE.sub(lambda m: m.group(0) + self.unit, updated_node.value)
        return updated_node.with_changes(value=value)


Statement = Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]


class _Applier(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module, edits: Sequence[Edit],
                 moved: dict[int, cst.SimpleStatementLine],
                 lines: Optional[dict[int, int]] = None, indent_unit: Optional[str] = None) -> None:
        super().__init__()
        # Statement start lines, when known without LibCST's position metadata.
        self.lines = lines
        # The file's indentation unit, when `module` is a part of it (see _splice).
        self.indent_unit = indent_unit
        self.module = module
        self.wraps: dict[int, list[str]] = {}
        self.moves_to: dict[int, list[MoveBefore]] = {}
        self.imports = [e for e in edits if isinstance(e, AddImport)]
        self.node_edits: dict[tuple[int, int, int, int], list[NodeEdit]] = {}
        for edit in edits:
            if isinstance(edit, (ReplaceNode, AddKeyword, AddDictEntry)):
                key = (edit.line, edit.column, edit.end_line, edit.end_column)
                self.node_edits.setdefault(key, []).append(edit)
        self.inserts: dict[int, list[InsertBefore]] = {}
        for edit in edits:
            if isinstance(edit, InsertBefore):
                self.inserts.setdefault(edit.line, []).append(edit)
        for edit in edits:
            if isinstance(edit, WrapInWith):
                headers = self.wraps.setdefault(edit.line, [])
                if edit.header not in headers:
                    headers.append(edit.header)
            elif isinstance(edit, MoveBefore):
                self.moves_to.setdefault(edit.before_line, []).append(edit)
        self.moved = moved
        self.applied: list[Edit] = []
        self.edits = list(edits)

    def _line(self, node: cst.CSTNode) -> int:
        if self.lines is not None:
            return self.lines.get(id(node), 0)
        return self.get_metadata(PositionProvider, node).start.line

    def _rebuild(self, original: Sequence[Statement], updated: Sequence[Statement]) -> list[Statement]:
        lines = [self._line(statement) for statement in original]
        # A move happens only within one block, and only when both ends are in it:
        # a statement is never dropped without being put back.
        moves = [m for line in lines for m in self.moves_to.get(line, ())
                 if m.line in lines and m.line < m.before_line and m.line in self.moved]
        moving_from = {m.line for m in moves}
        body: list[Statement] = []
        carried: Sequence[cst.EmptyLine] = ()
        # The comments each moved statement takes along (by its line).
        taken: dict[int, list[cst.EmptyLine]] = {}
        for index, (line, before, after) in enumerate(zip(lines, original, updated)):
            if carried:
                # What stayed behind of the moved statement's leading lines now leads its
                # old next neighbour; blank lines only when that is not separated already.
                leading = list(after.leading_lines)
                if any(kept.comment is not None for kept in carried) or not leading:
                    if leading and leading[0].comment is None and carried[-1].comment is None:
                        leading.pop(0)  # a blank line on both sides of the gap becomes one
                    after = after.with_changes(leading_lines=[*carried, *leading])
                carried = ()
            if not body and line != lines[0] and line not in moving_from:
                # What became the first statement of its block starts it without blank lines.
                leading = list(after.leading_lines)
                while leading and leading[0].comment is None:
                    leading.pop(0)
                after = after.with_changes(leading_lines=leading)
            for move in moves:
                if move.before_line == line:
                    node = self.moved[move.line]
                    # The moved read goes below the comments that introduce its new neighbour.
                    body.append(node.with_changes(leading_lines=[*after.leading_lines, *taken.get(move.line, ())]))
                    after = after.with_changes(leading_lines=[])
                    self.applied.append(move)
            if line in moving_from:
                # Comments directly above the statement go with it when they and it are a
                # paragraph of their own (a blank line or the block's end follows); when
                # the next statement follows at once, they head that paragraph and stay.
                comments = _own_comments(before)
                following = original[index + 1] if index + 1 < len(original) else None
                if following is None or _starts_with_blank_line(following):
                    taken[line] = comments
                    comments = []
                carried = list(before.leading_lines[: len(before.leading_lines) - len(_own_comments(before))]) + comments
                continue
            for insert in self.inserts.get(line, ()):
                statement = cst.parse_statement(insert.code, config=self.module.config_for_parsing)
                # Blank lines stay above the new statement; comments stay with theirs.
                comments = _own_comments(after)
                blank = list(after.leading_lines[: len(after.leading_lines) - len(comments)])
                body.append(statement.with_changes(leading_lines=blank))
                after = after.with_changes(leading_lines=comments)
                self.applied.append(insert)
            if line in self.wraps and isinstance(after, cst.SimpleStatementLine):
                for header in self.wraps[line]:
                    after = self._wrap(after, header)
                self.applied.extend(e for e in self.edits if isinstance(e, WrapInWith) and e.line == line)
            body.append(after)
        return body

    def _wrap(self, statement: Statement, header: str) -> cst.With:
        template = cst.parse_statement(f"with {header}:\n    pass\n", config=self.module.config_for_parsing)
        assert isinstance(template, cst.With)
        unit = self.indent_unit or self.module.default_indent
        inner = statement.with_changes(leading_lines=[])
        inner = inner.visit(_ReindentBackslashContinuations(unit))
        return template.with_changes(
            leading_lines=statement.leading_lines,
            # The file's unit, stated when it is not what this (part of the) module defaults to.
            body=cst.IndentedBlock(body=[inner], indent=None if unit == self.module.default_indent else unit),  # type: ignore[list-item]
        )

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        if self.node_edits and isinstance(original_node, cst.BaseExpression):
            position = self.get_metadata(PositionProvider, original_node)
            key = (position.start.line, position.start.column, position.end.line, position.end.column)
            for edit in self.node_edits.get(key, ()):
                changed = self._edit_node(updated_node, edit)
                if changed is not None:
                    updated_node = changed
                    self.applied.append(edit)
        return super().on_leave(original_node, updated_node)

    def _parse(self, code: str) -> cst.BaseExpression:
        return cst.parse_expression(code, config=self.module.config_for_parsing)

    def _edit_node(self, node: cst.CSTNode, edit: NodeEdit) -> Optional[cst.CSTNode]:
        if isinstance(edit, ReplaceNode):
            new = self._parse(edit.code)
            return new.with_changes(lpar=[*node.lpar, *new.lpar], rpar=[*new.rpar, *node.rpar])  # type: ignore[attr-defined]
        if isinstance(edit, AddKeyword) and isinstance(node, cst.Call):
            new = cst.Arg(keyword=cst.Name(edit.keyword), value=self._parse(edit.value),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                whitespace_after=cst.SimpleWhitespace("")))
            return node.with_changes(args=_append(list(node.args), new))
        if isinstance(edit, AddDictEntry) and isinstance(node, cst.Dict):
            new = cst.DictElement(key=self._parse(edit.key), value=self._parse(edit.value))
            return node.with_changes(elements=_append(list(node.elements), new))
        return None

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(body=self._rebuild(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = self._rebuild(original_node.body, updated_node.body)
        for edit in self.imports:
            body = _insert_import(body, edit, self.module)
            self.applied.append(edit)
        return updated_node.with_changes(body=body)


def _append(items: list, new: Any) -> list:
    """Append an argument or dict element, following the layout of those before it: one
    line gets `, new`; a trailing-comma layout gets `new` on a line of its own."""
    if not items:
        return [new]
    last = items[-1]
    if isinstance(last.comma, cst.Comma):
        # Trailing comma: the new item takes the place (and the comma) of the closing one,
        # and the last item gets the separator its neighbours use.
        separator = items[-2].comma if len(items) > 1 and isinstance(items[-2].comma, cst.Comma) \
            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        return [*items[:-1], last.with_changes(comma=separator), new.with_changes(comma=last.comma)]
    return [*items[:-1], last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), new]


def _own_comments(statement: cst.CSTNode) -> list[cst.EmptyLine]:
    """The comment lines directly above a statement, with no blank line between."""
    lines = list(getattr(statement, "leading_lines", ()))
    own: list[cst.EmptyLine] = []
    for line in reversed(lines):
        if line.comment is None:
            break
        own.insert(0, line)
    return own


def _starts_with_blank_line(statement: cst.CSTNode) -> bool:
    lines = list(getattr(statement, "leading_lines", ()))
    return bool(lines) and lines[0].comment is None


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _is_docstring(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and \
        isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _insert_import(body: list[Statement], edit: AddImport, module: cst.Module) -> list[Statement]:
    statement = cst.parse_statement(f"import {edit.module} as {edit.alias}\n", config=module.config_for_parsing)
    position = 0
    if body and _is_docstring(body[0]):
        position = 1
    for index, existing in enumerate(body):
        if _is_import_line(existing):
            position = index + 1
        elif index >= position and not _is_docstring(existing):
            break
    return [*body[:position], statement, *body[position:]]  # type: ignore[list-item]


class RoundTripError(Exception):
    """LibCST does not give back the bytes it parsed: rewriting would change the file elsewhere."""


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _only_comments(text: bytes) -> bool:
    """Blank lines, comments, and lone backslashes that join them: no code."""
    return all(line.strip(b" \t\f") in (b"", b"\\") or line.lstrip(b" \t\f").startswith(b"#")
               for line in _LINE_BREAK.split(text))


def _lost_tail(source: bytes, rendered: bytes) -> Optional[tuple[bytes, bytes]]:
    """Where LibCST's rendering of the untouched module differs from `source`: the
    rendered end and the original end to put back in its place. Its native parser loses
    bytes only after the last statement (a final lone CR; blank lines before a last line
    of spaces or before trailing comments indented deeper than their block); a
    difference anywhere else is refused."""
    if rendered == source:
        return None
    start = next((i for i, (a, b) in enumerate(zip(source, rendered)) if a != b), min(len(source), len(rendered)))
    while start and source[start - 1:start] in (b" ", b"\t", b"\f"):
        start -= 1
    if _only_comments(source[start:]) and _only_comments(rendered[start:]):
        return rendered[start:], source[start:]
    raise RoundTripError(f"LibCST does not reproduce this file byte for byte (from byte {start} on)")


def apply_edits(source: bytes, edits: Iterable[Edit]) -> EditOutcome:
    """Rewrite `source` with `edits`; raises libcst.ParserSyntaxError if it cannot parse,
    RoundTripError if LibCST would not keep the rest of the file as it is."""
    edits = list(dict.fromkeys(edits))  # two findings may ask for the same wrap
    # The encoding as Python reads it: LibCST's own detection misses the coding cookie
    # of a file whose lines end in CR alone.
    spliced = _splice(source, edits)
    if spliced is not None:
        return spliced
    module = cst.parse_module(source, cst.PartialParserConfig(encoding=encoding_of(source)))
    lost = _lost_tail(source, module.bytes)
    move_lines = {e.line for e in edits if isinstance(e, MoveBefore)}
    lines = None if any(isinstance(e, (ReplaceNode, AddKeyword, AddDictEntry)) for e in edits) \
        else _statement_lines(module, source)
    if lines is not None:
        # Only statements are edited: their lines come from `ast`, several times cheaper
        # than LibCST's position metadata (a full pass over every node).
        moved = {line: node for node in _all_statements(module) if isinstance(node, cst.SimpleStatementLine)
                 for line in [lines.get(id(node))] if line in move_lines}
        applier = _Applier(module, edits, moved, lines)
        new_module = module.visit(applier)
    else:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(PositionProvider)
        moved = {
            pos.start.line: node
            for node, pos in positions.items()
            if isinstance(node, cst.SimpleStatementLine) and pos.start.line in move_lines
        }
        applier = _Applier(module, edits, moved)
        new_module = wrapper.visit(applier)
    applied = applier.applied
    skipped = [e for e in edits if e not in applied]
    code = new_module.bytes
    if lost is not None:
        rendered_end, source_end = lost
        if not code.endswith(rendered_end):
            raise RoundTripError("LibCST does not reproduce the end of this file, and a fix changed it")
        code = code[:len(code) - len(rendered_end)] + source_end
    return EditOutcome(code, applied, skipped)


def _statement_lines(module: cst.Module, source: bytes) -> Optional[dict[int, int]]:
    """The start line of every LibCST statement, by walking LibCST's and `ast`'s
    statement trees side by side (they hold the same statements in the same order).
    None where they do not line up: the caller then asks LibCST for positions."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    lines: dict[int, int] = {}
    if not _pair(module.body, tree.body, lines):
        return None
    return lines


def _pair(cst_body: Sequence[cst.CSTNode], ast_body: Sequence[ast.stmt], lines: dict[int, int]) -> bool:
    if len(cst_body) != len(ast_body):
        return False
    for mine, theirs in zip(cst_body, ast_body):
        lines[id(mine)] = theirs.lineno
        for cst_block, ast_block in _blocks_of(mine, theirs):
            if not _pair(cst_block, ast_block, lines):
                return False
    return True


def _blocks_of(mine: cst.CSTNode, theirs: ast.stmt) -> list[tuple[Sequence[cst.CSTNode], list[ast.stmt]]]:
    """The nested statement lists of a compound statement, in both trees."""
    if isinstance(mine, cst.SimpleStatementLine):
        return []
    pairs: list = []
    body = getattr(mine, "body", None)
    if isinstance(body, cst.IndentedBlock):
        pairs.append((body.body, getattr(theirs, "body", [])))
    orelse = getattr(mine, "orelse", None)
    if isinstance(orelse, cst.If):  # elif: one If statement in ast's orelse
        pairs.append(([orelse], getattr(theirs, "orelse", [])))
    elif isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock):
        pairs.append((orelse.body.body, getattr(theirs, "orelse", [])))
    handlers = getattr(mine, "handlers", None)
    if handlers:
        for handler, ast_handler in zip(handlers, getattr(theirs, "handlers", [])):
            if isinstance(handler.body, cst.IndentedBlock):
                pairs.append((handler.body.body, ast_handler.body))
    final = getattr(mine, "finalbody", None)
    if isinstance(final, cst.Finally) and isinstance(final.body, cst.IndentedBlock):
        pairs.append((final.body.body, getattr(theirs, "finalbody", [])))
    return pairs


def _all_statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = list(module.body)
    while stack:
        node = stack.pop()
        yield node
        for block, _ in _blocks_of(node, ast.Pass()):
            stack.extend(block)


def _splice(source: bytes, edits: list[Edit]) -> Optional[EditOutcome]:
    """The fast path for edits of statements within top-level statements (most fixes):
    parse, transform and render only the top-level statements that hold an edit, with the
    file's own indentation and line ending, and put their new text in place of their
    old lines. The rest of the file is neither parsed by LibCST nor rendered: it stays
    byte for byte. None when the edits do not fit (an import, an expression edit, a move
    or insertion in the module's own body) or a statement's text does not round-trip;
    the caller then rewrites the whole module."""
    if any(isinstance(e, (ReplaceNode, AddKeyword, AddDictEntry, AddImport)) for e in edits):
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    ranges = [(statement.lineno, statement.end_lineno or statement.lineno) for statement in tree.body]
    touched: dict[int, list[Edit]] = {}
    for edit in edits:
        at = [edit.line, edit.before_line] if isinstance(edit, MoveBefore) else [edit.line]  # type: ignore[union-attr]
        owners = {next((i for i, (first, last) in enumerate(ranges) if first <= line <= last), None) for line in at}
        if len(owners) != 1 or None in owners:
            return None
        index = owners.pop()
        if not isinstance(edit, WrapInWith) and any(line == ranges[index][0] for line in at):
            return None  # a move or insertion in the module's own body changes its list
        touched.setdefault(index, []).append(edit)  # type: ignore[arg-type]
    breaks = [match.end() for match in re.finditer(rb"\r\n?|\n", source)]
    starts = [0] + breaks
    newline = source[breaks[0] - (2 if source[breaks[0] - 2:breaks[0]] == b"\r\n" else 1):breaks[0]].decode() \
        if breaks else "\n"
    encoding = encoding_of(source)
    indent = _first_indent(source, encoding)
    code, applied = source, []
    for index in sorted(touched, reverse=True):  # from the end: earlier offsets stay valid
        first, last = ranges[index]
        if any(i != index and not (b_last < first or b_first > last) for i, (b_first, b_last) in enumerate(ranges)):
            return None  # another statement shares these lines
        begin = starts[first - 1]
        end = starts[last] if last < len(starts) else len(source)
        snippet = source[begin:end]
        try:
            mini = cst.parse_module(snippet, cst.PartialParserConfig(encoding=encoding))
        except cst.ParserSyntaxError:
            return None
        if mini.bytes != snippet or len(mini.body) != 1:
            return None
        if mini.default_newline != newline:
            # The snippet's own line breaks that match its first one are stored as "the
            # default"; another default would rewrite them (a file mixing line endings).
            return None
        # The snippet keeps its own default indent: its nested blocks are stored relative
        # to it, and another default would re-indent them (a function indented unlike the
        # file's first block). Only a block the fix adds is told the file's unit.
        lines: dict[int, int] = {}
        if not _pair(mini.body, [tree.body[index]], lines):
            return None
        moved = {lines[id(node)]: node for node in _all_statements(mini)
                 if isinstance(node, cst.SimpleStatementLine) and id(node) in lines}
        applier = _Applier(mini, touched[index], moved, lines, indent_unit=indent)
        new = mini.visit(applier)
        applied += applier.applied
        code = code[:begin] + new.bytes + code[end:]
    return EditOutcome(code, applied, [e for e in edits if e not in applied])


def _first_indent(source: bytes, encoding: str) -> Optional[str]:
    """The file's indentation unit, as LibCST would detect it: its first indented block."""
    try:
        text = source.decode(encoding)
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.INDENT:
                return token.string
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        return None
    return None
