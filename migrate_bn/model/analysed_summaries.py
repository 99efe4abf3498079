"""What a module's import summary needs, kept from its analysis for importers that ask
after it.

The runner analyses a module (builds its full facts, runs the rules, drops the facts),
and a module analysed after it imports it and asks its summary
(`project.Project.summary`): the facts were built again for that, and often parsed
again (23 facts builds and 6 parses on the bulk tree). When the next analysis starts,
the part of the summary the analysed module's facts give is kept instead: the
producers it defines (with their positional and flag parameters), its import table,
the bytes it was read from and the files its names resolved through. Its re-exports,
which ask other modules' summaries, are still resolved when the summary is asked, as
before, so that no summary is asked earlier or more often than it was.

Kept only for facts shared as `built_facts` shares them (no import cycle cut while they
were built), only when the summary was not made yet, and only in batch runs: the
language server analyses buffers whose text is not the file's. The summary asked later
uses the kept part only for the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..project import Producer


@dataclass(frozen=True)
class OwnPart:
    """A summary's part read from the module's own facts."""

    source: bytes
    producers: dict[str, "Producer"]  # defined in the module, in the order of its scopes
    names: dict[str, str]  # its import table (local name -> qualified name)
    dependencies: frozenset[str]  # the project files its facts' names resolved through
