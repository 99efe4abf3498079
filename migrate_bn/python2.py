"""Python 2 files, seen as the Python 3 files they would be, line for line.

`fissix` (the maintained fork of lib2to3) parses the Python 2 grammar without losing a
byte. Its syntax fixers turn what Python 3 cannot parse (`print x`, `print >>f, x`,
`exec code in ns`, `except E, e:`, backticks, `<>`, `0777`, `10L`, `ur""`, `raise E, v`)
into the Python 3 it means, each on the line it was on; leading tabs are expanded as
Python 2 read them (to the next multiple of eight), since Python 3 refuses indentation
that mixes tabs and spaces. The result is the view every rule reads, so a Python 2 file
is analysed exactly like the Python 3 file it would be.

Fixes are carried back by lines: lines the fixes did not touch are the file's own; a
line they moved or re-indented is the file's own line with its new indentation; a line
they wrote is new. The result must be Python 2 whose view is exactly the fixed view, or
nothing is written (`documents.WriteBackRefused`).
"""

from __future__ import annotations

import difflib
import enum
import functools
import io
import os
import re
import tokenize
from collections import defaultdict, deque
from typing import Optional, Sequence

from .documents import PYTHON2, Location, View, WriteBackRefused
from .source import SourceError, parse, split_lines

# Only the fixers whose constructs Python 3 cannot parse: the view should differ from
# the file where it must and nowhere else (`unicode` also drops the `u` of u"" strings,
# the price of handling `ur""`, which Python 3 rejects).
SYNTAX_FIXERS = ("print", "exec", "except", "repr", "ne", "numliterals", "long", "unicode", "raise",
                 "tuple_params")
TAB_SIZE = 8  # Python 2 moved a tab to the next multiple of eight columns
NO_PATH = "<python2>"  # fissix's name for a text that is not read from a file


@functools.lru_cache(maxsize=None)
def _tool(fixers: tuple[str, ...]):
    from fissix.refactor import RefactoringTool

    return RefactoringTool([f"fissix.fixes.fix_{name}" for name in fixers])


def to_python3(text: str, fixers: tuple[str, ...] = SYNTAX_FIXERS, path: str = NO_PATH) -> Optional[str]:
    """`text` with `fixers` applied, or None when fissix cannot parse it as Python 2.

    fissix reads lines ending in LF, and wants a final one: the text is given to it that
    way, and when the fixers keep the line count, each line gets its own ending back.
    `path` is the file's: the `import` fixer looks beside it for the modules it imports."""
    from fissix.pgen2.parse import ParseError
    from fissix.pgen2.tokenize import TokenError

    lines = split_lines(text)
    plain = "".join(line.rstrip("\r\n") + "\n" for line in lines)
    try:
        tree = _tool(fixers).refactor_string(plain, path)
    except (ParseError, TokenError, IndentationError, SyntaxError, RecursionError):
        return None
    converted = str(tree)
    _release(tree)
    if plain == text:
        return converted
    converted_lines = split_lines(converted)
    if len(converted_lines) != len(lines):
        return converted  # the caller sees the line count change
    return "".join(new.rstrip("\n") + line[len(line.rstrip("\r\n")):]
                   for new, line in zip(converted_lines, lines))


def _release(tree) -> None:
    """Drop the parent pointers of fissix's `tree`. Each node points at its parent and the
    parent at its children: cycles that keep the whole tree (some 40 objects a line) until
    the garbage collector finds them, which a batch run seldom asks it to do
    (migrate_bn/collection.py). Without them, reference counting frees the tree; what
    the fixers replaced (a fifth of it for `print` statements) stays for the collector."""
    nodes = [tree]
    while nodes:
        node = nodes.pop()
        node.parent = None
        nodes.extend(node.children)


