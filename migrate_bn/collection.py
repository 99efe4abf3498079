"""The garbage collector's thresholds while a batch of files is analysed.

An analysis allocates millions of short-lived objects (syntax trees, facts) while the
run keeps long-lived ones (the project's import summaries, the whole-program model's
modules): with CPython's default thresholds (700, 10, 10) the collector ran 5,000
young and 23 full collections over the growing heap on the six bulk repositories
(docs/performance.md), half of a cold `check`'s CPU time, and `ast.parse` of the
analysed files took four times what it takes in a fresh process. Collecting the young
generation every 50,000 allocations instead still frees the facts' reference cycles
(scopes point at their parents) young, at the same peak memory, and leaves full
collections to the end of the run's growth. Nothing the analysis computes depends on
when objects are freed.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

BATCH_THRESHOLDS = (50_000, 20, 10)


@contextmanager
def batch_thresholds() -> Iterator[None]:
    """Collect with `BATCH_THRESHOLDS` inside the block, as before it after."""
    saved = gc.get_threshold()
    gc.set_threshold(*BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def use_batch_thresholds() -> None:
    """For a process that only analyses (a worker): `BATCH_THRESHOLDS` for good."""
    gc.set_threshold(*BATCH_THRESHOLDS)
