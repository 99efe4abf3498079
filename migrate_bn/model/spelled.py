"""Whether a module's code can name something at all, told from its text.

A rule's question that walks every call of a module, or its whole syntax tree, to find
a `tf.cond` or a bool placeholder finds nothing in most modules: the names it looks for
are not in their text. A name the syntax tree holds (an attribute, an imported name, a
variable) is spelled in the text the tree was parsed from, as a whole word, when that
text is ASCII; a qualified name the facts resolve ends with such a name (an import or an
alias keeps the name's last part). A text that is not ASCII may spell an identifier in
another form that Python normalizes to it (NFKC): it may name anything.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..facts import ModuleFacts


def may_name(facts: "ModuleFacts", *names: str) -> bool:
    """Can the module's code name one of `names` (identifiers)? No only when its text is
    ASCII and holds none of them as a whole word (a comment or a string holding one
    answers yes: the test is cheap, not exact)."""
    return not _ascii(facts) or any(_whole_word(name).search(facts.text) is not None for name in names)


def may_name_with(facts: "ModuleFacts", part: str) -> bool:
    """Can the module's code name an identifier holding `part` (`AdamOptimizer` holds
    `Optimizer`)? No only when its text is ASCII and does not hold it."""
    return not _ascii(facts) or part in facts.text


def _ascii(facts: "ModuleFacts") -> bool:
    ascii_text = facts.model_cache.get("spelled.ascii")
    if ascii_text is None:
        ascii_text = facts.model_cache["spelled.ascii"] = facts.text.isascii()
    return ascii_text


@functools.lru_cache(maxsize=None)
def _whole_word(name: str) -> re.Pattern:
    return re.compile(word_start(name) + r"(?!\w)")


def word_start(word: str) -> str:
    """A pattern for `word` at the start of a word (`\\bword`), written with the literal
    first and the `\\b` as a look-behind after it, so that `re` finds it by its fast scan
    for the literal (a pattern that starts with `\\b` is tried at every position: 25
    times slower on the bulk tree's texts)."""
    literal = re.escape(word)
    return f"{literal}(?<!\\w{literal})"
