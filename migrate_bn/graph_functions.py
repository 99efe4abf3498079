"""A GraphDef's nodes as `Node` records, with control flow v2 function bodies inlined.

Under control flow v2 (`tf.compat.v1` in TensorFlow 2 with only eager execution
disabled, `enable_control_flow_v2()`, graphs `tf.function` built), `tf.cond` and
`tf.while_loop` are single `If`/`While` ops whose branches and bodies are functions in
the GraphDef's `library`; batch norm, its batch statistics and its moving-average
updates live there. The analysis in `migrate_bn.graph_doctor` follows edges between
`Node` records, so each call's function bodies become nodes of the graph:

- a body node `AssignMovingAvg/AssignSubVariableOp` of the `then_branch` of the op
  `bn/cond_2` becomes `bn/cond_2/then/AssignMovingAvg/AssignSubVariableOp`;
- each function argument becomes an `Identity` of the call's matching input, so the
  variables a body reads or writes are the outer graph's variables. The arguments of a
  branch or a loop body pass through a `Switch` on the branch predicate (on the loop
  condition's result), so that a branch a constant predicate kills is dead, and a loop
  body, which may run no time at all, is only possibly live;
- the call depends on a `Merge` of its bodies' returned values: a train op that depends
  on the call depends on what its bodies compute and, through their control edges, on
  the updates they run. A body node nothing returned depends on is not run by TensorFlow
  (a TF1-built function has no control outputs), and no edge leads to it.

Only protocol buffers are read (duck-typed: `node`, `library.function`), never
TensorFlow's runtime; ops that call functions in other ways (`tf.data`'s map functions)
are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .graph_doctor import BRANCH_OPS, CALL_OPS, CASE_OPS, LOOP_OPS, Node

# The label each function attribute's inlined nodes are named under.
LABELS = {"then_branch": "then", "else_branch": "else", "body": "body", "cond": "cond", "f": ""}
# Functions inlined inside functions: deeper than this is a malformed library.
MAX_DEPTH = 16
DT_BOOL = 10


def flatten(graph_def: Any) -> list[Node]:
    """The nodes of a GraphDef, and of every function its control-flow ops call."""
    library = {function.signature.name: function for function in graph_def.library.function}
    nodes: list[Node] = []
    for node_def in graph_def.node:
        nodes.append(record(node_def.name, node_def, tuple(node_def.input)))
        _inline_calls(node_def, node_def.name, list(node_def.input), library, nodes, 0)
    return nodes


def record(name: str, node_def: Any, inputs: tuple[str, ...]) -> Node:
    """One NodeDef as a `Node`: its batch norm's `is_training`, a boolean constant's value."""
    training = value = None
    if "is_training" in node_def.attr:
        training = bool(node_def.attr["is_training"].b)
    if node_def.op == "Const" and "value" in node_def.attr:
        tensor = node_def.attr["value"].tensor
        if tensor.dtype == DT_BOOL and not tensor.tensor_shape.dim:
            value = bool(tensor.bool_val[0]) if tensor.bool_val else bool(tensor.tensor_content[:1] not in (b"", b"\0"))
    return Node(name, node_def.op, inputs, training, value)


@dataclass(frozen=True)
class _Gate:
    """How a body's arguments enter it: through a Switch on `predicate`, taking output
    `port` (1: the true side), or directly (predicate None)."""

    predicate: Optional[str] = None
    port: int = 1


def _functions(node_def: Any, library: dict) -> list[tuple[str, Any]]:
    """(label, FunctionDef) for each function the call runs, in the order it runs them."""
    found = []
    op = node_def.op
    if op in BRANCH_OPS or op in LOOP_OPS or op in CALL_OPS:
        attrs = ("then_branch", "else_branch") if op in BRANCH_OPS else ("cond", "body") if op in LOOP_OPS else ("f",)
        for attr in attrs:
            if attr in node_def.attr and node_def.attr[attr].func.name in library:
                found.append((LABELS[attr], library[node_def.attr[attr].func.name]))
    elif op in CASE_OPS and "branches" in node_def.attr:
        for index, function in enumerate(node_def.attr["branches"].list.func):
            if function.name in library:
                found.append((f"branch{index}", library[function.name]))
    elif op in library:  # a function called by its own name
        found.append(("", library[op]))
    return found


def _inline_calls(node_def: Any, name: str, inputs: list[str], library: dict, nodes: list[Node],
                  depth: int) -> None:
    """Append the inlined bodies of the call `name` (`inputs` as named in the graph
    around it) and the `Merge` of their returned values the call depends on."""
    functions = _functions(node_def, library)
    if not functions or depth >= MAX_DEPTH:
        return
    data = [text for text in inputs if not text.startswith("^")]
    op = node_def.op
    arguments = data[1:] if op in BRANCH_OPS or op in CASE_OPS else data
    returned: list[str] = []
    loop_condition: Optional[str] = None
    for label, function in functions:
        prefix = f"{name}/{label}" if label else name
        if op in BRANCH_OPS:
            gate = _Gate(data[0] if data else None, 1 if label == "then" else 0)
        elif op in CASE_OPS:
            gate = _Gate(data[0] if data else None, 1)  # an index: never a known boolean
        elif label == "body":
            gate = _Gate(loop_condition, 1)
        else:
            gate = _Gate()
        outputs = _inline(function, prefix, arguments, gate, library, nodes, depth)
        if label == "cond" and outputs:
            loop_condition = outputs[0]
        returned.extend(outputs)
    if returned:
        merge = f"{name}/returned"
        nodes.append(Node(merge, "Merge", tuple(returned)))
        # The call depends on what its bodies return: replace the call's record.
        index = next(i for i in range(len(nodes) - 1, -1, -1) if nodes[i].name == name)
        call = nodes[index]
        nodes[index] = Node(call.name, call.op, call.inputs + (merge,), call.training, call.value)


def _inline(function: Any, prefix: str, arguments: list[str], gate: _Gate, library: dict,
            nodes: list[Node], depth: int) -> list[str]:
    """Append one function's nodes under `prefix`; its returned tensors, renamed."""
    names = {arg.name for arg in function.signature.input_arg}
    body = {node_def.name for node_def in function.node_def}
    pivot = None
    if gate.predicate is not None:
        switch = f"{prefix}/pivot_switch"
        pivot = f"{prefix}/pivot"
        nodes.append(Node(switch, "Switch", (gate.predicate, gate.predicate)))
        nodes.append(Node(pivot, "Identity", (f"{switch}:{gate.port}",)))
    for position, arg in enumerate(function.signature.input_arg):
        if position >= len(arguments):
            break
        source = arguments[position]
        if gate.predicate is not None:
            switch = f"{prefix}/{arg.name}/switch"
            nodes.append(Node(switch, "Switch", (source, gate.predicate)))
            source = f"{switch}:{gate.port}"
        nodes.append(Node(f"{prefix}/{arg.name}", "Identity", (source,)))

    def rename(text: str) -> str:
        control = text.startswith("^")
        node, port = _reference(text.lstrip("^"))
        if node not in names and node not in body:
            return text  # dangling: kept as written, the analysis skips unknown names
        renamed = f"{prefix}/{node}"
        if control:
            return "^" + renamed
        return renamed if port == 0 else f"{renamed}:{port}"

    for node_def in function.node_def:
        inputs = tuple(rename(text) for text in node_def.input)
        if pivot is not None and not any(not text.startswith("^") for text in inputs):
            inputs += ("^" + pivot,)  # constants of a dead branch are dead too
        nodes.append(record(f"{prefix}/{node_def.name}", node_def, inputs))
        _inline_calls(node_def, f"{prefix}/{node_def.name}", list(inputs), library, nodes, depth + 1)
    order = [arg.name for arg in function.signature.output_arg]
    returned = [function.ret[key] for key in order if key in function.ret]
    returned += [function.control_ret[key] for key in sorted(function.control_ret)]
    return [rename(text) for text in returned]


def _reference(text: str) -> tuple[str, int]:
    """A FunctionDef input: `arg`, `node:output_arg:index` -> (node, index)."""
    parts = text.split(":")
    if len(parts) == 3 and parts[2].isdigit():
        return parts[0], int(parts[2])
    if len(parts) == 2 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return parts[0], 0
