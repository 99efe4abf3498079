"""Batch norm shared through `reuse` in model code (model_code_shared_bn): a `tf.cond` on the
training flag between a training and an inference batch norm of one scope is one Keras
layer called with `training=<the predicate>`; an arg_scope's settings of batch norm are
merged into the call as slim merges them; every other shape is refused with its reason.
The numeric proof is the `cond_pair_bn` case of tests/test_model_code_runtime.py.
"""

from __future__ import annotations


import pytest

from migrate_bn import model_code_shared_bn
from migrate_bn.upgrade import upgrade_source
from test_programs import upgraded_model  # conftest.py makes it importable

MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training, width=4):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


def test_a_cond_pair_of_batch_norms_is_one_layer_called_with_the_predicate_as_training() -> None:
    result = upgraded("""\
        x = tf.layers.dense(x, width, name="dense")
        return tf.cond(is_training,
                       lambda: slim.batch_norm(x, decay=0.9, scale=True, is_training=True, scope="bn"),
                       lambda: slim.batch_norm(x, decay=0.9, scale=True, is_training=False, scope="bn", reuse=True))
        """)
    assert result.skipped is None, result.skipped
    init, call = result.text.split("def call(self, x, training=False):")
    assert init.count("self.add_scoped('bn',") == 1
    assert "FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.9, scale=True)" in init
    assert "return self.scoped(x, 'bn', training=is_training)" in call
    assert "tf.cond" not in call and "is_training = training" in call
    # No note that the batch norm always trains: it trains in the branch taken for training only.
    assert not any("always" in note for _, note in result.notes)


def test_the_pair_under_an_arg_scope_takes_its_settings_and_a_tensor_flag_in_both_calls() -> None:
    result = upgraded("""\
        with slim.arg_scope([slim.batch_norm], scope="bn", updates_collections=None, decay=0.8,
                            zero_debias_moving_mean=True):
            return tf.cond(is_training,
                           true_fn=lambda: slim.batch_norm(x, is_training=is_training, reuse=None),
                           false_fn=lambda: slim.batch_norm(x, is_training=is_training, reuse=True))
        """)
    assert result.skipped is None, result.skipped
    assert "self.add_scoped('bn', FusedBatchNormalization(fused_ranks=(2, 4), zero_debias_moving_mean=True, " \
           "momentum=0.8" in result.text
    assert "return self.scoped(x, 'bn', training=is_training)" in result.text


def test_an_arg_scope_sets_a_direct_batch_norms_arguments_as_slim_merges_them() -> None:
    result = upgraded("""\
        with slim.arg_scope([slim.batch_norm], decay=0.9, scale=True, epsilon=1e-5):
            with slim.arg_scope([slim.batch_norm], decay=0.99):
                return slim.batch_norm(x, is_training=is_training, epsilon=1e-4, scope="bn")
        """)
    assert result.skipped is None, result.skipped
    # The innermost scope's decay, the call's own epsilon, the outer scope's scale.
    assert "FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.99, scale=True, epsilon=0.0001)" in result.text


PAIR = """\
return tf.cond({pred},
               lambda: slim.batch_norm({input}, decay={decay}, is_training={first}, {scope}reuse={reuse}),
               lambda: slim.batch_norm(x, decay=0.9, is_training={second}, {scope}reuse=True))
"""


def pair(pred="is_training", input="x", decay="0.9", first="True", second="False", scope='scope="bn", ',
         reuse="None") -> str:
    return PAIR.format(pred=pred, input=input, decay=decay, first=first, second=second, scope=scope, reuse=reuse)


