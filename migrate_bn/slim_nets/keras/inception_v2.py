"""tf-slim's Inception V2 (`tf_slim.nets.inception_v2`, the batch-normalized Inception of
Ioffe and Szegedy, 2015) in Keras 3, under `inception_v2_arg_scope()`.

    model = inception_v2(num_classes=1000)
    logits, end_points = model(images, training=True)  # was inception_v2.inception_v2(images, 1000, is_training=True)

Every conv is followed by batch norm (decay 0.9997, epsilon 0.001, slim's `scale=False`:
no gamma) and ReLU. The first layer is a separable conv (7x7 depthwise with 8 channels per
input channel, then 1x1 to 64), which the arg scope does not reach: it has a bias and
ReLU, no batch norm, no weight decay. Every conv and pool is SAME (stride 1 unless said).
As in slim, the final 7x7 average pool shrinks to the feature map of an input smaller
than 224x224, and its scope names its size (`AvgPool_1a_7x7`).
"""

from __future__ import annotations

import keras
from keras import ops

from .inception_v3 import Mixed
from .layers import SlimConv2D, SlimNet, SlimSeparableConv2D, inception_depth, slim_weights_initializer

# Modules as inception_v3.Mixed reads them: branches of ("conv", scope, depth, kernel[,
# stride, padding]) and ("max"/"avg", scope, size, stride, padding) steps.


def _mixed(branch_0: int, branch_1: tuple, branch_2: tuple, pool: str, branch_3: int) -> list:
    """A module: a 1x1 conv; 1x1 then 3x3; 1x1 then two 3x3 (the factorised 5x5); a 3x3
    pool of stride 1 then 1x1."""
    return [
        [("conv", "Conv2d_0a_1x1", branch_0, (1, 1))],
        [("conv", "Conv2d_0a_1x1", branch_1[0], (1, 1)), ("conv", "Conv2d_0b_3x3", branch_1[1], (3, 3))],
        [("conv", "Conv2d_0a_1x1", branch_2[0], (1, 1)), ("conv", "Conv2d_0b_3x3", branch_2[1], (3, 3)),
         ("conv", "Conv2d_0c_3x3", branch_2[2], (3, 3))],
        [(pool, f"{pool.capitalize()}Pool_0a_3x3", 3, 1, "SAME"), ("conv", "Conv2d_0b_1x1", branch_3, (1, 1))],
    ]


def _reduction(branch_0: tuple, branch_1: tuple) -> list:
    """A grid reduction: 1x1 then 3x3 of stride 2; 1x1, 3x3, 3x3 of stride 2; a 3x3 max
    pool of stride 2."""
    return [
        [("conv", "Conv2d_0a_1x1", branch_0[0], (1, 1)), ("conv", "Conv2d_1a_3x3", branch_0[1], (3, 3), 2, "SAME")],
        [("conv", "Conv2d_0a_1x1", branch_1[0], (1, 1)), ("conv", "Conv2d_0b_3x3", branch_1[1], (3, 3)),
         ("conv", "Conv2d_1a_3x3", branch_1[2], (3, 3), 2, "SAME")],
        [("max", "MaxPool_1a_3x3", 3, 2, "SAME")],
    ]


MODULES = (
    ("Mixed_3b", _mixed(64, (64, 64), (64, 96, 96), "avg", 32)),
    ("Mixed_3c", _mixed(64, (64, 96), (64, 96, 96), "avg", 64)),
    ("Mixed_4a", _reduction((128, 160), (64, 96, 96))),
    ("Mixed_4b", _mixed(224, (64, 96), (96, 128, 128), "avg", 128)),
    ("Mixed_4c", _mixed(192, (96, 128), (96, 128, 128), "avg", 128)),
    ("Mixed_4d", _mixed(160, (128, 160), (128, 160, 160), "avg", 96)),
    ("Mixed_4e", _mixed(96, (128, 192), (160, 192, 192), "avg", 96)),
    ("Mixed_5a", _reduction((128, 192), (192, 256, 256))),
    ("Mixed_5b", _mixed(352, (192, 320), (160, 224, 224), "avg", 128)),
    ("Mixed_5c", _mixed(352, (192, 320), (192, 224, 224), "max", 128)),
)


class InceptionV2(SlimNet):
    """`inception_v2.inception_v2(inputs, num_classes, is_training, dropout_keep_prob,
    min_depth, depth_multiplier, spatial_squeeze=True, scope='InceptionV2')` as a model."""

    def __init__(self, num_classes=1000, dropout_keep_prob=0.8, min_depth=16, depth_multiplier=1.0,
                 spatial_squeeze=True, scope="InceptionV2", weight_decay=0.00004, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        depth = inception_depth(depth_multiplier, min_depth)
        self.scope = scope
        self.spatial_squeeze = spatial_squeeze
        conv = {"activation": "relu", "weight_decay": weight_decay, "weights_initializer": slim_weights_initializer(),
                "batch_norm": {"decay": 0.9997, "epsilon": 0.001, "scale": False}}
        # inception_v2_base: the depthwise stage may not have more channels than the
        # pointwise one, hence its multiplier min(depth(64) // 3, 8); truncated normal 1.0.
        separable = SlimSeparableConv2D(f"{scope}/Conv2d_1a_7x7", depth(64), 7, depth_multiplier=min(depth(64) // 3, 8),
                                        stride=2, weights_initializer=keras.initializers.TruncatedNormal(stddev=1.0))
        self.stem = [
            ("Conv2d_1a_7x7", separable),
            ("MaxPool_2a_3x3", keras.layers.MaxPooling2D(3, strides=2, padding="same")),
            ("Conv2d_2b_1x1", SlimConv2D(f"{scope}/Conv2d_2b_1x1", depth(64), 1, **conv)),
            ("Conv2d_2c_3x3", SlimConv2D(f"{scope}/Conv2d_2c_3x3", depth(192), 3, **conv)),
            ("MaxPool_3a_3x3", keras.layers.MaxPooling2D(3, strides=2, padding="same")),
        ]
        self.stem += [(name, Mixed(f"{scope}/{name}", branches, depth, conv)) for name, branches in MODULES]
        self.dropout = keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits = SlimConv2D(f"{scope}/Logits/Conv2d_1c_1x1", num_classes, 1, activation=None,
                                 weight_decay=weight_decay, weights_initializer=slim_weights_initializer())

    def call(self, inputs, training=None):
        net, end_points = self.run_stem(inputs, training)
        # slim's 7x7 average pool, shrunk to the feature map of a smaller input.
        kernel = tuple(min(size, 7) for size in net.shape[1:3])
        net = self.dropout(ops.average_pool(net, kernel, strides=1, padding="valid"), training=training)
        return self.classify(net, end_points, training)


def inception_v2(num_classes=1000, dropout_keep_prob=0.8, min_depth=16, depth_multiplier=1.0, spatial_squeeze=True,
                 scope="InceptionV2", weight_decay=0.00004):
    """`inception_v2.inception_v2`; `weight_decay` is inception_v2_arg_scope()'s."""
    return InceptionV2(num_classes, dropout_keep_prob, min_depth, depth_multiplier, spatial_squeeze, scope,
                       weight_decay)
