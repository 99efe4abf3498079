"""One build of a module's full facts for its importers, the program and its own analysis.

A module of the run that builds batch norm is often summarized for its importers
(`project.Project.summary`) or read by the program (`program.Program._module`) before
the runner comes to analyse it, and each built the same facts again: the same parse,
the same resolver (`project.Resolver` of the same path, in the same `Project`). Those
facts are kept here until the module's analysis takes them, along with the view they
were built from, so that the analysis neither parses nor builds again. The facts of the
module being analysed are offered back the other way, to the program's questions about
it.

Facts are shared only when building them gave the answers a later build gives: every
answer a build reads is kept for the run (summaries, the program's modules, the model's
answers), except the placeholder a question meets in an import cycle (`cut`), which is
replaced by the full answer once it is known. A build that met one is not shared.

Memory: only modules the run will analyse are kept, each until its analysis; the
module being analysed and the one analysed just before it (`MAX_RECENT`) are offered
back, for questions asked about a module after its analysis.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from .. import facts as facts_module
from ..prefilter import may_matter

if TYPE_CHECKING:
    from ..documents import View
    from ..facts import ModuleFacts


# Modules kept after their analysis. The questions asked about a module after it
# (BN004's flag parameter of a callee, the reach's calls, the names it binds) come
# mostly right after it on the bulk tree: the one before the current catches half of
# them (10 of 18 facts builds) for some 10 MB of peak memory; six would catch all but
# one and cost 65 MB. None in the language server: its saves do not drop them.
MAX_RECENT = 1


@dataclass
class _Built:
    source: bytes
    view: "View"
    facts: "ModuleFacts"
    # The project files its names resolved through while it was built (a summary's).
    dependencies: frozenset = frozenset()


class BuiltFacts:
    """Full facts by module path, built once for whoever asks first."""

    def __init__(self, program: tuple[str, ...] = (), recent: int = MAX_RECENT) -> None:
        self._analysed = frozenset(program)  # the run's files (absolute): the ones analysed
        self._kept: dict[str, _Built] = {}
        self._current: Optional[tuple[str, _Built]] = None
        # The modules analysed last before it, for questions asked about them after
        # their analysis (MAX_RECENT).
        self._recent: OrderedDict[str, _Built] = OrderedDict()
        self._max_recent = recent
        self._done: set[str] = set()  # the modules analysed so far
        self.cuts = 0  # import-cycle placeholders handed out so far (`cut`)

    def cut(self) -> None:
        """A question met a module whose answer is still being worked out (an import
        cycle) and was given a placeholder: what was built meanwhile is not shared."""
        self.cuts += 1

    def build(self, path: str, source: bytes, view: "View", resolver: Any) -> "ModuleFacts":
        """The facts of module `path` (`view`, read from `source`) as `resolver` (the
        project's resolver of `path`) resolves them; kept for the module's analysis."""
        kept = self._found(path, source)
        if kept is not None:
            return kept.facts
        cuts = self.cuts
        module_facts = facts_module.build(view.tree, view.text, resolver)
        if self.cuts == cuts and path in self._analysed and may_matter(source):
            self._kept[path] = _Built(source, view, module_facts)
        return module_facts

    def analysed_later(self, path: str, source: bytes) -> bool:
        """Will the run analyse module `path` (read from `source`) after this?"""
        return path in self._analysed and path not in self._done and may_matter(source)

    def view(self, path: str, source: bytes) -> Optional["View"]:
        """The view facts kept for `path` were built from, when read from `source`."""
        kept = self._found(path, source)
        return kept.view if kept is not None else None

    def analysis_facts(self, view: "View", resolver: Any) -> "ModuleFacts":
        """The facts for the analysis of `view` (the module of `resolver`): those kept for
        it, now answering through `resolver` (which takes on the dependencies of the
        answers they hold), else a new build; offered to the program's questions about
        the module while it is analysed."""
        path = os.path.abspath(resolver.path)
        self._done.add(path)
        kept = self._kept.get(path)
        if kept is not None and kept.view is view:
            del self._kept[path]
            module_facts = kept.facts
            resolver.dependencies.update(module_facts.resolver.dependencies)
            module_facts.resolver = resolver
            kept.dependencies = frozenset(resolver.dependencies)
        else:
            cuts = self.cuts
            module_facts = facts_module.build(view.tree, view.text, resolver)
            source = getattr(view, "source", None)
            if self.cuts != cuts or source is None:
                self._retire()
                return module_facts
            kept = _Built(source, view, module_facts, frozenset(resolver.dependencies))
        self._retire()
        self._current = (path, kept)
        return module_facts

    def _retire(self) -> None:
        """The module analysed last joins the recent ones, the oldest of which go."""
        if self._current is None:
            return
        path, kept = self._current
        self._current = None
        self._recent.pop(path, None)
        self._recent[path] = kept
        while len(self._recent) > self._max_recent:
            self._recent.popitem(last=False)

    def current(self) -> Optional[tuple[str, bytes, "ModuleFacts", frozenset]]:
        """The module being analysed, when its facts are shared: its path, bytes, facts
        and the files their names resolved through."""
        if self._current is None:
            return None
        path, kept = self._current
        return path, kept.source, kept.facts, kept.dependencies

    def _found(self, path: str, source: bytes) -> Optional[_Built]:
        kept = self._kept.get(path)
        if kept is None and self._current is not None and self._current[0] == path:
            kept = self._current[1]
        if kept is None:
            kept = self._recent.get(path)
        return kept if kept is not None and kept.source == source else None
