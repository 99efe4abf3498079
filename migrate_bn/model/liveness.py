"""Does code ever run? Dead code in the whole program (design.md section 7).

A train op built in code that never runs cannot skip anything: a helper nothing calls
(a `def` whose name no file of the program mentions, neither as a call, an attribute,
a callback nor a string for `getattr`), or a block under `if False:`. Rules ask this
module before blaming such a train op.

The question is answered for the program a run checks (`project.Project.program`: the
files it was given); without one (standard input, an editor buffer) every function may
be called from elsewhere, and so may run. Unknown is "may run": dead code is only
ever established, never assumed. A name is looked for as a word in every file's
bytes, comments and strings included, so a mention of any kind keeps the code alive.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts, Scope

# Functions that frameworks call by name (`tf.app.run()` calls `main`), and methods
# Python calls for you.
_CALLED_BY_NAME = frozenset({"main"})


def never_runs(facts: "ModuleFacts", node: ast.AST, scope: "Scope") -> bool:
    """Is `node` (found in `scope`) established never to run: under `if False:`, or
    inside a function that nothing in the program calls?"""
    if _under_false_branch(facts, node):
        return True
    current: Optional["Scope"] = scope
    while current is not None:
        if current.kind == "function" and _never_called(facts, current):
            return True
        current = current.parent
    return False


def _under_false_branch(facts: "ModuleFacts", node: ast.AST) -> bool:
    """`if False:` / `if 0:` around the node, with the node in its body."""
    for statement in facts.enclosing_statements.get(id(node), ()):
        if isinstance(statement, ast.If) and isinstance(statement.test, ast.Constant) and \
                not statement.test.value and any(_contains(child, node) for child in statement.body):
            return True
    return False


def _contains(outer: ast.AST, node: ast.AST) -> bool:
    return any(child is node for child in ast.walk(outer))


def _never_called(facts: "ModuleFacts", function: "Scope") -> bool:
    cache = facts.model_cache.setdefault("never_called", {})
    key = id(function)
    if key not in cache:
        cache[key] = _unmentioned(facts, function)
    return cache[key]


def _unmentioned(facts: "ModuleFacts", function: "Scope") -> bool:
    node = function.node
    name = function.name
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.decorator_list:
        return False  # a lambda, or registered by a decorator
    if name in _CALLED_BY_NAME or (name.startswith("__") and name.endswith("__")):
        return False
    owner = function.owner_class
    if owner is not None and isinstance(owner.node, ast.ClassDef) and _has_base(owner.node):
        return False  # a base class, a framework's maybe, may call the method (Keras `train_step`)
    program = facts.resolver.project.program if facts.resolver is not None else None
    if not program:
        return False  # the rest of the program is unknown
    word = re.compile(rf"\b{re.escape(name)}\b")
    if len(word.findall(facts.text)) > 1:
        return False  # mentioned in its own module beyond its `def`
    pattern = word.pattern.encode()
    return not facts.resolver.mentioned_elsewhere(pattern)


def _has_base(node: ast.ClassDef) -> bool:
    return any(not (isinstance(base, ast.Name) and base.id == "object") for base in node.bases) or \
        bool(node.keywords)
