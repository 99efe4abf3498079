"""BN009 update-ops-cross-network."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn.facts import ModuleFacts, TrainOp
from migrate_bn.findings import Finding, Related
from migrate_bn.flags import moving_statistics_unread
from migrate_bn.model.feeds import same_data_in_both_steps
from migrate_bn.model.gan_steps import belongs, built_together
from migrate_bn.rules import Options, Rule, span

class UpdateOpsCrossNetwork(Rule):
    """
    ## What it finds
    A train op that trains one network only (its `var_list` names a scope, as the
    generator and discriminator steps of a GAN do) but depends on the whole UPDATE_OPS
    collection, read without `scope=`, while the module also builds batch norm under
    another network's scope. Advice: no automatic fix.

    ## Why it is wrong
    The unscoped read pulls the other network's batch-norm update ops into this step, so
    every discriminator step also moves the generator's moving averages (computed on
    whatever batch the discriminator step feeds it), and the other network's statistics
    get updated twice per iteration, once with each step's batch. The moving averages no
    longer describe the data the network sees when it trains.

    ## Example
    ```python
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        d_train = d_optimizer.minimize(d_loss, var_list=tf.trainable_variables("discriminator"))
    ```

    Use instead:
    ```python
    d_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope="discriminator")
    with tf.control_dependencies(d_updates):
        d_train = d_optimizer.minimize(d_loss, var_list=tf.trainable_variables("discriminator"))
    ```

    ## Fix
    None: read the collection with the scope of the network the step trains.

    ## Stays silent when
    the step's `var_list` names no scope it can read (no `var_list`, or one computed in a
    way the module does not show); no other train op in the module trains another
    network; the step reads the collection with `scope=`; no batch norm is built under
    the other network's scope (a critic without batch norm); nothing reads any batch
    norm's moving statistics (always in training mode and never evaluated, or private to
    each build: see BN001); every `sess.run` of this step and of the other network's
    step feeds each placeholder the other network's batch norm reads with the same
    expression (`{real: batch, noise: batch_noise}` in both): its updates in this step
    then see the batches its own step feeds it, and only come more often (so too when
    every run of both steps feeds one and the same dict; train ops a helper returns are
    followed to the names the runs fetch, `net.d_opt` for `self.d_opt`); no run of either
    step feeds anything (both draw their batches from the graph's own input pipelines and
    random ops); the step depends on the other network's step (`with
    tf.control_dependencies([d_train] + update_ops)`: one run runs both on one batch); the
    other network's step is built by another top-level function or class than this one
    (a program that builds either the GAN or the generator alone: this step's graph holds
    no other network); or the step is built by a builder such as
    `slim.learning.create_train_op`.
    """

    code = "BN009"
    name = "update-ops-cross-network"
    summary = "one network's train op runs another network's batch-norm updates (advice)"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        sites = facts.update_feeding_sites()
        if not sites or moving_statistics_unread(facts):
            return  # no moving statistics that anything reads: extra updates change nothing
        steps = [(op, facts.var_list_strings(op)) for op in facts.train_ops if op.kind != "builder"]
        steps = [(op, own) for op, own in steps if own]
        for op, own in steps:
            # Another step trains another network (a GAN): its batch norm is not ours.
            others = set().union(*(other for step, other in steps if step is not op and built_together(step, op))) - own
            if not others:
                continue
            unscoped = _unscoped_read(facts, op)
            if unscoped is None:
                continue
            foreign = [site for site in sites if belongs(facts.scope_names_of(site), others)
                       and not belongs(facts.scope_names_of(site), own)]
            if not foreign:
                continue
            owners = [step for step, other in steps if step is not op and other & others and built_together(step, op)]
            if same_data_in_both_steps(facts, op, owners, others):
                continue  # the other network's updates see the batches its own step feeds it
            names = ", ".join(sorted(own))
            first = foreign[0]
            message = (f"`{facts.source(op.node)}` trains only '{names}' variables but depends on every "
                       f"batch-norm update op (UPDATE_OPS read without scope= at line {unscoped.lineno}), "
                       f"including those of {first.api} at line {first.node.lineno}: each of its steps also "
                       "moves the other network's moving averages")
            related = (Related(span(facts, unscoped), "the unscoped read"),) + tuple(
                Related(span(facts, site.node), "batch norm of another network") for site in foreign)
            yield Finding(self.code, message, span(facts, op.node), "warning", None, related)


def _unscoped_read(facts: ModuleFacts, op: TrainOp) -> Optional[ast.Call]:
    """The `get_collection(UPDATE_OPS)` without scope= that this train op depends on."""
    reads: list = []
    for dep in op.deps:
        facts.holds_update_ops(dep, op.scope, op.node.lineno, reads=reads)
    for read in reads:
        if read is not None and facts.read_scope(read) is None:
            return read
    return None
