"""Modules whose import summary is empty, told from their text and a few statements of
their syntax tree, without building their facts.

A module the run never analyses (no batch-norm word of its own) is summarized for its
importers only because its imports may lead to batch norm (`project.Project.summary`);
its full facts were built for that (121 modules on the bulk tree, 0.6 s), and only 12
of those summaries name anything. Without a batch-norm word, a function of the module
builds batch norm only through a project producer its facts resolve a call to
(`facts._Builder._project_producer`): `resolver.producer(qualname)` for a name its
import table gives (`names.resolve`, through local aliases), or the function an
Estimator's `params['key']` holds (`model/dict_callables.py`); and it re-exports one
only by importing it. A name imported from a module that is not, and cannot hold, a
project module (`from lib import helper`) leads nowhere else: every name under it
resolves to no module. So the summary is empty when:

- no name of its import table is a producer (no re-export), and no call may be
  `params[...](...)`;
- every use of a name that is, or may hold, a project module (`import models`, `from
  . import layers`) is an attribute chain (`models.resnet.build`) that is called and no
  producer, or is not called and not bound to a name (passed, read, a base class: the
  facts resolve only calls, through names bound to chains); a chain bound to a name
  (`build = models.net`, a parameter's default) is neither a project module nor a
  producer, unless the names it is bound to are only ever the base of an attribute
  (`cfg.x`: under a name that is no module, no name is one).

The uses are found in the text (ASCII only: the tree's names are NFKC-normalized). A
call of a chain that is no producer is taken as read; any other use is read from the
syntax tree of the statements on its line (`_Lines`: those on the way to the line,
walked without their nested statements), so that a comment or a string holds none.
Anything else is left to the full build. The producers asked are those the facts
would ask (the same summaries, cached for the run), earlier: an answer first given
inside an import cycle could differ, so the short cut was checked against the full
build for every module without a batch-norm word of the bulk tree and the 129
real-code trees (3,231 modules), and the findings byte-identical on both.
"""

from __future__ import annotations

import ast
import bisect
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from ..facts import blocks_of
from ..names import resolve
from ..project import FOREIGN_PREFIXES, ancestors, relative_import_base
from ..tfapi import canonical

if TYPE_CHECKING:
    from ..project import Resolver

# An attribute chain after a name (`models . resnet.build`), across spaces and lines.
_CHAIN = re.compile(r"(?:\s*\.\s*[^\W\d]\w*)*")
_BINDING_OR_ATTRIBUTE = re.compile(r"\s*(\.|=(?!=))")
_SUBSCRIPT = re.compile(r"\s*\[")


def summary_is_empty(tree: ast.Module, text: str, resolver: "Resolver") -> bool:
    """Can no function or class of the module (`tree`, read from `text`, without a
    batch-norm word) build batch norm, and does it re-export no producer? False when
    that cannot be told."""
    from .program import import_table

    imports = import_table(tree, resolver, text)
    names = imports.names
    if any(resolver.producer(target) is not None for target in names.values()):
        return False
    # Only a name that may be (or hold) a project module leads further: `models.net(x)`.
    modules = [local for local, target in names.items()
               if not canonical(target).startswith(FOREIGN_PREFIXES) and _may_hold_modules(resolver, target)]
    if not modules:
        return True
    if any(_SUBSCRIPT.match(text, end) for _, end in _spelled(text, "params")):
        return False  # `params['generator_fn'](z)`: see model/dict_callables.py
    if not text.isascii():
        return False  # identifiers are NFKC-normalized: the text may spell them otherwise
    # Where the text spells an imported module's name; comments and strings too, which
    # the syntax tree of the statements on those lines tells apart.
    if "\r" in text:  # lines as `ast` counts them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _Lines(tree, set(modules))
    producers: dict[str, bool] = {}

    def is_producer(qualname: Optional[str]) -> bool:
        if qualname is None:
            return True
        if qualname not in producers:
            producers[qualname] = resolver.producer(qualname) is not None
        return producers[qualname]

    def leads_to_producer(use: _Use) -> bool:
        """Might the facts resolve a call to a producer through this use?"""
        qualname = resolve(use.chain, imports)
        if use.called:
            return is_producer(qualname)
        if not use.bound:
            return False  # read, passed or returned: no name of the module calls it
        # `build = models.net` (or a default): `build(x)`, `build.sub(x)` resolve through it.
        if use.chain is use.name or qualname is None or (
                not qualname.startswith(FOREIGN_PREFIXES) and _may_hold_modules(resolver, qualname)):
            return True
        # A name under one that is no module is none either (`cfg.override(...)`): only a
        # call of the bound name, or a name bound to it, asks what it is.
        if use.targets is not None and all(_only_extended(text, target) for target in use.targets):
            return False
        return is_producer(qualname)

    for local in modules:
        line, counted = 1, 0
        for start, end in _spelled(text, local):
            line += text.count("\n", counted, start)
            counted = start
            chain = _CHAIN.match(text, end)
            if text[chain.end():chain.end() + 64].lstrip().startswith("("):
                # Read as code, a call of a chain that is no producer needs nothing more.
                qualname = canonical(names[local])
                for attribute in chain.group().split(".")[1:]:
                    qualname = canonical(f"{qualname}.{attribute.strip()}")
                if not is_producer(qualname):
                    continue
            # What the line holds, from its syntax tree (a comment or a string holds none).
            if any(leads_to_producer(use) for use in lines.uses_at(line)):
                return False
    return True


