"""`migrate-bn upgrade` on TF1 model code, proven: the Keras 3 model computes what the TF1
model function computed, from the TF1 checkpoint.

Each fixtures/model_code case (code of our own writing, in the ways TF1 projects wrote
models) is a module with a model function, `case.json` (the function, its arguments, the
input shape) and `tf2.py`, what `upgrade` makes of it. The TF1 function runs under
tensorflow-cpu 2.12.1 (+ tf-slim) in graph mode with a tensor training flag
(tests/runtime/model_tf1.py): checkpoint after initialisation, inference output, 5
SGD steps run with the update ops, inference output and checkpoint after.
The converted model runs under the newest TensorFlow with Keras 3 and neither tf_keras
nor tf-slim (tests/runtime/model_tf2.py): the initial checkpoint converted by the code
behind `ckpt-convert` and read with `assert_consumed()` (every value used, every weight
filled), then the same computation. Inference outputs, the training-mode outputs of every
step and every variable at the end (moving means and variances included, and renorm's and a
zero-debiased mean's own variables, by `checkpoints.layer_weight`) agree to 1e-5
relative (1e-5 absolute for outputs after training began); what the converter did not map is listed, and is only the optimizer's slots.
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
from migrate_bn.checkpoints import layer_weight
from migrate_bn.upgrade import upgrade_source

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "tests" / "runtime"
CASES = sorted((ROOT / "fixtures" / "model_code").glob("*/tf1.py"))

pytestmark = oracle.tf1_marks()


def run(python: str, *arguments: str) -> None:
    done = subprocess.run([python, *arguments], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_keras_3_model_computes_what_the_tf1_model_function_computed(case: Path, tmp_path: Path,
                                                                      tf2_python: str) -> None:
    import tensorflow as tf

    description = case.parent / "case.json"
    tf1_out, tf2_out = tmp_path / "tf1", tmp_path / "tf2"
    tf1_out.mkdir()
    tf2_out.mkdir()
    run(sys.executable, str(RUNTIME / "model_tf1.py"), str(case), str(description), str(tf1_out))
    result = upgrade_source(case.read_text())
    assert result.skipped is None and result.text is not None
    program, names = tf2_out / "model.py", tf2_out / "names.json"
    program.write_text(result.text)
    names.write_text(json.dumps(result.name_map))
    run(tf2_python, str(RUNTIME / "model_tf2.py"), str(program), str(description), str(names), str(tf1_out),
        str(tf2_out))
    tf1, tf2 = (json.loads((out / "results.json").read_text()) for out in (tf1_out, tf2_out))
    np.testing.assert_allclose(tf2["before"], tf1["before"], rtol=1e-5, atol=1e-6)
    # After training steps, outputs near 0 carry the float sums of training taken in
    # another order: measured 1.5e-6 absolute at most (finetune_frozen_bn).
    assert len(tf2["steps"]) == len(tf1["steps"]) == 5
    for step, (keras, tf1_step) in enumerate(zip(tf2["steps"] + [tf2["after"]], tf1["steps"] + [tf1["after"]])):
        np.testing.assert_allclose(keras, tf1_step, rtol=1e-5, atol=1e-5, err_msg=f"step {step}")
    reader = tf.train.load_checkpoint(str(tf1_out / "final" / "ckpt"))
    compared = 0
    for name in reader.get_variable_to_shape_map():
        found = layer_weight(name)
        if found is None:
            continue
        scope, weight = found
        compared += 1
        # Kernels after 5 steps: float sums in another order, up to 3e-5 relative on tiny entries.
        atol = 1e-5 if weight in ("kernel", "bias", "gamma", "beta") else 1e-6
        np.testing.assert_allclose(tf2["weights"][f"{scope}/{weight}"], reader.get_tensor(name),
                                   rtol=1e-5, atol=atol, err_msg=name)
    assert compared == len(tf2["weights"])  # every Keras weight is a TF1 variable
    unused = [line for line in tf2["lines"] if line.startswith("not converted:")]
    assert all("optimizer slot" in line for line in unused), unused
