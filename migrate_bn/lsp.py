"""`migrate-bn lsp`: a language server over stdio, a thin shell over `api.analyze`.

It publishes each open document's findings as diagnostics (on open, change and save;
changes made while an analysis runs are folded into one) and offers code actions: the finding's fix (and its
alternatives), "apply all safe fixes" for the document, and "ignore on this line". It
analyses the editor's buffer, reads the project's configuration the way the command
line does (from the file's directory upwards), and never writes a file: every edit goes
back to the editor as a `WorkspaceEdit` for it to apply.

Positions go out in the encoding the client and server agreed on (UTF-16 code units
unless the client offers another); migrate-bn itself counts characters.

Needs pygls: `pip install 'migrate-bn[lsp]'`.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import logging
import os
import re
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import PositionCodec

from . import __version__, config, documents
from .api import Result, analyze, apply_fix
from .config import ConfigError, Settings
from .findings import Finding, Fix, Span
from .output import rule_docs_url
from .project import Project
from .rules import Options, Rule, rule_by_code, select_rules
from .documents import NOTEBOOK_SUFFIX
from .prefilter import may_matter
from .reparse import Reparser
from .source import SourceError, decode, encoding_of, parse, split_lines
from .suppressions import innermost_statement, statement_lines

logger = logging.getLogger(__name__)

SOURCE = "migrate-bn"
# Debouncing: a change to an idle document is analysed at once (after this delay); the
# changes that arrive while an analysis runs are not queued one by one: they mark the
# document stale, and one analysis of its newest text follows. However fast the typing,
# at most one analysis per document waits. Editors send one didChange per edit (a paste,
# multi-cursor typing), so a delay would only add to the latency (docs/editors.md).
DEBOUNCE_SECONDS = 0.0
# A train op in a big graph depends on every batch-norm layer in it; an editor lists the
# nearest few under the diagnostic, and says how many more there are.
MAX_RELATED = 10
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.migrate-bn"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "advice": types.DiagnosticSeverity.Information,
}
_IGNORE_CODES = re.compile(r"(#\s*migrate-bn:\s*ignore\[)([^\]]*)(\])", re.IGNORECASE)


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def _position(codec: PositionCodec, lines: Sequence[str], line: int, character: int) -> types.Position:
    """0-based line and character index -> an LSP position in the agreed encoding."""
    return codec.position_to_client_units(lines, types.Position(line=max(line, 0), character=max(character, 0)))


def span_range(codec: PositionCodec, lines: Sequence[str], span: Span) -> types.Range:
    """A finding's span (1-based lines, character columns) as an LSP range."""
    return types.Range(start=_position(codec, lines, span.line - 1, span.column - 1),
                       end=_position(codec, lines, span.end_line - 1, span.end_column - 1))


def _end_of_document(lines: Sequence[str], codec: PositionCodec) -> types.Position:
    if not lines:
        return types.Position(line=0, character=0)
    last = lines[-1]
    if last != _strip_eol(last):
        return types.Position(line=len(lines), character=0)
    return types.Position(line=len(lines) - 1, character=codec.client_num_units(last))


def _line_start(lines: Sequence[str], line: int, codec: PositionCodec) -> types.Position:
    return types.Position(line=line, character=0) if line < len(lines) else _end_of_document(lines, codec)


