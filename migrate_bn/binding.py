"""Argument binding: which expression a call passes for each parameter, bound as Python
binds them (`inspect.Signature.bind_partial`).

One binder for every signature migrate-bn knows: a TF1 API's, from its positional order
in tfapi's tables, and the module's own functions', from their `def`. A structure query
like the others facts.py answers; the whole-program model (design.md section 7) will own
it, binding calls from an entry point to the batch norm they reach.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Optional, Sequence, Union

_Parameter = inspect.Parameter
# The names under which an API signature collects what its table does not name.
_MORE_POSITIONAL, _MORE_KEYWORDS = "_more_positional", "_more_keywords"

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]


@dataclass(frozen=True)
class Bound:
    """A call's arguments by parameter name (a keyword the signature does not name, under
    its own name), and whether that is all of them: not when the call's `*args` /
    `**kwargs`, or positional arguments past the known ones, may pass more."""

    arguments: dict[str, ast.expr]
    complete: bool
    defaults: dict[str, ast.expr]  # the parameters the call leaves to their default value


def api_signature(positions: Sequence[str]) -> inspect.Signature:
    """An API's signature from its positional order: any other keyword is accepted too."""
    parameters = [_Parameter(name, _Parameter.POSITIONAL_OR_KEYWORD) for name in positions]
    return inspect.Signature([*parameters, _Parameter(_MORE_POSITIONAL, _Parameter.VAR_POSITIONAL),
                              _Parameter(_MORE_KEYWORDS, _Parameter.VAR_KEYWORD)])


def def_signature(function: Function, bound_method: bool = False) -> inspect.Signature:
    """The signature a `def` (or lambda) declares, its defaults being their expressions;
    `bound_method`: called as `self.f(...)`, so without its `self` / `cls`."""
    declared = function.args
    positional = [*declared.posonlyargs, *declared.args]
    defaults: list = [_Parameter.empty] * (len(positional) - len(declared.defaults)) + list(declared.defaults)
    parameters = [
        _Parameter(arg.arg, _Parameter.POSITIONAL_ONLY if index < len(declared.posonlyargs)
                   else _Parameter.POSITIONAL_OR_KEYWORD, default=default)
        for index, (arg, default) in enumerate(zip(positional, defaults))
    ]
    if bound_method and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    if declared.vararg is not None:
        parameters.append(_Parameter(declared.vararg.arg, _Parameter.VAR_POSITIONAL))
    for arg, default in zip(declared.kwonlyargs, declared.kw_defaults):
        parameters.append(_Parameter(arg.arg, _Parameter.KEYWORD_ONLY,
                                     default=_Parameter.empty if default is None else default))
    if declared.kwarg is not None:
        parameters.append(_Parameter(declared.kwarg.arg, _Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def bind(call: ast.Call, signature: inspect.Signature) -> Optional[Bound]:
    """The call's arguments by parameter; None when Python could not bind it (a
    parameter given twice, too many positional arguments for the `def`). Positional
    arguments after a `*args` cannot be placed and are left out."""
    positional: list[ast.expr] = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            break
        positional.append(arg)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg is not None}
    complete = len(positional) == len(call.args) and len(keywords) == len(call.keywords)
    try:
        bound = signature.bind_partial(*positional, **keywords)
    except TypeError:
        return None
    arguments: dict[str, ast.expr] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind == _Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind == _Parameter.VAR_POSITIONAL:
            complete = complete and not value  # passed, but to no parameter with a name
        else:
            arguments[name] = value
    defaults = {name: parameter.default for name, parameter in signature.parameters.items()
                if name not in arguments and parameter.default is not _Parameter.empty}
    return Bound(arguments, complete, defaults)


def named_arguments(call: ast.Call, positions: Sequence[str]) -> Optional[dict[str, ast.expr]]:
    """All of an API call's arguments by name (its positional order from a table); None
    when some cannot be told (`*args`, `**kwargs`, more positional arguments than known)."""
    bound = bind(call, api_signature(positions))
    return bound.arguments if bound is not None and bound.complete else None


def argument(call: ast.Call, keyword: str, position: Optional[int] = None) -> Optional[ast.expr]:
    """The argument a call passes as `keyword` or, when given, at `position`."""
    positions = [f"_position{index}" for index in range(position)] + [keyword] if position is not None else []
    bound = bind(call, api_signature(positions))
    return bound.arguments.get(keyword) if bound is not None else None


def positional_parameters(signature: inspect.Signature) -> tuple[str, ...]:
    """The parameters a call can fill by position, in order."""
    return tuple(name for name, parameter in signature.parameters.items()
                 if parameter.kind in (_Parameter.POSITIONAL_ONLY, _Parameter.POSITIONAL_OR_KEYWORD))
