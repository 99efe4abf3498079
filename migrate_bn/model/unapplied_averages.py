"""Moving averages a hand-written batch norm creates and never uses (BN011).

`ema = tf.train.ExponentialMovingAverage(decay)` only creates a Python object: no
shadow variable exists and nothing is averaged until `ema.apply([...])` builds the
update op, and nothing reads the averages but `ema.average(...)` (or a Saver given
`ema.variables_to_restore()`). A batch norm that computes `tf.nn.moments` next to an
average that is never used normalizes every batch, at evaluation too, with that batch's
own statistics: the moving statistics it was written to keep do not exist.

The average is "never used" only when every place that could use it has been seen:
a local name of the function with no read at all; a module name no other module can
import (project_graphs.no_importers); an attribute (`self.ema`) whose name appears as
an attribute in no other file of the project, nor anywhere in this module. Unknown
means used.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from .. import tfapi
from .spelled import may_name
from .structure import scope_within

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope


@dataclass(frozen=True)
class UnappliedAverage:
    node: ast.Call  # the ExponentialMovingAverage(...) call
    bound_to: str  # "ema" or "self.ema"
    moments: ast.Call  # the tf.nn.moments call of the batch norm it belongs to


def unapplied_averages(facts: "ModuleFacts") -> list[UnappliedAverage]:
    cached = facts.model_cache.get("unapplied_averages")
    if cached is None:
        cached = facts.model_cache["unapplied_averages"] = list(_find(facts))
    return cached


_AVERAGE_CLASS_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in tfapi.MOVING_AVERAGE_CLASSES)
_MOMENTS_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in tfapi.MOMENTS)


def _short_name(func: ast.expr) -> Optional[str]:
    return getattr(func, "attr", None) or getattr(func, "id", None)


def _find(facts: "ModuleFacts") -> Iterator[UnappliedAverage]:
    if not may_name(facts, *_AVERAGE_CLASS_NAMES):
        return  # most modules: no call of the class among their calls, and no walk of them
    for call, scope in facts.calls:
        if _short_name(call.func) not in _AVERAGE_CLASS_NAMES:
            continue  # most calls: skip resolving their names
        if facts.qualname(call.func, scope) not in tfapi.MOVING_AVERAGE_CLASSES:
            continue
        statement = (facts.enclosing_statements.get(id(call)) or (None,))[-1]
        if not (isinstance(statement, ast.Assign) and statement.value is call and len(statement.targets) == 1):
            continue
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            found = _unused_name(facts, call, scope, target.id)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            found = _unused_attribute(facts, call, scope, target.attr)
        else:
            found = None
        if found is not None:
            yield found


def _unused_name(facts: "ModuleFacts", call: ast.Call, scope: "Scope", name: str) -> Optional[UnappliedAverage]:
    if any(scope_within(load_scope, scope) for load_scope, loaded, _, _ in facts.name_loads
           if loaded == name):
        return None
    if scope.kind == "module":
        from .project_graphs import no_importers

        if not no_importers(facts):
            return None
    elif scope.kind != "function":
        return None
    moments = _moments_in(facts, scope.node)
    return UnappliedAverage(call, name, moments) if moments is not None else None


def _unused_attribute(facts: "ModuleFacts", call: ast.Call, scope: "Scope", attribute: str) -> Optional[UnappliedAverage]:
    cls = scope.owner_class
    if cls is None:
        return None
    loads = [node for node in ast.walk(facts.tree) if isinstance(node, ast.Attribute) and node.attr == attribute
             and not isinstance(node.ctx, ast.Store)]
    if loads or _named_in_other_files(facts, attribute):
        return None
    moments = _moments_in(facts, cls.node)
    return UnappliedAverage(call, f"self.{attribute}", moments) if moments is not None else None


def _moments_in(facts: "ModuleFacts", node: ast.AST) -> Optional[ast.Call]:
    """The first tf.nn.moments call in a function or class: the batch norm the average
    was meant for."""
    for call, scope in facts.calls:
        if _short_name(call.func) not in _MOMENTS_NAMES:
            continue
        if node.lineno <= call.lineno <= (node.end_lineno or node.lineno) and \
                facts.qualname(call.func, scope) in tfapi.MOMENTS:
            return call
    return None


def _named_in_other_files(facts: "ModuleFacts", attribute: str) -> bool:
    """Does any other file of the project name `.attribute`? Unknown (no project root,
    too many files, an unreadable file): True. The files that import this module by name
    become its cache dependencies (one of them may start using the attribute)."""
    from .project_graphs import project_answers

    resolver = facts.resolver
    if resolver is None:
        return True
    cache = project_answers(resolver)
    key = ("attribute_named", resolver.path, attribute)
    if key not in cache:
        cache[key] = _search(resolver.path, resolver, attribute)
    answer, importers = cache[key]
    resolver.dependencies.update(importers)
    return answer


def _search(path: str, resolver, attribute: str) -> tuple[bool, tuple[str, ...]]:
    from .project_graphs import python_files_and_notebooks, project_root_of
    from ..project import read_bytes

    root = project_root_of(resolver)
    listed = python_files_and_notebooks(root) if root is not None else None
    if listed is None:
        return True, ()
    word = re.compile(rb"\." + re.escape(attribute.encode()) + rb"\b")
    stem = re.compile(rb"\b" + re.escape(os.path.splitext(os.path.basename(path))[0].encode()) + rb"\b")
    importers: list[str] = []
    for other in [*listed[0], *listed[1]]:
        if os.path.abspath(other) == os.path.abspath(path):
            continue
        source = read_bytes(other)
        if source is None or word.search(source):
            return True, (other,)
        if stem.search(source):
            importers.append(other)
    return False, tuple(importers)
