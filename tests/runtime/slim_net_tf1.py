"""Build one of tf-slim's nets under TF 2.12 (graph mode), as a user of tf-slim did, and
record what it computes.

Usage: python tests/runtime/slim_net_tf1.py NET SIZE BATCH NUM_CLASSES LEARNING_RATE OUTDIR

Writes OUTDIR/init.ckpt (randomly initialised, as published checkpoints are laid out,
plus a global step, momentum slots and EMA shadows that a conversion must list) and
OUTDIR/tf1.npz: inference logits and every end point, then five plain-SGD training
steps in training mode (each step's outputs), and afterwards every weight and moving
statistic and the inference logits.

mobilenet_v1 is not in tf-slim: it is the TF models repository's research/slim
(`from nets import mobilenet_v1`), read from the directory MIGRATE_BN_SLIM_MODELS_SOURCE
names (one holding nets/mobilenet_v1.py). A copy of the 2017-2019 file, written for
`tf.contrib.slim`, runs with `tensorflow` standing for `tensorflow.compat.v1` plus a
`contrib` of tf-slim (slim, layers) while it is imported; a modern copy imports
`tensorflow.compat.v1` and `tf_slim` itself.

Test infrastructure only: nothing in the migrate_bn package may import this.
"""
import importlib
import os
import sys
import types

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402
import tf_slim as slim  # noqa: E402
from tf_slim.nets import inception_v1, inception_v2, inception_v3, resnet_v1, resnet_v2, vgg  # noqa: E402

# The net's function and its arg scope, as the slim docs use them.
NETS = {
    "resnet_v1_50": (resnet_v1.resnet_v1_50, resnet_v1.resnet_utils.resnet_arg_scope, {}),
    "resnet_v2_50": (resnet_v2.resnet_v2_50, resnet_v2.resnet_utils.resnet_arg_scope, {}),
    # keep-probability 1: dropout is random, so training steps can only be compared without it
    "vgg_16": (vgg.vgg_16, vgg.vgg_arg_scope, {"dropout_keep_prob": 1.0}),
    "inception_v1": (inception_v1.inception_v1, inception_v1.inception_v1_arg_scope, {"dropout_keep_prob": 1.0}),
    "inception_v2": (inception_v2.inception_v2, inception_v2.inception_v2_arg_scope, {"dropout_keep_prob": 1.0}),
    "inception_v3": (inception_v3.inception_v3, inception_v3.inception_v3_arg_scope, {"dropout_keep_prob": 1.0}),
}
MODELS_SOURCE = "MIGRATE_BN_SLIM_MODELS_SOURCE"
STEPS = 5


def models_repository_net(module: str):
    """`nets.<module>` from the models repository's copy named by MODELS_SOURCE."""
    sys.path.insert(0, os.environ[MODELS_SOURCE])
    with open(os.path.join(os.environ[MODELS_SOURCE], "nets", module + ".py"), encoding="utf-8") as handle:
        if "import tf_slim" in handle.read():  # a modern copy: tensorflow.compat.v1 and tf_slim
            return importlib.import_module("nets." + module)
    contrib_tf = types.ModuleType("tensorflow")
    contrib_tf.__getattr__ = lambda name: getattr(tf, name)  # everything else is tf.compat.v1's
    # `slim.layers` is tf_slim's layers.layers module; contrib's `layers` was the package.
    contrib_tf.contrib = types.SimpleNamespace(slim=slim, layers=importlib.import_module("tf_slim.layers"))
    real = sys.modules["tensorflow"]
    sys.modules["tensorflow"] = contrib_tf  # only while the module runs its `import tensorflow as tf`
    try:
        return importlib.import_module("nets." + module)
    finally:
        sys.modules["tensorflow"] = real


if sys.argv[1].startswith("mobilenet_v1"):  # and its thinner variants, mobilenet_v1_075 ...
    mobilenet_v1 = models_repository_net("mobilenet_v1")
    NETS[sys.argv[1]] = (getattr(mobilenet_v1, sys.argv[1]), mobilenet_v1.mobilenet_v1_arg_scope,
                         {"dropout_keep_prob": 1.0})

net_name, out = sys.argv[1], sys.argv[6]
size, BATCH, num_classes, LEARNING_RATE = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
function, arg_scope, extra = NETS[net_name]
tf.disable_eager_execution()
tf.set_random_seed(0)
rng = np.random.RandomState(0)
inputs = rng.standard_normal((BATCH, size, size, 3)).astype(np.float32)
targets = rng.standard_normal((BATCH, num_classes)).astype(np.float32)

images = tf.placeholder(tf.float32, (BATCH, size, size, 3))
training = tf.placeholder(tf.bool, ())
with slim.arg_scope(arg_scope()):
    logits, end_points = function(images, num_classes, is_training=training, **extra)
flat = tf.reshape(logits, (BATCH, num_classes))
loss = tf.reduce_mean(tf.square(flat - targets))
global_step = tf.train.get_or_create_global_step()
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss, global_step=global_step)
# What a training run leaves in a checkpoint beside the model: slots and EMA shadows.
tf.train.MomentumOptimizer(LEARNING_RATE, 0.9).minimize(loss)
tf.train.ExponentialMovingAverage(0.999).apply(tf.trainable_variables())
model_variables = {v.op.name: v for v in tf.model_variables()}

record = {}
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    tf.train.Saver().save(sess, os.path.join(out, "init.ckpt"), write_meta_graph=False)
    before = sess.run({"logits": logits, **end_points}, {images: inputs, training: False})
    for key, value in before.items():
        record["inference/" + key] = value
    for step in range(STEPS):
        _, value, points = sess.run([train_op, logits, end_points], {images: inputs, training: True})
        record[f"train/{step}"] = value
        if step == 0:
            record.update({"training/" + key: point for key, point in points.items()})
    for name, value in sess.run(model_variables).items():
        record["final/" + name] = value
    record["after/logits"] = sess.run(logits, {images: inputs, training: False})
np.savez(os.path.join(out, "tf1.npz"), inputs=inputs, targets=targets, learning_rate=LEARNING_RATE, **record)
print(len(model_variables), "model variables")
