"""The project's training programs, and which of the project's functions and classes
they run: the whole-program question a module cannot answer alone (design.md section 7).

A helper module (`layers.py`, `modules/encoder.py`, `lib/network.py`) builds batch norm
and trains nothing; the script that trains it is elsewhere (`main.py`, a script in
`test_scripts/`, a notebook) and reaches it through imports, often several deep
(`main.py` -> `models.py` -> `from layers import *`). This module answers "is this
function (or class) run by a program of the project that trains? that evaluates?".

- **The project** is the tree around the module: the nearest directory above it with
  `.git`, `setup.py`, `setup.cfg` or `pyproject.toml`, else the working directory when
  the module is inside it (`migrate-bn check .` from the project's root). Files are
  found by walking it (hidden directories, virtual environments and `site-packages`
  skipped; at most `MAX_FILES`).
- **Entry programs** are its Python files and notebooks that build a train op or run
  a session (a cheap byte test first, then the module facts): a program *trains* what
  it reaches when it builds a train op, and *evaluates* it when it runs model outputs
  without the train op (an inference or test script, a validation run).
- **Calls** are resolved as Python would resolve them for a script run in that tree,
  with `project.Resolver` (the script's directory, the directories above it, package
  roots, relative imports) and, beyond it, `from module import *` of project modules.
  A call of a module's own function, of an imported one (`models.generator(x)`,
  `from lib.network import Discriminator`), or of a name a star import brings in, reaches
  that function; reaching a class reaches all its methods (building an object and
  calling any method of it). Names that cannot be resolved reach nothing: unknown
  stays silent.

Everything is computed once per run (per `project.Project`) and only when a rule asks,
and as little of each module as the question needs: its names (`_Names`, from its syntax
alone) to follow a re-export, its calls (`_calls_of`, facts without the project's
batch-norm producers) for the reach, its full facts only for what reads more.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Optional

from ..prefilter import may_matter
from ..project import Resolver, read_bytes
from ..source import SourceError
from .import_reach import ImportReach
from .project_graphs import project_files

if TYPE_CHECKING:
    from ..facts import LocalCall, ModuleFacts, Scope
    from ..names import ImportTable
    from ..project import Project

MAX_FILES = 5000
# A train op is built or a session run here (the facts confirm it): minimize,
# apply_gradients, the train-op builders, `sess.run(`. Substrings, each searched on its
# own: `re` tries an alternation at every position, three times slower on the bulk tree.
_ENTRY = (b".minimize(", b"apply_gradients(", b"create_train_op(", b"optimize_loss(", b".run(")
_SUFFIXES = (".py", ".ipynb")
_STAR_IMPORT = re.compile(rb"import[\s\\]*\*")
_IDENTIFIER = re.compile(rb"[A-Za-z_]\w*")

# Libraries no project shadows; a project's own `nets`, `ops` or `layers` module is
# resolved like any other (it comes first on a script's path, as in Python).
_LIBRARIES = ("tensorflow", "keras", "numpy", "scipy", "tf_slim", "six", "absl", "os.", "sys.")

Node = tuple  # (path, top-level name): a function or class of a project module


@dataclass
class ProgramModule:
    """A module of the program as the questions that follow its calls read it (here, and
    in `flag_calls`, `fed_flags` and `dict_callables`): its path, its facts, and the
    modules it star-imports, where a name it binds nowhere else is followed."""

    path: str
    facts: "ModuleFacts"
    star_imports: list[str] = field(default_factory=list)  # the modules `from X import *` names

    @classmethod
    def of(cls, path: str, facts: "ModuleFacts") -> "ProgramModule":
        """The module whose facts a rule is looking at."""
        return cls(path, facts, star_imports(facts.tree, facts.text))


@dataclass(frozen=True)
class _Names:
    """Where a module's names come from, read from its syntax alone (no facts built):
    the functions and classes it defines at module level (in `if`, `try` and `with`
    blocks too, as the facts' module scope holds them), the names its imports bind (the
    facts' import table, project aliases resolved) and the modules it star-imports.
    Enough to follow a name through re-exports, which most modules on the way are
    asked for and nothing else."""

    defined: frozenset[str]
    imports: dict[str, str]
    star_imports: tuple[str, ...]


class Program:
    """The project's modules as one program: its training modules and what they reach."""

    def __init__(self, project: "Project", root: str) -> None:
        self.project = project
        self.root = root
        self._modules: dict[str, Optional[ProgramModule]] = {}
        self._names: dict[str, Optional[_Names]] = {}
        # Modules the reach reads: facts without the project's batch-norm producers.
        self._calls: dict[str, Optional[ProgramModule]] = {}
        # The identifiers of an ASCII module without a star import (None: any other).
        self._words: dict[str, Optional[frozenset[bytes]]] = {}
        self._batch_norm_words: dict[str, bool] = {}
        # What the model's questions worked out about one module of the program, by
        # (question, its arguments): asked again for every call of it.
        self.answers: dict[tuple, object] = {}
        # node -> (entry module, the modules on the way) for every entry that reaches it
        self._reached: Optional[dict[Node, list[tuple[str, list[str]]]]] = None
        # The entry files, in order; each one's reach (node -> the modules on the way),
        # built only for a module its imports may lead to (`import_reach`).
        self._entries: Optional[list[str]] = None
        self._reaches: dict[str, dict[Node, list[str]]] = {}
        self._imports = ImportReach(project.read, project.marked)
        # The project files each module's facts or names resolved through (model/refresh.py).
        self._depends: dict[str, list[set[str]]] = {}
        project.watch(root)  # stamped before any of its files is read

    # --- the questions rules ask -------------------------------------------------

    def trained_by(self, path: str, scope: "Scope") -> Optional[list[str]]:
        """The chain of modules (the training module first) by which a program that
        trains runs the top-level function or class `scope` is in; None when none does."""
        for entry, chain in self._entries_reaching(path, scope):
            module = self._calls_of(entry)
            if module is not None and module.facts.train_ops:
                return chain
        return None

    def evaluated_by(self, path: str, scope: "Scope") -> Optional[list[str]]:
        """The chain of modules by which a program that evaluates (a `sess.run` of model
        outputs without the train op: an inference, test or validation run) runs
        `scope`'s function or class; None when none does, or when a module on the way
        of any program mentions `arg_scope` (which may set the flag: unknown) or one of
        them trains a GAN (several train ops with their own `var_list`: sampling with
        batch statistics is by design)."""
        entries = self._entries_reaching(path, scope)
        for entry, chain in entries:
            if any(self._mentions_arg_scope(module) for module in chain):
                return None
            module = self.module(entry)
            if module is None or gan_style(module.facts):
                return None  # a GAN samples with batch statistics by design: unknown
        own = self.module(os.path.abspath(path))
        if own is None or gan_style(own.facts):
            return None
        for entry, chain in entries:
            module = self.module(entry)
            if module is not None and module.facts.evaluation_runs():
                return chain
        return None

    def _entries_reaching(self, path: str, scope: "Scope") -> list[tuple[str, list[str]]]:
        """(entry, the modules on the way) for every entry program whose reach holds the
        top-level function or class `scope` is in, in the order of the entry files. An
        entry whose imports cannot lead to the module is not asked (`import_reach`): its
        reach would not hold it, and building it costs a facts build per module."""
        name = top_level_name(scope)
        if not name:
            return []
        node = (os.path.abspath(path), name)
        if self._reached is not None:
            return self._reached.get(node, [])
        found = []
        for entry in self._entry_list():
            if self._imports.may_lead_to(entry, node[0]):
                via = self._reach_of(entry).get(node)
                if via is not None:
                    found.append((entry, via))
        return found

    def forget_reach(self, changed: frozenset[str], files_came_or_went: bool) -> None:
        """Files changed on disk (`model/refresh.py`): the reaches are worked out again."""
        self._reached = None
        self._entries = None
        self._reaches.clear()
        self._imports.forget(changed, files_came_or_went)

    def cached_modules(self) -> set[str]:
        """The modules whose facts, calls or names this program holds (model/refresh.py)."""
        return set(self._modules) | set(self._calls) | set(self._names)

    def module_dependencies(self) -> Iterator[tuple[str, set[str]]]:
        """Each module held, with the project files one of its facts or names resolved
        through (a module built twice, for its calls and in full, comes twice)."""
        for path, found in self._depends.items():
            for files in found:
                yield path, files

    def forget(self, stale: set[str], changed: frozenset[str], files_came_or_went: bool) -> None:
        """Files changed on disk (model/refresh.py): drop the entries of the `stale`
        modules, the byte tests of the `changed` files, and everything derived from many
        modules (rebuilt on demand from the entries that stayed)."""
        for cache in (self._modules, self._calls, self._names, self._depends):
            for path in stale & set(cache):
                del cache[path]
        for path in changed:
            self._words.pop(path, None)
            self._batch_norm_words.pop(path, None)
        self.answers.clear()
        self.forget_reach(changed, files_came_or_went)

    def _mentions_arg_scope(self, path: str) -> bool:
        module = self._calls_of(path)
        return module is None or "arg_scope" in module.facts.text

    # --- building it, once ---------------------------------------------------------

    def _reach(self) -> dict[Node, list[tuple[str, list[str]]]]:
        """Every entry's reach: node -> (entry, the modules on the way), entries in order."""
        if self._reached is not None:
            return self._reached
        reached: dict[Node, list[tuple[str, list[str]]]] = {}
        for entry in self._entry_list():
            for node, via in self._reach_of(entry).items():
                reached.setdefault(node, []).append((entry, via))
        self._reached = reached
        return reached

    def _reach_of(self, path: str) -> dict[Node, list[str]]:
        """The project functions and classes entry `path` runs (none when it neither
        trains nor runs a session), each with the modules on the way to it."""
        if path in self._reaches:
            return self._reaches[path]
        reach: dict[Node, list[str]] = {}
        self._reaches[path] = reach
        module = self._calls_of(path)
        if module is None or not (module.facts.train_ops or module.facts.session_runs):
            return reach
        pending: list[tuple[Node, list[str]]] = []
        for call, scope in module.facts.calls:
            for target in self.callees(module, call, scope):
                if target[0] != path:
                    pending.append((target, [path]))
        while pending:
            node, via = pending.pop()
            if node in reach:
                continue
            reach[node] = via
            target_module = self._calls_of(node[0])
            if target_module is None:
                continue
            for call, scope in self._calls_in(target_module, node[1]):
                for callee in self.callees(target_module, call, scope):
                    if callee not in reach:
                        pending.append((callee, via + [node[0]] if node[0] not in via else via))
        return reach

    def _entry_list(self) -> list[str]:
        if self._entries is None:
            self._entries = list(self._entry_files())
        return self._entries

    def _entry_files(self) -> Iterator[str]:
        """The project's files that train or run a session (a byte test; the facts
        decide)."""
        for path in project_files(self.root, _SUFFIXES, MAX_FILES):
            try:
                with open(path, "rb") as handle:
                    source = handle.read()
                    if any(word in source for word in _ENTRY):
                        yield os.path.abspath(path)
            except OSError:
                continue

    def may_build_batch_norm(self, path: str) -> bool:
        """A batch-norm word in the module's bytes (the prefilter), before parsing it."""
        found = self._batch_norm_words.get(path)
        if found is None:
            try:
                with open(path, "rb") as handle:
                    found = may_matter(handle.read())
            except OSError:
                found = False
            self._batch_norm_words[path] = found
        return found

    def module(self, path: str) -> Optional[ProgramModule]:
        """The project module `path` with its full facts (built once, with its summary and
        analysis: `project.built`); None when it cannot be read, or while it is being built
        (an import cycle)."""
        if path in self._modules:
            if self._modules[path] is None:
                self.project.built.cut()
            return self._modules[path]
        self._modules[path] = None  # an import cycle sees nothing more
        module = self._built(path, self.project.resolver(path), shared=True)
        self._modules[path] = module
        return module

    def _built(self, path: str, resolver, shared: bool = False) -> Optional[ProgramModule]:
        """The module's facts, its names resolved by `resolver`; None when it cannot be
        read. `shared`: `resolver` is the project's, and the facts are built once with
        the module's summary and analysis (`project.built`)."""
        from .. import facts as facts_module

        built = self.project.built
        source = self.project.read(path)
        try:
            view = None if source is None else \
                (built.view(path, source) if shared else None) or self.project.views.read(path, source)
        except SourceError:
            view = None
        if view is None:
            return None
        self._depends.setdefault(path, []).append(resolver.dependencies)  # filled as the facts resolve
        module_facts = built.build(path, source, view, resolver) if shared else \
            facts_module.build(view.tree, view.text, resolver)
        return ProgramModule(path, module_facts, star_imports(view.tree, view.text))

    def _calls_of(self, path: str) -> Optional[ProgramModule]:
        """The module's facts as far as the reach reads them: its calls and what their
        names resolve to, its train ops and session runs, its text. Built without asking
        which imported functions build batch norm (`_CallsOnly`), which would summarize
        every project module it imports; its full facts when they are built already."""
        module = self._modules.get(path)
        if module is not None:
            return module
        if path in self._calls:
            if self._calls[path] is None:
                self.project.built.cut()
            return self._calls[path]
        self._calls[path] = None  # an import cycle sees nothing more
        source = read_bytes(path)
        if source is not None and (self.project.built.analysed_later(path, source) or
                                   self.project.built.view(path, source) is not None):
            # Its full facts cost more, but its analysis takes them, or built them
            # already (`project.built`).
            module = self.module(path)
        else:
            module = self._built(path, _CallsOnly(self.project, path))
        self._calls[path] = module
        return module

    def _names_of(self, path: str) -> Optional[_Names]:
        """The module's `_Names`, from its facts when they are built, else from its parse
        (shared with the analysis and the import summaries: `project.views`)."""
        if path in self._names:
            return self._names[path]
        module = self._modules.get(path) or self._calls.get(path)
        if module is not None:
            facts = module.facts
            names: Optional[_Names] = _Names(
                frozenset(facts.module.functions) | {s.name for s in facts.scopes
                                                     if s.kind == "class" and s.parent is facts.module},
                facts.imports.names, tuple(module.star_imports))
        else:
            names = None
            source = self.project.read(path)
            try:
                view = None if source is None else \
                    self.project.built.view(path, source) or self.project.views.read(path, source)
            except SourceError:
                view = None
            if view is not None:
                resolver = self.project.resolver(path)
                names = _Names(frozenset(top_level_definitions(view.tree)),
                               import_names(view.tree, resolver), tuple(star_imports(view.tree, view.text)))
                self._depends.setdefault(path, []).append(resolver.dependencies)
        self._names[path] = names
        return names

    def _may_bind(self, path: str, name: str) -> bool:
        """Can module `path` bind `name` at all (define it, import it, or star-import
        it)? No when its bytes are ASCII and hold neither the name nor a star import: a
        test on the bytes that spares the parse of most modules a call's name is looked
        up in."""
        if path in self._names or path in self._modules or path in self._calls:
            return True
        if path not in self._words:
            source = read_bytes(path)
            self._words[path] = frozenset(_IDENTIFIER.findall(source)) if source is not None \
                and source.isascii() and not _STAR_IMPORT.search(source) else None
        words = self._words[path]
        return words is None or name.encode("ascii", "replace") in words

    def _calls_in(self, module: ProgramModule, name: str) -> Iterator[tuple[ast.Call, "Scope"]]:
        for call, scope in module.facts.calls:
            if top_level_name(scope) == name:
                yield call, scope

    def callees(self, module: ProgramModule, call: ast.Call, scope: "Scope") -> Iterator[Node]:
        """The project functions and classes a call of `module` in `scope` may run, as
        (path, top-level name) (none when unknown)."""
        func = call.func
        facts = module.facts
        if isinstance(func, ast.Name):
            local = facts.module.functions.get(func.id) or class_named(facts, func.id)
            # The module's own def or class, unless a local name shadows it.
            if local is not None and facts.lookup(func.id, scope) is facts.lookup(func.id, facts.module):
                yield module.path, func.id
                return
            if func.id not in facts.imports.names:
                yield from self._through_star_imports(module.path, module.star_imports, func.id, set())
                return
        qualname = facts.qualname(func, scope) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if qualname is None:
            return
        found = self._project_object(module.path, qualname)
        if found is not None:
            yield found

    def _project_object(self, importer: str, qualname: str) -> Optional[Node]:
        """`models.generator` -> (models.py, "generator"), when a project module defines it
        (or re-exports it from one that does)."""
        if qualname.startswith(_LIBRARIES):
            return None
        resolver = self.project.resolver(importer)
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            if qualname.startswith(".") and not module_name.strip("."):
                module_name = "." * (len(qualname) - len(qualname.lstrip(".")))
            path = resolver.module_file(module_name)
            if path is None or os.path.abspath(path) == importer:
                continue
            name = parts[cut]
            return self._defined(os.path.abspath(path), name, set())
        return None

    def _defined(self, path: str, name: str, seen: set) -> Optional[Node]:
        """Where module `path`'s name `name` is defined: itself, an import it re-exports, or
        a star import."""
        if (path, name) in seen:
            return None
        seen.add((path, name))
        if not self._may_bind(path, name):
            return None
        names = self._names_of(path)
        if names is None:
            return None
        if name in names.defined:
            return path, name
        target = names.imports.get(name)
        if target is not None:
            return self._project_object(path, target)
        return next(iter(self._through_star_imports(path, names.star_imports, name, seen)), None)

    def _through_star_imports(self, importer: str, modules, name: str, seen: set) -> Iterator[Node]:
        resolver = self.project.resolver(importer)
        for imported in modules:
            path = resolver.module_file(imported)
            if path is None or os.path.abspath(path) == importer:
                continue
            found = self._defined(os.path.abspath(path), name, seen)
            if found is not None:
                yield found
                return


class _CallsOnly(Resolver):
    """A module's resolver for the reach: modules and TensorFlow aliases resolved as
    for its analysis, but no imported function or class is a batch-norm producer. The
    facts' calls, names, train ops and session runs do not depend on producers (only
    their batch-norm sites do), and asking would summarize every project module the
    module imports."""

    def __init__(self, project: "Project", path: str) -> None:
        super().__init__(project, os.path.abspath(path))

    def producer(self, qualname: str) -> None:
        return None


def star_imports(tree: ast.Module, text: Optional[str] = None) -> list[str]:
    """The modules `from X import *` names, anywhere in the module, in the order
    `ast.walk` meets them (breadth first: the order decides which one a name is
    followed into). Only statements can hold an import, and only statements, handlers
    and match cases hold statements: the walk visits those alone. With the module's
    `text`, a module whose text holds no `import *` (nearly all) is not walked."""
    if text is not None and not STAR_IMPORT_TEXT.search(text):
        return []
    from ..facts import walk_statements

    return ["." * node.level + (node.module or "") for node in walk_statements(tree)
            if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)]


