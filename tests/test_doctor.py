"""`migrate-bn doctor`: a checkpoint trained with the BN001 bug shows layers whose moving
statistics never moved; the fixed program's checkpoint does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from migrate_bn.api import analyze
from migrate_bn.cli import main
from migrate_bn.doctor import layers, report

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "runtime" / "tf1_harness.py"


def test_pairs_statistics_by_layer() -> None:
    values = {"net/bn1/moving_mean": np.zeros(3), "net/bn1/moving_variance": np.ones(3),
              "net/bn2/moving_mean": np.array([0.1, 0, 0]), "net/bn2/moving_variance": np.ones(3),
              "net/bn2/gamma": np.ones(3), "BatchNorm/BatchNorm/moving_mean/biased": np.zeros(3)}
    found = layers(values, values.__getitem__)
    assert [(layer.layer, layer.never_updated) for layer in found] == [("net/bn1", True), ("net/bn2", False)]
    lines, stale = report(found)
    assert stale == 1 and lines[-1] == "1 of 2 batch-norm layers never updated their moving statistics"


PROGRAM_TAIL = """
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(train_op, {x: np.random.rand(16, 4) + 2.0, is_training: True})
    saver.save(sess, "checkpoints/model.ckpt", global_step=10)
"""
PROGRAM = """\
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=is_training, name="bn")
loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1)))
train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
""" + PROGRAM_TAIL


@oracle.needs_tf
def test_doctor_tells_buggy_from_fixed_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = analyze(PROGRAM.encode(), "program.py", fix=True).fixed_source
    assert fixed is not None
    results = {}
    for name, source in (("buggy", PROGRAM.encode()), ("fixed", fixed)):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "program.py").write_bytes(source)
        subprocess.run([sys.executable, str(HARNESS), "program.py", "out.json"], cwd=directory,
                       check=True, capture_output=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        monkeypatch.chdir(directory)
        results[name] = CliRunner().invoke(main, ["doctor", "checkpoints"])
    assert results["buggy"].exit_code == 1, results["buggy"].output
    assert "bn: moving mean still exactly 0 and moving variance exactly 1" in results["buggy"].stdout
    assert results["fixed"].exit_code == 0, results["fixed"].output
    assert "0 of 1 batch-norm layers never updated" in results["fixed"].stdout


@oracle.needs_tf
def test_not_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk").write_text("not a checkpoint")
    result = CliRunner().invoke(main, ["doctor", str(tmp_path / "junk")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
