"""Run a TF1 model function: its checkpoint, outputs and variables before and after training.

Usage: python tf1_side.py MODULE.py CASE.json OUTDIR

CASE.json: {"function": name, "flag": its training-flag parameter or null, "kwargs": {...},
"input_shape": [...], "seed": int, "learning_rate": SGD's, default 0.05, "static_batch": the
placeholder's batch size fixed to the input shape's, for models that need it, "python_flag": the
flag given as a Python bool, "flag_placeholder": the flag is the module's own bool placeholder of
that name, fed rather than passed}. The function is called on a float placeholder with a
`placeholder_with_default(False)` training flag (a tensor, as TF1 programs fed it),
under tensorflow-cpu 2.12.1 with v2 behaviour off; with "python_flag" (a model that passes
its flag as `trainable=`, where TF1 raises on a tensor) it is built twice, sharing its
variables through AUTO_REUSE as such programs did: with True for the training steps, then
with False for inference (the second build must make no variable of its own). Written to OUTDIR: initial/ckpt
(every variable after initialisation), final/ckpt (after 5 SGD steps on the mean square of
the output, run with the update ops) and results.json: the inference output before
training, the training-mode output of each step, the inference output after, and every
variable at the end by name. A function returning a tuple is compared on its first value.
Code written for TF 1.x (`import tensorflow as tf`) gets `tensorflow.compat.v1`, its API in
2.12; code written for `tf.contrib.layers`/`tf.contrib.slim` runs on tf-slim (contrib's code,
taken out of TensorFlow) when it is installed. Runs the user's TF1 code: only ever started
by the check the user runs, never by analysis.
"""
import importlib.util
import json
import os
import sys
import types

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()


def contrib_from_tf_slim() -> None:
    """`tf.contrib.layers`/`tf.contrib.slim` as tf-slim, when it is installed: TensorFlow 2.12
    has no contrib, and tf-slim is contrib's layers and slim code taken out of it."""
    try:
        import tf_slim
    except ImportError:
        return
    import tensorflow
    contrib = types.ModuleType("tensorflow.contrib")
    contrib.slim = tf_slim
    contrib.layers = types.ModuleType("tensorflow.contrib.layers")
    contrib.layers.__dict__.update({name: getattr(tf_slim, name) for name in dir(tf_slim) if not name.startswith("_")})
    for owner in (tensorflow, tf):
        if not hasattr(owner, "contrib"):
            owner.contrib = contrib
    sys.modules.setdefault("tensorflow.contrib", contrib)
    sys.modules.setdefault("tensorflow.contrib.slim", tf_slim)
    sys.modules.setdefault("tensorflow.contrib.layers", contrib.layers)
    # `from tensorflow.contrib.framework import arg_scope`: contrib's arg_scope is tf-slim's
    # (one registry of add_arg_scope functions, so it sets tf-slim's batch norm's arguments).
    contrib.framework = types.ModuleType("tensorflow.contrib.framework")
    contrib.framework.__dict__.update({name: getattr(tf_slim, name) for name in dir(tf_slim) if not name.startswith("_")})
    sys.modules.setdefault("tensorflow.contrib.framework", contrib.framework)
    # `from tensorflow.contrib.layers.python.layers import batch_norm`: contrib's own path to its layers.
    python = types.ModuleType("tensorflow.contrib.layers.python")
    python.layers = contrib.layers
    sys.modules.setdefault("tensorflow.contrib.layers.python", python)
    sys.modules.setdefault("tensorflow.contrib.layers.python.layers", contrib.layers)


contrib_from_tf_slim()


def dropout_at_rate_zero() -> None:
    """CASE.json's "dropout_rate_zero": tf.layers' and slim's dropout at rate 0, as tf2_side.py runs
    Keras's (the two runtimes' random masks cannot agree; everything else is compared)."""
    original = tf.layers.dropout

    def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
        return original(inputs, 0.0, noise_shape, seed, training, name)

    tf.layers.dropout = dropout
    try:
        import tf_slim
    except ImportError:
        return
    original_slim = tf_slim.dropout

    @tf_slim.add_arg_scope
    def slim_dropout(inputs, keep_prob=0.5, noise_shape=None, is_training=True, outputs_collections=None,
                     scope=None, seed=None):
        return original_slim(inputs, 1.0, noise_shape, is_training, outputs_collections, scope, seed)

    for owner in (tf_slim, tf_slim.layers, sys.modules.get("tensorflow.contrib.layers")):
        if owner is not None:
            owner.dropout = slim_dropout


# Code written for TF 1.x imports `tensorflow` itself: its API is 2.12's `compat.v1`.
sys.modules["tensorflow"] = tf
module_path, case_path, out = sys.argv[1:4]
with open(case_path) as handle:
    case = json.load(handle)
sys.path.insert(0, os.path.dirname(os.path.abspath(module_path)))  # the module's own imports
if case.get("dropout_rate_zero"):
    dropout_at_rate_zero()
spec = importlib.util.spec_from_file_location("tf1_model", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if "absl.flags" in sys.modules and not sys.modules["absl.flags"].FLAGS.is_parsed():
    sys.modules["absl.flags"].FLAGS([sys.argv[0]], known_only=True)  # the flags the model reads: their defaults

STEPS, LEARNING_RATE = 5, case.get("learning_rate", 0.05)
rng = np.random.RandomState(case.get("seed", 0))
shape = case["input_shape"]
batches = [rng.normal(1.0, 2.0, size=shape).astype(np.float32) for _ in range(STEPS + 1)]
tf.set_random_seed(case.get("seed", 0))
# The batch size left open, as TF1 programs fed batches; fixed when the model reads it as a
# static size (`tf.reshape(x, conv.get_shape())`): "static_batch" in the case.
inputs = tf.placeholder(tf.float32, shape if case.get("static_batch") else [None] + shape[1:])
training = getattr(module, case["flag"]) if case.get("flag_placeholder") else tf.placeholder_with_default(False, [])


def first(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def build(flag_value):
    flag = {case["flag"]: flag_value} if case.get("flag") and not case.get("flag_placeholder") else {}
    return first(getattr(module, case["function"])(inputs, **flag, **case.get("kwargs", {})))


if case.get("python_flag"):  # two builds sharing their variables: True to train, False to infer
    with tf.variable_scope(tf.get_variable_scope(), reuse=tf.AUTO_REUSE):
        outputs = build(True)
        made = len(tf.global_variables())
        inference = build(False)
    assert len(tf.global_variables()) == made, "the build with the flag False made variables of its own"
else:
    outputs = inference = build(training)
loss = tf.reduce_mean(tf.square(outputs))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(loss)
saver = tf.train.Saver(tf.global_variables())
results = {"steps": []}
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    saver.save(sess, os.path.join(out, "initial", "ckpt"), write_meta_graph=False)
    results["before"] = sess.run(inference, {inputs: batches[-1], training: False}).tolist()
    for step in range(STEPS):
        results["steps"].append(sess.run([outputs, train_op], {inputs: batches[step], training: True})[0].tolist())
    results["after"] = sess.run(inference, {inputs: batches[-1], training: False}).tolist()
    saver.save(sess, os.path.join(out, "final", "ckpt"), write_meta_graph=False)
    results["variables"] = {variable.op.name: value.tolist() for variable, value in
                            zip(tf.global_variables(), sess.run(tf.global_variables()))}
results["batches"] = [batch.tolist() for batch in batches]
with open(os.path.join(out, "results.json"), "w") as handle:
    json.dump(results, handle)
