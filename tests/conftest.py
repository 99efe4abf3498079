"""Shared test set-up.

- Make tests/runtime/oracle.py importable as `runtime_oracle` and tests/programs.py as
  `test_programs`: with --import-mode=importlib the tests directory is not on sys.path.
- `tf2_python`: the python of an environment with the newest TensorFlow (Keras 3), for
  the TF2 side of the mapping and upgrade proofs. MIGRATE_BN_TF2_PYTHON names one;
  without it the first test that needs it builds one, once, in `.venv-tf2` at the top of
  the checkout (ignored by git), so `pytest` alone runs every proof.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

for _name, _path in (("runtime_oracle", Path(__file__).parent / "runtime" / "oracle.py"),
                     ("test_programs", Path(__file__).parent / "programs.py")):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, _path)
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)

import runtime_oracle as oracle  # noqa: E402

TF2_VENV = oracle.CHECKOUT / ".venv-tf2"
# What the newest-TensorFlow environment holds: pip resolves the newest tensorflow-cpu.
TF2_PACKAGES = ("tensorflow-cpu", "numpy")
# pip gives up on an unreachable index after this long, instead of hanging.
PIP_NETWORK = ("--timeout", "20", "--retries", "1")
PROVISION_TIMEOUT = 1800
KERAS_VERSION = "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import keras, tensorflow; print(keras.__version__)"


def _unavailable(reason: str):
    """No TF2 environment: a failure when CI requires one, a skip that says how otherwise."""
    message = (f"{reason}\nThe TF2-side proofs need a python with the newest tensorflow-cpu: set "
               f"MIGRATE_BN_TF2_PYTHON to one, or let the tests build {TF2_VENV} (needs the package index).")
    if oracle.REQUIRE_TF2:
        pytest.fail(f"MIGRATE_BN_REQUIRE_TF2=1: {message}", pytrace=False)
    pytest.skip(message)


def _keras_version(python: str) -> str:
    done = subprocess.run([python, "-c", KERAS_VERSION], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        _unavailable(f"{python} cannot import tensorflow and keras:\n{done.stderr[-1500:]}")
    return done.stdout.strip().splitlines()[-1]


def _provision() -> str:
    """Build .venv-tf2 with the newest tensorflow-cpu (once: a later session reuses it).
    A lock keeps two test sessions from building it at the same time."""
    import fcntl  # POSIX, like the rest of the runtime proofs

    python = TF2_VENV / "bin" / "python"
    ready = TF2_VENV / ".migrate-bn-ready"
    TF2_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(str(TF2_VENV) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return str(python)
        steps = ([sys.executable, "-m", "venv", "--clear", str(TF2_VENV)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  *PIP_NETWORK, *TF2_PACKAGES])
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=PROVISION_TIMEOUT)
            except subprocess.TimeoutExpired:
                _unavailable(f"building {TF2_VENV} took over {PROVISION_TIMEOUT} s: {' '.join(step)}")
            if done.returncode != 0:
                _unavailable(f"could not build {TF2_VENV}: {' '.join(step)}\n{done.stderr[-1500:]}")
        ready.write_text("")
    return str(python)


@pytest.fixture(scope="session")
def tf2_python() -> str:
    """A python whose TensorFlow is the newest, with Keras 3 (checked, as a number)."""
    python = os.environ.get("MIGRATE_BN_TF2_PYTHON") or _provision()
    version = _keras_version(python)
    assert oracle.version_tuple(version) >= (3,), f"{python} has Keras {version}, not Keras 3"
    return python
