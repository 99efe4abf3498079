"""tf-slim's VGG nets (`tf_slim.nets.vgg`) in Keras 3, under `vgg_arg_scope()`.

    model = vgg_16(num_classes=1000)
    net, end_points = model(images, training=True)    # was vgg.vgg_16(images, 1000, is_training=True)

The fully connected layers are convolutions, as in slim (fc6 is 7x7 VALID, so the input
must be 224x224 for `spatial_squeeze`); `training` only switches dropout.
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet


class VGG(SlimNet):
    """`vgg.vgg_N(inputs, num_classes, is_training, dropout_keep_prob, spatial_squeeze,
    scope)`: `repeats` convs of 3x3 per group (64, 128, 256, 512, 512 filters), each
    group followed by a 2x2 max pool (slim's VALID default), then fc6-fc8."""

    def __init__(self, repeats, num_classes=1000, dropout_keep_prob=0.5, spatial_squeeze=True, scope="vgg",
                 weight_decay=0.0005, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.spatial_squeeze = spatial_squeeze
        # vgg_arg_scope: ReLU, L2 regularizer, zero biases, SAME padding; slim's default
        # initializer (xavier) is Keras's GlorotUniform.
        conv = {"weight_decay": weight_decay}
        self.groups = []
        for group, (count, filters) in enumerate(zip(repeats, (64, 128, 256, 512, 512)), start=1):
            convs = [SlimConv2D(f"{scope}/conv{group}/conv{group}_{index}", filters, 3, **conv)
                     for index in range(1, count + 1)]
            self.groups.append((convs, keras.layers.MaxPooling2D(2, strides=2, padding="valid"),
                                f"{scope}/pool{group}"))
        self.fc6 = SlimConv2D(scope + "/fc6", 4096, 7, padding="VALID", **conv)
        self.dropout6 = keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc7 = SlimConv2D(scope + "/fc7", 4096, 1, **conv)
        self.dropout7 = keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.fc8 = SlimConv2D(scope + "/fc8", num_classes, 1, activation=None, **conv)

    def call(self, inputs, training=None):
        end_points = {}
        net = inputs
        for convs, pool, pool_scope in self.groups:
            for layer in convs:
                net = end_points[layer.scope] = layer(net, training=training)
            net = end_points[pool_scope] = pool(net)
        net = end_points[self.fc6.scope] = self.fc6(net, training=training)
        net = self.dropout6(net, training=training)
        net = end_points[self.fc7.scope] = self.fc7(net, training=training)
        net = self.dropout7(net, training=training)
        net = end_points[self.fc8.scope] = self.fc8(net, training=training)
        if self.spatial_squeeze:
            net = end_points[self.fc8.scope] = ops.squeeze(net, axis=(1, 2))
        return net, end_points


def vgg_a(num_classes=1000, dropout_keep_prob=0.5, spatial_squeeze=True, scope="vgg_a", weight_decay=0.0005):
    return VGG((1, 1, 2, 2, 2), num_classes, dropout_keep_prob, spatial_squeeze, scope, weight_decay)


def vgg_16(num_classes=1000, dropout_keep_prob=0.5, spatial_squeeze=True, scope="vgg_16", weight_decay=0.0005):
    """`vgg.vgg_16`; `weight_decay` is vgg_arg_scope()'s."""
    return VGG((2, 2, 3, 3, 3), num_classes, dropout_keep_prob, spatial_squeeze, scope, weight_decay)


def vgg_19(num_classes=1000, dropout_keep_prob=0.5, spatial_squeeze=True, scope="vgg_19", weight_decay=0.0005):
    return VGG((2, 2, 4, 4, 4), num_classes, dropout_keep_prob, spatial_squeeze, scope, weight_decay)
