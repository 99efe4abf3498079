"""BN005 slow-moving-average."""

from __future__ import annotations

import ast
import bisect
import math
import weakref
from dataclasses import dataclass
from typing import Iterator, Optional, Union

from migrate_bn import tfapi
from migrate_bn.facts import UNKNOWN, BatchNormSite, ModuleFacts, Scope, all_bindings, param_default
from migrate_bn.findings import AddDictEntry, AddKeyword, Edit, Finding, Fix, Related, ReplaceNode
from migrate_bn.names import dotted
from migrate_bn.flags import called_under_arg_scope
from migrate_bn.model.options import option_default as _flag_default
from migrate_bn.model.statistics import statistics_unread
from migrate_bn.rules import Options, Rule, node_range, span


class SlowMovingAverage(Rule):
    """
    ## What it finds
    A batch-norm layer whose moving averages move too slowly for the run that trains it:
    its `decay` (slim, `tf.contrib.layers.batch_norm`) or `momentum` (`tf.layers`, Keras)
    needs more steps to reach the data's statistics than the module trains for. The decay
    is read where it is set: at the call, in `normalizer_params`, in a
    `slim.arg_scope([slim.batch_norm], decay=...)`, in `functools.partial`, in a slim
    net's arg scope (`inception_v3_arg_scope(batch_norm_decay=...)`, whose defaults are
    0.9997 for the inception, mobilenet_v1 and nasnet scopes, 0.997 for `resnet_arg_scope`
    and mobilenet's `training_scope`), or, when omitted, the API's default (slim 0.999,
    `tf.layers` and Keras 0.99); a name is followed to its value, a function parameter to
    its default and `FLAGS.x` / `args.x` to the flag's default. The number of steps is
    read when the module states it with literals: a `for step in range(2000):` loop (loops
    nest: epochs times steps) or `while step < 2000:` around the `sess.run` of the train
    op, `slim.learning.train(..., number_of_steps=...)`, `tf.train.StopAtStepHook`,
    `estimator.train(steps=...)` / `max_steps=`, `tf.estimator.TrainSpec(max_steps=...)`,
    `model.fit(epochs=..., steps_per_epoch=...)`.

    It reports when the run is shorter than the number of steps the averages need to come
    within 1% of the data's statistics. The message says how many steps the averages need
    to forget half of their initial value (0 and 1, or a checkpoint's statistics when
    fine-tuning) and to come within 1% of the data, and how many steps the run makes.

    ## Why it is wrong
    The moving mean and variance start at 0 and 1 and follow `m = d*m + (1-d)*x` at each
    training step, so after n steps `d**n` of the initial value is left: with `d = 0.9997`
    (the slim nets' arg scopes) that is half after 2311 steps and 1% after 15349; with
    slim's default 0.999, 693 and 4603; with 0.99, 69 and 459. A shorter run (a quick
    fine-tune, a small dataset with few steps per epoch) evaluates with statistics that are
    still mostly the initial 0 and 1: training accuracy is fine while validation accuracy
    is poor, on the same data, although the update ops are wired correctly.

    ## Example
    ```python
    with slim.arg_scope(inception_v1_arg_scope()):
        logits, _ = inception_v1(images, num_classes=4, is_training=True)
    ...
    for step in range(1000):
        sess.run(train_op)
    ```

    Use instead:
    ```python
    with slim.arg_scope(inception_v1_arg_scope(batch_norm_decay=0.99)):
        logits, _ = inception_v1(images, num_classes=4, is_training=True)
    ```

    ## Fix
    None by default: the right decay depends on the data and on how long the real runs
    are. With `--bn-momentum X` (and `--unsafe-fixes`, since it changes what the model
    learns), the fix sets the decay to X where it is written (`decay=`, `momentum=`,
    `'decay':` in `normalizer_params`, `batch_norm_decay=` of a slim net's arg scope), or
    adds it to the call when the default was used. The TF 1.x copies of the inception nets
    (`tf.contrib.slim.nets`) take no decay argument and get no fix.

    ## Stays silent when
    the run is known to be long enough, or its length cannot be told from the module
    (a model file, a loop until the input runs out): without it the decay may be right,
    and a warning on every slim model would bury the real ones; the layer never updates
    its statistics (a literal `is_training=False` / `training=False`, also in the net's
    arg scope, or a slim net built frozen under it); the decay is the API's default while
    an arg scope around the call, or around a caller (possibly in another module), may
    set it; the decay cannot be read (a `**kwargs` the module does not show, a value
    computed at run time); nothing reads the moving averages, however slowly they
    converge: the batch norm always trains in a graph nothing evaluates, or each build
    owns its variables (see BN001's "Stays silent when").
    """

    code = "BN005"
    name = "slow-moving-average"
    summary = "batch-norm decay/momentum needs more steps than the run makes"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        momentum = getattr(options, tfapi.BN_MOMENTUM_ATTRIBUTE, None)
        # Moving averages nothing reads (always training and never evaluated, or private
        # to each build) may converge as slowly as they like: the model says which.
        sites = [site for site in facts.batch_norm_sites if _updates(facts, site) and not statistics_unread(facts, site)]
        if not sites:
            return
        tree = _Tree(facts)
        steps = _training_steps(facts, tree)
        if steps is None:
            return  # without the run's length there is nothing to compare the decay with
        seen: set[int] = set()
        for site in sites:
            decay = _decay_of(facts, tree, site)
            if decay is None or decay.key in seen or not 0.0 < decay.value < 1.0:
                continue
            if decay.origin == tfapi.DEFAULT_DECAY_ORIGIN and site.how != "net_arg_scope" and \
                    _decay_may_come_from_elsewhere(facts, site):
                continue
            seen.add(decay.key)
            half, converged = _steps_to(decay.value, tfapi.HALF_LIFE_FRACTION), \
                _steps_to(decay.value, tfapi.CONVERGED_FRACTION)
            if steps.count >= converged:
                continue
            yield self._finding(facts, site, decay, half, converged, steps, momentum)

    def _finding(self, facts: ModuleFacts, site: BatchNormSite, decay: "Decay", half: int, converged: int,
                 steps: "Steps", momentum: Optional[float]) -> Finding:
        suggestion = _suggestion(steps)
        if suggestion < decay.value:
            remedy = (f"lower the {decay.keyword} (`{decay.keyword}={suggestion:g}` needs "
                      f"{_steps_to(suggestion, tfapi.CONVERGED_FRACTION)}) or train longer")
        else:  # already at or below every usual value: do not suggest what is there
            remedy = f"train longer, or lower the {decay.keyword} below {decay.value:g}"
        message = (f"{site.api} {decay.keyword} {decay.value:g}{decay.origin}: the moving averages need {half} steps "
                   f"to forget half of their initial value and {converged} to come within 1% of the data's "
                   f"statistics, but {steps.phrase}; {remedy}")
        related = [Related(span(facts, site.node), "the batch-norm layer")]
        if steps.node is not None:
            related.append(Related(span(facts, steps.node), "where the number of training steps is set"))
        return Finding(self.code, message, span(facts, decay.anchor), "warning",
                       _fix(facts, decay, momentum), tuple(related))


