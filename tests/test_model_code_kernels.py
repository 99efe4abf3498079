"""Which layers of a converted model are transposed convolutions, carried in the name map
for `ckpt-convert` (migrate_bn/model_code_kernels.py): a TF1 checkpoint holds both kinds of
kernel alike, and Keras 3 tracks them under different names. The numeric proof is the
`transposed_kernels` case of test_model_code_runtime.py (biasless transposed kernels with
as many outputs as inputs beside convolutions of the same shape)."""

from __future__ import annotations

import ast

import pytest

from migrate_bn.model_code_kernels import is_transposed, may_overlap, scope_patterns, transposed_scopes
from test_programs import upgraded_model  # conftest.py makes it importable


def patterns(expression: str):
    return scope_patterns(ast.parse(expression, mode="eval").body)


@pytest.mark.parametrize("expression, expected", [
    ("'decoder/up'", ["decoder/up"]),
    ("self.unique_scope(scopes, 'decoder/', 'Conv2d_transpose')", ["decoder/Conv2d_transpose",
                                                                    "decoder/Conv2d_transpose_#"]),
    ("'decoder/' + 'up%d' % i", ["decoder/up*"]),
    ("prefix + f'up{i}/x'", ["*up*/x"]),
    ("name + '/' + scope", ["*/*"]),
    ("'a#0'", None),  # a literal holding a sign of the patterns (no TF1 scope does)
])
def test_a_layer_scope_expression_becomes_the_patterns_of_the_scopes_it_can_name(expression, expected) -> None:
    assert patterns(expression) == expected


@pytest.mark.parametrize("first, second, overlap", [
    ("decoder/Conv_#", "decoder/Conv2d_transpose*", False),  # slim's Conv_1 is never a Conv2d_transpose
    ("decoder/Conv", "decoder/Conv2d_transpose_#", False),
    # tf.layers' names: conv2d_1 is never conv2d_transpose, in a helper's scope too.
    ("decoder/conv2d_#", "decoder/conv2d_transpose", False),
    ("*/conv2d_#", "*/conv2d_transpose_#", False),
    ("*/conv2d_#", "*/conv2d_*", True),
    ("*/conv2d_#", "*/conv2d_1", True),
    ("*_#", "up_2", True),
    ("decoder/conv2d*", "decoder/up*", False),
    ("*/up", "decoder/*", True),
    ("a*b", "ab*", True),
    ("up0", "up*", True),
    ("*", "decoder/up*", True),
])
def test_patterns_overlap_only_when_one_scope_can_match_both(first, second, overlap) -> None:
    assert may_overlap(first, second) is overlap and may_overlap(second, first) is overlap


def test_the_transposed_scopes_are_said_only_when_no_convolution_can_share_one() -> None:
    layers = [("Conv2DTranspose", ["d/up*"]), ("Conv2D", ["d/conv2d", "d/conv2d_#"]), ("Dense", ["*"])]
    assert transposed_scopes(layers) == ["d/up*"]
    assert is_transposed("d/up1", ["d/up*"]) and not is_transposed("d/conv2d_1", ["d/up*"])
    assert is_transposed("a/b/up_12", ["*/up_#"]) and not is_transposed("a/up_1x", ["*/up_#"])
    assert transposed_scopes(layers + [("Conv2D", ["*"])]) is None
    assert transposed_scopes(layers + [("Conv2D", None)]) is None
    assert transposed_scopes([("Conv2D", None)]) == []  # no transposed layer: nothing to tell apart


MODEL = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


def model(x, is_training, name="up"):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


def test_the_name_map_and_the_check_carry_the_transposed_scopes() -> None:
    result = upgraded("""\
        x = tf.layers.conv2d(x, 4, 3, use_bias=False)
        x = tf.layers.conv2d_transpose(x, 4, 3, use_bias=False, name="up%d" % 1)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert result.name_map["models"][0]["transposed"] == ["up*"]
    assert result.equivalence[0]["transposed"] == ["up*"]


def test_a_transposed_convolution_without_a_bias_is_refused_when_a_convolution_may_share_its_scope() -> None:
    result = upgraded("""\
        x = tf.layers.conv2d(x, 4, 3, use_bias=False, name=name + "_conv")
        x = tf.layers.conv2d_transpose(x, 4, 3, use_bias=False, name=name)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.text is None and "a transposed convolution without a bias" in result.skipped[1]
    # With a bias, ckpt-convert tells them apart by its shape, as before: no patterns then.
    result = upgraded("""\
        x = tf.layers.conv2d(x, 4, 3, name=name + "_conv")
        x = tf.layers.conv2d_transpose(x, 4, 3, name=name)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None and "transposed" not in result.name_map["models"][0]


def test_unnamed_tf_layers_convolutions_and_transposed_ones_are_told_apart() -> None:
    # conv2d, conv2d_1 against conv2d_transpose, conv2d_transpose_1: TF1's numbers are digits.
    result = upgraded("""\
        for _ in range(2):
            x = tf.layers.conv2d(x, 4, 3, use_bias=False)
            x = tf.layers.conv2d_transpose(x, 4, 3, use_bias=False)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    assert result.name_map["models"][0]["transposed"] == ["conv2d_transpose", "conv2d_transpose_#"]


def test_a_model_without_transposed_convolutions_keeps_its_name_map() -> None:
    result = upgraded("""\
        return tf.layers.batch_normalization(tf.layers.conv2d(x, 4, 3), training=is_training)
        """)
    assert result.name_map["models"][0] == {"object": "model", "class": "Model", "tf1_scope": ""}
