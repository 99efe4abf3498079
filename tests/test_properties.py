"""Properties over generated programs: no crash, output parses, untouched input
unchanged, a second run changes nothing, and the file's own format is kept; and known
bugs spliced into generated programs (SPLICED_BUGS) are found and fixed, so a tool that
does nothing fails.

Three sources of programs:
- arbitrary Python from hypothesmith (with a batch-norm word in a comment, so the
  prefilter lets it through to the parser and the rules);
- TF1 programs built from the batch-norm patterns of fixtures/ (train ops with and
  without the UPDATE_OPS wiring, tf.layers / contrib / slim / Keras batch norm, training
  flags, early UPDATE_OPS reads), mixed with comments, blank lines, name scopes and
  continuation lines, and written with tabs or spaces, LF / CRLF / CR / mixed line
  endings, UTF-8 with or without BOM, Latin-1 or cp1252 with a coding cookie;
- the fixtures' own before.py files, re-encoded and re-indented the same ways.

CI runs a few hundred examples (well under a minute). A long campaign scales every
test's example count: MIGRATE_BN_FUZZ_SCALE=200 pytest tests/test_properties.py
(see docs/reliability.md).
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import Path
from typing import Optional

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from migrate_bn import documents, python2, runner
from migrate_bn.api import analyze
from migrate_bn.edits import RoundTripError, apply_edits
from migrate_bn.findings import AddImport, InsertBefore, MoveBefore, WrapInWith
from migrate_bn.rules import Options, select_rules
from migrate_bn.source import encoding_of

pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

SCALE = max(1, int(os.environ.get("MIGRATE_BN_FUZZ_SCALE", "1")))
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NEWLINE = re.compile(r"\r\n|\r|\n")
BOM = b"\xef\xbb\xbf"


def examples(count: int):
    return settings(max_examples=count * SCALE, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


# --- What every fix must keep -------------------------------------------------------------

def lines_of(text: str) -> list[str]:
    """Lines with their own endings, split where Python splits them."""
    return [m.group(0) for m in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)]


def newlines(text: str) -> set[str]:
    return set(NEWLINE.findall(text))


def statement_lines(tree: ast.Module) -> dict[int, range]:
    """For each line a statement starts on, the lines of the statements starting there."""
    ranges: dict[int, range] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            end = max(node.end_lineno or node.lineno, ranges.get(node.lineno, range(node.lineno, node.lineno + 1)).stop - 1)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
                                 ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)):
                # An edit names a simple statement; a compound one only by its header line.
                end = max(node.lineno, ranges.get(node.lineno, range(node.lineno, node.lineno + 1)).stop - 1)
            ranges[node.lineno] = range(node.lineno, end + 1)
    return ranges


def edited_lines(source_text: str, result_findings, options: Options) -> set[int]:
    """The lines a round of fixes may change: the statements and expressions the edits
    name, and the blank or comment lines around a moved statement (a Python 2 file's
    statements are those of its view, which keeps its lines)."""
    try:
        tree = ast.parse(source_text)
    except SyntaxError:
        tree = ast.parse(python2.view_text(source_text))
    ranges = statement_lines(tree)
    text_lines = lines_of(source_text)
    allowed: set[int] = set()
    for finding in result_findings:
        fix = finding.fix
        if fix is None or not (fix.applicability == "safe" or options.unsafe_fixes):
            continue
        for edit in fix.edits:
            if isinstance(edit, AddImport):
                continue
            line = edit.line
            end = getattr(edit, "end_line", line)
            span = set(range(line, end + 1)) | set(ranges.get(line, range(line, line + 1)))
            allowed |= span
            if isinstance(edit, MoveBefore):
                above = line - 1
                while above >= 1 and (not text_lines[above - 1].strip() or text_lines[above - 1].lstrip().startswith("#")):
                    allowed.add(above)
                    above -= 1
                below = max(span) + 1  # blank lines after it may go with it
                while below <= len(text_lines) and not text_lines[below - 1].strip():
                    allowed.add(below)
                    below += 1
                allowed.add(edit.before_line)
    return allowed


def is_subsequence(needles: list[str], haystack: list[str]) -> Optional[str]:
    """None when `needles` appear in `haystack` in order; else the first one missing."""
    position = 0
    for needle in needles:
        while position < len(haystack) and haystack[position] != needle:
            position += 1
        if position == len(haystack):
            return needle
        position += 1
    return None


def leading_whitespace(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def check_fix(source: bytes, options: Options = Options(), *, indent: Optional[str] = None,
              expect_valid: bool = True) -> Optional[bytes]:
    """Fix `source` and check every promise; returns the fixed bytes (None: unchanged)."""
    result = analyze(source, "generated.py", options=options, fix=True)
    assert result.internal_error is None, result.internal_error
    if result.error is not None and "mixes lines ending in CR alone with lines ending in LF alone" in str(result.error):
        # Refused on purpose: a CR line end brought before a blank LF line would merge them.
        event("refused: lone CR and lone LF line ends")
        assert result.fixed_source is None
        assert re.search(rb"\r(?!\n)", source) and re.search(rb"(?<!\r)\n", source)
        return None
    if expect_valid:
        assert result.error is None, result.error
    if result.error is not None:
        assert result.fixed_source is None
        return None
    fixed = result.fixed_source
    codes = sorted({f.code for f in result.findings})
    event(f"findings {','.join(codes) or 'none'}; {'fixed' if fixed is not None else 'unchanged'}")
    if fixed is None:
        return None
    note(f"fixed:\n{fixed!r}")
    assert fixed != source
    # Output parses, in the same encoding, with the same BOM.
    assert encoding_of(fixed) == encoding_of(source)
    assert fixed.startswith(BOM) == source.startswith(BOM)
    before_text = source.decode(encoding_of(source))
    after_text = fixed.decode(encoding_of(fixed))
    if documents.read(source, "generated.py").kind == documents.PYTHON2:
        # A Python 2 file stays Python 2, and its Python 3 view still parses.
        assert python2.view_text(after_text) is not None
        ast.parse(python2.view_text(after_text))
    else:
        ast.parse(after_text)
    # Line endings: only those the file already used; a uniform file stays uniform.
    if newlines(before_text):
        assert newlines(after_text) <= newlines(before_text)
    # Indentation: new lines indent the way the file does.
    before_lines, after_lines = lines_of(before_text), lines_of(after_text)
    if indent is not None:
        old = set(before_lines)
        old_whitespace = {leading_whitespace(line) for line in before_lines if line.strip()} | {""}
        for line in after_lines:
            if line not in old and line.strip():
                # Whole units, or an indentation the file had, shifted by whole units.
                whitespace = leading_whitespace(line)
                assert any(whitespace.startswith(base) and whitespace[len(base):] == indent * (
                    (len(whitespace) - len(base)) // len(indent)) for base in old_whitespace), (line, indent)
    # Untouched regions: every line outside the edited statements is still there, byte for byte.
    allowed = edited_lines(before_text, result.findings, options)
    untouched = [line for number, line in enumerate(before_lines, 1) if number not in allowed]
    missing = is_subsequence(untouched, after_lines)
    # (When fixing took several rounds, later rounds edit lines the first did not name.)
    assert missing is None or _multi_round(source, options), f"untouched line changed or lost: {missing!r}"
    # Fixes converge: every fix offered was applied.
    pending = [f.code for f in result.remaining
               if f.fix is not None and (f.fix.applicability == "safe" or options.unsafe_fixes)]
    assert pending == [], f"fixes offered but not applied: {pending}"
    # A second run is a no-op.
    again = analyze(fixed, "generated.py", options=options, fix=True)
    assert again.internal_error is None and again.error is None
    assert again.fixed_source is None, "a second run changed the file again"
    return fixed


def _multi_round(source: bytes, options: Options) -> bool:
    """Whether fixing took more than one round (then later edits name later lines)."""
    from migrate_bn.api import fix_edits

    findings = analyze(source, "generated.py", options=options).findings
    view = documents.read(source, "generated.py")  # fixes are stated in the view
    first = view.write_back(apply_edits(view.code, fix_edits(findings, options)).code)
    return analyze(first, "generated.py", options=options, fix=True).fixed_source is not None


# --- Arbitrary Python (hypothesmith) --------------------------------------------------------

BN_WORDS = ["batch_norm", "UPDATE_OPS", "minimize", "BatchNormalization", "normalizer_fn", "arg_scope"]


@examples(80)
@given(code=hypothesmith.from_grammar(), word=st.sampled_from(BN_WORDS))
def test_arbitrary_python_never_crashes_and_is_left_alone(code: str, word: str) -> None:
    source = f"# {word}\n{code}".encode("utf-8", "surrogatepass")
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        assume(False)
    result = analyze(source, "random.py", fix=True)
    assert result.internal_error is None, result.internal_error
    assert result.error is None, result.error
    # Without TensorFlow in it, there is nothing to find, so nothing to write.
    assert result.findings == [] and result.fixed_source is None


@examples(40)
@given(code=hypothesmith.from_grammar(), word=st.sampled_from(BN_WORDS),
       prefix=st.sampled_from(["", "import tensorflow as tf\n", "import tensorflow.compat.v1 as tf\nslim = tf.contrib.slim\n"]),
       suffix=st.sampled_from(["", "h = tf.layers.batch_normalization(x, training=True)\nop = tf.train.AdamOptimizer(0.1).minimize(h)\n",
                               "h = slim.batch_norm(x)\nop = tf.train.GradientDescentOptimizer(0.1).minimize(h)\n"]))
def test_arbitrary_python_around_batch_norm(code: str, word: str, prefix: str, suffix: str) -> None:
    source = f"{prefix}# {word}\n{code}\n{suffix}".encode("utf-8", "surrogatepass")
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        assume(False)
    check_fix(source, Options(unsafe_fixes=True))


def simple_statement_starts(tree: ast.Module) -> list[tuple[int, list[ast.stmt], int]]:
    """(line, block, index) of statements that start a line of their own in a block."""
    found = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                header = getattr(node, "lineno", 0)
                for index, statement in enumerate(block):
                    shares = index and block[index - 1].end_lineno == statement.lineno
                    if statement.lineno != header and not shares:
                        found.append((statement.lineno, block, index))
    return found


COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
            ast.With, ast.AsyncWith, ast.Try, *((ast.Match,) if hasattr(ast, "Match") else ()),
            *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))


def without_positions(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=False)


@examples(80)
@given(code=hypothesmith.from_grammar(), data=st.data())
def test_rewriter_on_arbitrary_python(code: str, data) -> None:
    """The rewriting layer alone, on any program: wrap, insert before, move, add an
    import at a random statement. The result parses to exactly the tree expected, or
    the edit is skipped and the bytes are unchanged."""
    source = code.encode("utf-8", "surrogatepass")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        assume(False)
    starts = simple_statement_starts(tree)
    kind = data.draw(st.sampled_from(["wrap", "insert", "import", "move", "none"]))
    expected = ast.parse(source)
    if kind == "none" or (kind != "import" and not starts):
        edits: list = []
    elif kind == "import":
        edits = [AddImport("tensorflow", "tf")]
    else:
        # Edits name simple statements (a wrap or move of anything else is skipped).
        simple = [s for s in starts if not isinstance(s[1][s[2]], COMPOUND)] or starts
        line, block, _ = data.draw(st.sampled_from(simple if kind != "insert" else starts))
        if kind == "wrap":
            edits = [WrapInWith(line, "tf.control_dependencies([])")]
        elif kind == "insert":
            edits = [InsertBefore(line, "migrate_bn_probe = 1")]
        else:
            later = [s for s in starts if s[0] > line and s[1] is block]  # within its own block
            assume(later)
            edits = [MoveBefore(line, data.draw(st.sampled_from(later))[0])]
    try:
        outcome = apply_edits(source, edits)
    except (cst.ParserSyntaxError, RoundTripError):
        # LibCST reads a little less than Python (a last line holding only a backslash),
        # and does not give back every byte it read (a line holding only a backslash, in
        # the middle of the file): `analyze` reports such a file and writes nothing.
        return
    event(f"{kind}: {'applied' if outcome.applied else 'skipped'}")
    if not outcome.applied:
        assert outcome.code == source
        return
    text = outcome.code.decode("utf-8")
    note(f"edits: {edits}\nafter:\n{text}")
    after = ast.parse(text)
    # Build the expected tree by doing the same edit to the ast.
    starts_expected = {(s[0]): s for s in simple_statement_starts(expected)}
    (edit,) = edits
    if isinstance(edit, AddImport):
        new = ast.parse("import tensorflow as tf").body[0]
        assert without_positions(after).count("alias(name='tensorflow', asname='tf')") == \
            without_positions(expected).count("alias(name='tensorflow', asname='tf')") + 1
        body = after.body
        index = next(i for i, s in enumerate(body) if without_positions(s) == without_positions(new)
                     and (i >= len(expected.body) or without_positions(expected.body[i]) != without_positions(new)))
        del body[index]
        assert without_positions(after) == without_positions(expected)
        # After the docstring, `from __future__` imports, and the imports at the top.
        for statement in body[:index]:
            assert isinstance(statement, (ast.Import, ast.ImportFrom)) or (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        return
    line, block, index = starts_expected[edit.line]
    same_line = [s for s in block if s.lineno == line]
    position = block.index(same_line[0])
    if isinstance(edit, WrapInWith):
        wrapper = ast.parse("with tf.control_dependencies([]):\n    pass").body[0]
        wrapper.body = same_line
        block[position:position + len(same_line)] = [wrapper]
    elif isinstance(edit, InsertBefore):
        block.insert(position, ast.parse("migrate_bn_probe = 1").body[0])
    else:
        moved = block.pop(position)
        target = next(i for i, s in enumerate(block) if s.lineno == edit.before_line)
        block.insert(target, moved)
    assert without_positions(after) == without_positions(expected)
    # Everything outside the edited statement is byte-identical.
    if isinstance(edit, (WrapInWith, InsertBefore)):
        statement = same_line[-1]
        first = min([line, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        before_lines = lines_of(code)
        last = statement.end_lineno or line
        while last < len(before_lines) and before_lines[last - 1].rstrip("\r\n").endswith("\\"):
            last += 1  # backslash continuation lines are part of the statement
        kept = before_lines[: first - 1] + before_lines[last:]
        assert is_subsequence([l for l in kept if l.strip() and not l.lstrip().startswith("#")],
                              lines_of(text)) is None


# Programs with statements for the round-trip guard: LibCST-generated modules and the
# fixtures' own programs.
STATEMENT_SOURCES = st.one_of(hypothesmith.from_node(),
                              st.sampled_from(sorted(p.read_text(encoding="utf-8") for p in FIXTURES.glob("*/*/before.py"))))


@examples(30)
@given(code=STATEMENT_SOURCES,
       newline=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
def test_libcst_round_trip_guard(code: str, newline: str, encoding: str) -> None:
    """LibCST parses and renders the whole module and the bytes come back exactly,
    whatever the line endings and encoding (LibCST drops a final lone CR; apply_edits
    puts it back), or the file is refused. The edit names a line past the end, so the
    fast path declines it and nothing is applied."""
    text = NEWLINE.sub(newline, code)
    if encoding == "latin-1":
        text = "# -*- coding: latin-1 -*-\n" + text
    try:
        source = text.encode(encoding)
        tree = ast.parse(source)
    except (SyntaxError, ValueError, UnicodeEncodeError):
        assume(False)
    assume(tree.body)
    event(f"{min(len(tree.body), 10)}{'+' if len(tree.body) > 10 else ''} top-level statements")
    nowhere = WrapInWith(len(lines_of(text)) + 2, "tf.control_dependencies([])")
    try:
        outcome = apply_edits(source, [nowhere])
    except (cst.ParserSyntaxError, RoundTripError) as refused:
        event(f"refused: {type(refused).__name__}")
        return
    assert outcome.applied == [] and outcome.code == source


# --- Generated TF1 programs -------------------------------------------------------------

ENCODINGS = {
    "utf-8": ("", "utf-8"),
    "utf-8-bom": ("", "utf-8-sig"),
    "utf-8-cookie": ("# -*- coding: utf-8 -*-", "utf-8"),
    "latin-1": ("# -*- coding: latin-1 -*-", "latin-1"),
    "cp1252": ("# vim: set fileencoding=cp1252 :", "cp1252"),
}
NON_ASCII = "\u00e9\u00e8\u00fc\u00df\u00e7\u20ac\u00b5\u65e5\u00c3\u00a9"


class Lines:
    """A block of code as (indentation level, text) pairs, rendered at the end."""

    def __init__(self, *items: tuple[int, str]) -> None:
        self.items = list(items)

    def indented(self, levels: int = 1) -> "Lines":
        return Lines(*((level + levels, text) for level, text in self.items))

    def __add__(self, other: "Lines") -> "Lines":
        return Lines(*self.items, *other.items)


def stmt(*texts: str) -> Lines:
    """One statement: its first line, then continuation lines one level deeper."""
    return Lines((0, texts[0]), *((1, text) for text in texts[1:]))


@st.composite
def words(draw, encoding: str) -> str:
    alphabet = [c for c in NON_ASCII if _encodable(c, encoding)] + list("abcxyz _-")
    return draw(st.text(alphabet=alphabet, min_size=1, max_size=12)).strip() or "x"


def _encodable(character: str, encoding: str) -> bool:
    try:
        character.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


@st.composite
def noise(draw, encoding: str) -> Lines:
    kind = draw(st.sampled_from(["blank", "comment", "print", "assign", "none", "none"]))
    if kind == "blank":
        return Lines((0, ""))
    if kind == "comment":
        return Lines((0, "# " + draw(words(encoding))))
    if kind == "print":
        return stmt(f"print({draw(words(encoding))!r})")
    if kind == "assign":
        return stmt(f"note_{draw(st.integers(0, 99))} = {draw(words(encoding))!r}  # {draw(words(encoding))}")
    return Lines()


@st.composite
def sprinkled(draw, statements: list[Lines], encoding: str) -> Lines:
    """Statements in order, with noise between them, and a run of them maybe inside
    a `with tf.name_scope(...)` block."""
    out = Lines()
    scoped = draw(st.none() | st.tuples(st.integers(0, len(statements) - 1), st.integers(1, 3)))
    index = 0
    while index < len(statements):
        out = out + draw(noise(encoding))
        if scoped is not None and index == scoped[0]:
            run = statements[index:index + scoped[1]]
            body = Lines()
            for item in run:
                body = body + item + draw(noise(encoding))
            out = out + stmt(f"with tf.name_scope({draw(words('ascii'))!r}):") + body.indented()
            index += len(run)
        else:
            out = out + statements[index]
            index += 1
    return out + draw(noise(encoding))


# The bugs a generated program can be made to hold for sure: (the choices that make
# it, the finding that must be reported and fixed). BN001: batch norm with a training
# flag, a train op that does not run UPDATE_OPS (a literal True in a graph nothing
# evaluates is no bug: nothing reads the moving statistics); BN002: UPDATE_OPS read
# before the batch norm.
SPLICED_BUGS = {
    "BN001": {"wiring": ["none"], "flag": ["placeholder"], "layout": ["script", "function", "method"],
              "bn": ["layers", "layers_momentum", "contrib", "slim", "slim_normalizer", "slim_arg_scope"]},
    # (Not in a method: BN002 offers no fix for `self.update_ops = ...` read early.)
    "BN002": {"wiring": ["early_read"], "flag": ["placeholder", "true"], "layout": ["script", "function"],
              "bn": ["layers", "layers_momentum", "contrib", "slim", "slim_normalizer", "slim_arg_scope"]},
}


def spliced_bug(choices: dict[str, str]) -> Optional[str]:
    """The bug the generator's choices put in the program for sure, if any."""
    for code, needs in SPLICED_BUGS.items():
        if all(choices[name] in allowed for name, allowed in needs.items()):
            return code
    return None


