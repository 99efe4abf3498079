"""Which statistics a hand-written batch norm normalizes with (BN013).

`tf.nn.batch_normalization(x, mean, variance, ...)` normalizes `x` with whatever mean and
variance it is given; it is batch normalization only when they are `x`'s own batch
moments (or moving averages of them). Two ways real code gets them wrong, both found
only when the module shows them in full:

- constants that make the op an identity (`mean=0.001, variance=1.0`): the layer
  normalizes nothing, whatever the batch;
- `mean, variance = tf.nn.moments(a, ...)` of a tensor `a` that `x` is computed from
  through a weighted layer (a convolution, a matmul): the statistics of a layer's input
  say nothing of its output's, which is never normalized.

Constants far from 0 and 1 (input scaling with a dataset's known mean and variance),
statistics from anything but one `tf.nn.moments` call, and tensors related in any other
way (the same name, a reshape of it, a reference batch) are not reported.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from .. import tfapi
from ..binding import argument
from .spelled import may_name

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope

_MAX_TRACE = 12  # assignments followed back from the normalized tensor to the statistics' tensor
_EPSILON = (5, "variance_epsilon")


@dataclass(frozen=True)
class WrongStatistics:
    """A normalization whose statistics are not its input's batch statistics."""

    node: ast.Call  # the normalizing call
    api: str  # how messages name it
    kind: str  # "constant" | "other_tensor"
    mean: str  # the mean and the variance, as written
    variance: str
    statistics_of: Optional[str] = None  # other_tensor: the tensor the moments are of
    moments: Optional[ast.Call] = None  # other_tensor: the tf.nn.moments call
    layer: Optional[ast.Call] = None  # other_tensor: the weighted op between the two


def wrong_statistics(facts: "ModuleFacts") -> list[WrongStatistics]:
    cached = facts.model_cache.get("normalization_statistics")
    if cached is None:
        cached = facts.model_cache["normalization_statistics"] = list(_find(facts))
    return cached


def _find(facts: "ModuleFacts") -> Iterator[WrongStatistics]:
    short_names = {name.rsplit(".", 1)[-1] for name in tfapi.NORMALIZE_WITH_STATISTICS}
    if not may_name(facts, *short_names):
        return  # most modules: no such call among their calls, and no walk of them
    for call, scope in facts.calls:
        if _short_name(call.func) not in short_names:
            continue  # most calls: skip resolving their names
        qualname = facts.qualname(call.func, scope)
        positions = tfapi.NORMALIZE_WITH_STATISTICS.get(qualname or "")
        if positions is None:
            continue
        tensor, mean, variance = (argument(call, keyword, position) for position, keyword in positions)
        if tensor is None or mean is None or variance is None:
            continue
        api = "tf." + qualname.split(".", 1)[1]  # type: ignore[union-attr]
        found = _constant_identity(call, mean, variance, api)
        if found is None:
            found = _moments_of_another_tensor(facts, call, scope, tensor, mean, variance, api)
        if found is not None:
            yield found


def _short_name(func: ast.expr) -> Optional[str]:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


# --- constants -------------------------------------------------------------------------

def _number(node: Optional[ast.expr]) -> Optional[float]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _number(node.operand)
        return None if value is None else -value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    return None


def _constant_identity(call: ast.Call, mean: ast.expr, variance: ast.expr, api: str) -> Optional[WrongStatistics]:
    """Literal statistics within IDENTITY_TOLERANCE of mean 0 and variance 1: the op is
    `x` itself up to that tolerance."""
    mean_value, variance_value = _number(mean), _number(variance)
    if mean_value is None or variance_value is None:
        return None
    epsilon = _number(argument(call, _EPSILON[1], _EPSILON[0])) or 0.0
    tolerance = tfapi.IDENTITY_TOLERANCE
    if abs(mean_value) > tolerance or abs((variance_value + epsilon) ** -0.5 - 1.0) > tolerance:
        return None
    return WrongStatistics(call, api, "constant", ast.unparse(mean), ast.unparse(variance))


# --- the moments of another tensor -------------------------------------------------------

def _moments_of_another_tensor(facts: "ModuleFacts", call: ast.Call, scope: "Scope", tensor: ast.expr,
                               mean: ast.expr, variance: ast.expr, api: str) -> Optional[WrongStatistics]:
    if not (isinstance(tensor, ast.Name) and isinstance(mean, ast.Name) and isinstance(variance, ast.Name)):
        return None
    assignments = _assignments(facts, scope)
    binding = _last_binding(assignments, mean.id, call.lineno)
    if binding is None or _last_binding(assignments, variance.id, call.lineno) is not binding:
        return None
    line, target, value = binding
    if not (isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(value, ast.Call)):
        return None
    if [getattr(element, "id", None) for element in target.elts] != [mean.id, variance.id]:
        return None
    if facts.qualname(value.func, scope) not in tfapi.MOMENTS or not value.args:
        return None
    measured = value.args[0]
    if not isinstance(measured, ast.Name) or measured.id == tensor.id:
        return None
    layer = _weighted_path(facts, scope, assignments, tensor.id, call.lineno, measured.id, line)
    if layer is None:
        return None
    return WrongStatistics(call, api, "other_tensor", mean.id, variance.id, measured.id, value, layer)


_Binding = tuple[int, ast.expr, ast.expr]  # (line, the whole target, the value)


def _assignments(facts: "ModuleFacts", scope: "Scope") -> list[_Binding]:
    """The scope's own assignments (not those of functions defined in it), by line."""
    key = ("normalization_assignments", id(scope))
    cached = facts.model_cache.get(key)
    if cached is None:
        found: list[_Binding] = []
        pending = list(ast.iter_child_nodes(scope.node))
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                found.append((node.lineno, node.targets[0], node.value))
            pending.extend(ast.iter_child_nodes(node))
        cached = facts.model_cache[key] = sorted(found, key=lambda item: item[0])
    return cached


def _binds(target: ast.expr, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_binds(element, name) for element in target.elts)
    return False


def _last_binding(assignments: list[_Binding], name: str, before: int) -> Optional[_Binding]:
    earlier = [binding for binding in assignments if binding[0] < before and _binds(binding[1], name)]
    return earlier[-1] if earlier else None


def _weighted_path(facts: "ModuleFacts", scope: "Scope", assignments: list[_Binding], name: str, before: int,
                   source: str, source_read: int) -> Optional[ast.Call]:
    """The weighted layer op through which `name` (as bound before line `before`) is
    computed from `source`, as `source` was bound when the moments read it (line
    `source_read`); None when no such chain of plain assignments exists."""
    source_binding = _last_binding(assignments, source, source_read)
    pending: list[tuple[str, int, Optional[ast.Call]]] = [(name, before, None)]
    for _ in range(_MAX_TRACE):
        if not pending:
            return None
        current, line, layer = pending.pop()
        binding = _last_binding(assignments, current, line)
        if binding is None or not isinstance(binding[1], ast.Name) or not isinstance(binding[2], ast.Call):
            continue
        value = binding[2]
        weighted = facts.qualname(value.func, scope) in tfapi.WEIGHTED_LAYER_OPS
        reached = layer or (value if weighted else None)
        for operand in [*value.args, *(keyword.value for keyword in value.keywords)]:
            if not isinstance(operand, ast.Name):
                continue
            if operand.id == source:
                # The same binding of `source` the moments read, and a layer on the way.
                if reached is not None and _last_binding(assignments, source, binding[0]) is source_binding:
                    return reached
                continue
            pending.append((operand.id, binding[0], reached))
    return None
