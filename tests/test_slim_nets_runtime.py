"""tf-slim's nets and their Keras versions (migrate_bn/slim_nets), proven on the same weights
(and the TF models repository's MobileNet v1, when MIGRATE_BN_SLIM_MODELS_SOURCE names a copy).

For each net, tests/runtime/slim_net_tf1.py builds tf-slim's net under
tensorflow-cpu==2.12.1 + tf-slim, as its users did (`with slim.arg_scope(<net>_arg_scope()):
net(images, num_classes, is_training=flag)`), randomly initialised, and saves it the way
published checkpoints are laid out, with what a training run adds (global step, momentum
slots, EMA shadows); it records inference logits and every end point, then five
training-mode steps (outputs of each, and every weight and moving statistic after).
tests/runtime/slim_net_tf2.py then runs the Keras model on the newest TensorFlow (Keras 3,
neither tf_keras nor tf-slim installed), loaded by the code behind `ckpt-convert`.

Checked: every Keras weight filled and every model variable used, the rest listed by kind;
inference logits and every end point within 1e-5 of the tensor's largest value; the
weights file `ckpt-convert --slim-net` writes predicts the same; after five training-mode
steps the first batch norm's moving mean and variance equal to the bit (the same kernel
and the same update as TF1's), every moving variance within 1e-5, every moving mean and
each step's outputs within 1e-5, Inception V3's within 1e-4 (see MOVING_MEAN for why).
Relative error is per tensor: max|tf1 - keras| / max|tf1|.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import runtime_oracle as oracle  # tests/conftest.py

pytestmark = oracle.tf1_marks()
ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "tests" / "runtime"

# net: (input size, batch, num_classes). Each net at its published input size: the ResNets,
# VGG, Inception V1 and V2 at 224x224 (VGG's fc6 is a 7x7 VALID convolution over pool5,
# Inception V1's logits a 7x7 VALID average pool over Mixed_5c; with spatial_squeeze,
# slim's default, both need that size; the ResNets would take any); Inception V3's
# auxiliary head has the published layout (`Conv2d_2a_5x5`) only from 299x299 on. Dropout
# is random, so VGG and Inception run with keep-probability 1 (slim_net_tf1.py).
NETS = {"resnet_v1_50": (224, 2, 10), "resnet_v2_50": (224, 2, 10), "vgg_16": (224, 1, 10),
        "inception_v1": (224, 2, 10), "inception_v2": (224, 2, 10), "inception_v3": (299, 2, 10),
        "mobilenet_v1": (224, 2, 10), "mobilenet_v1_075": (224, 2, 10), "mobilenet_v1_050": (224, 2, 10),
        "mobilenet_v1_025": (224, 2, 10)}
# MobileNet v1 is not in tf-slim but in the TF models repository's research/slim, which no
# package index has: it runs when this variable names a directory holding a copy of its
# nets/mobilenet_v1.py (slim_net_tf1.py), and is skipped otherwise (CI reaches no GitHub).
MODELS_SOURCE = "MIGRATE_BN_SLIM_MODELS_SOURCE"
MODELS_NETS = ("mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025")
# The five steps run plain SGD with learning rate 0: the weights stay, so the steps compare
# the training-mode forward pass and how batch norm accumulates its moving statistics
# (TF1's fused kernel: the n/(n-1)-corrected variance). With any learning rate the runs
# part within a step or two: a randomly initialised fifty-layer net in training mode is
# chaotic (a 1e-6 relative change of the weights moves the Keras model's own outputs by
# 24% after one step of 1e-4, measured), so no implementation would agree to 1e-5 there.
LEARNING_RATE = 0.0
INFERENCE = 1e-5
MOVING_VARIANCE = 1e-5
# The Keras nets run TF1's own fused kernel (FusedBatchNormV3) and TF1's update, so the
# first batch norm, whose input both sides compute alike, ends equal to the bit. What
# differs is one operation of the TensorFlow builds (tests/runtime/tf_builds_ops.py, both
# with Eigen's kernels): TF 2.21's reciprocal square root rounds 17% of float32 inputs one
# ulp away from TF 2.12's (neither is correctly rounded; no TF 2.21 op reproduces 2.12's),
# and the kernel normalises with it, so a sixth of each batch norm's channels come out an
# ulp apart; convolutions (1x1 to 7x7, strided, 1x7/7x1, separable), pooling and the batch
# moments are bit-identical. Training mode normalises every layer by its batch's
# statistics, which amplifies those ulps along the depth, the more the fewer values a
# channel has: Inception V3 (2 per channel in its auxiliary head, 128 in Mixed_7c) ends
# with moving means 2.3e-5 apart (1e-7 in the second layer) and logits 2.7e-5. The ResNets
# at 64x64 (8 per channel in block4) drifted as far: moving means 4.0e-5 and 1.5e-5,
# logits 3.6e-5 and 2.7e-5; at their published 224x224 (98 per channel) resnet_v1_50 holds
# 6.5e-6 and 6.2e-6, within 1e-5, so they run at that size. The learning rate is 0 and the weights stay equal to the
# bit (checked below), so no optimizer, loss or step is involved. TF 2.12 against itself,
# slim's batch norm unfused instead of fused (other roundings of the same normalisation), moves
# resnet_v1_50's training logits by 5.7e-5, more than the conversion does. Nothing on the
# Keras side can remove it short of TF 2.12's rsqrt itself.
MOVING_MEAN = 1e-4
TRAINING_OUTPUTS = 1e-4
# Inception V1 (22 layers, 49 values per channel at its deepest) keeps those last bits
# small: measured moving means 3.4e-6, training logits 5.0e-6, so it is held to 1e-5, as
# are the ResNets at 224x224.
# For scale, TF 2.12 against itself with oneDNN's kernels instead of Eigen's, on
# resnet_v1_50: moving means 6.9e-5, training logits 9.4e-5, inference 3.0e-6.
# Inception V2 (its separable first layer and modules, 49 values per channel at its deepest):
# measured moving means 1.9e-6, training logits 4.1e-6.
# MobileNet v1 at 224x224 (98 values per channel at its deepest): moving means 2.5e-6,
# training logits 3.4e-6.
WITHIN_1E5 = ("inception_v1", "inception_v2", "resnet_v1_50", "resnet_v2_50", *MODELS_NETS)
# Both TensorFlows run Eigen's CPU kernels: their oneDNN builds pick other convolution
# algorithms (inference 3.2e-6 apart instead of 0, training logits 8e-5), which is no part
# of what the conversion computes.
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def run(python: str, *arguments: str) -> str:
    done = subprocess.run([python, *arguments], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, **ENVIRONMENT})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def run_net(net: str, tf1: Path, tf2: Path, tf2_python: str) -> str:
    """The TF1 net, then its Keras model from TF1's checkpoint; what the TF1 side printed."""
    size, batch, classes = NETS[net]
    printed = run(sys.executable, str(RUNTIME / "slim_net_tf1.py"), net, str(size), str(batch), str(classes),
                  str(LEARNING_RATE), str(tf1))
    run(tf2_python, str(RUNTIME / "slim_net_tf2.py"), net, str(classes), str(tf1), str(tf2))
    return printed


