"""TF1 model code as Keras 3 models: the model-function half of `migrate-bn upgrade`.

A model function builds layers with `tf.layers` or contrib/slim batch norm on its first
parameter, under `variable_scope`s, in Python loops and branches on its configuration,
with a training flag (a parameter passed as `training=`/`is_training=`). It becomes a
`tf.keras.Model` subclass whose layers are built once in `__init__` (the same loops,
branches and scopes, keeping only what builds layers) and applied in `call(inputs,
training=False)` (the function's body, each layer call replaced by the layer built for
its scope). Each layer is an attribute named by the TF1 variable scope that held its
variables (`resnet/block0/conv2d`), so `ckpt-convert` maps a TF1 checkpoint onto the
model by name, whatever the loops made of the scopes.

What the conversion cannot follow raises script.NotConvertible with its line: the whole
module is then left as it was with the reason. The function's comments are not kept (the
class is written from the syntax tree).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Union

from . import (binding, exact_bn, model_code_decorators, model_code_flags, model_code_kernels, model_code_layers,
               model_code_shared_bn, model_code_slim_scopes, model_code_statements, model_code_variables, model_offer,
               tfapi)
from . import model_code_always, model_code_scopes
from . import model_code_activations, model_code_layer_norm
from .facts import BatchNormSite, ModuleFacts
from .keras_mapping import batch_norm_to_keras, is_initializer_call, is_none_literal, keras_initializer
from .model_code_calls import calls_of
from .model_code_statements import mentions_tensor
from .names import resolve
from .script import NotConvertible, fresh_name, names_used

SCOPED_BASE = "ScopedModel"
# A layer of a converted model is the attribute `tf1/<its TF1 variable scope>`.
SCOPE_ATTRIBUTE_PREFIX = "tf1/"
# Names the converted classes use, besides the function's own.
SCOPE_COUNTS = "scopes"
_PREFIX = "prefix"
_SETTINGS = "settings"

_BASE = '''\
class {name}({tf}.keras.Model):
    """A Keras model whose layers are attributes named by the TF1 variable scopes that held
    their variables (written by `migrate-bn upgrade`): `migrate-bn ckpt-convert` maps a
    TF1 checkpoint onto it by those names. ("{prefix}" keeps them apart from Keras's own
    attributes, such as `output` or `name`.)"""

    def add_scoped(self, scope, layer):
        if not hasattr(self, "{prefix}" + scope):  # a scope TF1 reused: one layer
            setattr(self, "{prefix}" + scope, layer)

    def scoped(self, inputs, scope, **kwargs):
        """The layer built for `scope`, applied (the inputs come first: they may build
        layers of their own, and unnamed scopes are counted in the order they are built)."""
        return getattr(self, "{prefix}" + scope)(inputs, **kwargs)

    def add_normalized(self, scope, layer, normalizer_scope, normalizer):
        """slim's conv2d/fully_connected with a `normalizer_fn`: the layer, and its batch
        norm in the variable scope slim opened inside the layer's."""
        self.add_scoped(scope, layer)
        self.add_scoped(scope + "/" + normalizer_scope, normalizer)

    def scoped_normalized(self, inputs, scope, normalizer_scope, **kwargs):
        return self.scoped(self.scoped(inputs, scope), scope + "/" + normalizer_scope, **kwargs)

    @staticmethod
    def unique_scope(counts, prefix, base):
        """TF1's scope for an unnamed layer: `base`, `base_1`, ... under `prefix`."""
        number = counts.get(prefix + base, 0)
        counts[prefix + base] = number + 1
        return prefix + base + ("_%d" % number if number else "")
