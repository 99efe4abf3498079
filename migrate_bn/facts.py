"""One pass over a module that records the training-graph facts rules ask about.

The facts: batch-norm sites (what API, where its updates go, whether its training flag
lets it update), train ops (and the `control_dependencies` around them), reads of the
UPDATE_OPS collection, calls that make ops wait for others (`tf.group`, ...), and calls
between the module's own functions. Rules are queries over these facts.

The pass runs on Python's `ast`, not on LibCST: it is an order of magnitude faster to
build, has every position a message needs, and the analysis never rewrites. LibCST is
used only to rewrite the few files that get a fix (see `edits.py`).
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Union

from . import tfapi
from .binding import api_signature, argument, bind, def_signature
from .model.aliases import resolve_project_aliases
from .names import ImportTable, dotted, name_ids, resolve
from .visiting import NodeVisitor

# The marker `lookup` returns for a name bound by a parameter, loop or `with ... as`.
UNKNOWN = ast.Constant(value=Ellipsis)

COLLECTING_METHODS = frozenset({"append", "extend", "insert", "add", "update"})
_OPTIMIZER_NAME = re.compile(r"(^|_)(opt|optim|optimi[sz]er|solver)s?(_|$)|optimi[sz]er|optim_")
_UPDATES_NAME = re.compile(r"update", re.IGNORECASE)
# The line breaks Python itself counts (str.splitlines also breaks on \f, \x1c, ...).
# Optimizer.minimize(loss, global_step=None, var_list=None, ...)
_VAR_LIST_POSITION = 2
_LINE_BREAK = re.compile(r"\r\n?|\n")
_SESSION_NAME = re.compile(r"(^|_)(sess|session)(_|$)|sess$|session$", re.IGNORECASE)
# Names of fetched train ops when the module does not show where they come from.
_TRAIN_OP_NAME = re.compile(r"train|optim|minimi[sz]e|apply_grad", re.IGNORECASE)
# Fetches that set a session up rather than compute anything.
_SETUP_NAME = re.compile(r"init|restore|assign|reset|saver|summar|increment|global_step|learning_rate|^lr$"
                         r"|iterator|dataset", re.IGNORECASE)


@dataclass(eq=False)
class Scope:
    """A module, class or function body."""

    kind: str  # "module" | "class" | "function"
    name: str
    node: ast.AST
    parent: Optional["Scope"]
    assignments: dict[str, list[tuple[int, ast.expr]]] = field(default_factory=dict)
    param_defaults: dict[str, Optional[ast.expr]] = field(default_factory=dict)
    # For a class: what `self.<attr> = value` assigned, in any of its methods.
    attributes: dict[str, list[tuple[int, ast.expr]]] = field(default_factory=dict)
    # The defs directly inside; emptied when the module's facts are dropped
    # (`ModuleFacts.__del__`), so read it only while holding them.
    functions: dict[str, "Scope"] = field(default_factory=dict)

    @property
    def owner_class(self) -> Optional["Scope"]:
        """The class a method belongs to."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent
        return None


@dataclass(eq=False)
class BatchNormSite:
    node: ast.Call
    api: str  # how messages name it
    how: str  # "call" | "apply" | "class" | "normalizer_fn" | "net" | "net_arg_scope" | "collection_write" | "project"
    updates: str  # "collection" | "inplace" | "keras" | "custom" | "unknown" (a **splat)
    trains: Optional[bool]  # False: its flag is a literal False, so it never updates
    flag: Optional[ast.expr]
    scope: Scope
    stmt: ast.stmt
    constructor: Optional[ast.Call] = None  # for an applied layer object: where it was built
    spec: Optional[tfapi.BatchNormApi] = None  # the batch-norm API behind it (None for nets)
    producer: Optional[Any] = None  # project.Producer, for a call into another module

    @property
    def feeds_update_ops(self) -> bool:
        """Does running this site put update ops into tf.GraphKeys.UPDATE_OPS?"""
        return self.updates == "collection" and self.trains is not False


@dataclass(eq=False)
class TrainOp:
    node: ast.Call
    kind: str  # "minimize" | "apply_gradients" | "builder"
    scope: Scope
    stmt: ast.stmt
    deps: tuple[ast.expr, ...]  # control_dependencies arguments around it, innermost last
    wrappable: bool  # the call sits in a simple statement that a `with` can wrap


@dataclass(eq=False)
class UpdateOpsRead:
    node: ast.Call
    scope: Scope
    stmt: ast.stmt
    target: Optional[str]  # what `x = tf.get_collection(UPDATE_OPS)` binds: "x" or "self.x"
    live: bool = False  # get_collection_ref: the collection itself, not a copy


@dataclass(eq=False)
class DependencyUse:
    """A call that makes something wait for its arguments (tf.group, control_dependencies)."""

    node: ast.Call
    scope: Scope
    args: tuple[ast.expr, ...]
    deps: tuple[ast.expr, ...] = ()  # control_dependencies arguments around the call


@dataclass(eq=False)
class LocalCall:
    """A call of one of the module's own functions or methods."""

    name: str
    via_self: bool
    node: ast.Call
    scope: Scope
    stmt: ast.stmt
    deps: tuple[ast.expr, ...]


@dataclass(eq=False)
class SessionRun:
    """`sess.run(fetches, feed_dict)`: what a training or evaluation step runs."""

    node: ast.Call
    scope: Scope
    stmt: ast.stmt
    fetches: Optional[ast.expr]
    feed: Optional[ast.expr]  # the feed_dict, given by keyword or second argument


@dataclass(eq=False)
class ArgScope:
    ops: frozenset[str]
    kwargs: dict[str, ast.expr]
    statement: Optional[ast.stmt] = None  # the `with` that opens it
    opaque: bool = False  # its contents cannot be read: it may set any batch-norm argument


