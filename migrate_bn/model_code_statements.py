"""Statements of a model function that build nothing, followed into the Keras model.

Real model functions carry statements besides their layers: `del` of parameters kept for
a shared signature, `assert`s and `raise`s on their configuration, strings used as
comments, and `set_shape` on a tensor. None of them builds a layer, so the conversion
(migrate_bn/model_code.py) keeps each where it acts the same in Keras:

- on the configuration only (no tensor, no training flag): in `__init__` and in `call`,
  under the same loops and branches, as the configuration assignments are. A `raise` or
  a failing `assert` then stops the Keras model where TF1 stopped building it (at
  construction, before any layer), and a `del` frees the same name in both.
- on a tensor: `del` and `<tensor>.set_shape(...)` (static shapes, in `call` only). An
  `assert` or `raise` computed from a tensor is refused: in TF1 graph mode a tensor has
  no truth value, while Keras traces `call` with AutoGraph, which turns such an `assert`
  into a runtime check, so the two would not stop on the same inputs.

A string expression statement (a comment in quotes, or a docstring placed after other
statements) is dropped, as comments are.
"""

from __future__ import annotations

import ast
import copy
from typing import TYPE_CHECKING, Optional

from .script import NotConvertible

if TYPE_CHECKING:  # the converter is model_code.FunctionConverter (model_code imports this module)
    from .facts import ModuleFacts
    from .model_code import FunctionConverter

# Methods that add to a local list or dict (`layers.append(net)`, `end_points.update(...)`).
CONTAINER_METHODS = frozenset({"append", "extend", "insert", "update"})
# Tensor methods a statement may call: they set what TF1 knew of the tensor statically.
TENSOR_STATEMENT_METHODS = frozenset({"set_shape"})


