"""Batch norm that trains as TF1's fused kernel trained it, for the Keras 3 programs
`upgrade` writes (docs/tf2-mapping.md, "The documented difference").

Where TF1 took its fused kernel, the moving variance accumulated the n/(n-1)-corrected
batch variance (n: the values per channel in a batch); Keras 3 accumulates the biased
one. Both normalize with the biased variance. So the converted program gets, once per
module, a small subclass of Keras's `BatchNormalization` that lets Keras do everything
and then adds the missing part of the update, `variance * (1 - momentum) / (n - 1)`, for
inputs of the ranks TF1 fused. With `--stock-keras-bn` the stock layer is kept instead
and each such layer is reported with the difference.

contrib/slim's `zero_debias_moving_mean=True` (TF1's `assign_moving_average(...,
zero_debias=True)` on the moving mean) has no Keras counterpart: the class written for a
module that needs it also keeps TF1's two extra variables, the average of the batch
means started at 0 (`moving_mean_biased`, TF1's `moving_mean/biased`) and the number of
updates (`moving_mean_local_step`, TF1's `moving_mean/local_step`), and sets the moving
mean to their quotient by 1 - decay**steps, as TF1 did; inference reads the moving mean
as it did. Batch renormalization needs nothing of ours: TF1 never fused it, and Keras 3's
`renorm` (3.14 and later) computes TF1's r/d correction and keeps TF1's variables
(`moving_stddev`, `renorm_mean`, `renorm_stddev`).

Which ranks TF1 fused is API knowledge: a table here, read by the recogniser.
"""

from __future__ import annotations

import ast
from typing import Optional

# Input ranks on which each TF1 family took the fused kernel when `fused` was left to
# its default (None) or True (bn_semantics.md 1.1 and 1.2): tf.layers fuses 4-D and
# 5-D input; slim fuses 4-D and also 2-D (reshaped to [-1, 1, 1, C]), never 3-D, and
# 5-D only through its core-layer path (below).
FUSED_RANKS = {"tf.layers": (4, 5), "contrib": (2, 4)}
# (slim hands input to the tf.layers class, which fuses 4-D and 5-D, only with
# `updates_collections` left at UPDATE_OPS and no debiasing or batch weights: 5-D input
# is fused there and nowhere else; `_core_layer_path`.)

# slim falls back to an unfused path with these (its fused kernel cannot take them).
UNFUSED_WITH = ("renorm", "batch_weights", "adjustment", "virtual_batch_size")

CLASS_NAME = "FusedBatchNormalization"

_CLASS = '''\
class {name}({tf}.keras.layers.BatchNormalization):
    \"\"\"BatchNormalization as TF1{title} trained it (written by `migrate-bn upgrade`).

    On input of a rank in `fused_ranks` the moving variance accumulates the batch
    variance times n/(n-1) (n: values per channel in the batch), as TF1's fused kernel
    did; Keras accumulates the batch variance itself.{debias_doc}{always_doc} Outputs are Keras's own.
    \"\"\"

    def __init__(self, fused_ranks=(4, 5){debias_parameter}{always_parameter}, **kwargs):
        super().__init__(**kwargs)
        self.fused_ranks = tuple(fused_ranks){debias_init}{always_init}
{debias_build}
    def call(self, inputs, training=None, mask=None):
{always_call}        outputs = super().call(inputs, training=training, mask=mask)
        rank = len(inputs.shape)
{update}
        return outputs

    def get_config(self):
        return {{**super().get_config(), "fused_ranks": list(self.fused_ranks){debias_config}{always_config}}}
'''

# The update of the class without zero-debiasing (its text is what modules converted
# before zero-debiasing was supported hold: a second run must leave them as they are).
_FUSED_UPDATE = '''\
        if training and self.trainable and not self.renorm and rank in self.fused_ranks:
            axes = [axis for axis in range(rank) if axis != self.axis % rank]
            _, variance = {tf}.nn.moments({tf}.cast(inputs, {tf}.float32), axes)
            n = {tf}.cast({tf}.size(inputs) // {tf}.size(variance), {tf}.float32)
            self.moving_variance.assign_add(variance * (1.0 - self.momentum) / (n - 1.0))'''

# With zero-debiasing (TF 2.12's moving_averages._zero_debias): `biased -= (biased - mean)
# * (1 - decay)`, `local_step += 1`, `moving_mean = biased / (1 - decay ** local_step)`,
# with 1 - decay a float32 as TF1 made it.
_DEBIAS_UPDATE = '''\
        fused = not self.renorm and rank in self.fused_ranks
        if training and self.trainable and (fused or self.zero_debias_moving_mean):
            axes = [axis for axis in range(rank) if axis != self.axis % rank]
            mean, variance = {tf}.nn.moments({tf}.cast(inputs, {tf}.float32), axes)
            if fused:
                n = {tf}.cast({tf}.size(inputs) // {tf}.size(variance), {tf}.float32)
                self.moving_variance.assign_add(variance * (1.0 - self.momentum) / (n - 1.0))
            if self.zero_debias_moving_mean:
                decay = {tf}.constant(1.0 - self.momentum, {tf}.float32)
                biased = {tf}.convert_to_tensor(self.moving_mean_biased)
                self.moving_mean_biased.assign(biased - (biased - mean) * decay)
                self.moving_mean_local_step.assign_add(1.0)
                bias_factor = 1.0 - {tf}.pow(1.0 - decay, {tf}.convert_to_tensor(self.moving_mean_local_step))
                self.moving_mean.assign({tf}.convert_to_tensor(self.moving_mean_biased) / bias_factor)'''

