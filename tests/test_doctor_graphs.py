"""`migrate-bn doctor` on graphs TensorFlow really built: the runtime fixtures, buggy and
fixed, run under tensorflow-cpu==2.12.1 + tf-slim and saved as a user's run saves them
(tests/runtime/graph_saver.py: a checkpoint with its .meta before the first training step
and after the last; the Estimator's own model directory; a SavedModel for a served model).

Every bug is named with its layer and train op; every fixed graph is silent, whether it
was saved before training or after; under control flow v2 too, where batch norm and its
updates are ops of `If`/`While` function bodies. Without TensorFlow these tests are skipped, unless
MIGRATE_BN_REQUIRE_TF=1 (as in CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner

from migrate_bn.api import analyze
from migrate_bn.cli import main
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, run

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
SAVER = ROOT / "tests" / "runtime" / "graph_saver.py"

pytestmark = oracle.tf1_marks()


@dataclass(frozen=True)
class Case:
    fixture: str  # under fixtures/
    layers: tuple[str, ...]  # the batch-norm layers the graph holds
    train_ops: tuple[str, ...]  # the train ops that skip their updates before the fix
    serve: str = ""  # MIGRATE_BN_SERVE: the SavedModel's inputs:outputs
    unsafe: bool = False  # the fix needs --unsafe-fixes
    estimator: Optional[str] = None  # the model_dir an Estimator writes
    project: bool = False  # a directory (train.py and its modules), fixed by a run over it
    inference_only: bool = False  # the bug: the train op runs the layer in inference mode only

    @property
    def missing(self) -> bool:
        return bool(self.train_ops)


CASES = {
    "tf.layers (model class)": Case("runtime/class_model", ("fc1/batch_normalization", "fc2/batch_normalization"),
                                    ("Adam",)),
    "tf.layers conv (fused, in a cond)": Case("bn001/tf_layers_script",
                                              ("conv1/batch_normalization", "conv2/batch_normalization"), ("Adam",)),
    "slim through arg_scope": Case("bn001/slim_arg_scope", ("conv1/BatchNorm", "conv2/BatchNorm", "fc1/BatchNorm"),
                                   ("Momentum",)),
    "Keras layer in a session": Case("bn008/layer_object_runnable", ("batch_normalization",), ("GradientDescent",)),
    "GAN, two train ops": Case("runtime/gan_two_optimizers", ("discriminator/bn2", "generator/bn1", "generator/bn2"),
                               ("Adam", "Adam_1")),
    "Estimator": Case("runtime/estimator", ("bn0", "bn1"), ("Adam",), estimator="sensor_model"),
    "early UPDATE_OPS read": Case("bn002/runnable_script", ("batch_normalization",), ("GradientDescent",)),
    "tf.layers without training=": Case("bn003/runnable_script", ("batch_normalization",), (), inference_only=True),
    "two modules": Case("runtime/cross_file", ("block1/batch_normalization", "block2/batch_normalization"),
                        ("Momentum",), project=True),
    "training mode served": Case("bn004/runnable_script", ("batch_normalization",), (),
                                 serve="features:prediction", unsafe=True),
    "tf.layers under control flow v2": Case("runtime/control_flow_v2", ("bn1", "bn2"), ("Adam",)),
}


@dataclass
class Saved:
    untrained: Path  # a checkpoint prefix saved before the first step
    trained: Path  # the directory holding the last checkpoint
    saved_model: Optional[Path]
    directory: Path  # holds program.py: the source that built the graph


def _program(case: Case, version: str, directory: Path) -> str:
    """Lay out the buggy or fixed program in `directory`; the script to run."""
    if case.project:
        shutil.copytree(ROOT / "fixtures" / case.fixture, directory,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if version == "fixed":
            results = list(run([str(directory)], Job(select_rules(), Options(), fix=True, write=True)))
            assert any(result.changed for result, _ in results)
        return "train.py"
    before_path = ROOT / "fixtures" / case.fixture / "before.py"
    source = before_path.read_bytes()
    if version == "fixed":
        fixed = analyze(source, str(before_path), fix=True, options=Options(unsafe_fixes=case.unsafe)).fixed_source
        assert fixed is not None
        source = fixed
    directory.mkdir(parents=True)
    (directory / "program.py").write_bytes(source)
    return "program.py"


def _save(script: str, directory: Path, serve: str = "") -> None:
    """Run `script` in `directory` under graph_saver.py: its saves land in directory/save."""
    env = {**os.environ, "MIGRATE_BN_SERVE": serve, "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run([sys.executable, str(SAVER), script, "out.json", "save"], cwd=directory,
                               capture_output=True, text=True, timeout=900, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]


def _run(case: Case, version: str, directory: Path) -> Saved:
    _save(_program(case, version, directory), directory, case.serve)
    if case.estimator:
        model_dir = directory / case.estimator
        return Saved(model_dir / "model.ckpt-0", model_dir, None, directory)
    saved_model = directory / "save" / "saved_model"
    return Saved(directory / "save" / "untrained" / "model.ckpt-0", directory / "save" / "trained",
                 saved_model if case.serve else None, directory)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory):
    """Each case's buggy and fixed programs, run once per module."""
    made: dict[tuple[str, str], Saved] = {}

    def get(name: str, version: str) -> Saved:
        key = (name, version)
        if key not in made:
            made[key] = _run(CASES[name], version, tmp_path_factory.mktemp("doctor") / version)
        return made[key]
    return get


