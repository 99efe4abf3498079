"""Run the Keras layers migrate-bn generated for TF1 batch-norm calls, eagerly on the
newest TensorFlow: usage `python bn_layer_keras.py CASES.json DIR`.

CASES.json is a list of {"name", "constructor", "activation", "training"} (the flag the
mapping wrote: a literal replaces the run's own); DIR/NAME.data.npz holds
each case's batches. Each layer initialises itself from the initializers the mapping
wrote (nothing is copied from the TF1 run), so a wrong initializer shows in `init/`.
DIR/NAME.tf2.npz gets what bn_layer_tf1.py records, by the same names, and the
TensorFlow and Keras versions it ran on. Test infrastructure for
tests/test_keras_mapping.py; the code it evaluates is the mapping's own output for the
test's table of cases."""
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CONSTRAINT_PROBE = np.linspace(-2.0, 2.0, 7, dtype=np.float32)


def run(case, directory):
    data = np.load(os.path.join(directory, case["name"] + ".data.npz"))
    batches, test = data["batches"], data["test"]
    layer = eval(case["constructor"], {"tf": tf})
    activation = eval(case["activation"], {"tf": tf}) if case["activation"] else None
    layer.build((None, *batches.shape[2:]))
    results = {"trainable": np.array(sorted(w.name for w in layer.trainable_weights)),
               "scope": np.array([layer.name])}
    for weight in layer.weights:
        results["init/" + weight.name] = weight.numpy()
        if getattr(weight, "constraint", None) is not None:
            results["constraint/" + weight.name] = np.asarray(weight.constraint(tf.constant(CONSTRAINT_PROBE)))
    results["regularization"] = np.float32(sum(float(loss) for loss in layer.losses))

    def apply(inputs, training):
        # A flag the mapping wrote as a literal (a TF1 default made explicit) wins.
        training = {"True": True, "False": False}.get(case["training"], training)
        outputs = layer(tf.constant(inputs), training=training)
        return (activation(outputs) if activation else outputs).numpy()

    results["train"] = np.stack([apply(batch, True) for batch in batches])
    for weight in layer.weights:
        results["final/" + weight.name] = weight.numpy()
    results["eval"] = apply(test, False)
    results["versions"] = np.array([tf.__version__, keras.__version__])
    np.savez(os.path.join(directory, case["name"] + ".tf2.npz"), **results)


if __name__ == "__main__":
    cases_path, directory = sys.argv[1:]
    for case in json.load(open(cases_path)):
        run(case, directory)
