"""`migrate-bn doctor`: what PATH may be, the values check, the graph analysis on small
hand-made graphs (no TensorFlow needed), and a checkpoint trained with the BN001 bug
against the fixed program's. Graphs of the runtime fixtures: tests/test_doctor_graphs.py."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from migrate_bn.api import analyze
from migrate_bn.cli import main
from migrate_bn import graph_doctor
from migrate_bn.doctor import combine, layers, render_text
from migrate_bn.graph_doctor import Node, Signature
from migrate_bn.saved_graphs import SavedGraphError, locate

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "runtime" / "tf1_harness.py"
_HAVE_TF = all(importlib.util.find_spec(name) for name in ("tensorflow", "tf_slim"))


def test_pairs_statistics_by_layer() -> None:
    values = {"net/bn1/moving_mean": np.zeros(3), "net/bn1/moving_variance": np.ones(3),
              "net/bn2/moving_mean": np.array([0.1, 0, 0]), "net/bn2/moving_variance": np.ones(3),
              "net/bn2/gamma": np.ones(3), "BatchNorm/BatchNorm/moving_mean/biased": np.zeros(3)}
    found = layers(values, values.__getitem__)
    assert [(layer.layer, layer.never_updated) for layer in found] == [("net/bn1", True), ("net/bn2", False)]
    diagnosis = combine("ckpt", "checkpoint", "ckpt", None, None, found, None)
    assert [finding.layer for finding in diagnosis.findings] == ["net/bn1"]
    assert [note.kind for note in diagnosis.notes] == ["no-graph"]
    assert render_text(diagnosis)[-1] == "1 finding; 1 of 2 batch-norm layers never updated their moving statistics"


def test_values_alone_at_step_zero_are_not_a_bug_report() -> None:
    values = {"bn/moving_mean": np.zeros(3), "bn/moving_variance": np.ones(3)}
    diagnosis = combine("ckpt", "checkpoint", "ckpt", None, 0, layers(values, values.__getitem__), None)
    assert diagnosis.findings == []
    assert [(note.kind, note.subject) for note in diagnosis.notes] == [("no-graph", ""), ("saved-before-training", "bn")]


# A hand-made graph in TF1's shapes: one batch-norm layer in training mode (a fused op
# reading its statistics), its two moving-average updates, one optimizer.
def _graph(train_op_inputs: tuple[str, ...], flag: str = "const_true") -> list[Node]:
    return [
        Node("x", "Placeholder"),
        Node("const_true", "Const", value=True),
        Node("is_training", "Placeholder"),
        Node("default_false", "Const", value=False),
        Node("flag_with_default", "PlaceholderWithDefault", ("default_false",)),
        Node("bn/moving_mean", "VariableV2"), Node("bn/moving_variance", "VariableV2"),
        Node("bn/gamma", "VariableV2"), Node("bn/beta", "VariableV2"),
        Node("bn/moving_mean/read", "Identity", ("bn/moving_mean",)),
        Node("bn/moving_variance/read", "Identity", ("bn/moving_variance",)),
        Node("bn/gamma/read", "Identity", ("bn/gamma",)), Node("bn/beta/read", "Identity", ("bn/beta",)),
        Node("bn/cond/Switch", "Switch", ("x", flag)),
        Node("bn/FusedBatchNormV3", "FusedBatchNormV3",
             ("bn/cond/Switch:1", "bn/gamma/read", "bn/beta/read", "bn/moving_mean/read", "bn/moving_variance/read"),
             training=True),
        Node("bn/FusedBatchNormV3_1", "FusedBatchNormV3",
             ("bn/cond/Switch", "bn/gamma/read", "bn/beta/read", "bn/moving_mean/read", "bn/moving_variance/read"),
             training=False),
        Node("bn/cond/Merge", "Merge", ("bn/FusedBatchNormV3_1", "bn/FusedBatchNormV3")),
        Node("bn/AssignMovingAvg/sub", "Sub", ("bn/moving_mean/read", "bn/FusedBatchNormV3:1")),
        Node("bn/AssignMovingAvg", "AssignSub", ("bn/moving_mean", "bn/AssignMovingAvg/sub")),
        Node("bn/AssignMovingAvg_1/sub", "Sub", ("bn/moving_variance/read", "bn/FusedBatchNormV3:2")),
        Node("bn/AssignMovingAvg_1", "AssignSub", ("bn/moving_variance", "bn/AssignMovingAvg_1/sub")),
        Node("bn/moving_mean/Assign", "Assign", ("bn/moving_mean", "zeros")), Node("zeros", "Const"),
        Node("save/RestoreV2", "RestoreV2"), Node("save/Assign", "Assign", ("bn/moving_mean", "save/RestoreV2")),
        Node("loss", "Mean", ("bn/cond/Merge",)),
        Node("gradients/grad", "FusedBatchNormGradV3", ("loss", "bn/FusedBatchNormV3:3")),
        Node("GradientDescent/update_bn/gamma", "ApplyGradientDescent", ("bn/gamma", "lr", "gradients/grad")),
        Node("lr", "Const"),
        Node("GradientDescent", "NoOp", ("^GradientDescent/update_bn/gamma", *train_op_inputs)),
    ]


def test_graph_train_op_without_the_updates_is_named() -> None:
    result = graph_doctor.diagnose(_graph(()))
    assert [layer.scope for layer in result.layers] == ["bn"]
    assert result.layers[0].updates == ("bn/AssignMovingAvg", "bn/AssignMovingAvg_1")  # not the initializer, nor restore
    assert [train_op.name for train_op in result.train_ops] == ["GradientDescent"]
    assert result.missing == [graph_doctor.MissingUpdates("GradientDescent", ("bn",),
                                                          ("bn/AssignMovingAvg", "bn/AssignMovingAvg_1"))]


def test_graph_train_op_with_the_updates_is_wired() -> None:
    result = graph_doctor.diagnose(_graph(("^bn/AssignMovingAvg", "^bn/AssignMovingAvg_1")))
    assert result.missing == [] and result.status("bn") == "wired"


@pytest.mark.parametrize(("flag", "fixed"), [("const_true", True), ("is_training", False), ("flag_with_default", False)])
def test_graph_training_mode_fixed_only_when_no_feed_switches_it(flag: str, fixed: bool) -> None:
    result = graph_doctor.diagnose(_graph((), flag))
    assert [item.layer for item in result.fixed] == (["bn"] if fixed else [])


@pytest.mark.parametrize(("flag", "inputs", "served"), [
    ("const_true", ("x:0",), True),
    ("flag_with_default", ("x:0",), False),  # not fed: its default, False
    ("flag_with_default", ("x:0", "flag_with_default:0"), False),  # fed: the client chooses
    ("is_training", ("x:0", "is_training:0"), False),
])
def test_graph_served_training_mode(flag: str, inputs: tuple[str, ...], served: bool) -> None:
    signature = Signature("serving_default", inputs, (("y", "bn/cond/Merge:0"),))
    result = graph_doctor.diagnose(_graph((), flag), [signature])
    assert [(item.output, item.layer, item.op) for item in result.served] == (
        [("y", "bn", "bn/FusedBatchNormV3")] if served else [])


def test_graph_keras_learning_phase() -> None:
    nodes = _graph((), "keras_learning_phase") + [Node("keras_learning_phase", "PlaceholderWithDefault",
                                                       ("default_false",))]
    result = graph_doctor.diagnose(nodes)
    assert result.learning_phases == [graph_doctor.LearningPhasePlaceholder("keras_learning_phase", False, ("bn",))]


def test_locate_accepts_every_form(tmp_path: Path) -> None:
    checkpoints = tmp_path / "run"
    checkpoints.mkdir()
    for step in (0, 500, 1000):
        for suffix in (".index", ".meta", ".data-00000-of-00001"):
            (checkpoints / f"model.ckpt-{step}{suffix}").write_bytes(b"")
    assert locate(str(checkpoints / "model.ckpt-500")) == (
        "checkpoint", str(checkpoints / "model.ckpt-500"), str(checkpoints / "model.ckpt-500.meta"))
    assert locate(str(checkpoints / "model.ckpt-500.meta"))[1] == str(checkpoints / "model.ckpt-500")
    assert locate(str(checkpoints))[1] == str(checkpoints / "model.ckpt-1000")  # the newest
    (checkpoints / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-500"\n')
    assert locate(str(checkpoints))[1] == str(checkpoints / "model.ckpt-500")  # as the state file says
    (checkpoints / "graph.pbtxt").write_text("")
    assert locate(str(checkpoints))[0] == "estimator"
    saved_model = tmp_path / "export"
    (saved_model / "variables").mkdir(parents=True)
    (saved_model / "saved_model.pb").write_bytes(b"")
    (saved_model / "variables" / "variables.index").write_bytes(b"")
    assert locate(str(saved_model)) == ("saved_model", str(saved_model / "variables" / "variables"),
                                        str(saved_model / "saved_model.pb"))
    with pytest.raises(SavedGraphError, match="does not exist"):
        locate(str(tmp_path / "nowhere" / "model.ckpt"))
    with pytest.raises(SavedGraphError, match="no checkpoint"):
        locate(str(_empty(tmp_path)))


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


PROGRAM_TAIL = """
saver = tf.train.Saver()
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(train_op, {x: np.random.rand(16, 4) + 2.0, is_training: True})
    saver.save(sess, "checkpoints/model.ckpt")
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


