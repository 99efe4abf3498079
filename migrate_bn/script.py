"""Recognise a TF1 training script: the graph it builds and the session that runs it.

`recognise` reads one module and returns a `Script` (what `upgrade` needs to write the
TF2 program) or raises `NotConvertible` naming the first line it could not account for.
A script is a block (the module body or one function's) that builds its graph from
placeholders with tf.layers / slim calls and plain tensor code, makes one train op
with `minimize`, and runs it in one `with tf.Session() as sess:` block. Everything the
recogniser does not understand stops the conversion: a half-converted program would mix
Keras layers into a session graph, where their statistics never update (BN008).
"""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from . import binding, exact_bn, tfapi
from .facts import ModuleFacts
from .keras_mapping import (batch_norm_to_keras, is_none_literal, keras_initializer,
                            optimizer_to_keras)
from .names import resolve


class NotConvertible(Exception):
    def __init__(self, node: Optional[ast.AST], reason: str) -> None:
        super().__init__(reason)
        self.line = getattr(node, "lineno", 1)
        self.reason = reason


@dataclass
class Placeholder:
    name: str
    statement: ast.stmt
    default: Optional[ast.expr]  # placeholder_with_default's value
    is_flag: bool = False  # used only as a training flag: becomes a Python bool


@dataclass
class Layer:
    """A Keras layer built once where the TF1 call built variables on every graph build."""

    variable: str  # its name in the TF2 program
    tf1_scope: str  # the variable scope TF1 put its variables in
    keras_class: str
    constructor: str
    call: ast.Call  # the TF1 call it replaces
    inputs: ast.expr
    flag: Optional[str] = None  # training: None (takes none), "True", "False" or a flag placeholder
    activation: Optional[str] = None
    weights: dict[str, str] = field(default_factory=dict)  # Keras attribute -> TF1 variable name

    def call_text(self, inputs: str, training: Optional[bool]) -> str:
        if self.flag is None:
            applied = f"{self.variable}({inputs})"
        else:
            value = {"True": True, "False": False}.get(self.flag, training)
            applied = f"{self.variable}({inputs}, training={value})"
        return f"{self.activation}({applied})" if self.activation else applied


@dataclass
class GraphStatement:
    statement: ast.Assign
    target: str
    reads: set[int]  # the indices of the definitions it reads (GraphStatements or placeholders)
    layers: list[Layer]
    renames: list[tuple[ast.AST, str]]  # TF1 spellings -> TF2


@dataclass
class Run:
    """One `sess.run(fetches, feed_dict)` of the session block."""

    call: ast.Call
    statement: ast.stmt
    fetches: list[str]
    shape: str  # "single" | "list" | "tuple"
    feeds: dict[str, ast.expr]
    trains: bool
    training: Optional[bool]
    needed: set[int] = field(default_factory=set)  # the graph statements it computes


@dataclass
class Script:
    facts: ModuleFacts
    block: list[ast.stmt]
    tf: str  # the name TensorFlow is imported as
    definitions: list[Union[GraphStatement, Placeholder]]
    final: dict[str, int]  # graph name -> its last definition
    layers: list[Layer]
    session: ast.With
    session_name: str
    runs: list[Run]
    optimizer: Optional[str] = None  # its variable name
    optimizer_code: Optional[str] = None
    loss: Optional[int] = None  # the definition the train op minimizes
    removed: list[ast.stmt] = field(default_factory=list)  # graph-building statements of the block
    renamed_calls: list[tuple[ast.AST, str]] = field(default_factory=list)
    removed_in_session: list[ast.stmt] = field(default_factory=list)
    saves: list[tuple[ast.Call, ast.expr, Optional[ast.expr]]] = field(default_factory=list)  # (call, path, step)
    # `with tf.Graph().as_default():` around the block: TF2 has no graph to enter, so the
    # `with` goes and its body moves out one level; `as` name, if any.
    graph_block: Optional[ast.With] = None
    graph_name: Optional[str] = None
    imports: list[tuple[ast.stmt, Optional[str]]] = field(default_factory=list)  # new text, None: delete
    notes: list[tuple[int, str]] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # names the program already uses
    # The batch-norm subclass that trains as TF1's fused kernel did (exact_bn), when a
    # layer needs it: its name in the program.
    exact_bn: Optional[str] = None

    def placeholders(self, indices: set[int]) -> list[Placeholder]:
        return [d for i, d in enumerate(self.definitions) if i in indices and isinstance(d, Placeholder)]

    def statements(self, indices: set[int]) -> list[GraphStatement]:
        return [d for i, d in enumerate(self.definitions) if i in indices and isinstance(d, GraphStatement)]


def recognise(facts: ModuleFacts, keras: int = 3, stock_bn: bool = False) -> Optional[Script]:
    """The training script in this module; None when it has no `tf.Session` block."""
    sessions = [(block, statement) for block in _blocks(facts) for statement in block
                if isinstance(statement, ast.With) and _session_name(facts, statement)]
    nested = [node for node in ast.walk(facts.tree) if isinstance(node, ast.With) and _session_name(facts, node)]
    if not nested:
        return None
    if len(nested) > 1:
        raise NotConvertible(nested[1], "more than one tf.Session block: convert one training script per file")
    if not sessions:
        raise NotConvertible(nested[0], "the tf.Session block is not directly in the module, a function, "
                                        "`__main__` or a `with tf.Graph().as_default():`")
    block, session = sessions[0]
    graph_block = next((node for node in ast.walk(facts.tree)
                        if isinstance(node, ast.With) and node.body is block), None)
    main = next((node for node in facts.tree.body if isinstance(node, ast.If) and node.body is block), None)
    if main is not None:
        # The graph is often built at module level and run under `__main__`: one script.
        at = facts.tree.body.index(main)
        block = facts.tree.body[:at] + main.body + facts.tree.body[at + 1:]
    return _Recogniser(facts, block, session, keras, graph_block, stock_bn).script()


