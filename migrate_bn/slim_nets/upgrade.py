"""`upgrade` for calls of tf-slim's nets: model code that builds a slim net under its arg
scope becomes a Keras model built once at module level and called with `training=`.

    with slim.arg_scope(resnet_v1.resnet_arg_scope()):                 resnet_v1_50_model = resnet_v1.resnet_v1_50(num_classes=10)
        net, end_points = resnet_v1.resnet_v1_50(images, 10,      ->    ...
                                                 is_training=flag)    net, end_points = resnet_v1_50_model(images, training=flag)

The Keras nets (migrate_bn/slim_nets/keras) are copied beside the module as the package
`slim_nets_keras`, which the rewritten module imports; end points keep slim's keys.
A module is rewritten only when the net calls are all the TF1 code in it (Keras layers in
a TF1 graph would never update their statistics, BN008); otherwise each convertible call
is offered as a note and the module is left as it was, with a typed reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from importlib import resources
from typing import Optional, Union

from .. import tfapi
from ..binding import named_arguments
from ..facts import UNKNOWN, ModuleFacts
from .table import ARG_SCOPE_MODULES, EMITTED_PACKAGE, MODELS_PACKAGE, NETS, NETS_PACKAGE

TF1_ROOTS = ("tensorflow.contrib", "tensorflow.compat.v1", "nets.")


@dataclass(frozen=True)
class NetRefusal:
    """Why a net call, or the module around it, is not rewritten: `kind` is stable."""

    kind: str  # "reuse", "argument", "no-arg-scope", "arg-scope", "not-constant", "other-tf1-code", "models-variant"
    line: int
    detail: str


@dataclass
class NetCall:
    call: ast.Call
    net: str
    family: str
    constructor: str  # `resnet_v1.resnet_v1_50(num_classes=10)`, with the family's local name
    arguments: str  # `images, training=flag`
    with_block: ast.With
    notes: list = field(default_factory=list)


@dataclass
class NetUpgrade:
    """The module rewritten (text None when it is not), the package files to put beside it
    ({relative path: bytes}), and what was refused with the conversions still offered."""

    text: Optional[str] = None
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)  # (line, text)
    refusal: Optional[NetRefusal] = None


def package_files() -> dict:
    """migrate_bn/slim_nets/keras as the files of `slim_nets_keras/` (read from the install)."""
    root = resources.files("migrate_bn.slim_nets") / "keras"
    return {f"{EMITTED_PACKAGE}/{entry.name}": entry.read_bytes()
            for entry in sorted(root.iterdir(), key=lambda entry: entry.name) if entry.name.endswith(".py")}


def net_calls(facts: ModuleFacts, path: Optional[str] = None) -> list[Union[NetCall, NetRefusal]]:
    """Each call of a tf-slim net in the module, converted or refused. `path` is the
    module's file: a net of the TF models repository's `nets` is one only when `nets`
    is not the project's own (unknown without a path: not taken for a net)."""
    found: list[Union[NetCall, NetRefusal]] = []
    for call, scope in facts.calls:
        name = facts.qualname(call.func, scope) or ""
        module, _, function = name.rpartition(".")
        spec = NETS.get(function)
        if spec is not None and spec.package == MODELS_PACKAGE and module == f"{MODELS_PACKAGE}.{spec.family}":
            if path is not None and outside_the_project(path, module):
                found.append(_convert(facts, call, scope, function))
        elif function in NETS and module.startswith("nets."):
            found.append(NetRefusal("models-variant", call.lineno, f"`{function}` of the TF models repository's "
                                    "`nets` (its variant differs from tf-slim's: squeezed logits, more options)"))
        elif function in NETS and module == f"{NETS_PACKAGE}.{NETS[function].family}":
            found.append(_convert(facts, call, scope, function))
    return found


def outside_the_project(path: str, module: str) -> bool:
    """Does `module` (`nets.mobilenet_v1`), imported by the file `path`, come from outside
    its project: neither it nor its package is a project file, as the project's import
    lookup finds them (the module's directory and those above it, up to the root marker)?"""
    from ..project import Project, Resolver

    resolver = Resolver(Project(), path)
    parts = module.split(".")
    return all(resolver.module_file(".".join(parts[:count])) is None for count in range(1, len(parts) + 1))


