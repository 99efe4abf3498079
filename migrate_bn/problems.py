"""What can keep migrate-bn from processing a file, as typed values with stable codes.

A file that cannot be read, decoded or parsed, a fix that could not be written, and a
failure of migrate-bn itself are each a `Problem`: a kind from the one table below and
the detail of this case. The kind decides everything the tool does with a problem (its
code in JSON, SARIF and GitHub annotations, the exit code); the detail is only shown.

The codes are stable: CI scripts may match on them. E902 and E999 are the codes ruff
gives to a file it cannot read and to one it cannot parse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class Kind(enum.Enum):
    CANNOT_READ = "cannot-read"  # missing, unreadable, a broken link, binary, too large
    CANNOT_DECODE = "cannot-decode"  # bytes that are not text in the file's encoding
    CANNOT_PARSE = "cannot-parse"  # not Python (3 or 2), or not a notebook, or a cell that is not
    NOT_WRITTEN = "not-written"  # fixes found but not written: refused, or the file changed meanwhile
    INTERNAL_ERROR = "internal-error"  # a bug of migrate-bn on this file


# kind: (code, what a person reads in a report's heading)
TABLE: dict[Kind, tuple[str, str]] = {
    Kind.CANNOT_READ: ("E902", "file cannot be read"),
    Kind.CANNOT_DECODE: ("E903", "file cannot be decoded"),
    Kind.CANNOT_PARSE: ("E999", "file cannot be parsed"),
    Kind.NOT_WRITTEN: ("E904", "fixes not written"),
    Kind.INTERNAL_ERROR: ("E900", "internal error of migrate-bn"),
}


@dataclass(frozen=True)
class Problem:
    """One file's problem; `line` (1-based) and `cell` (a notebook's cell, whose line
    it is) when the problem has a place."""

    kind: Kind
    detail: str
    line: Optional[int] = None
    cell: Optional[int] = None

    @property
    def code(self) -> str:
        return TABLE[self.kind][0]

    @property
    def title(self) -> str:
        return TABLE[self.kind][1]

    def __str__(self) -> str:
        return self.detail

    def as_json(self) -> list:
        """For the cache: plain data."""
        return [self.kind.value, self.detail, self.line, self.cell]

    @classmethod
    def from_json(cls, data: list) -> "Problem":
        return cls(Kind(data[0]), data[1], data[2], data[3])
