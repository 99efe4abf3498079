"""Batch norm that trains as TF1's fused kernel trained it, for the Keras 3 programs
`upgrade` writes (docs/tf2-mapping.md, "The documented difference").

Where TF1 took its fused kernel, the moving variance accumulated the n/(n-1)-corrected
batch variance (n: the values per channel in a batch); Keras 3 accumulates the biased
one. Both normalize with the biased variance. So the converted program gets, once per
module, a small subclass of Keras's `BatchNormalization` that lets Keras do everything
and then adds the missing part of the update, `variance * (1 - momentum) / (n - 1)`, for
inputs of the ranks TF1 fused. With `--stock-keras-bn` the stock layer is kept instead
and each such layer is reported with the difference.

Which ranks TF1 fused is API knowledge: a table here, read by the recogniser.
"""

from __future__ import annotations

import ast
from typing import Optional

# Input ranks on which each TF1 family took the fused kernel when `fused` was left to
# its default (None) or True (bn_semantics.md 1.1 and 1.2): tf.layers fuses 4-D and
# 5-D input; slim fuses 4-D and also 2-D (reshaped to [-1, 1, 1, C]), never 3-D.
FUSED_RANKS = {"tf.layers": (4, 5), "contrib": (2, 4)}
# slim falls back to an unfused path with these (its fused kernel cannot take them).
UNFUSED_WITH = ("renorm", "batch_weights", "adjustment", "virtual_batch_size")

CLASS_NAME = "FusedBatchNormalization"

_CLASS = '''\
class {name}({tf}.keras.layers.BatchNormalization):
    """BatchNormalization as TF1's fused kernel trained it (written by `migrate-bn upgrade`).

    On input of a rank in `fused_ranks` the moving variance accumulates the batch
    variance times n/(n-1) (n: values per channel in the batch), as TF1's fused kernel
    did; Keras accumulates the batch variance itself. Outputs are Keras's own.
    """

    def __init__(self, fused_ranks=(4, 5), **kwargs):
        super().__init__(**kwargs)
        self.fused_ranks = tuple(fused_ranks)

    def call(self, inputs, training=None, mask=None):
        outputs = super().call(inputs, training=training, mask=mask)
        rank = len(inputs.shape)
        if training and self.trainable and not self.renorm and rank in self.fused_ranks:
            axes = [axis for axis in range(rank) if axis != self.axis % rank]
            _, variance = {tf}.nn.moments({tf}.cast(inputs, {tf}.float32), axes)
            n = {tf}.cast({tf}.size(inputs) // {tf}.size(variance), {tf}.float32)
            self.moving_variance.assign_add(variance * (1.0 - self.momentum) / (n - 1.0))
        return outputs

    def get_config(self):
        return {{**super().get_config(), "fused_ranks": list(self.fused_ranks)}}
'''


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
    return FUSED_RANKS.get(family)


def class_source(name: str, tf: str) -> str:
    """The subclass's definition, with TensorFlow imported as `tf`."""
    return _CLASS.format(name=name, tf=tf)


def constructor(name: str, ranks: tuple[int, ...], stock_constructor: str, stock_class: str) -> str:
    """`stock_constructor` (`tf.keras.layers.BatchNormalization(...)`) as the subclass's."""
    arguments = stock_constructor[len(stock_class) + 1:-1]
    ranks_text = f"fused_ranks={ranks!r}"
    return f"{name}({ranks_text}{', ' + arguments if arguments else ''})"
