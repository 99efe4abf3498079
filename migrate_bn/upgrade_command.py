"""The files side of `migrate-bn upgrade`: read each file, upgrade it, show or write it.

Reading, skipping and writing follow `fix`: files the prefilter rules out (no batch-norm
or train-op word: nothing to upgrade, since a script needs a `minimize`) are not read as
Python, so a tree answers `check` and `upgrade` with the same errors; unreadable or
non-Python files among the rest are reported and skipped; writes are atomic and refused
when the file changed meanwhile.
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence, TextIO

from . import runner
from .documents import View, WriteBackRefused
from .prefilter import may_matter
from .fsio import Refused, write_atomically, write_new
from .output import unified_diff
from . import documents, python2
from .source import SourceError, encoding_of
from .equivalence import generate as equivalence
from .slim_nets import emit as slim_emit
from .upgrade import Upgrade, upgrade_source

EXIT_CLEAN, EXIT_PENDING, EXIT_ERROR = 0, 1, 2


def run(paths: Sequence[str], keras: int, dry_run: bool, diff: bool, name_map_path: Optional[str],
        out: TextIO, err: TextIO, color: bool = False, stock_bn: bool = False) -> int:
    upgraded: list[tuple[str, Upgrade]] = []
    skipped = errors = 0
    # Where the project's programs run from: the directories the run was given, or the
    # working directory for files named. A package inside one is imported as a package.
    roots = [os.path.abspath(path if os.path.isdir(path) else ".") for path in paths]
    for path in runner.discover(paths):
        shown = runner.shown_path(path)
        source, problem = runner.read_file(path)
        if source is None:
            err.write(f"{shown}: {problem}\n")
            errors += 1
            continue
        view = None
        has_training_code = may_matter(source)
        try:
            if has_training_code:
                view = documents.read(source, path)
            else:
                # No TF1 training code, so nothing for TF2 to convert; but a Python 2
                # module still goes to Python 3 with the rest of the project.
                view = _python2_view(source, path)
                if view is None:
                    continue
            python2_notes: list[tuple[int, str]] = []
            if view.kind == documents.PYTHON2:
                text, python2_notes = _as_python3(view, path, roots)
            else:
                text = view.text
            result = upgrade_source(text, keras, stock_bn, path) if has_training_code else Upgrade()
            if python2_notes:
                result = _with_python3(result, text, python2_notes)
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
            for line, note in result.notes:  # what converts on its own (a slim net call)
                err.write(f"{shown}:{_place(view, line)}: note: {note}\n")
            skipped += 1
            if result.offer is not None and not _offer(path, shown, result.offer, dry_run, diff, out, err, color):
                errors += 1
            elif result.offer is not None and not _check(path, shown, offer_path(path), text, result, dry_run, err):
                errors += 1
            continue
        if result.text is None:
            continue
        try:
            if view is not None and view.kind == documents.NOTEBOOK:  # the program goes back into the cells
                new = view.write_cells(result.text.encode())  # type: ignore[attr-defined]
            else:
                new = result.text.encode(encoding_of(source))
        except WriteBackRefused as refusal:
            err.write(f"{shown}: not upgraded: the TF2 program cannot be put back into the notebook's cells "
                      f"({refusal})\n")
            skipped += 1
            continue
        if dry_run or diff:
            out.write(unified_diff(shown, source, new, color))
        if result.files:  # the Keras nets the module now imports, beside it
            beside = os.path.dirname(path)
            problem = slim_emit.conflict(beside, result.files)
            if problem:
                err.write(f"{shown}: not upgraded: {problem}\n")
                skipped += 1
                continue
            if not dry_run:
                try:
                    slim_emit.write(beside, result.files)
                except OSError as error:
                    err.write(f"{shown}: not written: {error}\n")
                    errors += 1
                    continue
        if not dry_run:
            try:
                write_atomically(path, new, expected=source)
            except (Refused, OSError) as error:
                err.write(f"{shown}: not written: {error}\n")
                errors += 1
                continue
        upgraded.append((shown, result))
        if view.kind == documents.PYTHON3 and not _check(path, shown, path, text, result, dry_run, err):
            errors += 1
        for line, note in result.notes:
            err.write(f"{shown}:{_place(view, line)}: note: {note}\n")
        if result.offer is not None and not _offer(path, shown, result.offer, dry_run, diff, out, err, color):
            errors += 1
    verb = "Would upgrade" if dry_run else "Upgraded"
    python3_only = sum(1 for _, result in upgraded if result.python3_only)
    if python3_only:
        err.write(f"{verb} {python3_only} Python 2 file{'s' * (python3_only != 1)} to Python 3 only (see the notes).\n")
    upgraded = [(shown, result) for shown, result in upgraded if not result.python3_only]
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
    # A Python 2 file taken to Python 3 only still waits for its TF2 upgrade.
    return EXIT_PENDING if skipped or python3_only or (dry_run and upgraded) else EXIT_CLEAN


def offer_path(path: str) -> str:
    """Where the Keras models of a module left as it was go: `model.py` -> `model_keras3.py`."""
    stem, _ = os.path.splitext(path)
    return f"{stem}_keras3.py"


def _offer(path: str, shown: str, offer: tuple[str, dict], dry_run: bool, diff: bool, out: TextIO,
           err: TextIO, color: bool) -> bool:
    """Write (or show) the module's model functions as Keras models in a new module beside
    it, never over an existing file; False when it could not be written."""
    target, (text, _) = offer_path(path), offer
    shown_target = offer_path(shown)
    if os.path.exists(target):
        err.write(f"{shown}: note: its model functions convert to Keras models on their own; not written: "
                  f"{shown_target} exists\n")
        return True
    if dry_run or diff:
        out.write(unified_diff(shown_target, b"", text.encode(), color))
    if not _write_new(target, shown_target, text, dry_run, err):
        return False
    verb = "would be" if dry_run else "are"
    err.write(f"{shown}: note: its model functions {verb} in {shown_target} as Keras 3 models, on their own "
              "(the code around them stays TF1)\n")
    return True


def _write_new(target: str, shown_target: str, text: str, dry_run: bool, err: TextIO) -> bool:
    """Write a new file beside the module (never over an existing one), unless this is a
    dry run; False, with the reason said, when it could not be written."""
    if not dry_run:
        try:
            write_new(target, text.encode())
        except OSError as error:
            err.write(f"{shown_target}: not written: {error}\n")
            return False
    return True


def _check(path: str, shown: str, converted: str, tf1_text: str, result: Upgrade, dry_run: bool,
           err: TextIO) -> bool:
    """Write the converted models' equivalence check beside the module (never over an
    existing file); False when it could not be written."""
    if not result.equivalence:
        return True
    target, shown_target = equivalence.check_path(path), equivalence.check_path(shown)
    if os.path.exists(target):
        err.write(f"{shown}: note: equivalence check not written: {shown_target} exists\n")
        return True
    text = equivalence.check_source(os.path.basename(path), os.path.basename(converted),
                                    result.equivalence_source or tf1_text, result.equivalence)
    if not _write_new(target, shown_target, text, dry_run, err):
        return False
    err.write(f"{shown}: note: {'would write' if dry_run else 'wrote'} {shown_target}: it checks the Keras models "
              "against the TF1 ones (`python " + os.path.basename(target) + " --help`)\n")
    return True


def _python2_view(source: bytes, path: str) -> Optional[documents.View]:
    """The view of a file the prefilter rules out, when it is Python 2; None for
    anything else, which `check` does not read either (so both agree on exit codes)."""
    try:
        view = documents.read(source, path)
    except SourceError:
        return None
    return view if view.kind == documents.PYTHON2 else None


def _as_python3(view: documents.View, path: str, roots: Sequence[str]) -> tuple[str, list[tuple[int, str]]]:
    """A Python 2 file as the Python 3 program 2to3 makes of it, with a note for what
    2to3 cannot see; TF2 needs Python 3, so this is the first step of the upgrade."""
    place = python2.import_place(path, view.original, roots)
    in_package = place is python2.ImportPlace.PACKAGE_MODULE
    converted = python2.as_python3_program(view.original, os.path.abspath(path) if in_package else python2.NO_PATH)
    if converted is None:
        raise SourceError("cannot convert this Python 2 file to Python 3 (2to3's fixers do not give a program "
                          "that parses)")
    text, divisions = converted
    notes = [(1, "converted from Python 2 to Python 3 with 2to3's fixers (fissix); line numbers below are "
                 "those of the Python 3 program")]
    if place is python2.ImportPlace.SCRIPT_IN_PACKAGE:
        relative = python2.as_python3_program(view.original, os.path.abspath(path))
        if relative is not None and relative[0] != text:
            notes.append((1, "its imports of modules beside it are left absolute, as a script run from its "
                             "directory needs them; imported as a module of its package, Python 3 needs "
                             "`from . import` for them"))
    notes += [(line, "`/` floors two integers in Python 2 and not in Python 3, and 2to3 leaves it: "
                     "write `//` where both operands are integers") for line in divisions]
    return text, notes


def _with_python3(result: Upgrade, text: str, notes: list[tuple[int, str]]) -> Upgrade:
    """A Python 2 file's upgrade: the TF2 program when there is one; else the Python 3
    program alone, with the reason it goes no further, since Python 3 is still needed."""
    if result.text is not None:
        return Upgrade(result.text, sorted(set(notes + result.notes)), None, result.name_map, files=result.files)
    not_tf2 = [(result.skipped[0], f"not upgraded to TF2: {result.skipped[1]}")] if result.skipped else []
    return Upgrade(text, sorted(set(notes + not_tf2)), None, None, python3_only=True, offer=result.offer)


def _place(view: Optional[View], line: int) -> str:
    """A line of the upgraded program as the file shows it: `12`, or in a notebook
    `cell 3:2` (a Python 2 file's notes count the lines of its Python 3 program)."""
    if view is None or view.kind != documents.NOTEBOOK:
        return str(line)
    where = view.locate(line, 1)
    return f"cell {where.cell}:{where.line}" if where.cell is not None else str(where.line)
