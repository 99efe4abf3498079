"""The model functions of a module offered on their own, function by function (issue 15:
"whatever cannot be converted is left with its reason, the model conversion still offered
on its own").

When the code around the models cannot be converted (a session nested somewhere, a
batch-norm bug of the training code, an unconverted statement), `upgrade` offers the
module's model functions as Keras 3 models in a module of their own. Here one model
function that cannot be converted no longer takes the others with it: it is left out
with its reason, and so is every function that calls it (its layers would be missing),
while the others are offered. The module-level names the offered functions read come
with them when copying them is faithful (`carried_definitions`): constants bound once to
a literal value, plain helper functions that build nothing and use only TensorFlow
names TF2 spells and computes as TF1 did (a `variable_scope` naming their ops written as
`name_scope`: model_offer_scopes.py), and absl flags defined in the module
(model_offer_flags.py).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from . import model_offer_flags, model_offer_scopes, tfapi
from .facts import ModuleFacts
from .model_code_calls import calls_of
from .names import resolve
from .script import NotConvertible

if TYPE_CHECKING:
    from .model_code import ModuleConversion

# Python names the offered module has without a definition of its own.
_KNOWN = frozenset(dir(builtins))


@dataclass
class RefusedFunction:
    """A model function left out of the offer, with the first reason (typed by its site)."""

    name: str
    line: int
    reason: str


@dataclass
class FunctionOffer:
    """What `offer` found: the conversion of the offered functions (None: none offered),
    the module-level definitions they need, and the functions left out."""

    conversion: Optional["ModuleConversion"]
    carried: list[ast.stmt] = field(default_factory=list)
    refused: list[RefusedFunction] = field(default_factory=list)


def offer(facts: ModuleFacts, functions: list[ast.FunctionDef],
          convert: Callable[[list[ast.FunctionDef]], "ModuleConversion"],
          bugs: tuple[tuple[int, str], ...] = ()) -> FunctionOffer:
    """Convert `functions` (the module's model functions) with `convert`, leaving out one
    by one those that cannot be converted, or whose converted model reads a module name
    that cannot come along, and the functions that call a function left out. A function
    holding one of the `bugs` (line, reason: a batch-norm bug `fix` must fix first) is left
    out from the start: its model would carry the bug."""
    refused: dict[str, RefusedFunction] = {}
    for line, reason in bugs:
        culprit = _containing(functions, line)
        if culprit is not None and culprit.name not in refused:
            refused[culprit.name] = RefusedFunction(culprit.name, line, reason)
    while True:
        _refuse_callers(functions, refused)
        alive = [function for function in functions if function.name not in refused]
        if not alive:
            return FunctionOffer(None, [], list(refused.values()))
        try:
            conversion = convert(alive)
        except NotConvertible as error:
            culprit = _containing(alive, error.line)
            if culprit is None:  # the module itself (its TensorFlow import): nothing can be offered
                refused.update({function.name: RefusedFunction(function.name, error.line, error.reason)
                                for function in alive})
                return FunctionOffer(None, [], list(refused.values()))
            refused[culprit.name] = RefusedFunction(culprit.name, error.line, error.reason)
            continue
        carried, unknown = carried_definitions(facts, conversion, alive)
        if unknown is not None:
            function, site, name = unknown
            refused[function.name] = RefusedFunction(
                function.name, getattr(site, "lineno", function.lineno),
                f"reads `{name}`, a name of its module that cannot come with the model (only constants bound "
                "once to literal values, plain functions of TF2-same names and absl flags defined in the module do)")
            continue
        return FunctionOffer(conversion, carried, list(refused.values()))


def _containing(functions: list[ast.FunctionDef], line: int) -> Optional[ast.FunctionDef]:
    return next((function for function in functions
                 if function.lineno <= line <= (function.end_lineno or function.lineno)), None)


def _refuse_callers(functions: list[ast.FunctionDef], refused: dict[str, RefusedFunction]) -> None:
    """A function calling a function left out is left out too: its layers would be missing."""
    changed = True
    while changed:
        changed = False
        for function in functions:
            if function.name in refused:
                continue
            call = next(calls_of(function, refused), None)
            if call is not None:
                callee = call.func.id  # type: ignore[attr-defined]
                refused[function.name] = RefusedFunction(
                    function.name, call.lineno, f"calls `{callee}`, which is not converted "
                                                f"(line {refused[callee].line}: {refused[callee].reason})")
                changed = True


def _free_names(node: ast.AST, parameters: set[str]) -> dict[str, ast.Name]:
    """The names a function (or expression) reads that it does not bind itself."""
    local = set(parameters) | {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and
                               isinstance(n.ctx, ast.Store)}
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.Lambda)) and inner is not node:
            arguments = inner.args
            local |= {a.arg for a in arguments.args + arguments.kwonlyargs + arguments.posonlyargs}
            local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        if isinstance(inner, (ast.FunctionDef, ast.ClassDef)) and inner is not node:
            local.add(inner.name)
    found: dict[str, ast.Name] = {}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load) and inner.id not in local | _KNOWN:
            found.setdefault(inner.id, inner)
    return found


def _module_bindings(facts: ModuleFacts) -> dict[str, list[ast.stmt]]:
    """Every module-level statement binding each name (assignments, definitions, imports)."""
    bound: dict[str, list[ast.stmt]] = {}
    for statement in facts.tree.body:
        names: list[str] = []
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [statement.name]
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names = [alias.asname or alias.name.split(".")[0] for alias in statement.names]
        else:
            names = [n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        for name in names:
            bound.setdefault(name, []).append(statement)
    return bound


def _rebound_anywhere(facts: ModuleFacts, name: str) -> bool:
    """`global name`, or the name's value changed in place (`name[...] = `, `name.x = `)."""
    for node in ast.walk(facts.tree):
        if isinstance(node, ast.Global) and name in node.names:
            return True
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)) and \
                isinstance(node.value, ast.Name) and node.value.id == name:
            return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return True
    return False


