"""What tf-slim's ResNet v1 and v2 share: the arg scope's defaults, the block layout, the
stride bookkeeping of `output_stride` (atrous convolution), and subsampling."""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet, slim_batch_norm, slim_weights_initializer


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


class ResNet(SlimNet):
    """What `resnet_v1.resnet_v1` and `resnet_v2.resnet_v2` share (include_root_block=True):
    the root block (conv1 7x7/2 with `root` arguments, a 3x3/2 max pool), the units as
    `stack_blocks_dense` lays them out, v2's batch norm + ReLU after them (`postnorm`),
    the global average pool and the 1x1 logits conv; end points under slim's keys."""

    def __init__(self, blocks, num_classes, global_pool, output_stride, scope, arg_scope: ResNetScope, unit,
                 unit_name: str, root: dict, postnorm: bool, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.global_pool = global_pool
        if output_stride is not None:
            if output_stride % 4 != 0:
                raise ValueError("The output_stride needs to be a multiple of 4.")
            output_stride //= 4
        self.conv1 = SlimConv2D(scope + "/conv1", 64, 7, stride=2, padding="conv2d_same", **root)
        self.pool1 = keras.layers.MaxPooling2D(3, strides=2, padding="same")
        self.units, self.block_ends = [], []
        depth_in = 64
        for block, index, depth, bottleneck, stride, rate in dense_units(blocks, output_stride):
            self.units.append(unit(f"{scope}/{block.scope}/unit_{index + 1}/{unit_name}", depth_in, depth, bottleneck,
                                   stride, rate, arg_scope))
            self.block_ends.append(f"{scope}/{block.scope}" if index == block.num_units - 1 else None)
            depth_in = depth
        self.postnorm = slim_batch_norm(scope + "/postnorm", **arg_scope.batch_norm()) if postnorm else None
        self.logits = (SlimConv2D(scope + "/logits", num_classes, 1, **arg_scope.conv(activation=None, batch_norm=None))
                       if num_classes is not None else None)

    def call(self, inputs, training=None):
        end_points = {}
        net = end_points[self.conv1.scope] = self.conv1(inputs, training=training)
        net = self.pool1(net)
        for unit, block_end in zip(self.units, self.block_ends):
            net, unit_points = unit(net, training=training)
            end_points.update(unit_points)
            if block_end is not None:
                end_points[block_end] = net
        if self.postnorm is not None:
            net = ops.relu(self.postnorm(net, training=training))
        if self.global_pool:
            net = ops.mean(net, axis=[1, 2], keepdims=True)
        if self.logits is not None:
            net = end_points[self.logits.scope] = self.logits(net, training=training)
            end_points["predictions"] = ops.softmax(net, axis=-1)
        return net, end_points