def _may_hold_modules(resolver: "Resolver", qualname: str) -> bool:
    """Could `qualname` or a name under it be a project module, as `resolver` finds
    modules (a file, a package, or a directory modules sit in)? Remembered for the run."""
    answers = resolver.project.holds_modules
    key = (os.path.dirname(resolver.path), qualname)
    if key not in answers:
        answers[key] = _holds_modules(resolver, qualname)
    return answers[key]


def _holds_modules(resolver: "Resolver", qualname: str) -> bool:
    if resolver.module_file(qualname) is not None:
        return True
    level = len(qualname) - len(qualname.lstrip("."))
    parts = [part for part in qualname.lstrip(".").split(".") if part]
    if level:
        return os.path.isdir(os.path.join(relative_import_base(resolver.path, level), *parts))
    return any(os.path.isdir(os.path.join(directory, *parts)) for directory in ancestors(os.path.dirname(resolver.path)))


def _only_extended(text: str, name: str) -> bool:
    """Is every use of `name` in the text (outside its bindings, `name = ...`) the base
    of an attribute (`name.x`)?"""
    return all(_BINDING_OR_ATTRIBUTE.match(text, end) for _, end in _spelled(text, name))


def _spelled(text: str, name: str) -> Iterator[tuple[int, int]]:
    """Where the text spells `name` as a whole identifier, not an attribute of another
    (`x.name`): its start and end offsets."""
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        before = text[start - 1] if start else " "
        if not (before.isidentifier() or before in "0123456789.") and \
                not (end < len(text) and (text[end].isidentifier() or text[end].isdigit())):
            yield start, end
        start = text.find(name, end)


class _Lines:
    """The names a module's statements use, looked up by line: each statement on the
    way to the line is walked once, without the statements nested in it."""

    def __init__(self, tree: ast.Module, locals_: set[str]) -> None:
        self.tree, self.locals = tree, locals_
        self._starts: dict[int, list[int]] = {}
        self._uses: dict[int, list[_Use]] = {}

    def uses_at(self, line: int) -> list["_Use"]:
        """Every `Name` of the locals in the statements on `line`, with its attribute
        chain (`models.resnet.build`) and whether that is called."""
        found: list[_Use] = []
        self._in_block(self.tree.body, line, found)
        return found

    def _in_block(self, block: list[ast.stmt], line: int, found: list) -> None:
        starts = self._starts.get(id(block))
        if starts is None:
            starts = self._starts[id(block)] = [_first_line(statement) for statement in block]
        index = bisect.bisect_right(starts, line) - 1
        # The statements holding the line (several share it after `;`); none when it is
        # a comment or a blank line between statements.
        while index >= 0 and (block[index].end_lineno or 0) >= line:
            statement = block[index]
            uses = self._uses.get(id(statement))
            if uses is None:
                uses = self._uses[id(statement)] = _header_uses(statement, self.locals)
            found.extend(uses)
            for inner in blocks_of(statement):
                if _first_line(inner[0]) <= line <= (inner[-1].end_lineno or 0):
                    self._in_block(inner, line, found)
            index -= 1


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", None)
    return min([statement.lineno] + [d.lineno for d in decorators]) if decorators else statement.lineno


@dataclass(frozen=True)
class _Use:
    """A use of an imported module's name: the `Name`, its attribute chain, whether the
    chain is called, and whether it is bound to a name the facts resolve through (an
    assignment's value, a parameter's default; an unpacking or a `with`, to be safe)."""

    name: ast.Name
    chain: ast.expr
    called: bool
    bound: bool
    targets: Optional[tuple[str, ...]] = None  # the names an assignment binds it to


# Where a value may be bound to a name (`facts._Builder._bind_target`, parameter defaults).
_BINDING = (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.arguments, ast.Tuple, ast.List, ast.Starred,
            ast.withitem, ast.comprehension, ast.For, ast.AsyncFor)


_NAMELESS = (ast.stmt, ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def _header_uses(statement: ast.stmt, locals_: set[str]) -> list[_Use]:
    """The names of `locals_` the statement uses outside the statements nested in it."""
    parents: dict[int, ast.AST] = {}
    found = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        # `ast.iter_child_nodes`, in its order, without its generators; contexts and
        # operators hold no name.
        for field in node._fields:
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else (value,):
                if not isinstance(child, ast.AST) or isinstance(child, _NAMELESS):
                    continue
                parents[id(child)] = node
                if isinstance(child, ast.Name) and child.id in locals_:
                    found.append(child)
                stack.append(child)
    uses = []
    for name in found:
        chain: ast.expr = name
        parent = parents.get(id(chain))
        while isinstance(parent, ast.Attribute) and parent.value is chain:
            chain, parent = parent, parents.get(id(parent))
        called = isinstance(parent, ast.Call) and parent.func is chain and isinstance(chain.ctx, ast.Load)
        targets = None
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is chain:
            # `self.x = ...` binds no name a call resolves through (`names.resolve`).
            bound = [parent.target] if not isinstance(parent, ast.Assign) else parent.targets
            if all(isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)) for target in bound):
                targets = tuple(target.id for target in bound if isinstance(target, ast.Name))
        uses.append(_Use(name, chain, called, isinstance(parent, _BINDING), targets))
    return uses
