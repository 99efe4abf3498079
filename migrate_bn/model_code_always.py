"""Batch norm always in training mode, in model code (model_code.py).

A TF1 batch norm whose training flag is the literal True (or contrib/slim's default
`is_training=True`) normalizes every batch with the batch's own statistics, also when the
program evaluates or samples. Where its updates go to UPDATE_OPS (tf.layers; slim with
`updates_collections` left as it is) its moving statistics move only in the runs that ran
those update ops: the train step. Neither stock Keras call computes that (`training=True`
updates at every call, `training=False` normalizes with the moving statistics), so such a
layer becomes the exact class with `always_training=True` (exact_bn.py), called with the
model's `training` (`training=self.training_step`, which `call` sets first, so the helpers'
methods read it too; Keras's own hand-down of `training` to inner layers cannot be relied
on: a layer called with a literal `training=True` hands that to every layer called after
it), so `model(x, training=True)` is the train step that updates and every other call only
normalizes.

With `updates_collections=None` TF1 updated in place whenever the output was computed,
which is what Keras does when called with the literal `training=True`: kept as it is.
"""

from __future__ import annotations

import ast

from . import tfapi
from .facts import BatchNormSite
from .keras_mapping import is_none_literal
from .script import NotConvertible


# The model's `training`, kept where its helper methods read it.
STEP_ATTRIBUTE = "training_step"
STEP_STATEMENT = f"        self.{STEP_ATTRIBUTE} = training  # read by the batch norms always in training mode"


def step_flag() -> ast.expr:
    """What a batch norm always in training mode is called with: `self.training_step`."""
    return ast.Attribute(ast.Name("self"), STEP_ATTRIBUTE)


def always_training(call: ast.Call, site: BatchNormSite, arguments: dict[str, ast.expr], stock_bn: bool) -> bool:
    """Does this batch norm (its arguments by name) normalize with batch statistics at every
    run while updating only in the train step? Raises NotConvertible where no converted
    layer would compute what it computed."""
    spec = site.spec
    assert spec is not None
    flag = arguments.get(spec.training_kw)
    literal_true = (flag is None and spec.default_training is True) or \
        (isinstance(flag, ast.Constant) and flag.value is True)
    if not literal_true or spec.updates != "collection":
        return False
    if _updates_in_place(site, arguments):
        return False  # in place, at every run: Keras's training=True
    trainable = arguments.get("trainable")
    if trainable is not None and not (isinstance(trainable, ast.Constant) and trainable.value is True):
        # TF1 normalized a frozen layer with batch statistics; Keras runs a frozen one in inference mode.
        raise NotConvertible(call, "a batch norm always in training mode that is not trainable: Keras runs a "
                                   "layer with trainable=False in inference mode")
    if stock_bn:
        raise NotConvertible(call, f"a batch norm always in training mode: "
                                   f"{tfapi.MODEL_CODE_STOCK_BN_REFUSED['always_training']}")
    return True


def discarded_calls(function: ast.FunctionDef) -> set[int]:
    """The calls whose result the function binds to a name it never reads (`bn =
    batch_norm(...)`, then `return deconv`): in TF1 nothing ran them but their UPDATE_OPS
    updates, which the train step ran."""
    read = {node.id for node in ast.walk(function)
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)}
    return {id(node.value) for node in ast.walk(function) if isinstance(node, ast.Assign) and
            isinstance(node.value, ast.Call) and len(node.targets) == 1 and
            isinstance(node.targets[0], ast.Name) and node.targets[0].id not in read}


def never_run(call: ast.Call, site: BatchNormSite, arguments: dict[str, ast.expr], discarded: set[int]) -> bool:
    """A batch norm whose output nothing reads, with its updates made in place
    (`updates_collections=None`): TF1 never ran it, so its moving statistics never moved.
    The converted layer is only built (its weights are the checkpoint's) and called in
    inference mode, which changes nothing; called in training mode, Keras would update."""
    return id(call) in discarded and _updates_in_place(site, arguments)


def _updates_in_place(site: BatchNormSite, arguments: dict[str, ast.expr]) -> bool:
    """`updates_collections=None` among the call's arguments (read from them, not from the
    site: an arg_scope may have given it)."""
    spec = site.spec
    assert spec is not None
    updates = arguments.get(spec.updates_kw) if spec.updates_kw else None
    return updates is not None and is_none_literal(updates)
