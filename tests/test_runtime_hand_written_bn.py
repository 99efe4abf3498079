"""BN011-BN013's claims, run under TensorFlow 2.12.1 (TF1 code through tf.compat.v1) with
the runtime harness (tests/runtime/tf1_harness.py); each fixture prints what it measured.

- BN011: a batch norm whose ExponentialMovingAverage is never applied keeps no moving
  statistics (no shadow variable exists) and evaluates with batch statistics (the same
  example predicts differently alone and in a batch); applied and read, it does not.
- BN012: a Python `if` on the bool placeholder fails when the graph is built (a
  TypeError); taking the first branch always, as TensorFlow before 0.8 did, leaves
  evaluation on batch statistics whatever is fed; `tf.cond` on the flag chooses per run.
- BN013: constant statistics 0.001 / 1.0 leave the input as it was (to within 1%);
  the moments of the layer's input leave its output unnormalized, its own moments
  normalize it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = oracle.tf1_marks()


def _run(source: str, tmp_path: Path, marker: str) -> tuple[dict, dict]:
    """The harness's result and the fixture's printed measurement (empty when it failed)."""
    script = tmp_path / "program.py"
    script.write_text(source)
    out = tmp_path / "out.json"
    completed = subprocess.run([sys.executable, str(oracle.HARNESS), str(script), str(out)], cwd=tmp_path,
                               capture_output=True, text=True, timeout=600,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    result = json.loads(out.read_text())
    line = next((line for line in completed.stdout.splitlines() if line.startswith(marker + " ")), None)
    return result, json.loads(line[len(marker) + 1:]) if line else {}


def _codes(path: Path) -> list[str]:
    return [f.code for f in analyze(path.read_bytes(), str(path)).findings]


def test_bn011_an_average_never_applied_leaves_evaluation_on_batch_statistics(tmp_path: Path) -> None:
    buggy = FIXTURES / "bn011" / "ema_created_never_applied" / "before.py"
    applied = FIXTURES / "silent" / "bn011_ema_applied_and_averaged" / "before.py"
    assert _codes(buggy) == ["BN011"] and _codes(applied) == []
    (tmp_path / "never").mkdir()
    _, never = _run(buggy.read_text(), tmp_path / "never", "PREDICTIONS")
    assert never["averages"] == [], "no shadow variable exists"
    assert abs(never["alone"][0] - never["in_batch"][0]) > 0.1, "the prediction depends on the batch"
    (tmp_path / "applied").mkdir()
    _, kept = _run(applied.read_text(), tmp_path / "applied", "PREDICTIONS")
    assert kept["averages"], "applied, it keeps moving averages"
    assert kept["alone"][0] == pytest.approx(kept["in_batch"][0], abs=1e-4)


def test_bn012_a_python_if_on_the_placeholder_chooses_nothing(tmp_path: Path) -> None:
    buggy = FIXTURES / "bn012" / "python_if_on_placeholder" / "before.py"
    with_cond = FIXTURES / "silent" / "bn012_cond_on_placeholder" / "before.py"
    assert _codes(buggy) == ["BN012"] and _codes(with_cond) == []
    (tmp_path / "if").mkdir()
    result, _ = _run(buggy.read_text(), tmp_path / "if", "PREDICTIONS")
    assert not result["ok"] and "as a Python `bool` is not allowed" in result["error"]
    # What TensorFlow before 0.8 did: every tensor was true, the first branch was built.
    (tmp_path / "first").mkdir()
    always = buggy.read_text().replace("    if training:", "    if training is not None:")
    result, first = _run(always, tmp_path / "first", "PREDICTIONS")
    assert result["ok"], result.get("error")
    assert abs(first["alone"][0] - first["in_batch"][0]) > 0.1, "fed False, it still normalizes with the batch"
    (tmp_path / "cond").mkdir()
    result, chosen = _run(with_cond.read_text(), tmp_path / "cond", "PREDICTIONS")
    assert result["ok"], result.get("error")
    assert chosen["alone"][0] == pytest.approx(chosen["in_batch"][0], abs=1e-4)


def test_bn013_statistics_not_of_the_input_normalize_nothing(tmp_path: Path) -> None:
    constant = FIXTURES / "bn013" / "constant_statistics" / "before.py"
    assert set(_codes(constant)) == {"BN013"}
    (tmp_path / "constant").mkdir()
    _, measured = _run(constant.read_text(), tmp_path / "constant", "STATISTICS")
    assert measured["input_std"] > 2.0, "the fixture's convolution output is far from normalized"
    assert measured["output_std"] == pytest.approx(measured["input_std"], rel=0.01)
    assert measured["max_difference"] < 0.01 * measured["input_std"]

    borrowed = FIXTURES / "bn013" / "moments_of_previous_block" / "before.py"
    own = FIXTURES / "silent" / "bn013_moments_of_own_tensor" / "before.py"
    assert _codes(borrowed) == ["BN013"] and _codes(own) == []
    (tmp_path / "borrowed").mkdir()
    _, wrong = _run(borrowed.read_text(), tmp_path / "borrowed", "STATISTICS")
    assert abs(wrong["output_mean"]) > 1.0 or abs(wrong["output_std"] - 1.0) > 0.5
    (tmp_path / "own").mkdir()
    _, right = _run(own.read_text(), tmp_path / "own", "STATISTICS")
    assert right["output_mean"] == pytest.approx(0.0, abs=1e-3)
    assert right["output_std"] == pytest.approx(1.0, abs=1e-2)