def _doctor(path: Path, *options: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["doctor", "--output-format", "json", *options, str(path)])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.missing])
def test_buggy_graph_names_each_layer_and_train_op(name: str, saved) -> None:
    case = CASES[name]
    ran = saved(name, "buggy")
    for path in (ran.trained, ran.untrained):
        code, report = _doctor(path)
        assert code == 1, report
        missing = [f for f in report["findings"] if f["kind"] == "missing-update-dependency"]
        assert sorted(f["train_op"] for f in missing) == sorted(case.train_ops), report
        for finding in missing:
            assert sorted(finding["layers"]) == sorted(case.layers), finding
            assert finding["updates"], "the update ops it skips are named"
        assert {layer["layer"]: layer["graph"] for layer in report["layers"]} == dict.fromkeys(case.layers, "unwired")


@pytest.mark.parametrize("name", CASES)
def test_fixed_graph_is_silent_trained_or_not(name: str, saved) -> None:
    case = CASES[name]
    ran = saved(name, "fixed")
    trained_code, trained = _doctor(ran.trained)
    assert trained_code == 0 and trained["findings"] == [], trained
    assert {layer["layer"]: (layer["graph"], layer["never_updated"]) for layer in trained["layers"]} == \
        dict.fromkeys(case.layers, ("wired", False))
    # Saved before the first step: 0 and 1 as before training, and the graph says wired.
    code, untrained = _doctor(ran.untrained)
    assert code == 0 and untrained["findings"] == [], untrained
    assert all(layer["never_updated"] for layer in untrained["layers"])
    assert sorted(n["subject"] for n in untrained["notes"] if n["kind"] == "wired-not-trained") == sorted(case.layers)
    if ran.saved_model is not None:
        code, served = _doctor(ran.saved_model)
        assert code == 0 and served["findings"] == [], served


def test_served_training_mode_is_named(saved) -> None:
    """BN004's graph: `training=True` for good. Trained and wired, so the checkpoint is
    healthy, but the SavedModel's output normalizes with batch statistics."""
    ran = saved("training mode served", "buggy")
    assert ran.saved_model is not None
    code, report = _doctor(ran.saved_model)
    assert code == 1
    assert [(f["kind"], f["signature"], f["output"], f["layer"]) for f in report["findings"]] == [
        ("training-mode-served", "serving_default", "prediction", "batch_normalization")]
    # The checkpoint's graph has no signature: said, not reported.
    code, report = _doctor(ran.trained)
    assert code == 0
    assert [(n["kind"], n["subject"]) for n in report["notes"]] == [("training-mode-fixed", "batch_normalization")]


