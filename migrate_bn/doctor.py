"""`migrate-bn doctor CKPT`: were a checkpoint's batch-norm moving statistics ever updated?

The runtime fingerprint of BN001/BN002/BN003: after training, a layer whose moving mean
is still exactly 0 and whose moving variance is still exactly 1 never ran its updates.
The checkpoint is read as data (TensorFlow's checkpoint reader: variable names and
values); no code from it is loaded or run. TensorFlow is needed only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import numpy as np

MEAN_SUFFIXES = ("moving_mean",)
VARIANCE_SUFFIXES = ("moving_variance",)


@dataclass(frozen=True)
class LayerStatistics:
    layer: str  # the variables' common prefix, e.g. "net/conv1/BatchNorm"
    mean: np.ndarray
    variance: Optional[np.ndarray]

    @property
    def never_updated(self) -> bool:
        """Exactly the initial values (zeros, ones): no update ever ran."""
        mean_initial = bool(np.all(self.mean == 0.0))
        variance_initial = self.variance is None or bool(np.all(self.variance == 1.0))
        return mean_initial and variance_initial


def layers(names: Iterable[str], read: Callable[[str], np.ndarray]) -> list[LayerStatistics]:
    """Pair each layer's moving mean with its moving variance, by variable name."""
    names = list(names)
    found = []
    for name in sorted(names):
        prefix, _, leaf = name.rpartition("/")
        if leaf not in MEAN_SUFFIXES or "/biased" in name or "/local_step" in name:
            continue
        variance_name = next((f"{prefix}/{suffix}" for suffix in VARIANCE_SUFFIXES
                              if f"{prefix}/{suffix}" in names), None)
        variance = np.asarray(read(variance_name)) if variance_name else None
        found.append(LayerStatistics(prefix, np.asarray(read(name)), variance))
    return found


def examine(checkpoint: str) -> list[LayerStatistics]:
    """The batch-norm layers of a TF checkpoint (a prefix or a directory)."""
    try:
        import tensorflow as tf
    except ImportError as error:  # pragma: no cover - the extra is missing
        raise RuntimeError("`migrate-bn doctor` needs TensorFlow: pip install 'migrate-bn[tf1]' "
                           "or any tensorflow") from error
    path = tf.train.latest_checkpoint(checkpoint) or checkpoint
    reader = tf.train.load_checkpoint(path)
    names = list(reader.get_variable_to_shape_map())
    return layers(names, reader.get_tensor)


def report(statistics: list[LayerStatistics]) -> tuple[list[str], int]:
    """Lines to print, and how many layers never updated."""
    lines = []
    stale = [layer for layer in statistics if layer.never_updated]
    for layer in statistics:
        if layer.never_updated:
            lines.append(f"{layer.layer}: moving mean still exactly 0 and moving variance exactly 1 "
                         "(never updated: see BN001, BN002, BN003, BN008)")
        else:
            spread = float(np.abs(layer.mean).max()) if layer.mean.size else 0.0
            lines.append(f"{layer.layer}: updated (max |moving mean| {spread:.4g})")
    if not statistics:
        lines.append("no batch-norm moving statistics in this checkpoint")
    else:
        lines.append(f"{len(stale)} of {len(statistics)} batch-norm layers never updated their moving statistics")
    return lines, len(stale)
