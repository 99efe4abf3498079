"""The README's exit-code table is what every command answers: each cell is produced by a
scenario here (or, where it needs TensorFlow to write a checkpoint, by the runtime test
named in PROVEN_ELSEWHERE), and one tree gets the same answer from every command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from migrate_bn.cli import main
from test_programs import BUGGY, FIXED, upgradable_script  # conftest.py makes it importable

ROOT = Path(__file__).resolve().parent.parent
# Neither Python 3 nor Python 2, with a batch-norm word: every command must read it, and cannot.
UNPARSEABLE = "import tensorflow as tf\nprint 'bn', tf.layers.batch_normalization(\n"
# A finding with no automatic fix: BN005, 10 steps for averages that need 459.
UNFIXABLE = FIXED + "sess = tf.Session()\nfor step in range(10):\n    sess.run(train_op)\n"
# A script `upgrade` leaves as it was: a BN001 bug must be fixed first.
REFUSED = upgradable_script(train="train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)")


def _readme_table() -> dict[str, dict[int, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Exit codes", 1)[1].split("\n\n", 2)[1]
    table: dict[str, dict[int, str]] = {}
    for row in section.splitlines()[2:]:
        command, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        table[command.strip("`")] = {code: cell for code, cell in enumerate(cells) if cell != "never"}
    return table


def _tree(tmp_path: Path, **files: str) -> list[str]:
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    return ["--no-cache", "."]


def _upgrade_tree(tmp_path: Path, **files: str) -> list[str]:
    _tree(tmp_path, **files)
    return ["."]


def _foreign_name_map(tmp_path: Path) -> list[str]:
    (tmp_path / "names.json").write_text(json.dumps({"format": "not migrate-bn's"}))
    return ["--name-map", "names.json", "model.ckpt", "tf2/ckpt"]


# (command, exit code) -> the arguments after the command, given a fresh directory.
Scenario = Callable[[Path], list]
SCENARIOS: dict[tuple[str, int], Scenario] = {
    ("check", 0): lambda tmp: _tree(tmp, train=FIXED),
    ("check", 1): lambda tmp: _tree(tmp, train=BUGGY),
    ("check", 2): lambda tmp: _tree(tmp, train=FIXED, old=UNPARSEABLE),
    ("fix", 0): lambda tmp: _tree(tmp, train=BUGGY),
    ("fix", 1): lambda tmp: _tree(tmp, train=UNFIXABLE),
    ("fix", 2): lambda tmp: _tree(tmp, train=BUGGY, old=UNPARSEABLE),
    ("fix --dry-run", 0): lambda tmp: _tree(tmp, train=FIXED),
    ("fix --dry-run", 1): lambda tmp: _tree(tmp, train=BUGGY),
    ("fix --dry-run", 2): lambda tmp: _tree(tmp, train=FIXED, old=UNPARSEABLE),
    ("upgrade", 0): lambda tmp: _upgrade_tree(tmp, train=upgradable_script()),
    ("upgrade", 1): lambda tmp: _upgrade_tree(tmp, train=REFUSED),
    ("upgrade", 2): lambda tmp: _upgrade_tree(tmp, train=upgradable_script(), old=UNPARSEABLE),
    ("upgrade --dry-run", 0): lambda tmp: _upgrade_tree(tmp, train=FIXED),
    ("upgrade --dry-run", 1): lambda tmp: _upgrade_tree(tmp, train=upgradable_script()),
    ("upgrade --dry-run", 2): lambda tmp: _upgrade_tree(tmp, train=upgradable_script(), old=UNPARSEABLE),
    ("doctor", 2): lambda tmp: [str(tmp / "no-such-checkpoint")],
    ("ckpt-convert", 2): lambda tmp: _foreign_name_map(tmp),
}
# Cells that need TensorFlow to write a checkpoint first.
PROVEN_ELSEWHERE = {
    ("doctor", 0): "tests/test_doctor.py::test_doctor_tells_buggy_from_fixed_checkpoints",
    ("doctor", 1): "tests/test_doctor.py::test_doctor_tells_buggy_from_fixed_checkpoints",
    ("ckpt-convert", 0): "tests/test_upgrade_runtime.py (tests/runtime/upgrade_tf2.py converts every case)",
}


def _invoke(command: str, arguments: list) -> int:
    result = CliRunner().invoke(main, [*command.split(), *arguments])
    return result.exit_code


def test_the_readme_has_one_table_for_every_command() -> None:
    table = _readme_table()
    assert set(table) == {"check", "fix", "fix --dry-run", "upgrade", "upgrade --dry-run", "doctor",
                          "ckpt-convert"}
    cells = {(command, code) for command, codes in table.items() for code in codes}
    assert cells == set(SCENARIOS) | set(PROVEN_ELSEWHERE), "a cell without a scenario, or a scenario without a cell"


@pytest.mark.parametrize("command, code", sorted(SCENARIOS), ids=lambda value: str(value))
def test_each_command_answers_as_the_readme_says(command: str, code: int, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _invoke(command, SCENARIOS[command, code](tmp_path)) == code


@pytest.mark.parametrize("unparseable, expected", [
    (UNPARSEABLE, 2),  # a batch-norm word: every command reads it as Python, and cannot
    ("print 'hello\n", 0),  # nothing any command looks for: none of them reports it
    (b"\xff\xfe tf.layers.batch_normalization\n", 2),  # undecodable, with a batch-norm word
], ids=["unparseable-with-batch-norm", "unparseable-without", "undecodable"])
def test_one_tree_gets_one_answer_from_every_command(unparseable, expected: int, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "old.py"
    old.write_bytes(unparseable) if isinstance(unparseable, bytes) else old.write_text(unparseable)
    answers = {command: _invoke(command, ["--no-cache", "."] if "upgrade" not in command else ["."])
               for command in ("check", "fix --dry-run", "upgrade --dry-run")}
    assert set(answers.values()) == {expected}, answers


def test_a_cell_the_readme_describes_is_not_left_blank() -> None:
    for command, codes in _readme_table().items():
        assert all(re.search(r"\w", cell) for cell in codes.values()), command


def test_a_python2_file_is_read_by_every_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 2 is read, not reported: `check` and `fix --dry-run` find the same bug as in
    the Python 3 file it would be; `upgrade --dry-run` would take it to Python 3."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.py").write_text(BUGGY + "print 'done'\n")
    answers = {command: _invoke(command, ["--no-cache", "."] if "upgrade" not in command else ["."])
               for command in ("check", "fix --dry-run", "upgrade --dry-run")}
    assert answers == {"check": 1, "fix --dry-run": 1, "upgrade --dry-run": 1}
