"""`migrate-bn upgrade` on TF1 model code, proven: the Keras 3 model computes what the TF1
model function computed, from the TF1 checkpoint.

Each fixtures/model_code case (code of our own writing, in the ways TF1 projects wrote
models) is a module with a model function, `case.json` (the function, its arguments, the
input shape) and `tf2.py`, what `upgrade` makes of it. The check is the one `upgrade`
generates for users (migrate_bn/equivalence): the TF1 function runs under tensorflow-cpu
2.12.1 (+ tf-slim) in graph mode with a tensor training flag (checkpoint after
initialisation, inference output, 5 SGD steps run with the update ops, inference output
and variables after); the converted model runs under the newest TensorFlow with Keras 3
and neither tf_keras nor tf-slim, from the initial checkpoint converted by the code behind
`ckpt-convert` and read with `assert_consumed()` (every value used, every weight filled),
then the same computation. Inference outputs, the training-mode outputs of every step and
every variable at the end (moving means and variances included, and renorm's and a
zero-debiased mean's own variables, by `checkpoints.layer_weight`) agree to 1e-5 relative
(equivalence/compare.py); what the converter did not map is only the optimizer's slots.
The generated `<module>_equivalence.py` itself is run on one case.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn import upgrade_command
from migrate_bn.equivalence.check import run_case
from migrate_bn.upgrade import upgrade_source

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "fixtures" / "model_code").glob("*/tf1.py"))

pytestmark = oracle.tf1_marks()


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_3_model_computes_what_the_tf1_model_function_computed(case: Path, tmp_path: Path,
                                                                      tf2_python: str) -> None:
    result = upgrade_source(case.read_text())
    assert result.skipped is None and result.text is not None
    program = tmp_path / "model.py"
    program.write_text(result.text)
    description = json.loads((case.parent / "case.json").read_text())
    generated = next(entry for entry in result.equivalence if entry["function"] == description["function"])
    # The fixtures' outputs stay small: they take 5 steps of 0.05 (the generated cases 0.001).
    outcome = run_case(case, program, {**generated, "learning_rate": 0.05, **description}, sys.executable,
                       tf2_python, tmp_path / "work")
    assert outcome.error is None, outcome.error
    assert outcome.mismatches == []


def test_the_generated_check_runs_and_passes(tmp_path: Path, tf2_python: str) -> None:
    module = tmp_path / "model.py"
    shutil.copy(ROOT / "fixtures" / "model_code" / "resnet_helpers" / "tf1.py", module)
    assert upgrade_command.run([str(module)], 3, False, False, None, io.StringIO(), io.StringIO()) == 0
    check = tmp_path / "model_equivalence.py"
    done = subprocess.run([sys.executable, str(check), "--tf1-python", sys.executable, "--tf2-python", tf2_python],
                          capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resnet -> Resnet: equivalent" in done.stdout
