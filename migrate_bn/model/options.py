"""Command-line options a program defines: the default a run gets unless the user
passes another value (`flags.DEFINE_integer('max_steps', 1000, ...)` read as
`FLAGS.max_steps`, `parser.add_argument('--max-steps', default=1000)` read as
`args.max_steps`). BN005 reads a run's length from them, `model.batch_size` a batch
size."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

from .. import tfapi
from ..binding import argument

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import ModuleFacts


def option_default(facts: "ModuleFacts", node: ast.Attribute) -> Optional[ast.expr]:
    """The default of `FLAGS.max_steps` (tf.app.flags / absl) or `args.max_steps`
    (argparse), when the module defines that flag."""
    if not (isinstance(node.value, ast.Name) and node.value.id not in ("self", "cls")):
        return None
    name = node.attr
    for call, _ in facts.calls:
        func = call.func
        qualified = facts.qualname(func, facts.module) or ""
        if qualified in tfapi.FLAG_DEFINERS or (
                isinstance(func, ast.Attribute) and func.attr.startswith(tfapi.FLAG_DEFINE_PREFIX)
                and func.attr[len(tfapi.FLAG_DEFINE_PREFIX):] in tfapi.FLAG_DEFINE_NUMERIC):
            flag = argument(call, tfapi.FLAG_NAME_KW, 0)
            if isinstance(flag, ast.Constant) and flag.value == name:
                return argument(call, tfapi.FLAG_DEFAULT_KW, 1)
        elif isinstance(func, ast.Attribute) and func.attr == tfapi.ARGPARSE_ADD_ARGUMENT:
            dest = _keyword(call, tfapi.ARGPARSE_DEST_KW)
            options = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            names = {dest.value} if isinstance(dest, ast.Constant) else {
                option.lstrip("-").replace("-", "_") for option in options if option.startswith("--")}
            if name in names:
                return _keyword(call, tfapi.FLAG_DEFAULT_KW)
    return None


def set_by_the_program(facts: "ModuleFacts", name: str) -> bool:
    """Does the module assign the option itself (`args.batch_size = 8`,
    `setattr(args, "batch_size", 8)`), so its default is not what every run gets?"""
    for node in facts.assignment_nodes:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(part, ast.Attribute) and part.attr == name for target in targets for part in ast.walk(target)):
            return True
    return any(isinstance(call.func, ast.Name) and call.func.id == "setattr" and len(call.args) > 1 and
               isinstance(call.args[1], ast.Constant) and call.args[1].value == name for call, _ in facts.calls)


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)
