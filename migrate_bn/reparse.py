"""Parse successive versions of one document, re-parsing only the top-level statements an edit touched.

The language server analyses a buffer after every edit, and `ast.parse` of a 2,000-line
module is a third of that work. An edit inside one function changes one top-level
statement: the statements before it are the same nodes, the statements after it the
same nodes a few lines lower. `Reparser.parse` finds the lines that changed, parses the
top-level statements around them on their own, and splices them between the old ones.

The result is the tree `ast.parse` gives for the whole text, positions included: a
top-level statement ends with the tokenizer at column 0 outside any bracket or string,
so the statements after it read the same whatever came before. Whenever that cannot be
relied on (two statements on one line, a `__future__` import in the changed statements,
`from __future__ import barry_as_FLUFL` anywhere, which changes the grammar, the first
two lines, where a coding cookie lives, a segment that does not parse on its own) the
whole text is parsed, and a text that does not parse raises as that parse raises.
"""

from __future__ import annotations

import ast
from typing import Callable, Optional

from .source import split_lines

# Below this many lines a whole parse is as quick as finding the change.
MIN_LINES = 200


class Reparser:
    """The last text parsed and its tree. One per document; not thread-safe. The trees
    it returns share nodes with the ones it returned before, and move them: hold on to
    the newest only."""

    def __init__(self, parse: Callable[[str], ast.Module] = ast.parse, min_lines: int = MIN_LINES) -> None:
        self.whole = parse  # how the whole text is parsed: its errors are the caller's
        self.min_lines = min_lines
        self._lines: Optional[list[str]] = None
        self._tree: Optional[ast.Module] = None

    def parse(self, text: str) -> ast.Module:
        lines = split_lines(text)
        tree = None
        if self._tree is not None and self._lines is not None and len(lines) >= self.min_lines \
                and "barry_as_FLUFL" not in text:
            tree = _splice(self._tree, self._lines, lines)
        if tree is None:
            self._tree = self._lines = None  # if the whole text does not parse, forget the old one
            tree = self.whole(text)
        self._lines, self._tree = lines, tree
        return tree


def _extent(statement: ast.stmt) -> tuple[int, int]:
    """First and last line of a top-level statement, decorators included."""
    decorators = getattr(statement, "decorator_list", None) or []
    first = min([statement.lineno, *(d.lineno for d in decorators)])
    return first, statement.end_lineno or statement.lineno


def _splice(old_tree: ast.Module, old: list[str], new: list[str]) -> Optional[ast.Module]:
    """The tree of `new` made from `old_tree` (of `old`) and a parse of the statements
    whose lines changed; None when the whole text must be parsed."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    if prefix == len(old) == len(new):
        return None  # nothing changed: parse anyway (the old tree may have been moved since)
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    # Changed lines, 1-based and inclusive, in the old text: first..last (last = first - 1
    # for lines only inserted).
    first, last = prefix + 1, len(old) - suffix
    extents = [_extent(statement) for statement in old_tree.body]
    for (_, end), (start, _) in zip(extents, extents[1:]):
        if end >= start:
            return None  # `a = 1; b = 2`: statements that share a line
    # The statements the change touches, with the lines between them and their neighbours.
    touched = [index for index, (start, end) in enumerate(extents) if end >= first and start <= max(last, first)]
    before = [index for index, (_, end) in enumerate(extents) if end < first]
    kept_before = before[-1] + 1 if before else 0
    after_start = touched[-1] + 1 if touched else kept_before
    segment_first = extents[kept_before - 1][1] + 1 if kept_before else 1
    segment_last = extents[after_start][0] - 1 if after_start < len(extents) else len(old)
    if segment_first <= 2 or segment_first > first or segment_last < last:
        return None
    shift = len(new) - len(old)
    segment = "".join(new[segment_first - 1:segment_last + shift])
    if "__future__" in segment or (segment_first > 1 and old[segment_first - 2].rstrip("\r\n").endswith("\\")):
        return None
    try:
        parsed = ast.parse(segment)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for statement in parsed.body:
        ast.increment_lineno(statement, segment_first - 1)
    following = old_tree.body[after_start:]
    if shift:
        for statement in following:
            ast.increment_lineno(statement, shift)
    return ast.Module(body=[*old_tree.body[:kept_before], *parsed.body, *following], type_ignores=[])
