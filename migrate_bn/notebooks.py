"""A Jupyter notebook as one Python program: its code cells in order, and the way back.

The view (`NotebookView.text`) is every code cell of the notebook, in order, each one
after a comment line of its own that marks where it starts (`# %% [cell N]`, N as
below). Batch norm built in one cell and trained in a later one is then one program,
as it is when the notebook runs top to bottom. The markers make the way back
unambiguous: a line the fixes inserted belongs to the cell whose marker precedes it.

IPython's own syntax is not Python: line magics (`%matplotlib inline`), shell lines
(`!pip install x`, `files = !ls`), help (`model?`, `?model`) and the first line of a
cell magic (`%%time`) are each replaced in the view by `pass` at the line's own
indentation; every line of a cell magic whose body is not Python (`%%bash`,
`%%writefile`, ...) too. The view keeps every cell's line count, so positions map
back line for line, and a fix that would touch such a line is refused.

Cells are numbered as ruff numbers them (and as VS Code and JupyterLab show a
notebook): every cell counts, markdown and raw ones included, from 1; lines count
inside their cell, from 1.

`write_back` changes only the `source` of the code cells a fix changed, splicing each
new value into the file's own bytes where the old one was: outputs, metadata, cell ids,
execution counts, key order, indentation, escaping and the final newline stay as they
were, and a notebook no fix changed is returned byte for byte.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import Iterator, Optional

from .documents import NOTEBOOK, Location, View, WriteBackRefused
from .problems import Kind
from .source import SourceError, parse, split_lines

ENCODING = "utf-8"
_BOM = "\ufeff"

# Cell magics whose body is Python that IPython runs as such.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# A line IPython reads as its own syntax: an escape at the start of a logical line, an
# assignment from a shell command or a line magic, or help with a trailing `?`.
_ESCAPED = re.compile(r"[ \t]*(?:[%!?]|[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*[%!])")
_HELP = re.compile(r"[ \t]*[\w.\[\]()'\"]+\?{1,2}[ \t]*(?:\r\n|\r|\n)?\Z")


@dataclass(frozen=True)
class Cell:
    """A code cell of the view: its number (see above), index in the JSON `cells`
    list, its source text, where its `source` value lies in the file's text, and
    whether that value is a list of lines or one string."""

    number: int
    index: int
    text: str
    value_start: int
    value_end: int
    as_list: bool


class NotebookView(View):
    kind = NOTEBOOK

    def __init__(self, source: bytes, json_text: str, joined: str, cells: list[Cell],
                 lines: list[tuple[int, int]], originals: dict[int, str], bom: bool) -> None:
        tree, python2 = parse_view(joined, cells, lines)
        super().__init__(source, python2.text if python2 is not None else joined,
                         python2.tree if python2 is not None else tree, ENCODING)
        # The cells joined as they are; for a Python 2 notebook, `python2` is the view
        # of that (python2.py), and `text` its Python 3.
        self.joined = joined
        self.python2 = python2
        self.json_text = json_text  # the file's text, without a BOM
        self.cells = cells
        # For each line of the view (0-based): (position in `cells`, 1-based line in
        # the cell), the line in the cell being 0 for a cell's marker.
        self.lines = lines
        # Lines of the view that stand for IPython syntax: their original text.
        self.originals = originals
        self.bom = bom

    # --- positions -------------------------------------------------------------------

    def locate(self, line: int, column: int) -> Location:
        if self.python2 is not None:
            inner = self.python2.locate(line, column)
            line, column = inner.line, inner.column
        if not self.lines:
            return Location(line, column)
        position, line_in_cell = self.lines[min(max(line, 1), len(self.lines)) - 1]
        if line_in_cell == 0:  # a marker: the start of its cell
            return Location(1, 1, self.cells[position].number)
        return Location(line_in_cell, column, self.cells[position].number)

    # --- the way back ----------------------------------------------------------------

    def write_back(self, new_code: bytes) -> bytes:
        if self.python2 is not None and new_code != self.code:
            new_code = self.python2.write_back(new_code)  # a Python 2 notebook stays Python 2
        return self.write_cells(new_code)

    def write_cells(self, new_code: bytes) -> bytes:
        """The notebook whose code cells, joined, are `new_code` (what `upgrade` writes:
        Python 3, whatever the cells were)."""
        new_text = new_code.decode(ENCODING)
        if new_text in (self.joined, self.text):
            return self.source
        cell_texts = self._cell_texts(split_lines(self.joined), split_lines(new_text))
        pieces, at = [], 0
        for cell, new in zip(self.cells, cell_texts):
            if new == cell.text:
                continue
            pieces += [self.json_text[at:cell.value_start], self._encode_source(cell, new)]
            at = cell.value_end
        pieces.append(self.json_text[at:])
        result = "".join(pieces)
        self._check(result, cell_texts)
        return ((_BOM if self.bom else "") + result).encode(ENCODING)

    def _cell_texts(self, old: list[str], new: list[str]) -> list[str]:
        """Each code cell's new text: the new view is cut at the cells' markers, which
        must all be there in their order, and each cell's lines are diffed with its old
        ones, so that IPython lines come back as they were."""
        markers = [line for line, (_, line_in_cell) in enumerate(self.lines) if line_in_cell == 0]
        wanted = [old[line] for line in markers]
        found = [line for line, text in enumerate(new) if text in set(wanted)]
        if [new[line] for line in found] != wanted:
            lost = next(k for k, text in enumerate(wanted) if k >= len(found) or new[found[k]] != text)
            raise WriteBackRefused(f"a fix changes code across the start of cell {self.cells[lost].number}")
        texts = []
        for k, cell in enumerate(self.cells):
            old_start, new_start = markers[k] + 1, found[k] + 1
            old_end = markers[k + 1] if k + 1 < len(markers) else len(old)
            new_end = found[k + 1] if k + 1 < len(found) else len(new)
            before = new[:found[0]] if k == 0 else []  # inserted above the first cell: into it
            texts.append(self._cell_text(cell, old_start, old[old_start:old_end], before + new[new_start:new_end]))
        return texts

    def _cell_text(self, cell: Cell, offset: int, old: list[str], new: list[str]) -> str:
        """A cell's new text from its old and new lines in the view (`offset`: where
        its old lines start in the view)."""
        lines: list[str] = []
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                lines += [self._original(offset + i, new[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            touched = [offset + i for i in range(i1, i2) if offset + i in self.originals]
            if touched:
                raise WriteBackRefused(f"a fix changes line {self.lines[touched[0]][1]} of cell {cell.number}, "
                                       "which is IPython syntax (a magic or a shell line)")
            lines += new[j1:j2]
        text = "".join(line if line.endswith(("\n", "\r")) or k == len(lines) - 1 else line + "\n"
                       for k, line in enumerate(lines))
        if not cell.text.endswith(("\n", "\r")) and text.endswith("\n"):
            text = text[:-1]  # the line break the view added after the cell's last line
        return text

    def _original(self, line: int, view_line: str) -> str:
        """A view line as the cell holds it (IPython syntax restored)."""
        original = self.originals.get(line)
        if original is None:
            return view_line
        return original + view_line[len(view_line.rstrip("\r\n")):]

    def _encode_source(self, cell: Cell, text: str) -> str:
        ensure_ascii = _escapes_non_ascii(self.json_text[cell.value_start:cell.value_end], self.json_text)
        if not cell.as_list:
            return json.dumps(text, ensure_ascii=ensure_ascii)
        items = [json.dumps(line, ensure_ascii=ensure_ascii) for line in text.splitlines(keepends=True)]
        if not items:
            return "[]"
        opening, separator, closing = _list_layout(self.json_text, cell.value_start, cell.value_end)
        return "[" + opening + separator.join(items) + closing + "]"

    def _check(self, result: str, cell_texts: list[str]) -> None:
        """The new file is JSON with the new sources where the old ones were."""
        try:
            cells = json.loads(result)["cells"]
            if any(cell_source_text(cells[cell.index]) != text for cell, text in zip(self.cells, cell_texts)):
                raise ValueError("a cell's source is not what was written")
        except (ValueError, KeyError, TypeError) as error:  # a bug of migrate-bn; nothing is written
            raise WriteBackRefused(f"the new notebook would not be the fixed one ({error})") from None


# --- reading ---------------------------------------------------------------------------


def read(source: bytes) -> NotebookView:
    """The view of a notebook's bytes; raises `SourceError` when they are not a
    notebook whose code cells are Python (the message says which cell and line)."""
    try:
        json_text = source.decode(ENCODING)
    except UnicodeDecodeError as error:
        raise SourceError(f"cannot decode: a notebook is UTF-8 JSON: {error}", Kind.CANNOT_DECODE) from None
    bom = json_text.startswith(_BOM)
    if bom:
        json_text = json_text[1:]
    try:
        notebook = json.loads(json_text)
    except (ValueError, RecursionError) as error:
        raise SourceError(f"cannot parse: not a notebook: not JSON ({error})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        hint = " (nbformat 3: convert it with `jupyter nbconvert --to notebook`)" \
            if isinstance(notebook, dict) and "worksheets" in notebook else ""
        raise SourceError(f"cannot parse: not a notebook: no list of cells{hint}")
    cells: list[Cell] = []
    if _is_python(notebook):
        spans = _source_spans(json_text)
        for index, cell in enumerate(notebook["cells"]):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            text = cell_source_text(cell)
            if text is None or index not in spans:
                raise SourceError(f"cannot parse: not a notebook: cell {index + 1} has no source text")
            start, end = spans[index]
            cells.append(Cell(index + 1, index, text, start, end, isinstance(cell["source"], list)))
    text, lines, originals = _join(cells)
    return NotebookView(source, json_text, text, cells, lines, originals, bom)


def parse_view(text: str, cells: list[Cell], lines: list[tuple[int, int]]):
    """The tree of the joined cells, or of their Python 3 view when they are Python 2
    (then also that view, python2.Python2View); a syntax error names its cell and line."""
    try:
        return parse(text), None
    except SourceError as error:
        from . import python2

        view = python2.read(text.encode(ENCODING), text, ENCODING)
        if view is not None:
            return None, view
        if error.line is None or not lines:
            raise
        position, line_in_cell = lines[min(error.line, len(lines)) - 1]
        number = cells[position].number
        message = re.sub(r" at line \d+", "", str(error))
        raise SourceError(f"{message} (cell {number}, line {max(line_in_cell, 1)})", error.kind,
                          max(line_in_cell, 1), number) from None


def _is_python(notebook: dict) -> bool:
    """Python unless the notebook says otherwise (an R or Julia notebook has nothing to read)."""
    metadata = notebook.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            return value[field].lower() == "python"
    return True


def cell_source_text(cell: dict) -> Optional[str]:
    """A cell's source as one string (nbformat stores a string or a list of lines); None when it is neither."""
    source = cell.get("source", "")
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def _join(cells: list[Cell]) -> tuple[str, list[tuple[int, int]], dict[int, str]]:
    """The view's text, what each of its lines is, and the IPython lines it replaced."""
    parts: list[str] = []
    lines: list[tuple[int, int]] = []
    originals: dict[int, str] = {}
    for position, cell in enumerate(cells):
        parts.append(f"# %% [cell {cell.number}]\n")
        lines.append((position, 0))
        cell_lines = split_lines(cell.text)
        for number, (line, replaced) in enumerate(_without_ipython(cell_lines), start=1):
            if replaced is not None:
                originals[len(lines)] = replaced
            if number == len(cell_lines) and not line.endswith(("\n", "\r")):
                line += "\n"  # the next cell's marker goes on a line of its own
            parts.append(line)
            lines.append((position, number))
    return "".join(parts), lines, originals


