"""BN004 on a run that evaluates while feeding the batch norm's flag placeholder `True`:
the literal, or an attribute of the model object that its constructor set from a `True`
passed through a factory (`migrate_bn/model/fed_flags.py`); the training script that
switches the attribute before validating is the twin that stays silent. The claim is
proven under TensorFlow 2.12.1: the run that feeds the attribute normalizes with batch
statistics (one image's prediction changes with its batch mates), feeding False does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.project import Project

import runtime_oracle as oracle  # tests/conftest.py

SCRIPT = """import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.int64, [None])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=is_training)
logits = tf.layers.dense(h, 2)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
x_train, y_train = np.ones((8, 4)), np.ones(8)
x_val, y_val = np.zeros((8, 4)), np.zeros(8)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(train_op, feed_dict={x: x_train, y: y_train, is_training: True})
        train_acc = sess.run(accuracy, feed_dict={x: x_train, y: y_train, is_training: True})
    val_acc = sess.run(accuracy, feed_dict={x: x_val, y: y_val, is_training: FED})
"""


def _findings(source: str, path: str = "train.py") -> list:
    return [f for f in analyze(source.encode(), path).findings if f.code == "BN004"]


def test_a_validation_run_that_feeds_the_flag_true_is_reported() -> None:
    source = SCRIPT.replace("FED", "True")
    findings = _findings(source)
    assert [(f.code, f.span.line) for f in findings] == [("BN004", source.splitlines().index(
        "    val_acc = sess.run(accuracy, feed_dict={x: x_val, y: y_val, is_training: True})") + 1)]
    assert "the literal `True`" in findings[0].message


@pytest.mark.parametrize("fed", ["False", "flag"])
def test_a_validation_run_that_feeds_false_or_a_variable_is_silent(fed: str) -> None:
    # The training loop's monitoring run feeds True on the training batch: no evaluation.
    assert _findings(SCRIPT.replace("FED", fed)) == []


def test_true_fed_with_the_training_data_after_training_is_silent() -> None:
    source = SCRIPT.replace("FED", "True").replace(
        "    val_acc = sess.run(accuracy, feed_dict={x: x_val, y: y_val, is_training: True})",
        "    print(sess.run(accuracy, feed_dict={x: x_train, y: y_train, is_training: True}))")
    assert _findings(source) == []


def test_a_gan_sampler_fed_true_is_by_design() -> None:
    gan = SCRIPT.replace("FED", "True").replace(
        "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n",
        "    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, var_list=tf.trainable_variables('generator'))\n"
        "    d_train_op = tf.train.AdamOptimizer(1e-3).minimize(-loss, var_list=tf.trainable_variables('discriminator'))\n")
    assert "discriminator" in gan and _findings(gan) == []


BASE = """import tensorflow as tf


class Base:
    def __init__(self, images, is_training=True):
        self.is_training = is_training
        self.bn_flag = tf.placeholder(tf.bool)

    def bn(self, net, phase):
        return tf.contrib.layers.batch_norm(net, is_training=phase)

    def block(self, net):
        return tf.nn.relu(self.bn(tf.layers.conv2d(net, 8, 3), phase=self.bn_flag))
"""
NETS = """import tensorflow as tf
from .base import Base


class SmallNet(Base):
    def __init__(self, images, is_training=True):
        Base.__init__(self, images, is_training)
        self.logits = tf.reduce_mean(self.block(images), [1, 2, 3])


class WideNet(Base):
    def __init__(self, images, is_training=True):
        super().__init__(images, is_training=is_training)
        self.logits = tf.reduce_mean(self.block(self.block(images)), [1, 2, 3])
"""
FACTORY = """from network.nets import SmallNet, WideNet


def select_net(name, images, is_training=True):
    if name == "small_resnet":
        net = SmallNet(images, is_training=is_training)
    elif name == "wide":
        net = WideNet(images, is_training)
    else:
        raise NotImplementedError
    return net
