"""A module's full facts, built once for its importers' summary and its own analysis
(`migrate_bn.model.built_facts`): the same findings as a build of their own."""

from __future__ import annotations

from migrate_bn.api import analyze
from migrate_bn.project import Project

MODEL = ("import tensorflow as tf\n\ndef net(x, is_training=True):\n"
         "    return tf.layers.batch_normalization(x, training=is_training)\n\n"
         "def train(x):\n    loss = net(x)\n    return tf.train.AdamOptimizer().minimize(loss)\n")


def _findings(result):
    return [(f.code, f.span.line, f.span.column, f.message) for f in result.findings]


def test_the_analysis_takes_the_facts_built_for_the_summary(tmp_path) -> None:
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    (tmp_path / "train.py").write_text("from model import net\n")
    project = Project([str(model), str(tmp_path / "train.py")])
    assert "net" in project.summary(str(model))
    resolver = project.resolver(str(model))
    result = analyze(model.read_bytes(), str(model), resolver=resolver)
    assert not project.built._kept  # taken, not built again
    alone = analyze(model.read_bytes(), str(model), resolver=Project([str(model)]).resolver(str(model)))
    assert _findings(result) == _findings(alone) and result.findings


def test_facts_built_across_a_cut_import_cycle_are_not_kept(tmp_path) -> None:
    (tmp_path / "a.py").write_text("from b import helper\n" + MODEL + "\ndef other(x):\n    return helper(x)\n")
    (tmp_path / "b.py").write_text("from a import net\n\ndef helper(x):\n    return net(x)\n")
    project = Project([str(tmp_path / "a.py"), str(tmp_path / "b.py")])
    project.summary(str(tmp_path / "a.py"))  # b's summary meets a's in progress: {} for now
    assert project.built.cuts and not project.built._kept


def test_kept_facts_are_not_taken_for_other_bytes(tmp_path) -> None:
    model = tmp_path / "model.py"
    model.write_text(MODEL)
    project = Project([str(model)])
    project.summary(str(model))
    edited = MODEL.replace("is_training=True", "is_training=False").encode()
    result = analyze(edited, str(model), resolver=project.resolver(str(model)))
    alone = analyze(edited, str(model), resolver=Project([str(model)]).resolver(str(model)))
    assert _findings(result) == _findings(alone)


def test_the_module_analysed_last_is_offered_after_its_analysis(tmp_path) -> None:
    model, other, third = tmp_path / "model.py", tmp_path / "other.py", tmp_path / "third.py"
    for path in (model, other, third):
        path.write_text(MODEL)
    for watch in (False, True):
        project = Project([str(model), str(other), str(third)], watch=watch)
        for path in (model, other):
            analyze(path.read_bytes(), str(path), resolver=project.resolver(str(path)))
        # While other.py is analysed, model.py (analysed before it) is kept for questions
        # asked after its analysis; not in the language server, whose saves keep the model.
        assert (project.built.view(str(model), model.read_bytes()) is not None) is not watch
        analyze(third.read_bytes(), str(third), resolver=project.resolver(str(third)))
        assert project.built.view(str(model), model.read_bytes()) is None  # one only
