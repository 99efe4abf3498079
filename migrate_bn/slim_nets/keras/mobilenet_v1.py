"""MobileNet v1 (Howard et al., 2017, arXiv:1704.04861) as the TF models repository's
research/slim builds it (`from nets import mobilenet_v1`), in Keras 3, under
`mobilenet_v1_arg_scope()`.

    model = mobilenet_v1(num_classes=1001)
    logits, end_points = model(images, training=True)  # was mobilenet_v1.mobilenet_v1(images, 1001, is_training=True)

The body is the paper's table: a 3x3 conv of stride 2 to 32 channels, then 13
depthwise-separable blocks, each a 3x3 depthwise conv (slim's `separable_conv2d` with
`num_outputs=None`, scope `Conv2d_<i>_depthwise`) and a 1x1 conv (`Conv2d_<i>_pointwise`).
Every conv is SAME and followed by batch norm (the arg scope's decay 0.9997, epsilon 0.001,
center and scale: beta and gamma) and ReLU6; no conv has a bias but the logits'. Channels
are `max(int(depth * depth_multiplier), min_depth)`. The head: an average pool of 7x7,
shrunk to the feature map of an input smaller than 224x224 (VALID, stride 2), dropout, a 1x1 conv
to the logits (bias, no batch norm, no activation), squeezed to (batch, classes).
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet, SlimSeparableConv2D, inception_depth

# (end point index, stride, depth) of the 13 depthwise-separable blocks; Conv2d_0 is the
# 3x3/2 conv to 32 channels before them. Every kernel is 3x3 (the pointwise ones 1x1).
BLOCKS = ((1, 1, 64), (2, 2, 128), (3, 1, 128), (4, 2, 256), (5, 1, 256), (6, 2, 512),
          (7, 1, 512), (8, 1, 512), (9, 1, 512), (10, 1, 512), (11, 1, 512), (12, 2, 1024), (13, 1, 1024))
FIRST_CONV_DEPTH = 32


class MobilenetV1(SlimNet):
    """`mobilenet_v1.mobilenet_v1(inputs, num_classes, dropout_keep_prob, is_training,
    min_depth, depth_multiplier, spatial_squeeze=True, scope='MobilenetV1',
    global_pool=False)` as a model. `num_classes` None or 0: no logits layer, the net
    returns the pooled features (before dropout), as slim's does."""

    def __init__(self, num_classes=1000, dropout_keep_prob=0.999, min_depth=8, depth_multiplier=1.0,
                 spatial_squeeze=True, scope="MobilenetV1", global_pool=False, weight_decay=0.00004, stddev=0.09,
                 regularize_depthwise=False, batch_norm_decay=0.9997, batch_norm_epsilon=0.001, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        depth = inception_depth(depth_multiplier, min_depth)  # slim's `depth` lambda, same formula
        self.scope = scope
        self.spatial_squeeze = spatial_squeeze
        self.global_pool = global_pool
        # mobilenet_v1_arg_scope: truncated normal weights, ReLU6, batch norm with gamma;
        # the L2 regularizer on convs, on depthwise convs only with `regularize_depthwise`.
        initializer = keras.initializers.TruncatedNormal(stddev=stddev)
        norm = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon, "scale": True, "center": True}
        conv = {"activation": "relu6", "batch_norm": norm, "weights_initializer": initializer}
        depthwise_decay = weight_decay if regularize_depthwise else 0.0
        self.stem = [("Conv2d_0", SlimConv2D(f"{scope}/Conv2d_0", depth(FIRST_CONV_DEPTH), 3, stride=2,
                                             weight_decay=weight_decay, **conv))]
        for index, stride, filters in BLOCKS:
            self.stem += [
                (f"Conv2d_{index}_depthwise", SlimSeparableConv2D(f"{scope}/Conv2d_{index}_depthwise", None, 3,
                                                                  stride=stride, weight_decay=depthwise_decay, **conv)),
                (f"Conv2d_{index}_pointwise", SlimConv2D(f"{scope}/Conv2d_{index}_pointwise", depth(filters), 1,
                                                         weight_decay=weight_decay, **conv)),
            ]
        self.num_classes = num_classes
        if num_classes:
            self.dropout = keras.layers.Dropout(1.0 - dropout_keep_prob)
            self.logits = SlimConv2D(f"{scope}/Logits/Conv2d_1c_1x1", num_classes, 1, activation=None,
                                     weight_decay=weight_decay, weights_initializer=initializer)

    def call(self, inputs, training=None):
        net, end_points = self.run_stem(inputs, training)
        if self.global_pool:
            net = end_points["global_pool"] = ops.mean(net, axis=(1, 2), keepdims=True)
        else:
            # slim's 7x7 average pool (avg_pool2d's default stride 2), shrunk to the
            # feature map of a smaller input.
            kernel = tuple(min(size, 7) for size in net.shape[1:3])
            net = end_points["AvgPool_1a"] = ops.average_pool(net, kernel, strides=2, padding="valid")
        if not self.num_classes:
            return net, end_points
        return self.classify(self.dropout(net, training=training), end_points, training)


def mobilenet_v1(num_classes=1000, dropout_keep_prob=0.999, min_depth=8, depth_multiplier=1.0, spatial_squeeze=True,
                 scope="MobilenetV1", global_pool=False, weight_decay=0.00004, stddev=0.09, regularize_depthwise=False,
                 batch_norm_decay=0.9997, batch_norm_epsilon=0.001):
    """`mobilenet_v1.mobilenet_v1`; `weight_decay`, `stddev`, `regularize_depthwise`,
    `batch_norm_decay` and `batch_norm_epsilon` are mobilenet_v1_arg_scope()'s, with its
    defaults."""
    return MobilenetV1(num_classes, dropout_keep_prob, min_depth, depth_multiplier, spatial_squeeze, scope,
                       global_pool, weight_decay, stddev, regularize_depthwise, batch_norm_decay, batch_norm_epsilon)


# research/slim's thinner nets: mobilenet_v1 with another depth_multiplier by default.
def mobilenet_v1_075(**keywords):
    """`mobilenet_v1.mobilenet_v1_075`: `depth_multiplier` 0.75."""
    return mobilenet_v1(**{"depth_multiplier": 0.75, **keywords})


def mobilenet_v1_050(**keywords):
    """`mobilenet_v1.mobilenet_v1_050`: `depth_multiplier` 0.5."""
    return mobilenet_v1(**{"depth_multiplier": 0.5, **keywords})


def mobilenet_v1_025(**keywords):
    """`mobilenet_v1.mobilenet_v1_025`: `depth_multiplier` 0.25."""
    return mobilenet_v1(**{"depth_multiplier": 0.25, **keywords})
