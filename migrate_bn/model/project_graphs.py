"""The project around a module, as the whole-program model needs it: which modules
import it, and whether any program of the project builds batch norm in inference mode
or exports a model.

"Nothing reads these moving statistics" is a claim about every program of the project,
so it is made only when every module has been seen: the project root is known (a
directory with `.git`, `setup.py`, `setup.cfg` or `pyproject.toml`, or a directory the
run was given), the project is small enough to read whole, every module with a
batch-norm word parses, and no notebook mentions batch norm (its cells are not read
here). Anything else is unknown, and unknown means the statistics may be read. The
files read are recorded as the module's dependencies, so the cache forgets the answer
when one of them changes.
"""

from __future__ import annotations

import ast
import os
import re
from typing import TYPE_CHECKING, Callable, Collection, Iterator, Optional

from .. import tfapi
from ..project import read_bytes

if TYPE_CHECKING:
    from ..facts import ModuleFacts

MAX_PROJECT_FILES = 400  # Python files walked; a larger tree is not read whole here
MAX_BATCH_NORM_MODULES = 40  # modules with batch-norm words parsed and analysed
_SKIPPED_DIRECTORIES = {".git", "__pycache__", ".venv", "venv", "node_modules", ".tox"}
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


def project_root_of(resolver) -> Optional[str]:
    """The project root above the module: a marker directory, or a directory given."""
    from ..project import marker_root

    root = marker_root(resolver.path)
    if root is not None:
        return root
    given = [root for root in getattr(resolver.project, "roots", ()) if
             resolver.path.startswith(root.rstrip(os.sep) + os.sep)]
    return min(given, key=len) if given else None


def project_directories(root: str, skipped: Optional[Collection[str]] = None) -> Iterator[tuple[str, list[str]]]:
    """Each directory under `root` (itself first, then its subdirectories in sorted order,
    depth first) with its files' names, sorted. Directories are searched as a run
    searches them (no hidden one, none a run skips), or, given `skipped`, all but those
    it names. Symbolic links to directories are not followed (os.walk)."""
    from ..runner import SKIPPED_DIRECTORIES  # the directories a run never searches

    for directory, subdirectories, files in os.walk(root):
        if skipped is None:
            subdirectories[:] = sorted(d for d in subdirectories
                                       if not d.startswith(".") and d not in SKIPPED_DIRECTORIES)
        else:
            subdirectories[:] = sorted(d for d in subdirectories if d not in skipped)
        yield directory, sorted(files)


def project_files(root: str, suffixes: tuple[str, ...], limit: int) -> Iterator[str]:
    """The files under `root` whose names end in `suffixes`, in the order of
    `project_directories` (searched as a run searches); none after the first `limit`."""
    count = 0
    for directory, files in project_directories(root):
        for name in files:
            if not name.endswith(suffixes):
                continue
            count += 1
            if count > limit:
                return
            yield os.path.join(directory, name)


def python_files_and_notebooks(root: str) -> Optional[tuple[list[str], list[str]]]:
    """The project's Python files and notebooks, or None when there are too many."""
    python, notebooks = [], []
    for directory, files in project_directories(root, _SKIPPED_DIRECTORIES):
        for name in files:
            if name.endswith(".py"):
                python.append(os.path.join(directory, name))
            elif name.endswith(".ipynb"):
                notebooks.append(os.path.join(directory, name))
        if len(python) > MAX_PROJECT_FILES:
            return None
    return python, notebooks


# A comment line, searched in b"\n" + the bytes: a pattern that starts with a literal is
# found by a fast scan for it, where `^` in MULTILINE mode is tried at every position.
_COMMENT_LINE = re.compile(rb"\n[ \t]*#[^\n]*")


