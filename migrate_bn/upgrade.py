"""`migrate-bn upgrade`: a TF1 training script rewritten as a native TF2 program.

`upgrade_source` is pure: source text in, the TF2 program, its notes and the checkpoint
name map out. The TF1 graph's layers become Keras layers built once, its placeholders
the arguments of `tf.function` steps (one per distinct `sess.run`), the train op a
`GradientTape` step, and the session block plain Python calling those steps. A module
that still has a batch-norm bug, or anything the recogniser cannot follow, is left
exactly as it was with the reason: converting a bug would hide it, and converting half a
script would leave Keras layers in a session graph (BN008).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from . import exact_bn, facts as facts_module, model_code, model_code_decorators
from .equivalence import generate as equivalence
from .api import check_source
from .rules import Options, select_rules
from .slim_nets.upgrade import nets_upgrade, upgrade_nets
from .script import GraphStatement, Layer, NotConvertible, Run, Script, fresh_name, recognise
from .source import parse, split_lines

# Findings that make a module's TF1 behaviour a bug: upgrading would silently change
# what it computes (or keep the bug), so `fix` comes first. Advice does not block, nor
# does the learning phase (BN007), which the upgrade itself removes.
NOT_BLOCKING = frozenset({"BN005", "BN007", "BN900"})
NAME_MAP_FORMAT = "migrate-bn name map 1"


@dataclass
class Upgrade:
    text: Optional[str] = None  # the TF2 program; None when nothing was converted
    notes: list[tuple[int, str]] = field(default_factory=list)
    skipped: Optional[tuple[int, str]] = None  # (line, why) the module was left as it was
    name_map: Optional[dict] = None
    python3_only: bool = False  # a Python 2 file taken to Python 3, not to TF2
    # When the module is left as it was: its model functions as Keras models in a module
    # of their own (text, name map), offered beside it (model_code.offered_module).
    offer: Optional[tuple[str, dict]] = None
    # Files to put beside the module ({path relative to its directory: bytes}): the Keras
    # version of the tf-slim nets it calls.
    files: dict = field(default_factory=dict)
    # The converted (or offered) models' equivalence cases (equivalence.generate), from
    # which `upgrade_command` writes `<module>_equivalence.py` beside the module.
    equivalence: list = field(default_factory=list)
    equivalence_source: Optional[str] = None  # the TF1 code the check runs (None: the module)
    # When the module is left as it was: its model functions not converted, each with its
    # first reason (model_offer.RefusedFunction), offered or not.
    refused_functions: list = field(default_factory=list)


def upgrade_source(text: str, keras: int = 3, stock_bn: bool = False, path: Optional[str] = None) -> Upgrade:
    """Upgrade one module; raises source.SourceError when it is not Python 3. `stock_bn`
    keeps stock Keras batch norm where TF1 fused (noted per layer) instead of exact_bn's.
    `path`, the module's file, tells a net of the TF models repository from a project copy."""
    facts = facts_module.build(parse(text), text)
    refusal: Optional[NotConvertible] = None
    try:
        script = recognise(facts, keras, stock_bn)
    except NotConvertible as error:
        script, refusal = None, error
    nets = upgrade_nets(facts, text, path)  # calls of tf-slim's nets (migrate_bn/slim_nets)
    if script is None and refusal is None and nets is None:
        return _model_code(facts, text, stock_bn)
    # A bug outranks what the conversion cannot follow: it is the first thing to fix.
    bug = _bug_first(text, facts, stock_bn)
    if bug is not None:
        return bug
    if script is None and refusal is None:
        return nets_upgrade(nets, text)
    try:
        if refusal is not None:
            raise refusal
        assert script is not None
        new_text = _Writer(script, text, keras).write()
    except NotConvertible as error:
        refused = _refused(facts, error, stock_bn)
        refused.notes = nets.notes if nets else []
        return refused
    ast.parse(new_text)  # a bug here must never reach a file
    if "\r\n" in text:
        new_text = new_text.replace("\r\n", "\n").replace("\n", "\r\n")
    return Upgrade(new_text, sorted(set(script.notes)), None, name_map(script))


def _bug_first(text: str, facts: facts_module.ModuleFacts, stock_bn: bool = False) -> Optional[Upgrade]:
    """The module left as it was when a rule finds a batch-norm bug in it: converting the
    bug would hide it, converting its fix would change what the program computes. The
    model functions are still offered on their own when every bug lies outside them (the
    training code's: BN001's update ops never run), since the models compute what TF1's did."""
    blocking = check_source(text, select_rules(ignore=sorted(NOT_BLOCKING)), Options(), module_facts=facts)
    if not blocking:
        return None
    bugs = tuple((finding.span.line, f"{finding.code} must be fixed first (`migrate-bn fix`): {finding.message}")
                 for finding in blocking)
    reason = NotConvertible(None, bugs[0][1])
    reason.line = bugs[0][0]
    return _refused(facts, reason, stock_bn, bugs)


