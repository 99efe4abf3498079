"""Minimize a fixed quadratic with one TF1 optimizer (graph mode, TF 2.12.1) and save the
weights after each step: usage `python optimizer_tf1.py CASE.json OUT.npz`.
Test infrastructure for tests/test_keras_mapping.py."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

from quadratic import SCALE, START, STEPS, TARGET  # noqa: E402  (the script's own directory)


def main(case_path, out_path):
    case = json.load(open(case_path))
    weights = tf.Variable(START)
    loss = tf.reduce_sum(SCALE * tf.square(weights - TARGET))
    optimizer = eval(case["tf1"], {"tf": tf})
    step = optimizer.minimize(loss)
    history = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(STEPS):
            sess.run(step)
            history.append(sess.run(weights))
    np.savez(out_path, history=np.stack(history))


if __name__ == "__main__":
    main(*sys.argv[1:])
