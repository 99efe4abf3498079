"""The language server end to end: a real LSP client (pytest-lsp) talks to
`python -m migrate_bn lsp` over stdio, as an editor would.

Two servers: one driven with VS Code's capabilities (UTF-16 positions, edits resolved
lazily through codeAction/resolve, versioned document changes) and one with Emacs'
(eglot offers UTF-32 first, so positions count characters; edits come with the action).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytest_lsp")

import pytest_lsp  # noqa: E402
from lsprotocol import types  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402
from pygls.workspace import PositionCodec  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402

from migrate_bn.api import analyze  # noqa: E402
from migrate_bn.findings import Finding, Span  # noqa: E402
from migrate_bn.lsp import encode, ignore_edits, span_range, split_lines, text_edits  # noqa: E402
from migrate_bn.output import rule_docs_url  # noqa: E402
from test_programs import BUGGY, FIXED, IMPORTER, MODELS, MODELS_PLAIN, rewrite  # noqa: E402  # conftest.py makes it importable

# The servers live for the module; so must the event loop the tests run on.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

# The train op's line starts with two characters outside the Basic Multilingual Plane:
# two UTF-16 code units each, one character each.
ASTRAL = BUGGY.replace("train_op = ", 'tag = "😀😀"; train_op = ')
UNSAFE = """\
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
h = tf.layers.batch_normalization(x, training=True)
loss = tf.reduce_mean(h)
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    for step in range(5000):
        sess.run(train_op, {x: [[1.0] * 4]})
    print(sess.run(h, {x: [[2.0] * 4]}))
"""
SLIM = """\
import tensorflow as tf
import tensorflow.contrib.slim as slim

x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
h = slim.batch_norm(x, is_training=is_training, decay=0.9)
loss = tf.reduce_mean(h)
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
"""


def _client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics (with its version)."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = {}  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        client.published.setdefault(params.uri, []).append(params)  # type: ignore[attr-defined]

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


# The `migrate-bn` script editors run. (`python -m migrate_bn` from the repository root
# would import the source tree, where `migrate_bn.transforms` does not exist.)
_SCRIPT = Path(sys.executable).with_name("migrate-bn.exe" if sys.platform == "win32" else "migrate-bn")
SERVER = ClientServerConfig(
    server_command=[str(_SCRIPT), "lsp"] if _SCRIPT.exists() else [sys.executable, "-I", "-m", "migrate_bn", "lsp"],
    client_factory=_client)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    return root


@pytest_lsp.fixture(config=SERVER, scope="module")
async def vscode(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=from_fs_path(str(workspace))))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, scope="module")
async def emacs(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("emacs"), root_uri=from_fs_path(str(workspace))))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, scope="module")
async def minimal(lsp_client: LanguageClient, workspace: Path):
    """A client that states no capabilities at all: UTF-16, no resolve, plain `changes`."""
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(workspace))))
    yield
    await lsp_client.shutdown_session()


# --- helpers -------------------------------------------------------------------------------


async def published(client: LanguageClient, uri: str, version: int, timeout: float = 30.0) -> list:
    """The diagnostics the server published for this version of the document."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for params in reversed(client.published.get(uri, [])):  # type: ignore[attr-defined]
            if params.version == version:
                return list(params.diagnostics)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no diagnostics for {uri} version {version}")
        await asyncio.sleep(0.02)


def write(workspace: Path, name: str, text: str) -> str:
    path = workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    return from_fs_path(str(path))


def project_directory(workspace: Path, name: str) -> Path:
    """A directory of the workspace that is a project root of its own (setup.cfg)."""
    project = workspace / name
    project.mkdir()
    (project / "setup.cfg").write_text("[metadata]\nname = demo\n")
    return project


def open_document(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))


