"""BN002 update-ops-collected-early."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn.facts import BatchNormSite, LocalCall, ModuleFacts, UpdateOpsRead, comes_after as _after
from migrate_bn.findings import Finding, Fix, MoveBefore, Related
from migrate_bn.model.structure import framed_update_sites
from migrate_bn.rules import Options, Rule, span


class UpdateOpsCollectedEarly(Rule):
    """
    ## What it finds
    A read of the `tf.GraphKeys.UPDATE_OPS` collection that a train op depends on, made
    before (some of) the batch-norm layers that fill the collection are built.

    ## Why it is wrong
    `tf.get_collection` returns a copy of the collection as it is at the moment of the
    call, not a live view. Read before the batch-norm layers exist, it is an empty list (or
    misses the later layers' updates), so `tf.control_dependencies(update_ops)` adds
    nothing and the moving mean and variance never update: the same symptom as BN001,
    behind code that looks right.

    `tf.get_collection_ref` returns the collection itself and is not affected.

    ## Example
    ```python
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)  # [] here
    logits = build_model(images, is_training)
    loss = ...
    with tf.control_dependencies(update_ops):
        train_op = optimizer.minimize(loss)
    ```

    Use instead:
    ```python
    logits = build_model(images, is_training)
    loss = ...
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = optimizer.minimize(loss)
    ```

    ## Fix (safe)
    Moves the `update_ops = tf.get_collection(...)` statement to just before the first
    statement that uses it, when that statement comes after the last batch-norm layer.
    Reading a collection has no side effects, so moving the read changes nothing but what
    it sees. Comments directly above the read go with it when the two are a paragraph
    of their own (a blank line follows the read); when the next statement follows at
    once, they head that paragraph and stay where they are. When the use itself comes
    before a batch-norm layer, or the read is not a plain assignment, the finding has no
    automatic fix.

    ## Stays silent when
    the read is `tf.get_collection_ref` (the collection itself, which sees later layers);
    every batch norm in the read's function (or module) is built before the read,
    directly or by calling a function that builds it; the read names a `scope=` under
    which no later layer is built; no train op's `control_dependencies` takes the read's
    value; the batch norm adds no update ops to the collection
    (`updates_collections=None`, a literal `training=False` / `is_training=False`, a
    parameter every call sets to `False`, a layer built in a `tf.while_loop` / `map_fn`
    body); or the layers are built in another function, whose order relative to the
    read cannot be told.
    """

    code = "BN002"
    name = "update-ops-collected-early"
    summary = "UPDATE_OPS read before the batch-norm layers exist (an empty list)"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        for read in facts.update_reads:
            if read.live:
                continue  # get_collection_ref is the collection itself: it sees later layers
            late = self._later_batch_norm(facts, read)
            if not late:
                continue
            uses = self._dependency_uses(facts, read)
            if not uses:
                continue
            first_late = late[0]
            message = (
                f"UPDATE_OPS is read at line {read.node.lineno}, before the batch norm at line "
                f"{first_late.node.lineno} is built: tf.get_collection returns a copy, so the "
                f"train op depends on {'an empty list' if not self._earlier_batch_norm(facts, read) else 'a list that misses its updates'} "
                "and the moving statistics never update"
            )
            related = tuple(
                Related(span(facts, item.node), self._describe(item)) for item in late
            ) + tuple(Related(span(facts, use), "the dependency on the early read") for use in uses[:1])
            yield Finding(self.code, message, span(facts, read.node), "error",
                          self._fix(facts, read, late), related)

    @staticmethod
    def _describe(item: BatchNormSite | LocalCall) -> str:
        if isinstance(item, BatchNormSite):
            return f"batch norm built after the read: {item.api}"
        return f"builds batch norm after the read: {item.name}()"

    @staticmethod
    def _in_body(facts: ModuleFacts, read: UpdateOpsRead) -> list:
        """Batch norm built in the read's own body, sites and producer calls alike."""
        items: list = [site for site in facts.update_feeding_sites() if site.scope is read.scope]
        items.extend(call for call in facts.local_calls
                     if call.scope is read.scope and facts.call_feeds_update_ops(call))
        return items

    def _later_batch_norm(self, facts: ModuleFacts, read: UpdateOpsRead) -> list:
        items = [item for item in self._in_body(facts, read) if _after(item.node, read.node)]
        scope = facts.read_scope(read.node)
        if scope is not None:
            # A read scoped to 'generator' sees only layers built under that name.
            items = [item for item in items if facts.built_under(item, {scope})]
        return sorted(items, key=lambda item: (item.node.lineno, item.node.col_offset))

    def _earlier_batch_norm(self, facts: ModuleFacts, read: UpdateOpsRead) -> bool:
        return any(not _after(item.node, read.node) for item in self._in_body(facts, read))

    @staticmethod
    def _dependency_uses(facts: ModuleFacts, read: UpdateOpsRead) -> list[ast.AST]:
        """Where the train op's dependencies take this read's value."""
        if read.target is None:
            # Read inline: `with tf.control_dependencies(tf.get_collection(...)):`.
            for use in facts.dependency_uses:
                if any(read.node is node for arg in use.args for node in ast.walk(arg)):
                    return [use.node]
            return []
        found = []
        if read.target.startswith("self."):
            # An attribute is read wherever the class likes; any method's use counts.
            attribute, cls = read.target[len("self."):], facts.class_of(read.scope)
            for use in facts.dependency_uses:
                if cls is None or facts.class_of(use.scope) is not cls:
                    continue
                if use.scope is read.scope and not _after(use.node, read.node):
                    continue
                if any(isinstance(node, ast.Attribute) and node.attr == attribute and
                       isinstance(node.value, ast.Name) and node.value.id == "self"
                       for arg in use.args for node in ast.walk(arg)):
                    found.append(use.node)
            return found
        for use in facts.dependency_uses:
            if use.scope is not read.scope or not _after(use.node, read.node):
                continue
            for arg in use.args:
                for node in ast.walk(arg):
                    if isinstance(node, ast.Name) and node.id == read.target and \
                            facts.lookup(node.id, read.scope, use.node.lineno) is read.node:
                        found.append(use.node)
        return found

    @staticmethod
    def _fix(facts: ModuleFacts, read: UpdateOpsRead, late: list) -> Optional[Fix]:
        statement = read.stmt
        if framed_update_sites(facts):
            return None  # a later read would take update ops from a loop or branch frame too
        if read.target is None or not isinstance(statement, ast.Assign) or statement.value is not read.node:
            return None
        last_line = max(getattr(item.node, "end_lineno", item.node.lineno) for item in late)
        loads = [(line, stmt) for scope, name, line, stmt in facts.name_loads
                 if scope is read.scope and name == read.target and line > statement.lineno]
        if not loads:
            return None
        first_use = min(loads, key=lambda load: load[0])[1]
        # Move within the read's own block, before the statement that holds the first
        # use: moving it into a nested block could leave later uses unbound.
        block = _block_of(read.scope.node, statement)
        target = next((s for s in block if s.lineno <= first_use.lineno <= (s.end_lineno or s.lineno)
                       and s.lineno > statement.lineno), None)
        if target is None or target.lineno <= last_line:
            return None  # the read is used before the last batch norm: moving it is not enough
        return Fix("safe", f"Move the read of UPDATE_OPS to line {target.lineno}, after the batch-norm layers",
                   (MoveBefore(statement.lineno, target.lineno),))


def _block_of(root: ast.AST, statement: ast.stmt) -> list[ast.stmt]:
    for node in ast.walk(root):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and any(s is statement for s in block):
                return block
        for handler in getattr(node, "handlers", ()) or ():
            if any(s is statement for s in handler.body):
                return handler.body
    return []




