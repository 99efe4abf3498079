"""A project module's batch-norm wrapper called in a module that imports it with
`from ops import *` (the DCGAN-style `ops.py`): the calling module's analysis should see
the wrapper's batch norm as it does through `from ops import conv_bn`."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.project import Project

OPS = """import tensorflow as tf


def conv_bn(inputs, training):
    return tf.layers.batch_normalization(tf.layers.conv2d(inputs, 8, 3), training=training)
"""
TRAIN = """import tensorflow as tf
{imports}

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
loss = tf.reduce_mean(conv_bn(images, True))
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
"""


def _codes(root: Path, imports: str) -> list[str]:
    (root / "setup.cfg").write_text("")
    (root / "ops.py").write_text(OPS)
    train = root / "train.py"
    train.write_text(TRAIN.format(imports=imports))
    resolver = Project().resolver(str(train))
    return [finding.code for finding in analyze(train.read_bytes(), str(train), resolver=resolver).findings]


def test_a_wrapper_imported_by_name_is_seen(tmp_path: Path) -> None:
    assert _codes(tmp_path, "from ops import conv_bn") == ["BN001"]


def test_a_wrapper_imported_by_a_star_import_is_seen(tmp_path: Path) -> None:
    assert _codes(tmp_path, "from ops import *") == ["BN001"]
