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
  same sharing. Any other `reuse` is left to the callers' own rules.
"""
from __future__ import annotations

import ast

from . import tfapi
from .facts import ModuleFacts
from .names import resolve


def is_auto_reuse(facts: ModuleFacts, argument: str, value: ast.expr) -> bool:
    """`reuse=tf.AUTO_REUSE` (any spelling TF1 code imports it by)."""
    return argument == "reuse" and resolve(value, facts.imports) == tfapi.AUTO_REUSE


def is_flag_as_trainable(argument: str, value: ast.expr, flags: set) -> bool:
    """`trainable=<the training flag>`, the flag's own name (not an expression over it)."""
    return argument == tfapi.TRAINABLE_KW and isinstance(value, ast.Name) and value.id in flags


def dropped(facts: ModuleFacts, argument: str, value: ast.expr, flags: set) -> bool:
    """Whether a layer's argument is one the Keras layer computes the same without."""
    return is_auto_reuse(facts, argument, value) or is_flag_as_trainable(argument, value, flags)
