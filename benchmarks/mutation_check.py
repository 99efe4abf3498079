"""Do the tests catch a wrong default, argument map or fix scope? A mutation check.

Each named mutation below breaks one thing a user relies on (a TF1 default the mapping
writes out, an entry of an argument map, the scope of a fix). Each is applied alone, in
a copy of the checkout, and the tests that prove that behaviour are run on the copy:
a mutation is *killed* when they fail, *survived* when they pass. A mutation whose text
is no longer in its file is *stale* (the code moved on: update the list).

    python benchmarks/mutation_check.py                 # every mutation (30 to 60 minutes)
    python benchmarks/mutation_check.py --only slim     # those whose name contains "slim"
    python benchmarks/mutation_check.py --list

Needs the test environment (`pip install -e ".[test,tf1]"`) and the newest TensorFlow:
MIGRATE_BN_TF2_PYTHON, or the checkout's .venv-tf2 built by the tests. Exit code 0 when
every mutation is killed. Not part of `pytest`: it runs the runtime proofs once per
mutation. The score is recorded in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-tf2", ".venv-tf2.lock", "__pycache__", "*.pyc",
                                     ".pytest_cache", ".hypothesis", ".migrate_bn_cache", "*.egg-info", "build")
TFAPI, MAPPING, BN001 = "migrate_bn/tfapi.py", "migrate_bn/keras_mapping.py", "transforms/bn001_missing_update_ops.py"

# What proves each kind of behaviour (pytest arguments, run in the copy).
# (Selected by test function: the batch-norm cases' ids hold words like "epsilon".)
BATCH_NORM_PROOF = ("tests/test_keras_mapping.py", "-k", "mapping_computes or cases_prove or frozen_layer or fused_kernel")
OPTIMIZER_PROOF = ("tests/test_keras_mapping.py", "-k", "optimizer_mapping or rmsprop_is or epsilon_is_visible")


@dataclass(frozen=True)
class Mutation:
    name: str
    kind: str  # "default" | "argument map" | "fix scope"
    edits: tuple[tuple[str, str, str], ...]  # (file, text, its replacement); each text occurs once
    proof: tuple[str, ...]


def dropped(entries: str, name: str, without: str) -> tuple[tuple[str, str, str], ...]:
    """An argument map loses an entry (`entries` become `without`), and the argument is
    silently dropped instead."""
    return ((TFAPI, entries, without),
            (TFAPI, 'BN_DROPPED = frozenset({"fused", ', f'BN_DROPPED = frozenset({{"{name}", "fused", '))


MUTATIONS = (
    # TF1 defaults Keras does not share, written out by the mapping.
    Mutation("slim decay 0.999 not written", "default",
             ((TFAPI, 'SLIM_BN_EXPLICIT_DEFAULTS = {"momentum": "0.999", "scale": "False"}',
               'SLIM_BN_EXPLICIT_DEFAULTS = {"scale": "False"}'),), BATCH_NORM_PROOF),
    Mutation("slim scale=False not written", "default",
             ((TFAPI, 'SLIM_BN_EXPLICIT_DEFAULTS = {"momentum": "0.999", "scale": "False"}',
               'SLIM_BN_EXPLICIT_DEFAULTS = {"momentum": "0.999"}'),), BATCH_NORM_PROOF),
    Mutation("Adam epsilon 1e-08 not written", "default",
             ((TFAPI, '{"learning_rate": "0.001", "epsilon": "1e-08"}, None),',
               '{"learning_rate": "0.001"}, None),'),), OPTIMIZER_PROOF),
    Mutation("RMSProp epsilon 1e-10 not written", "default",
             ((TFAPI, '{"rho": "0.9", "epsilon": "1e-10"},', '{"rho": "0.9"},'),), OPTIMIZER_PROOF),
    Mutation("Adadelta epsilon 1e-08 not written", "default",
             ((TFAPI, '{"learning_rate": "0.001", "rho": "0.95", "epsilon": "1e-08"}, None),',
               '{"learning_rate": "0.001", "rho": "0.95"}, None),'),), OPTIMIZER_PROOF),
    # Argument maps: batch norm.
    Mutation("tf.layers beta/gamma initializers swapped", "argument map",
             ((TFAPI, '"beta_initializer": "beta_initializer", "gamma_initializer": "gamma_initializer",',
               '"beta_initializer": "gamma_initializer", "gamma_initializer": "beta_initializer",'),),
             BATCH_NORM_PROOF),
    Mutation("tf.layers moving mean/variance initializers swapped", "argument map",
             ((TFAPI, '"moving_mean_initializer": "moving_mean_initializer",\n'
                      '    "moving_variance_initializer": "moving_variance_initializer",',
               '"moving_mean_initializer": "moving_variance_initializer",\n'
               '    "moving_variance_initializer": "moving_mean_initializer",'),), BATCH_NORM_PROOF),
    Mutation("tf.layers regularizers swapped", "argument map",
             ((TFAPI, '"beta_regularizer": "beta_regularizer", "gamma_regularizer": "gamma_regularizer",',
               '"beta_regularizer": "gamma_regularizer", "gamma_regularizer": "beta_regularizer",'),),
             BATCH_NORM_PROOF),
    Mutation("tf.layers constraints swapped", "argument map",
             ((TFAPI, '"beta_constraint": "beta_constraint", "gamma_constraint": "gamma_constraint",',
               '"beta_constraint": "gamma_constraint", "gamma_constraint": "beta_constraint",'),),
             BATCH_NORM_PROOF),
    Mutation("tf.layers name dropped", "argument map", dropped('"name": "name", ', "name", ""), BATCH_NORM_PROOF),
    Mutation("tf.layers momentum/epsilon positions swapped", "argument map",
             ((TFAPI, '"inputs", "axis", "momentum", "epsilon", "center",',
               '"inputs", "axis", "epsilon", "momentum", "center",'),), BATCH_NORM_PROOF),
    Mutation("slim decay mapped to renorm_momentum", "argument map",
             ((TFAPI, '"decay": "momentum", "center": "center"', '"decay": "renorm_momentum", "center": "center"'),),
             BATCH_NORM_PROOF),
    Mutation("slim epsilon dropped", "argument map",
             dropped('"scale": "scale", "epsilon": "epsilon",\n    "trainable"', "epsilon", '"scale": "scale",\n    "trainable"'),
             BATCH_NORM_PROOF),
    Mutation("slim scope not mapped to name", "argument map",
             dropped('"trainable": "trainable", "scope": "name", "renorm"', "scope", '"trainable": "trainable", "renorm"'),
             BATCH_NORM_PROOF),
    Mutation("slim center/scale positions swapped", "argument map",
             ((TFAPI, '"inputs", "decay", "center", "scale", "epsilon",', '"inputs", "decay", "scale", "center", "epsilon",'),),
             BATCH_NORM_PROOF),
    Mutation("slim param_initializers beta/gamma swapped", "argument map",
             ((TFAPI, 'SLIM_PARAM_INITIALIZERS = {"beta": "beta_initializer", "gamma": "gamma_initializer",',
               'SLIM_PARAM_INITIALIZERS = {"beta": "gamma_initializer", "gamma": "beta_initializer",'),),
             BATCH_NORM_PROOF),
    Mutation("slim param_initializers moving mean/variance swapped", "argument map",
             ((TFAPI, '"moving_mean": "moving_mean_initializer",\n'
                      '                           "moving_variance": "moving_variance_initializer"}',
               '"moving_mean": "moving_variance_initializer",\n'
               '                           "moving_variance": "moving_mean_initializer"}'),), BATCH_NORM_PROOF),
    Mutation("slim param_regularizers swapped", "argument map",
             ((TFAPI, 'SLIM_PARAM_REGULARIZERS = {"beta": "beta_regularizer", "gamma": "gamma_regularizer"}',
               'SLIM_PARAM_REGULARIZERS = {"beta": "gamma_regularizer", "gamma": "beta_regularizer"}'),),
             BATCH_NORM_PROOF),
    Mutation("slim NCHW not mapped to axis=1", "argument map",
             ((MAPPING, 'keywords["axis"] = "1"', 'pass'),), BATCH_NORM_PROOF),
    Mutation("Constant initializer loses its value", "argument map",
             ((MAPPING, 'return f"tf.keras.initializers.Constant({facts.segment(node.args[0])})"',
               'return "tf.keras.initializers.Constant()"'),), BATCH_NORM_PROOF),
    Mutation("zeros/ones initializers swapped", "argument map",
             ((TFAPI, '"tensorflow.zeros_initializer": "\'zeros\'", "tensorflow.ones_initializer": "\'ones\'",',
               '"tensorflow.zeros_initializer": "\'ones\'", "tensorflow.ones_initializer": "\'zeros\'",'),),
             BATCH_NORM_PROOF),
    Mutation("tf.initializers.zeros/ones swapped", "argument map",
             ((TFAPI, '"tensorflow.initializers.zeros": "\'zeros\'", "tensorflow.initializers.ones": "\'ones\'",',
               '"tensorflow.initializers.zeros": "\'ones\'", "tensorflow.initializers.ones": "\'zeros\'",'),),
             BATCH_NORM_PROOF),
    Mutation("relu6 loses max_value=6", "argument map",
             ((TFAPI, '"tf.keras.layers.ReLU(max_value=6.0)"', '"tf.keras.layers.ReLU()"'),), BATCH_NORM_PROOF),
    Mutation("relu becomes relu6", "argument map",
             ((TFAPI, '"tensorflow.nn.relu": "tf.keras.layers.ReLU()"',
               '"tensorflow.nn.relu": "tf.keras.layers.ReLU(max_value=6.0)"'),), BATCH_NORM_PROOF),
    # Argument maps: optimizers.
    Mutation("Adam beta1/beta2 swapped", "argument map",
             ((TFAPI, '"beta1": "beta_1", "beta2": "beta_2"', '"beta1": "beta_2", "beta2": "beta_1"'),),
             OPTIMIZER_PROOF),
    Mutation("RMSProp decay/momentum swapped", "argument map",
             ((TFAPI, '"decay": "rho", "momentum": "momentum",', '"decay": "momentum", "momentum": "rho",'),),
             OPTIMIZER_PROOF),
    Mutation("Momentum use_nesterov dropped", "argument map",
             ((TFAPI, ', "use_nesterov": "nesterov"},', '},'),
              (TFAPI, 'OPTIMIZER_DROPPED = frozenset({"use_locking",', 'OPTIMIZER_DROPPED = frozenset({"use_nesterov", "use_locking",')),
             OPTIMIZER_PROOF),
    Mutation("Adagrad initial_accumulator_value dropped", "argument map",
             ((TFAPI, '{"learning_rate": "learning_rate", "initial_accumulator_value": "initial_accumulator_value"},',
               '{"learning_rate": "learning_rate"},'),
              (TFAPI, 'OPTIMIZER_DROPPED = frozenset({"use_locking",',
               'OPTIMIZER_DROPPED = frozenset({"initial_accumulator_value", "use_locking",')), OPTIMIZER_PROOF),
    Mutation("Ftrl l1/l2 strengths swapped", "argument map",
             ((TFAPI, '"l1_regularization_strength": "l1_regularization_strength",\n'
                      '                       "l2_regularization_strength": "l2_regularization_strength",',
               '"l1_regularization_strength": "l2_regularization_strength",\n'
               '                       "l2_regularization_strength": "l1_regularization_strength",'),),
             OPTIMIZER_PROOF),
    # The scope of fixes.
    Mutation("BN001 runs every update op but the last", "fix scope",
             ((TFAPI, '"{tf}.control_dependencies({v1}get_collection({v1}GraphKeys.UPDATE_OPS))"',
               '"{tf}.control_dependencies({v1}get_collection({v1}GraphKeys.UPDATE_OPS)[:-1])"'),),
             ("tests/test_runtime.py", "-k", "moving_statistics")),
    Mutation("BN001 gives each GAN network every network's updates", "fix scope",
             ((BN001, "return own[0] if len(own) == 1 else None", "return None"),),
             ("tests/test_runtime_repositories.py", "-k", "gan")),
    Mutation("BN004 flag defaults to training", "fix scope",
             ((TFAPI, 'placeholder_with_default(False, shape=(), name="is_training")',
               'placeholder_with_default(True, shape=(), name="is_training")'),),
             ("tests/test_runtime.py", "-k", "bn004")),
    Mutation("slim is_training defaults to False", "default",
             ((TFAPI, 'display="tf.contrib.layers.batch_norm", family="contrib", training_kw="is_training", '
                      'training_pos=9,\n    default_training=True,',
               'display="tf.contrib.layers.batch_norm", family="contrib", training_kw="is_training", '
               'training_pos=9,\n    default_training=False,'),), BATCH_NORM_PROOF),
)


def tf2_python() -> str:
    python = os.environ.get("MIGRATE_BN_TF2_PYTHON") or str(CHECKOUT / ".venv-tf2" / "bin" / "python")
    if not Path(python).exists():
        sys.exit(f"no newest-TensorFlow python: set MIGRATE_BN_TF2_PYTHON or run the tests once ({python})")
    return python


def run(mutation: Mutation, workspace: Path, python: str) -> tuple[str, float]:
    """Apply `mutation` to a fresh copy of the checkout, run its proof there: the verdict
    and the seconds it took."""
    copy = workspace / "checkout"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(CHECKOUT, copy, ignore=COPY_IGNORE)
    # Installed editable, transforms/ maps to migrate_bn.transforms; the copy gets the
    # same layout so that the import finds the copy's own code (PYTHONPATH below).
    (copy / "migrate_bn" / "transforms").symlink_to(copy / "transforms", target_is_directory=True)
    for file, text, replacement in mutation.edits:
        path = copy / file
        source = path.read_text()
        if source.count(text) != 1:
            return "stale", 0.0
        path.write_text(source.replace(text, replacement))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutation.proof],
                          cwd=copy, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(copy), "MIGRATE_BN_TF2_PYTHON": python,
                               "MIGRATE_BN_REQUIRE_TF": "1", "MIGRATE_BN_REQUIRE_TF2": "1"})
    verdict = {0: "survived", 1: "killed"}.get(done.returncode, f"error (pytest exit {done.returncode})")
    if verdict.startswith("error"):
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return verdict, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the mutations whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    arguments = parser.parse_args()
    chosen = [m for m in MUTATIONS if arguments.only in m.name]
    if arguments.list:
        for mutation in chosen:
            print(f"{mutation.kind:13} {mutation.name}")
        return 0
    python = tf2_python()
    verdicts = {}
    with tempfile.TemporaryDirectory(prefix="migrate-bn-mutation-") as workspace:
        for mutation in chosen:
            verdict, seconds = run(mutation, Path(workspace), python)
            verdicts[mutation.name] = verdict
            print(f"{verdict:9} {seconds:6.0f} s  {mutation.kind:13} {mutation.name}", flush=True)
    killed = sum(verdict == "killed" for verdict in verdicts.values())
    print(f"{killed}/{len(verdicts)} mutations killed")
    return 0 if killed == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
