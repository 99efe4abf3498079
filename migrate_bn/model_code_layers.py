"""Layer arguments and layer kinds in model code (the model-function conversion's helpers
for what real code passes its layers): initializers chosen in the function's
configuration code, dropout and its training flag, padding given as configuration, and
Keras layers TF1 code already called.

Each answer is faithful or a typed refusal (script.NotConvertible): an initializer local
is accepted only when every value it can hold has a Keras initializer of the same
distribution; a dropout's flag only when it is the model's training flag or a literal.
"""

from __future__ import annotations

import ast
from typing import Optional

from . import binding, model_code_flags, tfapi
from .facts import ModuleFacts, arg_scopes_opened, is_arg_scope_call
from .keras_mapping import is_initializer_call, keras_initializer
from .names import resolve
from .script import NotConvertible


def _converted_initializer(facts: ModuleFacts, node: ast.AST) -> Optional[str]:
    """The Keras text of a TF1 initializer call, when the mapping has a checked one."""
    if not is_initializer_call(facts, node):
        return None
    notes: list[str] = []
    text = keras_initializer(facts, node, notes)  # type: ignore[arg-type]
    return None if notes else text


def local_initializers(facts: ModuleFacts, function: ast.FunctionDef) -> frozenset[str]:
    """Locals of the function that only ever hold a TF1 initializer with a Keras equivalent
    (`gamma_initializer = tf.zeros_initializer()` in one branch, `tf.ones_initializer()`
    in the other): a layer given one of them gets the Keras initializer the assignment
    now builds (`keras_initializers`)."""
    parameters = {a.arg for a in function.args.args}
    stores: dict[str, int] = {}  # every binding of a name: assignments, loop targets, `as`, ...
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    held: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            held.setdefault(node.targets[0].id, []).append(node.value)
    good = {name for name, values in held.items() if name not in parameters and len(values) == stores[name]
            and all(_converted_initializer(facts, value) is not None for value in values)}
    return frozenset(good)


def keras_initializers(facts: ModuleFacts, node: ast.AST, tf: str) -> ast.AST:
    """Configuration code with its TF1 initializer calls replaced by the Keras initializers
    of the same distribution (those without one are left, and refused as TF1 names are)."""

    class Replace(ast.NodeTransformer):
        def visit_Call(self, call: ast.Call) -> ast.AST:
            text = _converted_initializer(facts, call)
            if text is None:
                return self.generic_visit(call)
            if text.startswith("tf."):
                text = f"{tf}.{text[len('tf.'):]}"
            return ast.parse(text, mode="eval").body

    return Replace().visit(node)


def layer_training(value: Optional[ast.expr], default: bool, flags: set, is_mode_test) -> ast.expr:
    """What a layer that switches on a training argument (dropout) is called with in Keras:
    the model's training flag, or a literal (TF1's default where none is given: for
    `tf.layers.dropout` False, so the layer never drops, and in Keras neither)."""
    if value is None:
        return ast.Constant(default)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value
    if (isinstance(value, ast.Name) and value.id in flags) or is_mode_test(value):
        return value
    raise NotConvertible(value, "a dropout training argument other than the model's training flag or a literal")


def layer_flags(facts: ModuleFacts, function: ast.FunctionDef, parameters: list[str]) -> set[str]:
    """Parameters of the function that a layer of its own takes as its training argument
    (`tf.layers.dropout(x, training=is_training)`): the model's training flag as much as a
    batch norm's is."""
    found = set()
    for call in ast.walk(function):
        if not isinstance(call, ast.Call):
            continue
        name = resolve(call.func, facts.imports) or ""
        api = tfapi.LAYERS.get(name) or tfapi.SLIM_LAYERS.get(tfapi.canonical(name))
        if api is None or api.training is None:
            continue
        value = (binding.named_arguments(call, api.positions) or {}).get(api.training)
        if isinstance(value, ast.Name) and value.id in parameters[1:]:
            found.add(value.id)
    return found