_DEBIAS_BUILD = '''
    def build(self, input_shape):
        super().build(input_shape)
        if self.zero_debias_moving_mean:  # TF1's moving_mean/biased and moving_mean/local_step
            self.moving_mean_biased = self.add_weight(
                shape=self.moving_mean.shape, name="moving_mean_biased", initializer="zeros",
                trainable=False, autocast=False)
            self.moving_mean_local_step = self.add_weight(
                shape=(), name="moving_mean_local_step", initializer="zeros", trainable=False, autocast=False)
'''

# A TF1 batch norm whose training flag is the literal True (or slim's default) with its
# updates in UPDATE_OPS normalized every batch with the batch's own statistics, evaluation
# included, and moved its moving statistics only in the runs that ran the update ops (the
# train step). With `always_training=True` the class does that: batch statistics at every
# call; the moving statistics (every non-trainable weight: renorm's and debiasing's too)
# are updated only when the model is called with `training=True` (its training step), and
# otherwise put back as they were after Keras's own update.
ALWAYS_TRAINING = "always_training"
_ALWAYS_DOC = ("\n    With `always_training` it normalizes with the batch's statistics at every call, as TF1's\n"
               "    batch norm with training=True did, and updates the moving statistics only when called\n"
               "    with `training=True` (TF1 updated them only in the runs of its update ops).")
_ALWAYS_CALL = '''\
        if self.always_training and not training:  # batch statistics; the moving statistics kept
            kept = [{tf}.identity(weight) for weight in self.non_trainable_weights]
            outputs = super().call(inputs, training=True, mask=mask)
            for weight, value in zip(self.non_trainable_weights, kept):
                weight.assign(value)
            return outputs
'''

# The weights the class adds for zero-debiasing -> the last two parts of TF1's names
# (TF1 made them `<scope>/<scope>/moving_mean/{biased,local_step}`).
DEBIAS_WEIGHTS = {"moving_mean_biased": "moving_mean/biased", "moving_mean_local_step": "moving_mean/local_step"}
ZERO_DEBIAS = "zero_debias_moving_mean"


def fused_ranks(family: str, arguments: dict[str, ast.expr]) -> Optional[tuple[int, ...]]:
    """The ranks on which the TF1 call used the fused kernel; None when it never did
    (`fused=False`, or an argument that rules the kernel out). Raises ValueError for a
    `fused` that is not a literal: which kernel ran cannot be told."""
    fused = arguments.get("fused")
    if fused is not None and not (isinstance(fused, ast.Constant) and fused.value in (None, True, False)):
        raise ValueError("a `fused` that is not a literal True, False or None: which kernel TF1 ran cannot be told")
    if isinstance(fused, ast.Constant) and fused.value is False:
        return None
    for argument in UNFUSED_WITH:
        value = arguments.get(argument)
        if value is not None and not (isinstance(value, ast.Constant) and value.value in (None, False)):
            return None
    ranks = FUSED_RANKS.get(family)
    if family == "contrib" and _core_layer_path(arguments):
        ranks = (2, 4, 5)
    return ranks


def _core_layer_path(arguments: dict[str, ast.expr]) -> bool:
    """Does slim hand its input to the tf.layers class (bn_semantics.md 1.2, path B)?
    `updates_collections` left out (UPDATE_OPS), no debiasing, no batch weights."""
    debias, weights = arguments.get("zero_debias_moving_mean"), arguments.get("batch_weights")
    return "updates_collections" not in arguments and \
        (debias is None or (isinstance(debias, ast.Constant) and debias.value is False)) and \
        (weights is None or (isinstance(weights, ast.Constant) and weights.value is None))


def class_source(name: str, tf: str, zero_debias: bool = False, always_training: bool = False) -> str:
    """The subclass's definition, with TensorFlow imported as `tf`; with `zero_debias`, it
    also takes `zero_debias_moving_mean=True`, with `always_training` `always_training=True`
    (each only then, so the class stays small and modules converted before stay as they are)."""
    always = dict(always_doc="", always_parameter="", always_init="", always_call="", always_config="")
    if always_training:
        always = dict(always_doc=_ALWAYS_DOC, always_parameter=", always_training=False",
                      always_init="\n        self.always_training = always_training",
                      always_call=_ALWAYS_CALL.format(tf=tf),
                      always_config=',\n                "always_training": self.always_training')
    if not zero_debias:
        return _CLASS.format(name=name, tf=tf, title="'s fused kernel", debias_doc="", debias_parameter="",
                             debias_init="", debias_build="", update=_FUSED_UPDATE.format(tf=tf), debias_config="",
                             **always)
    return _CLASS.format(
        name=name, tf=tf, title="", debias_parameter=", zero_debias_moving_mean=False",
        debias_doc=("\n    With `zero_debias_moving_mean` the moving mean is TF1's zero-debiased average:\n"
                    "    `moving_mean_biased` averages the batch means from 0, and the moving mean is it\n"
                    "    divided by 1 - momentum**`moving_mean_local_step`."),
        debias_init="\n        self.zero_debias_moving_mean = zero_debias_moving_mean",
        debias_build=_DEBIAS_BUILD, update=_DEBIAS_UPDATE.format(tf=tf),
        debias_config=',\n                "zero_debias_moving_mean": self.zero_debias_moving_mean', **always)


def constructor(name: str, ranks: tuple[int, ...], stock_constructor: str, stock_class: str,
                zero_debias: bool = False, always_training: bool = False) -> str:
    """`stock_constructor` (`tf.keras.layers.BatchNormalization(...)`) as the subclass's."""
    arguments = stock_constructor[len(stock_class) + 1:-1]
    ranks_text = f"fused_ranks={ranks!r}" + (f", {ZERO_DEBIAS}=True" if zero_debias else "") + \
        (f", {ALWAYS_TRAINING}=True" if always_training else "")
    return f"{name}({ranks_text}{', ' + arguments if arguments else ''})"
