"""Reading and writing source files without ever losing a byte.

Reading refuses what is not a regular file (a FIFO would block the run forever, a
device never ends) and what is larger than `MAX_FILE_SIZE`. Writing goes to a temporary
file in the same directory that is renamed over the original, so the file is always
either wholly old or wholly new; it keeps the file's mode, owner and extended
attributes, refuses to write through a symbolic link, and refuses to replace a file
whose bytes changed since they were read.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

# Generated code, data dumps and minified blobs, not sources anyone edits by hand:
# reading and parsing them would cost more than the rest of the run.
MAX_FILE_SIZE = 10 * 1024 * 1024

TEMPORARY_PREFIX = ".migrate-bn-"


class Refused(Exception):
    """A file migrate-bn will not read or write; the message says why."""


class NotRegularFile(Refused):
    pass


class TooLarge(Refused):
    pass


class SymlinkRefused(Refused):
    pass


class ChangedOnDisk(Refused):
    pass


def read_source(path: str, limit: Optional[int] = None) -> bytes:
    """The bytes of the regular file at `path` (a symbolic link named by the user is
    followed); raises `Refused` for anything else or for a file over `limit` bytes, and
    OSError when it cannot be read."""
    limit = MAX_FILE_SIZE if limit is None else limit
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > limit:
            raise TooLarge(f"too large: {_size(info.st_size)}, over the {_size(limit)} limit")
        data = _read_at_most(fd, limit + 1)  # a file that grows while we read is caught too
        if len(data) > limit:
            raise TooLarge(f"too large: over the {_size(limit)} limit")
        return data
    finally:
        os.close(fd)


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to `count` bytes from `fd`, fewer only at its end."""
    chunks = []
    while count > 0:
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def write_atomically(path: str, data: bytes, expected: Optional[bytes] = None) -> None:
    """Replace `path` with `data` in one step, keeping its mode (and owner, as root).

    The new content goes to a temporary file in the same directory, is flushed to disk,
    and is renamed over the original: a crash or Ctrl-C leaves either the old file or
    the new one, never half of one. With `expected` (the bytes the caller read), the
    file is re-read just before the rename and left alone if it changed in between.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ChangedOnDisk("deleted while migrate-bn was running; not written") from None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = f" (to {os.readlink(path)})"
        except OSError:
            target = ""
        raise SymlinkRefused(f"is a symbolic link{target}; not written through it: "
                             "run migrate-bn on the file it points to")
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(f"not a regular file ({_kind(info.st_mode)})")
    directory = os.path.dirname(os.path.abspath(path))
    with _interrupts_deferred():
        fd, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            _copy_metadata(path, temporary, info)
            if expected is not None:
                _check_unchanged(path, info, expected)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
    _sync_directory(directory)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C until the block is done, then deliver it as it would have been.

    A KeyboardInterrupt can land between any two bytecodes: after `mkstemp` created the
    temporary file but before anything knows its name, or inside the cleanup. Deferring
    it over the few milliseconds of one write is the only way no temporary file is left.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives Python's signal handlers anyway
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
        if received:
            signal.raise_signal(signal.SIGINT)


def _copy_metadata(path: str, temporary: str, info: os.stat_result) -> None:
    os.chmod(temporary, stat.S_IMODE(info.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(temporary, info.st_uid, info.st_gid)
        except PermissionError:
            pass  # only root may give a file away; keeping ours is the best we can do
    if hasattr(os, "listxattr"):  # ACLs, SELinux labels, user attributes: best effort
        try:
            names = os.listxattr(path)
        except OSError:
            return
        for name in names:
            try:
                os.setxattr(temporary, name, os.getxattr(path, name))
            except OSError:
                pass


def _check_unchanged(path: str, before: os.stat_result, expected: bytes) -> None:
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        raise ChangedOnDisk("deleted while migrate-bn was running; not written") from None
    if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(now.st_mode):
        raise ChangedOnDisk("replaced while migrate-bn was running; not written (run again)")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        current = _read_at_most(fd, len(expected) + 1)  # one byte more: a file that grew differs
    finally:
        os.close(fd)
    if current != expected:
        raise ChangedOnDisk("changed while migrate-bn was running; not written (run again)")


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # the file is in place; only its durability across a power cut is unknown
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MB" if count >= 1024 * 1024 else f"{count} bytes"


def write_new(path: str, data: bytes) -> None:
    """Create `path` with `data` in one step; FileExistsError if it exists (never replaced)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".migrate-bn-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
