"""The same quadratic with the Keras optimizer migrate-bn mapped the TF1 one to, eagerly
on the newest TensorFlow: usage `python optimizer_keras.py CASE.json OUT.npz`.
Test infrastructure for tests/test_keras_mapping.py."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from quadratic import SCALE, START, STEPS, TARGET  # noqa: E402  (the script's own directory)


def main(case_path, out_path):
    case = json.load(open(case_path))
    weights = tf.Variable(START)
    optimizer = eval(case["keras"], {"tf": tf})
    history = []
    for _ in range(STEPS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(SCALE * tf.square(weights - TARGET))
        optimizer.apply_gradients([(tape.gradient(loss, weights), weights)])
        history.append(weights.numpy())
    np.savez(out_path, history=np.stack(history))


if __name__ == "__main__":
    main(*sys.argv[1:])
