"""tf-slim's ResNet v2 (`tf_slim.nets.resnet_v2`, pre-activation) in Keras 3, under
`resnet_arg_scope()`.

    model = resnet_v2_50(num_classes=1001)
    net, end_points = model(images, training=True)    # was resnet_v2.resnet_v2_50(images, 1001, is_training=True)

Batch norm before each unit (`preact`) and after the last block (`postnorm`) with ReLU;
the root conv, the shortcut conv and each unit's last conv have biases and no batch norm.
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet, slim_batch_norm
from .resnet_utils import RESNET_50, RESNET_101, RESNET_152, ResNetScope, dense_units, subsample


class BottleneckV2(keras.layers.Layer):
    """`resnet_v2.bottleneck`: batch norm + ReLU (`preact`), then conv 1x1 -> conv 3x3
    (the unit's stride) -> conv 1x1 (bias, no activation), plus the shortcut (a 1x1 conv
    of the pre-activation when the depth changes, else a subsample of the input)."""

    def __init__(self, scope: str, depth_in: int, depth: int, depth_bottleneck: int, stride: int, rate: int,
                 arg_scope: ResNetScope, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.preact = slim_batch_norm(scope + "/preact", **arg_scope.batch_norm())
        plain = arg_scope.conv(activation=None, batch_norm=None)
        self.shortcut_conv = (SlimConv2D(scope + "/shortcut", depth, 1, stride=stride, **plain)
                              if depth != depth_in else None)
        self.shortcut_pool = subsample(stride) if depth == depth_in else None
        self.conv1 = SlimConv2D(scope + "/conv1", depth_bottleneck, 1, **arg_scope.conv())
        self.conv2 = SlimConv2D(scope + "/conv2", depth_bottleneck, 3, stride=stride, rate=rate,
                                padding="conv2d_same", **arg_scope.conv())
        self.conv3 = SlimConv2D(scope + "/conv3", depth, 1, **plain)

    def call(self, inputs, training=None):
        end_points = {}
        preact = ops.relu(self.preact(inputs, training=training))
        if self.shortcut_conv is not None:
            shortcut = end_points[self.shortcut_conv.scope] = self.shortcut_conv(preact, training=training)
        else:
            shortcut = self.shortcut_pool(inputs) if self.shortcut_pool is not None else inputs
        residual = preact
        for conv in (self.conv1, self.conv2, self.conv3):
            residual = end_points[conv.scope] = conv(residual, training=training)
        output = end_points[self.scope] = shortcut + residual
        return output, end_points


class ResNetV2(SlimNet):
    """`resnet_v2.resnet_v2(inputs, blocks, num_classes, is_training, global_pool,
    output_stride, include_root_block=True, scope=scope)` as a model."""

    def __init__(self, blocks, num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2",
                 arg_scope: ResNetScope = ResNetScope(), **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.global_pool = global_pool
        if output_stride is not None:
            if output_stride % 4 != 0:
                raise ValueError("The output_stride needs to be a multiple of 4.")
            output_stride //= 4
        self.conv1 = SlimConv2D(scope + "/conv1", 64, 7, stride=2, padding="conv2d_same",
                                **arg_scope.conv(activation=None, batch_norm=None))
        self.pool1 = keras.layers.MaxPooling2D(3, strides=2, padding="same")
        self.units, self.block_ends = [], []
        depth_in = 64
        for block, index, depth, bottleneck, stride, rate in dense_units(blocks, output_stride):
            self.units.append(BottleneckV2(f"{scope}/{block.scope}/unit_{index + 1}/bottleneck_v2", depth_in,
                                           depth, bottleneck, stride, rate, arg_scope))
            self.block_ends.append(f"{scope}/{block.scope}" if index == block.num_units - 1 else None)
            depth_in = depth
        self.postnorm = slim_batch_norm(scope + "/postnorm", **arg_scope.batch_norm())
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
        net = ops.relu(self.postnorm(net, training=training))
        if self.global_pool:
            net = ops.mean(net, axis=[1, 2], keepdims=True)
        if self.logits is not None:
            net = end_points[self.logits.scope] = self.logits(net, training=training)
            end_points["predictions"] = ops.softmax(net, axis=-1)
        return net, end_points


def resnet_v2_50(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_50", **arg_scope):
    """`resnet_v2.resnet_v2_50`; `arg_scope` takes resnet_arg_scope()'s keywords."""
    return ResNetV2(RESNET_50, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v2_101(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_101", **arg_scope):
    return ResNetV2(RESNET_101, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v2_152(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_152", **arg_scope):
    return ResNetV2(RESNET_152, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))
