"""Score migrate-bn on real TF1 repositories: `python benchmarks/real_code/score.py`.

The labels (`labels/<owner>__<name>.json`, format in README.md) name a repository, a
commit, the batch-norm bugs at that commit and a verdict on every alarm migrate-bn
raised there. This script rebuilds each labelled tree from a fetched copy of the
repository (a git directory under the mirror, `/work/.mirror/<owner>+<name>/`),
runs the checkout's migrate-bn over it, and prints per repository and overall:

- recall: labelled bugs found / labelled bugs; a bug is found when an alarm of its
  class is on its path at `line` or one of `accept_lines`, or at one of its
  `accept_sites` (`OTHER:*` bugs, which no rule covers, count as missed);
- precision per distinct code site: true alarms / judged alarms, an alarm being one
  (path, line, code); alarms not judged in the label file are UNJUDGED (exit 1 with
  `--strict`); judged alarms no longer raised are listed as gone;
- how many Python 2 files and notebooks the tree holds (TF1-era sources that plain Python 3
  tools skip).

A repository whose mirror or commit is missing is listed, not fatal. `--alarms`
prints the unjudged alarms as label entries ready to judge; `--json` prints the whole
result as JSON. Fetched code is read from the mirror and extracted into a scratch
directory; nothing here writes into the repository.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent
DEFAULT_MIRROR = Path(os.environ.get("MIGRATE_BN_MIRROR", "/work/.mirror"))

# Python 2 only syntax: a print statement, `except E, e:`, backquotes, `exec "..."`,
# octal literals like 0777, `raise E, "message"`, `ur''` strings.
PY2_SIGNS = re.compile(
    rb"^\s*print\s+[^\s(=.,)\]}]|^\s*print\s*$|except\s+[\w.]+\s*,\s*\w+\s*:|^\s*exec\s+[\"'\w]"
    rb"|^\s*raise\s+[\w.]+\s*,|\b0[0-7]+\b(?![.\dxXeEjJ])|\bur[\"']",
    re.MULTILINE)
BN_WORDS = re.compile(rb"batch_norm|BatchNorm|batchnorm|UPDATE_OPS|moving_mean")


@dataclass
class RepoResult:
    repo: str
    commit: str
    label_file: str
    status: str = "ok"             # ok | missing-mirror | missing-commit | tool-error
    detail: str = ""
    bugs: int = 0
    found: list = field(default_factory=list)      # bug ids found
    missed: list = field(default_factory=list)     # bug dicts not found
    alarms: int = 0                # distinct (path, line, code) sites raised
    true: list = field(default_factory=list)
    false: list = field(default_factory=list)
    unjudged: list = field(default_factory=list)   # alarm dicts raised but not judged
    gone: list = field(default_factory=list)       # judged alarms not raised any more
    py2_files: int = 0
    py2_bn_files: int = 0
    other_unparsable: int = 0
    notebooks: int = 0
    bn_notebooks: int = 0
    tool_stderr: str = ""


def git_dir(mirror: Path, repo: str) -> Path | None:
    """The git directory the fetch tool made for `repo` (a bare repo or a clone)."""
    root = mirror / repo.replace("/", "+")
    for candidate in (root / "repo" / ".git", root / "repo", root / ".git", root):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def extract(gitdir: Path, commit: str, into: Path) -> str | None:
    """Write the tree of `commit` into `into`; return an error text, or None."""
    git = ["git", "--git-dir", str(gitdir)]
    if subprocess.run(git + ["cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True).returncode != 0:
        return f"commit {commit} is not in {gitdir}"
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(git + ["archive", "--format=tar", commit], capture_output=True)
    if archive.returncode == 0:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            members = [m for m in tar.getmembers() if (m.isfile() or m.isdir())
                       and not m.name.startswith("/") and ".." not in Path(m.name).parts]
            tar.extractall(into, members=members)
        return None
    # Snapshots lack their largest blobs (data, weights), and git archive stops at the
    # first missing one: write the blobs that are there, one by one.
    listing = subprocess.run(git + ["ls-tree", "-r", "-z", commit], capture_output=True).stdout
    for entry in filter(None, listing.split(b"\0")):
        meta, name = entry.split(b"\t", 1)
        mode, kind, sha = meta.split()
        relative = Path(os.fsdecode(name))
        if kind != b"blob" or mode == b"120000" or relative.is_absolute() or ".." in relative.parts:
            continue
        blob = subprocess.run(git + ["cat-file", "blob", sha.decode()], capture_output=True)
        if blob.returncode == 0:
            (into / relative).parent.mkdir(parents=True, exist_ok=True)
            (into / relative).write_bytes(blob.stdout)
    return None


def unreadable_files(tree: Path, result: RepoResult) -> None:
    """Count the Python 2 files and notebooks migrate-bn skips, and how many mention BN."""
    for path in tree.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            result.notebooks += 1
            if BN_WORDS.search(path.read_bytes()):
                result.bn_notebooks += 1
        elif path.suffix == ".py":
            source = path.read_bytes()
            try:
                ast.parse(source)
            except (SyntaxError, ValueError):
                if PY2_SIGNS.search(source):
                    result.py2_files += 1
                    result.py2_bn_files += bool(BN_WORDS.search(source))
                else:
                    result.other_unparsable += 1


def run_migrate_bn(tree: Path, command: list[str]) -> tuple[list[dict], str, int]:
    """migrate-bn's findings over `tree` (paths relative to it; None if it printed no JSON
    list), its stderr, its exit code."""
    proc = subprocess.run(
        command + ["check", "--output-format", "json", "--no-cache", "--isolated",
                   "--exit-zero", "-j", "1", "."],
        cwd=tree, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    try:
        findings = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        findings = None
    return findings, proc.stderr, proc.returncode


def site(path: str, line, code: str, cell=None) -> tuple[str, str, str]:
    """One alarm's identity: its path (as in the labels, relative to the repo root), line
    (in a notebook: `cell:line`, the line counted inside the cell, as migrate-bn reports
    it), code."""
    path = path.replace(os.sep, "/")
    where = f"{cell}:{int(line)}" if cell is not None else str(int(line))
    return (path[2:] if path.startswith("./") else path, where, code)


def bug_sites(bug: dict) -> set[tuple[str, str, str]]:
    """Where an alarm finds a labelled bug; a notebook bug labelled with its `cell` and
    `cell_line` is found there too (its `line` is the .ipynb file's), and at the
    `[cell, line]` pairs of its `accept_cells` (the notebook form of `accept_lines`).
    `accept_sites` name the other lines a fix of the same defect would change, with their
    own path and class (and `cell`): a defect with two fixes, each of which a rule reports."""
    sites = {site(bug["path"], line, bug["class"]) for line in {bug["line"], *bug.get("accept_lines", [])}}
    if "cell" in bug and "cell_line" in bug:
        sites.add(site(bug["path"], bug["cell_line"], bug["class"], bug["cell"]))
    sites.update(site(bug["path"], line, bug["class"], cell) for cell, line in bug.get("accept_cells", []))
    sites |= {site(other["path"], other["line"], other["class"], other.get("cell"))
              for other in bug.get("accept_sites", [])}
    return sites


def score(label: dict, findings: list[dict], result: RepoResult) -> None:
    """Match the findings against the labelled bugs and the judged alarms."""
    raised: dict[tuple, dict] = {}
    for finding in findings:
        if "kind" in finding:  # a file migrate-bn could not process (E9xx), not an alarm
            continue
        raised.setdefault(site(finding["path"], finding["line"], finding["code"], finding.get("cell")), finding)
    result.alarms = len(raised)
    for bug in label.get("bugs", []):
        if bug_sites(bug) & raised.keys():
            result.found.append(bug["id"])
        else:
            result.missed.append(bug)
    judged = {site(a["path"], a["line"], a["code"], a.get("cell")): a for a in label.get("alarms", [])}
    for key, finding in sorted(raised.items()):
        verdict = judged.get(key)
        if verdict is None:
            result.unjudged.append(finding)
        elif verdict.get("verdict") == "true":
            result.true.append(verdict)
        else:
            result.false.append(verdict)
    result.gone = [a for key, a in sorted(judged.items()) if key not in raised]


def load_labels(directory: Path, only: set[str]) -> list[tuple[Path, dict]]:
    labels = []
    for path in sorted(directory.glob("*.json")):
        try:
            label = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            print(f"{path}: unreadable label file: {error}", file=sys.stderr)
            continue
        if not only or label.get("repo") in only or path.stem in only:
            labels.append((path, label))
    return labels


def evaluate(path: Path, label: dict, mirror: Path, scratch: Path, command: list[str],
             keep_trees: bool) -> RepoResult:
    repo, commit = label.get("repo", path.stem.replace("__", "/")), label.get("commit", "")
    result = RepoResult(repo=repo, commit=commit, label_file=path.name,
                        bugs=len(label.get("bugs", [])))
    gitdir = git_dir(mirror, repo)
    if gitdir is None:
        result.status, result.detail = "missing-mirror", f"no git directory under {mirror / repo.replace('/', '+')}"
        return result
    tree = scratch / path.stem
    error = extract(gitdir, commit, tree)
    if error:
        result.status, result.detail = "missing-commit", error.splitlines()[-1]
        return result
    unreadable_files(tree, result)
    findings, stderr, code = run_migrate_bn(tree, command)
    result.tool_stderr = stderr
    if findings is None or "Traceback" in stderr:
        # A crash is a result to report (its bugs count as missed), not a reason to stop.
        result.status = "tool-error"
        result.detail = f"exit {code}: " + (stderr.strip().splitlines() or ["no output"])[-1]
    score(label, findings or [], result)
    if not keep_trees:
        subprocess.run(["rm", "-rf", str(tree)])
    return result


def ratio(num: int, den: int) -> str:
    return f"{num}/{den} = {100 * num / den:.0f}%" if den else f"{num}/0"


def render_text(results: list[RepoResult], out) -> None:
    scored = [r for r in results if r.status in ("ok", "tool-error")]
    header = ("repo", "commit", "bugs", "found", "alarms", "true", "false", "unjudged", "py2", "other", "ipynb")
    rows = [(r.repo, r.commit[:7], r.bugs, len(r.found), r.alarms, len(r.true), len(r.false),
             len(r.unjudged), f"{r.py2_files}({r.py2_bn_files})", r.other_unparsable,
             f"{r.notebooks}({r.bn_notebooks})")
            for r in scored]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    for row in [header, *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)), file=out)
    bugs = sum(r.bugs for r in scored)
    found = sum(len(r.found) for r in scored)
    true = sum(len(r.true) for r in scored)
    judged = true + sum(len(r.false) for r in scored)
    print(f"\nrecall {ratio(found, bugs)}; precision per code site {ratio(true, judged)}; "
          f"alarms {sum(r.alarms for r in scored)}, unjudged {sum(len(r.unjudged) for r in scored)}; "
          f"repositories scored {len(scored)} of {len(results)}", file=out)
    print("(py2: Python 2 files, read through their Python 3 view (those with batch-norm words); other: other files "
          "that do not parse; ipynb: notebooks (those with batch-norm words))", file=out)
    for r in scored:
        for bug in r.missed:
            print(f"MISSED {r.repo} {bug['path']}:{bug['line']} {bug['class']} {bug['id']}", file=out)
        for alarm in r.false:
            print(f"FALSE  {r.repo} {alarm['path']}:{alarm['line']} {alarm['code']}: {alarm.get('reason', '')}",
                  file=out)
        for finding in r.unjudged:
            cell = f"cell {finding['cell']}:" if "cell" in finding else ""
            print(f"UNJUDGED {r.repo} {finding['path']}:{cell}{finding['line']} {finding['code']}", file=out)
        for alarm in r.gone:
            print(f"GONE   {r.repo} {alarm['path']}:{alarm['line']} {alarm['code']} (judged {alarm.get('verdict')}, "
                  "no longer raised)", file=out)
        if r.status == "tool-error":
            print(f"ERROR  {r.repo}: migrate-bn failed: {r.detail}", file=out)
    for r in results:
        if r.status in ("missing-mirror", "missing-commit"):
            print(f"NOT SCORED {r.repo} ({r.status}): {r.detail}", file=out)


def render_alarms(results: list[RepoResult], out) -> None:
    """The unjudged alarms, as label entries to complete and paste into `alarms`."""
    for r in results:
        if not r.unjudged:
            continue
        print(f"# {r.repo} @ {r.commit} ({r.label_file}): {len(r.unjudged)} unjudged", file=out)
        for finding in r.unjudged:
            print(f"#   {finding['path']}:{finding['line']}:{finding.get('column', 0)} "
                  f"{finding['code']} {finding['message']}", file=out)
            entry = {"path": finding["path"], "line": finding["line"], "code": finding["code"],
                     **({"cell": finding["cell"]} if "cell" in finding else {}), "verdict": "?", "reason": ""}
            print("    " + json.dumps(entry) + ",", file=out)


def as_json(results: list[RepoResult]) -> dict:
    scored = [r for r in results if r.status in ("ok", "tool-error")]
    bugs, found = sum(r.bugs for r in scored), sum(len(r.found) for r in scored)
    true = sum(len(r.true) for r in scored)
    judged = true + sum(len(r.false) for r in scored)
    return {
        "recall": found / bugs if bugs else None, "bugs": bugs, "found": found,
        "precision": true / judged if judged else None, "true": true, "judged": judged,
        "unjudged": sum(len(r.unjudged) for r in scored),
        "repos": [{**{k: v for k, v in r.__dict__.items() if k != "tool_stderr"},
                   "found": r.found, "missed": [b["id"] for b in r.missed]} for r in results],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", nargs="*", help="only these repositories (owner/name or owner__name)")
    parser.add_argument("--labels", type=Path, default=HERE / "labels", help="label directory")
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR,
                        help="where fetched repositories are (default: $MIGRATE_BN_MIRROR or /work/.mirror)")
    parser.add_argument("--scratch", type=Path, help="where to rebuild the trees (default: a temporary directory)")
    parser.add_argument("--keep-trees", action="store_true", help="leave the rebuilt trees in --scratch")
    parser.add_argument("--migrate-bn", metavar="COMMAND",
                        help="the command to run, split as a shell would (default: this Python's "
                             "migrate_bn, the checkout's package first)")
    parser.add_argument("--alarms", action="store_true", help="print the alarms not yet judged, as label entries")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when an alarm is unjudged or a repo not scored")
    parser.add_argument("--verbose", action="store_true", help="print migrate-bn's stderr per repository")
    args = parser.parse_args(argv)

    labels = load_labels(args.labels, set(args.repos))
    if not labels:
        print(f"no label files in {args.labels}", file=sys.stderr)
        return 2
    command = shlex.split(args.migrate_bn) if args.migrate_bn else [sys.executable, "-m", "migrate_bn"]
    with tempfile.TemporaryDirectory(prefix="real_code_") as temporary:
        scratch = args.scratch or Path(temporary)
        results = []
        for path, label in labels:
            result = evaluate(path, label, args.mirror, scratch, command, args.keep_trees)
            if args.verbose and result.tool_stderr:
                print(f"--- {result.repo}\n{result.tool_stderr}", file=sys.stderr)
            results.append(result)
    if args.json:
        json.dump(as_json(results), sys.stdout, indent=2)
        print()
    elif args.alarms:
        render_alarms(results, sys.stdout)
    else:
        render_text(results, sys.stdout)
    incomplete = any(r.unjudged or r.status != "ok" for r in results)
    return 1 if args.strict and incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
