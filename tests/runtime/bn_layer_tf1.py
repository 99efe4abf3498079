"""Run one TF1 batch-norm call in graph mode (TF 2.12.1 + tf-slim) and save what it
computes: usage `python bn_layer_tf1.py CASE.json DATA.npz OUT.npz`.

Test infrastructure for tests/test_keras_mapping.py; the call comes from the test's
own table of cases, never from user code."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
import tf_slim as slim  # noqa: E402


def main(case_path, data_path, out_path):
    case = json.load(open(case_path))
    data = np.load(data_path)
    batches, test = data["batches"], data["test"]
    x = tf.placeholder(tf.float32, [None, *batches.shape[2:]])
    training = tf.placeholder(tf.bool, [])
    y = eval(case["tf1"], {"tf": tf, "slim": slim, "x": x, "training": training})
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    variables = {v.op.name.rsplit("/", 1)[-1]: v for v in tf.global_variables()}
    results = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for name, variable in variables.items():
            results["init/" + name] = sess.run(variable)
        results["train"] = np.stack([sess.run([y, *updates], {x: batch, training: True})[0] for batch in batches])
        for name, variable in variables.items():
            results["final/" + name] = sess.run(variable)
        results["eval"] = sess.run(y, {x: test, training: False})
    np.savez(out_path, **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
