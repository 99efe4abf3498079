"""Run the Keras model `upgrade` made of a TF1 model function, from the TF1 checkpoint.

Usage: python tf2_side.py MODULE.py CASE.json NAME_MAP.json TF1_DIR OUTDIR

Converts TF1_DIR/initial/ckpt with `migrate_bn.checkpoints` (the code behind
`migrate-bn ckpt-convert`) and reads it into the model (CASE.json's "class", built with
its "kwargs") with `assert_consumed()` (every value used, every weight filled); then
computes what tf1_side.py computed (same batches, loss and optimizer: plain SGD) and
writes OUTDIR/results.json, with every weight at the end by TF1 name and the checkpoint
converter's lines.
"""
import importlib.util
import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from migrate_bn import checkpoints  # noqa: E402

module_path, case_path, name_map_path, tf1_dir, out = sys.argv[1:6]
with open(case_path) as handle:
    case = json.load(handle)
with open(os.path.join(tf1_dir, "results.json")) as handle:
    batches = [np.asarray(batch, np.float32) for batch in json.load(handle)["batches"]]
for absent in ("tf_slim", "tf_keras"):  # the converted model needs neither
    assert importlib.util.find_spec(absent) is None, f"{absent} is installed: the check needs an environment without it"
STEPS, LEARNING_RATE = 5, case.get("learning_rate", 0.05)
name_map = checkpoints.read_name_map(name_map_path)
lines = checkpoints.convert(os.path.join(tf1_dir, "initial", "ckpt"), os.path.join(out, "converted", "ckpt"), name_map)
sys.path.insert(0, os.path.dirname(os.path.abspath(module_path)))
spec = importlib.util.spec_from_file_location("tf2_model", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
if "absl.flags" in sys.modules and not sys.modules["absl.flags"].FLAGS.is_parsed():
    sys.modules["absl.flags"].FLAGS([sys.argv[0]], known_only=True)  # the flags the model reads: their defaults
model = getattr(module, case["class"])(**case.get("kwargs", {}))
if case.get("dropout_rate_zero"):  # as tf1_side.py runs TF1's: the random masks cannot agree
    for attribute, layer in vars(model).items():
        if attribute.startswith("tf1/") and isinstance(layer, tf.keras.layers.Dropout):
            layer.rate = 0.0


def first(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


first(model(batches[-1], training=False))  # builds every layer: nothing changes in inference mode
tf.train.Checkpoint(model=model).read(os.path.join(out, "converted", "ckpt")).assert_consumed()
optimizer = tf.keras.optimizers.SGD(learning_rate=LEARNING_RATE)


@tf.function
def train_step(batch):
    with tf.GradientTape() as tape:
        outputs = first(model(batch, training=True))
        loss = tf.reduce_mean(tf.square(outputs))
    variables = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return outputs


results = {"before": first(model(batches[-1], training=False)).numpy().tolist(), "steps": [], "lines": lines}
for step in range(STEPS):
    results["steps"].append(train_step(batches[step]).numpy().tolist())
results["after"] = first(model(batches[-1], training=False)).numpy().tolist()
results["weights"] = {f"{attribute[len('tf1/'):]}/{weight.path.rsplit('/', 1)[-1]}": weight.numpy().tolist()
                      for attribute, layer in vars(model).items()
                      if attribute.startswith("tf1/") and isinstance(layer, tf.keras.layers.Layer)
                      and not hasattr(layer, "variable_name") for weight in layer.weights}
# The model's own variables (tf.get_variable's, model_code_variables.py), by their TF1 names.
results["variables"] = {attribute[len("tf1/"):]: layer.variable.numpy().tolist()
                        for attribute, layer in vars(model).items()
                        if attribute.startswith("tf1/") and hasattr(layer, "variable_name")}
with open(os.path.join(out, "results.json"), "w") as handle:
    json.dump(results, handle)
