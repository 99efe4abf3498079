"""The advice rules (BN005-BN007) on what fixtures do not cover: BN005's opt-in
`--bn-momentum` fix, its arithmetic and the ways a module states its step count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import pytest

from migrate_bn import tfapi
from migrate_bn.api import analyze
from migrate_bn.rules import select_rules


@dataclass(frozen=True)
class MomentumOptions:
    """What the shell's Options will carry once it has the `--bn-momentum` field."""

    unsafe_fixes: bool = True
    bn_momentum: Optional[float] = 0.99


def findings(source: str, code: str = "BN005", options=None) -> list:
    kwargs = {"options": options} if options is not None else {}
    return [f for f in analyze(source.encode(), "t.py", rules=select_rules([code]), **kwargs).findings]


def fixed(source: str, options=MomentumOptions()) -> Optional[str]:
    result = analyze(source.encode(), "t.py", rules=select_rules(["BN005"]), options=options, fix=True)
    assert result.internal_error is None
    return result.fixed_source.decode() if result.fixed_source is not None else None


SLIM_LOOP = """\
import tensorflow as tf
import tensorflow.contrib.slim as slim

images = tf.placeholder(tf.float32, [None, 8])
{model}
loss = tf.reduce_mean(net)
train_op = slim.learning.create_train_op(loss, tf.train.AdamOptimizer())
with tf.Session() as sess:
    for step in range({steps}):
        sess.run(train_op)
"""


def slim_program(model: str, steps: int = 1000) -> str:
    return SLIM_LOOP.format(model=model, steps=steps)


# --- the message ---------------------------------------------------------------------------

def test_message_states_half_life_convergence_and_run_length() -> None:
    source = slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=is_training)")
    (finding,) = findings(source)
    assert finding.severity == "warning"
    assert finding.fix is None
    assert finding.message == (
        "slim.batch_norm decay 0.9997: the moving averages need 2311 steps to forget half of their "
        "initial value and 15349 to come within 1% of the data's statistics, but the loop runs 1000 "
        "steps; lower the decay (`decay=0.99` needs 459) or train longer")
    assert (finding.span.line, finding.span.column) == (5, 37)  # the value that sets it


@pytest.mark.parametrize("decay, half, one_percent", [
    (0.9, 7, 44), (0.99, 69, 459), (0.997, 231, 1533), (0.999, 693, 4603), (0.9997, 2311, 15349),
])
def test_step_counts_match_the_reference_table(decay: float, half: int, one_percent: int) -> None:
    # bn_semantics.md 3 T14: n = ln f / ln d, rounded up.
    source = slim_program(f"net = slim.batch_norm(images, decay={decay}, is_training=is_training)", steps=5)
    (finding,) = findings(source)
    assert f"need {half} steps to forget half" in finding.message
    assert f"and {one_percent} to come within 1%" in finding.message
    assert math.ceil(math.log(0.01) / math.log(decay)) == one_percent


def test_slow_default_without_a_step_count_is_silent() -> None:
    # Precision: a model file does not say how long it is trained (real-code survey).
    source = "import tensorflow as tf\nnet = tf.contrib.layers.batch_norm(x, is_training=flag)\n"
    assert findings(source) == []


def test_default_momentum_without_a_step_count_is_silent() -> None:
    assert findings("import tensorflow as tf\nnet = tf.layers.batch_normalization(x, training=flag)\n") == []


def test_a_long_enough_run_is_silent_even_for_slow_decay() -> None:
    assert findings(slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=is_training)", 50000)) == []


def test_frozen_batch_norm_is_silent() -> None:
    assert findings(slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=False)")) == []


# --- where the decay and the step count come from --------------------------------------------

def test_decay_from_a_parameter_default_and_steps_from_argparse() -> None:
    source = """\
import argparse
import tensorflow as tf
import tensorflow.contrib.slim as slim

parser = argparse.ArgumentParser()
parser.add_argument('--num-steps', type=int, default=800)
args = parser.parse_args()

def model(images, is_training, bn_decay=0.999):
    return slim.batch_norm(images, decay=bn_decay, is_training=is_training)

net = model(images, True)
train_op = slim.learning.create_train_op(tf.reduce_mean(net), tf.train.AdamOptimizer())
with tf.Session() as sess:
    step = 0
    while step < args.num_steps:
        sess.run(train_op)
        step += 1
"""
    (finding,) = findings(source)
    assert "decay 0.999 (set at line 9)" in finding.message
    assert "but the loop runs 800 steps (the default of --num_steps)" in finding.message


def test_steps_from_a_stop_at_step_hook() -> None:
    source = """\
import tensorflow as tf
net = tf.layers.batch_normalization(x, training=is_training)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer().minimize(tf.reduce_mean(net))
hooks = [tf.train.StopAtStepHook(last_step=300)]
with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
    while not sess.should_stop():
        sess.run(train_op)
"""
    (finding,) = findings(source)
    assert "momentum 0.99 (its default)" in finding.message
    assert "`StopAtStepHook(last_step=...)` stops at 300 steps" in finding.message


def test_a_training_run_of_unknown_length_hides_a_short_literal_loop() -> None:
    source = """\
import tensorflow as tf
net = tf.layers.batch_normalization(x, training=is_training)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer().minimize(tf.reduce_mean(net))
with tf.Session() as sess:
    for step in range(10):
        sess.run(train_op)
    for batch in batches():
        sess.run(train_op)
"""
    assert findings(source) == []


# --- the opt-in fix ------------------------------------------------------------------------------

def test_no_fix_without_the_option() -> None:
    source = slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=is_training)")
    assert fixed(source, MomentumOptions(bn_momentum=None)) is None


