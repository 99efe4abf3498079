"""`migrate-bn upgrade` on the shape of model functions: decorators and the statements
that build nothing (migrate_bn/model_code_decorators.py, model_code_statements.py).

The runtime proof is the `shape_statements` case of fixtures/model_code (run by
test_model_code_runtime.py); these tests say where each statement goes and what is
refused.
"""

from __future__ import annotations

import textwrap

import pytest

from migrate_bn import facts as facts_module
from migrate_bn.model_code_decorators import check
from migrate_bn.script import NotConvertible
from migrate_bn.source import parse
from migrate_bn.upgrade import upgrade_source

MODEL = '''\
import tensorflow.compat.v1 as tf


def model(x, is_training, width=4, unused=None):
{body}
'''


def upgraded(body: str):
    return upgrade_source(MODEL.format(body=textwrap.indent(textwrap.dedent(body), "    ")))


def parts(text: str) -> tuple[str, str]:
    init, call = text.split("def call(self, x, training=False):")
    return init, call


def test_configuration_statements_run_in_init_and_call() -> None:
    result = upgraded("""\
        del unused
        assert width > 0, "a positive width"
        if width > 64:
            raise ValueError("too wide: %d" % width)
        "a string as a comment"
        x = tf.layers.dense(x, width)
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    for statement in ("del unused", "assert width > 0, 'a positive width'",
                      "raise ValueError('too wide: %d' % width)"):
        assert statement in init and statement in call
    assert "a string as a comment" not in result.text


def test_tensor_statements_run_in_call_only() -> None:
    result = upgraded("""\
        x.set_shape([None, 8])
        y = tf.layers.dense(x, width)
        del x
        return tf.layers.batch_normalization(y, training=is_training)
        """)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert "set_shape" not in init and "x.set_shape([None, 8])" in call
    assert "del x" not in init and "del x" in call


def test_an_item_deleted_from_a_list_the_function_built() -> None:
    # Dice's way: the reduction axes from the input's static shape (call only), and a
    # configuration list (both), each losing an item by `del`.
    result = upgraded("""\
        axes = list(range(len(x.get_shape())))
        del axes[-1]
        widths = [width, width * 2]
        del widths[0]
        y = tf.layers.dense(x, widths[0])
        return tf.layers.batch_normalization(y, training=is_training) + tf.reduce_mean(x, axis=axes)
        """)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert "del axes[-1]" not in init and "del axes[-1]" in call
    assert "del widths[0]" in init and "del widths[0]" in call


@pytest.mark.parametrize("body", [
    "del unused[0]\nreturn tf.layers.batch_normalization(x, training=is_training)",  # a parameter's list
    "axes = [0, 1]\ndel axes[tf.rank(x) - 1]\nreturn tf.layers.batch_normalization(x, training=is_training)",
    "axes = [[0], [1]]\ndel axes[0][0]\nreturn tf.layers.batch_normalization(x, training=is_training)",
])
def test_other_item_deletions_are_refused(body: str) -> None:
    result = upgraded(body)
    assert result.text is None and result.skipped is not None
    assert "a statement a model function conversion does not follow" in result.skipped[1], result.skipped


@pytest.mark.parametrize("body, reason", [
    ("assert x.shape[-1] == 8\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "`assert` on a tensor"),
    ("if width > 1:\n    raise ValueError(x)\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "`raise` on a tensor"),
    ("x.set_shape(tf.shape(x))\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "`set_shape` given a value computed from a tensor"),
    ("y = tf.layers.dense(x, 2)\ndel x, width\nreturn tf.layers.batch_normalization(y, training=is_training)",
     "a `del` of tensors and configuration together"),
])
def test_statements_that_cannot_be_kept_faithfully_are_refused(body: str, reason: str) -> None:
    result = upgraded(body)
    assert result.text is None and result.skipped is not None
    assert reason in result.skipped[1], result.skipped


def test_a_list_of_tensors_keeps_its_length_in_init_where_scopes_read_it() -> None:
    result = upgraded("""\
        layers = []
        for index in range(width):
            with tf.variable_scope("block_%d" % (len(layers) + 1)):
                x = tf.layers.batch_normalization(tf.layers.dense(x, 2), training=is_training)
                layers.append(x)
        return tf.concat(layers, axis=1)
        """)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert "layers.append(None)" in init and "'block_%d' % (len(layers) + 1) + '/'" in init
    assert "layers.append(x)" in call and "tf.concat(layers, axis=1)" in call


def test_a_list_rebound_to_tensors_has_no_length_init_can_keep() -> None:
    result = upgraded("""\
        layers = []
        layers = [x]
        for index in range(width):
            with tf.variable_scope("block_%d" % len(layers)):
                x = tf.layers.batch_normalization(x, training=is_training)
                layers.append(x)
        return x
        """)
    assert result.text is None and "a variable scope named by a tensor" in result.skipped[1]


def test_end_point_dicts_are_kept_in_call() -> None:
    result = upgraded("""\
        end_points = {}
        x = tf.layers.batch_normalization(x, training=is_training)
        end_points.update({"bn": x})
        end_points["relu"] = tf.nn.relu(x)
        return x, end_points
        """)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert "end_points.update({'bn': x})" in call and "update" not in init
    assert "return (x, end_points)" in call


SLIM = '''\
import tensorflow.compat.v1 as tf
import tf_slim as slim


{decorator}
def unit(inputs, is_training, outputs_collections=None, scope="unit"):
    del outputs_collections
    return slim.batch_norm(inputs, is_training=is_training, scope=scope)


def net(images, is_training):
{body}
'''


def slim_module(decorator: str = "@slim.add_arg_scope", body: str = "return unit(images, is_training)") -> str:
    return SLIM.format(decorator=decorator, body=textwrap.indent(body, "    "))


def test_an_add_arg_scope_function_no_arg_scope_names_is_converted_without_its_decorator() -> None:
    result = upgrade_source(slim_module())
    assert result.skipped is None, result.skipped
    assert "add_arg_scope" not in result.text and "def build_unit(" in result.text
    assert "import tf_slim" not in result.text


def test_contribs_add_arg_scope_spellings_are_the_same_decorator() -> None:
    text = slim_module("@add_arg_scope").replace(
        "import tf_slim as slim\n",
        "import tensorflow.contrib.slim as slim\nfrom tensorflow.contrib.framework import add_arg_scope\n")
    result = upgrade_source(text)
    assert result.skipped is None, result.skipped
    assert "add_arg_scope" not in result.text


@pytest.mark.parametrize("decorator", ["@staticmethod", "@functools.lru_cache()"])
def test_any_other_decorator_is_refused(decorator: str) -> None:
    result = upgrade_source("import functools\n" + slim_module(decorator))
    assert result.text is None and "a decorated model function" in result.skipped[1]


def test_an_arg_scope_giving_the_function_arguments_is_refused() -> None:
    text = slim_module(body="with slim.arg_scope([unit], is_training=True):\n    return unit(images, is_training)")
    result = upgrade_source(text)
    assert result.text is None
    # The conversion reads an arg_scope opened in a model function (model_code_slim_scopes),
    # and refuses one that gives a function its training flag.
    assert "an arg_scope gives `unit` its training flag `is_training`" in result.skipped[1]


def facts_of(text: str) -> facts_module.ModuleFacts:
    return facts_module.build(parse(text), text)


def test_an_arg_scope_giving_only_end_point_collections_changes_nothing_the_function_computes() -> None:
    text = slim_module(body="with slim.arg_scope([unit], outputs_collections='ends'):\n"
                            "    return unit(images, is_training)")
    facts = facts_of(text)
    unit = next(node for node in facts.tree.body if getattr(node, "name", "") == "unit")
    check(facts, unit)  # no refusal
    # Another argument, in an arg_scope a model function opens: the conversion passes it at
    # the calls it covers (model_code_slim_scopes), so the function itself is not refused.
    text = text.replace("outputs_collections='ends'", "outputs_collections='ends', scope='other'")
    facts = facts_of(text)
    unit = next(node for node in facts.tree.body if getattr(node, "name", "") == "unit")
    check(facts, unit)
    assert "self.build_unit(scopes, '', outputs_collections='ends', scope='other')" in upgrade_source(text).text


def test_a_loop_over_the_inputs_is_refused_with_why() -> None:
    result = upgraded("""\
        outputs = []
        for item in x:
            outputs.append(tf.layers.batch_normalization(item, training=is_training))
        return outputs
        """)
    assert result.text is None and "a list of input tensors (`x`)" in result.skipped[1]


NESTED = '''\
import tensorflow.compat.v1 as tf


def model(x, is_training, width=4):
    def block(inputs, filters, training):
        net = tf.layers.dense(inputs, filters)
        return tf.layers.batch_normalization(net, training=training)

    def double(t):
        return t * 2.0

    x = block(x, width, is_training)
    with tf.variable_scope("second"):
        x = block(x, width, is_training)
    return double(x)
'''


def test_functions_defined_in_a_model_function_become_helpers_or_stay_tensor_code() -> None:
    result = upgrade_source(NESTED)
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert "def __init__(self, width=4, **kwargs):" in init  # the flag passed to `block` is the model's
    assert "self.build_block(scopes, 'second/', filters=width)" in init
    assert "x = self.apply_block(scopes, 'second/', inputs=x, filters=width, training=is_training)" in call
    assert "def double(t):" in call and "return double(x)" in call
    assert "def block(" not in result.text


def test_a_function_defined_in_a_model_function_that_reads_its_names_is_refused() -> None:
    result = upgrade_source(NESTED.replace("return t * 2.0", "return t * width"))
    assert result.text is None and "reads its names (width)" in result.skipped[1]
    result = upgrade_source(NESTED.replace("net = tf.layers.dense(inputs, filters)",
                                           "net = tf.layers.dense(inputs, width)"))
    assert result.text is None and "reads its names (width)" in result.skipped[1]


def test_growing_a_list_the_function_did_not_create_is_refused() -> None:
    text = MODEL.replace("unused=None", "collected=None").format(body=textwrap.indent(textwrap.dedent("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        collected.append(x)
        return x
        """), "    "))
    result = upgrade_source(text)
    assert result.text is None and "`collected` grows a list or dict the model function did not create" in \
        result.skipped[1]