@pytest.mark.runtime
@pytest.mark.skipif(not _HAVE_TF, reason="needs tensorflow-cpu==2.12.1 and tf-slim")
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
        # The README's form: the prefix the program saved, not a file on disk.
        results[name] = CliRunner().invoke(main, ["doctor", "checkpoints/model.ckpt"])
    assert results["buggy"].exit_code == 1, results["buggy"].output
    assert "error: train op `Adam` runs batch norm `bn` in training mode" in results["buggy"].stdout
    assert "  bn: NOT wired (`Adam` runs it without its updates); moving mean still exactly 0" in results["buggy"].stdout
    assert results["fixed"].exit_code == 0, results["fixed"].output
    assert "0 findings; 0 of 1 batch-norm layers never updated" in results["fixed"].stdout


def test_not_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk").write_text("not a checkpoint")
    result = CliRunner().invoke(main, ["doctor", str(tmp_path / "junk")])
    assert result.exit_code == 2
    assert "is not a checkpoint prefix" in result.output


def test_graph_inference_only_layer_with_initial_values_is_named() -> None:
    """tf.layers without `training=`: only an inference-mode op, no update, and a train op
    that runs it. With the initial 0 and 1 it normalizes nothing, and never will."""
    nodes = [node for node in _graph(()) if node.name not in (
        "bn/FusedBatchNormV3", "bn/AssignMovingAvg", "bn/AssignMovingAvg_1", "bn/AssignMovingAvg/sub",
        "bn/AssignMovingAvg_1/sub", "bn/cond/Switch", "bn/cond/Merge", "gradients/grad")]
    nodes = [Node(node.name, node.op, tuple(text.replace("bn/cond/Switch", "x") for text in node.inputs),
                  node.training, node.value) for node in nodes]
    nodes += [Node("loss2", "Mean", ("bn/FusedBatchNormV3_1",)), Node("gradients/grad", "Neg", ("loss2",))]
    graph = graph_doctor.diagnose(nodes)
    assert graph.status("bn") == "inference-only" and graph.inference_only_in == {"bn": ["GradientDescent"]}
    initial = {"bn/moving_mean": np.zeros(3), "bn/moving_variance": np.ones(3)}
    diagnosis = combine("ckpt", "checkpoint", "ckpt", "ckpt.meta", None, layers(initial, initial.__getitem__), graph)
    assert [(finding.kind, finding.layer) for finding in diagnosis.findings] == [("training-mode-off", "bn")]
    restored = {"bn/moving_mean": np.full(3, 0.5), "bn/moving_variance": np.ones(3)}  # a frozen, pretrained layer
    diagnosis = combine("ckpt", "checkpoint", "ckpt", "ckpt.meta", None, layers(restored, restored.__getitem__), graph)
    assert diagnosis.findings == []
