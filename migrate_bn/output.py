"""Turning results into what people and tools read: text, JSON, unified diffs."""

from __future__ import annotations

import difflib
import json
from typing import Iterable, Optional, Sequence

from .api import Result
from .source import SourceError, decode
from .findings import Finding
from .paths import display_path

RED, GREEN, CYAN, BOLD, RESET = "\033[31m", "\033[32m", "\033[36m", "\033[1m", "\033[0m"


def text_line(path: str, finding: Finding, color: bool = False) -> str:
    marker = " [*]" if finding.fix is not None and finding.fix.applicability == "safe" else ""
    location = f"{path}:{finding.span.line}:{finding.span.column}:"
    code = finding.code
    if color:
        location, code = f"{BOLD}{location}{RESET}", f"{RED}{BOLD}{code}{RESET}"
    return f"{location} {code}{marker} {finding.message}"


def finding_json(path: str, finding: Finding) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {"applicability": finding.fix.applicability, "message": finding.fix.message}
    alternatives = [{"applicability": alt.applicability, "message": alt.message} for alt in finding.alternatives]
    return {
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
            {
                "path": display_path(related.path) if related.path else path,
                "line": related.span.line,
                "column": related.span.column,
                "message": related.message,
            }
            for related in finding.related
        ],
        "alternatives": alternatives,
    }


def json_report(results: Iterable[tuple[Result, Sequence[Finding]]]) -> str:
    return json.dumps(
        [finding_json(result.path, finding) for result, findings in results for finding in findings],
        indent=2,
    )


def _lines(source: bytes) -> list[str]:
    try:
        text = decode(source)
    except SourceError:
        text = source.decode("utf-8", errors="replace")
    return text.splitlines(keepends=True)


def unified_diff(path: str, before: bytes, after: bytes, color: bool = False) -> str:
    lines = list(difflib.unified_diff(_lines(before), _lines(after), f"a/{path}", f"b/{path}"))
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
