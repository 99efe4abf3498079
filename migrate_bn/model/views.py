"""The project's modules as parsed views, shared by the analysis of a file and the
summaries its importers ask for.

A module that builds batch norm is read twice in a run: once when it is analysed, once
when a module that imports it asks what it produces (`project.Project.summary`), and
the second read came as a second `ast.parse`, a tenth of the bulk tree's time. The few
most recently read views are kept, by path, with the bytes they were read from: the
same bytes give the same view (documents.read is a pure function of them and of the
file's suffix), so a view is handed out again only for exactly those bytes.

Bounded by files and by bytes: a syntax tree takes some twenty times the memory of its
source, and most modules are read once.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Optional

from .. import documents

MAX_FILES = 16
MAX_BYTES = 4 * 1024 * 1024


class Views:
    """`read(path, source)`: documents.read, remembered for the last few files."""

    def __init__(self, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> None:
        self.max_files, self.max_bytes = max_files, max_bytes
        self._views: OrderedDict[str, tuple[bytes, documents.View]] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def read(self, path: str, source: bytes) -> documents.View:
        """The view of `source` as the file `path`; raises `SourceError` as documents.read does."""
        key = os.path.abspath(path)
        kept = self._views.get(key)
        if kept is not None and kept[0] == source:
            self._views.move_to_end(key)
            self.hits += 1
            return kept[1]
        self.misses += 1
        view = documents.read(source, path)
        self.forget(key)
        if len(source) <= self.max_bytes:
            self._views[key] = (source, view)
            self._bytes += len(source)
            while len(self._views) > self.max_files or self._bytes > self.max_bytes:
                _, (old, _) = self._views.popitem(last=False)
                self._bytes -= len(old)
        return view

    def forget(self, path: Optional[str] = None) -> None:
        """Drop the view of `path` (every view: None)."""
        if path is None:
            self._views.clear()
            self._bytes = 0
            return
        kept = self._views.pop(os.path.abspath(path), None)
        if kept is not None:
            self._bytes -= len(kept[0])
