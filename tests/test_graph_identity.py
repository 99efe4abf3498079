"""Graphs of their own (migrate_bn/model/graph_identity.py): batch norm a model class
builds in its own `tf.Graph()` is in no other graph, so a train op built in the default
graph (a plain network trained beside it, another notebook cell) does not miss its
updates; the class's own train op still does. Under TensorFlow 2.12.1 the fixture runs
as the finding says: only the class's graph has moving statistics, they never move
before the fix and all move after it."""

from __future__ import annotations

import json
from pathlib import Path

from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "bn001" / "train_op_in_private_graph"


def _findings(source: str, name: str = "program.py") -> list[str]:
    return [f"{f.code} {f.span.line}" for f in analyze(source.encode(), name).findings]


def _plain_step(source: str) -> str:
    """The finding on the default graph's train op, at its line."""
    return f"BN001 {source.splitlines().index(PLAIN_STEP) + 1}"


CLASS = '''import tensorflow as tf


class Net:
    def _build(self):
        x = tf.placeholder(tf.float32, [None, 4])
        training = tf.placeholder_with_default(False, [])
        h = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=training)
        self.loss = tf.reduce_mean(tf.square(h))
        self.step = tf.train.AdamOptimizer(0.1).minimize(self.loss)

    def fit(self):
{fit}
'''
PLAIN_STEP = "plain_step = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(tf.layers.dense(x, 1)))"
DEFAULT_GRAPH_STEP = f"""
x = tf.placeholder(tf.float32, [None, 4])
{PLAIN_STEP}
Net().fit()
"""


def test_a_graph_bound_to_an_attribute_set_once() -> None:
    fit = "        self.graph = tf.Graph()\n        with self.graph.as_default():\n            self._build()"
    assert _findings(CLASS.format(fit=fit) + DEFAULT_GRAPH_STEP) == ["BN001 10"]


def test_a_graph_made_at_the_with_or_bound_to_a_local_name() -> None:
    for fit in ("        with tf.Graph().as_default():\n            self._build()",
                "        graph = tf.Graph()\n        with graph.as_default():\n            self._build()"):
        assert _findings(CLASS.format(fit=fit) + DEFAULT_GRAPH_STEP) == ["BN001 10"]


def test_a_graph_whose_making_is_not_seen_may_be_the_default_one() -> None:
    # `as_default()` on a graph handed in: it may be the graph the other train op uses.
    source = CLASS.format(fit="        with self.graph.as_default():\n            self._build()") + DEFAULT_GRAPH_STEP
    assert _findings(source) == ["BN001 10", _plain_step(source)]


def test_batch_norm_built_in_both_graphs_is_in_both() -> None:
    fit = "        with tf.Graph().as_default():\n            self._build()\n        self._build()"
    source = CLASS.format(fit=fit) + DEFAULT_GRAPH_STEP
    assert _findings(source) == ["BN001 10", _plain_step(source)]


def test_a_builder_nothing_in_the_module_calls_may_run_anywhere() -> None:
    # Called from another module: its graph is unknown, so it may be the default one.
    source = CLASS.format(fit="        pass") + DEFAULT_GRAPH_STEP.replace("Net().fit()\n", "")
    assert _findings(source) == ["BN001 10", _plain_step(source)]


def test_notebook_cells_after_the_class_blame_only_its_own_train_op(tmp_path: Path) -> None:
    # A notebook: the class in one cell, then a reset and a plain network in the next.
    fit = "        self.graph = tf.Graph()\n        with self.graph.as_default():\n            self._build()"
    cells = [CLASS.format(fit=fit), "tf.reset_default_graph()" + DEFAULT_GRAPH_STEP]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": cell.splitlines(keepends=True)} for cell in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "classes.ipynb"
    path.write_text(json.dumps(notebook))
    found = analyze(path.read_bytes(), str(path)).findings
    assert [(f.code, f.span.cell, f.span.line) for f in found] == [("BN001", 1, 10)]


@oracle.needs_tf
def test_only_the_class_graph_has_batch_norm_and_the_fix_updates_it(tmp_path: Path) -> None:
    before = oracle.run_program(CASE / "before.py", tmp_path / "before")
    # One session with batch-norm statistics: the class's; the default graph's has none.
    assert len(before.sessions) == 1
    oracle.assert_never_updated(before.last)
    fixed = analyze((CASE / "before.py").read_bytes(), "before.py", fix=True).fixed_source
    assert fixed is not None and fixed.decode() == (CASE / "after.py").read_text()
    after = oracle.run_program(CASE / "after.py", tmp_path / "after")
    assert len(after.sessions) == 1
    oracle.assert_all_moved(after.last)