@st.composite
def tf1_programs(draw, bug: Optional[str] = None) -> tuple[bytes, str, Options, Optional[str]]:
    """A generated TF1 program, its indentation unit, options, and the bug it holds for
    sure (see SPLICED_BUGS; `bug` forces one)."""
    forced = SPLICED_BUGS.get(bug, {})

    def choose(name: str, options: list[str]) -> str:
        return draw(st.sampled_from(forced.get(name, options)))

    encoding_name = draw(st.sampled_from(sorted(ENCODINGS)))
    cookie, encoding = ENCODINGS[encoding_name]
    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    newline_style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    tf_module = draw(st.sampled_from(["tensorflow", "tensorflow.compat.v1"]))
    bn = choose("bn", ["layers", "layers_momentum", "contrib", "slim", "slim_normalizer", "slim_arg_scope",
                       "helper", "keras"])
    flag = choose("flag", ["placeholder", "missing", "true", "false"])
    wiring = choose("wiring", ["none", "none", "wired", "early_read", "group"])
    train = draw(st.sampled_from(["minimize", "minimize_multiline", "minimize_backslash", "apply_gradients"]))
    layout = choose("layout", ["script", "function", "method", "estimator"])
    evaluated = draw(st.booleans())
    steps = draw(st.sampled_from([5, 100, 20000]))

    header = Lines()
    if draw(st.booleans()):
        header = header + Lines((0, "#!/usr/bin/env python"))
    if cookie:
        header = header + Lines((0, cookie))
    if draw(st.booleans()):
        header = header + Lines((0, f'"""{draw(words(encoding))}."""'))
    if draw(st.booleans()):
        header = header + stmt("from __future__ import print_function")
    imports = [stmt("import numpy as np"), stmt(f"import {tf_module} as tf")]
    if bn.startswith("slim"):
        imports.append(draw(st.sampled_from([stmt("import tensorflow.contrib.slim as slim"),
                                             stmt("from tensorflow.contrib import slim"),
                                             stmt("import tf_slim as slim"), stmt("slim = tf.contrib.slim")])))

    flag_name = {"method": "self.is_training", "estimator": "mode == tf.estimator.ModeKeys.TRAIN"}.get(layout, "is_training")
    keyword = {"layers": "training", "layers_momentum": "training", "keras": "training"}.get(bn, "is_training")
    value = {"placeholder": flag_name, "true": "True", "false": "False"}.get(flag)
    passed = f", {keyword}={value}" if value is not None else ""
    model: list[Lines] = [stmt("h = tf.layers.dense(x, 8, use_bias=False)")]
    if bn == "layers":
        model.append(stmt(f"h = tf.layers.batch_normalization(h{passed})"))
    elif bn == "layers_momentum":
        model.append(stmt("h = tf.layers.batch_normalization(", f"h, momentum=0.999{passed})"))
    elif bn == "contrib":
        model.append(stmt(f"h = tf.contrib.layers.batch_norm(h, decay=0.9{passed})"))
    elif bn == "slim":
        model.append(stmt(f"h = slim.batch_norm(h{passed})"))
    elif bn == "slim_normalizer":
        params = f", normalizer_params={{'is_training': {value}}}" if value is not None else ""
        model.append(stmt("h = slim.fully_connected(", f"h, 8, normalizer_fn=slim.batch_norm{params})"))
    elif bn == "slim_arg_scope":
        params = f", normalizer_params={{'is_training': {value}}}" if value is not None else ""
        model.append(Lines((0, f"with slim.arg_scope([slim.fully_connected], normalizer_fn=slim.batch_norm{params}):"),
                           (1, "h = slim.fully_connected(h, 8)")))
    elif bn == "helper":
        model.append(stmt(f"h = bn_block(h{', ' + value if value is not None else ''})"))
    else:
        model.append(stmt("bn_layer = tf.keras.layers.BatchNormalization()"))
        model.append(stmt(f"h = bn_layer(h{passed})"))
    model.append(stmt("h = tf.nn.relu(h)"))
    model.append(stmt("loss = tf.reduce_mean(tf.square(h))"))
    optimizer = draw(st.sampled_from(["tf.train.AdamOptimizer(1e-3)", "tf.train.MomentumOptimizer(0.1, 0.9)"]))
    model.append(stmt(f"optimizer = {optimizer}"))
    if train == "minimize":
        op = [stmt("train_op = optimizer.minimize(loss)")]
    elif train == "minimize_multiline":
        op = [stmt("train_op = optimizer.minimize(", "loss,", "global_step=tf.train.get_or_create_global_step())")]
    elif train == "minimize_backslash":
        op = [stmt("train_op = optimizer \\", ".minimize(loss)")]
    else:
        op = [stmt("grads_and_vars = optimizer.compute_gradients(loss)"),
              stmt("train_op = optimizer.apply_gradients(grads_and_vars)")]
    if wiring == "wired":
        op = op[:-1] + [stmt("with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):")
                        + op[-1].indented()]
    elif wiring == "early_read":
        model.insert(0, stmt("update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)"))
        op = op[:-1] + [stmt("with tf.control_dependencies(update_ops):") + op[-1].indented()]
    elif wiring == "group":
        op = op[:-1] + [stmt(op[-1].items[0][1].replace("train_op = ", "step = "),
                             *(t for _, t in op[-1].items[1:])),
                        stmt("train_op = tf.group(step, *tf.get_collection(tf.GraphKeys.UPDATE_OPS))")]
    graph = model + op

    placeholders = [stmt("x = tf.placeholder(tf.float32, [None, 4])")]
    flag_placeholder = draw(st.sampled_from(["tf.placeholder(tf.bool, name='is_training')",
                                             "tf.placeholder_with_default(False, [], name='is_training')"]))
    helper = Lines()
    if bn == "helper":
        helper = stmt("def bn_block(inputs, is_training=False):") + stmt(
            "return tf.layers.batch_normalization(inputs, training=is_training)").indented() + Lines((0, ""), (0, ""))
    if layout == "script":
        placeholders.append(stmt(f"is_training = {flag_placeholder}"))
        body = draw(sprinkled(placeholders + graph, encoding))
        run_targets = "train_op", "h"
        definitions = Lines()
    elif layout == "function":
        function = stmt("def build(x, is_training):") + draw(sprinkled(graph + [stmt("return train_op, h")], encoding)).indented()
        definitions = function + Lines((0, ""), (0, ""))
        placeholders.append(stmt(f"is_training = {flag_placeholder}"))
        body = draw(sprinkled(placeholders + [stmt("train_op, h = build(x, is_training)")], encoding))
        run_targets = "train_op", "h"
    else:
        renamed = [Lines(*((level, re.sub(r"\b(h|loss|optimizer|train_op|grads_and_vars|update_ops|step|bn_layer)\b",
                                          r"self.\1", text).replace("(x,", "(self.x,").replace("(x)", "(self.x)")
                            .replace("dense(x", "dense(self.x")) for level, text in item.items)) for item in graph]
        init = stmt("def __init__(self, x, is_training):") + (
            stmt("self.x = x") + stmt("self.is_training = is_training") + draw(sprinkled(renamed, encoding))).indented()
        definitions = stmt("class Model(object):") + init.indented() + Lines((0, ""), (0, ""))
        placeholders.append(stmt(f"is_training = {flag_placeholder}"))
        body = draw(sprinkled(placeholders + [stmt("model = Model(x, is_training)")], encoding))
        run_targets = "model.train_op", "model.h"
    if layout == "estimator":
        function = stmt("def model_fn(features, labels, mode):") + (stmt("x = features") + draw(sprinkled(
            graph + [stmt("return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)")], encoding))).indented()
        definitions = function + Lines((0, ""), (0, ""))
        body = draw(sprinkled([stmt("estimator = tf.estimator.Estimator(model_fn)")], encoding))
        session = stmt(f"estimator.train(lambda: (np.ones((2, 4)), None), steps={steps})")
        if evaluated:
            session = session + stmt("estimator.evaluate(lambda: (np.ones((2, 4)), None))")
    feed_flag = ", is_training: True" if flag == "placeholder" else ""
    session = session if layout == "estimator" else stmt("with tf.Session() as sess:") + (
        stmt("sess.run(tf.global_variables_initializer())")
        + stmt(f"for step_index in range({steps}):")
        + stmt(f"sess.run({run_targets[0]}, feed_dict={{x: np.ones((2, 4)){feed_flag}}})").indented()
        + (stmt(f"print(sess.run({run_targets[1]}, feed_dict={{x: np.ones((2, 4))}}))") if evaluated else Lines())
    ).indented()

    program = header + Lines(*(i for item in imports for i in item.items)) + Lines((0, ""), (0, "")) \
        + helper + definitions + body + session
    # Render: indentation unit, line endings, encoding, final newline or not.
    mixed = draw(st.lists(st.sampled_from(["\n", "\r\n", "\n", "\r\n", "\r"]), min_size=len(program.items),
                          max_size=len(program.items))) if newline_style == "mixed" else None
    rendered = []
    for number, (level, text) in enumerate(program.items):
        end = mixed[number] if mixed else newline_style
        rendered.append((unit * level + text if text else "") + end)
    text = "".join(rendered)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    source = text.encode(encoding)
    note(f"program ({encoding_name}, {unit!r}, {newline_style!r}):\n{text}")
    expected = spliced_bug({"bn": bn, "flag": flag, "wiring": wiring, "layout": layout})
    return source, unit, Options(unsafe_fixes=draw(st.booleans())), expected


