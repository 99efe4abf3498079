"""Suppression comments: `# migrate-bn: ignore[BN001]`, `# migrate-bn: ignore`, and
flake8/ruff-style `# noqa: BN001`, on the finding's line or any line of its statement.

A bare `# noqa` is left to the linters it was written for: it does not silence
migrate-bn, whose findings are bugs rather than style.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Optional, Sequence

from .findings import Finding, Span

ALL = "*"
_IGNORE = re.compile(r"#\s*migrate-bn:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)", re.IGNORECASE)
_MARKERS = ("migrate-bn:", "noqa")


@dataclass
class Suppression:
    line: int
    column: int
    codes: frozenset[str]  # or {ALL}
    used: set[str] = field(default_factory=set)


def find(text: str) -> list[Suppression]:
    """The suppression comments in a module (cheap when it has none)."""
    if not any(marker in text for marker in _MARKERS):
        return []
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _IGNORE.search(token.string)
            if match:
                codes = match.group("codes")
                parsed = frozenset(c.strip().upper() for c in codes.split(",") if c.strip()) if codes else {ALL}
            else:
                match = _NOQA.search(token.string)
                if not match:
                    continue
                parsed = frozenset(c.strip().upper() for c in match.group("codes").split(",")
                                   if c.strip().upper().startswith("BN"))
                if not parsed:
                    continue
            found.append(Suppression(token.start[0], token.start[1] + 1, frozenset(parsed)))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return found
    return found


def statement_lines(tree: ast.Module) -> list[tuple[int, int]]:
    """The line ranges of every statement, for "on the statement" suppressions."""
    return [(node.lineno, node.end_lineno or node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.stmt) and not isinstance(node, _BLOCKS)]


_BLOCKS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
           ast.While, ast.With, ast.AsyncWith, ast.Try)


def apply(findings: Sequence[Finding], suppressions: list[Suppression],
          statements: list[tuple[int, int]]) -> list[Finding]:
    """The findings no suppression covers; marks the suppressions that were used."""
    if not suppressions:
        return list(findings)
    by_line: dict[int, list[Suppression]] = {}
    for suppression in suppressions:
        by_line.setdefault(suppression.line, []).append(suppression)
    kept = []
    for finding in findings:
        lines = _lines_of(finding.span, statements)
        matched: Optional[Suppression] = None
        for line in lines:
            for suppression in by_line.get(line, ()):
                if ALL in suppression.codes or finding.code in suppression.codes:
                    matched = suppression
                    break
            if matched:
                break
        if matched is None:
            kept.append(finding)
        else:
            matched.used.add(finding.code)
    return kept


def innermost_statement(span: Span, statements: list[tuple[int, int]]) -> Optional[tuple[int, int]]:
    """The lines of the shortest statement (from `statement_lines`) holding the span's start."""
    containing = [(start, end) for start, end in statements if start <= span.line <= end]
    return min(containing, key=lambda r: r[1] - r[0]) if containing else None


def _lines_of(span: Span, statements: list[tuple[int, int]]) -> range:
    innermost = innermost_statement(span, statements)
    if innermost is None:
        return range(span.line, span.end_line + 1)
    start, end = innermost
    return range(min(start, span.line), max(end, span.end_line) + 1)


def unused(suppressions: list[Suppression]) -> list[Suppression]:
    return [s for s in suppressions if not s.used or (ALL not in s.codes and s.codes - s.used)]
