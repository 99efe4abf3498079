"""Session runs of the whole-program model: which runs evaluate a batch norm.

A run that computes the model's outputs without its train op is an evaluation only when
it is one. Two kinds of run are not:

- *training-time monitoring*: a run in the training loop itself (the loop that also runs
  a train op) that fetches losses, summaries, accuracy or samples of the training graph
  on the data the step trains on. Batch statistics there are what training uses;
  nothing is evaluated. A run in that loop that feeds held-out data (`x_val`,
  `mnist.test.images`), or is fed nothing and fetches it (`val_accuracy` from an input
  pipeline), is an evaluation all the same.
- a run whose fetches are not built from the batch norm in question: a GAN's sampler
  run fetches the generator, not the discriminator. A run is attributed to a batch norm
  only when the fetched names are computed from the statements that build it; what
  cannot be shown stays unattributed (unknown means silent).

Rules ask `evaluation_runs(facts, site)`, never re-derive either question.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, ModuleFacts, SessionRun

# Names of data held out from training (validation, test, evaluation sets).
_HELD_OUT = re.compile(r"(^|_|\b)(val|valid|validation|test|testing|eval|evaluation|dev|holdout|heldout)(_|\b|$|s\b|\d)"
                       r"|^(val|test|eval|valid)[A-Z0-9]|[a-z](Val|Test|Eval|Valid)([A-Z0-9_]|$)")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def held_out(node: Optional[ast.AST]) -> bool:
    """Does an expression name held-out data (`x_val`, `mnist.test.images`, `'test'`)?"""
    if node is None:
        return False
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and _HELD_OUT.search(child.id):
            return True
        if isinstance(child, ast.Attribute) and _HELD_OUT.search(child.attr):
            return True
        if isinstance(child, ast.Constant) and isinstance(child.value, str) and _HELD_OUT.search(child.value):
            return True
    return False


def feed_values(run: "SessionRun") -> list[ast.AST]:
    """What a run feeds: a feed dict's values, or the feed itself when it is no dict display."""
    feed = run.feed
    if feed is None:
        return []
    if isinstance(feed, ast.Dict):
        return [value for value in feed.values if value is not None]
    return [feed]


def bound_to_held_out(facts: "ModuleFacts", value: ast.AST, run: "SessionRun") -> bool:
    """A fed name bound to held-out data (`vx, vy = val_batch(200)`)."""
    for child in ast.walk(value):
        if isinstance(child, ast.Name):
            for bound in _bindings(facts, child.id, run):
                if held_out(bound):
                    return True
    return False


def _bindings(facts: "ModuleFacts", name: str, run: "SessionRun") -> list[ast.AST]:
    """What the statements of the run's function (and the module) assign to `name`,
    tuple targets included."""
    found = []
    for node in facts.assignment_nodes:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for target in targets for t in ast.walk(target)):
            found.append(node.value)
    for statement in facts.enclosing_statements.get(id(run.node), ()):
        if isinstance(statement, (ast.For, ast.AsyncFor)) and any(
                isinstance(t, ast.Name) and t.id == name for t in ast.walk(statement.target)):
            found.append(statement.iter)
    return found


def monitors_training(facts: "ModuleFacts", run: "SessionRun") -> bool:
    """Is this run training-time monitoring: inside a loop that also runs a train op,
    fetching and feeding nothing held out?"""
    if facts.runs_train_op(run):
        return False
    loops = [statement for statement in facts.enclosing_statements.get(id(run.node), ())
             if isinstance(statement, _LOOPS)]
    if not loops:
        return False
    # Held-out data shows in what is fed; a run fed nothing takes its data from the graph
    # (an input pipeline), and then only the fetches' names can say (`val_accuracy`).
    # Fetch names alone do not decide a fed run: a GAN's `net_g_test` sampler is fed noise.
    feeds = feed_values(run)
    if _evaluates(facts, run) or (not feeds and held_out(run.fetches)):
        return False  # held-out data, or a training flag fed False: the author evaluates
    innermost = loops[-1]
    if not feeds and any(_in_loop(facts, other, innermost) and other.node.lineno < run.node.lineno
                         and held_out(other.fetches) for other in facts.session_runs):
        return False  # the input pipeline was switched to held-out data (`sess.run(val_init)`)
    # The train op must run in the same loop body: a loop of its own after training (an
    # evaluation over the test batches) is not monitoring.
    return any(_in_loop(facts, other, innermost) for other in facts.session_runs
               if other is not run and facts.runs_train_op(other))


