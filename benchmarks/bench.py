"""Time migrate-bn against tf_upgrade_v2 on the same tree.

    python benchmarks/bench.py                      # a generated 1,777-file tree, 1x/4x/16x
    python benchmarks/bench.py --tree DIR ...       # also any real tree(s)
    python benchmarks/bench.py --scales 1 --repeat 5

For each tree: `migrate-bn check` cold (no cache) and warm (a re-run with nothing
changed), `migrate-bn fix --dry-run`, and `tf_upgrade_v2 --intree` (which rewrites a
copy of the tree into a temporary directory). Each is run `--repeat` times and the
median wall time is printed, with the ratios the targets in docs/performance.md are
stated in. Peak memory (max RSS) of one cold check is reported too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tf1_tree import generate  # noqa: E402

BIN = Path(sys.executable).parent


def _command(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install migrate-bn (and tensorflow for tf_upgrade_v2)")
    return found


def timed(arguments: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds, and the command's own peak RSS in KiB (from GNU time, which measures
    that process tree alone; getrusage would report the largest child of the whole run)."""
    gnu_time = shutil.which("time", path="/usr/bin")
    started = time.perf_counter()
    if gnu_time:
        completed = subprocess.run([gnu_time, "-f", "%M", *arguments], cwd=cwd, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - started
        last = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "0"
        return seconds, int(last) if last.isdigit() else 0
    subprocess.run(arguments, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, 0


def median(arguments: list[str], cwd: Path, repeat: int, before=None) -> float:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        runs.append(timed(arguments, cwd)[0])
    return statistics.median(runs)


def measure(tree: Path, repeat: int, upgrade_repeat: int, reference: bool = True) -> dict:
    migrate, upgrade = _command("migrate-bn"), _command("tf_upgrade_v2")
    cache = tree.parent / f".{tree.name}-bench-cache"
    files = sum(1 for _ in tree.rglob("*.py"))
    lines = sum(path.read_bytes().count(b"\n") for path in tree.rglob("*.py"))
    clear = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
    cold = median([migrate, "check", "--cache-dir", str(cache), str(tree)], tree.parent, repeat, clear)
    _, rss = timed([migrate, "check", "--no-cache", str(tree)], tree.parent)
    subprocess.run([migrate, "check", "--cache-dir", str(cache), str(tree)], cwd=tree.parent,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warm = median([migrate, "check", "--cache-dir", str(cache), str(tree)], tree.parent, repeat)
    dry_run = median([migrate, "fix", "--dry-run", "--no-cache", str(tree)], tree.parent, repeat)
    seconds = float("nan")
    if reference:
        with tempfile.TemporaryDirectory() as scratch:
            output = Path(scratch) / "out"
            seconds = median([upgrade, "--intree", str(tree), "--outtree", str(output),
                              "--reportfile", str(Path(scratch) / "report.txt")], tree.parent, upgrade_repeat,
                             lambda: shutil.rmtree(output, ignore_errors=True))
    clear()
    return dict(tree=str(tree), files=files, lines=lines, cold=cold, warm=warm, dry_run=dry_run,
                tf_upgrade_v2=seconds, rss_mib=rss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], type=Path, help="a real tree to measure too")
    parser.add_argument("--files", type=int, default=1777, help="files in the generated 1x tree")
    parser.add_argument("--scales", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--upgrade-repeat", type=int, default=1, help="tf_upgrade_v2 is slow: runs of it")
    parser.add_argument("--reference-scales", type=int, nargs="*", default=[1],
                        help="the scales at which tf_upgrade_v2 runs too (it takes minutes)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for scale in args.scales:
            tree = Path(scratch) / f"tree_{scale}x"
            generate(tree, args.files * scale)
            rows.append(measure(tree, args.repeat, args.upgrade_repeat, scale in args.reference_scales))
            shutil.rmtree(tree)
        for tree in args.tree:
            rows.append(measure(tree.resolve(), args.repeat, args.upgrade_repeat))
    print(f"{'tree':<28}{'files':>7}{'lines':>9}{'check cold':>12}{'warm':>8}{'fix -n':>8}"
          f"{'tf_upgrade_v2':>15}{'cold x':>8}{'warm x':>8}{'RSS MiB':>9}")
    for row in rows:
        name = Path(row["tree"]).name[:27]
        print(f"{name:<28}{row['files']:>7}{row['lines']:>9}{row['cold']:>11.2f}s{row['warm']:>7.2f}s"
              f"{row['dry_run']:>7.2f}s{row['tf_upgrade_v2']:>14.2f}s{row['tf_upgrade_v2'] / row['cold']:>7.1f}x"
              f"{row['tf_upgrade_v2'] / row['warm']:>7.1f}x{row['rss_mib']:>9.0f}")
    print(f"(medians of {args.repeat} runs; tf_upgrade_v2: {args.upgrade_repeat}; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
