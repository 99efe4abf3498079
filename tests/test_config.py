"""Configuration in pyproject.toml / setup.cfg, and how the command line overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn.cli import main

BUGGY = """\
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 4])
h = tf.layers.batch_normalization(x, training=tf.placeholder(tf.bool))
train_op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(h))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("src/train.py", "src/legacy/old_train.py", "tests/test_model.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BUGGY)
    monkeypatch.chdir(tmp_path / "src")  # found from a subdirectory, upwards
    return tmp_path


def findings(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, [line.split(" ")[0] for line in result.stdout.splitlines()]


def test_pyproject_exclude_and_per_file_ignores(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.migrate-bn]\nexclude = ["legacy"]\n[tool.migrate-bn.per-file-ignores]\n"tests/*" = ["BN001"]\n')
    code, found = findings("..")
    assert found == ["train.py:4:12:"]
    assert code == 1


def test_setup_cfg_select_and_cli_override(project: Path) -> None:
    (project / "setup.cfg").write_text("[migrate_bn]\nselect = BN002\n")
    assert findings(".") == (0, [])
    assert findings("--select", "BN001", ".")[1] == ["legacy/old_train.py:4:12:", "train.py:4:12:"]
    assert findings("--isolated", ".")[0] == 1


def test_explicit_files_are_checked_unless_force_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.migrate-bn]\nexclude = ["legacy"]\n')
    assert findings("legacy/old_train.py")[1] == ["legacy/old_train.py:4:12:"]
    assert findings("--force-exclude", "legacy/old_train.py") == (0, [])
    assert findings("--exclude", "train.py", ".") == (0, [])


@pytest.mark.parametrize("text, message", [
    ("[tool.migrate-bn]\nselcet = ['BN001']\n", "unknown key 'selcet'"),
    ("[tool.migrate-bn]\nselect = ['BN999']\n", "unknown rule code 'BN999'"),
    ("[tool.migrate-bn]\nunsafe-fixes = 'maybe'\n", "expected true or false"),
    ("[tool.migrate-bn\n", "cannot read"),
])
def test_bad_configuration_is_a_usage_error(project: Path, text: str, message: str) -> None:
    (project / "pyproject.toml").write_text(text)
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "pyproject.toml" in result.stderr
