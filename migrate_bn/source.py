"""Python source as Python itself reads it: bytes to text, text to an `ast` tree."""

from __future__ import annotations

import ast
import io
import tokenize


class SourceError(Exception):
    """The source cannot be decoded or parsed."""


def decode(source: bytes) -> str:
    """Decode as Python itself would: BOM, then a PEP 263 coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise SourceError(f"cannot decode: {error}") from None


def parse(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as error:
        # TabError: Python 2 let tabs and spaces mix; Python 3 does not.
        hint = " (Python 2 code?)" if isinstance(error, TabError) or _looks_like_python2(error) else ""
        raise SourceError(f"cannot parse: {error.msg} at line {error.lineno}{hint}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {error}") from None


def _looks_like_python2(error: SyntaxError) -> bool:
    text = (error.text or "").strip()
    return "print" in (error.msg or "").lower() or text.startswith(("print ", "exec ")) or \
        "except" in text and "," in text and " as " not in text
