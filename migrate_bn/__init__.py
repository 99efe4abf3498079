"""migrate-bn: find and fix batch-normalization bugs in TensorFlow 1.x code."""

__version__ = "0.1.0"
