"""BN006 keras-frozen-bn."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from migrate_bn import tfapi
from migrate_bn.facts import UNKNOWN, ModuleFacts, Scope
from migrate_bn.findings import Finding, Related
from migrate_bn.model.spelled import may_name
from migrate_bn.rules import Options, Rule, span

_CONSEQUENCE = (
    "since TF 2.0 (tf.keras 2.x and Keras 3) a batch-norm layer with `trainable=False` runs in inference mode "
    "and its moving statistics stay frozen, but in TF1 (`tf.layers`, slim's core-layer path, tf.keras before TF 2.0) it keeps "
    "normalizing with each batch's statistics without updating the moving ones, so the same code fine-tunes "
    "differently across versions; to fine-tune with frozen statistics, call the {what} with `training=False` "
    "(and keep `trainable=False` only to freeze gamma and beta)"
)


class KerasFrozenBatchNorm(Rule):
    """
    ## What it finds
    Fine-tuning code that freezes batch normalization with `trainable`:

    - `tf.keras.layers.BatchNormalization(trainable=False)` (also `keras.layers`,
      `tf.compat.v1.keras.layers`, `from tensorflow.keras.layers import
      BatchNormalization`);
    - `layer.trainable = False` on a batch-norm layer object;
    - `layer.trainable = False` in a loop over a model's layers (`for layer in
      base_model.layers:`) when the model holds batch norm: one built in the module with
      `BatchNormalization`, or a `keras.applications` model that has it (ResNet50,
      InceptionV3, MobileNet, Xception, DenseNet, NASNet, EfficientNet, ...);
    - `base_model.trainable = False` on such a `keras.applications` model.

    ## Why it is wrong
    `trainable=False` on batch norm means three different things (see the reference,
    bn_semantics.md T10). Since TF 2.0's tf.keras, and in Keras 3, the layer then runs in
    inference mode: it normalizes with its moving statistics and never updates them. In
    TF1 `tf.layers` and slim's core-layer path it keeps normalizing each batch with the
    batch's own statistics and only stops updating the moving ones, so training and
    inference see different normalizations (slim's fused and legacy paths even keep
    updating them). Keras 2.1.3's release notes announced the inference-mode behaviour,
    but standalone Keras kept using batch statistics (keras-team/keras#9522); only TF 2.0's
    tf.keras adopted it. The same fine-tuning script therefore trains differently under TF1
    and TF2, and under TF1 a fine-tuned model falls apart at evaluation: training loss is
    good while validation loss on the same data is far off. What fine-tuning code almost
    always wants is the TF2 behaviour, stated explicitly: call the layer or the model with
    `training=False`.

    ## Example
    ```python
    base = tf.keras.applications.ResNet50(include_top=False, weights="imagenet")
    for layer in base.layers:
        layer.trainable = False
    features = base(images)
    ```

    Use instead:
    ```python
    base = tf.keras.applications.ResNet50(include_top=False, weights="imagenet")
    base.trainable = False
    features = base(images, training=False)
    ```

    ## Fix
    None: whether the statistics should adapt to the new data is the user's choice. The
    finding is a warning.

    ## Stays silent when
    the layer (or the model whose layers the loop freezes) is called with a literal
    `training=False`; the loop leaves batch norm out (`if not isinstance(layer,
    BatchNormalization): layer.trainable = False`) or picks layers by something else
    (`if 'conv' in layer.name:`); the model has no batch norm (VGG16, VGG19: a known
    `keras.applications` model without it, even when the module builds batch norm of its
    own elsewhere); `trainable` is set to `True`.
    """

    code = "BN006"
    name = "keras-frozen-bn"
    summary = "`trainable=False` on Keras batch norm: inference mode in TF2, batch statistics in TF1"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        if tfapi.TRAINABLE_KW not in facts.text:
            return  # every finding is about `trainable`
        yield from self._constructors(facts)
        yield from self._assignments(facts)

    def _constructors(self, facts: ModuleFacts) -> Iterator[Finding]:
        seen: set[int] = set()
        for site in facts.batch_norm_sites:
            if site.spec is None or site.spec.family != "keras" or site.how not in ("class", "apply"):
                continue
            constructor = site.constructor if site.how == "apply" and site.constructor is not None else site.node
            keyword = next((kw for kw in constructor.keywords if kw.arg == tfapi.TRAINABLE_KW), None)
            if keyword is None or facts.flag_value(keyword.value, site.scope, True) is not False:
                continue
            if site.how == "apply" and site.flag is not None and site.trains is False:
                continue  # called with training=False: frozen and in inference mode everywhere
            if site.how == "class" and _called_with_training_false(facts, constructor):
                continue
            if id(constructor) in seen:
                continue
            seen.add(id(constructor))
            message = f"`{facts.source(constructor)}`: " + _CONSEQUENCE.format(what="layer")
            yield Finding(self.code, message, span(facts, keyword), "warning", None,
                          (Related(span(facts, site.node), "the batch-norm layer"),))

    def _assignments(self, facts: ModuleFacts) -> Iterator[Finding]:
        if not may_name(facts, tfapi.TRAINABLE_ATTRIBUTE):
            return  # `trainable_variables`, `trainable=`: no `.trainable` to assign
        for node in facts.assignment_nodes:
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                continue
            target = node.targets[0]
            if not (isinstance(target, ast.Attribute) and target.attr == tfapi.TRAINABLE_ATTRIBUTE):
                continue
            scope = facts.assignment_scopes[id(node)]
            if facts.flag_value(node.value, scope, True) is not False:
                continue
            finding = self._assignment(facts, node, target, scope, _innermost_loop(facts, node))
            if finding is not None:
                yield finding

    def _assignment(self, facts: ModuleFacts, node: ast.Assign, target: ast.Attribute, scope: Scope,
                    loop: Optional[ast.For]) -> Optional[Finding]:
        holder = target.value
        bound: Optional[ast.expr] = None
        if isinstance(holder, ast.Name):
            bound = facts.lookup(holder.id, scope, node.lineno)
        elif isinstance(holder, ast.Attribute):
            bound = facts.lookup_attribute(holder, scope)
        if isinstance(bound, ast.Call):
            api = tfapi.BATCH_NORM_APIS.get(facts.qualname(bound.func, scope) or "")
            if api is not None and api.is_class:
                if _called_with_training_false(facts, bound, holder):
                    return None
                message = f"`{facts.source(node)}` on a batch-norm layer: " + _CONSEQUENCE.format(what="layer")
                return Finding(self.code, message, span(facts, node), "warning", None,
                               (Related(span(facts, bound), "the batch-norm layer"),))
            if _application_with_batch_norm(facts, bound, scope) and isinstance(holder, ast.Name):
                if _called_with_training_false(facts, bound, holder):
                    return None
                message = (f"`{facts.source(node)}` on `{facts.source(bound.func)}`, whose layers include batch "
                           f"norm: " + _CONSEQUENCE.format(what="model"))
                return Finding(self.code, message, span(facts, node), "warning", None,
                               (Related(span(facts, bound), "the model with batch norm"),))
            return None
        if bound is not UNKNOWN or not isinstance(holder, ast.Name):
            return None
        if loop is None or not (isinstance(loop.target, ast.Name) and loop.target.id == holder.id):
            return None
        model = _layers_owner(loop.iter)
        guard = _guard(facts, node, loop, scope)
        if guard == "excludes":
            return None
        model_call = None
        if isinstance(model, ast.Name):
            value = facts.lookup(model.id, scope, loop.lineno)
            model_call = value if isinstance(value, ast.Call) else None
        elif isinstance(model, ast.Attribute):
            value = facts.lookup_attribute(model, scope)
            model_call = value if isinstance(value, ast.Call) else None
        if model is None:
            return None
        if guard != "selects" and model_call is not None and _is_application(facts, model_call, scope) and \
                not _application_with_batch_norm(facts, model_call, scope):
            return None  # a keras.applications model without batch norm (VGG16/19): other layers do not count
        has_batch_norm = guard == "selects" or (
            model_call is not None and _application_with_batch_norm(facts, model_call, scope)) or any(
            site.spec is not None and site.spec.is_class for site in facts.batch_norm_sites)
        if not has_batch_norm:
            return None
        if _called_with_training_false(facts, model_call, model):
            return None
        owner = facts.source(model)
        which = f"on the batch-norm layers of `{owner}`" if guard == "selects" else \
            f"for every layer of `{owner}`, batch norm included"
        message = f"`{facts.source(node)}` {which}: " + _CONSEQUENCE.format(what="model")
        related = (Related(span(facts, loop), "the loop over the model's layers"),)
        return Finding(self.code, message, span(facts, node), "warning", None, related)


def _is_application(facts: ModuleFacts, call: ast.Call, scope: Scope) -> bool:
    return (facts.qualname(call.func, scope) or "").startswith(tfapi.KERAS_APPLICATIONS_PREFIX)


def _application_with_batch_norm(facts: ModuleFacts, call: ast.Call, scope: Scope) -> bool:
    name = facts.qualname(call.func, scope) or ""
    return name.startswith(tfapi.KERAS_APPLICATIONS_PREFIX) and \
        name.rsplit(".", 1)[-1] in tfapi.KERAS_APPLICATIONS_WITH_BATCH_NORM


def _layers_owner(iterator: ast.expr) -> Optional[ast.expr]:
    """`model` in `for layer in model.layers`, `model.layers[:-4]`, `model.layers[1:]`."""
    if isinstance(iterator, ast.Subscript):
        iterator = iterator.value
    if isinstance(iterator, ast.Attribute) and iterator.attr == tfapi.LAYERS_ATTRIBUTE:
        return iterator.value
    return None


def _guard(facts: ModuleFacts, node: ast.stmt, loop: ast.For, scope: Scope) -> Optional[str]:
    """How `if`s between the loop and the assignment treat batch norm: "selects" it
    (`if isinstance(layer, BatchNormalization)`), "excludes" it (`if not isinstance(...)`,
    `if 'bn' not in layer.name`, or a test that chooses layers by anything else), or None
    when there is no test."""
    verdict = None
    for test, negated in _tests_around(loop, node):
        mentions = _mentions_batch_norm(facts, test, scope)
        if mentions is None:
            return "excludes"  # chosen by something else (`'conv' in layer.name`): maybe not batch norm
        positive = mentions != negated
        if not positive:
            return "excludes"
        verdict = "selects"
    return verdict


def _tests_around(loop: ast.For, node: ast.stmt) -> list[tuple[ast.expr, bool]]:
    """The `if` tests on the way from the loop to the statement, each with whether the
    statement is in its else branch."""
    found: list[tuple[ast.expr, bool]] = []

    def visit(body: list[ast.stmt]) -> bool:
        for statement in body:
            if statement is node:
                return True
            if isinstance(statement, ast.If):
                if visit(statement.body):
                    found.append((statement.test, False))
                    return True
                if visit(statement.orelse):
                    found.append((statement.test, True))
                    return True
            elif isinstance(statement, (ast.With, ast.AsyncWith, ast.Try)):
                if visit(statement.body):
                    return True
        return False

    visit(loop.body)
    return found


def _mentions_batch_norm(facts: ModuleFacts, test: ast.expr, scope: Scope) -> Optional[bool]:
    """True when the test is true for batch norm, False when it is true for the other
    layers, None when it says nothing about batch norm."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _mentions_batch_norm(facts, test.operand, scope)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        answers = [a for a in (_mentions_batch_norm(facts, v, scope) for v in test.values) if a is not None]
        return answers[0] if answers else None
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == tfapi.ISINSTANCE \
            and len(test.args) == 2:
        classes = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
        for cls in classes:
            api = tfapi.BATCH_NORM_APIS.get(facts.qualname(cls, scope) or "")
            if api is not None or (isinstance(cls, (ast.Name, ast.Attribute)) and _names_batch_norm(cls)):
                return True
        return None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and any(
            _names_batch_norm(side) for side in (test.left, *test.comparators)):
        return not isinstance(test.ops[0], (ast.NotIn, ast.NotEq, ast.IsNot))
    if any(_names_batch_norm(node) for node in ast.walk(test)):
        return True
    return None


def _names_batch_norm(node: ast.AST) -> bool:
    """A string such as 'bn', 'batch_norm' or 'BatchNormalization' (a layer's name or
    class name), or a name that spells batch norm."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.lower()
        return any(word in text for word in tfapi.BATCH_NORM_NAME_WORDS)
    if isinstance(node, ast.Name):
        return tfapi.BATCH_NORM_CLASS_WORD in node.id.lower()
    if isinstance(node, ast.Attribute):
        return tfapi.BATCH_NORM_CLASS_WORD in node.attr.lower()
    return False


def _called_with_training_false(facts: ModuleFacts, call: Optional[ast.Call], holder: Optional[ast.expr] = None
                                ) -> bool:
    """Is the layer or model (built by `call`, or bound to `holder`) called with a literal
    `training=False` somewhere in the module?"""
    names = set()
    if holder is not None:
        names.add(facts.source(holder, 200))
    if call is not None:
        for scope in facts.scopes:
            names.update(name for name, bindings in scope.assignments.items()
                         if any(value is call for _, value in bindings))
            names.update(f"self.{name}" for name, bindings in scope.attributes.items()
                         if any(value is call for _, value in bindings))
    for node in ast.walk(facts.tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if not (func is call or isinstance(func, (ast.Name, ast.Attribute)) and facts.source(func, 200) in names):
            continue
        training = next((kw.value for kw in node.keywords if kw.arg == tfapi.KERAS_TRAINING_KW), None)
        if isinstance(training, ast.Constant) and training.value is False:
            return True
    return False


def _innermost_loop(facts: ModuleFacts, node: ast.Assign) -> Optional[ast.For]:
    """The `for` loop whose body holds the assignment, within its own function."""
    for statement in facts.ancestors(node):
        if statement is node:
            continue
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return None
        if isinstance(statement, ast.For):
            return statement
    return None