# --- the decay of a site ----------------------------------------------------------------

@dataclass
class Decay:
    value: float
    keyword: str  # what the user writes: decay, momentum, batch_norm_decay, bn_decay
    origin: str  # for the message: " (its default)", " (set at line 12)", ""
    anchor: ast.AST  # where the finding points
    key: int  # one finding per place the decay is set
    literal: Optional[ast.expr] = None  # the expression that sets it (at the call, in a dict): the fix replaces it
    add: Optional[Edit] = None  # with X standing for the value: how to set it when omitted


def _decay_of(facts: ModuleFacts, tree: "_Tree", site: BatchNormSite) -> Optional[Decay]:
    if site.how in ("call", "class", "apply"):
        api = site.spec
        if api is None:
            return None
        call = site.constructor if site.how == "apply" and site.constructor is not None else site.node
        position = tfapi.CLASS_DECAY_POSITION if api.is_class else tfapi.DECAY_POSITIONS.get(api.family)
        node = facts.call_argument(call, api.decay_kw, position, site.scope)
        if node is UNKNOWN:
            return None
        if node is None and api.family == "contrib":
            node = _arg_scope_setting(facts, tree, site, api.decay_kw)
        if node is None:
            return Decay(api.default_decay, api.decay_kw, tfapi.DEFAULT_DECAY_ORIGIN, site.node, id(call),
                         add=_add_keyword(facts, call, api.decay_kw))
        return _explicit(facts, site, node, api.decay_kw)
    if site.how == "normalizer_fn":
        return _normalizer_decay(facts, tree, site)
    if site.how == "net_arg_scope":
        return _net_arg_scope_decay(facts, site)
    return None