@dataclass(eq=False)
class ModuleFacts:
    tree: ast.Module
    text: str
    lines: list[str]
    imports: ImportTable
    module: Scope
    scopes: list[Scope] = field(default_factory=list)
    batch_norm_sites: list[BatchNormSite] = field(default_factory=list)
    train_ops: list[TrainOp] = field(default_factory=list)
    update_reads: list[UpdateOpsRead] = field(default_factory=list)
    dependency_uses: list[DependencyUse] = field(default_factory=list)
    local_calls: list[LocalCall] = field(default_factory=list)
    session_runs: list[SessionRun] = field(default_factory=list)
    # Every call in the module with the scope it runs in, in the order visited: rules
    # that look for one API (set_learning_phase, a step count) scan this, not the tree.
    calls: list[tuple[ast.Call, Scope]] = field(default_factory=list)
    # For every call: the statements around it, outermost first.
    enclosing_statements: dict[int, tuple[ast.stmt, ...]] = field(default_factory=dict)
    _line_starts: Optional[list[int]] = None
    # What statements that build train ops bind: "train_op", "self.train_op".
    train_op_names: set[str] = field(default_factory=set)
    scope_of_node: dict[int, Scope] = field(default_factory=dict)
    # (scope, name, line, statement) for every name read, in source order.
    name_loads: list[tuple[Scope, str, int, ast.stmt]] = field(default_factory=list)
    _producers: Optional[set[int]] = None
    _model_outputs: Optional[set[str]] = None
    assignment_nodes: list[Union[ast.Assign, ast.AugAssign]] = field(default_factory=list)
    assignment_scopes: dict[int, Scope] = field(default_factory=dict)  # id(ast.Assign) -> its scope
    _feeding: Optional[list[BatchNormSite]] = None
    # What the model (migrate_bn/model) computed over these facts, once per module.
    model_cache: dict[str, Any] = field(default_factory=dict)
    # Lines holding more than one statement (`a = 1; b = 2`).
    shared_lines: set[int] = field(default_factory=set)
    # Module-level functions by name, for `arg_scope(my_scope())`.
    function_defs: dict[str, ast.AST] = field(default_factory=dict)
    resolver: Optional[Any] = None  # project.Resolver: the project's own producers
    # How messages name a line of the module's view: a notebook says which cell it is in
    # (documents.View.line_name).
    line_name: Callable[[int], str] = field(default=lambda line: f"line {line}")

    def __del__(self) -> None:
        # A scope holds its parent and the parent its functions (`Scope.functions`): a
        # reference cycle per definition, through which the module scope keeps the whole
        # syntax tree alive until the garbage collector finds it (1.7 million objects of
        # a cold check on the bulk tree, docs/performance.md). Emptying `functions` when
        # the facts go lets reference counting free the scopes and the tree at once.
        # Scopes are read with their facts (every question gets both), so none reads
        # `functions` after this (checked on the bulk tree and the real-code trees).
        for scope in getattr(self, "scopes", ()):
            scope.functions.clear()

    # --- names -----------------------------------------------------------------

    def lookup(self, name: str, scope: Scope, before_line: Optional[int] = None) -> Optional[ast.expr]:
        """The expression `name` was last bound to, seen from `scope`; UNKNOWN for a
        parameter or loop variable, None when the module never binds it."""
        current: Optional[Scope] = scope
        while current is not None:
            if current.kind != "class" or current is scope:
                bindings = current.assignments.get(name)
                if bindings:
                    if before_line is not None and current is scope:
                        earlier = [value for line, value in bindings if line <= before_line]
                        if earlier:
                            return earlier[-1]
                    return bindings[-1][1]
                if name in current.param_defaults:
                    return UNKNOWN
            current = current.parent
        return None

    def lookup_attribute(self, node: ast.Attribute, scope: Scope) -> Optional[ast.expr]:
        """What `self.attr = value` assigned anywhere in the method's class."""
        if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            return None
        cls = _enclosing_class(scope)
        if cls is None:
            return None
        bindings = cls.attributes.get(node.attr)
        return bindings[-1][1] if bindings else None

    def qualname(self, node: ast.expr, scope: Scope) -> Optional[str]:
        def alias(name: str) -> Optional[ast.expr]:
            value = self.lookup(name, scope)
            if value is UNKNOWN:
                return param_default(scope, name)
            return value

        return resolve(node, self.imports, alias)

    # --- what expressions mean ---------------------------------------------------

    def is_update_ops_key(self, node: ast.expr, scope: Scope, depth: int = 0) -> bool:
        """Does `node` name the UPDATE_OPS collection?"""
        if depth > 4:
            return False
        if isinstance(node, ast.Attribute):
            return node.attr == tfapi.UPDATE_OPS_KEY
        if isinstance(node, ast.Constant):
            return node.value == tfapi.UPDATE_OPS_STRING
        if isinstance(node, ast.Name):
            if node.id == tfapi.UPDATE_OPS_KEY:
                return True
            value = self.lookup(node.id, scope)
            return value is not None and value is not UNKNOWN and self.is_update_ops_key(value, scope, depth + 1)
        return False

    def read_of_update_ops(self, call: ast.Call, scope: Scope) -> bool:
        """Is `call` a `get_collection(UPDATE_OPS)`?"""
        func = call.func
        if not isinstance(func, ast.Attribute):
            if not isinstance(func, ast.Name):
                return False
        return self._reads_update_ops(call, scope, self.qualname(func, scope))

    def _reads_update_ops(self, call: ast.Call, scope: Scope, name: Optional[str]) -> bool:
        """`read_of_update_ops` for a call whose function's qualified name is known."""
        func = call.func
        is_reader = name in tfapi.COLLECTION_READERS or (
            isinstance(func, ast.Attribute) and func.attr in tfapi.COLLECTION_READER_METHODS
        )
        if not is_reader:
            return False
        key = argument(call, "key", 0)
        return key is not None and self.is_update_ops_key(key, scope)

    def holds_update_ops(self, node: ast.expr, scope: Scope, line: Optional[int] = None, depth: int = 0,
                         reads: Optional[list] = None) -> bool:
        """Does evaluating `node` give (or contain) the batch-norm update ops?

        Follows names to what they were assigned, so `update_ops = tf.get_collection(...)`
        and `deps = update_ops + [x]` count; a parameter or attribute counts when its name
        says so (`update_ops`, `self.bn_updates`): a caller that passes such a list in has
        wired it on purpose, and guessing otherwise would be a false alarm. The reads it
        finds go into `reads` (None for one it could only tell by name).
        """
        if depth > 5:
            return False
        found = False
        for child in _walk_expression(node):
            if isinstance(child, ast.Call):
                if self.read_of_update_ops(child, scope):
                    found = True
                    if reads is not None:
                        reads.append(child)
                    continue
                func = child.func
                if isinstance(func, ast.Attribute) and func.attr in tfapi.KERAS_UPDATE_ATTRIBUTES:
                    found = True
                    if reads is not None:
                        reads.append(None)
            elif isinstance(child, ast.Attribute):
                if child.attr in tfapi.KERAS_UPDATE_ATTRIBUTES:
                    found = True
                    if reads is not None:
                        reads.append(None)
                    continue
                value = self.lookup_attribute(child, scope)
                if value is not None and self.holds_update_ops(value, scope, None, depth + 1, reads):
                    found = True
                elif isinstance(child.value, ast.Name) and child.value.id in ("self", "cls") and _UPDATES_NAME.search(child.attr):
                    found = True
                    if reads is not None:
                        reads.append(None)
            elif isinstance(child, ast.Name):
                value = self.lookup(child.id, scope, line)
                if value is UNKNOWN or value is None:
                    if _UPDATES_NAME.search(child.id):
                        found = True
                        if reads is not None:
                            reads.append(None)
                elif self.holds_update_ops(value, scope, None, depth + 1, reads):
                    found = True
            if found and reads is None:
                return True
        return found

    def is_optimizer(self, node: ast.expr, scope: Scope, depth: int = 0) -> bool:
        """Is `node` (the receiver of `.minimize`) an optimizer object?"""
        if depth > 4:
            return False
        if isinstance(node, ast.Call):
            name = self.qualname(node.func, scope) or dotted(node.func) or ""
            last = name.rsplit(".", 1)[-1]
            if last.endswith(tfapi.OPTIMIZER_SUFFIX):
                return True
            if name.rsplit(".", 1)[0] in tfapi.OPTIMIZER_MODULES:
                return True
            if name in tfapi.OPTIMIZER_WRAPPERS:
                return True
            return False
        if isinstance(node, ast.Name):
            if node.id in self.imports.names:
                return False  # a module or class, not an optimizer instance
            value = self.lookup(node.id, scope)
            if value is not None and value is not UNKNOWN:
                if self.is_optimizer(value, scope, depth + 1):
                    return True
            return bool(_OPTIMIZER_NAME.search(node.id.lower()))
        if isinstance(node, ast.Attribute):
            if self.qualname(node, scope) is not None:
                return False
            value = self.lookup_attribute(node, scope)
            if value is not None and self.is_optimizer(value, scope, depth + 1):
                return True
            return bool(_OPTIMIZER_NAME.search(node.attr.lower()))
        return False

    def is_session(self, node: ast.expr, scope: Scope) -> bool:
        """Is `node` (the receiver of `.run`) a tf.Session or a monitored session?"""
        if isinstance(node, ast.Call):
            name = self.qualname(node.func, scope) or dotted(node.func) or ""
            return name.endswith(tfapi.SESSION_SUFFIXES)
        if isinstance(node, ast.Name):
            if node.id in self.imports.names:
                return False
            value = self.lookup(node.id, scope)
            if isinstance(value, ast.Call) and self.is_session(value, scope):
                return True
            return bool(_SESSION_NAME.search(node.id))
        if isinstance(node, ast.Attribute):
            if self.qualname(node, scope) is not None:
                return False
            value = self.lookup_attribute(node, scope)
            if isinstance(value, ast.Call) and self.is_session(value, scope):
                return True
            return bool(_SESSION_NAME.search(node.attr))
        return False

    def runs_train_op(self, run: SessionRun) -> bool:
        """Does this `sess.run` run a train op (a training step, not an evaluation)?"""
        if run.fetches is None:
            return False
        for node in _walk_expression(run.fetches):
            if isinstance(node, ast.Name):
                if node.id in self.train_op_names or _looks_like_train_op(node.id):
                    return True
            elif isinstance(node, ast.Attribute):
                if isinstance(node.value, ast.Name) and node.value.id == "self" and \
                        f"self.{node.attr}" in self.train_op_names:
                    return True
                if _looks_like_train_op(node.attr):
                    return True
            elif isinstance(node, ast.Call) and any(op.node is node for op in self.train_ops):
                return True
        return False

    def evaluation_runs(self, site: Optional[BatchNormSite] = None) -> list[SessionRun]:
        """Runs that compute the model's outputs without training it: they fetch
        something computed from batch norm's output. With `site`: only runs in code that
        builds that site's graph (its function, the functions calling it, the methods of
        its model class), never in test methods, whose graphs are each their own."""
        outputs = self.model_outputs()
        runs = [run for run in self.session_runs
                if run.fetches is not None and not self.runs_train_op(run) and not is_setup_fetch(run.fetches)
                and mentions_names(run.fetches, outputs)]
        if site is None:
            return runs
        if _in_test(site.scope):
            return []
        related = self._graph_scopes(site.scope)
        cls = _enclosing_class(site.scope)
        return [run for run in runs if run.scope in related or
                (cls is not None and not _is_test_class(cls) and _enclosing_class(run.scope) is cls)]

    def called_only_from_outside(self, scope: Scope) -> bool:
        """Is this function reached only through functions that nothing in the module calls
        (a library of model functions, entered from other modules)? Then whatever their
        callers set up around the call (an arg_scope, say) is unknown here."""
        if scope.kind != "function":
            return False
        for caller in self._graph_scopes(scope):
            if caller.kind == "module" and caller is not scope:
                # Reached from module-level code (a script, `if __name__ == "__main__"`).
                if any(call.scope is caller for s in self._graph_scopes(scope) if s.kind == "function"
                       for call in self.callers(s)):
                    return False
        return True

    def in_test(self, scope: Scope) -> bool:
        """Code in a test function, test method or test class."""
        return _in_test(scope)

    def _graph_scopes(self, scope: Scope) -> list[Scope]:
        """A scope, the scopes around it, and every function that (transitively) calls it."""
        found: list[Scope] = list(_chain(scope))
        pending = [scope]
        while pending:
            current = pending.pop()
            for call in self.callers(current):
                for caller in _chain(call.scope):
                    if not any(caller is seen for seen in found):
                        found.append(caller)
                        pending.append(caller)
        return found

    def model_outputs(self) -> set[str]:
        """Names (and `self.` attributes) holding values computed from batch norm: bound by
        the statements that build it, then by every assignment that uses them."""
        if self._model_outputs is None:
            names: set[str] = set()
            builders = {id(site.scope) for site in self.batch_norm_sites}
            for site in self.batch_norm_sites:
                names |= assigned_names(site.stmt)
            builders = self.with_callers(builders)
            for call in self.local_calls:
                target = self.called_function(call)
                if target is not None and id(target) in builders:
                    names |= assigned_names(call.stmt)
            self._model_outputs = self.computed_from(names)
        return self._model_outputs

    def computed_from(self, names: set[str], rounds: int = 2) -> set[str]:
        """These names and every name (or `self.` attribute) an assignment binds to a value
        that uses them, or that `outputs.append(...)` collects them into; assignments out
        of source order (methods) settle in two rounds."""
        from .model.dataflow import propagate

        return propagate(self, names, rounds)

    def flag_value(self, node: Optional[ast.expr], scope: Scope, default: bool) -> Optional[bool]:
        """True/False when a training flag is a known constant, None when it varies."""
        if node is None:
            return default
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            value = self.lookup(node.id, scope)
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                bindings = all_bindings(scope, node.id)
                if all(isinstance(v, ast.Constant) and v.value == value.value for v in bindings):
                    return value.value
        return None

    def dict_entries(self, node: Optional[ast.expr], scope: Scope) -> Optional[dict[str, ast.expr]]:
        """The string-keyed entries of a dict literal or `dict(...)`, following a name."""
        if isinstance(node, ast.Name):
            value = self.lookup(node.id, scope)
            node = None if value is UNKNOWN else value
        if isinstance(node, ast.Dict):
            entries = {}
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    entries[key.value] = value
            return entries
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            return {kw.arg: kw.value for kw in node.keywords if kw.arg}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._returned_dict(node, node.func.id, scope)
        return None

    def _returned_dict(self, call: ast.Call, name: str, scope: Scope) -> Optional[dict[str, ast.expr]]:
        """`normalizer_params=bn_params(is_training)`: the module's own function whose one
        `return` is a dict literal gives its entries, a parameter replaced by the call's
        argument (or default) and any other name UNKNOWN (it is the function's, not the
        caller's)."""
        current: Optional[Scope] = scope
        while current is not None and not (current.kind != "class" and name in current.functions):
            current = current.parent
        if current is None:
            return None
        function = current.functions[name].node
        returns = [node for node in ast.walk(function) if isinstance(node, ast.Return)]
        if len(returns) != 1 or not isinstance(returns[0].value, ast.Dict):
            return None
        bindings = _call_bindings(function, call)
        entries: dict[str, ast.expr] = {}
        for key, value in zip(returns[0].value.keys, returns[0].value.values):
            if key is None:
                return None  # a `**splat` inside: entries it cannot see
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                if isinstance(value, ast.Constant):
                    entries[key.value] = value
                elif isinstance(value, ast.Name) and value.id in bindings:
                    entries[key.value] = bindings[value.id]
                else:
                    entries[key.value] = UNKNOWN
        return entries

    def call_argument(self, call: ast.Call, keyword: str, position: Optional[int], scope: Scope) -> Optional[ast.expr]:
        """An argument by keyword or position, looking into `**params` dicts it can see;
        UNKNOWN when a `**splat` it cannot see may hold it."""
        value = argument(call, keyword, position)
        if value is not None:
            return value
        for splat in (k.value for k in call.keywords if k.arg is None):
            entries = self.dict_entries(splat, scope)
            if entries is None:
                return UNKNOWN
            if keyword in entries:
                return entries[keyword]
        return None

    def updates_mode(self, node: Optional[ast.expr], scope: Scope) -> str:
        """Where `updates_collections=<node>` sends the updates."""
        if node is UNKNOWN:
            return "unknown"
        if node is None:
            return "collection"
        if isinstance(node, ast.Name):
            value = self.lookup(node.id, scope)
            if value is not None and value is not UNKNOWN:
                node = value
        if isinstance(node, ast.Constant) and node.value is None:
            return "inplace"
        for child in _walk_expression(node):
            if isinstance(child, (ast.Attribute, ast.Constant, ast.Name)) and self.is_update_ops_key(child, scope):
                return "collection"
        return "custom"

    # --- positions -------------------------------------------------------------

    def column(self, line: int, byte_offset: int) -> int:
        """ast counts UTF-8 bytes; people and editors count characters."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))

    def segment(self, node: ast.AST) -> str:
        """The exact source text of a node, line endings included. Unlike
        ast.get_source_segment it does not split the whole file on every call."""
        if getattr(node, "end_lineno", None) is None:
            return ""
        if self._line_starts is None:
            self._line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(self.text)]
        starts = self._line_starts
        start = starts[node.lineno - 1] + self.column(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = starts[node.end_lineno - 1] + self.column(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return self.text[start:end]

    def ancestors(self, node: ast.AST) -> Iterator[ast.stmt]:
        """The statements around a call or an assignment, innermost first (its own
        statement included)."""
        return reversed(self.enclosing_statements.get(id(node), ()))

    def source(self, node: ast.AST, limit: int = 60) -> str:
        text = self.segment(node)
        text = " ".join(text.replace("\\\n", " ").split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    # --- the module's own functions ----------------------------------------------

    # --- variable scopes ------------------------------------------------------------

    def read_scope(self, read: ast.Call) -> Optional[str]:
        """The scope a `get_collection(UPDATE_OPS, scope=...)` read is limited to: its
        name; "" when it cannot be told; None when the read is not limited."""
        node = argument(read, "scope", 1)
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return ""

    def built_under(self, item: Union[BatchNormSite, "LocalCall"], scopes: set[str]) -> bool:
        """Is this batch norm (a site, or a call of a function that builds it) built under
        one of these variable/name scopes? Unknown scopes ("") match nothing."""
        names = self.scope_names_of(item)
        return any(scope and name.startswith(scope) for name in names for scope in scopes)

    def scope_names_of(self, item: Union[BatchNormSite, "LocalCall"]) -> set[str]:
        """The variable/name scope names around a batch-norm site or producer call: the
        `with` blocks around it, its own `name=`/`scope=`, and its function's callers'."""
        names = self._scope_names_around(item.node, item.scope, item.stmt)
        if isinstance(item, LocalCall):
            target = self.called_function(item)
            if target is not None:
                names |= _scope_names(target.node)
        elif item.scope.kind == "function":
            names |= _scope_names(item.scope.node)
            for call in self.callers(item.scope):
                names |= self._scope_names_around(call.node, call.scope, call.stmt)
        return names

    def _scope_names_around(self, node: ast.AST, scope: Scope, statement: ast.stmt) -> set[str]:
        names = _scope_names(node)
        line = getattr(node, "lineno", 0)
        for candidate in ast.walk(scope.node):
            if isinstance(candidate, (ast.With, ast.AsyncWith)) and \
                    candidate.lineno <= line <= (candidate.end_lineno or candidate.lineno):
                for item in candidate.items:
                    names |= _scope_names(item.context_expr)
        return names

    def covered_scopes(self, op: TrainOp) -> Optional[set[str]]:
        """Which scopes' update ops a wired train op runs: None for all of them."""
        reads: list = []
        line = op.node.lineno
        for dep in op.deps:
            self.holds_update_ops(dep, op.scope, line, reads=reads)
        for use in self.dependency_uses:
            if use.scope is op.scope and not _is_control_dependencies(use.node):
                for arg in use.args:
                    self.holds_update_ops(arg, op.scope, use.node.lineno, reads=reads)
        scopes = set()
        for read in reads:
            scope = None if read is None else self.read_scope(read)
            if scope is None:
                return None
            scopes.add(scope)
        return scopes if reads else None

    def var_list_of(self, op: TrainOp) -> Optional[ast.expr]:
        """The `var_list` a train op trains (on `minimize`, or on the `compute_gradients`
        whose gradients `apply_gradients` applies); None when it trains every variable."""
        node = op.node
        var_list = argument(node, "var_list", _VAR_LIST_POSITION if op.kind == "minimize" else None)
        if var_list is None and op.kind == "apply_gradients" and node.args:
            gradients = self._follow(node.args[0], op.scope)
            for call in ast.walk(gradients) if gradients is not None else ():
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                        call.func.attr == "compute_gradients":
                    var_list = argument(call, "var_list", 1)
        return var_list

    def var_list_strings(self, op: TrainOp) -> set[str]:
        """The strings that pick a train op's variables (`trainable_variables('generator')`,
        `[v for v in t_vars if 'd_' in v.name]`), following names and compute_gradients."""
        var_list = self.var_list_of(op)
        if var_list is None:
            return set()
        strings: set[str] = set()
        self._strings(var_list, op.scope, strings, 0)
        return {string for string in strings if string.strip()}

    def _strings(self, node: ast.expr, scope: Scope, found: set[str], depth: int) -> None:
        if depth > 3:
            return
        for child in ast.walk(node):
            if isinstance(child, ast.Constant) and isinstance(child.value, str):
                found.add(child.value)
            elif isinstance(child, ast.Name):
                value = self._follow(child, scope)
                if value is not None and value is not child:
                    self._strings(value, scope, found, depth + 1)

    def _follow(self, node: ast.expr, scope: Scope) -> Optional[ast.expr]:
        if isinstance(node, ast.Name):
            value = self.lookup(node.id, scope)
            return None if value is None or value is UNKNOWN else value
        return node

    def class_of(self, scope: Scope) -> Optional[Scope]:
        return _enclosing_class(scope)

    def callers(self, scope: Scope) -> list[LocalCall]:
        """Calls, anywhere in the module, that may run the function `scope`."""
        if scope.kind != "function":
            return []
        owner = scope.owner_class
        found = []
        for call in self.local_calls:
            if call.name != scope.name:
                continue
            if owner is not None:
                if call.via_self and _enclosing_class(call.scope) is owner:
                    found.append(call)
            elif not call.via_self:
                found.append(call)
        return found

    def called_function(self, call: LocalCall) -> Optional[Scope]:
        """The module's own function or method a local call runs (a class: its `__init__`),
        if it can be told."""
        if call.via_self:
            cls = _enclosing_class(call.scope)
            return cls.functions.get(call.name) if cls is not None else None
        scope: Optional[Scope] = call.scope
        while scope is not None:
            if scope.kind != "class" and call.name in scope.functions:
                return scope.functions[call.name]
            scope = scope.parent
        from .model.program import constructor_of

        return constructor_of(self, call)  # `LocalNet(**kwargs)`: the class's __init__

    def update_feeding_sites(self) -> list[BatchNormSite]:
        """The batch-norm sites that put update ops into UPDATE_OPS when they run."""
        if self._feeding is None:
            from .model.structure import site_frame

            # A loop body's update ops live in its frame: nothing outside can run them.
            sites = [site for site in self.batch_norm_sites if site.feeds_update_ops and
                     getattr(site_frame(self, site), "kind", None) != "loop"]
            if any(site.how == "net" for site in self.batch_norm_sites):
                # A slim net's arg scope only sets up batch norm; the net call says whether
                # it trains (`is_training=False` on a frozen backbone adds no update ops).
                sites = [site for site in sites if site.how != "net_arg_scope"]
            # A flag that is a parameter every caller in the module sets to False.
            self._feeding = [site for site in sites if not self._flag_always_false(site)]
        return self._feeding

    def _flag_always_false(self, site: BatchNormSite) -> bool:
        return self.parameter_constant(site) is False

    def parameter_constant(self, site: BatchNormSite) -> Optional[bool]:
        """True/False when the site's flag is a parameter that every caller in the module
        sets to that constant (`model(x, is_training=True)`); None otherwise."""
        flag = site.flag
        if not (isinstance(flag, ast.Name) and site.scope.kind == "function" and flag.id in site.scope.param_defaults):
            return None
        for value in (True, False):
            if self._always(site.scope, flag.id, value, 0):
                return value
        return None

    def _always(self, function: Scope, param: str, constant: bool, depth: int) -> bool:
        calls = self.callers(function)
        if not calls or depth > 4:
            return False  # called from elsewhere, or too far to follow: it may vary
        for call in calls:
            value = self.argument_for(call, function, param)
            if isinstance(value, ast.Constant) and value.value is constant:
                continue
            if isinstance(value, ast.Name) and call.scope.kind == "function" and \
                    value.id in call.scope.param_defaults and self._always(call.scope, value.id, constant, depth + 1):
                continue
            if value is not None and not isinstance(value, ast.Name) and \
                    self.flag_value(value, call.scope, not constant) is constant:
                continue
            if isinstance(value, ast.Name) and value.id not in call.scope.param_defaults and \
                    self.flag_value(value, call.scope, not constant) is constant:
                continue
            return False
        return True

    def argument_for(self, call: "LocalCall", function: Scope, param: str) -> Optional[ast.expr]:
        """The expression a call passes for one of the function's parameters (its
        default when the call leaves it out); None when a `*args` / `**kwargs` of the call
        may pass it, or the call does not fit the function."""
        node = function.node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return argument(call.node, param) or function.param_defaults.get(param)
        bound = bind(call.node, def_signature(node, bound_method=call.via_self))
        if bound is None:
            return None
        if param in bound.arguments:
            return bound.arguments[param]
        return function.param_defaults.get(param) if bound.complete else None

    def call_feeds_update_ops(self, call: "LocalCall", bindings: Optional[dict] = None, depth: int = 0) -> bool:
        """Does this call of one of the module's functions build batch norm that adds
        update ops? `inference(x, is_training=False)` does not, though `inference` may."""
        target = self.called_function(call)
        if target is None or not self.is_producer(target):
            return False
        if depth > 4:
            return True
        arguments = {}
        for param in target.param_defaults:
            value = self.argument_for(call, target, param)
            if isinstance(value, ast.Name) and bindings and value.id in bindings:
                value = bindings[value.id]
            arguments[param] = value
        for site in self.update_feeding_sites():
            if site.scope is target:
                flag = site.flag
                if not (isinstance(flag, ast.Name) and flag.id in arguments and _is_false(arguments[flag.id])):
                    return True
        return any(self.call_feeds_update_ops(inner, arguments, depth + 1)
                   for inner in self.local_calls if inner.scope is target)

    def is_producer(self, scope: Scope) -> bool:
        """Does running this function build batch norm that feeds UPDATE_OPS?"""
        if self._producers is None:
            self._producers = self.with_callers({id(site.scope) for site in self.update_feeding_sites()})
        return id(scope) in self._producers

    def with_callers(self, scopes: set[int]) -> set[int]:
        """These scopes (by id) and every scope that calls one of them, transitively: a
        function calling one that builds batch norm builds it too."""
        found = set(scopes)
        changed = True
        while changed:
            changed = False
            for call in self.local_calls:
                target = self.called_function(call)
                if target is not None and id(target) in found and id(call.scope) not in found:
                    found.add(id(call.scope))
                    changed = True
        return found

    def quote_of(self, node: ast.Dict) -> str:
        """The quote a dict display's string keys use, for a key added to it."""
        for key in node.keys:
            text = self.segment(key) if key is not None else None
            if text and text[0] in "'\"":
                return text[0]
        return "'"

    def train_op_runs_update_ops(self, op: TrainOp) -> bool:
        """Is the train op wired to the update ops, here or where its builder is called?"""
        line = op.node.lineno
        if any(self.holds_update_ops(dep, op.scope, line) for dep in op.deps):
            return True
        if self._dependency_of_wired(op):
            return True
        return self._scope_wires_update_ops(op.scope, 0)

    def _dependency_of_wired(self, op: TrainOp) -> bool:
        """`with control_dependencies([opt_step] + update_ops)` or one nested inside a
        dependency on the update ops: whatever runs that runs both."""
        names = assigned_names(op.stmt)
        if not names:
            return False
        for use in self.dependency_uses:
            if use.scope is not op.scope or not comes_after(use.node, op.node):
                continue
            mentioned = any(
                (isinstance(node, ast.Name) and node.id in names) or
                (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and
                 node.value.id == "self" and f"self.{node.attr}" in names)
                for arg in use.args for node in ast.walk(arg))
            if not mentioned:
                continue
            line = use.node.lineno
            if any(self.holds_update_ops(expr, op.scope, line) for expr in (*use.args, *use.deps)):
                return True
        return False

    def _scope_wires_update_ops(self, scope: Scope, depth: int) -> bool:
        # tf.group(train_op, *update_ops) and friends anywhere in the same body; a
        # `with control_dependencies` counts only for what it lexically encloses.
        for use in self.dependency_uses:
            if use.scope is scope and not _is_control_dependencies(use.node):
                if any(self.holds_update_ops(arg, scope, use.node.lineno) for arg in use.args):
                    return True
        if depth >= 3:
            return False
        for call in self.callers(scope):
            if any(self.holds_update_ops(dep, call.scope, call.node.lineno) for dep in call.deps):
                return True
            if self._scope_wires_update_ops(call.scope, depth + 1):
                return True
        return False

    def alias_of(self, canonical_name: str) -> Optional[str]:
        """A local name the module imported `canonical_name` under (`slim`)."""
        for local, target in self.imports.names.items():
            if tfapi.canonical(target) == canonical_name:
                return local
        return None

    def tensorflow_alias(self) -> Optional[tuple[str, str]]:
        """The local name for TensorFlow's v1 API: a `tensorflow.compat.v1` import when
        the module has one (`tf` may then be TF2, which has no get_collection)."""
        aliases = self.imports.tensorflow_aliases
        for local, target in aliases:
            if target == "tensorflow.compat.v1":
                return local, target
        return aliases[0] if aliases else None


