"""Which scopes of a converted model hold transposed convolutions, for `ckpt-convert`.

A TF1 checkpoint holds a convolution's and a transposed convolution's kernel alike (rank
4; (h, w, in, out) and (h, w, out, in)), so `ckpt-convert` cannot tell them apart by their
shapes, and Keras 3 tracks the two kernels under different names (`_kernel`, `kernel`):
the layer it writes must be the model's own class. The conversion knows each layer's
class and the expression of its scope (model_code.py: literals, names of the loops and
parameters, `unique_scope(...)` for an unnamed layer), so the name map carries, per
model, the scopes of its transposed convolutions as patterns of two signs that no TF1
scope name holds, `*` for any text (what is not a literal: a helper's prefix, a loop's
`"up%d" % i`) and `#` for a number (an unnamed layer's: `generator/Conv2d_transpose`,
`generator/Conv2d_transpose_#`), and `ckpt-convert` builds a `Conv2DTranspose` for the
kernels whose scope matches one.

That is exact only when no convolution of the same model can have a scope a pattern
matches: `transposed_scopes` answers None when a convolution's pattern and a transposed
one's can match one scope (decided exactly, `may_overlap`), and the conversion keeps its
refusal of a transposed convolution without a bias then (with one, `ckpt-convert` still
tells them apart by the bias shape where in and out differ).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Optional

TRANSPOSED = "Conv2DTranspose"
# Keras classes whose kernel a TF1 checkpoint holds as a rank-4 kernel like a transposed one's.
CONVOLUTIONS = frozenset({"Conv2D"})
_CLASS = re.compile(r"\.keras\.layers\.(\w+)\(")
# The patterns' own two signs, neither of which a TF1 scope name may hold: any text, and a
# number (TF1's number of an unnamed layer's scope after the first: `conv2d_1` is `conv2d_#`).
NUMBER = "#"
_SIGNS = frozenset("*#")
_CONVERSION = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrxX]")


def keras_class(constructor: str) -> Optional[str]:
    """The Keras class a layer's constructor text builds (`tf.keras.layers.Conv2D(...)`)."""
    found = _CLASS.search(constructor)
    return found.group(1) if found else None


def use_bias(layer: Any) -> Optional[str]:
    """A layer's `use_bias` as its constructor text writes it (None: not written, Keras's True)."""
    found = re.search(r"\buse_bias=(\w+)", layer.constructor)
    return found.group(1) if found else None


def scope_patterns(key: ast.expr) -> Optional[list[str]]:
    """The scopes a layer's key expression can name, as patterns (an unnamed
    layer's `base` and `base_#`: TF1 numbered it `base`, `base_1`, ...); None when a
    literal part holds a pattern sign itself."""
    alternatives = [""]

    def add(*texts: str) -> None:
        nonlocal alternatives
        alternatives = [done + text for done in alternatives for text in texts]

    def walk(node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return walk(node.left) and walk(node.right)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _SIGNS & set(node.value):
                return False
            add(node.value)
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "unique_scope" and len(node.args) == 3 and \
                isinstance(node.args[2], ast.Constant) and isinstance(node.args[2].value, str):
            if not walk(node.args[1]) or _SIGNS & set(node.args[2].value):
                return False
            add(node.args[2].value, node.args[2].value + "_" + NUMBER)
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):  # `"block%d" % i`: each conversion any text
            if _SIGNS & set(node.left.value) or "%%" in node.left.value or "%(" in node.left.value:
                return False
            text = _CONVERSION.sub("*", node.left.value)
            add(text)
            return "%" not in text
        if isinstance(node, ast.JoinedStr):  # f"block{i}"
            return all(walk(value) for value in node.values)
        add("*")
        return True

    if not walk(key):
        return None
    return [re.sub(r"\*+", "*", pattern) for pattern in alternatives]


def may_overlap(first: str, second: str) -> bool:
    """Can one scope match both patterns? Decided exactly, walking both patterns together
    (`*`: any text; `#`: a number, one digit or more)."""
    a, b = _tokens(first), _tokens(second)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] in _STARS:
            todo.append((i + 1, j))  # the star matches nothing more
        if j < len(b) and b[j] in _STARS:
            todo.append((i, j + 1))
        if i < len(a) and j < len(b) and _together(a[i], b[j]):  # one character matched by both
            todo.append((i if a[i] in _STARS else i + 1, j if b[j] in _STARS else j + 1))
    return False


_ANY, _DIGITS, _DIGIT = "*", "#*", "#"  # tokens: any text, more digits, one digit
_STARS = (_ANY, _DIGITS)


def _tokens(pattern: str) -> list[str]:
    tokens: list[str] = []
    for character in pattern:
        tokens.extend([_DIGIT, _DIGITS] if character == NUMBER else [character])
    return tokens


def _together(first: str, second: str) -> bool:
    """Can one character match both tokens?"""
    if _ANY in (first, second):
        return True
    digits = (_DIGIT, _DIGITS)
    if first in digits or second in digits:
        other = second if first in digits else first
        return other in digits or other.isdigit()
    return first == second


def _regex(pattern: str) -> "re.Pattern[str]":
    return re.compile("".join(".*" if c == "*" else "[0-9]+" if c == NUMBER else re.escape(c) for c in pattern))


def transposed_scopes(layers: list[tuple[str, Optional[list[str]]]]) -> Optional[list[str]]:
    """The patterns of a model's transposed convolutions (`layers`: each layer's Keras
    class and scope patterns), or None when they cannot be told from its convolutions'."""
    transposed = [patterns for cls, patterns in layers if cls == TRANSPOSED]
    convolutions = [patterns for cls, patterns in layers if cls in CONVOLUTIONS]
    if None in transposed or (transposed and None in convolutions):
        return None
    if any(may_overlap(t, c) for ts in transposed for cs in convolutions for t in ts for c in cs):  # type: ignore
        return None
    return sorted({pattern for patterns in transposed for pattern in patterns})  # type: ignore[union-attr]


def is_transposed(scope: str, patterns: list[str]) -> bool:
    """Does a TF1 scope (relative to the model's) hold one of the transposed convolutions?"""
    return any(_regex(pattern).fullmatch(scope) for pattern in patterns)
