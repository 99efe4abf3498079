"""Model code as real projects wrote it (issue 15, the real-code survey): the refusals
lifted where the conversion is faithful, each on a small module of our own, and the
equivalence check `upgrade` writes beside what it converts.

The numbers behind each lift: docs/tf2-mapping.md ("On real code").
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn import facts as facts_module
from migrate_bn.cli import main
from migrate_bn.equivalence import generate
from migrate_bn.keras_mapping import keras_initializer
from migrate_bn.source import parse
from migrate_bn.upgrade import upgrade_source

HEADER = "import tensorflow.compat.v1 as tf\nimport tf_slim as slim\n\n"


def converted_initializer(expression: str) -> tuple[str, list[str]]:
    text = HEADER + f"value = {expression}\n"
    facts = facts_module.build(parse(text), text)
    notes: list[str] = []
    return keras_initializer(facts, facts.tree.body[-1].value, notes), notes


@pytest.mark.parametrize("tf1, keras", [
    # Keras's own defaults differ (stddev 0.05, RandomUniform(-0.05, 0.05)): TF1's are written out.
    ("tf.truncated_normal_initializer(stddev=0.02)", "tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=0.02)"),
    ("tf.truncated_normal_initializer()", "tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=1.0)"),
    ("tf.random_normal_initializer(0, 0.02)", "tf.keras.initializers.RandomNormal(mean=0, stddev=0.02)"),
    ("tf.initializers.random_normal(stddev=0.01, seed=3)",
     "tf.keras.initializers.RandomNormal(mean=0.0, stddev=0.01, seed=3)"),
    ("tf.random_uniform_initializer(-1, maxval=None, dtype=tf.float32)",
     "tf.keras.initializers.RandomUniform(minval=-1, maxval=1.0)"),
    ("tf.variance_scaling_initializer()",
     "tf.keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', distribution='truncated_normal')"),
    # TF1's "normal" is its truncated normal; Keras 3 has no "normal".
    ("tf.variance_scaling_initializer(2.0, 'fan_out', 'normal')",
     "tf.keras.initializers.VarianceScaling(scale=2.0, mode='fan_out', distribution='truncated_normal')"),
    ("tf.glorot_uniform_initializer()", "tf.keras.initializers.GlorotUniform()"),
    ("tf.initializers.he_normal(seed=1)", "tf.keras.initializers.HeNormal(seed=1)"),
    ("tf.contrib.layers.xavier_initializer()", "tf.keras.initializers.GlorotUniform()"),
    ("slim.xavier_initializer(seed=2)", "tf.keras.initializers.GlorotUniform(seed=2)"),
    ("slim.variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True)",
     "tf.keras.initializers.VarianceScaling(scale=1.0, mode='fan_avg', distribution='uniform')"),
])
def test_tf1_initializers_become_keras_initializers_of_the_same_distribution(tf1: str, keras: str) -> None:
    assert converted_initializer(tf1) == (keras, [])


@pytest.mark.parametrize("tf1", [
    "slim.xavier_initializer(uniform=False)",  # contrib's truncated normal: stddev sqrt(1.3/n), not Keras's
    "tf.contrib.layers.variance_scaling_initializer()",  # the same, by default
    "tf.variance_scaling_initializer(mode=mode)",  # a mode the conversion cannot read
    "tf.truncated_normal_initializer(stddev=0.02, dtype=tf.float16)",  # Keras takes the layer's dtype
])
def test_initializers_without_a_faithful_keras_equivalent_are_refused(tf1: str) -> None:
    text, notes = converted_initializer(tf1)
    assert notes and "kept as written" in notes[0]


MODEL = HEADER + '''

def model(x, is_training, width=4):
{body}
'''


def upgraded(body: str):
    return upgrade_source(MODEL.format(body=textwrap.indent(textwrap.dedent(body), "    ")))


def test_a_layer_initializer_built_in_the_model_function_converts() -> None:
    result = upgraded("""\
        x = tf.layers.conv2d(x, width, 3, kernel_initializer=tf.truncated_normal_initializer(stddev=0.02))
        x = slim.fully_connected(slim.flatten(x), width, weights_initializer=tf.random_normal_initializer(0, 0.02),
                                 normalizer_fn=slim.batch_norm, normalizer_params={'is_training': is_training})
        return x
        """)
    assert result.skipped is None, result.skipped
    assert "kernel_initializer=tf.keras.initializers.TruncatedNormal(mean=0.0, stddev=0.02)" in result.text
    assert "kernel_initializer=tf.keras.initializers.RandomNormal(mean=0, stddev=0.02)" in result.text
    assert "truncated_normal_initializer" not in result.text


def test_an_initializer_without_equivalent_still_refuses_the_model() -> None:
    result = upgraded("""\
        x = tf.layers.conv2d(x, width, 3, kernel_initializer=slim.xavier_initializer(uniform=False))
        return tf.layers.batch_normalization(x, training=is_training)
        """)
    assert result.text is None and "initializer" in result.skipped[1]


# --- the equivalence check generated with the conversion ------------------------------------

def test_the_check_has_one_case_per_model_with_a_guessed_input_and_arguments_to_fill_in() -> None:
    result = upgrade_source(MODEL.format(body="""\
    return tf.layers.batch_normalization(tf.layers.conv2d(x, width, 3, data_format='channels_first'), axis=1,
                                         training=is_training)