def _without_ipython(lines: list[str]) -> Iterator[tuple[str, Optional[str]]]:
    """Each line of a cell, or its `pass` placeholder and the original IPython line."""
    if not lines:
        return
    first = lines[0].lstrip()
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        yield _placeholder(lines[0], indent=False)
        if name in PYTHON_CELL_MAGICS:
            yield from _without_line_magics(lines[1:])
        else:
            yield from (_placeholder(line, indent=False) for line in lines[1:])
        return
    yield from _without_line_magics(lines)


def _without_line_magics(lines: list[str]) -> Iterator[tuple[str, Optional[str]]]:
    text = "".join(lines)
    try:
        parse(text)
        yield from ((line, None) for line in lines)  # plain Python: nothing to replace
        return
    except SourceError:
        pass
    done: list[str] = []
    for line in lines:
        if (_ESCAPED.match(line) or _HELP.match(line)) and not _continues(done):
            replaced = _placeholder(line, indent=True)
            done.append(replaced[0])
            yield replaced
        else:
            done.append(line)
            yield line, None


def _placeholder(line: str, indent: bool) -> tuple[str, str]:
    content = line.rstrip("\r\n")
    ending = line[len(content):]
    prefix = content[:len(content) - len(content.lstrip())] if indent else ""
    return f"{prefix}pass{ending}", content


