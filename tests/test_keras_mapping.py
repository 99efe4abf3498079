"""The TF1 -> Keras batch-norm mapping, proven numerically.

Each TF1 call runs in graph mode under tensorflow-cpu==2.12.1 + tf-slim; the Keras layer
migrate-bn maps it to runs eagerly under the newest TensorFlow (Keras 3), on the same
batches. The Keras layer initialises itself from the initializers the mapping wrote, so
every weight's initial value must be TF1's; then the training-mode outputs after each of
five update steps, the final weights and moving statistics, the inference-mode output,
the regularization loss, what each weight's constraint does and which weights train
must agree to 1e-5. The one documented difference: TF1's fused kernel stores a
Bessel-corrected (n/(n-1)) batch variance in the moving variance, Keras 3 the biased one
(bn_semantics.md T12); that case predicts TF1's moving variance from Keras's and that
correction, to 1e-5.

All cases run in one TF1 process and one TF2 process (module fixture). The newest
TensorFlow lives in its own environment: the `tf2_python` fixture (tests/conftest.py).
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

pytestmark = oracle.tf1_marks()

# name -> (TF1 call on `x` with flag `training`, input shape). fused=False where TF1
# would take the fused kernel, whose variance correction is the documented difference
# below. Between them the cases pass every argument the mapping maps, by keyword and by
# position, and leave out every default it writes out.
EXACT = {
    "layers_defaults": ("tf.layers.batch_normalization(x, training=training, fused=False)", (16, 6)),
    "layers_momentum_epsilon_center": (
        "tf.layers.batch_normalization(x, momentum=0.9, epsilon=1e-5, center=False, training=training, fused=False)",
        (16, 6)),
    "layers_initializers_conv": (
        "tf.layers.batch_normalization(x, training=training, gamma_initializer=tf.constant_initializer(0.5),"
        " beta_initializer=tf.constant_initializer(0.1), fused=False)", (16, 4, 4, 3)),
    "layers_initializer_spellings": (
        "tf.layers.batch_normalization(x, beta_initializer=tf.ones_initializer(), "
        "gamma_initializer=tf.initializers.constant(2.0), moving_mean_initializer=tf.initializers.ones(), "
        "moving_variance_initializer=tf.constant_initializer(3.0), training=training)", (16, 6)),
    "layers_zeros_spellings": (
        "tf.layers.batch_normalization(x, beta_initializer=tf.zeros_initializer(), "
        "moving_mean_initializer=tf.initializers.zeros(), gamma_initializer=tf.constant_initializer(1.5), "
        "training=training)", (16, 6)),
    "layers_positional": (
        "tf.layers.batch_normalization(x, -1, 0.8, 1e-2, True, False, tf.constant_initializer(0.3), tf.ones_initializer(), "
        "tf.constant_initializer(0.4), tf.constant_initializer(1.7), training=training)", (16, 6)),
    "layers_axis_1": ("tf.layers.batch_normalization(x, axis=1, training=training, fused=False)", (16, 3, 4, 4)),
    "layers_regularizers_constraints": (
        "tf.layers.batch_normalization(x, beta_regularizer=tf.keras.regularizers.l2(0.1), "
        "gamma_regularizer=tf.keras.regularizers.l1(0.3), beta_constraint=tf.keras.constraints.NonNeg(), "
        "gamma_constraint=tf.keras.constraints.MaxNorm(1.0), beta_initializer=tf.constant_initializer(0.5), "
        "training=training)", (16, 6)),
    "layers_named": ("tf.layers.batch_normalization(x, name='bn_7', training=training)", (16, 6)),
    "slim_defaults_conv": ("slim.batch_norm(x, is_training=training, fused=False)", (16, 4, 4, 3)),
    "slim_decay_scale_epsilon_relu": (
        "slim.batch_norm(x, decay=0.9, scale=True, epsilon=0.01, is_training=training, fused=False, "
        "activation_fn=tf.nn.relu, param_initializers={'gamma': tf.constant_initializer(4.0)})", (16, 6)),
    "slim_relu6": ("slim.batch_norm(x, activation_fn=tf.nn.relu6, param_initializers={'beta': "
                   "tf.constant_initializer(5.5)}, is_training=training, fused=False)", (16, 6)),
    "slim_nchw": ("slim.batch_norm(x, data_format='NCHW', decay=0.8, is_training=training, fused=False)",
                  (16, 3, 4, 4)),
    "slim_param_initializers": (
        "slim.batch_norm(x, scale=True, param_initializers={'beta': tf.constant_initializer(0.1), "
        "'gamma': tf.constant_initializer(0.7), "
        "'moving_mean': tf.constant_initializer(0.2), 'moving_variance': tf.constant_initializer(2.0)}, "
        "is_training=training, fused=False)", (16, 6)),
    "slim_param_regularizers": (
        "slim.batch_norm(x, scale=True, param_regularizers={'beta': tf.keras.regularizers.l2(0.1), "
        "'gamma': tf.keras.regularizers.l1(0.3)}, param_initializers={'beta': tf.constant_initializer(0.5)}, "
        "is_training=training, fused=False)", (16, 6)),
    # No is_training: slim's default True, written out by the mapping, must hold in both modes.
    "slim_default_training": ("slim.batch_norm(x, fused=False)", (16, 6)),
    "slim_in_place_updates": ("slim.batch_norm(x, is_training=training, updates_collections=None, fused=False)",
                              (16, 6)),
    "slim_center_false_scope": ("slim.batch_norm(x, center=False, scale=True, scope='bn_block', "
                                "is_training=training, fused=False)", (16, 6)),
    "slim_positional": ("slim.batch_norm(x, 0.9, False, True, 0.01, None, None, None, tf.GraphKeys.UPDATE_OPS, "
                        "training, fused=False)", (16, 6)),
}
# trainable=False: TF1 freezes the weights but still trains with batch statistics; Keras
# runs such a layer in inference mode (BN006; the mapping notes it). What must agree:
# the weights, their initial values and that none of them trains.
FROZEN = {
    "layers_trainable_false": ("tf.layers.batch_normalization(x, trainable=False, training=training)", (16, 6)),
    "slim_trainable_false": ("slim.batch_norm(x, scale=True, trainable=False, is_training=training, fused=False)", (16, 6)),
}
# The scope a named layer's variables live under is the Keras layer's name.
NAMED = {"layers_named": "bn_7", "slim_center_false_scope": "bn_block"}
FUSED = {"fused_conv": ("tf.layers.batch_normalization(x, training=training)", (16, 4, 4, 3))}
FUSED_MOMENTUM, FUSED_VALUES_PER_CHANNEL, STEPS = 0.99, 16 * 4 * 4, 5


def _mapped(tf1_call: str):
    source = f"import tensorflow.compat.v1 as tf\nimport tf_slim as slim\ny = {tf1_call}\n"
    facts = build(parse(source), source)
    (site,) = facts.batch_norm_sites
    keras = batch_norm_to_keras(facts, site)
    assert keras.manual is None, keras.manual
    return keras


def _run(python: str, script: str, *arguments: str) -> None:
    done = subprocess.run([python, str(RUNTIME / script), *arguments], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def layer_runs(tmp_path_factory, tf2_python: str) -> dict:
    """Every case, run once on each side: {name: (TF1 results, Keras results, mapping)}."""
    directory = tmp_path_factory.mktemp("bn_layers")
    cases, mapped = [], {}
    rng = np.random.RandomState(0)
    for name, (tf1_call, shape) in {**EXACT, **FROZEN, **FUSED}.items():
        mapped[name] = keras = _mapped(tf1_call)
        batches = rng.normal(3.0, 2.0, size=(STEPS, *shape)).astype(np.float32)
        test = rng.normal(3.0, 2.0, size=(8, *shape[1:])).astype(np.float32)
        np.savez(directory / f"{name}.data.npz", batches=batches, test=test)
        cases.append({"name": name, "tf1": tf1_call, "constructor": keras.constructor,
                      "activation": keras.activation, "training": keras.training})
    (directory / "cases.json").write_text(json.dumps(cases))
    _run(sys.executable, "bn_layer_tf1.py", str(directory / "cases.json"), str(directory))
    _run(tf2_python, "bn_layer_keras.py", str(directory / "cases.json"), str(directory))
    return {name: (np.load(directory / f"{name}.tf1.npz"), np.load(directory / f"{name}.tf2.npz"), mapped[name])
            for name in mapped}


def _keys(results, prefix: str) -> list[str]:
    return sorted(key for key in results.files if key.startswith(prefix))


def _assert_same_weights_and_initial_values(tf1, tf2) -> None:
    assert oracle.version_tuple(str(tf2["versions"][1])) >= (3,), "the Keras side must run on Keras 3"
    assert _keys(tf2, "init/") == _keys(tf1, "init/"), "the same weights, by name"
    for key in _keys(tf1, "init/"):
        np.testing.assert_allclose(tf2[key], tf1[key], atol=1e-6, rtol=1e-6, err_msg=key)
    assert list(tf2["trainable"]) == list(tf1["trainable"]), "the same weights train"


@pytest.mark.parametrize("name", sorted(EXACT))
def test_mapping_computes_what_tf1_computed(name: str, layer_runs: dict) -> None:
    tf1, tf2, _ = layer_runs[name]
    _assert_same_weights_and_initial_values(tf1, tf2)
    np.testing.assert_allclose(tf2["train"], tf1["train"], atol=1e-5, rtol=1e-5)
    for key in _keys(tf1, "final/"):
        np.testing.assert_allclose(tf2[key], tf1[key], atol=1e-5, rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(tf2["eval"], tf1["eval"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(tf2["regularization"], tf1["regularization"], atol=1e-6, rtol=1e-5)
    assert _keys(tf2, "constraint/") == _keys(tf1, "constraint/"), "the same weights are constrained"
    for key in _keys(tf1, "constraint/"):
        np.testing.assert_allclose(tf2[key], tf1[key], atol=1e-6, err_msg=key)
    if name in NAMED:
        assert list(tf1["scope"]) == list(tf2["scope"]) == [NAMED[name]]


def test_the_cases_prove_something(layer_runs: dict) -> None:
    """The cases would see a lost argument: initializers differ from Keras's defaults,
    relu6 clips, regularizers and constraints are at work."""
    def tf1(name):
        return layer_runs[name][0]
    assert tf1("slim_relu6")["train"].max() == pytest.approx(6.0)
    assert tf1("slim_decay_scale_epsilon_relu")["train"].min() == 0.0
    assert tf1("slim_decay_scale_epsilon_relu")["train"].max() > 6.0  # relu, not relu6
    assert tf1("layers_regularizers_constraints")["regularization"] > 0.1
    assert tf1("slim_param_regularizers")["regularization"] > 0.1
    assert _keys(tf1("layers_regularizers_constraints"), "constraint/") == ["constraint/beta", "constraint/gamma"]
    assert not np.allclose(tf1("layers_regularizers_constraints")["constraint/beta"],
                           tf1("layers_regularizers_constraints")["constraint/gamma"])
    assert tf1("layers_initializers_conv")["init/beta"][0] != tf1("layers_initializers_conv")["init/gamma"][0]


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_layer_keeps_its_weights_frozen(name: str, layer_runs: dict) -> None:
    tf1, tf2, keras = layer_runs[name]
    _assert_same_weights_and_initial_values(tf1, tf2)
    assert list(tf1["trainable"]) == []
    assert any("trainable=False" in note for note in keras.notes)


def test_fused_kernel_difference_is_the_documented_bessel_correction(layer_runs: dict) -> None:
    """TF1's moving variance is Keras's plus 1/(n-1) of what the batches added to it:
    m_TF1 = m_Keras + (m_Keras - d**steps * m_0) / (n - 1), to 1e-5; nothing else differs."""
    tf1, tf2, _ = layer_runs["fused_conv"]
    _assert_same_weights_and_initial_values(tf1, tf2)
    # Training outputs use the batch statistics: identical.
    np.testing.assert_allclose(tf2["train"], tf1["train"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(tf2["final/moving_mean"], tf1["final/moving_mean"], atol=1e-5)
    keras, initial = tf2["final/moving_variance"], tf2["init/moving_variance"]
    added_by_batches = keras - FUSED_MOMENTUM ** STEPS * initial
    predicted = keras + added_by_batches / (FUSED_VALUES_PER_CHANNEL - 1)
    np.testing.assert_allclose(tf1["final/moving_variance"], predicted, rtol=1e-5)
    assert np.all(tf1["final/moving_variance"] > keras * (1 + 1e-4)), "the correction is there"


# TF1 optimizer -> the gradient scales its weights are compared at. At scale 1 the
# gradients are about 1; at 1e-8 they are as small as Adam's and RMSProp's epsilon, so a
# mapping that loses TF1's epsilon (Adam 1e-8, RMSProp 1e-10; Keras 1e-7) moves the
# weights differently. After each of 20 steps the weights must agree to 1e-5.
TINY = 1e-8
OPTIMIZERS = {
    "tf.train.GradientDescentOptimizer(0.05)": (1.0,),
    "tf.train.MomentumOptimizer(0.05, 0.9)": (1.0,),  # constant learning rate: the same
    "tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True)": (1.0,),
    "tf.train.AdamOptimizer(0.1)": (1.0, TINY),
    "tf.train.AdamOptimizer(0.05, beta1=0.8, beta2=0.99, epsilon=1e-6)": (1.0, TINY),
    "tf.train.AdamOptimizer()": (1.0,),
    "tf.train.AdamOptimizer(0.1, epsilon=1e-7)": (TINY,),  # Keras's default, written out
    "tf.train.AdagradOptimizer(0.3)": (1.0,),
    "tf.train.AdagradOptimizer(0.3, initial_accumulator_value=0.5)": (1.0,),
    "tf.train.AdadeltaOptimizer(1.0)": (1.0,),
    "tf.train.AdadeltaOptimizer(1.0, rho=0.8, epsilon=1e-4)": (1.0,),
    "tf.train.FtrlOptimizer(0.3)": (1.0,),
    "tf.train.FtrlOptimizer(0.3, l1_regularization_strength=0.01, l2_regularization_strength=0.02)": (1.0,),
    # RMSProp runs with its mean-square slot started at 0 as Keras starts it (the one
    # reported difference, checked below); then it must agree exactly.
    "tf.train.RMSPropOptimizer(0.05)": (1.0, TINY),
    "tf.train.RMSPropOptimizer(0.05, decay=0.8, momentum=0.5, epsilon=1e-6, centered=True)": (1.0,),
}
RMSPROP_AS_WRITTEN = "tf.train.RMSPropOptimizer(0.05)"


def _mapped_optimizer(tf1_call: str):
    import ast

    from migrate_bn.keras_mapping import optimizer_to_keras

    source = f"import tensorflow.compat.v1 as tf\noptimizer = {tf1_call}\n"
    facts = build(parse(source), source)
    call = next(node for node in ast.walk(facts.tree) if isinstance(node, ast.Call))
    mapped = optimizer_to_keras(facts, call)
    assert mapped.manual is None, mapped.manual
    return mapped


@pytest.fixture(scope="module")
def optimizer_runs(tmp_path_factory, tf2_python: str) -> dict:
    """{(TF1 call, gradient scale, slot from zero): (TF1 weights per step, Keras's, mapping)}."""
    directory = tmp_path_factory.mktemp("optimizers")
    runs = [(call, scale, "RMSProp" in call) for call, scales in OPTIMIZERS.items() for scale in scales]
    runs.append((RMSPROP_AS_WRITTEN, 1.0, False))
    cases = [{"name": f"case{index}", "tf1": call, "keras": _mapped_optimizer(call).code, "gradient_scale": scale,
              "mean_square_from_zero": from_zero} for index, (call, scale, from_zero) in enumerate(runs)]
    (directory / "cases.json").write_text(json.dumps(cases))
    _run(sys.executable, "optimizer_tf1.py", str(directory / "cases.json"), str(directory))
    _run(tf2_python, "optimizer_keras.py", str(directory / "cases.json"), str(directory))
    return {run: (np.load(directory / f"{case['name']}.tf1.npz")["history"],
                  np.load(directory / f"{case['name']}.tf2.npz")["history"], _mapped_optimizer(run[0]))
            for run, case in zip(runs, cases)}


@pytest.mark.parametrize("tf1_call,scale", [(call, scale) for call, scales in OPTIMIZERS.items() for scale in scales])
def test_optimizer_mapping_keeps_tf1_numerics(tf1_call: str, scale: float, optimizer_runs: dict) -> None:
    tf1, tf2, mapped = optimizer_runs[(tf1_call, scale, "RMSProp" in tf1_call)]
    np.testing.assert_allclose(tf2, tf1, atol=1e-5, rtol=1e-5, err_msg=mapped.code)
    assert np.abs(tf1[0] - tf1[-1]).max() > 1e-3, "the optimizer should have moved the weights"


def test_rmsprop_is_reported_inexact_and_differs_by_its_slot_only(optimizer_runs: dict) -> None:
    """As written, TF1 starts the mean-square slot at 1.0: the mapping says so, and the
    weights differ; with the slot started at 0 (above) they agree to 1e-5."""
    tf1, tf2, mapped = optimizer_runs[(RMSPROP_AS_WRITTEN, 1.0, False)]
    assert not mapped.exact
    assert mapped.notes == ["TF1 starts the mean-square slot at 1.0, Keras at 0: the first steps differ"]
    assert np.abs(tf1 - tf2).max() > 1e-3
    from_zero, _, _ = optimizer_runs[(RMSPROP_AS_WRITTEN, 1.0, True)]
    np.testing.assert_allclose(tf2, from_zero, atol=1e-5, rtol=1e-5)


def test_epsilon_is_visible_at_the_tiny_scale(optimizer_runs: dict) -> None:
    """The tiny-gradient runs tell TF1's epsilon from Keras's: TF1's Adam with epsilon
    1e-7 moves the weights differently from its default 1e-8."""
    tf1_default, _, _ = optimizer_runs[("tf.train.AdamOptimizer(0.1)", TINY, False)]
    keras_default, _, _ = optimizer_runs[("tf.train.AdamOptimizer(0.1, epsilon=1e-7)", TINY, False)]
    assert np.abs(tf1_default - keras_default).max() > 1e-2
