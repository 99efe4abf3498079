"""Python 2 files end to end: `check`, `fix` and `upgrade` from the command line, and the
runtime proof that a fixed Python 2 training script, taken to Python 3 by the conversion
`upgrade` makes, trains its moving statistics (before the fix they stay at 0 and 1).

The goldens for each Python 2 construct are fixtures/python2/*/ (tests/test_golden.py);
the properties over generated Python 2 programs are in tests/test_properties.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn import python2
from migrate_bn.api import analyze
from migrate_bn.cli import main

import runtime_oracle as oracle  # tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "fixtures" / "python2" / "runnable_script" / "before.py"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_check_and_fix_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_bytes(SCRIPT.read_bytes())
    checked = invoke("check", "--select", "BN001", ".")
    assert checked.exit_code == 1
    assert checked.stdout.startswith("train.py:44:12: BN001 [*] ")
    assert invoke("fix", ".").exit_code == 1  # BN005 is left: advice with no safe fix
    fixed = (tmp_path / "train.py").read_bytes()
    assert fixed == (SCRIPT.parent / "after.py").read_bytes()
    assert python2.view_text(fixed.decode()) is not None  # still Python 2
    assert invoke("fix", ".").exit_code == 1 and (tmp_path / "train.py").read_bytes() == fixed


def test_upgrade_takes_a_python2_file_to_python3_and_says_why_not_further(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_bytes((SCRIPT.parent / "after.py").read_bytes())
    (tmp_path / "ratio.py").write_text("import tensorflow as tf\nprint 'half', 7 / 2, 7 / 2.0\n")
    result = invoke("upgrade", ".")
    assert result.exit_code == 1
    converted, _ = python2.as_python3_program((SCRIPT.parent / "after.py").read_text())
    assert (tmp_path / "train.py").read_text() == converted
    assert "ratio.py:2: note: `/` floors two integers in Python 2" in result.stderr
    assert "train.py:20: note: not upgraded to TF2: " in result.stderr
    assert "Upgraded 2 Python 2 files to Python 3 only (see the notes)." in result.stderr
    # Its model function, which TF2's conversion of the script could not take along, is
    # offered on its own beside it.
    assert "class " in (tmp_path / "train_keras3.py").read_text()
    assert invoke("upgrade", "--dry-run", ".").stdout == ""  # Python 3 now: nothing more to do


def test_a_python2_file_that_is_not_python2_either_is_reported(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("import tensorflow as tf  # batch_norm\nprint 'unterminated\n")
    for command in (["check", "."], ["upgrade", "--dry-run", "."]):
        result = invoke(*command)
        assert result.exit_code == 2, command
        assert "broken.py" in result.stderr and "cannot parse" in result.stderr


@oracle.needs_tf
def test_fixed_python2_script_taken_to_python3_trains_its_moving_statistics(tmp_path: Path) -> None:
    before = SCRIPT.read_text()
    fixed = analyze(SCRIPT.read_bytes(), str(SCRIPT), fix=True).fixed_source
    assert fixed is not None and python2.view_text(fixed.decode()) is not None
    runs = {}
    for name, text in (("buggy", before), ("fixed", fixed.decode())):
        converted, divisions = python2.as_python3_program(text)
        assert divisions == []
        program = tmp_path / name / "train.py"
        program.parent.mkdir()
        program.write_text(converted)
        runs[name] = oracle.run_program(program, program.parent).last
    oracle.assert_never_updated(runs["buggy"])
    oracle.assert_all_moved(runs["fixed"])


def test_write_back_refuses_a_change_that_python2_cannot_hold() -> None:
    from migrate_bn import documents

    source = b"import tensorflow as tf\nprint 'built'\n"
    view = documents.read(source, "old.py")
    assert view.kind == documents.PYTHON2 and view.text.endswith("print('built')\n")
    # A fix that rewrote the converted line itself cannot be carried back: Python 2
    # cannot parse a print call with `file=`.
    with pytest.raises(documents.WriteBackRefused):
        view.write_back(view.code.replace(b"'built')", b"'built', file=log)"))


def test_write_back_moves_a_python2_line_as_it_was() -> None:
    from migrate_bn import documents

    source = b"import tensorflow as tf\nx = 1\nprint 'moved', `x`\ny = 2\n"
    view = documents.read(source, "old.py")
    lines = view.text.splitlines(keepends=True)
    moved = "".join([lines[0], lines[2], lines[1], lines[3]]).encode()
    assert view.write_back(moved) == b"import tensorflow as tf\nprint 'moved', `x`\nx = 1\ny = 2\n"


def test_implicit_relative_imports_become_explicit_only_for_modules_beside_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The project root is a package with `helpers.py`; `nets/` is a package without one.
    # Run from the root, 2to3's import fixer, looking in the working directory, would make
    # `from .helpers import` in nets/model.py, which Python 3 cannot import.
    monkeypatch.chdir(tmp_path)
    for name in ("__init__.py", "helpers.py", "nets/__init__.py", "nets/layers.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    model = tmp_path / "nets" / "model.py"
    model.write_text("from helpers import leaky\nfrom layers import conv\nprint 'built'\n")
    converted, _ = python2.as_python3_program(model.read_text(), str(model))
    assert converted == "from helpers import leaky\nfrom .layers import conv\nprint('built')\n"
    assert python2.as_python3_program(model.read_text())[0] == (
        "from helpers import leaky\nfrom layers import conv\nprint('built')\n")
    for arguments in (["."], ["nets/model.py"]):
        result = invoke("upgrade", "--dry-run", *arguments)
        assert "+from .layers import conv" in result.stdout and "from .helpers" not in result.stdout
    # A script of the package, and a module of the package the run starts in, are run
    # from their directory, where `from .layers import` fails: imports stay as they are.
    (tmp_path / "nets" / "train.py").write_text("from layers import conv\nif __name__ == '__main__':\n    print 1\n")
    result = invoke("upgrade", "--dry-run", ".")
    assert "+from .layers import conv" in result.stdout and "train.py" in result.stdout
    assert "train.py:1: note: its imports of modules beside it are left absolute" in result.stderr
    monkeypatch.chdir(tmp_path / "nets")
    result = invoke("upgrade", "--dry-run", ".")
    assert "model.py" in result.stdout and "train.py" in result.stdout and "from ." not in result.stdout


def test_a_conversion_leaves_no_cycle_of_the_tree_it_returns() -> None:
    """fissix's nodes point at their parents: once the text is out, the converted tree's
    cycles are broken, so reference counting frees it while batch runs seldom collect."""
    import gc

    from fissix import pytree

    python2.to_python3("x = 1\n")  # the tool is built once (its own objects stay)
    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    try:
        assert python2.to_python3("def f(a, b):\n    return a <> b\n") == "def f(a, b):\n    return a != b\n"
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [node for node in gc.garbage if isinstance(node, pytree.Base)]
        assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
