"""A one-line progress display on a terminal: files done/total, findings, ETA. On a
pipe or in CI logs it prints nothing."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    INTERVAL = 0.1  # seconds between redraws

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0
        self.started = self.drawn = time.monotonic()
        self.width = 0

    def update(self, done: int, findings: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.drawn < self.INTERVAL and done < self.total):
            return
        self.drawn = now
        elapsed = now - self.started
        eta = elapsed / done * (self.total - done) if done else 0.0
        line = f"{done}/{self.total} files, {findings} findings, ETA {eta:.0f}s"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