def comes_after(node: ast.AST, other: ast.AST) -> bool:
    return (node.lineno, node.col_offset) > (other.lineno, other.col_offset)  # type: ignore[attr-defined]


def mentions_names(node: ast.AST, names: set[str]) -> bool:
    """Does an expression use one of these names (or `self.` attributes)?"""
    for child in _walk_expression(node):
        if isinstance(child, ast.Name) and child.id in names:
            return True
        if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and \
                child.value.id == "self" and f"self.{child.attr}" in names:
            return True
    return False


def _is_test_class(scope: Scope) -> bool:
    node = scope.node
    return isinstance(node, ast.ClassDef) and (node.name.startswith("Test") or any(
        (base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")).endswith("TestCase")
        for base in node.bases))


def _in_test(scope: Scope) -> bool:
    """Code in a test: a test function or method, or a test class."""
    return any((s.kind == "function" and s.name.startswith("test")) or
               (s.kind == "class" and _is_test_class(s)) for s in _chain(scope))


def assigned_names(statement: ast.stmt) -> set[str]:
    """The names an assignment binds (`self.x` as "self.x"); none for other statements."""
    targets = statement.targets if isinstance(statement, ast.Assign) else \
        [statement.target] if isinstance(statement, (ast.AnnAssign, ast.AugAssign)) else []
    names = set()
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(f"self.{node.attr}")
    return names


_SCOPE_OPENERS = ("variable_scope", "name_scope")


def _scope_names(node: ast.AST) -> set[str]:
    """Scope names opened or passed in `node`: variable_scope('x'), name_scope('x'), scope='x'."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            opener = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if opener in _SCOPE_OPENERS and child.args and isinstance(child.args[0], ast.Constant):
                names.add(str(child.args[0].value))
            for keyword in child.keywords:
                if keyword.arg in ("scope", "name", "name_or_scope") and isinstance(keyword.value, ast.Constant):
                    names.add(str(keyword.value.value))
    return names


def _looks_like_train_op(name: str) -> bool:
    """`train_op`, `d_optim`, but not `train_init_op` or `train_iterator`."""
    return bool(_TRAIN_OP_NAME.search(name)) and not _SETUP_NAME.search(name)


def is_setup_fetch(fetches: ast.expr) -> bool:
    """A run's fetches that only set up (initializers, restores, summaries, the step
    counter): every meaningful name in them looks like setup."""
    names = [n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else None
             for n in ast.walk(fetches) if isinstance(n, (ast.Name, ast.Attribute))]
    meaningful = [n for n in names if n and n not in ("tf", "tensorflow", "self", "compat", "v1")]
    return bool(meaningful) and all(_SETUP_NAME.search(n) for n in meaningful)


def _is_false(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _is_control_dependencies(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in tfapi.DEPENDENCY_METHODS


def _enclosing_class(scope: Optional[Scope]) -> Optional[Scope]:
    while scope is not None:
        if scope.kind == "class":
            return scope
        scope = scope.parent
    return None


def _dict_node(entries: dict[str, ast.expr]) -> ast.Dict:
    """A dict display holding these entries (a resolved `normalizer_params`)."""
    return ast.Dict(keys=[ast.Constant(value=key) for key in entries], values=list(entries.values()))


def _bind(kwargs: dict[str, ast.expr], bindings: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """Substitute a factory's parameters by the arguments it was called with, in its
    arg-scope settings and their normalizer_params."""
    if not bindings:
        return kwargs

    def value(node: ast.expr) -> ast.expr:
        return bindings.get(node.id, node) if isinstance(node, ast.Name) else node

    bound = {key: value(node) for key, node in kwargs.items()}
    params = bound.get(tfapi.NORMALIZER_PARAMS_KW)
    if isinstance(params, ast.Dict):
        bound[tfapi.NORMALIZER_PARAMS_KW] = ast.Dict(keys=params.keys, values=[value(v) for v in params.values])
    return bound


def _call_bindings(function: ast.AST, call: ast.Call) -> dict[str, ast.expr]:
    """Parameter -> argument (or default) for a call of the module's own function."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {}
    bound = bind(call, def_signature(function))
    return {} if bound is None else {**bound.defaults, **bound.arguments}


