"""BN007 learning-phase."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn import tfapi
from migrate_bn.facts import ModuleFacts, Scope
from migrate_bn.findings import Finding
from migrate_bn.rules import Options, Rule, span


class LearningPhase(Rule):
    """
    ## What it finds
    Code that switches batch norm (and dropout) between training and inference through
    Keras' global learning phase:

    - `tf.keras.backend.set_learning_phase(...)` / `K.set_learning_phase(...)` (also
      `keras.backend`, `tf.compat.v1.keras.backend`) and `with
      K.learning_phase_scope(...)`;
    - `K.learning_phase()` fed a value: as a key of a `feed_dict` (or of any dict, or
      `feed[K.learning_phase()] = 1`), or as an input of `K.function([...,
      K.learning_phase()], ...)`.

    ## Why it is wrong
    The global learning phase is deprecated since TF 2.x's tf.keras (it warns "will be
    removed after 2020-10-11 ... pass a True/False value to the `training` argument") and
    does not exist in Keras 3, which is `tf.keras` from TF 2.16 on: such code raises
    `AttributeError` there. It was always fragile too: it is global state, it must be set
    before the model is built to take effect on layers that read it at build time, and
    `set_learning_phase(1)` before `compile()` makes every later `evaluate()` and
    `predict()` normalize with batch statistics. A batch-norm layer whose mode comes from
    it cannot be told apart from one in the other mode by reading the code.

    ## Example
    ```python
    K.set_learning_phase(1)
    model = build_model()
    ...
    sess.run(train_op, feed_dict={x: batch, K.learning_phase(): 1})
    ```

    Use instead:
    ```python
    model = build_model()
    logits = model(x, training=True)        # the training graph
    eval_logits = model(x, training=False)  # the evaluation graph
    ```

    ## Fix
    None here: passing `training=` to every call of the model or its layers is part of the
    TF2 upgrade (`migrate-bn upgrade`). `fit()`, `evaluate()` and `predict()` set the mode
    themselves.

    ## Stays silent when
    `K.learning_phase()` is only read (in a custom layer, in `K.in_train_phase`), not fed.
    """

    code = "BN007"
    name = "learning-phase"
    summary = "Keras global learning phase: deprecated in tf.keras 2.x, absent in Keras 3"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        if tfapi.LEARNING_PHASE_WORD not in facts.text:
            return
        parents: Optional[dict[int, ast.AST]] = None
        for node, scope in facts.calls:
            name = facts.qualname(node.func, scope)
            if name in tfapi.SET_LEARNING_PHASE_FUNCTIONS:
                call = facts.source(node)
                replacement = "`training=True` / `training=False`" if not node.args else \
                    f"`training={_mode(node.args[0])}`"
                what = "a `with` around" if name in tfapi.LEARNING_PHASE_SCOPES else "a global switch for"
                yield Finding(self.code, (
                    f"`{call}` is {what} the learning phase, deprecated in tf.keras 2.x and absent in Keras 3 "
                    f"(tf.keras since TF 2.16): pass {replacement} explicitly when calling the model or its layers "
                    f"(`model(x, training=...)`); `fit`/`evaluate`/`predict` set it themselves"),
                    span(facts, node), "warning")
            elif name in tfapi.LEARNING_PHASE_FUNCTIONS:
                if parents is None:
                    parents = _parents(facts.tree)
                if _is_fed(facts, node, scope, parents):
                    yield Finding(self.code, (
                        f"`{facts.source(node)}` is fed as a placeholder for the learning phase, which is deprecated "
                        f"in tf.keras 2.x and absent in Keras 3 (tf.keras since TF 2.16): build the training and "
                        f"evaluation outputs with `model(x, training=True)` and `model(x, training=False)` instead"),
                        span(facts, node), "warning")


def _mode(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and node.value in (0, 1) and not isinstance(node.value, str):
        return "True" if node.value else "False"
    return "..."


def _is_fed(facts: ModuleFacts, node: ast.Call, scope: Scope, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(node))
    if isinstance(parent, ast.Dict) and any(key is node for key in parent.keys):
        return True  # {x: batch, K.learning_phase(): 1}
    if isinstance(parent, ast.Subscript) and parent.slice is node and isinstance(parent.ctx, ast.Store):
        return True  # feed[K.learning_phase()] = 1
    if isinstance(parent, (ast.List, ast.Tuple)):
        holder = parents.get(id(parent))
        if isinstance(holder, ast.Call) and holder.args and holder.args[0] is parent and \
                facts.qualname(holder.func, scope) in tfapi.KERAS_BACKEND_FUNCTIONS:
            return True  # K.function([model.input, K.learning_phase()], [...])
    return False



def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
