"""Never lose a byte: one test per promise of docs/reliability.md.

Each test drives the real command (or the runner under it) over files in a temporary
tree and checks the bytes on disk afterwards.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn import fsio, runner
from migrate_bn.cli import main
from migrate_bn.rules import Options, select_rules

HEADER = "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):"
TRAIN = "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)"

BUGGY = f"""\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(h)
{TRAIN}
print("done")
"""
FIXED = BUGGY.replace(TRAIN, f"{HEADER}\n    {TRAIN}")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def job(write: bool = True) -> runner.Job:
    return runner.Job(select_rules(), Options(), fix=True, write=write)


def summary_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if "could not be processed" in line]
    return line


def no_temporary_files(root: Path) -> bool:
    return not [p for p in root.rglob("*") if p.name.startswith(fsio.TEMPORARY_PREFIX)]


# --- Never executes, imports or evaluates the code it reads -----------------------------

_AUDIT: dict = {"on": False, "events": []}


def _audit(event: str, args: tuple) -> None:
    if _AUDIT["on"] and event in ("exec", "import", "os.system", "os.exec", "os.posix_spawn",
                                  "os.spawn", "subprocess.Popen", "os.fork"):
        _AUDIT["events"].append((event, args))


sys.addaudithook(_audit)  # hooks cannot be removed; this one records only inside the test


def test_never_executes_imports_or_evaluates(tree: Path) -> None:
    marker = tree / "EXECUTED"
    payload = f"open({str(marker)!r}, 'w').write('x')\nimport os\nos.system('touch {marker}')\n"
    (tree / "src" / "evil_models.py").write_text(
        "import tensorflow as tf\n" + payload +
        "def build(x, is_training):\n    return tf.layers.batch_normalization(x, training=is_training)\n")
    (tree / "src" / "evil_train.py").write_text(
        "import tensorflow as tf\nfrom evil_models import build\n" + payload +
        "h = build(tf.placeholder(tf.float32), True)\nop = tf.train.AdamOptimizer(0.1).minimize(h)\n"
        "if __name__ == '__main__':\n    exec('raise SystemExit(3)')\n")
    _AUDIT.update(on=True, events=[])
    try:
        result = invoke("fix", "src")
    finally:
        _AUDIT["on"] = False
    assert result.exit_code in (0, 1), result.output
    assert not marker.exists()
    assert "evil_models" not in sys.modules and "evil_train" not in sys.modules
    ours = [(event, args) for event, args in _AUDIT["events"]
            if event != "import" and event != "exec"
            or event == "import" and str(args[0]).startswith("evil")
            or event == "exec" and str(tree) in getattr(args[0], "co_filename", "")]
    assert ours == []


# --- Encoding, BOM, line endings and indentation are written back as read ---------------

@pytest.mark.parametrize("encoding, prefix", [
    ("latin-1", "# -*- coding: latin-1 -*-\n# caf\u00e9 cr\u00e8me\n"),
    ("cp1252", "#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n# \u20ac \u00e9\n"),
    ("utf-8", "# \u65e5\u672c\u8a9e \u00e9\n"),
])
def test_declared_encoding_is_kept(tree: Path, encoding: str, prefix: str) -> None:
    target = tree / "src" / "train.py"
    target.write_bytes((prefix + BUGGY + "s = '\u00e9'\n").encode(encoding))
    assert invoke("fix", "src").exit_code == 0
    assert target.read_bytes() == (prefix + FIXED + "s = '\u00e9'\n").encode(encoding)


def test_byte_order_mark_is_kept(tree: Path) -> None:
    target = tree / "src" / "train.py"
    target.write_bytes(b"\xef\xbb\xbf" + ("# \u00e9\n" + BUGGY).encode())
    assert invoke("fix", "src").exit_code == 0
    assert target.read_bytes() == b"\xef\xbb\xbf" + ("# \u00e9\n" + FIXED).encode()


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_line_endings_are_kept(tree: Path, newline: str) -> None:
    target = tree / "src" / "train.py"
    target.write_bytes(BUGGY.replace("\n", newline).encode())
    assert invoke("fix", "src").exit_code == 0
    assert target.read_bytes() == FIXED.replace("\n", newline).encode()


def test_mixed_line_endings_are_kept_line_by_line(tree: Path) -> None:
    lines = BUGGY.splitlines()
    endings = ["\r\n" if i % 2 else "\n" for i in range(len(lines))]
    target = tree / "src" / "train.py"
    target.write_bytes("".join(line + end for line, end in zip(lines, endings)).encode())
    assert invoke("fix", "src").exit_code == 0
    after = target.read_bytes().decode()
    index = lines.index(TRAIN)
    expected = [line + end for line, end in zip(lines, endings)]
    # The file's first line ending (LF) ends the new `with` line; the wrapped one keeps its own.
    expected[index:index + 1] = [HEADER + "\n", "    " + TRAIN + endings[index]]
    assert after == "".join(expected)


def test_mixed_line_endings_inside_a_rewritten_function_are_kept(tree: Path) -> None:
    # The function's lines end in LF, the file's first line in CRLF: only the new line
    # takes the file's first line ending; the function's own lines keep theirs.
    head = "import tensorflow as tf\r\n\r\n\n"
    body = ("def train(x, loss, flag):\n    h = tf.layers.batch_normalization(x, training=flag)\n"
            "    op = tf.train.AdamOptimizer(0.1).minimize(loss)\n    return op\n")
    target = tree / "src" / "train.py"
    target.write_bytes((head + body).encode())
    assert invoke("fix", "src").exit_code == 0
    fixed = body.replace("    op = ", "    " + HEADER + "\r\n        op = ")
    assert target.read_bytes() == (head + fixed).encode()


@pytest.mark.parametrize("unit", ["\t", "  ", "    "])
def test_indentation_style_is_kept(tree: Path, unit: str) -> None:
    body = ("import tensorflow as tf\n\n\ndef train(x, loss, flag):\n"
            "{u}if flag is not None:\n{u}{u}h = tf.layers.batch_normalization(x, training=flag)\n"
            "{u}{u}op = tf.train.AdamOptimizer(0.1).minimize(loss)\n{u}return op\n")
    target = tree / "src" / "train.py"
    target.write_text(body.format(u=unit))
    assert invoke("fix", "src").exit_code == 0
    fixed = body.replace("{u}{u}op = ", "{u}{u}" + HEADER + "\n{u}{u}{u}op = ")
    assert target.read_text() == fixed.format(u=unit)


@pytest.mark.parametrize("header", ["# old Mac header\r", "# header\n# old Mac line\r"])
def test_lone_cr_and_lone_lf_line_ends_are_reported_not_merged(tree: Path, header: str) -> None:
    # A new or moved line ending in CR alone, before a blank line ending in LF alone,
    # would read as one CRLF: a line lost. Such files are refused instead.
    source = (header + BUGGY.replace(TRAIN, TRAIN + "\n")).encode()
    target = tree / "src" / "train.py"
    target.write_bytes(source)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: error: it mixes lines ending in CR alone with lines ending in LF alone" in result.stderr
    assert target.read_bytes() == source
    assert invoke("check", "src").exit_code == 1  # checking it is fine


# --- Mode, ownership, atomic writes -----------------------------------------------------

@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_mode_is_kept(tree: Path, mode: int) -> None:
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    os.chmod(target, mode)
    assert invoke("fix", "src").exit_code == 0
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_ownership_is_kept(tree: Path) -> None:
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    os.chown(target, 12345, 23456)
    assert invoke("fix", "src").exit_code == 0
    assert target.read_text() == FIXED
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (12345, 23456)


def test_write_is_a_rename_of_a_complete_temporary_file_in_the_same_directory(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    seen = []
    real_replace = os.replace

    def replace(source, destination):
        seen.append((Path(source), Path(destination), Path(source).read_text(), Path(destination).read_text()))
        return real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    assert invoke("fix", "src").exit_code == 0
    ((temporary, destination, new, old),) = seen
    assert temporary.parent.resolve() == destination.parent.resolve() == target.parent
    assert temporary.name.startswith(fsio.TEMPORARY_PREFIX)
    assert (new, old) == (FIXED, BUGGY)  # never a half-written file in place
    assert no_temporary_files(tree)


def test_ctrl_c_between_temporary_write_and_rename_leaves_the_original(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    (tree / "src" / "zzz_later.py").write_text(BUGGY)
    real_replace = os.replace

    def interrupted(source, destination):
        if os.path.basename(source).startswith(fsio.TEMPORARY_PREFIX):
            raise KeyboardInterrupt
        return real_replace(source, destination)

    monkeypatch.setattr(os, "replace", interrupted)
    result = invoke("fix", "src")
    assert result.exit_code == 130
    assert "Interrupted: files after those reported above may be fixed or as they were" in result.stderr
    assert target.read_text() == BUGGY
    assert (tree / "src" / "zzz_later.py").read_text() == BUGGY  # the run stopped there
    assert no_temporary_files(tree)
    # The same at the lowest level: the exception goes on, the temporary file does not stay.
    with pytest.raises(KeyboardInterrupt):
        fsio.write_atomically(str(target), FIXED.encode(), expected=BUGGY.encode())
    assert target.read_text() == BUGGY and no_temporary_files(tree)

@pytest.mark.skipif(not hasattr(__import__("signal"), "raise_signal"), reason="needs signal.raise_signal")
def test_real_sigint_as_the_temporary_file_is_created_leaves_no_trace(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real signal in the narrowest window: `mkstemp` has made the file, nobody has its
    name yet. The write finishes, then the Ctrl-C arrives as usual."""
    import signal
    import tempfile

    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    real_mkstemp = tempfile.mkstemp

    def signalled(*args, **kwargs):
        created = real_mkstemp(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return created

    monkeypatch.setattr(tempfile, "mkstemp", signalled)
    # A test runner started in the background inherits SIGINT ignored: Ctrl-C as a terminal has it.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            fsio.write_atomically(str(target), FIXED.encode(), expected=BUGGY.encode())
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert target.read_text() == FIXED and no_temporary_files(tree)



@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_real_ctrl_c_leaves_every_file_whole(tmp_path: Path, jobs: str) -> None:
    """SIGINT to the whole process group, as a terminal sends it, in the middle of a run
    (worker processes included): exit 130, no temporary file, each file old or fixed."""
    import signal
    import subprocess
    import time

    source = tmp_path / "src"
    source.mkdir()
    names = [f"f{i:04d}.py" for i in range(2500)]
    for name in names:
        (source / name).write_text(BUGGY)
    process = subprocess.Popen(
        [sys.executable, "-m", "migrate_bn", "fix", "--jobs", jobs, "--no-cache", "src"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while (source / names[0]).read_text() == BUGGY and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if process.poll() is not None:
        pytest.skip("the run finished before it could be interrupted")
    os.killpg(process.pid, signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("the run did not stop on Ctrl-C")
    assert process.returncode == 130, stderr.decode()
    assert "Interrupted" in stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert no_temporary_files(tmp_path)
    contents = {(source / name).read_text() for name in names}
    assert contents <= {BUGGY, FIXED} and FIXED in contents


# --- Symbolic links -----------------------------------------------------------------------

def test_symlink_to_a_file_outside_the_tree_is_not_followed(tree: Path) -> None:
    outside = tree / "outside.py"
    outside.write_text(BUGGY)
    link = tree / "src" / "linked.py"
    link.symlink_to(outside)
    result = invoke("fix", "src")
    assert result.exit_code == 0, result.output
    assert "linked.py" not in result.output
    assert outside.read_text() == BUGGY
    assert link.is_symlink()


def test_symlink_named_on_the_command_line_is_read_but_never_written_through(tree: Path) -> None:
    outside = tree / "outside.py"
    outside.write_text(BUGGY)
    link = tree / "src" / "linked.py"
    link.symlink_to(outside)
    assert invoke("check", "src/linked.py").exit_code == 1  # read through: the user named it
    result = invoke("fix", "src/linked.py")
    assert result.exit_code == 2
    assert "src/linked.py: error: is a symbolic link" in result.stderr
    assert "not written through" in result.stderr
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert outside.read_text() == BUGGY
    assert no_temporary_files(tree)


def test_symlinked_directory_loop_does_not_hang_discovery(tree: Path) -> None:
    (tree / "src" / "pkg").mkdir()
    (tree / "src" / "pkg" / "model.py").write_text(BUGGY)
    (tree / "src" / "pkg" / "loop").symlink_to(tree / "src")
    (tree / "src" / "elsewhere").symlink_to(tree.parent)  # out of the tree
    found: list = []
    worker = threading.Thread(target=lambda: found.append(runner.discover(["src"])), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "discovery did not terminate"
    assert found == [[os.path.join("src", "pkg", "model.py")]]


def test_broken_symlink_is_reported(tree: Path) -> None:
    (tree / "src" / "train.py").write_text(BUGGY)
    (tree / "src" / "dangling.py").symlink_to(tree / "gone.py")
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert f"src/dangling.py: error: broken symbolic link (to {tree / 'gone.py'})" in result.stderr
    assert (tree / "src" / "train.py").read_text() == FIXED  # the run went on
    assert summary_line(result.stderr) == "1 file could not be processed: src/dangling.py"


# --- Untouched files and regions ----------------------------------------------------------

def test_untouched_files_are_byte_identical_and_not_rewritten(tree: Path) -> None:
    clean = tree / "src" / "clean.py"
    clean.write_bytes(FIXED.replace("\n", "\r\n").encode() + b"x = 1 \\\r\n\t+ 2")
    other = tree / "src" / "unrelated.py"
    other.write_bytes(b"def f( a ,b ):\r\n\treturn a+b   # odd style stays\r\n")
    before = {p: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in (clean, other)}
    assert invoke("fix", "src").exit_code == 0
    for path, (data, inode, mtime) in before.items():
        assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == (data, inode, mtime)


def test_untouched_regions_are_byte_identical(tree: Path) -> None:
    head = "# -*- coding: utf-8 -*-\r\nimport tensorflow as tf  \t# trailing\r\n\r\n\r\n"
    tail = "\r\n\r\nprint( 'odd'  ,\r\n       'layout' )\t\r\n# last line, no newline"
    body = BUGGY.replace("import tensorflow as tf\n", "").replace("\n", "\r\n")
    target = tree / "src" / "train.py"
    target.write_bytes((head + body + tail).encode())
    assert invoke("fix", "src").exit_code == 0
    after = target.read_bytes().decode()
    assert after.startswith(head + body[:body.index(TRAIN)])
    assert after.endswith(body[body.index(TRAIN) + len(TRAIN):] + tail)


# --- Every rewritten file re-parses before it is written --------------------------------

def test_rewrite_that_does_not_parse_is_not_written_and_reported_with_context(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn import __version__, api
    from migrate_bn.edits import EditOutcome

    monkeypatch.setattr(api, "apply_edits", lambda source, edits: EditOutcome(source + b"\nwith:\n", list(edits), []))
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert target.read_text() == BUGGY
    message = result.stderr
    assert "src/train.py: internal error: a fix produced code that does not parse" in message
    assert "fixing BN001 at line 7" in message  # which fix, where: enough to file a bug
    assert f"a bug in migrate-bn {__version__}" in message


def test_crash_inside_migrate_bn_is_reported_with_where_it_happened(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn import facts

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(facts, "build", broken)
    (tree / "src" / "train.py").write_text(BUGGY)
    result = invoke("check", "src")
    assert result.exit_code == 2
    # The innermost frame of migrate-bn's own code, not of the library or test around it.
    # (the analysis builds its facts through the project's resolver, which shares them)
    assert "src/train.py: internal error: ValueError: boom (at migrate_bn/project.py:" in result.stderr
    assert "in analysis_facts)" in result.stderr


def test_change_of_encoding_by_a_fix_is_refused(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn import api
    from migrate_bn.edits import EditOutcome

    def drops_the_cookie(source, edits):
        return EditOutcome(b"x = 1\n" + source, list(edits), [])

    monkeypatch.setattr(api, "apply_edits", drops_the_cookie)
    source = ("# coding: latin-1\n" + BUGGY + "s = '\u00c3\u00a9'\n").encode("latin-1")
    target = tree / "src" / "train.py"
    target.write_bytes(source)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "encoding changed from iso-8859-1 to utf-8" in result.stderr
    assert target.read_bytes() == source


# --- Fixes converge -------------------------------------------------------------------------

def test_second_invocation_is_a_no_op(tree: Path) -> None:
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    assert invoke("fix", "src").exit_code == 0
    first = (target.read_bytes(), target.stat().st_ino, target.stat().st_mtime_ns)
    again = invoke("fix", "--diff", "src")
    assert again.exit_code == 0 and again.stdout == ""
    assert (target.read_bytes(), target.stat().st_ino, target.stat().st_mtime_ns) == first


def test_fixes_that_never_converge_are_bounded_and_not_written(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn import api
    from migrate_bn.edits import EditOutcome

    calls = []

    def grows(source, edits):  # always "applies", never settles
        calls.append(1)
        return EditOutcome(source + b"pass\n", list(edits), [])

    monkeypatch.setattr(api, "apply_edits", grows)
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert f"did not converge after {api.MAX_FIX_ROUNDS} rounds" in result.stderr
    assert len(calls) == api.MAX_FIX_ROUNDS
    assert target.read_text() == BUGGY


# --- Awkward input is reported, never fatal -----------------------------------------------

def run_on(tree: Path, name: str, data: bytes, *args: str):
    (tree / "src" / "aaa_first.py").write_text(BUGGY)
    (tree / "src" / name).write_bytes(data)
    (tree / "src" / "zzz_last.py").write_text(BUGGY)
    result = invoke("fix", *args, "src")
    # The files around the awkward one were fixed: it stopped nothing.
    assert (tree / "src" / "aaa_first.py").read_text() == FIXED
    assert (tree / "src" / "zzz_last.py").read_text() == FIXED
    return result


def assert_reported(result, name: str, words: str) -> None:
    assert result.exit_code == 2, result.output
    assert f"src/{name}: error: {words}" in result.stderr
    assert summary_line(result.stderr) == f"1 file could not be processed: src/{name}"
    assert "Traceback" not in result.output


def test_python2_file_is_fixed_and_stays_python2(tree: Path) -> None:
    data = ("import tensorflow as tf\nprint 'building', `1`\n" + BUGGY.split("\n", 1)[1]
            + "print >>sys.stderr, 'done'\n").encode()
    result = run_on(tree, "old.py", data)
    assert result.exit_code == 0, result.output
    assert (tree / "src" / "old.py").read_bytes() == data.replace(TRAIN.encode(), f"{HEADER}\n    {TRAIN}".encode())


def test_python2_tabs_and_spaces(tree: Path) -> None:
    data = b"import tensorflow as tf\nif 1:\n        h = tf.layers.batch_normalization(x)\n\tk = 2\n"
    result = run_on(tree, "old.py", data)
    assert result.exit_code == 0, result.output
    assert (tree / "src" / "old.py").read_bytes() == data


def test_neither_python_3_nor_python_2(tree: Path) -> None:
    data = b"import tensorflow as tf\nh = tf.layers.batch_normalization(x)\nprint 'step, 1\n"
    result = run_on(tree, "old.py", data)
    assert_reported(result, "old.py", "cannot parse: ")
    assert (tree / "src" / "old.py").read_bytes() == data


def test_syntax_error(tree: Path) -> None:
    data = b"import tensorflow as tf\nh = tf.layers.batch_normalization(x\n"
    result = run_on(tree, "broken.py", data)
    assert_reported(result, "broken.py", "cannot parse: ")
    assert "line 2" in result.stderr
    assert (tree / "src" / "broken.py").read_bytes() == data


def test_undecodable_bytes(tree: Path) -> None:
    data = b"# batch_norm\nx = '\xff\xfe caf\xe9'\n"
    result = run_on(tree, "latin.py", data)
    assert_reported(result, "latin.py", "cannot decode: ")
    assert (tree / "src" / "latin.py").read_bytes() == data


def test_unknown_encoding_cookie(tree: Path) -> None:
    data = b"# -*- coding: klingon -*-\n# batch_norm\n"
    assert_reported(run_on(tree, "klingon.py", data), "klingon.py", "cannot decode: ")


@pytest.mark.parametrize("data", [
    b"\x7fELF\x02\x01\x01\x00\x00\x00batch_norm",  # a binary with a .py name
    "# batch_norm\n".encode("utf-16"),  # UTF-16 text, which Python cannot read either
    b"\x00" * 64,  # no batch-norm word: found without parsing anything
], ids=["elf", "utf16", "zeros"])
def test_binary_file_named_py(tree: Path, data: bytes) -> None:
    result = run_on(tree, "blob.py", data)
    assert_reported(result, "blob.py", "binary file (it holds NUL bytes")
    assert (tree / "src" / "blob.py").read_bytes() == data


def test_empty_file(tree: Path) -> None:
    result = run_on(tree, "__init__.py", b"")
    assert result.exit_code == 0, result.output
    assert (tree / "src" / "__init__.py").read_bytes() == b""


def test_huge_file(tree: Path) -> None:
    data = BUGGY.encode() + b"# padding\n" * (fsio.MAX_FILE_SIZE // 10)
    assert len(data) > fsio.MAX_FILE_SIZE
    result = run_on(tree, "generated.py", data)
    assert_reported(result, "generated.py", "too large: ")
    assert "over the 10.0 MB limit; skipped" in result.stderr
    assert (tree / "src" / "generated.py").read_bytes() == data


def test_file_at_the_size_limit_is_read(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsio, "MAX_FILE_SIZE", len(BUGGY.encode()))
    (tree / "src" / "train.py").write_text(BUGGY)
    assert invoke("fix", "src").exit_code == 0
    assert (tree / "src" / "train.py").read_text() == FIXED


def test_unreadable_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = runner.read_source

    def read_source(path, *args, **kwargs):
        if path.endswith("secret.py"):
            raise PermissionError(13, "Permission denied", path)
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(runner, "read_source", read_source)
    result = run_on(tree, "secret.py", BUGGY.encode())
    assert_reported(result, "secret.py", "cannot read: Permission denied")
    assert (tree / "src" / "secret.py").read_text() == BUGGY


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_unreadable_file_for_real(tree: Path) -> None:
    target = tree / "src" / "secret.py"
    target.write_text(BUGGY)
    os.chmod(target, 0)
    try:
        result = invoke("fix", "src")
        assert result.exit_code == 2
        assert "src/secret.py: error: cannot read: Permission denied" in result.stderr
    finally:
        os.chmod(target, 0o644)


def test_unlistable_directory(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "src" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run_on(tree, "ok.py", BUGGY.encode())
    assert result.exit_code == 2
    assert "src/locked: error: cannot list directory: Permission denied" in result.stderr


def test_directory_named_like_a_python_file(tree: Path) -> None:
    (tree / "src" / "odd.py").mkdir()
    (tree / "src" / "odd.py" / "inner.py").write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 0, result.output
    assert (tree / "src" / "odd.py" / "inner.py").read_text() == FIXED
    assert invoke("check", "src/odd.py").exit_code == 0  # named explicitly: searched as a directory
    assert str(runner.process_file("src/odd.py", job())[0].error) == "not a regular file (a directory); skipped"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_named_pipe_named_like_a_python_file_does_not_block(tree: Path) -> None:
    os.mkfifo(tree / "src" / "pipe.py")
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(run_on(tree, "other.py", b"")), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "reading a named pipe blocked the run"
    (result,) = outcome
    assert result.exit_code == 2
    assert "src/pipe.py: error: not a regular file (a named pipe); skipped" in result.stderr


def test_file_deleted_before_it_is_read(tree: Path) -> None:
    for name in ("a.py", "b.py"):
        (tree / "src" / name).write_text(BUGGY)
    results = runner.run(["src"], job())
    first, _ = next(results)
    assert first.error is None and first.changed
    (tree / "src" / "b.py").unlink()
    second, _ = next(results)
    assert second.path == "src/b.py"
    assert str(second.error) == "cannot read: No such file or directory"
    assert not (tree / "src" / "b.py").exists()


def during_analysis(monkeypatch: pytest.MonkeyPatch, action) -> None:
    real_analyze = runner.analyze

    def analyze(source, path, **kwargs):
        result = real_analyze(source, path, **kwargs)
        action(path)
        return result

    monkeypatch.setattr(runner, "analyze", analyze)


def test_file_deleted_between_read_and_write(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    during_analysis(monkeypatch, lambda path: os.unlink(path))
    (tree / "src" / "train.py").write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: error: deleted while migrate-bn was running; not written" in result.stderr
    assert not (tree / "src" / "train.py").exists()  # not brought back
    assert no_temporary_files(tree)


def save_in_place(path: str, text: str) -> None:
    Path(path).write_text(text)


def save_by_rename(path: str, text: str) -> None:  # how many editors save
    Path(path + "~").write_text(text)
    os.replace(path + "~", path)


@pytest.mark.parametrize("save", [save_in_place, save_by_rename])
def test_file_changed_between_read_and_write(tree: Path, monkeypatch: pytest.MonkeyPatch, save) -> None:
    edited = BUGGY + "# the user saved the file meanwhile\n"
    during_analysis(monkeypatch, lambda path: save(path, edited))
    (tree / "src" / "train.py").write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: error: changed while migrate-bn was running; not written (run again)" in result.stderr
    assert (tree / "src" / "train.py").read_text() == edited
    assert "Fixed" not in result.stderr  # nothing is claimed as fixed
    assert "src/train.py:7:12: BN001" in result.stdout  # the finding is still there
    assert no_temporary_files(tree)


def test_file_replaced_just_before_the_rename(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last check looks at the file itself, not at its name: same bytes in a new file
    # (a rename-save racing with the write) are not overwritten either.
    target = tree / "src" / "train.py"
    target.write_text(BUGGY)
    real_copy = fsio._copy_metadata

    def copy_then_race(path, temporary, info):
        real_copy(path, temporary, info)
        save_by_rename(path, BUGGY)

    monkeypatch.setattr(fsio, "_copy_metadata", copy_then_race)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: error: replaced while migrate-bn was running; not written (run again)" in result.stderr
    assert target.read_text() == BUGGY
    assert no_temporary_files(tree)


def test_read_only_directory_is_reported(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def mkstemp(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    (tree / "src" / "train.py").write_text(BUGGY)
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert "src/train.py: error: cannot write: Permission denied; not written" in result.stderr
    assert (tree / "src" / "train.py").read_text() == BUGGY


def test_file_name_not_in_the_file_system_encoding(tree: Path) -> None:
    if sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
        pytest.skip("needs a UTF-8 file system encoding")
    name = os.fsdecode(b"caf\xe9.py")
    try:
        (tree / "src" / name).write_text(BUGGY)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses such names")
    result = invoke("fix", "src")
    assert result.exit_code == 0, result.output
    assert (tree / "src" / name).read_text() == FIXED
    (tree / "src" / name).write_text(BUGGY)
    shown = invoke("check", "src")
    assert "src/caf\\xe9.py:7:12: BN001" in shown.stdout
    shown.stdout.encode("utf-8")  # printable on any UTF-8 terminal


# --- Exit code 2, with a one-line summary -------------------------------------------------

def test_exit_2_with_a_one_line_summary_of_the_failed_files(tree: Path) -> None:
    (tree / "src" / "good.py").write_text(BUGGY)
    (tree / "src" / "py2.py").write_bytes(b"import tensorflow as tf\nh = tf.layers.batch_normalization(x)\nprint 1 +\n")
    (tree / "src" / "blob.py").write_bytes(b"\x00\x01")
    (tree / "src" / "dangling.py").symlink_to(tree / "nowhere.py")
    result = invoke("fix", "src")
    assert result.exit_code == 2
    assert summary_line(result.stderr) == \
        "3 files could not be processed: src/blob.py, src/dangling.py, src/py2.py"
    assert (tree / "src" / "good.py").read_text() == FIXED
    # With findings too, 2 wins: a run that skipped files is not a clean run.
    assert invoke("check", "src").exit_code == 2
