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


def _package_trees():
    for path in sorted(Path(migrate_bn.__file__).parent.glob("*.py"))[:12]:
        yield ast.parse(path.read_text())


def test_a_wrapper_from_method_for_runs_around_nodes_generic_visit_reaches() -> None:
    class Statements(NodeVisitor):
        def __init__(self) -> None:
            self.depth = 0
            self.deepest = 0

        @classmethod
        def _method_for(cls, kind):
            method = super()._method_for(kind)
            if method is None or not issubclass(kind, ast.stmt):
                return method

            def around(self, node):
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
                method(self, node)
                self.depth -= 1

            return around

    visitor = Statements()
    visitor.visit(ast.parse("if a:\n    while b:\n        try:\n            c()\n        except E:\n            pass\n"))
    assert visitor.deepest == 4 and visitor.depth == 0


def test_name_ids_finds_the_names_ast_walk_finds() -> None:
    from migrate_bn.names import name_ids

    for tree in _package_trees():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.Return)) and node.value is not None:
                assert name_ids(node.value) == {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}


def test_walk_statements_meets_statements_in_ast_walk_order() -> None:
    from migrate_bn.facts import walk_statements

    holders = (ast.stmt, ast.excepthandler, ast.match_case)
    source = "match x:\n    case 1:\n        try:\n            y = 1\n        finally:\n            z = 2\n"
    for tree in [*_package_trees(), ast.parse(source)]:
        expected = [tree, *(node for node in ast.walk(tree) if isinstance(node, holders))]
        assert list(walk_statements(tree)) == expected
