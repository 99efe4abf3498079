"""The training flag given to layers as `trainable`, and `reuse=tf.AUTO_REUSE`, in model
code (migrate_bn/model_code_flags.py): what `upgrade` drops, notes and refuses, and the
case the generated check builds with a Python-bool flag. The numeric proof is the
`flag_as_trainable` case of test_model_code_runtime.py."""

from __future__ import annotations

import sys
from pathlib import Path

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn import facts as facts_module, model_code, tfapi
from migrate_bn.equivalence.check import run_case
from migrate_bn.equivalence.generate import FLAG_PLACEHOLDER, PYTHON_FLAG
from migrate_bn.source import parse
from migrate_bn.upgrade import upgrade_source
from test_programs import upgraded_model  # conftest.py makes it importable

MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training, scope="unit"):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


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
    # The function's only batch norm may take `reuse=True` as configuration
    # (model_code_shared_bn); beside another one, it is refused.
    result = upgraded("""\
        x = slim.batch_norm(x, is_training=is_training, scope="first")
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


# A training script (so its model is offered on its own) that reaches arg_scope through a
# module-level alias of contrib's, as real projects did.
SCRIPT = '''\
import numpy as np
import tensorflow as tf
import tensorflow.contrib.layers as layers
arg_scope = tf.contrib.framework.arg_scope


def unit(x, num, scope, training_nn, act=True):
    with arg_scope([layers.conv2d], kernel_size=3, activation_fn=None, trainable=training_nn,
                   reuse=tf.AUTO_REUSE, weights_initializer=tf.random_normal_initializer(stddev=0.2)):
        x = layers.conv2d(x, num_outputs=num, scope=scope)
        x = layers.batch_norm(x, decay=0.9, scale=True, is_training=training_nn, updates_collections=None,
                              reuse=tf.AUTO_REUSE, scope=scope + "/BN")
        if act:
            x = tf.nn.relu(x)
    return x


images = tf.placeholder(tf.float32, [None, 8, 8, 3])
loss = tf.reduce_mean(unit(images, 4, "unit", True))
step = tf.train.AdamOptimizer(1e-3).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step, {images: np.zeros([2, 8, 8, 3])})
'''


def test_a_module_level_alias_the_tf1_function_calls_comes_into_its_check() -> None:
    result = upgrade_source(SCRIPT)
    assert result.offer is not None and not result.refused_functions
    assert "arg_scope" not in result.offer[0] and "contrib" not in result.offer[0]
    source = result.equivalence_source
    assert "arg_scope = tf.contrib.framework.arg_scope" in source and "import tensorflow as tf" in source
    assert "Session" not in source
    [case] = result.equivalence
    assert case["flag"] == "training_nn" and case[PYTHON_FLAG] is True


@oracle.needs_tf
def test_the_offered_model_with_its_flag_as_trainable_computes_what_tf1_computed(tmp_path: Path,
                                                                                 tf2_python: str) -> None:
    result = upgrade_source(SCRIPT)
    (tmp_path / "train_keras3.py").write_text(result.offer[0])
    (tmp_path / "train_tf1.py").write_text(result.equivalence_source)
    [case] = result.equivalence
    outcome = run_case(tmp_path / "train_tf1.py", tmp_path / "train_keras3.py",
                       {**case, "kwargs": {"num": 4, "scope": "unit"}, "input_shape": [4, 8, 8, 3],
                        "learning_rate": 0.05}, sys.executable, tf2_python, tmp_path / "work")
    assert outcome.error is None, outcome.error
    assert outcome.mismatches == []


# A GAN-style script whose model reads the module's bool placeholder as its flag, gives its
# batch norms their arguments through an arg_scope (`reuse=reuse` too: a second build shares
# the first's variables), and names a variable of its own with a scope ("dec/W"), as real
# scripts did.
PLACEHOLDER_SCRIPT = '''\
import numpy as np
import tensorflow as tf
import tensorflow.contrib.slim as slim

CODE = 6
phase = tf.placeholder(tf.bool)


def decoder(code, reuse=False):
    with slim.arg_scope([slim.batch_norm], is_training=phase, decay=0.8, epsilon=1e-4, reuse=reuse,
                        param_initializers={"beta": tf.constant_initializer(value=0.1)}):
        with slim.arg_scope([slim.conv2d_transpose], reuse=reuse):
            w = tf.get_variable("dec/W", [CODE, 2 * 2 * 4], initializer=tf.truncated_normal_initializer(stddev=0.3))
            net = tf.reshape(tf.matmul(code, w), [-1, 2, 2, 4])
            net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope="dec/bn_1")
            net = slim.conv2d_transpose(net, 3, [3, 3], stride=2, activation_fn=None, scope="dec/deconv_2")
            net = slim.batch_norm(net, decay=0.9, scope="dec/bn_2")
    return tf.nn.tanh(net)


codes = tf.placeholder(tf.float32, [None, CODE])
loss = tf.reduce_mean(decoder(codes)) + tf.reduce_mean(decoder(codes * 2.0, reuse=True))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    step = tf.train.AdamOptimizer(1e-3).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(step, {codes: np.zeros([2, CODE]), phase: True})
'''


def test_a_module_placeholder_read_as_the_flag_is_the_models_training() -> None:
    result = upgrade_source(PLACEHOLDER_SCRIPT)
    assert result.offer is not None and not result.refused_functions
    offered = result.offer[0]
    init, call = offered.split("class Decoder(")[1].split("def call(self, code, training=False):")
    assert "phase = training" in call and "phase" not in init and "placeholder" not in offered
    # The arg_scope's settings, the call's own winning; `value=` of constant_initializer.
    assert "'dec/bn_1', FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.8, scale=False, epsilon=0.0001, " \
           "beta_initializer=tf.keras.initializers.Constant(0.1)))" in init
    assert "momentum=0.9, scale=False, epsilon=0.0001" in init
    # "dec/W": the weight named "W" (Keras names hold no "/"), held under the whole name.
    assert "self.add_scoped('dec/W', ScopedVariable('W', " in init
    [case] = result.equivalence
    assert case["flag"] == "phase" and case[FLAG_PLACEHOLDER] is True and case["variables"] == ["W"]
    assert "phase = tf.placeholder(tf.bool)" in result.equivalence_source
    assert "reuse" not in init.replace("def __init__(self, reuse=False, **kwargs)", "").replace(
        "self.settings = dict(reuse=reuse)", "")
    facts = facts_module.build(parse(PLACEHOLDER_SCRIPT), PLACEHOLDER_SCRIPT)
    [model] = model_code.offered_module(facts)[1].models
    assert [note for _, note in model.notes if note == tfapi.REUSE_PARAMETER_NOTE] == [tfapi.REUSE_PARAMETER_NOTE]


def test_reuse_given_by_a_parameter_without_a_default_is_still_refused() -> None:
    result = upgraded("""\
        x = slim.batch_norm(x, is_training=is_training, scope="first")
        return slim.batch_norm(x, is_training=is_training, reuse=scope, scope="bn")
        """)
    assert result.text is None and "`reuse` on the batch-norm call" in result.skipped[1]


def test_a_module_placeholder_bound_twice_is_no_flag() -> None:
    text = PLACEHOLDER_SCRIPT.replace("phase = tf.placeholder(tf.bool)\n",
                                      "phase = tf.placeholder(tf.bool)\nphase = tf.placeholder(tf.bool)\n")
    result = upgrade_source(text)
    assert [(f.name, f.reason) for f in result.refused_functions] == [
        ("decoder", "a training flag other than a parameter of the model function or a literal")]


@oracle.needs_tf
def test_the_model_reading_a_module_placeholder_computes_what_tf1_computed(tmp_path: Path, tf2_python: str) -> None:
    result = upgrade_source(PLACEHOLDER_SCRIPT)
    (tmp_path / "gan_keras3.py").write_text(result.offer[0])
    (tmp_path / "gan_tf1.py").write_text(result.equivalence_source)
    [case] = result.equivalence
    outcome = run_case(tmp_path / "gan_tf1.py", tmp_path / "gan_keras3.py",
                       {**case, "input_shape": [4, 6], "learning_rate": 0.05}, sys.executable, tf2_python,
                       tmp_path / "work")
    assert outcome.error is None, outcome.error
    assert outcome.mismatches == []
