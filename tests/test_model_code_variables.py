"""Model code whose functions create their weights themselves (`tf.get_variable`, directly or
through a factory) and apply them with raw ops: what `upgrade` writes, and what it refuses.
The runtime proof is the `own_variables` case of tests/test_model_code_runtime.py."""

from __future__ import annotations

import ast

from migrate_bn.equivalence.compare import compare
from migrate_bn.upgrade import upgrade_source

CONV = '''\
import tensorflow as tf


def conv_bn(x, channels, is_training, name="conv"):
    with tf.variable_scope(name):
        w = tf.get_variable("w", [3, 3, x.get_shape()[-1], channels],
                            initializer=tf.truncated_normal_initializer(stddev=0.1){extra})
        y = tf.nn.conv2d(x, filter=w, strides=[1, 1, 1, 1], padding="SAME")
        return tf.layers.batch_normalization(y, training=is_training)
'''


def _converted(text: str):
    result = upgrade_source(text)
    assert result.skipped is None, result.skipped
    ast.parse(result.text)
    return result


def test_a_variable_becomes_a_weight_held_under_its_tf1_name_and_built_where_it_is_used() -> None:
    result = _converted(CONV.format(extra=""))
    assert "self.add_scoped(name + '/w', ScopedVariable('w', " \
           "tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=0.1)))" in result.text
    assert "w = ScopedVariable.of(self, name + '/w', [3, 3, x.get_shape()[-1], channels])" in result.text
    # TF1's `filter=` is TF2's `filters=`; the op itself is TF2's.
    assert "tf.nn.conv2d(x, filters=w, strides=[1, 1, 1, 1], padding='SAME')" in result.text
    assert "class ScopedVariable(tf.keras.layers.Layer):" in result.text
    assert result.name_map["models"][0]["variables"] == ["w"]
    assert result.equivalence[0]["variables"] == ["w"]
    assert upgrade_source(result.text).text is None  # a second run changes nothing


def test_no_initializer_is_tf1s_glorot_uniform_and_trainable_false_is_kept() -> None:
    text = CONV.replace("initializer=tf.truncated_normal_initializer(stddev=0.1){extra}", "trainable=False")
    result = _converted(text)
    assert "ScopedVariable('w', tf.keras.initializers.GlorotUniform(), trainable=False)" in result.text


def test_a_factory_is_followed_at_each_call_and_removed() -> None:
    text = CONV.format(extra="").replace(
        'w = tf.get_variable("w", [3, 3, x.get_shape()[-1], channels],\n'
        '                            initializer=tf.truncated_normal_initializer(stddev=0.1))',
        'w = _weights("kernel", [3, 3, x.get_shape()[-1], channels], stddev=0.5)') + '''

def _weights(name, shape, stddev=0.02):
    var = tf.get_variable(name, shape, initializer=tf.random_normal_initializer(mean=0.0, stddev=stddev))
    return var
'''
    result = _converted(text)
    assert "def _weights" not in result.text
    assert "ScopedVariable('kernel', tf.keras.initializers.RandomNormal(mean=0.0, stddev=0.5))" in result.text
    assert "w = ScopedVariable.of(self, name + '/kernel', [3, 3, x.get_shape()[-1], channels])" in result.text


def test_what_cannot_be_faithful_is_refused_with_the_reason() -> None:
    cases = {
        ", regularizer=tf.nn.l2_loss": "REGULARIZATION_LOSSES",
        ", dtype=tf.float16": "dtype is not float32",
        ", trainable=is_training": "`trainable` that is not a literal",
    }
    for extra, reason in cases.items():
        assert reason in upgrade_source(CONV.format(extra=extra)).skipped[1], extra
    named = CONV.format(extra="").replace('tf.get_variable("w"', 'tf.get_variable(name + "w"')
    assert "name that is not a literal string" in upgrade_source(named).skipped[1]
    # A variable named as a layer of the same model names its weights: ckpt-convert could not tell them apart.
    clash = CONV.format(extra="").replace('tf.get_variable("w"', 'tf.get_variable("gamma"')
    assert "ckpt-convert could not tell them apart" in upgrade_source(clash).skipped[1]
    inline = CONV.format(extra="").replace("y = tf.nn.conv2d(x, filter=w,",
                                           "y = tf.nn.conv2d(x, filter=tf.get_variable('v', [1]),")
    assert "inside an expression" in upgrade_source(inline).skipped[1]


def test_weights_passed_in_as_arguments_are_refused_maml_style() -> None:
    text = '''\
import tensorflow as tf


def block(x, weight, bias, reuse, scope):
    x = tf.nn.conv2d(x, weight, [1, 1, 1, 1], "SAME") + bias
    return tf.layers.batch_normalization(x, training=True)
'''
    assert "a weight passed in as an argument" in upgrade_source(text).skipped[1]