def _continues(lines: list[str]) -> bool:
    """Whether the next line continues a statement begun in `lines` (inside brackets, a
    string over several lines, or after a backslash): then it is Python, not IPython."""
    if not lines:
        return False
    try:
        for _ in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            pass
    except tokenize.TokenError:
        return True
    except (SyntaxError, ValueError):
        return False
    return False


# --- the file's JSON, as it is written -----------------------------------------------------


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Where each cell's `source` value lies in the notebook's text, by cell index."""
    spans: dict[int, tuple[int, int]] = {}
    start = _skip(text, 0)
    for key, value_start, _ in _members(text, start):
        if key != "cells":
            continue
        spans = {}  # a repeated key: JSON readers keep the last one
        for index, (cell_start, _) in enumerate(_elements(text, value_start)):
            if text[cell_start] != "{":
                continue
            for cell_key, source_start, source_end in _members(text, cell_start):
                if cell_key == "source":
                    spans[index] = (source_start, source_end)
    return spans


def _skip(text: str, at: int) -> int:
    match = _WS.match(text, at)
    return match.end() if match else at


def _members(text: str, at: int) -> Iterator[tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object starting at `at`."""
    at = _skip(text, at + 1)
    if text[at] == "}":
        return
    while True:
        key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        at = _skip(text, _skip(text, at) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, at)
        yield key, at, end
        at = _skip(text, end)
        if text[at] != ",":
            return
        at = _skip(text, at + 1)


