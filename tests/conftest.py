"""Make tests/runtime/oracle.py importable as `runtime_oracle`: with
--import-mode=importlib the tests directory is not on sys.path."""

import importlib.util
import sys
from pathlib import Path

if "runtime_oracle" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("runtime_oracle", Path(__file__).parent / "runtime" / "oracle.py")
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["runtime_oracle"] = _module
    _spec.loader.exec_module(_module)
