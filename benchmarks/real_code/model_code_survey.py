"""How much real TF1 model code `migrate-bn upgrade` converts (issue 15).

Usage: python benchmarks/real_code/model_code_survey.py [MIRRORS]   (default /work/.mirror)
       python benchmarks/real_code/model_code_survey.py MIRRORS --check SCRATCH \
           --tf1-python PYTHON_WITH_TF_2_12 --tf2-python PYTHON_WITH_NEWEST_TF

Reads every Python file at HEAD of each mirrored repository (`<mirror>/<owner>+<name>/repo`,
bare git, read as data: nothing is run), keeps the modules with a model function
(model_code.model_functions) that builds batch norm, and counts what `upgrade` makes of
each: converted as model code, models offered on their own, or refused, with the reasons.
Nothing is written. It prints:

  - the counts: modules, model functions (with batch norm), modules converted in place,
    modules whose models are offered on their own (`<file>_keras3.py`), and model
    functions converted (in place or offered: a module's functions are offered one by
    one, so a module can count some and refuse others);
  - `refused model functions, by reason`: each refused model function's first reason
    (the first 90 characters), most frequent first;
  - `refused model functions, by module`: per module with a refused model function, the
    module's own reason (`module:` with its line) and each refused function's first
    reason (`function (line): reason`), so one module's several reasons show.

With --check, each converted module's directory is exported into SCRATCH (never into this
repository), `migrate-bn upgrade` runs there, and the equivalence check it writes runs on
every model with the generated cases as they are (a model with an argument to fill in is
counted apart): this runs the projects' model code, in SCRATCH only. It then also prints
`converted model functions passing a check`: the converted model functions a checked
model that passed holds (the function itself, or a model that calls it by name), the
figure issue 15 asks for.
"""
import argparse
import ast
import collections
import io
import json
import posixpath
import subprocess
from pathlib import Path
from typing import Optional

from migrate_bn import facts as facts_module, model_code, upgrade_command
from migrate_bn.equivalence.check import run_case
from migrate_bn.prefilter import may_matter
from migrate_bn.source import SourceError, parse
from migrate_bn.upgrade import upgrade_source


def python_files(git: Path, under: str = ""):
    listing = subprocess.run(["git", "--git-dir", str(git), "ls-tree", "-r", "HEAD"] + ([under + "/"] if under else []),
                             capture_output=True, text=True, timeout=120).stdout
    for line in listing.splitlines():
        info, _, path = line.partition("\t")
        mode, kind, sha = info.split()
        if kind == "blob" and path.endswith(".py"):
            yield path, subprocess.run(["git", "--git-dir", str(git), "cat-file", "blob", sha],
                                       capture_output=True, timeout=120).stdout


def main(mirrors: Path, check: Optional[argparse.Namespace] = None) -> None:
    counts: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    modules: list[str] = []  # per module with refused model functions: their reasons
    for mirror in sorted(mirrors.iterdir()):
        if check is not None and check.repos and mirror.name not in check.repos.split(","):
            continue
        for path, data in python_files(mirror / "repo"):
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
            refused = function_refusals(result, functions)
            if result.text is not None and (result.name_map or {}).get("models"):
                counts["converted modules"] += 1
            elif result.offer is not None:
                counts["offered modules"] += 1
            counts["converted model functions"] += len(functions) - len(refused)
            for line, reason in refused.values():
                reasons[reason[:90]] += 1
            if refused:
                where = f" ({result.skipped[0]}: {result.skipped[1][:90]})" if result.skipped else ""
                modules.append(f"  {mirror.name}/{path}{where}")
                modules.extend(f"    {name} ({line}): {reason[:120]}" for name, (line, reason) in refused.items())
            if check is not None and result.equivalence:
                checked, verdicts = run_checks(mirror, path, check)
                counts.update(checked)
                counts["converted model functions passing a check"] += sum(
                    any(verdicts.get(case) == "equivalent" for case in verdicts
                        if function.name in _reached(facts, case))
                    for function in functions if function.name not in refused)
    keys = ["modules", "model functions", "converted modules", "offered modules", "converted model functions"]
    if check is not None:
        keys += ["checked models", "equivalent", "not equivalent", "did not run", "arguments to fill in",
                 "converted model functions passing a check"]
    for key in keys:
        print(f"{key}: {counts[key]}")
    print("refused model functions, by reason:")
    for reason, count in reasons.most_common(30):
        print(f"  {count:4d} {reason}")
    print("refused model functions, by module:")
    print("\n".join(modules))


