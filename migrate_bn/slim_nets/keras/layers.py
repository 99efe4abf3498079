"""The building blocks of tf-slim's nets as Keras 3 layers, with slim's defaults written out.

Each layer that owns weights knows the variable scope tf-slim gave it (`scope`) and lists
its weights under tf-slim's names (`slim_variables()`), so a slim checkpoint maps onto
the Keras model one variable to one weight. Only `keras` and `tensorflow`'s Keras are
needed: this package is copied into the user's project by `migrate-bn upgrade`.
"""

from __future__ import annotations

import math

import keras
from keras import ops


class FusedBatchNorm(keras.layers.BatchNormalization):
    """Batch norm as TF1's fused kernel computed it (slim and `tf.layers` on 4-D input).

    On the TensorFlow backend with 4-D input the layer runs that very kernel
    (`fused_batch_norm` below): the batch moments are TF1's to the bit, the outputs to the
    last bit of the TensorFlow build's kernel, the gradient is the kernel's own. Elsewhere
    it computes the same in Keras ops, to float32 rounding: normalised with
    the batch's biased variance, the moving variance accumulating the n/(n-1)-corrected
    one as the fused kernel did (stock Keras 3 accumulates the biased variance, so its
    inference outputs would drift from TF1's by up to 1/(n-1)).
    """

    def call(self, inputs, training=None, mask=None):
        channels = self.axis % len(inputs.shape)  # Keras keeps axis=-1 as given
        training = bool(training and self.trainable)
        if len(inputs.shape) == 4 and channels in (1, 3) and keras.backend.backend() == "tensorflow":
            outputs, mean, variance = fused_batch_norm(
                inputs, self.gamma, self.beta, self.moving_mean, self.moving_variance, self.epsilon, training,
                channels_last=channels == 3)
        else:
            outputs, mean, variance = self._portable(inputs, channels, training)
        if training:
            # TF1 updated `moving -= (moving - value) * (1 - decay)` (assign_moving_average),
            # with `1 - decay` computed in float32 from the float32 decay: 0.9997 gives
            # 0.00029999018, 3.3e-5 from float32(0.0003), and every update carries that.
            complement = 1.0 - ops.cast(self.momentum, self.moving_mean.dtype)
            self.moving_mean.assign(self.moving_mean - (self.moving_mean - mean) * complement)
            self.moving_variance.assign(self.moving_variance - (self.moving_variance - variance) * complement)
        return outputs

    def _portable(self, inputs, channels: int, training: bool):
        """The kernel's arithmetic in Keras ops (any backend): outputs, and in training the
        batch mean and corrected variance."""
        axes = [axis for axis in range(len(inputs.shape)) if axis != channels]
        if training:
            mean, variance, count = _fused_moments(inputs, channels, axes)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        # The fused kernel centres first, (x - mean) * (gamma / sqrt(var + eps)) + beta; Keras's
        # x * inv + (beta - mean * inv) loses digits where a channel's mean dwarfs its spread,
        # and over fifty layers that shows.
        broadcast = [1] * len(inputs.shape)
        broadcast[channels] = -1
        factor = ops.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            factor = factor * self.gamma
        outputs = (inputs - ops.reshape(mean, broadcast)) * ops.reshape(factor, broadcast)
        if self.beta is not None:
            outputs = outputs + ops.reshape(self.beta, broadcast)
        if training:
            variance = variance * (count / (count - 1.0))
        return outputs, mean, variance


def _fused_moments(inputs, channels: int, axes: list):
    """The batch's mean and biased variance per channel, summed as the fused CPU kernel
    sums them (over a [values, channels] view, then scaled by 1/n), and n: the same
    float32 rounding, which a fifty-layer net in training mode would otherwise amplify."""
    shape = ops.shape(inputs)
    count = ops.cast(math.prod(shape[axis] for axis in axes), inputs.dtype)
    if channels == len(inputs.shape) - 1:
        rows = ops.reshape(inputs, (-1, shape[channels]))
        mean = ops.sum(rows, axis=0) * (1.0 / count)
        variance = ops.sum(ops.square(rows - mean), axis=0) * (1.0 / count)
    else:
        mean, variance = ops.moments(inputs, axes=axes)
    return mean, variance, count


