"""The garbage collector's thresholds while a batch of files is analysed.

An analysis allocates millions of short-lived objects (syntax trees, facts) while the
run keeps long-lived ones (the project's import summaries, the whole-program model's
modules). With CPython's default thresholds (700, 10, 10) the collector ran 5,000
young and 23 full collections over the growing heap on the six bulk repositories
(docs/performance.md), half of a cold `check`'s CPU time.

What an analysis drops, reference counting frees: the facts break their scopes'
reference cycles when they go (`facts.ModuleFacts.__del__`), a Python 2 file's fissix
tree breaks its own (`python2._release`), and a cold `check` of the bulk tree leaves no
other cycle behind but a few of `json`'s. CPython's young count is
allocations minus deallocations, so it now grows only with what the run holds at once
(one analysis's tree and facts, the summaries): young collections every 1,000,000 of
those would find nothing to free, and none runs on the bulk tree (at 100,000, seven
ran, 0.2 s: each traversed the tree and facts of the file being analysed). They remain
a safety net: a cycle some code path leaves is freed after at most a million more objects, and
middle collections (after 100 young ones) bound what is promoted. Nothing the analysis
computes depends on when objects are freed.

A command-line run owns its process (`own_process`): the thresholds stay for good (had
they been restored after the batch, the first young collection would take the whole
middle generation with it), and at exit the heap is frozen, so the interpreter's last
collections do not traverse what the process is about to drop. The language server, a
long-lived process, keeps CPython's thresholds.
"""

from __future__ import annotations

import atexit
import gc
from contextlib import contextmanager
from typing import Iterator

BATCH_THRESHOLDS = (1_000_000, 100, 10)
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