def text_edits(before: str, after: str, codec: PositionCodec) -> list[types.TextEdit]:
    """The smallest set of whole-line edits that turns `before` into `after`."""
    old, new = split_lines(before), split_lines(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [
        types.TextEdit(range=types.Range(start=_line_start(old, i1, codec), end=_line_start(old, i2, codec)),
                       new_text="".join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def encode(text: str) -> bytes:
    """The buffer as the bytes its file would hold: in its PEP 263 encoding, if any."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        encoding = encoding_of(data)
        if encoding not in ("utf-8", "utf-8-sig"):
            return text.encode(encoding)
    except (SourceError, LookupError, UnicodeEncodeError):
        pass
    return data


# --- analysis ---------------------------------------------------------------------------


@dataclass
class Analysis:
    """One analysis of one version of a document."""

    uri: str
    version: Optional[int]
    text: str
    source: bytes
    path: Optional[str]
    rules: Sequence[Rule] = ()
    result: Optional[Result] = None
    lines: list[str] = field(default_factory=list)
    # For the client, sent from the event loop (analyses run on a worker thread).
    messages: list[types.ShowMessageParams] = field(default_factory=list)
    # The project files its findings rest on: a save that changes one analyses it again.
    dependencies: frozenset[str] = frozenset()

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings if self.result is not None else []

    @property
    def parsed(self) -> bool:
        return self.result is not None and self.result.error is None and self.result.internal_error is None


@dataclass
class _DocumentState:
    task: Optional[asyncio.Task] = None
    dirty: bool = False


class MigrateBnServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("migrate-bn", __version__)
        self.debounce = DEBOUNCE_SECONDS
        # Kept across edits and saves: a save drops only what the files changed on disk
        # touch (Project.refresh); a configuration change starts it afresh.
        self.project = Project(watch=True)
        self.analyses: dict[str, Analysis] = {}
        self.states: dict[str, _DocumentState] = {}
        self.reported_config_errors: set[str] = set()
        # Per open document, its last parse: an edit re-parses only the statements it touched.
        self.reparsers: dict[str, Reparser] = {}
        # One worker: analyses run one at a time, off the thread that reads messages.
        self.analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrate-bn-analysis")

    # --- what the client agreed to -------------------------------------------------------

    @property
    def codec(self) -> PositionCodec:
        try:
            return self.workspace.position_codec
        except RuntimeError:  # before `initialize`
            return PositionCodec()

    def _client_supports(self, *path: str) -> bool:
        node: Any = self.client_capabilities
        for name in path:
            node = getattr(node, name, None)
            if node is None:
                return False
        return bool(node)

    # --- configuration -----------------------------------------------------------------

    def settings_for(self, path: Optional[str], messages: list) -> Settings:
        """The configuration that applies to `path`, found as the command line finds it
        but from the file's directory (the editor's working directory is anywhere)."""
        start = os.path.dirname(path) if path else os.getcwd()
        try:
            return config.discover(start)
        except ConfigError as error:
            message = str(error)
            if message not in self.reported_config_errors:
                self.reported_config_errors.add(message)
                messages.append(types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"migrate-bn: {message}; using the default settings"))
            return Settings(root=start)

    def rules_for(self, path: Optional[str], settings: Settings) -> list[Rule]:
        try:
            rules = select_rules(settings.select, settings.ignore)
        except Exception:  # unknown codes are reported by the command line; here, run all
            rules = select_rules()
        return settings.rules_for(path, rules) if path else rules

    # --- analysis ----------------------------------------------------------------------

    def analyze_text(self, uri: str, text: str, version: Optional[int], fix: bool = False) -> Analysis:
        """Analyse a buffer (any thread). Never raises: a failure is logged."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        source = encode(text)
        analysis = Analysis(uri=uri, version=version, text=text, source=source, path=path,
                            lines=split_lines(text))
        settings = self.settings_for(path, analysis.messages)
        if path and settings.exclude and settings.excluded(path) or uri.lower().endswith(NOTEBOOK_SUFFIX):
            # A notebook opened as text is its JSON, whose lines are not the cells' lines
            # that findings name: not served (notebook documents are not supported yet).
            analysis.result = Result(path=path or uri)
            return analysis
        analysis.rules = self.rules_for(path, settings)
        resolver = self.project.resolver(path) if path else None
        try:
            view = self.read(uri, source, path or uri) if may_matter(source) else None
            analysis.result = analyze(source, path or uri, rules=analysis.rules, options=Options(), fix=fix,
                                      resolver=resolver, view=view)
            if resolver is not None:
                analysis.dependencies = frozenset(resolver.all_dependencies())
        except Exception as error:  # a bug in migrate-bn: say so, keep serving
            logger.exception("analysis failed for %s", uri)
            analysis.result = Result(path=path or uri, internal_error=f"{type(error).__name__}: {error}")
        if analysis.result.internal_error:
            analysis.messages.append(types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"migrate-bn: internal error on {uri}: {analysis.result.internal_error}"))
        return analysis

    def read(self, uri: str, source: bytes, path: str) -> Optional[documents.View]:
        """The buffer's view (documents.read), its Python 3 text parsed incrementally:
        the other top-level statements are the previous version's (reparse.py). None
        when it cannot be read: `analyze` reads it again and says why."""
        reparser = self.reparsers.get(uri)
        if reparser is None:
            reparser = self.reparsers[uri] = Reparser(parse)
        try:
            return documents.read(source, path, parse_python3=reparser.parse)
        except SourceError:
            return None

    def tell(self, analysis: Analysis) -> None:
        """Send what an analysis had to say to the user (event-loop thread only)."""
        for message in analysis.messages:
            if message.type == types.MessageType.Error and "internal error" in message.message:
                self.window_log_message(types.LogMessageParams(type=message.type, message=message.message))
            else:
                self.window_show_message(message)
        analysis.messages.clear()

    async def analysis(self, uri: str) -> Optional[Analysis]:
        """The analysis of the document's current text (analysed now if it is not yet)."""
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return None
        cached = self.analyses.get(uri)
        if cached is not None and cached.version == document.version and cached.text == document.source:
            return cached
        loop = asyncio.get_running_loop()
        fresh = await loop.run_in_executor(self.analysis_pool, self.analyze_text, uri, document.source,
                                           document.version)
        self.tell(fresh)
        if fresh.parsed:
            self.analyses[uri] = fresh
            self.publish(fresh)
        return fresh

    def schedule(self, uri: str, delay: float) -> None:
        state = self.states.setdefault(uri, _DocumentState())
        state.dirty = True
        if state.task is None or state.task.done():
            state.task = asyncio.ensure_future(self._analyse_until_clean(uri, state, delay))

    async def _analyse_until_clean(self, uri: str, state: _DocumentState, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        while state.dirty:
            state.dirty = False
            document = self.workspace.text_documents.get(uri)
            if document is None:
                return
            analysis = await loop.run_in_executor(self.analysis_pool, self.analyze_text, uri, document.source,
                                                  document.version)
            if uri not in self.workspace.text_documents:
                return  # closed meanwhile
            self.tell(analysis)
            # Code that does not parse (half typed) keeps the last diagnostics in place.
            if analysis.parsed or analysis.result is None or analysis.result.internal_error:
                self.analyses[uri] = analysis
                self.publish(analysis)

    async def saved(self, uri: str) -> None:
        """A document was saved: drop what the files changed on disk since they were
        read make stale (in turn with the analyses, on their worker, so that none sees
        the project half refreshed), then analyse the saved document again and every
        open one whose findings rest on a file that changed."""
        loop = asyncio.get_running_loop()
        changes = await loop.run_in_executor(self.analysis_pool, self.project.refresh)
        self.schedule(uri, 0)
        for other, analysis in list(self.analyses.items()):
            if other != uri and (changes.added or changes.removed or not changes.stale.isdisjoint(analysis.dependencies)):
                self.schedule(other, 0)

    def forget(self, uri: str) -> None:
        state = self.states.pop(uri, None)
        if state is not None and state.task is not None:
            state.task.cancel()
        self.analyses.pop(uri, None)
        self.reparsers.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # --- diagnostics ---------------------------------------------------------------------

    def publish(self, analysis: Analysis) -> None:
        diagnostics = [self.diagnostic(analysis, finding) for finding in analysis.findings]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=analysis.uri, diagnostics=diagnostics, version=analysis.version))

    def diagnostic(self, analysis: Analysis, finding: Finding) -> types.Diagnostic:
        codec = self.codec
        url = rule_docs_url(finding.code)
        related = []
        message = finding.message
        shown = finding.related
        if len(shown) > MAX_RELATED:
            nearest = sorted(shown, key=lambda r: (r.path is not None, abs(r.span.line - finding.span.line)))
            keep = set(nearest[:MAX_RELATED])
            shown = tuple(r for r in shown if r in keep)
            message += f" ({len(finding.related) - len(shown)} more related locations not listed)"
        for item in shown:
            if item.path is None or (analysis.path and os.path.abspath(item.path) == os.path.abspath(analysis.path)):
                uri, lines = analysis.uri, analysis.lines
            else:
                uri, lines = from_fs_path(os.path.abspath(item.path)), self._lines_of_file(item.path)
            related.append(types.DiagnosticRelatedInformation(
                location=types.Location(uri=uri, range=span_range(codec, lines, item.span)), message=item.message))
        return types.Diagnostic(
            range=span_range(codec, analysis.lines, finding.span),
            message=message,
            severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
            code=finding.code,
            code_description=types.CodeDescription(href=url) if url else None,
            source=SOURCE,
            related_information=related or None,
            data={"fix": finding.fix_applicability},
        )

    def _lines_of_file(self, path: str) -> list[str]:
        uri = from_fs_path(os.path.abspath(path))
        document = self.workspace.text_documents.get(uri)
        if document is not None:
            return split_lines(document.source)
        try:
            with open(path, "rb") as handle:
                return split_lines(decode(handle.read()))
        except (OSError, SourceError):
            return []

    # --- code actions ----------------------------------------------------------------------

    def code_actions(self, analysis: Analysis, params: types.CodeActionParams) -> list[types.CodeAction]:
        only = params.context.only
        codec = self.codec
        lazy = self._client_supports("text_document", "code_action", "resolve_support") and \
            "edit" in (self.client_capabilities.text_document.code_action.resolve_support.properties or [])
        wanted_range = params.range
        actions: list[types.CodeAction] = []
        if _wanted(types.CodeActionKind.QuickFix.value, only):
            for index, finding in enumerate(analysis.findings):
                diagnostic_range = span_range(codec, analysis.lines, finding.span)
                if not _overlaps(diagnostic_range, wanted_range):
                    continue
                diagnostic = self.diagnostic(analysis, finding)
                fixes = ([("fix", finding.fix)] if finding.fix is not None else []) + \
                    [(f"alternative:{n}", alt) for n, alt in enumerate(finding.alternatives)]
                for key, fix in fixes:
                    actions.append(self._action(analysis, _fix_title(finding, fix, key != "fix"),
                                                types.CodeActionKind.QuickFix, [diagnostic],
                                                {"do": key, "index": index}, lazy,
                                                preferred=key == "fix" and fix.applicability == "safe"))
                actions.append(self._action(analysis, f"Ignore {finding.code} on this line (# migrate-bn: ignore)",
                                            types.CodeActionKind.QuickFix, [diagnostic],
                                            {"do": "ignore", "index": index}, lazy))
        safe = [f for f in analysis.findings if f.fix_applicability == "safe"]
        if safe:
            title = "migrate-bn: apply all safe fixes"
            if _wanted(FIX_ALL_KIND, only):
                actions.append(self._action(analysis, title, FIX_ALL_KIND, None, {"do": "fix-all"}, lazy))
            elif only is None and any(_overlaps(span_range(codec, analysis.lines, f.span), wanted_range)
                                      for f in analysis.findings):
                # In the quick-fix menu too, next to the single fixes (as ruff does).
                actions.append(self._action(analysis, title, types.CodeActionKind.QuickFix, None,
                                            {"do": "fix-all"}, lazy))
        return [action for action in actions if action is not None]

    def _action(self, analysis: Analysis, title: str, kind: str, diagnostics, data: dict, lazy: bool,
                preferred: bool = False) -> Optional[types.CodeAction]:
        data = {"uri": analysis.uri, "version": analysis.version, **data}
        action = types.CodeAction(title=title, kind=kind, diagnostics=diagnostics, data=data,
                                  is_preferred=preferred or None)
        if lazy:
            return action
        action.edit = self.edit_for(analysis, data)
        return action if action.edit is not None else None

    def edit_for(self, analysis: Analysis, data: dict) -> Optional[types.WorkspaceEdit]:
        """The workspace edit an action stands for, or None when it cannot be made."""
        what = data.get("do")
        new_text: Optional[str] = None
        edits: Optional[list[types.TextEdit]] = None
        if what == "fix-all":
            fixed = self.analyze_text(analysis.uri, analysis.text, analysis.version, fix=True).result
            if fixed is None or fixed.internal_error or fixed.fixed_source is None:
                return None
            new_text = decode(fixed.fixed_source)
        else:
            index = data.get("index")
            if not isinstance(index, int) or not 0 <= index < len(analysis.findings):
                return None
            finding = analysis.findings[index]
            if what == "ignore":
                edits = ignore_edits(analysis.text, analysis.lines, finding, self.codec)
            else:
                fix = finding.fix if what == "fix" else _alternative(finding, what)
                if fix is None:
                    return None
                new_text = apply_fix(analysis.source, fix, analysis.path or analysis.uri)
        if new_text is not None:
            edits = text_edits(analysis.text, new_text, self.codec)
        if not edits:
            return None
        if self._client_supports("workspace", "workspace_edit", "document_changes"):
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=analysis.uri,
                                                                            version=analysis.version),
                edits=edits)])
        return types.WorkspaceEdit(changes={analysis.uri: edits})


