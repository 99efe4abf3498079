"""absl's command-line flags an offered model reads (model_offer.py).

A model module may read a flag while it builds the model (`if FLAGS.use_bottleneck:` in a
block): TF1 read the parsed value when the graph was built. The Keras model reads it as
TF1 did, at construction and in `call`, when the flag comes with it: the module's
`from absl import flags`, `FLAGS = flags.FLAGS` and its `flags.DEFINE_*(...)` statements
(literal arguments only) are copied into the offered module, as written. absl's flags do
not exist in TF2's `tf` (`tf.app.flags` is gone), so only absl's own come along, and only
when the module defines every flag the models read (a flag defined in another module
would not be defined where the Keras model is). The program parses the flags before it
builds the model, as the TF1 program did; the equivalence check runs with their defaults.
"""

from __future__ import annotations

import ast
from typing import Iterable, Optional

from .facts import ModuleFacts
from .names import resolve

ABSL_FLAGS = "absl.flags"
FLAG_VALUES = ABSL_FLAGS + ".FLAGS"
DEFINE_PREFIX = ABSL_FLAGS + ".DEFINE"


def is_flags_import(statement: ast.stmt) -> bool:
    """`from absl import flags`: the import the flag definitions need, alone on its line."""
    return isinstance(statement, ast.ImportFrom) and statement.module == "absl" and statement.level == 0 and \
        [alias.name for alias in statement.names] == ["flags"]


def is_flag_values(facts: ModuleFacts, statement: ast.stmt) -> bool:
    """`FLAGS = flags.FLAGS` (absl's)."""
    return isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
        isinstance(statement.targets[0], ast.Name) and resolve(statement.value, facts.imports) == FLAG_VALUES


def definitions(facts: ModuleFacts) -> dict[str, ast.stmt]:
    """The module-level `flags.DEFINE_*("name", default, ...)` statements, by flag name;
    those whose arguments are not all literals under the name "" (they cannot come along)."""
    found: dict[str, ast.stmt] = {}
    for statement in facts.tree.body:
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            continue
        call = statement.value
        if not (resolve(call.func, facts.imports) or "").startswith(DEFINE_PREFIX):
            continue
        name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        literal = all(_literal(value) for value in [*call.args, *(k.value for k in call.keywords)])
        key = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) and literal else ""
        found[key] = statement
    return found


def read_flags(holder: str, functions: Iterable[ast.AST]) -> set[str]:
    """The flags read as `<holder>.<name>` in `functions`; "" for any other use of the holder."""
    read: set[str] = set()
    for function in functions:
        attributes = {id(n.value): n for n in ast.walk(function) if isinstance(n, ast.Attribute)}
        for node in ast.walk(function):
            if isinstance(node, ast.Name) and node.id == holder:
                attribute = attributes.get(id(node))
                read.add(attribute.attr if attribute is not None and isinstance(attribute.ctx, ast.Load) else "")
    return read


def carried_flags(facts: ModuleFacts, holder: str, functions: Iterable[ast.AST]) -> Optional[list[ast.stmt]]:
    """The definitions of the flags `functions` read through `holder`, or None when one is
    not defined in the module with literal arguments (or the holder is used otherwise)."""
    defined = definitions(facts)
    read = read_flags(holder, functions)
    if "" in read or any(name not in defined for name in read):
        return None
    return [defined[name] for name in read]


def _literal(node: ast.AST) -> bool:
    return all(isinstance(n, (ast.Constant, ast.List, ast.Tuple, ast.UnaryOp, ast.USub, ast.UAdd, ast.Load))
               for n in ast.walk(node))