def _reached(facts, name: str) -> set[str]:
    """The module's top-level functions a checked model's function holds: itself and those
    it calls by name, directly or through each other (a model function counts as passing
    when a checked model holds its layers)."""
    defined = {node.name: node for node in facts.tree.body if isinstance(node, ast.FunctionDef)}
    reached, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in reached or current not in defined:
            continue
        reached.add(current)
        todo.extend(node.func.id for node in ast.walk(defined[current])
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))
    return reached


def function_refusals(result, functions: list) -> dict:
    """{name: (line, first reason)} of the model functions (with batch norm) `upgrade` did
    not convert: none when the module was converted; those `upgrade` left out of the offer
    (each with its own reason); else every one with the module's reason."""
    if result.text is not None and (result.name_map or {}).get("models"):
        return {}
    own = {function.name: (function.line, function.reason) for function in result.refused_functions}
    if result.offer is not None:
        return {f.name: own[f.name] for f in functions if f.name in own}
    fallback = result.skipped or (functions[0].lineno, "nothing converted")
    return {f.name: own.get(f.name, fallback) for f in functions}


CASE_EDITS = json.loads((Path(__file__).parent / "model_code_cases.json").read_text())


def run_checks(mirror: Path, path: str, options: argparse.Namespace) -> tuple[collections.Counter, dict]:
    """Upgrade the module in an exported copy of its directory and run its generated check:
    the counts, and each checked model's verdict by its function's name."""
    counts: collections.Counter = collections.Counter()
    verdicts: dict[str, str] = {}
    directory = posixpath.dirname(path)
    target = Path(options.check) / mirror.name / directory
    target.mkdir(parents=True, exist_ok=True)
    for other, data in python_files(mirror / "repo", directory):  # the module and its neighbours
        if posixpath.dirname(other) == directory:
            (target / posixpath.basename(other)).write_bytes(data)
    module = target / posixpath.basename(path)
    tf1_text = module.read_text()
    upgrade_command.run([str(module)], 3, False, False, None, io.StringIO(), io.StringIO())
    converted = module if module.read_text() != tf1_text else Path(upgrade_command.offer_path(str(module)))
    tf1 = target / (module.stem + "_tf1.py")
    result = upgrade_source(tf1_text)
    tf1.write_text(result.equivalence_source or tf1_text)
    for index, case in enumerate(result.equivalence):
        # What a user fills in or corrects in the generated CASES (labels of ours, by model).
        case = {**case, **CASE_EDITS.get(f"{mirror.name}/{path}:{case['function']}", {})}
        counts["checked models"] += 1
        outcome = run_case(tf1, converted, case, options.tf1_python, options.tf2_python,
                           target / f"{module.stem}_check{index}", imports=target)
        verdict = "equivalent" if outcome.passed else "arguments to fill in" if (outcome.error or "").startswith(
            "fill in") else "did not run" if outcome.error else "not equivalent"
        counts[verdict] += 1
        verdicts[case["function"]] = verdict
        detail = outcome.error.strip().splitlines()[-1] if outcome.error else \
            "; ".join(m.render() for m in outcome.mismatches[:3])
        print(f"{mirror.name}/{path}: {case['function']}: {verdict}" + (f": {detail[:300]}" if detail else ""),
              flush=True)
    return counts, verdicts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mirrors", nargs="?", default="/work/.mirror")
    parser.add_argument("--check", metavar="SCRATCH")
    parser.add_argument("--tf1-python")
    parser.add_argument("--tf2-python")
    parser.add_argument("--repos", help="with --check: only these mirrors (owner+name, comma-separated)")
    arguments = parser.parse_args()
    main(Path(arguments.mirrors), arguments if arguments.check else None)