_PURE_EXPRESSIONS = (ast.Constant, ast.Tuple, ast.List, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load,
                     ast.operator, ast.unaryop)


def carried_definitions(facts: ModuleFacts, conversion: "ModuleConversion", functions: list[ast.FunctionDef]
                        ) -> tuple[list[ast.stmt], Optional[tuple[ast.FunctionDef, ast.AST, str]]]:
    """The module-level statements the converted models need, in the module's order, or a
    name one of them reads that cannot come along (the function reading it, the site, the name).

    A name comes along when it is bound once at module level, never changed in place, and
    is a constant (`WIDTH = 64`, `SIZE = WIDTH // 2`: literals, arithmetic and other such
    constants) or a plain function (no decorator, builds no layer: not a model function)
    whose `tf.` names TF2 spells and computes as TF1 did (tfapi.TF2_SAME), reading only
    names that come along themselves."""
    tf_alias = conversion.tf
    defined = {conversion.base_name, conversion.exact_name, conversion.variable_class, conversion.layer_norm_class} | \
        {model.class_name for model in conversion.models}
    bindings = _module_bindings(facts)
    verdicts: dict[str, Optional[str]] = {}  # name -> None (comes along) or the name that stops it

    def needs(statement: ast.AST, parameters: set[str]) -> Optional[str]:
        for name in _free_names(statement, parameters):
            if name != tf_alias:
                stopped = comes_along(name)
                if stopped is not None:
                    return stopped
        return None

    def comes_along(name: str) -> Optional[str]:
        if name in verdicts:
            return verdicts[name]
        verdicts[name] = name  # while deciding (a cycle of definitions does not come along)
        statements = bindings.get(name, [])
        verdict: Optional[str] = name
        if len(statements) == 1 and not _rebound_anywhere(facts, name):
            statement = statements[0]
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                    isinstance(statement.targets[0], ast.Name) and \
                    all(isinstance(n, _PURE_EXPRESSIONS) for n in ast.walk(statement.value)):
                verdict = needs(statement.value, set())
            elif model_offer_flags.is_flags_import(statement):
                verdict = None  # absl's flags, for the flag definitions carried along
            elif model_offer_flags.is_flag_values(facts, statement):
                verdict = needs(statement.value, set())  # the definitions are checked once all is known
            elif isinstance(statement, ast.FunctionDef) and _plain_function(facts, statement):
                arguments = statement.args
                parameters = {a.arg for a in arguments.args + arguments.kwonlyargs + arguments.posonlyargs}
                parameters |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
                verdict = needs(statement, parameters | {statement.name})
        verdicts[name] = verdict
        return verdict

    for model in conversion.models:
        for name in _free_names(ast.parse(model.text), set()):
            if name == tf_alias or name in defined:
                continue
            stopped = comes_along(name)
            if stopped is not None:  # the function (the model or a helper it calls) that reads it
                reader = next((function for function in functions if any(
                    isinstance(n, ast.Name) and n.id == name for n in ast.walk(function))), model.function)
                site = next((n for n in ast.walk(reader) if isinstance(n, ast.Name) and n.id == name), reader)
                return [], (reader, site, stopped)
    wanted = {name for name, verdict in verdicts.items() if verdict is None}
    carried = [statement for statement in facts.tree.body
               if any(statement in bindings.get(name, []) for name in wanted)]
    for name in sorted(wanted):  # absl's flags: the definitions of those the models read
        if model_offer_flags.is_flag_values(facts, bindings[name][0]):
            readers = functions + [statement for statement in carried if isinstance(statement, ast.FunctionDef)]
            defined = model_offer_flags.carried_flags(facts, name, readers)
            if defined is None:
                reader = next(function for function in readers if any(
                    isinstance(n, ast.Name) and n.id == name for n in ast.walk(function)))
                site = next(n for n in ast.walk(reader) if isinstance(n, ast.Name) and n.id == name)
                return [], (reader, site, name)  # type: ignore[return-value]
            carried = [statement for statement in facts.tree.body if statement in carried or statement in defined]
    return carried, None


