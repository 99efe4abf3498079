"""BN001 on a train-op builder given `update_ops=[]` (issue 14, idiom 6), run under
TensorFlow 2.12.1 with tf-slim: before the fix the builder runs no batch-norm update
(every moving mean 0, every variance 1 after training); after `migrate-bn fix`
(`update_ops=None`, the builder's default: the UPDATE_OPS collection) all of them move."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "bn001" / "optimize_loss_update_ops_empty" / "before.py"

pytestmark = oracle.tf1_marks()


def test_update_ops_none_runs_the_updates_an_empty_list_switched_off(tmp_path: Path) -> None:
    fixed = analyze(CASE.read_bytes(), str(CASE), fix=True).fixed_source
    assert fixed is not None and b"update_ops=None" in fixed
    runs = {}
    for name, source in (("before", CASE.read_bytes()), ("after", fixed)):
        program = tmp_path / name / "program.py"
        program.parent.mkdir()
        program.write_bytes(source)
        runs[name] = oracle.run_program(program, program.parent).last
    oracle.assert_never_updated(runs["before"])
    assert sorted(runs["after"]) == sorted(runs["before"])
    oracle.assert_all_moved(runs["after"])
