"""Functions a model function reads from its `params` dict (issue 14, idiom 4: callables
passed as values, Estimator `model_fn`s handed to an Estimator in another module).

An Estimator GAN's `model_fn` calls `params['generator_fn'](z, None, mode, False)`; the
networks are chosen in `main.py`, which fills `params['generator_fn'] =
mnist.generator.generator_fn` and builds `tf.estimator.Estimator(model_fn=dcgan.dcgan_fn,
params=params)`. Read alone, the model function calls an unknown value; in the program,
that call runs the project function the handing module stores under the key, and builds
its batch norm.

The query answers for a call `params['key'](...)` in a module-level function F that
takes `features` and `params` (the names the Estimator passes them by): the project modules that hand F to a call as `model_fn=F` with `params=D`
(a dict variable of the same function or module) and assign `D['key'] = <project
function>` (or build `D` as a literal with that key) give the functions; the first that
builds batch norm feeding UPDATE_OPS is the producer (`project.Producer`) the facts record
for the call. Files are searched by their bytes first (the function's name and the key);
anything that cannot be resolved adds nothing, so an unknown callable stays unknown.
"""

from __future__ import annotations

import ast
import os
from typing import TYPE_CHECKING, Iterator, Optional

from .program import MAX_FILES, ProgramModule, program_of
from .project_graphs import project_files

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope
    from ..project import Producer

_MODEL_FN_KEYWORDS = ("model_fn",)


def dict_callable_producer(facts: "ModuleFacts", call: ast.Call, scope: "Scope") -> Optional["Producer"]:
    """The project producer a call of `params['key'](...)` runs, when the modules that
    hand this function to an Estimator store one under that key."""
    func = call.func
    if not (isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name)):
        return None
    key = _string(func.slice)
    function = _function_of(scope)
    # The Estimator passes `params` by that name to a model function that takes `features`.
    if key is None or function is None or func.value.id != "params" or \
            not {"params", "features"} <= set(function.param_defaults):
        return None
    found = program_of(facts)
    if found is None:
        return None
    program, path = found
    answers = facts.resolver.project.model_answers
    cache_key = ("dict_callables", path, function.name, key)
    if cache_key not in answers:
        answers[cache_key] = _producer(program, path, function.name, key)
    producer, consulted = answers[cache_key]
    facts.resolver.dependencies.update(consulted)
    return producer


def _string(node: ast.AST) -> Optional[str]:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _function_of(scope: "Scope") -> Optional["Scope"]:
    """The module-level function the scope is (other modules name only those)."""
    if scope.kind == "function" and scope.parent is not None and scope.parent.kind == "module":
        return scope
    return None


def _producer(program, path: str, name: str, key: str) -> tuple[Optional["Producer"], tuple[str, ...]]:
    """The first producer stored under `key` by a module that hands function `name` of
    `path` to a call as `model_fn`, and the files consulted."""
    consulted = []
    for other in _files_mentioning(program.root, (name.encode(), key.encode())):
        if other == path:
            continue
        module = program.module(other)
        if module is None:
            continue
        consulted.append(other)
        for value, scope in _stored_values(program, module, path, name, key):
            targets = list(program.callees(module, ast.Call(func=value, args=[], keywords=[]), scope))
            if len(targets) != 1:
                continue
            producer = program.project.summary(targets[0][0]).get(targets[0][1])
            if producer is not None:
                consulted.append(targets[0][0])
                return producer, tuple(consulted)
    return None, tuple(consulted)


def _files_mentioning(root: str, words: tuple[bytes, ...]) -> Iterator[str]:
    """The project's Python files whose bytes hold every word."""
    for file_path in project_files(root, (".py",), MAX_FILES):
        try:
            with open(file_path, "rb") as handle:
                source = handle.read()
        except OSError:
            continue
        if all(word in source for word in words):
            yield os.path.abspath(file_path)


def _stored_values(program, module: ProgramModule, path: str, name: str,
                   key: str) -> Iterator[tuple[ast.expr, "Scope"]]:
    """The values the module stores under `key` in a dict it passes as `params` to a call
    that also gets `model_fn=<path's function name>`."""
    facts = module.facts
    for call, scope in facts.calls:
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        model_fn = next((keywords[k] for k in _MODEL_FN_KEYWORDS if k in keywords), None)
        params = keywords.get("params")
        if model_fn is None or not isinstance(params, ast.Name):
            continue
        if _names_function(program, module, model_fn, scope, path, name):
            yield from _values_under(scope, params.id, key)


def _names_function(program, module: ProgramModule, node: ast.expr, scope: "Scope", path: str, name: str) -> bool:
    """Does the expression name function `name` of module `path` (`dcgan.dcgan_fn`, or a
    name imported from it)? Told from the import alone: the module being analysed is not
    built again."""
    qualname = module.facts.qualname(node, scope) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if qualname is None or "." not in qualname.lstrip("."):
        return False
    module_name, _, attribute = qualname.rpartition(".")
    found = program.project.resolver(module.path).module_file(module_name)
    return attribute == name and found is not None and os.path.abspath(found) == path


def _values_under(scope: "Scope", dict_name: str, key: str) -> Iterator[tuple[ast.expr, "Scope"]]:
    """`D['key'] = value` and `D = {'key': value}` / `dict(key=value)` in the scope's own
    body (nested functions and classes excluded)."""
    pending = list(ast.iter_child_nodes(scope.node))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        pending.extend(ast.iter_child_nodes(node))
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and \
                    target.value.id == dict_name and _string(target.slice) == key:
                yield node.value, scope
            elif isinstance(target, ast.Name) and target.id == dict_name:
                value = node.value
                if isinstance(value, ast.Dict):
                    for item_key, item in zip(value.keys, value.values):
                        if item_key is not None and _string(item_key) == key:
                            yield item, scope
                elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
                    for keyword in value.keywords:
                        if keyword.arg == key:
                            yield keyword.value, scope
