"""TF1 programs the command-line, editor and output-format tests share (imported as
`test_programs`; see conftest.py)."""

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
