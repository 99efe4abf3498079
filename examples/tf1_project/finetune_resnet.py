"""Fine-tuning a slim ResNet, with the update ops collected too early (BN002)."""
import tensorflow as tf
import tensorflow.contrib.slim as slim
from tensorflow.contrib.slim.nets import resnet_v1


def build_training(images, labels, num_classes, learning_rate):
    # Looks right, but the collection is still empty here: no layer exists yet.
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)

    with slim.arg_scope(resnet_v1.resnet_arg_scope(batch_norm_decay=0.99)):
        logits, _ = resnet_v1.resnet_v1_50(images, num_classes=num_classes, is_training=True)
    logits = tf.squeeze(logits, [1, 2])
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)

    optimizer = tf.train.MomentumOptimizer(learning_rate, momentum=0.9)
    with tf.control_dependencies(update_ops):
        train_op = optimizer.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return train_op, loss
