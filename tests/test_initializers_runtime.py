"""The Keras initializers `keras_mapping.INITIALIZERS` writes draw from the distribution the
TF1 initializers drew from: TF1's under tensorflow-cpu 2.12.1 (tf.compat.v1, tf-slim),
the mapped Keras text under the newest TensorFlow (Keras 3), 400,000 values each for one
kernel shape. Mean and standard deviation agree to 1% of the standard deviation (sampling
error at this size: about 0.2%); truncated and uniform distributions stop at the same
bounds (2% of the standard deviation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn import facts as facts_module
from migrate_bn.keras_mapping import keras_initializer
from migrate_bn.source import parse

pytestmark = oracle.tf1_marks()

SHAPE = (5, 5, 40, 400)  # a conv kernel: fan_in 1000, fan_out 10000
# TF1 initializer -> whether its values are bounded (truncated or uniform).
CASES = {
    "tf.truncated_normal_initializer(stddev=0.02)": True,
    "tf.random_normal_initializer(0.5, 0.02)": False,
    "tf.random_uniform_initializer(-0.3)": True,
    "tf.variance_scaling_initializer(2.0, 'fan_out', 'normal')": True,
    "tf.variance_scaling_initializer()": True,
    "tf.glorot_normal_initializer()": True,
    "slim.xavier_initializer()": True,
    "slim.variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True)": True,
}
TF1 = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim
tf.disable_v2_behavior()
variables = [tf.get_variable("w%d" % index, {shape}, initializer=initializer)
             for index, initializer in enumerate([{initializers}])]
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    values = [np.asarray(value, np.float64) for value in sess.run(variables)]
print(json.dumps([[v.mean(), v.std(), v.min(), v.max()] for v in values]))
"""
KERAS = """
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
values = [np.asarray(initializer(shape={shape}), np.float64) for initializer in [{initializers}]]
print(json.dumps([[v.mean(), v.std(), v.min(), v.max()] for v in values]))
"""


def statistics(python: str, program: str) -> list[list[float]]:
    done = subprocess.run([python, "-c", program], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_keras_initializers_draw_from_the_tf1_distributions(tf2_python: str) -> None:
    keras = []
    for initializer in CASES:
        text = f"import tensorflow.compat.v1 as tf\nimport tf_slim as slim\nvalue = {initializer}\n"
        facts = facts_module.build(parse(text), text)
        notes: list[str] = []
        keras.append(keras_initializer(facts, facts.tree.body[-1].value, notes))
        assert not notes, notes
    tf1 = statistics(sys.executable, TF1.format(shape=SHAPE, initializers=", ".join(CASES)))
    ours = statistics(tf2_python, KERAS.format(shape=SHAPE, initializers=", ".join(keras)))
    for (initializer, bounded), text, theirs, mine in zip(CASES.items(), keras, tf1, ours):
        spread = theirs[1]
        assert abs(mine[0] - theirs[0]) < 0.01 * spread, (initializer, text, mine, theirs)  # means
        assert abs(mine[1] - theirs[1]) < 0.01 * spread, (initializer, text, mine, theirs)  # deviations
        if bounded:
            assert abs(mine[2] - theirs[2]) < 0.02 * spread, (initializer, text, mine, theirs)
            assert abs(mine[3] - theirs[3]) < 0.02 * spread, (initializer, text, mine, theirs)
