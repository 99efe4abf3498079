"""Control flow v2 function bodies read in as nodes (migrate_bn.graph_functions), on
hand-made GraphDefs: duck-typed protocol buffers with the fields a GraphDef has. The
graphs TensorFlow really builds are in tests/test_doctor_graphs.py."""

from __future__ import annotations

from types import SimpleNamespace as NS

from migrate_bn import graph_doctor
from migrate_bn.graph_functions import flatten


def node(name: str, op: str, *inputs: str, **attrs) -> NS:
    return NS(name=name, op=op, input=list(inputs), attr=attrs)


def function(name: str, args: list[str], nodes: list[NS], ret: dict[str, str]) -> NS:
    signature = NS(name=name, input_arg=[NS(name=arg) for arg in args], output_arg=[NS(name=key) for key in ret])
    return NS(signature=signature, node_def=nodes, ret=ret, control_ret={})


def calls(name: str) -> NS:
    return NS(func=NS(name=name))


def boolean(value: bool) -> dict:
    return {"value": NS(tensor=NS(dtype=10, tensor_shape=NS(dim=[]), bool_val=[value], tensor_content=b""))}


# An update cond as tf.layers builds it under control flow v2: `bn/cond` takes the flag,
# the variable and the batch mean; its `then` branch moves the variable, its `else`
# branch reads it.
UPDATE_BRANCH = function("cond_true", ["variable", "batch_mean"], [
    node("AssignMovingAvg/ReadVariableOp", "ReadVariableOp", "variable"),
    node("AssignMovingAvg/sub", "Sub", "AssignMovingAvg/ReadVariableOp:value:0", "batch_mean"),
    node("AssignMovingAvg/AssignSubVariableOp", "AssignSubVariableOp", "variable", "AssignMovingAvg/sub:z:0"),
    node("ReadVariableOp", "ReadVariableOp", "variable", "^AssignMovingAvg/AssignSubVariableOp"),
], {"readvariableop": "ReadVariableOp:value:0"})
KEEP_BRANCH = function("cond_false", ["variable", "batch_mean"], [
    node("ReadVariableOp", "ReadVariableOp", "variable"),
], {"readvariableop": "ReadVariableOp:value:0"})


def graph_def(wired: bool, flag: NS) -> NS:
    nodes = [
        flag,
        node("x", "Placeholder"),
        node("bn/moving_mean", "VarHandleOp"),
        node("bn/moments/mean", "Mean", "x"),
        node("bn/cond", "If", "flag", "bn/moving_mean", "bn/moments/mean",
             then_branch=calls("cond_true"), else_branch=calls("cond_false")),
        node("loss", "Square", "bn/moments/mean"),
        node("w", "VarHandleOp"),
        node("GradientDescent/update", "ResourceApplyGradientDescent", "w", "loss"),
        node("GradientDescent", "NoOp", "^GradientDescent/update", *(["^bn/cond"] if wired else [])),
    ]
    return NS(node=nodes, library=NS(function=[UPDATE_BRANCH, KEEP_BRANCH]))


def test_bodies_are_nodes_named_under_their_call() -> None:
    nodes = {n.name: n for n in flatten(graph_def(True, node("flag", "Placeholder")))}
    update = nodes["bn/cond/then/AssignMovingAvg/AssignSubVariableOp"]
    assert update.op == "AssignSubVariableOp"
    assert update.inputs == ("bn/cond/then/variable", "bn/cond/then/AssignMovingAvg/sub")
    # The argument is the call's input, through a Switch on the predicate.
    assert nodes["bn/cond/then/variable"].inputs == ("bn/cond/then/variable/switch:1",)
    assert nodes["bn/cond/then/variable/switch"].inputs == ("bn/moving_mean", "flag")
    assert nodes["bn/cond/else/variable"].inputs == ("bn/cond/else/variable/switch:0",)
    # The call depends on what its branches return.
    assert nodes["bn/cond"].inputs[-1] == "bn/cond/returned"
    assert nodes["bn/cond/returned"].inputs == ("bn/cond/then/ReadVariableOp", "bn/cond/else/ReadVariableOp")


def test_an_update_inside_a_branch_is_found_and_judged() -> None:
    for wired in (True, False):
        diagnosis = graph_doctor.diagnose(flatten(graph_def(wired, node("flag", "Placeholder"))))
        [layer] = diagnosis.layers
        assert layer.updates == ("bn/cond/then/AssignMovingAvg/AssignSubVariableOp",)
        assert diagnosis.status("bn") == ("wired" if wired else "unwired")
        assert [finding.train_op for finding in diagnosis.missing] == ([] if wired else ["GradientDescent"])


def test_a_constant_predicate_kills_the_other_branch() -> None:
    nodes = flatten(graph_def(True, node("flag", "Const", **boolean(False))))
    liveness = graph_doctor._Liveness(graph_doctor.Graph(nodes), set(), defaults_fed=False)
    assert liveness.status["bn/cond/then/AssignMovingAvg/AssignSubVariableOp"] == graph_doctor.DEAD
    assert liveness.status["bn/cond/else/ReadVariableOp"] == graph_doctor.LIVE
    assert liveness.status["bn/cond"] == graph_doctor.LIVE


def test_a_body_op_nothing_returned_depends_on_is_not_run() -> None:
    """A TF1-built function has no control outputs: TensorFlow prunes what its results do
    not depend on, and no edge leads from the call to it."""
    dropped = function("cond_true", ["variable", "batch_mean"], [
        node("AssignSubVariableOp", "AssignSubVariableOp", "variable", "batch_mean"),
        node("Identity", "Identity", "batch_mean"),
    ], {"identity": "Identity:output:0"})
    graph = graph_def(True, node("flag", "Placeholder"))
    graph.library.function = [dropped, KEEP_BRANCH]
    diagnosis = graph_doctor.diagnose(flatten(graph))
    assert diagnosis.layers[0].updates == ("bn/cond/then/AssignSubVariableOp",)
    assert diagnosis.status("bn") == "unwired"
