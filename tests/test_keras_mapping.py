"""The TF1 -> Keras batch-norm mapping, proven numerically.

Each TF1 call runs in graph mode under tensorflow-cpu==2.12.1 + tf-slim; the Keras layer
migrate-bn maps it to runs eagerly under the newest TensorFlow (Keras 3), from the TF1
run's initial weights, on the same batches. Training-mode outputs after each of five
update steps, the final weights and moving statistics, and the inference-mode output
must agree to 1e-5. The one documented difference: TF1's fused kernel stores a
Bessel-corrected (n/(n-1)) batch variance in the moving variance, Keras 3 the biased one
(bn_semantics.md T12); that case checks the difference has exactly that size.

The newest TensorFlow lives in its own environment: MIGRATE_BN_TF2_PYTHON names its
python (CI creates it). Without it these tests are skipped, unless
MIGRATE_BN_REQUIRE_TF2=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import runtime_oracle as oracle  # tests/conftest.py
from migrate_bn.facts import build
from migrate_bn.keras_mapping import batch_norm_to_keras
from migrate_bn.source import parse

RUNTIME = Path(__file__).resolve().parent / "runtime"
TF2_PYTHON = os.environ.get("MIGRATE_BN_TF2_PYTHON", "")
if not TF2_PYTHON and os.environ.get("MIGRATE_BN_REQUIRE_TF2") == "1":
    raise RuntimeError("MIGRATE_BN_REQUIRE_TF2=1 but MIGRATE_BN_TF2_PYTHON is not set")

pytestmark = [
    pytest.mark.runtime,
    pytest.mark.skipif(not oracle.HAVE_TF, reason=oracle.SKIP_REASON),
    pytest.mark.skipif(not TF2_PYTHON, reason="needs MIGRATE_BN_TF2_PYTHON: a python with the newest tensorflow"),
]

# (TF1 call on `x` with flag `training`, input shape). fused=False where TF1 would take
# the fused kernel, whose variance correction is the documented difference below.
EXACT = {
    "layers_defaults": ("tf.layers.batch_normalization(x, training=training, fused=False)", (16, 6)),
    "layers_momentum_epsilon_center": (
        "tf.layers.batch_normalization(x, momentum=0.9, epsilon=1e-5, center=False, training=training, fused=False)",
        (16, 6)),
    "layers_initializers_conv": (
        "tf.layers.batch_normalization(x, training=training, gamma_initializer=tf.constant_initializer(0.5),"
        " beta_initializer=tf.constant_initializer(0.1), fused=False)", (16, 4, 4, 3)),
    "slim_defaults_conv": ("slim.batch_norm(x, is_training=training, fused=False)", (16, 4, 4, 3)),
    "slim_decay_scale_relu": (
        "slim.batch_norm(x, decay=0.9, scale=True, is_training=training, fused=False, activation_fn=tf.nn.relu)",
        (16, 6)),
    "slim_nchw": ("slim.batch_norm(x, data_format='NCHW', decay=0.8, is_training=training, fused=False)",
                  (16, 3, 4, 4)),
    "slim_param_initializers": (
        "slim.batch_norm(x, param_initializers={'beta': tf.constant_initializer(0.1), "
        "'moving_mean': tf.constant_initializer(0.2), 'moving_variance': tf.constant_initializer(2.0)}, "
        "is_training=training, fused=False)", (16, 6)),
    "slim_in_place_updates": ("slim.batch_norm(x, is_training=training, updates_collections=None, fused=False)",
                              (16, 6)),
}
FUSED = ("tf.layers.batch_normalization(x, training=training)", (16, 4, 4, 3))


def _mapped(tf1_call: str):
    source = f"import tensorflow.compat.v1 as tf\nimport tf_slim as slim\ny = {tf1_call}\n"
    facts = build(parse(source), source)
    (site,) = facts.batch_norm_sites
    keras = batch_norm_to_keras(facts, site)
    assert keras.manual is None, keras.manual
    return keras


def _run_both(tmp_path: Path, tf1_call: str, shape: tuple[int, ...]):
    keras = _mapped(tf1_call)
    rng = np.random.RandomState(0)
    batches = rng.normal(3.0, 2.0, size=(5, *shape)).astype(np.float32)
    test = rng.normal(3.0, 2.0, size=(8, *shape[1:])).astype(np.float32)
    np.savez(tmp_path / "data.npz", batches=batches, test=test)
    case = {"tf1": tf1_call, "constructor": keras.constructor, "activation": keras.activation}
    (tmp_path / "case.json").write_text(json.dumps(case))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, str(RUNTIME / "bn_layer_tf1.py"), "case.json", "data.npz", "tf1.npz"],
                   cwd=tmp_path, check=True, capture_output=True, env=env)
    subprocess.run([TF2_PYTHON, str(RUNTIME / "bn_layer_keras.py"), "case.json", "data.npz", "tf1.npz", "tf2.npz"],
                   cwd=tmp_path, check=True, capture_output=True, env=env)
    return np.load(tmp_path / "tf1.npz"), np.load(tmp_path / "tf2.npz"), keras


@pytest.mark.parametrize("name", sorted(EXACT))
def test_mapping_computes_what_tf1_computed(name: str, tmp_path: Path) -> None:
    tf1, tf2, keras = _run_both(tmp_path, *EXACT[name])
    assert tf2["versions"][0] >= "2.16", "the Keras side must run on Keras 3"
    np.testing.assert_allclose(tf2["train"], tf1["train"], atol=1e-5, rtol=1e-5)
    for key in tf1.files:
        if key.startswith("final/"):
            np.testing.assert_allclose(tf2[key], tf1[key], atol=1e-5, rtol=1e-5, err_msg=key)
    assert sorted(k for k in tf2.files if k.startswith("final/")) == \
        sorted(k for k in tf1.files if k.startswith("final/")), "the same weights, by name"
    np.testing.assert_allclose(tf2["eval"], tf1["eval"], atol=1e-5, rtol=1e-5)


def test_fused_kernel_difference_is_the_documented_bessel_correction(tmp_path: Path) -> None:
    tf1, tf2, _ = _run_both(tmp_path, *FUSED)
    # Training outputs use the batch statistics: identical.
    np.testing.assert_allclose(tf2["train"], tf1["train"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(tf2["final/moving_mean"], tf1["final/moving_mean"], atol=1e-5)
    # The moving variance: TF1 accumulates n/(n-1) times the batch variance Keras uses.
    n = 16 * 4 * 4  # values per channel in a batch
    relative = np.abs(tf1["final/moving_variance"] - tf2["final/moving_variance"]) / tf2["final/moving_variance"]
    assert 0 < relative.max() <= 1.0 / (n - 1) + 1e-6


# TF1 optimizer -> (max |weight difference| allowed after 20 steps). Inexact mappings are
# marked as such by the mapping and measured here against the reference's figures.
OPTIMIZERS = {
    "tf.train.GradientDescentOptimizer(0.05)": 1e-5,
    "tf.train.MomentumOptimizer(0.05, 0.9)": 1e-5,  # constant learning rate: the same
    "tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True)": 1e-5,
    "tf.train.AdamOptimizer(0.1)": 1e-5,
    "tf.train.AdamOptimizer(0.05, beta1=0.8, beta2=0.99, epsilon=1e-6)": 1e-5,
    "tf.train.AdagradOptimizer(0.3)": 1e-5,
    "tf.train.AdadeltaOptimizer(1.0)": 1e-5,
    "tf.train.FtrlOptimizer(0.3)": 1e-5,
}


def _mapped_optimizer(tf1_call: str):
    import ast

    from migrate_bn.keras_mapping import optimizer_to_keras

    source = f"import tensorflow.compat.v1 as tf\noptimizer = {tf1_call}\n"
    facts = build(parse(source), source)
    call = next(node for node in ast.walk(facts.tree) if isinstance(node, ast.Call))
    return optimizer_to_keras(facts, call)


def _optimizer_histories(tmp_path: Path, tf1_call: str):
    mapped = _mapped_optimizer(tf1_call)
    assert mapped.manual is None, mapped.manual
    (tmp_path / "case.json").write_text(json.dumps({"tf1": tf1_call, "keras": mapped.code}))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, str(RUNTIME / "optimizer_tf1.py"), "case.json", "tf1.npz"],
                   cwd=tmp_path, check=True, capture_output=True, env=env)
    subprocess.run([TF2_PYTHON, str(RUNTIME / "optimizer_keras.py"), "case.json", "tf2.npz"],
                   cwd=tmp_path, check=True, capture_output=True, env=env)
    return np.load(tmp_path / "tf1.npz")["history"], np.load(tmp_path / "tf2.npz")["history"], mapped


@pytest.mark.parametrize("tf1_call", sorted(OPTIMIZERS))
def test_optimizer_mapping_keeps_tf1_numerics(tf1_call: str, tmp_path: Path) -> None:
    tf1, tf2, mapped = _optimizer_histories(tmp_path, tf1_call)
    assert np.abs(tf1 - tf2).max() <= OPTIMIZERS[tf1_call], mapped.code
    assert not np.allclose(tf1[0], tf1[-1]), "the optimizer should have moved the weights"


def test_rmsprop_is_reported_inexact_and_differs(tmp_path: Path) -> None:
    tf1, tf2, mapped = _optimizer_histories(tmp_path, "tf.train.RMSPropOptimizer(0.05)")
    assert not mapped.exact and "1.0" in mapped.notes[0]
    assert np.abs(tf1 - tf2).max() > 1e-3  # the slot initialisation difference, as reported
