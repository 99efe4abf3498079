"""The values that flow from rules to shells: findings, their fixes and locations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union


@dataclass(frozen=True)
class Span:
    """A source range; lines and columns are 1-based, columns count characters. In a
    notebook, `cell` is the cell's 1-based number and lines count inside that cell."""

    line: int
    column: int
    end_line: int
    end_column: int
    cell: Optional[int] = None


@dataclass(frozen=True)
class Related:
    """Another place a finding depends on (the batch-norm site of a train op)."""

    span: Span
    message: str
    path: str | None = None  # None: the finding's own file


# Edits are stated by the line a statement starts on, which both the analysis tree
# (ast) and the rewriting tree (LibCST) agree on.

@dataclass(frozen=True)
class WrapInWith:
    """Put the simple statement that starts on `line` inside `with <header>:`."""

    line: int
    header: str


@dataclass(frozen=True)
class MoveBefore:
    """Move the simple statement that starts on `line` to just before `before_line`."""

    line: int
    before_line: int


@dataclass(frozen=True)
class AddImport:
    """`import <module> as <alias>` after the module's imports."""

    module: str
    alias: str


@dataclass(frozen=True)
class ReplaceNode:
    """Replace the expression spanning exactly this range (1-based lines, 0-based
    character columns, as LibCST counts them) with `code`."""

    line: int
    column: int
    end_line: int
    end_column: int
    code: str


@dataclass(frozen=True)
class AddKeyword:
    """Add `keyword=value` to the call spanning exactly this range (as ReplaceNode)."""

    line: int
    column: int
    end_line: int
    end_column: int
    keyword: str
    value: str


@dataclass(frozen=True)
class AddDictEntry:
    """Add `key: value` to the dict display spanning exactly this range (as ReplaceNode)."""

    line: int
    column: int
    end_line: int
    end_column: int
    key: str
    value: str


@dataclass(frozen=True)
class InsertBefore:
    """Insert the statement `code` before the statement that starts on `line`."""

    line: int
    code: str


Edit = Union[WrapInWith, MoveBefore, AddImport, ReplaceNode, AddKeyword, AddDictEntry, InsertBefore]
NodeEdit = Union[ReplaceNode, AddKeyword, AddDictEntry]


@dataclass(frozen=True)
class Fix:
    applicability: str  # "safe" | "unsafe"
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    span: Span
    severity: str = "error"
    fix: Fix | None = None
    related: tuple[Related, ...] = field(default_factory=tuple)
    # Other ways to fix it, offered (JSON, editors) but never applied by `fix`.
    alternatives: tuple[Fix, ...] = field(default_factory=tuple)

    def sort_key(self) -> tuple:
        return (self.span.line, self.span.column, self.code)

    @property
    def fix_applicability(self) -> str | None:
        """"safe", "unsafe", or None when the finding has no fix."""
        return self.fix.applicability if self.fix is not None else None
