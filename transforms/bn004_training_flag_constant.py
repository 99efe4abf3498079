"""BN004 training-flag-constant."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn import tfapi
from migrate_bn.facts import BatchNormSite, ModuleFacts, Scope, SessionRun
from migrate_bn.findings import AddDictEntry, AddKeyword, Edit, Finding, Fix, InsertBefore, Related, ReplaceNode
from migrate_bn.flags import ConstantOrigin, constant_flag, flag_in_scope, in_model_fn
from migrate_bn.rules import Options, Rule, node_range, span, tensorflow_v1


class TrainingFlagConstant(Rule):
    """
    ## What it finds
    A batch-norm layer whose training flag is the constant `True` (written at the call,
    passed by every call of the model function, or set in `normalizer_params`) in a graph
    whose outputs are also computed for evaluation or prediction: a `sess.run` that does
    not run the train op, or an Estimator `model_fn`, which also builds the EVAL and
    PREDICT graphs.

    ## Why it is wrong
    With `training=True` batch norm normalizes every batch with that batch's own mean and
    variance, in evaluation too. A validation prediction then depends on which other
    examples share its batch, a single example cannot be predicted reliably, and the
    moving averages that training keeps are never used. Train and eval accuracy drift
    apart on the same data.

    The correct pattern of a training tower with `True` and a separate evaluation tower
    with `False` (sharing weights through `reuse`) is not reported.

    ## Example
    ```python
    net = tf.layers.batch_normalization(net, training=True)
    ...
    sess.run(train_op, {images: x, labels: y})
    sess.run(accuracy, {images: val_x, labels: val_y})
    ```

    Use instead:
    ```python
    is_training = tf.placeholder_with_default(False, shape=(), name="is_training")
    net = tf.layers.batch_normalization(net, training=is_training)
    ...
    sess.run(train_op, {images: x, labels: y, is_training: True})
    sess.run(accuracy, {images: val_x, labels: val_y})
    ```

    ## Fix
    In an Estimator `model_fn` the literal becomes `mode == tf.estimator.ModeKeys.TRAIN`
    (safe: the Estimator sets the mode for each graph it builds).

    Otherwise the fix is unsafe (`--unsafe-fixes`), because it changes the program's
    structure: it creates
    `is_training = tf.placeholder_with_default(False, shape=(), name="is_training")` once,
    uses it where the literal was, and adds `is_training: True` to the `feed_dict` of every
    `sess.run` that runs the train op (creating the `feed_dict` when there is none). With
    the default `False` evaluation runs need no change. A training flag already in scope
    is used instead of a new placeholder; the fix is offered only when the literal and
    the training runs are in one function (or one script), so that every training run can
    be fed, and not when the literal sits in a loop.
    """

    code = "BN004"
    name = "training-flag-constant"
    summary = "batch norm always in training mode in a graph that is also evaluated"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        candidates = []
        for site in facts.batch_norm_sites:
            if site.how in ("class", "net_arg_scope", "collection_write") or (site.spec and site.spec.family == "keras"):
                continue
            origin = constant_flag(facts, site)
            if origin is None:
                continue
            if origin.value is False:
                return  # a separate evaluation tower: the graph is built the right way
            candidates.append((site, origin))
        evaluations = facts.evaluation_runs()
        for site, origin in candidates:
            model_fn = in_model_fn(site)
            if not evaluations and not model_fn:
                continue
            if model_fn:
                where = "the Estimator also builds this model_fn's EVAL and PREDICT graphs"
            else:
                run = evaluations[0]
                where = f"`{facts.source(run.node, 50)}` (line {run.node.lineno}) evaluates it"
            message = (f"`{site.api}` always runs in training mode ({origin.description}), but {where}: "
                       "evaluation normalizes each batch with its own statistics, so predictions depend "
                       "on their batch mates and the moving averages are never used")
            related = [Related(span(facts, node), "the constant training flag") for node in origin.nodes]
            related += [Related(span(facts, run.node), "an evaluation run") for run in evaluations[:3]]
            yield Finding(self.code, message, span(facts, site.node), "error",
                          self._fix(facts, site, origin), tuple(related))

    def _fix(self, facts: ModuleFacts, site: BatchNormSite, origin: ConstantOrigin) -> Optional[Fix]:
        if not origin.nodes:
            return None
        flag = flag_in_scope(facts, site)
        if flag is not None:
            edits = tuple(ReplaceNode(*node_range(facts, node), flag.code) for node in origin.nodes)
            safe = "safe" if flag.kind == "estimator-mode" else "unsafe"
            return Fix(safe, f"Use {flag.origin} instead of the constant", edits)
        return self._placeholder_fix(facts, site, origin)

    def _placeholder_fix(self, facts: ModuleFacts, site: BatchNormSite, origin: ConstantOrigin) -> Optional[Fix]:
        literal_statements = [_statement_of(facts, site, node) for node in origin.nodes]
        if any(found is None for found in literal_statements):
            return None
        scopes = {id(scope) for scope, _ in literal_statements}  # type: ignore[misc]
        scope: Scope = literal_statements[0][0]  # type: ignore[index]
        training_runs = [run for run in facts.session_runs if facts.runs_train_op(run)]
        if len(scopes) != 1 or not training_runs or any(run.scope is not scope for run in training_runs):
            return None  # the flag could not be fed in every training step
        if any(_in_loop(scope.node, statement) for _, statement in literal_statements):  # type: ignore[misc]
            return None  # one placeholder per iteration: only the last would be fed
        name = _free_name(facts)
        first = min((statement for _, statement in literal_statements), key=lambda s: s.lineno)  # type: ignore[misc]
        tf, v1, imports = tensorflow_v1(facts, first)
        edits: list[Edit] = [*imports, InsertBefore(first.lineno, tfapi.TRAINING_PLACEHOLDER_TEMPLATE.format(name=name, v1=v1))]
        edits += [ReplaceNode(*node_range(facts, node), name) for node in origin.nodes]
        edits += [_feed_true(facts, run, name) for run in training_runs]
        return Fix("unsafe", f"Create `{name} = {v1}placeholder_with_default(False, ...)`, use it here and feed "
                             f"`{name}: True` in the {len(training_runs)} training run(s)", tuple(edits))


def _statement_of(facts: ModuleFacts, site: BatchNormSite, node: ast.AST) -> Optional[tuple[Scope, ast.stmt]]:
    """The scope and statement a literal sits in (the site's own, or a call's)."""
    if site.stmt.lineno <= node.lineno <= (site.stmt.end_lineno or site.stmt.lineno) and \
            any(child is node for child in ast.walk(site.stmt)):
        return site.scope, site.stmt
    for call in facts.local_calls:
        if any(child is node for child in ast.walk(call.node)):
            return call.scope, call.stmt
    return None


def _in_loop(root: ast.AST, statement: ast.stmt) -> bool:
    for node in ast.walk(root):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and \
                any(child is statement for child in ast.walk(node)):
            return True
    return False


def _free_name(facts: ModuleFacts) -> str:
    taken = set(facts.imports.names)
    for scope in facts.scopes:
        taken |= set(scope.assignments) | set(scope.param_defaults)
    return next(name for name in tfapi.TRAINING_PLACEHOLDER_NAMES if name not in taken)


def _feed_true(facts: ModuleFacts, run: SessionRun, name: str) -> Edit:
    feed = run.feed
    if feed is None:
        return AddKeyword(*node_range(facts, run.node), "feed_dict", f"{{{name}: True}}")
    if isinstance(feed, ast.Dict):
        return AddDictEntry(*node_range(facts, feed), name, "True")
    source = ast.get_source_segment(facts.text, feed) or ""
    return ReplaceNode(*node_range(facts, feed), f"{{**{source}, {name}: True}}")
