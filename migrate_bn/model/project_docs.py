"""What the project's own words say about its batch norm: a documented design.

Some projects keep batch norm in training mode at test on purpose and say so ("Batch
normalization and 2D Spatial Dropout are still retained during testing for good
performance", in ENet's README). The code then looks exactly like BN004's bug: a
literal `True` in a graph that is evaluated. The issue's words: "a config comment or
flag saying training-mode-only". The model reads the project's README files (at its
root) and the module's own comments for one sentence that says it:

- it names batch norm (`batch norm`, `batch normalization`, `batchnorm`, `BN`),
- it names test time (`test`, `testing`, `inference`, `evaluation`, `prediction`,
  `validation`),
- it says the layer keeps training behaviour (`retain`, `keep`, `kept`,
  `training mode`, `batch statistics`; not a bare `still`: "we still need to test
  batch norm" says nothing),
- and it says nothing the other way (`not`, `never`, `no longer`, `instead`, `false`,
  `moving`, `population`, `n't`).

Unknown (no root, no README, no such sentence) means not documented: the alarm stays.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ..project import read_bytes

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts

_README = re.compile(r"^readme(\.(md|rst|txt|markdown))?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*#\d]")
_BATCH_NORM = re.compile(r"\bbatch[\s_-]?norm(ali[sz]ation)?\b|\bBN\b", re.IGNORECASE)
_TEST_TIME = re.compile(r"\b(test(ing)?|inference|evaluat\w*|predict\w*|validat\w*)\b", re.IGNORECASE)
_KEPT = re.compile(r"\b(retain\w*|keep\w*|kept|training[\s-]mode|batch statistics)\b", re.IGNORECASE)
_OTHER_WAY = re.compile(r"\b(not|never|no longer|instead|false|moving|population)\b|n't", re.IGNORECASE)
_COMMENT = re.compile(r"#(.*)$", re.MULTILINE)
_MAX_README_BYTES = 200_000


def training_mode_at_test(facts: "ModuleFacts") -> bool:
    """Do the project's README or the module's comments say that batch norm is kept in
    training mode at test time, on purpose?"""
    key = "project_docs.training_mode_at_test"
    if key not in facts.model_cache:
        facts.model_cache[key] = _documented(facts)
    return facts.model_cache[key]


def says_training_mode_at_test(text: str) -> bool:
    """Does one sentence of `text` say batch norm stays in training mode at test?"""
    for sentence in _SENTENCE_END.split(text):
        if _BATCH_NORM.search(sentence) and _TEST_TIME.search(sentence) and _KEPT.search(sentence) and \
                not _OTHER_WAY.search(sentence):
            return True
    return False


def _documented(facts: "ModuleFacts") -> bool:
    # Each comment line on its own: a sentence is not read across unrelated comments.
    comments = "\n\n".join(match.group(1) for match in _COMMENT.finditer(facts.text))
    if says_training_mode_at_test(comments):
        return True
    resolver = facts.resolver
    if resolver is None:
        return False
    from .project_graphs import project_root_of

    root = project_root_of(resolver)
    if root is None:
        return False
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return False
    for name in names:
        if not _README.match(name):
            continue
        path = os.path.join(root, name)
        source = read_bytes(path)
        if source is None or len(source) > _MAX_README_BYTES:
            continue
        resolver.dependencies.add(path)
        if says_training_mode_at_test(source.decode("utf-8", "replace")):
            return True
    return False
