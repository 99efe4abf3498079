"""tf-slim's Inception V3 (`tf_slim.nets.inception_v3`) in Keras 3, under
`inception_v3_arg_scope()`.

    model = inception_v3(num_classes=1000)
    logits, end_points = model(images, training=True)  # was inception_v3.inception_v3(images, 1000, is_training=True)

Every conv is followed by batch norm (decay 0.9997, epsilon 0.001, slim's `scale=False`:
no gamma) and ReLU. The stem's convs and pools are VALID unless said, the modules' SAME,
all of stride 1 unless said. As in slim, the final average pool (8x8) and the auxiliary
head's 5x5 conv shrink to the feature map when the input is smaller than 299x299; the
auxiliary conv's scope names its kernel (`Conv2d_2a_5x5`), so the layout of a published
checkpoint needs 299x299 input at build time (`ckpt-convert` builds at that size).
"""

from __future__ import annotations

import keras
from keras import ops

from .layers import SlimConv2D, SlimNet, inception_depth, slim_weights_initializer

# A branch is a sequence of steps: ("conv", scope, depth, kernel[, stride, padding]),
# ("max"/"avg", scope, size, stride, padding) or ("split", [conv, conv]) for two convs of
# the same input concatenated (Mixed_7b, Mixed_7c). Depths are before `depth_multiplier`.
_SAME_POOL = ("avg", "AvgPool_0a_3x3", 3, 1, "SAME")


def _mixed_35(pool_depth: int, branch_1: tuple) -> list:
    return [
        [("conv", "Conv2d_0a_1x1", 64, (1, 1))],
        [("conv", branch_1[0], 48, (1, 1)), ("conv", branch_1[1], 64, (5, 5))],
        [("conv", "Conv2d_0a_1x1", 64, (1, 1)), ("conv", "Conv2d_0b_3x3", 96, (3, 3)),
         ("conv", "Conv2d_0c_3x3", 96, (3, 3))],
        [_SAME_POOL, ("conv", "Conv2d_0b_1x1", pool_depth, (1, 1))],
    ]


def _mixed_17(width: int) -> list:
    return [
        [("conv", "Conv2d_0a_1x1", 192, (1, 1))],
        [("conv", "Conv2d_0a_1x1", width, (1, 1)), ("conv", "Conv2d_0b_1x7", width, (1, 7)),
         ("conv", "Conv2d_0c_7x1", 192, (7, 1))],
        [("conv", "Conv2d_0a_1x1", width, (1, 1)), ("conv", "Conv2d_0b_7x1", width, (7, 1)),
         ("conv", "Conv2d_0c_1x7", width, (1, 7)), ("conv", "Conv2d_0d_7x1", width, (7, 1)),
         ("conv", "Conv2d_0e_1x7", 192, (1, 7))],
        [_SAME_POOL, ("conv", "Conv2d_0b_1x1", 192, (1, 1))],
    ]


def _mixed_8(second_3x1: str) -> list:
    return [
        [("conv", "Conv2d_0a_1x1", 320, (1, 1))],
        [("conv", "Conv2d_0a_1x1", 384, (1, 1)),
         ("split", [("conv", "Conv2d_0b_1x3", 384, (1, 3)), ("conv", second_3x1, 384, (3, 1))])],
        [("conv", "Conv2d_0a_1x1", 448, (1, 1)), ("conv", "Conv2d_0b_3x3", 384, (3, 3)),
         ("split", [("conv", "Conv2d_0c_1x3", 384, (1, 3)), ("conv", "Conv2d_0d_3x1", 384, (3, 1))])],
        [_SAME_POOL, ("conv", "Conv2d_0b_1x1", 192, (1, 1))],
    ]


