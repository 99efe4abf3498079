"""The text test rules ask before walking a module for a name (migrate_bn/model/spelled.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from migrate_bn import facts as facts_module
from migrate_bn.api import analyze
from migrate_bn.model.spelled import may_name, word_start

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _facts(text: str) -> facts_module.ModuleFacts:
    return facts_module.build(ast.parse(text), text, None)


def test_a_name_is_spelled_as_a_whole_word() -> None:
    facts = _facts("import tensorflow as tf\ny = tf.cond(p, f, g)\nseconds = 2\n")
    assert may_name(facts, "cond")
    assert may_name(facts, "smart_cond", "cond")
    assert not may_name(facts, "smart_cond")
    assert not may_name(facts, "sec", "second", "ond")


def test_a_text_that_is_not_ascii_may_name_anything() -> None:
    # Python reads the fullwidth letters as `cond` (NFKC): the syntax tree holds a name
    # the text does not spell.
    text = "import tensorflow as tf\ny = tf.\uff43\uff4f\uff4e\uff44(p, f, g)\n"
    assert ast.parse(text).body[1].value.func.attr == "cond"
    assert may_name(_facts(text), "cond")


def test_word_start_matches_where_a_leading_boundary_does() -> None:
    text = "Model(x) kerasModel(y) Model (z) _Model(w) Model"
    assert [m.start() for m in re.finditer(word_start("Model"), text)] == \
        [m.start() for m in re.finditer(r"\bModel", text)]


def test_a_cond_spelled_by_an_alias_is_still_found() -> None:
    """BN010 asks the text first: `from tensorflow import cond as choose` still spells it."""
    fixture = FIXTURES / "bn010" / "ema_apply_outside_cond" / "before.py"
    source = fixture.read_text().replace("import tensorflow as tf\n", "import tensorflow as tf\n"
                                         "from tensorflow import cond as choose\n", 1).replace("tf.cond(", "choose(")
    assert "choose(phase_train" in source and "tf.cond" not in source
    codes = [f.code for f in analyze(fixture.read_bytes(), "model.py").findings]
    assert "BN010" in codes and [f.code for f in analyze(source.encode(), "model.py").findings] == codes