def _code(path: str, word: bytes) -> Optional[bytes]:
    """A file's bytes without its comment lines (`#from resnet import *` imports nothing),
    for a search of `word`; None when it cannot be read. Bytes that do not hold the word
    cannot hold it without their comments either: they give b"", and are not stripped
    (each question reads every file of the project, 0.1 s on the bulk tree)."""
    source = read_bytes(path)
    if source is None or word not in source:
        return None if source is None else b""
    return _COMMENT_LINE.sub(b"\n", b"\n" + source)[1:]


def no_importers(facts: "ModuleFacts") -> bool:
    """Does no other module of the project import this one (so every build of its
    functions is one this module shows)? Unknown: False."""
    resolver = facts.resolver
    if resolver is None:
        return False
    stem, extension = os.path.splitext(os.path.basename(resolver.path))
    if stem == "__init__":
        return False
    if not _IDENTIFIER.match(stem) or extension == ".ipynb":
        return True  # `import 3dgan` is not Python, nor is importing a notebook: nothing can
    cache = project_answers(resolver)
    key = ("importers", resolver.path)
    if key not in cache:
        cache[key] = _no_importers(resolver, stem)
    return cache[key]


def _no_importers(resolver, stem: str) -> bool:
    root = project_root_of(resolver)
    if root is None:
        return False
    listed = python_files_and_notebooks(root)
    if listed is None:
        return False
    word = re.compile(rb"\b" + re.escape(stem.encode()) + rb"\b")
    for path in listed[0]:
        if path == resolver.path:
            continue
        source = _code(path, stem.encode())
        if source is None:
            return False
        if word.search(source) and re.search(rb"\bimport\b", source):
            resolver.dependencies.add(path)
            return False  # it may import this module (by name, from a package, dynamically)
    return True


def never_infers(facts: "ModuleFacts") -> bool:
    """Has every module of the project been read, with every batch norm in training mode
    (a literal or default `True`, no flag passed otherwise, no `arg_scope` that sets
    one) and no model exported or served by an Estimator? Unknown: False."""
    resolver = facts.resolver
    if resolver is None:
        return False
    cache = project_answers(resolver)
    root = project_root_of(resolver)
    if root is None:
        return False
    # A GAN's sampler restores its checkpoint and draws with batch statistics by design;
    # elsewhere a program that restores and trains nothing is an evaluation.
    from .program import gan_style

    restores_evaluate = not gan_style(facts)
    key = ("never_infers", root, restores_evaluate)
    if key not in cache:
        cache[key] = _never_infers(resolver, root, restores_evaluate)
    answer, files = cache[key]
    resolver.dependencies.update(path for path in files if path != resolver.path)
    return answer


def _never_infers(resolver, root: str, restores_evaluate: bool) -> tuple[bool, tuple[str, ...]]:
    from .. import documents, facts as facts_module
    from ..prefilter import may_matter
    from ..source import SourceError

    listed = python_files_and_notebooks(root)
    if listed is None:
        return False, ()
    python, notebooks = listed
    read: list[str] = []
    for path in notebooks:
        source = read_bytes(path)
        if source is None or may_matter(source):
            return False, ()  # a notebook may evaluate or export the model
    for path in python:
        source = read_bytes(path)
        if source is None:
            return False, ()
        words = tfapi.EXPORT_WORDS + (tfapi.RESTORE_WORDS if restores_evaluate else ())
        if not may_matter(source) and not any(word in source for word in words):
            continue
        read.append(path)
        if len(read) > MAX_BATCH_NORM_MODULES:
            return False, ()
        try:
            view = documents.read(source, path)
        except (SourceError, ValueError):
            return False, ()  # a module we cannot read may do anything
        module = facts_module.build(view.tree, view.text, resolver.project.resolver(path))
        if not _module_always_trains(module, lambda name: _named_elsewhere(name, path, python), restores_evaluate):
            return False, tuple(read)
    return True, tuple(read)


