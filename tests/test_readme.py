"""The README's commands are the ones CI runs, and its docs match the rules."""

from __future__ import annotations

import re
from pathlib import Path

from migrate_bn.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_ci_runs_the_readme_test_command() -> None:
    install_and_run, install_and_test = _readme_commands()
    assert "migrate-bn --dry-run examples/" in install_and_run
    assert install_and_test.endswith("pytest")
    assert install_and_test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_rule_is_in_the_readme_and_has_a_doc_page() -> None:
    readme = (ROOT / "README.md").read_text()
    for rule in all_rules():
        assert f"| {rule.code} | {rule.name} |" in readme
        page = ROOT / "docs" / "rules" / f"{rule.code}.md"
        assert page.read_text() == rule.documentation(), (
            f"{page} is out of date: python -m migrate_bn.docgen")


# The README's promise of what `migrate-bn explain` prints, word for word, and the
# heading each promised part has in a rule's documentation.
PROMISED_SECTIONS = {"what": "## What it finds", "why": "## Why it is wrong", "example": "## Example",
                     "fix": "## Fix", "when it stays silent": "## Stays silent when"}


def test_every_rule_documents_what_the_readme_promises() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    promise = re.search(r"prints a rule's full documentation \(([^)]*)\)", readme)
    assert promise is not None, "the README no longer says what `explain` prints"
    parts = [part.strip() for part in promise.group(1).split(",")]
    assert set(parts) == set(PROMISED_SECTIONS), f"a section the test does not know: {parts}"
    for rule in all_rules():
        lines = rule.documentation().splitlines()
        missing = [PROMISED_SECTIONS[part] for part in parts
                   if not any(line.startswith(PROMISED_SECTIONS[part]) for line in lines)]
        assert not missing, f"{rule.code}'s documentation lacks {missing}"
