"""Batch-norm wiring read from a saved TensorFlow graph, as data.

The graph a TF1 program trained (a MetaGraphDef's GraphDef, an Estimator's graph.pbtxt,
a SavedModel's graph) is the truth that `migrate-bn check` approximates from source:

- which ops apply gradients, grouped per train op (the op a training step fetches);
- which batch-norm layers there are (a `moving_mean` variable and its companions), which
  ops update their moving statistics, and which ops normalize with batch statistics
  (`FusedBatchNorm*` with `is_training`, or `moments`);
- whether each train op depends, by data or control edges, on the updates of the batch
  norm it runs in training mode;
- whether what a serving signature fetches normalizes with batch statistics no matter
  what is fed (a training flag fixed on), and Keras learning-phase placeholders.

This module is pure: it takes `Node` records (built from protocol buffers by
`migrate_bn.saved_graphs`) and returns typed values; it never imports TensorFlow.
Unknown means silent: a predicate that cannot be evaluated is treated as either value.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence

# The op kinds the analysis recognises; TensorFlow's names, as GraphDefs spell them.
VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable"})
# Ops that pass a value (or a variable reference) through unchanged.
PASSTHROUGH_OPS = frozenset({"Identity", "RefIdentity", "ReadVariableOp", "Switch", "RefSwitch", "Merge",
                             "RefMerge", "Enter", "RefEnter", "Exit", "RefExit", "NextIteration",
                             "RefNextIteration", "Snapshot"})
SWITCH_OPS = frozenset({"Switch", "RefSwitch"})
MERGE_OPS = frozenset({"Merge", "RefMerge"})
WRITE_OPS = frozenset({"Assign", "AssignSub", "AssignAdd", "AssignVariableOp", "AssignSubVariableOp",
                       "AssignAddVariableOp"})
# Writes that move a variable from its own value (moving averages always subtract).
INCREMENTAL_WRITES = frozenset({"AssignSub", "AssignAdd", "AssignSubVariableOp", "AssignAddVariableOp"})
APPLY_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")
RESTORE_OPS = frozenset({"RestoreV2", "Restore", "RestoreSlice"})
# Consumers of a moving statistic that neither normalize nor update with it.
BOOKKEEPING_OPS = frozenset({"IsVariableInitialized", "VarIsInitializedOp", "SaveV2", "Save", "SaveSlices",
                             "VariableShape", "Shape"})
LEARNING_PHASE = "keras_learning_phase"
# Control flow v2 and function calls: ops whose work is done in function bodies
# (inlined as nodes by migrate_bn.graph_functions).
BRANCH_OPS = frozenset({"If", "StatelessIf"})
CASE_OPS = frozenset({"Case", "StatelessCase"})
LOOP_OPS = frozenset({"While", "StatelessWhile"})
CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})
FUNCTION_OPS = BRANCH_OPS | CASE_OPS | LOOP_OPS | CALL_OPS

LIVE, MAYBE, DEAD = 2, 1, 0


@dataclass(frozen=True)
class Node:
    """One NodeDef, reduced to what the analysis reads."""

    name: str
    op: str
    inputs: tuple[str, ...] = ()  # "x", "x:1", "^x" (a control input)
    training: Optional[bool] = None  # FusedBatchNorm*'s is_training attribute
    value: Optional[bool] = None  # a scalar boolean Const's value

    @property
    def is_batch_norm_op(self) -> bool:
        return self.op.startswith("FusedBatchNorm") and "Grad" not in self.op


def split_input(text: str) -> tuple[str, int, bool]:
    """`"x:1"` -> ("x", 1, False); `"^x"` -> ("x", -1, True)."""
    if text.startswith("^"):
        return text[1:], -1, True
    name, _, port = text.rpartition(":")
    if name and port.isdigit():
        return name, int(port), False
    return text, 0, False


class Graph:
    """Nodes by name with their consumers: the edges a GraphDef holds."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.nodes: dict[str, Node] = {node.name: node for node in nodes}
        self.consumers: dict[str, list[str]] = {}
        for node in self.nodes.values():
            for text in node.inputs:
                source, _, _ = split_input(text)
                self.consumers.setdefault(source, []).append(node.name)

    def data_inputs(self, node: Node) -> list[tuple[str, int]]:
        found = []
        for text in node.inputs:
            name, port, control = split_input(text)
            if not control and name in self.nodes:
                found.append((name, port))
        return found

    def control_inputs(self, node: Node) -> list[str]:
        return [name for name, _, control in map(split_input, node.inputs) if control and name in self.nodes]

    def ancestors(self, starts: Iterable[str], data_only: bool = False) -> set[str]:
        """Every node `starts` depend on, by data and control edges (data only if asked)."""
        seen: set[str] = set()
        queue = deque(name for name in starts if name in self.nodes)
        seen.update(queue)
        while queue:
            node = self.nodes[queue.popleft()]
            for text in node.inputs:
                name, _, control = split_input(text)
                if (control and data_only) or name not in self.nodes or name in seen:
                    continue
                seen.add(name)
                queue.append(name)
        return seen

    def descendants(self, starts: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        queue = deque(name for name in starts if name in self.nodes)
        seen.update(queue)
        while queue:
            for name in self.consumers.get(queue.popleft(), ()):
                if name not in seen:
                    seen.add(name)
                    queue.append(name)
        return seen

    def variables_behind(self, name: str) -> set[str]:
        """The variables whose value or reference reaches `name` through pass-through ops."""
        found: set[str] = set()
        queue, seen = deque([name]), {name}
        while queue:
            node = self.nodes.get(queue.popleft())
            if node is None:
                continue
            if node.op in VARIABLE_OPS:
                found.add(node.name)
                continue
            if node.op not in PASSTHROUGH_OPS:
                continue
            inputs = self.data_inputs(node)
            if node.op in SWITCH_OPS:
                inputs = inputs[:1]
            for source, _ in inputs:
                if source not in seen:
                    seen.add(source)
                    queue.append(source)
        return found


# ---------------------------------------------------------------------------------------
# What the graph holds


@dataclass
class BatchNormLayer:
    """A batch-norm layer: its moving statistics and the ops that use them."""

    scope: str  # the variables' prefix: "conv1/BatchNorm", "discriminator/bn2"
    variables: tuple[str, ...]  # moving_mean, moving_variance (and gamma, beta when present)
    statistics: tuple[str, ...]  # moving_mean, moving_variance
    updates: tuple[str, ...] = ()  # ops that move the statistics (AssignMovingAvg, ...)
    batch_ops: tuple[str, ...] = ()  # ops that normalize with batch statistics
    op_scopes: tuple[str, ...] = ()  # name scopes of its applications ("discriminator_1/bn2")

    @property
    def leaf(self) -> str:
        return self.scope.rpartition("/")[2]


@dataclass(frozen=True)
class TrainOp:
    name: str  # the op a training step fetches ("Adam", "train_op", a global-step AssignAdd)
    applies: tuple[str, ...]  # the gradient-applying ops it runs


@dataclass(frozen=True)
class Signature:
    """A SavedModel signature: the tensors it feeds and the outputs it fetches."""

    key: str
    inputs: tuple[str, ...]  # tensor names, "x:0"
    outputs: tuple[tuple[str, str], ...]  # (alias, tensor name)


# ---------------------------------------------------------------------------------------
# Findings and notes: typed values, rendered by migrate_bn.doctor


@dataclass(frozen=True)
class MissingUpdates:
    """A train op runs these batch norms in training mode, and no train op that runs
    them depends on their update ops: their moving statistics never move."""

    train_op: str
    layers: tuple[str, ...]
    updates: tuple[str, ...]  # the update ops it skips (empty: none exist in the graph)
    kind: str = "missing-update-dependency"


@dataclass(frozen=True)
class TrainingModeServed:
    """What a signature fetches normalizes with batch statistics whatever is fed."""

    signature: str
    output: str
    layer: str
    op: str
    kind: str = "training-mode-served"


@dataclass(frozen=True)
class TrainingModeFixed:
    """Every use of the layer in this graph normalizes with batch statistics (no feed
    switches it): right for a training-only graph, wrong for one that is evaluated."""

    layer: str
    op: str
    kind: str = "training-mode-fixed"


@dataclass(frozen=True)
class LearningPhasePlaceholder:
    name: str
    default: Optional[bool]
    layers: tuple[str, ...]
    kind: str = "keras-learning-phase"


@dataclass
class GraphDiagnosis:
    layers: list[BatchNormLayer]
    train_ops: list[TrainOp]
    # layer scope -> the train ops that run it in training mode / that depend on its updates
    trained_by: dict[str, list[str]] = field(default_factory=dict)
    wired_by: dict[str, list[str]] = field(default_factory=dict)
    # layer scope -> the train ops that run it, only ever in inference mode (no batch-statistics op)
    inference_only_in: dict[str, list[str]] = field(default_factory=dict)
    missing: list[MissingUpdates] = field(default_factory=list)
    served: list[TrainingModeServed] = field(default_factory=list)
    fixed: list[TrainingModeFixed] = field(default_factory=list)
    learning_phases: list[LearningPhasePlaceholder] = field(default_factory=list)
    # How the training mode at evaluation was judged: "signatures", "graph" (no signature:
    # what no feed can switch), "not-judged" (an Estimator's training graph).
    evaluation: str = "graph"

    def status(self, scope: str) -> str:
        """"wired", "unwired" (a train op runs it without its updates), "inference-only"
        (train ops run it, never in training mode), "untrained" (no train op runs it)."""
        if self.wired_by.get(scope):
            return "wired"
        if self.trained_by.get(scope):
            return "unwired"
        if self.inference_only_in.get(scope):
            return "inference-only"
        return "untrained"


# ---------------------------------------------------------------------------------------
# The analysis


def find_layers(graph: Graph) -> list[BatchNormLayer]:
    layers = []
    for node in graph.nodes.values():
        if node.op not in VARIABLE_OPS or not node.name.endswith("/moving_mean"):
            continue
        scope = node.name[: -len("/moving_mean")]
        statistics = tuple(name for name in (node.name, f"{scope}/moving_variance")
                           if name in graph.nodes and graph.nodes[name].op in VARIABLE_OPS)
        companions = tuple(f"{scope}/{leaf}" for leaf in ("gamma", "beta") if f"{scope}/{leaf}" in graph.nodes)
        layers.append(BatchNormLayer(scope, statistics + companions, statistics))
    layers.sort(key=lambda layer: layer.scope)
    owner = {variable: layer for layer in layers for variable in layer.variables}
    _attach_updates(graph, layers, owner)
    _attach_op_scopes(graph, layers, owner)
    _attach_batch_ops(graph, layers, owner)
    return layers


def _attach_updates(graph: Graph, layers: list[BatchNormLayer], owner: dict[str, BatchNormLayer]) -> None:
    updates: dict[str, list[str]] = {layer.scope: [] for layer in layers}
    for node in graph.nodes.values():
        if node.op not in WRITE_OPS:
            continue
        inputs = graph.data_inputs(node)
        if not inputs:
            continue
        for variable in graph.variables_behind(inputs[0][0]):
            layer = owner.get(variable)
            if layer is None or variable not in layer.statistics:
                continue
            if node.op in INCREMENTAL_WRITES or _computes_from(graph, inputs[1:], variable):
                updates[layer.scope].append(node.name)
    for layer in layers:
        layer.updates = tuple(sorted(updates[layer.scope]))


def _computes_from(graph: Graph, values: Sequence[tuple[str, int]], variable: str) -> bool:
    """Is an `Assign`'s value computed (from the variable or batch statistics), rather
    than an initial value or a restored one?"""
    behind = graph.ancestors([name for name, _ in values], data_only=True)
    nodes = [graph.nodes[name] for name in behind]
    if any(node.op in RESTORE_OPS for node in nodes):
        return False
    return variable in behind or any(node.is_batch_norm_op or _is_moments(node) for node in nodes)


def _is_moments(node: Node) -> bool:
    return node.op == "Mean" and "/moments/" in f"/{node.name}"


def _attach_op_scopes(graph: Graph, layers: list[BatchNormLayer], owner: dict[str, BatchNormLayer]) -> None:
    """Where the layer's applications live: the name scope, up to the layer's own name, of
    each op that reads its variables (`discriminator_1/bn2` for a reused `discriminator/bn2`)."""
    for layer in layers:
        scopes = {layer.scope}
        reached = _forward_through_passthrough(graph, layer.variables)
        for name in reached:
            parts = name.split("/")
            if parts[0].startswith("gradients") or layer.leaf not in parts:
                continue
            index = len(parts) - 1 - parts[::-1].index(layer.leaf)
            scopes.add("/".join(parts[: index + 1]))
        layer.op_scopes = tuple(sorted(scopes))


def _forward_through_passthrough(graph: Graph, starts: Iterable[str]) -> set[str]:
    """Pass-through ops reached from `starts`, and the first other ops that consume them."""
    reached: set[str] = set()
    queue = deque(starts)
    while queue:
        for consumer in graph.consumers.get(queue.popleft(), ()):
            if consumer in reached:
                continue
            reached.add(consumer)
            if graph.nodes[consumer].op in PASSTHROUGH_OPS:
                queue.append(consumer)
    return reached


def _layer_of(graph: Graph, node: Node, layers: list[BatchNormLayer],
              owner: dict[str, BatchNormLayer]) -> Optional[BatchNormLayer]:
    if node.is_batch_norm_op:
        for source, _ in graph.data_inputs(node)[1:5]:
            for variable in graph.variables_behind(source):
                if variable in owner:
                    return owner[variable]
    best: Optional[tuple[int, BatchNormLayer]] = None
    for layer in layers:
        for scope in layer.op_scopes:
            if node.name.startswith(scope + "/") and (best is None or len(scope) > best[0]):
                best = (len(scope), layer)
    return best[1] if best else None


def _attach_batch_ops(graph: Graph, layers: list[BatchNormLayer], owner: dict[str, BatchNormLayer]) -> None:
    found: dict[str, list[str]] = {layer.scope: [] for layer in layers}
    for node in graph.nodes.values():
        if (node.is_batch_norm_op and node.training) or _is_moments(node):
            layer = _layer_of(graph, node, layers, owner)
            if layer is not None:
                found[layer.scope].append(node.name)
    for layer in layers:
        layer.batch_ops = tuple(sorted(found[layer.scope]))


def find_train_ops(graph: Graph) -> list[TrainOp]:
    """Ops applying gradients, grouped by the ops that nothing else consumes above them:
    what a training step fetches (`minimize`'s NoOp, its global-step increment, a group)."""
    applies = [node.name for node in graph.nodes.values() if node.op.startswith(APPLY_PREFIXES)]
    if not applies:
        return []
    above = graph.descendants(applies)
    # A resource variable's assignment reads its value back after the step (Adam's beta
    # powers): a read nothing consumes is no step a program fetches.
    sinks = sorted(name for name in above if not graph.consumers.get(name) and graph.nodes[name].op != "ReadVariableOp")
    train_ops = []
    apply_set = set(applies)
    for sink in sinks:
        runs = tuple(sorted(graph.ancestors([sink]) & apply_set))
        if runs:
            train_ops.append(TrainOp(sink, runs))
    return train_ops


def diagnose(nodes: Iterable[Node], signatures: Sequence[Signature] = (), judge_evaluation: bool = True) -> GraphDiagnosis:
    """The batch-norm wiring of a graph. `signatures`: a SavedModel's serving signatures
    (training mode is judged on what they fetch); `judge_evaluation=False` for a graph
    known to be a training graph only (an Estimator's)."""
    graph = Graph(nodes)
    layers = find_layers(graph)
    train_ops = find_train_ops(graph)
    result = GraphDiagnosis(layers, train_ops)
    cones = {train_op.name: graph.ancestors([train_op.name]) for train_op in train_ops}
    for layer in layers:
        trained = [name for name, cone in cones.items() if cone.intersection(layer.batch_ops)]
        result.trained_by[layer.scope] = trained
        result.wired_by[layer.scope] = [name for name in trained if cones[name].intersection(layer.updates)]
        if not layer.batch_ops:
            applied = set(_names_under(graph, layer.op_scopes))
            result.inference_only_in[layer.scope] = [name for name, cone in cones.items() if cone & applied]
    for train_op in train_ops:
        skipped = [layer for layer in layers
                   if train_op.name in result.trained_by[layer.scope] and not result.wired_by[layer.scope]]
        if skipped:
            result.missing.append(MissingUpdates(
                train_op.name, tuple(layer.scope for layer in skipped),
                tuple(update for layer in skipped for update in layer.updates)))
    if signatures:
        result.evaluation = "signatures"
        result.served = _served_in_training_mode(graph, layers, signatures)
    elif judge_evaluation:
        result.fixed = _fixed_in_training_mode(graph, layers)
    else:
        result.evaluation = "not-judged"
    result.learning_phases = _learning_phases(graph, layers)
    return result


# ---------------------------------------------------------------------------------------
# Liveness: which tensors surely exist when the graph runs with some feeds


class _Liveness:
    """Three-valued liveness of each tensor under TF1 control flow (Switch/Merge), given
    which nodes are fed: a Switch whose predicate is a known constant kills one branch;
    an unknown predicate leaves both `MAYBE`. Fed nodes are unknown values."""

    def __init__(self, graph: Graph, fed: set[str], defaults_fed: bool) -> None:
        self.graph = graph
        self.fed = fed
        self.defaults_fed = defaults_fed  # every placeholder may be fed (no signature)
        self.status: dict[str, int] = {}
        self._constants: dict[tuple[str, int], Optional[bool]] = {}
        self._compute()

    def constant(self, name: str, port: int = 0, depth: int = 0) -> Optional[bool]:
        """The boolean value of a tensor, when no feed can change it; None otherwise."""
        key = (name, port)
        if key in self._constants:
            return self._constants[key]
        node = self.graph.nodes.get(name)
        value: Optional[bool] = None
        if node is not None and depth < 64 and name not in self.fed:
            inputs = self.graph.data_inputs(node)
            if node.op == "Const":
                value = node.value
            elif node.op == "PlaceholderWithDefault" and not self.defaults_fed and inputs:
                value = self.constant(*inputs[0], depth=depth + 1)
            elif node.op in ("Identity", "Snapshot") and inputs:
                value = self.constant(*inputs[0], depth=depth + 1)
            elif node.op == "LogicalNot" and inputs:
                operand = self.constant(*inputs[0], depth=depth + 1)
                value = None if operand is None else not operand
            elif node.op in ("LogicalAnd", "LogicalOr") and len(inputs) == 2:
                left, right = (self.constant(*tensor, depth=depth + 1) for tensor in inputs)
                if node.op == "LogicalAnd":
                    value = False if False in (left, right) else (True if left and right else None)
                else:
                    value = True if True in (left, right) else (False if left is False and right is False else None)
        self._constants[key] = value
        return value

    def tensor(self, name: str, port: int) -> int:
        node = self.graph.nodes[name]
        status = self.status.get(name, MAYBE)
        if node.op not in SWITCH_OPS or status == DEAD:
            return status
        inputs = self.graph.data_inputs(node)
        predicate = self.constant(*inputs[1]) if len(inputs) > 1 else None
        if predicate is None:
            return min(status, MAYBE)
        return status if (port == 1) == predicate else DEAD

    def _compute(self) -> None:
        graph = self.graph
        # Kahn's order over data and control edges, leaving out loop back edges.
        pending: dict[str, int] = {}
        for node in graph.nodes.values():
            pending[node.name] = sum(1 for text in node.inputs if self._counts(node, text))
        queue = deque(name for name, count in pending.items() if count == 0)
        while queue:
            name = queue.popleft()
            self.status[name] = self._node_status(graph.nodes[name])
            for consumer in graph.consumers.get(name, ()):
                node = graph.nodes[consumer]
                for text in node.inputs:
                    if split_input(text)[0] == name and self._counts(node, text):
                        pending[consumer] -= 1
                if pending[consumer] == 0 and consumer not in self.status:
                    queue.append(consumer)

    def _counts(self, node: Node, text: str) -> bool:
        source = split_input(text)[0]
        if source not in self.graph.nodes:
            return False
        return not (node.op in MERGE_OPS and self.graph.nodes[source].op in ("NextIteration", "RefNextIteration"))

    def _node_status(self, node: Node) -> int:
        data = [self.tensor(name, port) for name, port in self.graph.data_inputs(node)
                if self._counts(node, name)]
        control = [self.status.get(name, MAYBE) for name in self.graph.control_inputs(node)]
        if node.op in MERGE_OPS:
            if any(status == LIVE for status in data):
                return LIVE
            alive = [status for status in data if status != DEAD]
            # The two branches of one cond: exactly one of them runs.
            return DEAD if not alive else (LIVE if len(alive) >= 2 else MAYBE)
        statuses = data + control
        return min(statuses) if statuses else LIVE


def _surely_reached(graph: Graph, liveness: _Liveness, tensors: Iterable[tuple[str, int]],
                    targets: Mapping[str, BatchNormLayer]) -> Optional[tuple[str, BatchNormLayer]]:
    """The first batch-statistics op whose value surely flows into `tensors` (following
    data edges whose tensors are surely live)."""
    queue = deque(name for name, port in tensors if name in graph.nodes and liveness.tensor(name, port) == LIVE)
    seen = set(queue)
    while queue:
        name = queue.popleft()
        if name in targets:
            return name, targets[name]
        for source, port in graph.data_inputs(graph.nodes[name]):
            if source not in seen and liveness.tensor(source, port) == LIVE:
                seen.add(source)
                queue.append(source)
    return None


def _served_in_training_mode(graph: Graph, layers: list[BatchNormLayer],
                             signatures: Sequence[Signature]) -> list[TrainingModeServed]:
    targets = {op: layer for layer in layers for op in layer.batch_ops}
    found = []
    for signature in signatures:
        fed = {split_input(name)[0] for name in signature.inputs}
        liveness = _Liveness(graph, fed, defaults_fed=False)
        for alias, tensor in signature.outputs:
            name, port, _ = split_input(tensor)
            # Each layer once per output: the search stops at the first one, so repeat
            # without the layers already named.
            remaining = dict(targets)
            while True:
                hit = _surely_reached(graph, liveness, [(name, port)], remaining)
                if hit is None:
                    break
                op, layer = hit
                found.append(TrainingModeServed(signature.key, alias, layer.scope, op))
                remaining = {key: value for key, value in remaining.items() if value is not layer}
    return found


def _fixed_in_training_mode(graph: Graph, layers: list[BatchNormLayer]) -> list[TrainingModeFixed]:
    """Layers with batch-statistics ops and no use of their moving statistics that any
    feed could make run: no placeholder switches them to inference."""
    liveness = _Liveness(graph, set(), defaults_fed=True)
    found = []
    for layer in layers:
        live_batch_ops = [op for op in layer.batch_ops if liveness.status.get(op, MAYBE) == LIVE]
        if not live_batch_ops or _has_inference_use(graph, liveness, layer):
            continue
        found.append(TrainingModeFixed(layer.scope, live_batch_ops[0]))
    return found


def _has_inference_use(graph: Graph, liveness: _Liveness, layer: BatchNormLayer) -> bool:
    """Does anything that is not an update, a save or an initialisation read the moving
    statistics (an inference-mode FusedBatchNorm, the `batchnorm` arithmetic)?"""
    updating = graph.ancestors(layer.updates, data_only=True)
    queue = deque(layer.statistics)
    seen = set(queue)
    while queue:
        name = queue.popleft()
        for consumer in graph.consumers.get(name, ()):
            node = graph.nodes[consumer]
            if consumer in seen or liveness.status.get(consumer, MAYBE) == DEAD:
                continue
            if (name, False) not in {split_input(text)[::2] for text in node.inputs}:
                continue  # a control edge orders, it reads no value
            seen.add(consumer)
            # A call's inputs and results flow through its inlined bodies: what consumes
            # its outputs may use the statistic the call passes on.
            if node.op in PASSTHROUGH_OPS or node.op in FUNCTION_OPS:
                queue.append(consumer)
            elif node.op in WRITE_OPS or node.op in BOOKKEEPING_OPS or consumer.split("/")[0] == "save":
                continue
            elif node.is_batch_norm_op and node.training:
                continue
            elif consumer in updating:
                continue
            else:
                return True
    return False


def _learning_phases(graph: Graph, layers: list[BatchNormLayer]) -> list[LearningPhasePlaceholder]:
    found = []
    for node in graph.nodes.values():
        if node.name.rpartition("/")[2] != LEARNING_PHASE or node.op not in ("Placeholder", "PlaceholderWithDefault"):
            continue
        default = None
        inputs = graph.data_inputs(node)
        if node.op == "PlaceholderWithDefault" and inputs:
            default = graph.nodes[inputs[0][0]].value
        switched = graph.descendants([node.name])
        users = tuple(layer.scope for layer in layers
                      if any(name in switched and graph.nodes[name].op in SWITCH_OPS
                             for name in _names_under(graph, layer.op_scopes)))
        found.append(LearningPhasePlaceholder(node.name, default, users))
    return found


def _names_under(graph: Graph, scopes: Sequence[str]) -> Iterable[str]:
    prefixes = tuple(scope + "/" for scope in scopes)
    return (name for name in graph.nodes if name.startswith(prefixes))
