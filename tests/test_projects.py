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