def head(x, classes, training):
    return tf.layers.batch_normalization(tf.layers.dense(x, classes), training=training)"""))
    assert result.skipped is None, result.skipped
    assert result.equivalence == [
        {"function": "model", "class": "Model", "flag": "is_training", "mode_flag": False, "kwargs": {},
         "input_shape": [generate.BATCH, 3, 16, 16], "seed": 0,
         "learning_rate": generate.LEARNING_RATE},
        {"function": "head", "class": "Head", "flag": "training", "mode_flag": False, "kwargs": {"classes": None},
         "input_shape": [generate.BATCH, 8], "seed": 0,
         "learning_rate": generate.LEARNING_RATE}]
    text = generate.check_source("model.py", "model.py", "TF1 = 'text'\n", result.equivalence)
    tree = ast.parse(text)
    values = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)}
    assert values == {"CONVERTED": "model.py", "CASES": result.equivalence, "TF1_SOURCE": "TF1 = 'text'\n"}


def test_upgrade_writes_the_check_beside_the_module_and_never_over_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = MODEL.format(body="    return tf.layers.batch_normalization(x, training=is_training)")
    Path("model.py").write_text(source)
    dry = CliRunner().invoke(main, ["upgrade", "--dry-run", "model.py"])
    assert "would write model_equivalence.py" in dry.stderr and not Path("model_equivalence.py").exists()
    written = CliRunner().invoke(main, ["upgrade", "model.py"])
    assert written.exit_code == 0, written.output
    check = Path("model_equivalence.py").read_text()
    assert f"TF1_SOURCE = {source!r}" in check and "CONVERTED = 'model.py'" in check
    Path("model.py").write_text(source)
    again = CliRunner().invoke(main, ["upgrade", "model.py"])
    assert "model_equivalence.py exists" in again.stderr and Path("model_equivalence.py").read_text() == check


SCRIPT = HEADER + '''import numpy as np


def model(x, is_training, width=4):
    return tf.layers.batch_normalization(tf.layers.dense(x, width), training=is_training)


inputs = tf.placeholder(tf.float32, [None, 4])
flag = tf.placeholder_with_default(False, ())
loss = tf.reduce_mean(model(inputs, flag))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    first = tf.train.AdamOptimizer(0.1).minimize(loss)
    second = tf.train.AdamOptimizer(0.2).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run([first, second], {inputs: np.ones((1, 4)), flag: True})
'''


def test_the_check_of_an_offered_model_runs_the_model_functions_not_the_training_script() -> None:
    result = upgrade_source(SCRIPT)
    assert result.offer is not None and result.equivalence[0]["class"] == "Model"
    assert result.equivalence_source == (
        "import tensorflow.compat.v1 as tf\n\n"
        "def model(x, is_training, width=4):\n"
        "    return tf.layers.batch_normalization(tf.layers.dense(x, width), training=is_training)\n")