def available(net: str) -> bool:
    return net not in MODELS_NETS or bool(os.environ.get(MODELS_SOURCE))


@pytest.fixture(scope="module")
def started(request, tmp_path_factory, tf2_python: str):
    """The selected nets' two runs (`-k mobilenet`: that one alone), two nets at a time:
    much of each run is single-threaded Python (importing TensorFlow, building the graph
    or the Keras model), which the other net's run overlaps on a two-core machine."""
    selected = {item.callspec.params["runs"] for item in request.session.items
                if "runs" in getattr(getattr(item, "callspec", None), "params", {})}
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {}
    for net in sorted(selected & {name for name in NETS if available(name)},
                      key=lambda name: -NETS[name][0]):  # the largest inputs first
        tf1, tf2 = tmp_path_factory.mktemp(net + "-tf1"), tmp_path_factory.mktemp(net + "-tf2")
        futures[net] = (pool.submit(run_net, net, tf1, tf2, tf2_python), tf1, tf2)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module", params=sorted(NETS))
def runs(request, started):
    net = request.param
    if not available(net):
        pytest.skip(f"{net} is the TF models repository's (research/slim), on no package index: set "
                    f"{MODELS_SOURCE} to a directory holding its nets/mobilenet_v1.py to run it")
    future, tf1, tf2 = started[net]
    printed = future.result()
    model_variables = int(re.search(r"(\d+) model variables", printed).group(1))
    return (net, np.load(tf1 / "tf1.npz"), np.load(tf2 / "tf2.npz"), (tf2 / "loaded.txt").read_text(),
            model_variables, tf2)


