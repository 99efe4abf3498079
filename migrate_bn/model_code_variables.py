"""Variables a TF1 model function creates itself, and the raw ops that use them (model code).

`w = tf.get_variable('w', [5, 5, x.get_shape()[-1], 64], initializer=...)` inside a model
function becomes a weight the Keras model owns under the same variable-scope name: a small
layer (`ScopedVariable`, written into the module once) added in `__init__` as
`tf1/<scope>/w`, where the function's loops and scopes put it, and built in `call` where
the function first used it, with the shape TF1 gave it (which may depend on the input).
`ckpt-convert` fills it from `<scope>/w` (the name map lists the model's variable names).
A variable factory (a module function that only returns `tf.get_variable(...)` of its
parameters) is followed at each call. Raw ops on such weights (`tf.nn.conv2d`, `conv3d`,
their transposes, `bias_add`, `matmul`) run in `call` as they are: TF2 computes them as TF1
did, with TF1's renamed keywords (`filter=`) spelled as TF2 spells them.

Refused with the reason: a weight passed in as an argument (MAML-style functional weights:
the Keras model would not own it), a regularizer (TF1 added it to a loss collection), a
dtype other than float32, a name that is not a literal string, and a variable name that a
layer of the same model also gives its weights (ckpt-convert could not tell them apart).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from . import binding, model_code_layers, tfapi
from .facts import ModuleFacts
from .keras_mapping import is_none_literal, keras_initializer
from .model_code_calls import reachable
from .names import resolve
from .script import NotConvertible, fresh_name, names_used

if TYPE_CHECKING:
    from .model_code import FunctionConverter

CLASS_NAME = "ScopedVariable"

_CLASS = '''\
class {name}({tf}.keras.layers.Layer):
    """A variable the TF1 model function created itself with `tf.get_variable` (written by
    `migrate-bn upgrade`): held by the model under its TF1 name, so `migrate-bn ckpt-convert`
    fills it, and built with the shape TF1 gave it where the function first used it."""

    def __init__(self, variable_name, initializer, dtype="float32", trainable=True, **kwargs):
        super().__init__(**kwargs)
        self.variable_name = variable_name
        self.initializer = initializer
        self.weight_dtype = dtype
        self.weight_trainable = trainable

    def build(self, shape):
        self.variable = self.add_weight(name=self.variable_name, shape=shape, initializer=self.initializer,
                                        dtype=self.weight_dtype, trainable=self.weight_trainable)

    @staticmethod
    def of(model, scope, shape):
        """The model's variable `scope`, built with `shape` (sizes, or one size) the first time."""
        holder = getattr(model, "{prefix}" + scope)
        if not holder.built:
            try:
                holder.build(tuple(int(size) for size in shape))
            except TypeError:  # one size, as TF1 took it
                holder.build((int(shape),))
        return holder.variable
