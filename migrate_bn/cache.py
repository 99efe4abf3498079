"""A content-hash cache of analysis results, so that a re-run over an unchanged tree
costs a read and a hash per file (like ruff's cache).

An entry is keyed by the tool's version, the configuration that shapes results (rules,
options), the file's path as shown and the SHA-256 of its bytes. A result that depended
on other modules of the project (a model imported from models/) also records those
files' size and modification time, and is used only while they are unchanged.

Entries hold findings as plain JSON, never pickles: the cache is data and nothing in it
is executed. Fixes are not cached: a run that fixes recomputes any file with a pending
fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Optional

from . import __version__
from .findings import Finding, Fix, Related, Span
from .problems import Problem

DEFAULT_DIRECTORY = ".migrate_bn_cache"


def content_hash(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def configuration_key(*parts: object) -> str:
    """What else a result depends on: version, rule codes, options, settings."""
    return hashlib.sha256(repr((__version__, *parts)).encode()).hexdigest()[:32]


def _dependency_stamp(path: str) -> Optional[list]:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [path, info.st_size, info.st_mtime_ns]


def _finding_to_json(finding: Finding) -> dict:
    span = finding.span
    return {
        "code": finding.code, "message": finding.message, "severity": finding.severity,
        "span": [span.line, span.column, span.end_line, span.end_column, span.cell],
        "fix": None if finding.fix is None else [finding.fix.applicability, finding.fix.message],
        "related": [[r.span.line, r.span.column, r.span.end_line, r.span.end_column, r.span.cell, r.message, r.path]
                    for r in finding.related],
        "alternatives": [[a.applicability, a.message] for a in finding.alternatives],
    }


def _finding_from_json(data: dict) -> Finding:
    fix = None if data["fix"] is None else Fix(data["fix"][0], data["fix"][1], ())
    related = tuple(Related(Span(*r[:5]), r[5], r[6]) for r in data["related"])
    alternatives = tuple(Fix(a[0], a[1], ()) for a in data["alternatives"])
    return Finding(data["code"], data["message"], Span(*data["span"]), data["severity"], fix, related, alternatives)


class Cache:
    """One SQLite file under the cache directory; used from the main process only."""

    def __init__(self, directory: str, configuration: str) -> None:
        self.configuration = configuration
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        # Mark the directory as a cache, and keep it out of version control.
        tag = root / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# migrate-bn cache\n")
        ignore = root / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        self.connection = sqlite3.connect(str(root / "results-v2.sqlite"))
        self.connection.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT)")
        self.hits = self.misses = 0

    def _key(self, path: str, digest: str) -> str:
        # os.fsencode: a file name need not be valid UTF-8 (surrogate escapes survive).
        return hashlib.sha256(b"\0".join([self.configuration.encode(), os.fsencode(path),
                                           digest.encode()])).hexdigest()

    def get(self, path: str, digest: str) -> Optional[tuple[list[Finding], Optional[Problem]]]:
        """(findings, error) of an unchanged file, or None."""
        row = self.connection.execute("SELECT value FROM results WHERE key = ?", (self._key(path, digest),)).fetchone()
        if row is None:
            self.misses += 1
            return None
        value = json.loads(row[0])
        if any(_dependency_stamp(stamp[0]) != stamp for stamp in value["dependencies"]):
            self.misses += 1
            return None
        self.hits += 1
        error = None if value["error"] is None else Problem.from_json(value["error"])
        return [_finding_from_json(item) for item in value["findings"]], error

    def put(self, path: str, digest: str, findings: Iterable[Finding], error: Optional[Problem],
            dependencies: Iterable[str]) -> None:
        stamps = [stamp for stamp in (_dependency_stamp(d) for d in sorted(set(dependencies))) if stamp]
        value = {"findings": [_finding_to_json(f) for f in findings],
                 "error": None if error is None else error.as_json(), "dependencies": stamps}
        self.connection.execute("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)",
                                (self._key(path, digest), json.dumps(value)))

    def close(self) -> None:
        self.connection.commit()
        self.connection.close()