def fused_batch_norm(inputs, gamma, beta, moving_mean, moving_variance, epsilon: float, training: bool,
                     channels_last: bool = True):
    """TF1's fused batch-norm kernel (`FusedBatchNormV3`, what slim and `tf.layers` ran on
    4-D input), called from Keras 3 on the TensorFlow backend: `(outputs, mean, variance)`,
    in training the batch mean and the n/(n-1)-corrected batch variance the kernel hands to
    the moving averages, else the moving statistics given. The same kernel sums the batch
    moments in the same order, so a deep net in training mode reproduces TF1 exactly where
    any other summation would differ by float32 rounding that the depth amplifies; its
    gradient is TF1's too (FusedBatchNormGradV3). `gamma`/`beta` None: slim's
    `scale=False`/`center=False` (ones / zeros). Needs TensorFlow as Keras's backend."""
    import tensorflow as tf  # only on that backend: the kernel is TensorFlow's

    channels = inputs.shape[-1 if channels_last else 1]
    scale = gamma if gamma is not None else tf.ones((channels,), inputs.dtype)
    offset = beta if beta is not None else tf.zeros((channels,), inputs.dtype)
    empty = tf.constant([], inputs.dtype)
    outputs, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
        x=inputs, scale=scale, offset=offset,
        mean=empty if training else moving_mean, variance=empty if training else moving_variance,
        epsilon=epsilon, exponential_avg_factor=1.0, data_format="NHWC" if channels_last else "NCHW",
        is_training=training)
    return outputs, mean, variance


def slim_batch_norm(scope: str, decay: float, epsilon: float, scale: bool, center: bool = True) -> FusedBatchNorm:
    """`slim.batch_norm` whose variables live in `scope` (a conv's normalizer: `conv1/BatchNorm`;
    called on its own with `scope='postnorm'`: `postnorm`); slim's `decay` is Keras's momentum."""
    layer = FusedBatchNorm(momentum=decay, epsilon=epsilon, scale=scale, center=center, name=_keras_name(scope))
    layer.scope = scope
    return layer


def _keras_name(scope: str) -> str:
    """Keras 3 refuses `/` in layer names; the slim scope is kept in `.scope`."""
    return scope.replace("/", ".")


def l2(weight_decay: float):
    """slim's `l2_regularizer(w)` is w * sum(x**2) / 2 (tf.nn.l2_loss); Keras's L2(l) is l * sum(x**2)."""
    return keras.regularizers.L2(weight_decay / 2.0) if weight_decay else None


def slim_weights_initializer():
    """slim's `variance_scaling_initializer()` (factor 2, fan in, truncated normal): Keras's
    nearest. It only matters when the model trains from scratch, not from a checkpoint."""
    return keras.initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")


class SlimConv2D(keras.layers.Layer):
    """`slim.conv2d`: convolution, then batch norm (no bias) or a bias, then the activation.

    `padding` is "SAME", "VALID", or "conv2d_same" (resnet_utils.conv2d_same: SAME for
    stride 1, else explicit symmetric zero padding and VALID, so that the result does not
    depend on the input size's parity).
    """

    def __init__(self, scope: str, filters: int, kernel_size: int, stride: int = 1, rate: int = 1,
                 padding: str = "SAME", activation="relu", batch_norm: dict | None = None,
                 weight_decay: float = 0.0, weights_initializer=None, **kwargs):
        super().__init__(name=_keras_name(scope), **kwargs)
        self.scope = scope
        self.kernel_size = kernel_size
        self.rate = rate
        self.explicit_padding = padding == "conv2d_same" and stride > 1
        keras_padding = "valid" if padding == "VALID" or self.explicit_padding else "same"
        self.conv = keras.layers.Conv2D(
            filters, kernel_size, strides=stride, dilation_rate=rate, padding=keras_padding,
            use_bias=batch_norm is None, kernel_initializer=weights_initializer or keras.initializers.GlorotUniform(),
            bias_initializer="zeros", kernel_regularizer=l2(weight_decay), name=_keras_name(scope) + ".conv")
        self.norm = slim_batch_norm(scope + "/BatchNorm", **batch_norm) if batch_norm is not None else None
        self.activation = keras.activations.get(activation) if activation else None

    def call(self, inputs, training=None):
        if self.explicit_padding:
            effective = self.kernel_size + (self.kernel_size - 1) * (self.rate - 1)
            begin = (effective - 1) // 2
            end = effective - 1 - begin
            inputs = ops.pad(inputs, [[0, 0], [begin, end], [begin, end], [0, 0]])
        outputs = self.conv(inputs)
        if self.norm is not None:
            outputs = self.norm(outputs, training=training)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def slim_variables(self) -> list:
        """(slim variable name, Keras variable) for the convolution's weights (its
        batch norm lists its own)."""
        pairs = [(self.scope + "/weights", self.conv.kernel)]
        if self.conv.use_bias:
            pairs.append((self.scope + "/biases", self.conv.bias))
        return pairs


