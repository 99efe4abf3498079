"""Whether a module's import summary can hold a name, told from its bytes alone.

`project.Resolver.producer("models.build")` asks the summary of `models.py` for `build`
(`project.Project.summary`), and making a summary parses the module and builds its
facts (233 of the bulk tree's parses were for summaries). A summary's names are those
of the functions and classes the module defines at its top level (`def build`, `class
Net`) and those its import statements bind (`from .resnet import build`, `import x as
build`); a name it gets through a star import is not in it (`star_imports.star_producer`
answers that apart). Every one of them is spelled in the module's text: after `def` or
`class`, or after `import` with only names, dots, commas, brackets, `as`, line breaks
and comments between. So when no spelling of the name in the bytes is placed so, the
summary cannot hold it and the module need not be read further for this question.

The test is a superset of those places (an `import` anywhere on the way back, a name a
comment or a string spells), so it answers "may hold" whenever it cannot tell. It
reads ASCII bytes only: identifiers are NFKC-normalized, so other bytes may spell a name
otherwise. A Python 2 module is read through its Python 3 view (`python2.py`), whose
syntax fixers may spell a few names the bytes do not (`unicode` -> `str`): those are
always "may hold".
"""

from __future__ import annotations

import re
from typing import Optional

# Names a Python 2 module's view may spell where its bytes do not (python2.SYNTAX_FIXERS:
# `long`, `unicode`, backquotes, `exec`, `print`, tuple parameters).
_VIEW_NAMES = frozenset({"int", "str", "repr", "exec", "print"})
_VIEW_PREFIX = "xxx_todo_changeme"
# What may stand between `import` and a name it binds: names, `as`, dots, commas,
# brackets, spaces, line breaks and continuation backslashes (comments are skipped).
_IMPORT_LIST = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ \t\f\r\n.,()\\")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_IMPORT = re.compile(rb"(?<!\w)import(?!\w)")
_DEFINES = re.compile(rb"(?<![\w.])(?:def|class)[ \t\f\\\r\n]*$")


def may_bind(source: Optional[bytes], name: str) -> bool:
    """May the module read from `source` define `name` at its top level or bind it by
    an import (and so its summary hold it)? True when that cannot be told."""
    if source is None or not name.isascii() or not source.isascii():
        return True
    if name in _VIEW_NAMES or name.startswith(_VIEW_PREFIX):
        return True
    spelled = name.encode()
    start = source.find(spelled)
    while start >= 0:
        end = start + len(spelled)
        if (start == 0 or source[start - 1] not in _WORD) and (end == len(source) or source[end] not in _WORD):
            if _bound_here(source, start):
                return True
        start = source.find(spelled, end)
    return False


def _bound_here(source: bytes, start: int) -> bool:
    """Might the spelling at `start` be a name a `def`, a `class` or an import binds?"""
    if _DEFINES.search(source, max(0, start - 64), start):
        return True
    # Back over what an import list may hold, skipping comments, to a non-list byte.
    position = start
    while position > 0:
        byte = source[position - 1]
        if byte in _IMPORT_LIST:
            position -= 1
            continue
        line_start = source.rfind(b"\n", 0, position - 1) + 1
        comment = source.find(b"#", line_start, position - 1)
        if comment < 0:
            break
        position = comment  # the byte is in a comment (or after a `#` in a string: go on)
    return _IMPORT.search(source, position, start) is not None
