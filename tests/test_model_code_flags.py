"""The training flag given to layers as `trainable`, and `reuse=tf.AUTO_REUSE`, in model
code (migrate_bn/model_code_flags.py): what `upgrade` drops, notes and refuses, and the
case the generated check builds with a Python-bool flag. The numeric proof is the
`flag_as_trainable` case of test_model_code_runtime.py."""

from __future__ import annotations

import textwrap

from migrate_bn import tfapi
from migrate_bn.equivalence.generate import PYTHON_FLAG
from migrate_bn.upgrade import upgrade_source

MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training, scope="unit"):
{body}
'''


def upgraded(body: str):
    return upgrade_source(MODEL.format(body=textwrap.indent(textwrap.dedent(body), "    ")))


def test_the_flag_as_trainable_by_an_arg_scope_is_dropped_with_a_note() -> None:
    result = upgraded("""\
        with slim.arg_scope([slim.conv2d], activation_fn=None, trainable=is_training, reuse=tf.AUTO_REUSE):
            x = slim.conv2d(x, 4, 3, scope=scope)
        return slim.batch_norm(x, is_training=is_training, reuse=tf.AUTO_REUSE, scope=scope + "/BN")
        """)
    assert result.skipped is None, result.skipped
    init = result.text.split("class Model(")[1].split("def call(self, x, training=False):")[0]
    assert "trainable" not in init and "reuse" not in init
    assert "tf.keras.layers.Conv2D(padding='same', filters=4, kernel_size=3))" in init
    assert [line for line, note in result.notes if note == tfapi.TRAINABLE_FLAG_NOTE] == [7]
    assert result.equivalence[0][PYTHON_FLAG] is True


def test_the_flag_as_trainable_at_a_tf_layers_call_is_dropped() -> None:
    result = upgraded("""\
        x = tf.layers.dense(x, 4, trainable=is_training, reuse=tf.AUTO_REUSE, name=scope)
        return tf.layers.batch_normalization(x, training=is_training, reuse=tf.AUTO_REUSE)
        """)
    assert result.skipped is None, result.skipped
    assert "tf.keras.layers.Dense(units=4)" in result.text
    assert result.equivalence[0][PYTHON_FLAG] is True


def test_a_tensor_flag_model_keeps_the_tensor_check() -> None:
    result = upgraded("""\
        x = tf.layers.dense(x, 4, reuse=tf.AUTO_REUSE)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert PYTHON_FLAG not in result.equivalence[0]
    assert not any(note == tfapi.TRAINABLE_FLAG_NOTE for _, note in result.notes)


def test_trainable_computed_from_the_flag_is_still_refused() -> None:
    result = upgraded("""\
        with slim.arg_scope([slim.conv2d], trainable=not is_training):
            x = slim.conv2d(x, 4, 3)
        return slim.batch_norm(x, is_training=is_training)
        """)
    assert result.text is None and "the training flag set as `trainable` by an arg_scope" in result.skipped[1]


def test_reuse_other_than_auto_reuse_on_a_batch_norm_is_still_refused() -> None:
    result = upgraded("""\
        return slim.batch_norm(x, is_training=is_training, reuse=True, scope="bn")
        """)
    assert result.text is None and "`reuse` on the batch-norm call" in result.skipped[1]


def test_the_flag_as_a_batch_norms_trainable_is_dropped_too() -> None:
    result = upgraded("""\
        return slim.batch_norm(x, is_training=is_training, trainable=is_training, scope="bn")
        """)
    assert result.skipped is None, result.skipped
    init = result.text.split("class Model(")[1].split("def call(self, x, training=False):")[0]
    assert "FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.999, scale=False))" in init
    assert [note for _, note in result.notes if "trainable" in note] == [tfapi.TRAINABLE_FLAG_NOTE]
    assert result.equivalence[0][PYTHON_FLAG] is True
