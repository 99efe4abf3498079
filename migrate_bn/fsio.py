"""Reading and writing source files without ever losing a byte."""

from __future__ import annotations

import os
import stat
import tempfile


def read_source(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def write_atomically(path: str, data: bytes) -> None:
    """Replace `path` with `data` in one step, keeping its mode (and owner, as root).

    The new content goes to a temporary file in the same directory, is flushed to disk,
    and is renamed over the original: a crash or Ctrl-C leaves either the old file or
    the new one, never half of one.
    """
    info = os.stat(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".migrate-bn-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except PermissionError:
                pass  # only root may give a file away; keeping ours is the best we can do
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