def _convert(facts: ModuleFacts, call: ast.Call, scope, net: str) -> Union[NetCall, NetRefusal]:
    spec = NETS[net]
    arguments = named_arguments(call, spec.positions)
    if arguments is None or "inputs" not in arguments or \
            any(keyword.arg is None for keyword in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return NetRefusal("argument", call.lineno, f"`{net}` called with `*args`/`**kwargs` or without its images")
    unknown = sorted(set(arguments) - set(spec.positions))
    if unknown:
        return NetRefusal("argument", call.lineno, f"`{net}`'s argument `{unknown[0]}` has no Keras equivalent here")
    unsupported = sorted(set(arguments) - spec.constructor - {"inputs", "is_training", "reuse"})
    if unsupported:
        return NetRefusal("argument", call.lineno, f"`{net}`'s argument `{unsupported[0]}` is not converted")
    if "reuse" in arguments:
        return NetRefusal("reuse", call.lineno, f"`{net}` with `reuse`: call the one Keras model at every place "
                          "that shared its variables")
    constructor = {}
    for parameter in spec.constructor & set(arguments):
        problem = _not_constant(facts, arguments[parameter], scope, call.lineno)
        if problem:
            return NetRefusal("not-constant", call.lineno, f"`{parameter}={facts.segment(arguments[parameter])}`"
                              f" {problem}: the Keras model is built once, at module level")
        constructor[parameter] = facts.segment(arguments[parameter])
    found = _arg_scope_of(facts, call, scope, spec)
    if isinstance(found, NetRefusal):
        return found
    with_block, arg_scope_call = found
    for keyword in arg_scope_call.keywords:
        if keyword.arg not in spec.arg_scope_keywords:
            return NetRefusal("arg-scope", call.lineno, f"`{spec.arg_scope}({keyword.arg}=...)` is not converted")
        problem = _not_constant(facts, keyword.value, scope, call.lineno)
        if problem:
            return NetRefusal("not-constant", call.lineno, f"`{spec.arg_scope}({keyword.arg}=...)` {problem}")
        constructor[keyword.arg] = facts.segment(keyword.value)
    if arg_scope_call.args:
        return NetRefusal("arg-scope", call.lineno, f"`{spec.arg_scope}` with positional arguments is not converted")
    training = arguments.get("is_training")
    notes = []
    if training is None:
        notes.append(f"`{net}` without `is_training` trained its batch norm always (slim's default): "
                     "`training=True` written")
    flag = facts.segment(training) if training is not None else "True"
    keywords = ", ".join(f"{key}={value}" for key, value in sorted(constructor.items(), key=_by_position(spec)))
    return NetCall(call, net, spec.family, f"{{family}}.{net}({keywords})",
                   f"{facts.segment(arguments['inputs'])}, training={flag}", with_block, notes)


def _by_position(spec):
    order = {name: index for index, name in enumerate(spec.positions)}
    return lambda item: (order.get(item[0], len(order)), item[0])


def _not_constant(facts: ModuleFacts, node: ast.expr, scope, line: int) -> Optional[str]:
    """None when `node` can be evaluated at module level before `line`; else why not."""
    if isinstance(node, (ast.Constant, ast.UnaryOp)) and all(
            isinstance(n, (ast.Constant, ast.UnaryOp, ast.unaryop)) for n in ast.walk(node)):
        return None
    if isinstance(node, ast.Name):
        value = facts.lookup(node.id, scope)
        if value is not None and value is not UNKNOWN and facts.lookup(node.id, facts.module) is value:
            return None
        return "is not a module-level constant"
    return "is not a literal or a module-level name"


def _arg_scope_of(facts: ModuleFacts, call: ast.Call, scope, spec):
    """The `with slim.arg_scope(<family>.<arg scope>()):` right around the call."""
    for statement in reversed(facts.enclosing_statements.get(id(call), ())):
        if not isinstance(statement, ast.With):
            continue
        for item in statement.items:
            context = item.context_expr
            if not (isinstance(context, ast.Call) and
                    (facts.qualname(context.func, scope) or "") in tfapi.ARG_SCOPE_FUNCTIONS):
                continue
            factory = context.args[0] if len(context.args) == 1 and not context.keywords else None
            name = facts.qualname(factory.func, scope) or "" if isinstance(factory, ast.Call) else ""
            module, _, function = name.rpartition(".")
            if function != spec.arg_scope or module.rsplit(".", 1)[-1] not in (spec.family, *ARG_SCOPE_MODULES):
                return NetRefusal("arg-scope", call.lineno, "an `arg_scope` other than the net's own "
                                  f"`{spec.arg_scope}()` around it")
            if len(statement.items) != 1 or item.optional_vars is not None:
                return NetRefusal("arg-scope", statement.lineno, "a `with` that does more than enter the arg scope")
            return statement, factory
    return NetRefusal("no-arg-scope", call.lineno, f"the net outside `{spec.arg_scope}()`: slim's bare defaults "
                      "(no batch norm) are not what the Keras model builds")


def other_tf1_code(facts: ModuleFacts, converted: list[NetCall]) -> Optional[NetRefusal]:
    """The first TF1 name the rewrite would leave behind (none: the module is model code
    whose only TF1 code is the net calls)."""
    inside: set[int] = set()
    for net in converted:
        for node in ast.walk(net.call.func):
            inside.add(id(node))
        for item in net.with_block.items:
            for node in ast.walk(item.context_expr):
                inside.add(id(node))
    # `tf.nn.relu` is one name: its inner `tf.nn` is not looked at on its own.
    inside |= {id(node.value) for node in ast.walk(facts.tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(facts.tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in inside:
            continue
        if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(getattr(node, "ctx", None), ast.Load):
            scope = facts.scope_of_node.get(id(node), facts.module)
            name = facts.qualname(node, scope) or ""
            if name.startswith(TF1_ROOTS) or name.startswith("tensorflow.") and \
                    name[len("tensorflow."):] not in tfapi.TF2_SAME:
                return NetRefusal("other-tf1-code", node.lineno, f"`{facts.segment(node)}` is TF1 code the net "
                                  "conversion does not cover (convert the net alone from the note)")
    return None


def upgrade_nets(facts: ModuleFacts, text: str, path: Optional[str] = None) -> Optional[NetUpgrade]:
    """The module's net calls converted (None: it calls no tf-slim net); `path` is the
    module's file (net_calls)."""
    calls = net_calls(facts, path)
    if not calls:
        return None
    refusals = [call for call in calls if isinstance(call, NetRefusal)]
    converted = [call for call in calls if isinstance(call, NetCall)]
    notes = [(net.call.lineno, f"`{facts.segment(net.call)}` converts to the Keras model "
              f"`{net.constructor.format(family=EMITTED_PACKAGE + '.' + net.family)}` (built once), called as "
              f"`model({net.arguments})`") for net in converted]
    refusal = refusals[0] if refusals else other_tf1_code(facts, converted)
    if refusal is not None:
        return NetUpgrade(notes=notes, refusal=refusal)
    from .rewrite import RewriteRefused, rewritten  # the text edits, only when there is something to write

    try:
        new_text, more_notes = rewritten(facts, text, converted)
    except RewriteRefused as refused:
        return NetUpgrade(notes=notes, refusal=NetRefusal(refused.kind, refused.line, refused.detail))
    return NetUpgrade(new_text, package_files(), sorted(set(more_notes + [(n.call.lineno, note) for n in converted
                                                                         for note in n.notes])))


def nets_upgrade(nets: NetUpgrade, text: str):
    """A module whose only TF1 code is net calls, as `upgrade_source` answers it."""
    from ..upgrade import Upgrade

    if nets.refusal is not None:
        return Upgrade(skipped=(nets.refusal.line, nets.refusal.detail), notes=nets.notes)
    assert nets.text is not None
    ast.parse(nets.text)  # a bug here must never reach a file
    new_text = nets.text.replace("\r\n", "\n").replace("\n", "\r\n") if "\r\n" in text else nets.text
    return Upgrade(new_text, nets.notes, files=nets.files)