def lowercase(facts: ModuleFacts, function: ast.FunctionDef, argument: str, value: ast.expr, text: str) -> str:
    """A string argument Keras spells in lower case (slim's padding 'SAME'/'VALID'): a
    literal lowered, configuration code (the function's parameters and locals, module
    constants) lowered when the model is built. TF1 lowered it too (case-insensitive), so
    every value means the same. A name bound nowhere is refused (it cannot be known)."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return repr(value.value.lower())
    known = {a.arg for a in function.args.args} | \
        {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)} | \
        {node.id for statement in facts.tree.body if isinstance(statement, ast.Assign)
         for target in statement.targets for node in ast.walk(target) if isinstance(node, ast.Name)} | \
        set(facts.imports.names)
    unknown = next((node for node in ast.walk(value) if isinstance(node, ast.Name) and node.id not in known), None)
    if unknown is not None:
        raise NotConvertible(value, f"a `{argument}` that is not a literal string or configuration of the model")
    return f"{text}.lower()" if isinstance(value, (ast.Name, ast.Attribute)) else f"({text}).lower()"


def opened_arg_scopes(facts: ModuleFacts, function: ast.FunctionDef, statement: ast.With) -> list:
    """The arg scopes a `with slim.arg_scope(...):` inside a model function opens, as the
    whole-program model reads them (facts' own reading of arg_scope: its op list, its
    keywords, `**params` and `normalizer_params` dicts, a scope function of the module);
    [] for any other `with`. Refused when they cannot be read or the `as` target is used."""
    if len(statement.items) != 1 or not isinstance(statement.items[0].context_expr, ast.Call):
        return []
    entered = statement.items[0].context_expr
    scope = facts.scope_of_node.get(id(function), facts.module)
    if not is_arg_scope_call(facts, entered, scope):
        return []
    target = statement.items[0].optional_vars
    if target is not None and any(isinstance(node, ast.Name) and node.id == getattr(target, "id", None) and
                                  isinstance(node.ctx, ast.Load) for node in ast.walk(function)):
        raise NotConvertible(statement, "an arg_scope whose `as` target is used")
    found = arg_scopes_opened(facts, entered, scope)
    if found is None or any(arg_scope.opaque for arg_scope in found):
        raise NotConvertible(statement, "an arg_scope whose settings cannot be read")
    return found


def with_arg_scopes(arg_scopes: list, op: str, arguments: dict, flags: set) -> dict:
    """A slim layer call's arguments with the open arg scopes' settings for its op filled
    in (the innermost scope wins; the call's own arguments win over any scope), as slim's
    add_arg_scope does. A setting that names the training flag is refused
    (refuse_scoped_flag) unless it is a batch norm's flag inside normalizer_params; every
    setting for the op is checked, also one the call overrides. A batch-norm call's merge
    (model_code_shared_bn.merged_arguments) passes no flags here and checks only the
    settings that reach the call: checking only those here too would convert slim-layer
    calls that are refused today, a change of output rather than of structure."""
    merged: dict = {}
    for arg_scope in arg_scopes:
        if any(same_slim_op(tfapi.canonical(name), op) for name in arg_scope.ops):
            merged.update(arg_scope.kwargs)
    refuse_scoped_flag(merged, flags, "normalizer_params")
    return {**merged, **arguments}


def refuse_scoped_flag(settings: dict, flags: set, flag_argument: str) -> None:
    """Refuse an arg_scope's setting that names the training flag (a name in `flags`),
    the first in the settings' order, unless it is `flag_argument` (where the caller's
    layer takes the flag) or `trainable=` the flag itself (dropped: model_code_flags)."""
    for argument, value in settings.items():
        if argument != flag_argument and not model_code_flags.is_flag_as_trainable(argument, value, flags) \
                and any(isinstance(node, ast.Name) and node.id in flags for node in ast.walk(value)):
            raise NotConvertible(value, f"the training flag set as `{argument}` by an arg_scope")


def same_slim_op(first: str, second: str) -> bool:
    """One slim function under either of its names (`conv2d` and `convolution2d`), as
    arg_scope keys them (by the function)."""
    return tfapi.SLIM_LAYER_ALIASES.get(first, first) == tfapi.SLIM_LAYER_ALIASES.get(second, second)


def complement(value: ast.expr, text: str) -> str:
    """`1 - keep_prob` as slim computed it (the same float: slim passes `rate=1 - keep_prob`)."""
    if isinstance(value, (ast.Constant, ast.Name, ast.Attribute)):
        return f"1 - {text}"
    return f"1 - ({text})"


def refuse_biasless_transpose(call: ast.Call, keras_class: str, use_bias: Optional[str]) -> None:
    """A transposed convolution without a bias: `ckpt-convert` tells a transposed kernel
    from a convolution's by its bias (the kernels' shapes alike), so it could not fill it."""
    if keras_class == "Conv2DTranspose" and use_bias is not None and use_bias != "True":
        raise NotConvertible(call, "a transposed convolution without a bias: ckpt-convert tells its kernel "
                                   "from a convolution's by the bias")


def keras_layer_class(facts: ModuleFacts, call: ast.AST) -> Optional[str]:
    """`tf.keras.layers.MaxPool3D(...)(x)`: the Keras class of a weightless layer TF1 code
    built and called at once (tfapi.KERAS_WEIGHTLESS_LAYERS), else None."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Call)):
        return None
    name = resolve(call.func.func, facts.imports) or ""
    if name.startswith(tfapi.KERAS_LAYERS_MODULE) and name[len(tfapi.KERAS_LAYERS_MODULE):] in \
            tfapi.KERAS_WEIGHTLESS_LAYERS:
        return name[len(tfapi.KERAS_LAYERS_MODULE):]
    return None


