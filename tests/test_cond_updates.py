"""BN010's model question (migrate_bn/model/cond_updates.py): which updates a cond on a
training flag selects although they are built outside it."""

from __future__ import annotations

from migrate_bn.api import analyze

HAND_WRITTEN = """
import tensorflow as tf
from tensorflow.python.training import moving_averages


def batch_norm(x, is_training):
    moving_mean = tf.get_variable("moving_mean", [8], trainable=False)
    mean, variance = tf.nn.moments(x, [0])
    update = moving_averages.assign_moving_average(moving_mean, mean, 0.9)

    def train_branch():
        with tf.control_dependencies([update]):
            return tf.identity(mean)

    used = tf.cond(is_training, train_branch, lambda: moving_mean)
    return (x - used) / tf.sqrt(variance + 1e-3)
"""


def _codes(source: str) -> list[tuple[str, int]]:
    return [(f.code, f.span.line) for f in analyze(source.encode(), "model.py").findings]


def test_an_assign_moving_average_outside_the_cond() -> None:
    assert _codes(HAND_WRITTEN) == [("BN010", 9)]


def test_built_inside_the_branch_is_silent() -> None:
    inside = HAND_WRITTEN.replace("    update = moving_averages.assign_moving_average(moving_mean, mean, 0.9)\n", "")
    inside = inside.replace("        with tf.control_dependencies([update]):",
                            "        update = moving_averages.assign_moving_average(moving_mean, mean, 0.9)\n"
                            "        with tf.control_dependencies([update]):")
    assert _codes(inside) == []


def test_a_cond_on_something_else_is_silent() -> None:
    assert _codes(HAND_WRITTEN.replace("tf.cond(is_training,", "tf.cond(use_cache,")) == []


def test_a_method_nothing_names_is_dead_code() -> None:
    method = """
import tensorflow as tf
from tensorflow.contrib.layers import batch_norm


class Model:
    def unused_batch_norm_layer(self, x, train_phase):
        bn_train = batch_norm(x, is_training=True, updates_collections=None, scope="bn")
        bn_inference = batch_norm(x, is_training=False, updates_collections=None, reuse=True, scope="bn")
        return tf.cond(train_phase, lambda: bn_train, lambda: bn_inference)
"""
    assert _codes(method) == []
    called = method + "\n    def build(self, x, train_phase):\n        return self.unused_batch_norm_layer(x, train_phase)\n"
    assert _codes(called) == [("BN010", 8)]
