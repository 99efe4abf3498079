"""Layer arguments and layer kinds in model code (migrate_bn/model_code_layers.py): what
`upgrade` writes for initializers chosen in configuration code, dropout, padding given as
configuration, slim's arg_scope and conv2d_transpose, and what it refuses. The numeric
proof is the `layer_arguments` case of test_model_code_runtime.py."""

from __future__ import annotations

import textwrap

from migrate_bn.equivalence.generate import DROPOUT_NOTE, DROPOUT_RATE_ZERO, check_source
from migrate_bn.upgrade import upgrade_source
from test_programs import upgraded_model  # conftest.py makes it importable

MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim

PAD = "VALID"


def model(x, is_training, init_zero=False, padding="SAME", keep=0.8):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


def test_an_initializer_chosen_in_configuration_code_becomes_the_keras_one() -> None:
    result = upgraded("""\
        if init_zero:
            gamma = tf.zeros_initializer()
        else:
            gamma = tf.ones_initializer()
        return tf.layers.batch_normalization(x, training=is_training, gamma_initializer=gamma)
        """)
    init = result.text.split("def call(self, x, training=False):")[0]
    assert "gamma = 'zeros'" in init and "gamma = 'ones'" in init
    assert "gamma_initializer=gamma)" in init


def test_an_initializer_local_that_may_hold_anything_else_is_refused() -> None:
    result = upgraded("""\
        gamma = tf.zeros_initializer()
        for gamma in [gamma]:
            pass
        return tf.layers.batch_normalization(x, training=is_training, gamma_initializer=gamma)
        """)
    assert result.text is None and "initializer" in result.skipped[1]


