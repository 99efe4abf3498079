"""Does a program keep its variables to itself? The whole-program model's answer.

Moving statistics are read only by a build of the batch norm in inference mode: in the
program that trains them, or in another program that loads them. Another program can
load them only from what this one writes: a checkpoint (a `Saver`, Keras or object
checkpoints, the training loops that save on their own: `MonitoredTrainingSession`,
`Supervisor`, Estimators, `slim.learning.train`) or an exported model. A program that
writes none of these, and that no other module imports, keeps its moving statistics in
its own process: when every build of a batch norm there runs in training mode, nothing
ever reads them (a notebook that trains a GAN and draws samples, saving nothing).

The calls are read by their last name (`saver.save`, `model.save_weights`), so an
unrelated `save` counts too: unknown means written.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .. import tfapi

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts


def writes_nothing(facts: "ModuleFacts") -> bool:
    """Does the module save no checkpoint and export no model?"""
    key = "persistence.writes_nothing"
    if key not in facts.model_cache:
        facts.model_cache[key] = not any(_writes(facts, call, scope) for call, scope in facts.calls)
    return facts.model_cache[key]


def _writes(facts: "ModuleFacts", call: ast.Call, scope) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name in tfapi.CHECKPOINT_WRITERS or name in tfapi.MODEL_EXPORTS:
        return True
    qualname = facts.qualname(func, scope) or ""
    return qualname.endswith(tfapi.CHECKPOINT_WRITING_LOOPS)
