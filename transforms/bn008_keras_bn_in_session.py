"""BN008 keras-bn-in-session."""

from __future__ import annotations

import ast
import os
from typing import Iterator, Optional

from migrate_bn import tfapi
from migrate_bn.facts import UNKNOWN, BatchNormSite, ModuleFacts, TrainOp, Scope
from migrate_bn.findings import Finding, Fix, Related, Span, WrapInWith
from migrate_bn.model.keras_project import project_picture, project_root
from migrate_bn.model.spelled import may_name, may_name_with
from migrate_bn.model.structure import frame_reason, site_frame
from migrate_bn.rules import Options, Rule, span, tensorflow_v1


class KerasBatchNormInSession(Rule):
    """
    ## What it finds
    A Keras `BatchNormalization` layer (`tf.keras.layers`, `keras.layers`, directly or
    inside a `Sequential` / functional `Model`) in a TF1 graph trained by a hand-made train
    op (`optimizer.minimize` / `apply_gradients` run in a `tf.Session`) that does not
    depend on the layer's or model's `updates`.

    Across modules: a trainer module with no batch norm of its own whose train op runs
    `UPDATE_OPS` (for the batch-norm updates), in a project whose batch norm is all
    Keras, made in helper modules and called with a training flag, where nothing runs
    `.updates` or trains with Keras. The project's `tf` may be a name of its own
    (`from .version import tf`, where `version.py` binds `tf = tensorflow.compat.v1`).

    ## Why it is wrong
    Keras layers keep their moving-average update ops in `layer.updates` (and
    `model.updates`); unlike `tf.layers` and slim they never add them to
    `tf.GraphKeys.UPDATE_OPS`. Outside `model.fit` nothing runs them: the moving mean stays
    0 and the variance 1, and so does every evaluation that uses them. Wrapping the train
    op in `tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))`, the usual
    TF1 advice, does not help: the collection is empty.

    ## Example
    ```python
    bn = tf.keras.layers.BatchNormalization()
    net = bn(net, training=is_training)
    ...
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # []
        train_op = optimizer.minimize(loss)
    ```

    Use instead:
    ```python
    with tf.control_dependencies(bn.updates):
        train_op = optimizer.minimize(loss)
    ```

    ## Fix (safe)
    Wraps the train op in `with tf.control_dependencies(<model>.updates):`, naming the
    Keras model (or, without one, the batch-norm layer objects) that the module binds to a
    name the train op can see. Like BN001's fix it only adds a dependency on ops the graph
    already has. Anonymous layers (`BatchNormalization()(x)` outside any named model) get
    no automatic fix: give the layer or its model a name and use its `updates`. Neither
    does a layer applied inside a `tf.map_fn` / `tf.while_loop` / `tf.scan` body or a
    `tf.cond` / `tf.case` branch: its updates live in that frame, and a train op that
    depends on them fails at run time or does not run when the other branch is taken
    (the message says so). Nor the cross-module form: which Keras objects the trainer's
    graph holds is decided in other modules.

    ## Stays silent when
    the train op's dependencies mention a Keras `updates` (or `get_updates_for(...)`),
    directly, through a name, or in a `control_dependencies` of the same function; the
    code is not TF1 graph code (no `tf.Session`, placeholder, `disable_v2_behavior` or
    `tf.train` optimizer: `model.fit` runs the updates itself); the Keras batch norm never
    updates (a literal `training=False`); the train op is built by
    `slim.learning.create_train_op` or a similar builder; or the module has no Keras
    batch norm (across modules: the project also has `tf.layers`, slim or hand-written
    batch norm feeding UPDATE_OPS, mentions `.updates`, or trains with Keras).
    """

    code = "BN008"
    name = "keras-bn-in-session"
    summary = "Keras batch norm in a TF1 graph whose train op ignores the layer's updates"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        sites = [site for site in facts.batch_norm_sites
                 if site.spec is not None and site.spec.family == "keras" and site.trains is not False]
        if not sites and not facts.batch_norm_sites and facts.train_ops and _graph_mode(facts):
            yield from self._check_project(facts)
            return
        if not sites or not _graph_mode(facts):
            return
        for op in facts.train_ops:
            if op.kind == "builder" or _uses_keras_updates(facts, op):
                continue
            first = sites[0]
            more = f" and {len(sites) - 1} more" if len(sites) > 1 else ""
            message = (f"`{facts.source(op.node)}` does not run the update ops of the Keras "
                       f"{first.api} ({facts.line_name(first.node.lineno)}{more}): Keras keeps them in `.updates`, "
                       "not in UPDATE_OPS, so the moving mean/variance never update")
            related = tuple(Related(span(facts, site.node), f"Keras batch norm: {site.api}") for site in sites)
            framed = [(site, frame) for site in sites if (frame := site_frame(facts, site)) is not None]
            if framed:
                # Its updates live in a loop's or a branch's frame: a wrap would break the step.
                message += "; no automatic fix: " + frame_reason(*framed[0])
            yield Finding(self.code, message, span(facts, op.node), "error",
                          None if framed else self._fix(facts, op, sites), related)

    def _check_project(self, facts: ModuleFacts) -> Iterator[Finding]:
        """A trainer module without batch norm of its own whose train ops run UPDATE_OPS for
        the batch-norm updates, in a project whose batch norm is all Keras (made in helper
        modules, trained with a flag) and where nothing runs `.updates`: the collection is
        empty, and no train op of the project runs the updates."""
        wired = [op for op in facts.train_ops if op.kind != "builder" and not facts.in_test(op.scope)
                 and facts.train_op_runs_update_ops(op)]
        if not wired:
            return
        picture = project_picture(facts)
        if not picture.keras_updates_never_run:
            return
        root = project_root(facts.resolver.path) if facts.resolver is not None else None
        where = ", ".join(f"{os.path.relpath(path, root)}:{line}" if root is not None else facts.line_name(line)
                          for path, line in zip(picture.keras_batch_norm[:3], picture.keras_lines))
        more = f" and {len(picture.keras_batch_norm) - 3} more files" if len(picture.keras_batch_norm) > 3 else ""
        for op in wired:
            message = (f"`{facts.source(op.node)}` runs UPDATE_OPS for the batch-norm updates, but the project's "
                       f"batch norm is Keras `BatchNormalization` ({where}{more}), which keeps its updates in "
                       "`.updates`, never in UPDATE_OPS, and nothing in the project runs them: the moving "
                       "mean/variance never update; no automatic fix: make the train op depend on the model's "
                       "or layers' `updates` (or use `tf.layers` batch norm)")
            related = tuple(Related(Span(line, 1, line, 1), "Keras batch norm", path if root is not None else None)
                            for path, line in zip(picture.keras_batch_norm, picture.keras_lines))
            yield Finding(self.code, message, span(facts, op.node), "error", None, related)

    def _fix(self, facts: ModuleFacts, op: TrainOp, sites: list[BatchNormSite]) -> Optional[Fix]:
        if not op.wrappable:
            return None
        handles = _handles(facts, op.scope, sites)
        if not handles:
            return None
        tf, _, imports = tensorflow_v1(facts, op.stmt)
        updates = " + ".join(f"{handle}.updates" for handle in handles)
        header = f"{tf}.control_dependencies({updates})"
        return Fix("safe", f"Run the Keras updates first: wrap the train op in `with {header}:`",
                   (*imports, WrapInWith(op.stmt.lineno, header)))