def _wanted(kind: str, only: Optional[Sequence[str]]) -> bool:
    """Does the client's `only` filter (a list of kinds and their prefixes) admit `kind`?"""
    if not only:
        return True
    return any(kind == str(want) or kind.startswith(f"{want}.") for want in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(position: types.Position) -> tuple[int, int]:
        return position.line, position.character
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _fix_title(finding: Finding, fix: Fix, alternative: bool) -> str:
    marks = [word for word, on in (("another way", alternative), ("unsafe", fix.applicability != "safe")) if on]
    return f"Fix {finding.code}{' (' + ', '.join(marks) + ')' if marks else ''}: {fix.message}"


def _alternative(finding: Finding, key: Optional[str]) -> Optional[Fix]:
    if not key or not key.startswith("alternative:"):
        return None
    try:
        return finding.alternatives[int(key.split(":", 1)[1])]
    except (ValueError, IndexError):
        return None


def ignore_edits(text: str, lines: Sequence[str], finding: Finding, codec: PositionCodec) -> Optional[list[types.TextEdit]]:
    """Append `  # migrate-bn: ignore[CODE]` to a line of the finding's statement where a
    comment can go (its own line first), or add the code to the ignore comment there."""
    line = _commentable_line(text, finding.span)
    if line is None or not 0 < line <= len(lines):
        return None
    content = _strip_eol(lines[line - 1])
    existing = _IGNORE_CODES.search(content)
    if existing and "#" in content[:existing.start() + 1]:
        at = existing.end(2)
        codes = existing.group(2)
        insert = f",{finding.code}" if codes.strip() else finding.code
        position = _position(codec, lines, line - 1, at)
        return [types.TextEdit(range=types.Range(start=position, end=position), new_text=insert)]
    kept = content.rstrip()
    start, end = _position(codec, lines, line - 1, len(kept)), _position(codec, lines, line - 1, len(content))
    return [types.TextEdit(range=types.Range(start=start, end=end), new_text=f"  # migrate-bn: ignore[{finding.code}]")]


def _commentable_line(text: str, span: Span) -> Optional[int]:
    """A line of the statement around `span` whose end is outside strings and backslash
    continuations: the finding's own line when it can be, else the nearest one."""
    try:
        # A Python 2 buffer is read through its Python 3 view, which keeps its lines.
        view = documents.read(text.encode("utf-8"))
        tree, text = view.tree, view.text
        ends = {token.start[0] for token in tokenize.generate_tokens(io.StringIO(text).readline)
                if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT)}
    except (SourceError, tokenize.TokenError, SyntaxError):
        return None
    start, end = innermost_statement(span, statement_lines(tree)) or (span.line, span.end_line)
    order = [span.line, *range(span.line + 1, end + 1), *range(span.line - 1, start - 1, -1)]
    return next((line for line in order if line in ends), None)


