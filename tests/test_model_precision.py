"""Issue 14's deliberate designs and idioms that were false alarms on real code, each
with its nearest buggy twin, which must still be found: train ops and placeholders
returned by helpers (BN009, model/returns.py and model/feeds.py); batch norm kept in
training mode at test on batches of one example (BN004 and BN001, model/batch_size.py);
batch norm always in training mode in a program that writes no checkpoint (BN001,
model/persistence.py); a GAN step whose network has no batch norm (BN001,
model/gan_steps.py); a project whose README says it keeps batch norm in training mode at
test (BN004, model/project_docs.py)."""

from __future__ import annotations

import json
from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.project import Project
from migrate_bn.rules import select_rules

# A GAN written as notebooks write it: the placeholders and both train ops come from
# helpers, a model object holds them, and the loop runs them through that object.
GAN_HELPERS = """\
import numpy as np
import tensorflow as tf

def model_inputs():
    real = tf.placeholder(tf.float32, (None, 4), name='real')
    noise = tf.placeholder(tf.float32, (None, 2), name='noise')
    return real, noise

def generator(z, reuse=False, training=True):
    with tf.variable_scope('generator', reuse=reuse):
        h = tf.layers.batch_normalization(tf.layers.dense(z, 8), training=training)
        return tf.layers.dense(h, 4)

def discriminator(x, reuse=False):
    with tf.variable_scope('discriminator', reuse=reuse):
        h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=True)
        return tf.layers.dense(h, 1)

def model_loss(real, noise):
    fake = generator(noise)
    d_real = discriminator(real)
    d_fake = discriminator(fake, reuse=True)
    d_loss = tf.reduce_mean(d_fake - d_real)
    g_loss = -tf.reduce_mean(d_fake)
    return d_loss, g_loss

def model_opt(d_loss, g_loss):
    t_vars = tf.trainable_variables()
    d_vars = [v for v in t_vars if v.name.startswith('discriminator')]
    g_vars = [v for v in t_vars if v.name.startswith('generator')]
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        d_train_opt = tf.train.AdamOptimizer(1e-3).minimize(d_loss, var_list=d_vars)
        g_train_opt = tf.train.AdamOptimizer(1e-3).minimize(g_loss, var_list=g_vars)
    return d_train_opt, g_train_opt

class GAN:
    def __init__(self):
        self.input_real, self.input_z = model_inputs()
        self.d_loss, self.g_loss = model_loss(self.input_real, self.input_z)
        self.d_opt, self.g_opt = model_opt(self.d_loss, self.g_loss)

def train(net, batches):
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for x in batches:
            batch_z = np.random.uniform(-1, 1, size=(8, 2))
            sess.run(net.d_opt, feed_dict={net.input_real: x, net.input_z: batch_z})
            sess.run(net.g_opt, feed_dict={net.input_z: batch_z, net.input_real: x})
        saver.save(sess, 'gan.ckpt')
        return sess.run(generator(net.input_z, reuse=True, training=False), {net.input_z: batch_z})

net = GAN()
train(net, [np.zeros((8, 4))])
"""


def codes(source: str, path: str = "gan.py", rule: str = "BN009") -> list[str]:
    return [finding.code for finding in analyze(source.encode(), path, rules=select_rules([rule])).findings]


def notebook(source: str) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": part.strip("\n") + "\n"} for part in source.split("\n\n\n")]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 2})


def test_bn009_follows_train_ops_and_placeholders_returned_by_helpers() -> None:
    """Both steps are fed the same real batch and the same noise: the other network's
    updates in each step see the batches its own step feeds it."""
    assert codes(GAN_HELPERS) == []
    assert codes(notebook(GAN_HELPERS), "gan.ipynb") == []


def test_bn009_stays_when_the_steps_through_helpers_feed_other_noise() -> None:
    twin = GAN_HELPERS.replace("sess.run(net.g_opt, feed_dict={net.input_z: batch_z,",
                               "sess.run(net.g_opt, feed_dict={net.input_z: np.random.uniform(-1, 1, size=(8, 2)),")
    assert codes(twin) == ["BN009", "BN009"]
    assert codes(notebook(twin), "gan.ipynb") == ["BN009", "BN009"]


