"""Decide, without parsing, whether a file can hold anything a rule looks for.

Every rule needs a batch-norm site, a train op whose batch norm lives in another
module, or a Keras learning-phase call, and each is written with one of the words in
tfapi.PREFILTER_WORDS (tests/test_tfapi.py checks the tables against them), so a file
without any of them has no findings; searching the raw bytes is about 25x cheaper than
parsing with `ast`.
"""

from __future__ import annotations

import re

from . import tfapi

_WORDS = re.compile("|".join(re.escape(word) for word in tfapi.PREFILTER_WORDS).encode("ascii"))


def may_matter(source: bytes) -> bool:
    return _WORDS.search(source) is not None
