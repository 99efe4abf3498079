"""Generate a tree of realistic TF1 files for benchmarks: `python benchmarks/tf1_tree.py DIR
--files N`.

Like a real TF1 repository, most files have nothing to do with batch norm (data
pipelines, utilities, configuration, tests); about one in ten builds a model with batch
norm or a training step, some buggy and some correct. The files are made from templates
with varied names and sizes, so every file is different and the tree's line count grows
with N (about 320 lines a file, as in the 565k-line, 1,777-file tree the targets quote).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

UTILITY = '''"""{name}: helpers for the {topic} pipeline."""
import os
import json
import numpy as np


def load_{topic}(path, limit={n}):
    """Read up to `limit` records of {topic} data."""
    records = []
    with open(path) as handle:
        for index, line in enumerate(handle):
            if index >= limit:
                break
            records.append(json.loads(line))
    return records


def normalize_{topic}(values, eps=1e-{n2}):
    values = np.asarray(values, dtype=np.float32)
    return (values - values.mean(axis=0)) / (values.std(axis=0) + eps)


class {Topic}Config(object):
    def __init__(self, root="{topic}", batch_size={n3}):
        self.root = root
        self.batch_size = batch_size
        self.paths = [os.path.join(root, "part-%05d" % i) for i in range({n})]

    def shard(self, index, count):
        return self.paths[index::count]
'''

MODEL = '''"""{name}: the {topic} network."""
import tensorflow as tf


def conv_block_{n}(net, filters, is_training, scope):
    with tf.variable_scope(scope):
        net = tf.layers.conv2d(net, filters, 3, padding="same", use_bias=False)
        net = tf.layers.batch_normalization(net, momentum=0.9, training=is_training)
        return tf.nn.relu(net)


def {topic}_net(images, is_training, num_classes={n3}):
    net = images
    for index, width in enumerate([{w1}, {w2}, {w3}]):
        net = conv_block_{n}(net, width, is_training, "block%d" % index)
        net = tf.layers.max_pooling2d(net, 2, 2)
    net = tf.reduce_mean(net, axis=[1, 2])
    return tf.layers.dense(net, num_classes)
'''

TRAIN_BUGGY = '''"""{name}: trains the {topic} model."""
import numpy as np
import tensorflow as tf
import tensorflow.contrib.slim as slim

images = tf.placeholder(tf.float32, [None, 32, 32, 3])
labels = tf.placeholder(tf.int64, [None])
is_training = tf.placeholder(tf.bool, [])
with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                    normalizer_params={{"is_training": is_training, "decay": 0.9}}):
    net = slim.conv2d(images, {w1}, [3, 3])
    net = slim.conv2d(net, {w2}, [3, 3], stride=2)
logits = slim.fully_connected(tf.reduce_mean(net, [1, 2]), 10, activation_fn=None)
loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
train_op = tf.train.MomentumOptimizer({lr}, 0.9).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range({steps}):
        batch = np.random.rand(32, 32, 32, 3)
        sess.run(train_op, {{images: batch, labels: np.zeros(32), is_training: True}})
'''

TRAIN_CORRECT = '''"""{name}: trains the {topic} model, update ops wired."""
import tensorflow as tf


def build_train_op(loss, learning_rate={lr}):
    optimizer = tf.train.AdamOptimizer(learning_rate)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        return optimizer.minimize(loss, global_step=tf.train.get_or_create_global_step())
'''

FILLER = '''

def {topic}_step_{i}(state, rate={rate}):
    """Update rule {i} of the {topic} schedule."""
    total = 0.0
    for key in sorted(state):
        value = state[key]
        if isinstance(value, (int, float)):
            total += value * rate
        elif isinstance(value, list):
            total += sum(value) / max(len(value), 1)
    state["{topic}_{i}"] = total
    return state
'''

TOPICS = ["audio", "image", "text", "video", "graph", "tabular", "speech", "depth", "pose", "flow"]


def make_file(rng: random.Random, index: int) -> tuple[str, str]:
    topic = rng.choice(TOPICS)
    fields = dict(name=f"module_{index}", topic=topic, Topic=topic.title(), n=index % 97 + 3,
                  n2=rng.randint(3, 9), n3=rng.randint(8, 512), w1=rng.choice([16, 32, 64]),
                  w2=rng.choice([64, 128]), w3=rng.choice([128, 256]), lr=rng.choice([0.1, 0.01, 0.001]),
                  steps=rng.choice([500, 1000, 5000]))
    roll = rng.random()
    if roll < 0.04:
        kind, body = "train", TRAIN_BUGGY.format(**fields)
    elif roll < 0.07:
        kind, body = "train", TRAIN_CORRECT.format(**fields)
    elif roll < 0.11:
        kind, body = "models", MODEL.format(**fields)
    else:
        kind, body = "utils", UTILITY.format(**fields)
    # Real files are long: pad with helper functions to ~320 lines on average.
    for i in range(rng.randint(4, 26)):
        body += FILLER.format(topic=topic, i=i, rate=rng.random())
    return kind, body


def generate(directory: Path, files: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    lines = 0
    for index in range(files):
        kind, body = make_file(rng, index)
        path = directory / f"pkg{index // 100}" / kind / f"module_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        lines += body.count("\n")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate a realistic TF1 tree for benchmarks.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--files", type=int, default=1777)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lines = generate(args.directory, args.files, args.seed)
    print(f"{args.files} files, {lines} lines in {args.directory}")


if __name__ == "__main__":
    main()