# Every star import's text: `import`, then blanks, line continuations or a parenthesis
# (which the parser rejects, but a looser match only costs a walk), then `*`.
STAR_IMPORT_TEXT = re.compile(r"import[\s\\(]*\*")


def top_level_definitions(tree: ast.Module) -> Iterator[str]:
    """The functions and classes a module defines in its own scope: at its top level or
    in the blocks of its top-level statements, not inside a def or class."""
    pending = list(tree.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield statement.name
            continue
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                pending.append(child)
            elif isinstance(child, (ast.excepthandler, ast.match_case)):
                pending.extend(child.body)


def import_names(tree: ast.Module, resolver) -> dict[str, str]:
    """The names the module's imports bind, wherever they are, as `facts.build` binds
    them (project aliases of TensorFlow resolved)."""
    return import_table(tree, resolver).names


def import_table(tree: ast.Module, resolver, text: Optional[str] = None) -> "ImportTable":
    """The import table `facts.build` makes of the module (`import_names`), from the
    same walk over its blocks (`facts.statement_blocks`, whose order decides which of two
    imports of a name wins). With the module's `text`, the blocks of statements that
    span no line spelling `import` are left out (an import statement spells it on one of
    its lines): leaving out whole blocks keeps the order of the others."""
    from ..facts import blocks_of
    from ..names import ImportTable
    from .aliases import resolve_project_aliases

    import_lines = None if text is None else _lines_spelling(text, "import")
    table = ImportTable()
    stack = [tree.body]
    while stack:
        for statement in stack.pop():
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                table.add(statement)
                continue
            if import_lines is not None:
                index = bisect.bisect_left(import_lines, statement.lineno)
                if index == len(import_lines) or import_lines[index] > (statement.end_lineno or statement.lineno):
                    continue  # no import in it
            stack.extend(blocks_of(statement))
    resolve_project_aliases(table, resolver)
    return table


def _lines_spelling(text: str, word: str) -> list[int]:
    """The numbers of the lines (as `ast` counts them) where `word` starts, in order."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines, line, counted = [], 1, 0
    start = text.find(word)
    while start >= 0:
        line += text.count("\n", counted, start)
        counted = start
        lines.append(line)
        start = text.find(word, start + len(word))
    return lines


def top_level_name(scope: "Scope") -> Optional[str]:
    """The module-level function or class a scope is in."""
    current: Optional[Scope] = scope
    while current is not None and current.parent is not None:
        if current.parent.kind == "module":
            return current.name
        current = current.parent
    return None


def class_named(facts: "ModuleFacts", name: str) -> Optional["Scope"]:
    """The module-level class `name` (the first, as a scan of the scopes finds it), for
    the program's reach and the questions that follow a class to its bases.
    Asked for every call of a module BN004 looks into: the table is built once."""
    classes = facts.model_cache.get("program.classes")
    if classes is None:
        classes = facts.model_cache["program.classes"] = {}
        for scope in facts.scopes:
            if scope.kind == "class" and scope.parent is facts.module:
                classes.setdefault(scope.name, scope)
    return classes.get(name)


def project_root(path: str) -> Optional[str]:
    """The tree a module's program lives in: the nearest directory above it with a root
    marker, else the working directory when the module is inside it."""
    from ..project import marker_root

    root = marker_root(path)
    if root is not None:
        return root
    cwd = os.getcwd()
    if os.path.abspath(path).startswith(cwd + os.sep):
        return cwd
    return None


_PROGRAMS: "weakref.WeakKeyDictionary[Project, dict[str, Program]]" = weakref.WeakKeyDictionary()


def programs_of(project: "Project") -> list[Program]:
    """The programs made so far for the project's modules, one per project root."""
    return list(_PROGRAMS.get(project, {}).values())


def program_of(facts: "ModuleFacts") -> Optional[tuple[Program, str]]:
    """The whole program a module's facts belong to, and the module's path; None for a
    module analysed alone (no project resolver: stdin, a test's source)."""
    resolver = facts.resolver
    if resolver is None:
        return None
    root = project_root(resolver.path)
    if root is None:
        return None
    programs = _PROGRAMS.setdefault(resolver.project, {})
    if root not in programs:
        programs[root] = Program(resolver.project, root)
    return programs[root], resolver.path


def training_module(facts: "ModuleFacts", scope: "Scope") -> Optional[str]:
    """The project module (its path from the project's root) that trains the function or
    class `scope` is in, when the module itself builds no train op but another program
    of the project runs it. The modules on the way become the module's dependencies (its
    cached result is invalidated when one changes)."""
    return _entry(facts, scope, Program.trained_by)


def evaluating_module(facts: "ModuleFacts", scope: "Scope") -> Optional[str]:
    """The project module (its path from the project's root) that evaluates the function
    or class `scope` is in (runs what it builds without training it), when no module on
    the way of any program reaching it mentions `arg_scope`."""
    return _entry(facts, scope, Program.evaluated_by)


def _entry(facts: "ModuleFacts", scope: "Scope", question: Callable) -> Optional[str]:
    found = program_of(facts)
    if found is None:
        return None
    program, path = found
    chain = question(program, path, scope)
    if not chain:
        return None
    facts.resolver.dependencies.update(chain)
    return os.path.relpath(chain[0], program.root)


def constructor_of(facts: "ModuleFacts", call: "LocalCall") -> Optional["Scope"]:
    """`LocalNet(**kwargs)` where the module defines `class LocalNet` (seen from the call):
    the class's `__init__`, which the call runs (a factory that returns such an object
    builds what its `__init__` builds)."""
    classes = facts.model_cache.get("classes")
    if classes is None:
        classes = facts.model_cache["classes"] = {
            (id(candidate.parent), candidate.name): candidate for candidate in facts.scopes
            if candidate.kind == "class"}
    scope: Optional[Scope] = call.scope
    while scope is not None:
        if scope.kind != "class":
            found = classes.get((id(scope), call.name))
            if found is not None:
                return found.functions.get("__init__")
        scope = scope.parent
    return None


def gan_style(facts: "ModuleFacts") -> bool:
    """Does the module train a GAN: several train ops, each with its own `var_list`, in a
    module that names a discriminator or a critic (a detector's two training stages
    have var lists too)?"""
    return sum(1 for op in facts.train_ops if facts.var_list_of(op) is not None) >= 2 and \
        bool(_GAN_WORDS.search(facts.text))


_GAN_WORDS = re.compile(r"discriminator|critic", re.IGNORECASE)
