"""BN010 update-runs-at-evaluation."""

from __future__ import annotations

from typing import Iterator

from migrate_bn.facts import ModuleFacts
from migrate_bn.findings import Finding, Related
from migrate_bn.model.cond_updates import outside_updates
from migrate_bn.rules import Options, Rule, span


class UpdateOutsideCond(Rule):
    """
    ## What it finds
    A batch-norm update built before the `tf.cond` on a training flag that selects it:

    - a training-mode batch norm whose updates run in place (`updates_collections=None`,
      `is_training=True`) and whose output a branch function only returns
      (`tf.cond(train_phase, lambda: bn_train, lambda: bn_inference)`);
    - an `ExponentialMovingAverage.apply(...)` or `assign_moving_average(...)` op built
      outside the cond and named in a branch's `tf.control_dependencies`.

    ## Why it is wrong
    A cond chooses which branch's result passes, not what runs before it. An op built
    outside both branch functions runs whenever anything that depends on it runs,
    whatever the predicate: with the flag fed `False` the in-place update (a control
    dependency of the training-mode output) or the `apply` op still runs. Every
    evaluation run moves the moving statistics toward the evaluated batch (with decay
    0.9, 10% of the way per run), validation and test data leak into the model, and each
    prediction races with that update.

    ## Example
    ```python
    def batch_norm_layer(x, train_phase, scope):
        bn_train = batch_norm(x, is_training=True, updates_collections=None, scope=scope)
        bn_inference = batch_norm(x, is_training=False, reuse=True, scope=scope)
        return tf.cond(train_phase, lambda: bn_train, lambda: bn_inference)
    ```

    Use instead:
    ```python
    def batch_norm_layer(x, train_phase, scope):
        return batch_norm(x, is_training=train_phase, updates_collections=None, scope=scope)
    ```

    ## Fix
    None: build the training-mode batch norm (or call `ema.apply`) inside the training
    branch's function, or pass the flag to one batch norm as its `is_training`. Moving
    the call changes when its variables are created and what other code can read
    (`ema.average(...)` needs `apply` first), which the analysis cannot prove safe.

    ## Stays silent when
    the update is built inside the branch function (a lambda that calls the batch norm,
    a `def` that calls `ema.apply`); the batch norm's updates go to UPDATE_OPS (then only
    a train op that depends on them runs them); its flag is not a literal `True`; or the
    cond's predicate is not a training flag (`is_training`, `train_phase`,
    `self.phase_train`, ...).
    """

    code = "BN010"
    name = "update-runs-at-evaluation"
    summary = "batch-norm update built outside the tf.cond that selects it: it runs at evaluation too"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        for update in outside_updates(facts):
            cond_line = facts.line_name(update.cond.lineno)
            message = (f"{update.what} is built outside the `tf.cond` on `{update.flag}` ({cond_line}) "
                       f"that selects it, so it runs whatever `{update.flag}` is: every evaluation run "
                       "also moves the moving statistics toward the evaluated batch; build it inside the "
                       "training branch (or pass the flag to one batch norm)")
            related = (Related(span(facts, update.cond), f"the tf.cond on {update.flag}"),)
            yield Finding(self.code, message, span(facts, update.node), "error", None, related)
