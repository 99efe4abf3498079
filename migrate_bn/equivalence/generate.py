"""The equivalence check `migrate-bn upgrade` writes beside a converted module:
`<module>_equivalence.py`, holding the TF1 module as it was (the upgrade rewrites it) and
one case per converted model (its function, class, flag, arguments and an input shape)."""

from __future__ import annotations

import ast
import os
from typing import TYPE_CHECKING, Iterator, Optional

from .. import model_code_flags

if TYPE_CHECKING:
    from ..model_code import ModuleConversion

BATCH = 4  # rows per batch: enough for batch statistics (and TF1's n/(n-1))
# SGD's on the mean square of the outputs: small, since the loss is no model's own and a
# larger step can make outputs grow by orders of magnitude in 5 steps, where float rounding
# in another order is no longer within 1e-5 (a DCGAN discriminator of real code at 0.05).
LEARNING_RATE = 0.001
# The first layer the model applies -> an input shape it accepts (a guess the user may edit).
_SHAPES = {"conv1d": [BATCH, 16, 3], "conv2d": [BATCH, 16, 16, 3], "conv3d": [BATCH, 8, 8, 8, 3],
           "conv2d_transpose": [BATCH, 4, 4, 8], "separable_conv2d": [BATCH, 16, 16, 3]}
_CHANNELS_FIRST = {"conv1d": [BATCH, 3, 16], "conv2d": [BATCH, 3, 16, 16], "conv3d": [BATCH, 3, 8, 8, 8],
                   "conv2d_transpose": [BATCH, 8, 4, 4], "separable_conv2d": [BATCH, 3, 16, 16]}
_FLAT = [BATCH, 8]
# A case key: dropout runs at rate 0 on both sides (TF1's and Keras's random masks cannot agree),
# so the training-mode comparison checks everything but the masks; inference never drops.
DROPOUT_RATE_ZERO = "dropout_rate_zero"
DROPOUT_NOTE = ("Dropout runs at rate 0 in both runtimes during the check (their random masks cannot agree): "
                "the training-mode comparison covers everything but dropout's masks, and the inference "
                "comparison is unaffected (dropout is inactive there).")
# A case key: the TF1 model needs its flag as a Python bool (`trainable=` the flag: a tensor
# raises there), so the check builds it twice, sharing its variables: with True for the
# training steps, then with False for inference (tf1_side.py).
PYTHON_FLAG = "python_flag"
# A case key: the flag is a bool placeholder of the module (`train_phase = tf.placeholder(tf.bool)`),
# which the function reads: the check feeds it rather than passing an argument (tf1_side.py).
FLAG_PLACEHOLDER = "flag_placeholder"
_LAYER_WORDS = frozenset(_SHAPES) | {"dense", "fully_connected", "batch_normalization", "batch_norm"}


def _calls_in_order(statements: list) -> Iterator[ast.Call]:
    """The calls of a body in the order they run (arguments before the call)."""
    def inner(node: ast.AST) -> Iterator[ast.Call]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        for child in ast.iter_child_nodes(node):
            yield from inner(child)
        if isinstance(node, ast.Call):
            yield node
    for statement in statements:
        yield from inner(statement)


def _input_shape(function: ast.FunctionDef, functions: dict, seen: frozenset = frozenset()) -> Optional[list]:
    """An input shape for the first layer the function applies (through the helpers it calls)."""
    for call in _calls_in_order(function.body):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else \
            call.func.id if isinstance(call.func, ast.Name) else ""
        if isinstance(call.func, ast.Name) and name in functions and name not in seen:
            shape = _input_shape(functions[name], functions, seen | {function.name})
            if shape is not None:
                return shape
        elif name in _LAYER_WORDS:
            channels_first = any(k.arg == "data_format" and isinstance(k.value, ast.Constant) and
                                 k.value.value in ("channels_first", "NCHW", "NCDHW") for k in call.keywords)
            return list((_CHANNELS_FIRST if channels_first else _SHAPES).get(name, _FLAT))
    return None


def check_path(module_path: str) -> str:
    """Where a module's check goes: `model.py` -> `model_equivalence.py`."""
    stem, _ = os.path.splitext(module_path)
    return f"{stem}_equivalence.py"


def cases(conversion: "ModuleConversion") -> list[dict]:
    """One case per converted model; arguments without a default are None (to fill in)."""
    found = []
    functions = {statement.name: statement for statement, _ in conversion.edits
                 if isinstance(statement, ast.FunctionDef)}
    for model in conversion.models:
        arguments = model.function.args
        names = [a.arg for a in arguments.args]
        defaults = dict(zip(names[len(names) - len(arguments.defaults):], arguments.defaults))
        kwargs = {name: None for name in names[1:] if name != model.flag and name not in defaults}
        shape = _input_shape(model.function, functions) or _FLAT
        found.append({"function": model.function.name, "class": model.class_name,
                      "flag": None if model.mode else model.flag, "mode_flag": model.mode,
                      "kwargs": kwargs, "input_shape": list(shape), "seed": 0, "learning_rate": LEARNING_RATE,
                      **({"variables": model.variables} if model.variables else {}),
                      **({"transposed": model.transposed} if model.transposed else {})})
        if model.dropout:
            found[-1][DROPOUT_RATE_ZERO] = True
        if model.python_flag and model.flag and not model.mode:
            found[-1][PYTHON_FLAG] = True
        if model.module_flag:
            found[-1][FLAG_PLACEHOLDER] = True
    return found


