"""`ast.NodeVisitor`, faster, for the passes that visit every node of big modules.

The facts pass visits every node of every relevant module, and of the project modules
they import; `ast.NodeVisitor` spends most of that time deciding what to call: it builds
the method name for every node, looks it up, visits the contexts and operators (`Load`,
`Add`, ...) that no pass looks at, and runs a compatibility shim for `Constant` that asks
for five deprecated methods each time. This visitor calls the same `visit_` methods in
the same order; it only decides once per node class.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Optional

# Node classes that never hold another node: visiting them generically does nothing.
_CHILDLESS = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop, ast.Constant)
# ast.NodeVisitor.visit_Constant calls these for old visitors.
_DEPRECATED_CONSTANT_METHODS = ("visit_Num", "visit_Str", "visit_Bytes", "visit_NameConstant", "visit_Ellipsis")


class NodeVisitor(ast.NodeVisitor):
    """Dispatches as `ast.NodeVisitor` does (`visit_<ClassName>` on the visitor's class,
    else `generic_visit`), with the choice remembered per node class. Methods set on an
    instance rather than its class are not seen, and a subclass that overrides `visit`
    itself (to keep a stack of statements, say) is not called from `generic_visit` for
    the childless nodes it has no method for (contexts, operators, constants)."""

    _dispatch: dict[type, Optional[Callable[[Any, ast.AST], Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}

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
    def _method_for(cls, kind: type) -> Optional[Callable[[Any, ast.AST], Any]]:
        """The function `visit` calls for nodes of `kind`; None when that would do nothing."""
        method = getattr(cls, "visit_" + kind.__name__, None)
        if method is ast.NodeVisitor.visit_Constant and \
                not any(hasattr(cls, name) for name in _DEPRECATED_CONSTANT_METHODS):
            method = None
        if method is None:
            if issubclass(kind, _CHILDLESS) and cls.generic_visit is NodeVisitor.generic_visit:
                return None
            return cls.generic_visit
        return method

    def generic_visit(self, node: ast.AST) -> None:
        visit, dispatch = self.visit, self._dispatch
        # A child whose class is known to need nothing (None) is not even handed to
        # `visit`: half of a module's nodes are contexts, operators and constants.
        for name in node._fields:
            try:
                value = getattr(node, name)
            except AttributeError:
                continue
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and dispatch.get(type(item), visit) is not None:
                        visit(item)
            elif isinstance(value, ast.AST) and dispatch.get(type(value), visit) is not None:
                visit(value)
