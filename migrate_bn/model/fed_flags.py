"""Training flags fed `True` by a run that evaluates: the batch norm's flag is a bool
placeholder, as it should be, but what a validation or test run feeds it is always True
(issue 14, idioms 3 and 4: flags carried by values).

Two shapes from real code:

- `sess.run(accuracy, {x: x_val, is_training: True})`: the literal, in the module that
  builds the batch norm on the placeholder `is_training`, in a run that shows it
  evaluates (held-out data fed, or a fetch or result named for it: the same `True` fed
  with the training data after training is a deliberate training-mode run);
- a test script that builds the project's model object with `is_training=True` (here
  through a factory function, `r = select_net(..., is_training=True)`) and feeds
  `{r.bn_is_training: r.is_training}`, where the model class stores the constructor's
  `is_training` on `self` and builds its batch norm on the bool placeholder
  `self.bn_is_training`. The training script feeds the same pair but sets
  `r.is_training = False` before it validates: an attribute the module assigns is not
  a known value, and stays silent.

A fed key is the batch norm's flag when it is the placeholder a batch-norm site of the
module reads, or an attribute that every class the call can build (following a factory's
returns, several modules deep) assigns a bool placeholder and hands to its batch norm (as
the flag, or through a method's parameter). A fed value is True when it is the literal,
or an attribute of the same object that its `__init__` (or a base class's, called as
`Base.__init__(self, ...)` / `super().__init__(...)`) assigns once, from a literal or a
parameter bound to one by the calls that built the object. Anything else is unknown,
and silent; so is a GAN (its samplers draw with batch statistics by design).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from ..binding import bind, def_signature
from .attributes import self_attribute
from .program import Program, ProgramModule, class_named, gan_style, program_of

if TYPE_CHECKING:
    from ..facts import ModuleFacts, Scope, SessionRun

_MAX_DEPTH = 4
_INIT = "__init__"


class _Unknown:
    """A value the model cannot establish."""


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class FedTrue:
    """A run that evaluates and feeds its batch norm's flag placeholder a value always True."""

    run: "SessionRun"
    key: ast.expr  # the placeholder fed
    value: ast.expr  # what it is fed
    how: str  # why that value is True, for the message


@dataclass(frozen=True)
class _Built:
    """A class the call builds, with its constructor's parameters as constants."""

    module: ProgramModule
    cls: "Scope"
    env: dict


def fed_true_flags(facts: "ModuleFacts") -> list[FedTrue]:
    """The module's runs that evaluate while feeding a batch norm's flag `True`."""
    if not facts.session_runs or gan_style(facts):
        return []  # a GAN samples with batch statistics by design
    found = []
    for run in facts.session_runs:
        feed = run.feed
        if not isinstance(feed, ast.Dict) or run.fetches is None or facts.runs_train_op(run):
            continue
        for key, value in zip(feed.keys, feed.values):
            if isinstance(key, ast.Name):
                hit = _local_flag(facts, run, key, value)
            elif isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name) and key.value.id != "self":
                hit = _object_flag(facts, run, key, value)
            else:
                hit = None
            if hit is not None:
                found.append(hit)
    return found


def _local_flag(facts: "ModuleFacts", run: "SessionRun", key: ast.Name, value: ast.expr) -> Optional[FedTrue]:
    """`{is_training: True}` where `is_training` is the bool placeholder a batch norm of
    this module reads, in a run that evaluates that batch norm."""
    from ..flags import bool_placeholder_kind
    from .runs import evaluation_runs

    if not _is_true(value):
        return None
    binding = facts.lookup(key.id, run.scope)
    if not isinstance(binding, ast.Call) or bool_placeholder_kind(facts, binding, run.scope) is None:
        return None
    if not _on_held_out_data(facts, run):
        return None  # `True` fed on the training data: a deliberate training-mode run
    for site in facts.batch_norm_sites:
        if isinstance(site.flag, ast.Name) and facts.lookup(site.flag.id, site.scope) is binding and \
                any(other is run for other in evaluation_runs(facts, site)):
            return FedTrue(run, key, value, "the literal `True`")
    return None


def _on_held_out_data(facts: "ModuleFacts", run: "SessionRun") -> bool:
    """Does the run show it evaluates: held-out data fed (`x_val`, a name bound to a
    validation batch), or fetched or kept under such a name (`val_acc = sess.run(...)`)?"""
    from .runs import bound_to_held_out, feed_values, held_out

    if any(held_out(value) or bound_to_held_out(facts, value, run) for value in feed_values(run)):
        return True
    targets = run.stmt.targets if isinstance(run.stmt, ast.Assign) else []
    return held_out(run.fetches) or any(held_out(target) for target in targets)


