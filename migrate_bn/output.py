"""Turning results into what people and tools read: text, JSON, JSON lines, SARIF,
GitHub workflow annotations, statistics, unified diffs."""

from __future__ import annotations

import difflib
import functools
import json
import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional, Sequence
from urllib.parse import quote

from . import __version__
from .api import Result, apply_fix
from .source import SourceError, decode, split_lines
from .documents import NOTEBOOK_SUFFIX
from .findings import Finding, Fix, Span
from .paths import display_path
from .problems import Problem

RED, GREEN, CYAN, BOLD, RESET = "\033[31m", "\033[32m", "\033[36m", "\033[1m", "\033[0m"


def text_line(path: str, finding: Finding, color: bool = False) -> str:
    marker = " [*]" if finding.fix_applicability == "safe" else ""
    location = f"{path}:{_place(finding.span)}:"
    code = finding.code
    if color:
        location, code = f"{BOLD}{location}{RESET}", f"{RED}{BOLD}{code}{RESET}"
    return f"{location} {code}{marker} {finding.message}"


def _place(span: Span) -> str:
    """line:col, or for a notebook cell N:line:col (as ruff writes it)."""
    cell = f"cell {span.cell}:" if span.cell is not None else ""
    return f"{cell}{span.line}:{span.column}"


def _with_cell(record: dict, span: Span) -> dict:
    """A notebook's findings say in which cell their lines are; others are as they were."""
    if span.cell is not None:
        record["cell"] = span.cell
    return record


def finding_json(path: str, finding: Finding) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {"applicability": finding.fix.applicability, "message": finding.fix.message}
    alternatives = [{"applicability": alt.applicability, "message": alt.message} for alt in finding.alternatives]
    return _with_cell({
        "code": finding.code,
        "message": finding.message,
        "path": path,
        "line": finding.span.line,
        "column": finding.span.column,
        "end_line": finding.span.end_line,
        "end_column": finding.span.end_column,
        "severity": finding.severity,
        "fix": fix,
        "related": [
            _with_cell({
                "path": display_path(related.path) if related.path else path,
                "line": related.span.line,
                "column": related.span.column,
                "message": related.message,
            }, related.span)
            for related in finding.related
        ],
        "alternatives": alternatives,
    }, finding.span)


def problem_json(path: str, problem: Problem) -> dict:
    """A file that could not be processed, as a record beside the findings: the keys of
    a finding (so that readers of findings read it too; like ruff's E902), its code
    from the problems table, and `kind` saying which problem it is. Without a place of
    its own it points at the file's first line."""
    line = problem.line or 1
    record = {
        "code": problem.code,
        "message": problem.detail,
        "path": path,
        "line": line,
        "column": 1,
        "end_line": line,
        "end_column": 1,
        "severity": "error",
        "fix": None,
        "related": [],
        "alternatives": [],
        "kind": problem.kind.value,
    }
    if problem.cell is not None:
        record["cell"] = problem.cell
    return record


def records(results: Iterable[tuple]) -> Iterable[dict]:
    """Every finding, and every file's problem, as JSON records in the order of the files."""
    for item in results:
        result = item[0]
        yield from (finding_json(result.path, finding) for finding in item[1])
        if result.problem is not None:
            yield problem_json(result.path, result.problem)


def json_report(results: Iterable[tuple]) -> str:
    """A JSON list of findings, and of the files that could not be processed (records
    with a `kind`); `results` holds (result, findings[, source]) tuples."""
    return json.dumps(list(records(results)), indent=2)


def _lines(source: bytes) -> list[str]:
    try:
        text = decode(source)
    except SourceError:
        text = source.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)


def unified_diff(path: str, before: bytes, after: bytes, color: bool = False) -> str:
    """The change as a unified diff; for a notebook, of its code cells' code."""
    if path.lower().endswith(NOTEBOOK_SUFFIX):
        cells = notebook_diff(path, before, after, color)
        if cells is not None:
            return cells
    return _unified(_lines(before), _lines(after), f"a/{path}", f"b/{path}", color)


def notebook_diff(path: str, before: bytes, after: bytes, color: bool = False) -> Optional[str]:
    """One unified diff per code cell that changed, named `path:cell N` (as ruff shows a
    notebook's fixes), rather than a diff of the JSON; None when either side is not a
    notebook with the same cells."""
    from . import notebooks

    try:
        old, new = notebooks.read(before), notebooks.read(after)
    except SourceError:
        return None
    if [cell.number for cell in old.cells] != [cell.number for cell in new.cells]:
        return None
    return "".join(_unified(split_lines(a.text), split_lines(b.text), f"a/{path}:cell {a.number}",
                            f"b/{path}:cell {b.number}", color)
                   for a, b in zip(old.cells, new.cells) if a.text != b.text)


