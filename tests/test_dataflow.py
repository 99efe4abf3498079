"""Data flow from one batch norm (migrate_bn/model/dataflow.py): BN004 blames a run only
on the batch norm whose values it computes (fixtures/bn004/validation_tower_evaluated:
a training tower and a validation tower, each with its literal `True`, and a run of the
validation tower only)."""

from __future__ import annotations

from migrate_bn.api import analyze


def _bn004(source: str) -> list[int]:
    return [f.span.line for f in analyze(source.encode(), "program.py").findings if f.code == "BN004"]


TOWERS = '''import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
v = tf.placeholder(tf.float32, [None, 4])
train_out = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=True, name="bn")
val_out = tf.layers.batch_normalization(tf.layers.dense(v, 8, reuse=True), training=True, name="bn", reuse=True)
loss = tf.reduce_mean(tf.square(train_out))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    for _ in range(10):
        sess.run(train_op, {x: [[1.0] * 4]})
    print(sess.run({fetch}, {v: [[1.0] * 4]}))
'''


def test_a_run_of_the_validation_tower_blames_only_its_literal() -> None:
    assert _bn004(TOWERS.replace("{fetch}", "tf.reduce_mean(val_out)")) == [6]


def test_a_run_of_both_towers_blames_both() -> None:
    assert _bn004(TOWERS.replace("{fetch}", "[loss, val_out]")) == [5, 6]


def test_one_model_function_called_for_both_towers_is_one_site() -> None:
    # The batch norm inside the function feeds whatever each call binds.
    source = '''import tensorflow as tf


def model(x, training, reuse=None):
    return tf.layers.batch_normalization(tf.layers.dense(x, 8, name="d", reuse=reuse), training=training,
                                         name="bn", reuse=reuse)


x = tf.placeholder(tf.float32, [None, 4])
out = model(x, True)
val_out = model(x, True, reuse=True)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(out))
with tf.Session() as sess:
    sess.run(train_op, {x: [[1.0] * 4]})
    print(sess.run(val_out, {x: [[1.0] * 4]}))
'''
    assert _bn004(source) == [5]

