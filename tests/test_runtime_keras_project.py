"""What the Keras forms of BN003 and BN008 claim, run under TensorFlow 2.12.1 (TF1 code
through tf.compat.v1, tf.keras 2.12).

- BN003 (fixtures/projects/keras_phase_never_set): Keras batch norm called without
  `training=` in an Estimator `model_fn`, in a project that never sets the learning
  phase, runs in inference mode for the whole training run: after `Estimator.train`
  every moving mean is still 0 and every variance 1, and (a session program of the same
  layer) its output on data of mean 3 keeps that mean, where `training=True` centres it.
- BN008 (fixtures/projects/keras_bn_trainer_update_ops): a trainer that groups its train
  op with UPDATE_OPS, in a project whose batch norm is Keras, runs none of its updates:
  every moving statistic stays at 0 and 1. With the project's own later fix (tf.layers
  batch norm in the helper, LibRecommender PR #206) the same trainer moves them all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from migrate_bn.project import Project
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, run

import runtime_oracle as oracle  # tests/conftest.py

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"

pytestmark = oracle.tf1_marks()

KERAS_BN = """    batch_norm = tf.keras.layers.BatchNormalization(momentum=0.8)
            net = batch_norm(net, training=is_training)
"""
TF_LAYERS_BN = """    net = tf.layers.batch_normalization(net, momentum=0.8, training=is_training)
"""

INFERENCE_MODE = """
import json
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, [None, 4])
target = tf.placeholder(tf.float32, [None])
layer = tf.keras.layers.BatchNormalization(center=False, scale=False)
normalized = layer(x) if MODE is None else layer(x, training=MODE)
loss = tf.reduce_mean(tf.square(tf.reduce_sum(tf.layers.dense(normalized, 1), axis=1) - target))
train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
rng = np.random.RandomState(0)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(20):
        batch = rng.normal(3.0, 2.0, size=(32, 4)).astype(np.float32)
        _, out = sess.run([train_op, normalized], {x: batch, target: batch.sum(axis=1)})
    print(json.dumps({"mean": float(out.mean()), "moving_mean": sess.run(layer.moving_mean).tolist()}))
"""


def _findings(project: Path) -> list[str]:
    found = []
    for result, _ in run([str(project)], Job(select_rules(), Options(), project=Project())):
        found += [f"{Path(result.path).name} {f.code}" for f in result.findings]
    return found


def test_keras_batch_norm_without_training_never_trains_in_an_estimator(tmp_path: Path) -> None:
    project = shutil.copytree(PROJECTS / "keras_phase_never_set", tmp_path / "project")
    assert _findings(project) == ["unet.py BN003", "unet.py BN003"]
    trained = oracle.run_program(project / "train.py", project)
    oracle.assert_never_updated(trained.last)


def _inference_run(tmp_path: Path, mode: str) -> dict:
    script = tmp_path / f"inference_{mode}.py"
    script.write_text(f"MODE = {mode}\n" + INFERENCE_MODE)
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONDONTWRITEBYTECODE": "1"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_without_training_the_layer_normalizes_with_its_initial_statistics(tmp_path: Path) -> None:
    missing = _inference_run(tmp_path, "None")
    assert abs(missing["mean"] - 3.0 / (1.0 + 1e-3) ** 0.5) < 0.5, "inference mode: the data's mean stays"
    assert missing["moving_mean"] == [0.0] * 4
    training = _inference_run(tmp_path, "True")
    assert abs(training["mean"]) < 1e-3, "training mode: batch statistics centre the batch"


def test_update_ops_hold_no_keras_updates_in_a_trainer(tmp_path: Path) -> None:
    project = shutil.copytree(PROJECTS / "keras_bn_trainer_update_ops", tmp_path / "project")
    assert _findings(project) == ["trainer.py BN008"]
    before = oracle.run_program(project / "rating_example.py", project).last
    oracle.assert_never_updated(before)

    layers = project / "recsys" / "tfops" / "layers.py"
    source = layers.read_text()
    assert KERAS_BN in source
    layers.write_text(source.replace(KERAS_BN, TF_LAYERS_BN))
    after = oracle.run_program(project / "rating_example.py", project).last
    assert sorted(after) == sorted(before)
    oracle.assert_all_moved(after)
    assert _findings(project) == []