def _lines(text: str) -> list[str]:
    """The text's lines as Python counts them (`_LINE_BREAK`), without their breaks."""
    if "\r" in text:
        return _LINE_BREAK.split(text)
    return text.split("\n")  # the same list, several times faster than the expression


def statement_blocks(tree: ast.Module, definitions: bool = True) -> Iterator[list[ast.stmt]]:
    """Every list of statements in the module (bodies, else and finally blocks, handlers):
    a walk over statements only, far cheaper than over every node. With `definitions`
    False, not the bodies of a def or class: the blocks that run in the module's scope."""
    stack: list[list[ast.stmt]] = [tree.body]
    holders = _BLOCK_FIELDS
    while stack:
        block = stack.pop()
        yield block
        for statement in block:
            kind = type(statement)
            try:
                names = holders[kind]
            except KeyError:
                names = holders[kind] = _block_fields(kind)
            if not names or not definitions and kind in _DEFINITIONS:
                continue  # most statements hold no block
            stack.extend(blocks_of(statement, names))


def blocks_of(statement: ast.stmt, names: Optional[tuple[str, ...]] = None) -> list[list[ast.stmt]]:
    """The blocks of statements directly inside `statement`, in the order
    `statement_blocks` stacks them: bodies, else and finally blocks, then the bodies of
    handlers and match cases. `names`: its class's block fields, when known."""
    if names is None:
        kind = type(statement)
        names = _BLOCK_FIELDS.get(kind)
        if names is None:
            names = _BLOCK_FIELDS[kind] = _block_fields(kind)
    found = []
    for name in names:
        inner = getattr(statement, name, None)
        if name == "handlers" or name == "cases":
            found.extend(holder.body for holder in inner or ())
        elif inner and isinstance(inner, list) and isinstance(inner[0], ast.stmt):
            found.append(inner)
    return found


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Per statement class: the fields that may hold blocks, in the order `statement_blocks`
# stacks them (bodies, else and finally blocks, then handlers and match cases).
_BLOCK_FIELDS: dict[type, tuple[str, ...]] = {}


