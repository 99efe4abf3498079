"""The import summary of a module analysed before any importer asked for it, made from
what its analysis kept (`migrate_bn.model.analysed_summaries`): no second build, and the
summary a build of its own gives."""

from __future__ import annotations

from migrate_bn import facts as facts_module
from migrate_bn.api import analyze
from migrate_bn.project import Project

MODEL = ("import tensorflow as tf\nfrom layers import conv_bn\n\n"
         "def net(x, is_training=True):\n"
         "    return tf.layers.batch_normalization(x, training=is_training)\n\n"
         "class Net:\n    def __init__(self, training):\n        self.training = training\n\n"
         "    def __call__(self, x):\n        return net(x, self.training)\n\n"
         "def plain(x):\n    return x\n")
LAYERS = ("import tensorflow as tf\n\ndef conv_bn(x, train):\n"
          "    return tf.layers.batch_normalization(x, training=train)\n")


def _tree(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "layers.py").write_text(LAYERS)
    (tmp_path / "other.py").write_text("import tensorflow as tf\ny = tf.layers.batch_normalization(1)\n")
    (tmp_path / "train.py").write_text("from model import net, conv_bn\nloss = net(1)\n")
    return [str(tmp_path / name) for name in ("model.py", "other.py", "train.py")]


def _analyse(project, paths):
    for path in paths:
        with open(path, "rb") as handle:
            analyze(handle.read(), path, resolver=project.resolver(path))


def test_a_summary_asked_after_the_analysis_is_not_built_again(tmp_path, monkeypatch) -> None:
    paths = _tree(tmp_path)
    project = Project(paths)
    _analyse(project, paths[:2])  # other.py's analysis keeps model.py's part
    assert paths[0] in project._own_parts
    builds = []
    real_build = facts_module.build
    monkeypatch.setattr(facts_module, "build", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    _analyse(project, paths[2:])  # train.py asks model.py's summary
    summary = project.summary(paths[0])
    assert len(builds) == 1  # train.py's own
    fresh = Project(paths).summary(paths[0])
    assert summary == fresh and {"net", "Net", "conv_bn"} <= set(summary)
    assert project._dependencies[paths[0]] >= {str(tmp_path / "layers.py")}


def test_other_bytes_on_disk_are_summarized_anew(tmp_path) -> None:
    paths = _tree(tmp_path)
    project = Project(paths)
    _analyse(project, paths)
    (tmp_path / "model.py").write_text(MODEL.replace("def net(", "def renamed("))
    assert "renamed" in project.summary(paths[0]) and "net" not in project.summary(paths[0])


def test_the_language_server_keeps_nothing(tmp_path) -> None:
    paths = _tree(tmp_path)
    project = Project(paths, watch=True)
    _analyse(project, paths)
    assert not project._own_parts
