"""Who reads a batch norm's moving statistics: the whole-program model's answer.

A missing update dependency (BN001), another network's updates in a step (BN009) or a
slow decay (BN005) matter only when something normalizes with the moving statistics.
Nothing does when every build of the batch norm runs in training mode and no program of
the project evaluates, restores for inference or exports it. Three shapes are
established here, each conservatively (unknown means read):

1. *Always training, never evaluated* (or evaluated on batches of one example only,
   `model.batch_size`: instance normalization by design): the flag is a literal `True`, a parameter every
   call in the module passes `True`, or contrib/slim's default `True` (no flag, no
   `arg_scope` that could set one), and no run evaluates it (`model.runs`). Beyond a
   literal, the project must agree: no other module imports this one, and for
   contrib's default (or a call of the project's own builder without a flag) every
   module of the project has been read and none builds batch norm in inference mode or
   exports a model (`model.project_graphs`). A run of the graph that evaluates counts
   even when its fetches cannot be tied to this batch norm.
2. *Private to the process*: the batch norm offers no switch (a literal `True`, or
   contrib's default with no flag or `arg_scope`; not a parameter callers leave at
   `True`, which a fix would pass the program's flag to), no other module imports it,
   it writes no checkpoint and exports nothing (`model.persistence`), and nothing
   evaluates it but a GAN's sampler (which draws with batch statistics by design; an
   evaluation elsewhere is BN003's or BN004's finding, whose fix reads them): no other
   program can load the statistics, and no build in this one reads them.
3. *Private per build*: the batch norm is built inside a `variable_scope` with a literal
   name re-entered without reuse (no `reuse=`, no `reuse_variables()`, no reuse around
   the calls), so each build owns its variables (or the second build fails): a
   `phase_train=False` sampler never reads what training would update. Every build must
   pass a constant flag (a placeholder flag trains and evaluates one set of variables),
   and no code in the module restores a checkpoint into a build with `False`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

from .. import tfapi
from . import project_graphs
from .batch_size import one_example_batches
from .persistence import writes_nothing
from .program import gan_style
from .runs import evaluation_runs

if TYPE_CHECKING:
    from ..facts import BatchNormSite, ModuleFacts



def graph_is_evaluated(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Are this batch norm's outputs also computed for evaluation or prediction? (A run
    counts when the model shows its fetches are built from this batch norm.)"""
    from ..flags import in_model_fn

    return bool(evaluation_runs(facts, site)) or in_model_fn(site.scope)