def assert_found_and_fixed(source: bytes, options: Options, code: str, fixed: Optional[bytes]) -> None:
    """A tool that does nothing fails here: the bug is reported with a fix, and the
    fixed program no longer holds it."""
    findings = analyze(source, "generated.py", options=options).findings
    assert [f for f in findings if f.code == code], f"{code} not found: {findings}"
    if code == "BN002" and b"name_scope" in source:
        return  # the read may sit in another block than the batch norm: no move can fix that
    assert [f for f in findings if f.code == code and f.fix is not None], f"{code} has no fix: {findings}"
    if fixed is None:  # refused on purpose (see check_fix): lone CR and lone LF line ends
        assert re.search(rb"\r(?!\n)", source) and re.search(rb"(?<!\r)\n", source)
        return
    after = analyze(fixed, "generated.py", options=options).findings
    assert code not in {f.code for f in after}, f"{code} still there after the fix"


@examples(200)
@given(program=tf1_programs())
def test_generated_tf1_programs(program) -> None:
    source, unit, options, bug = program
    ast.parse(source)  # the generator writes valid Python
    fixed = check_fix(source, options, indent=unit)
    event(f"spliced bug: {bug}")
    if bug is not None:
        assert_found_and_fixed(source, options, bug, fixed)


@pytest.mark.parametrize("bug", sorted(SPLICED_BUGS))
def test_spliced_bugs_are_found_and_fixed(bug: str) -> None:
    @examples(40)
    @given(program=tf1_programs(bug=bug))
    def found_and_fixed(program) -> None:
        source, unit, options, spliced = program
        assert spliced == bug
        assert_found_and_fixed(source, options, bug, check_fix(source, options, indent=unit))
    found_and_fixed()


