"""Issue 14's deliberate designs and idioms that were false alarms on real code, each
with its nearest buggy twin, which must still be found: train ops and placeholders
returned by helpers (BN009, model/returns.py and model/feeds.py)."""

from __future__ import annotations

import json

from migrate_bn.api import analyze
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
