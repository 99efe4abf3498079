"""Whole fixture repositories: the batch norm in one module, the train op in another.

fixtures/projects/<name>/expected.txt lists `path CODE LINE:COLUMN` for every finding a
run over the repository must produce (no file: it must stay silent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.project import Project
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, run

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
CASES = sorted(path for path in PROJECTS.iterdir() if path.is_dir())


def _expected(project: Path) -> list[str]:
    path = project / "expected.txt"
    return sorted(line.strip() for line in path.read_text().splitlines() if line.strip()) if path.exists() else []


@pytest.mark.parametrize("project", CASES, ids=lambda p: p.name)
def test_repository(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    found = []
    for result, _ in run(["."], Job(select_rules(), Options())):
        assert result.error is None and result.internal_error is None
        found += [f"{result.path} {f.code} {f.span.line}:{f.span.column}" for f in result.findings]
    assert sorted(found) == _expected(project)


def test_a_module_alone_does_not_know_its_imports() -> None:
    train = PROJECTS / "resnet_package" / "trainers" / "train.py"
    assert analyze(train.read_bytes(), "train.py").findings == []
    resolved = analyze(train.read_bytes(), "train.py", resolver=Project().resolver(str(train)))
    assert [f.code for f in resolved.findings] == ["BN001"]


@pytest.mark.parametrize("chain", [1, 4, 5])
def test_the_import_scan_follows_four_imports_whatever_the_cycles(tmp_path: Path, chain: int) -> None:
    """A module `chain` imports away from one with a batch-norm word: found up to four
    imports away, through cycles, by the batch runs' scan and the watching one alike."""
    names = [f"m{index}" for index in range(chain + 1)]
    for index, name in enumerate(names[:-1]):
        # Each module also imports the first one back: a cycle on every step.
        (tmp_path / f"{name}.py").write_text(f"import {names[index + 1]}\nimport m0\n")
    (tmp_path / f"{names[-1]}.py").write_text("import tensorflow as tf\nx = tf.layers.batch_normalization\n")
    first = str(tmp_path / "m0.py")
    for watch in (False, True):
        project = Project([first], watch=watch)
        assert project._could_build_batch_norm(first, None) is (chain <= 4)
