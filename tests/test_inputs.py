"""Runs on the training pipeline (migrate_bn/model/inputs.py): a script that feeds
nothing and builds one batch-norm network from its training pipeline computes every run
of it on training batches, so a logged accuracy is no evaluation and BN004 stays silent
(fixtures/silent/training_accuracy_from_pipeline); whatever could send other data
through the network makes the run an evaluation again."""

from __future__ import annotations

from pathlib import Path

from migrate_bn import facts as facts_module
from migrate_bn.api import analyze
from migrate_bn.model.inputs import on_training_batches
from migrate_bn.source import parse

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "silent" / "training_accuracy_from_pipeline" / "before.py"
SOURCE = CASE.read_text()
LOGGED = "            print(step, sess.run(accuracy))\n"


def _logged_run_on_training_batches(source: str) -> bool:
    """inputs.py's own answer for the logged run and the first batch norm: can only
    training batches reach it? (BN004 also asks model/runs.py, which calls a run in the
    training loop on training data monitoring whatever could be switched.)"""
    facts = facts_module.build(parse(source), source)
    site = facts.batch_norm_sites[0]
    run = next(run for run in facts.session_runs if "accuracy" in facts.segment(run.node))
    return on_training_batches(facts, site, run)


def _bn004(source: str) -> list[int]:
    return [f.span.line for f in analyze(source.encode(), "train.py").findings if f.code == "BN004"]


def test_the_fixture_logs_the_training_batches() -> None:
    assert LOGGED in SOURCE and _bn004(SOURCE) == []


def test_a_feed_dict_can_send_other_data() -> None:
    fed = SOURCE.replace(LOGGED, "            print(step, sess.run(accuracy, {x: x_val, y: y_val}))\n")
    assert _bn004(fed) == [14]
    # Fed the training features again, the run is training-time monitoring (model/runs.py).
    refed = SOURCE.replace(LOGGED, "            print(step, sess.run(accuracy, {x: features[:64], y: labels[:64]}))\n")
    assert _bn004(refed) == []


def test_a_placeholder_or_a_switchable_iterator_can_send_other_data() -> None:
    assert _logged_run_on_training_batches(SOURCE)
    switched = SOURCE.replace("batches.make_one_shot_iterator()", "batches.make_initializable_iterator()")
    assert not _logged_run_on_training_batches(switched)
    handle = SOURCE.replace("saver = tf.train.Saver()", "rate = tf.placeholder_with_default(1e-3, [])\nsaver = tf.train.Saver()")
    assert not _logged_run_on_training_batches(handle)


def test_a_second_network_is_another_tower() -> None:
    # A validation network built from another pipeline: its runs are evaluations.
    second = SOURCE.replace(
        "logits = tf.layers.dense(h, 2)\n",
        "logits = tf.layers.dense(h, 2)\n"
        "v = tf.layers.batch_normalization(tf.layers.dense(x, 64, use_bias=False), training=True)\n")
    assert not _logged_run_on_training_batches(second)


def test_a_network_built_by_a_function_called_twice_may_see_other_data() -> None:
    body = SOURCE.replace("h = tf.layers.dense(x, 64, use_bias=False)\n"
                          "h = tf.nn.relu(tf.layers.batch_normalization(h, training=True))\n"
                          "logits = tf.layers.dense(h, 2)\n",
                          "def net(inputs, reuse=None):\n"
                          "    h = tf.layers.dense(inputs, 64, use_bias=False, name='d', reuse=reuse)\n"
                          "    h = tf.nn.relu(tf.layers.batch_normalization(h, training=True, name='bn', reuse=reuse))\n"
                          "    return tf.layers.dense(h, 2, name='out', reuse=reuse)\n\n\n"
                          "logits = net(x)\n"
                          "other = net(x * 2.0, reuse=True)\n")
    assert not _logged_run_on_training_batches(body)
