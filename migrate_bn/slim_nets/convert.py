"""A tf-slim checkpoint loaded into the Keras version of its net (`ckpt-convert`'s work for
slim's nets).

Every Keras weight of the model must be filled and every model variable of the
checkpoint used; what a training run leaves beside the model (the global step, the
optimizer's slots and accumulators, EMA shadows) is listed by kind, never dropped in
silence. The checkpoint is read as data through TensorFlow's reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# Variables a TF1 optimizer keeps outside any model variable's own slots.
OPTIMIZER_STATE = ("beta1_power", "beta2_power")
EMA_SUFFIX = "ExponentialMovingAverage"


class SlimCheckpointError(Exception):
    """The checkpoint does not hold the net the model is (a weight left unfilled, a
    model variable with no Keras weight, a shape that differs)."""


@dataclass
class Loaded:
    used: list = field(default_factory=list)  # slim names assigned to a Keras weight
    global_step: list = field(default_factory=list)
    optimizer_slots: list = field(default_factory=list)
    ema_shadows: list = field(default_factory=list)
    other: list = field(default_factory=list)  # outside the net's scope: another model's

    def lines(self) -> list:
        listed = [f"{len(self.used)} variables -> Keras weights (every weight filled)"]
        for label, names in (("global step, not converted", self.global_step),
                             ("optimizer slots, not converted (Keras optimizers start afresh)", self.optimizer_slots),
                             ("EMA shadows, not converted (load them instead to evaluate with the averages)",
                              self.ema_shadows),
                             ("outside the net, not converted", self.other)):
            if names:
                listed.append(f"{len(names)} {label}: " + ", ".join(sorted(names)))
        return listed


def load(model, checkpoint: str, scope: str) -> Loaded:
    """Assign the slim checkpoint's variables to the (built) model's weights."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(checkpoint)
    shapes = reader.get_variable_to_shape_map()
    weights = model.slim_variables()
    unfilled = sorted(name for name in weights if name not in shapes)
    if unfilled:
        raise SlimCheckpointError(f"{checkpoint} has no variable {unfilled[0]!r} ({len(unfilled)} of the model's "
                                  f"{len(weights)} weights missing): is it a checkpoint of this net, with these "
                                  "arguments and scope?")
    loaded = Loaded()
    for name, variable in weights.items():
        value = reader.get_tensor(name)
        if tuple(value.shape) != tuple(variable.shape):
            raise SlimCheckpointError(f"{name}: the checkpoint holds shape {tuple(value.shape)}, the model "
                                      f"{tuple(variable.shape)} (num_classes or depth differ?)")
        variable.assign(value)
        loaded.used.append(name)
    for name in sorted(set(shapes) - set(weights)):
        owner = next((weight for weight in weights if name.startswith(weight + "/")), None)
        if name == "global_step" or name.endswith("/global_step"):
            loaded.global_step.append(name)
        elif owner is not None and EMA_SUFFIX in name[len(owner):]:
            loaded.ema_shadows.append(name)
        elif owner is not None or name.split("/")[-1] in OPTIMIZER_STATE:
            loaded.optimizer_slots.append(name)
        elif name == scope or name.startswith(scope + "/"):
            raise SlimCheckpointError(f"{checkpoint} holds {name!r} in the net's scope, which the Keras model has "
                                      "no weight for: was the net built with other arguments?")
        else:
            loaded.other.append(name)
    return loaded


def convert_checkpoint(old: str, new: str, net: str, scope: Optional[str] = None) -> list:
    """Write the Keras weights file `new` (`.weights.h5`) of `net` from the slim checkpoint
    `old`; `num_classes` is read off the checkpoint (no logits layer: features only).
    The upgraded code loads it with `model.load_weights(new)` once the model is built."""
    import importlib

    import numpy as np
    import tensorflow as tf

    from .table import NETS

    if net not in NETS:
        raise SlimCheckpointError(f"no Keras version of {net!r}: one of {', '.join(sorted(NETS))}")
    if not new.endswith(".weights.h5"):
        raise SlimCheckpointError(f"{new}: Keras 3 writes weights to a file named *.weights.h5")
    spec = NETS[net]
    scope = scope or spec.default_scope or net
    try:
        shapes = tf.train.load_checkpoint(old).get_variable_to_shape_map()
    except Exception as error:  # TensorFlow's own errors: not found, truncated, not a checkpoint
        raise SlimCheckpointError(f"cannot read {old} as a TensorFlow checkpoint: {error}") from None
    biases = shapes.get(f"{scope}/{spec.logits}/biases")
    family = importlib.import_module(f"{__package__}.keras.{spec.family}")
    heads = {}
    if spec.aux_logits:  # built as the checkpoint was: with its auxiliary head or without
        heads["create_aux_logits"] = f"{scope}/{spec.aux_logits}/biases" in shapes
    model = getattr(family, net)(num_classes=biases[0] if biases else None, scope=scope, **heads)
    model(np.zeros((1, spec.build_size, spec.build_size, 3), np.float32), training=False)
    loaded = load(model, old, scope)
    model.save_weights(new)
    return loaded.lines() + [f"num_classes={biases[0] if biases else None}, read off {scope}/{spec.logits}/biases"]
