"""Time `migrate-bn check` of this checkout against an earlier revision, on the same trees.

    python benchmarks/against_revision.py --base 6658d39 --tree DIR [--tree DIR ...] [--repeat 5]

The base revision is exported with `git archive` into a temporary directory and run
from there (`python -m migrate_bn` with PYTHONPATH set to it), this checkout likewise,
both with the same interpreter and packages, one worker and no cache, alternately, so
that the machine's load falls on both. Prints the median CPU time (user + system) of
each and the ratio. Use it to show that a change does not slow down what it should not touch (for
example: Python 3 trees after Python 2 support, which runs only for files that do not
parse as Python 3).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import resource
import tempfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(CHECKOUT), "archive", revision, "migrate_bn", "transforms"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into)
    # transforms/ installs as migrate_bn.transforms: lay it out that way.
    (into / "migrate_bn" / "transforms").symlink_to(into / "transforms", target_is_directory=True)
    return into


def layout_of_checkout(into: Path) -> Path:
    package = into / "package"
    package.mkdir()
    (package / "migrate_bn").mkdir()
    for item in (CHECKOUT / "migrate_bn").iterdir():
        (package / "migrate_bn" / item.name).symlink_to(item)
    (package / "migrate_bn" / "transforms").symlink_to(CHECKOUT / "transforms", target_is_directory=True)
    return package


def run_once(root: Path, tree: str) -> float:
    """The CPU seconds (user + system) of one cold check: on a machine that other work
    shares, CPU time moves far less than wall time."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run([sys.executable, "-m", "migrate_bn", "check", "--no-cache", "-j", "1",
                                "--exit-zero", tree], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    if completed.returncode not in (0, 2):
        raise SystemExit(f"migrate-bn from {root} failed on {tree} (exit {completed.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="git revision to compare with")
    parser.add_argument("--tree", action="append", required=True, help="a tree to check (repeatable)")
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = export(arguments.base, Path(scratch) / "base")
        current = Path(scratch) / "current"
        current.mkdir()
        current = layout_of_checkout(current)
        print(f"{'tree':40} {'base CPU s':>10} {'this CPU s':>10} {'ratio':>7}")
        for tree in arguments.tree:
            times: dict[str, list[float]] = {"base": [], "this": []}
            for _ in range(arguments.repeat):
                times["base"].append(run_once(base, tree))
                times["this"].append(run_once(current, tree))
            base_median, this_median = statistics.median(times["base"]), statistics.median(times["this"])
            print(f"{tree[-40:]:40} {base_median:10.2f} {this_median:10.2f} {this_median / base_median:7.2f}")


if __name__ == "__main__":
    main()