@pytest.mark.parametrize("body, reason", [
    (pair(decay="0.99"), "two batch norms that differ in `decay`"),
    (pair(first="False", second="True"), "is not the training batch norm"),
    (pair(first="width > 2"), "neither a literal nor the cond's predicate"),
    (pair(scope=""), "without a `scope`"),
    (pair(pred="width > 2"), "on something other than the model's training flag"),
    (pair(reuse="True"), "whose first branch does not create the variables"),
    (pair(input="tf.identity(x)"),  # the other branch's input is `x`: two inputs
     "differ in `inputs`"),
    ("return tf.cond(is_training, lambda: slim.batch_norm(tf.identity(x), is_training=True, scope='bn'),\n"
     "               lambda: slim.batch_norm(tf.identity(x), is_training=False, scope='bn', reuse=True))",
     "whose input is computed in each branch"),
    ("train = slim.batch_norm(x, is_training=True, updates_collections=None, scope='bn')\n"
     "infer = slim.batch_norm(x, is_training=False, updates_collections=None, scope='bn', reuse=True)\n"
     "return tf.cond(tf.cast(is_training, tf.bool), lambda: train, lambda: infer)",
     model_code_shared_bn.BUILT_BEFORE_COND_INPLACE),
    ("train = slim.batch_norm(x, is_training=True, scope='bn')\n"
     "infer = slim.batch_norm(x, is_training=False, scope='bn', reuse=True)\n"
     "return tf.cond(is_training, lambda: train, lambda: infer)",
     model_code_shared_bn.BUILT_BEFORE_COND),
    ("return slim.batch_norm(x, is_training=is_training, scope='bn', reuse=width > 2)",
     model_code_shared_bn.REUSE_REFUSED),
    ("with slim.arg_scope([slim.batch_norm], trainable=not is_training):\n"
     "    return slim.batch_norm(x, is_training=is_training)",
     "the training flag set as `trainable` by an arg_scope"),
])
def test_what_is_not_one_layer_is_left_with_a_reason(body: str, reason: str) -> None:
    result = upgraded(body)
    assert result.text is None and result.skipped is not None
    assert reason in result.skipped[1], result.skipped


def test_reuse_given_as_configuration_to_the_functions_only_batch_norm_is_dropped() -> None:
    # MAML's `normalize(inp, activation, reuse, scope)`: whether this call creates the scope's
    # variables or shares an earlier call's; the Keras model owns its one layer either way.
    text = '''\
import tensorflow.compat.v1 as tf


def normalize(inp, activation, reuse, scope):
    return tf.contrib.layers.batch_norm(inp, activation_fn=activation, reuse=reuse, scope=scope)
'''
    result = upgrade_source(text)
    assert result.skipped is None, result.skipped
    assert "def __init__(self, activation, reuse, scope, **kwargs):" in result.text
    # contrib's default is_training=True with update ops: always in training mode (model_code_always).
    assert "return activation(self.scoped(inp, scope, training=self.training_step))" in result.text
    # With a second batch norm in the function, one layer could stand for two: refused.
    second = text.replace("    return tf", "    inp = tf.contrib.layers.batch_norm(inp, scope='first')\n    return tf")
    assert model_code_shared_bn.REUSE_REFUSED in upgrade_source(second).skipped[1]


def test_a_matmul_on_a_weight_passed_in_is_refused_and_the_batch_norm_helper_offered_alone() -> None:
    # hwalsuklee's MNIST MLP: `tf.matmul(x, weights['h1'])` on dicts of module variables the
    # Keras model would not own; its cond-pair batch norm helper is still a model of its own.
    text = '''\
import tensorflow.compat.v1 as tf
from tensorflow.contrib.layers.python.layers import batch_norm

weights = {'h1': tf.Variable(tf.zeros([4, 4]))}


def bn_layer(inputs, is_training=True, scope=None):
    return tf.cond(is_training,
                   lambda: batch_norm(inputs, is_training=True, decay=0.9, scope=scope),
                   lambda: batch_norm(inputs, is_training=False, decay=0.9, scope=scope, reuse=True))


def mlp(x, weights, is_training):
    return bn_layer(tf.matmul(x, weights['h1']), is_training=is_training, scope='bn')
'''
    result = upgrade_source(text)
    assert result.text is None and "`tf.matmul` on `weights['h1']`, a weight passed in" in result.skipped[1]
    assert result.offer is not None and "class BnLayer(ScopedModel):" in result.offer[0]
    assert [model["function"] for model in result.equivalence] == ["bn_layer"]
