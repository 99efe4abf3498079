"""Which input ranks slim's batch norm ran through TF1's fused kernel (whose moving
variance takes the n/(n-1)-corrected batch variance), measured under TensorFlow 2.12.1
with tf-slim against what the conversion writes (`exact_bn.fused_ranks`): 5-D input is
fused on slim's core-layer path only (`updates_collections` left at UPDATE_OPS, no
debiasing), and takes the unfused path (the biased variance) otherwise."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from migrate_bn import exact_bn

import runtime_oracle as oracle  # tests/conftest.py

pytestmark = oracle.tf1_marks()

PROGRAM = """
import json, sys
import numpy as np, tensorflow.compat.v1 as tf, tf_slim as slim
tf.disable_v2_behavior()
shape = json.loads(sys.argv[1]); kwargs = json.loads(sys.argv[2])
x = tf.placeholder(tf.float32, shape)
y = slim.batch_norm(x, is_training=True, decay=0.5, **kwargs)
with tf.Session() as session:
    session.run(tf.global_variables_initializer())
    value = np.random.RandomState(0).randn(*shape).astype(np.float32) * 2 + 1
    session.run([y] + tf.get_collection(tf.GraphKeys.UPDATE_OPS), {x: value})
    variance = [v for v in tf.global_variables() if v.name.endswith("moving_variance:0")][0]
    moved = session.run(variance)
    n = value.size // shape[-1]
    biased = value.reshape(-1, shape[-1]).var(axis=0)
    print(json.dumps(bool(np.allclose(moved, 0.5 + 0.5 * biased * n / (n - 1), rtol=1e-6))))
"""

CASES = [
    ([2, 3, 3, 3, 2], {}),
    ([2, 3, 3, 3, 2], {"updates_collections": None}),
    ([2, 3, 3, 3, 2], {"zero_debias_moving_mean": True}),
    ([2, 3, 3, 2], {}),
    ([2, 3, 2], {}),
]


@pytest.mark.parametrize("shape, kwargs", CASES, ids=lambda value: json.dumps(value))
def test_the_conversion_corrects_the_variance_exactly_where_tf1_fused(shape, kwargs) -> None:
    ran = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(shape), json.dumps(kwargs)],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    fused = json.loads(ran.stdout.strip().splitlines()[-1])
    arguments = {name: ast.Constant(value) for name, value in kwargs.items()}
    assert fused == (len(shape) in (exact_bn.fused_ranks("contrib", arguments) or ()))
