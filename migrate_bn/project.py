"""The repository around a module: which of the project's own functions and classes
build batch norm, so that `from models import build_model` in train.py is understood.

Modules are found the way Python would find them from the importing file: relative
imports from its package, absolute ones from its directory and the directories above
it up to the project root (the first with .git, setup.py, setup.cfg or
pyproject.toml). Each module is summarized once (parsed with `ast`, never run) and the
summary is cached for the run.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from . import facts as facts_module
from .binding import def_signature, positional_parameters
from .prefilter import may_matter
from . import documents
from .model.analysed_summaries import OwnPart
from .model.built_facts import MAX_RECENT, BuiltFacts
from .model.refresh import Changes, Stamps, refresh
from .model.summary_names import may_bind
from .model.views import Views
from .source import SourceError

ROOT_MARKERS = (".git", "setup.py", "setup.cfg", "pyproject.toml")
MAX_PARENT_DIRECTORIES = 6
_IMPORT_SCAN_DEPTH = 4  # imports followed from a module to find a batch-norm word
# Qualified names that are never the project's own.
FOREIGN_PREFIXES = ("tensorflow", "keras", "numpy", "scipy", "tf_slim", "nets.", "six", "absl", "os", "sys")


@dataclass(frozen=True)
class Producer:
    """A function or class of the project that builds batch norm feeding UPDATE_OPS."""

    name: str
    path: str
    line: int
    kind: str  # "function" | "class"
    positional: tuple[str, ...]  # its positional parameters (after self)
    flag_params: tuple[str, ...]  # those that carry the training flag into batch norm


class Project:
    """Summaries of the project's modules, shared by every file of one run."""

    def __init__(self, program: Sequence[str] = (), roots: Sequence[str] = (), watch: bool = False) -> None:
        # The files of the run: the whole program, for what no import answers (is a
        # function called anywhere?). Empty when unknown (standard input, an editor).
        self.program: tuple[str, ...] = tuple(os.path.abspath(path) for path in program)
        # The directories the run was given (absolute): a project root when no marker says.
        self.roots = tuple(os.path.abspath(root) for root in roots)
        # What the whole-program model found out about the project (model/project_graphs).
        self.model_answers: dict = {}
        self._summaries: dict[str, dict[str, Producer]] = {}
        self._in_progress: set[str] = set()
        # The project files each summarized module's own imports resolved to.
        self._dependencies: dict[str, set[str]] = {}
        # (importing directory, module) -> file: modules are looked up for every call.
        self._module_files: dict[tuple[str, str], Optional[str]] = {}
        # What the lookups ask the disk, thousands of times a run (a refresh asks again):
        # does a directory hold a root marker, is a path a file, a directory.
        self._marked: dict[str, bool] = {}
        self._files: dict[str, bool] = {}
        self._directories: dict[str, bool] = {}
        # (path, imports) -> is a batch-norm word that many imports away.
        self._within: dict[tuple[str, int], bool] = {}
        # Per file, for the import scan: does it hold a batch-norm word, and the project
        # files its import lines name. A module imported from many others is read once.
        self._holds_words: dict[str, bool] = {}
        self._imported_files: dict[str, list[str]] = {}
        # Parsed modules: one summarized here is often analysed too, or the other way round.
        self.views = Views()
        # Full facts built for an importer or the program, kept for the module's analysis.
        self.built = BuiltFacts(self.program, recent=0 if watch else MAX_RECENT)
        # The summaries' own parts of modules analysed before any importer asked
        # (model/analysed_summaries.py), by path, until one asks.
        self._own_parts: dict[str, OwnPart] = {}
        # (importing directory, dotted name) -> may it be or hold a project module
        # (model/producer_free.py; batch runs only).
        self.holds_modules: dict[tuple[str, str], bool] = {}
        # The analyses begun: a batch run's files change only between two (`fix` writes).
        self.analyses = 0
        # (module file, name) its bytes cannot bind (model/summary_names.py; batch runs only).
        self._unbound: set[tuple[str, str]] = set()
        # With `watch` (the language server): the stamps of the files read, so that
        # `refresh` drops only what the files changed since depend on (model/refresh.py).
        self.stamps: Optional[Stamps] = Stamps() if watch else None

    def read(self, path: str) -> Optional[bytes]:
        """A project file's bytes (None when unreadable), stamped first when watching."""
        if self.stamps is not None:
            self.stamps.note(path)
        return read_bytes(path)

    def watch(self, root: Optional[str]) -> None:
        """The model is about to walk `root`: stamp its files first, when watching."""
        if self.stamps is not None and root:
            self.stamps.watch(root)

    def refresh(self) -> Changes:
        """Drop what depends on the files changed on disk since they were read; keep the
        rest (a project made with `watch=True`; otherwise nothing is known to drop)."""
        self._marked.clear()
        self._files.clear()
        self._directories.clear()
        return refresh(self)

    # --- what a refresh reads and drops (model/refresh.py) ----------------------------

    def cached_modules(self) -> set[str]:
        """The modules with a summary or an import scan here."""
        return set(self._summaries) | set(self._imported_files)

    def summary_dependencies(self) -> Iterator[tuple[str, set[str]]]:
        """Each summarized module, with the project files its own imports resolved to."""
        return iter(self._dependencies.items())

    def forget_changed_lookups(self) -> set[str]:
        """Look every module lookup up again and forget those that now answer differently
        (a file came or went); the importing directories that asked them."""
        directories: set[str] = set()
        for (directory, module), found in list(self._module_files.items()):
            if Resolver(self, os.path.join(directory, "__lookup__.py"))._find_module_file(module) != found:
                del self._module_files[(directory, module)]
                directories.add(directory)
        return directories

    def forget(self, stale: set[str], changed: frozenset[str]) -> None:
        """Drop the summaries and import scans of the `stale` modules, and what was read
        of the `changed` files (their batch-norm word test, their parse)."""
        for cache in (self._summaries, self._dependencies, self._imported_files):
            for path in stale & set(cache):
                del cache[path]
        for path in changed:
            self._holds_words.pop(path, None)
            self.views.forget(path)
        self._within.clear()  # any change of a file or its imports may move a word nearer or farther

    def marked(self, directory: str) -> bool:
        """Does `directory` hold a root marker (ROOT_MARKERS)?"""
        found = self._marked.get(directory)
        if found is None:
            found = self._marked[directory] = any(
                os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS)
        return found

    def is_file(self, path: str) -> bool:
        found = self._files.get(path)
        if found is None:
            found = self._files[path] = os.path.isfile(path)
        return found

    def is_directory(self, path: str) -> bool:
        found = self._directories.get(path)
        if found is None:
            found = self._directories[path] = os.path.isdir(path)
        return found

    def resolver(self, path: str) -> "Resolver":
        return Resolver(self, os.path.abspath(path))

    def summary(self, path: str) -> dict[str, Producer]:
        """The producers a module defines or re-exports, by the name it gives them."""
        path = os.path.abspath(path)
        if path in self._summaries:
            return self._summaries[path]
        if path in self._in_progress:
            self.built.cut()
            return {}  # an import cycle: what is known so far is all there is
        self._in_progress.add(path)
        try:
            summary = self._summarize(path)
        finally:
            self._in_progress.discard(path)
        self._summaries[path] = summary
        return summary

    def summary_name(self, path: str, name: str) -> Optional[Producer]:
        """`summary(path).get(name)`, without making the summary when the module's bytes
        cannot bind `name` (model/summary_names.py; batch runs only: a file is not read
        again for the same name)."""
        summary = self._summaries.get(path)
        if summary is not None:
            return summary.get(name)
        path = os.path.abspath(path)
        if path not in self._summaries and path not in self._in_progress and self.stamps is None:
            if (path, name) in self._unbound:
                return None
            if not may_bind(self.read(path), name):
                self._unbound.add((path, name))
                return None
        return self.summary(path).get(name)

    def _could_build_batch_norm(self, path: str, source: Optional[bytes], imports: int = _IMPORT_SCAN_DEPTH) -> bool:
        """A batch-norm word in the module, or in a project module at most `imports`
        imports away (found by a scan of import lines, without parsing). `source`: the
        module's bytes, or None to read them if they are needed (an unreadable module has
        no word and imports nothing). Answered once per module and distance (a module on
        the way twice is never on the shortest way, so cycles need no cut); a refresh
        forgets the answers (`forget`)."""
        key = (path, imports)
        found = self._within.get(key)
        if found is None:
            if path not in self._holds_words:
                source = self.read(path) if source is None else source
                self._holds_words[path] = source is not None and may_matter(source)
            found = self._holds_words[path]
            if not found and imports > 0:
                if path not in self._imported_files:
                    source = self.read(path) if source is None else source
                    self._imported_files[path] = self._files_imported_by(path, source or b"")
                found = any(self._could_build_batch_norm(imported, None, imports - 1)
                            for imported in self._imported_files[path])
            self._within[key] = found
        return found

    def _files_imported_by(self, path: str, source: bytes) -> list[str]:
        """The project files the import lines of `path` name, in the order they name them."""
        resolver = self.resolver(path)
        files = []
        for match in _IMPORT_LINE.finditer(source):
            module = (match.group(1) or match.group(3) or b"").decode("ascii", "replace")
            names = [n.strip().split(" ")[0] for n in (match.group(2) or b"").decode("ascii", "replace").split(",")]
            for candidate in [module, *(f"{module}.{name}" if not module.endswith(".") else module + name
                                        for name in names if name and name != "(")]:
                found = resolver.module_file(candidate) if candidate else None
                if found and found != path:
                    files.append(found)
        return files

    def _summarize(self, path: str) -> dict[str, Producer]:
        try:
            source = self.read(path)
            if source is None:
                return {}
            # Parsing every imported module costs as much as the analysis: skip those that
            # cannot build batch norm, neither themselves nor through their own imports.
            if not self._could_build_batch_norm(path, source):
                return {}
            own = self._own_parts.pop(path, None)
            if own is not None and own.source == source:  # analysed already: no new build
                resolver = self.resolver(path)
                resolver.dependencies.update(own.dependencies)
                self._dependencies[path] = resolver.dependencies
                return self._with_reexports(dict(own.producers), own.names, resolver)
            # A Python 2 module is read through its Python 3 view, as `analyze` reads it.
            view = self.built.view(path, source) or self.views.read(path, source)
        except (OSError, SourceError):
            return {}
        if not self._holds_words[path] and self.stamps is None:
            from .model.producer_free import summary_is_empty

            resolver = self.resolver(path)
            if summary_is_empty(view.tree, view.text, resolver):  # its facts would find no producer
                self._dependencies[path] = resolver.dependencies
                return {}
        module_facts = self.built.build(path, source, view, self.resolver(path))
        resolver = module_facts.resolver
        self._dependencies[path] = resolver.dependencies
        return self._with_reexports(_own_producers(path, module_facts), module_facts.imports.names, resolver)

    def keep_own_part(self) -> None:
        """Before the next analysis drops the facts of the module analysed last: keep
        what its summary needs, when no importer asked for it yet (a batch run only)."""
        current = self.built.current()
        if current is None or self.stamps is not None:
            return
        path, source, module_facts, dependencies = current
        if path in self._summaries or path in self._own_parts:
            return
        self._own_parts[path] = OwnPart(source, _own_producers(path, module_facts),
                                        dict(module_facts.imports.names), dependencies)

    @staticmethod
    def _with_reexports(producers: dict[str, Producer], names: dict[str, str],
                        resolver: "Resolver") -> dict[str, Producer]:
        """`producers` and, for the names the module imports, the producers they are:
        `from .resnet import ResNet` in a package's __init__.py."""
        for local, target in names.items():
            if local not in producers:
                found = resolver.producer(target)
                if found is not None:
                    producers[local] = found
        return producers