'''


@dataclass
class LayerCall:
    """One layer call of a model function as the converter rewrites it (here and in the
    model_code_*.py modules that make layers): the layer built in `__init__` under its
    scope, and applied in `call` to its inputs."""

    call: ast.Call
    key: ast.expr  # the TF1 scope of its variables, as an expression of the loops' names
    constructor: str
    inputs: ast.expr
    training: Optional[ast.expr]  # the flag, for layers that take one
    activation: Optional[str] = None
    # slim's normalizer_fn: the batch norm's constructor and its scope inside the layer's.
    normalizer: Optional[str] = None
    normalizer_scope: str = "BatchNorm"


@dataclass
class ConvertedModel:
    function: ast.FunctionDef
    class_name: str
    text: str
    notes: list[tuple[int, str]] = field(default_factory=list)
    uses_exact_bn: bool = False
    uses_zero_debias: bool = False  # the exact class must take zero_debias_moving_mean
    uses_always_training: bool = False  # ... and always_training (model_code_always)
    flag: Optional[str] = None  # the function's training-flag parameter (the equivalence check passes it)
    mode: bool = False  # the flag is an Estimator mode compared with TRAIN
    variables: list[str] = field(default_factory=list)  # names of its tf.get_variable weights (ckpt-convert)
    dropout: bool = False  # a layer draws a random mask in training (the check runs it at rate 0)
    python_flag: bool = False  # TF1 needs its flag as a Python bool (`trainable=` the flag: model_code_flags)
    module_flag: bool = False  # the flag is a module-level bool placeholder, not a parameter (model_code_flags)
    transposed: list[str] = field(default_factory=list)  # its transposed convolutions' scopes (model_code_kernels)
    uses_layer_norm: bool = False  # a layer is contrib's layer_norm (model_code_layer_norm)


def model_functions(facts: ModuleFacts) -> list[ast.FunctionDef]:
    """The module-level functions that build layers themselves, or through another such
    function they call."""
    functions = [node for node in facts.tree.body if isinstance(node, ast.FunctionDef)]
    found = {node.name for node in functions if any(layer_kind(facts, call) for call in ast.walk(node))}
    if found:  # beside layers, functions that create variables themselves (not the factories)
        made = model_code_variables.factories(facts)
        found |= {node.name for node in functions if model_code_variables.creates_variables(facts, node, made)}
    # Training code that calls a model (a train op, a session) is not model code itself.
    training = {id(node) for op in facts.train_ops for node in [op.node]} | \
        {id(run.node) for run in facts.session_runs}
    changed = True
    while changed:
        changed = False
        for node in functions:
            if node.name not in found and not any(id(inner) in training for inner in ast.walk(node)) and \
                    any(isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and
                        call.func.id in found for call in ast.walk(node)):
                found.add(node.name)
                changed = True
    return [node for node in functions if node.name in found]


def layer_kind(facts: ModuleFacts, call: ast.AST) -> Optional[str]:
    """What kind of layer a node calls, as the conversion builds it: "layer" (tf.layers),
    "slim", "batch_norm", "keras"; None for anything else."""
    if not isinstance(call, ast.Call):
        return None
    name = resolve(call.func, facts.imports)
    if model_code_layers.layer_api(facts, call) is not None:
        return "layer"
    if name is not None and tfapi.canonical(name) in tfapi.SLIM_LAYERS:
        return "slim"
    if any(site.node is call and site.how == "call" for site in facts.batch_norm_sites):
        return "batch_norm"
    if model_code_layers.keras_layer_class(facts, call) is not None:
        return "keras"
    if model_code_layer_norm.mapping(facts, call) is not None:
        return "layer_norm"
    return None


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Model"


class FunctionConverter:
    """One model function as a Keras model class (`convert`), or a helper model function
    it calls as the class's two methods (`methods`). The model_code_*.py modules each
    convert one kind of statement or call, reading and updating the converter's state."""

    def __init__(self, facts: ModuleFacts, function: ast.FunctionDef, tf: str, taken: set[str],
                 stock_bn: bool, exact_name: str, base_name: str, layer_norm_name: str,
                 helpers: Optional[dict[str, ast.FunctionDef]] = None, helper: bool = False,
                 visiting: frozenset = frozenset()) -> None:
        self.facts = facts
        self.visiting = visiting
        # Model functions this one calls: each becomes a pair of methods of the class
        # (`build_<name>` in __init__, `apply_<name>` in call), replayed under the caller's scope.
        self.helpers = helpers or {}
        self.helper = helper
        # The module's other functions: they build no layer, so calling them is tensor code.
        self.plain_functions = {node.name for node in facts.tree.body if isinstance(node, ast.FunctionDef)
                                and node.name not in self.helpers}
        self.called: list[str] = []
        self.counted_lists: set[str] = set()  # lists of tensors whose length `__init__` keeps (model_code_statements)
        self.function = function
        self.tf = tf
        self.taken = taken
        self.stock_bn = stock_bn
        self.exact_name = exact_name
        self.base_name = base_name
        self.layer_norm_name = layer_norm_name  # the class model_code_layer_norm writes, when a layer needs it
        self.notes: list[tuple[int, str]] = []
        self.uses_exact_bn = False
        self.uses_zero_debias = False
        self.uses_always_training = False
        self.dropout = False
        self.python_flag = False  # `trainable=` the flag: TF1 built it with a Python bool (model_code_flags)
        self.module_flag = False  # the flag is a module-level bool placeholder (model_code_flags)
        self.uses_layer_norm = False  # contrib's layer_norm, as the class model_code_layer_norm writes
        arguments = function.args
        if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.posonlyargs:
            raise NotConvertible(function, "a model function with *args, **kwargs or keyword-only parameters")
        self.parameters = [a.arg for a in arguments.args]
        if not self.parameters:
            raise NotConvertible(function, "a model function without an input parameter")
        defaults = [None] * (len(self.parameters) - len(arguments.defaults)) + list(arguments.defaults)
        self.defaults = dict(zip(self.parameters, defaults))
        self.inputs = self.parameters[0]
        self.mode = self._mode_parameter()
        # Locals bound to `mode == ModeKeys.TRAIN`: the flag under another name.
        self.flag_aliases = {target.id for node in ast.walk(function) if isinstance(node, ast.Assign)
                             and self.is_mode_test(node.value) for target in node.targets
                             if isinstance(target, ast.Name)}
        # tf.cond(flag, lambda: <training batch norm>, lambda: <inference one>): one layer each
        self.cond_pairs = model_code_shared_bn.cond_pairs(self)
        self.pair_members = model_code_shared_bn.member_ids(self.cond_pairs)
        self.flag = self._flag_parameter()
        self.settings = [p for p in self.parameters[1:] if p != self.flag]
        self.tensors = {self.inputs}
        self.layers: list[LayerCall] = []
        self.variable_leaves: set[str] = set()  # model_code_variables: its own variables' names
        self.kernel_layers: list[tuple[str, Optional[list[str]], LayerCall]] = []  # model_code_kernels: class, scope
        self.local_initializers = model_code_layers.local_initializers(facts, function)
        self.discarded = model_code_always.discarded_calls(function)  # results nothing reads
        self.arg_scopes: list = []  # the slim arg scopes open where the conversion is
        self.scope_targets: set[str] = set()  # locals holding a slim-style scope's name (model_code_slim_scopes)

    # --- what the function is made of ------------------------------------------------

    def is_mode_test(self, node: ast.AST) -> bool:
        """`mode == tf.estimator.ModeKeys.TRAIN` (any spelling of ModeKeys)."""
        return isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq) and \
            isinstance(node.left, ast.Name) and node.left.id in self.parameters[1:] and \
            isinstance(node.comparators[0], ast.Attribute) and node.comparators[0].attr == "TRAIN" and \
            isinstance(node.comparators[0].value, ast.Attribute) and node.comparators[0].value.attr == "ModeKeys"

    def _mode_parameter(self) -> Optional[str]:
        """The Estimator-style `mode` parameter whose comparison with TRAIN is the flag; every
        other use of it is refused (in Keras the model knows only `training`)."""
        tests = [node for node in ast.walk(self.function) if self.is_mode_test(node)]
        if not tests:
            return None
        mode = tests[0].left.id  # type: ignore[attr-defined]
        inside = {id(node.left) for node in tests}  # type: ignore[attr-defined]
        other = next((node for node in ast.walk(self.function) if isinstance(node, ast.Name) and node.id == mode
                      and id(node) not in inside), None)
        if other is not None:
            raise NotConvertible(other, f"`{mode}` used for more than `{mode} == ModeKeys.TRAIN`")
        return mode

    def _flag_parameter(self) -> Optional[str]:
        """The parameter every batch norm's training argument names (at most one); the
        batch norms of the function are those it calls and those slim layers normalize with."""
        flags = set()
        inside = model_code_statements.own_nodes(self.function)  # not its nested functions'
        for site in self.facts.batch_norm_sites:
            if id(site.node) not in inside or site.how not in ("call", "normalizer_fn") or \
                    id(site.node) in self.pair_members:
                continue
            value = site.flag
            if self.mode is not None and (self.is_mode_test(value) or  # type: ignore[arg-type]
                                          (isinstance(value, ast.Name) and value.id in self.flag_aliases)):
                flags.add(self.mode)
            elif isinstance(value, ast.Name) and value.id in self.parameters:
                flags.add(value.id)
            elif isinstance(value, ast.Name) and not self.helper and \
                    model_code_flags.module_flag(self.facts, self.function, value.id):
                flags.add(value.id)  # a module-level bool placeholder: `training` as a parameter is
                self.module_flag = True
            elif value is not None and not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                raise NotConvertible(site.node, "a training flag other than a parameter of the model function "
                                                "or a literal")
        flags |= model_code_layers.layer_flags(self.facts, self.function, self.parameters)  # dropout's
        flags |= {model_code_shared_bn.pair_flag(self, pair) for pair in self.cond_pairs.values()}
        for call in ast.walk(self.function):  # the flag a helper is passed as its own
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in self.helpers
                    and self.helpers[call.func.id] is not self.function):
                continue
            helper = self.helpers[call.func.id]
            helper_flag = self._helper_flag(helper)
            bound = binding.named_arguments(call, tuple(a.arg for a in helper.args.args)) or {}
            value = bound.get(helper_flag) if helper_flag else None
            if isinstance(value, ast.Name) and value.id in self.parameters:
                flags.add(value.id)
        if len(flags) > 1:
            raise NotConvertible(self.function, f"two training flags ({', '.join(sorted(flags))})")
        return flags.pop() if flags else None

    def _helper_flag(self, helper: ast.FunctionDef) -> Optional[str]:
        """The training flag parameter of a helper model function (helpers calling each
        other in a cycle are refused: TF1 would never have finished building them)."""
        if helper.name in self.visiting:
            raise NotConvertible(helper, f"model functions that call each other in a cycle (`{helper.name}`)")
        return FunctionConverter(self.facts, helper, self.tf, set(), self.stock_bn, self.exact_name, self.base_name,
                                 self.layer_norm_name, self.helpers, helper=True,
                                 visiting=self.visiting | {self.function.name}).flag

    # --- the class ------------------------------------------------------------------

    def methods(self) -> tuple[str, list[str]]:
        """A helper's two methods: what its layers are built with, and how they are applied."""
        init_body, call_body = self._block(self.function.body, [ast.Name(_PREFIX)], top=True)
        settings = ", ".join(p if self.defaults[p] is None else f"{p}={ast.unparse(self.defaults[p])}"
                             for p in self.settings)
        name = self.function.name
        lines = [f"    def build_{name}(self, {SCOPE_COUNTS}, {_PREFIX}{', ' if settings else ''}{settings}):"]
        lines.extend(_indented(init_body, 2))
        lines.append("")
        applied = ", ".join(p if self.defaults[p] is None else f"{p}={ast.unparse(self.defaults[p])}"
                            for p in self.parameters)  # as the function had them: every call binds
        lines.append(f"    def apply_{name}(self, {SCOPE_COUNTS}, {_PREFIX}, {applied}):")
        lines.extend(_indented(call_body, 2))
        return "\n".join(lines) + "\n", self.called

    def convert(self) -> ConvertedModel:
        init_body, call_body = self._block(self.function.body, [], top=True)
        name = fresh_name(_camel(self.function.name), self.taken)
        signature = ", ".join(p if self.defaults[p] is None else f"{p}={ast.unparse(self.defaults[p])}"
                              for p in self.settings)
        doc = ast.get_docstring(self.function)
        lines = [f"class {name}({self.base_name}):"]
        lines.append(f'    """{doc.strip()}"""' if doc and '"""' not in doc else
                     f'    """The Keras model of `{self.function.name}` (converted from TF1 by migrate-bn)."""')
        lines.append("")
        lines.append(f"    def __init__(self{', ' if signature else ''}{signature}, **kwargs):")
        lines.append("        super().__init__(**kwargs)")
        if self.settings:
            lines.append(f"        self.{_SETTINGS} = dict({', '.join(f'{p}={p}' for p in self.settings)})")
        lines.append(f"        {SCOPE_COUNTS} = {{}}")
        lines.extend(_indented(init_body, 2))
        lines.append("")
        lines.append(f"    def call(self, {self.inputs}, training=False):")
        step_line = len(lines)
        if self.settings:
            values = ", ".join(f"self.{_SETTINGS}[{p!r}]" for p in self.settings)
            lines.append(f"        {', '.join(self.settings)} = {values}")
        if self.flag is not None and self.flag not in ("training", self.mode):
            lines.append(f"        {self.flag} = training")
        lines.append(f"        {SCOPE_COUNTS} = {{}}")
        lines.extend(_indented(call_body, 2))
        done: set[str] = set()
        todo = list(self.called)
        while todo:  # the helpers it calls, and theirs
            helper = todo.pop(0)
            if helper in done:
                continue
            done.add(helper)
            converter = FunctionConverter(self.facts, self.helpers[helper], self.tf, self.taken, self.stock_bn,
                                          self.exact_name, self.base_name, self.layer_norm_name, self.helpers,
                                          helper=True)
            text, called = converter.methods()
            lines.append("")
            lines.append(text.rstrip("\n"))
            self.notes.extend(converter.notes)
            self.uses_exact_bn |= converter.uses_exact_bn
            self.uses_zero_debias |= converter.uses_zero_debias
            self.uses_always_training |= converter.uses_always_training
            self.variable_leaves |= converter.variable_leaves
            self.dropout |= converter.dropout
            self.python_flag |= converter.python_flag
            self.uses_layer_norm |= converter.uses_layer_norm
            self.kernel_layers.extend(converter.kernel_layers)
            todo.extend(called)
        if self.uses_always_training:
            lines.insert(step_line, model_code_always.STEP_STATEMENT)
        shared = model_code_variables.clash(self.variable_leaves,
                                            model_code_variables.layer_leaves(self.facts, self.function, self.helpers))
        if shared:
            raise NotConvertible(self.function, f"a variable named `{shared}` as a layer of the model "
                                                "names its weights: ckpt-convert could not tell them apart")
        transposed = model_code_kernels.transposed_scopes([(cls, pattern) for cls, pattern, _ in self.kernel_layers])
        if transposed is None:  # ckpt-convert falls back to the bias to tell them apart
            for cls, _, layer in self.kernel_layers:
                model_code_layers.refuse_biasless_transpose(layer.call, cls, model_code_kernels.use_bias(layer))
        return ConvertedModel(self.function, name, "\n".join(lines) + "\n", self.notes, self.uses_exact_bn,
                              uses_zero_debias=self.uses_zero_debias, flag=self.flag,
                              uses_always_training=self.uses_always_training,
                              mode=self.mode is not None and self.flag == self.mode,
                              variables=sorted(self.variable_leaves), dropout=self.dropout,
                              python_flag=self.python_flag, module_flag=self.module_flag,
                              transposed=transposed or [], uses_layer_norm=self.uses_layer_norm)

    def _block(self, body: list[ast.stmt], prefix: list[Union[str, ast.expr]],
               top: bool = False) -> tuple[list[ast.stmt], list[ast.stmt]]:
        """The statements of `body` for `__init__` (building layers) and for `call`."""
        init: list[ast.stmt] = []
        call: list[ast.stmt] = []
        for index, statement in enumerate(body):
            if top and index == 0 and isinstance(statement, ast.Expr) and \
                    isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str):
                continue  # the docstring: the class's
            if isinstance(statement, ast.With):
                opened = model_code_layers.opened_arg_scopes(self.facts, self.function, statement)
                inner_prefix = prefix if opened else \
                    model_code_slim_scopes.enter(self, statement, prefix, init, call) or self._scope(statement, prefix)
                self.arg_scopes.extend(opened)
                try:
                    inner_init, inner_call = self._block(statement.body, inner_prefix)
                finally:
                    del self.arg_scopes[len(self.arg_scopes) - len(opened):]
                init.extend(inner_init)
                call.extend(inner_call)
            elif isinstance(statement, ast.For):
                self.configuration_only(statement.iter, model_code_statements.loop_refusal(self, statement))
                if statement.orelse:
                    raise NotConvertible(statement, "a `for` loop with `else`")
                inner_init, inner_call = self._block(statement.body, prefix)
                if inner_init:
                    init.append(ast.For(statement.target, statement.iter, inner_init, [], None, lineno=statement.lineno))
                call.append(ast.For(statement.target, statement.iter, inner_call or [ast.Pass()], [], None,
                                    lineno=statement.lineno))
            elif isinstance(statement, ast.If):
                self.configuration_only(statement.test, "a branch on a tensor")
                body_init, body_call = self._block(statement.body, prefix)
                else_init, else_call = self._block(statement.orelse, prefix)
                if (body_init or else_init) and _mentions(statement.test, {self.flag} | self.flag_aliases):
                    raise NotConvertible(statement, "layers built in a branch on the training flag")
                if body_init or else_init:
                    init.append(ast.If(statement.test, body_init or [ast.Pass()], else_init))
                call.append(ast.If(statement.test, body_call or [ast.Pass()], else_call))
            elif isinstance(statement, ast.Assign):
                self._assignment(statement, prefix, init, call)
            elif isinstance(statement, ast.Return):
                if statement.value is not None:
                    call.append(ast.Return(self.tensor_expression(statement.value, prefix, init)))
                else:
                    call.append(statement)
            elif isinstance(statement, ast.Pass):
                continue
            elif _is_print(statement):
                if any(layer_kind(self.facts, node) for node in ast.walk(statement)):
                    raise NotConvertible(statement, "a layer built inside a `print`")
                call.append(self.tf2_names(copy.deepcopy(statement)))  # type: ignore[arg-type]
            elif model_code_statements.augmented(self, statement, prefix, init, call):
                continue  # `x += layer(...)` on a tensor, `depth += 1` on configuration
            elif model_code_statements.follow(self, statement, init, call):
                continue  # del, assert, raise, a string, set_shape: kept where they act as in TF1
            else:
                raise NotConvertible(statement, "a statement a model function conversion does not follow")
        return init, call

    def _scope(self, statement: ast.With, prefix: list) -> list:
        if len(statement.items) != 1 or not isinstance(statement.items[0].context_expr, ast.Call) or \
                not _unused_target(statement.items[0].optional_vars, self.function):
            raise NotConvertible(statement, "a `with` other than `variable_scope(...)` or `name_scope(...)`")
        entered = statement.items[0].context_expr
        name = resolve(entered.func, self.facts.imports)
        if name == tfapi.NAME_SCOPE:
            return prefix  # names ops, not variables
        if name != tfapi.VARIABLE_SCOPE:
            raise NotConvertible(statement, "a `with` other than `variable_scope(...)` or `name_scope(...)`")
        if len(entered.args) != 1 or any(k.arg != "reuse" for k in entered.keywords):
            raise NotConvertible(statement, "a variable_scope other than `variable_scope(name[, reuse=...])`")
        self.configuration_only(entered.args[0], "a variable scope named by a tensor")
        return prefix + [entered.args[0], "/"]

    def configuration_only(self, node: ast.expr, what: str) -> None:
        """Refuse `node` (`what`, for the reason) when it is computed from a tensor or a
        layer: `__init__` builds the layers before any tensor exists."""
        if mentions_tensor(self, node) or any(layer_kind(self.facts, n) for n in ast.walk(node)):
            raise NotConvertible(node, model_code_statements.static_shape_reason(self, node, what))

    def _assignment(self, statement: ast.Assign, prefix: list, init: list, call: list) -> None:
        variable = model_code_variables.variable_call(self, statement.value)
        if variable is not None:  # the model's own variable
            model_code_variables.convert_assignment(self, statement, variable, prefix, init, call)
            return
        targets = [n.id for t in statement.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        flags = ({self.flag} if self.flag is not None else set()) | self.flag_aliases
        is_tensor = mentions_tensor(self, statement.value) or \
            any(layer_kind(self.facts, n) for n in ast.walk(statement.value)) or _mentions(statement.value, flags)
        if is_tensor:
            value = self.tensor_expression(statement.value, prefix, init)
            call.append(ast.Assign(model_code_slim_scopes.with_scope_names(self, statement.targets), value, None))
            self.tensors.update(targets)
        else:
            statement = self.tf2_names(model_code_layers.keras_initializers(  # type: ignore[assignment]
                self.facts, copy.deepcopy(statement), self.tf))
            init.append(statement)
            call.append(statement)

    # --- layer calls ------------------------------------------------------------------

    def tensor_expression(self, source: ast.expr, prefix: list, init: list) -> ast.expr:
        """`source` for `call`, its layer calls replaced by the layers `init` builds."""
        node = copy.deepcopy(source)
        originals = {id(copied): original for copied, original in zip(ast.walk(node), ast.walk(source))}
        replaced: dict[int, ast.expr] = {}
        # `tf.layers.Conv2D(8, 3)(x)`: the constructor is read with the layer call, not as an op.
        constructors = {id(n.func) for n in ast.walk(source) if isinstance(n, ast.Call) and
                        isinstance(n.func, ast.Call) and layer_kind(self.facts, n)}
        for copied in _post_order(node):
            original = originals[id(copied)]
            if id(original) in constructors:
                continue
            if isinstance(original, ast.Call) and isinstance(original.func, ast.Name) and \
                    original.func.id in self.helpers:
                replaced[id(copied)] = self._helper_call(original, copied, prefix, init, replaced)
                continue
            if id(original) in self.pair_members:
                continue  # a batch norm of a tf.cond pair: converted with its cond
            pair = self.cond_pairs.get(id(original))
            kind = "batch_norm" if pair is not None else layer_kind(self.facts, original)
            if kind is None:
                if isinstance(copied, ast.Call):
                    model_code_variables.plain_call(self, original, copied)
                    self._plain_call(original)
                continue
            applied_call = copied
            if pair is not None:  # the cond becomes its one layer, called with training=<predicate>
                layer = model_code_shared_bn.pair_layer(self, pair, prefix)
                applied_call = next(c for c in ast.walk(copied) if originals[id(c)] is pair.training_call)
            else:
                layer = self._slim_layer(original, prefix) if kind == "slim" else \
                    self._layer(original, kind, prefix)
            self.kernel_layers.append((model_code_kernels.keras_class(layer.constructor) or "",
                                       model_code_kernels.scope_patterns(layer.key), layer))
            if layer.normalizer is not None:
                init.append(ast.parse(f"self.add_normalized({{key}}, {layer.constructor}, "
                                      f"{layer.normalizer_scope!r}, {layer.normalizer})").body[0])
            else:
                init.append(ast.parse(f"self.add_scoped({{key}}, {layer.constructor})").body[0])
            _fill(init[-1], layer.key)
            replaced[id(copied)] = self._applied(applied_call, layer, replaced)
        return self.tf2_names(_replace(node, replaced))

    def tf2_names(self, node: ast.AST) -> ast.AST:
        """`node` with its `tf.` names spelled as TF2 spells them; refused where TF2 has none."""
        facts, tf = self.facts, self.tf

        is_mode_test = self.is_mode_test
        converter = self

        class Rename(ast.NodeTransformer):
            def visit_Compare(self, compare: ast.Compare) -> ast.AST:
                if is_mode_test(compare):
                    return ast.Name("training")  # the Keras model's flag
                return self.generic_visit(compare)

            def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
                scope_name = model_code_slim_scopes.scope_attribute(converter, attribute)  # `sc.name`
                if scope_name is not None:
                    return scope_name
                name = resolve(attribute, facts.imports) or ""
                if not name.startswith(("tensorflow", "tf_slim")):
                    return self.generic_visit(attribute)
                suffix = name[len("tensorflow."):] if name.startswith("tensorflow.") else None
                if suffix in tfapi.TF2_RENAMED:
                    return ast.parse(f"{tf}.{tfapi.TF2_RENAMED[suffix]}", mode="eval").body
                if suffix in tfapi.TF2_SAME or model_code_variables.is_raw_op(suffix):
                    return ast.parse(f"{tf}.{suffix}", mode="eval").body
                raise NotConvertible(attribute, f"`{ast.unparse(attribute)}` has no checked TF2 equivalent")

        return Rename().visit(node)

    def _helper_call(self, original: ast.Call, copied: ast.Call, prefix: list, init: list,
                     replaced: dict[int, ast.expr]) -> ast.expr:
        """A call of another model function: its layers built by `build_<name>` with the
        configuration arguments, applied by `apply_<name>`, both under the current scope."""
        helper = self.helpers[original.func.id]  # type: ignore[union-attr]
        if helper is self.function:
            raise NotConvertible(original, "a model function that calls itself")
        parameters = [a.arg for a in helper.args.args]
        bound = binding.named_arguments(original, tuple(parameters))
        if bound is None:
            raise NotConvertible(original, "a model function called with *args/**kwargs")
        converter_flag = self._helper_flag(helper)
        bound = model_code_slim_scopes.arg_scope_arguments(self, helper, original, bound, converter_flag)
        model_code_slim_scopes.refuse_arg_scope_around_helper(self, helper, original)
        flags = ({self.flag} if self.flag else set()) | self.flag_aliases
        build_keywords = []
        for parameter, value in bound.items():
            if parameter in (parameters[0], converter_flag):
                continue
            self.configuration_only(value, f"a tensor passed to `{helper.name}` as its `{parameter}`")
            if _mentions(value, flags):
                raise NotConvertible(value, f"the training flag passed to `{helper.name}` as `{parameter}`, "
                                            "which it does not take as a training flag")
            build_keywords.append(ast.keyword(parameter, self.tf2_names(copy.deepcopy(value))))
        scope = scope_concatenation(prefix)
        init.append(ast.Expr(ast.Call(ast.Attribute(ast.Name("self"), f"build_{helper.name}"),
                                      [ast.Name(SCOPE_COUNTS), scope], build_keywords)))
        positions = {name: index for index, name in enumerate(parameters)}
        # Replaced before copying: `replaced` knows the copied call's own nodes (a layer call in an argument).
        applied_keywords = [ast.keyword(parameter, copy.deepcopy(_replace(self._copied_argument(copied, original,
                                                                                                  value), replaced)))
                            for parameter, value in sorted(bound.items(), key=lambda item: positions[item[0]])]
        if helper.name not in self.called:
            self.called.append(helper.name)
        return ast.Call(ast.Attribute(ast.Name("self"), f"apply_{helper.name}"),
                        [ast.Name(SCOPE_COUNTS), copy.deepcopy(scope)], applied_keywords)

    @staticmethod
    def _copied_argument(copied: ast.Call, original: ast.Call, value: ast.expr) -> ast.expr:
        """The copy of an argument `value` of `original` inside its copy `copied`."""
        pairs = list(zip(original.args, copied.args)) + \
            [(o.value, c.value) for o, c in zip(original.keywords, copied.keywords)]
        return next((c for o, c in pairs if o is value), value)  # `value` itself: an arg_scope gave it

    def _plain_call(self, call: ast.Call) -> None:
        """A call in the model's computation that builds no layer: TensorFlow's own ops only."""
        if is_initializer_call(self.facts, call):
            return  # a layer's initializer, converted with its layer (or refused there, or by tf2_names)
        name = resolve(call.func, self.facts.imports) or ""
        if not name.startswith("tensorflow."):
            if isinstance(call.func, ast.Attribute):
                model_code_layers.refuse_other_module_function(self.facts, call)
            if isinstance(call.func, ast.Attribute) or (isinstance(call.func, ast.Name) and
                                                        call.func.id in _BUILTINS):
                return
            if isinstance(call.func, ast.Name) and call.func.id in self.plain_functions:
                return  # tensor code of the module (no layers): kept, and checked as kept code is
            if model_code_activations.is_activation_parameter_call(self, call):
                return  # an activation passed in, which the function's layers take as theirs
            raise NotConvertible(call, f"`{self.facts.segment(call.func)}` builds part of the model where this "
                                       "conversion cannot follow")
        suffix = name[len("tensorflow."):]
        if suffix not in tfapi.TF2_SAME and suffix not in tfapi.TF2_RENAMED and \
                not model_code_variables.is_raw_op(suffix):
            raise NotConvertible(call, f"`{self.facts.segment(call.func)}` has no checked TF2 equivalent")
        if len(call.args) > (model_code_variables.positional_limit(suffix) or
                             tfapi.TF2_SAME_POSITIONAL.get(suffix, len(call.args))):
            raise NotConvertible(call, f"`{self.facts.segment(call.func)}` with arguments by position that TF2 "
                                       "takes in another order")

    def _layer(self, call: ast.Call, kind: str, prefix: list) -> LayerCall:
        if kind == "layer_norm":
            return model_code_layer_norm.layer_call(self, call, prefix)
        if kind == "keras":  # a weightless Keras layer TF1 code built and called: kept as written
            constructor, inputs = model_code_layers.keras_layer_parts(call)
            for value in [*constructor.args, *(k.value for k in constructor.keywords)]:
                self.configuration_only(value, "a Keras layer argument computed from a tensor")
            base = "keras/" + model_code_layers.keras_layer_class(self.facts, call)  # type: ignore[operator]
            return LayerCall(call, self.scope_key(prefix, None, base, call), self.tf2_text(constructor), inputs, None)
        if kind == "layer":
            api = model_code_layers.layer_api(self.facts, call)
            arguments = model_code_layers.layer_arguments(self.facts, call, api)  # type: ignore[arg-type]
            if arguments is None or "inputs" not in arguments:
                raise NotConvertible(call, "arguments given through *args/**kwargs")
            keywords = []
            for argument, value in arguments.items():
                if argument in ("inputs", "name", api.training) or self.dropped_argument(call, argument, value):
                    continue
                self.configuration_only(value, f"a layer argument (`{argument}`) computed from a tensor")
                if argument in api.copied:
                    keywords.append(f"{argument}={self.tf2_text(value)}")
                elif argument in api.initializers and not is_none_literal(value):
                    notes: list[str] = []
                    converted = keras_initializer(self.facts, value, notes, self.local_initializers)
                    if notes:
                        raise NotConvertible(value, f"initializer `{self.facts.segment(value)}` has no checked "
                                                    "Keras equivalent")
                    keywords.append(f"{argument}={converted}")
                elif argument == "reuse" or not is_none_literal(value):
                    raise NotConvertible(value, f"`{argument}` has no Keras equivalent here")
            keywords.extend(f"{argument}={value}" for argument, value in api.defaults if argument not in arguments)
            constructor = f"{self.tf}.keras.layers.{api.keras_class}({', '.join(keywords)})"
            key = self.scope_key(prefix, arguments.get("name"), api.base_name, call)
            self.dropout |= api.training is not None
            training = None if api.training is None else model_code_layers.layer_training(
                arguments.get(api.training), api.default_training,
                ({self.flag} if self.flag else set()) | self.flag_aliases, self.is_mode_test)
            return LayerCall(call, key, constructor, arguments["inputs"], training)
        site = next(s for s in self.facts.batch_norm_sites if s.node is call)
        call, site = model_code_shared_bn.arg_scoped_call(self, call, site)  # an arg_scope's settings merged
        constructor, training, activation, arguments = self.layer_parts(call, site)
        family = site.spec.family  # type: ignore[union-attr]
        name = arguments.get(tfapi.batch_norm_name_keyword(family))
        key = self.scope_key(prefix, name, tfapi.BATCH_NORM_BASE_NAMES[family], call)
        return LayerCall(call, key, constructor, arguments["inputs"], training, activation)

    def dropped_argument(self, call: ast.Call, argument: str, value: ast.expr) -> bool:
        """A layer argument the Keras layer computes the same without (model_code_flags):
        `reuse=tf.AUTO_REUSE`, `trainable=` the training flag (noted once per model)."""
        flags = ({self.flag} if self.flag else set()) | self.flag_aliases
        if not model_code_flags.dropped(self.facts, self.function, argument, value, flags):
            return False
        if model_code_flags.is_flag_as_trainable(argument, value, flags) and not self.python_flag:
            self.python_flag = True
            self.notes.append((call.lineno, tfapi.TRAINABLE_FLAG_NOTE))
        self.note_reuse_parameter(call, value)
        return True

    def note_reuse_parameter(self, call: ast.Call, value: ast.expr) -> None:
        """Once per model: a `reuse` parameter no longer shares anything (model_code_flags)."""
        if model_code_flags.is_reuse_parameter(self.function, "reuse", value) and \
                not any(note == tfapi.REUSE_PARAMETER_NOTE for _, note in self.notes):
            self.notes.append((call.lineno, tfapi.REUSE_PARAMETER_NOTE))

    def layer_parts(self, call: ast.Call, site: BatchNormSite) -> tuple[str, ast.expr, Optional[str], dict]:
        """A batch-norm call's Keras constructor (exact where TF1 fused), training flag (for
        one always in training mode, the model's own: `self.training_step`), activation and
        arguments (the call as the open arg scopes make it: model_code_shared_bn.arg_scoped_call)."""
        family = site.spec.family  # type: ignore[union-attr]
        positions = tfapi.batch_norm_positions(family)
        arguments = binding.named_arguments(call, positions) or {}
        zero_debias = arguments.get(exact_bn.ZERO_DEBIAS)
        if zero_debias is not None and not (isinstance(zero_debias, ast.Constant) and
                                            zero_debias.value in (None, True, False)):
            raise NotConvertible(call, f"a `{exact_bn.ZERO_DEBIAS}` that is not a literal")
        debiased = zero_debias is not None and zero_debias.value is True  # type: ignore[attr-defined]
        if debiased and self.stock_bn:
            raise NotConvertible(call, f"`{exact_bn.ZERO_DEBIAS}`: "
                                       f"{tfapi.MODEL_CODE_STOCK_BN_REFUSED[exact_bn.ZERO_DEBIAS]}")
        converted = batch_norm_to_keras(self.facts, site, handled=frozenset({exact_bn.ZERO_DEBIAS}),
                                        local_initializers=self.local_initializers)
        if converted.manual:
            raise NotConvertible(call, converted.manual)
        if converted.kept_initializers:
            raise NotConvertible(call, "an initializer with no checked Keras equivalent")
        for argument, value in arguments.items():
            if argument not in ("inputs", site.spec.training_kw):  # type: ignore[union-attr]
                self.configuration_only(value, f"a batch-norm argument (`{argument}`) computed from a tensor")
        if "reuse" in arguments and not is_none_literal(arguments["reuse"]) and \
                not model_code_flags.shares_by_scope(self.facts, self.function, arguments["reuse"]):
            model_code_shared_bn.refuse_reuse(self, call)
        if "reuse" in arguments:
            self.note_reuse_parameter(call, arguments["reuse"])
        constructor = converted.constructor.replace("tf.", f"{self.tf}.", 1)
        trainable = arguments.get(tfapi.TRAINABLE_KW)
        flag_as_trainable = trainable is not None and self.dropped_argument(call, tfapi.TRAINABLE_KW, trainable)
        if flag_as_trainable:  # the layer trainable, as TF1's training build made it
            constructor = _without_keyword(constructor, tfapi.TRAINABLE_KW)
        try:
            ranks = exact_bn.fused_ranks(family, arguments)
        except ValueError as error:
            raise NotConvertible(call, str(error)) from None
        always = model_code_always.always_training(call, site, arguments, self.stock_bn)
        if (ranks is not None or debiased or always) and not self.stock_bn:
            self.uses_exact_bn = True
            self.uses_zero_debias |= debiased
            self.uses_always_training |= always
            constructor = exact_bn.constructor(self.exact_name, ranks or (), constructor,
                                               tfapi.KERAS_BATCH_NORM.replace("tf.", f"{self.tf}.", 1), debiased,
                                               always)
        elif ranks is not None:  # the per-layer report of what stock Keras computes otherwise
            self.notes.append((call.lineno, tfapi.KERAS3_FUSED_NOTE))
            if 2 in ranks:
                self.notes.append((call.lineno, tfapi.SLIM_FUSED_2D_NOTE))
        self.notes.extend((call.lineno, note) for note in converted.notes
                          if not (flag_as_trainable and note == tfapi.BN_NOT_TRAINABLE_NOTE))
        renorm = arguments.get("renorm")
        if renorm is not None and not (isinstance(renorm, ast.Constant) and renorm.value in (None, False)):
            self.notes.append((call.lineno, tfapi.KERAS3_RENORM_NOTE))
        flag = arguments.get(site.spec.training_kw)  # type: ignore[union-attr]
        training = flag if flag is not None else ast.Constant(site.spec.default_training)  # type: ignore
        if always:  # the model's `training`, which helpers read from the model
            self.notes.append((call.lineno, tfapi.ALWAYS_TRAINING_NOTE))
            training = model_code_always.step_flag()
        elif model_code_always.never_run(call, site, arguments, self.discarded):
            self.notes.append((call.lineno, tfapi.NEVER_RUN_NOTE))
            training = ast.Constant(False)
        activation = None
        if family == "contrib" and arguments.get("activation_fn") is not None and \
                not is_none_literal(arguments["activation_fn"]):
            activation = self.tf2_text(arguments["activation_fn"])
        return _without_keyword(constructor, "name"), training, activation, arguments

    def _slim_layer(self, call: ast.Call, prefix: list) -> LayerCall:
        """slim's conv2d, fully_connected, pooling and flatten: the Keras layer, slim's
        defaults written out (relu, SAME padding, bias unless normalized), and its
        normalizer_fn's batch norm in the layer's scope."""
        op = tfapi.canonical(resolve(call.func, self.facts.imports) or "")
        api = tfapi.SLIM_LAYERS[op]
        arguments = binding.named_arguments(call, api.positions)
        if arguments is None or "inputs" not in arguments:
            raise NotConvertible(call, "arguments given through *args/**kwargs")
        arguments = model_code_layers.with_arg_scopes(self.arg_scopes, op, arguments,
                                                      ({self.flag} if self.flag else set()) | self.flag_aliases)
        keywords = dict(api.defaults)
        for argument, value in arguments.items():
            if argument in ("inputs", "scope", "outputs_collections", "activation_fn", "normalizer_fn",
                            "normalizer_params", "biases_initializer", api.training) or \
                    self.dropped_argument(call, argument, value):
                continue
            self.configuration_only(value, f"a layer argument (`{argument}`) computed from a tensor")
            if argument in dict(api.complement):  # keep_prob: Keras takes the rate dropped
                keywords[dict(api.complement)[argument]] = model_code_layers.complement(value, self.tf2_text(value))
            elif argument in api.renamed:
                target = api.renamed[argument]
                if target in api.lowercase:
                    keywords[target] = model_code_layers.lowercase(self.facts, self.function, argument, value,
                                                                   self.tf2_text(value))
                else:
                    keywords[target] = self.tf2_text(value)
            elif argument == "data_format":
                if not (isinstance(value, ast.Constant) and value.value in tfapi.SLIM_DATA_FORMATS):
                    raise NotConvertible(value, "a data_format that is not a literal 'NHWC' or 'NCHW'")
                keywords["data_format"] = tfapi.SLIM_DATA_FORMATS[value.value]
            elif argument == "weights_initializer":
                notes: list[str] = []
                converted = keras_initializer(self.facts, value, notes, self.local_initializers)
                if notes:
                    raise NotConvertible(value, f"initializer `{self.facts.segment(value)}` has no checked "
                                                "Keras equivalent")
                keywords[api.initializer_keyword] = converted
            elif not is_none_literal(value):
                raise NotConvertible(value, f"`{argument}` has no Keras equivalent here")
        normalizer = normalizer_training = None
        normalizer_scope = "BatchNorm"
        activation = None
        if api.weighted:
            site = next((s for s in self.facts.batch_norm_sites if s.node is call and s.how == "normalizer_fn"), None)
            given = arguments.get("normalizer_fn")
            if given is not None and not is_none_literal(given) and site is None:
                raise NotConvertible(given, "a normalizer_fn other than slim's or tf.layers' batch norm")
            biases = arguments.get("biases_initializer")
            if site is not None:
                normalizer, normalizer_scope, normalizer_training = self._normalizer(call, site, arguments)
                keywords["use_bias"] = "False"  # slim makes no bias under a normalizer
            elif biases is not None and is_none_literal(biases):
                keywords["use_bias"] = "False"
            elif biases is not None:
                notes = []
                keywords["bias_initializer"] = keras_initializer(self.facts, biases, notes, self.local_initializers)
                if notes:
                    raise NotConvertible(biases, "a biases_initializer with no checked Keras equivalent")
            function = arguments.get("activation_fn")
            if function is None:
                activation = f"{self.tf}.nn.relu"  # slim's default
            elif not is_none_literal(function):
                activation = self.tf2_text(function)
        constructor = f"{self.tf}.keras.layers.{api.keras_class}({', '.join(f'{k}={v}' for k, v in keywords.items())})"
        key = self.scope_key(prefix, arguments.get("scope"), api.base_name, call)
        if api.training is not None:
            self.dropout = True
            normalizer_training = model_code_layers.layer_training(
                arguments.get(api.training), api.default_training,
                ({self.flag} if self.flag else set()) | self.flag_aliases, self.is_mode_test)
        layer = LayerCall(call, key, constructor, arguments["inputs"], normalizer_training, activation)
        layer.normalizer, layer.normalizer_scope = normalizer, normalizer_scope
        return layer

    def _normalizer(self, call: ast.Call, site: "BatchNormSite",
                    arguments: dict) -> tuple[str, str, Optional[ast.expr]]:
        """The batch norm a slim layer's normalizer_fn builds, from its normalizer_params."""
        params_node = arguments.get("normalizer_params")
        params = {} if params_node is None or is_none_literal(params_node) else \
            self.facts.dict_entries(params_node, site.scope)
        if params is None:
            raise NotConvertible(call, "normalizer_params that are not a dict the conversion can read")
        params = {**model_code_slim_scopes.batch_norm_settings(self, arguments["normalizer_fn"]), **params}
        synthetic = ast.Call(arguments["normalizer_fn"], [arguments["inputs"]],
                             [ast.keyword(key, value) for key, value in params.items()])
        ast.copy_location(synthetic, call)  # its notes are at the layer's line
        normalizer_site = dataclasses.replace(site, node=synthetic, how="call")
        constructor, training, activation, _ = self.layer_parts(synthetic, normalizer_site)
        if activation is not None:
            raise NotConvertible(call, "an activation_fn in normalizer_params (slim applies the layer's)")
        scope = params.get("scope")
        if scope is not None and not (isinstance(scope, ast.Constant) and isinstance(scope.value, str)):
            raise NotConvertible(scope, "a normalizer scope that is not a literal string")
        family = site.spec.family  # type: ignore[union-attr]
        return constructor, scope.value if scope is not None else tfapi.BATCH_NORM_BASE_NAMES[family], training

    def scope_key(self, prefix: list, name: Optional[ast.expr], base: str, call: ast.Call) -> ast.expr:
        """The TF1 variable scope of a layer's variables, as an expression."""
        unnamed = ast.Call(ast.Attribute(ast.Name("self"), "unique_scope"),
                           [ast.Name(SCOPE_COUNTS), scope_concatenation(prefix), ast.Constant(base)], [])
        if name is not None and not is_none_literal(name):
            self.configuration_only(name, "a layer named by a tensor")
            return model_code_scopes.optional_name_key(name, scope_concatenation(prefix + [name]), unnamed,
                                                       self.defaults)
        return unnamed

    def _applied(self, copied: ast.Call, layer: LayerCall, replaced: dict[int, ast.expr]) -> ast.expr:
        """`self.scoped(inputs, key[, training=flag])`, with the inputs as converted (the
        layer calls inside them already replaced)."""
        inputs = copied.args[0] if copied.args else next(k.value for k in copied.keywords if k.arg == "inputs")
        inputs = _replace(inputs, replaced)
        keywords = []
        if layer.training is not None:
            keywords.append(ast.keyword("training", copy.deepcopy(layer.training)))
        if layer.normalizer is not None:
            applied: ast.expr = ast.Call(ast.Attribute(ast.Name("self"), "scoped_normalized"),
                                         [inputs, copy.deepcopy(layer.key), ast.Constant(layer.normalizer_scope)],
                                         keywords)
        else:
            applied = ast.Call(ast.Attribute(ast.Name("self"), "scoped"), [inputs, copy.deepcopy(layer.key)],
                               keywords)
        if layer.activation:
            applied = model_code_activations.applied(self, layer.activation, applied)
        return applied

    def tf2_text(self, node: ast.expr) -> str:
        """An argument's text with its `tf.` names as TF2 spells them."""
        text = self.facts.segment(node) or ast.unparse(node)
        for inner in ast.walk(node):
            if isinstance(inner, ast.Attribute):
                name = resolve(inner, self.facts.imports) or ""
                if name.startswith("tensorflow.") and name[len("tensorflow."):] in tfapi.TF2_RENAMED:
                    raise NotConvertible(inner, f"`{self.facts.segment(inner)}` in a layer argument")
        return text


_BUILTINS = frozenset({"range", "len", "int", "float", "str", "min", "max", "list", "tuple", "dict",
                       "enumerate", "zip", "abs", "round", "sum", "sorted", "reversed", "print", "isinstance"})


def _unused_target(target: Optional[ast.expr], function: ast.FunctionDef) -> bool:
    """No `as` target, or a name the function never reads (`with variable_scope(...) as scope:`)."""
    if target is None:
        return True
    return isinstance(target, ast.Name) and not any(
        isinstance(node, ast.Name) and node.id == target.id and not isinstance(node.ctx, ast.Store)
        for node in ast.walk(function))


def _is_print(statement: ast.stmt) -> bool:
    """`print(...)` as a statement: it builds nothing (in Keras it prints when `call` is traced)."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and \
        isinstance(statement.value.func, ast.Name) and statement.value.func.id == "print"


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _post_order(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        yield from _post_order(child)
    if isinstance(node, ast.Call):
        yield node


def _replace(node: ast.expr, replaced: dict[int, ast.expr]) -> ast.expr:
    """`node` with the calls in `replaced` swapped (inner replacements already inside)."""
    if id(node) in replaced:
        return replaced[id(node)]

    class Swap(ast.NodeTransformer):
        def visit(self, inner: ast.AST) -> ast.AST:
            if id(inner) in replaced:
                return replaced[id(inner)]
            return self.generic_visit(inner)

    return Swap().visit(node)


def scope_concatenation(parts: list) -> ast.expr:
    """`"a/" + name + "/"`: the parts of a scope, literals folded."""
    folded: list[ast.expr] = []
    for part in parts:
        if isinstance(part, str):
            part = ast.Constant(part)
        if isinstance(part, ast.Constant) and isinstance(part.value, str) and folded and \
                isinstance(folded[-1], ast.Constant) and isinstance(folded[-1].value, str):
            folded[-1] = ast.Constant(folded[-1].value + part.value)
        else:
            folded.append(copy.deepcopy(part))
    if not folded:
        return ast.Constant("")
    expression = folded[0]
    for part in folded[1:]:
        expression = ast.BinOp(expression, ast.Add(), part)
    return expression


def _fill(statement: ast.stmt, key: ast.expr) -> None:
    """Put `key` where the statement has the placeholder name `key`."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Call):
            for index, argument in enumerate(node.args):
                if isinstance(argument, ast.Set) and len(argument.elts) == 1 and \
                        isinstance(argument.elts[0], ast.Name) and argument.elts[0].id == "key":
                    node.args[index] = copy.deepcopy(key)


def _without_keyword(constructor: str, keyword: str) -> str:
    call = ast.parse(constructor, mode="eval").body
    assert isinstance(call, ast.Call)
    call.keywords = [k for k in call.keywords if k.arg != keyword]
    return ast.unparse(call)


def _indented(statements: list[ast.stmt], levels: int) -> list[str]:
    module = ast.fix_missing_locations(ast.Module(statements, []))
    text = ast.unparse(module) if statements else "pass"
    return ["    " * levels + line if line else line for line in text.splitlines()]


def base_class_source(name: str, tf: str) -> str:
    return _BASE.format(name=name, tf=tf, prefix=SCOPE_ATTRIBUTE_PREFIX)


# --- a module of model code ---------------------------------------------------------------

@dataclass
class ModuleConversion:
    """The edits that turn a module's model functions into Keras models."""

    edits: list[tuple[ast.stmt, Optional[str]]]  # statement -> its new text (None: deleted)
    models: list[ConvertedModel]
    base_name: str
    exact_name: Optional[str]  # the exact batch-norm subclass's name, when a layer needs it
    tf: str
    notes: list[tuple[int, str]] = field(default_factory=list)
    zero_debias: bool = False  # a layer of the subclass debiases its moving mean
    always_training: bool = False  # a layer of the subclass is always in training mode
    # Offered on their own (model_offer): the module-level definitions the models read,
    # copied with them, and the model functions left out, with their reasons.
    carried: list[ast.stmt] = field(default_factory=list)
    refused: list = field(default_factory=list)
    variable_class: Optional[str] = None  # model_code_variables' holder, when a model creates variables
    layer_norm_class: Optional[str] = None  # model_code_layer_norm's class, when a model has a layer_norm

    def exact_class_source(self) -> str:
        assert self.exact_name is not None
        return exact_bn.class_source(self.exact_name, self.tf, self.zero_debias, self.always_training)

    def support_sources(self) -> list[str]:
        """The classes the converted models need, written into the module once."""
        support = [base_class_source(self.base_name, self.tf)]
        if self.exact_name is not None:
            support.insert(0, self.exact_class_source())
        if self.variable_class is not None:
            support.append(model_code_variables.class_source(self.variable_class, self.tf, SCOPE_ATTRIBUTE_PREFIX))
        if self.layer_norm_class is not None:
            support.append(model_code_layer_norm.class_source(self.layer_norm_class, self.tf))
        return support


def convert_module(facts: ModuleFacts, stock_bn: bool = False) -> Optional[ModuleConversion]:
    """Every model function of a module of model code as a Keras model; None when the
    module has none. Raises NotConvertible when something in it cannot be converted, or
    when other code in the module still needs TF1."""
    conversion = _convert_functions(facts, stock_bn)
    if conversion is None:
        return None
    functions = [statement for statement, _ in conversion.edits if isinstance(statement, ast.FunctionDef)]
    converted = {id(node) for function in functions for node in ast.walk(function)}
    names = {function.name for function in functions}
    for node in ast.walk(facts.tree):
        if id(node) not in converted and isinstance(node, ast.Name) and node.id in names:
            raise NotConvertible(node, f"`{node.id}` is used by other code of the module, which stays TF1: "
                                       "convert the model in a module of its own")
    conversion.edits.extend(_imports(facts, converted))
    _check_kept_code(facts, converted)
    return conversion


def _convert_functions(facts: ModuleFacts, stock_bn: bool,
                       functions: Optional[list[ast.FunctionDef]] = None) -> Optional[ModuleConversion]:
    """`functions`: those to convert (all the module's model functions by default; the offer
    passes those it keeps, model_offer, which leaves out one that cannot be converted, a
    function that only creates variables included)."""
    functions = model_functions(facts) if functions is None else functions
    if not functions:
        return None
    tensorflow = [alias for alias, module in facts.imports.names.items() if module in tfapi.TENSORFLOW_MODULES]
    if not tensorflow:
        raise NotConvertible(functions[0], "TensorFlow is not imported as a module (`import tensorflow as tf`)")
    tf = tensorflow[0]
    taken = names_used(facts.tree)
    layer_norm_name = model_code_layer_norm.class_name(facts, taken)
    base_name = fresh_name(SCOPED_BASE, taken)
    exact_name = fresh_name(exact_bn.CLASS_NAME, taken)
    helpers = {function.name: function for function in functions}
    helpers.update(model_code_statements.nested_helpers(facts, functions, helpers))
    called = {call.func.id for function in functions  # type: ignore[attr-defined]
              for call in calls_of(function, helpers)}
    models = []
    for function in functions:
        model_code_decorators.check(facts, function)
        if function.name in called:
            continue  # a helper: methods of the models that call it
        converter = FunctionConverter(facts, function, tf, taken, stock_bn, exact_name, base_name, layer_norm_name,
                                      helpers)
        models.append(converter.convert())
    helper_functions = [function for function in functions if function.name in called]
    notes = [note for model in models for note in model.notes]
    notes.append((models[0].function.lineno, "the model is a Keras model now: build it once "
                                             f"(`{models[0].class_name}(...)`) and call it with `training=`; "
                                             "`migrate-bn ckpt-convert` maps a TF1 checkpoint onto it"))
    edits: list[tuple[ast.stmt, Optional[str]]] = [(model.function, model.text) for model in models]
    edits.extend((function, None) for function in helper_functions)  # now methods of the models
    called_factories = {node.func.id for function in functions for node in ast.walk(function)
                        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    edits.extend((factory, None) for name, factory in model_code_variables.factories(facts).items()
                 if name in called_factories)  # followed at each call
    return ModuleConversion(edits, models, base_name, exact_name if any(m.uses_exact_bn for m in models) else None,
                            tf, notes, any(m.uses_zero_debias for m in models),
                            variable_class=model_code_variables.class_name(facts) if any(m.variables for m in models)
                            else None, always_training=any(m.uses_always_training for m in models),
                            layer_norm_class=layer_norm_name if any(m.uses_layer_norm for m in models) else None)


def function_offer(facts: ModuleFacts, stock_bn: bool = False,
                   bugs: tuple[tuple[int, str], ...] = ()) -> Optional[model_offer.FunctionOffer]:
    """Each model function of the module offered or left out with its reason (model_offer);
    None when the module has none."""
    functions = model_functions(facts)
    if not functions:
        return None
    return model_offer.offer(facts, functions, lambda alive: _convert_functions(facts, stock_bn, alive), bugs)


def offered_module(facts: ModuleFacts, stock_bn: bool = False,
                   bugs: tuple[tuple[int, str], ...] = ()) -> Optional[tuple[str, ModuleConversion]]:
    """The module's model functions as Keras models in a module of their own, for when the
    code around them cannot be converted: None when none can be offered. A function that
    cannot be converted, or reads a module name that cannot come along, is left out with
    the functions calling it (model_offer), and so is one holding one of the `bugs` (line,
    reason); the others are offered, with the module-level definitions they read copied."""
    found = function_offer(facts, stock_bn, bugs)
    conversion = found.conversion if found is not None else None
    if found is None or conversion is None:
        return None
    assert isinstance(conversion, ModuleConversion)
    conversion.carried, conversion.refused = found.carried, found.refused
    support = conversion.support_sources()
    text = '"""Keras 3 models converted from TF1 model code by `migrate-bn upgrade`."""\n' \
        f"import tensorflow as {conversion.tf}\n\n\n" + model_offer.carried_source(facts, found.carried) + \
        "\n\n".join(support + [m.text for m in conversion.models])
    ast.parse(text)  # a bug here must never reach a file
    return text, conversion


def _imports(facts: ModuleFacts, converted: set[int]) -> list[tuple[ast.stmt, Optional[str]]]:
    """TF1's imports as TF2's: compat.v1 as tensorflow, slim's gone (nothing else may need them)."""
    edits: list[tuple[ast.stmt, Optional[str]]] = []
    for statement in facts.tree.body:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        bound = [a.asname or a.name.split(".")[0] for a in statement.names]
        modules = [facts.imports.names.get(name, "") for name in bound]
        if isinstance(statement, ast.Import) and len(statement.names) == 1 and \
                statement.names[0].name == "tensorflow.compat.v1" and statement.names[0].asname:
            edits.append((statement, f"import tensorflow as {statement.names[0].asname}"))
        elif modules and all(m.startswith(("tf_slim", "tensorflow.contrib")) for m in modules):
            used = [n for n in ast.walk(facts.tree) if isinstance(n, ast.Name) and n.id in bound and
                    id(n) not in converted]
            if used:
                raise NotConvertible(used[0], f"`{used[0].id}` (slim) is still used outside the model functions")
            edits.append((statement, None))
        elif any(m.startswith(("tf_slim", "tensorflow.contrib")) for m in modules):
            raise NotConvertible(statement, "an import of slim together with other names")
    return edits


def _check_kept_code(facts: ModuleFacts, converted: set[int]) -> None:
    """Code outside the model functions runs on TF2 as it is: its `tf.` names must mean the same."""
    inner = {id(n.value) for n in ast.walk(facts.tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(facts.tree):
        if id(node) in converted or id(node) in inner or not isinstance(node, ast.Attribute):
            continue
        name = resolve(node, facts.imports) or ""
        if name.startswith("tensorflow.") and name[len("tensorflow."):] not in tfapi.TF2_SAME:
            raise NotConvertible(node, f"`{facts.segment(node)}` outside the model functions has no checked "
                                       "TF2 equivalent")
