"""Correct code stays silent: the update ops are wired into the train op."""
import tensorflow as tf


def model(features, is_training):
    hidden = tf.layers.dense(features, 64, use_bias=False)
    hidden = tf.layers.batch_normalization(hidden, training=is_training)
    return tf.layers.dense(tf.nn.relu(hidden), 1)


def training_step(features, targets, is_training):
    predictions = model(features, is_training)
    loss = tf.losses.mean_squared_error(targets, predictions)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        return tf.train.GradientDescentOptimizer(0.05).minimize(loss)