def follow(converter: "FunctionConverter", statement: ast.stmt, init: list[ast.stmt], call: list[ast.stmt]) -> bool:
    """Add `statement` to the `__init__` (`init`) and `call` bodies where it acts as in
    TF1; False when it is not one of these statements (the caller refuses it). Raises
    NotConvertible for one of them that cannot be kept faithfully."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and \
            isinstance(statement.value.value, str):
        return True  # a string as a comment
    if isinstance(statement, ast.FunctionDef):
        _nested_function(converter, statement, init, call)
        return True
    tensors = _tensor_names(converter)
    if isinstance(statement, ast.Delete):
        if len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Subscript):
            return _delete_item(converter, statement, tensors, init, call)
        if not all(isinstance(target, ast.Name) for target in statement.targets):
            return False
        names = {target.id for target in statement.targets}  # type: ignore[attr-defined]
        on_tensors = names & tensors
        if on_tensors and on_tensors != names:
            raise NotConvertible(statement, "a `del` of tensors and configuration together")
        if not on_tensors:
            init.append(copy.deepcopy(statement))
        call.append(copy.deepcopy(statement))
        return True
    if isinstance(statement, (ast.Assert, ast.Raise)):
        if _builds_or_reads(converter, statement, tensors):
            raise NotConvertible(statement, f"`{type(statement).__name__.lower()}` on a tensor (TF1 decides it once "
                                            "at graph build, Keras checks it at every call)")
        _in_both(converter, statement, init, call)
        return True
    container = _container_mutation(statement)
    if container is not None:
        if any(_layer_kind_in(converter, argument) for argument in _arguments(statement)):
            return False  # a layer built in the call: the conversion cannot place it
        if not _local(converter.function, container):
            # A parameter's or the module's list: TF1 added to it once, at graph build;
            # `call` would add again at every call (and `__init__` to the same settings).
            raise NotConvertible(statement, f"`{container}` grows a list or dict the model function did not create")
        if container in tensors or any(_builds_or_reads(converter, argument, tensors)
                                       for argument in _arguments(statement)):
            mirrored = _length_mirror(converter, container, statement)
            if mirrored is not None:
                init.append(mirrored)
                converter.counted_lists.add(container)
            else:
                converter.counted_lists.discard(container)
            converter.tensors.add(container)  # a list or dict of tensors (end points): `call`'s
            call.append(converter.tf2_names(copy.deepcopy(statement)))  # type: ignore[arg-type]
        else:
            _in_both(converter, statement, init, call)
        return True
    if _is_tensor_method_statement(statement, tensors):
        value = statement.value  # type: ignore[attr-defined]
        arguments = list(value.args) + [keyword.value for keyword in value.keywords]
        if any(_builds_or_reads(converter, argument, tensors) for argument in arguments):
            raise NotConvertible(statement, f"`{value.func.attr}` given a value computed from a tensor")
        call.append(converter.tf2_names(copy.deepcopy(statement)))  # type: ignore[arg-type]
        return True
    return False


def augmented(converter: "FunctionConverter", statement: ast.stmt, prefix: list, init: list[ast.stmt],
              call: list[ast.stmt]) -> bool:
    """`h0 += conv(...)` on a tensor: followed as `h0 = h0 + conv(...)` is (a tf.Tensor has
    no in-place operators, so TF1 computed a new tensor), kept as written in `call` with its
    layers built in `__init__`. On configuration only (`depth += 1`): in both, as
    configuration assignments are. False for any other (a list of tensors grown by `+=`, a
    target other than a name): the caller refuses it."""
    if not isinstance(statement, ast.AugAssign) or not isinstance(statement.target, ast.Name):
        return False
    tensors = _tensor_names(converter)
    if statement.target.id in converter.tensors:
        value = converter.tensor_expression(statement.value, prefix, init)
        call.append(ast.AugAssign(ast.Name(statement.target.id, ast.Store()), statement.op, value))
        return True
    if statement.target.id in tensors or _builds_or_reads(converter, statement.value, tensors):
        return False
    _in_both(converter, statement, init, call)
    return True


def _delete_item(converter: "FunctionConverter", statement: ast.Delete, tensors: set[str], init: list[ast.stmt],
                 call: list[ast.stmt]) -> bool:
    """`del reduction_axes[axis]` on a list the function built itself (a parameter's or the
    module's list would lose an item at every call): in `call` alone when the list is
    computed from a tensor (its static shape), in both when it is configuration. The
    index must be configuration. False for any other item deletion (the caller refuses it)."""
    target = statement.targets[0]
    assert isinstance(target, ast.Subscript)
    if not isinstance(target.value, ast.Name) or not _local(converter.function, target.value.id) or \
            _builds_or_reads(converter, target.slice, tensors):
        return False
    if target.value.id in tensors:
        call.append(copy.deepcopy(statement))
    else:
        _in_both(converter, statement, init, call)
    return True


def _in_both(converter: "FunctionConverter", statement: ast.stmt, init: list[ast.stmt], call: list[ast.stmt]) -> None:
    """Configuration code: in `__init__` and in `call`, its `tf.` names as TF2 spells them."""
    kept = converter.tf2_names(copy.deepcopy(statement))
    init.append(kept)  # type: ignore[arg-type]
    call.append(copy.deepcopy(kept))  # type: ignore[arg-type]


def _tensor_names(converter: "FunctionConverter") -> set[str]:
    """The names `call` alone has: tensors, and the training flag under its names."""
    flags = {converter.flag} if converter.flag is not None else set()
    if converter.mode is not None:
        flags.add(converter.mode)
    return set(converter.tensors) | flags | set(converter.flag_aliases)


def _builds_or_reads(converter: "FunctionConverter", node: ast.AST, tensors: set[str]) -> bool:
    from .model_code import layer_kind

    return any(isinstance(inner, ast.Name) and inner.id in tensors for inner in ast.walk(node)) or \
        any(layer_kind(converter.facts, inner) for inner in ast.walk(node))


def nested_helpers(facts: "ModuleFacts", functions: list[ast.FunctionDef],
                   helpers: dict[str, ast.FunctionDef]) -> dict[str, ast.FunctionDef]:
    """The functions defined inside model functions that build layers: helpers like the
    module's own (`build_<name>`/`apply_<name>` methods of the models that call them),
    known before any model is converted so that a flag passed to them is the caller's
    flag. Only those that read their own names and the module's (no closure) and are
    named as no other model function: the others are refused where the conversion of
    their function reaches them (`_nested_function`)."""
    found: dict[str, ast.FunctionDef] = {}
    candidates = [(function, node) for function in functions for node in ast.walk(function)
                  if node is not function and isinstance(node, ast.FunctionDef)]
    changed = True
    while changed:  # a function that calls a helper builds layers too
        changed = False
        for function, node in candidates:
            if node.name in found or not _builds(facts, node, {**helpers, **found}):
                continue
            if node.decorator_list or node.name in helpers or _closure(function, node, {**helpers, **found}):
                continue  # refused where the conversion reaches it
            found[node.name] = node
            changed = True
    return found


def _builds(facts: "ModuleFacts", function: ast.FunctionDef, helpers: dict[str, ast.FunctionDef]) -> bool:
    """Does `function` build layers, itself or through a helper it calls?"""
    from .model_code import layer_kind

    return any(layer_kind(facts, node) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
                                            node.func.id in helpers) for node in ast.walk(function))


def own_nodes(function: ast.FunctionDef) -> set[int]:
    """The ids of the nodes of `function`, without those of the functions defined in it
    (their batch norms take their own flag parameters; the flag the function passes to a
    helper among them is found through the call)."""
    nested = {id(node) for inner in ast.walk(function) if inner is not function and
              isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(inner)}
    return {id(node) for node in ast.walk(function)} - nested


def _nested_function(converter: "FunctionConverter", function: ast.FunctionDef, init: list[ast.stmt],
                     call: list[ast.stmt]) -> None:
    """A function defined in the model function. One that builds layers is a helper
    (`nested_helpers`): its statement goes. One that does not is tensor code, kept as
    written in `call` (and in `__init__`, where configuration code may call it). Either
    must read only its own names and the module's: a closure, moved out or kept, would
    not see its function's names as TF1 saw them."""
    if converter.helpers.get(function.name) is function:
        return
    if function.decorator_list:
        raise NotConvertible(function, "a decorated function inside a model function")
    closed = _closure(converter.function, function, converter.helpers)
    if closed:
        raise NotConvertible(function, f"a function inside a model function that reads its names "
                                       f"({', '.join(closed)})")
    if function.name in converter.helpers or function.name in converter.plain_functions:
        raise NotConvertible(function, f"a function inside a model function named as one of the module "
                                       f"(`{function.name}`)")
    if _builds(converter.facts, function, converter.helpers):  # not a helper: only another's name can say why
        raise NotConvertible(function, f"a function inside a model function named as another model function "
                                       f"(`{function.name}`)")
    converter.plain_functions.add(function.name)
    _in_both(converter, function, init, call)


def _closure(enclosing: ast.FunctionDef, function: ast.FunctionDef,
             helpers: Optional[dict[str, ast.FunctionDef]] = None) -> list[str]:
    """The names of `enclosing` that `function`, defined in it, reads: its parameters and
    locals, the functions, classes and imports defined in it (but the helpers among its
    functions, which become methods), and any `nonlocal` or `global` name (state shared
    with TF1's one build, which a Keras `call` would share with every call)."""
    helpers = helpers or {}
    shared = {name for node in ast.walk(function) if isinstance(node, (ast.Nonlocal, ast.Global))
              for name in node.names}
    own = {argument.arg for argument in function.args.args + function.args.kwonlyargs} | \
        {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    around = {argument.arg for argument in enclosing.args.args} | \
        {node.id for node in ast.walk(enclosing) if isinstance(node, ast.Name) and
         not isinstance(node.ctx, ast.Load)} | \
        {node.name for node in ast.walk(enclosing) if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and
         node is not enclosing and node is not function and helpers.get(node.name) is not node} | \
        {(alias.asname or alias.name).split(".")[0] for node in ast.walk(enclosing)
         if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return sorted(shared | {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and
                            isinstance(node.ctx, ast.Load) and node.id not in own - shared and node.id in around})


def static_shape_reason(converter: "FunctionConverter", node: ast.AST, what: str) -> str:
    """`what`, said more exactly when the configuration value reads its tensors only
    through their static shape (`x.shape[-1]`, `x.get_shape()`, or a function of the
    module that returns one, such as `_int_shape(x)[3]`): a Python int in TF1, which the
    Keras model, building its layers in `__init__`, cannot know before its input."""
    from .model_code import layer_kind

    if any(layer_kind(converter.facts, inner) for inner in ast.walk(node)):
        return what
    shape_reads = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and inner.attr in ("shape", "get_shape"):
            shape_reads.add(id(inner.value))
        elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and \
                _returns_static_shape(converter.facts, inner.func.id):
            shape_reads.update(id(argument) for argument in inner.args)
    tensors = _tensor_names(converter)
    read = [inner for inner in ast.walk(node) if isinstance(inner, ast.Name) and inner.id in tensors]
    if read and all(id(inner) in shape_reads for inner in read):
        return (f"{what}: a Python int read from a tensor's static shape, which the Keras model cannot know "
                "in `__init__`, before it sees its input")
    return what


def _returns_static_shape(facts: "ModuleFacts", name: str) -> bool:
    """A one-statement function of the module returning its parameter's static shape
    (`return layer.get_shape().as_list()`)."""
    function = facts.function_defs.get(name)
    if not isinstance(function, ast.FunctionDef) or len(function.args.args) != 1:
        return False
    body = [statement for statement in function.body
            if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return False
    parameter = function.args.args[0].arg
    return any(isinstance(inner, ast.Attribute) and inner.attr in ("shape", "get_shape") and
               isinstance(inner.value, ast.Name) and inner.value.id == parameter for inner in ast.walk(body[0].value))


def loop_refusal(converter: "FunctionConverter", loop: ast.For) -> str:
    """Why a loop over a tensor is refused. Over the function's input itself, that input
    was a list of tensors (TF1 graph tensors cannot be iterated): each item builds layers
    of its own, whose number the Keras model, building its layers before it sees its
    inputs, cannot know."""
    if isinstance(loop.iter, ast.Name) and loop.iter.id == converter.inputs:
        return (f"a loop over a tensor or a list of input tensors (`{converter.inputs}`): the layers built per "
                "item are as many as the inputs, which the Keras model builds before it sees them")
    return "a loop over a tensor"


def mentions_tensor(converter: "FunctionConverter", node: ast.AST) -> bool:
    """Does `node` read a tensor? `len(layers)` of a list of tensors whose length
    `__init__` keeps (`_length_mirror`) does not: it is configuration."""
    counted = converter.counted_lists
    skipped = {id(inner.args[0]) for inner in ast.walk(node) if isinstance(inner, ast.Call) and
               isinstance(inner.func, ast.Name) and inner.func.id == "len" and len(inner.args) == 1 and
               isinstance(inner.args[0], ast.Name) and inner.args[0].id in counted}
    return any(isinstance(inner, ast.Name) and inner.id in converter.tensors and id(inner) not in skipped
               for inner in ast.walk(node))


def _length_mirror(converter: "FunctionConverter", container: str, statement: ast.stmt) -> Optional[ast.stmt]:
    """For `layers.append(net)`: `layers.append(None)`, which keeps in `__init__` the
    length TF1 code reads as configuration (`variable_scope("encoder_%d" % len(layers))`).
    Only for a list the function creates empty once (`layers = []`, never rebound) and
    grows one item at a time; None otherwise."""
    value = statement.value  # type: ignore[attr-defined]
    if value.func.attr not in ("append", "insert") or value.keywords or \
            (container in converter.tensors and container not in converter.counted_lists):
        return None
    stores = [node for node in ast.walk(converter.function) if isinstance(node, ast.Name) and
              node.id == container and not isinstance(node.ctx, ast.Load)]
    created = [node for node in ast.walk(converter.function) if isinstance(node, ast.Assign) and
               len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and
               node.targets[0].id == container and _empty_list(node.value)]
    if len(stores) != 1 or len(created) != 1 or container in converter.parameters:
        return None
    arguments = value.args
    if value.func.attr == "insert" and (len(arguments) != 2 or mentions_tensor(converter, arguments[0])):
        return None
    mirrored = copy.deepcopy(statement)
    mirrored.value.args[-1] = ast.Constant(None)  # type: ignore[attr-defined]
    return mirrored


def _empty_list(node: ast.expr) -> bool:
    return (isinstance(node, ast.List) and not node.elts) or \
        (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" and
         not node.args and not node.keywords)


def _container_mutation(statement: ast.stmt) -> Optional[str]:
    """The local list or dict a statement such as `layers.append(net)` or
    `end_points.update({...})` adds to."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return None
    function = statement.value.func
    if isinstance(function, ast.Attribute) and function.attr in CONTAINER_METHODS and \
            isinstance(function.value, ast.Name):
        return function.value.id
    return None


def _local(function: ast.FunctionDef, name: str) -> bool:
    """Is `name` a local the function binds itself (not a parameter, not the module's)?"""
    return name not in {argument.arg for argument in function.args.args} and any(
        isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
        for node in ast.walk(function))


def _arguments(statement: ast.stmt) -> list[ast.expr]:
    value = statement.value  # type: ignore[attr-defined]
    return list(value.args) + [keyword.value for keyword in value.keywords]


def _layer_kind_in(converter: "FunctionConverter", node: ast.AST) -> bool:
    from .model_code import layer_kind

    return any(layer_kind(converter.facts, inner) for inner in ast.walk(node))


def _is_tensor_method_statement(statement: ast.stmt, tensors: set[str]) -> bool:
    """`net.set_shape(...)` as a statement, on a tensor of the function."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    function = statement.value.func
    return isinstance(function, ast.Attribute) and function.attr in TENSOR_STATEMENT_METHODS and \
        isinstance(function.value, ast.Name) and function.value.id in tensors
