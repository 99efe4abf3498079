"""TensorFlow names a project hands around: `from .version import tf` where the project's
`version.py` says `tf = tensorflow.compat.v1`.

Libraries that support both TensorFlow lines often bind `tf` once, in a module of their
own, and import it everywhere else (directly or re-exported through a package's
`__init__`). Without following that import, `tf.keras.layers.BatchNormalization`,
`tf.group` or `tf.train.AdamOptimizer` in those modules name nothing the facts know.
`resolve_project_aliases` replaces such an import in a module's import table by the
TensorFlow module it stands for; the modules are read with `ast`, never run, once a run,
and only for the names projects give TensorFlow (`tfapi.PROJECT_TENSORFLOW_NAMES`).
"""

from __future__ import annotations

import ast
import weakref
from typing import Optional

from .. import tfapi
from ..names import ImportTable, dotted

_MAX_DEPTH = 4
# Per Project (one run): (module file, name) -> the TensorFlow module it is bound to.
_ANSWERS: "weakref.WeakKeyDictionary[object, dict[tuple[str, str], Optional[str]]]" = weakref.WeakKeyDictionary()


def resolve_project_aliases(imports: ImportTable, resolver) -> None:
    """Point every name a module imports from a project module at the TensorFlow module
    that project module binds it to (`tf = tensorflow.compat.v1`), when it does."""
    for local, target in list(imports.names.items()):
        if local not in tfapi.PROJECT_TENSORFLOW_NAMES:
            continue
        if target.startswith(("tensorflow", "tf_slim", "keras", "tf_keras")) or "." not in target.lstrip("."):
            continue
        module, _, name = target.rpartition(".")
        path = resolver.module_file(module or ".")
        if path is None or path == resolver.path:
            continue
        found = _bound_module(resolver, path, name, 0)
        if found is not None:
            resolver.dependencies.add(path)
            imports._bind(local, found)


def forget(project) -> None:
    """Files changed on disk (model/refresh.py): the project's answers are found again."""
    _ANSWERS.pop(project, None)


def _bound_module(resolver, path: str, name: str, depth: int) -> Optional[str]:
    answers = _ANSWERS.setdefault(resolver.project, {})
    key = (path, name)
    if key not in answers:
        answers[key] = None  # an import cycle answers "unknown"
        answers[key] = _find(resolver, path, name, depth)
    return answers[key]


def _find(resolver, path: str, name: str, depth: int) -> Optional[str]:
    if depth > _MAX_DEPTH:
        return None
    tree = _parse(path)
    if tree is None:
        return None
    table = ImportTable()
    bound: Optional[ast.expr] = None
    for statement in tree.body:  # top level only: what `from module import name` gets
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            table.add(statement)
        elif isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in statement.targets):
            bound = statement.value
    if bound is not None:
        spelled = dotted(bound)
        if spelled is None:
            return None
        head, _, rest = spelled.partition(".")
        base = table.names.get(head)
        if base is None:
            return None
        full = f"{base}.{rest}" if rest else base
        return full if tfapi.canonical(full) in _TENSORFLOW_MODULES else None
    target = table.names.get(name)
    if target is None:
        return None
    if tfapi.canonical(target) in _TENSORFLOW_MODULES:
        return target  # `import tensorflow.compat.v1 as tf` in the project module
    module, _, attribute = target.rpartition(".")
    child = resolver.project.resolver(path)
    found_path = child.module_file(module or ".")
    if found_path is None or found_path == path:
        return None
    found = _bound_module(child, found_path, attribute, depth + 1)
    if found is not None:
        resolver.dependencies.add(found_path)
    return found


# What a project's `tf` may stand for (canonical names).
_TENSORFLOW_MODULES = frozenset(tfapi.canonical(name) for name in tfapi.TENSORFLOW_MODULES)


def _parse(path: str) -> Optional[ast.Module]:
    try:
        with open(path, "rb") as handle:
            return ast.parse(handle.read())
    except (OSError, SyntaxError, ValueError):
        return None
