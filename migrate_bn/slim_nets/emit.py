"""Putting the Keras nets beside an upgraded module: new files only, never a user's file
overwritten (an identical file from an earlier run is left as it is, so a second run
changes nothing)."""

from __future__ import annotations

import os
from typing import Optional

from ..fsio import write_new


def conflict(directory: str, files: dict) -> Optional[str]:
    """Why the files cannot be written into `directory` (None: they can)."""
    for relative, data in files.items():
        target = os.path.join(directory, relative)
        if os.path.lexists(target):
            try:
                with open(target, "rb") as handle:
                    same = handle.read() == data
            except OSError as error:
                return f"cannot read {target} ({error})"
            if not same:
                return f"{target} exists and is not migrate-bn's Keras version of the nets: not overwritten"
    return None


def write(directory: str, files: dict) -> list:
    """Write the files that are not there yet, each atomically (fsio.write_new: a file that
    appears meanwhile is not replaced, FileExistsError); the paths written."""
    written = []
    for relative, data in files.items():
        target = os.path.join(directory, relative)
        if os.path.lexists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        write_new(target, data)
        written.append(target)
    return written