def _explicit(facts: ModuleFacts, site: BatchNormSite, node: ast.expr, keyword: str) -> Optional[Decay]:
    """A decay written in the source: `node` is the expression where the setting is made
    (at the call, in a dict, in an arg scope), which the fix replaces."""
    found = _number(facts, node, site.scope)
    if found is None:
        return None
    value, literal = found
    origin = ""
    if isinstance(node, ast.Attribute) and _flag_default(facts, node) is not None:
        origin = f" (the default of --{node.attr})"
    elif not _inside(literal, node) and not _inside(literal, site.node):
        origin = f" (set at line {literal.lineno})"  # type: ignore[attr-defined]
    return Decay(value, keyword, origin, node, id(node), literal=node)


def _normalizer_decay(facts: ModuleFacts, tree: "_Tree", site: BatchNormSite) -> Optional[Decay]:
    call = site.node
    if not any(kw.arg == tfapi.NORMALIZER_FN_KW for kw in call.keywords):
        return None  # a layer under arg_scope(normalizer_fn=...): judged once, at the scope
    api = site.spec
    if api is None:
        return None
    keyword = api.decay_kw
    params_node = next((kw.value for kw in call.keywords if kw.arg == tfapi.NORMALIZER_PARAMS_KW), None)
    params = facts.dict_entries(params_node, site.scope) if params_node is not None else {}
    if params is None:
        return None  # a dict the module does not show
    if keyword in params:
        return _explicit(facts, site, params[keyword], keyword)
    normalizer = next(kw.value for kw in call.keywords if kw.arg == tfapi.NORMALIZER_FN_KW)
    if isinstance(normalizer, ast.Name):
        bound = facts.lookup(normalizer.id, site.scope)
        if isinstance(bound, ast.Call) and facts.qualname(bound.func, site.scope) in tfapi.PARTIAL_FUNCTIONS:
            partial = {kw.arg: kw.value for kw in bound.keywords if kw.arg}
            if keyword in partial:
                return _explicit(facts, site, partial[keyword], keyword)
    if api.family == "contrib":
        setting = _arg_scope_setting(facts, tree, site, keyword)
        if setting is not None:
            return _explicit(facts, site, setting, keyword)
    add: Optional[Edit] = None
    if params_node is None:
        add = _add_keyword(facts, call, tfapi.NORMALIZER_PARAMS_KW, f"{{'{keyword}': {{value}}}}")
    else:
        target = params_node
        if isinstance(target, ast.Name):
            bound = facts.lookup(target.id, site.scope)
            target = bound if isinstance(bound, ast.Dict) else target
        if isinstance(target, ast.Dict):
            line, column, end_line, end_column = node_range(facts, target)
            add = AddDictEntry(line, column, end_line, end_column, f"{facts.quote_of(target)}{keyword}"
                               f"{facts.quote_of(target)}", "{value}")
    return Decay(api.default_decay, keyword, " (its default)", call, id(call), add=add)


def _net_arg_scope_decay(facts: ModuleFacts, site: BatchNormSite) -> Optional[Decay]:
    call = site.node
    name = facts.qualname(call.func, site.scope) or dotted(call.func) or ""
    function = name.rsplit(".", 1)[-1]
    known = tfapi.NET_ARG_SCOPE_DECAYS.get(function)
    if known is None:
        return None
    keyword, default = known
    training = next((kw.value for kw in call.keywords if kw.arg == tfapi.NET_ARG_SCOPE_TRAINING_KW), None)
    if training is not None and facts.flag_value(training, site.scope, True) is False:
        return None
    nets = [other for other in facts.batch_norm_sites if other.how == "net"]
    if nets and all(other.trains is False for other in nets):
        return None  # a frozen backbone: its batch norm never updates
    value = facts.call_argument(call, keyword, None, site.scope)
    if value is UNKNOWN:
        return None
    if value is not None:
        return _explicit(facts, site, value, keyword)
    without_keyword = name.startswith(tfapi.CONTRIB_NETS_PREFIX) and \
        function.startswith(tfapi.NET_ARG_SCOPES_WITHOUT_DECAY_KW_IN_CONTRIB)
    add = None if without_keyword else _add_keyword(facts, call, keyword)
    return Decay(default, keyword, " (its default)", call, id(call), add=add)


