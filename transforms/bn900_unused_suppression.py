"""BN900 unused-suppression."""

from __future__ import annotations

from typing import Iterator

from migrate_bn.facts import ModuleFacts
from migrate_bn.findings import Finding, Span
from migrate_bn.rules import Options, Rule
from migrate_bn.suppressions import ALL, Suppression


class UnusedSuppression(Rule):
    """
    ## What it finds
    A `# migrate-bn: ignore[...]` or `# noqa: BN...` comment that silences nothing: no
    finding of the named rules is on its line or its statement any more. Off by default;
    select it explicitly (`--select BN900`).

    ## Why it is wrong
    A stale suppression hides the next real finding on that statement, and tells readers
    a bug is there when it was fixed.

    ## Example
    ```python
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = opt.minimize(loss)  # migrate-bn: ignore[BN001]
    ```

    ## Fix
    None; delete the comment (or the codes it no longer needs).

    ## Stays silent when
    the comment silenced a finding of every code it names in this run (a bare
    `# migrate-bn: ignore` silenced at least one); a `# noqa` names no `BN` code (a bare
    `# noqa`, or another linter's codes: it is not migrate-bn's); the text is inside a
    string, not a comment; or BN900 is not selected (it is off by default).
    """

    code = "BN900"
    name = "unused-suppression"
    summary = "a suppression comment that silences nothing (off by default)"
    default_enabled = False

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        return iter(())  # judged after the other rules, by check_suppressions

    def check_suppressions(self, unused: list[Suppression]) -> Iterator[Finding]:
        for suppression in unused:
            codes = "everything" if ALL in suppression.codes else ", ".join(sorted(suppression.codes - suppression.used))
            span = Span(suppression.line, suppression.column, suppression.line, suppression.column)
            yield Finding(self.code, f"unused suppression: nothing to silence for {codes}", span, "warning")
