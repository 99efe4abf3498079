"""`ast.NodeVisitor`, faster, for the passes that visit every node of big modules.

The facts pass visits every node of every relevant module, and of the project modules
they import; `ast.NodeVisitor` spends most of that time deciding what to call: it builds
the method name for every node, looks it up, visits the contexts and operators (`Load`,
`Add`, ...) that no pass looks at, and runs a compatibility shim for `Constant` that asks
for five deprecated methods each time. This visitor calls the same `visit_` methods in
the same order; it only decides once per node class: which method a node of that class
gets (none for the nodes that need nothing), and which of its fields can hold a node.
"""

from __future__ import annotations

import ast
from operator import attrgetter
from typing import Any, Callable, Optional

# Node classes that never hold another node: visiting them generically does nothing.
_CHILDLESS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop, ast.Constant)
# ast.NodeVisitor.visit_Constant calls these for old visitors.
_DEPRECATED_CONSTANT_METHODS = ("visit_Num", "visit_Str", "visit_Bytes", "visit_NameConstant", "visit_Ellipsis")
# Fields that hold names, numbers or flags in every node class that has them (Python's
# ASDL: identifier, int, string), never a node.
_SCALAR_FIELDS = frozenset({"id", "attr", "arg", "name", "asname", "module", "level", "kind", "type_comment",
                            "is_async", "conversion", "simple", "tag", "rest", "kwd_attrs", "lineno"})
# Fields that hold only childless nodes (contexts and operators).
_OPERATOR_FIELDS = frozenset({"ctx", "op", "ops"})

Method = Callable[[Any, Any], Any]


class NodeVisitor(ast.NodeVisitor):
    """Dispatches as `ast.NodeVisitor` does (`visit_<ClassName>` on the visitor's class,
    else `generic_visit`), with the choice remembered per node class. Methods set on an
    instance rather than its class are not seen, and `generic_visit` calls the chosen
    methods itself, without going through `visit`: a subclass that needs something done
    around every node of a class (keep a stack of statements, say) wraps the method in
    `_method_for`, not in `visit`."""

    _dispatch: dict[type, Optional[Method]]
    # Per node class: a getter of the fields that can hold a node, and whether it gets
    # one field (the value itself) rather than several (a tuple).
    _children: dict[type, tuple[Callable[[Any], Any], bool]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}
        cls._children = {}

    def visit(self, node: ast.AST) -> Any:
        kind = type(node)
        try:
            method = self._dispatch[kind]
        except KeyError:
            method = self._dispatch[kind] = self._method_for(kind)
        if method is None:
            return None
        return method(self, node)

    @classmethod
    def _method_for(cls, kind: type) -> Optional[Method]:
        """The function `visit` calls for nodes of `kind`; None when that would do nothing."""
        if not issubclass(kind, ast.AST):
            # What a node's list may hold besides nodes (None keys, names of `global`).
            return _visit_items if kind is not list and issubclass(kind, list) else None
        method = getattr(cls, "visit_" + kind.__name__, None)
        if method is ast.NodeVisitor.visit_Constant and \
                not any(hasattr(cls, name) for name in _DEPRECATED_CONSTANT_METHODS):
            method = None
        if method is None:
            if cls.generic_visit is NodeVisitor.generic_visit and (
                    issubclass(kind, _CHILDLESS) or not cls._child_fields(kind)):
                return None
            return cls.generic_visit
        return method

    @classmethod
    def _child_fields(cls, kind: type) -> tuple[str, ...]:
        """The fields of `kind` whose values this visitor may have to visit, in order."""
        operators_matter = cls.generic_visit is not NodeVisitor.generic_visit or any(
            hasattr(cls, "visit_" + operator.__name__) for base in _CHILDLESS[:-1] for operator in _subclasses(base))
        if not operators_matter:
            return child_fields(kind)
        return tuple(name for name in kind._fields if name not in _SCALAR_FIELDS)

    def generic_visit(self, node: ast.AST) -> None:
        kind = type(node)
        try:
            getter, single = self._children[kind]
        except KeyError:
            names = self._child_fields(kind)
            getter, single = attrgetter(*names) if names else _no_fields, len(names) == 1
            self._children[kind] = getter, single
        try:
            values = (getter(node),) if single else getter(node)
        except AttributeError:  # a node built by hand, without every field
            values = [getattr(node, name, None) for name in self._child_fields(kind)]
        dispatch = self._dispatch
        for value in values:
            for item in value if type(value) is list else (value,):
                try:
                    method = dispatch[type(item)]
                except KeyError:
                    method = dispatch[type(item)] = self._method_for(type(item))
                if method is not None:
                    method(self, item)


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of node class `kind` that can hold a node other than a context or an
    operator, in order: what a walk that looks for names, calls or statements reads."""
    try:
        return _CHILD_FIELDS[kind]
    except KeyError:
        fields = _CHILD_FIELDS[kind] = tuple(name for name in getattr(kind, "_fields", ())
                                             if name not in _SCALAR_FIELDS and name not in _OPERATOR_FIELDS)
        return fields


def _no_fields(node: ast.AST) -> tuple:
    return ()


def _visit_items(visitor: NodeVisitor, items: list) -> None:
    """A list that is not exactly a `list` (a subclass): its items, as `generic_visit`'s."""
    for item in items:
        if isinstance(item, ast.AST):
            visitor.visit(item)


def _subclasses(kind: type) -> list[type]:
    found = []
    for sub in kind.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found
