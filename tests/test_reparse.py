"""The language server's incremental parse gives exactly the tree `ast.parse` gives.

Random edits (lines changed, inserted, deleted, broken and mended) are applied one after
another to real modules (this package's own sources, which are big and varied), and after
each the spliced tree must equal a fresh parse of the whole text, positions included; a
text that does not parse must raise as `ast.parse` raises.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

import migrate_bn
from migrate_bn.reparse import Reparser

# Modules of a few hundred lines: comparing whole dumps of bigger ones is slow.
SOURCES = [path for path in sorted(Path(migrate_bn.__file__).parent.glob("*.py"))
           if 150 <= len(path.read_text().splitlines()) <= 500]
EDITS = [
    lambda line: line.rstrip("\n") + "  # edited\n",
    lambda line: line.rstrip("\n") + " + 1\n",  # often a syntax error, sometimes not
    lambda line: line.replace("(", "((", 1),  # an open bracket: runs into the next lines
    lambda line: line.replace('"', '"""', 1),  # an open string
    lambda line: "",  # delete
    lambda line: line + "\n",  # a blank line more
    lambda line: line + "def inserted(x):\n    return x\n",
    lambda line: line + "    pass\n",
    lambda line: line + "x = 1; y = 2\n",
    lambda line: line + "from __future__ import annotations\n",
    lambda line: line + "@decorator\n",
    lambda line: line + "else:\n    pass\n",
    lambda line: line.lstrip(),
]


def _tree(text: str):
    """The tree's dump with positions, or the class of the syntax error."""
    try:
        return ast.dump(ast.parse(text), include_attributes=True)
    except SyntaxError as error:
        return type(error)


def _spliced(reparser: Reparser, text: str):
    try:
        return ast.dump(reparser.parse(text), include_attributes=True)
    except SyntaxError as error:
        return type(error)


@pytest.mark.parametrize("path", SOURCES[::3], ids=lambda path: path.name)
def test_every_edit_gives_the_tree_of_a_whole_parse(path: Path) -> None:
    rng = random.Random(path.name)
    text = path.read_text()
    reparser = Reparser(min_lines=0)
    assert _spliced(reparser, text) == _tree(text)
    for _ in range(25):
        lines = text.splitlines(keepends=True)
        at = rng.randrange(len(lines))
        lines[at] = rng.choice(EDITS)(lines[at])
        edited = "".join(lines)
        assert _spliced(reparser, edited) == _tree(edited), (at, lines[at])
        # Keep the edit when it parses; else go back, as a person mends what they broke.
        if isinstance(_tree(edited), str):
            text = edited
        else:
            assert _spliced(reparser, text) == _tree(text)


def test_a_change_inside_one_function_reuses_the_other_statements() -> None:
    text = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(100))
    reparser = Reparser(min_lines=0)
    first = reparser.parse(text)
    second = reparser.parse(text.replace("return x + 50\n", "return x + 50  # edited\n"))
    assert second.body[49] is first.body[49] and second.body[51] is first.body[51]
    assert second.body[50] is not first.body[50]
    assert ast.dump(second, include_attributes=True) == \
        ast.dump(ast.parse(text.replace("return x + 50\n", "return x + 50  # edited\n")), include_attributes=True)


def test_the_language_server_finds_after_each_edit_what_a_fresh_analysis_finds(tmp_path: Path) -> None:
    """Edits to a buffer of fixture modules, one after another (some break the code, the
    next mends it): the server's findings are those of `analyze` on the whole text."""
    pytest.importorskip("pygls")
    from migrate_bn.api import analyze
    from migrate_bn.lsp import MigrateBnServer

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    parts = [path.read_text() for path in sorted(fixtures.glob("bn00[1-5]/*/before.py"))[:12]]
    # One module of all of them: each part inside its own function, so that their
    # module-level code does not mix.
    text = "import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n\n" + "".join(
        f"def part_{n}():\n" + "".join(f"    {line}" if line.strip() else line
                                       for line in part.splitlines(keepends=True)) + "\n\n"
        for n, part in enumerate(parts))
    assert len(text.splitlines()) >= 200 and ast.parse(text)
    path = tmp_path / "buffer.py"
    uri = path.as_uri()
    server = MigrateBnServer()
    rng = random.Random(14)

    def findings(result):
        return [(f.code, f.span, f.message) for f in result.findings], result.error

    lines = text.splitlines(keepends=True)
    for version in range(20):
        at = rng.randrange(3, len(lines))
        edited = list(lines)
        edited[at] = rng.choice(EDITS)(edited[at])
        buffer = "".join(edited)
        analysis = server.analyze_text(uri, buffer, version)
        assert findings(analysis.result) == findings(analyze(buffer.encode(), str(path),
                                                             resolver=server.project.resolver(str(path))))
        if isinstance(_tree(buffer), str):
            lines = edited
    server.analysis_pool.shutdown()
