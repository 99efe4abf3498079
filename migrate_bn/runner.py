"""Many files: find them, analyse each with `api.analyze`, write fixes back."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Optional, Sequence

from .api import Result, analyze
from .config import Settings
from .fsio import Refused, read_source, write_atomically
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
    directories are searched for `*.py`, skipping excluded paths and following no
    symbolic link (see `_search`)."""
    return _search(paths, settings, force_exclude)[0]


def _search(paths: Iterable[str], settings: Optional[Settings],
            force_exclude: bool) -> tuple[list[str], dict[str, str]]:
    """The files to process, and the paths found while searching that cannot be
    processed, with the reason.

    Searching a directory follows no symbolic link: a linked directory is not entered
    (no escape from the tree, no loop), and a linked file is not taken (it is checked
    where it lives, if that is in the tree). A broken link that looks like a Python
    file, and a directory that cannot be listed, are reported. What the user names
    on the command line is taken as named, links included.
    """
    excluded = settings.excluded if settings is not None and settings.exclude else (lambda path: False)
    found: set[str] = set()
    problems: dict[str, str] = {}
    for path in paths:
        if os.path.isdir(path):
            if force_exclude and excluded(path):
                continue

            def unlisted(error: OSError) -> None:
                problems[os.path.normpath(error.filename or path)] = f"cannot list directory: {_reason(error)}"

            for root, directories, files in os.walk(path, onerror=unlisted):
                directories[:] = sorted(d for d in directories
                                        if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info")
                                        and not os.path.islink(os.path.join(root, d))
                                        and not excluded(os.path.join(root, d)))
                for name in files:
                    candidate = os.path.join(root, name)
                    if not name.endswith((".py", ".pyi")) or excluded(candidate):
                        continue
                    if os.path.islink(candidate):
                        if not os.path.exists(candidate):
                            problems[os.path.normpath(candidate)] = _broken_link(candidate)
                        continue
                    found.add(os.path.normpath(candidate))
        elif not (force_exclude and excluded(path)):
            found.add(os.path.normpath(path))
    for path in found:
        problems.pop(path, None)
    return sorted(found), problems


def process_file(path: str, job: Job) -> tuple[Result, Optional[bytes]]:
    """Analyse one file; returns its result and its original bytes (for diffs).

    Whatever the file holds or does meanwhile, the run goes on: what cannot be read
    as Python is reported in `Result.error`, a failure of migrate-bn itself in
    `Result.internal_error`, and in both cases nothing is written."""
    shown = _shown(path)
    try:
        if os.path.islink(path) and not os.path.exists(path):
            return Result(path=shown, error=_broken_link(path)), None
        source = read_source(path)
    except Refused as error:
        return Result(path=shown, error=f"{error}; skipped"), None
    except OSError as error:
        return Result(path=shown, error=f"cannot read: {_reason(error)}"), None
    if b"\0" in source:
        # Python rejects NUL bytes in source; text in UTF-16 or UTF-32 is full of them.
        return Result(path=shown, error="binary file (it holds NUL bytes: not Python source, or "
                                         "UTF-16/UTF-32 text, which Python cannot read); skipped"), None
    try:
        resolver = job.project.resolver(path) if job.project is not None else None
        rules = job.rules
        if job.settings is not None and job.settings.per_file_ignores:
            ignored = job.settings.ignored_codes(path)
            rules = [rule for rule in rules if not any(rule.code.startswith(code) for code in ignored)]
        result = analyze(source, shown, rules=rules, options=job.options, fix=job.fix, resolver=resolver)
    except RecursionError as error:
        return Result(path=shown, error=f"too deeply nested to analyse ({_where(error)}); skipped"), source
    except Exception as error:  # a bug in migrate-bn must not stop the run
        return Result(path=shown, internal_error=f"{type(error).__name__}: {error} ({_where(error)})"), source
    if job.write and result.fixed_source is not None and result.internal_error is None:
        try:
            write_atomically(path, result.fixed_source, expected=source)
        except Refused as error:
            _not_written(result, str(error))
        except OSError as error:
            _not_written(result, f"cannot write: {_reason(error)}; not written")
    return result, source


def _not_written(result: Result, reason: str) -> None:
    result.error = reason
    result.fixed_source = None
    result.remaining = result.findings
    result.fixed_count = 0


def _shown(path: str) -> str:
    """The path as messages show it. A name that is not valid in the file system's
    encoding (Latin-1 bytes on a UTF-8 system) is shown with backslash escapes, which
    any terminal can print, rather than crash the output."""
    shown = display_path(path)
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(shown).decode("utf-8", "backslashreplace")
    return shown


def _broken_link(path: str) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        return "broken symbolic link"
    return f"broken symbolic link (to {target})"


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _where(error: BaseException) -> str:
    """Where migrate-bn failed, for the bug report: its innermost own frame."""
    from . import transforms

    own_directories = {os.path.dirname(os.path.abspath(__file__)),
                       os.path.dirname(os.path.abspath(transforms.__file__ or ""))}
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if os.path.dirname(os.path.abspath(frame.filename)) in own_directories]
    if not (own or frames):
        return "no traceback"
    frame = (own or frames)[-1]
    place = f"{os.path.basename(os.path.dirname(frame.filename))}/{os.path.basename(frame.filename)}"
    return f"at {place}:{frame.lineno} in {frame.name}"


def run(paths: Sequence[str], job: Job) -> Iterator[tuple[Result, Optional[bytes]]]:
    """Process every file under `paths` in path order, problems found while searching
    (broken links, unlistable directories) in their place."""
    if job.project is None:
        job = replace(job, project=Project())
    found, problems = _search(paths, job.settings, job.force_exclude)
    for path in sorted([*found, *problems]):
        if path in problems:
            yield Result(path=_shown(path), error=problems[path]), None
        else:
            yield process_file(path, job)
