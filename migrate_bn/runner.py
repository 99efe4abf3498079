"""Many files: find them, analyse each with `api.analyze`, write fixes back."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Optional, Sequence

from .api import Result, analyze
from .config import Settings
from .fsio import read_source, write_atomically
from .paths import display_path
from .project import Project
from .rules import Options, Rule

# Directories that never hold a user's own sources.
SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", "__pycache__",
    "build", "dist", "node_modules", "site-packages", ".eggs", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints",
})


@dataclass(frozen=True)
class Job:
    rules: Sequence[Rule]
    options: Options
    fix: bool = False
    write: bool = False  # with fix: write the fixed files back
    project: Optional[Project] = None  # the modules' own imports, shared by the run
    settings: Optional[Settings] = None  # exclude and per-file-ignores
    force_exclude: bool = False


def discover(paths: Iterable[str], settings: Optional[Settings] = None, force_exclude: bool = False) -> list[str]:
    """Every Python file under `paths`, each once, sorted. A file named explicitly is
    taken whatever its suffix, and even when excluded unless `force_exclude`;
    directories are searched for `*.py`, skipping excluded paths."""
    excluded = settings.excluded if settings is not None and settings.exclude else (lambda path: False)
    found: set[str] = set()
    for path in paths:
        if os.path.isdir(path):
            if force_exclude and excluded(path):
                continue
            for root, directories, files in os.walk(path):
                directories[:] = sorted(d for d in directories
                                        if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info")
                                        and not excluded(os.path.join(root, d)))
                for name in files:
                    candidate = os.path.join(root, name)
                    if name.endswith((".py", ".pyi")) and not excluded(candidate):
                        found.add(os.path.normpath(candidate))
        elif not (force_exclude and excluded(path)):
            found.add(os.path.normpath(path))
    return sorted(found)


def process_file(path: str, job: Job) -> tuple[Result, Optional[bytes]]:
    """Analyse one file; returns its result and its original bytes (for diffs)."""
    shown = display_path(path)
    try:
        if os.path.isdir(path):
            return Result(path=shown, error="is a directory"), None
        source = read_source(path)
    except OSError as error:
        return Result(path=shown, error=f"cannot read: {error.strerror or error}"), None
    try:
        resolver = job.project.resolver(path) if job.project is not None else None
        rules = job.rules
        if job.settings is not None and job.settings.per_file_ignores:
            ignored = job.settings.ignored_codes(path)
            rules = [rule for rule in rules if not any(rule.code.startswith(code) for code in ignored)]
        result = analyze(source, shown, rules=rules, options=job.options, fix=job.fix, resolver=resolver)
    except Exception as error:  # a bug in migrate-bn must not stop the run
        return Result(path=shown, internal_error=f"{type(error).__name__}: {error}"), source
    if job.write and result.fixed_source is not None and result.internal_error is None:
        try:
            write_atomically(path, result.fixed_source)
        except OSError as error:
            result.internal_error = f"cannot write: {error.strerror or error}"
            result.fixed_source = None
    return result, source


def run(paths: Sequence[str], job: Job) -> Iterator[tuple[Result, Optional[bytes]]]:
    if job.project is None:
        job = replace(job, project=Project())
    for path in discover(paths, job.settings, job.force_exclude):
        yield process_file(path, job)