def offset(text: str, position: types.Position, encoding: str) -> int:
    lines = split_lines(text)
    start = sum(len(line) for line in lines[:position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units, index = 0, 0
    while index < len(line) and units < position.character:
        units += PositionCodec(encoding).client_num_units(line[index])
        index += 1
    return start + index


def apply(text: str, edits, encoding: str = "utf-16") -> str:
    """Apply LSP text edits (all relative to `text`) as an editor does."""
    spans = sorted(((offset(text, e.range.start, encoding), offset(text, e.range.end, encoding), e.new_text)
                    for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> list[types.TextEdit]:
    if edit.document_changes:
        return [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    return list((edit.changes or {}).get(uri, []))


async def actions(client: LanguageClient, uri: str, rng: types.Range, only=None) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
        context=types.CodeActionContext(diagnostics=[], only=only)))
    return list(result or [])


async def resolved(client: LanguageClient, action: types.CodeAction) -> types.CodeAction:
    return action if action.edit is not None else await client.code_action_resolve_async(action)


# --- diagnostics ---------------------------------------------------------------------------


@in_module_loop
async def test_diagnostics_on_open_with_code_link_and_related_location(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "open/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    assert diagnostic.code == "BN001" and diagnostic.source == "migrate-bn"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range == types.Range(start=types.Position(line=6, character=11),
                                           end=types.Position(line=6, character=53))
    assert "UPDATE_OPS" in diagnostic.message
    # The batch-norm site the train op depends on.
    (related,) = diagnostic.related_information
    assert related.location.uri == uri and related.location.range.start.line == 4
    # A link to the rule's documentation: the rule page of an installed source checkout,
    # none from a wheel until the pages are published (output.DOCS_URL); hover has them.
    link = rule_docs_url("BN001")
    assert (diagnostic.code_description.href if diagnostic.code_description else None) == link
    assert link is None or link.endswith("docs/rules/BN001.md")


@in_module_loop
async def test_columns_are_utf16_code_units_for_vscode(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "utf16/train.py", ASTRAL)
    open_document(vscode, uri, ASTRAL)
    (diagnostic,) = await published(vscode, uri, 1)
    characters = len('tag = "😀😀"; train_op = ')
    assert diagnostic.range.start == types.Position(line=6, character=characters + 2)


@in_module_loop
async def test_columns_are_characters_when_the_client_asks_for_utf32(emacs: LanguageClient, workspace: Path):
    uri = write(workspace, "utf32/train.py", ASTRAL)
    open_document(emacs, uri, ASTRAL)
    (diagnostic,) = await published(emacs, uri, 1)
    assert diagnostic.range.start == types.Position(line=6, character=len('tag = "😀😀"; train_op = '))


@in_module_loop
async def test_diagnostics_follow_changes_and_save(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "change/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    assert len(await published(vscode, uri, 1)) == 1
    # An incremental change that adds the dependency: the finding goes.
    line = BUGGY.splitlines().index("train_op = tf.train.AdamOptimizer(0.1).minimize(loss)")
    vscode.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line, character=0)),
            text="with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n    ")]))
    assert await published(vscode, uri, 2) == []
    # A burst of whole-document changes: the last version is the one that counts.
    for version, text in ((3, BUGGY), (4, FIXED), (5, BUGGY)):
        vscode.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    assert len(await published(vscode, uri, 5)) == 1
    vscode.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    await asyncio.sleep(0.5)
    assert [p.version for p in vscode.published[uri]][-1] == 5
    assert len(vscode.diagnostics[uri]) == 1


@in_module_loop
async def test_half_typed_code_keeps_the_last_diagnostics(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "typing/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    assert len(await published(vscode, uri, 1)) == 1
    vscode.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY + "def broken(:\n")]))
    await asyncio.sleep(0.5)
    assert all(p.version != 2 for p in vscode.published[uri])
    assert len(vscode.diagnostics[uri]) == 1


@in_module_loop
async def test_close_clears_diagnostics(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "close/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    assert len(await published(vscode, uri, 1)) == 1
    vscode.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    for _ in range(200):
        if list(vscode.diagnostics[uri]) == []:
            break
        await asyncio.sleep(0.02)
    assert list(vscode.diagnostics[uri]) == []


@in_module_loop
async def test_project_configuration_is_read(vscode: LanguageClient, workspace: Path):
    project = workspace / "configured"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.migrate-bn]\nper-file-ignores = { "legacy_*" = ["BN001"] }\n')
    legacy = write(project, "legacy_train.py", BUGGY)
    current = write(project, "train.py", BUGGY)
    open_document(vscode, legacy, BUGGY)
    open_document(vscode, current, BUGGY)
    assert await published(vscode, legacy, 1) == []
    assert [d.code for d in await published(vscode, current, 1)] == ["BN001"]


@in_module_loop
async def test_batch_norm_built_in_another_module_of_the_project(vscode: LanguageClient, workspace: Path):
    project = project_directory(workspace, "crossfile")
    write(project, "models.py", MODELS)
    uri = write(project, "train.py", IMPORTER)
    open_document(vscode, uri, IMPORTER)
    (diagnostic,) = await published(vscode, uri, 1)
    assert diagnostic.code == "BN001"


# --- the model kept across saves (model/refresh.py) -----------------------------------------


def _save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


