"""Run TF1 batch-norm calls in graph mode (TF 2.12.1 + tf-slim) and save what each
computes: usage `python bn_layer_tf1.py CASES.json DIR`.

CASES.json is a list of {"name", "tf1"}; DIR/NAME.data.npz holds each case's batches.
Each call runs in its own graph; DIR/NAME.tf1.npz gets, for every variable (by its last
name component): its initial value (`init/`), its final one (`final/`), what its
constraint makes of a probe vector (`constraint/`); the training-mode output of each
step (`train`), the inference-mode output at the end (`eval`), the regularization loss
at the start (`regularization`), the names of the trainable variables and the layer's
scope. Test infrastructure for tests/test_keras_mapping.py; the calls come from the
test's own table of cases, never from user code."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
import tf_slim as slim  # noqa: E402

CONSTRAINT_PROBE = np.linspace(-2.0, 2.0, 7, dtype=np.float32)


def run(case, directory):
    data = np.load(os.path.join(directory, case["name"] + ".data.npz"))
    batches, test = data["batches"], data["test"]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, *batches.shape[2:]])
        training = tf.placeholder(tf.bool, [])
        y = eval(case["tf1"], {"tf": tf, "slim": slim, "x": x, "training": training})
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        variables = {v.op.name.rsplit("/", 1)[-1]: v for v in tf.global_variables()}
        regularization = tf.add_n(tf.losses.get_regularization_losses() or [tf.constant(0.0)])
        probe = tf.constant(CONSTRAINT_PROBE)
        constraints = {name: v.constraint(probe) for name, v in variables.items() if v.constraint is not None}
        results = {"trainable": np.array(sorted(v.op.name.rsplit("/", 1)[-1] for v in tf.trainable_variables())),
                   "scope": np.array(sorted({v.op.name.rsplit("/", 1)[0] for v in variables.values()}))}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for name, variable in variables.items():
                results["init/" + name] = sess.run(variable)
            for name, constrained in constraints.items():
                results["constraint/" + name] = sess.run(constrained)
            results["regularization"] = sess.run(regularization)
            results["train"] = np.stack([sess.run([y, *updates], {x: batch, training: True})[0] for batch in batches])
            for name, variable in variables.items():
                results["final/" + name] = sess.run(variable)
            results["eval"] = sess.run(y, {x: test, training: False})
    np.savez(os.path.join(directory, case["name"] + ".tf1.npz"), **results)


if __name__ == "__main__":
    cases_path, directory = sys.argv[1:]
    for case in json.load(open(cases_path)):
        run(case, directory)
