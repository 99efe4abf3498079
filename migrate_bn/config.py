"""Project configuration: `[tool.migrate-bn]` in pyproject.toml or `[migrate_bn]` in
setup.cfg, found from the working directory upwards (the first file that has the
section wins), or named with `--config`.

Keys (dashes or underscores): select, ignore, exclude (globs), per-file-ignores
(glob -> codes), unsafe-fixes (bool), target-keras (2 or 3), notebooks (bool: search
directories for `*.ipynb` too; default true).
"""

from __future__ import annotations

import configparser
import fnmatch
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:
    from .rules import Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {"select", "ignore", "exclude", "per_file_ignores", "unsafe_fixes", "target_keras", "notebooks"}


class ConfigError(Exception):
    """A configuration file that cannot be used; the message says where and why."""


@dataclass
class Settings:
    path: Optional[str] = None  # the file they came from
    root: str = "."  # globs are relative to the directory of that file
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    unsafe_fixes: bool = False
    target_keras: int = 3
    notebooks: bool = True  # directories are searched for *.ipynb too

    def _relative(self, path: str) -> str:
        return os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")

    def excluded(self, path: str) -> bool:
        """Does an exclude glob match the path, or any of its directories?"""
        relative = self._relative(path)
        parts = relative.split("/")
        return any(
            fnmatch.fnmatch(relative, pattern) or any(fnmatch.fnmatch(part, pattern) for part in parts)
            for pattern in self.exclude
        )

    def ignored_codes(self, path: str) -> list[str]:
        relative = self._relative(path)
        return [code for pattern, codes in self.per_file_ignores.items()
                if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern)
                for code in codes]

    def rules_for(self, path: str, rules: Sequence[Rule]) -> list[Rule]:
        """`rules` without those per-file-ignores turns off for `path`."""
        if not self.per_file_ignores:
            return list(rules)
        ignored = self.ignored_codes(path)
        return [rule for rule in rules if not any(rule.code.startswith(code) for code in ignored)]


def _codes(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [part for chunk in value.splitlines() for part in chunk.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule codes, got {value!r}")
    return [v.strip().upper() for v in value if v.strip()]


def _globs(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [part for chunk in value.splitlines() for part in chunk.split(",")]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of globs, got {value!r}")
    return [str(v).strip() for v in value if str(v).strip()]


def _boolean(value, where: str) -> bool:
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        value = value.strip().lower() in ("true", "yes", "1")
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _settings(raw: dict, path: str) -> Settings:
    settings = Settings(path=path, root=os.path.dirname(os.path.abspath(path)))
    for key, value in raw.items():
        name = key.replace("-", "_")
        where = f"{path}: {key}"
        if name not in KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(k.replace('_', '-') for k in KEYS))})")
        if name in ("select", "ignore"):
            setattr(settings, name, _codes(value, where))
        elif name == "exclude":
            settings.exclude = _globs(value, where)
        elif name == "per_file_ignores":
            if isinstance(value, str):
                entries = {}
                for line in value.splitlines():
                    if line.strip():
                        if ":" not in line:
                            raise ConfigError(f"{where}: expected `glob: CODES` lines, got {line.strip()!r}")
                        glob, codes = line.split(":", 1)
                        entries[glob.strip()] = codes
                value = entries
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of glob = [codes]")
            settings.per_file_ignores = {glob: _codes(codes, where) for glob, codes in value.items()}
        elif name in ("unsafe_fixes", "notebooks"):
            setattr(settings, name, _boolean(value, where))
        elif name == "target_keras":
            try:
                settings.target_keras = int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: expected 2 or 3, got {value!r}") from None
            if settings.target_keras not in (2, 3):
                raise ConfigError(f"{where}: expected 2 or 3, got {value!r}")
    return settings


def read(path: str) -> Optional[Settings]:
    """Settings from one file, or None when it has no migrate-bn section."""
    try:
        if path.endswith(".toml"):
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
            section = data.get("tool", {}).get("migrate-bn", data.get("tool", {}).get("migrate_bn"))
            return None if section is None else _settings(section, path)
        parser = configparser.ConfigParser()
        parser.read(path, encoding="utf-8")
        if not parser.has_section("migrate_bn"):
            return None
        return _settings(dict(parser.items("migrate_bn")), path)
    except (OSError, tomllib.TOMLDecodeError, configparser.Error) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None


def discover(start: str = ".") -> Settings:
    """The settings for a run from `start`: the nearest configuration, else defaults."""
    directory = os.path.abspath(start)
    while True:
        for name in ("pyproject.toml", "setup.cfg"):
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                found = read(candidate)
                if found is not None:
                    return found
        parent = os.path.dirname(directory)
        if parent == directory:
            return Settings(root=os.path.abspath(start))
        directory = parent