def _block_fields(kind: type) -> tuple[str, ...]:
    fields = getattr(kind, "_fields", ())
    return tuple(name for name in _BLOCK_NAMES if name in fields)


def walk_statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The module's statements (and the handlers and match cases that hold them) in
    the order `ast.walk` meets them, breadth first, without visiting the expressions
    in between: only statements, handlers and match cases hold statements."""
    pending: deque = deque([tree])
    holders = _HOLDER_FIELDS
    while pending:
        node = pending.popleft()
        yield node
        kind = type(node)
        try:
            names = holders[kind]
        except KeyError:
            # The fields that hold statements, handlers or match cases, in the order
            # ast.iter_child_nodes reads them (the node class's own field order).
            fields = getattr(kind, "_fields", ())
            names = holders[kind] = tuple(name for name in fields if name in _BLOCK_NAMES)
        for name in names:
            pending.extend(child for child in getattr(node, name, None) or () if isinstance(child, _HOLDS_STATEMENTS))


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)
_BLOCK_NAMES = ("body", "orelse", "finalbody", "handlers", "cases")
_HOLDER_FIELDS: dict[type, tuple[str, ...]] = {}


def _chain(scope: Optional[Scope]) -> Iterator[Scope]:
    """A scope and the scopes around it, innermost first."""
    while scope is not None:
        yield scope
        scope = scope.parent


def param_default(scope: Scope, name: str) -> Optional[ast.expr]:
    """The default value of the parameter `name` seen from `scope`, if it has one."""
    return next((s.param_defaults[name] for s in _chain(scope) if name in s.param_defaults), None)


def all_bindings(scope: Scope, name: str) -> list[ast.expr]:
    """Every value assigned to `name` in the nearest scope that assigns it."""
    bindings = next((s.assignments[name] for s in _chain(scope) if name in s.assignments), [])
    return [value for _, value in bindings]


def _keyword(call: ast.Call, name: str) -> Optional[ast.expr]:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _walk_expression(node: ast.AST) -> Iterator[ast.AST]:
    """Every node of an expression, without descending into lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(current))


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
try:  # Python 3.10+
    _COMPOUND = _COMPOUND + (ast.Match,)
except AttributeError:  # pragma: no cover
    pass
try:  # Python 3.11+
    _COMPOUND = _COMPOUND + (ast.TryStar,)
except AttributeError:  # pragma: no cover
    pass


