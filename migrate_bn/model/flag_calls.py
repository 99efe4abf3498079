"""Training flags carried by calls between modules: a script that calls the project's
model function or builds its model object with the flag fixed to True (passed, or left
at the parameter's default), and then evaluates what it built.

Two shapes from real code (issue 14, idioms 3 and 4):

- `y = cnn_model.CNN(x)` where `def CNN(inputs, is_training=True)` hands
  `is_training` to its batch norm: the script creates and feeds an `is_training`
  placeholder it never passes, so validation runs in training mode;
- `model = Model(mode='train')` where `__init__` stores `self.mode = mode` before it
  builds the graph and the batch norm gets `is_training=(self.mode == 'train')`: the
  same object's accuracy is then run on validation batches.

The query follows the flag from the call (argument binding, `binding.py`) to the
callee's batch norm: a parameter used as the flag of a batch norm in the function (or
handed to a helper of its module that uses it so), or, for a class, a parameter of
`__init__` stored on `self` before the build call (`attributes.py`) and read as the
flag or compared with a string. Anything else is unknown, and silent.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from ..binding import bind, def_signature
from .attributes import build_time_assignment, self_attribute
from .program import Program, ProgramModule, class_named, program_of, top_level_name
from .structure import scope_within

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope, SessionRun

# A run that evaluates: its statement names validation or test data (`val_acc = sess.run(...)`,
# `feed_dict=eval_dict`); a run that only logs a training batch's accuracy is no evaluation.
_EVALUATION_WORDS = re.compile(r"val|eval|test", re.IGNORECASE)
_MAX_DEPTH = 3

# How a parameter's value becomes the flag: the value itself, or `value == 'train'`.
Transform = Callable[[object], Optional[bool]]


@dataclass(frozen=True)
class ConstantCall:
    """A call that builds the project's batch norm with its flag fixed to True."""

    node: ast.Call
    callee: str  # how messages name it: "CNN()" (cnn_model.py:10)
    parameter: str
    value: str  # the literal that makes the flag True, as written: "True", "'train'"
    passed: bool  # the call passes the literal (else: leaves the parameter's default)
    evaluations: tuple["SessionRun", ...]


def constant_flag_calls(facts: "ModuleFacts") -> list[ConstantCall]:
    """Calls in this module of project functions or classes whose batch norm is then
    always in training mode, followed by runs that evaluate what the call built."""
    if not facts.session_runs:
        return []  # nothing here evaluates: no need to look into other modules
    if not any(_evaluating(facts, run) for run in facts.session_runs):
        return []  # no run here evaluates: `evaluating_runs` finds none for any call
    found = program_of(facts)
    if found is None:
        return []
    program, path = found
    module = ProgramModule.of(path, facts)
    calls = []
    values: dict[tuple, set] = {}
    for call, scope in facts.calls:
        for target in program.callees(module, call, scope):
            if target[0] == path:
                continue
            if program.may_build_batch_norm(target[0]):
                facts.resolver.dependencies.add(target[0])  # its change invalidates this result
            key = ("flag_parameter", target)
            if key not in program.answers:
                program.answers[key] = _flag_parameter(program, target)
            flag = program.answers[key]
            if flag is None:
                continue
            parameter, transform, signature, where = flag
            bound = bind(call, signature)
            if bound is None:
                continue
            passed = parameter in bound.arguments
            value_node = bound.arguments.get(parameter) if passed else \
                bound.defaults.get(parameter) if bound.complete else None
            value = transform(value_node.value) if isinstance(value_node, ast.Constant) else None
            values.setdefault(target, set()).add(value)
            if value is True:
                calls.append((call, scope, target, parameter, repr(value_node.value), passed, where))
    results = []
    for call, scope, target, parameter, literal, passed, where in calls:
        if values[target] != {True}:
            continue  # another call builds it with False (an evaluation tower) or unknown
        evaluations = evaluating_runs(facts, call, scope)
        if evaluations:
            results.append(ConstantCall(call, f"`{target[1]}()` ({where})", parameter, literal, passed,
                                        tuple(evaluations)))
    return results


