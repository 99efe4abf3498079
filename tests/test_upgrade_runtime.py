"""`migrate-bn upgrade`, proven numerically: the TF1 script and the TF2 program it becomes
compute the same from the same initial weights.

Each fixtures/upgrade case runs unmodified under tensorflow-cpu==2.12.1 + tf-slim
(tests/runtime/upgrade_tf1.py keeps its weights after initialisation and at the end).
The upgraded program then runs as plain Python, eagerly, with no compat.v1, sessions or
placeholders, starting from the TF1 initial weights converted by the code behind
`migrate-bn ckpt-convert` and restored with `assert_consumed()`
(tests/runtime/upgrade_tf2.py):

- Keras 3 on the newest TensorFlow (the `tf2_python` fixture, tests/conftest.py);
- Keras 2 (`--keras 2`) on TF 2.12's tf.keras, in this environment.

Each side checks the Keras it ran on, by version number.

Every number the programs print during and after training, and every weight and moving
statistic at the end, agree to 1e-5 (relative). On Keras 3 that holds where TF1 fused
too: the program's batch norm there is the subclass `upgrade` writes (exact_bn), whose
moving variance accumulates what TF1's fused kernel accumulated. Where a stock Keras
layer is kept and TF1 fused (`--stock-keras-bn` on Keras 3, slim's 2-D input on Keras 2;
docs/tf2-mapping.md) the script also runs with its batch norms unfused
(tests/runtime/upgrade_tf1.py --unfused): the upgraded program's printed numbers and
weights must be that run's to 1e-5, and its moving variances must differ from the fused
run's by the kernel's variance correction and no more.

The checkpoint round trip: the weights TF1 trained, converted and restored in the
upgraded program, give the predictions TF1 gave with them. Each fixture's last line
prints predictions made with its final weights; the upgraded program runs with every
step followed by reading the converted TF1 checkpoint again (`predict` mode), so its
last line must be TF1's to 1e-5, on Keras 3 too: no training happens in TF2 there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn.upgrade import upgrade_source

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "tests" / "runtime"
CASES = sorted((ROOT / "fixtures" / "upgrade").glob("*/tf1.py"))
# Batch-norm layers where TF1 took the fused kernel and a stock Keras layer does not: on
# 4-D input for Keras 3, on 2-D input to slim for both. {case: {keras: {TF1 scope: values
# per channel in a batch}}}. Keras 3 programs have them only with --stock-keras-bn.
FUSED = {"slim_convnet_in_main": {3: {"features/BatchNorm": 16 * 8 * 8, "features/BatchNorm_1": 16 * 4 * 4}},
         "graph_context_under_main": {2: {"BatchNorm": 25}, 3: {"BatchNorm": 25}}}

pytestmark = oracle.tf1_marks()
NUMBER = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?")
LABEL = re.compile(r"^[a-z]+ ", re.MULTILINE)


def run(python: str, *arguments: str, cwd: Path) -> str:
    """Run in `cwd`, where a fixture's Saver (and the upgraded program's checkpoint.write) write."""
    done = subprocess.run([python, *arguments], capture_output=True, text=True, timeout=600, cwd=cwd,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def tf1_runs(tmp_path_factory) -> dict:
    """Each case's TF1 run: its output and its initial and final checkpoints; for the
    cases in FUSED, also the run with every batch norm unfused (key: NAME/unfused)."""
    runs = {}
    for case in CASES:
        for variant, flags in (("", ()), ("/unfused", ("--unfused",))):
            if variant and case.parent.name not in FUSED:
                continue
            out = tmp_path_factory.mktemp(case.parent.name)
            runs[case.parent.name + variant] = (
                run(sys.executable, str(RUNTIME / "upgrade_tf1.py"), str(case), str(out), *flags, cwd=out), out)
    return runs


def upgraded(case: Path, keras: int, directory: Path, stock: bool = False) -> tuple[Path, Path]:
    result = upgrade_source(case.read_text(), keras=keras, stock_bn=stock)
    program, names = directory / f"keras{keras}.py", directory / f"keras{keras}.json"
    program.write_text(result.text)
    names.write_text(json.dumps(result.name_map))
    return program, names


def final_tf1(out: Path) -> dict:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(out / "final" / "ckpt"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def written_by_tf2(path: Path, names: Path) -> dict:
    """What the upgraded program's `checkpoint.write` wrote, by TF1 variable name (Keras 3
    keeps some weights as `_kernel`)."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(path))
    keys = reader.get_variable_to_shape_map()
    values = {}
    for entry in json.loads(names.read_text())["layers"]:
        for weight, tf1_name in entry["weights"].items():
            key = next(key for key in (f"{entry['object']}/{attribute}/.ATTRIBUTES/VARIABLE_VALUE"
                                       for attribute in (weight, "_" + weight)) if key in keys)
            values[tf1_name] = reader.get_tensor(key)
    return values


def assert_same_weights(tf2_weights: dict, tf1_weights: dict, fused: dict) -> None:
    for name, value in tf2_weights.items():
        scope = name.rsplit("/", 1)[0]
        if scope in fused and name.endswith("moving_variance"):
            # The documented difference: TF1 averaged n/(n-1) times the batch variance.
            ratio = np.asarray(tf1_weights[name]) / np.asarray(value)
            assert np.all(ratio >= 1.0 - 1e-5) and np.all(ratio <= fused[scope] / (fused[scope] - 1) + 1e-5), name
            assert np.any(ratio > 1.0 + 1e-6), name
        else:
            np.testing.assert_allclose(value, tf1_weights[name], rtol=1e-5, atol=1e-5, err_msg=name)


