"""Layer arguments and layer kinds in model code (the model-function conversion's helpers
for what real code passes its layers): initializers chosen in the function's
configuration code, dropout and its training flag, padding given as configuration, and
Keras layers TF1 code already called.

Each answer is faithful or a typed refusal (script.NotConvertible): an initializer local
is accepted only when every value it can hold has a Keras initializer of the same
distribution; a dropout's flag only when it is the model's training flag or a literal.
"""

from __future__ import annotations

import ast
from typing import Optional

from . import binding, tfapi
from .facts import ModuleFacts
from .keras_mapping import is_initializer_call, keras_initializer
from .names import resolve
from .script import NotConvertible


def _converted_initializer(facts: ModuleFacts, node: ast.AST) -> Optional[str]:
    """The Keras text of a TF1 initializer call, when the mapping has a checked one."""
    if not is_initializer_call(facts, node):
        return None
    notes: list[str] = []
    text = keras_initializer(facts, node, notes)  # type: ignore[arg-type]
    return None if notes else text


def local_initializers(facts: ModuleFacts, function: ast.FunctionDef) -> frozenset[str]:
    """Locals of the function that only ever hold a TF1 initializer with a Keras equivalent
    (`gamma_initializer = tf.zeros_initializer()` in one branch, `tf.ones_initializer()`
    in the other): a layer given one of them gets the Keras initializer the assignment
    now builds (`keras_initializers`)."""
    parameters = {a.arg for a in function.args.args}
    stores: dict[str, int] = {}  # every binding of a name: assignments, loop targets, `as`, ...
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    held: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            held.setdefault(node.targets[0].id, []).append(node.value)
    good = {name for name, values in held.items() if name not in parameters and len(values) == stores[name]
            and all(_converted_initializer(facts, value) is not None for value in values)}
    return frozenset(good)


def keras_initializers(facts: ModuleFacts, node: ast.AST, tf: str) -> ast.AST:
    """Configuration code with its TF1 initializer calls replaced by the Keras initializers
    of the same distribution (those without one are left, and refused as TF1 names are)."""

    class Replace(ast.NodeTransformer):
        def visit_Call(self, call: ast.Call) -> ast.AST:
            text = _converted_initializer(facts, call)
            if text is None:
                return self.generic_visit(call)
            if text.startswith("tf."):
                text = f"{tf}.{text[len('tf.'):]}"
            return ast.parse(text, mode="eval").body

    return Replace().visit(node)


def layer_training(value: Optional[ast.expr], default: bool, flags: set, is_mode_test) -> ast.expr:
    """What a layer that switches on a training argument (dropout) is called with in Keras:
    the model's training flag, or a literal (TF1's default where none is given: for
    `tf.layers.dropout` False, so the layer never drops, and in Keras neither)."""
    if value is None:
        return ast.Constant(default)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value
    if (isinstance(value, ast.Name) and value.id in flags) or is_mode_test(value):
        return value
    raise NotConvertible(value, "a dropout training argument other than the model's training flag or a literal")


def layer_flags(facts: ModuleFacts, function: ast.FunctionDef, parameters: list[str]) -> set[str]:
    """Parameters of the function that a layer of its own takes as its training argument
    (`tf.layers.dropout(x, training=is_training)`): the model's training flag as much as a
    batch norm's is."""
    found = set()
    for call in ast.walk(function):
        if not isinstance(call, ast.Call):
            continue
        api = tfapi.LAYERS.get(resolve(call.func, facts.imports) or "")
        if api is None or api.training is None:
            continue
        value = (binding.named_arguments(call, api.positions) or {}).get(api.training)
        if isinstance(value, ast.Name) and value.id in parameters[1:]:
            found.add(value.id)
    return found
