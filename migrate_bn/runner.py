"""Many files: find them, analyse each with `api.analyze`, write fixes back."""

from __future__ import annotations

import multiprocessing
import os
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Optional, Sequence

import pathspec

from .api import Result, analyze, fixable
from .collection import batch_thresholds, use_batch_thresholds
from .cache import Cache, content_hash
from .config import Settings
from .fsio import Refused, read_source, write_atomically
from .paths import display_path
from .prefilter import may_matter
from .problems import Kind, Problem
from .project import Project, Resolver
from .rules import Options, Rule

# Below this many files a worker pool costs more than it saves.
MIN_FILES_PER_WORKER = 8
MAX_CHUNK = 16
# What a directory is searched for: Python files, and notebooks unless turned off.
PYTHON_SUFFIXES = (".py", ".pyi")
SUFFIXES = (*PYTHON_SUFFIXES, ".ipynb")
# Directories that never hold a user's own sources.
SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", "__pycache__",
    "build", "dist", "node_modules", "site-packages", ".eggs", ".mypy_cache",
    ".pytest_cache", ".ruff_cache",
})
# Jupyter's autosave copies (`.ipynb_checkpoints/NAME-checkpoint.ipynb`): a copy of a
# notebook beside it is skipped, but one whose notebook is not there (deleted, or never
# committed) is the only copy of that code and is read like the notebook itself.
AUTOSAVE_DIRECTORY = ".ipynb_checkpoints"
AUTOSAVE_SUFFIX = "-checkpoint"


@dataclass(frozen=True)
class Job:
    rules: Sequence[Rule]
    options: Options
    fix: bool = False
    write: bool = False  # with fix: write the fixed files back
    project: Optional[Project] = None  # the modules' own imports, shared by the run
    settings: Optional[Settings] = None  # exclude and per-file-ignores
    force_exclude: bool = False
    jobs: int = 1  # worker processes
    respect_gitignore: bool = False
    explicit: frozenset[str] = frozenset()  # files named on the command line: never ignored
    program: tuple[str, ...] = ()  # every file of the run: the whole program (project.Project.program)
    roots: tuple[str, ...] = ()  # the directories named on the command line: project roots


def discover(paths: Iterable[str], settings: Optional[Settings] = None, force_exclude: bool = False) -> list[str]:
    """Every Python file under `paths`, each once, sorted. A file named explicitly is
    taken whatever its suffix, and even when excluded unless `force_exclude`;
    directories are searched for `*.py`, `*.pyi` and (unless the settings turn
    notebooks off) `*.ipynb`, skipping excluded paths and following no symbolic link
    (see `_search`)."""
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
    suffixes = SUFFIXES if settings is None or settings.notebooks else PYTHON_SUFFIXES
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
                    if not name.endswith(suffixes) or excluded(candidate) or _autosave_of_present(root, name):
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


def _autosave_of_present(directory: str, name: str) -> bool:
    """Is this file in Jupyter's autosave directory one to skip: a copy of a file that
    is present beside the directory, or anything else than an autosave copy?"""
    if os.path.basename(directory) != AUTOSAVE_DIRECTORY:
        return False
    stem, suffix = os.path.splitext(name)
    if not stem.endswith(AUTOSAVE_SUFFIX):
        return True
    return os.path.exists(os.path.join(os.path.dirname(directory), stem[:-len(AUTOSAVE_SUFFIX)] + suffix))


def process_file(path: str, job: Job, resolver: Optional[Resolver] = None) -> tuple[Result, Optional[bytes]]:
    """Analyse one file; returns its result and its original bytes (for diffs).

    Whatever the file holds or does meanwhile, the run goes on: what cannot be read
    as Python is reported in `Result.error`, a failure of migrate-bn itself in
    `Result.internal_error`, and in both cases nothing is written."""
    shown = shown_path(path)
    source, problem = read_file(path)
    if source is None:
        return Result(path=shown, error=Problem(Kind.CANNOT_READ, problem or "cannot read")), None
    if resolver is None and job.project is not None:
        resolver = job.project.resolver(path)
    result = analyze_as(path, shown, source, job, resolver)
    if job.write and result.fixed_source is not None and result.internal_error is None:
        try:
            write_atomically(path, result.fixed_source, expected=source)
        except Refused as error:
            _not_written(result, str(error))
        except OSError as error:
            _not_written(result, f"cannot write: {_reason(error)}; not written")
    return result, source


