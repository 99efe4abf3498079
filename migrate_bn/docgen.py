"""Write docs/rules/<CODE>.md from the rules' docstrings: `python -m migrate_bn.docgen DIR`."""

from __future__ import annotations

import sys
from pathlib import Path

from .rules import all_rules


def main(directory: str = "docs/rules") -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for rule in all_rules():
        (target / f"{rule.code}.md").write_text(rule.documentation())


if __name__ == "__main__":
    main(*sys.argv[1:])