def test_inference_mode_in_training_is_named(saved) -> None:
    """BN003's graph: tf.layers batch norm without `training=` normalizes with its moving
    statistics in training too; they never update, and stay 0 and 1."""
    ran = saved("tf.layers without training=", "buggy")
    for path in (ran.trained, ran.untrained):
        code, report = _doctor(path)
        assert code == 1
        assert [(f["kind"], f["layer"], f["train_ops"]) for f in report["findings"]] == [
            ("training-mode-off", "batch_normalization", ["Adam"])]
    _, report = _doctor(ran.trained, "--source", str(ran.directory))
    assert [(entry["agreement"], [item["code"] for item in entry["static"]]) for entry in report["source"]["layers"]] \
        == [("agree", ["BN003"])]


KERAS_LEARNING_PHASE = """\
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4], name="x")
bn = tf.keras.layers.BatchNormalization()
y = bn(tf.layers.dense(x, 8))
loss = tf.reduce_mean(tf.square(y))
with tf.control_dependencies(bn.updates):
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for _ in range(5):
        sess.run(train_op, {x: np.random.rand(8, 4) + 1, tf.keras.backend.learning_phase(): 1})
"""


def test_keras_learning_phase_is_said(tmp_path: Path) -> None:
    """A Keras layer called without `training=` in a session: the learning-phase
    placeholder switches it. Wired and trained: a note, not a finding."""
    (tmp_path / "program.py").write_text(KERAS_LEARNING_PHASE)
    _save("program.py", tmp_path)
    code, report = _doctor(tmp_path / "save" / "trained")
    assert code == 0 and report["findings"] == []
    assert [(n["subject"], n["detail"]) for n in report["notes"] if n["kind"] == "keras-learning-phase"] == [
        ("keras_learning_phase", ["False", "batch_normalization"])]


def test_estimator_graph_is_a_training_graph(saved) -> None:
    code, report = _doctor(saved("Estimator", "fixed").trained)
    assert code == 0
    assert "evaluation-not-judged" in [note["kind"] for note in report["notes"]]
    assert report["kind"] == "estimator" and report["global_step"] == 1000


def test_report_has_no_tensorflow_log_lines(saved) -> None:
    """TensorFlow's start-up lines stay out of the report: stdout is the report, stderr empty."""
    ran = saved("tf.layers (model class)", "buggy")
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    completed = subprocess.run([sys.executable, "-m", "migrate_bn", "doctor", str(ran.untrained)],
                               capture_output=True, text=True, env=env, timeout=300)
    assert completed.returncode == 1
    assert completed.stderr == ""
    assert completed.stdout.startswith(f"{ran.untrained}: checkpoint; values from ")


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.missing])
def test_source_maps_each_layer_to_its_line_and_the_static_finding(name: str, saved) -> None:
    """--source: each layer the graph names maps to the batch-norm call that built it,
    and `check`'s finding on the same program agrees."""
    case = CASES[name]
    ran = saved(name, "buggy")
    expected = ROOT / "fixtures" / case.fixture / "expected.txt"
    lines = expected.read_text().splitlines() if expected.exists() else ["BN001 38:16"]  # cross_file's train.py
    static_lines = {int(line.split()[1].split(":")[0]) for line in lines if line.startswith(("BN001", "BN002", "BN008"))}
    _, report = _doctor(ran.trained, "--source", str(ran.directory))
    entries = report["source"]["layers"]
    assert sorted({entry["layer"] for entry in entries}) == sorted(case.layers)
    for entry in entries:
        assert entry["agreement"] == "agree", entry
        assert entry["sites"] and all(site["path"].endswith(("program.py", "convnet.py")) for site in entry["sites"])
        assert {item["code"] for item in entry["static"]} <= {"BN001", "BN002", "BN008"}
    assert {item["line"] for entry in entries for item in entry["static"]} == static_lines
    assert report["source"]["static_only"] == []


