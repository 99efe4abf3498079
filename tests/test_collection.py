"""A batch run collects garbage with its own thresholds, and gives the process back
the ones it had."""

from __future__ import annotations

import gc
from pathlib import Path

from migrate_bn import collection
from migrate_bn.rules import Options, select_rules
from migrate_bn.runner import Job, run

SCRIPT = "import tensorflow as tf\n\nx = tf.layers.batch_normalization(tf.zeros([1, 2]), training=True)\n"


def test_a_serial_run_collects_with_the_batch_thresholds_and_restores_the_old(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SCRIPT)
    (tmp_path / "b.py").write_text(SCRIPT)
    before = gc.get_threshold()
    during = []
    results = run([str(tmp_path)], Job(select_rules(), Options(), jobs=1))
    for _ in results:
        during.append(gc.get_threshold())
    assert during[0] == collection.BATCH_THRESHOLDS
    assert gc.get_threshold() == before


def test_batch_thresholds_are_restored_after_an_error() -> None:
    before = gc.get_threshold()
    try:
        with collection.batch_thresholds():
            assert gc.get_threshold() == collection.BATCH_THRESHOLDS
            raise KeyError
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_a_process_the_command_line_owns_keeps_the_batch_thresholds_and_freezes_at_exit() -> None:
    import subprocess
    import sys

    # atexit runs its handlers last registered first: this one runs after own_process's.
    program = ("import atexit, gc\n"
               "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
               "from migrate_bn import collection\n"
               "collection.own_process()\n"
               "collection.own_process()\n"
               "with collection.batch_thresholds():\n"
               "    pass\n"
               "print(gc.get_threshold() == collection.BATCH_THRESHOLDS)\n")
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert completed.stdout.split("\n") == ["True", "frozen at exit: True", ""]


NESTED = """\
import tensorflow as tf


class Model:
    def build(self, x, training):
        def block(y):
            return tf.layers.batch_normalization(y, training=training)
        return block(x)


def main():
    return Model().build(tf.zeros([1, 2]), True)
"""


def test_dropped_facts_free_their_syntax_tree_without_the_collector() -> None:
    """Scopes point at their parents and parents at their functions: dropping the facts
    breaks those cycles, so reference counting frees the tree (no collection needed)."""
    import ast
    import weakref

    from migrate_bn.facts import build

    enabled = gc.isenabled()
    gc.disable()
    try:
        tree = ast.parse(NESTED)
        facts = build(tree, NESTED)
        assert [scope.name for scope in facts.scopes] == ["<module>", "Model", "build", "block", "main"]
        tree_ref, scope_ref = weakref.ref(tree), weakref.ref(facts.scopes[3])
        del tree, facts
        assert tree_ref() is None and scope_ref() is None
    finally:
        if enabled:
            gc.enable()
