"""The TF1 side's results against the Keras side's: what differs, as typed values. Plain
Python over the nested lists the sides write (the python running the check needs no numpy)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checkpoints import layer_weight  # TF1 variable -> the layer scope and Keras weight that hold it
RTOL = 1e-5
# Outputs before training and the moving statistics: absolute 1e-6. Outputs after training
# began, and kernels: 1e-5, for entries near 0 that carry float sums taken in another order
# (measured 1.5e-6 on the fixtures, 3e-5 relative on tiny kernel entries).
ATOL_EXACT, ATOL_TRAINED = 1e-6, 1e-5


@dataclass(frozen=True)
class Mismatch:
    """One compared quantity that differs: `what` names it (`before`, `step 2`, a variable)."""

    what: str
    detail: str

    def render(self) -> str:
        return f"{self.what}: {self.detail}"


def _flat(value, shape: tuple = ()) -> tuple[tuple, list[float]]:
    """A nested list's shape and its entries in order."""
    if not isinstance(value, list):
        return shape, [float(value)]
    if not value:
        return shape + (0,), []
    parts = [_flat(item) for item in value]
    return shape + (len(value),) + parts[0][0], [entry for _, entries in parts for entry in entries]


def _close(what: str, actual, expected, atol: float) -> list[Mismatch]:
    (actual_shape, ours), (expected_shape, theirs) = _flat(actual), _flat(expected)
    if actual_shape != expected_shape:
        return [Mismatch(what, f"shape {actual_shape} against TF1's {expected_shape}")]
    excess = [abs(a - e) - (atol + RTOL * abs(e)) for a, e in zip(ours, theirs)]
    differing = [index for index, value in enumerate(excess) if not value <= 0]  # NaN differs too
    if not differing:
        return []
    worst = max(differing, key=lambda index: excess[index] if excess[index] == excess[index] else float("inf"))
    return [Mismatch(what, f"{ours[worst]!r} against TF1's {theirs[worst]!r} (entry {worst} of {len(ours)}; "
                           f"{len(differing)} entries differ)")]


def compare(tf1: dict, keras: dict) -> list[Mismatch]:
    """Inference outputs before training, the training-mode outputs of every step, the
    inference outputs after, and every Keras weight (moving statistics included) against
    the TF1 variable it came from; every Keras weight must be a TF1 variable, and nothing
    but optimizer slots may be left unconverted."""
    mismatches = _close("inference outputs before training", keras["before"], tf1["before"], ATOL_EXACT)
    if len(keras["steps"]) != len(tf1["steps"]):
        mismatches.append(Mismatch("steps", f"{len(keras['steps'])} against TF1's {len(tf1['steps'])}"))
    for step, (ours, theirs) in enumerate(zip(keras["steps"], tf1["steps"])):
        mismatches += _close(f"training-mode outputs of step {step + 1}", ours, theirs, ATOL_TRAINED)
    mismatches += _close("inference outputs after training", keras["after"], tf1["after"], ATOL_TRAINED)
    compared = 0
    own = keras.get("variables", {})  # the model's tf.get_variable weights, by TF1 name
    for name in sorted(set(own) - set(tf1["variables"])):
        mismatches.append(Mismatch(name, "a Keras variable that is no TF1 variable"))
    for name, value in sorted(tf1["variables"].items()):
        if name in own:
            mismatches += _close(name, own[name], value, ATOL_TRAINED)
            continue
        found = layer_weight(name)
        if found is None:
            continue
        scope, leaf = found
        weight = f"{scope}/{leaf}"
        if weight not in keras["weights"]:
            mismatches.append(Mismatch(name, "no Keras weight holds it"))
            continue
        compared += 1
        mismatches += _close(name, keras["weights"][weight], value,
                             ATOL_EXACT if leaf.startswith("moving") else ATOL_TRAINED)
    if compared != len(keras["weights"]):
        mismatches.append(Mismatch("weights", f"{len(keras['weights']) - compared} Keras weights are no TF1 variable"))
    mismatches += [Mismatch("checkpoint", line) for line in keras.get("lines", [])
                   if line.startswith("not converted:") and "optimizer slot" not in line]
    return mismatches
