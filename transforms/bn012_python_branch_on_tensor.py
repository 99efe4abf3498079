"""BN012 python-branch-on-tensor-flag."""

from __future__ import annotations

import ast
from typing import Iterator

from migrate_bn.facts import ModuleFacts
from migrate_bn.findings import Finding, Related
from migrate_bn.model.tensor_branches import tensor_branches
from migrate_bn.rules import Options, Rule, span


class PythonBranchOnTensorFlag(Rule):
    """
    ## What it finds
    A Python `if` (statement or `a if flag else b`) or `while` whose test is a bool
    placeholder (`tf.placeholder(tf.bool)`, `tf.placeholder_with_default(False, ...)`),
    when one of its branches normalizes: batch moments (`tf.nn.moments`),
    `tf.nn.batch_normalization`, an `ExponentialMovingAverage`'s `apply`/`average`, or a
    batch-norm layer.

    ## Why it is wrong
    The `if` runs once, while the graph is built, and tests the placeholder object, not
    the value a later `sess.run` feeds. TensorFlow 0.8 and later refuse with a TypeError
    ("Using a `tf.Tensor` as a Python `bool` is not allowed"); earlier releases treated
    every tensor as true and built the first branch only. Either way the graph holds one
    branch, and feeding the flag `False` at evaluation chooses nothing: the evaluation
    branch (moving averages) is never built, and test accuracy is computed with batch
    statistics.

    ## Example
    ```python
    training = tf.placeholder(tf.bool)

    def normalize(z, l):
        if training:
            mean, var = tf.nn.moments(z, axes=[0])
        else:
            mean, var = ewma.average(running_mean[l]), ewma.average(running_var[l])
        return (z - mean) / tf.sqrt(var + 1e-10)
    ```

    Use instead:
    ```python
        mean, var = tf.cond(training, lambda: tf.nn.moments(z, axes=[0]),
                            lambda: (ewma.average(running_mean[l]), ewma.average(running_var[l])))
    ```

    ## Fix
    None: `tf.cond` needs both branches as functions returning the same structure, and
    whatever a branch builds besides its result (update ops appended to a list) must move
    with it; the analysis cannot prove that rewrite safe.

    ## Stays silent when
    the tested name can be anything but a bool placeholder (a Python bool parameter, a
    name bound to something else anywhere in its scope); the test is not a plain name
    (`if training is not None:`); or neither branch normalizes.
    """

    code = "BN012"
    name = "python-branch-on-tensor-flag"
    summary = "a Python if on a bool placeholder around batch normalization: decided once at graph build, not per run"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        for branch in tensor_branches(facts):
            kind = "`while`" if isinstance(branch.node, ast.While) else "`if`"
            made = facts.line_name(branch.placeholder.lineno)
            message = (f"this Python {kind} tests the bool placeholder `{branch.flag}` ({made}) while the graph "
                       "is built, not the value a run feeds: TensorFlow 0.8 and later raise a TypeError here, "
                       "earlier releases built the first branch only, so feeding the flag chooses no "
                       "normalization; use `tf.cond` on the flag")
            related = (Related(span(facts, branch.placeholder), f"the placeholder {branch.flag}"),
                       Related(span(facts, branch.normalization), "the normalization the branch builds"))
            yield Finding(self.code, message, span(facts, branch.node.test), "error", None, related)
