"""`migrate-bn doctor PATH --source DIR`: the source lines behind the graph's findings.

Best effort, by names: each batch-norm site the static analysis finds in DIR (the sites
`migrate-bn check` reasons about) gives the variable scope it builds, as far as the
source says it: the literal `tf.variable_scope(...)` around it, its `name=` / `scope=`,
or the API's default (`batch_normalization`, `BatchNorm`); a scope only known at run
time matches any name. A graph layer (`generator/bn1`) maps to the sites whose pattern
matches its scope, the most specific first. Then each mapped layer is set against the
static findings on those sites: both report it (agree), or only the graph does; and a
static finding whose sites map only to layers the graph shows wired is reported too.
Nothing in DIR is imported or run.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from . import facts as facts_module
from .doctor import Diagnosis, InferenceOnly
from .graph_doctor import MissingUpdates, TrainingModeServed
from .project import Project
from .rules import Options, select_rules
from .runner import Job, discover, read_file, run, shown_path
from .source import SourceError, decode, parse

# Static rules whose findings concern a layer's updates or its training flag.
WIRING_CODES = ("BN001", "BN002", "BN008")
FLAG_CODES = ("BN003", "BN004")
ANY_NAME = "[^/]+"


@dataclass(frozen=True)
class SourceSite:
    path: str
    line: int
    api: str
    pattern: str  # a regular expression over the layer's variable scope
    literal: int  # how many characters of the pattern the source states: its specificity


@dataclass(frozen=True)
class StaticFinding:
    code: str
    path: str
    line: int
    # The batch-norm sites it relates to: (path, line) in its own file; (path, 0) for a
    # function of another module that builds batch norm (any site in that file).
    related: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class LayerSource:
    """One layer a graph finding names, and where the source builds it."""

    layer: str
    finding: str  # the graph finding's kind
    sites: tuple[SourceSite, ...]
    static: tuple[StaticFinding, ...]  # static findings on those sites, of the same concern

    @property
    def agreement(self) -> str:
        """"agree", "graph-only" (static analysis is silent), or "no-site" (no source
        line matched the layer's scope)."""
        if not self.sites:
            return "no-site"
        return "agree" if self.static else "graph-only"


@dataclass
class SourceMap:
    directory: str
    layers: list[LayerSource] = field(default_factory=list)
    # Static findings on sites of layers the graph shows wired: static analysis alone says so.
    static_only: list[tuple[StaticFinding, tuple[str, ...]]] = field(default_factory=list)


def locate(diagnosis: Diagnosis, directory: str) -> SourceMap:
    sites = batch_norm_sites(directory)
    static = static_findings(directory)
    source_map = SourceMap(directory)
    for finding in diagnosis.findings:
        if isinstance(finding, MissingUpdates):
            named, codes = finding.layers, WIRING_CODES
        elif isinstance(finding, (TrainingModeServed, InferenceOnly)):
            named, codes = (finding.layer,), FLAG_CODES
        else:
            continue
        for layer in named:
            matched = best_sites(layer, sites)
            on_sites = tuple(item for item in static if item.code in codes and any(
                _concerns(item, site) for site in matched))
            entry = LayerSource(layer, finding.kind, matched, on_sites)
            if entry not in source_map.layers:
                source_map.layers.append(entry)
    wired = [layer.layer for layer in diagnosis.layers if layer.graph == "wired"]
    unwired = {layer.layer for layer in diagnosis.layers if layer.graph == "unwired"}
    for item in static:
        if item.code not in WIRING_CODES:
            continue
        layers = tuple(layer for layer in wired
                       if any(_concerns(item, site) for site in best_sites(layer, sites)))
        if layers and not any(_concerns(item, site) for layer in unwired for site in best_sites(layer, sites)):
            source_map.static_only.append((item, layers))
    return source_map


def _concerns(item: StaticFinding, site: SourceSite) -> bool:
    """A static finding is about a site when it is reported on, or relates to, its line."""
    here = os.path.abspath(site.path)
    if os.path.abspath(item.path) == here and site.line == item.line:
        return True
    return any(path == here and line in (0, site.line) for path, line in item.related)


def static_findings(directory: str) -> list[StaticFinding]:
    """What `migrate-bn check DIR` finds; each finding also stands on the lines of the
    batch-norm sites it relates to (BN001 is reported at the train op)."""
    found = []
    job = Job(select_rules(), Options(), project=Project())
    for result, _ in run([directory], job):
        for finding in result.findings:
            found.append(StaticFinding(finding.code, result.path, finding.span.line, tuple(
                (os.path.abspath(result.path), related.span.line) if related.path is None
                else (os.path.abspath(related.path), 0) for related in finding.related)))
    return found


def best_sites(layer: str, sites: list[SourceSite]) -> tuple[SourceSite, ...]:
    matching = [site for site in sites if re.fullmatch(site.pattern, layer)]
    if not matching:
        return ()
    best = max(site.literal for site in matching)
    return tuple(site for site in matching if site.literal == best)


def batch_norm_sites(directory: str) -> list[SourceSite]:
    project = Project()
    sites = []
    for path in discover([directory]):
        source, _ = read_file(path)
        if source is None:
            continue
        try:
            text = decode(source)
            module = facts_module.build(parse(text), text, project.resolver(path))
        except (SourceError, SyntaxError, ValueError, RecursionError):
            continue  # unreadable files are `check`'s to report
        for site in module.batch_norm_sites:
            parts = _scope_parts(module, site)
            if parts is None:
                continue
            pattern = "(?:.*/)?" + "/".join(part for part, _ in parts)
            sites.append(SourceSite(shown_path(path), site.node.lineno, site.api, pattern,
                                    sum(literal for _, literal in parts)))
    return sites


def _scope_parts(module: facts_module.ModuleFacts, site: facts_module.BatchNormSite) -> Optional[list[tuple[str, int]]]:
    """The variable scope a site builds, as (regex, literal length) per name component."""
    if site.how in ("call", "apply", "class"):
        call = site.constructor or site.node
        leaf = _name_pattern(_keyword(call, "name") or _keyword(call, "scope"))
        if leaf is None:
            leaf = (("BatchNorm", 9) if _is_slim(site.api)
                    else (r"batch_normalization(?:_\d+)?", len("batch_normalization")))
        leaves = [leaf]
    elif site.how == "normalizer_fn":
        layer = _name_pattern(_keyword(site.node, "scope")) or (ANY_NAME, 0)
        leaves = [layer, ("BatchNorm", 9)]
    else:
        return None  # slim nets, calls into other modules, hand-written updates: their own sites
    enclosing = []
    for statement in module.enclosing_statements.get(id(site.node), ()):
        if isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                scope = _variable_scope(item.context_expr)
                if scope is not None:
                    enclosing.append(scope)
    return enclosing + leaves


def _is_slim(api: str) -> bool:
    return "slim" in api or "contrib" in api or api.endswith("batch_norm")


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _variable_scope(expression: ast.expr) -> Optional[tuple[str, int]]:
    if not isinstance(expression, ast.Call):
        return None
    function = expression.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    if name != "variable_scope":
        return None
    argument = expression.args[0] if expression.args else _keyword(expression, "name_or_scope")
    return _name_pattern(argument) or (ANY_NAME, 0)


def _name_pattern(node: Optional[ast.expr]) -> Optional[tuple[str, int]]:
    """A name as the source states it: a literal, a `%` or f-string template, or unknown."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value), len(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
            and isinstance(node.left.value, str):
        pieces = re.split(r"%[-+ #0-9.]*[sdif]", node.left.value)
        return ANY_NAME.join(map(re.escape, pieces)), sum(map(len, pieces))
    if isinstance(node, ast.JoinedStr):
        pieces = [value.value if isinstance(value, ast.Constant) else None for value in node.values]
        pattern = "".join(re.escape(piece) if piece is not None else ANY_NAME for piece in pieces)
        return pattern, sum(len(piece) for piece in pieces if piece is not None)
    return ANY_NAME, 0


# ---------------------------------------------------------------------------------------
# Rendering


def render_text(source_map: SourceMap) -> list[str]:
    lines = [f"source ({source_map.directory}):"]
    for entry in source_map.layers:
        where = ", ".join(f"{site.path}:{site.line}" for site in entry.sites) or "no batch-norm site matches"
        if entry.agreement == "agree":
            verdict = "static analysis agrees: " + ", ".join(
                f"{item.code} at {item.path}:{item.line}" for item in entry.static)
        elif entry.agreement == "graph-only":
            verdict = "static analysis is silent here: the graph and `check` disagree"
        else:
            verdict = "its scope matches no batch-norm call in the source"
        lines.append(f"  {entry.layer} ({entry.finding}): built at {where}; {verdict}")
    for item, layers in source_map.static_only:
        lines.append(f"  {item.code} at {item.path}:{item.line}: static analysis reports it, but the graph "
                     f"shows batch norm {', '.join(f'`{layer}`' for layer in layers)} wired: they disagree")
    if len(lines) == 1:
        lines.append("  nothing to map: the graph has no finding and static analysis none on its layers")
    return lines


def to_json(source_map: SourceMap) -> dict:
    return {
        "directory": source_map.directory,
        "layers": [{"layer": entry.layer, "finding": entry.finding, "agreement": entry.agreement,
                    "sites": [{"path": site.path, "line": site.line, "api": site.api} for site in entry.sites],
                    "static": [{"code": item.code, "path": item.path, "line": item.line} for item in entry.static]}
                   for entry in source_map.layers],
        "static_only": [{"code": item.code, "path": item.path, "line": item.line, "layers": list(layers)}
                        for item, layers in source_map.static_only],
    }
