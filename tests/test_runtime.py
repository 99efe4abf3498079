"""The runtime oracle: each runnable fixture is run under a real TensorFlow before and
after `migrate-bn fix`.

- BN001 (tf.layers, slim through arg_scope, a slim net), BN002 (an early UPDATE_OPS
  read), BN003 (tf.layers without `training=`), BN008 (a Keras layer in a session):
  before the fix the batch-norm moving mean is still exactly its initial value (0) after
  the training steps; after it, the statistics have moved.
- BN004 (a literal `training=True` in a graph that is also evaluated): before the fix a
  prediction changes when the other examples in its batch change; after it (an unsafe
  fix) it does not, and training still updates the moving statistics.

The programs run in a subprocess under tensorflow-cpu==2.12.1 + tf-slim (TF1 code through
tf.compat.v1, see tests/runtime/README.md). Without TensorFlow these tests are skipped,
unless MIGRATE_BN_REQUIRE_TF=1 (as in CI), where a missing TensorFlow is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.rules import Options

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "runtime" / "tf1_harness.py"
RUNNABLE = ["bn001/tf_layers_script", "bn001/slim_arg_scope", "bn001/slim_resnet", "bn002/runnable_script",
            "bn003/runnable_script", "bn008/layer_object_runnable"]

_HAVE_TF = all(importlib.util.find_spec(name) for name in ("tensorflow", "tf_slim"))
if not _HAVE_TF and os.environ.get("MIGRATE_BN_REQUIRE_TF") == "1":
    raise RuntimeError("MIGRATE_BN_REQUIRE_TF=1 but tensorflow / tf_slim are not installed")

pytestmark = [
    pytest.mark.runtime,
    pytest.mark.skipif(not _HAVE_TF, reason="needs tensorflow-cpu==2.12.1 and tf-slim (pip install .[tf1])"),
]


def run_tf1_session(script: Path, workdir: Path, probe: str = "") -> dict:
    """Run a TF1 program; the record of its last session that had batch-norm statistics."""
    out = workdir / (script.stem + ".json")
    env = {**os.environ, "MIGRATE_BN_PROBE": probe}
    completed = subprocess.run([sys.executable, str(HARNESS), str(script), str(out)],
                               cwd=workdir, capture_output=True, text=True, timeout=600, env=env)
    report = json.loads(out.read_text()) if out.exists() else {}
    assert completed.returncode == 0 and report.get("ok"), (
        f"{script.name} failed:\n{report.get('error', '')}\n{completed.stderr[-3000:]}")
    sessions = [s for s in report["sessions"] if s["variables"]]
    assert sessions, "the program trained no batch norm"
    return sessions[-1]


def run_tf1(script: Path, workdir: Path) -> dict[str, list[float]]:
    """The final moving statistics of a TF1 program's last session that had any."""
    return run_tf1_session(script, workdir)["variables"]


def _before_and_after(tmp_path: Path, before: bytes, after: bytes) -> tuple[Path, Path]:
    paths = []
    for name, source in (("before", before), ("after", after)):
        (tmp_path / name).mkdir()
        program = tmp_path / name / "program.py"
        program.write_bytes(source)
        paths.append(program)
    return paths[0], paths[1]


def _values(stats: dict[str, list[float]], kind: str) -> list[float]:
    return [value for name, values in stats.items() if name.endswith(kind) for value in values]


@pytest.mark.parametrize("case", RUNNABLE)
def test_fix_makes_moving_statistics_update(case: str, tmp_path: Path) -> None:
    before_path = ROOT / "fixtures" / case / "before.py"
    before = before_path.read_bytes()
    fixed = analyze(before, str(before_path), fix=True).fixed_source
    assert fixed is not None

    buggy, repaired = _before_and_after(tmp_path, before, fixed)

    stats = run_tf1(buggy, buggy.parent)
    means, variances = _values(stats, "moving_mean"), _values(stats, "moving_variance")
    assert means and variances
    assert all(value == 0.0 for value in means), "the bug should leave every moving mean at 0"
    assert all(value == 1.0 for value in variances), "the bug should leave every moving variance at 1"

    stats = run_tf1(repaired, repaired.parent)
    means, variances = _values(stats, "moving_mean"), _values(stats, "moving_variance")
    moved = sum(value != 0.0 for value in means)
    assert moved == len(means), f"after the fix only {moved} of {len(means)} moving means moved"
    assert any(value != 1.0 for value in variances)


def test_bn004_fix_makes_evaluation_independent_of_batch_mates(tmp_path: Path) -> None:
    before_path = ROOT / "fixtures" / "bn004" / "runnable_script" / "before.py"
    before = before_path.read_bytes()
    fixed = analyze(before, str(before_path), fix=True, options=Options(unsafe_fixes=True)).fixed_source
    assert fixed is not None
    buggy, repaired = _before_and_after(tmp_path, before, fixed)

    record = run_tf1_session(buggy, buggy.parent, probe="features:prediction")
    probe = record["probe"]
    assert abs(probe["first"][0] - probe["with_other_mates"][0]) > 1e-3, (
        "with training=True the prediction should depend on its batch mates")

    record = run_tf1_session(repaired, repaired.parent, probe="features:prediction")
    probe = record["probe"]
    assert probe["first"] == pytest.approx(probe["with_other_mates"], abs=1e-6)
    means = _values(record["variables"], "moving_mean")
    assert means and all(value != 0.0 for value in means), "training must still update the statistics"
