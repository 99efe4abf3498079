"""benchmarks/doctor_agreement.py: its models name labelled repositories, and its table
says agree or not from the reports `check` and `doctor --source` give. (Running it builds
fetched code under TensorFlow: that is the benchmark's job, not the suite's.)"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("doctor_agreement", ROOT / "benchmarks" / "doctor_agreement.py")
agreement = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agreement)


def test_every_model_is_a_labelled_repository_built_in_our_words() -> None:
    assert len({model["repo"] for model in agreement.MODELS}) >= 5
    for model in agreement.MODELS:
        label = json.loads((agreement.LABELS / (model["repo"].replace("/", "__") + ".json")).read_text())
        assert label["commit"] and model["why"] and model["module"] and model["call"]
        assert set(model["train_op"]) <= {"repository", "minimize"}


def test_findings_are_summarised_per_train_op() -> None:
    report = {"findings": [
        {"kind": "missing-update-dependency", "train_op": "Adam", "layers": ["a", "b"], "updates": []},
        {"kind": "training-mode-off", "layer": "c", "train_ops": ["Adam"]},
        {"kind": "training-mode-off", "layer": "d", "train_ops": ["Adam"]},
        {"kind": "never-updated", "layer": "e"},
    ]}
    assert agreement.graph_findings(report) == [
        "`Adam` skips the updates of 2 layers", "`Adam` run 2 layers in inference mode, still 0 and 1"]


def test_verdicts_say_why() -> None:
    assert agreement.verdict([], [], {}) == "yes: both silent"
    agree = {"source": {"layers": [{"agreement": "agree"}], "static_only": []}}
    assert agreement.verdict(["BN001 train.py:3"], ["`Adam` skips ..."], agree) == "yes: same layers"
    graph_only = {"source": {"layers": [{"agreement": "graph-only"}], "static_only": []}}
    assert agreement.verdict([], ["`Adam` skips ..."], graph_only) == "no: graph only (graph-only)"
    static_only = {"source": {"layers": [], "static_only": [{"code": "BN001"}]}}
    assert agreement.verdict(["BN001 train.py:3"], [], static_only).startswith("no: static only (BN001")


def test_static_findings_are_compacted_per_file() -> None:
    assert agreement.compact([("BN001", "train.py", 59), ("BN003", "m.py", 62), ("BN003", "m.py", 66)]) == [
        "BN001 train.py:59", "BN003 m.py (2 lines)"]
