"""What tf-slim's ResNet v1 and v2 share: the arg scope's defaults, the block layout, the
stride bookkeeping of `output_stride` (atrous convolution), and subsampling."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from .layers import slim_weights_initializer


@dataclass(frozen=True)
class ResNetScope:
    """`resnet_arg_scope()`'s arguments, with its defaults: every conv gets an L2
    regularizer, variance-scaling initialisation, ReLU and batch norm with these."""

    weight_decay: float = 0.0001
    batch_norm_decay: float = 0.997
    batch_norm_epsilon: float = 1e-5
    batch_norm_scale: bool = True

    def batch_norm(self) -> dict:
        return {"decay": self.batch_norm_decay, "epsilon": self.batch_norm_epsilon, "scale": self.batch_norm_scale}

    def conv(self, **overrides) -> dict:
        arguments = {"activation": "relu", "batch_norm": self.batch_norm(), "weight_decay": self.weight_decay,
                     "weights_initializer": slim_weights_initializer()}
        arguments.update(overrides)
        return arguments


@dataclass(frozen=True)
class Block:
    """`resnet_vN_block(scope, base_depth, num_units, stride)`: units of depth
    4 * base_depth, the block's stride on its last unit."""

    scope: str
    base_depth: int
    num_units: int
    stride: int

    def units(self) -> list:
        """(depth, depth_bottleneck, stride) of each unit."""
        return [(4 * self.base_depth, self.base_depth, 1)] * (self.num_units - 1) + \
               [(4 * self.base_depth, self.base_depth, self.stride)]


RESNET_50 = (Block("block1", 64, 3, 2), Block("block2", 128, 4, 2), Block("block3", 256, 6, 2),
             Block("block4", 512, 3, 1))
RESNET_101 = (Block("block1", 64, 3, 2), Block("block2", 128, 4, 2), Block("block3", 256, 23, 2),
              Block("block4", 512, 3, 1))
RESNET_152 = (Block("block1", 64, 3, 2), Block("block2", 128, 8, 2), Block("block3", 256, 36, 2),
              Block("block4", 512, 3, 1))


def dense_units(blocks, output_stride):
    """(block, unit index, depth, depth_bottleneck, stride, rate) in order, as
    `stack_blocks_dense` runs them: once the output stride is reached, later strides
    become atrous rates. `output_stride` counts after the root block (already divided by 4)."""
    current_stride, rate, plan = 1, 1, []
    for block in blocks:
        for index, (depth, bottleneck, stride) in enumerate(block.units()):
            if output_stride is not None and current_stride > output_stride:
                raise ValueError("The target output_stride cannot be reached.")
            if output_stride is not None and current_stride == output_stride:
                plan.append((block, index, depth, bottleneck, 1, rate))
                rate *= stride
            else:
                plan.append((block, index, depth, bottleneck, stride, 1))
                current_stride *= stride
    if output_stride is not None and current_stride != output_stride:
        raise ValueError("The target output_stride cannot be reached.")
    return plan


def subsample(factor: int):
    """`resnet_utils.subsample`: a 1x1 max pool with stride `factor` (None for 1)."""
    return keras.layers.MaxPooling2D(1, strides=factor, padding="same") if factor != 1 else None