def _object_flag(facts: "ModuleFacts", run: "SessionRun", key: ast.Attribute,
                 value: ast.expr) -> Optional[FedTrue]:
    """`{model.flag: model.is_training}` where `model` was built by a project call whose
    classes build batch norm on the placeholder `self.flag`, and `model.is_training` is
    always True."""
    from .flag_calls import evaluating_runs

    obj = key.value.id  # type: ignore[attr-defined]
    if not (_is_true(value) or (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)
                                and value.value.id == obj)):
        return None
    call = facts.lookup(obj, run.scope)
    if not isinstance(call, ast.Call):
        return None
    found = program_of(facts)
    if found is None:
        return None
    program, path = found
    module = ProgramModule.of(path, facts)
    built = _built(program, module, call, run.scope, {}, 0)
    if not built or not all(_flag_attribute(program, one, key.attr) for one in built):
        return None
    if _is_true(value):
        how = "the literal `True`"
    else:
        attribute = value.attr  # type: ignore[attr-defined]
        if _assigned_in(facts, attribute):
            return None  # the module changes it (`r.is_training = False` before validating)
        values = {_attribute_value(program, one, attribute, 0) for one in built}
        if values != {True}:
            return None
        how = f"`{obj}.{attribute}`, which the call at line {call.lineno} makes `True`"
    if not any(other is run for other in evaluating_runs(facts, call, run.scope)):
        return None
    for one in built:
        facts.resolver.dependencies.add(one.module.path)  # their change invalidates this result
    return FedTrue(run, key, value, how)


def _is_true(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _assigned_in(facts: "ModuleFacts", attribute: str) -> bool:
    """Does the module assign `<anything>.<attribute>`?"""
    return any(isinstance(target, ast.Attribute) and target.attr == attribute
               for node in ast.walk(facts.tree) if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
               for top in (node.targets if isinstance(node, ast.Assign) else [node.target])
               for target in ast.walk(top))


# --- what a call builds ---------------------------------------------------------------

def _constant(node: Optional[ast.expr], env: dict) -> object:
    """A literal, or a parameter bound to one; UNKNOWN otherwise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    return UNKNOWN


def _bind(call: ast.Call, function: "Scope", env: dict, bound_method: bool) -> Optional[dict]:
    """The function's parameters as the call sets them (constants, or UNKNOWN)."""
    bound = bind(call, def_signature(function.node, bound_method=bound_method))  # type: ignore[arg-type]
    if bound is None:
        return None
    values = {name: _constant(node, env) for name, node in bound.arguments.items()}
    for name, node in bound.defaults.items():
        values[name] = _constant(node, {}) if bound.complete else UNKNOWN
    return values


def _built(program: Program, module: ProgramModule, call: ast.Call, scope: "Scope", env: dict,
           depth: int) -> Optional[list[_Built]]:
    """The project classes a call returns an object of, each with its constructor's
    arguments; None when some return cannot be told."""
    if depth > _MAX_DEPTH:
        return None
    targets = list(program.callees(module, call, scope))
    if len(targets) != 1:
        return None
    target = program.module(targets[0][0])
    if target is None:
        return None
    name = targets[0][1]
    cls = class_named(target.facts, name)
    if cls is not None:
        init = _init_of(program, target, cls, depth)
        if init is None:
            return None
        values = _bind(call, init[1], env, bound_method=True)
        return None if values is None else [_Built(target, cls, values)]
    function = target.facts.module.functions.get(name)
    if function is None:
        return None
    values = _bind(call, function, env, bound_method=False)
    if values is None:
        return None
    returned = _returns(function)
    if not returned:
        return None
    result: list[_Built] = []
    for node in returned:
        if isinstance(node, ast.Name):
            bindings = function.assignments.get(node.id) or []
            calls = [value for _, value in bindings]
        else:
            calls = [node]
        if not calls or not all(isinstance(inner, ast.Call) for inner in calls):
            return None
        for inner in calls:
            more = _built(program, target, inner, function, values, depth + 1)  # type: ignore[arg-type]
            if more is None:
                return None
            result.extend(more)
    return result


def _returns(function: "Scope") -> list[ast.expr]:
    """The expressions a function returns (its nested functions and classes excluded);
    empty when one returns nothing."""
    found: list[ast.expr] = []
    pending = list(ast.iter_child_nodes(function.node))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return):
            if node.value is None:
                return []
            found.append(node.value)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _base(program: Program, module: ProgramModule, cls: "Scope", node: ast.expr,
          depth: int) -> Optional[tuple[ProgramModule, "Scope"]]:
    """The project class a base-class expression names."""
    if depth > _MAX_DEPTH:
        return None
    probe = ast.Call(func=node, args=[], keywords=[])
    targets = list(program.callees(module, probe, cls.parent or module.facts.module))
    if len(targets) != 1:
        return None
    target = program.module(targets[0][0])
    found = class_named(target.facts, targets[0][1]) if target is not None else None
    return (target, found) if target is not None and found is not None else None