def run_upgraded(mode: str, case: Path, keras: int, python: str, tf1_checkpoint: Path,
                 tmp_path: Path, stock: bool = False) -> tuple[str, Path]:
    """The upgraded program's output in `mode` (tests/runtime/upgrade_tf2.py), and its name map."""
    program, names = upgraded(case, keras, tmp_path, stock)
    output = run(python, str(RUNTIME / "upgrade_tf2.py"), mode, str(program), str(names), str(tf1_checkpoint),
                 str(tmp_path), cwd=tmp_path)
    return output, names


def compare(case: Path, keras: int, python: str, tf1_runs: dict, tmp_path: Path, stock: bool = False) -> None:
    tf1_output, tf1_out = tf1_runs[case.parent.name]
    tf2_output, names = run_upgraded("train", case, keras, python, tf1_out / "initial" / "ckpt", tmp_path, stock)
    fused = FUSED.get(case.parent.name, {}).get(keras, {}) if stock or keras == 2 else {}
    # Where Keras does not fuse, it computes what TF1's unfused kernel computes.
    same_output, same_out = tf1_runs[case.parent.name + "/unfused"] if fused else (tf1_output, tf1_out)
    printed_tf1 = [float(n) for n in NUMBER.findall(same_output)]
    printed_tf2 = [float(n) for n in NUMBER.findall(tf2_output)]
    assert len(printed_tf1) == len(printed_tf2) > 0
    # Where TF1 fused, Keras's kernel is another one (against the unfused run too): 50
    # steps of float sums taken in another order, measured 4e-6 at most, absolute
    # (graph_context_under_main, Keras 2 and 3).
    other_kernel = bool(FUSED.get(case.parent.name, {}).get(keras))
    np.testing.assert_allclose(printed_tf2, printed_tf1, rtol=1e-5, atol=1e-5 if other_kernel else 1e-6)
    tf2_weights = json.loads((tmp_path / "final.json").read_text())
    assert_same_weights(tf2_weights, final_tf1(same_out), {})
    if fused:
        assert_same_weights(tf2_weights, final_tf1(tf1_out), fused)
        assert [float(n) for n in NUMBER.findall(tf1_output)] != printed_tf1, "the fused kernel left its mark"
    if (tf1_out / "model.ckpt.index").exists():  # the script saved with a Saver: so must the program
        assert_same_weights(written_by_tf2(tmp_path / "model.ckpt", names), final_tf1(same_out), {})


@pytest.fixture(scope="module")
def keras2_python() -> str:
    """This environment's python, whose tf.keras is Keras 2 (checked, as a number)."""
    import tensorflow as tf

    assert oracle.version_tuple(tf.keras.__version__)[0] == 2, tf.keras.__version__
    return sys.executable


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_2_program_computes_what_tf1_computed(case: Path, tf1_runs: dict, tmp_path: Path,
                                                    keras2_python: str) -> None:
    compare(case, 2, keras2_python, tf1_runs, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_3_program_computes_what_tf1_computed(case: Path, tf1_runs: dict, tmp_path: Path,
                                                    tf2_python: str) -> None:
    compare(case, 3, tf2_python, tf1_runs, tmp_path)


@pytest.mark.parametrize("case", [case for case in CASES if 3 in FUSED.get(case.parent.name, {})],
                         ids=lambda path: path.parent.name)
def test_keras_3_stock_layers_differ_by_the_fused_kernels_correction_only(case: Path, tf1_runs: dict,
                                                                          tmp_path: Path, tf2_python: str) -> None:
    compare(case, 3, tf2_python, tf1_runs, tmp_path, stock=True)


def round_trip(case: Path, keras: int, python: str, tf1_runs: dict, tmp_path: Path) -> None:
    tf1_output, tf1_out = tf1_runs[case.parent.name]
    tf2_output, _ = run_upgraded("predict", case, keras, python, tf1_out / "final" / "ckpt", tmp_path)
    # The last thing each printed: a label, then the numbers (an array may take several lines).
    tf1_last, tf2_last = (LABEL.findall(output)[-1] for output in (tf1_output, tf2_output))
    assert tf1_last == tf2_last, (tf1_output, tf2_output)
    predicted_tf1, predicted_tf2 = ([float(n) for n in NUMBER.findall(output.rsplit(tf1_last, 1)[1])]
                                    for output in (tf1_output, tf2_output))
    assert len(predicted_tf1) >= 4
    np.testing.assert_allclose(predicted_tf2, predicted_tf1,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_2_program_predicts_what_tf1_predicted_from_its_trained_checkpoint(
        case: Path, tf1_runs: dict, tmp_path: Path, keras2_python: str) -> None:
    round_trip(case, 2, keras2_python, tf1_runs, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_3_program_predicts_what_tf1_predicted_from_its_trained_checkpoint(
        case: Path, tf1_runs: dict, tmp_path: Path, tf2_python: str) -> None:
    round_trip(case, 3, tf2_python, tf1_runs, tmp_path)
