"""Golden tests: fixtures/<group>/<case>/before.py, with the findings it must produce
(expected.txt: one `CODE LINE:COLUMN` a line, none for code that must stay silent) and,
when there is a fix, the exact fixed source: after.py for `migrate-bn fix`, and
after_unsafe.py for `migrate-bn fix --unsafe-fixes` when that differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.rules import Options

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(path.parent for path in FIXTURES.glob("*/*/before.py"))


def _id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


def _expected(case: Path) -> list[str]:
    path = case / "expected.txt"
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_findings(case: Path) -> None:
    result = analyze((case / "before.py").read_bytes(), "before.py")
    assert result.error is None
    assert [f"{f.code} {f.span.line}:{f.span.column}" for f in result.findings] == _expected(case)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_fix(case: Path) -> None:
    before = (case / "before.py").read_bytes()
    result = analyze(before, "before.py", fix=True)
    assert result.internal_error is None
    after = case / "after.py"
    if after.exists():
        assert result.fixed_source is not None, "expected a fix"
        assert result.fixed_source.decode() == after.read_text()
    else:
        assert result.fixed_source is None, "expected no change"


@pytest.mark.parametrize("case", [c for c in CASES if (c / "after.py").exists()], ids=_id)
def test_fixed_code_is_stable(case: Path) -> None:
    """A second run changes nothing and finds nothing it could fix."""
    result = analyze((case / "after.py").read_bytes(), "after.py", fix=True)
    assert result.fixed_source is None
    assert not [f for f in result.findings if f.fix is not None and f.fix.applicability == "safe"]


@pytest.mark.parametrize("case", [c for c in CASES if (c / "after_unsafe.py").exists()], ids=_id)
def test_unsafe_fix(case: Path) -> None:
    unsafe = Options(unsafe_fixes=True)
    before = (case / "before.py").read_bytes()
    result = analyze(before, "before.py", fix=True, options=unsafe)
    assert result.internal_error is None
    if (case / "after_unsafe.py").read_bytes() == before:
        assert result.fixed_source is None, "no unsafe fix expected"  # a copy of before.py says so
        return
    assert result.fixed_source is not None, "expected an unsafe fix"
    assert result.fixed_source.decode() == (case / "after_unsafe.py").read_text()
    again = analyze(result.fixed_source, "after.py", fix=True, options=unsafe)
    assert again.fixed_source is None, "a second run must change nothing"