def test_bn009_stays_when_the_noise_is_drawn_again_between_the_steps() -> None:
    twin = GAN_HELPERS.replace(
        "            sess.run(net.g_opt,",
        "            batch_z = np.random.uniform(-1, 1, size=(8, 2))\n            sess.run(net.g_opt,")
    assert codes(twin) == ["BN009", "BN009"]


# pix2pix's design in a few lines: batch norm always in training mode, batches of one
# example (the command line's default), a test mode that restores and predicts.
ONE_EXAMPLE = """\
import argparse
import numpy as np
import tensorflow as tf

parser = argparse.ArgumentParser()
parser.add_argument("--mode", required=True, choices=["train", "test"])
parser.add_argument("--batch_size", type=int, default=1, help="examples in a batch")
a = parser.parse_args()

def norm(x):
    return tf.layers.batch_normalization(x, training=True)

def network(x):
    with tf.variable_scope("net"):
        return tf.layers.dense(norm(tf.layers.dense(x, 8)), 1)

example, target = tf.random_normal([4]), tf.random_normal([1])
inputs, targets = tf.train.batch([example, target], batch_size=a.batch_size)
outputs = network(inputs)
loss = tf.reduce_mean(tf.square(outputs - targets))
train_op = tf.train.AdamOptimizer().minimize(loss)
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    tf.train.start_queue_runners(sess)
    if a.mode == "test":
        saver.restore(sess, "model.ckpt")
        test_inputs = np.load("test.npy")
        print(sess.run(outputs, {inputs: test_inputs}))
    else:
        for step in range(100):
            sess.run(train_op)
        saver.save(sess, "model.ckpt")
"""


def all_codes(source: str) -> list[str]:
    return sorted(finding.code for finding in analyze(source.encode(), "one.py",
                                                      rules=select_rules(["BN001", "BN004"])).findings)


def test_batches_of_one_example_are_instance_norm_by_design() -> None:
    from migrate_bn.model import batch_size

    assert all_codes(ONE_EXAMPLE) == []
    flags = ONE_EXAMPLE.replace('parser.add_argument("--batch_size", type=int, default=1, help="examples in a batch")',
                                'tf.app.flags.DEFINE_integer("batch_size", 1, "examples in a batch")').replace(
        "a.batch_size", "FLAGS.batch_size").replace("a = parser.parse_args()", "FLAGS = tf.app.flags.FLAGS").replace(
        "a.mode", "FLAGS.mode")
    assert all_codes(flags) == []
    literal = ONE_EXAMPLE.replace("batch_size=a.batch_size", "batch_size=1")
    assert all_codes(literal) == []
    served = ONE_EXAMPLE.replace('example, target = tf.random_normal([4]), tf.random_normal([1])',
                                 'example = tf.placeholder(tf.float32, [1, 4])[0]\ntarget = tf.random_normal([1])')
    assert all_codes(served) == []
    from migrate_bn import facts as facts_module
    import ast
    assert batch_size.one_example_batches(facts_module.build(ast.parse(ONE_EXAMPLE), ONE_EXAMPLE))


def test_larger_or_unknown_batches_keep_both_findings() -> None:
    twins = [
        ONE_EXAMPLE.replace("default=1,", "default=4,"),  # the program's own batch size is 4
        ONE_EXAMPLE.replace("batch_size=a.batch_size", "batch_size=a.batch_size * 2"),
        ONE_EXAMPLE + "a.batch_size = 16\n",  # the program sets it itself
        ONE_EXAMPLE.replace("outputs = network(inputs)",  # two examples joined into one batch
                            "outputs = network(tf.concat([inputs, inputs], 0))"),
        ONE_EXAMPLE.replace("outputs = network(inputs)",
                            "images = tf.placeholder(tf.float32, [None, 4])\noutputs = network(inputs + images)"),
        ONE_EXAMPLE.replace("batch_size=a.batch_size", "batch_size=a.eval_batch_size"),  # no such option
    ]
    for twin in twins:
        assert all_codes(twin) == ["BN001", "BN004"], twin


