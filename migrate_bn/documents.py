"""A file as the analysis reads it: its kind, and a Python 3 view of it with the way back.

Every rule, every fact and every fix works on Python 3 source. A Python 3 file is its
own view. A Python 2 file is viewed as the Python 3 file 2to3's syntax fixers make of it,
line for line (`python2.py`); a notebook as its code cells joined in order
(`notebooks.py`). A view answers two questions, and the rest of the tool never asks
which kind of file it has:

- `locate`: where a position of the view is in the file (its line and column, and for a
  notebook its cell), so that findings point at the user's own text;
- `write_back`: the file's new bytes after fixes changed the view, with every byte
  outside the fixes as it was; or `WriteBackRefused` when that cannot be guaranteed.

The Python 2 path runs only for files that do not parse as Python 3, so Python 3 trees
pay nothing for it (docs/architecture.md).
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .findings import Finding, Span
from .source import SourceError, decode, encoding_of, parse

PYTHON3, PYTHON2, NOTEBOOK = "python3", "python2", "notebook"
NOTEBOOK_SUFFIX = ".ipynb"


class WriteBackRefused(Exception):
    """Fixes changed the view in a way that cannot be carried back into the file
    without touching code they did not change; nothing is written."""


@dataclass(frozen=True)
class Location:
    """A place in the file: 1-based line, 1-based character column; for a notebook,
    the 1-based code-cell number (counting every cell, as Jupyter shows them) with the
    line inside that cell."""

    line: int
    column: int
    cell: Optional[int] = None


class View:
    """A Python 3 file: its own view. Subclasses override `locate` and `write_back`."""

    kind = PYTHON3

    def __init__(self, source: bytes, text: str, tree: ast.Module, encoding: str) -> None:
        self.source = source  # the file's bytes
        self.text = text  # the Python 3 source the analysis reads
        self.tree = tree  # `text`, parsed once
        self.encoding = encoding  # the file's encoding, which the view's bytes use too

    @property
    def code(self) -> bytes:
        """The view as bytes, for LibCST's rewriting."""
        return self.source if self.kind == PYTHON3 else self.text.encode(self.encoding)

    def locate(self, line: int, column: int) -> Location:
        return Location(line, column)

    def write_back(self, new_code: bytes) -> bytes:
        """The file's bytes once the view's bytes are `new_code`."""
        return new_code

    def line_name(self, line: int) -> str:
        """How a message names a line of the view: "line 12", "cell 3, line 2"."""
        where = self.locate(line, 1)
        return f"line {where.line}" if where.cell is None else f"cell {where.cell}, line {where.line}"

    # --- findings ------------------------------------------------------------------

    def place(self, findings: Sequence[Finding]) -> list[Finding]:
        """`findings` with their spans (and related spans) moved from the view into
        the file. Their fixes keep the view's positions: fixes apply to the view."""
        if self.kind == PYTHON3:
            return list(findings)
        return [dataclasses.replace(finding, span=self.place_span(finding.span),
                                    related=tuple(dataclasses.replace(related, span=self.place_span(related.span))
                                                  if related.path is None else related
                                                  for related in finding.related))
                for finding in findings]

    def place_span(self, span: Span) -> Span:
        start = self.locate(span.line, span.column)
        end = self.locate(span.end_line, span.end_column)
        if end.cell != start.cell:  # a span that leaves its cell ends where the cell ends
            end = Location(start.line, start.column, start.cell)
        return Span(start.line, start.column, end.line, end.column, start.cell)


def read(source: bytes, path: str = "<stdin>", parse_python3: Callable[[str], ast.Module] = parse) -> View:
    """The view of a file's bytes; raises `SourceError` when it is none of the kinds
    migrate-bn reads (the message says why, for Python 3's parse error first).
    `parse_python3`: how a Python 3 text is parsed (the language server's parses only
    what an edit changed); it raises `SourceError` as `source.parse` does."""
    if path.lower().endswith(NOTEBOOK_SUFFIX):
        from . import notebooks

        return notebooks.read(source)
    encoding = encoding_of(source)
    text = decode(source, encoding)
    try:
        return View(source, text, parse_python3(text), encoding)
    except SourceError as python3_error:
        from . import python2

        view = python2.read(source, text, encoding)
        if view is None:
            raise python3_error
        return view