def _in_loop(facts: "ModuleFacts", run: "SessionRun", loop: ast.stmt) -> bool:
    return any(statement is loop for statement in facts.enclosing_statements.get(id(run.node), ()))


def outputs_of(facts: "ModuleFacts", site: "BatchNormSite") -> set[str]:
    """Names (and `self.` attributes) holding values computed from this batch norm: bound
    by the statement that builds it, by the calls of the functions that (transitively)
    build it, then by every assignment that uses them."""
    key = f"runs.outputs:{id(site)}"
    cached = facts.model_cache.get(key)
    if cached is not None:
        return cached
    from ..facts import assigned_names
    from .dataflow import seed_names

    names = seed_names(facts, site)
    if isinstance(site.stmt, (ast.With, ast.AsyncWith)):
        # An arg_scope site: every layer built in its block gets the batch norm.
        for node in ast.walk(site.stmt):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                names |= assigned_names(node)
    names = facts.computed_from(names, rounds=3)
    facts.model_cache[key] = names
    return names


def built_from(facts: "ModuleFacts", run: "SessionRun", site: "BatchNormSite") -> bool:
    """Can the model show that this run's fetches are computed from the batch norm?"""
    from ..facts import mentions_names

    if run.fetches is None:
        return False
    if mentions_names(run.fetches, outputs_of(facts, site)):
        return True
    # A fetch computed inline from a call of a function that builds the batch norm.
    builders = facts.with_callers({id(site.scope)}) if site.scope.kind == "function" else set()
    for call in facts.local_calls:
        if _contains(run.fetches, call.node):
            target = facts.called_function(call)
            if target is not None and id(target) in builders:
                return True
    return site.stmt is run.stmt


def _contains(outer: ast.AST, node: ast.AST) -> bool:
    return any(child is node for child in ast.walk(outer))


def evaluation_runs(facts: "ModuleFacts", site: "BatchNormSite", attributed: bool = True) -> list["SessionRun"]:
    """The runs that evaluate this batch norm: computed from it, without the train op,
    and not training-time monitoring. Besides the runs in the code that builds it, a
    run in another function counts when it fetches the module-level names the graph
    is bound to and feeds held-out data or a training flag `False` (a notebook builds
    the graph in one cell and tests it in a function)."""
    related = facts.evaluation_runs(site)
    if facts.in_test(site.scope):
        return []
    candidates = related + [run for run in facts.evaluation_runs()
                            if run not in related and not facts.in_test(run.scope) and _evaluates(facts, run)
                            and _fetches_globals(facts, run, site)]
    # `attributed=False` keeps the runs of the graph whose fetches the model cannot tie to
    # this batch norm: for "is anything evaluated", unknown must count as evaluated.
    return [run for run in candidates if not monitors_training(facts, run) and
            (not attributed or built_from(facts, run, site))]


def _evaluates(facts: "ModuleFacts", run: "SessionRun") -> bool:
    """A run that shows it evaluates by what it feeds: held-out data, or a training
    flag fed `False`."""
    feed = run.feed
    if any(held_out(value) or bound_to_held_out(facts, value, run) for value in feed_values(run)):
        return True
    if isinstance(feed, ast.Dict):
        from ..flags import is_training_name

        return any(isinstance(key, ast.Name) and is_training_name(key.id) and isinstance(value, ast.Constant)
                   and value.value is False for key, value in zip(feed.keys, feed.values))
    return False


def _fetches_globals(facts: "ModuleFacts", run: "SessionRun", site: "BatchNormSite") -> bool:
    """Does the run fetch, by a name its own function does not bind, a module-level
    name holding this batch norm's output?"""
    if run.fetches is None or run.scope.kind != "function":
        return False
    outputs = outputs_of(facts, site)
    local = set(run.scope.assignments) | set(run.scope.param_defaults)
    fetched = {node.id for node in ast.walk(run.fetches) if isinstance(node, ast.Name)} & outputs
    return bool(fetched) and not fetched & local and all(name in facts.module.assignments for name in fetched)