_PRINT_CALL = re.compile(rb"^([ \t]*)print\(([^\r\n]*)\)$")
_BYTE_LINES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def as_python2(source: bytes) -> bytes:
    """`print(...)` calls on lines of their own as Python 2 `print` statements."""
    out = []
    for line in _BYTE_LINES.findall(source):
        body = line.rstrip(b"\r\n")
        out.append(_PRINT_CALL.sub(rb"\1print \2", body) + line[len(body):])
    return b"".join(out)


@examples(50)
@given(program=tf1_programs())
def test_generated_python2_programs(program) -> None:
    """The same programs with their `print(...)` calls written as Python 2 `print`
    statements: analysed like the Python 3 program, fixed, and kept Python 2, with
    every line outside the fixes byte-identical."""
    source, unit, options, bug = program
    python2_source = as_python2(source)
    assume(python2_source != source and b"print_function" not in source)
    python3 = analyze(source, "generated.py", options=options)
    python2_result = analyze(python2_source, "generated.py", options=options)
    assert python2_result.error is None, python2_result.error
    assert [(f.code, f.span.line) for f in python2_result.findings] == \
        [(f.code, f.span.line) for f in python3.findings]
    fixed = check_fix(python2_source, options, indent=unit)
    if bug is not None:
        assert_found_and_fixed(python2_source, options, bug, fixed)


