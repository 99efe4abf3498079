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