async def _codes_after(client: LanguageClient, uri: str, count: int, timeout: float = 30.0) -> list:
    """The codes of the diagnostics published for `uri` once more than `count` were published."""
    deadline = asyncio.get_running_loop().time() + timeout
    while len(client.published.get(uri, [])) <= count:  # type: ignore[attr-defined]
        assert asyncio.get_running_loop().time() < deadline, f"no new diagnostics for {uri}"
        await asyncio.sleep(0.02)
    return [d.code for d in client.published[uri][-1].diagnostics]  # type: ignore[attr-defined]


@in_module_loop
async def test_saving_an_imported_module_updates_the_importers_diagnostics(vscode: LanguageClient,
                                                                           workspace: Path):
    workspace = project_directory(workspace, "saved")
    models = write(workspace, "models.py", MODELS)
    train = write(workspace, "train.py", IMPORTER)
    open_document(vscode, train, IMPORTER)
    assert [d.code for d in await published(vscode, train, 1)] == ["BN001"]
    # The user edits models.py so that it builds no batch norm, and saves it.
    open_document(vscode, models, MODELS)
    await published(vscode, models, 1)
    rewrite(workspace / "models.py", MODELS_PLAIN)
    seen = len(vscode.published[train])  # type: ignore[attr-defined]
    _save(vscode, models)
    assert await _codes_after(vscode, train, seen) == []
    # And back: the kept model answers from the disk again, not from what it kept.
    rewrite(workspace / "models.py", MODELS)
    seen = len(vscode.published[train])  # type: ignore[attr-defined]
    _save(vscode, models)
    assert await _codes_after(vscode, train, seen) == ["BN001"]


@in_module_loop
async def test_an_unsaved_buffer_wins_over_the_disk(vscode: LanguageClient, workspace: Path):
    workspace = project_directory(workspace, "buffer")
    write(workspace, "helpers.py", MODELS.replace("build", "make"))
    text = IMPORTER.replace("build", "make").replace("from models", "from helpers")
    uri = write(workspace, "eval_train.py", text.replace("train_op = tf", "with tf.control_dependencies("
                                                          "tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
                                                          "    train_op = tf"))
    open_document(vscode, uri, text)  # the buffer lacks the dependency the file on disk has
    assert [d.code for d in await published(vscode, uri, 1)] == ["BN001"]
    rewrite(workspace / "helpers.py", MODELS.replace("build", "make") + "\n")
    seen = len(vscode.published[uri])  # type: ignore[attr-defined]
    _save(vscode, write(workspace, "unrelated.py", "x = 1\n"))
    assert await _codes_after(vscode, uri, seen) == ["BN001"]


# --- code actions --------------------------------------------------------------------------


@in_module_loop
async def test_quick_fix_resolves_to_the_fixed_buffer(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "quickfix/train.py", BUGGY)
    before = (workspace / "quickfix/train.py").read_bytes()
    open_document(vscode, uri, BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    offered = await actions(vscode, uri, diagnostic.range)
    titles = [a.title for a in offered]
    fix = next(a for a in offered if a.title.startswith("Fix BN001: Run the update ops first"))
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.edit is None  # VS Code resolves edits lazily
    assert "Ignore BN001 on this line (# migrate-bn: ignore)" in titles
    assert "migrate-bn: apply all safe fixes" in titles
    fix = await resolved(vscode, fix)
    (change,) = fix.edit.document_changes
    assert change.text_document.version == 1
    assert apply(BUGGY, change.edits) == FIXED
    # The smallest edit: the one line replaced by two.
    (edit,) = change.edits
    assert edit.range.start.line == 6 and edit.range.end.line == 7
    # The server never writes: applying is the editor's job.
    assert (workspace / "quickfix/train.py").read_bytes() == before


@in_module_loop
async def test_ignore_on_this_line(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "ignore/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    ignore = next(a for a in await actions(vscode, uri, diagnostic.range) if a.title.startswith("Ignore"))
    ignored = apply(BUGGY, edits_of((await resolved(vscode, ignore)).edit, uri))
    assert ignored.splitlines()[6] == \
        "train_op = tf.train.AdamOptimizer(0.1).minimize(loss)  # migrate-bn: ignore[BN001]"
    assert analyze(ignored.encode()).findings == []
    vscode.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=ignored)]))
    assert await published(vscode, uri, 2) == []


