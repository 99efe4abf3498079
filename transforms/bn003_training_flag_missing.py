"""BN003 training-flag-missing."""

from __future__ import annotations

import ast
from typing import Iterator, Optional, Union

from migrate_bn import tfapi
from migrate_bn.facts import UNKNOWN, BatchNormSite, ModuleFacts
from migrate_bn.findings import AddDictEntry, AddKeyword, Finding, Fix, Related
from migrate_bn.flags import (Flag, NewFlag, NoNewFlag, called_under_arg_scope, constant_flag, flag_in_scope,
                              graph_is_evaluated, inherits_normalizer, new_training_flag)
from migrate_bn.model.keras_project import keras_phase_unset
from migrate_bn.model.program import evaluating_module, training_module
from migrate_bn.rules import Options, Rule, span


class TrainingFlagMissing(Rule):
    """
    ## What it finds
    A batch-norm layer called without its training flag where the flag matters:

    - `tf.layers.batch_normalization` / `tf.layers.BatchNormalization` (also as a
      `normalizer_fn`) without `training=`, in a module that trains or where a training
      flag is at hand, or in a helper that a training program of the project runs (a
      script or notebook that builds a train op and reaches the helper's function or
      class through imports: `main.py` -> `models.py` -> `from layers import *`);
    - `tf.contrib.layers.batch_norm` / `slim.batch_norm` (directly, as a `normalizer_fn`,
      or in a slim net such as `inception_v3`) without `is_training` (nor an `arg_scope`
      or `normalizer_params` that sets it), in a graph that is also evaluated or where a
      training flag is at hand;
    - a Keras `BatchNormalization` applied without `training=` in a project that trains
      with TF1 train ops (`minimize` in a session, an Estimator `model_fn`) and never
      sets the Keras learning phase: no `fit` / `train_on_batch`, no
      `set_learning_phase`, no fed `learning_phase()`, no Keras model whose call could
      pass `training` on. The layers may be made in a helper module, through
      `functools.partial` factories, in a model function the `model_fn` looks up by
      name: the question is asked of the whole project (its package, and the files that
      import it).

    ## Why it is wrong
    The defaults are opposite, and neither is what a model that trains and evaluates
    needs. `tf.layers` defaults to `training=False`: the layer normalizes with its moving
    statistics (0 and 1 at first) and never updates them, so training works on
    un-normalized activations and evaluation later uses statistics that never moved.
    contrib/slim default to `is_training=True`: evaluation normalizes every batch with its
    own statistics, so a validation prediction depends on the other examples in its batch
    and the moving averages are never used. Keras follows its learning phase, which is
    `False` unless `fit` or the program sets it: in TF1 graph code the layer behaves like
    the `tf.layers` default for the whole training run (a checkpoint saved after
    training holds moving means of 0 and variances of 1).

    ## Example
    ```python
    def model(images, is_training):
        net = tf.layers.conv2d(images, 32, 3)
        net = tf.layers.batch_normalization(net)
    ```

    Use instead:
    ```python
    def model(images, is_training):
        net = tf.layers.conv2d(images, 32, 3)
        net = tf.layers.batch_normalization(net, training=is_training)
    ```

    ## Fix
    Safe when a training flag is in scope: it is passed. That is a bool `tf.placeholder`
    or `tf.placeholder_with_default` named like a training flag (`is_training`,
    `train_phase`, ...), a function parameter named so, an attribute such as
    `self.is_training`, or in an Estimator `model_fn` `mode == tf.estimator.ModeKeys.TRAIN`.
    The flag is added as `training=` / `is_training=`, or into the layer's
    `normalizer_params` dict. Passing the flag the program already feeds for training
    and evaluation is what the code meant.

    No fix when the flag is already passed by position to another parameter
    (`tf.layers.batch_normalization(net, is_training)` binds it to `axis`): keeping that
    argument and adding `training=` would leave the layer normalizing along the flag; which
    argument the author meant is for them to say.

    Without a flag in scope the fix is unsafe (`--unsafe-fixes`), because it changes the
    program's structure, as BN004's does: it creates
    `is_training = tf.placeholder_with_default(False, shape=(), name="is_training")` just
    before the first such layer, passes it to each, and adds `is_training: True` to the
    `feed_dict` of every `sess.run` that runs the train op. Evaluation runs need no
    change: the default `False` makes them use the moving statistics. The message says
    why when it cannot be offered: no `sess.run` of the train op to feed (an evaluation
    script: pass `is_training=False` there by hand), a training run outside the code
    that builds the layer, a layer built in a loop or a branch, or a constant `True`
    flag in the module, whose BN004 fix creates the flag first (a second run then passes
    it).

    The Keras form gets no automatic fix: passing `training=` alone would make the layer
    normalize with batch statistics while its updates, which Keras keeps in
    `layer.updates` and never in UPDATE_OPS, still never run (see BN008).

    ## Stays silent when
    the flag is given at the call, by an enclosing `arg_scope` or in `normalizer_params`;
    a `tf.layers` batch norm is in a module that builds no train op, has no training
    flag at hand and is reached from no training program of the project (inference-only
    code: `False` is what it wants; a module checked alone, from stdin, knows no program); a contrib/slim batch
    norm is in a graph that is never evaluated and has no flag at hand (training-only
    code: `True` is what it wants; runs in the training loop that compute losses,
    summaries or samples on training data are monitoring, not evaluation, and a run
    evaluates a batch norm only when its fetches are built from it); a contrib/slim batch norm is in a function called
    under an `arg_scope`, or reached only from other modules (whose `arg_scope` may set
    the flag), unless the same function passes a training flag to another call by hand;
    a Keras layer is applied inside a class (a layer's or model's `call` passes
    `training` on) or in a project that uses Keras to train or sets the learning phase
    anywhere (see BN006, BN007 and BN008); a `tf.layers.BatchNormalization`
    is only constructed (it is reported where it is applied); or the layer gets batch norm
    from an enclosing `arg_scope(normalizer_fn=...)`, which is reported at the scope.
    """

    code = "BN003"
    name = "training-flag-missing"
    summary = "batch norm without its training flag (tf.layers: never updates; slim: batch stats at eval)"

    def check(self, facts: ModuleFacts, options: Options) -> Iterator[Finding]:
        missing = []  # (site, api, flag in scope or None, what goes wrong)
        keras_sites = []  # Keras batch norm that follows a learning phase nothing sets
        for site in facts.batch_norm_sites:
            if site.flag is not None or site.how in ("class", "net_arg_scope", "collection_write"):
                continue
            if inherits_normalizer(site):
                continue  # a layer under arg_scope(normalizer_fn=...): reported once, at the scope
            api = _api_of(site)
            if api is not None and api.family == "keras":
                if keras_phase_unset(facts, site):
                    keras_sites.append(site)
                continue
            if api is None:
                continue
            evaluator = None
            if api.family == "contrib" and site.scope.kind == "function":
                if called_under_arg_scope(facts, site.scope):
                    continue  # a caller's arg_scope may set it
                if facts.called_only_from_outside(site.scope) and not _sibling_passes_flag(facts, site):
                    # A caller's arg_scope in a module that imports this one may set it;
                    # unless another batch norm in the same function is given the flag, or
                    # the project's programs that run it open no arg_scope and one evaluates.
                    evaluator = evaluating_module(facts, site.scope)
                    if evaluator is None:
                        continue
            flag = flag_in_scope(facts, site.scope, site.node.lineno)
            if api.default_training is False:
                trainer = None
                if not facts.train_ops and flag is None:
                    trainer = training_module(facts, site.scope)
                    if trainer is None:
                        continue  # an inference-only module: False is what it wants
                consequence = ("runs in inference mode (`training=False` is the default): it normalizes "
                               "with the moving statistics and never updates them")
                if trainer is not None:
                    consequence += f", while `{trainer}` trains it"
            else:
                if not graph_is_evaluated(facts, site) and flag is None and evaluator is None:
                    continue
                consequence = ("always normalizes with batch statistics (`is_training=True` is the "
                               "default), so evaluation results depend on the other examples in the batch")
                if evaluator is not None:
                    consequence += f" (`{evaluator}` evaluates it)"
            missing.append((site, api, flag, consequence))
        new_flags = _new_flags(facts, [site for site, _, flag, _ in missing if flag is None])
        for site, api, flag, consequence in missing:
            message = f"`{site.api}` without `{api.training_kw}` {consequence}"
            if flag is not None:
                message += f"; pass {flag.origin}"
                fix = _fix(facts, site, api, flag)
            else:
                fix, message = self._new_flag_fix(facts, site, api, new_flags[id(site.scope)], message)
            related = (Related(span(facts, site.node), "the batch-norm layer"),)
            yield Finding(self.code, message, span(facts, site.node), "error", fix, related)
        for site in keras_sites:
            message = (f"`{site.api}` called without `training` follows the Keras learning phase, which "
                       "nothing in the project sets (no `fit`, no `set_learning_phase`, no fed "
                       "`learning_phase()`) while it trains with TF1 train ops: the layer runs in inference "
                       "mode for the whole training run, normalizing with moving statistics that never "
                       "update; no automatic fix: pass `training=` and make the train op depend on the "
                       "layer's `updates` (Keras keeps them out of UPDATE_OPS)")
            related = (Related(span(facts, site.node), "the Keras batch-norm layer"),)
            yield Finding(self.code, message, span(facts, site.node), "error", None, related)

    @staticmethod
    def _new_flag_fix(facts: ModuleFacts, site: BatchNormSite, api: tfapi.BatchNormApi,
                      plan: Union[NewFlag, NoNewFlag], message: str) -> tuple[Optional[Fix], str]:
        """BN004's unsafe fix for a layer with no flag in scope: create one, pass it here."""
        if isinstance(plan, NoNewFlag):
            return None, f"{message}; no training flag is in scope and no automatic fix: {plan.reason}"
        flag = Flag(plan.name, f"a new flag `{plan.name}`", "placeholder")
        passed = _fix(facts, site, api, flag)
        if passed is None:
            return None, f"{message}; no automatic fix: its `normalizer_params` dict is built elsewhere"
        return Fix("unsafe", f"Create the flag `{plan.name}` (a placeholder_with_default(False)), pass it "
                             f"here and feed `{plan.name}: True` in every training run",
                   plan.edits + passed.edits), message + f"; no training flag is in scope: `--unsafe-fixes` creates `{plan.name}`"


