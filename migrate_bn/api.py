"""The one pure entry point: source in, findings and fixed source out.

The CLI, the language server and the bulk runner are thin shells over `analyze`; it
reads no file, writes no file, and never imports or runs the code it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence


from . import documents, facts as facts_module, graphs
from .findings import Edit, Finding, Fix
from .prefilter import may_matter
from .problems import Kind, Problem
from .source import SourceError, decode, encoding_of, parse
from . import suppressions
from .project import Resolver
from .rules import Options, Rule, select_rules

# Fixes that enable further fixes converge in a few rounds; more means a bug.
MAX_FIX_ROUNDS = 5


@dataclass
class Result:
    path: str
    findings: list[Finding] = field(default_factory=list)
    # After fixing: the new source (None when nothing changed) and what is left.
    fixed_source: Optional[bytes] = None
    remaining: list[Finding] = field(default_factory=list)
    fixed_count: int = 0
    # The file could not be read as Python, or its fixes not written: what and why.
    error: Optional[Problem] = None
    # migrate-bn itself failed on this file (a bug to report); nothing was written.
    internal_error: Optional[str] = None

    @property
    def problem(self) -> Optional[Problem]:
        """What kept this file from being processed, typed (a failure of migrate-bn too)."""
        if self.internal_error is not None:
            return Problem(Kind.INTERNAL_ERROR, self.internal_error)
        return self.error

    @property
    def changed(self) -> bool:
        return self.fixed_source is not None


def check_source(text: str, rules: Sequence[Rule], options: Options, resolver: Optional[Resolver] = None,
                 module_facts: Optional[facts_module.ModuleFacts] = None) -> list[Finding]:
    """The findings of `rules` in `text`; `module_facts`, when the caller built them already."""
    if module_facts is None:
        module_facts = facts_module.build(parse(text), text, resolver)
    tree = module_facts.tree
    graphs_of_program = graphs.parts(tree, text)
    if graphs_of_program is None:
        findings = [finding for rule in rules for finding in rule.check(module_facts, options)]
    else:  # one graph after another: each on its own, each finding from the graph it is in
        findings = []
        seen = set()
        shared = graphs.shared_lines(graphs_of_program)
        for graph in graphs_of_program:
            part = facts_module.build(graph.module, text, resolver)
            part.line_name = module_facts.line_name
            for finding in (finding for rule in rules for finding in rule.check(part, options)):
                # A definition used by several graphs is reported once, from the first.
                key = (finding.code, finding.span.line, finding.span.column)
                if graph.holds(finding.span.line) and key not in seen:
                    seen.add(key)
                    if finding.fix is not None and any(a <= finding.span.line <= b for a, b in shared):
                        finding = replace(finding, fix=None, alternatives=(), message=finding.message +
                                          "; no automatic fix: several graphs (after resets) use this definition")
                    findings.append(finding)
    comments = suppressions.find(text)
    if comments:
        findings = suppressions.apply(findings, comments, suppressions.statement_lines(tree))
        unused = suppressions.unused(comments)
        for rule in rules:
            findings.extend(rule.check_suppressions(unused))
    return sorted(findings, key=Finding.sort_key)


def check_view(view: documents.View, rules: Sequence[Rule], options: Options,
               resolver: Optional[Resolver] = None) -> list[Finding]:
    """The findings in a file's view, at the view's positions; messages name other lines
    as the file shows them (a notebook's cell and line)."""
    module_facts = resolver.analysis_facts(view) if resolver is not None else \
        facts_module.build(view.tree, view.text, resolver)
    module_facts.line_name = view.line_name
    return check_source(view.text, rules, options, resolver, module_facts=module_facts)


def fixable(findings: Sequence[Finding], options: Options) -> list[Finding]:
    """The findings whose fix this run may apply."""
    return [f for f in findings if f.fix_applicability == "safe" or (f.fix is not None and options.unsafe_fixes)]


def fix_edits(findings: Sequence[Finding], options: Options) -> list[Edit]:
    return [edit for finding in fixable(findings, options) for edit in finding.fix.edits]  # type: ignore[union-attr]


def analyze(
    source: bytes,
    path: str = "<stdin>",
    *,
    rules: Optional[Sequence[Rule]] = None,
    options: Options = Options(),
    fix: bool = False,
    resolver: Optional[Resolver] = None,
    view: Optional[documents.View] = None,
) -> Result:
    """Find the batch-norm bugs in one module and, with `fix`, fix what can be fixed.

    `resolver` (from `project.Project`) lets the analysis see which of the project's own
    imported functions build batch norm; without it each module stands alone. `view`:
    `documents.read(source, path)`, when the caller made it (the language server)."""
    result = Result(path=path)
    if not may_matter(source):
        return result
    rules = select_rules() if rules is None else rules
    try:
        if view is None:
            view = resolver.read(source) if resolver is not None else documents.read(source, path)
        found = check_view(view, rules, options, resolver)
    except SourceError as error:
        result.error = error.problem
        return result
    result.findings = result.remaining = view.place(found)
    if fix:
        _fix(result, view, found, rules, options, resolver)
    return result


def apply_edits(source: bytes, edits: Sequence[Edit]):
    """LibCST's rewrite. Imported here, on the first fix, because importing LibCST costs
    about a third of the start-up that a `check` would otherwise pay for nothing."""
    from .edits import apply_edits as rewrite

    return rewrite(source, edits)


def apply_fix(source: bytes, fix: Fix, path: str = "<stdin>") -> Optional[str]:
    """The text of `source` with this one fix applied, or None when it cannot be applied
    on its own, changes nothing, or would not parse (an editor's quick fix, a SARIF fix).
    The fix's edits are stated in the file's view (`documents`)."""
    try:
        view = documents.read(source, path)
        outcome = apply_edits(view.code, fix.edits)
        if not outcome.applied or outcome.code == view.code:
            return None
        parse(decode(outcome.code))
        new_source = view.write_back(outcome.code)
        return decode(new_source)
    except Exception:  # LibCST cannot rewrite this source, the result does not parse or cannot be written back
        return None


def _fix(result: Result, view: documents.View, found: list[Finding], rules: Sequence[Rule], options: Options,
         resolver: Optional[Resolver]) -> None:
    """Fix the view until nothing fixable is left, then carry the fixes back into the
    file; `found` are the view's findings (positions in the view, as fixes state them)."""
    import libcst as cst

    from .edits import RoundTripError

    source = view.code
    current, findings = source, found
    for _ in range(MAX_FIX_ROUNDS):
        edits = fix_edits(findings, options)
        if not edits:
            break
        if _LONE_CR.search(current) and _BARE_LF.search(current):
            # A line ending in CR alone that comes to stand before a blank line ending in
            # LF alone (a moved statement, a new line) would make one CRLF of the two.
            result.error = Problem(Kind.NOT_WRITTEN,
                                   "it mixes lines ending in CR alone with lines ending in LF alone: a fix could "
                                   "merge two line breaks; not rewritten (make the line endings consistent to fix it)")
            return
        try:
            outcome = apply_edits(current, edits)
        except cst.ParserSyntaxError as error:
            result.internal_error = (f"LibCST cannot parse this file for rewriting: {error.message} "
                                     f"(line {error.raw_line}); {_attempted(findings, options)}; nothing was written")
            return
        except RoundTripError as error:
            result.internal_error = f"{error}; {_attempted(findings, options)}; nothing was written"
            return
        if not outcome.applied or outcome.code == current:
            break
        try:
            if encoding_of(outcome.code) != encoding_of(current):
                raise SourceError(f"its encoding changed from {encoding_of(current)} to {encoding_of(outcome.code)}")
            after = check_source(decode(outcome.code), rules, options, resolver)
        except SourceError as error:
            # Never hand back code that does not parse; the file is left as it was.
            result.internal_error = (f"a fix produced code that does not parse ({error}); "
                                     f"{_attempted(findings, options)}; nothing was written")
            return
        current, findings = outcome.code, after
    else:
        if fix_edits(findings, options):
            result.internal_error = (f"fixes did not converge after {MAX_FIX_ROUNDS} rounds; "
                                     f"{_attempted(findings, options)}; nothing was written")
            return
    if current != source:
        try:
            fixed_source = view.write_back(current)
            if view.kind == documents.PYTHON3:
                placed = findings
            else:
                fixed_view = documents.read(fixed_source, result.path)
                # `findings` are those of the fixed view already; only a notebook's
                # messages must be made again, since they name lines by cell and the
                # fixes may have moved lines between cells.
                left = check_view(fixed_view, rules, options, resolver) if view.kind == documents.NOTEBOOK \
                    else findings
                placed = fixed_view.place(left)
        except (documents.WriteBackRefused, SourceError) as error:
            result.error = Problem(Kind.NOT_WRITTEN, f"fixes not written: {error}")
            return
        result.fixed_source = fixed_source
        result.remaining = placed
        # Fixable findings that are gone (a fix may uncover new findings with no fix of
        # their own, which must not hide the ones it fixed).
        fixable_before = len(fixable(found, options))
        fixable_after = len(fixable(findings, options))
        result.fixed_count = max(0, fixable_before - fixable_after)


_LONE_CR = re.compile(rb"\r(?!\n)")
_BARE_LF = re.compile(rb"(?<!\r)\n")


def _attempted(findings: Sequence[Finding], options: Options) -> str:
    """Which fixes were being applied, for the bug report."""
    fixes = [f"{finding.code} at line {finding.span.line}" for finding in fixable(findings, options)]
    return "fixing " + ", ".join(fixes) if fixes else "no fix pending"