# A GAN notebook: the generator's first slim batch norm takes no flag (always training),
# the others take a placeholder flag and update in place; samples drawn with the flag
# False; nothing saved.
SAMPLING_GAN = """\
import numpy as np
import tensorflow as tf
slim = tf.contrib.slim


def generator(z, is_training):
    with tf.variable_scope('G'):
        h = slim.batch_norm(slim.fully_connected(z, 8, activation_fn=None), decay=0.9)
        params = {'is_training': is_training, 'updates_collections': None}
        return slim.fully_connected(h, 4, normalizer_fn=slim.batch_norm, normalizer_params=params)


def discriminator(x, reuse=False):
    with tf.variable_scope('D', reuse=reuse):
        return slim.fully_connected(slim.fully_connected(x, 8), 1, activation_fn=None)


real = tf.placeholder(tf.float32, [None, 4])
z = tf.placeholder(tf.float32, [None, 2])
is_training = tf.placeholder(tf.bool)
fake = generator(z, is_training)
d_real, d_fake = discriminator(real), discriminator(fake, reuse=True)
d_loss = tf.reduce_mean(d_fake - d_real)
g_loss = -tf.reduce_mean(d_fake)
t_vars = tf.trainable_variables()
g_optim = tf.train.AdamOptimizer().minimize(g_loss, var_list=[v for v in t_vars if 'G/' in v.name])
d_optim = tf.train.AdamOptimizer().minimize(d_loss, var_list=[v for v in t_vars if 'D/' in v.name])


sess = tf.Session()
sess.run(tf.global_variables_initializer())
for step in range(100):
    batch, noise = np.zeros((8, 4)), np.random.uniform(-1, 1, (8, 2))
    sess.run([d_optim, g_optim], {real: batch, z: noise, is_training: True})
samples = sess.run(fake, {z: np.random.uniform(-1, 1, (8, 2)), is_training: False})
"""


def project_codes(root: Path, name: str, source: str, rules: list[str]) -> list[str]:
    (root / "setup.cfg").write_text("")
    path = root / name
    path.write_text(source)
    project = Project(roots=(str(root),))
    result = analyze(path.read_bytes(), str(path), rules=select_rules(rules), resolver=project.resolver(str(path)))
    return sorted(finding.code for finding in result.findings)


def test_training_only_statistics_that_never_leave_the_process_are_unread(tmp_path: Path) -> None:
    assert project_codes(tmp_path, "gan.ipynb", notebook(SAMPLING_GAN), ["BN001"]) == []
    assert project_codes(tmp_path, "gan.py", SAMPLING_GAN, ["BN001"]) == []


def test_a_saved_checkpoint_or_a_flag_keeps_bn001(tmp_path: Path) -> None:
    """(The generator's step only: the discriminator has no batch norm of its own.)"""
    saved = SAMPLING_GAN + "tf.train.Saver().save(sess, 'gan.ckpt')\n"
    assert project_codes(tmp_path, "gan.ipynb", notebook(saved), ["BN001"]) == ["BN001"]
    flagged = SAMPLING_GAN.replace("decay=0.9)", "decay=0.9, is_training=is_training)")
    assert project_codes(tmp_path, "gan.ipynb", notebook(flagged), ["BN001"]) == ["BN001"]
    (tmp_path / "sample.py").write_text("from gan import fake\n")  # another program builds it
    assert project_codes(tmp_path, "gan.py", SAMPLING_GAN, ["BN001"]) == ["BN001"]


def test_a_literal_true_evaluated_on_test_data_keeps_both(tmp_path: Path) -> None:
    """Outside a GAN, an evaluation with the constant flag is BN004's finding, whose fix
    reads the statistics the train op never updates: BN001 stays too."""
    evaluated = ONE_EXAMPLE.replace("default=1,", "default=4,").replace(
        "saver = tf.train.Saver()", "saver = None").replace('saver.restore(sess, "model.ckpt")', "pass").replace(
        'saver.save(sess, "model.ckpt")', "pass")
    assert project_codes(tmp_path, "one.py", evaluated, ["BN001", "BN004"]) == ["BN001", "BN004"]


