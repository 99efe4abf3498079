"""Training flags: which one a batch-norm site could use, and where a constant one
comes from. Queries over the module facts, shared by BN003 and BN004."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from . import tfapi
from .facts import UNKNOWN, BatchNormSite, ModuleFacts, Scope

# Names people gave the flag: is_training, training, train, phase_train, is_training_ph,
# train_mode, bn_training, self.is_train, ...
_TRAINING_NAME = re.compile(
    r"^_*(is_?)?(train|training)(_?(mode|phase|flag|ph|pl|placeholder|tensor|bool|bn))?$"
    r"|^_*phase_?train(ing)?$|^_*(bn|batch_?norm)_?(is_)?train(ing)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Flag:
    """A training flag a site can be given."""

    code: str  # what to write at the site
    origin: str  # how messages describe it
    kind: str  # "placeholder" | "parameter" | "attribute" | "variable" | "estimator-mode"


def is_training_name(name: str) -> bool:
    return bool(_TRAINING_NAME.match(name))


def _enclosing_functions(scope: Scope) -> list[Scope]:
    functions = []
    current: Optional[Scope] = scope
    while current is not None:
        if current.kind == "function":
            functions.append(current)
        current = current.parent
    return functions


def _is_bool_placeholder(facts: ModuleFacts, value: ast.expr, scope: Scope) -> Optional[str]:
    """"placeholder" / "placeholder_with_default" when `value` builds a bool one."""
    if not isinstance(value, ast.Call):
        return None
    name = (facts.qualname(value.func, scope) or "").rsplit(".", 1)[-1]
    if name == "placeholder":
        dtype = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "dtype"), None)
        if dtype is not None and (facts.qualname(dtype, scope) == "tensorflow.bool" or
                                  (isinstance(dtype, ast.Constant) and dtype.value == "bool")):
            return name
    if name == "placeholder_with_default" and value.args:
        default = value.args[0]
        if isinstance(default, ast.Constant) and isinstance(default.value, bool):
            return name
    return None


def _is_mode_comparison(value: ast.expr) -> bool:
    """`mode == tf.estimator.ModeKeys.TRAIN`."""
    return isinstance(value, ast.Compare) and any(
        isinstance(node, ast.Attribute) and node.attr == "TRAIN" for node in ast.walk(value))


def flag_in_scope(facts: ModuleFacts, scope: Scope, line: int) -> Optional[Flag]:
    """The training flag that code at `line` in `scope` can see, if there is one."""
    # 1. The nearest scope first: a variable holding a bool placeholder or `mode == TRAIN`,
    #    or a parameter, named for training.
    current: Optional[Scope] = scope
    while current is not None:
        if current.kind != "class":
            for name, bindings in current.assignments.items():
                if not is_training_name(name):
                    continue
                earlier = [value for at, value in bindings if current is not scope or at <= line]
                if not earlier:
                    continue
                value = earlier[-1]
                kind = _is_bool_placeholder(facts, value, current)
                if kind:
                    return Flag(name, f"the bool {kind} `{name}`", "placeholder")
                if _is_mode_comparison(value):
                    return Flag(name, f"`{name}` (from the Estimator mode)", "variable")
            if current.kind == "function":
                for name in current.param_defaults:
                    if is_training_name(name):
                        return Flag(name, f"the parameter `{name}` of `{current.name}()`", "parameter")
        current = current.parent
    functions = _enclosing_functions(scope)
    # 3. An attribute of the model object named for training.
    cls = facts.class_of(scope)
    if cls is not None and functions and functions[0].param_defaults and \
            next(iter(functions[0].param_defaults)) == "self":
        for name in cls.attributes:
            if is_training_name(name):
                return Flag(f"self.{name}", f"the attribute `self.{name}`", "attribute")
    # 4. An Estimator model_fn's mode.
    for function in functions:
        if tfapi.ESTIMATOR_MODE_PARAM in function.param_defaults:
            alias = facts.tensorflow_alias()
            tf = alias[0] if alias else "tf"
            mode = tfapi.ESTIMATOR_MODE_PARAM
            return Flag(f"({mode} == {tf}.estimator.ModeKeys.TRAIN)",
                        f"the Estimator `{mode}` of `{function.name}()`", "estimator-mode")
    return None


@dataclass(frozen=True)
class ConstantOrigin:
    """Where a constant training flag comes from."""

    value: bool
    nodes: tuple[ast.expr, ...]  # the literals to replace
    description: str


def constant_flag(facts: ModuleFacts, site: BatchNormSite) -> Optional[ConstantOrigin]:
    """The constant a site's flag always has, and the literal(s) that set it."""
    flag = site.flag
    if flag is None or flag is UNKNOWN:
        return None
    if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
        return ConstantOrigin(flag.value, (flag,), f"its flag is a literal `{flag.value}`")
    if isinstance(flag, ast.Name):
        value = facts.parameter_constant(site)
        if value is not None:
            literals = []
            for call in facts.callers(site.scope):
                argument = facts.argument_for(call, site.scope, flag.id)
                if not (isinstance(argument, ast.Constant) and argument.value is value):
                    return ConstantOrigin(value, (), f"every call of `{site.scope.name}()` passes `{value}`"
                                          f" for `{flag.id}`")
                literals.append(argument)
            return ConstantOrigin(value, tuple(literals),
                                  f"every call of `{site.scope.name}()` passes a literal `{value}` for `{flag.id}`")
        if flag.id not in _params_around(site.scope):
            constant = facts.flag_value(flag, site.scope, True)
            bound = facts.lookup(flag.id, site.scope)
            if isinstance(bound, ast.Constant) and constant is not None:
                return ConstantOrigin(constant, (), f"`{flag.id}` is the constant `{constant}`")
    return None


def _params_around(scope: Scope) -> set[str]:
    return {name for function in _enclosing_functions(scope) for name in function.param_defaults}


def in_model_fn(scope: Scope) -> bool:
    """Is this code inside an Estimator model_fn (a function taking `mode`)?"""
    return any(tfapi.ESTIMATOR_MODE_PARAM in f.param_defaults for f in _enclosing_functions(scope))


def graph_is_evaluated(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Are this graph's outputs also computed for evaluation or prediction?"""
    return bool(facts.evaluation_runs(site)) or in_model_fn(site.scope)


def inherits_normalizer(site: BatchNormSite) -> bool:
    """A layer that gets batch norm from an enclosing arg_scope(normalizer_fn=...): its
    settings live on that scope, which is reported (and fixed) instead."""
    return site.how == "normalizer_fn" and not any(
        kw.arg == tfapi.NORMALIZER_FN_KW for kw in site.node.keywords)


def called_under_arg_scope(facts: ModuleFacts, scope: Scope) -> bool:
    """Is this function called inside a `with arg_scope(...)`, which may set the flag of
    the slim batch norm it builds (`with slim.arg_scope(my_scope(is_training=True)):`)?"""
    for call in facts.callers(scope):
        line = call.node.lineno
        for node in ast.walk(call.scope.node):
            if isinstance(node, (ast.With, ast.AsyncWith)) and \
                    node.lineno <= line <= (node.end_lineno or node.lineno) and any(
                        isinstance(item.context_expr, ast.Call) and _called_name(item.context_expr) == "arg_scope"
                        for item in node.items):
                return True
    return False


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
