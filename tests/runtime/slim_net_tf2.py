"""Run the Keras 3 version of a tf-slim net from the checkpoint slim_net_tf1.py saved.

Usage: python tests/runtime/slim_net_tf2.py NET NUM_CLASSES TF1_OUTDIR OUTDIR

Run with the newest TensorFlow (Keras 3, no tf_keras, no tf-slim). Builds the model from
migrate_bn/slim_nets/keras (the package `upgrade` copies into a project), loads the TF1
initial checkpoint with migrate_bn.slim_nets.convert (what `ckpt-convert` runs), then
computes what slim_net_tf1.py computed: inference logits and end points, five SGD steps
in training mode, the weights and moving statistics after them, the inference logits.
Writes OUTDIR/tf2.npz with the same keys and OUTDIR/loaded.txt (the conversion's report);
`weights_file/logits` are the inference logits of a model built anew from the Keras weights
file `ckpt-convert --slim-net` writes.

Test infrastructure only: nothing in the migrate_bn package may import this.
"""
import importlib
import importlib.util
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from migrate_bn.slim_nets import convert  # noqa: E402

assert keras.__version__.split(".")[0] == "3", keras.__version__
assert importlib.util.find_spec("tf_slim") is None and importlib.util.find_spec("tf_keras") is None

FAMILY = {"resnet_v1_50": "resnet_v1", "resnet_v2_50": "resnet_v2", "vgg_16": "vgg",
          "inception_v1": "inception_v1", "inception_v2": "inception_v2",
          "inception_v3": "inception_v3", "mobilenet_v1": "mobilenet_v1", "mobilenet_v1_075": "mobilenet_v1",
          "mobilenet_v1_050": "mobilenet_v1", "mobilenet_v1_025": "mobilenet_v1"}
STEPS = 5
# As slim_net_tf1.py built them: without dropout, which is random.
ARGUMENTS = {"vgg_16": {"dropout_keep_prob": 1.0}, "inception_v1": {"dropout_keep_prob": 1.0},
             "inception_v2": {"dropout_keep_prob": 1.0}, "inception_v3": {"dropout_keep_prob": 1.0},
             **{name: {"dropout_keep_prob": 1.0} for name in FAMILY if name.startswith("mobilenet")}}

net_name, num_classes, tf1_out, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
family = importlib.import_module("migrate_bn.slim_nets.keras." + FAMILY[net_name])
recorded = np.load(os.path.join(tf1_out, "tf1.npz"))
inputs, targets = recorded["inputs"], recorded["targets"]

model = getattr(family, net_name)(num_classes=num_classes, **ARGUMENTS.get(net_name, {}))
model(inputs[:1], training=False)  # builds every weight
loaded = convert.load(model, os.path.join(tf1_out, "init.ckpt"), model.scope)
with open(os.path.join(out, "loaded.txt"), "w") as handle:
    handle.write("\n".join(loaded.lines()) + "\n")

record = {}
logits, end_points = model(inputs, training=False)
record["inference/logits"] = logits.numpy()
for key, value in end_points.items():
    record["inference/" + key] = value.numpy()

# `ckpt-convert --slim-net`: the weights file, loaded into a model built anew, predicts the same.
convert.convert_checkpoint(os.path.join(tf1_out, "init.ckpt"), os.path.join(out, "model.weights.h5"), net_name)
fresh = getattr(family, net_name)(num_classes=num_classes, **ARGUMENTS.get(net_name, {}))
fresh(inputs[:1], training=False)
fresh.load_weights(os.path.join(out, "model.weights.h5"))
record["weights_file/logits"] = fresh(inputs, training=False)[0].numpy()

if net_name == "inception_v3":
    # A checkpoint of the net built without its auxiliary head (create_aux_logits=False)
    # converts to a model without it: a slim-named checkpoint of all but that head.
    plain = {name: variable.value for name, variable in model.slim_variables().items() if "/AuxLogits/" not in name}
    tf.compat.v1.train.Saver(var_list=plain).save(None, os.path.join(out, "no_aux", "model.ckpt"))
    lines = convert.convert_checkpoint(os.path.join(out, "no_aux", "model.ckpt"),
                                       os.path.join(out, "no_aux.weights.h5"), net_name)
    record["no_aux/lines"] = np.array("\n".join(lines))
    record["no_aux/variables"] = np.array(len(plain))

# What the conversion refuses: a model with other logits (a shape), one without logits (a
# variable of the net's scope left unused).
for kind, arguments in (("shape", {"num_classes": num_classes + 1}), ("unused", {"num_classes": None})):
    try:
        other = getattr(family, net_name)(**{**ARGUMENTS.get(net_name, {}), **arguments})
        other(inputs[:1], training=False)
        convert.load(other, os.path.join(tf1_out, "init.ckpt"), other.scope)
        record["refused/" + kind] = np.array("")
    except (convert.SlimCheckpointError, ValueError) as error:  # vgg/inception: no net without logits
        record["refused/" + kind] = np.array(f"{type(error).__name__}: {error}")

optimizer = keras.optimizers.SGD(learning_rate=float(recorded["learning_rate"]))


@tf.function
def train_step(images):
    with tf.GradientTape() as tape:
        logits, end_points = model(images, training=True)
        loss = tf.reduce_mean(tf.square(tf.reshape(logits, (len(inputs), num_classes)) - targets))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return logits, end_points


for step in range(STEPS):
    logits, end_points = train_step(tf.constant(inputs))
    record[f"train/{step}"] = logits.numpy()
    if step == 0:
        record.update({"training/" + key: point.numpy() for key, point in end_points.items()})
for name, variable in model.slim_variables().items():
    record["final/" + name] = variable.numpy()
record["after/logits"] = model(inputs, training=False)[0].numpy()
np.savez(os.path.join(out, "tf2.npz"), **record)
