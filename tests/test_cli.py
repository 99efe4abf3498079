"""The command line as a user drives it: output, exit codes, writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn.cli import main
from test_programs import BUGGY, FIXED  # conftest.py makes it importable


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src" / "models").mkdir(parents=True)
    (tmp_path / "src" / "train.py").write_text(BUGGY)
    (tmp_path / "src" / "models" / "clean.py").write_text(FIXED)
    (tmp_path / "src" / "a_first.py").write_text(BUGGY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_reports_path_line_col_code_and_exits_1(tree: Path) -> None:
    result = invoke("check", "src")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("src/a_first.py:7:12: BN001 [*] ")
    assert lines[1].startswith("src/train.py:7:12: BN001 ")
    assert "tf.layers.batch_normalization (line 5)" in lines[0]


def test_check_clean_exits_0(tree: Path) -> None:
    result = invoke("check", "src/models")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_usage_errors_exit_2(tree: Path) -> None:
    assert invoke("check", "no/such/dir").exit_code == 2
    assert invoke("check", "--select", "XX999", "src").exit_code == 2
    assert invoke("check", "--output-format", "yaml", "src").exit_code == 2
    assert invoke("frobnicate").exit_code == 2


def test_dry_run_prints_a_sorted_diff_and_writes_nothing(tree: Path) -> None:
    before = (tree / "src" / "train.py").read_bytes()
    for args in (["fix", "--dry-run", "src"], ["--dry-run", "src"]):
        result = invoke(*args)
        assert result.exit_code == 1
        out = result.stdout
        assert out.index("--- a/src/a_first.py") < out.index("--- a/src/train.py")
        assert "+++ b/src/train.py" in out
        assert "+with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):" in out
        assert "\033[" not in out  # not a terminal: no colour
    assert (tree / "src" / "train.py").read_bytes() == before


def test_color_always(tree: Path) -> None:
    assert "\033[" in invoke("fix", "--dry-run", "--color", "always", "src").stdout


def test_fix_writes_keeps_mode_and_converges(tree: Path) -> None:
    target = tree / "src" / "train.py"
    os.chmod(target, 0o640)
    untouched = (tree / "src" / "models" / "clean.py").stat().st_mtime_ns
    result = invoke("fix", "--diff", "src")
    assert result.exit_code == 0, result.output
    assert "+++ b/src/train.py" in result.stdout
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert (tree / "src" / "models" / "clean.py").stat().st_mtime_ns == untouched
    assert not list(tree.rglob(".migrate-bn-*"))
    again = invoke("fix", "src")
    assert again.exit_code == 0 and again.stdout == ""
    assert invoke("check", "src").exit_code == 0


def test_json_output(tree: Path) -> None:
    result = invoke("check", "--output-format", "json", "src/train.py")
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)
    assert {"code", "message", "path", "line", "column", "end_line", "end_column",
            "severity", "fix", "related"} <= set(item)
    assert item["path"] == "src/train.py"
    assert (item["line"], item["column"]) == (7, 12)
    assert item["fix"]["applicability"] == "safe"
    assert item["related"][0] == {"path": "src/train.py", "line": 5, "column": 5,
                                  "message": "batch norm whose updates go to UPDATE_OPS: tf.layers.batch_normalization"}


def test_select_and_ignore(tree: Path) -> None:
    assert invoke("check", "--ignore", "BN001", "src").exit_code == 0
    assert invoke("check", "--select", "BN002", "src").exit_code == 0
    assert invoke("check", "--select", "BN001,BN002", "src").exit_code == 1


def test_unparseable_file_is_reported_and_the_run_goes_on(tree: Path) -> None:
    (tree / "src" / "py2.py").write_text("import tensorflow as tf\nh = tf.layers.batch_normalization(x)\nprint 'x\n")
    result = invoke("check", "src")
    assert result.exit_code == 2
    assert "src/py2.py: error: cannot parse" in result.stderr
    assert "src/train.py:7:12: BN001" in result.stdout


def test_explain(tree: Path) -> None:
    result = invoke("explain", "BN001")
    assert result.exit_code == 0
    assert "## Why it is wrong" in result.stdout
    assert invoke("explain", "missing-update-ops").exit_code == 0
    assert invoke("explain", "BN999").exit_code == 2


def test_help_teaches(tree: Path) -> None:
    text = invoke("--help").stdout
    for command in ("check", "fix --dry-run", "explain", "Exit codes"):
        assert command in text


def test_internal_error_leaves_the_file_alone_and_exits_2(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn import api
    from migrate_bn.edits import EditOutcome

    monkeypatch.setattr(api, "apply_edits", lambda source, edits: EditOutcome(source + b"\n)\n", list(edits), []))
    before = (tree / "src" / "train.py").read_bytes()
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: internal error:" in result.stderr
    assert (tree / "src" / "train.py").read_bytes() == before


EVALUATED_TRUE = """\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
h = tf.layers.batch_normalization(x, training=True)
loss = tf.reduce_mean(h)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(train_op, {x: [[1.0] * 4]})
    print(sess.run(h, {x: [[1.0] * 4]}))
"""


def test_unsafe_fixes_only_on_request(tree: Path) -> None:
    target = tree / "src" / "evaluated.py"
    target.write_text(EVALUATED_TRUE)
    result = invoke("fix", "src/evaluated.py")
    assert result.exit_code == 1
    assert "1 more fix available with `--unsafe-fixes`" in result.stderr
    assert target.read_text() == EVALUATED_TRUE
    result = invoke("fix", "--unsafe-fixes", "src/evaluated.py")
    assert result.exit_code == 0, result.output
    fixed = target.read_text()
    assert 'is_training = tf.placeholder_with_default(False, shape=(), name="is_training")' in fixed
    assert "sess.run(train_op, {x: [[1.0] * 4], is_training: True})" in fixed
    assert invoke("check", "src/evaluated.py").exit_code == 0


def test_bn_momentum_option_rewrites_a_slow_decay(tree: Path) -> None:
    target = tree / "src" / "slow.py"
    source = ("import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n"
              "x = tf.placeholder(tf.float32, [None, 4])\nis_training = tf.placeholder(tf.bool, [])\nh = slim.batch_norm(x, decay=0.9997, is_training=is_training)\n"
              "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
              "    op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(h))\n"
              "with tf.Session() as sess:\n    for i in range(500):\n        sess.run(op, {x: [[1.0] * 4], is_training: True})\n")
    target.write_text(source)
    assert invoke("fix", "--bn-momentum", "0.99", "src/slow.py").exit_code == 1  # unsafe: not without the flag
    result = invoke("fix", "--unsafe-fixes", "--bn-momentum", "0.99", "src/slow.py")
    assert result.exit_code == 0, result.output
    assert "decay=0.99," in target.read_text()
    assert invoke("fix", "--bn-momentum", "1.5", "src/slow.py").exit_code == 2
