"""`migrate-bn doctor PATH`: is a saved model's batch norm wired, and did it ever update?

Two sources, combined into one verdict per batch-norm layer:

- the graph saved beside the checkpoint (migrate_bn.graph_doctor): which train op runs
  the layer in training mode, and whether it depends on the layer's update ops; whether
  what a SavedModel serves normalizes with batch statistics;
- the checkpoint's values: a layer whose moving mean is still exactly 0 and moving
  variance exactly 1 never ran an update.

"Wired but still 0 and 1" is a checkpoint saved before training, not a bug; "not wired
but moved" means the updates ran some other way (fetched beside the train op), not a bug
either; "not wired and still 0 and 1" is the bug, confirmed. Without a graph, the values
alone speak, as they always did. Findings and notes are typed values, rendered by
`render_text` / `render_json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional, Union

import numpy as np

from . import graph_doctor
from .graph_doctor import GraphDiagnosis, MissingUpdates, TrainingModeFixed, TrainingModeServed

MEAN_SUFFIXES = ("moving_mean",)
VARIANCE_SUFFIXES = ("moving_variance",)
# The static rules whose bugs leave these runtime fingerprints.
RELATED = {"missing-update-dependency": ("BN001", "BN002", "BN008"), "never-updated": ("BN001", "BN002", "BN003", "BN008"),
           "training-mode-served": ("BN003", "BN004"),
           "training-mode-off": ("BN003",), "training-mode-fixed": ("BN004",),
           "keras-learning-phase": ("BN007",)}


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

    @property
    def largest_mean(self) -> float:
        return float(np.abs(self.mean).max()) if self.mean.size else 0.0


def statistic_names(names: Iterable[str]) -> list[str]:
    """The checkpoint variables that are batch-norm moving statistics."""
    names = set(names)
    picked = []
    for name in sorted(names):
        prefix, _, leaf = name.rpartition("/")
        if leaf not in MEAN_SUFFIXES or "/biased" in name or "/local_step" in name:
            continue
        picked.append(name)
        picked.extend(f"{prefix}/{suffix}" for suffix in VARIANCE_SUFFIXES if f"{prefix}/{suffix}" in names)
    return picked


def layers(names: Iterable[str], read: Callable[[str], np.ndarray]) -> list[LayerStatistics]:
    """Pair each layer's moving mean with its moving variance, by variable name."""
    names = list(names)
    found = []
    for name in statistic_names(names):
        prefix, _, leaf = name.rpartition("/")
        if leaf not in MEAN_SUFFIXES:
            continue
        variance_name = next((f"{prefix}/{suffix}" for suffix in VARIANCE_SUFFIXES
                              if f"{prefix}/{suffix}" in names), None)
        variance = np.asarray(read(variance_name)) if variance_name else None
        found.append(LayerStatistics(prefix, np.asarray(read(name)), variance))
    return found


# ---------------------------------------------------------------------------------------
# The combined verdict


@dataclass(frozen=True)
class NeverUpdated:
    """Values only (no graph to say why): the moving statistics are still 0 and 1."""

    layer: str
    kind: str = "never-updated"


@dataclass(frozen=True)
class InferenceOnly:
    """Train ops run the layer only in inference mode (its training flag is off), and its
    moving statistics are still 0 and 1: it normalizes with values nothing will update."""

    layer: str
    train_ops: tuple[str, ...]
    kind: str = "training-mode-off"


@dataclass(frozen=True)
class Note:
    """Something true and worth knowing that is not a bug report."""

    kind: str  # "wired-not-trained" | "updated-without-dependency" | "saved-before-training"
    #            | "training-mode-fixed" | "keras-learning-phase" | "evaluation-not-judged" | "no-graph"
    subject: str = ""  # a layer scope, a placeholder, or empty
    detail: tuple[str, ...] = ()


Finding = Union[MissingUpdates, TrainingModeServed, InferenceOnly, NeverUpdated]


@dataclass
class LayerVerdict:
    layer: str
    graph: Optional[str]  # graph_doctor.GraphDiagnosis.status, or None (no graph, or no train op)
    never_updated: Optional[bool]  # None: not in the checkpoint
    largest_mean: Optional[float]
    trained_by: tuple[str, ...] = ()
    wired_by: tuple[str, ...] = ()