def test_a_flag_parameter_left_at_true_is_a_switch_the_fix_would_use(tmp_path: Path) -> None:
    """The notebook feeds its flag False to sample but builds the generator without it:
    the builder's parameter default True reaches the batch norm, and passing the flag
    (the fix of that bug) reads the statistics the train op never updates."""
    forgotten = SAMPLING_GAN.replace("def generator(z, is_training):", "def generator(z, is_training=True):").replace(
        "decay=0.9)", "decay=0.9, is_training=is_training)").replace(
        "params = {'is_training': is_training, 'updates_collections': None}", "params = {}").replace(
        "fake = generator(z, is_training)", "fake = generator(z)")
    assert project_codes(tmp_path, "gan.ipynb", notebook(forgotten), ["BN001"]) == ["BN001"]


def test_the_step_of_a_network_without_batch_norm_is_not_blamed(tmp_path: Path) -> None:
    """Only the generator has batch norm (with a flag); neither step runs the updates:
    the generator's step is reported, the discriminator's is not."""
    flagged = SAMPLING_GAN.replace("decay=0.9)", "decay=0.9, is_training=is_training)")
    findings = analyze(flagged.encode(), "gan.py", rules=select_rules(["BN001"])).findings
    assert [flagged.splitlines()[finding.span.line - 1].split("=")[0].strip() for finding in findings] == ["g_optim"]
    twin = flagged.replace("return slim.fully_connected(slim.fully_connected(x, 8), 1, activation_fn=None)",
                           "return slim.fully_connected(slim.batch_norm(slim.fully_connected(x, 8), "
                           "is_training=is_training), 1, activation_fn=None)")
    findings = analyze(twin.encode(), "gan.py", rules=select_rules(["BN001"])).findings
    assert sorted(twin.splitlines()[finding.span.line - 1].split("=")[0].strip() for finding in findings) == \
        ["d_optim", "g_optim"]


SEGMENTER = """\
import tensorflow as tf
slim = tf.contrib.slim


def segmenter(images, is_training=True):
    net = slim.conv2d(images, 8, [3, 3], activation_fn=None)
    net = slim.batch_norm(net, is_training=is_training)
    return slim.conv2d(net, 2, [1, 1], activation_fn=None)
"""
EVALUATE = """\
import numpy as np
import tensorflow as tf
from segmenter import segmenter

slim = tf.contrib.slim
images = tf.placeholder(tf.float32, [None, 16, 16, 3])
with slim.arg_scope([slim.conv2d], padding="SAME"):
    logits = segmenter(images, is_training=True)
predictions = tf.argmax(logits, -1)
saver = tf.train.Saver()
with tf.Session() as sess:
    saver.restore(sess, "model.ckpt")
    test_images = np.load("test.npy")
    print(sess.run(predictions, {images: test_images}))
"""
KEPT = ("# Segmenter\n\nNotes:\n\n1. Batch normalization and spatial dropout are still retained during "
        "testing for good performance.\n")


def segmenter_codes(root: Path, readme: str) -> list[str]:
    (root / "setup.cfg").write_text("")
    (root / "segmenter.py").write_text(SEGMENTER)
    if readme:
        (root / "README.md").write_text(readme)
    return project_codes(root, "evaluate.py", EVALUATE, ["BN004"])


def test_a_documented_training_mode_at_test_is_a_design(tmp_path: Path) -> None:
    assert segmenter_codes(tmp_path, KEPT) == []


def test_without_the_sentence_the_constant_flag_stays_bn004(tmp_path: Path) -> None:
    for readme in ("", "# Segmenter\n\nBatch normalization uses its moving averages during testing.\n",
                   "# Segmenter\n\nBatch norm is not kept in training mode at test time.\n",
                   "# Segmenter\n\nWe keep batch norm.\n\nTesting is done on the validation set.\n"):
        root = tmp_path / str(len(readme))
        root.mkdir()
        assert segmenter_codes(root, readme) == ["BN004"], readme


def test_the_sentence_reader() -> None:
    from migrate_bn.model.project_docs import says_training_mode_at_test

    assert says_training_mode_at_test("Batch normalization and 2D Spatial Dropout are still retained during "
                                      "testing for good performance.")
    assert says_training_mode_at_test("BN layers are kept in training mode at inference, as in the paper.")
    assert not says_training_mode_at_test("Set is_training to False at test time so batch norm uses the moving mean.")
    assert not says_training_mode_at_test("Batch norm doesn't keep batch statistics at test time.")
    assert not says_training_mode_at_test("Batch norm is used. Still, testing is slow.")
    assert not says_training_mode_at_test("We still need to test the batch norm layer.")
