"""Batch norms of model code that share one scope's variables through `reuse`, and batch
norm's own arguments set by an `arg_scope` (the model-function conversion's helpers).

The idiom (tensorflow/tensorflow#1122 and the projects that copied it)::

    tf.cond(is_training,
            lambda: batch_norm(x, is_training=True, reuse=None, scope=s, ...),
            lambda: batch_norm(x, is_training=False, reuse=True, scope=s, ...))

builds one set of variables under `s` and, inside each branch, a batch norm in training
or in inference mode: the branch taken decides both the output and whether the moving
statistics update (an in-place update is part of the training branch's output, and an
update op put in UPDATE_OPS lives in that branch, so it runs only when it is taken). That
is one Keras layer called with `training=<the predicate>`. It is converted so only when
the two calls are one layer: the same arguments (after the arg scopes open around them,
merged as slim's `add_arg_scope` merges them) apart from the training flag and `reuse`,
a scope given, the first branch (built first, and taken when the predicate holds)
creating the variables in training mode, the second reusing them in inference mode, and
the predicate the model's training flag. Anything else is refused with its reason.

A training and an inference batch norm built *before* the cond that picks one (the cond's
branches only return them) is refused: the training one's in-place update runs at every
run, whatever the predicate (BN010), and the inference one reads the moving statistics in
no fixed order with that update, which no Keras layer computes.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from . import binding, model_code_flags, tfapi
from .keras_mapping import is_none_literal
from .model_code_layers import refuse_scoped_flag, with_arg_scopes
from .model_code_statements import own_nodes
from .names import resolve
from .script import NotConvertible

if TYPE_CHECKING:
    from .facts import BatchNormSite
    from .model_code import FunctionConverter

# tf.cond's parameters in TF1's order (`fn1`/`fn2`: TF 1.0's names for the branches).
_COND_POSITIONS = ("pred", "true_fn", "false_fn", "strict", "name", "fn1", "fn2")
# What the pair's cond may be given besides its predicate and branches (names ops only).
_COND_HARMLESS = frozenset({"name", "strict"})

BUILT_BEFORE_COND_INPLACE = (
    "a training and an inference batch norm sharing variables, built before the `tf.cond` that "
    "picks one: TF1 runs the training one's in-place update whatever the branch (BN010) and "
    "the inference one reads the moving statistics in no fixed order with it; no Keras layer "
    "computes that")
BUILT_BEFORE_COND = (
    "a training and an inference batch norm sharing variables, built before the `tf.cond` that "
    "picks one (build each inside its branch function, or pass the flag to one batch norm)")
REUSE_REFUSED = "`reuse` on the batch-norm call: share it through its variable_scope"


@dataclass(frozen=True)
class CondPair:
    """`tf.cond(pred, lambda: <training batch norm>, lambda: <inference batch norm>)`."""

    cond: ast.Call
    predicate: ast.expr
    training_call: ast.Call  # the true branch's batch norm (built first: it creates the variables)
    inference_call: ast.Call


def cond_pairs(converter: "FunctionConverter") -> dict[int, CondPair]:
    """The function's conds whose two branches are each one batch-norm call (by the cond
    call's id). Whether the two calls are one layer is judged when the pair is converted,
    with the arg scopes open around it."""
    facts = converter.facts
    direct = {id(site.node) for site in facts.batch_norm_sites if site.how == "call"}
    inside = own_nodes(converter.function)
    pairs = {}
    for node in ast.walk(converter.function):
        if not isinstance(node, ast.Call) or id(node) not in inside:
            continue
        if resolve(node.func, facts.imports) not in tfapi.COND_FUNCTIONS:
            continue
        arguments = binding.named_arguments(node, _COND_POSITIONS) or {}
        true_fn = arguments.get("true_fn", arguments.get("fn1"))
        false_fn = arguments.get("false_fn", arguments.get("fn2"))
        calls = [_lambda_call(branch) for branch in (true_fn, false_fn)]
        if calls[0] is None or calls[1] is None or not all(id(call) in direct for call in calls) or \
                arguments.get("pred") is None:
            continue
        if set(arguments) - {"pred", "true_fn", "false_fn", "fn1", "fn2"} - _COND_HARMLESS:
            raise NotConvertible(node, "a `tf.cond` between two batch norms with arguments other than its "
                                       "predicate, branches and name")
        pairs[id(node)] = CondPair(node, arguments["pred"], calls[0], calls[1])  # type: ignore[arg-type]
    return pairs


def _lambda_call(branch: Optional[ast.expr]) -> Optional[ast.Call]:
    """The call a branch function `lambda: call(...)` (without parameters) returns."""
    if isinstance(branch, ast.Lambda) and not branch.args.args and not branch.args.vararg and \
            not branch.args.kwarg and not branch.args.kwonlyargs and isinstance(branch.body, ast.Call):
        return branch.body
    return None


def pair_flag(converter: "FunctionConverter", pair: CondPair) -> str:
    """The training flag a pair's predicate is: a parameter of the function, or a local
    bound to `mode == ModeKeys.TRAIN` (the mode, then)."""
    predicate = pair.predicate
    if isinstance(predicate, ast.Name) and predicate.id in converter.parameters[1:]:
        return predicate.id
    if converter.mode is not None and (converter.is_mode_test(predicate) or  # type: ignore[arg-type]
                                       (isinstance(predicate, ast.Name) and
                                        predicate.id in converter.flag_aliases)):
        return converter.mode
    raise NotConvertible(predicate, "a `tf.cond` between a training and an inference batch norm on something "
                                    "other than the model's training flag")


def member_ids(pairs: dict[int, CondPair]) -> set[int]:
    """The nodes inside the pairs' branch functions (converted with their cond, not alone)."""
    found: set[int] = set()
    for pair in pairs.values():
        for call in (pair.training_call, pair.inference_call):
            found.update(id(node) for node in ast.walk(call))
    return found


