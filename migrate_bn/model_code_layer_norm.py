"""contrib/slim's `layer_norm` in model code, as a small Keras layer written into the
converted module (as the exact batch-norm subclass is: exact_bn.py).

contrib's layer_norm (tf-slim's is the same code) takes the moments over the axes from
`begin_norm_axis` (default 1: all but the batch's) with `tf.nn.moments`, and scales and
centres with `gamma`/`beta` of the shape `inputs.shape[begin_params_axis:]` (default -1:
the last axis only), through `tf.nn.batch_normalization` with a fixed epsilon of 1e-12
(1e-3 for float16). Keras 3's LayerNormalization ties its weights' shape to the axes it
normalizes and defaults to epsilon 1e-3, so it cannot say this with arguments; the
written class calls the same two TF ops, so it computes what TF1 computed, and holds
`beta` and `gamma` under the call's scope (`<scope>/beta`, or `LayerNorm/beta` unnamed),
where `ckpt-convert` puts TF1's values. API facts: keras_mapping.LAYER_NORMS.

Refused, with the reason: arguments that are not configuration, `variables_collections`,
and `reuse` other than the model's one-layer-per-scope sharing (a literal, `tf.AUTO_REUSE`
or a parameter of the function, on the function's only layer_norm, with a scope).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

from . import binding, model_code_flags
from .keras_mapping import LAYER_NORMS, LayerNormMapping, is_none_literal
from .model_code_layers import with_arg_scopes
from .model_code_statements import own_nodes
from .names import resolve
from .script import NotConvertible, fresh_name
from . import tfapi

if TYPE_CHECKING:
    from .facts import ModuleFacts

CLASS_NAME = "ContribLayerNormalization"
# Refusals (typed by these constants: tests and callers never match message text).
REUSE_REFUSED = ("`reuse` on a layer_norm other than a literal or a parameter of the function given to its only "
                 "layer_norm of a named scope")

_CLASS = '''\
class {name}({tf}.keras.layers.Layer):
    """contrib/slim's layer_norm (written by `migrate-bn upgrade`): the moments over the axes
    from `begin_norm_axis` on, `beta` and `gamma` of the shape of the axes from
    `begin_params_axis` on, and TF1's epsilon ({epsilon}; {float16_epsilon} for float16), with
    the TF ops TF1 used. (Keras's LayerNormalization shapes its weights by the normalized
    axes and takes another epsilon.)"""

    def __init__(self, {parameters}, **kwargs):
        super().__init__(**kwargs)
        self.center, self.scale = center, scale
        self.begin_norm_axis, self.begin_params_axis = begin_norm_axis, begin_params_axis

    def build(self, input_shape):
        shape = tuple(input_shape[self.begin_params_axis:])
        self.beta = self.add_weight(name="beta", shape=shape, initializer="{beta}") if self.center else None
        self.gamma = self.add_weight(name="gamma", shape=shape, initializer="{gamma}") if self.scale else None

    def call(self, inputs):
        rank = len(inputs.shape)
        first = self.begin_norm_axis + rank if self.begin_norm_axis < 0 else self.begin_norm_axis
        mean, variance = {tf}.nn.moments(inputs, list(range(first, rank)), keepdims=True)
        epsilon = {float16_epsilon} if inputs.dtype == {tf}.float16 else {epsilon}
        return {tf}.nn.batch_normalization(inputs, mean, variance, self.beta, self.gamma, epsilon)

    def get_config(self):
        return {{**super().get_config(), "center": self.center, "scale": self.scale,
                "begin_norm_axis": self.begin_norm_axis, "begin_params_axis": self.begin_params_axis}}
'''


def mapping(facts: "ModuleFacts", call: ast.AST) -> Optional[LayerNormMapping]:
    """The layer_norm a call is, or None."""
    if not isinstance(call, ast.Call):
        return None
    name = resolve(call.func, facts.imports)
    return LAYER_NORMS.get(tfapi.canonical(name)) if name is not None else None


def class_name(facts: "ModuleFacts", used: set[str]) -> str:
    """The written class's name in this module, picked once for every model of it (the
    converters carry it): not a name the module uses (`used`, script.names_used, left as
    it is), nor a converted model's class (a function's name in CamelCase)."""
    functions = [node.name for node in ast.walk(facts.tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    taken = used | {"".join(part[:1].upper() + part[1:] for part in name.split("_") if part) for name in functions}
    return fresh_name(CLASS_NAME, taken)


def class_source(name: str, tf: str) -> str:
    spec = next(iter(LAYER_NORMS.values()))
    weights = {weight: initializer for weight, _, initializer in spec.weights}
    return _CLASS.format(name=name, tf=tf, epsilon=spec.epsilon, float16_epsilon=spec.float16_epsilon,
                         parameters=", ".join(f"{argument}={value}" for argument, value in spec.defaults),
                         beta=weights["beta"], gamma=weights["gamma"])


def layer_call(converter, call: ast.Call, prefix: list):
    """The Keras layer of a layer_norm call (a model_code.LayerCall): the written class
    with the call's settings, under the call's scope, its activation_fn applied after."""
    from .model_code import LayerCall

    spec = mapping(converter.facts, call)
    assert spec is not None
    arguments = binding.named_arguments(call, spec.positions)
    if arguments is None or "inputs" not in arguments:
        raise NotConvertible(call, "arguments given through *args/**kwargs")
    flags = ({converter.flag} if converter.flag else set()) | converter.flag_aliases
    arguments = with_arg_scopes(converter.arg_scopes, tfapi.canonical(resolve(call.func, converter.facts.imports)
                                                                     or ""), arguments, flags)
    copied = dict(spec.defaults)
    keywords = []
    for argument, value in arguments.items():
        if argument in ("inputs", "scope", "activation_fn") or argument in spec.observing:
            continue
        if argument == "reuse":
            _reuse(converter, call, arguments, value)
            continue
        if argument == tfapi.TRAINABLE_KW and converter.dropped_argument(call, argument, value):
            continue  # `trainable=` the training flag: trainable, as the training build made it
        converter.configuration_only(value, f"a layer_norm argument (`{argument}`) computed from a tensor")
        if argument in copied or argument == tfapi.TRAINABLE_KW:
            keywords.append(f"{argument}={converter.tf2_text(value)}")
        elif not is_none_literal(value):
            raise NotConvertible(value, f"`{argument}` has no Keras equivalent here")
    constructor = f"{converter.layer_norm_name}({', '.join(keywords)})"
    key = converter.scope_key(prefix, arguments.get("scope"), spec.base_name, call)
    activation = arguments.get("activation_fn")
    converter.uses_layer_norm = True
    return LayerCall(call, key, constructor, arguments["inputs"], None,
                      None if activation is None or is_none_literal(activation) else converter.tf2_text(activation))


def _reuse(converter, call: ast.Call, arguments: dict, value: ast.expr) -> None:
    """`reuse` as configuration of the function's only layer_norm of a named scope: whether
    this call makes the scope's variables or takes an earlier call's; the Keras model owns
    one layer per scope either way, and sharing is calling the same object again. Anything
    else is refused (two layer_norms of one scope could differ in their settings)."""
    if is_none_literal(value):
        return
    facts = converter.facts
    configuration = (isinstance(value, ast.Constant) and value.value in (True, False)) or \
        model_code_flags.shares_by_scope(facts, converter.function, value) or \
        (isinstance(value, ast.Name) and value.id in converter.settings)
    scope = arguments.get("scope")
    inside = own_nodes(converter.function)
    others = [node for node in ast.walk(converter.function)
              if id(node) in inside and node is not call and mapping(facts, node) is not None]
    if not configuration or scope is None or is_none_literal(scope) or others:
        raise NotConvertible(call, REUSE_REFUSED)
    converter.note_reuse_parameter(call, value)
