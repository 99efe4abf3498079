"""Minimize a fixed quadratic with TF1 optimizers (graph mode, TF 2.12.1) and save the
weights after each step: usage `python optimizer_tf1.py CASES.json DIR`.

CASES.json is a list of {"name", "tf1", "gradient_scale", "mean_square_from_zero"}:
the quadratic is scaled by `gradient_scale` (a tiny one makes gradients as small as an
optimizer's epsilon, so a wrong epsilon shows), and `mean_square_from_zero` starts
RMSProp's mean-square slot at 0, as Keras does, instead of TF1's 1. Writes
DIR/NAME.tf1.npz. Test infrastructure for tests/test_keras_mapping.py."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

from quadratic import SCALE, START, STEPS, TARGET  # noqa: E402  (the script's own directory)


def run(case, directory):
    with tf.Graph().as_default():
        weights = tf.Variable(START)
        loss = tf.reduce_sum(case["gradient_scale"] * SCALE * tf.square(weights - TARGET))
        optimizer = eval(case["tf1"], {"tf": tf})
        step = optimizer.minimize(loss)
        history = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            if case["mean_square_from_zero"]:
                slot = optimizer.get_slot(weights, "rms")
                sess.run(slot.assign(tf.zeros_like(slot)))
            for _ in range(STEPS):
                sess.run(step)
                history.append(sess.run(weights))
    np.savez(os.path.join(directory, case["name"] + ".tf1.npz"), history=np.stack(history))


if __name__ == "__main__":
    cases_path, directory = sys.argv[1:]
    for case in json.load(open(cases_path)):
        run(case, directory)
