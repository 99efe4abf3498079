"""Notebooks: code cells read as one program, findings placed in their cells, fixes
written back into the cells with every other byte of the file as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn import notebooks, runner
from migrate_bn.api import analyze
from migrate_bn.cli import main
from migrate_bn.documents import WriteBackRefused
from migrate_bn.problems import Kind
from migrate_bn.source import SourceError

nbformat = pytest.importorskip("nbformat")

WRAP = "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n    "


def cell(source, kind: str = "code", **extra) -> dict:
    """A cell as Jupyter writes it: source as a list of lines."""
    lines = source if isinstance(source, list) else source.splitlines(keepends=True)
    if kind != "code":
        return {"cell_type": kind, "metadata": {}, "source": lines, **extra}
    return {"cell_type": "code", "execution_count": extra.pop("count", None), "metadata": extra.pop("metadata", {}),
            "outputs": extra.pop("outputs", []), "source": lines, **extra}


def notebook(*cells: dict, minor: int = 4) -> dict:
    return {"cells": list(cells),
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python", "version": "3.6.9"}},
            "nbformat": 4, "nbformat_minor": minor}


def jupyter_bytes(data: dict) -> bytes:
    """As Jupyter writes a notebook: one space of indent, sorted keys, UTF-8 unescaped."""
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["step 0 loss 0.93 — ok\n"]}
IMAGE = {"data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\n",
                  "text/plain": ["<Figure size 432x288 with 1 Axes>"]},
         "metadata": {"needs_background": "light"}, "output_type": "display_data"}

# Batch norm in cell 3, the train op in cell 5 (a markdown cell between): BN001 across cells.
CROSS_CELL = notebook(
    cell("# A model\n\nBatch norm, then training.", "markdown"),
    cell("%matplotlib inline\n!pip install tensorflow==1.15\nimport tensorflow as tf\n", count=1),
    cell("x = tf.placeholder(tf.float32, [None, 4])\nis_training = tf.placeholder(tf.bool)\n"
         "h = tf.layers.batch_normalization(x, training=is_training)", count=2, outputs=[OUTPUT]),
    cell("Training:", "markdown"),
    cell("loss = tf.reduce_mean(h)\ntrain_op = tf.train.AdamOptimizer(0.1).minimize(loss)", count=3,
         outputs=[IMAGE], metadata={"scrolled": True}),
)


def test_code_cells_are_one_program_and_findings_name_their_cell() -> None:
    result = analyze(jupyter_bytes(CROSS_CELL), "model.ipynb")
    assert result.error is None, result.error
    (finding,) = result.findings
    assert finding.code == "BN001"
    # Every cell counts, markdown included (as ruff counts them): the train op is in cell 5.
    assert (finding.span.cell, finding.span.line, finding.span.column) == (5, 2, 12)
    assert (finding.related[0].span.cell, finding.related[0].span.line) == (3, 3)
    assert "(cell 3, line 3)" in finding.message


def test_fix_changes_only_the_cell_source_and_keeps_everything_else() -> None:
    source = jupyter_bytes(CROSS_CELL)
    result = analyze(source, "model.ipynb", fix=True)
    assert result.error is None and result.fixed_count == 1
    fixed = json.loads(result.fixed_source)
    expected = json.loads(source)
    expected["cells"][4]["source"] = ["loss = tf.reduce_mean(h)\n",
                                      WRAP.rstrip(" "),
                                      "    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)"]
    assert fixed == expected  # outputs, metadata, execution counts, the other cells: as they were
    # The layout too: the file is the old one with the lines of that source changed.
    old_lines, new_lines = source.decode().splitlines(), result.fixed_source.decode().splitlines()
    assert len(new_lines) == len(old_lines) + 1 and result.fixed_source.endswith(b"}\n")
    nbformat.validate(nbformat.reads(result.fixed_source.decode(), as_version=4))
    again = analyze(result.fixed_source, "model.ipynb", fix=True)
    assert again.findings == [] and not again.changed


def test_the_fixed_program_is_the_fixed_python_program() -> None:
    from test_programs import BUGGY, FIXED

    lines = BUGGY.splitlines(keepends=True)
    data = notebook(cell(lines[:5], count=1), cell(lines[5:], count=2))
    result = analyze(jupyter_bytes(data), "buggy.ipynb", fix=True)
    cells = json.loads(result.fixed_source)["cells"]
    assert "".join(cells[0]["source"]) + "".join(cells[1]["source"]) == FIXED


@pytest.mark.parametrize("dump", [
    lambda data: json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",  # Jupyter
    lambda data: json.dumps(data, indent=2),  # ASCII escapes, no final newline, keys as given
    lambda data: json.dumps(data, indent=4, ensure_ascii=False).replace("\n", "\r\n") + "\r\n",
    lambda data: json.dumps(data),  # one line
    lambda data: "\ufeff" + json.dumps(data, indent="\t", ensure_ascii=False),
])
@pytest.mark.parametrize("as_string", [False, True])
def test_layouts_round_trip_and_fixes_keep_them(dump, as_string: bool) -> None:
    data = json.loads(jupyter_bytes(CROSS_CELL))
    if as_string:
        for item in data["cells"]:
            item["source"] = "".join(item["source"])
    data["cells"][2]["source"] = data["cells"][2]["source"] + ("\n# naïve ünïcode" if as_string
                                                                 else ["\n# naïve ünïcode"])
    source = dump(data).encode()
    view = notebooks.read(source)
    assert view.write_back(view.code) == source  # nothing changed: byte for byte
    result = analyze(source, "model.ipynb", fix=True)
    assert result.error is None, result.error
    fixed = result.fixed_source
    expected = json.loads(source.decode("utf-8-sig"))
    wrapped = "loss = tf.reduce_mean(h)\n" + WRAP + "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)"
    expected["cells"][4]["source"] = wrapped if as_string else wrapped.splitlines(keepends=True)
    assert json.loads(fixed.decode("utf-8-sig")) == expected
    # What the fix did not touch is as it was: the text before and after the changed cell.
    text, new = source.decode("utf-8"), fixed.decode("utf-8")
    start = text.index("loss = tf.reduce_mean")
    assert new[:start] == text[:start]
    tail = text[text.index("minimize(loss)") + len("minimize(loss)"):]
    assert new.endswith(tail)
    assert ("\\u00ef" in new) == ("\\u00ef" in text)


def test_magics_and_shell_lines_do_not_break_the_analysis() -> None:
    data = notebook(
        cell("%load_ext autoreload\n%autoreload 2\n%tensorflow_version 1.x\nimport tensorflow as tf\n"
             "files = !ls data\n!nvidia-smi\ntf.layers.batch_normalization?\n?tf.layers\n", count=1),
        cell("%%bash\nfor f in *.csv; do\n  wc -l $f\ndone\n", count=2),
        cell("%%time\nx = tf.placeholder(tf.float32, [None, 4])\nh = tf.layers.batch_normalization(x, training=flag)\n"
             "y = (h\n     % 2)\nif True:\n    %time print(1)\n", count=3),
        cell("%%writefile helper.py\nthis is not python(\n", count=4),
        cell("loss = tf.reduce_mean(h)\ntrain_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n", count=5),
    )
    view = notebooks.read(jupyter_bytes(data))
    # Every line kept, IPython lines as `pass` at their indentation; Python as it was.
    assert view.text.count("\n") == sum(len(c["source"]) for c in data["cells"]) + len(data["cells"])
    assert "    pass\n" in view.text and "y = (h\n     % 2)\n" in view.text
    code = [line for line in view.text.splitlines() if not line.startswith("# %% [cell ") and line != "     % 2)"]
    assert [line for line in code if line.lstrip().startswith(("!", "%", "?")) or "!ls" in line or line.endswith("?")] == []
    result = analyze(jupyter_bytes(data), "magic.ipynb", fix=True)
    assert [(f.code, f.span.cell, f.span.line) for f in result.findings] == [("BN001", 5, 2)]
    cells = json.loads(result.fixed_source)["cells"]
    assert cells[:4] == data["cells"][:4]  # magics and shell lines are back as they were
    assert "".join(cells[4]["source"]).startswith("loss = tf.reduce_mean(h)\nwith tf.control_dependencies(")


def test_write_back_refuses_changes_across_cells_and_to_ipython_lines() -> None:
    data = notebook(cell("import tensorflow as tf\n!ls\nx = 1\n"), cell("y = 2\n"))
    view = notebooks.read(jupyter_bytes(data))
    lines = view.text.splitlines(keepends=True)
    assert lines == ["# %% [cell 1]\n", "import tensorflow as tf\n", "pass\n", "x = 1\n", "# %% [cell 2]\n", "y = 2\n"]
    with pytest.raises(WriteBackRefused, match="IPython syntax"):
        view.write_back("".join(lines[:2] + ["print(1)\n"] + lines[3:]).encode())
    with pytest.raises(WriteBackRefused, match="across the start of cell 2"):
        view.write_back("".join(lines[:3] + ["x = 1; y = 2\n"]).encode())
    # Moving a statement from one cell to another: a deletion in one, an insertion in the other.
    moved = view.write_back("".join([lines[0], lines[1], lines[2], lines[4], lines[3], lines[5]]).encode())
    assert [c["source"] for c in json.loads(moved)["cells"]] == [["import tensorflow as tf\n", "!ls\n"],
                                                                ["x = 1\n", "y = 2\n"]]
    # Inserted before the first cell's code: it goes into the first cell.
    first = view.write_back(("import numpy as np\n" + view.text).encode())
    assert json.loads(first)["cells"][0]["source"][0] == "import numpy as np\n"


def test_what_is_not_a_notebook_is_reported_with_the_cell_and_line() -> None:
    with pytest.raises(SourceError, match="not JSON"):
        notebooks.read(b"{ nope")
    with pytest.raises(SourceError, match="no list of cells"):
        notebooks.read(b'{"worksheets": []}')
    with pytest.raises(SourceError) as caught:
        notebooks.read(jupyter_bytes(notebook(cell("import tensorflow as tf\n"), cell("Text", "markdown"),
                                              cell("x = 1\ndef broken(:\n"))))
    assert "(cell 3, line 2)" in str(caught.value)
    assert (caught.value.kind, caught.value.cell, caught.value.line) == (Kind.CANNOT_PARSE, 3, 2)
    with pytest.raises(SourceError) as undecodable:
        notebooks.read(b'{"cells": ["\xff"]}')
    assert undecodable.value.kind is Kind.CANNOT_DECODE
    result = analyze(jupyter_bytes(notebook(cell("tf.layers.batch_normalization(x\n"))), "bad.ipynb")
    assert result.error is not None and (result.error.code, result.error.cell) == ("E999", 1)


def test_notebooks_in_other_languages_have_nothing_to_read() -> None:
    data = notebook(cell("library(batch_normalization)\nx <- 1\n"))
    data["metadata"] = {"kernelspec": {"language": "R", "name": "ir"}, "language_info": {"name": "R"}}
    result = analyze(jupyter_bytes(data), "analysis.ipynb")
    assert result.error is None and result.findings == []


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "model.ipynb").write_bytes(jupyter_bytes(CROSS_CELL))
    (tmp_path / "notebooks" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "notebooks" / ".ipynb_checkpoints" / "model-checkpoint.ipynb").write_bytes(jupyter_bytes(CROSS_CELL))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, ["--no-cache" if a == "NOCACHE" else a for a in args])


def test_directories_are_searched_for_notebooks_unless_turned_off(project: Path) -> None:
    result = invoke("check", "--no-cache", ".")
    assert result.exit_code == 1
    assert "notebooks/model.ipynb:cell 5:2:12: BN001 [*]" in result.stdout
    assert "checkpoint" not in result.stdout
    assert invoke("check", "--no-cache", "--no-notebooks", ".").exit_code == 0
    (project / "pyproject.toml").write_text("[tool.migrate-bn]\nnotebooks = false\n")
    assert invoke("check", "--no-cache", ".").exit_code == 0
    # Named on the command line, a notebook is read whatever the settings.
    assert invoke("check", "--no-cache", "notebooks/model.ipynb").exit_code == 1


def test_an_autosave_copy_is_read_only_when_its_notebook_is_gone(project: Path) -> None:
    autosaves = project / "notebooks" / ".ipynb_checkpoints"
    (autosaves / "lost-checkpoint.ipynb").write_bytes(jupyter_bytes(CROSS_CELL))  # no notebooks/lost.ipynb
    (autosaves / "notes.ipynb").write_bytes(jupyter_bytes(CROSS_CELL))  # not an autosave copy: skipped
    found = runner.discover(["."])
    assert found == ["notebooks/.ipynb_checkpoints/lost-checkpoint.ipynb", "notebooks/model.ipynb"]
    result = invoke("check", "--no-cache", ".")
    assert "notebooks/.ipynb_checkpoints/lost-checkpoint.ipynb:cell 5:2:12: BN001" in result.stdout
    assert "model-checkpoint" not in result.stdout


def test_machine_formats_give_the_cell(project: Path) -> None:
    (record,) = json.loads(invoke("check", "--no-cache", "--output-format", "json", ".").stdout)
    assert (record["path"], record["cell"], record["line"], record["column"]) == ("notebooks/model.ipynb", 5, 2, 12)
    assert record["related"][0]["cell"] == 3
    (line,) = invoke("check", "--no-cache", "--output-format", "json-lines", ".").stdout.splitlines()
    assert json.loads(line) == record
    log = json.loads(invoke("check", "--no-cache", "--output-format", "sarif", ".").stdout)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 2 and region["properties"] == {"cell": 5}
    github = invoke("check", "--no-cache", "--output-format", "github", ".").stdout
    assert "title=migrate-bn (BN001) in cell 5" in github and "line=" not in github
    assert "notebooks/model.ipynb:cell 5:2:12: BN001" in github


def test_fix_writes_the_notebook_and_the_diff_shows_the_cells(project: Path) -> None:
    path = project / "notebooks" / "model.ipynb"
    before = path.read_bytes()
    dry = invoke("fix", "--no-cache", "--dry-run", ".")
    assert dry.exit_code == 1 and path.read_bytes() == before
    assert dry.stdout.startswith("--- a/notebooks/model.ipynb:cell 5\n+++ b/notebooks/model.ipynb:cell 5\n")
    assert "+with tf.control_dependencies(" in dry.stdout and '"outputs"' not in dry.stdout
    assert invoke("fix", "--no-cache", ".").exit_code == 0
    nbformat.validate(nbformat.read(str(path), as_version=4))
    after = path.read_bytes()
    assert json.loads(after)["cells"][4]["outputs"] == [IMAGE]
    assert invoke("fix", "--no-cache", ".").exit_code == 0 and path.read_bytes() == after


def test_what_a_fix_leaves_names_lines_by_their_cell() -> None:
    # BN001 (fixed) and BN004 (unsafe, left): BN004's message names the evaluating line.
    data = notebook(
        cell("import tensorflow as tf\nx = tf.placeholder(tf.float32, [None, 4])\n"
             "h = tf.layers.batch_normalization(x, training=True)\nloss = tf.reduce_mean(h)\n"
             "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"),
        cell("with tf.Session() as sess:\n    for step in range(5000):\n        sess.run(train_op, {x: [[1.0] * 4]})\n"
             "    print(sess.run(h, {x: [[2.0] * 4]}))\n"))
    result = analyze(jupyter_bytes(data), "two.ipynb", fix=True)
    assert result.fixed_count == 1
    (left,) = result.remaining
    assert left.code == "BN004" and left.span.cell == 1 and "(cell 2, line 4)" in left.message


def test_upgrade_takes_a_notebook_to_tf2_cell_by_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = Path(__file__).resolve().parent.parent / "fixtures" / "upgrade" / "mlp_tf_layers"
    paragraphs = (case / "tf1.py").read_text().split("\n\n")
    data = notebook(cell("# The classifier, one paragraph a cell", "markdown"),
                    *(cell(text + "\n", count=number, outputs=[OUTPUT] if number == 3 else [])
                      for number, text in enumerate(paragraphs, start=1)))
    monkeypatch.chdir(tmp_path)
    Path("mlp.ipynb").write_bytes(jupyter_bytes(data))
    result = CliRunner().invoke(main, ["upgrade", "mlp.ipynb"])
    assert result.exit_code == 0, result.output
    assert "mlp.ipynb:cell 8:10: note: `checkpoint.write` writes the layers' weights" in result.stderr
    upgraded = nbformat.read("mlp.ipynb", as_version=4)
    nbformat.validate(upgraded)
    raw = json.loads(Path("mlp.ipynb").read_text())
    assert raw["cells"][3]["outputs"] == [OUTPUT] and raw["cells"][0] == data["cells"][0]
    # The code cells, in order, are the program `upgrade` makes of the script (proven by
    # test_upgrade_runtime), up to blank lines between paragraphs.
    program = "".join(c.source + "\n" for c in upgraded.cells if c.cell_type == "code")
    expected = (case / "tf2.py").read_text()
    assert [line for line in program.splitlines() if line.strip()] == \
        [line for line in expected.splitlines() if line.strip()]
    assert CliRunner().invoke(main, ["upgrade", "mlp.ipynb"]).exit_code == 0  # nothing left to do


# A plain network, a reset (through the notebook's own helper), then batch norm.
SECTIONS = notebook(
    cell("import tensorflow as tf\n\ndef reset_graph(seed=42):\n    tf.reset_default_graph()\n    tf.set_random_seed(seed)\n"),
    cell("n_inputs = 4\nx = tf.placeholder(tf.float32, [None, n_inputs])\nloss = tf.reduce_mean(tf.layers.dense(x, 1))\n"
         "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"),
    cell("reset_graph()\nx = tf.placeholder(tf.float32, [None, n_inputs])\ntraining = tf.placeholder(tf.bool)\n"
         "h = tf.layers.batch_normalization(x, training=training)\nloss = tf.reduce_mean(h)\n"),
    cell("update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)\nwith tf.control_dependencies(update_ops):\n"
         "    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"),
)


def test_a_reset_graph_starts_another_program() -> None:
    # The first train op trains a graph without batch norm: nothing to say about it.
    assert analyze(jupyter_bytes(SECTIONS), "sections.ipynb").findings == []
    unwired = json.loads(jupyter_bytes(SECTIONS))
    unwired["cells"][3]["source"] = ["train_op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"]
    (finding,) = analyze(jupyter_bytes(unwired), "sections.ipynb").findings
    assert (finding.code, finding.span.cell) == ("BN001", 4)
    # The same in a script, with TensorFlow's own reset.
    script = "".join("".join(c["source"]) for c in unwired["cells"]).replace("reset_graph()\nx", "tf.reset_default_graph()\nx")
    assert [f.span.line for f in analyze(script.encode(), "sections.py").findings] == [script.count("\n")]


# The model defined in one cell, built and trained after a reset in each of two others.
DEFINED_BEFORE_RESETS = notebook(
    cell("import tensorflow as tf\n"),
    cell("def model(x):\n    h = tf.layers.batch_normalization(tf.layers.dense(x, 8))\n    return tf.layers.dense(h, 1)\n"),
    *[cell("tf.reset_default_graph()\nx = tf.placeholder(tf.float32, [None, 4])\n"
           "train_op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(model(x)))\n") for _ in range(2)],
)


def test_a_definition_used_after_a_reset_is_judged_in_that_graph_once() -> None:
    # The batch norm is built by the graphs after the resets, not by the cell defining it.
    findings = analyze(jupyter_bytes(DEFINED_BEFORE_RESETS), "model.ipynb").findings
    assert [(f.code, f.span.cell, f.span.line) for f in findings] == [("BN003", 2, 2)]
    # A graph that does not use the definition says nothing about it.
    unused = json.loads(jupyter_bytes(DEFINED_BEFORE_RESETS))
    for index in (2, 3):
        unused["cells"][index]["source"] = [line.replace("model(x)", "tf.layers.dense(x, 1)")
                                            for line in unused["cells"][index]["source"]]
    assert analyze(jupyter_bytes(unused), "model.ipynb").findings == []


def test_a_python2_notebook_is_read_and_fixed_as_python2() -> None:
    data = json.loads(jupyter_bytes(CROSS_CELL))
    data["cells"][2]["source"] = ["print 'building', 1\n"] + data["cells"][2]["source"]
    data["cells"][4]["source"] = ["print >>sys.stderr, `loss`\n"] + data["cells"][4]["source"]
    source = jupyter_bytes(data)
    view = notebooks.read(source)
    assert view.python2 is not None and view.write_back(view.code) == source
    result = analyze(source, "old.ipynb", fix=True)
    assert [(f.code, f.span.cell, f.span.line, f.span.column) for f in result.findings] == [("BN001", 5, 3, 12)]
    cells = json.loads(result.fixed_source)["cells"]
    assert cells[2] == data["cells"][2]
    assert cells[4]["source"][:3] == ["print >>sys.stderr, `loss`\n", "loss = tf.reduce_mean(h)\n", WRAP.rstrip(" ")]
    nbformat.validate(nbformat.reads(result.fixed_source.decode(), as_version=4))
    assert not analyze(result.fixed_source, "old.ipynb", fix=True).changed
