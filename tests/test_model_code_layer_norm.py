"""contrib/slim's layer_norm in model code (migrate_bn/model_code_layer_norm.py), and an
activation passed in as a parameter (model_code_activations.py): what `upgrade` writes and
refuses, the mapping table against tf-slim's own function (contrib's code), and the
checkpoint stand-in. The numeric proof is the `layer_norm` case of
test_model_code_runtime.py (TF1 under TF 2.12 against the converted model under Keras 3)."""

from __future__ import annotations

import inspect

import numpy as np

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn import keras_mapping, model_code_layer_norm
from test_programs import upgraded_model  # conftest.py makes it importable

MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training, activation=tf.nn.relu, reuse=None, scope="unit"):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


def _init(text: str) -> str:
    return text.split("class Model(")[1].split("def call(")[0]


def _call(text: str) -> str:
    return text.split("class Model(")[1].split("def call(")[1]


def test_a_layer_norm_becomes_the_written_class_under_its_scope() -> None:
    result = upgraded("""\
        x = tf.layers.conv2d(x, 4, 3, name="conv")
        x = slim.layer_norm(x, activation_fn=tf.nn.relu)
        x = slim.layer_norm(x, center=False, begin_norm_axis=-1, begin_params_axis=-2, trainable=False)
        x = tf.layers.batch_normalization(x, training=is_training)
        return tf.contrib.layers.layer_norm(x, scale=False, scope="head")
        """)
    assert result.skipped is None, result.skipped
    text = result.text
    assert text.count("class ContribLayerNormalization(tf.keras.layers.Layer):") == 1
    init = _init(text)
    assert "self.add_scoped(self.unique_scope(scopes, '', 'LayerNorm'), ContribLayerNormalization())" in init
    assert "ContribLayerNormalization(center=False, trainable=False, begin_norm_axis=-1, begin_params_axis=-2)" \
        in init
    assert "self.add_scoped('head', ContribLayerNormalization(scale=False))" in init
    assert "tf.nn.relu(self.scoped(x, self.unique_scope(scopes, '', 'LayerNorm')))" in _call(text)
    # TF1's defaults and epsilon, from the table, in the written class.
    assert "def __init__(self, center=True, scale=True, begin_norm_axis=1, begin_params_axis=-1, **kwargs):" in text
    assert "epsilon = 1e-3 if inputs.dtype == tf.float16 else 1e-12" in text
    assert "shape = tuple(input_shape[self.begin_params_axis:])" in text


def test_a_module_without_layer_norm_gets_no_class() -> None:
    result = upgraded("return tf.layers.batch_normalization(x, training=is_training)")
    assert result.skipped is None and "ContribLayerNormalization" not in result.text


def test_the_class_name_avoids_the_modules_names_and_model_classes() -> None:
    result = upgraded_model(MODEL.replace("def model(", "def contrib_layer_normalization("),
                            "return slim.layer_norm(tf.layers.batch_normalization(x, training=is_training))")
    assert result.skipped is None, result.skipped
    assert "class ContribLayerNormalization_2(tf.keras.layers.Layer):" in result.text
    assert "ContribLayerNormalization_2()" in result.text


def test_reuse_as_configuration_of_the_only_layer_norm_of_a_scope() -> None:
    result = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        return slim.layer_norm(x, reuse=reuse, scope=scope)
        """)
    assert result.skipped is None, result.skipped
    assert "self.add_scoped(scope, ContribLayerNormalization())" in _init(result.text)


def test_reuse_otherwise_is_refused() -> None:
    no_scope = upgraded("return slim.layer_norm(tf.layers.batch_normalization(x, training=is_training), reuse=True)")
    assert no_scope.text is None and no_scope.skipped[1] == model_code_layer_norm.REUSE_REFUSED
    two = upgraded("""\
        x = slim.layer_norm(tf.layers.batch_normalization(x, training=is_training), reuse=reuse, scope=scope)
        return slim.layer_norm(x, scope="other")
        """)
    assert two.text is None and two.skipped[1] == model_code_layer_norm.REUSE_REFUSED


def test_arguments_without_a_faithful_keras_form_are_refused() -> None:
    collections = upgraded("return slim.layer_norm(tf.layers.batch_normalization(x, training=is_training), "
                           "variables_collections=['norms'])")
    assert collections.text is None and "`variables_collections` has no Keras equivalent" in collections.skipped[1]
    tensor = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        return slim.layer_norm(x, begin_norm_axis=tf.shape(x)[0])
        """)
    assert tensor.text is None and "begin_norm_axis" in tensor.skipped[1]


def test_an_activation_parameter_called_like_the_layers_activation() -> None:
    # MAML's normalize: the activation goes to its batch norm, or is applied alone.
    result = upgraded("""\
        if scope == "unit":
            return slim.batch_norm(x, activation_fn=activation, reuse=reuse, scope=scope)
        if activation is not None:
            return activation(x)
        return x
        """)
    assert result.skipped is None, result.skipped
    call = _call(result.text)
    assert "return activation(x)" in call
    # contrib applies activation_fn only when it is not None: so does the Keras model.
    assert "return activation(self.scoped(x, scope, training=self.training_step)) if activation is not None " \
        "else self.scoped(x, scope, training=self.training_step)" in call


def test_a_literal_activation_is_called_as_it_was() -> None:
    result = upgraded("return slim.layer_norm(tf.layers.batch_normalization(x, training=is_training), "
                      "activation_fn=tf.nn.relu)")
    assert result.skipped is None, result.skipped
    assert "is not None" not in _call(result.text) and "return tf.nn.relu(self.scoped(" in _call(result.text)


def test_a_parameter_called_otherwise_is_still_refused() -> None:
    result = upgraded("""\
        x = slim.batch_norm(x, scope=scope)
        return activation(x)
        """)
    assert result.text is None and "`activation` builds part of the model" in result.skipped[1]


@oracle.needs_tf
def test_the_table_holds_tf_slims_defaults_and_epsilon() -> None:
    from tf_slim.layers import layers

    function = inspect.unwrap(layers.layer_norm)
    signature = inspect.signature(function)
    spec = keras_mapping.LAYER_NORMS["tensorflow.contrib.layers.layer_norm"]
    assert tuple(signature.parameters) == spec.positions
    for argument, value in spec.defaults:
        assert repr(signature.parameters[argument].default) == value
    source = inspect.getsource(function)
    assert f"variance_epsilon = {spec.epsilon} if dtype != dtypes.float16 else {spec.float16_epsilon}" in source
    assert "'LayerNorm'" in source and spec.base_name == "LayerNorm"
    for weight, argument, initializer in spec.weights:
        assert f"'{weight}'" in source and f"if {argument}:" in source
        assert f"init_ops.{initializer}_initializer()" in source


@oracle.needs_tf
def test_the_checkpoint_stand_in_holds_beta_and_gamma_of_their_shape() -> None:
    import tensorflow as tf

    from migrate_bn import checkpoints

    values = {"beta": np.zeros((3, 4), np.float32), "gamma": np.ones((3, 4), np.float32)}
    layer = checkpoints._built_layer(tf, "LayerNormalization", values)
    assert tuple(layer.beta.shape) == (3, 4) and tuple(layer.gamma.shape) == (3, 4)
    only_gamma = checkpoints._built_layer(tf, "LayerNormalization", {"gamma": np.ones((5,), np.float32)})
    assert only_gamma.beta is None and tuple(only_gamma.gamma.shape) == (5,)
