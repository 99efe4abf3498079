"""What a train step feeds, and what the update ops it would depend on need.

A batch norm's update ops are computed from its input: running them needs every
placeholder that input is built from. Wrapping a train op in update ops whose batch norm
reads a placeholder that the train step's `sess.run` does not feed (a GAN's
discriminator on real images in the generator's step, a probe tower on other data)
makes every run of the step fail with "You must feed a value for placeholder tensor".
`unfed_placeholders` names such placeholders, so that BN001 never calls that wrap safe.

Only what the module shows is used: names bound to `tf.placeholder(...)` (a
`placeholder_with_default` needs no feed), the names an input is computed from through
assignments, the arguments of the calls that build the batch norm, and the literal
`feed_dict`s of the runs that fetch the train op. When a run's feed is not a literal
dict, nothing is claimed.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..facts import ModuleFacts, TrainOp

_PLACEHOLDER = "placeholder"


def _placeholders(facts: "ModuleFacts") -> set[str]:
    """Names (and `self.` attributes) bound to a `tf.placeholder(...)` that must be fed."""
    from ..facts import assigned_names

    found: set[str] = set()
    for node in facts.assignment_nodes:
        value = node.value
        if isinstance(value, ast.Call):
            scope = facts.assignment_scopes.get(id(node), facts.module)
            name = (facts.qualname(value.func, scope) or "").rsplit(".", 1)[-1]
            if name == _PLACEHOLDER:
                found |= assigned_names(node)
    return found


def _names(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == "self":
            names.add(f"self.{child.attr}")
    return names


def _sources(facts: "ModuleFacts", names: set[str], depth: int = 0) -> set[str]:
    """These names and every name their assignments are computed from, transitively."""
    from ..facts import assigned_names

    found = set(names)
    changed = True
    rounds = 0
    while changed and rounds < 20:
        changed, rounds = False, rounds + 1
        for node in facts.assignment_nodes:
            if assigned_names(node) & found:
                more = _names(node.value) - found
                if more:
                    found |= more
                    changed = True
    return found


def _inputs_needed(facts: "ModuleFacts", scope: Optional[str]) -> set[str]:
    """The names the batch norm behind the (scoped) update ops is built from: the inputs
    of the direct sites and the arguments of the calls that build batch norm."""
    names: set[str] = set()
    for site in facts.update_feeding_sites():
        if scope is not None and not facts.built_under(site, {scope}):
            continue
        if site.scope.kind == "function":
            for call in facts.callers(site.scope):
                if scope is None or facts.built_under(call, {scope}) or facts.built_under(site, {scope}):
                    names |= _names(call.node)
        else:
            names |= _names(site.node)
    for call in facts.local_calls:
        if facts.call_feeds_update_ops(call) and (scope is None or facts.built_under(call, {scope})):
            names |= _names(call.node)
    return _sources(facts, names)


def _runs_of(facts: "ModuleFacts", op: "TrainOp"):
    """The runs that fetch this train op: by the name its statement binds, or by the
    names the callers of its function bind it to when the function returns it
    (`self.d_opt, self.g_opt = model_opt(...)`, run as `net.d_opt`)."""
    from ..facts import assigned_names
    from .returns import bound_by_callers

    bound = assigned_names(op.stmt)
    bound |= bound_by_callers(facts, op.scope, bound)
    return [run for run in facts.session_runs if run.fetches is not None and bound and _fetches(run.fetches, bound)]


def _fetches(node: ast.AST, names: set[str]) -> bool:
    """Does a fetch use one of these names, or a `self.` attribute of them through
    another object (`net.d_opt` for `self.d_opt`: the model object the run was given)?"""
    from ..facts import mentions_names

    if mentions_names(node, names):
        return True
    return any(isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and
               f"self.{child.attr}" in names for child in ast.walk(node))


def unfed_placeholders(facts: "ModuleFacts", op: "TrainOp", scope: Optional[str] = None) -> list[str]:
    """Placeholders the update ops (of `scope`, or all) need that a run of this train op
    does not feed; empty when every run feeds them or nothing can be told."""
    runs = _runs_of(facts, op)
    if not runs or any(not isinstance(run.feed, ast.Dict) for run in runs):
        return []
    needed = _inputs_needed(facts, scope) & _placeholders(facts)
    missing: set[str] = set()
    for run in runs:
        fed = set().union(*(_names(key) for key in run.feed.keys if key is not None))  # type: ignore[union-attr]
        missing |= needed - fed
    return sorted(missing)


def same_data_in_both_steps(facts: "ModuleFacts", op: "TrainOp", others: list["TrainOp"], scopes: set[str]) -> bool:
    """Do the other networks' update ops (built under `scopes`) compute, in this step,
    from exactly the data their own steps feed them? Every run of this step and of the
    other networks' steps feeds each placeholder they read, with the same expression
    (`{z: z_, x: x_}` in both), or every run feeds one and the same dict: then the
    extra updates in this step see batches like their own, and only come more often.
    Train ops returned by a helper are followed to the names the runs fetch
    (`model/returns.py`). Unknown: False."""
    if others and all(_runs_with(facts, op, other) for other in others):
        return True  # one `sess.run` runs both steps: the same batch in both
    needed: set[str] = set()
    for scope in scopes:
        needed |= _inputs_needed(facts, scope)
    needed &= _placeholders(facts)
    runs = [run for step in (op, *others) for run in _runs_of(facts, step)]
    if runs and all(run.feed is None for run in runs) and all(_runs_of(facts, step) for step in (op, *others)):
        # No run feeds anything: every step draws its batches from the same input
        # pipelines and random ops of the graph (a placeholder left unfed would fail).
        return True
    if not runs or any(not isinstance(run.feed, ast.Dict) for run in runs) or \
            not all(_runs_of(facts, step) for step in (op, *others)):
        return False
    if _one_feed(facts, runs):
        # Every run feeds one and the same dict, whose values nothing rebinds between
        # the runs: whatever the placeholders are (built and returned by a helper, fed
        # through the model object), the steps see the same data.
        return True
    if not needed:
        return False
    for name in needed:
        values = set()
        for run in runs:
            fed = [value for key, value in zip(run.feed.keys, run.feed.values)  # type: ignore[union-attr]
                   if key is not None and name in _names(key)]
            if len(fed) != 1:
                return False
            values.add(ast.dump(fed[0]))
        if len(values) != 1:
            return False
    return True


def _runs_with(facts: "ModuleFacts", op: "TrainOp", other: "TrainOp") -> bool:
    """Does `op` depend on the other step's train op (`with
    tf.control_dependencies([d_train] + update_ops): g_train = ...`), so that every run
    of `op` runs the other step too?"""
    from ..facts import assigned_names

    bound = assigned_names(other.stmt)
    return bool(bound) and other.scope is op.scope and any(_names(dep) & bound for dep in op.deps)


def _one_feed(facts: "ModuleFacts", runs: list) -> bool:
    """Does every run feed the same keys with the same expressions, in one function,
    with nothing rebinding those expressions' names between the first and last run?"""
    from ..facts import assigned_names

    feeds = {frozenset((ast.dump(key), ast.dump(value)) for key, value in zip(run.feed.keys, run.feed.values)
                       if key is not None) for run in runs}
    if len(feeds) != 1 or not next(iter(feeds)) or len({id(run.scope) for run in runs}) != 1:
        return False
    if any(key is None for run in runs for key in run.feed.keys):
        return False  # `**other`: unknown
    used = set().union(*(_names(value) for run in runs for value in run.feed.values))
    first = min(run.node.lineno for run in runs)
    last = max(run.node.lineno for run in runs)
    return not any(first < node.lineno < last and assigned_names(node) & used for node in facts.assignment_nodes)