def relative(expected: np.ndarray, actual: np.ndarray) -> float:
    """The largest difference, relative to the largest value of the tensor."""
    return float(np.max(np.abs(expected - actual)) / max(np.max(np.abs(expected)), 1e-30))


def test_checkpoint_fully_used_and_every_weight_filled(runs) -> None:
    net, _, tf2, loaded, model_variables, _ = runs
    lines = loaded.splitlines()
    # `load` raises on a weight without a variable or a variable of the net without a weight.
    assert lines[0] == f"{model_variables} variables -> Keras weights (every weight filled)"
    trainable = model_variables - 2 * sum(1 for line in tf2.files if line.endswith("/moving_mean"))
    assert lines[1] == "1 global step, not converted: global_step"
    # The loss is the logits': Inception V3's auxiliary head gets no gradient, so no slots.
    auxiliary = sum(1 for key in tf2.files if "/AuxLogits/" in key and key.startswith("final/")
                    and not key.endswith(("/moving_mean", "/moving_variance")))
    assert lines[2].startswith(f"{trainable - auxiliary} optimizer slots, not converted")
    assert lines[3].startswith(f"{trainable} EMA shadows, not converted")
    assert len(lines) == 4
    # Never a partial load: other logits, or no logits at all, are refused with the reason.
    assert "SlimCheckpointError" in str(tf2["refused/shape"]) and "shape" in str(tf2["refused/shape"])
    if net.startswith(("resnet", "mobilenet")):
        assert "which the Keras model has no weight for" in str(tf2["refused/unused"])
    if net == "inception_v3":  # a checkpoint without the auxiliary head: a model without it
        assert str(tf2["no_aux/lines"]).startswith(f"{int(tf2['no_aux/variables'])} variables -> Keras weights")


def test_inference_outputs_and_end_points(runs) -> None:
    net, tf1, tf2, _, _, _ = runs
    tf1_points = {key for key in tf1.files if key.startswith("inference/")}
    assert tf1_points == {key for key in tf2.files if key.startswith("inference/")}
    assert len(tf1_points) > 15  # every conv, unit, block or module of slim's end points, by slim's key
    worst = max(relative(tf1[key], tf2[key]) for key in tf1_points)
    assert worst <= INFERENCE, worst
    # What `ckpt-convert --slim-net` writes, loaded into a model built anew.
    assert relative(tf2["inference/logits"], tf2["weights_file/logits"]) <= 1e-6


def test_training_steps_outputs_and_moving_statistics(runs) -> None:
    net, tf1, tf2, _, _, _ = runs
    assert {key for key in tf1.files if key.startswith("training/")} == \
        {key for key in tf2.files if key.startswith("training/")}
    outputs = max(relative(tf1[f"train/{step}"], tf2[f"train/{step}"]) for step in range(5))
    assert outputs <= (1e-5 if net in WITHIN_1E5 else TRAINING_OUTPUTS), outputs
    statistics = [key for key in tf1.files if key.endswith(("/moving_mean", "/moving_variance"))]
    means = [key for key in statistics if key.endswith("/moving_mean")]
    if net != "vgg_16":  # VGG has no batch norm
        # The first batch norm (variables in creation order): TF1's kernel and update, exactly.
        first = means[0][:-len("moving_mean")]
        assert all(np.array_equal(tf1[first + name], tf2[first + name]) for name in ("moving_mean", "moving_variance"))
        worst = max(relative(tf1[key], tf2[key]) for key in means)
        assert worst <= (1e-5 if net in WITHIN_1E5 else MOVING_MEAN), worst
        worst = max(relative(tf1[key], tf2[key]) for key in statistics if key not in means)
        assert worst <= MOVING_VARIANCE, worst
        assert all(np.max(np.abs(tf1[key])) > 0 for key in means)  # they moved
    # Learning rate 0: the weights stay exactly what the checkpoint held, on both sides.
    weights = [key for key in tf1.files if key.startswith("final/") and key not in statistics]
    assert all(np.array_equal(tf1[key], tf2[key]) for key in weights)