def _own_producers(path: str, module_facts) -> dict[str, Producer]:
    """The producers the module defines itself, by name (its facts' answer)."""
    from .flags import is_training_name

    producers: dict[str, Producer] = {}
    for scope in module_facts.scopes:
        if scope.parent is not module_facts.module:
            continue
        node = scope.node
        if scope.kind == "function" and module_facts.is_producer(scope):
            producers[scope.name] = _producer(scope.name, path, node, "function", scope, module_facts, is_training_name)
        elif scope.kind == "class":
            methods = [child for child in module_facts.scopes if child.parent is scope]
            if any(module_facts.is_producer(method) for method in methods):
                init = next((m for m in methods if m.name == "__init__"), None)
                producers[scope.name] = _producer(scope.name, path, node, "class", init, module_facts,
                                                  is_training_name)
    return producers


def _producer(name, path, node, kind, scope, module_facts, is_training_name) -> Producer:
    positional: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    if scope is not None and isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        positional = positional_parameters(def_signature(scope.node, bound_method=True))
        used_as_flags = {site.flag.id for site in module_facts.batch_norm_sites
                         if isinstance(site.flag, ast.Name)}
        flags = tuple(p for p in scope.param_defaults if is_training_name(p) or p in used_as_flags)
    return Producer(name, path, node.lineno, kind, positional, flags)


