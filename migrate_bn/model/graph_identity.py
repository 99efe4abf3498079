"""Which graph is a node built in? Graphs of their own (design.md section 7).

Code under `with g.as_default():`, where `g` is a `tf.Graph()` of its own (made at the
`with`, bound to a name, or to an attribute set once, as in
`self._graph = tf.Graph()`), builds its ops in that graph, and so does every function
it calls. A train op built in another graph cannot run those ops, nor miss them: a
notebook whose model class trains its batch-norm network in a private graph, while
other cells train plain networks in the default graph, has batch norm in one graph
and those train ops in another.

The answer for a node is the set of graphs it may be built in (over every route of
calls in the module that reaches it), or UNKNOWN when a route cannot be followed: a
function nothing in the module calls, an `as_default()` on a graph whose making is not
seen, a recursion. Two nodes may share a graph unless both answers are known and
disjoint: unknown means they may.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts, Scope

_GRAPH = "tensorflow.Graph"
_DEFAULT = "default"  # the process's default graph
_MAX_DEPTH = 8


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
Graphs = Union[frozenset, _Unknown]


def may_share_graph(facts: "ModuleFacts", node: ast.AST, scope: "Scope", other: ast.AST,
                    other_scope: "Scope") -> bool:
    """May the calls `node` (in `scope`) and `other` (in `other_scope`) build their ops
    in one graph?"""
    first, second = graphs_of(facts, node, scope), graphs_of(facts, other, other_scope)
    if isinstance(first, _Unknown) or isinstance(second, _Unknown):
        return True
    return bool(first & second)


def graphs_of(facts: "ModuleFacts", node: ast.AST, scope: "Scope") -> Graphs:
    """The graphs the call `node`, found in `scope`, may build its ops in."""
    cache = facts.model_cache.setdefault("graphs_of", {})
    key = (id(node), id(scope))
    if key not in cache:
        cache[key] = _graphs(facts, node, scope, 0, frozenset())
    return cache[key]


def _graphs(facts: "ModuleFacts", node: ast.AST, scope: "Scope", depth: int, seen: frozenset) -> Graphs:
    inner = _innermost_graph_block(facts, node, scope)
    if inner is not None:
        return inner
    if scope.kind != "function":
        return frozenset({_DEFAULT})  # module or class body, outside every `as_default()`
    callers = facts.callers(scope)
    if not callers or depth >= _MAX_DEPTH or id(scope) in seen:
        return UNKNOWN  # called from elsewhere, or a route too long to follow
    found: set = set()
    for call in callers:
        graphs = _graphs(facts, call.node, call.scope, depth + 1, seen | {id(scope)})
        if isinstance(graphs, _Unknown):
            return UNKNOWN
        found |= graphs
    return frozenset(found)


def _innermost_graph_block(facts: "ModuleFacts", node: ast.AST, scope: "Scope") -> Optional[Graphs]:
    """The graph of the innermost `with <graph>.as_default():` around `node` inside its
    own scope's body; None when there is none."""
    statements = facts.enclosing_statements.get(id(node), ())
    own = list(statements)
    for index, statement in enumerate(statements):
        if statement is scope.node:
            own = list(statements[index + 1:])
    for statement in reversed(own):
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                graph = _as_default_of(item.context_expr)
                if graph is not None:
                    return _graph_key(facts, graph, scope)
    return None


def _as_default_of(expression: ast.expr) -> Optional[ast.expr]:
    """`g` for `g.as_default()`."""
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Attribute) and \
            expression.func.attr == "as_default" and not expression.args:
        return expression.func.value
    return None


def _graph_key(facts: "ModuleFacts", graph: ast.expr, scope: "Scope") -> Graphs:
    """A graph's identity: the `tf.Graph()` call that made it."""
    made = _made_graph(facts, graph, scope)
    return frozenset({id(made)}) if made is not None else UNKNOWN


def _made_graph(facts: "ModuleFacts", graph: ast.expr, scope: "Scope") -> Optional[ast.Call]:
    if isinstance(graph, ast.Call):
        return graph if facts.qualname(graph.func, scope) == _GRAPH else None
    if isinstance(graph, ast.Name):
        bindings = _bindings(scope, graph.id)
    elif isinstance(graph, ast.Attribute) and isinstance(graph.value, ast.Name) and graph.value.id == "self":
        cls = facts.class_of(scope)
        bindings = [value for _, value in cls.attributes.get(graph.attr, [])] if cls is not None else []
    else:
        return None
    # Bound once, to a graph made there: every `as_default()` on it is that graph.
    if len(bindings) == 1 and isinstance(bindings[0], ast.Call) and \
            facts.qualname(bindings[0].func, scope) == _GRAPH:
        return bindings[0]
    return None


def _bindings(scope: "Scope", name: str) -> list:
    current: Optional["Scope"] = scope
    while current is not None:
        if current.kind != "class" and name in current.assignments:
            return [value for _, value in current.assignments[name]]
        if current.kind == "function" and name in current.param_defaults:
            return []
        current = current.parent
    return []