UPGRADED_RUN = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import model  # the upgraded module, importing slim_nets_keras from beside it
inputs = np.load(sys.argv[2])["inputs"]
keras_model = getattr(model, sys.argv[5])
keras_model(inputs[:1], training=False)
keras_model.load_weights(sys.argv[3])
logits, _ = model.model(inputs, False)
np.save(sys.argv[4], logits.numpy())
"""
# The model code each net's check upgrades (fixtures/slim_nets), as its users called it.
UPGRADED = {"resnet_v1_50": "model.py", "mobilenet_v1": "mobilenet_model.py"}


def test_the_upgraded_module_predicts_what_slim_did(runs, tmp_path, tf2_python: str) -> None:
    """The user's path: `upgrade` the model code, `ckpt-convert --slim-net` the checkpoint,
    load it into the upgraded module's model: TF1's inference logits."""
    from click.testing import CliRunner

    from migrate_bn.cli import main

    net, tf1, _, _, _, tf2_out = runs
    if net not in UPGRADED:
        pytest.skip(f"no module of the fixtures calls {net}")
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text((ROOT / "fixtures" / "slim_nets" / UPGRADED[net]).read_text())
    assert CliRunner().invoke(main, ["upgrade", str(project)]).exit_code == 0
    assert "from slim_nets_keras import" in (project / "model.py").read_text()
    (tmp_path / "run.py").write_text(UPGRADED_RUN)
    recorded = tmp_path / "tf1.npz"
    np.savez(recorded, inputs=tf1["inputs"])
    run(tf2_python, str(tmp_path / "run.py"), str(project), str(recorded), str(tf2_out / "model.weights.h5"),
        str(tmp_path / "logits.npy"), f"{net}_model")
    assert relative(tf1["inference/logits"], np.load(tmp_path / "logits.npy")) <= INFERENCE


PORTABLE = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from migrate_bn.slim_nets.keras.layers import FusedBatchNorm

inputs = np.random.RandomState(0).normal(3.0, 2.0, size=(2, 5, 5, 4)).astype(np.float32)
layer = FusedBatchNorm(axis=-1, momentum=0.9, epsilon=1e-3)
layer.build(inputs.shape)
kernel = layer.call(inputs, training=True)
after_kernel = [layer.moving_mean.numpy(), layer.moving_variance.numpy()]
layer.moving_mean.assign(np.zeros(4, np.float32))
layer.moving_variance.assign(np.ones(4, np.float32))
outputs, mean, variance = layer._portable(inputs, 3, True)
print(float(np.max(np.abs(np.asarray(outputs) - np.asarray(kernel)))),
      float(np.max(np.abs(np.asarray(mean) - inputs.mean(axis=(0, 1, 2))))),
      float(np.max(np.abs(np.asarray(variance) - inputs.var(axis=(0, 1, 2), ddof=1)))))
'''


def test_the_portable_path_computes_what_the_kernel_does(tmp_path, tf2_python: str) -> None:
    """Off the TensorFlow backend (or off 4-D input) the layer computes the kernel's
    arithmetic in Keras ops: the batch moments, n/(n-1)-corrected variance, outputs."""
    script = tmp_path / "portable.py"
    script.write_text(PORTABLE)
    done = subprocess.run([tf2_python, str(script), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    outputs, mean, variance = (float(value) for value in done.stdout.split())
    assert outputs < 1e-5 and mean < 1e-5 and variance < 1e-4


SEPARABLE_TF1 = '''
import sys
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim
tf.disable_eager_execution()
inputs = np.random.RandomState(0).normal(size=(2, 9, 9, 3)).astype(np.float32)
images = tf.constant(inputs)
init = tf.truncated_normal_initializer(stddev=0.5)
biases = tf.random_uniform_initializer(-1.0, 1.0)
# With num_outputs: depthwise then pointwise; None: the depthwise convolution alone.
both = slim.separable_conv2d(images, 5, [3, 3], depth_multiplier=2, stride=2, weights_initializer=init,
                             biases_initializer=biases, scope="both")
alone = slim.separable_conv2d(images, None, [3, 3], depth_multiplier=3, weights_initializer=init,
                              biases_initializer=biases, scope="alone")
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    found = sess.run({v.op.name: v for v in tf.global_variables()})
    found["out/both"], found["out/alone"] = sess.run([both, alone])
np.savez(sys.argv[1], inputs=inputs, **found)
'''

SEPARABLE_TF2 = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
from migrate_bn.slim_nets.keras.layers import SlimSeparableConv2D
recorded = np.load(sys.argv[1])
inputs = recorded["inputs"]
for scope, filters, multiplier, stride in (("both", 5, 2, 2), ("alone", None, 3, 1)):
    layer = SlimSeparableConv2D(scope, filters, 3, depth_multiplier=multiplier, stride=stride)
    layer(inputs)
    names = [name for name, _ in layer.slim_variables()]
    assert sorted(names) == sorted(key for key in recorded.files if key.startswith(scope + "/")), names
    for name, variable in layer.slim_variables():
        variable.assign(recorded[name])
    print(scope, float(np.max(np.abs(np.asarray(layer(inputs)) - recorded["out/" + scope]))))
'''


def test_slim_separable_conv2d_computes_what_slim_did(tmp_path, tf2_python: str) -> None:
    """slim's separable_conv2d (Inception V2's first layer), with num_outputs and without:
    the Keras layer has slim's variables by name and, on them, slim's outputs."""
    (tmp_path / "tf1.py").write_text(SEPARABLE_TF1)
    (tmp_path / "tf2.py").write_text(SEPARABLE_TF2)
    recorded = tmp_path / "separable.npz"
    run(sys.executable, str(tmp_path / "tf1.py"), str(recorded))
    printed = run(tf2_python, str(tmp_path / "tf2.py"), str(recorded), str(ROOT))
    differences = dict(line.split() for line in printed.splitlines())
    assert set(differences) == {"both", "alone"} and all(float(value) <= 1e-6 for value in differences.values())


MOBILENET_LAYOUT = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from migrate_bn.slim_nets.keras import mobilenet_v1

model = mobilenet_v1.mobilenet_v1(num_classes=1001)
_, end_points = model(np.zeros((1, 224, 224, 3), np.float32), training=False)
variables = model.slim_variables()
print(len(variables))
print(sum(int(np.prod(v.shape)) for name, v in variables.items()
          if name.endswith(("/weights", "/depthwise_weights")) and "/Logits/" not in name))
for name in ("MobilenetV1/Conv2d_0/weights", "MobilenetV1/Conv2d_1_depthwise/depthwise_weights",
             "MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_mean", "MobilenetV1/Logits/Conv2d_1c_1x1/biases"):
    print(name, tuple(variables[name].shape))
print(" ".join(f"{key}:{value.shape[1]}x{value.shape[-1]}" for key, value in end_points.items() if value.ndim == 4))
'''


def test_mobilenet_v1_has_the_published_layout(tmp_path, tf2_python: str) -> None:
    """Without research/slim at hand (CI): the Keras MobileNet v1 has the paper's layer
    table (arXiv:1704.04861, Table 1: the feature maps and depths), research/slim's weight
    count for its body (3,185,088, its file's own table) and the published checkpoints'
    variable names and shapes (mobilenet_v1_1.0_224.ckpt: 1001 classes)."""
    script = tmp_path / "layout.py"
    script.write_text(MOBILENET_LAYOUT)
    lines = run(tf2_python, str(script), str(ROOT)).splitlines()
    assert lines[:2] == ["137", "3185088"]
    assert lines[2:6] == ["MobilenetV1/Conv2d_0/weights (3, 3, 3, 32)",
                          "MobilenetV1/Conv2d_1_depthwise/depthwise_weights (3, 3, 32, 1)",
                          "MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_mean (1024,)",
                          "MobilenetV1/Logits/Conv2d_1c_1x1/biases (1001,)"]
    maps = dict(item.split(":") for item in lines[6].split())
    assert maps["Conv2d_0"] == "112x32" and maps["Conv2d_1_pointwise"] == "112x64"
    assert maps["Conv2d_2_depthwise"] == "56x64" and maps["Conv2d_5_pointwise"] == "28x256"
    assert maps["Conv2d_11_pointwise"] == "14x512" and maps["Conv2d_13_pointwise"] == "7x1024"
    assert maps["AvgPool_1a"] == "1x1024"