class _Builder(NodeVisitor):
    """Walks a module once, filling a ModuleFacts."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.scope = facts.module
        self.statements: list[ast.stmt] = []
        self.deps: list[ast.expr] = []  # control_dependencies arguments around this point
        self.arg_scopes: list[ArgScope] = []
        self.in_lambda = 0
        self.scope_loads = facts.name_loads
        # `.minimize(...)` calls, judged once every `self.optimizer = ...` is known.
        self.train_op_candidates: list[tuple[ast.Call, Optional[str], Scope, ast.stmt, tuple, bool]] = []
        self.opened_arg_scopes: list[ArgScope] = []
        self.producers: dict[str, Any] = {}  # resolver.producer's answers, by qualified name

    # --- structure ----------------------------------------------------------------

    @classmethod
    def _method_for(cls, kind: type) -> Optional[Callable[[Any, Any], Any]]:
        # A statement is on `self.statements` while it is visited; wrapping its method
        # (once per class) costs one call per statement instead of a test per node.
        method = super()._method_for(kind)
        if method is None or not issubclass(kind, ast.stmt):
            return method

        def visit_statement(self: "_Builder", node: ast.stmt) -> None:
            statements = self.statements
            statements.append(node)
            try:
                method(self, node)
            finally:
                statements.pop()

        return visit_statement

    def _enter(self, kind: str, node: ast.AST, name: str) -> Scope:
        scope = Scope(kind=kind, name=name, node=node, parent=self.scope)
        self.facts.scopes.append(scope)
        self.facts.scope_of_node[id(node)] = scope
        return scope

    def _visit_body(self, scope: Scope, body: list[ast.stmt]) -> None:
        saved = (self.scope, self.deps, self.arg_scopes)
        # A function body runs where it is called, not where it is defined: the
        # `with` blocks around the definition do not apply to it.
        self.scope, self.deps, self.arg_scopes = scope, [], []
        try:
            for statement in body:
                self.visit(statement)
        finally:
            self.scope, self.deps, self.arg_scopes = saved

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        arguments = node.args
        for default in [*arguments.defaults, *arguments.kw_defaults]:
            if default is not None:
                self.visit(default)
        scope = self._enter("function", node, node.name)
        self.scope.functions[node.name] = scope
        self._bind(node.name, node, self.scope)
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
        for arg, default in zip(positional, defaults):
            scope.param_defaults[arg.arg] = default
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
            scope.param_defaults[arg.arg] = default
        for extra in (arguments.vararg, arguments.kwarg):
            if extra is not None:
                scope.param_defaults[extra.arg] = None
        self._visit_body(scope, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        scope = self._enter("class", node, node.name)
        self._bind(node.name, node, self.scope)
        self._visit_body(scope, node.body)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.in_lambda += 1
        try:
            self.generic_visit(node)
        finally:
            self.in_lambda -= 1

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and self.statements:
            self.scope_loads.append((self.scope, node.id, node.lineno, self.statements[-1]))

    # --- bindings -----------------------------------------------------------------

    def _bind(self, name: str, value: ast.AST, scope: Scope) -> None:
        line = getattr(value, "lineno", 0)
        scope.assignments.setdefault(name, []).append((line, value))  # type: ignore[arg-type]

    def _bind_target(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.scope.assignments.setdefault(target.id, []).append((target.lineno, value))
        elif isinstance(target, ast.Attribute):
            cls = _enclosing_class(self.scope)
            if cls is not None and isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"):
                cls.attributes.setdefault(target.attr, []).append((target.lineno, value))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element.value if isinstance(element, ast.Starred) else element, UNKNOWN)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.facts.assignment_nodes.append(node)
        self.facts.assignment_scopes[id(node)] = self.scope
        self.facts.enclosing_statements[id(node)] = tuple(self.statements)
        self.visit(node.value)
        for target in node.targets:
            self._bind_target(target, node.value)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.facts.assignment_nodes.append(node)
        self.visit(node.value)
        # `x += more` keeps what x held and adds: an UPDATE_OPS list stays one.
        combined = ast.BinOp(left=ast.Name(id="_", ctx=ast.Load()), op=node.op, right=node.value)
        if isinstance(node.target, ast.Name):
            previous = self.facts.lookup(node.target.id, self.scope)
            if previous is not None and previous is not UNKNOWN:
                combined.left = previous
        self._bind_target(node.target, combined)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._bind_target(node.target, UNKNOWN)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind_target(node.target, node.value)

    # --- with blocks ----------------------------------------------------------------

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        pushed_deps = 0
        pushed_scopes = 0
        for item in node.items:
            self.visit(item.context_expr)
            expr = item.context_expr
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars, UNKNOWN)
            if not isinstance(expr, ast.Call):
                continue
            name = self.facts.qualname(expr.func, self.scope)
            if name == "tensorflow.control_dependencies" or (
                isinstance(expr.func, ast.Attribute) and expr.func.attr in tfapi.DEPENDENCY_METHODS
            ):
                if expr.args:
                    self.deps.append(expr.args[0])
                    pushed_deps += 1
            elif self._is_arg_scope(expr, name):
                found = self._arg_scopes_of(expr)
                if found is None:
                    # A scope we cannot read (from another module): it may set anything.
                    found = [ArgScope(frozenset(), {}, opaque=True)]
                for scope in found:
                    scope.statement = node
                    self.opened_arg_scopes.append(scope)
                    self.arg_scopes.append(scope)
                    pushed_scopes += 1
        try:
            for statement in node.body:
                self.visit(statement)
        finally:
            del self.deps[len(self.deps) - pushed_deps:]
            del self.arg_scopes[len(self.arg_scopes) - pushed_scopes:]

    visit_AsyncWith = visit_With

    def _is_arg_scope(self, call: ast.Call, name: Optional[str]) -> bool:
        return name in tfapi.ARG_SCOPE_FUNCTIONS or (
            isinstance(call.func, ast.Attribute) and call.func.attr == "arg_scope"
        ) or (isinstance(call.func, ast.Name) and call.func.id == "arg_scope")

    def _arg_scopes_of(self, call: ast.Call, depth: int = 0, scope: Optional[Scope] = None,
                       bindings: Optional[dict[str, ast.expr]] = None) -> Optional[list[ArgScope]]:
        """What `arg_scope(...)` sets: from its op list and keywords (looking into
        `**params` and `normalizer_params` dicts), or, for `arg_scope(my_scope(...))`, from
        the arg scopes that the module's own function `my_scope` opens, its parameters
        bound to the call's arguments. None when it cannot be told (a scope from another
        module): then anything may be set in it."""
        scope = scope or self.scope
        bindings = bindings or {}
        if not call.args:
            return None
        first = call.args[0]
        if isinstance(first, (ast.List, ast.Tuple)):
            ops = {name for name in (self.facts.qualname(e, scope) for e in first.elts) if name}
            kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
            for splat in (kw.value for kw in call.keywords if kw.arg is None):
                entries = self.facts.dict_entries(splat, scope)
                if entries is None:
                    return None
                kwargs.update(entries)
            params = self.facts.dict_entries(kwargs.get(tfapi.NORMALIZER_PARAMS_KW), scope)
            if params is not None:
                kwargs[tfapi.NORMALIZER_PARAMS_KW] = _dict_node(params)
            return [ArgScope(frozenset(ops), _bind(kwargs, bindings))]
        if isinstance(first, ast.Name):
            value = self.facts.lookup(first.id, scope)
            first = value if isinstance(value, ast.Call) else first
        known = self._net_arg_scope(first, scope)
        if known is not None:
            return [known]
        if depth > 2 or not (isinstance(first, ast.Call) and isinstance(first.func, ast.Name)):
            return None
        function = self.facts.function_defs.get(first.func.id)
        if function is None:
            return None
        inner_scope = self.facts.scope_of_node.get(id(function), scope)
        inner_bindings = _call_bindings(function, first)
        scopes: list[ArgScope] = []
        for node in ast.walk(function):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    inner = item.context_expr
                    if isinstance(inner, ast.Call) and self._is_arg_scope(inner, self.facts.qualname(inner.func, inner_scope)):
                        found = self._arg_scopes_of(inner, depth + 1, inner_scope, inner_bindings)
                        if found is None:
                            return None
                        scopes.extend(found)
        return scopes

    def _net_arg_scope(self, call: ast.expr, scope: Scope) -> Optional[ArgScope]:
        """What a slim net's arg-scope factory sets for batch norm: only what its own
        arguments say (`training_scope(is_training=...)`, `batch_norm_decay=...`)."""
        if not isinstance(call, ast.Call):
            return None
        name = self.facts.qualname(call.func, scope) or ""
        module, _, function = name.rpartition(".")
        if function not in tfapi.BATCH_NORM_ARG_SCOPES or module.rsplit(".", 1)[-1] not in tfapi.NET_MODULES:
            return None
        settings = {}
        for keyword in call.keywords:
            if keyword.arg in tfapi.NET_ARG_SCOPE_SETTINGS:
                settings[tfapi.NET_ARG_SCOPE_SETTINGS[keyword.arg]] = keyword.value
        batch_norm_ops = frozenset(n for n, api in tfapi.BATCH_NORM_APIS.items() if api.family == "contrib")
        return ArgScope(batch_norm_ops, settings)

    def _arg_scope_batch_norm_setting(self, keyword: str) -> Optional[ast.expr]:
        """A batch-norm setting the enclosing arg scopes make, for batch_norm itself or
        through a layer's `normalizer_params`."""
        batch_norm_ops = {name for name, api in tfapi.BATCH_NORM_APIS.items() if api.family == "contrib"}
        for scope in reversed(self.arg_scopes):
            if scope.opaque:
                return UNKNOWN
            if scope.ops & batch_norm_ops and keyword in scope.kwargs:
                return scope.kwargs[keyword]
            params = self.facts.dict_entries(scope.kwargs.get(tfapi.NORMALIZER_PARAMS_KW), self.scope)
            if params and keyword in params:
                return params[keyword]
        return None

    def _arg_scope_value(self, op: str, keyword: str) -> Optional[ast.expr]:
        for scope in reversed(self.arg_scopes):
            if scope.opaque:
                return UNKNOWN
            if op in scope.ops and keyword in scope.kwargs:
                return scope.kwargs[keyword]
        return None

    # --- calls ----------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        facts, scope = self.facts, self.scope
        facts.calls.append((node, scope))
        facts.enclosing_statements[id(node)] = tuple(self.statements)
        qualified = name = facts.qualname(node.func, scope)
        statement = self.statements[-1] if self.statements else None
        if statement is None:
            return
        if name is None and isinstance(node.func, ast.Name) and facts.resolver is not None:
            # `conv_bn(x)` after `from ops import *`: `ops.conv_bn` (model/star_imports.py).
            from .model.star_imports import star_imported

            name = star_imported(facts, node.func.id)
        site = self._batch_norm_site(node, name)
        if site is not None:
            facts.batch_norm_sites.append(site)
        self._train_op(node, name, statement)
        # Asked with the name the function resolves to, before star imports.
        if facts._reads_update_ops(node, scope, qualified):
            target = None
            if isinstance(statement, ast.Assign) and statement.value is node and len(statement.targets) == 1:
                bound = statement.targets[0]
                if isinstance(bound, ast.Name):
                    target = bound.id
                elif isinstance(bound, ast.Attribute) and isinstance(bound.value, ast.Name) and bound.value.id == "self":
                    target = f"self.{bound.attr}"
            live = isinstance(node.func, ast.Attribute) and node.func.attr == "get_collection_ref" or (
                name or "").endswith(".get_collection_ref")
            facts.update_reads.append(UpdateOpsRead(node, scope, statement, target, live))
        if name in tfapi.DEPENDENCY_FUNCTIONS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in tfapi.DEPENDENCY_METHODS
        ):
            args = tuple(node.args) + tuple(kw.value for kw in node.keywords)
            facts.dependency_uses.append(DependencyUse(node, scope, args, tuple(self.deps)))
        self._session_run(node, name, statement)
        self._local_call(node, name, statement)

    def _session_run(self, node: ast.Call, name: Optional[str], statement: ast.stmt) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in ("run", "eval")) or name is not None:
            return  # `tf.app.run()` resolves to a module function: not a session
        if not self.facts.is_session(func.value, self.scope):
            # `train_step.run(feed_dict=...)`, `accuracy.eval(feed_dict=...)`: an op or tensor
            # run in the default session (the InteractiveSession tutorials' style).
            if not node.args and any(kw.arg in ("feed_dict", "session") for kw in node.keywords) and \
                    isinstance(func.value, (ast.Name, ast.Attribute)):
                self.facts.session_runs.append(
                    SessionRun(node, self.scope, statement, func.value, _keyword(node, "feed_dict")))
            return
        if func.attr != "run":
            return
        fetches = node.args[0] if node.args else _keyword(node, "fetches")
        feed = node.args[1] if len(node.args) > 1 else _keyword(node, "feed_dict")
        self.facts.session_runs.append(SessionRun(node, self.scope, statement, fetches, feed))

    def _local_call(self, node: ast.Call, name: Optional[str], statement: ast.stmt) -> None:
        func = node.func
        if isinstance(func, ast.Name) and name is None:
            self.facts.local_calls.append(
                LocalCall(func.id, False, node, self.scope, statement, tuple(self.deps)))
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            self.facts.local_calls.append(
                LocalCall(func.attr, True, node, self.scope, statement, tuple(self.deps)))

    def _train_op(self, node: ast.Call, name: Optional[str], statement: ast.stmt) -> None:
        if name in tfapi.TRAIN_OP_BUILDERS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in tfapi.TRAIN_OP_METHODS
        ):
            # A `with` can wrap a statement on a line of its own, not one that shares its
            # line with a compound header (`if ready: op = opt.minimize(loss)`).
            parent = self.statements[-2] if len(self.statements) > 1 else None
            one_line_suite = parent is not None and parent.lineno == statement.lineno
            # Nor one that shares its line: the other statement's ops would wait too.
            shares_line = {statement.lineno, statement.end_lineno} & self.facts.shared_lines
            wrappable = not (isinstance(statement, _COMPOUND) or self.in_lambda or one_line_suite or shares_line)
            self.train_op_candidates.append((node, name, self.scope, statement, tuple(self.deps), wrappable))

    def finish(self) -> None:
        facts = self.facts
        self._apply_nested_batch_norm_settings()
        # A layer object applied somewhere is judged where it is applied, with its flag.
        applied = {id(site.constructor) for site in facts.batch_norm_sites if site.constructor is not None}
        facts.batch_norm_sites = [site for site in facts.batch_norm_sites if id(site.node) not in applied]
        for node, name, scope, statement, deps, wrappable in self.train_op_candidates:
            if name in tfapi.TRAIN_OP_BUILDERS:
                kind = "builder"
            elif facts.is_optimizer(node.func.value, scope):  # type: ignore[attr-defined]
                kind = node.func.attr  # type: ignore[attr-defined]
            else:
                continue
            facts.train_ops.append(TrainOp(node, kind, scope, statement, deps, wrappable))
        self._name_train_ops()

    def _name_train_ops(self) -> None:
        """Record what train ops are bound to, and what is built from them
        (`train_op = tf.group(minimize_op, ...)`), to tell training runs apart."""
        names = self.facts.train_op_names
        for op in self.facts.train_ops:
            names.update(assigned_names(op.stmt))
        if not names:
            return
        for node in self.facts.assignment_nodes:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                used = name_ids(node.value)
                # `self` is bound with every `self.train_op = ...`, and used by everything.
                if used & names - {"self"}:
                    names.update(assigned_names(node))
        from .model.program import gan_style

        # Not in a GAN, as before: its `self.` fetches stay training runs, since the rules
        # cannot tell sampling with batch statistics (by design) from an evaluation yet.
        if not gan_style(self.facts):
            names.discard("self")

    def _project_producer(self, node: ast.Call, name: Optional[str]) -> Optional[BatchNormSite]:
        """A call of a function (or a class) from another module of the project that
        builds batch norm: `build_model(images, is_training=True)` in train.py."""
        resolver = self.facts.resolver
        if resolver is None:
            return None
        if name is None:
            if not isinstance(node.func, ast.Subscript):
                return None  # the cheap test first: most calls without a name are `x.f()`
            # `params['generator_fn'](z, ...)` in an Estimator model_fn: what the program stores there.
            from .model.dict_callables import dict_callable_producer

            producer = dict_callable_producer(self.facts, node, self.scope)
        else:
            # The same name gets the same answer for the whole module: asked once.
            try:
                producer = self.producers[name]
            except KeyError:
                producer = self.producers[name] = resolver.producer(name)
        if producer is None:
            return None
        bound = bind(node, api_signature(producer.positional))
        flag = next((bound.arguments[param] for param in producer.flag_params
                     if bound is not None and param in bound.arguments), None)
        trains = self.facts.flag_value(flag, self.scope, True) if flag is not None else None
        where = f"{os.path.basename(producer.path)}:{producer.line}"
        return BatchNormSite(node, f"{producer.name}() ({where})", "project", "collection", trains, flag,
                             self.scope, self.statements[-1], producer=producer)

    def _layer_application(self, node: ast.Call) -> Optional[tuple[tfapi.BatchNormApi, ast.Call]]:
        """`BatchNormalization(...)(x, training=...)`, `layer(x)` or `layer.apply(x)` for a
        layer object built from a batch-norm class: its API and the constructor call."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "apply":
            func = func.value
        constructor: Optional[ast.expr] = func
        if isinstance(func, ast.Name):
            constructor = self.facts.lookup(func.id, self.scope)
        elif isinstance(func, ast.Attribute):
            constructor = self.facts.lookup_attribute(func, self.scope)
        if not isinstance(constructor, ast.Call):
            return None
        api = tfapi.BATCH_NORM_APIS.get(self.facts.qualname(constructor.func, self.scope) or "")
        if api is None or not api.is_class:
            return None
        return api, constructor

    def _apply_nested_batch_norm_settings(self) -> None:
        """`with arg_scope([conv2d], normalizer_fn=batch_norm): with arg_scope([batch_norm],
        updates_collections=None): ...` sets batch norm up in the inner scope, which does not
        exist yet when the outer one is seen; the layers inside run under both."""
        batch_norm_ops = {name for name, api in tfapi.BATCH_NORM_APIS.items() if api.family == "contrib"}
        for site in self.facts.batch_norm_sites:
            statement = site.stmt
            if site.how != "normalizer_fn" or not isinstance(statement, (ast.With, ast.AsyncWith)):
                continue
            if not any(item.context_expr is site.node for item in statement.items):
                continue
            end = statement.end_lineno or statement.lineno
            for inner in self.opened_arg_scopes:
                if inner.statement is None or not (statement.lineno < inner.statement.lineno <= end):
                    continue
                if not inner.ops & batch_norm_ops:
                    continue
                if "updates_collections" in inner.kwargs:
                    site.updates = self.facts.updates_mode(inner.kwargs["updates_collections"], site.scope)
                if "is_training" in inner.kwargs:
                    site.flag = inner.kwargs["is_training"]
                    site.trains = self.facts.flag_value(site.flag, site.scope, True)

    def _batch_norm_site(self, node: ast.Call, name: Optional[str]) -> Optional[BatchNormSite]:
        facts, scope = self.facts, self.scope
        statement = self.statements[-1]
        project_site = self._project_producer(node, name)
        if project_site is not None:
            return project_site
        application = self._layer_application(node)
        if application is not None:
            api, constructor = application
            flag = facts.call_argument(node, api.training_kw, 1, scope)
            trains = facts.flag_value(flag, scope, api.default_training)
            if flag is None and api.family == "keras":
                trains = None  # Keras follows the learning phase, which may be set or fed
            return BatchNormSite(node, api.display, "apply", api.updates, trains, flag, scope, statement,
                                 constructor, api)
        api = tfapi.BATCH_NORM_APIS.get(name or "")
        if api is not None:
            if api.is_class:
                # The flag is given where the layer object is called; unknown here.
                return BatchNormSite(node, api.display, "class", api.updates, None, None, scope, statement, spec=api)
            flag = facts.call_argument(node, api.training_kw, api.training_pos, scope)
            if flag is None:
                flag = self._arg_scope_value(name, api.training_kw)
            updates = api.updates
            if api.updates_kw:
                redirect = facts.call_argument(node, api.updates_kw, api.updates_pos, scope)
                if redirect is None:
                    redirect = self._arg_scope_value(name, api.updates_kw)
                updates = facts.updates_mode(redirect, scope)
            trains = facts.flag_value(flag, scope, api.default_training)
            return BatchNormSite(node, api.display, "call", updates, trains, flag, scope, statement, spec=api)

        normalizer = _keyword(node, tfapi.NORMALIZER_FN_KW)
        if normalizer is None and name and self.arg_scopes:
            normalizer = self._arg_scope_value(name, tfapi.NORMALIZER_FN_KW)
        partial_settings: dict[str, ast.expr] = {}
        if isinstance(normalizer, ast.Name):
            bound = facts.lookup(normalizer.id, scope)
            if isinstance(bound, ast.Call) and bound.args and \
                    facts.qualname(bound.func, scope) in tfapi.PARTIAL_FUNCTIONS:
                normalizer = bound.args[0]
                partial_settings = {kw.arg: kw.value for kw in bound.keywords if kw.arg}
        if normalizer is not None:
            normalizer_api = tfapi.BATCH_NORM_APIS.get(facts.qualname(normalizer, scope) or "")
            if normalizer_api is not None and normalizer_api.family in ("contrib", "tf.layers") \
                    and not normalizer_api.is_class:
                return self._normalizer_site(node, name, normalizer_api, statement, partial_settings)

        if name:
            module, _, function = name.rpartition(".")
            # Where it comes from matters only for a net or a net's arg scope (few calls).
            from_net_module = (function in tfapi.BATCH_NORM_NETS or function in tfapi.BATCH_NORM_ARG_SCOPES) and (
                module.rsplit(".", 1)[-1] in tfapi.NET_MODULES or ".nets." in f".{module}.")
            if function in tfapi.BATCH_NORM_NETS and from_net_module:
                flag = _keyword(node, tfapi.NET_TRAINING_KW)
                trains = facts.flag_value(flag, scope, True)
                if not function.startswith(tfapi.NETS_CALLING_BATCH_NORM_DIRECTLY):
                    # The net's own layers take batch norm's settings from the
                    # normalizer_params around it, which win over its `is_training`.
                    around = self._arg_scope_batch_norm_setting(tfapi.NET_TRAINING_KW)
                    if around is not None:
                        if facts.flag_value(around, scope, True) is False:
                            trains = False
                        flag = flag if flag is not None else around
                return BatchNormSite(node, f"{function} (slim net)", "net", "collection", trains, flag, scope, statement)
            if function in tfapi.BATCH_NORM_ARG_SCOPES and from_net_module:
                off = facts.flag_value(_keyword(node, tfapi.USE_BATCH_NORM_KW), scope, True)
                if off is False:
                    return None
                return BatchNormSite(node, f"{function}()", "net_arg_scope", "collection", None, None, scope, statement)
            if name in tfapi.COLLECTION_WRITERS and node.args and facts.is_update_ops_key(node.args[0], scope):
                return BatchNormSite(node, "tf.add_to_collection(UPDATE_OPS)", "collection_write", "collection", None, None, scope, statement)
        return None

    def _normalizer_site(self, node: ast.Call, name: Optional[str], api: tfapi.BatchNormApi,
                         statement: ast.stmt, partial_settings: dict[str, ast.expr]) -> BatchNormSite:
        facts, scope = self.facts, self.scope
        params_node = _keyword(node, tfapi.NORMALIZER_PARAMS_KW)
        if params_node is None and name:
            params_node = self._arg_scope_value(name, tfapi.NORMALIZER_PARAMS_KW)
        entries = facts.dict_entries(params_node, scope)
        params = {**partial_settings, **(entries or {})}
        # normalizer_params it cannot read (a parameter, a helper with two returns) may
        # send the updates anywhere, `updates_collections=None` included: unknown.
        unread_params = params_node is not None and entries is None
        batch_norm_names = [n for n, a in tfapi.BATCH_NORM_APIS.items() if a.family == api.family and not a.is_class]

        def setting(keyword: str) -> Optional[ast.expr]:
            if keyword in params:
                return params[keyword]
            for op in batch_norm_names:
                value = self._arg_scope_value(op, keyword)
                if value is not None:
                    return value
            return None

        flag = setting(api.training_kw)
        updates = facts.updates_mode(setting(api.updates_kw), scope) if api.updates_kw else api.updates
        if unread_params and api.updates_kw and api.updates_kw not in params:
            updates = "unknown"
        trains = facts.flag_value(flag, scope, api.default_training)
        layer = (name or dotted(node.func) or "layer").rsplit(".", 1)[-1]
        return BatchNormSite(node, f"{layer}(normalizer_fn=batch_norm)", "normalizer_fn",
                             updates, trains, flag, scope, statement, spec=api)


def is_arg_scope_call(facts: "ModuleFacts", call: ast.Call, scope: Scope) -> bool:
    """Is `call` slim's `arg_scope(...)` (or a function of that name), as the facts tell it?"""
    return _Builder(facts)._is_arg_scope(call, facts.qualname(call.func, scope))