def test_source_disagreement_is_said(saved) -> None:
    """The graph of the buggy program against the fixed source: the graph reports what
    static analysis no longer sees; and the fixed graph against the buggy source: static
    analysis reports what the graph shows wired."""
    buggy, fixed = saved("tf.layers (model class)", "buggy"), saved("tf.layers (model class)", "fixed")
    _, report = _doctor(buggy.trained, "--source", str(fixed.directory))
    assert {entry["agreement"] for entry in report["source"]["layers"]} == {"graph-only"}
    _, report = _doctor(fixed.trained, "--source", str(buggy.directory))
    assert report["source"]["layers"] == []
    assert [(item["code"], sorted(item["layers"])) for item in report["source"]["static_only"]] == [
        ("BN001", ["fc1/batch_normalization", "fc2/batch_normalization"])]


STATIC_CODES = ("BN001", "BN002", "BN003", "BN004", "BN008")  # the rules the graph can confirm or refute


def _agreement_row(name: str, version: str, ran: Saved) -> str:
    results = run([str(ran.directory)], Job(select_rules(), Options(), project=None))
    static = sorted({f.code for result, _ in results for f in result.findings if f.code in STATIC_CODES})
    graph = []
    for path in filter(None, (ran.trained, ran.saved_model)):
        _, report = _doctor(path)
        for finding in report["findings"]:
            if finding["kind"] == "missing-update-dependency":
                graph.append(f"`{finding['train_op']}` skips the updates of {len(finding['layers'])} "
                             f"layer{'s' if len(finding['layers']) > 1 else ''}")
            elif finding["kind"] == "training-mode-off":
                graph.append(f"`{', '.join(finding['train_ops'])}` runs 1 layer in inference mode, still 0 and 1")
            elif finding["kind"] == "training-mode-served":
                graph.append(f"`{finding['signature']}` serves batch statistics")
    agree = "yes" if bool(static) == bool(graph) else "no"
    return f"| {name} | `{CASES[name].fixture}` | {version} | {', '.join(static) or '—'} | " \
           f"{'; '.join(graph) or 'silent'} | {agree} |"


def test_agreement_table_in_docs(saved) -> None:
    """docs/doctor.md's table of static findings against the graph's truth is what the
    runtime fixtures give."""
    rows = [_agreement_row(name, version, saved(name, version)) for name in CASES for version in ("buggy", "fixed")]
    document = (ROOT / "docs" / "doctor.md").read_text()
    missing = [row for row in rows if row not in document]
    assert not missing, "docs/doctor.md's agreement table should read:\n" + "\n".join(rows)


# Batch norm written by hand inside a `tf.while_loop` body and a `tf.cond` branch under
# control flow v2: the batch statistics and the updates are ops of the functions the
# `While` and `If` ops call. The fixed version makes each body's result depend on its
# updates; without that, TensorFlow prunes them from the bodies and they never run.
LOOP_BODY_V2 = """\
import numpy as np
import tensorflow as tf

tf.enable_control_flow_v2()
tf.enable_resource_variables()

CHANNELS = 4


def batch_norm_variables(scope):
    with tf.variable_scope(scope):
        return {
            'gamma': tf.get_variable('gamma', [CHANNELS], initializer=tf.ones_initializer()),
            'beta': tf.get_variable('beta', [CHANNELS], initializer=tf.zeros_initializer()),
            'moving_mean': tf.get_variable('moving_mean', [CHANNELS], trainable=False,
                                           initializer=tf.zeros_initializer()),
            'moving_variance': tf.get_variable('moving_variance', [CHANNELS], trainable=False,
                                               initializer=tf.ones_initializer()),
        }


def batch_norm(inputs, params, name):
    with tf.name_scope(name):
        output, mean, variance = tf.nn.fused_batch_norm(inputs, params['gamma'], params['beta'],
                                                        is_training=True)
        updates = [
            tf.assign_sub(params['moving_mean'], (params['moving_mean'] - mean) * 0.1),
            tf.assign_sub(params['moving_variance'], (params['moving_variance'] - variance) * 0.1),
        ]
        return output, updates


x = tf.placeholder(tf.float32, [None, 6, 6, CHANNELS], name='images')
use_head = tf.placeholder_with_default(True, [], name='use_head')
with tf.variable_scope('refine'):
    kernel = tf.get_variable('kernel', [3, 3, CHANNELS, CHANNELS])
refine_bn = batch_norm_variables('refine/bn')
head_bn = batch_norm_variables('head/bn')


def refine(step, net):
    net, updates = batch_norm(tf.nn.conv2d(net, kernel, 1, 'SAME'), refine_bn, 'refine_bn')
{refine_return}


def head():
    net, updates = batch_norm(features, head_bn, 'head_bn')
{head_return}


_, features = tf.while_loop(lambda step, net: step < 2, refine, [tf.constant(0), x])
output = tf.identity(tf.cond(use_head, head, lambda: features), name='output')
loss = tf.reduce_mean(tf.square(output - 1.0))
train_op = tf.train.AdamOptimizer(1e-2).minimize(loss)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(10):
        sess.run(train_op, {x: np.random.rand(8, 6, 6, CHANNELS).astype(np.float32) + 1.0})
"""
LOOP_BODY_RETURNS = {
    "buggy": {"refine_return": "    return step + 1, tf.nn.relu(net)", "head_return": "    return net"},
    "fixed": {"refine_return": "    with tf.control_dependencies(updates):\n        return step + 1, tf.nn.relu(net)",
              "head_return": "    with tf.control_dependencies(updates):\n        return tf.identity(net)"},
}