def _blocks(facts: ModuleFacts) -> Iterator[list[ast.stmt]]:
    """Where a script's graph and session may be: the module, a function, the module's
    `if __name__ == "__main__":`, or a `with tf.Graph().as_default():` in one of those."""
    tree = facts.tree
    blocks = [tree.body] + [node.body for node in ast.walk(tree)
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    blocks += [node.body for node in tree.body if isinstance(node, ast.If) and _is_main_test(node.test)]
    for block in list(blocks):
        blocks += [node.body for node in block if isinstance(node, ast.With) and _graph_context(facts, node)]
    yield from blocks


def _is_main_test(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__" and \
        len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant) and \
        test.comparators[0].value == "__main__" and isinstance(test.ops[0], ast.Eq)


def _graph_context(facts: ModuleFacts, statement: ast.With) -> bool:
    """`with tf.Graph().as_default():` (or the default graph's), nothing else in the `with`."""
    if len(statement.items) != 1:
        return False
    entered = statement.items[0].context_expr
    return isinstance(entered, ast.Call) and not entered.args and isinstance(entered.func, ast.Attribute) and \
        entered.func.attr == "as_default" and isinstance(entered.func.value, ast.Call) and \
        resolve(entered.func.value.func, facts.imports) in tfapi.GRAPH_CONSTRUCTORS


def _session_name(facts: ModuleFacts, statement: ast.With) -> Optional[str]:
    for item in statement.items:
        if isinstance(item.context_expr, ast.Call) and \
                resolve(item.context_expr.func, facts.imports) in tfapi.SESSION_CLASSES:
            return item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else "?"
    return None


class _Recogniser:
    def __init__(self, facts: ModuleFacts, block: list[ast.stmt], session: ast.With, keras: int,
                 graph_block: Optional[ast.With] = None, stock_bn: bool = False) -> None:
        self.facts = facts
        self.stock_bn = stock_bn
        self.graph_block = graph_block
        self.keras = keras
        self.block = block
        self.session = session
        self.tf_modules = {alias for alias, module in facts.imports.names.items()
                           if module.split(".")[0] in ("tensorflow", "tf_slim")}
        tensorflow = [alias for alias, module in facts.imports.names.items()
                      if module in tfapi.TENSORFLOW_MODULES]
        if not tensorflow:
            raise NotConvertible(session, "TensorFlow is not imported as a module (`import tensorflow as tf`)")
        self.tf = tensorflow[0]
        self.definitions: list[Union[GraphStatement, Placeholder]] = []
        self.current: dict[str, int] = {}
        self.other_names: dict[str, str] = {}  # optimizer, train op, update ops, initializer -> kind
        self.layers: list[Layer] = []
        self.owners: dict[str, Layer] = {}  # TF1 scope -> the layer that built its variables
        self.reuse: Optional[str] = None  # the enclosing variable_scope's: None, "reuse" or "auto"
        self.scope_counts: dict[str, int] = {}
        self.taken = names_used(facts.tree)
        self.plain_bindings: dict[str, list[int]] = {}
        self.graph_reads: list[tuple[str, int]] = []
        self.script_: Optional[Script] = None

    # --- the block ----------------------------------------------------------------

    def script(self) -> Script:
        name = _session_name(self.facts, self.session)
        if name == "?":
            raise NotConvertible(self.session, "the session is not bound to a name (`as sess`)")
        script = Script(self.facts, self.block, self.tf, self.definitions, {}, self.layers, self.session,
                        name or "", [], taken=self.taken)
        self.script_ = script
        if self.graph_block is not None:
            self._graph_block(script, self.graph_block)
        index = self.block.index(self.session)
        for statement in self.block[:index]:
            self._statement(statement, "", top=True, under_dependencies=False)
        for statement in self.block[index + 1:]:
            if self._mentions_graph(statement):
                raise NotConvertible(statement, "the graph is used after the session block")
        for name, line in self.graph_reads:
            if any(bound > line for bound in self.plain_bindings.get(name, ())):
                raise NotConvertible(self.session, f"`{name}` changes after the graph reads it (line {line})")
        if "train_op" not in self.other_names.values():
            raise NotConvertible(self.session, "no `minimize` train op: nothing to train")
        script.final = dict(self.current)
        self._flags(script)
        _SessionReader(self, script).read()
        self._imports(script)
        self._kept_code(script)
        return script

    def _kept_code(self, script: Script) -> None:
        """Code the conversion keeps as it is (helpers, the code around the script) runs on
        TF2 too: its `tf.` names must mean the same there."""
        converted = [*script.removed, script.session, *(statement for statement, _ in script.imports),
                     *(node for node, _ in script.renamed_calls)]
        if script.graph_block is not None:
            converted.append(script.graph_block.items[0].context_expr)
            enclosing = self._enclosing(script.graph_block)
            for statement in enclosing[enclosing.index(script.graph_block) + 1:]:
                if self._mentions_graph(statement) or any(isinstance(n, ast.Name) and n.id == script.graph_name
                                                          for n in ast.walk(statement)):
                    raise NotConvertible(statement, "the graph is used after its `with` block")
        self._check_tf_names(self.facts.tree, script.renamed_calls, skip=frozenset(id(node) for node in converted))

    def _enclosing(self, statement: ast.stmt) -> list[ast.stmt]:
        return next(getattr(node, "body") for node in ast.walk(self.facts.tree)
                    if statement in getattr(node, "body", ()))

    def _graph_block(self, script: Script, graph_block: ast.With) -> None:
        bound = graph_block.items[0].optional_vars
        if bound is not None and not isinstance(bound, ast.Name):
            raise NotConvertible(graph_block, "a graph bound to something other than a name")
        script.graph_block, script.graph_name = graph_block, bound.id if bound is not None else None
        enclosing = self._enclosing(graph_block)
        for statement in enclosing[:enclosing.index(graph_block)]:
            self._setup_call(script, statement)
        session_call = self.session.items[0].context_expr
        allowed = {id(k.value) for k in getattr(session_call, "keywords", ()) if k.arg == "graph"}
        for node in ast.walk(graph_block):
            if isinstance(node, ast.Name) and node.id == script.graph_name and node is not bound and \
                    id(node) not in allowed:
                raise NotConvertible(node, f"the graph `{node.id}` is used for more than `tf.Session(graph=...)`")

    def _statement(self, statement: ast.stmt, prefix: str, top: bool, under_dependencies: bool) -> None:
        script = self.script_
        assert script is not None
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return
        if self._setup_call(script, statement):
            return
        if isinstance(statement, ast.With):
            self._with(statement, prefix, top)
            return
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], ast.Name):
            if self._assignment(statement, statement.targets[0].id, prefix, under_dependencies):
                if top:
                    script.removed.append(statement)
                return
        if self._mentions_graph(statement):
            raise NotConvertible(statement, "a statement of the graph this conversion does not understand")
        if not top:
            raise NotConvertible(statement, "plain code inside a graph scope")
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.plain_bindings.setdefault(node.id, []).append(statement.lineno)

    def _setup_call(self, script: Script, statement: ast.stmt) -> bool:
        """A call that sets up TF1's graph mode, seeds or learning phase: removed or renamed."""
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            return False
        name = resolve(statement.value.func, self.facts.imports)
        if name in tfapi.GRAPH_SETUP_CALLS:
            script.removed.append(statement)
        elif name in tfapi.RENAMED_CALLS:
            script.renamed_calls.append((statement.value.func, tfapi.RENAMED_CALLS[name].replace("tf", self.tf, 1)))
        elif self.facts.qualname(statement.value.func, self.facts.module) in tfapi.LEARNING_PHASE_SETTERS:
            # The layers converted here take no learning phase: every `training=` is explicit.
            script.removed.append(statement)
            script.notes.append((statement.lineno, "the global learning phase is removed: every layer call "
                                                   "says `training=` itself"))
        else:
            return False
        return True

    def _with(self, statement: ast.With, prefix: str, top: bool) -> None:
        if len(statement.items) != 1 or not isinstance(statement.items[0].context_expr, ast.Call) or \
                statement.items[0].optional_vars is not None:
            if self._mentions_graph(statement):
                raise NotConvertible(statement, "a `with` block of the graph this conversion does not understand")
            return
        call = statement.items[0].context_expr
        name = resolve(call.func, self.facts.imports)
        under_dependencies = False
        reuse = self.reuse
        if name == tfapi.VARIABLE_SCOPE:
            if len(call.args) != 1 or any(k.arg != "reuse" for k in call.keywords) or \
                    not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
                raise NotConvertible(statement, "a variable_scope other than `variable_scope('literal name')` "
                                                "(with `reuse=`)")
            prefix = f"{prefix}{call.args[0].value}/"
            # TF1 scopes inherit reuse and cannot switch it off again.
            reuse = self._reuse_mode(call.keywords[0].value if call.keywords else None) or self.reuse
        elif name == tfapi.CONTROL_DEPENDENCIES:
            if len(call.args) != 1 or not self._is_update_ops(call.args[0]):
                raise NotConvertible(statement, "control_dependencies on something other than the update ops")
            under_dependencies = True
        elif name != tfapi.NAME_SCOPE:
            if self._mentions_graph(statement):
                raise NotConvertible(statement, "a `with` block of the graph this conversion does not understand")
            return
        enclosing, self.reuse = self.reuse, reuse
        for inner in statement.body:
            self._statement(inner, prefix, top=False, under_dependencies=under_dependencies)
        self.reuse = enclosing
        if top:
            self.script_.removed.append(statement)  # type: ignore[union-attr]

    def _reuse_mode(self, value: Optional[ast.expr]) -> Optional[str]:
        """`reuse=` as written: None (build), "reuse" (True: must exist) or "auto" (AUTO_REUSE)."""
        if value is None or (isinstance(value, ast.Constant) and value.value in (None, False)):
            return None
        if isinstance(value, ast.Constant) and value.value is True:
            return "reuse"
        if resolve(value, self.facts.imports) == tfapi.AUTO_REUSE:
            return "auto"
        raise NotConvertible(value, "a `reuse` other than True, False, None or tf.AUTO_REUSE")

    def _is_update_ops(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return self.other_names.get(node.id) == "update_ops"
        return isinstance(node, ast.Call) and self.facts.read_of_update_ops(node, self.facts.module)

    def _assignment(self, statement: ast.Assign, target: str, prefix: str, under_dependencies: bool) -> bool:
        """Record a graph-building assignment; False when it is plain Python."""
        value = statement.value
        name = resolve(value.func, self.facts.imports) if isinstance(value, ast.Call) else None
        script = self.script_
        assert script is not None
        if name in (tfapi.PLACEHOLDER, tfapi.PLACEHOLDER_WITH_DEFAULT):
            default = binding.argument(value, "input", 0) if name == tfapi.PLACEHOLDER_WITH_DEFAULT else None
            self._define(target, Placeholder(target, statement, default))
            return True
        if isinstance(value, ast.Call) and self._is_update_ops(value):
            self.other_names[target] = "update_ops"
            return True
        if name in tfapi.VARIABLE_INITIALIZERS:
            self.other_names[target] = "initializer"
            return True
        if name == tfapi.SAVER:
            self._saver(target, value)  # type: ignore[arg-type]
            return True
        if name and name.startswith(tfapi.OPTIMIZER_PREFIX) and name.endswith(tfapi.OPTIMIZER_SUFFIX):
            self._optimizer(target, value)
            return True
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "minimize":
            self._train_op(statement, target, value, under_dependencies)
            return True
        if under_dependencies:
            raise NotConvertible(statement, "only the train op may wait for the update ops")
        if not self._mentions_graph(statement):
            return False
        self._graph_statement(statement, target, prefix)
        return True

    def _define(self, name: str, definition: Union[GraphStatement, Placeholder]) -> None:
        self.current[name] = len(self.definitions)
        self.definitions.append(definition)

    def _optimizer(self, target: Optional[str], call: ast.Call) -> str:
        script = self.script_
        assert script is not None
        if script.optimizer is not None:
            raise NotConvertible(call, "more than one optimizer")
        converted = optimizer_to_keras(self.facts, call)
        if converted.manual:
            raise NotConvertible(call, converted.manual)
        script.optimizer = target or fresh_name("optimizer", self.taken)
        script.optimizer_code = converted.code.replace("tf.", f"{self.tf}.", 1)
        script.notes.extend((call.lineno, note) for note in converted.notes)
        for argument in call.args + [k.value for k in call.keywords]:
            self._check_tf_names(argument, [])
        if target:
            self.other_names[target] = "optimizer"
        return script.optimizer

    def _saver(self, target: str, call: ast.Call) -> None:
        """A Saver of every variable: the program's `tf.train.Checkpoint` of the layers."""
        if call.args or any(k.arg not in tfapi.SAVER_KEPT_ARGUMENTS for k in call.keywords):
            raise NotConvertible(call, "a Saver of chosen variables or with options: only `tf.train.Saver()` "
                                       "(max_to_keep aside) is converted")
        if any(k.arg == "max_to_keep" for k in call.keywords):
            self.script_.notes.append((call.lineno, "`checkpoint.write` keeps every checkpoint: "  # type: ignore
                                                    "prune with tf.train.CheckpointManager(max_to_keep=...)"))
        self.other_names[target] = "saver"

    def _train_op(self, statement: ast.Assign, target: str, call: ast.Call, under_dependencies: bool) -> None:
        script = self.script_
        assert script is not None
        receiver = call.func.value  # type: ignore[attr-defined]
        if isinstance(receiver, ast.Name) and self.other_names.get(receiver.id) == "optimizer":
            pass
        elif isinstance(receiver, ast.Call):
            self._optimizer(None, receiver)
        else:
            raise NotConvertible(call, "`minimize` of something that is not a tf.train optimizer")
        if "train_op" in self.other_names.values():
            raise NotConvertible(call, "more than one train op (a GAN?): convert it by hand")
        arguments = binding.named_arguments(call, tfapi.MINIMIZE_POSITIONS) or {}
        if set(arguments) != {"loss"}:
            raise NotConvertible(call, "`minimize` with more than the loss (var_list, global_step, ...)")
        loss = arguments["loss"]
        if not isinstance(loss, ast.Name) or loss.id not in self.current:
            raise NotConvertible(call, "the loss is not a name the graph defines")
        script.loss = self.current[loss.id]
        self.other_names[target] = "train_op"

    # --- graph statements ------------------------------------------------------------

    def _graph_statement(self, statement: ast.Assign, target: str, prefix: str) -> None:
        reads = set()
        for node in ast.walk(statement.value):
            if isinstance(node, ast.Name):
                if node.id in self.current:
                    reads.add(self.current[node.id])
                elif node.id in self.other_names:
                    raise NotConvertible(node, f"`{node.id}` ({self.other_names[node.id]}) used in the graph")
                elif node.id not in self.tf_modules:
                    self.graph_reads.append((node.id, statement.lineno))
        layers: list[Layer] = []
        layer_calls: set[int] = set()
        for call in _post_order(statement.value):
            layer = self._layer(call, prefix)
            if layer is not None:
                layers.append(layer)
                layer_calls.add(id(call))
        for call in _post_order(statement.value):
            if id(call) not in layer_calls and not (resolve(call.func, self.facts.imports) or "").startswith(
                    "tensorflow."):
                raise NotConvertible(call, f"`{self.facts.segment(call.func)}` builds part of the graph "
                                           "where this conversion cannot follow")
        renames: list[tuple[ast.AST, str]] = []
        self._check_tf_names(statement.value, renames, skip=frozenset(layer_calls))
        self._define(target, GraphStatement(statement, target, reads, layers, renames))

    def _check_tf_names(self, node: ast.AST, renames: list, skip: frozenset[int] = frozenset()) -> None:
        """Every `tf.` name the kept code uses must mean the same in TF2; the subtrees of
        the nodes in `skip` (layer calls, session runs) are checked where they are converted."""
        ignored = {id(inner) for outer in ast.walk(node) if id(outer) in skip for inner in ast.walk(outer)}
        for inner in ast.walk(node):
            if id(inner) not in ignored and isinstance(inner, ast.Call) and \
                    any(k.arg in tfapi.TF1_ONLY_KEYWORDS for k in inner.keywords) and \
                    (resolve(inner.func, self.facts.imports) or "").startswith("tensorflow"):
                raise NotConvertible(inner, "a TF1-only keyword (keep_dims, dimension, reduction_indices)")
        for inner in _outermost_attributes(node):
            if id(inner) in ignored:
                continue
            name = resolve(inner, self.facts.imports)
            if name is None or not name.startswith(("tensorflow", "tf_slim")):
                continue
            suffix = name[len("tensorflow."):] if name.startswith("tensorflow.") else None
            if suffix in tfapi.TF2_RENAMED:
                renames.append((inner, f"{self.tf}.{tfapi.TF2_RENAMED[suffix]}"))
            elif suffix in tfapi.TF2_SAME:
                if self.facts.segment(inner) != f"{self.tf}.{suffix}":
                    renames.append((inner, f"{self.tf}.{suffix}"))
            else:
                raise NotConvertible(inner, f"`{self.facts.segment(inner)}` has no checked TF2 equivalent")

    def _layer(self, call: ast.Call, prefix: str) -> Optional[Layer]:
        name = resolve(call.func, self.facts.imports)
        if name in tfapi.LAYERS and tfapi.LAYERS[name].training is not None:
            # dropout: only the model-code conversion follows its training flag
            raise NotConvertible(call, f"`{self.facts.segment(call.func)}` has no checked TF2 equivalent")
        if name in tfapi.LAYERS:
            return self._tf_layer(call, tfapi.LAYERS[name], prefix)
        site = next((s for s in self.facts.batch_norm_sites if s.node is call), None)
        if site is None:
            return None
        converted = batch_norm_to_keras(self.facts, site)
        if converted.manual:
            raise NotConvertible(call, converted.manual)
        family = site.spec.family  # type: ignore[union-attr]
        arguments = binding.named_arguments(call, tfapi.batch_norm_positions(family)) or {}
        reuse = self._reuse_mode(arguments.get("reuse")) or self.reuse
        scope = self._scope(prefix, arguments.get(tfapi.batch_norm_name_keyword(family)),
                            tfapi.BATCH_NORM_BASE_NAMES[family], call, reuse)
        weights = {}
        for weight, argument, default in tfapi.BATCH_NORM_WEIGHTS[family]:
            if self._literal(arguments.get(argument), default, call):
                weights[weight] = f"{scope}/{weight}"
        weights.update((w, f"{scope}/{w}") for w in ("moving_mean", "moving_variance"))
        flag = converted.training
        if flag not in ("True", "False") and not (flag in self.current and
                                                  isinstance(self.definitions[self.current[flag]], Placeholder)):
            raise NotConvertible(call, f"the training flag `{flag}` is neither a literal nor a placeholder")
        activation = None
        if family == "contrib" and arguments.get("activation_fn") is not None and \
                not is_none_literal(arguments["activation_fn"]):
            activation = self.facts.segment(arguments["activation_fn"])
            self._check_tf_names(arguments["activation_fn"], [])
        copied = tfapi.SLIM_BN_TO_KERAS if family == "contrib" else tfapi.TF_LAYERS_BN_TO_KERAS
        for argument, value in arguments.items():
            if argument in copied and not argument.endswith("_initializer"):
                self._check_tf_names(value, [])
        if converted.kept_initializers:
            raise NotConvertible(call, "an initializer with no checked Keras equivalent")
        constructor = converted.constructor.replace("tf.", f"{self.tf}.", 1)
        if self.keras == 2 and isinstance(arguments.get("fused"), ast.Constant) and \
                arguments["fused"].value is False:
            constructor = constructor[:-1] + (", " if constructor[-2] != "(" else "") + "fused=False)"
        self.script_.notes.extend((call.lineno, note) for note in converted.notes)  # type: ignore[union-attr]
        try:
            ranks = exact_bn.fused_ranks(family, arguments)
        except ValueError as error:
            raise NotConvertible(call, str(error)) from None
        exact = ranks is not None and self.keras == 3 and not self.stock_bn
        if exact:
            script = self.script_
            assert script is not None
            if script.exact_bn is None:
                script.exact_bn = fresh_name(exact_bn.CLASS_NAME, self.taken)
            constructor = exact_bn.constructor(script.exact_bn, ranks, constructor,  # type: ignore[arg-type]
                                               tfapi.KERAS_BATCH_NORM.replace("tf.", f"{self.tf}.", 1))
        elif scope not in self.owners and ranks is not None:
            # The per-layer difference, where the stock layer is kept (or Keras 2 cannot fuse 2-D input).
            for note, applies in ((tfapi.KERAS3_FUSED_NOTE, self.keras == 3),
                                  (tfapi.SLIM_FUSED_2D_NOTE, family == "contrib")):
                if applies:
                    self.script_.notes.append((call.lineno, note))  # type: ignore[union-attr]
        return self._add(scope, "BatchNormalization", constructor, call, arguments["inputs"], flag, activation,
                         weights, reuse)

    def _tf_layer(self, call: ast.Call, api: tfapi.LayerApi, prefix: str) -> Layer:
        arguments = binding.named_arguments(call, api.positions)
        if arguments is None or "inputs" not in arguments:
            raise NotConvertible(call, "arguments given through *args/**kwargs")
        reuse = (self._reuse_mode(arguments.get("reuse")) or self.reuse) if api.weights else None
        keywords = []
        notes: list[str] = []
        for argument, value in arguments.items():
            if argument in ("inputs", "reuse"):
                continue
            if argument in api.copied:
                self._check_tf_names(value, [])
                keywords.append(f"{argument}={self.facts.segment(value)}")
            elif argument in api.initializers and not is_none_literal(value):
                converted = keras_initializer(self.facts, value, notes)
                if notes:
                    raise NotConvertible(value, f"initializer `{self.facts.segment(value)}` has no checked "
                                                "Keras equivalent")
                keywords.append(f"{argument}={converted}")
            elif not is_none_literal(value):
                raise NotConvertible(value, f"`{argument}` has no Keras equivalent here")
        scope = self._scope(prefix, arguments.get("name"), api.base_name, call, reuse)
        weights = {}
        for weight in api.weights:
            if weight != "bias" or self._literal(arguments.get("use_bias"), True, call):
                weights[weight] = f"{scope}/{weight}"
        constructor = f"{self.tf}.keras.layers.{api.keras_class}({', '.join(keywords)})"
        return self._add(scope, api.keras_class, constructor, call, arguments["inputs"], None, None, weights, reuse)

    def _add(self, scope: str, keras_class: str, constructor: str, call: ast.Call, inputs: ast.expr,
             flag: Optional[str], activation: Optional[str], weights: dict[str, str], reuse: Optional[str]) -> Layer:
        """A new layer, or - where TF1 reused the scope's variables - a call of the layer
        that built them."""
        owner = self.owners.get(scope) if weights else None
        if owner is not None:
            if reuse is None:
                raise NotConvertible(call, f"`{scope}` is built a second time without `reuse` (TF1 fails there)")
            if (owner.keras_class, owner.constructor) != (keras_class, constructor):
                raise NotConvertible(call, f"`{scope}` is reused with arguments other than those it was built with")
            return Layer(owner.variable, scope, keras_class, constructor, call, inputs, flag, activation, weights)
        if reuse == "reuse" and weights:
            raise NotConvertible(call, f"`{scope}` is reused before it is built (TF1 fails there)")
        variable = fresh_name("".join(c if c.isalnum() else "_" for c in scope).lower(), self.taken)
        layer = Layer(variable, scope, keras_class, constructor, call, inputs, flag, activation, weights)
        self.layers.append(layer)
        if weights:
            self.owners[scope] = layer
        return layer

    def _scope(self, prefix: str, name: Optional[ast.expr], base: str, call: ast.Call,
               reuse: Optional[str] = None) -> str:
        """The variable scope TF1 gives a layer: its name, or its base name made unique."""
        if reuse and (name is None or is_none_literal(name)):
            raise NotConvertible(call, "a layer reused without a name: name it to share it")
        if name is not None and not is_none_literal(name):
            if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
                raise NotConvertible(name, "a layer name that is not a literal string")
            base = name.value
            key = f"{prefix}{base}"
            self.scope_counts[key] = self.scope_counts.get(key, 0) + 1
            return key
        key = f"{prefix}{base}"
        count = self.scope_counts.get(key, 0)
        self.scope_counts[key] = count + 1
        return key if count == 0 else f"{key}_{count}"

    @staticmethod
    def _literal(node: Optional[ast.expr], default: bool, call: ast.Call) -> bool:
        if node is None:
            return default
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        raise NotConvertible(call, "center/scale/use_bias that is not a literal True or False")

    # --- flags, names, imports ---------------------------------------------------------

    def _flags(self, script: Script) -> None:
        """A boolean placeholder read only as layers' training argument becomes a Python bool."""
        flags = {layer.flag for layer in self.layers if layer.flag not in (None, "True", "False")}
        for name in flags:
            placeholder = self.definitions[self.current[name]]
            assert isinstance(placeholder, Placeholder)
            index = self.current[name]
            users = [d for d in self.definitions if isinstance(d, GraphStatement) and index in d.reads]
            for user in users:
                mentions = [n for n in ast.walk(user.statement.value) if isinstance(n, ast.Name) and n.id == name]
                as_flag = sum(1 for layer in user.layers if layer.flag == name)
                if len(mentions) != as_flag:
                    raise NotConvertible(user.statement, f"`{name}` is used as a tensor, not only as a training flag")
                user.reads.discard(index)
            if placeholder.default is not None and not (isinstance(placeholder.default, ast.Constant) and
                                                        isinstance(placeholder.default.value, bool)):
                raise NotConvertible(placeholder.statement, "a training flag whose default is not True or False")
            placeholder.is_flag = True

    def _mentions_graph(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and (n.id in self.current or n.id in self.other_names or
                                                n.id in self.tf_modules)
                   for n in ast.walk(node))

    def _imports(self, script: Script) -> None:
        for statement in ast.walk(self.facts.tree):
            if not isinstance(statement, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(statement, ast.Import) and len(statement.names) == 1:
                alias = statement.names[0]
                if alias.name == "tensorflow.compat.v1" and alias.asname:
                    script.imports.append((statement, f"import tensorflow as {alias.asname}"))
                    continue
            bound = [a.asname or a.name.split(".")[0] for a in statement.names]
            modules = [self.facts.imports.names.get(name, "") for name in bound]
            if all(m.startswith(("tf_slim", "tensorflow.contrib")) for m in modules):
                script.imports.append((statement, None))  # dropped if nothing reads it after the upgrade
            elif any(m.startswith(("tf_slim", "tensorflow.contrib")) for m in modules):
                raise NotConvertible(statement, "an import of slim together with other names")


class _SessionReader:
    """The session block: every `sess.run` becomes a call of a step function."""

    def __init__(self, recogniser: _Recogniser, script: Script) -> None:
        self.recogniser = recogniser
        self.script = script

    def read(self) -> None:
        script, recogniser = self.script, self.recogniser
        session_call = next(item.context_expr for item in script.session.items)
        for keyword_ in session_call.keywords:  # type: ignore[attr-defined]
            if keyword_.arg == "graph" and not (isinstance(keyword_.value, ast.Name) and script.graph_name and
                                                keyword_.value.id == script.graph_name):
                raise NotConvertible(session_call, "a session on a graph other than the one it is built in")
        if len(script.session.items) != 1:
            raise NotConvertible(script.session, "a `with` that opens more than the session")
        runs: dict[int, ast.Call] = {}
        for node in ast.walk(script.session):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == script.session_name:
                if node.func.attr != "run":
                    raise NotConvertible(node, f"`{script.session_name}.{node.func.attr}`: only `run` is converted")
                runs[id(node)] = node
        saves = self._saves()
        inside_runs = {id(n) for call in runs.values() for n in ast.walk(call)} | \
            {id(n) for call, _, _ in saves for part in (call.func, *call.args[:1]) for n in ast.walk(part)}
        for node in ast.walk(script.session):
            if id(node) in inside_runs or not isinstance(node, ast.Name):
                continue
            if node.id == script.session_name and node is not script.session.items[0].optional_vars:
                raise NotConvertible(node, f"`{node.id}` used for more than `run`")
            if node.id in recogniser.current or node.id in recogniser.other_names:
                raise NotConvertible(node, f"the graph's `{node.id}` used outside `{script.session_name}.run`")
        for body_statement in script.session.body:
            recogniser._check_tf_names(body_statement, [], skip=frozenset(runs))
        script.saves = saves
        statements = {id(call): statement for statement in ast.walk(script.session)
                      if isinstance(statement, ast.stmt) for call in _direct_calls(statement) if id(call) in runs}
        for call in sorted(runs.values(), key=lambda c: (c.lineno, c.col_offset)):
            self._run(call, statements[id(call)])

    def _saves(self) -> list[tuple[ast.Call, ast.expr, Optional[ast.expr]]]:
        """`saver.save(sess, path[, global_step=step])`: the checkpoint written to the same path."""
        script, kinds = self.script, self.recogniser.other_names
        saves = []
        for node in ast.walk(script.session):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and
                    isinstance(node.func.value, ast.Name) and kinds.get(node.func.value.id) == "saver"):
                continue
            if node.func.attr != "save":
                raise NotConvertible(node, f"`{self.recogniser.facts.segment(node.func)}`: only `save` is converted "
                                           "(restore a converted checkpoint with `checkpoint.read`)")
            arguments = binding.named_arguments(node, tfapi.SAVER_SAVE_POSITIONS)
            if arguments is None or set(arguments) - {"sess", "save_path", "global_step", "write_meta_graph"} or \
                    not isinstance(arguments.get("sess"), ast.Name) or \
                    arguments["sess"].id != script.session_name or "save_path" not in arguments:  # type: ignore
                raise NotConvertible(node, "a `save` other than `saver.save(sess, path[, global_step=step])`")
            for value in arguments.values():
                if not _side_effect_free(value):
                    raise NotConvertible(value, "a `save` argument with side effects")
            script.notes.append((node.lineno, "`checkpoint.write` writes the layers' weights, without the optimizer's "
                                              "slots, a .meta graph or the `checkpoint` file "
                                              "`tf.train.latest_checkpoint` reads"))
            saves.append((node, arguments["save_path"], arguments.get("global_step")))
        return saves

    def _run(self, call: ast.Call, statement: ast.stmt) -> None:
        script, recogniser = self.script, self.recogniser
        arguments = binding.named_arguments(call, ("fetches", "feed_dict"))
        if arguments is None or set(arguments) - {"fetches", "feed_dict"}:
            raise NotConvertible(call, "`run` with options or *args")
        fetches = arguments.get("fetches")
        if self._initializes(fetches):
            if not isinstance(statement, ast.Expr) or statement.value is not call:
                raise NotConvertible(call, "the variable initializer's result is used")
            # Keras layers initialise once, when built: only an initialisation before
            # everything else means the same.
            if script.runs or script.removed_in_session or statement not in script.session.body:
                raise NotConvertible(call, "variables initialised again, or inside a loop or branch: "
                                           "TF2 layers initialise once")
            script.removed_in_session.append(statement)
            return
        if isinstance(fetches, ast.Name):
            names, shape = [fetches], "single"
        elif isinstance(fetches, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Name) for e in fetches.elts):
            names, shape = list(fetches.elts), "list" if isinstance(fetches, ast.List) else "tuple"
        else:
            raise NotConvertible(call, "fetches other than a name or a list of names")
        fetched: list[str] = []
        trains = False
        for name in names:
            kind = recogniser.other_names.get(name.id)  # type: ignore[attr-defined]
            if kind == "train_op":
                trains = True
                fetched.append("")
            elif name.id in recogniser.current:  # type: ignore[attr-defined]
                fetched.append(name.id)  # type: ignore[attr-defined]
            else:
                raise NotConvertible(name, f"`{self.recogniser.facts.segment(name)}` is not a tensor of the graph")
        feeds = self._feeds(arguments.get("feed_dict"), call)
        training = self._training(feeds, call)
        run = Run(call, statement, fetched, shape, {k: v for k, v in feeds.items()
                                                    if not self._definition(k).is_flag}, trains, training)
        wanted = {script.final[name] for name in fetched if name}
        if trains:
            wanted.add(script.loss)  # type: ignore[arg-type]
        run.needed = self._closure(wanted)
        for placeholder in script.placeholders(run.needed):
            if placeholder.name not in run.feeds:
                raise NotConvertible(call, f"`{placeholder.name}` is needed but not fed")
        for name, value in list(run.feeds.items()):
            if script.final[name] not in run.needed:
                if not _side_effect_free(value):
                    raise NotConvertible(value, f"the unused feed of `{name}` may have side effects")
                del run.feeds[name]
        def updating(layer: Layer) -> bool:
            return layer.keras_class == "BatchNormalization" and \
                (layer.flag == "True" or (layer.flag not in (None, "False") and bool(training)))

        computed = [layer for s in script.statements(run.needed) for layer in s.layers if updating(layer)]
        if not trains and computed:
            raise NotConvertible(call, "a run without the train op in training mode: TF1 did not update "
                                       "the moving statistics there, Keras would")
        if trains:
            # TF1's train op ran every update op in UPDATE_OPS; the TF2 step updates what it computes.
            for layer in (layer for d in script.definitions if isinstance(d, GraphStatement)
                          for layer in d.layers if updating(layer)):
                if all(layer is not other for other in computed):
                    raise NotConvertible(layer.call, "a batch norm in training mode that the loss does not need: "
                                                     "TF1's train op updated its statistics too")
            variables = [layer.variable for layer in computed]
            twice = next((v for v in variables if variables.count(v) > 1), None)
            if twice:
                raise NotConvertible(call, f"the batch norm `{twice}` runs twice in training mode in one step: "
                                           "TF1 ran its two updates in no fixed order")
        script.runs.append(run)

    def _definition(self, name: str) -> Union[GraphStatement, Placeholder]:
        return self.script.definitions[self.script.final[name]]

    def _initializes(self, fetches: Optional[ast.expr]) -> bool:
        if isinstance(fetches, ast.Name):
            return self.recogniser.other_names.get(fetches.id) == "initializer"
        return isinstance(fetches, ast.Call) and \
            resolve(fetches.func, self.recogniser.facts.imports) in tfapi.VARIABLE_INITIALIZERS

    def _feeds(self, feed: Optional[ast.expr], call: ast.Call) -> dict[str, ast.expr]:
        if feed is None:
            return {}
        facts = self.recogniser.facts
        if not isinstance(feed, ast.Dict):
            raise NotConvertible(call, "a feed_dict that is not a literal {placeholder: value, ...}")
        feeds = {}
        for key, value in zip(feed.keys, feed.values):
            if isinstance(key, ast.Call) and facts.qualname(key.func, facts.module) in tfapi.LEARNING_PHASE_FUNCTIONS:
                continue  # feeds only Keras layers, and the converted layers take none
            if not isinstance(key, ast.Name):
                raise NotConvertible(call, "a feed_dict that is not a literal {placeholder: value, ...}")
            name = key.id  # type: ignore[union-attr]
            if name not in self.script.final or not isinstance(self._definition(name), Placeholder):
                raise NotConvertible(key, f"`{name}` is fed but is not a placeholder")
            feeds[name] = value
        return feeds

    def _training(self, feeds: dict[str, ast.expr], call: ast.Call) -> Optional[bool]:
        values = set()
        for definition in self.script.definitions:
            if isinstance(definition, Placeholder) and definition.is_flag:
                value = feeds.get(definition.name, definition.default)
                if value is None:
                    raise NotConvertible(call, f"the training flag `{definition.name}` is not fed")
                if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                    raise NotConvertible(value, "a training flag fed something other than True or False")
                values.add(value.value)
        if len(values) > 1:
            raise NotConvertible(call, "two training flags fed different values")
        return values.pop() if values else None

    def _closure(self, wanted: set[int]) -> set[int]:
        needed, todo = set(), list(wanted)
        while todo:
            index = todo.pop()
            if index in needed:
                continue
            needed.add(index)
            definition = self.script.definitions[index]
            if isinstance(definition, GraphStatement):
                todo.extend(definition.reads)
        return needed


