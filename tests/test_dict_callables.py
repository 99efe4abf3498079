"""BN001 on an Estimator model_fn whose networks arrive through `params`: the model
function calls `params['net_fn'](...)`, and the program's main module stores a project
function that builds batch norm under that key before handing the model function to an
Estimator (`migrate_bn/model/dict_callables.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.project import Project

NETS = """import tensorflow as tf


def net_fn(features, mode):
    training = mode == tf.estimator.ModeKeys.TRAIN
    hidden = tf.layers.batch_normalization(tf.layers.dense(features, 8), training=training)
    return tf.layers.dense(hidden, 1)


def plain_fn(features, mode):
    return tf.layers.dense(tf.layers.dense(features, 8), 1)
"""
MODEL = """import tensorflow as tf


def model_fn(features, labels, mode, params):
    logits = params['net_fn'](features['x'], mode)
    loss = tf.reduce_mean(tf.square(logits - labels))
    train_op = None
    if mode == tf.estimator.ModeKeys.TRAIN:
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode=mode, predictions={'y': logits}, loss=loss, train_op=train_op)
"""
WIRED = MODEL.replace(
    "        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())",
    "        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
    "            train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())")
MAIN = """import tensorflow as tf
import model
import nets


def main(params):
    params['net_fn'] = nets.NET
    estimator = tf.estimator.Estimator(model_fn=HANDED, params=params)
    estimator.train(input_fn=lambda: None, steps=10)


if __name__ == '__main__':
    main({})
"""


def _codes(root: Path, model: str, main: str) -> list[tuple[str, int]]:
    (root / "setup.cfg").write_text("")
    for name, text in {"nets.py": NETS, "model.py": model, "main.py": main}.items():
        (root / name).write_text(text)
    path = root / "model.py"
    findings = analyze(path.read_bytes(), str(path), resolver=Project().resolver(str(path))).findings
    return [(f.code, f.span.line) for f in findings]


def test_the_network_stored_in_params_builds_batch_norm(tmp_path: Path) -> None:
    main = MAIN.replace("NET", "net_fn").replace("HANDED", "model.model_fn")
    assert _codes(tmp_path, MODEL, main) == [("BN001", 9)]


@pytest.mark.parametrize("model, net, handed", [
    (WIRED, "net_fn", "model.model_fn"),  # the train op runs UPDATE_OPS
    (MODEL, "plain_fn", "model.model_fn"),  # the stored network has no batch norm
    (MODEL, "net_fn", "other_model_fn"),  # the dict goes to another model function
], ids=["wired", "no-batch-norm", "another-model-fn"])
def test_silent_twins(tmp_path: Path, model: str, net: str, handed: str) -> None:
    main = MAIN.replace("NET", net).replace("HANDED", handed)
    assert _codes(tmp_path, model, main) == []
