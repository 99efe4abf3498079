"""`--report FILE.json|FILE.md`: what a run found, fixed, skipped and how long it took,
for a migration ticket."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from .problems import Problem


@dataclass
class FileRecord:
    path: str
    findings: Counter = field(default_factory=Counter)
    fixed: int = 0
    pending: int = 0  # fixes found but not written (a dry run, or unsafe ones)
    skipped: Optional[Problem] = None  # why the file could not be processed
    cached: bool = False


@dataclass
class RunReport:
    command: str
    files: list[FileRecord] = field(default_factory=list)
    seconds: float = 0.0
    parsed: int = 0  # files that passed the prefilter and were analysed (or came from the cache)

    def add(self, record: FileRecord) -> None:
        self.files.append(record)

    def by_rule(self) -> Counter:
        total: Counter = Counter()
        for record in self.files:
            total.update(record.findings)
        return total

    def as_dict(self) -> dict:
        with_findings = [r for r in self.files if r.findings or r.fixed or r.pending]
        return {
            "command": self.command,
            "seconds": round(self.seconds, 3),
            "files": {"total": len(self.files), "analysed": self.parsed,
                      "cached": sum(r.cached for r in self.files),
                      "with_findings": len(with_findings),
                      "skipped": len([r for r in self.files if r.skipped])},
            "findings_by_rule": dict(sorted(self.by_rule().items())),
            "fixes": {"applied": sum(r.fixed for r in self.files), "pending": sum(r.pending for r in self.files)},
            "per_file": [{"path": r.path, "findings": dict(sorted(r.findings.items())), "fixed": r.fixed,
                          "pending": r.pending} for r in with_findings],
            "skipped": [{"path": r.path, "code": r.skipped.code, "reason": str(r.skipped)}
                        for r in self.files if r.skipped],
        }

    def markdown(self) -> str:
        data = self.as_dict()
        files, fixes = data["files"], data["fixes"]
        lines = [f"# migrate-bn report: `{self.command}`", "",
                 f"{files['total']} files, {files['analysed']} analysed ({files['cached']} from the cache), "
                 f"{files['with_findings']} with findings, {files['skipped']} skipped; "
                 f"{fixes['applied']} fixes applied, {fixes['pending']} pending; {data['seconds']} s.", ""]
        if data["findings_by_rule"]:
            lines += ["| rule | findings |", "|---|---|"]
            lines += [f"| {code} | {count} |" for code, count in data["findings_by_rule"].items()]
            lines.append("")
        if data["per_file"]:
            lines += ["| file | findings | fixed | pending |", "|---|---|---|---|"]
            for item in data["per_file"]:
                counts = ", ".join(f"{code} {count}" for code, count in item["findings"].items()) or "-"
                lines.append(f"| `{item['path']}` | {counts} | {item['fixed']} | {item['pending']} |")
            lines.append("")
        if data["skipped"]:
            lines += ["## Skipped", ""] + [f"- `{item['path']}`: {item['reason']} ({item['code']})"
                                           for item in data["skipped"]]
        return "\n".join(lines) + "\n"

    def write(self, path: str) -> None:
        text = self.markdown() if path.endswith(".md") else json.dumps(self.as_dict(), indent=2) + "\n"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
