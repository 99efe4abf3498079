"""tf-slim's ResNet v1 (`tf_slim.nets.resnet_v1`) in Keras 3, under `resnet_arg_scope()`.

    model = resnet_v1_50(num_classes=1000)            # build once
    net, end_points = model(images, training=True)    # was resnet_v1.resnet_v1_50(images, 1000, is_training=True)

Weights are named as slim's checkpoints name them (`model.slim_variables()`), end points
carry slim's keys. Batch norm is TF1's fused kernel (`FusedBatchNorm`): decay 0.997,
epsilon 1e-5, scale=True as in `resnet_arg_scope()`.
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D
from .resnet_utils import RESNET_50, RESNET_101, RESNET_152, ResNet, ResNetScope, subsample


class BottleneckV1(keras.layers.Layer):
    """`resnet_v1.bottleneck`: conv 1x1 -> conv 3x3 (the unit's stride) -> conv 1x1, plus
    the shortcut (a 1x1 conv when the depth changes, else a subsample), then ReLU."""

    def __init__(self, scope: str, depth_in: int, depth: int, depth_bottleneck: int, stride: int, rate: int,
                 arg_scope: ResNetScope, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.shortcut_conv = (SlimConv2D(scope + "/shortcut", depth, 1, stride=stride,
                                         **arg_scope.conv(activation=None))
                              if depth != depth_in else None)
        self.shortcut_pool = subsample(stride) if depth == depth_in else None
        self.conv1 = SlimConv2D(scope + "/conv1", depth_bottleneck, 1, **arg_scope.conv())
        self.conv2 = SlimConv2D(scope + "/conv2", depth_bottleneck, 3, stride=stride, rate=rate,
                                padding="conv2d_same", **arg_scope.conv())
        self.conv3 = SlimConv2D(scope + "/conv3", depth, 1, **arg_scope.conv(activation=None))

    def call(self, inputs, training=None):
        end_points = {}
        if self.shortcut_conv is not None:
            shortcut = end_points[self.shortcut_conv.scope] = self.shortcut_conv(inputs, training=training)
        else:
            shortcut = self.shortcut_pool(inputs) if self.shortcut_pool is not None else inputs
        residual = inputs
        for conv in (self.conv1, self.conv2, self.conv3):
            residual = end_points[conv.scope] = conv(residual, training=training)
        output = end_points[self.scope] = ops.relu(shortcut + residual)
        return output, end_points


class ResNetV1(ResNet):
    """`resnet_v1.resnet_v1(inputs, blocks, num_classes, is_training, global_pool,
    output_stride, include_root_block=True, scope=scope)` as a model."""

    def __init__(self, blocks, num_classes=None, global_pool=True, output_stride=None, scope="resnet_v1",
                 arg_scope: ResNetScope = ResNetScope(), **kwargs):
        super().__init__(blocks, num_classes, global_pool, output_stride, scope, arg_scope, BottleneckV1,
                         "bottleneck_v1", arg_scope.conv(), postnorm=False, **kwargs)


def resnet_v1_50(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v1_50", **arg_scope):
    """`resnet_v1.resnet_v1_50`; `arg_scope` takes resnet_arg_scope()'s keywords."""
    return ResNetV1(RESNET_50, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v1_101(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v1_101", **arg_scope):
    return ResNetV1(RESNET_101, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))


def resnet_v1_152(num_classes=None, global_pool=True, output_stride=None, scope="resnet_v1_152", **arg_scope):
    return ResNetV1(RESNET_152, num_classes, global_pool, output_stride, scope, ResNetScope(**arg_scope))