def _arg_scope_setting(facts: ModuleFacts, tree: "_Tree", site: BatchNormSite, keyword: str) -> Optional[ast.expr]:
    """`decay` as a `slim.arg_scope([slim.batch_norm], decay=...)` around the site (or,
    for an arg scope that sets `normalizer_fn`, nested inside it) sets it."""
    batch_norm_ops = {name for name, api in tfapi.BATCH_NORM_APIS.items() if api.family == "contrib"}

    def setting(statement: ast.AST) -> Optional[ast.expr]:
        if not isinstance(statement, (ast.With, ast.AsyncWith)):
            return None
        for item in statement.items:
            expr = item.context_expr
            if not (isinstance(expr, ast.Call) and _is_arg_scope(facts, expr, site.scope) and expr.args):
                continue
            ops = expr.args[0]
            if not isinstance(ops, (ast.List, ast.Tuple)):
                continue
            if not {facts.qualname(op, site.scope) for op in ops.elts} & batch_norm_ops:
                continue
            value = facts.call_argument(expr, keyword, None, site.scope)
            if value is not None and value is not UNKNOWN:
                return value
        return None

    statement = site.stmt
    if isinstance(statement, (ast.With, ast.AsyncWith)) and any(
            item.context_expr is site.node for item in statement.items):
        for inner in ast.walk(statement):
            if inner is not statement:
                found = setting(inner)
                if found is not None:
                    return found
    for ancestor in tree.ancestors(site.node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            break
        found = setting(ancestor)
        if found is not None:
            return found
    return None


def _is_arg_scope(facts: ModuleFacts, call: ast.Call, scope: Scope) -> bool:
    func = call.func
    return facts.qualname(func, scope) in tfapi.ARG_SCOPE_FUNCTIONS or \
        isinstance(func, ast.Attribute) and func.attr == tfapi.ARG_SCOPE_NAME or \
        isinstance(func, ast.Name) and func.id == tfapi.ARG_SCOPE_NAME


def _updates(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Does this batch norm update its moving statistics, and are they ever read?"""
    if site.how in ("collection_write", "net"):
        return False
    if site.trains is False or facts.parameter_constant(site) is False:
        return False
    if site.how == "net_arg_scope":
        # The nets built under it say whether they train: a frozen backbone does not.
        inner = [other for other in facts.batch_norm_sites
                 if other.how == "net" and _inside(other.node, site.stmt)]
        if inner and all(other.trains is False for other in inner):
            return False
    return True


def _decay_may_come_from_elsewhere(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """A default decay that an arg_scope around the call, or around a caller (here or
    in a module that imports this one), may well override."""
    if any(isinstance(statement, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call) and _called(item.context_expr) == "arg_scope"
            for item in statement.items) for statement in facts.ancestors(site.node)):
        return True
    if site.scope.kind == "function":
        return not facts.callers(site.scope) or called_under_arg_scope(facts, site.scope)
    return False


def _called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


# --- numbers ------------------------------------------------------------------------------

Number = Union[int, float]


def _number(facts: ModuleFacts, node: Optional[ast.expr], scope: Scope, depth: int = 0
            ) -> Optional[tuple[Number, ast.expr]]:
    """The value of a numeric expression the module spells out, and the expression that
    holds it (a literal, or a constant's, parameter's or flag's definition)."""
    if node is None or node is UNKNOWN or depth > 6:
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value, node
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _number(facts, node.operand, scope, depth + 1)
        if inner is None:
            return None
        return (-inner[0] if isinstance(node.op, ast.USub) else inner[0]), node
    if isinstance(node, ast.BinOp):
        left = _number(facts, node.left, scope, depth + 1)
        right = _number(facts, node.right, scope, depth + 1)
        if left is None or right is None:
            return None
        a, b = left[0], right[0]
        try:
            if isinstance(node.op, ast.Add):
                return a + b, node
            if isinstance(node.op, ast.Sub):
                return a - b, node
            if isinstance(node.op, ast.Mult):
                return a * b, node
            if isinstance(node.op, ast.FloorDiv):
                return a // b, node
            if isinstance(node.op, ast.Div):
                return a / b, node
        except (ZeroDivisionError, OverflowError):
            return None
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "float") \
            and len(node.args) == 1 and facts.lookup(node.func.id, scope) is None:
        inner = _number(facts, node.args[0], scope, depth + 1)
        if inner is None:
            return None
        return (int(inner[0]) if node.func.id == "int" else float(inner[0])), inner[1]
    if isinstance(node, ast.Name):
        value = facts.lookup(node.id, scope)
        if value is UNKNOWN:
            default = param_default(scope, node.id)
            return _number(facts, default, scope, depth + 1) if default is not None else None
        if value is None or not isinstance(value, ast.expr):
            return None
        bindings = all_bindings(scope, node.id)
        if len(bindings) > 1:
            return None  # reassigned: which value holds here cannot be told
        return _number(facts, value, scope, depth + 1)
    if isinstance(node, ast.Attribute):
        default = _flag_default(facts, node)
        if default is not None:
            return _number(facts, default, scope, depth + 1)
    return None




def _calls(facts: ModuleFacts) -> list[ast.Call]:
    return [call for call, _ in facts.calls]


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _steps_to(decay: float, fraction: float) -> int:
    """Steps until `decay**n` falls to `fraction` (bn_semantics.md 3 T14)."""
    return math.ceil(math.log(fraction) / math.log(decay) - 1e-9)


def _suggestion(steps: Optional["Steps"]) -> float:
    """A usual decay whose averages settle within the run (0.99 when the run is unknown)."""
    if steps is None:
        return tfapi.SUGGESTED_DECAYS[0]
    for candidate in tfapi.SUGGESTED_DECAYS:
        if _steps_to(candidate, tfapi.CONVERGED_FRACTION) <= steps.count:
            return candidate
    return tfapi.SUGGESTED_DECAYS[-1]


# --- how long the module trains -----------------------------------------------------------

@dataclass
class Steps:
    count: int
    phrase: str  # "the loop runs 1000 steps"
    node: Optional[ast.AST]  # where the count is set


class _Tree:
    """The statements around a call (the facts keep them for every call)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        return self.facts.ancestors(node)


def _training_steps(facts: ModuleFacts, tree: _Tree) -> Optional[Steps]:
    """How many steps the module's training makes, when literals say so; the longest of
    its training runs. None when it cannot be told."""
    stated = [steps for steps in (_stated_steps(facts, call) for call in _calls(facts)) if steps is not None]
    looped: list[Steps] = []
    unknown = False
    for run in facts.session_runs:
        if not facts.runs_train_op(run):
            continue
        steps = _loop_steps(facts, tree, run.node, run.scope)
        if steps is None:
            unknown = True
        else:
            looped.append(steps)
    if unknown and not stated:
        return None
    candidates = stated + looped
    if not candidates:
        return None
    return max(candidates, key=lambda steps: steps.count)


# The last names of the calls that state a run's length: a method call's qualified name
# ends with its attribute, so a call of any other method states none.
_STEP_CALL_ATTRIBUTES = frozenset(
    {name.rsplit(".", 1)[-1] for name in (*tfapi.SLIM_TRAIN_FUNCTIONS, *tfapi.STOP_AT_STEP_HOOKS, *tfapi.TRAIN_SPECS)}
    | {tfapi.ESTIMATOR_TRAIN_METHOD} | tfapi.KERAS_FIT_METHODS)


def _stated_steps(facts: ModuleFacts, call: ast.Call) -> Optional[Steps]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr not in _STEP_CALL_ATTRIBUTES:
        return None  # most calls: no scope to find, no name to resolve
    scope = _scope_of(facts, call)
    name = facts.qualname(call.func, scope) or ""
    if name in tfapi.SLIM_TRAIN_FUNCTIONS:
        return _count(facts, _keyword(call, tfapi.SLIM_TRAIN_STEPS_KW), scope,
                      f"`{tfapi.SLIM_TRAIN_STEPS_KW}` is {{n}}")
    if name in tfapi.STOP_AT_STEP_HOOKS:
        for keyword in tfapi.STOP_AT_STEP_KWS:
            value = _keyword(call, keyword)
            if value is None and keyword == tfapi.STOP_AT_STEP_KWS[1] and call.args:
                value = call.args[0]
            if value is not None:
                return _count(facts, value, scope, f"`StopAtStepHook({keyword}=...)` stops at {{n}} steps")
        return None
    if name in tfapi.TRAIN_SPECS:
        return _count(facts, _keyword(call, tfapi.TRAIN_SPEC_STEPS_KW), scope,
                      f"`TrainSpec({tfapi.TRAIN_SPEC_STEPS_KW}=...)` trains {{n}} steps")
    if not isinstance(func, ast.Attribute) or name:
        return None
    if func.attr == tfapi.ESTIMATOR_TRAIN_METHOD:
        for keyword in tfapi.ESTIMATOR_STEPS_KWS:
            value = _keyword(call, keyword)
            if value is not None:
                return _count(facts, value, scope, f"`train({keyword}=...)` runs {{n}} steps")
        return None
    if func.attr in tfapi.KERAS_FIT_METHODS:
        per_epoch = _number(facts, _keyword(call, tfapi.KERAS_FIT_STEPS_KW), scope)
        if per_epoch is None:
            return None
        epochs_node = _keyword(call, tfapi.KERAS_FIT_EPOCHS_KW)
        epochs = _number(facts, epochs_node, scope) if epochs_node is not None else \
            (tfapi.KERAS_FIT_DEFAULT_EPOCHS, call)
        if epochs is None or not isinstance(per_epoch[0], int) or not isinstance(epochs[0], int):
            return None
        total = epochs[0] * per_epoch[0]
        return Steps(total, f"`{func.attr}` runs {epochs[0]} epochs of {per_epoch[0]} steps ({total} steps)", call)
    return None


def _count(facts: ModuleFacts, node: Optional[ast.expr], scope: Scope, template: str) -> Optional[Steps]:
    found = _number(facts, node, scope)
    if found is None or not isinstance(found[0], int) or found[0] <= 0:
        return None
    phrase = template.format(n=found[0]) + _flag_note(facts, node)
    return Steps(found[0], phrase, node)


def _flag_note(facts: ModuleFacts, node: Optional[ast.expr]) -> str:
    if isinstance(node, ast.Attribute) and _flag_default(facts, node) is not None:
        return f" (the default of --{node.attr})"
    return ""


def _scope_of(facts: ModuleFacts, node: ast.AST) -> Scope:
    """The innermost function scope around a node (by position): of the scopes whose
    lines hold it, the one that starts last (the last so listed, on a tie)."""
    line = getattr(node, "lineno", 0)
    starts, spans = _scope_index(facts)
    # Backwards from the last scope starting at or before the line: the first that
    # also ends after it starts last.
    for index in range(bisect.bisect_right(starts, line) - 1, -1, -1):
        end, scope = spans[index]
        if line <= end:
            return scope
    return facts.module


# The facts last indexed (a weak reference) with their index, in one slot: read and
# replaced whole, so a thread never sees one module's facts with another's index.
_INDEX: list = [None]


def _scope_index(facts: ModuleFacts) -> tuple[list[int], list[tuple[int, Scope]]]:
    """The module's non-module scopes ordered by (first line, order in facts.scopes): their
    first lines, and their last lines with the scope. Every call asks the same facts:
    made once per module (a check asked it once per call, over every scope)."""
    cached = _INDEX[0]
    if cached is not None and cached[0]() is facts:
        return cached[1]
    ordered = sorted(((scope.node.lineno, order, scope) for order, scope in enumerate(facts.scopes)  # type: ignore[attr-defined]
                      if scope.kind != "module"), key=lambda item: item[:2])
    index = ([start for start, _, _ in ordered],
             [(getattr(scope.node, "end_lineno", None) or start, scope) for start, _, scope in ordered])
    _INDEX[0] = (weakref.ref(facts), index)
    return index


def _loop_steps(facts: ModuleFacts, tree: _Tree, node: ast.AST, scope: Scope) -> Optional[Steps]:
    """Steps a `sess.run` inside literal-bounded loops makes: the product of their counts."""
    total, loops = 1, []
    for ancestor in tree.ancestors(node):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Module)):
            break
        if isinstance(ancestor, (ast.For, ast.AsyncFor, ast.While)):
            count = _iterations(facts, ancestor, scope)
            if count is None:
                return None
            total *= count
            loops.append((ancestor, count))
    if not loops:
        return None  # one step per call of a function called from elsewhere
    outer = loops[-1][0]
    if len(loops) == 1:
        phrase = f"the loop runs {total} steps"
    else:
        counts = " x ".join(str(count) for _, count in reversed(loops))
        phrase = f"the loops run {counts} = {total} steps"
    notes = "".join(_flag_note(facts, bound) for bound in _loop_bounds(outer))
    return Steps(total, phrase + notes, outer)


def _loop_bounds(loop: ast.AST) -> list[ast.expr]:
    if isinstance(loop, (ast.For, ast.AsyncFor)) and isinstance(loop.iter, ast.Call):
        return list(loop.iter.args)
    if isinstance(loop, ast.While) and isinstance(loop.test, ast.Compare):
        return list(loop.test.comparators)
    return []


def _iterations(facts: ModuleFacts, loop: Union[ast.For, ast.AsyncFor, ast.While], scope: Scope) -> Optional[int]:
    if isinstance(loop, ast.While):
        test = loop.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Lt, ast.LtE)):
            bound = _number(facts, test.comparators[0], scope)
            if bound is None or not isinstance(bound[0], int):
                return None
            return bound[0] + (1 if isinstance(test.ops[0], ast.LtE) else 0)
        return None
    iterator = loop.iter
    if isinstance(iterator, ast.Call) and _callee_name(facts, iterator, scope) in tfapi.LOOP_WRAPPERS \
            and iterator.args:
        iterator = iterator.args[0]
    if not (isinstance(iterator, ast.Call) and _callee_name(facts, iterator, scope) in tfapi.RANGE_FUNCTIONS):
        return None
    values = [_number(facts, arg, scope) for arg in iterator.args]
    if not values or len(values) > 3 or any(v is None or not isinstance(v[0], int) for v in values):
        return None
    numbers = [v[0] for v in values]  # type: ignore[index]
    start, stop, step = (0, numbers[0], 1) if len(numbers) == 1 else \
        (numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 1)
    if step <= 0:
        return None
    return max(0, -(-(stop - start) // step))


def _callee_name(facts: ModuleFacts, call: ast.Call, scope: Scope) -> str:
    func = call.func
    if isinstance(func, ast.Name) and facts.lookup(func.id, scope) is None and func.id not in facts.imports.names:
        return func.id  # a builtin
    return facts.qualname(func, scope) or ""


# --- the opt-in fix -----------------------------------------------------------------------

def _fix(facts: ModuleFacts, decay: Decay, momentum: Optional[float]) -> Optional[Fix]:
    if momentum is None or not 0.0 < float(momentum) < 1.0 or float(momentum) == decay.value:
        return None
    value = repr(float(momentum))
    message = f"Set `{decay.keyword}={value}` (--bn-momentum): the averages come within 1% of the data " \
              f"in {_steps_to(float(momentum), tfapi.CONVERGED_FRACTION)} steps"
    if decay.literal is not None:
        line, column, end_line, end_column = node_range(facts, decay.literal)
        return Fix("unsafe", message, (ReplaceNode(line, column, end_line, end_column, value),))
    add = decay.add
    if isinstance(add, AddKeyword):
        return Fix("unsafe", message, (AddKeyword(add.line, add.column, add.end_line, add.end_column,
                                                  add.keyword, add.value.replace("{value}", value)),))
    if isinstance(add, AddDictEntry):
        return Fix("unsafe", message, (AddDictEntry(add.line, add.column, add.end_line, add.end_column,
                                                    add.key, add.value.replace("{value}", value)),))
    return None


def _add_keyword(facts: ModuleFacts, call: ast.Call, keyword: str, value: str = "{value}") -> AddKeyword:
    line, column, end_line, end_column = node_range(facts, call)
    return AddKeyword(line, column, end_line, end_column, keyword, value)


def _inside(node: ast.AST, container: ast.AST) -> bool:
    return any(child is node for child in ast.walk(container))