@in_module_loop
async def test_unsafe_fix_is_marked_and_not_preferred(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "unsafe/train.py", UNSAFE)
    open_document(vscode, uri, UNSAFE)
    diagnostics = await published(vscode, uri, 1)
    bn004 = next(d for d in diagnostics if d.code == "BN004")
    fix = next(a for a in await actions(vscode, uri, bn004.range) if a.title.startswith("Fix BN004"))
    assert fix.title.startswith("Fix BN004 (unsafe): Create the flag `is_training`")
    assert not fix.is_preferred
    fixed = apply(UNSAFE, edits_of((await resolved(vscode, fix)).edit, uri))
    assert "tf.placeholder_with_default(False" in fixed and "is_training: True" in fixed
    # Unsafe fixes stay out of "apply all safe fixes".
    assert not [a for a in await actions(vscode, uri, bn004.range) if a.title.startswith("migrate-bn: apply")]


@in_module_loop
async def test_fix_all_for_code_actions_on_save(vscode: LanguageClient, workspace: Path):
    text = BUGGY + "\n\ndef model(x):\n    return tf.layers.batch_normalization(x)\n"
    uri = write(workspace, "fixall/train.py", text)
    open_document(vscode, uri, text)
    await published(vscode, uri, 1)
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))
    (fix_all,) = await actions(vscode, uri, whole, only=[types.CodeActionKind.SourceFixAll])
    assert fix_all.kind == "source.fixAll.migrate-bn"
    fixed = apply(text, edits_of((await resolved(vscode, fix_all)).edit, uri))
    assert fixed.encode() == analyze(text.encode(), fix=True).fixed_source
    assert await actions(vscode, uri, whole, only=[types.CodeActionKind.Refactor]) == []


@in_module_loop
async def test_eager_edits_and_alternatives_for_clients_without_resolve(emacs: LanguageClient, workspace: Path):
    uri = write(workspace, "eager/train.py", SLIM)
    open_document(emacs, uri, SLIM)
    diagnostics = await published(emacs, uri, 1)
    bn001 = next(d for d in diagnostics if d.code == "BN001")
    offered = await actions(emacs, uri, bn001.range)
    assert offered and all(a.edit is not None for a in offered)  # made with the action, not resolved
    alternative = next(a for a in offered if a.title.startswith("Fix BN001 (another way, unsafe)"))
    fixed = apply(SLIM, edits_of(alternative.edit, uri), "utf-32")
    assert "slim.learning.create_train_op(" in fixed


@in_module_loop
async def test_a_client_without_capabilities_gets_plain_changes(minimal: LanguageClient, workspace: Path):
    text = BUGGY.replace("minimize(loss)", 'minimize(loss, name="😀😀")')
    uri = write(workspace, "minimal/train.py", text)
    open_document(minimal, uri, text)
    (diagnostic,) = await published(minimal, uri, 1)
    line = text.splitlines()[6]
    assert diagnostic.range.end.character == len(line) + 2  # UTF-16, the default
    fix = next(a for a in await actions(minimal, uri, diagnostic.range) if a.title.startswith("Fix BN001"))
    assert fix.edit is not None and fix.edit.document_changes is None
    assert apply(text, fix.edit.changes[uri]) == text.replace(
        "train_op = ", "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n    train_op = ")


@in_module_loop
async def test_stale_action_resolves_to_no_edit(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "stale/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    fix = next(a for a in await actions(vscode, uri, diagnostic.range) if a.title.startswith("Fix BN001"))
    vscode.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="# moved on\n" + BUGGY)]))
    await published(vscode, uri, 2)
    assert (await vscode.code_action_resolve_async(fix)).edit is None


@in_module_loop
async def test_hover_shows_the_rule_documentation(vscode: LanguageClient, workspace: Path):
    uri = write(workspace, "hover/train.py", BUGGY)
    open_document(vscode, uri, BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    hover = await vscode.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=diagnostic.range.start))
    assert hover is not None and hover.contents.value.startswith("# BN001 missing-update-ops")


# --- the pure parts, without a server --------------------------------------------------------


def test_text_edits_are_minimal_and_handle_the_end_of_the_document() -> None:
    codec = PositionCodec("utf-16")
    assert text_edits("a\nb\nc\n", "a\nB\nc\n", codec)[0].range == types.Range(
        start=types.Position(line=1, character=0), end=types.Position(line=2, character=0))
    for before, after in (("a\nb", "a\nb\nc\n"), ("a\r\nb\r\n", "a\r\nx\r\nb\r\n"), ("", "x\n"), ("a\nb", "a\n")):
        assert apply(before, text_edits(before, after, codec)) == after


def test_spans_go_out_in_the_agreed_encoding() -> None:
    lines = split_lines('s = "é😀x"\n')
    for encoding, expected in (("utf-16", 8), ("utf-8", 11), ("utf-32", 7)):
        where = span_range(PositionCodec(encoding), lines, Span(1, 1, 1, 8))
        assert (where.start.character, where.end.character) == (0, expected)
    # Form feeds and other characters str.splitlines breaks on are not line breaks.
    assert len(split_lines("a\x0cb\nc\u2028d\n")) == 2