def read_file(path: str) -> tuple[Optional[bytes], Optional[str]]:
    """The file's bytes, or None and why it is skipped: a broken link, a file fsio
    refuses (FIFO, too large), one that cannot be read, or one holding NUL bytes."""
    try:
        if os.path.islink(path) and not os.path.exists(path):
            return None, _broken_link(path)
        source = read_source(path)
    except Refused as error:
        return None, f"{error}; skipped"
    except OSError as error:
        return None, f"cannot read: {_reason(error)}"
    if b"\0" in source:
        # Python rejects NUL bytes in source; text in UTF-16 or UTF-32 is full of them.
        return None, ("binary file (it holds NUL bytes: not Python source, or "
                      "UTF-16/UTF-32 text, which Python cannot read); skipped")
    return source, None


def analyze_as(path: str, shown: str, source: bytes, job: Job, resolver: Optional[Resolver]) -> Result:
    """Analyse `source` as the file `path` (its per-file ignores), never raising: a
    failure of migrate-bn itself is reported in `Result.internal_error`."""
    rules = job.settings.rules_for(path, job.rules) if job.settings is not None else job.rules
    try:
        return analyze(source, shown, rules=rules, options=job.options, fix=job.fix, resolver=resolver)
    except RecursionError as error:
        return Result(path=shown, error=Problem(Kind.CANNOT_PARSE,
                                                f"too deeply nested to analyse ({_where(error)}); skipped"))
    except Exception as error:  # a bug in migrate-bn must not stop the run
        return Result(path=shown, internal_error=f"{type(error).__name__}: {error} ({_where(error)})")


def _not_written(result: Result, reason: str) -> None:
    result.error = Problem(Kind.NOT_WRITTEN, reason)
    result.fixed_source = None
    result.remaining = result.findings
    result.fixed_count = 0


def shown_path(path: str) -> str:
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


@dataclass
class Plan:
    """The files of a run, in the order results come out."""

    paths: list[str]
    problems: dict[str, str]  # found while searching, with the reason they cannot be processed


def plan(paths: Sequence[str], job: Job) -> Plan:
    found, problems = _search(paths, job.settings, job.force_exclude)
    if job.respect_gitignore:
        ignored = git_ignored([path for path in found if path not in job.explicit])
        found = [path for path in found if path not in ignored]
    return Plan(sorted([*found, *problems]), problems)


def run(paths: Sequence[str], job: Job, cache: Optional[Cache] = None,
        planned: Optional[Plan] = None) -> Iterator[tuple[Result, Optional[bytes]]]:
    """Process every file under `paths` in path order, problems found while searching
    (broken links, unlistable directories) in their place.

    The main process reads each file once, skips those the prefilter rules out and those
    the cache answers, and hands the paths of the rest to `job.jobs` worker processes;
    results come back in path order whatever the workers' order. Only the files a fix
    changed travel back with their bytes (for the diff)."""
    planned = planned or plan(paths, job)
    job = replace(job, program=tuple(planned.paths)) if not job.program else job
    if not job.roots:
        job = replace(job, roots=tuple(os.path.abspath(path) for path in paths if os.path.isdir(path)))
    triaged: dict[str, tuple[Result, Optional[bytes]]] = {}
    pending: list[str] = []
    digests: dict[str, str] = {}
    for path in planned.paths:
        if path in planned.problems:
            triaged[path] = (Result(path=shown_path(path), error=Problem(Kind.CANNOT_READ, planned.problems[path])),
                             None)
            continue
        answer = _triage(path, job, cache, digests)
        if answer is None:
            pending.append(path)
        else:
            triaged[path] = answer
    worked = _work(pending, job)
    for path in planned.paths:
        if path in triaged:
            yield triaged[path]
            continue
        result, source, dependencies = next(worked)
        if cache is not None and path in digests and result.internal_error is None:
            cache.put(os.path.abspath(path), digests[path], result.findings, result.error, dependencies)
        yield result, source


def _triage(path: str, job: Job, cache: Optional[Cache],
            digests: dict[str, str]) -> Optional[tuple[Result, Optional[bytes]]]:
    """The result of a file that needs no analysis (nothing in it can matter, or the
    cache has it), else None. Files that cannot be read go to analysis, which says why."""
    try:
        source = read_source(path)
    except (Refused, OSError):
        return None
    if b"\0" not in source and not may_matter(source):
        return Result(path=shown_path(path)), None
    if cache is None:
        return None
    digest = digests[path] = content_hash(source)
    cached = cache.get(os.path.abspath(path), digest)
    if cached is None:
        return None
    findings, error = cached
    if job.fix and fixable(findings, job.options):
        return None  # the fix itself is not cached
    return Result(path=shown_path(path), findings=findings, remaining=findings, error=error), None


