"""Run a TF1 program under tf1_harness.py and read back its batch-norm statistics.

Shared by the runtime tests. Under `--import-mode=importlib` the tests directory is not
a package, so a test loads this file by path:

    spec = importlib.util.spec_from_file_location("migrate_bn_runtime_oracle", PATH)

(see tests/test_runtime_repositories.py). Test infrastructure only, like the harness.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().with_name("tf1_harness.py")
CHECKOUT = Path(__file__).resolve().parent.parent.parent

HAVE_TF = all(importlib.util.find_spec(name) for name in ("tensorflow", "tf_slim"))
# In CI a missing TensorFlow is a failure, not a skip.
REQUIRE_TF = os.environ.get("MIGRATE_BN_REQUIRE_TF") == "1"
REQUIRE_TF2 = os.environ.get("MIGRATE_BN_REQUIRE_TF2") == "1"
SKIP_REASON = "needs tensorflow-cpu==2.12.1 and tf-slim (pip install -e .[tf1])"


def tf1_marks() -> list:
    """The marks of every test that runs TensorFlow 2.12 in this environment: skipped
    without it, and, with MIGRATE_BN_REQUIRE_TF=1, an error when the test file is
    collected (so every runtime file fails, none is skipped in silence)."""
    if REQUIRE_TF and not HAVE_TF:
        raise RuntimeError(f"MIGRATE_BN_REQUIRE_TF=1 but TensorFlow is missing: {SKIP_REASON}")
    return [pytest.mark.runtime, pytest.mark.skipif(not HAVE_TF, reason=SKIP_REASON)]


def needs_tf(test):
    """tf1_marks() on one test, in a file whose other tests need no TensorFlow."""
    for mark in tf1_marks():
        test = mark(test)
    return test


def version_tuple(version: str) -> tuple[int, ...]:
    """"2.9.0" -> (2, 9, 0), "3.0.0rc1" -> (3, 0, 0): versions compare as numbers, not text."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:3])


@dataclass
class Run:
    """One run of a program: its sessions that had batch-norm statistics, in creation
    order, and how long the whole run took (TensorFlow start-up included)."""

    sessions: list[dict]
    seconds: float

    @property
    def last(self) -> dict[str, list[float]]:
        """The final statistics of the last session that had any."""
        return self.sessions[-1]["variables"]


def run_program(script: Path, cwd: Path, probe: str = "", timeout: int = 600) -> Run:
    """Run `script` with the harness, in `cwd` (relative paths of the program land
    there). The harness's report is written next to nothing of the program's: a
    `.harness-<stem>.json` file in `cwd`. No bytecode is written beside the program."""
    cwd.mkdir(parents=True, exist_ok=True)
    out = cwd / f".harness-{script.stem}.json"
    env = {**os.environ, "MIGRATE_BN_PROBE": probe, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    completed = subprocess.run([sys.executable, str(HARNESS), str(script), str(out)],
                               cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    seconds = time.monotonic() - started
    report = json.loads(out.read_text()) if out.exists() else {}
    assert completed.returncode == 0 and report.get("ok"), (
        f"{script.name} failed:\n{report.get('error', '')}\n{completed.stderr[-3000:]}")
    sessions = [s for s in report["sessions"] if s and s["variables"]]
    assert sessions, f"{script.name} trained no batch norm"
    return Run(sessions, seconds)


def values(stats: dict[str, list[float]], kind: str, prefix: str = "") -> list[float]:
    """Every element of the statistics named `*kind` (under `prefix`, if given)."""
    return [value for name, vals in stats.items()
            if name.endswith(kind) and name.startswith(prefix) for value in vals]


def assert_never_updated(stats: dict[str, list[float]]) -> None:
    """The bug's signature: every moving mean still 0, every moving variance still 1."""
    means, variances = values(stats, "moving_mean"), values(stats, "moving_variance")
    assert means and variances
    assert all(value == 0.0 for value in means), "the bug should leave every moving mean at 0"
    assert all(value == 1.0 for value in variances), "the bug should leave every moving variance at 1"


def assert_all_moved(stats: dict[str, list[float]]) -> None:
    """After the fix: every element of every moving mean has left 0 and every element of
    every moving variance has left 1, so a fix that leaves out one batch norm's updates
    (or only its variance's) fails, naming the statistics that stayed."""
    means = {name: vals for name, vals in stats.items() if name.endswith("moving_mean")}
    variances = {name: vals for name, vals in stats.items() if name.endswith("moving_variance")}
    assert means and len(means) == len(variances), sorted(stats)
    stale = [name for name, vals in means.items() if any(value == 0.0 for value in vals)]
    stale += [name for name, vals in variances.items() if any(value == 1.0 for value in vals)]
    assert not stale, f"after the fix these moving statistics never moved: {stale}"
