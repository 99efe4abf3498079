"""Layer arguments of model code that the Keras model computes the same without.

Two arguments real model functions pass to every layer (often through an `arg_scope`):
- `trainable=<the training flag>`: TF1's layers test `trainable` as a Python bool (a tensor
  flag raises while the graph is built), so a model written so was built with a Python-bool
  flag, and the variables it trained were made in a build with the flag True: trainable, as
  a Keras layer's weights are. The argument is dropped with a note
  (tfapi.TRAINABLE_FLAG_NOTE), and the equivalence check builds the TF1 model with a Python
  bool (its case's "python_flag").
- `reuse=tf.AUTO_REUSE`: TF1 makes the scope's variables the first time and shares them
  after. The converted model builds one layer per scope (`ScopedModel.add_scoped` keeps the
  first layer of a scope built twice) and every call of the model uses the same layers: the
  same sharing. `reuse=reuse`, a parameter of the model function defaulting to None/False,
  is what `variable_scope(name, reuse=reuse)` is (dropped alike): a caller's second build
  sharing the first's variables is a second call of the one Keras model (noted). Any other
  `reuse` is left to the callers' own rules.
"""
from __future__ import annotations

import ast
from typing import Optional

from . import tfapi
from .facts import ModuleFacts
from .names import resolve


def is_auto_reuse(facts: ModuleFacts, argument: str, value: ast.expr) -> bool:
    """`reuse=tf.AUTO_REUSE` (any spelling TF1 code imports it by)."""
    return argument == "reuse" and resolve(value, facts.imports) == tfapi.AUTO_REUSE


def is_reuse_parameter(function: ast.FunctionDef, argument: str, value: ast.expr) -> bool:
    """`reuse=reuse`: the model function's own parameter (default None or False) given to its
    layers, as `variable_scope(name, reuse=reuse)` gives it to those inside (which the
    conversion drops alike): TF1 shared an earlier build's variables when a caller passed
    True; the Keras model is built once and called again for that."""
    if argument != "reuse" or not isinstance(value, ast.Name):
        return False
    parameters = function.args.args
    defaults = dict(zip([p.arg for p in parameters[len(parameters) - len(function.args.defaults):]],
                        function.args.defaults))
    default = defaults.get(value.id)
    return default is not None and isinstance(default, ast.Constant) and default.value in (None, False) and \
        not any(isinstance(node, ast.Name) and node.id == value.id and isinstance(node.ctx, ast.Store)
                for node in ast.walk(function))


def shares_by_scope(facts: ModuleFacts, function: ast.FunctionDef, value: ast.expr) -> bool:
    """A layer's `reuse=` the converted model's one-layer-per-scope sharing computes."""
    return is_auto_reuse(facts, "reuse", value) or is_reuse_parameter(function, "reuse", value)


def is_flag_as_trainable(argument: str, value: ast.expr, flags: set) -> bool:
    """`trainable=<the training flag>`, the flag's own name (not an expression over it)."""
    return argument == tfapi.TRAINABLE_KW and isinstance(value, ast.Name) and value.id in flags


def dropped(facts: ModuleFacts, function: ast.FunctionDef, argument: str, value: ast.expr, flags: set) -> bool:
    """Whether a layer's argument is one the Keras layer computes the same without."""
    return (argument == "reuse" and shares_by_scope(facts, function, value)) or \
        is_flag_as_trainable(argument, value, flags)


def module_flag(facts: ModuleFacts, function: ast.FunctionDef, name: str) -> bool:
    """`train_phase = tf.placeholder(tf.bool)` at module level, read by the model function
    as its batch norms' flag: TF1 fed it per run, as Keras passes `training=` per call. Only
    a name bound once in the module (and never in the function) to a bool placeholder (or a
    placeholder_with_default) counts: anything else could hold another value."""
    bindings = [statement for statement in facts.tree.body
                if any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
                       for node in ast.walk(statement))]
    if len(bindings) != 1 or any(isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load)
                                 for node in ast.walk(function)):
        return False
    statement = bindings[0]
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and
            isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Call)):
        return False
    api = resolve(statement.value.func, facts.imports)
    if api == tfapi.PLACEHOLDER_WITH_DEFAULT:
        default = statement.value.args[0] if statement.value.args else None
        return isinstance(default, ast.Constant) and isinstance(default.value, bool)
    dtype = statement.value.args[0] if statement.value.args else \
        next((k.value for k in statement.value.keywords if k.arg == "dtype"), None)
    return api == tfapi.PLACEHOLDER and dtype is not None and resolve(dtype, facts.imports) in tfapi.BOOL_DTYPES


def module_flag_statement(tree: ast.Module, name: str) -> Optional[ast.stmt]:
    """The module-level statement binding a module flag (the TF1 code the check runs needs it)."""
    return next((statement for statement in tree.body if isinstance(statement, ast.Assign) and
                 len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name) and
                 statement.targets[0].id == name), None)