def _named_elsewhere(name: str, path: str, python: list[str]) -> bool:
    """Is a module-level function's name used anywhere in the project but its own
    `def` (a call, an import, a reference), in a module that can run? Unknown: True."""
    word = re.compile(rb"\b" + re.escape(name.encode()) + rb"\b")
    own = re.compile(rb"\bdef\s+" + re.escape(name.encode()) + rb"\b")
    for other in python:
        source = _code(other, name.encode())
        if source is None:
            return True
        if len(word.findall(source)) > (len(own.findall(source)) if other == path else 0) and \
                (other == path or _can_run(other, python)):
            return True
    return False


def _can_run(path: str, python: list[str]) -> bool:
    """Can this module's code run: it is a script (top-level code beyond imports,
    definitions and constants), or another module names it? A library module nothing
    imports runs nothing. Unknown: True."""
    from .. import documents
    from ..source import SourceError

    stem = os.path.splitext(os.path.basename(path))[0]
    if stem == "__init__" or not _IDENTIFIER.match(stem):
        return True
    word = re.compile(rb"\b" + re.escape(stem.encode()) + rb"\b")
    for other in python:
        source = _code(other, stem.encode())
        if source is None or (other != path and word.search(source)):
            return True
    source = read_bytes(path)
    try:
        tree = documents.read(source or b"", path).tree
    except (SourceError, ValueError):
        return True
    return not all(_defines_only(statement) for statement in tree.body)


def _defines_only(statement: ast.stmt) -> bool:
    """A top-level statement that runs nothing: an import, a definition, a docstring, a
    constant (an assignment that calls something is a script's code)."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant)
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return statement.value is not None and not any(isinstance(node, ast.Call) for node in ast.walk(statement.value))
    return False


def _module_always_trains(module: "ModuleFacts", used: Callable[[str], bool], restores_evaluate: bool) -> bool:
    """Does every batch norm this module builds run in training mode, and does it export
    nothing? A module-level function nothing in the project names (`used`) is dead code
    and builds nothing."""
    from ..flags import in_model_fn

    for call, scope in module.calls:
        name = (module.qualname(call.func, scope) or "").rsplit(".", 1)[-1] or \
            (call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", ""))
        if name in tfapi.MODEL_EXPORTS:
            return False
        if restores_evaluate and name in tfapi.CHECKPOINT_RESTORES and not module.train_ops:
            # A program that restores a checkpoint and trains nothing evaluates or predicts:
            # a batch norm it runs in training mode is BN003/BN004's bug, whose fix reads
            # the moving statistics (label-reg's inference script).
            return False
        if name == "arg_scope":
            for keyword in call.keywords:
                if keyword.arg is None or (keyword.arg in tfapi.TRAINING_KEYWORDS and not _is_true(keyword.value)):
                    return False
            if call.args and not isinstance(call.args[0], (ast.List, ast.Tuple)):
                return False  # a stored or computed scope may set the flag
    for site in module.batch_norm_sites:
        scope = site.scope
        if scope.kind == "function" and scope.parent is module.module and not module.callers(scope) and \
                not used(scope.name):
            continue
        if in_model_fn(site.scope):
            return False  # an Estimator builds EVAL and PREDICT graphs from it
        if site.how in ("class", "net", "net_arg_scope", "collection_write"):
            return False
        if site.spec is not None and site.spec.family == "keras":
            return False
        flag = site.flag
        if flag is None:
            if site.how == "project":
                continue  # a call of the project's own builder without a flag: judged in its module
            if site.spec is None or site.spec.default_training is not True:
                return False
            continue
        if _is_true(flag) or module.parameter_constant(site) is True:
            continue
        return False
    return True


def _is_true(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def project_answers(resolver) -> dict:
    """The whole-program answers kept for the run's project (watched for the language
    server's refresh)."""
    project = resolver.project
    cache = getattr(project, "model_answers", None)
    if cache is None:
        cache = project.model_answers = {}
    if getattr(project, "stamps", None) is not None:
        project.watch(project_root_of(resolver))  # the answers read its files: the refresh must see them
    return cache
