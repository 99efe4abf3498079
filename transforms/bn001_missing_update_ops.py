"""BN001 missing-update-ops."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn import tfapi
from migrate_bn.binding import named_arguments
from migrate_bn.facts import ModuleFacts, TrainOp
from migrate_bn.flags import moving_statistics_unread
from migrate_bn.findings import Finding, Fix, Related, ReplaceNode, Span, WrapInWith
from migrate_bn.model.feeds import unfed_placeholders
from migrate_bn.model.gan_steps import trains_none_of
from migrate_bn.model.graph_identity import may_share_graph
from migrate_bn.model.liveness import never_runs
from migrate_bn.model.structure import frame_reason, framed_update_sites
from migrate_bn.model.update_wiring import switched_off_update_ops, switched_sites, unused_reads
from migrate_bn.rules import Options, Rule, span, update_ops_dependency


class MissingUpdateOps(Rule):
    """
    ## What it finds
    A train op (`optimizer.minimize(...)` or `optimizer.apply_gradients(...)`) in a graph
    whose batch normalization puts its moving-average updates into the
    `tf.GraphKeys.UPDATE_OPS` collection, when nothing makes the train op run that
    collection: the collection read into a name nothing uses (the message says so), or a
    builder told to run none (`slim.learning.create_train_op(..., update_ops=[])`,
    `tf.contrib.layers.optimize_loss(..., update_ops=[])`) in a graph whose batch norm
    has a switched training flag (a placeholder or a parameter), so that the moving
    statistics are read.

    ## Why it is wrong
    `tf.layers.batch_normalization`, `tf.contrib.layers.batch_norm` and `slim.batch_norm`
    (directly, as a `normalizer_fn`, through `slim.arg_scope`, or inside slim nets such as
    `inception_v1` and `resnet_v1_50`) do not update their moving mean and variance when
    the layer runs: they add the update ops to `UPDATE_OPS` and leave running them to you.
    A plain `minimize` never runs them, so the moving mean stays 0 and the moving variance
    1 however long you train. Training looks fine (it normalizes with batch statistics),
    but every evaluation normalizes with the initial values: validation loss that does not
    move, train and eval accuracy far apart on the same data.

    ## Example
    ```python
    net = tf.layers.batch_normalization(net, training=is_training)
    ...
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    ```

    Use instead:
    ```python
    net = tf.layers.batch_normalization(net, training=is_training)
    ...
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    ```

    ## Fix (safe)
    Wraps the statement that builds the train op in
    `with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):`, spelled
    with the module's own alias for TensorFlow (`tf.compat.v1.get_collection` in code that
    went through `tf_upgrade_v2`); adds `import tensorflow as tf` only when the module has
    no TensorFlow import. The fix only adds a dependency on ops the graph already has, so
    it changes nothing but the moving statistics. In slim code,
    `slim.learning.create_train_op(loss, optimizer)` (or `tf.contrib.layers.optimize_loss`)
    runs the collection too: in modules that import slim, the finding also offers that
    rewrite of a `minimize` call (JSON `alternatives`, and editors' quick fixes). It is
    marked unsafe because `create_train_op` returns the loss rather than an op; the
    rewrite passes `global_step=None` unless `minimize` had one and
    `check_numerics=False`, so that nothing else changes.

    In a module that trains several networks with `var_list` (a GAN), the wrap reads the
    collection with the network's `scope=` when the `var_list` names the variable scope
    its batch norm is built under. When it cannot tell the scope, the wrap is unsafe: the
    whole collection also runs the other network's update ops in this step, which may
    need inputs the step does not feed (the program then stops with a missing-feed
    error) or update that network's statistics with data that is not its own. The wrap
    is also unsafe, scoped or not, when the update ops it adds are computed from a
    placeholder that a `sess.run` of the train op does not feed (a probe tower on other
    data, the real-image discriminator in a generator step): the message names it.

    For a builder given `update_ops=[]`, the fix writes `update_ops=None` (the builder's
    default: the whole collection), when it is the module's only train op and the empty
    list is written at the call; otherwise no automatic fix.

    ## Stays silent when
    the train op is already inside `tf.control_dependencies(...)` holding the collection
    (directly, through a variable, or around the call of a helper that builds it); the
    collection is grouped with it (`tf.group(train_op, *update_ops)`); it is built by
    `slim.learning.create_train_op`, `tf.contrib.training.create_train_op` or
    `tf.contrib.layers.optimize_loss` with their default `update_ops=None` (given
    `update_ops=[]`, only where no batch norm has a switched flag: a GAN whose batch norm
    always trains leaves them out on purpose); every batch norm uses `updates_collections=None`
    (in-place updates) or a literal `training=False` / `is_training=False` (directly or
    through every call of the function that builds it); nothing in the project reads the
    moving statistics the update ops would change (the whole-program model's answer,
    `model/statistics.py`), because every batch norm either always runs in training mode
    in a graph nothing evaluates (a literal `True`; a parameter every call passes `True`,
    in a module no other module imports; or contrib/slim's default `True` with no flag
    or `arg_scope` that could set one, in a project whose every module has been read and
    none builds batch norm in inference mode, exports a model or is a notebook with batch
    norm), or always runs in training mode (a literal `True`, or contrib's default with
    no flag) in a program that keeps its variables to itself (no other module imports
    it, and it saves no checkpoint and exports no model) and evaluates it only as a GAN
    samples (a notebook that trains a GAN and draws samples), or runs in training mode on
    batches of one example only (instance normalization by design, see BN004), or is built in a named `variable_scope` re-entered without reuse, so that each
    build owns its variables and a `False` sampler never shares the trained ones (every
    build passes a constant flag, and nothing in the module restores a checkpoint into a
    `False` build). Runs inside the training loop that compute losses, summaries or
    samples on the training data are training-time monitoring, not evaluation, and a run
    counts as evaluating a batch norm only when its fetches are built from it (a GAN's
    sampler run does not evaluate the discriminator); where the graph is evaluated, BN004
    reports a literal `True`, and once its fix makes the flag switchable this rule
    applies; the train op is one network's step of a GAN (`var_list` picking a scope)
    whose network builds none of the batch norm, each of which another step trains (the
    generator's updates belong to the generator's step, reported on its own); another train op in the module
    already runs the whole collection (an if/else on a batch-norm switch, a GAN whose
    critic has no batch norm) or the scopes the batch norm is built under; the batch norm
    is written by hand with `tf.nn.batch_normalization` and its own assigns; the batch
    norm is built inside a `tf.map_fn` / `tf.while_loop` / `tf.scan` body (a lambda, a
    `def` or method passed as its function, or anything that function calls), whose
    update ops live in the loop's frame where no outside dependency can reach them; or
    the model has no batch norm at all. Batch norm inside a loop body, or inside a
    `tf.cond` / `tf.case` / `tf.switch_case` branch, also rules out the automatic fix
    for every train op of the module (the message says why): a train op that depends on
    update ops in a loop frame fails at run time, and one that depends on a branch's
    ops does not run when the other branch is taken.

    It is also silent on a train op that never runs: built under `if False:`, or in a
    function or method that no file of the checked program mentions (not called, not
    passed, not named in a string), when the run knows the program (a directory
    checked, not standard input or an editor buffer); and on a train op built in
    another graph than the batch norm: a model class that builds its network in a
    `tf.Graph()` of its own (`with self._graph.as_default():`) has batch norm in that
    graph only, so train ops of the default graph (another network, another notebook
    cell) miss nothing of it, while its own train op is still reported.
    """

    code = "BN001"
    name = "missing-update-ops"
    summary = "train op does not run the batch-norm update ops (UPDATE_OPS)"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        sites = facts.update_feeding_sites()
        if not sites or not facts.train_ops or moving_statistics_unread(facts):
            # No batch norm, no train op to report (most modules that build batch norm
            # train elsewhere: the whole-program question is not asked), or no batch norm
            # whose moving statistics anything reads.
            return
        yield from self._switched_off(facts)
        unwired = [op for op in facts.train_ops
                   if op.kind != "builder" and not facts.train_op_runs_update_ops(op)
                   and not facts.in_test(op.scope)]  # a test's train op only checks that one can be built
        if not unwired:
            return
        # A train op in code that never runs (a helper nothing calls, `if False:`)
        # skips nothing, and covers nothing.
        live = [op for op in facts.train_ops if not never_runs(facts, op.node, op.scope)]
        unwired = [op for op in unwired if op in live]
        if not unwired:
            return
        wired = [op for op in live if op not in unwired]
        if wired:
            # Another train op already runs the update ops (an if/else on a batch-norm
            # switch, a GAN whose critic has none): only batch norm outside the scopes it
            # covers can still be missing its updates.
            covered: set[str] = set()
            for op in wired:
                scopes = None if op.kind == "builder" else facts.covered_scopes(op)
                if scopes is None:
                    return
                covered |= scopes
            sites = [site for site in sites if not facts.built_under(site, covered)]
            if not sites:
                return
        for op in unwired:
            # Batch norm built in a graph of its own (a model class's `tf.Graph()`) is
            # not in this train op's graph.
            op_sites = [site for site in sites if may_share_graph(facts, site.node, site.scope, op.node, op.scope)]
            if not op_sites or trains_none_of(facts, op, op_sites, live):
                continue  # a GAN step whose network has no batch norm: the other step's updates
            related = tuple(
                Related(span(facts, site.node), f"batch norm whose updates go to UPDATE_OPS: {site.api}")
                for site in op_sites
            ) + tuple(
                Related(Span(site.producer.line, 1, site.producer.line, 1), f"{site.producer.name} builds batch norm",
                        site.producer.path)
                for site in op_sites if site.producer is not None
            )
            first = op_sites[0]
            more = f" and {len(op_sites) - 1} more" if len(op_sites) > 1 else ""
            message = (
                f"`{facts.source(op.node)}` does not run the batch-norm update ops (UPDATE_OPS), "
                f"so the moving mean/variance of {first.api} ({facts.line_name(first.node.lineno)}{more}) "
                "never update: whatever runs the model in inference mode (evaluation, export) "
                "normalizes with their initial values"
            )
            unused = unused_reads(facts, op)
            if unused:
                target, line = unused[0]
                message += (f"; UPDATE_OPS is read into `{target}` ({facts.line_name(line)}), "
                            "which nothing uses")
            framed = framed_update_sites(facts)
            if framed:
                # UPDATE_OPS then also holds update ops from inside a loop or branch frame:
                # depending on the whole collection fails at run time or skips the step.
                message += "; no automatic fix: " + frame_reason(*framed[0])
            alternative = None if framed else self._create_train_op(facts, op)
            yield Finding(self.code, message, span(facts, op.node), "error",
                          None if framed else self._fix(facts, op), related, (alternative,) if alternative else ())

    def _switched_off(self, facts: ModuleFacts) -> Iterator[Finding]:
        """A builder given `update_ops=[]` in a graph that switches its batch norm between
        training and inference (idiom 6): the builder runs no update, evaluation reads
        statistics that never moved."""
        switched = switched_sites(facts)
        if not switched:
            return  # always training (or unknown): `update_ops=[]` may be deliberate
        related = tuple(Related(span(facts, site.node), f"batch norm whose updates go to UPDATE_OPS: {site.api}")
                        for site in switched)
        for op in facts.train_ops:
            off = switched_off_update_ops(facts, op)
            if off is None or facts.in_test(op.scope):
                continue
            first = switched[0]
            more = f" and {len(switched) - 1} more" if len(switched) > 1 else ""
            message = (f"`{facts.source(op.node)}` is given `update_ops={facts.source(off)}`, which switches off "
                       f"the batch-norm update ops it would run (UPDATE_OPS), so the moving mean/variance of "
                       f"{first.api} ({facts.line_name(first.node.lineno)}{more}) never update, while its flag "
                       f"`{facts.source(first.flag)}` also runs it in inference mode, with those statistics")
            fix = None
            framed = framed_update_sites(facts)
            if framed:
                message += "; no automatic fix: " + frame_reason(*framed[0])
            elif len(facts.train_ops) == 1 and isinstance(off, (ast.List, ast.Tuple)):
                where = span(facts, off)
                fix = Fix("safe", "Run the update ops: `update_ops=None` (the builder's default, the UPDATE_OPS "
                                  "collection)",
                          (ReplaceNode(where.line, where.column - 1, where.end_line, where.end_column - 1, "None"),))
            else:
                message += "; no automatic fix: the module has other train ops (or the empty list is shared)"
            yield Finding(self.code, message, span(facts, op.node), "error", fix, related)

    def _fix(self, facts: ModuleFacts, op: TrainOp) -> Fix | None:
        if not op.wrappable:
            return None
        scope = _network_scope(facts, op)
        header, imports = update_ops_dependency(facts, op.stmt, *(site.node for site in facts.update_feeding_sites()),
                                                scope=scope)
        edits = (*imports, WrapInWith(op.stmt.lineno, header))
        unfed = unfed_placeholders(facts, op, scope)
        if unfed:
            # The update ops compute from inputs this step does not feed: every run of the
            # wrapped step would stop with a missing-feed error.
            names = ", ".join(f"`{name}`" for name in unfed)
            return Fix("unsafe", f"Run the update ops first: wrap the train op in `with {header}:` (review: "
                                 f"those update ops need {names}, which the train step's `sess.run` does not "
                                 "feed: it would stop with a missing-feed error)", edits)
        if scope is None and _trains_one_of_several_networks(facts, op):
            # The whole collection holds the other networks' update ops too: this step
            # would run them, on inputs it may not feed (a missing-feed error at run time)
            # or with data that is not theirs.
            return Fix("unsafe", f"Run the update ops first: wrap the train op in `with {header}:` (review: "
                                 "this step trains part of the variables, and the whole collection also runs the "
                                 "other networks' update ops; read it with this network's `scope=`)", edits)
        return Fix("safe", f"Run the update ops first: wrap the train op in `with {header}:`", edits)

    @staticmethod
    def _create_train_op(facts: ModuleFacts, op: TrainOp) -> Optional[Fix]:
        """`opt.minimize(loss, ...)` as `slim.learning.create_train_op(loss, opt, ...)`."""
        slim = facts.alias_of(tfapi.SLIM)
        call = op.node
        if slim is None or op.kind != "minimize" or not isinstance(call.func, ast.Attribute):
            return None
        given = named_arguments(call, tfapi.MINIMIZE_POSITIONS)
        if given is None or "loss" not in given or set(given) - {"loss", *tfapi.MINIMIZE_TO_CREATE_TRAIN_OP}:
            return None

        def text(node: ast.AST) -> str:
            return facts.segment(node) or ""

        arguments = [text(given["loss"]), text(call.func.value)]
        arguments.append(f"global_step={text(given['global_step']) if 'global_step' in given else 'None'}")
        for name, target in tfapi.MINIMIZE_TO_CREATE_TRAIN_OP.items():
            if name in given and name != "global_step":
                arguments.append(f"{target}={text(given[name])}")
        arguments.append("check_numerics=False")
        code = f"{slim}.{tfapi.SLIM_CREATE_TRAIN_OP}({', '.join(arguments)})"
        where = span(facts, call)
        return Fix("unsafe", f"Use `{slim}.learning.create_train_op`, which runs the update ops itself",
                   (ReplaceNode(where.line, where.column - 1, where.end_line, where.end_column - 1, code),))


def _trains_one_of_several_networks(facts: ModuleFacts, op: TrainOp) -> bool:
    """A step that trains part of the variables (`var_list`), in a module with other
    steps: a GAN's generator or discriminator step."""
    steps = [other for other in facts.train_ops if other.kind != "builder"]
    return len(steps) >= 2 and facts.var_list_of(op) is not None


def _network_scope(facts: ModuleFacts, op: TrainOp) -> Optional[str]:
    """In a module with several train ops that each train one network (a GAN), the
    variable scope this one trains, when its var_list names exactly one scope that batch
    norm is built under: its update ops are the ones it should run (see BN009)."""
    steps = [other for other in facts.train_ops if other.kind != "builder" and facts.var_list_strings(other)]
    if len(steps) < 2 or op not in steps:
        return None
    built = set().union(*(facts.scope_names_of(site) for site in facts.update_feeding_sites()))
    own = [string for string in facts.var_list_strings(op) if string in built]
    return own[0] if len(own) == 1 else None