'''


def class_name(facts: ModuleFacts) -> str:
    """The holder class's name in this module (the same for every model of it)."""
    taken = names_used(facts.tree)
    return fresh_name(CLASS_NAME, taken)


def class_source(name: str, tf: str, prefix: str) -> str:
    return _CLASS.format(name=name, tf=tf, prefix=prefix)


# --- what creates variables ----------------------------------------------------------------

def _is_get_variable(facts: ModuleFacts, node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and resolve(node.func, facts.imports) == tfapi.GET_VARIABLE


def _body(function: ast.FunctionDef) -> list[ast.stmt]:
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
            isinstance(body[0].value.value, str):
        return body[1:]
    return body


@dataclass
class _Factory:
    """What a variable factory does: `with variable_scope(scope):` (or none), parameters given
    a default when None (`if p is None: p = default`), and `return tf.get_variable(...)`."""

    call: ast.Call
    scope: Optional[ast.expr] = None
    defaults: list = field(default_factory=list)  # (parameter, its value when None)


def factory_variable(facts: ModuleFacts, function: ast.FunctionDef) -> Optional[_Factory]:
    """The factory's parts, when it has only those (`v = tf.get_variable(...)` then `return v`
    counts as returning it); None when it does more."""
    body = _body(function)
    scope = None
    parameters = {a.arg for a in function.args.args}
    if body and isinstance(body[0], ast.With):
        with_ = body[0]
        if len(with_.items) != 1 or with_.items[0].optional_vars is not None or \
                not isinstance(with_.items[0].context_expr, ast.Call) or \
                resolve(with_.items[0].context_expr.func, facts.imports) != tfapi.VARIABLE_SCOPE or \
                len(with_.items[0].context_expr.args) != 1 or with_.items[0].context_expr.keywords:
            return None
        scope = with_.items[0].context_expr.args[0]
        body = with_.body + body[1:]
    defaults = []
    while body and isinstance(body[0], ast.If):
        test, inner = body[0].test, body[0].body
        if body[0].orelse or len(inner) != 1 or not isinstance(inner[0], ast.Assign) or \
                not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and
                     test.left.id in parameters and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is) and
                     is_none_literal(test.comparators[0])) or \
                [ast.unparse(t) for t in inner[0].targets] != [test.left.id]:
            return None
        defaults.append((test.left.id, inner[0].value))
        body = body[1:]
    if len(body) == 1 and isinstance(body[0], ast.Return) and _is_get_variable(facts, body[0].value):
        return _Factory(body[0].value, scope, defaults)  # type: ignore[arg-type]
    if len(body) == 2 and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1 and \
            isinstance(body[0].targets[0], ast.Name) and _is_get_variable(facts, body[0].value) and \
            isinstance(body[1], ast.Return) and isinstance(body[1].value, ast.Name) and \
            body[1].value.id == body[0].targets[0].id:
        return _Factory(body[0].value, scope, defaults)  # type: ignore[arg-type]
    return None


def factories(facts: ModuleFacts) -> dict[str, ast.FunctionDef]:
    """The module's functions that return a variable they create, `tf.get_variable(...)` or a
    name bound to one (in any form: a factory the conversion cannot follow is refused where
    it is called)."""
    found = {}
    for node in facts.tree.body:
        if not isinstance(node, ast.FunctionDef) or _layers_inside(facts, node):
            continue
        assigned = {target.id for inner in ast.walk(node) if isinstance(inner, ast.Assign) and
                    _is_get_variable(facts, inner.value) for target in inner.targets if isinstance(target, ast.Name)}
        if any(isinstance(inner, ast.Return) and inner.value is not None and
               (_is_get_variable(facts, inner.value) or
                (isinstance(inner.value, ast.Name) and inner.value.id in assigned)) for inner in ast.walk(node)):
            found[node.name] = node
    return found


def _layers_inside(facts: ModuleFacts, function: ast.FunctionDef) -> bool:
    from .model_code import layer_kind
    return any(layer_kind(facts, node) for node in ast.walk(function))


def creates_variables(facts: ModuleFacts, function: ast.FunctionDef, made: dict[str, ast.FunctionDef]) -> bool:
    """Whether a function (not a factory itself) creates variables: `tf.get_variable`, or a
    call of a factory."""
    if function.name in made:
        return False
    return any(_is_get_variable(facts, node) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                                  and node.func.id in made) for node in ast.walk(function))


def variable_call(converter: "FunctionConverter", value: ast.expr) -> Optional[tuple[ast.Call, list]]:
    """The `tf.get_variable` call an assigned value makes, and the variable scope a factory
    opens around it: the call itself, or a factory's with the factory's parameters replaced
    by what the call passes (or their defaults; a default for None as `d if p is None else p`
    where the value passed may be None)."""
    facts = converter.facts
    if _is_get_variable(facts, value):
        return value, []  # type: ignore[return-value]
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    factory = factories(facts).get(value.func.id)
    if factory is None:
        return None
    parts = factory_variable(facts, factory)
    if parts is None:
        raise NotConvertible(value, f"`{factory.name}` creates a variable with more than `return tf.get_variable(...)`"
                                    " (in a variable_scope, after defaults for None): a factory the conversion does "
                                    "not follow")
    arguments = factory.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
        raise NotConvertible(value, f"a variable factory (`{factory.name}`) with *args, **kwargs or keyword-only "
                                    "parameters")
    parameters = [a.arg for a in arguments.args]
    bound = binding.named_arguments(value, tuple(parameters))
    if bound is None or set(bound) - set(parameters):
        raise NotConvertible(value, f"a call of the variable factory `{factory.name}` that cannot be bound")
    defaults = dict(zip(parameters[len(parameters) - len(arguments.defaults):], arguments.defaults))
    values = {name: bound.get(name, defaults.get(name)) for name in parameters}
    missing = [name for name, given in values.items() if given is None]
    if missing:
        raise NotConvertible(value, f"`{factory.name}` called without its `{missing[0]}`")
    inside = [parts.call] + ([parts.scope] if parts.scope is not None else []) + [d for _, d in parts.defaults]
    if any(isinstance(node, ast.Name) and node.id not in values and node.id not in facts.imports.names
           for part in inside for node in ast.walk(part)):
        raise NotConvertible(value, f"the variable factory `{factory.name}` reads names other than its parameters")

    def substitute(node: ast.expr) -> ast.expr:
        class Substitute(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.AST:
                return values.get(name.id, name)

        return Substitute().visit(copy.deepcopy(node))

    for parameter, default in parts.defaults:  # in order: a default may read an earlier parameter
        given = values[parameter]
        if is_none_literal(given):
            values[parameter] = substitute(default)
        elif not isinstance(given, (ast.Constant, ast.List, ast.Tuple, ast.Call, ast.BinOp)):
            values[parameter] = ast.IfExp(ast.Compare(given, [ast.Is()], [ast.Constant(None)]),
                                          substitute(default), given)
    scope = [substitute(parts.scope), "/"] if parts.scope is not None else []
    return substitute(parts.call), scope  # type: ignore[return-value]


# --- the conversion of one assignment ---------------------------------------------------------

def convert_assignment(converter: "FunctionConverter", statement: ast.Assign, found: tuple[ast.Call, list],
                       prefix: list, init: list, call: list) -> None:
    """`w = tf.get_variable(name, shape, ...)`: the holder added in `__init__` under the
    variable's TF1 name, and `w = ScopedVariable.of(self, name, shape)` in `call`."""
    from .model_code import scope_concatenation
    facts = converter.facts
    variable, scope = found
    if scope:
        converter.configuration_only(scope[0], "a variable scope named by a tensor")
    if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
        raise NotConvertible(statement, "a variable assigned to something other than one name")
    arguments = binding.named_arguments(variable, tfapi.GET_VARIABLE_POSITIONS)
    if arguments is None or set(arguments) - set(tfapi.GET_VARIABLE_POSITIONS):
        raise NotConvertible(statement, "`tf.get_variable` with arguments that cannot be told")
    for argument, given in arguments.items():
        if argument in tfapi.GET_VARIABLE_CONVERTED or is_none_literal(given) or \
                (argument == "validate_shape" and isinstance(given, ast.Constant) and given.value is True):
            continue
        raise NotConvertible(given, f"`tf.get_variable` with `{argument}`"
                                    + (": TF1 added its loss to REGULARIZATION_LOSSES, which the Keras weight "
                                       "does not" if argument == "regularizer" else ", which has no Keras "
                                                                                      "equivalent here"))
    name, shape = arguments.get("name"), arguments.get("shape")
    leaf = _leaf(name)
    if leaf is None:
        raise NotConvertible(statement, "a `tf.get_variable` name that is not a literal string, or one followed "
                                        "by configuration (ckpt-convert finds the model's own variables by name)")
    converter.configuration_only(name, "a variable named by a tensor")  # type: ignore[arg-type]
    name_text = ast.unparse(converter.tf2_names(copy.deepcopy(name)))  # type: ignore[arg-type]
    if isinstance(name, ast.Constant) and "/" in name.value:  # `"Generator/W"`: scope "Generator", name "W"
        name_text = repr(leaf)  # Keras weight names hold no "/"; the model's attribute keeps the whole name
    if shape is None or is_none_literal(shape):
        raise NotConvertible(statement, "`tf.get_variable` without a shape (its initial value's)")
    dtype = arguments.get("dtype")
    if dtype is not None and not is_none_literal(dtype) and \
            resolve(dtype, facts.imports) not in ("tensorflow.float32", "tensorflow.dtypes.float32"):
        raise NotConvertible(dtype, "a variable whose dtype is not float32")
    trainable = arguments.get("trainable")
    if trainable is not None and not (isinstance(trainable, ast.Constant) and trainable.value in (None, True, False)):
        raise NotConvertible(trainable, "a variable's `trainable` that is not a literal")
    initializer = arguments.get("initializer")
    if initializer is None or is_none_literal(initializer):
        keras = f"{converter.tf}.keras.initializers.{tfapi.GET_VARIABLE_DEFAULT_INITIALIZER}"
    else:
        converter.configuration_only(initializer, "a variable's initializer computed from a tensor")
        notes: list[str] = []
        keras = keras_initializer(facts, initializer, notes)
        if notes:
            raise NotConvertible(initializer, f"initializer `{ast.unparse(initializer)}` has no checked Keras "
                                              "equivalent")
    holder = class_name(facts)
    constructor = f"{holder}({name_text}, {keras}" + \
        (", trainable=False" if isinstance(trainable, ast.Constant) and trainable.value is False else "") + ")"
    key = scope_concatenation(prefix + scope + [copy.deepcopy(name)])
    added = ast.parse(f"self.add_scoped(KEY, {constructor})").body[0]
    added.value.args[0] = key  # type: ignore[attr-defined]
    init.append(added)
    if any(_is_get_variable(facts, node) for node in ast.walk(shape)):
        raise NotConvertible(shape, "a variable created inside another's shape")
    shape_text = converter.tensor_expression(shape, prefix, init)
    fetched = ast.parse(f"{holder}.of(self, KEY, SHAPE)", mode="eval").body
    fetched.args[1], fetched.args[2] = copy.deepcopy(key), shape_text  # type: ignore[attr-defined]
    call.append(ast.Assign(statement.targets, fetched, None))
    converter.tensors.add(statement.targets[0].id)
    converter.variable_leaves.add(leaf)


def _leaf(name: Optional[ast.expr]) -> Optional[str]:
    """The name map's entry for a variable name: the literal, or its literal start and `*`
    when configuration follows (`"alpha" + name`: every `alpha...` of the model is its own)."""
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return name.value.rsplit("/", 1)[-1]  # TF1 took the parts before a "/" as scopes
    if isinstance(name, ast.BinOp) and isinstance(name.op, ast.Add):
        start = _leaf(name.left)
        if start:
            return start.rstrip("*") + "*"
    return None


def matches(leaf: str, entry: str) -> bool:
    """Whether a TF1 variable's last name part is the name map's `entry` (`_leaf`)."""
    return leaf.startswith(entry[:-1]) if entry.endswith("*") else leaf == entry


def clash(entries: set[str], layer_leaves: set[str]) -> Optional[str]:
    """A variable name that a layer of the same model also gives its weights (ckpt-convert
    could not tell them apart), or None."""
    return next((leaf for leaf in sorted(layer_leaves) if any(matches(leaf, entry) for entry in entries)), None)


# --- raw ops ------------------------------------------------------------------------------

def plain_call(converter: "FunctionConverter", original: ast.Call, copied: ast.Call) -> None:
    """A call in the model's computation that builds no layer. A raw op of
    `tfapi.TF2_RAW_OPS` (or `bias_add`): its weight must be the model's own (not an argument
    of the function), and TF1's renamed keywords are spelled as TF2 spells them in `copied`.
    Variables are followed only where they are assigned to a name."""
    facts = converter.facts
    if isinstance(original.func, ast.Name) and original.func.id in factories(facts):
        raise NotConvertible(original, f"the variable factory `{original.func.id}` called inside an expression: "
                                       "the conversion follows `w = factory(...)` only")
    name = resolve(original.func, facts.imports) or ""
    suffix = name[len("tensorflow."):] if name.startswith("tensorflow.") else None
    if suffix is None:
        return
    if suffix == tfapi.GET_VARIABLE[len("tensorflow."):]:
        raise NotConvertible(original, "`tf.get_variable` inside an expression: the conversion follows "
                                       "`w = tf.get_variable(...)` only")
    weight = tfapi.RAW_OP_WEIGHTS.get(suffix)
    if weight is not None:
        keyword, position = weight
        given = binding.argument(original, keyword, position)
        settings = set(converter.settings)
        if given is not None and any(isinstance(node, ast.Name) and node.id in settings for node in ast.walk(given)):
            raise NotConvertible(original, f"`{facts.segment(original.func)}` on `{facts.segment(given)}`, a weight "
                                           "passed in as an argument: the Keras model would not own it "
                                           "(functional weights, as MAML passes them)")
    if suffix in tfapi.TF2_RAW_OPS:
        _, renamed = tfapi.TF2_RAW_OPS[suffix]
        for kept in copied.keywords:
            if kept.arg in renamed:
                kept.arg = renamed[kept.arg]


def is_raw_op(suffix: str) -> bool:
    return suffix in tfapi.TF2_RAW_OPS


def positional_limit(suffix: str) -> Optional[int]:
    return tfapi.TF2_RAW_OPS[suffix][0] if suffix in tfapi.TF2_RAW_OPS else None


# --- one name for one thing in the checkpoint ----------------------------------------------

def layer_leaves(facts: ModuleFacts, function: ast.FunctionDef, helpers: dict[str, ast.FunctionDef]) -> set[str]:
    """The TF1 variable names (last part) of the layers a model function builds, itself or
    through the model functions it calls."""
    from .model_code import layer_kind
    leaves: set[str] = set()
    for current in reachable(function, helpers):
        for node in ast.walk(current):
            kind = layer_kind(facts, node)
            if kind == "layer":
                leaves.update(model_code_layers.layer_api(facts, node).weights)  # type: ignore[union-attr]
            elif kind == "slim":
                leaves.update(tfapi.SLIM_WEIGHT_LEAVES)
            elif kind == "batch_norm":
                leaves.update(tfapi.BATCH_NORM_LEAVES)
    return leaves
