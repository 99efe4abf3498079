"""BN010's claim, run under TensorFlow 2.12.1 (TF1 code through tf.compat.v1, tf-slim for
contrib): a batch-norm update built outside the `tf.cond` that selects it runs in
evaluation runs too.

Each fixture only evaluates (the flag fed `False` five times, no training step): with
the update built outside the cond (fixtures/bn010) the moving statistics move toward the
evaluated data; with the update built inside the training branch
(fixtures/silent/bn010_*) they stay at their initial values. Run through the runtime
harness (tests/runtime/tf1_harness.py), with a line appended that prints the moving
averages (the slim layer's `moving_mean`, the ExponentialMovingAverage's shadow
variables).
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
PRINT_AVERAGES = (
    "    import json\n"
    "    print('AVERAGES', json.dumps({v.op.name: sess.run(v).tolist() for v in tf.global_variables()\n"
    "                                  if 'moving_mean' in v.op.name or 'ExponentialMovingAverage' in v.op.name}))\n"
)
CASES = [("cond_returns_training_batch_norm", "bn010_batch_norm_built_in_branch"),
         ("ema_apply_outside_cond", "bn010_ema_apply_in_branch")]

pytestmark = oracle.tf1_marks()


def _averages(fixture: Path, tmp_path: Path) -> list[float]:
    script = tmp_path / fixture.parent.name / "program.py"
    script.parent.mkdir(parents=True)
    script.write_text(fixture.read_text() + PRINT_AVERAGES)
    completed = subprocess.run([sys.executable, str(oracle.HARNESS), str(script), str(script.with_suffix(".json"))],
                               cwd=script.parent, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(line for line in completed.stdout.splitlines() if line.startswith("AVERAGES "))
    averages = json.loads(line[len("AVERAGES "):])
    assert averages, "the program keeps moving averages"
    return [value for values in averages.values() for value in (values if isinstance(values, list) else [values])]


@pytest.mark.parametrize("buggy,correct", CASES)
def test_an_update_outside_the_cond_runs_at_evaluation(buggy: str, correct: str, tmp_path: Path) -> None:
    before = FIXTURES / "bn010" / buggy / "before.py"
    inside = FIXTURES / "silent" / correct / "before.py"
    assert [f.code for f in analyze(before.read_bytes(), str(before)).findings] == ["BN010"]
    assert analyze(inside.read_bytes(), str(inside)).findings == []
    moved = _averages(before, tmp_path / "outside")
    assert any(value != 0.0 for value in moved), "evaluation runs moved the moving averages"
    kept = _averages(inside, tmp_path / "inside")
    assert all(value == 0.0 for value in kept), "built inside the branch, evaluation leaves them alone"
