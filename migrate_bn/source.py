"""Python source as Python itself reads it: bytes to text, text to an `ast` tree."""

from __future__ import annotations

import ast
import re
import tokenize
from typing import Optional

from .problems import Kind, Problem


class SourceError(Exception):
    """The source cannot be decoded or parsed: `kind` says which (problems.Kind), `line`
    and `cell` where, when known."""

    def __init__(self, message: str, kind: Kind = Kind.CANNOT_PARSE, line: Optional[int] = None,
                 cell: Optional[int] = None) -> None:
        super().__init__(message)
        self.kind, self.line, self.cell = kind, line, cell

    @property
    def problem(self) -> Problem:
        return Problem(self.kind, str(self), self.line, self.cell)


_BYTE_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")


def encoding_of(source: bytes) -> str:
    """The encoding Python reads `source` in ("utf-8-sig" when it starts with a BOM):
    a BOM, else a PEP 263 coding cookie on line 1 or 2, else UTF-8. Lines end as Python
    ends them, at CR too (`tokenize.detect_encoding` alone splits at LF only, and so
    misses the cookie of a file with old Mac line endings)."""
    lines = (match.group(0) for match in _BYTE_LINE.finditer(source, 0, 4096))
    try:
        return tokenize.detect_encoding(lambda: next(lines, b""))[0]
    except SyntaxError as error:
        raise SourceError(f"cannot decode: {error}", Kind.CANNOT_DECODE) from None


def decode(source: bytes, encoding: Optional[str] = None) -> str:
    """Decode as Python itself would: BOM, then a PEP 263 coding cookie, else UTF-8
    (`encoding`: what `encoding_of` said, when the caller asked it already)."""
    try:
        return source.decode(encoding or encoding_of(source))
    except (LookupError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot decode: {error}", Kind.CANNOT_DECODE) from None


_TEXT_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, broken where Python (and LSP) break them: \\n, \\r\\n,
    \\r; not at form feeds or Unicode line separators, as `str.splitlines` would."""
    return _TEXT_LINE.findall(text)


def parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        # TabError: Python 2 let tabs and spaces mix; Python 3 does not.
        hint = " (Python 2 code?)" if isinstance(error, TabError) or _looks_like_python2(error) else ""
        where = f" at line {error.lineno}" if error.lineno else ""
        raise SourceError(f"cannot parse: {error.msg}{where}{hint}", line=error.lineno) from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {error}") from None


def _looks_like_python2(error: SyntaxError) -> bool:
    text = (error.text or "").strip()
    return "print" in (error.msg or "").lower() or text.startswith(("print ", "exec ")) or \
        "except" in text and "," in text and " as " not in text