def _new_flags(facts: ModuleFacts, sites: list[BatchNormSite]) -> dict[int, Union[NewFlag, NoNewFlag]]:
    """Per scope, the one new flag its layers without a flag share (or why there is none).
    While a constant `True` flag is reported in the module, BN004's fix creates the flag
    first, and the next round passes it here: two fixes never create two flags."""
    by_scope: dict[int, list[BatchNormSite]] = {}
    for site in sites:
        by_scope.setdefault(id(site.scope), []).append(site)
    constant = any((origin := constant_flag(facts, other)) is not None and origin.value
                   for other in facts.batch_norm_sites)
    plans: dict[int, Union[NewFlag, NoNewFlag]] = {}
    for key, group in by_scope.items():
        plans[key] = NoNewFlag("after-bn004", "BN004's fix creates the flag first (`--unsafe-fixes`), "
                                              "and a second run passes it here") if constant else \
            new_training_flag(facts, group[0].scope, [site.stmt for site in group])
    return plans


def _api_of(site: BatchNormSite) -> Optional[tfapi.BatchNormApi]:
    if site.how == "net":
        return tfapi.BATCH_NORM_APIS["tensorflow.contrib.slim.batch_norm"]
    return site.spec


def _fix(facts: ModuleFacts, site: BatchNormSite, api: tfapi.BatchNormApi, flag: Flag) -> Optional[Fix]:
    safe = "safe"
    message = f"Pass {flag.origin}: `{api.training_kw}={flag.code}`"
    if site.how == "normalizer_fn":
        params = next((kw.value for kw in site.node.keywords if kw.arg == tfapi.NORMALIZER_PARAMS_KW), None)
        if params is None:
            where = span(facts, site.node)
            return Fix(safe, message, (AddKeyword(where.line, where.column - 1, where.end_line, where.end_column - 1,
                                                  tfapi.NORMALIZER_PARAMS_KW, f"{{{api.training_kw!r}: {flag.code}}}"),))
        if not isinstance(params, ast.Dict):
            return None  # a dict built elsewhere (maybe shared): edit it by hand
        where = span(facts, params)
        quote = facts.quote_of(params)
        return Fix(safe, message, (AddDictEntry(where.line, where.column - 1, where.end_line, where.end_column - 1,
                                                f"{quote}{api.training_kw}{quote}", flag.code),))
    keyword = tfapi.NET_TRAINING_KW if site.how == "net" else api.training_kw
    if any(facts.segment(argument) == flag.code for argument in site.node.args[1:]):
        # The flag is already passed, by position, to another parameter (`axis`): adding
        # the keyword would leave that in place. Which one the author meant is by hand.
        return None
    where = span(facts, site.node)
    return Fix(safe, f"Pass {flag.origin}: `{keyword}={flag.code}`",
               (AddKeyword(where.line, where.column - 1, where.end_line, where.end_column - 1, keyword, flag.code),))


def _sibling_passes_flag(facts: ModuleFacts, site: BatchNormSite) -> bool:
    """Does the same function hand a training flag to something else by hand (another
    batch norm, `slim.dropout(..., is_training=is_training)`)? Then it threads the flag
    itself, and a batch norm left without it is an oversight."""
    for call, scope in facts.calls:
        if scope is site.scope and call is not site.node:
            for keyword in call.keywords:
                if keyword.arg in tfapi.TRAINING_KEYWORDS and keyword.value is not UNKNOWN and \
                        not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                    return True
    return False
