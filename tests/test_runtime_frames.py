"""A safe fix changes nothing else: batch norm built inside a `tf.map_fn` body.

The program (fixtures/bn001/map_fn_bound_method_runnable) computes each task's loss in a
function given to `tf.map_fn`, whose network is a method bound in `__init__`. Wrapping
its train op in `control_dependencies(UPDATE_OPS)` (what BN001's fix used to write
there) makes it fail at run time: the update ops live in the loop's frame. Under
TensorFlow 2.12.1 (the runtime oracle): the program runs, the wrap breaks it, and
`migrate-bn fix` leaves a program that still runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "bn001" / "map_fn_bound_method_runnable" / "before.py"
TRAIN_OP = "        self.train_op = tf.train.AdamOptimizer(1e-3).minimize(tf.reduce_mean(losses))\n"
WRAP = "        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n    "

pytestmark = oracle.tf1_marks()


def _program(tmp_path: Path, name: str, source: str) -> Path:
    (tmp_path / name).mkdir()
    program = tmp_path / name / "program.py"
    program.write_text(source)
    return program


def test_fix_leaves_a_map_fn_program_running(tmp_path: Path) -> None:
    before = CASE.read_text()
    assert TRAIN_OP in before
    original = _program(tmp_path, "before", before)
    oracle.run_program(original, original.parent)

    wrapped = _program(tmp_path, "wrapped", before.replace(TRAIN_OP, WRAP + TRAIN_OP))
    with pytest.raises(AssertionError, match="frame"):
        oracle.run_program(wrapped, wrapped.parent)

    result = analyze(CASE.read_bytes(), str(CASE), fix=True)
    assert not [f for f in result.findings if f.code in ("BN001", "BN002", "BN008")]
    fixed = result.fixed_source.decode() if result.fixed_source is not None else before
    assert "UPDATE_OPS" not in fixed
    after = _program(tmp_path, "after", fixed)
    oracle.run_program(after, after.parent)
