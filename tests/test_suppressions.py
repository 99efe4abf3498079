"""Suppression comments silence findings on their line or statement; stale ones can be
reported (BN900, off by default)."""

from __future__ import annotations

from migrate_bn.api import analyze
from migrate_bn.rules import select_rules

SCRIPT = """\
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 4])
h = tf.layers.batch_normalization(x, training=tf.placeholder(tf.bool))
train_op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(h)){comment}
"""


def codes(source: str, select=()) -> list[str]:
    return [f.code for f in analyze(source.encode(), "t.py", rules=select_rules(select)).findings]


def test_ignore_comment_on_the_line() -> None:
    assert codes(SCRIPT.format(comment="")) == ["BN001"]
    assert codes(SCRIPT.format(comment="  # migrate-bn: ignore[BN001]")) == []
    assert codes(SCRIPT.format(comment="  # migrate-bn: ignore")) == []
    assert codes(SCRIPT.format(comment="  # noqa: BN001")) == []
    assert codes(SCRIPT.format(comment="  # noqa: E501, BN001")) == []


def test_other_codes_and_bare_noqa_do_not_silence() -> None:
    assert codes(SCRIPT.format(comment="  # migrate-bn: ignore[BN002]")) == ["BN001"]
    assert codes(SCRIPT.format(comment="  # noqa")) == ["BN001"]
    assert codes(SCRIPT.format(comment="  # noqa: E501")) == ["BN001"]


def test_comment_anywhere_on_the_statement() -> None:
    source = SCRIPT.format(comment="").replace(
        "minimize(tf.reduce_mean(h))", "minimize(\n    tf.reduce_mean(h),  # migrate-bn: ignore[BN001]\n)")
    assert codes(source) == []


def test_unused_suppressions_on_request() -> None:
    wired = SCRIPT.format(comment="").replace(
        "train_op = ", "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n    train_op = ")
    source = wired.rstrip("\n") + "  # migrate-bn: ignore[BN001]\n"
    assert codes(source) == []
    assert codes(source, select=["BN"]) == []
    assert codes(source, select=["BN001", "BN900"]) == ["BN900"]
