"""The test suite tests what it claims to: the code of this checkout, and with
MIGRATE_BN_REQUIRE_TF=1 no runtime proof skipped for want of TensorFlow."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import migrate_bn
import migrate_bn.transforms

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def test_the_code_under_test_is_this_checkout() -> None:
    """Not a copy installed in site-packages: the README installs it editable."""
    for module in (migrate_bn, migrate_bn.transforms):
        assert Path(module.__file__).resolve().is_relative_to(ROOT), (
            f"{module.__name__} comes from {module.__file__}: pip install -e '.[test,tf1]'")


def _imports_tensorflow(path: Path) -> bool:
    """Whether a test module imports TensorFlow itself (code in strings does not count)."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name.split(".")[0] in ("tensorflow", "tf_slim", "keras") for name in names):
            return True
    return False


# What a test file that runs TensorFlow in a subprocess names.
RUNTIME_WORDS = ("tf1_harness", "graph_saver", "run_program", "tf2_python", 'RUNTIME / "')


def _runs_tensorflow(path: Path) -> bool:
    if path.name == Path(__file__).name:
        return False
    return _imports_tensorflow(path) or any(word in path.read_text() for word in RUNTIME_WORDS)


def test_every_test_file_that_runs_tensorflow_uses_the_shared_marks() -> None:
    runtime = sorted(p.name for p in TESTS.glob("test_*.py") if _runs_tensorflow(p))
    shared = sorted(p.name for p in TESTS.glob("test_*.py")
                    if "oracle.tf1_marks()" in p.read_text() or "@oracle.needs_tf" in p.read_text())
    assert len(runtime) >= 5 and set(runtime) <= set(shared), set(runtime) - set(shared)


def test_a_required_tensorflow_that_is_missing_fails_every_runtime_file() -> None:
    """With TensorFlow hidden and MIGRATE_BN_REQUIRE_TF=1, collecting each runtime test
    file is an error that names the requirement."""
    files = sorted(str(p) for p in TESTS.glob("test_*.py") if _runs_tensorflow(p))
    hide = ("import sys\n"
            "for name in ('tensorflow', 'tf_slim'):\n"
            "    sys.modules[name] = None\n"
            "import pytest\n"
            f"sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', *{files!r}]))\n")
    done = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "MIGRATE_BN_REQUIRE_TF": "1"})
    assert done.returncode != 0
    for path in files:
        assert f"ERROR {Path(path).relative_to(ROOT)}" in done.stdout, done.stdout[-3000:]
    assert done.stdout.count("MIGRATE_BN_REQUIRE_TF=1 but TensorFlow is missing") >= len(files)


def test_versions_compare_as_numbers() -> None:
    assert oracle.version_tuple("2.9.0") < oracle.version_tuple("2.16.1") < oracle.version_tuple("3.0.0rc1")
    assert oracle.version_tuple("3.15.1") >= (3,) > oracle.version_tuple("2.21.0")
