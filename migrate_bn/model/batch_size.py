"""Batches of one example: the whole-program model's answer to "how large is a batch?".

Batch norm in training mode normalizes each batch with its own mean and variance. When
every batch a program forms holds one example, that is instance normalization, in
training and at test alike: a network trained so has never seen the moving averages
(means over many examples), and normalizing test inputs with batch statistics is what
it was trained with, not a bug (pix2pix's design: batch size 1, batch norm in training
mode in its train, test and export graphs). BN004's fix would change what such a
program computes, and no run reads the moving statistics (BN001, through
`model.statistics`).

Established from the module alone, conservatively (unknown means "not one"):

- it forms batches somewhere, and every batch it forms has size 1: the queue batchers
  of `tf.train` and `Dataset.batch`, with a batch size that is a literal, a name bound
  to one, or the default of its command-line option (`parser.addargument(
  "--batch_size", default=1)`, `flags.DEFINE_integer("batch_size", 1, ...)`) that
  the program never sets otherwise; every `tf.placeholder` has a literal shape whose
  first dimension is 1 (or is a scalar);
- nothing joins examples into a larger batch (`tf.concat` or `tf.stack` along axis 0,
  or an axis it cannot read), and no input of unknown batch (Keras `Input`,
  `from_generator`) is built;
- it imports no module of its own project (whose inputs it cannot see here).

The batch size a user may pass on the command line is not known; the program's own
configuration (the option's default) is what the model reads.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

from .. import tfapi
from ..binding import argument
from .options import option_default, set_by_the_program

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts, Scope

_MAX_DEPTH = 4


def one_example_batches(facts: "ModuleFacts") -> bool:
    """Does every batch this program forms hold exactly one example?"""
    key = "batch_size.one"
    if key not in facts.model_cache:
        facts.model_cache[key] = _one_example_batches(facts)
    return facts.model_cache[key]


def _one_example_batches(facts: "ModuleFacts") -> bool:
    if _imports_project_module(facts):
        return False
    evidence = False
    for call, scope in facts.calls:
        qualname = facts.qualname(call.func, scope) or ""
        name = qualname.rsplit(".", 1)[-1] if qualname else _attribute(call)
        tensorflow = qualname.startswith("tensorflow")
        if name in tfapi.UNKNOWN_BATCH_INPUTS:
            return False
        if tensorflow and name in tfapi.PLACEHOLDERS:
            first = _placeholder_batch(facts, call, scope, name)
            if first is False:
                return False
            evidence |= first is True
        elif tensorflow and name in tfapi.EXAMPLE_JOINS:
            position, default = tfapi.EXAMPLE_JOINS[name]
            axis = argument(call, "axis", position)
            value = default if axis is None else _int_value(facts, axis, scope, 0)
            if value is None or value == 0:
                return False  # examples joined into one batch, or an axis not known
        elif _is_batcher(qualname, call, name):
            position = tfapi.QUEUE_BATCH_SIZE_POSITION if qualname.startswith(tfapi.QUEUE_BATCHER_MODULE) \
                else tfapi.DATASET_BATCH_SIZE_POSITION
            size = argument(call, tfapi.BATCH_SIZE_KW, position)
            if size is None or _int_value(facts, size, scope, 0) != 1:
                return False
            evidence = True
    return evidence


def _attribute(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _is_batcher(qualname: str, call: ast.Call, name: str) -> bool:
    if qualname.startswith(tfapi.QUEUE_BATCHER_MODULE + "."):
        return name in tfapi.QUEUE_BATCHERS
    # `dataset.batch(n)`: a method of an object the module does not name as TensorFlow.
    return not qualname.startswith("tensorflow") and isinstance(call.func, ast.Attribute) and \
        call.func.attr in tfapi.DATASET_BATCHERS


def _placeholder_batch(facts: "ModuleFacts", call: ast.Call, scope: "Scope", name: str) -> Optional[bool]:
    """True: a batch of one; None: a scalar (no batch); False: another or unknown."""
    shape = argument(call, "shape", tfapi.PLACEHOLDER_SHAPE_POSITION[name])
    if not isinstance(shape, (ast.List, ast.Tuple)):
        return False
    if not shape.elts:
        return None
    return True if _int_value(facts, shape.elts[0], scope, 0) == 1 else False


def _int_value(facts: "ModuleFacts", node: Optional[ast.expr], scope: "Scope", depth: int) -> Optional[int]:
    """An integer the module fixes: a literal, a name bound to one, or the default of a
    command-line option (`args.batch_size`, `FLAGS.batch_size`) nothing else sets."""
    if node is None or depth > _MAX_DEPTH:
        return None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _int_value(facts, node.operand, scope, depth + 1)
        return None if value is None else -value
    if isinstance(node, ast.Name):
        from ..facts import UNKNOWN

        value = facts.lookup(node.id, scope)
        if value is None or value is UNKNOWN:
            return None
        return _int_value(facts, value, scope, depth + 1)  # type: ignore[arg-type]
    if isinstance(node, ast.Attribute):
        default = option_default(facts, node)
        if default is None or set_by_the_program(facts, node.attr):
            return None
        return _int_value(facts, default, facts.module, depth + 1)
    return None


def _imports_project_module(facts: "ModuleFacts") -> bool:
    """Does the module import a module of its own project (inputs formed elsewhere)?"""
    resolver = facts.resolver
    if resolver is None:
        return False
    for statement in ast.walk(facts.tree):
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            base = "." * statement.level + (statement.module or "")
            modules = [base] + [f"{base}.{alias.name}" if statement.module else base + alias.name
                                for alias in statement.names]
        else:
            continue
        if any(resolver.module_file(module) is not None for module in modules):
            return True
    return False
