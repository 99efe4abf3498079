"""Dead code in the whole program (migrate_bn/model/liveness.py): a train op built where
nothing ever runs it skips no update, and BN001 stays silent there; where the rest of
the program is unknown, or mentions the helper in any way, it may run and is judged."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.project import Project

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
DEAD = PROJECTS / "dead_train_helper"
HELPER = DEAD / "vision" / "classifier.py"


def _codes(path: Path, program: list[Path] | None, source: bytes | None = None) -> list[str]:
    project = Project([str(p) for p in program]) if program is not None else Project()
    result = analyze(source if source is not None else path.read_bytes(), str(path),
                     resolver=project.resolver(str(path)))
    return [f.code for f in result.findings]


def _program(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py"))


def test_helper_nothing_calls_is_dead_in_the_program() -> None:
    assert _codes(HELPER, _program(DEAD)) == []


def test_without_the_program_the_helper_may_run() -> None:
    # Standard input, an editor buffer: the callers are unknown, so the train op is judged.
    assert _codes(HELPER, None) == ["BN001"]
    assert analyze(HELPER.read_bytes(), "classifier.py").findings[0].code == "BN001"


def test_any_mention_elsewhere_keeps_it_alive(tmp_path: Path) -> None:
    # A string for getattr, a callback, a comment: the name is looked for as a word.
    other = tmp_path / "dispatch.py"
    other.write_text("import vision.classifier as c\nstep = getattr(c, 'sgd_step')\n")
    assert _codes(HELPER, [*_program(DEAD), other]) == ["BN001"]


def test_a_call_in_its_own_module_keeps_it_alive() -> None:
    source = HELPER.read_bytes() + b"\nSTEP = sgd_step\n"
    assert _codes(HELPER, _program(DEAD), source) == ["BN001"]


def test_decorated_functions_and_methods_of_subclasses_may_run() -> None:
    text = HELPER.read_text()
    decorated = text.replace("def sgd_step(", "@register\ndef sgd_step(").encode()
    assert _codes(HELPER, _program(DEAD), decorated) == ["BN001"]
    method = (text.replace("class Classifier:", "class Classifier(Base):")
              .replace("\n\ndef sgd_step(loss, rate):", "\n    def sgd_step(self, loss, rate):")
              .replace("    return tf.train.Gradient", "        return tf.train.Gradient")).encode()
    # A base class (a framework's, maybe) may call the method by its name.
    assert _codes(HELPER, _program(DEAD), method) == ["BN001"]
    plain = method.replace(b"class Classifier(Base):", b"class Classifier:")
    assert _codes(HELPER, _program(DEAD), plain) == []


def test_an_unreadable_file_of_the_program_may_call_it(tmp_path: Path) -> None:
    assert _codes(HELPER, [*_program(DEAD), tmp_path / "gone.py"]) == ["BN001"]


def test_the_program_files_are_dependencies_of_the_answer() -> None:
    # The cache must drop the answer when another file (or a directory's listing) changes.
    resolver = Project([str(p) for p in _program(DEAD)]).resolver(str(HELPER))
    analyze(HELPER.read_bytes(), str(HELPER), resolver=resolver)
    assert str(DEAD / "fit.py") in resolver.all_dependencies()
    assert str(DEAD) in resolver.all_dependencies()
