"""The wheel ships `migrate_bn` (with transforms/ inside it) and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("migrate_bn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert all(part == "migrate_bn" or part.endswith(".dist-info") for part in top_level), top_level
    assert "migrate_bn/transforms/bn001_missing_update_ops.py" in names
    assert not any(name.startswith(("transforms/", "fixtures/", "tests/", "examples/")) for name in names)
