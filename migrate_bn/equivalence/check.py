"""One equivalence case run on both sides and compared; the command line of the generated
`<module>_equivalence.py`."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..upgrade import NAME_MAP_FORMAT
from .compare import Mismatch, compare
from .generate import DROPOUT_RATE_ZERO

HERE = Path(__file__).resolve().parent


@dataclass
class Outcome:
    """What a case came to: `error` when a side failed to run, else the mismatches (none: equivalent)."""

    case: dict
    mismatches: list[Mismatch] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches


def _run(python: str, *arguments: str, timeout: int, path: Optional[Path] = None) -> Optional[str]:
    """None when the script ran; else the end of its error output. `path` goes first on
    PYTHONPATH (the directory of the user's module: its own imports)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run([python, *arguments], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    return None if done.returncode == 0 else (done.stderr.strip() or done.stdout.strip())[-3000:]


def run_case(tf1_module: Path, converted: Path, case: dict, tf1_python: str, tf2_python: str, work: Path,
             timeout: int = 900, imports: Optional[Path] = None) -> Outcome:
    """Run `case` (see tf1_side.py) on the TF1 module and its converted Keras model, in `work`;
    `imports`: where the TF1 module's own imports are found (the converted module's directory)."""
    if case.get("mode_flag"):
        return Outcome(case, error="the training flag is an Estimator mode, which TF1 compares as a Python value: "
                                   "this check feeds a tensor flag only")
    missing = sorted(key for key, value in case.get("kwargs", {}).items() if value is None)
    if missing or not case.get("input_shape"):
        return Outcome(case, error="fill in " + ", ".join(missing + ([] if case.get("input_shape") else
                                                                     ["input_shape"])) + " in CASES")
    tf1_out, tf2_out = work / "tf1", work / "tf2"
    tf1_out.mkdir(parents=True, exist_ok=True)
    tf2_out.mkdir(parents=True, exist_ok=True)
    case_path, names = work / "case.json", work / "names.json"
    case_path.write_text(json.dumps(case))
    names.write_text(json.dumps({"format": NAME_MAP_FORMAT, "layers": [],
                                 "models": [{"object": "model", "class": case["class"], "tf1_scope": "",
                                             "variables": case.get("variables", []),
                                             **({"transposed": case["transposed"]} if "transposed" in case else {})}]}))
    error = _run(tf1_python, str(HERE / "tf1_side.py"), str(tf1_module), str(case_path), str(tf1_out),
                 timeout=timeout, path=imports)
    if error is not None:
        return Outcome(case, error=f"the TF1 model did not run: {error}")
    error = _run(tf2_python, str(HERE / "tf2_side.py"), str(converted), str(case_path), str(names), str(tf1_out),
                 str(tf2_out), timeout=timeout)
    if error is not None:
        return Outcome(case, error=f"the Keras model did not run: {error}")
    tf1, keras = (json.loads((out / "results.json").read_text()) for out in (tf1_out, tf2_out))
    return Outcome(case, compare(tf1, keras))


def main(check_file: str, converted: str, tf1_source: str, cases: list[dict], argv: list[str]) -> int:
    """The generated check's command line: every case, a line each; 0 when all pass."""
    parser = argparse.ArgumentParser(description="Does the Keras 3 conversion compute what the TF1 model computed?")
    parser.add_argument("--tf1-python", required=True, help="a python with tensorflow-cpu==2.12.1 (and tf-slim "
                                                            "if the TF1 code uses it)")
    parser.add_argument("--tf2-python", required=True, help="a python with the newest TensorFlow (Keras 3), "
                                                            "without tf_keras or tf-slim")
    options = parser.parse_args(argv)
    beside = Path(check_file).resolve().parent
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        tf1_module = Path(scratch) / "tf1_model.py"
        tf1_module.write_text(tf1_source)
        for index, case in enumerate(cases):
            outcome = run_case(tf1_module, beside / converted, case, options.tf1_python, options.tf2_python,
                               Path(scratch) / str(index), imports=beside)
            title = f"{case['function']} -> {case['class']}"
            if outcome.passed:
                print(f"{title}: equivalent (inference, 5 training steps, weights and moving statistics"
                      f"{'; dropout at rate 0 in both' if case.get(DROPOUT_RATE_ZERO) else ''})")
                continue
            failed += 1
            print(f"{title}: NOT EQUIVALENT" if outcome.error is None else f"{title}: not checked: {outcome.error}")
            for mismatch in outcome.mismatches:
                print(f"  {mismatch.render()}")
    return 1 if failed else 0