def test_buffer_is_encoded_as_its_file_would_be() -> None:
    # A coding cookie counts on line 1 or 2 only, whatever the line endings (CR alone
    # too), as Python and the command line read the file.
    for newline in ("\n", "\r\n", "\r"):
        text = newline.join(["", "# -*- coding: latin-1 -*-", "s = 'é'", ""])
        assert encode(text) == text.encode("latin-1")
        late = newline.join(["#!/usr/bin/env python", "x = 1", "# coding: latin-1", "s = 'é'", ""])
        assert encode(late) == late.encode()
    # A cookie that cannot be honoured leaves the buffer in UTF-8.
    assert encode("# coding: klingon\ns = 'é'\n") == "# coding: klingon\ns = 'é'\n".encode()
    assert encode("# coding: ascii\ns = 'é'\n") == "# coding: ascii\ns = 'é'\n".encode()


def _finding(line: int, code: str = "BN001") -> Finding:
    return Finding(code, "m", Span(line, 1, line, 2))


def test_ignore_adds_the_code_to_an_existing_ignore_comment() -> None:
    text = "x = f()  # migrate-bn: ignore[BN005]\n"
    edits = ignore_edits(text, split_lines(text), _finding(1), PositionCodec("utf-16"))
    assert apply(text, edits) == "x = f()  # migrate-bn: ignore[BN005,BN001]\n"


def test_ignore_goes_after_another_comment_and_outside_strings() -> None:
    text = "x = f()  # type: ignore\n"
    assert apply(text, ignore_edits(text, split_lines(text), _finding(1), PositionCodec("utf-16"))) == \
        "x = f()  # type: ignore  # migrate-bn: ignore[BN001]\n"
    # The finding's line ends inside a triple-quoted string: the comment goes where the
    # statement's line can take one.
    text = 'train_op = opt.minimize(loss, name="""a\nb""")\n'
    result = apply(text, ignore_edits(text, split_lines(text), _finding(1), PositionCodec("utf-16")))
    assert result == 'train_op = opt.minimize(loss, name="""a\nb""")  # migrate-bn: ignore[BN001]\n'
    text = "train_op = \\\n    opt.minimize(loss)\n"
    result = apply(text, ignore_edits(text, split_lines(text), _finding(1), PositionCodec("utf-16")))
    assert result == "train_op = \\\n    opt.minimize(loss)  # migrate-bn: ignore[BN001]\n"


def test_a_train_op_in_a_big_graph_lists_its_nearest_batch_norm_sites() -> None:
    from migrate_bn.findings import Related
    from migrate_bn.lsp import MAX_RELATED, Analysis, MigrateBnServer

    text = "x = 1\n" * 40
    related = tuple(Related(Span(line, 1, line, 2), f"site {line}") for line in range(1, 31))
    finding = Finding("BN001", "train op", Span(25, 1, 25, 2), related=related)
    analysis = Analysis(uri="file:///t.py", version=1, text=text, source=text.encode(), path="/t.py",
                        lines=split_lines(text))
    diagnostic = MigrateBnServer().diagnostic(analysis, finding)
    lines = [item.location.range.start.line + 1 for item in diagnostic.related_information]
    assert len(lines) == MAX_RELATED and lines == sorted(lines) and set(lines) == set(range(20, 30))
    assert diagnostic.message == f"train op ({30 - MAX_RELATED} more related locations not listed)"


# --- Python 2 buffers -----------------------------------------------------------------------

PYTHON2_BUGGY = BUGGY.replace("import tensorflow as tf\n", "import tensorflow as tf\nprint >>log, `1`, 0777\n")


@in_module_loop
async def test_python2_buffer_gets_diagnostics_and_a_fix_that_keeps_it_python2(vscode: LanguageClient,
                                                                              workspace: Path):
    uri = write(workspace, "python2/train.py", PYTHON2_BUGGY)
    open_document(vscode, uri, PYTHON2_BUGGY)
    (diagnostic,) = await published(vscode, uri, 1)
    assert diagnostic.code == "BN001"
    assert diagnostic.range.start == types.Position(line=7, character=11)
    fix = next(a for a in await actions(vscode, uri, diagnostic.range) if a.title.startswith("Fix BN001"))
    fix = await resolved(vscode, fix)
    (change,) = fix.edit.document_changes
    assert apply(PYTHON2_BUGGY, change.edits) == FIXED.replace(
        "import tensorflow as tf\n", "import tensorflow as tf\nprint >>log, `1`, 0777\n")
