"""Names a module gets through `from module import *` (issue 14, idiom 2).

DCGAN-style projects keep their layers in `ops.py` and write `from ops import *` in
`model.py`; a package's `__init__.py` re-exports its modules with `from .layers import *`.
A name the importing module does not bind itself then comes, as Python resolves it,
from the star-imported modules, the last one first: each hands over its public names
(its `__all__` when that is a literal list or tuple of strings, else its module-level
names that do not start with `_`, including those it imports or star-imports in turn).
A binding of the module's own (a def, class, assignment or import) shadows them all.

Two questions use it, both lazily (only for a name nothing else resolved):

- `star_imported(facts, name)`: the qualified name a called, otherwise unbound name of
  the module stands for: `ops.conv_bn` (spelled as the module imports `ops`, so that
  `project.Resolver.producer` answers it as it answers `from ops import conv_bn`), or
  a library API the table knows (`from tensorflow.contrib.layers import *`, then
  `batch_norm(...)`: `tfapi.star_importable`).
- `star_producer(resolver, path, name)`: the project producer module `path` hands out
  as `name` through its own star imports (`from pkg import conv_bn` where
  `pkg/__init__.py` says `from .ops import *`).

Modules are found with the module's `project.Resolver` and read with `ast` through the
project's shared views, never run. What cannot be told (an unreadable module, a star
import of a module neither the project nor the API table knows) answers None: unknown
stays silent. A cycle of star imports ends where it comes back.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import weakref
from dataclasses import dataclass
from typing import Optional, Union

from .. import tfapi
from ..facts import statement_blocks
from ..source import SourceError
from .program import STAR_IMPORT_TEXT, star_imports
from .refresh import stamp

_BUILTINS = frozenset(dir(builtins))
_STAR_IMPORT = re.compile(STAR_IMPORT_TEXT.pattern.encode())
_MAX_DEPTH = 8  # star imports of star imports followed at most this deep


@dataclass(frozen=True)
class _Exports:
    """What a module's star import hands over, from its syntax alone."""

    bound: frozenset[str]  # the names its own module-level statements bind
    public: Optional[frozenset[str]]  # its literal `__all__`; None when it has none
    stars: tuple[str, ...]  # the modules it star-imports, in order

    def exports(self, name: str) -> bool:
        return name in self.public if self.public is not None else not name.startswith("_")


# Per project (one run): path -> ((mtime, size), its exports or None when unreadable,
# when the stamp was looked at: `_looked_at`).
_EXPORTS: "weakref.WeakKeyDictionary[object, dict[str, tuple[tuple, Optional[_Exports], Optional[int]]]]" = \
    weakref.WeakKeyDictionary()
# Per project: path -> ((mtime, size), may it hold a star import, when looked at).
_STARRED: "weakref.WeakKeyDictionary[object, dict[str, tuple[tuple, bool, Optional[int]]]]" = \
    weakref.WeakKeyDictionary()
_UNKNOWN = "unknown"
# Where a name comes from: ("module", path) binds it itself; ("api", qualname) a library
# API the table knows; _UNKNOWN; None: not from there.
_Found = Union[tuple[str, str], str, None]


def star_imported(facts, name: str) -> Optional[str]:
    """The qualified name `name` stands for when the module neither binds it nor has it
    as a builtin and one of its star imports brings it in; None otherwise."""
    resolver = facts.resolver
    if resolver is None or name in _BUILTINS:
        return None
    cache = facts.model_cache.get("star_imports")
    if cache is None:
        modules = star_imports(facts.tree, facts.text)
        cache = facts.model_cache["star_imports"] = (modules, _bound_anywhere(facts.tree) if modules else None, {})
    modules, bound, answers = cache
    if not modules or name in bound:
        return None
    if name not in answers:
        answers[name] = _through(resolver, modules, name, set(), 0, resolver.dependencies)
    found = answers[name]
    if not isinstance(found, tuple):
        return None
    module, kind, where = found
    return where if kind == "api" else f"{module}{name}" if module.endswith(".") else f"{module}.{name}"


def star_producer(resolver, path: str, name: str):
    """The producer (`project.Producer`) project module `path` hands out as `name`
    through its star imports, when it does not bind `name` itself."""
    project = resolver.project
    if not _has_star_import(project, path):
        return None  # most modules: a look at their bytes, no parse
    exports = _exports(project, path)
    if exports is None or not exports.stars or name in exports.bound:
        return None
    found = _through(project.resolver(path), exports.stars, name, {path}, 0, resolver.dependencies)
    if not isinstance(found, tuple) or found[1] != "module":
        return None
    return project.summary(found[2]).get(name)


