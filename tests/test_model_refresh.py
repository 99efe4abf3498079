"""Keeping the project's model across saves (model/refresh.py): a refresh drops what the
files changed on disk touch, and nothing when nothing changed."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.model.program import programs_of
from migrate_bn.project import Project
from test_programs import IMPORTER, MODELS, MODELS_PLAIN, rewrite  # conftest.py makes it importable

HELPER = """import tensorflow as tf


def conv_bn(inputs):
    return tf.layers.batch_normalization(tf.layers.conv2d(inputs, 8, 3))
"""
PLAIN = """import tensorflow as tf


def conv_bn(inputs):
    return tf.layers.conv2d(inputs, 8, 3)
"""
TRAIN = """import tensorflow as tf
from ops import conv_bn

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
is_training = tf.placeholder(tf.bool)
loss = tf.reduce_mean(conv_bn(images))
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
"""
EXPORT = """import tensorflow as tf
from ops import conv_bn

out = conv_bn(tf.placeholder(tf.float32, [1, 8, 8, 3]))
"""
def _tree(root: Path, files: dict[str, str]) -> None:
    (root / "setup.cfg").write_text("")
    for name, text in files.items():
        rewrite(root / name, text)


def _codes(project: Project, path: Path, source: bytes = None) -> list[str]:
    source = path.read_bytes() if source is None else source
    return [f.code for f in analyze(source, str(path), resolver=project.resolver(str(path))).findings]


def test_a_changed_imported_module_changes_the_importers_findings(tmp_path: Path) -> None:
    _tree(tmp_path, {"models.py": MODELS, "train.py": IMPORTER})
    project = Project(watch=True)
    train = tmp_path / "train.py"
    assert _codes(project, train) == ["BN001"]
    rewrite(tmp_path / "models.py", MODELS_PLAIN)
    # Without a refresh the kept summary still answers (what the language server did
    # wrong if it kept the model without refreshing it) ...
    assert _codes(project, train) == ["BN001"]
    changes = project.refresh()
    assert str(tmp_path / "models.py") in changes.changed
    # ... after it, the module is read again.
    assert _codes(project, train) == []
    rewrite(tmp_path / "models.py", MODELS)
    project.refresh()
    assert _codes(project, train) == ["BN001"]


def test_a_changed_training_program_changes_a_helpers_findings(tmp_path: Path) -> None:
    _tree(tmp_path, {"ops.py": HELPER, "train.py": TRAIN})
    project = Project(watch=True)
    ops = tmp_path / "ops.py"
    assert _codes(project, ops) == ["BN003"]
    rewrite(tmp_path / "train.py", EXPORT)  # trains nothing any more
    project.refresh()
    assert _codes(project, ops) == []
    (tmp_path / "train.py").unlink()
    rewrite(tmp_path / "bin_train.py", TRAIN)  # a new file trains it
    changes = project.refresh()
    assert str(tmp_path / "bin_train.py") in changes.added
    assert str(tmp_path / "train.py") in changes.removed
    assert _codes(project, ops) == ["BN003"]


def test_nothing_changed_keeps_every_per_module_cache(tmp_path: Path) -> None:
    _tree(tmp_path, {"ops.py": HELPER, "train.py": TRAIN, "models.py": MODELS, "main.py": IMPORTER})
    project = Project(watch=True)
    ops, main = tmp_path / "ops.py", tmp_path / "main.py"
    first = (_codes(project, ops), _codes(project, main))
    summaries = dict(project._summaries)
    (program,) = programs_of(project)
    modules, calls = dict(program._modules), dict(program._calls)
    misses = project.views.misses
    changes = project.refresh()
    assert not (changes.changed or changes.added or changes.removed or changes.stale)
    assert (_codes(project, ops), _codes(project, main)) == first
    # The same summaries and module facts (not rebuilt), and no module parsed again.
    assert all(project._summaries[path] is summary for path, summary in summaries.items())
    assert all(program._modules[path] is module for path, module in modules.items())
    assert all(program._calls[path] is module for path, module in calls.items())
    assert project.views.misses == misses


def test_a_change_drops_only_the_modules_that_depend_on_it(tmp_path: Path) -> None:
    _tree(tmp_path, {"ops.py": HELPER, "train.py": TRAIN, "models.py": MODELS, "main.py": IMPORTER})
    project = Project(watch=True)
    _codes(project, tmp_path / "ops.py")
    _codes(project, tmp_path / "main.py")
    (program,) = programs_of(project)
    train, models = str(tmp_path / "train.py"), str(tmp_path / "models.py")
    kept = program._calls[train]
    assert models in project._summaries
    rewrite(tmp_path / "models.py", MODELS_PLAIN)
    changes = project.refresh()
    assert changes.changed == {models}
    assert models not in project._summaries
    assert program._calls[train] is kept  # depends on nothing that changed
    assert _codes(project, tmp_path / "main.py") == []


def test_the_buffer_wins_over_the_disk_for_its_own_file(tmp_path: Path) -> None:
    _tree(tmp_path, {"models.py": MODELS, "train.py": IMPORTER.replace(
        "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)",
        "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
        "    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)")})
    project = Project(watch=True)
    train = tmp_path / "train.py"
    assert _codes(project, train) == []
    assert _codes(project, train, IMPORTER.encode()) == ["BN001"]  # the unsaved buffer
    rewrite(tmp_path / "models.py", MODELS + "\n")
    project.refresh()
    assert _codes(project, train, IMPORTER.encode()) == ["BN001"]
    assert _codes(project, train) == []


def test_a_project_not_watching_has_nothing_to_refresh(tmp_path: Path) -> None:
    _tree(tmp_path, {"models.py": MODELS, "train.py": IMPORTER})
    project = Project()
    assert _codes(project, tmp_path / "train.py") == ["BN001"]
    assert project.stamps is None and not project.refresh().stale


def test_the_keras_picture_reads_again_only_the_files_that_changed(tmp_path: Path) -> None:
    from migrate_bn.model.keras_project import read_files

    _tree(tmp_path, {"models.py": MODELS, "train.py": IMPORTER})
    paths = [str(tmp_path / "models.py"), str(tmp_path / "train.py")]
    known = read_files(paths)
    rewrite(tmp_path / "models.py", "import tensorflow as tf\nbn = tf.keras.layers.BatchNormalization()\n")
    fresh = read_files(paths, known, frozenset({paths[0]}))
    assert fresh[1][1] is known[1][1]
    assert fresh[0][1].keras_batch_norm and not known[0][1].keras_batch_norm
