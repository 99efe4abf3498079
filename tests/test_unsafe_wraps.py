"""Why some wraps are only offered as unsafe fixes, shown by running them.

A GAN step that trains part of the variables, in a module whose network scopes cannot be
told: wrapping it in the whole UPDATE_OPS collection makes the generator's step run the
discriminator's update ops on real images it does not feed. The program runs as written
and after `migrate-bn fix` (which leaves it alone); the unsafe wrap stops it with a
missing-feed error, which is why `fix` does not apply it.

The same holds in a module with one train op: a probe tower of the network on other data
(its own placeholder) puts update ops into the collection that the train step's
`sess.run` cannot compute. The model (model/feeds.py) names the unfed placeholder and the
wrap is unsafe; the program runs as written and after `fix`, and the unsafe wrap stops
it with a missing-feed error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "bn001" / "gan_steps_without_scope"
PROBE = ROOT / "fixtures" / "bn001" / "probe_tower_unfed_placeholder"

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


def test_a_wrap_needing_a_placeholder_the_step_does_not_feed_is_unsafe(tmp_path: Path) -> None:
    before = (PROBE / "before.py").read_bytes()
    (finding,) = [f for f in analyze(before, "before.py").findings if f.code == "BN001"]
    assert finding.fix is not None and finding.fix.applicability == "unsafe" and "`x_probe`" in finding.fix.message
    fixed = analyze(before, "before.py", fix=True)
    assert fixed.fixed_source is None  # `fix` leaves it alone: the program is the one that runs
    for name, source in (("before", before), ("unsafe", (PROBE / "after_unsafe.py").read_bytes())):
        (tmp_path / name).mkdir()
        (tmp_path / name / "probe.py").write_bytes(source)
    assert _run(tmp_path / "before" / "probe.py").returncode == 0
    broken = _run(tmp_path / "unsafe" / "probe.py")
    report = (tmp_path / "unsafe" / "probe.json").read_text() if (tmp_path / "unsafe" / "probe.json").exists() else ""
    assert broken.returncode != 0 or '"ok": false' in report
    assert "must feed a value for placeholder" in report + broken.stderr
    assert "x_probe" in report + broken.stderr
