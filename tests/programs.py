"""TF1 programs the command-line, editor and output-format tests share (imported as
`test_programs`; see conftest.py)."""
import textwrap

from migrate_bn.upgrade import upgrade_source


def upgraded_model(template: str, body: str, **options):
    """`upgrade_source` of a model module: `template` with `{body}` as its model function's
    body (written indented or not)."""
    return upgrade_source(template.format(body=textwrap.indent(textwrap.dedent(body), "    ")), **options)


# BN001: the train op does not wait for the batch-norm update ops.
BUGGY = """\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(h)
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
"""
# BUGGY as `migrate-bn fix` leaves it.
FIXED = BUGGY.replace("train_op = ", "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
                                     "    train_op = ")

# A TF1 training script `migrate-bn upgrade` converts, with `train` building the train
# op and `evaluation` run after training.
SCRIPT = '''\
import tensorflow.compat.v1 as tf

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
flag = tf.placeholder_with_default(False, ())
h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=flag)
prediction = tf.layers.dense(h, 1)
loss = tf.reduce_mean(tf.square(prediction - y))
{train}
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run(train_op, {{x: data, y: target, flag: True}})
    {evaluation}
'''
WIRED = ("with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
         "    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)")


def upgradable_script(train: str = WIRED, evaluation: str = "print(sess.run(prediction, {x: data}))") -> str:
    return "data = target = None\n" + SCRIPT.format(train=train, evaluation=evaluation)


# Two modules of one project: `models.build` builds batch norm, and the importer trains
# it without the update ops (BN001 in the importer); MODELS_PLAIN builds none.
MODELS = """\
import tensorflow as tf


def build(x, is_training):
    return tf.layers.batch_normalization(x, training=is_training)
"""
MODELS_PLAIN = MODELS.replace("tf.layers.batch_normalization(x, training=is_training)", "tf.layers.dense(x, 4)")
IMPORTER = """\
import tensorflow as tf
from models import build

x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
loss = tf.reduce_mean(build(x, is_training))
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
"""


def rewrite(path, text: str) -> None:
    """Write a file as an editor saves it, moving its time on by a second: a change
    within the file system clock's step is still a change (pathlib.Path `path`)."""
    import os

    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if before:
        os.utime(path, ns=(before + 10**9, before + 10**9))