def _flag_parameter(program: Program, target: tuple) -> Optional[tuple]:
    """The parameter of the project function or class `target` that becomes its batch
    norm's training flag, how, its call signature and where it is defined."""
    path, name = target
    if not program.may_build_batch_norm(path):
        return None
    module = program.module(path)
    if module is None:
        return None
    facts = module.facts
    where = f"{os.path.basename(path)}"
    function = facts.module.functions.get(name)
    if function is not None:
        parameter = _parameter_flag(facts, function, 0)
        if parameter is None:
            return None
        return parameter, _identity, def_signature(function.node), f"{where}:{function.node.lineno}"
    cls = class_named(facts, name)
    init = cls.functions.get("__init__") if cls is not None else None
    if init is None:
        return None
    for site in facts.batch_norm_sites:
        if top_level_name(site.scope) != name:
            continue
        attribute, transform = _attribute_flag(site.flag)
        if attribute is None:
            continue
        stored = build_time_assignment(facts, site, attribute)
        parameter = stored.id if isinstance(stored, ast.Name) and stored.id in init.param_defaults else None
        if parameter is not None:
            return parameter, transform, def_signature(init.node, bound_method=True), f"{where}:{init.node.lineno}"
    return None


def _identity(value: object) -> Optional[bool]:
    return value if isinstance(value, bool) else None


def _parameter_flag(facts: "ModuleFacts", function: "Scope", depth: int) -> Optional[str]:
    """The parameter of `function` that reaches a batch norm's flag in it (or in a
    function of the module it hands the parameter to)."""
    parameters = set(function.param_defaults)
    for site in facts.batch_norm_sites:
        if scope_within(site.scope, function) and isinstance(site.flag, ast.Name) and site.flag.id in parameters \
                and facts.lookup(site.flag.id, site.scope) is not None:
            return site.flag.id
    if depth >= _MAX_DEPTH:
        return None
    for call in facts.local_calls:
        if not scope_within(call.scope, function):
            continue
        callee = facts.called_function(call)
        if callee is None or callee is function:
            continue
        inner = _parameter_flag(facts, callee, depth + 1)
        if inner is None:
            continue
        passed = facts.argument_for(call, callee, inner)
        if isinstance(passed, ast.Name) and passed.id in parameters:
            return passed.id
    return None


def _attribute_flag(flag: Optional[ast.expr]) -> tuple[Optional[str], Transform]:
    """`self.is_training` -> ("is_training", identity); `self.mode == 'train'` ->
    ("mode", value == 'train')."""
    attribute = self_attribute(flag)
    if attribute is not None:
        return attribute, _identity
    if isinstance(flag, ast.Compare) and len(flag.ops) == 1 and isinstance(flag.ops[0], (ast.Eq, ast.NotEq)):
        left, right = flag.left, flag.comparators[0]
        if isinstance(right, ast.Attribute):
            left, right = right, left
        attribute = self_attribute(left)
        if attribute is not None and isinstance(right, ast.Constant) and isinstance(right.value, str):
            expected, equal = right.value, isinstance(flag.ops[0], ast.Eq)
            return attribute, lambda value: ((value == expected) == equal) if isinstance(value, str) else None
    return None, _identity


def evaluating_runs(facts: "ModuleFacts", call: ast.Call, scope: "Scope") -> list["SessionRun"]:
    """Runs of this module that compute what the call built without training it, on
    validation or test data."""
    from ..facts import assigned_names, mentions_names

    statement = next((s for s in facts.enclosing_statements.get(id(call), ())[-1:]), None)
    if not isinstance(statement, ast.Assign) or not any(node is call for node in ast.walk(statement.value)):
        return []  # what the call built is not kept: nothing can fetch it
    names = assigned_names(statement)
    for _ in range(2):
        for node in facts.assignment_nodes:
            if mentions_names(node.value, names):
                names |= assigned_names(node)
    return [run for run in facts.session_runs if _evaluating(facts, run) and mentions_names(run.fetches, names)]


def _evaluating(facts: "ModuleFacts", run: "SessionRun") -> bool:
    """Does the run compute something without training it, on validation or test data
    (its statement says so)? Asked of every run of a module before any other module is
    looked into: most modules with a `sess.run` only train, and resolving their calls
    into the project built the facts of the modules they call."""
    from ..facts import is_setup_fetch

    if run.fetches is None or not _EVALUATION_WORDS.search(facts.segment(run.stmt) or ""):
        return False  # the statement's words first: the cheapest test, and most runs fail it
    return not (facts.runs_train_op(run) or is_setup_fetch(run.fetches))
