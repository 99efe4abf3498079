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
from typing import Any, Optional

from . import exact_bn, model_code_kernels
from .model_code import SCOPE_ATTRIBUTE_PREFIX
from .model_code_variables import matches
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
    used = {name for entry in name_map["layers"] for name in entry["weights"].values()}
    for entry in name_map.get("models", []):
        model, weights = _scoped_model(tf, reader, available, entry["tf1_scope"], entry.get("variables", ()),
                                       entry.get("transposed"))
        if not weights:
            raise ConversionError(f"{old} has no variable of a layer under {entry['tf1_scope'] or 'the top scope'!r} "
                                  f"(model {entry['class']}): was it written by the code that was upgraded?")
        objects[entry["object"]] = model
        used.update(weights)
        lines.append(f"{len(weights)} variables under {entry['tf1_scope'] or 'the top scope'} -> "
                     f"{entry['object']} ({entry['class']})")
    if name_map.get("models"):
        # Nothing silently dropped: what the model does not hold is listed, with what it is.
        lines.extend(f"not converted: {name} ({_kind(name)})" for name in sorted(set(available) - used))
    tf.train.Checkpoint(**objects).write(new)
    return lines


# The last part of a TF1 layer variable's name -> the Keras weight it is (slim's names too;
# batch renormalization's three, which Keras 3 names as TF1 did).
LAYER_WEIGHTS = {"kernel": "kernel", "bias": "bias", "weights": "kernel", "biases": "bias", "gamma": "gamma",
                 "beta": "beta", "moving_mean": "moving_mean", "moving_variance": "moving_variance",
                 "moving_stddev": "moving_stddev", "renorm_mean": "renorm_mean", "renorm_stddev": "renorm_stddev",
                 # slim's depthwise convolution (separable_convolution2d without num_outputs): Keras 3's
                 # DepthwiseConv2D calls its kernel `kernel` too (_scoped_model tells it by this leaf).
                 "depthwise_weights": "kernel"}
DEPTHWISE_LEAF = "depthwise_weights"


def layer_weight(name: str) -> Optional[tuple[str, str]]:
    """The layer scope and Keras weight a TF1 variable is, or None. A zero-debiased moving
    mean's two variables are `<scope>/<scope>/moving_mean/{biased,local_step}` (TF1 opened
    the variable's full name as a scope inside the layer's): the exact layer's
    `moving_mean_biased` and `moving_mean_local_step` (exact_bn.py)."""
    for weight, suffix in exact_bn.DEBIAS_WEIGHTS.items():
        if name.endswith("/" + suffix):
            doubled = name[:-len(suffix) - 1]
            half = len(doubled) // 2
            if len(doubled) % 2 == 1 and doubled[half] == "/" and doubled[:half] == doubled[half + 1:]:
                return doubled[:half], weight
            return None
    if "/" not in name:
        return None
    scope, leaf = name.rsplit("/", 1)
    return (scope, LAYER_WEIGHTS[leaf]) if leaf in LAYER_WEIGHTS else None


def _kind(name: str) -> str:
    leaf = name.rsplit("/", 1)[-1]
    if name == "global_step" or leaf == "global_step":
        return "the step counter: the optimizer's `iterations` in TF2"
    if leaf in ("Momentum", "Adam", "Adam_1", "RMSProp", "RMSProp_1", "Adagrad", "Ftrl", "Ftrl_1") or \
            leaf.startswith(("beta1_power", "beta2_power")):
        return "an optimizer slot: TF2's optimizer makes its own"
    if leaf == "ExponentialMovingAverage":
        return "an exponential moving average's shadow"
    return "not a weight of the converted layers"


# A convolution's Keras class by the rank of its kernel (any other kernel is a Dense one's):
# the stand-in layer that carries its TF1 values into the checkpoint only needs their shapes.
KERNEL_RANK_CLASSES = {3: "Conv1D", 4: "Conv2D", 5: "Conv3D"}


