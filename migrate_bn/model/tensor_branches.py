"""Python branches on a bool placeholder around batch normalization (BN012).

`if training:` runs once, while the graph is built, and tests the placeholder object,
not the value a `sess.run` will feed: TensorFlow 0.8 and later refuse with a TypeError,
earlier releases took the first branch every time. Either way the graph holds one
branch, and feeding the flag chooses nothing. Reported when the tested name can only
be a bool placeholder (every binding of it in the scope that binds it is
`tf.placeholder(tf.bool, ...)` or `tf.placeholder_with_default(<bool literal>, ...)`) and
one of the branches normalizes: batch moments, a statistics-taking normalization, a
moving average's `apply`/`average`, or a batch-norm layer.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional, Union

from .. import tfapi
from ..binding import argument
from ..facts import UNKNOWN, all_bindings
from .spelled import may_name

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope

_Branching = Union[ast.If, ast.IfExp, ast.While]


@dataclass(frozen=True)
class TensorBranch:
    node: _Branching  # the `if` (statement or expression)
    flag: str  # the tested name
    placeholder: ast.Call  # where it is made
    normalization: ast.AST  # what a branch normalizes with (for the message)


def tensor_branches(facts: "ModuleFacts") -> list[TensorBranch]:
    cached = facts.model_cache.get("tensor_branches")
    if cached is None:
        cached = facts.model_cache["tensor_branches"] = list(_find(facts))
    return cached


_PLACEHOLDER_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in (tfapi.PLACEHOLDER, tfapi.PLACEHOLDER_WITH_DEFAULT))
# A bool placeholder's dtype (`tf.bool`), or a placeholder with a default (a bool literal).
_BOOL_PLACEHOLDER_WORDS = frozenset(name.rsplit(".", 1)[-1] for name in (*tfapi.BOOL_DTYPES, tfapi.PLACEHOLDER_WITH_DEFAULT))


def _find(facts: "ModuleFacts") -> Iterator[TensorBranch]:
    if not may_name(facts, *_PLACEHOLDER_NAMES) or not any(
            getattr(call.func, "attr", None) in _PLACEHOLDER_NAMES or
            getattr(call.func, "id", None) in _PLACEHOLDER_NAMES for call, _ in facts.calls):
        return  # most modules: no placeholder, no tree walk
    if not may_name(facts, *_BOOL_PLACEHOLDER_WORDS) or not _reads_a_bool_placeholder(facts):
        return  # placeholders for data only: no branch can test one, no tree walk
    tested: dict[tuple[str, int], list[_Branching]] = {}
    for node in ast.walk(facts.tree):
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            name = _tested_name(node.test)
            if name is not None:
                tested.setdefault((name.id, name.lineno), []).append(node)
    seen: set[int] = set()
    for scope, name, line, statement in facts.name_loads:
        for branching in tested.get((name, line), ()):
            if id(branching) in seen or not _within(branching, statement):
                continue
            placeholder = _bool_placeholder(facts, scope, name, line)
            if placeholder is None:
                continue
            normalization = _normalization_in(facts, scope, branching)
            if normalization is None:
                continue
            seen.add(id(branching))
            yield TensorBranch(branching, name, placeholder, normalization)


def _reads_a_bool_placeholder(facts: "ModuleFacts") -> bool:
    """Does the module read a name whose bindings are all bool placeholders? Without
    one, `_bool_placeholder` answers None for every name a branch tests. Asked once per
    (scope, name) read, not per read; far cheaper than walking the module's tree."""
    known: dict[tuple[int, str], bool] = {}
    for scope, name, _, _ in facts.name_loads:
        key = (id(scope), name)
        if key not in known:
            bindings = all_bindings(scope, name)
            known[key] = bool(bindings) and all(isinstance(b, ast.Call) and _is_bool_placeholder(facts, scope, b)
                                                for b in bindings)
            if known[key]:
                return True
    return False


def _within(branching: _Branching, statement: ast.stmt) -> bool:
    """Is the branching the statement whose test was read, or an expression inside it
    (so the name was read in the scope the load names)?"""
    if branching is statement:
        return True
    return isinstance(branching, ast.IfExp) and \
        statement.lineno <= branching.lineno <= (statement.end_lineno or statement.lineno)


def _tested_name(test: ast.expr) -> Optional[ast.Name]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test = test.operand
    return test if isinstance(test, ast.Name) else None


def _bool_placeholder(facts: "ModuleFacts", scope: "Scope", name: str, line: int) -> Optional[ast.Call]:
    value = facts.lookup(name, scope, line)
    if value is None or value is UNKNOWN or not isinstance(value, ast.Call):
        return None
    bindings = all_bindings(scope, name)
    if not bindings or any(not (isinstance(b, ast.Call) and _is_bool_placeholder(facts, scope, b)) for b in bindings):
        return None
    return value


def _is_bool_placeholder(facts: "ModuleFacts", scope: "Scope", call: ast.Call) -> bool:
    if isinstance(call.func, ast.Attribute) and call.func.attr not in _PLACEHOLDER_NAMES:
        return False  # a method call's qualified name ends with its attribute: no name to resolve
    qualname = facts.qualname(call.func, scope)
    if qualname == tfapi.PLACEHOLDER:
        dtype = argument(call, "dtype", 0)
        return dtype is not None and facts.qualname(dtype, scope) in tfapi.BOOL_DTYPES
    if qualname == tfapi.PLACEHOLDER_WITH_DEFAULT:
        default = argument(call, "input", 0)
        return isinstance(default, ast.Constant) and isinstance(default.value, bool)
    return False


def _normalization_in(facts: "ModuleFacts", scope: "Scope", branching: _Branching) -> Optional[ast.AST]:
    """The first normalization a branch builds (statistics, moving averages, batch norm)."""
    parts: list[ast.AST] = [branching.body] if isinstance(branching, ast.IfExp) else [*branching.body]
    parts += [branching.orelse] if isinstance(branching, ast.IfExp) else [*branching.orelse]
    batch_norm = {id(site.node) for site in facts.batch_norm_sites}
    for part in parts:
        for node in ast.walk(part):
            if not isinstance(node, ast.Call):
                continue
            if id(node) in batch_norm:
                return node
            qualname = facts.qualname(node.func, scope)
            if qualname in tfapi.MOMENTS or qualname in tfapi.NORMALIZE_WITH_STATISTICS:
                return node
            if isinstance(node.func, ast.Attribute) and node.func.attr in tfapi.MOVING_AVERAGE_USES and \
                    isinstance(node.func.value, ast.Name):
                average = facts.lookup(node.func.value.id, scope, node.lineno)
                if isinstance(average, ast.Call) and facts.qualname(average.func, scope) in tfapi.MOVING_AVERAGE_CLASSES:
                    return node
    return None
