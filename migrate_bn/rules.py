"""The rule interface and registry.

A rule is a small query over a module's facts (facts.py) that yields findings, each
with an optional fix. Its class docstring is its documentation: `migrate-bn explain`
prints it and docs/rules/ is generated from it, so it says what the rule finds, why it
is wrong, an example, and the fix (ruff's rule docs are the model).
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import ClassVar, Iterable, Optional

from .facts import ModuleFacts
from .findings import AddImport, Edit, Span
from . import tfapi


@dataclass(frozen=True)
class Options:
    unsafe_fixes: bool = False
    # BN005's opt-in fix: the batch-norm momentum (decay) to write where it is too slow.
    bn_momentum: Optional[float] = None


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    default_enabled: ClassVar[bool] = True  # else it runs only when selected by its code

    def check(self, facts: ModuleFacts, options: Options) -> Iterable:  # pragma: no cover
        raise NotImplementedError

    def check_suppressions(self, unused: list) -> Iterable:
        """Findings about suppression comments nothing used (BN900 only)."""
        return ()

    @classmethod
    def documentation(cls) -> str:
        return f"# {cls.code} {cls.name}\n\n{inspect.cleandoc(cls.__doc__ or '')}\n"


def all_rules() -> list[Rule]:
    from .transforms import RULES

    return [rule() for rule in RULES]


def rule_by_code(code: str) -> Optional[Rule]:
    for rule in all_rules():
        if rule.code == code.upper() or rule.name == code.lower():
            return rule
    return None


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules whose code starts with a selected prefix and with no ignored one."""
    chosen = [p.upper() for p in select] or ["BN"]
    dropped = [p.upper() for p in ignore]

    def selected(rule: Rule) -> bool:
        # A rule that is off by default needs its own code (or a prefix longer than "BN").
        return any(rule.code.startswith(p) and (rule.default_enabled or len(p) > 2) for p in chosen)

    return [rule for rule in all_rules() if selected(rule) and not any(rule.code.startswith(p) for p in dropped)]


def known_prefix(prefix: str) -> bool:
    return any(rule.code.startswith(prefix.upper()) for rule in all_rules())


# --- helpers rules share ---------------------------------------------------------------

def span(facts: ModuleFacts, node: ast.AST) -> Span:
    column = facts.column(node.lineno, node.col_offset) + 1  # type: ignore[attr-defined]
    end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
    end_col = getattr(node, "end_col_offset", None)
    end_column = facts.column(end_line, end_col) + 1 if end_col is not None else column
    return Span(line=node.lineno, column=column, end_line=end_line, end_column=end_column)  # type: ignore[attr-defined]


def tensorflow_v1(facts: ModuleFacts, *near: ast.AST) -> tuple[str, str, tuple[Edit, ...]]:
    """How this module spells TensorFlow (`tf`) and its v1 API (`tf.` or, in code that went
    through tf_upgrade_v2 as the code `near` shows, `tf.compat.v1.`), and the import to
    add when it has none."""
    alias = facts.tensorflow_alias()
    if alias is None:
        name = "tf" if "tf" not in facts.imports.names and "tf" not in facts.module.assignments else "tensorflow"
        return name, f"{name}.", (AddImport("tensorflow", name),)
    name, target = alias
    spelled = any(f"{name}.compat.v1." in (facts.segment(node) or "") for node in near)
    return name, f"{name}.compat.v1." if target == "tensorflow" and spelled else f"{name}.", ()


def update_ops_dependency(facts: ModuleFacts, *near: ast.AST, scope: Optional[str] = None) -> tuple[str, tuple[Edit, ...]]:
    """The `tf.control_dependencies(...UPDATE_OPS...)` expression in the module's own
    spelling of TensorFlow (limited to one variable scope when given), and the import it
    needs when the module has none."""
    name, v1, edits = tensorflow_v1(facts, *near)
    header = tfapi.CONTROL_DEPENDENCIES_TEMPLATE.format(tf=name, v1=v1)
    if scope is not None:
        header = header.replace("UPDATE_OPS)", f"UPDATE_OPS, scope={scope!r})")
    return header, edits


def node_range(facts: ModuleFacts, node: ast.AST) -> tuple[int, int, int, int]:
    """A node's range as node edits name it: 1-based lines, 0-based character columns."""
    where = span(facts, node)
    return where.line, where.column - 1, where.end_line, where.end_column - 1
