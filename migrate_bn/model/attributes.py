"""Values carried by attributes of a model object: what `self.<attr>` holds when the
graph is built.

TF1 builds the graph once, while the Python code runs; a Python value read then is
frozen into the graph. A model class that builds its graph in `__init__`
(`self.is_training = True; self._build_graph()`) freezes every `self.is_training` its
builder methods read at the value `__init__` gave it before the build call; a later
`self.is_training = False` in a test method changes nothing in the graph that exists.

The query answers only when that can be established (unknown means silent): the
methods that build the site are reached, within the class, from `__init__` alone; the
last assignment to the attribute before the build call is a literal bool, at the top
level of `__init__`'s body (not in a branch or a loop); and no builder method assigns
the attribute itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, ModuleFacts, Scope

_INIT = "__init__"


@dataclass(frozen=True)
class BuildTimeValue:
    """The literal an attribute holds while the graph is built, and where it is set."""

    value: bool
    assignment: ast.expr  # the literal assigned in `__init__`
    attribute: str  # "is_training"


def self_attribute(node: Optional[ast.expr]) -> Optional[str]:
    """`is_training` for `self.is_training`, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def build_time_value(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[BuildTimeValue]:
    """The constant the site's `self.<attr>` flag holds when the graph is built, when the
    class builds its graph in `__init__` after setting the attribute to a literal bool."""
    attribute = self_attribute(site.flag)
    if attribute is None:
        return None
    value = build_time_assignment(facts, site, attribute)
    if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
        return None
    return BuildTimeValue(value.value, value, attribute)


def build_time_assignment(facts: "ModuleFacts", site: "BatchNormSite", attribute: str) -> Optional[ast.expr]:
    """What `__init__` last assigned to `self.<attribute>` before the call that builds
    the site (a literal, a parameter's name, ...), when the site is built from `__init__`
    alone and nothing else in the build assigns the attribute; None when unknown."""
    method = _method_of(site.scope)
    if method is None:
        return None
    cls = method.parent
    init = cls.functions.get(_INIT)
    if init is None:
        return None
    builders = _builders(facts, method, cls)
    if builders is None or not any(scope is init for scope in builders):
        return None
    if any(scope is not init and _assigns(scope.node, attribute) for scope in builders):
        return None  # a builder changes it while building: the value depends on the order
    return _value_before_build(init.node, attribute, {scope.name for scope in builders if scope is not init})


def _method_of(scope: "Scope") -> Optional["Scope"]:
    """The method a site is built in (its own scope, or the method around a nested def)."""
    current: Optional[Scope] = scope
    while current is not None:
        if current.owner_class is not None:
            return current
        current = current.parent
    return None


def _builders(facts: "ModuleFacts", method: "Scope", cls: "Scope") -> Optional[list["Scope"]]:
    """The methods of `cls` that run `method` (itself included), when every chain of
    calls that reaches it starts in `__init__`; None when one starts elsewhere (a public
    `build()` nothing in the class calls, code outside the class), so the attribute's
    value at build time cannot be told. A private method (`_name`) nothing in the class
    calls or hands on is taken as unused."""
    found: list[Scope] = [method]
    pending = [method]
    passed = _passed_as_values(cls)
    while pending:
        current = pending.pop()
        if current.name == _INIT:
            continue
        callers = [_method_of(call.scope) for call in facts.callers(current)] + passed.get(current.name, [])
        if not callers:
            if current.name.startswith("_"):
                continue  # a private method nothing calls: not part of any build
            return None  # a public method: reached from outside the class, unknown
        for caller in callers:
            if caller is None or caller.parent is not cls:
                return None
            if not any(caller is seen for seen in found):
                found.append(caller)
                pending.append(caller)
    return found


def _passed_as_values(cls: "Scope") -> dict[str, list["Scope"]]:
    """Methods handed on as values (`self._dla(x, 64, self._basic_block)`), by name: the
    method that hands one on is taken to run it (the callable is called while that
    method's call builds the graph)."""
    called = set()
    references: dict[str, list[Scope]] = {}
    for method in cls.functions.values():
        for node in ast.walk(method.node):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                called.add(id(node.func))
        for node in ast.walk(method.node):
            name = self_attribute(node) if isinstance(node, ast.Attribute) else None
            if name in cls.functions and id(node) not in called and isinstance(node.ctx, ast.Load):
                references.setdefault(name, []).append(method)
    return references


def _assigns(function: ast.AST, attribute: str) -> bool:
    for node in ast.walk(function):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            if any(self_attribute(inner) == attribute for inner in ast.walk(target)
                   if isinstance(inner, ast.Attribute)):
                return True
    return False


def _value_before_build(init: ast.AST, attribute: str, builders: set[str]) -> Optional[ast.expr]:
    """The expression `__init__` last assigns to `self.<attribute>` before the first
    statement that calls a builder; None when it is assigned inside a compound
    statement or with other targets before the build, or no build call is found."""
    value: Optional[ast.expr] = None
    for statement in init.body:  # type: ignore[attr-defined]
        if _calls_builder(statement, builders):
            return value
        if isinstance(statement, ast.Assign) and any(self_attribute(target) == attribute
                                                     for target in statement.targets):
            if len(statement.targets) != 1:
                return None
            value = statement.value
        elif _assigns(statement, attribute):
            return None  # set in a branch, a loop or a nested function: unknown
    return None


def _calls_builder(statement: ast.stmt, builders: set[str]) -> bool:
    for node in ast.walk(statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                self_attribute(node.func) in builders:
            return True
    return False
