"""The TF1 scope of a layer named by a parameter that defaults to None (model_code.py).

`def batch_norm_relu(inputs, is_training, name=None): tf.layers.batch_normalization(...,
name=name)`: called without a name, TF1 gave the layer the unnamed scope
(`batch_normalization`, `batch_normalization_1`, ...), called with one, that name. The
converted key says both, decided when the model runs as TF1 decided when it built
(`prefix + name if name is not None else self.unique_scope(...)`), in `__init__` and in
`call` alike, so unnamed layers are counted in the same order on both sides.
"""

from __future__ import annotations

import ast
import copy
from typing import Optional

from .keras_mapping import is_none_literal


def optional_name_key(name: ast.expr, named: ast.expr, unnamed: ast.expr,
                      defaults: dict[str, Optional[ast.expr]]) -> ast.expr:
    """`named` for a layer named `name`; when `name` is a parameter whose default is None,
    the choice between `named` and the unnamed scope `unnamed`."""
    default = defaults.get(name.id) if isinstance(name, ast.Name) else None
    if default is None or not is_none_literal(default):
        return named
    test = ast.Compare(copy.deepcopy(name), [ast.IsNot()], [ast.Constant(None)])
    return ast.IfExp(test, named, unnamed)
