"""`migrate-bn upgrade` on TF1 model code: the Keras models it writes, and what it refuses.

Golden: fixtures/model_code/<case>/tf1.py upgrades to exactly tf2.py. Refusals leave the
module as it was, with the line and the reason (a typed value: `Upgrade.skipped`). The
numeric proofs are in test_model_code_runtime.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn import tfapi
from migrate_bn.cli import main
from migrate_bn.upgrade import upgrade_source
from test_programs import upgraded_model  # conftest.py makes it importable

CASES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "model_code").glob("*/tf1.py"))


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_model_code_upgrades_to_the_expected_keras_model(case: Path) -> None:
    result = upgrade_source(case.read_text())
    assert result.skipped is None
    assert result.text == (case.parent / "tf2.py").read_text()
    assert result.name_map["models"] and not result.name_map["layers"]


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_upgraded_model_code_is_left_alone_by_a_second_run(case: Path) -> None:
    again = upgrade_source((case.parent / "tf2.py").read_text())
    assert again.text is None and again.skipped is None


MODEL = '''\
import tensorflow.compat.v1 as tf


def model(x, is_training, width=4):
{body}
'''


def upgraded(body: str):
    return upgraded_model(MODEL, body)


def test_layers_are_built_once_in_init_and_applied_in_call() -> None:
    result = upgraded("""\
        with tf.variable_scope("net"):
            for index in range(2):
                x = tf.layers.dense(x, width)
                x = tf.layers.batch_normalization(x, training=is_training)
        return tf.nn.relu(x)
        """)
    text = result.text
    init, call = text.split("def call(self, x, training=False):")
    assert "self.add_scoped(self.unique_scope(scopes, 'net/', 'dense'), tf.keras.layers.Dense(units=width))" in init
    assert "self.scoped(x, self.unique_scope(scopes, 'net/', 'batch_normalization'), training=is_training)" in call
    assert "is_training = training" in call and "tf.keras.layers" not in call


@pytest.mark.parametrize("body, reason", [
    ("if is_training:\n    x = tf.layers.batch_normalization(x, training=is_training)\nreturn x",
     "layers built in a branch on the training flag"),
    ("for row in x:\n    x = tf.layers.dense(x, 2)\nreturn x", "a loop over a tensor"),
    ("x = helper(tf.layers.dense(x, 2))\nreturn x", "`helper` builds part of the model"),
    ("x = tf.layers.batch_normalization(x, training=is_training)\nreturn model(x, is_training)",
     "a model function that calls itself"),
    ("x = tf.layers.dense(x, x.shape[-1])\nreturn x", "computed from a tensor"),
    ("x = tf.layers.batch_normalization(x, training=is_training, fused=fast)\nreturn x", "which kernel"),
    ("x = tf.layers.dense(x, 2)\ntf.summary.histogram('x', x)\nreturn x", "does not follow"),
    ("x = tf.contrib.layers.batch_norm(x, is_training=is_training, zero_debias_moving_mean=debias)\nreturn x",
     "a `zero_debias_moving_mean` that is not a literal"),
    ("with tf.device('/cpu:0'):\n"
     "    x = tf.contrib.slim.conv2d(x, 2, 3)\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "a `with` other than"),
    ("with tf.contrib.slim.arg_scope([tf.contrib.slim.conv2d], trainable=not is_training):\n"
     "    x = tf.contrib.slim.conv2d(x, 2, 3)\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "the training flag set as `trainable` by an arg_scope"),
    ("with tf.contrib.slim.arg_scope(scope_from_elsewhere()):\n"
     "    x = tf.contrib.slim.conv2d(x, 2, 3)\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "an arg_scope whose settings cannot be read"),
    ("x = tf.layers.dense(x, 2)\nx = tf.layers.dropout(x, training=width > 2)\n"
     "return tf.layers.batch_normalization(x, training=is_training)",
     "a dropout training argument other than"),
    ("gamma = tf.zeros_initializer()\ngamma = tf.contrib.layers.variance_scaling_initializer()\n"
     "return tf.layers.batch_normalization(x, training=is_training, gamma_initializer=gamma)",
     "no checked"),
    ("x = tf.contrib.slim.conv2d(x, 2, 3, normalizer_fn=tf.contrib.layers.layer_norm)\n"
     "return tf.layers.batch_normalization(x, training=is_training)", "a normalizer_fn other than"),
    ("x = tf.contrib.slim.conv2d(x, 2, 3, padding=mode)\nreturn tf.layers.batch_normalization(x, training=is_training)",
     "not a literal string or configuration of the model"),
])
def test_what_cannot_be_converted_is_left_with_a_reason(body: str, reason: str) -> None:
    result = upgraded(body)
    assert result.text is None and result.skipped is not None
    assert reason in result.skipped[1], result.skipped


def test_slim_layers_write_out_slims_defaults_and_their_normalizer() -> None:
    result = upgraded("""\
        x = tf.contrib.slim.conv2d(x, 4, 3, normalizer_fn=tf.contrib.slim.batch_norm,
                                   normalizer_params={"is_training": is_training, "decay": 0.9})
        return tf.contrib.slim.fully_connected(x, 2, activation_fn=None, scope="logits")
        """)
    text = result.text
    assert ("self.add_normalized(self.unique_scope(scopes, '', 'Conv'), tf.keras.layers.Conv2D(padding='same', "
            "filters=4, kernel_size=3, use_bias=False), 'BatchNorm', FusedBatchNormalization(fused_ranks=(2, 4, 5), "
            "momentum=0.9, scale=False))") in text
    assert ("x = tf.nn.relu(self.scoped_normalized(x, self.unique_scope(scopes, '', 'Conv'), 'BatchNorm', "
            "training=is_training))") in text
    assert "self.add_scoped('logits', tf.keras.layers.Dense(units=2))" in text


def test_an_estimator_mode_comparison_is_the_training_flag() -> None:
    text = MODEL.replace("is_training, width=4", "mode, width=4").format(body="""\
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    x = tf.layers.batch_normalization(x, training=is_training)
    return tf.layers.batch_normalization(x, training=mode == tf.estimator.ModeKeys.TRAIN, name="last")""")
    result = upgrade_source(text)
    call = result.text.split("def call(self, x, training=False):")[1]
    assert "is_training = training" in call and "training=training)" in call and "mode" not in call
    used = text.replace("return tf.layers", "tf.logging.info(mode)\n    return tf.layers")
    assert "`mode` used for more than" in upgrade_source(used).skipped[1]


HELPERS = """\
import tensorflow.compat.v1 as tf


