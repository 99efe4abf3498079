"""BN005's innermost scope by position, from its index, is what a scan of every scope gives."""

from __future__ import annotations

import ast
from pathlib import Path

import migrate_bn
from migrate_bn import facts as facts_module
from migrate_bn.transforms.bn005_slow_moving_average import _scope_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _scan(facts, node):
    """The definition: of the scopes whose lines hold the node, the last to start (the
    last listed on a tie)."""
    best = facts.module
    line = getattr(node, "lineno", 0)
    for scope in facts.scopes:
        if scope.kind == "module":
            continue
        start, end = scope.node.lineno, getattr(scope.node, "end_lineno", None) or scope.node.lineno
        if start <= line <= end and (best is facts.module or start >= best.node.lineno):
            best = scope
    return best


def test_the_index_answers_as_the_scan() -> None:
    paths = sorted(Path(migrate_bn.__file__).parent.glob("*.py"))[:10] + sorted(FIXTURES.rglob("before.py"))[:40]
    for path in paths:
        text = path.read_text()
        facts = facts_module.build(ast.parse(text), text)
        for node in ast.walk(facts.tree):
            if hasattr(node, "lineno"):
                assert _scope_of(facts, node) is _scan(facts, node), (path, node.lineno)
