"""Bulk runs: workers give the serial results in the same order; the cache answers
unchanged files and forgets changed ones (or ones whose imports changed); .gitignore."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migrate_bn.cache import Cache, configuration_key
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, plan, run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from tf1_tree import generate  # noqa: E402

TRAIN = """\
import tensorflow as tf
from models import net

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
train_op = tf.train.AdamOptimizer(1e-3).minimize(tf.reduce_mean(net(images, True)))
"""
MODELS = """\
import tensorflow as tf


def net(x, is_training):
    return tf.layers.batch_normalization(tf.layers.conv2d(x, 4, 3), training=is_training)
"""


def _summary(results) -> list[tuple]:
    return [(r.path, tuple((f.code, f.span.line, f.span.column) for f in r.findings), r.error) for r, _ in results]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    generate(tmp_path / "tree", 120, seed=3)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "tree"


def test_workers_give_the_serial_results_in_order(tree: Path) -> None:
    serial = _summary(run([str(tree)], Job(select_rules(), Options(), jobs=1)))
    parallel = _summary(run([str(tree)], Job(select_rules(), Options(), jobs=2)))
    assert parallel == serial
    assert [path for path, _, _ in serial] == sorted(path for path, _, _ in serial)
    assert any(findings for _, findings, _ in serial)


def test_fix_dry_run_with_workers_matches_serial(tree: Path) -> None:
    job = Job(select_rules(), Options(), fix=True)
    serial = [(r.path, r.fixed_source) for r, _ in run([str(tree)], job)]
    parallel = [(r.path, r.fixed_source) for r, _ in run([str(tree)], Job(select_rules(), Options(), fix=True, jobs=2))]
    assert parallel == serial and any(fixed for _, fixed in serial)


def test_cache_hits_and_invalidation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "models.py").write_text(MODELS)
    job = Job(select_rules(), Options())

    def check() -> tuple[list, Cache]:
        cache = Cache(str(tmp_path / "cache"), configuration_key("all"))
        found = _summary(run(["."], job, cache))
        cache.close()
        return found, cache

    first, cache = check()
    assert ("train.py", (("BN001", 5, 12),), None) in first and cache.hits == 0
    second, cache = check()
    assert second == first and cache.hits == 2
    # The model no longer builds batch norm: train.py's cached result must not be used.
    (tmp_path / "models.py").write_text(MODELS.replace("tf.layers.batch_normalization(", "tf.identity(").replace(
        ", training=is_training)", ")"))
    third, cache = check()
    assert ("train.py", (), None) in third and cache.misses == 1  # models.py is no longer even parsed


def test_gitignore_is_respected_for_searched_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    (tmp_path / ".gitignore").write_text("generated/\n")
    for name in ("generated/train.py", "src/train.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(TRAIN.replace("from models import net", "from models import net  # batch_norm"))
    job = Job(select_rules(), Options(), respect_gitignore=True)
    assert plan(["."], job).paths == ["src/train.py"]
    explicit = Job(select_rules(), Options(), respect_gitignore=True, explicit=frozenset({"generated/train.py"}))
    assert plan(["generated/train.py"], explicit).paths == ["generated/train.py"]


def test_cli_report_files_from_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from migrate_bn.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "broken.py").write_text("import tensorflow as tf  # batch_norm\nprint 'py2\n")
    (tmp_path / "list.txt").write_text("train.py\nmodels.py\n")
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--files-from", "list.txt", "--report", "report.json", "-j", "2"])
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["findings_by_rule"] == {"BN001": 1}
    assert report["files"]["total"] == 2 and report["per_file"][0]["path"] == "train.py"
    assert (tmp_path / ".migrate_bn_cache" / "CACHEDIR.TAG").exists()
    # Nothing on a pipe but the findings: no progress line.
    assert "\r" not in result.stderr
    result = runner.invoke(main, ["check", ".", "--report", "report.md", "--no-cache"])
    assert result.exit_code == 2  # broken.py could not be parsed
    text = (tmp_path / "report.md").read_text()
    assert "| BN001 | 1 |" in text and "`broken.py`: cannot parse" in text
    assert runner.invoke(main, ["check", "--files-from", "list.txt", "missing.py"]).exit_code == 2