def marker_root(path: str) -> Optional[str]:
    """The nearest directory above `path` (within MAX_PARENT_DIRECTORIES) holding a root
    marker (.git, setup.py, setup.cfg, pyproject.toml); None when there is none."""
    return next((directory for directory in ancestors(os.path.dirname(os.path.abspath(path)))
                 if any(os.path.exists(os.path.join(directory, marker)) for marker in ROOT_MARKERS)), None)


def ancestors(directory: str) -> Iterator[str]:
    """`directory` and the directories above it, MAX_PARENT_DIRECTORIES at most: where
    imports and root markers are looked for."""
    for _ in range(MAX_PARENT_DIRECTORIES):
        yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def relative_import_base(path: str, level: int) -> str:
    """The directory a relative import of `level` dots in the module at `path` starts from."""
    base = os.path.dirname(path)
    for _ in range(level - 1):
        base = os.path.dirname(base)
    return base


def read_bytes(path: str) -> Optional[bytes]:
    """A file's bytes; None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


# `from .layers import conv_bn`, `from . import layers`, `import models.resnet`, `from ops import *`.
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+([\w ,.(*]+)|import[ \t]+([.\w]+))", re.M)


class Resolver:
    """Answers, for one module, which of its imported names are project producers."""

    def __init__(self, project: Project, path: str) -> None:
        self.project = project
        self.path = path
        self.directory = os.path.dirname(path)  # where its lookups start (tens of thousands a run)
        self.dependencies: set[str] = set()  # the project files it looked into

    def all_dependencies(self) -> set[str]:
        """Every project file the answers depended on, through imports of imports."""
        seen: set[str] = set()
        pending = list(self.dependencies)
        while pending:
            path = pending.pop()
            if path not in seen:
                seen.add(path)
                pending.extend(self.project._dependencies.get(path, ()))
        return seen

    def read(self, source: bytes) -> "documents.View":
        """The view of this module's `source` (documents.read), shared with the project's
        summaries of it."""
        return self.project.built.view(self.path, source) or self.project.views.read(self.path, source)

    def analysis_facts(self, view: "documents.View") -> "facts_module.ModuleFacts":
        """The facts of this module's `view` for its analysis, built once with those the
        project built of it for its importers or its program (`BuiltFacts`)."""
        self.project.keep_own_part()  # of the module analysed before, whose facts go now
        self.project.analyses += 1
        return self.project.built.analysis_facts(view, self)

    def producer(self, qualname: str) -> Optional[Producer]:
        if qualname.startswith(FOREIGN_PREFIXES) or "." not in qualname.lstrip("."):
            return None
        module, _, attribute = qualname.rpartition(".")
        if not module or module.endswith("."):
            module = module or "."
        path = self.module_file(module)
        if path is None or path == self.path:
            return None
        self.dependencies.add(path)
        found = self.project.summary_name(path, attribute)
        if found is None:
            # `from pkg import conv_bn` where pkg/__init__.py says `from .ops import *`.
            from .model.star_imports import star_producer

            found = star_producer(self, path, attribute)
        return found

    def mentioned_elsewhere(self, word: bytes) -> bool:
        """Does a file of the program other than this one match `word` (a regular
        expression over bytes)? A file that cannot be read may: it answers yes. Every
        file looked into, and its directory (a new file changes its time), becomes a
        dependency of this module's results."""
        pattern = re.compile(word)
        for path in self.project.program:
            if path == self.path:
                continue
            self.dependencies.update((path, os.path.dirname(path)))
            try:
                with open(path, "rb") as handle:
                    if pattern.search(handle.read()):
                        return True
            except OSError:
                return True
        return False

    def module_file(self, module: str) -> Optional[str]:
        key = (self.directory, module)
        files = self.project._module_files
        if key not in files:
            files[key] = self._find_module_file(module)
        return files[key]

    def _find_module_file(self, module: str) -> Optional[str]:
        level = len(module) - len(module.lstrip("."))
        parts = [part for part in module.lstrip(".").split(".") if part]
        if level:
            return _find(relative_import_base(self.path, level), parts, self.project.is_file)
        is_directory = self.project.is_directory
        for directory in ancestors(self.directory):
            # `tensorflow.python.ops` from every directory up to the root: a module of a
            # package is a file only where the package's directory is.
            if len(parts) == 1 or is_directory(os.path.join(directory, parts[0])):
                found = _find(directory, parts, self.project.is_file)
                if found is not None:
                    return found
            if self.project.marked(directory):
                return None
        return None


def _find(base: str, parts: list[str], is_file=os.path.isfile) -> Optional[str]:
    if not parts:
        candidate = os.path.join(base, "__init__.py")
        return candidate if is_file(candidate) else None
    stem = os.path.join(base, *parts)
    for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
        if is_file(candidate):
            return candidate
    return None
