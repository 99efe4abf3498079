"""Which tf-slim nets convert, with which arguments: data, read by `slim_nets.upgrade`.

Names are as `facts.qualname` resolves them: `tf_slim` and `tensorflow.contrib.slim`
both read as `tensorflow.contrib.slim`. The TF models repository's `nets` package
(research/slim, on the user's path) is a different variant of the nets tf-slim has (its
ResNets squeeze the logits by default, its VGG has more options), which are not converted
from it; MobileNet v1 is only there, and converts from it when the project has no
`nets/mobilenet_v1.py` of its own (a copy, often modified, is the project's code).
"""

from __future__ import annotations

from dataclasses import dataclass

NETS_PACKAGE = "tensorflow.contrib.slim.nets"
MODELS_PACKAGE = "nets"  # the TF models repository's research/slim/nets, imported as `nets`
# The directory `upgrade` writes beside the upgraded module: migrate_bn/slim_nets/keras.
EMITTED_PACKAGE = "slim_nets_keras"


@dataclass(frozen=True)
class NetSpec:
    family: str  # the module, in tf-slim and in the emitted package
    positions: tuple  # the slim function's parameters in order
    constructor: frozenset  # the ones the Keras net function takes too
    arg_scope: str  # the arg-scope factory the net is used under (in `family` or resnet_utils)
    arg_scope_keywords: frozenset  # its keywords the Keras net function takes
    logits: str  # the scope (under the net's) of the last layer, whose biases give num_classes
    build_size: int  # an input size the net accepts, to build its weights
    default_scope: str = ""  # the net's variable scope when the call names none ("": the net's name)
    aux_logits: str = ""  # the scope of an optional auxiliary head's logits, which a checkpoint may lack
    package: str = NETS_PACKAGE  # where the slim net lives (MODELS_PACKAGE: outside the project only)


_RESNET = dict(positions=("inputs", "num_classes", "is_training", "global_pool", "output_stride", "reuse", "scope"),
               constructor=frozenset({"num_classes", "global_pool", "output_stride", "scope"}),
               arg_scope="resnet_arg_scope",
               arg_scope_keywords=frozenset({"weight_decay", "batch_norm_decay", "batch_norm_epsilon",
                                             "batch_norm_scale"}),
               logits="logits", build_size=64)
_VGG = dict(positions=("inputs", "num_classes", "is_training", "dropout_keep_prob", "spatial_squeeze", "scope"),
            constructor=frozenset({"num_classes", "dropout_keep_prob", "spatial_squeeze", "scope"}),
            arg_scope="vgg_arg_scope", arg_scope_keywords=frozenset({"weight_decay"}),
            logits="fc8", build_size=224)

_INCEPTION_V1 = dict(positions=("inputs", "num_classes", "is_training", "dropout_keep_prob", "prediction_fn",
                                "spatial_squeeze", "reuse", "scope"),
                     constructor=frozenset({"num_classes", "dropout_keep_prob", "spatial_squeeze", "scope"}),
                     arg_scope="inception_v1_arg_scope", arg_scope_keywords=frozenset({"weight_decay", "use_batch_norm"}),
                     logits="Logits/Conv2d_0c_1x1", build_size=224)

_INCEPTION_V2 = dict(positions=("inputs", "num_classes", "is_training", "dropout_keep_prob", "min_depth",
                                "depth_multiplier", "prediction_fn", "spatial_squeeze", "reuse", "scope"),
                     constructor=frozenset({"num_classes", "dropout_keep_prob", "min_depth", "depth_multiplier",
                                            "spatial_squeeze", "scope"}),
                     arg_scope="inception_v2_arg_scope", arg_scope_keywords=frozenset({"weight_decay"}),
                     logits="Logits/Conv2d_1c_1x1", build_size=224)

_INCEPTION_V3 = dict(positions=("inputs", "num_classes", "is_training", "dropout_keep_prob", "min_depth",
                                "depth_multiplier", "prediction_fn", "spatial_squeeze", "reuse", "create_aux_logits",
                                "scope"),
                     constructor=frozenset({"num_classes", "dropout_keep_prob", "min_depth", "depth_multiplier",
                                            "spatial_squeeze", "create_aux_logits", "scope"}),
                     arg_scope="inception_v3_arg_scope",
                     arg_scope_keywords=frozenset({"weight_decay", "batch_norm_decay", "batch_norm_epsilon"}),
                     # 299: the auxiliary head's conv is 5x5 (`Conv2d_2a_5x5`) only from that size on.
                     logits="Logits/Conv2d_1c_1x1", build_size=299, aux_logits="AuxLogits/Conv2d_2b_1x1")

# research/slim's nets/mobilenet_v1.py (2017-2020; modern copies import tf_slim). Its arg
# scope's defaults: weight_decay 4e-5, stddev 0.09, regularize_depthwise False,
# batch_norm_decay 0.9997, batch_norm_epsilon 0.001 (written out in keras/mobilenet_v1.py).
_MOBILENET_V1 = dict(positions=("inputs", "num_classes", "dropout_keep_prob", "is_training", "min_depth",
                                "depth_multiplier", "conv_defs", "prediction_fn", "spatial_squeeze", "reuse",
                                "scope", "global_pool"),
                     constructor=frozenset({"num_classes", "dropout_keep_prob", "min_depth", "depth_multiplier",
                                            "spatial_squeeze", "scope", "global_pool"}),
                     arg_scope="mobilenet_v1_arg_scope",
                     arg_scope_keywords=frozenset({"weight_decay", "stddev", "regularize_depthwise",
                                                   "batch_norm_decay", "batch_norm_epsilon"}),
                     logits="Logits/Conv2d_1c_1x1", build_size=224, default_scope="MobilenetV1",
                     package=MODELS_PACKAGE)

NETS = {
    **{name: NetSpec("resnet_v1", **_RESNET) for name in ("resnet_v1_50", "resnet_v1_101", "resnet_v1_152")},
    **{name: NetSpec("resnet_v2", **_RESNET) for name in ("resnet_v2_50", "resnet_v2_101", "resnet_v2_152")},
    **{name: NetSpec("vgg", **_VGG) for name in ("vgg_a", "vgg_16", "vgg_19")},
    "inception_v1": NetSpec("inception_v1", **_INCEPTION_V1, default_scope="InceptionV1"),
    "inception_v2": NetSpec("inception_v2", **_INCEPTION_V2, default_scope="InceptionV2"),
    "inception_v3": NetSpec("inception_v3", **_INCEPTION_V3, default_scope="InceptionV3"),
    **{name: NetSpec("mobilenet_v1", **_MOBILENET_V1)
       for name in ("mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025")},
}
# Modules an arg-scope factory may be reached through (resnet_v1.resnet_utils.resnet_arg_scope).
ARG_SCOPE_MODULES = ("resnet_utils",)