class SlimSeparableConv2D(SlimConv2D):
    """`slim.separable_conv2d`: a depthwise convolution (`depth_multiplier` channels per
    input channel, weights `depthwise_weights`), then a 1x1 pointwise one to `filters`
    channels (`pointwise_weights`), then batch norm (no bias) or a bias, then the
    activation. `filters=None` is slim's `num_outputs=None`: the depthwise convolution
    alone, its bias over its `depth_multiplier * channels` outputs.

    With `filters` it is Keras's `SeparableConv2D`, which on the TensorFlow backend runs
    `tf.nn.separable_conv2d` as slim's layer did (the depthwise convolution strided, the
    pointwise VALID); without, `DepthwiseConv2D` (`tf.nn.depthwise_conv2d`, as slim). The
    rest (batch norm, activation, the net's listing of its weights) is SlimConv2D's.
    """

    def __init__(self, scope: str, filters, kernel_size, depth_multiplier: int = 1, stride: int = 1,
                 rate: int = 1, padding: str = "SAME", activation="relu", batch_norm: dict | None = None,
                 weight_decay: float = 0.0, weights_initializer=None, **kwargs):
        keras.layers.Layer.__init__(self, name=_keras_name(scope), **kwargs)  # its own convolution
        self.scope = scope
        self.explicit_padding = False
        common = dict(kernel_size=kernel_size, strides=stride, dilation_rate=rate, padding=padding.lower(),
                      depth_multiplier=depth_multiplier, use_bias=batch_norm is None, bias_initializer="zeros",
                      name=_keras_name(scope) + ".conv")
        initializer = weights_initializer or keras.initializers.GlorotUniform()
        if filters is None:
            self.conv = keras.layers.DepthwiseConv2D(depthwise_initializer=initializer,
                                                     depthwise_regularizer=l2(weight_decay), **common)
        else:
            self.conv = keras.layers.SeparableConv2D(filters, depthwise_initializer=initializer,
                                                     pointwise_initializer=initializer,
                                                     depthwise_regularizer=l2(weight_decay),
                                                     pointwise_regularizer=l2(weight_decay), **common)
        self.norm = slim_batch_norm(scope + "/BatchNorm", **batch_norm) if batch_norm is not None else None
        self.activation = keras.activations.get(activation) if activation else None

    def slim_variables(self) -> list:
        """(slim variable name, Keras variable) for the convolutions' weights."""
        if isinstance(self.conv, keras.layers.SeparableConv2D):
            pairs = [(self.scope + "/depthwise_weights", self.conv.depthwise_kernel),
                     (self.scope + "/pointwise_weights", self.conv.pointwise_kernel)]
        else:  # Keras's DepthwiseConv2D calls its depthwise weights `kernel`
            pairs = [(self.scope + "/depthwise_weights", self.conv.kernel)]
        if self.conv.use_bias:
            pairs.append((self.scope + "/biases", self.conv.bias))
        return pairs


def batch_norm_variables(layer: FusedBatchNorm) -> list:
    pairs = []
    if layer.center:
        pairs.append((layer.scope + "/beta", layer.beta))
    if layer.scale:
        pairs.append((layer.scope + "/gamma", layer.gamma))
    return pairs + [(layer.scope + "/moving_mean", layer.moving_mean),
                    (layer.scope + "/moving_variance", layer.moving_variance)]


class SlimNet(keras.Model):
    """A tf-slim net: `model(images, training=...)` returns `(net, end_points)` as the
    slim function did; `slim_variables()` names every weight as the slim checkpoint does
    (build the model first, by calling it once)."""

    def slim_variables(self) -> dict:
        found: dict = {}
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, SlimConv2D):
                found.update(layer.slim_variables())
            elif isinstance(layer, FusedBatchNorm):
                found.update(batch_norm_variables(layer))
        return found

    def run_stem(self, inputs, training) -> tuple:
        """`self.stem`'s (end point, layer) pairs applied in order: `(net, end_points)`;
        slim's layers take the training flag, Keras's max pooling does not."""
        end_points = {}
        net = inputs
        for name, layer in self.stem:
            net = end_points[name] = layer(net) if isinstance(layer, keras.layers.MaxPooling2D) else layer(
                net, training=training)
        return net, end_points

    def classify(self, net, end_points: dict, training) -> tuple:
        """slim's Inception head after its pool and dropout: the 1x1 logits conv (squeezed
        to (batch, classes) with spatial_squeeze), `Logits` and `Predictions`."""
        logits = self.logits(net, training=training)
        if self.spatial_squeeze:
            logits = ops.squeeze(logits, axis=(1, 2))
        end_points["Logits"] = logits
        end_points["Predictions"] = ops.softmax(logits, axis=-1)
        return logits, end_points


def inception_depth(depth_multiplier: float, min_depth: int):
    """slim's Inception `depth`: a layer's channels scaled by `depth_multiplier`, at least
    `min_depth`."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")

    def depth(filters: int) -> int:
        return max(int(filters * depth_multiplier), min_depth)
    return depth
