"""The files side of `migrate-bn upgrade`: read each file, upgrade it, show or write it.

Reading, skipping and writing follow `fix`: unreadable or non-Python files are reported
and skipped, writes are atomic and refused when the file changed meanwhile.
"""

from __future__ import annotations

import json
from typing import Optional, Sequence, TextIO

from . import runner
from . import notebooks
from .documents import NOTEBOOK_SUFFIX, View, WriteBackRefused
from .fsio import Refused, write_atomically
from .output import unified_diff
from .source import SourceError, decode, encoding_of
from .upgrade import Upgrade, upgrade_source

EXIT_CLEAN, EXIT_PENDING, EXIT_ERROR = 0, 1, 2


def run(paths: Sequence[str], keras: int, dry_run: bool, diff: bool, name_map_path: Optional[str],
        out: TextIO, err: TextIO, color: bool = False) -> int:
    upgraded: list[tuple[str, Upgrade]] = []
    skipped = errors = 0
    for path in runner.discover(paths):
        shown = runner.shown_path(path)
        source, problem = runner.read_file(path)
        if source is None:
            err.write(f"{shown}: {problem}\n")
            errors += 1
            continue
        view = None  # a notebook's view: its code cells as one program
        try:
            if path.lower().endswith(NOTEBOOK_SUFFIX):
                view = notebooks.read(source)
            result = upgrade_source(view.text if view is not None else decode(source), keras)
        except SourceError as error:
            err.write(f"{shown}: skipped: {error}\n")
            errors += 1
            continue
        except Exception as error:  # a bug of migrate-bn: this file is left alone, the run goes on
            err.write(f"{shown}: internal error in migrate-bn ({type(error).__name__}: {error}); "
                      "not upgraded; please report it\n")
            errors += 1
            continue
        if result.skipped:
            line, reason = result.skipped
            err.write(f"{shown}:{_place(view, line)}: not upgraded: {reason}\n")
            skipped += 1
            continue
        if result.text is None:
            continue
        try:
            new = result.text.encode(encoding_of(source)) if view is None else view.write_cells(result.text.encode())
        except WriteBackRefused as refusal:
            err.write(f"{shown}: not upgraded: the TF2 program cannot be put back into the notebook's cells "
                      f"({refusal})\n")
            skipped += 1
            continue
        if dry_run or diff:
            out.write(unified_diff(shown, source, new, color))
        if not dry_run:
            try:
                write_atomically(path, new, expected=source)
            except (Refused, OSError) as error:
                err.write(f"{shown}: not written: {error}\n")
                errors += 1
                continue
        upgraded.append((shown, result))
        for line, note in result.notes:
            err.write(f"{shown}:{_place(view, line)}: note: {note}\n")
    verb = "Would upgrade" if dry_run else "Upgraded"
    err.write(f"{verb} {len(upgraded)} file{'s' * (len(upgraded) != 1)} to TF2"
              + (f"; {skipped} left as they were (see above)" if skipped else "") + ".\n")
    if name_map_path:
        if len(upgraded) != 1:
            err.write(f"--name-map: {len(upgraded)} programs upgraded; a name map holds one "
                      "(run upgrade on the training script alone)\n")
            return EXIT_ERROR
        if dry_run:
            err.write(f"--name-map: not written by a dry run ({name_map_path})\n")
        else:
            with open(name_map_path, "w", encoding="utf-8") as handle:
                json.dump(upgraded[0][1].name_map, handle, indent=2)
                handle.write("\n")
            err.write(f"Name map for {upgraded[0][0]} written to {name_map_path}.\n")
    if errors:
        return EXIT_ERROR
    return EXIT_PENDING if skipped or (dry_run and upgraded) else EXIT_CLEAN


def _place(view: Optional[View], line: int) -> str:
    """A line of the upgraded program as the file shows it: `12`, or `cell 3:2`."""
    if view is None:
        return str(line)
    where = view.locate(line, 1)
    return f"cell {where.cell}:{where.line}" if where.cell is not None else str(where.line)