def _unified(before: list[str], after: list[str], old_name: str, new_name: str, color: bool) -> str:
    lines = list(difflib.unified_diff(before, after, old_name, new_name))
    out = []
    for line in lines:
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        if color:
            if line.startswith(("+++", "---")):
                line = f"{BOLD}{line.rstrip()}{RESET}\n"
            elif line.startswith("@@"):
                line = f"{CYAN}{line.rstrip()}{RESET}\n"
            elif line.startswith("+"):
                line = f"{GREEN}{line.rstrip()}{RESET}\n"
            elif line.startswith("-"):
                line = f"{RED}{line.rstrip()}{RESET}\n"
        out.append(line)
    return "".join(out)


def plural(count: int, word: str, many: Optional[str] = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


# --- rule documentation ------------------------------------------------------------------

# Where the rule pages (docs/rules/<CODE>.md) are published, as a template with {code};
# None until they are. Without it, a source checkout links to its own docs/rules/ files.
DOCS_URL: Optional[str] = None


@functools.lru_cache(maxsize=None)
def rule_docs_url(code: str) -> Optional[str]:
    """A link to a rule's documentation, or None when there is nothing to link to
    (`migrate-bn explain CODE` always prints it)."""
    if DOCS_URL:
        return DOCS_URL.format(code=code)
    local = Path(__file__).resolve().parent.parent / "docs" / "rules" / f"{code}.md"
    return local.as_uri() if local.is_file() else None


# --- formats for machines ----------------------------------------------------------------

FORMATS = ("text", "json", "json-lines", "sarif", "github")


def render(output_format: str, results: Sequence[tuple], rules: Sequence = ()) -> str:
    """The report in a machine format; `results` holds (result, findings, source) tuples,
    `source` being the bytes the findings' lines and fixes refer to (None if unknown)."""
    if output_format == "json":
        return json_report(results) + "\n"
    if output_format == "json-lines":
        return json_lines_report(results)
    if output_format == "github":
        return github_report(results)
    if output_format == "sarif":
        return json.dumps(sarif_log(results, rules), indent=2) + "\n"
    raise ValueError(f"unknown output format {output_format!r}")


def json_lines_report(results: Iterable[tuple]) -> str:
    """One finding (or problem) per line, as `json` writes them: for streaming and `grep`."""
    return "".join(json.dumps(record) + "\n" for record in records(results))


GITHUB_LEVELS = {"error": "error", "warning": "warning"}


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(path: str, finding: Finding) -> str:
    """A GitHub Actions workflow command that annotates the finding's lines in the PR."""
    span = finding.span
    level = GITHUB_LEVELS.get(finding.severity, "notice")
    title = f"migrate-bn ({finding.code})"
    place = [f"line={span.line}", f"col={span.column}", f"endLine={span.end_line}", f"endColumn={span.end_column}"]
    if span.cell is not None:
        # The lines are the cell's, not the .ipynb file's: the annotation names the cell
        # and goes on the file as a whole.
        title, place = f"{title} in cell {span.cell}", []
    properties = ",".join([f"title={_github_property(title)}", f"file={_github_property(path)}", *place])
    text = f"{path}:{_place(span)}: {finding.code} {finding.message}"
    return f"::{level} {properties}::{_github_data(text)}"


def github_problem_line(path: str, problem: Problem) -> str:
    """A file that could not be processed, as an error annotation on the file."""
    title = f"migrate-bn ({problem.code}): {problem.title}"
    place = [f"line={problem.line}"] if problem.line is not None and problem.cell is None else []
    properties = ",".join([f"title={_github_property(title)}", f"file={_github_property(path)}", *place])
    return f"::error {properties}::{_github_data(f'{path}: {problem.code} {problem.detail}')}"


def github_report(results: Iterable[tuple]) -> str:
    lines = []
    for item in results:
        lines += [github_line(item[0].path, finding) for finding in item[1]]
        if item[0].problem is not None:
            lines.append(github_problem_line(item[0].path, item[0].problem))
    return "".join(line + "\n" for line in lines)


# --- SARIF 2.1.0 ---------------------------------------------------------------------------

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVELS = {"error": "error", "warning": "warning"}
SRCROOT = "%SRCROOT%"


def _artifact(path: str) -> dict:
    """Paths inside the working directory are relative to %SRCROOT% (what code scanning
    expects); others are absolute file URIs."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _region(span) -> dict:
    region = {"startLine": span.line, "startColumn": span.column,
              "endLine": span.end_line, "endColumn": span.end_column}
    if span.cell is not None:
        # A notebook: the lines are those of this cell (SARIF has no cells of its own).
        region["properties"] = {"cell": span.cell}
    return region


def _source_lines(source: Optional[bytes]) -> Optional[list[str]]:
    if source is None:
        return None
    try:
        return split_lines(decode(source))
    except SourceError:
        return None


def sarif_replacements(before: Sequence[str], after: Sequence[str]) -> list[dict]:
    """Whole-line replacements turning the lines `before` into `after`. Regions give the
    character offset and length, and lines and columns when they end at a line start."""
    offsets = [0]
    for line in before:
        offsets.append(offsets[-1] + len(line))
    replacements = []
    matcher = difflib.SequenceMatcher(None, list(before), list(after), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        region: dict = {"charOffset": offsets[i1], "charLength": offsets[i2] - offsets[i1]}
        if i2 < len(before):
            region.update({"startLine": i1 + 1, "startColumn": 1, "endLine": i2 + 1, "endColumn": 1})
        replacement: dict = {"deletedRegion": region}
        if j2 > j1:
            replacement["insertedContent"] = {"text": "".join(after[j1:j2])}
        replacements.append(replacement)
    return replacements


def _sarif_fix(path: str, source: Optional[bytes], lines: Optional[list[str]], fix: Fix,
               alternative: bool) -> Optional[dict]:
    """A SARIF fix: its description and the text replacements it makes (None when the
    edit cannot be spelled out on its own, since SARIF requires them)."""
    if source is None or lines is None:
        return None
    text = apply_fix(source, fix, path)
    if text is None:
        return None
    after = split_lines(text)
    return {"description": {"text": fix.message},
            "artifactChanges": [{"artifactLocation": _artifact(path),
                                 "replacements": sarif_replacements(lines, after)}],
            "properties": {"applicability": fix.applicability, "alternative": alternative}}


def sarif_log(results: Sequence[tuple], rules: Sequence = ()) -> dict:
    """A SARIF 2.1.0 log of one run: the rules that ran, each finding with its location,
    its related locations (the batch-norm sites) and its fixes as text replacements.
    Columns count characters (`columnKind: unicodeCodePoints`), as everywhere in migrate-bn."""
    rules = list(rules)
    seen = {rule.code for rule in rules}
    for item in results:
        for finding in item[1]:
            if finding.code not in seen:
                from .rules import rule_by_code

                rule = rule_by_code(finding.code)
                if rule is not None:
                    rules.append(rule)
                    seen.add(rule.code)
    index = {rule.code: position for position, rule in enumerate(rules)}
    descriptors = []
    for rule in rules:
        documentation = rule.documentation()
        descriptor = {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "help": {"text": documentation, "markdown": documentation},
        }
        url = rule_docs_url(rule.code)
        if url and url.startswith(("http://", "https://")):
            descriptor["helpUri"] = url
        descriptors.append(descriptor)
    sarif_results = []
    for item in results:
        result, findings = item[0], item[1]
        source = item[2] if len(item) > 2 else None
        lines = None
        if any(f.fix or f.alternatives for f in findings):
            if source is None:  # the run hands back only changed files' bytes: read it again
                try:
                    with open(result.path, "rb") as handle:
                        source = handle.read()
                except OSError:
                    pass
            lines = _source_lines(source)
        for finding in findings:
            entry: dict = {
                "ruleId": finding.code,
                "level": SARIF_LEVELS.get(finding.severity, "note"),
                "message": {"text": finding.message},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact(result.path),
                                                    "region": _region(finding.span)}}],
            }
            if finding.code in index:
                entry["ruleIndex"] = index[finding.code]
            if finding.related:
                entry["relatedLocations"] = [
                    {"id": number,
                     "physicalLocation": {
                         "artifactLocation": _artifact(display_path(related.path) if related.path else result.path),
                         "region": _region(related.span)},
                     "message": {"text": related.message}}
                    for number, related in enumerate(finding.related, start=1)
                ]
            fixes = [entry for entry in (_sarif_fix(result.path, source, lines, fix, alternative)
                                         for fix, alternative in ([(finding.fix, False)] if finding.fix else [])
                                         + [(alt, True) for alt in finding.alternatives])
                     if entry is not None]
            if fixes:
                entry["fixes"] = fixes
            sarif_results.append(entry)
    problems = [(item[0].path, item[0].problem) for item in results if item[0].problem is not None]
    for path, problem in problems:
        if problem.code not in index:
            index[problem.code] = len(descriptors)
            descriptors.append({"id": problem.code, "name": problem.kind.value,
                                "shortDescription": {"text": problem.title}})
        sarif_results.append({"ruleId": problem.code, "ruleIndex": index[problem.code], "level": "error",
                              "message": {"text": problem.detail},
                              "locations": [_problem_location(path, problem)]})
    root = Path(os.getcwd()).as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "migrate-bn", "version": __version__, "rules": descriptors}},
            "originalUriBaseIds": {SRCROOT: {"uri": root}},
            "columnKind": "unicodeCodePoints",
            # Files that could not be processed are results of their own (above, so that
            # code scanning shows them) and the run's notifications.
            "invocations": [{
                "executionSuccessful": not problems,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": f"{path}: {problem.detail}"},
                     "descriptor": {"id": problem.code}, "locations": [_problem_location(path, problem)]}
                    for path, problem in problems],
            }],
            "results": sarif_results,
        }],
    }


def _problem_location(path: str, problem: Problem) -> dict:
    physical: dict = {"artifactLocation": _artifact(path)}
    if problem.line is not None:
        physical["region"] = {"startLine": problem.line}
        if problem.cell is not None:
            physical["region"]["properties"] = {"cell": problem.cell}
    return {"physicalLocation": physical}


# --- statistics and fixes, for people ------------------------------------------------------

def _rule_names(rules: Sequence) -> dict[str, str]:
    from .rules import all_rules

    names = {rule.code: rule.name for rule in all_rules()}
    names.update({rule.code: rule.name for rule in rules})
    return names


def statistics(results: Iterable[tuple], rules: Sequence = ()) -> list[dict]:
    """Findings counted by rule, most frequent first."""
    counts: Counter = Counter()
    fixable: set[str] = set()
    for item in results:
        for finding in item[1]:
            counts[finding.code] += 1
            if finding.fix_applicability == "safe":
                fixable.add(finding.code)
    names = _rule_names(rules)
    return [{"code": code, "name": names.get(code, ""), "count": count, "fixable": code in fixable}
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def statistics_report(results: Iterable[tuple], output_format: str, rules: Sequence = ()) -> str:
    rows = statistics(results, rules)
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    if output_format == "json-lines":
        return "".join(json.dumps(row) + "\n" for row in rows)
    width = max((len(str(row["count"])) for row in rows), default=1)
    return "".join(f"{row['count']:>{width}}  {row['code']}  {'[*]' if row['fixable'] else '   '} {row['name']}\n"
                   for row in rows)


def fix_hints(finding: Finding) -> list[str]:
    """`--show-fixes` under a finding: what its fix, and any other way, would do."""
    lines = []
    if finding.fix is not None:
        how = "safe" if finding.fix.applicability == "safe" else "unsafe, with --unsafe-fixes"
        lines.append(f"    fix ({how}): {finding.fix.message}")
    for alternative in finding.alternatives:
        lines.append(f"    another way ({alternative.applicability}, not applied by `fix`): {alternative.message}")
    return lines


def fixed_counts(result: Result) -> Counter:
    """Which findings a fix removed, by code."""
    if not result.changed:
        return Counter()
    return Counter(f.code for f in result.findings) - Counter(f.code for f in result.remaining)


def fixes_report(fixed: Sequence[tuple[str, Counter]], rules: Sequence = (), dry_run: bool = False) -> str:
    """`--show-fixes` after a fix: the findings fixed, by file and rule."""
    fixed = [(path, counts) for path, counts in fixed if counts]
    if not fixed:
        return ""
    names = _rule_names(rules)
    total = sum(sum(counts.values()) for _, counts in fixed)
    lines = [f"{'Would fix' if dry_run else 'Fixed'} {plural(total, 'finding')}:"]
    for path, counts in sorted(fixed):
        lines.append(f"- {path}:")
        for code, count in sorted(counts.items()):
            lines.append(f"    {count} × {code} ({names.get(code, '')})")
    return "\n".join(lines) + "\n"
