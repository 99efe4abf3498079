"""Make tests/runtime/oracle.py importable as `runtime_oracle` and tests/programs.py as
`test_programs`: with --import-mode=importlib the tests directory is not on sys.path."""

import importlib.util
import sys
from pathlib import Path

for _name, _path in (("runtime_oracle", Path(__file__).parent / "runtime" / "oracle.py"),
                     ("test_programs", Path(__file__).parent / "programs.py")):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, _path)
        _module = importlib.util.module_from_spec(_spec)
        sys.modules[_name] = _module
        _spec.loader.exec_module(_module)