def test_the_fix_is_unsafe() -> None:
    source = slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=is_training)")
    (finding,) = findings(source, options=MomentumOptions())
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    assert fixed(source, MomentumOptions(unsafe_fixes=False)) is None


def test_fix_replaces_the_written_decay() -> None:
    source = slim_program("net = slim.batch_norm(images, decay=0.9997, is_training=is_training)")
    assert fixed(source) == source.replace("decay=0.9997", "decay=0.99")


def test_fix_adds_the_decay_a_call_left_to_its_default() -> None:
    source = slim_program("net = slim.batch_norm(images, is_training=is_training)")
    assert fixed(source) == source.replace("is_training=is_training)", "is_training=is_training, decay=0.99)")


def test_fix_sets_keras_momentum() -> None:
    source = slim_program("net = tf.keras.layers.BatchNormalization(momentum=0.999)(images, training=is_training)", 100)
    assert fixed(source, MomentumOptions(bn_momentum=0.9)) == source.replace("momentum=0.999", "momentum=0.9")


def test_fix_adds_the_decay_to_normalizer_params() -> None:
    source = slim_program(
        "net = slim.fully_connected(images, 4, normalizer_fn=slim.batch_norm,\n"
        "                           normalizer_params={'is_training': is_training})")
    assert fixed(source) == source.replace("{'is_training': is_training}", "{'is_training': is_training, 'decay': 0.99}")


def test_fix_adds_the_decay_to_a_slim_net_arg_scope() -> None:
    model = ("from nets import inception\n"
             "with slim.arg_scope(inception.inception_v3_arg_scope()):\n"
             "    net, _ = inception.inception_v3(images, is_training=is_training)")
    source = slim_program(model)
    assert fixed(source) == source.replace("inception_v3_arg_scope()", "inception_v3_arg_scope(batch_norm_decay=0.99)")


def test_no_fix_for_contrib_inception_arg_scopes_which_take_no_decay() -> None:
    model = ("from tensorflow.contrib.slim.nets import inception\n"
             "with slim.arg_scope(inception.inception_v3_arg_scope()):\n"
             "    net, _ = inception.inception_v3(images, is_training=is_training)")
    source = slim_program(model)
    (finding,) = findings(source, options=MomentumOptions())
    assert "batch_norm_decay 0.9997 (its default)" in finding.message
    assert finding.fix is None


def test_the_option_name_is_in_the_api_tables() -> None:
    assert tfapi.BN_MOMENTUM_OPTION == "--bn-momentum"
    assert tfapi.BN_MOMENTUM_ATTRIBUTE == "bn_momentum"


# --- BN006 / BN007 odds and ends ---------------------------------------------------------------

def test_keras_bn_object_frozen_through_self_attribute() -> None:
    source = """\
import tensorflow as tf

class Block(tf.keras.Model):
    def __init__(self):
        super(Block, self).__init__()
        self.bn = tf.keras.layers.BatchNormalization()

    def freeze(self):
        self.bn.trainable = False
"""
    (finding,) = findings(source, "BN006")
    assert finding.span.line == 9 and finding.severity == "warning"
    assert finding.message == (
        "`self.bn.trainable = False` on a batch-norm layer: since TF 2.0 (tf.keras 2.x and Keras 3) a batch-norm "
        "layer with `trainable=False` runs in inference mode and its moving statistics stay frozen, but in TF1 "
        "(`tf.layers`, slim's core-layer path, tf.keras before TF 2.0) it keeps normalizing with each batch's "
        "statistics without updating the moving ones, so the same code fine-tunes differently across versions; "
        "to fine-tune with frozen statistics, call the layer with `training=False` (and keep `trainable=False` "
        "only to freeze gamma and beta)")


def test_trainable_true_is_silent() -> None:
    source = "import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization(trainable=True)\nbn.trainable = True\n"
    assert findings(source, "BN006") == []


def test_set_learning_phase_from_standalone_keras_and_compat_v1() -> None:
    source = """\
import tensorflow as tf
from keras import backend as K
K.set_learning_phase(0)
tf.compat.v1.keras.backend.set_learning_phase(1)
"""
    advice = [(f.span.line, f.message) for f in findings(source, "BN007")]
    assert advice == [(3, LEARNING_PHASE_ADVICE.format(call="K.set_learning_phase(0)", what="global switch for",
                                                        mode="False")),
                      (4, LEARNING_PHASE_ADVICE.format(call="tf.compat.v1.keras.backend.set_learning_phase(1)",
                                                        what="global switch for", mode="True"))]


LEARNING_PHASE_ADVICE = (
    "`{call}` is a {what} the learning phase, deprecated in tf.keras 2.x and absent in Keras 3 (tf.keras since "
    "TF 2.16): pass `training={mode}` explicitly when calling the model or its layers (`model(x, training=...)`); "
    "`fit`/`evaluate`/`predict` set it themselves")


def test_learning_phase_scope_advice_names_its_mode() -> None:
    source = "from keras import backend as K\nwith K.learning_phase_scope(0):\n    pass\nwith K.learning_phase_scope(1):\n    pass\n"
    assert [f.message for f in findings(source, "BN007")] == [
        LEARNING_PHASE_ADVICE.format(call=f"K.learning_phase_scope({phase})", what="`with` around", mode=mode)
        for phase, mode in (("0", "False"), ("1", "True"))]


def test_prefilter_words_cover_the_advice_names() -> None:
    names = [*tfapi.SET_LEARNING_PHASE_FUNCTIONS, *tfapi.LEARNING_PHASE_FUNCTIONS,
             *tfapi.KERAS_APPLICATIONS_WITH_BATCH_NORM, *tfapi.NET_ARG_SCOPE_DECAYS]
    assert [name for name in names if not any(word in name for word in tfapi.PREFILTER_WORDS)] == []