"""
TEST = """import numpy as np
import tensorflow as tf
from utils.prepare_net import select_net

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
labels = tf.placeholder(tf.float32, [None])
# "resnet": a word of the prefilter, as in the real script (a file without one is not read).
r = select_net("small_resnet", images, is_training=BUILT)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.sign(r.logits), labels), tf.float32))
x_test, y_test = np.zeros((4, 8, 8, 3)), np.zeros(4)
with tf.Session() as sess:
    tf.train.Saver().restore(sess, "model.ckpt")
    acc = sess.run(accuracy, feed_dict={images: x_test, labels: y_test, r.bn_flag: r.is_training})
"""
TRAIN = """import numpy as np
import tensorflow as tf
from utils.prepare_net import select_net

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
labels = tf.placeholder(tf.float32, [None])
r = select_net("wide", images, is_training=True)
loss = tf.reduce_mean(tf.square(r.logits - labels))
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.sign(r.logits), labels), tf.float32))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
x_train, y_train = np.ones((4, 8, 8, 3)), np.ones(4)
x_val, y_val = np.zeros((4, 8, 8, 3)), np.zeros(4)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(train_op, feed_dict={images: x_train, labels: y_train, r.bn_flag: r.is_training})
        r.is_training = False
        val_acc = sess.run(accuracy, feed_dict={images: x_val, labels: y_val, r.bn_flag: r.is_training})
        r.is_training = True
"""


def _project(root: Path, test: str) -> list:
    (root / "setup.cfg").write_text("")
    files = {"network/__init__.py": "", "network/base.py": BASE, "network/nets.py": NETS,
             "utils/__init__.py": "", "utils/prepare_net.py": FACTORY, "test.py": test, "train.py": TRAIN}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    project = Project()
    found = {}
    for name in ("test.py", "train.py"):
        path = root / name
        found[name] = [f for f in analyze(path.read_bytes(), str(path), resolver=project.resolver(str(path))).findings
                       if f.code == "BN004"]
    return found


def test_a_test_script_that_feeds_the_attribute_its_factory_made_true(tmp_path: Path) -> None:
    found = _project(tmp_path, TEST.replace("BUILT", "True"))
    assert [f.span.line for f in found["test.py"]] == [13]
    assert "`r.is_training`, which the call at line 8 makes `True`" in found["test.py"][0].message
    # The twin: training switches the attribute to False before it validates.
    assert found["train.py"] == []


@pytest.mark.parametrize("built", ["False", "FLAGS.training"])
def test_silent_when_the_attribute_is_false_or_unknown(tmp_path: Path, built: str) -> None:
    assert _project(tmp_path, TEST.replace("BUILT", built))["test.py"] == []


def test_silent_when_a_class_the_factory_may_return_is_unknown(tmp_path: Path) -> None:
    found = _project(tmp_path, TEST.replace("BUILT", "True"))
    assert found["test.py"]
    factory = tmp_path / "utils" / "prepare_net.py"
    factory.write_text(FACTORY.replace("raise NotImplementedError", "net = make_other(images)"))
    project = Project()
    path = tmp_path / "test.py"
    assert [f for f in analyze(path.read_bytes(), str(path), resolver=project.resolver(str(path))).findings
            if f.code == "BN004"] == []


DRIVER = """import numpy as np
import tensorflow as tf
from utils.prepare_net import select_net

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
r = select_net("small_resnet", images, is_training=True)
batch = np.random.RandomState(0).rand(4, 8, 8, 3).astype("float32")
mates = np.concatenate([batch[:1], 5 * batch[1:]])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    alone = sess.run(r.logits, {images: batch, r.bn_flag: r.is_training})[0]
    with_other_mates = sess.run(r.logits, {images: mates, r.bn_flag: r.is_training})[0]
    assert not np.allclose(alone, with_other_mates), "the fed attribute did not run batch statistics"
    frozen = sess.run(r.logits, {images: batch, r.bn_flag: False})[0]
    frozen_mates = sess.run(r.logits, {images: mates, r.bn_flag: False})[0]
    assert np.allclose(frozen, frozen_mates), "moving statistics depend on the batch"
"""


@oracle.needs_tf
def test_the_fed_attribute_evaluates_with_batch_statistics(tmp_path: Path) -> None:
    assert [f.code for f in _project(tmp_path, TEST.replace("BUILT", "True"))["test.py"]] == ["BN004"]
    driver = tmp_path / "drive.py"
    driver.write_text(DRIVER)
    oracle.run_program(driver, tmp_path)