# slim's scope names as slim wrote them, including its irregular ones (Mixed_5c's
# `Conv2d_0b_1x1` and `Conv_1_0c_5x5`; the stride-2 3x3 convs of Mixed_6a named `_1x1`).
STEM = (
    ("Conv2d_1a_3x3", ("conv", 32, (3, 3), 2, "VALID")),
    ("Conv2d_2a_3x3", ("conv", 32, (3, 3), 1, "VALID")),
    ("Conv2d_2b_3x3", ("conv", 64, (3, 3), 1, "SAME")),
    ("MaxPool_3a_3x3", ("max", 3, 2, "VALID")),
    ("Conv2d_3b_1x1", ("conv", 80, (1, 1), 1, "VALID")),
    ("Conv2d_4a_3x3", ("conv", 192, (3, 3), 1, "VALID")),
    ("MaxPool_5a_3x3", ("max", 3, 2, "VALID")),
)
MODULES = (
    ("Mixed_5b", _mixed_35(32, ("Conv2d_0a_1x1", "Conv2d_0b_5x5"))),
    ("Mixed_5c", _mixed_35(64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
    ("Mixed_5d", _mixed_35(64, ("Conv2d_0a_1x1", "Conv2d_0b_5x5"))),
    ("Mixed_6a", [
        [("conv", "Conv2d_1a_1x1", 384, (3, 3), 2, "VALID")],
        [("conv", "Conv2d_0a_1x1", 64, (1, 1)), ("conv", "Conv2d_0b_3x3", 96, (3, 3)),
         ("conv", "Conv2d_1a_1x1", 96, (3, 3), 2, "VALID")],
        [("max", "MaxPool_1a_3x3", 3, 2, "VALID")],
    ]),
    ("Mixed_6b", _mixed_17(128)),
    ("Mixed_6c", _mixed_17(160)),
    ("Mixed_6d", _mixed_17(160)),
    ("Mixed_6e", _mixed_17(192)),
    ("Mixed_7a", [
        [("conv", "Conv2d_0a_1x1", 192, (1, 1)), ("conv", "Conv2d_1a_3x3", 320, (3, 3), 2, "VALID")],
        [("conv", "Conv2d_0a_1x1", 192, (1, 1)), ("conv", "Conv2d_0b_1x7", 192, (1, 7)),
         ("conv", "Conv2d_0c_7x1", 192, (7, 1)), ("conv", "Conv2d_1a_3x3", 192, (3, 3), 2, "VALID")],
        [("max", "MaxPool_1a_3x3", 3, 2, "VALID")],
    ]),
    ("Mixed_7b", _mixed_8("Conv2d_0b_3x1")),
    ("Mixed_7c", _mixed_8("Conv2d_0c_3x1")),
)


def _pool(kind: str, size, stride: int, padding: str):
    pool = keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D
    return pool(size, strides=stride, padding=padding.lower())


class Mixed(keras.layers.Layer):
    """One of Inception V3's modules: its branches run on the same input, concatenated."""

    def __init__(self, scope: str, branches: list, depth, conv: dict, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.branches = [[self._step(f"{scope}/Branch_{index}", step, depth, conv) for step in branch]
                         for index, branch in enumerate(branches)]

    def _step(self, scope: str, step: tuple, depth, conv: dict):
        if step[0] == "split":
            return [self._step(scope, part, depth, conv) for part in step[1]]
        if step[0] == "conv":
            _, name, filters, kernel, *rest = step
            stride, padding = rest if rest else (1, "SAME")
            return SlimConv2D(f"{scope}/{name}", depth(filters), kernel, stride=stride, padding=padding, **conv)
        return _pool(step[0], step[2], step[3], step[4])

    def call(self, inputs, training=None):
        outputs = []
        for branch in self.branches:
            net = inputs
            for step in branch:
                if isinstance(step, list):
                    net = ops.concatenate([part(net, training=training) for part in step], axis=3)
                else:
                    net = step(net, training=training) if isinstance(step, SlimConv2D) else step(net)
            outputs.append(net)
        return ops.concatenate(outputs, axis=3)


class AuxLogits(keras.layers.Layer):
    """The auxiliary head on Mixed_6e: 5x5 average pool of stride 3, a 1x1 conv, a conv
    over what is left (5x5 at most: slim names it after its size), the logits."""

    def __init__(self, scope: str, num_classes: int, depth, conv: dict, weight_decay: float, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        self.scope, self.depth, self.conv_arguments = scope, depth, conv
        self.pool = keras.layers.AveragePooling2D(5, strides=3, padding="valid")
        self.reduce = SlimConv2D(f"{scope}/Conv2d_1b_1x1", depth(128), 1, **conv)
        self.logits = SlimConv2D(f"{scope}/Conv2d_2b_1x1", num_classes, 1, activation=None, weight_decay=weight_decay,
                                 weights_initializer=keras.initializers.TruncatedNormal(stddev=0.001))
        self.spread = None  # built with the input's size

    def build(self, input_shape):
        # What the 5x5 pool of stride 3 leaves of the feature map.
        height, width = ((size - 5) // 3 + 1 for size in input_shape[1:3])
        kernel = (min(height, 5), min(width, 5))
        self.spread = SlimConv2D(f"{self.scope}/Conv2d_2a_{kernel[0]}x{kernel[1]}", self.depth(768), kernel,
                                 padding="VALID", **{**self.conv_arguments,
                                                     "weights_initializer": keras.initializers.TruncatedNormal(
                                                         stddev=0.01)})

    def call(self, inputs, training=None):
        net = self.reduce(self.pool(inputs), training=training)
        net = self.spread(net, training=training)
        return self.logits(net, training=training)


class InceptionV3(SlimNet):
    """`inception_v3.inception_v3(inputs, num_classes, is_training, dropout_keep_prob,
    min_depth, depth_multiplier, spatial_squeeze=True, create_aux_logits=True,
    scope='InceptionV3')` as a model."""

    def __init__(self, num_classes=1000, dropout_keep_prob=0.8, min_depth=16, depth_multiplier=1.0,
                 spatial_squeeze=True, create_aux_logits=True, scope="InceptionV3", weight_decay=0.00004,
                 batch_norm_decay=0.9997, batch_norm_epsilon=0.001, **kwargs):
        super().__init__(name=scope.replace("/", "."), **kwargs)
        depth = inception_depth(depth_multiplier, min_depth)
        self.scope = scope
        self.spatial_squeeze = spatial_squeeze
        conv = {"activation": "relu", "weight_decay": weight_decay, "weights_initializer": slim_weights_initializer(),
                "batch_norm": {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon, "scale": False}}
        self.stem = []
        for name, (kind, *step) in STEM:
            if kind == "conv":
                filters, kernel, stride, padding = step
                layer = SlimConv2D(f"{scope}/{name}", depth(filters), kernel, stride=stride, padding=padding, **conv)
            else:
                layer = _pool(kind, *step)
            self.stem.append((name, layer))
        self.stem += [(name, Mixed(f"{scope}/{name}", branches, depth, conv)) for name, branches in MODULES]
        self.aux = (AuxLogits(f"{scope}/AuxLogits", num_classes, depth, conv, weight_decay)
                    if create_aux_logits and num_classes else None)
        self.dropout = keras.layers.Dropout(1.0 - dropout_keep_prob)
        self.logits = (SlimConv2D(f"{scope}/Logits/Conv2d_1c_1x1", num_classes, 1, activation=None,
                                  weight_decay=weight_decay, weights_initializer=slim_weights_initializer())
                       if num_classes else None)

    def call(self, inputs, training=None):
        net, end_points = self.run_stem(inputs, training)
        if self.aux is not None:
            aux = self.aux(end_points["Mixed_6e"], training=training)
            end_points["AuxLogits"] = ops.squeeze(aux, axis=(1, 2)) if self.spatial_squeeze else aux
        # slim's 8x8 average pool, shrunk to the feature map of a smaller input.
        kernel = tuple(min(size, 8) for size in net.shape[1:3])
        net = ops.average_pool(net, kernel, strides=1, padding="valid")
        net = end_points["PreLogits"] = self.dropout(net, training=training)
        if self.logits is None:
            return net, end_points
        return self.classify(net, end_points, training)


def inception_v3(num_classes=1000, dropout_keep_prob=0.8, min_depth=16, depth_multiplier=1.0, spatial_squeeze=True,
                 create_aux_logits=True, scope="InceptionV3", weight_decay=0.00004, batch_norm_decay=0.9997,
                 batch_norm_epsilon=0.001):
    """`inception_v3.inception_v3`; `weight_decay`, `batch_norm_decay` and
    `batch_norm_epsilon` are inception_v3_arg_scope()'s."""
    return InceptionV3(num_classes, dropout_keep_prob, min_depth, depth_multiplier, spatial_squeeze,
                       create_aux_logits, scope, weight_decay, batch_norm_decay, batch_norm_epsilon)