def _scoped_model(tf: Any, reader: Any, available: dict, prefix: str,
                  variables: Any = (), transposed: Optional[list[str]] = None) -> tuple[Any, set[str]]:
    """A trackable holding, as attribute `tf1/<scope>`, a Keras layer built and filled from the
    TF1 variables `<prefix><scope>/<weight>`: what a model `upgrade` converted from model
    code holds (model_code.py), so its `checkpoint.read` finds every layer by name. The
    model's own variables (`variables`: the last parts of their names, or their starts and `*`) are held as
    `tf1/<name>`, each in a layer of its own (model_code_variables.py). `transposed`: the
    scopes (patterns) of the model's transposed convolutions, when the name map says them
    (model_code_kernels.py); without it a transposed kernel is told by its bias's shape."""
    scopes: dict[str, dict[str, str]] = {}
    model = tf.Module()
    used: set[str] = set()
    for name in sorted(available):
        if name.startswith(prefix) and any(matches(name.rsplit("/", 1)[-1], entry) for entry in variables):
            value = reader.get_tensor(name)
            holder = tf.keras.layers.Layer()
            holder.variable = holder.add_weight(shape=value.shape, dtype=str(value.dtype), initializer="zeros")
            holder.variable.assign(value)
            setattr(model, SCOPE_ATTRIBUTE_PREFIX + name[len(prefix):], holder)
            used.add(name)
            continue
        found = layer_weight(name)
        if found is not None and found[0].startswith(prefix):
            scopes.setdefault(found[0][len(prefix):], {})[found[1]] = name
    for scope, weights in sorted(scopes.items()):
        if "moving_mean" in weights:
            keras_class = "BatchNormalization"
        elif "kernel" in weights and weights["kernel"].endswith("/" + DEPTHWISE_LEAF):
            keras_class = "DepthwiseConv2D"  # its bias has inputs x multiplier entries, not a Conv2D's
        elif "kernel" in weights:
            keras_class = KERNEL_RANK_CLASSES.get(len(available[weights["kernel"]]), "Dense")
            if keras_class == "Conv2D" and transposed is not None and \
                    model_code_kernels.is_transposed(scope, transposed):
                keras_class = model_code_kernels.TRANSPOSED
        elif "gamma" in weights or "beta" in weights:
            keras_class = "LayerNormalization"  # contrib's layer_norm: beta/gamma and nothing else
        else:
            continue  # a bias alone: no layer of ours
        values = {weight: reader.get_tensor(name) for weight, name in weights.items()}
        layer = _built_layer(tf, keras_class, values, by_bias=transposed is None)
        for weight, value in values.items():
            getattr(layer, weight).assign(value)
        setattr(model, SCOPE_ATTRIBUTE_PREFIX + scope, layer)
        used.update(weights.values())
    return model, used


def _built_layer(tf: Any, keras_class: str, values: dict, by_bias: bool = True) -> Any:
    """A Keras layer of `keras_class` whose weights have the shapes of `values`. `by_bias`:
    a Conv2D whose bias is not its kernel's last dimension is a transposed convolution
    (False when the name map said which layers are)."""
    layers = tf.keras.layers
    if keras_class == "Dense":
        kernel = values["kernel"]
        layer = layers.Dense(kernel.shape[-1], use_bias="bias" in values)
        layer.build((None, kernel.shape[0]))
    elif keras_class == "Conv2DTranspose" or (keras_class == "Conv2D" and by_bias and "bias" in values and
                                              values["bias"].shape[0] != values["kernel"].shape[3]):
        kernel = values["kernel"]  # a transposed convolution's: (height, width, outputs, inputs)
        layer = layers.Conv2DTranspose(kernel.shape[2], kernel.shape[:2], use_bias="bias" in values)
        layer.build((None, None, None, kernel.shape[3]))
    elif keras_class == "Conv2D":
        kernel = values["kernel"]
        layer = layers.Conv2D(kernel.shape[3], kernel.shape[:2], use_bias="bias" in values)
        layer.build((None, None, None, kernel.shape[2]))
    elif keras_class == "DepthwiseConv2D":
        kernel = values["kernel"]  # (height, width, inputs, multiplier)
        layer = layers.DepthwiseConv2D(kernel.shape[:2], depth_multiplier=kernel.shape[3], use_bias="bias" in values)
        layer.build((None, None, None, kernel.shape[2]))
    elif keras_class in ("Conv1D", "Conv3D"):
        kernel = values["kernel"]  # (width | depth, height, width; inputs, outputs)
        layer = getattr(layers, keras_class)(kernel.shape[-1], kernel.shape[:-2], use_bias="bias" in values)
        layer.build((None,) * (kernel.ndim - 1) + (kernel.shape[-2],))
    elif keras_class == "BatchNormalization":
        channels = values["moving_mean"].shape[0]
        arguments = {"center": "beta" in values, "scale": "gamma" in values}
        if "moving_stddev" in values:  # only then: Keras 3 before 3.14 takes no `renorm` at all
            arguments["renorm"] = True
        if set(exact_bn.DEBIAS_WEIGHTS) & set(values):
            # The class `upgrade` wrote into the converted module (our own text), for its two weights.
            namespace = {"tf": tf}
            exec(exact_bn.class_source(exact_bn.CLASS_NAME, "tf", zero_debias=True), namespace)
            layer = namespace[exact_bn.CLASS_NAME](fused_ranks=(), zero_debias_moving_mean=True, **arguments)
        else:
            layer = layers.BatchNormalization(**arguments)
        layer.build((None, channels))
    elif keras_class == "LayerNormalization":
        # A stand-in holding `beta`/`gamma` of the checkpoint's shape (model_code_layer_norm's
        # class names its weights alike): normalized over every axis but the batch's, Keras's
        # weights span all of them, so they take the shape as it is.
        shape = tuple(next(iter(values.values())).shape)
        layer = layers.LayerNormalization(axis=list(range(1, len(shape) + 1)), center="beta" in values,
                                          scale="gamma" in values)
        layer.build((None,) + shape)
    else:
        raise ConversionError(f"no conversion for a {keras_class} layer")
    return layer