def test_a_factory_with_more_than_a_return_is_refused_where_it_is_called() -> None:
    text = CONV.format(extra="").replace(
        'w = tf.get_variable("w", [3, 3, x.get_shape()[-1], channels],\n'
        '                            initializer=tf.truncated_normal_initializer(stddev=0.1))',
        'w = _weights([3, 3, 1, channels])') + '''

def _weights(shape, init=None):
    if init is None:
        print("default")
    return tf.get_variable("w", shape, initializer=init)
'''
    assert "a factory the conversion does not follow" in upgrade_source(text).skipped[1]


def test_the_comparison_reads_the_models_own_variables_by_tf1_name() -> None:
    tf1 = {"before": [1.0], "steps": [], "after": [1.0], "variables": {"conv/w": [1.0, 2.0]}}
    keras = {"before": [1.0], "steps": [], "after": [1.0], "weights": {}, "variables": {"conv/w": [1.0, 2.0]}}
    assert compare(tf1, keras) == []
    assert compare(tf1, {**keras, "variables": {"conv/w": [1.0, 2.5]}})[0].what == "conv/w"
    assert compare(tf1, {**keras, "variables": {"conv/w": [1.0, 2.0], "conv/v": [0.0]}})[0].what == "conv/v"


def test_a_factorys_variable_scope_and_defaults_for_none_are_followed() -> None:
    text = CONV.format(extra="").replace(
        'w = tf.get_variable("w", [3, 3, x.get_shape()[-1], channels],\n'
        '                            initializer=tf.truncated_normal_initializer(stddev=0.1))',
        'w = _kernel(x.get_shape()[-1], channels, size)').replace(
        'def conv_bn(x, channels, is_training, name="conv"):',
        'def conv_bn(x, channels, is_training, size=None, name="conv"):') + '''

def _kernel(inputs, outputs, size=None, init=None, name="W"):
    with tf.variable_scope(name):
        if size is None:
            size = [3, 3]
        if init is None:
            init = tf.random_uniform_initializer(-0.1, 0.1)
        return tf.get_variable(name, shape=size + [inputs, outputs], initializer=init)
'''
    result = _converted(text)
    # TF1 named it W/W inside the caller's scope; `size` may be None when the model is called.
    assert "self.add_scoped(name + '/W/W', ScopedVariable('W', " \
           "tf.keras.initializers.RandomUniform(minval=-0.1, maxval=0.1)))" in result.text
    assert "w = ScopedVariable.of(self, name + '/W/W', ([3, 3] if size is None else size) + " \
           "[x.get_shape()[-1], channels])" in result.text


def test_a_name_that_starts_literal_is_listed_by_its_start() -> None:
    result = _converted(CONV.format(extra="").replace('tf.get_variable("w"', 'tf.get_variable("w_" + name'))
    assert "self.add_scoped(name + '/' + ('w_' + name), ScopedVariable('w_' + name, " in result.text
    assert result.name_map["models"][0]["variables"] == ["w_*"]
    clash = CONV.format(extra="").replace('tf.get_variable("w"', 'tf.get_variable("gam" + name')
    assert "`gamma` as a layer of the model" in upgrade_source(clash).skipped[1]


def test_a_function_that_only_creates_variables_and_cannot_convert_is_left_out_of_the_offer() -> None:
    text = CONV.format(extra="") + '''

def linear(x, units, name="linear"):
    with tf.variable_scope(name):
        w = tf.get_variable("w", [x.get_shape()[-1], units])
        try:
            y = tf.matmul(x, w)
        except ValueError:
            y = x
        return y
'''
    result = upgrade_source(text)
    assert result.text is None and result.skipped is not None  # in place, the module is refused
    assert "class ConvBn(" in result.offer[0] and "linear" not in result.offer[0]
    converted = upgrade_source(text.replace("try:\n            y = tf.matmul(x, w)\n        except ValueError:\n"
                                            "            y = x\n", "y = tf.matmul(x, w)\n"))
    assert "class Linear(ScopedModel):" in converted.text  # it converts when it can


def test_raw_ops_keep_only_what_means_the_same_in_tf2() -> None:
    pooled = CONV.format(extra="").replace(
        "        return tf.layers.batch_normalization(y, training=is_training)",
        "        y = tf.nn.max_pool(value=y, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')\n"
        "        return tf.layers.batch_normalization(y, training=is_training)")
    assert "tf.nn.max_pool(input=y, ksize=[1, 2, 2, 1]" in _converted(pooled).text
    # TF1's 5th argument of conv2d is use_cudnn_on_gpu, TF2's data_format.
    fifth = CONV.format(extra="").replace('tf.nn.conv2d(x, filter=w, strides=[1, 1, 1, 1], padding="SAME"',
                                          'tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", True')
    assert "arguments by position that TF2 takes in another order" in upgrade_source(fifth).skipped[1]