@examples(10)
@given(program=tf1_programs())
def test_generated_tf1_programs_on_disk(program, tmp_path_factory) -> None:
    """Through the runner: the bytes on disk are the checked fix, the mode is kept,
    the second run writes nothing."""
    source, unit, options, _ = program
    directory = tmp_path_factory.mktemp("fuzz")
    target = directory / "train.py"
    target.write_bytes(source)
    os.chmod(target, 0o640)
    expected = analyze(source, "train.py", options=options, fix=True).fixed_source
    job = runner.Job(select_rules(), options, fix=True, write=True)
    result, read = runner.process_file(str(target), job)
    assert read == source and result.internal_error is None
    if result.error is not None:  # refused on purpose (see check_fix): nothing written
        assert "mixes lines ending in CR alone" in str(result.error) and expected is None
    assert target.read_bytes() == (expected if expected is not None else source)
    assert os.stat(target).st_mode & 0o777 == 0o640
    inode = os.stat(target).st_ino
    again, _ = runner.process_file(str(target), job)
    assert not again.changed and os.stat(target).st_ino == inode
    assert not [p for p in directory.iterdir() if p.name != "train.py"]


# --- The fixtures, re-encoded and re-indented ---------------------------------------------

FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*/*/before.py"))


def to_tabs(text: str, unit: str) -> Optional[str]:
    """Re-indent 4-space code with `unit` (outside strings); None if it cannot be done."""
    protected: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                protected.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return None
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        whitespace = leading_whitespace(line)
        if number in protected or "\t" in whitespace or len(whitespace) % 4:
            if number not in protected and whitespace and line.strip():
                return None
            out.append(line)
        else:
            out.append(unit * (len(whitespace) // 4) + line[len(whitespace):])
    converted = "".join(out)
    try:
        if without_positions(ast.parse(converted)) != without_positions(ast.parse(text)):
            return None
    except SyntaxError:
        return None
    return converted


def first_indent(text: str) -> Optional[str]:
    """The file's indentation unit: its first INDENT token (fixtures indent by one unit)."""
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.INDENT:
            return token.string
    return None


@pytest.mark.skipif(not FIXTURE_FILES, reason="no fixtures")
@examples(100)
@given(path=st.sampled_from(FIXTURE_FILES) if FIXTURE_FILES else st.nothing(),
       newline=st.sampled_from(["\n", "\r\n", "\r"]),
       unit=st.sampled_from(["    ", "\t", "  "]),
       encoding=st.sampled_from(sorted(ENCODINGS)),
       final_newline=st.booleans(), unsafe=st.booleans())
def test_fixtures_in_every_format(path: Path, newline: str, unit: str, encoding: str,
                                  final_newline: bool, unsafe: bool) -> None:
    text = path.read_text(encoding="utf-8")
    if unit != "    ":
        converted = to_tabs(text, unit)
        assume(converted is not None)
        text = converted
    cookie, codec = ENCODINGS[encoding]
    if cookie and not text.startswith("#!"):
        text = cookie + "\n" + text
    text = NEWLINE.sub(newline, text)
    if not final_newline:
        text = text.rstrip("\r\n")
    try:
        source = text.encode(codec)
    except UnicodeEncodeError:
        assume(False)
    note(f"{path.parent.relative_to(FIXTURES)} {encoding} {unit!r} {newline!r}")
    check_fix(source, Options(unsafe_fixes=unsafe), indent=first_indent(text))