def merged_arguments(converter: "FunctionConverter", call: ast.Call, site: "BatchNormSite") -> dict[str, ast.expr]:
    """A batch-norm call's arguments with those the open arg scopes set for it filled in
    (the innermost scope wins, the call's own arguments win over any scope), as slim's
    `add_arg_scope` merges them. A scope's setting that names the training flag is refused
    (model_code_layers.refuse_scoped_flag) unless it is the batch norm's own training
    argument; only the settings that reach the call are checked, where a slim layer's
    merge (model_code_layers.with_arg_scopes) checks every setting for its op."""
    family = site.spec.family  # type: ignore[union-attr]
    positions = tfapi.batch_norm_positions(family)
    arguments = binding.named_arguments(call, positions)
    if arguments is None:
        raise NotConvertible(call, "arguments given through *args/**kwargs")
    op = tfapi.canonical(resolve(call.func, converter.facts.imports) or "")
    merged = with_arg_scopes(converter.arg_scopes, op, arguments, set())
    flags = ({converter.flag} if converter.flag else set()) | converter.flag_aliases
    refuse_scoped_flag({argument: value for argument, value in merged.items() if argument not in arguments},
                       flags, site.spec.training_kw)  # type: ignore[union-attr]
    return merged


def arg_scoped_call(converter: "FunctionConverter", call: ast.Call,
                    site: "BatchNormSite") -> tuple[ast.Call, "BatchNormSite"]:
    """A batch-norm call as the arg scopes open around it make it: the call itself when
    they set nothing of batch norm's, else a call of the same function with the merged
    arguments by keyword (at the call's place), and its site."""
    merged = merged_arguments(converter, call, site)
    family = site.spec.family  # type: ignore[union-attr]
    positions = tfapi.batch_norm_positions(family)
    if merged == binding.named_arguments(call, positions):
        return call, site
    synthetic = ast.copy_location(ast.Call(call.func, [], [ast.keyword(k, v) for k, v in merged.items()]), call)
    return synthetic, dataclasses.replace(site, node=synthetic)


def _is_true(value: Optional[ast.expr]) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def _creates(value: Optional[ast.expr]) -> bool:
    """`reuse` absent, None or False: the call creates its variables."""
    return value is None or is_none_literal(value) or (isinstance(value, ast.Constant) and value.value is False)