def arg_scopes_opened(facts: "ModuleFacts", call: ast.Call, scope: Scope) -> Optional[list[ArgScope]]:
    """What `with arg_scope(...):` opens in `scope`, read as the facts were built; None when
    its settings cannot be told (see `_Builder._arg_scopes_of`)."""
    builder = _Builder(facts)
    builder.scope = scope
    return builder._arg_scopes_of(call)


def build(tree: ast.Module, text: str, resolver: Optional[Any] = None) -> ModuleFacts:
    """Collect the facts about one parsed module; `resolver` (project.Resolver) tells
    which of the project's own imported functions and classes build batch norm."""
    module = Scope(kind="module", name="<module>", node=tree, parent=None)
    facts = ModuleFacts(tree=tree, text=text, lines=_lines(text), imports=ImportTable(), module=module,
                        resolver=resolver)
    facts.scopes.append(module)
    facts.scope_of_node[id(tree)] = module
    # Imports first, wherever they are: a name is often imported inside main().
    for block in statement_blocks(tree):
        for first, second in zip(block, block[1:]):
            if first.end_lineno == second.lineno:
                facts.shared_lines.update((first.end_lineno, second.lineno))
        for statement in block:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                facts.imports.add(statement)
    if resolver is not None:
        # `from .version import tf` where the project binds `tf = tensorflow.compat.v1`.
        resolve_project_aliases(facts.imports, resolver)
    facts.function_defs = {node.name: node for node in tree.body
                           if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    builder = _Builder(facts)
    for statement in tree.body:
        builder.visit(statement)
    builder.finish()
    return facts