def unit(inputs, training, width=2, name=None):
    return tf.layers.batch_normalization(tf.layers.dense(inputs, width), training=training)


def tower(x, is_training, units=2):
    for index in range(units):
        x = unit(x, is_training, width=index + 1)
    return x
"""


def test_helper_model_functions_become_methods_of_the_model_that_calls_them() -> None:
    text = HELPERS
    result = upgrade_source(text)
    assert result.skipped is None, result.skipped
    assert "def unit(" not in result.text and "class Unit" not in result.text
    assert "self.build_unit(scopes, '', width=index + 1)" in result.text
    assert "x = self.apply_unit(scopes, '', inputs=x, training=is_training, width=index + 1)" in result.text
    assert "def apply_unit(self, scopes, prefix, inputs, training, width=2, name=None):" in result.text
    # The flag handed to a helper that takes it as something else cannot be built in __init__.
    wrong = text.replace("x = unit(x, is_training, width=index + 1)",
                         "x = unit(x, False, width=index + 1, name=is_training)")
    wrong = wrong.replace("    for index", "    x = tf.layers.batch_normalization(x, training=is_training)\n    for index")
    assert "the training flag passed to `unit`" in upgrade_source(wrong).skipped[1]


def test_tensor_functions_of_the_module_are_kept_and_called() -> None:
    text = MODEL.format(body="    return leaky(tf.layers.batch_normalization(x, training=is_training))") + \
        "\n\ndef leaky(x):\n    return tf.maximum(0.1 * x, x)\n"
    result = upgrade_source(text)
    assert "def leaky(x):\n    return tf.maximum(0.1 * x, x)" in result.text
    assert "return leaky(self.scoped(x, self.unique_scope(scopes, '', 'batch_normalization'), " \
           "training=is_training))" in result.text
    kept = text.replace("tf.maximum(0.1 * x, x)", "tf.Print(x, [x])")
    assert "outside the model functions has no checked TF2 equivalent" in upgrade_source(kept).skipped[1]


def test_a_model_function_the_module_still_calls_from_tf1_code_is_refused() -> None:
    text = MODEL.format(body="    return tf.layers.dense(x, width)") + "\nlogits = model(tf.placeholder(tf.float32))\n"
    result = upgrade_source(text)
    assert result.text is None and "convert the model in a module of its own" in result.skipped[1]


def test_cli_writes_the_model_and_its_name_map(tmp_path: Path, monkeypatch) -> None:
    import json

    monkeypatch.chdir(tmp_path)
    Path("model.py").write_text(MODEL.format(body="    return tf.layers.batch_normalization(x, training=is_training)"))
    result = CliRunner().invoke(main, ["upgrade", "--name-map", "names.json", "model.py"])
    assert result.exit_code == 0, result.output
    assert "class Model(ScopedModel):" in Path("model.py").read_text()
    assert json.loads(Path("names.json").read_text())["models"] == [{"object": "model", "class": "Model",
                                                                      "tf1_scope": ""}]


OFFERED = MODEL.format(body="    return tf.layers.batch_normalization(tf.layers.dense(x, width), training=is_training)") + '''

inputs = tf.placeholder(tf.float32, [None, 4])
flag = tf.placeholder_with_default(False, ())
loss = tf.reduce_mean(model(inputs, flag))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    first = tf.train.AdamOptimizer(0.1).minimize(loss)
    second = tf.train.AdamOptimizer(0.2).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run([first, second], {inputs: [[1.0] * 4], flag: True})
'''


def test_the_model_is_offered_on_its_own_when_the_training_code_cannot_be_converted(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    result = upgrade_source(OFFERED)
    assert result.text is None and result.skipped is not None
    text, names = result.offer
    assert "class Model(ScopedModel):" in text and "tf.compat" not in text and "placeholder" not in text
    assert names["models"][0]["class"] == "Model"
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(OFFERED)
    dry = CliRunner().invoke(main, ["upgrade", "--dry-run", "train.py"])
    assert dry.exit_code == 1 and "+class Model(ScopedModel):" in dry.stdout
    assert f"train.py:{result.skipped[0]}: not upgraded: {result.skipped[1]}" in dry.stderr
    assert not Path("train_keras3.py").exists()
    written = CliRunner().invoke(main, ["upgrade", "train.py"])
    assert written.exit_code == 1 and "as Keras 3 models, on their own" in written.stderr
    assert Path("train_keras3.py").read_text() == text and Path("train.py").read_text() == OFFERED
    again = CliRunner().invoke(main, ["upgrade", "train.py"])  # never over an existing file
    assert "train_keras3.py exists" in again.stderr and Path("train_keras3.py").read_text() == text


def test_a_training_function_calling_the_model_is_not_model_code_and_the_model_is_offered() -> None:
    text = (Path(__file__).resolve().parent.parent / "examples" / "tf1_project" / "evaluate_wired.py").read_text()
    result = upgrade_source(text)
    assert result.text is None and "`model` is used by other code of the module" in result.skipped[1]
    offered, names = result.offer
    assert "class Model(ScopedModel):" in offered and "training_step" not in offered


def test_a_model_reading_names_of_its_module_is_offered_only_when_they_can_come_along() -> None:
    text = OFFERED.replace("tf.layers.dense(x, width)", "tf.layers.dense(x, WIDTH)")
    assert "WIDTH = 3\n" in upgrade_source("WIDTH = 3\n" + text).offer[0]  # a constant comes along
    assert upgrade_source("import sys\nWIDTH = int(sys.argv[1])\n" + text).offer is None


def test_a_zero_debiased_moving_mean_gets_the_exact_layer_with_tf1s_two_variables() -> None:
    body = """\
        x = tf.contrib.layers.batch_norm(x, is_training=is_training, zero_debias_moving_mean=True)
        return tf.contrib.layers.batch_norm(x, is_training=is_training, zero_debias_moving_mean=True, fused=False)
        """
    result = upgraded(body)
    assert "FusedBatchNormalization(fused_ranks=(2, 4), zero_debias_moving_mean=True, momentum=0.999, " \
           "scale=False)" in result.text
    # fused=False: TF1's unfused path, biased variance, still debiased.
    assert "FusedBatchNormalization(fused_ranks=(), zero_debias_moving_mean=True, momentum=0.999, " \
           "scale=False)" in result.text
    assert "self.moving_mean_biased = self.add_weight(" in result.text
    assert "self.moving_mean_local_step = self.add_weight(" in result.text
    # Modules without it keep the class as it was (and as modules converted before hold it).
    plain = upgraded("return tf.contrib.layers.batch_norm(x, is_training=is_training)").text
    assert "FusedBatchNormalization(fused_ranks=(2, 4, 5), momentum=0.999, scale=False)" in plain
    assert "zero_debias" not in plain and "def build(" not in plain
    # Stock Keras cannot debias: refused with the reason, the module left as it was.
    stock = upgraded_model(MODEL, body, stock_bn=True)
    assert stock.text is None and "stock Keras layers do not debias the moving mean" in stock.skipped[1]


def test_batch_renormalization_is_keras_3s_own_layer() -> None:
    result = upgraded("""\
        x = tf.layers.batch_normalization(x, training=is_training, renorm=True, renorm_momentum=0.9,
                                          renorm_clipping={"rmax": 2.0})
        return tf.contrib.layers.batch_norm(x, is_training=is_training, renorm=True, renorm_decay=0.8)
        """)
    assert "tf.keras.layers.BatchNormalization(renorm=True, renorm_clipping={'rmax': 2.0}, " \
           "renorm_momentum=0.9)" in result.text
    assert "tf.keras.layers.BatchNormalization(momentum=0.999, scale=False, renorm=True, " \
           "renorm_momentum=0.8)" in result.text
    assert "FusedBatchNormalization" not in result.text  # TF1 never fused renorm
    assert sum("needs Keras 3.14 or later" in note for _, note in result.notes) == 2


def test_stock_keras_layers_are_reported_per_layer_with_what_differs() -> None:
    text = MODEL.format(body=textwrap.indent(textwrap.dedent("""\
        x = tf.layers.batch_normalization(x, training=is_training)
        x = tf.layers.batch_normalization(x, training=is_training, fused=False)
        return tf.contrib.layers.batch_norm(x, is_training=is_training)
        """), "    "))
    result = upgrade_source(text, stock_bn=True)
    assert "FusedBatchNormalization" not in result.text
    notes = {}
    for line, note in result.notes:
        notes.setdefault(line, []).append(note)
    assert any("Keras 3 has no fused kernel" in note for note in notes[5])
    assert not any("fused" in note for note in notes.get(6, []))  # TF1 did not fuse it: nothing differs
    assert any("slim fused 2-D input too" in note for note in notes[7])


def test_checkpoint_names_of_the_converted_batch_norm_weights() -> None:
    from migrate_bn.checkpoints import layer_weight

    assert layer_weight("net/bn/moving_mean") == ("net/bn", "moving_mean")
    assert layer_weight("net/bn/renorm_stddev") == ("net/bn", "renorm_stddev")
    assert layer_weight("net/bn/net/bn/moving_mean/biased") == ("net/bn", "moving_mean_biased")
    assert layer_weight("BatchNorm/BatchNorm/moving_mean/local_step") == ("BatchNorm", "moving_mean_local_step")
    assert layer_weight("a/moving_mean/biased") is None and layer_weight("global_step") is None


def test_a_literal_true_flag_is_noted_with_what_the_layer_does() -> None:
    # The layer always in training mode says what it does, at the batch norm
    # (test_model_code_always.py has the layer); a flag parameter gets no such note.
    result = upgraded("    h = tf.layers.batch_normalization(x, training=True)\n    return h\n")
    assert result.text is not None
    assert [line for line, note in result.notes if note == tfapi.ALWAYS_TRAINING_NOTE] == [5]
    quiet = upgraded("    h = tf.layers.batch_normalization(x, training=is_training)\n    return h\n")
    assert not any(note == tfapi.ALWAYS_TRAINING_NOTE for _, note in quiet.notes)