"""How much real TF1 model code `migrate-bn upgrade` converts (issue 15).

Usage: python benchmarks/real_code/model_code_survey.py [MIRRORS]   (default /work/.mirror)

Reads every Python file at HEAD of each mirrored repository (`<mirror>/<owner>+<name>/repo`,
bare git, read as data: nothing is run), keeps the modules with a model function
(model_code.model_functions) that builds batch norm, and counts what `upgrade` makes of
each: converted as model code, models offered on their own, or refused, with the reasons.
Prints the counts; nothing is written.
"""
import ast
import collections
import subprocess
import sys
from pathlib import Path

from migrate_bn import facts as facts_module, model_code
from migrate_bn.prefilter import may_matter
from migrate_bn.source import SourceError, parse
from migrate_bn.upgrade import upgrade_source


def python_files(git: Path):
    listing = subprocess.run(["git", "--git-dir", str(git), "ls-tree", "-r", "HEAD"], capture_output=True,
                             text=True, timeout=120).stdout
    for line in listing.splitlines():
        info, _, path = line.partition("\t")
        mode, kind, sha = info.split()
        if kind == "blob" and path.endswith(".py"):
            yield path, subprocess.run(["git", "--git-dir", str(git), "cat-file", "blob", sha],
                                       capture_output=True, timeout=120).stdout


def main(mirrors: Path) -> None:
    counts: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    for mirror in sorted(mirrors.iterdir()):
        for _, data in python_files(mirror / "repo"):
            if len(data) > 500_000 or not may_matter(data):
                continue
            try:
                text = data.decode("utf-8")
                facts = facts_module.build(parse(text), text)
            except (UnicodeDecodeError, SourceError):  # Python 2 and broken files: not model code here
                continue
            sites = {id(site.node) for site in facts.batch_norm_sites if site.how in ("call", "normalizer_fn")}
            functions = [f for f in model_code.model_functions(facts)
                         if any(id(node) in sites for node in ast.walk(f))]
            if not functions:
                continue
            counts["modules"] += 1
            counts["model functions"] += len(functions)
            result = upgrade_source(text)
            if result.text is not None and (result.name_map or {}).get("models"):
                counts["converted modules"] += 1
                counts["converted model functions"] += len(functions)
            elif result.offer is not None:
                counts["offered modules"] += 1
                counts["converted model functions"] += len(functions)
            elif result.skipped is not None:
                reasons[result.skipped[1][:90]] += 1
    for key in ("modules", "model functions", "converted modules", "offered modules", "converted model functions"):
        print(f"{key}: {counts[key]}")
    print("refused, by reason:")
    for reason, count in reasons.most_common(20):
        print(f"  {count:4d} {reason}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/.mirror"))