@pytest.fixture(scope="module")
def loop_body_v2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The save directory of each version, with a SavedModel serving `images` -> `output`."""
    saves = {}
    for version, returns in LOOP_BODY_RETURNS.items():
        directory = tmp_path_factory.mktemp("loop_body_v2") / version
        directory.mkdir()
        program = LOOP_BODY_V2
        for marker, text in returns.items():
            program = program.replace("{%s}" % marker, text)
        (directory / "program.py").write_text(program)
        _save("program.py", directory, serve="images:output")
        saves[version] = directory / "save"
    return saves


def test_control_flow_v2_bodies_are_followed(loop_body_v2: dict[str, Path]) -> None:
    """The while body's and the cond branch's batch norm run in training mode; the buggy
    train op skips their updates (named inside the bodies), the fixed one runs them."""
    layers = ["head/bn", "refine/bn"]
    for path in (loop_body_v2["buggy"] / "trained", loop_body_v2["buggy"] / "untrained"):
        code, report = _doctor(path)
        assert code == 1, report
        [finding] = report["findings"]
        assert (finding["kind"], finding["train_op"], sorted(finding["layers"])) == (
            "missing-update-dependency", "Adam", layers)
        assert sorted(finding["updates"]) == [
            "cond/then/head_bn/AssignSubVariableOp", "cond/then/head_bn/AssignSubVariableOp_1",
            "while/body/refine_bn/AssignSubVariableOp", "while/body/refine_bn/AssignSubVariableOp_1"]
        assert [layer["never_updated"] for layer in report["layers"]] == [True, True]
    code, report = _doctor(loop_body_v2["fixed"] / "trained")
    assert code == 0 and report["findings"] == [], report
    assert {layer["layer"]: (layer["graph"], layer["never_updated"]) for layer in report["layers"]} == \
        dict.fromkeys(layers, ("wired", False))
    code, report = _doctor(loop_body_v2["fixed"] / "untrained")
    assert code == 0 and sorted(n["subject"] for n in report["notes"] if n["kind"] == "wired-not-trained") == layers


def test_training_mode_inside_a_branch_is_served(loop_body_v2: dict[str, Path]) -> None:
    """`use_head` defaults to True and the signature does not feed it: the cond's `then`
    branch, batch statistics and all, is what serving runs. The loop body may run no
    time at all as far as the graph says: unknown, so silent."""
    code, report = _doctor(loop_body_v2["fixed"] / "saved_model")
    assert code == 1
    assert [(f["kind"], f["output"], f["layer"], f["op"]) for f in report["findings"]] == [
        ("training-mode-served", "output", "head/bn", "cond/then/head_bn/FusedBatchNormV3")]

