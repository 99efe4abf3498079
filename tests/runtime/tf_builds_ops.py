"""Which operations of two TensorFlow builds compute differently, on the same float32 inputs:
what tf-slim's nets use (convolutions, a separable one, pooling, the fused batch-norm
kernel in training mode, its batch moments, and the reciprocal square root it normalises
with).

Usage, with the same TF_ENABLE_ONEDNN_OPTS for both (the slim-net proof uses 0):
    python tests/runtime/tf_builds_ops.py OUT.npz            # under each TensorFlow
    python tests/runtime/tf_builds_ops.py --compare A.npz B.npz

The comparison prints, per operation, how many float32 results differ, by how many ulps
at most (many, for results near 0) and relative to the largest result. A measurement for docs/tf2-mapping.md, not a test: which ops differ depends
on the processor as well as the builds.
"""
import sys

import numpy as np


def record(out: str) -> None:
    import tensorflow as tf

    rng = np.random.RandomState(0)
    results = {}
    x = rng.standard_normal((2, 35, 35, 64)).astype(np.float32) * 3 + 1
    for name, (height, width, stride, padding) in {
            "conv_1x1": (1, 1, 1, "SAME"), "conv_3x3": (3, 3, 1, "SAME"), "conv_3x3_s2_valid": (3, 3, 2, "VALID"),
            "conv_5x5": (5, 5, 1, "SAME"), "conv_7x7_s2": (7, 7, 2, "SAME"), "conv_1x7": (1, 7, 1, "SAME"),
            "conv_7x1": (7, 1, 1, "SAME")}.items():
        kernel = rng.standard_normal((height, width, 64, 48)).astype(np.float32) * 0.05
        results[name] = tf.nn.conv2d(x, kernel, stride, padding).numpy()
    depthwise = rng.standard_normal((7, 7, 64, 2)).astype(np.float32) * 0.05
    pointwise = rng.standard_normal((1, 1, 128, 32)).astype(np.float32) * 0.05
    results["separable_7x7_s2"] = tf.nn.separable_conv2d(x, depthwise, pointwise, [1, 2, 2, 1], "SAME").numpy()
    results["avg_pool_3x3"] = tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy()
    results["max_pool_3x3_s2"] = tf.nn.max_pool2d(x, 3, 2, "SAME").numpy()
    for shape in ((2, 32, 32, 64), (2, 8, 8, 256), (2, 2, 2, 2048)):
        inputs = rng.standard_normal(shape).astype(np.float32) * 3 + 1
        scale = rng.uniform(0.5, 1.5, shape[-1]).astype(np.float32)
        offset = rng.standard_normal(shape[-1]).astype(np.float32)
        empty = tf.constant([], tf.float32)
        outputs, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=inputs, scale=scale, offset=offset, mean=empty, variance=empty, epsilon=1e-3,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
        label = "x".join(str(size) for size in shape)
        results[f"fused_batch_norm_{label}/outputs"] = outputs.numpy()
        results[f"fused_batch_norm_{label}/mean"] = mean.numpy()
        results[f"fused_batch_norm_{label}/variance"] = variance.numpy()
    positive = np.abs(rng.standard_normal(4096)).astype(np.float32) + 1e-3
    results["rsqrt"] = tf.math.rsqrt(positive).numpy()
    results["rsqrt/correctly_rounded"] = (1.0 / np.sqrt(positive.astype(np.float64))).astype(np.float32)
    np.savez(out, **results)


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def compare(first: str, second: str) -> None:
    a, b = np.load(first), np.load(second)
    for key in a.files:
        apart = ulps(a[key], b[key])
        relative = float(np.max(np.abs(a[key] - b[key])) / np.max(np.abs(a[key])))
        print(f"{key}: {int((apart > 0).sum())} of {apart.size} differ, at most {int(apart.max())} ulp "
              f"({relative:.2g} of the largest value)")
    for name, found in (("first", a), ("second", b)):
        wrong = int((found["rsqrt"] != found["rsqrt/correctly_rounded"]).sum())
        print(f"rsqrt of the {name} build: {wrong} of {found['rsqrt'].size} not correctly rounded")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        record(sys.argv[1])
