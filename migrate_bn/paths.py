"""How paths are shown: relative to the working directory when inside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional


def display_path(path: str, base: Optional[str] = None) -> str:
    """Paths relative to the working directory, as diffs and messages show them."""
    base = base or os.getcwd()
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if relative.startswith("..") else Path(relative).as_posix()
