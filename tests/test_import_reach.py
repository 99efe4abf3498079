"""Which modules an entry's imports may lead to (model/import_reach.py): a superset of
what its reach holds, read from bytes, so that the program skips entries that cannot
lead to the module a rule asks about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate_bn.model.import_reach import ImportReach
from migrate_bn.model.program import Program
from migrate_bn.project import Project, read_bytes

HELPER = "import tensorflow as tf\n\n\ndef conv_bn(x):\n    return tf.layers.batch_normalization(x)\n"
TRAIN = ("import tensorflow as tf\n{imports}\n\nx = tf.placeholder(tf.float32, [None, 3])\n"
         "loss = tf.reduce_mean({call})\ntrain_op = tf.train.AdamOptimizer(1e-3).minimize(loss)\n")


def _tree(root: Path, files: dict[str, str]) -> None:
    (root / "setup.cfg").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def _notebook(source: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                                  "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


TREES = {
    "from-import": {"ops.py": HELPER, "train.py": TRAIN.format(imports="from ops import conv_bn", call="conv_bn(x)")},
    "aliased-package": {"pkg/__init__.py": "", "pkg/sub/inner.py": HELPER,
                        "train.py": TRAIN.format(imports="import pkg.sub as s", call="s.inner.conv_bn(x)")},
    "star-through-package": {"pkg/__init__.py": "from .layers import *\n", "pkg/layers.py": HELPER,
                             "pkg/model.py": "from . import *\n\n\ndef net(x):\n    return conv_bn(x)\n",
                             "train.py": TRAIN.format(imports="from pkg.model import net", call="net(x)")},
    "relative-up": {"a/__init__.py": "", "a/ops.py": HELPER, "a/b/__init__.py": "",
                    "a/b/model.py": "from .. import ops\n\n\ndef net(x):\n    return ops.conv_bn(x)\n",
                    "train.py": TRAIN.format(imports="from a.b.model import net", call="net(x)")},
    "script-directory": {"scripts/ops.py": HELPER,
                         "scripts/train.py": TRAIN.format(imports="import ops", call="ops.conv_bn(x)")},
    "notebook": {"ops.py": HELPER, "Train.ipynb": _notebook(TRAIN.format(imports="from ops import conv_bn",
                                                                          call="conv_bn(x)"))},
    "non-ascii-text": {"ops.py": HELPER,
                       "train.py": "# é\n" + TRAIN.format(imports="import ops", call="ops.conv_bn(x)")},
}


@pytest.mark.parametrize("files", TREES.values(), ids=TREES.keys())
def test_every_module_a_reach_holds_is_in_its_entry_closure(tmp_path: Path, files: dict[str, str]) -> None:
    _tree(tmp_path, files)
    program = Program(Project(), str(tmp_path))
    reached = program._reach()
    assert any(name == "conv_bn" for _, name in reached), reached  # the tree does reach it
    imports = ImportReach(read_bytes, Project().marked)
    for (path, _), entries in reached.items():
        for entry, via in entries:
            assert imports.may_lead_to(entry, path)
            assert all(imports.may_lead_to(entry, module) for module in via)


def test_an_entry_whose_imports_cannot_lead_there_is_not_built(tmp_path: Path) -> None:
    # (`tf.train` names a module `train.py` too: the entries are named otherwise here.)
    _tree(tmp_path, {"ops.py": HELPER, "fit.py": TRAIN.format(imports="from ops import conv_bn", call="conv_bn(x)"),
                     "other.py": TRAIN.format(imports="import numpy", call="x")})
    project = Project()
    helper = str(tmp_path / "ops.py")
    scope = project.resolver(helper).analysis_facts(project.views.read(helper, read_bytes(helper))).module \
        .functions["conv_bn"]
    program = Program(project, str(tmp_path))
    assert [entry for entry, _ in program._entries_reaching(helper, scope)] == [str(tmp_path / "fit.py")]
    assert str(tmp_path / "other.py") not in program._reaches
    assert str(tmp_path / "other.py") not in program._calls


def test_a_notebook_that_is_not_json_may_lead_anywhere(tmp_path: Path) -> None:
    _tree(tmp_path, {"ops.py": HELPER, "Broken.ipynb": "{not json"})
    assert ImportReach(read_bytes, Project().marked).may_lead_to(str(tmp_path / "Broken.ipynb"), str(tmp_path / "ops.py"))


def test_a_notebook_leads_only_where_its_code_cells_name(tmp_path: Path) -> None:
    cells = [{"cell_type": "markdown", "source": ["Uses `ops`.\n"], "metadata": {}},
             {"cell_type": "code", "source": ["import numpy\n", "x = numpy.zeros(3)"], "metadata": {},
              "outputs": [{"output_type": "stream", "name": "stdout", "text": ["layers\n"]}], "execution_count": 1}]
    _tree(tmp_path, {"ops.py": HELPER, "layers.py": HELPER, "numpy.py": "",
                     "Demo.ipynb": json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})})
    imports = ImportReach(read_bytes, Project().marked)
    demo = str(tmp_path / "Demo.ipynb")
    assert imports.may_lead_to(demo, str(tmp_path / "numpy.py"))
    assert not imports.may_lead_to(demo, str(tmp_path / "ops.py"))  # named in markdown only
    assert not imports.may_lead_to(demo, str(tmp_path / "layers.py"))  # in an output only


def test_a_module_named_otherwise_than_ascii_may_always_be_named(tmp_path: Path) -> None:
    _tree(tmp_path, {"modèle.py": HELPER, "train.py": "import numpy\n"})
    assert ImportReach(read_bytes, Project().marked).may_lead_to(str(tmp_path / "train.py"), str(tmp_path / "modèle.py"))
    assert not ImportReach(read_bytes, Project().marked).may_lead_to(str(tmp_path / "train.py"), str(tmp_path / "setup.py"))
