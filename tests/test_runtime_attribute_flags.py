"""BN004's claim about a flag carried by an attribute, proven under TensorFlow 2.12.1.

fixtures/bn004/attribute_true_in_init_before_build builds its graph in `__init__` after
`self.is_training = True`; its `test_one_image` sets the attribute to False before it
predicts. The graph was built with the Python value True, so the assignment changes
nothing: one image's prediction still depends on the other images of its batch.
"""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "fixtures" / "bn004" / "attribute_true_in_init_before_build" / "before.py"
DRIVER = """
import numpy as np

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
model = Detector(images)
model.sess.run(tf.global_variables_initializer())
batch = np.random.RandomState(0).rand(4, 8, 8, 3).astype("float32")
model.train_one_epoch([batch])
alone = model.test_one_image(batch)[0]
with_other_mates = model.test_one_image(np.concatenate([batch[:1], 5 * batch[1:]]))[0]
assert not np.allclose(alone, with_other_mates), "is_training=False after the build changed the graph"
"""

pytestmark = oracle.tf1_marks()


def test_a_later_false_does_not_change_the_built_graph(tmp_path: Path) -> None:
    assert [f.code for f in analyze(CASE.read_bytes(), str(CASE)).findings] == ["BN004"]
    program = tmp_path / "program.py"
    program.write_text(CASE.read_text() + DRIVER)
    oracle.run_program(program, tmp_path)
