"""migrate_bn.visiting.NodeVisitor calls what ast.NodeVisitor calls, in the same order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import migrate_bn
from migrate_bn.visiting import NodeVisitor


def _recorder(base):
    class Recorder(base):
        def __init__(self) -> None:
            self.seen: list[tuple[str, int]] = []

        def visit_Name(self, node: ast.Name) -> None:
            self.seen.append(("Name", node.col_offset))

        def visit_Call(self, node: ast.Call) -> None:
            self.seen.append(("Call", node.col_offset))
            self.generic_visit(node)

        def visit_Constant(self, node: ast.Constant) -> None:
            self.seen.append(("Constant", node.col_offset))

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            self.seen.append(("FunctionDef", node.lineno))
            self.generic_visit(node)

    return Recorder


def test_the_same_methods_in_the_same_order_as_ast_node_visitor() -> None:
    for path in sorted(Path(migrate_bn.__file__).parent.glob("*.py"))[:12]:
        tree = ast.parse(path.read_text())
        slow, fast = _recorder(ast.NodeVisitor)(), _recorder(NodeVisitor)()
        slow.visit(tree)
        fast.visit(tree)
        assert fast.seen == slow.seen and fast.seen


def test_a_visitor_without_visit_constant_skips_constants_and_keeps_old_style_methods() -> None:
    class Old(NodeVisitor):
        def __init__(self) -> None:
            self.numbers: list[object] = []

        def visit_Num(self, node) -> None:  # the deprecated spelling ast.NodeVisitor still honours
            self.numbers.append(node.value)

    old = Old()
    with pytest.warns(DeprecationWarning):  # as ast.NodeVisitor warns
        old.visit(ast.parse("x = 1 + 2"))
    assert old.numbers == [1, 2]