def _plain_function(facts: ModuleFacts, function: ast.FunctionDef) -> bool:
    """A function that builds nothing and whose TensorFlow names mean the same in TF2."""
    if function.decorator_list or any(isinstance(n, (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom))
                                      for n in ast.walk(function)):
        return False
    inner = {id(n.value) for n in ast.walk(function) if isinstance(n, ast.Attribute)}
    scopes = model_offer_scopes.scope_functions(facts, function)  # carried as `tf.name_scope`
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and id(node) not in inner and id(node) not in scopes:
            name = resolve(node, facts.imports) or ""
            if name.startswith("tensorflow") and name[len("tensorflow."):] not in tfapi.TF2_SAME:
                return False
        if isinstance(node, ast.Call):
            name = resolve(node.func, facts.imports) or ""
            short = name[len("tensorflow."):]
            if name.startswith("tensorflow.") and (
                    any(k.arg in tfapi.TF1_ONLY_KEYWORDS for k in node.keywords) or
                    (short in tfapi.TF2_SAME_POSITIONAL and len(node.args) > tfapi.TF2_SAME_POSITIONAL[short])):
                return False  # TF2 reads these arguments otherwise
    return True


def carried_source(facts: ModuleFacts, carried: list[ast.stmt]) -> str:
    """The carried definitions as the module wrote them (constants together, two blank lines
    after a function and after the last), line endings as the offered module's."""
    pieces = []
    for index, statement in enumerate(carried):
        text = (facts.segment(statement) or ast.unparse(statement))
        text = model_offer_scopes.as_name_scopes(facts, statement, text).replace("\r\n", "\n")
        last = index == len(carried) - 1
        apart = last or isinstance(statement, ast.FunctionDef) or isinstance(carried[index + 1], ast.FunctionDef)
        pieces.append(text + ("\n\n\n" if apart else "\n"))
    return "".join(pieces)