def _bases(program: Program, module: ProgramModule, cls: "Scope",
           depth: int) -> Optional[list[tuple[ProgramModule, "Scope"]]]:
    """The class's project bases; None when one is neither `object` nor a project class."""
    found = []
    for node in cls.node.bases:  # type: ignore[attr-defined]
        if isinstance(node, ast.Name) and node.id == "object":
            continue
        base = _base(program, module, cls, node, depth + 1)
        if base is None:
            return None
        found.append(base)
    return found


def _hierarchy(program: Program, module: ProgramModule, cls: "Scope",
               depth: int = 0) -> Optional[list[tuple[ProgramModule, "Scope"]]]:
    """The class and all its bases, when every base is known."""
    if depth > _MAX_DEPTH:
        return None
    bases = _bases(program, module, cls, depth)
    if bases is None:
        return None
    result = [(module, cls)]
    for base_module, base in bases:
        more = _hierarchy(program, base_module, base, depth + 1)
        if more is None:
            return None
        result.extend(more)
    return result


def _init_of(program: Program, module: ProgramModule, cls: "Scope",
             depth: int) -> Optional[tuple[ProgramModule, "Scope"]]:
    """The `__init__` a construction of the class runs: its own, or its one base's."""
    if depth > _MAX_DEPTH:
        return None
    init = cls.functions.get(_INIT)
    if init is not None:
        return module, init
    bases = _bases(program, module, cls, depth)
    if bases is None or len(bases) != 1:
        return None
    return _init_of(program, bases[0][0], bases[0][1], depth + 1)


# --- attributes of what it built ------------------------------------------------------

def _attribute_value(program: Program, built: _Built, attribute: str, depth: int) -> object:
    """The constant `obj.<attribute>` holds after construction: assigned once in the
    class hierarchy, at the top level of an `__init__` the construction runs."""
    hierarchy = _hierarchy(program, built.module, built.cls)
    if hierarchy is None:
        return UNKNOWN
    if sum(len(cls.attributes.get(attribute, ())) for _, cls in hierarchy) != 1:
        return UNKNOWN
    return _set_by_init(program, built.module, built.cls, built.env, attribute, depth)


def _set_by_init(program: Program, module: ProgramModule, cls: "Scope", env: dict, attribute: str,
                 depth: int) -> object:
    if depth > _MAX_DEPTH:
        return UNKNOWN
    init = cls.functions.get(_INIT)
    if init is None:
        bases = _bases(program, module, cls, depth)
        if not bases or len(bases) != 1:
            return UNKNOWN
        return _set_by_init(program, bases[0][0], bases[0][1], env, attribute, depth + 1)
    for statement in init.node.body:  # type: ignore[attr-defined]
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                self_attribute(statement.targets[0]) == attribute:
            return _constant(statement.value, env)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            base = _base_init_call(program, module, cls, statement.value, depth)
            if base is None:
                continue
            base_module, base_cls, bound_method = base
            base_init = base_cls.functions.get(_INIT)
            if base_init is None:
                continue
            values = _bind(statement.value, base_init, env, bound_method)
            if values is None:
                return UNKNOWN
            value = _set_by_init(program, base_module, base_cls, values, attribute, depth + 1)
            if value is not UNKNOWN:
                return value
    return UNKNOWN


def _base_init_call(program: Program, module: ProgramModule, cls: "Scope", call: ast.Call,
                    depth: int) -> Optional[tuple[ProgramModule, "Scope", bool]]:
    """`Base.__init__(self, ...)` or `super().__init__(...)` in `cls`'s `__init__`: the
    base, and whether the call binds `self` itself."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == _INIT):
        return None
    if isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) and func.value.func.id == "super":
        bases = _bases(program, module, cls, depth)
        return (*bases[0], True) if bases and len(bases) == 1 else None
    base = _base(program, module, cls, func.value, depth + 1)
    return (*base, False) if base is not None else None


def _flag_attribute(program: Program, built: _Built, attribute: str) -> bool:
    """Is `self.<attribute>` of the class a bool placeholder that its batch norm reads as
    its flag (directly, or through a method's parameter)?"""
    from ..flags import bool_placeholder_kind

    hierarchy = _hierarchy(program, built.module, built.cls)
    if hierarchy is None:
        return False
    assigned = [(module, cls, value) for module, cls in hierarchy for _, value in cls.attributes.get(attribute, ())]
    if len(assigned) != 1:
        return False
    module, cls, value = assigned[0]
    if bool_placeholder_kind(module.facts, value, cls) is None:
        return False
    return any(_reads_flag(module.facts, attribute) for module, _ in hierarchy)


def _reads_flag(facts: "ModuleFacts", attribute: str) -> bool:
    """Does a batch norm of the module take `self.<attribute>` as its flag, or a
    parameter that a call of its method passes `self.<attribute>`?"""
    for site in facts.batch_norm_sites:
        if self_attribute(site.flag) == attribute:
            return True
        if isinstance(site.flag, ast.Name) and site.flag.id in site.scope.param_defaults:
            for call in facts.callers(site.scope):
                if self_attribute(facts.argument_for(call, site.scope, site.flag.id)) == attribute:
                    return True
    return False