def _through(resolver, modules, name: str, seen: set, depth: int, dependencies: set):
    """(the star-imported module as spelled, "module" or "api", its path or the API)
    for the last of `modules` (star-imported by `resolver`'s module) that hands `name`
    over; _UNKNOWN when one of them may but cannot be read; None when none does. The
    files looked into join `dependencies` (a cached result depends on them)."""
    for module in reversed(modules):
        path = resolver.module_file(module)
        if path is None:
            api = tfapi.canonical(f"{module}.{name}")
            if tfapi.star_importable(api):
                return module, "api", api
            return _UNKNOWN  # a library the table does not know may define any name
        path = os.path.abspath(path)
        if path == resolver.path:
            continue
        dependencies.add(path)
        found = _handed_over(resolver.project, path, name, seen, depth, dependencies)
        if found == _UNKNOWN:
            return _UNKNOWN
        if found is not None:
            return (module, *found)
    return None


def _handed_over(project, path: str, name: str, seen: set, depth: int, dependencies: set) -> _Found:
    """Where `name` comes from when `from <path's module> import *` hands it over."""
    if path in seen:
        return None  # a cycle of star imports: it adds nothing new
    if depth > _MAX_DEPTH:
        return _UNKNOWN
    seen.add(path)
    exports = _exports(project, path)
    if exports is None:
        return _UNKNOWN
    if not exports.exports(name):
        return None
    if name in exports.bound:
        return "module", path
    found = _through(project.resolver(path), exports.stars, name, seen, depth + 1, dependencies)
    return found[1:] if isinstance(found, tuple) else found


def _has_star_import(project, path: str) -> bool:
    known = _STARRED.setdefault(project, {})
    kept = known.get(path)
    if kept is not None and kept[2] == project.analyses:
        return kept[1]
    current = stamp(path)
    if kept is None or kept[0] != current:
        source = project.read(path) if current else None
        kept = (current, source is None or bool(_STAR_IMPORT.search(source)))
    known[path] = (*kept[:2], _looked_at(project))
    return kept[1]


def _looked_at(project) -> Optional[int]:
    """When a file's stamp was last looked at: the analysis a batch run is in (a `fix`
    writes a file between analyses, so one look per analysis sees every change); None
    when watching, where the language server's buffers change at any time."""
    return project.analyses if project.stamps is None else None


def _exports(project, path: str) -> Optional[_Exports]:
    """Module `path`'s exports, read once a run (again when the file changed)."""
    known = _EXPORTS.setdefault(project, {})
    kept = known.get(path)
    if kept is not None and kept[2] == project.analyses:
        return kept[1]
    current = stamp(path)
    exports = kept[1] if kept is not None and kept[0] == current else \
        _read_exports(project, path) if current else None
    known[path] = (current, exports, _looked_at(project))
    return exports


def _read_exports(project, path: str) -> Optional[_Exports]:
    source = project.read(path)
    if source is None:
        return None
    try:
        tree = project.views.read(path, source).tree
    except SourceError:
        return None
    bound: set[str] = set()
    public: Optional[frozenset[str]] = None
    literal = True
    for block in statement_blocks(tree, definitions=False):
        for statement in block:
            names = _bound_by(statement)
            bound.update(names)
            if "__all__" in names:
                value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
                strings = _strings(value)
                literal = literal and strings is not None and public is None
                public = strings
    return _Exports(frozenset(bound), public if literal else None,
                    tuple(star_imports(tree)) if _STAR_IMPORT.search(source) else ())


def _bound_by(statement: ast.stmt) -> set[str]:
    """The names one statement binds in the scope it runs in."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, ast.Import):
        return {alias.asname or alias.name.split(".")[0] for alias in statement.names}
    if isinstance(statement, ast.ImportFrom):
        return {alias.asname or alias.name for alias in statement.names if alias.name != "*"}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in statement.items if item.optional_vars is not None]
    names = set()
    for target in targets:
        names.update(node.id for node in ast.walk(target) if isinstance(node, ast.Name))
    return names


def _strings(node: Optional[ast.expr]) -> Optional[frozenset[str]]:
    """The strings of a literal list or tuple of strings; None for anything else."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    if not all(isinstance(item, ast.Constant) and isinstance(item.value, str) for item in node.elts):
        return None
    return frozenset(item.value for item in node.elts)  # type: ignore[attr-defined]


def _bound_anywhere(tree: ast.Module) -> frozenset[str]:
    """Every name the module binds anywhere (its own defs, classes, imports, assignments,
    parameters, loop and `with` targets, handlers, `global`s): a call of one of them is
    not taken for a star import's, wherever the call is (unknown stays silent)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias) and node.name != "*":
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return frozenset(names)
