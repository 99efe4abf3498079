"""The project-wide Keras questions (migrate_bn/model/keras_project.py) and the project's
own names for TensorFlow (migrate_bn/model/aliases.py)."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.model.keras_project import module_picture, package_directory, project_root, read_text
from migrate_bn.project import Project

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"

SESSION_SCRIPT = """
import tensorflow as tf
x = tf.placeholder(tf.float32, [None, 4])
y = tf.keras.layers.BatchNormalization()(x)
train_op = tf.train.AdamOptimizer().minimize(tf.reduce_mean(y))
"""


def test_keras_batch_norm_is_told_by_its_module_or_its_import() -> None:
    assert read_text("net = tf.keras.layers.BatchNormalization()(net)").keras_batch_norm
    imported = "from tensorflow.keras.layers import (\n    Conv2D,\n    BatchNormalization)\nBatchNormalization()(x)"
    assert read_text(imported).keras_batch_norm
    assert not read_text("net = tf.layers.BatchNormalization()(net)").keras_batch_norm
    other_import = "from tensorflow.keras import layers\nx = 1\nnet = tf.layers.BatchNormalization()(x)\n"
    assert not read_text(other_import).keras_batch_norm
    assert not read_text("# keras.layers.BatchNormalization(\n").keras_batch_norm  # a comment


def test_a_library_fit_is_not_keras_training() -> None:
    own_fit = module_picture(SESSION_SCRIPT + "model.fit(data)\n")
    assert not own_fit.keras_training and own_fit.phase_never_set
    keras_fit = module_picture(SESSION_SCRIPT + "model = tf.keras.Model(x, y)\nmodel.fit(data)\n")
    assert keras_fit.keras_training and not keras_fit.phase_never_set


def test_anything_that_sets_the_phase_silences() -> None:
    for extra in ("tf.keras.backend.set_learning_phase(1)", "with tf.GradientTape() as tape: pass",
                  "sess.run(y, {tf.keras.backend.learning_phase(): 1})"):
        assert not module_picture(SESSION_SCRIPT + extra + "\n").phase_never_set, extra


def test_a_module_alone_is_its_own_program() -> None:
    found = analyze(SESSION_SCRIPT.encode(), "script.py").findings
    assert [(f.code, f.span.line) for f in found] == [("BN003", 4), ("BN008", 5)]
    inside_call = SESSION_SCRIPT.replace("y = tf.keras.layers.BatchNormalization()(x)",
                                         "class Block:\n    def call(self, x):\n"
                                         "        return tf.keras.layers.BatchNormalization()(x)\ny = Block().call(x)")
    assert "BN003" not in [f.code for f in analyze(inside_call.encode(), "script.py").findings]


def test_project_root_and_package() -> None:
    unet = PROJECTS / "keras_phase_never_set" / "separation" / "unet.py"
    assert project_root(str(unet)) == str(unet.parent.parent)
    assert package_directory(str(unet)) == str(unet.parent)
    assert package_directory(str(unet.parent.parent / "train.py")) is None


def test_a_tf_alias_bound_in_a_project_module_is_tensorflow() -> None:
    trainer = PROJECTS / "keras_bn_trainer_update_ops" / "recsys" / "training" / "trainer.py"
    alone = analyze(trainer.read_bytes(), str(trainer)).findings
    assert alone == []
    resolver = Project().resolver(str(trainer))
    found = analyze(trainer.read_bytes(), str(trainer), resolver=resolver).findings
    assert [f.code for f in found] == ["BN008"]
    assert any(path.endswith("version.py") for path in resolver.dependencies)


def test_the_word_guards_never_change_an_answer(monkeypatch) -> None:
    """`_Words` skips a regular expression in a text without its words: every match holds
    one, so the file facts are those of the bare expressions, on the project's fixtures
    and on one line of each alternative."""
    from migrate_bn.model import keras_project

    texts = [path.read_text(errors="replace") for path in sorted(PROJECTS.parent.rglob("*.py"))]
    texts += ["y = resnet_v1_50(x)", "import slim.batch_norm", "tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, u)",
              "K.function([x], [y])", "class Net(tf.keras.layers.Layer):\n    pass\nfrom keras import x",
              "keras.applications.x", "sess = tf.Session()\nopt.minimize(loss)", "a.updates", "training=flag"]
    guarded = [read_text(text) for text in texts]
    monkeypatch.setattr(keras_project._Words, "search", lambda self, text: self.pattern.search(text))
    assert guarded == [read_text(text) for text in texts]


def test_the_imports_are_the_top_level_modules_named_at_the_start_of_a_line() -> None:
    text = "import a.b\n  from c import d\nx = 1  # import e\n\tfrom  f.g import h\nreimport i\nimport\\\n  j\n"
    assert read_text(text).imports == {"a", "c", "f"}
    assert read_text("from k import l").imports == {"k"}  # the first line too


def test_the_tree_picture_reads_facts_lazily_and_answers_as_all_of_them() -> None:
    """`TreePicture` reads a file's facts only as far as an answer needs them: its answers
    are those `combine` gives for every file's facts, on each fixture tree and package."""
    from migrate_bn.model.keras_project import TreePicture, _read, _read_tree, combine

    checked = answered = 0
    for root in sorted({path.parent for path in PROJECTS.parent.rglob("*.py")}):
        files = _read_tree(str(root))
        every = [read_text(_read(path)) if file is not None else None for path, file in files]
        names = [None] + sorted({Path(path).parent.name for path, _ in files})
        for name in names:
            chosen = [i for i, (path, file) in enumerate(files) if name is None or f"/{name}/" in path
                      or (file is not None and name in file.imports)]
            read = [every[i] for i in chosen if every[i] is not None]
            whole = combine(tuple(files[i][0] for i in chosen if every[i] is not None), read, len(read) == len(chosen))
            lazy = TreePicture([files[i][1] for i in chosen])
            assert (lazy.phase_never_set, lazy.keras_updates_never_run, lazy.keras_batch_norm, lazy.keras_lines) == \
                (whole.phase_never_set, whole.keras_updates_never_run, whole.keras_batch_norm, whole.keras_lines)
            checked += 1
            answered += whole.phase_never_set or whole.keras_updates_never_run
    assert checked > 100 and answered >= 5
