"""The runtime oracle on programs shaped like real repositories (fixtures/runtime/):

- class_model: a model class whose __init__ builds the graph and its train op
  (`self.train_op = self.optimizer.minimize(self.loss)`), trained by a loop at the bottom;
- gan_two_optimizers: a GAN with batch norm in both networks and two train ops
  (`minimize(..., var_list=...)`), trained alternately;
- estimator: a `model_fn` trained by `tf.estimator.Estimator(...).train()`, whose
  sessions are MonitoredSessions made by the Estimator;
- cross_file: batch norm in models/convnet.py, the train op in train.py, fixed by a run
  over the whole directory (the project resolution links the two modules).

Each program runs under tensorflow-cpu==2.12.1 before and after `migrate-bn fix`:
before, every batch-norm moving mean is still exactly 0 and every moving variance 1
after training; after, every moving mean has moved.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, run

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "runtime"


import runtime_oracle as oracle  # noqa: E402  (tests/conftest.py)

pytestmark = oracle.tf1_marks()

SINGLE_FILE = ["class_model", "gan_two_optimizers", "estimator"]


def _report(case: str, before: "oracle.Run", after: "oracle.Run") -> None:
    """One line per case (shown with `pytest -s`): the measured statistics and times."""
    def summary(stats: dict[str, list[float]]) -> str:
        means = oracle.values(stats, "moving_mean")
        moved = sum(value != 0.0 for value in means)
        largest = max(abs(value) for value in means)
        return f"{moved}/{len(means)} means moved, max|mean| {largest:.4g}"
    print(f"\n[{case}] before: {summary(before.last)} ({before.seconds:.1f} s); "
          f"after: {summary(after.last)} ({after.seconds:.1f} s)")


class _Case:
    """A single-file case, fixed with `analyze(..., fix=True)` and run before and after."""

    def __init__(self, case: str, tmp_path: Path) -> None:
        before_path = FIXTURES / case / "before.py"
        before = before_path.read_bytes()
        result = analyze(before, str(before_path), fix=True)
        assert result.internal_error is None
        assert result.fixed_source is not None, "expected a fix"
        assert {f.code for f in result.findings if f.fix is not None} == {"BN001"}
        self.fixed = result.fixed_source.decode()
        self.buggy, self.repaired = (tmp_path / name / "program.py" for name in ("before", "after"))
        for program, source in ((self.buggy, before), (self.repaired, result.fixed_source)):
            program.parent.mkdir()
            program.write_bytes(source)
        # Each program runs in its own directory (the Estimator's relative model_dir too),
        # so the fixed one never resumes from the buggy one's checkpoint.
        self.before = oracle.run_program(self.buggy, self.buggy.parent)
        self.after = oracle.run_program(self.repaired, self.repaired.parent)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory):
    """Each case runs once per module, however many tests look at it."""
    made: dict[str, _Case] = {}

    def get(case: str) -> _Case:
        if case not in made:
            made[case] = _Case(case, tmp_path_factory.mktemp(case))
        return made[case]
    return get


@pytest.mark.parametrize("case", SINGLE_FILE)
def test_fix_makes_moving_statistics_update(case: str, cases) -> None:
    ran = cases(case)
    for session in ran.before.sessions:
        oracle.assert_never_updated(session["variables"])
    oracle.assert_all_moved(ran.after.last)
    _report(case, ran.before, ran.after)


def test_gan_fix_updates_both_networks(cases) -> None:
    """Both train ops are wrapped, and the generator's and the discriminator's moving
    means all move."""
    ran = cases("gan_two_optimizers")
    assert ran.fixed.count("with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS") == 2
    for network in ("generator/", "discriminator/"):
        means = oracle.values(ran.after.last, "moving_mean", prefix=network)
        assert means, f"no {network} batch norm recorded"
        assert all(value != 0.0 for value in means), f"some {network} moving means did not move"


def test_estimator_sessions(cases) -> None:
    """The harness sees the Estimator's sessions: the MonitoredSession of `train()`
    (closed at the end of training, after the final checkpoint) and the session of
    `evaluate()`, which restores that checkpoint. So the last session's statistics are
    the ones training ended with. model_dir is relative: it lands in the run's cwd."""
    ran = cases("estimator")
    assert (ran.buggy.parent / "sensor_model").is_dir() and (ran.repaired.parent / "sensor_model").is_dir()
    for run_ in (ran.before, ran.after):
        assert len(run_.sessions) == 2, "expected a train() and an evaluate() session"
    for session in ran.before.sessions:
        oracle.assert_never_updated(session["variables"])
    trained, evaluated = (session["variables"] for session in ran.after.sessions)
    oracle.assert_all_moved(trained)
    assert evaluated == trained, "evaluate() should restore the statistics training ended with"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_cross_file_project_fix(tmp_path: Path) -> None:
    """Batch norm in models/convnet.py, the train op in train.py: a run over the whole
    directory fixes train.py, and only train.py."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "cross_file", project, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    train = project / "train.py"
    # Alone, train.py shows no batch norm: the finding needs models/convnet.py.
    assert analyze(train.read_bytes(), "train.py").findings == []

    before = oracle.run_program(train, tmp_path / "run_before")
    for session in before.sessions:
        oracle.assert_never_updated(session["variables"])

    original = _snapshot(project)
    results = list(run([str(project)], Job(select_rules(), Options(), fix=True, write=True)))
    assert all(r.error is None and r.internal_error is None for r, _ in results)
    assert sorted(Path(r.path).name for r, _ in results if r.changed) == ["train.py"]
    assert [f.code for r, _ in results for f in r.findings if f.fix is not None] == ["BN001"]

    changed = _snapshot(project)
    assert changed.keys() == original.keys()
    assert [name for name in changed if changed[name] != original[name]] == ["train.py"]
    assert ("    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
            "        train_op = optimizer.minimize(loss, global_step=global_step)\n") in changed["train.py"].decode()

    # A second run over the fixed project changes nothing.
    again = list(run([str(project)], Job(select_rules(), Options(), fix=True, write=True)))
    assert not any(r.changed for r, _ in again)

    after = oracle.run_program(train, tmp_path / "run_after")
    oracle.assert_all_moved(after.last)
    _report("cross_file", before, after)