def as_python3_program(text: str, path: str = NO_PATH) -> Optional[tuple[str, list[int]]]:
    """Python 2 `text` as a Python 3 program, the way `2to3` converts it (every fixer
    2to3 runs by default, `print`, `dict.iteritems`, `xrange`, renamed modules, ...),
    with indentation that mixes tabs and spaces expanded as Python 2 read it; and the
    lines whose `/` Python 2 computed as floor division of two integers and Python 3
    does not (2to3 leaves them: the types are not in the source). None when `text` is
    not Python 2 or the result does not parse.

    `path` is where the file is: an implicit relative import (`import helpers` in a
    package that has a `helpers.py`) becomes explicit only when the module is really
    beside the file. Without a path the imports are left as they are, since the `import`
    fixer would look in the working directory instead and make `from .helpers import`
    of a module that is not in the file's package, which Python 3 cannot import."""
    from fissix.refactor import get_fixers_from_package

    fixers = tuple(name.rsplit(".fix_", 1)[1] for name in sorted(get_fixers_from_package("fissix.fixes")))
    if path == NO_PATH:
        fixers = tuple(name for name in fixers if name != "import")
    converted = to_python3(text, fixers, path)
    if converted is None:
        return None
    try:
        tree = parse(converted)
    except SourceError:
        converted = _expand_indentation(converted)
        try:
            tree = parse(converted)
        except SourceError:
            return None
    return converted, _floor_division_lines(tree)


class ImportPlace(enum.Enum):
    """How a module is imported, which decides what its `import x` of a sibling means."""

    PACKAGE_MODULE = "imported as a module of its package"
    SCRIPT_IN_PACKAGE = "a script inside a package"
    TOP_LEVEL = "imported from its own directory"


