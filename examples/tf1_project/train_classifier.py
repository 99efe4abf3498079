"""A small TF1 image classifier in the style of 2017 tutorials (BN001)."""
import numpy as np
import tensorflow as tf

images = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
labels = tf.placeholder(tf.int64, [None], name="labels")
training = tf.placeholder(tf.bool, name="training")


def conv_block(inputs, filters, training, name):
    with tf.variable_scope(name):
        net = tf.layers.conv2d(inputs, filters, 3, padding="same", use_bias=False)
        net = tf.layers.batch_normalization(net, training=training)
        return tf.nn.relu(net)


net = conv_block(images, 16, training, "block1")
net = tf.layers.max_pooling2d(net, 2, 2)
net = conv_block(net, 32, training, "block2")
logits = tf.layers.dense(tf.layers.flatten(net), 10)

loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

# The moving statistics of both batch-norm layers never update with this train op.
train_op = tf.train.AdamOptimizer(learning_rate=1e-3).minimize(loss)

if __name__ == "__main__":
    batch_x = np.random.rand(32, 28, 28, 1).astype(np.float32)
    batch_y = np.random.randint(0, 10, 32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(100):
            sess.run(train_op, {images: batch_x, labels: batch_y, training: True})
        print("eval accuracy", sess.run(accuracy, {images: batch_x, labels: batch_y, training: False}))
