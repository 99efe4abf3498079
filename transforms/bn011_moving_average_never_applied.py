"""BN011 moving-average-never-applied."""

from __future__ import annotations

from typing import Iterator

from migrate_bn.facts import ModuleFacts
from migrate_bn.findings import Finding, Related
from migrate_bn.model.unapplied_averages import unapplied_averages
from migrate_bn.rules import Options, Rule, span


class MovingAverageNeverApplied(Rule):
    """
    ## What it finds
    A hand-written batch norm (batch moments from `tf.nn.moments`) whose function or class
    creates a `tf.train.ExponentialMovingAverage` that nothing ever uses: no `apply`, no
    `average`, no `variables_to_restore`, the object never passed on.

    ## Why it is wrong
    Creating an `ExponentialMovingAverage` creates no variable and averages nothing: the
    shadow variables and their update op exist only once `ema.apply([...])` runs, and
    only `ema.average(...)` reads them. The batch norm the average was written for keeps
    no moving mean or variance, so it normalizes every batch with that batch's own
    statistics, at evaluation too: a prediction depends on what else is in its batch, and
    a batch of one normalizes to the offset. A training flag the layer takes changes
    nothing.

    ## Example
    ```python
    class batch_norm(object):
        def __init__(self, epsilon=1e-5, momentum=0.9, name="batch_norm"):
            self.ema = tf.train.ExponentialMovingAverage(decay=momentum)
            self.epsilon, self.name = epsilon, name

        def __call__(self, x, train=True):
            mean, variance = tf.nn.moments(x, [0, 1, 2])
            return tf.nn.batch_normalization(x, mean, variance, None, None, self.epsilon)
    ```

    Use instead: keep moving statistics and choose them with the flag:
    ```python
        def __call__(self, x, train):
            mean, variance = tf.nn.moments(x, [0, 1, 2])
            update = self.ema.apply([mean, variance])

            def batch_statistics():
                with tf.control_dependencies([update]):
                    return tf.identity(mean), tf.identity(variance)

            mean, variance = tf.cond(train, batch_statistics,
                                     lambda: (self.ema.average(mean), self.ema.average(variance)))
            return tf.nn.batch_normalization(x, mean, variance, None, None, self.epsilon)
    ```
    (or use `tf.layers.batch_normalization(x, training=train)` with its update ops).

    ## Fix
    None: the moving averages need an update op, a training flag at every call and the
    update wired into training, which changes what the program computes.

    ## Stays silent when
    the average is used anywhere (any read of a local name; for `self.<attr>`, the
    attribute named anywhere in the module or, as `.<attr>`, in any other file of the
    project); a module-level average another module may import; the project cannot be
    read whole (no project root, too many files); or no `tf.nn.moments` is computed in
    the same function or class.
    """

    code = "BN011"
    name = "moving-average-never-applied"
    summary = "a hand-written batch norm creates an ExponentialMovingAverage it never applies: no moving statistics"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        for average in unapplied_averages(facts):
            moments_line = facts.line_name(average.moments.lineno)
            message = (f"`{average.bound_to}`, the ExponentialMovingAverage of the batch norm that takes "
                       f"`tf.nn.moments` at {moments_line}, is never applied nor read: no moving mean or "
                       "variance exists, so this batch norm normalizes every batch with its own statistics, "
                       "at evaluation too; apply it to the moments and normalize with `average(...)` when "
                       "not training")
            related = (Related(span(facts, average.moments), "the batch statistics it was meant to average"),)
            yield Finding(self.code, message, span(facts, average.node), "error", None, related)
