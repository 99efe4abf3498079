"""Run `migrate-bn fix` for real on copies of the real-code trees and check the file guarantees.

For each tree (as `score.py --keep-trees` leaves them, one directory per repository), this
copies it to a scratch directory, runs `migrate-bn fix` (with `--unsafe-fixes`, so every fix
is written) and checks what the brief promises of a write:

- no crash: exit code 0 or 1, or 2 only with each unreadable file reported, and no traceback;
- every file the run changed still parses (Python 3 `ast`, or fissix for a Python 2 file that
  was Python 2 before; a notebook stays JSON whose code cells are what `fix` reports);
- every file the report does not name as fixed is byte-identical;
- a second run changes nothing (idempotence), and reports no pending fix.

    python benchmarks/real_code/fix_sweep.py --trees /tmp/trees --scratch /tmp/fix-sweep

Nothing fetched is committed: the trees and the scratch directory live outside the checkout.
Prints one line per tree and a summary; exits 1 when any guarantee fails.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path


def _digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and ".migrate_bn_cache" not in path.parts}


def _run_fix(tree: Path, report: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "migrate_bn", "fix", "--unsafe-fixes", "-j", "1", "--no-cache",
               "--color", "never", "--report", str(report), "."]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True)


def _parses(path: Path, before: bytes) -> bool:
    """Does a changed file still parse as it did before the fix (Python 3, Python 2, or a notebook)?"""
    data = path.read_bytes()
    if path.suffix == ".ipynb":
        try:
            json.loads(data)
        except ValueError:
            return False
        return True
    try:
        ast.parse(data)
        return True
    except SyntaxError:
        pass
    try:
        ast.parse(before)
        return False  # Python 3 before, not after
    except SyntaxError:
        from migrate_bn.python2 import to_python3
        return to_python3(data.decode("utf-8", "replace")) is not None


def sweep_tree(source: Path, scratch: Path) -> tuple[list[str], int, int]:
    """The guarantees one tree breaks (empty: all held), the files fixed and the fixes written."""
    tree = scratch / source.name
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(source, tree, symlinks=True)
    originals = {name: (tree / name).read_bytes() for name in _digests(tree)}
    before = _digests(tree)
    problems = []
    first = _run_fix(tree, scratch / f"{source.name}.1.json")
    if first.returncode not in (0, 1, 2) or "Traceback" in first.stderr:
        problems.append(f"first run: exit {first.returncode}: {first.stderr.strip()[-300:]}")
        return problems, 0, 0
    report = json.loads((scratch / f"{source.name}.1.json").read_text())
    if first.returncode == 2 and not report["skipped"]:
        problems.append("exit 2 with no file reported as skipped")
    fixed = {entry["path"] for entry in report["per_file"] if entry.get("fixed")}
    after = _digests(tree)
    for name, digest in after.items():
        if before.get(name) == digest:
            continue
        if not any(Path(name) == Path(path) or Path(name).as_posix().endswith(Path(path).as_posix())
                   for path in fixed):
            problems.append(f"{name}: changed but not reported as fixed")
        if not _parses(tree / name, originals.get(name, b"")):
            problems.append(f"{name}: no longer parses")
    second = _run_fix(tree, scratch / f"{source.name}.2.json")
    if _digests(tree) != after:
        problems.append("second run changed files")
    if second.returncode not in (0, 1, 2) or "Traceback" in second.stderr:
        problems.append(f"second run: exit {second.returncode}")
    second_report = json.loads((scratch / f"{source.name}.2.json").read_text())
    if second_report["fixes"]["applied"]:
        problems.append(f"second run applied {second_report['fixes']['applied']} fixes")
    shutil.rmtree(tree, ignore_errors=True)
    return problems, len(fixed), report["fixes"]["applied"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=Path, required=True, help="one directory per repository")
    parser.add_argument("--scratch", type=Path, required=True, help="where the copies are fixed")
    parser.add_argument("names", nargs="*", help="only these trees (directory names)")
    args = parser.parse_args(argv)
    args.scratch.mkdir(parents=True, exist_ok=True)
    trees = [path for path in sorted(args.trees.iterdir())
             if path.is_dir() and not path.name.startswith(".") and (not args.names or path.name in args.names)]
    failed = files = fixes = 0
    for source in trees:
        problems, fixed_files, applied = sweep_tree(source, args.scratch)
        files += fixed_files
        fixes += applied
        print(f"{'FAIL' if problems else 'ok  '} {source.name}: {applied} fixes in {fixed_files} files", flush=True)
        for problem in problems:
            print(f"     {problem}")
        failed += bool(problems)
    print(f"{len(trees)} trees, {fixes} fixes written in {files} files, {failed} trees breaking a guarantee")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