def test_dropout_is_keras_dropout_called_with_the_flag_and_tf1s_defaults() -> None:
    result = upgraded("""\
        x = tf.layers.dropout(x, rate=0.3, training=is_training)
        x = tf.layers.dropout(x)
        x = slim.dropout(x, keep_prob=keep, is_training=is_training, scope="drop")
        x = slim.dropout(x, 0.6)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    init, call = result.text.split("def call(self, x, training=False):")
    assert "tf.keras.layers.Dropout(rate=0.3)" in init
    assert "tf.keras.layers.Dropout(rate=0.5)" in init  # tf.layers' default rate, Keras has none
    assert "self.add_scoped('drop', tf.keras.layers.Dropout(rate=1 - keep))" in init  # keep_prob -> rate
    assert "tf.keras.layers.Dropout(rate=1 - 0.6)" in init
    assert "'dropout'), training=is_training)" in call
    assert "'dropout'), training=False)" in call  # tf.layers' default: never drops
    assert "self.scoped(x, 'drop', training=is_training)" in call
    assert "'Dropout'), training=True)" in call  # slim's default is_training=True
    case = result.equivalence[0]
    assert case[DROPOUT_RATE_ZERO] is True
    assert DROPOUT_NOTE in check_source("m.py", "m.py", "", result.equivalence)


def test_a_model_without_dropout_is_checked_without_the_note() -> None:
    result = upgraded("return tf.layers.batch_normalization(x, training=is_training)")
    assert DROPOUT_RATE_ZERO not in result.equivalence[0]
    assert DROPOUT_NOTE not in check_source("m.py", "m.py", "", result.equivalence)


def test_a_flag_only_dropout_takes_is_the_models_training_flag() -> None:
    result = upgrade_source(MODEL.replace("def model(", "def head(").format(body=textwrap.indent(
        "x = tf.layers.dense(x, 2)\nreturn tf.layers.dropout(x, training=is_training)", "    ")) +
        "\n\ndef model(x, is_training):\n    x = head(x, is_training)\n"
        "    return tf.layers.batch_normalization(x, training=is_training)\n")
    assert result.skipped is None, result.skipped
    assert "is_training = training" in result.text


def test_padding_from_configuration_is_lowered_when_the_model_is_built() -> None:
    result = upgraded("""\
        x = slim.conv2d(x, 2, 3, padding=padding)
        x = slim.max_pool2d(x, 2, padding=PAD)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    init = result.text.split("def call(self, x, training=False):")[0]
    assert "tf.keras.layers.Conv2D(padding=padding.lower()," in init
    assert "tf.keras.layers.MaxPooling2D(strides=2, pool_size=2, padding=PAD.lower())" in init


def test_an_arg_scope_fills_in_the_slim_layers_arguments() -> None:
    result = upgraded("""\
        params = {"is_training": is_training, "decay": 0.9}
        with slim.arg_scope([slim.conv2d, slim.fully_connected], normalizer_fn=slim.batch_norm,
                            normalizer_params=params, padding="VALID"):
            x = slim.conv2d(x, 2, 3, scope="conv")
            x = slim.conv2d(x, 2, 3, padding="SAME", normalizer_fn=None, scope="plain")
        return slim.fully_connected(slim.flatten(x), 2, activation_fn=None, scope="logits")
        """)
    init, call = result.text.split("def call(self, x, training=False):")
    assert ("self.add_normalized('conv', tf.keras.layers.Conv2D(padding='valid', filters=2, kernel_size=3, "
            "use_bias=False), 'BatchNorm', FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.9, "
            "scale=False))") in init
    assert "self.add_scoped('plain', tf.keras.layers.Conv2D(padding='same', filters=2, kernel_size=3))" in init
    assert "self.add_scoped('logits', tf.keras.layers.Dense(units=2))" in init  # outside the scope
    assert "self.scoped_normalized(x, 'conv', 'BatchNorm', training=is_training)" in call


def test_slim_conv2d_transpose_is_keras_conv2d_transpose() -> None:
    result = upgraded("""\
        x = slim.conv2d_transpose(x, 4, 3, stride=2)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert ("self.add_scoped(self.unique_scope(scopes, '', 'Conv2d_transpose'), "
            "tf.keras.layers.Conv2DTranspose(padding='same', filters=4, kernel_size=3, strides=2))") in result.text
    # Without a bias too: the name map says which scopes are transposed (test_model_code_kernels.py).
    biasless = upgraded("""\
        x = slim.conv2d_transpose(x, 4, 3, biases_initializer=None)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert biasless.skipped is None and biasless.name_map["models"][0]["transposed"] == [
        "Conv2d_transpose", "Conv2d_transpose_#"]


def test_a_weightless_keras_layer_in_tf1_code_is_built_once_like_the_others() -> None:
    result = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        x = tf.keras.layers.MaxPool3D(pool_size=2, padding=padding)(inputs=x)
        return tf.keras.layers.Flatten()(x)
        """)
    init, call = result.text.split("def call(self, x, training=False):")
    assert ("self.add_scoped(self.unique_scope(scopes, '', 'keras/MaxPool3D'), "
            "tf.keras.layers.MaxPool3D(pool_size=2, padding=padding))") in init
    assert "return self.scoped(x, self.unique_scope(scopes, '', 'keras/Flatten'))" in call
    refused = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        return tf.keras.layers.Flatten()(x, training=is_training)
        """)
    assert refused.text is None and "a Keras layer called with more than its inputs" in refused.skipped[1]
    weighted = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        return tf.keras.layers.Dense(2)(x)
        """)
    assert weighted.text is None  # its variables are named by Keras, not by the scopes: not followed


def test_a_function_of_another_module_in_the_model_is_refused() -> None:
    result = upgrade_source(MODEL.replace("import tf_slim as slim", "import tf_slim as slim\nimport my_norms")
                            .format(body="    x = my_norms.cross_replica_batch_norm(x, training=is_training)\n"
                                         "    return tf.layers.batch_normalization(x, training=is_training)"))
    assert result.text is None and "a function of another module" in result.skipped[1]
    kept = upgrade_source(MODEL.replace("import tf_slim as slim", "import numpy as np")
                          .format(body="    x = x * np.sqrt(2.0)\n"
                                       "    return tf.layers.batch_normalization(x, training=is_training)"))
    assert kept.skipped is None


def test_a_tf_layers_class_built_and_called_is_the_keras_layer_its_function_builds() -> None:
    result = upgraded("""\
        x = tf.layers.Conv2D(4, 3, padding="same")(x)
        x = tf.layers.conv2d(x, 4, 3)
        x = tf.layers.Conv3D(filters=2, kernel_size=1, name="volume")(inputs=x)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    init, call = result.text.split("def call(self, x, training=False):")
    # The class and the function count the same scope: conv2d, conv2d_1.
    assert init.count("self.add_scoped(self.unique_scope(scopes, '', 'conv2d'), "
                      "tf.keras.layers.Conv2D(filters=4, kernel_size=3") == 2
    assert "self.add_scoped('volume', tf.keras.layers.Conv3D(filters=2, kernel_size=1))" in init
    assert "x = self.scoped(x, 'volume')" in call
    refused = upgraded("""\
        x = tf.layers.Dense(2)(x, training=is_training)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert refused.text is None and "a Keras layer called with more than its inputs" in refused.skipped[1]
    unread = upgraded("""\
        x = tf.layers.Conv2D(4, 3, reuse=True)(x)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert unread.text is None and "`reuse` has no Keras equivalent here" in unread.skipped[1]
    starred = upgraded("""\
        x = tf.layers.Conv2D(*[4, 3])(x)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert starred.text is None and "given arguments its constructor does not take" in starred.skipped[1]


def test_an_augmented_assignment_to_a_tensor_is_followed_as_the_assignment() -> None:
    result = upgraded("""\
        shortcut = x
        x = tf.layers.batch_normalization(x, training=is_training)
        x += tf.layers.conv2d(shortcut, 3, 1)
        return x
        """)
    init, call = result.text.split("def call(self, x, training=False):")
    assert "'conv2d'), tf.keras.layers.Conv2D(filters=3, kernel_size=1))" in init
    assert "x += self.scoped(shortcut, self.unique_scope(scopes, '', 'conv2d'))" in call
    grown = upgraded("""\
        outputs = []
        outputs += [tf.layers.batch_normalization(x, training=is_training)]
        return outputs[0]
        """)
    assert grown.text is None and "a statement a model function conversion does not follow" in grown.skipped[1]
