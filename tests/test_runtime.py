"""The runtime oracle: each runnable fixture is run under a real TensorFlow before and
after `migrate-bn fix`.

- BN001 (tf.layers, slim through arg_scope, a slim net), BN002 (an early UPDATE_OPS
  read), BN003 (tf.layers without `training=`), BN008 (a Keras layer in a session):
  before the fix the batch-norm moving mean is still exactly its initial value (0) after
  the training steps; after it, the statistics have moved.
- BN004 (a literal `training=True` in a graph that is also evaluated): before the fix a
  prediction changes when the other examples in its batch change; after it (an unsafe
  fix) it does not, and training still updates the moving statistics.
- BN003 with no flag in scope (unsafe fix: a new flag): before the fix the statistics
  stay 0 and 1; after it they settle at the data's mean and variance, and evaluation,
  fed nothing, uses them whatever its batch.

The programs run in a subprocess under tensorflow-cpu==2.12.1 + tf-slim (TF1 code through
tf.compat.v1, see tests/runtime/README.md). Without TensorFlow these tests are skipped,
unless MIGRATE_BN_REQUIRE_TF=1 (as in CI), where a missing TensorFlow is a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.rules import Options

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = ["bn001/tf_layers_script", "bn001/slim_arg_scope", "bn001/slim_resnet", "bn002/runnable_script",
            "bn003/runnable_script", "bn008/layer_object_runnable"]

if not oracle.HAVE_TF and oracle.REQUIRE_TF:
    raise RuntimeError("MIGRATE_BN_REQUIRE_TF=1 but tensorflow / tf_slim are not installed")

pytestmark = [pytest.mark.runtime, pytest.mark.skipif(not oracle.HAVE_TF, reason=oracle.SKIP_REASON)]


def _before_and_after(tmp_path: Path, before: bytes, after: bytes) -> tuple[Path, Path]:
    paths = []
    for name, source in (("before", before), ("after", after)):
        (tmp_path / name).mkdir()
        program = tmp_path / name / "program.py"
        program.write_bytes(source)
        paths.append(program)
    return paths[0], paths[1]


@pytest.mark.parametrize("case", RUNNABLE)
def test_fix_makes_moving_statistics_update(case: str, tmp_path: Path) -> None:
    before_path = ROOT / "fixtures" / case / "before.py"
    before = before_path.read_bytes()
    fixed = analyze(before, str(before_path), fix=True).fixed_source
    assert fixed is not None
    buggy, repaired = _before_and_after(tmp_path, before, fixed)
    oracle.assert_never_updated(oracle.run_program(buggy, buggy.parent).last)
    oracle.assert_all_moved(oracle.run_program(repaired, repaired.parent).last)


def test_bn004_fix_makes_evaluation_independent_of_batch_mates(tmp_path: Path) -> None:
    before_path = ROOT / "fixtures" / "bn004" / "runnable_script" / "before.py"
    before = before_path.read_bytes()
    fixed = analyze(before, str(before_path), fix=True, options=Options(unsafe_fixes=True)).fixed_source
    assert fixed is not None
    buggy, repaired = _before_and_after(tmp_path, before, fixed)

    probe = oracle.run_program(buggy, buggy.parent, probe="features:prediction").sessions[-1]["probe"]
    assert abs(probe["first"][0] - probe["with_other_mates"][0]) > 1e-3, (
        "with training=True the prediction should depend on its batch mates")

    record = oracle.run_program(repaired, repaired.parent, probe="features:prediction").sessions[-1]
    probe = record["probe"]
    assert probe["first"] == pytest.approx(probe["with_other_mates"], abs=1e-6)
    means = oracle.values(record["variables"], "moving_mean")
    assert means and all(value != 0.0 for value in means), "training must still update the statistics"


def test_bn003_unsafe_fix_creates_a_flag_that_trains_and_evaluates(tmp_path: Path) -> None:
    """No training flag in scope: before the fix the layer runs in inference mode and its
    statistics never leave 0 and 1; after the unsafe fix (a new flag, fed True in the
    training runs) they settle at the readings' mean 3 and variance 4, and evaluation,
    fed nothing (the default False), normalizes with them, not with its batch."""
    before_path = ROOT / "fixtures" / "bn003" / "no_flag_runnable_script" / "before.py"
    before = before_path.read_bytes()
    assert analyze(before, str(before_path), fix=True).fixed_source is None, "the fix is unsafe only"
    fixed = analyze(before, str(before_path), fix=True, options=Options(unsafe_fixes=True)).fixed_source
    assert fixed is not None
    buggy, repaired = _before_and_after(tmp_path, before, fixed)
    oracle.assert_never_updated(oracle.run_program(buggy, buggy.parent).last)

    record = oracle.run_program(repaired, repaired.parent, probe="readings:estimate").sessions[-1]
    means, variances = (oracle.values(record["variables"], kind) for kind in ("moving_mean", "moving_variance"))
    assert len(means) == len(variances) == 4
    assert means == pytest.approx([3.0] * 4, abs=0.4), "the moving means should settle at the data's"
    assert variances == pytest.approx([4.0] * 4, abs=1.0), "the moving variances should settle at the data's"
    probe = record["probe"]
    assert probe["first"] == pytest.approx(probe["with_other_mates"], abs=1e-6), (
        "evaluation with the default False must use the moving statistics, not its batch's")
