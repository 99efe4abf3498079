"""The claim behind model/batch_size.py, run under TensorFlow 2.12.1 (TF1 code through
tf.compat.v1): on batches of one example, batch norm in training mode is instance
normalization, so a program that trains and tests so computes at test what training
computed, and the moving averages, which the silenced BN004 and BN001 are about, would
normalize with other statistics than the ones the network was trained with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import runtime_oracle as oracle  # tests/conftest.py

pytestmark = oracle.tf1_marks()

PROGRAM = """\
import json
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()

examples = np.random.RandomState(0).randn(20, 1, 4, 4, 3).astype(np.float32) * 3 + 2
x = tf.placeholder(tf.float32, [1, 4, 4, 3])
training = tf.placeholder_with_default(True, ())
h = tf.layers.batch_normalization(x, training=training, epsilon=1e-3)
loss = tf.reduce_mean(tf.square(h - 1.0))
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.GradientDescentOptimizer(0.0).minimize(loss)  # statistics only
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for example in examples:
        sess.run(train_op, {x: example})
    test = examples[0]
    batch_mode = sess.run(h, {x: test})
    moving = sess.run(h, {x: test, training: False})
instance = (test - test.mean(axis=(1, 2), keepdims=True)) / np.sqrt(test.var(axis=(1, 2), keepdims=True) + 1e-3)
print(json.dumps({"instance": float(np.abs(batch_mode - instance).max()),
                  "moving": float(np.abs(moving - instance).max())}))
"""


def test_training_mode_on_one_example_is_instance_norm(tmp_path: Path) -> None:
    script = tmp_path / "one_example.py"
    script.write_text(PROGRAM)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["instance"] < 1e-4  # what training computed for this example
    assert result["moving"] > 0.1  # the moving averages normalize it otherwise
