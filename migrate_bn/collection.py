"""The garbage collector's thresholds while a batch of files is analysed.

An analysis allocates millions of short-lived objects (syntax trees, facts) while the
run keeps long-lived ones (the project's import summaries, the whole-program model's
modules): with CPython's default thresholds (700, 10, 10) the collector ran 5,000
young and 23 full collections over the growing heap on the six bulk repositories
(docs/performance.md), half of a cold `check`'s CPU time, and `ast.parse` of the
analysed files took four times what it takes in a fresh process. Collecting the young
generation every 100,000 allocations instead still frees the facts' reference cycles
(scopes point at their parents) young, at the same peak memory, and leaves full
collections to the end of the run's growth. The middle generation waits for 100 young
collections (a middle collection traverses everything the run keeps: 0.2-0.3 s on the
bulk tree, which does about 60 young collections and so none); a bigger run still
collects it, so the cycles promoted there stay bounded. Nothing the analysis computes
depends on when objects are freed.

A command-line run owns its process (`own_process`): the thresholds stay for good (had
they been restored after the batch, the first young collection would take the whole
middle generation with it), and at exit the heap is frozen, so the interpreter's last
collections do not traverse what the process is about to drop (0.7 s on the bulk tree).
The language server, a long-lived process, keeps CPython's thresholds.
"""

from __future__ import annotations

import atexit
import gc
from contextlib import contextmanager
from typing import Iterator

BATCH_THRESHOLDS = (100_000, 100, 10)
_owned = False


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


def own_process() -> None:
    """For a process that runs one batch and exits (the command line): `BATCH_THRESHOLDS`
    for good, and no collection at exit."""
    global _owned
    gc.set_threshold(*BATCH_THRESHOLDS)
    if not _owned:
        _owned = True
        atexit.register(gc.freeze)
