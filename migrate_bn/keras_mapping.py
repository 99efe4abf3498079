"""TF1 batch norm and optimizers as their TF2/Keras equivalents: the per-call mapping
the `upgrade` command is built on (bn_semantics.md sections 2 and 4; tables in tfapi).

Every TF1 default that Keras does not share is written out (slim's decay 0.999 and
scale=False, Adam's epsilon 1e-8), the training flag is always explicit, and whatever
has no faithful Keras equivalent is reported as `manual` instead of guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from . import tfapi
from .binding import named_arguments
from .facts import BatchNormSite, ModuleFacts


@dataclass
class KerasBatchNorm:
    """`constructor` builds the layer once; calling it as `layer(inputs, training=...)`
    and then `activation` (if any) computes what the TF1 call computed."""

    constructor: str
    training: str
    activation: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    manual: Optional[str] = None  # why it cannot be converted; then nothing else holds
    # What the Keras code now says itself (a default made explicit, one layer object for a
    # reused scope): news beside a TF1 call, none in a converted model.
    restated: list[str] = field(default_factory=list)
    # Initializers written as they were, having no checked Keras equivalent.
    kept_initializers: list[str] = field(default_factory=list)


@dataclass
class KerasOptimizer:
    code: str
    notes: list[str] = field(default_factory=list)
    exact: bool = True  # False: the numerics differ (see notes)
    manual: Optional[str] = None


@dataclass(frozen=True)
class KerasInitializer:
    """A TF1 initializer and the Keras 3 initializer that draws from the same distribution
    (bn_semantics.md: Keras's defaults differ, e.g. RandomNormal's stddev 0.05 against
    TF1's 1.0, so TF1's are written out)."""

    keras_class: str  # in tf.keras.initializers
    positions: tuple[str, ...]  # TF1's positional order
    renamed: dict[str, str]  # TF1 argument -> Keras keyword (arguments not here: see `literals`)
    defaults: dict[str, str]  # Keras keyword -> TF1's default, written out
    # TF1 arguments that must be literals: TF1 value -> the Keras text of its keyword in
    # `renamed` (None: the value is only accepted; a value not listed is refused).
    literals: dict[str, dict[object, Optional[str]]] = field(default_factory=dict)
    tf1_defaults: dict[str, object] = field(default_factory=dict)  # of the `literals` arguments


_NORMAL = ("mean", "stddev", "seed", "dtype")
_SEED = {"seed": "seed"}
_VARIANCE_MODES = {"fan_in": "'fan_in'", "fan_out": "'fan_out'", "fan_avg": "'fan_avg'"}
_CONTRIB_MODES = {"FAN_IN": "'fan_in'", "FAN_OUT": "'fan_out'", "FAN_AVG": "'fan_avg'"}
# TF1's "normal" is its truncated normal (tf.compat.v1's VarianceScaling); Keras 3 has no "normal".
_DISTRIBUTIONS = {"normal": "'truncated_normal'", "truncated_normal": "'truncated_normal'",
                  "untruncated_normal": "'untruncated_normal'", "uniform": "'uniform'"}
_TRUNCATED = KerasInitializer("TruncatedNormal", _NORMAL, {"mean": "mean", "stddev": "stddev", **_SEED},
                              {"mean": "0.0", "stddev": "1.0"})
_RANDOM_NORMAL = KerasInitializer("RandomNormal", _NORMAL, {"mean": "mean", "stddev": "stddev", **_SEED},
                                  {"mean": "0.0", "stddev": "1.0"})
_RANDOM_UNIFORM = KerasInitializer("RandomUniform", ("minval", "maxval", "seed", "dtype"),
                                   {"minval": "minval", "maxval": "maxval", **_SEED},
                                   {"minval": "0.0", "maxval": "1.0"})  # TF1's maxval=None is 1 for floats
_VARIANCE = KerasInitializer("VarianceScaling", ("scale", "mode", "distribution", "seed", "dtype"),
                             {"scale": "scale", **_SEED}, {"scale": "1.0", "mode": "'fan_in'",
                                                           "distribution": "'truncated_normal'"},
                             {"mode": _VARIANCE_MODES, "distribution": _DISTRIBUTIONS},
                             {"mode": "fan_in", "distribution": "truncated_normal"})


def _fan_initializer(keras_class: str) -> KerasInitializer:
    """tf.glorot_uniform_initializer and friends: a variance scaling Keras names alike."""
    return KerasInitializer(keras_class, ("seed", "dtype"), dict(_SEED), {})


# TF1 initializer (resolved name) -> its Keras 3 equivalent. contrib's variance scaling
# (and xavier) only with uniform=True: its truncated normal has stddev sqrt(1.3 factor/n),
# not Keras's sqrt(scale/n)/0.8796, so normal ones are refused.
INITIALIZERS: dict[str, KerasInitializer] = {
    **{f"tensorflow.{name}": spec for names, spec in (
        (("truncated_normal_initializer", "initializers.truncated_normal"), _TRUNCATED),
        (("random_normal_initializer", "initializers.random_normal"), _RANDOM_NORMAL),
        (("random_uniform_initializer", "initializers.random_uniform"), _RANDOM_UNIFORM),
        (("variance_scaling_initializer", "initializers.variance_scaling"), _VARIANCE),
        (("glorot_uniform_initializer", "initializers.glorot_uniform"), _fan_initializer("GlorotUniform")),
        (("glorot_normal_initializer", "initializers.glorot_normal"), _fan_initializer("GlorotNormal")),
        (("initializers.he_normal",), _fan_initializer("HeNormal")),
        (("initializers.he_uniform",), _fan_initializer("HeUniform")),
        (("initializers.lecun_normal",), _fan_initializer("LecunNormal")),
        (("initializers.lecun_uniform",), _fan_initializer("LecunUniform")),
    ) for name in names},
    **{f"tensorflow.contrib.{package}.{name}": spec for package in ("layers", "slim") for name, spec in (
        ("xavier_initializer", KerasInitializer("GlorotUniform", ("uniform", "seed", "dtype"), dict(_SEED), {},
                                                {"uniform": {True: None}}, {"uniform": True})),
        ("variance_scaling_initializer", KerasInitializer(
            "VarianceScaling", ("factor", "mode", "uniform", "seed", "dtype"), {"factor": "scale", **_SEED},
            {"scale": "2.0", "mode": "'fan_in'", "distribution": "'uniform'"},
            {"mode": _CONTRIB_MODES, "uniform": {True: None}}, {"mode": "FAN_IN", "uniform": False})),
    )},
}
_FLOAT32 = frozenset({"tensorflow.float32", "tensorflow.dtypes.float32"})


def keras_initializer(facts: ModuleFacts, node: ast.expr, notes: list[str],
                      local: frozenset = frozenset(), kept: Optional[list[str]] = None) -> str:
    """The Keras text of a TF1 initializer; when there is none, the text as written, a note,
    and the text added to `kept`.
    `local`: names that already hold a Keras initializer (model_code_layers.local_initializers)."""
    text = facts.segment(node) or ""
    if isinstance(node, ast.Name) and node.id in local:
        return node.id
    if isinstance(node, ast.Call):
        name = facts.qualname(node.func, facts.module) or ""
        if name in tfapi.INITIALIZER_NAMES and not node.args and not node.keywords:
            return tfapi.INITIALIZER_NAMES[name]
        if name in tfapi.INITIALIZER_CONSTANT and len(node.args) == 1 and not node.keywords:
            return f"tf.keras.initializers.Constant({facts.segment(node.args[0])})"
        if name in tfapi.INITIALIZER_CONSTANT and not node.args and [k.arg for k in node.keywords] == ["value"]:
            return f"tf.keras.initializers.Constant({facts.segment(node.keywords[0].value)})"  # `value=0`
        converted = _distribution_initializer(facts, node, INITIALIZERS.get(tfapi.canonical(name)))
        if converted is not None:
            return converted
    notes.append(f"initializer `{text}` kept as written: check it is a Keras initializer")
    if kept is not None:
        kept.append(text)
    return text


def is_initializer_call(facts: ModuleFacts, node: ast.AST) -> bool:
    """A call of a TF1 initializer this mapping knows (converted where a layer takes it)."""
    if not isinstance(node, ast.Call):
        return False
    name = facts.qualname(node.func, facts.module) or ""
    return name in tfapi.INITIALIZER_NAMES or name in tfapi.INITIALIZER_CONSTANT or \
        tfapi.canonical(name) in INITIALIZERS


def _distribution_initializer(facts: ModuleFacts, call: ast.Call, spec: Optional[KerasInitializer]) -> Optional[str]:
    if spec is None:
        return None
    arguments = named_arguments(call, spec.positions)
    if arguments is None:
        return None
    keywords = dict(spec.defaults)
    for argument in spec.literals:
        value = arguments.get(argument)
        literal = spec.tf1_defaults.get(argument) if value is None else \
            value.value if isinstance(value, ast.Constant) else _NOT_LITERAL
        choices = spec.literals[argument]
        if literal is _NOT_LITERAL or literal not in choices:
            return None
        if choices[literal] is not None:
            keywords[argument] = choices[literal]  # type: ignore[assignment]
    for argument, value in arguments.items():
        if argument == "dtype":
            if facts.qualname(value, facts.module) not in _FLOAT32:
                return None  # Keras initializers take the dtype from the layer's weight
        elif argument in spec.renamed and not is_none_literal(value):
            keywords[spec.renamed[argument]] = facts.segment(value) or ast.unparse(value)
        elif argument not in spec.literals and not is_none_literal(value):
            return None
    return f"tf.keras.initializers.{spec.keras_class}({', '.join(f'{k}={v}' for k, v in keywords.items())})"


_NOT_LITERAL = object()


def batch_norm_to_keras(facts: ModuleFacts, site: BatchNormSite, training: Optional[str] = None,
                        handled: frozenset = frozenset(), local_initializers: frozenset = frozenset()) -> KerasBatchNorm:
    """The Keras equivalent of a tf.layers or contrib/slim batch-norm call; `handled`: the
    arguments without a Keras counterpart (`tfapi.BN_MANUAL`) that the caller converts itself."""
    spec = site.spec
    if spec is None or site.how != "call" or spec.family not in ("tf.layers", "contrib"):
        return KerasBatchNorm("", "", manual=f"{site.api}: only direct batch-norm calls are converted")
    slim = spec.family == "contrib"
    arguments = named_arguments(site.node, tfapi.batch_norm_positions(spec.family))
    if arguments is None or "inputs" not in arguments:
        return KerasBatchNorm("", "", manual="arguments given through *args/**kwargs")

    def text(name: str) -> str:
        return facts.segment(arguments[name]) or ""

    for name, reason in tfapi.BN_MANUAL.items():
        value = None if name in handled else arguments.get(name)
        if value is not None and not (isinstance(value, ast.Constant) and value.value in (None, False)):
            return KerasBatchNorm("", "", manual=f"`{name}`: {reason}")
    notes: list[str] = []
    restated: list[str] = []
    kept: list[str] = []
    keywords: dict[str, str] = dict(tfapi.SLIM_BN_EXPLICIT_DEFAULTS if slim else {})
    table = tfapi.SLIM_BN_TO_KERAS if slim else tfapi.TF_LAYERS_BN_TO_KERAS
    for name, value in arguments.items():
        if name in table:
            target = table[name]
            keywords[target] = keras_initializer(facts, value, notes, local_initializers, kept) \
                if target.endswith("_initializer") else text(name)
            if name == "axis" and isinstance(value, (ast.List, ast.Tuple)):
                return KerasBatchNorm("", "", manual="a list-valued axis has no Keras 3 equivalent")
            if name == "trainable" and not (isinstance(value, ast.Constant) and value.value is True):
                notes.append(tfapi.BN_NOT_TRAINABLE_NOTE)
        elif name not in tfapi.BN_DROPPED and name not in tfapi.BN_MANUAL:
            return KerasBatchNorm("", "", manual=f"unknown argument `{name}`")
    if slim:
        manual = _slim_specifics(facts, arguments, keywords, notes, kept)
        if manual:
            return KerasBatchNorm("", "", manual=manual)
    if "reuse" in arguments:
        restated.append("variables shared through `reuse`: call one layer object wherever the scope was reused")
    flag = training or (text(spec.training_kw) if spec.training_kw in arguments else None)
    if flag is None:
        flag = "True" if spec.default_training else "False"
        restated.append(f"the TF1 call relied on the default `{spec.training_kw}={flag}`; it is now explicit")
    activation = None
    if slim and "activation_fn" in arguments and not is_none_literal(arguments["activation_fn"]):
        function = facts.qualname(arguments["activation_fn"], site.scope) or ""
        activation = tfapi.ACTIVATION_LAYERS.get(function, f"tf.keras.layers.Activation({text('activation_fn')})")
    constructor = f"{tfapi.KERAS_BATCH_NORM}({', '.join(f'{k}={v}' for k, v in keywords.items())})"
    return KerasBatchNorm(constructor, flag, activation, notes, restated=restated, kept_initializers=kept)


def _slim_specifics(facts: ModuleFacts, arguments: dict, keywords: dict[str, str], notes: list[str],
                    kept: list[str]) -> Optional[str]:
    """data_format, param_initializers/regularizers and update collections of slim."""
    data_format = arguments.get("data_format")
    if data_format is not None:
        if not isinstance(data_format, ast.Constant) or data_format.value not in ("NHWC", "NCHW"):
            return "a data_format that is not a literal 'NHWC' or 'NCHW'"
        if data_format.value == "NCHW":
            keywords["axis"] = "1"
    for argument, table in (("param_initializers", tfapi.SLIM_PARAM_INITIALIZERS),
                            ("param_regularizers", tfapi.SLIM_PARAM_REGULARIZERS)):
        value = arguments.get(argument)
        if value is None or is_none_literal(value):
            continue
        entries = facts.dict_entries(value, facts.module)
        if entries is None:
            return f"`{argument}` is not a dict the conversion can read"
        for key, entry in entries.items():
            if key not in table:
                return f"`{argument}` key {key!r} has no Keras equivalent"
            if key == "gamma" and keywords.get("scale") == "False":
                continue  # no gamma without scale: slim ignores it too
            keywords[table[key]] = keras_initializer(facts, entry, notes, kept=kept) \
                if argument == "param_initializers" \
                else facts.segment(entry) or ""
    collections = arguments.get("updates_collections")
    if collections is not None and facts.updates_mode(collections, facts.module) == "custom":
        return "updates go to a custom collection"
    return None


def is_none_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def optimizer_to_keras(facts: ModuleFacts, call: ast.Call) -> KerasOptimizer:
    """The `tf.keras.optimizers` equivalent of a `tf.train.*Optimizer(...)` call."""
    name = (facts.qualname(call.func, facts.module) or "").rsplit(".", 1)[-1]
    entry = tfapi.OPTIMIZER_MAP.get(name)
    if entry is None:
        return KerasOptimizer("", manual=f"`{name}` has no Keras optimizer")
    keras_class, positions, table, defaults, inexact = entry
    arguments = named_arguments(call, positions)
    if arguments is None:
        return KerasOptimizer("", manual="arguments given through *args/**kwargs")
    keywords = dict(defaults)
    for argument, value in arguments.items():
        if argument in table:
            keywords[table[argument]] = facts.segment(value) or ""
        elif argument not in tfapi.OPTIMIZER_DROPPED:
            return KerasOptimizer("", manual=f"`{name}` argument `{argument}` has no Keras equivalent")
    if name == "MomentumOptimizer" and "momentum" not in keywords:
        return KerasOptimizer("", manual="MomentumOptimizer without a momentum")
    order = ["learning_rate"] + [k for k in keywords if k != "learning_rate"]
    code = f"tf.keras.optimizers.{keras_class}({', '.join(f'{k}={keywords[k]}' for k in order if k in keywords)})"
    notes = [inexact] if inexact else []
    return KerasOptimizer(code, notes, exact=inexact is None)


@dataclass(frozen=True)
class LayerNormMapping:
    """contrib/slim's `layer_norm` and the Keras layer `upgrade` writes for it
    (model_code_layer_norm.py). Keras 3's LayerNormalization cannot compute it: its
    `gamma`/`beta` span the normalized axes (contrib's span the axes from
    `begin_params_axis` on: by default the last one only, while the moments are taken over
    every axis but the batch's) and its epsilon default is 1e-3 (contrib's 1e-12)."""

    positions: tuple[str, ...]  # TF1's positional order
    base_name: str  # the variable scope of an unnamed call: LayerNorm, LayerNorm_1, ...
    # The written class's constructor arguments, copied as the call gives them, and their
    # TF1 defaults (the class's own defaults).
    defaults: tuple[tuple[str, str], ...]
    epsilon: str  # TF1's variance epsilon, fixed: 1e-12 (1e-3 for float16 inputs)
    float16_epsilon: str
    weights: tuple[tuple[str, str, str], ...]  # (variable, the argument that makes it, its initializer)
    observing: frozenset[str]  # arguments that only record what the call built (end points)


CONTRIB_LAYER_NORM = LayerNormMapping(
    ("inputs", "center", "scale", "activation_fn", "reuse", "variables_collections", "outputs_collections",
     "trainable", "begin_norm_axis", "begin_params_axis", "scope"),
    "LayerNorm",
    (("center", "True"), ("scale", "True"), ("begin_norm_axis", "1"), ("begin_params_axis", "-1")),
    "1e-12", "1e-3",
    (("beta", "center", "zeros"), ("gamma", "scale", "ones")),
    frozenset({"outputs_collections"}))
# Canonical TF1 names (tfapi.canonical) -> their mapping: contrib's function and slim's
# (tf-slim's layers are contrib's code).
LAYER_NORMS = {
    "tensorflow.contrib.layers.layer_norm": CONTRIB_LAYER_NORM,
    "tensorflow.contrib.slim.layer_norm": CONTRIB_LAYER_NORM,
}
