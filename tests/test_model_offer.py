"""Model functions offered on their own, function by function (issue 15: "whatever cannot be
converted is left with its reason, the model conversion still offered on its own";
migrate_bn/model_offer.py). On a training script of our own: a batch-norm bug of the
training code (BN001) no longer stops the offer, one model function that cannot be
converted no longer takes the others with it, and the module's constants and plain helper
functions the models read come with them (in the offered module and in the TF1 code the
equivalence check runs). The last test runs the generated check on the offered model
(TF1 under TF 2.12 against Keras 3 under the newest TF, as tests/test_model_code_runtime.py)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn import facts as facts_module, model_code
from migrate_bn.equivalence.check import run_case
from migrate_bn.source import parse
from migrate_bn.upgrade import upgrade_source

SCRIPT = '''\
import argparse

import tensorflow.compat.v1 as tf

parser = argparse.ArgumentParser()
parser.add_argument("--wide", action="store_true")
options = parser.parse_args([])

WIDTH = 6
HIDDEN = WIDTH * 2
SLOPE = 0.2
phase = tf.placeholder_with_default(False, ())


def leaky(x):
    return tf.maximum(SLOPE * x, x)


def encoder(x, is_training):
    with tf.variable_scope("encoder"):
        x = tf.layers.dense(x, HIDDEN)
        x = leaky(tf.layers.batch_normalization(x, training=is_training))
        return tf.layers.dense(x, WIDTH)


def configured(x, is_training):
    return tf.layers.batch_normalization(tf.layers.dense(x, 8 if options.wide else 4), training=is_training)


def phased(x):
    return tf.layers.batch_normalization(x, training=tf.logical_not(phase))


def both(x, is_training):
    return phased(encoder(x, is_training))


inputs = tf.placeholder(tf.float32, [None, 4])
loss = tf.reduce_mean(both(inputs, phase))
train = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train, {inputs: [[1.0] * 4], phase: True})
'''


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_bug_of_the_training_code_leaves_the_script_but_offers_its_models() -> None:
    result = upgrade_source(SCRIPT)
    assert result.text is None and result.skipped[0] == line_of(SCRIPT, "minimize(loss)")
    assert result.skipped[1].startswith("BN001 must be fixed first")
    assert result.offer is not None and [case["function"] for case in result.equivalence] == ["encoder"]


def test_a_model_function_holding_a_bug_is_left_out_with_the_bug() -> None:
    # BN003 at the batch norm of `encoder` itself: its model would carry the bug.
    text = SCRIPT.replace("tf.layers.batch_normalization(x, training=is_training)", "tf.layers.batch_normalization(x)")
    result = upgrade_source(text)
    assert result.skipped[1].startswith("BN00") and result.offer is None
    facts = facts_module.build(parse(text), text)
    line = line_of(text, "tf.layers.batch_normalization(x))")
    found = model_code.function_offer(facts, bugs=((line, "BN003 must be fixed first"),))
    assert found.conversion is None and (line, "BN003 must be fixed first") in {
        (function.line, function.reason) for function in found.refused if function.name == "encoder"}


def test_each_model_function_is_offered_or_left_out_with_its_own_reason() -> None:
    facts = facts_module.build(parse(SCRIPT), SCRIPT)
    text, conversion = model_code.offered_module(facts)
    assert [model.function.name for model in conversion.models] == ["encoder"]
    refused = {function.name: (function.line, function.reason) for function in conversion.refused}
    assert set(refused) == {"configured", "phased", "both"}
    assert refused["configured"][0] == line_of(SCRIPT, "8 if options.wide") and \
        refused["configured"][1].startswith("reads `options`, a name of its module that cannot come")
    assert refused["phased"] == (line_of(SCRIPT, "training=tf.logical_not(phase))"),
                                 "a training flag other than a parameter of the model function or a literal")
    # `both` builds through `phased`: without it, its layers would be missing.
    assert refused["both"][0] == line_of(SCRIPT, "return phased(") and \
        refused["both"][1].startswith(f"calls `phased`, which is not converted (line {refused['phased'][0]}: ")
    # `encoder` was a helper of `both`: now a model of its own.
    assert "class Encoder(ScopedModel):" in text and "def both" not in text


def test_the_constants_and_plain_helpers_the_models_read_come_along() -> None:
    result = upgrade_source(SCRIPT)
    offered, _ = result.offer
    tree = ast.parse(offered)
    top = [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Assign, ast.FunctionDef))]
    assert top == ["WIDTH = 6", "HIDDEN = WIDTH * 2", "SLOPE = 0.2",
                   "def leaky(x):\n    return tf.maximum(SLOPE * x, x)"]
    assert "placeholder" not in offered and "argparse" not in offered and "compat" not in offered
    # The check runs the TF1 function with the same definitions.
    source = result.equivalence_source
    assert "HIDDEN = WIDTH * 2" in source and "def leaky(x):" in source and "def encoder(" in source
    assert "def both(" not in source and "argparse" not in source and "phase =" not in source


def test_names_that_cannot_come_along_are_not_carried() -> None:
    facts = facts_module.build(parse(SCRIPT), SCRIPT)
    for changed in ["WIDTH = 6\nWIDTH = 7", "WIDTH = len([1, 2])", "WIDTH = 6\nHIDDEN = 0"]:
        text = SCRIPT.replace("WIDTH = 6", changed)
        facts = facts_module.build(parse(text), text)
        offered = model_code.offered_module(facts)
        assert offered is None, changed  # rebound, computed by a call, or bound twice
    for helper in ["return tf.nn.moments(x, [0])[0]",  # no checked TF2 spelling
                   "return tf.reduce_sum(x, keep_dims=True)",  # a keyword TF2 dropped
                   "global SLOPE\n    return x"]:
        text = SCRIPT.replace("return tf.maximum(SLOPE * x, x)", helper)
        facts = facts_module.build(parse(text), text)
        assert model_code.offered_module(facts) is None, helper


def offered_model_check(text: str, tmp_path: Path, tf2_python: str) -> dict:
    """Run the check `upgrade` wrote for the one model offered from `text`; its case."""
    result = upgrade_source(text)
    (tmp_path / "train_keras3.py").write_text(result.offer[0])
    (tmp_path / "train_tf1.py").write_text(result.equivalence_source)
    [case] = result.equivalence
    outcome = run_case(tmp_path / "train_tf1.py", tmp_path / "train_keras3.py", {**case, "learning_rate": 0.05},
                       sys.executable, tf2_python, tmp_path / "work")
    assert outcome.error is None, outcome.error
    assert outcome.mismatches == []
    return case


@oracle.needs_tf
def test_the_offered_model_computes_what_its_tf1_function_computed(tmp_path: Path, tf2_python: str) -> None:
    case = offered_model_check(SCRIPT, tmp_path, tf2_python)
    assert case["function"] == "encoder" and case["input_shape"] == [4, 8]


def test_the_survey_counts_each_model_function_with_its_own_reason() -> None:
    import importlib.util
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "real_code" / "model_code_survey.py"
    spec = importlib.util.spec_from_file_location("model_code_survey", path)
    survey = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(survey)
    facts = facts_module.build(parse(SCRIPT), SCRIPT)
    functions = model_code.model_functions(facts)
    refused = survey.function_refusals(upgrade_source(SCRIPT), functions)
    assert sorted(refused) == ["both", "configured", "phased"]  # `encoder` is offered: counted converted
    assert refused["phased"][1].startswith("a training flag other than a parameter")
    # A module left with nothing offered: every function with its own reason where it has one.
    text = SCRIPT.replace("WIDTH = 6", "WIDTH = len('abcdef')")
    facts = facts_module.build(parse(text), text)
    refused = survey.function_refusals(upgrade_source(text), model_code.model_functions(facts))
    assert sorted(refused) == ["both", "configured", "encoder", "phased"]
    assert refused["encoder"][1].startswith("reads `WIDTH`")  # through HIDDEN = WIDTH * 2


SCOPED_HELPER = SCRIPT.replace("def leaky(x):\n    return tf.maximum(SLOPE * x, x)",
                               'def leaky(x, name="leaky"):\n    with tf.variable_scope(name):\n'
                               '        return tf.maximum(SLOPE * x, x)')


def test_a_plain_helper_naming_its_ops_by_a_variable_scope_comes_along_with_a_name_scope() -> None:
    # The scope creates no variable in a helper that builds nothing: it names ops only,
    # which TF2's name_scope does; the TF1 code the check runs keeps it as written.
    result = upgrade_source(SCOPED_HELPER)
    offered, _ = result.offer
    assert 'def leaky(x, name="leaky"):\n    with tf.name_scope(name):\n        return tf.maximum(SLOPE * x, x)' \
        in offered
    assert "variable_scope(name)" not in offered.split("class ")[0]
    assert "with tf.variable_scope(name):" in result.equivalence_source


@pytest.mark.parametrize("scope", ["tf.variable_scope(name, reuse=True)", "tf.variable_scope(name) as scope",
                                   "tf.variable_scope(name, 'leaky')"])
def test_a_helper_whose_variable_scope_does_more_than_name_ops_does_not_come_along(scope: str) -> None:
    text = SCOPED_HELPER.replace("tf.variable_scope(name)", scope)
    facts = facts_module.build(parse(text), text)
    assert model_code.offered_module(facts) is None, scope


def test_a_helper_creating_a_variable_in_its_scope_does_not_come_along() -> None:
    text = SCOPED_HELPER.replace("return tf.maximum(SLOPE * x, x)",
                                 'return x * tf.get_variable("slope", [], initializer=tf.zeros_initializer())')
    facts = facts_module.build(parse(text), text)
    assert model_code.offered_module(facts) is None


@oracle.needs_tf
def test_the_offered_model_with_a_scoped_helper_computes_what_tf1_computed(tmp_path: Path, tf2_python: str) -> None:
    offered_model_check(SCOPED_HELPER, tmp_path, tf2_python)


FLAG_SCRIPT = '''\
from absl import flags
import tensorflow.compat.v1 as tf

flags.DEFINE_bool("bottleneck", True, "a dense layer before the batch norm")
flags.DEFINE_integer("width", 6, "its width")
flags.DEFINE_string("train_dir", "/tmp/train", "not read by the model")
FLAGS = flags.FLAGS


def block(x, is_training):
    if FLAGS.bottleneck:
        x = tf.layers.dense(x, FLAGS.width)
    return tf.layers.batch_normalization(x, training=is_training)


def model(x, is_training):
    return block(tf.layers.dense(x, 4), is_training)


inputs = tf.placeholder(tf.float32, [None, 4])
train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(model(inputs, True)))
with tf.Session() as sess:
    sess.run(train, {inputs: [[1.0] * 4]})
'''


def test_absl_flags_the_models_read_come_along_with_their_definitions() -> None:
    result = upgrade_source(FLAG_SCRIPT)
    assert result.offer is not None, result.skipped
    offered, _ = result.offer
    head = offered.split("class ")[0]
    assert "from absl import flags" in head and "FLAGS = flags.FLAGS" in head
    assert 'flags.DEFINE_bool("bottleneck", True' in head and 'flags.DEFINE_integer("width", 6' in head
    assert "train_dir" not in head  # a flag the models do not read stays behind
    assert "if FLAGS.bottleneck:" in offered and "Dense(units=FLAGS.width)" in offered
    assert "FLAGS = flags.FLAGS" in result.equivalence_source  # the TF1 code the check runs


@pytest.mark.parametrize("change", [
    ('flags.DEFINE_integer("width", 6, "its width")\n', ""),  # defined in another module
    ('flags.DEFINE_integer("width", 6,', 'flags.DEFINE_integer("width", len("abcdef"),'),  # not a literal
    ("FLAGS = flags.FLAGS\n", "FLAGS = flags.FLAGS\nFLAGS.width = 8\n"),  # set by the program
    ("from absl import flags\n", "import tensorflow as flags\n"),  # tf.app's flags: gone from TF2
])
def test_flags_that_cannot_come_along_leave_the_model_out(change: tuple[str, str]) -> None:
    text = FLAG_SCRIPT.replace(*change)
    assert text != FLAG_SCRIPT
    facts = facts_module.build(parse(text), text)
    offered = model_code.offered_module(facts)
    assert offered is None, change


@oracle.needs_tf
def test_the_offered_model_reading_a_flag_computes_what_tf1_computed(tmp_path: Path, tf2_python: str) -> None:
    # The check runs both sides with the flags' defaults (bottleneck on: the dense layer is built).
    offered_model_check(FLAG_SCRIPT, tmp_path, tf2_python)
