"""Which project modules a module may lead into through its imports, from bytes alone.

The program's reach (`program.Program`) follows each entry program's calls into the
project's modules, building the facts of every module on the way: on a large tree most
entries lead nowhere near the module a rule asks about, and their reach costs parses and
facts builds for nothing. A call can lead from module A into module B only through a
name A's own text gives B: `import a.b`, `from a.b import c`, `from . import c`, `from
.a import *`, or re-exports through modules that A names in turn. Every module file
`project.Resolver.module_file` finds is `D/p1/.../pk.py` or `D/p1/.../pk/__init__.py`,
where the parts are identifiers of the importing module and D is a directory it searches
(its own and those above it, as far as the resolver goes, for absolute names; its
package and those above, as far as the dots go, for relative ones), or the `__init__.py`
of such a package (`from . import *`).

`ImportReach.successors(A)` is every file of that form whose parts are identifiers of
A: a superset of the modules the reach can go to from A. The closure of an entry over
it is then a superset of the modules its reach touches, and an entry whose closure
misses a module cannot reach that module's functions: its reach is not built for it.
When a file's identifiers cannot be told from its bytes (a notebook that is not JSON,
text Python could decode differently), it may lead anywhere.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Callable, Optional

from ..notebooks import cell_source_text
from ..project import ancestors
from ..source import SourceError, decode

_IDENTIFIER = re.compile(rb"[A-Za-z_]\w*")
# `from .x import y`, `from ..x import *`, `from \<newline> . import x`: the longest run
# of dots after a `from` bounds how far up a relative import goes.
_RELATIVE = re.compile(rb"from[\s\\]*(\.+)")
_MAX_DEPTH = 32  # directories below a searched one (a symlink loop goes on for ever)


class Anywhere(Exception):
    """A module whose imports cannot be bounded from its bytes."""


class ImportReach:
    """The files each module may lead into, and each entry's closure over them, for one
    program; `read` gives a file's bytes (None when it cannot be read), `marked` says
    whether a directory holds a root marker (`project.Project.marked`)."""

    def __init__(self, read: Callable[[str], Optional[bytes]], marked: Callable[[str], bool]) -> None:
        self._read = read
        self._marked = marked
        self._successors: dict[str, Optional[frozenset[str]]] = {}  # None: anywhere
        self._closures: dict[str, Optional[frozenset[str]]] = {}
        self._listings: dict[str, tuple[tuple[str, bool], ...]] = {}

    def may_lead_to(self, entry: str, target: str) -> bool:
        """Can a call made in module `entry` lead, through any chain of imports, into a
        function or class of module `target`?"""
        if entry not in self._closures:
            self._closures[entry] = self._closure(entry)
        closure = self._closures[entry]
        return closure is None or target in closure

    def forget(self, changed: frozenset[str], files_came_or_went: bool) -> None:
        """Drop the closures, and the successors of the files that `changed` (of every
        file when `files_came_or_went`: what a directory holds decides them too)."""
        self._closures.clear()
        if files_came_or_went:
            self._successors.clear()
            self._listings.clear()
        for path in changed:
            self._successors.pop(path, None)

    def _closure(self, entry: str) -> Optional[frozenset[str]]:
        seen = {entry}
        pending = [entry]
        while pending:
            found = self.successors(pending.pop())
            if found is None:
                return None
            for path in found:
                if path not in seen:
                    seen.add(path)
                    pending.append(path)
        return frozenset(seen)

    def successors(self, path: str) -> Optional[frozenset[str]]:
        """The module files `path` may name (a superset); None when it may name any."""
        if path not in self._successors:
            try:
                self._successors[path] = self._named_by(path)
            except Anywhere:
                self._successors[path] = None
        return self._successors[path]

    def _named_by(self, path: str) -> frozenset[str]:
        source = self._read(path)
        if source is None:
            return frozenset()  # unreadable: no facts, no names, nothing reached from it
        words = identifiers(source, path)
        found: set[str] = set()
        for directory in ancestors(os.path.dirname(path)):  # absolute names, as `Resolver` searches
            self._explore(directory, words, found, 0)
            if self._marked(directory):  # `Resolver` stops there too
                break
        dots = max((len(match) for match in _RELATIVE.findall(source)), default=0)
        base = os.path.dirname(path)
        for level in range(1, dots + 1):  # relative names: the package, and those above
            if level > 1:
                base = os.path.dirname(base)
            init = os.path.join(base, "__init__.py")
            if os.path.isfile(init):
                found.add(init)
            self._explore(base, words, found, 0)
        return frozenset(found)

    def _explore(self, directory: str, words: frozenset[bytes], found: set[str], depth: int) -> None:
        """Add the module files under `directory` whose path parts are all in `words`."""
        if depth > _MAX_DEPTH:
            raise Anywhere(directory)
        for name, is_directory in self._listing(directory):
            if is_directory:
                if _named(name, words):
                    below = os.path.join(directory, name)
                    init = os.path.join(below, "__init__.py")
                    if os.path.isfile(init):
                        found.add(init)
                    self._explore(below, words, found, depth + 1)
            elif name.endswith(".py") and _named(name[:-3], words):
                found.add(os.path.join(directory, name))

    def _listing(self, directory: str) -> tuple[tuple[str, bool], ...]:
        listing = self._listings.get(directory)
        if listing is None:
            entries = []
            try:
                with os.scandir(directory) as scan:
                    for entry in scan:
                        try:
                            entries.append((entry.name, entry.is_dir()))
                        except OSError:
                            entries.append((entry.name, True))  # may be either: explored
            except OSError:
                pass
            listing = self._listings[directory] = tuple(entries)
        return listing


def _named(name: str, words: frozenset[bytes]) -> bool:
    """Can an import spell a part named `name`? A name that is not plain ASCII may be
    the normal form of an identifier spelled otherwise: it always may."""
    return not name.isascii() or name.encode("ascii") in words


def identifiers(source: bytes, path: str) -> frozenset[bytes]:
    """Every identifier the module's code may spell (more, never fewer), as Python reads
    it (as UTF-8): from the bytes when they are ASCII, else from the decoded text in
    normal form (NFKC, as the parser normalizes identifiers); a notebook's from its code
    cells.
    Raises `Anywhere` when the text cannot be told."""
    if path.lower().endswith(".ipynb"):
        try:
            text = _notebook_text(json.loads(source.decode("utf-8-sig")))
        except (ValueError, RecursionError):
            raise Anywhere(path) from None
    elif source.isascii():
        return frozenset(_IDENTIFIER.findall(source))
    elif b"\0" in source:
        raise Anywhere(path)
    else:
        try:
            text = decode(source)
        except SourceError:
            raise Anywhere(path) from None
    # An ASCII name stays a whole run of ASCII word characters in the UTF-8 bytes.
    return frozenset(_IDENTIFIER.findall(unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")))


def _notebook_text(notebook) -> str:
    """The text of a notebook's code cells, as its view (`notebooks.read`) joins them:
    outputs (images in base64, megabytes of them) and markdown are never code. Every
    string of the JSON when it is not shaped as a notebook with code cells of text."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if isinstance(cells, list):
        code = [cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
        texts = [cell_source_text(cell) for cell in code]
        if all(isinstance(text, str) for text in texts):
            return "\n".join(texts)  # type: ignore[arg-type]
    return "\n".join(_strings(notebook))


def _strings(value) -> list[str]:
    found = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found
