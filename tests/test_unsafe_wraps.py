"""Why some wraps are only offered as unsafe fixes, shown by running them.

A GAN step that trains part of the variables, in a module whose network scopes cannot be
told: wrapping it in the whole UPDATE_OPS collection makes the generator's step run the
discriminator's update ops on real images it does not feed. The program runs as written
and after `migrate-bn fix` (which leaves it alone); the unsafe wrap stops it with a
missing-feed error, which is why `fix` does not apply it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "bn001" / "gan_steps_without_scope"

pytestmark = oracle.tf1_marks()


def _run(program: Path) -> subprocess.CompletedProcess:
    out = program.with_suffix(".json")
    return subprocess.run([sys.executable, str(oracle.HARNESS), str(program), str(out)], cwd=program.parent,
                          capture_output=True, text=True, timeout=600)


def test_the_unscoped_wrap_of_a_gan_step_breaks_the_program_and_fix_leaves_it_alone(tmp_path: Path) -> None:
    before = (CASE / "before.py").read_bytes()
    assert analyze(before, "before.py", fix=True).fixed_source is None  # `fix` leaves it alone
    (tmp_path / "before").mkdir()
    (tmp_path / "unsafe").mkdir()
    (tmp_path / "before" / "gan.py").write_bytes(before)
    (tmp_path / "unsafe" / "gan.py").write_bytes((CASE / "after_unsafe.py").read_bytes())
    assert _run(tmp_path / "before" / "gan.py").returncode == 0
    broken = _run(tmp_path / "unsafe" / "gan.py")
    report = (tmp_path / "unsafe" / "gan.json").read_text() if (tmp_path / "unsafe" / "gan.json").exists() else ""
    assert broken.returncode != 0 or '"ok": false' in report
    assert "must feed a value for placeholder" in report + broken.stderr
