"""The project's shared views: the same bytes give the same view back, other bytes a new one."""

from __future__ import annotations

from migrate_bn.model.views import Views
from migrate_bn.project import Project


def test_a_view_is_shared_only_for_the_same_bytes(tmp_path) -> None:
    views = Views(max_files=2)
    path = str(tmp_path / "a.py")
    first = views.read(path, b"x = 1\n")
    assert views.read(path, b"x = 1\n") is first
    assert views.read(path, b"x = 2\n") is not first
    views.read(str(tmp_path / "b.py"), b"y = 1\n")
    views.read(str(tmp_path / "c.py"), b"z = 1\n")  # the third file pushes out the least recent
    assert views.read(path, b"x = 2\n").text == "x = 2\n" and views.misses == 5


def test_a_summarized_module_is_not_parsed_again_for_its_own_analysis(tmp_path) -> None:
    model = tmp_path / "model.py"
    model.write_text("import tensorflow as tf\n\ndef net(x, is_training):\n"
                     "    return tf.layers.batch_normalization(x, training=is_training)\n")
    train = tmp_path / "train.py"
    train.write_text("from model import net\n")
    project = Project()
    assert "net" in project.summary(str(model))
    project.resolver(str(model)).read(model.read_bytes())
    assert project.views.hits == 1