def _elements(text: str, at: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each value of the JSON array starting at `at`."""
    at = _skip(text, at + 1)
    if text[at] == "]":
        return
    while True:
        _, end = _DECODER.raw_decode(text, at)
        yield at, end
        at = _skip(text, end)
        if text[at] != ",":
            return
        at = _skip(text, at + 1)


def _list_layout(text: str, start: int, end: int) -> tuple[str, str, str]:
    """How the list at text[start:end] lays out its items: the text after `[`, between
    items, and before `]`. An empty list takes the file's indentation."""
    items = list(_elements(text, start))
    if items:
        opening = text[start + 1:items[0][0]]
        closing = text[items[-1][1]:end - 1]
        separator = text[items[0][1]:items[1][0]] if len(items) > 1 else "," + opening
        return opening, separator, closing
    line_start = text.rfind("\n", 0, start) + 1
    if line_start == 0:  # the whole file on one line
        return "", ",", ""
    indent = text[line_start:len(text) - len(text[line_start:].lstrip(" \t"))]
    unit = _indent_unit(text)
    return "\n" + indent + unit, ",\n" + indent + unit, "\n" + indent


def _indent_unit(text: str) -> str:
    """The file's unit of indentation: that of the top-level object's first key."""
    first = text.find('"')
    line_start = text.rfind("\n", 0, first) + 1
    unit = text[line_start:first]
    return unit if unit and not unit.strip(" \t") else " "


def _escapes_non_ascii(value: str, text: str) -> bool:
    """Whether a cell's source value writes characters beyond ASCII as \\u escapes
    (json's ensure_ascii), as it does, or else as the whole file does: it holds none
    unescaped, and at least one escaped."""
    for sample in (value, text):
        if not sample.isascii():
            return False
        if re.search(r"\\u(?!00[0-7])[0-9a-fA-F]{4}", sample):
            return True
    return False
