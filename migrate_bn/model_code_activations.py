"""Activation functions a model function is given as configuration (MAML's
`normalize(inp, activation, reuse, scope)`), called on a tensor in model code.

`activation(inp)` calls whatever the caller passed; the Keras model keeps the parameter
as a setting and calls it alike. That is faithful when the value is an activation (a
function of its tensor, building nothing): the conversion accepts the call only when the
function itself hands the same parameter to one of its layers as that layer's
`activation_fn`/`activation`, which the conversion already applies to the Keras layer's
output as TF1 applied it (so the parameter is an activation by the layers' own contract).
Any other call of a parameter stays refused.
"""

from __future__ import annotations

import ast
import copy

# The layer keywords that take a function applied to the layer's output.
ACTIVATION_KEYWORDS = frozenset({"activation_fn", "activation"})


def is_activation_parameter_call(converter, call: ast.Call) -> bool:
    """`name(tensor)`, one positional argument, for `name` a parameter of the model
    function (not its inputs or flag) that a layer call of the function takes as its
    activation."""
    from .model_code import layer_kind

    func = call.func
    if not (isinstance(func, ast.Name) and func.id in converter.settings and len(call.args) == 1 and
            not call.keywords and not isinstance(call.args[0], ast.Starred)):
        return False
    if any(isinstance(node, ast.Name) and node.id == func.id and isinstance(node.ctx, (ast.Store, ast.Del))
           for node in ast.walk(converter.function)):
        return False  # rebound in the function: no longer what the caller passed
    return any(isinstance(node, ast.Call) and layer_kind(converter.facts, node) is not None and
               any(keyword.arg in ACTIVATION_KEYWORDS and isinstance(keyword.value, ast.Name) and
                   keyword.value.id == func.id for keyword in node.keywords)
               for node in ast.walk(converter.function))


def applied(converter, activation: str, outputs: ast.expr) -> ast.expr:
    """A layer's activation applied to its Keras outputs as TF1 applied it: contrib/slim
    call `activation_fn` only when it is not None, so an activation that is a parameter of
    the function (the caller may pass None) becomes `activation(y) if activation is not
    None else y` (one branch runs: the layer is called once). A literal function is called."""
    function = ast.parse(activation, mode="eval").body
    called = ast.Call(function, [outputs], [])
    if not (isinstance(function, ast.Name) and function.id in converter.parameters):
        return called
    return ast.IfExp(ast.Compare(ast.Name(function.id), [ast.IsNot()], [ast.Constant(None)]), called,
                     copy.deepcopy(outputs))
