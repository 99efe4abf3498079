"""BN004 training-flag-constant."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn.facts import BatchNormSite, ModuleFacts, Scope
from migrate_bn.findings import Finding, Fix, Related, ReplaceNode
from migrate_bn.model.batch_size import one_example_batches
from migrate_bn.model.dataflow import may_evaluate
from migrate_bn.model.fed_flags import fed_true_flags
from migrate_bn.model.inputs import on_training_batches
from migrate_bn.model.project_docs import training_mode_at_test
from migrate_bn.flags import (ConstantOrigin, NewFlag, constant_flag, flag_in_scope, in_model_fn, inherits_normalizer,
                              new_training_flag)
from migrate_bn.model.flag_calls import constant_flag_calls
from migrate_bn.model.runs import evaluation_runs
from migrate_bn.rules import Options, Rule, node_range, span


class TrainingFlagConstant(Rule):
    """
    ## What it finds
    A batch-norm layer whose training flag is the constant `True` (written at the call,
    passed by every call of the model function, set in `normalizer_params`, or an
    attribute such as `self.is_training` that `__init__` sets to `True` before the call
    that builds the graph: a later `self.is_training = False` in a test method changes
    nothing in the graph already built) in a graph
    whose outputs are also computed for evaluation or prediction: a `sess.run` that does
    not run the train op, or an Estimator `model_fn`, which also builds the EVAL and
    PREDICT graphs. Batch norms whose flag comes from the same place (one parameter
    default that every call leaves, the same literal every call passes) are one finding,
    at the first of them, with the others listed as related places: one cause, one fix.

    ## Why it is wrong
    With `training=True` batch norm normalizes every batch with that batch's own mean and
    variance, in evaluation too. A validation prediction then depends on which other
    examples share its batch, a single example cannot be predicted reliably, and the
    moving averages that training keeps are never used. Train and eval accuracy drift
    apart on the same data.

    Across modules: a script that calls the project's model function or builds its model
    class with the flag fixed to `True` (`y = cnn_model.CNN(x)` leaving
    `is_training=True` at its default, `Model(mode='train')` whose `__init__` stores the
    mode before building batch norm with `is_training=(self.mode == 'train')`) and then
    runs what it built on validation or test data is reported at that call (no
    automatic fix: pass the flag, or build an evaluation model).

    A flag placeholder fed `True` by a run that evaluates is the same bug: the literal
    (`sess.run(accuracy, {x: x_val, is_training: True})`), or an attribute of the model
    object that stays `True` (a test script builds the model with `is_training=True`,
    through a factory function, and feeds `{model.bn_is_training: model.is_training}`,
    where the class stores the constructor's `is_training` on `self` and gives its batch
    norm the bool placeholder `self.bn_is_training`). It is reported at the fed value (no
    automatic fix: feed `False`, or build the evaluation model with `is_training=False`).

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
    be fed, and not when the literal sits in a loop or a branch.

    ## Stays silent when
    the only runs that evaluate the module's batch norm compute another network's
    values (a validation network built by a second call of the model function, whose
    own literal is reported on its own); the only such runs compute the network on the
    training batches (a script that reads its batches from a queue or dataset, feeds
    nothing, has no placeholder or switchable iterator, and builds its one batch-norm
    network once: a logged training accuracy is not an evaluation); the flag is not a
    known constant (a placeholder, a parameter some call passes a variable, `FLAGS.x`,
    an attribute set in a branch of `__init__`, by a builder method, or before a public
    build method that callers run; a fed attribute the script assigns itself, as a
    training script does when it sets `model.is_training = False` before validating, or
    one whose object comes from a factory that may return a class the model cannot
    follow; for a call into another module: a flag it passes,
    `*args` / `**kwargs` that may pass one, or another call of the same model with
    `False` in the script); it is the literal `False` (a frozen layer); the graph is only
    trained: no `sess.run` computes the model's outputs without running the train op
    (across modules: none on validation or test data, as its statement says:
    `val_acc = sess.run(...)`, `feed_dict=eval_dict`), and the code is not an Estimator
    `model_fn` (evaluation runs in test methods do not count, each test builds its own
    graph); the only such runs are training-time monitoring: inside the loop that runs
    the train op, feeding the training data (losses, summaries, accuracy of the training
    batch, GAN samples from noise), not held-out data (`x_val`, `mnist.test.images`, an
    input pipeline switched to a validation set) and not a training flag fed `False`;
    the runs that evaluate fetch nothing built from this batch norm (a GAN's sampler run
    fetches the generator, not the discriminator: a run is attributed to a batch norm
    only when the model can show its fetches are computed from it); a separate
    evaluation tower with `False`
    shares the layers' variables (the same `name`/`scope`, the same slim net, or built
    with `reuse`); the layer is a Keras layer (see BN006 and BN008); or it gets batch norm
    from an enclosing `arg_scope(normalizer_fn=...)`, which is reported at the scope;
    or every batch the program forms holds one example (its batchers and placeholders
    all have batch size 1: a literal, a constant, or its command-line option's default;
    nothing joins examples along axis 0): training-mode batch norm is then instance
    normalization in training and at test alike, the design of pix2pix, and the moving
    averages would normalize with statistics the network never trained with; or the
    project says it keeps batch norm in training mode at test on purpose: one sentence
    of its README (at the project root) or of the module's comments that names batch
    norm, test time and keeping the training behaviour (`retained`, `kept`,
    `training mode`), and nothing the other way (`not`, `moving`, ...), as ENet's
    README does.
    """

    code = "BN004"
    name = "training-flag-constant"
    summary = "batch norm always in training mode in a graph that is also evaluated"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        candidates, frozen = [], []
        for site in facts.batch_norm_sites:
            if site.how in ("class", "net_arg_scope", "collection_write") or inherits_normalizer(site) or \
                    (site.spec is not None and site.spec.family == "keras"):
                continue
            origin = constant_flag(facts, site)
            if origin is None:
                continue
            (candidates if origin.value else frozen).append((site, origin))
        reported = []
        if candidates and _designed(facts):
            candidates = []
        for site, origin in candidates:
            # Runs that compute a value of this site's network, not of another network
            # (a validation tower built by a second call) that the module also evaluates,
            # on other data than the training pipeline's batches.
            evaluations = [run for run in evaluation_runs(facts, site) if may_evaluate(facts, site, run)
                           and not on_training_batches(facts, site, run)]
            if any(_eval_tower(facts, site, other) for other, _ in frozen):
                continue  # a weight-sharing evaluation tower: the graph is built the right way
            literals = [_statement_of(facts, site, node) for node in origin.nodes]
            model_fn = in_model_fn(site.scope) or any(found and in_model_fn(found[0]) for found in literals)
            if evaluations or model_fn:
                reported.append((site, origin, literals, model_fn, evaluations))
        plans = _placeholder_plans(facts, reported)
        for group in _same_origin(reported):
            site, origin, literals, model_fn, evaluations = group[0]
            evaluations = _union_of_runs([found[4] for found in group])
            if model_fn:
                where = "the Estimator also builds this model_fn's EVAL and PREDICT graphs"
            else:
                run = evaluations[0]
                where = f"`{facts.source(run.node, 50)}` ({facts.line_name(run.node.lineno)}) evaluates it"
            message = (f"`{site.api}` always runs in training mode ({origin.description}), but {where}: "
                       "evaluation normalizes each batch with its own statistics, so predictions depend "
                       "on their batch mates and the moving averages are never used")
            related = [Related(span(facts, node), "the constant training flag") for node in origin.nodes]
            related += [Related(span(facts, run.node), "an evaluation run") for run in evaluations[:3]]
            if len(group) > 1:
                message += f" (and {len(group) - 1} more batch norm{'s' if len(group) > 2 else ''} with the same flag)"
                related += [Related(span(facts, other.node), "another batch norm with the same constant flag")
                            for other, *_ in group[1:]]
            yield Finding(self.code, message, span(facts, site.node), "error",
                          _fix(facts, origin, literals, plans), tuple(related))
        yield from self._constant_calls(facts, {id(site.node) for site, *_ in reported})
        yield from self._fed_true(facts)

    def _constant_calls(self, facts: ModuleFacts, reported: set[int]) -> Iterator[Finding]:
        """Calls of the project's model function or class that fix its flag to True
        (passed or left at the default) in a module that then evaluates what they built;
        not those already reported as a project batch-norm site above."""
        for call in constant_flag_calls(facts):
            if id(call.node) in reported or _designed(facts):
                continue
            how = f"passes `{call.value}`" if call.passed else f"leaves it at its default `{call.value}`"
            run = call.evaluations[0]
            message = (f"{call.callee} sets its batch norm's training flag from `{call.parameter}` and this "
                       f"call {how}, so it always runs in training mode, but `{facts.source(run.node, 50)}` ({facts.line_name(run.node.lineno)}) "
                       "evaluates what it built: evaluation normalizes each batch with its own statistics, so "
                       "predictions depend on their batch mates and the moving averages are never used")
            related = tuple(Related(span(facts, run.node), "an evaluation run") for run in call.evaluations[:3])
            yield Finding(self.code, message, span(facts, call.node), "error", None, related)

    def _fed_true(self, facts: ModuleFacts) -> Iterator[Finding]:
        """Runs that evaluate while feeding the batch norm's flag placeholder a value
        that is always True (the literal, or an attribute the model's constructor set
        from a `True` its builders passed)."""
        found = fed_true_flags(facts)
        if not found or _designed(facts):  # the design question walks the whole module: last
            return
        for fed in found:
            message = (f"`{facts.source(fed.run.node, 50)}` ({facts.line_name(fed.run.node.lineno)}) evaluates, but "
                       f"feeds the batch norm's training flag `{facts.source(fed.key, 40)}` {fed.how}: evaluation "
                       "normalizes each batch with its own statistics, so predictions depend on their batch mates "
                       "and the moving averages are never used")
            related = (Related(span(facts, fed.run.node), "the evaluation run"),)
            yield Finding(self.code, message, span(facts, fed.value), "error", None, related)


def _same_origin(reported: list) -> list[list]:
    """The reported sites grouped by where their constant comes from: the batch norms of a
    function whose flag parameter every call leaves at its default `True` have one cause
    and one fix, so they are one finding (at the first), not one per layer."""
    groups: dict[tuple, list] = {}
    for found in reported:
        site, origin = found[0], found[1]
        key = tuple(id(node) for node in origin.nodes) or (id(site.node),)
        groups.setdefault(key, []).append(found)
    return list(groups.values())


def _union_of_runs(runs_per_site: list[list]) -> list:
    seen, runs = set(), []
    for run in (run for runs in runs_per_site for run in runs):
        if id(run.node) not in seen:
            seen.add(id(run.node))
            runs.append(run)
    return runs


def _designed(facts: ModuleFacts) -> bool:
    """Batch statistics of one example (instance norm), or a project that says it keeps
    batch norm in training mode at test: a design, not a bug."""
    return one_example_batches(facts) or training_mode_at_test(facts)


def _fix(facts: ModuleFacts, origin: ConstantOrigin, literals: list, plans: dict) -> Optional[Fix]:
    # A literal that is a parameter's default (`def mlp(x, is_training=True)`) or that
    # cannot be placed has no rewrite that keeps the program valid.
    if not origin.nodes or any(found is None for found in literals):
        return None
    scopes = {id(scope) for scope, _ in literals}
    if len(scopes) != 1:
        return None
    scope, statement = literals[0]
    flag = flag_in_scope(facts, scope, statement.lineno)
    if flag is not None:
        edits = tuple(ReplaceNode(*node_range(facts, node), flag.code) for node in origin.nodes)
        return Fix("safe" if flag.kind == "estimator-mode" else "unsafe",
                   f"Use {flag.origin} instead of the constant", edits)
    plan = plans.get(id(scope))
    if plan is None:
        return None
    edits = plan.edits + tuple(ReplaceNode(*node_range(facts, node), plan.name) for node in origin.nodes)
    return Fix("unsafe", f"Create the flag `{plan.name}` (a placeholder_with_default(False)), use it here and "
                         f"feed `{plan.name}: True` in every training run", edits)


def _placeholder_plans(facts: ModuleFacts, reported: list) -> dict[int, NewFlag]:
    """Per scope: the one new flag its literals become, where one can be created."""
    by_scope: dict[int, list] = {}
    for _, _, literals, _, _ in reported:
        for found in literals:
            if found is not None:
                by_scope.setdefault(id(found[0]), []).append(found)
    plans = {}
    for key, found in by_scope.items():
        plan = new_training_flag(facts, found[0][0], [statement for _, statement in found])
        if isinstance(plan, NewFlag):
            plans[key] = plan
    return plans


def _eval_tower(facts: ModuleFacts, site: BatchNormSite, other: BatchNormSite) -> bool:
    """Is `other` (flag False) the evaluation tower of `site` (flag True): the same layers
    again, sharing their variables?"""
    if site.how == other.how == "net":
        return _callee(site.node) == _callee(other.node)
    if _name_of(site.node) is not None and _name_of(site.node) == _name_of(other.node):
        return True
    return _reuses(facts, other)


def _callee(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _name_of(call: ast.Call) -> Optional[str]:
    for keyword in call.keywords:
        if keyword.arg in ("name", "scope") and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None


def _reuses(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Built with reuse: a `reuse=` argument, an enclosing variable_scope(reuse=...) or a
    reuse_variables() call before it; or in a function always called that way."""
    def reuse_in(node: ast.AST) -> bool:
        return any(isinstance(child, ast.keyword) and child.arg == "reuse" and not _is_false_or_none(child.value)
                   for child in ast.walk(node))

    if reuse_in(site.node):
        return True
    line = site.node.lineno
    for node in ast.walk(site.scope.node):
        if isinstance(node, (ast.With, ast.AsyncWith)) and node.lineno <= line <= (node.end_lineno or node.lineno) \
                and any(reuse_in(item.context_expr) for item in node.items):
            return True
        if isinstance(node, ast.Call) and _callee(node) == "reuse_variables" and node.lineno <= line:
            return True
    return any(reuse_in(call.node) for call in facts.callers(site.scope)) if site.scope.kind == "function" else False


def _is_false_or_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


def _statement_of(facts: ModuleFacts, site: BatchNormSite, node: ast.AST) -> Optional[tuple[Scope, ast.stmt]]:
    """The scope and statement a literal sits in (the site's own, or a call's); None
    for one that is neither (a parameter's default value)."""
    if _within(node, site.node):
        return site.scope, site.stmt
    for call in facts.local_calls:
        if _within(node, call.node) and any(node is argument for argument in
                                             (*call.node.args, *(k.value for k in call.node.keywords))):
            return call.scope, call.stmt
    return None


def _within(node: ast.AST, outer: ast.AST) -> bool:
    """Is `node` inside `outer`'s source range (a cheap test of containment)?"""
    start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return (outer.lineno, outer.col_offset) <= start and end <= (outer.end_lineno, outer.end_col_offset)  # type: ignore[attr-defined]