def _refused(facts: facts_module.ModuleFacts, error: NotConvertible, stock_bn: bool,
             bugs: tuple[tuple[int, str], ...] = ()) -> Upgrade:
    """The module left as it was, with the reason; its model functions offered on their own
    (but not one holding one of the `bugs`, nor a function calling it)."""
    offered = model_code.offered_module(facts, stock_bn, bugs)
    offer = (offered[0], model_name_map(offered[1])) if offered is not None else None
    if offered is None:
        found = model_code.function_offer(facts, stock_bn, bugs)
        return Upgrade(skipped=(error.line, error.reason), refused_functions=found.refused if found else [])
    return Upgrade(skipped=(error.line, error.reason), offer=offer, equivalence=equivalence.cases(offered[1]),
                   equivalence_source=equivalence.model_source(facts.text, offered[1]),
                   refused_functions=offered[1].refused)


def _model_code(facts: facts_module.ModuleFacts, text: str, stock_bn: bool) -> Upgrade:
    """A module of model code (no session of its own): its model functions as Keras models."""
    try:
        conversion = model_code.convert_module(facts, stock_bn)
    except NotConvertible as error:
        return _refused(facts, error, stock_bn)
    if conversion is None:
        return Upgrade()
    bug = _bug_first(text, facts, stock_bn)
    if bug is not None:
        return bug
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    pieces, at = [], 0
    for statement, replacement in sorted(conversion.edits, key=lambda edit: edit[0].lineno):
        first = model_code_decorators.first_line(statement)  # a function's decorators go with it
        start, end = starts[first - 1], starts[statement.end_lineno]  # type: ignore[index]
        if statement.lineno in facts.shared_lines or statement.end_lineno in facts.shared_lines:
            return Upgrade(skipped=(statement.lineno, "a statement that shares its line with another"))
        pieces.append(text[at:start])
        if replacement is None:  # a helper, now methods of the models: the blank lines after it go too
            while end < len(text) and text[end] in "\r\n":
                end += 1
        if replacement is not None:
            indent = lines[statement.lineno - 1][:statement.col_offset]
            pieces.append("".join(indent + line if line.strip() else line
                                  for line in replacement.splitlines(keepends=True)))
            if not replacement.endswith("\n"):
                pieces.append("\n")
        at = end
    pieces.append(text[at:])
    new_text = "".join(pieces)
    support = conversion.support_sources()
    try:
        new_text = _with_class(new_text, "\n\n".join(support))
    except NotConvertible as error:
        return Upgrade(skipped=(error.line, error.reason))
    ast.parse(new_text)  # a bug here must never reach a file
    if "\r\n" in text:
        new_text = new_text.replace("\r\n", "\n").replace("\n", "\r\n")
    return Upgrade(new_text, sorted(set(conversion.notes)), None, model_name_map(conversion),
                   equivalence=equivalence.cases(conversion))


def model_name_map(conversion: "model_code.ModuleConversion") -> dict:
    """For ckpt-convert: each Keras model holds its layers under their TF1 scopes."""
    return {"format": NAME_MAP_FORMAT, "layers": [],
            "models": [{"object": "model", "class": model.class_name, "tf1_scope": "",
                        **({"variables": model.variables} if model.variables else {}),
                        **({"transposed": model.transposed} if model.transposed else {})}
                       for model in conversion.models]}


def name_map(script: Script) -> dict:
    """TF1 variable names -> the TF2 program's layers and their weights (for ckpt-convert)."""
    return {
        "format": NAME_MAP_FORMAT,
        "layers": [{"object": layer.variable, "class": layer.keras_class, "tf1_scope": layer.tf1_scope,
                    "weights": layer.weights} for layer in script.layers if layer.weights],
    }


Replacement = Union[str, Callable[[Callable[[ast.AST], str]], str]]


