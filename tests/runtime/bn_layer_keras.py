"""Run the Keras layer migrate-bn generated for a TF1 batch-norm call, eagerly on the
newest TensorFlow, from the TF1 run's initial weights: usage
`python bn_layer_keras.py CASE.json DATA.npz TF1.npz OUT.npz`.

Test infrastructure for tests/test_keras_mapping.py; the code it evaluates is the
mapping's own output for the test's table of cases."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main(case_path, data_path, tf1_path, out_path):
    case = json.load(open(case_path))
    data, tf1 = np.load(data_path), np.load(tf1_path)
    batches, test = data["batches"], data["test"]
    layer = eval(case["constructor"], {"tf": tf})
    activation = eval(case["activation"], {"tf": tf}) if case["activation"] else None
    layer.build((None, *batches.shape[2:]))
    for weight in layer.weights:
        weight.assign(tf1["init/" + weight.name])

    def apply(inputs, training):
        outputs = layer(tf.constant(inputs), training=training)
        return (activation(outputs) if activation else outputs).numpy()

    results = {"train": np.stack([apply(batch, True) for batch in batches])}
    for weight in layer.weights:
        results["final/" + weight.name] = weight.numpy()
    results["eval"] = apply(test, False)
    results["versions"] = np.array([tf.__version__])
    np.savez(out_path, **results)


if __name__ == "__main__":
    main(*sys.argv[1:])
