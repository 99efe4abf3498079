"""BN003's unsafe fix without a flag in scope: one new flag per scope, shared with BN004's,
and a message that says why when there is none (flags.new_training_flag)."""

from __future__ import annotations

import ast

import pytest

from migrate_bn.api import analyze
from migrate_bn.rules import Options

UNSAFE = Options(unsafe_fixes=True)
GRAPH = """\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
{build}
loss = tf.reduce_mean(h)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
{run}
"""
RUN = "sess = tf.Session()\nfor step in range(1000):\n    sess.run(train_op, {x: data})\nprint(sess.run(h, {x: data}))\n"


def _bn003(source: str):
    (finding,) = [f for f in analyze(source.encode(), "train.py").findings if f.code == "BN003"]
    return finding


def test_layers_of_one_scope_share_one_new_flag() -> None:
    source = GRAPH.format(build="h = tf.layers.batch_normalization(x)\nh = tf.layers.batch_normalization(h)", run=RUN)
    fixed = analyze(source.encode(), "train.py", fix=True, options=UNSAFE).fixed_source.decode()
    assert fixed.count("placeholder_with_default(False") == 1
    assert fixed.count("training=is_training") == 2 and "{x: data, is_training: True}" in fixed
    assert "print(sess.run(h, {x: data}))" in fixed  # evaluation keeps the default False
    ast.parse(fixed)


def test_with_a_constant_flag_in_the_module_bn004_creates_the_flag_and_bn003_passes_it() -> None:
    source = GRAPH.format(build="h = tf.layers.batch_normalization(x, training=True)\n"
                                "h = tf.layers.batch_normalization(h)", run=RUN)
    assert "BN004's fix creates the flag first" in _bn003(source).message
    result = analyze(source.encode(), "train.py", fix=True, options=UNSAFE)
    fixed = result.fixed_source.decode()
    assert fixed.count("placeholder_with_default(False") == 1 and fixed.count("training=is_training") == 2
    assert not [f for f in result.remaining if f.code in ("BN003", "BN004")]


@pytest.mark.parametrize("build, run, reason", [
    ("h = tf.layers.batch_normalization(x)", "", "no `sess.run` of the train op"),
    ("def model(x):\n    return tf.layers.batch_normalization(x)\nh = model(x)", RUN.replace("\n", "\n    ")
     .join(["def train():\n    ", ""]), "outside the code that builds the layer"),
    ("h = x\nfor _ in range(2):\n    h = tf.layers.batch_normalization(h)", RUN, "in a loop or a branch"),
])
def test_without_a_new_flag_the_message_says_why(build: str, run: str, reason: str) -> None:
    finding = _bn003(GRAPH.format(build=build, run=run))
    assert finding.fix is None and reason in finding.message
