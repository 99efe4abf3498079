"""The same quadratics with the Keras optimizers migrate-bn mapped the TF1 ones to,
eagerly on the newest TensorFlow: usage `python optimizer_keras.py CASES.json DIR`.

CASES.json is a list of {"name", "keras", "gradient_scale"} (see optimizer_tf1.py);
writes DIR/NAME.tf2.npz. Test infrastructure for tests/test_keras_mapping.py."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from quadratic import SCALE, START, STEPS, TARGET  # noqa: E402  (the script's own directory)


def run(case, directory):
    weights = tf.Variable(START)
    optimizer = eval(case["keras"], {"tf": tf})
    history = []
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(case["gradient_scale"] * SCALE * tf.square(weights - TARGET))
        optimizer.apply_gradients([(tape.gradient(loss, weights), weights)])
        history.append(weights.numpy())
    np.savez(os.path.join(directory, case["name"] + ".tf2.npz"), history=np.stack(history))


if __name__ == "__main__":
    cases_path, directory = sys.argv[1:]
    for case in json.load(open(cases_path)):
        run(case, directory)