def test_a_nested_function_sharing_state_with_nonlocal_is_a_closure() -> None:
    result = upgrade_source(NESTED.replace("    def double(t):\n        return t * 2.0",
                                           "    count = 0\n\n    def double(t):\n        nonlocal count\n"
                                           "        count += 1\n        return t * 2.0"))
    assert result.text is None and "reads its names (count)" in result.skipped[1]


def test_a_nested_function_calling_a_helper_of_the_module_is_a_helper_too() -> None:
    text = NESTED.replace("def model(x, is_training, width=4):\n    def block(inputs, filters, training):\n"
                          "        net = tf.layers.dense(inputs, filters)\n"
                          "        return tf.layers.batch_normalization(net, training=training)\n",
                          "def bn(inputs, training):\n    return tf.layers.batch_normalization(inputs, training=training)\n"
                          "\n\ndef model(x, is_training, width=4):\n    def block(inputs, filters, training):\n"
                          "        net = tf.layers.dense(inputs, filters)\n        return bn(net, training)\n")
    result = upgrade_source(text)
    assert result.skipped is None, result.skipped
    assert "def build_block(" in result.text and "def apply_bn(" in result.text and "def bn(" not in result.text


def test_a_layer_built_in_a_helpers_argument_is_applied_before_the_helper() -> None:
    result = upgrade_source(NESTED.replace("        net = tf.layers.dense(inputs, filters)\n"
                                           "        return tf.layers.batch_normalization(net, training=training)",
                                           "        return tf.layers.batch_normalization(inputs, training=training)")
                            .replace("x = block(x, width, is_training)\n    with",
                                     "x = block(tf.layers.dense(x, width), width, is_training)\n    with"))
    assert result.skipped is None, result.skipped
    init, call = parts(result.text)
    assert init.index("'dense'), tf.keras.layers.Dense(units=width))") < init.index("self.build_block(scopes, ''")
    assert "self.apply_block(scopes, '', inputs=self.scoped(x, self.unique_scope(scopes, '', 'dense'))" in call


def test_an_arg_scope_whose_op_list_cannot_be_read_may_name_the_function() -> None:
    text = slim_module(body="ops = [unit]\nwith slim.arg_scope(ops, is_training=True):\n"
                            "    return unit(images, is_training)")
    facts = facts_of(text)
    unit = next(node for node in facts.tree.body if getattr(node, "name", "") == "unit")
    with pytest.raises(NotConvertible, match=r"arguments \(is_training\)"):
        check(facts, unit)


def test_a_layer_argument_read_from_a_static_shape_is_refused_saying_so() -> None:
    text = MODEL.format(body=textwrap.indent(textwrap.dedent("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        return tf.layers.dense(x, _int_shape(x)[-1] * 2)
        """), "    ")) + "\n\ndef _int_shape(tensor):\n    return tensor.get_shape().as_list()\n"
    result = upgrade_source(text)
    assert result.text is None and "a Python int read from a tensor's static shape" in result.skipped[1]
    result = upgraded("x = tf.layers.batch_normalization(x, training=is_training)\n"
                      "return tf.layers.dense(x, tf.shape(x)[-1])")
    assert result.text is None and "static shape" not in result.skipped[1]  # tf.shape is a tensor