def _reuses(converter: "FunctionConverter", value: Optional[ast.expr]) -> bool:
    """`reuse=True` or `reuse=tf.AUTO_REUSE`: the call takes the variables the other made."""
    return _is_true(value) or (value is not None and model_code_flags.is_auto_reuse(converter.facts, "reuse", value))


def one_layer(converter: "FunctionConverter", pair: CondPair) -> tuple[ast.Call, "BatchNormSite"]:
    """The call and site of the one Keras layer a pair is (its training call with the arg
    scopes' settings and without `reuse`), or refused with what makes the two calls two."""
    sites = {id(site.node): site for site in converter.facts.batch_norm_sites}
    training_site, inference_site = sites[id(pair.training_call)], sites[id(pair.inference_call)]
    if training_site.spec != inference_site.spec:
        raise NotConvertible(pair.cond, "a `tf.cond` between two different batch-norm functions")
    spec = training_site.spec
    training = merged_arguments(converter, pair.training_call, training_site)
    inference = merged_arguments(converter, pair.inference_call, inference_site)
    flag = pair_flag(converter, pair)
    predicate = ast.dump(pair.predicate)

    def mode(value: Optional[ast.expr], default: bool) -> Optional[bool]:
        if value is None:
            return default
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            return value.value
        if ast.dump(value) == predicate or (isinstance(value, ast.Name) and value.id == flag):
            return None  # the predicate itself: inside each branch, its value there
        raise NotConvertible(value, "a batch norm in a `tf.cond` pair whose training flag is neither a "
                                    "literal nor the cond's predicate")

    training_mode = mode(training.get(spec.training_kw), spec.default_training)  # type: ignore[union-attr]
    inference_mode = mode(inference.get(spec.training_kw), spec.default_training)  # type: ignore[union-attr]
    if training_mode is False or inference_mode is True:
        raise NotConvertible(pair.cond, "a `tf.cond` whose branch taken when the predicate holds is not the "
                                        "training batch norm, or whose other branch is not the inference one")
    scope_keyword = tfapi.batch_norm_name_keyword(spec.family)  # type: ignore[union-attr]
    if training.get(scope_keyword) is None or is_none_literal(training[scope_keyword]):
        raise NotConvertible(pair.cond, f"a `tf.cond` pair of batch norms without a `{scope_keyword}` "
                                        "(TF1 cannot reuse an unnamed one)")
    if not (_creates(training.get("reuse")) and _reuses(converter, inference.get("reuse"))):
        raise NotConvertible(pair.cond, "a `tf.cond` pair of batch norms whose first branch does not create the "
                                        "variables (`reuse` unset) and the second reuse them (`reuse=True`)")
    ignored = {spec.training_kw, "reuse"}  # type: ignore[union-attr]
    for argument in sorted((set(training) | set(inference)) - ignored):
        left, right = training.get(argument), inference.get(argument)
        if left is None or right is None or ast.dump(left) != ast.dump(right):
            raise NotConvertible(pair.cond, f"a `tf.cond` between two batch norms that differ in `{argument}`: "
                                            "two layers, not one called in training or inference mode")
    if any(isinstance(node, ast.Call) for node in ast.walk(training["inputs"])):
        raise NotConvertible(pair.cond, "a `tf.cond` pair of batch norms whose input is computed in each branch")
    # The one layer's flag is the predicate (a literal True left in would read as a batch
    # norm always in training mode: model_code_always).
    keywords = [ast.keyword(k, v) for k, v in training.items() if k not in ignored] + \
        [ast.keyword(spec.training_kw, pair.predicate)]  # type: ignore[union-attr]
    synthetic = ast.copy_location(ast.Call(pair.training_call.func, [], keywords), pair.training_call)
    return synthetic, dataclasses.replace(training_site, node=synthetic, flag=pair.predicate)


