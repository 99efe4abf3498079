"""Update wiring switched off on purpose or by mistake: `create_train_op(...,
update_ops=[])` and `optimize_loss(..., update_ops=[])` (issue 14, idiom 6).

The builders run the UPDATE_OPS collection when `update_ops` is None (their default);
an empty list runs none. That is right where nothing reads the moving statistics (a GAN
sampling with batch statistics) and wrong where the graph switches its batch norm
between training and inference: evaluation then normalizes with moving statistics that
never moved. Structure questions only; the rule (BN001) decides what to say.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

from .. import tfapi
from ..binding import argument

if TYPE_CHECKING:
    from ..facts import BatchNormSite, ModuleFacts, TrainOp


def switched_off_update_ops(facts: "ModuleFacts", op: "TrainOp") -> Optional[ast.expr]:
    """The `update_ops=` argument of a train-op builder that is an empty list (at the
    call, or a name bound to one), or None when the builder runs the collection."""
    if op.kind != "builder":
        return None
    name = facts.qualname(op.node.func, op.scope)
    if name not in tfapi.BUILDER_UPDATE_OPS_POSITION:
        return None
    given = argument(op.node, tfapi.BUILDER_UPDATE_OPS_KW, tfapi.BUILDER_UPDATE_OPS_POSITION[name])
    value = given
    if isinstance(value, ast.Name):
        value = facts.lookup(value.id, op.scope, op.node.lineno)
    if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:
        return given
    return None


def switched_sites(facts: "ModuleFacts") -> list["BatchNormSite"]:
    """Batch norm feeding UPDATE_OPS whose training flag is switched (a placeholder, a
    parameter): the program runs it in inference mode too, so its moving statistics are
    read. A literal or default `True` says nothing about that (GANs keep batch statistics)."""
    return [site for site in facts.update_feeding_sites()
            if site.flag is not None and site.trains is None and not isinstance(site.flag, ast.Constant)]


def unused_reads(facts: "ModuleFacts", op: "TrainOp") -> list[tuple[str, int]]:
    """`update_ops = tf.get_collection(UPDATE_OPS)` in the train op's function (or, for
    `self.update_ops`, its class) that nothing reads: the wiring its author meant and
    never finished. (name, line) of each."""
    loaded_names = {name for scope, name, _, _ in facts.name_loads if scope is op.scope}
    loaded_attributes = facts.model_cache.get("loaded_attributes")
    if loaded_attributes is None:
        loaded_attributes = facts.model_cache["loaded_attributes"] = {
            node.attr for node in ast.walk(facts.tree)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)}
    found = []
    for read in facts.update_reads:
        target = read.target
        if target is None:
            continue
        if target.startswith("self."):
            same_class = read.scope.owner_class is not None and read.scope.owner_class is op.scope.owner_class
            if same_class and target[len("self."):] not in loaded_attributes:
                found.append((target, read.node.lineno))
        elif read.scope is op.scope and target not in loaded_names:
            found.append((target, read.node.lineno))
    return found