def model_source(text: str, conversion: "ModuleConversion") -> str:
    """The module's model functions with the imports they use, as TF1 code: what the check
    runs of a training script whose models were offered on their own (running the whole
    script would train it), with the module-level definitions carried with them (model_offer)."""
    tree = ast.parse(text)
    functions = [statement for statement, _ in conversion.edits if isinstance(statement, ast.FunctionDef)]
    used = {node.id for function in functions + conversion.carried for node in ast.walk(function)
            if isinstance(node, ast.Name)}
    # `arg_scope = tf.contrib.framework.arg_scope`: a module-level alias of an imported name
    # the TF1 functions call (the Keras models need none: their arguments are resolved).
    aliases = [statement for statement in tree.body if _import_alias(statement) in used]
    used |= {_dotted_root(statement.value) for statement in aliases}  # type: ignore[attr-defined]
    # The module-level placeholder a model reads as its flag (the check feeds it).
    aliases += [statement for statement in (model_code_flags.module_flag_statement(tree, model.flag)
                                            for model in conversion.models if model.module_flag and model.flag)
                if statement is not None and statement not in aliases]
    used |= {node.id for statement in aliases for node in ast.walk(statement) if isinstance(node, ast.Name)}
    kept = [statement for statement in tree.body if isinstance(statement, (ast.Import, ast.ImportFrom)) and
            statement.col_offset == 0 and
            any((alias.asname or alias.name.split(".")[0]) in used for alias in statement.names)]
    kept = [statement for statement in kept if not (isinstance(statement, ast.ImportFrom) and
                                                    statement.module == "__future__")]
    segments = [ast.get_source_segment(text, statement) or "" for statement in kept + aliases]
    wanted = {function.name for function in functions}
    carried = {statement.lineno for statement in conversion.carried}  # constants and plain helpers they read
    segments += [ast.get_source_segment(text, statement) or "" for statement in tree.body
                 if (isinstance(statement, ast.FunctionDef) and statement.name in wanted) or
                 statement.lineno in carried]
    return "\n\n".join(segments) + "\n"


def _dotted_root(node: ast.expr) -> Optional[str]:
    """`tf` of `tf.contrib.framework.arg_scope`; None for anything but a dotted name."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _import_alias(statement: ast.stmt) -> Optional[str]:
    """The name a module-level `name = module.attribute...` binds, else None."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
            isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Attribute) and \
            _dotted_root(statement.value) is not None:
        return statement.targets[0].id
    return None


def check_source(module_name: str, converted_name: str, tf1_source: str, found: list[dict]) -> str:
    """The text of `<module>_equivalence.py`."""
    lines = [
        f'"""Does {converted_name} compute what {module_name} computed in TF1? (written by `migrate-bn upgrade`)',
        "",
        "Runs each TF1 model function (TF1_SOURCE: the module as it was) under tensorflow-cpu 2.12.1 in graph",
        "mode with a tensor training flag, saves its checkpoint, converts it with `migrate-bn ckpt-convert`'s",
        "code into the Keras 3 model, runs that under the newest TensorFlow, and compares the inference",
        "outputs, the training-mode outputs of 5 SGD steps, and every weight, moving mean and moving",
        "variance after them (1e-5 relative). Check the input shapes (a guess from the first layer) and fill",
        "in the arguments marked None in CASES, then:",
        *([f"({DROPOUT_NOTE})"] if any(case.get(DROPOUT_RATE_ZERO) for case in found) else []),
        "",
        f"    python {os.path.basename(check_path(module_name))} --tf1-python PYTHON_WITH_TF_2_12 "
        "--tf2-python PYTHON_WITH_NEWEST_TF",
        '"""',
        "import sys",
        "",
        "from migrate_bn.equivalence.check import main",
        "",
        f"CONVERTED = {converted_name!r}",
        "CASES = [",
        *[f"    {case!r}," for case in found],
        "]",
        f"TF1_SOURCE = {tf1_source!r}",
        "",
        'if __name__ == "__main__":',
        "    sys.exit(main(__file__, CONVERTED, TF1_SOURCE, CASES, sys.argv[1:]))",
    ]
    text = "\n".join(lines) + "\n"
    ast.parse(text)  # a bug here must never reach a file
    return text