# --- the server ---------------------------------------------------------------------------


def create_server() -> MigrateBnServer:
    server = MigrateBnServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MigrateBnServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MigrateBnServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(ls: MigrateBnServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MigrateBnServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: MigrateBnServer, params: types.DidChangeConfigurationParams) -> None:
        ls.project = Project(watch=True)  # a full reset: the settings may change what is read
        ls.reported_config_errors.clear()
        for uri in list(ls.workspace.text_documents):
            ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True))
    async def code_action(ls: MigrateBnServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        analysis = await ls.analysis(params.text_document.uri)
        if analysis is None or not analysis.parsed:
            return []
        # Without resolve support the edits are made here: LibCST work, off the loop.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(ls.analysis_pool, ls.code_actions, analysis, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve_code_action(ls: MigrateBnServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        analysis = await ls.analysis(uri) if isinstance(uri, str) else None
        if analysis is None or not analysis.parsed or analysis.version != data.get("version"):
            return action  # the document changed since: no edit rather than a wrong one
        loop = asyncio.get_running_loop()
        action.edit = await loop.run_in_executor(ls.analysis_pool, ls.edit_for, analysis, data)
        return action

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: MigrateBnServer, params: types.HoverParams) -> Optional[types.Hover]:
        analysis = ls.analyses.get(params.text_document.uri)
        if analysis is None:
            return None
        codec = ls.codec
        point = types.Range(start=params.position, end=params.position)
        codes = []
        for finding in analysis.findings:
            if finding.code not in codes and _overlaps(span_range(codec, analysis.lines, finding.span), point):
                codes.append(finding.code)
        docs = [rule.documentation() for rule in map(rule_by_code, codes) if rule is not None]
        if not docs:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n---\n".join(docs)))

    return server


def start() -> None:
    """Serve on stdin/stdout until the client says exit."""
    create_server().start_io()