class _Writer:
    def __init__(self, script: Script, text: str, keras: int) -> None:
        self.script = script
        self.text = text
        self.keras = keras
        self.starts = [0]
        for line in split_lines(text):
            self.starts.append(self.starts[-1] + len(line))
        self.lines = split_lines(text)
        self.parents = {id(child): node for node in ast.walk(script.facts.tree)
                        for child in ast.iter_child_nodes(node)}
        self.tf = script.tf
        self.checkpoint = fresh_name("checkpoint", script.taken)
        self.tape = fresh_name("tape", script.taken)
        self.variables = fresh_name("variables", script.taken)
        self.steps: dict[tuple, str] = {}
        self.step_code: list[str] = []

    # --- positions ------------------------------------------------------------------

    def offset(self, line: int, byte_column: int) -> int:
        source_line = self.lines[line - 1]
        return self.starts[line - 1] + len(source_line.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.offset(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def line_span(self, statement: ast.stmt) -> tuple[int, int]:
        """Whole lines, for deleting a statement."""
        if statement.lineno in self.script.facts.shared_lines or statement.end_lineno in self.script.facts.shared_lines:
            raise NotConvertible(statement, "a statement that shares its line with another")
        return self.starts[statement.lineno - 1], self.starts[statement.end_lineno]  # type: ignore[index]

    def indentation(self, statement: ast.stmt) -> str:
        line = self.lines[statement.lineno - 1]
        return line[:len(line) - len(line.lstrip(" \t"))]

    def render(self, start: int, end: int, edits: list[tuple[int, int, Replacement]]) -> str:
        """The text between two offsets with the outermost edits inside it applied; an edit
        given as a function renders its own inner nodes through `render`."""
        inside = sorted((e for e in edits if start <= e[0] and e[1] <= end), key=lambda e: (e[0], -e[1]))
        pieces, at = [], start
        for edit_start, edit_end, replacement in inside:
            if edit_start < at:
                continue  # nested in an edit already applied: that edit rendered it
            pieces.append(self.text[at:edit_start])
            if callable(replacement):
                pieces.append(replacement(lambda node: self.render(*self.span(node), edits)))
            else:
                pieces.append(replacement)
            at = edit_end
        pieces.append(self.text[at:end])
        return "".join(pieces)

    # --- the program ----------------------------------------------------------------------

    def write(self) -> str:
        script = self.script
        edits: list[tuple[int, int, Replacement]] = []
        deletions = [self.deletion(statement) for statement in script.removed]
        for statement, replacement in script.imports:
            if replacement is None:
                deletions.append(self.deletion(statement))
            else:
                edits.append((*self.span(statement), replacement))
        edits.extend(self.merge_blank_lines(deletions))
        for node, replacement in script.renamed_calls:
            edits.append((*self.span(node), replacement))
        session_start, session_end = self.line_span(script.session)
        edits.append((session_start, session_end, self.session_text()))
        if script.graph_block is not None:
            edits.append((*self.line_span(script.graph_block), self.unwrapped(script.graph_block, edits)))
        text = self.render(0, len(self.text), edits)
        return text if script.exact_bn is None else _with_class(text, exact_bn.class_source(script.exact_bn, self.tf))

    def unwrapped(self, block: ast.With, edits: list[tuple[int, int, Replacement]]) -> Replacement:
        """The `with tf.Graph().as_default():` block's converted body, one level out."""
        _refuse_strings_over_lines(block, "the graph's `with` block")
        width = len(self.indentation(block.body[0])) - len(self.indentation(block))
        body_start = self.starts[block.body[0].lineno - 1]
        return lambda render: _dedent(self.render(body_start, self.starts[block.end_lineno], edits),  # type: ignore
                                      width)

    def merge_blank_lines(self, deletions: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Deleted statements separated by blank lines go as one, with the blank lines
        after them when a blank line comes before: no holes where the graph was."""
        merged: list[list] = []
        for start, end, replacement in sorted(deletions):
            if merged and not merged[-1][2] and not replacement and not self.text[merged[-1][1]:start].strip():
                merged[-1][1] = end
            else:
                merged.append([start, end, replacement])
        for deletion in merged:
            start, end, replacement = deletion
            if replacement:
                continue
            before = self.text[:start]
            if start == 0 or before.endswith("\n\n") or before.endswith("\r\n\r\n"):
                while end < len(self.text):
                    line_end = self.text.find("\n", end)
                    line = self.text[end:len(self.text) if line_end < 0 else line_end + 1]
                    if line.strip():
                        break
                    end += len(line)
                deletion[1] = end
        return [tuple(d) for d in merged]  # type: ignore[misc]

    def deletion(self, statement: ast.stmt) -> tuple[int, int, str]:
        parent = self.parents.get(id(statement))
        siblings = [b for b in ("body", "orelse", "finalbody") if statement in getattr(parent, b, ())]
        start, end = self.line_span(statement)
        if siblings and len(getattr(parent, siblings[0])) == 1 and not isinstance(parent, ast.Module):
            return start, end, f"{self.indentation(statement)}pass\n"
        return start, end, ""

    def session_text(self) -> str:
        script = self.script
        session = script.session
        indent = self.indentation(session)
        edits: list[tuple[int, int, Replacement]] = []
        for statement in script.removed_in_session:
            edits.append(self.deletion(statement))
        for run in script.runs:
            edits.append(self.run_edit(run))
        segment = script.facts.segment
        for call, path, step in script.saves:
            where = segment(path) if step is None else f'"{{}}-{{}}".format({segment(path)}, {segment(step)})'
            edits.append((*self.span(call), f"{self.checkpoint}.write({where})"))
        body_start = self.starts[session.body[0].lineno - 1]
        body = self.render(body_start, self.starts[session.end_lineno], edits)  # type: ignore[index]
        _refuse_strings_over_lines(session, "the session block")
        inner = self.indentation(session.body[0])
        return self.chunk(indent) + _dedent(body, len(inner) - len(indent))

    def chunk(self, indent: str) -> str:
        script = self.script
        tf = self.tf
        lines = [f"{indent}{layer.variable} = {layer.constructor}" for layer in script.layers]
        lines.append(f"{indent}{script.optimizer} = {script.optimizer_code}")
        owners = [f"{layer.variable}={layer.variable}" for layer in script.layers if layer.weights]
        lines.append(f"{indent}# `checkpoint.read(path)` restores a TF1 checkpoint that `migrate-bn ckpt-convert` converted.")
        lines.append(_wrapped(f"{indent}{self.checkpoint} = {tf}.train.Checkpoint(", owners, ", ", ")", indent))
        separator = "\n\n" if not indent else "\n"
        return "\n".join(lines) + "\n" + separator + separator.join(self.step_code) + separator

    # --- steps ----------------------------------------------------------------------------

    def step(self, run: Run) -> tuple[str, list[str], list[str]]:
        """The step function computing `run` (written once per distinct run): its name,
        parameters and the names it returns."""
        script = self.script
        parameters = [p.name for p in script.placeholders(run.needed)]
        returned = [name for name in run.fetches if name]
        key = (run.trains, tuple(returned), run.training, tuple(parameters))
        if key not in self.steps:
            base = "train_step" if run.trains else "compute_" + "_".join(returned)
            self.steps[key] = fresh_name(base, script.taken)
            self.step_code.append(self.step_text(self.steps[key], run, parameters, returned))
        return self.steps[key], parameters, returned

    def step_text(self, name: str, run: Run, parameters: list[str], returned: list[str]) -> str:
        script, tf = self.script, self.tf
        indent = self.indentation(script.session)
        statements = script.statements(run.needed)
        body_indent = indent + "    " + ("    " if run.trains else "")
        body = "".join(self.graph_statement(s, body_indent, run.training) for s in statements)
        lines = [f"{indent}@{tf}.function", f"{indent}def {name}({', '.join(parameters)}):"]
        if run.trains:
            loss = script.definitions[script.loss]  # type: ignore[index]
            assert isinstance(loss, GraphStatement)
            rebound = [s for s in statements if s.target == loss.target and s.statement.lineno > loss.statement.lineno]
            if rebound:
                raise NotConvertible(rebound[0].statement, "the loss's name is bound again after the train op")
            owners = list(dict.fromkeys(layer.variable for s in statements for layer in s.layers if layer.weights))
            if not owners:
                raise NotConvertible(loss.statement, "the loss depends on no layer's variables")
            lines.append(f"{indent}    with {tf}.GradientTape() as {self.tape}:")
            lines.append(body.rstrip("\n"))
            lines.append(_wrapped(f"{indent}    {self.variables} = (", [f"{o}.trainable_variables" for o in owners],
                                  " + ", ")", indent + "    "))
            lines.append(f"{indent}    {script.optimizer}.apply_gradients("
                         f"zip({self.tape}.gradient({loss.target}, {self.variables}), {self.variables}))")
        else:
            lines.append(body.rstrip("\n"))
        if returned:
            lines.append(f"{indent}    return {', '.join(returned)}")
        return "\n".join(lines) + "\n"

    def graph_statement(self, statement: GraphStatement, indent: str, training: Optional[bool]) -> str:
        edits: list[tuple[int, int, Replacement]] = []
        for layer in statement.layers:
            edits.append((*self.span(layer.call), self.layer_call(layer, training)))
        for node, replacement in statement.renames:
            edits.append((*self.span(node), replacement))
        start, end = self.span(statement.statement)
        text = self.render(start, end, edits)
        original = statement.statement.col_offset
        lines = text.split("\n")
        rest = [line[original:] if line[:original].strip() == "" else line.lstrip() for line in lines[1:]]
        return "\n".join([indent + lines[0]] + [indent + line if line else line for line in rest]) + "\n"

    @staticmethod
    def layer_call(layer: Layer, training: Optional[bool]) -> Replacement:
        return lambda render: layer.call_text(render(layer.inputs), training)

    def run_edit(self, run: Run) -> tuple[int, int, str]:
        name, parameters, returned = self.step(run)
        segment = self.script.facts.segment
        arguments = ", ".join(f"{p}={segment(run.feeds[p])}" for p in parameters)
        call = f"{name}({arguments})"
        statement = run.statement
        if isinstance(statement, ast.Expr) and statement.value is run.call:
            return (*self.span(run.call), call)
        if isinstance(statement, ast.Assign) and statement.value is run.call and len(statement.targets) == 1 and \
                isinstance(statement.targets[0], (ast.Tuple, ast.List)) and run.shape != "single":
            targets = statement.targets[0].elts
            if len(targets) != len(run.fetches):
                raise NotConvertible(statement, "the run's results are unpacked into a different number of names")
            kept = []
            for target, fetched in zip(targets, run.fetches):
                if fetched:
                    kept.append(segment(target))
                elif not (isinstance(target, ast.Name) and target.id.startswith("_")):
                    raise NotConvertible(target, "the train op's result (None) is bound to a name")
            if not kept:
                return (*self.span(statement), call)
            value = f"{call}.numpy()" if len(kept) == 1 else f"[value.numpy() for value in {call}]"
            return (*self.span(statement), f"{', '.join(kept)} = {value}")
        if run.trains:
            raise NotConvertible(run.call, "the train op's result is used")
        if run.shape == "single":
            return (*self.span(run.call), f"{call}.numpy()")
        values = f"{call}.numpy()" if len(returned) == 1 else None
        if run.shape == "list":
            text = f"[{values}]" if values else f"[value.numpy() for value in {call}]"
        else:
            text = f"({values},)" if values else f"tuple(value.numpy() for value in {call})"
        return (*self.span(run.call), text)


def _with_class(text: str, definition: str) -> str:
    """The upgraded program with a class defined once after its TensorFlow import and the
    imports that directly follow it (found in the program written, whose imports are final)."""
    tree = ast.parse(text)
    body = tree.body
    at = next((i for i, s in enumerate(body) if isinstance(s, ast.Import) and
               any(a.name.split(".")[0] == "tensorflow" for a in s.names)), None)
    if at is None:
        raise NotConvertible(None, "TensorFlow is not imported at the top of the module")
    while at + 1 < len(body) and isinstance(body[at + 1], (ast.Import, ast.ImportFrom)):
        at += 1
    lines = text.splitlines(keepends=True)
    end = body[at].end_lineno  # type: ignore[assignment]
    return "".join(lines[:end]) + "\n\n" + definition + "\n\n" + "".join(lines[end:]).lstrip("\n")


def _wrapped(opening: str, items: list[str], separator: str, closing: str, indent: str,
             width: int = 100) -> str:
    """`opening item, item closing` on one line when it fits, else one item a line (an
    opening `= (` is a bracket only for the wrapped form)."""
    bracket_only = opening.endswith("= (")
    flat = (opening[:-1] if bracket_only else opening) + separator.join(items) + ("" if bracket_only else closing)
    if len(flat) <= width:
        return flat
    if separator.strip() != ",":  # an operator leads each continued line
        return (opening + "\n" + indent + "    " + items[0] +
                "".join(f"\n{indent}    {separator.strip()} {item}" for item in items[1:]) + "\n" + indent + closing)
    return opening + "\n" + "".join(f"{indent}    {item},\n" for item in items) + indent + closing


def _refuse_strings_over_lines(block: ast.stmt, what: str) -> None:
    """A block moved out a level is dedented line by line, which would change a string
    that spans lines."""
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and n.end_lineno != n.lineno  # type: ignore
           for n in ast.walk(block)):
        raise NotConvertible(block, f"a string over several lines in {what}")


def _dedent(text: str, width: int) -> str:
    """Remove `width` columns of indentation from every line that has them."""
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" \t")
        lead = len(line) - len(stripped)
        out.append(line[min(width, lead):] if line.strip() else stripped)
    return "".join(out)
