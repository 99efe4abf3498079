"""Batch-norm settings returned by the module's own function (`normalizer_params=
settings(training)`, `**settings(training)`): facts.dict_entries reads the returned dict
literal, with the function's parameters bound to the call's arguments
(fixtures/silent/bn_params_from_helper_function_updates_none)."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "silent" / \
    "bn_params_from_helper_function_updates_none" / "before.py"
SOURCE = CASE.read_text()


def _codes(source: str) -> list[str]:
    return [finding.code for finding in analyze(source.encode(), "train.py").findings]


def test_in_place_updates_from_a_helper_dict_need_no_dependency() -> None:
    assert _codes(SOURCE) == []


def test_the_same_helper_without_in_place_updates_is_bn001() -> None:
    assert _codes(SOURCE.replace(", 'updates_collections': None", "")) == ["BN001"]


def test_a_helper_with_two_returns_or_a_computed_entry_stays_unknown() -> None:
    # Two returns: the dict cannot be told, so the updates may go anywhere: silent.
    two = SOURCE.replace("def norm_settings(training):\n",
                         "def norm_settings(training):\n    if training is None:\n        return {}\n")
    assert "BN001" not in _codes(two)
