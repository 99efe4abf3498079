"""`migrate-bn upgrade` on slim-style variable scopes in model code:
`variable_scope(scope, default_name, values[, reuse=...]) [as sc]` and what may be read of
`sc` (migrate_bn/model_code_slim_scopes.py).

The runtime proof is the `slim_scopes` case of fixtures/model_code (run by
test_model_code_runtime.py: every checkpoint value used and every weight filled, so each
scope got TF1's name); these tests say which name each scope gets and what is refused.
"""

from __future__ import annotations

import textwrap

from migrate_bn.upgrade import upgrade_source

MODEL = '''\
import tensorflow.compat.v1 as tf


def model(x, is_training, reuse=None, scope=None):
{body}
'''


def upgraded(body: str):
    return upgrade_source(MODEL.format(body=textwrap.indent(textwrap.dedent(body), "    ")))


def test_a_scope_with_a_default_name_is_the_callers_name_or_the_default_made_unique() -> None:
    result = upgraded("""\
        with tf.variable_scope(scope, "model", [x], reuse=reuse) as sc:
            x = tf.layers.dense(x, 4)
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert result.text.count("sc = scope if scope is not None else self.unique_scope(scopes, '', 'model')") == 2
    assert "self.unique_scope(scopes, sc + '/', 'dense')" in result.text


def test_a_literal_none_scope_is_the_default_name_made_unique_in_a_local_of_its_own() -> None:
    result = upgraded("""\
        for i in range(2):
            with tf.variable_scope(None, default_name="unit", values=[x]):
                x = tf.layers.batch_normalization(x, training=is_training)
        return x
        """)
    assert result.skipped is None, result.skipped
    assert "variable_scope_name = self.unique_scope(scopes, '', 'unit')" in result.text
    assert "self.unique_scope(scopes, variable_scope_name + '/', 'batch_normalization')" in result.text


def test_a_literal_name_wins_over_the_default() -> None:
    result = upgraded("""\
        with tf.variable_scope("head", "unused_default", [x]):
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert "variable_scope_name = 'head'" in result.text


def test_sc_name_and_original_name_scope_are_the_scope_s_name() -> None:
    result = upgraded("""\
        with tf.variable_scope(scope, "model", [x]) as sc:
            collection = sc.name + "_end_points"
            end_points = {}
            x = tf.layers.batch_normalization(x, training=is_training)
            end_points[sc.name + "/bn"] = x
            end_points[sc.original_name_scope + "out"] = x
            return x, end_points
        """)
    assert result.skipped is None, result.skipped
    assert "end_points[sc + '/bn'] = x" in result.text
    assert "end_points[sc + '/' + 'out'] = x" in result.text
    assert result.text.count("collection = sc + '_end_points'") == 2
    assert any("original_name_scope" in note for _, note in result.notes)


def test_the_scope_object_used_otherwise_is_refused() -> None:
    result = upgraded("""\
        with tf.variable_scope(scope, "model", [x]) as sc:
            x = tf.layers.batch_normalization(x, training=is_training)
            sc.reuse_variables()
            return x
        """)
    assert result.text is None or "class Model" not in result.text
    assert "a variable scope object, used for more than its `name`" in str(result.skipped)


def test_other_keywords_and_computed_default_names_are_refused() -> None:
    initializer = upgraded("""\
        with tf.variable_scope(scope, "model", [x], initializer=tf.zeros_initializer()):
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert "a variable_scope with `initializer`" in str(initializer.skipped)
    computed = upgraded("""\
        with tf.variable_scope(scope, "model_%d" % 2, [x]):
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert "default name is not a literal string" in str(computed.skipped)
    tensor = upgraded("""\
        with tf.variable_scope(x, "model", [x]):
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert "a variable scope named by a tensor" in str(tensor.skipped)


def test_a_named_scope_whose_object_is_read() -> None:
    result = upgraded("""\
        with tf.variable_scope("mobile") as sc:
            collection = sc.name + "_end_points"
            return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert "sc = 'mobile'" in result.text
    assert "self.unique_scope(scopes, sc + '/', 'batch_normalization')" in result.text


def test_slim_convolution2d_is_conv2d_and_takes_its_arg_scope() -> None:
    source = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training):
    with slim.arg_scope([slim.conv2d], activation_fn=None, padding="VALID"):
        x = slim.convolution2d(x, 4, [3, 3], scope="conv_1")
    return slim.batch_norm(x, is_training=is_training, scope="conv_1/batch_norm")
'''
    result = upgrade_source(source)
    assert result.skipped is None, result.skipped
    assert "self.add_scoped('conv_1', tf.keras.layers.Conv2D(padding='valid', filters=4, kernel_size=[3, 3]))" \
        in result.text
    assert "x = self.scoped(x, 'conv_1')" in result.text  # no activation: the arg_scope's None


def test_an_arg_scope_around_a_helper_that_sets_its_layers_arguments_is_refused() -> None:
    # TF1 applies it inside the call; the helper's methods are written once, without it.
    source = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def unit(x, is_training):
    x = slim.conv2d(x, 4, 3)
    return slim.batch_norm(x, is_training=is_training)


def model(x, is_training):
    with slim.arg_scope([slim.conv2d], weights_initializer=tf.truncated_normal_initializer(stddev=0.1)):
        return unit(x, is_training)
'''
    result = upgrade_source(source)
    assert "an arg_scope around the call of `unit` sets arguments of its `slim.conv2d`" in str(result.skipped)
    observing = source.replace("weights_initializer=tf.truncated_normal_initializer(stddev=0.1)",
                               "outputs_collections='end_points'")
    assert upgrade_source(observing).skipped is None


ARG_SCOPED = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


@slim.add_arg_scope
def act(x, decoder=False, scope="act"):
    width = 2 if decoder else 4
    return slim.fully_connected(x, width, scope=scope)


@slim.add_arg_scope
def unit(x, is_training, decoder=False, scope="unit"):
    with slim.arg_scope([act], {keywords}):
        x = slim.batch_norm(x, is_training=is_training, scope=scope)
        return act(x)


def model(x, is_training):
    return unit(x, is_training, decoder=True)
'''


def test_an_arg_scope_a_model_function_opens_gives_the_module_s_functions_their_arguments() -> None:
    # ENet's `with slim.arg_scope([prelu], decoder=decoder):` in its bottleneck.
    result = upgrade_source(ARG_SCOPED.format(keywords="decoder=decoder"))
    assert result.skipped is None, result.skipped
    assert "self.build_act(scopes, prefix, decoder=decoder)" in result.text
    assert "return self.apply_act(scopes, prefix, x=x, decoder=decoder)" in result.text


def test_an_arg_scope_giving_an_argument_the_function_does_not_take_is_refused() -> None:
    result = upgrade_source(ARG_SCOPED.format(keywords="alpha=0.2"))
    assert "an arg_scope gives `act` `alpha`, which it does not take" in str(result.skipped)


def test_an_arg_scope_around_a_call_that_names_a_function_the_callee_calls_is_refused() -> None:
    source = ARG_SCOPED.format(keywords="outputs_collections='ends'").replace(
        "    return unit(x, is_training, decoder=True)",
        "    with slim.arg_scope([act], decoder=True):\n        return unit(x, is_training)")
    result = upgrade_source(source)
    assert "an arg_scope around the call of `unit` sets arguments of its `act`" in str(result.skipped)


DEPTHWISE = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def net(x, is_training):
    x = slim.separable_convolution2d(x, {num_outputs}, [3, 3], depth_multiplier=2, stride=2,
                                     weights_initializer=tf.truncated_normal_initializer(stddev=0.1), scope="dw")
    return slim.batch_norm(x, is_training=is_training)
'''


def test_slims_separable_convolution_without_num_outputs_is_a_depthwise_convolution() -> None:
    result = upgrade_source(DEPTHWISE.format(num_outputs="None"))
    assert result.skipped is None, result.skipped
    assert "self.add_scoped('dw', tf.keras.layers.DepthwiseConv2D(padding='same', kernel_size=[3, 3], " \
           "depth_multiplier=2, strides=2, depthwise_initializer=tf.keras.initializers.TruncatedNormal(" \
           "mean=0.0, stddev=0.1)))" in result.text
    assert "x = tf.nn.relu(self.scoped(x, 'dw'))" in result.text  # slim's default activation


def test_a_separable_convolution_with_a_pointwise_part_is_refused() -> None:
    result = upgrade_source(DEPTHWISE.format(num_outputs="16"))
    assert "`num_outputs` has no Keras equivalent here" in str(result.skipped)


def test_ckpt_convert_tells_a_depthwise_kernel_by_its_tf1_name() -> None:
    from migrate_bn.checkpoints import layer_weight
    assert layer_weight("net/dw/depthwise_weights") == ("net/dw", "kernel")
    assert layer_weight("net/dw/biases") == ("net/dw", "bias")


BATCH_NORM_SCOPED = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def net(x, is_training, other=True):
    with slim.arg_scope([slim.batch_norm], is_training={flag}, decay=0.9, fused=True):
        with slim.arg_scope([slim.batch_norm], activation_fn=tf.nn.relu):
            x = slim.batch_norm(x, scope="direct", decay=0.5)
        x = slim.conv2d(x, 4, 3, normalizer_fn=slim.batch_norm, normalizer_params={{"scale": True}})
    with slim.arg_scope([slim.batch_norm], decay=0.8):
        return tf.layers.batch_normalization(x, training=is_training, name="not_slims")
'''


def test_an_arg_scope_gives_slims_batch_norm_its_settings_called_or_as_a_normalizer() -> None:
    # MobileNet's `arg_scope([slim.batch_norm], is_training=is_training, activation_fn=tf.nn.relu, fused=True)`.
    result = upgrade_source(BATCH_NORM_SCOPED.format(flag="is_training"))
    assert result.skipped is None, result.skipped
    text = result.text
    assert "self.add_scoped('direct', FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.5, " in text
    assert "x = tf.nn.relu(self.scoped(x, 'direct', training=is_training))" in text  # the call's decay wins
    assert "'BatchNorm', FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.9, scale=True))" in text
    assert "momentum=0.8" not in text  # tf.layers' batch norm takes no arg_scope


def test_an_arg_scope_setting_another_parameter_as_batch_norms_flag_is_refused() -> None:
    result = upgrade_source(BATCH_NORM_SCOPED.format(flag="other"))
    assert "the training flag `other` set by an arg_scope" in str(result.skipped) or \
        "two training flags" in str(result.skipped)


def test_a_refusal_of_a_batch_norm_given_settings_by_an_arg_scope_names_the_calls_line() -> None:
    # The offer leaves out the function holding that line (taki0112/SENet's copies).
    source = BATCH_NORM_SCOPED.format(flag="is_training").replace('scope="direct", decay=0.5',
                                                                   'scope="direct", decay=0.5, reuse=True')
    result = upgrade_source(source)
    assert result.skipped is not None and result.skipped[0] == 8, result.skipped
