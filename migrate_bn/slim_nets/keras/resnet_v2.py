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

from .layers import SlimConv2D, slim_batch_norm
from .resnet_utils import RESNET_50, RESNET_101, RESNET_152, ResNet, ResNetScope, subsample


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


class ResNetV2(ResNet):
    """`resnet_v2.resnet_v2(inputs, blocks, num_classes, is_training, global_pool,
    output_stride, include_root_block=True, scope=scope)` as a model: the root conv has
    a bias and neither batch norm nor activation; `postnorm` follows the last block."""

    def __init__(self, blocks, num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2",
                 arg_scope: ResNetScope = ResNetScope(), **kwargs):
        super().__init__(blocks, num_classes, global_pool, output_stride, scope, arg_scope, BottleneckV2,
                         "bottleneck_v2", arg_scope.conv(activation=None, batch_norm=None), postnorm=True, **kwargs)


def resnet_v2_50(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_50", **arg_scope):
    """`resnet_v2.resnet_v2_50`; `arg_scope` takes resnet_arg_scope()'s keywords."""
    return ResNetV2(RESNET_50, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v2_101(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_101", **arg_scope):
    return ResNetV2(RESNET_101, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v2_152(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v2_152", **arg_scope):
    return ResNetV2(RESNET_152, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))
