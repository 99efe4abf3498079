"""tf-slim's Inception V1 / GoogLeNet (`tf_slim.nets.inception_v1`) in Keras 3, under
`inception_v1_arg_scope()`.

    model = inception_v1(num_classes=1000)
    logits, end_points = model(images, training=True)  # was inception_v1.inception_v1(images, 1000, is_training=True)

Every conv is followed by batch norm (decay 0.9997, epsilon 0.001, slim's `scale=False`:
no gamma) and ReLU; convs and max pools of the base are SAME with stride 1 unless said.
The logits come from a 7x7 VALID average pool, so the input must be 224x224.
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet, slim_weights_initializer

# GoogLeNet's inception modules: (name, Branch_0 1x1, Branch_1 1x1 -> 3x3, Branch_2 1x1 -> 3x3,
# Branch_3 pool -> 1x1); None marks a 3x3 (or 2x2) max pool of stride 2 between them.
MODULES = (
    ("Mixed_3b", 64, (96, 128), (16, 32), 32),
    ("Mixed_3c", 128, (128, 192), (32, 96), 64),
    ("MaxPool_4a_3x3", 3),
    ("Mixed_4b", 192, (96, 208), (16, 48), 64),
    ("Mixed_4c", 160, (112, 224), (24, 64), 64),
    ("Mixed_4d", 128, (128, 256), (24, 64), 64),
    ("Mixed_4e", 112, (144, 288), (32, 64), 64),
    ("Mixed_4f", 256, (160, 320), (32, 128), 128),
    ("MaxPool_5a_2x2", 2),
    ("Mixed_5b", 256, (160, 320), (32, 128), 128),
    ("Mixed_5c", 384, (192, 384), (48, 128), 128),
)
# slim's Mixed_5b names its Branch_2 3x3 conv `Conv2d_0a_3x3` (every other module `0b`).
BRANCH_2_3X3 = {"Mixed_5b": "Conv2d_0a_3x3"}


class InceptionModule(keras.layers.Layer):
    def __init__(self, scope: str, branch_0: int, branch_1: tuple, branch_2: tuple, branch_3: int, conv: dict,
                 **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        name = scope.rsplit("/", 1)[-1]
        self.branches = [
            [SlimConv2D(f"{scope}/Branch_0/Conv2d_0a_1x1", branch_0, 1, **conv)],
            [SlimConv2D(f"{scope}/Branch_1/Conv2d_0a_1x1", branch_1[0], 1, **conv),
             SlimConv2D(f"{scope}/Branch_1/Conv2d_0b_3x3", branch_1[1], 3, **conv)],
            [SlimConv2D(f"{scope}/Branch_2/Conv2d_0a_1x1", branch_2[0], 1, **conv),
             SlimConv2D(f"{scope}/Branch_2/{BRANCH_2_3X3.get(name, 'Conv2d_0b_3x3')}", branch_2[1], 3, **conv)],
            [keras.layers.MaxPooling2D(3, strides=1, padding="same"),
             SlimConv2D(f"{scope}/Branch_3/Conv2d_0b_1x1", branch_3, 1, **conv)],
        ]

    def call(self, inputs, training=None):
        outputs = []
        for branch in self.branches:
            net = inputs
            for layer in branch:
                net = layer(net, training=training) if isinstance(layer, SlimConv2D) else layer(net)
            outputs.append(net)
        return ops.concatenate(outputs, axis=3)


class InceptionV1(SlimNet):
    """`inception_v1.inception_v1(inputs, num_classes, is_training, dropout_keep_prob,
    spatial_squeeze=True, scope='InceptionV1')` as a model."""

    def __init__(self, num_classes=1000, dropout_keep_prob=0.8, spatial_squeeze=True, scope="InceptionV1",
                 weight_decay=0.00004, use_batch_norm=True, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope = scope
        self.spatial_squeeze = spatial_squeeze
        norm = {"decay": 0.9997, "epsilon": 0.001, "scale": False} if use_batch_norm else None
        # inception_v1_base's own initializer (truncated normal 0.01) wins over the arg scope's.
        conv = {"activation": "relu", "batch_norm": norm, "weight_decay": weight_decay,
                "weights_initializer": keras.initializers.TruncatedNormal(stddev=0.01)}
        self.stem = [
            ("Conv2d_1a_7x7", SlimConv2D(f"{scope}/Conv2d_1a_7x7", 64, 7, stride=2, **conv)),
            ("MaxPool_2a_3x3", keras.layers.MaxPooling2D(3, strides=2, padding="same")),
            ("Conv2d_2b_1x1", SlimConv2D(f"{scope}/Conv2d_2b_1x1", 64, 1, **conv)),
            ("Conv2d_2c_3x3", SlimConv2D(f"{scope}/Conv2d_2c_3x3", 192, 3, **conv)),
            ("MaxPool_3a_3x3", keras.layers.MaxPooling2D(3, strides=2, padding="same")),
        ]
        for module in MODULES:
            if len(module) == 2:
                self.stem.append((module[0], keras.layers.MaxPooling2D(module[1], strides=2, padding="same")))
            else:
                self.stem.append((module[0], InceptionModule(f"{scope}/{module[0]}", *module[1:], conv=conv)))
        self.pool = keras.layers.AveragePooling2D(7, strides=1, padding="valid")
        self.dropout = keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits = SlimConv2D(f"{scope}/Logits/Conv2d_0c_1x1", num_classes, 1, activation=None,
                                 weight_decay=weight_decay, weights_initializer=slim_weights_initializer())

    def call(self, inputs, training=None):
        net, end_points = self.run_stem(inputs, training)
        return self.classify(self.dropout(self.pool(net), training=training), end_points, training)


def inception_v1(num_classes=1000, dropout_keep_prob=0.8, spatial_squeeze=True, scope="InceptionV1",
                 weight_decay=0.00004, use_batch_norm=True):
    """`inception_v1.inception_v1`; `weight_decay` and `use_batch_norm` are
    inception_v1_arg_scope()'s."""
    return InceptionV1(num_classes, dropout_keep_prob, spatial_squeeze, scope, weight_decay, use_batch_norm)
