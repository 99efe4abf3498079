"""Training flags: which one a batch-norm site could use, where a constant one comes
from, and how to create one where there is none. Queries over the module facts (and the
edits of that one unsafe fix), shared by BN003 and BN004."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from . import tfapi
from .binding import argument
from .facts import UNKNOWN, BatchNormSite, ModuleFacts, Scope, SessionRun
from .findings import AddDictEntry, AddKeyword, Edit, InsertBefore, ReplaceNode
from .rules import node_range, tensorflow_v1

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


def bool_placeholder_kind(facts: ModuleFacts, value: ast.expr, scope: Scope) -> Optional[str]:
    """"placeholder" / "placeholder_with_default" when `value` builds a bool one."""
    if not isinstance(value, ast.Call):
        return None
    name = (facts.qualname(value.func, scope) or "").rsplit(".", 1)[-1]
    if name == "placeholder":
        dtype = argument(value, "dtype", 0)
        if dtype is not None and (facts.qualname(dtype, scope) == "tensorflow.bool" or
                                  (isinstance(dtype, ast.Constant) and dtype.value == "bool")):
            return name
    if name == "placeholder_with_default":
        default = argument(value, "input", 0)
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
                kind = bool_placeholder_kind(facts, value, current)
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
            defaults = [literal is site.scope.param_defaults.get(flag.id) for literal in literals]
            if any(defaults):
                # `generate(x)` under `def generate(x, is_training=True)`: say so, the call is what to change.
                how = f"leaves `{flag.id}` at its default `{value}`" if all(defaults) else \
                    f"passes a literal `{value}` for `{flag.id}` or leaves it at its default"
                return ConstantOrigin(value, tuple(literals), f"every call of `{site.scope.name}()` {how}")
            return ConstantOrigin(value, tuple(literals),
                                  f"every call of `{site.scope.name}()` passes a literal `{value}` for `{flag.id}`")
        if flag.id not in _params_around(site.scope):
            constant = facts.flag_value(flag, site.scope, True)
            bound = facts.lookup(flag.id, site.scope)
            if isinstance(bound, ast.Constant) and constant is not None:
                return ConstantOrigin(constant, (), f"`{flag.id}` is the constant `{constant}`")
    if isinstance(flag, ast.Attribute):
        from .model.attributes import build_time_value

        frozen = build_time_value(facts, site)
        if frozen is not None:
            return ConstantOrigin(frozen.value, (), f"`self.{frozen.attribute}` is `{frozen.value}` when "
                                  f"`__init__` builds the graph (line {frozen.assignment.lineno}); a later "
                                  "assignment does not change the graph already built")
    return None


def _params_around(scope: Scope) -> set[str]:
    return {name for function in _enclosing_functions(scope) for name in function.param_defaults}


def in_model_fn(scope: Scope) -> bool:
    """Is this code inside an Estimator model_fn (a function taking `mode`)?"""
    return any(tfapi.ESTIMATOR_MODE_PARAM in f.param_defaults for f in _enclosing_functions(scope))


def graph_is_evaluated(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Are this batch norm's outputs also computed for evaluation or prediction? The
    model answers (model/runs.py): training-time monitoring runs and runs not built
    from this batch norm do not count."""
    from .model.statistics import graph_is_evaluated as evaluated

    return evaluated(facts, site)


def always_training(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Does this batch norm run in training mode whenever it runs, so that nothing ever
    reads its moving statistics? Only a literal `True` flag says so (an explicit argument
    beats any arg_scope). contrib/slim's default `True` does not: a training script often
    leaves it and an evaluation script elsewhere builds the model with `False` from the
    checkpoint, which then holds statistics that never updated."""
    if site.how not in ("call", "apply", "normalizer_fn") or site.producer is not None or site.spec is None:
        return False
    return isinstance(site.flag, ast.Constant) and site.flag.value is True


def moving_statistics_unread(facts: ModuleFacts) -> bool:
    """Is every batch norm that feeds UPDATE_OPS here one whose moving statistics
    nothing reads (always training and never evaluated, or private to each build)? Then
    running the update ops changes nothing the program reads (GANs that sample with
    batch statistics, test-time batch statistics by design): unknown stays silent. The
    whole-program model answers (model/statistics.py)."""
    from .model.statistics import moving_statistics_unread as unread

    return unread(facts)


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


# --- creating a flag where there is none (BN003's and BN004's unsafe fix) ------------------

@dataclass(frozen=True)
class NewFlag:
    """The one `placeholder_with_default(False)` flag a scope gets: its name, and the edits
    that create it and feed it `True` in every training run."""

    name: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class NoNewFlag:
    """Why no flag can be created: `kind` for code, `reason` for the message."""

    kind: str  # "no-training-run" | "training-run-elsewhere" | "conditional"
    reason: str


def new_training_flag(facts: ModuleFacts, scope: Scope, statements: Sequence[ast.stmt]) -> Union[NewFlag, NoNewFlag]:
    """A new training flag for the code of `scope` that needs one (`statements`), created
    just before the first of them, when every training run can be fed it: all of them are
    in `scope`, and no statement needing it is in a loop (one placeholder per iteration,
    only the last fed) or a branch (a run after it could find the name unbound)."""
    training_runs = [run for run in facts.session_runs if facts.runs_train_op(run)]
    if not training_runs:
        return NoNewFlag("no-training-run", "no `sess.run` of the train op in this module could feed a new flag")
    if any(run.scope is not scope for run in training_runs):
        return NoNewFlag("training-run-elsewhere", "a training `sess.run` is outside the code that builds the "
                                                   "layer and could not be fed a new flag")
    if any(_conditional(scope.node, statement) for statement in statements):
        return NoNewFlag("conditional", "the layer is built in a loop or a branch, where a new flag would "
                                        "be created once per pass or not at all")
    name = _free_name(facts, scope)
    first = min(statements, key=lambda statement: statement.lineno)
    _, v1, imports = tensorflow_v1(facts, first)
    edits: list[Edit] = [*imports, InsertBefore(first.lineno, tfapi.TRAINING_PLACEHOLDER_TEMPLATE.format(name=name, v1=v1))]
    edits += [_feed_true(facts, run, name) for run in training_runs]
    return NewFlag(name, tuple(edits))


_BRANCHES = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try, ast.Match) if hasattr(ast, "Match") else \
    (ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try)


def _conditional(root: ast.AST, statement: ast.stmt) -> bool:
    """Is `statement` inside a loop or a branch of `root` (not counting `root` itself)?"""
    for node in ast.walk(root):
        if node is not root and isinstance(node, _BRANCHES) and \
                any(child is statement for child in ast.walk(node)):
            return True
    return False


def _free_name(facts: ModuleFacts, scope: Scope) -> str:
    """A name for the flag that nothing the scope can see already uses."""
    taken = set(facts.imports.names) | set(facts.module.assignments)
    current: Optional[Scope] = scope
    while current is not None:
        taken |= set(current.assignments) | set(current.param_defaults)
        current = current.parent
    return next(name for name in tfapi.TRAINING_PLACEHOLDER_NAMES if name not in taken)


def _feed_true(facts: ModuleFacts, run: SessionRun, name: str) -> Edit:
    feed = run.feed
    if feed is None:
        return AddKeyword(*node_range(facts, run.node), "feed_dict", f"{{{name}: True}}")
    if isinstance(feed, ast.Dict):
        return AddDictEntry(*node_range(facts, feed), name, "True")
    source = facts.segment(feed) or ""
    return ReplaceNode(*node_range(facts, feed), f"{{**{source}, {name}: True}}")