def import_place(path: str, text: str, roots: Sequence[str]) -> ImportPlace:
    """Whether `path` is imported as a module of a package, where Python 2 read `import
    x` as the sibling `x` first and Python 3 needs `from . import x`: its directory is a
    package (has `__init__.py`) strictly inside one of the directories the run was given
    (`roots`, absolute), and it is not a script (no `__main__` guard). A package at the
    root of the run is most often a checkout with a stray `__init__.py` whose scripts run
    from there, where an explicit relative import fails ("no known parent package")."""
    directory = os.path.dirname(os.path.abspath(path))
    nested = os.path.exists(os.path.join(directory, "__init__.py")) and any(
        directory != root and directory.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
    if not nested:
        return ImportPlace.TOP_LEVEL
    return ImportPlace.SCRIPT_IN_PACKAGE if _MAIN_GUARD.search(text) else ImportPlace.PACKAGE_MODULE


_MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]""", re.MULTILINE)


def _floor_division_lines(tree) -> list[int]:
    """Lines with a `/` between operands that are not float literals, in a module
    without `from __future__ import division`."""
    import ast

    if any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
           and any(alias.name == "division" for alias in node.names) for node in tree.body):
        return []
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.Div):
            operands = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value)
            if not any(isinstance(operand, ast.Constant) and isinstance(operand.value, float) for operand in operands):
                lines.add(node.lineno)
    return sorted(lines)


@functools.lru_cache(maxsize=64)
def view_text(text: str) -> Optional[str]:
    """The Python 3 view of Python 2 `text`, line for line, or None when there is none.
    Remembered: a fix reads the view of its result once to check it, and once more to
    place what is left (fissix's parser is pure Python, a quarter of a millisecond a line)."""
    converted = to_python3(text)
    if converted is None or len(split_lines(converted)) != len(split_lines(text)):
        return None
    return _expand_indentation(converted)


def read(source: bytes, text: str, encoding: str) -> Optional["Python2View"]:
    """The view of a file that Python 3 cannot parse, or None when it is not Python 2
    either (or its Python 3 view does not parse, or changes its line count)."""
    view = view_text(text)
    if view is None:
        return None
    try:
        tree = parse(view)
    except SourceError:
        return None
    return Python2View(source, text, view, tree, encoding)


class Python2View(View):
    kind = PYTHON2

    def __init__(self, source: bytes, original: str, text: str, tree, encoding: str) -> None:
        super().__init__(source, text, tree, encoding)
        self.original = original
        self.original_lines = split_lines(original)
        self.view_lines = split_lines(text)

    def locate(self, line: int, column: int) -> Location:
        index = line - 1
        if not 0 <= index < len(self.view_lines) or self.view_lines[index] == self.original_lines[index]:
            return Location(line, column)
        return Location(line, _map_column(self.view_lines[index], self.original_lines[index], column - 1) + 1)

    def write_back(self, new_code: bytes) -> bytes:
        new_view = new_code.decode(self.encoding)
        new_lines = split_lines(new_view)
        matcher = difflib.SequenceMatcher(None, self.view_lines, new_lines, autojunk=False)
        opcodes = matcher.get_opcodes()
        # Lines the fixes took away, by their text without indentation: a line that
        # comes back (moved, or re-indented under a new block) is the file's own line.
        gone: defaultdict[str, deque[str]] = defaultdict(deque)
        for tag, i1, i2, _, _ in opcodes:
            if tag != "equal":
                for view_line, own_line in zip(self.view_lines[i1:i2], self.original_lines[i1:i2]):
                    gone[_body(view_line)].append(own_line)
        indents = _indentation_by_width(self.original, self.original_lines)
        out: list[str] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                out.extend(self.original_lines[i1:i2])
                continue
            for new_line in new_lines[j1:j2]:
                body = _body(new_line)
                indent = new_line[:len(new_line) - len(body)]
                own = gone[body].popleft() if gone.get(body) else None
                if own is not None and own == new_line:
                    out.append(own)
                else:
                    out.append(_indent_like(indent, indents) + (_body(own) if own is not None else body))
        result = "".join(out)
        if view_text(result) != new_view:
            raise WriteBackRefused("the fixed code cannot be written back as Python 2 without changing other "
                                   "lines; not written (convert the file to Python 3 with `migrate-bn upgrade` "
                                   "or 2to3, then fix it)")
        return result.encode(self.encoding)


def _body(line: str) -> str:
    return line.lstrip(" \t\f")


def _expand_indentation(text: str) -> str:
    """Tabs in the indentation of each line that starts a statement, expanded as
    Python 2 expanded them; lines inside a string stay as they are."""
    lines = split_lines(text)
    if not any(line.startswith((" ", "\t")) and "\t" in line[:len(line) - len(_body(line))] for line in lines):
        return text
    inside_strings = _lines_inside_strings(text)
    out = []
    for number, line in enumerate(lines, 1):
        body = _body(line)
        indent = line[:len(line) - len(body)]
        if "\t" in indent and number not in inside_strings:
            line = indent.expandtabs(TAB_SIZE) + body
        out.append(line)
    return "".join(out)


def _lines_inside_strings(text: str) -> set[int]:
    """Lines that continue a string begun on an earlier line (their whitespace is the
    string's), or that continue a bracketed expression (their indentation is free)."""
    inside: set[int] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return inside
    for token in tokens:
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            inside.update(range(token.start[0] + 1, token.end[0] + 1))
    return inside


def _indentation_by_width(text: str, lines: list[str]) -> dict[int, str]:
    """The file's own indentation for each width it uses (tabs counted as Python 2
    counted them), so that a re-indented line keeps the file's tabs or spaces."""
    inside = _lines_inside_strings(text)
    widths: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        body = _body(line)
        if number in inside or not body.strip():
            continue
        indent = line[:len(line) - len(body)]
        widths.setdefault(len(indent.expandtabs(TAB_SIZE)), indent)
    return widths


def _indent_like(indent: str, indents: dict[int, str]) -> str:
    """The file's way of writing an indentation `indent` wide: its own where it has
    one that wide, else its nearest narrower one padded with tabs when the file indents
    with tabs, with spaces otherwise."""
    width = len(indent.expandtabs(TAB_SIZE))
    if width in indents:
        return indents[width]
    narrower = [known for known in indents if known < width]
    if not narrower:
        return indent
    base = max(narrower)
    if indents.get(TAB_SIZE) == "\t" and (width - base) % TAB_SIZE == 0:
        return indents[base] + "\t" * ((width - base) // TAB_SIZE)
    return indents[base] + " " * (width - base)


def _map_column(view_line: str, own_line: str, column: int) -> int:
    """The 0-based character column in the file's line of `column` in the view's line."""
    matcher = difflib.SequenceMatcher(None, view_line, own_line, autojunk=False)
    best = 0
    for view_start, own_start, size in matcher.get_matching_blocks():
        if view_start <= column < view_start + size:
            return own_start + column - view_start
        if view_start + size <= column:
            best = own_start + size
    return min(best, len(own_line.rstrip("\r\n")))
