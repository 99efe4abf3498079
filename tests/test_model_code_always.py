"""Batch norm always in training mode in model code (migrate_bn/model_code_always.py).

A literal `training=True` (or slim's default `is_training=True`) with the updates in
UPDATE_OPS becomes the exact class with `always_training=True`, called with the model's
`training` (`self.training_step`, set by `call`); in-place updates keep `training=True`;
what no layer computes is refused with its reason. The numbers are proven by the
`always_training` case of test_model_code_runtime.py.
"""

from __future__ import annotations

import ast

from migrate_bn import exact_bn, tfapi
from migrate_bn.upgrade import upgrade_source
from test_programs import upgraded_model  # conftest.py makes it importable

SLIM_MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, width=4):
{body}
'''


def upgraded(body: str, stock_bn: bool = False):
    return upgraded_model(SLIM_MODEL, body, stock_bn=stock_bn)


def test_a_literal_true_flag_becomes_the_layer_always_in_training_mode() -> None:
    result = upgraded("""\
        x = tf.layers.batch_normalization(x, training=True, name="bn")
        return x
        """)
    assert result.skipped is None and result.text is not None
    init, call = result.text.split("def call(self, x, training=False):")
    assert "self.add_scoped('bn', FusedBatchNormalization(fused_ranks=(4, 5), always_training=True))" in init
    # The model's `training`, kept for the helpers too (Keras's own hand-down of `training`
    # would give it the literal True of a layer called before it).
    assert call.startswith("\n        self.training_step = training  #")
    assert "x = self.scoped(x, 'bn', training=self.training_step)\n" in call
    assert "def __init__(self, fused_ranks=(4, 5), always_training=False, **kwargs):" in init
    assert [line for line, note in result.notes if note == tfapi.ALWAYS_TRAINING_NOTE] == [6]


def test_slims_default_flag_is_always_training_and_so_is_a_normalizer() -> None:
    result = upgraded("""\
        x = slim.batch_norm(x, decay=0.9, scope="bn")
        x = slim.fully_connected(x, width, normalizer_fn=slim.batch_norm, normalizer_params={"decay": 0.9})
        return x
        """)
    assert result.skipped is None and result.text is not None
    assert "FusedBatchNormalization(fused_ranks=(2, 4, 5), always_training=True, momentum=0.9, scale=False)" \
        in result.text
    assert "self.scoped_normalized(x, self.unique_scope(scopes, '', 'fully_connected'), 'BatchNorm', " \
           "training=self.training_step)" in result.text
    assert len([note for _, note in result.notes if note == tfapi.ALWAYS_TRAINING_NOTE]) == 2


def test_in_place_updates_keep_keras_training_true_and_a_flag_parameter_is_the_flag() -> None:
    # TF1 updated in place at every run, as Keras does when called with training=True.
    result = upgraded("""\
        x = slim.batch_norm(x, updates_collections=None, scope="bn")
        return x
        """)
    assert result.text is not None and "always_training" not in result.text
    assert "self.scoped(x, 'bn', training=True)" in result.text
    assert not any(note == tfapi.ALWAYS_TRAINING_NOTE for _, note in result.notes)
    flagged = upgrade_source(SLIM_MODEL.replace("def model(x, width=4):", "def model(x, is_training):").format(
        body="    return slim.batch_norm(x, is_training=is_training, scope='bn')"))
    assert flagged.text is not None and "always_training" not in flagged.text


def test_what_no_layer_computes_is_refused_with_the_reason() -> None:
    body = "x = tf.layers.batch_normalization(x, training=True)\nreturn x\n"
    stock = upgraded(body, stock_bn=True)
    assert stock.text is None
    assert tfapi.MODEL_CODE_STOCK_BN_REFUSED["always_training"] in stock.skipped[1]
    frozen = upgraded("x = tf.layers.batch_normalization(x, training=True, trainable=False)\nreturn x\n")
    assert frozen.text is None and "not trainable" in frozen.skipped[1]


def test_the_class_takes_always_training_only_where_a_module_needs_it() -> None:
    # Modules converted before keep their class byte for byte (a second run changes nothing).
    plain = exact_bn.class_source("F", "tf")
    assert exact_bn.ALWAYS_TRAINING not in plain
    for zero_debias in (False, True):
        text = exact_bn.class_source("F", "tf", zero_debias, always_training=True)
        ast.parse(text)
        assert "always_training=False" in text and '"always_training": self.always_training' in text
        assert text.replace(exact_bn._ALWAYS_DOC, "").replace(exact_bn._ALWAYS_CALL.format(tf="tf"), "") \
            .replace(", always_training=False", "").replace("\n        self.always_training = always_training", "") \
            .replace(',\n                "always_training": self.always_training', "") == \
            exact_bn.class_source("F", "tf", zero_debias)


def test_a_layer_named_by_a_parameter_defaulting_to_none_is_scoped_as_tf1_scoped_it() -> None:
    # TF1: the given name, or without one the unnamed scope, counted per enclosing scope.
    text = upgrade_source(SLIM_MODEL.format(body="    return helper(helper(x, 'first'))") + '''

def helper(net, name=None):
    return tf.layers.batch_normalization(net, training=True, name=name)
''').text
    assert text is not None
    key = "prefix + name if name is not None else self.unique_scope(scopes, prefix, 'batch_normalization')"
    assert f"self.add_scoped({key}, " in text and f"self.scoped(net, {key}, training=self.training_step)" in text
    assert "self.training_step = training" in text  # the helper's layer is the model's
    assert "def build_helper(self, scopes, prefix, name=None):" in text


def test_an_in_place_batch_norm_whose_output_nothing_reads_is_built_and_never_updates() -> None:
    # TF1 never ran it (its update is a dependency of an output nothing computes): Keras
    # builds it, for its weights, and calls it in inference mode, which changes nothing.
    result = upgraded("""\
        unused = slim.batch_norm(x, updates_collections=None, scope="bn")
        kept = slim.batch_norm(x, updates_collections=None, scope="bn2")
        return kept
        """)
    assert result.text is not None
    assert "unused = self.scoped(x, 'bn', training=False)" in result.text
    assert "kept = self.scoped(x, 'bn2', training=True)" in result.text
    assert [line for line, note in result.notes if note == tfapi.NEVER_RUN_NOTE] == [6]
    # With its updates in UPDATE_OPS, the train step ran them: the layer always in training mode.
    collected = upgraded("unused = slim.batch_norm(x, scope='bn')\nreturn x\n")
    assert collected.text is not None and "unused = self.scoped(x, 'bn', training=self.training_step)" in collected.text