@dataclass
class Diagnosis:
    path: str
    kind: str
    checkpoint: Optional[str]
    graph_file: Optional[str]
    global_step: Optional[int]
    train_ops: tuple[str, ...] = ()
    layers: list[LayerVerdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def examine(path: str) -> Diagnosis:
    """Read PATH (see migrate_bn.saved_graphs) and diagnose it. Raises SavedGraphError."""
    from . import saved_graphs

    saved = saved_graphs.load(path, statistic_names)
    values = layers(saved.values, saved.values.__getitem__)
    graph = None
    if saved.nodes:
        graph = graph_doctor.diagnose(saved.nodes, saved.signatures, judge_evaluation=saved.kind != "estimator")
    return combine(saved.path, saved.kind, saved.checkpoint, saved.graph_file, saved.global_step, values, graph)


def combine(path: str, kind: str, checkpoint: Optional[str], graph_file: Optional[str], global_step: Optional[int],
            values: list[LayerStatistics], graph: Optional[GraphDiagnosis]) -> Diagnosis:
    """One verdict from the graph's wiring and the checkpoint's values."""
    diagnosis = Diagnosis(path, kind, checkpoint, graph_file, global_step)
    by_layer = {layer.layer: layer for layer in values}
    if graph is None:
        diagnosis.notes.append(Note("no-graph"))
        for layer in values:
            _judge_by_values(diagnosis, layer)
        return diagnosis

    diagnosis.train_ops = tuple(train_op.name for train_op in graph.train_ops)
    confirmed_unwired: set[str] = set()
    for layer in graph.layers:
        stats = by_layer.get(layer.scope)
        status = graph.status(layer.scope) if graph.train_ops else None
        runs = graph.trained_by.get(layer.scope) or graph.inference_only_in.get(layer.scope, ())
        diagnosis.layers.append(LayerVerdict(
            layer.scope, status, stats.never_updated if stats else None, stats.largest_mean if stats else None,
            tuple(runs), tuple(graph.wired_by.get(layer.scope, ()))))
        if status == "wired" and stats is not None and stats.never_updated:
            diagnosis.notes.append(Note("wired-not-trained", layer.scope, tuple(graph.wired_by[layer.scope])))
        elif status == "unwired" and stats is not None and not stats.never_updated:
            diagnosis.notes.append(Note("updated-without-dependency", layer.scope,
                                        tuple(graph.trained_by[layer.scope])))
        elif status == "unwired":
            confirmed_unwired.add(layer.scope)
        elif status == "inference-only" and stats is not None and stats.never_updated:
            diagnosis.findings.append(InferenceOnly(layer.scope, tuple(graph.inference_only_in[layer.scope])))
        elif status is None and stats is not None and stats.never_updated:
            # A graph without a train op (a served model): the values alone speak.
            diagnosis.findings.append(NeverUpdated(layer.scope))
    for missing in graph.missing:
        kept = tuple(scope for scope in missing.layers if scope in confirmed_unwired)
        if kept:
            skipped = {update for layer in graph.layers if layer.scope in kept for update in layer.updates}
            updates = tuple(update for update in missing.updates if update in skipped)
            diagnosis.findings.append(MissingUpdates(missing.train_op, kept, updates))
    diagnosis.findings.extend(graph.served)
    for fixed in graph.fixed:
        diagnosis.notes.append(Note("training-mode-fixed", fixed.layer, (fixed.op,)))
    for phase in graph.learning_phases:
        default = "none" if phase.default is None else str(phase.default)
        diagnosis.notes.append(Note("keras-learning-phase", phase.name, (default, *phase.layers)))
    if graph.evaluation == "not-judged" and graph.layers:
        diagnosis.notes.append(Note("evaluation-not-judged"))
    # A checkpoint's layers the graph does not know (renamed scopes): the values speak.
    known = {layer.scope for layer in graph.layers}
    for layer in values:
        if layer.layer not in known:
            _judge_by_values(diagnosis, layer)
    return diagnosis


def _judge_by_values(diagnosis: Diagnosis, layer: LayerStatistics) -> None:
    """No graph to say why: 0 and 1 is a finding, unless saved at global step 0."""
    diagnosis.layers.append(LayerVerdict(layer.layer, None, layer.never_updated, layer.largest_mean))
    if layer.never_updated and diagnosis.global_step == 0:
        diagnosis.notes.append(Note("saved-before-training", layer.layer))
    elif layer.never_updated:
        diagnosis.findings.append(NeverUpdated(layer.layer))


# ---------------------------------------------------------------------------------------
# Rendering (the edge)


def finding_message(finding: Finding) -> str:
    if isinstance(finding, MissingUpdates):
        updates = f" ({', '.join(finding.updates)})" if finding.updates else " (the graph has none)"
        return (f"train op `{finding.train_op}` runs batch norm {_names(finding.layers)} in training mode, but "
                f"neither it nor any other train op that runs them depends on their update ops{updates}: "
                "their moving mean and variance never update")
    if isinstance(finding, TrainingModeServed):
        return (f"signature `{finding.signature}` output `{finding.output}` normalizes with batch statistics "
                f"in batch norm `{finding.layer}` (`{finding.op}`) whatever is fed: its training mode is "
                "fixed on where the model is served")
    if isinstance(finding, InferenceOnly):
        return (f"train op {_names(finding.train_ops)} runs batch norm `{finding.layer}` in inference mode only "
                "(its training flag is off) and its moving statistics are still exactly 0 and 1: it normalizes "
                "with values no update will ever change")
    return (f"batch norm `{finding.layer}`: moving mean still exactly 0 and moving variance exactly 1 "
            "(never updated)")


def note_message(note: Note) -> str:
    if note.kind == "wired-not-trained":
        return (f"batch norm `{note.subject}`: wired (train op {_names(note.detail)} runs its updates), "
                "not trained yet: its moving statistics still hold their initial 0 and 1")
    if note.kind == "updated-without-dependency":
        return (f"batch norm `{note.subject}`: train op {_names(note.detail)} does not depend on its update ops, "
                "yet its moving statistics moved: the updates run some other way (fetched beside the train op?)")
    if note.kind == "saved-before-training":
        return (f"batch norm `{note.subject}`: moving statistics 0 and 1 at global step 0: saved before "
                "training, so the values cannot tell")
    if note.kind == "training-mode-fixed":
        return (f"batch norm `{note.subject}` normalizes with batch statistics in every use in this graph "
                f"(`{note.detail[0]}`), whatever is fed: fine for a graph that only trains; evaluating or "
                "serving this graph depends on the batch")
    if note.kind == "keras-learning-phase":
        default, *users = note.detail
        switched = f"; it switches batch norm {_names(users)}" if users else ""
        return (f"Keras learning-phase placeholder `{note.subject}` (default {default}){switched}: TF2 and "
                "Keras 3 have no learning phase; pass training= explicitly")
    if note.kind == "evaluation-not-judged":
        return ("this is an Estimator's training graph; model_fn builds the evaluation and serving graphs "
                "anew, so their training mode is not judged here (run doctor on an exported SavedModel)")
    if note.kind == "no-graph":
        return "no graph beside the checkpoint (.meta, graph.pbtxt): only the values were checked"
    return note.kind


def _names(items: Iterable[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def render_text(diagnosis: Diagnosis) -> list[str]:
    lines = [f"{diagnosis.path}: {_describe(diagnosis)}"]
    for finding in diagnosis.findings:
        codes = ", ".join(RELATED.get(finding.kind, ()))
        lines.append(f"error: {finding_message(finding)} (see {codes})")
    for note in diagnosis.notes:
        lines.append(f"note: {note_message(note)}")
    for layer in diagnosis.layers:
        lines.append(f"  {layer.layer}: {_layer_summary(layer)}")
    if not diagnosis.layers:
        lines.append("no batch-norm moving statistics found")
    lines.append(_summary(diagnosis))
    return lines


def _describe(diagnosis: Diagnosis) -> str:
    parts = [{"saved_model": "SavedModel", "estimator": "Estimator model directory",
              "checkpoint": "checkpoint"}[diagnosis.kind]]
    if diagnosis.checkpoint:
        step = f", global step {diagnosis.global_step}" if diagnosis.global_step is not None else ""
        parts.append(f"values from {diagnosis.checkpoint}{step}")
    if diagnosis.graph_file:
        trains = f", train ops {_names(diagnosis.train_ops)}" if diagnosis.train_ops else ", no train op"
        parts.append(f"graph from {diagnosis.graph_file}{trains}")
    return "; ".join(parts)


def _layer_summary(layer: LayerVerdict) -> str:
    graph = {"wired": f"wired ({_names(layer.wired_by)} runs its updates)",
             "unwired": f"NOT wired ({_names(layer.trained_by)} runs it without its updates)",
             "inference-only": f"inference mode only ({_names(layer.trained_by)} runs it so)",
             "untrained": "no train op runs it", None: "graph: no train op"}[layer.graph]
    if layer.never_updated is None:
        values = "not in the checkpoint"
    elif layer.never_updated:
        values = "moving mean still exactly 0, variance exactly 1"
    else:
        values = f"updated (max |moving mean| {layer.largest_mean:.4g})"
    return f"{graph}; {values}"


def _summary(diagnosis: Diagnosis) -> str:
    count = len(diagnosis.findings)
    stale = sum(1 for layer in diagnosis.layers if layer.never_updated)
    return (f"{count} finding{'s' if count != 1 else ''}; {stale} of {len(diagnosis.layers)} batch-norm layers "
            "never updated their moving statistics")


def to_json(diagnosis: Diagnosis) -> dict:
    def finding(item: Finding) -> dict:
        record = asdict(item)
        record["message"] = finding_message(item)
        record["related"] = list(RELATED.get(item.kind, ()))
        return record

    return {
        "path": diagnosis.path, "kind": diagnosis.kind, "checkpoint": diagnosis.checkpoint,
        "graph": diagnosis.graph_file, "global_step": diagnosis.global_step,
        "train_ops": list(diagnosis.train_ops),
        "findings": [finding(item) for item in diagnosis.findings],
        "notes": [{"kind": note.kind, "subject": note.subject, "detail": list(note.detail),
                   "message": note_message(note)} for note in diagnosis.notes],
        "layers": [{**asdict(layer), "trained_by": list(layer.trained_by), "wired_by": list(layer.wired_by)}
                   for layer in diagnosis.layers],
    }