def keras_layer_parts(call: ast.Call) -> tuple[ast.Call, ast.expr]:
    """A Keras layer call's constructor and inputs (`layer(x)` or `layer(inputs=x)`);
    refused when the call passes anything else (`training=`, `mask=`)."""
    inputs = call.args[0] if len(call.args) == 1 and not call.keywords else \
        call.keywords[0].value if not call.args and len(call.keywords) == 1 and call.keywords[0].arg == "inputs" \
        else None
    if inputs is None:
        raise NotConvertible(call, "a Keras layer called with more than its inputs")
    return call.func, inputs  # type: ignore[return-value]


def refuse_other_module_function(facts: ModuleFacts, call: ast.Call) -> None:
    """`tpu_normalization.cross_replica_batch_normalization(...)` in a model function: a
    function of another module (the project's own, most often) may build TF1 layers, which
    a Keras model's `call` cannot hold, and its module may not even import under Keras 3."""
    root = call.func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in facts.imports.names:
        return  # a method of a value of the function
    module = facts.imports.names[root.id].split(".")[0]
    if module not in tfapi.TENSOR_CODE_MODULES and module not in ("tensorflow", "tf_slim", "keras"):
        raise NotConvertible(call, f"`{facts.segment(call.func)}` (a function of another module) builds part "
                                   "of the model where this conversion cannot follow")


def layer_api(facts: ModuleFacts, call: ast.AST) -> Optional[tfapi.LayerApi]:
    """The tf.layers API of a layer call: the function (`tf.layers.conv2d(x, 8, 3)`) or its
    class built and called at once (`tf.layers.Conv2D(8, 3)(x)`, tfapi.LAYER_CLASSES)."""
    if not isinstance(call, ast.Call):
        return None
    name = resolve(call.func, facts.imports)
    if name in tfapi.LAYERS:
        return tfapi.LAYERS[name]
    if isinstance(call.func, ast.Call):
        function = tfapi.LAYER_CLASSES.get(resolve(call.func.func, facts.imports) or "")
        return tfapi.LAYERS[function] if function is not None else None
    return None


def layer_arguments(facts: ModuleFacts, call: ast.Call, api: tfapi.LayerApi) -> Optional[dict]:
    """A tf.layers call's arguments by the function's names, `inputs` included: of the
    function call, or of the class's constructor and the call of the layer it builds
    (refused when that call passes more than the inputs). None when they cannot be told."""
    if resolve(call.func, facts.imports) in tfapi.LAYERS:
        return binding.named_arguments(call, api.positions)
    constructor, inputs = keras_layer_parts(call)
    positions = tuple(p for p in api.positions if p not in tfapi.LAYER_CLASS_OMITTED)
    arguments = binding.named_arguments(constructor, positions)
    if arguments is None:  # `reuse=`, or `*args`: the constructor's arguments cannot be told
        raise NotConvertible(call, f"`{facts.segment(constructor.func)}` given arguments its constructor does "
                                   "not take, or through *args/**kwargs")
    return {"inputs": inputs, **arguments}
