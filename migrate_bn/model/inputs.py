"""What data does a run compute on? Input pipelines (design.md section 7).

A script that reads its training batches from a queue or a dataset, feeds nothing,
and builds one batch-norm network, which its train op trains, computes every run of
that network on the training pipeline: a `sess.run([lr, accuracy])` logged between
steps is a metric of the training batches, computed as training computes it, not an
evaluation. Batch norm in training mode there is what training does; the evaluation
of the checkpoint, if any, is another program's.

Established only when nothing could switch the network's inputs: no placeholder (a
`feed_dict` could send other data), no `feed_dict` anywhere, no iterator that can be
re-initialized or chosen by a handle, and the network built once (not in a function
called for a second, validation tower). Otherwise the run may evaluate.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, ModuleFacts, SessionRun

# Calls that let a program send other data through the same network: whatever they
# are spelled under (`tf.placeholder`, `tf.compat.v1.placeholder`, Keras `Input`).
_SWITCHES = frozenset({
    "placeholder", "placeholder_with_default", "Input", "make_initializable_iterator",
    "make_initializer", "from_string_handle", "from_structure", "string_handle",
})


def on_training_batches(facts: "ModuleFacts", site: "BatchNormSite", run: "SessionRun") -> bool:
    """Does `run` compute this site's network on the training pipeline only?"""
    if run.feed is not None:
        return False
    cached = facts.model_cache.get("pipeline_only")
    if cached is None:
        cached = facts.model_cache["pipeline_only"] = _pipeline_only(facts)
    if not cached:
        return False
    networks = [other for other in facts.batch_norm_sites
                if other.how != "net_arg_scope" and not _arg_scope_argument(facts, other)]
    return networks == [site] and _built_once(facts, site)


def _arg_scope_argument(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """`with slim.arg_scope(my_arg_scope()):`: a call that sets batch norm up for the
    network built under it, and builds none itself."""
    for statement in facts.enclosing_statements.get(id(site.node), ())[-1:]:
        for item in getattr(statement, "items", ()):
            context = item.context_expr
            if isinstance(context, ast.Call) and site.node in context.args and \
                    getattr(context.func, "attr", getattr(context.func, "id", "")) == "arg_scope":
                return True
    return False


def _pipeline_only(facts: "ModuleFacts") -> bool:
    """A module that trains, feeds nothing and has nothing to switch its inputs."""
    if not facts.train_ops:
        return False
    if any(run.feed is not None for run in facts.session_runs):
        return False
    for call, scope in facts.calls:
        name = facts.qualname(call.func, scope) or ""
        last = name.rsplit(".", 1)[-1] if name else getattr(call.func, "attr", getattr(call.func, "id", ""))
        if last in _SWITCHES:
            return False
    return True


def _built_once(facts: "ModuleFacts", site: "BatchNormSite") -> bool:
    """Built by one route of calls: at the top of the script, or in a function with one
    caller (itself built once)."""
    scope = site.scope
    while scope is not None and scope.kind != "function":
        scope = scope.parent
    for _ in range(8):
        if scope is None:
            return True
        callers = facts.callers(scope)
        if len(callers) != 1:
            return False
        scope = callers[0].scope
        while scope is not None and scope.kind != "function":
            scope = scope.parent
    return False
