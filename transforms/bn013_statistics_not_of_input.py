"""BN013 statistics-not-of-input."""

from __future__ import annotations

from typing import Iterator

from migrate_bn.facts import ModuleFacts
from migrate_bn.findings import Finding, Related
from migrate_bn.model.normalization_statistics import wrong_statistics
from migrate_bn.rules import Options, Rule, span


class StatisticsNotOfInput(Rule):
    """
    ## What it finds
    `tf.nn.batch_normalization` (or `tf.nn.batch_norm_with_global_normalization`) given
    statistics that are not its input's:

    - literal constants that make it an identity: a mean within 0.01 of 0 and a variance
      (plus epsilon) within 1% of 1, such as `tf.nn.batch_normalization(x, 0.001, 1.0, 0, 1, 1e-4)`;
    - `mean, variance = tf.nn.moments(a, axes)` of a tensor `a` that the normalized
      tensor is computed from through a weighted layer (`tf.nn.conv2d`, `tf.matmul`,
      `tf.layers.dense`, ...): the moments of the layer's input, not of its output.

    ## Why it is wrong
    These ops normalize with whatever statistics they are given. With mean 0 and
    variance 1 the "batch normalization" computes `x` itself (to within 1%), whatever
    the batch: the network trains without any normalization. With the moments of the
    layer's input, the output keeps its own mean and scale (a convolution's output
    differs from its input in both); when the channel counts match the graph builds and
    trains, and the block is never normalized.

    ## Example
    ```python
    h1 = tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")
    mean, var = tf.nn.moments(h1, [0, 1, 2])
    h1 = tf.nn.batch_normalization(h1, mean, var, 0, 1, 1e-4)
    h2 = tf.nn.conv2d(h1, w2, [1, 1, 1, 1], "SAME")
    mean, var = tf.nn.moments(h1, [0, 1, 2])   # h1: the previous block's output
    h2 = tf.nn.batch_normalization(h2, mean, var, 0, 1, 1e-4)
    ```

    Use instead:
    ```python
    mean, var = tf.nn.moments(h2, [0, 1, 2])
    h2 = tf.nn.batch_normalization(h2, mean, var, 0, 1, 1e-4)
    ```

    ## Fix
    None: the right statistics (the batch's moments, moving averages at evaluation) are
    a design decision the analysis cannot make.

    ## Stays silent when
    the constants are anything else (input scaling with a dataset's mean and variance:
    `mean=127.5`); the statistics come from anything but one `tf.nn.moments` call bound
    to two names in the same function; the two tensors are the same name, or are
    related without a weighted layer between them (a reshape, a reference batch); or a
    name on the way is bound by anything but a plain assignment of a call.
    """

    code = "BN013"
    name = "statistics-not-of-input"
    summary = "tf.nn.batch_normalization given constants or another tensor's moments: it normalizes nothing"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        for wrong in wrong_statistics(facts):
            if wrong.kind == "constant":
                message = (f"`{wrong.api}` is given the constant mean {wrong.mean} and variance {wrong.variance}: "
                           "it computes its input itself (to within 1%) whatever the batch, so this layer "
                           "normalizes nothing; pass the batch's `tf.nn.moments` (and moving averages at "
                           "evaluation)")
                related: tuple = ()
            else:
                assert wrong.moments is not None and wrong.layer is not None
                layer_line = facts.line_name(wrong.layer.lineno)
                message = (f"`{wrong.api}` normalizes with `{wrong.mean}`, `{wrong.variance}`, the moments of "
                           f"`{wrong.statistics_of}`, which is the input of the weighted layer at {layer_line} "
                           "its tensor is computed by: the layer's output keeps its own mean and scale and is "
                           f"never normalized; take the moments of the tensor being normalized")
                related = (Related(span(facts, wrong.moments), f"the moments of {wrong.statistics_of}"),
                           Related(span(facts, wrong.layer), "the layer between the two"))
            yield Finding(self.code, message, span(facts, wrong.node), "error", None, related)