def names_used(tree: ast.Module) -> set[str]:
    """Every name the module reads or binds, and its functions' and classes' names: what a
    name written into it must not be (`fresh_name`)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | \
        {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def fresh_name(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ...: the first the program does not use yet (now taken)."""
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"layer_{name}"
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    taken.add(candidate)
    return candidate


def _direct_calls(statement: ast.stmt) -> list[ast.Call]:
    """Calls of a statement that are not inside a nested statement."""
    found: list[ast.Call] = []
    todo: list[ast.AST] = [child for child in ast.iter_child_nodes(statement) if not isinstance(child, ast.stmt)]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Call):
            found.append(node)
        todo.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.stmt))
    return found


def _post_order(node: ast.AST) -> Iterator[ast.Call]:
    """Calls in the order Python evaluates them: arguments before the call."""
    for child in ast.iter_child_nodes(node):
        yield from _post_order(child)
    if isinstance(node, ast.Call):
        yield node


def _outermost_attributes(node: ast.AST) -> Iterator[ast.Attribute]:
    inner = {id(n.value) for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and id(n) not in inner:
            yield n


def _side_effect_free(node: ast.expr) -> bool:
    return all(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Slice, ast.Load,
                              ast.Tuple, ast.UnaryOp, ast.BinOp, ast.operator, ast.unaryop))
               for n in ast.walk(node))
