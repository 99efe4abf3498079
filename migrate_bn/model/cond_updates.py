"""Batch-norm updates a `tf.cond` branch selects but that are built outside the cond.

`tf.cond(is_training, lambda: bn_train, lambda: bn_inference)` chooses which result
passes; it does not choose what runs. An op built before the cond (outside both branch
functions) runs whenever anything that depends on it runs, whatever the predicate: a
training-mode batch norm whose moving-average update is part of its output
(`updates_collections=None`), or an `ExponentialMovingAverage.apply` op that a branch
names in its `control_dependencies`, updates the moving statistics in every evaluation
run too. This module finds, for each cond on a training flag, the updates its branches
reach that live outside them (design.md section 7: the rules ask the model).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from .. import tfapi
from ..binding import argument
from .spelled import may_name

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope


_COND_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in tfapi.COND_FUNCTIONS)


@dataclass(frozen=True)
class OutsideUpdate:
    """An update op a cond branch depends on, built outside the cond."""

    node: ast.Call  # the batch-norm call or the moving-average update
    what: str  # how messages name it
    cond: ast.Call
    flag: str  # the cond's predicate, as written


def outside_updates(facts: "ModuleFacts") -> list[OutsideUpdate]:
    """Every update built outside a cond on a training flag that one of its branches
    returns or waits for (once per update node, the first cond that reaches it)."""
    cached = facts.model_cache.get("cond_updates")
    if cached is None:
        cached = facts.model_cache["cond_updates"] = list(_find(facts))
    return cached


def _find(facts: "ModuleFacts") -> Iterator[OutsideUpdate]:
    from ..flags import is_training_name

    if not may_name(facts, *_COND_NAMES):
        return  # most modules: no cond to find among their calls
    in_place = {id(site.node): site for site in facts.batch_norm_sites
                if site.updates == "inplace" and site.trains is True and site.how == "call"}
    seen: set[int] = set()
    for call, scope in facts.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr not in _COND_NAMES:
            continue  # most calls: skip resolving their names
        if facts.qualname(call.func, scope) not in tfapi.COND_FUNCTIONS:
            continue
        if _dead_method(facts, scope):
            continue
        predicate = argument(call, "pred", 0)
        flag = _flag_name(predicate)
        if flag is None or not is_training_name(flag):
            continue
        for position, keyword in tfapi.COND_BRANCHES:
            branch = argument(call, keyword, position)
            if branch is None:
                continue
            for expression, outer in _branch_reaches(facts, branch, scope):
                for name in _names(expression):
                    value = facts.lookup(name, outer, call.lineno)
                    if not isinstance(value, ast.Call) or id(value) in seen:
                        continue
                    what = _update_kind(facts, value, outer, in_place)
                    if what is not None:
                        seen.add(id(value))
                        yield OutsideUpdate(value, what, call, ast.unparse(predicate))


def _dead_method(facts: "ModuleFacts", scope: "Scope") -> bool:
    """A method of the module's own class that nothing in the module names (a helper
    left over from another version): what it would build is never built."""
    current: Optional["Scope"] = scope
    while current is not None and current.owner_class is None:
        current = current.parent
    if current is None or current.name.startswith("__"):
        return False
    attributes = facts.model_cache.get("attribute_names")
    if attributes is None:
        attributes = facts.model_cache["attribute_names"] = {
            node.attr for node in ast.walk(facts.tree) if isinstance(node, ast.Attribute)}
    return current.name not in attributes


def _flag_name(predicate: Optional[ast.expr]) -> Optional[str]:
    if isinstance(predicate, ast.Name):
        return predicate.id
    if isinstance(predicate, ast.Attribute):
        return predicate.attr
    return None


def _branch_reaches(facts: "ModuleFacts", branch: ast.expr, scope: "Scope") -> Iterator[tuple[ast.expr, "Scope"]]:
    """The expressions a branch function returns or waits for, each with the scope its
    free names are looked up in (the cond's scope: names bound inside the branch
    function itself are inside the branch, and are left out)."""
    if isinstance(branch, ast.Lambda):
        yield branch.body, scope
        return
    if not isinstance(branch, ast.Name):
        return
    function = _nested_function(scope, branch.id)
    if function is None:
        return
    local = set(function.assignments) | set(function.param_defaults)
    for node in ast.walk(function.node):
        reached: list[ast.expr] = []
        if isinstance(node, ast.Return) and node.value is not None:
            reached.append(node.value)
        elif isinstance(node, ast.Call) and \
                facts.qualname(node.func, function) in tfapi.CONTROL_DEPENDENCY_CONTEXTS and node.args:
            reached.append(node.args[0])
        for expression in reached:
            free = [n for n in _names(expression) if n not in local]
            if free:
                yield ast.Tuple([ast.Name(n, ast.Load()) for n in free], ast.Load()), scope


def _nested_function(scope: "Scope", name: str) -> Optional["Scope"]:
    current: Optional["Scope"] = scope
    while current is not None:
        if name in current.functions:
            return current.functions[name]
        current = current.parent
    return None


def _names(expression: ast.expr) -> list[str]:
    """The plain names a returned value or a dependency list is made of (`a`, `(a, b)`, `[a]`)."""
    if isinstance(expression, ast.Name):
        return [expression.id]
    if isinstance(expression, (ast.Tuple, ast.List)):
        return [name for element in expression.elts for name in _names(element)]
    return []


def _update_kind(facts: "ModuleFacts", value: ast.Call, scope: "Scope", in_place: dict) -> Optional[str]:
    site = in_place.get(id(value))
    if site is not None:
        return f"the training-mode `{site.api}` (its updates run in place: `updates_collections=None`)"
    name = facts.qualname(value.func, scope)
    if name in tfapi.MOVING_AVERAGE_UPDATES:
        return "the `assign_moving_average` update"
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == tfapi.MOVING_AVERAGE_APPLY:
        owner = func.value
        if isinstance(owner, ast.Name):
            bound = facts.lookup(owner.id, scope, value.lineno)
            if isinstance(bound, ast.Call) and facts.qualname(bound.func, scope) in tfapi.MOVING_AVERAGE_CLASSES:
                return f"`{owner.id}.apply(...)` of an ExponentialMovingAverage"
    return None
