"""Structure queries over one module's facts: is this node built inside a control-flow frame?

A function handed to `tf.map_fn`, `tf.while_loop`, `tf.scan`, `tf.cond`, `tf.case` or
`tf.switch_case` (a lambda, a `def` named by its argument, a method, a
`functools.partial` of one, or a list or dict of them for `tf.case`) runs in a frame of
its own, and so does everything it calls. Ops built there live in that frame: a train
op outside it cannot depend on them (a loop's ops fail at run time with "inputs from
different frames"; a branch's exist only when the branch is taken). Rules ask this
module, never the syntax tree, whether a batch norm sits in such a frame
(design.md section 7: structure queries live in the model).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from .. import tfapi
from ..binding import argument

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, LocalCall, ModuleFacts, Scope

_PARTIAL = "functools.partial"


@dataclass(frozen=True)
class Frame:
    """The control-flow call whose function argument builds a node."""

    kind: str  # "loop" | "cond"
    api: str  # how messages name it: "tf.map_fn"
    line: int  # the control-flow call's line


@dataclass
class _Frames:
    scopes: dict[int, Frame]  # id(function Scope) -> the frame it runs in
    nodes: dict[int, Frame]  # id(node) inside a lambda body -> its frame


def frame_of(facts: "ModuleFacts", node: ast.AST, scope: "Scope") -> Optional[Frame]:
    """The frame `node` (found in `scope`) is built in, or None when it is built outside
    every loop and branch frame the module shows."""
    frames = _frames(facts)
    return frames.nodes.get(id(node)) or frames.scopes.get(id(scope))


def site_frame(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[Frame]:
    """The frame a batch-norm site runs in (for a layer object: where it is applied)."""
    return frame_of(facts, site.node, site.scope)


def framed_update_sites(facts: "ModuleFacts") -> list[tuple["BatchNormSite", Frame]]:
    """Batch norm that puts update ops into UPDATE_OPS from inside a frame: while the
    module has any, no train op outside can safely depend on the whole collection."""
    found = []
    for site in facts.batch_norm_sites:
        if site.feeds_update_ops:
            frame = site_frame(facts, site)
            if frame is not None:
                found.append((site, frame))
    return found


def frame_reason(site: "BatchNormSite", frame: Frame) -> str:
    """Why no wrap of a train op in its update ops is safe, for a finding's message."""
    where = f"the batch norm at line {site.node.lineno} is built inside a `{frame.api}` body (line {frame.line})"
    if frame.kind == "loop":
        return (f"{where}, so its update ops live in the loop's frame: a train op that depends on "
                "them fails at run time (\"inputs from different frames\")")
    return (f"{where}, so its update ops exist only when that branch runs: a train op that depends "
            "on them does not run when the other branch is taken")


# --- building the frames, once per module ----------------------------------------------

def _frames(facts: "ModuleFacts") -> _Frames:
    cached = facts.model_cache.get("frames")
    if cached is None:
        cached = facts.model_cache["frames"] = _build(facts)
    return cached


def _build(facts: "ModuleFacts") -> _Frames:
    frames = _Frames({}, {})
    for call, scope in facts.calls:
        name = facts.qualname(call.func, scope) or ""
        entry = tfapi.FRAME_FUNCTIONS.get(name)
        if entry is None:
            continue
        kind, bodies = entry
        frame = Frame(kind, name.replace("tensorflow.", "tf.", 1), call.lineno)
        for position, keyword in bodies:
            body = argument(call, keyword, position)
            if body is not None:
                _mark(facts, frames, body, scope, call, frame)
    # Whatever a framed function or lambda calls runs in the same frame.
    changed = True
    while changed:
        changed = False
        for local in facts.local_calls:
            frame = frames.nodes.get(id(local.node)) or frames.scopes.get(id(local.scope))
            if frame is None:
                continue
            for target in _callees(facts, local):
                if id(target) not in frames.scopes:
                    frames.scopes[id(target)] = frame
                    changed = True
    return frames


def _mark(facts: "ModuleFacts", frames: _Frames, body: ast.expr, scope: "Scope", call: ast.Call,
          frame: Frame, depth: int = 0) -> None:
    """Record the functions one function argument of a control-flow call names."""
    if depth > 3:
        return
    if isinstance(body, ast.Lambda):
        for node in ast.walk(body.body):
            frames.nodes.setdefault(id(node), frame)
    elif isinstance(body, (ast.List, ast.Tuple, ast.Set)):  # tf.case's (pred, fn) pairs
        for element in body.elts:
            _mark(facts, frames, element, scope, call, frame, depth + 1)
    elif isinstance(body, ast.Dict):
        for value in body.values:
            _mark(facts, frames, value, scope, call, frame, depth + 1)
    elif isinstance(body, ast.Call) and facts.qualname(body.func, scope) == _PARTIAL and body.args:
        _mark(facts, frames, body.args[0], scope, call, frame, depth + 1)
    elif isinstance(body, (ast.Name, ast.Attribute)):
        for target in _named_functions(facts, body, scope, call):
            frames.scopes.setdefault(id(target), frame)


def _named_functions(facts: "ModuleFacts", node: ast.expr, scope: "Scope", call: ast.Call) -> list["Scope"]:
    from ..facts import LocalCall

    if isinstance(node, ast.Name):
        local = LocalCall(node.id, False, call, scope, call, ())  # type: ignore[arg-type]
    elif isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):  # type: ignore[union-attr]
        local = LocalCall(node.attr, True, call, scope, call, ())  # type: ignore[union-attr, arg-type]
    else:
        return []
    return list(_callees(facts, local))


def _callees(facts: "ModuleFacts", local: "LocalCall", depth: int = 0) -> Iterator["Scope"]:
    """The module's functions a local call may run: the def it names, or, for
    `self.forward(...)` where `__init__` set `self.forward = self.forward_conv`, the
    methods that attribute is bound to."""
    target = facts.called_function(local)
    if target is not None:
        yield target
        return
    if not local.via_self or depth > 2:
        return
    cls = facts.class_of(local.scope)
    if cls is None:
        return
    for _, value in cls.attributes.get(local.name, []):
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and \
                value.value.id in ("self", "cls"):
            method = cls.functions.get(value.attr)
            if method is not None:
                yield method


def scope_within(scope: Optional["Scope"], outer: "Scope") -> bool:
    """Whether `scope` is `outer` or nested in it (a def or class inside it)."""
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False