def _graph_may_be_evaluated(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Could anything evaluate this batch norm's graph? For "nothing reads the moving
    statistics", a run that evaluates the graph counts even when the model cannot tie its
    fetches to this batch norm (`net.correct` of a model object): unknown means read."""
    from ..flags import in_model_fn

    return bool(evaluation_runs(facts, site, attributed=False)) or in_model_fn(site.scope)


def _constant_flag(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[bool]:
    """The flag's value at every build the module shows: a literal, or a parameter every
    call passes the same constant."""
    flag = site.flag
    if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
        return flag.value
    if isinstance(flag, ast.Name):
        return facts.parameter_constant(site)
    return None


def _default_training(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """contrib/slim batch norm with no flag at all: its default `True`, unless an
    `arg_scope` around it (here or around a call of its function) could set one."""
    if site.flag is not None or site.spec is None or site.spec.default_training is not True:
        return False
    if site.how not in ("call", "normalizer_fn", "apply") or site.producer is not None:
        return False
    from ..flags import called_under_arg_scope

    return not (_under_arg_scope(site.scope.node, site.node) or called_under_arg_scope(facts, site.scope))


def _under_arg_scope(root: ast.AST, node: ast.AST) -> bool:
    line = node.lineno  # type: ignore[attr-defined]
    for child in ast.walk(root):
        if isinstance(child, (ast.With, ast.AsyncWith)) and child.lineno <= line <= (child.end_lineno or child.lineno):
            for item in child.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and _called_name(call) == "arg_scope":
                    return True
    return False


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def always_training(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Does every build of this batch norm in the project run in training mode?"""
    from ..flags import always_training as literal_true

    if literal_true(facts, site):
        return True  # a literal True at the call beats any arg_scope
    if site.how == "project":
        # A call of the project's own builder: every build in training mode only when the
        # call passes no flag (or True) and every module of the project agrees.
        flag = site.flag
        return (flag is None or (isinstance(flag, ast.Constant) and flag.value is True)) and \
            project_graphs.never_infers(facts)
    if site.producer is not None or site.how not in ("call", "normalizer_fn", "apply"):
        return False
    if _constant_flag(facts, site) is True:
        return project_graphs.no_importers(facts)
    if _default_training(facts, site):
        return project_graphs.never_infers(facts)
    return False


def _offers_no_switch(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Is this batch norm written to train whenever it runs: a literal `True`, or
    contrib's default with no flag and no `arg_scope` that could set one? A parameter
    that callers leave at `True` is a switch (a notebook that feeds its flag `False` to
    evaluate and forgot to pass it to the builder reads the statistics once fixed)."""
    from ..flags import always_training as literal_true

    return literal_true(facts, site) or _default_training(facts, site)


def private_per_build(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Does each build of this batch norm get variables of its own: built in a
    `variable_scope('name')` without reuse, in a function nothing calls with reuse?"""
    if site.how not in ("call", "normalizer_fn"):
        return False  # a layer object keeps its variables whatever scope it is applied in
    if site.scope.kind != "function" or _asks_reuse(site.node) or _reuses_variables(site.scope.node):
        return False
    line = site.node.lineno
    named = False
    for child in ast.walk(site.scope.node):
        if not (isinstance(child, (ast.With, ast.AsyncWith)) and child.lineno <= line <= (child.end_lineno or line)):
            continue
        for item in child.items:
            call = item.context_expr
            if _asks_reuse(call):
                return False
            if isinstance(call, ast.Call) and _called_name(call) == "variable_scope":
                if not (call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
                    return False  # a scope object or a computed name may be another build's
                named = True
    callers = facts.callers(site.scope)
    if not named or not callers:
        return False
    for call in callers:
        if _reuses_variables(call.scope.node) or any(
                _asks_reuse(statement) for statement in facts.enclosing_statements.get(id(call.node), ())
                if isinstance(statement, (ast.With, ast.AsyncWith))):
            return False
    return True


def _asks_reuse(node: ast.AST) -> bool:
    """A `reuse=` other than False/None, or AUTO_REUSE, anywhere in `node`'s own items."""
    parts = node.items if isinstance(node, (ast.With, ast.AsyncWith)) else [node]
    for part in parts:
        for child in ast.walk(part.context_expr if isinstance(part, ast.withitem) else part):
            if isinstance(child, ast.keyword) and child.arg == "reuse" and not (
                    isinstance(child.value, ast.Constant) and child.value.value in (False, None)):
                return True
            if isinstance(child, ast.Attribute) and child.attr == "AUTO_REUSE":
                return True
    return False


def _reuses_variables(root: ast.AST) -> bool:
    return any(isinstance(child, ast.Call) and _called_name(child) == "reuse_variables" for child in ast.walk(root))


def _restores(facts: "ModuleFacts") -> bool:
    return any(_called_name(call) in tfapi.CHECKPOINT_RESTORES for call, _ in facts.calls)


def _builds_with_constants(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[set[bool]]:
    """The constant flags the module's builds of this batch norm pass; None when one is
    not a constant (a placeholder trains and evaluates the same variables)."""
    flag = site.flag
    if isinstance(flag, ast.Constant) and isinstance(flag.value, bool):
        return {flag.value}
    if not (isinstance(flag, ast.Name) and flag.id in site.scope.param_defaults):
        return None
    values = set()
    for call in facts.callers(site.scope):
        value = facts.argument_for(call, site.scope, flag.id)
        if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
            return None
        values.add(value.value)
    return values or None


def statistics_unread(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Does nothing in the project ever read this batch norm's moving statistics?"""
    key = f"statistics.unread:{id(site)}"
    if key not in facts.model_cache:
        facts.model_cache[key] = _unread(facts, site)
    return facts.model_cache[key]


def _unread(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    if _offers_no_switch(facts, site) and writes_nothing(facts) and project_graphs.no_importers(facts) and \
            (gan_style(facts) or not _graph_may_be_evaluated(facts, site)):
        # Every build is in training mode and the statistics never leave the process.
        # An evaluation outside a GAN is BN003's or BN004's finding, whose fix reads them;
        # a GAN's sampler draws with batch statistics by design.
        return True
    if always_training(facts, site):
        # Evaluated in training mode on batches of one example: instance normalization
        # by design, which no fix would switch to the moving statistics.
        return not _graph_may_be_evaluated(facts, site) or one_example_batches(facts)
    if private_per_build(facts, site):
        values = _builds_with_constants(facts, site)
        if values is None:
            return False
        # Another function of the module may restore the trained variables into an
        # inference build of its own graph: then that build reads them.
        return (False not in values or not _restores(facts)) and project_graphs.no_importers(facts)
    return False


def moving_statistics_unread(facts: "ModuleFacts") -> bool:
    """Is every batch norm that feeds UPDATE_OPS here one whose moving statistics
    nothing reads? Then running the update ops changes nothing (unknown: read)."""
    sites = facts.update_feeding_sites()
    return bool(sites) and all(statistics_unread(facts, site) for site in sites)
