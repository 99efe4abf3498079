"""The real-code benchmark's scorer: trees rebuilt from a mirror (also when the snapshot
lacks a blob), bugs matched by class and line, alarms by verdict, and a missing mirror or
commit listed instead of failing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks" / "real_code"))
import score  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tf1_project" / "train_classifier.py"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, str]:
    """A mirror holding `someone/project`: the example program and a data file."""
    work = tmp_path / "mirror" / "someone+project" / "repo"
    work.mkdir(parents=True)
    git(work, "init", "-q")
    shutil.copy(EXAMPLE, work / "train.py")
    (work / "data.bin").write_bytes(b"\0" * 64)
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return tmp_path / "mirror", git(work, "rev-parse", "HEAD")


def findings_of(path: Path) -> list[dict]:
    """migrate-bn's findings on the example, as the scorer will see them."""
    proc = subprocess.run([sys.executable, "-m", "migrate_bn", "check", "--output-format", "json", "--isolated",
                           "--no-cache", "--exit-zero", "-j", "1", path.name], cwd=path.parent,
                          capture_output=True, text=True)
    return json.loads(proc.stdout)


def write_label(directory: Path, name: str, label: dict) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(json.dumps(label))


def test_scores_recall_and_precision_per_code_site(mirror, tmp_path, capsys):
    root, commit = mirror
    raised = findings_of(EXAMPLE)
    train_op = next(f for f in raised if f["code"] == "BN001")
    slow = next(f for f in raised if f["code"] == "BN005")
    labels = tmp_path / "labels"
    write_label(labels, "someone__project.json", {
        "repo": "someone/project", "commit": commit,
        "bugs": [
            {"id": "found-on-accepted-line", "path": "train.py", "line": 1, "class": "BN001",
             "accept_lines": [train_op["line"]], "evidence": "e"},
            {"id": "wrong-class", "path": "train.py", "line": train_op["line"], "class": "BN003", "evidence": "e"},
            {"id": "no-rule", "path": "train.py", "line": 3, "class": "OTHER:x", "evidence": "e"},
            # One defect with two fixes: labelled at one, reported by another rule at the other.
            {"id": "found-at-accepted-site", "path": "model.py", "line": 7, "class": "BN002", "evidence": "e",
             "accept_sites": [{"path": "train.py", "line": train_op["line"], "class": "BN001", "reason": "r"}]},
            {"id": "accepted-site-of-another-class", "path": "model.py", "line": 7, "class": "BN002",
             "evidence": "e", "accept_sites": [{"path": "train.py", "line": train_op["line"], "class": "BN004",
                                                "reason": "r"}]},
        ],
        "alarms": [
            {"path": "train.py", "line": train_op["line"], "code": "BN001", "verdict": "true", "reason": "r"},
            {"path": "gone.py", "line": 1, "code": "BN001", "verdict": "false", "reason": "r"},
        ],
    })
    assert score.main(["--labels", str(labels), "--mirror", str(root), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["bugs"], result["found"]) == (5, 2)
    assert (result["true"], result["judged"]) == (1, 1)
    repo = result["repos"][0]
    assert repo["missed"] == ["wrong-class", "no-rule", "accepted-site-of-another-class"]
    assert [a["line"] for a in repo["unjudged"]] == [slow["line"]]
    assert [a["path"] for a in repo["gone"]] == ["gone.py"]
    # The unjudged alarm makes --strict fail, and --alarms prints it as an entry to judge.
    assert score.main(["--labels", str(labels), "--mirror", str(root), "--strict"]) == 1
    capsys.readouterr()
    score.main(["--labels", str(labels), "--mirror", str(root), "--alarms"])
    entries = [json.loads(line.strip().rstrip(",")) for line in capsys.readouterr().out.splitlines()
               if line.startswith("    {")]
    assert entries == [{"path": "train.py", "line": slow["line"], "code": "BN005", "verdict": "?", "reason": ""}]


def test_missing_mirror_and_commit_are_listed_not_fatal(mirror, tmp_path, capsys):
    root, _ = mirror
    labels = tmp_path / "labels"
    write_label(labels, "nobody__none.json", {"repo": "nobody/none", "commit": "0" * 40, "bugs": [], "alarms": []})
    write_label(labels, "someone__project.json", {"repo": "someone/project", "commit": "1" * 40, "bugs": [],
                                                   "alarms": []})
    assert score.main(["--labels", str(labels), "--mirror", str(root)]) == 0
    out = capsys.readouterr().out
    assert "NOT SCORED nobody/none (missing-mirror)" in out
    assert "NOT SCORED someone/project (missing-commit)" in out
    assert score.main(["--labels", str(labels), "--mirror", str(root), "--strict"]) == 1


def test_a_crash_of_migrate_bn_is_reported_and_the_run_goes_on(mirror, tmp_path, capsys):
    root, commit = mirror
    crash = tmp_path / "crash.py"
    crash.write_text("import sys\nsys.stderr.write('Traceback: boom\\n')\nsys.exit(70)\n")
    labels = tmp_path / "labels"
    write_label(labels, "someone__project.json", {"repo": "someone/project", "commit": commit, "alarms": [],
                                                   "bugs": [{"id": "b", "path": "train.py", "line": 1,
                                                             "class": "BN001", "evidence": "e"}]})
    args = ["--labels", str(labels), "--mirror", str(root), "--migrate-bn", f"{sys.executable} {crash}"]
    assert score.main(args) == 0
    out = capsys.readouterr().out
    assert "ERROR  someone/project: migrate-bn failed: exit 70: Traceback: boom" in out
    assert "recall 0/1" in out
    assert score.main(args + ["--strict"]) == 1


def test_tree_is_rebuilt_without_the_blobs_a_snapshot_lacks(mirror, tmp_path):
    root, commit = mirror
    gitdir = root / "someone+project" / "repo" / ".git"
    data = git(gitdir.parent, "rev-parse", f"{commit}:data.bin")
    (gitdir / "objects" / data[:2] / data[2:]).unlink()
    tree = tmp_path / "tree"
    assert score.extract(score.git_dir(root, "someone/project"), commit, tree) is None
    assert (tree / "train.py").read_bytes() == EXAMPLE.read_bytes()
    assert not (tree / "data.bin").exists()


def test_counts_python2_files_and_notebooks(tmp_path):
    (tmp_path / "old.py").write_text("import tensorflow as tf\nprint 'batch_norm'\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [{"source": ["slim.batch_norm(x)"]}]}))
    (tmp_path / "other.ipynb").write_text("{}")
    result = score.RepoResult(repo="r", commit="c", label_file="f")
    score.unreadable_files(tmp_path, result)
    assert (result.py2_files, result.py2_bn_files, result.other_unparsable) == (1, 1, 1)
    assert (result.notebooks, result.bn_notebooks) == (2, 1)


def test_a_notebook_bug_is_found_at_its_cell_line_and_its_accepted_cells():
    bug = {"id": "b", "path": "./nb.ipynb", "line": 371, "cell": 21, "cell_line": 7, "class": "BN004",
           "accept_cells": [[20, 16], [20, 19]]}
    assert score.bug_sites(bug) == {("nb.ipynb", "371", "BN004"), ("nb.ipynb", "21:7", "BN004"),
                                    ("nb.ipynb", "20:16", "BN004"), ("nb.ipynb", "20:19", "BN004")}