_GRAPH_MODE_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in tfapi.GRAPH_MODE_CALLS)


def _graph_mode(facts: ModuleFacts) -> bool:
    """TF1 graph code: sessions, placeholders, or tf.train optimizers (not model.fit)."""
    if facts.session_runs:
        return True
    if not may_name(facts, *_GRAPH_MODE_NAMES) and not may_name_with(facts, tfapi.OPTIMIZER_SUFFIX):
        return False  # most modules: no walk of every call
    for node in ast.walk(facts.tree):
        if isinstance(node, ast.Call):
            name = facts.qualname(node.func, facts.module) or ""
            if name in tfapi.GRAPH_MODE_CALLS or (name.startswith("tensorflow.train.") and
                                                  name.endswith(tfapi.OPTIMIZER_SUFFIX)):
                return True
    return False


def _uses_keras_updates(facts: ModuleFacts, op: TrainOp) -> bool:
    expressions = list(op.deps)
    expressions += [arg for use in facts.dependency_uses if use.scope is op.scope for arg in use.args]
    return any(_mentions_updates(facts, expr, op.scope, 0) for expr in expressions)


def _mentions_updates(facts: ModuleFacts, node: ast.expr, scope: Scope, depth: int) -> bool:
    if depth > 3:
        return False
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and child.attr in tfapi.KERAS_UPDATE_ATTRIBUTES:
            return True
        if isinstance(child, ast.Name):
            value = facts.lookup(child.id, scope)
            if value is not None and value is not UNKNOWN and _mentions_updates(facts, value, scope, depth + 1):
                return True
    return False


def _handles(facts: ModuleFacts, scope: Scope, sites: list[BatchNormSite]) -> list[str]:
    """Names the train op can see for the Keras objects holding the updates: the models,
    else the batch-norm layers themselves."""
    models, layers = [], []
    for name, value in _visible_bindings(facts, scope):
        if not isinstance(value, ast.Call):
            continue
        called = facts.qualname(value.func, scope) or ""
        if called in tfapi.KERAS_MODEL_CLASSES:
            models.append(name)
        elif any(site.constructor is value or site.node is value for site in sites):
            layers.append(name)
    return models or layers


def _visible_bindings(facts: ModuleFacts, scope: Scope):
    seen = set()
    current: Optional[Scope] = scope
    while current is not None:
        if current.kind != "class":
            for name, bindings in current.assignments.items():
                if name not in seen and bindings:
                    seen.add(name)
                    yield name, bindings[-1][1]
        current = current.parent