def pair_layer(converter: "FunctionConverter", pair: CondPair, prefix: list):
    """The one Keras layer of a pair (a model_code.LayerCall), called with the predicate
    as its `training` (the model's flag: a Python bool in Keras, as the tensor was in TF1)."""
    from .model_code import LayerCall

    call, site = one_layer(converter, pair)
    constructor, _, activation, arguments = converter.layer_parts(call, site)
    family = site.spec.family  # type: ignore[union-attr]
    name = arguments.get(tfapi.batch_norm_name_keyword(family))
    key = converter.scope_key(prefix, name, tfapi.BATCH_NORM_BASE_NAMES[family], call)
    return LayerCall(call, key, constructor, arguments["inputs"], pair.predicate, activation)


def refuse_reuse(converter: "FunctionConverter", call: ast.Call) -> None:
    """`reuse` on a batch-norm call outside a recognised pair: refused, saying why when it
    is half of a pair built before the cond that picks one."""
    facts = converter.facts
    site = next((s for s in facts.batch_norm_sites if s.node is call), None)
    for node in ast.walk(converter.function):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        # `bn_infer = batch_norm(..., reuse=True)`: does a cond of the function return its partner?
        if node.value is not call:
            continue
        partner = _partner_before_cond(converter, node.targets[0].id)
        if partner is not None:
            in_place = any(s.node is partner and s.updates == "inplace" and s.trains is not False
                           for s in facts.batch_norm_sites) or (site is not None and site.updates == "inplace")
            raise NotConvertible(call, BUILT_BEFORE_COND_INPLACE if in_place else BUILT_BEFORE_COND)
    if site is not None and _owns_its_scope(converter, call, site):
        return
    raise NotConvertible(call, REUSE_REFUSED)


def _owns_its_scope(converter: "FunctionConverter", call: ast.Call, site: "BatchNormSite") -> bool:
    """`reuse` given as configuration (a literal, `tf.AUTO_REUSE`, a parameter of the
    function's) to the function's only batch norm of a named scope (MAML's
    `normalize(inp, activation, reuse, scope)`): it says whether this call creates the
    scope's variables or takes those an earlier call of the function made. The Keras model
    owns its one layer either way, and sharing is calling the same model object again, so
    the model computes what each TF1 call computed. Another batch norm in the function
    keeps the refusal (one layer could silently stand for two)."""
    family = site.spec.family  # type: ignore[union-attr]
    positions = tfapi.batch_norm_positions(family)
    arguments = binding.named_arguments(call, positions) or {}
    reuse, scope = arguments.get("reuse"), arguments.get(tfapi.batch_norm_name_keyword(family))
    configuration = isinstance(reuse, ast.Constant) and reuse.value in (True, False, None) or \
        _reuses(converter, reuse) or (isinstance(reuse, ast.Name) and reuse.id in converter.settings)
    if not configuration or scope is None or is_none_literal(scope):
        return False
    inside = own_nodes(converter.function)
    others = [s for s in converter.facts.batch_norm_sites
              if id(s.node) in inside and s.node is not call and s.how in ("call", "normalizer_fn")]
    return not others


def _partner_before_cond(converter: "FunctionConverter", name: str) -> Optional[ast.Call]:
    """The other batch-norm call of a cond whose branches return `name` and another name
    bound to a batch-norm call in the function, when there is one."""
    facts = converter.facts
    direct = {id(site.node): site.node for site in facts.batch_norm_sites if site.how == "call"}
    bound = {node.targets[0].id: node.value for node in ast.walk(converter.function)
             if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
             and id(node.value) in direct}
    for node in ast.walk(converter.function):
        if not isinstance(node, ast.Call) or resolve(node.func, facts.imports) not in tfapi.COND_FUNCTIONS:
            continue
        arguments = binding.named_arguments(node, _COND_POSITIONS) or {}
        returned = [branch.body.id for branch in (arguments.get("true_fn", arguments.get("fn1")),
                                                  arguments.get("false_fn", arguments.get("fn2")))
                    if isinstance(branch, ast.Lambda) and isinstance(branch.body, ast.Name)]
        if name in returned and len(returned) == 2:
            other = returned[1 - returned.index(name)]
            if other in bound:
                return bound[other]  # type: ignore[return-value]
    return None