def _work(paths: list[str], job: Job) -> Iterator[tuple[Result, Optional[bytes], set[str]]]:
    """Analyse files, in order: in worker processes when there are enough of them."""
    if job.jobs <= 1 or len(paths) < MIN_FILES_PER_WORKER * 2:
        local = _Worker(job)
        with batch_thresholds():
            yield from (local.process(path) for path in paths)
        return
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    chunk = max(1, min(MAX_CHUNK, len(paths) // (job.jobs * 4)))
    with ProcessPoolExecutor(max_workers=job.jobs, mp_context=context,
                             initializer=_start_worker, initargs=(replace(job, project=None),)) as pool:
        yield from pool.map(_process_in_worker, paths, chunksize=chunk)


class _Worker:
    """One process's share of a run: the job, and the project summaries it has read."""

    def __init__(self, job: Job) -> None:
        self.job = job if job.project is not None else replace(job, project=Project(job.program, job.roots))

    def process(self, path: str) -> tuple[Result, Optional[bytes], set[str]]:
        assert self.job.project is not None
        resolver = self.job.project.resolver(path)
        result, source = process_file(path, self.job, resolver)
        dependencies = resolver.all_dependencies()
        # Only a changed file's bytes are needed back (for its diff).
        return result, source if result.changed else None, dependencies


_WORKER: Optional[_Worker] = None


def _start_worker(job: Job) -> None:
    global _WORKER
    use_batch_thresholds()
    _WORKER = _Worker(job)


def _process_in_worker(path: str) -> tuple[Result, Optional[bytes], set[str]]:
    assert _WORKER is not None
    return _WORKER.process(path)


def git_ignored(paths: list[str]) -> set[str]:
    """The paths that the .gitignore files of their work tree exclude (and its
    .git/info/exclude). Read as data with pathspec's implementation of git's rules:
    running git itself in an untrusted checkout could run its configured hooks."""
    ignored: set[str] = set()
    specs: dict[str, Optional[tuple[str, "pathspec.PathSpec"]]] = {}
    for path in paths:
        root_and_spec = _gitignore_for(os.path.dirname(os.path.abspath(path)), specs)
        if root_and_spec is None:
            continue
        root, spec = root_and_spec
        relative = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
        if spec.match_file(relative):
            ignored.add(path)
    return ignored


def _gitignore_for(directory: str, cache: dict) -> Optional[tuple[str, "pathspec.PathSpec"]]:
    """The work tree root above `directory` and the patterns of every .gitignore from
    there down to `directory` (each anchored at its own directory)."""
    if directory in cache:
        found = cache[directory]
        return None if found is None else (found[0], found[1])
    parent = os.path.dirname(directory)
    if os.path.isdir(os.path.join(directory, ".git")):
        lines = _ignore_lines(os.path.join(directory, ".git", "info", "exclude"), "")
        base: Optional[tuple[str, list[str]]] = (directory, lines)
    elif parent != directory:
        _gitignore_for(parent, cache)
        above = cache.get(parent)
        base = (above[0], list(above[2])) if above is not None else None
    else:
        base = None
    if base is None:
        cache[directory] = None
        return None
    root, lines = base
    prefix = os.path.relpath(directory, root).replace(os.sep, "/")
    lines = lines + _ignore_lines(os.path.join(directory, ".gitignore"), "" if prefix == "." else prefix)
    found = (root, pathspec.GitIgnoreSpec.from_lines(lines), lines)
    cache[directory] = found
    return found[0], found[1]  # type: ignore[return-value]


def _ignore_lines(path: str, prefix: str) -> list[str]:
    """A .gitignore's patterns, rewritten relative to the work tree root."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            raw = handle.read().splitlines()
    except OSError:
        return []
    lines = []
    for line in raw:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        negated = stripped.startswith("!")
        pattern = stripped[1:] if negated else stripped
        if prefix:
            # A pattern with a slash (other than at the end) is anchored at its file's directory.
            anchored = "/" in pattern.rstrip("/")
            pattern = f"{prefix}/{pattern.lstrip('/')}" if anchored else f"{prefix}/**/{pattern}"
        lines.append(("!" if negated else "") + pattern)
    return lines
