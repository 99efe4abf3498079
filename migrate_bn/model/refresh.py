"""Keeping a project's model across saves: which files changed on disk since they were
read, and dropping only what depends on them (the language server, docs/editors.md).

A `Project` made with `watch=True` records a stamp (mtime_ns, size) of every file it
reads, and of every Python file and notebook under each project root its model walks
(taken when the root is first used, before its files are read, so that a change made
between that walk and a read is still seen). `refresh(project)` stats them again and:

- drops the per-module entries of the files that changed (summaries, import scans,
  parsed views, the programs' facts, names and calls) and of the modules whose recorded
  dependencies reach one of them (a summary that re-exports a changed module's
  producer, facts whose names resolve through it);
- when files were added or removed, the module lookups that now answer differently,
  and the modules of the directories that asked them;
- when anything at all changed, the derived whole-program answers (the reach, the
  programs' and the project's answers, the TensorFlow aliases), rebuilt on demand from
  the per-module caches that stayed warm.

Stamps are taken before a read: a file that changes after its stamp and before its
read is seen as changed at the next refresh (its entries are dropped once too many,
never kept stale).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional

if TYPE_CHECKING:
    from ..project import Project
    from .program import Program

Stamp = Optional[tuple[int, int]]  # (mtime_ns, size); None: the file is gone
_SUFFIXES = (".py", ".ipynb")
MAX_FILES = 20000  # a tree larger than this is watched through the files read alone


def stamp(path: str) -> Stamp:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


@dataclass(frozen=True)
class Changes:
    """What a refresh found: the files that changed, were added or were removed, and
    every path whose cached entries were dropped (those files and their dependents)."""

    changed: frozenset[str]
    added: frozenset[str]
    removed: frozenset[str]
    stale: frozenset[str]


class Stamps:
    """The stamps of the files a project's model read, and the roots it walks."""

    def __init__(self) -> None:
        self.files: dict[str, Stamp] = {}
        self.roots: set[str] = set()

    def note(self, path: str) -> None:
        """Before reading `path`: remember its stamp (the first one since the last refresh)."""
        path = os.path.abspath(path)
        if path not in self.files:
            self.files[path] = stamp(path)

    def watch(self, root: str) -> None:
        """Before the model walks `root`: stamp every source file under it."""
        root = os.path.abspath(root)
        if root in self.roots:
            return
        self.roots.add(root)
        for path, found in _tree(root):
            self.files.setdefault(path, found)

    def current(self) -> dict[str, Stamp]:
        """The stamps now, of the files stamped and of the files now under the roots."""
        now: dict[str, Stamp] = {}
        for root in self.roots:
            now.update(_tree(root))
        for path in self.files:
            if path not in now:
                now[path] = stamp(path)
        return now


def _tree(root: str) -> Iterable[tuple[str, Stamp]]:
    from .project_graphs import project_files

    for path in project_files(root, _SUFFIXES, MAX_FILES):
        yield path, stamp(path)


def refresh(project: "Project") -> Changes:
    """Drop what the files changed on disk since they were read make stale (see above)."""
    stamps = project.stamps
    if stamps is None:
        return Changes(frozenset(), frozenset(), frozenset(), frozenset())
    now = stamps.current()
    changed = frozenset(path for path, old in stamps.files.items() if now.get(path) != old)
    added = frozenset(path for path, new in now.items() if path not in stamps.files and new is not None)
    removed = frozenset(path for path in changed if now.get(path) is None)
    stamps.files = {path: found for path, found in now.items() if found is not None}
    if not (changed or added):
        return Changes(changed, added, removed, frozenset())
    from .program import programs_of  # (program.py imports project.py, which imports this module)

    programs = programs_of(project)
    seeds = set(changed)
    if added or removed:
        # A file came or went: a directory listing changed (Resolver.mentioned_elsewhere
        # depends on directories), and module lookups may now answer differently.
        seeds.update(os.path.dirname(path) for path in added | changed)
        seeds.update(_lookups_changed(project, programs))
    stale = _with_dependents(project, programs, seeds)
    _drop(project, programs, stale, changed, added, removed)
    return Changes(changed, added, removed, frozenset(stale))


def _lookups_changed(project: "Project", programs: list["Program"]) -> set[str]:
    """Look every cached module lookup up again; the modules of the directories whose
    lookups now answer differently (they imported by that name) become stale."""
    stale = project.forget_changed_lookups()
    if not stale:
        return stale
    known = project.cached_modules()
    for program in programs:
        known |= program.cached_modules()
    return {path for path in known if os.path.dirname(path) in stale} | stale


def _with_dependents(project: "Project", programs: list["Program"], seeds: set[str]) -> set[str]:
    """`seeds` and every module whose recorded dependencies reach one of them."""
    depends: dict[str, set[str]] = {}
    for path, found in project.summary_dependencies():
        depends.setdefault(path, set()).update(found)
    for program in programs:
        for path, found in program.module_dependencies():
            depends.setdefault(path, set()).update(found)
    stale = set(seeds)
    grew = True
    while grew:
        grew = False
        for path, found in depends.items():
            if path not in stale and not found.isdisjoint(stale):
                stale.add(path)
                grew = True
    return stale


def _drop(project: "Project", programs: list["Program"], stale: set[str], changed: frozenset[str],
          added: frozenset[str], removed: frozenset[str]) -> None:
    from . import aliases, keras_project

    project.forget(stale, changed)
    for program in programs:
        program.forget(stale, changed, bool(added or removed))
    project.model_answers.clear()
    aliases.forget(project)
    keras_project.forget(project, changed, added | removed)
