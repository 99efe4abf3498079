"""`migrate-bn ckpt-convert`: a TF1 checkpoint rewritten for the upgraded TF2 program.

The name map `upgrade` writes says which TF1 variables (`dense/kernel`,
`batch_normalization/moving_mean`, `BatchNorm/beta`) become which weights of which
Keras layer object. Conversion builds those Keras layers with the shapes the checkpoint
holds, loads the values into them, and writes an object-based checkpoint of them under
the names the upgraded program gives its `tf.train.Checkpoint`, so that
`checkpoint.read(path).assert_consumed()` holds there. Keras 2 and 3 name some weights
differently inside a checkpoint (Keras 3 keeps Dense's kernel as `_kernel`): run the
conversion with the TensorFlow that will run the upgraded program.

TensorFlow is needed only here. The checkpoint is read as data; no code is run.
"""

from __future__ import annotations

import json
from typing import Any

from .upgrade import NAME_MAP_FORMAT


class ConversionError(Exception):
    pass


def read_name_map(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            name_map = json.load(handle)
    except (OSError, ValueError) as error:
        raise ConversionError(f"cannot read the name map {path}: {error}") from None
    if not isinstance(name_map, dict) or name_map.get("format") != NAME_MAP_FORMAT:
        raise ConversionError(f"{path} is not a name map written by `migrate-bn upgrade --name-map`")
    return name_map


def convert(old: str, new: str, name_map: dict) -> list[str]:
    """Write the TF2 checkpoint `new` from the TF1 checkpoint `old`; one line per layer."""
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(old)
    except Exception as error:  # TensorFlow's own errors: not found, truncated, not a checkpoint
        raise ConversionError(f"cannot read {old} as a TensorFlow checkpoint: {error}") from None
    available = reader.get_variable_to_shape_map()
    objects: dict[str, Any] = {}
    lines = []
    for entry in name_map["layers"]:
        missing = [name for name in entry["weights"].values() if name not in available]
        if missing:
            raise ConversionError(f"{old} has no variable {missing[0]!r} (layer {entry['object']}): "
                                  "was it written by the program that was upgraded?")
        values = {weight: reader.get_tensor(name) for weight, name in entry["weights"].items()}
        layer = _built_layer(tf, entry["class"], values)
        for weight, value in values.items():
            getattr(layer, weight).assign(value)
        objects[entry["object"]] = layer
        lines.append(f"{entry['tf1_scope']} -> {entry['object']} ({entry['class']}: {', '.join(values)})")
    tf.train.Checkpoint(**objects).write(new)
    return lines


def _built_layer(tf: Any, keras_class: str, values: dict) -> Any:
    """A Keras layer of `keras_class` whose weights have the shapes of `values`."""
    layers = tf.keras.layers
    if keras_class == "Dense":
        kernel = values["kernel"]
        layer = layers.Dense(kernel.shape[-1], use_bias="bias" in values)
        layer.build((None, kernel.shape[0]))
    elif keras_class == "Conv2D":
        kernel = values["kernel"]
        layer = layers.Conv2D(kernel.shape[3], kernel.shape[:2], use_bias="bias" in values)
        layer.build((None, None, None, kernel.shape[2]))
    elif keras_class == "BatchNormalization":
        channels = values["moving_mean"].shape[0]
        layer = layers.BatchNormalization(center="beta" in values, scale="gamma" in values)
        layer.build((None, channels))
    else:
        raise ConversionError(f"no conversion for a {keras_class} layer")
    return layer
